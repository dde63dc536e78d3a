#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of fuzz/ with clang++ (ASan + UBSan +
# -fsanitize=fuzzer) in build-fuzz/, then runs each for SECONDS (default 60)
# from its seed corpus fuzz/corpus/<target>/. The corpus grown by a run is
# kept in build-fuzz/corpus/<target>/ (reused by the next run); the inputs of
# findings land in build-fuzz/artifacts/<target>/. An input taking more than
# 1 s, a process above 2 GB, a crash, leak or sanitizer report fails the
# target. Ends with one line: `N passed, M failed`.
#
#   tools/fuzz.sh [-t SECONDS] [target...]    (default: every target)
#   tools/fuzz.sh -l                          (list the targets)
#
# Long campaigns: see docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

seconds=60
list=0
while getopts "t:lh" opt; do
  case "$opt" in
  t) seconds="$OPTARG" ;;
  l) list=1 ;;
  h | *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    [ "$opt" = h ] && exit 0 || exit 2
    ;;
  esac
done
shift $((OPTIND - 1))

all=(policy_fuzz bob_search_fuzz bob_employee_fuzz bob_fields_fuzz jumpcloud_users_fuzz cache_fields_fuzz
  plan_json_fuzz webhook_fuzz)
if [ "$list" -eq 1 ]; then
  printf '%s\n' "${all[@]}"
  exit 0
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all[@]}")
fi

build="$root/build-fuzz"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Every first-party object gets coverage instrumentation (fuzzer-no-link);
# only the fuzz executables link libFuzzer's main. BUILD_TESTING=OFF: the
# tests are built by the g++ and sanitizer builds, not here.
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBOBSYNC_FUZZ=ON -DBUILD_TESTING=OFF -DBOBSYNC_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" "${launcher[@]}" >/dev/null
nice cmake --build "$build" -j2 --target "${targets[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
passed=0
failed=0
failures=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  log="$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  seeds="$root/fuzz/corpus/$t"
  status=0
  # Grows $corpus; reads the checked-in seeds too. -max_len covers the
  # largest seed (a 38 KB employee list).
  "$build/fuzz/$t" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1 || status=$?
  execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t: ok, $execs executions in ${seconds}s, corpus $files inputs / $bytes bytes"
  else
    failed=$((failed + 1))
    failures+=("$t")
    echo "fuzz: $t: FAILED (exit $status) after $execs executions; log $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz property violated|artifact_prefix|Test unit written)' \
      "$log" | head -8 | sed 's/^/  /'
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
