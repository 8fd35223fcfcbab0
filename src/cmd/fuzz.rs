//! `cgdiff fuzz`: a campaign on every core into the case store.

use super::{git_commit, open_store, store_finding, EXIT_DIVERGENCE};
use crate::campaign::{self, Counters, Finding, Limit, Plan, Shared};
use anyhow::{bail, Context, Result};
use cgdiff_corpus::{FoundBy, NewRun, RunKind, RunTotals};
use cgdiff_engine::models::Pair;
use cgdiff_engine::trace::Coverage;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    cgdiff fuzz --time 60s                 one minute on every core into ./cgdiff.db\n  \
    cgdiff fuzz --cases 100000 --seed 7 --jobs 1\n                                         a reproducible campaign (same seed = same results)\n  \
    cgdiff fuzz --time 10m --shard 2/8     the third of eight disjoint shards\n\n\
Ctrl-C or SIGTERM (what a CI timeout sends) stops the campaign: the workers finish their case, \
the summary is printed and the run is closed, with the exit status below; a second one kills it.\n\n\
Exit status: 0 nothing new and unexpected, 1 a new unexpected signature was stored, 2 bad input.")]
pub struct Args {
    /// Stop after this long (e.g. 60s, 5m, 1h).
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "cases")]
    time: Option<Duration>,
    /// Stop after this many generated cases.
    #[arg(long)]
    cases: Option<u64>,
    /// Seed of the case stream (default: from the clock, printed in the summary).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Operations per generated case at most.
    #[arg(long, default_value_t = 64)]
    max_ops: usize,
    /// This process's part of a sharded campaign, as INDEX/COUNT (disjoint case streams).
    #[arg(long, value_parser = parse_shard, default_value = "0/1")]
    shard: (u64, u64),
    /// The case store.
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// The two designs to compare, as A,B (`cgdiff designs` lists them). Stored cases
    /// remember their pair.
    #[arg(long, value_name = "A,B", default_value = "legacy,four-stage")]
    designs: Pair,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected INDEX/COUNT, like 0/4, got {s:?}"))?;
    let i: u64 = i.parse().map_err(|_| format!("bad shard index {i:?}"))?;
    let n: u64 = n.parse().map_err(|_| format!("bad shard count {n:?}"))?;
    if n == 0 || i >= n {
        return Err(format!("shard index must be below the count (got {i}/{n})"));
    }
    Ok((i, n))
}

/// One signature met in this run, for the summary.
#[derive(Serialize)]
struct FoundSig {
    signature: String,
    rule: Option<String>,
    new: bool,
    case_id: i64,
    ops: usize,
    original_ops: usize,
    found_by_sweep: bool,
    /// Which generated case of the run (with the seed, enough to regenerate it).
    case_index: u64,
}

#[derive(Serialize)]
struct Summary {
    run_id: i64,
    db: String,
    seed: u64,
    shard: String,
    jobs: usize,
    seconds: f64,
    cases: u64,
    operations: u64,
    cases_per_sec: f64,
    ops_per_sec: f64,
    divergences: u64,
    swept_cases: u64,
    /// Fault-sweep variants run (one fault on one migration of a swept case), and the model
    /// operations they took (part of `operations`).
    sweep_variants: u64,
    sweep_operations: u64,
    /// Distinct combinations of model steps the generated cases reached (the sweep's novelty).
    step_combinations: usize,
    signatures: usize,
    new_signatures: usize,
    new_unexpected: usize,
    found: Vec<FoundSig>,
    interrupted: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.max_ops == 0 || a.max_ops > cgdiff_engine::MAX_OPS {
        bail!(
            "--max-ops must be 1..={} (the most operations a case may have), got {}",
            cgdiff_engine::MAX_OPS,
            a.max_ops
        );
    }
    let limit = match (a.time, a.cases) {
        (_, Some(n)) => Limit::Cases(n),
        (Some(t), None) => Limit::Time(t),
        (None, None) => Limit::Time(Duration::from_secs(60)),
    };
    let jobs = a.jobs.unwrap_or_else(num_cpus).max(1);
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let plan = Plan {
        seed,
        shard: a.shard,
        jobs,
        max_ops: a.max_ops,
        limit,
        pair: a.designs,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl-C, SIGTERM (a CI timeout) and SIGHUP stop the campaign cleanly (the ctrlc
        // crate's `termination` feature): installed before the run begins, so that no signal
        // can find the run open and the default action in place. A second one while stopping
        // kills the process.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let mut store = open_store(&a.db)?;
    let known = store.known_signatures()?;
    let mut new_run = NewRun::new(RunKind::Campaign, env!("CARGO_PKG_VERSION"));
    new_run.seed = Some(seed);
    new_run.shard = Some(format!("{}/{}", a.shard.0, a.shard.1));
    new_run.jobs = Some(jobs as u32);
    new_run.git_commit = git_commit();
    new_run.extra = Some(if a.designs.is_default() {
        serde_json::json!({"max_ops": a.max_ops})
    } else {
        serde_json::json!({"max_ops": a.max_ops, "designs": a.designs.to_string()})
    });
    let run_id = store.begin_run(&new_run)?;

    let counters = Counters::default();
    let shared = Shared::default();
    let started = Instant::now();
    let bar = progress_bar(&limit, a.json);
    let (tx, rx) = mpsc::channel::<Finding>();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting worker threads")?;

    let mut found: Vec<FoundSig> = Vec::new();
    let mut run_sigs: HashSet<String> = HashSet::new();
    let mut coverage = [Coverage::default(), Coverage::default()];
    let mut store_error = None;
    std::thread::scope(|scope| {
        let (plan, shared, counters, stop) = (&plan, &shared, &counters, &*stop);
        let workers = scope.spawn(move || {
            let covs = std::sync::Mutex::new(Vec::new());
            pool.scope(|s| {
                for _ in 0..jobs {
                    let tx = tx.clone();
                    let covs = &covs;
                    s.spawn(move |_| {
                        let c = campaign::worker(plan, shared, counters, stop, started, tx);
                        covs.lock().unwrap().push(c);
                    });
                }
            });
            drop(tx);
            covs.into_inner().unwrap()
        });
        // The writer: this thread records findings as they come and draws the progress.
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(f) => {
                    // The campaign's first case of each signature (one per signature: the
                    // workers share what they have handled), original and minimised.
                    match store_finding(&mut store, run_id, &f, FoundBy::Campaign) {
                        Ok(case_id) => {
                            let first_in_run = run_sigs.insert(f.signature.clone());
                            if !a.json {
                                // Reported only once stored: a killed campaign has every
                                // case it printed in the database.
                                let line = format!(
                                    "stored case {case_id}: {}{}",
                                    f.signature,
                                    f.rule
                                        .as_ref()
                                        .map_or(String::new(), |r| format!(" (expected: {r})"))
                                );
                                if bar.is_hidden() {
                                    println!("{line}");
                                } else {
                                    bar.println(line);
                                }
                            }
                            let smaller = found
                                .iter()
                                .position(|x| x.signature == f.signature)
                                .filter(|&i| found[i].ops > f.minimised.ops.len());
                            if let Some(i) = smaller {
                                found.remove(i);
                            } else if !first_in_run {
                                continue;
                            }
                            found.push(FoundSig {
                                new: !known.contains(&f.signature),
                                signature: f.signature,
                                rule: f.rule,
                                case_id,
                                ops: f.minimised.ops.len(),
                                original_ops: f.original.ops.len(),
                                found_by_sweep: f.swept,
                                case_index: f.index,
                            });
                        }
                        Err(e) => {
                            store_error = Some(e);
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            update_bar(&bar, counters, started, run_sigs.len(), &limit);
        }
        for c in workers.join().expect("campaign worker panicked") {
            coverage[0].add(&c[0]);
            coverage[1].add(&c[1]);
        }
    });
    bar.finish_and_clear();
    if let Some(e) = store_error {
        return Err(e.context("recording a finding"));
    }
    let elapsed = started.elapsed();
    let cases = counters.cases.load(Ordering::Relaxed);
    let ops = counters.ops.load(Ordering::Relaxed);
    let new_sigs = found.iter().filter(|f| f.new).count();
    let new_unexpected = found.iter().filter(|f| f.new && f.rule.is_none()).count();
    store.finish_run(
        run_id,
        &RunTotals {
            cases_executed: cases,
            operations: ops,
            elapsed,
            new_signatures: new_sigs as u64,
            divergences: counters.divergences.load(Ordering::Relaxed),
            extra: Some(serde_json::json!({
                "coverage": coverage_json(a.designs, &coverage),
                "sweep": {
                    "swept_cases": counters.sweeps.load(Ordering::Relaxed),
                    "variants": counters.variants.load(Ordering::Relaxed),
                    "operations": counters.sweep_ops.load(Ordering::Relaxed),
                },
                "step_combinations": shared.novelty.len(),
            })),
        },
    )?;
    found.sort_by(|a, b| (a.rule.is_some(), &a.signature).cmp(&(b.rule.is_some(), &b.signature)));
    let secs = elapsed.as_secs_f64().max(1e-9);
    let summary = Summary {
        run_id,
        db: a.db.display().to_string(),
        seed,
        shard: format!("{}/{}", a.shard.0, a.shard.1),
        jobs,
        seconds: secs,
        cases,
        operations: ops,
        cases_per_sec: cases as f64 / secs,
        ops_per_sec: ops as f64 / secs,
        divergences: counters.divergences.load(Ordering::Relaxed),
        swept_cases: counters.sweeps.load(Ordering::Relaxed),
        sweep_variants: counters.variants.load(Ordering::Relaxed),
        sweep_operations: counters.sweep_ops.load(Ordering::Relaxed),
        step_combinations: shared.novelty.len(),
        signatures: found.len(),
        new_signatures: new_sigs,
        new_unexpected,
        found,
        interrupted: stop.load(Ordering::SeqCst),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(if new_unexpected > 0 {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_bar(limit: &Limit, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = match limit {
        Limit::Cases(n) => ProgressBar::new(*n),
        Limit::Time(d) => ProgressBar::new(d.as_secs().max(1)),
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {msg}")
            .expect("valid progress template"),
    );
    bar
}

fn update_bar(bar: &ProgressBar, c: &Counters, started: Instant, sigs: usize, limit: &Limit) {
    let cases = c.cases.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    match limit {
        Limit::Cases(_) => bar.set_position(cases),
        Limit::Time(_) => bar.set_position(started.elapsed().as_secs()),
    }
    bar.set_message(format!(
        "{cases} cases  {:.0} cases/s  {:.0} ops/s  {} divergences  {sigs} signatures",
        cases as f64 / secs,
        c.ops.load(Ordering::Relaxed) as f64 / secs,
        c.divergences.load(Ordering::Relaxed),
    ));
}

/// Model coverage of the run: how often each kernel-named step was reached, per model.
pub fn coverage_json(pair: Pair, c: &[Coverage; 2]) -> serde_json::Value {
    serde_json::to_value(pair.coverage_table(c)).expect("a map of counts serialises")
}

fn print_summary(s: &Summary) {
    println!(
        "cgdiff fuzz: run {} into {}{}",
        s.run_id,
        s.db,
        if s.interrupted { " (interrupted)" } else { "" }
    );
    println!(
        "  seed {} shard {} jobs {}  {:.1} s  {} cases ({:.0}/s)  {} model operations ({:.0}/s)",
        s.seed, s.shard, s.jobs, s.seconds, s.cases, s.cases_per_sec, s.operations, s.ops_per_sec
    );
    println!(
        "  {} divergent cases, {} swept; {} signatures this run, {} new, {} new and unexpected",
        s.divergences, s.swept_cases, s.signatures, s.new_signatures, s.new_unexpected
    );
    println!(
        "  distinct behaviours: {} signatures, {} step combinations; fault sweep: {} variants, \
         {} of the model operations",
        s.signatures, s.step_combinations, s.sweep_variants, s.sweep_operations
    );
    if !s.found.is_empty() {
        println!();
        println!(
            "  {:<4} {:>6} {:>9}  signature (rule)",
            "new", "case", "ops"
        );
        for f in &s.found {
            println!(
                "  {:<4} {:>6} {:>4}<-{:<3}  {}{}",
                if f.new { "NEW" } else { "" },
                f.case_id,
                f.ops,
                f.original_ops,
                f.signature,
                f.rule
                    .as_ref()
                    .map_or(String::new(), |r| format!("  (expected: {r})"))
            );
        }
        println!();
        println!("  Reproduce with: cgdiff replay CASE --db {}", s.db);
        println!("  Minimize with:  cgdiff minimize CASE --db {}", s.db);
        println!("  Explain with:   cgdiff explain CASE --db {}", s.db);
    }
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
