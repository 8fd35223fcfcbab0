//! The fault sweep: the kernel's `fail_nth` idea over a case. Each migration of the case is run
//! again with the allocation fault moved to each of its allocation points in turn, then with
//! each controller's first `can_attach` failing in turn: [`FAULTS_PER_OP`] variants per
//! migration.
//!
//! A variant is the case's fault-free operations up to the swept one, then the swept one with
//! its fault (nothing after it can change whether that operation diverges first), and only up
//! to the first divergence of the fault-free case (past it, every variant meets that one
//! first). The fault-free prefix is the same for every variant of an operation, so the sweep
//! runs it once: it steps one [`Session`] through the fault-free case and, at each migration,
//! forks it (`clone_from` into a preallocated session) and runs only the faulty operation on
//! the fork. That is n + 16·m operations for a case of n operations and m migrations, where
//! re-running every variant from the start ([`crate::oracle::check_prefix`]) costs about
//! 8·m·n; the verdicts are the same, byte for byte (tested against that reference).

use crate::case::{CanAttachFault, Case, CaseOp, Controller, Errno, FaultPlan};
use crate::models::Pair;
use crate::oracle::{Divergence, RunOptions, Session};

/// Allocation indices the sweep tries on each migration: up to two new css_sets on three
/// mounted hierarchies (1 + 4 allocations each), plus some.
pub const SWEEP_ALLOCS: u32 = 12;
/// The controllers whose first `can_attach` the sweep makes fail, in turn.
pub const CAN_ATTACH_FAULTS: [Controller; 4] = [
    Controller::Cpuset,
    Controller::Cpu,
    Controller::Memory,
    Controller::Blkio,
];
/// Variants per swept migration.
pub const FAULTS_PER_OP: usize = SWEEP_ALLOCS as usize + CAN_ATTACH_FAULTS.len();

/// Fault `f` of a swept operation (`f < FAULTS_PER_OP`): allocation `f + 1` failing, then
/// each of [`CAN_ATTACH_FAULTS`]' first `can_attach` returning `EINVAL`.
pub fn fault(f: usize) -> FaultPlan {
    if f < SWEEP_ALLOCS as usize {
        FaultPlan {
            alloc: Some(f as u32 + 1),
            ..FaultPlan::default()
        }
    } else {
        FaultPlan {
            alloc: None,
            can_attach: Some(CanAttachFault {
                controller: CAN_ATTACH_FAULTS[f - SWEEP_ALLOCS as usize],
                nth: 1,
                errno: Errno::EINVAL,
            }),
            ..FaultPlan::default()
        }
    }
}

/// One variant of a sweep, as handed to the caller.
pub struct Variant<'a> {
    /// Index of the swept operation: the variant is the case's first `op + 1` operations,
    /// fault-free but for `cop`'s fault on the last.
    pub op: usize,
    /// Which fault ([`fault`]).
    pub fault: usize,
    /// The swept operation with its fault.
    pub cop: &'a CaseOp,
    /// The variant's first divergence, if any (at operation `op`: the prefix agrees).
    pub divergence: Option<Divergence>,
}

impl Variant<'_> {
    /// The variant as a case of its own (for storing a finding): allocates.
    pub fn case(&self, of: &Case) -> Case {
        let mut c = Case {
            setup: of.setup.clone(),
            ops: of.ops[..=self.op].to_vec(),
        };
        for cop in &mut c.ops {
            cop.faults = cop.faults.without_faults();
        }
        c.ops[self.op] = self.cop.clone();
        c
    }
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Variants run.
    pub variants: u64,
    /// Model operations executed (each on both designs): the fault-free prefix once, plus one
    /// per variant.
    pub ops: u64,
}

/// Runs fault sweeps. Keeps the forked session between sweeps, so a worker that sweeps many
/// cases allocates a fork's worlds once, growing them to the largest case met.
pub struct Sweeper {
    pair: Pair,
    opts: RunOptions,
    fork: Option<Session<'static>>,
}

impl Sweeper {
    pub fn new(pair: Pair, opts: RunOptions) -> Sweeper {
        Sweeper {
            pair,
            opts,
            fork: None,
        }
    }

    /// Sweeps `case` (its own fault plans are ignored): calls `each` with every variant, in
    /// operation order then fault order, until it returns false.
    pub fn run(&mut self, case: &Case, mut each: impl FnMut(&Variant) -> bool) -> Swept {
        let mut ops = case.ops.clone();
        for cop in &mut ops {
            cop.faults = cop.faults.without_faults();
        }
        let mut base = Session::new(&case.setup, self.pair.0, self.opts);
        let mut swept = Swept::default();
        for (i, op) in ops.iter_mut().enumerate() {
            if op.op.kind().is_migration() {
                for f in 0..FAULTS_PER_OP {
                    let fork = match &mut self.fork {
                        Some(fork) => {
                            fork.clone_from(&base);
                            fork
                        }
                        none => none.insert(base.clone()),
                    };
                    op.faults = FaultPlan {
                        exit: op.faults.exit,
                        ..fault(f)
                    };
                    let divergence = fork.step(op);
                    swept.variants += 1;
                    swept.ops += 1;
                    let v = Variant {
                        op: i,
                        fault: f,
                        cop: op,
                        divergence,
                    };
                    if !each(&v) {
                        return swept;
                    }
                }
                op.faults = op.faults.without_faults();
            }
            swept.ops += 1;
            if base.step(op).is_some() {
                break;
            }
        }
        swept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::{check_prefix, Verdict};
    use crate::{format, gen};

    /// The reference: every variant built as a case of its own and run from the start with
    /// `check_prefix`, as the campaign did before the sweep forked sessions.
    fn by_rerunning(case: &Case) -> Vec<(usize, usize, String)> {
        let mut plain = case.clone();
        for cop in &mut plain.ops {
            cop.faults = cop.faults.without_faults();
        }
        let last = crate::oracle::check(&plain)
            .verdict
            .divergence()
            .map_or(plain.ops.len(), |d| d.op_index + 1);
        let mut out = Vec::new();
        for i in (0..last).filter(|&i| plain.ops[i].op.kind().is_migration()) {
            for f in 0..FAULTS_PER_OP {
                let mut v = plain.clone();
                v.ops[i].faults = fault(f);
                out.push((i, f, format!("{:?}", check_prefix(&v, i + 1).verdict)));
            }
        }
        out
    }

    /// Forking the session at each migration gives the verdicts of re-running every variant,
    /// byte for byte (the whole `Divergence`: index, classes, blame, signature, rule,
    /// outcomes), over many generated cases, with one `Sweeper` reused across all of them (so
    /// its fork is copied into from larger and smaller worlds). And the variant as a case of
    /// its own is the one the reference ran.
    #[test]
    fn forked_sweep_gives_the_verdicts_of_rerunning_each_variant() {
        let mut sweeper = Sweeper::new(Pair::DEFAULT, RunOptions::default());
        let mut bytes = Vec::new();
        let (mut variants, mut divergent, mut saved) = (0, 0, 0u64);
        let mut signatures = std::collections::HashSet::new();
        for seed in 0..300u64 {
            gen::seeded_bytes(seed, 1024, &mut bytes);
            let case = gen::from_bytes(&bytes, 64);
            let want = by_rerunning(&case);
            let mut got = Vec::new();
            let swept = sweeper.run(&case, |v| {
                let verdict = match &v.divergence {
                    Some(d) => Verdict::Diverge(Box::new(d.clone())),
                    None => Verdict::Agree,
                };
                if let Some(d) = &v.divergence {
                    signatures.insert(d.signature.clone());
                    // The variant as a case reproduces the divergence.
                    let c = v.case(&case);
                    assert_eq!(c.ops.len(), v.op + 1);
                    let r = check_prefix(&c, c.ops.len());
                    assert_eq!(r.verdict.signature(), Some(d.signature.as_str()));
                }
                got.push((v.op, v.fault, format!("{verdict:?}")));
                true
            });
            assert_eq!(got, want, "seed {seed}: {}", format::print(&case));
            assert_eq!(swept.variants, want.len() as u64);
            variants += want.len();
            divergent += want.iter().filter(|w| w.2 != "Agree").count();
            let quadratic: u64 = want.iter().map(|(i, _, _)| *i as u64 + 1).sum();
            saved += quadratic.saturating_sub(swept.ops);
        }
        // The comparison saw real work: many variants, many of them divergent, many signatures.
        assert!(variants > 2000, "{variants} variants");
        assert!(divergent > 200, "{divergent} divergent variants");
        assert!(signatures.len() > 20, "{} signatures", signatures.len());
        assert!(saved > 0);
    }

    /// Stopping early: `each` returning false ends the sweep at once.
    #[test]
    fn a_sweep_stops_when_asked() {
        let mut bytes = Vec::new();
        let case = (0..100u64)
            .map(|seed| {
                gen::seeded_bytes(seed, 1024, &mut bytes);
                gen::from_bytes(&bytes, 64)
            })
            .find(|c| by_rerunning(c).len() > FAULTS_PER_OP)
            .expect("a case with two swept migrations");
        let mut n = 0;
        let swept = Sweeper::new(Pair::DEFAULT, RunOptions::default()).run(&case, |_| {
            n += 1;
            n < 3
        });
        assert_eq!((n, swept.variants), (3, 3));
    }
}
