//! F6 (docs/findings.md): a destination css_set pinned by nothing (f817de98, v3.16 … v5.18),
//! and the use-after-free of 07fd5b6cdf3c when an exit lands in that window.
//!
//! Evidence, in either design of the pair: the invariant "every set a migration moves tasks
//! into is pinned by it from prepare_dst to finish" ([`Invariant::Pinned`]) or "no freed
//! css_set is used" ([`Invariant::Freed`]) broke. Both are generic invariants, checked after
//! every operation of every design; nothing here knows the shape that breaks them. It explains
//! that model's broken invariants, and what a set freed while in use leaves different: the
//! recorded use-after-free warning, the css_sets, where tasks are, list order and release
//! notifications. Never the result nor the callbacks: a difference there is another cause.
//!
//! Written for every pair that holds a design with one preload node per set (`v3.16`, `v4.15`);
//! between other designs the invariants it reads cannot break, as far as the models go.

use super::{atoms, Atoms, Cause, CauseKind, Evidence};
use crate::observe::Invariant;
use crate::oracle::Class;

const SHARED_NODE: [&str; 2] = ["v3.16", "v4.15"];
const OTHERS: [&str; 4] = ["legacy", "four-stage", "v3.15", "v5.19"];

/// Every ordered pair with at least one design that shares one preload node per set.
const PAIRS: [[&str; 2]; 18] = {
    let mut out = [["", ""]; 18];
    let mut n = 0;
    let mut i = 0;
    while i < SHARED_NODE.len() {
        let mut j = 0;
        while j < OTHERS.len() {
            out[n] = [SHARED_NODE[i], OTHERS[j]];
            out[n + 1] = [OTHERS[j], SHARED_NODE[i]];
            n += 2;
            j += 1;
        }
        i += 1;
    }
    out[n] = [SHARED_NODE[0], SHARED_NODE[1]];
    out[n + 1] = [SHARED_NODE[1], SHARED_NODE[0]];
    out
};

const WINDOW: u16 = Invariant::Pinned.bit() | Invariant::Freed.bit();

fn explains(e: &Evidence) -> Atoms {
    let mut parts = 0;
    for m in 0..2 {
        if e.bad[m] & WINDOW != 0 {
            parts |= atoms::all_invariants(m)
                | atoms::of(&[
                    Class::Warning,
                    Class::Inventory,
                    Class::Placement,
                    Class::Order,
                    Class::Release,
                ]);
        }
    }
    parts
}

pub static CAUSE: Cause = Cause {
    id: "F6",
    kind: CauseKind::Finding,
    pairs: &PAIRS,
    title: "a destination pinned by nothing: 07fd5b6cdf3c's use-after-free (v3.16 … v5.18)",
    reason: "with one preload node per css_set for both lists, prepare_dst can leave a \
             destination that is also a source on neither list: nothing the migration holds \
             pins it, and an exit landing between the stages frees it while tasks move in",
    explains,
    minimal_cases: &[
        "examples/findings/v3.16-uaf-exit-between-stages.case",
        "examples/findings/v4.15-uaf-exit-between-stages.case",
        "examples/findings/v3.16-unpinned-destination.case",
    ],
};
