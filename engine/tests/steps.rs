//! Scenario tests, one model at a time: every numbered step of model.md §4 (legacy) and §5
//! (four-stage), the shared machinery of §3 on both models, and every error path. Cases are
//! written in the case format; assertions look at the outcome, the kernel-named steps the model
//! took on the last operation, and the readable observation.

use cgdiff_engine::exec::apply;
use cgdiff_engine::models::four_stage::FourStage;
use cgdiff_engine::models::legacy::Legacy;
use cgdiff_engine::observe::{check_invariants, Invariant, Snapshot};
use cgdiff_engine::trace::Step;
use cgdiff_engine::world::World;
use cgdiff_engine::{format, Controller, Design, Errno, Outcome};

const BOTH: [&dyn Design; 2] = [&Legacy, &FourStage];

/// Runs every operation of `body` (after a header) on `d`; returns the world, the outcome of
/// the last operation and the steps it took. Every operation before the last is setup and
/// must succeed: a setup that fails silently would test something else than it says.
fn run(d: &dyn Design, body: &str) -> (World, Outcome, Vec<Step>) {
    let text = format!("cgdiff-case v1\n{body}");
    let case = format::parse(&text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .case;
    let mut w = World::new(&case.setup);
    w.trace.enabled = true;
    let mut last = Outcome::Ok;
    for (i, op) in case.ops.iter().enumerate() {
        if i > 0 {
            assert_eq!(
                last,
                Outcome::Ok,
                "{}: setup operation {} ({}) failed\n{text}",
                d.name(),
                i - 1,
                format::op_text(&case.ops[i - 1])
            );
        }
        last = apply(&mut w, d, op);
    }
    let steps = w.trace.steps.clone();
    (w, last, steps)
}

fn lines(w: &World, o: Outcome) -> Vec<String> {
    Snapshot::of(w, o).lines()
}

fn has(w: &World, o: Outcome, line: &str) -> bool {
    lines(w, o).iter().any(|l| l == line)
}

fn count(steps: &[Step], f: impl Fn(&Step) -> bool) -> usize {
    steps.iter().filter(|s| f(s)).count()
}

fn assert_clean(w: &World, o: Outcome) {
    assert_eq!(check_invariants(w, o), 0, "{:#?}", lines(w, o));
}

// ---------------------------------------------------------------- §3 shared machinery

#[test]
fn find_css_set_creates_with_one_plus_hierarchies_allocations_and_links_at_the_head() {
    for d in BOTH {
        let (w, o, steps) = run(
            d,
            "hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h1:/b\n\
             fork 1 2\nmigrate-task 2 h1:/a\nmigrate-task 1 h1:/b\n",
        );
        assert_eq!(o, Outcome::Ok);
        assert_eq!(count(&steps, |s| *s == Step::FindCssSetCreated), 1);
        assert_eq!(
            w.allocs,
            1 + 3,
            "{}: the css_set, then a link per hierarchy",
            d.name()
        );
        // The newest css_set is first in the root of h2's list, and init_css_set last.
        assert!(
            has(
                &w,
                o,
                "cgroup h2:/: cset_links [{h1:/b h2:/}, {h1:/a h2:/}, {h1:/ h2:/}]"
            ),
            "{:#?}",
            lines(&w, o)
        );
        assert_clean(&w, o);
    }
}

#[test]
fn find_css_set_reuses_an_existing_set_without_allocating() {
    for d in BOTH {
        let (w, o, steps) = run(
            d,
            "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nmigrate-task 2 h1:/a\nmigrate-task 1 h1:/a\n",
        );
        assert_eq!(o, Outcome::Ok);
        assert!(steps.contains(&Step::FindCssSetFound), "{}", d.name());
        assert_eq!(w.allocs, 0);
        assert!(
            has(&w, o, "css_set {h1:/a}: refcount 2, tasks [1 2]"),
            "{:#?}",
            lines(&w, o)
        );
    }
}

#[test]
fn every_allocation_point_of_find_css_set_can_fail_and_leaves_nothing() {
    for d in BOTH {
        for n in 1..=3 {
            let (w, o, steps) = run(
                d,
                &format!("hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-alloc={n}\n"),
            );
            assert_eq!(o, Outcome::Err(Errno::ENOMEM), "{} n={n}", d.name());
            assert!(steps.contains(&Step::AllocFailed(n as u8)));
            assert!(has(&w, o, "task 1: live, linked, in {h1:/ h2:/}"));
            assert!(has(&w, o, "cgroup h1:/a: cset_links []"));
            assert_clean(&w, o);
        }
        // Four allocations are all it takes: the fifth never comes.
        let (_, o, _) = run(
            d,
            "hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-alloc=5\n",
        );
        assert_eq!(o, Outcome::Ok);
    }
}

#[test]
fn task_exit_puts_frees_and_queues_a_release_notification_once() {
    for d in BOTH {
        let (w, o, steps) = run(
            d,
            "hierarchy h1 - notify\nmkdir h1:/a\nfork 1 2\nmigrate-task 2 h1:/a\nexit-begin 2\nexit-finish 2\n",
        );
        assert_eq!(o, Outcome::Ok);
        assert!(steps.contains(&Step::PutCssSetFree));
        assert_eq!(
            lines(&w, o)
                .iter()
                .filter(|l| l.starts_with("release"))
                .count(),
            1
        );
        assert!(has(&w, o, "release notification: h1:/a"));
        assert_clean(&w, o);
    }
}

#[test]
fn no_notification_without_notify_on_release() {
    for d in BOTH {
        let (w, o, _) = run(d, "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nmigrate-task 2 h1:/a\nexit-begin 2\nexit-finish 2\n");
        assert!(w.release_queued.is_empty(), "{}", d.name());
        assert_eq!(o, Outcome::Ok);
    }
}

#[test]
fn migrating_out_marks_the_source_releasable() {
    for d in BOTH {
        let (w, o, _) = run(
            d,
            "hierarchy h1 - notify\nmkdir h1:/a\nmigrate-task 1 h1:/a\nmigrate-task 1 h1:/\n",
        );
        assert!(
            has(&w, o, "cgroup h1:/a: cset_links [], releasable"),
            "{:#?}",
            lines(&w, o)
        );
        // Emptied by a migration (not an exit), and already releasable: queued.
        assert!(has(&w, o, "release notification: h1:/a"));
    }
}

#[test]
fn rmdir_busy_paths_and_parent_release() {
    for d in BOTH {
        let busy = |body: &str| run(d, &format!("hierarchy h1 - notify\n{body}")).1;
        assert_eq!(busy("rmdir h1:/\n"), Outcome::Err(Errno::EBUSY), "root");
        assert_eq!(
            busy("mkdir h1:/a\nmigrate-task 1 h1:/a\nrmdir h1:/a\n"),
            Outcome::Err(Errno::EBUSY)
        );
        assert_eq!(
            busy("mkdir h1:/a\nmkdir h1:/a/b\nrmdir h1:/a\n"),
            Outcome::Err(Errno::EBUSY)
        );
        assert_eq!(busy("rmdir h1:/nope\n"), Outcome::Err(Errno::ENODEV));
        let (w, o, _) = run(
            d,
            "hierarchy h1 - notify\nmkdir h1:/a\nmkdir h1:/a/b\nrmdir h1:/a/b\n",
        );
        assert_eq!(o, Outcome::Ok);
        assert!(
            has(&w, o, "release notification: h1:/a"),
            "{:#?}",
            lines(&w, o)
        );
    }
}

#[test]
fn mkdir_errors_and_inheritance() {
    for d in BOTH {
        let r = |body: &str| run(d, &format!("hierarchy h1 - notify\n{body}"));
        assert_eq!(
            r("mkdir h1:/a\nmkdir h1:/a\n").1,
            Outcome::Err(Errno::EEXIST)
        );
        assert_eq!(r("mkdir h1:/x/y\n").1, Outcome::Err(Errno::ENODEV));
        assert_eq!(r("mkdir h0:/a\n").1, Outcome::Err(Errno::EINVAL));
        let (w, _, _) = r("mkdir h1:/a\nmkdir h1:/a/b\n");
        assert!(w
            .cgroups
            .iter()
            .filter(|c| c.hier > 0)
            .all(|c| c.notify_on_release));
    }
}

#[test]
fn add_controller_busy_cases() {
    for d in BOTH {
        let r = |body: &str| run(d, &format!("hierarchy h1 cpu\nhierarchy h2 -\n{body}")).1;
        assert_eq!(r("add-controller memory h2\n"), Outcome::Ok);
        assert_eq!(
            r("add-controller cpu h2\n"),
            Outcome::Err(Errno::EBUSY),
            "bound elsewhere"
        );
        assert_eq!(
            r("mkdir h2:/a\nadd-controller memory h2\n"),
            Outcome::Err(Errno::EBUSY),
            "children"
        );
        assert_eq!(r("add-controller memory h0\n"), Outcome::Err(Errno::EINVAL));
        // Bound: its callbacks run for migrations into h2 from then on.
        let (w, _, _) = run(d, "hierarchy h1 -\nhierarchy h2 -\nadd-controller cpu h2\nmkdir h2:/a\nmigrate-task 1 h2:/a\n");
        assert!(w.events.iter().any(|e| e.controller == Controller::Cpu));
    }
}

#[test]
fn fork_thread_groups_exit_and_zombies() {
    for d in BOTH {
        let (w, o, _) = run(d, "hierarchy h1 -\nfork 1 2\nthread 2 3\nthread 3 4\n");
        assert_eq!(o, Outcome::Ok);
        assert_eq!(
            w.task(2).group,
            vec![2, 3, 4],
            "leader first, threads in creation order"
        );
        assert!(
            has(&w, o, "css_set {h1:/}: refcount 5, tasks [4 3 2 1]"),
            "fork adds at the head"
        );
        // A leader that exits with threads alive is a zombie that can still be named.
        let (w, o, _) = run(d, "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nthread 2 3\nexit-begin 2\nexit-finish 2\nmigrate-process 3 h1:/a\n");
        assert_eq!(o, Outcome::Ok);
        assert!(
            has(&w, o, "task 2: zombie, unlinked, in {h1:/}"),
            "{:#?}",
            lines(&w, o)
        );
        assert!(has(&w, o, "task 3: live, linked, in {h1:/a}"));
        assert_clean(&w, o);
        // When the last thread finishes, the whole group is gone.
        let (w, o, _) = run(d, "hierarchy h1 -\nfork 1 2\nthread 2 3\nexit-begin 2\nexit-finish 2\nexit-begin 3\nexit-finish 3\n");
        assert_eq!(o, Outcome::Ok);
        assert!(!w.task(2).exists() && !w.task(3).exists());
        assert_clean(&w, o);
    }
}

#[test]
fn preconditions_are_the_same_for_both_models() {
    let cases: &[(&str, Outcome)] = &[
        ("migrate-task 9 h1:/nope\n", Outcome::Err(Errno::ENODEV)), // cgroups before tasks
        ("migrate-task 9 h1:/\n", Outcome::Err(Errno::ESRCH)),
        ("migrate-task 1 h0:/\n", Outcome::Err(Errno::EINVAL)),
        (
            "mkdir h2:/b\ntransfer-tasks h1:/ h2:/b\n",
            Outcome::Err(Errno::EINVAL),
        ),
        (
            "transfer-tasks h1:/ h1:/nope\n",
            Outcome::Err(Errno::ENODEV),
        ),
        ("migrate-multi h1:/ 1 p:9\n", Outcome::Err(Errno::ESRCH)),
        ("attach-task-all 1 9\n", Outcome::Err(Errno::ESRCH)),
        ("exit-begin 1\n", Outcome::Err(Errno::EPERM)),
        ("exit-finish 1\n", Outcome::Err(Errno::EPERM)),
        ("fork 9 2\n", Outcome::Err(Errno::ESRCH)),
        (
            "fork 1 2\nexit-begin 2\nfork 2 3\n",
            Outcome::Err(Errno::ESRCH),
        ),
        (
            "fork 1 2\nexit-begin 2\nexit-begin 2\n",
            Outcome::Err(Errno::ESRCH),
        ),
        ("fork 1 2\nexit-finish 2\n", Outcome::Err(Errno::ESRCH)),
        (
            "fork 1 2\nthread 2 3\nexit-begin 2\nexit-finish 2\nexit-begin 2\n",
            Outcome::Err(Errno::ESRCH),
        ),
        (
            "fork 1 2\nthread 2 3\nexit-begin 2\nexit-finish 2\nfork 2 4\n",
            Outcome::Err(Errno::ESRCH),
        ),
    ];
    for (body, want) in cases {
        for d in BOTH {
            let (_, o, _) = run(d, &format!("hierarchy h1 -\nhierarchy h2 -\n{body}"));
            assert_eq!(o, *want, "{}: {body}", d.name());
        }
    }
}

// ---------------------------------------------------------------- §4 legacy

const PROC: &str = "hierarchy h1 cpuset,memory\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                    fork 1 2\nthread 2 3\nthread 2 4\nmigrate-task 3 h1:/a\nmigrate-task 4 h2:/x\n";

#[test]
fn legacy_step1_collects_skipping_exiting_and_tasks_in_dst() {
    let (w, o, steps) = run(
        &Legacy,
        &format!(
            "{PROC}fork 1 5\nexit-begin 5\nthread 2 6\nexit-begin 6\nmigrate-process 2 h1:/a\n"
        ),
    );
    assert_eq!(o, Outcome::Ok);
    assert!(steps.contains(&Step::LegacySkipInDst(3)));
    assert!(steps.contains(&Step::LegacySkipExiting(6)));
    // 2 and 4 are in different css_sets: two first sights, two collections.
    assert_eq!(count(&steps, |s| matches!(s, Step::LegacyNewSrc(_))), 2);
    assert_eq!(count(&steps, |s| matches!(s, Step::LegacyCollect(_))), 2);
    assert!(has(&w, o, "task 6: exiting, linked, in {h1:/ h2:/}"));
    assert!(has(&w, o, "task 4: live, linked, in {h1:/a h2:/x}"));
    assert_clean(&w, o);
}

#[test]
fn legacy_step2_nothing_collected_returns_zero_without_callbacks() {
    let (w, o, steps) = run(
        &Legacy,
        "hierarchy h1 cpu\nmkdir h1:/a\nmigrate-task 1 h1:/a\nmigrate-task 1 h1:/a\n",
    );
    assert_eq!(o, Outcome::Ok);
    assert!(steps.contains(&Step::NothingToMigrate));
    assert!(w.events.is_empty());
}

#[test]
fn legacy_step3_can_attach_failure_cancels_only_the_earlier_controllers() {
    let (w, o, steps) = run(&Legacy, "hierarchy h1 cpuset,cpu,memory\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-can-attach=memory:1:ENOSPC\n");
    assert_eq!(o, Outcome::Err(Errno::ENOSPC));
    let ev: Vec<String> = Snapshot::of(&w, o).events;
    assert_eq!(
        ev,
        vec![
            "cpuset.can_attach(h1:/a) taskset [1]",
            "cpu.can_attach(h1:/a) taskset [1]",
            "memory.can_attach(h1:/a) taskset [1] -> ENOSPC",
            "cpuset.cancel_attach(h1:/a) taskset [1]",
        ]
    );
    assert!(
        !steps.contains(&Step::FindCssSetCreated),
        "step 3 comes before step 4"
    );
    assert!(has(&w, o, "task 1: live, linked, in {h1:/}"));
    assert_clean(&w, o);
}

#[test]
fn legacy_step4_enomem_skips_cancel_attach() {
    let (w, o, steps) = run(
        &Legacy,
        "hierarchy h1 cpuset,memory\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-alloc=1\n",
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert!(steps.contains(&Step::LegacyEnomemNoCancel));
    assert_eq!(count(&steps, |s| matches!(s, Step::CancelAttach(_))), 0);
    assert_eq!(
        w.cgroups[w.resolve(&"h1:/a".parse_path()).unwrap() as usize].attach_in_progress,
        1
    );
    assert!(w.charge_move.is_some());
    assert_eq!(check_invariants(&w, o), Invariant::ControllerRest.bit());
}

#[test]
fn legacy_steps5_to_7_commit_attach_and_release() {
    let (w, o, steps) = run(&Legacy, "hierarchy h1 cpuset,memory\nmkdir h1:/a\nfork 1 2\nthread 2 3\nmigrate-task 1 h1:/a\nmigrate-process 2 h1:/a\n");
    assert_eq!(o, Outcome::Ok);
    assert!(steps.contains(&Step::TaskMigrate(2)) && steps.contains(&Step::TaskMigrate(3)));
    // Commit walks mg_tasks head first; mg_tasks are spliced back in front of `tasks`.
    assert!(
        has(&w, o, "css_set {h1:/a}: refcount 3, tasks [2 3 1]"),
        "{:#?}",
        lines(&w, o)
    );
    let ev = Snapshot::of(&w, o).events;
    // Collection list_move()s each task to the head of mg_tasks ([3 2]); the commit walks that
    // list and list_move()s each to the head of the destination's: [2 3] again.
    assert_eq!(ev[0], "cpuset.can_attach(h1:/a) taskset [3 2]");
    assert_eq!(ev[2], "cpuset.attach(h1:/a) taskset [2 3]");
    assert_eq!(ev[3], "memory.attach(h1:/a) taskset [2 3]");
    assert!(steps.contains(&Step::ReleaseTset));
    assert_clean(&w, o);
}

#[test]
fn legacy_multi_target_stops_at_the_first_error_leaving_earlier_targets_moved() {
    let (w, o, _) = run(&Legacy, "hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\nfork 1 2\nfork 1 3\nmigrate-task 3 h2:/x\nmigrate-multi h1:/a 2 3 fail-alloc=5\n");
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert!(has(&w, o, "task 2: live, linked, in {h1:/a h2:/}"));
    assert!(has(&w, o, "task 3: live, linked, in {h1:/ h2:/x}"));
    assert_clean(&w, o);
}

#[test]
fn legacy_transfer_moves_task_by_task_and_can_leave_a_partial_move() {
    let (w, o, steps) = run(
        &Legacy,
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/transfer-enomem.case"
        ))
        .unwrap()
        .replace("cgdiff-case v1\n", ""),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(count(&steps, |s| matches!(s, Step::TransferNext(_))), 2);
    assert!(has(&w, o, "task 3: live, linked, in {h1:/to h2:/x}"));
    assert!(has(&w, o, "task 2: live, linked, in {h1:/from h2:/}"));
}

// ---------------------------------------------------------------- §5 four-stage

#[test]
fn four_stage_add_src_skips_dst_and_preloaded_but_not_exiting() {
    let (w, o, steps) = run(&FourStage, "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nthread 2 3\nthread 2 4\nmigrate-task 4 h1:/a\nexit-begin 3\nmigrate-process 2 h1:/a\n");
    assert_eq!(o, Outcome::Ok);
    // 2 and 3 share a set (3 exiting: preloaded anyway), 4 is already in h1:/a.
    assert_eq!(count(&steps, |s| *s == Step::AddSrc), 1);
    assert_eq!(count(&steps, |s| *s == Step::AddSrcAlreadyPreloaded), 1);
    assert_eq!(count(&steps, |s| *s == Step::AddSrcSameCgroup), 1);
    assert!(steps.contains(&Step::MigrateSkipExiting(3)));
    assert!(has(&w, o, "task 3: exiting, linked, in {h1:/}"));
    assert_clean(&w, o);
}

#[test]
fn four_stage_prepare_dst_enomem_releases_what_it_gathered() {
    let (w, o, steps) = run(&FourStage, "hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\nfork 1 2\nthread 2 3\nmigrate-task 3 h2:/x\nmigrate-process 2 h1:/a fail-alloc=5\n");
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert!(steps.contains(&Step::PrepareDstEnomem));
    assert!(
        steps.contains(&Step::FindCssSetCreated),
        "the first destination was built"
    );
    assert!(steps.contains(&Step::PutCssSetFree), "and released again");
    assert!(
        !steps.iter().any(|s| matches!(s, Step::Migrate { .. })),
        "migrate never runs"
    );
    assert_clean(&w, o);
}

#[test]
fn four_stage_prepare_dst_drops_the_extra_reference_of_a_shared_destination() {
    // 2 is in {h1:/ h2:/x}, 3 in {h1:/b h2:/x}: both map to {h1:/a h2:/x}.
    let (w, o, steps) = run(&FourStage, "hierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h1:/b\nmkdir h2:/x\nfork 1 2\nthread 2 3\nmigrate-process 2 h2:/x\nmigrate-task 3 h1:/b\nmigrate-process 2 h1:/a\n");
    assert_eq!(o, Outcome::Ok);
    assert!(steps.contains(&Step::PrepareDstDuplicate));
    assert!(
        has(&w, o, "css_set {h1:/a h2:/x}: refcount 2, tasks [2 3]"),
        "{:#?}",
        lines(&w, o)
    );
    assert_clean(&w, o);
}

#[test]
fn four_stage_migrate_skips_unpreloaded_never_allocates_and_cancels_earlier() {
    let (w, o, steps) = run(&FourStage, "hierarchy h1 cpuset,memory\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-can-attach=memory:1:EBUSY\n");
    assert_eq!(o, Outcome::Err(Errno::EBUSY));
    let migrate_at = steps
        .iter()
        .position(|s| matches!(s, Step::Migrate { .. }))
        .unwrap();
    assert!(
        !steps[migrate_at..].contains(&Step::FindCssSetCreated),
        "migrate never allocates"
    );
    assert_eq!(
        Snapshot::of(&w, o).events,
        vec![
            "cpuset.can_attach(h1:/a) taskset [1]",
            "memory.can_attach(h1:/a) taskset [1] -> EBUSY",
            "cpuset.cancel_attach(h1:/a) taskset [1]",
        ]
    );
    assert_clean(&w, o);
    // A task whose set is not preloaded is skipped: attach_task_all moving 2 into pid 1's
    // cgroup where it already is.
    let (_, _, steps) = run(
        &FourStage,
        "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nmigrate-multi h1:/a 2 2\n",
    );
    assert!(
        steps.contains(&Step::MigrateSkipNotPreloaded(2)),
        "{steps:?}"
    );
}

#[test]
fn four_stage_finish_clears_everything() {
    let (w, o, steps) = run(
        &FourStage,
        "hierarchy h1 cpu\nmkdir h1:/a\nfork 1 2\nmigrate-multi h1:/a 1 2\n",
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(count(&steps, |s| *s == Step::MigrateFinish), 1);
    assert!(w.lists.iter().all(|l| l.is_empty()));
    assert_clean(&w, o);
}

#[test]
fn four_stage_multi_target_is_all_or_nothing_on_enomem_but_not_on_can_attach() {
    let body = "hierarchy h1 cpu\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\nfork 1 2\nfork 1 3\nmigrate-task 3 h2:/x\n";
    let (w, o, _) = run(
        &FourStage,
        &format!("{body}migrate-multi h1:/a 2 3 fail-alloc=5\n"),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert!(
        has(&w, o, "task 2: live, linked, in {h1:/ h2:/}"),
        "nothing moved"
    );
    assert_clean(&w, o);
    let (w, o, _) = run(
        &FourStage,
        &format!("{body}migrate-multi h1:/a 2 3 fail-can-attach=cpu:2:EPERM\n"),
    );
    assert_eq!(o, Outcome::Err(Errno::EPERM));
    assert!(
        has(&w, o, "task 2: live, linked, in {h1:/a h2:/}"),
        "the first target moved"
    );
    assert!(has(&w, o, "task 3: live, linked, in {h1:/ h2:/x}"));
    assert_clean(&w, o);
}

#[test]
fn four_stage_transfer_is_all_or_nothing_on_enomem() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/transfer-enomem.case"
    ))
    .unwrap();
    let (w, o, steps) = run(&FourStage, &text.replace("cgdiff-case v1\n", ""));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(count(&steps, |s| matches!(s, Step::TransferNext(_))), 0);
    assert!(has(&w, o, "task 3: live, linked, in {h1:/from h2:/x}"));
    assert_clean(&w, o);
}

#[test]
fn transfer_hangs_in_both_models_on_an_exiting_first_task() {
    for d in BOTH {
        let (w, o, steps) = run(
            d,
            "hierarchy h1 -\nmkdir h1:/a\nfork 1 2\nexit-begin 2\ntransfer-tasks h1:/ h1:/a\n",
        );
        assert_eq!(o, Outcome::Hang, "{}", d.name());
        assert!(steps.contains(&Step::Hang));
        assert_ne!(check_invariants(&w, o) & Invariant::Bound.bit(), 0);
    }
}

// ---------------------------------------------------------------- §6 controllers, attach_task_all

#[test]
fn memory_charge_move_only_when_the_first_task_leads_its_group() {
    for d in BOTH {
        // A failing later can_attach cancels memory's, which clears whatever it started.
        let (w, o, _) = run(d, "hierarchy h1 memory,blkio\nmkdir h1:/a\nfork 1 2\nthread 2 3\nmigrate-task 3 h1:/a fail-can-attach=blkio:1:EINVAL\n");
        assert_eq!(o, Outcome::Err(Errno::EINVAL));
        assert!(w.charge_move.is_none(), "{}", d.name());
        let ev = Snapshot::of(&w, o).events;
        assert_eq!(
            ev.last().unwrap(),
            "memory.cancel_attach(h1:/a) taskset [3]"
        );
        // A leader first: the move starts at can_attach and is over after attach.
        let (w, o, _) = run(
            d,
            "hierarchy h1 memory,freezer\nmkdir h1:/a\nmigrate-task 1 h1:/a\n",
        );
        assert!(w.charge_move.is_none());
        assert_eq!(
            Snapshot::of(&w, o).events,
            vec![
                "memory.can_attach(h1:/a) taskset [1]",
                "memory.attach(h1:/a) taskset [1]",
                "freezer.attach(h1:/a) taskset [1]",
            ]
        );
        // A failing memory can_attach clears the move itself.
        let (w, o, _) = run(d, "hierarchy h1 memory\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-can-attach=memory:1:EBUSY\n");
        assert!(w.charge_move.is_none());
        assert_clean(&w, o);
    }
    // Whether can_attach starts a move at all is seen where nothing clears it afterwards:
    // legacy's ENOMEM after can_attach skips cancel_attach (step 4), so a started move stays.
    // The mm-owner test (`controllers::can_attach`) is shared by both designs; a thread that
    // is not its group's leader starts none, its leader does.
    let body = "hierarchy h1 cpuset,memory\nmkdir h1:/a\nfork 1 2\nthread 2 3\n";
    let (w, o, _) = run(
        &Legacy,
        &format!("{body}migrate-task 3 h1:/a fail-alloc=1\n"),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(w.charge_move, None, "a non-leader started a charge move");
    let (w, o, _) = run(
        &Legacy,
        &format!("{body}migrate-task 2 h1:/a fail-alloc=1\n"),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert!(w.charge_move.is_some(), "the leader started no charge move");
}

#[test]
fn cpuacct_has_no_callbacks_and_cpu_no_cancel() {
    for d in BOTH {
        let (w, o, _) = run(
            d,
            "hierarchy h1 cpuacct\nmkdir h1:/a\nmigrate-task 1 h1:/a\n",
        );
        assert!(w.events.is_empty() && o == Outcome::Ok);
        let (w, o, _) = run(d, "hierarchy h1 cpu,blkio\nmkdir h1:/a\nmigrate-task 1 h1:/a fail-can-attach=blkio:1:EPERM\n");
        assert_eq!(o, Outcome::Err(Errno::EPERM));
        assert_eq!(
            w.events.len(),
            2,
            "cpu has no cancel_attach: {:?}",
            Snapshot::of(&w, o).events
        );
    }
}

#[test]
fn attach_task_all_attaches_per_hierarchy_in_order_and_stops_at_the_first_error() {
    for d in BOTH {
        let body = "hierarchy h1 cpu\nhierarchy h2 blkio\nmkdir h1:/a\nmkdir h2:/b\nfork 1 2\nmigrate-task 1 h1:/a\nmigrate-task 1 h2:/b\n";
        let (w, o, steps) = run(d, &format!("{body}attach-task-all 1 2\n"));
        assert_eq!(o, Outcome::Ok);
        let hiers: Vec<u8> = steps
            .iter()
            .filter_map(|s| match s {
                Step::AttachTaskAll { hier } => Some(*hier),
                _ => None,
            })
            .collect();
        assert_eq!(hiers, vec![1, 2]);
        assert!(has(&w, o, "task 2: live, linked, in {h1:/a h2:/b}"));
        let (w, o, _) = run(
            d,
            &format!("{body}attach-task-all 1 2 fail-can-attach=cpu:1:EINVAL\n"),
        );
        assert_eq!(o, Outcome::Err(Errno::EINVAL));
        assert!(
            has(&w, o, "task 2: live, linked, in {h1:/ h2:/}"),
            "stopped before h2"
        );
    }
}

trait ParsePath {
    fn parse_path(&self) -> cgdiff_engine::CgPath;
}

impl ParsePath for str {
    fn parse_path(&self) -> cgdiff_engine::CgPath {
        let text = format!("cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir {self}\n");
        match &format::parse(&text).unwrap().case.ops[0].op {
            cgdiff_engine::Op::Mkdir { path } => path.clone(),
            _ => unreachable!(),
        }
    }
}
