#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (FUZZ_JOBS at a
# time), starting from its seed corpus and what earlier runs kept, then prints executions and
# coverage per target. A crash or leak fails the run; its input is kept for a regression test.
#   tools/fuzz.sh BUILD_DIR SECONDS [JOBS]      (FUZZ_TARGETS="event png" runs only those)
set -euo pipefail
build=$1 seconds=$2 jobs=${3:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
read -r -a targets <<< "${FUZZ_TARGETS:-tfrecord event events_cli bundle idx png}"

run_one() { # target: one libFuzzer run, its log in $build/fuzz-logs/<target>.log
  local t=$1 work="$build/fuzz-corpus/$1" crashes="$build/fuzz-crashes/$1"
  mkdir -p "$work" "$crashes" "$build/fuzz-logs"
  # bounded memory is part of the contract: no input of a few KiB may make us allocate 256 MiB
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$root/tests/fuzz/corpus/$t" \
    > "$build/fuzz-logs/$t.log" 2>&1 && echo "$t ok" || echo "$t FAILED"
}
export -f run_one
export build seconds root
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

echo
printf '%-12s %12s %10s %10s %8s %10s  %s\n' target executions "exec/s" coverage features corpus result
status=0
for t in "${targets[@]}"; do
  log="$build/fuzz-logs/$t.log"
  execs=$(awk -F: '/stat::number_of_executed_units/ { gsub(/ /, "", $NF); print $NF }' "$log")
  rate=$(awk -F: '/stat::average_exec_per_sec/ { gsub(/ /, "", $NF); print $NF }' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<< "$last")
  found=$(ls "$build/fuzz-crashes/$t" 2>/dev/null | wc -l)
  result=ok
  if [ "$found" -gt 0 ] || grep -qE "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
    result="FAILED: see $log; copy the input from $build/fuzz-crashes/$t to tests/fuzz/corpus/$t/crash-<name>"
    status=1
  fi
  printf '%-12s %12s %10s %10s %8s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $status
