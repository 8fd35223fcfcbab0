//! Several processes writing one database, and a writer killed with SIGKILL.
//!
//! The writers are this test executable itself, re-run with `CGDIFF_CORPUS_CHILD` set: the
//! `child_process_entry_point` test then plays the writer instead of doing nothing.

mod common;

use cgdiff_corpus::{CaseFilter, NewRun, RunKind, RunTotals, Store};
use common::{case, TempDir};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MODE: &str = "CGDIFF_CORPUS_CHILD";
const DB: &str = "CGDIFF_CORPUS_DB";
const WRITER: &str = "CGDIFF_CORPUS_WRITER";
const START: &str = "CGDIFF_CORPUS_START";

const WRITERS: usize = 4;
const CASES_PER_WRITER: usize = 200;
const SIGNATURES: usize = 50;

fn spawn_child(mode: &str, db: &Path, writer: usize, start: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DB, db)
        .env(WRITER, writer.to_string())
        .env(START, start)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The text of writer `w`'s `i`th case, which also names its signature.
fn writer_case(w: usize, i: usize) -> cgdiff_corpus::NewCase {
    let mut c = case(
        &format!("sig-{}", i % SIGNATURES),
        1 + (i % 7) as u32,
        &format!("writer {w} case {i}"),
    );
    // A kilobyte of bytes so that transactions span several pages.
    c.bytes = Some(vec![w as u8; 1024]);
    c
}

/// Not a test of its own: the body of the child processes the other tests spawn.
#[test]
fn child_process_entry_point() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let db = std::env::var_os(DB).unwrap();
    let w: usize = std::env::var(WRITER).unwrap().parse().unwrap();
    let start = std::env::var_os(START).unwrap();

    // Wait for the go signal so that every writer opens the (missing) file at once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !Path::new(&start).exists() {
        assert!(Instant::now() < deadline, "no start signal");
        std::thread::sleep(Duration::from_millis(1));
    }

    let mut store = Store::open(&db).unwrap();
    let mut out = std::io::stdout().lock();
    // libtest has printed "test child_process_entry_point ... " without a newline: end it,
    // so that every line the parent reads is one of ours.
    writeln!(out).unwrap();
    match mode.as_str() {
        "writer" => {
            let run = store
                .begin_run(&NewRun::new(RunKind::Campaign, "test"))
                .unwrap();
            for i in 0..CASES_PER_WRITER {
                let mut c = writer_case(w, i);
                c.run_id = Some(run);
                store.record(&c).unwrap();
            }
            store
                .finish_run(
                    run,
                    &RunTotals {
                        cases_executed: CASES_PER_WRITER as u64,
                        divergences: CASES_PER_WRITER as u64,
                        ..Default::default()
                    },
                )
                .unwrap();
            writeln!(out, "DONE").unwrap();
        }
        "endless" => {
            // Bounded so that it stops by itself if nobody kills it.
            let deadline = Instant::now() + Duration::from_secs(60);
            for i in 0.. {
                if Instant::now() > deadline {
                    break;
                }
                let id = store.record(&writer_case(w, i)).unwrap().case_id();
                writeln!(out, "COMMITTED {i} {id}").unwrap();
                out.flush().unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn four_processes_writing_one_database_lose_nothing() {
    let dir = TempDir::new("four-writers");
    let db = dir.join("cgdiff.db");
    let start = dir.join("go");
    let children: Vec<Child> = (0..WRITERS)
        .map(|w| spawn_child("writer", &db, w, &start))
        .collect();
    std::fs::write(&start, b"").unwrap();

    for (w, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.lines().any(|l| l == "DONE"),
            "writer {w} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let store = Store::open(&db).unwrap();
    assert!(store.integrity_check().unwrap());
    let cases = store.cases(&CaseFilter::default()).unwrap();
    assert_eq!(cases.len(), WRITERS * CASES_PER_WRITER);
    let texts: HashSet<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    for w in 0..WRITERS {
        for i in 0..CASES_PER_WRITER {
            assert!(texts.contains(writer_case(w, i).text.as_str()), "{w}/{i}");
        }
    }
    assert!(cases.iter().all(|c| c.hit_count == 1));

    let sigs = store.signatures().unwrap();
    assert_eq!(sigs.len(), SIGNATURES);
    for sig in &sigs {
        assert_eq!(
            sig.hit_count,
            (WRITERS * CASES_PER_WRITER / SIGNATURES) as u64
        );
        assert_eq!(sig.cases, sig.hit_count);
        let best = store.case(sig.best_case_id).unwrap().unwrap();
        let min_ops = cases
            .iter()
            .filter(|c| c.signature == sig.signature)
            .map(|c| c.ops)
            .min()
            .unwrap();
        assert_eq!(best.ops, min_ops, "{}", sig.signature);
    }

    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), WRITERS);
    assert!(runs.iter().all(|r| r.ended_at.is_some()));
    for run in &runs {
        let of_run = cases.iter().filter(|c| c.run_id == Some(run.id)).count();
        assert_eq!(of_run, CASES_PER_WRITER);
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_a_sound_database_with_every_committed_case() {
    let dir = TempDir::new("sigkill");
    let db = dir.join("cgdiff.db");
    let start = dir.join("go");
    std::fs::write(&start, b"").unwrap();
    let mut child = spawn_child("endless", &db, 0, &start);

    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // Let it get going (it must have committed something), then give it ~300 ms more.
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines
        .iter()
        .filter(|l: &&String| l.starts_with("COMMITTED "))
        .count()
        < 20
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the child committed too little: {lines:?}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    assert!(!status.success(), "the child ended by itself: {status}");
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }

    // Only complete lines count: a line cut by the kill is not a claim of a commit.
    let committed: Vec<(usize, i64)> = lines
        .iter()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("COMMITTED ")?.split(' ');
            let i = parts.next()?.parse().ok()?;
            let id = parts.next()?.parse().ok()?;
            Some((i, id))
        })
        .collect();
    assert!(committed.len() >= 20);
    assert!(
        committed.iter().enumerate().all(|(k, &(i, _))| k == i),
        "a COMMITTED line was lost or garbled: {lines:?}"
    );

    let store = Store::open(&db).unwrap();
    assert!(
        store.integrity_check().unwrap(),
        "{:?}",
        store.integrity_problems().unwrap()
    );
    for &(i, id) in &committed {
        let row = store
            .case(id)
            .unwrap()
            .unwrap_or_else(|| panic!("case {id} ({i}) was printed as committed but is missing"));
        assert_eq!(row.text, writer_case(0, i).text);
    }
    let stored = store.cases(&CaseFilter::default()).unwrap().len();
    assert!(
        stored == committed.len() || stored == committed.len() + 1,
        "{stored} stored, {} printed",
        committed.len()
    );
    let hits: u64 = store
        .signatures()
        .unwrap()
        .iter()
        .map(|s| s.hit_count)
        .sum();
    assert_eq!(hits as usize, stored);
    eprintln!(
        "killed after {} committed cases; {stored} in the database",
        committed.len()
    );
}
