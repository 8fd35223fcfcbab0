//! The fault sweep forks the session into kept buffers: once the fork has grown, copying the
//! state for a variant allocates nothing; what is left is what the variant's one step
//! allocates (a new css_set's lists, a divergence's signature). Counted with a counting global
//! allocator (this test binary only) against re-running every variant from the start, which
//! builds two worlds per variant. Measured here: about 2 allocations per variant forked,
//! about 160 re-running.

use cgdiff_engine::models::Pair;
use cgdiff_engine::oracle::RunOptions;
use cgdiff_engine::sweep::Sweeper;
use cgdiff_engine::{gen, oracle, Case, FaultPlan};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// Allocations while re-running every variant from the start, as the sweep used to.
fn rerunning(case: &Case, variants: &[(usize, usize)]) -> u64 {
    let before = allocs();
    for &(op, f) in variants {
        let mut v = case.clone();
        for cop in &mut v.ops {
            cop.faults = FaultPlan::default();
        }
        v.ops[op].faults = cgdiff_engine::sweep::fault(f);
        std::hint::black_box(oracle::check_prefix(&v, op + 1));
    }
    allocs() - before
}

#[test]
fn a_warm_sweep_allocates_a_fraction_of_rerunning_each_variant() {
    let mut sweeper = Sweeper::new(Pair::DEFAULT, RunOptions::default());
    let mut bytes = Vec::new();
    let (mut variants, mut forked, mut rerun) = (0u64, 0u64, 0u64);
    for seed in 0..200u64 {
        gen::seeded_bytes(seed, 1024, &mut bytes);
        let case = gen::from_bytes(&bytes, 64);
        // Warm: the fork grows to this case's worlds.
        sweeper.run(&case, |_| true);
        let mut list = Vec::new();
        let mut between = 0u64;
        let mut last = allocs();
        sweeper.run(&case, |v| {
            // Allocations since the previous variant: its copy and its step. A divergent
            // variant's signature and snapshot strings are the step's, and a variant that
            // creates a css_set allocates its task lists as any step would; count them all.
            between += allocs() - last;
            list.push((v.op, v.fault));
            last = allocs();
            true
        });
        variants += list.len() as u64;
        forked += between;
        rerun += rerunning(&case, &list);
    }
    assert!(variants > 2000, "{variants} variants");
    assert!(
        forked * 10 < rerun,
        "forked sweep: {forked} allocations for {variants} variants; re-running: {rerun}"
    );
    eprintln!("{variants} variants: {forked} allocations forked, {rerun} re-running");
}
