//! Expected differences: what the patch set out to change, as named rules recognised by code.
//! A rule is a [`Cause`] like a finding: present when its evidence is, explaining the parts of
//! a divergence it names. A divergence is *expected* when its bucket holds rules only
//! (`crate::findings::triage`). Rules are reported apart, never hidden.

use crate::case::{Errno, OpKind};
use crate::findings::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY, LEGACY_FOUR_STAGE};
use crate::models::Outcome;
use crate::oracle::Class;

/// Four-stage failed with ENOMEM (its own allocation fault) before doing anything at all: no
/// callback, nothing moved.
fn four_stage_enomem_untouched(i: &Evidence) -> bool {
    i.alloc_fired(FOUR)
        && i.outcomes[FOUR] == Outcome::Err(Errno::ENOMEM)
        && i.unchanged[FOUR]
        && i.callbacks[FOUR] == 0
}

/// Every expected difference cgdiff knows.
pub static RULES: [Cause; 2] = [
    Cause {
        id: "all-or-nothing-on-enomem",
        kind: CauseKind::Rule,
        pairs: LEGACY_FOUR_STAGE,
        title: "all or nothing on ENOMEM",
        reason: "the patch's purpose: a multi-target migrate or transfer_tasks that meets an \
                 allocation failure moves nothing in four-stage (prepare_dst fails before any \
                 migration), while legacy has already moved some targets when it fails (on the \
                 allocation, or on a can_attach it reaches first)",
        explains: |i| {
            // Legacy's own failure may be the allocation, or a can_attach fault its ordering
            // reached first: four-stage never gets that far.
            let present = matches!(i.kind, OpKind::MigrateMulti | OpKind::TransferTasks)
                && four_stage_enomem_untouched(i)
                && matches!(i.outcomes[LEGACY], Outcome::Err(_))
                && i.moved[LEGACY];
            if !present {
                return 0;
            }
            // Legacy's release notifications, as long as four-stage queued none and marked
            // nothing releasable (its own would be another cause's).
            let release = if i.release_touched[FOUR] {
                0
            } else {
                atoms::of(&[Class::Release])
            };
            atoms::MIGRATION_EFFECTS | release
        },
        minimal_cases: &["examples/transfer-enomem.case"],
    },
    Cause {
        id: "enomem-before-side-effects",
        kind: CauseKind::Rule,
        pairs: LEGACY_FOUR_STAGE,
        title: "ENOMEM before side effects",
        reason: "four-stage looks up every destination css_set (prepare_dst) before it touches a \
                 task list or calls a can_attach, so its allocation failure comes first and \
                 leaves no trace, where legacy had already collected tasks (reordering the \
                 css_set's task list) and run can_attach callbacks before failing",
        // attach_task_all may have moved the task on earlier hierarchies in both models before
        // the failing one, so "untouched" is not required here: what marks the rule is that
        // four-stage failed with ENOMEM where legacy had run more callbacks (its can_attach
        // calls) or had reordered lists that four-stage left alone. The parts it explains keep
        // placement and inventory equal.
        explains: |i| {
            let present = i.kind.is_migration()
                && i.alloc_fired(FOUR)
                && i.outcomes[FOUR] == Outcome::Err(Errno::ENOMEM)
                && matches!(i.outcomes[LEGACY], Outcome::Err(_))
                && (i.callbacks[LEGACY] > i.callbacks[FOUR]
                    || (i.unchanged[FOUR] && !i.unchanged[LEGACY]));
            if !present {
                return 0;
            }
            atoms::of(&[
                Class::Result,
                Class::Order,
                Class::Callbacks,
                Class::CallbackOrder,
            ])
        },
        minimal_cases: &[],
    },
];

/// Looks a rule up by name (for reports and stored cases).
pub fn rule(name: &str) -> Option<&'static Cause> {
    RULES.iter().find(|r| r.id == name)
}
