//! Arbitrary text into the case-file parser: it never panics, and whatever parses prints
//! canonically and parses back to the same case (and the same `expect`).
#![no_main]

use cgdiff_engine::format;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let Ok(file) = format::parse(text) else {
        return Corpus::Keep;
    };
    let printed = format::print(&file.case);
    let again = format::parse(&printed)
        .unwrap_or_else(|e| panic!("printed case does not parse: {e}\n{printed}"));
    assert_eq!(
        again.case, file.case,
        "print/parse changed the case\n{printed}"
    );
    assert_eq!(again.expect, None, "print wrote an expect line\n{printed}");
    let printed_file = format::print_file(&file);
    let again = format::parse(&printed_file)
        .unwrap_or_else(|e| panic!("printed case file does not parse: {e}\n{printed_file}"));
    assert_eq!(
        again, file,
        "print_file/parse changed the file\n{printed_file}"
    );
    // Canonical: printing is a fixed point.
    assert_eq!(format::print(&again.case), printed);
    Corpus::Keep
});
