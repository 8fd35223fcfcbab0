//! The normal build is the normal models: no planted bug can be switched on.
//!
//! Integration tests link the engine library as every other crate does — without `cfg(test)`,
//! so without the planted-bug switch unless the `planted-bugs` feature is on. The planted bugs
//! themselves are tested by the engine's unit tests (`src/planted.rs`), where `cfg(test)`
//! compiles the switch in; `tests/regressions.rs` checks, in this normal build, that the
//! stored verdicts are unchanged.

#[cfg(not(feature = "planted-bugs"))]
#[test]
fn the_normal_engine_has_no_planted_bug_switch() {
    // `World` has no `planted` field and `World::bug` is a `const fn` returning false. Checked
    // at compile time: a normal build with the switch would not even build this test.
    const { assert!(!cgdiff_engine::planted::COMPILED) };
}
