//! Matching signatures against the patterns `docs/findings.md` lists. The engine does no I/O:
//! callers read the file and hand its text in.

/// Extracts the signature patterns of a findings document: every line of the form
/// `- signature: \`PATTERN\``.
pub fn patterns(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|l| l.trim().strip_prefix("- signature: `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

/// Glob match where `*` stands for any run of characters (including `/`).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The first pattern that matches `signature`. Findings are per pair: a pattern without a
/// `A,B:` pair prefix matches only default-pair signatures (which have none).
pub fn matching<'a>(patterns: &'a [String], signature: &str) -> Option<&'a str> {
    let paired = signature.contains(':');
    patterns
        .iter()
        .find(|p| p.contains(':') == paired && glob_match(p, signature))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "transfer-tasks/*hang*",
            "transfer-tasks/invariant+hang/none/both"
        ));
        assert!(!glob_match(
            "transfer-tasks/*hang*",
            "migrate-task/invariant+hang/none/both"
        ));
        assert!(glob_match(
            "*/order/*/diff",
            "migrate-task/order/alloc/diff"
        ));
        assert!(!glob_match(
            "*/order/*/diff",
            "migrate-task/order+release/alloc/diff"
        ));
        assert!(glob_match("a*", "a"));
        assert!(!glob_match("", "a"));
    }

    #[test]
    fn extracts_patterns() {
        let doc = "# F\n- signature: `a/*`\ntext `x`\n  - signature: `b` trailing\n";
        assert_eq!(patterns(doc), vec!["a/*", "b"]);
    }
}
