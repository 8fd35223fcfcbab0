//! F7 (docs/findings.md): four-stage keeps every source css_set referenced until
//! `cgroup_migrate_finish`, so the sets emptied by a migration are freed there, in preload
//! order, where legacy frees each at the end of its own attach: the same release
//! notifications, queued in another order.
//!
//! Evidence: the models queued the same notifications in another order, and four-stage
//! queued one from a put in `cgroup_migrate_finish` ([`mark::FINISH_RELEASE`]). It explains
//! the release class only.

use super::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY_FIRST};
use crate::oracle::Class;
use crate::trace::mark;

pub static CAUSE: Cause = Cause {
    id: "F7",
    kind: CauseKind::Finding,
    pairs: LEGACY_FIRST,
    title: "four-stage queues release notifications in another order",
    reason: "four-stage drops its references to the source css_sets only in \
             cgroup_migrate_finish, walking the preload list, where legacy drops each one at the \
             end of its own attach: emptied cgroups are queued for release in another order",
    explains: |e: &Evidence| {
        if !e.release_permuted || !e.marked(FOUR, mark::FINISH_RELEASE) {
            return 0;
        }
        atoms::of(&[Class::Release])
    },
    minimal_cases: &["examples/findings/four-stage-release-order.case"],
};
