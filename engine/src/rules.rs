//! Expected differences: what the patch set out to change, as named rules recognised by code.
//! A rule is a [`Cause`] like a finding: present when its evidence is, explaining the parts of
//! a divergence it names. A divergence is *expected* when its bucket holds rules only
//! (`crate::findings::triage`). Rules are reported apart, never hidden.

use crate::case::{Errno, OpKind};
use crate::findings::{atoms, Cause, CauseKind, Evidence, Pairs, FOUR, LEGACY, LEGACY_FIRST};
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
pub static RULES: [Cause; 4] = [
    Cause {
        id: "all-or-nothing-on-enomem",
        kind: CauseKind::Rule,
        pairs: LEGACY_FIRST,
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
        pairs: LEGACY_FIRST,
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
    Cause {
        id: "preload-order",
        kind: CauseKind::Rule,
        // v3.15 splices destinations before the sources (`list_splice`), v3.16 after them
        // (`list_splice_tail`), and from v4.11 sources are added at the tail
        // (`list_add_tail`) where v3.x adds them at the head.
        pairs: Pairs::Across(&[
            (&["v3.15"], &["v3.16"]),
            (&["v3.15", "v3.16"], &["v4.15", "v5.19"]),
        ]),
        title: "preload lists in another order",
        reason: "the later designs changed where the preload lists take a css_set (v3.16 \
                 appends destinations after the sources; v4.11 and later add sources at the \
                 tail, not the head): tasksets, task lists, cset_links and the release \
                 notifications of cgroup_migrate_finish's puts come in another order, with the \
                 same elements",
        explains: |i| {
            let mut parts = i.reordered_parts();
            // With an exit between the stages (and the identity check in both designs), the
            // order of the walk also decides whether a source the identity check drops (its
            // last reference gone with the exit) is freed before a later source looks the
            // same set up, which must then allocate it anew (and may meet the allocation
            // fault) and queues its cgroup's release.
            let exit_between = i.exit_between_stages();
            let culled = |m: usize| i.reached(m, crate::trace::Step::PrepareDstSameSet);
            if exit_between && culled(0) && culled(1) {
                parts |= atoms::MIGRATION_EFFECTS | atoms::of(&[Class::Release]);
            }
            parts
        },
        minimal_cases: &["examples/v4.15-sources-at-tail.case"],
    },
    Cause {
        id: "identity-check-moved",
        kind: CauseKind::Rule,
        pairs: Pairs::Across(&[(&["four-stage", "v3.15"], &["v3.16", "v4.15", "v5.19"])]),
        title: "sources already in the destination cgroup pinned too (f817de98)",
        reason: "f817de98 moved the \"nothing to do\" check from cgroup equality in add_src \
                 (which never pins a set already in the destination cgroup) to set identity in \
                 prepare_dst (which pins it, then drops it): when an exit lands between the \
                 stages, the older design lets it free that set (queueing its release, and \
                 allocating the set anew if a target needs it), the newer one keeps it",
        explains: |i| {
            let exit_between = i.exit_between_stages();
            let skipped = |m: usize| i.reached(m, crate::trace::Step::AddSrcSameCgroup);
            if !exit_between || skipped(0) == skipped(1) {
                return 0;
            }
            // A notification one design lost to a silent put is F8's (the newer design pins the
            // set, so its own put, not the exit's, frees it): the rule explains the rest.
            let release = if i.release_silenced[0] || i.release_silenced[1] {
                0
            } else {
                atoms::of(&[Class::Release])
            };
            atoms::MIGRATION_EFFECTS | release
        },
        minimal_cases: &["examples/v3.16-identity-check-moved.case"],
    },
];

/// Looks a rule up by name (for reports and stored cases).
pub fn rule(name: &str) -> Option<&'static Cause> {
    RULES.iter().find(|r| r.id == name)
}
