//! `cgdiff cases list|show`: what the store holds.

use super::{open_store_read, shell_quote, terminal_safe, EXIT_OK};
use crate::explain;
use anyhow::{bail, Context, Result};
use cgdiff_corpus::CaseFilter;
use cgdiff_engine::findings::{self, BucketKind};
use cgdiff_engine::{format, oracle};
use cgdiff_replay::triage;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// What the store holds: one row per bucket (its best case, variants, occurrences, first
    /// and last seen); `--variants` one row per variant, `--all-cases` every stored case.
    #[command(after_help = "Examples:\n  \
        cgdiff cases list                      one row per bucket, unlisted first\n  \
        cgdiff cases list --finding F3         the buckets that involve finding F3\n  \
        cgdiff cases list --variants           one row per signature within its bucket\n  \
        cgdiff cases list --all-cases --signature 'transfer-tasks/*'\n                                         every stored case of matching signatures")]
    List {
        /// One row per variant (a signature within its bucket).
        #[arg(long, conflicts_with = "all_cases")]
        variants: bool,
        /// One row per stored case, originals and minimised ones.
        #[arg(long)]
        all_cases: bool,
        /// Only signatures matching this glob (`*` matches anything, `/` included).
        #[arg(long)]
        signature: Option<String>,
        /// Only buckets with this cause: a finding (`F3`) or a rule's name.
        #[arg(long)]
        finding: Option<String>,
        /// Only this bucket, by its exact name (`F2+enomem-before-side-effects`, `unlisted`).
        #[arg(long)]
        bucket: Option<String>,
        /// Only what no expected-difference rule explains (findings and unlisted).
        #[arg(long)]
        unexpected: bool,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long, default_value = "cgdiff.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Show one stored case: its text, its bucket, the verdict on the current models, and the
    /// diff.
    Show {
        id: i64,
        #[arg(long, default_value = "cgdiff.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Which rows a `cases list` keeps.
struct Select {
    signature: Option<String>,
    finding: Option<String>,
    bucket: Option<String>,
    unexpected: bool,
}

impl Select {
    fn bucket_ok(&self, bucket: &str) -> bool {
        self.bucket.as_deref().is_none_or(|b| b == bucket)
            && self
                .finding
                .as_deref()
                .is_none_or(|f| bucket.split('+').any(|id| id == f))
            && (!self.unexpected || findings::kind_of(bucket) != BucketKind::Expected)
    }
    fn signature_ok(&self, sig: &str) -> bool {
        self.signature
            .as_deref()
            .is_none_or(|p| findings::glob_match(p, sig))
    }
}

fn bucket_label(b: &str) -> String {
    if b.is_empty() {
        "(before triage)".to_string()
    } else {
        terminal_safe(b)
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::List {
            variants,
            all_cases,
            signature,
            finding,
            bucket,
            unexpected,
            limit,
            db,
            json,
        } => {
            if let Some(f) = &finding {
                if findings::cause(f).is_none() {
                    bail!(
                        "--finding {f}: no such finding or rule (known: {})",
                        findings::causes()
                            .iter()
                            .map(|c| c.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            let sel = Select {
                signature,
                finding,
                bucket,
                unexpected,
            };
            let store = open_store_read(&db)?;
            let limit = limit.map_or(usize::MAX, |l| l as usize);
            if all_cases {
                let mut rows = store.cases(&CaseFilter::default())?;
                rows.retain(|r| {
                    sel.signature_ok(&r.signature)
                        && sel.bucket_ok(r.bucket.as_deref().unwrap_or(""))
                });
                rows.truncate(limit);
                if json {
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                    return Ok(ExitCode::from(EXIT_OK));
                }
                println!(
                    "{:>6} {:>4} {:>5} {:<11} {:<10}  bucket  signature",
                    "id", "ops", "hits", "found by", "from"
                );
                for r in &rows {
                    println!(
                        "{:>6} {:>4} {:>5} {:<11} {:<10}  {}  {}",
                        r.id,
                        r.ops,
                        r.hit_count,
                        r.found_by.as_str(),
                        r.minimised_from
                            .map_or("-".to_string(), |m| format!("#{m}")),
                        bucket_label(r.bucket.as_deref().unwrap_or("")),
                        terminal_safe(&r.signature),
                    );
                }
                println!("{} cases", rows.len());
                return Ok(ExitCode::from(EXIT_OK));
            }
            let mut vars = store.signatures()?;
            vars.retain(|v| sel.signature_ok(&v.signature) && sel.bucket_ok(&v.bucket));
            if variants {
                vars.sort_by(|x, y| {
                    (&x.bucket, std::cmp::Reverse(x.occurrences), &x.signature).cmp(&(
                        &y.bucket,
                        std::cmp::Reverse(y.occurrences),
                        &y.signature,
                    ))
                });
                vars.truncate(limit);
                if json {
                    println!("{}", serde_json::to_string_pretty(&vars)?);
                    return Ok(ExitCode::from(EXIT_OK));
                }
                println!(
                    "{:<34} {:>11} {:>6} {:>6}  signature",
                    "bucket", "occurrences", "cases", "best"
                );
                for v in &vars {
                    println!(
                        "{:<34} {:>11} {:>6} {:>6}  {}",
                        bucket_label(&v.bucket),
                        v.occurrences,
                        v.cases,
                        v.best_case_id,
                        terminal_safe(&v.signature)
                    );
                }
                println!("{} variants", vars.len());
                return Ok(ExitCode::from(EXIT_OK));
            }
            // One row per bucket: only the buckets with a variant the selection keeps.
            let keep: std::collections::HashSet<&str> =
                vars.iter().map(|v| v.bucket.as_str()).collect();
            let mut rows: Vec<_> = store
                .buckets()?
                .into_iter()
                .filter(|b| keep.contains(b.bucket.as_str()))
                .collect();
            rows.sort_by_key(|b| {
                let k = findings::kind_of(&b.bucket);
                (
                    k != BucketKind::Unlisted,
                    k == BucketKind::Expected,
                    std::cmp::Reverse(b.occurrences),
                    b.bucket.clone(),
                )
            });
            rows.truncate(limit);
            if json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|b| {
                        serde_json::json!({
                            "bucket": b.bucket,
                            "kind": findings::kind_of(&b.bucket),
                            "title": triage::bucket_title(&b.bucket),
                            "variants": b.variants,
                            "occurrences": b.occurrences,
                            "hit_count": b.hit_count,
                            "first_seen": b.first_seen,
                            "last_seen": b.last_seen,
                            "first_run": b.first_run,
                            "last_run": b.last_run,
                            "best_case_id": b.best_case_id,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(ExitCode::from(EXIT_OK));
            }
            println!(
                "{:<34} {:<9} {:>8} {:>11} {:>5}  {:<16} {:<16}  what",
                "bucket", "kind", "variants", "occurrences", "best", "first seen", "last seen"
            );
            for b in &rows {
                println!(
                    "{:<34} {:<9} {:>8} {:>11} {:>5}  {:<16} {:<16}  {}",
                    bucket_label(&b.bucket),
                    findings::kind_of(&b.bucket).name(),
                    b.variants,
                    b.occurrences,
                    b.best_case_id,
                    seen(b.first_seen, b.first_run),
                    seen(b.last_seen, b.last_run),
                    triage::bucket_title(&b.bucket)
                );
            }
            println!(
                "{} buckets; `--variants` for their signatures, `cgdiff explain BEST --db {}` for \
                 a story",
                rows.len(),
                shell_quote(&db.display().to_string())
            );
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
                    "case {id}: {} ops, found by {}, stored signature {} in bucket {}",
                    row.ops,
                    row.found_by.as_str(),
                    terminal_safe(&row.signature),
                    bucket_label(row.bucket.as_deref().unwrap_or(""))
                );
                println!();
                print!("{}", terminal_safe(&row.text));
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

/// `2026-12-01 22:40 (run 3)`: when and in which run a bucket was seen.
fn seen(at: i64, run: Option<i64>) -> String {
    let t = cgdiff_reports::time::short(at);
    match run {
        Some(r) => format!("{t} r{r}"),
        None => t,
    }
}
