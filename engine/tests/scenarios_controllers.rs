//! Scenario tests for the controllers of model.md §6 (shared by both models) and for
//! `cgroup_attach_task_all` (§5, last paragraph), on each model in turn; plus direct calls of
//! the controller callbacks where an operation cannot expose the state between them.

#[macro_use]
mod common;

use common::*;

const ALL: &[Controller] = &[Cpuset, Cpu, Cpuacct, Memory, Freezer, Blkio];

// ------------------------------------------------------------------ the callback table

both_models!(
    every_controller_bound_runs_the_callbacks_of_the_table,
    |d| {
        let (w, o) = run(
            d,
            &setup(&[ALL]),
            &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
        );
        assert_eq!(o, Outcome::Ok);
        // can_attach: cpuset, cpu, memory, blkio; attach: cpuset, cpu, memory, freezer; cpuacct
        // has none; all in id order.
        assert_eq!(
            events(&w),
            [
                "cpuset.can_attach(h1:/a) [2]",
                "cpu.can_attach(h1:/a) [2]",
                "memory.can_attach(h1:/a) [2]",
                "blkio.can_attach(h1:/a) [2]",
                "cpuset.attach(h1:/a) [2]",
                "cpu.attach(h1:/a) [2]",
                "memory.attach(h1:/a) [2]",
                "freezer.attach(h1:/a) [2]",
            ]
        );
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
        assert_eq!(w.charge_move, None);
        assert_clean(&w, o);
    }
);

both_models!(each_controller_alone, |d| {
    type Row<'a> = (Controller, &'a [&'a str], &'a [&'a str]);
    // (controller, events of a successful migration, events when its own can_attach
    // fails; empty when it has no can_attach)
    let rows: &[Row] = &[
        (
            Cpuset,
            &["cpuset.can_attach(h1:/a) [2]", "cpuset.attach(h1:/a) [2]"],
            &["cpuset.can_attach(h1:/a) [2] -> ENOSPC"],
        ),
        (
            Cpu,
            &["cpu.can_attach(h1:/a) [2]", "cpu.attach(h1:/a) [2]"],
            &["cpu.can_attach(h1:/a) [2] -> ENOSPC"],
        ),
        (Cpuacct, &[], &[]),
        (
            Memory,
            &["memory.can_attach(h1:/a) [2]", "memory.attach(h1:/a) [2]"],
            &["memory.can_attach(h1:/a) [2] -> ENOSPC"],
        ),
        (Freezer, &["freezer.attach(h1:/a) [2]"], &[]),
        (
            Blkio,
            &["blkio.can_attach(h1:/a) [2]"],
            &["blkio.can_attach(h1:/a) [2] -> ENOSPC"],
        ),
    ];
    for (c, ok, failed) in rows {
        let s = setup(&[&[*c]]);
        let (w, o) = run(
            d,
            &s,
            &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
        );
        assert_eq!(o, Outcome::Ok, "{c:?}");
        assert_eq!(events(&w), *ok, "{c:?}");
        assert_clean(&w, o);
        assert_eq!(c.has_can_attach(), !failed.is_empty());
        if failed.is_empty() {
            continue;
        }
        let (w, o) = run(
            d,
            &s,
            &[
                mkdir("h1:/a"),
                fork(1, 2),
                migrate_task(2, "h1:/a").fail_can_attach(*c, 1, Errno::ENOSPC),
            ],
        );
        assert_eq!(o, Outcome::Err(Errno::ENOSPC), "{c:?}");
        assert_eq!(
            events(&w),
            *failed,
            "{c:?}: a failing can_attach is not cancelled"
        );
        assert_eq!(tuple(&w, 2), ["h1:/"]);
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0, "no +1 on failure");
        assert_eq!(w.charge_move, None);
        assert_clean(&w, o);
    }
});

both_models!(cancel_attach_only_for_cpuset_and_memory, |d| {
    // blkio (last) fails: cancel_attach of the earlier controllers that have one.
    let (w, o) = run(
        d,
        &setup(&[ALL]),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            migrate_task(2, "h1:/a").fail_can_attach(Blkio, 1, Errno::EBUSY),
        ],
    );
    assert_eq!(o, Outcome::Err(Errno::EBUSY));
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [2]",
            "cpu.can_attach(h1:/a) [2]",
            "memory.can_attach(h1:/a) [2]",
            "blkio.can_attach(h1:/a) [2] -> EBUSY",
            "cpuset.cancel_attach(h1:/a) [2]",
            "memory.cancel_attach(h1:/a) [2]",
        ]
    );
    assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
    assert_eq!(w.charge_move, None);
    assert_clean(&w, o);
});

both_models!(controllers_of_other_hierarchies_are_not_called, |d| {
    let (w, o) = run(
        d,
        &setup(&[&[Cpu], &[Cpuset, Memory]]),
        &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        events(&w),
        ["cpu.can_attach(h1:/a) [2]", "cpu.attach(h1:/a) [2]"]
    );
    // Nor those left on the default hierarchy.
    let (w, _) = run(
        d,
        &setup(&[&[]]),
        &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
    );
    assert_eq!(events(&w), Vec::<String>::new());
});

// ------------------------------------------------------------------ cpuset

#[test]
fn cpuset_attach_in_progress_direct() {
    // The callbacks alone, on the destination cgroup: +1 on a successful can_attach, -1 on
    // cancel_attach and on attach, untouched by a failing can_attach.
    let mut w = scene(&Legacy, &setup(&[&[Cpuset]]), &[mkdir("h1:/a")]);
    let a = cg(&w, "h1:/a");
    w.begin_op(FaultPlan::default());
    controllers::can_attach(&mut w, Cpuset, a).unwrap();
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1);
    controllers::can_attach(&mut w, Cpuset, a).unwrap();
    assert_eq!(attach_in_progress(&w, "h1:/a"), 2);
    controllers::cancel_attach(&mut w, Cpuset, a);
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1);
    controllers::attach(&mut w, Cpuset, a);
    assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
    assert_eq!(attach_in_progress(&w, "h1:/"), 0);
    w.begin_op(FaultPlan {
        alloc: None,
        can_attach: Some(CanAttachFault {
            controller: Cpuset,
            nth: 1,
            errno: Errno::EPERM,
        }),
        ..FaultPlan::default()
    });
    assert_eq!(
        controllers::can_attach(&mut w, Cpuset, a),
        Err(Errno::EPERM)
    );
    assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
    assert_eq!(steps(&w), [Step::CanAttachFailed(Cpuset, Errno::EPERM)]);
}

both_models!(
    cpuset_attach_in_progress_is_back_to_zero_after_every_attach,
    |d| {
        // Two migrations in one operation (a transfer of two tasks): +1 -1 twice.
        let (w, o) = run(
            d,
            &setup(&[&[Cpuset]]),
            &[
                mkdir("h1:/a"),
                fork(1, 2),
                fork(1, 3),
                migrate_task(2, "h1:/a"),
                migrate_task(3, "h1:/a"),
                transfer("h1:/a", "h1:/"),
            ],
        );
        assert_eq!(o, Outcome::Ok);
        assert_eq!(count(&w, |s| *s == Step::CanAttach(Cpuset)), 2);
        assert_eq!(count(&w, |s| *s == Step::Attach(Cpuset)), 2);
        assert_eq!(attach_in_progress(&w, "h1:/"), 0);
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
        assert_clean(&w, o);
    }
);

#[test]
fn cpuset_count_left_raised_by_legacy_enomem_stays_raised() {
    // Legacy's ENOMEM path (step 4) leaves +1 behind; later successful attaches to the same
    // cgroup are balanced, so it stays at 1 for good.
    let d: &dyn Design = &Legacy;
    let mut w = scene(d, &setup(&[&[Cpuset]]), &[mkdir("h1:/a"), fork(1, 2)]);
    assert_eq!(
        act(&mut w, d, migrate_task(2, "h1:/a").fail_alloc(1)),
        Outcome::Err(Errno::ENOMEM)
    );
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1);
    assert_eq!(act(&mut w, d, migrate_task(2, "h1:/a")), Outcome::Ok);
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1);
    assert_eq!(
        check_invariants(&w, Outcome::Ok),
        Invariant::ControllerRest.bit()
    );
}

// ------------------------------------------------------------------ memory

#[test]
fn memory_charge_move_direct() {
    // A hand-built taskset on tset.src_csets: init_css_set with the tasks on its mg_tasks.
    let mut w = scene(
        &Legacy,
        &setup(&[&[Memory]]),
        &[mkdir("h1:/a"), mkdir("h1:/b"), fork(1, 2), thread(2, 3)],
    );
    let a = cg(&w, "h1:/a");
    let root = ("h1:/".to_string(), "h1:/a".to_string());
    w.begin_op(FaultPlan::default());
    w.mg_node_add(INIT_CSET, CsetList::TsetSrc);
    // First task 3, a thread: no charge move.
    w.task_list_move(2, INIT_CSET, TaskList::MgTasks);
    w.task_list_move(3, INIT_CSET, TaskList::MgTasks);
    controllers::can_attach(&mut w, Memory, a).unwrap();
    assert_eq!(charge_move(&w), None);
    // First task 2, the group leader: the move starts, from its current cgroup.
    w.task_list_move(2, INIT_CSET, TaskList::MgTasks);
    controllers::can_attach(&mut w, Memory, a).unwrap();
    assert_eq!(charge_move(&w), Some(root.clone()));
    // Cleared by cancel_attach ...
    controllers::cancel_attach(&mut w, Memory, a);
    assert_eq!(charge_move(&w), None);
    // ... by attach ...
    controllers::can_attach(&mut w, Memory, a).unwrap();
    controllers::attach(&mut w, Memory, a);
    assert_eq!(charge_move(&w), None);
    // ... and by its own failure, even when the first task leads its group.
    controllers::can_attach(&mut w, Memory, a).unwrap();
    assert_eq!(charge_move(&w), Some(root));
    w.faults.can_attach = Some(CanAttachFault {
        controller: Memory,
        nth: 5,
        errno: Errno::ENOSPC,
    });
    assert_eq!(
        controllers::can_attach(&mut w, Memory, a),
        Err(Errno::ENOSPC)
    );
    assert_eq!(charge_move(&w), None);
    // A thread first leaves an earlier move as it was (only a leader sets it).
    w.charge_move = Some((cg(&w, "h1:/b"), a));
    w.task_list_move(3, INIT_CSET, TaskList::MgTasks);
    controllers::can_attach(&mut w, Memory, a).unwrap();
    assert_eq!(charge_move(&w), Some(("h1:/b".into(), "h1:/a".into())));
}

/// Legacy's ENOMEM path leaves memory's charge move exactly as can_attach set it: a window
/// on the decision made by can_attach in a real operation.
fn legacy_charge_move_after_enomem(ops: &[CaseOp], op: CaseOp) -> Option<(String, String)> {
    let d: &dyn Design = &Legacy;
    let mut w = scene(d, &setup(&[&[Memory]]), ops);
    assert_eq!(act(&mut w, d, op), Outcome::Err(Errno::ENOMEM));
    charge_move(&w)
}

#[test]
fn memory_charge_move_only_when_the_first_task_leads_its_group() {
    let base = [mkdir("h1:/a"), mkdir("h1:/b"), fork(1, 2), thread(2, 3)];
    // The leader alone.
    assert_eq!(
        legacy_charge_move_after_enomem(&base, migrate_task(2, "h1:/a").fail_alloc(1)),
        Some(("h1:/".into(), "h1:/a".into()))
    );
    // A thread alone.
    assert_eq!(
        legacy_charge_move_after_enomem(&base, migrate_task(3, "h1:/a").fail_alloc(1)),
        None
    );
    // "from" is the first task's cgroup at can_attach time.
    let moved = [base.to_vec(), vec![migrate_task(2, "h1:/b")]].concat();
    assert_eq!(
        legacy_charge_move_after_enomem(&moved, migrate_task(2, "h1:/a").fail_alloc(1)),
        Some(("h1:/b".into(), "h1:/a".into()))
    );
    // The whole process: collection list_move()s each thread to the head of mg_tasks, so
    // the taskset's first task is the last thread (3), not the leader: no charge move for a
    // process write. (Faithful to the code of the time; the kernel later moved to
    // list_move_tail so that cgroup_taskset_first() is the leader.)
    assert_eq!(
        legacy_charge_move_after_enomem(&base, migrate_process(2, "h1:/a").fail_alloc(1)),
        None
    );
}

both_models!(
    memory_charge_move_is_cleared_by_attach_cancel_and_its_own_failure,
    |d| {
        let s = setup(&[&[Memory, Blkio]]);
        let base = [mkdir("h1:/a"), fork(1, 2)];
        let paths: [(CaseOp, Outcome, &[&str]); 3] = [
            (
                migrate_task(2, "h1:/a"),
                Outcome::Ok,
                &[
                    "memory.can_attach(h1:/a) [2]",
                    "blkio.can_attach(h1:/a) [2]",
                    "memory.attach(h1:/a) [2]",
                ],
            ),
            (
                migrate_task(2, "h1:/a").fail_can_attach(Blkio, 1, Errno::EINVAL),
                Outcome::Err(Errno::EINVAL),
                &[
                    "memory.can_attach(h1:/a) [2]",
                    "blkio.can_attach(h1:/a) [2] -> EINVAL",
                    "memory.cancel_attach(h1:/a) [2]",
                ],
            ),
            (
                migrate_task(2, "h1:/a").fail_can_attach(Memory, 1, Errno::EBUSY),
                Outcome::Err(Errno::EBUSY),
                &["memory.can_attach(h1:/a) [2] -> EBUSY"],
            ),
        ];
        for (op, want, evs) in paths {
            let mut w = scene(d, &s, &base);
            let o = act(&mut w, d, op);
            assert_eq!(o, want);
            assert_eq!(events(&w), evs);
            assert_eq!(w.charge_move, None);
            assert_clean(&w, o);
        }
    }
);

#[test]
fn memory_charge_move_left_by_legacy_enomem_is_cleared_by_the_next_callbacks() {
    let d: &dyn Design = &Legacy;
    let s = setup(&[&[Memory, Blkio]]);
    let base = [
        mkdir("h1:/a"),
        fork(1, 2),
        thread(2, 3),
        fork(1, 4),
        migrate_task(2, "h1:/a").fail_alloc(1),
    ];
    let mut w = world(&s);
    for (i, op) in base.iter().enumerate() {
        let o = apply(&mut w, d, op);
        assert_eq!(o == Outcome::Ok, i < base.len() - 1);
    }
    let stale = charge_move(&w);
    assert_eq!(stale, Some(("h1:/".into(), "h1:/a".into())));
    let cases: [(CaseOp, Outcome, &[Warning]); 4] = [
        // attach of an unrelated thread (its can_attach sets nothing) clears it
        (migrate_task(3, "h1:/a"), Outcome::Ok, &[]),
        // cancel_attach clears it; but memory's can_attach (before blkio's) starts a move for
        // leader 4 first, with the stale one still set: VM_BUG_ON(mc.from) (model.md §6)
        (
            migrate_task(4, "h1:/a").fail_can_attach(Blkio, 1, Errno::EPERM),
            Outcome::Err(Errno::EPERM),
            &[Warning::VmBugOnMcFrom],
        ),
        // a failing memory can_attach clears it
        (
            migrate_task(3, "h1:/a").fail_can_attach(Memory, 1, Errno::EPERM),
            Outcome::Err(Errno::EPERM),
            &[],
        ),
        // a process write whose first task is a thread: can_attach leaves it, attach clears
        (migrate_process(2, "h1:/a"), Outcome::Ok, &[]),
    ];
    for (op, want, warnings) in cases {
        let mut w2 = w.clone();
        assert_eq!(charge_move(&w2), stale);
        let o = act(&mut w2, d, op.clone());
        assert_eq!(o, want, "{:?}", op.op);
        assert_eq!(w2.charge_move, None, "{:?}", op.op);
        assert_eq!(check_invariants(&w2, o), 0, "{:?}", op.op);
        assert_eq!(w2.warnings, warnings, "{:?}", op.op);
    }
}

// ------------------------------------------------------------------ the fault's call count

both_models!(can_attach_fault_counts_calls_across_the_operation, |d| {
    // A transfer of two tasks calls cpu's can_attach twice; the second fails.
    let s = setup(&[&[Cpu]]);
    let ops = [
        mkdir("h1:/a"),
        fork(1, 2),
        fork(1, 3),
        migrate_task(2, "h1:/a"),
        migrate_task(3, "h1:/a"),
    ];
    let mut w = scene(d, &s, &ops);
    assert_eq!(tasks(&w, &["h1:/a"]), [3, 2]);
    let o = act(
        &mut w,
        d,
        transfer("h1:/a", "h1:/").fail_can_attach(Cpu, 2, Errno::ENOSPC),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOSPC));
    assert_eq!(
        events(&w),
        [
            "cpu.can_attach(h1:/) [3]",
            "cpu.attach(h1:/) [3]",
            "cpu.can_attach(h1:/) [2] -> ENOSPC",
        ]
    );
    assert_eq!(tuple(&w, 3), ["h1:/"]);
    assert_eq!(tuple(&w, 2), ["h1:/a"]);
    assert_clean(&w, o);
});

// ------------------------------------------------------------------ attach_task_all

/// Three mounted hierarchies (cpu, blkio, named); 1 in h1:/a, h2:/b, h3:/c; 2 on the roots.
fn attach_all_ops() -> Vec<CaseOp> {
    vec![
        mkdir("h1:/a"),
        mkdir("h2:/b"),
        mkdir("h3:/c"),
        fork(1, 2),
        migrate_task(1, "h1:/a"),
        migrate_task(1, "h2:/b"),
        migrate_task(1, "h3:/c"),
    ]
}

fn attach_all_setup() -> Setup {
    setup(&[&[Cpu], &[Blkio], &[]])
}

fn hiers_walked(w: &World) -> Vec<u8> {
    steps(w)
        .iter()
        .filter_map(|s| match s {
            Step::AttachTaskAll { hier } => Some(*hier),
            _ => None,
        })
        .collect()
}

fn attaches(w: &World) -> Vec<Step> {
    steps(w)
        .into_iter()
        .filter(|s| matches!(s, Step::CgroupAttachTask { .. }))
        .collect()
}

both_models!(
    attach_task_all_attaches_once_per_mounted_hierarchy_in_order,
    |d| {
        let mut w = scene(d, &attach_all_setup(), &attach_all_ops());
        let o = act(&mut w, d, attach_task_all(1, 2));
        assert_eq!(o, Outcome::Ok);
        assert_eq!(hiers_walked(&w), [1, 2, 3]);
        assert_eq!(
            attaches(&w),
            [
                attach_task_step(&w, "h1:/a", 2, false),
                attach_task_step(&w, "h2:/b", 2, false),
                attach_task_step(&w, "h3:/c", 2, false),
            ]
        );
        // Each AttachTaskAll step comes right before its hierarchy's attach.
        let s = steps(&w);
        for h in 1..=3u8 {
            let i = s
                .iter()
                .position(|x| *x == Step::AttachTaskAll { hier: h })
                .unwrap();
            assert!(matches!(s[i + 1], Step::CgroupAttachTask { .. }));
        }
        assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/b", "h3:/c"]);
        assert_eq!(tasks(&w, &["h1:/a", "h2:/b", "h3:/c"]), [2, 1]);
        assert_eq!(
            events(&w),
            [
                "cpu.can_attach(h1:/a) [2]",
                "cpu.attach(h1:/a) [2]",
                "blkio.can_attach(h2:/b) [2]",
            ]
        );
        assert_clean(&w, o);
    }
);

both_models!(attach_task_all_stops_at_the_first_error, |d| {
    // can_attach fails in h1: nothing moves, h2 and h3 are never tried.
    let mut w = scene(d, &attach_all_setup(), &attach_all_ops());
    let o = act(
        &mut w,
        d,
        attach_task_all(1, 2).fail_can_attach(Cpu, 1, Errno::EINVAL),
    );
    assert_eq!(o, Outcome::Err(Errno::EINVAL));
    assert_eq!(hiers_walked(&w), [1]);
    assert_eq!(tuple(&w, 2), ["h1:/", "h2:/", "h3:/"]);
    assert_clean(&w, o);

    // can_attach fails in h2: h1 stays moved, h3 is never tried.
    let mut w = scene(d, &attach_all_setup(), &attach_all_ops());
    let o = act(
        &mut w,
        d,
        attach_task_all(1, 2).fail_can_attach(Blkio, 1, Errno::EPERM),
    );
    assert_eq!(o, Outcome::Err(Errno::EPERM));
    assert_eq!(hiers_walked(&w), [1, 2]);
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/", "h3:/"]);
    assert_clean(&w, o);

    // Allocations count across the hierarchies: h1's {a,/,/} takes 1-5 (four hierarchies),
    // h2's {a,b,/} fails at 6.
    let mut w = scene(d, &attach_all_setup(), &attach_all_ops());
    let o = act(&mut w, d, attach_task_all(1, 2).fail_alloc(6));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(hiers_walked(&w), [1, 2]);
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/", "h3:/"]);
    assert_eq!(w.allocs, 6);
    assert_clean(&w, o);
});

both_models!(
    attach_task_all_where_the_task_already_is_moves_nothing_there,
    |d| {
        let ops = [attach_all_ops(), vec![migrate_task(2, "h2:/b")]].concat();
        let mut w = scene(d, &attach_all_setup(), &ops);
        let o = act(&mut w, d, attach_task_all(1, 2));
        assert_eq!(o, Outcome::Ok);
        assert_eq!(hiers_walked(&w), [1, 2, 3]);
        assert_eq!(count(&w, |s| *s == Step::NothingToMigrate), 1);
        assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/b", "h3:/c"]);
        assert!(!events(&w).iter().any(|e| e.starts_with("blkio")));
        // Onto itself: every hierarchy is a no-op.
        let o = act(&mut w, d, attach_task_all(2, 2));
        assert_eq!(o, Outcome::Ok);
        assert_eq!(count(&w, |s| *s == Step::NothingToMigrate), 3);
        assert_eq!(events(&w), Vec::<String>::new());
        assert_clean(&w, o);
    }
);
