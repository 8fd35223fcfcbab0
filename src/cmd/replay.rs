//! `cgdiff replay`: re-run stored cases (or case files with an `expect` line) on the current
//! models and say, for each, whether it reproduces, changed or is fixed.

use super::{
    git_commit, open_store_existing, open_store_read, terminal_safe, Source, EXIT_DIVERGENCE,
};
use anyhow::{bail, Result};
use cgdiff_corpus::{NewReplay, NewRun, ReplayOutcome, RunKind, RunTotals};
use cgdiff_engine::findings::glob_match;
use cgdiff_engine::models::{by_name, names, Design, Pair};
use cgdiff_engine::oracle;
use cgdiff_replay::triage;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    cgdiff replay 42                 one stored case\n  \
    cgdiff replay --signature S      the best case of one signature\n  \
    cgdiff replay --all              the best case of every signature (what nightly CI runs)\n  \
    cgdiff replay my.case            a case file against its `expect` line\n  \
    cgdiff replay --all --designs v3.15,v3.16   every bucket on another pair\n  \
    cgdiff replay --all --design v5.19          every bucket on one design alone\n\n\
A stored case runs on the pair it was found on (its `designs` line; legacy,four-stage if it \
has none). With --designs A,B it runs on that pair instead, and the outcome compares buckets \
(the signature without its pair prefix, the blame as first/second design); nothing is \
recorded then. With --design X each case runs on X alone against every invariant and \
property, and the line says which it breaks (the findings a design still has).\n\n\
`--signature` takes a glob (`*` matches anything). Only `--all` records a replay run (what \
a report's window is measured from).\n\n\
Exit status: 1 if a case is in the unlisted bucket now, or its bucket changed (a regression), \
or (--design) a case breaks an invariant; 0 otherwise (known findings that reproduce \
included), 2 on bad input.")]
pub struct Args {
    /// A stored case id, or a case file with an `expect` line.
    #[arg(conflicts_with_all = ["signature", "all"], required_unless_present_any = ["signature", "all"])]
    target: Option<String>,
    /// Replay the best case of every variant whose signature matches this glob.
    #[arg(long)]
    signature: Option<String>,
    /// Replay the best case of every stored signature.
    #[arg(long)]
    all: bool,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    #[arg(long)]
    json: bool,
    /// Run the cases on this pair of designs instead of their own, as A,B.
    #[arg(long, value_name = "A,B", conflicts_with = "design")]
    designs: Option<Pair>,
    /// Run each case on this one design alone, against the invariants.
    #[arg(long, value_name = "X", value_parser = parse_design)]
    design: Option<&'static dyn Design>,
}

fn parse_design(s: &str) -> Result<&'static dyn Design, String> {
    by_name(s).ok_or_else(|| format!("unknown design `{s}` (known: {})", names()))
}

#[derive(Serialize)]
pub struct Replayed {
    pub case: String,
    pub expected: Option<String>,
    /// The bucket recorded with the case (none before triage, or for a case file).
    pub expected_bucket: Option<String>,
    pub outcome: triage::Replay,
    pub signature_now: Option<String>,
    pub rule_now: Option<String>,
    /// The bucket the case is in now.
    pub bucket_now: Option<String>,
    /// Its bucket changed from a known one: a regression.
    pub bucket_changed: bool,
    /// It is unlisted now.
    pub unlisted: bool,
    /// Hash of the full traced run: equal hashes, identical traces.
    pub trace_hash: String,
}

/// Replays one case and classifies the result against what was expected of it; on another
/// pair than its own (`designs`), buckets are compared.
pub fn replay_one(label: String, src: &Source, designs: Option<Pair>) -> Replayed {
    let file = src.case_file();
    let own = file.designs.unwrap_or_default();
    let pair = designs.unwrap_or(own);
    let case = &file.case;
    let report = oracle::run_pair(case, pair, true);
    let now = report.verdict.divergence();
    let expected = src.expected_signature().flatten();
    let expected_bucket = src.expected_bucket();
    let c = triage::classify(
        expected
            .as_deref()
            .map(|s| (s, expected_bucket.as_deref().filter(|b| !b.is_empty()))),
        now,
        [own.names(), pair.names()],
    );
    Replayed {
        case: label,
        expected,
        expected_bucket,
        outcome: c.outcome,
        signature_now: now.map(|d| d.signature.clone()),
        rule_now: now.and_then(|d| d.rule.map(str::to_string)),
        bucket_now: now.map(|d| d.bucket.name()),
        bucket_changed: c.bucket_changed,
        unlisted: c.unlisted,
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
    let mut sources = Vec::new();
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
        sources.push((t.clone(), src));
    } else {
        let store = open_store_read(&a.db)?;
        let sigs = store.signatures()?;
        let chosen: Vec<_> = sigs
            .iter()
            .filter(|s| {
                a.all
                    || a.signature
                        .as_deref()
                        .is_some_and(|p| glob_match(p, &s.signature))
            })
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
            sources.push((id.to_string(), src));
        }
    }
    if let Some(d) = a.design {
        return single_design(d, &sources, a.json);
    }
    for (label, src) in &sources {
        results.push(replay_one(label.clone(), src, a.designs));
    }
    // Replays on another pair than the cases' own are not recorded: they are another question.
    if !stored_ids.is_empty() && a.designs.is_none() {
        let mut store = open_store_existing(&a.db)?;
        // Only `--all` is a replay run (what a report's window is measured from); replaying
        // one case or a few records their replays without moving the window.
        let run_id = if a.all {
            let mut run = NewRun::new(RunKind::Replay, env!("CARGO_PKG_VERSION"));
            run.git_commit = git_commit();
            Some(store.begin_run(&run)?)
        } else {
            None
        };
        for (id, r) in stored_ids.iter().zip(&results) {
            store.record_replay(&NewReplay {
                run_id,
                case_id: *id,
                outcome: match r.outcome {
                    triage::Replay::Reproduces => ReplayOutcome::Reproduces,
                    triage::Replay::Changed => ReplayOutcome::Changed,
                    triage::Replay::Fixed => ReplayOutcome::Fixed,
                },
                signature_now: r.signature_now.clone(),
            })?;
        }
        if let Some(run_id) = run_id {
            store.finish_run(
                run_id,
                &RunTotals {
                    cases_executed: results.len() as u64,
                    elapsed: started.elapsed(),
                    ..RunTotals::default()
                },
            )?;
        }
    }
    // CI fails on what nobody has explained (unlisted now) and on a case whose bucket changed.
    let bad = results
        .iter()
        .filter(|r| r.unlisted || r.bucket_changed)
        .count();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        for r in &results {
            println!(
                "{:<10} case {}: {}{}{}  trace {}",
                r.outcome.name(),
                terminal_safe(&r.case),
                r.signature_now.as_deref().unwrap_or("models agree"),
                r.bucket_now
                    .as_deref()
                    .map_or(String::new(), |b| format!(" in bucket {b}")),
                match (&r.expected, &r.expected_bucket, r.outcome) {
                    (Some(e), Some(b), triage::Replay::Changed) if !b.is_empty() => {
                        format!(" (was {} in {})", terminal_safe(e), terminal_safe(b))
                    }
                    (Some(e), _, triage::Replay::Changed) => format!(" (was {})", terminal_safe(e)),
                    _ => String::new(),
                },
                r.trace_hash
            );
        }
        let count = |o| results.iter().filter(|r| r.outcome == o).count();
        println!(
            "{} replayed: {} reproduce, {} changed, {} fixed; {} unlisted, {} changed bucket",
            results.len(),
            count(triage::Replay::Reproduces),
            count(triage::Replay::Changed),
            count(triage::Replay::Fixed),
            results.iter().filter(|r| r.unlisted).count(),
            results.iter().filter(|r| r.bucket_changed).count(),
        );
    }
    Ok(if bad > 0 {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `replay --design X`: each case on X alone; which invariants it breaks, where.
fn single_design(
    d: &'static dyn Design,
    sources: &[(String, Source)],
    json: bool,
) -> Result<ExitCode> {
    let reports: Vec<_> = sources
        .iter()
        .map(|(label, src)| (label, oracle::check_design(&src.case_file().case, d)))
        .collect();
    let broken = reports
        .iter()
        .filter(|(_, r)| r.violation.is_some())
        .count();
    if json {
        let rows: Vec<_> = reports
            .iter()
            .map(|(label, r)| serde_json::json!({"case": label, "report": r}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for (label, r) in &reports {
            match &r.violation {
                None => println!(
                    "holds      case {label}: {} keeps every invariant over {} operations",
                    r.design, r.ops_executed
                ),
                Some(v) => println!(
                    "violates   case {label}: {} (operation {}, result {})",
                    v.signature, v.op_index, v.outcome
                ),
            }
        }
        println!(
            "{} cases on {} alone: {broken} break an invariant, {} keep them all",
            reports.len(),
            d.name(),
            reports.len() - broken
        );
    }
    Ok(if broken > 0 {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}
