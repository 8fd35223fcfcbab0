//! Planted bugs: small, realistic mistakes that can be switched on in one model, one at a time,
//! to measure how quickly a bug finder notices them (`cgdiff bench power`, docs/benchmarks.md).
//!
//! Each [`Bug`] is one or two lines at the right place in the model code, guarded by
//! [`World::bug`](crate::world::World::bug). The *names* always exist so that the call sites
//! compile in every build; the *switch* exists only where it is compiled in:
//!
//! - with the crate feature `planted-bugs` (`cargo run --release --features planted-bugs --
//!   bench power`; the root crate forwards its feature of the same name), or
//! - in this crate's own unit tests (`cfg(test)`), which is how `cargo test --workspace` checks
//!   that every switch changes a verdict without enabling a cargo feature for the workspace.
//!
//! Without either, `World` has no `planted` field, [`World::bug`](crate::world::World::bug) is a
//! `const fn` returning `false` and every guarded line compiles away: the normal build is the
//! normal models. Why not a workspace crate that enables the feature for its tests: cargo unifies
//! the features of a package across every workspace member built together, so such a crate
//! would switch the feature on for the whole `cargo test --workspace` build, the CLI's included.

use serde::Serialize;

/// Whether planted bugs can be switched on in this build of the engine.
pub const COMPILED: bool = cfg!(any(test, feature = "planted-bugs"));

/// One planted bug. Four-stage bugs are planted in the four-stage world only, legacy bugs in
/// the legacy world only, even when the guarded line is in code both models share.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord, Serialize)]
pub enum Bug {
    /// `cgroup_migrate_finish` forgets the `put_css_set` of the last set on the list.
    FinishForgetsPut,
    /// `cgroup_migrate_finish` clears `mg_dst_cset` but not `mg_src_cgrp`.
    FinishKeepsSrcCgrp,
    /// `cgroup_migrate_finish` puts with `taskexit = true` (`put_css_set` for
    /// `put_css_set_locked(cset, false)`): a cgroup emptied by freeing an unused destination is
    /// marked releasable and queued for release.
    FinishPutsAsTaskExit,
    /// `cgroup_migrate_prepare_dst`, meeting a destination already gathered, forgets to drop
    /// the extra reference `find_css_set` took.
    PrepareDstKeepsDuplicateRef,
    /// `cgroup_migrate_prepare_dst`'s error path returns without releasing the destinations
    /// gathered so far (`cgroup_migrate_finish(&csets)` forgotten).
    PrepareDstErrorLeaksDsts,
    /// `cgroup_migrate_add_src` forgets the "already preloaded" check: a css_set shared by two
    /// targets is added (and referenced) twice.
    AddSrcSkipsPreloadedCheck,
    /// `cgroup_migrate_add_src` forgets the "already in the destination" check.
    AddSrcSkipsSameCgroupCheck,
    /// `cgroup_migrate` forgets to skip `PF_EXITING` tasks.
    MigrateIgnoresExiting,
    /// `cgroup_migrate` forgets to skip tasks whose css_set was not preloaded (those already in
    /// the destination): they reach the commit without a destination.
    MigrateIgnoresNotPreloaded,
    /// `out_cancel_attach` also calls `cancel_attach` of the controller whose `can_attach`
    /// failed (four-stage's migrate).
    CancelAlsoFailing,
    /// Four-stage `out_release_tset` puts the migrated tasks at the tail of `tasks`
    /// (`list_splice_tail_init` for `list_splice_init`).
    ReleaseSplicesTail,
    /// Four-stage `cgroup_transfer_tasks` keeps going after a failed `cgroup_migrate` and
    /// returns the last result.
    TransferContinuesAfterError,
    /// Four-stage multi-target migrate returns on a failed target without
    /// `cgroup_migrate_finish`: the preload references and marks stay.
    MultiErrorSkipsFinish,
    /// Legacy `out_release_tset` forgets to clear `mg_src_cgrp`.
    LegacyReleaseKeepsSrcCgrp,
    /// Legacy collection takes the source css_set's reference twice.
    LegacyCollectGetsTwice,
    /// Legacy step 1 calls the controllers' `can_attach` in reverse id order.
    LegacyCanAttachReversed,

    // ----- the deep tier: each needs a shape to come together before its line runs -----
    /// `cgroup_migrate_prepare_dst`'s error path puts only the destination it gathered last
    /// (`put_css_set(list_first_entry(&csets))` for `cgroup_migrate_finish(&csets)`).
    ///
    /// Shape: an allocation fault on the *k*-th destination of one migration with k ≥ 3
    /// (two destinations gathered before the one that fails): a thread group (or a transfer)
    /// whose sources map to three different destination css_sets, so sources that differ
    /// outside the destination's hierarchy (two mounted hierarchies at least).
    PrepareDstErrorReleasesNewestOnly,
    /// Four-stage multi-target migrate skips preloading a process target whose leader is no
    /// longer linked (`list_empty(&leader->cg_list)` taken for "the process is gone"), though
    /// its threads live on: they are then skipped as "not preloaded" and stay where they are.
    ///
    /// Shape: a zombie leader (exit finished while a thread lives) named as a process target of
    /// a `migrate-multi`, with a live thread on a css_set no other target preloads.
    MultiSkipsUnlinkedLeader,
    /// Four-stage `cgroup_transfer_tasks` skips source css_sets without tasks when it preloads
    /// (`if (list_empty(&cset->tasks)) continue;`). At rest the only linked css_set without
    /// tasks is `init_css_set` once pid 1 has left it, so the mistake only shows on a transfer
    /// from a hierarchy's root when `init_css_set` is empty: its destination is never looked
    /// up, which changes what the allocation fault hits (or whether anything is allocated).
    ///
    /// Shape: pid 1 (and every other task of `init_css_set`) moved out of a root, then a
    /// transfer from that root, with an allocation fault.
    TransferSkipsEmptySrc,
    /// `out_cancel_attach` stops after the first `cancel_attach` it calls (a `break` that
    /// belongs to the "is this the failing controller" test, placed after the call): the
    /// controllers after it that reserved something keep it (four-stage world; the line is in
    /// the shared controller code).
    ///
    /// Shape: a can_attach failure of the last controller after the others reserved: cpuset
    /// and memory (the two controllers with a `cancel_attach`) bound to one hierarchy with
    /// blkio (the only `can_attach` after both), and blkio's `can_attach` failing.
    CancelStopsAfterFirst,
    /// `cgroup_attach_task_all` keeps going after a hierarchy fails and returns the last result
    /// (four-stage world; the loop is shared code).
    ///
    /// Shape: `attach-task-all` over two mounted hierarchies at least, the task in another
    /// cgroup than `from` in two of them, and a fault failing the attach in one that is not
    /// the last.
    AttachTaskAllContinuesAfterError,
    /// `cgroup_rmdir` also checks the removed cgroup itself for release, not only its parent
    /// (four-stage world; rmdir is shared code). Only a cgroup marked releasable (a task
    /// migrated out of it, or exited from it) is then queued.
    ///
    /// Shape: notify_on_release, a task migrated into a cgroup and out again (or exited
    /// there), then an rmdir of that cgroup.
    RmdirChecksRemovedCgroup,
    /// Four-stage `cgroup_migrate` looks the destination up once, from the first task it
    /// collects, and queues that one on `tset.dst_csets` for every task: the attach callbacks
    /// then miss the tasks moving to other destinations.
    ///
    /// Shape: a thread group whose threads sit in css_sets that differ outside the destination's
    /// hierarchy (two mounted hierarchies at least), moved with `cgroup.procs`, with a
    /// controller that has an `attach` callback bound where it moves.
    MigrateQueuesFirstDstOnly,
    /// Legacy step 2's `-ENOMEM` jumps past `list_splice_init(&tset.dst_csets,
    /// &tset.src_csets)`: the destinations gathered before the failing one keep their
    /// references and stay on the list.
    ///
    /// Shape: an allocation fault on the *k*-th destination (k ≥ 2) of one legacy attach: two
    /// source css_sets with different destinations (they differ outside the destination's
    /// hierarchy), the second one's allocation failing.
    LegacyEnomemSkipsDstSplice,
}

/// The two tiers of planted bugs: `Shallow` ones show one or two operations after any case
/// that reaches their line; `Deep` ones need a particular shape to come together first.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize)]
pub enum Tier {
    Shallow,
    Deep,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Shallow => "shallow",
            Tier::Deep => "deep",
        }
    }

    pub fn from_name(s: &str) -> Option<Tier> {
        [Tier::Shallow, Tier::Deep]
            .into_iter()
            .find(|t| t.name() == s)
    }
}

impl Bug {
    pub const ALL: [Bug; 24] = [
        Bug::FinishForgetsPut,
        Bug::FinishKeepsSrcCgrp,
        Bug::FinishPutsAsTaskExit,
        Bug::PrepareDstKeepsDuplicateRef,
        Bug::PrepareDstErrorLeaksDsts,
        Bug::AddSrcSkipsPreloadedCheck,
        Bug::AddSrcSkipsSameCgroupCheck,
        Bug::MigrateIgnoresExiting,
        Bug::MigrateIgnoresNotPreloaded,
        Bug::CancelAlsoFailing,
        Bug::ReleaseSplicesTail,
        Bug::TransferContinuesAfterError,
        Bug::MultiErrorSkipsFinish,
        Bug::LegacyReleaseKeepsSrcCgrp,
        Bug::LegacyCollectGetsTwice,
        Bug::LegacyCanAttachReversed,
        Bug::PrepareDstErrorReleasesNewestOnly,
        Bug::MultiSkipsUnlinkedLeader,
        Bug::TransferSkipsEmptySrc,
        Bug::CancelStopsAfterFirst,
        Bug::AttachTaskAllContinuesAfterError,
        Bug::RmdirChecksRemovedCgroup,
        Bug::MigrateQueuesFirstDstOnly,
        Bug::LegacyEnomemSkipsDstSplice,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::FinishForgetsPut => "finish-forgets-put",
            Bug::FinishKeepsSrcCgrp => "finish-keeps-src-cgrp",
            Bug::FinishPutsAsTaskExit => "finish-puts-as-task-exit",
            Bug::PrepareDstKeepsDuplicateRef => "prepare-dst-keeps-duplicate-ref",
            Bug::PrepareDstErrorLeaksDsts => "prepare-dst-error-leaks-dsts",
            Bug::AddSrcSkipsPreloadedCheck => "add-src-skips-preloaded-check",
            Bug::AddSrcSkipsSameCgroupCheck => "add-src-skips-same-cgroup-check",
            Bug::MigrateIgnoresExiting => "migrate-ignores-exiting",
            Bug::MigrateIgnoresNotPreloaded => "migrate-ignores-not-preloaded",
            Bug::CancelAlsoFailing => "cancel-also-failing",
            Bug::ReleaseSplicesTail => "release-splices-tail",
            Bug::TransferContinuesAfterError => "transfer-continues-after-error",
            Bug::MultiErrorSkipsFinish => "multi-error-skips-finish",
            Bug::LegacyReleaseKeepsSrcCgrp => "legacy-release-keeps-src-cgrp",
            Bug::LegacyCollectGetsTwice => "legacy-collect-gets-twice",
            Bug::LegacyCanAttachReversed => "legacy-can-attach-reversed",
            Bug::PrepareDstErrorReleasesNewestOnly => "prepare-dst-error-releases-newest-only",
            Bug::MultiSkipsUnlinkedLeader => "multi-skips-unlinked-leader",
            Bug::TransferSkipsEmptySrc => "transfer-skips-empty-src",
            Bug::CancelStopsAfterFirst => "cancel-stops-after-first",
            Bug::AttachTaskAllContinuesAfterError => "attach-task-all-continues-after-error",
            Bug::RmdirChecksRemovedCgroup => "rmdir-checks-removed-cgroup",
            Bug::MigrateQueuesFirstDstOnly => "migrate-queues-first-dst-only",
            Bug::LegacyEnomemSkipsDstSplice => "legacy-enomem-skips-dst-splice",
        }
    }

    /// Which tier the bug belongs to.
    pub fn tier(self) -> Tier {
        if (self as usize) < Bug::PrepareDstErrorReleasesNewestOnly as usize {
            Tier::Shallow
        } else {
            Tier::Deep
        }
    }

    /// The bugs of one tier, in [`Bug::ALL`] order.
    pub fn of_tier(tier: Tier) -> impl Iterator<Item = Bug> {
        Bug::ALL.into_iter().filter(move |b| b.tier() == tier)
    }

    pub fn from_name(s: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == s)
    }

    /// The name of the design the bug is planted in (the oracle plants it in the world of the
    /// design of that name, whichever side of the pair it is on).
    pub fn design(self) -> &'static str {
        match self {
            Bug::LegacyReleaseKeepsSrcCgrp
            | Bug::LegacyCollectGetsTwice
            | Bug::LegacyCanAttachReversed
            | Bug::LegacyEnomemSkipsDstSplice => "legacy",
            _ => "four-stage",
        }
    }
}

/// What "a case shows the bug" means everywhere (`cgdiff bench power`'s finders, the
/// `differential` fuzz target's planted mode): its verdict with the bug planted (`planted`: the
/// first divergence, if any) differs from its verdict on the unmutated models (`clean`). A verdict is "agree" or "first
/// divergence at operation *i* with signature *s*"; two differ when one agrees and the other
/// does not, or *i* or *s* differ. `Some(n)`: the first `n` operations are enough to show it.
pub fn verdict_changed(
    clean: Option<&crate::oracle::Divergence>,
    planted: Option<&crate::oracle::Divergence>,
) -> Option<usize> {
    let (a, b) = (clean, planted);
    let same = match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.op_index == b.op_index && a.signature == b.signature,
        _ => false,
    };
    if same {
        return None;
    }
    Some(
        a.into_iter()
            .chain(b)
            .map(|d| d.op_index + 1)
            .max()
            .unwrap_or(0),
    )
}

impl std::fmt::Display for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    //! Every switch, on, changes the oracle's verdict on a hand-written case (so no switch is
    //! dead), and leaves the verdict of the same case alone when off.
    use super::*;
    use crate::oracle::{check, check_with_bug, Report};

    /// A verdict: agree, or the first divergent operation and its signature.
    type Key = Option<(usize, String)>;

    fn key(r: &Report) -> Key {
        r.verdict
            .divergence()
            .map(|d| (d.op_index, d.signature.clone()))
    }

    /// The case, its verdict without the bug, its verdict with it.
    fn verdicts(text: &str, bug: Bug) -> (Key, Key) {
        let case = crate::format::parse(text).expect("case parses").case;
        (key(&check(&case)), key(&check_with_bug(&case, bug)))
    }

    /// A hand-written case for each bug, as small as we could make it.
    fn case_for(bug: Bug) -> &'static str {
        match bug {
            // A plain move: the last preloaded set keeps a reference.
            Bug::FinishForgetsPut => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nmigrate-task 2 h1:/a\n"
            }
            // init_css_set is a source twice: the second add_src finds mg_src_cgrp still set.
            Bug::FinishKeepsSrcCgrp => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nfork 1 3\n\
                 migrate-task 2 h1:/a\nmigrate-task 3 h1:/a\n"
            }
            // Four-stage builds h1:/a's css_set for the exiting task, moves nothing, frees it:
            // h1:/a is empty again, and was never releasable.
            Bug::FinishPutsAsTaskExit => {
                "cgdiff-case v1\nhierarchy h1 - notify\nmkdir h1:/a\nfork 1 2\nexit-begin 2\n\
                 migrate-task 2 h1:/a\n"
            }
            // The second target fails in cpu's can_attach.
            Bug::MultiErrorSkipsFinish => {
                "cgdiff-case v1\nhierarchy h1 cpu\nmkdir h1:/a\nfork 1 2\nfork 1 3\n\
                 migrate-multi h1:/a 2 3 fail-can-attach=cpu:2:EINVAL\n"
            }
            // Threads 2 (on h1:/a) and 3 (on h1:/b) both map to h1:/c: a duplicate destination.
            Bug::PrepareDstKeepsDuplicateRef => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nmkdir h1:/b\nmkdir h1:/c\n\
                 fork 1 2\nthread 2 3\nmigrate-task 2 h1:/a\nmigrate-task 3 h1:/b\n\
                 migrate-process 2 h1:/c\n"
            }
            // Two sources that differ on h2, so two new destinations of 1 + 3 allocations
            // each; the second destination's first allocation (the 5th) fails.
            Bug::PrepareDstErrorLeaksDsts => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h1:/c\n\
                 mkdir h2:/x\nfork 1 2\nthread 2 3\nmigrate-task 2 h1:/a\nmigrate-task 3 h2:/x\n\
                 migrate-process 2 h1:/c fail-alloc=5\n"
            }
            // Two threads on one css_set: add_src sees it twice.
            Bug::AddSrcSkipsPreloadedCheck => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nthread 2 3\n\
                 migrate-process 2 h1:/a\n"
            }
            // pid 1 is already in h1:/.
            Bug::AddSrcSkipsSameCgroupCheck => {
                "cgdiff-case v1\nhierarchy h1 -\nmigrate-task 1 h1:/\n"
            }
            Bug::MigrateIgnoresExiting => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nthread 2 3\n\
                 exit-begin 3\nmigrate-process 2 h1:/a\n"
            }
            // Thread 3 is in h1:/a already; its leader is not.
            Bug::MigrateIgnoresNotPreloaded => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nthread 2 3\n\
                 migrate-task 3 h1:/a\nmigrate-process 2 h1:/a\n"
            }
            Bug::CancelAlsoFailing => {
                "cgdiff-case v1\nhierarchy h1 cpuset\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a fail-can-attach=cpuset:1:EINVAL\n"
            }
            // h1:/a already holds 2 when 3 joins it: head or tail of its css_set's tasks.
            Bug::ReleaseSplicesTail => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nfork 1 3\n\
                 migrate-task 2 h1:/a\nmigrate-task 3 h1:/a\n"
            }
            // The first migrate of the transfer fails in can_attach; the second would succeed.
            Bug::TransferContinuesAfterError => {
                "cgdiff-case v1\nhierarchy h1 cpu\nmkdir h1:/a\nmkdir h1:/b\nfork 1 2\nfork 1 3\n\
                 migrate-task 2 h1:/a\nmigrate-task 3 h1:/a\n\
                 transfer-tasks h1:/a h1:/b fail-can-attach=cpu:1:EINVAL\n"
            }
            Bug::LegacyReleaseKeepsSrcCgrp => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nfork 1 3\n\
                 migrate-task 2 h1:/a\nmigrate-task 3 h1:/a\n"
            }
            Bug::LegacyCollectGetsTwice => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\nmigrate-task 2 h1:/a\n"
            }
            Bug::LegacyCanAttachReversed => {
                "cgdiff-case v1\nhierarchy h1 cpuset,cpu\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a\n"
            }
            // The deep tier: each case brings its bug's shape together; `plain_case_for`
            // is the same case with one part of the shape missing.
            //
            // Threads 2, 3, 4 on three sets differing in h2: three new destinations of 1 + 3
            // allocations each; the third's first allocation (the 9th) fails.
            Bug::PrepareDstErrorReleasesNewestOnly => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 mkdir h2:/y\nfork 1 2\nthread 2 3\nthread 2 4\nmigrate-task 3 h2:/x\n\
                 migrate-task 4 h2:/y\nmigrate-process 2 h1:/a fail-alloc=9\n"
            }
            // Leader 2 is a zombie; its thread 3 lives on h1:/b; 4 is another process.
            Bug::MultiSkipsUnlinkedLeader => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nmkdir h1:/b\nfork 1 2\n\
                 thread 2 3\nfork 1 4\nmigrate-task 3 h1:/b\nexit-begin 2\nexit-finish 2\n\
                 migrate-multi h1:/a 4 p:3\n"
            }
            // pid 1 has left h1:/ so init_css_set is empty; transfer from the root.
            Bug::TransferSkipsEmptySrc => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nmkdir h1:/b\n\
                 migrate-task 1 h1:/a\ntransfer-tasks h1:/ h1:/b fail-alloc=1\n"
            }
            // cpuset and memory reserve, blkio fails: memory is never cancelled.
            Bug::CancelStopsAfterFirst => {
                "cgdiff-case v1\nhierarchy h1 cpuset,memory,blkio\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a fail-can-attach=blkio:1:EINVAL\n"
            }
            // pid 1 joins 2's cgroups in h1 (fails: first allocation) and h2.
            Bug::AttachTaskAllContinuesAfterError => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nmigrate-task 2 h1:/a\nmigrate-task 2 h2:/x\n\
                 attach-task-all 2 1 fail-alloc=1\n"
            }
            // 2 passes through h1:/a (marking it releasable), then h1:/a is removed.
            Bug::RmdirChecksRemovedCgroup => {
                "cgdiff-case v1\nhierarchy h1 - notify\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a\nmigrate-task 2 h1:/\nrmdir h1:/a\n"
            }
            // Threads 2 and 3 differ in h2; the process moves in h1, where cpu attaches.
            Bug::MigrateQueuesFirstDstOnly => {
                "cgdiff-case v1\nhierarchy h1 cpu\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nthread 2 3\nmigrate-task 3 h2:/x\nmigrate-process 2 h1:/a\n"
            }
            // Two sources differing in h2: two new destinations of 1 + 3 allocations; the
            // second's first allocation (the 5th) fails.
            Bug::LegacyEnomemSkipsDstSplice => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nthread 2 3\nmigrate-task 3 h2:/x\n\
                 migrate-process 2 h1:/a fail-alloc=5\n"
            }
        }
    }

    /// For a deep bug: its case with one part of the shape taken away. The switch must leave
    /// its verdict alone: the bug needs the whole shape, not just its line.
    fn plain_case_for(bug: Bug) -> &'static str {
        match bug {
            // Only two sources: the failing destination is the second.
            Bug::PrepareDstErrorReleasesNewestOnly => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nthread 2 3\nmigrate-task 3 h2:/x\n\
                 migrate-process 2 h1:/a fail-alloc=5\n"
            }
            // The leader is exiting but still linked.
            Bug::MultiSkipsUnlinkedLeader => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nmkdir h1:/b\nfork 1 2\n\
                 thread 2 3\nfork 1 4\nmigrate-task 3 h1:/b\nexit-begin 2\n\
                 migrate-multi h1:/a 4 p:3\n"
            }
            // pid 1 is still on init_css_set.
            Bug::TransferSkipsEmptySrc => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nmkdir h1:/b\n\
                 transfer-tasks h1:/ h1:/b fail-alloc=1\n"
            }
            // memory fails: only cpuset reserved before it.
            Bug::CancelStopsAfterFirst => {
                "cgdiff-case v1\nhierarchy h1 cpuset,memory,blkio\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a fail-can-attach=memory:1:EINVAL\n"
            }
            // One mounted hierarchy: nothing after the failing one.
            Bug::AttachTaskAllContinuesAfterError => {
                "cgdiff-case v1\nhierarchy h1 -\nmkdir h1:/a\nfork 1 2\n\
                 migrate-task 2 h1:/a\nattach-task-all 2 1 fail-alloc=1\n"
            }
            // h1:/a never held a task: not releasable.
            Bug::RmdirChecksRemovedCgroup => {
                "cgdiff-case v1\nhierarchy h1 - notify\nmkdir h1:/a\nfork 1 2\n\
                 rmdir h1:/a\n"
            }
            // Both threads on one css_set: one destination.
            Bug::MigrateQueuesFirstDstOnly => {
                "cgdiff-case v1\nhierarchy h1 cpu\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nthread 2 3\nmigrate-process 2 h1:/a\n"
            }
            // The first destination's allocation fails: nothing gathered before it.
            Bug::LegacyEnomemSkipsDstSplice => {
                "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nmkdir h1:/a\nmkdir h2:/x\n\
                 fork 1 2\nthread 2 3\nmigrate-task 3 h2:/x\n\
                 migrate-process 2 h1:/a fail-alloc=1\n"
            }
            _ => unreachable!("{bug} is not a deep bug"),
        }
    }

    #[test]
    fn every_planted_bug_changes_a_verdict() {
        for bug in Bug::ALL {
            let (clean, planted) = verdicts(case_for(bug), bug);
            assert_ne!(
                clean, planted,
                "{bug}: the switch changes nothing on its case"
            );
        }
    }

    /// What `bench power` and the `CGDIFF_FUZZ_CRASH=unlisted` builds rely on: a planted bug
    /// is a regression nobody has explained, so its divergence must land in the unlisted
    /// bucket — never filed as a known finding or an expected rule because it looks like one.
    #[test]
    fn every_planted_bug_lands_in_the_unlisted_bucket() {
        let mut wrong = Vec::new();
        for bug in Bug::ALL {
            let case = crate::format::parse(case_for(bug))
                .expect("case parses")
                .case;
            let r = check_with_bug(&case, bug);
            let Some(d) = r.verdict.divergence() else {
                // A bug that makes a known divergence go away (a finding "fixed" by mistake)
                // leaves nothing to bucket: the gate sees it as a fixed bucket instead.
                let clean = check(&case);
                let known = clean.verdict.divergence().is_some_and(|c| !c.unlisted());
                if !known {
                    wrong.push(format!("{bug}: agrees on its case"));
                }
                continue;
            };
            if !d.unlisted() {
                wrong.push(format!(
                    "{bug}: {} in bucket {}",
                    d.signature,
                    d.bucket.name()
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn deep_bugs_need_their_whole_shape() {
        let deep: Vec<Bug> = Bug::of_tier(Tier::Deep).collect();
        assert!(deep.len() >= 8, "the deep tier has {} bugs", deep.len());
        for bug in deep {
            let (clean, planted) = verdicts(plain_case_for(bug), bug);
            assert_eq!(
                clean, planted,
                "{bug}: the switch changes the verdict without the shape"
            );
        }
    }

    #[test]
    fn names_round_trip_and_name_their_model() {
        for bug in Bug::ALL {
            assert_eq!(
                bug.name().starts_with("legacy-"),
                bug.design() == "legacy",
                "{bug}"
            );
            assert_eq!(Bug::from_name(bug.name()), Some(bug));
        }
    }

    #[test]
    fn planted_models_never_panic_on_generated_cases() {
        // The bugs break the models' bookkeeping on purpose; the models must still answer
        // (warnings, invariants, hangs), never panic or loop: the bench runs millions of these.
        let mut buf = Vec::new();
        for bug in Bug::ALL {
            for seed in 0..100u64 {
                crate::gen::seeded_bytes(seed ^ 0x5eed, 1024, &mut buf);
                let case = crate::gen::from_bytes(&buf, 48);
                let _ = check_with_bug(&case, bug);
            }
        }
    }
}
