#!/bin/sh
# tests/bench/scale_bench.sh - what sharing a run through Redis costs
# (set shared= run=), against the loopback mock answering at once and a
# redis-server started here on loopback:
#
#  1. added latency per request: LAT_N requests one at a time (-j 1),
#     without and with shared= (a budget and an rpm/tpm in the catalog,
#     so every request reserves, settles and takes from two buckets);
#     the difference of the wall times / LAT_N.
#  2. Redis round trips per request: commands Redis processed during the
#     shared run (INFO stats) / LAT_N.
#  3. throughput of 1, 2 and 4 workers: N requests split by
#     `parallel --pipe -N N/W -j W`, without and with shared=.
#
#   BUILD=build sh tests/bench/scale_bench.sh
#   N=4000 LAT_N=1000 BUILD=build sh tests/bench/scale_bench.sh
#
# Prints one "name: value" line per figure; timings are not pass/fail.

BUILD=${BUILD:-build}
N=${N:-4000}
LAT_N=${LAT_N:-1000}
LLMROUTE=$BUILD/bin/llmroute
MOCKPROV=$BUILD/tests/mockprov

cd "$(dirname "$0")/../.." || exit 1
for t in redis-server redis-cli parallel; do
  if ! command -v $t >/dev/null 2>&1; then
    echo "scale_bench: skipped: $t is not installed (make deps)"
    exit 0
  fi
done
if [ ! -x "$LLMROUTE" ] || [ ! -x "$MOCKPROV" ]; then
  echo "scale_bench: build first (make BUILD=$BUILD)" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX")
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# redis on a free loopback port
for try in 1 2 3 4 5 6 7 8; do
  RPORT=$(shuf -i 20000-59999 -n 1)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
    --appendonly no >"$TMP/redis.log" 2>&1 &
  rpid=$!
  up=
  for i in $(seq 1 60); do
    [ "$(redis-cli -p "$RPORT" ping 2>/dev/null)" = PONG ] && up=1 && break
    kill -0 "$rpid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$up" ] && break
  kill "$rpid" 2>/dev/null
done
[ -n "$up" ] || { echo "scale_bench: no redis-server" >&2; exit 1; }
pids="$pids $rpid"

"$MOCKPROV" --port 0 --port-file "$TMP/mock.port" 2>/dev/null &
pids="$pids $!"
i=0
while [ ! -s "$TMP/mock.port" ] && [ $i -lt 100 ]; do
  sleep 0.05; i=$((i + 1)); done
MOCK_URL=http://127.0.0.1:$(cat "$TMP/mock.port")
export LLMR_SCALE_KEY=sk-llmr-bench-scale

# limits far above what the run reaches: every request takes from both
# buckets without ever waiting
cat >"$TMP/cat.json" <<EOF
{"providers": {"oa": {"format": "openai", "base_url": "$MOCK_URL/v1",
   "api_key_env": "LLMR_SCALE_KEY", "rpm": 10000000, "tpm": 1000000000}},
 "models": {"m": {"tier": 1, "input_usd_per_mtok": 1.0,
   "output_usd_per_mtok": 2.0, "context_tokens": 100000,
   "max_output_tokens": 1000,
   "deployments": [{"provider": "oa", "model": "gpt-test"}]}}}
EOF
printf 'set catalog=%s\ncall timeout=10 retries=0 breaker=0\n' \
  "$TMP/cat.json" >"$TMP/plain.pipeline"
printf 'set catalog=%s shared=redis://127.0.0.1:%s/0 run=${RUN}\ncall timeout=10 retries=0 breaker=0\n' \
  "$TMP/cat.json" "$RPORT" >"$TMP/shared.pipeline"

gen() {
  awk -v n="$1" 'BEGIN { for(i = 1; i <= n; i++)
    printf "{\"custom_id\":\"b-%d\",\"body\":{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"bench %d\"}]}}\n", i, i }'
}
gen "$LAT_N" >"$TMP/lat.in"
gen "$N" >"$TMP/tp.in"
now() { date +%s.%N; }
# commands Redis ran (those inside the scripts included), and round
# trips: the scripts the clients sent (EVALSHA / EVAL: one each)
cmds() {
  redis-cli -p "$RPORT" info stats |
    awk -F: '/^total_commands_processed/ { print $2 + 0 }'
}
trips() {
  redis-cli -p "$RPORT" info commandstats | tr ',=' '  ' |
    awk '/^cmdstat_(evalsha|eval):/ { n += $2 } END { print n + 0 }'
}

# 1 and 2: one at a time
t0=$(now)
"$LLMROUTE" -p "$TMP/plain.pipeline" -j 1 --budget 1000 <"$TMP/lat.in" \
  >"$TMP/lat.plain.out" 2>/dev/null
t1=$(now)
c0=$(cmds)
r0=$(trips)
t2=$(now)
RUN=lat "$LLMROUTE" -p "$TMP/shared.pipeline" -j 1 --budget 1000 \
  <"$TMP/lat.in" >"$TMP/lat.shared.out" 2>/dev/null
t3=$(now)
c1=$(cmds)
r1=$(trips)
ok=$(grep -c '"error":null' "$TMP/lat.shared.out")
echo "$t0 $t1 $t2 $t3 $LAT_N" | awk '{
  plain = ($2 - $1) / $5 * 1000; shared = ($4 - $3) / $5 * 1000
  printf "latency_plain_ms_per_request: %.3f\n", plain
  printf "latency_shared_ms_per_request: %.3f\n", shared
  printf "latency_added_ms_per_request: %.3f\n", shared - plain }'
echo "$r0 $r1 $LAT_N" | awk '{
  printf "redis_round_trips_per_request: %.2f (scripts run)\n", ($2 - $1) / $3 }'
# less the few commands of joining and leaving the run, and INFO itself
echo "$c0 $c1 $LAT_N" | awk '{
  printf "redis_commands_per_request: %.1f (inside the scripts too)\n",
    ($2 - $1 - 14) / $3 }'
echo "latency_shared_answers_ok: $ok of $LAT_N"
# Redis' own time per script (the rest of a round trip is the loopback
# and the scheduler: on a loaded machine most of it)
redis-cli -p "$RPORT" info commandstats | tr ',=' '  ' |
  awk '/^cmdstat_evalsha:/ { printf "redis_server_usec_per_script: %.1f\n", $6 }'

# 3: throughput by workers
for w in 1 2 4; do
  per=$(( (N + w - 1) / w ))
  for mode in plain shared; do
    t0=$(now)
    RUN=tp$w parallel --pipe -N "$per" -j "$w" "$LLMROUTE" \
      -p "$TMP/$mode.pipeline" -j 64 --budget 1000 <"$TMP/tp.in" \
      >"$TMP/tp.out" 2>/dev/null
    t1=$(now)
    n=$(grep -c '"error":null' "$TMP/tp.out")
    echo "$t0 $t1 $n" | awk -v w="$w" -v m="$mode" '{
      printf "throughput_%s_%d_workers: %.0f requests/s (%d answered in %.2f s)\n",
        m, w, $3 / ($2 - $1), $3, $2 - $1 }'
  done
done
echo "cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "reproduce: N=$N LAT_N=$LAT_N BUILD=$BUILD sh tests/bench/scale_bench.sh"
