#!/usr/bin/env bash
# Smoke test of the cargo-fuzz targets in fuzz/, on stable Rust with nothing installed (no
# cargo-fuzz, no nightly): formatting and lints of the fuzz crate (it is outside the root
# workspace, so the root's fmt/clippy never see it), a libFuzzer build with the coverage flags
# cargo-fuzz itself passes (less the sanitizer), then each target for FUZZ_SMOKE_SECS seconds
# (default 20) on a fresh corpus (the case files of examples/). Fails if a target crashes, writes an artifact, or
# does not run at all. Everything it writes (corpus, artifacts, case store) is in a temporary
# directory, removed at exit.
#
#   scripts/fuzz-smoke.sh                     what .ci/run calls
#   FUZZ_SMOKE_SECS=60 scripts/fuzz-smoke.sh  longer runs
#   FUZZ_SMOKE_KEEP=1 scripts/fuzz-smoke.sh   keep the temporary directory (printed)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SMOKE_SECS:-20}
manifest=fuzz/Cargo.toml
host=$(rustc -vV | sed -n 's/host: //p')
targets=(differential case_format)
started=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgdiff-fuzz-smoke.XXXXXX")
if [[ -n "${FUZZ_SMOKE_KEEP:-}" ]]; then
    echo "fuzz-smoke: keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi

echo "fuzz-smoke: cargo fmt --check ($manifest)"
cargo fmt --manifest-path "$manifest" -- --check

# The flags cargo-fuzz passes, without -Zsanitizer (docs/fuzzing.md): scripts/fuzz-build.sh,
# which also builds bench power's planted-bug target. A separate invocation so they do not leak
# into clippy below.
echo "fuzz-smoke: building the targets with SanitizerCoverage (release, $host)"
bin_dir=$(scripts/fuzz-build.sh | tail -n 1)

# Normal flags, no sanitizer. Same profile and target as the build above, so the build scripts
# and proc-macros are reused. Their runs are not (cargo keys them by RUSTFLAGS), and a check
# links nothing, so skip the two C/C++ builds they would redo (about a minute cold on 2 cores)
# with the crates' own switches: a "custom" libFuzzer that is never linked, and a system SQLite
# that is never linked either.
echo "fuzz-smoke: cargo clippy -D warnings ($manifest)"
CUSTOM_LIBFUZZER_PATH=/nonexistent/clippy-links-no-libfuzzer.a LIBSQLITE3_SYS_USE_PKG_CONFIG=1 \
    cargo clippy --release --target "$host" --manifest-path "$manifest" -- -D warnings
built=$SECONDS

failed=0
for t in "${targets[@]}"; do
    dir=$tmp/$t
    mkdir -p "$dir/corpus" "$dir/artifacts"
    # Real case files: the parser's best start, and `differential` reads them as cases too.
    find examples -name '*.case' -exec cp {} "$dir/corpus/" \;
    args=("$dir/corpus" "-max_total_time=$secs" "-artifact_prefix=$dir/artifacts/")
    [[ -f fuzz/$t.dict ]] && args+=("-dict=fuzz/$t.dict")
    echo "fuzz-smoke: $t for ${secs}s"
    status=0
    # The case store goes to the temporary directory too, so CI leaves no cgdiff.db behind.
    CGDIFF_DB=$dir/cgdiff.db "$bin_dir/$t" "${args[@]}" >"$dir/log" 2>&1 || status=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -n 1 || true)
    artifacts=$(find "$dir/artifacts" -type f | wc -l)
    if [[ $status -ne 0 || -z $done_line || $artifacts -ne 0 ]]; then
        failed=1
        echo "fuzz-smoke: FAIL $t (exit $status, $artifacts artifact(s)); end of its log:"
        tail -n 60 "$dir/log" | sed 's/^/    /'
        for a in "$dir"/artifacts/*; do
            [[ -f $a ]] || continue
            # Kept where cargo fuzz keeps artifacts (git-ignored), since $tmp goes away.
            mkdir -p "fuzz/artifacts/$t"
            cp "$a" "fuzz/artifacts/$t/"
            echo "    artifact saved as fuzz/artifacts/$t/$(basename "$a"), hex:"
            od -An -tx1 -v "$a" | head -n 20 | sed 's/^/      /'
        done
        continue
    fi
    note=
    if [[ $t == differential ]]; then
        note="  (signatures stored: $(grep -c '^cgdiff: stored case' "$dir/log" || true))"
    fi
    summary=$(echo "${done_line#*DONE}" | tr -s '[:space:]' ' ')
    echo "fuzz-smoke: ok   $t:${summary% }$note"
done

# The crash modes on the written-up findings: `unexpected` crashes on one, `unlisted` (what
# .clusterfuzzlite/build.sh bakes in) on none, since docs/findings.md lists them all.
modes=$tmp/modes
mkdir -p "$modes"
status=0
CGDIFF_DB=$modes/cgdiff.db CGDIFF_FUZZ_CRASH=unlisted "$bin_dir/differential" \
    -artifact_prefix="$modes/" examples/findings/*.case >"$modes/unlisted.log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
    failed=1
    echo "fuzz-smoke: FAIL CGDIFF_FUZZ_CRASH=unlisted crashed on a listed finding (exit $status):"
    grep -m 3 -A 2 'panicked' "$modes/unlisted.log" | sed 's/^/    /'
fi
status=0
CGDIFF_DB=$modes/cgdiff.db CGDIFF_FUZZ_CRASH=unexpected "$bin_dir/differential" \
    -artifact_prefix="$modes/" examples/findings/legacy-enomem-no-cancel.case \
    >"$modes/unexpected.log" 2>&1 || status=$?
if [[ $status -eq 0 ]]; then
    failed=1
    echo "fuzz-smoke: FAIL CGDIFF_FUZZ_CRASH=unexpected did not crash on an unexpected divergence"
else
    echo "fuzz-smoke: ok   crash modes (unlisted: no crash on docs/findings.md's cases; unexpected: crash)"
fi

echo "fuzz-smoke: $((SECONDS - started))s in all (build and lints $((built - started))s)"
if [[ $failed -ne 0 ]]; then
    echo "fuzz-smoke: a fuzz target failed; reproduce with" \
        "\`$bin_dir/TARGET fuzz/artifacts/TARGET/crash-...\` (docs/fuzzing.md)"
    exit 1
fi
