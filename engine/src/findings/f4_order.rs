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

use super::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY_FOUR_STAGE};
use crate::oracle::Class;
use crate::trace::mark;

pub static CAUSE: Cause = Cause {
    id: "F4",
    kind: CauseKind::Finding,
    pairs: LEGACY_FOUR_STAGE,
    title: "four-stage builds the taskset and the task lists in a different order",
    reason: "cgroup_migrate list_moves every task's source and destination css_set (last use \
             first) and prepare_dst creates every destination up front (in preload order), so \
             tasksets, task lists and cset_links come out in another order",
    explains: |e: &Evidence| {
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
        parts
    },
    minimal_cases: &[
        "examples/findings/attach-taskset-order.case",
        "examples/findings/transfer-link-order.case",
    ],
};
