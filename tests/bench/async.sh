# tests/bench/async.sh - concurrency of the event loop: 1,000 jobs that
# each wait 100 ms on a host timer (tests/plugins/sleep_async), -j 1000.
# Ideal: a little over 0.1 s.  Prints the wall time of each of RUNS runs
# (default 5) and the best and median.
#
#   BUILD=build sh tests/bench/async.sh

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
RUNS=${RUNS:-5}
JOBS=${JOBS:-1000}
MS=${MS:-100}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

plug=$(cd "$BUILD/tests/plugins" && pwd) || exit 1
printf '%s/sleep_async.so ms=%s\n' "$plug" "$MS" >"$TMP/sleep.pipeline"
awk -v n="$JOBS" 'BEGIN { for(i = 1; i <= n; i++)
  print "{\"custom_id\":\"j" i "\",\"prompt\":\"x\"}" }' >"$TMP/in.jsonl"

i=0
: >"$TMP/times"
while [ $i -lt "$RUNS" ]; do
  t0=$(date +%s.%N)
  "$LLMROUTE" -p "$TMP/sleep.pipeline" -j "$JOBS" "$TMP/in.jsonl" \
    >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; exit 1; }
  t1=$(date +%s.%N)
  n=$(wc -l <"$TMP/out")
  [ "$n" -eq "$JOBS" ] || { echo "async: $n results, want $JOBS"; exit 1; }
  echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >>"$TMP/times"
  i=$((i + 1))
done
inflight=$(jq -s 'map(.route.sleep.inflight_max) | max' "$TMP/out")
sort -n "$TMP/times" | awk -v jobs="$JOBS" -v ms="$MS" -v fl="$inflight" '
  { t[NR] = $1 }
  END {
    printf "async: %d jobs x %d ms at -j %d, %d runs: best %.3f s, " \
           "median %.3f s (ideal %.3f s; most in flight %d)\n",
           jobs, ms, jobs, NR, t[1], t[int((NR + 1) / 2)], ms / 1000, fl
  }'
echo "async: runs: $(tr '\n' ' ' <"$TMP/times")"
echo "async: reproduce: BUILD=$BUILD sh tests/bench/async.sh" \
     "(RUNS=, JOBS=, MS= to vary)"
