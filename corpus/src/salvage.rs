//! Salvaging a corrupt database: every row that still reads, copied into a sound copy in
//! memory that [`Store::merge_from`] then merges like any other source. This is what
//! `cgdiff merge corrupt.db --into new.db` does with a source that [`Store::open_read_only`]
//! refuses as corrupt. The corrupt file is only read (never written, nothing created beside it).
//!
//! Rows are read one at a time by rowid, so a damaged page loses the rows on it and no more:
//! the rowids to try are those a scan of the table yields before it meets the damage, and every
//! rowid up to the largest one seen (plus a margin, for rows past a damaged page). References
//! that point at a lost row are then repaired: a case's `minimised_from` or `run_id` and a
//! replay's `run_id` become NULL, a replay of a lost case is dropped, a signature whose best
//! case was lost takes its smallest salvaged case, a signature left with no case is dropped,
//! and a signature whose row was lost is rebuilt from its salvaged cases.

use crate::open::{check_header, look, migrate, read_header, read_only_connection, uri};
use crate::schema::{MIGRATIONS, SCHEMA_VERSION};
use crate::{classify, Opened, Store, StoreError};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// Rowids tried past the largest one seen: rows beyond a damaged page are not seen by a scan.
const PROBE_MARGIN: i64 = 10_000;

/// What a salvage copied and what it left behind, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SalvageStats {
    /// (table, rows copied, rowids whose read failed: rows lost, or ids a damaged page hid).
    pub tables: Vec<(String, u64, u64)>,
}

impl Store {
    /// Reads what can still be read of the corrupt database at `path` into a sound read-only
    /// store in memory (at the current schema), for [`Store::merge_from`].
    pub fn salvage(path: impl AsRef<Path>) -> Result<(Store, SalvageStats), StoreError> {
        let path = path.as_ref().to_path_buf();
        let facts =
            look(&path, false)?.ok_or_else(|| StoreError::Missing { path: path.clone() })?;
        // A truncated file is read through a copy padded with zeros to the size its header
        // says (SQLite reads nothing of a file shorter than that); the lost pages read as
        // damaged ones. The copy is removed when done; the file itself is only read.
        let padded = padded_copy(&path)?;
        let read_from = padded.as_ref().map_or(path.as_path(), |p| p.0.as_path());
        let facts = match &padded {
            Some(_) => look(read_from, false)?.unwrap_or(facts),
            None => facts,
        };
        let source = read_only_connection(read_from, &facts)?;
        let header = read_header(&source)
            .map_err(|e| classify(&path, "salvaging: reading the schema version", e))?;
        check_header(&path, &header, SCHEMA_VERSION)?;
        if header.version == 0 {
            return Err(StoreError::NotADatabase {
                path,
                reason: "it is a SQLite file without cgdiff's tables".into(),
            });
        }
        drop(source);

        // The copy starts at the source's own schema version, so that its columns match.
        let mut copy = Connection::open_in_memory().map_err(|e| classify(&path, "salvaging", e))?;
        migrate(&mut copy, &path, &MIGRATIONS[..header.version as usize])?;
        let err = |context| {
            let path = path.clone();
            move |e| classify(&path, context, e)
        };
        copy.execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(err("salvaging"))?;
        let source_uri = uri(read_from, facts.wal && !facts.wal_file);
        copy.execute("ATTACH DATABASE ?1 AS src", [source_uri])
            .map_err(err("salvaging: attaching the source"))?;

        let tables: Vec<String> = copy
            .prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table' ORDER BY name")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(err("salvaging: listing tables"))?;
        let mut stats = SalvageStats::default();
        for table in &tables {
            // Generated columns are not in table_info and are recomputed by the copy.
            let columns: Vec<String> = copy
                .prepare(&format!("PRAGMA main.table_info(\"{table}\")"))
                .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(1))?.collect())
                .map_err(err("salvaging: reading columns"))?;
            let cols = columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let mut rowids = BTreeSet::new();
            if let Ok(mut st) = copy.prepare(&format!("SELECT rowid FROM src.\"{table}\"")) {
                if let Ok(mut rows) = st.query([]) {
                    while let Ok(Some(row)) = rows.next() {
                        match row.get::<_, i64>(0) {
                            Ok(id) => {
                                rowids.insert(id);
                            }
                            Err(_) => break,
                        }
                    }
                }
            }
            let max = copy
                .query_row(
                    &format!("SELECT max(rowid) FROM src.\"{table}\""),
                    [],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .ok()
                .flatten()
                .unwrap_or(0)
                .max(rowids.last().copied().unwrap_or(0));
            let probe_to = max.saturating_add(PROBE_MARGIN);
            let mut insert = copy
                .prepare(&format!(
                    "INSERT INTO main.\"{table}\" (rowid, {cols}) \
                     SELECT rowid, {cols} FROM src.\"{table}\" WHERE rowid = ?1"
                ))
                .map_err(err("salvaging: preparing a copy"))?;
            let (mut copied, mut lost) = (0u64, 0u64);
            for id in 1..=probe_to {
                match insert.execute([id]) {
                    Ok(n) => copied += n as u64,
                    Err(_) => lost += 1,
                }
            }
            drop(insert);
            stats.tables.push((table.clone(), copied, lost));
        }
        copy.execute_batch("DETACH DATABASE src")
            .map_err(err("salvaging: detaching the source"))?;
        repair(&copy).map_err(err("salvaging: repairing references"))?;
        let from = header.version;
        migrate(&mut copy, &path, MIGRATIONS)?;
        copy.execute_batch("PRAGMA foreign_keys = ON; PRAGMA query_only = ON;")
            .map_err(err("salvaging"))?;
        let store = Store {
            conn: copy,
            path,
            opened: Opened {
                read_only: true,
                created: false,
                upgraded_from: (from < SCHEMA_VERSION).then_some(from),
            },
        };
        Ok((store, stats))
    }
}

/// A temporary file, removed when dropped.
struct TempCopy(std::path::PathBuf);

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// When `path` is shorter than its header says, a copy of it padded with zeros to that size.
fn padded_copy(path: &Path) -> Result<Option<TempCopy>, StoreError> {
    let io = |context, io| StoreError::Io {
        path: path.to_path_buf(),
        context,
        io,
    };
    let bytes = std::fs::read(path).map_err(|e| io("salvaging: reading the file", e))?;
    if bytes.len() < 100 || bytes[24..28] != bytes[92..96] {
        return Ok(None);
    }
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    };
    let pages = u32::from_be_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]) as usize;
    let want = pages.saturating_mul(page_size);
    if page_size < 512 || bytes.len() >= want || want > (1 << 34) {
        return Ok(None);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let copy = TempCopy(
        std::env::temp_dir().join(format!("cgdiff-salvage-{}-{nanos}.db", std::process::id())),
    );
    let mut padded = bytes;
    padded.resize(want, 0);
    std::fs::write(&copy.0, padded).map_err(|e| io("salvaging: writing a padded copy", e))?;
    Ok(Some(copy))
}

/// Mends the references a lost row broke (see the module documentation). A store of schema 3
/// or later keys its signature rows (variants) by signature and bucket.
fn repair(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "UPDATE cases SET minimised_from = NULL
             WHERE minimised_from IS NOT NULL AND minimised_from NOT IN (SELECT id FROM cases);
         UPDATE cases SET run_id = NULL
             WHERE run_id IS NOT NULL AND run_id NOT IN (SELECT id FROM runs);
         DELETE FROM replays WHERE case_id NOT IN (SELECT id FROM cases);
         UPDATE replays SET run_id = NULL
             WHERE run_id IS NOT NULL AND run_id NOT IN (SELECT id FROM runs);",
    )?;
    let bucketed: bool = c.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('signatures') WHERE name = 'bucket'",
        [],
        |r| r.get(0),
    )?;
    if !bucketed {
        return c.execute_batch(
            "DELETE FROM signatures
                 WHERE signature NOT IN (SELECT signature FROM cases);
             UPDATE signatures SET best_case_id = (
                     SELECT c.id FROM cases c WHERE c.signature = signatures.signature
                     ORDER BY c.ops, length(c.text), c.text LIMIT 1)
                 WHERE best_case_id NOT IN (SELECT id FROM cases);
             INSERT INTO signatures (signature, classes, rule, first_seen, last_seen,
                                     best_case_id, hit_count)
                 SELECT c.signature, c.classes, c.rule, min(c.created_at), max(c.last_seen_at),
                        (SELECT b.id FROM cases b WHERE b.signature = c.signature
                         ORDER BY b.ops, length(b.text), b.text LIMIT 1),
                        sum(c.hit_count)
                 FROM cases c WHERE c.signature NOT IN (SELECT signature FROM signatures)
                 GROUP BY c.signature;",
        );
    }
    c.execute_batch(
        "DELETE FROM signatures WHERE NOT EXISTS (
                 SELECT 1 FROM cases c WHERE c.signature = signatures.signature
                 AND coalesce(c.bucket, '') = signatures.bucket);
         UPDATE signatures SET best_case_id = (
                 SELECT c.id FROM cases c WHERE c.signature = signatures.signature
                 AND coalesce(c.bucket, '') = signatures.bucket
                 ORDER BY c.ops, length(c.text), c.text LIMIT 1)
             WHERE best_case_id NOT IN (SELECT id FROM cases);
         INSERT INTO signatures (signature, bucket, classes, rule, first_seen, last_seen,
                                 best_case_id, hit_count)
             SELECT c.signature, coalesce(c.bucket, ''), c.classes, c.rule, min(c.created_at),
                    max(c.last_seen_at),
                    (SELECT b.id FROM cases b WHERE b.signature = c.signature
                     AND coalesce(b.bucket, '') = coalesce(c.bucket, '')
                     ORDER BY b.ops, length(b.text), b.text LIMIT 1),
                    sum(c.hit_count)
             FROM cases c WHERE NOT EXISTS (
                 SELECT 1 FROM signatures s WHERE s.signature = c.signature
                 AND s.bucket = coalesce(c.bucket, ''))
             GROUP BY c.signature, coalesce(c.bucket, '');",
    )
}
