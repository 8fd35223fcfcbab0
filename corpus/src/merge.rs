//! Merging one database into another: how the finds of many shards, CI machines or
//! ClusterFuzzLite jobs come back to one store.
//!
//! Cases are unioned, deduplicated by (signature, text) exactly as [`Store::record`] does,
//! with hit counts summed; signatures are unioned with hit counts summed, first/last seen
//! widened and the best case re-chosen as the smallest of both; runs and replays are copied
//! (new ids, references rewritten), each copied run naming its origin in `extra.merged_from`.

use crate::{text_hash, CaseFilter, Store, StoreError};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::collections::HashMap;

/// What [`Store::merge_from`] brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeStats {
    /// Runs copied.
    pub runs: u64,
    /// Cases new to this store.
    pub cases_added: u64,
    /// Cases this store already had (same signature and text): their hit counts were summed.
    pub cases_matched: u64,
    /// Signatures new to this store.
    pub signatures_added: u64,
    /// Signatures this store already had: hit counts summed, best case re-chosen.
    pub signatures_matched: u64,
    /// Replays copied.
    pub replays: u64,
}

impl Store {
    /// Merges everything `other` holds into this store, in one transaction (a failure leaves
    /// this store as it was).
    ///
    /// Merging is additive: merging the same source twice counts its hits and copies its runs
    /// twice, so merge each shard's database once (the copied runs' `extra.merged_from` says
    /// which were merged). A store cannot be merged into itself.
    pub fn merge_from(&mut self, other: &Store) -> Result<MergeStats, StoreError> {
        let same = match (self.path.canonicalize(), other.path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.path == other.path,
        };
        if same {
            return Err(self.invalid(
                "merge source",
                format!("{} is this database itself", other.path.display()),
            ));
        }
        let runs = other.runs()?;
        let cases = other.cases(&CaseFilter::default())?;
        let sigs = other.signatures()?;
        let replays = other.replays(None)?;
        let source = other.path.display().to_string();

        let Store { conn, path, .. } = self;
        let path: &std::path::Path = path;
        let err = |context| move |e| crate::classify(path, context, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a merge"))?;
        let mut stats = MergeStats::default();

        let mut run_map: HashMap<i64, i64> = HashMap::new();
        for r in &runs {
            let mut extra = r.extra.clone();
            let mut origin = serde_json::json!({"db": source, "run_id": r.id});
            if let Some(obj) = extra.as_object_mut() {
                if let Some(prev) = obj.remove("merged_from") {
                    origin["previous"] = prev;
                }
                obj.insert("merged_from".into(), origin);
            } else {
                extra = serde_json::json!({ "merged_from": origin });
            }
            let id = tx
                .prepare_cached(
                    "INSERT INTO runs (kind, started_at, ended_at, cases_executed, operations, \
                         cases_per_sec, ops_per_sec, seed, shard, jobs, git_commit, \
                         tool_version, new_signatures, divergences, extra) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .and_then(|mut st| {
                    st.insert(params![
                        r.kind.as_str(),
                        r.started_at,
                        r.ended_at,
                        r.cases_executed,
                        r.operations,
                        r.cases_per_sec,
                        r.ops_per_sec,
                        r.seed.map(|s| s.to_string()),
                        r.shard,
                        r.jobs,
                        r.git_commit,
                        r.tool_version,
                        r.new_signatures,
                        r.divergences,
                        extra.to_string(),
                    ])
                })
                .map_err(err("copying a run"))?;
            run_map.insert(r.id, id);
            stats.runs += 1;
        }

        // Oldest first: a minimised case names an earlier one, already mapped.
        let mut case_map: HashMap<i64, i64> = HashMap::new();
        for c in &cases {
            let hash = text_hash(c.text.as_bytes());
            let existing: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM cases WHERE signature = ?1 AND text_hash = ?2 AND text = ?3",
                )
                .and_then(|mut st| {
                    st.query_row(params![c.signature, hash, c.text], |r| r.get(0))
                        .optional()
                })
                .map_err(err("looking up a merged case"))?;
            let id = match existing {
                Some(id) => {
                    tx.prepare_cached(
                        "UPDATE cases SET hit_count = hit_count + ?2, \
                             created_at = min(created_at, ?3), \
                             last_seen_at = max(last_seen_at, ?4), bytes = coalesce(bytes, ?5) \
                         WHERE id = ?1",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            id,
                            c.hit_count,
                            c.created_at,
                            c.last_seen_at,
                            c.bytes
                        ])
                    })
                    .map_err(err("summing a merged case's hits"))?;
                    stats.cases_matched += 1;
                    id
                }
                None => {
                    let id = tx
                        .prepare_cached(
                            "INSERT INTO cases (text, text_hash, bytes, signature, classes, rule, \
                                 first_op, ops, minimised_from, found_by, run_id, tool_version, \
                                 git_commit, created_at, last_seen_at, hit_count, bucket) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
                                 ?14, ?15, ?16, ?17)",
                        )
                        .and_then(|mut st| {
                            st.insert(params![
                                c.text,
                                hash,
                                c.bytes,
                                c.signature,
                                c.classes.join(","),
                                c.rule,
                                c.first_op,
                                c.ops,
                                c.minimised_from.and_then(|f| case_map.get(&f).copied()),
                                c.found_by.as_str(),
                                c.run_id.and_then(|r| run_map.get(&r).copied()),
                                c.tool_version,
                                c.git_commit,
                                c.created_at,
                                c.last_seen_at,
                                c.hit_count,
                                c.bucket,
                            ])
                        })
                        .map_err(err("copying a case"))?;
                    stats.cases_added += 1;
                    id
                }
            };
            case_map.insert(c.id, id);
        }

        for s in &sigs {
            let Some(&best) = case_map.get(&s.best_case_id) else {
                return Err(other.bad_row(
                    "signatures",
                    0,
                    format!("{}: best case {} is missing", s.signature, s.best_case_id),
                ));
            };
            let classes = s.classes.join(",");
            let first_run = s.first_run.and_then(|r| run_map.get(&r).copied());
            let last_run = s.last_run.and_then(|r| run_map.get(&r).copied());
            type Existing = (i64, u32, String, i64, i64);
            let existing: Option<Existing> = tx
                .prepare_cached(
                    "SELECT s.best_case_id, c.ops, c.text, s.first_seen, s.last_seen \
                     FROM signatures s JOIN cases c ON c.id = s.best_case_id \
                     WHERE s.signature = ?1 AND s.bucket = ?2",
                )
                .and_then(|mut st| {
                    st.query_row([&s.signature, &s.bucket], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()
                })
                .map_err(err("looking up a merged signature"))?;
            match existing {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO signatures (signature, bucket, classes, rule, first_seen, \
                             last_seen, best_case_id, hit_count, occurrences, first_run, \
                             last_run) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            s.signature,
                            s.bucket,
                            classes,
                            s.rule,
                            s.first_seen,
                            s.last_seen,
                            best,
                            s.hit_count,
                            s.occurrences,
                            first_run,
                            last_run,
                        ])
                    })
                    .map_err(err("copying a signature"))?;
                    stats.signatures_added += 1;
                }
                Some((best_id, best_ops, best_text, _, last_seen)) => {
                    let (ops, text): (u32, String) = tx
                        .prepare_cached("SELECT ops, text FROM cases WHERE id = ?1")
                        .and_then(|mut st| st.query_row([best], |r| Ok((r.get(0)?, r.get(1)?))))
                        .map_err(err("reading a merged best case"))?;
                    // The same order as `record_at`: fewest ops, shortest text, byte order.
                    let new_best = if (ops, text.len(), text.as_str())
                        < (best_ops, best_text.len(), best_text.as_str())
                    {
                        best
                    } else {
                        best_id
                    };
                    // Classes and rule follow from the (signature, bucket) key. Runs keep their
                    // order across a merge only within one database: first/last run are
                    // this database's if it has them.
                    let _ = last_seen;
                    tx.prepare_cached(
                        "UPDATE signatures SET hit_count = hit_count + ?3, \
                             first_seen = min(first_seen, ?4), last_seen = max(last_seen, ?5), \
                             best_case_id = ?6, occurrences = occurrences + ?7, \
                             first_run = coalesce(first_run, ?8), \
                             last_run = coalesce(?9, last_run) \
                         WHERE signature = ?1 AND bucket = ?2",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            s.signature,
                            s.bucket,
                            s.hit_count,
                            s.first_seen,
                            s.last_seen,
                            new_best,
                            s.occurrences,
                            first_run,
                            last_run,
                        ])
                    })
                    .map_err(err("merging a signature"))?;
                    stats.signatures_matched += 1;
                }
            }
        }

        for r in &replays {
            let Some(&case_id) = case_map.get(&r.case_id) else {
                return Err(other.bad_row(
                    "replays",
                    r.id,
                    format!("case {} is missing", r.case_id),
                ));
            };
            tx.prepare_cached(
                "INSERT INTO replays (run_id, case_id, outcome, signature_now, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    r.run_id.and_then(|id| run_map.get(&id).copied()),
                    case_id,
                    r.outcome.as_str(),
                    r.signature_now,
                    r.at
                ])
            })
            .map_err(err("copying a replay"))?;
            stats.replays += 1;
        }
        tx.commit().map_err(err("committing the merge"))?;
        Ok(stats)
    }
}
