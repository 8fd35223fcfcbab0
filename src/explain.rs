//! Rendering what the oracle saw for people (text) and machines (JSON). Shared by `run`,
//! `cases show` and `explain`: every divergence report ends with the commands that reproduce
//! and minimise it.

use cgdiff_engine::oracle::{Report, Verdict};
use cgdiff_engine::rules;
use cgdiff_engine::{format, Case, Outcome};
use std::fmt::Write as _;

const MODELS: [&str; 2] = ["legacy", "four-stage"];

/// The per-operation story of a traced run, then the verdict.
pub fn render_run(case: &Case, report: &Report, source: &str) -> String {
    let mut out = String::new();
    let lines: Vec<String> = format::print(case)
        .lines()
        .filter(|l| {
            !l.starts_with('#') && !l.starts_with("cgdiff-case") && !l.starts_with("hierarchy")
        })
        .map(str::to_string)
        .collect();
    for t in &report.trace {
        let op = lines.get(t.index).map_or("?", |s| s.as_str());
        let _ = writeln!(out, "[{}] {op}", t.index);
        for (m, model) in MODELS.iter().enumerate() {
            let _ = writeln!(out, "  {model:<10} -> {}", t.outcomes[m]);
            for s in &t.steps[m] {
                let _ = writeln!(out, "      {s}");
            }
        }
    }
    out += &render_verdict(report, source);
    out
}

/// The verdict: agreement, or the divergence with its classes, rule and diff, and the commands
/// that reproduce and minimise it.
pub fn render_verdict(report: &Report, source: &str) -> String {
    let mut out = String::new();
    match &report.verdict {
        Verdict::Agree => {
            let _ = writeln!(
                out,
                "verdict: the models agree on all {} operations; every invariant holds",
                report.ops_executed
            );
        }
        Verdict::Diverge(d) => {
            let _ = writeln!(
                out,
                "verdict: DIVERGENCE after operation {} ({})",
                d.op_index,
                d.op_kind.name()
            );
            let _ = writeln!(out, "  signature : {}", d.signature);
            let _ = writeln!(out, "  classes   : {}", d.classes.names().join(", "));
            let _ = writeln!(out, "  blame     : {}", d.blame.name());
            let _ = writeln!(
                out,
                "  results   : legacy {}, four-stage {}",
                d.outcomes[0], d.outcomes[1]
            );
            match d.rule.and_then(rules::rule) {
                Some(r) => {
                    let _ = writeln!(out, "  expected  : yes, rule {}: {}", r.name, r.reason);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  expected  : NO (no rule covers it; see docs/findings.md)"
                    );
                }
            }
            if let Some(detail) = &d.detail {
                let _ = writeln!(out, "  observations (- legacy only, + four-stage only):");
                for l in detail.diff.lines() {
                    let _ = writeln!(out, "    {l}");
                }
            }
            out += &repro_lines(source);
        }
    }
    out
}

/// "Reproduce with / Minimize with" lines for a case file or a stored case id.
pub fn repro_lines(source: &str) -> String {
    format!("Reproduce with: cgdiff run {source}\nMinimize with:  cgdiff minimize {source}\n")
}

fn outcome(o: Outcome) -> String {
    o.to_string()
}

/// Everything of a traced run for `--json`.
pub fn report_json(case: &Case, report: &Report) -> serde_json::Value {
    serde_json::json!({
        "case": format::print(case),
        "operations": report.trace.iter().map(|t| serde_json::json!({
            "index": t.index,
            "legacy": {"result": outcome(t.outcomes[0]), "steps": t.steps[0]},
            "four_stage": {"result": outcome(t.outcomes[1]), "steps": t.steps[1]},
        })).collect::<Vec<_>>(),
        "ops_executed": report.ops_executed,
        "verdict": report.verdict,
    })
}
