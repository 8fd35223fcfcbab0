//! Helpers for the scenario tests: builders for setups and operations (plain Rust, no case
//! file parser), a runner for one model at a time, and readers that describe the world in
//! paths and pids so that assertions read like model.md.
//!
//! Every reader panics on a name that does not exist: a typo in a test must fail the test,
//! never make an assertion vacuous.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

pub use cgdiff_engine::controllers;
pub use cgdiff_engine::exec::apply;
pub use cgdiff_engine::models::four_stage::FourStage;
pub use cgdiff_engine::models::legacy::Legacy;
pub use cgdiff_engine::observe::{check_invariants, Invariant, Snapshot};
pub use cgdiff_engine::trace::{Step, Warning};
pub use cgdiff_engine::world::{
    hang_bound, Callback, CgId, CsetId, CsetList, TaskList, TaskState, World, INIT_CSET,
};
pub use cgdiff_engine::{
    CanAttachFault, CaseOp, CgPath, Controller, Design, Errno, FaultPlan, HierarchySetup, Op,
    Outcome, Pid, Setup, Target,
};
pub use Controller::{Blkio, Cpu, Cpuacct, Cpuset, Freezer, Memory};

/// Runs a test body once per model, as its own `#[test]` (`name::legacy`,
/// `name::four_stage`), for behaviour both models share.
#[macro_export]
macro_rules! both_models {
    ($name:ident, |$d:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn legacy() {
                let $d: &dyn cgdiff_engine::Design = &cgdiff_engine::models::legacy::Legacy;
                $body
            }

            #[test]
            fn four_stage() {
                let $d: &dyn cgdiff_engine::Design = &cgdiff_engine::models::four_stage::FourStage;
                $body
            }
        }
    };
}

// ------------------------------------------------------------------ setups

/// Mounted hierarchies `h1`, `h2`, … binding the given controllers, notify_on_release off.
pub fn setup(hiers: &[&[Controller]]) -> Setup {
    Setup {
        hierarchies: hiers
            .iter()
            .map(|cs| HierarchySetup {
                controllers: cs.to_vec(),
                notify_on_release: false,
            })
            .collect(),
    }
}

/// Like [`setup`], with notify_on_release on every mounted root whose flag is `true`.
pub fn setup_notify(hiers: &[(&[Controller], bool)]) -> Setup {
    Setup {
        hierarchies: hiers
            .iter()
            .map(|(cs, n)| HierarchySetup {
                controllers: cs.to_vec(),
                notify_on_release: *n,
            })
            .collect(),
    }
}

// ------------------------------------------------------------------ operations

/// `"h1:/a/b"` → the path. Written here rather than borrowed from the case format parser.
pub fn path(s: &str) -> CgPath {
    let (h, rest) = s.split_once(':').unwrap_or_else(|| panic!("bad path {s}"));
    let hier: u8 = h
        .strip_prefix('h')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad hierarchy in {s}"));
    assert!(rest.starts_with('/'), "bad path {s}");
    CgPath {
        hier,
        parts: rest
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn op(op: Op) -> CaseOp {
    CaseOp {
        op,
        faults: FaultPlan::default(),
    }
}

pub fn fork(parent: Pid, child: Pid) -> CaseOp {
    op(Op::Fork {
        parent,
        child,
        thread: false,
    })
}

pub fn thread(parent: Pid, child: Pid) -> CaseOp {
    op(Op::Fork {
        parent,
        child,
        thread: true,
    })
}

pub fn exit_begin(pid: Pid) -> CaseOp {
    op(Op::ExitBegin { pid })
}

pub fn exit_finish(pid: Pid) -> CaseOp {
    op(Op::ExitFinish { pid })
}

pub fn mkdir(p: &str) -> CaseOp {
    op(Op::Mkdir { path: path(p) })
}

pub fn rmdir(p: &str) -> CaseOp {
    op(Op::Rmdir { path: path(p) })
}

pub fn add_controller(controller: Controller, hier: u8) -> CaseOp {
    op(Op::AddController { controller, hier })
}

/// A write to `tasks`.
pub fn migrate_task(pid: Pid, dst: &str) -> CaseOp {
    op(Op::MigrateTask {
        pid,
        dst: path(dst),
    })
}

/// A write to `cgroup.procs`.
pub fn migrate_process(pid: Pid, dst: &str) -> CaseOp {
    op(Op::MigrateProcess {
        pid,
        dst: path(dst),
    })
}

pub fn task(pid: Pid) -> Target {
    Target {
        pid,
        process: false,
    }
}

pub fn process(pid: Pid) -> Target {
    Target { pid, process: true }
}

pub fn migrate_multi(dst: &str, targets: &[Target]) -> CaseOp {
    op(Op::MigrateMulti {
        dst: path(dst),
        targets: targets.to_vec(),
    })
}

pub fn transfer(from: &str, to: &str) -> CaseOp {
    op(Op::TransferTasks {
        from: path(from),
        to: path(to),
    })
}

pub fn attach_task_all(from: Pid, pid: Pid) -> CaseOp {
    op(Op::AttachTaskAll { from, pid })
}

/// Fault plans on an operation (model.md §7).
pub trait Faults {
    /// The n-th allocation of the operation fails.
    fn fail_alloc(self, n: u32) -> CaseOp;
    /// The nth `can_attach` call of `controller` in the operation returns `errno`.
    fn fail_can_attach(self, controller: Controller, nth: u32, errno: Errno) -> CaseOp;
}

impl Faults for CaseOp {
    fn fail_alloc(mut self, n: u32) -> CaseOp {
        self.faults.alloc = Some(n);
        self
    }

    fn fail_can_attach(mut self, controller: Controller, nth: u32, errno: Errno) -> CaseOp {
        self.faults.can_attach = Some(CanAttachFault {
            controller,
            nth,
            errno,
        });
        self
    }
}

// ------------------------------------------------------------------ running

/// A fresh world for `setup` with the step trace on.
pub fn world(s: &Setup) -> World {
    let mut w = World::new(s);
    w.trace.enabled = true;
    w
}

/// Builds a scene: runs every operation on a fresh world, each of which must succeed.
pub fn scene(d: &dyn Design, s: &Setup, ops: &[CaseOp]) -> World {
    let mut w = world(s);
    for (i, cop) in ops.iter().enumerate() {
        let o = apply(&mut w, d, cop);
        assert_eq!(
            o,
            Outcome::Ok,
            "{}: scene op {i} {:?} failed\n{}",
            d.name(),
            cop.op,
            dump(&w, o)
        );
    }
    w
}

/// Runs `ops` on a fresh world: all but the last build the scene and must succeed; returns
/// the world and the outcome of the last (whose records the world now holds).
pub fn run(d: &dyn Design, s: &Setup, ops: &[CaseOp]) -> (World, Outcome) {
    let (last, prefix) = ops.split_last().expect("at least one operation");
    let mut w = scene(d, s, prefix);
    let o = apply(&mut w, d, last);
    (w, o)
}

/// One more operation on an existing world.
pub fn act(w: &mut World, d: &dyn Design, cop: CaseOp) -> Outcome {
    apply(w, d, &cop)
}

// ------------------------------------------------------------------ reading the world

/// The readable observation, for failure messages.
pub fn dump(w: &World, o: Outcome) -> String {
    Snapshot::of(w, o).lines().join("\n")
}

/// The live cgroup at `p`.
pub fn cg(w: &World, p: &str) -> CgId {
    w.resolve(&path(p))
        .unwrap_or_else(|| panic!("no cgroup {p}"))
}

pub fn name(w: &World, c: CgId) -> String {
    w.path(c).to_string()
}

/// A css_set's cgroups on the mounted hierarchies (h0 only ever has its root).
pub fn cset_tuple(w: &World, cset: CsetId) -> Vec<String> {
    (1..w.n_hiers())
        .map(|h| name(w, w.cset_cgroup(cset, h as u8)))
        .collect()
}

/// The cgroups of the task's css_set on the mounted hierarchies.
pub fn tuple(w: &World, pid: Pid) -> Vec<String> {
    cset_tuple(w, w.task(pid).cset)
}

/// The live css_set with this tuple of mounted-hierarchy paths, if any.
pub fn find_cset(w: &World, t: &[&str]) -> Option<CsetId> {
    assert_eq!(t.len(), w.n_hiers() - 1, "tuple {t:?} has the wrong length");
    let want: Vec<CgId> = t.iter().map(|p| cg(w, p)).collect();
    let found: Vec<CsetId> = (0..w.csets.len() as CsetId)
        .filter(|&id| {
            w.csets[id as usize].live
                && (1..w.n_hiers()).all(|h| w.cset_cgroup(id, h as u8) == want[h - 1])
        })
        .collect();
    assert!(found.len() <= 1, "two live css_sets for {t:?}");
    found.first().copied()
}

/// The live css_set with this tuple.
pub fn cset(w: &World, t: &[&str]) -> CsetId {
    find_cset(w, t).unwrap_or_else(|| panic!("no css_set {t:?}\n{}", dump(w, Outcome::Ok)))
}

pub fn refs(w: &World, t: &[&str]) -> i32 {
    w.csets[cset(w, t) as usize].refcount
}

/// `cset->tasks`, in list order.
pub fn tasks(w: &World, t: &[&str]) -> Vec<Pid> {
    w.csets[cset(w, t) as usize].tasks.clone()
}

/// `cgrp->cset_links`, in list order, each css_set by its tuple.
pub fn links(w: &World, p: &str) -> Vec<Vec<String>> {
    w.cgroups[cg(w, p) as usize]
        .cset_links
        .iter()
        .map(|&c| cset_tuple(w, c))
        .collect()
}

/// Every live css_set: (tuple, refcount, tasks), sorted: compares inventories.
pub fn inventory(w: &World) -> Vec<(Vec<String>, i32, Vec<Pid>)> {
    let mut v: Vec<_> = (0..w.csets.len() as CsetId)
        .filter(|&id| w.csets[id as usize].live)
        .map(|id| {
            let c = &w.csets[id as usize];
            (cset_tuple(w, id), c.refcount, c.tasks.clone())
        })
        .collect();
    v.sort();
    v
}

pub fn live_csets(w: &World) -> usize {
    w.csets.iter().filter(|c| c.live).count()
}

/// Every cgroup's `cset_links` in order: compares link orders.
pub fn all_links(w: &World) -> Vec<(String, Vec<Vec<String>>)> {
    (0..w.cgroups.len() as CgId)
        .filter(|&c| !w.cgroups[c as usize].removed)
        .map(|c| {
            let n = name(w, c);
            let l = links(w, &n);
            (n, l)
        })
        .collect()
}

/// The kernel-named steps of the last operation.
pub fn steps(w: &World) -> Vec<Step> {
    w.trace.steps.clone()
}

pub fn count(w: &World, f: impl Fn(&Step) -> bool) -> usize {
    w.trace.steps.iter().filter(|s| f(s)).count()
}

/// Position of the first step matching `f` (panics if none).
pub fn pos(w: &World, f: impl Fn(&Step) -> bool) -> usize {
    w.trace
        .steps
        .iter()
        .position(f)
        .unwrap_or_else(|| panic!("step not found in {:#?}", w.trace.steps))
}

/// The steps of the last operation, less the bookkeeping ones that every path has
/// (`PutCssSetFree`, `CheckForReleaseQueued`), for exact comparisons of a control flow.
pub fn flow(w: &World) -> Vec<Step> {
    w.trace
        .steps
        .iter()
        .filter(|s| !matches!(s, Step::PutCssSetFree | Step::CheckForReleaseQueued))
        .copied()
        .collect()
}

/// The callbacks of the last operation, as `controller.callback(dst) [taskset]` and
/// ` -> ERR` for a failing can_attach; tasksets read from `event_pids`.
pub fn events(w: &World) -> Vec<String> {
    w.events
        .iter()
        .map(|e| {
            let (a, b) = e.tasks;
            let pids: Vec<String> = w.event_pids[a as usize..b as usize]
                .iter()
                .map(|p| p.to_string())
                .collect();
            let err = e.error.map_or(String::new(), |x| format!(" -> {x}"));
            format!(
                "{}.{}({}) [{}]{err}",
                e.controller.name(),
                e.callback.name(),
                name(w, e.dst),
                pids.join(" ")
            )
        })
        .collect()
}

/// The cgroups queued for a release notification during the last operation.
pub fn released(w: &World) -> Vec<String> {
    w.release_queued.iter().map(|&c| name(w, c)).collect()
}

pub fn attach_in_progress(w: &World, p: &str) -> i32 {
    w.cgroups[cg(w, p) as usize].attach_in_progress
}

pub fn releasable(w: &World, p: &str) -> bool {
    w.cgroups[cg(w, p) as usize].releasable
}

/// memory's charge move in progress, as paths.
pub fn charge_move(w: &World) -> Option<(String, String)> {
    w.charge_move.map(|(f, t)| (name(w, f), name(w, t)))
}

/// Asserts that no invariant of model.md §8 is violated and no `WARN_ON` fired during the
/// last operation.
pub fn assert_clean(w: &World, o: Outcome) {
    assert_eq!(
        check_invariants(w, o),
        0,
        "invariants violated:\n{}",
        dump(w, o)
    );
    assert_eq!(w.warnings, [], "warnings:\n{}", dump(w, o));
}

/// Asserts that nothing of a migration is left behind: no css_set on a migration list or
/// with a migration field set, no task on an `mg_tasks`.
pub fn assert_no_migration_state(w: &World) {
    assert!(w.lists.iter().all(|l| l.is_empty()), "{:?}", w.lists);
    for (id, c) in w.csets.iter().enumerate().filter(|(_, c)| c.live) {
        assert!(
            c.mg_src_cgrp.is_none()
                && c.mg_dst_cset.is_none()
                && c.mg_node.is_none()
                && c.mg_preload_node.is_none()
                && c.mg_tasks.is_empty(),
            "css_set slot {id} {:?} keeps migration state",
            cset_tuple(w, id as CsetId)
        );
    }
}

pub fn bits(list: &[Invariant]) -> u16 {
    list.iter().fold(0, |a, i| a | i.bit())
}

pub fn attach_task_step(w: &World, dst: &str, leader: Pid, threadgroup: bool) -> Step {
    Step::CgroupAttachTask {
        dst: cg(w, dst),
        leader,
        threadgroup,
    }
}
