//! Feature hints for libFuzzer beyond edge coverage.
//!
//! Edge coverage of the models says which branches ran, but not in which combination: a
//! four-stage `prepare_dst` hitting ENOMEM during a `cgroup.procs` write and during a
//! `transfer_tasks` light the same edges. To make libFuzzer keep inputs that reach a new
//! (operation kind × model step × outcome) combination, every migration entry point of each
//! model is wrapped ([`Hinting`]); after each call the steps it reached (the engine's coverage
//! counters before and after) are turned into small indices, and each index calls its own
//! function out of a table of 2048 (`leaf::<N>`). SanitizerCoverage instruments every
//! function's entry, so each distinct value lights its own edge, and that edge's 8-bit counter
//! (how many times the combination happened in one case) adds libFuzzer's hit-count buckets on
//! top. A second table, used by [`hint_verdict`], gives each divergence signature its own edge,
//! so an input that reaches a new signature always enters the corpus.
//!
//! Costs nothing to the engine (it is untouched: `oracle::run_designs` takes any designs) and
//! little to the fuzzer: a copy of the step counters per migration call and an indirect call per
//! step reached.

use cgdiff_engine::case::{Errno, Pid, Target};
use cgdiff_engine::models::Design;
use cgdiff_engine::oracle::{run_designs, Report, RunOptions, Verdict};
use cgdiff_engine::trace::{Coverage, COVERAGE_POINTS};
use cgdiff_engine::world::{CgId, World};
use cgdiff_engine::{Case, Outcome};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the hints are on (`CGDIFF_FUZZ_HINTS=off` turns them off, to measure them).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the hints on or off for this process.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// The coverage point of `cgroup_attach_task_all` (`Step::AttachTaskAll`).
const POINT_ATTACH_TASK_ALL: usize = 3;

/// How a migration entered a model.
#[derive(Clone, Copy)]
enum Entry {
    /// A `tasks` write.
    Task = 0,
    /// A `cgroup.procs` write.
    Process = 1,
    /// One hierarchy of `cgroup_attach_task_all`.
    AttachTaskAll = 2,
    Multi = 3,
    Transfer = 4,
}

const ENTRIES: usize = 5;
const OUTCOMES: usize = 4;

/// Leaves of [`hint`]: every (entry, model, outcome, point) index fits below.
const HINT_LEAVES: usize = 2048;
const _: () = assert!(ENTRIES * 2 * OUTCOMES * COVERAGE_POINTS <= HINT_LEAVES);

fn outcome_bucket(o: Outcome) -> usize {
    match o {
        Outcome::Ok => 0,
        Outcome::Err(Errno::ENOMEM) => 1,
        Outcome::Err(_) => 2,
        Outcome::Hang => 3,
    }
}

thread_local! {
    /// Per model: the `cgroup_attach_task_all` counter when its last migration call began,
    /// to tell a call made by `cgroup_attach_task_all` from a plain `tasks` write.
    static LAST_ATTACH_ALL: [Cell<u64>; 2] = const { [Cell::new(0), Cell::new(0)] };
}

/// A design that hints libFuzzer about every migration call it forwards to `inner`.
pub struct Hinting {
    inner: &'static dyn Design,
    model: usize,
}

impl Hinting {
    fn features(&self, entry: Entry, before: &Coverage, after: &Coverage, outcome: Outcome) {
        if !ENABLED.load(Ordering::Relaxed) {
            return;
        }
        let base = ((entry as usize * 2 + self.model) * OUTCOMES + outcome_bucket(outcome))
            * COVERAGE_POINTS;
        for (point, (a, b)) in after.0.iter().zip(before.0.iter()).enumerate() {
            if a != b {
                hint(base + point);
            }
        }
    }
}

impl Design for Hinting {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn about(&self) -> &'static str {
        self.inner.about()
    }

    fn has_stages(&self) -> bool {
        self.inner.has_stages()
    }

    fn has_point(&self, point: usize) -> bool {
        self.inner.has_point(point)
    }

    fn cgroup_attach_task(
        &self,
        w: &mut World,
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    ) -> Result<(), Errno> {
        let before = w.coverage;
        let all = before.0[POINT_ATTACH_TASK_ALL];
        let from_all = LAST_ATTACH_ALL.with(|l| l[self.model].replace(all) != all);
        let r = self.inner.cgroup_attach_task(w, dst, leader, threadgroup);
        let entry = match (from_all, threadgroup) {
            (true, _) => Entry::AttachTaskAll,
            (false, true) => Entry::Process,
            (false, false) => Entry::Task,
        };
        self.features(entry, &before, &w.coverage, r.into());
        r
    }

    fn migrate_multi(&self, w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno> {
        let before = w.coverage;
        let r = self.inner.migrate_multi(w, dst, targets);
        self.features(Entry::Multi, &before, &w.coverage, r.into());
        r
    }

    fn cgroup_transfer_tasks(&self, w: &mut World, to: CgId, from: CgId) -> Outcome {
        let before = w.coverage;
        let r = self.inner.cgroup_transfer_tasks(w, to, from);
        self.features(Entry::Transfer, &before, &w.coverage, r);
        r
    }
}

/// `oracle::check` on the target's pair ([`crate::pair`]) with every migration call hinted,
/// and the verdict hinted after.
pub fn check(case: &Case) -> Report {
    let [first, second] = crate::pair().0;
    let ds = [
        &Hinting {
            inner: first,
            model: 0,
        } as &dyn Design,
        &Hinting {
            inner: second,
            model: 1,
        },
    ];
    LAST_ATTACH_ALL.with(|l| l.iter().for_each(|c| c.set(0)));
    let report = run_designs(case, ds, RunOptions::default());
    if ENABLED.load(Ordering::Relaxed) {
        hint_verdict(&report.verdict);
    }
    report
}

/// Gives the verdict its own edge: 0 for agreement, one of 255 for the divergence's signature
/// (FNV-1a of its text; a collision only merges two hints).
fn hint_verdict(v: &Verdict) {
    let i = match v.signature() {
        None => 0,
        Some(sig) => {
            let h = sig.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            1 + (h % 255) as usize
        }
    };
    leaf256(i);
}

/// One distinct function per feature value; only its address is ever taken. SanitizerCoverage
/// gives each function's entry block its own counter, so calling `leaf::<N>` lights an edge
/// no other value shares. (A branch tree or a `match` over the index would do the same, but
/// `-sanitizer-coverage-trace-compares` makes every comparison in it a call into libFuzzer,
/// and LLVM may turn a `match` of constants into a lookup table with no distinct blocks.)
#[inline(never)]
fn leaf<const N: usize>() {
    black_box(N);
}

// `HINT_LEAVES_TABLE`: `[leaf::<0>, ..., leaf::<2047>]`; `VERDICT_LEAVES_TABLE`: the next 256
// (written by build.rs).
include!(concat!(env!("OUT_DIR"), "/hint_tables.rs"));

/// Lights the edge of feature `i` (below [`HINT_LEAVES`]).
#[inline]
fn hint(i: usize) {
    HINT_LEAVES_TABLE[i % HINT_LEAVES]();
}

#[inline]
fn leaf256(i: usize) {
    VERDICT_LEAVES_TABLE[i % 256]();
}
