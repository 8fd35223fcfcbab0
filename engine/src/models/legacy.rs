//! The tree just before the patch: `cgroup_attach_task` in one step (the `-` side of
//! `shared/seeds/000_4c2f903d33f1de29.txt`), multi-target migrate and `cgroup_transfer_tasks`
//! as loops of single attaches.

use super::{target_leader, Design, Outcome};
use crate::case::{Errno, Pid, Target};
use crate::controllers::{attach_all, can_attach_all, commit};
use crate::planted::Bug;
use crate::trace::{legacy_point, shared_point, Step, Warning};
use crate::world::{hang_bound, CgId, CsetList, TaskList, World};

pub struct Legacy;

impl Design for Legacy {
    fn name(&self) -> &'static str {
        "legacy"
    }

    fn about(&self) -> &'static str {
        "the tree before the Feb 2014 rewrite: cgroup_attach_task in one step"
    }

    fn has_point(&self, point: usize) -> bool {
        shared_point(point) || legacy_point(point)
    }

    fn cgroup_attach_task(
        &self,
        w: &mut World,
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    ) -> Result<(), Errno> {
        cgroup_attach_task(w, dst, leader, threadgroup)
    }

    /// One `cgroup_attach_task` per target, in order, stopping at the first error.
    fn migrate_multi(&self, w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno> {
        w.step(Step::MultiMigrate {
            dst,
            targets: targets.len() as u8,
        });
        for t in targets {
            let (leader, threadgroup) = target_leader(w, t);
            cgroup_attach_task(w, dst, leader, threadgroup)?;
        }
        Ok(())
    }

    /// Take the first task of `from`, attach it alone, until `from` is empty or an error.
    fn cgroup_transfer_tasks(&self, w: &mut World, to: CgId, from: CgId) -> Outcome {
        w.step(Step::CgroupTransferTasks { to, from });
        let bound = hang_bound(w.live_task_count());
        let mut rounds = 0;
        loop {
            let Some(task) = w.css_task_iter_first(from) else {
                w.step(Step::TransferEmpty);
                return Outcome::Ok;
            };
            w.step(Step::TransferNext(task));
            rounds += 1;
            if rounds > bound {
                w.step(Step::Hang);
                return Outcome::Hang;
            }
            if let Err(e) = cgroup_attach_task(w, to, task, false) {
                return Outcome::Err(e);
            }
        }
    }
}

/// `cgroup_attach_task(cgrp, leader, threadgroup)` before the patch.
pub fn cgroup_attach_task(
    w: &mut World,
    cgrp: CgId,
    leader: Pid,
    threadgroup: bool,
) -> Result<(), Errno> {
    w.step(Step::CgroupAttachTask {
        dst: cgrp,
        leader,
        threadgroup,
    });
    let hier = w.cgroups[cgrp as usize].hier;
    let mut targets = std::mem::take(&mut w.scratch);
    w.migration_targets(leader, threadgroup, &mut targets);
    for &task in &targets {
        // @task either already exited or can't exit until the end
        if w.task(task).exiting() {
            w.step(Step::LegacySkipExiting(task));
            continue;
        }
        let cset = w.task(task).cset;
        let src_cgrp = w.cset_cgroup(cset, hier);
        // nothing to do if this task is already in the cgroup
        if src_cgrp == cgrp {
            w.step(Step::LegacySkipInDst(task));
            continue;
        }
        if w.csets[cset as usize].mg_src_cgrp.is_none() {
            w.step(Step::LegacyNewSrc(task));
            if !w.csets[cset as usize].mg_tasks.is_empty() {
                w.warn(Warning::MgTasksNotEmpty);
            }
            if w.csets[cset as usize].mg_node.is_some() {
                w.warn(Warning::MgNodeNotEmpty);
            }
            w.csets[cset as usize].mg_src_cgrp = Some(src_cgrp);
            w.mg_node_add(cset, CsetList::TsetSrc);
            w.get_css_set(cset);
            if w.bug(Bug::LegacyCollectGetsTwice) {
                w.get_css_set(cset);
            }
        }
        w.step(Step::LegacyCollect(task));
        w.task_list_move(task, cset, TaskList::MgTasks);
    }
    w.scratch = targets;

    // methods shouldn't be called if no task is actually migrating
    if w.lists[CsetList::TsetSrc as usize].is_empty() {
        w.step(Step::NothingToMigrate);
        return Ok(());
    }

    let ret = attach_steps(w, cgrp);
    let splice_dst = !(ret == Err(Errno::ENOMEM) && w.bug(Bug::LegacyEnomemSkipsDstSplice));
    out_release_tset(w, splice_dst);
    ret
}

/// Steps 1 to 4 of the legacy attach; every return goes through `out_release_tset`.
fn attach_steps(w: &mut World, cgrp: CgId) -> Result<(), Errno> {
    // step 1: check that we can legitimately attach to the cgroup (error: out_cancel_attach).
    can_attach_all(w, cgrp)?;

    // step 2: make sure css_sets exist for all threads to be migrated.
    let mut i = 0;
    while i < w.lists[CsetList::TsetSrc as usize].len() {
        let cset = w.lists[CsetList::TsetSrc as usize][i];
        let Some(dst_cset) = w.find_css_set(cset, cgrp) else {
            // `goto out_release_tset`: past out_cancel_attach, so the controllers whose
            // can_attach succeeded in step 1 are never cancelled.
            w.step(Step::LegacyEnomemNoCancel);
            // Evidence only: a controller's can_attach left state that nothing will undo.
            if w.cgroups[cgrp as usize].attach_in_progress != 0 || w.charge_move.is_some() {
                w.mark(crate::trace::mark::UNCANCELLED_CAN_ATTACH);
            }
            return Err(Errno::ENOMEM);
        };
        if w.csets[dst_cset as usize].mg_node.is_none() {
            w.mg_node_add(dst_cset, CsetList::TsetDst);
        } else {
            w.put_css_set(dst_cset, false);
        }
        w.csets[cset as usize].mg_dst_cset = Some(dst_cset);
        i += 1;
    }

    // step 3: the commit point.
    commit(w);

    // step 4: do subsystem attach callbacks (tset.csets = &tset.dst_csets).
    attach_all(w, cgrp);
    Ok(())
}

/// `out_release_tset:` before the patch: splice the destinations into the sources, then for
/// each set splice `mg_tasks` back into `tasks`, clear its migration fields, unlink and put it.
/// (`splice_dst` is false only under [`Bug::LegacyEnomemSkipsDstSplice`].)
fn out_release_tset(w: &mut World, splice_dst: bool) {
    w.step(Step::ReleaseTset);
    if splice_dst {
        w.splice_lists(CsetList::TsetDst, CsetList::TsetSrc, false);
    }
    // list_for_each_entry_safe whose body unlinks the current entry: always the first.
    while let Some(&cset) = w.lists[CsetList::TsetSrc as usize].first() {
        w.splice_mg_tasks_init(cset);
        let keep_src = w.bug(Bug::LegacyReleaseKeepsSrcCgrp);
        let c = &mut w.csets[cset as usize];
        c.mg_dst_cset = None;
        if !keep_src {
            c.mg_src_cgrp = None;
        }
        w.mg_node_del(cset);
        w.put_css_set(cset, false);
    }
}
