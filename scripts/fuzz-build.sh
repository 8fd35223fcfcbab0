#!/usr/bin/env bash
# Builds the cargo-fuzz targets of fuzz/ on stable Rust with nothing installed (no cargo-fuzz, no
# nightly): release, with the SanitizerCoverage flags cargo-fuzz itself passes, less the
# sanitizer (docs/fuzzing.md). `--target` keeps the flags off build scripts and proc-macros.
# Prints the directory holding the binaries on its last line.
#
#   scripts/fuzz-build.sh            the normal targets (what scripts/fuzz-smoke.sh runs)
#   scripts/fuzz-build.sh --planted  the targets with the planted-bug switch (feature
#                                    planted-bugs), in their own target directory so the normal
#                                    binaries stay as they are: `cgdiff bench power`'s libFuzzer
#                                    finder runs fuzz/target/planted/<host>/release/differential
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=fuzz/Cargo.toml
host=$(rustc -vV | sed -n 's/host: //p')
extra=()
if [[ ${1:-} == --planted ]]; then
    extra=(--features planted-bugs --target-dir fuzz/target/planted)
fi

RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions -Ccodegen-units=1" \
    cargo build --release --manifest-path "$manifest" --target "$host" "${extra[@]}" >&2

if [[ ${1:-} == --planted ]]; then
    echo "fuzz/target/planted/$host/release"
else
    # Wherever cargo put them (CARGO_TARGET_DIR or a config may move fuzz/target).
    target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    echo "${target_dir:-fuzz/target}/$host/release"
fi
