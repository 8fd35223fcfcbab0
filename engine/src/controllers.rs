//! The controllers' migration callbacks (model.md §6) and the taskset they are handed.
//! Shared by every design: the patch did not touch them.

use crate::case::{Controller, Errno};
use crate::planted::Bug;
use crate::trace::{mark, Step, Warning};
use crate::world::{Callback, CgId, CsetList, Event, World};

/// Records a callback with its taskset: the tasks on the `mg_tasks` of each css_set of `csets`,
/// set by set, in list order (`cgroup_taskset_first`/`_next`).
fn record(
    w: &mut World,
    controller: Controller,
    callback: Callback,
    dst: CgId,
    csets: CsetList,
    error: Option<Errno>,
) {
    let start = w.event_pids.len() as u32;
    for &c in &w.lists[csets as usize] {
        w.event_pids
            .extend_from_slice(&w.csets[c as usize].mg_tasks);
    }
    let end = w.event_pids.len() as u32;
    w.events.push(Event {
        controller,
        callback,
        dst,
        error,
        tasks: (start, end),
    });
}

/// `cgroup_taskset_first()`.
fn taskset_first(w: &World, csets: CsetList) -> Option<u32> {
    w.lists[csets as usize]
        .iter()
        .find_map(|&c| w.csets[c as usize].mg_tasks.first().copied())
}

/// `ss->can_attach(css, tset)`; fails only when the operation's fault plan says so.
pub fn can_attach(w: &mut World, c: Controller, dst: CgId) -> Result<(), Errno> {
    let calls = &mut w.can_attach_calls[c as usize];
    *calls += 1;
    let nth = *calls;
    let error = w
        .faults
        .can_attach
        .filter(|f| f.controller == c && f.nth == nth)
        .map(|f| f.errno);
    record(w, c, Callback::CanAttach, dst, CsetList::TsetSrc, error);
    match c {
        Controller::Cpuset if error.is_none() => {
            w.cgroups[dst as usize].attach_in_progress += 1;
        }
        Controller::Memory => {
            if error.is_some() {
                // A failing mem_cgroup_can_attach clears the move it may have started.
                w.charge_move = None;
            } else if let Some(first) = taskset_first(w, CsetList::TsetSrc) {
                // Simplification of the kernel's mm-owner test: the first task leads its group.
                if w.tasks[first as usize].leader == first {
                    if w.charge_move.is_some() {
                        // VM_BUG_ON(mc.from): recorded; a kernel without CONFIG_DEBUG_VM goes
                        // on and overwrites the move (model.md §6).
                        w.warn(Warning::VmBugOnMcFrom);
                    }
                    let hier = w.cgroups[dst as usize].hier;
                    let from = w.cset_cgroup(w.tasks[first as usize].cset, hier);
                    w.charge_move = Some((from, dst));
                }
            }
        }
        _ => {}
    }
    match error {
        Some(e) => {
            w.step(Step::CanAttachFailed(c, e));
            Err(e)
        }
        None => {
            w.step(Step::CanAttach(c));
            Ok(())
        }
    }
}

/// `ss->cancel_attach(css, tset)`.
pub fn cancel_attach(w: &mut World, c: Controller, dst: CgId) {
    w.step(Step::CancelAttach(c));
    record(w, c, Callback::CancelAttach, dst, CsetList::TsetSrc, None);
    match c {
        Controller::Cpuset => w.cgroups[dst as usize].attach_in_progress -= 1,
        Controller::Memory => w.charge_move = None,
        _ => {}
    }
}

/// `ss->attach(css, tset)`, after the commit: the taskset now walks the destination sets.
pub fn attach(w: &mut World, c: Controller, dst: CgId) {
    w.step(Step::Attach(c));
    record(w, c, Callback::Attach, dst, CsetList::TsetDst, None);
    match c {
        Controller::Cpuset => w.cgroups[dst as usize].attach_in_progress -= 1,
        Controller::Memory => w.charge_move = None,
        _ => {}
    }
}

/// "check that we can legitimately attach to the cgroup": `can_attach` of every bound
/// controller in id order; on the first error, `out_cancel_attach` calls `cancel_attach` of the
/// controllers before the failing one. Identical on both sides of the patch.
pub fn can_attach_all(w: &mut World, dst: CgId) -> Result<(), Errno> {
    check_leader_first(w, CsetList::TsetSrc);
    let bits = w.hiers[w.cgroups[dst as usize].hier as usize].controllers;
    let mut order = Controller::ALL;
    if w.bug(Bug::LegacyCanAttachReversed) {
        order.reverse();
    }
    let cancel_failing = w.bug(Bug::CancelAlsoFailing);
    if w.lists[CsetList::TsetSrc as usize].len() >= 2 {
        w.mark(mark::TSET_MULTI_SRC);
    }
    let stop_after_first = w.bug(Bug::CancelStopsAfterFirst);
    for c in order {
        if bits & c.bit() == 0 || !c.has_can_attach() {
            continue;
        }
        if let Err(e) = can_attach(w, c, dst) {
            for earlier in order {
                if earlier == c && !cancel_failing {
                    break;
                }
                if bits & earlier.bit() != 0 && earlier.has_cancel_attach() {
                    cancel_attach(w, earlier, dst);
                    if stop_after_first {
                        break;
                    }
                }
                if earlier == c {
                    break;
                }
            }
            return Err(e);
        }
    }
    Ok(())
}

/// The property "for a process, the taskset's first task is the leader" (what cpuset's and
/// memcg's callbacks rely on, and what 1b9aba49 restored): checked whenever a process
/// migration hands its taskset to the controllers, when the world checks properties
/// ([`World::check_properties`]: the single-design check, not the oracle). Recorded as
/// [`Invariant::LeaderFirst`](crate::observe::Invariant::LeaderFirst), which only the
/// single-design check reads (the seed's two designs both break it, see docs/findings.md).
fn check_leader_first(w: &mut World, csets: CsetList) {
    let Some(leader) = w.migrating_leader else {
        return;
    };
    let in_tset = w.lists[csets as usize]
        .iter()
        .any(|&c| w.csets[c as usize].mg_tasks.contains(&leader));
    if in_tset && taskset_first(w, csets) != Some(leader) {
        w.violate(crate::observe::Invariant::LeaderFirst.bit());
    }
}

/// The commit point: every task on every source set's `mg_tasks` goes to that set's
/// destination, through `cgroup_task_migrate`. Identical on both sides of the patch.
pub fn commit(w: &mut World) {
    commit_at(w, false);
}

/// [`commit`] with `cgroup_task_migrate` putting each task at the tail of its destination's
/// `mg_tasks` (`list_move_tail`, v3.15 and later) when `tail`.
pub fn commit_at(w: &mut World, tail: bool) {
    let mut i = 0;
    while i < w.lists[CsetList::TsetSrc as usize].len() {
        let cset = w.lists[CsetList::TsetSrc as usize][i];
        // list_for_each_entry_safe over mg_tasks: each body moves the current task off this
        // list, so "the next one" is always the new first.
        while let Some(&pid) = w.csets[cset as usize].mg_tasks.first() {
            let c = &w.csets[cset as usize];
            match (c.mg_src_cgrp, c.mg_dst_cset) {
                (Some(src), Some(dst)) => w.cgroup_task_migrate_at(src, pid, dst, tail),
                _ => {
                    // The kernel would dereference NULL here.
                    w.warn(crate::trace::Warning::NullDstCset);
                    break;
                }
            }
        }
        i += 1;
    }
}

/// "Notify controllers that migration is complete": `attach` of every bound controller.
pub fn attach_all(w: &mut World, dst: CgId) {
    check_leader_first(w, CsetList::TsetDst);
    let bits = w.hiers[w.cgroups[dst as usize].hier as usize].controllers;
    for c in Controller::ALL {
        if bits & c.bit() != 0 && c.has_attach() {
            attach(w, c, dst);
        }
    }
}
