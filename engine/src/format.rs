//! Case file format v2 (v1 still read): text a person can write, read and diff, and that
//! round-trips: `parse(&print(&c))?.case == c`. Specified in `docs/case-format.md`.
//!
//! ```text
//! # comment
//! cgdiff-case v2
//! expect agree
//! designs v3.16,v5.19
//! hierarchy h1 cpuset,memory notify
//! fork 1 2
//! migrate-task 2 h1:/a fail-alloc=2 fail-can-attach=cpuset:1:EINVAL exit-after=prepare_dst:3
//! ```
//!
//! v2 adds the `designs` line and the `exit-after=` token; a case that uses neither is
//! printed as v1, byte for byte what earlier builds wrote.
//!
//! The parser checks everything [`Case::validate`] checks, at the token that breaks it, so an
//! error names the line and column a person has to fix; `validate` still runs afterwards as a
//! backstop. Line and column are 1-based; the column is where the offending word starts (or
//! just past the last word when one is missing), counted in characters, a tab being one.

use crate::case::{
    CanAttachFault, Case, CaseError, CaseOp, CgPath, Controller, Errno, FaultPlan, HierarchySetup,
    Op, OpKind, Pid, Setup, Target, MAX_DEPTH, MAX_FAULT_INDEX, MAX_MOUNTED, MAX_OPS, MAX_PID,
    MAX_TARGETS,
};
use crate::case::{ExitAt, StagePoint};
use crate::models::Pair;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The newest version this build reads and writes.
pub const VERSION: u32 = 2;

/// The oldest version this build still reads (and writes, for a case v2 adds nothing to).
pub const OLDEST_VERSION: u32 = 1;

/// The first word of every case file.
pub const HEADER_KEYWORD: &str = "cgdiff-case";

/// Longest line a case file may have, in bytes (the longest canonical operation, a
/// `migrate-multi` with [`MAX_TARGETS`] targets, takes under 2,000).
pub const MAX_LINE_BYTES: usize = 4096;

/// Largest case file, in bytes: [`MAX_OPS`] operations of up to 500 bytes each. Readers
/// (`cgdiff run`, `import`) refuse a larger file before reading it all.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// What a case file may say about the verdict it expects, so a regression case carries its
/// own oracle answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Agree,
    /// The exact signature of the first divergence (one token, no spaces).
    Diverge(String),
}

/// A parsed case file: the case and, when the file states them, the verdict it expects and
/// the pair of designs it was found on (v2's `designs` line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFile {
    pub case: Case,
    pub expect: Option<Expect>,
    pub designs: Option<Pair>,
}

/// Why a case file does not parse: where (1-based line and column, columns in characters) and
/// what was expected, so a person can fix a hand-written case without reading the parser.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// A word of a line (or a part of one) and the column it starts at.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    col: usize,
}

impl<'a> Tok<'a> {
    /// Bytes `from..to` of this word. It keeps the word's column: an error points at the start
    /// of the whitespace-separated word, and its message quotes the part that is wrong.
    fn sub(self, from: usize, to: usize) -> Tok<'a> {
        Tok {
            text: self.text.get(from..to).unwrap_or(""),
            col: self.col,
        }
    }

    /// What follows `prefix`, when the token starts with it.
    fn after(self, prefix: &str) -> Option<Tok<'a>> {
        self.text
            .starts_with(prefix)
            .then(|| self.sub(prefix.len(), self.text.len()))
    }

    /// The parts between `sep`s.
    fn split(self, sep: char) -> Vec<Tok<'a>> {
        let mut at = 0;
        let mut out = Vec::new();
        for part in self.text.split(sep) {
            out.push(self.sub(at, at + part.len()));
            at += part.len() + sep.len_utf8();
        }
        out
    }
}

/// A word as an error message quotes it: whole when short, else its start and its length, so
/// that a hostile 100,000-character token does not come back in full.
#[derive(Clone, Copy)]
struct Shown<'a>(&'a str);

/// Characters of a word an error message quotes before cutting it short.
const SHOWN_CHARS: usize = 40;

impl Shown<'_> {
    fn parts(&self) -> (&str, Option<usize>) {
        match self.0.char_indices().nth(SHOWN_CHARS) {
            None => (self.0, None),
            Some((cut, _)) => (&self.0[..cut], Some(self.0.len())),
        }
    }
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parts() {
            (s, None) => f.write_str(s),
            (s, Some(n)) => write!(f, "{s}… ({n} bytes)"),
        }
    }
}

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parts() {
            (s, None) => write!(f, "{s:?}"),
            (s, Some(n)) => write!(f, "\"{}…\" ({n} bytes)", s.escape_debug()),
        }
    }
}

impl<'a> Tok<'a> {
    /// The word as an error message quotes it.
    fn shown(self) -> Shown<'a> {
        Shown(self.text)
    }
}

/// One line, split into words, comments removed.
struct Line<'a> {
    no: usize,
    toks: Vec<Tok<'a>>,
    /// Column just past the last word, where a missing argument would go.
    end: usize,
}

impl Line<'_> {
    fn err(&self, col: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.no,
            column: col,
            message: message.into(),
        }
    }
}

fn tokenize(no: usize, raw: &str) -> Line<'_> {
    let content = raw.find('#').map_or(raw, |i| &raw[..i]);
    let mut toks = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    let mut end = 1;
    for (ci, (bi, ch)) in content.char_indices().enumerate() {
        let col = ci + 1;
        match (ch.is_whitespace(), start) {
            (true, Some((sb, sc))) => {
                toks.push(Tok {
                    text: &content[sb..bi],
                    col: sc,
                });
                start = None;
                end = col;
            }
            (false, None) => start = Some((bi, col)),
            _ => {}
        }
    }
    if let Some((sb, sc)) = start {
        let text = &content[sb..];
        toks.push(Tok { text, col: sc });
        end = sc + text.chars().count();
    }
    Line { no, toks, end }
}

/// The words of a line after its keyword, consumed left to right.
struct Args<'l, 'a> {
    line: &'l Line<'a>,
    next: usize,
}

impl<'l, 'a> Args<'l, 'a> {
    fn new(line: &'l Line<'a>) -> Self {
        Args { line, next: 1 }
    }

    fn peek(&self) -> Option<Tok<'a>> {
        self.line.toks.get(self.next).copied()
    }

    /// The next word; `what` names it in the "missing" error.
    fn take(&mut self, what: &str) -> Result<Tok<'a>, ParseError> {
        let t = self
            .peek()
            .ok_or_else(|| self.line.err(self.line.end, format!("missing {what}")))?;
        self.next += 1;
        Ok(t)
    }

    fn rest(&self) -> &'l [Tok<'a>] {
        self.line.toks.get(self.next..).unwrap_or(&[])
    }

    /// Errs on the first word left over.
    fn finish(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(self.line.err(
                t.col,
                format!("unexpected {:?} (expected the end of the line)", t.shown()),
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Words

/// A decimal number of ASCII digits only (no sign), saturating: huge numbers stay comparable
/// and never overflow.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|&x| name(x)).collect::<Vec<_>>().join(", ")
}

fn controller(l: &Line, t: Tok) -> Result<Controller, ParseError> {
    Controller::from_name(t.text).ok_or_else(|| {
        l.err(
            t.col,
            format!(
                "unknown controller {:?} (expected one of {})",
                t.shown(),
                names(&Controller::ALL, Controller::name)
            ),
        )
    })
}

fn errno(l: &Line, t: Tok) -> Result<Errno, ParseError> {
    Errno::from_name(t.text).ok_or_else(|| {
        l.err(
            t.col,
            format!(
                "unknown errno {:?} (expected one of {})",
                t.shown(),
                names(&Errno::ALL, Errno::name)
            ),
        )
    })
}

/// A pid: 1 to [`MAX_PID`]. `what` describes the word the operation wanted there.
fn pid(l: &Line, t: Tok, what: &str) -> Result<Pid, ParseError> {
    let n = digits(t.text)
        .ok_or_else(|| l.err(t.col, format!("expected {what}, got {:?}", t.shown())))?;
    if n == 0 || n > u64::from(MAX_PID) {
        return Err(l.err(
            t.col,
            format!("pid {} is out of range (expected 1..={MAX_PID})", t.shown()),
        ));
    }
    Ok(n as Pid)
}

/// How a pid argument is described in errors: its role and the range.
fn pid_what(name: &str) -> String {
    format!("{name} (a number 1..={MAX_PID})")
}

/// A 1-based fault index (`fail-alloc=N`, the K of `fail-can-attach`).
fn fault_index(l: &Line, t: Tok, what: &str) -> Result<u32, ParseError> {
    match digits(t.text) {
        Some(n) if n >= 1 && n <= u64::from(MAX_FAULT_INDEX) => Ok(n as u32),
        Some(n) if n > u64::from(MAX_FAULT_INDEX) => Err(l.err(
            t.col,
            format!(
                "{} {} is past the largest fault index {MAX_FAULT_INDEX} (expected 1..={MAX_FAULT_INDEX})",
                // "an allocation index after fail-alloc=" -> "allocation index"
                what.trim_start_matches("an ")
                    .trim_start_matches("a ")
                    .split(" after")
                    .next()
                    .unwrap_or(what),
                t.shown()
            ),
        )),
        _ => Err(l.err(
            t.col,
            format!(
                "expected {what} (a number 1..={MAX_FAULT_INDEX}), got {:?}",
                t.shown()
            ),
        )),
    }
}

fn valid_component(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The fault tokens after an operation's arguments, in any order, each at most once.
fn faults(l: &Line, toks: &[Tok]) -> Result<FaultPlan, ParseError> {
    let mut f = FaultPlan::default();
    for &t in toks {
        let twice = |name: &str| {
            l.err(
                t.col,
                format!("{name} given twice (each fault token may appear once per operation)"),
            )
        };
        if let Some(v) = t.after("fail-alloc=") {
            if f.alloc.is_some() {
                return Err(twice("fail-alloc"));
            }
            f.alloc = Some(fault_index(l, v, "an allocation index after fail-alloc=")?);
        } else if let Some(v) = t.after("fail-can-attach=") {
            if f.can_attach.is_some() {
                return Err(twice("fail-can-attach"));
            }
            f.can_attach = Some(can_attach_fault(l, t, v)?);
        } else if let Some(v) = t.after("exit-after=") {
            if f.exit.is_some() {
                return Err(twice("exit-after"));
            }
            f.exit = Some(exit_after(l, t, v)?);
        } else {
            return Err(l.err(
                t.col,
                format!(
                    "unexpected {:?} (expected a fault token fail-alloc=N, \
                     fail-can-attach=CONTROLLER:K:ERRNO or exit-after=POINT:PID, or the end of \
                     the line)",
                    t.shown()
                ),
            ));
        }
    }
    Ok(f)
}

/// `POINT:PID`, the value of an `exit-after=` token `whole` (v2).
fn exit_after(l: &Line, whole: Tok, v: Tok) -> Result<ExitAt, ParseError> {
    let [p, n] = v.split(':')[..] else {
        return Err(l.err(
            whole.col,
            format!(
                "expected exit-after=POINT:PID (e.g. exit-after=prepare_dst:3), got {:?}",
                whole.shown()
            ),
        ));
    };
    let Some(after) = StagePoint::from_name(p.text) else {
        return Err(l.err(
            p.col,
            format!(
                "unknown stage {:?} (expected one of {})",
                p.shown(),
                names(&StagePoint::ALL, StagePoint::name)
            ),
        ));
    };
    Ok(ExitAt {
        after,
        pid: pid(l, n, "the pid of the exiting task")?,
    })
}

/// `CONTROLLER:K:ERRNO`, the value of a `fail-can-attach=` token `whole`.
fn can_attach_fault(l: &Line, whole: Tok, v: Tok) -> Result<CanAttachFault, ParseError> {
    let [c, k, e] = v.split(':')[..] else {
        return Err(l.err(
            whole.col,
            format!(
                "expected fail-can-attach=CONTROLLER:K:ERRNO (e.g. fail-can-attach=cpuset:1:EINVAL), got {:?}",
                whole.shown()
            ),
        ));
    };
    let controller = controller(l, c)?;
    if !controller.has_can_attach() {
        let able: Vec<Controller> = Controller::ALL
            .into_iter()
            .filter(|c| c.has_can_attach())
            .collect();
        return Err(l.err(
            c.col,
            format!(
                "{} has no can_attach callback to fail (expected one of {})",
                c.shown(),
                names(&able, Controller::name)
            ),
        ));
    }
    Ok(CanAttachFault {
        controller,
        nth: fault_index(l, k, "a call index")?,
        errno: errno(l, e)?,
    })
}

// ---------------------------------------------------------------------------------------------
// The parser

/// What the lines read so far have declared; each line is checked against it.
struct Parser {
    header: bool,
    /// The version the header names.
    version: u32,
    expect: Option<Expect>,
    designs: Option<Pair>,
    hierarchies: Vec<HierarchySetup>,
    /// Line of each hierarchy declaration.
    hier_lines: Vec<usize>,
    /// Per controller (by id): the hierarchy that binds it.
    bound: [Option<u8>; Controller::ALL.len()],
    ops: Vec<CaseOp>,
    /// Line and column of each operation's keyword.
    op_pos: Vec<(usize, usize)>,
    /// The line of the fork that created each pid (0 for pid 1, which exists from the start).
    created: HashMap<Pid, usize>,
}

impl Parser {
    fn new() -> Self {
        Parser {
            header: false,
            version: VERSION,
            expect: None,
            designs: None,
            hierarchies: Vec::new(),
            hier_lines: Vec::new(),
            bound: [None; Controller::ALL.len()],
            ops: Vec::new(),
            op_pos: Vec::new(),
            created: HashMap::from([(1, 0)]),
        }
    }

    fn line(&mut self, l: &Line) -> Result<(), ParseError> {
        let Some(&first) = l.toks.first() else {
            return Ok(());
        };
        if !self.header {
            return self.header_line(l, first);
        }
        match first.text {
            HEADER_KEYWORD => Err(l.err(first.col, "a second header line (it may appear once)")),
            "expect" => self.expect_line(l, first),
            "designs" => self.designs_line(l, first),
            "hierarchy" => self.hierarchy_line(l, first),
            word => self.op_line(l, first, word),
        }
    }

    fn header_line(&mut self, l: &Line, first: Tok) -> Result<(), ParseError> {
        if first.text != HEADER_KEYWORD {
            return Err(l.err(
                first.col,
                format!(
                    "expected the header `{HEADER_KEYWORD} v{OLDEST_VERSION}` before anything else, got {:?}",
                    first.shown()
                ),
            ));
        }
        let mut a = Args::new(l);
        let v = a.take(&format!(
            "format version (expected `{HEADER_KEYWORD} v{OLDEST_VERSION}`)"
        ))?;
        let Some(n) = v.after("v").and_then(|d| digits(d.text)) else {
            return Err(l.err(
                v.col,
                format!(
                    "expected a format version like v{OLDEST_VERSION}, got {:?}",
                    v.shown()
                ),
            ));
        };
        if !(u64::from(OLDEST_VERSION)..=u64::from(VERSION)).contains(&n) {
            let shown = Shown(v.text.get(1..).unwrap_or(""));
            return Err(l.err(
                v.col,
                format!(
                    "unsupported case format version {shown} (this cgdiff reads v{OLDEST_VERSION} to v{VERSION})"
                ),
            ));
        }
        a.finish()?;
        self.header = true;
        self.version = n as u32;
        Ok(())
    }

    /// A v2 feature on a v1 file: an error at its word.
    fn needs_v2(&self, l: &Line, col: usize, what: &str) -> Result<(), ParseError> {
        if self.version < 2 {
            return Err(l.err(
                col,
                format!(
                    "{what} needs `{HEADER_KEYWORD} v2` (this file says v{})",
                    self.version
                ),
            ));
        }
        Ok(())
    }

    /// `designs A,B` (v2): the pair the case was found on, before the hierarchy lines.
    fn designs_line(&mut self, l: &Line, first: Tok) -> Result<(), ParseError> {
        self.needs_v2(l, first.col, "a `designs` line")?;
        if self.designs.is_some() {
            return Err(l.err(
                first.col,
                "a second `designs` line (at most one is allowed)",
            ));
        }
        if !self.hierarchies.is_empty() {
            return Err(l.err(first.col, "`designs` must come before the hierarchy lines"));
        }
        let mut a = Args::new(l);
        let v = a.take("two design names after `designs`, as `designs legacy,four-stage`")?;
        self.designs = Some(Pair::parse(v.text).map_err(|e| l.err(v.col, e.to_string()))?);
        a.finish()
    }

    fn expect_line(&mut self, l: &Line, first: Tok) -> Result<(), ParseError> {
        if self.expect.is_some() {
            return Err(l.err(first.col, "a second `expect` line (at most one is allowed)"));
        }
        if !self.hierarchies.is_empty() {
            return Err(l.err(
                first.col,
                "`expect` must come before the hierarchy lines (right after the header)",
            ));
        }
        let mut a = Args::new(l);
        let what = a.take("`agree` or `diverge SIGNATURE` after `expect`")?;
        self.expect = Some(match what.text {
            "agree" => Expect::Agree,
            "diverge" => Expect::Diverge(a.take("signature after `expect diverge`")?.text.into()),
            _ => {
                return Err(l.err(
                    what.col,
                    format!(
                        "expected `agree` or `diverge SIGNATURE` after `expect`, got {:?}",
                        what.shown()
                    ),
                ))
            }
        });
        a.finish()
    }

    fn hierarchy_line(&mut self, l: &Line, first: Tok) -> Result<(), ParseError> {
        if !self.ops.is_empty() {
            return Err(l.err(first.col, "hierarchy lines must come before the operations"));
        }
        let mut a = Args::new(l);
        let name = a.take("hierarchy name (h1, h2 or h3)")?;
        if self.hierarchies.len() == MAX_MOUNTED {
            return Err(l.err(
                name.col,
                format!("too many hierarchies (at most {MAX_MOUNTED}: h1, h2, h3)"),
            ));
        }
        let want = format!("h{}", self.hierarchies.len() + 1);
        if name.text != want {
            return Err(l.err(
                name.col,
                format!(
                    "expected {want}, got {:?} (hierarchies are declared in order h1, h2, h3)",
                    name.shown()
                ),
            ));
        }
        let list = a.take("controller list (comma-separated, or - for none)")?;
        let controllers = self.controller_list(l, list)?;
        let notify_on_release = self.notify_word(l, &mut a)?;
        self.hierarchies.push(HierarchySetup {
            controllers,
            notify_on_release,
        });
        self.hier_lines.push(l.no);
        Ok(())
    }

    /// `-` or `c1,c2,...`, each controller bound to one hierarchy only.
    fn controller_list(&mut self, l: &Line, list: Tok) -> Result<Vec<Controller>, ParseError> {
        if list.text == "-" {
            return Ok(Vec::new());
        }
        let hier = self.hierarchies.len() as u8 + 1;
        let mut out = Vec::new();
        for t in list.split(',') {
            let c = controller(l, t)?;
            if let Some(h) = self.bound[c as usize] {
                return Err(l.err(
                    t.col,
                    format!(
                        "controller {} is already bound to h{h} (a controller is bound to one hierarchy at most)",
                        c.name()
                    ),
                ));
            }
            self.bound[c as usize] = Some(hier);
            out.push(c);
        }
        Ok(out)
    }

    fn notify_word(&self, l: &Line, a: &mut Args) -> Result<bool, ParseError> {
        let Some(t) = a.peek() else {
            return Ok(false);
        };
        if t.text != "notify" {
            return Err(l.err(
                t.col,
                format!(
                    "unexpected {:?} (expected `notify` or the end of the line)",
                    t.shown()
                ),
            ));
        }
        a.take("notify")?;
        a.finish()?;
        Ok(true)
    }

    fn op_line(&mut self, l: &Line, first: Tok, word: &str) -> Result<(), ParseError> {
        let Some(kind) = OpKind::from_name(word) else {
            return Err(l.err(
                first.col,
                format!(
                    "unknown operation {:?} (expected one of {})",
                    first.shown(),
                    names(&OpKind::ALL, OpKind::name)
                ),
            ));
        };
        if self.hierarchies.is_empty() {
            return Err(l.err(
                first.col,
                "operation before any hierarchy line (declare at least `hierarchy h1 -` first)",
            ));
        }
        if self.ops.len() == MAX_OPS {
            return Err(l.err(
                first.col,
                format!("more than {MAX_OPS} operations (the most a case may have)"),
            ));
        }
        let mut a = Args::new(l);
        let op = self.op_args(l, kind, &mut a)?;
        let faults = faults(l, a.rest())?;
        if faults.exit.is_some() {
            let col = a
                .rest()
                .iter()
                .find(|t| t.text.starts_with("exit-after="))
                .map_or(first.col, |t| t.col);
            self.needs_v2(l, col, "an exit-after= token")?;
        }
        self.ops.push(CaseOp { op, faults });
        self.op_pos.push((l.no, first.col));
        Ok(())
    }

    fn op_args(&mut self, l: &Line, kind: OpKind, a: &mut Args) -> Result<Op, ParseError> {
        let pid1 = |a: &mut Args, name: &str| {
            let what = pid_what(name);
            pid(l, a.take(&what)?, &what)
        };
        Ok(match kind {
            OpKind::Fork | OpKind::Thread => self.fork(l, a, kind == OpKind::Thread)?,
            OpKind::ExitBegin => Op::ExitBegin {
                pid: pid1(a, "a pid")?,
            },
            OpKind::ExitFinish => Op::ExitFinish {
                pid: pid1(a, "a pid")?,
            },
            OpKind::Mkdir => Op::Mkdir {
                path: self.path(l, a.take("a cgroup path")?)?,
            },
            OpKind::Rmdir => Op::Rmdir {
                path: self.path(l, a.take("a cgroup path")?)?,
            },
            OpKind::AddController => Op::AddController {
                controller: controller(l, a.take("a controller")?)?,
                hier: self.hier_ref(l, a.take("a hierarchy hN")?)?,
            },
            OpKind::MigrateTask => Op::MigrateTask {
                pid: pid1(a, "a pid")?,
                dst: self.path(l, a.take("a destination cgroup path")?)?,
            },
            OpKind::MigrateProcess => Op::MigrateProcess {
                pid: pid1(a, "a pid")?,
                dst: self.path(l, a.take("a destination cgroup path")?)?,
            },
            OpKind::MigrateMulti => self.migrate_multi(l, a)?,
            OpKind::TransferTasks => Op::TransferTasks {
                from: self.path(l, a.take("the FROM cgroup path")?)?,
                to: self.path(l, a.take("the TO cgroup path")?)?,
            },
            OpKind::AttachTaskAll => Op::AttachTaskAll {
                from: pid1(a, "the FROM_TASK pid")?,
                pid: pid1(a, "the TASK pid")?,
            },
        })
    }

    /// `fork`/`thread PARENT CHILD`: CHILD is a pid no fork has created before.
    fn fork(&mut self, l: &Line, a: &mut Args, thread: bool) -> Result<Op, ParseError> {
        let (pw, cw) = (pid_what("the parent pid"), pid_what("the child pid"));
        let parent = pid(l, a.take(&pw)?, &pw)?;
        let t = a.take(&cw)?;
        let child = pid(l, t, &cw)?;
        if let Some(&by) = self.created.get(&child) {
            let origin = match by {
                0 => "it exists from the start".to_string(),
                n => format!("the fork on line {n} created it"),
            };
            return Err(l.err(
                t.col,
                format!("fork names pid {child}, which already exists: {origin} (expected a new pid; pids are never reused)"),
            ));
        }
        self.created.insert(child, l.no);
        Ok(Op::Fork {
            parent,
            child,
            thread,
        })
    }

    /// `migrate-multi DST TARGET...`: a TARGET is a pid (the task) or `p:PID` (its process).
    fn migrate_multi(&self, l: &Line, a: &mut Args) -> Result<Op, ParseError> {
        let dst = self.path(l, a.take("a destination cgroup path")?)?;
        let what = &format!("a target (a pid 1..={MAX_PID}, or p:PID for a whole process)");
        let mut targets = Vec::new();
        while let Some(t) = a
            .peek()
            .filter(|t| !t.text.starts_with("fail-") && !t.text.starts_with("exit-after="))
        {
            a.take(what)?;
            if targets.len() == MAX_TARGETS {
                return Err(l.err(
                    t.col,
                    format!(
                        "more than {MAX_TARGETS} targets (the most one migrate-multi may name)"
                    ),
                ));
            }
            let (process, p) = t.after("p:").map_or((false, t), |p| (true, p));
            targets.push(Target {
                pid: pid(l, p, what)?,
                process,
            });
        }
        if targets.is_empty() {
            let col = a.peek().map_or(l.end, |t| t.col);
            return Err(l.err(
                col,
                format!("missing {what}: migrate-multi needs at least one"),
            ));
        }
        Ok(Op::MigrateMulti { dst, targets })
    }

    /// `hN`: h0 (the default hierarchy) or a declared one.
    fn hier_ref(&self, l: &Line, t: Tok) -> Result<u8, ParseError> {
        let n = self.hierarchies.len();
        // Built only for an error message.
        let expected = || {
            (0..=n)
                .map(|h| format!("h{h}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(h) = t.after("h").and_then(|d| digits(d.text)) else {
            return Err(l.err(
                t.col,
                format!(
                    "expected a hierarchy (one of {}), got {:?}",
                    expected(),
                    t.shown()
                ),
            ));
        };
        if h > n as u64 {
            return Err(l.err(
                t.col,
                format!(
                    "unknown hierarchy {} (expected one of {}: h0 is the default hierarchy, the others are declared by hierarchy lines)",
                    t.shown(),
                    expected()
                ),
            ));
        }
        Ok(h as u8)
    }

    /// `hN:/` or `hN:/a/b`, at most [`MAX_DEPTH`] components.
    fn path(&self, l: &Line, t: Tok) -> Result<CgPath, ParseError> {
        let Some(colon) = t.text.find(':') else {
            return Err(l.err(
                t.col,
                format!(
                    "expected a cgroup path hN:/PATH (e.g. h1:/a/b), got {:?}",
                    t.shown()
                ),
            ));
        };
        let hier = self.hier_ref(l, t.sub(0, colon))?;
        let rest = t.sub(colon + 1, t.text.len());
        let Some(body) = rest.after("/") else {
            return Err(l.err(
                rest.col,
                format!(
                    "expected / after h{hier}: (paths are absolute, e.g. h{hier}:/ or h{hier}:/a/b), got {:?}",
                    rest.shown()
                ),
            ));
        };
        let mut parts = Vec::new();
        if body.text.is_empty() {
            return Ok(CgPath { hier, parts });
        }
        for c in body.split('/') {
            if !valid_component(c.text) {
                return Err(l.err(
                    c.col,
                    format!(
                        "bad path component {:?} in {:?} (expected [A-Za-z0-9_.-]+ between single slashes, no trailing slash)",
                        c.shown(), t.shown()
                    ),
                ));
            }
            if parts.len() == MAX_DEPTH {
                return Err(l.err(
                    c.col,
                    format!("path {:?} is deeper than {MAX_DEPTH} levels", t.shown()),
                ));
            }
            parts.push(c.text.to_string());
        }
        Ok(CgPath { hier, parts })
    }

    /// The end of the file: what must have been declared, then [`Case::validate`].
    fn finish(self, last_line: usize) -> Result<CaseFile, ParseError> {
        let at_end = |message: String| ParseError {
            line: last_line.max(1),
            column: 1,
            message,
        };
        if !self.header {
            return Err(at_end(format!(
                "no header (expected `{HEADER_KEYWORD} v{OLDEST_VERSION}` as the first line that is not blank or a comment)"
            )));
        }
        if self.hierarchies.is_empty() {
            return Err(at_end(
                "no hierarchy declared (expected at least one line `hierarchy h1 CONTROLLERS`, e.g. `hierarchy h1 -`)".into(),
            ));
        }
        let case = Case {
            setup: Setup {
                hierarchies: self.hierarchies,
            },
            ops: self.ops,
        };
        if let Err(e) = case.validate() {
            return Err(locate(&e, &self.hier_lines, &self.op_pos));
        }
        Ok(CaseFile {
            case,
            expect: self.expect,
            designs: self.designs,
        })
    }
}

/// A [`CaseError`] the parser's own checks let through, placed at its operation's keyword (or
/// the hierarchy lines for setup errors), with the "operation N:" prefix dropped: the line
/// number says which operation.
fn locate(e: &CaseError, hier_lines: &[usize], op_pos: &[(usize, usize)]) -> ParseError {
    let index = match e {
        CaseError::HierarchyCount(_) | CaseError::DuplicateController(_) => None,
        CaseError::PidRange { index, .. }
        | CaseError::PidReused { index, .. }
        | CaseError::UnknownHierarchy { index, .. }
        | CaseError::PathDepth { index, .. }
        | CaseError::PathName { index, .. }
        | CaseError::NoCanAttach { index, .. }
        | CaseError::FaultIndex { index }
        | CaseError::NoTargets { index }
        | CaseError::TooManyTargets { index } => Some(*index),
        CaseError::TooManyOps(_) => Some(MAX_OPS),
    };
    let (line, column) = match index {
        Some(i) => op_pos.get(i).copied().unwrap_or((1, 1)),
        None => (hier_lines.last().copied().unwrap_or(1), 1),
    };
    let text = e.to_string();
    let message = match index {
        Some(i) => text
            .strip_prefix(&format!("operation {i}: "))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    };
    ParseError {
        line,
        column,
        message,
    }
}

/// Parses a case file. Never panics, whatever the input; an error gives the line and column
/// of the offending word and what was expected there. A leading byte order mark, CRLF line
/// endings and tabs are accepted.
pub fn parse(text: &str) -> Result<CaseFile, ParseError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: too_big(text.len()),
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new();
    let mut last_line = 0;
    for (i, raw) in text.lines().enumerate() {
        last_line = i + 1;
        if raw.len() > MAX_LINE_BYTES {
            return Err(ParseError {
                line: last_line,
                column: 1,
                message: format!(
                    "the line is {} bytes long, more than the {MAX_LINE_BYTES} a case file allows",
                    raw.len()
                ),
            });
        }
        parser.line(&tokenize(last_line, raw))?;
    }
    parser.finish(last_line)
}

/// The message for a file over [`MAX_FILE_BYTES`].
pub fn too_big(len: usize) -> String {
    format!("the file is {len} bytes, more than the {MAX_FILE_BYTES} (1 MiB) a case file may be")
}

/// Parses a case file given as bytes: [`parse`], with invalid UTF-8 refused at its line and
/// column, the message naming its byte offset in the file and in the line.
pub fn parse_bytes(bytes: &[u8]) -> Result<CaseFile, ParseError> {
    let e = match std::str::from_utf8(bytes) {
        Ok(text) => return parse(text),
        Err(e) => e,
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: too_big(bytes.len()),
        });
    }
    let at = e.valid_up_to();
    let before = &bytes[..at];
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let prefix = std::str::from_utf8(&before[start..]).unwrap_or("");
    let prefix = prefix.strip_prefix('\u{feff}').unwrap_or(prefix);
    Err(ParseError {
        line,
        column: prefix.chars().count() + 1,
        message: format!(
            "invalid UTF-8 at byte offset {at} of the file (byte {} of the line): a case file is UTF-8 text",
            at - start + 1
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Printing

/// The canonical text of a case: header, hierarchies, one operation per line, single spaces,
/// no comments. Canonical so that stored cases compare and diff as text. v1 unless the case
/// uses a v2 feature.
pub fn print(case: &Case) -> String {
    print_with_designs(case, None)
}

/// [`print`] with a `designs` line naming `pair`, unless it is `None` or the default pair.
pub fn print_with_designs(case: &Case, pair: Option<Pair>) -> String {
    print_parts(case, None, pair)
}

/// The canonical text of a case file, with its `expect` line when it has one, and its
/// `designs` line when it names a pair other than the default.
pub fn print_file(file: &CaseFile) -> String {
    print_parts(&file.case, file.expect.as_ref(), file.designs)
}

fn print_parts(case: &Case, expect: Option<&Expect>, designs: Option<Pair>) -> String {
    let designs = designs.filter(|p| !p.is_default());
    // v2 when the file names a pair or has an exit between stages, v1 otherwise.
    let v2 = designs.is_some() || case.ops.iter().any(|o| o.faults.exit.is_some());
    let version = if v2 { VERSION } else { OLDEST_VERSION };
    let mut out = format!("{HEADER_KEYWORD} v{version}\n");
    match expect {
        Some(Expect::Agree) => out.push_str("expect agree\n"),
        Some(Expect::Diverge(s)) => {
            let _ = writeln!(out, "expect diverge {s}");
        }
        None => {}
    }
    if let Some(p) = designs {
        let _ = writeln!(out, "designs {p}");
    }
    print_body(case, &mut out);
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

/// One operation as its case-file line (without newline): what reports and traces show.
pub fn op_text(cop: &CaseOp) -> String {
    let mut s = cop.op.kind().name().to_string();
    let _ = match &cop.op {
        Op::Fork { parent, child, .. } => write!(s, " {parent} {child}"),
        Op::ExitBegin { pid } | Op::ExitFinish { pid } => write!(s, " {pid}"),
        Op::Mkdir { path } | Op::Rmdir { path } => write!(s, " {path}"),
        Op::AddController { controller, hier } => write!(s, " {} h{hier}", controller.name()),
        Op::MigrateTask { pid, dst } | Op::MigrateProcess { pid, dst } => {
            write!(s, " {pid} {dst}")
        }
        Op::MigrateMulti { dst, targets } => write_multi(&mut s, dst, targets),
        Op::TransferTasks { from, to } => write!(s, " {from} {to}"),
        Op::AttachTaskAll { from, pid } => write!(s, " {from} {pid}"),
    };
    write_faults(&mut s, &cop.faults);
    s
}

fn write_multi(s: &mut String, dst: &CgPath, targets: &[Target]) -> std::fmt::Result {
    write!(s, " {dst}")?;
    for t in targets {
        write!(s, " {}{}", if t.process { "p:" } else { "" }, t.pid)?;
    }
    Ok(())
}

/// Fault tokens in canonical order: fail-alloc, then fail-can-attach.
fn write_faults(s: &mut String, f: &FaultPlan) {
    if let Some(n) = f.alloc {
        let _ = write!(s, " fail-alloc={n}");
    }
    if let Some(c) = f.can_attach {
        let _ = write!(
            s,
            " fail-can-attach={}:{}:{}",
            c.controller.name(),
            c.nth,
            c.errno
        );
    }
    if let Some(e) = f.exit {
        let _ = write!(s, " exit-after={}:{}", e.after, e.pid);
    }
}
