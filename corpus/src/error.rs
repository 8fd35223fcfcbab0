//! The one error type of the store. Every variant carries the database path, because a
//! campaign may juggle several databases (merge, import) and "database is locked" without a
//! file name is useless to the person reading it.

use std::path::PathBuf;

/// Why the store refused or failed. Every variant names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file was written by a newer cgdiff whose schema this build does not know. It is
    /// refused untouched rather than "migrated" backwards, which would lose data.
    #[error(
        "{} has schema version {found}, this cgdiff understands up to {supported}: upgrade cgdiff",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The `user_version` found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },

    /// The file exists but is not a readable SQLite database (garbage, truncated, corrupt).
    /// It is left untouched so that a person can look at what it is.
    #[error("{} is not a SQLite database, or is corrupt: {source}", path.display())]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// The file is a SQLite database of some other program. It is left untouched rather than
    /// having cgdiff's tables added to it.
    #[error("{} is a SQLite database but not a cgdiff one: {reason}", path.display())]
    ForeignDatabase {
        /// The database file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },

    /// A value handed to the store cannot be stored faithfully (say, a class name containing
    /// the `,` that separates classes).
    #[error("{}: invalid {what}: {detail}", path.display())]
    InvalidInput {
        /// The database file.
        path: PathBuf,
        /// Which field.
        what: &'static str,
        /// Why it was refused.
        detail: String,
    },

    /// A row in the database holds a value this build cannot read back (an unknown
    /// `found_by`, malformed `extra` JSON): someone edited the file by hand, or a bug.
    #[error("{}: {table} row {id}: {detail}", path.display())]
    BadRow {
        /// The database file.
        path: PathBuf,
        /// The table of the row.
        table: &'static str,
        /// The row's id (or its signature's rowid for `signatures`).
        id: i64,
        /// What is wrong with it.
        detail: String,
    },

    /// A file-system failure around the database (checking that it exists, reading its
    /// header).
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        context: &'static str,
        /// What the system said.
        source: std::io::Error,
    },

    /// Any other SQLite failure, with what the store was doing at the time.
    #[error("{}: {context}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// The database file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            StoreError::NewerSchema { path, .. }
            | StoreError::NotADatabase { path, .. }
            | StoreError::ForeignDatabase { path, .. }
            | StoreError::InvalidInput { path, .. }
            | StoreError::BadRow { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::Sqlite { path, .. } => path,
        }
    }
}
