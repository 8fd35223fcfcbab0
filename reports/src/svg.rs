//! The charts, as inline SVG: no script, no network, no font files, so the page draws the same
//! in any browser and in a CI artifact viewer. Every label goes through [`crate::escape::html`].

use crate::escape::html as esc;
use crate::model::{ClassCount, DiscoveryPoint, ThroughputPoint};
use crate::time;
use std::fmt::Write as _;

const W: f64 = 384.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

fn open(title: &str, out: &mut String) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
}

fn empty(title: &str, what: &str) -> String {
    let mut out = String::new();
    open(title, &mut out);
    let _ = write!(
        out,
        r#"<rect x="0.5" y="0.5" width="{}" height="{}" class="frame"/><text x="{}" y="{}" class="none" text-anchor="middle">{}</text></svg>"#,
        W - 1.0,
        H - 1.0,
        W / 2.0,
        H / 2.0,
        esc(what)
    );
    out
}

/// A round upper bound for an axis of four ticks: four times 1, 2, 2.5 or 5 times a power of
/// ten, so every tick label is a round number.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 4.0;
    }
    let step = (v / 4.0).max(1.0);
    let p = 10f64.powf(step.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step <= m * p {
            return 4.0 * m * p;
        }
    }
    40.0 * p
}

/// Numbers for axis labels: 1234567 -> 1.2M.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn y_axis(max: f64, out: &mut String) {
    let plot_h = H - TOP - BOTTOM;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            y + 3.5,
            esc(&compact(v))
        );
    }
}

/// Distinct signatures over time: a step line through each signature's first sighting.
pub fn discovery(points: &[DiscoveryPoint], now: i64) -> String {
    let title = "Distinct signatures over time";
    if points.is_empty() {
        return empty(title, "no signatures yet");
    }
    let t0 = points[0].at;
    let last = points.last().map_or(t0, |p| p.at);
    // The line runs on to the report's time, unless the database is old (then it would squash
    // the curve into a corner).
    let t1 = if now > last && now - last <= 30 * 86_400 {
        now
    } else {
        last
    };
    let span = (t1 - t0).max(1) as f64;
    let max = nice_max(points.len() as f64);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |t: i64| LEFT + plot_w * (t - t0) as f64 / span;
    let y = |n: usize| TOP + plot_h - plot_h * n as f64 / max;
    let mut out = String::new();
    open(title, &mut out);
    y_axis(max, &mut out);
    let mut path = format!("M{:.1},{:.1}", x(t0), y(0));
    for p in points {
        let _ = write!(path, " H{:.1} V{:.1}", x(p.at), y(p.signatures));
    }
    let _ = write!(path, " H{:.1}", x(t1));
    let _ = write!(out, r#"<path d="{path}" class="line"/>"#);
    for (t, anchor) in [(t0, "start"), (t1, "end")] {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="{anchor}" class="tick">{}</text>"#,
            x(t),
            H - BOTTOM + 14.0,
            esc(&time::short(t))
        );
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle" class="axis">first seen (UTC) — {} signatures</text></svg>"#,
        LEFT + plot_w / 2.0,
        H - 4.0,
        points.len()
    );
    out
}

/// Cases per second of each campaign and cargo-fuzz run (the latest 40).
pub fn throughput(points: &[ThroughputPoint]) -> String {
    let title = "Cases per second, per run";
    if points.is_empty() {
        return empty(title, "no campaign runs yet");
    }
    let shown = &points[points.len().saturating_sub(40)..];
    let max = nice_max(shown.iter().map(|p| p.cases_per_sec).fold(0.0, f64::max));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / shown.len() as f64;
    let bar = (slot * 0.7).clamp(1.0, 36.0);
    let mut out = String::new();
    open(title, &mut out);
    y_axis(max, &mut out);
    let label_every = shown.len().div_ceil(10);
    for (i, p) in shown.iter().enumerate() {
        let h = plot_h * p.cases_per_sec / max;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let class = if p.kind == "campaign" {
            "bar"
        } else {
            "bar alt"
        };
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}" class="{class}"><title>run {} ({}): {:.0} cases/s</title></rect>"#,
            TOP + plot_h - h,
            p.run_id,
            esc(&p.kind),
            p.cases_per_sec
        );
        if i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">#{}</text>"#,
                x + bar / 2.0,
                H - BOTTOM + 14.0,
                p.run_id
            );
        }
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle" class="axis">run (dark: campaign, light: cargo-fuzz)</text></svg>"#,
        LEFT + plot_w / 2.0,
        H - 4.0
    );
    out
}

/// Signatures per divergence class, unexpected and expected stacked.
pub fn classes(counts: &[ClassCount]) -> String {
    let title = "Signatures by divergence class";
    let total: usize = counts.iter().map(|c| c.unexpected + c.expected).sum();
    if total == 0 {
        return empty(title, "no divergences yet");
    }
    let label_w = 96.0;
    let row = ((H - TOP - 22.0) / counts.len() as f64).min(18.0);
    let max = nice_max(
        counts
            .iter()
            .map(|c| (c.unexpected + c.expected) as f64)
            .fold(0.0, f64::max),
    );
    let plot_w = W - label_w - RIGHT - 30.0;
    let mut out = String::new();
    open(title, &mut out);
    for (i, c) in counts.iter().enumerate() {
        let y = TOP + row * i as f64;
        let wu = plot_w * c.unexpected as f64 / max;
        let we = plot_w * c.expected as f64 / max;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text><rect x="{label_w}" y="{:.1}" width="{wu:.1}" height="{:.1}" class="bar bad"><title>{}: {} unexpected</title></rect><rect x="{:.1}" y="{:.1}" width="{we:.1}" height="{:.1}" class="bar ok"><title>{}: {} expected</title></rect><text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
            label_w - 4.0,
            y + row * 0.7,
            esc(&c.class),
            y + 2.0,
            row - 4.0,
            esc(&c.class),
            c.unexpected,
            label_w + wu,
            y + 2.0,
            row - 4.0,
            esc(&c.class),
            c.expected,
            label_w + wu + we + 4.0,
            y + row * 0.7,
            c.unexpected + c.expected
        );
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle" class="axis">signatures (red: unexpected, grey: expected)</text></svg>"#,
        label_w + plot_w / 2.0,
        H - 4.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0.0), 4.0);
        assert_eq!(nice_max(3.0), 4.0);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(187.0), 200.0);
        assert_eq!(nice_max(2693.0), 4000.0);
        assert_eq!(nice_max(31_000.0), 40_000.0);
        assert_eq!(compact(31_000.0), "31k");
        assert_eq!(compact(2.5), "2.5");
    }

    #[test]
    fn class_labels_are_escaped() {
        let svg = classes(&[ClassCount {
            class: "<x>".into(),
            unexpected: 1,
            expected: 0,
            hits: 1,
        }]);
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"), "{svg}");
    }
}
