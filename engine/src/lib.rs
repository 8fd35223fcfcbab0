//! cgdiff's engine: executable models of cgroup task migration before and after the
//! four-stage split, the operation language, and the differential oracle.
//!
//! Architecture invariant: this crate is pure and deterministic. No I/O, no clocks, no global
//! state, no randomness of its own: the same case gives the same trace, byte for byte.

pub mod case;

pub use case::*;
