//! Case format v2 (and v1): round trips, canonical printing, and errors with exact line and column.

use cgdiff_engine::format::{parse, print, print_file, CaseFile, Expect, ParseError};
use cgdiff_engine::models::Pair;
use cgdiff_engine::{
    gen, CanAttachFault, Case, CaseOp, CgPath, Controller, Errno, ExitAt, FaultPlan,
    HierarchySetup, Op, OpKind, Pid, Setup, StagePoint, Target, MAX_DEPTH, MAX_FAULT_INDEX,
    MAX_MOUNTED, MAX_OPS, MAX_PID, MAX_TARGETS,
};
use std::collections::HashSet;

// ---------------------------------------------------------------------------------------------
// Helpers

fn path(hier: u8, parts: &[&str]) -> CgPath {
    CgPath {
        hier,
        parts: parts.iter().map(|s| s.to_string()).collect(),
    }
}

fn plain(op: Op) -> CaseOp {
    CaseOp {
        op,
        faults: FaultPlan::default(),
    }
}

fn faulty(op: Op, alloc: Option<u32>, ca: Option<(Controller, u32, Errno)>) -> CaseOp {
    CaseOp {
        op,
        faults: FaultPlan {
            alloc,
            can_attach: ca.map(|(controller, nth, errno)| CanAttachFault {
                controller,
                nth,
                errno,
            }),
            exit: None,
        },
    }
}

fn hier(controllers: &[Controller], notify: bool) -> HierarchySetup {
    HierarchySetup {
        controllers: controllers.to_vec(),
        notify_on_release: notify,
    }
}

/// Both round-trip properties: the case comes back, and printing is a fixed point.
fn assert_round_trip(case: &Case) {
    case.validate().expect("the test built an invalid case");
    let text = print(case);
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&back.case, case, "{text}");
    assert_eq!(back.expect, None);
    assert_eq!(print(&back.case), text);
}

fn err(text: &str) -> (usize, usize, String) {
    let e = parse(text).expect_err(text);
    (e.line, e.column, e.message)
}

/// Asserts an error's position and that its message contains `needle`.
#[track_caller]
fn assert_err(text: &str, line: usize, column: usize, needle: &str) {
    let (l, c, m) = err(text);
    assert_eq!((l, c), (line, column), "{m}\n--- input:\n{text}");
    assert!(m.contains(needle), "{m:?} lacks {needle:?}");
}

/// Header and one hierarchy: operations start on line 3.
const H: &str = "cgdiff-case v1\nhierarchy h1 cpu\n";

// ---------------------------------------------------------------------------------------------
// Round trips of hand-built cases

fn every_op_case() -> Case {
    use Controller::*;
    Case {
        setup: Setup {
            hierarchies: vec![
                hier(&[Memory, Cpuset], true),
                hier(&[], false),
                hier(&[Blkio], true),
            ],
        },
        ops: vec![
            plain(Op::Fork {
                parent: 1,
                child: 2,
                thread: false,
            }),
            plain(Op::Fork {
                parent: 2,
                child: 3,
                thread: true,
            }),
            plain(Op::Mkdir {
                path: path(1, &["a"]),
            }),
            plain(Op::Mkdir {
                path: path(1, &["a", "b-c.d_e", "F9", "x"]),
            }),
            plain(Op::Rmdir {
                path: path(3, &["..."]),
            }),
            plain(Op::AddController {
                controller: Freezer,
                hier: 2,
            }),
            plain(Op::AddController {
                controller: Cpu,
                hier: 0,
            }),
            faulty(
                Op::MigrateTask {
                    pid: 2,
                    dst: path(1, &["a"]),
                },
                Some(2),
                Some((Cpuset, 1, Errno::EINVAL)),
            ),
            faulty(
                Op::MigrateProcess {
                    pid: 3,
                    dst: path(0, &[]),
                },
                Some(1),
                None,
            ),
            faulty(
                Op::MigrateMulti {
                    dst: path(2, &[]),
                    targets: vec![
                        Target {
                            pid: 2,
                            process: false,
                        },
                        Target {
                            pid: 3,
                            process: true,
                        },
                        Target {
                            pid: MAX_PID,
                            process: false,
                        },
                    ],
                },
                None,
                Some((Memory, 3, Errno::ENOSPC)),
            ),
            faulty(
                Op::TransferTasks {
                    from: path(1, &["a"]),
                    to: path(1, &[]),
                },
                Some(MAX_FAULT_INDEX),
                Some((Blkio, MAX_FAULT_INDEX, Errno::EAGAIN)),
            ),
            faulty(
                Op::AttachTaskAll { from: 1, pid: 4096 },
                None,
                Some((Cpu, 2, Errno::EBUSY)),
            ),
            plain(Op::ExitBegin { pid: 3 }),
            plain(Op::ExitFinish { pid: 3 }),
        ],
    }
}

#[test]
fn every_op_kind_round_trips() {
    let case = every_op_case();
    let kinds: HashSet<OpKind> = case.ops.iter().map(|c| c.op.kind()).collect();
    assert_eq!(kinds.len(), OpKind::ALL.len(), "the case misses an op kind");
    assert_round_trip(&case);
}

#[test]
fn canonical_text_of_every_op() {
    let expected = "\
cgdiff-case v1
hierarchy h1 memory,cpuset notify
hierarchy h2 -
hierarchy h3 blkio notify
fork 1 2
thread 2 3
mkdir h1:/a
mkdir h1:/a/b-c.d_e/F9/x
rmdir h3:/...
add-controller freezer h2
add-controller cpu h0
migrate-task 2 h1:/a fail-alloc=2 fail-can-attach=cpuset:1:EINVAL
migrate-process 3 h0:/ fail-alloc=1
migrate-multi h2:/ 2 p:3 4096 fail-can-attach=memory:3:ENOSPC
transfer-tasks h1:/a h1:/ fail-alloc=65535 fail-can-attach=blkio:65535:EAGAIN
attach-task-all 1 4096 fail-can-attach=cpu:2:EBUSY
exit-begin 3
exit-finish 3
";
    assert_eq!(print(&every_op_case()), expected);
}

#[test]
fn every_fault_kind_round_trips() {
    let mut ops = Vec::new();
    let mut child = 2;
    for c in Controller::ALL.into_iter().filter(|c| c.has_can_attach()) {
        for e in Errno::ALL {
            for (alloc, nth) in [(None, 1), (Some(1), 2), (Some(77), 1000)] {
                ops.push(faulty(
                    Op::MigrateTask {
                        pid: child,
                        dst: path(1, &[]),
                    },
                    alloc,
                    Some((c, nth, e)),
                ));
                child += 1;
            }
        }
    }
    ops.push(faulty(
        Op::Fork {
            parent: 1,
            child: 2,
            thread: false,
        },
        Some(3),
        None,
    ));
    let case = Case {
        setup: Setup::default(),
        ops,
    };
    assert_round_trip(&case);
}

#[test]
fn setups_round_trip() {
    use Controller::*;
    let setups = [
        vec![hier(&[], false)],
        vec![hier(&[], true)],
        vec![hier(&Controller::ALL, false)],
        vec![hier(&[Blkio, Cpuset], false), hier(&[Cpu], true)],
        vec![hier(&[], true), hier(&[], true), hier(&[Freezer], false)],
    ];
    for hierarchies in setups {
        assert_round_trip(&Case {
            setup: Setup { hierarchies },
            ops: vec![],
        });
    }
}

#[test]
fn expect_round_trips() {
    for expect in [
        None,
        Some(Expect::Agree),
        Some(Expect::Diverge(
            "transfer-tasks/placement+inventory/alloc/diff".into(),
        )),
    ] {
        let file = CaseFile {
            case: every_op_case(),
            expect,
            designs: None,
        };
        let text = print_file(&file);
        assert_eq!(parse(&text).unwrap(), file);
    }
    let text = print_file(&CaseFile {
        case: Case::default(),
        expect: Some(Expect::Diverge("x/y".into())),
        designs: None,
    });
    assert_eq!(text, "cgdiff-case v1\nexpect diverge x/y\nhierarchy h1 -\n");
}

/// v2: the `designs` line and `exit-after=` round-trip; a case without them prints as v1,
/// the default pair prints no `designs` line; v1 files may use neither.
#[test]
fn v2_designs_and_exits_round_trip_and_v1_refuses_them() {
    let text = "cgdiff-case v2\nexpect agree\ndesigns v3.16,v5.19\nhierarchy h1 -\nfork 1 2\n\
                exit-begin 2\nmigrate-task 2 h1:/ fail-alloc=1 exit-after=prepare_dst:2\n";
    let file = parse(text).unwrap();
    assert_eq!(file.designs.map(|p| p.names()), Some(["v3.16", "v5.19"]));
    let exit = file.case.ops[2].faults.exit.unwrap();
    assert_eq!((exit.after, exit.pid), (StagePoint::PrepareDst, 2));
    assert_eq!(print_file(&file), text);
    // Nothing of v2 left: printed as v1.
    let mut plain = file.clone();
    plain.designs = Some(Pair::DEFAULT);
    plain.case.ops[2].faults.exit = None;
    assert!(print_file(&plain).starts_with("cgdiff-case v1\nexpect agree\nhierarchy h1 -\n"));
    // Each v2 feature alone makes a v2 file.
    let mut only_exit = file.clone();
    only_exit.designs = None;
    assert!(print_file(&only_exit).starts_with("cgdiff-case v2\n"));
    assert_eq!(parse(&print_file(&only_exit)).unwrap(), only_exit);
    let v1 = text.replace("cgdiff-case v2", "cgdiff-case v1");
    let e = parse(&v1).unwrap_err();
    assert_eq!((e.line, e.column), (3, 1), "{e}");
    assert!(e.message.contains("needs `cgdiff-case v2`"), "{e}");
    let v1_exit = "cgdiff-case v1\nhierarchy h1 -\nmigrate-task 1 h1:/ exit-after=add_src:1\n";
    let e = parse(v1_exit).unwrap_err();
    assert_eq!((e.line, e.column), (3, 21), "{e}");
    for (bad, col, what) in [
        ("designs legacy", 9, "two design names"),
        ("designs legacy,nope", 9, "unknown design `nope`"),
        ("designs legacy,legacy", 9, "two different designs"),
    ] {
        let e = parse(&format!("cgdiff-case v2\n{bad}\nhierarchy h1 -\n")).unwrap_err();
        assert_eq!((e.line, e.column), (2, col), "{e}");
        assert!(e.message.contains(what), "{e}");
    }
    let e = parse("cgdiff-case v2\nhierarchy h1 -\nmigrate-task 1 h1:/ exit-after=finish:1\n")
        .unwrap_err();
    assert!(e.message.contains("unknown stage \"finish\""), "{e}");
    let e = parse("cgdiff-case v3\nhierarchy h1 -\n").unwrap_err();
    assert!(e.message.contains("reads v1 to v2"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Lenient input, canonical output

#[test]
fn messy_input_prints_canonically() {
    let messy = "  # leading comment\n\
                 cgdiff-case   v1\t# tab before a comment\n\
                 \n\
                 expect   diverge   transfer-tasks/placement/alloc/diff\n\
                 hierarchy\th1   memory,cpuset     notify\n\
                 hierarchy h2 -   # none\n\
                 \t\tfork 1 0002\n\
                 migrate-multi h1:/a   p:2 1 fail-can-attach=memory:3:ENOSPC   fail-alloc=07\n\
                 # trailing comment, no newline at the end";
    let canonical = "cgdiff-case v1\n\
                     expect diverge transfer-tasks/placement/alloc/diff\n\
                     hierarchy h1 memory,cpuset notify\n\
                     hierarchy h2 -\n\
                     fork 1 2\n\
                     migrate-multi h1:/a p:2 1 fail-alloc=7 fail-can-attach=memory:3:ENOSPC\n";
    let file = parse(messy).unwrap();
    assert_eq!(print_file(&file), canonical);
    let once = print(&file.case);
    assert_eq!(print(&parse(&once).unwrap().case), once);
}

#[test]
fn crlf_and_comments_everywhere() {
    let text = "# a comment\r\n\r\n   # indented comment\r\ncgdiff-case v1   # trailing\r\n\
                # between\r\nexpect diverge migrate-task/result/alloc/diff#glued\r\n\
                hierarchy h1 cpuset,memory notify # c\r\n\thierarchy h2 - #\r\nfork 1 2#x\r\n\
                thread 2 3 # a thread\r\n# between ops\r\n\
                migrate-multi h1:/ 2 p:3 fail-alloc=2 fail-can-attach=cpuset:1:EINVAL # faults\r\n\
                # last\r\n";
    let f = parse(text).unwrap();
    assert_eq!(
        f.expect,
        Some(Expect::Diverge("migrate-task/result/alloc/diff".into()))
    );
    assert_eq!(f.case.setup.hierarchies.len(), 2);
    assert!(f.case.setup.hierarchies[0].notify_on_release);
    assert!(!f.case.setup.hierarchies[1].notify_on_release);
    assert_eq!(f.case.ops.len(), 3);
    assert_eq!(parse(&print_file(&f)).unwrap(), f);
    // The same without CRs parses to the same thing.
    assert_eq!(parse(&text.replace("\r\n", "\n")).unwrap(), f);
}

#[test]
fn byte_order_mark_and_unicode_whitespace() {
    let f = parse("\u{feff}cgdiff-case v1\nhierarchy\u{3000}h1 -\n").unwrap();
    assert_eq!(f.case, Case::default());
}

// ---------------------------------------------------------------------------------------------
// Errors: line, column, message

#[test]
fn error_display_and_error_trait() {
    let e = parse(&format!("{H}fork 1 x\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3, column 8: expected the child pid (a number 1..=4096), got \"x\""
    );
    let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
    assert_eq!(boxed.to_string(), e.to_string());
    let _: &ParseError = &e;
}

#[test]
fn error_missing_or_bad_header() {
    assert_err("", 1, 1, "no header (expected `cgdiff-case v1`");
    assert_err("# only\n\n# comments\n", 3, 1, "no header");
    assert_err("fork 1 2\n", 1, 1, "expected the header `cgdiff-case v1`");
    assert_err("# c\n\n  fork 1 2\n", 3, 3, "got \"fork\"");
    assert_err(
        "hierarchy h1 -\ncgdiff-case v1\n",
        1,
        1,
        "expected the header",
    );
    assert_err("cgdiff-case\n", 1, 12, "missing format version");
    assert_err(
        "cgdiff-case 1\n",
        1,
        13,
        "expected a format version like v1",
    );
    assert_err("cgdiff-case v1 extra\n", 1, 16, "unexpected \"extra\"");
    assert_err(&format!("{H}cgdiff-case v1\n"), 3, 1, "second header");
}

#[test]
fn error_unsupported_version() {
    let (l, c, m) = err("cgdiff-case v3\n");
    assert_eq!((l, c), (1, 13));
    assert_eq!(
        m,
        "unsupported case format version 3 (this cgdiff reads v1 to v2)"
    );
    assert_err("# x\n  cgdiff-case v3\n", 2, 15, "version 3 ");
    assert_err("cgdiff-case v0\n", 1, 13, "version 0 ");
    assert_err(
        "cgdiff-case v99999999999999999999999\n",
        1,
        13,
        "version 99999999999999999999999 (this cgdiff reads v1 to v2)",
    );
}

#[test]
fn error_unknown_operation() {
    let (l, c, m) = err(&format!("{H}frok 1 2\n"));
    assert_eq!((l, c), (3, 1));
    assert!(m.starts_with("unknown operation \"frok\" (expected one of fork, thread, exit-begin,"));
    assert!(m.contains("attach-task-all)"), "{m}");
    assert_err(
        &format!("{H}  Fork 1 2\n"),
        3,
        3,
        "unknown operation \"Fork\"",
    );
}

#[test]
fn error_bad_pid() {
    assert_err(&format!("{H}fork 1 x\n"), 3, 8, "expected the child pid");
    assert_err(&format!("{H}fork y 2\n"), 3, 6, "expected the parent pid");
    assert_err(&format!("{H}exit-finish +5\n"), 3, 13, "got \"+5\"");
    assert_err(&format!("{H}exit-begin -1\n"), 3, 12, "got \"-1\"");
    assert_err(
        &format!("{H}exit-begin 4097\n"),
        3,
        12,
        "pid 4097 is out of range (expected 1..=4096)",
    );
    assert_err(
        &format!("{H}exit-begin 0\n"),
        3,
        12,
        "pid 0 is out of range",
    );
    assert_err(
        &format!("{H}migrate-task 99999999999999999999999999 h1:/\n"),
        3,
        14,
        "pid 99999999999999999999999999 is out of range",
    );
    assert_err(&format!("{H}attach-task-all 1 z\n"), 3, 19, "the TASK pid");
    assert_err(&format!("{H}migrate-multi h1:/ 2 p:x\n"), 3, 22, "a target");
    assert_err(
        &format!("{H}migrate-multi h1:/ 2 q:3\n"),
        3,
        22,
        "got \"q:3\"",
    );
}

#[test]
fn error_fork_reuses_a_pid() {
    let text = format!("{H}fork 1 2\nthread 2 3\nfork 3 2\n");
    let (l, c, m) = err(&text);
    assert_eq!((l, c), (5, 8));
    assert_eq!(
        m,
        "fork names pid 2, which already exists: the fork on line 3 created it \
         (expected a new pid; pids are never reused)"
    );
    assert_err(
        &format!("{H}thread 1 1\n"),
        3,
        10,
        "it exists from the start",
    );
    // Exiting does not free a pid.
    assert_err(
        &format!("{H}fork 1 2\nexit-begin 2\nexit-finish 2\nfork 1 2\n"),
        6,
        8,
        "line 3",
    );
}

#[test]
fn error_bad_path() {
    assert_err(&format!("{H}mkdir h1:a\n"), 3, 7, "expected / after h1:");
    assert_err(
        &format!("{H}mkdir /a\n"),
        3,
        7,
        "expected a cgroup path hN:/PATH",
    );
    assert_err(
        &format!("{H}mkdir h1:/a//b\n"),
        3,
        7,
        "bad path component \"\"",
    );
    assert_err(&format!("{H}mkdir h1:/a/\n"), 3, 7, "no trailing slash");
    assert_err(
        &format!("{H}mkdir h1:/a/b$c\n"),
        3,
        7,
        "bad path component \"b$c\" in \"h1:/a/b$c\" (expected [A-Za-z0-9_.-]+",
    );
    assert_err(
        &format!("{H}mkdir x1:/a\n"),
        3,
        7,
        "expected a hierarchy (one of h0, h1)",
    );
    assert_err(
        &format!("{H}mkdir h1:/a/b/c/d/e\n"),
        3,
        7,
        "path \"h1:/a/b/c/d/e\" is deeper than 4 levels",
    );
    // Columns count characters, not bytes; U+3000 is whitespace; a tab is one column.
    assert_err(&format!("{H}mkdir\u{3000}h1:/ä\n"), 3, 7, "\"ä\"");
    assert_err(&format!("{H}\tmkdir\th1:/a/\n"), 3, 8, "\"\"");
    assert_err(
        &format!("{H}transfer-tasks h1:/a\n"),
        3,
        21,
        "missing the TO cgroup path",
    );
}

#[test]
fn error_unknown_hierarchy() {
    let (l, c, m) = err(&format!("{H}mkdir h5:/a\n"));
    assert_eq!((l, c), (3, 7));
    assert!(
        m.starts_with("unknown hierarchy h5 (expected one of h0, h1:"),
        "{m}"
    );
    assert_err(
        &format!("{H}migrate-task 1 h2:/\n"),
        3,
        16,
        "unknown hierarchy h2",
    );
    assert_err(
        &format!("{H}add-controller memory h5\n"),
        3,
        23,
        "unknown hierarchy h5",
    );
    assert_err(
        &format!("{H}add-controller memory 1\n"),
        3,
        23,
        "expected a hierarchy",
    );
    assert_err(
        &format!("{H}hierarchy h5 -\n"),
        3,
        11,
        "expected h2, got \"h5\" (hierarchies are declared in order h1, h2, h3)",
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1 -\nhierarchy h2 -\nhierarchy h3 -\nhierarchy h4 -\n",
        5,
        11,
        "too many hierarchies (at most 3",
    );
}

#[test]
fn error_controllers() {
    let (l, c, m) = err("cgdiff-case v1\nhierarchy h1 cpu,cpusett\n");
    assert_eq!((l, c), (2, 14));
    assert_eq!(
        m,
        "unknown controller \"cpusett\" (expected one of cpuset, cpu, cpuacct, memory, freezer, blkio)"
    );
    let (l, c, m) = err("cgdiff-case v1\nhierarchy h1 cpu,memory\nhierarchy h2 freezer,cpu\n");
    assert_eq!((l, c), (3, 14));
    assert!(
        m.starts_with("controller cpu is already bound to h1"),
        "{m}"
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1 cpu,cpu\n",
        2,
        14,
        "already bound to h1",
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1 cpu,\n",
        2,
        14,
        "unknown controller \"\"",
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1\n",
        2,
        13,
        "missing controller list",
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1 cpu notif\n",
        2,
        18,
        "expected `notify`",
    );
    assert_err(
        "cgdiff-case v1\nhierarchy h1 - notify x\n",
        2,
        23,
        "unexpected \"x\"",
    );
    assert_err(
        &format!("{H}add-controller cpuset h1 x\n"),
        3,
        26,
        "unexpected \"x\"",
    );
    assert_err(
        &format!("{H}add-controller cgroup h1\n"),
        3,
        16,
        "unknown controller",
    );
}

/// Every bound of the format is refused past it, naming the limit; a long bad word is quoted
/// cut short.
#[test]
fn error_past_each_bound() {
    assert_err(
        &format!("{H}migrate-task 1 h1:/ fail-alloc=65536\n"),
        3,
        21,
        "allocation index 65536 is past the largest fault index 65535",
    );
    assert_err(
        &format!("{H}migrate-task 1 h1:/ fail-can-attach=cpu:4294967295:EINVAL\n"),
        3,
        21,
        "call index 4294967295 is past the largest fault index 65535",
    );
    assert_err(
        &format!("{H}fork 1 4097\n"),
        3,
        8,
        "pid 4097 is out of range (expected 1..=4096)",
    );
    let targets: String = (0..=MAX_TARGETS)
        .map(|i| format!(" {}", 1 + i % 9))
        .collect();
    let (line, _, m) = err(&format!("{H}migrate-multi h1:/{targets}\n"));
    assert_eq!(line, 3);
    assert!(m.contains("more than 256 targets"), "{m}");
    let ops = "fork 1 2\n".to_string() + &"exit-begin 2\n".repeat(MAX_OPS);
    let (line, col, m) = err(&format!("{H}{ops}"));
    assert_eq!((line, col), (3 + MAX_OPS, 1));
    assert!(m.contains("more than 2000 operations"), "{m}");
    let long = format!("{H}fork 1 2{}\n", " ".repeat(5000));
    assert_err(
        &long,
        3,
        1,
        "the line is 5008 bytes long, more than the 4096",
    );
    let (line, _, m) = err(&"# padding\n".repeat(120_000));
    assert_eq!(line, 1);
    assert!(m.contains("more than the 1048576 (1 MiB)"), "{m}");
    // A 4,000-digit pid is quoted by its start and its length.
    let digits = "7".repeat(4000);
    let (_, _, m) = err(&format!("{H}fork 1 {digits}\n"));
    assert!(m.len() < 200, "{m}");
    assert!(m.contains("(4000 bytes)"), "{m}");
    let (_, _, m) = err(&format!("{H}{}\n", "x".repeat(4000)));
    assert!(m.len() < 400 && m.contains("(4000 bytes)"), "{m}");
}

#[test]
fn invalid_utf8_is_reported_at_its_line_with_its_byte_offset() {
    let bytes = b"cgdiff-case v1\nhierarchy h1 -\n# caf\xc3\xa9\nfork 1 \xff2\n";
    let e = cgdiff_engine::format::parse_bytes(bytes).unwrap_err();
    assert_eq!((e.line, e.column), (4, 8), "{e}");
    assert_eq!(
        e.message,
        "invalid UTF-8 at byte offset 45 of the file (byte 8 of the line): a case file is UTF-8 text"
    );
}

#[test]
fn error_bad_fault_token() {
    // migrate-task 2 h1:/ occupies columns 1..=19; the first fault token starts at 21.
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fial-alloc=1\n"),
        3,
        21,
        "unexpected \"fial-alloc=1\" (expected a fault token fail-alloc=N, \
         fail-can-attach=CONTROLLER:K:ERRNO or exit-after=POINT:PID, or the end of the line)",
    );
    assert_err(&format!("{H}fork 1 2 3\n"), 3, 10, "unexpected \"3\"");
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-alloc=0\n"),
        3,
        21,
        "expected an allocation index after fail-alloc= (a number 1..=65535), got \"0\"",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-alloc=\n"),
        3,
        21,
        "got \"\"",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-alloc=4294967296\n"),
        3,
        21,
        "allocation index",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-can-attach=cpuset:1\n"),
        3,
        21,
        "expected fail-can-attach=CONTROLLER:K:ERRNO",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-can-attach=freezer:1:EINVAL\n"),
        3,
        21,
        "freezer has no can_attach callback to fail (expected one of cpuset, cpu, memory, blkio)",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-can-attach=cpuset:0:EINVAL\n"),
        3,
        21,
        "expected a call index",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-can-attach=cpuset:1:EWHAT\n"),
        3,
        21,
        "unknown errno \"EWHAT\" (expected one of ENOMEM, EBUSY,",
    );
    assert_err(
        &format!("{H}migrate-task 2 h1:/ fail-can-attach=cpuseet:1:EINVAL\n"),
        3,
        21,
        "unknown controller \"cpuseet\"",
    );
}

#[test]
fn error_duplicate_fault_token() {
    assert_err(
        &format!("{H}migrate-task 1 h1:/ fail-alloc=1 fail-alloc=2\n"),
        3,
        34,
        "fail-alloc given twice (each fault token may appear once per operation)",
    );
    assert_err(
        &format!(
            "{H}migrate-task 1 h1:/ fail-can-attach=cpu:1:EBUSY fail-alloc=3 fail-can-attach=cpu:2:EBUSY\n"
        ),
        3,
        62,
        "fail-can-attach given twice",
    );
}

#[test]
fn error_missing_arguments() {
    assert_err(
        &format!("{H}migrate-task 2\n"),
        3,
        15,
        "missing a destination cgroup path",
    );
    assert_err(
        &format!("{H}migrate-task 2   # c\n"),
        3,
        15,
        "missing a destination",
    );
    assert_err(&format!("{H}fork\n"), 3, 5, "missing the parent pid");
    assert_err(
        &format!("{H}migrate-multi h1:/\n"),
        3,
        19,
        "missing a target",
    );
    assert_err(
        &format!("{H}migrate-multi h1:/ fail-alloc=1\n"),
        3,
        20,
        "migrate-multi needs at least one",
    );
}

#[test]
fn error_line_order() {
    assert_err(
        "cgdiff-case v1\nfork 1 2\n",
        2,
        1,
        "operation before any hierarchy line",
    );
    assert_err("cgdiff-case v1\n", 1, 1, "no hierarchy declared");
    assert_err("cgdiff-case v1\n# c\n\n", 3, 1, "no hierarchy declared");
    assert_err(
        &format!("{H}fork 1 2\nhierarchy h2 -\n"),
        4,
        1,
        "before the operations",
    );
    assert_err(
        &format!("{H}expect agree\n"),
        3,
        1,
        "before the hierarchy lines",
    );
    assert_err(
        "cgdiff-case v1\nexpect agree\nexpect agree\n",
        3,
        1,
        "a second `expect` line",
    );
    assert_err(
        "cgdiff-case v1\nexpect maybe\n",
        2,
        8,
        "expected `agree` or `diverge SIGNATURE`",
    );
    assert_err(
        "cgdiff-case v1\nexpect diverge\n",
        2,
        15,
        "missing signature",
    );
    assert_err(
        "cgdiff-case v1\nexpect diverge a b\n",
        2,
        18,
        "unexpected \"b\"",
    );
    assert_err(
        "cgdiff-case v1\nexpect agree now\n",
        2,
        14,
        "unexpected \"now\"",
    );
}

// ---------------------------------------------------------------------------------------------
// Pseudo-random cases (a tiny xorshift; independent of the engine's generator)

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

fn random_pid(r: &mut Rng) -> Pid {
    if r.chance(80) {
        1 + r.below(12) as Pid
    } else {
        1 + r.below(MAX_PID as usize) as Pid
    }
}

fn random_path(r: &mut Rng, n: usize) -> CgPath {
    const CHARS: &[u8] = b"abcxyzABZ0189_.-";
    let depth = r.below(MAX_DEPTH + 1);
    let parts = (0..depth)
        .map(|_| {
            let max = if r.chance(80) { 2 } else { 12 };
            let len = 1 + r.below(max);
            (0..len).map(|_| r.pick(CHARS) as char).collect()
        })
        .collect();
    CgPath {
        hier: r.below(n + 1) as u8,
        parts,
    }
}

fn random_setup(r: &mut Rng) -> Setup {
    let n = 1 + r.below(MAX_MOUNTED);
    let mut hierarchies = vec![HierarchySetup::default(); n];
    let mut order = Controller::ALL;
    for i in (1..order.len()).rev() {
        order.swap(i, r.below(i + 1));
    }
    for c in order {
        let h = r.below(n + 1);
        if h > 0 {
            hierarchies[h - 1].controllers.push(c);
        }
    }
    for h in &mut hierarchies {
        h.notify_on_release = r.chance(50);
    }
    Setup { hierarchies }
}

fn random_faults(r: &mut Rng) -> FaultPlan {
    let index = |r: &mut Rng| {
        if r.chance(90) {
            1 + r.below(8) as u32
        } else {
            1 + (r.next() % u64::from(MAX_FAULT_INDEX)) as u32
        }
    };
    let able: Vec<Controller> = Controller::ALL
        .into_iter()
        .filter(|c| c.has_can_attach())
        .collect();
    let alloc = r.chance(40).then(|| index(r));
    let can_attach = r.chance(40).then(|| CanAttachFault {
        controller: r.pick(&able),
        nth: index(r),
        errno: r.pick(&Errno::ALL),
    });
    let exit = r.chance(10).then(|| ExitAt {
        after: StagePoint::ALL[r.below(3)],
        pid: 1 + r.below(8) as u32,
    });
    FaultPlan {
        alloc,
        can_attach,
        exit,
    }
}

/// Any valid case: references need not exist (the models answer those with errors), but pids
/// are in range, forks name fresh pids and paths name declared hierarchies.
fn random_case(r: &mut Rng) -> Case {
    let setup = random_setup(r);
    let n = setup.hierarchies.len();
    let mut used: HashSet<Pid> = HashSet::from([1]);
    let mut ops = Vec::new();
    for _ in 0..r.below(40) {
        let Some(op) = random_op(r, n, &mut used) else {
            continue;
        };
        let faults = if r.chance(50) {
            random_faults(r)
        } else {
            FaultPlan::default()
        };
        ops.push(CaseOp { op, faults });
    }
    Case { setup, ops }
}

fn random_op(r: &mut Rng, n: usize, used: &mut HashSet<Pid>) -> Option<Op> {
    Some(match r.pick(&OpKind::ALL) {
        k @ (OpKind::Fork | OpKind::Thread) => {
            let child = (0..8).map(|_| random_pid(r)).find(|p| !used.contains(p))?;
            used.insert(child);
            Op::Fork {
                parent: random_pid(r),
                child,
                thread: k == OpKind::Thread,
            }
        }
        OpKind::ExitBegin => Op::ExitBegin { pid: random_pid(r) },
        OpKind::ExitFinish => Op::ExitFinish { pid: random_pid(r) },
        OpKind::Mkdir => Op::Mkdir {
            path: random_path(r, n),
        },
        OpKind::Rmdir => Op::Rmdir {
            path: random_path(r, n),
        },
        OpKind::AddController => Op::AddController {
            controller: r.pick(&Controller::ALL),
            hier: r.below(n + 1) as u8,
        },
        OpKind::MigrateTask => Op::MigrateTask {
            pid: random_pid(r),
            dst: random_path(r, n),
        },
        OpKind::MigrateProcess => Op::MigrateProcess {
            pid: random_pid(r),
            dst: random_path(r, n),
        },
        OpKind::MigrateMulti => Op::MigrateMulti {
            dst: random_path(r, n),
            targets: (0..1 + r.below(6))
                .map(|_| Target {
                    pid: random_pid(r),
                    process: r.chance(50),
                })
                .collect(),
        },
        OpKind::TransferTasks => Op::TransferTasks {
            from: random_path(r, n),
            to: random_path(r, n),
        },
        OpKind::AttachTaskAll => Op::AttachTaskAll {
            from: random_pid(r),
            pid: random_pid(r),
        },
    })
}

#[test]
fn xorshift_cases_round_trip() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut kinds = HashSet::new();
    for _ in 0..3000 {
        let case = random_case(&mut r);
        kinds.extend(case.ops.iter().map(|c| c.op.kind()));
        assert_round_trip(&case);
        let expect = match r.below(3) {
            0 => None,
            1 => Some(Expect::Agree),
            _ => Some(Expect::Diverge(format!("sig/{}", r.next()))),
        };
        let designs = match r.below(4) {
            0 => Some(Pair::parse("v3.16,v5.19").unwrap()),
            1 => Some(Pair::DEFAULT),
            _ => None,
        };
        let file = CaseFile {
            case,
            expect,
            designs,
        };
        // The default pair is what no `designs` line means: it reads back as none.
        let back = CaseFile {
            designs: designs.filter(|p| !p.is_default()),
            ..file.clone()
        };
        assert_eq!(parse(&print_file(&file)).unwrap(), back);
    }
    assert_eq!(kinds.len(), OpKind::ALL.len());
}

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

// ---------------------------------------------------------------------------------------------
// Junk never panics; whatever parses prints canonically

/// Whatever `text` is: no panic, and if it parses, printing is canonical and round-trips.
fn check_any(text: &str) {
    let Ok(file) = parse(text) else { return };
    let once = print_file(&file);
    let again = parse(&once).unwrap_or_else(|e| panic!("{e}\n{once}\n--- from:\n{text}"));
    assert_eq!(again, file);
    assert_eq!(print_file(&again), once);
}

#[test]
fn junk_words_never_panic() {
    const WORDS: &[&str] = &[
        "cgdiff-case",
        "v1",
        "v2",
        "v",
        "hierarchy",
        "h0",
        "h1",
        "h2",
        "h3",
        "h9",
        "h",
        "cpu",
        "cpuset,memory",
        ",",
        "-",
        "notify",
        "expect",
        "agree",
        "diverge",
        "fork",
        "thread",
        "exit-begin",
        "exit-finish",
        "mkdir",
        "rmdir",
        "add-controller",
        "migrate-task",
        "migrate-process",
        "migrate-multi",
        "transfer-tasks",
        "attach-task-all",
        "0",
        "1",
        "2",
        "4096",
        "4097",
        "99999999999999999999999",
        "p:",
        "p:2",
        "h1:/",
        "h1:/a",
        "h2:/a/b",
        "/",
        ":",
        "fail-alloc=",
        "fail-alloc=1",
        "fail-can-attach=",
        "fail-can-attach=cpu:1:EBUSY",
        "EINVAL",
        " ",
        " ",
        "\t",
        "\n",
        "\n",
        "\r\n",
        "\r",
        "#",
        "é",
        "\u{feff}",
        "\u{3000}",
        "\0",
        "💥",
    ];
    let mut r = Rng(42);
    for round in 0..20_000 {
        let mut text = String::new();
        if round % 2 == 0 {
            text.push_str("cgdiff-case v1\nhierarchy h1 cpu,cpuset\n");
        }
        for _ in 0..r.below(30) {
            text.push_str(r.pick(WORDS));
            if r.chance(60) {
                text.push(' ');
            }
        }
        check_any(&text);
    }
}

#[test]
fn mutated_cases_never_panic() {
    let mut r = Rng(7);
    for _ in 0..3000 {
        let text = print(&random_case(&mut r));
        let mut lines: Vec<&str> = text.lines().collect();
        // Line-level edits: drop, duplicate or swap lines.
        for _ in 0..1 + r.below(3) {
            let i = r.below(lines.len());
            match r.below(3) {
                0 => {
                    lines.remove(i);
                }
                1 => lines.insert(i, lines[i]),
                _ => {
                    let j = r.below(lines.len());
                    lines.swap(i, j);
                }
            }
            if lines.is_empty() {
                break;
            }
        }
        check_any(&lines.join("\n"));
        // Byte-level edit: one character replaced, the text cut short.
        let mut bytes = text.clone().into_bytes();
        let i = r.below(bytes.len());
        bytes[i] = r.next() as u8;
        bytes.truncate(1 + r.below(bytes.len()));
        check_any(&String::from_utf8_lossy(&bytes));
    }
}

// ---------------------------------------------------------------------------------------------
// The shipped examples and the documentation's examples parse

#[test]
fn example_files_parse() {
    let agree = parse(include_str!("../../examples/agree-basic.case")).unwrap();
    assert_eq!(agree.expect, Some(Expect::Agree));
    assert!(agree.case.ops.iter().all(|c| c.faults.is_empty()));

    let enomem = parse(include_str!("../../examples/transfer-enomem.case")).unwrap();
    assert_eq!(enomem.case.setup.hierarchies.len(), 2);
    let last = enomem.case.ops.last().unwrap();
    assert_eq!(last.op.kind(), OpKind::TransferTasks);
    assert_eq!(last.faults.alloc, Some(5));
    assert!(matches!(enomem.expect, Some(Expect::Diverge(_))));
}

#[test]
fn documentation_examples_parse() {
    let doc = include_str!("../../docs/case-format.md");
    let mut found = 0;
    for block in doc.split("```").skip(1).step_by(2) {
        let body = block.strip_prefix("text\n").unwrap_or(block);
        let first = body
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .find(|l| !l.is_empty());
        if first == Some("cgdiff-case v1") {
            parse(body).unwrap_or_else(|e| panic!("{e}\n{body}"));
            found += 1;
        }
    }
    assert!(
        found >= 3,
        "only {found} complete examples in docs/case-format.md"
    );
}
