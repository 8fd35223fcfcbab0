//! cgdiff's engine: executable models of cgroup task migration before and after the
//! four-stage split, the operation language, and the differential oracle.
//!
//! Architecture invariant: this crate is pure and deterministic. No I/O, no clocks, no global
//! state, no randomness of its own: the same case gives the same trace, byte for byte.

pub mod case;
pub mod controllers;
pub mod exec;
pub mod findings;
pub mod format;
pub mod gen;
pub mod input;
pub mod models;
pub mod mutate;
pub mod observe;
pub mod oracle;
pub mod planted;
pub mod rules;
pub mod sweep;
pub mod trace;
pub mod world;

pub use case::*;
pub use format::{parse, print, CaseFile, Expect, ParseError};
pub use models::{Design, Outcome};
pub use oracle::{check, run, Blame, Class, Classes, Divergence, Report, Verdict};
