//! What is compared after every operation (model.md §8), in two forms: a [`Fingerprint`] of
//! cheap per-class hashes for the step loop, and a [`Snapshot`] a person can read, built only
//! when fingerprints differ or an invariant fails. Both name css_sets by their cgroup tuple,
//! never by slot, so two models that allocate in different orders still compare equal.

use crate::case::Controller;
use crate::models::Outcome;
use crate::trace::Warning;
use crate::world::{comb, mix, CgId, TaskList, TaskState, World, INIT_CSET};
use serde::Serialize;

/// One hash per divergence class. Placement, inventory and event multisets are combined with
/// wrapping addition so they do not depend on iteration order; `order` and `callback_order`
/// are the ordered versions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub result: u64,
    pub placement: u64,
    pub inventory: u64,
    pub order: u64,
    pub controller: u64,
    pub callbacks: u64,
    pub callback_order: u64,
    pub release: u64,
    /// Which cgroups are releasable (`CGRP_RELEASABLE`): compared as part of `release`.
    pub releasable: u64,
    pub warnings: u64,
}

fn outcome_code(o: Outcome) -> u64 {
    match o {
        Outcome::Ok => 0,
        Outcome::Err(e) => 1 + e as u64,
        Outcome::Hang => 1000,
    }
}

/// Ordered one-multiply combine for list hashes (the sums below get a full [`mix`]).
#[inline]
fn step(h: u64, x: u64) -> u64 {
    (h.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The invariants of model.md §8, one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Invariant {
    TaskLists = 0,
    Refcount = 1,
    Hash = 2,
    MigrationState = 3,
    Links = 4,
    ControllerRest = 5,
    Bound = 6,
    /// Nothing uses a freed css_set (a tombstone): no task points at one, no list or
    /// migration field names one, no reference was taken or dropped on one.
    Freed = 7,
    /// Every css_set a staged migration moves tasks into is pinned by that migration (on one
    /// of its preload lists, holding a reference) from `cgroup_migrate_prepare_dst` to
    /// `cgroup_migrate_finish`. Checked when prepare_dst succeeds.
    Pinned = 8,
    /// For a process (a `cgroup.procs` write), the taskset's first task is the group leader
    /// when the leader moves. A property of one design, not compared by the differential
    /// oracle (both seed designs break it): see [`Invariant::ORACLE`].
    LeaderFirst = 9,
}

impl Invariant {
    pub const ALL: [Invariant; 10] = [
        Invariant::TaskLists,
        Invariant::Refcount,
        Invariant::Hash,
        Invariant::MigrationState,
        Invariant::Links,
        Invariant::ControllerRest,
        Invariant::Bound,
        Invariant::Freed,
        Invariant::Pinned,
        Invariant::LeaderFirst,
    ];

    /// The invariants the differential oracle checks after every operation (every one but
    /// [`Invariant::LeaderFirst`], which the single-design check adds).
    pub const ORACLE: u16 = !(1 << Invariant::LeaderFirst as u16);

    pub fn describe(self) -> &'static str {
        match self {
            Invariant::TaskLists => {
                "each linked task is on exactly one css_set's tasks, the one it points at; no task is on an mg_tasks"
            }
            Invariant::Refcount => {
                "each css_set's refcount equals its linked tasks (+1 for init_css_set)"
            }
            Invariant::Hash => "no css_set with refcount 0 survives; one css_set per tuple",
            Invariant::MigrationState => "no migration field or migration list is left set",
            Invariant::Links => {
                "every css_set has one link per hierarchy and the cgroups' cset_links agree"
            }
            Invariant::ControllerRest => {
                "controller state is back to rest (no attach_in_progress, no charge move)"
            }
            Invariant::Bound => "the operation finished within its bound",
            Invariant::Freed => "no freed css_set is used (use-after-free)",
            Invariant::Pinned => {
                "every css_set a migration moves tasks into is pinned by it from prepare_dst to finish"
            }
            Invariant::LeaderFirst => {
                "for a process, the taskset's first task is the leader"
            }
        }
    }

    pub const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The invariant's short name (for single-design reports).
    pub fn name(self) -> &'static str {
        match self {
            Invariant::TaskLists => "task-lists",
            Invariant::Refcount => "refcount",
            Invariant::Hash => "hash",
            Invariant::MigrationState => "migration-state",
            Invariant::Links => "links",
            Invariant::ControllerRest => "controller-rest",
            Invariant::Bound => "bound",
            Invariant::Freed => "freed",
            Invariant::Pinned => "pinned",
            Invariant::LeaderFirst => "leader-first",
        }
    }
}

/// Fingerprint of a world after an operation that returned `outcome`.
pub fn fingerprint(w: &World, outcome: Outcome) -> Fingerprint {
    observe(w, outcome).0
}

/// Checks every invariant the oracle checks; returns the violated ones as [`Invariant::bit`]s.
pub fn check_invariants(w: &World, outcome: Outcome) -> u16 {
    observe(w, outcome).1
}

/// Every invariant and property of one design, [`Invariant::LeaderFirst`] included: what the
/// single-design check reads.
pub fn check_properties(w: &World, outcome: Outcome) -> u16 {
    observe(w, outcome).1 | w.violated
}

/// One pass over the world: the fingerprint and the violated invariants together, because the
/// step loop needs both after every operation. No allocation.
pub fn observe(w: &World, outcome: Outcome) -> (Fingerprint, u16) {
    let n = w.n_hiers();
    let mut fp = Fingerprint {
        result: mix(outcome_code(outcome)),
        ..Fingerprint::default()
    };
    let mut bad = w.violated & Invariant::ORACLE;
    if outcome == Outcome::Hang {
        bad |= Invariant::Bound.bit();
    }
    // Tasks: placement; linked tasks for the list invariant.
    let mut linked = 0usize;
    for (pid, t) in w.tasks.iter().enumerate() {
        match (t.state, t.cg_list) {
            (TaskState::Absent, None) => continue,
            (TaskState::Live | TaskState::Exiting, Some(_)) => linked += 1,
            (TaskState::Live | TaskState::Exiting, None)
            | (TaskState::Zombie | TaskState::Absent, Some(_)) => bad |= Invariant::TaskLists.bit(),
            _ => {}
        }
        if !t.exists() {
            continue;
        }
        let cs = &w.csets[t.cset as usize];
        if !cs.live {
            bad |= Invariant::Hash.bit() | Invariant::Freed.bit();
        }
        let packed = (pid as u64) << 8 | (t.state as u64) << 1 | t.cg_list.is_some() as u64;
        fp.placement = fp.placement.wrapping_add(mix(packed ^ cs.key));
    }
    // css_sets: inventory, list order, refcounts, migration leftovers, tuples.
    let mut order = 0u64;
    let mut on_lists = 0usize;
    let mut live = 0usize;
    for (id, c) in w.csets.iter().enumerate() {
        if !c.live {
            continue;
        }
        if c.mg_dst_cset.is_some_and(|d| !w.csets[d as usize].live) {
            bad |= Invariant::Freed.bit();
        }
        live += 1;
        let counts = (c.refcount as u64) << 32 | c.tasks.len() as u64;
        fp.inventory = fp.inventory.wrapping_add(mix(c.key ^ counts));
        let mut h = c.key;
        for &p in &c.tasks {
            h = step(h, u64::from(p));
            let t = &w.tasks[p as usize];
            if t.cg_list != Some((id as u16, TaskList::Tasks)) || t.cset as usize != id {
                bad |= Invariant::TaskLists.bit();
            }
        }
        for &p in &c.mg_tasks {
            h = step(h, u64::from(p));
        }
        order = order.wrapping_add(mix(h));
        if !c.mg_tasks.is_empty() {
            bad |= Invariant::TaskLists.bit();
        }
        on_lists += c.tasks.len();
        let base = (id as u16 == INIT_CSET) as i32;
        if c.refcount != c.tasks.len() as i32 + base {
            bad |= Invariant::Refcount.bit();
        }
        if c.refcount <= 0 {
            bad |= Invariant::Hash.bit();
        }
        if c.mg_src_cgrp.is_some()
            || c.mg_dst_cset.is_some()
            || c.mg_node.is_some()
            || c.mg_preload_node.is_some()
            || c.mg_dst_preload_node.is_some()
        {
            bad |= Invariant::MigrationState.bit();
        }
        for h in 0..n {
            let cg = &w.cgroups[c.cgrps[h] as usize];
            if cg.hier as usize != h || cg.removed {
                bad |= Invariant::Links.bit();
            }
        }
        for other in &w.csets[id + 1..] {
            if other.live && other.key == c.key && other.cgrps[..n] == c.cgrps[..n] {
                bad |= Invariant::Hash.bit();
            }
        }
    }
    if on_lists != linked {
        bad |= Invariant::TaskLists.bit();
    }
    if w.lists.iter().any(|l| !l.is_empty()) {
        bad |= Invariant::MigrationState.bit();
        if w.lists.iter().flatten().any(|&c| !w.csets[c as usize].live) {
            bad |= Invariant::Freed.bit();
        }
    }
    if w.warnings.contains(&Warning::UseAfterFree) {
        bad |= Invariant::Freed.bit();
    }
    // Cgroups: their link lists (as sets and in order), controller state; every link names a
    // live set whose tuple has that cgroup, no (set, hierarchy) pair twice, and as many links
    // as live sets × hierarchies: so the links are exactly the tuples.
    let mut links = 0usize;
    let mut seen_small = [0u8; 256];
    let mut seen_big = Vec::new();
    let seen: &mut [u8] = if w.csets.len() <= seen_small.len() {
        &mut seen_small
    } else {
        seen_big.resize(w.csets.len(), 0u8);
        &mut seen_big
    };
    let mut releasable = 0u64;
    for (id, cg) in w.cgroups.iter().enumerate() {
        links += cg.cset_links.len();
        // CGRP_RELEASABLE is printed in every snapshot, so it is compared too (class
        // `release`): a difference shows at the operation that made it.
        if cg.releasable && !cg.removed {
            releasable = releasable.wrapping_add(mix(id as u64 ^ 0x7265_6c65_6173_6162));
        }
        if cg.attach_in_progress != 0 {
            bad |= Invariant::ControllerRest.bit();
            fp.controller = fp
                .controller
                .wrapping_add(comb(id as u64, cg.attach_in_progress as u64));
        }
        if cg.cset_links.is_empty() {
            continue;
        }
        let salt = (id as u64 + 1).wrapping_mul(0xd6e8_feb8_6659_fd93);
        let (mut h, mut set) = (salt, 0u64);
        let hbit = 1u8 << cg.hier;
        for &c in &cg.cset_links {
            let cs = &w.csets[c as usize];
            set = set.wrapping_add(cs.key);
            h = step(h, cs.key);
            if !cs.live || cs.cgrps[cg.hier as usize] as usize != id || seen[c as usize] & hbit != 0
            {
                bad |= Invariant::Links.bit();
            }
            seen[c as usize] |= hbit;
        }
        fp.inventory = fp.inventory.wrapping_add(mix(set ^ salt));
        order = order.wrapping_add(mix(h));
    }
    if links != live * n {
        bad |= Invariant::Links.bit();
    }
    fp.order = order;
    if let Some((from, to)) = w.charge_move {
        bad |= Invariant::ControllerRest.bit();
        fp.controller = fp
            .controller
            .wrapping_add(comb(u64::from(from) + 1, u64::from(to)));
    }
    // This operation's callbacks, release notifications and warnings.
    let mut ordered = 0u64;
    for e in &w.events {
        let head = (e.controller as u64) << 8
            | (e.callback as u64) << 16
            | u64::from(e.dst) << 24
            | e.error.map_or(0, |x| x as u64 + 1) << 40;
        // The taskset as a multiset for `callbacks`, in order for `callback_order`.
        let mut set = 0u64;
        let mut h = head;
        let (a, b) = e.tasks;
        for &p in &w.event_pids[a as usize..b as usize] {
            set = set.wrapping_add(mix(u64::from(p)));
            h = step(h, u64::from(p));
        }
        fp.callbacks = fp.callbacks.wrapping_add(mix(head ^ set));
        ordered = step(ordered, h);
    }
    fp.callback_order = ordered;
    fp.releasable = releasable;
    fp.release = w
        .release_queued
        .iter()
        .fold(0, |h, &c| step(h, u64::from(c) + 1));
    fp.warnings = w.warnings.iter().fold(0, |h, &x| step(h, x as u64 + 1));
    (fp, bad)
}

/// A model's observation after an operation, for people: the text `cgdiff run`, `explain`
/// and the stored diffs show. One line per fact so that a line diff is a readable diff.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub result: String,
    pub tasks: Vec<String>,
    pub csets: Vec<String>,
    pub cgroups: Vec<String>,
    pub release: Vec<String>,
    pub controllers: Vec<String>,
    pub events: Vec<String>,
    pub warnings: Vec<String>,
    pub violations: Vec<String>,
}

/// The tuple of a css_set as the mounted hierarchies' paths (h0 is always its root).
pub fn tuple_text(w: &World, cgrps: &[CgId]) -> String {
    let parts: Vec<String> = cgrps[1..w.n_hiers()]
        .iter()
        .map(|&c| w.path(c).to_string())
        .collect();
    format!("{{{}}}", parts.join(" "))
}

fn pids(p: &[u32]) -> String {
    let v: Vec<String> = p.iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(" "))
}

impl Snapshot {
    pub fn of(w: &World, outcome: Outcome) -> Snapshot {
        let mut s = Snapshot {
            result: outcome.to_string(),
            ..Snapshot::default()
        };
        for (pid, t) in w.tasks.iter().enumerate() {
            if !t.exists() {
                continue;
            }
            let state = match t.state {
                TaskState::Live => "live",
                TaskState::Exiting => "exiting",
                TaskState::Zombie => "zombie",
                TaskState::Absent => "gone",
            };
            let linked = match t.cg_list {
                Some((_, TaskList::Tasks)) => "linked",
                Some((_, TaskList::MgTasks)) => "on mg_tasks",
                None => "unlinked",
            };
            let cs = &w.csets[t.cset as usize];
            s.tasks.push(format!(
                "task {pid}: {state}, {linked}, in {}{}",
                tuple_text(w, &cs.cgrps),
                if cs.live { "" } else { " (a FREED css_set)" }
            ));
        }
        let mut csets: Vec<String> = w
            .csets
            .iter()
            .filter(|c| c.live)
            .map(|c| {
                let mut line = format!(
                    "css_set {}: refcount {}, tasks {}",
                    tuple_text(w, &c.cgrps),
                    c.refcount,
                    pids(&c.tasks)
                );
                if !c.mg_tasks.is_empty() {
                    line += &format!(", mg_tasks {}", pids(&c.mg_tasks));
                }
                if c.mg_src_cgrp.is_some() || c.mg_dst_cset.is_some() {
                    line += ", migration fields set";
                }
                if c.mg_node.is_some()
                    || c.mg_preload_node.is_some()
                    || c.mg_dst_preload_node.is_some()
                {
                    line += ", on a migration list";
                }
                line
            })
            .collect();
        csets.sort();
        s.csets = csets;
        for (id, cg) in w.cgroups.iter().enumerate() {
            if cg.removed {
                continue;
            }
            let links: Vec<String> = cg
                .cset_links
                .iter()
                .map(|&c| tuple_text(w, &w.csets[c as usize].cgrps))
                .collect();
            s.cgroups.push(format!(
                "cgroup {}: cset_links [{}]{}",
                w.path(id as CgId),
                links.join(", "),
                if cg.releasable { ", releasable" } else { "" }
            ));
            if cg.attach_in_progress != 0 {
                s.controllers.push(format!(
                    "cpuset attach_in_progress {} = {}",
                    w.path(id as CgId),
                    cg.attach_in_progress
                ));
            }
        }
        if let Some((from, to)) = w.charge_move {
            s.controllers.push(format!(
                "memory charge move in progress {} -> {}",
                w.path(from),
                w.path(to)
            ));
        }
        s.release = w
            .release_queued
            .iter()
            .map(|&c| format!("release notification: {}", w.path(c)))
            .collect();
        for e in &w.events {
            let (a, b) = e.tasks;
            s.events.push(format!(
                "{}.{}({}) taskset {}{}",
                e.controller.name(),
                e.callback.name(),
                w.path(e.dst),
                pids(&w.event_pids[a as usize..b as usize]),
                e.error.map_or(String::new(), |x| format!(" -> {x}"))
            ));
        }
        s.warnings = w.warnings.iter().map(|x| x.name().to_string()).collect();
        let bad = check_invariants(w, outcome);
        s.violations = Invariant::ALL
            .iter()
            .filter(|i| bad & i.bit() != 0)
            .map(|i| format!("violated: {}", i.describe()))
            .collect();
        s
    }

    /// The snapshot as lines, section by section, for diffs.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("result: {}", self.result)];
        for sec in [
            &self.tasks,
            &self.csets,
            &self.cgroups,
            &self.release,
            &self.controllers,
            &self.events,
            &self.warnings,
            &self.violations,
        ] {
            out.extend(sec.iter().cloned());
        }
        out
    }
}

/// Display name of controllers for reports.
pub fn controller_names(bits: u8) -> Vec<&'static str> {
    Controller::ALL
        .iter()
        .filter(|c| bits & c.bit() != 0)
        .map(|c| c.name())
        .collect()
}
