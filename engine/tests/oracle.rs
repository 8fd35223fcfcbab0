//! The oracle over thousands of generated cases: no panic, and every divergence lands in a
//! known bucket (an expected rule or a finding of docs/findings.md). Each cause's minimal case
//! is recognised by that cause alone. Plus determinism.

use cgdiff_engine::findings::{self, Bucket, BucketKind, CauseKind};
use cgdiff_engine::{format, gen, oracle};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every generated divergence lands in a known bucket: an expected rule, or findings written
/// up in docs/findings.md. An unlisted one fails here (with its case), until a recogniser and
/// a write-up account for it.
#[test]
fn generated_cases_diverge_only_in_known_buckets() {
    let mut buf = Vec::new();
    let (mut diverged, mut expected, mut known) = (0, 0, 0);
    for seed in 0..20000u64 {
        gen::seeded_bytes(seed, 512, &mut buf);
        let case = gen::from_bytes(&buf, 48);
        let report = oracle::check(&case);
        let Some(d) = report.verdict.divergence() else {
            continue;
        };
        diverged += 1;
        match d.bucket.kind() {
            BucketKind::Expected => expected += 1,
            BucketKind::Finding => known += 1,
            BucketKind::Unlisted => panic!(
                "seed {seed}: divergence {} is in no known bucket (no rule, no finding of \
                 docs/findings.md explains it)\n{}",
                d.signature,
                format::print(&case)
            ),
        }
    }
    // The generator must keep reaching divergences at all, or this test proves nothing.
    assert!(diverged > 100, "only {diverged} divergences in 20000 cases");
    assert!(
        expected > 10 && known > 10,
        "expected {expected}, known {known}"
    );
}

/// The same on every other ordered pair of designs (exits between stages included where both
/// have stages): every cause written for later designs, and every pair the default pair's
/// causes are read for, leave nothing unlisted. Fewer cases per pair than the default's 20,000:
/// 29 pairs.
#[test]
fn generated_cases_on_every_pair_diverge_only_in_known_buckets() {
    use cgdiff_engine::models::{Pair, DESIGNS};
    let mut buf = Vec::new();
    let mut pairs = 0;
    for a in DESIGNS {
        for b in DESIGNS {
            if a.name() == b.name() {
                continue;
            }
            let pair: Pair = format!("{},{}", a.name(), b.name()).parse().unwrap();
            if pair.is_default() {
                continue;
            }
            pairs += 1;
            let mut diverged = 0;
            for seed in 0..1500u64 {
                gen::seeded_bytes(seed, 512, &mut buf);
                let case = gen::from_bytes_with(&buf, 48, gen::GenOptions::for_pair(pair));
                let report = oracle::check_pair(&case, pair);
                let Some(d) = report.verdict.divergence() else {
                    continue;
                };
                diverged += 1;
                assert!(
                    !d.bucket.is_unlisted(),
                    "{pair}, seed {seed}: divergence {} is in no known bucket\n{}",
                    d.signature,
                    format::print(&case)
                );
            }
            assert!(
                diverged > 20,
                "{pair}: only {diverged} divergences in 1500 cases"
            );
        }
    }
    assert_eq!(pairs, 29);
}

/// Each cause's minimal cases land in the bucket of that cause alone: its recogniser matches
/// them, and no other recogniser is needed or present.
#[test]
fn each_minimal_case_is_recognised_by_its_cause_alone() {
    let mut checked = 0;
    for (i, cause) in findings::causes().iter().enumerate() {
        for path in cause.minimal_cases {
            let text = std::fs::read_to_string(root().join(path))
                .unwrap_or_else(|e| panic!("{}: {path}: {e}", cause.id));
            let file = format::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
            let report = match file.designs {
                Some(pair) => oracle::check_pair(&file.case, pair),
                None => oracle::check(&file.case),
            };
            let d = report
                .verdict
                .divergence()
                .unwrap_or_else(|| panic!("{path}: the models agree"));
            assert_eq!(
                d.bucket,
                Bucket(1 << i),
                "{path}: bucket {} where {} alone was expected",
                d.bucket.name(),
                cause.id
            );
            checked += 1;
        }
        if cause.kind == CauseKind::Finding {
            assert!(
                !cause.minimal_cases.is_empty(),
                "{}: no minimal case",
                cause.id
            );
        }
    }
    assert!(checked >= 9, "only {checked} minimal cases");
}

/// docs/findings.md has a section for every finding the engine recognises (`## F3. …`), naming
/// its minimal cases, and no section for a finding the engine does not know.
#[test]
fn every_recognised_finding_is_written_up() {
    let doc = std::fs::read_to_string(root().join("docs/findings.md")).unwrap();
    let sections: Vec<&str> = doc.split("\n## ").skip(1).collect();
    for cause in findings::causes() {
        if cause.kind != CauseKind::Finding {
            continue;
        }
        let heading = format!("{}. ", cause.id);
        let section = sections
            .iter()
            .find(|s| s.starts_with(&heading))
            .unwrap_or_else(|| panic!("docs/findings.md has no section {heading}"));
        for path in cause.minimal_cases {
            assert!(
                section.contains(path),
                "{}: its section does not name {path}",
                cause.id
            );
        }
    }
    // A finding of legacy,four-stage has a recogniser; one of other pairs only (its
    // `- signature:` patterns all name a pair, `*:…`) is written up for people.
    for s in &sections {
        let Some((id, _)) = s.split_once(". ") else {
            continue;
        };
        if !(id.starts_with('F') && id[1..].chars().all(|c| c.is_ascii_digit())) {
            continue;
        }
        let patterns: Vec<&str> = s
            .lines()
            .filter_map(|l| l.strip_prefix("- signature: `"))
            .collect();
        let other_pairs_only = !patterns.is_empty() && patterns.iter().all(|p| p.contains(':'));
        assert!(
            findings::cause(id).is_some() || other_pairs_only,
            "docs/findings.md: {id} has no recogniser"
        );
    }
}

#[test]
fn same_case_gives_byte_identical_trace() {
    let mut buf = Vec::new();
    for seed in 0..200u64 {
        gen::seeded_bytes(seed, 512, &mut buf);
        let case = gen::from_bytes(&buf, 48);
        let a = oracle::run(&case, true);
        let b = oracle::run(&case, true);
        let text = |r: &oracle::Report| format!("{:?}\n{:?}", r.trace, r.verdict);
        assert_eq!(text(&a), text(&b), "seed {seed}");
        assert_eq!(a.coverage, b.coverage);
    }
}

#[test]
fn every_byte_string_decodes_to_a_valid_case() {
    let mut buf = Vec::new();
    for seed in 0..2000u64 {
        gen::seeded_bytes(seed, (seed % 700) as usize, &mut buf);
        let case = gen::from_bytes(&buf, 64);
        assert!(
            case.validate().is_ok(),
            "seed {seed}: {:?}",
            case.validate()
        );
        assert!(case.ops.len() <= 64);
    }
    assert!(gen::from_bytes(&[], 10).validate().is_ok());
}
