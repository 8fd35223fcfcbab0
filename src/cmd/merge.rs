//! `cgdiff merge A.db B.db … --into OUT.db`: the databases of several shards (or machines, or
//! nights) into one, so that one report and one replay cover every find.

use super::{git_commit, open_store, open_store_read};
use anyhow::{bail, Context, Result};
use cgdiff_corpus::{NewRun, RunKind, RunTotals, Store, StoreError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(
    after_help = "Cases are unioned (one row per signature and text, hit counts summed), \
signatures unioned (hit counts summed, the smallest case kept as best), runs and replays copied \
with their origin in the run's extra.merged_from. OUT.db is created if missing, or merged into. \
Merging the same source twice counts it twice: merge each shard's database once. \
A corrupt source (one other commands refuse) is salvaged: every row that still reads is merged, \
and what could not be read is listed; the source is only read.\n\n\
Examples:\n  \
    cgdiff merge shard-0.db shard-1.db shard-2.db --into cgdiff.db\n  \
    cgdiff merge nightly-*.db --into all.db\n\n\
Exit status: 0 merged, 2 bad input (a missing or unusable database, OUT among the inputs)."
)]
pub struct Args {
    /// The databases to merge in.
    #[arg(required = true, value_name = "DB")]
    sources: Vec<PathBuf>,
    /// The database to merge into (created if missing).
    #[arg(long, value_name = "OUT.db")]
    into: PathBuf,
    /// Print what was merged as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let started = Instant::now();
    // Check every source before writing anything.
    let into_abs = a.into.canonicalize().ok();
    let mut sources = Vec::new();
    for p in &a.sources {
        if p == &a.into || (into_abs.is_some() && p.canonicalize().ok() == into_abs) {
            bail!("{}: cannot merge a database into itself", p.display());
        }
        match open_store_read(p) {
            Ok(store) => sources.push(store),
            Err(e) => match e.downcast_ref::<StoreError>() {
                // What still reads of a corrupt source is copied; the file is only read.
                Some(StoreError::Corrupt { .. }) => {
                    let (store, stats) = Store::salvage(p).map_err(|s| {
                        anyhow::anyhow!(
                            "{} is corrupt and nothing of it could be salvaged: {s}",
                            p.display()
                        )
                    })?;
                    let lost: Vec<String> = stats
                        .tables
                        .iter()
                        .filter(|t| t.2 > 0)
                        .map(|t| format!("{} in {}", t.2, t.0))
                        .collect();
                    eprintln!(
                        "cgdiff: {e:#}\ncgdiff: salvaging {}: {}; unreadable rowids: {}",
                        p.display(),
                        stats
                            .tables
                            .iter()
                            .map(|t| format!("{} {} read", t.1, t.0))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if lost.is_empty() {
                            "none".to_string()
                        } else {
                            lost.join(", ")
                        }
                    );
                    sources.push(store);
                }
                _ => return Err(e),
            },
        }
    }
    let mut store = open_store(&a.into)?;
    let known_before = store.known_signatures()?.len();
    let mut run = NewRun::new(RunKind::Merge, env!("CARGO_PKG_VERSION"));
    run.git_commit = git_commit();
    run.extra = Some(serde_json::json!({
        "sources": a.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()
    }));
    let run_id = store.begin_run(&run)?;
    let mut all = Vec::new();
    for (path, src) in a.sources.iter().zip(&sources) {
        let stats = store
            .merge_from(src)
            .with_context(|| format!("merging {}", path.display()))?;
        if !a.json {
            println!(
                "merged {}: {} runs, {} cases ({} new, {} already there: hits summed), {} signatures ({} new), {} replays",
                path.display(),
                stats.runs,
                stats.cases_added + stats.cases_matched,
                stats.cases_added,
                stats.cases_matched,
                stats.signatures_added + stats.signatures_matched,
                stats.signatures_added,
                stats.replays
            );
        }
        all.push(serde_json::json!({"db": path.display().to_string(), "merged": stats}));
    }
    let known_after = store.known_signatures()?.len();
    store.finish_run(
        run_id,
        &RunTotals {
            elapsed: started.elapsed(),
            new_signatures: (known_after - known_before) as u64,
            extra: Some(serde_json::json!({ "merged": all })),
            ..RunTotals::default()
        },
    )?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "into": a.into.display().to_string(),
                "run_id": run_id,
                "signatures": known_after,
                "new_signatures": known_after - known_before,
                "sources": all,
            }))?
        );
    } else {
        println!(
            "{}: {known_after} signatures ({} new), merge run {run_id}",
            a.into.display(),
            known_after - known_before
        );
    }
    Ok(ExitCode::SUCCESS)
}
