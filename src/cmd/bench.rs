//! `cgdiff bench`: throughput of the oracle on a fixed, seeded set of generated cases.

use anyhow::Result;
use cgdiff_engine::{gen, oracle, Case};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
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
    while start.elapsed() < Duration::from_secs_f64(a.secs) || rounds == 0 {
        for c in &cases {
            ops += oracle::check(c).ops_executed as u64;
            done += 1;
        }
        rounds += 1;
    }
    let el = start.elapsed().as_secs_f64();
    let (ops_s, cases_s) = (ops as f64 / el, done as f64 / el);
    if a.json {
        println!(
            "{}",
            serde_json::json!({"cases": done, "model_operations": ops, "seconds": el,
                "model_ops_per_sec": ops_s, "cases_per_sec": cases_s, "threads": 1})
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
    }
    Ok(ExitCode::SUCCESS)
}
