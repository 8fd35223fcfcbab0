//! `cgdiff replay`: re-run stored cases (or case files with an `expect` line) on the current
//! models and say, for each, whether it reproduces, changed or is fixed.

use super::{git_commit, open_store_existing, open_store_read, Source, EXIT_DIVERGENCE};
use anyhow::{bail, Result};
use cgdiff_corpus::{NewReplay, NewRun, ReplayOutcome, RunKind, RunTotals};
use cgdiff_engine::oracle;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    cgdiff replay 42                 one stored case\n  \
    cgdiff replay --signature S      the best case of one signature\n  \
    cgdiff replay --all              the best case of every signature (what nightly CI runs)\n  \
    cgdiff replay my.case            a case file against its `expect` line\n\n\
Exit status: 1 if an unexpected signature reproduces (or changed to an unexpected one), \
0 otherwise, 2 on bad input.")]
pub struct Args {
    /// A stored case id, or a case file with an `expect` line.
    #[arg(conflicts_with_all = ["signature", "all"], required_unless_present_any = ["signature", "all"])]
    target: Option<String>,
    /// Replay the best case of this signature.
    #[arg(long)]
    signature: Option<String>,
    /// Replay the best case of every stored signature.
    #[arg(long)]
    all: bool,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
pub struct Replayed {
    pub case: String,
    pub expected: Option<String>,
    pub outcome: &'static str,
    pub signature_now: Option<String>,
    pub rule_now: Option<String>,
    /// Hash of the full traced run: equal hashes, identical traces.
    pub trace_hash: String,
}

/// Replays one case and classifies the result against what was expected of it.
pub fn replay_one(label: String, src: &Source) -> Replayed {
    let case = &src.case_file().case;
    let report = oracle::run(case, true);
    let now = report.verdict.divergence();
    let expected = src.expected_signature().flatten();
    let outcome = match (now, &expected) {
        (None, _) => ReplayOutcome::Fixed,
        (Some(d), Some(e)) if d.signature == *e => ReplayOutcome::Reproduces,
        (Some(_), _) => ReplayOutcome::Changed,
    };
    Replayed {
        case: label,
        expected,
        outcome: outcome.as_str(),
        signature_now: now.map(|d| d.signature.clone()),
        rule_now: now.and_then(|d| d.rule.map(str::to_string)),
        trace_hash: trace_hash(&report),
    }
}

/// A stable hash (FNV-1a) of everything a traced run printed.
pub fn trace_hash(report: &oracle::Report) -> String {
    let text = format!("{:?}\n{:?}", report.trace, report.verdict);
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

pub fn run(a: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let mut results = Vec::new();
    let mut stored_ids = Vec::new();
    if let Some(t) = &a.target {
        let src = Source::load(t, &a.db)?;
        if let Source::File { file, path } = &src {
            if file.expect.is_none() {
                bail!(
                    "{}: a case file needs an `expect agree` or `expect diverge SIGNATURE` line to be replayed (or use `cgdiff run`)",
                    path.display()
                );
            }
        }
        if let Source::Stored { id, .. } = &src {
            stored_ids.push(*id);
        }
        results.push(replay_one(t.clone(), &src));
    } else {
        let store = open_store_read(&a.db)?;
        let sigs = store.signatures()?;
        let chosen: Vec<_> = sigs
            .iter()
            .filter(|s| a.all || a.signature.as_deref() == Some(s.signature.as_str()))
            .collect();
        if chosen.is_empty() {
            if let Some(s) = &a.signature {
                bail!("{}: no signature {s}", a.db.display());
            }
        }
        drop(store);
        for s in chosen {
            let id = s.best_case_id;
            let src = Source::load(&id.to_string(), &a.db)?;
            stored_ids.push(id);
            results.push(replay_one(id.to_string(), &src));
        }
    }
    if !stored_ids.is_empty() {
        let mut store = open_store_existing(&a.db)?;
        let mut run = NewRun::new(RunKind::Replay, env!("CARGO_PKG_VERSION"));
        run.git_commit = git_commit();
        let run_id = store.begin_run(&run)?;
        for (id, r) in stored_ids.iter().zip(&results) {
            store.record_replay(&NewReplay {
                run_id: Some(run_id),
                case_id: *id,
                outcome: ReplayOutcome::parse(r.outcome).expect("known outcome"),
                signature_now: r.signature_now.clone(),
            })?;
        }
        store.finish_run(
            run_id,
            &RunTotals {
                cases_executed: results.len() as u64,
                elapsed: started.elapsed(),
                ..RunTotals::default()
            },
        )?;
    }
    // CI fails when something unexpected still (or newly) diverges.
    let bad = results
        .iter()
        .filter(|r| r.signature_now.is_some() && r.rule_now.is_none())
        .count();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        for r in &results {
            println!(
                "{:<10} case {}: {}{}  trace {}",
                r.outcome,
                r.case,
                r.signature_now.as_deref().unwrap_or("models agree"),
                match (&r.expected, r.outcome) {
                    (Some(e), "changed") => format!(" (was {e})"),
                    _ => String::new(),
                },
                r.trace_hash
            );
        }
        let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
        println!(
            "{} replayed: {} reproduce, {} changed, {} fixed; {} unexpected still diverge",
            results.len(),
            count("reproduces"),
            count("changed"),
            count("fixed"),
            bad
        );
    }
    Ok(if bad > 0 {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}
