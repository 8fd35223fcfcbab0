//! Triage: every divergence goes into one **bucket**, decided by the case alone — an expected
//! rule (`crate::rules`), a finding of docs/findings.md (one module here per finding, its
//! recogniser beside its write-up), a combination of them when the divergence shows several
//! causes, or *unlisted*.
//!
//! A recogniser reads the [`Evidence`] both models left about the divergent operation: what
//! each returned, which kernel-named steps it reached, the marks it left
//! ([`crate::trace::mark`]: which allocation was for what, which destination was freed unused),
//! which invariants broke in which model. When its cause is present
//! it answers with the parts of the divergence ([`Atoms`]) that cause explains. The bucket is
//! the smallest set of causes that together explain every part; when several sets of that size
//! do, the bucket names every cause in them (it never picks the first silently). A part no
//! present cause explains makes the divergence unlisted.
//!
//! Everything here runs only on a divergence, on a few integers: no allocation.

mod f1_transfer_hang;
mod f2_legacy_no_cancel;
mod f3_idle_preload;
mod f4_order;
mod f5_unused_destination;
mod f6_unpinned_destination;
mod f7_release_order;
mod f8_silent_release;

use crate::case::OpKind;
use crate::models::Outcome;
use crate::oracle::{Class, Classes};
use serde::Serialize;

/// What both models left about the divergent operation: all a recogniser may look at.
#[derive(Clone, Copy, Debug)]
pub struct Evidence {
    /// The names of the two designs compared; every pair below follows this order.
    pub pair: [&'static str; 2],
    pub kind: OpKind,
    /// In the pair's order (see [`LEGACY`], [`FOUR`] and [`Evidence::mirrored`]).
    pub outcomes: [Outcome; 2],
    /// The classes in which the models' observations differ (`invariant` and `hang` are read
    /// from `bad` instead).
    pub classes: Classes,
    /// The invariants each model broke ([`crate::observe::Invariant::bit`]s).
    pub bad: [u16; 2],
    /// The coverage points ([`crate::trace::Step::point`]) each model reached in the operation.
    pub steps: [u64; 2],
    /// The marks ([`crate::trace::mark`]) each model left in the operation.
    pub marks: [u16; 2],
    /// Whether each model left placement, inventory and list order exactly as they were.
    pub unchanged: [bool; 2],
    /// Whether each model moved a task or changed the css_sets (placement or inventory).
    pub moved: [bool; 2],
    /// Whether the two models queued the same release notifications, in another order (and
    /// agree on which cgroups are releasable).
    pub release_permuted: bool,
    /// Whether model `m` failed to queue a release notification the other queued, for a
    /// cgroup that a put which was not an exit emptied in `m` (`World::silenced`).
    pub release_silenced: [bool; 2],
    /// Whether each model queued a release notification or changed a releasable flag.
    pub release_touched: [bool; 2],
    /// Whether every list-order difference is in the head of a list only: the same elements,
    /// those put at the head by this operation in another order (per css_set `tasks`, per
    /// cgroup `cset_links`).
    pub order_prefix_only: bool,
    /// Whether every list-order difference is a permutation: each css_set's `tasks` and each
    /// cgroup's `cset_links` hold the same elements in both models, in another order.
    pub order_permuted_only: bool,
    /// Whether both models made the same callback calls in the same order, only with tasksets
    /// in another order.
    pub taskset_order_only: bool,
    /// Callback calls each model made during the operation.
    pub callbacks: [usize; 2],
}

/// Index of the legacy model in [`Evidence`]'s pairs, for the causes read by position
/// ([`LEGACY_FIRST`]; triage mirrors the evidence of a pair run the other way round).
pub const LEGACY: usize = 0;
/// Index of the staged model (four-stage or a later design) in those pairs.
pub const FOUR: usize = 1;

/// Legacy first, then any staged design: the pairs the causes read by position are written
/// for ([`LEGACY`] the first, [`FOUR`] the staged one; the reverse order is read on mirrored
/// evidence). The marks they read are left by every staged design's `prepare_dst` and
/// `cgroup_migrate_finish` alike (`models::four_stage::DstEvidence`, `Released`).
pub const LEGACY_FIRST: Pairs = Pairs::Exactly(&[
    ["legacy", "four-stage"],
    ["legacy", "v3.15"],
    ["legacy", "v3.16"],
    ["legacy", "v4.15"],
    ["legacy", "v5.19"],
]);

/// Which design pairs a cause is written for (always two different designs). A cause that
/// reads its evidence by position names exact ordered pairs, and triage reads the reverse
/// order on mirrored evidence; one that reads each model by what it did names groups or a
/// property of the designs, in either order.
#[derive(Clone, Copy, Debug)]
pub enum Pairs {
    /// These ordered pairs.
    Exactly(&'static [[&'static str; 2]]),
    /// One design from each group.
    Across(&'static [(&'static [&'static str], &'static [&'static str])]),
    /// Any pair that holds one of these designs.
    Holding(&'static [&'static str]),
    /// Any two designs that both have the four stages (`Design::has_stages`).
    Staged,
    /// Any two designs.
    Any,
}

impl Pairs {
    pub fn contains(&self, pair: &[&str; 2]) -> bool {
        if pair[0] == pair[1] {
            return false;
        }
        let staged = |name: &str| crate::models::by_name(name).is_some_and(|d| d.has_stages());
        match *self {
            Pairs::Exactly(list) => list.contains(pair),
            Pairs::Across(groups) => groups.iter().any(|(a, b)| {
                a.contains(&pair[0]) && b.contains(&pair[1])
                    || b.contains(&pair[0]) && a.contains(&pair[1])
            }),
            Pairs::Holding(designs) => pair.iter().any(|d| designs.contains(d)),
            Pairs::Staged => staged(pair[0]) && staged(pair[1]),
            Pairs::Any => true,
        }
    }
}

/// Whether the design named `name` migrates in stages (`Design::has_stages`).
pub fn staged(name: &str) -> bool {
    crate::models::by_name(name).is_some_and(|d| d.has_stages())
}

impl Evidence {
    /// Whether model `m` reached step `s` in this operation.
    pub fn reached(&self, m: usize, s: crate::trace::Step) -> bool {
        self.steps[m] & (1 << s.point()) != 0
    }
    /// Whether model `m`'s allocation fault fired (an allocation point with that index was
    /// reached: [`crate::trace::Step::AllocFailed`]).
    pub fn alloc_fired(&self, m: usize) -> bool {
        self.reached(m, crate::trace::Step::AllocFailed(0))
    }
    /// Whether an exit landed between the stages of this operation's migration, in either
    /// model (`exit-after=`, [`crate::trace::INTERLEAVED_EXIT_POINT`]).
    pub fn exit_between_stages(&self) -> bool {
        (self.steps[0] | self.steps[1]) & (1 << crate::trace::INTERLEAVED_EXIT_POINT) != 0
    }
    /// Whether model `m` left mark `mark`.
    pub fn marked(&self, m: usize, mark: u16) -> bool {
        self.marks[m] & mark != 0
    }
    /// The same evidence with the two models' places swapped: what a cause written for
    /// (A, B) reads when the pair was run as (B, A).
    pub fn mirrored(&self) -> Evidence {
        let sw = |x: [bool; 2]| [x[1], x[0]];
        Evidence {
            pair: [self.pair[1], self.pair[0]],
            outcomes: [self.outcomes[1], self.outcomes[0]],
            bad: [self.bad[1], self.bad[0]],
            steps: [self.steps[1], self.steps[0]],
            marks: [self.marks[1], self.marks[0]],
            unchanged: sw(self.unchanged),
            moved: sw(self.moved),
            release_silenced: sw(self.release_silenced),
            release_touched: sw(self.release_touched),
            callbacks: [self.callbacks[1], self.callbacks[0]],
            ..*self
        }
    }
    /// The parts that hold the same things in both models, only in another order: lists
    /// (tasks per css_set, cset_links per cgroup), the tasksets of the same callback calls,
    /// the release notifications queued.
    pub fn reordered_parts(&self) -> Atoms {
        let mut parts = 0;
        if self.order_permuted_only {
            parts |= atoms::of(&[Class::Order]);
        }
        if self.taskset_order_only {
            parts |= atoms::of(&[Class::CallbackOrder]);
        }
        if self.release_permuted {
            parts |= atoms::of(&[Class::Release]);
        }
        parts
    }
    /// The parts of the divergence that need explaining.
    pub fn atoms(&self) -> Atoms {
        let plain = self.classes.0 as Atoms & !(atoms::of(&[Class::Invariant, Class::Hang]));
        plain | atoms::invariants(LEGACY, self.bad[0]) | atoms::invariants(FOUR, self.bad[1])
    }
}

/// Parts of a divergence a cause can explain: each class in which the observations differ
/// (bits 0–8, as [`Class`]), and each invariant broken, per model (legacy from bit 16,
/// four-stage from bit 32, as [`crate::observe::Invariant`]).
pub type Atoms = u64;

/// Building [`Atoms`].
pub mod atoms {
    use super::Atoms;
    use crate::oracle::Class;

    /// These observation classes.
    pub const fn of(list: &[Class]) -> Atoms {
        crate::oracle::Classes::of(list).0 as Atoms
    }
    /// Invariant bits `bits` broken in model `m`.
    pub const fn invariants(m: usize, bits: u16) -> Atoms {
        (bits as Atoms) << (16 + 16 * m)
    }
    /// The same parts with the two models' invariants swapped (see [`super::Evidence::mirrored`]).
    pub const fn mirror(a: Atoms) -> Atoms {
        let classes = a & 0xffff;
        let first = (a >> 16) & 0xffff;
        let second = (a >> 32) & 0xffff;
        classes | (second << 16) | (first << 32)
    }
    /// Every invariant of model `m`.
    pub const fn all_invariants(m: usize) -> Atoms {
        invariants(m, 0xffff)
    }
    /// What a migration one model made and the other did not leaves different: the result,
    /// where tasks are, the css_sets, list order, the callbacks and their order (release
    /// notifications apart: each cause says when they are its own).
    pub const MIGRATION_EFFECTS: Atoms = of(&[
        Class::Result,
        Class::Placement,
        Class::Inventory,
        Class::Order,
        Class::Callbacks,
        Class::CallbackOrder,
    ]);
}

/// What a cause is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// An expected difference: what the patch set out to change.
    Rule,
    /// A finding written up in docs/findings.md.
    Finding,
}

/// A root cause: an expected rule or a finding, with the code that recognises it.
pub struct Cause {
    /// The rule's name, or the finding's number (`F3`): what buckets are named by.
    pub id: &'static str,
    pub kind: CauseKind,
    /// The pairs of designs (by name, in order) this cause is written for: between others it
    /// is never present.
    pub pairs: Pairs,
    /// One line, for people.
    pub title: &'static str,
    /// For rules: why the patch makes the designs differ here. For findings: the short story
    /// (docs/findings.md has the whole one).
    pub reason: &'static str,
    /// Whether the cause is present in the evidence, and which parts of the divergence it
    /// explains (0: not present).
    pub explains: fn(&Evidence) -> Atoms,
    /// The case files of examples/ that show this cause alone (tested).
    pub minimal_cases: &'static [&'static str],
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// Every cause cgdiff knows, rules first: a [`Bucket`]'s bits index this list.
pub fn causes() -> &'static [&'static Cause] {
    static ALL: [&Cause; 12] = [
        &crate::rules::RULES[0],
        &crate::rules::RULES[1],
        &crate::rules::RULES[2],
        &crate::rules::RULES[3],
        &f1_transfer_hang::CAUSE,
        &f2_legacy_no_cancel::CAUSE,
        &f3_idle_preload::CAUSE,
        &f4_order::CAUSE,
        &f5_unused_destination::CAUSE,
        &f6_unpinned_destination::CAUSE,
        &f7_release_order::CAUSE,
        &f8_silent_release::CAUSE,
    ];
    &ALL
}

/// Looks a cause up by id (a rule name or a finding number).
pub fn cause(id: &str) -> Option<&'static Cause> {
    causes().iter().copied().find(|c| c.id == id)
}

/// The bucket of a divergence: the set of causes that explain it, as bits of [`causes`];
/// empty = unlisted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bucket(pub u16);

/// What a stored or printed bucket name says a divergence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BucketKind {
    /// Every cause is an expected rule.
    Expected,
    /// At least one finding, no unexplained part.
    Finding,
    /// Some part of the divergence no known cause explains.
    Unlisted,
}

impl BucketKind {
    pub fn name(self) -> &'static str {
        match self {
            BucketKind::Expected => "expected",
            BucketKind::Finding => "finding",
            BucketKind::Unlisted => "unlisted",
        }
    }
}

/// The name of the bucket of divergences no known cause explains.
pub const UNLISTED: &str = "unlisted";

impl Bucket {
    pub const UNLISTED: Bucket = Bucket(0);

    pub fn is_unlisted(self) -> bool {
        self.0 == 0
    }

    /// The causes, in [`causes`] order (rules first).
    pub fn causes(self) -> impl Iterator<Item = &'static Cause> {
        causes()
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, c)| *c)
    }

    pub fn kind(self) -> BucketKind {
        if self.is_unlisted() {
            BucketKind::Unlisted
        } else if self.causes().all(|c| c.kind == CauseKind::Rule) {
            BucketKind::Expected
        } else {
            BucketKind::Finding
        }
    }

    /// `F3`, `all-or-nothing-on-enomem`, `F2+enomem-before-side-effects` (findings first), or
    /// `unlisted`. Stable: what the store keys buckets by.
    pub fn name(self) -> String {
        if self.is_unlisted() {
            return UNLISTED.to_string();
        }
        let mut ids: Vec<&str> = self
            .causes()
            .filter(|c| c.kind == CauseKind::Finding)
            .map(|c| c.id)
            .collect();
        ids.extend(
            self.causes()
                .filter(|c| c.kind == CauseKind::Rule)
                .map(|c| c.id),
        );
        ids.join("+")
    }

    /// The bucket a name stands for (`None` for a name no cause of this build has).
    pub fn from_name(name: &str) -> Option<Bucket> {
        if name == UNLISTED {
            return Some(Bucket::UNLISTED);
        }
        let mut bits = 0u16;
        for id in name.split('+') {
            let i = causes().iter().position(|c| c.id == id)?;
            bits |= 1 << i;
        }
        Some(Bucket(bits))
    }
}

impl Serialize for Bucket {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// The kind of a bucket by its name. A name with a cause this build does not know reads as
/// unlisted: nothing here explains it.
pub fn kind_of(name: &str) -> BucketKind {
    match Bucket::from_name(name) {
        Some(b) => b.kind(),
        None => BucketKind::Unlisted,
    }
}

/// The bucket of a divergence: the smallest sets of present causes whose explanations cover
/// every part of it, all of them merged; unlisted when no set does.
pub fn triage(ev: &Evidence) -> Bucket {
    let need = ev.atoms();
    // Present causes that explain something here: (bit, parts).
    let mut present = [(0u16, 0 as Atoms); 16];
    let mut n = 0;
    let reversed = [ev.pair[1], ev.pair[0]];
    for (i, c) in causes().iter().enumerate() {
        // A cause written for (A, B) holds for (B, A) too, read on the mirrored evidence.
        let parts = if c.pairs.contains(&ev.pair) {
            (c.explains)(ev)
        } else if c.pairs.contains(&reversed) {
            atoms::mirror((c.explains)(&ev.mirrored()))
        } else {
            continue;
        } & need;
        if parts != 0 {
            present[n] = (1 << i, parts);
            n += 1;
        }
    }
    let present = &present[..n];
    // Subsets by size: singles, pairs, triples (more causes at once than that is unlisted).
    for size in 1..=3usize.min(n) {
        let mut found = 0u16;
        for mask in 1u32..(1 << n) {
            if mask.count_ones() as usize != size {
                continue;
            }
            let (mut bits, mut parts) = (0u16, 0 as Atoms);
            for (j, &(b, p)) in present.iter().enumerate() {
                if mask & (1 << j) != 0 {
                    bits |= b;
                    parts |= p;
                }
            }
            if parts == need {
                found |= bits;
            }
        }
        if found != 0 {
            return Bucket(found);
        }
    }
    Bucket::UNLISTED
}

/// Glob match where `*` stands for any run of characters (including `/`): what
/// `--signature` patterns use.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "transfer-tasks/*hang*",
            "transfer-tasks/invariant+hang/none/both"
        ));
        assert!(!glob_match(
            "transfer-tasks/*hang*",
            "migrate-task/invariant+hang/none/both"
        ));
        assert!(glob_match(
            "*/order/*/diff",
            "migrate-task/order/alloc/diff"
        ));
        assert!(glob_match("a*", "a"));
        assert!(!glob_match("", "a"));
    }

    #[test]
    fn bucket_names_round_trip() {
        for bits in 0..(1u16 << causes().len()) {
            let b = Bucket(bits);
            assert_eq!(Bucket::from_name(&b.name()), Some(b), "{}", b.name());
        }
        assert_eq!(Bucket::from_name("F9"), None);
        assert_eq!(
            kind_of("F2+enomem-before-side-effects"),
            BucketKind::Finding
        );
        assert_eq!(kind_of("all-or-nothing-on-enomem"), BucketKind::Expected);
        assert_eq!(kind_of(UNLISTED), BucketKind::Unlisted);
    }

    #[test]
    fn cause_ids_are_unique_and_free_of_separators() {
        for (i, c) in causes().iter().enumerate() {
            assert!(!c.id.contains('+') && c.id != UNLISTED, "{}", c.id);
            assert!(causes()[..i].iter().all(|o| o.id != c.id), "{}", c.id);
        }
    }
}
