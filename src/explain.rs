//! Rendering what the oracle saw for people (text) and machines (JSON). Shared by `run`,
//! `cases show` and `explain`: every divergence report ends with the commands that reproduce
//! and minimise it.

use cgdiff_engine::models::Pair;
use cgdiff_engine::oracle::{self, json_key, Report, Verdict};
use cgdiff_engine::rules;
use cgdiff_engine::{format, Case, Outcome};
use std::fmt::Write as _;

/// `cgdiff run`'s text output, streamed: each operation (its case-file line, each model's
/// result and kernel-named steps) written as soon as it has run, then the verdict. Memory stays
/// flat in the case length: only one operation's trace is held at a time.
pub fn write_run(
    out: &mut dyn std::io::Write,
    case: &Case,
    pair: Pair,
    origin: &Origin,
) -> std::io::Result<Report> {
    let designs = pair.names();
    let mut failed = None;
    let report = oracle::run_streaming(case, pair, &mut |t| {
        if failed.is_some() {
            return;
        }
        let op = case.ops.get(t.index).map(format::op_text);
        let mut block = format!("[{}] {}\n", t.index, op.as_deref().unwrap_or("?"));
        for (m, model) in designs.iter().enumerate() {
            let _ = writeln!(block, "  {model:<10} -> {}", t.outcomes[m]);
            for s in &t.steps[m] {
                let _ = writeln!(block, "      {s}");
            }
        }
        if let Err(e) = out.write_all(block.as_bytes()) {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    out.write_all(render_verdict(&report, origin).as_bytes())?;
    Ok(report)
}

/// The verdict: agreement, or the divergence with its classes, rule and diff, and the commands
/// that reproduce and minimise it.
pub fn render_verdict(report: &Report, origin: &Origin) -> String {
    let mut out = String::new();
    match &report.verdict {
        Verdict::Agree => {
            let _ = writeln!(
                out,
                "verdict: the models agree on all {} operations; every invariant holds",
                report.ops_executed
            );
        }
        Verdict::Diverge(d) => {
            let _ = writeln!(
                out,
                "verdict: DIVERGENCE after operation {} ({})",
                d.op_index,
                d.op_kind.name()
            );
            let _ = writeln!(out, "  signature : {}", d.signature);
            let _ = writeln!(out, "  classes   : {}", d.classes.names().join(", "));
            let _ = writeln!(out, "  blame     : {}", d.blame.name());
            let [a, b] = report.designs;
            let _ = writeln!(
                out,
                "  results   : {a} {}, {b} {}",
                d.outcomes[0], d.outcomes[1]
            );
            let _ = writeln!(out, "  bucket    : {}", bucket_text(d));
            match d.rule.and_then(rules::rule) {
                Some(r) => {
                    let _ = writeln!(out, "  expected  : yes, rule {}: {}", r.id, r.reason);
                }
                None => {
                    let _ = writeln!(out, "  expected  : NO (no rule explains it all)");
                }
            }
            if let Some(detail) = &d.detail {
                let _ = writeln!(out, "  observations (- {a} only, + {b} only):");
                for l in detail.diff.lines() {
                    let _ = writeln!(out, "    {l}");
                }
            }
            out += &repro_lines(origin);
        }
    }
    out
}

/// Where a case came from, as the commands that reach it again name it.
#[derive(Clone, Debug)]
pub enum Origin {
    File(String),
    Stored { id: i64, db: String },
}

impl Origin {
    /// "Reproduce with / Minimize with" lines: built from the same shapes the CLI parses
    /// (a test parses them back).
    pub fn commands(&self) -> [Vec<String>; 2] {
        match self {
            Origin::File(f) => [
                vec!["cgdiff".into(), "run".into(), f.clone()],
                vec!["cgdiff".into(), "minimize".into(), f.clone()],
            ],
            Origin::Stored { id, db } => [
                vec![
                    "cgdiff".into(),
                    "replay".into(),
                    id.to_string(),
                    "--db".into(),
                    db.clone(),
                ],
                vec![
                    "cgdiff".into(),
                    "minimize".into(),
                    id.to_string(),
                    "--db".into(),
                    db.clone(),
                ],
            ],
        }
    }
}

/// The bucket of a divergence and what it is, in one line: `F3 (finding: four-stage …)`,
/// `F2+enomem-before-side-effects (two causes: …)`, `unlisted (…)`.
pub fn bucket_text(d: &cgdiff_engine::Divergence) -> String {
    use cgdiff_engine::findings::BucketKind;
    let titles: Vec<String> = d
        .bucket
        .causes()
        .map(|c| format!("{} = {}", c.id, c.title))
        .collect();
    match (d.bucket.kind(), titles.len()) {
        (BucketKind::Unlisted, _) => {
            "unlisted (no rule and no finding of docs/findings.md explains it all)".to_string()
        }
        (k, 1) => format!(
            "{} ({}: {})",
            d.bucket.name(),
            k.name(),
            d.bucket.causes().next().map_or("", |c| c.title)
        ),
        (_, n) => format!("{} ({n} causes: {})", d.bucket.name(), titles.join("; ")),
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The two command lines that reproduce and minimise a divergence.
pub fn repro_lines(origin: &Origin) -> String {
    let [r, m] = origin.commands();
    let join = |v: &[String]| {
        v.iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "Reproduce with: {}\nMinimize with:  {}\n",
        join(&r),
        join(&m)
    )
}

fn outcome(o: Outcome) -> String {
    o.to_string()
}

/// `cgdiff run --json`, streamed: the same document `serde_json::to_string_pretty` would
/// print for `{"case", "operations", "ops_executed", "verdict"}`, with each operation written
/// as soon as it has run (memory flat in the case length). Each operation names the designs by
/// [`json_key`] (`legacy`, `four_stage` for the default pair).
pub fn write_run_json(
    out: &mut dyn std::io::Write,
    case: &Case,
    pair: Pair,
) -> std::io::Result<Report> {
    let designs = pair.names();
    let indent = |v: &serde_json::Value, by: &str| {
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', &format!("\n{by}"))
    };
    let case_text = serde_json::Value::String(format::print(case));
    write!(out, "{{\n  \"case\": {case_text},\n  \"operations\": [")?;
    let (mut first, mut failed) = (true, None);
    let report = oracle::run_streaming(case, pair, &mut |t| {
        if failed.is_some() {
            return;
        }
        // Keys sorted as serde_json's map sorts them: designs by [`json_key`], and `index`.
        let mut op = serde_json::Map::new();
        op.insert("index".into(), t.index.into());
        for (i, name) in designs.iter().enumerate() {
            op.insert(
                json_key(name),
                serde_json::json!({"result": outcome(t.outcomes[i]), "steps": t.steps[i]}),
            );
        }
        let op = serde_json::Value::Object(op);
        let sep = if first { "\n    " } else { ",\n    " };
        first = false;
        if let Err(e) = write!(out, "{sep}{}", indent(&op, "    ")) {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let verdict = serde_json::to_value(&report.verdict).unwrap_or_default();
    writeln!(
        out,
        "{}],\n  \"ops_executed\": {},\n  \"verdict\": {}\n}}",
        if first { "" } else { "\n  " },
        report.ops_executed,
        indent(&verdict, "  ")
    )?;
    Ok(report)
}

/// Whether to colour output: a terminal, and no `NO_COLOR` (https://no-color.org).
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The story of one divergence for a person: the operations up to the split, the
/// kernel-named steps each model took there, and the two observations side by side.
pub fn story(case: &Case, report: &Report, origin: &Origin, colour: bool) -> String {
    let (red, green, bold, off) = if colour {
        ("\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut out = String::new();
    let Some(d) = report.verdict.divergence() else {
        let _ = writeln!(
            out,
            "The models agree on all {} operations and every invariant holds: nothing to explain.",
            report.ops_executed
        );
        return out;
    };
    let _ = writeln!(out, "{bold}Divergence {}{off}", d.signature);
    match d.rule.and_then(rules::rule) {
        Some(r) => {
            let _ = writeln!(out, "Expected: rule {} — {}", r.id, r.reason);
        }
        None if d.unlisted() => {
            let _ = writeln!(
                out,
                "{red}Unlisted{off}: no rule and no finding of docs/findings.md explains it all."
            );
        }
        None => {
            let _ = writeln!(out, "Known finding: {}", bucket_text(d));
            for c in d.bucket.causes() {
                let _ = writeln!(out, "  {}: {}", c.id, c.reason);
            }
        }
    }
    let _ = writeln!(out, "\nSetup:");
    for h in format::print(case)
        .lines()
        .filter(|l| l.starts_with("hierarchy"))
    {
        let _ = writeln!(out, "  {h}");
    }
    let _ = writeln!(
        out,
        "\nOperations up to the split (both models agree on these):"
    );
    for t in &report.trace[..d.op_index] {
        let _ = writeln!(
            out,
            "  [{}] {:<50} -> {}",
            t.index,
            format::op_text(&case.ops[t.index]),
            t.outcomes[0]
        );
    }
    let t = &report.trace[d.op_index];
    let _ = writeln!(
        out,
        "\n{bold}The split: [{}] {}{off}",
        d.op_index,
        format::op_text(&case.ops[d.op_index])
    );
    for (m, model) in report.designs.iter().enumerate() {
        let _ = writeln!(out, "  {model} returned {}:", t.outcomes[m]);
        for s in &t.steps[m] {
            let _ = writeln!(out, "      {s}");
        }
    }
    if let Some(detail) = &d.detail {
        let _ = writeln!(
            out,
            "\nAfter it ('!' marks a difference; classes: {}):",
            d.classes.names().join(", ")
        );
        out += &side_by_side(
            report.designs,
            &detail.snapshots[0].lines(),
            &detail.snapshots[1].lines(),
            red,
            green,
            off,
        );
    }
    let _ = writeln!(out);
    out += &repro_lines(origin);
    out
}

fn side_by_side(
    designs: [&str; 2],
    a: &[String],
    b: &[String],
    red: &str,
    green: &str,
    off: &str,
) -> String {
    const W: usize = 58;
    let fit = |s: &str| {
        let mut t: String = s.chars().take(W).collect();
        let n = t.chars().count();
        t.extend(std::iter::repeat_n(' ', W - n));
        t
    };
    let mut out = format!("  {}   {}\n", fit(designs[0]), designs[1]);
    let (ta, tb) = (a.join("\n") + "\n", b.join("\n") + "\n");
    let diff = similar::TextDiff::from_lines(&ta, &tb);
    for op in diff.ops() {
        let (l, r) = (op.old_range(), op.new_range());
        let equal = matches!(op.tag(), similar::DiffTag::Equal);
        for i in 0..l.len().max(r.len()) {
            let left = a
                .get(l.start + i)
                .filter(|_| i < l.len())
                .map_or("", |s| s.as_str());
            let right = b
                .get(r.start + i)
                .filter(|_| i < r.len())
                .map_or("", |s| s.as_str());
            if equal {
                let _ = writeln!(out, "  {} | {right}", fit(left));
            } else {
                let _ = writeln!(out, "! {red}{}{off} | {green}{right}{off}", fit(left));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn reproduce_and_minimize_commands_parse() {
        for origin in [
            Origin::File("examples/odd name.case".into()),
            Origin::Stored {
                id: 42,
                db: "/tmp/x.db".into(),
            },
        ] {
            for cmd in origin.commands() {
                crate::cmd::Cli::try_parse_from(&cmd)
                    .unwrap_or_else(|e| panic!("{cmd:?} does not parse: {e}"));
            }
            let text = repro_lines(&origin);
            assert!(text.starts_with("Reproduce with: cgdiff "));
            assert!(text.contains("\nMinimize with:  cgdiff minimize "));
        }
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
