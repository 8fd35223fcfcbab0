//! The designs under comparison. Each is one module implementing [`Design`]; everything the
//! patch did not touch (css_set lookup, reference counting, fork, exit, mkdir, rmdir,
//! controllers, the task iterator) lives in `world`, `controllers` and `exec` and is shared.
//!
//! A third design (v3.14 as released, v3.15 with its later fixes) is one more module here.

pub mod four_stage;
pub mod legacy;

use crate::case::{Errno, Pid, Target};
use crate::world::{CgId, World};
use serde::Serialize;
use std::fmt;

/// What an operation returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    Ok,
    Err(Errno),
    /// A loop made no progress within its bound: the kernel would be stuck there.
    Hang,
}

impl From<Result<(), Errno>> for Outcome {
    fn from(r: Result<(), Errno>) -> Outcome {
        match r {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Err(e),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("0"),
            Outcome::Err(e) => write!(f, "-{e}"),
            Outcome::Hang => f.write_str("HANG"),
        }
    }
}

/// The entry points where the designs differ. Preconditions are checked before these are
/// called (identically for every design, in `exec`).
pub trait Design: Sync {
    /// Short name used in signatures, traces and reports.
    fn name(&self) -> &'static str;

    /// `cgroup_attach_task(dst_cgrp, leader, threadgroup)`.
    fn cgroup_attach_task(
        &self,
        w: &mut World,
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    ) -> Result<(), Errno>;

    /// Several targets into one cgroup as one operation.
    fn migrate_multi(&self, w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno>;

    /// `cgroup_transfer_tasks(to, from)`.
    fn cgroup_transfer_tasks(&self, w: &mut World, to: CgId, from: CgId) -> Outcome;
}

/// The leader and `threadgroup` flag a target is attached with.
pub fn target_leader(w: &World, t: &Target) -> (Pid, bool) {
    if t.process {
        (w.task(t.pid).leader, true)
    } else {
        (t.pid, false)
    }
}

/// Both designs, in the order the oracle runs them.
pub fn designs() -> [&'static dyn Design; 2] {
    [&legacy::Legacy, &four_stage::FourStage]
}
