//! `cgdiff cases list|show`: what the store holds.

use super::{open_store_read, EXIT_OK};
use crate::explain;
use anyhow::{bail, Context, Result};
use cgdiff_corpus::CaseFilter;
use cgdiff_engine::{format, oracle};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// List stored cases, oldest first.
    List {
        /// Only cases with this signature.
        #[arg(long)]
        signature: Option<String>,
        /// Only cases that no expected-difference rule covers.
        #[arg(long)]
        unexpected: bool,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long, default_value = "cgdiff.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Show one stored case: its text, the verdict on the current models, and the diff.
    Show {
        id: i64,
        #[arg(long, default_value = "cgdiff.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::List {
            signature,
            unexpected,
            limit,
            db,
            json,
        } => {
            let store = open_store_read(&db)?;
            let rows = store.cases(&CaseFilter {
                signature,
                unexpected_only: unexpected,
                limit,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::from(EXIT_OK));
            }
            println!(
                "{:>6} {:>4} {:>5} {:<11} {:<10}  signature (rule)",
                "id", "ops", "hits", "found by", "from"
            );
            for r in &rows {
                println!(
                    "{:>6} {:>4} {:>5} {:<11} {:<10}  {}{}",
                    r.id,
                    r.ops,
                    r.hit_count,
                    r.found_by.as_str(),
                    r.minimised_from
                        .map_or("-".to_string(), |m| format!("#{m}")),
                    r.signature,
                    r.rule
                        .as_ref()
                        .map_or(String::new(), |x| format!("  ({x})"))
                );
            }
            println!("{} cases", rows.len());
            Ok(ExitCode::from(EXIT_OK))
        }
        Sub::Show { id, db, json } => {
            let store = open_store_read(&db)?;
            let Some(row) = store.case(id)? else {
                bail!("{}: no case with id {id}", db.display());
            };
            let file = format::parse(&row.text)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("stored case {id} in {} does not parse", db.display()))?;
            let report = oracle::run_pair(&file.case, file.designs.unwrap_or_default(), false);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "case": row, "verdict_now": report.verdict,
                    }))?
                );
            } else {
                println!(
                    "case {id}: {} ops, found by {}, stored signature {}",
                    row.ops,
                    row.found_by.as_str(),
                    row.signature
                );
                println!();
                print!("{}", row.text);
                println!();
                print!(
                    "{}",
                    explain::render_verdict(
                        &report,
                        &explain::Origin::Stored {
                            id,
                            db: db.display().to_string()
                        }
                    )
                );
            }
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}
