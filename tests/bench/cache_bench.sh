# tests/bench/cache_bench.sh - the cache stage's speed: LINES (default
# 20,000) distinct requests of about 600 bytes filled into a fresh cache
# through the loopback mock provider (the miss path: a lookup, the call,
# a batched write), then the same file again (the hit path: a lookup and
# the stored answer, no call), against a pass-through pipeline (`jq
# program=.`) over the same lines for the runner's own cost.  Prints
# requests per second of each, the provider calls of the second run
# (must be 0) and the database's size.  CPU time is printed beside
# wall time: on a shared machine the wall figure says more about the
# load.  Input generated, deterministic.
#
#   BUILD=build sh tests/bench/cache_bench.sh
#   LINES=100000 BUILD=build sh tests/bench/cache_bench.sh

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
MOCKPROV=$BUILD/tests/mockprov
LINES=${LINES:-20000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-cbench.XXXXXX")
mock=
trap '[ -n "$mock" ] && kill "$mock" 2>/dev/null; rm -rf "$TMP"' EXIT

if [ ! -x "$LLMROUTE" ] || [ ! -x "$MOCKPROV" ] ||
   [ ! -f "$BUILD/lib/llmroute/cache.so" ]; then
  echo "cache_bench: build first (make BUILD=$BUILD)" >&2
  exit 1
fi

awk -v n="$LINES" 'BEGIN {
  split("invoice total amount customer order shipping address refund " \
        "please summarize extract translate classify following text json " \
        "schema field value date number name email product quantity", w, " ")
  nw = 0; for(k in w) nw++
  seed = 4242
  for(i = 1; i <= n; i++) {
    t = ""
    while(length(t) < 450) {
      seed = (seed * 16807) % 2147483647
      t = t (t == "" ? "" : " ") w[1 + seed % nw]
    }
    printf "{\"custom_id\":\"c%07d\",\"body\":{\"model\":\"c-small\"," \
           "\"temperature\":0.2,\"max_tokens\":200,\"messages\":[{\"role\":" \
           "\"user\",\"content\":\"%d: %s\"}]}}\n", i, i, t
  }
}' >"$TMP/in.jsonl"

"$MOCKPROV" --port 0 --port-file "$TMP/port" --log "$TMP/mock.log" \
  2>/dev/null &
mock=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
export LLMROUTE_OA_BASE_URL=http://127.0.0.1:$(cat "$TMP/port")/v1
export LLMR_TEST_CACHE_KEY=bench-key CACHE_DB=$TMP/cache.db

now() { date +%s.%N; }
# measure NAME OUT ARGS...: run llmroute ARGS > OUT; print requests/s of
# wall time and of CPU time (user + system: the machine may be shared)
measure() {
  _name=$1 _out=$2
  shift 2
  _t0=$(now)
  _cpu=$( { "$LLMROUTE" "$@" >"$_out"; times; } | tail -n 1)
  _t1=$(now)
  echo "$_t0 $_t1 $LINES $_cpu" | awk -v name="$_name" '{
    split($4, u, /[ms]/); split($5, y, /[ms]/)
    cpu = u[1] * 60 + u[2] + y[1] * 60 + y[2]
    printf "%-30s %8.0f req/s wall (%.2f s), %8.0f req/s CPU (%.2f s)\n",
      name, $3 / ($2 - $1), $2 - $1, (cpu > 0 ? $3 / cpu : 0), cpu }'
}

P=tests/fixtures/cache/cache.pipeline
printf '%s\n' 'jq program=.' >"$TMP/pass.pipeline"

measure "pass-through (jq program=.)" /dev/null -q -p "$TMP/pass.pipeline" \
  -j 256 "$TMP/in.jsonl"
measure "fill: miss, call, store" "$TMP/fill.out" -q -p "$P" -j 256 \
  "$TMP/in.jsonl"
calls1=$(wc -l <"$TMP/mock.log")
measure "re-run: every request a hit" "$TMP/hit.out" -q -p "$P" -j 256 \
  "$TMP/in.jsonl"
calls2=$(($(wc -l <"$TMP/mock.log") - calls1))
hits=$(grep -c '"cache":"hit"' "$TMP/hit.out")

echo "requests: $LINES; provider calls: fill $calls1, re-run $calls2;" \
  "hits $hits"
echo "database: $(du -k "$TMP/cache.db" | cut -f1) KiB," \
  "$(sqlite3 "$TMP/cache.db" 'select count(*) from cache' 2>/dev/null) rows"
echo "reproduce: LINES=$LINES BUILD=$BUILD sh tests/bench/cache_bench.sh"
