//! `index.html`: one self-contained page (inline CSS and SVG, no script, no network) that a
//! person opens from a CI artifact in any browser. Every text from the store is escaped.

use crate::escape::html as esc;
use crate::model::{BucketClass, Report, SignatureReport, Status, WindowBasis};
use crate::{svg, time};
use std::fmt::Write as _;

const CSS: &str = r#"
:root { --bad:#c62828; --bad-bg:#fdecea; --ok:#2e7d32; --ok-bg:#e8f5e9; --warn:#b26a00;
  --warn-bg:#fff4e0; --muted:#5f6368; --line:#dadce0; --accent:#1a56a8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #202124; background: #f6f7f9; }
header { background: #1f2937; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #cbd5e1; }
main { padding: 8px 28px 40px; max-width: 1240px; }
h2 { margin: 28px 0 10px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 15px; }
a { color: var(--accent); }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
  overflow-x: auto; margin: 4px 0 10px; white-space: pre; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0 4px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px;
  min-width: 100px; }
.card b { display: block; font-size: 24px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 12px; }
.card.bad b { color: var(--bad); } .card.ok b { color: var(--ok); } .card.warn b { color: var(--warn); }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.chart .grid { stroke: #eceff1; } .chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .tick { font-size: 10px; fill: var(--muted); } .chart .axis { font-size: 10.5px; fill: #3c4043; }
.chart .none { font-size: 13px; fill: var(--muted); } .chart .frame { fill: none; stroke: none; }
.chart .bar { fill: #455a64; } .chart .bar.alt { fill: #90a4ae; }
.chart .bar.bad { fill: var(--bad); } .chart .bar.ok { fill: #9e9e9e; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); width: 100%;
  margin: 4px 0 8px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff1; vertical-align: top; }
th { background: #f1f3f4; font-weight: 600; font-size: 12.5px; }
td.nw { white-space: nowrap; }
td a code { overflow-wrap: anywhere; }
td.why { font-size: 12.5px; color: #3c4043; width: 42%; }
nav { margin: 12px 0 0; font-size: 13px; } nav a { margin-right: 14px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11.5px;
  font-weight: 600; white-space: nowrap; }
.badge.regressed { background: var(--bad); color: #fff; }
.badge.new { background: var(--bad-bg); color: var(--bad); }
.badge.reproducing { background: var(--warn-bg); color: var(--warn); }
.badge.fixed { background: var(--ok-bg); color: var(--ok); }
.badge.expected { background: #eceff1; color: #37474f; }
.muted { color: var(--muted); }
.note { background: var(--warn-bg); border-left: 4px solid var(--warn); padding: 8px 12px;
  margin: 8px 0; }
.note.ok { background: var(--ok-bg); border-color: var(--ok); }
.cov { display: flex; flex-wrap: wrap; gap: 16px; } .cov > div { flex: 1 1 520px; }
.meter { display: inline-block; height: 9px; background: var(--accent); border-radius: 2px;
  vertical-align: middle; }
tr.zero td { color: var(--bad); } tr.na td { color: #9aa0a6; }
.sig { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 14px 8px;
  margin: 14px 0; }
.sig h3 code { font-size: 14px; }
.diff .del { color: var(--bad); background: var(--bad-bg); display: block; }
.diff .ins { color: var(--ok); background: var(--ok-bg); display: block; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
dt { color: var(--muted); } dd { margin: 0; }
.verdict { font-size: 16px; font-weight: 600; padding: 10px 14px; border-radius: 6px; margin: 14px 0 4px; }
.verdict.ok { background: var(--ok-bg); color: var(--ok); } .verdict.bad { background: var(--bad-bg); color: var(--bad); }
.bucket { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 6px 0; }
.bucket summary { cursor: pointer; } .bucket .what { font-size: 13px; }
.bucket .why { font-size: 12.5px; color: #3c4043; margin: 4px 0; }
.variants { margin: 4px 0 6px; padding-left: 18px; } .variants code { overflow-wrap: anywhere; }
.badge.unlisted { background: var(--bad); color: #fff; }
@media (max-width: 600px) {
  header { padding: 12px 14px; } main { padding: 4px 10px 24px; }
  .card { min-width: 72px; padding: 6px 8px; } .card b { font-size: 18px; }
  table { display: block; overflow-x: auto; } pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .chart { max-width: 100%; height: auto; } .chart svg { max-width: 100%; height: auto; }
  dl { grid-template-columns: 1fr; } code { overflow-wrap: anywhere; }
}
"#;

fn badge(s: &SignatureReport) -> String {
    format!(
        r#"<span class="badge {c}">{t}</span>"#,
        c = s.status.as_str(),
        t = esc(s.status.title())
    )
}

fn replay_text(s: &SignatureReport) -> String {
    match &s.latest_replay {
        None => r#"<span class="muted">not replayed</span>"#.to_string(),
        Some(r) => {
            let mut t = format!(
                "{} <span class=\"muted\">(run {})</span>",
                esc(&r.outcome),
                r.run_id.map_or("?".to_string(), |i| i.to_string())
            );
            if r.outcome == "changed" {
                if let Some(now) = &r.signature_now {
                    let _ = write!(t, " → <code>{}</code>", esc(now));
                }
            }
            t
        }
    }
}

/// Renders the page.
pub fn render(r: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>cgdiff report — {db}</title><style>{CSS}</style></head><body>\n",
        db = esc(&r.db)
    );
    let window = match r.window.basis {
        WindowBasis::SinceRun => {
            format!("runs after run {}", r.window.after_run.unwrap_or_default())
        }
        WindowBasis::PreviousReplay => format!(
            "runs after replay run {} (the previous report's replay)",
            r.window.after_run.unwrap_or_default()
        ),
        WindowBasis::Everything => "everything (no previous replay run)".to_string(),
    };
    // The designs the runs covered, in history order (the default pair when none recorded).
    let designs: Vec<&str> = r.coverage.models.iter().map(|m| m.model.as_str()).collect();
    let designs = if designs.is_empty() {
        "legacy vs four-stage".to_string()
    } else {
        designs.join(" vs ")
    };
    let _ = write!(
        o,
        "<header><h1>cgdiff report: {} cgroup migration</h1>\
         <p>Database <code>{}</code> · generated {} by cgdiff {} · window: {} ({} of {} runs)</p></header>\n<main>\n",
        esc(&designs),
        esc(&r.db),
        esc(&time::datetime(r.generated_at)),
        esc(&r.tool_version),
        esc(&window),
        r.totals.runs_in_window,
        r.totals.runs
    );

    // The verdict first, then the buckets: the unit of the report.
    let t = &r.totals;
    let bt = &t.buckets;
    let _ = write!(
        o,
        r##"<p class="verdict {}">{}</p><nav><a href="#buckets">Buckets ({})</a><a href="#charts">Charts</a><a href="#coverage">Coverage</a><a href="#runs">Runs</a><a href="#details">Best cases</a></nav>"##,
        if bt.unlisted + bt.regressed > 0 {
            "bad"
        } else {
            "ok"
        },
        esc(&r.verdict),
        bt.total
    );
    let card = |o: &mut String, class: &str, n: String, label: &str| {
        let _ = write!(
            o,
            r#"<div class="card {class}"><b>{}</b><span>{}</span></div>"#,
            esc(&n),
            esc(label)
        );
    };
    o.push_str(r#"<div class="cards">"#);
    card(
        &mut o,
        if bt.unlisted > 0 { "bad" } else { "ok" },
        bt.unlisted.to_string(),
        "unlisted",
    );
    card(
        &mut o,
        if bt.regressed > 0 { "bad" } else { "ok" },
        bt.regressed.to_string(),
        "regressed",
    );
    card(&mut o, "", bt.findings.to_string(), "finding buckets");
    card(&mut o, "", bt.expected.to_string(), "expected rules");
    card(&mut o, "", bt.new.to_string(), "new buckets");
    card(&mut o, "", t.signatures.to_string(), "variants");
    card(
        &mut o,
        "",
        svg::compact(t.cases_executed as f64),
        "cases executed",
    );
    o.push_str("</div>\n");

    o.push_str("<h2 id=\"buckets\">Buckets</h2><p class=\"muted\">One row per root cause: an expected rule, a finding of <code>docs/findings.md</code> (recognised from the traces), several joined by +, or unlisted. Its signatures (variants) are folded beneath it.</p>");
    if r.buckets.is_empty() {
        o.push_str("<p class=\"muted\">The database holds no divergence.</p>");
    }
    for b in &r.buckets {
        let title = if b.causes.is_empty() {
            "no rule and no finding of docs/findings.md explains it".to_string()
        } else {
            b.causes
                .iter()
                .map(|c| format!("{}: {}", c.id, c.title))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let class = if b.failing {
            "regressed"
        } else if b.kind == BucketClass::Expected {
            "expected"
        } else {
            b.status.as_str()
        };
        let _ = write!(
            o,
            r##"<details class="bucket" id="{}"{}><summary><span class="badge {class}">{}</span> <b>{}</b> <span class="muted">{} occurrences · {} variant(s) · first {} · last {}</span><br><span class="what">{}</span></summary>"##,
            esc(&b.anchor),
            if b.failing { " open" } else { "" },
            esc(if b.failing && b.status != Status::Regressed {
                "unlisted"
            } else if b.kind == BucketClass::Expected && b.status == Status::Reproducing {
                "expected"
            } else {
                b.status.as_str()
            }),
            esc(if b.bucket.is_empty() {
                "(before triage)"
            } else {
                &b.bucket
            }),
            b.occurrences,
            b.variants.len(),
            esc(&seen(b.first_seen, b.first_run)),
            esc(&seen(b.last_seen, b.last_run)),
            esc(&title),
        );
        for c in &b.causes {
            let _ = write!(
                o,
                "<p class=\"why\"><b>{}</b> — {}</p>",
                esc(&c.id),
                esc(&c.reason)
            );
        }
        let _ = write!(
            o,
            r##"<p><a href="#{}">best case and explanation</a></p><ul class="variants">"##,
            esc(&b.best)
        );
        for v in &b.variants {
            let _ = write!(
                o,
                r#"<li><code>{}</code> <span class="muted">{} · case {} · {}</span></li>"#,
                esc(&v.signature),
                v.occurrences,
                v.best_case,
                esc(v.status.as_str())
            );
        }
        o.push_str("</ul></details>");
    }

    // Charts.
    o.push_str("<h2 id=\"charts\">Charts</h2><div class=\"charts\">");
    o.push_str(&svg::discovery(&r.charts.discovery, r.generated_at));
    o.push_str(&svg::throughput(&r.charts.throughput));
    o.push_str(&svg::classes(&r.charts.classes));
    o.push_str("</div>\n");

    // Coverage.
    let _ = write!(
        o,
        "<h2 id=\"coverage\">Model coverage</h2><p class=\"muted\">How often each kernel-named step of each model was reached, summed over {} run(s) that recorded coverage. Grey rows are the other design's own steps.</p>",
        r.coverage.runs_counted
    );
    if r.coverage.runs_counted == 0 {
        o.push_str("<p class=\"note\">No run recorded coverage yet (campaigns and cargo-fuzz runs do).</p>");
    } else {
        for m in &r.coverage.models {
            if m.never_reached.is_empty() {
                let _ = write!(
                    o,
                    "<p class=\"note ok\"><b>{}</b>: every one of its {} steps was reached.</p>",
                    esc(&m.model),
                    m.applicable
                );
            } else {
                let _ = write!(
                    o,
                    "<p class=\"note\"><b>{}</b>: {} of {} steps never reached: {}</p>",
                    esc(&m.model),
                    m.never_reached.len(),
                    m.applicable,
                    m.never_reached
                        .iter()
                        .map(|n| format!("<code>{}</code>", esc(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    o.push_str("<div class=\"cov\">");
    for m in &r.coverage.models {
        let max = m.points.iter().map(|p| p.count).max().unwrap_or(0).max(1);
        let _ = write!(
            o,
            "<div><h3>{} <span class=\"muted\">({} of {} reached)</span></h3><table><tr><th>step</th><th class=\"num\">count</th><th></th></tr>",
            esc(&m.model),
            m.reached,
            m.applicable
        );
        for p in &m.points {
            let class = if !p.applies {
                "na"
            } else if p.count == 0 {
                "zero"
            } else {
                ""
            };
            // Log scale: the common steps run billions of times, the rare ones a handful.
            let width = if p.count == 0 {
                0.0
            } else {
                4.0 + 116.0 * ((p.count as f64).ln_1p() / (max as f64).ln_1p())
            };
            let _ = write!(
                o,
                r#"<tr class="{class}"><td><code>{}</code></td><td class="num">{}</td><td><span class="meter" style="width:{width:.0}px"></span></td></tr>"#,
                esc(&p.name),
                if p.applies {
                    p.count.to_string()
                } else {
                    "n/a".to_string()
                },
            );
        }
        o.push_str("</table></div>");
    }
    o.push_str("</div>\n");

    // Runs.
    let _ = write!(
        o,
        "<h2 id=\"runs\">Runs ({}; {} in the window)</h2>",
        r.runs.len(),
        r.totals.runs_in_window
    );
    if r.runs.is_empty() {
        o.push_str("<p class=\"muted\">none</p>");
    } else {
        o.push_str("<table><tr><th class=\"num\">run</th><th>kind</th><th>started</th><th class=\"num\">seconds</th><th class=\"num\">cases</th><th class=\"num\">cases/s</th><th class=\"num\">divergences</th><th class=\"num\">new sigs</th><th class=\"num\">jobs</th><th>shard / origin</th></tr>");
        let shown = &r.runs[r.runs.len().saturating_sub(60)..];
        if shown.len() < r.runs.len() {
            let _ = write!(
                o,
                "<tr><td colspan=\"10\" class=\"muted\">{} older runs in report.json</td></tr>",
                r.runs.len() - shown.len()
            );
        }
        for run in shown.iter().rev() {
            let _ = write!(
                o,
                r#"<tr><td class="num">{}{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}{}</td></tr>"#,
                run.id,
                if run.in_window { " ●" } else { "" },
                esc(&run.kind),
                esc(&time::datetime(run.started_at)),
                run.ended_at
                    .map_or("unfinished".to_string(), |e| (e - run.started_at)
                        .to_string()),
                run.cases_executed,
                run.cases_per_sec
                    .map_or("".to_string(), |c| format!("{c:.0}")),
                run.divergences,
                run.new_signatures,
                run.jobs.map_or(String::new(), |j| j.to_string()),
                esc(run.shard.as_deref().unwrap_or("")),
                run.merged_from.as_ref().map_or(String::new(), |m| format!(
                    " merged from <code>{}</code>",
                    esc(m)
                )),
            );
        }
        o.push_str("</table><p class=\"muted\">● in the window (since the previous report).</p>");
    }

    // Details.
    // Each bucket's best case, explained: the other variants are in report.json and one
    // `cgdiff explain ID` away.
    o.push_str("<h2 id=\"details\">Best case of each bucket</h2>");
    for b in &r.buckets {
        if let Some(s) = r.signatures.iter().find(|s| s.anchor == b.best) {
            detail(&mut o, s);
        }
    }
    o.push_str("</main></body></html>\n");
    o
}

/// `12-01 22:40 (run 3)`.
fn seen(at: i64, run: Option<i64>) -> String {
    match run {
        Some(r) => format!("{} (run {r})", time::short(at)),
        None => time::short(at),
    }
}

fn detail(o: &mut String, s: &SignatureReport) {
    let n = esc(s.anchor.trim_start_matches("sig-"));
    let _ = write!(
        o,
        r#"<section class="sig" id="{}"><h3>{} {} <code>{}</code></h3><dl>"#,
        esc(&s.anchor),
        badge(s),
        if s.expected {
            r#"<span class="badge expected">expected</span>"#
        } else {
            ""
        },
        esc(&s.signature)
    );
    let row = |o: &mut String, k: &str, v: String| {
        let _ = write!(o, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    };
    row(o, "classes", esc(&s.classes.join(", ")));
    match &s.rule {
        Some(rule) => row(
            o,
            "rule",
            format!(
                "<code>{}</code> — {}",
                esc(&rule.name),
                rule.reason
                    .as_deref()
                    .map_or("(no rule of that name in this build)".to_string(), esc)
            ),
        ),
        None => row(o, "rule", "none: unexpected".to_string()),
    }
    if !s.expected {
        row(
            o,
            "docs/findings.md",
            match &s.listed {
                Some(l) => format!(
                    "{} <span class=\"muted\">(pattern <code>{}</code>)</span>",
                    esc(&l.finding),
                    esc(&l.pattern)
                ),
                None => "<b>not listed</b>: a finding nobody has written up yet".to_string(),
            },
        );
    }
    row(
        o,
        "seen",
        format!(
            "{} hits over {} case(s), first {}, last {}",
            s.hit_count,
            s.cases,
            esc(&time::datetime(s.first_seen)),
            esc(&time::datetime(s.last_seen))
        ),
    );
    row(o, "latest replay", replay_text(s));
    o.push_str("</dl>");
    let _ = write!(
        o,
        r#"<h4 id="case-{n}">Minimal case {} <span class="muted">({} ops, found by {}{})</span></h4><pre>{}</pre>"#,
        s.best_case.id,
        s.best_case.ops,
        esc(&s.best_case.found_by),
        s.best_case
            .minimised_from
            .map_or(String::new(), |f| format!(", minimised from case {f}")),
        esc(&s.best_case.text)
    );
    let e = &s.explanation;
    let _ = write!(
        o,
        r#"<h4 id="explain-{n}">Explanation (this build's models)</h4>"#
    );
    match e.verdict.as_str() {
        "diverges" => {
            o.push_str("<dl>");
            row(
                o,
                "split",
                format!(
                    "after operation {}: <code>{}</code>",
                    e.op_index.unwrap_or_default(),
                    esc(e.operation.as_deref().unwrap_or("?"))
                ),
            );
            if let Some([l, f]) = &e.outcomes {
                row(
                    o,
                    "returned",
                    {
                        let [a, b] = e.design_names();
                        format!(
                            "{} <code>{}</code>, {} <code>{}</code>",
                            esc(a),
                            esc(l),
                            esc(b),
                            esc(f)
                        )
                    },
                );
            }
            row(
                o,
                "signature now",
                format!(
                    "<code>{}</code>{}",
                    esc(e.signature_now.as_deref().unwrap_or("")),
                    if e.signature_now.as_deref() == Some(s.signature.as_str()) {
                        " (as stored)"
                    } else {
                        " (changed since it was stored)"
                    }
                ),
            );
            row(o, "blame", esc(e.blame.as_deref().unwrap_or("")));
            row(
                o,
                "rule now",
                e.rule_now
                    .as_deref()
                    .map_or("none (unexpected)".to_string(), |r| format!("<code>{}</code>", esc(r))),
            );
            o.push_str("</dl>");
            if let Some(diff) = &e.diff {
                let [a, b] = e.design_names();
                o.push_str(&format!("<p class=\"muted\">Observations after the split (<b>-</b> {} only, <b>+</b> {} only):</p><pre class=\"diff\">", esc(a), esc(b)));
                for line in diff.lines() {
                    let class = match line.chars().next() {
                        Some('-') => "del",
                        Some('+') => "ins",
                        _ => "",
                    };
                    if class.is_empty() {
                        let _ = writeln!(o, "{}", esc(line));
                    } else {
                        let _ = write!(o, r#"<span class="{class}">{}</span>"#, esc(line));
                    }
                }
                o.push_str("</pre>");
            }
        }
        "agrees" => o.push_str(
            "<p class=\"note ok\">The models agree on this case in this build: nothing diverges any more.</p>",
        ),
        _ => {
            let _ = write!(
                o,
                "<p class=\"note\">The stored text does not parse as a case file: {}</p>",
                esc(e.error.as_deref().unwrap_or("?"))
            );
        }
    }
    let _ = writeln!(
        o,
        "<p class=\"muted\">Reproduce, explain, minimise:</p><pre>{}</pre></section>",
        esc(&s.reproduce.join("\n"))
    );
}
