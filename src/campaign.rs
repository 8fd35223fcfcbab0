//! A campaign: generate cases from a seeded byte stream, run them through the oracle on every
//! worker, sweep faults over novel cases, minimise each signature's first occurrence and hand
//! it to the store.
//!
//! Determinism: case `k` of a run is decoded from `seeded_bytes(case_seed(seed, shard, k))`.
//! Worker `j` of `jobs` takes cases `j, j+jobs, j+2·jobs, …` and keeps its own set of signatures
//! already handled, so with `--cases N` the same seed and the same jobs give the same cases,
//! the same sweeps and the same minimised findings, whatever the scheduling.

use cgdiff_engine::models::Pair;
use cgdiff_engine::oracle::{self, Verdict};
use cgdiff_engine::trace::Coverage;
use cgdiff_engine::{gen, CanAttachFault, Case, Controller, Errno, FaultPlan};
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
    /// The designs compared (and what the generator may use: exits between stages when both
    /// have them, [`gen::GenOptions::for_pair`]).
    pub pair: Pair,
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
    /// The designs it was found on.
    pub pair: Pair,
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
    let gen_opts = gen::GenOptions::for_pair(plan.pair);
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
        let case = gen::from_bytes_with(&bytes, plan.max_ops, gen_opts);
        let report = oracle::check_pair(&case, plan.pair);
        counters.cases.fetch_add(1, Ordering::Relaxed);
        counters
            .ops
            .fetch_add(report.ops_executed as u64, Ordering::Relaxed);
        coverage[0].add(&report.coverage[0]);
        coverage[1].add(&report.coverage[1]);
        let key = (
            coverage_bits(&report.coverage[0]),
            coverage_bits(&report.coverage[1]),
        );
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
                    plan.pair,
                ));
            }
        }
        // The fault sweep: on cases that reached a combination of model steps this worker had
        // not seen, and on one case in 64 besides.
        if is_novel || k % 64 == j as u64 % 64 {
            counters.sweeps.fetch_add(1, Ordering::Relaxed);
            let mut variants = Sweep::new(&case, plan.pair);
            // Counted locally and added once: the shared counters are one cache line.
            let (mut ops, mut divergences) = (0u64, 0u64);
            while let Some((variant, upto)) = variants.next_variant() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let r = oracle::check_prefix_pair(variant, upto, plan.pair);
                ops += r.ops_executed as u64;
                if let Verdict::Diverge(d) = &r.verdict {
                    divergences += 1;
                    if seen.insert(d.signature.clone()) {
                        let mut c = variant.clone();
                        c.ops.truncate(upto);
                        let _ = out.send(finding(k, None, &c, &r.verdict, true, plan.pair));
                    }
                }
            }
            counters.ops.fetch_add(ops, Ordering::Relaxed);
            counters
                .divergences
                .fetch_add(divergences, Ordering::Relaxed);
        }
        k += plan.jobs as u64;
    }
    coverage
}

/// Which model steps a run reached, one bit per coverage point: the fault sweep's novelty key.
pub fn coverage_bits(c: &Coverage) -> u64 {
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
    pair: Pair,
) -> Finding {
    let d = v.divergence().expect("divergent verdict");
    let (minimised, _) = cgdiff_replay::minimize_pair(case, &d.signature, pair);
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
        pair,
    }
}

/// The kernel's `fail_nth` idea over a case: the allocation fault moved to each allocation
/// point of each migration in turn, then each controller's first can_attach failing in turn.
/// Each variant is the case's fault-free operations up to and including the swept one
/// (nothing after it can change whether that operation diverges first), and only up to the
/// first divergence of the fault-free case (past it, every variant meets that one first).
/// One case is mutated in place: no allocation per variant.
pub struct Sweep {
    case: Case,
    /// Operation indices to sweep.
    targets: Vec<usize>,
    /// Position in `targets`, and which fault of the operation comes next.
    at: usize,
    fault: usize,
}

const CAN_ATTACH_FAULTS: [Controller; 4] = [
    Controller::Cpuset,
    Controller::Cpu,
    Controller::Memory,
    Controller::Blkio,
];

impl Sweep {
    pub fn new(case: &Case, pair: Pair) -> Sweep {
        let mut plain = case.clone();
        for c in &mut plain.ops {
            // Exits between stages are interleavings, not faults: they stay.
            c.faults = FaultPlan {
                exit: c.faults.exit,
                ..FaultPlan::default()
            };
        }
        let last = oracle::check_prefix_pair(&plain, plain.ops.len(), pair)
            .verdict
            .divergence()
            .map_or(plain.ops.len(), |d| d.op_index + 1);
        let targets = (0..last)
            .filter(|&i| plain.ops[i].op.kind().is_migration())
            .collect();
        Sweep {
            case: plain,
            targets,
            at: 0,
            fault: 0,
        }
    }

    /// The next variant and the number of its operations to run.
    pub fn next_variant(&mut self) -> Option<(&Case, usize)> {
        let per_op = SWEEP_ALLOCS as usize + CAN_ATTACH_FAULTS.len();
        if self.fault == per_op {
            let f = &mut self.case.ops[self.targets[self.at]].faults;
            (f.alloc, f.can_attach) = (None, None);
            self.at += 1;
            self.fault = 0;
        }
        let &i = self.targets.get(self.at)?;
        let f = self.fault;
        self.fault += 1;
        let exit = self.case.ops[i].faults.exit;
        self.case.ops[i].faults = if f < SWEEP_ALLOCS as usize {
            FaultPlan {
                alloc: Some(f as u32 + 1),
                can_attach: None,
                exit,
            }
        } else {
            FaultPlan {
                alloc: None,
                can_attach: Some(CanAttachFault {
                    controller: CAN_ATTACH_FAULTS[f - SWEEP_ALLOCS as usize],
                    nth: 1,
                    errno: Errno::EINVAL,
                }),
                exit,
            }
        };
        Some((&self.case, i + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--shard I/N` splits one campaign's case stream: shards 0/2 and 1/2 never draw the same
    /// case, and together they draw exactly the cases of the unsharded campaign, interleaved.
    #[test]
    fn shards_are_disjoint_and_cover_the_unsharded_stream() {
        for seed in [0, 7, u64::MAX] {
            let shard = |i, n, count| -> Vec<u64> {
                (0..count).map(|k| case_seed(seed, (i, n), k)).collect()
            };
            let (a, b, whole) = (shard(0, 2, 1000), shard(1, 2, 1000), shard(0, 1, 2000));
            let sa: HashSet<u64> = a.iter().copied().collect();
            let sb: HashSet<u64> = b.iter().copied().collect();
            assert_eq!(
                (sa.len(), sb.len()),
                (1000, 1000),
                "seeds repeat within a shard"
            );
            assert!(sa.is_disjoint(&sb), "shards 0/2 and 1/2 share a case seed");
            let union: HashSet<u64> = sa.union(&sb).copied().collect();
            assert_eq!(union, whole.iter().copied().collect::<HashSet<u64>>());
            // Case k of shard i/2 is case 2k+i of the whole campaign.
            for k in 0..1000 {
                assert_eq!(a[k], whole[2 * k]);
                assert_eq!(b[k], whole[2 * k + 1]);
            }
            // And the cases themselves (what a campaign runs) follow the seeds.
            let case = |s| {
                let mut bytes = Vec::new();
                gen::seeded_bytes(s, CASE_BYTES, &mut bytes);
                cgdiff_engine::format::print(&gen::from_bytes(&bytes, 64))
            };
            let texts_a: HashSet<String> = a[..50].iter().map(|&s| case(s)).collect();
            let texts_b: HashSet<String> = b[..50].iter().map(|&s| case(s)).collect();
            assert_eq!(case(a[3]), case(whole[6]));
            // Short cases may coincide by chance; distinct seeds must still mostly differ.
            assert!(texts_a.intersection(&texts_b).count() < 5);
        }
    }
}
