//! `cgdiff report`: the nightly report of a database, four ways (see the `cgdiff-reports`
//! crate and docs/report-format.md).

use super::open_store_read;
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Writes into --out: index.html (one self-contained page: open it in any \
browser), junit.xml (one test case per signature; unexpected ones that still diverge fail), \
summary.md (a digest for $GITHUB_STEP_SUMMARY) and report.json (schema: docs/report-format.md).\n\n\
\"Since the previous report\" means: the runs after --since RUN if given, else the runs after the \
last replay run before the latest one (a nightly job replays once a night), else everything.\n\n\
Examples:\n  \
    cgdiff report --out report/                  after `cgdiff replay --all`\n  \
    cgdiff report --db shard.db --out r/ --since 41\n\n\
Exit status: 0 written (the paths are printed), 2 bad input (no such database, unknown run)."
)]
pub struct Args {
    /// The case store to report on (must exist).
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// The folder to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Report what happened after this run id (default: since the previous replay run).
    #[arg(long, value_name = "RUN")]
    since: Option<i64>,
    /// Report only the signatures found on this pair of designs, as A,B (default: all).
    #[arg(long, value_name = "A,B")]
    designs: Option<cgdiff_engine::models::Pair>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = open_store_read(&a.db)?;
    let report = cgdiff_reports::build_for(
        &store,
        &cgdiff_reports::Options {
            since: a.since,
            db_label: a.db.display().to_string(),
            now: cgdiff_corpus::unix_now(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        a.designs,
    )?;
    for path in cgdiff_reports::write_all(&report, &a.out)? {
        println!("{}", path.display());
    }
    // The verdict the nightly gate acts on (buckets), not the per-signature counts, which
    // call every known finding "failing".
    let t = &report.totals;
    eprintln!(
        "cgdiff report: {} ({} buckets, {} signatures; {} runs, {} since the previous report)",
        report.verdict, t.buckets.total, t.signatures, t.runs, t.runs_in_window
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// The commands a report prints for each case are ones this CLI accepts.
    #[test]
    fn report_reproduce_commands_parse() {
        for db in ["cgdiff.db", "/tmp/odd name's.db"] {
            for line in cgdiff_reports::model::reproduce_commands(7, db) {
                let words = shell_split(&line);
                crate::cmd::Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
                assert!(words.contains(&db.to_string()), "{words:?}");
            }
        }
    }

    /// Just enough of POSIX shell word splitting for what `shell_word` produces.
    fn shell_split(line: &str) -> Vec<String> {
        let (mut words, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    any = true;
                }
                '\\' if !quoted => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ' ' if !quoted => {
                    if any || !cur.is_empty() {
                        words.push(std::mem::take(&mut cur));
                    }
                    any = false;
                }
                c => cur.push(c),
            }
        }
        if any || !cur.is_empty() {
            words.push(cur);
        }
        words
    }
}
