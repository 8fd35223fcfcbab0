//! F8 (docs/findings.md): an exit that lands between the stages leaves the migration holding
//! the last reference to the exiting task's css_set; the migration's own put then frees it
//! with `taskexit == false`, which under the seed's release rules marks nothing releasable and
//! queues no notification, where the exit's put would have. Every staged design has it; two
//! designs differ in it when they pin different sets (f817de98: v3.16 and later pin a source
//! already in the destination cgroup, which v3.15 skips), or drop them at different stages.
//!
//! Evidence: an exit ran between the stages of the operation (in either model), and a model
//! did not queue a notification the other queued, for a cgroup that a put which was not an
//! exit emptied there (`Evidence::release_silenced`). It explains the release class only.

use super::{atoms, Cause, CauseKind, Evidence, Pairs};
use crate::oracle::Class;

pub static CAUSE: Cause = Cause {
    id: "F8",
    kind: CauseKind::Finding,
    pairs: Pairs::Staged,
    title: "an exit between the stages: the migration's put of its set queues no release \
            notification",
    reason: "when cgroup_exit runs between the stages, the migration may hold the last \
             reference to the exiting task's css_set; its put (taskexit false) frees the set \
             without marking the emptied cgroup releasable, so notify_on_release never fires",
    explains: |e: &Evidence| {
        if !e.exit_between_stages() || !(e.release_silenced[0] || e.release_silenced[1]) {
            return 0;
        }
        atoms::of(&[Class::Release])
    },
    minimal_cases: &["examples/findings/v3.16-exit-between-stages-no-release.case"],
};
