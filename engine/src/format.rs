//! Case file format v1: text a person can write, read and diff, and that round-trips:
//! `parse(&print(&c))?.case == c`. Specified in `docs/case-format.md`.
//!
//! ```text
//! # comment
//! cgdiff-case v1
//! expect agree
//! hierarchy h1 cpuset,memory notify
//! fork 1 2
//! migrate-task 2 h1:/a fail-alloc=2 fail-can-attach=cpuset:1:EINVAL
//! ```

use crate::case::{
    CanAttachFault, Case, CaseError, CaseOp, CgPath, Controller, Errno, FaultPlan, HierarchySetup,
    Op, OpKind, Pid, Setup, Target, MAX_MOUNTED,
};
use std::fmt::Write as _;

/// The version this build reads and writes.
pub const VERSION: u32 = 1;

/// What a case file may say about the verdict it expects (regression cases use it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Agree,
    /// The exact signature of the first divergence.
    Diverge(String),
}

/// A parsed case file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFile {
    pub case: Case,
    pub expect: Option<Expect>,
}

/// Why a case file does not parse: where (1-based line and column) and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A word of a line and the column it starts at.
#[derive(Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    col: usize,
}

struct Line<'a> {
    no: usize,
    toks: Vec<Tok<'a>>,
    /// Column just past the last token, for "missing argument" errors.
    end: usize,
}

impl<'a> Line<'a> {
    fn err(&self, col: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.no,
            column: col,
            message: message.into(),
        }
    }

    fn arg(&self, i: usize, what: &str) -> Result<Tok<'a>, ParseError> {
        self.toks
            .get(i)
            .copied()
            .ok_or_else(|| self.err(self.end, format!("missing {what}")))
    }
}

fn tokenize(no: usize, raw: &str) -> Line<'_> {
    let content = raw.split('#').next().unwrap_or("");
    let mut toks = Vec::new();
    let mut start = None;
    let mut end = 1;
    // Columns count characters, 1-based.
    for (ci, (bi, ch)) in content.char_indices().enumerate() {
        if ch.is_whitespace() {
            if let Some((sb, sc)) = start.take() {
                toks.push(Tok {
                    text: &content[sb..bi],
                    col: sc,
                });
                end = ci + 1;
            }
        } else if start.is_none() {
            start = Some((bi, ci + 1));
        }
    }
    if let Some((sb, sc)) = start {
        toks.push(Tok {
            text: &content[sb..],
            col: sc,
        });
        end = content.chars().count() + 1;
    }
    Line { no, toks, end }
}

fn pid(l: &Line, t: Tok) -> Result<Pid, ParseError> {
    t.text
        .parse::<Pid>()
        .map_err(|_| l.err(t.col, format!("expected a pid, got {:?}", t.text)))
}

fn path(l: &Line, t: Tok) -> Result<CgPath, ParseError> {
    let bad = |why: &str| l.err(t.col, format!("bad cgroup path {:?}: {why}", t.text));
    let (h, rest) = t
        .text
        .split_once(':')
        .ok_or_else(|| bad("expected hN:/path"))?;
    let hier = h
        .strip_prefix('h')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|&n| n as usize <= MAX_MOUNTED)
        .ok_or_else(|| bad("hierarchy must be h0 to h3"))?;
    let rest = rest
        .strip_prefix('/')
        .ok_or_else(|| bad("the path must start with /"))?;
    let mut parts = Vec::new();
    if !rest.is_empty() {
        for p in rest.split('/') {
            let ok = !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err(bad("components are [A-Za-z0-9_.-]+"));
            }
            parts.push(p.to_string());
        }
    }
    Ok(CgPath { hier, parts })
}

fn hier_name(l: &Line, t: Tok) -> Result<u8, ParseError> {
    t.text
        .strip_prefix('h')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|&n| n as usize <= MAX_MOUNTED)
        .ok_or_else(|| {
            l.err(
                t.col,
                format!("expected a hierarchy h0..h3, got {:?}", t.text),
            )
        })
}

fn controller(l: &Line, t: Tok, text: &str) -> Result<Controller, ParseError> {
    Controller::from_name(text).ok_or_else(|| {
        l.err(
            t.col,
            format!(
                "unknown controller {text:?} (expected one of cpuset, cpu, cpuacct, memory, freezer, blkio)"
            ),
        )
    })
}

fn number(l: &Line, t: Tok, text: &str, what: &str) -> Result<u32, ParseError> {
    text.parse::<u32>()
        .map_err(|_| l.err(t.col, format!("expected {what}, got {text:?}")))
}

/// Parses the fault tokens after an operation's arguments.
fn faults(l: &Line, toks: &[Tok]) -> Result<FaultPlan, ParseError> {
    let mut f = FaultPlan::default();
    for &t in toks {
        if let Some(v) = t.text.strip_prefix("fail-alloc=") {
            if f.alloc.is_some() {
                return Err(l.err(t.col, "fail-alloc given twice"));
            }
            f.alloc = Some(number(l, t, v, "an allocation index")?);
        } else if let Some(v) = t.text.strip_prefix("fail-can-attach=") {
            if f.can_attach.is_some() {
                return Err(l.err(t.col, "fail-can-attach given twice"));
            }
            let parts: Vec<&str> = v.split(':').collect();
            let [c, k, e] = parts[..] else {
                return Err(l.err(t.col, "expected fail-can-attach=CONTROLLER:K:ERRNO"));
            };
            let errno =
                Errno::from_name(e).ok_or_else(|| l.err(t.col, format!("unknown errno {e:?}")))?;
            f.can_attach = Some(CanAttachFault {
                controller: controller(l, t, c)?,
                nth: number(l, t, k, "a call index")?,
                errno,
            });
        } else {
            return Err(l.err(
                t.col,
                format!(
                    "unexpected {:?} (expected fail-alloc=N or fail-can-attach=CONTROLLER:K:ERRNO)",
                    t.text
                ),
            ));
        }
    }
    Ok(f)
}

/// Parses one operation line; `first` is its keyword.
fn op(l: &Line, kind: OpKind) -> Result<CaseOp, ParseError> {
    let a = |i: usize, what: &str| l.arg(i, what);
    let (op, used) = match kind {
        OpKind::Fork | OpKind::Thread => (
            Op::Fork {
                parent: pid(l, a(1, "parent pid")?)?,
                child: pid(l, a(2, "child pid")?)?,
                thread: kind == OpKind::Thread,
            },
            3,
        ),
        OpKind::ExitBegin => (
            Op::ExitBegin {
                pid: pid(l, a(1, "pid")?)?,
            },
            2,
        ),
        OpKind::ExitFinish => (
            Op::ExitFinish {
                pid: pid(l, a(1, "pid")?)?,
            },
            2,
        ),
        OpKind::Mkdir => (
            Op::Mkdir {
                path: path(l, a(1, "path")?)?,
            },
            2,
        ),
        OpKind::Rmdir => (
            Op::Rmdir {
                path: path(l, a(1, "path")?)?,
            },
            2,
        ),
        OpKind::AddController => {
            let t = a(1, "controller")?;
            (
                Op::AddController {
                    controller: controller(l, t, t.text)?,
                    hier: hier_name(l, a(2, "hierarchy")?)?,
                },
                3,
            )
        }
        OpKind::MigrateTask => (
            Op::MigrateTask {
                pid: pid(l, a(1, "pid")?)?,
                dst: path(l, a(2, "destination path")?)?,
            },
            3,
        ),
        OpKind::MigrateProcess => (
            Op::MigrateProcess {
                pid: pid(l, a(1, "pid")?)?,
                dst: path(l, a(2, "destination path")?)?,
            },
            3,
        ),
        OpKind::MigrateMulti => {
            let dst = path(l, a(1, "destination path")?)?;
            let mut targets = Vec::new();
            let mut i = 2;
            while let Some(&t) = l.toks.get(i) {
                if t.text.starts_with("fail-") {
                    break;
                }
                let (process, p) = match t.text.strip_prefix("p:") {
                    Some(rest) => (
                        true,
                        Tok {
                            text: rest,
                            col: t.col + 2,
                        },
                    ),
                    None => (false, t),
                };
                targets.push(Target {
                    pid: pid(l, p)?,
                    process,
                });
                i += 1;
            }
            if targets.is_empty() {
                return Err(l.err(l.end, "missing targets (pids, p:PID for a whole process)"));
            }
            (Op::MigrateMulti { dst, targets }, i)
        }
        OpKind::TransferTasks => (
            Op::TransferTasks {
                from: path(l, a(1, "from path")?)?,
                to: path(l, a(2, "to path")?)?,
            },
            3,
        ),
        OpKind::AttachTaskAll => (
            Op::AttachTaskAll {
                from: pid(l, a(1, "from pid")?)?,
                pid: pid(l, a(2, "pid")?)?,
            },
            3,
        ),
    };
    Ok(CaseOp {
        op,
        faults: faults(l, &l.toks[used.min(l.toks.len())..])?,
    })
}

/// Parses a case file. Never panics; errors say where and what.
pub fn parse(text: &str) -> Result<CaseFile, ParseError> {
    let mut header = false;
    let mut expect = None;
    let mut hierarchies: Vec<HierarchySetup> = Vec::new();
    let mut hier_lines = Vec::new();
    let mut ops = Vec::new();
    let mut op_lines = Vec::new();
    let mut last_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let l = tokenize(i + 1, raw.strip_suffix('\r').unwrap_or(raw));
        last_line = i + 1;
        let Some(&first) = l.toks.first() else {
            continue;
        };
        if !header {
            let version = (first.text == "cgdiff-case")
                .then(|| l.toks.get(1))
                .flatten()
                .and_then(|t| t.text.strip_prefix('v'))
                .and_then(|v| v.parse::<u32>().ok());
            match version {
                Some(VERSION) if l.toks.len() == 2 => header = true,
                Some(v) if l.toks.len() == 2 => {
                    return Err(l.err(
                        l.toks[1].col,
                        format!(
                            "unsupported case format version {v} (this cgdiff reads v{VERSION})"
                        ),
                    ))
                }
                _ => {
                    return Err(l.err(
                        first.col,
                        "expected the header `cgdiff-case v1` before anything else",
                    ))
                }
            }
            continue;
        }
        match first.text {
            "expect" => {
                if expect.is_some() || !hierarchies.is_empty() || !ops.is_empty() {
                    return Err(l.err(
                        first.col,
                        "`expect` may appear once, right after the header",
                    ));
                }
                let what = l.arg(1, "`agree` or `diverge SIGNATURE`")?;
                expect = Some(match what.text {
                    "agree" if l.toks.len() == 2 => Expect::Agree,
                    "diverge" if l.toks.len() == 3 => Expect::Diverge(l.toks[2].text.to_string()),
                    _ => {
                        return Err(l.err(
                            what.col,
                            "expected `expect agree` or `expect diverge SIGNATURE`",
                        ))
                    }
                });
            }
            "hierarchy" => {
                if !ops.is_empty() {
                    return Err(l.err(first.col, "hierarchies must come before operations"));
                }
                let name = l.arg(1, "hierarchy name")?;
                let want = format!("h{}", hierarchies.len() + 1);
                if name.text != want {
                    return Err(l.err(
                        name.col,
                        format!("expected {want} (hierarchies are declared h1, h2, h3 in order)"),
                    ));
                }
                if hierarchies.len() == MAX_MOUNTED {
                    return Err(l.err(name.col, "at most 3 mounted hierarchies"));
                }
                let list = l.arg(2, "controller list (comma-separated, or -)")?;
                let mut controllers = Vec::new();
                if list.text != "-" {
                    for c in list.text.split(',') {
                        controllers.push(controller(&l, list, c)?);
                    }
                }
                let notify = match l.toks.get(3) {
                    None => false,
                    Some(t) if t.text == "notify" && l.toks.len() == 4 => true,
                    Some(t) => {
                        return Err(l.err(
                            t.col,
                            format!("unexpected {:?} (expected `notify` or nothing)", t.text),
                        ))
                    }
                };
                hierarchies.push(HierarchySetup {
                    controllers,
                    notify_on_release: notify,
                });
                hier_lines.push(l.no);
            }
            word => {
                let Some(kind) = OpKind::from_name(word) else {
                    return Err(l.err(first.col, format!("unknown operation {word:?}")));
                };
                ops.push(op(&l, kind)?);
                op_lines.push(l.no);
            }
        }
    }
    if !header {
        return Err(ParseError {
            line: last_line.max(1),
            column: 1,
            message: "empty case file: expected the header `cgdiff-case v1`".into(),
        });
    }
    if hierarchies.is_empty() {
        return Err(ParseError {
            line: last_line.max(1),
            column: 1,
            message: "no hierarchy declared (at least `hierarchy h1 -`)".into(),
        });
    }
    let case = Case {
        setup: Setup { hierarchies },
        ops,
    };
    case.validate().map_err(|e| {
        let line = match &e {
            CaseError::HierarchyCount(_) | CaseError::DuplicateController(_) => {
                hier_lines.last().copied().unwrap_or(1)
            }
            CaseError::PidRange { index, .. }
            | CaseError::PidReused { index, .. }
            | CaseError::UnknownHierarchy { index, .. }
            | CaseError::PathDepth { index, .. }
            | CaseError::NoCanAttach { index, .. }
            | CaseError::FaultIndex { index }
            | CaseError::NoTargets { index } => op_lines.get(*index).copied().unwrap_or(1),
        };
        ParseError {
            line,
            column: 1,
            message: e.to_string(),
        }
    })?;
    Ok(CaseFile { case, expect })
}

/// The canonical text of a case (header, hierarchies, one operation per line).
pub fn print(case: &Case) -> String {
    let mut out = format!("cgdiff-case v{VERSION}\n");
    print_body(case, &mut out);
    out
}

/// The canonical text of a case file, with its `expect` line.
pub fn print_file(file: &CaseFile) -> String {
    let mut out = format!("cgdiff-case v{VERSION}\n");
    match &file.expect {
        Some(Expect::Agree) => out += "expect agree\n",
        Some(Expect::Diverge(s)) => {
            let _ = writeln!(out, "expect diverge {s}");
        }
        None => {}
    }
    print_body(&file.case, &mut out);
    out
}

fn print_body(case: &Case, out: &mut String) {
    for (i, h) in case.setup.hierarchies.iter().enumerate() {
        let list: Vec<&str> = h.controllers.iter().map(|c| c.name()).collect();
        let list = if list.is_empty() {
            "-".to_string()
        } else {
            list.join(",")
        };
        let notify = if h.notify_on_release { " notify" } else { "" };
        let _ = writeln!(out, "hierarchy h{} {list}{notify}", i + 1);
    }
    for cop in &case.ops {
        out.push_str(&op_text(cop));
        out.push('\n');
    }
}

/// One operation as its case-file line (without newline).
pub fn op_text(cop: &CaseOp) -> String {
    let mut s = cop.op.kind().name().to_string();
    match &cop.op {
        Op::Fork { parent, child, .. } => {
            let _ = write!(s, " {parent} {child}");
        }
        Op::ExitBegin { pid } | Op::ExitFinish { pid } => {
            let _ = write!(s, " {pid}");
        }
        Op::Mkdir { path } | Op::Rmdir { path } => {
            let _ = write!(s, " {path}");
        }
        Op::AddController { controller, hier } => {
            let _ = write!(s, " {} h{hier}", controller.name());
        }
        Op::MigrateTask { pid, dst } | Op::MigrateProcess { pid, dst } => {
            let _ = write!(s, " {pid} {dst}");
        }
        Op::MigrateMulti { dst, targets } => {
            let _ = write!(s, " {dst}");
            for t in targets {
                let _ = write!(s, " {}{}", if t.process { "p:" } else { "" }, t.pid);
            }
        }
        Op::TransferTasks { from, to } => {
            let _ = write!(s, " {from} {to}");
        }
        Op::AttachTaskAll { from, pid } => {
            let _ = write!(s, " {from} {pid}");
        }
    }
    if let Some(n) = cop.faults.alloc {
        let _ = write!(s, " fail-alloc={n}");
    }
    if let Some(c) = cop.faults.can_attach {
        let _ = write!(
            s,
            " fail-can-attach={}:{}:{}",
            c.controller.name(),
            c.nth,
            c.errno
        );
    }
    s
}
