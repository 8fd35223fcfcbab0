//! The report model: everything the four renderings show, computed once from a store.
//!
//! Serialised as `report.json` (schema in `docs/report-format.md`); the HTML, JUnit and
//! Markdown renderings read only this model, never the store, so they cannot disagree.

use crate::ReportError;
use cgdiff_corpus::{CaseFilter, CaseRow, ReplayOutcome, ReplayRow, RunKind, RunRow, Store};
use cgdiff_engine::models::{by_name, Pair, DESIGNS};
use cgdiff_engine::oracle::{self, Class};
use cgdiff_engine::trace::{Step, COVERAGE_POINTS};
use cgdiff_engine::{findings, format, rules};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Version of the `report.json` layout. Bumped on any change a consumer could notice
/// (a field removed, renamed or given another meaning); adding a field does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// The designs a report covers, in the order every per-model list of the report uses: those
/// the runs' coverage names, in the engine's history order ([`cgdiff_engine::models::DESIGNS`]),
/// then any name the engine does not know; the default pair when no run recorded coverage.
pub fn report_designs(runs: &[RunRow]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for r in runs {
        if let Some(cov) = r.extra.get("coverage").and_then(|v| v.as_object()) {
            for name in cov.keys() {
                if !seen.contains(name) {
                    seen.push(name.clone());
                }
            }
        }
    }
    if seen.is_empty() {
        return Pair::DEFAULT.names().map(str::to_string).to_vec();
    }
    let rank = |n: &String| {
        DESIGNS
            .iter()
            .position(|d| d.name() == n)
            .unwrap_or(DESIGNS.len())
    };
    seen.sort_by_key(rank);
    seen
}

/// What to build a report over, besides the store.
#[derive(Debug, Clone)]
pub struct Options {
    /// Report on runs after this one (`--since RUN`); `None`: since the last replay run before
    /// the latest one (see [`WindowBasis`]).
    pub since: Option<i64>,
    /// How the database is named in the reproduce commands (the `--db` a reader passes).
    pub db_label: String,
    /// The time the report is made (unix seconds): a parameter so tests are deterministic.
    pub now: i64,
    /// The cgdiff version making the report.
    pub tool_version: String,
}

/// A whole report. See `docs/report-format.md`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The one line a reader needs first: `nothing new: 5 findings and 2 expected differences
    /// reproduce, 0 unlisted, 0 regressed`, or what fails and why.
    pub verdict: String,
    /// Every bucket, the unit of the report: unlisted and regressed first, then new, findings,
    /// expected rules; its variants folded beneath it.
    pub buckets: Vec<BucketReport>,
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// When the report was made (unix seconds).
    pub generated_at: i64,
    /// The cgdiff version that made it.
    pub tool_version: String,
    /// The database, as named in the reproduce commands.
    pub db: String,
    /// Which runs count as "since the previous report".
    pub window: Window,
    /// Counts for the headline.
    pub totals: Totals,
    /// Every signature, unexpected first, then by status, then oldest first.
    pub signatures: Vec<SignatureReport>,
    /// Every run, oldest first.
    pub runs: Vec<RunSummary>,
    /// The data behind the charts.
    pub charts: Charts,
    /// Which kernel-named steps of each model the runs reached, summed over every run.
    pub coverage: CoverageReport,
}

/// How the "previous report" was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowBasis {
    /// `--since RUN` was given: the window is the runs after it.
    SinceRun,
    /// The window is the runs after the last replay run before the latest replay run: a
    /// nightly job replays once a night, so that is "since last night's report".
    PreviousReplay,
    /// Fewer than two replay runs and no `--since`: there was no previous report, so
    /// everything is in the window (every signature not fixed or regressed is new).
    Everything,
}

/// The window of runs this report calls "since the previous report".
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// How the boundary was chosen.
    pub basis: WindowBasis,
    /// The boundary: runs with a greater id are in the window. `None` with `everything`.
    pub after_run: Option<i64>,
    /// The latest replay run, whose outcomes give fixed and regressed.
    pub latest_replay_run: Option<i64>,
    /// The ids of the runs in the window.
    pub runs: Vec<i64>,
}

/// Where a signature stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its latest replay still diverges (reproduces or changed) and an earlier replay had
    /// said fixed.
    Regressed,
    /// First recorded in the window, and not fixed or regressed.
    New,
    /// Recorded before the window, and its latest replay (if any) still diverges.
    Reproducing,
    /// Its latest replay says the models agree now.
    Fixed,
}

impl Status {
    /// Every status, in the order reports list them (most urgent first).
    pub const ALL: [Status; 4] = [
        Status::Regressed,
        Status::New,
        Status::Reproducing,
        Status::Fixed,
    ];

    /// The name used in JSON and in anchors.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Regressed => "regressed",
            Status::New => "new",
            Status::Reproducing => "reproducing",
            Status::Fixed => "fixed",
        }
    }

    /// The heading people read.
    pub fn title(self) -> &'static str {
        match self {
            Status::Regressed => "Regressed",
            Status::New => "New",
            Status::Reproducing => "Still reproducing",
            Status::Fixed => "Fixed",
        }
    }
}

/// Headline counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Distinct signatures stored.
    pub signatures: usize,
    /// Of which no expected-difference rule explains.
    pub unexpected: usize,
    /// Of which a rule explains.
    pub expected: usize,
    /// Signatures per status, over all signatures.
    pub by_status: BTreeMap<Status, usize>,
    /// Unexpected signatures per status.
    pub unexpected_by_status: BTreeMap<Status, usize>,
    /// Signatures that fail the JUnit report (unexpected and not fixed).
    pub failing: usize,
    /// Of those, the ones whose best case no finding's recogniser explains in this build:
    /// findings nobody has written up yet.
    pub unlisted: usize,
    /// Distinct cases stored.
    pub cases: usize,
    /// Runs stored.
    pub runs: usize,
    /// Runs in the window.
    pub runs_in_window: usize,
    /// Cases executed by every run.
    pub cases_executed: u64,
    /// Model operations executed by every run.
    pub operations: u64,
    /// Divergent cases met by every run (recorded or not).
    pub divergences: u64,
    /// Replays recorded.
    pub replays: usize,
    /// Buckets by what they are and where they stand.
    pub buckets: BucketTotals,
}

/// Bucket counts (`totals.buckets` of report.json): what the nightly verdict reads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BucketTotals {
    pub total: usize,
    /// Buckets of written-up findings (one finding, or several with rules).
    pub findings: usize,
    /// Buckets of expected rules only.
    pub expected: usize,
    /// No rule and no finding explains them: each fails the JUnit report.
    pub unlisted: usize,
    /// Replayed as fixed before and diverging again, or a best case whose bucket changed: each
    /// fails the JUnit report.
    pub regressed: usize,
    /// Every variant replayed as fixed.
    pub fixed: usize,
    /// First seen in the window.
    pub new: usize,
    /// Distinct findings (F1, F2, …) that reproduce in some bucket.
    pub findings_reproducing: usize,
    /// Distinct rules that reproduce in some bucket.
    pub rules_reproducing: usize,
}

/// What a bucket of the report is: the engine's [`findings::BucketKind`], or a variant
/// recorded before triage (no bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BucketClass {
    Expected,
    Finding,
    Unlisted,
    BeforeTriage,
}

impl From<findings::BucketKind> for BucketClass {
    fn from(k: findings::BucketKind) -> BucketClass {
        match k {
            findings::BucketKind::Expected => BucketClass::Expected,
            findings::BucketKind::Finding => BucketClass::Finding,
            findings::BucketKind::Unlisted => BucketClass::Unlisted,
        }
    }
}

/// A bucket (root cause) and its variants: what a reader acts on.
#[derive(Debug, Clone, Serialize)]
pub struct BucketReport {
    /// In-page anchor (`bucket-N`).
    pub anchor: String,
    /// `F3`, a rule's name, causes joined by `+`, `unlisted`, or `""` (before triage).
    pub bucket: String,
    pub kind: BucketClass,
    /// Its causes, each with its title and reason, as this build knows them.
    pub causes: Vec<CauseInfo>,
    /// `new`, `reproducing`, `fixed` or `regressed`.
    pub status: Status,
    /// Fails the JUnit report: unlisted (and not fixed), or regressed.
    pub failing: bool,
    /// Divergent executions counted by every run.
    pub occurrences: u64,
    /// Cases recorded, counting repeats.
    pub hit_count: u64,
    /// First and last seen (unix seconds), and the runs.
    pub first_seen: i64,
    pub last_seen: i64,
    pub first_run: Option<i64>,
    pub last_run: Option<i64>,
    /// Its variants' signatures, most occurrences first, with their counts and status.
    pub variants: Vec<VariantInfo>,
    /// The anchor of its best variant (smallest best case) in the details.
    pub best: String,
}

/// One cause of a bucket.
#[derive(Debug, Clone, Serialize)]
pub struct CauseInfo {
    pub id: String,
    pub title: String,
    pub reason: String,
}

/// One variant of a bucket.
#[derive(Debug, Clone, Serialize)]
pub struct VariantInfo {
    pub signature: String,
    pub occurrences: u64,
    pub status: Status,
    pub best_case: i64,
    /// The variant's anchor in the details (`sig-N`).
    pub anchor: String,
}

/// One signature and everything a reader needs to act on it.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    /// The in-page anchor of its details (`sig-N`); the case text is at `case-N`, the
    /// explanation at `explain-N`.
    pub anchor: String,
    /// The signature.
    pub signature: String,
    /// Its bucket (`""`: recorded before triage).
    pub bucket: String,
    /// Divergent executions counted by every run.
    pub occurrences: u64,
    /// The last run that met it.
    pub last_run: Option<i64>,
    /// Its classes, as last recorded.
    pub classes: Vec<String>,
    /// Whether a rule explains it.
    pub expected: bool,
    /// The rule, with its reason from this build's rule table.
    pub rule: Option<RuleInfo>,
    /// Where it stands.
    pub status: Status,
    /// Whether the JUnit report fails it: unexpected and not fixed.
    pub failing: bool,
    /// For an unexpected signature, the finding(s) in its best case's bucket in this build;
    /// `None`: no recogniser explains it (not written up yet).
    pub listed: Option<ListedFinding>,
    /// First and last recorded (unix seconds).
    pub first_seen: i64,
    /// Last recorded (unix seconds).
    pub last_seen: i64,
    /// Cases recorded under it, counting repeats.
    pub hit_count: u64,
    /// Distinct case texts stored under it.
    pub cases: u64,
    /// The first run that recorded one of its cases, if any case names a run.
    pub first_run: Option<i64>,
    /// Its best (smallest) case.
    pub best_case: CaseInfo,
    /// The latest replay of the best case (or, if it has none, of any case of the signature).
    pub latest_replay: Option<ReplayInfo>,
    /// How many replays that history holds.
    pub replays: usize,
    /// What the models do with the best case in this build.
    pub explanation: Explanation,
    /// Shell command lines that reproduce, explain and minimise the best case.
    pub reproduce: Vec<String>,
}

/// The written-up finding(s) a signature's best case belongs to in this build.
#[derive(Debug, Clone, Serialize)]
pub struct ListedFinding {
    /// The bucket: `F3`, or several causes joined by `+` (`F2+enomem-before-side-effects`).
    pub pattern: String,
    /// The causes' titles (`F2: legacy never cancels …`), joined by `; `.
    pub finding: String,
}

/// An expected-difference rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// Its name, as stored.
    pub name: String,
    /// Its one-line reason, `None` if this build has no rule of that name.
    pub reason: Option<String>,
}

/// A stored case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseInfo {
    /// Row id.
    pub id: i64,
    /// Operations.
    pub ops: u32,
    /// Index of the first divergent operation, as stored.
    pub first_op: u32,
    /// What found it.
    pub found_by: String,
    /// The run that recorded it.
    pub run_id: Option<i64>,
    /// The case this one was minimised from.
    pub minimised_from: Option<i64>,
    /// The case-file text.
    pub text: String,
}

/// A replay.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayInfo {
    /// The replay run.
    pub run_id: Option<i64>,
    /// The case replayed.
    pub case_id: i64,
    /// reproduces, changed or fixed.
    pub outcome: String,
    /// The signature then, `None` when fixed.
    pub signature_now: Option<String>,
    /// When (unix seconds).
    pub at: i64,
}

/// The best case run through this build's models, for the reader.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Explanation {
    /// `diverges`, `agrees`, or `unreadable` (the stored text does not parse).
    pub verdict: String,
    /// The signature the case has in this build.
    pub signature_now: Option<String>,
    /// The rule that explains it in this build.
    pub rule_now: Option<String>,
    /// Its bucket in this build: a rule, finding(s), or `unlisted`.
    pub bucket_now: Option<String>,
    /// Index of the operation after which the models split.
    pub op_index: Option<usize>,
    /// That operation, in case-file syntax.
    pub operation: Option<String>,
    /// What each model returned there, legacy then four-stage.
    pub outcomes: Option<[String; 2]>,
    /// Who broke an invariant (`diff`, `legacy`, `four-stage`, `both`).
    pub blame: Option<String>,
    /// The observation diff (`-` legacy only, `+` four-stage only).
    pub diff: Option<String>,
    /// Why the case could not be read, for `unreadable`.
    pub error: Option<String>,
    /// The pair of designs the case runs on when it is not legacy, four-stage (its `designs`
    /// line); `outcomes`, `blame` and `diff` are then in that pair's order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub designs: Option<[String; 2]>,
}

impl Explanation {
    /// The two designs' names, in the order of `outcomes` and of the diff's `-`/`+`.
    pub fn design_names(&self) -> [&str; 2] {
        match &self.designs {
            Some([a, b]) => [a.as_str(), b.as_str()],
            None => Pair::DEFAULT.names(),
        }
    }
}

/// A run, for the runs table and the throughput chart.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Row id.
    pub id: i64,
    /// campaign, cargo-fuzz, import, replay or merge.
    pub kind: String,
    /// Started (unix seconds).
    pub started_at: i64,
    /// Finished; `None` if it never finished (killed).
    pub ended_at: Option<i64>,
    /// Cases executed.
    pub cases_executed: u64,
    /// Cases per second.
    pub cases_per_sec: Option<f64>,
    /// Model operations per second.
    pub ops_per_sec: Option<f64>,
    /// Shard, "I/N".
    pub shard: Option<String>,
    /// Signatures it saw first.
    pub new_signatures: u64,
    /// Divergent cases it met.
    pub divergences: u64,
    /// Whether it is in the window.
    pub in_window: bool,
    /// Worker threads (campaigns): throughputs of runs with different jobs do not compare.
    pub jobs: Option<u32>,
    /// Set when the run was copied in by `cgdiff merge`: the database it came from.
    pub merged_from: Option<String>,
}

/// Chart data.
#[derive(Debug, Clone, Serialize)]
pub struct Charts {
    /// Distinct signatures known at each first_seen time (one point per signature).
    pub discovery: Vec<DiscoveryPoint>,
    /// Cases per second of each campaign and cargo-fuzz run that has a rate.
    pub throughput: Vec<ThroughputPoint>,
    /// Signatures and hits per divergence class.
    pub classes: Vec<ClassCount>,
}

/// One step of the discovery curve.
#[derive(Debug, Clone, Serialize)]
pub struct DiscoveryPoint {
    /// Unix seconds.
    pub at: i64,
    /// Distinct signatures known then.
    pub signatures: usize,
}

/// One run's speed.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputPoint {
    /// The run.
    pub run_id: i64,
    /// campaign or cargo-fuzz.
    pub kind: String,
    /// Cases per second.
    pub cases_per_sec: f64,
}

/// One divergence class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    /// The class.
    pub class: String,
    /// Unexpected signatures with it.
    pub unexpected: usize,
    /// Expected signatures with it.
    pub expected: usize,
    /// Cases recorded under signatures with it, counting repeats.
    pub hits: u64,
}

/// Model coverage summed over the runs.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    /// Runs whose `extra.coverage` was counted.
    pub runs_counted: usize,
    /// One entry per model, legacy then four-stage.
    pub models: Vec<ModelCoverage>,
}

/// One model's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCoverage {
    /// legacy or four-stage.
    pub model: String,
    /// Every coverage point, in the engine's order, then any the runs named that this build
    /// does not know.
    pub points: Vec<CoveragePoint>,
    /// Points that belong to this model and were never reached.
    pub never_reached: Vec<String>,
    /// Points of this model reached at least once.
    pub reached: usize,
    /// Points that belong to this model.
    pub applicable: usize,
}

/// One kernel-named step.
#[derive(Debug, Clone, Serialize)]
pub struct CoveragePoint {
    /// Its kernel-side name (`Step::point_name`).
    pub name: String,
    /// How often it was reached.
    pub count: u64,
    /// Whether the model has this step at all: the other design's own steps (legacy's
    /// `cgroup_attach_task: …` branches, four-stage's `cgroup_migrate…` stages) are not
    /// "never reached", they do not exist there.
    pub applies: bool,
}

/// Whether coverage point `name` is a step of `model`, as the design of that name says
/// ([`cgdiff_engine::Design::has_point`]): the designs share every step but legacy's branches
/// of `cgroup_attach_task` and the staged designs' `cgroup_migrate*` stages (and each later
/// design's own branches). A design or point the engine does not know applies.
pub fn point_applies(model: &str, name: &str) -> bool {
    let Some(d) = by_name(model) else {
        return true;
    };
    (0..COVERAGE_POINTS)
        .find(|&i| Step::point_name(i) == name)
        .is_none_or(|i| d.has_point(i))
}

/// Builds the report of `store`.
pub fn build(store: &Store, opts: &Options) -> Result<Report, ReportError> {
    build_for(store, opts, None)
}

/// [`build`] over the signatures of one pair of designs only (`cgdiff report --designs`):
/// those with its `A,B:` prefix, or none for the default pair.
pub fn build_for(
    store: &Store,
    opts: &Options,
    designs: Option<Pair>,
) -> Result<Report, ReportError> {
    let runs = store.runs()?;
    let mut sigs = store.signatures()?;
    if let Some(p) = designs {
        let prefix = oracle::pair_prefix(p.names());
        sigs.retain(|s| {
            if prefix.is_empty() {
                !s.signature.contains(':')
            } else {
                s.signature.starts_with(&prefix)
            }
        });
    }
    let cases = store.cases(&CaseFilter::default())?;
    let replays = store.replays(None)?;

    // The window.
    let replay_runs: Vec<i64> = runs
        .iter()
        .filter(|r| r.kind == RunKind::Replay)
        .map(|r| r.id)
        .collect();
    let latest_replay_run = replay_runs.last().copied();
    let (basis, after_run) = match opts.since {
        Some(id) => {
            if !runs.iter().any(|r| r.id == id) {
                return Err(ReportError::UnknownRun {
                    db: store.path().to_path_buf(),
                    run: id,
                });
            }
            (WindowBasis::SinceRun, Some(id))
        }
        None if replay_runs.len() >= 2 => (
            WindowBasis::PreviousReplay,
            Some(replay_runs[replay_runs.len() - 2]),
        ),
        None => (WindowBasis::Everything, None),
    };
    let in_window = |run: i64| after_run.is_none_or(|b| run > b);
    // Cases that name no run are placed by time against the boundary run's end.
    let boundary_time = after_run
        .and_then(|b| runs.iter().find(|r| r.id == b))
        .map(|r| r.ended_at.unwrap_or(r.started_at));
    let case_in_window = |c: &CaseRow| match (c.run_id, boundary_time) {
        (_, None) => true,
        (Some(run), _) => in_window(run),
        (None, Some(t)) => c.created_at > t,
    };

    // A variant is a signature within a bucket; cases recorded before triage have none.
    let mut by_sig: HashMap<(&str, &str), Vec<&CaseRow>> = HashMap::new();
    for c in &cases {
        by_sig
            .entry((c.signature.as_str(), c.bucket.as_deref().unwrap_or("")))
            .or_default()
            .push(c);
    }
    let mut replays_by_case: HashMap<i64, Vec<&ReplayRow>> = HashMap::new();
    for r in &replays {
        replays_by_case.entry(r.case_id).or_default().push(r);
    }
    let case_by_id: HashMap<i64, &CaseRow> = cases.iter().map(|c| (c.id, c)).collect();

    let mut out = Vec::with_capacity(sigs.len());
    for s in &sigs {
        let sig_cases = by_sig
            .get(&(s.signature.as_str(), s.bucket.as_str()))
            .cloned()
            .unwrap_or_default();
        // The best case's history; if it has none (a smaller case arrived after the last
        // replay), the signature's other cases' replays, oldest first.
        let mut history: Vec<&ReplayRow> = replays_by_case
            .get(&s.best_case_id)
            .cloned()
            .unwrap_or_default();
        if history.is_empty() {
            history = sig_cases
                .iter()
                .flat_map(|c| replays_by_case.get(&c.id).cloned().unwrap_or_default())
                .collect();
            history.sort_by_key(|r| r.id);
        }
        let latest = history.last().copied();
        let was_fixed = history
            .iter()
            .rev()
            .skip(1)
            .any(|r| r.outcome == ReplayOutcome::Fixed);
        let is_new = !sig_cases.is_empty() && sig_cases.iter().all(|c| case_in_window(c));
        let status = match latest.map(|r| r.outcome) {
            Some(ReplayOutcome::Fixed) => Status::Fixed,
            Some(_) if was_fixed => Status::Regressed,
            _ if is_new => Status::New,
            _ => Status::Reproducing,
        };
        let best = case_by_id.get(&s.best_case_id).copied();
        let best_case = match best {
            Some(c) => CaseInfo {
                id: c.id,
                ops: c.ops,
                first_op: c.first_op,
                found_by: c.found_by.to_string(),
                run_id: c.run_id,
                minimised_from: c.minimised_from,
                text: c.text.clone(),
            },
            None => CaseInfo {
                id: s.best_case_id,
                ops: 0,
                first_op: 0,
                found_by: String::new(),
                run_id: None,
                minimised_from: None,
                text: String::new(),
            },
        };
        let explanation = explain(&best_case.text);
        out.push(SignatureReport {
            anchor: String::new(), // numbered after sorting
            signature: s.signature.clone(),
            bucket: s.bucket.clone(),
            occurrences: s.occurrences,
            last_run: s.last_run,
            classes: s.classes.clone(),
            expected: s.expected,
            rule: s.rule.as_ref().map(|name| RuleInfo {
                name: name.clone(),
                reason: rules::rule(name).map(|r| r.reason.to_string()),
            }),
            status,
            failing: !s.expected && status != Status::Fixed,
            // Listed when the best case still gives this signature, in a bucket with a finding.
            listed: if s.expected || explanation.signature_now.as_deref() != Some(&s.signature) {
                None
            } else {
                listed(&explanation)
            },
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            hit_count: s.hit_count,
            cases: s.cases,
            first_run: sig_cases.iter().filter_map(|c| c.run_id).min(),
            reproduce: reproduce_commands(best_case.id, &opts.db_label),
            best_case,
            latest_replay: latest.map(|r| ReplayInfo {
                run_id: r.run_id,
                case_id: r.case_id,
                outcome: r.outcome.to_string(),
                signature_now: r.signature_now.clone(),
                at: r.at,
            }),
            replays: history.len(),
            explanation,
        });
    }
    // Stable order: unexpected first, then by status, then as the store lists them (oldest).
    out.sort_by_key(|s| (s.expected, s.status));
    for (i, s) in out.iter_mut().enumerate() {
        s.anchor = format!("sig-{}", i + 1);
    }

    let run_summaries: Vec<RunSummary> = runs.iter().map(|r| summary(r, in_window(r.id))).collect();
    let mut totals = totals(&out, &runs, &cases, &replays, &run_summaries);
    let buckets = buckets(&out);
    totals.buckets = bucket_totals(&buckets);
    let verdict = verdict(&buckets, &totals.buckets);
    let window = Window {
        basis,
        after_run,
        latest_replay_run,
        runs: runs
            .iter()
            .filter(|r| in_window(r.id))
            .map(|r| r.id)
            .collect(),
    };
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        generated_at: opts.now,
        tool_version: opts.tool_version.clone(),
        db: opts.db_label.clone(),
        window,
        verdict,
        totals,
        buckets,
        charts: charts(&out, &runs),
        coverage: coverage(&runs),
        signatures: out,
        runs: run_summaries,
    })
}

/// The finding(s) whose recognisers explain the best case now, if it diverges in a bucket
/// with a finding.
fn listed(e: &Explanation) -> Option<ListedFinding> {
    let name = e.bucket_now.as_deref()?;
    let bucket = findings::Bucket::from_name(name)?;
    (bucket.kind() == findings::BucketKind::Finding).then(|| ListedFinding {
        pattern: name.to_string(),
        finding: bucket
            .causes()
            .map(|c| format!("{}: {}", c.id, c.title))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// Runs the stored text through this build's models.
fn explain(text: &str) -> Explanation {
    let file = match format::parse(text) {
        Ok(f) => f,
        Err(e) => {
            return Explanation {
                verdict: "unreadable".into(),
                error: Some(e.to_string()),
                ..Explanation::default()
            }
        }
    };
    // On the pair the case was found on.
    let report = oracle::run_pair(&file.case, file.designs.unwrap_or_default(), false);
    match report.verdict.divergence() {
        None => Explanation {
            verdict: "agrees".into(),
            ..Explanation::default()
        },
        Some(d) => Explanation {
            verdict: "diverges".into(),
            signature_now: Some(d.signature.clone()),
            rule_now: d.rule.map(str::to_string),
            bucket_now: Some(d.bucket.name()),
            op_index: Some(d.op_index),
            operation: file.case.ops.get(d.op_index).map(format::op_text),
            outcomes: Some([d.outcomes[0].to_string(), d.outcomes[1].to_string()]),
            blame: Some(d.blame.name().to_string()),
            diff: d.detail.as_ref().map(|x| x.diff.clone()),
            error: None,
            designs: file
                .designs
                .filter(|p| !p.is_default())
                .map(|p| p.names().map(str::to_string)),
        },
    }
}

/// The buckets of a report's variants, most urgent first.
fn buckets(sigs: &[SignatureReport]) -> Vec<BucketReport> {
    let mut by: std::collections::BTreeMap<String, Vec<&SignatureReport>> = Default::default();
    for s in sigs {
        // A variant recorded before triage goes where its best case is now.
        let name = if s.bucket.is_empty() {
            s.explanation.bucket_now.clone().unwrap_or_default()
        } else {
            s.bucket.clone()
        };
        by.entry(name).or_default().push(s);
    }
    let mut out: Vec<BucketReport> = by
        .into_iter()
        .map(|(name, vs)| {
            let kind = findings::kind_of(&name);
            let unlisted = kind == findings::BucketKind::Unlisted;
            // A best case that diverges now in another bucket than the one stored: changed.
            let changed = vs.iter().any(|v| {
                !v.bucket.is_empty()
                    && v.explanation
                        .bucket_now
                        .as_deref()
                        .is_some_and(|b| b != v.bucket)
            });
            let all = |st: Status| vs.iter().all(|v| v.status == st);
            let status = if vs.iter().any(|v| v.status == Status::Regressed) || changed {
                Status::Regressed
            } else if all(Status::Fixed) {
                Status::Fixed
            } else if all(Status::New) {
                Status::New
            } else {
                Status::Reproducing
            };
            let mut variants: Vec<VariantInfo> = vs
                .iter()
                .map(|v| VariantInfo {
                    signature: v.signature.clone(),
                    occurrences: v.occurrences,
                    status: v.status,
                    best_case: v.best_case.id,
                    anchor: v.anchor.clone(),
                })
                .collect();
            variants.sort_by(|a, b| {
                (std::cmp::Reverse(a.occurrences), &a.signature)
                    .cmp(&(std::cmp::Reverse(b.occurrences), &b.signature))
            });
            let best = vs
                .iter()
                .min_by_key(|v| (v.best_case.ops, v.best_case.text.len(), v.best_case.id))
                .map(|v| v.anchor.clone())
                .unwrap_or_default();
            BucketReport {
                anchor: String::new(),
                causes: name
                    .split('+')
                    .filter_map(findings::cause)
                    .map(|c| CauseInfo {
                        id: c.id.to_string(),
                        title: c.title.to_string(),
                        reason: c.reason.to_string(),
                    })
                    .collect(),
                kind: if name.is_empty() {
                    BucketClass::BeforeTriage
                } else {
                    kind.into()
                },
                failing: (unlisted && status != Status::Fixed) || status == Status::Regressed,
                status,
                occurrences: vs.iter().map(|v| v.occurrences).sum(),
                hit_count: vs.iter().map(|v| v.hit_count).sum(),
                first_seen: vs.iter().map(|v| v.first_seen).min().unwrap_or(0),
                last_seen: vs.iter().map(|v| v.last_seen).max().unwrap_or(0),
                first_run: vs.iter().filter_map(|v| v.first_run).min(),
                last_run: vs.iter().filter_map(|v| v.last_run).max(),
                variants,
                best,
                bucket: name,
            }
        })
        .collect();
    out.sort_by_key(|b| {
        (
            !b.failing,
            b.status != Status::New,
            b.kind == BucketClass::Expected,
            std::cmp::Reverse(b.occurrences),
            b.bucket.clone(),
        )
    });
    for (i, b) in out.iter_mut().enumerate() {
        b.anchor = format!("bucket-{}", i + 1);
    }
    out
}

fn bucket_totals(bs: &[BucketReport]) -> BucketTotals {
    let mut findings_seen = std::collections::BTreeSet::new();
    let mut rules_seen = std::collections::BTreeSet::new();
    for b in bs
        .iter()
        .filter(|b| b.status != Status::Fixed && !b.failing)
    {
        for c in &b.causes {
            if findings::cause(&c.id).is_some_and(|x| x.kind == findings::CauseKind::Rule) {
                rules_seen.insert(c.id.clone());
            } else {
                findings_seen.insert(c.id.clone());
            }
        }
    }
    BucketTotals {
        total: bs.len(),
        findings: bs.iter().filter(|b| b.kind == BucketClass::Finding).count(),
        expected: bs
            .iter()
            .filter(|b| b.kind == BucketClass::Expected)
            .count(),
        unlisted: bs
            .iter()
            .filter(|b| b.kind == BucketClass::Unlisted && b.status != Status::Fixed)
            .count(),
        regressed: bs.iter().filter(|b| b.status == Status::Regressed).count(),
        fixed: bs.iter().filter(|b| b.status == Status::Fixed).count(),
        new: bs.iter().filter(|b| b.status == Status::New).count(),
        findings_reproducing: findings_seen.len(),
        rules_reproducing: rules_seen.len(),
    }
}

/// The verdict line.
fn verdict(bs: &[BucketReport], t: &BucketTotals) -> String {
    let tail = format!(
        "{} findings and {} expected differences reproduce, {} unlisted, {} regressed",
        t.findings_reproducing, t.rules_reproducing, t.unlisted, t.regressed
    );
    if t.unlisted + t.regressed > 0 {
        let names: Vec<&str> = bs
            .iter()
            .filter(|b| b.failing)
            .map(|b| b.bucket.as_str())
            .collect();
        format!("FAILING ({}): {tail}", names.join(", "))
    } else if t.new > 0 {
        format!("{} new bucket(s) of known causes: {tail}", t.new)
    } else {
        format!("nothing new: {tail}")
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The commands that reproduce, explain and minimise stored case `id` of database `db`: the
/// same shapes `cgdiff` prints after a divergence (the CLI's tests parse them back).
pub fn reproduce_commands(id: i64, db: &str) -> Vec<String> {
    ["replay", "explain", "minimize"]
        .iter()
        .map(|cmd| format!("cgdiff {cmd} {id} --db {}", shell_word(db)))
        .collect()
}

fn summary(r: &RunRow, in_window: bool) -> RunSummary {
    RunSummary {
        id: r.id,
        kind: r.kind.to_string(),
        started_at: r.started_at,
        ended_at: r.ended_at,
        cases_executed: r.cases_executed,
        cases_per_sec: r.cases_per_sec,
        ops_per_sec: r.ops_per_sec,
        shard: r.shard.clone(),
        new_signatures: r.new_signatures,
        divergences: r.divergences,
        in_window,
        jobs: r.jobs,
        merged_from: r
            .extra
            .pointer("/merged_from/db")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }
}

fn totals(
    sigs: &[SignatureReport],
    runs: &[RunRow],
    cases: &[CaseRow],
    replays: &[ReplayRow],
    summaries: &[RunSummary],
) -> Totals {
    let mut t = Totals {
        signatures: sigs.len(),
        unexpected: sigs.iter().filter(|s| !s.expected).count(),
        expected: sigs.iter().filter(|s| s.expected).count(),
        failing: sigs.iter().filter(|s| s.failing).count(),
        unlisted: sigs
            .iter()
            .filter(|s| s.failing && s.listed.is_none())
            .count(),
        cases: cases.len(),
        runs: runs.len(),
        runs_in_window: summaries.iter().filter(|r| r.in_window).count(),
        cases_executed: runs.iter().map(|r| r.cases_executed).sum(),
        operations: runs.iter().map(|r| r.operations).sum(),
        divergences: runs.iter().map(|r| r.divergences).sum(),
        replays: replays.len(),
        ..Totals::default()
    };
    for st in Status::ALL {
        t.by_status
            .insert(st, sigs.iter().filter(|s| s.status == st).count());
        t.unexpected_by_status.insert(
            st,
            sigs.iter()
                .filter(|s| s.status == st && !s.expected)
                .count(),
        );
    }
    t
}

fn charts(sigs: &[SignatureReport], runs: &[RunRow]) -> Charts {
    let mut firsts: Vec<i64> = sigs.iter().map(|s| s.first_seen).collect();
    firsts.sort_unstable();
    let discovery = firsts
        .iter()
        .enumerate()
        .map(|(i, &at)| DiscoveryPoint {
            at,
            signatures: i + 1,
        })
        .collect();
    let throughput = runs
        .iter()
        .filter(|r| matches!(r.kind, RunKind::Campaign | RunKind::CargoFuzz))
        .filter_map(|r| {
            r.cases_per_sec.map(|c| ThroughputPoint {
                run_id: r.id,
                kind: r.kind.to_string(),
                cases_per_sec: c,
            })
        })
        .collect();
    let classes = Class::ALL
        .iter()
        .map(|c| c.name())
        .chain(
            // Classes an older or newer build stored that this one does not know.
            sigs.iter()
                .flat_map(|s| s.classes.iter().map(String::as_str))
                .filter(|n| Class::from_name(n).is_none()),
        )
        .fold(Vec::<&str>::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        })
        .into_iter()
        .map(|name| {
            let with: Vec<&SignatureReport> = sigs
                .iter()
                .filter(|s| s.classes.iter().any(|c| c == name))
                .collect();
            ClassCount {
                class: name.to_string(),
                unexpected: with.iter().filter(|s| !s.expected).count(),
                expected: with.iter().filter(|s| s.expected).count(),
                hits: with.iter().map(|s| s.hit_count).sum(),
            }
        })
        .collect();
    Charts {
        discovery,
        throughput,
        classes,
    }
}

fn coverage(runs: &[RunRow]) -> CoverageReport {
    let mut runs_counted = 0;
    let designs = report_designs(runs);
    let mut sums: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); designs.len()];
    for r in runs {
        let Some(cov) = r.extra.get("coverage") else {
            continue;
        };
        runs_counted += 1;
        for (m, model) in designs.iter().enumerate() {
            if let Some(points) = cov.get(model).and_then(|v| v.as_object()) {
                for (name, n) in points {
                    *sums[m].entry(name.clone()).or_default() += n.as_u64().unwrap_or(0);
                }
            }
        }
    }
    // The points of the designs reported (for legacy and four-stage: the seed's points).
    let known: Vec<&str> = (0..COVERAGE_POINTS)
        .filter(|&i| {
            designs
                .iter()
                .any(|m| by_name(m).is_none_or(|d| d.has_point(i)))
        })
        .map(Step::point_name)
        .collect();
    let models = designs
        .iter()
        .enumerate()
        .map(|(m, model)| {
            let extra = sums[m].keys().filter(|k| !known.contains(&k.as_str()));
            let names: Vec<String> = known
                .iter()
                .map(|s| s.to_string())
                .chain(extra.cloned())
                .collect();
            let points: Vec<CoveragePoint> = names
                .into_iter()
                .map(|name| CoveragePoint {
                    count: sums[m].get(&name).copied().unwrap_or(0),
                    applies: point_applies(model, &name),
                    name,
                })
                .collect();
            ModelCoverage {
                model: model.to_string(),
                never_reached: points
                    .iter()
                    .filter(|p| p.applies && p.count == 0)
                    .map(|p| p.name.clone())
                    .collect(),
                reached: points.iter().filter(|p| p.applies && p.count > 0).count(),
                applicable: points.iter().filter(|p| p.applies).count(),
                points,
            }
        })
        .collect();
    CoverageReport {
        runs_counted,
        models,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over the default pair's points, the model-specific coverage points are exactly the
    /// model-specific steps: legacy's five `cgroup_attach_task` branches and four-stage's eleven
    /// stage steps; the later designs' own points belong to neither.
    #[test]
    fn model_specific_points_are_the_designs_own_steps() {
        let names: Vec<&str> = (0..COVERAGE_POINTS).map(Step::point_name).collect();
        let pair: Vec<usize> = Pair::DEFAULT.coverage_points().collect();
        assert_eq!(pair, (0..37).collect::<Vec<_>>());
        let legacy_only: Vec<usize> = pair
            .iter()
            .copied()
            .filter(|&i| !point_applies("four-stage", names[i]))
            .collect();
        let four_only: Vec<usize> = pair
            .iter()
            .copied()
            .filter(|&i| !point_applies("legacy", names[i]))
            .collect();
        assert_eq!(legacy_only, (4..=8).collect::<Vec<_>>(), "{names:?}");
        assert_eq!(four_only, (9..=19).collect::<Vec<_>>(), "{names:?}");
        for later in &names[37..] {
            assert!(!point_applies("legacy", later) && !point_applies("four-stage", later));
            assert!(point_applies("v5.19", later), "{later}");
        }
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("cgdiff.db"), "cgdiff.db");
        assert_eq!(shell_word("my db"), "'my db'");
        assert_eq!(
            reproduce_commands(3, "a'b")[0],
            "cgdiff replay 3 --db 'a'\\''b'"
        );
    }
}
