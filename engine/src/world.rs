//! The world both models act on (model.md §2): hierarchies, cgroups, css_sets, tasks and the
//! kernel's ordered lists, with the per-operation bookkeeping (faults, events, release queue,
//! warnings, trace) beside it.
//!
//! Lists are `Vec`s in kernel order (index 0 = the element right after the list head). Every
//! membership a kernel `list_head` node expresses is kept as an `Option<…>` on the member, so the
//! list operations below can be the kernel's: `list_add` = insert at 0, `list_add_tail` = push,
//! `list_move` = unlink from wherever the node is, then insert at 0.

use crate::case::{CgPath, Controller, FaultPlan, Pid, Setup, MAX_HIERS, MAX_PID};
use crate::planted::Bug;
use crate::trace::{Coverage, Step, Trace, Warning};

/// Index of a cgroup in [`World::cgroups`]; stable for the life of a case (creation order),
/// identical in both models because mkdir is shared code.
pub type CgId = u16;
/// Slot of a css_set in [`World::csets`]. Slots are private to a model: observations name
/// css_sets by their cgroup tuple, never by slot. A freed css_set's slot is never reused: it
/// stays as a tombstone (`live == false`), so anything still pointing at it is a
/// use-after-free the invariants can see, not a silent alias of a newer set.
pub type CsetId = u16;

/// The lists that css_sets are put on through `mg_node` or `mg_preload_node`. The kernel keeps
/// them on the stack of the function that owns them; none of them nests with itself, so a fixed
/// name per role is enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsetList {
    /// `tset.src_csets` (through `mg_node`).
    TsetSrc = 0,
    /// `tset.dst_csets` (through `mg_node`).
    TsetDst = 1,
    /// `preloaded_csets` of the four-stage callers (through `mg_preload_node`).
    Preloaded = 2,
    /// The local `csets` list of `cgroup_migrate_prepare_dst` (through `mg_preload_node`).
    PrepareDst = 3,
    /// `mgctx->preloaded_dst_csets` of v4.11 and later (through `mg_preload_node` until v5.19,
    /// `mg_dst_preload_node` from v5.19).
    PreloadedDst = 4,
    /// The local `preloaded` list of v4.x `cgroup_migrate_finish` (through `mg_preload_node`).
    FinishLocal = 5,
}

/// Number of [`CsetList`]s.
pub const CSET_LISTS: usize = 6;

/// Which of its css_set's two task lists a task's `cg_list` node is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskList {
    Tasks,
    MgTasks,
}

#[derive(Clone, Debug)]
pub struct Hierarchy {
    pub root: CgId,
    /// Controllers bound here, as [`Controller::bit`]s.
    pub controllers: u8,
}

#[derive(Debug)]
pub struct Cgroup {
    pub hier: u8,
    pub parent: Option<CgId>,
    pub name: String,
    pub removed: bool,
    /// Live children, in creation order.
    pub children: Vec<CgId>,
    /// `cgrp->cset_links`: the css_sets linked to this cgroup, new ones at the head.
    pub cset_links: Vec<CsetId>,
    pub notify_on_release: bool,
    /// `CGRP_RELEASABLE`.
    pub releasable: bool,
    /// cpuset's `attach_in_progress` for this cgroup (model.md §6).
    pub attach_in_progress: i32,
}

#[derive(Debug, Default)]
pub struct Cset {
    /// In the hash (allocated and not yet freed). A freed set keeps its slot with `live ==
    /// false`: a tombstone.
    pub live: bool,
    pub refcount: i32,
    /// One cgroup per hierarchy, in hierarchy order; this is also the order of the css_set's
    /// own `cgrp_links` list.
    pub cgrps: [CgId; MAX_HIERS],
    /// Hash of the tuple: the model-independent name of this css_set in fingerprints.
    pub key: u64,
    pub tasks: Vec<Pid>,
    pub mg_tasks: Vec<Pid>,
    pub mg_src_cgrp: Option<CgId>,
    pub mg_dst_cset: Option<CsetId>,
    pub mg_node: Option<CsetList>,
    pub mg_preload_node: Option<CsetList>,
    /// Evidence about this set's part in the migration in progress ([`cset_flag`]); cleared by
    /// `cgroup_migrate_finish`. Read by no kernel code: it only feeds [`World::marks`].
    pub mg_flags: u8,
    /// v5.19's separate `mg_dst_preload_node` (07fd5b6cdf3c); unused by earlier designs.
    pub mg_dst_preload_node: Option<CsetList>,
}

/// Bits of [`Cset::mg_flags`].
pub mod cset_flag {
    /// A preloaded source that a moving (non-exiting) target is on.
    pub const LIVE_TARGET: u8 = 1;
    /// A destination gathered by `prepare_dst`.
    pub const DST: u8 = 2;
    /// A destination of at least one source with a moving target.
    pub const DST_LIVE: u8 = 4;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Never forked, or gone for good.
    Absent,
    Live,
    /// PF_EXITING set, still linked.
    Exiting,
    /// A leader that finished exiting while threads of its group live on: exiting, unlinked,
    /// on `init_css_set`.
    Zombie,
}

#[derive(Debug)]
pub struct Task {
    pub state: TaskState,
    pub leader: Pid,
    /// On a leader: its thread group, leader first, then threads in creation order.
    pub group: Vec<Pid>,
    pub cset: CsetId,
    pub cg_list: Option<(CsetId, TaskList)>,
}

impl Task {
    fn absent() -> Task {
        Task {
            state: TaskState::Absent,
            leader: 0,
            group: Vec::new(),
            cset: INIT_CSET,
            cg_list: None,
        }
    }

    /// `PF_EXITING`.
    pub fn exiting(&self) -> bool {
        matches!(self.state, TaskState::Exiting | TaskState::Zombie)
    }

    /// `PF_EXITING` as a migration's loop sees it: set when the exit began and never cleared,
    /// so a target whose `cgroup_exit` ran between the stages (gone from our world, while the
    /// kernel's migration still holds its task_struct) has it too. Only the staged designs'
    /// `cgroup_migrate` can meet such a task.
    pub fn pf_exiting(&self) -> bool {
        self.state != TaskState::Live
    }

    /// Can be named by an operation (a zombie leader still can).
    pub fn exists(&self) -> bool {
        self.state != TaskState::Absent
    }
}

/// `init_css_set` always lives in slot 0.
pub const INIT_CSET: CsetId = 0;

/// A taskset callback event: what a controller was told (model.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub controller: Controller,
    pub callback: Callback,
    pub dst: CgId,
    /// For `can_attach`: the error it returned.
    pub error: Option<crate::case::Errno>,
    /// The taskset, as a range of [`World::event_pids`].
    pub tasks: (u32, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Callback {
    CanAttach,
    CancelAttach,
    Attach,
}

impl Callback {
    pub fn name(self) -> &'static str {
        match self {
            Callback::CanAttach => "can_attach",
            Callback::CancelAttach => "cancel_attach",
            Callback::Attach => "attach",
        }
    }
}

/// The whole state of one model, plus the bookkeeping of the operation in progress.
///
/// `Clone`, and `clone_from` copies into the destination's own buffers: the fault sweep takes
/// the state once at each migration and runs each variant from a copy of it; the copy does
/// not allocate once the destination has grown to the size of the worlds it receives (the
/// operation run on it may, where a normal step would: a css_set created afresh).
#[derive(Debug)]
pub struct World {
    pub hiers: Vec<Hierarchy>,
    pub cgroups: Vec<Cgroup>,
    /// Every css_set this world allocated, freed ones included (tombstones): slots are never
    /// reused.
    pub csets: Vec<Cset>,
    /// Indexed by pid; pid 0 is never used.
    pub tasks: Vec<Task>,
    /// The css_set lists named by [`CsetList`].
    pub lists: [Vec<CsetId>; CSET_LISTS],
    /// memory's "charge move in progress" (from, to).
    pub charge_move: Option<(CgId, CgId)>,
    /// A reusable buffer for the targets of a migration walk (keeps allocation off the loop).
    pub scratch: Vec<Pid>,
    /// The task-list buffers of freed css_sets, for the next css_set created: freed slots stay
    /// tombstones (a use-after-free must find them), but their buffers are reused, so creating
    /// a set does not allocate in the steady state.
    pub spare_task_lists: Vec<Vec<Pid>>,

    // --- per operation ---
    pub faults: FaultPlan,
    pub allocs: u32,
    pub can_attach_calls: [u32; 6],
    /// Cgroups queued for a release notification during this operation, in queueing order.
    pub release_queued: Vec<CgId>,
    pub events: Vec<Event>,
    pub event_pids: Vec<Pid>,
    pub warnings: Vec<Warning>,
    /// Invariants a model broke in the middle of this operation (bits of
    /// [`crate::observe::Invariant`]): what only the moment shows, such as a destination not
    /// pinned while tasks move into it.
    pub violated: u16,
    /// An exit of a task that lands between the stages of this operation's migration, until
    /// it has landed (see [`crate::exec::exit_point`]).
    pub pending_exit: Option<crate::case::ExitAt>,
    /// The leader of the process a migration is collecting, while it does (for the
    /// "taskset's first task is the leader" property).
    pub migrating_leader: Option<Pid>,
    /// Whether the single-design properties ([`crate::observe::Invariant::LeaderFirst`]) are
    /// checked: only [`crate::oracle::check_design`] reads them, so the oracle's step loop
    /// leaves this off and skips their work.
    pub check_properties: bool,
    pub trace: Trace,
    pub coverage: Coverage,
    /// The coverage points ([`Step::point`]) this operation reached, one bit each.
    pub op_steps: u64,
    /// Evidence for the recognisers ([`crate::trace::mark`]) left by this operation.
    pub marks: u16,
    /// Cgroups (bit `id % 64`) that a put which was not a task's exit emptied during this
    /// operation while `notify_on_release` and not yet releasable: under the seed's rules
    /// (`put_css_set(cset, false)`) no notification is queued, where the same put by
    /// `cgroup_exit` would have queued one. Evidence for F8.
    pub silenced: u64,
    /// The planted bug switched on in this world, if any (benchmarks and tests only: see
    /// [`crate::planted`]). Absent from the normal build.
    #[cfg(any(test, feature = "planted-bugs"))]
    pub planted: Option<Bug>,
}

/// `Clone` field by field, with a `clone_from` that calls each field's `clone_from`, so a
/// `Vec` or `String` of the destination keeps its buffer (the derived `clone_from` would
/// allocate a whole new value).
macro_rules! clone_reusing {
    ($t:ident { $($(#[$attr:meta])* $f:ident),* $(,)? }) => {
        impl Clone for $t {
            fn clone(&self) -> Self {
                $t { $($(#[$attr])* $f: self.$f.clone(),)* }
            }
            fn clone_from(&mut self, src: &Self) {
                $($(#[$attr])* self.$f.clone_from(&src.$f);)*
            }
        }
    };
}

clone_reusing!(Cgroup {
    hier,
    parent,
    name,
    removed,
    children,
    cset_links,
    notify_on_release,
    releasable,
    attach_in_progress,
});
clone_reusing!(Cset {
    live,
    refcount,
    cgrps,
    key,
    tasks,
    mg_tasks,
    mg_src_cgrp,
    mg_dst_cset,
    mg_node,
    mg_preload_node,
    mg_flags,
    mg_dst_preload_node,
});
clone_reusing!(Task {
    state,
    leader,
    group,
    cset,
    cg_list,
});
clone_reusing!(World {
    hiers,
    cgroups,
    csets,
    tasks,
    lists,
    charge_move,
    scratch,
    spare_task_lists,
    faults,
    allocs,
    can_attach_calls,
    release_queued,
    silenced,
    events,
    event_pids,
    warnings,
    violated,
    pending_exit,
    migrating_leader,
    check_properties,
    trace,
    coverage,
    op_steps,
    marks,
    #[cfg(any(test, feature = "planted-bugs"))]
    planted,
});

/// Upper bound on loop iterations that must make progress (transfer_tasks): more than this
/// and the model reports a hang, as the kernel would spin.
pub fn hang_bound(live_tasks: usize) -> usize {
    live_tasks + 2
}

impl World {
    /// The world of model.md §2: roots of every hierarchy, `init_css_set` linking them all,
    /// pid 1 on it.
    pub fn new(setup: &Setup) -> World {
        let n = setup.hierarchies.len() + 1;
        let mut bound = 0u8;
        for h in &setup.hierarchies {
            for c in &h.controllers {
                bound |= c.bit();
            }
        }
        let mut w = World {
            hiers: Vec::with_capacity(n),
            cgroups: Vec::with_capacity(32),
            csets: Vec::with_capacity(32),
            tasks: Vec::with_capacity(64),
            lists: Default::default(),
            charge_move: None,
            scratch: Vec::with_capacity(16),
            spare_task_lists: Vec::new(),
            faults: FaultPlan::default(),
            allocs: 0,
            can_attach_calls: [0; 6],
            release_queued: Vec::new(),
            silenced: 0,
            events: Vec::new(),
            event_pids: Vec::new(),
            warnings: Vec::new(),
            violated: 0,
            pending_exit: None,
            migrating_leader: None,
            check_properties: false,
            trace: Trace::default(),
            coverage: Coverage::default(),
            op_steps: 0,
            marks: 0,
            #[cfg(any(test, feature = "planted-bugs"))]
            planted: None,
        };
        for h in 0..n {
            let (controllers, notify) = if h == 0 {
                (0x3f & !bound, false)
            } else {
                let hs = &setup.hierarchies[h - 1];
                let bits = hs.controllers.iter().fold(0u8, |a, c| a | c.bit());
                (bits, hs.notify_on_release)
            };
            let root = w.cgroups.len() as CgId;
            w.cgroups.push(Cgroup {
                hier: h as u8,
                parent: None,
                name: String::new(),
                removed: false,
                children: Vec::new(),
                cset_links: vec![INIT_CSET],
                notify_on_release: notify,
                releasable: false,
                attach_in_progress: 0,
            });
            w.hiers.push(Hierarchy { root, controllers });
        }
        let mut cgrps = [0; MAX_HIERS];
        for (h, hier) in w.hiers.iter().enumerate() {
            cgrps[h] = hier.root;
        }
        // init_css_set: one base reference forever, plus pid 1's.
        w.csets.push(Cset {
            live: true,
            refcount: 2,
            cgrps,
            key: tuple_key(&cgrps, n),
            tasks: vec![1],
            ..Cset::default()
        });
        w.tasks.push(Task::absent());
        w.tasks.push(Task {
            state: TaskState::Live,
            leader: 1,
            group: vec![1],
            cset: INIT_CSET,
            cg_list: Some((INIT_CSET, TaskList::Tasks)),
        });
        w
    }

    pub fn n_hiers(&self) -> usize {
        self.hiers.len()
    }

    /// Starts an operation: arms its fault plan and clears the per-operation records.
    pub fn begin_op(&mut self, faults: FaultPlan) {
        self.faults = faults;
        self.allocs = 0;
        self.can_attach_calls = [0; 6];
        self.release_queued.clear();
        self.silenced = 0;
        self.events.clear();
        self.event_pids.clear();
        self.warnings.clear();
        self.violated = 0;
        self.pending_exit = faults.exit;
        self.migrating_leader = None;
        self.trace.clear();
        self.op_steps = 0;
        self.marks = 0;
    }

    /// Leaves a piece of evidence about this operation ([`crate::trace::mark`]).
    #[inline]
    pub fn mark(&mut self, m: u16) {
        self.marks |= m;
    }

    /// Records an invariant broken in the middle of the operation.
    pub fn violate(&mut self, bit: u16) {
        self.violated |= bit;
    }

    /// Whether planted bug `b` is switched on in this world: the guard of every planted line.
    #[cfg(any(test, feature = "planted-bugs"))]
    #[inline]
    pub fn bug(&self, b: Bug) -> bool {
        self.planted == Some(b)
    }

    /// Whether planted bug `b` is switched on: never, in the normal build. A `const fn`
    /// returning `false`, so every planted line compiles away.
    #[cfg(not(any(test, feature = "planted-bugs")))]
    #[inline(always)]
    pub const fn bug(&self, _b: Bug) -> bool {
        false
    }

    /// Records a kernel-named step (trace and coverage).
    #[inline]
    pub fn step(&mut self, s: Step) {
        self.op_steps |= 1 << s.point();
        self.coverage.hit(s);
        self.trace.push(s);
    }

    /// A `WARN_ON` that fired: recorded, never a panic.
    pub fn warn(&mut self, w: Warning) {
        self.step(Step::Warn(w));
        self.warnings.push(w);
    }

    pub fn task(&self, pid: Pid) -> &Task {
        &self.tasks[pid as usize]
    }

    /// The task, or `None` if the pid was never forked or is gone.
    pub fn existing(&self, pid: Pid) -> Option<&Task> {
        self.tasks.get(pid as usize).filter(|t| t.exists())
    }

    pub fn live_task_count(&self) -> usize {
        self.tasks.iter().filter(|t| t.exists()).count()
    }

    pub fn ensure_pid_slot(&mut self, pid: Pid) {
        debug_assert!(pid <= MAX_PID);
        while self.tasks.len() <= pid as usize {
            self.tasks.push(Task::absent());
        }
    }

    /// Resolves a path to a live cgroup.
    pub fn resolve(&self, path: &CgPath) -> Option<CgId> {
        let mut cg = self.hiers.get(path.hier as usize)?.root;
        for part in &path.parts {
            cg = *self.cgroups[cg as usize]
                .children
                .iter()
                .find(|&&c| self.cgroups[c as usize].name == *part)?;
        }
        Some(cg)
    }

    /// The path of a cgroup, for observations and reports.
    pub fn path(&self, cg: CgId) -> CgPath {
        let mut parts = Vec::new();
        let mut c = cg;
        while let Some(p) = self.cgroups[c as usize].parent {
            parts.push(self.cgroups[c as usize].name.clone());
            c = p;
        }
        parts.reverse();
        CgPath {
            hier: self.cgroups[cg as usize].hier,
            parts,
        }
    }

    /// Controllers bound to `cgrp`'s hierarchy, in id order: the kernel's `for_each_css`.
    pub fn controllers_of(&self, cgrp: CgId) -> impl Iterator<Item = Controller> {
        let bits = self.hiers[self.cgroups[cgrp as usize].hier as usize].controllers;
        Controller::ALL
            .into_iter()
            .filter(move |c| bits & c.bit() != 0)
    }

    /// `cset_cgroup_from_root()` / `task_cgroup_from_root()`.
    #[inline]
    pub fn cset_cgroup(&self, cset: CsetId, hier: u8) -> CgId {
        self.csets[cset as usize].cgrps[hier as usize]
    }

    // ----- list operations on task `cg_list` nodes -----

    fn task_list_mut(&mut self, cset: CsetId, which: TaskList) -> &mut Vec<Pid> {
        let c = &mut self.csets[cset as usize];
        match which {
            TaskList::Tasks => &mut c.tasks,
            TaskList::MgTasks => &mut c.mg_tasks,
        }
    }

    /// `list_del_init(&task->cg_list)`.
    pub fn task_list_del(&mut self, pid: Pid) {
        if let Some((cset, which)) = self.tasks[pid as usize].cg_list.take() {
            let l = self.task_list_mut(cset, which);
            if let Some(i) = l.iter().position(|&p| p == pid) {
                l.remove(i);
            }
        }
    }

    /// `list_add(&task->cg_list, &cset->{tasks,mg_tasks})`.
    pub fn task_list_add(&mut self, pid: Pid, cset: CsetId, which: TaskList) {
        self.task_list_mut(cset, which).insert(0, pid);
        self.tasks[pid as usize].cg_list = Some((cset, which));
    }

    /// `list_move(&task->cg_list, &cset->…)`.
    pub fn task_list_move(&mut self, pid: Pid, cset: CsetId, which: TaskList) {
        self.task_list_del(pid);
        self.task_list_add(pid, cset, which);
    }

    /// `list_move_tail(&task->cg_list, &cset->…)`.
    pub fn task_list_move_tail(&mut self, pid: Pid, cset: CsetId, which: TaskList) {
        self.task_list_del(pid);
        self.task_list_mut(cset, which).push(pid);
        self.tasks[pid as usize].cg_list = Some((cset, which));
    }

    /// `list_splice_init(&cset->mg_tasks, &cset->tasks)`: mg_tasks go in front of tasks.
    pub fn splice_mg_tasks_init(&mut self, cset: CsetId) {
        let c = &mut self.csets[cset as usize];
        if c.mg_tasks.is_empty() {
            return;
        }
        let moved = std::mem::take(&mut c.mg_tasks);
        c.tasks.splice(0..0, moved.iter().copied());
        for &p in &moved {
            self.tasks[p as usize].cg_list = Some((cset, TaskList::Tasks));
        }
        // Give the buffer back so the step loop does not allocate.
        let mut moved = moved;
        moved.clear();
        self.csets[cset as usize].mg_tasks = moved;
    }

    /// `list_splice_tail_init(&cset->mg_tasks, &cset->tasks)`: mg_tasks go behind tasks. The
    /// seed never does this here (only a planted bug, [`Bug::ReleaseSplicesTail`], does); the
    /// kernel does from v3.15 (1b9aba49).
    pub fn splice_mg_tasks_tail_init(&mut self, cset: CsetId) {
        let c = &mut self.csets[cset as usize];
        let moved = std::mem::take(&mut c.mg_tasks);
        c.tasks.extend_from_slice(&moved);
        for &p in &moved {
            self.tasks[p as usize].cg_list = Some((cset, TaskList::Tasks));
        }
        let mut moved = moved;
        moved.clear();
        self.csets[cset as usize].mg_tasks = moved;
    }

    // ----- list operations on css_set `mg_node` / `mg_preload_node` -----

    /// `list_del_init(&cset->mg_node)`.
    pub fn mg_node_del(&mut self, cset: CsetId) {
        if let Some(l) = self.csets[cset as usize].mg_node.take() {
            remove_item(&mut self.lists[l as usize], cset);
        }
    }

    /// `list_add(&cset->mg_node, list)`.
    pub fn mg_node_add(&mut self, cset: CsetId, list: CsetList) {
        self.lists[list as usize].insert(0, cset);
        self.csets[cset as usize].mg_node = Some(list);
    }

    /// `list_move(&cset->mg_node, list)`.
    pub fn mg_node_move(&mut self, cset: CsetId, list: CsetList) {
        self.mg_node_del(cset);
        self.mg_node_add(cset, list);
    }

    /// `list_add_tail(&cset->mg_node, list)`.
    pub fn mg_node_add_tail(&mut self, cset: CsetId, list: CsetList) {
        self.lists[list as usize].push(cset);
        self.csets[cset as usize].mg_node = Some(list);
    }

    /// `list_move_tail(&cset->mg_node, list)`.
    pub fn mg_node_move_tail(&mut self, cset: CsetId, list: CsetList) {
        self.mg_node_del(cset);
        self.mg_node_add_tail(cset, list);
    }

    /// `list_add_tail(&cset->mg_preload_node, list)`.
    pub fn preload_node_add_tail(&mut self, cset: CsetId, list: CsetList) {
        self.lists[list as usize].push(cset);
        self.csets[cset as usize].mg_preload_node = Some(list);
    }

    /// `list_add_tail(&cset->mg_dst_preload_node, list)` (v5.19).
    pub fn dst_preload_node_add_tail(&mut self, cset: CsetId, list: CsetList) {
        self.lists[list as usize].push(cset);
        self.csets[cset as usize].mg_dst_preload_node = Some(list);
    }

    /// `list_del_init(&cset->mg_dst_preload_node)` (v5.19).
    pub fn dst_preload_node_del(&mut self, cset: CsetId) {
        if let Some(l) = self.csets[cset as usize].mg_dst_preload_node.take() {
            remove_item(&mut self.lists[l as usize], cset);
        }
    }

    /// `list_splice_tail(_init)(from, to)` over `mg_preload_node`: the whole of `from` goes
    /// behind `to`'s last element.
    pub fn splice_preload_lists_tail(&mut self, from: CsetList, to: CsetList) {
        let moved = std::mem::take(&mut self.lists[from as usize]);
        for &c in &moved {
            self.csets[c as usize].mg_preload_node = Some(to);
        }
        self.lists[to as usize].extend_from_slice(&moved);
        let mut moved = moved;
        moved.clear();
        self.lists[from as usize] = moved;
    }

    /// Whether a migration holds a reference on `cset` through one of its preload lists: what
    /// pins a destination from `cgroup_migrate_prepare_dst` to `cgroup_migrate_finish`.
    pub fn preload_pinned(&self, cset: CsetId) -> bool {
        let c = &self.csets[cset as usize];
        c.mg_preload_node.is_some() || c.mg_dst_preload_node.is_some()
    }

    /// `list_del_init(&cset->mg_preload_node)`.
    pub fn preload_node_del(&mut self, cset: CsetId) {
        if let Some(l) = self.csets[cset as usize].mg_preload_node.take() {
            remove_item(&mut self.lists[l as usize], cset);
        }
    }

    /// `list_add(&cset->mg_preload_node, list)`.
    pub fn preload_node_add(&mut self, cset: CsetId, list: CsetList) {
        self.lists[list as usize].insert(0, cset);
        self.csets[cset as usize].mg_preload_node = Some(list);
    }

    /// `list_splice(_init)(from, to)`: the whole of `from` goes in front of `to`'s first
    /// element; the members' nodes now belong to `to`.
    pub fn splice_lists(&mut self, from: CsetList, to: CsetList, via_preload_node: bool) {
        let moved = std::mem::take(&mut self.lists[from as usize]);
        for &c in &moved {
            let cs = &mut self.csets[c as usize];
            if via_preload_node {
                cs.mg_preload_node = Some(to);
            } else {
                cs.mg_node = Some(to);
            }
        }
        self.lists[to as usize].splice(0..0, moved.iter().copied());
        let mut moved = moved;
        moved.clear();
        self.lists[from as usize] = moved;
    }

    // ----- shared machinery (model.md §3) -----

    /// `get_css_set()`. On a freed set (a tombstone) the kernel would write to freed memory:
    /// recorded as a warning, the count still taken so the invariants see it.
    #[inline]
    pub fn get_css_set(&mut self, cset: CsetId) {
        if !self.csets[cset as usize].live {
            self.warn(Warning::UseAfterFree);
        }
        self.csets[cset as usize].refcount += 1;
    }

    /// `put_css_set_locked(cset, taskexit)`: at zero the css_set leaves the hash, is unlinked
    /// from every cgroup (checking each emptied cgroup for release) and freed; its slot stays
    /// as a tombstone. A put on a freed set is a use-after-free: recorded, nothing freed twice.
    pub fn put_css_set(&mut self, cset: CsetId, taskexit: bool) {
        if !self.csets[cset as usize].live {
            self.warn(Warning::UseAfterFree);
            self.csets[cset as usize].refcount -= 1;
            return;
        }
        let c = &mut self.csets[cset as usize];
        c.refcount -= 1;
        if c.refcount > 0 {
            return;
        }
        if c.refcount < 0 || cset == INIT_CSET {
            // The kernel would have a use-after-free here; keep the set so invariants see it.
            self.warn(Warning::RefcountUnderflow);
            return;
        }
        self.step(Step::PutCssSetFree);
        let c = &mut self.csets[cset as usize];
        c.live = false;
        for list in [&mut c.tasks, &mut c.mg_tasks] {
            if list.is_empty() && list.capacity() > 0 {
                self.spare_task_lists.push(std::mem::take(list));
            }
        }
        for h in 0..self.n_hiers() {
            let cg = self.csets[cset as usize].cgrps[h];
            let cgrp = &mut self.cgroups[cg as usize];
            remove_item(&mut cgrp.cset_links, cset);
            if cgrp.cset_links.is_empty() && cgrp.notify_on_release {
                if taskexit {
                    cgrp.releasable = true;
                } else if !cgrp.releasable {
                    self.silenced |= 1 << (cg % 64);
                }
                self.check_for_release(cg);
            }
        }
    }

    /// `check_for_release()`: queue a releasable, empty, childless cgroup once.
    pub fn check_for_release(&mut self, cg: CgId) {
        let c = &self.cgroups[cg as usize];
        if c.releasable
            && c.notify_on_release
            && c.cset_links.is_empty()
            && c.children.is_empty()
            && !self.release_queued.contains(&cg)
        {
            self.step(Step::CheckForReleaseQueued);
            self.release_queued.push(cg);
        }
    }

    /// One allocation point (`kzalloc`): false when the fault plan makes it fail.
    fn alloc(&mut self) -> bool {
        self.allocs += 1;
        if self.faults.alloc == Some(self.allocs) {
            self.step(Step::AllocFailed(self.allocs as u8));
            false
        } else {
            true
        }
    }

    /// `find_existing_css_set()`: the hash lookup.
    fn find_existing_css_set(&self, cgrps: &[CgId; MAX_HIERS]) -> Option<CsetId> {
        let n = self.n_hiers();
        self.csets
            .iter()
            .position(|c| c.live && c.cgrps[..n] == cgrps[..n])
            .map(|i| i as CsetId)
    }

    /// `find_css_set(old_cset, cgrp)`: the css_set of `old` with `cgrp` substituted in its
    /// hierarchy, referenced; created (allocations: the set, then one link per hierarchy) when
    /// none exists. `None` = `-ENOMEM`.
    pub fn find_css_set(&mut self, old: CsetId, cgrp: CgId) -> Option<CsetId> {
        let n = self.n_hiers();
        let mut cgrps = self.csets[old as usize].cgrps;
        cgrps[self.cgroups[cgrp as usize].hier as usize] = cgrp;
        if let Some(found) = self.find_existing_css_set(&cgrps) {
            self.step(Step::FindCssSetFound);
            self.get_css_set(found);
            return Some(found);
        }
        // kzalloc(css_set), then allocate_cgrp_cset_links(): any failure frees what was
        // allocated so far, which leaves nothing behind in the model.
        if !self.alloc() {
            self.step(Step::FindCssSetEnomem);
            return None;
        }
        for _ in 0..n {
            if !self.alloc() {
                self.step(Step::FindCssSetEnomem);
                return None;
            }
        }
        self.step(Step::FindCssSetCreated);
        // A fresh slot: freed ones stay tombstones.
        self.csets.push(Cset {
            live: true,
            refcount: 1,
            cgrps,
            key: tuple_key(&cgrps, n),
            tasks: self.spare_task_lists.pop().unwrap_or_default(),
            mg_tasks: self.spare_task_lists.pop().unwrap_or_default(),
            ..Cset::default()
        });
        let id = (self.csets.len() - 1) as CsetId;
        // link_css_set(): the new link goes at the head of each cgroup's cset_links, and at
        // the tail of the css_set's own list (hierarchy order).
        for &cg in &cgrps[..n] {
            self.cgroups[cg as usize].cset_links.insert(0, id);
        }
        Some(id)
    }

    /// `cgroup_task_migrate(old_cgrp, tsk, new_cset)`.
    pub fn cgroup_task_migrate(&mut self, old_cgrp: CgId, pid: Pid, new_cset: CsetId) {
        self.cgroup_task_migrate_at(old_cgrp, pid, new_cset, false);
    }

    /// `cgroup_task_migrate` with the task put at the head (`list_move`, the seed) or the tail
    /// (`list_move_tail`, from 1b9aba49 in v3.15) of the new set's `mg_tasks`.
    pub fn cgroup_task_migrate_at(
        &mut self,
        old_cgrp: CgId,
        pid: Pid,
        new_cset: CsetId,
        tail: bool,
    ) {
        self.step(Step::TaskMigrate(pid));
        if self.tasks[pid as usize].exiting() {
            self.warn(Warning::TaskMigrateExiting);
        }
        let old = self.tasks[pid as usize].cset;
        self.get_css_set(new_cset);
        self.tasks[pid as usize].cset = new_cset;
        if tail {
            self.task_list_move_tail(pid, new_cset, TaskList::MgTasks);
        } else {
            self.task_list_move(pid, new_cset, TaskList::MgTasks);
        }
        self.cgroups[old_cgrp as usize].releasable = true;
        self.put_css_set(old, false);
    }

    /// The first task `css_task_iter` finds in `cgrp`: walk `cset_links` in order, and in each
    /// css_set its `tasks`, then its `mg_tasks`.
    pub fn css_task_iter_first(&self, cgrp: CgId) -> Option<Pid> {
        self.cgroups[cgrp as usize]
            .cset_links
            .iter()
            .find_map(|&c| {
                let cs = &self.csets[c as usize];
                cs.tasks.first().or(cs.mg_tasks.first()).copied()
            })
    }

    /// The tasks a migration walks with `do { … } while_each_thread(leader, task)`, stopping
    /// after the first when not `threadgroup`. Written into `out` to keep allocation off the
    /// step loop.
    pub fn migration_targets(&self, leader: Pid, threadgroup: bool, out: &mut Vec<Pid>) {
        out.clear();
        if !threadgroup {
            out.push(leader);
            return;
        }
        let group_leader = self.tasks[leader as usize].leader;
        let group = &self.tasks[group_leader as usize].group;
        // while_each_thread walks the ring starting at `leader`.
        let start = group.iter().position(|&p| p == leader).unwrap_or(0);
        out.extend(group[start..].iter().chain(group[..start].iter()).copied());
    }
}

fn remove_item(v: &mut Vec<CsetId>, x: CsetId) {
    if let Some(i) = v.iter().position(|&c| c == x) {
        v.remove(i);
    }
}

/// A 64-bit mix (splitmix64's finaliser): the building block of every fingerprint.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Ordered combination of two hashes.
#[inline]
pub fn comb(h: u64, x: u64) -> u64 {
    mix(h.rotate_left(5) ^ x.wrapping_add(0x9e37_79b9_7f4a_7c15))
}

fn tuple_key(cgrps: &[CgId; MAX_HIERS], n: usize) -> u64 {
    cgrps[..n]
        .iter()
        .fold(0x1234_5678, |h, &c| comb(h, u64::from(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A freed css_set keeps its slot as a tombstone: the next set gets a fresh slot, and a
    /// reference taken on the freed one is recorded as a use-after-free.
    #[test]
    fn freed_slots_are_tombstones_not_reused() {
        let mut w = World::new(&Setup::default());
        let a = w.find_css_set(INIT_CSET, w.hiers[1].root);
        assert_eq!(a, Some(INIT_CSET), "same tuple: the existing set");
        w.put_css_set(INIT_CSET, false);
        let root = w.hiers[1].root;
        w.cgroups.push(Cgroup {
            hier: 1,
            parent: Some(root),
            name: "a".into(),
            removed: false,
            children: vec![],
            cset_links: vec![],
            notify_on_release: false,
            releasable: false,
            attach_in_progress: 0,
        });
        let cg = (w.cgroups.len() - 1) as CgId;
        let x = w.find_css_set(INIT_CSET, cg).expect("allocates");
        w.put_css_set(x, false);
        assert!(!w.csets[x as usize].live);
        let y = w.find_css_set(INIT_CSET, cg).expect("allocates");
        assert_ne!(x, y, "a freed slot is not reused");
        assert!(w.warnings.is_empty());
        w.get_css_set(x);
        assert_eq!(w.warnings, [Warning::UseAfterFree]);
        w.put_css_set(x, false);
        assert_eq!(w.warnings, [Warning::UseAfterFree; 2]);
    }
}
