//! Re-running, minimising and exporting cases. Pure like the engine: the CLI does the I/O.

pub mod minimize;

pub use minimize::{minimize, remove_with_dependents, MinimizeStats};
