//! Executing one operation on one model: the preconditions (identical for every design,
//! model.md §3) and the shared operations (fork, exit, mkdir, rmdir, add controller).

use crate::case::{CaseOp, Errno, Op, Pid, StagePoint, MAX_PID};
use crate::models::{Design, Outcome};
use crate::planted::Bug;
use crate::trace::Step;
use crate::world::{CgId, Cgroup, TaskList, TaskState, World, INIT_CSET};

/// Runs one operation of a case on `w` with design `d`. The world's per-operation records
/// (events, release queue, warnings, trace) describe this operation afterwards.
pub fn apply(w: &mut World, d: &dyn Design, cop: &CaseOp) -> Outcome {
    w.begin_op(cop.faults);
    let outcome = apply_op(w, d, cop);
    if w.pending_exit.is_some() && outcome != Outcome::Hang {
        // The migration never reached the named point (or the design has none): the exit,
        // concurrent with the operation, lands when the operation ends.
        land_exit(w);
    }
    outcome
}

/// An exit between the stages of a migration: called by the staged designs right after each
/// stage. When the operation's plan names this point, the named task's `cgroup_exit` runs
/// here, as it can in the kernel (it does not take `cgroup_mutex`, and the stages do not hold
/// `css_set_rwsem` throughout). Once per operation.
#[inline]
pub fn exit_point(w: &mut World, after: StagePoint) {
    if w.pending_exit.is_some_and(|e| e.after == after) {
        land_exit(w);
    }
}

fn land_exit(w: &mut World) {
    let Some(e) = w.pending_exit.take() else {
        return;
    };
    // A task that is not exiting (or gone, or pid 1) has no cgroup_exit to run: nothing lands.
    let done = cgroup_exit(w, e.pid).is_ok();
    w.step(Step::InterleavedExit {
        pid: e.pid,
        after: e.after,
        done,
    });
}

fn apply_op(w: &mut World, d: &dyn Design, cop: &CaseOp) -> Outcome {
    match &cop.op {
        Op::Fork {
            parent,
            child,
            thread,
        } => fork(w, *parent, *child, *thread).into(),
        Op::ExitBegin { pid } => exit_begin(w, *pid).into(),
        Op::ExitFinish { pid } => cgroup_exit(w, *pid).into(),
        Op::Mkdir { path } => {
            let Some(parent) = path.parent().and_then(|p| w.resolve(&p)) else {
                return Outcome::Err(if path.is_root() {
                    Errno::EEXIST
                } else {
                    Errno::ENODEV
                });
            };
            mkdir(w, parent, path.parts.last().map_or("", |s| s.as_str())).into()
        }
        Op::Rmdir { path } => match w.resolve(path) {
            None => Outcome::Err(Errno::ENODEV),
            Some(cg) => rmdir(w, cg).into(),
        },
        Op::AddController { controller, hier } => add_controller(w, controller.bit(), *hier).into(),
        Op::MigrateTask { pid, dst } | Op::MigrateProcess { pid, dst } => {
            let threadgroup = matches!(cop.op, Op::MigrateProcess { .. });
            let dst = match migration_dst(w, w.resolve(dst)) {
                Ok(cg) => cg,
                Err(e) => return Outcome::Err(e),
            };
            if w.existing(*pid).is_none() {
                return Outcome::Err(Errno::ESRCH);
            }
            // A write to cgroup.procs attaches from the group leader.
            let leader = if threadgroup {
                w.task(*pid).leader
            } else {
                *pid
            };
            if threadgroup && w.check_properties {
                w.migrating_leader = Some(leader);
            }
            d.cgroup_attach_task(w, dst, leader, threadgroup).into()
        }
        Op::MigrateMulti { dst, targets } => {
            let dst = match migration_dst(w, w.resolve(dst)) {
                Ok(cg) => cg,
                Err(e) => return Outcome::Err(e),
            };
            if targets.iter().any(|t| w.existing(t.pid).is_none()) {
                return Outcome::Err(Errno::ESRCH);
            }
            d.migrate_multi(w, dst, targets).into()
        }
        Op::TransferTasks { from, to } => {
            let (Some(from), Some(to)) = (w.resolve(from), w.resolve(to)) else {
                return Outcome::Err(Errno::ENODEV);
            };
            let (hf, ht) = (w.cgroups[from as usize].hier, w.cgroups[to as usize].hier);
            if hf != ht || ht == 0 {
                return Outcome::Err(Errno::EINVAL);
            }
            d.cgroup_transfer_tasks(w, to, from)
        }
        Op::AttachTaskAll { from, pid } => {
            if w.existing(*from).is_none() || w.existing(*pid).is_none() {
                return Outcome::Err(Errno::ESRCH);
            }
            cgroup_attach_task_all(w, d, *from, *pid).into()
        }
    }
}

/// Preconditions of a migration destination: it exists (ENODEV, checked before tasks) and is
/// not on the default hierarchy (EINVAL).
fn migration_dst(w: &World, dst: Option<CgId>) -> Result<CgId, Errno> {
    let dst = dst.ok_or(Errno::ENODEV)?;
    if w.cgroups[dst as usize].hier == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(dst)
}

/// `cgroup_attach_task_all(from, tsk)`: for each mounted hierarchy, attach `pid` alone to
/// `from`'s cgroup there with the design's `cgroup_attach_task`; stop at the first error.
pub fn cgroup_attach_task_all(
    w: &mut World,
    d: &dyn Design,
    from: Pid,
    pid: Pid,
) -> Result<(), Errno> {
    let mut ret = Ok(());
    for h in 1..w.n_hiers() {
        w.step(Step::AttachTaskAll { hier: h as u8 });
        let from_cgrp = w.cset_cgroup(w.task(from).cset, h as u8);
        ret = d.cgroup_attach_task(w, from_cgrp, pid, false);
        if ret.is_err() && !w.bug(Bug::AttachTaskAllContinuesAfterError) {
            break;
        }
    }
    ret
}

/// `cgroup_fork()` + `cgroup_post_fork()`: the child shares the parent's css_set, is added at
/// the head of its `tasks`, and takes a reference.
fn fork(w: &mut World, parent: Pid, child: Pid, thread: bool) -> Result<(), Errno> {
    match w.existing(parent) {
        Some(t) if t.state == TaskState::Live => {}
        _ => return Err(Errno::ESRCH),
    }
    if child == 0 || child > MAX_PID || w.existing(child).is_some() {
        return Err(Errno::EINVAL);
    }
    w.ensure_pid_slot(child);
    let cset = w.task(parent).cset;
    let leader = if thread { w.task(parent).leader } else { child };
    {
        let t = &mut w.tasks[child as usize];
        t.state = TaskState::Live;
        t.leader = leader;
        t.group.clear();
        t.cset = cset;
    }
    w.tasks[leader as usize].group.push(child);
    w.get_css_set(cset);
    w.task_list_add(child, cset, TaskList::Tasks);
    Ok(())
}

/// Exit, first half: PF_EXITING. The task stays linked.
fn exit_begin(w: &mut World, pid: Pid) -> Result<(), Errno> {
    let state = w.existing(pid).ok_or(Errno::ESRCH)?.state;
    if pid == 1 {
        return Err(Errno::EPERM);
    }
    if state != TaskState::Live {
        return Err(Errno::ESRCH);
    }
    w.tasks[pid as usize].state = TaskState::Exiting;
    Ok(())
}

/// `cgroup_exit()`: unlink, point at `init_css_set` (no reference), put the old set with the
/// task-exit flag; then the thread-group bookkeeping of `release_task()`.
fn cgroup_exit(w: &mut World, pid: Pid) -> Result<(), Errno> {
    let state = w.existing(pid).ok_or(Errno::ESRCH)?.state;
    if pid == 1 {
        return Err(Errno::EPERM);
    }
    if state != TaskState::Exiting {
        return Err(Errno::ESRCH);
    }
    w.task_list_del(pid);
    let old = w.task(pid).cset;
    w.tasks[pid as usize].cset = INIT_CSET;
    w.put_css_set(old, true);

    let leader = w.task(pid).leader;
    if pid != leader {
        let group = &mut w.tasks[leader as usize].group;
        if let Some(i) = group.iter().position(|&p| p == pid) {
            group.remove(i);
        }
        w.tasks[pid as usize].state = TaskState::Absent;
        let l = &w.tasks[leader as usize];
        if l.state == TaskState::Zombie && l.group.len() == 1 {
            w.tasks[leader as usize].state = TaskState::Absent;
        }
    } else if w.task(pid).group.len() > 1 {
        w.tasks[pid as usize].state = TaskState::Zombie;
    } else {
        w.tasks[pid as usize].state = TaskState::Absent;
    }
    Ok(())
}

/// `cgroup_mkdir()`: a new child inheriting notify_on_release.
fn mkdir(w: &mut World, parent: CgId, name: &str) -> Result<(), Errno> {
    let p = &w.cgroups[parent as usize];
    if p.hier == 0 {
        // The default hierarchy is a single root cgroup (model.md §2).
        return Err(Errno::EINVAL);
    }
    if p.children
        .iter()
        .any(|&c| w.cgroups[c as usize].name == name)
    {
        return Err(Errno::EEXIST);
    }
    let id = w.cgroups.len() as CgId;
    let cg = Cgroup {
        hier: p.hier,
        parent: Some(parent),
        name: name.to_string(),
        removed: false,
        children: Vec::new(),
        cset_links: Vec::new(),
        notify_on_release: p.notify_on_release,
        releasable: false,
        attach_in_progress: 0,
    };
    w.cgroups.push(cg);
    w.cgroups[parent as usize].children.push(id);
    Ok(())
}

/// `cgroup_rmdir()`: busy while css_sets link it or children live; a removed cgroup marks its
/// parent releasable and checks it for release.
fn rmdir(w: &mut World, cg: CgId) -> Result<(), Errno> {
    let c = &w.cgroups[cg as usize];
    let Some(parent) = c.parent else {
        return Err(Errno::EBUSY);
    };
    if !c.cset_links.is_empty() || !c.children.is_empty() {
        return Err(Errno::EBUSY);
    }
    w.cgroups[cg as usize].removed = true;
    let siblings = &mut w.cgroups[parent as usize].children;
    if let Some(i) = siblings.iter().position(|&c| c == cg) {
        siblings.remove(i);
    }
    w.cgroups[parent as usize].releasable = true;
    w.check_for_release(parent);
    if w.bug(Bug::RmdirChecksRemovedCgroup) {
        w.check_for_release(cg);
    }
    Ok(())
}

/// `rebind_subsystems()`, reduced to what model.md §3 keeps: a controller moves from the
/// default hierarchy to a mounted one that has no child cgroups; css_sets are not rewritten.
fn add_controller(w: &mut World, bit: u8, hier: u8) -> Result<(), Errno> {
    if hier == 0 || hier as usize >= w.n_hiers() {
        return Err(Errno::EINVAL);
    }
    let root = w.hiers[hier as usize].root;
    if w.hiers[0].controllers & bit == 0 || !w.cgroups[root as usize].children.is_empty() {
        return Err(Errno::EBUSY);
    }
    w.hiers[0].controllers &= !bit;
    w.hiers[hier as usize].controllers |= bit;
    Ok(())
}
