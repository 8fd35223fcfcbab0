//! The one error type of the reports crate: the CLI maps every variant to exit status 2 (bad
//! input), so each says which file or run it is about.

use std::path::PathBuf;

/// Why a report could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The case store could not be read.
    #[error(transparent)]
    Store(#[from] cgdiff_corpus::StoreError),

    /// `--since RUN` names a run the database does not have: a typo would otherwise silently
    /// report everything as new.
    #[error("{}: no run {run} (see `cgdiff cases list` or the runs table of a report)", db.display())]
    UnknownRun {
        /// The database file.
        db: PathBuf,
        /// The run asked for.
        run: i64,
    },

    /// Writing one of the output files failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// What the system said.
        source: std::io::Error,
    },

    /// The report could not be rendered as JSON (a bug: every field is plain data).
    #[error("rendering report.json: {0}")]
    Json(#[from] serde_json::Error),
}
