//! Reports built from databases made with the corpus API: empty, every signature status,
//! injected markup; the JUnit output checked for its schema's shape with a real XML reader.

use cgdiff_corpus::{
    FoundBy, NewCase, NewReplay, NewRun, ReplayOutcome, RunKind, RunTotals, Store,
};
use cgdiff_reports::{build, Options, Report, Status};
use quick_xml::events::Event;
use std::collections::HashMap;
use std::path::PathBuf;

const SCRIPT: &str = "<script>alert(1)</script>";

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cgdiff-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn opts(since: Option<i64>) -> Options {
    Options {
        since,
        db_label: "cgdiff.db".into(),
        now: 10_000,
        tool_version: "test".into(),
    }
}

/// A case file of the repository, with the signature and rule the models give it now.
fn example(path: &str) -> (String, String, Option<String>, Vec<String>) {
    let text =
        std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let file = cgdiff_engine::parse(&text).unwrap();
    let r = cgdiff_engine::check(&file.case);
    let d = r.verdict.divergence().expect("example diverges");
    (
        text,
        d.signature.clone(),
        d.rule.map(str::to_string),
        d.classes.names().iter().map(|s| s.to_string()).collect(),
    )
}

fn record(store: &mut Store, path: &str, run: i64, at: i64, prefix: &str) -> i64 {
    let (text, signature, rule, classes) = example(path);
    store
        .record_at(
            &NewCase {
                text: format!("{prefix}{text}"),
                bytes: None,
                signature,
                classes,
                rule,
                bucket: String::new(),
                first_op: 0,
                ops: 3,
                minimised_from: None,
                found_by: FoundBy::Campaign,
                run_id: Some(run),
                tool_version: "test".into(),
                git_commit: None,
            },
            at,
        )
        .unwrap()
        .case_id()
}

fn run(store: &mut Store, kind: RunKind, at: i64, coverage: Option<serde_json::Value>) -> i64 {
    let id = store.begin_run_at(&NewRun::new(kind, "test"), at).unwrap();
    store
        .finish_run_at(
            id,
            &RunTotals {
                cases_executed: 1000,
                operations: 20_000,
                elapsed: std::time::Duration::from_secs(10),
                extra: coverage.map(|c| serde_json::json!({ "coverage": c })),
                ..RunTotals::default()
            },
            at + 10,
        )
        .unwrap();
    id
}

fn replay(store: &mut Store, run: i64, case: i64, outcome: ReplayOutcome, sig: &str, at: i64) {
    store
        .record_replay_at(
            &NewReplay {
                run_id: Some(run),
                case_id: case,
                outcome,
                signature_now: (outcome != ReplayOutcome::Fixed).then(|| sig.to_string()),
            },
            at,
        )
        .unwrap();
}

const A: &str = "examples/findings/legacy-enomem-no-cancel.case";
const B: &str = "examples/findings/attach-taskset-order.case";
const C: &str = "examples/findings/transfer-link-order.case";
const D: &str = "examples/findings/four-stage-preloads-exiting.case";
const E: &str = "examples/transfer-enomem.case";

/// Two nights: campaign 1 finds A, B, C and E; replay 2 says B and C are fixed; campaign 3
/// finds D (its text carrying a script tag in a comment); replay 4 says A and E reproduce, B is
/// still fixed, C is back, D reproduces.
fn two_nights(dir: &std::path::Path) -> Store {
    let mut s = Store::open(dir.join("cgdiff.db")).unwrap();
    let cov = serde_json::json!({
        "legacy": {"cgroup_attach_task": 10, "cgroup_attach_task: collect task": 7},
        "four-stage": {"cgroup_attach_task": 10, "cgroup_migrate": 9, "WARN_ON fired": 0},
    });
    let r1 = run(&mut s, RunKind::Campaign, 1000, Some(cov.clone()));
    let a = record(&mut s, A, r1, 1001, "");
    let b = record(&mut s, B, r1, 1002, "");
    let c = record(&mut s, C, r1, 1003, "");
    let e = record(&mut s, E, r1, 1004, "");
    let r2 = run(&mut s, RunKind::Replay, 2000, None);
    replay(
        &mut s,
        r2,
        a,
        ReplayOutcome::Reproduces,
        &example(A).1,
        2001,
    );
    replay(&mut s, r2, b, ReplayOutcome::Fixed, "", 2001);
    replay(&mut s, r2, c, ReplayOutcome::Fixed, "", 2001);
    replay(
        &mut s,
        r2,
        e,
        ReplayOutcome::Reproduces,
        &example(E).1,
        2001,
    );
    let r3 = run(&mut s, RunKind::Campaign, 3000, Some(cov));
    let d = record(&mut s, D, r3, 3001, &format!("# {SCRIPT}\n"));
    let r4 = run(&mut s, RunKind::Replay, 4000, None);
    replay(
        &mut s,
        r4,
        a,
        ReplayOutcome::Reproduces,
        &example(A).1,
        4001,
    );
    replay(&mut s, r4, b, ReplayOutcome::Fixed, "", 4001);
    replay(
        &mut s,
        r4,
        c,
        ReplayOutcome::Changed,
        "transfer-tasks/result/none/diff",
        4001,
    );
    replay(
        &mut s,
        r4,
        d,
        ReplayOutcome::Reproduces,
        &example(D).1,
        4001,
    );
    replay(
        &mut s,
        r4,
        e,
        ReplayOutcome::Reproduces,
        &example(E).1,
        4001,
    );
    s
}

fn statuses(r: &Report) -> HashMap<String, Status> {
    r.signatures
        .iter()
        .map(|s| (s.signature.clone(), s.status))
        .collect()
}

#[test]
fn empty_database() {
    let dir = temp("empty");
    let store = Store::open(dir.join("cgdiff.db")).unwrap();
    let r = build(&store, &opts(None)).unwrap();
    assert_eq!(r.totals.signatures, 0);
    assert_eq!(r.totals.runs, 0);
    assert_eq!(r.coverage.runs_counted, 0);
    let paths = cgdiff_reports::write_all(&r, &dir.join("out")).unwrap();
    assert_eq!(paths.len(), 4);
    let html = std::fs::read_to_string(dir.join("out/index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        html.contains("no signatures yet"),
        "the empty chart says so"
    );
    let junit = junit_shape(&std::fs::read_to_string(dir.join("out/junit.xml")).unwrap());
    assert_eq!((junit.tests, junit.failures), (0, 0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["window"]["basis"], "everything");
    let md = std::fs::read_to_string(dir.join("out/summary.md")).unwrap();
    assert!(md.contains("nothing new"), "{md}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn each_status_appears_and_the_window_is_the_previous_replay() {
    let dir = temp("statuses");
    let store = two_nights(&dir);
    let r = build(&store, &opts(None)).unwrap();
    assert_eq!(
        r.window.after_run,
        Some(2),
        "the replay before the latest one"
    );
    assert_eq!(r.window.runs, vec![3, 4]);
    let st = statuses(&r);
    assert_eq!(st[&example(A).1], Status::Reproducing);
    assert_eq!(st[&example(B).1], Status::Fixed);
    assert_eq!(st[&example(C).1], Status::Regressed);
    assert_eq!(st[&example(D).1], Status::New);
    assert_eq!(st[&example(E).1], Status::Reproducing);
    let e = r.signatures.iter().find(|s| s.expected).unwrap();
    let rule = e.rule.as_ref().unwrap();
    assert_eq!(rule.name, "all-or-nothing-on-enomem");
    assert!(rule.reason.as_deref().unwrap().contains("moves nothing"));
    assert_eq!(r.totals.failing, 3, "A, C and D: unexpected and not fixed");
    // The example findings are all written up in docs/findings.md.
    assert_eq!(r.totals.unlisted, 0);
    let listed = |sig: &str| {
        let s = r.signatures.iter().find(|s| s.signature == sig).unwrap();
        s.listed.as_ref().map(|l| l.finding.clone())
    };
    assert!(listed(&example(A).1).unwrap().starts_with("F2:"));
    assert!(
        listed(&example(E).1).is_none(),
        "expected ones are not findings"
    );
    // Unexpected first, most urgent first.
    assert_eq!(r.signatures[0].status, Status::Regressed);
    assert!(r.signatures.last().unwrap().expected);
    // Explanations come from this build's models.
    let a = r
        .signatures
        .iter()
        .find(|s| s.signature == example(A).1)
        .unwrap();
    assert_eq!(a.explanation.verdict, "diverges");
    assert_eq!(
        a.explanation.signature_now.as_deref(),
        Some(a.signature.as_str())
    );
    assert!(a.explanation.diff.as_deref().unwrap().contains("cpuset"));
    assert_eq!(
        a.reproduce[0],
        format!("cgdiff replay {} --db cgdiff.db", a.best_case.id)
    );
    // Coverage is summed over both campaigns; four-stage's own steps are not "never reached"
    // for legacy.
    assert_eq!(r.coverage.runs_counted, 2);
    let legacy = &r.coverage.models[0];
    let point = |name: &str| legacy.points.iter().find(|p| p.name == name).unwrap();
    assert_eq!(point("cgroup_attach_task").count, 20);
    assert!(!point("cgroup_migrate").applies);
    assert!(legacy.never_reached.contains(&"WARN_ON fired".to_string()));
    assert!(!legacy.never_reached.contains(&"cgroup_migrate".to_string()));
    assert_eq!(r.charts.discovery.len(), 5);
    assert_eq!(r.charts.throughput.len(), 2, "campaigns only");

    // The verdict first; every bucket has its row, and its best case its anchors.
    let html = cgdiff_reports::html::render(&r);
    assert!(html.contains("class=\"verdict bad\""), "F4 regressed");
    for b in &r.buckets {
        assert!(
            html.contains(&format!("id=\"{}\"", b.anchor)),
            "{}",
            b.anchor
        );
    }
    for s in r
        .signatures
        .iter()
        .filter(|s| r.buckets.iter().any(|b| b.best == s.anchor))
    {
        let n = s.anchor.trim_start_matches("sig-");
        for id in [
            s.anchor.clone(),
            format!("case-{n}"),
            format!("explain-{n}"),
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(
            html.contains(&format!("href=\"#{}\"", s.anchor)),
            "{}",
            s.anchor
        );
    }
    assert!(html.contains("all-or-nothing-on-enomem"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));

    // --since moves the window: D (recorded by run 3) is new after run 1, not after run 3.
    let since = build(&store, &opts(Some(3))).unwrap();
    assert_eq!(statuses(&since)[&example(D).1], Status::Reproducing);
    let since0 = build(&store, &opts(Some(1))).unwrap();
    assert_eq!(statuses(&since0)[&example(D).1], Status::New);
    assert!(matches!(
        build(&store, &opts(Some(99))),
        Err(cgdiff_reports::ReportError::UnknownRun { run: 99, .. })
    ));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn markup_in_a_case_is_escaped_everywhere() {
    let dir = temp("escape");
    let mut store = two_nights(&dir);
    // A row no cgdiff would write: markup in the signature, the rule and the text.
    store
        .record_at(
            &NewCase {
                text: format!("{SCRIPT}\n<img src=x onerror=alert(2)>"),
                bytes: None,
                signature: format!("migrate-task/{SCRIPT}/none/diff"),
                classes: vec!["<b>bold</b>".into()],
                rule: Some(format!("rule\"{SCRIPT}")),
                bucket: format!("F9{SCRIPT}"),
                first_op: 0,
                ops: 1,
                minimised_from: None,
                found_by: FoundBy::Import,
                run_id: None,
                tool_version: "test".into(),
                git_commit: None,
            },
            5000,
        )
        .unwrap();
    let r = build(&store, &opts(None)).unwrap();
    let bad = r
        .signatures
        .iter()
        .find(|s| s.signature.contains("script"))
        .unwrap();
    assert_eq!(bad.explanation.verdict, "unreadable");
    assert!(bad.expected, "it names a rule (no such rule: no reason)");
    assert!(bad.rule.as_ref().unwrap().reason.is_none());
    assert_eq!(r.totals.unlisted, 0);
    let html = cgdiff_reports::html::render(&r);
    assert!(!html.contains(SCRIPT), "raw script tag in the HTML");
    assert!(!html.contains("<img") && !html.contains("<b>bold"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let junit = cgdiff_reports::junit::render(&r);
    assert!(!junit.contains(SCRIPT));
    let shape = junit_shape(&junit); // parses: no injected element
    assert_eq!(shape.tests, 5, "one test case per bucket");
    let md = cgdiff_reports::markdown::render(&r);
    for line in md.lines().filter(|l| l.contains("script")) {
        assert!(
            line.contains(&format!("`F9{SCRIPT}`")) || line.contains(&format!("(F9{SCRIPT}")),
            "{line}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&cgdiff_reports::json(&r).unwrap()).unwrap();
    assert!(json["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["best_case"]["text"].as_str().unwrap().starts_with(SCRIPT)));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn junit_has_the_schema_shape_and_the_json_its_version() {
    let dir = temp("junit");
    let store = two_nights(&dir);
    let r = build(&store, &opts(None)).unwrap();
    let shape = junit_shape(&cgdiff_reports::junit::render(&r));
    // One test case per bucket: F2, F4 (B fixed, C back: regressed), F3, the rule.
    assert_eq!(shape.tests, 4);
    assert_eq!(shape.failures, 1, "only the regressed bucket fails");
    assert_eq!(shape.suites, 3);
    // A failure carries the best case's text and the reproduce command; a pass its counts.
    let failure = &shape.failure_texts[0];
    assert!(
        failure.contains("cgdiff-case v1") && failure.contains("Reproduce with: cgdiff replay"),
        "{failure}"
    );
    assert!(shape
        .system_outs
        .iter()
        .any(|s| s.contains("all-or-nothing-on-enomem: all or nothing on ENOMEM")));
    assert_eq!(r.totals.buckets.regressed, 1);
    assert_eq!(r.totals.buckets.unlisted, 0);
    assert!(r.verdict.starts_with("FAILING (F4)"), "{}", r.verdict);

    let json: serde_json::Value = serde_json::from_str(&cgdiff_reports::json(&r).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    for key in [
        "generated_at",
        "window",
        "totals",
        "signatures",
        "runs",
        "charts",
        "coverage",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["totals"]["by_status"]["regressed"], 1);
    assert_eq!(json["signatures"][0]["status"], "regressed");
    let _ = std::fs::remove_dir_all(dir);
}

/// What the JUnit document holds, checked against the shape of the common JUnit schema
/// (testsuites > testsuite > testcase > failure | system-out) while reading it.
struct Junit {
    tests: usize,
    failures: usize,
    suites: usize,
    failure_texts: Vec<String>,
    system_outs: Vec<String>,
}

fn attrs(e: &quick_xml::events::BytesStart) -> HashMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.unescape_value().unwrap().into_owned(),
            )
        })
        .collect()
}

fn junit_shape(xml: &str) -> Junit {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut root: Option<HashMap<String, String>> = None;
    let mut suite: Option<(HashMap<String, String>, usize, usize)> = None;
    let (mut tests, mut failures, mut suites) = (0, 0, 0);
    let (mut failure_texts, mut system_outs, mut text) = (Vec::new(), Vec::new(), String::new());
    loop {
        let ev = reader.read_event().expect("well-formed XML");
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let parent = stack.last().map(String::as_str);
                let allowed = match name.as_str() {
                    "testsuites" => parent.is_none(),
                    "testsuite" => parent == Some("testsuites"),
                    "testcase" => parent == Some("testsuite"),
                    "failure" | "system-out" | "skipped" => parent == Some("testcase"),
                    _ => false,
                };
                assert!(allowed, "<{name}> inside {parent:?}");
                let a = attrs(e);
                match name.as_str() {
                    "testsuites" => root = Some(a),
                    "testsuite" => {
                        for k in ["name", "tests", "failures", "errors"] {
                            assert!(a.contains_key(k), "testsuite without {k}");
                        }
                        suite = Some((a, 0, 0));
                        suites += 1;
                    }
                    "testcase" => {
                        assert!(a.contains_key("name") && a.contains_key("classname"));
                        suite.as_mut().unwrap().1 += 1;
                        tests += 1;
                    }
                    "failure" => {
                        assert!(a.contains_key("message") && a.contains_key("type"));
                        suite.as_mut().unwrap().2 += 1;
                        failures += 1;
                    }
                    _ => {}
                }
                if matches!(ev, Event::Start(_)) {
                    stack.push(name);
                    text.clear();
                } else if name == "testsuite" {
                    let (a, t, f) = suite.take().unwrap();
                    assert_eq!(
                        (
                            a["tests"].parse::<usize>().unwrap(),
                            a["failures"].parse::<usize>().unwrap()
                        ),
                        (t, f)
                    );
                }
            }
            Event::Text(t) => text.push_str(&t.unescape().expect("valid references")),
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()));
                match name.as_str() {
                    "failure" => failure_texts.push(std::mem::take(&mut text)),
                    "system-out" => system_outs.push(std::mem::take(&mut text)),
                    "testsuite" => {
                        let (a, t, f) = suite.take().unwrap();
                        assert_eq!(a["tests"].parse::<usize>().unwrap(), t, "suite tests");
                        assert_eq!(a["failures"].parse::<usize>().unwrap(), f, "suite failures");
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    let root = root.expect("a <testsuites> root");
    assert_eq!(root["tests"].parse::<usize>().unwrap(), tests);
    assert_eq!(root["failures"].parse::<usize>().unwrap(), failures);
    Junit {
        tests,
        failures,
        suites,
        failure_texts,
        system_outs,
    }
}

/// An unexpected signature whose best case is in no finding's bucket (here: a case stored under
/// a signature it does not give) is flagged as unlisted.
#[test]
fn unexpected_signatures_outside_the_findings_are_unlisted() {
    let dir = temp("unlisted");
    let mut store = two_nights(&dir);
    let (text, ..) = example(A);
    store
        .record_at(
            &NewCase {
                text,
                bytes: None,
                signature: "fork/warning/none/diff".into(),
                classes: vec!["warning".into()],
                rule: None,
                bucket: "unlisted".into(),
                first_op: 0,
                ops: 1,
                minimised_from: None,
                found_by: FoundBy::Import,
                run_id: None,
                tool_version: "test".into(),
                git_commit: None,
            },
            5000,
        )
        .unwrap();
    let r = build(&store, &opts(None)).unwrap();
    assert_eq!(r.totals.unlisted, 1);
    let s = r
        .signatures
        .iter()
        .find(|s| s.signature == "fork/warning/none/diff")
        .unwrap();
    assert!(s.listed.is_none() && s.failing);
    assert!(cgdiff_reports::html::render(&r).contains(">unlisted</span>"));
    assert_eq!(r.totals.buckets.unlisted, 1);
    assert!(
        r.verdict.starts_with("FAILING") && r.verdict.contains("unlisted"),
        "{}",
        r.verdict
    );
    let md = cgdiff_reports::markdown::render(&r);
    assert!(
        md.lines()
            .any(|l| l.starts_with("| `unlisted` |") && l.contains("❌")),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
