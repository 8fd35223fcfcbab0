//! `summary.md`: a short digest for a CI job summary (`$GITHUB_STEP_SUMMARY`). Everything read
//! from the store is put in code spans ([`crate::escape::md_code`]), where Markdown renders
//! neither HTML nor emphasis.

use crate::escape::md_code as code;
use crate::model::{Report, SignatureReport, Status};
use crate::svg::compact;
use std::fmt::Write as _;

/// At most this many signatures are listed; the rest are counted.
const LIST: usize = 15;

/// Renders the digest.
pub fn render(r: &Report) -> String {
    let t = &r.totals;
    let mut o = String::from("## cgdiff report\n\n");
    let verdict = if t.failing == 0 {
        "✅ no unexpected divergence reproduces".to_string()
    } else {
        format!(
            "❌ {} unexpected signature(s) still reproduce, {} of them not in `docs/findings.md`",
            t.failing, t.unlisted
        )
    };
    let _ = writeln!(
        o,
        "{verdict}. **{}** signatures ({} unexpected, {} expected), {} cases stored, {} cases executed over {} runs ({} since the previous report).\n",
        t.signatures,
        t.unexpected,
        t.expected,
        t.cases,
        compact(t.cases_executed as f64),
        t.runs,
        t.runs_in_window
    );
    o.push_str("| status | unexpected | expected |\n|---|---:|---:|\n");
    for st in Status::ALL {
        let all = t.by_status.get(&st).copied().unwrap_or(0);
        let un = t.unexpected_by_status.get(&st).copied().unwrap_or(0);
        let _ = writeln!(o, "| {} | {un} | {} |", st.title(), all - un);
    }
    o.push('\n');

    let attention: Vec<&SignatureReport> = r
        .signatures
        .iter()
        .filter(|s| !s.expected && matches!(s.status, Status::Regressed | Status::New))
        .collect();
    if !attention.is_empty() {
        o.push_str("### Needs attention\n\n");
        for s in attention.iter().take(LIST) {
            let _ = writeln!(
                o,
                "- **{}**{} {} — case {} ({} ops), reproduce: {}",
                s.status.as_str(),
                if s.listed.is_none() {
                    " (unlisted)"
                } else {
                    ""
                },
                code(&s.signature),
                s.best_case.id,
                s.best_case.ops,
                code(s.reproduce.first().map_or("", String::as_str))
            );
        }
        if attention.len() > LIST {
            let _ = writeln!(
                o,
                "- … and {} more (see index.html)",
                attention.len() - LIST
            );
        }
        o.push('\n');
    }
    let fixed: Vec<&SignatureReport> = r
        .signatures
        .iter()
        .filter(|s| !s.expected && s.status == Status::Fixed)
        .collect();
    if !fixed.is_empty() {
        let _ = writeln!(
            o,
            "Fixed: {}\n",
            fixed
                .iter()
                .take(LIST)
                .map(|s| code(&s.signature))
                .collect::<Vec<_>>()
                .join(", ")
                + if fixed.len() > LIST { ", …" } else { "" }
        );
    }

    if let Some(last) = r.charts.throughput.last() {
        let _ = writeln!(
            o,
            "Throughput: run {} ({}) ran {:.0} cases/s.\n",
            last.run_id,
            code(&last.kind),
            last.cases_per_sec
        );
    }
    if r.coverage.runs_counted > 0 {
        o.push_str("Model coverage (summed over runs):\n\n");
        for m in &r.coverage.models {
            let never = if m.never_reached.is_empty() {
                "all reached".to_string()
            } else {
                format!(
                    "never reached: {}",
                    m.never_reached
                        .iter()
                        .map(|n| code(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                o,
                "- {}: {} of {} steps; {never}",
                m.model, m.reached, m.applicable
            );
        }
        o.push('\n');
    }
    o.push_str(
        "Full report: `index.html` (cases, explanations, charts), `junit.xml`, `report.json`.\n",
    );
    o
}
