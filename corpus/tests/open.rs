//! Opening, creating, migrating and refusing database files.

mod common;

use cgdiff_corpus::{Store, StoreError, APPLICATION_ID, SCHEMA_VERSION};
use common::{case, snapshot, TempDir};
use rusqlite::Connection;

fn user_version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_missing_file_is_created_at_the_current_schema_in_wal_mode() {
    let dir = TempDir::new("create");
    let db = dir.join("cgdiff.db");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.path(), db);
    assert!(store.integrity_check().unwrap());
    drop(store);

    let conn = Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(app, APPLICATION_ID);
    assert_eq!(mode, "wal");
}

#[test]
fn an_empty_file_is_migrated_from_version_zero_and_reopening_changes_nothing() {
    let dir = TempDir::new("empty");
    let db = dir.join("cgdiff.db");
    std::fs::write(&db, b"").unwrap();

    let mut store = Store::open(&db).unwrap();
    let first = store.record_at(&case("sig-a", 3, "a"), 100).unwrap();
    drop(store);
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    let before = snapshot(dir.path());

    for _ in 0..3 {
        let store = Store::open(&db).unwrap();
        assert_eq!(store.case(first.case_id()).unwrap().unwrap().ops, 3);
        assert_eq!(store.signatures().unwrap().len(), 1);
        assert!(store.integrity_check().unwrap());
    }
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    assert_eq!(snapshot(dir.path()), before, "reopening rewrote the file");
}

/// Builds a database as a newer cgdiff would leave it: cgdiff's application id and a schema
/// version this build has never heard of.
fn newer_database(db: &std::path::Path, wal: bool) {
    let conn = Connection::open(db).unwrap();
    if wal {
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
    }
    conn.execute_batch(&format!(
        "CREATE TABLE cases (id INTEGER PRIMARY KEY, text TEXT, shiny_new_column BLOB);
         INSERT INTO cases (text) VALUES ('from the future');
         PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = 7;"
    ))
    .unwrap();
}

fn assert_newer_refused(wal: bool) {
    let dir = TempDir::new(if wal { "newer wal %41?#" } else { "newer" });
    let db = dir.join("cgdiff.db");
    newer_database(&db, wal);
    let before = std::fs::read(&db).unwrap();

    let err = Store::open(&db).unwrap_err();
    match &err {
        StoreError::NewerSchema {
            path,
            found,
            supported,
        } => {
            assert_eq!(path, &db);
            assert_eq!(*found, 7);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "cgdiff.db has schema version 7, this cgdiff understands up to {SCHEMA_VERSION}: upgrade cgdiff"
        )),
        "{message}"
    );
    assert!(message.contains(&db.display().to_string()), "{message}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the refused file changed"
    );
    let names: Vec<String> = snapshot(dir.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["cgdiff.db"],
        "refusing the file left files beside it"
    );
    assert_eq!(user_version(&db), 7);
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    assert_newer_refused(false);
}

#[test]
fn a_newer_schema_in_wal_mode_is_refused_and_left_untouched() {
    assert_newer_refused(true);
}

#[test]
fn a_newer_schema_without_application_id_is_still_reported_as_newer() {
    let dir = TempDir::new("newer-bare");
    let db = dir.join("cgdiff.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 7")
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    assert!(matches!(
        Store::open(&db),
        Err(StoreError::NewerSchema { found: 7, .. })
    ));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_corrupt_file_is_refused_naming_its_path_and_left_untouched() {
    let dir = TempDir::new("corrupt");
    let db = dir.join("cgdiff.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();

    let err = Store::open(&db).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotADatabase { path, .. } if path == &db),
        "{err:?}"
    );
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
    assert_eq!(err.path(), db);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the refused file changed"
    );
    assert_eq!(
        snapshot(dir.path()).len(),
        1,
        "opening the corrupt file left files beside it"
    );
}

#[test]
fn a_text_file_is_refused_and_left_untouched() {
    let dir = TempDir::new("text");
    let db = dir.join("notes.txt");
    let text = b"these are my notes, not a database\n".repeat(200);
    std::fs::write(&db, &text).unwrap();
    assert!(matches!(
        Store::open(&db),
        Err(StoreError::NotADatabase { .. })
    ));
    assert_eq!(std::fs::read(&db).unwrap(), text);
}

#[test]
fn another_programs_database_is_refused_and_left_untouched() {
    let dir = TempDir::new("foreign");

    let plain = dir.join("plain.db");
    Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE addresses (name TEXT); INSERT INTO addresses VALUES ('x');")
        .unwrap();
    let before = std::fs::read(&plain).unwrap();
    let err = Store::open(&plain).unwrap_err();
    assert!(matches!(err, StoreError::ForeignDatabase { .. }), "{err:?}");
    assert_eq!(std::fs::read(&plain).unwrap(), before);

    let branded = dir.join("branded.db");
    Connection::open(&branded)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234; PRAGMA user_version = 1;")
        .unwrap();
    let before = std::fs::read(&branded).unwrap();
    let err = Store::open(&branded).unwrap_err();
    assert!(err.to_string().contains("application_id is 0x4d2"), "{err}");
    assert_eq!(std::fs::read(&branded).unwrap(), before);
}

#[test]
fn a_directory_is_an_error_naming_it() {
    let dir = TempDir::new("directory");
    let err = Store::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), dir.path());
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

/// A database as the first schema (version 1, a UNIQUE (signature, text) index and no
/// text hash) left it, built with that schema's own SQL.
fn version_1_database(db: &std::path::Path) {
    let old = case("sig-a", 6, "old");
    let smaller = case("sig-a", 2, "smaller");
    let other = case("sig-b", 4, "other");
    {
        let conn = Connection::open(db).unwrap();
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        conn.execute_batch(cgdiff_corpus::MIGRATIONS[0]).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
        ))
        .unwrap();
        conn.execute(
            "INSERT INTO runs (id, kind, started_at, tool_version, extra) \
             VALUES (7, 'campaign', 10, '0.1.0', '{\"k\": 1}')",
            [],
        )
        .unwrap();
        let insert = |id: i64, c: &cgdiff_corpus::NewCase, from: Option<i64>, hits: i64| {
            conn.execute(
                "INSERT INTO cases (id, text, bytes, signature, classes, rule, first_op, ops, \
                     minimised_from, found_by, run_id, tool_version, git_commit, created_at, \
                     last_seen_at, hit_count) \
                 VALUES (?1, ?2, ?3, ?4, 'placement,events', NULL, ?5, ?6, ?7, 'campaign', 7, \
                     '0.1.0', 'abc', 20, 30, ?8)",
                rusqlite::params![
                    id,
                    c.text,
                    c.bytes,
                    c.signature,
                    c.first_op,
                    c.ops,
                    from,
                    hits
                ],
            )
            .unwrap();
        };
        insert(11, &old, None, 3);
        insert(12, &smaller, Some(11), 1);
        insert(13, &other, None, 1);
        conn.execute_batch(
            "INSERT INTO signatures (signature, classes, rule, first_seen, last_seen, \
                 best_case_id, hit_count) VALUES
                 ('sig-a', 'placement,events', NULL, 20, 30, 12, 4),
                 ('sig-b', 'placement,events', NULL, 20, 30, 13, 1);
             INSERT INTO replays (run_id, case_id, outcome, signature_now, at)
                 VALUES (7, 11, 'reproduces', 'sig-a', 40);",
        )
        .unwrap();
    }
}

#[test]
fn a_version_1_database_is_migrated_keeping_every_row_and_deduping_old_texts() {
    let dir = TempDir::new("from-v1");
    let db = dir.join("cgdiff.db");
    version_1_database(&db);
    let old = case("sig-a", 6, "old");
    let smaller = case("sig-a", 2, "smaller");

    let mut store = Store::open(&db).unwrap();
    assert_eq!(
        store.opened().upgraded_from,
        Some(1),
        "the migration is reported"
    );
    assert!(
        store.integrity_check().unwrap(),
        "{:?}",
        store.integrity_problems().unwrap()
    );
    let row = store.case(12).unwrap().unwrap();
    assert_eq!(row.text, smaller.text);
    assert_eq!(row.bytes, smaller.bytes);
    assert_eq!(row.minimised_from, Some(11));
    assert_eq!(row.run_id, Some(7));
    assert_eq!(row.classes, ["placement", "events"]);
    assert_eq!(store.case(11).unwrap().unwrap().hit_count, 3);
    assert_eq!(store.signatures().unwrap().len(), 2);
    assert_eq!(store.replays(Some(11)).unwrap().len(), 1);
    assert_eq!(store.runs().unwrap()[0].extra, serde_json::json!({"k": 1}));

    // Old texts are found again through their migrated hashes.
    let again = store.record_at(&old, 50).unwrap();
    assert_eq!(
        again,
        cgdiff_corpus::Recorded::Duplicate {
            case_id: 11,
            best_case_id: 12
        }
    );
    assert_eq!(store.case(11).unwrap().unwrap().hit_count, 4);
    let tiny = store.record_at(&case("sig-b", 1, "tiny"), 60).unwrap();
    assert!(matches!(
        tiny,
        cgdiff_corpus::Recorded::NewBest {
            previous_best: 13,
            ..
        }
    ));
    // Foreign keys are on again after the migration.
    let mut dangling = case("sig-c", 1, "dangling");
    dangling.minimised_from = Some(999);
    assert!(store.record_at(&dangling, 70).is_err());
    drop(store);

    let conn = Connection::open(&db).unwrap();
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'cases' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "cases_bucket",
            "cases_minimised_from",
            "cases_run",
            "cases_signature_hash"
        ]
    );
}

// ------------------------------------------------------------------ read-only opening

/// Every file in `dir` with its bytes: what "changed nothing" is checked against.
fn unchanged(dir: &TempDir, before: &[(String, Vec<u8>)], what: &str) {
    let after = snapshot(dir.path());
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&after),
        names(before),
        "{what}: files appeared or went"
    );
    assert!(after == before, "{what}: a file's bytes changed");
}

fn store_with_cases(db: &std::path::Path, n: u32) {
    let mut store = Store::open(db).unwrap();
    for i in 0..n {
        store
            .record_at(
                &case(&format!("sig-{}", i % 7), 3 + i % 5, &format!("c{i}")),
                100,
            )
            .unwrap();
    }
}

#[test]
fn reading_a_missing_or_empty_file_creates_nothing_and_changes_nothing() {
    let dir = TempDir::new("ro-missing");
    let missing = dir.join("missing.db");
    let err = Store::open_read_only(&missing).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err:?}");
    assert!(snapshot(dir.path()).is_empty(), "reading created a file");

    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open_read_only(&empty).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a cgdiff database: the file is empty",
            empty.display()
        )
    );
    assert_eq!(snapshot(dir.path()), [("empty.db".to_string(), vec![])]);
}

#[test]
fn reading_a_valid_store_in_either_journal_mode_changes_no_byte_and_leaves_no_wal() {
    for mode in ["wal", "delete"] {
        let dir = TempDir::new(&format!("ro-valid-{mode}"));
        let db = dir.join("cgdiff.db");
        store_with_cases(&db, 20);
        Connection::open(&db)
            .unwrap()
            .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap();
        let before = snapshot(dir.path());
        assert_eq!(
            before.len(),
            1,
            "{mode}: the writer left files beside the store"
        );
        let store = Store::open_read_only(&db).unwrap();
        assert!(store.opened().read_only);
        assert_eq!(store.cases(&Default::default()).unwrap().len(), 20);
        assert_eq!(store.signatures().unwrap().len(), 7);
        assert!(store.integrity_check().unwrap());
        drop(store);
        unchanged(&dir, &before, mode);
    }
}

#[test]
fn an_older_schema_is_read_as_it_is_without_migrating_the_file() {
    let dir = TempDir::new("ro-older");
    let db = dir.join("cgdiff.db");
    version_1_database(&db);
    let before = snapshot(dir.path());
    let store = Store::open_read_only(&db).unwrap();
    assert_eq!(store.opened().upgraded_from, Some(1));
    assert_eq!(store.case(12).unwrap().unwrap().minimised_from, Some(11));
    assert_eq!(store.signatures().unwrap().len(), 2);
    drop(store);
    unchanged(&dir, &before, "older schema");
    assert_eq!(user_version(&db), 1);
}

/// A sound store with one of its data pages overwritten: the header and schema read, the
/// pages do not.
fn corrupt_store(db: &std::path::Path) {
    store_with_cases(db, 400);
    let len = std::fs::metadata(db).unwrap().len();
    let mut bytes = std::fs::read(db).unwrap();
    let page = 4096;
    let at = (len as usize / page / 2) * page + 100;
    for (i, b) in bytes[at..at + 2000].iter_mut().enumerate() {
        *b = (i * 37 % 251) as u8;
    }
    std::fs::write(db, bytes).unwrap();
}

#[test]
fn a_corrupt_store_is_refused_for_reading_and_writing_and_left_byte_identical() {
    let dir = TempDir::new("corrupt-pages");
    let db = dir.join("cgdiff.db");
    corrupt_store(&db);
    let before = snapshot(dir.path());
    for (what, err) in [
        ("read", Store::open_read_only(&db).unwrap_err()),
        ("write", Store::open(&db).unwrap_err()),
    ] {
        assert!(matches!(err, StoreError::Corrupt { .. }), "{what}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains("is corrupt"), "{msg}");
        assert!(
            msg.contains(&format!("cgdiff merge {} --into NEW.db", db.display())),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "one line: {msg}");
        unchanged(&dir, &before, what);
    }
}

#[test]
fn a_truncated_store_is_refused_and_left_alone() {
    let dir = TempDir::new("truncated");
    let db = dir.join("cgdiff.db");
    store_with_cases(&db, 200);
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let before = snapshot(dir.path());
    for err in [
        Store::open_read_only(&db).unwrap_err(),
        Store::open(&db).unwrap_err(),
    ] {
        assert!(err.to_string().contains("truncated"), "{err}");
        unchanged(&dir, &before, "truncated");
    }
}

#[test]
fn salvage_copies_every_readable_row_of_a_corrupt_store_and_only_reads_it() {
    let dir = TempDir::new("salvage");
    let db = dir.join("cgdiff.db");
    corrupt_store(&db);
    let before = snapshot(dir.path());
    let (salvaged, stats) = Store::salvage(&db).unwrap();
    unchanged(&dir, &before, "salvage");
    let cases = salvaged.cases(&Default::default()).unwrap();
    assert!(
        cases.len() > 300 && cases.len() < 400,
        "{} of 400 cases salvaged ({stats:?})",
        cases.len()
    );
    assert!(
        salvaged.integrity_check().unwrap(),
        "{:?}",
        salvaged.integrity_problems()
    );
    // Every signature names a salvaged case as its best.
    for s in salvaged.signatures().unwrap() {
        assert!(
            salvaged.case(s.best_case_id).unwrap().is_some(),
            "{}",
            s.signature
        );
    }
    let mut out = Store::open(dir.join("new.db")).unwrap();
    let merged = out.merge_from(&salvaged).unwrap();
    assert_eq!(merged.cases_added as usize, cases.len());
}
