//! The designs of later kernels (docs/findings.md, "Findings by design"): each finding case on
//! each design alone, and the later pairs over generated cases with exits between the stages.

use cgdiff_engine::format::parse;
use cgdiff_engine::models::{by_name, Pair, DESIGNS};
use cgdiff_engine::{gen, oracle};
use std::path::Path;

fn case(path: &str) -> cgdiff_engine::format::CaseFile {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const ORDER: [&str; 6] = ["legacy", "four-stage", "v3.15", "v3.16", "v4.15", "v5.19"];

/// Which designs, alone, break `invariant` on the case: the single-design rows of the table.
fn breaking(path: &str, invariant: &str) -> Vec<&'static str> {
    let file = case(path);
    ORDER
        .iter()
        .filter(|d| {
            let r = oracle::check_design(&file.case, by_name(d).unwrap());
            r.violation
                .is_some_and(|v| v.invariants.contains(&invariant))
        })
        .copied()
        .collect()
}

#[test]
fn the_single_design_rows_of_the_history_table() {
    let f = "examples/findings/";
    assert_eq!(
        breaking(&format!("{f}transfer-hang-exiting.case"), "bound"),
        ["legacy", "four-stage", "v3.15", "v3.16"],
        "F1's exiting-task form is fixed by 116d2f7496c5 (v4.15)"
    );
    assert_eq!(
        breaking(&format!("{f}transfer-hang-same-cgroup.case"), "bound"),
        ORDER
    );
    assert_eq!(
        breaking(
            &format!("{f}legacy-enomem-no-cancel.case"),
            "controller-rest"
        ),
        ["legacy"]
    );
    assert_eq!(
        breaking(&format!("{f}attach-taskset-order.case"), "leader-first"),
        ["legacy", "four-stage"],
        "1b9aba49 (v3.15) puts the leader first"
    );
    for inv in ["freed", "pinned"] {
        assert_eq!(
            breaking(&format!("{f}v3.16-uaf-exit-between-stages.case"), inv),
            ["v3.16"]
        );
        assert_eq!(
            breaking(&format!("{f}v4.15-uaf-exit-between-stages.case"), inv),
            ["v4.15"]
        );
    }
    assert_eq!(
        breaking(&format!("{f}v3.16-unpinned-destination.case"), "pinned"),
        ["v3.16"]
    );
}

/// F3 and F5 against legacy: the bucket reproduces on every staged design.
#[test]
fn release_findings_stay_in_every_staged_design() {
    for (path, bucket) in [
        (
            "engine/tests/regressions/history-f3-release-exiting.case",
            "migrate-task/release/none/diff",
        ),
        (
            "engine/tests/regressions/history-f5-release-can-attach.case",
            "migrate-task/release/can_attach/diff",
        ),
    ] {
        let file = case(path);
        for d in &ORDER[1..] {
            let pair = Pair::parse(&format!("legacy,{d}")).unwrap();
            let sig = oracle::check_pair(&file.case, pair)
                .verdict
                .signature()
                .map(str::to_string);
            let want = format!("{}{bucket}", oracle::pair_prefix(pair.names()));
            assert_eq!(sig.as_deref(), Some(want.as_str()), "{path} on {pair}");
        }
    }
}

/// Every pair of consecutive designs over generated cases with exits between the stages: no
/// panic, the same verdict twice, and the generator does land exits.
#[test]
fn later_pairs_run_generated_cases_with_exits() {
    let mut buf = Vec::new();
    for w in DESIGNS.windows(2).skip(1) {
        let pair = Pair([w[0], w[1]]);
        let opts = gen::GenOptions::for_pair(pair);
        assert!(opts.exits, "{pair}");
        let (mut exits, mut diverged) = (0, 0);
        for seed in 0..1500u64 {
            gen::seeded_bytes(seed, 1024, &mut buf);
            let c = gen::from_bytes_with(&buf, 48, opts);
            assert!(c.validate().is_ok());
            exits += c.ops.iter().filter(|o| o.faults.exit.is_some()).count();
            let a = oracle::check_pair(&c, pair);
            let b = oracle::check_pair(&c, pair);
            assert_eq!(
                a.verdict.signature(),
                b.verdict.signature(),
                "{pair} seed {seed}"
            );
            diverged += a.verdict.divergence().is_some() as usize;
        }
        assert!(exits > 100, "{pair}: only {exits} exits generated");
        assert!(diverged > 0, "{pair}: the designs never differ?");
    }
    // The default pair's stream has no exits: it is the v1 stream, byte for byte.
    assert!(!gen::GenOptions::for_pair(Pair::DEFAULT).exits);
    for seed in 0..200u64 {
        gen::seeded_bytes(seed, 1024, &mut buf);
        assert_eq!(
            gen::from_bytes(&buf, 48),
            gen::from_bytes_with(&buf, 48, gen::GenOptions::for_pair(Pair::DEFAULT))
        );
    }
}
