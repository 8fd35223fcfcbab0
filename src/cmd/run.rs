//! `cgdiff run FILE`: one case file through both models, operation by operation.

use super::{pair_of, read_case_file, EXIT_DIVERGENCE};
use crate::explain;
use anyhow::Result;
use cgdiff_engine::models::Pair;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 the models agree and every invariant holds, \
1 a divergence (expected or not), 2 bad input."
)]
pub struct Args {
    /// The case file (format: docs/case-format.md).
    file: PathBuf,
    /// Print the trace and verdict as JSON.
    #[arg(long)]
    json: bool,
    /// The two designs to compare, as A,B (default: the file's `designs` line, else
    /// legacy,four-stage; `cgdiff designs` lists them).
    #[arg(long, value_name = "A,B")]
    designs: Option<Pair>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let file = read_case_file(&a.file)?;
    // Streamed: each operation is printed as it runs, so memory does not grow with the case.
    let pair = pair_of(a.designs, &file);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let report = if a.json {
        explain::write_run_json(&mut out, &file.case, pair)?
    } else {
        explain::write_run(
            &mut out,
            &file.case,
            pair,
            &explain::Origin::File(a.file.display().to_string()),
        )?
    };
    out.flush()?;
    Ok(match report.verdict.divergence() {
        None => ExitCode::SUCCESS,
        Some(_) => ExitCode::from(EXIT_DIVERGENCE),
    })
}
