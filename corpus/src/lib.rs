//! cgdiff's case store: one SQLite file holding every divergent case found, deduplicated by
//! signature, with the runs that found them and the replays that re-checked them.
//!
//! Why SQLite: campaigns run as several processes (shards, cargo-fuzz workers) that must all
//! append to one corpus without losing a find when one of them is killed. WAL mode gives
//! concurrent readers, serialised writers that wait (`busy_timeout`) instead of failing, and
//! committed transactions that survive the writer being killed.
//!
//! The store knows nothing of the engine's types: it deals in the canonical case text, the
//! raw bytes a case was decoded from, signature and class strings. That keeps it stable while
//! the engine changes, and keeps old databases readable by new builds.
//!
//! Every method that takes a timestamp has an `_at` twin taking `now` in unix seconds; the
//! plain one reads the system clock. Tests and deterministic replays use the `_at` ones.

mod buckets;
mod error;
mod merge;
mod open;
mod salvage;
mod schema;
mod types;

pub use error::StoreError;
pub use merge::MergeStats;
pub use open::Opened;
pub use salvage::SalvageStats;
pub use schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
pub use types::*;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a writer waits for another process's write lock before giving up. Generous:
/// writers hold the lock for well under a millisecond, so reaching it means something is
/// stuck, and a campaign should not lose a find to a brief pile-up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The current time in unix seconds, as the plain (non-`_at`) methods stamp rows.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An open case database. One per process (or per thread): a `Store` is `Send` but not
/// `Sync`, and several processes may open the same file at once.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// How it was opened (read-only, migrated): see [`Store::opened`].
    opened: Opened,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const CASE_COLUMNS: &str = "id, text, bytes, signature, classes, rule, first_op, ops, \
     minimised_from, found_by, run_id, tool_version, git_commit, created_at, last_seen_at, \
     hit_count, bucket";

const RUN_COLUMNS: &str = "id, kind, started_at, ended_at, cases_executed, operations, \
     cases_per_sec, ops_per_sec, seed, shard, jobs, git_commit, tool_version, new_signatures, \
     divergences, extra";

impl Store {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |e| classify(&self.path, context, e)
    }

    fn invalid(&self, what: &'static str, detail: impl Into<String>) -> StoreError {
        StoreError::InvalidInput {
            path: self.path.clone(),
            what,
            detail: detail.into(),
        }
    }

    fn bad_row(&self, table: &'static str, id: i64, detail: impl Into<String>) -> StoreError {
        StoreError::BadRow {
            path: self.path.clone(),
            table,
            id,
            detail: detail.into(),
        }
    }

    /// Records a divergent case found now. See [`Store::record_at`].
    pub fn record(&mut self, c: &NewCase) -> Result<Recorded, StoreError> {
        self.record_at(c, unix_now())
    }

    /// Records a divergent case, in one transaction.
    ///
    /// The same signature and text recorded again bumps that case's hit count instead of
    /// storing it twice. Every record bumps the signature's hit count. The signature's best
    /// case is the smallest: fewest operations, then shortest text, then first in byte order,
    /// so the best is the same whatever order cases arrive in.
    pub fn record_at(&mut self, c: &NewCase, now: i64) -> Result<Recorded, StoreError> {
        for class in &c.classes {
            if class.is_empty() || class.contains(',') {
                return Err(self.invalid(
                    "class",
                    format!("{class:?}: class names must be non-empty and contain no ','"),
                ));
            }
        }
        let classes = c.classes.join(",");
        let Store { conn, path, .. } = self;
        let path: &Path = path;
        let err = |context| move |e| classify(path, context, e);

        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting to record a case"))?;

        let hash = text_hash(c.text.as_bytes());
        let existing: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM cases WHERE signature = ?1 AND text_hash = ?2 AND text = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![c.signature, hash, c.text], |r| r.get(0))
                    .optional()
            })
            .map_err(err("looking up the case"))?;
        let inserted = existing.is_none();
        let case_id = match existing {
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE cases SET hit_count = hit_count + 1, \
                         last_seen_at = max(last_seen_at, ?2), bytes = coalesce(bytes, ?3), \
                         bucket = coalesce(bucket, ?4) \
                     WHERE id = ?1",
                )
                .and_then(|mut st| st.execute(params![id, now, c.bytes, c.bucket]))
                .map_err(err("counting a repeated case"))?;
                id
            }
            None => tx
                .prepare_cached(
                    "INSERT INTO cases (text, text_hash, bytes, signature, classes, rule, \
                         first_op, ops, minimised_from, found_by, run_id, tool_version, \
                         git_commit, created_at, last_seen_at, hit_count, bucket) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 1, \
                             ?15)",
                )
                .and_then(|mut st| {
                    st.insert(params![
                        c.text,
                        hash,
                        c.bytes,
                        c.signature,
                        classes,
                        c.rule,
                        c.first_op,
                        c.ops,
                        c.minimised_from,
                        c.found_by.as_str(),
                        c.run_id,
                        c.tool_version,
                        c.git_commit,
                        now,
                        c.bucket,
                    ])
                })
                .map_err(err("storing the case"))?,
        };

        let best: Option<(i64, u32, String)> = tx
            .prepare_cached(
                "SELECT s.best_case_id, c.ops, c.text FROM signatures s \
                 JOIN cases c ON c.id = s.best_case_id WHERE s.signature = ?1 AND s.bucket = ?2",
            )
            .and_then(|mut st| {
                st.query_row([&c.signature, &c.bucket], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
            })
            .map_err(err("looking up the signature"))?;

        let recorded = match best {
            None => {
                // Judged here, under the write lock: of concurrent writers, one sees it new.
                let new_bucket = tx
                    .prepare_cached("SELECT 1 FROM signatures WHERE bucket = ?1 LIMIT 1")
                    .and_then(|mut st| st.query_row([&c.bucket], |_| Ok(())).optional())
                    .map_err(err("looking up the bucket"))?
                    .is_none();
                tx.prepare_cached(
                    "INSERT INTO signatures (signature, bucket, classes, rule, first_seen, \
                         last_seen, best_case_id, hit_count, first_run, last_run) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 1, ?7, ?7)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        c.signature,
                        c.bucket,
                        classes,
                        c.rule,
                        now,
                        case_id,
                        c.run_id
                    ])
                })
                .map_err(err("storing the signature"))?;
                Recorded::NewSignature {
                    case_id,
                    new_bucket,
                }
            }
            Some((best_id, best_ops, best_text)) => {
                let smaller = inserted
                    && (c.ops, c.text.len(), c.text.as_str())
                        < (best_ops, best_text.len(), best_text.as_str());
                let new_best = if smaller { case_id } else { best_id };
                // Classes and rule follow from the (signature, bucket) key: not rewritten.
                tx.prepare_cached(
                    "UPDATE signatures SET hit_count = hit_count + 1, \
                         first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?3), \
                         best_case_id = ?4 \
                     WHERE signature = ?1 AND bucket = ?2",
                )
                .and_then(|mut st| st.execute(params![c.signature, c.bucket, now, new_best]))
                .map_err(err("updating the signature"))?;
                if smaller {
                    Recorded::NewBest {
                        case_id,
                        previous_best: best_id,
                    }
                } else {
                    Recorded::Duplicate {
                        case_id,
                        best_case_id: best_id,
                    }
                }
            }
        };
        tx.commit().map_err(err("committing the case"))?;
        Ok(recorded)
    }

    /// Starts a run now. See [`Store::begin_run_at`].
    pub fn begin_run(&mut self, r: &NewRun) -> Result<i64, StoreError> {
        self.begin_run_at(r, unix_now())
    }

    /// Starts a run at `now` and returns its id, for cases to point at while it goes on. A
    /// run that never finishes (the process died) keeps `ended_at` NULL, which is how a
    /// report tells it apart.
    pub fn begin_run_at(&mut self, r: &NewRun, now: i64) -> Result<i64, StoreError> {
        let extra = self.json_object("extra", r.extra.as_ref())?;
        self.conn
            .prepare_cached(
                "INSERT INTO runs (kind, started_at, seed, shard, jobs, git_commit, tool_version, \
                     extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, '{}'))",
            )
            .and_then(|mut st| {
                st.insert(params![
                    r.kind.as_str(),
                    now,
                    r.seed.map(|s| s.to_string()),
                    r.shard,
                    r.jobs,
                    r.git_commit,
                    r.tool_version,
                    extra,
                ])
            })
            .map_err(self.err("starting a run"))
    }

    /// Finishes run `id` now. See [`Store::finish_run_at`].
    pub fn finish_run(&mut self, id: i64, totals: &RunTotals) -> Result<(), StoreError> {
        self.finish_run_at(id, totals, unix_now())
    }

    /// Stores run `id`'s totals and end time. The rates are computed from
    /// `totals.elapsed` (left NULL if it is zero); `totals.extra` is merged into the run's
    /// `extra`.
    pub fn finish_run_at(
        &mut self,
        id: i64,
        totals: &RunTotals,
        now: i64,
    ) -> Result<(), StoreError> {
        let extra = self.json_object("extra", totals.extra.as_ref())?;
        let secs = totals.elapsed.as_secs_f64();
        let rate = |n: u64| (secs > 0.0).then(|| n as f64 / secs);
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE runs SET ended_at = ?2, cases_executed = ?3, operations = ?4, \
                     cases_per_sec = ?5, ops_per_sec = ?6, new_signatures = ?7, \
                     divergences = ?8, \
                     extra = CASE WHEN ?9 IS NULL THEN extra ELSE json_patch(extra, ?9) END \
                 WHERE id = ?1",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id,
                    now,
                    totals.cases_executed,
                    totals.operations,
                    rate(totals.cases_executed),
                    rate(totals.operations),
                    totals.new_signatures,
                    totals.divergences,
                    extra,
                ])
            })
            .map_err(self.err("finishing a run"))?;
        if changed == 0 {
            return Err(self.invalid("run id", format!("no run {id}")));
        }
        Ok(())
    }

    /// Records a replay of a stored case now. See [`Store::record_replay_at`].
    pub fn record_replay(&mut self, r: &NewReplay) -> Result<i64, StoreError> {
        self.record_replay_at(r, unix_now())
    }

    /// Records that case `r.case_id` was replayed at `now` with outcome `r.outcome`, and
    /// returns the replay's id. `signature_now` must be `None` exactly when the outcome is
    /// [`ReplayOutcome::Fixed`]: a case that still diverges has a signature.
    pub fn record_replay_at(&mut self, r: &NewReplay, now: i64) -> Result<i64, StoreError> {
        if (r.outcome == ReplayOutcome::Fixed) != r.signature_now.is_none() {
            return Err(self.invalid(
                "replay",
                format!(
                    "outcome {} with signature_now {:?}: only a fixed case has no signature",
                    r.outcome, r.signature_now
                ),
            ));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO replays (run_id, case_id, outcome, signature_now, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.insert(params![
                    r.run_id,
                    r.case_id,
                    r.outcome.as_str(),
                    r.signature_now,
                    now
                ])
            })
            .map_err(self.err("recording a replay"))
    }

    /// The case with id `id`, if any.
    pub fn case(&self, id: i64) -> Result<Option<CaseRow>, StoreError> {
        let raw = self
            .conn
            .prepare_cached(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"))
            .and_then(|mut st| st.query_row([id], RawCase::from_row).optional())
            .map_err(self.err("reading a case"))?;
        raw.map(|r| r.into_row(self)).transpose()
    }

    /// The cases `filter` selects, oldest first.
    pub fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        // At most four distinct statements, each cached; spelled out rather than
        // `?1 IS NULL OR ...` so that the signature index is usable.
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1");
        if filter.signature.is_some() {
            sql.push_str(" AND signature = ?1");
        }
        if filter.unexpected_only {
            sql.push_str(" AND rule IS NULL");
        }
        if filter.bucket.is_some() {
            sql.push_str(" AND bucket = ?3");
        }
        sql.push_str(" ORDER BY id LIMIT ?2");
        let limit = filter.limit.map_or(-1, i64::from);
        let raws = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                if let Some(sig) = &filter.signature {
                    st.raw_bind_parameter(1, sig)?;
                }
                st.raw_bind_parameter(2, limit)?;
                if let Some(b) = &filter.bucket {
                    st.raw_bind_parameter(3, b)?;
                }
                let mut rows = st.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(RawCase::from_row(row)?);
                }
                Ok(out)
            })
            .map_err(self.err("reading cases"))?;
        raws.into_iter().map(|r| r.into_row(self)).collect()
    }

    /// Every signature, oldest first.
    pub fn signatures(&self) -> Result<Vec<SignatureRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT s.signature, s.classes, s.rule, s.expected, s.first_seen, s.last_seen, \
                     s.best_case_id, s.hit_count, \
                     (SELECT count(*) FROM cases c WHERE c.signature = s.signature \
                         AND coalesce(c.bucket, '') = s.bucket), \
                     s.bucket, s.occurrences, s.first_run, s.last_run \
                 FROM signatures s ORDER BY s.first_seen, s.signature, s.bucket",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(SignatureRow {
                        signature: r.get(0)?,
                        classes: split_classes(&r.get::<_, String>(1)?),
                        rule: r.get(2)?,
                        expected: r.get(3)?,
                        first_seen: r.get(4)?,
                        last_seen: r.get(5)?,
                        best_case_id: r.get(6)?,
                        hit_count: r.get(7)?,
                        cases: r.get(8)?,
                        bucket: r.get(9)?,
                        occurrences: r.get(10)?,
                        first_run: r.get(11)?,
                        last_run: r.get(12)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading signatures"))
    }

    /// The set of signatures stored, so that a campaign can tell new finds from old ones
    /// without a query per divergence.
    pub fn known_signatures(&self) -> Result<HashSet<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT signature FROM signatures")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("reading signatures"))
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        type Raw = (RunRow, String, Option<String>, String);
        let raws: Vec<Raw> = self
            .conn
            .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id"))
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok((
                        RunRow {
                            id: r.get(0)?,
                            kind: RunKind::Campaign, // replaced below
                            started_at: r.get(2)?,
                            ended_at: r.get(3)?,
                            cases_executed: r.get(4)?,
                            operations: r.get(5)?,
                            cases_per_sec: r.get(6)?,
                            ops_per_sec: r.get(7)?,
                            seed: None, // replaced below
                            shard: r.get(9)?,
                            jobs: r.get(10)?,
                            git_commit: r.get(11)?,
                            tool_version: r.get(12)?,
                            new_signatures: r.get(13)?,
                            divergences: r.get(14)?,
                            extra: serde_json::Value::Null, // replaced below
                        },
                        r.get(1)?,
                        r.get(8)?,
                        r.get(15)?,
                    ))
                })?
                .collect()
            })
            .map_err(self.err("reading runs"))?;
        raws.into_iter()
            .map(|(mut run, kind, seed, extra)| {
                run.kind = RunKind::parse(&kind).ok_or_else(|| {
                    self.bad_row("runs", run.id, format!("unknown kind {kind:?}"))
                })?;
                run.seed = seed
                    .map(|s| {
                        s.parse()
                            .map_err(|_| self.bad_row("runs", run.id, format!("bad seed {s:?}")))
                    })
                    .transpose()?;
                run.extra = serde_json::from_str(&extra)
                    .map_err(|e| self.bad_row("runs", run.id, format!("bad extra: {e}")))?;
                Ok(run)
            })
            .collect()
    }

    /// The replays of case `case_id`, or every replay if `None`, oldest first.
    pub fn replays(&self, case_id: Option<i64>) -> Result<Vec<ReplayRow>, StoreError> {
        let raws: Vec<(ReplayRow, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, run_id, case_id, outcome, signature_now, at FROM replays \
                 WHERE ?1 IS NULL OR case_id = ?1 ORDER BY id",
            )
            .and_then(|mut st| {
                st.query_map([case_id], |r| {
                    Ok((
                        ReplayRow {
                            id: r.get(0)?,
                            run_id: r.get(1)?,
                            case_id: r.get(2)?,
                            outcome: ReplayOutcome::Reproduces, // replaced below
                            signature_now: r.get(4)?,
                            at: r.get(5)?,
                        },
                        r.get(3)?,
                    ))
                })?
                .collect()
            })
            .map_err(self.err("reading replays"))?;
        raws.into_iter()
            .map(|(mut replay, outcome)| {
                replay.outcome = ReplayOutcome::parse(&outcome).ok_or_else(|| {
                    self.bad_row("replays", replay.id, format!("unknown outcome {outcome:?}"))
                })?;
                Ok(replay)
            })
            .collect()
    }

    /// Whether the database passes SQLite's `integrity_check` and has no dangling foreign
    /// keys. See [`Store::integrity_problems`] for what is wrong when it does not.
    pub fn integrity_check(&self) -> Result<bool, StoreError> {
        Ok(self.integrity_problems()?.is_empty())
    }

    /// What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` report, one line per
    /// problem; empty when the database is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut problems: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
            .map_err(self.err("checking integrity"))?;
        problems.retain(|p| p != "ok");
        let dangling: Vec<String> = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(format!(
                        "{} row {} points at a missing {} row",
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?
                            .map_or_else(|| "?".to_string(), |id| id.to_string()),
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect()
            })
            .map_err(self.err("checking foreign keys"))?;
        problems.extend(dangling);
        Ok(problems)
    }

    /// Checks that an `extra` value is a JSON object and renders it.
    fn json_object(
        &self,
        what: &'static str,
        value: Option<&serde_json::Value>,
    ) -> Result<Option<String>, StoreError> {
        match value {
            None => Ok(None),
            Some(v @ serde_json::Value::Object(_)) => Ok(Some(v.to_string())),
            Some(v) => Err(self.invalid(what, format!("{v} is not a JSON object"))),
        }
    }
}

/// A case row as read, before its enum column is checked.
struct RawCase {
    row: CaseRow,
    found_by: String,
}

impl RawCase {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawCase> {
        Ok(RawCase {
            row: CaseRow {
                id: r.get(0)?,
                text: r.get(1)?,
                bytes: r.get(2)?,
                signature: r.get(3)?,
                classes: split_classes(&r.get::<_, String>(4)?),
                rule: r.get(5)?,
                first_op: r.get(6)?,
                ops: r.get(7)?,
                minimised_from: r.get(8)?,
                found_by: FoundBy::Campaign, // replaced in into_row
                run_id: r.get(10)?,
                tool_version: r.get(11)?,
                git_commit: r.get(12)?,
                created_at: r.get(13)?,
                last_seen_at: r.get(14)?,
                hit_count: r.get(15)?,
                bucket: r.get(16)?,
            },
            found_by: r.get(9)?,
        })
    }

    fn into_row(self, store: &Store) -> Result<CaseRow, StoreError> {
        let RawCase { mut row, found_by } = self;
        row.found_by = FoundBy::parse(&found_by).ok_or_else(|| {
            store.bad_row("cases", row.id, format!("unknown found_by {found_by:?}"))
        })?;
        Ok(row)
    }
}

/// 64-bit FNV-1a of the case text: the key of the dedupe index, a fixed function so that
/// every build and every process computes the same value. Collisions only cost a text
/// comparison; equality of the text itself is what makes two cases the same.
fn text_hash(text: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

fn split_classes(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_string).collect()
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// `s` cut to at most `max` characters, saying how long it was: a message quotes a hostile
/// value without printing all of it.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &s[..cut], s.len()),
    }
}

/// SQLite's own words for an error, once: the message it gave, or the text of its code.
pub(crate) fn sqlite_text(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqliteFailure(err, None) => {
            rusqlite::ffi::code_to_str(err.extended_code).to_string()
        }
        other => other.to_string(),
    }
}

/// Maps a SQLite failure to the error a person can act on: not a database, corrupt, locked,
/// read-only; anything else is [`StoreError::Sqlite`] with what the store was doing.
fn classify(path: &Path, context: &'static str, e: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path,
            reason: "SQLite does not recognise it as a database".into(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path,
            problem: format!("{} while {context}", sqlite_text(&e)),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path,
            why: "SQLite opened it read-only",
        },
        _ => StoreError::Sqlite {
            path,
            context,
            sqlite: e,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::open::migrate;
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cgdiff-corpus-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("cgdiff.db")
    }

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    /// A database at the current version is taken to a pretend later one by the steps after
    /// its version only, keeping its rows; a failing step leaves it exactly where it was.
    #[test]
    fn migrations_run_from_the_files_version_and_a_failing_step_changes_nothing() {
        let db = temp_db("migrate");
        let mut store = Store::open(&db).unwrap();
        store
            .record_at(
                &NewCase {
                    text: "op".into(),
                    bytes: None,
                    signature: "s".into(),
                    classes: vec![],
                    rule: None,
                    bucket: String::new(),
                    first_op: 0,
                    ops: 1,
                    minimised_from: None,
                    found_by: FoundBy::Import,
                    run_id: None,
                    tool_version: "t".into(),
                    git_commit: None,
                },
                1,
            )
            .unwrap();
        let Store { mut conn, path, .. } = store;

        let current = SCHEMA_VERSION;
        let broken: Vec<&str> = MIGRATIONS
            .iter()
            .copied()
            .chain(["ALTER TABLE cases ADD COLUMN note TEXT", "NOT SQL"])
            .collect();
        let err = migrate(&mut conn, &path, &broken).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Sqlite {
                    context: "migrating the schema",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(version(&conn), current);
        assert!(
            conn.prepare("SELECT note FROM cases").is_err(),
            "step 2 was not rolled back"
        );

        let good: Vec<&str> = MIGRATIONS
            .iter()
            .copied()
            .chain([
                "ALTER TABLE cases ADD COLUMN note TEXT",
                "UPDATE cases SET note = 'migrated'",
            ])
            .collect();
        migrate(&mut conn, &path, &good).unwrap();
        assert_eq!(version(&conn), current + 2);
        let note: String = conn
            .query_row("SELECT note FROM cases", [], |r| r.get(0))
            .unwrap();
        assert_eq!(note, "migrated");

        // Now newer than this build: refused.
        drop(conn);
        assert!(matches!(
            Store::open(&db),
            Err(StoreError::NewerSchema { found, supported, .. })
                if found == current + 2 && supported == current
        ));
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }

    /// A migration that has reached main must never change (databases out there ran it):
    /// append a new step instead, and add its hash here.
    #[test]
    fn shipped_migrations_are_unchanged() {
        let shipped: [u64; 3] = [
            0xa75b_f950_4aa1_d030,
            0x2a97_1937_6589_32f4,
            0x0929_561f_388f_9975,
        ];
        for (i, (step, want)) in MIGRATIONS.iter().zip(shipped).enumerate() {
            assert_eq!(
                text_hash(step.as_bytes()) as u64,
                want,
                "migration step {i} was edited"
            );
        }
        assert_eq!(MIGRATIONS.len(), shipped.len(), "pin the new step's hash");
    }

    /// The hash is stored: it must never change. Reference values of 64-bit FNV-1a.
    #[test]
    fn text_hash_is_fnv1a_64() {
        assert_eq!(super::text_hash(b"") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::text_hash(b"a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::text_hash(b"foobar") as u64, 0x8594_4171_f739_67e8);
    }
}
