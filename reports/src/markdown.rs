//! `summary.md`: a short digest for a CI job summary (`$GITHUB_STEP_SUMMARY`). Everything read
//! from the store is put in code spans ([`crate::escape::md_code`]), where Markdown renders
//! neither HTML nor emphasis.

use crate::escape::md_code as code;
use crate::model::Report;
use crate::svg::compact;
use std::fmt::Write as _;

/// At most this many signatures are listed; the rest are counted.
const LIST: usize = 15;

/// Renders the digest.
pub fn render(r: &Report) -> String {
    let t = &r.totals;
    let mut o = String::from("## cgdiff report\n\n");
    let mark = if t.buckets.unlisted + t.buckets.regressed > 0 {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(
        o,
        "{mark} {}\n\n{} buckets ({} variants), {} cases stored, {} cases executed over {} runs ({} since the previous report).\n",
        r.verdict,
        t.buckets.total,
        t.signatures,
        t.cases,
        compact(t.cases_executed as f64),
        t.runs,
        t.runs_in_window
    );
    if !r.buckets.is_empty() {
        o.push_str(
            "| bucket | status | occurrences | variants | what |\n|---|---|---:|---:|---|\n",
        );
        for b in r.buckets.iter().take(LIST) {
            let what = b
                .causes
                .iter()
                .map(|c| c.title.as_str())
                .collect::<Vec<_>>()
                .join(" + ");
            let _ = writeln!(
                o,
                "| {} | {}{} | {} | {} | {} |",
                code(&b.bucket),
                b.status.as_str(),
                if b.failing { " ❌" } else { "" },
                b.occurrences,
                b.variants.len(),
                if what.is_empty() {
                    "unlisted".to_string()
                } else {
                    what.replace('|', "/")
                }
            );
        }
        if r.buckets.len() > LIST {
            let _ = writeln!(
                o,
                "| … {} more in index.html | | | | |",
                r.buckets.len() - LIST
            );
        }
        o.push('\n');
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
