# tests/bench/log_bench.sh - what the log stage costs a fast run: the
# audit pipeline (classify, price, route; no network) over LINES
# (default 20,000) generated batch lines of about 800 bytes, without the
# log stage, then with `log db=FILE` (prompt text stored), with
# prompt=hash, and with batch=1 (a transaction per row: what batching
# saves).  Then a calling pipeline (price, route, call) against the
# project's loopback mock provider over MOCK_LINES (default 5,000) of
# the same lines, -j 64, without and with the log stage.  Best of RUNS
# (default 3) wall-clock times; requests per second, the overhead
# against no log, and the size of the file.
#
#   BUILD=build sh tests/bench/log_bench.sh
#   LINES=100000 RUNS=5 BUILD=build sh tests/bench/log_bench.sh

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
LINES=${LINES:-20000}
MOCK_LINES=${MOCK_LINES:-5000}
RUNS=${RUNS:-3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-logbench.XXXXXX")
mock_pid=""
trap '[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$TMP"' EXIT

if [ ! -f "$BUILD/lib/llmroute/log.so" ] || ! [ -x "$LLMROUTE" ]; then
  echo "log_bench: build first (make BUILD=$BUILD)" >&2
  exit 1
fi
sh tests/bench/passthrough.sh --gen "$LINES" >"$TMP/in.jsonl"
# the shipped audit pipeline, plus a log line; its relative paths
# (models.json, router.model) resolve to the shipped files
grep -v '^#' pipelines/audit.pipeline >"$TMP/audit.pipeline"
variant() { # variant NAME LOG_OPTIONS
  cp "$TMP/audit.pipeline" "$TMP/$1.pipeline"
  echo "log db=$TMP/$1.db $2" >>"$TMP/$1.pipeline"
}
variant log ""
variant hash "prompt=hash"
variant batch1 "batch=1"

now() { date +%s.%N; }
# CPU seconds (user + system) of a run through GNU time when present: on
# a shared machine the wall clock says more about the neighbours
if [ -x /usr/bin/time ] && /usr/bin/time -f '%U' true >/dev/null 2>&1; then
  timed() { /usr/bin/time -f '%U %S' -o "$TMP/cpu" "$@"; }
else
  timed() { echo "0 0" >"$TMP/cpu"; "$@"; }
fi
best() { # best NAME [INPUT [ARGS]]: "WALL CPU", the best of RUNS each
  _best="" _cpu=""
  for _r in $(seq 1 "$RUNS"); do
    rm -f "$TMP/$1.db" "$TMP/$1.db-wal" "$TMP/$1.db-shm"
    _t0=$(now)
    timed "$LLMROUTE" -q -p "$TMP/$1.pipeline" ${3:-} \
      "${2:-$TMP/in.jsonl}" >/dev/null ||
      { echo "log_bench: $1 failed" >&2; exit 1; }
    _t=$(echo "$_t0 $(now)" | awk '{ printf "%.3f", $2 - $1 }')
    _c=$(awk '{ printf "%.2f", $1 + $2 }' "$TMP/cpu")
    if [ -z "$_best" ]; then _best=$_t _cpu=$_c
    else
      _best=$(echo "$_best $_t" | awk '{ print ($2 < $1) ? $2 : $1 }')
      _cpu=$(echo "$_cpu $_c" | awk '{ print ($2 < $1) ? $2 : $1 }')
    fi
  done
  echo "$_best $_cpu"
}
# line LABEL N "WALL CPU" ["WALL CPU" of no log] [EXTRA]
line() {
  echo "$3 ${4:-x x}" | awk -v l="$1" -v n="$2" -v x="${5:-}" '{
    printf "  %-17s %7.3f s %7.0f req/s, CPU %5.2f s", l ":", $1,
      n / $1, $2
    if($3 != "x")
      printf " (%+5.1f%% wall; %+4.0f us CPU a request)",
        100 * ($1 - $3) / $3, 1e6 * ($2 - $4) / n
    printf "%s\n", x
  }'
}

base=$(best audit)
echo "log_bench: $LINES lines, audit pipeline, best of $RUNS"
line "no log" "$LINES" "$base"
for v in log hash batch1; do
  t=$(best $v)
  size=$(du -k "$TMP/$v.db" | cut -f1)
  rows=$(sqlite3 "$TMP/$v.db" 'select count(*) from requests' 2>/dev/null ||
    echo "?")
  case $v in
    log) label="log db=F" ;;
    hash) label="log prompt=hash" ;;
    batch1) label="log batch=1" ;;
  esac
  line "$label" "$LINES" "$t" "$base" \
    "; $rows rows, $(echo "$size" | awk '{ printf "%.1f", $1 / 1024 }') MB"
done

# --- a calling pipeline against the loopback mock provider ----------------
"$BUILD/tests/mockprov" --port 0 --port-file "$TMP/port" 2>/dev/null &
mock_pid=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=http://127.0.0.1:$(cat "$TMP/port")
cat >"$TMP/models.json" <<EOM
{"providers":{"mock":{"format":"openai","base_url":"$url/v1",
                      "api_key_env":"LLMR_LOGBENCH_KEY"}},
 "models":{"m-1":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
   "context_tokens":100000,"max_output_tokens":1000,
   "deployments":[{"provider":"mock","model":"m-1"}]}}}
EOM
printf 'set catalog=models.json baseline=m-1\nprice\nroute policy=cheapest-capable\ncall timeout=20 retries=0\n' \
  >"$TMP/mock.pipeline"
cp "$TMP/mock.pipeline" "$TMP/mocklog.pipeline"
echo "log db=$TMP/mocklog.db" >>"$TMP/mocklog.pipeline"
head -n "$MOCK_LINES" "$TMP/in.jsonl" >"$TMP/mock.jsonl"
export LLMR_LOGBENCH_KEY=bench
mbase=$(best mock "$TMP/mock.jsonl" "-j 64")
mlog=$(best mocklog "$TMP/mock.jsonl" "-j 64")
echo "log_bench: $MOCK_LINES lines, price/route/call on the loopback mock," \
  "-j 64, best of $RUNS (CPU: llmroute only)"
line "no log" "$MOCK_LINES" "$mbase"
line "log db=F" "$MOCK_LINES" "$mlog" "$mbase"
echo "  reproduce: LINES=$LINES MOCK_LINES=$MOCK_LINES RUNS=$RUNS BUILD=$BUILD sh tests/bench/log_bench.sh"
