//! `cgdiff bench throughput`: the campaign worker (src/campaign.rs) on one core and on every
//! core, the case store's insert rate with deduplication, and the replay rate of stored cases.

use crate::campaign::{self, Counters, Limit, Plan};
use anyhow::{Context, Result};
use cgdiff_corpus::{CaseFilter, FoundBy, NewCase, Recorded, Store};
use cgdiff_engine::{format, gen, oracle};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    cgdiff bench throughput                 10 s of campaign per configuration\n  \
    cgdiff bench throughput --secs 3 --json")]
pub struct Args {
    /// Seconds of campaign for each configuration (1 job, then every core).
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Operations per generated case at most (the campaign's default).
    #[arg(long, default_value_t = 64)]
    max_ops: usize,
    /// Campaign seed.
    #[arg(long, default_value_t = 1)]
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

/// What one campaign configuration did.
#[derive(serde::Serialize)]
struct CampaignRate {
    jobs: usize,
    wall_seconds: f64,
    cases: u64,
    model_operations: u64,
    sweeps: u64,
    cases_per_sec: f64,
    model_ops_per_sec: f64,
    /// CPU seconds the process got meanwhile (user + system): below `jobs × wall_seconds`
    /// when other processes share the machine, which caps the scaling.
    cpu_seconds: f64,
}

/// CPU time (user + system) of this process so far.
fn process_cpu_secs() -> f64 {
    // SAFETY: getrusage writes one rusage we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn campaign_rate(jobs: usize, a: &Args) -> CampaignRate {
    let plan = Plan {
        seed: a.seed,
        shard: (0, 1),
        jobs,
        max_ops: a.max_ops,
        limit: Limit::Time(Duration::from_secs_f64(a.secs)),
        pair: Default::default(),
    };
    let counters = Counters::default();
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel();
    let cpu_start = process_cpu_secs();
    let started = Instant::now();
    std::thread::scope(|s| {
        for j in 0..jobs {
            let tx = tx.clone();
            let (plan, counters, stop) = (&plan, &counters, &stop);
            s.spawn(move || campaign::worker(j, plan, counters, stop, started, tx));
        }
        drop(tx);
        // Findings are minimised by the workers (as in a campaign) and dropped here.
        for _ in rx {}
    });
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_secs() - cpu_start;
    let cases = counters.cases.load(Ordering::Relaxed);
    let ops = counters.ops.load(Ordering::Relaxed);
    CampaignRate {
        jobs,
        wall_seconds: wall,
        cases,
        model_operations: ops,
        sweeps: counters.sweeps.load(Ordering::Relaxed),
        cases_per_sec: cases as f64 / wall,
        model_ops_per_sec: ops as f64 / wall,
        cpu_seconds: cpu,
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
    if a.max_ops == 0 || a.secs <= 0.0 {
        anyhow::bail!("--max-ops and --secs must be positive");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = campaign_rate(1, &a);
    let all = campaign_rate(cores, &a);
    let scaling = all.model_ops_per_sec / one.model_ops_per_sec.max(1e-9);
    let (store, replay) = store_and_replay(&a)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"cores": cores, "max_ops": a.max_ops, "seed": a.seed,
                "campaign": [one, all], "scaling": scaling, "store": store, "replay": replay})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "cgdiff bench throughput: campaign worker (fault sweep and minimisation included), \
         {} s per configuration, max {} ops, seed {}",
        a.secs, a.max_ops, a.seed
    );
    for c in [&one, &all] {
        println!(
            "  {} job{:<2}: {:>11.0} model operations/s  {:>9.0} cases/s  ({:.0} per CPU-second; \
             {} cases, {} sweeps, {:.1} s wall, {:.1} s CPU = {:.2} cores busy)",
            c.jobs,
            if c.jobs == 1 { "" } else { "s" },
            c.model_ops_per_sec,
            c.cases_per_sec,
            c.model_operations as f64 / c.cpu_seconds.max(1e-9),
            c.cases,
            c.sweeps,
            c.wall_seconds,
            c.cpu_seconds,
            c.cpu_seconds / c.wall_seconds
        );
    }
    println!(
        "  scaling      : {scaling:.2}x on {cores} cores (model operations/s, wall clock; \
         {:.2}x per CPU-second granted)",
        (all.model_operations as f64 / all.cpu_seconds.max(1e-9))
            / (one.model_operations as f64 / one.cpu_seconds.max(1e-9))
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "  load average : {} (other processes on the machine)",
            load.join(" ")
        );
    }
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
