//! F4 (docs/findings.md): four-stage builds the taskset and the task lists in a different
//! order.
//!
//! Evidence, in four-stage: a taskset drew from two or more source css_sets
//! ([`mark::TSET_MULTI_SRC`]: `cgroup_migrate` `list_move`s each source and destination for
//! every task, legacy `list_add`s on first sight), or `prepare_dst` created two or more
//! css_sets at once ([`mark::MULTI_CREATED`]: linked at the head of each cgroup's
//! `cset_links` in preload order, where legacy creates them one attach at a time). It explains
//! list order when the lists differ only in their heads (what this operation put there came in
//! another order, the rest is the same), and callback order when the calls are the same and
//! only tasksets come in another order; nothing else.
//!
//! Between four-stage and a later design (v3.15 and after, which have 1b9aba49's fix: tail
//! operations in `cgroup_migrate`, `cgroup_task_migrate` and `out_release_tset`), the same
//! cause shows as lists, tasksets and release notifications with the same elements in another
//! order: explained as such.

use super::{atoms, Atoms, Cause, CauseKind, Evidence, Pairs, FOUR};
use crate::oracle::Class;
use crate::trace::mark;

fn explains(e: &Evidence) -> Atoms {
    if e.pair == ["legacy", "four-stage"] {
        if !e.marked(FOUR, mark::TSET_MULTI_SRC | mark::MULTI_CREATED) {
            return 0;
        }
        let mut parts = 0;
        if e.order_prefix_only {
            parts |= atoms::of(&[Class::Order]);
        }
        if e.taskset_order_only {
            parts |= atoms::of(&[Class::CallbackOrder]);
        }
        return parts;
    }
    e.reordered_parts()
}

pub static CAUSE: Cause = Cause {
    id: "F4",
    kind: CauseKind::Finding,
    // Legacy or four-stage first (read by position on the default pair; triage mirrors the
    // evidence of the reverse order).
    pairs: Pairs::Exactly(&[
        ["legacy", "four-stage"],
        ["legacy", "v3.15"],
        ["legacy", "v3.16"],
        ["legacy", "v4.15"],
        ["legacy", "v5.19"],
        ["four-stage", "v3.15"],
        ["four-stage", "v3.16"],
        ["four-stage", "v4.15"],
        ["four-stage", "v5.19"],
    ]),
    title: "four-stage builds the taskset and the task lists in a different order",
    reason: "cgroup_migrate list_moves every task's source and destination css_set (last use \
             first) and prepare_dst creates every destination up front (in preload order), so \
             tasksets, task lists and cset_links come out in another order",
    explains,
    minimal_cases: &[
        "examples/findings/attach-taskset-order.case",
        "examples/findings/transfer-link-order.case",
    ],
};
