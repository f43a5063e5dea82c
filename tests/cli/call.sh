# tests/cli/call.sh - the call stage against the loopback mock provider:
# the three formats round-trip, SDK retries (counted in the mock's log),
# no retry on 400/401/quota, fallback, no hedge without route.hedge, the
# circuit breaker, per-provider concurrency, bad bodies, timeouts, missing
# keys, and no key in any output.  Run: BUILD=build-call sh tests/cli/call.sh
. tests/lib.sh

FIX=tests/fixtures/call
LOG=$TMP/mock.log
K1=sk-llmr-test-oa-5d1e0c77
K2=sk-llmr-test-an-91b2f3aa
K3=sk-llmr-test-ge-0a4c6e12
K4=sk-llmr-test-oa2-77e3b9d0

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail call_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
mock_start --log "$LOG"
if [ -z "$MOCK_PORT" ]; then
  fail call_mock_started "no port"; finish; exit; fi

export LLMR_TEST_OA_KEY=$K1 LLMR_TEST_AN_KEY=$K2 LLMR_TEST_GE_KEY=$K3 \
  LLMR_TEST_OA2_KEY=$K4
unset LLMR_TEST_UNSET_KEY
for p in OA OA2 SLOW LOCAL NOKEY; do
  export "LLMROUTE_${p}_BASE_URL=$MOCK_URL/v1"; done
export LLMROUTE_AN_BASE_URL=$MOCK_URL LLMROUTE_GE_BASE_URL=$MOCK_URL

# line ID MODEL TEXT: one request line; TEXT is raw JSON string content.
line() {
  printf '{"custom_id":"%s","body":{"model":"%s","messages":[{"role":"user","content":"%s"}]}}\n' \
    "$1" "$2" "$3"
}
# run NAME PIPELINE [ARGS]: llmroute over $TMP/NAME.in -> NAME.out/.err
run() {
  _n=$1 _p=$2; shift 2
  "$LLMROUTE" -p "$_p" "$@" <"$TMP/$_n.in" >"$TMP/$_n.out" \
    2>"$TMP/$_n.err"
  echo $? >"$TMP/$_n.rc"
}
# res NAME ID JQ: jq over the result line of custom_id ID
res() {
  jq -c "select(.custom_id == \"$2\") | $3" "$TMP/$1.out" 2>/dev/null
}
# sent MARK: how many requests the mock received carrying MARK
sent() {
  jq -s "[.[] | select(.body | tostring | contains(\"$1\"))] | length" \
    "$LOG"
}
# sent_to MODEL MARK
sent_to() {
  jq -s "[.[] | select(.model == \"$1\" and
          (.body | tostring | contains(\"$2\")))] | length" "$LOG"
}

# --- the main run: default options (retries=2) ---------------------------
P=$FIX/call.pipeline
{
  line fmt-oa m-openai 'hello openai'
  line fmt-an m-anthropic 'hello anthropic'
  line fmt-ge m-gemini 'hello gemini'
  line local m-local 'hello local'
  line r429 m-openai 'c-r429 [[mock {\"seq\":[{\"status\":429,\"retry_after\":1},{\"status\":200}]}]]'
  line r503 m-anthropic 'c-r503 [[mock {\"seq\":[{\"status\":503},{\"status\":529},{\"status\":200}]}]]'
  line rms m-gemini 'c-rms [[mock {\"seq\":[{\"status\":500,\"retry_after_ms\":50},{\"status\":200}]}]]'
  line r500x m-openai 'c-r500x [[mock {\"status\":500,\"retry_after\":\"0\"}]]'
  line n400 m-openai 'c-n400 [[mock {\"status\":400}]]'
  line n401 m-anthropic 'c-n401 [[mock {\"status\":401}]]'
  line n404 m-openai 'c-n404 [[mock {\"status\":404}]]'
  line quota m-openai 'c-quota [[mock {\"status\":429,\"error_code\":\"insufficient_quota\"}]]'
  line nsr m-openai 'c-nsr [[mock {\"status\":503,\"x_should_retry\":false}]]'
  line ysr m-openai 'c-ysr [[mock {\"seq\":[{\"status\":400,\"x_should_retry\":true},{\"status\":200}]}]]'
  line ctx m-small 'c-ctx [[mock {\"status\":400,\"error_code\":\"context_length_exceeded\"}]]'
  line fb m-fallback 'c-fbk [[mock {\"by_model\":{\"gpt-a\":{\"status\":502,\"retry_after\":\"0\"}}}]]'
  line fb401 m-fallback 'c-fb401 [[mock {\"by_model\":{\"gpt-a\":{\"status\":401}}}]]'
  line garbage m-openai 'c-garbage [[mock {\"garbage\":true,\"retry_after\":\"0\"}]]'
  line trunc m-anthropic 'c-trunc [[mock {\"truncate\":true,\"retry_after\":\"0\"}]]'
  line truncj m-gemini 'c-truncj [[mock {\"truncate\":\"json\",\"retry_after\":\"0\"}]]'
  line html m-openai 'c-html [[mock {\"html\":true,\"status\":502,\"retry_after\":\"0\"}]]'
  line e200 m-openai 'c-e200 [[mock {\"error_in_200\":true,\"retry_after\":\"0\"}]]'
  line reset m-openai 'c-reset [[mock {\"seq\":[{\"reset\":true},{\"status\":200}]}]]'
  line nokey m-nokey 'c-nokey'
  line cached m-openai 'c-cached [[mock {\"prompt_tokens\":1000,\"cached_tokens\":400,\"completion_tokens\":100}]]'
  line nomodel no-such-model 'c-nomodel'
} >"$TMP/main.in"
run main "$P" -j 64
check_eq main_exit_1_some_failed "$(cat "$TMP/main.rc")" 1
check_eq main_one_line_each "$(wc -l <"$TMP/main.out" | tr -d ' ')" \
  "$(wc -l <"$TMP/main.in" | tr -d ' ')"

# each format round-trips and is normalised (llmroute(1), RESULT LINES)
for id in fmt-oa fmt-an fmt-ge local; do
  check_eq "${id}_normalised" "$(res main $id '.response.body |
    (.id|type) == "string" and .object == "chat.completion" and
    (.created|type) == "number" and (.model|type) == "string" and
    .choices[0].index == 0 and .choices[0].message.role == "assistant" and
    (.choices[0].message.content|startswith("mock answer")) and
    .choices[0].message.refusal == null and .choices[0].logprobs == null and
    .choices[0].finish_reason == "stop" and
    (.usage.prompt_tokens|type) == "number" and
    .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens')" \
    true
done
check_eq fmt_route_provider "$(res main fmt-an '.route.provider')" '"an"'
check_eq fmt_attempt_record "$(res main fmt-ge '.route.attempts[0] |
  .model == "m-gemini" and .provider == "ge" and .status == 200 and
  .retries == 0 and (.latency_ms|type) == "number" and
  (.usage.output_tokens > 0) and .cost_usd > 0')" true
check_eq fmt_cost_sum "$(res main fmt-oa \
  '.route.cost_usd == ([.route.attempts[].cost_usd]|add)')" true
jq -c 'select(.path | endswith("/v1/messages"))' "$LOG" | head -n 1 \
  >"$TMP/an.req"
check_json anthropic_headers '.[0].headers["anthropic-version"] ==
  "2023-06-01" and .[0].headers["x-api-key"] == "<redacted>"' "$TMP/an.req"
jq -c 'select(.path | endswith(":generateContent"))' "$LOG" | head -n 1 \
  >"$TMP/ge.req"
check_json gemini_headers '.[0].headers["x-goog-api-key"] == "<redacted>"' \
  "$TMP/ge.req"
jq -c 'select(.model == "gpt-test")' "$LOG" | head -n 1 >"$TMP/oa.req"
check_json openai_bearer '.[0].headers.authorization == "<redacted>" and
  .[0].body.max_completion_tokens == 1000' "$TMP/oa.req"
jq -c 'select(.model == "llama-test")' "$LOG" >"$TMP/local.req"
check_json local_max_tokens_no_key '.[0].body.max_tokens == 1000 and
  (.[0].body | has("max_completion_tokens") | not) and
  (.[0].headers | has("authorization") | not)' "$TMP/local.req"

# retries: the SDKs' statuses, retry-after honoured, counted at the mock
check_eq retry_429_sent_twice "$(sent c-r429)" 2
check_eq retry_429_ok "$(res main r429 \
  '[.error, .route.attempts[0].retries, .route.attempts[0].status]')" \
  '[null,1,200]'
check_eq retry_503_529_sent_thrice "$(sent c-r503)" 3
check_eq retry_503_529_ok "$(res main r503 '.route.attempts[0].retries')" 2
check_eq retry_after_ms "$(sent c-rms) $(res main rms '.error')" "2 null"
check_eq retry_gives_up_after_2 "$(sent c-r500x)" 3
check_eq retry_gives_up_record "$(res main r500x \
  '[.error.code, .route.attempts[0].status, .route.attempts[0].retries]')" \
  '["provider_error",500,2]'

# never retried
check_eq no_retry_400 "$(sent c-n400) $(res main n400 '.error.code')" \
  '1 "provider_error"'
check_eq no_retry_401 "$(sent c-n401) $(res main n401 '.error.code')" \
  '1 "auth_error"'
check_eq no_retry_404 "$(sent c-n404)" 1
check_eq no_retry_quota "$(sent c-quota) $(res main quota '.error.code')" \
  '1 "rate_limited"'
check_eq x_should_retry_false "$(sent c-nsr)" 1
check_eq x_should_retry_true "$(sent c-ysr) $(res main ysr '.error')" \
  "2 null"
check_eq context_length "$(res main ctx '.error.code')" \
  '"context_length_exceeded"'
check_eq context_length_no_same_size_retry "$(sent c-ctx)" 1

# fallback to the next deployment after the first's retries
check_eq fallback_first_retried "$(sent_to gpt-a c-fbk)" 3
check_eq fallback_second_once "$(sent_to gpt-b c-fbk)" 1
check_eq fallback_record "$(res main fb '[.error, .route.provider,
  (.route.attempts | map([.provider, .status, .retries]))]')" \
  '[null,"oa2",[["oa",502,2],["oa2",200,0]]]'
check_eq fallback_after_401 "$(sent_to gpt-a c-fb401) $(res main fb401 \
  '.route.provider')" '1 "oa2"'

# bad bodies: retried as errors, then error records
check_eq garbage_error "$(sent c-garbage) $(res main garbage '.error.code')" \
  '3 "provider_error"'
check_eq truncated_error "$(res main trunc '.error.code')" \
  '"provider_error"'
check_eq truncated_json_error "$(res main truncj '.error.code')" \
  '"provider_error"'
check_eq html_502_error "$(sent c-html) $(res main html '.error.code')" \
  '3 "provider_error"'
check_eq error_in_200 "$(sent c-e200) $(res main e200 '.error.code')" \
  '3 "provider_error"'
check_eq reset_retried "$(sent c-reset) $(res main reset '.error')" "2 null"

# keys
check_eq missing_key_auth_error "$(res main nokey '.error.code')" \
  '"auth_error"'
check_eq missing_key_not_sent "$(sent c-nokey)" 0
check_grep missing_key_names_variable 'LLMR_TEST_UNSET_KEY' "$TMP/main.out"
check_eq no_model "$(res main nomodel '.error.code')" '"no_model"'

# usage with cached tokens, priced at the cached rate (1.0/2.0/0.1 $/Mtok)
check_eq cached_usage "$(res main cached '.route.attempts[0].usage |
  [.input_tokens, .cached_tokens, .output_tokens]')" '[600,400,100]'
check_eq cached_cost "$(res main cached \
  '.route.attempts[0].cost_usd * 1e6 | round')" 840

# --- timeouts and caps: timeout=1 retries=1 max_body=65536 ----------------
cat >"$TMP/fast.pipeline" <<EOF
set catalog=$PWD/$FIX/models.json
call timeout=1 retries=1 deadline=20 max_body=65536 breaker=0
EOF
{
  line hang m-openai 'c-hang [[mock {\"hang\":true}]]'
  line big m-openai 'c-big [[mock {\"big\":400000}]]'
  line okbig m-openai 'c-okbig [[mock {\"big\":20000}]]'
} >"$TMP/fast.in"
run fast "$TMP/fast.pipeline"
check_eq timeout_error "$(res fast hang '.error.code')" '"timeout"'
check_eq timeout_retried "$(sent c-hang)" 2
check_eq huge_body_error "$(res fast big '.error.code')" '"provider_error"'
check_grep huge_body_reason 'max_body' "$TMP/fast.out"
check_eq huge_body_not_retried "$(sent c-big)" 1
check_eq big_body_ok "$(res fast okbig '.error')" null

# --- the deadline bounds every attempt and retry --------------------------
cat >"$TMP/dl.pipeline" <<EOF
set catalog=$PWD/$FIX/models.json
call timeout=30 retries=2 deadline=1 breaker=0
EOF
line dl m-openai 'c-dl [[mock {\"hang\":true}]]' >"$TMP/dl.in"
run dl "$TMP/dl.pipeline"
check_eq deadline_timeout "$(res dl dl '.error.code') $(sent c-dl)" \
  '"timeout" 1'

# --- a retry-after beyond retry_after_max moves on at once -----------------
line ralong m-fallback 'c-ralong [[mock {\"by_model\":{\"gpt-a\":{\"status\":429,\"retry_after\":3600}}}]]' \
  >"$TMP/ralong.in"
run ralong "$P"
check_eq long_retry_after_moves_on "$(sent_to gpt-a c-ralong) $(res ralong \
  ralong '.route.provider')" '1 "oa2"'

# --- the budget: a request whose worst case does not fit is not sent -------
line budget m-openai 'c-budget' >"$TMP/budget.in"
run budget "$P" --budget 0.0000001
check_eq budget_exceeded "$(res budget budget '.error.code') $(sent \
  c-budget)" '"budget_exceeded" 0'

# --- a provider bills far more input than estimated: the overrun counts
# against the cap at once and later reservations allow for it, so only
# the first call (billed before anything was known) can pass the cap.
# Each call bills $0.010002 (10,000 input tokens at $1/Mtok, one output
# token at $2/Mtok); under a $0.025 cap exactly two fit.
for i in 1 2 3 4 5; do
  printf '{"custom_id":"over%s","body":{"model":"m-openai","max_tokens":1,"messages":[{"role":"user","content":"c-over [[mock {\\"prompt_tokens\\":10000,\\"completion_tokens\\":1}]]"}]}}\n' \
    "$i"
done >"$TMP/over.in"
run over "$P" -j 1 --keep-order --budget 0.025
check_eq budget_input_overrun_counted "$(jq -sc '[map(.error.code //
  "ok") | group_by(.) | .[] | [.[0], length]]' "$TMP/over.out") $(sent \
  c-over)" '[["budget_exceeded",3],["ok",2]] 2'
check_eq budget_spend_within_cap "$(jq -s '[.[].route.cost_usd // 0] |
  add <= 0.025' "$TMP/over.out")" true
check_eq budget_overrun_said "$(grep -c 'billed .* against a reservation' \
  "$TMP/over.err")" 1

# --- usage no provider could mean is never a cost: the attempt is priced
# at its reservation and says why; the answer's usage follows ---------------
{
  line imp-oa m-openai 'c-imp [[mock {\"prompt_tokens\":1e308}]]'
  line imp-an m-anthropic 'c-imp [[mock {\"prompt_tokens\":-5,\"completion_tokens\":-100}]]'
  line imp-ge m-gemini 'c-imp [[mock {\"completion_tokens\":1e300}]]'
  line imp-ok m-openai 'c-imp [[mock {\"prompt_tokens\":20,\"completion_tokens\":3}]]'
} >"$TMP/imp.in"
run imp "$P" --keep-order
check_eq impossible_usage_reason "$(jq -c '.route.attempts[0].usage_reason //
  "none" | .[0:16]' "$TMP/imp.out" | tr '\n' ' ')" \
  '"impossible usage" "impossible usage" "impossible usage" "none" '
check_eq impossible_usage_priced_as_reserved "$(jq -c '.error == null and
  (.route.cost_usd | . >= 0 and . < 0.01) and .route.cost_usd ==
  .route.attempts[0].cost_usd and
  ([.response.body.usage[] | numbers] | all(. >= 0 and . < 1e6))' \
  "$TMP/imp.out" | tr '\n' ' ')" 'true true true true '
check_eq sound_usage_priced_as_billed "$(res imp imp-ok \
  '.route.cost_usd * 1e6 | round')" 26
check_eq impossible_usage_said "$(grep -c 'impossible usage' \
  "$TMP/imp.err")" 3

# --- on_failure=next: the failure is left to escalate ----------------------
cat >"$TMP/esc.pipeline" <<EOF
set catalog=$PWD/$FIX/ctx.json baseline=m-big
route policy=cheapest-capable
call retries=0 breaker=0 on_failure=next
escalate max=1 to=route
EOF
printf '%s\n' '{"custom_id":"esc","body":{"messages":[{"role":"user","content":"c-esc [[mock {\"status\":500}]]"}]}}' \
  >"$TMP/esc.in"
run esc "$TMP/esc.pipeline"
check_eq on_failure_next "$(res esc esc '[.response, .route.call_error.code,
  (.error.code | type)]')" '[null,"provider_error","string"]'

# --- hedging goes one tier up (route.hedge), never to the next deployment
# of the same model: with no route stage there is no route.hedge, so a
# slow first deployment is waited for (tests/cli/hedge.sh: the hedge) ----
cat >"$TMP/hedge.pipeline" <<EOF
set catalog=$PWD/$FIX/models.json
call timeout=10 hedge_ms=200 breaker=0
EOF
line hedge m-fallback 'c-hedge [[mock {\"by_model\":{\"gpt-a\":{\"latency_ms\":1000}}}]]' \
  >"$TMP/hedge.in"
run hedge "$TMP/hedge.pipeline"
check_eq hedge_needs_route_hedge "$(res hedge hedge '[.error, .route.provider,
  (.route.attempts|length)]')" '[null,"oa",1]'
check_eq hedge_not_to_next_deployment "$(sent_to gpt-b c-hedge)" 0

# --- circuit breaker: 2 failures open gpt-a; the third skips it ----------
cat >"$TMP/brk.pipeline" <<EOF
set catalog=$PWD/$FIX/models.json
call retries=0 breaker=2 cooldown=600
EOF
for i in 1 2 3 4; do
  line "brk$i" m-fallback 'c-brk [[mock {\"by_model\":{\"gpt-a\":{\"status\":500}}}]]'
done >"$TMP/brk.in"
run brk "$TMP/brk.pipeline" -j 1
check_eq breaker_all_answered "$(jq -s '[.[] | select(.error == null)] |
  length' "$TMP/brk.out")" 4
check_eq breaker_opened "$(sent_to gpt-a c-brk)" 2
check_eq breaker_traffic_moved "$(sent_to gpt-b c-brk)" 4

# --- context_length_exceeded: on to the route's larger-context candidate --
printf '%s\n' '{"custom_id":"ctxr","body":{"messages":[{"role":"user","content":"c-ctxr [[mock {\"by_model\":{\"gpt-small\":{\"status\":400,\"error_code\":\"context_length_exceeded\"}}}]]"}]}}' \
  >"$TMP/ctxr.in"
run ctxr "$FIX/ctx.pipeline"
check_eq context_reroute "$(res ctxr ctxr '[.error, .route.model,
  (.route.attempts | map([.model, .status]))]')" \
  '[null,"m-big",[["m-small",400],["m-big",200]]]'
check_eq context_reroute_cost "$(res ctxr ctxr \
  '.route.cost_usd == .route.attempts[1].cost_usd')" true

# --- per-provider concurrency: provider "slow" allows 2 at once ----------
curl -s -X POST "$MOCK_URL/_reset" >/dev/null
for i in 1 2 3 4 5 6 7 8; do
  line "conc$i" m-slow "c-conc$i [[mock {\\\"latency_ms\\\":150}]]"
done >"$TMP/conc.in"
run conc "$P" -j 8
check_eq concurrency_all_ok "$(jq -s '[.[] | select(.error == null)] |
  length' "$TMP/conc.out")" 8
check_eq concurrency_capped "$(curl -s "$MOCK_URL/_stats" |
  jq '.max_active <= 2')" true

# --- no key anywhere --------------------------------------------------------
leaked=0
for f in "$TMP"/*.out "$TMP"/*.err "$LOG" "$TMP/mock.err"; do
  for k in $K1 $K2 $K3 $K4; do
    if grep -q -- "$k" "$f"; then leaked=1; echo "key in $f"; fi
  done
done
check_eq no_key_in_outputs "$leaked" 0
cat "$TMP"/*.err >"$TMP/all.err"
check_nogrep no_sanitizer_reports \
  'AddressSanitizer|LeakSanitizer|runtime error' "$TMP/all.err"

finish
