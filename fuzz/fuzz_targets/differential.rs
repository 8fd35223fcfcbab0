//! Bytes → case (`cgdiff_fuzz::decode`: the generator, or a case file) → both models through
//! the oracle. Divergences with a signature this process has not met yet go to the case store
//! (`CGDIFF_DB`, default `cgdiff.db` at the repository root) with the bytes they came from;
//! `CGDIFF_FUZZ_CRASH=unexpected|any` turns divergences into crashes too. Built with the
//! `planted-bugs` feature and run with `CGDIFF_PLANTED_BUG=NAME`, it instead crashes on the
//! first input whose verdict that planted bug changes (`cgdiff bench power`). See
//! docs/fuzzing.md.
#![no_main]

use cgdiff_engine::format;
use cgdiff_fuzz::{crash_mode, decode, hints, init_from_env, sink};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(
    init: init_from_env("differential"),
    |data: &[u8]| -> Corpus {
        // Bytes through the generator (every byte string is a case), or a case file.
        let Some(case) = decode(data) else {
            return Corpus::Reject;
        };
        // The designs differ only in migrations: without one there is nothing to compare.
        if !case.ops.iter().any(|c| c.op.kind().is_migration()) {
            return Corpus::Reject;
        }
        let report = hints::check(&case);
        // Planted mode (`cgdiff bench power`): stop at the first input that shows the bug,
        // with the same definition of "shows" as the other finders; nothing is stored.
        #[cfg(feature = "planted-bugs")]
        if let Some(bug) = cgdiff_fuzz::planted_bug() {
            let planted = cgdiff_engine::oracle::check_with_bug(&case, bug);
            if cgdiff_engine::planted::verdict_changed(
                report.verdict.divergence(),
                planted.verdict.divergence(),
            )
            .is_some() {
                panic!("planted bug {bug} shows\n{}", format::print(&case));
            }
            return Corpus::Keep;
        }
        let d = report.verdict.divergence();
        sink::count(report.ops_executed, &report.coverage, d.is_some());
        if let Some(d) = d {
            if sink::first_time(&d.signature) {
                sink::record(&case, data, d);
            }
            if crash_mode().crashes_on(d) {
                panic!(
                    "divergence {} after operation {} ({})\n{}",
                    d.signature,
                    d.op_index,
                    d.rule
                        .map_or("no expected-difference rule covers it".to_string(), |r| {
                            format!("expected: {r}")
                        }),
                    format::print(&case),
                );
            }
        }
        Corpus::Keep
    }
);
