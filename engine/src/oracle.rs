//! The differential oracle: runs a case through both designs operation by operation, compares
//! fingerprints and checks invariants after each one, and returns the first divergence
//! classified, signed, matched against the expected-difference rules and diffed for people.

use crate::case::{Case, CaseOp, FaultPlan, OpKind};
use crate::exec::apply;
use crate::findings::{triage, Bucket, BucketKind, Evidence};
use crate::models::{Design, Outcome, Pair};
use crate::observe::{fingerprint, observe, Fingerprint, Invariant, Snapshot};
use crate::trace::{Coverage, Step};
use crate::world::{CgId, CsetId, World};
use serde::Serialize;
use std::fmt;
use std::fmt::Write as _;

/// The closed set of divergence classes (model.md §9), one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Class {
    /// The operations returned different results.
    Result = 0,
    /// Tasks are in different cgroups, states or linkage.
    Placement = 1,
    /// Different css_sets, refcounts or cgroup links.
    Inventory = 2,
    /// Same membership everywhere, different order of a `tasks` or `cset_links` list.
    Order = 3,
    /// Controller state differs (cpuset attach_in_progress, memory charge move).
    Controller = 4,
    /// Different callback calls (controller, callback, cgroup, error or taskset members).
    Callbacks = 5,
    /// The same callback calls in a different order, or tasksets in a different order.
    CallbackOrder = 6,
    /// Different release notifications.
    Release = 7,
    /// Different kernel warnings.
    Warning = 8,
    /// An invariant of §8 fails in at least one model.
    Invariant = 9,
    /// A model did not finish within its bound.
    Hang = 10,
}

impl Class {
    pub const ALL: [Class; 11] = [
        Class::Result,
        Class::Placement,
        Class::Inventory,
        Class::Order,
        Class::Controller,
        Class::Callbacks,
        Class::CallbackOrder,
        Class::Release,
        Class::Warning,
        Class::Invariant,
        Class::Hang,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Result => "result",
            Class::Placement => "placement",
            Class::Inventory => "inventory",
            Class::Order => "order",
            Class::Controller => "controller",
            Class::Callbacks => "callbacks",
            Class::CallbackOrder => "callback-order",
            Class::Release => "release",
            Class::Warning => "warning",
            Class::Invariant => "invariant",
            Class::Hang => "hang",
        }
    }

    pub fn from_name(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// A set of [`Class`]es.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Classes(pub u16);

impl Classes {
    pub fn with(self, c: Class) -> Classes {
        Classes(self.0 | 1 << c as u16)
    }
    pub fn has(self, c: Class) -> bool {
        self.0 & (1 << c as u16) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn is_subset(self, of: Classes) -> bool {
        self.0 & !of.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Class> {
        Class::ALL.into_iter().filter(move |&c| self.has(c))
    }
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Class::name).collect()
    }
    pub const fn of(list: &[Class]) -> Classes {
        let mut bits = 0u16;
        let mut i = 0;
        while i < list.len() {
            bits |= 1 << list[i] as u16;
            i += 1;
        }
        Classes(bits)
    }
}

impl Serialize for Classes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// Which model a divergence is charged to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The models disagree; neither breaks an invariant.
    Diff,
    /// This design (by [`Design::name`]) alone breaks an invariant or hangs.
    Design(&'static str),
    /// Both break an invariant or hang.
    Both,
}

impl Blame {
    pub fn name(self) -> &'static str {
        match self {
            Blame::Diff => "diff",
            Blame::Design(name) => name,
            Blame::Both => "both",
        }
    }
}

/// `Diff`, `Both`, or the design's name in CamelCase (`Legacy`, `FourStage`): the text replay's
/// trace hashes were taken over before designs were values, so stored hashes stay valid.
impl fmt::Debug for Blame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blame::Diff => f.write_str("Diff"),
            Blame::Both => f.write_str("Both"),
            Blame::Design(name) => {
                for word in name.split('-') {
                    let mut cs = word.chars();
                    if let Some(c) = cs.next() {
                        write!(f, "{}{}", c.to_ascii_uppercase(), cs.as_str())?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Blame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The kinds of fault present in the plan of an operation (an exit between the stages counts
/// as one: `exit`).
pub fn fault_kinds(f: &FaultPlan) -> &'static str {
    kinds_name(f.alloc.is_some(), f.can_attach.is_some(), f.exit.is_some())
}

/// The kinds of fault that fired in an operation, from the steps both models reached: what a
/// signature names (an allocation or can_attach fault that never fired changed nothing; an
/// exit between the stages is named when planned).
pub fn fired_kinds(op_steps: [u64; 2], f: &FaultPlan) -> &'static str {
    let s = op_steps[0] | op_steps[1];
    let reached = |step: Step| s & (1 << step.point()) != 0;
    kinds_name(
        reached(Step::AllocFailed(0)),
        reached(Step::CanAttachFailed(
            crate::case::Controller::Cpuset,
            crate::case::Errno::EINVAL,
        )),
        f.exit.is_some(),
    )
}

fn kinds_name(alloc: bool, can_attach: bool, exit: bool) -> &'static str {
    match (alloc, can_attach, exit) {
        (false, false, false) => "none",
        (true, false, false) => "alloc",
        (false, true, false) => "can_attach",
        (true, true, false) => "alloc+can_attach",
        (false, false, true) => "exit",
        (true, false, true) => "alloc+exit",
        (false, true, true) => "can_attach+exit",
        (true, true, true) => "alloc+can_attach+exit",
    }
}

/// The first divergence of a case.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// 0-based index of the operation after which the models first differ.
    pub op_index: usize,
    pub op_kind: OpKind,
    pub classes: Classes,
    pub blame: Blame,
    /// The kinds of fault that fired (`none`, `alloc`, `can_attach`, `alloc+can_attach`).
    pub faults: &'static str,
    /// Stable across runs and code changes: `op-kind/classes/faults/blame`.
    pub signature: String,
    /// The root cause(s): an expected rule, findings, or unlisted (`crate::findings`).
    /// Decided by the case alone.
    pub bucket: Bucket,
    /// The expected-difference rule when the bucket is one (a bucket of rules only is always a
    /// single rule: the rules' explanations nest).
    pub rule: Option<&'static str>,
    pub outcomes: [Outcome; 2],
    /// The readable observations and their diff; built only when asked for (see
    /// [`RunOptions::detail`]), because most divergences a campaign meets are known ones.
    pub detail: Option<Detail>,
}

/// The two observations at the divergence, for people.
#[derive(Clone)]
pub struct Detail {
    /// The designs' names, in the pair's order.
    pub designs: [&'static str; 2],
    /// Each design's observation, in the pair's order.
    pub snapshots: [Snapshot; 2],
    /// A unified diff of the two snapshots (first design `-`, second `+`).
    pub diff: String,
}

/// `{"<first design>": …, "<second design>": …, "diff": …}`, each name with `-` written `_`
/// (`legacy`, `four_stage` for the default pair).
impl Serialize for Detail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        for (name, snap) in self.designs.iter().zip(&self.snapshots) {
            m.serialize_entry(&json_key(name), snap)?;
        }
        m.serialize_entry("diff", &self.diff)?;
        m.end()
    }
}

/// `Detail { <first>: …, <second>: …, diff: … }` with the names as [`json_key`]s: the text
/// replay's trace hashes were taken over (`legacy`, `four_stage`).
impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.designs.map(json_key);
        f.debug_struct("Detail")
            .field(&keys[0], &self.snapshots[0])
            .field(&keys[1], &self.snapshots[1])
            .field("diff", &self.diff)
            .finish()
    }
}

/// A design's name as a JSON key of the run's output: `-` becomes `_` (`four_stage`).
pub fn json_key(design: &str) -> String {
    design.replace('-', "_")
}

impl Divergence {
    pub fn expected(&self) -> bool {
        self.rule.is_some()
    }
    /// Whether no known cause explains this divergence.
    pub fn unlisted(&self) -> bool {
        self.bucket.is_unlisted()
    }
}

/// Verdict of the oracle on a whole case.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Agree,
    Diverge(Box<Divergence>),
}

impl Verdict {
    pub fn divergence(&self) -> Option<&Divergence> {
        match self {
            Verdict::Agree => None,
            Verdict::Diverge(d) => Some(d),
        }
    }
    pub fn signature(&self) -> Option<&str> {
        self.divergence().map(|d| d.signature.as_str())
    }
}

/// What each model did on one operation (collected when tracing).
#[derive(Clone, Debug, Serialize)]
pub struct OpTrace {
    pub index: usize,
    pub outcomes: [Outcome; 2],
    /// The kernel-named steps of each model, rendered.
    pub steps: [Vec<String>; 2],
}

/// Everything a run of the oracle produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The names of the two designs compared, in order (every `[_; 2]` below follows it).
    pub designs: [&'static str; 2],
    pub verdict: Verdict,
    /// Operations executed (on each model) before the verdict.
    pub ops_executed: usize,
    pub trace: Vec<OpTrace>,
    pub coverage: [Coverage; 2],
}

/// What a run collects beyond the verdict.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Record the kernel-named steps of every operation.
    pub trace: bool,
    /// Build the readable snapshots and diff of a divergence.
    pub detail: bool,
    /// A planted bug to switch on, in the world of the model it belongs to (benchmarks and
    /// tests only: see [`crate::planted`]).
    #[cfg(any(test, feature = "planted-bugs"))]
    pub planted: Option<crate::planted::Bug>,
}

/// Runs `case` through the default pair, verdict and signature only: the hot path.
pub fn check(case: &Case) -> Report {
    check_pair(case, Pair::DEFAULT)
}

/// [`check`] on any pair of designs.
pub fn check_pair(case: &Case, pair: Pair) -> Report {
    run_designs(case, pair.0, RunOptions::default())
}

/// [`check`] on the first `n` operations only. (The campaign's fault sweep forks a
/// [`Session`] instead: [`crate::sweep`].)
pub fn check_prefix(case: &Case, n: usize) -> Report {
    check_prefix_pair(case, n, Pair::DEFAULT)
}

/// [`check_prefix`] on any pair of designs.
pub fn check_prefix_pair(case: &Case, n: usize, pair: Pair) -> Report {
    run_prefix(case, n, pair.0, RunOptions::default())
}

/// Runs `case` through the default pair with the divergence detail, and the trace if asked.
pub fn run(case: &Case, trace: bool) -> Report {
    run_pair(case, Pair::DEFAULT, trace)
}

/// [`run`] on any pair of designs.
// `RunOptions` has one more field when planted bugs are compiled in: the update is needed then.
#[allow(clippy::needless_update)]
pub fn run_pair(case: &Case, pair: Pair, trace: bool) -> Report {
    let opts = RunOptions {
        trace,
        detail: true,
        ..RunOptions::default()
    };
    run_designs(case, pair.0, opts)
}

/// [`run`] with the trace, handing each operation's trace to `each` as soon as that operation
/// has run instead of keeping them all (the report's `trace` is left empty): what
/// `cgdiff run` prints from, so that its memory does not grow with the case.
#[allow(clippy::needless_update)]
pub fn run_streaming(case: &Case, pair: Pair, each: &mut dyn FnMut(OpTrace)) -> Report {
    let opts = RunOptions {
        trace: true,
        detail: true,
        ..RunOptions::default()
    };
    let mut s = Session::new(&case.setup, pair.0, opts);
    let mut verdict = Verdict::Agree;
    for cop in &case.ops {
        let d = s.step(cop);
        for t in s.traces.drain(..) {
            each(t);
        }
        if let Some(d) = d {
            verdict = Verdict::Diverge(Box::new(d));
            break;
        }
    }
    s.into_report(verdict)
}

/// [`check`] with planted bug `bug` switched on in the model it belongs to.
#[cfg(any(test, feature = "planted-bugs"))]
pub fn check_with_bug(case: &Case, bug: crate::planted::Bug) -> Report {
    check_prefix_with_bug(case, case.ops.len(), bug)
}

/// [`check_prefix`] with planted bug `bug` switched on in the model it belongs to.
#[cfg(any(test, feature = "planted-bugs"))]
pub fn check_prefix_with_bug(case: &Case, n: usize, bug: crate::planted::Bug) -> Report {
    let opts = RunOptions {
        planted: Some(bug),
        ..RunOptions::default()
    };
    run_prefix(case, n, Pair::DEFAULT.0, opts)
}

/// [`run`] with explicit designs (a third model, or a planted-bug variant, slots in here).
pub fn run_designs(case: &Case, ds: [&dyn Design; 2], opts: RunOptions) -> Report {
    run_prefix(case, case.ops.len(), ds, opts)
}

fn run_prefix(case: &Case, n: usize, ds: [&dyn Design; 2], opts: RunOptions) -> Report {
    let mut s = Session::new(&case.setup, ds, opts);
    for cop in case.ops.iter().take(n) {
        if let Some(d) = s.step(cop) {
            return s.into_report(Verdict::Diverge(Box::new(d)));
        }
    }
    s.into_report(Verdict::Agree)
}

/// The oracle one operation at a time: both designs, each in its own world, compared after
/// every operation. [`check`] and [`run`] are a loop over this; a stateful property test (the
/// proptest-state-machine baseline of `cgdiff bench power`) drives it transition by transition.
pub struct Session<'d> {
    worlds: [World; 2],
    ds: [&'d dyn Design; 2],
    opts: RunOptions,
    /// Fingerprints after the previous operation (what "unchanged" is measured against).
    prev: [Fingerprint; 2],
    index: usize,
    traces: Vec<OpTrace>,
}

impl<'d> Session<'d> {
    pub fn new(setup: &crate::case::Setup, ds: [&'d dyn Design; 2], opts: RunOptions) -> Self {
        let mut worlds = [World::new(setup), World::new(setup)];
        for w in &mut worlds {
            w.trace.enabled = opts.trace;
        }
        #[cfg(any(test, feature = "planted-bugs"))]
        if let Some(bug) = opts.planted {
            // Planted in the world of the design it belongs to, if that design is compared.
            for (w, d) in worlds.iter_mut().zip(ds) {
                if d.name() == bug.design() {
                    w.planted = Some(bug);
                }
            }
        }
        let prev = [
            fingerprint(&worlds[0], Outcome::Ok),
            fingerprint(&worlds[1], Outcome::Ok),
        ];
        Session {
            worlds,
            ds,
            opts,
            prev,
            index: 0,
            traces: Vec::new(),
        }
    }

    /// Runs the next operation on both designs. `Some` when this operation is where the
    /// designs first differ (or break an invariant, or hang); the caller stops there, as the
    /// worlds are no longer comparable.
    pub fn step(&mut self, cop: &CaseOp) -> Option<Divergence> {
        let (worlds, ds, index) = (&mut self.worlds, self.ds, self.index);
        self.index += 1;
        let outcomes = [
            apply(&mut worlds[0], ds[0], cop),
            apply(&mut worlds[1], ds[1], cop),
        ];
        if self.opts.trace {
            self.traces.push(OpTrace {
                index,
                outcomes,
                steps: [render(&worlds[0]), render(&worlds[1])],
            });
        }
        let (fp0, bad0) = observe(&worlds[0], outcomes[0]);
        let (fp1, bad1) = observe(&worlds[1], outcomes[1]);
        let (fps, bad) = ([fp0, fp1], [bad0, bad1]);
        let hang = outcomes.contains(&Outcome::Hang);
        if fps[0] != fps[1] || bad != [0, 0] || hang {
            let prev = self.prev;
            return Some(classify(
                cop,
                index,
                [ds[0].name(), ds[1].name()],
                &self.worlds,
                outcomes,
                fps,
                prev,
                bad,
                self.opts.detail,
            ));
        }
        self.prev = fps;
        None
    }

    /// Operations run so far.
    pub fn ops_executed(&self) -> usize {
        self.index
    }

    fn into_report(self, verdict: Verdict) -> Report {
        Report {
            designs: [self.ds[0].name(), self.ds[1].name()],
            verdict,
            ops_executed: self.index,
            trace: self.traces,
            coverage: [self.worlds[0].coverage, self.worlds[1].coverage],
        }
    }
}

/// A copy of a session's state (both worlds, the last fingerprints, the position): the fault
/// sweep forks the session at each migration. `clone_from` copies into the destination's own
/// buffers ([`World`]'s), so forking again and again does not allocate.
impl Clone for Session<'_> {
    fn clone(&self) -> Self {
        Session {
            worlds: self.worlds.clone(),
            ds: self.ds,
            opts: self.opts,
            prev: self.prev,
            index: self.index,
            traces: self.traces.clone(),
        }
    }

    fn clone_from(&mut self, src: &Self) {
        for (w, s) in self.worlds.iter_mut().zip(&src.worlds) {
            w.clone_from(s);
        }
        self.ds = src.ds;
        self.opts = src.opts;
        self.prev = src.prev;
        self.index = src.index;
        self.traces.clone_from(&src.traces);
    }
}

/// Steps of one model on one operation rendered at most; the rest are counted in a last line.
/// A transfer of thousands of tasks takes tens of thousands of steps: rendering them all made
/// `cgdiff run` print a gigabyte for a 58 KB case.
pub const MAX_RENDERED_STEPS: usize = 256;

fn render(w: &World) -> Vec<String> {
    let steps = &w.trace.steps;
    let mut out: Vec<String> = steps
        .iter()
        .take(MAX_RENDERED_STEPS)
        .map(|s| render_step(w, s))
        .collect();
    if steps.len() > MAX_RENDERED_STEPS {
        out.push(format!(
            "… {} more steps not shown (at most {MAX_RENDERED_STEPS} per operation)",
            steps.len() - MAX_RENDERED_STEPS
        ));
    }
    out
}

/// A step with cgroup numbers replaced by paths.
pub fn render_step(w: &World, s: &Step) -> String {
    match *s {
        Step::CgroupAttachTask {
            dst,
            leader,
            threadgroup,
        } => format!(
            "cgroup_attach_task({}, {leader}, threadgroup={threadgroup})",
            w.path(dst)
        ),
        Step::CgroupTransferTasks { to, from } => format!(
            "cgroup_transfer_tasks(to={}, from={})",
            w.path(to),
            w.path(from)
        ),
        Step::MultiMigrate { dst, targets } => {
            format!("multi-target migrate({}, {targets} targets)", w.path(dst))
        }
        _ => s.to_string(),
    }
}

fn diff_classes(a: &Fingerprint, b: &Fingerprint) -> Classes {
    let mut c = Classes::default();
    if a.result != b.result {
        c = c.with(Class::Result);
    }
    if a.placement != b.placement {
        c = c.with(Class::Placement);
    }
    if a.inventory != b.inventory {
        c = c.with(Class::Inventory);
    }
    if a.order != b.order && a.placement == b.placement && a.inventory == b.inventory {
        c = c.with(Class::Order);
    }
    if a.controller != b.controller {
        c = c.with(Class::Controller);
    }
    if a.callbacks != b.callbacks {
        c = c.with(Class::Callbacks);
    } else if a.callback_order != b.callback_order {
        c = c.with(Class::CallbackOrder);
    }
    if a.release != b.release || a.releasable != b.releasable {
        c = c.with(Class::Release);
    }
    if a.warnings != b.warnings {
        c = c.with(Class::Warning);
    }
    c
}

#[allow(clippy::too_many_arguments)]
fn classify(
    cop: &CaseOp,
    index: usize,
    designs: [&'static str; 2],
    worlds: &[World; 2],
    outcomes: [Outcome; 2],
    fps: [Fingerprint; 2],
    prev: [Fingerprint; 2],
    bad: [u16; 2],
    detail: bool,
) -> Divergence {
    let mut classes = diff_classes(&fps[0], &fps[1]);
    if bad != [0, 0] {
        classes = classes.with(Class::Invariant);
    }
    let hang = bad[0] | bad[1];
    if hang & Invariant::Bound.bit() != 0 {
        classes = classes.with(Class::Hang);
    }
    let blame = match (bad[0] != 0, bad[1] != 0) {
        (false, false) => Blame::Diff,
        (true, false) => Blame::Design(designs[0]),
        (false, true) => Blame::Design(designs[1]),
        (true, true) => Blame::Both,
    };
    let op_kind = cop.op.kind();
    let marks = [worlds[0].marks, worlds[1].marks];
    let faults = fired_kinds([worlds[0].op_steps, worlds[1].op_steps], &cop.faults);
    let unchanged = |i: usize| {
        fps[i].placement == prev[i].placement
            && fps[i].inventory == prev[i].inventory
            && fps[i].order == prev[i].order
    };
    let moved =
        |i: usize| fps[i].placement != prev[i].placement || fps[i].inventory != prev[i].inventory;
    let evidence = Evidence {
        pair: designs,
        kind: op_kind,
        outcomes,
        classes,
        bad,
        steps: [worlds[0].op_steps, worlds[1].op_steps],
        marks,
        unchanged: [unchanged(0), unchanged(1)],
        moved: [moved(0), moved(1)],
        release_permuted: classes.has(Class::Release)
            && fps[0].releasable == fps[1].releasable
            && permuted(worlds),
        release_silenced: [silenced(worlds, 0), silenced(worlds, 1)],
        release_touched: [
            !worlds[0].release_queued.is_empty() || fps[0].releasable != prev[0].releasable,
            !worlds[1].release_queued.is_empty() || fps[1].releasable != prev[1].releasable,
        ],
        order_prefix_only: classes.has(Class::Order)
            && order_differs_only(worlds, Reorder::HeadOnly),
        order_permuted_only: classes.has(Class::Order) && order_differs_only(worlds, Reorder::Any),
        taskset_order_only: classes.has(Class::CallbackOrder) && taskset_order_only(worlds),
        callbacks: [worlds[0].events.len(), worlds[1].events.len()],
    };
    let bucket = triage(&evidence);
    let rule = match bucket.kind() {
        BucketKind::Expected => bucket.causes().next().map(|c| c.id),
        _ => None,
    };
    let signature = format!(
        "{}{}/{}/{}/{}",
        pair_prefix(designs),
        op_kind.name(),
        classes.names().join("+"),
        faults,
        blame.name()
    );
    let detail = detail.then(|| {
        let snapshots = [
            Snapshot::of(&worlds[0], outcomes[0]),
            Snapshot::of(&worlds[1], outcomes[1]),
        ];
        let diff = unified_diff(&snapshots[0], &snapshots[1]);
        Detail {
            designs,
            snapshots,
            diff,
        }
    });
    Divergence {
        op_index: index,
        op_kind,
        classes,
        blame,
        faults,
        signature,
        bucket,
        rule,
        outcomes,
        detail,
    }
}

/// Whether both models queued the same release notifications, in another order (cgroup ids
/// are the same in both models: mkdir is shared code). No allocation: the queues are short.
fn permuted(worlds: &[World; 2]) -> bool {
    let (a, b) = (&worlds[0].release_queued, &worlds[1].release_queued);
    a != b && same_elements(a, b, |x, y| x == y)
}

/// Whether `a` and `b` hold the same elements (lists here never repeat one), in any order.
fn same_elements<T: Copy>(a: &[T], b: &[T], same: impl Fn(T, T) -> bool) -> bool {
    a.len() == b.len() && a.iter().all(|&x| b.iter().any(|&y| same(x, y)))
}

/// Which reordering of a list [`order_differs_only`] accepts.
#[derive(Clone, Copy)]
enum Reorder {
    /// The same elements, differing only in a prefix: those put at the head by this
    /// operation came in another order, the rest is the same.
    HeadOnly,
    /// The same elements, in any order.
    Any,
}

impl Reorder {
    fn accepts<T: Copy>(self, a: &[T], b: &[T], same: impl Fn(T, T) -> bool) -> bool {
        match self {
            Reorder::Any => same_elements(a, b, same),
            Reorder::HeadOnly => {
                if a.len() != b.len() {
                    return false;
                }
                let mut k = a.len();
                while k > 0 && same(a[k - 1], b[k - 1]) {
                    k -= 1;
                }
                same_elements(&a[..k], &b[..k], same)
            }
        }
    }
}

/// Whether every order difference between the models is a reordering `how` accepts: for each
/// css_set (by tuple) its `tasks`, and for each cgroup its `cset_links`. Divergences only:
/// quadratic in small lists, no allocation.
fn order_differs_only(worlds: &[World; 2], how: Reorder) -> bool {
    let (w0, w1) = (&worlds[0], &worlds[1]);
    let key = |w: &World, c: CsetId| w.csets[c as usize].key;
    for c0 in w0.csets.iter().filter(|c| c.live) {
        let Some(c1) = w1.csets.iter().find(|c| c.live && c.key == c0.key) else {
            return false;
        };
        if !how.accepts(&c0.tasks, &c1.tasks, |x, y| x == y) {
            return false;
        }
    }
    w0.cgroups.iter().zip(&w1.cgroups).all(|(g0, g1)| {
        how.accepts(&g0.cset_links, &g1.cset_links, |x, y| {
            key(w0, x) == key(w1, y)
        })
    })
}

/// Whether model `m`, for a cgroup a non-exit put emptied silently there
/// ([`World::silenced`]), did not do what the other model did: queue its release
/// notification, or mark it releasable (a cgroup with children is marked, not queued).
fn silenced(worlds: &[World; 2], m: usize) -> bool {
    let (own, other) = (&worlds[m], &worlds[1 - m]);
    if own.silenced == 0 {
        return false;
    }
    (0..own.cgroups.len().min(other.cgroups.len())).any(|cg| {
        let id = cg as CgId;
        own.silenced & (1 << (cg % 64)) != 0
            && (other.release_queued.contains(&id) && !own.release_queued.contains(&id)
                || other.cgroups[cg].releasable && !own.cgroups[cg].releasable)
    })
}

/// Whether both models made the same callback calls in the same order (controller, callback,
/// cgroup, error), only with tasksets in another order.
fn taskset_order_only(worlds: &[World; 2]) -> bool {
    let (w0, w1) = (&worlds[0], &worlds[1]);
    w0.events.len() == w1.events.len()
        && w0.events.iter().zip(&w1.events).all(|(a, b)| {
            let (ta, tb) = (
                &w0.event_pids[a.tasks.0 as usize..a.tasks.1 as usize],
                &w1.event_pids[b.tasks.0 as usize..b.tasks.1 as usize],
            );
            (a.controller, a.callback, a.dst, a.error) == (b.controller, b.callback, b.dst, b.error)
                && ta.len() == tb.len()
                && ta.iter().all(|p| tb.contains(p))
        })
}

/// What a signature starts with: nothing for the default pair (legacy, four-stage), `A,B:`
/// for any other, so that each pair's findings are buckets of their own.
pub fn pair_prefix(designs: [&str; 2]) -> String {
    if designs == Pair::DEFAULT.names() {
        String::new()
    } else {
        format!("{},{}:", designs[0], designs[1])
    }
}

/// A line diff of two snapshots: `-` the first design only, `+` the second only, ` ` both.
pub fn unified_diff(first: &Snapshot, second: &Snapshot) -> String {
    let a = first.lines().join("\n") + "\n";
    let b = second.lines().join("\n") + "\n";
    let diff = similar::TextDiff::from_lines(&a, &b);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        let _ = write!(out, "{sign} {}", change.value());
    }
    out
}

/// What one design alone did on a case, checked against every invariant and property
/// ([`crate::observe::check_properties`], [`Invariant::LeaderFirst`] included): the first
/// operation that breaks one, or none.
#[derive(Clone, Debug, Serialize)]
pub struct SingleReport {
    pub design: &'static str,
    /// Operations executed.
    pub ops_executed: usize,
    /// The first operation that broke an invariant or hung, and what it broke.
    pub violation: Option<SingleViolation>,
}

/// The first operation at which one design breaks an invariant.
#[derive(Clone, Debug, Serialize)]
pub struct SingleViolation {
    pub op_index: usize,
    pub op_kind: OpKind,
    pub outcome: Outcome,
    /// The broken invariants ([`Invariant::name`]s), in their order.
    pub invariants: Vec<&'static str>,
    /// `op-kind/invariants/faults/design`, e.g. `transfer-tasks/bound/none/v3.16`.
    pub signature: String,
}

/// Runs `case` on design `d` alone, checking every invariant and property after each
/// operation; stops at the first that breaks.
pub fn check_design(case: &Case, d: &dyn Design) -> SingleReport {
    let mut w = World::new(&case.setup);
    w.check_properties = true;
    for (index, cop) in case.ops.iter().enumerate() {
        let outcome = apply(&mut w, d, cop);
        let bad = crate::observe::check_properties(&w, outcome);
        if bad != 0 {
            let invariants: Vec<&'static str> = Invariant::ALL
                .iter()
                .filter(|i| bad & i.bit() != 0)
                .map(|i| i.name())
                .collect();
            let op_kind = cop.op.kind();
            let signature = format!(
                "{}/{}/{}/{}",
                op_kind.name(),
                invariants.join("+"),
                fault_kinds(&cop.faults),
                d.name()
            );
            return SingleReport {
                design: d.name(),
                ops_executed: index + 1,
                violation: Some(SingleViolation {
                    op_index: index,
                    op_kind,
                    outcome,
                    invariants,
                    signature,
                }),
            };
        }
    }
    SingleReport {
        design: d.name(),
        ops_executed: case.ops.len(),
        violation: None,
    }
}
