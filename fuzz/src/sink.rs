//! The case store a fuzz process feeds: opened on first use, one `cargo-fuzz` run per process,
//! finished when libFuzzer exits normally (`-max_total_time`, `-runs`).

use cgdiff_corpus::{FoundBy, NewCase, NewRun, RunKind, RunTotals, Store};
use cgdiff_engine::models::Pair;
use cgdiff_engine::trace::Coverage;
use cgdiff_engine::{format, Case, Divergence};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// What this process has run so far, for the run's totals.
#[derive(Default)]
struct Totals {
    started: Option<Instant>,
    new_signatures: u64,
    coverage: [Coverage; 2],
}

struct Sink {
    store: Store,
    run_id: i64,
}

static CASES: AtomicU64 = AtomicU64::new(0);
static OPERATIONS: AtomicU64 = AtomicU64::new(0);
static DIVERGENCES: AtomicU64 = AtomicU64::new(0);
static TOTALS: Mutex<Option<Totals>> = Mutex::new(None);
static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();
static TARGET: OnceLock<&'static str> = OnceLock::new();

/// The database: `$CGDIFF_DB`, else the path baked in with `CGDIFF_DB_DEFAULT` at build time
/// (a fuzzing service's runner has no source tree: see .clusterfuzzlite/build.sh), else
/// `cgdiff.db` at the repository root (what `cgdiff` uses when run from there).
pub fn db_path() -> PathBuf {
    std::env::var_os("CGDIFF_DB")
        .map(PathBuf::from)
        .or_else(|| option_env!("CGDIFF_DB_DEFAULT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../cgdiff.db")))
}

/// Call once at start (the target's `init`): starts the clock and arranges for the run to be
/// finished when the process exits normally.
pub fn init(target: &'static str) {
    let _ = TARGET.set(target);
    *TOTALS.lock().unwrap() = Some(Totals {
        started: Some(Instant::now()),
        ..Totals::default()
    });
    // SAFETY: registering a plain `extern "C" fn` that touches only our own statics.
    unsafe {
        libc::atexit(finish_at_exit);
    }
}

/// Counts one executed case; `coverage` is the report's per-model step counters.
pub fn count(ops: usize, coverage: &[Coverage; 2], diverged: bool) {
    CASES.fetch_add(1, Ordering::Relaxed);
    OPERATIONS.fetch_add(ops as u64, Ordering::Relaxed);
    if diverged {
        DIVERGENCES.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(t) = TOTALS.lock().unwrap().as_mut() {
        t.coverage[0].add(&coverage[0]);
        t.coverage[1].add(&coverage[1]);
    }
}

/// Whether this process has not met `signature` before (and remembers it).
pub fn first_time(signature: &str) -> bool {
    let mut seen = SEEN.lock().unwrap();
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.contains(signature) {
        return false;
    }
    seen.insert(signature.to_string());
    true
}

fn git_commit() -> Option<String> {
    Some(env!("CGDIFF_GIT_COMMIT").to_string()).filter(|s| !s.is_empty())
}

fn open() -> Mutex<Sink> {
    let path = db_path();
    let opened = Store::open(&path).and_then(|mut store| {
        let mut run = NewRun::new(RunKind::CargoFuzz, env!("CARGO_PKG_VERSION"));
        run.git_commit = git_commit();
        run.jobs = Some(1);
        run.extra = Some(serde_json::json!({
            "target": TARGET.get().copied().unwrap_or("?"),
            "pid": std::process::id(),
        }));
        let run_id = store.begin_run(&run)?;
        Ok(Sink { store, run_id })
    });
    match opened {
        Ok(sink) => Mutex::new(sink),
        Err(e) => {
            // A configuration error, not a finding: no panic (libFuzzer would save the input
            // as a crash artifact).
            eprintln!(
                "cgdiff fuzz target: cannot use the case store {}: {e} (set CGDIFF_DB)",
                path.display()
            );
            std::process::exit(2);
        }
    }
}

/// Records a divergent case (its canonical text and the bytes it was decoded from) in the
/// store, opening the store and beginning the run on first use. A failed write is reported
/// and the fuzzing goes on.
pub fn record(case: &Case, bytes: &[u8], d: &Divergence) {
    let sink = SINK.get_or_init(open);
    let mut sink = sink.lock().unwrap();
    let c = NewCase {
        text: format::print_with_designs(case, Some(crate::pair())),
        bytes: Some(bytes.to_vec()),
        signature: d.signature.clone(),
        classes: d.classes.names().iter().map(|s| s.to_string()).collect(),
        rule: d.rule.map(str::to_string),
        bucket: d.bucket.name(),
        first_op: d.op_index as u32,
        ops: case.ops.len() as u32,
        minimised_from: None,
        found_by: FoundBy::CargoFuzz,
        run_id: Some(sink.run_id),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
    };
    match sink.store.record(&c) {
        Ok(r) => {
            if r.is_new_signature() {
                if let Some(t) = TOTALS.lock().unwrap().as_mut() {
                    t.new_signatures += 1;
                }
            }
            eprintln!(
                "cgdiff: stored case {} ({}): {}{}",
                r.case_id(),
                if r.is_new_signature() {
                    "new signature"
                } else {
                    "known signature"
                },
                d.signature,
                d.rule
                    .map_or(String::new(), |r| format!(" (expected: {r})")),
            );
        }
        Err(e) => eprintln!("cgdiff: could not store a case ({}): {e}", d.signature),
    }
}

fn coverage_json(pair: Pair, c: &[Coverage; 2]) -> serde_json::Value {
    serde_json::to_value(pair.coverage_table(c)).expect("a map of counts serialises")
}

extern "C" fn finish_at_exit() {
    // Only if a divergence opened the store; never block (or panic) inside exit.
    let Some(sink) = SINK.get() else { return };
    let Ok(mut sink) = sink.try_lock() else {
        return;
    };
    let Ok(totals) = TOTALS.try_lock() else {
        return;
    };
    let Some(t) = totals.as_ref() else { return };
    let run_id = sink.run_id;
    let r = sink.store.finish_run(
        run_id,
        &RunTotals {
            cases_executed: CASES.load(Ordering::Relaxed),
            operations: OPERATIONS.load(Ordering::Relaxed),
            elapsed: t.started.map(|s| s.elapsed()).unwrap_or_default(),
            new_signatures: t.new_signatures,
            divergences: DIVERGENCES.load(Ordering::Relaxed),
            extra: Some(
                serde_json::json!({ "coverage": coverage_json(crate::pair(), &t.coverage) }),
            ),
        },
    );
    if let Err(e) = r {
        eprintln!("cgdiff: could not finish run {run_id}: {e}");
    }
}
