# tests/cli/reliability.sh - every result is an answer or an error, and a
# circuit breaker that protects the provider without failing work.
#
# (1) A deployment whose breaker opened (failed requests in a row) makes
#     the requests behind it wait for its half-open probe, instead of
#     failing them unsent or passing them on with neither an answer nor an
#     error (the defect: call skipped them, escalate passed "nothing was
#     called" on, and the results were null/null).
# (2) A stage that loses the answer: the runner writes internal_error,
#     exits 1 and says so, never a silent null.
. tests/lib.sh

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail reliability_built "$MOCKPROV or $LLMROUTE missing"
  finish; exit
fi
mock_start --log "$TMP/mock.log"
if [ -z "$MOCK_PORT" ]; then fail reliability_mock "no port"; finish; exit; fi

cat >"$TMP/models.json" <<JSON
{"providers":{"mock":{"format":"openai","base_url":"$MOCK_URL/v1",
                      "api_key_env":"LLMR_REL_KEY"}},
 "models":{
  "only-1":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"mock","model":"only-1"}]},
  "top-3":{"tier":3,"input_usd_per_mtok":100,"output_usd_per_mtok":200,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"mock","model":"top-3"}]}}}
JSON
export LLMR_REL_KEY=test-rel-key
# the shipped default's shape (call on_failure=next, validate, escalate),
# one model, a breaker that opens after 2 failed requests for 1 s
printf '%s\n' 'set catalog=models.json baseline=top-3' \
  'call timeout=10 retries=0 breaker=2 cooldown=1 on_failure=next' \
  'validate' 'escalate max=0 to=call' >"$TMP/one.pipeline"
# key_pieces KEY STEP FILE...: how many 16-character pieces of KEY, one
# at every STEP-th offset, stand in any FILE.
key_pieces() {
  _k=$1 _step=$2 _n=0 _i=0
  shift 2
  while [ $_i -le $((${#_k} - 16)) ]; do
    if grep -qF -- "$(printf '%s' "$_k" | cut -c$((_i + 1))-$((_i + 16)))" \
       "$@"; then
      _n=$((_n + 1))
    fi
    _i=$((_i + _step))
  done
  echo $_n
}
req() { # req ID TEXT
  printf '{"custom_id":"%s","body":{"model":"only-1","messages":[{"role":"user","content":"%s"}]}}\n' "$1" "$2"
}
{
  for i in 1 2 3; do req "bad$i" "b$i [[mock {\\\"status\\\":503}]]"; done
  for i in $(seq 1 10); do req "ok$i" "plain $i"; done
} >"$TMP/in.jsonl"
"$LLMROUTE" -v -j 1 --keep-order -p "$TMP/one.pipeline" "$TMP/in.jsonl" \
  >"$TMP/out.jsonl" 2>"$TMP/err"
check_eq "breaker: exit 1 (three requests failed for good)" "$?" 1
check_json "breaker: one result a request" 'length == 13' "$TMP/out.jsonl"
check_json "breaker: every result is an answer or an error" \
  'all((.response == null) != (.error == null))' "$TMP/out.jsonl"
check_json "breaker: the failing ones are provider errors" \
  '[.[0:3][] | .error.code] == ["provider_error","provider_error","provider_error"]' \
  "$TMP/out.jsonl"
check_json "breaker: the plain requests after it opened are all answered" \
  '[.[3:][] | .response.body.choices[0].message.content | type] |
   all(. == "string") and length == 10' "$TMP/out.jsonl"
check_grep "breaker: it said it waited for the cool-down" \
  'cooling down: waiting' "$TMP/err"
check_json "breaker: nothing was failed unsent" \
  'all(.error == null or (.route.attempts | length) >= 1)' "$TMP/out.jsonl"

# (2) the invariant, with a stage that drops the answer after call
printf '%s\n' 'set catalog=models.json' 'call timeout=10 retries=0' \
  "$PWD/$BUILD/tests/plugins/drop.so" >"$TMP/drop.pipeline"
req x1 "plain" >"$TMP/d.jsonl"
env -u LLMROUTE_INVARIANT_LOG "$LLMROUTE" -p "$TMP/drop.pipeline" \
  "$TMP/d.jsonl" >"$TMP/d.out" 2>"$TMP/d.err"
check_eq "invariant: exit 1" "$?" 1
check_json "invariant: internal_error, naming the stage" \
  '.[0].error.code == "internal_error" and .[0].error.stage == "drop" and
   .[0].response == null' "$TMP/d.out"
check_grep "invariant: said on stderr" 'neither an answer nor an error' \
  "$TMP/d.err"
LLMROUTE_INVARIANT_LOG=$TMP/inv.log "$LLMROUTE" -q -p "$TMP/drop.pipeline" \
  "$TMP/d.jsonl" >/dev/null 2>&1
check_grep "invariant: a line for the test suite to count" \
  'results with neither an answer nor an error' "$TMP/inv.log"
# a plan-only pipeline (no call) answers nothing, and that is no error
printf '%s\n' 'set catalog=models.json' 'route policy=map map="chat=only-1"' \
  >"$TMP/plan.pipeline"
env -u LLMROUTE_INVARIANT_LOG "$LLMROUTE" -p "$TMP/plan.pipeline" \
  "$TMP/d.jsonl" >"$TMP/p.out" 2>"$TMP/p.err"
check_eq "invariant: a plan is no error (exit 0)" "$?" 0

# (3) secrets: a 164-character key (an OpenAI project key's length) that
# the provider echoes after 60 characters of text, in an error message,
# an answer and an error inside a 200, never reaches an output, not even
# a 16-character piece of it, at any -v level.
KEY=sk-proj-$(printf 'k%.0s' $(seq 1 20))$(head -c 200 /dev/zero | tr '\0' 'Q' | head -c 136)
check_eq "secrets: the key is 164 characters" "${#KEY}" 164
export LLMR_REL_KEY=$KEY
PAD="The request was refused by the upstream service because the key"
{
  req s1 "e1 [[mock {\\\"status\\\":401,\\\"message\\\":\\\"$PAD $KEY is not valid\\\"}]]"
  req s2 "e2 [[mock {\\\"answer\\\":\\\"$PAD $KEY echoed\\\"}]]"
  req s3 "e3 [[mock {\\\"error_in_200\\\":true,\\\"message\\\":\\\"$PAD $KEY\\\"}]]"
} >"$TMP/s.jsonl"
printf '%s\n' 'set catalog=models.json' 'call timeout=10 retries=0' \
  >"$TMP/s.pipeline"
"$LLMROUTE" -vv -j 1 --keep-order -p "$TMP/s.pipeline" "$TMP/s.jsonl" \
  >"$TMP/s.out" 2>"$TMP/s.err"
check_json "secrets: the three requests came back" 'length == 3' "$TMP/s.out"
check_grep "secrets: the provider's text is kept around the key" \
  'refused by the upstream service because the key \*+' "$TMP/s.out"
check_eq "secrets: no 16-character piece of the key on stdout or stderr" \
  "$(key_pieces "$KEY" 1 "$TMP/s.out" "$TMP/s.err")" 0

# (4) durable results: kill -9 mid-run loses only what was in flight; a
# resume sends only what has no result, and cuts a torn last line.
mock_start --log "$TMP/k.log" --latency-ms 150
KURL=$MOCK_URL
printf '%s\n' 'set catalog=models.json' 'call timeout=10 retries=0' \
  >"$TMP/k.pipeline"
sed -i "s|http://127.0.0.1:[0-9]*/v1|$KURL/v1|" "$TMP/models.json"
export LLMR_REL_KEY=test-rel-key
for i in $(seq 1 40); do req "k$i" "kill test $i"; done >"$TMP/k.jsonl"
"$LLMROUTE" -q -j 4 -p "$TMP/k.pipeline" "$TMP/k.jsonl" >"$TMP/k1.out" \
  2>/dev/null &
kpid=$!
sleep 1
served=$(grep -c . "$TMP/k.log")
kill -9 $kpid
wait $kpid 2>/dev/null
got=$(grep -c . "$TMP/k1.out")
check "kill -9: some results were written before the kill" \
  test "$got" -ge 1
check "kill -9: at most the in-flight ones lost ($got written, $served sent)" \
  test "$got" -ge $((served - 8))
check_json "kill -9: every line written is whole" 'length > 0' "$TMP/k1.out"
"$LLMROUTE" -q -j 4 --resume "$TMP/k1.out" -p "$TMP/k.pipeline" \
  "$TMP/k.jsonl" >"$TMP/k2.out" 2>"$TMP/k2.err"
check_eq "resume: exit 0" "$?" 0
check_eq "resume: every request has a result once" \
  "$(cat "$TMP/k1.out" "$TMP/k2.out" | jq -r .custom_id | sort -u | wc -l | tr -d ' ')" 40
check_eq "resume: nothing answered before was sent again" \
  "$(cat "$TMP/k1.out" "$TMP/k2.out" | jq -r .custom_id | sort | uniq -d | wc -l | tr -d ' ')" 0
head -n 3 "$TMP/k1.out" >"$TMP/torn.out"
printf '{"custom_id":"k39","respo' >>"$TMP/torn.out"
"$LLMROUTE" --resume "$TMP/torn.out" -p "$TMP/k.pipeline" "$TMP/k.jsonl" \
  >/dev/null 2>"$TMP/torn.err"
check_grep "resume: a torn last line is reported" 'last line is torn' \
  "$TMP/torn.err"
check_eq "resume: and cut off, so the file ends on a whole line" \
  "$(tail -c 1 "$TMP/torn.out" | od -An -c | tr -d ' ')" '\n'

# (5) a request stopped short keeps every attempt in its record: one
# waiting to retry (its last failure), one in flight (priced as reserved,
# as the budget counted it), under SIGINT and job_timeout; and a retry the
# budget refuses keeps the attempt before it.
mock_start --log "$TMP/c.log"
sed -i "s|http://127.0.0.1:[0-9]*/v1|$MOCK_URL/v1|" "$TMP/models.json"
printf '%s\n' 'set catalog=models.json' 'call timeout=30 retries=2' \
  >"$TMP/c.pipeline"
{
  req c-retry "c1 [[mock {\\\"status\\\":503,\\\"retry_after\\\":20}]]"
  req c-flight "c2 [[mock {\\\"hang\\\":true}]]"
} >"$TMP/c.jsonl"
"$LLMROUTE" -q -j 2 -p "$TMP/c.pipeline" "$TMP/c.jsonl" >"$TMP/c.out" \
  2>/dev/null &
cpid=$!
sleep 1
kill -INT $cpid
wait $cpid
check_eq "cut off: SIGINT exits 130" "$?" 130
check_json "cut off: both interrupted, each with its attempt" \
  'length == 2 and all(.error.code == "interrupted" and
   (.route.attempts | length) == 1)' "$TMP/c.out"
check_json "cut off: the one waiting to retry keeps its failure" \
  '.[] | select(.custom_id == "c-retry") | .route.attempts[0] |
   .status == 503 and .cost_usd == 0 and (.reason | test("HTTP 503.*cut off"))' \
  "$TMP/c.out"
check_json "cut off: the one in flight is priced as reserved" \
  '.[] | select(.custom_id == "c-flight") | .route |
   (.attempts[0].reason | test("in flight: priced as reserved")) and
   .attempts[0].cost_usd > 0 and .cost_usd == .attempts[0].cost_usd' \
  "$TMP/c.out"
printf '%s\n' 'set catalog=models.json job_timeout=1' \
  'call timeout=30 retries=0' >"$TMP/t.pipeline"
req t-flight "t1 [[mock {\\\"hang\\\":true}]]" >"$TMP/t.jsonl"
"$LLMROUTE" -q -p "$TMP/t.pipeline" "$TMP/t.jsonl" >"$TMP/t.out" 2>/dev/null
check_json "cut off: job_timeout keeps the attempt in flight" \
  '.[0].error.code == "timeout" and (.[0].route.attempts | length) == 1 and
   .[0].route.cost_usd > 0' "$TMP/t.out"
# b-big bills 90,000 input tokens ($0.09 at $1/Mtok) and passes the $0.05
# cap once; b-retry's second try, a second later, is refused
printf '%s\n' 'set catalog=models.json' 'call timeout=30 retries=2' \
  >"$TMP/b.pipeline"
{
  req b-retry "b1 [[mock {\\\"seq\\\":[{\\\"status\\\":503,\\\"retry_after\\\":1},{}]}]]"
  req b-big "b2 [[mock {\\\"prompt_tokens\\\":90000}]]"
} >"$TMP/b.jsonl"
"$LLMROUTE" -q -j 2 --budget 0.05 -p "$TMP/b.pipeline" "$TMP/b.jsonl" \
  >"$TMP/b.out" 2>/dev/null
check_json "budget: a refused retry keeps the attempt before it" \
  '.[] | select(.custom_id == "b-retry") | .error.code == "budget_exceeded"
   and (.route.attempts | length) == 1 and .route.attempts[0].status == 503
   and (.route.attempts[0].reason | test("budget refused"))' "$TMP/b.out"

# (6) secrets, every format and every place: a provider that echoes the
# credentials it got (Authorization, x-api-key, x-goog-api-key) into its
# answers, its error messages, errors inside a 200 and its response
# headers (retry-after, the ratelimit resets), with 164-character keys, at
# -vv: no 16-character piece of any key on stdout, stderr or the log.
mock_start --log "$TMP/e.log"
long_key() { # long_key PREFIX CHAR: a 164-character key
  printf '%s' "$1"; head -c 200 /dev/zero | tr '\0' "$2" | head -c $((164 - ${#1}))
}
export LLMR_E_OA=$(long_key sk-proj- A) LLMR_E_AN=$(long_key sk-ant-api03- B)
export LLMR_E_GE=$(long_key AIza C)
cat >"$TMP/e.json" <<JSON
{"providers":{
  "oa":{"format":"openai","base_url":"$MOCK_URL/v1","api_key_env":"LLMR_E_OA"},
  "an":{"format":"anthropic","base_url":"$MOCK_URL","api_key_env":"LLMR_E_AN"},
  "ge":{"format":"gemini","base_url":"$MOCK_URL","api_key_env":"LLMR_E_GE"}},
 "models":{
  "m-oa":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"oa","model":"m-oa"}]},
  "m-an":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"an","model":"m-an"}]},
  "m-ge":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"ge","model":"m-ge"}]}}}
JSON
printf '%s\n' 'set catalog=e.json' 'call timeout=10 retries=1 retry_after_max=1' \
  >"$TMP/e.pipeline"
E='$CREDENTIALS'
for m in m-oa m-an m-ge; do
  for d in "{\"answer\":\"$PAD $E\"}" \
           "{\"status\":401,\"message\":\"$PAD $E\"}" \
           "{\"status\":400,\"message\":\"$E $PAD $E\"}" \
           "{\"error_in_200\":true,\"message\":\"$PAD $E\"}" \
           "{\"status\":429,\"retry_after\":\"$E\",\"message\":\"$E\"}" \
           "{\"answer\":\"ok\",\"remaining_requests\":0,\"reset_requests\":\"$E\",\"remaining_tokens\":0,\"reset_tokens\":\"$E\"}"; do
    jq -nc --arg m "$m" --arg t "echo [[mock $d]]" \
      '{body:{model:$m,messages:[{role:"user",content:$t}]}}'
  done
done >"$TMP/e.jsonl"
"$LLMROUTE" -vv -j 4 -p "$TMP/e.pipeline" "$TMP/e.jsonl" >"$TMP/e.out" \
  2>"$TMP/e.err"
check_json "echoed credentials: 18 results" 'length == 18' "$TMP/e.out"
check_grep "echoed credentials: the provider's text is kept around them" \
  'refused by the upstream service because the key' "$TMP/e.out"
check_eq "echoed credentials: the mock did echo them (its answers held keys)" \
  "$(jq -r '.response.body.choices[0].message.content // empty' \
     "$TMP/e.out" | grep -c '\*\*\*')" 3
leaks=0
for k in "$LLMR_E_OA" "$LLMR_E_AN" "$LLMR_E_GE"; do
  leaks=$((leaks + $(key_pieces "$k" 4 "$TMP/e.out" "$TMP/e.err" \
                     "$TMP/e.log")))
done
check_eq "echoed credentials: no 16-character piece of a key anywhere (one at every 4th offset)" \
  "$leaks" 0

finish
