//! The abuse suite (issue 11): what a new user, a CI machine or a hostile file does to the
//! `cgdiff` binary, one test per item. Stores: read commands change no byte and create
//! nothing, writing commands refuse a corrupt store untouched, every refusal is one sentence
//! naming the file and the cause. Inputs: `run` and `import` decide what a file is the same
//! way, invalid UTF-8 has a position, folder symlinks do not loop, every bound of the case
//! format is refused naming its limit. Signals: SIGTERM ends a campaign like SIGINT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cgdiff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cgdiff"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("cgdiff-abuse")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn s(&self, name: &str) -> String {
        self.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = cgdiff().args(args).current_dir(dir).output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    run_in(&root(), args)
}

/// Every file below `dir` (recursively) with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.insert(p.clone(), b"<dir>".to_vec());
            out.extend(tree(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

/// One line of error on stderr, naming `file`, without SQLite's text repeated.
fn one_sentence(o: &Out, file: &str, cause: &str) {
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{}", o.stderr);
    let line = lines[0];
    assert!(line.starts_with("cgdiff: error: "), "{line}");
    assert!(line.contains(file), "{line} does not name {file}");
    assert!(line.contains(cause), "{line} does not say {cause:?}");
    assert!(!line.contains("Error code"), "SQLite's codes leak: {line}");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A store with a campaign's findings in it.
fn valid_store(db: &Path) {
    let o = run(&[
        "fuzz", "--cases", "150", "--seed", "1", "--jobs", "1", "--db",
    ]
    .into_iter()
    .chain([db.to_str().unwrap()])
    .collect::<Vec<_>>());
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

/// `db` with one of its data pages overwritten (header and schema intact).
fn corrupt(db: &Path) {
    let mut bytes = std::fs::read(db).unwrap();
    let page = 4096;
    let at = (bytes.len() / page / 2) * page + 100;
    for (i, b) in bytes[at..at + 2000].iter_mut().enumerate() {
        *b = (i * 37 % 251) as u8;
    }
    std::fs::write(db, bytes).unwrap();
}

/// The kinds of store a read command may meet, built in `dir` from one valid campaign store.
fn every_kind_of_store(dir: &Dir) -> Vec<(&'static str, PathBuf)> {
    let valid = dir.join("valid.db");
    valid_store(&valid);
    let copy = |name: &str| {
        let p = dir.join(name);
        std::fs::copy(&valid, &p).unwrap();
        p
    };
    let delete_mode = copy("delete-mode.db");
    rusqlite::Connection::open(&delete_mode)
        .unwrap()
        .query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    let older = dir.join("older.db");
    {
        // Schema version 1, as the first cgdiff wrote it.
        let c = rusqlite::Connection::open(&older).unwrap();
        c.execute_batch(cgdiff_corpus::MIGRATIONS[0]).unwrap();
        c.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = 1;
             INSERT INTO runs (kind, started_at, tool_version) VALUES ('campaign', 1, 'old');",
            cgdiff_corpus::APPLICATION_ID,
        ))
        .unwrap();
        let sig = "transfer-tasks/placement+inventory/alloc/diff";
        let text = std::fs::read_to_string(root().join("examples/transfer-enomem.case")).unwrap();
        c.execute(
            "INSERT INTO cases (text, signature, classes, first_op, ops, found_by, run_id,
                 tool_version, created_at, last_seen_at)
             VALUES (?1, ?2, 'placement', 0, 1, 'import', 1, 'old', 1, 1)",
            rusqlite::params![text, sig],
        )
        .unwrap();
        c.execute(
            "INSERT INTO signatures (signature, classes, first_seen, last_seen, best_case_id,
                 hit_count) VALUES (?1, 'placement', 1, 1, 1, 1)",
            [sig],
        )
        .unwrap();
    }
    let newer = copy("newer.db");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.join("truncated.db");
    let bytes = std::fs::read(&valid).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let corrupt_db = copy("corrupt.db");
    corrupt(&corrupt_db);
    let garbage = dir.join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database, it is a poem\n".repeat(100),
    )
    .unwrap();
    let read_only = copy("read-only.db");
    let mut perms = std::fs::metadata(&read_only).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&read_only, perms).unwrap();
    vec![
        ("valid", valid),
        ("valid, journal_mode=delete", delete_mode),
        ("older", older),
        ("read-only", read_only),
        ("newer", newer),
        ("empty", empty),
        ("truncated", truncated),
        ("corrupt", corrupt_db),
        ("not SQLite", garbage),
        ("missing", dir.join("missing.db")),
        ("a directory", dir.join("sub")),
    ]
}

#[test]
fn read_commands_change_no_byte_of_any_kind_of_store_and_refuse_the_unusable_ones() {
    let dir = Dir::new("read-kinds");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let stores = every_kind_of_store(&dir);
    let out = Dir::new("read-kinds-out");
    for (kind, db) in &stores {
        let db = db.to_str().unwrap();
        let usable = matches!(
            *kind,
            "valid" | "valid, journal_mode=delete" | "older" | "read-only"
        );
        let report = out.s(&format!("report-{}", kind.replace([' ', ',', '='], "-")));
        let merged = out.s("merged.db");
        let commands: Vec<Vec<&str>> = vec![
            vec!["cases", "list", "--db", db],
            vec!["cases", "show", "1", "--db", db],
            vec!["explain", "1", "--db", db],
            vec!["export", "1", "--as", "case", "--db", db],
            vec!["report", "--out", &report, "--db", db],
            vec![
                "replay",
                "--signature",
                "no/such/signature/here",
                "--db",
                db,
            ],
            vec!["merge", db, "--into", &merged],
        ];
        for args in commands {
            let before = tree(&dir.0);
            let o = run(&args);
            assert_eq!(
                tree(&dir.0),
                before,
                "{kind}: `cgdiff {}` changed or created a file",
                args.join(" ")
            );
            let merge_salvages = args[0] == "merge" && matches!(*kind, "corrupt" | "truncated");
            if args[0] == "replay" {
                // Reading succeeds; the signature does not exist.
                let want = if usable { "no signature" } else { "" };
                assert_eq!(o.code, 2, "{kind}: {}", o.stderr);
                assert!(o.stderr.contains(want), "{kind}: {}", o.stderr);
            } else if usable || merge_salvages {
                assert_eq!(
                    o.code,
                    0,
                    "{kind}: `cgdiff {}`: {}",
                    args.join(" "),
                    o.stderr
                );
            } else {
                assert_eq!(o.code, 2, "{kind}: `cgdiff {}` exit", args.join(" "));
                one_sentence(&o, db, "");
            }
        }
    }
}

#[test]
fn each_refusal_is_one_sentence_naming_the_file_and_the_cause() {
    let dir = Dir::new("messages");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let stores = every_kind_of_store(&dir);
    let cause: BTreeMap<&str, &str> = [
        (
            "newer",
            "has schema version 99, this cgdiff understands up to",
        ),
        ("empty", "is not a cgdiff database: the file is empty"),
        ("truncated", "is corrupt (truncated"),
        ("corrupt", "is corrupt (SQLite's integrity check"),
        (
            "not SQLite",
            "is not a cgdiff database: it does not start with",
        ),
        ("missing", "does not exist"),
        ("a directory", "is a directory, not a database file"),
    ]
    .into();
    for (kind, db) in &stores {
        let Some(cause) = cause.get(kind) else {
            continue;
        };
        let db = db.to_str().unwrap();
        let o = run(&["cases", "list", "--db", db]);
        assert_eq!(o.code, 2, "{kind}");
        one_sentence(&o, db, cause);
        if !matches!(*kind, "missing" | "empty") {
            // Writing commands say the same (they create a missing store, or one in an empty
            // file).
            let o = run(&["import", "examples/agree-basic.case", "--db", db]);
            assert_eq!(o.code, 2, "{kind}");
            one_sentence(&o, db, cause);
        }
    }
    // A corrupt store's message says how to salvage it.
    let corrupt_db = dir.s("corrupt.db");
    let o = run(&["cases", "list", "--db", &corrupt_db]);
    assert!(
        o.stderr.contains(&format!(
            "`cgdiff merge {corrupt_db} --into NEW.db` copies what still reads"
        )),
        "{}",
        o.stderr
    );
    if !is_root() {
        // Permissions bind only a user who is not root.
        let o = run(&[
            "import",
            "examples/agree-basic.case",
            "--db",
            &dir.s("read-only.db"),
        ]);
        assert_eq!(o.code, 2);
        one_sentence(&o, "read-only.db", "is read-only (its permissions)");
        let locked_dir = dir.join("locked-dir");
        std::fs::create_dir(&locked_dir).unwrap();
        let db = locked_dir.join("new.db");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let o = run(&[
            "import",
            "examples/agree-basic.case",
            "--db",
            db.to_str().unwrap(),
        ]);
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(o.code, 2);
        one_sentence(&o, "new.db", "its directory");
    }
}

#[test]
fn writing_commands_refuse_a_corrupt_store_and_leave_it_byte_identical() {
    let dir = Dir::new("corrupt-writes");
    let db = dir.join("cgdiff.db");
    valid_store(&db);
    corrupt(&db);
    let other = dir.join("other.db");
    valid_store(&other);
    let (db, other) = (db.to_str().unwrap(), other.to_str().unwrap());
    let writes: Vec<Vec<&str>> = vec![
        vec!["fuzz", "--cases", "50", "--jobs", "1", "--db", db],
        vec!["import", "examples/findings", "--db", db],
        vec!["minimize", "1", "--db", db],
        vec!["replay", "--all", "--db", db],
        vec!["merge", other, "--into", db],
    ];
    for args in writes {
        let before = tree(&dir.0);
        let o = run(&args);
        assert_eq!(o.code, 2, "`cgdiff {}`: {}", args.join(" "), o.stdout);
        one_sentence(&o, db, "is corrupt");
        assert_eq!(tree(&dir.0), before, "`cgdiff {}` wrote", args.join(" "));
    }
}

#[test]
fn merge_salvages_what_reads_of_a_corrupt_store() {
    let dir = Dir::new("salvage");
    let db = dir.join("cgdiff.db");
    valid_store(&db);
    let whole: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    corrupt(&db);
    let before = std::fs::read(&db).unwrap();
    let new = dir.join("new.db");
    let o = run(&[
        "merge",
        db.to_str().unwrap(),
        "--into",
        new.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("salvaging"), "{}", o.stderr);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let c = rusqlite::Connection::open(&new).unwrap();
    let got: i64 = c
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert!(got > whole / 2 && got <= whole, "{got} of {whole} cases");
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let o = run(&["replay", "--all", "--db", new.to_str().unwrap()]);
    assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
}

#[test]
fn writing_commands_migrate_an_older_store_and_say_so() {
    let dir = Dir::new("migrate");
    let stores = every_kind_of_store(&dir);
    let older = stores.iter().find(|s| s.0 == "older").unwrap().1.clone();
    let o = run(&[
        "import",
        "examples/agree-basic.case",
        "--db",
        older.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "migrated {} from schema version 1 to",
            older.display()
        )),
        "{}",
        o.stderr
    );
}

/// Case files that `run` refuses or diverges on, mutated the ways that used to slip through
/// `import` as raw bytes: a BOM, CRLF, invalid UTF-8, a damaged header.
#[test]
fn run_and_import_decide_what_a_file_is_the_same_way() {
    let dir = Dir::new("agree");
    let enomem = std::fs::read(root().join("examples/transfer-enomem.case")).unwrap();
    let text = String::from_utf8(enomem.clone()).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("plain.case", enomem.clone()),
        ("bom.txt", [b"\xEF\xBB\xBF".as_slice(), &enomem].concat()),
        ("crlf.txt", text.replace('\n', "\r\n").into_bytes()),
        (
            "utf8.txt",
            text.replacen("mkdir h1:/from", "mkdir h1:/fr\u{ff}m", 1)
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0xC3 { 0xFF } else { b })
                .collect(),
        ),
        (
            "header.case",
            text.replacen("cgdiff-case", "cgdiff-cse", 1).into_bytes(),
        ),
        (
            "header-bom.txt",
            [b"\xEF\xBB\xBF".as_slice(), b"cgdiff-case v2\n"].concat(),
        ),
        ("raw.bin", vec![7, 1, 200, 3, 99, 250, 12, 0, 5, 77, 31, 8]),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let p = path.to_str().unwrap();
        let ran = run(&["run", p]);
        let db = dir.s(&format!("{name}.db"));
        let imported = run(&["import", p, "--db", &db]);
        match ran.code {
            2 => {
                assert_eq!(imported.code, 2, "{name}: import took what run refused");
                assert!(
                    imported.stdout.contains("0 divergent stored, 0 agree"),
                    "{name}"
                );
                assert!(ran.stderr.contains("line "), "{name}: {}", ran.stderr);
            }
            0 => assert!(
                imported.stdout.contains("agrees"),
                "{name}: {}",
                imported.stdout
            ),
            1 => assert!(
                imported.stdout.contains("stored case"),
                "{name}: run diverges, import: {}",
                imported.stdout
            ),
            c => panic!("{name}: run exit {c}"),
        }
        if name.ends_with(".txt") || name.ends_with(".case") {
            assert!(
                !ran.stderr.contains("libFuzzer"),
                "{name}: a case file read as raw bytes"
            );
        }
    }
    // The divergent file with a byte order mark diverges under both.
    let o = run(&["run", &dir.s("bom.txt")]);
    assert_eq!(o.code, 1);
}

#[test]
fn invalid_utf8_is_reported_with_its_line_and_byte_offset() {
    let dir = Dir::new("utf8");
    let path = dir.join("bad.case");
    std::fs::write(&path, b"cgdiff-case v1\nhierarchy h1 -\nfork 1 \xff2\n").unwrap();
    let want = "line 3, column 8: invalid UTF-8 at byte offset 37 of the file (byte 8 of the line)";
    let o = run(&["run", path.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains(want), "{}", o.stderr);
    let o = run(&["import", path.to_str().unwrap(), "--db", &dir.s("x.db")]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains(want), "{}", o.stderr);
}

#[test]
fn import_follows_no_folder_symlink_and_imports_each_file_once() {
    let dir = Dir::new("symlinks");
    let cases = dir.join("cases");
    std::fs::create_dir_all(cases.join("sub")).unwrap();
    std::fs::copy(
        root().join("examples/agree-basic.case"),
        cases.join("sub/a.case"),
    )
    .unwrap();
    std::os::unix::fs::symlink(".", cases.join("self")).unwrap();
    std::os::unix::fs::symlink("..", cases.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("sub/a.case", cases.join("link.case")).unwrap();
    let o = run(&[
        "import",
        cases.to_str().unwrap(),
        cases.join("sub/a.case").to_str().unwrap(),
        "--db",
        &dir.s("x.db"),
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout.matches("agrees").count(), 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("2 symlinks to folders not followed"),
        "{}",
        o.stdout
    );
}

/// One line per bound of the format, each past its limit: `run`, `import` and `minimize`
/// refuse it with exit 2 and a short message naming the limit.
#[test]
fn every_bound_of_the_case_format_is_refused_naming_its_limit() {
    let dir = Dir::new("bounds");
    let h = "cgdiff-case v1\nhierarchy h1 cpu\nmkdir h1:/a\n";
    let targets: String = (1..=257).map(|i| format!(" {i}")).collect();
    let files: Vec<(&str, String, &str)> = vec![
        (
            "alloc",
            format!("{h}migrate-task 1 h1:/a fail-alloc=4294967295\n"),
            "past the largest fault index 65535",
        ),
        (
            "alloc-big",
            format!("{h}migrate-task 1 h1:/a fail-alloc=10000000\n"),
            "past the largest fault index 65535",
        ),
        (
            "can-attach",
            format!("{h}migrate-task 1 h1:/a fail-can-attach=cpu:4294967295:EINVAL\n"),
            "past the largest fault index 65535",
        ),
        (
            "pid",
            format!("{h}fork 1 {}\n", "9".repeat(3000)),
            "is out of range (expected 1..=4096)",
        ),
        (
            "line",
            format!("{h}fork 1 {}\n", "9".repeat(100_000)),
            "more than the 4096 a case file allows",
        ),
        (
            "targets",
            format!("{h}migrate-multi h1:/a{targets}\n"),
            "more than 256 targets",
        ),
        (
            "ops",
            format!("{h}{}", "migrate-task 1 h1:/a\n".repeat(2000)),
            "more than 2000 operations",
        ),
        (
            "file",
            format!(
                "{h}{}",
                "# padding padding padding padding\n".repeat(40_000)
            ),
            "more than the 1048576 (1 MiB) a case file may be",
        ),
    ];
    for (name, text, limit) in files {
        let path = dir.join(&format!("{name}.case"));
        std::fs::write(&path, &text).unwrap();
        let p = path.to_str().unwrap();
        let db = dir.s("x.db");
        for args in [
            vec!["run", p],
            vec!["import", p, "--db", &db],
            vec!["minimize", p],
        ] {
            let o = run(&args);
            assert_eq!(o.code, 2, "{name}: `cgdiff {}`", args.join(" "));
            assert!(
                o.stderr.contains(limit),
                "{name}: `cgdiff {}`: {}",
                args.join(" "),
                o.stderr
            );
            assert!(
                o.stderr.len() < 400,
                "{name}: a long message ({} bytes)",
                o.stderr.len()
            );
        }
    }
}

/// The largest legal case does not blow up: `run` streams its output, and neither it nor
/// `import` holds more than a few hundred MB (the most any child of this test process used).
#[test]
fn the_largest_cases_stay_within_a_few_hundred_megabytes() {
    let dir = Dir::new("large");
    // 1,000 forks, then every task moved back and forth in bulk (the worst case of the format's
    // 2,000 operations is 1,000 of each; a fifth of the transfers keeps the debug build quick).
    let mut text = String::from("cgdiff-case v1\nhierarchy h1 cpuset,memory\nmkdir h1:/a\n");
    for i in 2..=1001 {
        text.push_str(&format!("fork 1 {i}\n"));
    }
    for _ in 0..100 {
        text.push_str("transfer-tasks h1:/ h1:/a\ntransfer-tasks h1:/a h1:/\n");
    }
    let path = dir.join("large.case");
    std::fs::write(&path, &text).unwrap();
    let child = cgdiff()
        .args(["run", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(child.code() == Some(0) || child.code() == Some(1));
    let o = run(&["import", path.to_str().unwrap(), "--db", &dir.s("x.db")]);
    assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
    // SAFETY: getrusage writes into the struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let mb = usage.ru_maxrss / 1024;
    assert!(mb < 400, "a child of this test used {mb} MB");
}

#[test]
fn sigterm_ends_a_campaign_like_sigint() {
    let dir = Dir::new("sigterm");
    for (signal, name) in [(libc::SIGTERM, "term"), (libc::SIGINT, "int")] {
        let db = dir.join(&format!("{name}.db"));
        let child = cgdiff()
            .args([
                "fuzz", "--time", "120s", "--jobs", "1", "--seed", "3", "--db",
            ])
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the campaign has begun its run (the row exists), then signal it.
        let begun = || {
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| c.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0)))
                .is_ok_and(|n| n > 0)
        };
        while !begun() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: {:?}\n{stdout}",
            out.status
        );
        assert!(
            stdout.contains("(interrupted)"),
            "{name}: no summary\n{stdout}"
        );
        let ended: Option<i64> = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT ended_at FROM runs", [], |r| r.get(0))
            .unwrap();
        assert!(ended.is_some(), "{name}: the run was left unfinished");
    }
}
