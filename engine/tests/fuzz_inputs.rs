//! Replays the inputs kept from cargo fuzz runs (`engine/tests/fuzz-inputs/`): crash artifacts
//! and corpus entries that matter. Each `NAME.bin` is decoded exactly as the `differential` fuzz
//! target decodes its input (`cgdiff_engine::input`: a case file when it starts with the case
//! header, else `Case::arbitrary` over `arbitrary::Unstructured`) and run through the oracle: it
//! must not panic, must decode to a valid case, and, when `NAME.expect` exists, must give the
//! verdict it names: `agree`, or the exact divergence signature.
//! See docs/fuzzing.md ("Keep an input as a regression test").

use cgdiff_engine::{format, input, oracle, Case};
use std::fs;
use std::path::{Path, PathBuf};

fn inputs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-inputs")
}

/// What the `differential` target does with its input (`cgdiff_fuzz::decode`), minus the
/// store: the one rule of `cgdiff_engine::input`, with the file's name.
fn decode(path: &Path, bytes: &[u8]) -> Case {
    input::decode(Some(&path.to_string_lossy()), bytes)
        .unwrap_or_else(|e| panic!("{}: a kept case file does not parse: {e}", path.display()))
        .case()
        .clone()
}

fn verdict_text(case: &Case) -> String {
    match oracle::check(case).verdict.signature() {
        None => "agree".to_string(),
        Some(sig) => sig.to_string(),
    }
}

fn files_with(ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(inputs_dir())
        .expect("engine/tests/fuzz-inputs/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn every_kept_fuzz_input_replays_with_its_expected_verdict() {
    let bins = files_with("bin");
    assert!(
        !bins.is_empty(),
        "no .bin inputs in {}",
        inputs_dir().display()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for bin in &bins {
        let bytes = fs::read(bin).expect("readable input");
        let case = decode(bin, &bytes);
        case.validate()
            .unwrap_or_else(|e| panic!("{}: decoded to an invalid case: {e}", bin.display()));
        let got = verdict_text(&case);
        // Same bytes, same case, same verdict: the oracle is deterministic.
        assert_eq!(decode(bin, &bytes), case, "{}", bin.display());
        assert_eq!(verdict_text(&case), got, "{}", bin.display());
        let expect = bin.with_extension("expect");
        if !expect.exists() {
            continue;
        }
        let want = fs::read_to_string(&expect).expect("readable .expect");
        let want = want.trim();
        checked += 1;
        if got != want {
            failures.push(format!(
                "{}: expected {want}, got {got}\n{}",
                bin.display(),
                format::print(&case)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} fuzz inputs changed verdict (if the change is intended, update the \
         .expect files):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no .expect sidecars: nothing was checked");
}

#[test]
fn every_expect_file_has_its_input() {
    for expect in files_with("expect") {
        assert!(
            expect.with_extension("bin").exists(),
            "{} has no .bin beside it",
            expect.display()
        );
        let text = fs::read_to_string(&expect).expect("readable .expect");
        let text = text.trim();
        assert!(
            text == "agree" || text.split('/').count() == 4,
            "{}: expected `agree` or a signature op-kind/classes/faults/blame, got {text:?}",
            expect.display()
        );
    }
}
