//! `cgdiff export ID --as case|test|fuzz-input`, and `cgdiff corpus seed`.

use super::{open_store_read, Source};
use anyhow::{bail, Context, Result};
use cgdiff_engine::format::{self, CaseFile, Expect};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum As {
    /// A case file with an `expect` line (stdout unless --out).
    Case,
    /// A regression case under engine/tests/regressions/, replayed by `cargo test`.
    Test,
    /// An input for the cargo fuzz corpus of the `differential` target.
    FuzzInput,
}

#[derive(clap::Args)]
pub struct Args {
    /// A stored case id (or a case file, for --as test).
    target: String,
    #[arg(long = "as", value_enum)]
    as_: As,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// Where to write (default: stdout for case, engine/tests/regressions/NAME.case for test,
    /// fuzz/corpus/differential/case-ID for fuzz-input).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

/// The case file a stored or file case exports as: its case, expecting what it does now.
fn with_expect(src: &Source) -> CaseFile {
    let case = src.case_file().case.clone();
    let designs = src.case_file().designs;
    let pair = designs.unwrap_or_default();
    let expect = match cgdiff_engine::oracle::check_pair(&case, pair)
        .verdict
        .signature()
    {
        Some(s) => Expect::Diverge(s.to_string()),
        None => Expect::Agree,
    };
    CaseFile {
        case,
        expect: Some(expect),
        designs,
    }
}

/// What the fuzz target accepts: the stored libFuzzer bytes when the case has them, else the
/// case text (the `differential` target parses inputs that start with the case header).
pub fn fuzz_input(src: &Source) -> Vec<u8> {
    match src {
        Source::Stored { row, .. } if row.bytes.is_some() => row.bytes.clone().unwrap_or_default(),
        _ => {
            format::print_with_designs(&src.case_file().case, src.case_file().designs).into_bytes()
        }
    }
}

fn write_new(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists (use --force to overwrite)", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

pub fn run(a: Args) -> Result<ExitCode> {
    let src = Source::load(&a.target, &a.db)?;
    let label = match &src {
        Source::Stored { id, .. } => format!("case-{id}"),
        Source::File { path, .. } => path
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy().into_owned()),
    };
    match a.as_ {
        As::Case => {
            let text = format::print_file(&with_expect(&src));
            match &a.out {
                Some(p) => write_new(p, text.as_bytes(), a.force)?,
                None => print!("{text}"),
            }
        }
        As::Test => {
            let file = with_expect(&src);
            let sig = match &file.expect {
                Some(Expect::Diverge(s)) => s.clone(),
                _ => "agree".into(),
            };
            let name: String = sig
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let path = a.out.clone().unwrap_or_else(|| {
                PathBuf::from(format!("engine/tests/regressions/{name}--{label}.case"))
            });
            let text = format!(
                "# Regression case exported by `cgdiff export {} --as test`.\n\
                 # Its verdict must stay what the expect line says; change that line on purpose.\n{}",
                a.target,
                format::print_file(&file)
            );
            write_new(&path, text.as_bytes(), a.force)?;
            eprintln!("wrote {}", path.display());
        }
        As::FuzzInput => {
            let path = a
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("fuzz/corpus/differential/{label}")));
            write_new(&path, &fuzz_input(&src), a.force)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct SeedArgs {
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// The corpus folder of the differential target.
    #[arg(long, default_value = "fuzz/corpus/differential")]
    out: PathBuf,
}

/// Writes every stored case into the cargo fuzz corpus, as a starting point for libFuzzer.
pub fn seed(a: SeedArgs) -> Result<ExitCode> {
    let store = open_store_read(&a.db)?;
    let rows = store.cases(&Default::default())?;
    drop(store);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut n = 0;
    for row in rows {
        let src = Source::load(&row.id.to_string(), &a.db)?;
        std::fs::write(a.out.join(format!("case-{}", row.id)), fuzz_input(&src))?;
        n += 1;
    }
    println!("wrote {n} inputs into {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
