//! The normal build is the normal models: no planted bug can be switched on unless the
//! `planted-bugs` feature asks for it.
//!
//! Integration tests link the engine library as every other crate does — without `cfg(test)`,
//! so without the planted-bug switch unless the `planted-bugs` feature is on. The planted bugs
//! themselves are tested by the engine's unit tests (`src/planted.rs`), where `cfg(test)`
//! compiles the switch in; `tests/regressions.rs` checks, in this normal build, that the
//! stored verdicts are unchanged.

/// Compiled in every build (it used to exist only where its assertion had to hold): the switch
/// is there exactly when the feature is on, so a build that compiled it in regardless fails.
#[test]
fn the_planted_bug_switch_is_compiled_exactly_with_the_feature() {
    assert_eq!(
        cgdiff_engine::planted::COMPILED,
        cfg!(feature = "planted-bugs"),
        "planted::COMPILED does not follow the planted-bugs feature"
    );
}
