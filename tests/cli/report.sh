# tests/cli/report.sh - `llmroute report`: tables per task and per model,
# labelled estimated for audit plans and actual for real runs, totals that
# match a jq sum of the same lines, errors counted, stdin and files.
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
# two files add up
"$LLMROUTE" report --json "$PLAN" "$PLAN" >"$TMP/rep3"
check_json "report: two files add up" ".[0].total.requests == $((n * 2))" \
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

# --- usage --------------------------------------------------------------------

"$LLMROUTE" report "$TMP/nonexistent.jsonl" >"$TMP/out" 2>"$TMP/err"
check_eq "report: a missing file exits 1" "$?" 1
check_grep "report: names the missing file" 'nonexistent\.jsonl' "$TMP/err"
"$LLMROUTE" report --bogus >"$TMP/out" 2>"$TMP/err"
check_eq "report: unknown option exits 2" "$?" 2
"$LLMROUTE" report --help >"$TMP/out" 2>"$TMP/err"
check_grep "report: --help" '^usage: llmroute report' "$TMP/out"
printf '' | "$LLMROUTE" report >"$TMP/out"
check_grep "report: empty input" '^llmroute report: 0 requests' "$TMP/out"

finish
