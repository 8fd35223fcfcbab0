//! What a run met, in buckets: the tally a campaign or an import prints and the gate it exits
//! by. Pure: the CLI feeds it what the store said (which buckets and variants were new at
//! commit time, which buckets had been fixed) and prints it.

use cgdiff_engine::findings::{self, BucketKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// One variant (a signature within a bucket) met in a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VariantLine {
    pub signature: String,
    /// Divergent executions of the run in this variant.
    pub occurrences: u64,
    /// Not in the store before this run (judged at commit time).
    pub new: bool,
    /// Its case stored by this run (minimised), if the run stored one.
    pub case_id: Option<i64>,
    /// Operations of that case.
    pub ops: Option<usize>,
    /// Which generated case of the run it came from (with the seed, enough to regenerate it),
    /// and whether the fault sweep found it.
    pub case_index: Option<u64>,
    pub found_by_sweep: bool,
}

/// One bucket met in a run.
#[derive(Clone, Debug, Serialize)]
pub struct BucketLine {
    pub bucket: String,
    /// `expected`, `finding` or `unlisted`.
    pub kind: BucketKind,
    /// The causes' titles, for people.
    pub title: String,
    /// Not in the store before this run (judged at commit time).
    pub new: bool,
    /// Every variant of it had been replayed as fixed, and it is back.
    pub regressed: bool,
    pub occurrences: u64,
    pub variants: Vec<VariantLine>,
    pub new_variants: usize,
}

/// The buckets of a run, built from its counts and what storing its findings said.
#[derive(Default)]
pub struct Tally {
    buckets: BTreeMap<String, BucketLine>,
}

/// The title of a bucket by name: its causes' titles, or what it is.
pub fn bucket_title(name: &str) -> String {
    match findings::Bucket::from_name(name) {
        Some(b) if b.is_unlisted() => {
            "no rule and no finding of docs/findings.md explains it".to_string()
        }
        // In the name's order: findings first.
        Some(_) => name
            .split('+')
            .filter_map(findings::cause)
            .map(|c| c.title)
            .collect::<Vec<_>>()
            .join(" + "),
        None if name.is_empty() => "recorded before triage".to_string(),
        None => "a cause this build does not know".to_string(),
    }
}

impl Tally {
    fn bucket(&mut self, name: &str) -> &mut BucketLine {
        self.buckets
            .entry(name.to_string())
            .or_insert_with(|| BucketLine {
                bucket: name.to_string(),
                kind: findings::kind_of(name),
                title: bucket_title(name),
                new: false,
                regressed: false,
                occurrences: 0,
                variants: Vec::new(),
                new_variants: 0,
            })
    }

    fn variant(&mut self, bucket: &str, signature: &str) -> &mut VariantLine {
        let b = self.bucket(bucket);
        let i = match b.variants.iter().position(|v| v.signature == signature) {
            Some(i) => i,
            None => {
                b.variants.push(VariantLine {
                    signature: signature.to_string(),
                    ..VariantLine::default()
                });
                b.variants.len() - 1
            }
        };
        &mut b.variants[i]
    }

    /// Divergent executions counted in a variant.
    pub fn count(&mut self, bucket: &str, signature: &str, n: u64) {
        self.variant(bucket, signature).occurrences += n;
        self.bucket(bucket).occurrences += n;
    }

    /// A stored finding: its case, and what the store said was new.
    pub fn stored(
        &mut self,
        bucket: &str,
        signature: &str,
        case_id: i64,
        ops: usize,
        new_variant: bool,
        new_bucket: bool,
    ) {
        let v = self.variant(bucket, signature);
        if v.ops.is_none_or(|o| ops < o) {
            v.case_id = Some(case_id);
            v.ops = Some(ops);
        }
        v.new |= new_variant;
        let b = self.bucket(bucket);
        b.new |= new_bucket;
    }

    /// Where a campaign's stored case of a variant came from.
    pub fn origin(&mut self, bucket: &str, signature: &str, case_index: u64, swept: bool) {
        let v = self.variant(bucket, signature);
        v.case_index = Some(case_index);
        v.found_by_sweep = swept;
    }

    /// Marks the buckets in `fixed` that this run met as regressed.
    pub fn regressions(&mut self, fixed: &std::collections::HashSet<String>) {
        for b in self.buckets.values_mut() {
            b.regressed = fixed.contains(&b.bucket);
        }
    }

    /// The buckets, most urgent first: unlisted, regressed, new, then findings before rules,
    /// most occurrences first; variants the same way.
    pub fn lines(mut self) -> Vec<BucketLine> {
        let mut out: Vec<BucketLine> = std::mem::take(&mut self.buckets).into_values().collect();
        for b in &mut out {
            b.new_variants = b.variants.iter().filter(|v| v.new).count();
            b.variants.sort_by(|x, y| {
                (!x.new, std::cmp::Reverse(x.occurrences), &x.signature).cmp(&(
                    !y.new,
                    std::cmp::Reverse(y.occurrences),
                    &y.signature,
                ))
            });
        }
        out.sort_by_key(|b| {
            (
                b.kind != BucketKind::Unlisted,
                !b.regressed,
                !b.new,
                b.kind == BucketKind::Expected,
                std::cmp::Reverse(b.occurrences),
                b.bucket.clone(),
            )
        });
        out
    }
}

/// The gate: a run fails (exit 1) on what nobody has explained — an unlisted bucket — or on a
/// regression (a fixed bucket back). A new variant of a known bucket does not fail it.
pub fn fails(lines: &[BucketLine]) -> bool {
    lines
        .iter()
        .any(|b| b.kind == BucketKind::Unlisted || b.regressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_and_regressed_fail_new_variants_of_known_ones_do_not() {
        let mut t = Tally::default();
        t.count("F3", "migrate-task/release/none/diff", 5);
        t.stored("F3", "migrate-task/release/none/diff", 7, 4, true, false);
        t.count(
            "all-or-nothing-on-enomem",
            "transfer-tasks/result/alloc/diff",
            2,
        );
        let lines = t.lines();
        assert!(!fails(&lines));
        assert_eq!(lines[0].bucket, "F3");
        assert_eq!(lines[0].new_variants, 1);

        let mut t = Tally::default();
        t.count("F3", "s", 1);
        t.count("unlisted", "u", 1);
        let lines = t.lines();
        assert_eq!(lines[0].bucket, "unlisted", "unlisted first");
        assert!(fails(&lines));

        let mut t = Tally::default();
        t.count("F3", "s", 1);
        t.regressions(&["F3".to_string()].into_iter().collect());
        assert!(fails(&t.lines()));
    }
}

/// What replaying a stored case (or a case file with an `expect` line) on the current models
/// gave, against what was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replay {
    /// Same signature in the same bucket.
    Reproduces,
    /// Still diverges, under another signature or in another bucket.
    Changed,
    /// No longer diverges.
    Fixed,
}

impl Replay {
    pub fn name(self) -> &'static str {
        match self {
            Replay::Reproduces => "reproduces",
            Replay::Changed => "changed",
            Replay::Fixed => "fixed",
        }
    }
}

/// A replay, classified.
#[derive(Clone, Debug, Serialize)]
pub struct Classified {
    pub outcome: Replay,
    /// The case's bucket changed from a known one (rule or finding) to another: a regression,
    /// whatever the new one is.
    pub bucket_changed: bool,
    /// It diverges now in the unlisted bucket.
    pub unlisted: bool,
}

impl Classified {
    /// What the gate fails on: a case now unlisted, or one whose bucket changed.
    pub fn fails(&self) -> bool {
        self.unlisted || self.bucket_changed
    }
}

/// A signature independent of its pair: without its `A,B:` prefix, and with the blame
/// written as the design's position (`first`/`second`) in `designs`.
pub fn pairless_signature(signature: &str, designs: [&str; 2]) -> String {
    let bare = match signature.split_once(':') {
        Some((_, rest)) => rest,
        None => signature,
    };
    match bare.rsplit_once('/') {
        Some((head, blame)) if blame == designs[0] => format!("{head}/first"),
        Some((head, blame)) if blame == designs[1] => format!("{head}/second"),
        _ => bare.to_string(),
    }
}

/// Classifies a replay: `expected` is the recorded signature and bucket (the bucket `None`
/// when it was recorded before triage, or a case file's `expect` line, which names none);
/// `now` the divergence of the current models, if any. `pairs` is the case's own pair and
/// the one it ran on now: on another pair the signatures are compared without their pair
/// (blame by position) and buckets are not compared (recognisers are written per pair).
pub fn classify(
    expected: Option<(&str, Option<&str>)>,
    now: Option<&cgdiff_engine::Divergence>,
    pairs: [[&str; 2]; 2],
) -> Classified {
    let Some(d) = now else {
        return Classified {
            outcome: Replay::Fixed,
            bucket_changed: false,
            unlisted: false,
        };
    };
    let [own, ran] = pairs;
    let bucket_now = d.bucket.name();
    let comparable = own == ran;
    let same_bucket = match expected {
        Some((_, Some(b))) if comparable => b == bucket_now,
        _ => true,
    };
    let same_signature = |was: &str| {
        was == d.signature
            || !comparable && pairless_signature(&d.signature, ran) == pairless_signature(was, own)
    };
    let outcome = match expected {
        Some((sig, _)) if same_signature(sig) && same_bucket => Replay::Reproduces,
        _ => Replay::Changed,
    };
    Classified {
        outcome,
        bucket_changed: comparable
            && matches!(expected, Some((_, Some(b))) if !b.is_empty() && b != bucket_now),
        unlisted: d.unlisted(),
    }
}
