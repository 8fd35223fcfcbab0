//! Support for the cargo-fuzz targets of `fuzz_targets/`: the case store they feed
//! ([`sink`]), the feature hints they give libFuzzer ([`hints`]), and when to crash.
//! See docs/fuzzing.md.

pub mod hints;
pub mod sink;

use cgdiff_engine::gen::{from_bytes_with, GenOptions, DEFAULT_MAX_OPS};
use cgdiff_engine::input::{self, Kind};
use cgdiff_engine::models::Pair;
use cgdiff_engine::{Case, Divergence};
use std::sync::OnceLock;

/// Reads an input of the `differential` target the way `cgdiff import` reads a file, by the
/// one rule of `cgdiff_engine::input` (a file has no name here): a case file when its first
/// line that is neither blank nor a `#` comment starts with `cgdiff-case`, after an optional
/// byte order mark (what `cgdiff corpus seed` and `cgdiff export --as fuzz-input` write for
/// cases stored without bytes), else raw bytes through `Arbitrary` (total: every byte string
/// is a case). `None` for a case file that does not parse.
pub fn decode(data: &[u8]) -> Option<Case> {
    match input::kind(None, data) {
        Kind::CaseFile => input::decode(None, data)
            .ok()
            .map(|input| input.case().clone()),
        // `Case::arbitrary` (what `input::decode` does) for the default pair; with exits
        // between stages when both designs of `CGDIFF_DESIGNS` have them (the campaign's
        // generator, `GenOptions::for_pair`).
        Kind::FuzzInput => Some(from_bytes_with(
            data,
            DEFAULT_MAX_OPS,
            GenOptions::for_pair(pair()),
        )),
    }
}

static PAIR: OnceLock<Pair> = OnceLock::new();

/// The designs the differential target compares: `CGDIFF_DESIGNS` (as A,B) read by
/// [`init_from_env`], legacy,four-stage by default.
pub fn pair() -> Pair {
    PAIR.get().copied().unwrap_or_default()
}

/// When the differential target panics on a divergence (`CGDIFF_FUZZ_CRASH`), so that libFuzzer
/// stops and saves the input as an artifact. By default it never does: divergences go to the
/// store and the campaign continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Unset or empty: record and continue.
    Never,
    /// `unexpected`: on a divergence no expected-difference rule covers.
    Unexpected,
    /// `unlisted`: on a divergence in the unlisted bucket: no rule and no finding of
    /// `docs/findings.md` (its recogniser, as built in) explains it. What
    /// ClusterFuzzLite and OSS-Fuzz builds use, so that only new findings come back as crashes
    /// (docs/scale-out.md).
    Unlisted,
    /// `any`: on every divergence.
    Any,
}

impl CrashMode {
    pub fn parse(s: &str) -> Option<CrashMode> {
        match s {
            "" | "never" | "off" => Some(CrashMode::Never),
            "unexpected" => Some(CrashMode::Unexpected),
            "unlisted" => Some(CrashMode::Unlisted),
            "any" => Some(CrashMode::Any),
            _ => None,
        }
    }

    pub fn crashes_on(self, d: &Divergence) -> bool {
        match self {
            CrashMode::Never => false,
            CrashMode::Unexpected => d.rule.is_none(),
            CrashMode::Unlisted => d.unlisted(),
            CrashMode::Any => true,
        }
    }
}

static CRASH: OnceLock<CrashMode> = OnceLock::new();

/// Reads the environment once, at start: `CGDIFF_FUZZ_CRASH` and `CGDIFF_FUZZ_HINTS`. A bad
/// value stops the process with a message (exit 2), not a panic, which libFuzzer would take
/// for a finding.
///
/// Builds for fuzzing services that set no environment at run time (ClusterFuzzLite, OSS-Fuzz)
/// bake a default in with `CGDIFF_FUZZ_CRASH_DEFAULT` at build time; the variable still wins.
pub fn init_from_env(target: &'static str) {
    let crash = std::env::var("CGDIFF_FUZZ_CRASH").unwrap_or_else(|_| {
        option_env!("CGDIFF_FUZZ_CRASH_DEFAULT")
            .unwrap_or("")
            .to_string()
    });
    let Some(mode) = CrashMode::parse(&crash) else {
        eprintln!(
            "{target}: CGDIFF_FUZZ_CRASH={crash:?}: expected `unexpected`, `unlisted` or `any`"
        );
        std::process::exit(2);
    };
    let _ = CRASH.set(mode);
    match std::env::var("CGDIFF_DESIGNS").as_deref() {
        Err(_) | Ok("") => {}
        Ok(text) => match Pair::parse(text) {
            Ok(p) => {
                let _ = PAIR.set(p);
            }
            Err(e) => {
                eprintln!("{target}: CGDIFF_DESIGNS={text:?}: {e}");
                std::process::exit(2);
            }
        },
    }
    match std::env::var("CGDIFF_FUZZ_HINTS").as_deref() {
        Err(_) | Ok("" | "on") => {}
        Ok("off") => hints::set_enabled(false),
        Ok(other) => {
            eprintln!("{target}: CGDIFF_FUZZ_HINTS={other:?}: expected `on` or `off`");
            std::process::exit(2);
        }
    }
    init_planted(target);
    sink::init(target);
}

#[cfg(feature = "planted-bugs")]
static PLANTED: OnceLock<Option<cgdiff_engine::planted::Bug>> = OnceLock::new();

/// `CGDIFF_PLANTED_BUG`: in a build with the `planted-bugs` feature, the planted bug the
/// `differential` target hunts (`cgdiff bench power --finders libfuzzer`). Any other build
/// refuses the variable (exit 2) rather than fuzz the normal models unawares.
fn init_planted(target: &'static str) {
    let Some(name) = std::env::var("CGDIFF_PLANTED_BUG")
        .ok()
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    #[cfg(feature = "planted-bugs")]
    {
        let Some(bug) = cgdiff_engine::planted::Bug::from_name(&name) else {
            eprintln!("{target}: CGDIFF_PLANTED_BUG={name:?}: no such planted bug");
            std::process::exit(2);
        };
        let _ = PLANTED.set(Some(bug));
    }
    #[cfg(not(feature = "planted-bugs"))]
    {
        eprintln!(
            "{target}: CGDIFF_PLANTED_BUG={name:?}, but this build has no planted bugs \
             (build fuzz/ with --features planted-bugs)"
        );
        std::process::exit(2);
    }
}

/// The planted bug this process hunts, if any (always `None` without the feature).
#[cfg(feature = "planted-bugs")]
pub fn planted_bug() -> Option<cgdiff_engine::planted::Bug> {
    PLANTED.get().copied().flatten()
}

/// The crash mode read by [`init_from_env`].
pub fn crash_mode() -> CrashMode {
    CRASH.get().copied().unwrap_or(CrashMode::Never)
}
