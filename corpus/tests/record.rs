//! Recording cases: deduplication by signature, best-case choice, hit counts, and the other
//! tables.

mod common;

use cgdiff_corpus::{
    CaseFilter, FoundBy, NewReplay, NewRun, Recorded, ReplayOutcome, RunKind, RunTotals, Store,
    StoreError,
};
use common::{case, TempDir};
use std::time::Duration;

#[test]
fn the_same_signature_twice_is_one_signature_with_two_hits_and_the_smaller_case_as_best() {
    for small_first in [true, false] {
        let dir = TempDir::new(&format!("dedupe-{small_first}"));
        let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
        let small = case("sig-x", 3, "small");
        let big = case("sig-x", 9, "big");
        let (first, second) = if small_first {
            (&small, &big)
        } else {
            (&big, &small)
        };

        let a = store.record_at(first, 100).unwrap();
        assert!(matches!(a, Recorded::NewSignature { .. }), "{a:?}");
        let b = store.record_at(second, 200).unwrap();
        if small_first {
            assert_eq!(
                b,
                Recorded::Duplicate {
                    case_id: b.case_id(),
                    best_case_id: a.case_id()
                }
            );
        } else {
            assert_eq!(
                b,
                Recorded::NewBest {
                    case_id: b.case_id(),
                    previous_best: a.case_id()
                }
            );
        }
        assert_ne!(a.case_id(), b.case_id());

        let sigs = store.signatures().unwrap();
        assert_eq!(sigs.len(), 1, "{sigs:?}");
        let sig = &sigs[0];
        assert_eq!(sig.signature, "sig-x");
        assert_eq!(sig.hit_count, 2);
        assert_eq!(sig.cases, 2);
        assert_eq!((sig.first_seen, sig.last_seen), (100, 200));
        assert!(!sig.expected);
        let best = store.case(sig.best_case_id).unwrap().unwrap();
        assert_eq!(best.text, small.text);
        assert_eq!(best.ops, 3);
        assert_eq!(store.known_signatures().unwrap().len(), 1);
    }
}

#[test]
fn the_best_case_does_not_depend_on_arrival_order() {
    // Same ops, same length: byte order decides.
    let mut b = case("sig", 4, "tag-b");
    b.text = b.text.replace("to=/a", "to=/b");
    let a = case("sig", 4, "tag-a");
    let longer = case("sig", 4, "tag-a-longer");
    let fewer_ops_but_longer = case("sig", 2, &"x".repeat(500));
    let all = [a, b, longer, fewer_ops_but_longer.clone()];

    let orders: [[usize; 4]; 4] = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
    for (i, order) in orders.iter().enumerate() {
        let dir = TempDir::new(&format!("order-{i}"));
        let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
        for &k in order {
            store.record_at(&all[k], 1).unwrap();
        }
        let sig = &store.signatures().unwrap()[0];
        assert_eq!(sig.hit_count, 4);
        let best = store.case(sig.best_case_id).unwrap().unwrap();
        assert_eq!(best.text, fewer_ops_but_longer.text, "order {order:?}");

        // Without the two-op case: fewest ops tie, so shortest text, then byte order.
        let dir = TempDir::new(&format!("order-tie-{i}"));
        let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
        for &k in order.iter().filter(|&&k| k != 3) {
            store.record_at(&all[k], 1).unwrap();
        }
        let sig = &store.signatures().unwrap()[0];
        let best = store.case(sig.best_case_id).unwrap().unwrap();
        assert_eq!(best.text, all[0].text, "order {order:?}");
    }
}

#[test]
fn an_identical_case_is_stored_once_with_its_hit_count_bumped() {
    let dir = TempDir::new("identical");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    let mut c = case("sig", 5, "same");
    c.bytes = None;
    let first = store.record_at(&c, 10).unwrap();
    c.bytes = Some(vec![0, 1, 2, 255]);
    let again = store.record_at(&c, 20).unwrap();
    let third = store.record_at(&c, 15).unwrap();
    assert_eq!(
        again,
        Recorded::Duplicate {
            case_id: first.case_id(),
            best_case_id: first.case_id()
        }
    );
    assert_eq!(third.case_id(), first.case_id());

    let cases = store.cases(&CaseFilter::default()).unwrap();
    assert_eq!(cases.len(), 1);
    let row = &cases[0];
    assert_eq!(row.hit_count, 3);
    assert_eq!((row.created_at, row.last_seen_at), (10, 20));
    assert_eq!(
        row.bytes.as_deref(),
        Some(&[0u8, 1, 2, 255][..]),
        "missing bytes are filled in by a later record"
    );
    assert_eq!(store.signatures().unwrap()[0].hit_count, 3);

    // The same text under another signature is another case.
    let other = store.record_at(&case("sig-2", 5, "same"), 30).unwrap();
    assert!(other.is_new_signature());
    assert_eq!(store.cases(&CaseFilter::default()).unwrap().len(), 2);
}

#[test]
fn a_case_row_reads_back_what_was_recorded() {
    let dir = TempDir::new("roundtrip");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    let run = store
        .begin_run_at(&NewRun::new(RunKind::CargoFuzz, "0.1.0"), 50)
        .unwrap();
    let parent = store.record_at(&case("sig", 8, "parent"), 60).unwrap();
    let mut c = case("sig", 2, "child");
    // Another bucket: another variant of the same signature.
    c.bucket = "legacy-skips-frozen".to_string();
    c.rule = Some("legacy-skips-frozen".to_string());
    c.classes = vec!["events".to_string()];
    c.minimised_from = Some(parent.case_id());
    c.found_by = FoundBy::Minimize;
    c.run_id = Some(run);
    c.first_op = 1;
    c.git_commit = None;
    let rec = store.record_at(&c, 70).unwrap();

    let row = store.case(rec.case_id()).unwrap().unwrap();
    assert_eq!(row.id, rec.case_id());
    assert_eq!(row.text, c.text);
    assert_eq!(row.bytes, c.bytes);
    assert_eq!(row.signature, "sig");
    assert_eq!(row.classes, ["events"]);
    assert_eq!(row.rule.as_deref(), Some("legacy-skips-frozen"));
    assert_eq!((row.first_op, row.ops), (1, 2));
    assert_eq!(row.minimised_from, Some(parent.case_id()));
    assert_eq!(row.found_by, FoundBy::Minimize);
    assert_eq!(row.run_id, Some(run));
    assert_eq!(row.tool_version, "0.1.0-test");
    assert_eq!(row.git_commit, None);
    assert_eq!(
        (row.created_at, row.last_seen_at, row.hit_count),
        (70, 70, 1)
    );
    assert_eq!(store.case(9999).unwrap(), None);

    // A variant's classes and rule are those of its cases (the key decides them), never
    // "whatever was recorded last": the child is a variant of its own.
    let sigs = store.signatures().unwrap();
    assert_eq!(sigs.len(), 2);
    let child = sigs
        .iter()
        .find(|s| s.bucket == "legacy-skips-frozen")
        .unwrap();
    assert_eq!(child.classes, ["events"]);
    assert!(child.expected);
    let first = sigs.iter().find(|s| s.bucket.is_empty()).unwrap();
    assert!(!first.expected);
    assert_eq!(row.bucket.as_deref(), Some("legacy-skips-frozen"));

    let json = serde_json::to_value(&row).unwrap();
    assert_eq!(json["found_by"], "minimize");
    assert_eq!(json["bytes"], hex(c.bytes.as_ref().unwrap()));
    assert_eq!(
        serde_json::to_value(rec).unwrap()["outcome"],
        "new-signature",
        "{rec:?}"
    );
    assert!(rec.is_new_bucket());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn cases_are_filtered_by_signature_and_expectedness_and_limited() {
    let dir = TempDir::new("filter");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    for i in 0..10u32 {
        let mut c = case(
            if i % 2 == 0 { "even" } else { "odd" },
            3 + i,
            &i.to_string(),
        );
        if i % 3 == 0 {
            c.rule = Some("known".to_string());
        }
        store.record_at(&c, i as i64).unwrap();
    }
    let ids = |f: CaseFilter| -> Vec<u32> {
        store
            .cases(&f)
            .unwrap()
            .into_iter()
            .map(|c| c.ops - 3)
            .collect()
    };
    assert_eq!(ids(CaseFilter::default()), (0..10).collect::<Vec<_>>());
    assert_eq!(
        ids(CaseFilter {
            signature: Some("even".into()),
            ..Default::default()
        }),
        [0, 2, 4, 6, 8]
    );
    assert_eq!(
        ids(CaseFilter {
            unexpected_only: true,
            ..Default::default()
        }),
        [1, 2, 4, 5, 7, 8]
    );
    assert_eq!(
        ids(CaseFilter {
            signature: Some("odd".into()),
            unexpected_only: true,
            limit: Some(2),
            ..Default::default()
        }),
        [1, 5]
    );
    assert_eq!(
        ids(CaseFilter {
            limit: Some(0),
            ..Default::default()
        }),
        Vec::<u32>::new()
    );
}

#[test]
fn a_class_name_with_a_comma_is_refused() {
    let dir = TempDir::new("comma");
    let db = dir.join("cgdiff.db");
    let mut store = Store::open(&db).unwrap();
    let mut c = case("sig", 1, "c");
    c.classes = vec!["a,b".to_string()];
    let err = store.record_at(&c, 1).unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    assert_eq!(err.path(), db);
    c.classes = vec![];
    store.record_at(&c, 1).unwrap();
    assert!(store.cases(&CaseFilter::default()).unwrap()[0]
        .classes
        .is_empty());
}

#[test]
fn a_dangling_run_id_is_refused_and_records_nothing() {
    let dir = TempDir::new("dangling");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    let mut c = case("sig", 1, "c");
    c.run_id = Some(42);
    let err = store.record_at(&c, 1).unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    assert!(store.cases(&CaseFilter::default()).unwrap().is_empty());
    assert!(store.signatures().unwrap().is_empty());
}

#[test]
fn runs_are_begun_and_finished_with_rates_and_extra_merged() {
    let dir = TempDir::new("runs");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    let mut new = NewRun::new(RunKind::Campaign, "0.1.0");
    new.seed = Some(u64::MAX);
    new.shard = Some("0/1".into());
    new.jobs = Some(2);
    new.git_commit = Some("abc".into());
    new.extra = Some(serde_json::json!({"generator": "v1", "keep": true}));
    let id = store.begin_run_at(&new, 1000).unwrap();

    let running = &store.runs().unwrap()[0];
    assert_eq!(running.ended_at, None);
    assert_eq!(running.cases_per_sec, None);

    store
        .finish_run_at(
            id,
            &RunTotals {
                cases_executed: 500,
                operations: 10_000,
                elapsed: Duration::from_millis(2500),
                new_signatures: 3,
                divergences: 7,
                extra: Some(serde_json::json!({"generator": "v2", "coverage": {"attach": 12}})),
            },
            1003,
        )
        .unwrap();
    let run = &store.runs().unwrap()[0];
    assert_eq!(run.id, id);
    assert_eq!(run.kind, RunKind::Campaign);
    assert_eq!((run.started_at, run.ended_at), (1000, Some(1003)));
    assert_eq!((run.cases_executed, run.operations), (500, 10_000));
    assert_eq!(run.cases_per_sec, Some(200.0));
    assert_eq!(run.ops_per_sec, Some(4000.0));
    assert_eq!(run.seed, Some(u64::MAX));
    assert_eq!(run.shard.as_deref(), Some("0/1"));
    assert_eq!(run.jobs, Some(2));
    assert_eq!((run.new_signatures, run.divergences), (3, 7));
    assert_eq!(
        run.extra,
        serde_json::json!({"generator": "v2", "keep": true, "coverage": {"attach": 12}})
    );

    assert!(matches!(
        store.finish_run_at(id + 1, &RunTotals::default(), 1),
        Err(StoreError::InvalidInput { .. })
    ));
    let mut bad = NewRun::new(RunKind::Merge, "0.1.0");
    bad.extra = Some(serde_json::json!([1, 2]));
    assert!(matches!(
        store.begin_run_at(&bad, 1),
        Err(StoreError::InvalidInput { .. })
    ));
    let kinds: Vec<&str> = RunKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["campaign", "cargo-fuzz", "import", "replay", "merge"]
    );
    for &kind in RunKind::ALL {
        store.begin_run_at(&NewRun::new(kind, "0.1.0"), 2).unwrap();
    }
    assert_eq!(store.runs().unwrap().len(), 1 + RunKind::ALL.len());
}

#[test]
fn replays_are_recorded_per_case() {
    let dir = TempDir::new("replays");
    let mut store = Store::open(dir.join("cgdiff.db")).unwrap();
    let run = store
        .begin_run_at(&NewRun::new(RunKind::Replay, "0.2.0"), 1)
        .unwrap();
    let a = store
        .record_at(&case("sig-a", 2, "a"), 1)
        .unwrap()
        .case_id();
    let b = store
        .record_at(&case("sig-b", 2, "b"), 1)
        .unwrap()
        .case_id();
    let replay = |case_id, outcome, sig: Option<&str>| NewReplay {
        run_id: Some(run),
        case_id,
        outcome,
        signature_now: sig.map(str::to_string),
    };
    store
        .record_replay_at(&replay(a, ReplayOutcome::Reproduces, Some("sig-a")), 5)
        .unwrap();
    store
        .record_replay_at(&replay(b, ReplayOutcome::Fixed, None), 6)
        .unwrap();
    store
        .record_replay_at(&replay(a, ReplayOutcome::Changed, Some("sig-c")), 7)
        .unwrap();
    assert!(matches!(
        store.record_replay_at(&replay(a, ReplayOutcome::Fixed, Some("sig-a")), 8),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(store
        .record_replay_at(&replay(a + b + 100, ReplayOutcome::Fixed, None), 8)
        .is_err());

    let of_a = store.replays(Some(a)).unwrap();
    assert_eq!(of_a.len(), 2);
    assert_eq!(of_a[0].outcome, ReplayOutcome::Reproduces);
    assert_eq!(of_a[1].outcome, ReplayOutcome::Changed);
    assert_eq!(of_a[1].signature_now.as_deref(), Some("sig-c"));
    assert_eq!(of_a[1].at, 7);
    assert_eq!(store.replays(None).unwrap().len(), 3);
    assert!(store.integrity_check().unwrap());
}

#[test]
fn a_row_with_an_unknown_value_is_reported_with_its_table_and_id() {
    let dir = TempDir::new("badrow");
    let db = dir.join("cgdiff.db");
    let mut store = Store::open(&db).unwrap();
    let id = store.record_at(&case("sig", 2, "a"), 1).unwrap().case_id();
    drop(store);
    // A hand edit that bypasses the CHECK constraint.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON; UPDATE cases SET found_by = 'telepathy';",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&db).unwrap();
    let err = store.case(id).unwrap_err();
    assert!(
        matches!(&err, StoreError::BadRow { table: "cases", id: got, .. } if *got == id),
        "{err:?}"
    );
    assert!(err.to_string().contains("telepathy"), "{err}");
}

#[test]
fn a_text_hash_collision_does_not_merge_different_cases() {
    let dir = TempDir::new("collision");
    let db = dir.join("cgdiff.db");
    let a = case("sig", 3, "a");
    let b = case("sig", 3, "b");
    let mut store = Store::open(&db).unwrap();
    let a_id = store.record_at(&a, 1).unwrap().case_id();
    drop(store);
    // Forge a collision: give A's row the hash B's text will be looked up by, by recording B
    // elsewhere and copying its hash over.
    let other = dir.join("other.db");
    let b_hash: i64 = {
        let mut s = Store::open(&other).unwrap();
        s.record_at(&b, 1).unwrap();
        drop(s);
        rusqlite::Connection::open(&other)
            .unwrap()
            .query_row("SELECT text_hash FROM cases", [], |r| r.get(0))
            .unwrap()
    };
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE cases SET text_hash = ?1", [b_hash])
        .unwrap();

    let mut store = Store::open(&db).unwrap();
    let rec = store.record_at(&b, 2).unwrap();
    assert_ne!(rec.case_id(), a_id);
    let cases = store.cases(&CaseFilter::default()).unwrap();
    assert_eq!(cases.len(), 2);
    assert!(cases.iter().all(|c| c.hit_count == 1));
    assert_eq!(store.record_at(&b, 3).unwrap().case_id(), rec.case_id());
}
