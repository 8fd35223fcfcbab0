//! Opening a store: the one place that decides what the file at `--db` is and what a command
//! may do to it.
//!
//! - [`Store::open`] is for commands that write (a campaign, import, merge's output, replay,
//!   minimise). It creates a missing file; refuses, before writing anything, a file that is not
//!   SQLite, another program's database, a newer schema, a corrupt one (SQLite's
//!   `quick_check`), a read-only file or directory; then switches to WAL and migrates an older
//!   schema (reporting it in [`Opened::upgraded_from`]).
//! - [`Store::open_read_only`] is for commands that only read (`cases`, `explain`, `export`,
//!   `report`, `corpus seed`, merge's sources). It creates nothing and changes no byte: a
//!   missing or empty file is refused, as is a corrupt one; an older schema is read through an
//!   upgraded copy in memory, so the file stays as it is.
//!
//! Every refusal is one [`StoreError`] naming the file and the cause, and leaves nothing beside
//! the file: no `-wal` or `-shm` is created by a read-only look (see [`read_only_connection`]).

use crate::schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
use crate::{classify, text_hash, Store, StoreError, BUSY_TIMEOUT};
use rusqlite::{functions::FunctionFlags, Connection, OpenFlags, TransactionBehavior};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How a [`Store`] was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opened {
    /// Opened with [`Store::open_read_only`]: nothing done through this store writes the file.
    pub read_only: bool,
    /// This open created the database (the file was missing or empty).
    pub created: bool,
    /// The schema version the file had when this open migrated it forward ([`Store::open`]), or
    /// read it through an upgraded copy in memory ([`Store::open_read_only`]).
    pub upgraded_from: Option<i64>,
}

impl Store {
    /// Opens the database at `path` for a command that writes: creates it if missing, checks
    /// it, and migrates it forward to [`SCHEMA_VERSION`].
    ///
    /// Refused before the first write, and left byte-for-byte as it was: a directory, a file
    /// that is not SQLite, another program's database, a newer schema, a corrupt database
    /// (`PRAGMA quick_check`), a read-only file, a database in a read-only directory (SQLite
    /// keeps its `-wal` and `-shm` files beside it).
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let facts = look(&path, true)?;
        let dir = directory_of(&path);
        match &facts {
            Some(f) => {
                if f.len > 0 {
                    // The header first, through a connection that writes nothing, so that a
                    // newer or foreign database is refused untouched.
                    let conn = read_only_connection(&path, f)?;
                    let header = read_header(&conn)
                        .map_err(|e| classify(&path, "reading the schema version", e))?;
                    check_header(&path, &header, SCHEMA_VERSION)?;
                }
                if let Some(why) = not_writable(&path) {
                    return Err(StoreError::ReadOnly { path, why });
                }
            }
            None if !dir.is_dir() => {
                return Err(StoreError::Io {
                    path,
                    context: "creating the database",
                    io: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("its directory {} does not exist", dir.display()),
                    ),
                })
            }
            None => {}
        }
        if let Some(why) = not_writable(&dir) {
            return Err(StoreError::ReadOnlyDirectory { path, dir, why });
        }

        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if facts.is_none() {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, "opening", e))?;
        let mut store = Store {
            conn,
            path,
            opened: Opened::default(),
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(store.err("setting busy_timeout"))?;
        if facts.as_ref().is_some_and(|f| f.len > 0) {
            // Before the first write, under SQLite's own locking (a read transaction), so that
            // a writer in another process cannot make it see a half-written file. A refused
            // file keeps its bytes: nothing has been written, and closing this connection
            // removes the -wal and -shm files opening it may have made.
            quick_check(&store.conn, &store.path)?;
        }
        store.configure()?;
        let from = migrate(&mut store.conn, &store.path, MIGRATIONS)?;
        store.opened.created = from == Some(0);
        store.opened.upgraded_from = from.filter(|&v| v > 0);
        // Enforced per connection, and only after migrating: a migration may rebuild a table
        // that others point at. A corpus with dangling run or case ids is a bug.
        store
            .conn
            .execute_batch("PRAGMA foreign_keys = ON")
            .map_err(store.err("enabling foreign keys"))?;
        Ok(store)
    }

    /// Opens the database at `path` for a command that only reads: creates nothing and
    /// changes no byte of it.
    ///
    /// Refused: a missing or empty file, a directory, anything that is not a cgdiff database,
    /// a newer schema, a corrupt database (`PRAGMA quick_check`). An older schema is read
    /// through a copy upgraded in memory ([`Opened::upgraded_from`]): the file is not migrated.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut attempt = 0;
        let (conn, header) = loop {
            let facts =
                look(&path, true)?.ok_or_else(|| StoreError::Missing { path: path.clone() })?;
            if facts.len == 0 {
                return Err(StoreError::NotADatabase {
                    path,
                    reason: "the file is empty".into(),
                });
            }
            let before = stamp(&path);
            let checked = read_only_connection(&path, &facts).and_then(|conn| {
                let header = read_header(&conn)
                    .map_err(|e| classify(&path, "reading the schema version", e))?;
                check_header(&path, &header, SCHEMA_VERSION)?;
                if header.version == 0 {
                    return Err(StoreError::NotADatabase {
                        path: path.clone(),
                        reason: "it is a SQLite file without cgdiff's tables".into(),
                    });
                }
                quick_check(&conn, &path)?;
                Ok((conn, header))
            });
            // An immutable read takes no lock: if a writer touched the file meanwhile, what
            // it read may be torn. Look again rather than call a good file corrupt.
            attempt += 1;
            if checked.is_err() && stamp(&path) != before && attempt < 5 {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            break checked?;
        };
        let mut store = Store {
            conn,
            path,
            opened: Opened {
                read_only: true,
                ..Opened::default()
            },
        };
        if header.version < SCHEMA_VERSION {
            let mut copy = Connection::open_in_memory()
                .map_err(store.err("copying an older schema into memory"))?;
            rusqlite::backup::Backup::new(&store.conn, &mut copy)
                .and_then(|b| b.run_to_completion(1024, Duration::ZERO, None))
                .map_err(store.err("copying an older schema into memory"))?;
            migrate(&mut copy, &store.path, MIGRATIONS)?;
            store.conn = copy;
            store.opened.upgraded_from = Some(header.version);
        }
        store
            .conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA query_only = ON;")
            .map_err(store.err("making the connection read-only"))?;
        Ok(store)
    }

    /// How this store was opened: read-only, created, migrated.
    pub fn opened(&self) -> Opened {
        self.opened
    }

    /// Connection settings for writing: wait for other writers, WAL.
    fn configure(&mut self) -> Result<(), StoreError> {
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(self.err("reading journal_mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Switching needs an exclusive lock, and SQLite does not always run the busy
            // handler for it: when several processes create the same file at once, retry.
            let deadline = Instant::now() + BUSY_TIMEOUT;
            loop {
                match self
                    .conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                {
                    Ok(mode) if mode.eq_ignore_ascii_case("wal") => break,
                    Ok(mode) => {
                        return Err(StoreError::Sqlite {
                            path: self.path.clone(),
                            context: "switching to WAL",
                            sqlite: rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                                Some(format!("journal_mode stayed {mode}")),
                            ),
                        })
                    }
                    Err(e) if crate::is_busy(&e) && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => return Err(classify(&self.path, "switching to WAL", e)),
                }
            }
        }
        // With WAL, NORMAL loses nothing on a process crash (only, at worst, the last
        // transactions on power loss) and saves an fsync per commit.
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(self.err("setting synchronous"))?;
        Ok(())
    }
}

/// What the file looks like from outside SQLite.
pub(crate) struct FileFacts {
    pub(crate) len: u64,
    /// The header says WAL mode (bytes 18 and 19 are 2).
    pub(crate) wal: bool,
    /// A `-wal` file is beside it: some connection has it open, or one died with it open.
    pub(crate) wal_file: bool,
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Size and modification time: whether a file changed between two looks.
fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime, bool)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?, sidecar(path, "-wal").exists()))
}

/// Looks at the file without SQLite (`None` when there is none): a directory, a file that is
/// not SQLite or is shorter than its own header says, are told apart here, before SQLite is
/// given a chance to create anything beside them.
pub(crate) fn look(path: &Path, check_size: bool) -> Result<Option<FileFacts>, StoreError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(io) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                context: "looking at the database file",
                io,
            })
        }
    };
    if meta.is_dir() {
        return Err(StoreError::Directory {
            path: path.to_path_buf(),
        });
    }
    let len = meta.len();
    let wal_file = sidecar(path, "-wal").exists();
    if len == 0 {
        return Ok(Some(FileFacts {
            len,
            wal: false,
            wal_file,
        }));
    }
    let mut header = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut header))
        .map_err(|io| StoreError::Io {
            path: path.to_path_buf(),
            context: "reading the database header",
            io,
        })?;
    let not_a_db = |reason: &str| StoreError::NotADatabase {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if !header.starts_with(b"SQLite format 3\0") {
        return Err(not_a_db(if b"SQLite format 3\0".starts_with(&header) {
            "it is truncated: shorter than SQLite's file header"
        } else {
            "it does not start with SQLite's file header"
        }));
    }
    if header.len() < 100 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            problem: format!("truncated: {len} bytes, shorter than SQLite's 100-byte header"),
        });
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    // The in-header size is valid only when the change counter matches "version valid for";
    // with a -wal file, the database may legitimately be shorter until the next checkpoint.
    let size_valid = header[24..28] == header[92..96];
    if check_size && size_valid && !wal_file && page_size >= 512 && len < pages * page_size {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            problem: format!(
                "truncated: {len} bytes where its header says {pages} pages of {page_size} bytes"
            ),
        });
    }
    Ok(Some(FileFacts {
        len,
        wal: header[18] == 2 && header[19] == 2,
        wal_file,
    }))
}

/// A connection that reads `path` and creates nothing beside it.
///
/// A read-only connection to a WAL-mode database creates `-wal` and `-shm` files (and, unable
/// to checkpoint, leaves them). So a WAL-mode file with no `-wal` beside it (no connection has
/// it open: the main file holds all of it) is read with `immutable=1`, which creates nothing
/// and takes no lock; callers that read more than the header look again when the file
/// changed under them. A file in rollback mode, or with a `-wal` already there, gets an
/// ordinary read-only connection, which creates nothing either.
pub(crate) fn read_only_connection(
    path: &Path,
    facts: &FileFacts,
) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        uri(path, facts.wal && !facts.wal_file),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| classify(path, "opening read-only", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| classify(path, "setting busy_timeout", e))?;
    Ok(conn)
}

/// A `file:` URI for `path`, read-only, and `immutable` when asked.
pub(crate) fn uri(path: &Path, immutable: bool) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str(if immutable {
        "?mode=ro&immutable=1"
    } else {
        "?mode=ro"
    });
    uri
}

/// `PRAGMA quick_check`: every page readable, every b-tree well formed (what a damaged or
/// truncated file fails); CHECK constraint failures are left to the reads. Linear in the file, cheap at cgdiff's sizes (tens of milliseconds
/// for tens of megabytes).
fn quick_check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check(100)")
        .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
        .map_err(|e| classify(path, "checking integrity", e))?;
    // A value that breaks a CHECK constraint (a hand edit) is not damage: reading that row
    // reports it as a bad row, naming its table and id.
    let mut lines = problems.iter().flat_map(|p| p.lines());
    match lines.find(|p| {
        *p != "ok" && !p.starts_with("CHECK constraint failed") && !p.starts_with("*** in database")
    }) {
        None => Ok(()),
        Some(p) => Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            problem: format!("SQLite's integrity check: {}", crate::shorten(p, 160)),
        }),
    }
}

/// Why `path` cannot be written (`None` when it can, or when that cannot be told): asked of
/// the system, so that nothing is created or opened for writing to find out.
#[cfg(unix)]
fn not_writable(path: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        return None;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EROFS) => Some("a read-only file system"),
        Some(libc::EACCES | libc::EPERM) => Some("its permissions"),
        _ => None,
    }
}

#[cfg(not(unix))]
fn not_writable(path: &Path) -> Option<&'static str> {
    std::fs::metadata(path)
        .ok()
        .filter(|m| m.permissions().readonly())
        .map(|_| "its permissions")
}

/// Brings the database from its version up to `migrations.len()`, all in one IMMEDIATE
/// transaction: a failing step leaves the file at the version it had. Returns the version it
/// migrated from, if it ran any step. Turns foreign keys off (steps may rebuild tables): the
/// caller turns them back on.
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    migrations: &[&str],
) -> Result<Option<i64>, StoreError> {
    let supported = migrations.len() as i64;
    let err = |context| move |e| classify(path, context, e);
    // The bundled SQLite turns foreign keys on by default; a rebuild step needs them off,
    // and the pragma is a no-op inside a transaction, so it goes here.
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(err("disabling foreign keys for the migration"))?;
    conn.create_scalar_function(
        "cgdiff_fnv1a64",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(text_hash(ctx.get_raw(0).as_bytes().unwrap_or_default())),
    )
    .map_err(err("registering cgdiff_fnv1a64"))?;
    let header = read_header(conn).map_err(err("reading the schema version"))?;
    check_header(path, &header, supported)?;
    if header.version == supported {
        return Ok(None);
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err("starting the migration"))?;
    let header = read_header(&tx).map_err(err("reading the schema version"))?;
    check_header(path, &header, supported)?;
    if header.version == supported {
        // Another process migrated it meanwhile.
        return Ok(None);
    }
    for step in &migrations[header.version as usize..] {
        tx.execute_batch(step)
            .map_err(err("migrating the schema"))?;
    }
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {supported};"
    ))
    .map_err(err("stamping the schema version"))?;
    tx.commit().map_err(err("committing the migration"))?;
    Ok(Some(header.version))
}

/// What the store needs to know about a file before writing to it.
pub(crate) struct Header {
    pub(crate) version: i64,
    application_id: i64,
    has_objects: bool,
}

/// Reads the header facts in one statement, hence one read transaction: separate `PRAGMA`
/// queries could straddle another process's migration and see tables without a version.
pub(crate) fn read_header(conn: &Connection) -> rusqlite::Result<Header> {
    conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version), \
                (SELECT application_id FROM pragma_application_id), \
                (SELECT count(*) > 0 FROM sqlite_schema)",
        [],
        |r| {
            Ok(Header {
                version: r.get(0)?,
                application_id: r.get(1)?,
                has_objects: r.get(2)?,
            })
        },
    )
}

/// Refuses files this build, which understands schema versions up to `supported`, must not
/// write to.
pub(crate) fn check_header(path: &Path, h: &Header, supported: i64) -> Result<(), StoreError> {
    let foreign = |reason: String| StoreError::ForeignDatabase {
        path: path.to_path_buf(),
        reason,
    };
    if h.application_id != 0 && h.application_id != APPLICATION_ID {
        return Err(foreign(format!(
            "its application_id is {:#x}, cgdiff's is {APPLICATION_ID:#x}",
            h.application_id
        )));
    }
    if h.version > supported {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: h.version,
            supported,
        });
    }
    if h.version == 0 && h.has_objects {
        return Err(foreign(
            "it has tables but no cgdiff schema version".to_string(),
        ));
    }
    if h.version > 0 && h.application_id != APPLICATION_ID {
        return Err(foreign(format!(
            "it has schema version {} but not cgdiff's application_id",
            h.version
        )));
    }
    Ok(())
}
