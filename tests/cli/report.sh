# tests/cli/report.sh - `llmroute report`: tables per task and per model,
# labelled estimated for audit plans and actual for real runs, totals that
# match a jq sum of the same lines, errors counted, stdin and files; on a
# real cascade run against the loopback mock provider, interrupted and
# resumed: every --format and --by, exact latency percentiles, the rates,
# superseded records; the --html page rendered by headless Chromium.
. tests/lib.sh

EX=pipelines/examples/prompts.jsonl
PLAN=$TMP/plan.jsonl
"$LLMROUTE" -p audit "$EX" >"$PLAN" 2>/dev/null

# --- on audit plans ---------------------------------------------------------

"$LLMROUTE" report "$PLAN" >"$TMP/rep" 2>"$TMP/err"
check_eq "report: exit 0" "$?" 0
check_grep "report: says the costs are estimates" \
  '^llmroute report: [0-9]+ requests, 0 errors; estimated costs' "$TMP/rep"
check_grep "report: a table per task" '^by task \(estimated costs' "$TMP/rep"
check_grep "report: a table per model" '^by model \(estimated costs' \
  "$TMP/rep"
check_grep "report: column heads" \
  'requests +errors +tokens_in +tokens_out +cost +baseline +savings' \
  "$TMP/rep"
n=$(wc -l <"$PLAN" | tr -d ' ')
check_grep "report: total requests" "^total +$n +0 " "$TMP/rep"
# every task of the plan has its row, in sorted order
jq -r '.route.task' "$PLAN" | sort -u >"$TMP/tasks.want"
sed -n '/^by task/,/^total/p' "$TMP/rep" | sed '1,2d;$d' | awk '{print $1}' \
  >"$TMP/tasks.got"
if cmp -s "$TMP/tasks.want" "$TMP/tasks.got"; then
  pass "report: one row per task, sorted"
else fail "report: one row per task, sorted" "$(cat "$TMP/tasks.got")"; fi

# the printed totals equal jq's sums (to the 6 decimals printed)
want_cost=$(jq -s 'map(.route.expected_cost_usd) | add * 1e6 | round' "$PLAN")
want_base=$(jq -s 'map(.route.baseline_cost_usd) | add * 1e6 | round' "$PLAN")
got=$(grep '^total' "$TMP/rep" | head -n 1)
got_cost=$(echo "$got" | awk '{printf "%.0f", $6 * 1e6}')
got_base=$(echo "$got" | awk '{printf "%.0f", $7 * 1e6}')
check_eq "report: total cost = jq sum of expected_cost_usd" "$got_cost" \
  "$want_cost"
check_eq "report: total baseline = jq sum of baseline_cost_usd" \
  "$got_base" "$want_base"
want_in=$(jq -s 'map(.route.estimate.input_tokens) | add' "$PLAN")
check_eq "report: total tokens in = jq sum of the estimates" \
  "$(echo "$got" | awk '{print $4}')" "$want_in"
want_sv=$(jq -s '(map(.route.baseline_cost_usd) | add) as $b
  | (map(.route.expected_cost_usd) | add) as $c
  | (($b - $c) / $b * 1000 | round) / 10' "$PLAN")
check_eq "report: savings %" "$(echo "$got" | awk '{print $8}')" \
  "$(printf '%.1f%%' "$want_sv")"

# --json: the same figures, exact
"$LLMROUTE" report --json "$PLAN" >"$TMP/rep.json"
check_json "report --json: kind estimated" '.[0].costs == "estimated"' \
  "$TMP/rep.json"
jq -s 'map(.route.expected_cost_usd) | add' "$PLAN" >"$TMP/sum"
check_json "report --json: total cost = jq sum (1e-9)" \
  "(.[0].total.cost_usd - $(cat "$TMP/sum")) | fabs < 1e-9" "$TMP/rep.json"
check_json "report --json: per-model requests add up" \
  "([.[0].models[].requests] | add) == $n" "$TMP/rep.json"
check_json "report --json: per-task costs add up" \
  "(([.[0].tasks[].cost_usd] | add) - $(cat "$TMP/sum")) | fabs < 1e-9" \
  "$TMP/rep.json"

# stdin gives the same table as the file
"$LLMROUTE" report <"$PLAN" >"$TMP/rep2"
if cmp -s "$TMP/rep" "$TMP/rep2"; then pass "report: stdin = file"
else fail "report: stdin = file" "differs"; fi
# the same plan twice: every custom_id comes again, so the first file's
# records are superseded (counted once, their cost kept); --all counts
# every record
"$LLMROUTE" report --json "$PLAN" "$PLAN" >"$TMP/rep3" 2>"$TMP/err"
check_json "report: a custom_id seen again is one request" \
  ".[0].total.requests == $n and .[0].superseded_records == $n and
   .[0].total.superseded == $n" "$TMP/rep3"
check_json "report: superseded records keep their cost" \
  "(.[0].total.cost_usd - 2 * $(cat "$TMP/sum")) | fabs < 1e-9" "$TMP/rep3"
check_json "report: the superseded cost is said" \
  "(.[0].superseded_cost_usd - $(cat "$TMP/sum")) | fabs < 1e-9" "$TMP/rep3"
check_nogrep "report: custom_ids of the input: no note" 'generated ids' \
  "$TMP/err"
printf '{"custom_id":"line-1","error":null,"route":{}}\n' >"$TMP/l1.jsonl"
"$LLMROUTE" report "$TMP/l1.jsonl" "$TMP/l1.jsonl" >/dev/null 2>"$TMP/err"
check_grep "report: generated ids (line-N) superseded: a note of --all" \
  '1 superseded records have generated ids \(line-N\).*--all' "$TMP/err"
"$LLMROUTE" report --json --all "$PLAN" "$PLAN" >"$TMP/rep3"
check_json "report --all: two files add up" \
  ".[0].total.requests == $((n * 2)) and .[0].superseded_records == 0" \
  "$TMP/rep3"

# --- on real runs (actual costs) and errors ----------------------------------

cat >"$TMP/run.jsonl" <<'EOF'
{"id":"llmr-1","custom_id":"a","response":{"id":"x","object":"chat.completion","choices":[]},"error":null,"route":{"task":"coding","model":"gpt-5-mini","attempts":[{"model":"gpt-5-nano","usage":{"input_tokens":800,"cached_tokens":200,"output_tokens":90},"cost_usd":0.0001,"valid":false},{"model":"gpt-5-mini","usage":{"input_tokens":1000,"cached_tokens":0,"output_tokens":300},"cost_usd":0.00085,"valid":true}],"cost_usd":0.00095,"baseline_cost_usd":0.0125}}
{"id":"llmr-2","custom_id":"b","response":{"id":"y","object":"chat.completion","choices":[]},"error":null,"route":{"task":"chat","model":"gpt-5-nano","attempts":[{"model":"gpt-5-nano","usage":{"input_tokens":50,"cached_tokens":0,"output_tokens":20},"cost_usd":0.0000106,"valid":true}],"cost_usd":0.0000106,"baseline_cost_usd":0.00075}}
{"id":"llmr-3","custom_id":"c","response":null,"error":{"code":"provider_error","message":"503","stage":"call"},"route":{"task":"chat","model":"gpt-5-nano","attempts":[{"model":"gpt-5-nano","usage":{"input_tokens":0,"output_tokens":0,"cached_tokens":0},"cost_usd":0,"status":503}],"cost_usd":0,"baseline_cost_usd":0.0009}}
not json at all
EOF
"$LLMROUTE" report "$TMP/run.jsonl" >"$TMP/rep" 2>"$TMP/err"
check_eq "actual: exit 0" "$?" 0
check_grep "actual: labelled actual" '3 requests, 1 errors; actual costs$' \
  "$TMP/rep"
check_grep "actual: a bad line is reported on stderr" \
  'run\.jsonl:4: not a JSON line' "$TMP/err"
check_grep "actual: chat row (2 requests, 1 error, tokens, cost)" \
  '^chat +2 +1 +50 +20 +0\.000011 +0\.000750 ' "$TMP/rep"
check_grep "actual: coding row sums every attempt, cached included" \
  '^coding +1 +0 +2000 +390 +0\.000950 +0\.012500 +92\.4%' "$TMP/rep"
check_grep "actual: per model, each attempt on its own model" \
  '^gpt-5-nano +2 +1 +1050 +110 +0\.000111 +0\.000750 ' "$TMP/rep"
check_grep "actual: the final model has the request and baseline" \
  '^gpt-5-mini +1 +0 +1000 +300 +0\.000850 +0\.012500 ' "$TMP/rep"
check_grep "actual: totals" '^total +3 +1 +2050 +410 +0\.000961 +0\.013250 ' \
  "$TMP/rep"

# audit plans and real runs together
"$LLMROUTE" report "$TMP/run.jsonl" "$PLAN" >"$TMP/rep" 2>/dev/null
check_grep "mixed: labelled mixed" 'mixed actual and estimated costs' \
  "$TMP/rep"

# --- retries, fallbacks, hedges, the cache, a superseded record ---------------
# (hand-written lines: the mock cannot answer 429 then 200 on one request)

cat >"$TMP/more.jsonl" <<'EOF'
{"custom_id":"r","response":{"status_code":200,"body":{}},"error":null,"route":{"task":"t","model":"b","provider":"p2","tier":1,"attempts":[{"model":"a","provider":"p1","status":429,"retries":2,"latency_ms":100,"cost_usd":0},{"model":"b","provider":"p2","status":200,"retries":0,"latency_ms":50,"cost_usd":0.001,"valid":true}],"cost_usd":0.001,"baseline_cost_usd":0.01}}
{"custom_id":"h","response":{"status_code":200,"body":{}},"error":null,"route":{"task":"t","model":"a","provider":"p1","tier":1,"cache":"hit","cost_usd":0,"baseline_cost_usd":0.01}}
{"custom_id":"m","response":{"status_code":200,"body":{}},"error":null,"route":{"task":"t","model":"a","provider":"p1","tier":1,"cache":"miss","attempts":[{"model":"a","provider":"p1","status":200,"latency_ms":30,"cost_usd":0.002},{"model":"c","provider":"p1","status":0,"hedge":true,"latency_ms":999,"cost_usd":0.003}],"cost_usd":0.005,"baseline_cost_usd":0.01}}
{"custom_id":"d","response":null,"error":{"code":"interrupted","message":"x","stage":"call"},"route":{"task":"t","model":"a","provider":"p1","tier":1,"attempts":[{"model":"a","provider":"p1","status":0,"latency_ms":7,"cost_usd":0.5}],"cost_usd":0.5,"baseline_cost_usd":0.01}}
{"custom_id":"d","response":{"status_code":200,"body":{}},"error":null,"route":{"task":"t","model":"a","provider":"p1","tier":2,"attempts":[{"model":"a","provider":"p1","status":200,"latency_ms":40,"cost_usd":0.25,"valid":true}],"cost_usd":0.25,"baseline_cost_usd":0.01}}
EOF
"$LLMROUTE" report --json "$TMP/more.jsonl" >"$TMP/more.json"
check_json "rates: a 429 retried, then a fallback to another deployment" \
  '.[0].total | .retried == 1 and .fallback == 1 and .escalated == 0' \
  "$TMP/more.json"
check_json "cache: hit and miss counted" \
  '.[0].total | .cache_hits == 1 and .cache_misses == 1' "$TMP/more.json"
check_json "resume: the last record of a custom_id decides" \
  '.[0].total.requests == 4 and .[0].total.errors == 0 and
   .[0].errors_by_code == {} and .[0].answered_at_tier == 
   {"1":3,"2":1,"3":0,"none":0}' "$TMP/more.json"
check_json "resume: the superseded record's spend is kept and said" \
  '(.[0].total.cost_usd - 0.756 | fabs) < 1e-12 and
   .[0].superseded_records == 1 and .[0].superseded_cost_usd == 0.5' \
  "$TMP/more.json"
# latencies 150 (two attempts), 30 (the hedge runs alongside), 40; the hit
# made no call: nearest rank p50 = 40, p95 = p99 = 150
check_json "latency: exact nearest-rank percentiles, hedges not added" \
  '.[0].total | .latency_p50_ms == 40 and .latency_p95_ms == 150 and
   .latency_p99_ms == 150' "$TMP/more.json"
"$LLMROUTE" report --json --by provider "$TMP/more.jsonl" >"$TMP/prov.json"
check_json "by provider: each attempt on its own, the request on its last" \
  '.[0].providers | .p1.requests == 3 and .p2.requests == 1 and
  (.p1.cost_usd - 0.755 | fabs) < 1e-12 and .p2.cost_usd == 0.001' \
  "$TMP/prov.json"

# --- a real cascade run, interrupted and resumed ---------------------------

mock_start --log "$TMP/mock.log"
if [ -z "$MOCK_PORT" ]; then fail report_mock "mockprov did not start"
  finish; exit; fi
tier_catalog LLMR_REPORT_KEY >"$TMP/models.json"
cat >"$TMP/cascade.pipeline" <<EOF
set catalog=models.json baseline=top-3
classify
price
route policy=cheapest-capable
call timeout=20 retries=0
validate
escalate max=2 to=route
EOF
export LLMR_REPORT_KEY=report-test-key
SCHEMA='{"type":"object","properties":{"total":{"type":"number"}},
         "required":["total"]}'
req() { # req ID TASK TAGS BY_MODEL_JSON: answers per model as the mock says
  jq -nc --arg id "$1" --arg task "$2" --argjson tags "$3" --argjson by "$4" \
    --argjson schema "$SCHEMA" \
    '{custom_id:$id,
      body:{messages:[{role:"user",
        content:("[[mock " + ({by_model:$by} | tojson) + "]] the total?")}],
        response_format:{type:"json_object"}},
      routing:({task:$task,schema:$schema}
               + if $tags == null then {} else {tags:$tags} end)}'
}
GOOD='"*":{"answer":"{\"total\": 1}"}'
BAD='{"answer":"{\"total\": \"x\"}"}'
SLOW='{"latency_ms":5000,"answer":"{\"total\": 2}"}'
{
  req ok1 extraction '["alpha"]' "{$GOOD}"
  req ok2 extraction '["alpha"]' "{$GOOD}"
  req ok3 chat '["alpha"]' "{$GOOD}"
  req ok4 chat null "{$GOOD}"
  req esc1 extraction '["beta"]' "{\"cheap-1\":$BAD,$GOOD}"
  req esc2 chat '["beta"]' "{\"cheap-1\":$BAD,$GOOD}"
  req esc3 extraction '["beta","gamma"]' \
    "{\"cheap-1\":$BAD,\"mid-2\":$BAD,$GOOD}"
  req fail1 chat null '{"*":{"status":503}}'
  req slow1 extraction '"beta"' "{\"cheap-1\":$BAD,\"mid-2\":$SLOW,$GOOD}"
} >"$TMP/in.jsonl"
# stopped while slow1 waits on tier 2: slow1 is an interrupted record;
# the resumed run appends slow1 and fail1 (not a success) again
: >"$TMP/res.jsonl" # there before the background job opens it
"$LLMROUTE" -p "$TMP/cascade.pipeline" "$TMP/in.jsonl" >"$TMP/res.jsonl" \
  2>"$TMP/err" </dev/null &
_pid=$!
_i=0
while [ "$(wc -l <"$TMP/res.jsonl")" -lt 8 ] && [ $_i -lt 200 ]; do
  sleep 0.05; _i=$((_i + 1)); done
kill -TERM "$_pid"
wait "$_pid"
check_eq "run: stopped mid-run (exit 130)" "$?" 130
"$LLMROUTE" -p "$TMP/cascade.pipeline" --resume "$TMP/res.jsonl" \
  "$TMP/in.jsonl" >>"$TMP/res.jsonl" 2>"$TMP/err" </dev/null
check_json "run: 11 records: slow1 interrupted then answered, fail1 twice" \
  'length == 11 and ([.[] | select(.custom_id == "slow1") | .error.code]
   == ["interrupted", null]) and
  ([.[] | select(.custom_id == "fail1")] | length == 2)' "$TMP/res.jsonl"
check_json "run: tags travel from routing.tags into route.tags" \
  '(.[] | select(.custom_id == "esc3") | .route.tags == ["beta","gamma"])
   and (.[] | select(.custom_id == "slow1") | .route.tags == ["beta"])
   and (.[] | select(.custom_id == "ok4") | .route | has("tags") | not)' \
  "$TMP/res.jsonl"
R=$TMP/res.jsonl

"$LLMROUTE" report "$R" >"$TMP/rep" 2>"$TMP/err"
check_eq "real: exit 0" "$?" 0
check_grep "real: 9 requests, not 11" \
  '^llmroute report: 9 requests, 1 errors; actual costs$' "$TMP/rep"
check_grep "real: superseded records said" '^superseded: 2 earlier records' \
  "$TMP/rep"
check_grep "real: rates" \
  '^rates: retried 0 \(0\.0%\), fallback 0 \(0\.0%\), escalated 4 \(44\.4%\), '\
'validation failed 4 \(44\.4%\)$' \
  "$TMP/rep"
check_grep "real: the escalation funnel" \
  '^answered at tier: 1: 4, 2: 3, 3: 1$' "$TMP/rep"
check_grep "real: errors by code" '^errors by code: provider_error 1$' \
  "$TMP/rep"
check_grep "real: latency line" '^latency: p50 [0-9]+ ms, p95 [0-9]+ ms' \
  "$TMP/rep"
check_grep "real: per-task row with percentiles" \
  '^extraction +5 +0 .* [0-9]+ +[0-9]+ +[0-9]+$' "$TMP/rep"
check_nogrep "real: the key is in no report" 'report-test-key' "$TMP/rep"

"$LLMROUTE" report --format json --by task,model,provider,tag,code "$R" \
  >"$TMP/rj"
"$LLMROUTE" report --json --by task --by model --by provider --by tag \
  --by code "$R" >"$TMP/rj2"
if cmp -s "$TMP/rj" "$TMP/rj2"; then pass "json: --json = --format json"
else fail "json: --json = --format json" "differs"; fi
# what jq says of the same lines: the last record of each custom_id
LAST='group_by(.custom_id) | map(last)'
want=$(jq -s -c "$LAST | [length, ([.[] | select(.error)] | length),
  ([.[] | select(.route.escalations > 0)] | length),
  ([.[] | select(any(.route.attempts[]; .valid == false))] | length)]" "$R")
check_json "json: requests, errors, escalated, validation failures $want" \
  "(.[0].total | [.requests, .errors, .escalated, .validation_failed])
   == $want and $want == [9, 1, 4, 4]" "$TMP/rj"
check_json "json: total cost = every record's cost (superseded kept)" \
  "(.[0].total.cost_usd - ($(jq -s 'map(.route.cost_usd) | add' "$R")))
   | fabs < 1e-12" "$TMP/rj"
check_json "json: superseded cost = the superseded records' cost" \
  "((.[0].superseded_cost_usd - ($(jq -s "(map(.route.cost_usd) | add) -
     ($LAST | map(.route.cost_usd) | add)" "$R"))) | fabs < 1e-12)
   and .[0].superseded_cost_usd > 0" "$TMP/rj"
want=$(jq -s -c "$LAST | map(select(.route.attempts | length > 0)
  | [.route.attempts[] | select(.hedge != true) | .latency_ms] | add)
  | sort | . as \$a | [50, 95, 99]
  | map(\$a[((. / 100 * (\$a | length)) | ceil) - 1])" "$R")
check_json "json: p50/p95/p99 = jq's exact nearest rank $want" \
  "[.[0].total | .latency_p50_ms, .latency_p95_ms, .latency_p99_ms]
   == $want" "$TMP/rj"
check_json "json: by tag (a request counts under each of its tags)" \
  '.[0].tags | map_values(.requests) ==
   {"(none)":2,"alpha":3,"beta":4,"gamma":1}' "$TMP/rj"
check_json "json: by code" '.[0].codes | map_values(.requests) ==
   {"(ok)":8,"interrupted":0,"provider_error":1}
   and .interrupted.superseded == 1' "$TMP/rj"
check_json "json: by provider and model" \
  '.[0].providers.mock.requests == 9 and
   (.[0].models | map_values(.requests)) == {"cheap-1":5,"mid-2":3,"top-3":1}'\
  "$TMP/rj"
check_json "json: per-task costs add up to the total" \
  '.[0] | (([.tasks[].cost_usd] | add) - .total.cost_usd) | fabs < 1e-12' \
  "$TMP/rj"

"$LLMROUTE" report --format csv --by task,tag "$R" >"$TMP/rc"
check_grep "csv: header" \
  '^by,name,requests,errors,tokens_in,tokens_out,cost_usd,'\
'baseline_cost_usd,savings_pct,p50_ms,p95_ms,p99_ms,retried,fallback,'\
'escalated,validation_failed,cache_hits,cache_misses,superseded$' \
  "$TMP/rc"
check_eq "csv: one line per row (2 tasks, 4 tags, total, header)" \
  "$(wc -l <"$TMP/rc" | tr -d ' ')" 8
check_eq "csv: the tag row of beta" \
  "$(awk -F, '$1 == "tag" && $2 == "beta" { print $3, $4, $15, $16 }' \
     "$TMP/rc")" "4 0 4 4"
check_eq "csv: total = json total" \
  "$(awk -F, '$1 == "total" { print $3, $7 }' "$TMP/rc")" \
  "$(jq -r '"\(.total.requests) \(.total.cost_usd * 1e6 | round / 1e6 |
     tostring)"' "$TMP/rj" | awk '{ printf "%s %.6f", $1, $2 }')"
"$LLMROUTE" report --format markdown --by code "$R" >"$TMP/rm"
check_grep "markdown: headline" '^- \*\*9 requests\*\*, 1 errors' "$TMP/rm"
check_grep "markdown: a pipe table" '^\| code \| requests \| errors \|' \
  "$TMP/rm"
check_grep "markdown: a row" '^\| provider_error \| 1 \| 1 \|' "$TMP/rm"
check_grep "markdown: the total row" '^\| total \| 9 \| 1 \|' "$TMP/rm"
check_nogrep "markdown: only the grouping asked for" '^## By task' "$TMP/rm"

# --- the --html page, rendered by headless Chromium ------------------------

"$LLMROUTE" report --html "$TMP/r.html" "$R" >"$TMP/out"
check_eq "html: written, stdout empty without --format" \
  "$(wc -c <"$TMP/out" | tr -d ' ')" 0
check_nogrep "html: the key is not on the page" 'report-test-key' \
  "$TMP/r.html"
check_nogrep "html: self-contained (no URL, no script)" \
  'https?:|<script|@import|url\(' "$TMP/r.html"
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
  skip "html: rendered by headless Chromium" "chromium not installed"
else
  # a throwaway profile; no network is needed or allowed (file://)
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chr" --dump-dom "file://$TMP/r.html" \
    >"$TMP/dom" 2>"$TMP/chr.err"
  check_grep "html: Chromium rendered the page" '<h1>llmroute report</h1>' \
    "$TMP/dom"
  dom() { tr '\n' ' ' <"$TMP/dom" | grep -o "$1" | head -n 1; }
  check_eq "html: total requests" \
    "$(dom 'id="stat-requests"><span class="value">[^<]*' | sed 's/.*>//')" 9
  cost=$(jq -r '.total.cost_usd' "$TMP/rj")
  check_eq "html: total cost" \
    "$(dom 'id="stat-cost"><span class="value">[^<]*' | sed 's/.*>\$//')" \
    "$(printf '%.4f' "$cost")"
  for t in chat extraction; do
    want=$(jq -r --arg t "$t" '.tasks[$t].cost_usd' "$TMP/rj" |
      awk '{ printf "%.6f", $1 }')
    check_eq "html: a cost bar for $t with its cost" \
      "$(dom "class=\"task-bar\" data-task=\"$t\" data-cost=\"[0-9.]*\"" |
         sed 's/.*data-cost="//; s/"//')" "$want"
  done
  for k in 1:4 2:3 3:1; do
    check_grep "html: funnel tier ${k%%:*} = ${k#*:}" \
      "id=\"funnel-tier-${k%%:*}\" data-count=\"${k#*:}\"" "$TMP/dom"
  done
  check_eq "html: the latency histogram holds every answered request" \
    "$(grep -o 'class="hist-bar"[^>]*data-count="[0-9]*"' "$TMP/dom" |
       sed 's/.*data-count="//; s/"//' | awk '{ s += $1 } END { print s }')" 9
  check_eq "html: errors over the run: every record, every error" \
    "$(grep -o 'data-records="[0-9]*" data-errors="[0-9]*"' "$TMP/dom" |
       tr -c '0-9\n' ' ' | awk '{ r += $1; e += $2 } END { print r, e }')" \
    "11 3"
  check_grep "html: errors by code" \
    '<tr class="code"><td>provider_error</td><td class="n">1</td>' "$TMP/dom"
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chr" --window-size=800,1600 \
    --screenshot="$TMP/r.png" "file://$TMP/r.html" >/dev/null 2>&1
  # a blank 800x1600 page is about 7 kB of PNG; the report draws bars
  if [ "$(head -c 8 "$TMP/r.png" 2>/dev/null | od -An -c | tr -d ' ')" \
       = '211PNG\r\n032\n' ] &&
     [ "$(wc -c <"$TMP/r.png")" -gt 30000 ]; then
    pass "html: the screenshot is a PNG with something drawn"
  else
    fail "html: the screenshot is a PNG with something drawn" \
      "$(wc -c <"$TMP/r.png" 2>/dev/null) bytes"
  fi
fi

# --- usage --------------------------------------------------------------------

"$LLMROUTE" report "$TMP/nonexistent.jsonl" >"$TMP/out" 2>"$TMP/err"
check_eq "report: a missing file exits 1" "$?" 1
check_grep "report: names the missing file" 'nonexistent\.jsonl' "$TMP/err"
"$LLMROUTE" report --bogus >"$TMP/out" 2>"$TMP/err"
check_eq "report: unknown option exits 2" "$?" 2
"$LLMROUTE" report --format xml "$PLAN" >"$TMP/out" 2>"$TMP/err"
check_eq "report: an unknown --format exits 2" "$?" 2
check_grep "report: says the formats" 'table, json, csv or markdown' \
  "$TMP/err"
"$LLMROUTE" report --by task,colour "$PLAN" >"$TMP/out" 2>"$TMP/err"
check_eq "report: an unknown --by exits 2" "$?" 2
"$LLMROUTE" report --html "$TMP/no/such/dir/r.html" "$PLAN" >"$TMP/out" \
  2>"$TMP/err"
check_eq "report: a page that cannot be written exits 1" "$?" 1
printf '' | "$LLMROUTE" report --html "$TMP/empty.html"
check_grep "report: a page of no lines still renders" 'no result lines' \
  "$TMP/empty.html"
"$LLMROUTE" report --help >"$TMP/out" 2>"$TMP/err"
check_grep "report: --help" '^usage: llmroute report' "$TMP/out"
printf '' | "$LLMROUTE" report >"$TMP/out"
check_grep "report: empty input" '^llmroute report: 0 requests' "$TMP/out"

finish
