//! v4.15 (January 2018): the four functions as the v4.11+ `cgroup_mgctx` code has them (read
//! from a v4.x `kernel/cgroup/cgroup.c`), and `cgroup_transfer_tasks` skipping `PF_EXITING`
//! tasks (116d2f7496c5 "cgroup: Fix deadlock in cpu hotplug path").
//!
//! - `cgroup_migrate_add_src` puts sources at the **tail** of `preloaded_src_csets`.
//! - `cgroup_migrate_prepare_dst` walks that list, drops identity sources as v3.16 does, and
//!   puts destinations at the tail of a separate `preloaded_dst_csets`, through the same single
//!   `mg_preload_node` per set (a destination whose node is busy is not added, its extra
//!   reference put). On a failed `find_css_set` it returns -ENOMEM at once: the caller's
//!   `cgroup_migrate_finish` cleans both lists.
//! - `cgroup_migrate_finish` splices the source list, then the destination list, onto a local
//!   list (`list_splice_tail_init`) and walks it.
//! - `cgroup_migrate` (`cgroup_migrate_add_task` + `cgroup_migrate_execute`) does v3.15's
//!   list operations.
//!
//! Left out (docs/model-notes.md): `src_cset->dead` (2b021cbf3cb6: a set of a removed cgroup
//! cannot exist in our world), `mg_dst_cgrp` (one destination per migration here), the
//! `ss_mask` of subsystems whose css changes (every controller of the destination's hierarchy
//! here), `cgroup_migrate_vet_dst` (default hierarchy only), and from v4.6 a task's css_set
//! reference being dropped when the task is released rather than in `cgroup_exit`.

use super::four_stage::{DstEvidence, Released};
use super::staged::Stages;
use super::v3_15::cgroup_migrate;
use super::v3_16::{cgroup_migrate_add_src_at, drop_identity_src, staged_point_after_f817, SrcAt};
use crate::case::{Errno, Pid};
use crate::trace::{mark, Step};
use crate::world::{CgId, CsetId, CsetList, World};

pub struct V4_15;

impl Stages for V4_15 {
    const NAME: &'static str = "v4.15";
    const ABOUT: &'static str =
        "v4.15: cgroup_mgctx code (tail-inserted src/dst lists, shared node), transfer skips PF_EXITING (116d2f7496c5)";
    const TRANSFER_SKIPS_EXITING: bool = true;

    fn has_point(point: usize) -> bool {
        staged_point_after_f817(point) || point == Step::TransferSkipExiting(0).point()
    }

    // The cgroup_mgctx add_src, prepare_dst (one shared node) and finish; v3.15's list
    // operations in cgroup_migrate.
    const ADD_SRC: fn(&mut World, CsetId, CgId) = cgroup_migrate_add_src;
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno> =
        |w, dst| cgroup_migrate_prepare_dst(w, dst, DstNode::Shared);
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno> = cgroup_migrate;
    const FINISH: fn(&mut World) = cgroup_migrate_finish;
}

/// Which node of a css_set puts it on `preloaded_dst_csets`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DstNode {
    /// The one `mg_preload_node` the source list also uses (v4.11 … v5.18).
    Shared,
    /// Its own `mg_dst_preload_node` (07fd5b6cdf3c, v5.19).
    Separate,
}

/// `cgroup_migrate_add_src(src_cset, dst_cgrp, mgctx)`: sources at the tail.
pub fn cgroup_migrate_add_src(w: &mut World, src_cset: CsetId, dst_cgrp: CgId) {
    cgroup_migrate_add_src_at(w, src_cset, dst_cgrp, SrcAt::Tail);
}

/// `cgroup_migrate_prepare_dst(mgctx)`: `CsetList::Preloaded` is `preloaded_src_csets`,
/// `CsetList::PreloadedDst` is `preloaded_dst_csets`.
pub fn cgroup_migrate_prepare_dst(
    w: &mut World,
    dst_cgrp: CgId,
    node: DstNode,
) -> Result<(), Errno> {
    w.step(Step::PrepareDst);
    let mut i = 0;
    let mut ev = DstEvidence::new(w);
    while i < w.lists[CsetList::Preloaded as usize].len() {
        let src_cset = w.lists[CsetList::Preloaded as usize][i];
        let Some(dst_cset) = ev.find_css_set(w, src_cset, dst_cgrp) else {
            w.step(Step::PrepareDstEnomem);
            return Err(Errno::ENOMEM);
        };
        if drop_identity_src(w, src_cset, dst_cset) {
            continue;
        }
        ev.found(w, dst_cset);
        w.csets[src_cset as usize].mg_dst_cset = Some(dst_cset);
        let busy = match node {
            DstNode::Shared => w.csets[dst_cset as usize].mg_preload_node.is_some(),
            DstNode::Separate => w.csets[dst_cset as usize].mg_dst_preload_node.is_some(),
        };
        if !busy {
            match node {
                DstNode::Shared => w.preload_node_add_tail(dst_cset, CsetList::PreloadedDst),
                DstNode::Separate => w.dst_preload_node_add_tail(dst_cset, CsetList::PreloadedDst),
            }
        } else {
            w.step(Step::PrepareDstDuplicate);
            if node == DstNode::Shared
                && w.csets[dst_cset as usize].mg_preload_node == Some(CsetList::Preloaded)
            {
                w.mark(mark::DST_NODE_ON_SRC);
            }
            w.put_css_set(dst_cset, false);
        }
        i += 1;
    }
    ev.done(w);
    Ok(())
}

/// `cgroup_migrate_finish(mgctx)` before v5.19: both lists onto a local one, then undo.
pub fn cgroup_migrate_finish(w: &mut World) {
    w.step(Step::MigrateFinish);
    w.splice_preload_lists_tail(CsetList::Preloaded, CsetList::FinishLocal);
    w.splice_preload_lists_tail(CsetList::PreloadedDst, CsetList::FinishLocal);
    while let Some(&cset) = w.lists[CsetList::FinishLocal as usize].first() {
        put_preloaded(w, cset, World::preload_node_del);
    }
}

/// The body of the v4.x `cgroup_migrate_finish` loops: clear the set's migration fields, take
/// it off its list (`list_del_init` of the node `unlink` names) and drop the migration's
/// reference (`put_css_set_locked`).
pub fn put_preloaded(w: &mut World, cset: CsetId, unlink: fn(&mut World, CsetId)) {
    let c = &mut w.csets[cset as usize];
    c.mg_src_cgrp = None;
    c.mg_dst_cset = None;
    let flags = std::mem::take(&mut c.mg_flags);
    unlink(w, cset);
    let watch = Released::before(w, cset, flags);
    w.put_css_set(cset, false);
    watch.after(w);
}
