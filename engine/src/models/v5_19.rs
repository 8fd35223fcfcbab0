//! v5.19 (June 2022): v4.15 with 07fd5b6cdf3c "cgroup: Use separate src/dst nodes when
//! preloading css_sets for migration" (Tejun Heo; `Fixes: f817de98513d`, stable v3.16+).
//!
//! A set has `mg_src_preload_node` (our `mg_preload_node`) for the source list and its own
//! `mg_dst_preload_node` for the destination list, so dropping an identity source no longer
//! takes the set off the destination list: every destination stays pinned until
//! `cgroup_migrate_finish`, which now walks the source list, then the destination list.
//! Everything else is v4.15's (the transfer's `PF_EXITING` skip included).

use super::staged::Stages;
use super::v3_15::cgroup_migrate;
use super::v4_15::{
    cgroup_migrate_add_src, cgroup_migrate_prepare_dst, put_preloaded, DstNode, V4_15,
};
use crate::case::{Errno, Pid};
use crate::trace::Step;
use crate::world::{CgId, CsetId, CsetList, World};

pub struct V5_19;

impl Stages for V5_19 {
    const NAME: &'static str = "v5.19";
    const ABOUT: &'static str = "v5.19: v4.15 with separate src/dst preload nodes (07fd5b6cdf3c)";
    const TRANSFER_SKIPS_EXITING: bool = true;

    fn has_point(point: usize) -> bool {
        V4_15::has_point(point)
    }

    // v4.15's add_src and cgroup_migrate; prepare_dst through the separate destination node,
    // and 07fd5b6cdf3c's finish.
    const ADD_SRC: fn(&mut World, CsetId, CgId) = cgroup_migrate_add_src;
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno> =
        |w, dst| cgroup_migrate_prepare_dst(w, dst, DstNode::Separate);
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno> = cgroup_migrate;
    const FINISH: fn(&mut World) = cgroup_migrate_finish;
}

/// `cgroup_migrate_finish(mgctx)` from v5.19: the source list through the source node, then
/// the destination list through the destination node.
pub fn cgroup_migrate_finish(w: &mut World) {
    w.step(Step::MigrateFinish);
    while let Some(&cset) = w.lists[CsetList::Preloaded as usize].first() {
        put_preloaded(w, cset, World::preload_node_del);
    }
    while let Some(&cset) = w.lists[CsetList::PreloadedDst as usize].first() {
        put_preloaded(w, cset, World::dst_preload_node_del);
    }
}
