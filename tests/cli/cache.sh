# tests/cli/cache.sh - the cache stage against the loopback mock provider
# and a real SQLite file: a re-run of a batch makes zero provider calls
# (counted in the mock's log) and gives the same answers at cost 0; a
# changed temperature or model is a miss; ttl expiry and pruning; two
# runs sharing one file at once; failed and refused answers are not
# stored, and a stored answer the request's checks refuse is not served;
# keyed on route.model after route, and a cascade's re-run makes no call;
# a bad db= stops the run at load; the API key is in no file.
# Run: BUILD=build sh tests/cli/cache.sh
. tests/lib.sh

FIX=tests/fixtures/cache
P=$FIX/cache.pipeline
LOG=$TMP/mock.log
KEY=sk-llmr-test-cache-3f9a62c1d07e

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ] ||
   [ ! -f "$BUILD/lib/llmroute/cache.so" ]; then
  fail cache_built "$MOCKPROV, $LLMROUTE or cache.so missing (make)"
  finish; exit
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
  fail cache_sqlite3 "the sqlite3 shell is missing (make deps)"
  finish; exit
fi
# --key: a request without the right key is a 401, so the key is sent
mock_start --log "$LOG" --key "$KEY"
if [ -z "$MOCK_PORT" ]; then
  fail cache_mock_started "no port"; finish; exit; fi
export LLMR_TEST_CACHE_KEY=$KEY LLMROUTE_OA_BASE_URL=$MOCK_URL/v1
unset CACHE_TTL

# line ID MODEL TEXT [EXTRA]: one request; EXTRA is more body JSON.
line() {
  printf '{"custom_id":"%s","body":{"model":"%s","messages":[{"role":"user","content":"%s"}]%s}}\n' \
    "$1" "$2" "$3" "${4:+,$4}"
}
# run NAME DB [ARGS]: llmroute -p $P over $TMP/NAME.in -> NAME.out/.err/.rc
run() {
  _n=$1; shift
  CACHE_DB=$1; shift
  CACHE_DB=$CACHE_DB "$LLMROUTE" -p "$P" "$@" <"$TMP/$_n.in" \
    >"$TMP/$_n.out" 2>"$TMP/$_n.err"
  echo $? >"$TMP/$_n.rc"
}
# calls: requests the mock has received so far
calls() { wc -l <"$LOG" | tr -d ' '; }
# sent MARK: how many requests the mock received carrying MARK
sent() {
  jq -s "[.[] | select(.body | tostring | contains(\"$1\"))] | length" \
    "$LOG"
}
# res NAME ID JQ: jq over the result line of custom_id ID
res() {
  jq -c "select(.custom_id == \"$2\") | $3" "$TMP/$1.out" 2>/dev/null
}

# --- a batch, then the same batch again --------------------------------------
N=24
for i in $(seq 1 $N); do
  line "b$i" c-small "batch question $i" '"temperature":0.2'
done >"$TMP/b1.in"
cp "$TMP/b1.in" "$TMP/b2.in"
DB=$TMP/c.db
run b1 "$DB" -j 8
check_eq first_run_exit_0 "$(cat "$TMP/b1.rc")" 0
check_eq first_run_calls_each "$(calls)" $N
check_json first_run_all_miss "length == $N and
  all(.[]; .route.cache == \"miss\" and .error == null and
      .route.cost_usd > 0)" "$TMP/b1.out"
check_eq db_holds_the_batch \
  "$(sqlite3 "$DB" 'select count(*) from cache')" $N
check_eq db_in_wal_mode "$(sqlite3 "$DB" 'pragma journal_mode')" wal
check_eq db_schema_version "$(sqlite3 "$DB" 'pragma user_version')" 1
check_eq db_row_fields "$(sqlite3 "$DB" "select count(*) from cache
  where length(key) = 64 and model = 'c-small' and provider = 'oa' and
  cost_usd > 0 and expires_at = 0 and json_valid(response)")" $N

run b2 "$DB" -j 8
check_eq rerun_exit_0 "$(cat "$TMP/b2.rc")" 0
check_eq rerun_zero_provider_calls "$(calls)" $N
check_json rerun_all_hit_cost_0 "length == $N and
  all(.[]; .route.cache == \"hit\" and .error == null and
      .route.cost_usd == 0 and .route.model == \"c-small\" and
      .route.provider == \"oa\" and (.route.attempts | length) == 1 and
      .route.attempts[0].cache == \"hit\" and
      .route.attempts[0].cost_usd == 0 and
      (.route.attempts[0] | has(\"usage\") | not))" "$TMP/b2.out"
# the same answers, the same baseline (so the whole baseline is saved);
# a hit has no provider request id: no request was made
jq -s -c 'map({key: .custom_id, value: [.response.body, .route.baseline_cost_usd,
  .route.cache_key]}) | from_entries' "$TMP/b1.out" | jq -S -c . \
  >"$TMP/b1.map"
jq -s -c 'map({key: .custom_id, value: [.response.body, .route.baseline_cost_usd,
  .route.cache_key]}) | from_entries' "$TMP/b2.out" | jq -S -c . \
  >"$TMP/b2.map"
check_eq rerun_same_answers_baseline_key "$(cat "$TMP/b2.map")" \
  "$(cat "$TMP/b1.map")"
check_json rerun_baseline_priced "all(.[]; .route.baseline_cost_usd > 0 and
  .route.baseline_basis == \"actual\")" "$TMP/b2.out"
"$LLMROUTE" report --json "$TMP/b2.out" >"$TMP/b2.report" 2>&1
check_json report_cost_0_baseline_saved '.[0].total.cost_usd == 0 and
  .[0].total.baseline_cost_usd > 0' "$TMP/b2.report"

# --- what is part of the key ------------------------------------------------
{
  line b1 c-small "batch question 1" '"temperature":0.9'  # temperature
  line b2 c-mid "batch question 2" '"temperature":0.2'    # model
  line b3 c-small "batch question 3" '"temperature":0.20,"metadata":{"x":1}'
  line b4 c-small "batch question 4" '"temperature":0.2,"stream":true'
} >"$TMP/k.in"
# custom_id and routing are no part of it either
printf '%s\n' '{"custom_id":"other-id","routing":{"tags":["t"]},"body":{"temperature":0.2,"messages":[{"role":"user","content":"batch question 5"}],"model":"c-small"}}' \
  >>"$TMP/k.in"
before=$(calls)
run k "$DB"
check_eq changed_temperature_miss "$(res k b1 .route.cache)" '"miss"'
check_eq changed_model_miss "$(res k b2 '.route.cache + " " + .route.model')" \
  '"miss c-mid"'
check_eq metadata_number_spelling_hit "$(res k b3 .route.cache)" '"hit"'
check_eq stream_flag_hit "$(res k b4 .route.cache)" '"hit"'
check_eq other_custom_id_routing_hit "$(res k other-id .route.cache)" '"hit"'
check_eq key_changes_two_calls "$(($(calls) - before))" 2

# --- failed and refused answers are not stored ----------------------------
{
  line f400 c-small 'fail me [[mock {\"status\":400}]]'
  printf '%s\n' '{"custom_id":"refused","routing":{"expect":"no-such-text"},"body":{"model":"c-small","messages":[{"role":"user","content":"refuse me"}]}}'
} >"$TMP/f.in"
cp "$TMP/f.in" "$TMP/f2.in"
run f "$DB"
check_eq failed_is_error "$(res f f400 '.error.code != null')" true
check_eq refused_marked "$(res f refused '.route.attempts[-1].valid')" false
run f2 "$DB"
check_eq failed_not_cached "$(res f2 f400 .route.cache):$(sent 'fail me')" \
  '"miss":2'
check_eq refused_not_cached \
  "$(res f2 refused .route.cache):$(sent 'refuse me')" '"miss":2'
# the same body without the check: its answer is stored and served ...
line plain c-small "checked later" >"$TMP/s1.in"
run s1 "$DB"
run s1 "$DB"
check_eq stored_then_hit "$(res s1 plain .route.cache)" '"hit"'
# ... but not to a request whose own check refuses it (validate's
# checks are asked before a stored answer is served)
printf '%s\n' '{"custom_id":"strict","routing":{"expect":"not in the answer"},"body":{"model":"c-small","messages":[{"role":"user","content":"checked later"}]}}' \
  >"$TMP/s2.in"
run s2 "$DB"
check_eq stored_answer_refused_by_check \
  "$(res s2 strict '[.route.cache, .route.attempts[-1].valid,
                     (.route.attempts | length)]')" '["miss",false,1]'
check_eq stored_answer_refused_calls "$(sent 'checked later')" 2

# --- a cascade: the answer it ended with is served to a re-run --------------
# gpt-small's answer fails routing.expect, escalate pins c-mid, whose
# answer passes; stored under both keys, a re-run makes no call at all
printf '%s\n' '{"custom_id":"esc","routing":{"expect":"mock answer"},"body":{"model":"c-small","messages":[{"role":"user","content":"escalate me [[mock {\"by_model\":{\"gpt-small\":{\"answer\":\"no\"}}}]]"}]}}' \
  >"$TMP/e.in"
ECDB=$TMP/esc.db
CACHE_DB=$ECDB "$LLMROUTE" -p "$FIX/cascade.pipeline" <"$TMP/e.in" \
  >"$TMP/e1.out" 2>"$TMP/e1.err"
check_eq cascade_first_run "$(jq -c '[.route.cache, .route.model,
  [.route.attempts[].model], .error]' "$TMP/e1.out")" \
  '["miss","c-mid",["c-small","c-mid"],null]'
check_eq cascade_stored_twice "$(sqlite3 "$ECDB" \
  "select count(*) from cache where model = 'c-mid'")" 2
CACHE_DB=$ECDB "$LLMROUTE" -p "$FIX/cascade.pipeline" <"$TMP/e.in" \
  >"$TMP/e2.out" 2>"$TMP/e2.err"
check_eq cascade_rerun_hit "$(jq -c '[.route.cache, .route.model,
  .route.cost_usd, (.route.attempts | length)]' "$TMP/e2.out")" \
  '["hit","c-mid",0,1]'
check_eq cascade_rerun_no_call "$(sent 'escalate me')" 2
check_eq cascade_same_answer "$(jq -c .response.body "$TMP/e2.out")" \
  "$(jq -c .response.body "$TMP/e1.out")"
check_json cascade_hit_no_request_id 'all(.[]; .response | has("request_id") | not)' \
  "$TMP/e2.out"

# --- routed: keyed on route.model; escalation back through route ---------
{
  printf '%s\n' '{"custom_id":"r1","routing":{"task":"chat"},"body":{"model":"auto","messages":[{"role":"user","content":"routed plain"}]}}'
  printf '%s\n' '{"custom_id":"r2","routing":{"task":"chat","expect":"mock answer"},"body":{"messages":[{"role":"user","content":"routed esc [[mock {\"by_model\":{\"gpt-small\":{\"answer\":\"no\"}}}]]"}]}}'
} >"$TMP/r.in"
RDB=$TMP/routed.db
for i in 1 2; do
  CACHE_DB=$RDB "$LLMROUTE" -p "$FIX/routed.pipeline" <"$TMP/r.in" \
    >"$TMP/r$i.out" 2>"$TMP/r$i.err"
done
check_eq routed_first_run "$(jq -s -c 'sort_by(.custom_id) | map([.route.cache,
  .route.model, [.route.attempts[].model]])' "$TMP/r1.out")" \
  '[["miss","c-small",["c-small"]],["miss","c-mid",["c-small","c-mid"]]]'
check_eq routed_rerun_hits "$(jq -s -c 'sort_by(.custom_id) | map([.route.cache,
  .route.model, .route.cost_usd])' "$TMP/r2.out")" \
  '[["hit","c-small",0],["hit","c-mid",0]]'
check_eq routed_rerun_no_call "$(sent 'routed plain') $(sent 'routed esc')" \
  "1 2"

# --- ttl: expired rows are not served, and are pruned -----------------------
# (only expiry waits on the clock: the checks that want a fresh row use a
# long ttl, so a loaded machine cannot make them fail)
TDB=$TMP/ttl.db
line t0 c-small "a fresh probe" >"$TMP/t0.in"
CACHE_TTL=60 run t0 "$TDB"
CACHE_TTL=60 run t0 "$TDB"
check_eq ttl_fresh_hit "$(res t0 t0 .route.cache)" '"hit"'
line t1 c-small "ttl question" >"$TMP/t1.in"
line t2 c-small "a second expiry probe" >"$TMP/t2.in"
CACHE_TTL=1 run t1 "$TDB"
k1=$(res t1 t1 .route.cache_key | tr -d '"')
check_eq ttl_row_expires "$(sqlite3 "$TDB" "select expires_at > created_at
  and expires_at < created_at + 2 from cache where key = '$k1'")" 1
sleep 2
# a run starting prunes what has expired (t1's row), not the rest
CACHE_TTL=60 run t2 "$TDB"
check_eq ttl_expired_pruned "$(sqlite3 "$TDB" "select count(*) from cache
  where key = '$k1'") $(sqlite3 "$TDB" 'select count(*) from cache')" "0 2"
CACHE_TTL=1 run t1 "$TDB"
check_eq ttl_expired_miss "$(res t1 t1 .route.cache):$(sent 'ttl question')" \
  '"miss":2'
# a reader's ttl is honoured on rows stored without one
line t3 c-small "ttl reader question" >"$TMP/t3.in"
run t3 "$TDB"
sleep 2
run t3 "$TDB"
check_eq no_ttl_hit "$(res t3 t3 .route.cache)" '"hit"'
CACHE_TTL=1 run t3 "$TDB"
check_eq reader_ttl_miss "$(res t3 t3 .route.cache)" '"miss"'

# --- two runs at once on one file --------------------------------------------
CDB=$TMP/conc.db
# each answer takes 30 ms and is written in its own transaction
# (batch=1), so both runs write the file while the other does
xline() {
  line "x$1" c-small "concurrent $1 [[mock {\\\"latency_ms\\\":30}]]"
}
for i in $(seq 1 40); do xline $i; done >"$TMP/x1.in"
for i in $(seq 21 60); do xline $i; done >"$TMP/x2.in"
export CACHE_BATCH=1
CACHE_DB=$CDB "$LLMROUTE" -p "$P" -j 16 <"$TMP/x1.in" >"$TMP/x1.out" \
  2>"$TMP/x1.err" & pa=$!
CACHE_DB=$CDB "$LLMROUTE" -p "$P" -j 16 <"$TMP/x2.in" >"$TMP/x2.out" \
  2>"$TMP/x2.err" & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
unset CACHE_BATCH
check_eq concurrent_both_exit_0 "$ra $rb" "0 0"
check_json concurrent_all_answered 'length == 40 and
  all(.[]; .error == null)' "$TMP/x1.out"
check_json concurrent_all_answered_2 'length == 40 and
  all(.[]; .error == null)' "$TMP/x2.out"
check_nogrep concurrent_no_lost_writes 'not cached|locked|busy' \
  "$TMP/x1.err"
check_nogrep concurrent_no_lost_writes_2 'not cached|locked|busy' \
  "$TMP/x2.err"
check_eq concurrent_rows "$(sqlite3 "$CDB" 'select count(*) from cache')" 60
sqlite3 "$CDB" 'pragma integrity_check' >"$TMP/x.integrity" 2>&1
check_eq concurrent_integrity "$(cat "$TMP/x.integrity")" ok
cat "$TMP/x1.in" "$TMP/x2.in" | sort -u >"$TMP/x3.in"
before=$(calls)
run x3 "$CDB"
check_eq concurrent_then_all_hit "$(jq -s '[.[] | select(.route.cache ==
  "hit")] | length' "$TMP/x3.out"):$(($(calls) - before))" "60:0"

# --- bad db= stops the run before input -------------------------------------
printf '%s\n' 'set catalog=models.json' 'cache db=/nonexistent-dir/x/c.db' \
  'call' >"$TMP/bad.pipeline"
cp "$FIX/models.json" "$TMP/models.json"
echo '{"prompt":"hi"}' >"$TMP/bad.in"
"$LLMROUTE" -p "$TMP/bad.pipeline" <"$TMP/bad.in" >"$TMP/bad.out" \
  2>"$TMP/bad.err"
check_eq bad_db_exit_2 "$?" 2
check_grep bad_db_file_line 'bad\.pipeline:2: cache: db=/nonexistent-dir/x/c\.db' \
  "$TMP/bad.err"
check_eq bad_db_no_output "$(wc -c <"$TMP/bad.out" | tr -d ' ')" 0
echo 'not a database, just text that is long enough to be read as a header.' \
  >"$TMP/text.db"
printf '%s\n' 'set catalog=models.json' "cache db=$TMP/text.db" 'call' \
  >"$TMP/bad2.pipeline"
"$LLMROUTE" -p "$TMP/bad2.pipeline" <"$TMP/bad.in" >"$TMP/bad.out" \
  2>"$TMP/bad.err"
check_eq not_a_database_exit_2 "$?" 2
check_grep not_a_database_said 'bad2\.pipeline:2: cache: .*not a database' \
  "$TMP/bad.err"
printf '%s\n' 'set catalog=models.json' 'cache ttl=5' 'call' \
  >"$TMP/bad3.pipeline"
"$LLMROUTE" --check -p "$TMP/bad3.pipeline" >/dev/null 2>"$TMP/bad.err"
check_eq db_required_exit_2 "$?" 2
check_grep db_required_said 'bad3\.pipeline:2: .*db' "$TMP/bad.err"

# a cache before route with nothing pinned has no model to key on: said
# once, the requests go on uncached
printf '%s\n' 'set catalog=models.json' "cache db=$TMP/unrouted.db" \
  'route' 'call timeout=5 retries=0' >"$TMP/unrouted.pipeline"
printf '%s\n' '{"prompt":"unrouted one"}' '{"prompt":"unrouted two"}' \
  >"$TMP/u.in"
"$LLMROUTE" -p "$TMP/unrouted.pipeline" <"$TMP/u.in" >"$TMP/u.out" \
  2>"$TMP/u.err"
check_eq unrouted_warned_once "$(grep -c 'put the cache after route' \
  "$TMP/u.err")" 1
check_json unrouted_answered_uncached 'length == 2 and
  all(.[]; .error == null and (.route | has("cache") | not))' "$TMP/u.out"

# --- the API key is in no file ----------------------------------------------
check_eq key_reached_provider "$(jq -s '[.[] | select(.status == 401)] |
  length' "$LOG")" 0
found=0
for f in "$TMP"/*.db* "$TMP"/*.out "$TMP"/*.err; do
  [ -f "$f" ] && grep -aqF -- "$KEY" "$f" && { found=1; echo "# key in $f"; }
done
check_eq key_in_no_db_or_output "$found" 0
check_eq key_not_in_dump "$(sqlite3 "$DB" .dump | grep -cF -- "$KEY")" 0

finish
