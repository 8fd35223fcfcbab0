//! A campaign: generate cases from a seeded byte stream, run them through the oracle on every
//! worker, sweep faults over novel cases, minimise each signature's first occurrence and hand
//! it to the store.
//!
//! Case `k` of a run is decoded from `seeded_bytes(case_seed(seed, shard, k))`. Workers claim
//! case numbers from one shared counter, in increasing order, and share what they learn while
//! they run ([`Shared`]): which step combinations have been reached (so a case's fault sweep
//! runs once per campaign, not once per worker) and which signatures have been handled (so each
//! is minimised and stored once per campaign).
//!
//! Determinism. At `--jobs 1` a campaign with `--cases N` is a pure function of the seed: the
//! same cases, sweeps and minimised findings every time. At `--jobs N` the cases run are the
//! same, and the sweeps are a superset of `--jobs 1`'s: case `k` is swept when it is the first
//! case *in case order* to reach its step combination ([`Novelty::first`] keeps the smallest
//! case number per combination, so a later case that got there first because of scheduling
//! does not take the sweep away from the earlier one; it only adds a sweep), or when
//! `k % 64 == 0`. So every signature `--jobs 1` finds, `--jobs N` finds too. What is not
//! deterministic at `--jobs N`: the few extra sweeps such races add, and which case of a
//! signature is minimised and stored (the first one any worker meets).

use cgdiff_engine::findings::Bucket;
use cgdiff_engine::models::Pair;
use cgdiff_engine::mutate::{self, Corpus};
use cgdiff_engine::oracle::{self, Divergence, RunOptions};
use cgdiff_engine::sweep::{Sweeper, Variant};
use cgdiff_engine::trace::Coverage;
use cgdiff_engine::{gen, Case};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes drawn per generated case (more than `max_ops` operations ever need).
pub const CASE_BYTES: usize = 1024;

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
    /// What the campaign learns from (`cgdiff fuzz --learn`): by default nothing.
    pub learning: Learning,
}

/// The parts of the learning campaign, each of which can be switched on (`cgdiff fuzz
/// --learn`, and `bench power`'s `cgdiff-*` finders, which measure what each part buys). Off by
/// default: measured on the deep planted bugs and on the unplanted models, none of them bought
/// anything yet (docs/benchmarks.md, "The learning campaign").
///
/// - `swarm`: half the generated cases draw from a random subset of the operation kinds
///   (`mutate::swarm`), chosen from the case number.
/// - `corpus`: each worker keeps the cases that reached new model-coverage features
///   (`mutate::Corpus`); from case [`LEARN_AFTER`] on, half the case numbers run a mutant of
///   one of them instead of a generated case (operation insert, delete, duplicate, retarget,
///   fault move: `mutate::mutate`), inserted operations coming from that number's generated
///   case.
/// - `splice`: a mutant may also splice two corpus entries, and take inserted operations from
///   another entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learning {
    pub swarm: bool,
    pub corpus: bool,
    pub splice: bool,
}

impl Learning {
    pub const ALL: Learning = Learning {
        swarm: true,
        corpus: true,
        splice: true,
    };
    /// Every case fresh from the generator with the full operation mix (the campaign before
    /// issue 12).
    pub const NONE: Learning = Learning {
        swarm: false,
        corpus: false,
        splice: false,
    };

    /// Parses `none`, `all`, or a comma-separated list of `swarm`, `corpus`, `splice`
    /// (`splice` needs `corpus`).
    pub fn parse(s: &str) -> Result<Learning, String> {
        let mut l = Learning::NONE;
        for part in s.split(',').map(str::trim) {
            match part {
                "none" | "" => {}
                "all" => l = Learning::ALL,
                "swarm" => l.swarm = true,
                "corpus" => l.corpus = true,
                "splice" => l.splice = true,
                other => {
                    return Err(format!(
                        "expected none, all or a list of swarm, corpus, splice; got {other:?}"
                    ))
                }
            }
        }
        if l.splice && !l.corpus {
            return Err("splice needs corpus (it splices corpus entries)".into());
        }
        Ok(l)
    }
}

impl Default for Learning {
    fn default() -> Self {
        Learning::NONE
    }
}

/// Case numbers below this are all generated: the corpus has something to learn from first.
pub const LEARN_AFTER: u64 = 64;

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
    /// The bucket (root cause) of the divergence, decided by the case alone.
    pub bucket: String,
    pub first_op: u32,
    /// Found by the fault sweep rather than by the generated case itself.
    pub swept: bool,
    /// The designs it was found on.
    pub pair: Pair,
}

/// Counters shared by the workers and the progress display.
#[derive(Default)]
pub struct Counters {
    /// Generated cases run.
    pub cases: AtomicU64,
    /// Model operations in all, generated cases and fault sweep together.
    pub ops: AtomicU64,
    /// Of `ops`, those of the fault sweep.
    pub sweep_ops: AtomicU64,
    /// Divergent runs (generated cases and sweep variants).
    pub divergences: AtomicU64,
    /// Cases whose faults were swept.
    pub sweeps: AtomicU64,
    /// Of `cases`, those that were mutants of corpus entries, and those generated from a
    /// swarm subset of the operation kinds ([`Learning`]).
    pub mutants: AtomicU64,
    pub swarmed: AtomicU64,
    /// Sweep variants run (one fault on one migration of a swept case).
    pub variants: AtomicU64,
}

/// What the workers of one campaign share while they run.
pub struct Shared {
    /// The next case number to claim.
    next: AtomicU64,
    pub novelty: Novelty,
    /// Variants (bucket, signature) some worker has already minimised and sent (or is
    /// minimising).
    signatures: Mutex<HashSet<(Bucket, String)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            next: AtomicU64::new(0),
            novelty: Novelty::new(),
            signatures: Mutex::new(HashSet::new()),
        }
    }
}

const NOVELTY_SHARDS: usize = 64;

/// The step combinations reached, each with the smallest case number known to reach it.
/// Sharded by key, so workers seldom wait for each other; and a worker only comes here for a
/// combination it has not met itself (see [`Local`]), which after the first seconds is rare.
pub struct Novelty {
    shards: Vec<Mutex<HashMap<(u64, u64), u64>>>,
}

impl Novelty {
    fn new() -> Novelty {
        Novelty {
            shards: (0..NOVELTY_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    /// Case `k` reached combination `key`. True when no smaller case number is known to reach
    /// it: the first case in case order, whatever order the workers got there in. A case that
    /// is told true and later finds a smaller number beside it was an extra sweep, never a
    /// missing one.
    pub fn first(&self, key: (u64, u64), k: u64) -> bool {
        let h = cgdiff_engine::world::mix(key.0 ^ key.1.rotate_left(29));
        let mut m = self.shards[h as usize % NOVELTY_SHARDS]
            .lock()
            .expect("novelty shard");
        match m.get_mut(&key) {
            Some(first) if *first <= k => false,
            Some(first) => {
                *first = k;
                true
            }
            None => {
                m.insert(key, k);
                true
            }
        }
    }

    /// Distinct step combinations reached.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("novelty shard").len())
            .sum()
    }
}

/// What one worker remembers without asking the others: combinations and signatures it met
/// itself (at smaller case numbers, since a worker claims cases in increasing order), and the
/// coverage of its cases; and its buffers (the case bytes, the sweep's forked session).
pub struct Local {
    keys: HashSet<(u64, u64)>,
    /// Every divergent execution this worker met, by signature then bucket: the run's
    /// occurrences, aggregated here and written once per run (see [`first_of_signature`]).
    pub counts: Counts,
    pub coverage: [Coverage; 2],
    bytes: Vec<u8>,
    sweeper: Sweeper,
    /// The cases this worker ran that reached new model-coverage features ([`Learning`]).
    pub corpus: Corpus,
    /// The buffer mutants are built in.
    mutant: Case,
}

impl Local {
    /// A worker's memory for a campaign on `pair`.
    pub fn new(pair: Pair) -> Self {
        Local {
            keys: HashSet::new(),
            counts: HashMap::new(),
            coverage: Default::default(),
            bytes: Vec::with_capacity(CASE_BYTES),
            sweeper: Sweeper::new(pair, RunOptions::default()),
            corpus: Corpus::default(),
            mutant: Case::default(),
        }
    }
}

/// Divergent executions by signature, then bucket.
pub type Counts = HashMap<String, HashMap<Bucket, u64>>;

impl Local {
    /// Adds another worker's counts to these.
    pub fn merge_counts(&mut self, other: Counts) {
        for (sig, per) in other {
            let mine = self.counts.entry(sig).or_default();
            for (b, n) in per {
                *mine.entry(b).or_default() += n;
            }
        }
    }
}

impl Default for Local {
    fn default() -> Self {
        Local::new(Pair::DEFAULT)
    }
}

/// The seed of case `k`: disjoint streams per shard, stable across versions.
pub fn case_seed(seed: u64, shard: (u64, u64), k: u64) -> u64 {
    let global = k * shard.1 + shard.0;
    cgdiff_engine::world::mix(seed ^ cgdiff_engine::world::mix(global.wrapping_add(1)))
}

/// A case the campaign ran, handed to its [`Goal`].
pub enum Candidate<'a> {
    /// Case `k` as run: generated (with the bytes it came from, when they decode to it
    /// alone: not for a swarm case, whose operation mix is not in the bytes) or a mutant of a
    /// corpus entry (no bytes).
    Generated {
        case: &'a Case,
        bytes: Option<&'a [u8]>,
    },
    /// A fault-sweep variant of generated case `of` (engine/src/sweep.rs).
    Variant {
        of: &'a Case,
        variant: &'a Variant<'a>,
    },
}

impl Candidate<'_> {
    /// The case as run (a variant becomes a case of its own: allocates).
    pub fn to_case(&self) -> Case {
        match self {
            Candidate::Generated { case, .. } => (*case).clone(),
            Candidate::Variant { of, variant } => variant.case(of),
        }
    }
}

/// What counts as found, and what a worker sends when it finds it. `cgdiff fuzz` looks for
/// [`Divergences`]; `cgdiff bench power` runs the same loop looking for the cases whose verdict
/// a planted bug changes (src/cmd/bench/hunt.rs), so the benchmark measures what users run.
pub trait Goal: Sync {
    type Found: Send;

    /// Generated case `k`, or one of its fault-sweep variants, whose first divergence on the
    /// compared designs is `divergence`: `Some` when it counts as found. `counts`: the
    /// divergent executions this worker has met, by variant (see [`first_of_signature`]).
    fn judge(
        &self,
        k: u64,
        candidate: &Candidate,
        divergence: Option<&Divergence>,
        shared: &Shared,
        counts: &mut Counts,
    ) -> Option<Self::Found>;
}

/// `cgdiff fuzz`'s goal: a divergence with a signature the campaign has not met yet,
/// minimised (on `pair`, the designs compared) into a [`Finding`].
pub struct Divergences {
    pub pair: Pair,
}

impl Goal for Divergences {
    type Found = Finding;

    fn judge(
        &self,
        k: u64,
        candidate: &Candidate,
        divergence: Option<&Divergence>,
        shared: &Shared,
        counts: &mut Counts,
    ) -> Option<Finding> {
        let d = divergence?;
        if !first_of_signature(shared, counts, d.bucket, &d.signature) {
            return None;
        }
        Some(match candidate {
            Candidate::Generated { case, bytes } => {
                finding(k, bytes.map(<[u8]>::to_vec), case, d, false, self.pair)
            }
            Candidate::Variant { .. } => finding(k, None, &candidate.to_case(), d, true, self.pair),
        })
    }
}

/// Runs one worker: claims case numbers from `shared` until the limit, `stop`, or the end;
/// sends findings on `out`. Returns what the worker gathered: its model coverage and its
/// occurrence counts.
pub fn worker(
    plan: &Plan,
    shared: &Shared,
    counters: &Counters,
    stop: &AtomicBool,
    started: Instant,
    out: Sender<Finding>,
) -> Local {
    let goal = Divergences { pair: plan.pair };
    worker_for(&goal, plan, shared, counters, stop, started, out)
}

/// [`worker`] looking for `goal`.
pub fn worker_for<G: Goal>(
    goal: &G,
    plan: &Plan,
    shared: &Shared,
    counters: &Counters,
    stop: &AtomicBool,
    started: Instant,
    out: Sender<G::Found>,
) -> Local {
    let mut local = Local::new(plan.pair);
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Limit::Time(d) = plan.limit {
            if started.elapsed() >= d {
                break;
            }
        }
        let k = shared.next.fetch_add(1, Ordering::Relaxed);
        if matches!(plan.limit, Limit::Cases(n) if k >= n) {
            break;
        }
        run_case(goal, k, plan, shared, &mut local, counters, stop, &out);
    }
    local
}

/// Generated case `k`: checked, swept if novel; what counts as found for `goal` (for
/// [`Divergences`]: its new signatures, minimised) is sent on `out`. True when it was swept.
#[allow(clippy::too_many_arguments)]
pub fn run_case<G: Goal>(
    goal: &G,
    k: u64,
    plan: &Plan,
    shared: &Shared,
    local: &mut Local,
    counters: &Counters,
    stop: &AtomicBool,
    out: &Sender<G::Found>,
) -> bool {
    let seed = case_seed(plan.seed, plan.shard, k);
    gen::seeded_bytes(seed, CASE_BYTES, &mut local.bytes);
    // What to learn from, decided by the case number alone ([`Learning`]).
    let mut rng = mutate::Rng::new(cgdiff_engine::world::mix(seed ^ 0x1ea2_4ed5_ca3e_0012));
    let mut opts = gen::GenOptions::for_pair(plan.pair);
    let swarmed = plan.learning.swarm && rng.chance(1, 2);
    if swarmed {
        opts.kinds = mutate::swarm(&mut rng);
        counters.swarmed.fetch_add(1, Ordering::Relaxed);
    }
    let generated = gen::from_bytes_with(&local.bytes, plan.max_ops, opts);
    let learn = plan.learning.corpus && k >= LEARN_AFTER && rng.chance(1, 2);
    let parent = if learn {
        local.corpus.pick(&mut rng)
    } else {
        None
    };
    let mutant = match parent {
        Some(parent) => {
            let donor = match local.corpus.pick(&mut rng) {
                Some(d) if plan.learning.splice && rng.chance(1, 2) => d,
                _ => &generated,
            };
            mutate::mutate(
                parent,
                donor,
                plan.learning.splice,
                opts.exits,
                plan.max_ops,
                &mut rng,
                &mut local.mutant,
            );
            counters.mutants.fetch_add(1, Ordering::Relaxed);
            true
        }
        _ => false,
    };
    let case = if mutant { &local.mutant } else { &generated };
    let report = oracle::check_pair(case, plan.pair);
    if plan.learning.corpus {
        local
            .corpus
            .offer(case, report.ops_executed, &report.coverage);
    }
    counters.cases.fetch_add(1, Ordering::Relaxed);
    counters
        .ops
        .fetch_add(report.ops_executed as u64, Ordering::Relaxed);
    local.coverage[0].add(&report.coverage[0]);
    local.coverage[1].add(&report.coverage[1]);
    let key = (
        coverage_bits(&report.coverage[0]),
        coverage_bits(&report.coverage[1]),
    );
    // Met by this worker before (at a smaller case number): not the first. Otherwise ask.
    let is_novel = local.keys.insert(key) && shared.novelty.first(key, k);
    let divergence = report.verdict.divergence();
    if divergence.is_some() {
        counters.divergences.fetch_add(1, Ordering::Relaxed);
    }
    let candidate = Candidate::Generated {
        case,
        bytes: (!mutant && !swarmed).then_some(&local.bytes[..]),
    };
    if let Some(f) = goal.judge(k, &candidate, divergence, shared, &mut local.counts) {
        let _ = out.send(f);
    }
    // The fault sweep (engine/src/sweep.rs): on the first case to reach a combination of
    // model steps, and on one case in 64 besides.
    let sweep = is_novel || k.is_multiple_of(64);
    if sweep {
        counters.sweeps.fetch_add(1, Ordering::Relaxed);
        let Local {
            sweeper,
            counts,
            mutant: mutant_case,
            ..
        } = local;
        let case = if mutant { &*mutant_case } else { &generated };
        // Counted locally and added once: the shared counters are one cache line.
        let mut divergences = 0u64;
        let swept = sweeper.run(case, |v| {
            if v.divergence.is_some() {
                divergences += 1;
            }
            let variant = Candidate::Variant {
                of: case,
                variant: v,
            };
            if let Some(f) = goal.judge(k, &variant, v.divergence.as_ref(), shared, counts) {
                let _ = out.send(f);
            }
            !stop.load(Ordering::Relaxed)
        });
        counters.ops.fetch_add(swept.ops, Ordering::Relaxed);
        counters.sweep_ops.fetch_add(swept.ops, Ordering::Relaxed);
        counters
            .variants
            .fetch_add(swept.variants, Ordering::Relaxed);
        counters
            .divergences
            .fetch_add(divergences, Ordering::Relaxed);
    }
    sweep
}

/// Counts one divergent execution in variant (`bucket`, `signature`) in a worker's `counts`;
/// true for the campaign's first meeting with it: the caller minimises and sends it.
pub fn first_of_signature(
    shared: &Shared,
    counts: &mut Counts,
    bucket: Bucket,
    signature: &str,
) -> bool {
    if let Some(n) = counts
        .get_mut(signature)
        .and_then(|per| per.get_mut(&bucket))
    {
        *n += 1;
        return false;
    }
    *counts
        .entry(signature.to_string())
        .or_default()
        .entry(bucket)
        .or_default() += 1;
    shared
        .signatures
        .lock()
        .expect("signature set")
        .insert((bucket, signature.to_string()))
}

/// What a campaign without a store did: `bench throughput` and the tests run these.
pub struct Unstored {
    pub counters: Counters,
    /// Every variant met, as `BUCKET SIGNATURE` (each minimised once, then dropped).
    pub signatures: std::collections::BTreeSet<String>,
    pub step_combinations: usize,
    pub wall: Duration,
    /// CPU seconds of each worker thread: how evenly the work was spread, whatever the load.
    pub worker_cpu: Vec<f64>,
}

/// CPU time of the calling thread, in seconds.
pub fn thread_cpu_secs() -> f64 {
    // SAFETY: clock_gettime writes one timespec we own.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// A whole campaign on `plan.jobs` threads, findings minimised (as in `cgdiff fuzz`) and
/// dropped.
pub fn run_unstored(plan: &Plan) -> Unstored {
    let (shared, counters, stop) = (
        Shared::default(),
        Counters::default(),
        AtomicBool::new(false),
    );
    let (tx, rx) = std::sync::mpsc::channel::<Finding>();
    let started = Instant::now();
    let mut signatures = std::collections::BTreeSet::new();
    let worker_cpu = std::thread::scope(|s| {
        let workers: Vec<_> = (0..plan.jobs.max(1))
            .map(|_| {
                let tx = tx.clone();
                let (shared, counters, stop) = (&shared, &counters, &stop);
                s.spawn(move || {
                    let t = thread_cpu_secs();
                    worker(plan, shared, counters, stop, started, tx);
                    thread_cpu_secs() - t
                })
            })
            .collect();
        drop(tx);
        for f in rx {
            signatures.insert(format!("{} {}", f.bucket, f.signature));
        }
        workers
            .into_iter()
            .map(|w| w.join().expect("campaign worker panicked"))
            .collect()
    });
    Unstored {
        wall: started.elapsed(),
        worker_cpu,
        step_combinations: shared.novelty.len(),
        counters,
        signatures,
    }
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
    d: &Divergence,
    swept: bool,
    pair: Pair,
) -> Finding {
    let (minimised, _) = cgdiff_replay::minimize_pair(case, &d.signature, pair);
    Finding {
        index,
        bytes,
        original: case.clone(),
        minimised,
        signature: d.signature.clone(),
        classes: d.classes.names().iter().map(|s| s.to_string()).collect(),
        rule: d.rule.map(str::to_string),
        bucket: d.bucket.name(),
        first_op: d.op_index as u32,
        swept,
        pair,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sweep goes to the first case in case order of each step combination, whatever
    /// order the cases arrive in: a later case may take an extra sweep, never the earlier's.
    #[test]
    fn novelty_keeps_the_first_case_in_case_order_whatever_the_arrival() {
        // Case k reaches combination (k % 7, 0); cases arrive in a scrambled order.
        let key = |k: u64| (k % 7, 0);
        let mut order: Vec<u64> = (0..100).collect();
        order.sort_by_key(|&k| cgdiff_engine::world::mix(k));
        let novelty = Novelty::new();
        let told: HashSet<u64> = order
            .iter()
            .copied()
            .filter(|&k| novelty.first(key(k), k))
            .collect();
        for first in 0..7 {
            assert!(told.contains(&first), "case {first} lost its sweep");
        }
        assert_eq!(novelty.len(), 7);
        // In case order, exactly the first of each.
        let novelty = Novelty::new();
        let told: Vec<u64> = (0..100).filter(|&k| novelty.first(key(k), k)).collect();
        assert_eq!(told, (0..7).collect::<Vec<_>>());
    }

    /// A campaign on the generated stream alone: what sharing guarantees is about the cases
    /// every `--jobs` runs alike (a worker's mutants come from its own corpus).
    fn plan(jobs: usize, cases: u64) -> Plan {
        Plan {
            seed: 3,
            shard: (0, 1),
            jobs,
            max_ops: 64,
            limit: Limit::Cases(cases),
            pair: Pair::DEFAULT,
            learning: Learning::NONE,
        }
    }

    /// The learning campaign is a function of its seed at one worker: two runs mutate the same
    /// corpus entries into the same cases and find the same variants from the same cases; and
    /// it does learn (mutants and swarm cases ran, the corpus grew).
    #[test]
    fn the_learning_campaign_is_deterministic_at_one_worker() {
        let p = Plan {
            learning: Learning::ALL,
            ..plan(1, 1500)
        };
        let once = || {
            let (shared, counters) = (Shared::default(), Counters::default());
            let stop = AtomicBool::new(false);
            let (tx, rx) = std::sync::mpsc::channel();
            let goal = Divergences { pair: p.pair };
            let local = worker_for(&goal, &p, &shared, &counters, &stop, Instant::now(), tx);
            let found: Vec<(String, String, String)> = rx
                .into_iter()
                .map(|f| {
                    (
                        f.signature,
                        cgdiff_engine::format::print(&f.original),
                        cgdiff_engine::format::print(&f.minimised),
                    )
                })
                .collect();
            let corpus: Vec<String> = (0..local.corpus.len())
                .map(|i| cgdiff_engine::format::print(local.corpus.get(i)))
                .collect();
            (found, corpus, counters)
        };
        let (a, ca, na) = once();
        let (b, cb, nb) = once();
        let n = |c: &Counters| {
            [
                &c.cases,
                &c.ops,
                &c.sweeps,
                &c.variants,
                &c.mutants,
                &c.swarmed,
            ]
            .map(|x| x.load(Ordering::Relaxed))
        };
        assert_eq!(n(&na), n(&nb));
        assert!(na.mutants.load(Ordering::Relaxed) > 300, "too few mutants");
        assert!(
            na.swarmed.load(Ordering::Relaxed) > 300,
            "too few swarm cases"
        );
        assert!(ca.len() > 20, "the corpus did not grow: {}", ca.len());
        assert_eq!(ca, cb, "the corpus differs between two runs");
        assert!(a.len() > 10, "too few findings to compare");
        assert_eq!(a, b, "the findings differ between two runs");
    }

    /// What the issue asks of sharing: every signature a one-worker campaign finds on a fixed
    /// set of cases is found with 2 and 8 workers (on threads, as scheduled), and with three
    /// workers whose cases arrive in the worst order (each worker's cases in increasing order,
    /// but the last worker's all before the second's, before the first's), and the sweeps of
    /// one worker are all done again. One minimisation per signature in every case.
    #[test]
    fn every_signature_of_one_worker_is_found_by_more_workers() {
        const CASES: u64 = 2000;
        let one = run_unstored(&plan(1, CASES));
        let swept = |c: &Counters| c.sweeps.load(Ordering::Relaxed);
        assert!(one.signatures.len() > 20, "too few signatures to test with");
        for jobs in [2, 8] {
            let many = run_unstored(&plan(jobs, CASES));
            let missing: Vec<_> = one.signatures.difference(&many.signatures).collect();
            assert!(missing.is_empty(), "--jobs {jobs} missed {missing:?}");
            assert!(swept(&many.counters) >= swept(&one.counters));
        }
        // The worst arrival order, on one thread: first one worker in order (which cases it
        // sweeps), then three.
        let p = plan(3, CASES);
        let run = |workers: u64| {
            let (shared, counters) = (Shared::default(), Counters::default());
            let stop = AtomicBool::new(false);
            let (tx, rx) = std::sync::mpsc::channel();
            let mut swept = HashSet::new();
            for j in (0..workers).rev() {
                let mut local = Local::default();
                for k in (j..CASES).step_by(workers as usize) {
                    if run_case(
                        &Divergences {
                            pair: Pair::DEFAULT,
                        },
                        k,
                        &p,
                        &shared,
                        &mut local,
                        &counters,
                        &stop,
                        &tx,
                    ) {
                        swept.insert(k);
                    }
                }
            }
            drop(tx);
            let found: Vec<String> = rx
                .into_iter()
                .map(|f| format!("{} {}", f.bucket, f.signature))
                .collect();
            (swept, found)
        };
        let (in_order, _) = run(1);
        let (scrambled, found) = run(3);
        let lost: Vec<_> = in_order.difference(&scrambled).collect();
        assert!(
            lost.is_empty(),
            "scrambled arrival lost the sweeps of {lost:?}"
        );
        let distinct: HashSet<&String> = found.iter().collect();
        assert_eq!(distinct.len(), found.len(), "a variant minimised twice");
        let missing: Vec<_> = one
            .signatures
            .iter()
            .filter(|s| !distinct.contains(s))
            .collect();
        assert!(missing.is_empty(), "scrambled arrival missed {missing:?}");
    }

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
