//! F3 (docs/findings.md): four-stage preloads css_sets that have nothing to move (an exiting
//! or zombie target's set, a set of `from` with no live task) and looks up or creates a
//! destination for each.
//!
//! Evidence, in four-stage:
//! - [`mark::IDLE_ENOMEM`]: `prepare_dst` failed on the allocation for an idle source, or
//!   after allocations made for one, where legacy never allocates, and legacy's own allocation
//!   fault never fired (it never made that many allocations). It explains what four-stage
//!   then did not do that legacy did: result, placement, inventory, order, callbacks, release.
//! - [`mark::IDLE_DST_RELEASE`]: `cgroup_migrate_finish` freed the unused destination of an
//!   idle source, queueing the release of a cgroup releasable before the operation. It explains
//!   the release notification.

use super::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY, LEGACY_FIRST};
use crate::oracle::Class;
use crate::trace::mark;

pub static CAUSE: Cause = Cause {
    id: "F3",
    kind: CauseKind::Finding,
    pairs: LEGACY_FIRST,
    title: "four-stage preloads css_sets that have nothing to move",
    reason: "cgroup_migrate_add_src preloads the css_set of every target, exiting or not, and \
             prepare_dst finds or creates a destination for it: an allocation legacy never \
             makes (a spurious ENOMEM) and an unused destination freed at finish (a spurious \
             release notification)",
    explains: |e: &Evidence| {
        let mut parts = 0;
        // An allocation legacy never reached: when legacy's fault fired too, legacy made
        // that many allocations itself, and the idle ones only moved which one failed.
        if e.marked(FOUR, mark::IDLE_ENOMEM) && !e.alloc_fired(LEGACY) {
            parts |= atoms::MIGRATION_EFFECTS;
            // Legacy's notifications, as long as four-stage queued none and marked nothing.
            if !e.release_touched[FOUR] {
                parts |= atoms::of(&[Class::Release]);
            }
        }
        if e.marked(FOUR, mark::IDLE_DST_RELEASE) {
            parts |= atoms::of(&[Class::Release]);
        }
        parts
    },
    minimal_cases: &[
        "examples/findings/four-stage-preloads-exiting.case",
        "examples/findings/four-stage-enomem-exiting.case",
    ],
};
