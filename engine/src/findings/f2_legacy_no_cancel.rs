//! F2 (docs/findings.md): legacy `cgroup_attach_task` never cancels `can_attach` when
//! `find_css_set` fails (`goto out_release_tset`, past `out_cancel_attach`).
//!
//! Evidence: legacy took that path ([`crate::trace::Step::LegacyEnomemNoCancel`]) after the
//! can_attach of a controller that keeps state succeeded ([`mark::UNCANCELLED_CAN_ATTACH`]).
//! It explains the controller state left behind, legacy's broken "controller state back to
//! rest" invariant, and the callbacks (can_attach calls never cancelled, where four-stage,
//! failing in prepare_dst, made none).

use super::{atoms, Cause, CauseKind, Evidence, LEGACY, LEGACY_FIRST};
use crate::observe::Invariant;
use crate::oracle::Class;
use crate::trace::{mark, Step};

pub static CAUSE: Cause = Cause {
    id: "F2",
    kind: CauseKind::Finding,
    pairs: LEGACY_FIRST,
    title: "legacy never cancels can_attach when find_css_set fails",
    reason: "legacy's find_css_set failure jumps to out_release_tset, past out_cancel_attach: \
             cpuset's attach_in_progress stays raised, memory's charge move stays in progress",
    explains: |e: &Evidence| {
        if !e.reached(LEGACY, Step::LegacyEnomemNoCancel)
            || !e.marked(LEGACY, mark::UNCANCELLED_CAN_ATTACH)
        {
            return 0;
        }
        atoms::of(&[Class::Controller, Class::Callbacks, Class::CallbackOrder])
            | atoms::invariants(LEGACY, Invariant::ControllerRest.bit())
    },
    minimal_cases: &["examples/findings/legacy-enomem-no-cancel.case"],
};
