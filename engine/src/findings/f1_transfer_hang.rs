//! F1 (docs/findings.md): `cgroup_transfer_tasks` spins forever when the first task of `from`
//! cannot move (PF_EXITING, or already in `to`), in both designs.
//!
//! Evidence: the operation is a transfer and a model's loop ran out of its bound
//! (`Outcome::Hang`).
//! - Both spun: four-stage never reaches `cgroup_migrate_finish`, so its preload references
//!   differ (inventory) and break its refcount and migration-state invariants; legacy stops
//!   between two attaches, breaking only the bound. Nothing else is explained: both spin on the
//!   same task, having moved the same ones.
//! - One spun, the other failed with ENOMEM from its own allocation fault (four-stage allocates
//!   every destination before its loop): everything the spinning one did before it got stuck
//!   is explained, with its bound (and, for four-stage, the preload leftovers).

use super::{atoms, Cause, CauseKind, Evidence, FOUR, LEGACY, LEGACY_FOUR_STAGE};
use crate::case::{Errno, OpKind};
use crate::models::Outcome;
use crate::observe::Invariant;
use crate::oracle::Class;

pub static CAUSE: Cause = Cause {
    id: "F1",
    kind: CauseKind::Finding,
    pairs: LEGACY_FOUR_STAGE,
    title: "transfer_tasks spins forever when the first task of `from` cannot move",
    reason: "cgroup_transfer_tasks() picks the first task of `from` again and again when its \
             migration is skipped (PF_EXITING, or already in `to`): a livelock in both designs",
    explains: |e: &Evidence| {
        if e.kind != OpKind::TransferTasks {
            return 0;
        }
        let hung = [
            e.outcomes[0] == Outcome::Hang,
            e.outcomes[1] == Outcome::Hang,
        ];
        let bound = Invariant::Bound.bit();
        match hung {
            // Both spin on the same task. Four-stage spins inside its migration, before
            // cgroup_migrate_finish: its preload references and marks stay.
            [true, true] => {
                atoms::of(&[Class::Inventory])
                    | atoms::invariants(LEGACY, bound)
                    | atoms::invariants(
                        FOUR,
                        bound | Invariant::Refcount.bit() | Invariant::MigrationState.bit(),
                    )
            }
            // One spins; the other met its allocation fault before its loop got anywhere (a
            // four-stage prepare_dst allocates everything first), so whatever the spinning
            // one moved before it got stuck, the other did not.
            [true, false] | [false, true] => {
                let (spun, other) = if hung[0] {
                    (LEGACY, FOUR)
                } else {
                    (FOUR, LEGACY)
                };
                if e.outcomes[other] != Outcome::Err(Errno::ENOMEM) || !e.alloc_fired(other) {
                    return 0;
                }
                let spun_bits = if spun == FOUR {
                    bound | Invariant::Refcount.bit() | Invariant::MigrationState.bit()
                } else {
                    bound
                };
                // Release differences are the spinning one's only if the failed one neither
                // queued a notification nor marked a cgroup releasable.
                let release = if e.release_touched[other] {
                    0
                } else {
                    atoms::of(&[Class::Release])
                };
                atoms::MIGRATION_EFFECTS | release | atoms::invariants(spun, spun_bits)
            }
            [false, false] => 0,
        }
    },
    minimal_cases: &[
        "examples/findings/transfer-hang-exiting.case",
        "examples/findings/transfer-hang-same-cgroup.case",
    ],
};
