#!/bin/bash
# tests/cli/scale.sh - the "Scaling out" recipe: GNU parallel splitting
# the input over 4 local llmroute processes of one run that share a
# budget and the provider's rate limit through a Redis server started
# here (loopback, no persistence) and the loopback mock provider.
#   budget:  one result per line, total spend (results and Redis) within
#            the run's budget, the rest budget_exceeded and never sent
#   rpm:     the mock's request log never shows more than the shared
#            bucket allows in any window (a minute's worth, then rpm/60
#            a second), over all 4 processes together
#   kill:    a shard killed with kill -9 mid-run, resumed with --resume:
#            finished requests are not paid again; the dead process's
#            reservations are charged once its lease lapses
#   lost:    Redis killed mid-run: no provider call after that, the rest
#            shared_unavailable, said once on stderr
# Prints "SKIP: ..." and passes nothing when redis-server, redis-cli or
# parallel is missing (make deps installs them).
# Run: BUILD=build bash tests/cli/scale.sh
. tests/lib.sh

for t in redis-server redis-cli parallel; do
  if ! command -v "$t" >/dev/null 2>&1; then
    echo "SKIP: scale: $t is not installed (make deps)"
    exit 0
  fi
done
if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ] ||
   [ ! -f "$BUILD/lib/llmroute/shared_redis.so" ]; then
  fail scale_built "$MOCKPROV, $LLMROUTE or shared_redis.so missing"
  finish; exit
fi

# redis_start: a redis-server on a free loopback port; sets RPORT, RPID.
redis_start() {
  for _t in 1 2 3 4 5 6 7 8; do
    RPORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
      --appendonly no >"$TMP/redis.log" 2>&1 &
    RPID=$!
    for _i in $(seq 1 60); do
      if [ "$(redis-cli -p "$RPORT" ping 2>/dev/null)" = PONG ]; then
        _mock_pids="$_mock_pids $RPID"
        return 0
      fi
      kill -0 "$RPID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$RPID" 2>/dev/null
  done
  RPORT=
}
rcli() { redis-cli -p "$RPORT" "$@"; }

redis_start
if [ -z "$RPORT" ]; then
  fail scale_redis_started "no redis-server ($(head -c 300 "$TMP/redis.log"))"
  finish; exit
fi
LOG=$TMP/mock.log
mock_start --log "$LOG"
if [ -z "$MOCK_PORT" ]; then
  fail scale_mock_started "no port"; finish; exit; fi
KEY=sk-llmr-test-scale-3f9a41c2
export LLMR_SCALE_KEY=$KEY
SHARED=redis://127.0.0.1:$RPORT/0

# A catalog of one provider (rpm given as $1, 0 for none) at the mock.
catalog() {
  cat <<EOF
{"providers": {"oa": {"format": "openai", "base_url": "$MOCK_URL/v1",
   "api_key_env": "LLMR_SCALE_KEY"$( [ "$1" -gt 0 ] && echo ", \"rpm\": $1")}},
 "models": {"m": {"tier": 1, "input_usd_per_mtok": 1.0,
   "output_usd_per_mtok": 2.0, "context_tokens": 100000,
   "max_output_tokens": 1000,
   "deployments": [{"provider": "oa", "model": "gpt-test"}]}}}
EOF
}
catalog 0 >"$TMP/free.json"
catalog 600 >"$TMP/rpm.json"

# lines MARK N [MOCK]: N requests with custom_ids MARK-1.. whose text
# carries MARK; each bills 100 output tokens (about $0.0002).
lines() {
  for _i in $(seq 1 "$2"); do
    printf '{"custom_id":"%s-%d","body":{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"%s %d [[mock {\\"completion_tokens\\":100%s}]]"}]}}\n' \
      "$1" "$_i" "$1" "$_i" "${3:+,$3}"
  done
}
# sent MARK: requests the mock received carrying MARK
sent() {
  jq -s "[.[] | select(.body | tostring | contains(\"$1 \"))] | length" \
    "$LOG"
}
# ids FILE...: the custom_ids of the result lines, sorted
ids() { cat "$@" | jq -rR 'fromjson? | .custom_id' | sort; }
# spent RUN: what Redis says the run spent
spent() { rcli get "llmroute:$1:spent"; }

# --- configuration: shared= needs run=, a reachable server, one budget --
printf 'set catalog=%s shared=%s\ncall\n' "$TMP/free.json" "$SHARED" \
  >"$TMP/norun.pipeline"
llmr -p "$TMP/norun.pipeline" <<<'{"prompt":"x"}'
check_eq shared_needs_run "$rc $(grep -c 'norun.pipeline:1: set shared: needs a run name' "$TMP/err") $(wc -l <"$TMP/out")" \
  "2 1 0"
printf 'set catalog=%s shared=redis://127.0.0.1:1/0 run=x\ncall\n' \
  "$TMP/free.json" >"$TMP/down.pipeline"
llmr -p "$TMP/down.pipeline" <<<'{"prompt":"x"}'
check_eq shared_unreachable_is_config_error "$rc $(grep -c 'cannot connect' "$TMP/err") $(wc -l <"$TMP/out")" \
  "2 1 0"
printf 'set catalog=%s\ncall\n' "$TMP/free.json" >"$TMP/env.pipeline"
LLMROUTE_SHARED=$SHARED LLMROUTE_RUN=cfg llmr -p "$TMP/env.pipeline" --budget 1 \
  <<<'{"custom_id":"e1","prompt":"x"}'
LLMROUTE_SHARED=$SHARED LLMROUTE_RUN=cfg llmr -p "$TMP/env.pipeline" --budget 2 \
  <<<'{"custom_id":"e2","prompt":"x"}'
check_eq shared_one_budget_per_run "$rc $(grep -c "run 'cfg' already has a budget of 1 USD" "$TMP/err") $(rcli get llmroute:cfg:budget)" \
  "2 1 1"
LLMROUTE_SHARED=$SHARED LLMROUTE_RUN=cfg llmr -p "$TMP/env.pipeline" --dry-run \
  <<<'{"custom_id":"e3","prompt":"x"}'
check_eq shared_dry_run_joins_nothing "$rc" 0

# --- one budget for 4 processes ------------------------------------------
BUDGET=0.005
printf 'set catalog=%s shared=%s run=budget\ncall timeout=5 retries=0 breaker=0\n' \
  "$TMP/free.json" "$SHARED" >"$TMP/budget.pipeline"
lines c-budget 100 >"$TMP/budget.in"
parallel --pipe -N 25 -j 4 "$LLMROUTE" -p "$TMP/budget.pipeline" \
  --budget $BUDGET <"$TMP/budget.in" >"$TMP/budget.out" 2>"$TMP/budget.err"
check_eq budget_one_result_per_line "$(ids "$TMP/budget.out" | uniq | wc -l) $(wc -l <"$TMP/budget.out")" \
  "100 100"
check_eq budget_result_ids_unique "$(jq -r .id "$TMP/budget.out" | sort | uniq -d | wc -l) $(jq -r .id "$TMP/budget.out" | sort -u | wc -l)" \
  "0 $(wc -l <"$TMP/budget.out")"
check_eq budget_results_are_the_inputs "$(ids "$TMP/budget.out" | md5sum)" \
  "$(ids "$TMP/budget.in" | md5sum)"
nok=$(jq -s '[.[] | select(.error == null)] | length' "$TMP/budget.out")
check_json budget_rest_refused \
  "(map(.error.code // \"ok\") | unique) == [\"budget_exceeded\", \"ok\"]" \
  "$TMP/budget.out"
check_eq budget_refused_never_sent "$(sent c-budget)" "$nok"
total=$(jq -s '[.[].route.cost_usd // 0] | add' "$TMP/budget.out")
rtotal=$(spent budget)
check_eq budget_total_within "$(echo "$total $rtotal $BUDGET" | awk '{
  print ($1 <= $3 + 1e-12) " " ($2 <= $3 + 1e-12) " " ($2 - $1 < 1e-9 && $1 - $2 < 1e-9) }')" \
  "1 1 1"
# reservations are settled at about what they reserved: the budget is
# used, not stranded (within two worst cases of $0.000211)
check_eq budget_used "$(echo "$total $BUDGET" | awk '{ print ($1 > $2 - 0.0005) }')" 1
check_eq budget_nothing_held "$(rcli hlen llmroute:budget:held)" 0
# the control: without shared= each process has the whole budget
printf 'set catalog=%s\ncall timeout=5 retries=0 breaker=0\n' \
  "$TMP/free.json" >"$TMP/local.pipeline"
lines c-local 100 >"$TMP/local.in"
parallel --pipe -N 25 -j 4 "$LLMROUTE" -p "$TMP/local.pipeline" \
  --budget $BUDGET <"$TMP/local.in" >"$TMP/local.out" 2>/dev/null
check_eq budget_per_process_without_shared "$(jq -s "[.[].route.cost_usd // 0] | add > $BUDGET * 2" "$TMP/local.out")" \
  true

# --- one rate limit for 4 processes: rpm 600 ---------------------------
# A token bucket of a minute's worth (600) refilled at 10/s: over any
# stretch of T seconds at most 600 + 10 T requests are granted.  The mock
# sees them a little later, by a delay that varies with the machine's
# load: 1 s of it is allowed (+10).  660 requests: 600 at once, the last 60 over ~6 s;
# 4 processes each with its own bucket would send all 660 at once.
printf 'set catalog=%s shared=%s run=rpm\ncall timeout=5 retries=0 breaker=0 deadline=60\n' \
  "$TMP/rpm.json" "$SHARED" >"$TMP/rpm.pipeline"
lines c-rpm 660 >"$TMP/rpm.in"
parallel --pipe -N 165 -j 4 "$LLMROUTE" -p "$TMP/rpm.pipeline" \
  <"$TMP/rpm.in" >"$TMP/rpm.out" 2>"$TMP/rpm.err"
check_eq rpm_all_answered "$(jq -s '[.[] | select(.error == null)] | length' "$TMP/rpm.out") $(sent c-rpm)" \
  "660 660"
jq -r 'select(.body | tostring | contains("c-rpm ")) | .t_ms' "$LOG" |
  sort -n >"$TMP/rpm.times"
worst=$(awk '{ t[NR] = $1 } END {
  worst = -1e9
  for(i = 1; i <= NR; i++)
    for(j = i; j <= NR; j++) {
      over = (j - i + 1) - (600 + 10 * (t[j] - t[i]) / 1000)
      if(over > worst) worst = over
    }
  printf "%.1f", worst }' "$TMP/rpm.times")
check_eq rpm_never_above_the_shared_bucket "$(echo "$worst" | awk '{ print ($1 <= 10) }') (most over: $worst)" \
  "1 (most over: $worst)"
# and the bucket did hold requests back: the last went >= 5 s after the
# first (a check of behaviour, not speed: without sharing it is ~0.2 s)
check_eq rpm_held_back "$(awk 'NR == 1 { a = $1 } END { print ($1 - a >= 5000) }' "$TMP/rpm.times")" 1

# --- a model's own rate limit, shared: deployment rpm 600 ---------------
# The catalog limits one model's deployment (providers limit per model
# too), not the provider: that model's requests are held to its bucket
# across the 4 processes, another model of the same provider is not.
cat >"$TMP/dep.json" <<EOF
{"providers": {"oa": {"format": "openai", "base_url": "$MOCK_URL/v1",
   "api_key_env": "LLMR_SCALE_KEY"}},
 "models": {"m": {"tier": 1, "input_usd_per_mtok": 1.0,
   "output_usd_per_mtok": 2.0, "context_tokens": 100000,
   "max_output_tokens": 1000,
   "deployments": [{"provider": "oa", "model": "gpt-lim", "rpm": 600}]},
  "f": {"tier": 1, "input_usd_per_mtok": 1.0,
   "output_usd_per_mtok": 2.0, "context_tokens": 100000,
   "max_output_tokens": 1000,
   "deployments": [{"provider": "oa", "model": "gpt-free"}]}}}
EOF
printf 'set catalog=%s shared=%s run=dep\ncall timeout=5 retries=0 breaker=0 deadline=60\n' \
  "$TMP/dep.json" "$SHARED" >"$TMP/dep.pipeline"
# each shard reads its 25 lines for the free model first
for k in 1 2 3 4; do
  lines c-free$k 25 | sed 's/"model":"m"/"model":"f"/'
  lines c-dep$k 165
done >"$TMP/dep.in"
parallel --pipe -N 190 -j 4 "$LLMROUTE" -p "$TMP/dep.pipeline" \
  <"$TMP/dep.in" >"$TMP/dep.out" 2>"$TMP/dep.err"
check_eq dep_all_answered "$(jq -s '[.[] | select(.error == null)] | length' "$TMP/dep.out")" \
  760
jq -r 'select(.body | tostring | test("c-dep[0-9]+ ")) | .t_ms' "$LOG" |
  sort -n >"$TMP/dep.times"
jq -r 'select(.body | tostring | test("c-free[0-9]+ ")) | .t_ms' "$LOG" |
  sort -n >"$TMP/free.times"
worst=$(awk '{ t[NR] = $1 } END {
  worst = -1e9
  for(i = 1; i <= NR; i++)
    for(j = i; j <= NR; j++) {
      over = (j - i + 1) - (600 + 10 * (t[j] - t[i]) / 1000)
      if(over > worst) worst = over
    }
  printf "%.1f", worst }' "$TMP/dep.times")
check_eq dep_model_never_above_its_shared_bucket "$(wc -l <"$TMP/dep.times") $(echo "$worst" | awk '{ print ($1 <= 10) }') (most over: $worst)" \
  "660 1 (most over: $worst)"
check_eq dep_model_held_back "$(awk 'NR == 1 { a = $1 } END { print ($1 - a >= 5000) }' "$TMP/dep.times")" 1
# the free model's 100 went while the limited one waited: the last of
# them seconds before the limited model's last
check_eq dep_other_model_not_held "$(wc -l <"$TMP/free.times") $(awk -v last="$(tail -n 1 "$TMP/dep.times")" 'END { print (last - $1 >= 3000) }' "$TMP/free.times")" \
  "100 1"
# (the provider's own buckets exist too, from the mock's rate-limit
# headers; the free model has none of its own)
check_eq dep_bucket_named "$(rcli --scan --pattern 'llmroute:dep:bucket:oa/*' | sort | tr '\n' ' ')" \
  "llmroute:dep:bucket:oa/gpt-lim:rpm "

# --- kill -9 a shard, then resume it ------------------------------------
printf 'set catalog=%s shared=%s run=kill shared_ttl=1\ncall timeout=5 retries=0 breaker=0\n' \
  "$TMP/free.json" "$SHARED" >"$TMP/kill.pipeline"
lines c-kill 40 '\"latency_ms\":400' >"$TMP/kill.in"
mkdir "$TMP/kill.d"
cat >"$TMP/worker.sh" <<EOF
echo \$\$ >"$TMP/kill.pid.\$1"
exec "$LLMROUTE" -p "$TMP/kill.pipeline" -j 1 --budget 1 \
  >"$TMP/kill.d/\$1.out" 2>"$TMP/kill.\$1.err"
EOF
parallel --pipe -N 10 -j 4 sh "$TMP/worker.sh" {#} <"$TMP/kill.in" \
  2>/dev/null &
ppid=$!
# a shard answers one request each 0.4 s: 4 s in all; cut it after 2
for i in $(seq 1 600); do
  [ -s "$TMP/kill.d/2.out" ] && [ "$(wc -l <"$TMP/kill.d/2.out")" -ge 2 ] &&
    break
  sleep 0.05
done
kill -9 "$(cat "$TMP/kill.pid.2")"
wait "$ppid"
before=$(ids "$TMP/kill.d/2.out")
nbefore=$(echo "$before" | grep -c .)
sleep 1.5 # the dead process's lease (shared_ttl=1) lapses
# the recipe: the whole input again, every shard's output as --resume
parallel --pipe -N 10 -j 4 "$LLMROUTE" -p "$TMP/kill.pipeline" -j 2 \
  --budget 1 --resume "$TMP/kill.d" <"$TMP/kill.in" >"$TMP/kill.2r.out" \
  2>"$TMP/kill.2r.err"
check_eq kill_resume_resends_only_the_rest "$(wc -l <"$TMP/kill.2r.out")" \
  $((10 - nbefore))
check_eq kill_resume_says_skipped "$(grep -o 'resume: [0-9]* requests\{0,1\} already done' "$TMP/kill.2r.err" |
  awk '{ n += $2 } END { print n }')" $((30 + nbefore))
check_eq kill_shard_was_cut "$([ "$nbefore" -ge 2 ] && [ "$nbefore" -lt 10 ] && echo yes) ($nbefore of 10 done)" \
  "yes ($nbefore of 10 done)"
check_eq kill_every_line_once "$(ids "$TMP"/kill.d/*.out "$TMP/kill.2r.out" | uniq -d | wc -l) $(ids "$TMP"/kill.d/*.out "$TMP/kill.2r.out" | md5sum)" \
  "0 $(ids "$TMP/kill.in" | md5sum)"
repaid=0
for id in $before; do
  n=$(sent "c-kill ${id#c-kill-}")
  [ "$n" = 1 ] || repaid=$((repaid + 1))
done
check_eq kill_finished_not_paid_again "$repaid" 0
# the dead process held reservations for what it had in flight: reaped
# when its lease lapsed, charged at their worst case (the provider may
# have billed them), so Redis' total covers every result's cost
check_eq kill_dead_lease_reaped "$(rcli hlen llmroute:kill:held)" 0
check_eq kill_spent_covers_results "$(echo "$(jq -s '[.[].route.cost_usd // 0] | add' "$TMP"/kill.d/*.out "$TMP/kill.2r.out") $(spent kill)" | awk '{ print ($2 >= $1 - 1e-9) }')" \
  1

# --- Redis lost mid-run: fail closed --------------------------------------
printf 'set catalog=%s shared=%s run=lost shared_timeout=0.5\ncall timeout=5 retries=0 breaker=0\n' \
  "$TMP/free.json" "$SHARED" >"$TMP/lost.pipeline"
lines c-lost 40 '\"latency_ms\":150' >"$TMP/lost.in"
timeout 60 "$LLMROUTE" -p "$TMP/lost.pipeline" -j 2 --budget 1 \
  <"$TMP/lost.in" >"$TMP/lost.out" 2>"$TMP/lost.err" &
lpid=$!
for i in $(seq 1 100); do
  [ -s "$TMP/lost.out" ] && [ "$(wc -l <"$TMP/lost.out")" -ge 4 ] && break
  sleep 0.05
done
kill -9 "$RPID"
wait "$RPID" 2>/dev/null
wait "$lpid"
lrc=$?
nok=$(jq -s '[.[] | select(.error == null)] | length' "$TMP/lost.out")
check_eq lost_one_result_per_line "$lrc $(ids "$TMP/lost.out" | uniq | wc -l)" \
  "1 40"
check_json lost_rest_shared_unavailable \
  "(map(.error.code // \"ok\") | unique) == [\"ok\", \"shared_unavailable\"]" \
  "$TMP/lost.out"
check_eq lost_no_call_after "$(sent c-lost)" "$nok"
check_eq lost_said_once "$(grep -c 'lost the shared state server' "$TMP/lost.err")" 1

cat "$TMP"/*.out "$TMP"/*.err "$LOG" >"$TMP/all"
check_nogrep no_key_anywhere "$KEY" "$TMP/all"
finish
