//! What a learning campaign keeps and how it varies it: a [`Corpus`] of cases that reached new
//! model-coverage [`Features`], operation-level mutations of them ([`mutate`]), and swarm
//! testing of the operation mix ([`swarm`]).
//!
//! Why: a fresh random case reaches a shape that needs several things together (a zombie
//! leader named in a multi-target migrate; three controllers on one hierarchy and the last
//! one's `can_attach` failing; a cgroup made releasable, then removed) only by drawing all of
//! them at once. A case that already has one part is kept when it reaches something new in the
//! models, and its variations keep that part while they try the others. Swarm testing (a
//! random subset of the operation kinds per case, Groce et al. 2012) makes cases that are
//! dense in a few kinds (exits and multi-target migrates; mkdirs, migrations and rmdirs),
//! which the full mix, where every kind dilutes every other, rarely draws.
//!
//! Pure and deterministic like the rest of the engine: no I/O, no clock, no global state; the
//! randomness is a [`Rng`] the caller seeds (the campaign seeds it from the case number, so a
//! `--jobs 1` campaign stays a function of its seed). Nothing here runs inside the oracle's
//! step loop: a mutant is built once per case, before it runs, into a buffer the caller keeps.

use crate::case::{Case, CgPath, Op, Pid, MAX_MOUNTED, MAX_PID};
use crate::gen::Kinds;
use crate::trace::{Coverage, COVERAGE_POINTS};

/// A small deterministic random stream (splitmix64), seeded by the caller.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        crate::world::mix(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True `num` times in `den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next_u64() % den < num
    }
}

/// A swarm configuration: each operation kind enabled at even odds, at least one migration
/// among them (a case without one cannot show the designs apart).
pub fn swarm(rng: &mut Rng) -> Kinds {
    loop {
        let k = Kinds(rng.next_u64() as u16 & Kinds::ALL.0);
        if crate::case::OpKind::ALL
            .iter()
            .any(|&o| o.is_migration() && k.contains(o))
        {
            return k;
        }
    }
}

/// Hit-count buckets of a coverage point (as AFL buckets edge counts): 1, 2, 3, 4–7, 8–15,
/// 16–31, 32–127, 128+.
fn bucket(n: u64) -> u8 {
    match n {
        0 => 0,
        1 => 1,
        2 => 1 << 1,
        3 => 1 << 2,
        4..=7 => 1 << 3,
        8..=15 => 1 << 4,
        16..=31 => 1 << 5,
        32..=127 => 1 << 6,
        _ => 1 << 7,
    }
}

/// The model-coverage features reached so far: per model, (step, how often in one case,
/// bucketed) and (step, step) reached in one case. Steps include the outcome paths (ENOMEM,
/// `can_attach` failed, nothing to migrate, hang, each warning), and the hit counts stand for
/// the shape the case built (how many css_sets were created and freed, tasks moved, callbacks
/// run). A fixed table, about 4,000 features: the corpus it admits into stays bounded.
#[derive(Clone, Debug)]
pub struct Features {
    counts: [[u8; COVERAGE_POINTS]; 2],
    pairs: [[u64; COVERAGE_POINTS]; 2],
}

impl Default for Features {
    fn default() -> Self {
        Features {
            counts: [[0; COVERAGE_POINTS]; 2],
            pairs: [[0; COVERAGE_POINTS]; 2],
        }
    }
}

impl Features {
    /// Adds the features of one run (the coverage of each model); true when any was new.
    pub fn add(&mut self, coverage: &[Coverage; 2]) -> bool {
        let mut new = false;
        for (m, c) in coverage.iter().enumerate() {
            let reached =
                c.0.iter()
                    .enumerate()
                    .fold(0u64, |b, (i, &n)| if n > 0 { b | 1 << i } else { b });
            let mut rest = reached;
            while rest != 0 {
                let i = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let b = bucket(c.0[i]);
                if self.counts[m][i] & b == 0 {
                    self.counts[m][i] |= b;
                    new = true;
                }
                if reached & !self.pairs[m][i] != 0 {
                    self.pairs[m][i] |= reached;
                    new = true;
                }
            }
        }
        new
    }

    /// Features reached.
    pub fn len(&self) -> usize {
        let c: u32 = self.counts.iter().flatten().map(|b| b.count_ones()).sum();
        let p: u32 = self.pairs.iter().flatten().map(|b| b.count_ones()).sum();
        (c + p) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The cases that reached a new feature when they ran, each cut to the operations that ran
/// (a case stops at its first divergence). Bounded by the features: each entry added at least
/// one.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    cases: Vec<Case>,
    features: Features,
}

impl Corpus {
    /// Offers a case that ran `ran` operations with `coverage`: kept (its first `ran`
    /// operations) when it reached a new feature. True when kept.
    pub fn offer(&mut self, case: &Case, ran: usize, coverage: &[Coverage; 2]) -> bool {
        if !self.features.add(coverage) || ran == 0 {
            return false;
        }
        self.cases.push(Case {
            setup: case.setup.clone(),
            ops: case.ops[..ran.min(case.ops.len())].to_vec(),
        });
        true
    }

    /// A case of the corpus, uniformly (`None` while it is empty).
    pub fn pick(&self, rng: &mut Rng) -> Option<&Case> {
        if self.cases.is_empty() {
            None
        } else {
            Some(&self.cases[rng.below(self.cases.len())])
        }
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// Entry `i`, in the order they were kept.
    pub fn get(&self, i: usize) -> &Case {
        &self.cases[i]
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    pub fn features(&self) -> &Features {
        &self.features
    }
}

/// One operation-level change of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// An operation of the donor inserted at a random position.
    Insert,
    /// An operation removed.
    Delete,
    /// An operation repeated right after itself.
    Duplicate,
    /// One pid or cgroup of an operation replaced by another the case names.
    Retarget,
    /// A fault plan moved to another migration, or a fault changed or added.
    MoveFault,
    /// The parent's operations up to a point, then the donor's from a point.
    Splice,
}

/// `out` becomes `parent` changed by one to four [`Mutation`]s, made valid again (fresh fork
/// pids, hierarchies the setup has, faults on migrations only, at most `max_ops` operations).
/// `donor` is where inserted operations come from (a fresh case, or another corpus entry);
/// `splice` allows [`Mutation::Splice`] with it. `exits`: whether exits between stages may
/// stay (the pair has stages, [`crate::gen::GenOptions::exits`]). `out`'s buffers are reused.
pub fn mutate(
    parent: &Case,
    donor: &Case,
    splice: bool,
    exits: bool,
    max_ops: usize,
    rng: &mut Rng,
    out: &mut Case,
) {
    out.clone_from(parent);
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let m = match rng.below(if splice { 6 } else { 5 }) {
            0 => Mutation::Insert,
            1 => Mutation::Delete,
            2 => Mutation::Duplicate,
            3 => Mutation::Retarget,
            4 => Mutation::MoveFault,
            _ => Mutation::Splice,
        };
        apply(m, donor, rng, out);
    }
    repair(out, exits, max_ops);
}

fn apply(m: Mutation, donor: &Case, rng: &mut Rng, out: &mut Case) {
    let len = out.ops.len();
    match m {
        Mutation::Insert => {
            if !donor.ops.is_empty() {
                let op = donor.ops[rng.below(donor.ops.len())].clone();
                out.ops.insert(rng.below(len + 1), op);
            }
        }
        Mutation::Delete => {
            if len > 1 {
                out.ops.remove(rng.below(len));
            }
        }
        Mutation::Duplicate => {
            if len > 0 {
                let i = rng.below(len);
                let op = out.ops[i].clone();
                out.ops.insert(i + 1, op);
            }
        }
        Mutation::Retarget => {
            if len > 0 {
                let i = rng.below(len);
                retarget(out, i, rng);
            }
        }
        Mutation::MoveFault => move_fault(out, rng),
        Mutation::Splice => {
            let cut = rng.below(len + 1);
            let from = rng.below(donor.ops.len() + 1);
            out.ops.truncate(cut);
            out.ops.extend_from_slice(&donor.ops[from..]);
        }
    }
}

/// The pids the case can name: pid 1 and every fork's child.
fn pids(case: &Case) -> impl Iterator<Item = Pid> + '_ {
    std::iter::once(1).chain(case.ops.iter().filter_map(|c| match c.op {
        Op::Fork { child, .. } => Some(child),
        _ => None,
    }))
}

/// The cgroups the case can name: each mounted hierarchy's root and every mkdir's path.
fn paths(case: &Case) -> impl Iterator<Item = &CgPath> + '_ {
    case.ops.iter().filter_map(|c| match &c.op {
        Op::Mkdir { path } => Some(path),
        _ => None,
    })
}

fn any_pid(case: &Case, rng: &mut Rng) -> Pid {
    let n = pids(case).count();
    pids(case).nth(rng.below(n)).unwrap_or(1)
}

fn any_path(case: &Case, rng: &mut Rng) -> CgPath {
    let made = paths(case).count();
    let roots = case.setup.hierarchies.len();
    let i = rng.below(made + roots);
    match paths(case).nth(i) {
        Some(p) => p.clone(),
        None => CgPath::root((i - made + 1) as u8),
    }
}

/// Replaces one reference of operation `i` (a pid, a target, a cgroup) by another the case
/// names.
fn retarget(case: &mut Case, i: usize, rng: &mut Rng) {
    let pid = any_pid(case, rng);
    let path = any_path(case, rng);
    let which = rng.below(2);
    match &mut case.ops[i].op {
        Op::Fork { parent, .. } => *parent = pid,
        Op::ExitBegin { pid: p } | Op::ExitFinish { pid: p } => *p = pid,
        Op::Mkdir { .. } => {
            let name = ["a", "b", "c"][rng.below(3)];
            if path.parts.len() < crate::case::MAX_DEPTH {
                case.ops[i].op = Op::Mkdir {
                    path: path.child(name),
                };
            }
        }
        Op::Rmdir { path: p } => *p = path,
        Op::AddController { hier, .. } => *hier = path.hier.max(1),
        Op::MigrateTask { pid: p, dst } | Op::MigrateProcess { pid: p, dst } => {
            if which == 0 {
                *p = pid;
            } else {
                *dst = path;
            }
        }
        Op::MigrateMulti { dst, targets } => {
            if which == 0 {
                let t = rng.below(targets.len());
                targets[t].pid = pid;
                if rng.chance(1, 2) {
                    targets[t].process = !targets[t].process;
                }
            } else {
                *dst = path;
            }
        }
        Op::TransferTasks { from, to } => {
            if which == 0 {
                *from = path;
            } else {
                *to = path;
            }
        }
        Op::AttachTaskAll { from, pid: p } => {
            if which == 0 {
                *from = pid;
            } else {
                *p = pid;
            }
        }
    }
}

/// Moves a fault plan to another migration, or changes one: the allocation fault one point
/// earlier or later, another controller's `can_attach` failing, or a fault where there was
/// none.
fn move_fault(case: &mut Case, rng: &mut Rng) {
    let migrations: Vec<usize> = (0..case.ops.len())
        .filter(|&i| case.ops[i].op.kind().is_migration())
        .collect();
    if migrations.is_empty() {
        return;
    }
    let to = migrations[rng.below(migrations.len())];
    let faulty: Vec<usize> = migrations
        .iter()
        .copied()
        .filter(|&i| {
            let f = &case.ops[i].faults;
            f.alloc.is_some() || f.can_attach.is_some()
        })
        .collect();
    match rng.below(3) {
        0 if !faulty.is_empty() => {
            let from = faulty[rng.below(faulty.len())];
            let (a, c) = (
                case.ops[from].faults.alloc,
                case.ops[from].faults.can_attach,
            );
            let (ta, tc) = (case.ops[to].faults.alloc, case.ops[to].faults.can_attach);
            case.ops[from].faults.alloc = ta;
            case.ops[from].faults.can_attach = tc;
            case.ops[to].faults.alloc = a;
            case.ops[to].faults.can_attach = c;
        }
        1 => {
            let f = &mut case.ops[to].faults;
            f.alloc = match f.alloc {
                Some(n) if n > 1 && rng.chance(1, 2) => Some(n - 1),
                Some(n) => Some((n + 1).min(12)),
                None => Some(1 + rng.below(12) as u32),
            };
        }
        _ => {
            use crate::case::{CanAttachFault, Controller, Errno};
            let candidates = [
                Controller::Cpuset,
                Controller::Cpu,
                Controller::Memory,
                Controller::Blkio,
            ];
            let f = &mut case.ops[to].faults;
            f.can_attach = if f.can_attach.is_some() && rng.chance(1, 3) {
                None
            } else {
                Some(CanAttachFault {
                    controller: candidates[rng.below(candidates.len())],
                    nth: 1 + rng.below(3) as u32,
                    errno: Errno::CAN_ATTACH[rng.below(Errno::CAN_ATTACH.len())],
                })
            };
        }
    }
}

/// Makes a mutated case valid ([`Case::validate`]): forks name fresh pids (a repeated fork's
/// child is renamed to the next unused pid, or the fork dropped past [`MAX_PID`]); paths and
/// `add-controller` name hierarchies the setup has (an operation spliced from a case with more
/// is folded onto them); only migrations carry faults, and exits between stages only where
/// `exits`; at most `max_ops` operations.
pub fn repair(case: &mut Case, exits: bool, max_ops: usize) {
    case.ops.truncate(max_ops);
    let n = case.setup.hierarchies.len().clamp(1, MAX_MOUNTED) as u8;
    let fold = |p: &mut CgPath| {
        if p.hier > n {
            p.hier = (p.hier - 1) % n + 1;
        }
    };
    let mut used = [0u64; (MAX_PID as usize + 1).div_ceil(64)];
    used[0] |= 1 << 1;
    let mut next = 2;
    for c in &case.ops {
        if let Op::Fork { child, .. } = c.op {
            next = next.max(child + 1);
        }
    }
    case.ops.retain_mut(|c| {
        match &mut c.op {
            Op::Fork { child, .. } => {
                let taken = |p: Pid| used[p as usize / 64] & 1 << (p % 64) != 0;
                if taken(*child) {
                    if next > MAX_PID {
                        return false;
                    }
                    *child = next;
                    next += 1;
                }
                used[*child as usize / 64] |= 1 << (*child % 64);
            }
            Op::Mkdir { path } | Op::Rmdir { path } => fold(path),
            Op::AddController { hier, .. } if *hier > n => *hier = (*hier - 1) % n + 1,
            Op::MigrateTask { dst, .. }
            | Op::MigrateProcess { dst, .. }
            | Op::MigrateMulti { dst, .. } => fold(dst),
            Op::TransferTasks { from, to } => {
                fold(from);
                fold(to);
            }
            _ => {}
        }
        if !c.op.kind().is_migration() {
            c.faults = Default::default();
        } else if !exits {
            c.faults.exit = None;
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseOp;
    use crate::gen;

    fn fresh(seed: u64, max_ops: usize) -> Case {
        let mut bytes = Vec::new();
        gen::seeded_bytes(seed, 1024, &mut bytes);
        gen::from_bytes(&bytes, max_ops)
    }

    /// Every mutant of generated cases is a valid case, within `max_ops`, and the same seed
    /// gives the same mutant.
    #[test]
    fn mutants_are_valid_and_deterministic() {
        let mut out = Case::default();
        let mut again = Case::default();
        let mut changed = 0;
        for seed in 0..3000u64 {
            let parent = fresh(seed, 24);
            let donor = fresh(seed ^ 0xdead_beef, 64);
            for splice in [false, true] {
                let mutant = |out: &mut Case| {
                    mutate(&parent, &donor, splice, false, 24, &mut Rng::new(seed), out)
                };
                mutant(&mut out);
                out.validate()
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{out:?}"));
                assert!(out.ops.len() <= 24);
                assert!(out.ops.iter().all(|c| c.faults.exit.is_none()));
                mutant(&mut again);
                assert_eq!(out, again, "seed {seed}: not deterministic");
                changed += usize::from(out != parent);
            }
        }
        assert!(
            changed > 5000,
            "mutants mostly equal their parent: {changed}"
        );
    }

    /// A splice folds hierarchies the parent's setup does not have onto those it has, and a
    /// repeated fork names a fresh pid.
    #[test]
    fn repair_folds_hierarchies_and_renames_repeated_forks() {
        let text = "cgdiff-case v1\nhierarchy h1 -\nfork 1 2\nmkdir h1:/a\n";
        let mut case = crate::format::parse(text).unwrap().case;
        let fork = case.ops[0].clone();
        case.ops.insert(1, fork);
        case.ops.push(CaseOp {
            op: Op::Mkdir {
                path: CgPath::root(3).child("b"),
            },
            faults: Default::default(),
        });
        repair(&mut case, false, 64);
        case.validate().unwrap();
        assert_eq!(
            crate::format::print(&case),
            "cgdiff-case v1\nhierarchy h1 -\nfork 1 2\nfork 1 3\nmkdir h1:/a\nmkdir h1:/b\n"
        );
    }

    /// The corpus keeps a case only when it reaches a feature no earlier case reached.
    #[test]
    fn the_corpus_keeps_only_cases_with_new_features() {
        let mut corpus = Corpus::default();
        let case = fresh(1, 32);
        let r = crate::oracle::check(&case);
        assert!(corpus.offer(&case, r.ops_executed, &r.coverage));
        assert!(!corpus.offer(&case, r.ops_executed, &r.coverage));
        assert_eq!(corpus.len(), 1);
        let mut kept = 1;
        for seed in 2..500 {
            let c = fresh(seed, 32);
            let r = crate::oracle::check(&c);
            kept += usize::from(corpus.offer(&c, r.ops_executed, &r.coverage));
        }
        assert_eq!(kept, corpus.len());
        assert!(kept > 5 && kept < 499, "{kept} of 499 kept");
        assert!(corpus.features().len() > 100);
    }

    /// A swarm configuration always enables a migration, and only the kinds it enables (and
    /// the mkdir a transfer makes for itself) appear in the cases it generates.
    #[test]
    fn swarm_cases_draw_only_the_enabled_kinds() {
        let mut rng = Rng::new(7);
        let mut bytes = Vec::new();
        for seed in 0..500 {
            let kinds = swarm(&mut rng);
            assert_ne!(kinds.0 & Kinds::ALL.0, 0);
            gen::seeded_bytes(seed, 1024, &mut bytes);
            let opts = gen::GenOptions {
                kinds,
                ..Default::default()
            };
            let case = gen::from_bytes_with(&bytes, 64, opts);
            for c in &case.ops {
                let k = c.op.kind();
                assert!(
                    kinds.contains(k)
                        || (k == crate::case::OpKind::Mkdir
                            && kinds.contains(crate::case::OpKind::TransferTasks)),
                    "seed {seed}: {k:?} drawn with {kinds:?}"
                );
            }
        }
    }
}
