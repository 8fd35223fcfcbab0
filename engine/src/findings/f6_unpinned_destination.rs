//! F6 (docs/findings.md): a destination css_set pinned by nothing (f817de98, v3.16 … v5.18),
//! and the use-after-free of 07fd5b6cdf3c when an exit lands in that window.
//!
//! Evidence, in either design of the pair: the invariant "every set a migration moves tasks
//! into is pinned by it from prepare_dst to finish" ([`Invariant::Pinned`]) or "no freed
//! css_set is used" ([`Invariant::Freed`]) broke. Both are generic invariants, checked after
//! every operation of every design; nothing here knows the shape that breaks them. It explains
//! that model's broken invariants, and what a set freed while in use leaves different: the
//! recorded use-after-free warning, the css_sets, where tasks are, list order and release
//! notifications. Not the result nor the callbacks, except as below.
//!
//! The cause can also show without either invariant breaking: in one model only, `prepare_dst`
//! found a destination's node busy on the source list ([`mark::DST_NODE_ON_SRC`], what the
//! fix's separate nodes remove). From there that model's walk looks sets up and frees them in
//! another order (an allocation fault may then land on another set, or only in one model), so
//! the whole migration's effects are explained, in that case only.
//!
//! Written for every pair that holds a design with one preload node per set (`v3.16`, `v4.15`);
//! between other designs the invariants it reads cannot break, as far as the models go.

use super::{atoms, Atoms, Cause, CauseKind, Evidence, Pairs};
use crate::observe::Invariant;
use crate::oracle::Class;
use crate::trace::mark;

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
        // The cause itself, seen in one model only: its walk left a destination that is also
        // an unvisited source off the destination list. From there the walk differs (the
        // identity check frees that set at once, a later source may look it up again and
        // allocate it anew, where the other design keeps it pinned): so whatever the
        // migration does next may differ, allocation faults landing elsewhere included.
        if e.marked(m, mark::DST_NODE_ON_SRC) && !e.marked(1 - m, mark::DST_NODE_ON_SRC) {
            parts |= atoms::all_invariants(m)
                | atoms::MIGRATION_EFFECTS
                | atoms::of(&[Class::Warning, Class::Release]);
        }
    }
    parts
}

pub static CAUSE: Cause = Cause {
    id: "F6",
    kind: CauseKind::Finding,
    // The designs with one preload node per set for both lists.
    pairs: Pairs::Holding(&["v3.16", "v4.15"]),
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
