//! The patch applied (the `+` side of `shared/seeds/000_4c2f903d33f1de29.txt`), with
//! `cgroup_transfer_tasks` as rewritten by the series' patch 5/5: migration in four stages,
//! `cgroup_migrate_add_src` → `cgroup_migrate_prepare_dst` → `cgroup_migrate` →
//! `cgroup_migrate_finish`, so that every allocation happens before anything moves. The
//! callers of the stages (`cgroup_attach_task`, multi-target, `cgroup_transfer_tasks`) are
//! shared with the later designs: `staged.rs`.

use super::staged::Stages;
use crate::case::{Errno, Pid};
use crate::controllers::{attach_all, can_attach_all, commit};
use crate::planted::Bug;
use crate::trace::{mark, shared_point, stage_point, Step, Warning};
use crate::world::{cset_flag, CgId, CsetId, CsetList, TaskList, World};

pub struct FourStage;

impl Stages for FourStage {
    const NAME: &'static str = "four-stage";
    const ABOUT: &'static str =
        "the Feb 2014 rewrite (seed patch + patch 5/5): add_src / prepare_dst / migrate / finish";

    fn has_point(point: usize) -> bool {
        shared_point(point) || stage_point(point)
    }

    const ADD_SRC: fn(&mut World, CsetId, CgId) = cgroup_migrate_add_src;
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno> = cgroup_migrate_prepare_dst;
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno> = cgroup_migrate;
    const FINISH: fn(&mut World) = |w| cgroup_migrate_finish(w, CsetList::Preloaded);
}

/// `cgroup_migrate_add_src(src_cset, dst_cgrp, preloaded_csets)`.
pub fn cgroup_migrate_add_src(w: &mut World, src_cset: CsetId, dst_cgrp: CgId) {
    let src_cgrp = w.cset_cgroup(src_cset, w.cgroups[dst_cgrp as usize].hier);
    // nothing to do if this cset already belongs to the cgroup
    if src_cgrp == dst_cgrp && !w.bug(Bug::AddSrcSkipsSameCgroupCheck) {
        w.step(Step::AddSrcSameCgroup);
        return;
    }
    if w.csets[src_cset as usize].mg_preload_node.is_some() {
        if !w.bug(Bug::AddSrcSkipsPreloadedCheck) {
            w.step(Step::AddSrcAlreadyPreloaded);
            return;
        }
        // The kernel's list_add would corrupt the list; the model relinks the node instead.
        w.preload_node_del(src_cset);
    }
    w.step(Step::AddSrc);
    add_src_warnings(w, src_cset);
    w.csets[src_cset as usize].mg_src_cgrp = Some(src_cgrp);
    w.get_css_set(src_cset);
    w.preload_node_add(src_cset, CsetList::Preloaded);
}

/// The `WARN_ON`s every `cgroup_migrate_add_src` (the seed's and every later one) makes
/// before it preloads a set.
pub fn add_src_warnings(w: &mut World, src_cset: CsetId) {
    let c = &w.csets[src_cset as usize];
    let (src_set, mg_tasks, mg_node) = (
        c.mg_src_cgrp.is_some(),
        !c.mg_tasks.is_empty(),
        c.mg_node.is_some(),
    );
    if src_set {
        w.warn(Warning::MgSrcCgrpSet);
    }
    if mg_tasks {
        w.warn(Warning::MgTasksNotEmpty);
    }
    if mg_node {
        w.warn(Warning::MgNodeNotEmpty);
    }
}

/// `WARN_ON_ONCE(src_cset->mg_dst_cset || dst_cset->mg_dst_cset)`: every
/// `cgroup_migrate_prepare_dst`, right after `find_css_set`.
pub fn prepare_dst_warning(w: &mut World, src_cset: CsetId, dst_cset: CsetId) {
    if w.csets[src_cset as usize].mg_dst_cset.is_some()
        || w.csets[dst_cset as usize].mg_dst_cset.is_some()
    {
        w.warn(Warning::MgDstCsetSet);
    }
}

/// `cgroup_migrate_prepare_dst(dst_cgrp, preloaded_csets)`: look up and pin the destination of
/// every preloaded source; on failure release the destinations gathered so far.
pub fn cgroup_migrate_prepare_dst(w: &mut World, dst_cgrp: CgId) -> Result<(), Errno> {
    w.step(Step::PrepareDst);
    // LIST_HEAD(csets) is CsetList::PrepareDst.
    let mut i = 0;
    let mut ev = DstEvidence::new(w);
    while i < w.lists[CsetList::Preloaded as usize].len() {
        let src_cset = w.lists[CsetList::Preloaded as usize][i];
        let Some(dst_cset) = ev.find_css_set(w, src_cset, dst_cgrp) else {
            w.step(Step::PrepareDstEnomem);
            // err: cgroup_migrate_finish(&csets)
            if w.bug(Bug::PrepareDstErrorReleasesNewestOnly) {
                if let Some(&newest) = w.lists[CsetList::PrepareDst as usize].first() {
                    w.preload_node_del(newest);
                    w.put_css_set(newest, false);
                }
            } else if !w.bug(Bug::PrepareDstErrorLeaksDsts) {
                cgroup_migrate_finish(w, CsetList::PrepareDst);
            }
            return Err(Errno::ENOMEM);
        };
        prepare_dst_warning(w, src_cset, dst_cset);
        ev.found(w, dst_cset);
        w.csets[src_cset as usize].mg_dst_cset = Some(dst_cset);
        if w.csets[dst_cset as usize].mg_preload_node.is_none() {
            w.preload_node_add(dst_cset, CsetList::PrepareDst);
        } else {
            w.step(Step::PrepareDstDuplicate);
            if !w.bug(Bug::PrepareDstKeepsDuplicateRef) {
                w.put_css_set(dst_cset, false);
            }
        }
        i += 1;
    }
    ev.done(w);
    // list_splice(&csets, preloaded_csets)
    w.splice_lists(CsetList::PrepareDst, CsetList::Preloaded, true);
    Ok(())
}

/// `cgroup_migrate(cgrp, leader, threadgroup)`: never allocates, never touches the preload
/// references.
pub fn cgroup_migrate(
    w: &mut World,
    cgrp: CgId,
    leader: Pid,
    threadgroup: bool,
) -> Result<(), Errno> {
    w.step(Step::Migrate { leader });
    let mut targets = std::mem::take(&mut w.scratch);
    w.migration_targets(leader, threadgroup, &mut targets);
    let mut first_dst = None;
    for &task in &targets {
        // @task either already exited or can't exit until the end
        if w.task(task).pf_exiting() && !w.bug(Bug::MigrateIgnoresExiting) {
            w.step(Step::MigrateSkipExiting(task));
            continue;
        }
        let cset = w.task(task).cset;
        if w.csets[cset as usize].mg_src_cgrp.is_none() && !w.bug(Bug::MigrateIgnoresNotPreloaded) {
            w.step(Step::MigrateSkipNotPreloaded(task));
            continue;
        }
        w.step(Step::MigrateCollect(task));
        w.task_list_move(task, cset, TaskList::MgTasks);
        w.mg_node_move(cset, CsetList::TsetSrc);
        let mut dst_cset = w.csets[cset as usize].mg_dst_cset;
        if w.bug(Bug::MigrateQueuesFirstDstOnly) {
            dst_cset = *first_dst.get_or_insert(dst_cset);
        }
        match dst_cset {
            Some(dst) => w.mg_node_move(dst, CsetList::TsetDst),
            None => w.warn(Warning::NullDstCset),
        }
    }
    w.scratch = targets;

    // methods shouldn't be called if no task is actually migrating
    if w.lists[CsetList::TsetSrc as usize].is_empty() {
        w.step(Step::NothingToMigrate);
        return Ok(());
    }

    let ret = migrate_steps(w, cgrp);
    out_release_tset(w);
    ret
}

/// can_attach, commit, attach: all exits go through `out_release_tset`.
fn migrate_steps(w: &mut World, cgrp: CgId) -> Result<(), Errno> {
    // check that we can legitimately attach to the cgroup (error: out_cancel_attach)
    can_attach_all(w, cgrp)?;
    // Now that we're guaranteed success, proceed to move all tasks: the commit point.
    commit(w);
    // Migration is committed; notify controllers (tset.csets = &tset.dst_csets).
    attach_all(w, cgrp);
    Ok(())
}

/// `out_release_tset:` after the patch: splice back and unlink only; the references and the
/// migration fields belong to the preload list until `cgroup_migrate_finish`.
fn out_release_tset(w: &mut World) {
    w.step(Step::ReleaseTset);
    w.splice_lists(CsetList::TsetDst, CsetList::TsetSrc, false);
    while let Some(&cset) = w.lists[CsetList::TsetSrc as usize].first() {
        if w.bug(Bug::ReleaseSplicesTail) {
            w.splice_mg_tasks_tail_init(cset);
        } else {
            w.splice_mg_tasks_init(cset);
        }
        w.mg_node_del(cset);
    }
}

/// `cgroup_migrate_finish(preloaded_csets)`: undo add_src and prepare_dst.
pub fn cgroup_migrate_finish(w: &mut World, list: CsetList) {
    w.step(Step::MigrateFinish);
    while let Some(&cset) = w.lists[list as usize].first() {
        let last = w.lists[list as usize].len() == 1;
        let keep_src = w.bug(Bug::FinishKeepsSrcCgrp);
        let c = &mut w.csets[cset as usize];
        if !keep_src {
            c.mg_src_cgrp = None;
        }
        c.mg_dst_cset = None;
        let flags = std::mem::take(&mut c.mg_flags);
        w.preload_node_del(cset);
        if !(last && w.bug(Bug::FinishForgetsPut)) {
            let watch = Released::before(w, cset, flags);
            w.put_css_set(cset, w.bug(Bug::FinishPutsAsTaskExit));
            watch.after(w);
        }
    }
}

/// Evidence only (findings), kept by every staged design's `prepare_dst` alike: whether the
/// source being looked up has a task that will move ([`cset_flag::LIVE_TARGET`]), whether an
/// allocation was made for an idle source before a failure ([`mark::IDLE_ENOMEM`]), what each
/// destination was built for (the [`cset_flag::DST`] flags [`Released`] reads in `finish`),
/// and whether two or more sets were created ([`mark::MULTI_CREATED`]). Reads the coverage
/// counters only; changes nothing the models are compared on.
pub struct DstEvidence {
    created_before: u64,
    created: u64,
    live: bool,
    idle_alloc: bool,
}

impl DstEvidence {
    pub fn new(w: &World) -> DstEvidence {
        let created_before = w.coverage.0[Step::FindCssSetCreated.point()];
        DstEvidence {
            created_before,
            created: created_before,
            live: false,
            idle_alloc: false,
        }
    }

    /// `find_css_set(src_cset, dst_cgrp)` for the next source, with the evidence around it:
    /// whether that source has a task to move, and on failure whether an idle source is to
    /// blame ([`mark::IDLE_ENOMEM`]).
    pub fn find_css_set(
        &mut self,
        w: &mut World,
        src_cset: CsetId,
        dst_cgrp: CgId,
    ) -> Option<CsetId> {
        self.live = w.csets[src_cset as usize].mg_flags & cset_flag::LIVE_TARGET != 0;
        self.created = w.coverage.0[Step::FindCssSetCreated.point()];
        let found = w.find_css_set(src_cset, dst_cgrp);
        if found.is_none() && (!self.live || self.idle_alloc) {
            w.mark(mark::IDLE_ENOMEM);
        }
        found
    }

    /// `find_css_set` returned `dst_cset` for the current source.
    pub fn found(&mut self, w: &mut World, dst_cset: CsetId) {
        self.idle_alloc |=
            !self.live && w.coverage.0[Step::FindCssSetCreated.point()] > self.created;
        w.csets[dst_cset as usize].mg_flags |= if self.live {
            cset_flag::DST | cset_flag::DST_LIVE
        } else {
            cset_flag::DST
        };
    }

    /// The walk is over.
    pub fn done(&self, w: &mut World) {
        if w.coverage.0[Step::FindCssSetCreated.point()] >= self.created_before + 2 {
            w.mark(mark::MULTI_CREATED);
        }
    }
}

/// Evidence only: whether a put in `cgroup_migrate_finish` freed a destination nothing moved
/// into, queueing the release of a cgroup that was releasable before (not made so by the put).
pub struct Released {
    mark: u16,
    queued: usize,
    /// Which of the set's cgroups were releasable before the put, by hierarchy.
    releasable: [bool; crate::case::MAX_HIERS],
}

impl Released {
    pub fn before(w: &World, cset: CsetId, flags: u8) -> Released {
        let mut releasable = [false; crate::case::MAX_HIERS];
        let mark = if flags & cset_flag::DST == 0 {
            0
        } else if flags & cset_flag::DST_LIVE == 0 {
            mark::IDLE_DST_RELEASE
        } else {
            mark::UNUSED_DST_RELEASE
        };
        if mark != 0 {
            let c = &w.csets[cset as usize];
            for (h, r) in releasable.iter_mut().enumerate().take(w.n_hiers()) {
                *r = w.cgroups[c.cgrps[h] as usize].releasable;
            }
        }
        Released {
            mark,
            queued: w.release_queued.len(),
            releasable,
        }
    }

    pub fn after(self, w: &mut World) {
        if w.release_queued.len() == self.queued {
            return;
        }
        w.mark(mark::FINISH_RELEASE);
        if self.mark == 0 {
            return;
        }
        let was_releasable = w.release_queued[self.queued..]
            .iter()
            .any(|&cg| self.releasable[w.cgroups[cg as usize].hier as usize]);
        if was_releasable {
            w.mark(self.mark);
        }
    }
}
