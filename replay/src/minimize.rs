//! The minimiser: the smallest case that still diverges with the **same signature** in the
//! **same bucket**. A signature names only the faults that fired, so a fault that never fires
//! is dropped by step 3 like any other simplification.
//!
//! Shrink order (each step kept only if `oracle::check` still gives the same signature and
//! bucket):
//! 1. Truncate after the first divergent operation: nothing later matters.
//! 2. Delta debugging over operations (chunks of n/2, n/4, … 1), then single removals from the
//!    back until a fixpoint. Removing an operation removes what only makes sense with it
//!    ([`remove_with_dependents`]): a fork takes every later use of its pid (and its own forks)
//!    with it, a mkdir every later use of its path and the paths below it; a multi-target
//!    migrate loses just the targets that name a removed pid.
//! 3. Simplification, operation by operation: drop the allocation fault, drop the can_attach
//!    fault, lower fault indices (one by one up to 16, by bisection above: the cost does not
//!    grow with an index's value), process → task, fewer targets (one left: a plain migrate),
//!    thread → process fork; then the setup: controllers and unused hierarchies out,
//!    notify_on_release off; then renaming: pids 2, 3, … in fork order, cgroup names a, b, c …
//!    in mkdir order.
//! 4. Repeat 2–3 until nothing changes. The result is 1-minimal: removing any single operation
//!    (with its dependents) loses the signature.
//!
//! Deterministic: no randomness, no clocks.

use cgdiff_engine::models::Pair;
use cgdiff_engine::{oracle, Case, CaseOp, CgPath, Op, Pid, Target};
use std::collections::{BTreeMap, HashSet};

/// What a minimisation cost and achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MinimizeStats {
    /// Oracle runs.
    pub runs: usize,
    pub before_ops: usize,
    pub after_ops: usize,
    /// [`WORK_BUDGET`] ran out: the result reproduces but may not be 1-minimal.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub budget_spent: bool,
}

struct Shrinker<'p> {
    /// Whether a candidate still shows what is being minimised.
    keeps: &'p mut dyn FnMut(&Case) -> bool,
    /// Whether the work budget is spent: no more candidates are tried.
    spent: &'p dyn Fn() -> bool,
    runs: usize,
}

impl Shrinker<'_> {
    fn reproduces(&mut self, c: &Case) -> bool {
        if (self.spent)() {
            return false;
        }
        self.runs += 1;
        (self.keeps)(c)
    }

    fn spent(&self) -> bool {
        (self.spent)()
    }

    /// Keeps `candidate` in `best` if it reproduces and differs.
    fn try_keep(&mut self, best: &mut Case, candidate: Case) -> bool {
        if candidate != *best && self.reproduces(&candidate) {
            *best = candidate;
            true
        } else {
            false
        }
    }
}

/// Minimises `case`, which must diverge with `signature`; returns it unchanged otherwise.
pub fn minimize(case: &Case, signature: &str) -> (Case, MinimizeStats) {
    minimize_pair(case, signature, Pair::DEFAULT)
}

/// [`minimize`] on a pair of designs.
pub fn minimize_pair(case: &Case, signature: &str, pair: Pair) -> (Case, MinimizeStats) {
    let Some(d) = oracle::check_pair(case, pair).verdict.divergence().cloned() else {
        return unchanged(case, 1);
    };
    if d.signature != signature {
        return unchanged(case, 1);
    }
    let work = std::cell::Cell::new(0u64);
    // Same signature and same bucket: a smaller case that shows another root cause under the
    // same signature is not the same finding.
    let bucket = d.bucket;
    let mut keeps = |c: &Case| {
        let r = oracle::check_pair(c, pair);
        // The model steps both designs took: what a run cost, whatever the operations were.
        let steps: u64 = r.coverage.iter().flat_map(|c| c.0.iter()).sum();
        work.set(work.get() + steps + r.ops_executed as u64);
        r.verdict
            .divergence()
            .is_some_and(|x| x.signature == signature && x.bucket == bucket)
    };
    let spent = || work.get() > WORK_BUDGET;
    let (best, mut stats) = shrink(case, d.op_index + 1, &mut keeps, &spent);
    stats.runs += 1;
    stats.budget_spent = spent();
    (best, stats)
}

/// Model steps (both designs, summed over every candidate run) that one [`minimize`] may
/// spend, a few seconds' work: past it the minimiser stops and returns the smallest case
/// found so far (which still has the signature), with [`MinimizeStats::budget_spent`] set.
/// Generated cases are minimised in well under 1% of it; a hand-made case of thousands of
/// operations moving thousands of tasks would otherwise take hours.
pub const WORK_BUDGET: u64 = 20_000_000;

fn unchanged(case: &Case, runs: usize) -> (Case, MinimizeStats) {
    let stats = MinimizeStats {
        runs,
        before_ops: case.ops.len(),
        after_ops: case.ops.len(),
        budget_spent: false,
    };
    (case.clone(), stats)
}

/// The same shrink steps for any property: the smallest case, starting from `case` cut to its
/// first `upto` operations, on which `keeps` still holds (it must hold on that prefix, and is
/// trusted to). [`minimize`] is this with "the same signature"; `cgdiff bench power` uses it
/// with "the planted bug still changes the verdict".
pub fn minimize_with(
    case: &Case,
    upto: usize,
    keeps: &mut dyn FnMut(&Case) -> bool,
) -> (Case, MinimizeStats) {
    shrink(case, upto, keeps, &|| false)
}

fn shrink(
    case: &Case,
    upto: usize,
    keeps: &mut dyn FnMut(&Case) -> bool,
    spent: &dyn Fn() -> bool,
) -> (Case, MinimizeStats) {
    let mut s = Shrinker {
        keeps,
        spent,
        runs: 0,
    };
    let mut stats = MinimizeStats {
        before_ops: case.ops.len(),
        ..MinimizeStats::default()
    };
    let mut best = case.clone();
    best.ops.truncate(upto);
    for _ in 0..16 {
        let before = best.clone();
        ddmin(&mut s, &mut best);
        single_removals(&mut s, &mut best);
        simplify_ops(&mut s, &mut best);
        simplify_setup(&mut s, &mut best);
        rename(&mut s, &mut best);
        if best == before || s.spent() {
            break;
        }
    }
    stats.runs = s.runs;
    stats.after_ops = best.ops.len();
    (best, stats)
}

fn ddmin(s: &mut Shrinker, best: &mut Case) {
    let mut n = 2usize;
    while best.ops.len() >= 2 && !s.spent() {
        let len = best.ops.len();
        let chunk = len.div_ceil(n);
        let mut removed = false;
        let mut start = 0;
        while start < best.ops.len() && !s.spent() {
            let end = (start + chunk).min(best.ops.len());
            let idx: HashSet<usize> = (start..end).collect();
            let candidate = remove_with_dependents(best, &idx);
            if !candidate.ops.is_empty() && s.try_keep(best, candidate) {
                removed = true;
            } else {
                start = end;
            }
        }
        if removed {
            n = n.saturating_sub(1).max(2);
        } else if n >= best.ops.len() {
            break;
        } else {
            n = (n * 2).min(best.ops.len());
        }
    }
}

fn single_removals(s: &mut Shrinker, best: &mut Case) {
    loop {
        let mut changed = false;
        let mut i = best.ops.len();
        while i > 0 && !s.spent() {
            i -= 1;
            if i >= best.ops.len() {
                continue;
            }
            let candidate = remove_with_dependents(best, &HashSet::from([i]));
            if !candidate.ops.is_empty() && s.try_keep(best, candidate) {
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Simpler variants of one operation, simplest first.
fn op_variants(c: &CaseOp) -> Vec<CaseOp> {
    let mut out = Vec::new();
    let with_op = |op: Op| CaseOp {
        op,
        faults: c.faults,
    };
    if c.faults.alloc.is_some() {
        let mut v = c.clone();
        v.faults.alloc = None;
        out.push(v);
        for n in 1..c.faults.alloc.unwrap_or(1).min(LINEAR_INDICES + 1) {
            let mut v = c.clone();
            v.faults.alloc = Some(n);
            out.push(v);
        }
    }
    if c.faults.exit.is_some() {
        let mut v = c.clone();
        v.faults.exit = None;
        out.push(v);
    }
    if let Some(ca) = c.faults.can_attach {
        let mut v = c.clone();
        v.faults.can_attach = None;
        out.push(v);
        for k in 1..ca.nth.min(LINEAR_INDICES + 1) {
            let mut v = c.clone();
            v.faults.can_attach = Some(cgdiff_engine::CanAttachFault { nth: k, ..ca });
            out.push(v);
        }
    }
    match &c.op {
        Op::MigrateProcess { pid, dst } => out.push(with_op(Op::MigrateTask {
            pid: *pid,
            dst: dst.clone(),
        })),
        Op::MigrateMulti { dst, targets } if targets.len() == 1 => {
            let t = targets[0];
            out.push(with_op(if t.process {
                Op::MigrateProcess {
                    pid: t.pid,
                    dst: dst.clone(),
                }
            } else {
                Op::MigrateTask {
                    pid: t.pid,
                    dst: dst.clone(),
                }
            }));
        }
        Op::MigrateMulti { dst, targets } => {
            for i in 0..targets.len() {
                let mut t = targets.clone();
                t.remove(i);
                out.push(with_op(Op::MigrateMulti {
                    dst: dst.clone(),
                    targets: t,
                }));
            }
            for i in 0..targets.len() {
                if targets[i].process {
                    let mut t = targets.clone();
                    t[i].process = false;
                    out.push(with_op(Op::MigrateMulti {
                        dst: dst.clone(),
                        targets: t,
                    }));
                }
            }
        }
        Op::Fork {
            parent,
            child,
            thread: true,
        } => out.push(with_op(Op::Fork {
            parent: *parent,
            child: *child,
            thread: false,
        })),
        _ => {}
    }
    out
}

/// Fault indices up to this are tried one by one, smallest first ([`op_variants`]); a larger
/// one is lowered by bisection ([`bisect_fault_indices`]), so that what minimising costs does
/// not grow with the value of an index (`fail-alloc=65535` costs ~30 runs, not 65,535).
const LINEAR_INDICES: u32 = 16;

fn simplify_ops(s: &mut Shrinker, best: &mut Case) {
    let mut i = 0;
    while i < best.ops.len() && !s.spent() {
        loop {
            let mut progress = true;
            while progress {
                progress = false;
                for v in op_variants(&best.ops[i]) {
                    let mut candidate = best.clone();
                    candidate.ops[i] = v;
                    if s.try_keep(best, candidate) {
                        progress = true;
                        break;
                    }
                }
            }
            if !bisect_fault_indices(s, best, i) {
                break;
            }
        }
        i += 1;
    }
}

/// Lowers operation `i`'s fault indices above [`LINEAR_INDICES`] by bisection over
/// `LINEAR_INDICES + 1..=index` (the indices below were tried one by one): log2 of the index in
/// runs. The property need not be monotonic in the index; whatever is kept reproduces.
/// Whether anything was lowered.
fn bisect_fault_indices(s: &mut Shrinker, best: &mut Case, i: usize) -> bool {
    type Get = fn(&CaseOp) -> Option<u32>;
    type Set = fn(&mut CaseOp, u32);
    let fields: [(Get, Set); 2] = [
        (|c| c.faults.alloc, |c, n| c.faults.alloc = Some(n)),
        (
            |c| c.faults.can_attach.map(|f| f.nth),
            |c, n| {
                if let Some(f) = &mut c.faults.can_attach {
                    f.nth = n;
                }
            },
        ),
    ];
    let mut lowered = false;
    for (get, set) in fields {
        let Some(mut hi) = get(&best.ops[i]) else {
            continue;
        };
        let mut lo = LINEAR_INDICES + 1;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let mut candidate = best.clone();
            set(&mut candidate.ops[i], mid);
            if s.try_keep(best, candidate) {
                hi = mid;
                lowered = true;
            } else {
                lo = mid + 1;
            }
        }
    }
    lowered
}

fn simplify_setup(s: &mut Shrinker, best: &mut Case) {
    for h in 0..best.setup.hierarchies.len() {
        let mut k = 0;
        while k < best.setup.hierarchies[h].controllers.len() {
            let mut candidate = best.clone();
            candidate.setup.hierarchies[h].controllers.remove(k);
            if !s.try_keep(best, candidate) {
                k += 1;
            }
        }
        if best.setup.hierarchies[h].notify_on_release {
            let mut candidate = best.clone();
            candidate.setup.hierarchies[h].notify_on_release = false;
            s.try_keep(best, candidate);
        }
    }
    // Drop hierarchies no operation names (from the last, renumbering the ones after).
    let mut h = best.setup.hierarchies.len();
    while h > 0 && best.setup.hierarchies.len() > 1 {
        let hier = h as u8;
        h -= 1;
        if uses_hierarchy(best, hier) {
            continue;
        }
        let mut candidate = best.clone();
        candidate.setup.hierarchies.remove(hier as usize - 1);
        for c in &mut candidate.ops {
            map_paths(&mut c.op, &mut |p| {
                if p.hier > hier {
                    p.hier -= 1;
                }
            });
            if let Op::AddController { hier: x, .. } = &mut c.op {
                if *x > hier {
                    *x -= 1;
                }
            }
        }
        s.try_keep(best, candidate);
    }
}

fn uses_hierarchy(case: &Case, hier: u8) -> bool {
    let mut used = false;
    for c in &case.ops {
        let mut op = c.op.clone();
        map_paths(&mut op, &mut |p| used |= p.hier == hier);
        if let Op::AddController { hier: x, .. } = op {
            used |= x == hier;
        }
        // attach-task-all walks every mounted hierarchy.
        used |= matches!(c.op, Op::AttachTaskAll { .. });
    }
    used
}

/// Applies `f` to every path an operation names.
fn map_paths(op: &mut Op, f: &mut impl FnMut(&mut CgPath)) {
    match op {
        Op::Mkdir { path } | Op::Rmdir { path } => f(path),
        Op::MigrateTask { dst, .. } | Op::MigrateProcess { dst, .. } => f(dst),
        Op::MigrateMulti { dst, .. } => f(dst),
        Op::TransferTasks { from, to } => {
            f(from);
            f(to);
        }
        _ => {}
    }
}

/// Applies `f` to every pid an operation names (not the child a fork creates).
fn map_pids(op: &mut Op, f: &mut impl FnMut(&mut Pid)) {
    match op {
        Op::Fork { parent, .. } => f(parent),
        Op::ExitBegin { pid } | Op::ExitFinish { pid } => f(pid),
        Op::MigrateTask { pid, .. } | Op::MigrateProcess { pid, .. } => f(pid),
        Op::MigrateMulti { targets, .. } => targets.iter_mut().for_each(|t| f(&mut t.pid)),
        Op::AttachTaskAll { from, pid } => {
            f(from);
            f(pid);
        }
        _ => {}
    }
}

/// Cosmetic renumbering: pids 2, 3, … in fork order; cgroup names a, b, c … per parent in
/// mkdir order. Kept only if the signature survives (it always should).
fn rename(s: &mut Shrinker, best: &mut Case) {
    let mut pids: BTreeMap<Pid, Pid> = BTreeMap::from([(1, 1)]);
    let mut next = 2;
    for c in &best.ops {
        if let Op::Fork { child, .. } = c.op {
            pids.entry(child).or_insert_with(|| {
                next += 1;
                next - 1
            });
        }
    }
    // Names: per (hierarchy, parent path), in order of first mkdir.
    let mut names: BTreeMap<CgPath, String> = BTreeMap::new();
    let mut per_parent: BTreeMap<CgPath, usize> = BTreeMap::new();
    for c in &best.ops {
        if let Op::Mkdir { path } = &c.op {
            if let Some(parent) = path.parent() {
                if !names.contains_key(path) {
                    let n = per_parent.entry(parent).or_insert(0);
                    names.insert(path.clone(), letter_name(*n));
                    *n += 1;
                }
            }
        }
    }
    let rename_path = |p: &mut CgPath| {
        let mut out = CgPath::root(p.hier);
        for j in 0..p.parts.len() {
            let old = CgPath {
                hier: p.hier,
                parts: p.parts[..=j].to_vec(),
            };
            let new = names
                .get(&old)
                .cloned()
                .unwrap_or_else(|| format!("x{}", p.parts[j]));
            out = out.child(&new);
        }
        *p = out;
    };
    let mut candidate = best.clone();
    for c in &mut candidate.ops {
        if let Op::Fork { child, .. } = &mut c.op {
            *child = pids[child];
        }
        map_pids(&mut c.op, &mut |p| {
            if let Some(&n) = pids.get(p) {
                *p = n;
            }
        });
        if let Some(e) = &mut c.faults.exit {
            if let Some(&n) = pids.get(&e.pid) {
                e.pid = n;
            }
        }
        map_paths(&mut c.op, &mut |p| rename_path(p));
    }
    if candidate.validate().is_ok() {
        s.try_keep(best, candidate);
    }
}

fn letter_name(n: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    if n < letters.len() {
        (letters[n] as char).to_string()
    } else {
        format!("c{n}")
    }
}

/// Removes the operations at `indices` and everything that only makes sense with them.
pub fn remove_with_dependents(case: &Case, indices: &HashSet<usize>) -> Case {
    let mut gone_pids: HashSet<Pid> = HashSet::new();
    let mut gone_paths: Vec<CgPath> = Vec::new();
    let mut ops = Vec::with_capacity(case.ops.len());
    let under = |p: &CgPath, gone: &[CgPath]| {
        gone.iter()
            .any(|g| g.hier == p.hier && p.parts.starts_with(&g.parts))
    };
    // Paths made by a kept mkdir: dropping a later, duplicate mkdir of one does not orphan it.
    let mut made: Vec<CgPath> = Vec::new();
    for (i, c) in case.ops.iter().enumerate() {
        let mut c = c.clone();
        let mut drop = indices.contains(&i);
        if !drop {
            if let Op::MigrateMulti { targets, .. } = &mut c.op {
                targets.retain(|t: &Target| !gone_pids.contains(&t.pid));
                drop = targets.is_empty();
            }
            // An exit between stages of a task no longer forked just goes.
            if c.faults.exit.is_some_and(|e| gone_pids.contains(&e.pid)) {
                c.faults.exit = None;
            }
            let mut names_gone = false;
            map_pids(&mut c.op, &mut |p| names_gone |= gone_pids.contains(p));
            map_paths(&mut c.op, &mut |p| names_gone |= under(p, &gone_paths));
            drop |= names_gone;
        }
        if drop {
            match &c.op {
                Op::Fork { child, .. } => {
                    gone_pids.insert(*child);
                }
                Op::Mkdir { path } if !made.contains(path) => gone_paths.push(path.clone()),
                _ => {}
            }
        } else {
            if let Op::Mkdir { path } = &c.op {
                made.push(path.clone());
            }
            ops.push(c);
        }
    }
    Case {
        setup: case.setup.clone(),
        ops,
    }
}
