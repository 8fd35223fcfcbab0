//! v3.16 (August 2014): f817de98513d "cgroup: prepare migration path for unified hierarchy",
//! as in v3.16/v3.17's `kernel/cgroup.c`, on top of v3.15.
//!
//! - `cgroup_migrate_add_src` no longer skips a set whose cgroup is already the destination;
//!   it only skips a set already preloaded.
//! - `cgroup_migrate_prepare_dst` drops a source whose destination is the very same set
//!   (`list_del_init` of its preload node, both references put): the "nothing to do" check
//!   moved from cgroup equality in add_src to set identity here.
//! - The destinations are appended after the sources (`list_splice_tail`).
//! - One `mg_preload_node` per set still serves both the source and the destination role: a
//!   destination whose node is busy is not added again and its extra reference is put. This
//!   is what 07fd5b6cdf3c fixed in v5.19: when the busy node belongs to a source that is then
//!   dropped as an identity migration, the destination ends up on no list, pinned by nothing.
//!
//! `cgroup_migrate` and `cgroup_migrate_finish` are v3.15's. `prepare_dst` taking a NULL
//! destination (each set's default-hierarchy cgroup) and its -EBUSY check on the default
//! hierarchy have no caller in our world (the default hierarchy is never a destination).

use super::four_stage::{
    add_src_warnings, cgroup_migrate_finish, prepare_dst_warning, DstEvidence,
};
use super::staged::Stages;
use super::v3_15::cgroup_migrate;
use crate::case::{Errno, Pid};
use crate::trace::{mark, shared_point, stage_point, Step, INTERLEAVED_EXIT_POINT};
use crate::world::{CgId, CsetId, CsetList, World};

pub struct V3_16;

impl Stages for V3_16 {
    const NAME: &'static str = "v3.16";
    const ABOUT: &'static str =
        "v3.16: f817de98 (identity culling in prepare_dst, one preload node for both lists)";

    fn has_point(point: usize) -> bool {
        staged_point_after_f817(point)
    }

    // f817de98's add_src and prepare_dst; v3.15's cgroup_migrate; the seed's finish.
    const ADD_SRC: fn(&mut World, CsetId, CgId) = cgroup_migrate_add_src;
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno> = cgroup_migrate_prepare_dst;
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno> = cgroup_migrate;
    const FINISH: fn(&mut World) = |w| cgroup_migrate_finish(w, CsetList::Preloaded);
}

/// The coverage points of a design from v3.16 on: the stages less add_src's "already in the
/// destination" branch (gone with f817de98), plus the identity drop, the post_fork skip and
/// the exits between stages.
pub fn staged_point_after_f817(point: usize) -> bool {
    (shared_point(point) || stage_point(point) || point == INTERLEAVED_EXIT_POINT)
        && point != Step::AddSrcSameCgroup.point()
        || point == Step::PrepareDstSameSet.point()
        || point == Step::MigrateSkipUnlinked(0).point()
}

/// `cgroup_migrate_add_src(src_cset, dst_cgrp, preloaded_csets)` after f817de98: no cgroup
/// check, sources at the head (`list_add`).
pub fn cgroup_migrate_add_src(w: &mut World, src_cset: CsetId, dst_cgrp: CgId) {
    cgroup_migrate_add_src_at(w, src_cset, dst_cgrp, SrcAt::Head);
}

/// Where `cgroup_migrate_add_src` puts a source on the preload list: the one line in which
/// v3.16's and v4.11+'s versions differ, as far as our world can tell.
#[derive(Clone, Copy)]
pub enum SrcAt {
    /// `list_add(&src_cset->mg_preload_node, preloaded_csets)` (v3.16).
    Head,
    /// `list_add_tail(&src_cset->mg_preload_node, &mgctx->preloaded_src_csets)` (v4.11 on).
    Tail,
}

/// The body of `cgroup_migrate_add_src` from f817de98 on: skip a set already preloaded, else
/// pin it and put it on the source list at `at`.
pub fn cgroup_migrate_add_src_at(w: &mut World, src_cset: CsetId, dst_cgrp: CgId, at: SrcAt) {
    let src_cgrp = w.cset_cgroup(src_cset, w.cgroups[dst_cgrp as usize].hier);
    if w.csets[src_cset as usize].mg_preload_node.is_some() {
        w.step(Step::AddSrcAlreadyPreloaded);
        return;
    }
    w.step(Step::AddSrc);
    add_src_warnings(w, src_cset);
    w.csets[src_cset as usize].mg_src_cgrp = Some(src_cgrp);
    w.get_css_set(src_cset);
    match at {
        SrcAt::Head => w.preload_node_add(src_cset, CsetList::Preloaded),
        SrcAt::Tail => w.preload_node_add_tail(src_cset, CsetList::Preloaded),
    }
}

/// The part of every `prepare_dst` loop from f817de98 on between `find_css_set` and linking
/// the destination: the `WARN_ON_ONCE`, then "If src cset equals dst, it's noop. Drop the
/// src." (its preload node unlinked, both references put). True when the source was dropped.
pub fn drop_identity_src(w: &mut World, src_cset: CsetId, dst_cset: CsetId) -> bool {
    prepare_dst_warning(w, src_cset, dst_cset);
    if src_cset != dst_cset {
        return false;
    }
    w.step(Step::PrepareDstSameSet);
    w.csets[src_cset as usize].mg_src_cgrp = None;
    // Evidence only: the set leaves the migration here, its flags with it.
    w.csets[src_cset as usize].mg_flags = 0;
    w.preload_node_del(src_cset);
    w.put_css_set(src_cset, false);
    w.put_css_set(dst_cset, false);
    true
}

/// `cgroup_migrate_prepare_dst(dst_cgrp, preloaded_csets)` after f817de98.
pub fn cgroup_migrate_prepare_dst(w: &mut World, dst_cgrp: CgId) -> Result<(), Errno> {
    w.step(Step::PrepareDst);
    // LIST_HEAD(csets) is CsetList::PrepareDst; list_for_each_entry_safe: the body may unlink
    // the current entry (then the next one takes its index).
    let mut i = 0;
    let mut ev = DstEvidence::new(w);
    while i < w.lists[CsetList::Preloaded as usize].len() {
        let src_cset = w.lists[CsetList::Preloaded as usize][i];
        let Some(dst_cset) = ev.find_css_set(w, src_cset, dst_cgrp) else {
            w.step(Step::PrepareDstEnomem);
            // err: cgroup_migrate_finish(&csets)
            cgroup_migrate_finish(w, CsetList::PrepareDst);
            return Err(Errno::ENOMEM);
        };
        if drop_identity_src(w, src_cset, dst_cset) {
            continue;
        }
        ev.found(w, dst_cset);
        w.csets[src_cset as usize].mg_dst_cset = Some(dst_cset);
        if w.csets[dst_cset as usize].mg_preload_node.is_none() {
            w.preload_node_add(dst_cset, CsetList::PrepareDst);
        } else {
            w.step(Step::PrepareDstDuplicate);
            if w.csets[dst_cset as usize].mg_preload_node == Some(CsetList::Preloaded) {
                w.mark(mark::DST_NODE_ON_SRC);
            }
            w.put_css_set(dst_cset, false);
        }
        i += 1;
    }
    ev.done(w);
    // list_splice_tail(&csets, preloaded_csets)
    w.splice_preload_lists_tail(CsetList::PrepareDst, CsetList::Preloaded);
    Ok(())
}
