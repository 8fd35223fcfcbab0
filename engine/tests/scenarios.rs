//! Scenario tests for the shared machinery of model.md §3, run on each model in turn
//! (`both_models!`), plus direct calls of the shared `World` functions where an operation
//! cannot expose the intermediate state. Cases are built in Rust; the §4 (legacy), §5
//! (four-stage) and §6 (controllers) scenarios live in the `scenarios_*.rs` files beside this.

#[macro_use]
mod common;

use common::*;

/// Two mounted hierarchies without controllers: three hierarchies with the default one, so
/// creating a css_set takes 1 + 3 allocations.
fn two() -> Setup {
    setup(&[&[], &[]])
}

// ------------------------------------------------------------------ find_css_set

#[test]
fn find_css_set_direct_creates_reuses_and_put_frees() {
    let mut w = scene(&Legacy, &two(), &[mkdir("h1:/a")]);
    let a = cg(&w, "h1:/a");
    w.begin_op(FaultPlan::default());

    // Creation: the css_set, then one link per hierarchy (default included).
    let id = w.find_css_set(INIT_CSET, a).expect("created");
    assert_eq!(w.allocs, 1 + 3);
    assert_eq!(steps(&w), [Step::FindCssSetCreated]);
    assert_eq!(w.csets[id as usize].refcount, 1, "the caller's reference");
    assert_eq!(cset_tuple(&w, id), ["h1:/a", "h2:/"]);
    assert_eq!(w.csets[id as usize].tasks, Vec::<Pid>::new());
    // The new link is at the head of each of its cgroups' lists.
    assert_eq!(links(&w, "h1:/a"), vec![vec!["h1:/a", "h2:/"]]);
    assert_eq!(
        links(&w, "h2:/"),
        vec![vec!["h1:/a", "h2:/"], vec!["h1:/", "h2:/"]]
    );
    assert_eq!(
        links(&w, "h0:/"),
        vec![vec!["h1:/a", "h2:/"], vec!["h1:/", "h2:/"]]
    );
    assert_eq!(links(&w, "h1:/"), vec![vec!["h1:/", "h2:/"]]);

    // Reuse: same tuple, no allocation, one more reference.
    let again = w.find_css_set(INIT_CSET, a).expect("found");
    assert_eq!(again, id);
    assert_eq!(w.allocs, 4, "no allocation on reuse");
    assert_eq!(w.csets[id as usize].refcount, 2);
    assert_eq!(live_csets(&w), 2);
    // Substituting the cgroup a set already has gives the set itself.
    assert_eq!(w.find_css_set(id, a), Some(id));
    assert_eq!(w.csets[id as usize].refcount, 3);
    assert_eq!(
        steps(&w),
        [
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            Step::FindCssSetFound
        ]
    );

    // put: nothing happens until the last reference; then unhashed, unlinked, freed.
    w.put_css_set(id, false);
    w.put_css_set(id, false);
    assert!(w.csets[id as usize].live);
    assert_eq!(links(&w, "h1:/a").len(), 1);
    w.put_css_set(id, false);
    assert!(!w.csets[id as usize].live);
    assert_eq!(find_cset(&w, &["h1:/a", "h2:/"]), None);
    assert_eq!(links(&w, "h1:/a"), Vec::<Vec<String>>::new());
    assert_eq!(links(&w, "h2:/"), vec![vec!["h1:/", "h2:/"]]);
    assert_eq!(links(&w, "h0:/"), vec![vec!["h1:/", "h2:/"]]);
    assert_eq!(steps(&w).last(), Some(&Step::PutCssSetFree));
    assert!(w.warnings.is_empty());
    assert_clean(&w, Outcome::Ok);
}

#[test]
fn find_css_set_direct_failure_at_each_allocation_leaves_nothing() {
    for n in 1..=4u32 {
        let mut w = scene(&Legacy, &two(), &[mkdir("h1:/a")]);
        let a = cg(&w, "h1:/a");
        let before = (inventory(&w), all_links(&w));
        w.begin_op(FaultPlan {
            alloc: Some(n),
            ..FaultPlan::default()
        });
        assert_eq!(w.find_css_set(INIT_CSET, a), None, "allocation #{n}");
        assert_eq!(w.allocs, n, "allocation stops at the failing one");
        assert_eq!(
            steps(&w),
            [Step::AllocFailed(n as u8), Step::FindCssSetEnomem]
        );
        assert_eq!((inventory(&w), all_links(&w)), before);
        assert_eq!(live_csets(&w), 1);
        // The count goes on across find_css_set calls of the same operation: the next
        // call makes allocations n+1.., which do not fail.
        let id = w
            .find_css_set(INIT_CSET, a)
            .expect("later allocations succeed");
        assert_eq!(w.allocs, n + 4);
        assert_eq!(cset_tuple(&w, id), ["h1:/a", "h2:/"]);
    }
}

// A new css_set's allocation count and link position, through a migration.
both_models!(find_css_set_creation_by_migration, |d| {
    let mut w = scene(d, &two(), &[mkdir("h1:/a"), mkdir("h1:/b"), fork(1, 2)]);
    let o = act(&mut w, d, migrate_task(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 1 + 3, "one css_set and a link per hierarchy");
    assert_eq!(count(&w, |s| *s == Step::FindCssSetCreated), 1);
    assert_eq!(count(&w, |s| *s == Step::FindCssSetFound), 0);
    assert_eq!(refs(&w, &["h1:/a", "h2:/"]), 1);
    let o = act(&mut w, d, migrate_task(1, "h1:/b"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 4);
    // Each new set went in at the head: newest first, init_css_set last.
    let want = vec![
        vec!["h1:/b", "h2:/"],
        vec!["h1:/a", "h2:/"],
        vec!["h1:/", "h2:/"],
    ];
    assert_eq!(links(&w, "h2:/"), want);
    assert_eq!(links(&w, "h0:/"), want);
    assert_eq!(links(&w, "h1:/"), vec![vec!["h1:/", "h2:/"]]);
    assert_eq!(
        refs(&w, &["h1:/", "h2:/"]),
        1,
        "init_css_set's base reference"
    );
    assert_clean(&w, o);
});

both_models!(find_css_set_reuse_by_migration, |d| {
    let mut w = scene(
        d,
        &two(),
        &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
    );
    assert_eq!(refs(&w, &["h1:/a", "h2:/"]), 1);
    let live = live_csets(&w);
    let o = act(&mut w, d, migrate_task(1, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 0);
    assert_eq!(count(&w, |s| *s == Step::FindCssSetFound), 1);
    assert_eq!(count(&w, |s| *s == Step::FindCssSetCreated), 0);
    assert_eq!(live_csets(&w), live);
    assert_eq!(refs(&w, &["h1:/a", "h2:/"]), 2);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [1, 2]);
    assert_eq!(refs(&w, &["h1:/", "h2:/"]), 1);
    assert_eq!(tasks(&w, &["h1:/", "h2:/"]), Vec::<Pid>::new());
    assert_clean(&w, o);
});

both_models!(find_css_set_failure_at_each_allocation_by_migration, |d| {
    for n in 1..=4u32 {
        let (w, o) = run(
            d,
            &two(),
            &[mkdir("h1:/a"), migrate_task(1, "h1:/a").fail_alloc(n)],
        );
        assert_eq!(o, Outcome::Err(Errno::ENOMEM), "allocation #{n}");
        assert_eq!(w.allocs, n);
        assert_eq!(count(&w, |s| *s == Step::AllocFailed(n as u8)), 1);
        assert_eq!(count(&w, |s| *s == Step::FindCssSetEnomem), 1);
        assert_eq!(find_cset(&w, &["h1:/a", "h2:/"]), None);
        assert_eq!(live_csets(&w), 1);
        assert_eq!(links(&w, "h1:/a"), Vec::<Vec<String>>::new());
        assert_eq!(tuple(&w, 1), ["h1:/", "h2:/"]);
        assert_eq!(tasks(&w, &["h1:/", "h2:/"]), [1]);
        assert_clean(&w, o);
    }
    // Four allocations are all a new css_set takes: a fifth never comes.
    let (w, o) = run(
        d,
        &two(),
        &[mkdir("h1:/a"), migrate_task(1, "h1:/a").fail_alloc(5)],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 4);
    assert_eq!(tuple(&w, 1), ["h1:/a", "h2:/"]);
});

// ------------------------------------------------------------------ put, release notification

both_models!(put_to_zero_on_exit_unlinks_and_frees, |d| {
    let mut w = scene(
        d,
        &two(),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            migrate_task(2, "h1:/a"),
            exit_begin(2),
        ],
    );
    let o = act(&mut w, d, exit_finish(2));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(steps(&w), [Step::PutCssSetFree]);
    assert_eq!(find_cset(&w, &["h1:/a", "h2:/"]), None);
    assert_eq!(links(&w, "h1:/a"), Vec::<Vec<String>>::new());
    assert_eq!(links(&w, "h2:/"), vec![vec!["h1:/", "h2:/"]]);
    assert_eq!(w.task(2).state, TaskState::Absent);
    // notify_on_release is off: the exit marks nothing and queues nothing.
    assert!(!releasable(&w, "h1:/a"));
    assert_eq!(released(&w), Vec::<String>::new());
    assert_clean(&w, o);
});

both_models!(task_exit_emptying_a_notify_cgroup_queues_it_once, |d| {
    let s = setup_notify(&[(&[], true)]);
    let mut w = scene(
        d,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h1:/a"),
            exit_begin(3),
        ],
    );
    // Not the last task: the css_set lives on, nothing is marked.
    let o = act(&mut w, d, exit_finish(3));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(refs(&w, &["h1:/a"]), 1);
    assert!(!releasable(&w, "h1:/a"));
    assert_eq!(released(&w), Vec::<String>::new());
    act(&mut w, d, exit_begin(2));
    let o = act(&mut w, d, exit_finish(2));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        steps(&w),
        [Step::PutCssSetFree, Step::CheckForReleaseQueued]
    );
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), ["h1:/a"]);
    assert_clean(&w, o);
    // The queue is per operation: the next operation starts with an empty one.
    act(&mut w, d, mkdir("h1:/b"));
    assert_eq!(released(&w), Vec::<String>::new());
});

both_models!(
    task_exit_queues_every_emptied_cgroup_in_hierarchy_order,
    |d| {
        let s = setup_notify(&[(&[], true), (&[], true)]);
        let (w, o) = run(
            d,
            &s,
            &[
                mkdir("h1:/a"),
                mkdir("h2:/x"),
                fork(1, 2),
                migrate_task(2, "h1:/a"),
                migrate_task(2, "h2:/x"),
                exit_begin(2),
                exit_finish(2),
            ],
        );
        assert_eq!(o, Outcome::Ok);
        assert_eq!(released(&w), ["h1:/a", "h2:/x"]);
        assert_clean(&w, o);
    }
);

both_models!(
    task_exit_from_a_cgroup_with_children_marks_but_does_not_queue,
    |d| {
        let s = setup_notify(&[(&[], true)]);
        let mut w = scene(
            d,
            &s,
            &[
                mkdir("h1:/a"),
                mkdir("h1:/a/b"),
                fork(1, 2),
                migrate_task(2, "h1:/a"),
                exit_begin(2),
            ],
        );
        let o = act(&mut w, d, exit_finish(2));
        assert_eq!(o, Outcome::Ok);
        assert!(releasable(&w, "h1:/a"));
        assert_eq!(released(&w), Vec::<String>::new(), "a live child");
        // Removing the child checks the parent again: now it goes.
        let o = act(&mut w, d, rmdir("h1:/a/b"));
        assert_eq!(o, Outcome::Ok);
        assert_eq!(released(&w), ["h1:/a"]);
    }
);

#[test]
fn check_for_release_direct_queues_once_per_operation() {
    let s = setup_notify(&[(&[], true)]);
    let mut w = scene(&Legacy, &s, &[mkdir("h1:/a")]);
    let a = cg(&w, "h1:/a");
    w.begin_op(FaultPlan::default());
    w.check_for_release(a);
    assert_eq!(released(&w), Vec::<String>::new(), "not releasable yet");
    w.cgroups[a as usize].releasable = true;
    w.check_for_release(a);
    w.check_for_release(a);
    assert_eq!(released(&w), ["h1:/a"]);
    assert_eq!(steps(&w), [Step::CheckForReleaseQueued]);
    // Not when notify_on_release is off, not with links, not with children.
    w.cgroups[a as usize].notify_on_release = false;
    w.begin_op(FaultPlan::default());
    w.check_for_release(a);
    assert_eq!(released(&w), Vec::<String>::new());
}

both_models!(migrating_out_marks_the_source_releasable, |d| {
    // The last task leaves a notify cgroup: marked by the migration, queued when the put of
    // the source set unlinks it.
    let s = setup_notify(&[(&[], true)]);
    let (w, o) = run(
        d,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            migrate_task(2, "h1:/a"),
            migrate_task(2, "h1:/"),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), ["h1:/a"]);
    assert_eq!(links(&w, "h1:/a"), Vec::<Vec<String>>::new());
    assert_clean(&w, o);

    // Another task stays: marked, not queued.
    let (w, o) = run(
        d,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(2, "h1:/a"),
            migrate_task(3, "h1:/a"),
            migrate_task(2, "h1:/"),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), Vec::<String>::new());

    // Without notify_on_release a migration still marks (the flag is set unconditionally),
    // but nothing is queued.
    let (w, o) = run(
        d,
        &two(),
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            fork(1, 2),
            migrate_task(2, "h1:/a"),
            migrate_task(2, "h1:/b"),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert!(releasable(&w, "h1:/a"));
    assert!(releasable(&w, "h1:/"), "the source of the first migration");
    assert!(!releasable(&w, "h1:/b"), "only sources are marked");
    assert!(
        !releasable(&w, "h2:/"),
        "only in the destination's hierarchy"
    );
    assert_eq!(released(&w), Vec::<String>::new());
});

// ------------------------------------------------------------------ rmdir, mkdir

both_models!(rmdir_is_busy_for_links_children_and_roots, |d| {
    let s = setup_notify(&[(&[], true)]);
    let busy: &[(&[CaseOp], &str)] = &[
        (&[], "h1:/"),
        (&[mkdir("h1:/a"), migrate_task(1, "h1:/a")], "h1:/a"),
        (&[mkdir("h1:/a"), mkdir("h1:/a/b")], "h1:/a"),
    ];
    for (ops, target) in busy {
        let mut w = scene(d, &s, ops);
        let before = (inventory(&w), all_links(&w));
        let o = act(&mut w, d, rmdir(target));
        assert_eq!(o, Outcome::Err(Errno::EBUSY), "rmdir {target}");
        assert!(!w.cgroups[cg(&w, target) as usize].removed);
        assert_eq!((inventory(&w), all_links(&w)), before);
        assert_eq!(released(&w), Vec::<String>::new());
        assert_eq!(steps(&w), Vec::<Step>::new());
    }
    // "Live" children: once the child is gone the parent can go too.
    let mut w = scene(d, &s, &[mkdir("h1:/a"), mkdir("h1:/a/b"), rmdir("h1:/a/b")]);
    assert_eq!(act(&mut w, d, rmdir("h1:/a")), Outcome::Ok);
    // A removed cgroup is gone for good; its name can be made again, fresh.
    assert_eq!(act(&mut w, d, rmdir("h1:/a")), Outcome::Err(Errno::ENODEV));
    assert_eq!(
        act(&mut w, d, rmdir("h1:/nope")),
        Outcome::Err(Errno::ENODEV)
    );
    assert_eq!(act(&mut w, d, mkdir("h1:/a")), Outcome::Ok);
    assert!(!releasable(&w, "h1:/a"));
    assert!(w.cgroups[cg(&w, "h1:/a") as usize].children.is_empty());
});

both_models!(rmdir_marks_the_parent_releasable_and_queues_it, |d| {
    let s = setup_notify(&[(&[], true)]);
    let (w, o) = run(d, &s, &[mkdir("h1:/a"), mkdir("h1:/a/b"), rmdir("h1:/a/b")]);
    assert_eq!(o, Outcome::Ok);
    assert!(w.resolve(&path("h1:/a/b")).is_none());
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), ["h1:/a"]);
    assert_eq!(steps(&w), [Step::CheckForReleaseQueued]);

    // A parent with another child: marked, not queued.
    let (w, _) = run(
        d,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h1:/a/b"),
            mkdir("h1:/a/c"),
            rmdir("h1:/a/b"),
        ],
    );
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), Vec::<String>::new());

    // A parent with css_sets linked (the root holds init_css_set): marked, not queued.
    let (w, _) = run(d, &s, &[mkdir("h1:/a"), rmdir("h1:/a")]);
    assert!(releasable(&w, "h1:/"));
    assert_eq!(released(&w), Vec::<String>::new());

    // Without notify_on_release: marked, never queued.
    let (w, _) = run(
        d,
        &two(),
        &[mkdir("h1:/a"), mkdir("h1:/a/b"), rmdir("h1:/a/b")],
    );
    assert!(releasable(&w, "h1:/a"));
    assert_eq!(released(&w), Vec::<String>::new());
});

both_models!(mkdir_errors_and_notify_inheritance, |d| {
    let s = setup_notify(&[(&[], true), (&[], false)]);
    let cases: &[(&[CaseOp], &str, Errno)] = &[
        (&[mkdir("h1:/a")], "h1:/a", Errno::EEXIST),
        (&[], "h1:/", Errno::EEXIST),
        (&[], "h1:/x/y", Errno::ENODEV),
        (&[mkdir("h1:/a"), rmdir("h1:/a")], "h1:/a/b", Errno::ENODEV),
        (&[], "h3:/a", Errno::ENODEV),
        (&[], "h0:/a", Errno::EINVAL),
    ];
    for (ops, p, e) in cases {
        let mut w = scene(d, &s, ops);
        let n = w.cgroups.len();
        assert_eq!(act(&mut w, d, mkdir(p)), Outcome::Err(*e), "mkdir {p}");
        assert_eq!(w.cgroups.len(), n, "nothing created");
    }
    let w = scene(
        d,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            mkdir("h1:/a/c"),
            mkdir("h2:/x"),
            mkdir("h2:/x/y"),
        ],
    );
    for (p, notify) in [
        ("h1:/a", true),
        ("h1:/b", true),
        ("h1:/a/c", true),
        ("h2:/x", false),
        ("h2:/x/y", false),
    ] {
        let c = &w.cgroups[cg(&w, p) as usize];
        assert_eq!(c.notify_on_release, notify, "{p}");
        assert!(c.cset_links.is_empty() && !c.releasable && c.attach_in_progress == 0);
    }
    // Children in creation order.
    let root = &w.cgroups[cg(&w, "h1:/") as usize];
    assert_eq!(root.children, [cg(&w, "h1:/a"), cg(&w, "h1:/b")]);
});

// ------------------------------------------------------------------ add controller

both_models!(add_controller_binds_and_busy_cases, |d| {
    let s = setup(&[&[Cpu], &[]]);
    let cases: &[(&[CaseOp], CaseOp, Outcome)] = &[
        (&[], add_controller(Memory, 2), Outcome::Ok),
        (&[], add_controller(Cpu, 2), Outcome::Err(Errno::EBUSY)),
        (
            &[add_controller(Memory, 2)],
            add_controller(Memory, 1),
            Outcome::Err(Errno::EBUSY),
        ),
        (
            &[mkdir("h2:/x")],
            add_controller(Memory, 2),
            Outcome::Err(Errno::EBUSY),
        ),
        (
            &[mkdir("h2:/x"), mkdir("h2:/x/y")],
            add_controller(Memory, 2),
            Outcome::Err(Errno::EBUSY),
        ),
        (
            &[mkdir("h2:/x"), rmdir("h2:/x")],
            add_controller(Memory, 2),
            Outcome::Ok,
        ),
        (&[], add_controller(Memory, 0), Outcome::Err(Errno::EINVAL)),
        (&[], add_controller(Memory, 3), Outcome::Err(Errno::EINVAL)),
    ];
    for (ops, op, want) in cases {
        let mut w = scene(d, &s, ops);
        let before = w.hiers.iter().map(|h| h.controllers).collect::<Vec<_>>();
        let o = act(&mut w, d, op.clone());
        assert_eq!(o, *want, "{:?} after {ops:?}", op.op);
        let after = w.hiers.iter().map(|h| h.controllers).collect::<Vec<_>>();
        if o == Outcome::Ok {
            assert_eq!(after[0], before[0] & !Memory.bit());
            assert_eq!(after[2], before[2] | Memory.bit());
        } else {
            assert_eq!(after, before, "a refused bind changes nothing");
        }
    }

    // Before the bind, migrating into h2 calls nothing; css_sets are not rewritten by it;
    // after it, memory's callbacks run for migrations into h2.
    let mut w = scene(
        d,
        &s,
        &[fork(1, 2), mkdir("h1:/a"), migrate_task(2, "h1:/a")],
    );
    let before = (inventory(&w), all_links(&w));
    assert_eq!(act(&mut w, d, add_controller(Memory, 2)), Outcome::Ok);
    assert_eq!((inventory(&w), all_links(&w)), before);
    act(&mut w, d, mkdir("h2:/x"));
    assert_eq!(act(&mut w, d, migrate_task(2, "h2:/x")), Outcome::Ok);
    assert_eq!(
        events(&w),
        ["memory.can_attach(h2:/x) [2]", "memory.attach(h2:/x) [2]"]
    );
    assert_eq!(act(&mut w, d, migrate_task(1, "h1:/a")), Outcome::Ok);
    assert_eq!(
        events(&w),
        ["cpu.can_attach(h1:/a) [1]", "cpu.attach(h1:/a) [1]"]
    );
    assert_clean(&w, Outcome::Ok);
});

// ------------------------------------------------------------------ fork, exit

both_models!(fork_process_and_threads, |d| {
    let mut w = scene(d, &two(), &[]);
    assert_eq!(act(&mut w, d, fork(1, 2)), Outcome::Ok);
    assert_eq!(steps(&w), Vec::<Step>::new());
    assert_eq!(w.allocs, 0);
    assert_eq!(tuple(&w, 2), tuple(&w, 1));
    assert_eq!(w.task(2).leader, 2);
    assert_eq!(w.task(2).group, [2]);
    assert_eq!(w.task(1).group, [1]);
    // At the head of the parent's css_set's tasks, with a reference.
    assert_eq!(tasks(&w, &["h1:/", "h2:/"]), [2, 1]);
    assert_eq!(refs(&w, &["h1:/", "h2:/"]), 1 + 2);
    for (parent, child) in [(2, 3), (2, 4), (3, 5)] {
        assert_eq!(act(&mut w, d, thread(parent, child)), Outcome::Ok);
    }
    // A thread joins the group of its parent's leader, at the tail.
    assert_eq!(w.task(2).group, [2, 3, 4, 5]);
    assert!([3, 4, 5].iter().all(|&p| w.task(p).leader == 2));
    assert_eq!(tasks(&w, &["h1:/", "h2:/"]), [5, 4, 3, 2, 1]);
    assert_eq!(refs(&w, &["h1:/", "h2:/"]), 1 + 5);
    // The child of a task elsewhere shares that task's css_set.
    act(&mut w, d, mkdir("h1:/a"));
    act(&mut w, d, migrate_task(4, "h1:/a"));
    assert_eq!(act(&mut w, d, fork(4, 6)), Outcome::Ok);
    assert_eq!(tuple(&w, 6), ["h1:/a", "h2:/"]);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [6, 4]);
    assert_eq!(w.task(6).group, [6]);
    // A pid that exists cannot be forked again (a modelling choice: EINVAL).
    assert_eq!(act(&mut w, d, fork(1, 6)), Outcome::Err(Errno::EINVAL));
    assert_clean(&w, Outcome::Ok);
});

both_models!(exit_begin_and_finish_of_a_thread, |d| {
    let mut w = scene(
        d,
        &two(),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h1:/a"),
        ],
    );
    let init = ["h1:/", "h2:/"];
    let a = ["h1:/a", "h2:/"];
    assert_eq!(act(&mut w, d, exit_begin(3)), Outcome::Ok);
    assert_eq!(w.task(3).state, TaskState::Exiting);
    assert_eq!(w.task(3).cg_list, Some((cset(&w, &a), TaskList::Tasks)));
    assert!(tasks(&w, &a).contains(&3));
    assert_eq!(refs(&w, &a), 2);
    assert_eq!(steps(&w), Vec::<Step>::new());

    let init_refs = refs(&w, &init);
    assert_eq!(act(&mut w, d, exit_finish(3)), Outcome::Ok);
    assert_eq!(w.task(3).state, TaskState::Absent);
    assert_eq!(w.task(3).cg_list, None);
    assert_eq!(w.task(3).cset, INIT_CSET);
    assert_eq!(tasks(&w, &a), [2]);
    assert_eq!(refs(&w, &a), 1);
    assert_eq!(refs(&w, &init), init_refs, "no reference on init_css_set");
    assert!(!tasks(&w, &init).contains(&3));
    assert_eq!(w.task(2).group, [2], "a finished thread leaves its group");
    assert!(w.existing(3).is_none());
    assert_clean(&w, Outcome::Ok);
});

both_models!(zombie_leader_until_the_last_thread_finishes, |d| {
    let mut w = scene(
        d,
        &two(),
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h1:/a"),
            exit_begin(2),
            exit_finish(2),
        ],
    );
    let t = w.task(2);
    assert_eq!(t.state, TaskState::Zombie);
    assert!(t.exiting());
    assert_eq!((t.cg_list, t.cset), (None, INIT_CSET));
    assert_eq!(t.group, [2, 3]);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [3]);
    assert_eq!(refs(&w, &["h1:/a", "h2:/"]), 1);
    assert_clean(&w, Outcome::Ok);

    // A zombie can still be named (model-notes: migrations skip it, being PF_EXITING).
    assert_eq!(act(&mut w, d, migrate_task(2, "h1:/b")), Outcome::Ok);
    assert_eq!(w.task(2).state, TaskState::Zombie);
    assert_eq!(w.task(2).cset, INIT_CSET);
    assert_clean(&w, Outcome::Ok);
    // Naming a thread moves the group: the live thread goes, the zombie stays.
    assert_eq!(act(&mut w, d, migrate_process(3, "h1:/b")), Outcome::Ok);
    assert_eq!(tuple(&w, 3), ["h1:/b", "h2:/"]);
    assert_eq!(w.task(2).cset, INIT_CSET);
    assert_clean(&w, Outcome::Ok);
    // Fork and both exit halves on a zombie: no such task.
    for op in [fork(2, 9), thread(2, 9), exit_begin(2), exit_finish(2)] {
        assert_eq!(act(&mut w, d, op), Outcome::Err(Errno::ESRCH));
    }

    // The last thread finishes: the whole group is gone.
    act(&mut w, d, exit_begin(3));
    assert_eq!(act(&mut w, d, exit_finish(3)), Outcome::Ok);
    assert_eq!(w.task(2).state, TaskState::Absent);
    assert_eq!(w.task(3).state, TaskState::Absent);
    assert!(w.existing(2).is_none());
    assert_eq!(
        act(&mut w, d, migrate_task(2, "h1:/a")),
        Outcome::Err(Errno::ESRCH)
    );
    assert_eq!(find_cset(&w, &["h1:/b", "h2:/"]), None);
    assert_clean(&w, Outcome::Ok);
});

both_models!(leader_exiting_without_threads_is_gone_at_once, |d| {
    let (w, o) = run(
        d,
        &two(),
        &[
            fork(1, 2),
            thread(2, 3),
            exit_begin(3),
            exit_finish(3),
            exit_begin(2),
            exit_finish(2),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.task(2).state, TaskState::Absent);
    assert_eq!(tasks(&w, &["h1:/", "h2:/"]), [1]);
    assert_clean(&w, o);
});

// ------------------------------------------------------------------ preconditions

/// A scene with every kind of task: 2 (leader) with thread 3, 4 exiting, 5 a zombie leader
/// with live thread 6, 7 gone; h1:/a and h2:/x exist, h1:/dead was removed.
fn precondition_scene(d: &dyn Design) -> World {
    scene(
        d,
        &setup(&[&[Cpu], &[]]),
        &[
            mkdir("h1:/a"),
            mkdir("h2:/x"),
            mkdir("h1:/dead"),
            rmdir("h1:/dead"),
            fork(1, 2),
            thread(2, 3),
            fork(1, 4),
            exit_begin(4),
            fork(1, 5),
            thread(5, 6),
            exit_begin(5),
            exit_finish(5),
            fork(1, 7),
            exit_begin(7),
            exit_finish(7),
        ],
    )
}

both_models!(preconditions_are_checked_first, |d| {
    use Errno::*;
    let cases: Vec<(CaseOp, Errno)> = vec![
        // A missing or removed cgroup: ENODEV, before the task is looked at.
        (migrate_task(99, "h1:/nope"), ENODEV),
        (migrate_task(2, "h1:/dead"), ENODEV),
        (migrate_process(99, "h1:/nope"), ENODEV),
        (migrate_multi("h1:/nope", &[task(99)]), ENODEV),
        (transfer("h1:/nope", "h1:/"), ENODEV),
        (transfer("h1:/", "h1:/dead"), ENODEV),
        (rmdir("h1:/dead"), ENODEV),
        // Into the default hierarchy, or across hierarchies: EINVAL (before ESRCH).
        (migrate_task(2, "h0:/"), EINVAL),
        (migrate_task(99, "h0:/"), EINVAL),
        (migrate_process(2, "h0:/"), EINVAL),
        (migrate_multi("h0:/", &[task(2)]), EINVAL),
        (transfer("h1:/", "h2:/"), EINVAL),
        (transfer("h1:/a", "h2:/x"), EINVAL),
        (transfer("h0:/", "h0:/"), EINVAL),
        // A task that is gone: ESRCH.
        (migrate_task(99, "h1:/a"), ESRCH),
        (migrate_task(7, "h1:/a"), ESRCH),
        (migrate_process(7, "h1:/a"), ESRCH),
        (migrate_multi("h1:/a", &[task(2), process(7)]), ESRCH),
        (attach_task_all(7, 2), ESRCH),
        (attach_task_all(2, 7), ESRCH),
        // Gone, exiting or zombie tasks cannot fork.
        (fork(7, 20), ESRCH),
        (fork(4, 20), ESRCH),
        (thread(4, 20), ESRCH),
        (fork(5, 20), ESRCH),
        // pid 1 cannot exit.
        (exit_begin(1), EPERM),
        (exit_finish(1), EPERM),
        // Exit out of order, or on a zombie or a gone task.
        (exit_begin(4), ESRCH),
        (exit_finish(2), ESRCH),
        (exit_begin(5), ESRCH),
        (exit_finish(5), ESRCH),
        (exit_begin(7), ESRCH),
        (exit_finish(7), ESRCH),
    ];
    for (op, e) in cases {
        let mut w = precondition_scene(d);
        let before = (
            inventory(&w),
            all_links(&w),
            w.tasks.iter().map(|t| t.state).collect::<Vec<_>>(),
        );
        let o = act(&mut w, d, op.clone());
        assert_eq!(o, Outcome::Err(e), "{}: {:?}", d.name(), op.op);
        assert_eq!(steps(&w), Vec::<Step>::new(), "{:?}: no model step", op.op);
        assert!(w.events.is_empty() && w.release_queued.is_empty());
        let after = (
            inventory(&w),
            all_links(&w),
            w.tasks.iter().map(|t| t.state).collect::<Vec<_>>(),
        );
        assert_eq!(after, before, "{:?} changed the world", op.op);
        assert_clean(&w, o);
    }
    // The same scene accepts the valid counterparts (so the errors above are not the scene's).
    let mut w = precondition_scene(d);
    assert_eq!(act(&mut w, d, migrate_task(2, "h1:/a")), Outcome::Ok);
    assert_eq!(act(&mut w, d, exit_finish(4)), Outcome::Ok);
    assert_eq!(act(&mut w, d, fork(6, 20)), Outcome::Ok);
    assert_eq!(act(&mut w, d, migrate_process(6, "h1:/a")), Outcome::Ok);
    assert_eq!(act(&mut w, d, attach_task_all(2, 3)), Outcome::Ok);
    assert_eq!(act(&mut w, d, transfer("h1:/a", "h1:/")), Outcome::Ok);
});
