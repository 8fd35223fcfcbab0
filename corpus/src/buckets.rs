//! Buckets and variants: the occurrences a run met, the buckets a store holds, which were
//! fixed. A variant is a signature within a bucket (the `signatures` table, keyed by both);
//! a bucket is the `buckets` view over its variants.

use crate::{classify, BucketRow, Occurrences, Store, StoreError};
use rusqlite::{params, TransactionBehavior};
use std::collections::HashSet;
use std::path::Path;

impl Store {
    /// Adds what run `run_id` met to its variants, in one transaction: occurrences, last seen
    /// (`now`), first and last run. Written once per run. A variant no case was stored for is
    /// skipped (nothing to attach the count to); returns how many were.
    pub fn count_occurrences_at(
        &mut self,
        run_id: i64,
        counts: &[Occurrences],
        now: i64,
    ) -> Result<usize, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &Path = path;
        let err = |context| move |e| classify(path, context, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting to count occurrences"))?;
        let mut skipped = 0;
        for o in counts {
            let changed = tx
                .prepare_cached(
                    "UPDATE signatures SET occurrences = occurrences + ?3, \
                         last_seen = max(last_seen, ?4), \
                         first_run = min(coalesce(first_run, ?5), ?5), \
                         last_run = max(coalesce(last_run, ?5), ?5) \
                     WHERE signature = ?1 AND bucket = ?2",
                )
                .and_then(|mut st| st.execute(params![o.signature, o.bucket, o.count, now, run_id]))
                .map_err(err("counting occurrences"))?;
            if changed == 0 {
                skipped += 1;
            }
        }
        tx.commit().map_err(err("committing occurrences"))?;
        Ok(skipped)
    }

    /// The buckets whose every variant's latest replay of its best case said `fixed`: met
    /// again, such a bucket is a regression.
    pub fn fixed_buckets(&self) -> Result<HashSet<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT s.bucket FROM signatures s \
                 LEFT JOIN replays r ON r.id = (SELECT max(id) FROM replays \
                     WHERE case_id = s.best_case_id) \
                 GROUP BY s.bucket \
                 HAVING count(*) = sum(coalesce(r.outcome, '') = 'fixed')",
            )
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("reading fixed buckets"))
    }

    /// Every bucket, with its variants summed: most occurrences first.
    pub fn buckets(&self) -> Result<Vec<BucketRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT b.bucket, b.variants, b.occurrences, b.hit_count, b.first_seen, \
                     b.last_seen, b.first_run, b.last_run, \
                     (SELECT s.best_case_id FROM signatures s JOIN cases c \
                         ON c.id = s.best_case_id WHERE s.bucket = b.bucket \
                         ORDER BY c.ops, length(c.text), c.text LIMIT 1), \
                     (SELECT count(*) FROM signatures s WHERE s.bucket = b.bucket \
                         AND s.rule IS NOT NULL) \
                 FROM buckets b ORDER BY b.occurrences DESC, b.bucket",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(BucketRow {
                        bucket: r.get(0)?,
                        variants: r.get(1)?,
                        occurrences: r.get(2)?,
                        hit_count: r.get(3)?,
                        first_seen: r.get(4)?,
                        last_seen: r.get(5)?,
                        first_run: r.get(6)?,
                        last_run: r.get(7)?,
                        best_case_id: r.get(8)?,
                        expected: r.get::<_, i64>(9)? > 0,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading buckets"))
    }
}
