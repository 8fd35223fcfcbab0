//! Replaying, explaining and importing, end to end through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cgdiff-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cgdiff"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Copies an example case with its `expect` line replaced.
fn with_expect(src: &str, expect: &str, dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(root().join(src)).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("expect ") {
                expect.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_string()
}

fn replay_json(file: &str) -> (i32, serde_json::Value) {
    let (code, out, err) = run(&["replay", file, "--json"]);
    assert!(code == 0 || code == 1, "{err}");
    (
        code,
        serde_json::from_str::<serde_json::Value>(&out).unwrap()[0].clone(),
    )
}

#[test]
fn replay_says_reproduces_changed_or_fixed() {
    let dir = tmp("kinds");
    let src = "examples/findings/legacy-enomem-no-cancel.case";
    let sig = "migrate-task/controller+callbacks+invariant/alloc/legacy";
    let same = with_expect(src, &format!("expect diverge {sig}"), &dir, "same.case");
    let (code, v) = replay_json(&same);
    assert_eq!(v["outcome"], "reproduces");
    assert_eq!(v["bucket_now"], "F2");
    assert_eq!(code, 0, "a known finding reproduces: not a CI failure");
    let other = with_expect(
        src,
        "expect diverge migrate-task/order/alloc/diff",
        &dir,
        "other.case",
    );
    let (_, v) = replay_json(&other);
    assert_eq!(v["outcome"], "changed");
    assert_eq!(v["signature_now"], sig);
    let fixed = with_expect(
        "examples/agree-basic.case",
        "expect diverge migrate-task/result/none/diff",
        &dir,
        "fixed.case",
    );
    let (code, v) = replay_json(&fixed);
    assert_eq!(v["outcome"], "fixed");
    assert_eq!(code, 0);
    // An expected difference reproducing is not a CI failure.
    let (code, v) = replay_json("examples/transfer-enomem.case");
    assert_eq!(v["outcome"], "reproduces");
    assert_eq!(code, 0);
}

#[test]
fn replaying_twice_gives_the_same_trace_hash() {
    let (_, a) = replay_json("examples/findings/transfer-link-order.case");
    let (_, b) = replay_json("examples/findings/transfer-link-order.case");
    assert_eq!(a["trace_hash"], b["trace_hash"]);
    let (_, c) = replay_json("examples/findings/attach-taskset-order.case");
    assert_ne!(a["trace_hash"], c["trace_hash"]);
}

#[test]
fn replay_all_records_a_run_over_stored_signatures() {
    let dir = tmp("all");
    let db = dir.join("a.db");
    let db = db.to_str().unwrap();
    let (code, _, err) = run(&["fuzz", "--cases", "120", "--seed", "4", "--db", db]);
    assert!(code <= 1, "{err}");
    let (code, out, _) = run(&["replay", "--all", "--db", db, "--json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert!(!v.is_empty());
    assert!(v.iter().all(|r| r["outcome"] == "reproduces"), "{out}");
    assert_eq!(code, 0, "every bucket is known: {out}");
    let mut store = cgdiff_corpus::Store::open(dir.join("a.db")).unwrap();
    assert_eq!(store.replays(None).unwrap().len(), v.len());
    let replay_runs = |s: &cgdiff_corpus::Store| {
        s.runs()
            .unwrap()
            .iter()
            .filter(|r| r.kind == cgdiff_corpus::RunKind::Replay)
            .count()
    };
    assert_eq!(replay_runs(&store), 1);
    // A stored case whose bucket is not what its case gives now (as after a change to the
    // models or the recognisers): replaying it says changed, and fails the gate. Replaying one
    // case records no replay run: the report's window stays where it was.
    let text =
        std::fs::read_to_string(root().join("examples/findings/legacy-enomem-no-cancel.case"))
            .unwrap();
    let text = cgdiff_engine::format::print(&cgdiff_engine::format::parse(&text).unwrap().case);
    let id = store
        .record(&cgdiff_corpus::NewCase {
            text,
            bytes: None,
            signature: "migrate-task/controller+callbacks+invariant/alloc/legacy".into(),
            classes: vec!["controller".into()],
            rule: None,
            bucket: "F6".into(),
            first_op: 0,
            ops: 3,
            minimised_from: None,
            found_by: cgdiff_corpus::FoundBy::Import,
            run_id: None,
            tool_version: "test".into(),
            git_commit: None,
        })
        .unwrap()
        .case_id();
    drop(store);
    let (code, out, _) = run(&["replay", &id.to_string(), "--db", db, "--json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["outcome"], "changed");
    assert_eq!(v[0]["bucket_changed"], true);
    assert_eq!(code, 1, "{out}");
    let store = cgdiff_corpus::Store::open(dir.join("a.db")).unwrap();
    assert_eq!(replay_runs(&store), 1, "a single replay moved the window");
}

#[test]
fn import_names_the_corrupt_file_and_keeps_the_rest() {
    let dir = tmp("import");
    let input = dir.join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::copy(
        root().join("examples/findings/legacy-enomem-no-cancel.case"),
        input.join("a.case"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/agree-basic.case"),
        input.join("sub/b.case"),
    )
    .unwrap();
    std::fs::write(
        input.join("broken.case"),
        "cgdiff-case v1\nhierarchy h1 cpu\nfork one two\n",
    )
    .unwrap();
    // Raw libFuzzer bytes: decoded like the differential target does.
    std::fs::write(input.join("crash-0001"), [7u8; 300]).unwrap();
    let db = dir.join("i.db");
    let (code, out, err) = run(&[
        "import",
        input.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("broken.case: line 3, column 6"), "{err}");
    assert!(out.contains("agrees") && out.contains("b.case"), "{out}");
    let store = cgdiff_corpus::Store::open(&db).unwrap();
    let sigs: Vec<String> = store
        .signatures()
        .unwrap()
        .into_iter()
        .map(|s| s.signature)
        .collect();
    assert!(
        sigs.contains(&"migrate-task/controller+callbacks+invariant/alloc/legacy".to_string()),
        "{sigs:?}"
    );
}

#[test]
fn explain_output_matches_its_snapshots() {
    let snaps = root().join("tests/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut checked = 0;
    for name in [
        "attach-taskset-order",
        "legacy-enomem-no-cancel",
        "transfer-hang-exiting",
    ] {
        let file = format!("examples/findings/{name}.case");
        let (code, out, _) = run(&["explain", &file]);
        assert_eq!(code, 0);
        assert!(!out.contains('\x1b'), "NO_COLOR output has escape codes");
        let snap = snaps.join(format!("explain-{name}.txt"));
        if update {
            std::fs::create_dir_all(&snaps).unwrap();
            std::fs::write(&snap, &out).unwrap();
        } else {
            let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| {
                panic!("{} missing: run with UPDATE_SNAPSHOTS=1", snap.display())
            });
            assert_eq!(
                out, want,
                "explain {name} changed; UPDATE_SNAPSHOTS=1 to accept"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn export_writes_a_regression_case_that_replays() {
    let dir = tmp("export");
    let out = dir.join("r.case");
    let (code, _, err) = run(&[
        "export",
        "examples/findings/four-stage-enomem-exiting.case",
        "--as",
        "test",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, v) = replay_json(out.to_str().unwrap());
    assert_eq!(v["outcome"], "reproduces");
    let (code, _, err) = run(&[
        "export",
        "examples/findings/four-stage-enomem-exiting.case",
        "--as",
        "test",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "refuses to overwrite");
    assert!(err.contains("exists"));
}
