//! F5 (docs/findings.md): four-stage builds destinations before the migration can fail
//! (`can_attach`, or a later allocation) and frees them, unused, when it does.
//!
//! Evidence, in four-stage: [`mark::UNUSED_DST_RELEASE`] — `cgroup_migrate_finish` freed a
//! destination built for a source with tasks to move, nothing having moved into it, and that
//! queued the release of a cgroup releasable before the operation. It explains the release
//! notification.

use super::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY_FIRST};
use crate::oracle::Class;
use crate::trace::mark;

pub static CAUSE: Cause = Cause {
    id: "F5",
    kind: CauseKind::Finding,
    pairs: LEGACY_FIRST,
    title:
        "four-stage builds destinations before the migration can fail, and frees them when it does",
    reason: "prepare_dst creates the destination css_sets before any can_attach; when the \
             migration then fails, cgroup_migrate_finish frees them unused, which can empty a \
             releasable cgroup and queue a release notification legacy never sends",
    explains: |e: &Evidence| {
        if !e.marked(FOUR, mark::UNUSED_DST_RELEASE) {
            return 0;
        }
        atoms::of(&[Class::Release])
    },
    minimal_cases: &["examples/findings/four-stage-release-can-attach.case"],
};
