//! Support for the cargo-fuzz targets of `fuzz_targets/`: the case store they feed
//! ([`sink`]), the feature hints they give libFuzzer ([`hints`]), and when to crash.
//! See docs/fuzzing.md.

pub mod hints;
pub mod sink;

use cgdiff_engine::Divergence;
use std::sync::OnceLock;

/// When the differential target panics on a divergence (`CGDIFF_FUZZ_CRASH`), so that libFuzzer
/// stops and saves the input as an artifact. By default it never does: divergences go to the
/// store and the campaign continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Unset or empty: record and continue.
    Never,
    /// `unexpected`: on a divergence no expected-difference rule covers.
    Unexpected,
    /// `any`: on every divergence.
    Any,
}

impl CrashMode {
    pub fn parse(s: &str) -> Option<CrashMode> {
        match s {
            "" | "never" | "off" => Some(CrashMode::Never),
            "unexpected" => Some(CrashMode::Unexpected),
            "any" => Some(CrashMode::Any),
            _ => None,
        }
    }

    pub fn crashes_on(self, d: &Divergence) -> bool {
        match self {
            CrashMode::Never => false,
            CrashMode::Unexpected => d.rule.is_none(),
            CrashMode::Any => true,
        }
    }
}

static CRASH: OnceLock<CrashMode> = OnceLock::new();

/// Reads the environment once, at start: `CGDIFF_FUZZ_CRASH` and `CGDIFF_FUZZ_HINTS`. A bad
/// value stops the process with a message (exit 2), not a panic, which libFuzzer would take
/// for a finding.
pub fn init_from_env(target: &'static str) {
    let crash = std::env::var("CGDIFF_FUZZ_CRASH").unwrap_or_default();
    let Some(mode) = CrashMode::parse(&crash) else {
        eprintln!("{target}: CGDIFF_FUZZ_CRASH={crash:?}: expected `unexpected` or `any`");
        std::process::exit(2);
    };
    let _ = CRASH.set(mode);
    match std::env::var("CGDIFF_FUZZ_HINTS").as_deref() {
        Err(_) | Ok("" | "on") => {}
        Ok("off") => hints::set_enabled(false),
        Ok(other) => {
            eprintln!("{target}: CGDIFF_FUZZ_HINTS={other:?}: expected `on` or `off`");
            std::process::exit(2);
        }
    }
    sink::init(target);
}

/// The crash mode read by [`init_from_env`].
pub fn crash_mode() -> CrashMode {
    CRASH.get().copied().unwrap_or(CrashMode::Never)
}
