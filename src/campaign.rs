//! A campaign: generate cases from a seeded byte stream, run them through the oracle on every
//! worker, sweep faults over novel cases, minimise each signature's first occurrence and hand
//! it to the store.
//!
//! Determinism: case `k` of a run is decoded from `seeded_bytes(case_seed(seed, shard, k))`.
//! Worker `j` of `jobs` takes cases `j, j+jobs, j+2·jobs, …` and keeps its own set of signatures
//! already handled, so with `--cases N` the same seed and the same jobs give the same cases,
//! the same sweeps and the same minimised findings, whatever the scheduling.

use cgdiff_engine::oracle::{self, Verdict};
use cgdiff_engine::trace::Coverage;
use cgdiff_engine::{gen, CanAttachFault, Case, CaseOp, Controller, Errno, FaultPlan};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// Bytes drawn per generated case (more than `max_ops` operations ever need).
pub const CASE_BYTES: usize = 1024;
/// Allocation indices the fault sweep tries on each migration: up to two new css_sets on
/// three mounted hierarchies (1 + 4 allocations each), plus some.
pub const SWEEP_ALLOCS: u32 = 12;

/// What the campaign is asked to do.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    /// (index, count): this process takes the cases `k` with `k % count == index`.
    pub shard: (u64, u64),
    pub jobs: usize,
    pub max_ops: usize,
    pub limit: Limit,
}

#[derive(Clone, Copy, Debug)]
pub enum Limit {
    Cases(u64),
    Time(Duration),
}

/// A divergence worth storing: the minimised case and where it came from.
#[derive(Debug)]
pub struct Finding {
    /// Index of the generated case it came from.
    pub index: u64,
    pub bytes: Option<Vec<u8>>,
    pub original: Case,
    pub minimised: Case,
    pub signature: String,
    pub classes: Vec<String>,
    pub rule: Option<String>,
    pub first_op: u32,
    /// Found by the fault sweep rather than by the generated case itself.
    pub swept: bool,
}

/// Counters shared by the workers and the progress display.
#[derive(Default)]
pub struct Counters {
    pub cases: AtomicU64,
    pub ops: AtomicU64,
    pub divergences: AtomicU64,
    pub sweeps: AtomicU64,
}

/// The seed of case `k`: disjoint streams per shard, stable across versions.
pub fn case_seed(seed: u64, shard: (u64, u64), k: u64) -> u64 {
    let global = k * shard.1 + shard.0;
    cgdiff_engine::world::mix(seed ^ cgdiff_engine::world::mix(global.wrapping_add(1)))
}

/// Runs worker `j`; sends findings on `out`. Returns the worker's model coverage.
pub fn worker(
    j: usize,
    plan: &Plan,
    counters: &Counters,
    stop: &AtomicBool,
    started: Instant,
    out: Sender<Finding>,
) -> [Coverage; 2] {
    let mut seen: HashSet<String> = HashSet::new();
    let mut novel: HashSet<(u64, u64)> = HashSet::new();
    let mut coverage = [Coverage::default(), Coverage::default()];
    let mut bytes = Vec::with_capacity(CASE_BYTES);
    let mut k = j as u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match plan.limit {
            Limit::Cases(n) if k >= n => break,
            Limit::Time(d) if started.elapsed() >= d => break,
            _ => {}
        }
        gen::seeded_bytes(case_seed(plan.seed, plan.shard, k), CASE_BYTES, &mut bytes);
        let case = gen::from_bytes(&bytes, plan.max_ops);
        let report = oracle::check(&case);
        counters.cases.fetch_add(1, Ordering::Relaxed);
        counters
            .ops
            .fetch_add(report.ops_executed as u64, Ordering::Relaxed);
        coverage[0].add(&report.coverage[0]);
        coverage[1].add(&report.coverage[1]);
        let key = (bits(&report.coverage[0]), bits(&report.coverage[1]));
        let is_novel = novel.insert(key);
        if let Verdict::Diverge(d) = &report.verdict {
            counters.divergences.fetch_add(1, Ordering::Relaxed);
            if seen.insert(d.signature.clone()) {
                let _ = out.send(finding(
                    k,
                    Some(bytes.clone()),
                    &case,
                    &report.verdict,
                    false,
                ));
            }
        }
        // The fault sweep: on cases that reached a combination of model steps this worker had
        // not seen, and on one case in 64 besides.
        if is_novel || k % 64 == j as u64 % 64 {
            counters.sweeps.fetch_add(1, Ordering::Relaxed);
            for variant in sweep(&case) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let r = oracle::check(&variant);
                counters
                    .ops
                    .fetch_add(r.ops_executed as u64, Ordering::Relaxed);
                if let Verdict::Diverge(d) = &r.verdict {
                    counters.divergences.fetch_add(1, Ordering::Relaxed);
                    if seen.insert(d.signature.clone()) {
                        let _ = out.send(finding(k, None, &variant, &r.verdict, true));
                    }
                }
            }
        }
        k += plan.jobs as u64;
    }
    coverage
}

fn bits(c: &Coverage) -> u64 {
    c.0.iter()
        .enumerate()
        .fold(0u64, |b, (i, &n)| if n > 0 { b | 1 << i } else { b })
}

/// Minimises a divergent case into a [`Finding`].
pub fn finding(
    index: u64,
    bytes: Option<Vec<u8>>,
    case: &Case,
    v: &Verdict,
    swept: bool,
) -> Finding {
    let d = v.divergence().expect("divergent verdict");
    let (minimised, _) = cgdiff_replay::minimize(case, &d.signature);
    Finding {
        index,
        bytes,
        original: case.clone(),
        minimised,
        signature: d.signature.clone(),
        classes: d.classes.names().iter().map(|s| s.to_string()).collect(),
        rule: d.rule.map(str::to_string),
        first_op: d.op_index as u32,
        swept,
    }
}

/// The kernel's `fail_nth` idea over a case: the allocation fault moved to each allocation
/// point of each migration in turn, then each controller's first can_attach failing in turn.
/// Only the operations up to and including the swept one are kept: nothing after it can change
/// whether that operation diverges first.
pub fn sweep(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let stripped: Vec<CaseOp> = case
        .ops
        .iter()
        .map(|c| CaseOp {
            op: c.op.clone(),
            faults: FaultPlan::default(),
        })
        .collect();
    // Past the first divergence of the fault-free case every variant meets that one first.
    let plain = Case {
        setup: case.setup.clone(),
        ops: stripped.clone(),
    };
    let last = oracle::check(&plain)
        .verdict
        .divergence()
        .map_or(case.ops.len(), |d| d.op_index + 1);
    for (i, cop) in case.ops.iter().enumerate().take(last) {
        if !cop.op.kind().is_migration() {
            continue;
        }
        let with = |faults: FaultPlan| {
            let mut ops = stripped[..=i].to_vec();
            ops[i].faults = faults;
            Case {
                setup: case.setup.clone(),
                ops,
            }
        };
        for n in 1..=SWEEP_ALLOCS {
            out.push(with(FaultPlan {
                alloc: Some(n),
                can_attach: None,
            }));
        }
        for c in Controller::ALL.into_iter().filter(|c| c.has_can_attach()) {
            out.push(with(FaultPlan {
                alloc: None,
                can_attach: Some(CanAttachFault {
                    controller: c,
                    nth: 1,
                    errno: Errno::EINVAL,
                }),
            }));
        }
    }
    out
}
