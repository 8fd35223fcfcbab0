//! What every staged design shares: the callers of the four stages. `cgroup_attach_task`, the
//! multi-target migrate and `cgroup_transfer_tasks` call `cgroup_migrate_add_src`,
//! `cgroup_migrate_prepare_dst`, `cgroup_migrate` and `cgroup_migrate_finish` in the same order
//! from the seed (patch 5/5) to v5.19; what changed is inside the stages, and, from v4.15
//! (116d2f7496c5), which task `cgroup_transfer_tasks` picks next. Each staged design is a
//! [`Stages`] (its versions of the four functions); the callers below turn it into a
//! [`Design`](super::Design).
//!
//! The points between the stages are where an exit may land ([`exit_point`]).

use super::{target_leader, Outcome};
use crate::case::{Errno, Pid, StagePoint, Target};
use crate::exec::exit_point;
use crate::observe::Invariant;
use crate::planted::Bug;
use crate::trace::Step;
use crate::world::{cset_flag, hang_bound, CgId, CsetId, CsetList, World};

/// One version of the four stages.
pub trait Stages: Sync {
    /// The design's name ([`super::Design::name`]).
    const NAME: &'static str;

    /// One line: which kernel code the design stands for.
    const ABOUT: &'static str;

    /// Whether coverage point `point` is a step of this design.
    fn has_point(point: usize) -> bool;

    /// Its `cgroup_migrate_add_src(src_cset, dst_cgrp, …)`.
    const ADD_SRC: fn(&mut World, CsetId, CgId);

    /// Its `cgroup_migrate_prepare_dst(dst_cgrp, …)`.
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno>;

    /// Its `cgroup_migrate(cgrp, leader, threadgroup)`.
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno>;

    /// Its `cgroup_migrate_finish(…)` of the caller's preload list(s).
    const FINISH: fn(&mut World);

    /// Whether `cgroup_transfer_tasks` passes over `PF_EXITING` tasks when it picks the next
    /// one (116d2f7496c5, v4.15).
    const TRANSFER_SKIPS_EXITING: bool = false;
}

/// `cgroup_attach_task(dst_cgrp, leader, threadgroup)`: add_src for the css_set of every
/// target task, prepare_dst, migrate if prepared, finish always.
pub fn cgroup_attach_task<S: Stages>(
    w: &mut World,
    dst_cgrp: CgId,
    leader: Pid,
    threadgroup: bool,
) -> Result<(), Errno> {
    w.step(Step::CgroupAttachTask {
        dst: dst_cgrp,
        leader,
        threadgroup,
    });
    // look up all src csets
    add_src_of_targets::<S>(w, dst_cgrp, leader, threadgroup);
    exit_point(w, StagePoint::AddSrc);
    // prepare dst csets and commit
    let mut ret = prepare_dst::<S>(w, dst_cgrp);
    exit_point(w, StagePoint::PrepareDst);
    if ret.is_ok() {
        ret = (S::MIGRATE)(w, dst_cgrp, leader, threadgroup);
        exit_point(w, StagePoint::Migrate);
    }
    (S::FINISH)(w);
    ret
}

/// add_src for every target's css_sets, one prepare_dst (failure: nothing moves), then one
/// `cgroup_migrate` per target in order, stopping at the first error; finish always.
pub fn migrate_multi<S: Stages>(w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno> {
    w.step(Step::MultiMigrate {
        dst,
        targets: targets.len() as u8,
    });
    for t in targets {
        let (leader, threadgroup) = target_leader(w, t);
        if threadgroup && w.bug(Bug::MultiSkipsUnlinkedLeader) && w.task(leader).cg_list.is_none() {
            continue;
        }
        add_src_of_targets::<S>(w, dst, leader, threadgroup);
    }
    exit_point(w, StagePoint::AddSrc);
    let mut ret = prepare_dst::<S>(w, dst);
    exit_point(w, StagePoint::PrepareDst);
    if ret.is_ok() {
        for t in targets {
            let (leader, threadgroup) = target_leader(w, t);
            ret = (S::MIGRATE)(w, dst, leader, threadgroup);
            exit_point(w, StagePoint::Migrate);
            if ret.is_err() {
                if w.bug(Bug::MultiErrorSkipsFinish) {
                    return ret;
                }
                break;
            }
        }
    }
    (S::FINISH)(w);
    ret
}

/// Patch 5/5: all csets of `from` are sources, prepared once; then migrate tasks one by one
/// until `from` is empty. "This fails iff ->can_attach() fails."
pub fn cgroup_transfer_tasks<S: Stages>(w: &mut World, to: CgId, from: CgId) -> Outcome {
    w.step(Step::CgroupTransferTasks { to, from });
    // all tasks in @from are being moved, all csets are source
    let mut i = 0;
    while i < w.cgroups[from as usize].cset_links.len() {
        let cset = w.cgroups[from as usize].cset_links[i];
        i += 1;
        if w.bug(Bug::TransferSkipsEmptySrc) && w.csets[cset as usize].tasks.is_empty() {
            continue;
        }
        (S::ADD_SRC)(w, cset, to);
        // Evidence only (findings): does a task that can move sit on this set?
        let c = &w.csets[cset as usize];
        if c.mg_preload_node.is_some() && c.tasks.iter().any(|&p| !w.tasks[p as usize].exiting()) {
            w.csets[cset as usize].mg_flags |= cset_flag::LIVE_TARGET;
        }
    }
    exit_point(w, StagePoint::AddSrc);
    let mut ret = prepare_dst::<S>(w, to);
    exit_point(w, StagePoint::PrepareDst);
    if ret.is_ok() {
        let bound = hang_bound(w.live_task_count());
        let mut rounds = 0;
        loop {
            let next = if S::TRANSFER_SKIPS_EXITING {
                first_not_exiting(w, from)
            } else {
                w.css_task_iter_first(from)
            };
            let Some(task) = next else {
                w.step(Step::TransferEmpty);
                break;
            };
            w.step(Step::TransferNext(task));
            rounds += 1;
            if rounds > bound {
                // The kernel spins here forever, never reaching cgroup_migrate_finish.
                w.step(Step::Hang);
                return Outcome::Hang;
            }
            ret = (S::MIGRATE)(w, to, task, false);
            exit_point(w, StagePoint::Migrate);
            if ret.is_err() && !w.bug(Bug::TransferContinuesAfterError) {
                break;
            }
        }
    }
    (S::FINISH)(w);
    ret.into()
}

/// The design's `cgroup_migrate_prepare_dst`, then the check that every source's destination
/// is pinned by the migration (on a preload list, holding a reference) until
/// `cgroup_migrate_finish`: [`Invariant::Pinned`].
fn prepare_dst<S: Stages>(w: &mut World, dst_cgrp: CgId) -> Result<(), Errno> {
    let ret = (S::PREPARE_DST)(w, dst_cgrp);
    if ret.is_ok() {
        for list in [CsetList::Preloaded, CsetList::PreloadedDst] {
            let mut i = 0;
            while i < w.lists[list as usize].len() {
                let c = w.lists[list as usize][i];
                if let Some(d) = w.csets[c as usize].mg_dst_cset {
                    if !w.preload_pinned(d) {
                        w.violate(Invariant::Pinned.bit());
                    }
                }
                i += 1;
            }
        }
    }
    ret
}

/// v4.15: `do { task = css_task_iter_next(&it); } while (task && (task->flags & PF_EXITING));`
fn first_not_exiting(w: &mut World, cgrp: CgId) -> Option<Pid> {
    let mut found = None;
    let mut skipped = std::mem::take(&mut w.scratch);
    skipped.clear();
    'links: for &c in &w.cgroups[cgrp as usize].cset_links {
        let cs = &w.csets[c as usize];
        for &p in cs.tasks.iter().chain(cs.mg_tasks.iter()) {
            if w.tasks[p as usize].exiting() {
                skipped.push(p);
            } else {
                found = Some(p);
                break 'links;
            }
        }
    }
    for &p in &skipped {
        w.step(Step::TransferSkipExiting(p));
    }
    w.scratch = skipped;
    found
}

/// `do { cgroup_migrate_add_src(task_css_set(task), …); if (!threadgroup) break; }
/// while_each_thread(leader, task)` — every target task, exiting or not.
fn add_src_of_targets<S: Stages>(w: &mut World, dst_cgrp: CgId, leader: Pid, threadgroup: bool) {
    let mut targets = std::mem::take(&mut w.scratch);
    w.migration_targets(leader, threadgroup, &mut targets);
    for &task in &targets {
        let cset = w.task(task).cset;
        (S::ADD_SRC)(w, cset, dst_cgrp);
        // Evidence only (findings): a preloaded set that a task which will move is on.
        if !w.task(task).exiting() && w.csets[cset as usize].mg_preload_node.is_some() {
            w.csets[cset as usize].mg_flags |= cset_flag::LIVE_TARGET;
        }
    }
    w.scratch = targets;
}

/// Every staged design is a [`Design`](super::Design) through the shared callers.
impl<S: Stages> super::Design for S {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn about(&self) -> &'static str {
        S::ABOUT
    }

    fn has_point(&self, point: usize) -> bool {
        S::has_point(point)
    }

    fn has_stages(&self) -> bool {
        true
    }

    fn cgroup_attach_task(
        &self,
        w: &mut World,
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    ) -> Result<(), Errno> {
        cgroup_attach_task::<S>(w, dst, leader, threadgroup)
    }

    fn migrate_multi(&self, w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno> {
        migrate_multi::<S>(w, dst, targets)
    }

    fn cgroup_transfer_tasks(&self, w: &mut World, to: CgId, from: CgId) -> Outcome {
        cgroup_transfer_tasks::<S>(w, to, from)
    }
}
