//! `junit.xml`: one test case per **bucket** (root cause), so a CI server's test view lists the
//! causes, not their variants, and fails the build only on what nobody has explained: an
//! unlisted bucket, or a regressed one (fixed before and diverging again, or a best case whose
//! bucket changed). Known findings and expected rules pass with their counts and variants;
//! fixed ones are skipped.

use crate::escape::{xml, xml_attr};
use crate::model::{BucketClass, BucketReport, Report, Status};
use crate::time;
use std::fmt::Write as _;

fn body(b: &BucketReport, r: &Report) -> String {
    let mut s = String::new();
    for c in &b.causes {
        let _ = writeln!(s, "{}: {}\n  {}", c.id, c.title, c.reason);
    }
    let _ = writeln!(
        s,
        "{} occurrences, {} variants, first seen {} (run {}), last seen {} (run {})",
        b.occurrences,
        b.variants.len(),
        time::iso(b.first_seen),
        b.first_run.map_or("-".to_string(), |r| r.to_string()),
        time::iso(b.last_seen),
        b.last_run.map_or("-".to_string(), |r| r.to_string()),
    );
    for v in &b.variants {
        let _ = writeln!(
            s,
            "  {:>8}  {}  (case {}, {})",
            v.occurrences,
            v.signature,
            v.best_case,
            v.status.as_str()
        );
    }
    if b.failing {
        if let Some(best) = r.signatures.iter().find(|x| x.anchor == b.best) {
            let _ = write!(
                s,
                "\nBest case {}:\n{}\nReproduce with: {}\n",
                best.best_case.id,
                best.best_case.text.trim_end(),
                best.reproduce.first().map_or("", String::as_str)
            );
            if let Some(diff) = &best.explanation.diff {
                let [a, b] = best.explanation.design_names();
                let _ = write!(s, "\nObservations (- {a} only, + {b} only):\n{diff}");
            }
        }
    }
    s
}

fn suite(o: &mut String, name: &str, cases: &[&BucketReport], r: &Report) {
    let failures = cases.iter().filter(|b| b.failing).count();
    let skipped = cases
        .iter()
        .filter(|b| !b.failing && b.status == Status::Fixed)
        .count();
    let _ = writeln!(
        o,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}" time="0" timestamp="{}">"#,
        xml_attr(name),
        cases.len(),
        time::iso(r.generated_at),
    );
    for b in cases {
        let _ = write!(
            o,
            r#"    <testcase classname="{}" name="{}" time="0">"#,
            xml_attr(&format!("{name}.{}", b.status.as_str())),
            xml_attr(if b.bucket.is_empty() {
                "(before triage)"
            } else {
                &b.bucket
            })
        );
        let text = body(b, r);
        if b.failing {
            let why = if b.status == Status::Regressed {
                "regressed"
            } else {
                "unlisted"
            };
            let _ = write!(
                o,
                "\n      <failure message=\"{}\" type=\"{why}\">{}</failure>\n    ",
                xml_attr(&format!(
                    "{why} bucket {} ({} variants, {} occurrences)",
                    b.bucket,
                    b.variants.len(),
                    b.occurrences
                )),
                xml(&text)
            );
        } else if b.status == Status::Fixed {
            let _ = write!(
                o,
                "\n      <skipped message=\"fixed: every variant replayed as agreeing\"/>\n      <system-out>{}</system-out>\n    ",
                xml(&text)
            );
        } else {
            let _ = write!(o, "\n      <system-out>{}</system-out>\n    ", xml(&text));
        }
        o.push_str("</testcase>\n");
    }
    o.push_str("  </testsuite>\n");
}

/// Renders the JUnit XML.
pub fn render(r: &Report) -> String {
    let of = |k| -> Vec<&BucketReport> { r.buckets.iter().filter(|b| b.kind == k).collect() };
    let (unlisted, findings, expected, before) = (
        of(BucketClass::Unlisted),
        of(BucketClass::Finding),
        of(BucketClass::Expected),
        of(BucketClass::BeforeTriage),
    );
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = r.buckets.iter().filter(|b| b.failing).count();
    let skipped = r
        .buckets
        .iter()
        .filter(|b| !b.failing && b.status == Status::Fixed)
        .count();
    let _ = writeln!(
        o,
        r#"<testsuites name="cgdiff" tests="{}" failures="{failures}" errors="0" skipped="{skipped}" time="0">"#,
        r.buckets.len(),
    );
    suite(&mut o, "cgdiff.unlisted", &unlisted, r);
    suite(&mut o, "cgdiff.findings", &findings, r);
    suite(&mut o, "cgdiff.expected", &expected, r);
    if !before.is_empty() {
        suite(&mut o, "cgdiff.before-triage", &before, r);
    }
    o.push_str("</testsuites>\n");
    o
}
