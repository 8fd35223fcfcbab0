//! `cgdiff report` and `cgdiff merge` end to end: two shards of one campaign, merged, replayed
//! and reported, as the nightly job and docs/scale-out.md do it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cgdiff-report-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cgdiff"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn report_on_a_missing_database_is_bad_input() {
    let dir = tmp("missing");
    let (code, out, err) = run(&[
        "report",
        "--db",
        p(&dir.join("none.db")),
        "--out",
        p(&dir.join("r")),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no such database"), "{err}");
    assert!(
        !dir.join("none.db").exists(),
        "a report never creates a database"
    );
    let (code, _, err) = run(&["report", "--db", p(&dir.join("none.db"))]);
    assert_eq!(code, 2, "--out is required: {err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn shards_merged_replayed_and_reported() {
    let dir = tmp("shards");
    let shard = |i: &str| {
        let db = dir.join(format!("shard-{}.db", &i[..1]));
        let (code, out, err) = run(&[
            "fuzz",
            "--cases",
            "40",
            "--seed",
            "5",
            "--jobs",
            "1",
            "--shard",
            i,
            "--db",
            p(&db),
            "--json",
        ]);
        assert!(code == 0 || code == 1, "{out}{err}");
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(summary["shard"], i);
        db
    };
    let (a, b) = (shard("0/2"), shard("1/2"));
    let sigs = |db: &Path| {
        cgdiff_corpus::Store::open(db)
            .unwrap()
            .known_signatures()
            .unwrap()
    };
    let union: std::collections::HashSet<String> = sigs(&a).union(&sigs(&b)).cloned().collect();

    let merged = dir.join("all.db");
    let (code, out, err) = run(&["merge", p(&a), p(&b), "--into", p(&merged)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("merged "), "{out}");
    assert_eq!(sigs(&merged), union);
    let (code, _, err) = run(&["merge", p(&merged), "--into", p(&merged)]);
    assert_eq!(code, 2, "into itself: {err}");
    let (code, _, err) = run(&["merge", p(&dir.join("nope.db")), "--into", p(&merged)]);
    assert_eq!(code, 2, "{err}");

    let (code, _, _) = run(&["replay", "--all", "--db", p(&merged)]);
    assert!(code == 0 || code == 1);
    let out_dir = dir.join("report");
    let (code, out, err) = run(&["report", "--db", p(&merged), "--out", p(&out_dir)]);
    assert_eq!(code, 0, "{out}{err}");
    for f in ["index.html", "junit.xml", "summary.md", "report.json"] {
        assert!(
            out.lines().any(|l| l == p(&out_dir.join(f))),
            "{f} not printed: {out}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["totals"]["signatures"], union.len());
    let kinds: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["merge", "campaign", "campaign", "replay"]);
    assert_eq!(json["coverage"]["runs_counted"], 2, "both shards' coverage");
    let (code, _, err) = run(&[
        "report",
        "--db",
        p(&merged),
        "--out",
        p(&out_dir),
        "--since",
        "999",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no run 999"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
