//! Arbitrary bytes into what `cgdiff import` and `cgdiff run` decide a file is
//! (`cgdiff_engine::input`), with and without a `*.case` name: it never panics; a file the rule
//! calls a case file is parsed or refused with a line and column inside the file and a short
//! message, never read as raw bytes; a libFuzzer input decodes to a valid case; and whatever
//! parses prints canonically and parses back to the same case (and the same `expect`).
#![no_main]

use cgdiff_engine::format;
use cgdiff_engine::input::{self, Input, Kind};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    for name in [None, Some("input.case")] {
        let kind = input::kind(name, data);
        match input::decode(name, data) {
            Ok(Input::FuzzInput(case)) => {
                assert_eq!(kind, Kind::FuzzInput, "decoded as bytes against the rule");
                assert!(case.validate().is_ok(), "a libFuzzer input decoded invalid");
            }
            Err(e) => {
                assert_eq!(kind, Kind::CaseFile, "a libFuzzer input failed to decode");
                let lines = data.split(|&b| b == b'\n').count();
                assert!(
                    e.line >= 1 && e.line <= lines.max(1) && e.column >= 1,
                    "error outside the file: {e}"
                );
                // Long bad words are quoted cut short.
                assert!(
                    e.message.len() < 1000,
                    "a long message: {} bytes",
                    e.message.len()
                );
            }
            Ok(Input::CaseFile(file)) => {
                assert_eq!(kind, Kind::CaseFile, "parsed against the rule");
                round_trip(&file);
            }
        }
    }
    Corpus::Keep
});

fn round_trip(file: &format::CaseFile) {
    let printed = format::print(&file.case);
    let again = format::parse(&printed)
        .unwrap_or_else(|e| panic!("printed case does not parse: {e}\n{printed}"));
    assert_eq!(
        again.case, file.case,
        "print/parse changed the case\n{printed}"
    );
    assert_eq!(again.expect, None, "print wrote an expect line\n{printed}");
    let printed_file = format::print_file(file);
    let again = format::parse(&printed_file)
        .unwrap_or_else(|e| panic!("printed case file does not parse: {e}\n{printed_file}"));
    assert_eq!(
        &again, file,
        "print_file/parse changed the file\n{printed_file}"
    );
    // Canonical: printing is a fixed point.
    assert_eq!(format::print(&again.case), printed);
}
