//! Subcommands, one module each, and the few helpers they share at the CLI edge.

mod bench;
mod cases;
mod designs;
mod explain;
mod export;
mod fuzz;
mod import;
mod merge;
mod minimize;
mod replay;
mod report;
mod run;

use anyhow::{Context, Result};
use cgdiff_engine::format::{self, CaseFile};
use cgdiff_engine::input::{self, Input};
use cgdiff_engine::models::Pair;
use clap::{Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

/// Exit status: the models agree / nothing that needs a person.
pub const EXIT_OK: u8 = 0;
/// Exit status: a divergence (`run`), or an unlisted bucket or a regression.
pub const EXIT_DIVERGENCE: u8 = 1;
/// Exit status: bad input (a malformed case file, a bad flag, an unusable database).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Differential fuzzing of the Linux cgroup migration rewrite (Feb 2014): the legacy
/// single-step cgroup_attach_task against the four-stage add_src / prepare_dst / migrate /
/// finish design, on generated operation sequences with injected faults.
#[derive(Parser)]
#[command(
    name = "cgdiff",
    version,
    about,
    after_help = "Start here:\n  \
        cgdiff fuzz --time 60s              a campaign on every core into ./cgdiff.db\n  \
        cgdiff cases list                   what it found, one row per bucket (root cause)\n  \
        cgdiff cases show ID                one finding, replayed on the current models\n  \
        cgdiff run examples/agree-basic.case  one case file, step by step\n\n\
Exit status: 0 agree / nothing that needs a person, 1 divergence (run) or an unlisted bucket \
or regression (fuzz, import, replay --all), 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a case file through both models and print what each did, then the verdict.
    Run(run::Args),
    /// Fuzz: generate cases on every core, store each divergence minimised.
    Fuzz(fuzz::Args),
    /// List and show stored cases.
    Cases(cases::Args),
    /// Re-run stored cases on the current models: reproduces, changed or fixed.
    Replay(replay::Args),
    /// The story of one divergence: operations, kernel-named steps, observations side by side.
    Explain(explain::Args),
    /// Shrink a case to the smallest one with the same signature.
    Minimize(minimize::Args),
    /// Write a stored case out as a case file, a regression test or a fuzz input.
    Export(export::Args),
    /// Bring case files and libFuzzer artifacts into the store.
    Import(import::Args),
    /// Write the nightly report of a database: index.html, junit.xml, summary.md, report.json.
    Report(report::Args),
    /// Merge databases (shards, CI machines) into one: cases and signatures unioned, runs kept.
    Merge(merge::Args),
    /// The cargo fuzz corpus: `cgdiff corpus seed` writes every stored case into it.
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
    /// Measure the engine: model operations per second through the full oracle.
    Bench(bench::Args),
    /// List the designs `--designs A,B` and `--design X` can name, oldest first.
    Designs,
}

#[derive(Subcommand)]
pub enum CorpusCommand {
    /// Write every stored case into fuzz/corpus/differential/ as a starting corpus.
    Seed(export::SeedArgs),
}

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Designs => designs::run(),
        Command::Fuzz(a) => fuzz::run(a),
        Command::Cases(a) => cases::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Minimize(a) => minimize::run(a),
        Command::Export(a) => export::run(a),
        Command::Import(a) => import::run(a),
        Command::Report(a) => report::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Corpus {
            command: CorpusCommand::Seed(a),
        } => export::seed(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// The pair a command runs a case on: `--designs` when given, else the case's own `designs`
/// line (the pair it was found on), else legacy,four-stage.
pub fn pair_of(flag: Option<Pair>, file: &CaseFile) -> Pair {
    flag.or(file.designs).unwrap_or_default()
}

/// Reads a file of at most [`format::MAX_FILE_BYTES`] bytes (a larger one is refused before
/// it is read whole).
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(format::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > format::MAX_FILE_BYTES {
        let len = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        anyhow::bail!("{}: {}", path.display(), format::too_big(len as usize));
    }
    Ok(bytes)
}

/// Reads a case file, or a raw libFuzzer input, by the one rule of
/// `cgdiff_engine::input` (the rule `cgdiff import` follows too); a case file's errors name
/// the file, line and column. A libFuzzer input is said on stderr.
pub fn read_case_file(path: &Path) -> Result<CaseFile> {
    let bytes = read_bounded(path)?;
    let name = path.to_string_lossy();
    match input::decode(Some(&name), &bytes) {
        Ok(Input::CaseFile(file)) => Ok(file),
        Ok(Input::FuzzInput(case)) => {
            eprintln!(
                "cgdiff: {} is not a case file (no `cgdiff-case` header, not named *.case): \
                 read as a raw libFuzzer input, as `cgdiff import` reads it",
                path.display()
            );
            Ok(CaseFile {
                case,
                expect: None,
                designs: None,
            })
        }
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// Opens the case store for a command that writes, creating it if needed (`Store::open`:
/// checked before the first write, migrated forward). A migration is said on stderr.
pub fn open_store(path: &Path) -> Result<cgdiff_corpus::Store> {
    let store = cgdiff_corpus::Store::open(path)?;
    if let Some(from) = store.opened().upgraded_from {
        eprintln!(
            "cgdiff: migrated {} from schema version {from} to {}",
            path.display(),
            cgdiff_corpus::SCHEMA_VERSION
        );
    }
    Ok(store)
}

/// Opens a store that must already exist, for a command that writes to it (replay, minimise
/// a stored case).
pub fn open_store_existing(path: &Path) -> Result<cgdiff_corpus::Store> {
    if !path.exists() {
        return Err(cgdiff_corpus::StoreError::Missing {
            path: path.to_path_buf(),
        }
        .into());
    }
    open_store(path)
}

/// Opens the case store for a command that only reads: nothing is created, no byte changes
/// (`Store::open_read_only`).
pub fn open_store_read(path: &Path) -> Result<cgdiff_corpus::Store> {
    Ok(cgdiff_corpus::Store::open_read_only(path)?)
}

/// Quotes a word for a POSIX shell when it needs it (suggested commands name paths).
pub fn shell_quote(w: &str) -> String {
    crate::explain::shell_word(w)
}

/// Text from the store or the command line, safe to print on a terminal: control characters
/// (C0, DEL, C1) are shown escaped (`\x1b`), so a stored case cannot move the cursor, recolour
/// or retitle the terminal.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The commit this binary was built from, if the build could tell.
pub fn git_commit() -> Option<String> {
    Some(env!("CGDIFF_GIT_COMMIT").to_string()).filter(|s| !s.is_empty())
}

/// A case named on the command line: a stored case id, or a case file.
pub enum Source {
    Stored {
        id: i64,
        row: Box<cgdiff_corpus::CaseRow>,
        db: std::path::PathBuf,
        file: CaseFile,
    },
    File {
        path: std::path::PathBuf,
        file: CaseFile,
    },
}

impl Source {
    /// A number that is not an existing file names a stored case; anything else is a file.
    pub fn load(arg: &str, db: &Path) -> Result<Source> {
        let path = Path::new(arg);
        match arg.parse::<i64>() {
            Ok(id) if !path.exists() => {
                let store = open_store_read(db)?;
                let row = store
                    .case(id)?
                    .with_context(|| format!("{}: no case with id {id}", db.display()))?;
                let file = format::parse(&row.text).map_err(|e| {
                    anyhow::anyhow!("stored case {id} in {} does not parse: {e}", db.display())
                })?;
                Ok(Source::Stored {
                    id,
                    row: Box::new(row),
                    db: db.to_path_buf(),
                    file,
                })
            }
            _ => Ok(Source::File {
                path: path.to_path_buf(),
                file: read_case_file(path)?,
            }),
        }
    }

    pub fn case_file(&self) -> &CaseFile {
        match self {
            Source::Stored { file, .. } | Source::File { file, .. } => file,
        }
    }

    pub fn origin(&self) -> crate::explain::Origin {
        match self {
            Source::Stored { id, db, .. } => crate::explain::Origin::Stored {
                id: *id,
                db: db.display().to_string(),
            },
            Source::File { path, .. } => crate::explain::Origin::File(path.display().to_string()),
        }
    }

    /// The bucket the source says to expect: the stored case's (none for a case recorded
    /// before triage, or a case file).
    pub fn expected_bucket(&self) -> Option<String> {
        match self {
            Source::Stored { row, .. } => row.bucket.clone(),
            Source::File { .. } => None,
        }
    }

    /// The verdict the source says to expect: the stored signature, or the file's `expect`.
    pub fn expected_signature(&self) -> Option<Option<String>> {
        match self {
            Source::Stored { row, .. } => Some(Some(row.signature.clone())),
            Source::File { file, .. } => file.expect.as_ref().map(|e| match e {
                format::Expect::Agree => None,
                format::Expect::Diverge(s) => Some(s.clone()),
            }),
        }
    }
}

/// What storing a finding did, judged by the store inside its write transactions.
#[derive(Clone, Copy, Debug)]
pub struct Stored {
    /// The minimised case (or the original when minimising changed nothing).
    pub case_id: i64,
    /// The variant (signature in its bucket) was not in the store before.
    pub new_variant: bool,
    /// The bucket was not in the store before.
    pub new_bucket: bool,
}

impl Stored {
    /// Tells a run's tally what storing finding `f` did.
    pub fn tally(&self, t: &mut cgdiff_replay::triage::Tally, f: &crate::campaign::Finding) {
        t.stored(
            &f.bucket,
            &f.signature,
            self.case_id,
            f.minimised.ops.len(),
            self.new_variant,
            self.new_bucket,
        );
    }
}

/// Stores a finding: the case as found (with its bytes), then its minimised form naming it as
/// its source.
pub fn store_finding(
    store: &mut cgdiff_corpus::Store,
    run_id: i64,
    f: &crate::campaign::Finding,
    found_by: cgdiff_corpus::FoundBy,
) -> Result<Stored> {
    use cgdiff_corpus::{FoundBy, NewCase};
    let base = |text: String, case: &cgdiff_engine::Case, bytes, found_by, from| NewCase {
        text,
        bytes,
        signature: f.signature.clone(),
        classes: f.classes.clone(),
        rule: f.rule.clone(),
        bucket: f.bucket.clone(),
        first_op: f.first_op.min(case.ops.len().saturating_sub(1) as u32),
        ops: case.ops.len() as u32,
        minimised_from: from,
        found_by,
        run_id: Some(run_id),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
    };
    // The original first, so the minimised case can name it as its source.
    let original = store.record(&base(
        cgdiff_engine::format::print_with_designs(&f.original, Some(f.pair)),
        &f.original,
        f.bytes.clone(),
        found_by,
        None,
    ))?;
    let mut stored = Stored {
        case_id: original.case_id(),
        new_variant: original.is_new_signature(),
        new_bucket: original.is_new_bucket(),
    };
    if f.minimised == f.original {
        return Ok(stored);
    }
    let min = cgdiff_engine::oracle::check_pair(&f.minimised, f.pair);
    let first_op = min.verdict.divergence().map_or(0, |d| d.op_index as u32);
    let mut nc = base(
        cgdiff_engine::format::print_with_designs(&f.minimised, Some(f.pair)),
        &f.minimised,
        None,
        FoundBy::Minimize,
        Some(original.case_id()),
    );
    nc.first_op = first_op;
    stored.case_id = store.record(&nc)?.case_id();
    Ok(stored)
}
