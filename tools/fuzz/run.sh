#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 60), seeded with Fixtures/fuzz/<target>/.
# New inputs found go to tools/fuzz/corpus-work/<target>/ (not committed). A crash stops the run
# and leaves crash-* in tools/fuzz/out/; copy it into Fixtures/fuzz/<target>/ so the regression
# test (MediaWireTests.FuzzRegressionTests) replays it forever.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tools/fuzz/build.sh"
status=0
for target_file in "$root"/tools/fuzz/targets/*.swift; do
  name=$(basename "$target_file" .swift)
  work="$root/tools/fuzz/corpus-work/$name"
  mkdir -p "$work" "$root/Fixtures/fuzz/$name"
  dict=()
  [ -f "$root/tools/fuzz/dictionaries/$name.dict" ] && dict=(-dict="$root/tools/fuzz/dictionaries/$name.dict")
  echo "== fuzz-$name for ${seconds}s"
  if ! (cd "$root/tools/fuzz/out" && ./fuzz-"$name" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" "$work" "$root/Fixtures/fuzz/$name" 2>&1 | tail -n 12); then
    echo "fuzz-$name FAILED: see tools/fuzz/out/crash-*"
    status=1
  fi
done
exit $status
