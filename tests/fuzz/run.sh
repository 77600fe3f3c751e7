#!/usr/bin/env bash
# Longer fuzzing runs than ctest's (20 s a target), one target after another:
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default 600 s, every target
#
# Builds the fuzz preset (clang, ASan + UBSan) first. Each target starts from
# the seed corpus (tests/fuzz/corpus/T) plus what earlier runs found
# (build/fuzz/tests/fuzz/corpus-T, kept between runs); a crash, leak, hang
# (>10 s), sanitizer report or >2 GiB RSS stops it and leaves the input as
# build/fuzz/tests/fuzz/corpus-T/crash-* (or leak-*, timeout-*, oom-*).
# Exit status: 0 when every target ran clean. The last line of each run is
# libFuzzer's stat::number_of_executed_units.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(hit_parser udp_lines config http_request import_csv beacon_token hash)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
status=0
for t in "${targets[@]}"; do
  work=build/fuzz/tests/fuzz/corpus-$t
  mkdir -p "$work"
  dict=()
  [ -f tests/fuzz/$t.dict ] && dict=(-dict=tests/fuzz/$t.dict)
  echo "== fuzz_$t for ${seconds}s"
  rc=0
  build/fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=77 -print_final_stats=1 -artifact_prefix="$work/" "${dict[@]}" \
    "$work" tests/fuzz/corpus/$t >"$work.log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|SUMMARY|FUZZ_CHECK|==[0-9]+==ERROR)" "$work.log" || true
  if [ "$rc" -ne 0 ]; then
    echo "== fuzz_$t FAILED (exit $rc): log $work.log, input in $work/" >&2
    tail -n 40 "$work.log" >&2
    status=1
  fi
done
exit $status
