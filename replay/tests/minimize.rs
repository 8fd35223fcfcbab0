//! The minimiser keeps the signature, never grows a case, and returns 1-minimal cases.

use cgdiff_engine::{gen, oracle, Case, CaseOp, CgPath, FaultPlan, Op, Target};
use cgdiff_replay::{minimize, remove_with_dependents};
use std::collections::HashSet;

fn op(op: Op) -> CaseOp {
    CaseOp {
        op,
        faults: FaultPlan::default(),
    }
}

fn p(s: &str) -> CgPath {
    let mut path = CgPath::root(1);
    for part in s.split('/').filter(|x| !x.is_empty()) {
        path = path.child(part);
    }
    path
}

#[test]
fn minimised_cases_keep_their_signature_and_are_one_minimal() {
    let mut buf = Vec::new();
    let mut checked = 0;
    let mut lengths = Vec::new();
    for seed in 0..3000u64 {
        gen::seeded_bytes(seed, 600, &mut buf);
        let case = gen::from_bytes(&buf, 40);
        let Some(sig) = oracle::check(&case).verdict.signature().map(str::to_string) else {
            continue;
        };
        let (min, stats) = minimize(&case, &sig);
        assert_eq!(
            oracle::check(&min).verdict.signature(),
            Some(sig.as_str()),
            "seed {seed}"
        );
        assert!(min.ops.len() <= case.ops.len(), "seed {seed}");
        assert!(min.validate().is_ok(), "seed {seed}");
        assert_eq!(stats.after_ops, min.ops.len());
        for i in 0..min.ops.len() {
            let smaller = remove_with_dependents(&min, &HashSet::from([i]));
            assert_ne!(
                oracle::check(&smaller).verdict.signature(),
                Some(sig.as_str()),
                "seed {seed}: removing op {i} keeps {sig}: not 1-minimal\n{min:?}"
            );
        }
        lengths.push(min.ops.len());
        checked += 1;
        if checked == 300 {
            break;
        }
    }
    assert_eq!(checked, 300, "too few divergent cases generated");
    lengths.sort();
    assert!(
        lengths[lengths.len() / 2] <= 10,
        "median minimised length {}",
        lengths[lengths.len() / 2]
    );
}

#[test]
fn a_case_that_does_not_diverge_comes_back_unchanged() {
    let case = Case {
        setup: Default::default(),
        ops: vec![op(Op::Mkdir { path: p("a") })],
    };
    let (min, _) = minimize(&case, "mkdir/result/none/diff");
    assert_eq!(min, case);
}

#[test]
fn removing_a_fork_removes_its_pid_and_its_children() {
    let case = Case {
        setup: Default::default(),
        ops: vec![
            op(Op::Fork {
                parent: 1,
                child: 2,
                thread: false,
            }),
            op(Op::Fork {
                parent: 2,
                child: 3,
                thread: true,
            }),
            op(Op::MigrateTask { pid: 3, dst: p("") }),
            op(Op::Fork {
                parent: 1,
                child: 4,
                thread: false,
            }),
            op(Op::MigrateMulti {
                dst: p(""),
                targets: vec![
                    Target {
                        pid: 2,
                        process: true,
                    },
                    Target {
                        pid: 4,
                        process: false,
                    },
                ],
            }),
            op(Op::AttachTaskAll { from: 1, pid: 2 }),
        ],
    };
    let out = remove_with_dependents(&case, &HashSet::from([0]));
    assert_eq!(out.ops.len(), 2, "{out:?}");
    assert_eq!(
        out.ops[0].op,
        Op::Fork {
            parent: 1,
            child: 4,
            thread: false
        }
    );
    assert_eq!(
        out.ops[1].op,
        Op::MigrateMulti {
            dst: p(""),
            targets: vec![Target {
                pid: 4,
                process: false
            }]
        }
    );
}

#[test]
fn removing_a_mkdir_removes_uses_of_its_subtree() {
    let case = Case {
        setup: Default::default(),
        ops: vec![
            op(Op::Mkdir { path: p("a") }),
            op(Op::Mkdir { path: p("a/b") }),
            op(Op::Mkdir { path: p("c") }),
            op(Op::MigrateTask {
                pid: 1,
                dst: p("a/b"),
            }),
            op(Op::TransferTasks {
                from: p("c"),
                to: p("a"),
            }),
            op(Op::MigrateTask {
                pid: 1,
                dst: p("c"),
            }),
        ],
    };
    let out = remove_with_dependents(&case, &HashSet::from([0]));
    let kinds: Vec<_> = out.ops.iter().map(|c| c.op.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            Op::Mkdir { path: p("c") },
            Op::MigrateTask {
                pid: 1,
                dst: p("c")
            }
        ]
    );
}

#[test]
fn a_long_case_shrinks_to_its_core() {
    // Pad the patch's own case with noise; the minimiser must find the core again.
    let mut buf = Vec::new();
    let mut found = false;
    for seed in 0..20000u64 {
        gen::seeded_bytes(seed, 4000, &mut buf);
        let case = gen::from_bytes(&buf, 200);
        let r = oracle::check(&case);
        let Some(d) = r.verdict.divergence() else {
            continue;
        };
        if d.op_index < 120 {
            continue;
        }
        let (min, stats) = minimize(&case, &d.signature);
        assert!(min.ops.len() < 20, "{} ops left", min.ops.len());
        assert!(stats.before_ops >= 120);
        found = true;
        break;
    }
    assert!(found, "no generated case diverges late enough");
}

/// What minimising costs does not grow with the value of a fault index: lowering
/// `fail-alloc=65535` and `fail-can-attach=cpu:65535:...` to the smallest index that keeps the
/// property takes a few dozen runs (it took one run per smaller index, and as many cases in
/// memory: 9 GB for 4294967295).
#[test]
fn lowering_a_huge_fault_index_costs_a_logarithmic_number_of_runs() {
    let text = "cgdiff-case v1\nhierarchy h1 cpu\nmkdir h1:/a\n\
                migrate-task 1 h1:/a fail-alloc=65535 fail-can-attach=cpu:65535:EINVAL\n";
    let case = cgdiff_engine::format::parse(text).unwrap().case;
    for threshold in [1u32, 7, 17, 1000, 40_000, 65_535] {
        // The property: both indices stay at or above the threshold.
        let mut keeps = |c: &Case| {
            c.ops.iter().any(|o| {
                o.faults.alloc.is_some_and(|n| n >= threshold)
                    && o.faults.can_attach.is_some_and(|f| f.nth >= threshold)
            })
        };
        let (min, stats) = cgdiff_replay::minimize_with(&case, case.ops.len(), &mut keeps);
        let faults = min.ops.last().unwrap().faults;
        assert_eq!(faults.alloc, Some(threshold), "threshold {threshold}");
        assert_eq!(faults.can_attach.map(|f| f.nth), Some(threshold));
        assert!(
            stats.runs < 400,
            "threshold {threshold}: {} runs",
            stats.runs
        );
    }
}
