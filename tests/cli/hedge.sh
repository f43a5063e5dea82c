# tests/cli/hedge.sh - hedging, the speculative cascade (issue 5): `route
# hedge=true` names the cheapest model one tier up in route.hedge, `call
# hedge_ms=` sends it there when the cheap call is slow, and the first
# answer the validate stage's checks accept (host->check_answer) is kept,
# the other transfer cancelled.  Against the loopback mock provider, with
# scripted delays far apart (seconds) so the order of events never
# depends on the machine's speed; nothing here measures time.
# Run: BUILD=build sh tests/cli/hedge.sh
. tests/lib.sh

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail hedge_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
LOG=$TMP/mock.log
mock_start --log "$LOG"
if [ -z "$MOCK_PORT" ]; then fail hedge_mock "mockprov did not start"
  finish; exit; fi

# Three tiers on the mock; per million tokens: input 1/10/100, output
# 2/20/200.
tier_catalog LLMR_HEDGE_KEY >"$TMP/models.json"
cat >"$TMP/hedge.pipeline" <<EOF
set catalog=models.json baseline=top-3
price
route policy=cheapest-capable hedge=true
call timeout=30 retries=0 hedge_ms=200
validate
escalate max=2 to=route
EOF
export LLMR_HEDGE_KEY=test-key

# req ID BY_MODEL_JSON [ROUTING_JSON]: the answer must be JSON matching
# {"total": number}; the mock answers per model as BY_MODEL says.
SCHEMA='{"type":"object","properties":{"total":{"type":"number"}},
        "required":["total"]}'
req() {
  jq -nc --arg id "$1" --argjson by "$2" --argjson schema "$SCHEMA" \
    --argjson r "${3:-{\}}" \
    '{custom_id:$id,
      body:{messages:[{role:"user",
        content:("[[mock " + ({by_model:$by} | tojson) + "]] " + $id
                 + ": the total?")}],
        response_format:{type:"json_object"}},
      routing:({task:"extraction",schema:$schema} + $r)}'
}
# res ID JQ: jq -e over the result line of custom_id ID
res_ok() {
  jq -e -s ".[] | select(.custom_id == \"$1\") | $2" "$TMP/out" \
    >/dev/null 2>&1
}
check_res() { # check_res NAME ID JQ
  if res_ok "$2" "$3"; then pass "$1"
  else fail "$1" "jq '$3' false on: $(jq -c "select(.custom_id == \"$2\")
    | .route" "$TMP/out" 2>/dev/null | head -c 600)"; fi
}
# sent_to MODEL MARK: requests the mock received for MODEL carrying MARK
sent_to() {
  jq -s "[.[] | select(.model == \"$1\" and
          (.body | tostring | contains(\"$2:\")))] | length" "$LOG"
}
# The exact cost of an attempt from its prompt: the mock counts
# bytes/4 of the message text as prompt tokens and bytes/4 of the answer
# as completion tokens.
cost_ok() { # cost_ok ID MODEL_INDEX(0..2) ANSWER
  _p=$(jq -r 'select(.custom_id == "'"$1"'") |
    .body.messages[0].content | utf8bytelength / 4 | floor' "$TMP/in")
  _k=$(printf '%s' "$3" | wc -c | awk '{ print int($1 / 4) }')
  echo "$_p $_k $2"
}

{
  # (a) the cheap model is slow: the hedge goes to mid-2, valid, kept
  req slow '{"cheap-1":{"latency_ms":8000,"answer":"{\"total\": 1}"},
             "mid-2":{"answer":"{\"total\": 2}"}}'
  # (b) the cheap model answers first, invalid JSON, while the hedge is
  # out: the hedge's valid answer is kept
  req badfirst '{"cheap-1":{"latency_ms":2000,"answer":"not json"},
                 "mid-2":{"latency_ms":5000,"answer":"{\"total\": 2}"}}'
  # (c) the cheap model answers first and validly: kept, hedge cancelled
  req goodfirst '{"cheap-1":{"latency_ms":1500,"answer":"{\"total\": 1}"},
                  "mid-2":{"latency_ms":8000,"answer":"{\"total\": 2}"}}'
  # (d) the top tier is called: nothing above it, no hedge
  req top '{"top-3":{"latency_ms":1000,"answer":"{\"total\": 3}"}}' \
    '{"min_tier":3}'
  # (e) both invalid, the hedge first: call hands on the last (cheap-1);
  # escalate goes above the hedge's tier, straight to tier 3
  req bothbad '{"mid-2":{"latency_ms":1000,"answer":"nope"},
                "cheap-1":{"latency_ms":3000,"answer":"no way"},
                "top-3":{"answer":"{\"total\": 3}"}}'
  # (f) the cheap answer is invalid and the hedge then fails: the invalid
  # answer is handed on, and escalate re-routes to tier 2 as usual
  req hfail '{"cheap-1":{"latency_ms":1500,"answer":"nope"},
              "mid-2":{"seq":[{"latency_ms":3000,"status":500},
                              {"answer":"{\"total\": 2}"}]},
              "top-3":{"latency_ms":20000}}'
} >"$TMP/in"
# (d) a pinned model: fallbacks only to its own deployments (llmroute(1), INPUT LINES)
jq -nc '{custom_id:"pinned",body:{model:"cheap-1",messages:[{role:"user",
  content:"[[mock {\"latency_ms\":1000}]] pinned: hi"}]}}' >>"$TMP/in"

"$LLMROUTE" -p "$TMP/hedge.pipeline" -j 16 "$TMP/in" >"$TMP/out" \
  2>"$TMP/err"
check_eq hedge_exit "$?" 0
check_eq hedge_all_answered "$(jq -s 'map(select(.error == null)) | length' \
  "$TMP/out")" 7

# --- (a) slow cheap call: hedge to tier 2, valid, cheap one cancelled ----
check_res slow_hedge_target slow '.route.hedge | .model == "mid-2"
  and .tier == 2 and .deployments == [{"provider":"mock","model":"mid-2"}]'
check_res slow_attempts slow '[.route.attempts[] | [.model, .status,
  .hedge, .cancelled, .valid]] ==
  [["cheap-1",0,null,true,null],["mid-2",200,true,null,true]]'
check_res slow_kept slow '.response.body.choices[0].message.content
  == "{\"total\": 2}" and .route.model == "mid-2" and .route.tier == 2
  and (.route | has("escalations") | not)'
check_res slow_cancelled_free slow '.route.attempts[0] | .cost_usd == 0
  and .usage == {"input_tokens":0,"output_tokens":0,"cached_tokens":0}
  and .reason == "hedge: another deployment answered first"'
set -- $(cost_ok slow 1 '{"total": 2}')
check_res slow_cost slow '.route.attempts[1] | .usage.input_tokens == '"$1"'
  and .usage.output_tokens == '"$2"' and (.cost_usd - ('"$1"' * 10 + '"$2"'
  * 20) / 1000000 | fabs) < 1e-15'
check_res slow_cost_sum slow '.route.cost_usd == .route.attempts[1].cost_usd'
check_eq slow_sent_cheap "$(sent_to cheap-1 slow)" 1
check_eq slow_sent_mid "$(sent_to mid-2 slow)" 1

# --- (b) invalid cheap answer first: waits for the hedge, keeps it -------
check_res badfirst_attempts badfirst '[.route.attempts[] | [.model,
  .status, .hedge, .valid]] == [["cheap-1",200,null,false],
  ["mid-2",200,true,true]]'
check_res badfirst_reason badfirst '.route.attempts[0].reason
  | startswith("json: ")'
check_res badfirst_kept badfirst '.response.body.choices[0].message.content
  == "{\"total\": 2}" and .route.model == "mid-2" and .route.tier == 2
  and (.route | has("escalations") | not)'
set -- $(cost_ok badfirst 0 'not json')
P=$1 K1=$2
set -- $(cost_ok badfirst 1 '{"total": 2}')
check_res badfirst_cost badfirst '.route | (.attempts[0].cost_usd - ('"$P"'
  + '"$K1"' * 2) / 1000000 | fabs) < 1e-15 and (.attempts[1].cost_usd -
  ('"$P"' * 10 + '"$2"' * 20) / 1000000 | fabs) < 1e-15 and (.cost_usd -
  ([.attempts[].cost_usd] | add) | fabs) < 1e-15'

# --- (c) valid cheap answer first: kept, the hedge cancelled -------------
check_res goodfirst_attempts goodfirst '[.route.attempts[] | [.model,
  .status, .hedge, .cancelled, .valid, .cost_usd]] ==
  [["mid-2",0,true,true,null,0],["cheap-1",200,null,null,true,
   .route.attempts[1].cost_usd]]'
check_res goodfirst_kept goodfirst '.response.body.choices[0].message.content
  == "{\"total\": 1}" and .route.model == "cheap-1" and .route.tier == 1'
check_res goodfirst_cost goodfirst '.route.cost_usd ==
  .route.attempts[1].cost_usd and .route.cost_usd > 0'
check_eq goodfirst_hedge_sent "$(sent_to mid-2 goodfirst)" 1

# --- (d) no higher tier, or a pinned model: no hedge ----------------------
check_res top_no_hedge top '(.route | has("hedge") | not) and
  [.route.attempts[].model] == ["top-3"] and .route.model == "top-3"'
check_eq top_sent_once "$(jq -s '[.[] | select(.body | tostring |
  contains("top:"))] | length' "$LOG")" 1
check_res pinned_no_hedge pinned '(.route | has("hedge") | not) and
  [.route.attempts[].model] == ["cheap-1"]'
check_eq pinned_sent_once "$(jq -s '[.[] | select(.body | tostring |
  contains("pinned:"))] | length' "$LOG")" 1

# --- (e) both invalid: the last is handed on; escalate skips tier 2 ------
check_res bothbad_attempts bothbad '[.route.attempts[] | [.model, .hedge,
  .valid]] == [["mid-2",true,false],["cheap-1",null,false],
  ["top-3",null,true]]'
check_res bothbad_reasons bothbad '(.route.attempts[0:2] |
  all(.reason | startswith("json: "))) and .route.attempts[2].reason == null'
check_res bothbad_escalated bothbad '.route.escalations == 1 and
  .route.min_tier == 3 and .route.model == "top-3" and (.route |
  has("hedge") | not)'
check_res bothbad_cost bothbad '(.route.cost_usd - ([.route.attempts[]
  .cost_usd] | add) | fabs) < 1e-15 and (.route.attempts | all(.cost_usd
  > 0))'
check_eq bothbad_mid_once "$(sent_to mid-2 bothbad)" 1

# --- (f) the hedge fails after an invalid answer: that answer goes on ---
check_res hfail_first_round hfail '[.route.attempts[0:2][] | [.model,
  .status, .hedge, .valid]] == [["mid-2",500,true,null],
  ["cheap-1",200,null,false]]'
check_res hfail_escalated hfail '.route.escalations == 1 and
  .route.min_tier == 2 and .route.model == "mid-2" and
  .response.body.choices[0].message.content == "{\"total\": 2}" and
  ([.route.attempts[] | select(.cancelled != true) | .model] ==
   ["mid-2","cheap-1","mid-2"])'

# --- without route hedge=true there is nothing to hedge to ---------------
sed 's/ hedge=true//' "$TMP/hedge.pipeline" >"$TMP/nohedge.pipeline"
req noroute '{"cheap-1":{"latency_ms":1000,"answer":"{\"total\": 1}"}}' \
  >"$TMP/in2"
"$LLMROUTE" -vv -p "$TMP/nohedge.pipeline" "$TMP/in2" >"$TMP/out" \
  2>"$TMP/err"
check_res no_route_hedge noroute '[.route.attempts[].model] == ["cheap-1"]
  and (.route | has("hedge") | not)'
check_eq no_route_hedge_sent "$(sent_to mid-2 noroute)" 0
# hedge_ms with nothing to hedge to says so (at debug level), once a job
check_eq no_route_hedge_logged \
  "$(grep -c 'no hedge: the route record has no route.hedge' "$TMP/err")" 1

finish
