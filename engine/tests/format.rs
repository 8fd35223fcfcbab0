//! Case format v1: round trips and errors with line and column.

use cgdiff_engine::format::{parse, print, print_file, Expect};
use cgdiff_engine::gen;

#[test]
fn generated_cases_round_trip() {
    let mut buf = Vec::new();
    for seed in 0..3000u64 {
        gen::seeded_bytes(seed, 700, &mut buf);
        let case = gen::from_bytes(&buf, 64);
        let text = print(&case);
        let back = parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        assert_eq!(back.case, case, "seed {seed}");
        assert_eq!(print(&back.case), text);
    }
}

#[test]
fn comments_blank_lines_crlf_and_expect() {
    let text = "# a comment\r\n\r\ncgdiff-case v1   # trailing\r\nexpect diverge migrate-task/result/alloc/diff\r\n\
                hierarchy h1 cpuset,memory notify\r\n\thierarchy h2 -\r\nfork 1 2\r\n\
                thread 2 3 # a thread\r\nmigrate-multi h1:/ 2 p:3 fail-alloc=2 fail-can-attach=cpuset:1:EINVAL\r\n";
    let f = parse(text).unwrap();
    assert_eq!(
        f.expect,
        Some(Expect::Diverge("migrate-task/result/alloc/diff".into()))
    );
    assert_eq!(f.case.setup.hierarchies.len(), 2);
    assert!(f.case.setup.hierarchies[0].notify_on_release);
    assert_eq!(f.case.ops.len(), 3);
    let again = parse(&print_file(&f)).unwrap();
    assert_eq!(again, f);
}

fn err(text: &str) -> (usize, usize, String) {
    let e = parse(text).unwrap_err();
    (e.line, e.column, e.message)
}

#[test]
fn errors_say_where_and_what() {
    let h = "cgdiff-case v1\nhierarchy h1 cpu\n";
    assert_eq!(err("").0, 1);
    assert!(err("fork 1 2\n").2.contains("header"));
    let (l, c, m) = err("cgdiff-case v2\n");
    assert_eq!((l, c), (1, 13));
    assert!(m.contains("version 2"), "{m}");
    let (l, c, m) = err(&format!("{h}frok 1 2\n"));
    assert_eq!((l, c), (3, 1));
    assert!(m.contains("unknown operation"), "{m}");
    let (l, c, m) = err(&format!("{h}fork 1 x\n"));
    assert_eq!((l, c), (3, 8));
    assert!(m.contains("pid"), "{m}");
    let (l, c, _) = err(&format!("{h}migrate-task 1 h1:a\n"));
    assert_eq!((l, c), (3, 16));
    let (l, c, m) = err(&format!(
        "{h}migrate-task 1 h1:/ fail-alloc=1 fail-alloc=2\n"
    ));
    assert_eq!((l, c), (3, 34));
    assert!(m.contains("twice"), "{m}");
    let (l, c, m) = err("cgdiff-case v1\nhierarchy h1 cpusett\n");
    assert_eq!((l, c), (2, 14));
    assert!(m.contains("unknown controller \"cpusett\""), "{m}");
    let (l, _, m) = err("cgdiff-case v1\nhierarchy h1 cpu\nhierarchy h2 cpu\n");
    assert_eq!(l, 3);
    assert!(m.contains("more than one"), "{m}");
    let (l, _, m) = err(&format!("{h}fork 1 2\nfork 1 2\n"));
    assert_eq!(l, 4);
    assert!(m.contains("already"), "{m}");
    let (l, _, m) = err(&format!("{h}mkdir h3:/a\n"));
    assert_eq!(l, 3);
    assert!(m.contains("h3"), "{m}");
    let (l, c, m) = err(&format!("{h}migrate-task 2\n"));
    assert_eq!((l, c), (3, 15));
    assert!(m.contains("missing"), "{m}");
    let (l, _, m) = err(&format!(
        "{h}migrate-task 2 h1:/ fail-can-attach=freezer:1:EINVAL\n"
    ));
    assert_eq!(l, 3);
    assert!(m.contains("no can_attach"), "{m}");
}

#[test]
fn never_panics_on_junk() {
    let mut buf = Vec::new();
    for seed in 0..3000u64 {
        gen::seeded_bytes(seed, 200, &mut buf);
        // Mutate a valid case's text byte-wise and make sure parsing only ever errs.
        let case = gen::from_bytes(&buf, 8);
        let mut text = print(&case).into_bytes();
        if !text.is_empty() {
            let i = buf[0] as usize % text.len();
            text[i] = buf[1];
            let j = buf[2] as usize % text.len();
            text.truncate(j.max(1));
        }
        let _ = parse(&String::from_utf8_lossy(&text));
    }
}
