//! Scenario tests for the four-stage model, model.md §5: `cgroup_migrate_add_src`,
//! `cgroup_migrate_prepare_dst`, `cgroup_migrate`, `cgroup_migrate_finish`, and the callers
//! (`cgroup_attach_task`, multi-target migrate, `cgroup_transfer_tasks` of patch 5/5).
//! Every test runs on `FourStage`; a few run the same case on `Legacy` beside it to pin
//! where the two differ.

#[macro_use]
mod common;

use common::*;

const D: &dyn Design = &FourStage;

fn attach(dst: &str, w: &World, leader: Pid, threadgroup: bool) -> Step {
    attach_task_step(w, dst, leader, threadgroup)
}

fn migrate(leader: Pid) -> Step {
    Step::Migrate { leader }
}

// ------------------------------------------------------------------ add_src

#[test]
fn add_src_skips_a_set_already_in_dst_and_migrate_skips_its_tasks() {
    let s = setup(&[&[Cpu]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            thread(2, 3),
            migrate_task(2, "h1:/a"),
        ],
    );
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::AddSrcSameCgroup,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetFound,
            migrate(2),
            Step::MigrateSkipNotPreloaded(2),
            Step::MigrateCollect(3),
            Step::CanAttach(Cpu),
            Step::TaskMigrate(3),
            Step::Attach(Cpu),
            Step::ReleaseTset,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(
        events(&w),
        ["cpu.can_attach(h1:/a) [3]", "cpu.attach(h1:/a) [3]"]
    );
    assert_eq!(tasks(&w, &["h1:/a"]), [3, 2]);
    assert_eq!(refs(&w, &["h1:/a"]), 2);
    assert_eq!(refs(&w, &["h1:/"]), 2);
    assert_no_migration_state(&w);
    assert_clean(&w, o);
}

#[test]
fn add_src_skips_an_already_preloaded_set() {
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
    assert_eq!(
        flow(&w)[..6],
        [
            attach("h1:/a", &w, 2, true),
            Step::AddSrc,
            Step::AddSrcAlreadyPreloaded,
            Step::AddSrcAlreadyPreloaded,
            Step::PrepareDst,
            Step::FindCssSetCreated,
        ]
    );
    assert_eq!(count(&w, |s| matches!(s, Step::MigrateCollect(_))), 3);
    assert_eq!(w.allocs, 1 + 2, "one destination for one source");
    assert_eq!(tasks(&w, &["h1:/a"]), [2, 3, 4]);
    assert_clean(&w, o);
}

/// 9 already in h1:/a (so {a,/} exists), 2 on init_css_set, 3 in h2:/x.
fn preload_scene() -> World {
    scene(
        D,
        &setup(&[&[], &[]]),
        &[
            mkdir("h1:/a"),
            mkdir("h2:/x"),
            fork(1, 9),
            migrate_task(9, "h1:/a"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(3, "h2:/x"),
        ],
    )
}

#[test]
fn add_src_preloads_at_the_head_and_takes_a_reference() {
    // add_src(init) then add_src({/,x}): list_add makes the preload list [{/,x}, init], so
    // prepare_dst looks up {a,x} (created) before {a,/} (found). Tail order would be the
    // reverse.
    let mut w = preload_scene();
    let o = act(&mut w, D, migrate_multi("h1:/a", &[task(2), task(3)]));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            Step::MultiMigrate {
                dst: cg(&w, "h1:/a"),
                targets: 2
            },
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            migrate(2),
            Step::MigrateCollect(2),
            Step::TaskMigrate(2),
            Step::ReleaseTset,
            migrate(3),
            Step::MigrateCollect(3),
            Step::TaskMigrate(3),
            Step::ReleaseTset,
            Step::MigrateFinish,
        ]
    );
    // The preload reference keeps {/,x} alive after its last task left; finish frees it.
    let freed = pos(&w, |s| *s == Step::PutCssSetFree);
    assert!(freed > pos(&w, |s| *s == Step::MigrateFinish));
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 1);
    assert_eq!(find_cset(&w, &["h1:/", "h2:/x"]), None);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [2, 9]);
    assert_eq!(tasks(&w, &["h1:/a", "h2:/x"]), [3]);
    assert_eq!(refs(&w, &["h1:/", "h2:/"]), 2);
    assert_no_migration_state(&w);
    assert_clean(&w, o);
}

#[test]
fn add_src_does_not_skip_an_exiting_task() {
    // Thread 3 is exiting in {/,x}. add_src preloads its set anyway, prepare_dst builds
    // {a,x} for it (4 more allocations), migrate skips 3, finish frees the unused {a,x}.
    let s = setup(&[&[], &[]]);
    let ops = [
        mkdir("h1:/a"),
        mkdir("h2:/x"),
        fork(1, 2),
        thread(2, 3),
        migrate_task(3, "h2:/x"),
        exit_begin(3),
    ];
    let mut w = scene(D, &s, &ops);
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetCreated,
            Step::FindCssSetCreated,
            migrate(2),
            Step::MigrateCollect(2),
            Step::MigrateSkipExiting(3),
            Step::TaskMigrate(2),
            Step::ReleaseTset,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(w.allocs, 8);
    // Of the two destinations only {a,/} is used; {a,x} is freed at finish.
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 1);
    assert!(pos(&w, |s| *s == Step::PutCssSetFree) > pos(&w, |s| *s == Step::MigrateFinish));
    assert_eq!(find_cset(&w, &["h1:/a", "h2:/x"]), None);
    assert_eq!(tuple(&w, 3), ["h1:/", "h2:/x"]);
    assert_eq!(w.task(3).state, TaskState::Exiting);
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/"]);
    assert!(w.warnings.is_empty(), "the exiting task is never migrated");
    assert_clean(&w, o);

    // The allocation made for the exiting task's set can fail: four-stage returns ENOMEM
    // where legacy, which skipped the set, needs only 4 allocations (docs/findings.md F3).
    let mut w = scene(D, &s, &ops);
    let o = act(&mut w, D, migrate_process(2, "h1:/a").fail_alloc(1));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(tuple(&w, 2), ["h1:/", "h2:/"]);
    assert_clean(&w, o);
    let mut l = scene(&Legacy, &s, &ops);
    assert_eq!(
        act(&mut l, &Legacy, migrate_process(2, "h1:/a").fail_alloc(5)),
        Outcome::Ok
    );
    assert_eq!(l.allocs, 4);
    assert_eq!(count(&l, |s| *s == Step::LegacySkipExiting(3)), 1);
}

#[test]
fn add_src_preloads_a_zombie_leaders_init_css_set() {
    // Leader 2 is a zombie on init_css_set, thread 3 lives in h1:/b: the process write
    // preloads init_css_set for the zombie too and looks its destination up.
    let s = setup(&[&[]]);
    let mut w = scene(
        D,
        &s,
        &[
            mkdir("h1:/a"),
            mkdir("h1:/b"),
            fork(1, 2),
            thread(2, 3),
            migrate_process(2, "h1:/b"),
            exit_begin(2),
            exit_finish(2),
        ],
    );
    let o = act(&mut w, D, migrate_process(3, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            // {b} and init_css_set both map to {a}
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            Step::PrepareDstDuplicate,
            migrate(2),
            Step::MigrateSkipExiting(2),
            Step::MigrateCollect(3),
            Step::TaskMigrate(3),
            Step::ReleaseTset,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(tuple(&w, 3), ["h1:/a"]);
    assert_eq!(w.task(2).state, TaskState::Zombie);
    assert_clean(&w, o);
}

// ------------------------------------------------------------------ prepare_dst

/// 2 on init_css_set, its thread 3 in h2:/x: two sources, preloaded as [{/,x}, init].
fn two_source_ops() -> Vec<CaseOp> {
    vec![
        mkdir("h1:/a"),
        mkdir("h2:/x"),
        fork(1, 2),
        thread(2, 3),
        migrate_task(3, "h2:/x"),
    ]
}

#[test]
fn prepare_dst_enomem_releases_the_destinations_gathered_so_far() {
    let s = setup(&[&[Cpuset, Memory], &[]]);
    // {a,x} takes allocations 1-4, {a,/} 5-8: every one of them can fail.
    for n in 1..=8u32 {
        let mut w = scene(D, &s, &two_source_ops());
        let before = (inventory(&w), all_links(&w));
        let o = act(&mut w, D, migrate_process(2, "h1:/a").fail_alloc(n));
        assert_eq!(o, Outcome::Err(Errno::ENOMEM), "allocation #{n}");
        let mut want = vec![
            attach("h1:/a", &w, 2, true),
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
        ];
        if n > 4 {
            want.push(Step::FindCssSetCreated);
        }
        want.extend([
            Step::AllocFailed(n as u8),
            Step::FindCssSetEnomem,
            Step::PrepareDstEnomem,
            // err: cgroup_migrate_finish(&csets), then the caller's finish.
            Step::MigrateFinish,
            Step::MigrateFinish,
        ]);
        assert_eq!(flow(&w), want, "allocation #{n}");
        assert_eq!(
            count(&w, |s| *s == Step::PutCssSetFree),
            usize::from(n > 4),
            "the gathered {{a,x}} is freed"
        );
        assert_eq!(events(&w), Vec::<String>::new(), "no callback at all");
        assert_eq!((inventory(&w), all_links(&w)), before, "no leak");
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
        assert_eq!(w.charge_move, None);
        assert_no_migration_state(&w);
        assert_clean(&w, o);
    }
    let (w, o) = run(
        D,
        &s,
        &[
            two_source_ops(),
            vec![migrate_process(2, "h1:/a").fail_alloc(9)],
        ]
        .concat(),
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 8);
}

#[test]
fn prepare_dst_enomem_drops_the_reference_on_a_found_destination() {
    // 9 is in {a,x}: 3's destination is found (a reference taken), then 2's {a,/} fails.
    let s = setup(&[&[], &[]]);
    let ops = [
        two_source_ops(),
        vec![
            fork(1, 9),
            migrate_task(9, "h2:/x"),
            migrate_task(9, "h1:/a"),
        ],
    ]
    .concat();
    let mut w = scene(D, &s, &ops);
    assert_eq!(refs(&w, &["h1:/a", "h2:/x"]), 1);
    let before = (inventory(&w), all_links(&w));
    let o = act(&mut w, D, migrate_process(2, "h1:/a").fail_alloc(1));
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(
        flow(&w),
        [
            attach("h1:/a", &w, 2, true),
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetFound,
            Step::AllocFailed(1),
            Step::FindCssSetEnomem,
            Step::PrepareDstEnomem,
            Step::MigrateFinish,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(refs(&w, &["h1:/a", "h2:/x"]), 1);
    assert_eq!((inventory(&w), all_links(&w)), before);
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 0);
    assert_clean(&w, o);
}

#[test]
fn prepare_dst_collects_a_duplicate_destination_once() {
    // 2 in {/,x}, 3 in {b,x}: both map to {a,x}. Preloaded [{b,x}, {/,x}].
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
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetCreated,
            Step::FindCssSetFound,
            Step::PrepareDstDuplicate,
            migrate(2),
            Step::MigrateCollect(2),
            Step::MigrateCollect(3),
            // the taskset's sources are in order of last use: {b,x} (3) first
            Step::TaskMigrate(3),
            Step::TaskMigrate(2),
            Step::ReleaseTset,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(w.allocs, 4);
    assert_eq!(
        refs(&w, &["h1:/a", "h2:/x"]),
        2,
        "the extra reference was dropped"
    );
    assert_eq!(tasks(&w, &["h1:/a", "h2:/x"]), [2, 3]);
    assert_eq!(count(&w, |s| *s == Step::PutCssSetFree), 2);
    assert_no_migration_state(&w);
    assert_clean(&w, o);
}

// ------------------------------------------------------------------ migrate

#[test]
fn migrate_never_allocates() {
    // Everything migrate needs was found by prepare_dst: an allocation fault cannot fire.
    let (w, o) = run(
        D,
        &setup(&[&[Cpu]]),
        &[
            mkdir("h1:/a"),
            fork(1, 2),
            fork(1, 3),
            migrate_task(3, "h1:/a"),
            migrate_process(2, "h1:/a").fail_alloc(1),
        ],
    );
    assert_eq!(o, Outcome::Ok);
    assert_eq!(w.allocs, 0);
    assert_eq!(tuple(&w, 2), ["h1:/a"]);
    // And after the Migrate step no css_set is looked up in any case.
    let mut w = scene(D, &setup(&[&[], &[]]), &two_source_ops());
    act(&mut w, D, migrate_process(2, "h1:/a"));
    let m = pos(&w, |s| matches!(s, Step::Migrate { .. }));
    assert!(!steps(&w)[m..].iter().any(|s| matches!(
        s,
        Step::FindCssSetCreated
            | Step::FindCssSetFound
            | Step::FindCssSetEnomem
            | Step::AllocFailed(_)
    )));
}

#[test]
fn migrate_collects_with_list_move_so_the_taskset_is_in_order_of_last_use() {
    // Group 2 = {2 on init, 3 in {/,x}, 4 on init}: collection moves init to the head of the
    // source list again for 4, so the taskset walks init first. (Legacy list_adds on first
    // sight: {/,x} would be first; docs/findings.md F4.)
    let s = setup(&[&[Cpuset], &[]]);
    let ops = [
        mkdir("h1:/a"),
        mkdir("h2:/x"),
        fork(1, 2),
        thread(2, 3),
        thread(2, 4),
        migrate_task(3, "h2:/x"),
    ];
    let mut w = scene(D, &s, &ops);
    let o = act(&mut w, D, migrate_process(2, "h1:/a"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        events(&w),
        [
            "cpuset.can_attach(h1:/a) [4 2 3]",
            "cpuset.attach(h1:/a) [2 4 3]",
        ]
    );
    assert_eq!(tasks(&w, &["h1:/a", "h2:/"]), [2, 4]);
    assert_clean(&w, o);
    let (l, _) = run(
        &Legacy,
        &s,
        &[ops.to_vec(), vec![migrate_process(2, "h1:/a")]].concat(),
    );
    assert_eq!(
        events(&l),
        [
            "cpuset.can_attach(h1:/a) [3 4 2]",
            "cpuset.attach(h1:/a) [2 4 3]",
        ]
    );
}

#[test]
fn migrate_can_attach_failure_cancels_the_earlier_controllers() {
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
        // The destination prepare_dst built is freed by finish.
        let f = flow(&w);
        assert_eq!(f[f.len() - 2..], [Step::ReleaseTset, Step::MigrateFinish]);
        assert_eq!(count(&w, |s| *s == Step::FindCssSetCreated), 1);
        assert!(pos(&w, |s| *s == Step::PutCssSetFree) > pos(&w, |s| *s == Step::MigrateFinish));
        assert_eq!(count(&w, |s| matches!(s, Step::TaskMigrate(_))), 0);
        assert_eq!(tuple(&w, 2), ["h1:/"]);
        assert_eq!((inventory(&w), all_links(&w)), before);
        assert_eq!(attach_in_progress(&w, "h1:/a"), 0);
        assert_eq!(w.charge_move, None);
        assert_clean(&w, o);
    }
}

// ------------------------------------------------------------------ finish

#[test]
fn finish_clears_everything_on_every_path() {
    let s = setup(&[&[Cpuset, Memory], &[]]);
    let base = two_source_ops();
    let paths: Vec<(&str, CaseOp, Outcome, usize)> = vec![
        ("commit", migrate_process(2, "h1:/a"), Outcome::Ok, 1),
        (
            "nothing to migrate",
            migrate_task(2, "h1:/"),
            Outcome::Ok,
            1,
        ),
        (
            "prepare_dst ENOMEM",
            migrate_process(2, "h1:/a").fail_alloc(6),
            Outcome::Err(Errno::ENOMEM),
            2,
        ),
        (
            "can_attach error",
            migrate_process(2, "h1:/a").fail_can_attach(Memory, 1, Errno::EBUSY),
            Outcome::Err(Errno::EBUSY),
            1,
        ),
    ];
    for (what, op, want, finishes) in paths {
        let mut w = scene(D, &s, &base);
        let o = act(&mut w, D, op);
        assert_eq!(o, want, "{what}");
        assert_eq!(flow(&w).last(), Some(&Step::MigrateFinish), "{what}");
        assert_eq!(count(&w, |s| *s == Step::MigrateFinish), finishes, "{what}");
        assert_no_migration_state(&w);
        assert_clean(&w, o);
    }
    // The nothing-to-migrate path in full: add_src skipped the only set, migrate found
    // nothing preloaded, and no callback ran.
    let mut w = scene(D, &s, &base);
    act(&mut w, D, migrate_task(2, "h1:/"));
    assert_eq!(
        steps(&w),
        [
            attach("h1:/", &w, 2, false),
            Step::AddSrcSameCgroup,
            Step::PrepareDst,
            migrate(2),
            Step::MigrateSkipNotPreloaded(2),
            Step::NothingToMigrate,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(events(&w), Vec::<String>::new());
}

// ------------------------------------------------------------------ multi-target

/// h1 binds cpu; 2 on init_css_set, 3 in h2:/x.
fn multi_ops() -> Vec<CaseOp> {
    vec![
        mkdir("h1:/a"),
        mkdir("h2:/x"),
        fork(1, 2),
        fork(1, 3),
        migrate_task(3, "h2:/x"),
    ]
}

#[test]
fn multi_target_allocation_failure_moves_nothing() {
    let s = setup(&[&[Cpu], &[]]);
    // Preloaded [{/,x}, init]: {a,x} takes allocations 1-4, {a,/} 5-8.
    for n in 1..=8u32 {
        let mut w = scene(D, &s, &multi_ops());
        let before = (inventory(&w), all_links(&w));
        let o = act(
            &mut w,
            D,
            migrate_multi("h1:/a", &[task(2), task(3)]).fail_alloc(n),
        );
        assert_eq!(o, Outcome::Err(Errno::ENOMEM), "allocation #{n}");
        assert_eq!(count(&w, |s| matches!(s, Step::Migrate { .. })), 0);
        assert_eq!(events(&w), Vec::<String>::new());
        assert_eq!((inventory(&w), all_links(&w)), before, "allocation #{n}");
        assert_clean(&w, o);
    }
    // The same fault in legacy: target 2 ({a,/}, allocations 1-4) has moved when target 3
    // fails (the patch's stated purpose; rule all-or-nothing-on-enomem).
    let (l, o) = run(
        &Legacy,
        &s,
        &[
            multi_ops(),
            vec![migrate_multi("h1:/a", &[task(2), task(3)]).fail_alloc(5)],
        ]
        .concat(),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOMEM));
    assert_eq!(tuple(&l, 2), ["h1:/a", "h2:/"]);
}

#[test]
fn multi_target_can_attach_failure_on_the_second_target_leaves_the_first_moved() {
    let s = setup(&[&[Cpu], &[]]);
    let mut w = scene(D, &s, &multi_ops());
    let o = act(
        &mut w,
        D,
        migrate_multi("h1:/a", &[task(2), task(3)]).fail_can_attach(Cpu, 2, Errno::EPERM),
    );
    assert_eq!(o, Outcome::Err(Errno::EPERM));
    assert_eq!(tuple(&w, 2), ["h1:/a", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/", "h2:/x"]);
    assert_eq!(
        events(&w),
        [
            "cpu.can_attach(h1:/a) [2]",
            "cpu.attach(h1:/a) [2]",
            "cpu.can_attach(h1:/a) [3] -> EPERM",
        ]
    );
    assert_eq!(count(&w, |s| matches!(s, Step::Migrate { .. })), 2);
    assert_eq!(count(&w, |s| *s == Step::MigrateFinish), 1);
    // 3's unused destination {a,x} is freed by finish.
    assert_eq!(find_cset(&w, &["h1:/a", "h2:/x"]), None);
    assert_clean(&w, o);

    // Failing on the first target: nothing moves and the second is never migrated.
    let mut w = scene(D, &s, &multi_ops());
    let o = act(
        &mut w,
        D,
        migrate_multi("h1:/a", &[task(2), task(3)]).fail_can_attach(Cpu, 1, Errno::EINVAL),
    );
    assert_eq!(o, Outcome::Err(Errno::EINVAL));
    assert_eq!(count(&w, |s| matches!(s, Step::Migrate { .. })), 1);
    assert_eq!(tuple(&w, 2), ["h1:/", "h2:/"]);
    assert_clean(&w, o);
}

// ------------------------------------------------------------------ transfer_tasks

/// h1:/f holds 2 in {f,/} and 3 in {f,x} ({f,x} newer, so first on f's cset_links).
fn transfer_ops() -> Vec<CaseOp> {
    vec![
        mkdir("h1:/f"),
        mkdir("h1:/t"),
        mkdir("h2:/x"),
        fork(1, 2),
        fork(1, 3),
        migrate_task(2, "h1:/f"),
        migrate_task(3, "h2:/x"),
        migrate_task(3, "h1:/f"),
    ]
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
fn transfer_prepares_every_source_once_then_migrates_task_by_task() {
    let s = setup(&[&[], &[]]);
    let mut w = scene(D, &s, &transfer_ops());
    let o = act(&mut w, D, transfer("h1:/f", "h1:/t"));
    assert_eq!(o, Outcome::Ok);
    assert_eq!(
        flow(&w),
        [
            Step::CgroupTransferTasks {
                to: cg(&w, "h1:/t"),
                from: cg(&w, "h1:/f")
            },
            // f's links are [{f,x}, {f,/}]; preloaded [{f,/}, {f,x}]
            Step::AddSrc,
            Step::AddSrc,
            Step::PrepareDst,
            Step::FindCssSetCreated,
            Step::FindCssSetCreated,
            Step::TransferNext(3),
            migrate(3),
            Step::MigrateCollect(3),
            Step::TaskMigrate(3),
            Step::ReleaseTset,
            Step::TransferNext(2),
            migrate(2),
            Step::MigrateCollect(2),
            Step::TaskMigrate(2),
            Step::ReleaseTset,
            Step::TransferEmpty,
            Step::MigrateFinish,
        ]
    );
    assert_eq!(w.allocs, 8);
    assert_eq!(tuple(&w, 2), ["h1:/t", "h2:/"]);
    assert_eq!(tuple(&w, 3), ["h1:/t", "h2:/x"]);
    // Destinations created in preload order ({t,/} first), each at the head: {t,x} ends
    // first (legacy, creating one attach at a time, ends with {t,/} first).
    assert_eq!(
        links(&w, "h1:/t"),
        vec![vec!["h1:/t", "h2:/x"], vec!["h1:/t", "h2:/"]]
    );
    assert_eq!(links(&w, "h1:/f"), Vec::<Vec<String>>::new());
    assert_clean(&w, o);
}

#[test]
fn transfer_is_all_or_nothing_on_enomem() {
    let s = setup(&[&[], &[]]);
    for n in 1..=8u32 {
        let mut w = scene(D, &s, &transfer_ops());
        let before = (inventory(&w), all_links(&w));
        let o = act(&mut w, D, transfer("h1:/f", "h1:/t").fail_alloc(n));
        assert_eq!(o, Outcome::Err(Errno::ENOMEM), "allocation #{n}");
        assert_eq!(transfer_order(&w), Vec::<Pid>::new(), "no task taken");
        assert_eq!(tuple(&w, 2), ["h1:/f", "h2:/"]);
        assert_eq!(tuple(&w, 3), ["h1:/f", "h2:/x"]);
        assert_eq!((inventory(&w), all_links(&w)), before);
        assert_eq!(flow(&w).last(), Some(&Step::MigrateFinish));
        assert_clean(&w, o);
    }
}

#[test]
fn transfer_can_attach_failure_stops_after_the_tasks_already_moved() {
    // can_attach counts calls across the whole operation: the second migrate fails.
    let s = setup(&[&[Cpu], &[]]);
    let mut w = scene(D, &s, &transfer_ops());
    let o = act(
        &mut w,
        D,
        transfer("h1:/f", "h1:/t").fail_can_attach(Cpu, 2, Errno::ENOSPC),
    );
    assert_eq!(o, Outcome::Err(Errno::ENOSPC));
    assert_eq!(transfer_order(&w), [3, 2]);
    assert_eq!(tuple(&w, 3), ["h1:/t", "h2:/x"]);
    assert_eq!(tuple(&w, 2), ["h1:/f", "h2:/"]);
    assert_eq!(find_cset(&w, &["h1:/t", "h2:/"]), None, "freed by finish");
    assert_clean(&w, o);
}

#[test]
fn transfer_hangs_when_from_is_to() {
    let mut w = scene(
        D,
        &setup(&[&[]]),
        &[mkdir("h1:/a"), fork(1, 2), migrate_task(2, "h1:/a")],
    );
    let o = act(&mut w, D, transfer("h1:/a", "h1:/a"));
    assert_eq!(o, Outcome::Hang);
    // docs/model-notes.md: live tasks (here 1 and 2) + 2 rounds; the next one is the hang.
    let bound = 2 + 2;
    assert_eq!(hang_bound(2), bound);
    assert_eq!(transfer_order(&w), vec![2; bound + 1]);
    assert_eq!(count(&w, |s| *s == Step::AddSrcSameCgroup), 1);
    assert_eq!(count(&w, |s| *s == Step::MigrateSkipNotPreloaded(2)), bound);
    assert_eq!(steps(&w).last(), Some(&Step::Hang));
    // Nothing was preloaded, so nothing is left behind but the hang itself.
    assert_eq!(check_invariants(&w, o), Invariant::Bound.bit());
}

#[test]
fn transfer_hangs_on_an_exiting_first_task_without_reaching_finish() {
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
    let o = act(&mut w, D, transfer("h1:/a", "h1:/"));
    assert_eq!(o, Outcome::Hang);
    // live tasks (1, 2 and 3) + 2 rounds.
    let bound = 3 + 2;
    assert_eq!(hang_bound(3), bound);
    assert_eq!(transfer_order(&w), vec![2; bound + 1]);
    assert_eq!(count(&w, |s| *s == Step::MigrateSkipExiting(2)), bound);
    assert_eq!(count(&w, |s| *s == Step::MigrateFinish), 0);
    assert_eq!(tuple(&w, 3), ["h1:/a"]);
    // The preload references and list are still held where the kernel spins.
    assert_eq!(w.lists[CsetList::Preloaded as usize].len(), 2);
    assert_eq!(refs(&w, &["h1:/a"]), 2 + 1);
    assert_eq!(
        check_invariants(&w, o),
        bits(&[
            Invariant::Bound,
            Invariant::MigrationState,
            Invariant::Refcount
        ]),
        "{}",
        dump(&w, o)
    );
}
