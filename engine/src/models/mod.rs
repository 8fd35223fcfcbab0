//! The designs under comparison. Each is one module implementing [`Design`]; everything the
//! patch did not touch (css_set lookup, reference counting, fork, exit, mkdir, rmdir,
//! controllers, the task iterator) lives in `world`, `controllers` and `exec` and is shared.
//!
//! A design is a value, named by [`Design::name`]: [`DESIGNS`] lists every design by name, and
//! the oracle compares a [`Pair`] of them (by default [`Pair::DEFAULT`], legacy and
//! four-stage). Adding a design is one more module here and one more line in [`DESIGNS`].

pub mod four_stage;
pub mod legacy;
pub mod staged;
pub mod v3_15;
pub mod v3_16;
pub mod v4_15;
pub mod v5_19;

use crate::case::{Errno, Pid, Target};
use crate::trace::{Coverage, Step, COVERAGE_POINTS};
use crate::world::{CgId, World};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What an operation returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    Ok,
    Err(Errno),
    /// A loop made no progress within its bound: the kernel would be stuck there.
    Hang,
}

impl From<Result<(), Errno>> for Outcome {
    fn from(r: Result<(), Errno>) -> Outcome {
        match r {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Err(e),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("0"),
            Outcome::Err(e) => write!(f, "-{e}"),
            Outcome::Hang => f.write_str("HANG"),
        }
    }
}

/// The entry points where the designs differ. Preconditions are checked before these are
/// called (identically for every design, in `exec`).
pub trait Design: Sync {
    /// Short name used in signatures, traces and reports; unique among [`DESIGNS`].
    fn name(&self) -> &'static str;

    /// One line: which kernel code the design stands for.
    fn about(&self) -> &'static str;

    /// Whether coverage point `point` ([`crate::trace::Step::point`]) is a step this design has at all.
    /// Every design shares the steps of the shared code; each has its own entry-point
    /// branches. Reports use this to tell "never reached" from "does not exist here".
    fn has_point(&self, point: usize) -> bool;

    /// Whether the design migrates in stages (add_src / prepare_dst / migrate / finish), so
    /// that an exit can land between them.
    fn has_stages(&self) -> bool {
        false
    }

    /// `cgroup_attach_task(dst_cgrp, leader, threadgroup)`.
    fn cgroup_attach_task(
        &self,
        w: &mut World,
        dst: CgId,
        leader: Pid,
        threadgroup: bool,
    ) -> Result<(), Errno>;

    /// Several targets into one cgroup as one operation.
    fn migrate_multi(&self, w: &mut World, dst: CgId, targets: &[Target]) -> Result<(), Errno>;

    /// `cgroup_transfer_tasks(to, from)`.
    fn cgroup_transfer_tasks(&self, w: &mut World, to: CgId, from: CgId) -> Outcome;
}

/// The leader and `threadgroup` flag a target is attached with.
pub fn target_leader(w: &World, t: &Target) -> (Pid, bool) {
    if t.process {
        (w.task(t.pid).leader, true)
    } else {
        (t.pid, false)
    }
}

/// Every design, by name, in history order.
pub static DESIGNS: &[&'static dyn Design] = &[
    &legacy::Legacy,
    &four_stage::FourStage,
    &v3_15::V3_15,
    &v3_16::V3_16,
    &v4_15::V4_15,
    &v5_19::V5_19,
];

/// The design called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Design> {
    DESIGNS.iter().copied().find(|d| d.name() == name)
}

/// The names of every design, comma-separated (for messages).
pub fn names() -> String {
    DESIGNS
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Two designs the oracle runs side by side, in that order: index 0 is the "-" side of every
/// diff, index 1 the "+" side.
#[derive(Clone, Copy)]
pub struct Pair(pub [&'static dyn Design; 2]);

/// A `--designs` value that does not name two different known designs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("unknown design `{0}` (known: {known})", known = names())]
    Unknown(String),
    #[error("a pair is two design names separated by a comma, as `legacy,four-stage`; got `{0}`")]
    Shape(String),
    #[error("a pair needs two different designs; got `{0}` twice")]
    Same(String),
}

impl Pair {
    /// legacy and four-stage: the pair cgdiff was built for, and the default everywhere.
    pub const DEFAULT: Pair = Pair([&legacy::Legacy, &four_stage::FourStage]);

    /// `A,B`: two different known designs.
    pub fn parse(text: &str) -> Result<Pair, PairError> {
        let mut it = text.split(',').map(str::trim);
        let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else {
            return Err(PairError::Shape(text.to_string()));
        };
        let d = |n: &str| by_name(n).ok_or_else(|| PairError::Unknown(n.to_string()));
        let (a, b) = (d(a)?, d(b)?);
        if a.name() == b.name() {
            return Err(PairError::Same(a.name().to_string()));
        }
        Ok(Pair([a, b]))
    }

    pub fn names(&self) -> [&'static str; 2] {
        [self.0[0].name(), self.0[1].name()]
    }

    pub fn is_default(&self) -> bool {
        self.names() == Pair::DEFAULT.names()
    }

    /// Whether both designs migrate in stages: then the points between the stages exist in
    /// both, and generated cases may land exits there.
    pub fn has_stages(&self) -> bool {
        self.0.iter().all(|d| d.has_stages())
    }

    /// The coverage points of this pair: those either design has (for the default pair, every
    /// point of the seed's two designs).
    pub fn coverage_points(&self) -> impl Iterator<Item = usize> + '_ {
        (0..COVERAGE_POINTS).filter(|&p| self.0.iter().any(|d| d.has_point(p)))
    }

    /// Model coverage of a run for its record: design name → coverage point name → how often
    /// it was reached, over [`Pair::coverage_points`]. `c` is in the pair's order.
    pub fn coverage_table(
        &self,
        c: &[Coverage; 2],
    ) -> BTreeMap<&'static str, BTreeMap<&'static str, u64>> {
        self.names()
            .into_iter()
            .zip(c)
            .map(|(name, cov)| {
                let per = self
                    .coverage_points()
                    .map(|i| (Step::point_name(i), cov.0[i]))
                    .collect();
                (name, per)
            })
            .collect()
    }
}

impl PartialEq for Pair {
    fn eq(&self, other: &Pair) -> bool {
        self.names() == other.names()
    }
}

impl Eq for Pair {}

impl Default for Pair {
    fn default() -> Pair {
        Pair::DEFAULT
    }
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pair({self})")
    }
}

/// `A,B`, as `--designs` takes it.
impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.names();
        write!(f, "{a},{b}")
    }
}

impl std::str::FromStr for Pair {
    type Err = PairError;
    fn from_str(s: &str) -> Result<Pair, PairError> {
        Pair::parse(s)
    }
}

/// Both designs of the default pair, in the order the oracle runs them.
pub fn designs() -> [&'static dyn Design; 2] {
    Pair::DEFAULT.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn designs_have_unique_names_and_the_default_pair_is_legacy_four_stage() {
        for (i, d) in DESIGNS.iter().enumerate() {
            assert_eq!(by_name(d.name()).map(|x| x.name()), Some(d.name()));
            assert!(DESIGNS[i + 1..].iter().all(|e| e.name() != d.name()));
        }
        assert_eq!(Pair::DEFAULT.names(), ["legacy", "four-stage"]);
        assert_eq!(Pair::DEFAULT.to_string(), "legacy,four-stage");
        assert!(Pair::DEFAULT.is_default());
    }

    #[test]
    fn pairs_parse_from_two_different_known_names() {
        assert_eq!(Pair::parse("legacy,four-stage"), Ok(Pair::DEFAULT));
        let back = Pair::parse("four-stage, legacy").unwrap();
        assert_eq!(back.names(), ["four-stage", "legacy"]);
        assert!(!back.is_default());
        assert!(matches!(Pair::parse("legacy"), Err(PairError::Shape(_))));
        assert!(matches!(Pair::parse("a,b,c"), Err(PairError::Shape(_))));
        assert!(matches!(Pair::parse("legacy,nope"), Err(PairError::Unknown(n)) if n == "nope"));
        assert!(matches!(
            Pair::parse("legacy,legacy"),
            Err(PairError::Same(_))
        ));
    }

    /// The default pair's coverage record lists every point of the seed's two designs, as it
    /// did before designs were values.
    #[test]
    fn default_pair_covers_the_seed_points() {
        assert_eq!(Pair::DEFAULT.coverage_points().count(), 37);
        let t = Pair::DEFAULT.coverage_table(&[Coverage::default(), Coverage::default()]);
        assert_eq!(
            t.keys().copied().collect::<Vec<_>>(),
            ["four-stage", "legacy"]
        );
    }
}
