//! F1 (docs/findings.md): `cgroup_transfer_tasks` spins forever when the first task of `from`
//! cannot move (PF_EXITING, or already in `to`), in every design; from v4.15 (116d2f7496c5)
//! only in its second form, because the loop skips PF_EXITING tasks.
//!
//! Evidence: the operation is a transfer and a model's loop ran out of its bound
//! (`Outcome::Hang`).
//! - Both spun: a staged design never reaches `cgroup_migrate_finish`, so its preload
//!   references differ (inventory) and break its refcount and migration-state invariants;
//!   legacy stops between two attaches, breaking only the bound. Nothing else is explained:
//!   both spin on the same task, having moved the same ones.
//! - One spun, the other failed with ENOMEM from its own allocation fault (a staged design
//!   allocates every destination before its loop): everything the spinning one did before it
//!   got stuck is explained, with its bound (and, staged, the preload leftovers).
//! - One spun, the other skipped a PF_EXITING task in its loop (`TransferSkipExiting`, the fix)
//!   and the spinning one did not: everything is explained the same way; this is the fix
//!   showing, between a design before v4.15 and one after.

use super::{atoms, staged, Atoms, Cause, CauseKind, Evidence, Pairs};
use crate::case::{Errno, OpKind};
use crate::models::Outcome;
use crate::observe::Invariant;
use crate::oracle::Class;
use crate::trace::Step;

/// The invariants a spinning model `m` breaks: the bound, and for a staged design the preload
/// references and marks it never drops.
fn spun_bits(e: &Evidence, m: usize) -> u16 {
    let bound = Invariant::Bound.bit();
    if staged(e.pair[m]) {
        bound | Invariant::Refcount.bit() | Invariant::MigrationState.bit()
    } else {
        bound
    }
}

fn explains(e: &Evidence) -> Atoms {
    if e.kind != OpKind::TransferTasks {
        return 0;
    }
    let hung = [
        e.outcomes[0] == Outcome::Hang,
        e.outcomes[1] == Outcome::Hang,
    ];
    match hung {
        // Both spin on the same task; a staged design spins inside its migration, before
        // cgroup_migrate_finish: its preload references and marks stay.
        [true, true] => {
            atoms::of(&[Class::Inventory])
                | atoms::invariants(0, spun_bits(e, 0))
                | atoms::invariants(1, spun_bits(e, 1))
        }
        [true, false] | [false, true] => {
            let (spun, other) = if hung[0] { (0, 1) } else { (1, 0) };
            let skipped = |m: usize| e.reached(m, Step::TransferSkipExiting(0));
            // The other met its allocation fault before its loop got anywhere, so whatever the
            // spinning one moved before it got stuck, the other did not; or the other skipped
            // the exiting task the spinning one is stuck on, and went on.
            let enomem = e.outcomes[other] == Outcome::Err(Errno::ENOMEM) && e.alloc_fired(other);
            let fixed = skipped(other) && !skipped(spun);
            if !enomem && !fixed {
                return 0;
            }
            // Release differences are the spinning one's only if the failed one neither
            // queued a notification nor marked a cgroup releasable; when the other went on,
            // what it moved and released is the fix's doing.
            let release = if enomem && e.release_touched[other] {
                0
            } else {
                atoms::of(&[Class::Release])
            };
            atoms::MIGRATION_EFFECTS | release | atoms::invariants(spun, spun_bits(e, spun))
        }
        [false, false] => 0,
    }
}

pub static CAUSE: Cause = Cause {
    id: "F1",
    kind: CauseKind::Finding,
    pairs: Pairs::Any,
    title: "transfer_tasks spins forever when the first task of `from` cannot move",
    reason: "cgroup_transfer_tasks() picks the first task of `from` again and again when its \
             migration is skipped (PF_EXITING, or already in `to`): a livelock in every design \
             (from v4.15 only for a task already in `to`: 116d2f7496c5 skips PF_EXITING tasks)",
    explains,
    minimal_cases: &[
        "examples/findings/transfer-hang-exiting.case",
        "examples/findings/transfer-hang-same-cgroup.case",
        "examples/findings/v4.15-transfer-skips-exiting.case",
    ],
};
