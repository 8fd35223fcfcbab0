//! Escaping for every text that comes out of the store. Case texts, signatures and rule names
//! are whatever a database holds (the store accepts any text, and `cgdiff import` takes files
//! from anywhere), so nothing read from it may reach HTML or XML unescaped: a case must not be
//! able to inject markup into a report a person opens in a browser or a CI server parses.

/// Escapes `s` for HTML text and (double- or single-quoted) attribute values.
///
/// Control characters other than tab, newline and carriage return are replaced by U+FFFD:
/// they are parse errors in HTML and would make the same text invalid in the XML outputs.
pub fn html(s: &str) -> String {
    escape(s)
}

/// Escapes `s` for XML 1.0 character data and attribute values.
///
/// Characters XML 1.0 forbids outright (C0 controls other than tab, newline and carriage
/// return; U+FFFE, U+FFFF) cannot even be written as character references, so they are
/// replaced by U+FFFD. Newlines and tabs in attribute values are written as character
/// references so that an XML parser's attribute normalisation keeps them.
pub fn xml(s: &str) -> String {
    escape(s)
}

/// Escapes `s` for an XML attribute value, keeping newlines and tabs (see [`xml`]).
pub fn xml_attr(s: &str) -> String {
    escape(s)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` as a Markdown code span: shown literally whatever it holds (CommonMark does not read
/// HTML or emphasis inside code spans). Newlines become spaces (a span is one line), and the
/// fence is one backtick longer than the longest run of backticks inside.
pub fn md_code(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space inside the fence; CommonMark
    // strips one space on each side when both are present.
    if flat.starts_with('`') || flat.ends_with('`') || flat.is_empty() {
        format!("{fence} {flat} {fence}")
    } else {
        format!("{fence}{flat}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("plain text/+sig"), "plain text/+sig");
        assert_eq!(html("a\nb\tc"), "a\nb\tc");
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(html("a\u{0}b\u{1b}[31m"), "a\u{fffd}b\u{fffd}[31m");
        assert_eq!(xml("\u{ffff}\u{8}"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn xml_attributes_keep_newlines_as_references() {
        assert_eq!(xml_attr("a\nb\"<"), "a&#10;b&quot;&lt;");
        assert_eq!(xml("]]>"), "]]&gt;");
    }

    #[test]
    fn markdown_code_spans_survive_backticks_and_newlines() {
        assert_eq!(md_code("a/b"), "`a/b`");
        assert_eq!(md_code("x`y"), "``x`y``");
        assert_eq!(md_code("`x"), "`` `x ``");
        assert_eq!(md_code("<b>\nhi"), "`<b> hi`");
        assert_eq!(md_code(""), "`  `");
    }
}
