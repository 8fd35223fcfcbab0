//! `cgdiff minimize ID | FILE`: the smallest case with the same signature.

use super::{git_commit, open_store_existing, pair_of, Source};
use anyhow::{bail, Result};
use cgdiff_corpus::{FoundBy, NewCase};
use cgdiff_engine::models::Pair;
use cgdiff_engine::{format, oracle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(
    after_help = "A stored case: the minimised case is stored with its lineage \
(minimised from ID) and becomes its signature's best case if it is the smallest.\n\
A case file: the minimised case is printed (or written with --out)."
)]
pub struct Args {
    /// A stored case id or a case file.
    target: String,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// Write the minimised case here instead of printing it (case files only).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    /// The two designs to compare, as A,B (default: the case's own pair).
    #[arg(long, value_name = "A,B")]
    designs: Option<Pair>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let src = Source::load(&a.target, &a.db)?;
    let case = &src.case_file().case;
    let pair = pair_of(a.designs, src.case_file());
    let report = oracle::check_pair(case, pair);
    let Some(d) = report.verdict.divergence() else {
        bail!(
            "{}: the models agree on this case; there is nothing to minimise",
            a.target
        );
    };
    let started = Instant::now();
    let (min, stats) = cgdiff_replay::minimize_pair(case, &d.signature, pair);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let text = format::print_with_designs(&min, Some(pair));
    let mut stored = None;
    if let Source::Stored { id, row, .. } = &src {
        let mut store = open_store_existing(&a.db)?;
        let first_op = oracle::check_pair(&min, pair)
            .verdict
            .divergence()
            .map_or(0, |d| d.op_index as u32);
        let rec = store.record(&NewCase {
            text: text.clone(),
            bytes: None,
            signature: d.signature.clone(),
            classes: d.classes.names().iter().map(|s| s.to_string()).collect(),
            rule: d.rule.map(str::to_string),
            bucket: d.bucket.name(),
            first_op,
            ops: min.ops.len() as u32,
            minimised_from: Some(*id),
            found_by: FoundBy::Minimize,
            run_id: row.run_id,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
        })?;
        stored = Some(rec.case_id());
    }
    if let Some(out) = &a.out {
        std::fs::write(out, &text)?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "signature": d.signature, "stats": stats, "millis": ms,
                "stored_case": stored, "case": text,
            }))?
        );
    } else {
        if a.out.is_none() {
            print!("{text}");
        }
        eprintln!(
            "minimised {} -> {} operations in {} oracle runs ({ms:.1} ms), signature {}{}",
            stats.before_ops,
            stats.after_ops,
            stats.runs,
            d.signature,
            stored.map_or(String::new(), |id| format!("; stored as case {id}"))
        );
        if stats.budget_spent {
            eprintln!(
                "stopped at the minimiser's work budget ({} model steps): the case keeps its \
                 signature but may not be minimal; minimise the result again to go on",
                cgdiff_replay::minimize::WORK_BUDGET
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
