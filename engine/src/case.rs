//! The operation language: a [`Case`] is an initial setup plus a sequence of operations, each
//! with an optional fault plan. Cases name things the way a person would (pids, cgroup paths),
//! so a case file reads like a shell session and survives minimisation without renumbering.

use serde::Serialize;
use std::fmt;

/// A task id. pid 1 exists from the start; forks name the pid they create.
pub type Pid = u32;

/// Largest pid a case may use; keeps the per-pid tables of the models small.
pub const MAX_PID: Pid = 4096;

/// Mounted hierarchies a case may declare (the default hierarchy comes on top).
pub const MAX_MOUNTED: usize = 3;

/// All hierarchies, default included.
pub const MAX_HIERS: usize = MAX_MOUNTED + 1;

/// Deepest cgroup path a case may use (components below the root).
pub const MAX_DEPTH: usize = 4;

/// Most operations a case may have. Bounds what one case can cost the oracle (at worst half
/// the operations fork and the other half move every task: 1,000 × 1,000 task moves, a few
/// seconds), the minimiser and `cgdiff run`'s output; generated cases have 64 by default.
pub const MAX_OPS: usize = 2_000;

/// Most targets one `migrate-multi` may name.
pub const MAX_TARGETS: usize = 256;

/// Largest fault index (`fail-alloc=N`, the K of `fail-can-attach`): more than the allocations
/// or `can_attach` calls one operation can make with [`MAX_PID`] tasks (at most 5 allocations
/// per new css_set, one css_set per task).
pub const MAX_FAULT_INDEX: u32 = 65_535;

/// The controllers (subsystems), in the kernel's fixed id order: callbacks run in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Controller {
    Cpuset = 0,
    Cpu = 1,
    Cpuacct = 2,
    Memory = 3,
    Freezer = 4,
    Blkio = 5,
}

impl Controller {
    pub const ALL: [Controller; 6] = [
        Controller::Cpuset,
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Freezer,
        Controller::Blkio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpuset => "cpuset",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Freezer => "freezer",
            Controller::Blkio => "blkio",
        }
    }

    pub fn from_name(s: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.name() == s)
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Whether the controller has a `can_attach` callback (model.md §6); only those can be
    /// made to fail by a fault plan.
    pub fn has_can_attach(self) -> bool {
        matches!(
            self,
            Controller::Cpuset | Controller::Cpu | Controller::Memory | Controller::Blkio
        )
    }

    pub fn has_cancel_attach(self) -> bool {
        matches!(self, Controller::Cpuset | Controller::Memory)
    }

    pub fn has_attach(self) -> bool {
        matches!(
            self,
            Controller::Cpuset | Controller::Cpu | Controller::Memory | Controller::Freezer
        )
    }
}

/// Error numbers an operation can return. The can_attach errors a fault plan may name are a
/// subset ([`Errno::CAN_ATTACH`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Errno {
    ENOMEM,
    EBUSY,
    ESRCH,
    ENODEV,
    EINVAL,
    EEXIST,
    EPERM,
    ENOSPC,
    EAGAIN,
}

impl Errno {
    pub const ALL: [Errno; 9] = [
        Errno::ENOMEM,
        Errno::EBUSY,
        Errno::ESRCH,
        Errno::ENODEV,
        Errno::EINVAL,
        Errno::EEXIST,
        Errno::EPERM,
        Errno::ENOSPC,
        Errno::EAGAIN,
    ];
    /// What a failing `can_attach` may return in generated cases.
    pub const CAN_ATTACH: [Errno; 4] = [Errno::EINVAL, Errno::ENOSPC, Errno::EBUSY, Errno::EPERM];

    pub fn name(self) -> &'static str {
        match self {
            Errno::ENOMEM => "ENOMEM",
            Errno::EBUSY => "EBUSY",
            Errno::ESRCH => "ESRCH",
            Errno::ENODEV => "ENODEV",
            Errno::EINVAL => "EINVAL",
            Errno::EEXIST => "EEXIST",
            Errno::EPERM => "EPERM",
            Errno::ENOSPC => "ENOSPC",
            Errno::EAGAIN => "EAGAIN",
        }
    }

    pub fn from_name(s: &str) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.name() == s)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A mounted hierarchy of the setup. Hierarchy `hN` (N ≥ 1) is the N-th of these; `h0` is the
/// default hierarchy, which holds every controller bound nowhere else.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct HierarchySetup {
    /// Controllers bound to this hierarchy.
    pub controllers: Vec<Controller>,
    /// notify_on_release of the root (and so, by inheritance, of every new cgroup below it).
    pub notify_on_release: bool,
}

/// The world a case starts from: which hierarchies are mounted and what they bind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Setup {
    /// 1 to [`MAX_MOUNTED`] mounted hierarchies, `h1` first.
    pub hierarchies: Vec<HierarchySetup>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            hierarchies: vec![HierarchySetup::default()],
        }
    }
}

/// A cgroup named by hierarchy and path from its root, as `h1:/a/b`. Names, not ids, so a case
/// keeps meaning when operations before it are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CgPath {
    pub hier: u8,
    pub parts: Vec<String>,
}

impl CgPath {
    pub fn root(hier: u8) -> CgPath {
        CgPath {
            hier,
            parts: Vec::new(),
        }
    }

    pub fn child(&self, name: &str) -> CgPath {
        let mut parts = self.parts.clone();
        parts.push(name.to_string());
        CgPath {
            hier: self.hier,
            parts,
        }
    }

    pub fn parent(&self) -> Option<CgPath> {
        if self.parts.is_empty() {
            return None;
        }
        let mut parts = self.parts.clone();
        parts.pop();
        Some(CgPath {
            hier: self.hier,
            parts,
        })
    }

    pub fn is_root(&self) -> bool {
        self.parts.is_empty()
    }
}

impl fmt::Display for CgPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{}:", self.hier)?;
        if self.parts.is_empty() {
            return f.write_str("/");
        }
        for p in &self.parts {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

/// One target of a multi-target migrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Target {
    pub pid: Pid,
    /// Migrate the whole thread group (a `cgroup.procs` write) rather than the task alone.
    pub process: bool,
}

/// One operation. Each maps to one kernel entry point (see `docs/architecture.md`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    /// `fork()`: `child` is the pid the new task gets; `thread` joins the parent's group.
    Fork {
        parent: Pid,
        child: Pid,
        thread: bool,
    },
    /// First half of exit: sets PF_EXITING.
    ExitBegin {
        pid: Pid,
    },
    /// `cgroup_exit()`: unlinks the task and puts its css_set.
    ExitFinish {
        pid: Pid,
    },
    Mkdir {
        path: CgPath,
    },
    Rmdir {
        path: CgPath,
    },
    /// Rebind a controller from the default hierarchy to a mounted one.
    AddController {
        controller: Controller,
        hier: u8,
    },
    /// A write to `tasks`: `cgroup_attach_task(dst, task, false)`.
    MigrateTask {
        pid: Pid,
        dst: CgPath,
    },
    /// A write to `cgroup.procs`: the group leader of `pid`, with threadgroup set.
    MigrateProcess {
        pid: Pid,
        dst: CgPath,
    },
    /// Several targets into one cgroup in one operation (what the unified hierarchy needs).
    MigrateMulti {
        dst: CgPath,
        targets: Vec<Target>,
    },
    /// `cgroup_transfer_tasks(to, from)`: every task of `from` into `to`.
    TransferTasks {
        from: CgPath,
        to: CgPath,
    },
    /// `cgroup_attach_task_all(from, task)`: `task` into `from`'s cgroup on every mounted hierarchy.
    AttachTaskAll {
        from: Pid,
        pid: Pid,
    },
}

/// The kind of an operation: what signatures and statistics group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Fork,
    Thread,
    ExitBegin,
    ExitFinish,
    Mkdir,
    Rmdir,
    AddController,
    MigrateTask,
    MigrateProcess,
    MigrateMulti,
    TransferTasks,
    AttachTaskAll,
}

impl OpKind {
    pub const ALL: [OpKind; 12] = [
        OpKind::Fork,
        OpKind::Thread,
        OpKind::ExitBegin,
        OpKind::ExitFinish,
        OpKind::Mkdir,
        OpKind::Rmdir,
        OpKind::AddController,
        OpKind::MigrateTask,
        OpKind::MigrateProcess,
        OpKind::MigrateMulti,
        OpKind::TransferTasks,
        OpKind::AttachTaskAll,
    ];

    /// The keyword of the case format, also used in signatures.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Fork => "fork",
            OpKind::Thread => "thread",
            OpKind::ExitBegin => "exit-begin",
            OpKind::ExitFinish => "exit-finish",
            OpKind::Mkdir => "mkdir",
            OpKind::Rmdir => "rmdir",
            OpKind::AddController => "add-controller",
            OpKind::MigrateTask => "migrate-task",
            OpKind::MigrateProcess => "migrate-process",
            OpKind::MigrateMulti => "migrate-multi",
            OpKind::TransferTasks => "transfer-tasks",
            OpKind::AttachTaskAll => "attach-task-all",
        }
    }

    pub fn from_name(s: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Operations that migrate tasks (where the two designs differ at all).
    pub fn is_migration(self) -> bool {
        matches!(
            self,
            OpKind::MigrateTask
                | OpKind::MigrateProcess
                | OpKind::MigrateMulti
                | OpKind::TransferTasks
                | OpKind::AttachTaskAll
        )
    }
}

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Fork { thread: false, .. } => OpKind::Fork,
            Op::Fork { thread: true, .. } => OpKind::Thread,
            Op::ExitBegin { .. } => OpKind::ExitBegin,
            Op::ExitFinish { .. } => OpKind::ExitFinish,
            Op::Mkdir { .. } => OpKind::Mkdir,
            Op::Rmdir { .. } => OpKind::Rmdir,
            Op::AddController { .. } => OpKind::AddController,
            Op::MigrateTask { .. } => OpKind::MigrateTask,
            Op::MigrateProcess { .. } => OpKind::MigrateProcess,
            Op::MigrateMulti { .. } => OpKind::MigrateMulti,
            Op::TransferTasks { .. } => OpKind::TransferTasks,
            Op::AttachTaskAll { .. } => OpKind::AttachTaskAll,
        }
    }
}

/// "The k-th can_attach call of controller c during this operation returns error e."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CanAttachFault {
    pub controller: Controller,
    /// 1-based.
    pub nth: u32,
    pub errno: Errno,
}

/// A point between the stages of a staged migration (`cgroup_migrate_add_src` …
/// `cgroup_migrate_finish`), where the stages do not hold `css_set_rwsem` and `cgroup_exit`
/// (which does not take `cgroup_mutex`) can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StagePoint {
    /// After the sources are added (`cgroup_migrate_add_src` of every target), before
    /// `cgroup_migrate_prepare_dst`.
    AddSrc,
    /// After `cgroup_migrate_prepare_dst`, before the first `cgroup_migrate`.
    PrepareDst,
    /// After the first `cgroup_migrate`, before the next one or `cgroup_migrate_finish`.
    Migrate,
}

impl StagePoint {
    pub const ALL: [StagePoint; 3] = [
        StagePoint::AddSrc,
        StagePoint::PrepareDst,
        StagePoint::Migrate,
    ];

    /// The case format's name: the stage the point comes after.
    pub fn name(self) -> &'static str {
        match self {
            StagePoint::AddSrc => "add_src",
            StagePoint::PrepareDst => "prepare_dst",
            StagePoint::Migrate => "migrate",
        }
    }

    pub fn from_name(s: &str) -> Option<StagePoint> {
        StagePoint::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl fmt::Display for StagePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// "The exit of task `pid` (its `cgroup_exit`: the task must already be `PF_EXITING`) lands
/// right after stage `after` of this operation's migration": an interleaving, not a failure.
/// Where a design has no such point, or the migration never reaches it, the exit lands when
/// the operation ends (docs/case-format.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ExitAt {
    pub after: StagePoint,
    pub pid: Pid,
}

/// Faults injected into one operation; both models get the same plan (model.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct FaultPlan {
    /// The n-th allocation (1-based, counted in `find_css_set`) made during the operation fails.
    pub alloc: Option<u32>,
    pub can_attach: Option<CanAttachFault>,
    /// An exit landing between the stages of the migration (case format v2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitAt>,
}

impl FaultPlan {
    /// The plan without its failures: what a fault sweep starts from. An exit between the
    /// stages is an interleaving, not a fault: it stays.
    pub fn without_faults(self) -> FaultPlan {
        FaultPlan {
            exit: self.exit,
            ..FaultPlan::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.alloc.is_none() && self.can_attach.is_none() && self.exit.is_none()
    }
}

/// One step of a case: an operation and its fault plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CaseOp {
    pub op: Op,
    pub faults: FaultPlan,
}

/// A complete test case: runnable on any model, storable, printable as a case file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Case {
    pub setup: Setup,
    pub ops: Vec<CaseOp>,
}

/// Why a case is not well formed (the parser and [`Case::validate`] report these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("setup declares {0} mounted hierarchies; 1 to 3 are allowed")]
    HierarchyCount(usize),
    #[error("controller {0} is bound to more than one hierarchy")]
    DuplicateController(&'static str),
    #[error("operation {index}: pid {pid} is out of range (1..={MAX_PID})")]
    PidRange { index: usize, pid: Pid },
    #[error("operation {index}: fork names pid {pid}, which an earlier fork (or the setup) already created")]
    PidReused { index: usize, pid: Pid },
    #[error("operation {index}: hierarchy h{hier} is not declared")]
    UnknownHierarchy { index: usize, hier: u8 },
    #[error("operation {index}: path {path} is deeper than {MAX_DEPTH}")]
    PathDepth { index: usize, path: String },
    #[error("operation {index}: cgroup name {name:?} is not [A-Za-z0-9_.-]+")]
    PathName { index: usize, name: String },
    #[error("operation {index}: {0} has no can_attach callback to fail", .controller)]
    NoCanAttach {
        index: usize,
        controller: &'static str,
    },
    #[error("operation {index}: fault index out of range (1..={MAX_FAULT_INDEX})")]
    FaultIndex { index: usize },
    #[error("operation {index}: migrate-multi needs at least one target")]
    NoTargets { index: usize },
    #[error("operation {index}: migrate-multi names more than {MAX_TARGETS} targets")]
    TooManyTargets { index: usize },
    #[error("{0} operations, more than the {MAX_OPS} a case may have")]
    TooManyOps(usize),
}

/// A cgroup name the case format can write: `[A-Za-z0-9_.-]+`.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Case {
    /// Checks what the models rely on: declared hierarchies, pids in range and never forked
    /// twice, fault plans that can fire. Everything else (a gone pid, a missing cgroup) is a
    /// legal case that the models answer with an error.
    pub fn validate(&self) -> Result<(), CaseError> {
        if self.ops.len() > MAX_OPS {
            return Err(CaseError::TooManyOps(self.ops.len()));
        }
        let n = self.setup.hierarchies.len();
        if n == 0 || n > MAX_MOUNTED {
            return Err(CaseError::HierarchyCount(n));
        }
        let mut seen = 0u8;
        for h in &self.setup.hierarchies {
            for c in &h.controllers {
                if seen & c.bit() != 0 {
                    return Err(CaseError::DuplicateController(c.name()));
                }
                seen |= c.bit();
            }
        }
        let mut used = vec![false; MAX_PID as usize + 1];
        used[1] = true;
        let pid_ok = |index: usize, pid: Pid| {
            if pid == 0 || pid > MAX_PID {
                Err(CaseError::PidRange { index, pid })
            } else {
                Ok(())
            }
        };
        let path_ok = |index: usize, p: &CgPath| {
            if p.hier as usize > n {
                Err(CaseError::UnknownHierarchy {
                    index,
                    hier: p.hier,
                })
            } else if p.parts.len() > MAX_DEPTH {
                Err(CaseError::PathDepth {
                    index,
                    path: p.to_string(),
                })
            } else if let Some(bad) = p.parts.iter().find(|n| !valid_name(n)) {
                Err(CaseError::PathName {
                    index,
                    name: bad.clone(),
                })
            } else {
                Ok(())
            }
        };
        for (index, cop) in self.ops.iter().enumerate() {
            match &cop.op {
                Op::Fork { parent, child, .. } => {
                    pid_ok(index, *parent)?;
                    pid_ok(index, *child)?;
                    if used[*child as usize] {
                        return Err(CaseError::PidReused { index, pid: *child });
                    }
                    used[*child as usize] = true;
                }
                Op::ExitBegin { pid } | Op::ExitFinish { pid } => pid_ok(index, *pid)?,
                Op::Mkdir { path } | Op::Rmdir { path } => path_ok(index, path)?,
                Op::AddController { hier, .. } => {
                    if *hier as usize > n {
                        return Err(CaseError::UnknownHierarchy { index, hier: *hier });
                    }
                }
                Op::MigrateTask { pid, dst } | Op::MigrateProcess { pid, dst } => {
                    pid_ok(index, *pid)?;
                    path_ok(index, dst)?;
                }
                Op::MigrateMulti { dst, targets } => {
                    path_ok(index, dst)?;
                    if targets.is_empty() {
                        return Err(CaseError::NoTargets { index });
                    }
                    if targets.len() > MAX_TARGETS {
                        return Err(CaseError::TooManyTargets { index });
                    }
                    for t in targets {
                        pid_ok(index, t.pid)?;
                    }
                }
                Op::TransferTasks { from, to } => {
                    path_ok(index, from)?;
                    path_ok(index, to)?;
                }
                Op::AttachTaskAll { from, pid } => {
                    pid_ok(index, *from)?;
                    pid_ok(index, *pid)?;
                }
            }
            let index_ok = |n: u32| (1..=MAX_FAULT_INDEX).contains(&n);
            if cop.faults.alloc.is_some_and(|n| !index_ok(n)) {
                return Err(CaseError::FaultIndex { index });
            }
            if let Some(e) = cop.faults.exit {
                pid_ok(index, e.pid)?;
            }
            if let Some(ca) = cop.faults.can_attach {
                if !index_ok(ca.nth) {
                    return Err(CaseError::FaultIndex { index });
                }
                if !ca.controller.has_can_attach() {
                    return Err(CaseError::NoCanAttach {
                        index,
                        controller: ca.controller.name(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Number of operations: the unit of "model operations per second".
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
