#!/bin/bash
# tests/cli/log.sh - the log stage: a real SQLite file written by runs
# against the loopback mock provider.  One row per input line (answers,
# provider errors, malformed lines), columns equal to the result lines,
# prompt=true|hash|false, no API key stored, schema version, WAL and
# indexes, two concurrent runs on one file with no lost row, the README's
# example queries, `llmroute report runs.db` equal to the report of the
# result file, and configuration errors that stop the run at load.
# Run: BUILD=build bash tests/cli/log.sh
. tests/lib.sh

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ] ||
   [ ! -f "$BUILD/lib/llmroute/log.so" ]; then
  fail log_built "$MOCKPROV, $LLMROUTE or log.so missing (make BUILD=$BUILD)"
  finish; exit
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "SKIP: log: the sqlite3 command is not installed (apt-get install" \
    "sqlite3)"
  exit 0
fi
mock_start --log "$TMP/mock.log"
if [ -z "$MOCK_PORT" ]; then fail log_mock "mockprov did not start"
  finish; exit; fi

# Two tiers on the mock, prices easy to check (per million tokens).
tier_catalog LLMR_LOG_KEY cheap-1 top-3 >"$TMP/models.json"
logpipe() { # logpipe NAME LOG_OPTIONS
  cat >"$TMP/$1.pipeline" <<EOF
set catalog=models.json baseline=top-3
classify
price
route policy=cheapest-capable
call timeout=20 retries=0
validate
escalate max=1 to=route
log $2
EOF
}
# a key with a recognisable value: it must not reach the database
KEY=sk-llmrlogtest-5ecret-0123456789abcdef
export LLMR_LOG_KEY=$KEY
count() { sqlite3 "$1" "select count(*) from requests $2"; }

# --- one run: a row per input line ----------------------------------------
{
  jq -nc '{custom_id:"ext-1",routing:{task:"extraction"},
    body:{messages:[{role:"system",content:"Be brief."},
      {role:"user",content:"extract the total from: 12.50"}]}}'
  jq -nc '{custom_id:"code-1",routing:{task:"coding"},
    body:{messages:[{role:"user",content:"write a C hello world"}]}}'
  echo '{"custom_id":"broken", not json'
  jq -nc '{custom_id:"fail-1",routing:{task:"chat"},
    body:{messages:[{role:"user",content:"[[mock {\"status\":400}]] hi"}]}}'
  jq -nc '{custom_id:"esc-1",routing:{task:"extraction"},
    body:{messages:[{role:"user",content:
      ("[[mock " + ({by_model:{"cheap-1":{answer:""},"*":{answer:"42"}}}
        | tojson) + "]] the answer?")}]}}'
  # prompts of 55, 56, 63, 64, 119, 120 and 1000 bytes: SHA-256's
  # padding takes one or two blocks, after one or many
  for n in 55 56 63 64 119 120 1000; do
    jq -nc --argjson n "$n" '{custom_id:("len-" + ($n | tostring)),
      routing:{task:"chat"}, body:{messages:[{role:"user",
      content:([range($n)] | map("abcdefghij"[. % 10:. % 10 + 1])
        | add)}]}}'
  done
  for i in $(seq 1 15); do
    jq -nc --arg i "$i" '{custom_id:("chat-" + $i),routing:{task:"chat"},
      body:{messages:[{role:"user",content:("hello number " + $i)}]}}'
  done
} >"$TMP/in.jsonl"
NIN=$(wc -l <"$TMP/in.jsonl" | tr -d ' ')

DB=$TMP/runs.db
logpipe one "db=$DB"
"$LLMROUTE" -p "$TMP/one.pipeline" "$TMP/in.jsonl" >"$TMP/one.out" \
  2>"$TMP/one.err"
check_eq "log: run exits 1 (some errors)" "$?" 1
check_eq "log: one result line per input line" \
  "$(wc -l <"$TMP/one.out" | tr -d ' ')" "$NIN"
check_eq "log: one row per input line" "$(count "$DB")" "$NIN"
check_eq "log: the malformed line has its row" \
  "$(count "$DB" "where error_code = 'invalid_json' and line = 3")" 1
check_eq "log: the provider error has its row" \
  "$(sqlite3 "$DB" "select error_code || '|' || error_stage || '|' ||
     attempts from requests where custom_id = 'fail-1'")" \
  "provider_error|call|1"
check_eq "log: the escalated request has two attempts, the last valid" \
  "$(sqlite3 "$DB" "select attempts || '|' || valid || '|' || tier
     from requests where custom_id = 'esc-1'")" "2|1|3"

# every column equals what the result line says
jq -r '[.custom_id, .id, (.route.task // ""), (.route.model // ""),
        (.route.provider // ""), (.route.tier // "" | tostring),
        (.error.code // ""), (.error.message // ""),
        ((.route.attempts // []) | length | tostring),
        ([.route.attempts[]?.usage | (.input_tokens // 0) +
          (.cached_tokens // 0) + (.cache_write_tokens // 0)] | add // ""
          | tostring),
        ([.route.attempts[]? | .usage.output_tokens // 0] | add // ""
          | tostring),
        ([.route.attempts[]? | .latency_ms // 0] | add // ""
          | tostring),
        (if .route.review == null then "" elif .route.review then "1"
         else "0" end)] | join("|")' "$TMP/one.out" | sort >"$TMP/cols.want"
sqlite3 "$DB" "select custom_id, result_id, ifnull(task, ''),
  ifnull(model, ''), ifnull(provider, ''), ifnull(tier, ''),
  ifnull(error_code, ''), ifnull(error_message, ''), attempts,
  ifnull(input_tokens, ''), ifnull(output_tokens, ''),
  ifnull(cast(latency_ms as integer), ''), ifnull(review, '')
  from requests" | sort >"$TMP/cols.got"
if cmp -s "$TMP/cols.want" "$TMP/cols.got"; then
  pass "log: ids, route, tokens, latency, errors equal the result lines"
else fail "log: ids, route, tokens, latency, errors equal the result lines" \
  "$(diff "$TMP/cols.want" "$TMP/cols.got" | head -5)"; fi
# costs to the last digit: the numbers of the result lines, summed by jq
want=$(jq -s 'map(.route.cost_usd // 0) | add * 1e9 | round' "$TMP/one.out")
check_eq "log: sum(cost_usd) = jq sum of route.cost_usd" \
  "$(sqlite3 "$DB" 'select cast(round(sum(cost_usd) * 1e9) as integer)
     from requests')" "$want"
want=$(jq -s 'map(.route.baseline_cost_usd // 0) | add * 1e9 | round' \
  "$TMP/one.out")
check_eq "log: sum(baseline_cost_usd) = jq sum" \
  "$(sqlite3 "$DB" 'select cast(round(sum(baseline_cost_usd) * 1e9)
     as integer) from requests')" "$want"
check_eq "log: complexity is route.complexity" \
  "$(sqlite3 "$DB" "select complexity from requests
     where custom_id = 'code-1'")" \
  "$(jq -r 'select(.custom_id == "code-1") | .route.complexity' \
     "$TMP/one.out")"
# the result column is the result line, byte for byte
sqlite3 "$DB" 'select result from requests order by id' >"$TMP/results.db"
if cmp -s "$TMP/one.out" "$TMP/results.db"; then
  pass "log: result column = the result lines, in output order"
else fail "log: result column = the result lines, in output order" \
  "$(diff "$TMP/one.out" "$TMP/results.db" | head -3)"; fi
# time: ISO-8601 UTC with milliseconds, unix_time the same instant
D='[0-9]'
check_eq "log: ts is ISO-8601 UTC" "$(count "$DB" "where ts not glob
  '$D$D$D$D-$D$D-${D}${D}T$D$D:$D$D:$D$D.$D$D${D}Z'")" 0
check_eq "log: unix_time = ts, within 1 ms" "$(count "$DB" "where
  abs(unix_time - (julianday(ts) - 2440587.5) * 86400) > 0.002")" 0
check_eq "log: unix_time is now" "$(count "$DB" "where
  abs(unix_time - unixepoch()) > 300")" 0
check_eq "log: one run_id for the run" \
  "$(sqlite3 "$DB" 'select count(distinct run_id) from requests')" 1
check_eq "log: pipeline column names the pipeline" \
  "$(count "$DB" "where pipeline like '%one.pipeline'")" "$NIN"
# the prompt: the messages' text, and its SHA-256
check_eq "log: prompt = the messages' text" \
  "$(sqlite3 "$DB" "select prompt from requests where custom_id = 'ext-1'")" \
  "Be brief.
extract the total from: 12.50"
want=$(printf 'Be brief.\nextract the total from: 12.50' | sha256sum |
  cut -d' ' -f1)
check_eq "log: prompt_sha256 = sha256sum of the prompt" \
  "$(sqlite3 "$DB" "select prompt_sha256 from requests
     where custom_id = 'ext-1'")" "$want"
check_eq "log: every hash agrees with sha256sum" "$(
  sqlite3 "$DB" "select custom_id from requests where prompt is not null" |
  while read -r c; do
    p=$(sqlite3 "$DB" "select prompt from requests where custom_id = '$c'")
    h=$(sqlite3 "$DB" "select prompt_sha256 from requests
      where custom_id = '$c'")
    g=$(printf '%s' "$p" | sha256sum | cut -d' ' -f1)
    [ "$g" = "$h" ] || echo "bad $c"
  done)" ""
check_eq "log: the 1000-byte prompt is stored whole" "$(sqlite3 "$DB" \
  "select length(prompt) from requests where custom_id = 'len-1000'")" 1000
# schema: version, WAL, indexes
check_eq "log: PRAGMA user_version = 1" \
  "$(sqlite3 "$DB" 'pragma user_version')" 1
check_eq "log: WAL journal mode" "$(sqlite3 "$DB" 'pragma journal_mode')" wal
check_eq "log: indexes on time, run, task, model, error, custom_id" \
  "$(sqlite3 "$DB" "select group_concat(name, ' ') from (select name from
     sqlite_master where type = 'index' and tbl_name = 'requests'
     order by name)")" \
  "requests_custom_id requests_error requests_model requests_run \
requests_task requests_ts"
check_grep "log: the schema comments each column" \
  'prompt_sha256 TEXT, +-- hex SHA-256' "$(sqlite3 "$DB" .schema \
  >"$TMP/schema"; echo "$TMP/schema")"
sqlite3 "$DB" "explain query plan select sum(cost_usd) from requests
  where task = 'extraction' and unix_time > unixepoch() - 7 * 86400" \
  >"$TMP/plan"
check_grep "log: a task-and-time question uses an index" \
  'USING (COVERING )?INDEX requests_task' "$TMP/plan"
# no secret anywhere in the file (nor its WAL)
if cat "$DB"* | grep -aq -- "$KEY"; then
  fail "log: no API key in the database" "found the key"
else pass "log: no API key in the database"; fi
if grep -aq -- "5ecret" "$TMP/one.err"; then
  fail "log: no API key on stderr" "found"
else pass "log: no API key on stderr"; fi

# --- prompt=hash and prompt=false -------------------------------------------
logpipe hash "db=$TMP/hash.db prompt=hash"
"$LLMROUTE" -p "$TMP/hash.pipeline" "$TMP/in.jsonl" >/dev/null 2>&1
check_eq "log prompt=hash: no prompt text" \
  "$(count "$TMP/hash.db" 'where prompt is not null')" 0
check_eq "log prompt=hash: every request's hash" \
  "$(count "$TMP/hash.db" 'where prompt_sha256 is not null')" $((NIN - 1))
check_eq "log prompt=hash: the same hash as prompt=true" \
  "$(sqlite3 "$TMP/hash.db" "select prompt_sha256 from requests
     where custom_id = 'ext-1'")" "$want"
if grep -aq 'hello number' "$TMP/hash.db"*; then
  fail "log prompt=hash: the text is nowhere in the file" "found"
else pass "log prompt=hash: the text is nowhere in the file"; fi
logpipe nop "db=$TMP/nop.db prompt=false"
"$LLMROUTE" -p "$TMP/nop.pipeline" "$TMP/in.jsonl" >/dev/null 2>&1
check_eq "log prompt=false: no prompt, no hash" \
  "$(count "$TMP/nop.db" 'where prompt is not null or
     prompt_sha256 is not null')" 0
check_eq "log prompt=false: still a row per line" "$(count "$TMP/nop.db")" \
  "$NIN"
logpipe nosync "db=$TMP/nosync.db sync=false batch=2"
"$LLMROUTE" -p "$TMP/nosync.pipeline" "$TMP/in.jsonl" >/dev/null 2>&1
check_eq "log sync=false: a row per line" "$(count "$TMP/nosync.db")" "$NIN"
check_eq "log sync=false: the file is sound" \
  "$(sqlite3 "$TMP/nosync.db" 'pragma integrity_check')" ok

# --- llmroute report runs.db = llmroute report results ---------------------
"$LLMROUTE" report "$TMP/one.out" >"$TMP/rep.file" 2>&1
"$LLMROUTE" report "$DB" >"$TMP/rep.db" 2>&1
check_eq "report runs.db: exit 0" "$?" 0
if cmp -s "$TMP/rep.file" "$TMP/rep.db"; then
  pass "report runs.db: the same table as the result file"
else fail "report runs.db: the same table as the result file" \
  "$(diff "$TMP/rep.file" "$TMP/rep.db" | head -5)"; fi
"$LLMROUTE" report --json "$TMP/one.out" >"$TMP/rep.file.json"
"$LLMROUTE" report --json "$DB" >"$TMP/rep.db.json"
if jq -e -n --slurpfile a "$TMP/rep.file.json" \
     --slurpfile b "$TMP/rep.db.json" '$a == $b' >/dev/null; then
  pass "report --json runs.db: the same numbers as the result file"
else fail "report --json runs.db: the same numbers as the result file" \
  "$(head -c 300 "$TMP/rep.db.json")"; fi
check_json "report runs.db: every line counted" \
  ".[0].total.requests == $NIN and .[0].total.errors >= 2" "$TMP/rep.db.json"
# the same run twice over: each request once, the second copy of every
# record superseded; with --all every record counts
"$LLMROUTE" report "$DB" "$TMP/one.out" --json >"$TMP/rep.both"
check_json "report: a database and its result file: each request once" \
  ".[0].total.requests == $NIN and .[0].superseded_records == $NIN" \
  "$TMP/rep.both"
"$LLMROUTE" report --all "$DB" "$TMP/one.out" --json >"$TMP/rep.all"
check_json "report --all: a database and a result file add up" \
  ".[0].total.requests == $((NIN * 2))" "$TMP/rep.all"
sqlite3 "$TMP/foreign.db" 'create table t(a); insert into t values(1)'
"$LLMROUTE" report "$TMP/foreign.db" >/dev/null 2>"$TMP/rep.err"
check_eq "report: a SQLite file that is no log: exit 1" "$?" 1
check_grep "report: ... says so" 'foreign.db: not a log database' \
  "$TMP/rep.err"

# --- the README's example queries -------------------------------------------
# Every `sqlite3 runs.db ...` line of the README's run-log section runs
# as written (in a folder holding runs.db, with llmroute on PATH) and
# prints something.
mkdir -p "$TMP/readme"
cp "$DB" "$TMP/readme/runs.db"
sed -n '/^## Run log/,/^## /p' README.md | grep '^sqlite3 runs.db ' \
  >"$TMP/queries"
nq=$(wc -l <"$TMP/queries" | tr -d ' ')
if [ "$nq" -ge 6 ]; then pass "README: $nq example queries found"
else fail "README: example queries found" "only $nq"; fi
i=0
while IFS= read -r q; do
  i=$((i + 1))
  (cd "$TMP/readme" && PATH="$OLDPWD/$BUILD/bin:$PATH" sh -c "$q") \
    >"$TMP/q.out" 2>&1
  r=$?
  if [ "$r" -eq 0 ] && [ -s "$TMP/q.out" ] &&
     ! grep -q 'Error\|error:' "$TMP/q.out"; then
    pass "README query $i runs"
  else fail "README query $i runs" "$q: $(head -c 200 "$TMP/q.out")"; fi
done <"$TMP/queries"
# and the answers are right, checked against jq on the result lines
R=$TMP/readme/runs.db
want=$(jq -s 'map(select(.route.task == "extraction") | .route.cost_usd
  // 0) | add * 1e9 | round' "$TMP/one.out")
check_eq "README: spend on extraction last week" "$(sqlite3 "$R" "select
  cast(round(sum(cost_usd) * 1e9) as integer) from requests where task =
  'extraction' and unix_time > unixepoch('now', '-7 days')")" "$want"
check_eq "README: error rate of cheap-1" "$(sqlite3 "$R" "select
  round(avg(error_code is not null), 4) from requests where model =
  'cheap-1'")" "$(jq -s 'map(select(.route.model == "cheap-1")) |
  (map(select(.error != null)) | length) / length * 1e4 | round / 1e4' \
  "$TMP/one.out")"
check_eq "README: slowest request" "$(sqlite3 "$R" 'select custom_id from
  requests order by latency_ms desc, id limit 1')" "$(jq -rs '
  map(select(.route.attempts)) | map({c: .custom_id, l:
  ([.route.attempts[].latency_ms] | add)}) as $a |
  ($a | max_by(.l) | .l) as $m | $a | map(select(.l == $m)) | .[0].c' \
  "$TMP/one.out")"

# --- two concurrent runs on one file (WAL): no row lost ---------------------
for i in $(seq 1 200); do
  printf '{"custom_id":"c-%d","routing":{"task":"chat"},"body":{"messages":[{"role":"user","content":"concurrent %d"}]}}\n' "$i" "$i"
done >"$TMP/many.jsonl"
CDB=$TMP/shared.db
# small batches, no interval: many short transactions, so the two runs
# contend for the write lock throughout
logpipe conc "db=$CDB batch=4 interval_ms=0"
"$LLMROUTE" -p "$TMP/conc.pipeline" -j 8 "$TMP/many.jsonl" \
  >"$TMP/c1.out" 2>"$TMP/c1.err" &
p1=$!
"$LLMROUTE" -p "$TMP/conc.pipeline" -j 8 "$TMP/many.jsonl" \
  >"$TMP/c2.out" 2>"$TMP/c2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check_eq "log concurrent: both runs exit 0" "$r1 $r2" "0 0"
check_eq "log concurrent: 400 rows" "$(count "$CDB")" 400
check_eq "log concurrent: two run_ids, 200 rows each" \
  "$(sqlite3 "$CDB" 'select count(*) from requests group by run_id')" \
  "200
200"
check_eq "log concurrent: each custom_id twice" \
  "$(sqlite3 "$CDB" 'select count(*) from (select custom_id from requests
     group by custom_id having count(*) = 2)')" 200
check_nogrep "log concurrent: nothing lost on stderr" 'not logged' \
  "$TMP/c1.err"
check_nogrep "log concurrent: nothing lost on stderr (2)" 'not logged' \
  "$TMP/c2.err"
check_eq "log concurrent: the file is sound" \
  "$(sqlite3 "$CDB" 'pragma integrity_check')" ok

# --- SIGINT: the pending rows are still written ---------------------------
# slow answers (the mock waits 100 ms more per line), interrupted after
# the first results: every result line written, interrupted ones included,
# has its row (the rows wait in memory: interval_ms is a minute)
for i in $(seq 1 40); do
  printf '{"custom_id":"s%d","body":{"messages":[{"role":"user","content":"[[mock {\\"latency_ms\\":%d}]] hi"}]}}\n' "$i" $((i * 100))
done >"$TMP/slow.jsonl"
logpipe sig "db=$TMP/sig.db interval_ms=60000"
"$LLMROUTE" -p "$TMP/sig.pipeline" -j 4 "$TMP/slow.jsonl" >"$TMP/sig.out" \
  2>"$TMP/sig.err" &
p1=$!
# interrupt once the first results are out (the last is 20 s away)
i=0
while [ ! -s "$TMP/sig.out" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1))
done
sleep 0.3
kill -INT $p1
wait $p1
check_eq "log SIGINT: exit 130" "$?" 130
n=$(wc -l <"$TMP/sig.out" | tr -d ' ')
if [ "$n" -gt 0 ] && [ "$n" -lt 40 ]; then pass "log SIGINT: cut short"
else fail "log SIGINT: cut short" "$n result lines of 40"; fi
check_eq "log SIGINT: a row per result line written" "$(count "$TMP/sig.db")" \
  "$n"
check_eq "log SIGINT: the interrupted ones too" \
  "$(count "$TMP/sig.db" "where error_code = 'interrupted'")" \
  "$(grep -c '"code":"interrupted"' "$TMP/sig.out")"

# --- configuration errors stop the run at load, exit 2 ----------------------
badrun() { # badrun NAME LOG_OPTIONS PATTERN
  logpipe "$1" "$2"
  echo '{"custom_id":"x","body":{"messages":[{"role":"user","content":"hi"}]}}' \
    | "$LLMROUTE" -p "$TMP/$1.pipeline" >"$TMP/$1.out" 2>"$TMP/$1.err"
  check_eq "log $1: exit 2" "$?" 2
  check_eq "log $1: no result line" "$(wc -c <"$TMP/$1.out" | tr -d ' ')" 0
  check_grep "log $1: file:line: message" "^$TMP/$1.pipeline:8: .*$3" \
    "$TMP/$1.err"
}
badrun baddir "db=$TMP/no/such/folder/runs.db" \
  "log: database .*no/such/folder/runs.db: unable to open"
echo "not a database at all, but long enough to be read" >"$TMP/text.db"
badrun notdb "db=$TMP/text.db" "file is not a database"
sqlite3 "$TMP/foreign2.db" 'create table requests(a)'
badrun foreign "db=$TMP/foreign2.db" "table 'requests' that the log stage"
cp "$DB" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'pragma user_version = 9'
badrun newer "db=$TMP/newer.db" "newer llmroute \\(log schema 9"
badrun badprompt "db=$TMP/p.db prompt=maybe" \
  "prompt='maybe': expected true, hash or false"
badrun nodb "prompt=true" "needs option 'db'"

finish
