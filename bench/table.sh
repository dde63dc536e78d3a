#!/usr/bin/env bash
# The scaling table of docs/performance.md (`make bench`): runs the benchmarks
# for N = 1,000 / 10,000 / 100,000 and prints one Markdown table. Each
# benchmark prints a line "figures: key=value ..."; this script only collects
# them. A few minutes on a 2-core machine (10,000 creates at 50 ms: ~2 min).
#   bash bench/table.sh [BUILD_DIR=build-release]
#   BENCH_SIZES="1000 10000" bash bench/table.sh     # other columns
set -euo pipefail

bench="${1:-build-release}/bench"
sizes=(${BENCH_SIZES:-1000 10000 100000})
max_creates=${BENCH_MAX_CREATES:-10000} # creates are not run beyond this N

declare -A cell

# value KEY "figures: ..." -> the value of KEY
value() { grep -o "\\b$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }

figures() {
  local line
  line=$("$@" | grep '^figures:' || true)
  if [ -z "$line" ]; then
    echo "table.sh: no figures from: $*" >&2
    exit 1
  fi
  echo "$line"
}

seconds() { printf '%.2f s' "$1"; }

for n in "${sizes[@]}"; do
  echo "table.sh: N=$n ..." >&2
  f=$(figures "$bench/bench_plan" "$n" 3)
  cell[plan,$n]="$(value plan_ms "$f") ms"
  cell[plan_rss,$n]="$(value rss_mb "$f") MB"

  f=$(figures "$bench/bench_read" "$n" --apart)
  cell[read,$n]=$(seconds "$(value read_s "$f")")
  cell[read_plan,$n]=$(seconds "$(value read_plan_s "$f")")
  cell[read_rss,$n]="$(value rss_mb "$f") MB"
  cell[read_requests,$n]=$(value requests "$f")
  cell[parse,$n]=$(seconds "$(value parse_s "$f")")

  f=$(figures "$bench/bench_apply" noop "$n")
  cell[first,$n]=$(seconds "$(value first_s "$f")")
  cell[noop,$n]=$(seconds "$(value cached_s "$f")")
  cell[noop_requests,$n]=$(value cached_requests "$f")
  cell[refresh,$n]=$(seconds "$(value refresh_s "$f")")
  cell[refresh_requests,$n]=$(value refresh_requests "$f")
  cell[noop_rss,$n]="$(value rss_mb "$f") MB"
  cell[bob_alone,$n]=$(seconds "$(value bob_s "$f")")

  for latency in 0 50; do
    if [ "$n" -gt "$max_creates" ]; then
      cell[creates$latency,$n]="not run"
      continue
    fi
    f=$(figures "$bench/bench_apply" creates "$n" "$latency")
    wall=$(value wall_s "$f")
    if [ "$latency" = 0 ]; then
      cell[creates0,$n]="$(seconds "$wall") ($(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.0f", n/w}')/s)"
    else
      floor=$(value floor_s "$f")
      cell[creates50,$n]="$(seconds "$wall") = $(awk -v w="$wall" -v f="$floor" 'BEGIN{printf "%.2f", w/f}') x floor"
    fi
    cell[commits$latency,$n]=$(value commits "$f")
  done
done

row() {
  local key=$1 label=$2 line="| $2 |"
  for n in "${sizes[@]}"; do
    line+=" ${cell[$key,$n]:-} |"
  done
  echo "$line"
}

header="| N employees = N users |"
rule="|---|"
for n in "${sizes[@]}"; do
  header+=" $(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$n") |"
  rule+="---|"
done
echo
echo "$header"
echo "$rule"
row read "read Bob + JumpCloud (fakes in another process)"
row read_requests "requests of that read (1 Bob search + ceil(N/100) pages)"
row parse "split + read Bob's whole answer on one thread (no HTTP)"
row plan "desired state + plan (bench_plan, median of 3)"
row plan_rss "peak RSS of desired state + plan"
row read_plan "read + desired + plan (N changes)"
row read_rss "peak RSS of read + plan (bobsync alone)"
row noop "no-op pass, cached JumpCloud state"
row noop_requests "requests of that pass"
row refresh "no-op pass, full JumpCloud refresh"
row refresh_requests "requests of that pass"
row bob_alone "reading Bob alone, same fake (what a pass cannot avoid)"
row first "first pass on an empty database (list, cache, links)"
row noop_rss "peak RSS of the no-op benchmark (fakes included)"
row creates0 "N creates, no added latency, concurrency 4"
row commits0 "SQLite commits of those creates"
row creates50 "N creates at 50 ms per request, concurrency 4 (floor N x 50 ms / 4)"
row commits50 "SQLite commits of those creates"
