//! The regression suite: every case under engine/tests/regressions/ and examples/ carries the
//! verdict it must give in its `expect` line, and must give exactly that. A case whose verdict
//! changes fails here until its header is changed on purpose (`cgdiff export ID --as test`
//! writes new ones). Never ignored.

use cgdiff_engine::format::{parse, Expect};
use cgdiff_engine::oracle;
use std::path::{Path, PathBuf};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            case_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
}

#[test]
fn every_regression_case_gives_its_expected_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    case_files(&root.join("tests/regressions"), &mut files);
    case_files(&root.join("../examples"), &mut files);
    files.sort();
    assert!(files.len() >= 9, "only {} regression cases", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let file = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let expect = file
            .expect
            .unwrap_or_else(|| panic!("{}: no `expect` line", f.display()));
        // On the pair the case names (its `designs` line), legacy,four-stage otherwise.
        let got = oracle::check_pair(&file.case, file.designs.unwrap_or_default())
            .verdict
            .signature()
            .map(str::to_string);
        let want = match &expect {
            Expect::Agree => None,
            Expect::Diverge(s) => Some(s.clone()),
        };
        if got != want {
            failures.push(format!(
                "{}: expected {}, got {}",
                f.display(),
                want.as_deref().unwrap_or("agree"),
                got.as_deref().unwrap_or("agree")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_regression_case_is_unlisted() {
    // Every case kept here is understood: an expected rule or a written-up finding, on its
    // own pair.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    case_files(&root.join("tests/regressions"), &mut files);
    case_files(&root.join("../examples"), &mut files);
    for f in &files {
        let file = parse(&std::fs::read_to_string(f).unwrap()).unwrap();
        // On the pair the case names, as above.
        let report = oracle::check_pair(&file.case, file.designs.unwrap_or_default());
        if let Some(d) = report.verdict.divergence() {
            assert!(!d.unlisted(), "{}: unlisted {}", f.display(), d.signature);
        }
    }
}
