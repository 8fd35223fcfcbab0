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

    /// There is no file at the path and the command only reads (it creates none).
    #[error("{} does not exist: no such database (run `cgdiff fuzz` first, or pass --db PATH)", path.display())]
    Missing {
        /// The database path.
        path: PathBuf,
    },

    /// The path names a directory.
    #[error("{} is a directory, not a database file", path.display())]
    Directory {
        /// The path.
        path: PathBuf,
    },

    /// The file exists but is not a cgdiff database: empty, too short, not SQLite, or a SQLite
    /// file without cgdiff's tables. It is left untouched so that a person can look at what
    /// it is.
    #[error("{} is not a cgdiff database: {reason}", path.display())]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },

    /// The file is a cgdiff (or at least a SQLite) database whose pages do not read back: a
    /// truncated file, a damaged page. Refused before anything is written to it, and left
    /// byte-identical; what still reads can be copied out with `cgdiff merge`.
    #[error(
        "{} is corrupt ({problem}); it was left as it is: `cgdiff merge {} --into NEW.db` copies what still reads into a new database",
        path.display(), path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The first problem SQLite's integrity check (or a read) reported.
        problem: String,
    },

    /// The command writes, and the file cannot be written (its permissions, a read-only file
    /// system).
    #[error("{} is read-only ({why}), and this command writes to it", path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// Which: "its permissions", "a read-only file system".
        why: &'static str,
    },

    /// The command writes, and the directory of the database cannot be written: SQLite keeps
    /// its `-wal` and `-shm` files beside the database (and creates the database there).
    #[error(
        "{} cannot be written: its directory {} is read-only ({why}), and SQLite keeps its -wal and -shm files beside the database",
        path.display(), dir.display()
    )]
    ReadOnlyDirectory {
        /// The database file.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
        /// Which: "its permissions", "a read-only file system".
        why: &'static str,
    },

    /// Another process held a lock on the file for longer than [`crate::BUSY_TIMEOUT`].
    #[error(
        "{} is locked by another process (waited {} s for it)",
        path.display(), crate::BUSY_TIMEOUT.as_secs()
    )]
    Locked {
        /// The database file.
        path: PathBuf,
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
    #[error("{}: {context}: {io}", path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        context: &'static str,
        /// What the system said.
        io: std::io::Error,
    },

    /// Any other SQLite failure, with what the store was doing at the time. SQLite's text is
    /// shown once (the error is not chained, so that `{:#}` does not repeat it).
    #[error("{}: {context}: {}", path.display(), crate::sqlite_text(sqlite))]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        sqlite: rusqlite::Error,
    },
}

impl StoreError {
    /// The database file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            StoreError::NewerSchema { path, .. }
            | StoreError::Missing { path }
            | StoreError::Directory { path }
            | StoreError::NotADatabase { path, .. }
            | StoreError::Corrupt { path, .. }
            | StoreError::ReadOnly { path, .. }
            | StoreError::ReadOnlyDirectory { path, .. }
            | StoreError::Locked { path }
            | StoreError::ForeignDatabase { path, .. }
            | StoreError::InvalidInput { path, .. }
            | StoreError::BadRow { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::Sqlite { path, .. } => path,
        }
    }
}
