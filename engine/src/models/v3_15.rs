//! v3.15 (June 2014): the seed's four stages with 1b9aba49eab5 "cgroup: fix cgroup_taskset
//! walking order" and the post_fork() skip, as in v3.15.5's `kernel/cgroup.c`.
//!
//! `cgroup_migrate_add_src`, `cgroup_migrate_prepare_dst` and `cgroup_migrate_finish` are the
//! seed's (`four_stage.rs`). `cgroup_migrate` changed: each task is moved with
//! `list_move_tail` onto its set's `mg_tasks`, a source set is added once with
//! `list_add_tail`, a destination set once with `list_move_tail` (both guarded by
//! `list_empty(&…->mg_node)`), so the leader's sets come first and `cgroup_taskset_first()` is
//! the leader again; `cgroup_task_migrate` uses `list_move_tail`, and `out_release_tset`
//! splices `mg_tasks` back at the tail of `tasks`. That same `cgroup_migrate` serves every
//! later design here (v3.16's, and v4.15's `cgroup_migrate_add_task` +
//! `cgroup_migrate_execute`, do the same list operations).

use super::four_stage::{
    cgroup_migrate_add_src, cgroup_migrate_finish, cgroup_migrate_prepare_dst,
};
use super::staged::Stages;
use crate::case::{Errno, Pid};
use crate::controllers::{attach_all, can_attach_all, commit_at};
use crate::trace::{shared_point, stage_point, Step, Warning, INTERLEAVED_EXIT_POINT};
use crate::world::{CgId, CsetId, CsetList, TaskList, World};

pub struct V3_15;

impl Stages for V3_15 {
    const NAME: &'static str = "v3.15";
    const ABOUT: &'static str =
        "v3.15: four-stage with 1b9aba49 (taskset walking order) and the post_fork skip";

    fn has_point(point: usize) -> bool {
        shared_point(point)
            || stage_point(point)
            || point == Step::MigrateSkipUnlinked(0).point()
            || point == INTERLEAVED_EXIT_POINT
    }

    // The seed's add_src, prepare_dst and finish; v3.15's cgroup_migrate.
    const ADD_SRC: fn(&mut World, CsetId, CgId) = cgroup_migrate_add_src;
    const PREPARE_DST: fn(&mut World, CgId) -> Result<(), Errno> = cgroup_migrate_prepare_dst;
    const MIGRATE: fn(&mut World, CgId, Pid, bool) -> Result<(), Errno> = cgroup_migrate;
    const FINISH: fn(&mut World) = |w| cgroup_migrate_finish(w, CsetList::Preloaded);
}

/// `cgroup_migrate(cgrp, leader, threadgroup)` from v3.15: tail operations throughout.
pub fn cgroup_migrate(
    w: &mut World,
    cgrp: CgId,
    leader: Pid,
    threadgroup: bool,
) -> Result<(), Errno> {
    w.step(Step::Migrate { leader });
    let mut targets = std::mem::take(&mut w.scratch);
    w.migration_targets(leader, threadgroup, &mut targets);
    for &task in &targets {
        // @task either already exited or can't exit until the end
        if w.task(task).pf_exiting() {
            w.step(Step::MigrateSkipExiting(task));
            continue;
        }
        // leave @task alone if post_fork() hasn't linked it yet (in our world every forked
        // task is linked at once, so only a task that is not exiting and unlinked would
        // come here, which cannot happen: kept for the shape of the code)
        if w.task(task).cg_list.is_none() {
            w.step(Step::MigrateSkipUnlinked(task));
            continue;
        }
        let cset = w.task(task).cset;
        if w.csets[cset as usize].mg_src_cgrp.is_none() {
            w.step(Step::MigrateSkipNotPreloaded(task));
            continue;
        }
        w.step(Step::MigrateCollect(task));
        // cgroup_taskset_first() must always return the leader.
        w.task_list_move_tail(task, cset, TaskList::MgTasks);
        if w.csets[cset as usize].mg_node.is_none() {
            w.mg_node_add_tail(cset, CsetList::TsetSrc);
        }
        match w.csets[cset as usize].mg_dst_cset {
            Some(dst) => {
                if w.csets[dst as usize].mg_node.is_none() {
                    w.mg_node_move_tail(dst, CsetList::TsetDst);
                }
            }
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

/// can_attach, commit (`cgroup_task_migrate` with `list_move_tail`), attach.
fn migrate_steps(w: &mut World, cgrp: CgId) -> Result<(), Errno> {
    can_attach_all(w, cgrp)?;
    commit_at(w, true);
    attach_all(w, cgrp);
    Ok(())
}

/// `out_release_tset:` from v3.15: `list_splice_tail_init(&cset->mg_tasks, &cset->tasks)`.
fn out_release_tset(w: &mut World) {
    w.step(Step::ReleaseTset);
    w.splice_lists(CsetList::TsetDst, CsetList::TsetSrc, false);
    while let Some(&cset) = w.lists[CsetList::TsetSrc as usize].first() {
        w.splice_mg_tasks_tail_init(cset);
        w.mg_node_del(cset);
    }
}
