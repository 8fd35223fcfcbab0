#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: the cargo fuzz targets of fuzz/ into $OUT, with the
# sanitizer the service asks for ($SANITIZER; cargo fuzz build reads it through RUSTFLAGS set by
# the base image).
#
# A fuzzing service's runner has no source tree and sets no environment of ours, so two
# defaults are baked in (docs/scale-out.md):
# - CGDIFF_FUZZ_CRASH_DEFAULT=unlisted: the differential target crashes on an unexpected
#   divergence that docs/findings.md does not list, so only new findings come back, as crash
#   artifacts (`cgdiff import` them);
# - CGDIFF_DB_DEFAULT: the case store it also feeds goes to /tmp, not to a missing checkout.
cd "$SRC/cgdiff"

export CGDIFF_FUZZ_CRASH_DEFAULT=unlisted
export CGDIFF_DB_DEFAULT=/tmp/cgdiff-fuzz.db

cargo fuzz build -O

target_dir=fuzz/target/x86_64-unknown-linux-gnu/release
for target in differential case_format; do
    cp "$target_dir/$target" "$OUT/"
done
# The parser target's dictionary: libFuzzer picks up TARGET.dict beside the binary.
cp fuzz/case_format.dict "$OUT/case_format.dict"
