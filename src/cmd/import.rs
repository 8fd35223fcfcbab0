//! `cgdiff import PATH...`: case files and libFuzzer artifacts into the store.

use super::{
    git_commit, open_store, store_finding, terminal_safe, EXIT_BAD_INPUT, EXIT_DIVERGENCE,
};
use crate::campaign;
use anyhow::Result;
use cgdiff_corpus::{FoundBy, NewRun, RunKind, RunTotals};
use cgdiff_engine::input::{self, Input};
use cgdiff_engine::models::Pair;
use cgdiff_engine::{oracle, Case};
use cgdiff_replay::triage::{self, Tally};
use std::collections::HashSet;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(
    after_help = "Each file is either a case file (named *.case, or its first line that is not \
blank or a comment starts with `cgdiff-case`, after an optional byte order mark), which parses \
or is refused with its line and column, or raw libFuzzer input (decoded exactly as the \
`differential` target decodes it); `cgdiff run` reads files by the same rule. Folders are read \
recursively, symlinks to folders inside them are not followed, and each file is imported once. \
Every case is re-run; divergent ones are minimised and stored.\n\n\
Exit status: 2 if any file could not be read or parsed (the others are still imported), \
else 1 if a case is in the unlisted bucket or a bucket replayed as fixed is back, else 0 \
(new variants of known buckets included)."
)]
pub struct Args {
    /// Case files, artifacts, or folders of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
}

/// The files to import under `p`, each once, in a stable order. Folders are read
/// recursively; a symlink to a folder met inside one is not followed (so no loop can run
/// away), one named on the command line is. A file reached twice (through a symlink, or named
/// twice) is imported once. What cannot be listed goes to `skipped`, with whether it is an
/// error (a symlink not followed is not).
fn files(
    p: &Path,
    named: bool,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String, bool)>,
) {
    let link = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            skipped.push((p.to_path_buf(), e.to_string(), true));
            return;
        }
    };
    if meta.is_dir() {
        if link && !named {
            skipped.push((
                p.to_path_buf(),
                "a symlink to a folder (not followed inside a folder)".into(),
                false,
            ));
            return;
        }
        let entries = match std::fs::read_dir(p) {
            Ok(entries) => entries,
            Err(e) => {
                skipped.push((p.to_path_buf(), e.to_string(), true));
                return;
            }
        };
        let mut v: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        v.sort();
        for e in v {
            files(&e, false, seen, out, skipped);
        }
    } else if seen.insert(p.canonicalize().unwrap_or_else(|_| p.to_path_buf())) {
        out.push(p.to_path_buf());
    }
}

/// Decodes one file by the one rule of `cgdiff_engine::input` (what `cgdiff run` reads too):
/// a case file parses or is refused with its line and column; anything else is libFuzzer
/// bytes. Returns the case, whether it came from a case file, and the pair it is checked on
/// (the file's `designs` line, else legacy,four-stage), as `cgdiff run` checks it.
fn decode(path: &Path, bytes: &[u8]) -> Result<(Case, bool, Pair), String> {
    match input::decode(Some(&path.to_string_lossy()), bytes) {
        Ok(Input::CaseFile(f)) => Ok((f.case, true, f.designs.unwrap_or_default())),
        Ok(Input::FuzzInput(c)) => Ok((c, false, Pair::DEFAULT)),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let mut store = open_store(&a.db)?;
    let fixed_before = store.fixed_buckets()?;
    let mut tally = Tally::default();
    let mut run = NewRun::new(RunKind::Import, env!("CARGO_PKG_VERSION"));
    run.git_commit = git_commit();
    let run_id = store.begin_run(&run)?;
    let (mut all, mut seen, mut skipped) = (Vec::new(), HashSet::new(), Vec::new());
    for p in &a.paths {
        files(p, true, &mut seen, &mut all, &mut skipped);
    }
    for (path, why, _) in &skipped {
        eprintln!("skipped {}: {why}", path.display());
    }
    let unreadable = skipped.iter().filter(|s| s.2).count();
    let (mut bad, mut stored, mut agree, mut ops) = (unreadable, 0, 0, 0u64);
    for path in &all {
        let decoded = super::read_bounded(path)
            .map_err(|e| format!("{e:#}"))
            .and_then(|b| decode(path, &b).map(|(c, text, pair)| (c, text, pair, b)));
        let (case, is_text, pair, bytes) = match decoded {
            Ok(x) => x,
            Err(e) => {
                eprintln!("skipped {}: {e}", path.display());
                bad += 1;
                continue;
            }
        };
        let report = oracle::check_pair(&case, pair);
        ops += report.ops_executed as u64;
        let Some(d) = report.verdict.divergence() else {
            println!("agrees      {}", path.display());
            agree += 1;
            continue;
        };
        let mut f = campaign::finding(0, None, &case, d, false, pair);
        if !is_text {
            f.bytes = Some(bytes);
        }
        let found_by = if is_text {
            FoundBy::Import
        } else {
            FoundBy::CargoFuzz
        };
        let st = store_finding(&mut store, run_id, &f, found_by)?;
        tally.count(&f.bucket, &f.signature, 1);
        st.tally(&mut tally, &f);
        stored += 1;
        println!(
            "stored case {}: {} in bucket {}{} {}",
            st.case_id,
            f.signature,
            f.bucket,
            if st.new_bucket {
                " (new bucket)"
            } else if st.new_variant {
                " (new variant)"
            } else {
                ""
            },
            terminal_safe(&path.display().to_string())
        );
    }
    store.finish_run(
        run_id,
        &RunTotals {
            cases_executed: (all.len() + unreadable - bad) as u64,
            operations: ops,
            elapsed: started.elapsed(),
            divergences: stored,
            new_signatures: 0,
            extra: None,
        },
    )?;
    tally.regressions(&fixed_before);
    let lines = tally.lines();
    let unlisted = lines
        .iter()
        .filter(|b| b.kind == cgdiff_engine::findings::BucketKind::Unlisted)
        .count();
    let regressed = lines.iter().filter(|b| b.regressed).count();
    println!(
        "{} buckets: {} new, {unlisted} unlisted, {regressed} regressed",
        lines.len(),
        lines.iter().filter(|b| b.new).count()
    );
    println!(
        "{} files: {stored} divergent stored, {agree} agree, {bad} skipped (unreadable or malformed){}",
        all.len() + unreadable,
        match skipped.len() - unreadable {
            0 => String::new(),
            n => format!("; {n} symlinks to folders not followed"),
        }
    );
    Ok(if bad > 0 {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if triage::fails(&lines) {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}
