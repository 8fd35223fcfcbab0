//! `index.html`: one self-contained page (inline CSS and SVG, no script, no network) that a
//! person opens from a CI artifact in any browser. Every text from the store is escaped.

use crate::escape::html as esc;
use crate::model::{Report, SignatureReport, Status, WindowBasis};
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
"#;

fn badge(s: &SignatureReport) -> String {
    format!(
        r#"<span class="badge {c}">{t}</span>"#,
        c = s.status.as_str(),
        t = esc(s.status.title())
    )
}

fn sig_link(s: &SignatureReport) -> String {
    format!(
        r##"<a href="#{a}"><code>{sig}</code></a>"##,
        a = esc(&s.anchor),
        sig = esc(&s.signature)
    )
}

/// The finding of docs/findings.md an unexpected signature belongs to, or a flag saying none
/// does.
fn listed(s: &SignatureReport) -> String {
    match &s.listed {
        Some(l) => format!(
            r#"<span class="nw" title="{}">{}</span>"#,
            esc(&format!("{}: {}", l.pattern, l.finding)),
            esc(l.finding.split('.').next().unwrap_or(&l.finding))
        ),
        None => r#"<span class="badge regressed">unlisted</span>"#.to_string(),
    }
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
    let _ = write!(
        o,
        "<header><h1>cgdiff report: legacy vs four-stage cgroup migration</h1>\
         <p>Database <code>{}</code> · generated {} by cgdiff {} · window: {} ({} of {} runs)</p></header>\n<main>\n",
        esc(&r.db),
        esc(&time::datetime(r.generated_at)),
        esc(&r.tool_version),
        esc(&window),
        r.totals.runs_in_window,
        r.totals.runs
    );

    // Totals.
    let t = &r.totals;
    let count = |st: Status| t.unexpected_by_status.get(&st).copied().unwrap_or(0);
    let _ = write!(
        o,
        r##"<nav><a href="#charts">Charts</a><a href="#unexpected">Unexpected</a>{}<a href="#expected">Expected ({})</a><a href="#coverage">Coverage</a><a href="#runs">Runs</a><a href="#details">Cases and explanations</a></nav>"##,
        Status::ALL
            .iter()
            .map(|&st| format!(
                r##"<a href="#unexpected-{}">{} ({})</a>"##,
                st.as_str(),
                esc(st.title()),
                count(st)
            ))
            .collect::<String>(),
        t.expected
    );
    let ub = |s: Status| t.unexpected_by_status.get(&s).copied().unwrap_or(0);
    let card = |o: &mut String, class: &str, n: String, label: &str| {
        let _ = write!(
            o,
            r#"<div class="card {class}"><b>{}</b><span>{}</span></div>"#,
            esc(&n),
            esc(label)
        );
    };
    o.push_str(r#"<div class="cards">"#);
    card(&mut o, "", t.signatures.to_string(), "signatures");
    card(
        &mut o,
        if t.unexpected > 0 { "bad" } else { "ok" },
        t.unexpected.to_string(),
        "unexpected",
    );
    card(&mut o, "", t.expected.to_string(), "expected (rule)");
    card(
        &mut o,
        if ub(Status::Regressed) > 0 { "bad" } else { "" },
        ub(Status::Regressed).to_string(),
        "unexpected regressed",
    );
    card(
        &mut o,
        if ub(Status::New) > 0 { "bad" } else { "" },
        ub(Status::New).to_string(),
        "unexpected new",
    );
    card(
        &mut o,
        if t.unlisted > 0 { "bad" } else { "ok" },
        t.unlisted.to_string(),
        "not in findings.md",
    );
    card(
        &mut o,
        "warn",
        ub(Status::Reproducing).to_string(),
        "unexpected still reproducing",
    );
    card(
        &mut o,
        "ok",
        ub(Status::Fixed).to_string(),
        "unexpected fixed",
    );
    card(&mut o, "", t.cases.to_string(), "cases stored");
    card(
        &mut o,
        "",
        svg::compact(t.cases_executed as f64),
        "cases executed",
    );
    card(&mut o, "", t.replays.to_string(), "replays");
    o.push_str("</div>\n");
    if t.failing == 0 {
        o.push_str(r#"<p class="note ok">No unexpected divergence reproduces: the JUnit report passes.</p>"#);
    } else {
        let _ = write!(
            o,
            r#"<p class="note">{} unexpected signature(s) still reproduce: each is a failing test case in <code>junit.xml</code>. {} of them match no pattern of <code>docs/findings.md</code> (marked <span class="badge regressed">unlisted</span>); the others are variants of written-up findings.</p>"#,
            t.failing, t.unlisted
        );
    }

    // Charts.
    o.push_str("<h2 id=\"charts\">Charts</h2><div class=\"charts\">");
    o.push_str(&svg::discovery(&r.charts.discovery, r.generated_at));
    o.push_str(&svg::throughput(&r.charts.throughput));
    o.push_str(&svg::classes(&r.charts.classes));
    o.push_str("</div>\n");

    // Unexpected, by status.
    o.push_str("<h2 id=\"unexpected\">Unexpected divergences</h2>");
    o.push_str("<p class=\"muted\">No expected-difference rule covers these: each is a finding (listed by pattern in <code>docs/findings.md</code>) or a bug in a model.</p>");
    for st in Status::ALL {
        let group: Vec<&SignatureReport> = r
            .signatures
            .iter()
            .filter(|s| !s.expected && s.status == st)
            .collect();
        let _ = write!(
            o,
            "<h3 id=\"unexpected-{}\">{} ({})</h3>",
            st.as_str(),
            esc(st.title()),
            group.len()
        );
        if group.is_empty() {
            o.push_str("<p class=\"muted\">none</p>");
            continue;
        }
        o.push_str("<table><tr><th>signature</th><th>docs/findings.md</th><th class=\"num\">hits</th><th>minimal case</th><th>latest replay</th><th>first seen</th></tr>");
        for s in group {
            let _ = write!(
                o,
                r##"<tr><td>{} {}</td><td>{}</td><td class="num">{}</td><td class="nw"><a href="#case-{n}">case {id}</a> · <a href="#explain-{n}">explain</a> <span class="muted">({} ops)</span></td><td class="nw">{}</td><td class="nw">{}</td></tr>"##,
                badge(s),
                sig_link(s),
                listed(s),
                s.hit_count,
                s.best_case.ops,
                replay_text(s),
                esc(&time::short(s.first_seen)),
                n = esc(s.anchor.trim_start_matches("sig-")),
                id = s.best_case.id,
            );
        }
        o.push_str("</table>");
    }

    // Expected.
    let expected: Vec<&SignatureReport> = r.signatures.iter().filter(|s| s.expected).collect();
    let _ = write!(
        o,
        "<h2 id=\"expected\">Expected differences ({})</h2><p class=\"muted\">What the patch set out to change: a named rule of <code>engine/src/rules.rs</code> covers every class of these.</p>",
        expected.len()
    );
    if expected.is_empty() {
        o.push_str("<p class=\"muted\">none</p>");
    } else {
        o.push_str("<table><tr><th>signature</th><th>rule</th><th>why</th><th class=\"num\">hits</th><th>minimal case</th><th>status</th></tr>");
        for s in expected {
            let (name, reason) = s
                .rule
                .as_ref()
                .map_or(("", None), |x| (x.name.as_str(), x.reason.as_deref()));
            let _ = write!(
                o,
                r##"<tr><td>{}</td><td class="nw"><code>{}</code></td><td class="why">{}</td><td class="num">{}</td><td class="nw"><a href="#case-{n}">case {id}</a> · <a href="#explain-{n}">explain</a></td><td>{}</td></tr>"##,
                sig_link(s),
                esc(name),
                reason.map_or_else(
                    || "<span class=\"muted\">(no rule of that name in this build)</span>"
                        .to_string(),
                    esc
                ),
                s.hit_count,
                badge(s),
                n = esc(s.anchor.trim_start_matches("sig-")),
                id = s.best_case.id,
            );
        }
        o.push_str("</table>");
    }

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
        o.push_str("<table><tr><th class=\"num\">run</th><th>kind</th><th>started</th><th class=\"num\">seconds</th><th class=\"num\">cases</th><th class=\"num\">cases/s</th><th class=\"num\">divergences</th><th class=\"num\">new sigs</th><th>shard / origin</th></tr>");
        let shown = &r.runs[r.runs.len().saturating_sub(60)..];
        if shown.len() < r.runs.len() {
            let _ = write!(
                o,
                "<tr><td colspan=\"9\" class=\"muted\">{} older runs in report.json</td></tr>",
                r.runs.len() - shown.len()
            );
        }
        for run in shown.iter().rev() {
            let _ = write!(
                o,
                r#"<tr><td class="num">{}{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}{}</td></tr>"#,
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
    o.push_str("<h2 id=\"details\">Signatures in detail</h2>");
    if r.signatures.is_empty() {
        o.push_str("<p class=\"muted\">The database holds no divergence.</p>");
    }
    for s in &r.signatures {
        detail(&mut o, s);
    }
    o.push_str("</main></body></html>\n");
    o
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
