//! What goes into the store and what comes out of it. Only strings and numbers: the engine's
//! types are in flux, so callers render cases, signatures and classes to text first.

use serde::Serialize;
use std::time::Duration;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The text stored in the database (and shown to people).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What found a case: kept so that a person can tell a fuzzer's raw find from a
    /// hand-imported or minimised one.
    FoundBy {
        /// cgdiff's own generator (`cgdiff campaign`).
        Campaign = "campaign",
        /// A cargo-fuzz target; the case usually has `bytes`.
        CargoFuzz = "cargo-fuzz",
        /// Imported from a case file.
        Import = "import",
        /// The minimiser, from the case named in `minimised_from`.
        Minimize = "minimize",
    }
}

text_enum! {
    /// What kind of process a run was.
    RunKind {
        /// A generator campaign.
        Campaign = "campaign",
        /// A cargo-fuzz session feeding the store.
        CargoFuzz = "cargo-fuzz",
        /// An import of case files.
        Import = "import",
        /// A replay of stored cases against the current models.
        Replay = "replay",
        /// A merge of another database into this one.
        Merge = "merge",
    }
}

text_enum! {
    /// What replaying a stored case against the current build gave.
    ReplayOutcome {
        /// Same signature as stored.
        Reproduces = "reproduces",
        /// Still diverges, under another signature.
        Changed = "changed",
        /// No longer diverges.
        Fixed = "fixed",
    }
}

/// A divergent case to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// The canonical case-file text. Two cases with the same signature and text are the same
    /// case.
    pub text: String,
    /// The raw fuzzer input the case was decoded from, so it can be fed back to cargo-fuzz.
    pub bytes: Option<Vec<u8>>,
    /// The divergence signature: what deduplication groups by.
    pub signature: String,
    /// The divergence classes, none containing a comma.
    pub classes: Vec<String>,
    /// The expected-difference rule that explains the divergence, or `None` if unexpected.
    pub rule: Option<String>,
    /// The bucket (root cause) of the divergence: a rule, findings joined by `+`, or
    /// `unlisted`. With the signature, the key of a variant.
    pub bucket: String,
    /// Index of the first operation after which the two models differ.
    pub first_op: u32,
    /// Number of operations in the case: the main measure of "smaller".
    pub ops: u32,
    /// The case this one was minimised from.
    pub minimised_from: Option<i64>,
    /// What found it.
    pub found_by: FoundBy,
    /// The run that found it.
    pub run_id: Option<i64>,
    /// The cgdiff version that found it.
    pub tool_version: String,
    /// The git commit cgdiff was built from, if known.
    pub git_commit: Option<String>,
}

/// What [`Store::record`](crate::Store::record) did. `case_id` is always the row that now
/// holds the recorded case text (newly inserted, or an identical earlier one whose hit count
/// was bumped), so a minimiser can chain `minimised_from` whatever the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Recorded {
    /// The first case ever seen with this signature in this bucket (a new variant); it is the
    /// variant's best case.
    NewSignature {
        /// The recorded case.
        case_id: i64,
        /// Whether the bucket had no variant before: judged inside the write transaction, so
        /// concurrent writers never both call one bucket new.
        new_bucket: bool,
    },
    /// A known signature, and this case is smaller than its previous best, which it replaces.
    NewBest {
        /// The recorded case, now the best.
        case_id: i64,
        /// The best case before this one.
        previous_best: i64,
    },
    /// A known signature, and this case is not smaller than its best.
    Duplicate {
        /// The recorded case (possibly an identical earlier row, its hit count bumped).
        case_id: i64,
        /// The signature's best case, unchanged.
        best_case_id: i64,
    },
}

impl Recorded {
    /// The row that holds the recorded case.
    pub fn case_id(&self) -> i64 {
        match *self {
            Recorded::NewSignature { case_id, .. }
            | Recorded::NewBest { case_id, .. }
            | Recorded::Duplicate { case_id, .. } => case_id,
        }
    }

    /// The signature's best case after recording.
    pub fn best_case_id(&self) -> i64 {
        match *self {
            Recorded::NewSignature { case_id, .. } | Recorded::NewBest { case_id, .. } => case_id,
            Recorded::Duplicate { best_case_id, .. } => best_case_id,
        }
    }

    /// Whether the signature was unknown before: what a campaign counts as "new".
    pub fn is_new_signature(&self) -> bool {
        matches!(self, Recorded::NewSignature { .. })
    }

    /// Whether the bucket was unknown before (its first variant).
    pub fn is_new_bucket(&self) -> bool {
        matches!(
            self,
            Recorded::NewSignature {
                new_bucket: true,
                ..
            }
        )
    }
}

/// A run being started. Totals come later with [`RunTotals`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// What kind of run.
    pub kind: RunKind,
    /// The generator seed, if the run has one.
    pub seed: Option<u64>,
    /// The shard, as "index/count".
    pub shard: Option<String>,
    /// Worker threads or processes.
    pub jobs: Option<u32>,
    /// The git commit cgdiff was built from.
    pub git_commit: Option<String>,
    /// The cgdiff version.
    pub tool_version: String,
    /// Anything else, as a JSON object; `None` stores `{}`.
    pub extra: Option<serde_json::Value>,
}

impl NewRun {
    /// A run of `kind` by cgdiff `tool_version`, every optional field empty.
    pub fn new(kind: RunKind, tool_version: impl Into<String>) -> NewRun {
        NewRun {
            kind,
            seed: None,
            shard: None,
            jobs: None,
            git_commit: None,
            tool_version: tool_version.into(),
            extra: None,
        }
    }
}

/// The totals of a finished run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunTotals {
    /// Cases executed.
    pub cases_executed: u64,
    /// Operations executed across those cases.
    pub operations: u64,
    /// Wall-clock time of the run, for the rates (unix seconds are too coarse for them).
    pub elapsed: Duration,
    /// Signatures first seen in this run.
    pub new_signatures: u64,
    /// Divergent cases found (recorded or not).
    pub divergences: u64,
    /// Merged into the run's `extra` as an RFC 7396 JSON merge patch (e.g. model coverage
    /// counters), so `begin_run`'s keys survive unless overwritten.
    pub extra: Option<serde_json::Value>,
}

/// One replay of a stored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReplay {
    /// The replay run.
    pub run_id: Option<i64>,
    /// The case replayed.
    pub case_id: i64,
    /// What happened.
    pub outcome: ReplayOutcome,
    /// The signature the case has now; `None` when it no longer diverges.
    pub signature_now: Option<String>,
}

/// Which cases [`Store::cases`](crate::Store::cases) returns, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseFilter {
    /// Only cases with this signature.
    pub signature: Option<String>,
    /// Only cases in this bucket.
    pub bucket: Option<String>,
    /// Only cases no expected-difference rule explains.
    pub unexpected_only: bool,
    /// At most this many.
    pub limit: Option<u32>,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    /// Row id.
    pub id: i64,
    /// The canonical case-file text.
    pub text: String,
    /// The bytes it was decoded from, shown as lowercase hex in JSON.
    #[serde(serialize_with = "hex_opt")]
    pub bytes: Option<Vec<u8>>,
    /// The divergence signature.
    pub signature: String,
    /// The divergence classes.
    pub classes: Vec<String>,
    /// The expected-difference rule, `None` if unexpected.
    pub rule: Option<String>,
    /// The bucket; `None` for a case recorded before triage.
    pub bucket: Option<String>,
    /// Index of the first divergent operation.
    pub first_op: u32,
    /// Number of operations.
    pub ops: u32,
    /// The case this one was minimised from.
    pub minimised_from: Option<i64>,
    /// What found it.
    pub found_by: FoundBy,
    /// The run that first recorded it.
    pub run_id: Option<i64>,
    /// The cgdiff version that first recorded it.
    pub tool_version: String,
    /// The git commit of that cgdiff.
    pub git_commit: Option<String>,
    /// When it was first recorded (unix seconds).
    pub created_at: i64,
    /// When it was last recorded (unix seconds).
    pub last_seen_at: i64,
    /// How many times it was recorded.
    pub hit_count: u64,
}

/// A variant: a signature within a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureRow {
    /// The signature.
    pub signature: String,
    /// Its bucket; `""` for a variant recorded before triage.
    pub bucket: String,
    /// Its classes, as last recorded.
    pub classes: Vec<String>,
    /// Its expected-difference rule, as last recorded.
    pub rule: Option<String>,
    /// Whether a rule explains it (`rule.is_some()`).
    pub expected: bool,
    /// First recorded (unix seconds).
    pub first_seen: i64,
    /// Last recorded (unix seconds).
    pub last_seen: i64,
    /// The smallest case: fewest ops, then shortest text, then first in byte order.
    pub best_case_id: i64,
    /// How many cases were recorded under it, counting repeats.
    pub hit_count: u64,
    /// How many distinct case texts are stored under it.
    pub cases: u64,
    /// Divergent executions that met it, counted by every run (not only the stored ones).
    pub occurrences: u64,
    /// The first run that met it, if a run counted it.
    pub first_run: Option<i64>,
    /// The last run that met it.
    pub last_run: Option<i64>,
}

/// A bucket: its variants summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketRow {
    /// `F3`, a rule, causes joined by `+`, `unlisted`, or `""` (recorded before triage).
    pub bucket: String,
    /// Variants (signatures) stored in it.
    pub variants: u64,
    /// Divergent executions counted by every run.
    pub occurrences: u64,
    /// Cases recorded in it, counting repeats.
    pub hit_count: u64,
    /// First and last seen (unix seconds).
    pub first_seen: i64,
    pub last_seen: i64,
    /// First and last run that met it.
    pub first_run: Option<i64>,
    pub last_run: Option<i64>,
    /// The smallest best case of its variants.
    pub best_case_id: i64,
    /// A rule explains its variants.
    pub expected: bool,
}

/// How often a run met a variant: what [`Store::count_occurrences_at`](crate::Store) adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrences {
    pub signature: String,
    pub bucket: String,
    /// Divergent executions in that variant.
    pub count: u64,
}

/// A run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Row id.
    pub id: i64,
    /// What kind of run.
    pub kind: RunKind,
    /// Started (unix seconds).
    pub started_at: i64,
    /// Finished (unix seconds); `None` while running, or if the process died.
    pub ended_at: Option<i64>,
    /// Cases executed.
    pub cases_executed: u64,
    /// Operations executed.
    pub operations: u64,
    /// Cases per second of wall-clock time.
    pub cases_per_sec: Option<f64>,
    /// Operations per second of wall-clock time.
    pub ops_per_sec: Option<f64>,
    /// The generator seed.
    pub seed: Option<u64>,
    /// The shard, "index/count".
    pub shard: Option<String>,
    /// Worker threads or processes.
    pub jobs: Option<u32>,
    /// The git commit.
    pub git_commit: Option<String>,
    /// The cgdiff version.
    pub tool_version: String,
    /// Signatures first seen in this run.
    pub new_signatures: u64,
    /// Divergent cases found.
    pub divergences: u64,
    /// Anything else.
    pub extra: serde_json::Value,
}

/// A replay of a stored case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayRow {
    /// Row id.
    pub id: i64,
    /// The replay run.
    pub run_id: Option<i64>,
    /// The case replayed.
    pub case_id: i64,
    /// What happened.
    pub outcome: ReplayOutcome,
    /// The signature now, `None` if fixed.
    pub signature_now: Option<String>,
    /// When (unix seconds).
    pub at: i64,
}

fn hex_opt<S: serde::Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match bytes {
        None => s.serialize_none(),
        Some(b) => {
            use std::fmt::Write;
            let mut hex = String::with_capacity(b.len() * 2);
            for byte in b {
                let _ = write!(hex, "{byte:02x}");
            }
            s.serialize_some(&hex)
        }
    }
}
