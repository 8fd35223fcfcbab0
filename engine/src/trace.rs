//! What a model did, in the kernel's words: the steps each operation took (for `cgdiff run` and
//! `explain`), the `WARN_ON`s that fired, and cheap per-step counters for model coverage.

use crate::case::{Controller, Errno, Pid};
use crate::world::CgId;
use std::fmt;

/// A kernel `WARN_ON` that fired. The kernel prints a backtrace and carries on; so do we.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Warning {
    /// `WARN_ON(src_cset->mg_src_cgrp)` (add_src) — a source set still marked from before.
    MgSrcCgrpSet,
    /// `WARN_ON(!list_empty(&cset->mg_tasks))`.
    MgTasksNotEmpty,
    /// `WARN_ON(!list_empty(&cset->mg_node))`.
    MgNodeNotEmpty,
    /// `WARN_ON_ONCE(src_cset->mg_dst_cset || dst_cset->mg_dst_cset)` (prepare_dst).
    MgDstCsetSet,
    /// `WARN_ON_ONCE(tsk->flags & PF_EXITING)` (cgroup_task_migrate).
    TaskMigrateExiting,
    /// A put took a refcount below zero, or freed `init_css_set`: a use-after-free in the kernel.
    RefcountUnderflow,
    /// A preloaded source without a destination reached `cgroup_migrate`: a NULL dereference
    /// in the kernel.
    NullDstCset,
    /// `VM_BUG_ON(mc.from)` (`mem_cgroup_can_attach`, v3.14 mm/memcontrol.c): memory's
    /// can_attach starts a charge move while one is still in progress. A BUG on kernels built
    /// with `CONFIG_DEBUG_VM`; without it the kernel carries on and overwrites (model.md §6).
    VmBugOnMcFrom,
    /// A reference taken or dropped on a css_set that was already freed: a use-after-free in
    /// the kernel (what KASAN would report).
    UseAfterFree,
}

impl Warning {
    pub fn name(self) -> &'static str {
        match self {
            Warning::MgSrcCgrpSet => "WARN_ON(src_cset->mg_src_cgrp)",
            Warning::MgTasksNotEmpty => "WARN_ON(!list_empty(&cset->mg_tasks))",
            Warning::MgNodeNotEmpty => "WARN_ON(!list_empty(&cset->mg_node))",
            Warning::MgDstCsetSet => "WARN_ON_ONCE(src_cset->mg_dst_cset || dst_cset->mg_dst_cset)",
            Warning::TaskMigrateExiting => "WARN_ON_ONCE(tsk->flags & PF_EXITING)",
            Warning::RefcountUnderflow => "css_set refcount underflow",
            Warning::NullDstCset => "NULL cset->mg_dst_cset in cgroup_migrate",
            Warning::VmBugOnMcFrom => "VM_BUG_ON(mc.from)",
            Warning::UseAfterFree => "use-after-free: css_set used after it was freed",
        }
    }
}

/// Evidence a model leaves about one operation beyond its steps: facts the recognisers of
/// `findings` read to tell one root cause from another. One bit each, cleared per operation
/// ([`crate::world::World::marks`]); setting one is an `|=`, so the step loop stays cheap.
pub mod mark {
    /// Four-stage's `prepare_dst` failed with ENOMEM on the allocation for an idle source (a
    /// preloaded css_set no moving target is on: an exiting or zombie target's set, or a set of
    /// `from` with no live task), or after allocations made for one (which legacy never makes, so its count of allocations is
    /// behind four-stage's).
    pub const IDLE_ENOMEM: u16 = 1 << 0;
    /// `cgroup_migrate_finish` freed a destination built only for idle sources, and that queued
    /// a release notification of a cgroup that was releasable before the operation.
    pub const IDLE_DST_RELEASE: u16 = 1 << 1;
    /// `cgroup_migrate_finish` freed a destination built for a source with tasks to move, unused
    /// because the migration failed (can_attach, or a later allocation), and that queued a
    /// release notification of a cgroup that was releasable before the operation.
    pub const UNUSED_DST_RELEASE: u16 = 1 << 2;
    /// A taskset handed to can_attach drew from two or more source css_sets.
    pub const TSET_MULTI_SRC: u16 = 1 << 3;
    /// `prepare_dst` created two or more css_sets in one go.
    pub const MULTI_CREATED: u16 = 1 << 4;
    /// Legacy's ENOMEM path past `out_cancel_attach` left controller state raised by a
    /// can_attach (cpuset's attach_in_progress, memory's charge move) that nothing will undo.
    pub const UNCANCELLED_CAN_ATTACH: u16 = 1 << 5;
    /// A put in `cgroup_migrate_finish` freed a css_set and queued a release notification.
    pub const FINISH_RELEASE: u16 = 1 << 6;
    /// A shared-node design's `prepare_dst` found a destination's one `mg_preload_node` busy
    /// on the *source* list (the destination is also a source, not yet visited): it left the
    /// destination off the destination list and put the extra reference. The start of
    /// 07fd5b6cdf3c's window; it also changes the order in which the walk looks up and frees
    /// sets.
    pub const DST_NODE_ON_SRC: u16 = 1 << 7;
}

/// One step a model took. The names are the kernel functions (and the branches in them) that
/// the model code mirrors; payloads say which task, controller or allocation was involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    // Entry points.
    CgroupAttachTask {
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    },
    CgroupTransferTasks {
        to: CgId,
        from: CgId,
    },
    MultiMigrate {
        dst: CgId,
        targets: u8,
    },
    AttachTaskAll {
        hier: u8,
    },
    // Legacy cgroup_attach_task, step 1 (collection) and its error paths.
    LegacySkipExiting(Pid),
    LegacySkipInDst(Pid),
    LegacyNewSrc(Pid),
    LegacyCollect(Pid),
    LegacyEnomemNoCancel,
    // Four-stage stages.
    AddSrcSameCgroup,
    AddSrcAlreadyPreloaded,
    AddSrc,
    PrepareDst,
    PrepareDstDuplicate,
    PrepareDstEnomem,
    Migrate {
        leader: Pid,
    },
    MigrateSkipExiting(Pid),
    MigrateSkipNotPreloaded(Pid),
    MigrateCollect(Pid),
    MigrateFinish,
    // Shared by both designs.
    NothingToMigrate,
    CanAttach(Controller),
    CanAttachFailed(Controller, Errno),
    CancelAttach(Controller),
    Attach(Controller),
    TaskMigrate(Pid),
    ReleaseTset,
    FindCssSetFound,
    FindCssSetCreated,
    FindCssSetEnomem,
    AllocFailed(u8),
    PutCssSetFree,
    CheckForReleaseQueued,
    TransferNext(Pid),
    TransferEmpty,
    Hang,
    Warn(Warning),
    // Later designs (v3.15 …), and exits between the stages.
    /// v3.15+ `cgroup_migrate`: "leave @task alone if post_fork() hasn't linked it yet".
    MigrateSkipUnlinked(Pid),
    /// v3.16+ `cgroup_migrate_prepare_dst`: a source whose destination is itself is dropped.
    PrepareDstSameSet,
    /// v4.15 `cgroup_transfer_tasks`: the iterator passes over a `PF_EXITING` task.
    TransferSkipExiting(Pid),
    /// The `cgroup_exit` of a task landing between two stages (or at the end of the
    /// operation); `done` is false when the task had no exit to finish.
    InterleavedExit {
        pid: Pid,
        after: crate::case::StagePoint,
        done: bool,
    },
}

/// Number of coverage counters: one per [`Step`] variant.
pub const COVERAGE_POINTS: usize = 41;

/// Coverage points of legacy `cgroup_attach_task`'s own branches (collection and its ENOMEM
/// path): no staged design has them.
pub fn legacy_point(point: usize) -> bool {
    (4..=8).contains(&point)
}

/// Coverage points of the seed's four stages (`cgroup_migrate_add_src` …
/// `cgroup_migrate_finish`): every staged design has them, legacy none.
pub fn stage_point(point: usize) -> bool {
    (9..=19).contains(&point)
}

/// Coverage points of the code every design shares (entry points, controllers, css_set
/// machinery, transfer loop, warnings).
pub fn shared_point(point: usize) -> bool {
    point < 37 && !legacy_point(point) && !stage_point(point)
}

/// Coverage point of the exits that land between stages (every staged design has it).
pub const INTERLEAVED_EXIT_POINT: usize = 40;

impl Step {
    /// The coverage counter this step increments (payloads ignored).
    pub fn point(&self) -> usize {
        match self {
            Step::CgroupAttachTask { .. } => 0,
            Step::CgroupTransferTasks { .. } => 1,
            Step::MultiMigrate { .. } => 2,
            Step::AttachTaskAll { .. } => 3,
            Step::LegacySkipExiting(_) => 4,
            Step::LegacySkipInDst(_) => 5,
            Step::LegacyNewSrc(_) => 6,
            Step::LegacyCollect(_) => 7,
            Step::LegacyEnomemNoCancel => 8,
            Step::AddSrcSameCgroup => 9,
            Step::AddSrcAlreadyPreloaded => 10,
            Step::AddSrc => 11,
            Step::PrepareDst => 12,
            Step::PrepareDstDuplicate => 13,
            Step::PrepareDstEnomem => 14,
            Step::Migrate { .. } => 15,
            Step::MigrateSkipExiting(_) => 16,
            Step::MigrateSkipNotPreloaded(_) => 17,
            Step::MigrateCollect(_) => 18,
            Step::MigrateFinish => 19,
            Step::NothingToMigrate => 20,
            Step::CanAttach(_) => 21,
            Step::CanAttachFailed(..) => 22,
            Step::CancelAttach(_) => 23,
            Step::Attach(_) => 24,
            Step::TaskMigrate(_) => 25,
            Step::ReleaseTset => 26,
            Step::FindCssSetFound => 27,
            Step::FindCssSetCreated => 28,
            Step::FindCssSetEnomem => 29,
            Step::AllocFailed(_) => 30,
            Step::PutCssSetFree => 31,
            Step::CheckForReleaseQueued => 32,
            Step::TransferNext(_) => 33,
            Step::TransferEmpty => 34,
            Step::Hang => 35,
            Step::Warn(_) => 36,
            Step::MigrateSkipUnlinked(_) => 37,
            Step::PrepareDstSameSet => 38,
            Step::TransferSkipExiting(_) => 39,
            Step::InterleavedExit { .. } => 40,
        }
    }

    /// The kernel-side name of a coverage point, for reports.
    pub fn point_name(point: usize) -> &'static str {
        const NAMES: [&str; COVERAGE_POINTS] = [
            "cgroup_attach_task",
            "cgroup_transfer_tasks",
            "multi-target migrate",
            "cgroup_attach_task_all",
            "cgroup_attach_task: skip PF_EXITING",
            "cgroup_attach_task: skip task already in dst",
            "cgroup_attach_task: new source css_set",
            "cgroup_attach_task: collect task",
            "cgroup_attach_task: ENOMEM -> out_release_tset (no cancel_attach)",
            "cgroup_migrate_add_src: already in dst",
            "cgroup_migrate_add_src: already preloaded",
            "cgroup_migrate_add_src: preload",
            "cgroup_migrate_prepare_dst",
            "cgroup_migrate_prepare_dst: dst already collected (put)",
            "cgroup_migrate_prepare_dst: ENOMEM -> err",
            "cgroup_migrate",
            "cgroup_migrate: skip PF_EXITING",
            "cgroup_migrate: skip css_set not preloaded",
            "cgroup_migrate: collect task",
            "cgroup_migrate_finish",
            "nothing to migrate: return 0",
            "can_attach",
            "can_attach failed -> out_cancel_attach",
            "cancel_attach",
            "attach",
            "cgroup_task_migrate",
            "out_release_tset",
            "find_css_set: existing",
            "find_css_set: created",
            "find_css_set: ENOMEM",
            "allocation failed (fault)",
            "put_css_set: freed",
            "check_for_release: queued",
            "cgroup_transfer_tasks: next task",
            "cgroup_transfer_tasks: from is empty",
            "hang (no progress within bound)",
            "WARN_ON fired",
            "cgroup_migrate: skip task post_fork() has not linked",
            "cgroup_migrate_prepare_dst: src is dst, dropped",
            "cgroup_transfer_tasks: skip PF_EXITING",
            "cgroup_exit between stages",
        ];
        NAMES.get(point).copied().unwrap_or("?")
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Step::CgroupAttachTask {
                dst,
                leader,
                threadgroup,
            } => write!(
                f,
                "cgroup_attach_task(cgrp#{dst}, {leader}, threadgroup={threadgroup})"
            ),
            Step::CgroupTransferTasks { to, from } => {
                write!(f, "cgroup_transfer_tasks(to=cgrp#{to}, from=cgrp#{from})")
            }
            Step::MultiMigrate { dst, targets } => {
                write!(f, "multi-target migrate(cgrp#{dst}, {targets} targets)")
            }
            Step::AttachTaskAll { hier } => write!(f, "cgroup_attach_task_all: hierarchy h{hier}"),
            Step::LegacySkipExiting(p) => write!(f, "skip {p}: PF_EXITING"),
            Step::LegacySkipInDst(p) => write!(f, "skip {p}: already in dst"),
            Step::LegacyNewSrc(p) => write!(f, "{p}: new src css_set (get, list_add mg_node)"),
            Step::LegacyCollect(p) => write!(f, "{p}: list_move to mg_tasks"),
            Step::LegacyEnomemNoCancel => {
                write!(
                    f,
                    "find_css_set failed: goto out_release_tset (no cancel_attach)"
                )
            }
            Step::AddSrcSameCgroup => write!(f, "cgroup_migrate_add_src: already in dst"),
            Step::AddSrcAlreadyPreloaded => write!(f, "cgroup_migrate_add_src: already preloaded"),
            Step::AddSrc => write!(f, "cgroup_migrate_add_src: get, list_add mg_preload_node"),
            Step::PrepareDst => write!(f, "cgroup_migrate_prepare_dst"),
            Step::PrepareDstDuplicate => write!(f, "prepare_dst: dst already collected, put"),
            Step::PrepareDstEnomem => write!(f, "prepare_dst: find_css_set failed, goto err"),
            Step::Migrate { leader } => write!(f, "cgroup_migrate({leader})"),
            Step::MigrateSkipExiting(p) => write!(f, "skip {p}: PF_EXITING"),
            Step::MigrateSkipNotPreloaded(p) => write!(f, "skip {p}: css_set not preloaded"),
            Step::MigrateCollect(p) => write!(f, "{p}: list_move to mg_tasks, csets to tset"),
            Step::MigrateFinish => write!(f, "cgroup_migrate_finish"),
            Step::NothingToMigrate => write!(f, "no task to migrate: return 0"),
            Step::CanAttach(c) => write!(f, "{}.can_attach: 0", c.name()),
            Step::CanAttachFailed(c, e) => write!(f, "{}.can_attach: {e} (injected)", c.name()),
            Step::CancelAttach(c) => write!(f, "{}.cancel_attach", c.name()),
            Step::Attach(c) => write!(f, "{}.attach", c.name()),
            Step::TaskMigrate(p) => write!(f, "cgroup_task_migrate({p})"),
            Step::ReleaseTset => write!(f, "out_release_tset"),
            Step::FindCssSetFound => write!(f, "find_css_set: existing css_set"),
            Step::FindCssSetCreated => write!(f, "find_css_set: new css_set"),
            Step::FindCssSetEnomem => write!(f, "find_css_set: -ENOMEM"),
            Step::AllocFailed(n) => write!(f, "allocation #{n} failed (injected)"),
            Step::PutCssSetFree => write!(f, "put_css_set: refcount 0, freed"),
            Step::CheckForReleaseQueued => write!(f, "check_for_release: queued"),
            Step::TransferNext(p) => write!(f, "transfer: first task of from is {p}"),
            Step::TransferEmpty => write!(f, "transfer: from has no task"),
            Step::Hang => write!(f, "HANG: no progress within the bound"),
            Step::Warn(w) => write!(f, "WARNING: {}", w.name()),
            Step::MigrateSkipUnlinked(p) => write!(f, "skip {p}: cg_list empty (post_fork)"),
            Step::PrepareDstSameSet => write!(
                f,
                "prepare_dst: src_cset == dst_cset, list_del_init(src) and put both"
            ),
            Step::TransferSkipExiting(p) => write!(f, "transfer: skip {p}: PF_EXITING"),
            Step::InterleavedExit { pid, after, done } => {
                if done {
                    write!(f, "cgroup_exit({pid}) runs here (exit after {after})")
                } else {
                    write!(
                        f,
                        "exit of {pid} after {after}: not exiting, nothing to finish"
                    )
                }
            }
        }
    }
}

/// The step log of the current operation. Off on the hot path; `cgdiff run`, `explain` and the
/// determinism tests turn it on. The buffer is reused between operations.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub enabled: bool,
    pub steps: Vec<Step>,
}

impl Trace {
    #[inline]
    pub fn push(&mut self, s: Step) {
        if self.enabled {
            self.steps.push(s);
        }
    }

    pub fn clear(&mut self) {
        self.steps.clear();
    }
}

/// How often each step was reached, summed over everything a world ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage(pub [u64; COVERAGE_POINTS]);

impl Default for Coverage {
    fn default() -> Self {
        Coverage([0; COVERAGE_POINTS])
    }
}

impl Coverage {
    #[inline]
    pub fn hit(&mut self, s: Step) {
        self.0[s.point()] += 1;
    }

    pub fn add(&mut self, other: &Coverage) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}
