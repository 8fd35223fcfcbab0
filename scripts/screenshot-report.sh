#!/usr/bin/env bash
# Renders a cgdiff report and takes a headless-Chromium screenshot of it, to check by eye that
# the page draws (and to attach to a review). Installs Chromium from the distribution if it is
# missing.
#
#   scripts/screenshot-report.sh [DB] [OUT_DIR]
#
# DB defaults to cgdiff.db; without it (or when it does not exist) a small database is made
# with a 2000-case campaign. The report goes to OUT_DIR (default: target/report-screenshot/),
# the screenshot to OUT_DIR/screenshot.png. Fails if the PNG is missing or suspiciously small.
set -euo pipefail
cd "$(dirname "$0")/.."

db=${1:-cgdiff.db}
out=${2:-target/report-screenshot}
mkdir -p "$out"
out=$(cd "$out" && pwd)

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "screenshot-report: installing chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi

cargo build --release -q
cgdiff=target/release/cgdiff
if [ ! -f "$db" ]; then
    db="$out/sample.db"
    rm -f "$db" "$db-wal" "$db-shm"
    echo "screenshot-report: no database given, making $db" >&2
    # Exit 1 = new unexpected signatures stored: expected on a fresh database.
    "$cgdiff" fuzz --cases 2000 --seed 1 --db "$db" --json >/dev/null || [ $? -eq 1 ]
    "$cgdiff" replay --all --db "$db" >/dev/null || [ $? -eq 1 ]
fi
"$cgdiff" report --db "$db" --out "$out"

png="$out/screenshot.png"
rm -f "$png"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# No network, no first-run or background work: the page is self-contained, and a sandboxed CI
# machine has nothing to reach.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$png" \
    --window-size=1280,2400 "file://$out/index.html" 2>"$out/chromium.log" || {
    echo "screenshot-report: chromium failed, see $out/chromium.log" >&2
    exit 1
}

size=$(stat -c %s "$png" 2>/dev/null || echo 0)
# A blank 1280x2400 page compresses to a few kilobytes; a drawn report is far bigger.
if [ "$size" -lt 30000 ]; then
    echo "screenshot-report: $png is missing or only $size bytes: the page did not draw" >&2
    exit 1
fi
echo "screenshot-report: $png ($size bytes) of $out/index.html"
