//! `cgdiff fuzz`: a campaign on every core into the case store.

use super::{git_commit, open_store, store_finding, EXIT_DIVERGENCE};
use crate::campaign::{self, Counters, Finding, Limit, Plan, Shared};
use anyhow::{bail, Context, Result};
use cgdiff_corpus::Occurrences;
use cgdiff_corpus::{FoundBy, NewRun, RunKind, RunTotals};
use cgdiff_engine::findings::BucketKind;
use cgdiff_engine::models::Pair;
use cgdiff_engine::trace::Coverage;
use cgdiff_replay::triage::{self, BucketLine, Tally};
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
Exit status: 0 every divergence met is in a known bucket (an expected rule or a finding of \
docs/findings.md; new variants of them included), 1 an unlisted bucket or a regression (a \
bucket replayed as fixed is back), 2 bad input.")]
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
    /// What the campaign learns from: `none` (default: every case fresh from the generator
    /// with the full operation mix), `all`, or a list of `swarm` (a random subset of the
    /// operation kinds per case), `corpus` (mutants of the cases that reached new model
    /// coverage), `splice` (mutants may splice two of them). docs/scale-out.md; what each buys:
    /// docs/benchmarks.md.
    #[arg(long, value_name = "PARTS", default_value = "none", value_parser = campaign::Learning::parse)]
    learn: campaign::Learning,
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
    /// Divergent executions met (generated cases and sweep variants), every one counted in its
    /// bucket.
    divergences: u64,
    swept_cases: u64,
    /// Of `cases`, the mutants of corpus entries and the swarm cases (`--learn`).
    mutant_cases: u64,
    swarm_cases: u64,
    /// Fault-sweep variants run (one fault on one migration of a swept case), and the model
    /// operations they took (part of `operations`).
    sweep_variants: u64,
    sweep_operations: u64,
    /// Distinct combinations of model steps the generated cases reached (the sweep's novelty).
    step_combinations: usize,
    /// Variants (signatures within buckets) met, and of those new to the store.
    signatures: usize,
    new_signatures: usize,
    /// Buckets met, new to the store, unlisted, regressed.
    buckets_met: usize,
    new_buckets: usize,
    unlisted: usize,
    regressed: usize,
    /// Every bucket met, most urgent first, its variants beneath it.
    buckets: Vec<BucketLine>,
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
        learning: a.learn,
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
    // Buckets whose variants were all replayed as fixed: meeting one again is a regression.
    let fixed_before = store.fixed_buckets()?;
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

    let mut tally = Tally::default();
    let mut stored_variants: HashSet<(String, String)> = HashSet::new();
    let mut coverage = [Coverage::default(), Coverage::default()];
    let mut all = campaign::Local::default();
    let mut store_error = None;
    std::thread::scope(|scope| {
        let (plan, shared, counters, stop) = (&plan, &shared, &counters, &*stop);
        let workers = scope.spawn(move || {
            let locals = std::sync::Mutex::new(Vec::new());
            pool.scope(|s| {
                for _ in 0..jobs {
                    let tx = tx.clone();
                    let locals = &locals;
                    s.spawn(move |_| {
                        let l = campaign::worker(plan, shared, counters, stop, started, tx);
                        locals.lock().unwrap().push(l);
                    });
                }
            });
            drop(tx);
            locals.into_inner().unwrap()
        });
        // The writer: this thread records findings as they come and draws the progress.
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(f) => {
                    // The campaign's first case of each variant (the workers share what they
                    // have handled), original and minimised.
                    match store_finding(&mut store, run_id, &f, FoundBy::Campaign) {
                        Ok(st) => {
                            stored_variants.insert((f.bucket.clone(), f.signature.clone()));
                            // One line per bucket new to the store, printed once committed:
                            // "new" was judged inside the write, so concurrent campaigns
                            // never both print it.
                            if st.new_bucket && !a.json {
                                let line = format!(
                                    "new bucket {} ({}): {}, case {}",
                                    f.bucket,
                                    cgdiff_engine::findings::kind_of(&f.bucket).name(),
                                    f.signature,
                                    st.case_id
                                );
                                if bar.is_hidden() {
                                    println!("{line}");
                                } else {
                                    bar.println(line);
                                }
                            }
                            st.tally(&mut tally, &f);
                            tally.origin(&f.bucket, &f.signature, f.index, f.swept);
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
            update_bar(&bar, counters, started, stored_variants.len(), &limit);
        }
        for l in workers.join().expect("campaign worker panicked") {
            coverage[0].add(&l.coverage[0]);
            coverage[1].add(&l.coverage[1]);
            all.merge_counts(l.counts);
        }
    });
    bar.finish_and_clear();
    if let Some(e) = store_error {
        return Err(e.context("recording a finding"));
    }
    let elapsed = started.elapsed();
    let cases = counters.cases.load(Ordering::Relaxed);
    let ops = counters.ops.load(Ordering::Relaxed);
    // Every divergent execution, counted in the workers, written once.
    let mut occ = Vec::new();
    for (sig, per) in &all.counts {
        for (b, &n) in per {
            tally.count(&b.name(), sig, n);
            occ.push(Occurrences {
                signature: sig.clone(),
                bucket: b.name(),
                count: n,
            });
        }
    }
    occ.sort_by(|x, y| (&x.bucket, &x.signature).cmp(&(&y.bucket, &y.signature)));
    store.count_occurrences_at(run_id, &occ, cgdiff_corpus::unix_now())?;
    tally.regressions(&fixed_before);
    let lines = tally.lines();
    let new_sigs: usize = lines.iter().map(|b| b.new_variants).sum();
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
                "learning": {
                    "mutant_cases": counters.mutants.load(Ordering::Relaxed),
                    "swarm_cases": counters.swarmed.load(Ordering::Relaxed),
                },
                "buckets": {
                    "met": lines.len(),
                    "new": lines.iter().filter(|b| b.new).count(),
                    "unlisted": lines.iter().filter(|b| b.kind == BucketKind::Unlisted).count(),
                    "regressed": lines.iter().filter(|b| b.regressed).count(),
                },
            })),
        },
    )?;
    let secs = elapsed.as_secs_f64().max(1e-9);
    let fail = triage::fails(&lines);
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
        mutant_cases: counters.mutants.load(Ordering::Relaxed),
        swarm_cases: counters.swarmed.load(Ordering::Relaxed),
        sweep_variants: counters.variants.load(Ordering::Relaxed),
        sweep_operations: counters.sweep_ops.load(Ordering::Relaxed),
        step_combinations: shared.novelty.len(),
        signatures: lines.iter().map(|b| b.variants.len()).sum(),
        new_signatures: new_sigs,
        buckets_met: lines.len(),
        new_buckets: lines.iter().filter(|b| b.new).count(),
        unlisted: lines
            .iter()
            .filter(|b| b.kind == BucketKind::Unlisted)
            .count(),
        regressed: lines.iter().filter(|b| b.regressed).count(),
        buckets: lines,
        interrupted: stop.load(Ordering::SeqCst),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(if fail {
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
        super::terminal_safe(&s.db),
        if s.interrupted { " (interrupted)" } else { "" }
    );
    println!(
        "  seed {} shard {} jobs {}  {:.1} s  {} cases ({:.0}/s)  {} model operations ({:.0}/s)",
        s.seed, s.shard, s.jobs, s.seconds, s.cases, s.cases_per_sec, s.operations, s.ops_per_sec
    );
    println!(
        "  fault sweep: {} cases, {} variants, {} of the model operations; {} step combinations",
        s.swept_cases, s.sweep_variants, s.sweep_operations, s.step_combinations
    );
    println!(
        "  learning: {} mutants of corpus cases, {} swarm cases",
        s.mutant_cases, s.swarm_cases
    );
    println!(
        "  {} divergent executions in {} buckets ({} variants): {} new buckets, {} new variants; \
         {} unlisted, {} regressed",
        s.divergences,
        s.buckets_met,
        s.signatures,
        s.new_buckets,
        s.new_signatures,
        s.unlisted,
        s.regressed
    );
    if s.buckets.is_empty() {
        return;
    }
    println!();
    println!(
        "  {:<9} {:<34} {:>11} {:>12}  what",
        "", "bucket", "occurrences", "variants"
    );
    for b in &s.buckets {
        let mark = if b.kind == BucketKind::Unlisted {
            "UNLISTED"
        } else if b.regressed {
            "REGRESSED"
        } else if b.new {
            "NEW"
        } else {
            ""
        };
        let variants = if b.new_variants > 0 && !b.new {
            format!("{} ({} new)", b.variants.len(), b.new_variants)
        } else {
            b.variants.len().to_string()
        };
        println!(
            "  {:<9} {:<34} {:>11} {:>12}  {}",
            mark, b.bucket, b.occurrences, variants, b.title
        );
        // Beneath a bucket only what needs a look: every variant of an unlisted or regressed
        // one, the new variants of one known before this run.
        let show_all = b.kind == BucketKind::Unlisted || b.regressed;
        for v in b.variants.iter().filter(|v| show_all || (v.new && !b.new)) {
            println!(
                "  {:<9}   {} {:>8}  {}{}",
                "",
                if v.new { "+" } else { " " },
                v.occurrences,
                v.signature,
                v.case_id
                    .map_or(String::new(), |id| format!("  (case {id})"))
            );
        }
    }
    println!();
    let db = super::shell_quote(&s.db);
    println!("  Every bucket's best case: cgdiff cases list --db {db}");
    println!("  Explain a case:           cgdiff explain CASE --db {db}");
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
