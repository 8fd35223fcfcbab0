//! `cgdiff bench throughput`: the campaign (src/campaign.rs) on a fixed workload — the same
//! cases — with one worker and with every core, in paired runs; the case store's insert rate
//! with deduplication; and the replay rate of stored cases.

use crate::campaign::{self, Limit, Plan};
use anyhow::{Context, Result};
use cgdiff_corpus::{CaseFilter, FoundBy, NewCase, Recorded, Store};
use cgdiff_engine::{format, gen, oracle};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    cgdiff bench throughput                              20000 cases, 3 pairs of runs\n  \
    cgdiff bench throughput --cases 40000 --seed 3 --jobs 2\n  \
    cgdiff bench throughput --cases 2000 --pairs 1 --json")]
pub struct Args {
    /// Generated cases per campaign run: the fixed workload every configuration does.
    #[arg(long, default_value_t = 20_000)]
    cases: u64,
    /// Pairs of runs (one worker, then `--jobs` workers, alternating which goes first); the
    /// figures are medians over the pairs.
    #[arg(long, default_value_t = 3)]
    pairs: usize,
    /// Workers of the second configuration (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Operations per generated case at most (the campaign's default).
    #[arg(long, default_value_t = 64)]
    max_ops: usize,
    /// Campaign seed.
    #[arg(long, default_value_t = 3)]
    seed: u64,
    /// Records inserted into the store.
    #[arg(long, default_value_t = 5000)]
    records: u64,
    /// Distinct signatures they spread over.
    #[arg(long, default_value_t = 200)]
    signatures: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// One campaign run on the fixed workload, or the medians of one configuration's runs.
#[derive(serde::Serialize)]
struct CampaignRun {
    jobs: usize,
    wall_seconds: f64,
    cases_per_sec: f64,
    /// CPU seconds the process got meanwhile (user + system): below `jobs × wall_seconds`
    /// when other processes share the machine, which caps the scaling.
    cpu_seconds: f64,
    cases: u64,
    model_operations: u64,
    sweep_operations: u64,
    swept_cases: u64,
    sweep_variants: u64,
    signatures: usize,
    step_combinations: usize,
    /// CPU seconds of the busiest worker thread: on idle cores the run would take about
    /// this long, whatever the machine's load now.
    busiest_worker_cpu_seconds: f64,
}

/// CPU time (user + system) of this process so far.
fn process_cpu_secs() -> f64 {
    // SAFETY: getrusage writes one rusage we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn campaign_run(jobs: usize, a: &Args) -> (CampaignRun, std::collections::BTreeSet<String>) {
    let plan = Plan {
        seed: a.seed,
        shard: (0, 1),
        jobs,
        max_ops: a.max_ops,
        limit: Limit::Cases(a.cases),
        pair: Default::default(),
        // The generated stream alone: mutants come from each worker's own corpus, so one
        // worker and N would not run the same work (docs/scale-out.md).
        learning: crate::campaign::Learning::NONE,
    };
    let cpu_start = process_cpu_secs();
    let u = campaign::run_unstored(&plan);
    let cpu = process_cpu_secs() - cpu_start;
    let c = &u.counters;
    let run = CampaignRun {
        jobs,
        wall_seconds: u.wall.as_secs_f64(),
        cases_per_sec: c.cases.load(Ordering::Relaxed) as f64 / u.wall.as_secs_f64().max(1e-9),
        cpu_seconds: cpu,
        cases: c.cases.load(Ordering::Relaxed),
        model_operations: c.ops.load(Ordering::Relaxed),
        sweep_operations: c.sweep_ops.load(Ordering::Relaxed),
        swept_cases: c.sweeps.load(Ordering::Relaxed),
        sweep_variants: c.variants.load(Ordering::Relaxed),
        signatures: u.signatures.len(),
        step_combinations: u.step_combinations,
        busiest_worker_cpu_seconds: u.worker_cpu.iter().copied().fold(0.0, f64::max),
    };
    (run, u.signatures)
}

/// The median (the lower middle of an even count).
/// The lower-middle median ([`super::stats::median`]); 0 for no values.
fn median(v: Vec<f64>) -> f64 {
    super::stats::median(&v).unwrap_or(0.0)
}

fn rate(runs: &[&CampaignRun]) -> CampaignRun {
    let med = |f: &dyn Fn(&CampaignRun) -> f64| median(runs.iter().map(|r| f(r)).collect());
    let wall = med(&|r| r.wall_seconds);
    let cases = runs[0].cases;
    CampaignRun {
        jobs: runs[0].jobs,
        wall_seconds: wall,
        cpu_seconds: med(&|r| r.cpu_seconds),
        cases,
        cases_per_sec: cases as f64 / wall.max(1e-9),
        model_operations: med(&|r| r.model_operations as f64) as u64,
        sweep_operations: med(&|r| r.sweep_operations as f64) as u64,
        swept_cases: med(&|r| r.swept_cases as f64) as u64,
        sweep_variants: med(&|r| r.sweep_variants as f64) as u64,
        signatures: med(&|r| r.signatures as f64) as usize,
        step_combinations: med(&|r| r.step_combinations as f64) as usize,
        busiest_worker_cpu_seconds: med(&|r| r.busiest_worker_cpu_seconds),
    }
}

#[derive(serde::Serialize)]
struct StoreRate {
    records: u64,
    signatures: u64,
    distinct_texts: u64,
    seconds: f64,
    records_per_sec: f64,
    new_signatures: u64,
    new_best: u64,
    duplicates: u64,
}

#[derive(serde::Serialize)]
struct ReplayRate {
    cases: u64,
    seconds: f64,
    cases_per_sec: f64,
    model_operations: u64,
}

/// A store in a fresh temporary file, removed (with its WAL files) when dropped.
struct TempDb(std::path::PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Inserts `records` cases over `signatures` signatures, every case text twice (the second
/// insert is the deduplication path: a hit count bump), then replays every stored case.
fn store_and_replay(a: &Args) -> Result<(StoreRate, ReplayRate)> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let db = TempDb(
        std::env::temp_dir().join(format!("cgdiff-bench-{}-{nanos}.db", std::process::id())),
    );
    let mut store = Store::open(&db.0).with_context(|| format!("{}", db.0.display()))?;
    let distinct = a.records.div_ceil(2).max(1);
    let mut buf = Vec::new();
    let texts: Vec<(String, u32)> = (0..distinct)
        .map(|i| {
            gen::seeded_bytes(i, 1024, &mut buf);
            let c = gen::from_bytes(&buf, a.max_ops);
            (format::print(&c), c.ops.len() as u32)
        })
        .collect();
    let (mut new_sig, mut new_best, mut dup) = (0, 0, 0);
    let t = Instant::now();
    for i in 0..a.records {
        let k = i % distinct;
        let (text, ops) = &texts[k as usize];
        let r = store.record(&NewCase {
            text: text.clone(),
            bytes: None,
            signature: format!("bench/sig-{}/none/diff", k % a.signatures.max(1)),
            classes: vec!["result".into()],
            rule: None,
            bucket: "unlisted".to_string(),
            first_op: 0,
            ops: *ops,
            minimised_from: None,
            found_by: FoundBy::Campaign,
            run_id: None,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: None,
        })?;
        match r {
            Recorded::NewSignature { .. } => new_sig += 1,
            Recorded::NewBest { .. } => new_best += 1,
            Recorded::Duplicate { .. } => dup += 1,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let store_rate = StoreRate {
        records: a.records,
        signatures: a.signatures,
        distinct_texts: distinct,
        seconds: secs,
        records_per_sec: a.records as f64 / secs,
        new_signatures: new_sig,
        new_best,
        duplicates: dup,
    };

    let rows = store.cases(&CaseFilter::default())?;
    let t = Instant::now();
    let mut ops = 0u64;
    for row in &rows {
        let file = format::parse(&row.text)
            .map_err(|e| anyhow::anyhow!("stored case {} does not parse: {e}", row.id))?;
        ops += oracle::run(&file.case, false).ops_executed as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    let replay = ReplayRate {
        cases: rows.len() as u64,
        seconds: secs,
        cases_per_sec: rows.len() as f64 / secs,
        model_operations: ops,
    };
    Ok((store_rate, replay))
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.max_ops == 0 || a.cases == 0 || a.pairs == 0 {
        anyhow::bail!("--max-ops, --cases and --pairs must be positive");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = a.jobs.unwrap_or(cores).max(1);
    let load_before = load_average();
    // Farm-style: each pair runs both configurations back to back on the same cases, the
    // order alternating, so a change in the machine's load hits both sides alike.
    let mut pairs: Vec<(CampaignRun, CampaignRun)> = Vec::new();
    let mut missing = std::collections::BTreeSet::new();
    for p in 0..a.pairs {
        let (one, many) = if p % 2 == 0 {
            let one = campaign_run(1, &a);
            (one, campaign_run(jobs, &a))
        } else {
            let many = campaign_run(jobs, &a);
            (campaign_run(1, &a), many)
        };
        // Every signature one worker finds, `jobs` workers find too (src/campaign.rs).
        missing.extend(one.1.difference(&many.1).cloned());
        pairs.push((one.0, many.0));
    }
    let one = rate(&pairs.iter().map(|p| &p.0).collect::<Vec<_>>());
    let many = rate(&pairs.iter().map(|p| &p.1).collect::<Vec<_>>());
    let speedup = median(
        pairs
            .iter()
            .map(|(o, m)| o.wall_seconds / m.wall_seconds.max(1e-9))
            .collect(),
    );
    let cpu_ratio = median(
        pairs
            .iter()
            .map(|(o, m)| o.cpu_seconds / m.cpu_seconds.max(1e-9))
            .collect(),
    );
    // Load-independent: 1 worker's CPU over the busiest of `jobs` workers' CPU, what the
    // speedup would be on idle cores if nothing but the work's spread limited it.
    let idle_bound = median(
        pairs
            .iter()
            .map(|(o, m)| o.busiest_worker_cpu_seconds / m.busiest_worker_cpu_seconds.max(1e-9))
            .collect(),
    );
    let load_after = load_average();
    let (store, replay) = store_and_replay(&a)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"cores": cores, "jobs": jobs, "cases": a.cases, "pairs": a.pairs,
                "max_ops": a.max_ops, "seed": a.seed, "campaign": [one, many],
                "runs": pairs.iter().flat_map(|(o, m)| [o, m]).collect::<Vec<_>>(),
                "speedup": speedup, "cpu_ratio": cpu_ratio, "idle_cores_bound": idle_bound,
                "missing_signatures": missing, "load_average": [load_before, load_after],
                "store": store, "replay": replay})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "cgdiff bench throughput: the same {} cases (seed {}, max {} ops) with 1 worker and \
         with {jobs}, {} pair{} of runs, medians",
        a.cases,
        a.seed,
        a.max_ops,
        a.pairs,
        if a.pairs == 1 { "" } else { "s" }
    );
    for c in [&one, &many] {
        println!(
            "  {} job{:<2}: {:>6.2} s wall  {:>8.0} cases/s  {} signatures, {} step combinations; \
             {} swept, {} variants; {} model operations ({} in the sweep); {:.1} s CPU = {:.2} \
             cores busy",
            c.jobs,
            if c.jobs == 1 { "" } else { "s" },
            c.wall_seconds,
            c.cases_per_sec,
            c.signatures,
            c.step_combinations,
            c.swept_cases,
            c.sweep_variants,
            c.model_operations,
            c.sweep_operations,
            c.cpu_seconds,
            c.cpu_seconds / c.wall_seconds.max(1e-9)
        );
    }
    println!(
        "  speedup      : {speedup:.2}x wall clock for the same cases, 1 -> {jobs} workers \
         (median of the pairs); A/B cpu {cpu_ratio:.2} (1 worker's CPU over {jobs} workers')"
    );
    println!(
        "  idle cores   : {idle_bound:.2}x at most (1 worker's CPU over the busiest of {jobs} \
         workers' CPU: the speedup an idle machine would allow, whatever the load now)"
    );
    if missing.is_empty() {
        println!("  signatures   : every signature of 1 worker also found by {jobs}");
    } else {
        println!(
            "  signatures   : MISSING with {jobs} workers: {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    println!(
        "  load average : {} before, {} after (other processes on the machine)",
        load_before, load_after
    );
    println!(
        "case store: {} records over {} signatures ({} distinct texts, each recorded twice): \
         {:.0} records/s ({} new signatures, {} new best, {} duplicates)",
        store.records,
        store.signatures,
        store.distinct_texts,
        store.records_per_sec,
        store.new_signatures,
        store.new_best,
        store.duplicates
    );
    println!(
        "replay: {} stored cases parsed and run with full detail: {:.0} cases/s ({} model \
         operations)",
        replay.cases, replay.cases_per_sec, replay.model_operations
    );
    Ok(ExitCode::SUCCESS)
}

/// The 1-, 5- and 15-minute load averages, as /proc/loadavg has them ("" elsewhere).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
