//! Scenario tests for the legacy model, model.md §4: one test (or more) per numbered step of
//! `cgroup_attach_task` before the patch, then multi-target migrate and transfer_tasks as
//! loops of single attaches. Every test runs on `Legacy` only.

#[macro_use]
mod common;

use common::*;

const D: &dyn Design = &Legacy;

fn attach(dst: &str, w: &World, leader: Pid, threadgroup: bool) -> Step {
    attach_task_step(w, dst, leader, threadgroup)
}

/// h1 binds cpuset and memory, h2 is named; group 2 = {2, 3, 4, 5}: 3 already in h1:/a,
/// 4 in h2:/x, 5 exiting, 2 on init_css_set.
fn step1_scene(s: &Setup) -> World {
    scene(
        D,
        s,
        &[
            mkdir("h1:/a"),
            mkdir("h2:/x"),
            fork(1, 2),
            thread(2, 3),
            thread(2, 4),
            thread(2, 5),
            migrate_task(3, "h1:/a"),
            migrate_task(4, "h2:/x"),
            exit_begin(5),
        ],
    )
}

#[test]
fn the_whole_attach_step_by_step() {
    let mut w = step1_scene(&setup(&[&[Cpuset, Memory], &[]]));
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            // step 1, in thread-group order
            Step::LegacyNewSrc(2),
            Step::LegacyCollect(2),
            Step::LegacySkipInDst(3),
            Step::LegacyNewSrc(4),
            Step::LegacyCollect(4),
            Step::LegacySkipExiting(5),
            // step 3
            Step::CanAttach(Cpuset),
            Step::CanAttach(Memory),
            // step 4: the source list is {/,x} then init ({/,x} was list_add'ed last)
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            // step 5
            Step::TaskMigrate(4),
            Step::TaskMigrate(2),
            // step 6
            Step::Attach(Cpuset),
            Step::Attach(Memory),
            // step 7
            Step::ReleaseTset,
        ]
    );
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [4 2]",
            "memory.can_attach(h1:/a) [4 2]",
            "cpuset.attach(h1:/a) [2 4]",
            "memory.attach(h1:/a) [2 4]",
        ]
    );
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/a", "h2:/"]);
    assert_eq!(tuple(&w, 4), ["h1:/a", "h2:/x"]);
    assert_eq!(tuple(&w, 5), ["h1:/", "h2:/"]);
    assert_eq!(w.task(5).state, TaskState::Exiting);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [2, 3]);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/x"]), [4]);
    assert_eq!(tasks(&w, &["h1:/", "h2:/"]), [5, 1]);
    assert_eq!(refs(&w, &["h1:/a", "h2:/"]), 2);
    assert_eq!(refs(&w, &["h1:/a", "h2:/x"]), 1);
    assert_eq!(refs(&w, &["h1:/", "h2:/"]), 3);
    assert_eq!(find_cset(&w, &["h1:/", "h2:/x"]), None);
    assert_eq!(
        links(&w, "h1:/a"),
        vec![vec!["h1:/a", "h2:/x"], vec!["h1:/a", "h2:/"]]
    );
    assert_eq!(links(&w, "h2:/x"), vec![vec!["h1:/a", "h2:/x"]]);
    assert_eq!(w.allocs, 4);
    assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
    assert_eq!(w.charge_move, None);
    assert!(w.warnings.is_empty());
    assert_no_migration_state(&w);
    assert_clean(&w, o);
}

#[test]
fn step1_first_sight_takes_a_reference_and_list_adds_the_set() {
    let mut w = step1_scene(&setup(&[&[Cpuset, Memory], &[]]));
    act(&mut w, D, migrate_process(2, "h1:/a"));
    // The source list order shows in can_attach's taskset: {/,x}'s tasks first, so it was
    // added at the head after init_css_set.
    assert_eq!(events(&w)[0], "cpuset.can_attach(h1:/a) [4 2]");
    // The reference step 1 took keeps the emptied {/,x} alive through the commit (whose
    // put is not the last); only the release path's put frees it.
    let freed = pos(&w, |s| *s == Step::PutCssSetFree);
    assert!(freed > pos(&w, |s| *s == Step::ReleaseTset));
    assert!(freed > pos(&w, |s| *s == Step::TaskMigrate(4)));
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 1);

    // One first sight per css_set, however many of its tasks are collected.
    let (w, o) = run(
        D,
        &setup(&[&[]]),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            thread(2, 4),
            migrate_process(2, "h1:/a"),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(count(&w, |s| matches!(s, Step::LegacyNewSrc(_))), 1);
    assert_eq!(count(&w, |s| matches!(s, Step::LegacyCollect(_))), 3);
    assert_clean(&w, o);
}

#[test]
fn step1_tasks_go_to_the_head_of_mg_tasks() {
    // Group 2 = {2, 3, 4} and process 6, all on init_css_set: tasks [6 4 3 2 1].
    let s = setup(&[&[Cpuset, Memory]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            thread(2, 4),
            fork(1, 6),
        ],
    );
    assert_eq!(tasks(&w, &["h1:/"]), [6, 4, 3, 2, 1]);
    let o = act(
        &mut w,
        D,
        migrate_process(2, "h1:/a").fail_can_attach(Cpuset, 1, Errno::EINVAL),
    );
    assert_eq!(o, Outcome::Err(Errno::EINVAL));
    // Collected 2, 3, 4 with list_move: mg_tasks is [4 3 2], which is the taskset ...
    assert_eq!(events(&w), ["cpuset.can_attach(h1:/a) [4 3 2] -> EINVAL"]);
    // ... and the release path splices it back in front of what stayed on tasks.
    assert_eq!(tasks(&w, &["h1:/"]), [4, 3, 2, 6, 1]);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::LegacyNewSrc(2),
            Step::LegacyCollect(2),
            Step::LegacyCollect(3),
            Step::LegacyCollect(4),
            Step::CanAttachFailed(Cpuset, Errno::EINVAL),
            Step::ReleaseTset,
        ]
    );
    assert_eq!(refs(&w, &["h1:/"]), 1 + 5);
    assert_clean(&w, o);
}

#[test]
fn step2_nothing_collected_returns_zero_without_callbacks() {
    let s = setup(&[&[Cpuset, Memory]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            migrate_task(2, "h1:/a"),
            exit_begin(3),
        ],
    );
    let before = (inventory(&w), all_links(&w));
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        steps(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::LegacySkipInDst(2),
            Step::LegacySkipExiting(3),
            Step::NothingToMigrate,
        ]
    );
    assert_eq!(events(&w), Vec::<String>::new());
    assert_eq!((inventory(&w), all_links(&w)), before);
    assert_eq!(w.allocs, 0);
    assert_clean(&w, o);
}

#[test]
fn step3_can_attach_failure_cancels_only_the_earlier_controllers() {
    // Bound: cpuset, cpu, memory, blkio (all with can_attach); only cpuset and memory
    // have cancel_attach.
    let s = setup(&[&[Cpuset, Cpu, Memory, Blkio]]);
    let cases: [(Controller, Errno, &[&str]); 4] = [
        (
            Cpuset,
            Errno::EINVAL,
            &["cpuset.can_attach(h1:/a) [2] -> EINVAL"],
        ),
        (
            Cpu,
            Errno::ENOSPC,
            &[
                "cpuset.can_attach(h1:/a) [2]",
                "cpu.can_attach(h1:/a) [2] -> ENOSPC",
                "cpuset.cancel_attach(h1:/a) [2]",
            ],
        ),
        (
            Memory,
            Errno::EBUSY,
            &[
                "cpuset.can_attach(h1:/a) [2]",
                "cpu.can_attach(h1:/a) [2]",
                "memory.can_attach(h1:/a) [2] -> EBUSY",
                "cpuset.cancel_attach(h1:/a) [2]",
            ],
        ),
        (
            Blkio,
            Errno::EPERM,
            &[
                "cpuset.can_attach(h1:/a) [2]",
                "cpu.can_attach(h1:/a) [2]",
                "memory.can_attach(h1:/a) [2]",
                "blkio.can_attach(h1:/a) [2] -> EPERM",
                "cpuset.cancel_attach(h1:/a) [2]",
                "memory.cancel_attach(h1:/a) [2]",
            ],
        ),
    ];
    for (c, e, want) in cases {
        let mut w = scene(D, &s, &[mkdir("h1:/a"), fork(1, 2)]);
        let before = (inventory(&w), all_links(&w));
        let o = act(
            &mut w,
            D,
            migrate_process(2, "h1:/a").fail_can_attach(c, 1, e),
        );
        assert_eq!(o, Outcome::Err(e), "{c:?}");
        assert_eq!(events(&w), want, "{c:?}");
        // Step 3 comes before step 4: no destination was looked up; nothing moved.
        assert_eq!(
            count(&w, |s| matches!(
                s,
                Step::FindCssSetCreated | Step::FindCssSetFound
            )),
            0
        );
        assert_eq!(w.allocs, 0);
        assert_eq!(count(&w, |s| *s == Step::ReleaseTset), 1);
        assert_eq!(tuple(&w, 2), ["h1:/"]);
        assert_eq!((inventory(&w), all_links(&w)), before);
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
        assert_eq!(w.charge_move, None);
        assert_clean(&w, o);
    }
    // A fault on a later call than the operation makes never fires.
    let (w, o) = run(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            migrate_process(2, "h1:/a").fail_can_attach(Cpu, 2, Errno::EPERM),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(tuple(&w, 2), ["h1:/a"]);
}

#[test]
fn step4_enomem_skips_cancel_attach() {
    // The patch's `-` lines: find_css_set failing jumps to out_release_tset, past
    // out_cancel_attach. cpuset's attach_in_progress and memory's charge move are left
    // set; the invariant "controller state back to rest" fails (docs/findings.md F2).
    let s = setup(&[&[Cpuset, Memory]]);
    let mut w = scene(D, &s, &[mkdir("h1:/a"), fork(1, 2)]);
    let before = (inventory(&w), all_links(&w));
    let o = act(&mut w, D, migrate_process(2, "h1:/a").fail_alloc(1));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::LegacyNewSrc(2),
            Step::LegacyCollect(2),
            Step::CanAttach(Cpuset),
            Step::CanAttach(Memory),
            Step::AllocFailed(1),
            Step::FindCssSetEnomem,
            Step::LegacyEnomemNoCancel,
            Step::ReleaseTset,
        ]
    );
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [2]",
            "memory.can_attach(h1:/a) [2]"
        ]
    );
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1);
    assert_eq!(attach_in_progress(&w, "h1:/"), 0);
    assert_eq!(
        charge_move(&w),
        Some(("h1:/".to_string(), "h1:/a".to_string()))
    );
    assert_eq!(
        check_invariants(&w, o),
        Invariant::ControllerRest.bit(),
        "{}",
        dump(&w, o)
    );
    // Everything else is as it was.
    assert_eq!(tuple(&w, 2), ["h1:/"]);
    assert_eq!((inventory(&w), all_links(&w)), before);
    assert_no_migration_state(&w);
}

#[test]
fn step4_enomem_on_a_later_source_releases_the_destinations_found_so_far() {
    // Sources {/,x} (3, list_add'ed last so first) and init (2): {a,x} is created with
    // allocations 1-4, {a,/} fails at 5. The release path puts {a,x}: freed.
    let s = setup(&[&[Cpuset], &[]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h2:/x"),
            fork(1, 2),
            thread(2, 3),
            migrate_task(3, "h2:/x"),
        ],
    );
    let before = (inventory(&w), all_links(&w));
    let o = act(&mut w, D, migrate_process(2, "h1:/a").fail_alloc(5));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::LegacyNewSrc(2),
            Step::LegacyCollect(2),
            Step::LegacyNewSrc(3),
            Step::LegacyCollect(3),
            Step::CanAttach(Cpuset),
            Step::FindCssSetCreated,
            Step::AllocFailed(5),
            Step::FindCssSetEnomem,
            Step::LegacyEnomemNoCancel,
            Step::ReleaseTset,
        ]
    );
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 1);
    assert_eq!(find_cset(&w, &["h1:/a", "h2:/x"]), None);
    assert_eq!((inventory(&w), all_links(&w)), before);
    assert_eq!(events(&w), ["cpuset.can_attach(h1:/a) [3 2]"]);
    assert_eq!(attach_in_progress(&w, "h1:/a"), 1, "never cancelled");
    assert_eq!(check_invariants(&w, o), Invariant::ControllerRest.bit());
}

#[test]
fn step4_a_destination_found_twice_is_listed_once_and_its_extra_reference_dropped() {
    // 2 in {/,x}, 3 in {b,x}: both map to {a,x}.
    let s = setup(&[&[], &[]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            mkdir("h2:/x"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h2:/x"),
            migrate_task(3, "h1:/b"),
        ],
    );
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::LegacyNewSrc(2),
            Step::LegacyCollect(2),
            Step::LegacyNewSrc(3),
            Step::LegacyCollect(3),
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            Step::TaskMigrate(3),
            Step::TaskMigrate(2),
            Step::ReleaseTset,
        ]
    );
    assert_eq!(w.allocs, 4);
    assert_eq!(refs(&w, &["h1:/a", "h2:/x"]), 2, "one per task, no leak");
    assert_eq!(tasks(&w, &["h1:/a", "h2:/x"]), [2, 3]);
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 2);
    assert_clean(&w, o);
}

#[test]
fn step5_commit_walks_mg_tasks_and_splices_them_at_the_head_of_tasks() {
    // 9 is already in h1:/a; group 2 = {2, 3, 4} on init_css_set.
    let s = setup(&[&[Cpuset]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 9),
            migrate_task(9, "h1:/a"),
            fork(1, 2),
            thread(2, 3),
            thread(2, 4),
        ],
    );
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    let migrated: Vec<Step> = steps(&w)
        .into_iter()
        .filter(|s| matches!(s, Step::TaskMigrate(_)))
        .collect();
    assert_eq!(
        migrated,
        [
            Step::TaskMigrate(4),
            Step::TaskMigrate(3),
            Step::TaskMigrate(2)
        ],
        "mg_tasks is [4 3 2]"
    );
    // Each migrated task is list_move'd to the head of the destination's mg_tasks: [2 3 4],
    // which the release path puts in front of tasks.
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [4 3 2]",
            "cpuset.attach(h1:/a) [2 3 4]"
        ]
    );
    assert_eq!(tasks(&w, &["h1:/a"]), [2, 3, 4, 9]);
    assert_eq!(refs(&w, &["h1:/a"]), 4);
    assert_eq!(tasks(&w, &["h1:/"]), [1]);
    assert_clean(&w, o);
}

#[test]
fn step6_attach_in_id_order_with_the_destination_taskset() {
    let mut w = step1_scene(&setup(&[
        &[Blkio, Freezer, Memory, Cpuacct, Cpu, Cpuset],
        &[],
    ]));
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    // Destination list: {a,/} (found second, list_add'ed last) then {a,x}.
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [4 2]",
            "cpu.can_attach(h1:/a) [4 2]",
            "memory.can_attach(h1:/a) [4 2]",
            "blkio.can_attach(h1:/a) [4 2]",
            "cpuset.attach(h1:/a) [2 4]",
            "cpu.attach(h1:/a) [2 4]",
            "memory.attach(h1:/a) [2 4]",
            "freezer.attach(h1:/a) [2 4]",
        ]
    );
    let first_attach = pos(&w, |s| matches!(s, Step::Attach(_)));
    assert!(first_attach > pos(&w, |s| matches!(s, Step::TaskMigrate(_))));
    assert_clean(&w, o);
}

#[test]
fn step7_release_puts_every_css_set_in_list_order() {
    // 2 in h1:/b, 3 in h1:/c (notify): the source list is [{c}, {b}] behind the destination
    // list [{a}]; the release path puts them in that order, freeing c then b.
    let s = setup_notify(&[(&[], true)]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            mkdir("h1:/c"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h1:/b"),
            migrate_task(3, "h1:/c"),
        ],
    );
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(released(&w), ["h1:/c", "h1:/b"]);
    let release = pos(&w, |s| *s == Step::ReleaseTset);
    let tail: Vec<Step> = steps(&w)[release..].to_vec();
    assert_eq!(
        tail,
        [
            Step::ReleaseTset,
            Step::PutCssSetFree,
            Step::CheckForReleaseQueued,
            Step::PutCssSetFree,
            Step::CheckForReleaseQueued,
        ]
    );
    assert_eq!(refs(&w, &["h1:/a"]), 2);
    assert_eq!(tasks(&w, &["h1:/a"]), [2, 3]);
    assert_no_migration_state(&w);
    assert_clean(&w, o);
}

// ------------------------------------------------------------------ multi-target, transfer

/// h1 binds cpu; 2 and 4 on init_css_set, 3 in h2:/x.
fn multi_scene() -> World {
    scene(
        D,
        &setup(&[&[Cpu], &[]]),
        &[
            mkdir("h1:/a"),
            mkdir("h2:/x"),
            fork(1, 2),
            fork(1, 3),
            fork(1, 4),
            migrate_task(3, "h2:/x"),
        ],
    )
}

#[test]
fn multi_target_stops_at_the_first_error_leaving_earlier_targets_moved() {
    // Target 2 creates {a,/} with allocations 1-4; target 3's {a,x} fails at 5.
    let mut w = multi_scene();
    let o = act(
        &mut w,
        D,
        migrate_multi("h1:/a", &[task(2), task(3), task(4)]).fail_alloc(5),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(
        steps(&w)[0],
        Step::MultiMigrate {
            dst: cg(&w, "h1:/a"),
            targets: 3
        }
    );
    let attaches: Vec<Step> = steps(&w)
        .into_iter()
        .filter(|s| matches!(s, Step::CgroupAttachTask { .. }))
        .collect();
    assert_eq!(
        attaches,
        [attach("h1:/a", &w, 2, false), attach("h1:/a", &w, 3, false)],
        "target 4 is never tried"
    );
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/", "h2:/x"]);
    assert_eq!(tuple(&w, 4), ["h1:/", "h2:/"]);
    assert_eq!(
        events(&w),
        [
            "cpu.can_attach(h1:/a) [2]",
            "cpu.attach(h1:/a) [2]",
            "cpu.can_attach(h1:/a) [3]",
        ]
    );
    assert_clean(&w, o);

    // A can_attach failure on the second target: the same partial move.
    let mut w = multi_scene();
    let o = act(
        &mut w,
        D,
        migrate_multi("h1:/a", &[task(2), task(3), task(4)]).fail_can_attach(Cpu, 2, Errno::EPERM),
    );
    assert_eq!(o, Outcome::Err(Errno::EPERM));
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/", "h2:/x"]);
    assert_eq!(tuple(&w, 4), ["h1:/", "h2:/"]);
    assert_eq!(
        events(&w),
        [
            "cpu.can_attach(h1:/a) [2]",
            "cpu.attach(h1:/a) [2]",
            "cpu.can_attach(h1:/a) [3] -> EPERM",
        ]
    );
    assert_clean(&w, o);
}

#[test]
fn multi_target_with_processes_moves_each_group_in_turn() {
    let mut w = scene(
        D,
        &setup(&[&[]]),
        &[mkdir("h1:/a"), fork(1, 2), thread(2, 3), fork(1, 4)],
    );
    let o = act(&mut w, D, migrate_multi("h1:/a", &[process(3), task(4)]));
    assert_eq!(o, Outcome::Ok);
    // The group of 3 is attached from its leader.
    assert_eq!(steps(&w)[1], attach("h1:/a", &w, 2, true));
    // 2 and 3 moved first (spliced as [2 3]), then 4 in front of them.
    assert_eq!(tasks(&w, &["h1:/a"]), [4, 2, 3]);
    assert_clean(&w, o);
}

/// h1:/f holds 2 in {f,/} and 3 in {f,x} ({f,x} newer, so first on f's cset_links).
fn transfer_scene(d: &dyn Design) -> World {
    let w = scene(
        d,
        &setup(&[&[], &[]]),
        &[
            mkdir("h1:/f"),
            mkdir("h1:/t"),
            mkdir("h2:/x"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(2, "h1:/f"),
            migrate_task(3, "h2:/x"),
            migrate_task(3, "h1:/f"),
        ],
    );
    assert_eq!(
        links(&w, "h1:/f"),
        vec![vec!["h1:/f", "h2:/x"], vec!["h1:/f", "h2:/"]]
    );
    w
}

fn transfer_order(w: &World) -> Vec<Pid> {
    steps(w)
        .iter()
        .filter_map(|s| match s {
            Step::TransferNext(p) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn transfer_moves_the_first_task_one_attach_at_a_time() {
    let mut w = transfer_scene(D);
    let o = act(&mut w, D, transfer("h1:/f", "h1:/t"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(transfer_order(&w), [3, 2]);
    assert_eq!(steps(&w).last(), Some(&Step::TransferEmpty));
    assert_eq!(count(&w, |s| matches!(s, Step::CgroupAttachTask { .. })), 2);
    assert_eq!(tuple(&w, 2), ["h1:/t", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/t", "h2:/x"]);
    // Destinations created one attach at a time: {t,/} (second) ends first.
    assert_eq!(
        links(&w, "h1:/t"),
        vec![vec!["h1:/t", "h2:/"], vec!["h1:/t", "h2:/x"]]
    );
    assert_eq!(links(&w, "h1:/f"), Vec::<Vec<String>>::new());
    assert_clean(&w, o);
}

#[test]
fn transfer_leaves_a_partial_move_on_enomem() {
    // 3's destination {t,x} takes allocations 1-4; 2's {t,/} fails at 5.
    let mut w = transfer_scene(D);
    let o = act(&mut w, D, transfer("h1:/f", "h1:/t").fail_alloc(5));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(transfer_order(&w), [3, 2]);
    assert_eq!(tuple(&w, 3), ["h1:/t", "h2:/x"]);
    assert_eq!(tuple(&w, 2), ["h1:/f", "h2:/"]);
    assert_clean(&w, o);
}

#[test]
fn transfer_hangs_when_from_is_to() {
    let mut w = scene(
        D,
        &setup(&[&[]]),
        &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
    );
    let before = (inventory(&w), all_links(&w));
    let o = act(&mut w, D, transfer("h1:/a", "h1:/a"));
    assert_eq!(o, Outcome::Hang);
    // Each round the task is "already in dst": 0 without progress, live tasks + 2 rounds
    // allowed, the next one is the hang.
    // docs/model-notes.md: live tasks (here 1 and 2) + 2 rounds; the next one is the hang.
    let bound = 2 + 2;
    assert_eq!(hang_bound(2), bound);
    assert_eq!(transfer_order(&w), vec![2; bound + 1]);
    assert_eq!(count(&w, |s| *s == Step::LegacySkipInDst(2)), bound);
    assert_eq!(steps(&w).last(), Some(&Step::Hang));
    assert_eq!((inventory(&w), all_links(&w)), before);
    assert_eq!(check_invariants(&w, o), Invariant::Bound.bit());
}

#[test]
fn transfer_hangs_when_the_first_task_of_from_is_exiting() {
    // a's tasks are [2 3] with 2 exiting: 2 is skipped forever, 3 never moves.
    let mut w = scene(
        D,
        &setup(&[&[]]),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(3, "h1:/a"),
            migrate_task(2, "h1:/a"),
            exit_begin(2),
        ],
    );
    assert_eq!(tasks(&w, &["h1:/a"]), [2, 3]);
    let o = act(&mut w, D, transfer("h1:/a", "h1:/"));
    assert_eq!(o, Outcome::Hang);
    // live tasks (1, 2 and 3) + 2 rounds.
    let bound = 3 + 2;
    assert_eq!(hang_bound(3), bound);
    assert_eq!(transfer_order(&w), vec![2; bound + 1]);
    assert_eq!(count(&w, |s| *s == Step::LegacySkipExiting(2)), bound);
    assert_eq!(tuple(&w, 3), ["h1:/a"]);
    // Legacy hangs with a clean world: each round released everything it took.
    assert_eq!(check_invariants(&w, o), Invariant::Bound.bit());

    // With the exiting task behind a movable one, the first round moves 3, then it hangs.
    let mut w = scene(
        D,
        &setup(&[&[]]),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(2, "h1:/a"),
            migrate_task(3, "h1:/a"),
            exit_begin(2),
        ],
    );
    let o = act(&mut w, D, transfer("h1:/a", "h1:/"));
    assert_eq!(o, Outcome::Hang);
    assert_eq!(transfer_order(&w)[..2], [3, 2]);
    assert_eq!(tuple(&w, 3), ["h1:/"]);
}
