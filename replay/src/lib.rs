//! Re-running, minimising and exporting cases. Pure like the engine: the CLI does the I/O.

pub mod minimize;

pub use minimize::{minimize, minimize_pair, minimize_with, remove_with_dependents, MinimizeStats};
pub mod triage;
