//! What a file handed to cgdiff is: a case file or a raw libFuzzer input. One rule, in one
//! place, used by every reader — `cgdiff run`, `explain`, `minimize` and `replay` on a file,
//! `cgdiff import`, the `differential` fuzz target and the test of the kept fuzz inputs — so
//! that they never disagree on what a file is:
//!
//! - a file named `*.case` is a case file;
//! - so is a file whose first line that is neither blank nor a `#` comment (after an optional
//!   UTF-8 byte order mark) starts with `cgdiff-case`;
//! - anything else is a libFuzzer input, decoded through `Arbitrary` (total: every byte string
//!   is a case).
//!
//! A case file parses or fails with its line and column ([`crate::format::parse_bytes`]: invalid
//! UTF-8 included); it is never reinterpreted as raw bytes. Pure: the caller reads the file.

use crate::case::Case;
use crate::format::{self, CaseFile, ParseError, HEADER_KEYWORD};
use arbitrary::{Arbitrary, Unstructured};

/// What a file is, by [the rule](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    CaseFile,
    FuzzInput,
}

/// A file, decoded by its [`Kind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A case file, parsed (with its `expect`, if any).
    CaseFile(CaseFile),
    /// Raw libFuzzer bytes, decoded as the `differential` fuzz target decodes them.
    FuzzInput(Case),
}

impl Input {
    /// The case, whatever the kind.
    pub fn case(&self) -> &Case {
        match self {
            Input::CaseFile(f) => &f.case,
            Input::FuzzInput(c) => c,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Input::CaseFile(_) => Kind::CaseFile,
            Input::FuzzInput(_) => Kind::FuzzInput,
        }
    }
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What `bytes`, read from a file named `name` (its file name or path; `None` when there is
/// no file, as in a fuzz target), is.
pub fn kind(name: Option<&str>, bytes: &[u8]) -> Kind {
    if name.is_some_and(|n| n.ends_with(".case")) {
        return Kind::CaseFile;
    }
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let first = body
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    match first {
        Some(l) if l.starts_with(HEADER_KEYWORD.as_bytes()) => Kind::CaseFile,
        _ => Kind::FuzzInput,
    }
}

/// Decodes `bytes` by their [`kind`]: a case file parses or fails with its line and column;
/// a libFuzzer input always decodes.
pub fn decode(name: Option<&str>, bytes: &[u8]) -> Result<Input, ParseError> {
    match kind(name, bytes) {
        Kind::CaseFile => format::parse_bytes(bytes).map(Input::CaseFile),
        Kind::FuzzInput => Ok(Input::FuzzInput(fuzz_input(bytes))),
    }
}

/// Raw libFuzzer bytes as a case, exactly as the `differential` target decodes its input.
pub fn fuzz_input(bytes: &[u8]) -> Case {
    // `Case::arbitrary` never fails (the generator is total); the default is unreachable.
    Case::arbitrary(&mut Unstructured::new(bytes)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "cgdiff-case v1\nhierarchy h1 -\nfork 1 2\n";

    #[test]
    fn the_rule() {
        let k = |name, bytes: &[u8]| kind(name, bytes);
        assert_eq!(k(None, CASE.as_bytes()), Kind::CaseFile);
        assert_eq!(
            k(None, b"# a comment\n\n   \t\ncgdiff-case v1\n"),
            Kind::CaseFile
        );
        assert_eq!(k(None, b"\xEF\xBB\xBFcgdiff-case v1\n"), Kind::CaseFile);
        assert_eq!(
            k(None, b"\xEF\xBB\xBF# x\r\ncgdiff-case v9\r\n"),
            Kind::CaseFile
        );
        // Invalid UTF-8 after the header does not make it raw bytes.
        assert_eq!(k(None, b"cgdiff-case v1\nfork \xff\n"), Kind::CaseFile);
        assert_eq!(k(None, b"# \xff\xfe\ncgdiff-case v1\n"), Kind::CaseFile);
        // A damaged header: raw bytes, unless the name says case file.
        assert_eq!(k(None, b"cgdiff-cse v1\n"), Kind::FuzzInput);
        assert_eq!(k(Some("x/y.case"), b"cgdiff-cse v1\n"), Kind::CaseFile);
        assert_eq!(k(Some("crash-1234"), b"\x00\x01\x02"), Kind::FuzzInput);
        assert_eq!(k(None, b""), Kind::FuzzInput);
        assert_eq!(k(Some("empty.case"), b""), Kind::CaseFile);
    }

    #[test]
    fn a_case_file_is_parsed_or_refused_never_read_as_bytes() {
        assert!(matches!(
            decode(None, CASE.as_bytes()),
            Ok(Input::CaseFile(_))
        ));
        let bom = [BOM, CASE.as_bytes()].concat();
        assert_eq!(
            decode(None, &bom).unwrap(),
            decode(None, CASE.as_bytes()).unwrap()
        );
        let e = decode(
            Some("a.case"),
            b"cgdiff-case v1\nhierarchy h1 -\nfork 1 \xff2\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (3, 8), "{e}");
        assert!(decode(Some("a.case"), b"garbage").is_err());
        assert!(matches!(decode(None, b"garbage"), Ok(Input::FuzzInput(_))));
    }
}
