//! `cgdiff bench` (no subcommand): throughput of the oracle on a fixed, seeded set of generated
//! cases, on one core.

use crate::campaign::thread_cpu_secs;
use anyhow::Result;
use cgdiff_engine::{gen, oracle, Case};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[group(id = "oracle-bench")]
pub struct Args {
    /// Number of generated cases in the fixed set (seeds 0..N).
    #[arg(long, default_value_t = 2000)]
    cases: u64,
    /// Operations per generated case at most.
    #[arg(long, default_value_t = 64)]
    max_ops: usize,
    /// Measure for at least this long (seconds).
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Also measure the minimiser: time to minimise divergent 200-operation cases, and the
    /// median minimised length over the fixed set.
    #[arg(long)]
    minimize: bool,
}

/// The bench's fixed input: the same seeds always give the same cases.
pub fn fixed_cases(n: u64, max_ops: usize) -> Vec<Case> {
    let mut buf = Vec::new();
    (0..n)
        .map(|seed| {
            gen::seeded_bytes(seed, 1024, &mut buf);
            gen::from_bytes(&buf, max_ops)
        })
        .collect()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let cases = fixed_cases(a.cases, a.max_ops);
    let (mut ops, mut done, mut rounds) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let cpu_start = thread_cpu_secs();
    while start.elapsed() < Duration::from_secs_f64(a.secs) || rounds == 0 {
        for c in &cases {
            ops += oracle::check(c).ops_executed as u64;
            done += 1;
        }
        rounds += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    // Rates per second of this thread's CPU time: what one core does, even when other
    // processes share the machine. Wall time is printed beside it.
    let el = (thread_cpu_secs() - cpu_start).max(1e-9);
    let (ops_s, cases_s) = (ops as f64 / el, done as f64 / el);
    if a.json {
        println!(
            "{}",
            serde_json::json!({"cases": done, "model_operations": ops, "seconds": el,
                "model_ops_per_sec": ops_s, "cases_per_sec": cases_s, "threads": 1,
                "wall_seconds": wall})
        );
    } else {
        println!(
            "cgdiff bench: {} generated cases (seeds 0..{}, max {} ops), {} rounds on one core",
            a.cases, a.cases, a.max_ops, rounds
        );
        println!("  model operations/s : {ops_s:>12.0}  (both models + fingerprints + invariants per operation)");
        println!("  cases/s            : {cases_s:>12.0}");
        println!(
            "  mean ops per case  : {:>12.1}  (a case stops at its first divergence)",
            ops as f64 / done as f64
        );
        println!("  measured over {el:.2} s of this thread's CPU time ({wall:.2} s wall)");
    }
    if a.minimize {
        minimizer_figures(&cases, a.json);
    }
    Ok(ExitCode::SUCCESS)
}

/// The upper-middle median (sorts `v`); 0 for no values.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Minimiser figures: long cases (200 operations, diverging at operation 150 or later) and the
/// fixed set's divergent cases.
fn minimizer_figures(cases: &[Case], json: bool) {
    let mut buf = Vec::new();
    let (mut long_ms, mut long_runs) = (Vec::new(), Vec::new());
    let mut seed = 0u64;
    while long_ms.len() < 20 && seed < 200_000 {
        gen::seeded_bytes(seed ^ 0xabcdef, 8192, &mut buf);
        seed += 1;
        let case = gen::from_bytes(&buf, 200);
        if case.ops.len() < 200 {
            continue;
        }
        let Some(d) = oracle::check(&case).verdict.divergence().cloned() else {
            continue;
        };
        if d.op_index < 150 {
            continue;
        }
        let t = Instant::now();
        let (_, stats) = cgdiff_replay::minimize(&case, &d.signature);
        long_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        long_runs.push(stats.runs as f64);
    }
    let mut lens = Vec::new();
    let t = Instant::now();
    for c in cases {
        if let Some(d) = oracle::check(c).verdict.divergence() {
            let (m, _) = cgdiff_replay::minimize(c, &d.signature);
            lens.push(m.ops.len() as f64);
        }
    }
    let per_case_ms = t.elapsed().as_secs_f64() * 1000.0 / lens.len().max(1) as f64;
    let max_ms = long_ms.iter().copied().fold(0.0, f64::max);
    let (med_ms, med_runs, med_len) = (
        median(&mut long_ms),
        median(&mut long_runs),
        median(&mut lens),
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"long_cases": long_ms.len(), "long_median_ms": med_ms,
                "long_max_ms": max_ms, "long_median_oracle_runs": med_runs,
                "set_divergent_cases": lens.len(), "set_median_minimised_ops": med_len,
                "set_mean_ms_per_case": per_case_ms})
        );
    } else {
        println!("minimiser:");
        println!("  {} divergent 200-op cases (diverging at op >= 150): median {med_ms:.1} ms, max {max_ms:.1} ms, median {med_runs:.0} oracle runs", long_ms.len());
        println!("  {} divergent cases of the fixed set: median minimised length {med_len} ops, {per_case_ms:.2} ms each", lens.len());
    }
}
