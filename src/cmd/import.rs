//! `cgdiff import PATH...`: case files and libFuzzer artifacts into the store.

use super::{git_commit, open_store, store_finding, EXIT_BAD_INPUT, EXIT_DIVERGENCE};
use crate::campaign;
use anyhow::Result;
use arbitrary::{Arbitrary, Unstructured};
use cgdiff_corpus::{FoundBy, NewRun, RunKind, RunTotals};
use cgdiff_engine::{format, oracle, Case};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(
    after_help = "Each file is either a case file (it starts with `cgdiff-case`, after \
comments) or raw libFuzzer input (decoded exactly as the `differential` target decodes it). \
Folders are read recursively. Every case is re-run; divergent ones are minimised and stored.\n\n\
Exit status: 2 if any file could not be read or parsed (the others are still imported), \
else 1 if a new unexpected signature was stored, else 0."
)]
pub struct Args {
    /// Case files, artifacts, or folders of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
}

fn files(p: &Path, out: &mut Vec<PathBuf>) {
    match std::fs::read_dir(p) {
        Ok(entries) => {
            let mut v: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            for e in v {
                files(&e, out);
            }
        }
        Err(_) => out.push(p.to_path_buf()),
    }
}

/// Decodes one file: a case file, or libFuzzer bytes through `Arbitrary`.
pub fn decode(bytes: &[u8]) -> Result<(Case, bool), String> {
    let text = std::str::from_utf8(bytes).ok();
    let is_case_file = text.is_some_and(|t| {
        t.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("cgdiff-case"))
    });
    if is_case_file {
        let file = format::parse(text.unwrap_or_default()).map_err(|e| e.to_string())?;
        Ok((file.case, true))
    } else {
        let mut u = Unstructured::new(bytes);
        Case::arbitrary(&mut u)
            .map(|c| (c, false))
            .map_err(|e| e.to_string())
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let mut store = open_store(&a.db)?;
    let known = store.known_signatures()?;
    let mut run = NewRun::new(RunKind::Import, env!("CARGO_PKG_VERSION"));
    run.git_commit = git_commit();
    let run_id = store.begin_run(&run)?;
    let mut all = Vec::new();
    for p in &a.paths {
        files(p, &mut all);
    }
    let (mut bad, mut stored, mut agree, mut new_unexpected, mut ops) = (0, 0, 0, 0, 0u64);
    for path in &all {
        let decoded = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| decode(&b).map(|(c, text)| (c, text, b)));
        let (case, is_text, bytes) = match decoded {
            Ok(x) => x,
            Err(e) => {
                eprintln!("skipped {}: {e}", path.display());
                bad += 1;
                continue;
            }
        };
        let report = oracle::check(&case);
        ops += report.ops_executed as u64;
        let Some(_) = report.verdict.divergence() else {
            println!("agrees      {}", path.display());
            agree += 1;
            continue;
        };
        let mut f = campaign::finding(0, None, &case, &report.verdict, false, Default::default());
        if !is_text {
            f.bytes = Some(bytes);
        }
        let found_by = if is_text {
            FoundBy::Import
        } else {
            FoundBy::CargoFuzz
        };
        let id = store_finding(&mut store, run_id, &f, found_by)?;
        let new = !known.contains(&f.signature);
        if new && f.rule.is_none() {
            new_unexpected += 1;
        }
        stored += 1;
        println!(
            "stored case {id}: {} {}{}",
            f.signature,
            path.display(),
            if new { " (new)" } else { "" }
        );
    }
    store.finish_run(
        run_id,
        &RunTotals {
            cases_executed: (all.len() - bad) as u64,
            operations: ops,
            elapsed: started.elapsed(),
            divergences: stored,
            new_signatures: new_unexpected,
            extra: None,
        },
    )?;
    println!(
        "{} files: {stored} divergent stored, {agree} agree, {bad} skipped (unreadable or malformed)",
        all.len()
    );
    Ok(if bad > 0 {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if new_unexpected > 0 {
        ExitCode::from(EXIT_DIVERGENCE)
    } else {
        ExitCode::SUCCESS
    })
}
