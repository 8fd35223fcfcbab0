//! `Store::merge_from`: the databases of several shards into one.

mod common;

use cgdiff_corpus::{
    CaseFilter, NewReplay, NewRun, ReplayOutcome, RunKind, RunTotals, Store, StoreError,
};
use common::{case, TempDir};

fn with_run(store: &mut Store, shard: &str, at: i64) -> i64 {
    let mut run = NewRun::new(RunKind::Campaign, "test");
    run.shard = Some(shard.into());
    run.seed = Some(u64::MAX);
    let id = store.begin_run_at(&run, at).unwrap();
    store
        .finish_run_at(
            id,
            &RunTotals {
                cases_executed: 100,
                extra: Some(serde_json::json!({"coverage": {"legacy": {"attach": 1}}})),
                ..RunTotals::default()
            },
            at + 5,
        )
        .unwrap();
    id
}

#[test]
fn merging_overlapping_shards_sums_hits_keeps_the_smallest_best_and_every_run() {
    let dir = TempDir::new("merge");
    let mut a = Store::open(dir.join("a.db")).unwrap();
    let mut b = Store::open(dir.join("b.db")).unwrap();

    // Shard a: "shared" (twice the same 5-op text, and a 4-op one) and "only-a".
    let ra = with_run(&mut a, "0/2", 100);
    let mut c = case("shared", 5, "same");
    c.run_id = Some(ra);
    a.record_at(&c, 110).unwrap();
    a.record_at(&c, 111).unwrap();
    let mut c4 = case("shared", 4, "a4");
    c4.run_id = Some(ra);
    let a4 = a.record_at(&c4, 112).unwrap().case_id();
    let mut oa = case("only-a", 2, "oa");
    oa.run_id = Some(ra);
    a.record_at(&oa, 113).unwrap();
    a.record_replay_at(
        &NewReplay {
            run_id: None,
            case_id: a4,
            outcome: ReplayOutcome::Reproduces,
            signature_now: Some("shared".into()),
        },
        120,
    )
    .unwrap();

    // Shard b: "shared" (the same 5-op text, and a smaller 2-op one, found earlier) and
    // "only-b" with a minimised case naming its original.
    let rb = with_run(&mut b, "1/2", 50);
    let mut c = case("shared", 5, "same");
    c.run_id = Some(rb);
    b.record_at(&c, 60).unwrap();
    let mut c2 = case("shared", 2, "b2");
    c2.run_id = Some(rb);
    b.record_at(&c2, 61).unwrap();
    let mut ob = case("only-b", 6, "ob-original");
    ob.run_id = Some(rb);
    let original = b.record_at(&ob, 62).unwrap().case_id();
    let mut obm = case("only-b", 1, "ob-min");
    obm.run_id = Some(rb);
    obm.minimised_from = Some(original);
    b.record_at(&obm, 63).unwrap();

    let mut out = Store::open(dir.join("out.db")).unwrap();
    let sa = out.merge_from(&a).unwrap();
    assert_eq!((sa.runs, sa.cases_added, sa.signatures_added), (1, 3, 2));
    let sb = out.merge_from(&b).unwrap();
    assert_eq!(sb.runs, 1);
    assert_eq!(
        (sb.cases_added, sb.cases_matched),
        (3, 1),
        "the shared 5-op text"
    );
    assert_eq!((sb.signatures_added, sb.signatures_matched), (1, 1));
    assert!(out.integrity_check().unwrap());

    let sigs = out.signatures().unwrap();
    let sig = |s: &str| sigs.iter().find(|x| x.signature == s).unwrap().clone();
    let shared = sig("shared");
    assert_eq!(shared.hit_count, 3 + 2, "hit counts summed");
    assert_eq!(shared.cases, 3, "5-op (both), 4-op (a), 2-op (b)");
    assert_eq!((shared.first_seen, shared.last_seen), (60, 112));
    let best = out.case(shared.best_case_id).unwrap().unwrap();
    assert_eq!(best.ops, 2, "the smallest of both databases");
    let same = out
        .cases(&CaseFilter {
            signature: Some("shared".into()),
            ..CaseFilter::default()
        })
        .unwrap()
        .into_iter()
        .find(|c| c.ops == 5)
        .unwrap();
    assert_eq!(same.hit_count, 3, "twice in a, once in b");
    assert_eq!((same.created_at, same.last_seen_at), (60, 111));

    // Runs kept, with their origin; cases point at the copies.
    let runs = out.runs().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, (db, shard, src_id)) in runs.iter().zip([("a.db", "0/2", ra), ("b.db", "1/2", rb)]) {
        assert_eq!(run.shard.as_deref(), Some(shard));
        assert_eq!(run.seed, Some(u64::MAX));
        assert_eq!(run.cases_executed, 100);
        assert!(run.extra["merged_from"]["db"]
            .as_str()
            .unwrap()
            .ends_with(db));
        assert_eq!(run.extra["merged_from"]["run_id"], src_id);
        assert_eq!(run.extra["coverage"]["legacy"]["attach"], 1, "extra kept");
    }
    let only_b = out
        .cases(&CaseFilter {
            signature: Some("only-b".into()),
            ..CaseFilter::default()
        })
        .unwrap();
    assert_eq!(
        only_b[1].minimised_from,
        Some(only_b[0].id),
        "lineage rewritten"
    );
    assert!(only_b.iter().all(|c| c.run_id == Some(runs[1].id)));
    assert_eq!(sig("only-b").best_case_id, only_b[1].id);
    let replays = out.replays(None).unwrap();
    assert_eq!(replays.len(), 1);
    assert_eq!(out.case(replays[0].case_id).unwrap().unwrap().ops, 4);

    // Not into itself.
    let again = Store::open(dir.join("out.db")).unwrap();
    assert!(matches!(
        out.merge_from(&again),
        Err(StoreError::InvalidInput { .. })
    ));
}
