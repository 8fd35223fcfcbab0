//! `junit.xml`: one test case per signature, so a CI server's test view lists the findings and
//! fails the build on the ones that matter. Unexpected signatures that still diverge
//! (new, still reproducing, regressed) are failures carrying the case text and the reproduce
//! command; fixed ones and expected ones pass, expected ones naming their rule.

use crate::escape::{xml, xml_attr};
use crate::model::{Report, SignatureReport};
use crate::time;
use std::fmt::Write as _;

fn suite(o: &mut String, name: &str, cases: &[&SignatureReport], r: &Report) {
    let failures = cases.iter().filter(|s| s.failing).count();
    let _ = writeln!(
        o,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0" time="0" timestamp="{}">"#,
        xml_attr(name),
        cases.len(),
        time::iso(r.generated_at),
    );
    for s in cases {
        let _ = write!(
            o,
            r#"    <testcase classname="{}" name="{}" time="0">"#,
            xml_attr(&format!("{name}.{}", s.status.as_str())),
            xml_attr(&s.signature)
        );
        if s.failing {
            let mut body = format!(
                "Unexpected divergence {} ({}), {} hits.\n",
                s.signature,
                s.status.title().to_lowercase(),
                s.hit_count
            );
            if let Some(op) = &s.explanation.operation {
                let _ = writeln!(
                    body,
                    "Split after operation {}: {op}",
                    s.explanation.op_index.unwrap_or_default()
                );
            }
            let _ = write!(
                body,
                "\nMinimal case {}:\n{}\nReproduce with: {}\n",
                s.best_case.id,
                s.best_case.text.trim_end(),
                s.reproduce.first().map_or("", String::as_str)
            );
            if let Some(diff) = &s.explanation.diff {
                let [a, b] = s.explanation.design_names();
                let _ = write!(body, "\nObservations (- {a} only, + {b} only):\n{diff}");
            }
            let _ = write!(
                o,
                "\n      <failure message=\"{}\" type=\"unexpected-divergence\">{}</failure>\n    ",
                xml_attr(&format!(
                    "{} unexpected divergence {} (case {})",
                    s.status.as_str(),
                    s.signature,
                    s.best_case.id
                )),
                xml(&body)
            );
        } else {
            let out = match &s.rule {
                Some(rule) => format!(
                    "expected: rule {}: {}\ncase {}: {}",
                    rule.name,
                    rule.reason
                        .as_deref()
                        .unwrap_or("(no rule of that name in this build)"),
                    s.best_case.id,
                    s.reproduce.first().map_or("", String::as_str)
                ),
                None => format!(
                    "fixed: the latest replay (run {}) says the models agree on case {}",
                    s.latest_replay
                        .as_ref()
                        .and_then(|x| x.run_id)
                        .map_or("?".to_string(), |i| i.to_string()),
                    s.best_case.id
                ),
            };
            let _ = write!(o, "\n      <system-out>{}</system-out>\n    ", xml(&out));
        }
        o.push_str("</testcase>\n");
    }
    o.push_str("  </testsuite>\n");
}

/// Renders the JUnit XML.
pub fn render(r: &Report) -> String {
    let unexpected: Vec<&SignatureReport> = r.signatures.iter().filter(|s| !s.expected).collect();
    let expected: Vec<&SignatureReport> = r.signatures.iter().filter(|s| s.expected).collect();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        r#"<testsuites name="cgdiff" tests="{}" failures="{}" errors="0" skipped="0" time="0">"#,
        r.signatures.len(),
        r.totals.failing
    );
    suite(&mut o, "cgdiff.unexpected", &unexpected, r);
    suite(&mut o, "cgdiff.expected", &expected, r);
    o.push_str("</testsuites>\n");
    o
}
