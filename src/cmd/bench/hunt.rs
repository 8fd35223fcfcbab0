//! The finders of `cgdiff bench power` (cgdiff's campaign, a proptest-state-machine baseline,
//! libFuzzer on the `differential` target), each hunting one planted bug within a time budget
//! on one thread. Compiled only with the `planted-bugs` feature.
//!
//! **Found** means: a case whose verdict with the bug planted differs from its verdict on the
//! unmutated models. A verdict is "agree" or "first divergence at operation *i* with signature
//! *s*"; two verdicts differ when one agrees and the other does not, or the operation index or
//! the signature differ. (The unmutated models diverge on their own — the findings of
//! docs/findings.md — so "any divergence" would not do: only a *changed* verdict is the bug.)
//! Every finder uses exactly this test (`cgdiff_engine::planted::verdict_changed`), and every
//! found case is minimised against it.

use super::stats::Time;
use crate::campaign::{self, Candidate, Counters, Goal, Learning, Limit, Plan, Shared};
use cgdiff_engine::case::{
    CanAttachFault, Case, CaseOp, CgPath, Controller, Errno, FaultPlan, HierarchySetup, Op, Pid,
    Setup, Target, MAX_DEPTH, MAX_MOUNTED, MAX_PID,
};
use cgdiff_engine::format;
use cgdiff_engine::models::designs;
use cgdiff_engine::models::Pair;
use cgdiff_engine::oracle::{self, Divergence, RunOptions, Session};
use cgdiff_engine::planted::{verdict_changed, Bug};
use cgdiff_engine::sweep::{Sweeper, Variant};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One trial of one finder on one bug.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Trial {
    /// Seconds to the first case that shows the bug; `None` = not found within the budget.
    pub time: Time,
    /// Cases tried before (and including) the finding one, fault-sweep variants and proptest
    /// cases alike.
    pub cases: u64,
    /// Operations in the case as found.
    pub found_ops: Option<usize>,
    /// Operations after minimising (cgdiff's minimiser) or shrinking (proptest's).
    pub min_ops: Option<usize>,
    /// Seconds spent minimising or shrinking (not part of `time`).
    pub minimise_secs: Option<f64>,
    /// The minimised case, as a case file.
    pub case: Option<String>,
}

impl Trial {
    fn censored(cases: u64) -> Trial {
        Trial {
            time: None,
            cases,
            found_ops: None,
            min_ops: None,
            minimise_secs: None,
            case: None,
        }
    }
}

/// Whether `bug` changes the verdict of `case` (the property every found case is minimised against).
pub fn shows(case: &Case, bug: Bug) -> Option<usize> {
    verdict_changed(
        oracle::check(case).verdict.divergence(),
        oracle::check_with_bug(case, bug).verdict.divergence(),
    )
}

/// The campaign's goal in a `bench power` trial: the first case (generated, or a fault-sweep
/// variant) whose verdict `bug` changes. Sets `stop` when it finds one, which ends the worker.
struct Shows<'a> {
    bug: Bug,
    stop: &'a AtomicBool,
    /// The planted models' side of the sweep of the case being swept.
    planted: Mutex<PlantedSweep>,
}

/// The fault sweep of one case on the planted models, run as the campaign runs it on the
/// unmutated ones (engine/src/sweep.rs: the fault-free prefix once, each variant on a fork),
/// so that a variant costs both sides the same.
#[derive(Default)]
struct PlantedSweep {
    /// The generated case swept.
    k: Option<u64>,
    sweeper: Option<Sweeper>,
    /// Each variant's first divergence on the planted models, by (operation, fault).
    variants: HashMap<(usize, usize), Option<Divergence>>,
    /// The fault-free case's first divergence on the planted models: the verdict of every
    /// variant past it, which the planted sweep does not run.
    base: Option<Divergence>,
}

impl Shows<'_> {
    /// The planted verdict of variant `v` of generated case `k` (`of`).
    fn planted_variant(&self, k: u64, of: &Case, v: &Variant) -> Option<Divergence> {
        let mut guard = self.planted.lock().expect("planted sweep");
        let p = &mut *guard;
        if p.k != Some(k) {
            p.k = Some(k);
            p.variants.clear();
            let mut plain = of.clone();
            for cop in &mut plain.ops {
                cop.faults = cop.faults.without_faults();
            }
            p.base = oracle::check_with_bug(&plain, self.bug)
                .verdict
                .divergence()
                .cloned();
            let bug = self.bug;
            let sweeper = p.sweeper.get_or_insert_with(|| {
                let opts = RunOptions {
                    planted: Some(bug),
                    ..RunOptions::default()
                };
                Sweeper::new(Pair::DEFAULT, opts)
            });
            let variants = &mut p.variants;
            sweeper.run(of, |pv| {
                variants.insert((pv.op, pv.fault), pv.divergence.clone());
                true
            });
        }
        match p.variants.get(&(v.op, v.fault)) {
            Some(d) => d.clone(),
            None => p.base.clone(),
        }
    }
}

impl Goal for Shows<'_> {
    /// The case (cut to what shows the bug) and how many operations show it.
    type Found = (Case, usize);

    fn judge(
        &self,
        k: u64,
        candidate: &Candidate,
        divergence: Option<&Divergence>,
        _shared: &Shared,
        _counts: &mut campaign::Counts,
    ) -> Option<(Case, usize)> {
        let n = match candidate {
            Candidate::Generated { case, .. } => {
                let planted = oracle::check_with_bug(case, self.bug);
                verdict_changed(divergence, planted.verdict.divergence())?
            }
            Candidate::Variant { of, variant } => {
                let planted = self.planted_variant(k, of, variant);
                verdict_changed(divergence, planted.as_ref())?
            }
        };
        self.stop.store(true, Ordering::Relaxed);
        let mut c = candidate.to_case();
        c.ops.truncate(n.max(1).min(c.ops.len()));
        Some((c, n))
    }
}

/// cgdiff's finder: the campaign itself (`campaign::worker_for`, the loop `cgdiff fuzz
/// --jobs 1` runs: case `k` from `seeded_bytes(case_seed(seed, 0/1, k))`, each case checked,
/// the fault sweep on cases that are the first to reach a combination of model steps and on one
/// case in 64) with "found" as above, on one worker, until the first find or the budget. The
/// case found is then minimised with cgdiff's minimiser against the same property.
///
/// `learning`: which parts of the learning campaign run (the default, none, is what `cgdiff
/// fuzz` runs; the `cgdiff-*` finders switch parts on to measure what each buys).
pub fn cgdiff_trial(
    bug: Bug,
    seed: u64,
    budget: Duration,
    max_ops: usize,
    learning: Learning,
) -> Trial {
    let plan = Plan {
        seed,
        shard: (0, 1),
        jobs: 1,
        max_ops,
        limit: Limit::Time(budget),
        pair: Default::default(),
        learning,
    };
    let (shared, counters, stop) = (
        Shared::default(),
        Counters::default(),
        AtomicBool::new(false),
    );
    let goal = Shows {
        bug,
        stop: &stop,
        planted: Mutex::new(PlantedSweep::default()),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    campaign::worker_for(&goal, &plan, &shared, &counters, &stop, start, tx);
    let time = start.elapsed().as_secs_f64();
    let cases = counters.cases.load(Ordering::Relaxed) + counters.variants.load(Ordering::Relaxed);
    let Ok((case, upto)) = rx.try_recv() else {
        return Trial::censored(cases);
    };
    minimised(bug, time, cases, &case, upto)
}

/// A found case minimised by cgdiff's minimiser against "shows `bug`".
fn minimised(bug: Bug, time: f64, cases: u64, case: &Case, upto: usize) -> Trial {
    let t = Instant::now();
    let mut keeps = |c: &Case| shows(c, bug).is_some();
    let (min, _) = cgdiff_replay::minimize_with(case, upto, &mut keeps);
    Trial {
        time: Some(time),
        cases,
        found_ops: Some(case.ops.len()),
        min_ops: Some(min.ops.len()),
        minimise_secs: Some(t.elapsed().as_secs_f64()),
        case: Some(format::print(&min)),
    }
}

/// Where `scripts/fuzz-build.sh --planted` puts the `differential` target with the planted-bug
/// switch: `fuzz/target/planted/<host>/release/differential` (the first host directory that
/// has one).
pub fn default_libfuzzer_bin() -> PathBuf {
    let base = Path::new("fuzz/target/planted");
    std::fs::read_dir(base)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("release/differential"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| base.join("HOST/release/differential"))
}

/// libFuzzer's finder: the `differential` fuzz target built with the planted-bug switch
/// (`scripts/fuzz-build.sh --planted`), one process, one worker, `CGDIFF_PLANTED_BUG` naming
/// the bug: the target crashes on its first input whose verdict the bug changes (the same test
/// as above). From an empty corpus, or from the case files of `examples/` (`seeded`). Time is
/// the process's wall clock, start-up included. The crashing input is decoded as the target
/// decodes it and minimised with cgdiff's minimiser (libFuzzer's own `-minimize_crash`
/// shrinks bytes, not operations).
pub fn libfuzzer_trial(bin: &Path, bug: Bug, seed: u64, budget: Duration, seeded: bool) -> Trial {
    match run_libfuzzer(bin, bug, seed, budget, seeded) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cgdiff bench power: libFuzzer trial failed ({e:#}); counted as not found");
            Trial::censored(0)
        }
    }
}

fn run_libfuzzer(
    bin: &Path,
    bug: Bug,
    seed: u64,
    budget: Duration,
    seeded: bool,
) -> anyhow::Result<Trial> {
    use anyhow::Context;
    let dir = TempDir::new(bug, seed)?;
    let corpus = dir.path().join("corpus");
    let artifacts = dir.path().join("artifacts");
    std::fs::create_dir_all(&corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    if seeded {
        for f in walk_cases(Path::new("examples"))? {
            let name = f.to_string_lossy().replace('/', "_");
            std::fs::copy(&f, corpus.join(name))?;
        }
    }
    // libFuzzer's -max_total_time is whole seconds; the trial is cut at the budget anyway.
    let secs = budget.as_secs_f64().ceil().max(1.0) as u64;
    let start = Instant::now();
    let mut child = std::process::Command::new(bin)
        .arg(&corpus)
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-seed={}", (seed % (u32::MAX as u64 - 1)) + 1))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .env("CGDIFF_PLANTED_BUG", bug.name())
        .env("CGDIFF_DB", dir.path().join("cgdiff.db"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log"))?)
        .spawn()
        .with_context(|| {
            format!(
                "running {} (build it with scripts/fuzz-build.sh --planted)",
                bin.display()
            )
        })?;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() >= budget + Duration::from_secs(2) {
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let time = start.elapsed().as_secs_f64();
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    let execs = log
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix('#')?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0);
    let crash = std::fs::read_dir(&artifacts)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
        });
    let Some(crash) = crash else {
        if !status.success() && !log.contains("DONE") {
            anyhow::bail!(
                "the target exited with {status} without a crash:\n{}",
                tail(&log)
            );
        }
        return Ok(Trial::censored(execs));
    };
    if time > budget.as_secs_f64() {
        return Ok(Trial::censored(execs));
    }
    let data = std::fs::read(&crash)?;
    // As the target reads it (`cgdiff_fuzz::decode`, by `cgdiff_engine::input`'s one rule).
    let case = cgdiff_engine::input::decode(None, &data)
        .map_err(|e| anyhow::anyhow!("decoding the crashing input: {e}"))?
        .case()
        .clone();
    let upto = shows(&case, bug)
        .with_context(|| format!("the crashing input does not show {bug}:\n{}", tail(&log)))?;
    Ok(minimised(bug, time, execs, &case, upto))
}

/// A directory of its own for one trial, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(bug: Bug, seed: u64) -> std::io::Result<TempDir> {
        let p = std::env::temp_dir().join(format!(
            "cgdiff-power-{}-{bug}-{seed:016x}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The `.case` files under `dir`, sorted.
fn walk_cases(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk_cases(&p)?);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

// ----- the proptest-state-machine baseline -----

thread_local! {
    /// The bug of the trial running on this thread: `StateMachineTest::init_test` takes no
    /// arguments but the reference state, so the bug is handed over here.
    static PLANTED: Cell<Option<Bug>> = const { Cell::new(None) };
    /// Set while a proptest case runs, so the panic hook stays quiet about the expected
    /// assertion failures (and only about those).
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the assertion failures of proptest cases off stderr; any other panic is reported as
/// usual. Installed once for the whole `bench power` run.
pub fn quiet_panics_in_cases() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_CASE.with(Cell::get) {
            previous(info);
        }
    }));
}

/// A task of the reference state: what gen.rs's shadow keeps.
#[derive(Clone, Copy, Debug)]
pub struct ShadowTask {
    pid: Pid,
    leader: Pid,
    exiting: bool,
    gone: bool,
}

/// The reference state: the setup and a shadow of the pids and paths the operations made, as
/// gen.rs keeps it. Like gen.rs it only follows what operations decide (forks, exits, mkdirs)
/// and does not model the kernel: where it guesses wrong, the models answer with an error.
#[derive(Clone, Debug)]
pub struct Shadow {
    setup: Setup,
    tasks: Vec<ShadowTask>,
    next_pid: Pid,
    /// Known paths per mounted hierarchy (index 0 = h1).
    paths: Vec<Vec<CgPath>>,
}

impl Shadow {
    fn new(setup: Setup) -> Shadow {
        let n = setup.hierarchies.len();
        Shadow {
            setup,
            tasks: vec![ShadowTask {
                pid: 1,
                leader: 1,
                exiting: false,
                gone: false,
            }],
            next_pid: 2,
            paths: (1..=n).map(|h| vec![CgPath::root(h as u8)]).collect(),
        }
    }

    fn pids(&self, f: impl Fn(&ShadowTask) -> bool) -> Vec<Pid> {
        let v: Vec<Pid> = self.tasks.iter().filter(|t| f(t)).map(|t| t.pid).collect();
        if v.is_empty() {
            vec![1]
        } else {
            v
        }
    }

    fn known(&self, pid: Pid) -> bool {
        self.tasks.iter().any(|t| t.pid == pid)
    }

    /// gen.rs's `Shadow::exit_finish`.
    fn exit_finish(&mut self, pid: Pid) {
        let Some(i) = self.tasks.iter().position(|t| t.pid == pid) else {
            return;
        };
        let t = self.tasks[i];
        if !t.exiting || t.gone || pid == 1 {
            return;
        }
        let live_threads = |s: &Shadow, l: Pid| {
            s.tasks
                .iter()
                .filter(|t| t.leader == l && t.pid != l && !t.gone)
                .count()
        };
        if pid == t.leader {
            if live_threads(self, pid) == 0 {
                self.tasks[i].gone = true;
            }
        } else {
            self.tasks[i].gone = true;
            if live_threads(self, t.leader) == 0 {
                if let Some(l) = self
                    .tasks
                    .iter_mut()
                    .find(|x| x.pid == t.leader && x.exiting)
                {
                    l.gone = true;
                }
            }
        }
    }
}

/// The reference state machine over cgdiff's own operation language: transitions are the
/// engine's `CaseOp`s, drawn with gen.rs's operation mix and fault probabilities.
pub struct CgroupMachine;

fn pick(v: Vec<Pid>) -> BoxedStrategy<Pid> {
    proptest::sample::select(v).boxed()
}

fn faults() -> BoxedStrategy<FaultPlan> {
    let can_attach = (
        proptest::sample::select(vec![
            Controller::Cpuset,
            Controller::Cpu,
            Controller::Memory,
            Controller::Blkio,
        ]),
        1..=3u32,
        proptest::sample::select(Errno::CAN_ATTACH.to_vec()),
    )
        .prop_map(|(controller, nth, errno)| CanAttachFault {
            controller,
            nth,
            errno,
        });
    (
        proptest::option::weighted(0.35, 1..=12u32),
        proptest::option::weighted(0.25, can_attach),
    )
        .prop_map(|(alloc, can_attach)| FaultPlan {
            alloc,
            can_attach,
            exit: None,
        })
        .boxed()
}

impl ReferenceStateMachine for CgroupMachine {
    type State = Shadow;
    type Transition = CaseOp;

    /// One to three mounted hierarchies; each controller on one of them or left on the
    /// default hierarchy; notify_on_release at even odds (gen.rs's setup).
    fn init_state() -> BoxedStrategy<Shadow> {
        (1..=MAX_MOUNTED)
            .prop_flat_map(|n| {
                (
                    proptest::collection::vec(0..=n, Controller::ALL.len()),
                    proptest::collection::vec(any::<bool>(), n),
                )
            })
            .prop_map(|(homes, notify)| {
                let mut hierarchies: Vec<HierarchySetup> = notify
                    .into_iter()
                    .map(|notify_on_release| HierarchySetup {
                        controllers: Vec::new(),
                        notify_on_release,
                    })
                    .collect();
                for (c, h) in Controller::ALL.into_iter().zip(homes) {
                    if h > 0 {
                        hierarchies[h - 1].controllers.push(c);
                    }
                }
                Shadow::new(Setup { hierarchies })
            })
            .boxed()
    }

    /// gen.rs's operation mix (weights out of 100), references drawn from the shadow.
    fn transitions(s: &Shadow) -> BoxedStrategy<CaseOp> {
        let n = s.setup.hierarchies.len();
        let live = s.pids(|t| !t.gone && !t.exiting);
        let named = s.pids(|t| !t.gone);
        let ever = s.pids(|_| true);
        let exiting: Vec<Pid> = s
            .tasks
            .iter()
            .filter(|t| t.exiting && !t.gone)
            .map(|t| t.pid)
            .collect();
        let any_pid = || -> BoxedStrategy<Pid> {
            prop_oneof![97 => pick(named.clone()), 3 => pick(ever.clone())].boxed()
        };
        let all_paths: Vec<CgPath> = s.paths.iter().flatten().cloned().collect();
        let dst = prop_oneof![
            98 => proptest::sample::select(all_paths.clone()),
            2 => Just(CgPath::root(0)),
        ]
        .boxed();
        let mut ops: Vec<(u32, BoxedStrategy<Op>)> = Vec::new();
        if s.next_pid <= MAX_PID {
            let child = s.next_pid;
            for (w, thread) in [(12, false), (10, true)] {
                ops.push((
                    w,
                    pick(live.clone())
                        .prop_map(move |parent| Op::Fork {
                            parent,
                            child,
                            thread,
                        })
                        .boxed(),
                ));
            }
        }
        ops.push((
            6,
            pick(live.clone())
                .prop_map(|pid| Op::ExitBegin { pid })
                .boxed(),
        ));
        ops.push((
            6,
            pick(if exiting.is_empty() {
                named.clone()
            } else {
                exiting
            })
            .prop_map(|pid| Op::ExitFinish { pid })
            .boxed(),
        ));
        let parents: Vec<CgPath> = all_paths
            .iter()
            .filter(|p| p.parts.len() < MAX_DEPTH)
            .cloned()
            .collect();
        if !parents.is_empty() {
            ops.push((
                10,
                (
                    proptest::sample::select(parents),
                    proptest::sample::select(vec!["a", "b", "c"]),
                )
                    .prop_map(|(p, name)| Op::Mkdir {
                        path: p.child(name),
                    })
                    .boxed(),
            ));
        }
        ops.push((
            4,
            proptest::sample::select(all_paths.clone())
                .prop_map(|path| Op::Rmdir { path })
                .boxed(),
        ));
        ops.push((
            3,
            (
                proptest::sample::select(Controller::ALL.to_vec()),
                1..=n as u8,
            )
                .prop_map(|(controller, hier)| Op::AddController { controller, hier })
                .boxed(),
        ));
        ops.push((
            14,
            (any_pid(), dst.clone())
                .prop_map(|(pid, dst)| Op::MigrateTask { pid, dst })
                .boxed(),
        ));
        ops.push((
            12,
            (any_pid(), dst.clone())
                .prop_map(|(pid, dst)| Op::MigrateProcess { pid, dst })
                .boxed(),
        ));
        ops.push((
            9,
            (
                dst,
                proptest::collection::vec((any_pid(), any::<bool>()), 2..=4),
            )
                .prop_map(|(dst, t)| Op::MigrateMulti {
                    dst,
                    targets: t
                        .into_iter()
                        .map(|(pid, process)| Target { pid, process })
                        .collect(),
                })
                .boxed(),
        ));
        // transfer-tasks between two different cgroups of one hierarchy (from == to spins in
        // both designs, finding F1; gen.rs steers away from it too).
        let pairs: Vec<(CgPath, CgPath)> = s
            .paths
            .iter()
            .flat_map(|ps| {
                ps.iter().flat_map(move |a| {
                    ps.iter()
                        .filter(move |b| *b != a)
                        .map(move |b| (a.clone(), b.clone()))
                })
            })
            .collect();
        if !pairs.is_empty() {
            ops.push((
                9,
                proptest::sample::select(pairs)
                    .prop_map(|(from, to)| Op::TransferTasks { from, to })
                    .boxed(),
            ));
        }
        ops.push((
            5,
            (any_pid(), any_pid())
                .prop_map(|(from, pid)| Op::AttachTaskAll { from, pid })
                .boxed(),
        ));
        (Union::new_weighted(ops), faults())
            .prop_map(|(op, faults)| {
                let faults = if op.kind().is_migration() {
                    faults
                } else {
                    FaultPlan::default()
                };
                CaseOp { op, faults }
            })
            .boxed()
    }

    fn apply(mut s: Shadow, t: &CaseOp) -> Shadow {
        match &t.op {
            Op::Fork {
                parent,
                child,
                thread,
            } => {
                let parent_leader = s
                    .tasks
                    .iter()
                    .find(|x| x.pid == *parent)
                    .map_or(*parent, |x| x.leader);
                s.tasks.push(ShadowTask {
                    pid: *child,
                    leader: if *thread { parent_leader } else { *child },
                    exiting: false,
                    gone: false,
                });
                s.next_pid = s.next_pid.max(child + 1);
            }
            Op::ExitBegin { pid } if *pid != 1 => {
                if let Some(x) = s.tasks.iter_mut().find(|x| x.pid == *pid) {
                    x.exiting = true;
                }
            }
            Op::ExitFinish { pid } => s.exit_finish(*pid),
            Op::Mkdir { path } if path.hier >= 1 && path.hier as usize <= s.paths.len() => {
                let ps = &mut s.paths[path.hier as usize - 1];
                if !ps.contains(path) {
                    ps.push(path.clone());
                }
            }
            _ => {}
        }
        s
    }

    /// What keeps a sequence a valid case while proptest deletes and simplifies transitions:
    /// a fork names a fresh pid, every hierarchy named is mounted. A reference to a pid or path
    /// that a deleted operation made is still a valid case (the models answer ESRCH/ENODEV),
    /// so it is allowed: the shrinker may delete anything that keeps the failure.
    fn preconditions(s: &Shadow, t: &CaseOp) -> bool {
        let n = s.setup.hierarchies.len() as u8;
        let path_ok = |p: &CgPath| p.hier <= n;
        match &t.op {
            Op::Fork { child, .. } => !s.known(*child) && *child <= MAX_PID,
            Op::Mkdir { path } | Op::Rmdir { path } => path_ok(path),
            Op::AddController { hier, .. } => *hier <= n,
            Op::MigrateTask { dst, .. } | Op::MigrateProcess { dst, .. } => path_ok(dst),
            Op::MigrateMulti { dst, targets } => path_ok(dst) && !targets.is_empty(),
            Op::TransferTasks { from, to } => path_ok(from) && path_ok(to),
            _ => true,
        }
    }
}

/// The system under test: the oracle on the unmutated models and on the planted ones, stepped
/// together one transition at a time (`oracle::Session`). The test fails at the first
/// transition after which the two verdicts differ — the same property as cgdiff's finder.
pub struct Differential;

pub struct Sut {
    clean: Session<'static>,
    planted: Session<'static>,
    clean_verdict: Option<String>,
    planted_verdict: Option<String>,
}

impl StateMachineTest for Differential {
    type SystemUnderTest = Sut;
    type Reference = CgroupMachine;

    fn init_test(s: &Shadow) -> Sut {
        let bug = PLANTED
            .with(Cell::get)
            .expect("a planted bug for the trial");
        let planted = RunOptions {
            planted: Some(bug),
            ..RunOptions::default()
        };
        Sut {
            clean: Session::new(&s.setup, designs(), RunOptions::default()),
            planted: Session::new(&s.setup, designs(), planted),
            clean_verdict: None,
            planted_verdict: None,
        }
    }

    fn apply(mut sut: Sut, _s: &Shadow, t: CaseOp) -> Sut {
        // Once both have diverged the same way, nothing later can tell them apart.
        if sut.clean_verdict.is_some() {
            return sut;
        }
        let index = sut.clean.ops_executed();
        if let Some(d) = sut.clean.step(&t) {
            sut.clean_verdict = Some(format!("{index}:{}", d.signature));
        }
        if let Some(d) = sut.planted.step(&t) {
            sut.planted_verdict = Some(format!("{index}:{}", d.signature));
        }
        assert_eq!(
            sut.clean_verdict, sut.planted_verdict,
            "the planted bug changes the verdict"
        );
        sut
    }
}

/// The proptest-state-machine finder: chunks of 256 cases, each chunk a `TestRunner` with a
/// fixed seed derived from the trial's, sequences of 1 to `max_ops` transitions, until the first
/// failure or the budget. Proptest's own shrinking then reduces the failing sequence (deleting
/// transitions from the back, then simplifying each, then the initial state).
pub fn proptest_trial(bug: Bug, seed: u64, budget: Duration, max_ops: usize) -> Trial {
    PLANTED.with(|b| b.set(Some(bug)));
    let start = Instant::now();
    let first_failure: Cell<Option<f64>> = Cell::new(None);
    let found_ops: Cell<Option<usize>> = Cell::new(None);
    let cases = Cell::new(0u64);
    let mut chunk = 0u64;
    loop {
        if start.elapsed() >= budget {
            return Trial::censored(cases.get());
        }
        let config = Config {
            cases: 256,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(cgdiff_engine::world::mix(seed ^ (chunk << 32) ^ chunk)),
            max_shrink_time: 0,
            max_shrink_iters: u32::MAX,
            max_global_rejects: 1 << 20,
            ..Config::default()
        };
        chunk += 1;
        let mut runner = TestRunner::new(config.clone());
        let strategy = CgroupMachine::sequential_strategy(1..=max_ops);
        let result = runner.run(&strategy, |(init, transitions, seen)| {
            if first_failure.get().is_none() {
                if start.elapsed() >= budget {
                    return Ok(());
                }
                cases.set(cases.get() + 1);
            }
            let len = transitions.len();
            IN_CASE.with(|c| c.set(true));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Differential::test_sequential(config.clone(), init, transitions, seen)
            }));
            IN_CASE.with(|c| c.set(false));
            match r {
                Ok(()) => Ok(()),
                Err(_) => {
                    if first_failure.get().is_none() {
                        first_failure.set(Some(start.elapsed().as_secs_f64()));
                        found_ops.set(Some(len));
                    }
                    Err(TestCaseError::fail("the planted bug changes the verdict"))
                }
            }
        });
        match result {
            Ok(()) => continue,
            Err(TestError::Fail(_, (init, transitions, _))) => {
                let time = first_failure.get().expect("a failure was seen");
                let shrunk = Case {
                    setup: init.setup,
                    ops: transitions,
                };
                let shrink_secs = start.elapsed().as_secs_f64() - time;
                return Trial {
                    time: Some(time),
                    cases: cases.get(),
                    found_ops: found_ops.get(),
                    min_ops: Some(shrunk.ops.len()),
                    minimise_secs: Some(shrink_secs),
                    case: Some(format::print(&shrunk)),
                };
            }
            Err(TestError::Abort(why)) => {
                eprintln!(
                    "cgdiff bench power: proptest aborted a run ({why}); counted as not found"
                );
                return Trial::censored(cases.get());
            }
        }
    }
}
