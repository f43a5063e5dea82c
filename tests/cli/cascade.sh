# tests/cli/cascade.sh - the calibrated cascade end to end against the
# loopback mock provider: price, route, call, validate, escalate.  A
# tier-1 answer that fails the schema escalates to tier 2; invalid answers
# on every tier exhaust max=2 into invalid_output with every attempt; the
# cost is the sum of the attempts; review sampling is stable across runs.
# Run: BUILD=build sh tests/cli/cascade.sh
. tests/lib.sh

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail cascade_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
mock_start --log "$TMP/mock.log"
if [ -z "$MOCK_PORT" ]; then fail cascade_mock "mockprov did not start"
  finish; exit; fi

# Three tiers on the mock; prices per million tokens chosen so costs are
# easy to check: input 1/10/100, output 2/20/200.
tier_catalog LLMR_CASCADE_KEY >"$TMP/models.json"
pipeline() { # pipeline FILE VALIDATE_OPTS ESCALATE_OPTS
  cat >"$1" <<EOF
set catalog=models.json baseline=top-3
price
route policy=cheapest-capable
call timeout=20 retries=0
validate $2
escalate $3
EOF
}
pipeline "$TMP/cascade.pipeline" "" "max=2 to=route"
pipeline "$TMP/sampled.pipeline" "sample=0.25" "max=2 to=route"
pipeline "$TMP/ladder.pipeline" "" "max=2 ladder=cheap-1,top-3"
export LLMR_CASCADE_KEY=test-key

run() { # run NAME PIPELINE: input $TMP/NAME.in -> NAME.out, NAME.err, NAME.rc
  "$LLMROUTE" -p "$2" "$TMP/$1.in" >"$TMP/$1.out" 2>"$TMP/$1.err"
  echo $? >"$TMP/$1.rc"
}

# A request whose answer must match {"total": number}; the mock answers
# per model as the [[mock]] directive says.
SCHEMA='{"type":"object","properties":{"total":{"type":"number"}},
        "required":["total"]}'
req() { # req ID BY_MODEL_JSON
  jq -nc --arg id "$1" --argjson by "$2" --argjson schema "$SCHEMA" \
    '{custom_id:$id,
      body:{messages:[{role:"user",
        content:("[[mock " + ({by_model:$by} | tojson) + "]] the total?")}],
        response_format:{type:"json_object"}},
      routing:{task:"extraction",schema:$schema}}'
}

# --- tier 1 answers a string total: escalate once, tier 2 is valid -------
req esc1 '{"cheap-1":{"answer":"{\"total\": \"12.50\"}"},
           "*":{"answer":"{\"total\": 12.5}"}}' >"$TMP/esc.in"
run esc "$TMP/cascade.pipeline"
check_eq escalate_exit "$(cat "$TMP/esc.rc")" 0
check_json escalate_models \
  '[.[0].route.attempts[].model] == ["cheap-1","mid-2"]' "$TMP/esc.out"
check_json escalate_validity \
  '[.[0].route.attempts[].valid] == [false,true]' "$TMP/esc.out"
check_json escalate_reasons '[.[0].route.attempts[].reason] ==
  ["schema: /total: expected number", null]' "$TMP/esc.out"
check_json escalate_answer '.[0].response.body.choices[0].message.content
  == "{\"total\": 12.5}" and .[0].error == null' "$TMP/esc.out"
check_json escalate_route '.[0].route | .model == "mid-2" and .tier == 2
  and .escalations == 1 and .min_tier == 2' "$TMP/esc.out"
# cost: the sum of the attempts, each priced from its usage
check_json escalate_attempt_costs '.[0].route.attempts | map(
  (.usage.input_tokens * (if .model == "cheap-1" then 1 else 10 end)
   + .usage.output_tokens * (if .model == "cheap-1" then 2 else 20 end))
  / 1000000 - .cost_usd | fabs < 1e-12) | all' "$TMP/esc.out"
check_json escalate_cost_sum '.[0].route | ([.attempts[].cost_usd] | add)
  - .cost_usd | fabs < 1e-12' "$TMP/esc.out"
check_json escalate_cost_positive \
  '.[0].route.attempts | all(.cost_usd > 0)' "$TMP/esc.out"

# --- valid on the first try: one attempt, no escalation ------------------
req ok1 '{"*":{"answer":"{\"total\": 3}"}}' >"$TMP/ok.in"
run ok "$TMP/cascade.pipeline"
check_eq first_try_exit "$(cat "$TMP/ok.rc")" 0
check_json first_try_one_attempt '.[0].route | (.attempts | length) == 1
  and .attempts[0].valid == true and .attempts[0].model == "cheap-1"
  and (has("escalations") | not)' "$TMP/ok.out"

# --- invalid everywhere: max=2 is used up, invalid_output, 3 attempts ----
req bad1 '{"*":{"answer":"sorry, no JSON here"}}' >"$TMP/bad.in"
run bad "$TMP/cascade.pipeline"
check_eq exhausted_exit "$(cat "$TMP/bad.rc")" 1
check_json exhausted_error '.[0].response == null
  and .[0].error.code == "invalid_output"
  and .[0].error.stage == "escalate"
  and (.[0].error.message | startswith("no valid answer after 3 attempts"))'\
  "$TMP/bad.out"
check_json exhausted_attempts '[.[0].route.attempts[].model]
  == ["cheap-1","mid-2","top-3"]' "$TMP/bad.out"
check_json exhausted_reasons '.[0].route.attempts | length == 3 and
  all(.valid == false and (.reason | startswith("json: ")))' "$TMP/bad.out"
check_json exhausted_cost '.[0].route | ([.attempts[].cost_usd] | add)
  - .cost_usd | fabs < 1e-12' "$TMP/bad.out"

# --- routing.expect (ground truth) fails on tier 1 only ------------------
jq -nc '{custom_id:"exp1",body:{messages:[{role:"user",content:
  ("[[mock " + ({by_model:{"cheap-1":{answer:"It is Lyon."},
                           "*":{answer:"It is Paris."}}} | tojson)
   + "]] capital of France?")}]},
  routing:{task:"extraction",expect:"Paris"}}' >"$TMP/exp.in"
run exp "$TMP/cascade.pipeline"
check_json expect_escalates '.[0].error == null and
  [.[0].route.attempts[].reason] ==
  ["expect: answer does not contain \"Paris\"", null]' "$TMP/exp.out"

# --- ladder: the next model of the ladder, skipping tier 2 ---------------
req lad1 '{"cheap-1":{"answer":"{}"},"*":{"answer":"{\"total\": 1}"}}' \
  >"$TMP/lad.in"
run lad "$TMP/ladder.pipeline"
check_json ladder_models \
  '[.[0].route.attempts[].model] == ["cheap-1","top-3"]' "$TMP/lad.out"
check_json ladder_reason '.[0].route.attempts[0].reason ==
  "schema: /: missing required property \"total\""' "$TMP/lad.out"

# --- schema= file: the invoice fixture, tier 1 gets a price as text -----
pipeline "$TMP/invoice.pipeline" \
  "schema=$PWD/tests/fixtures/schema/invoice.json" "max=2 to=route"
GOOD=$(jq -c . tests/fixtures/schema/invoice.valid.json)
BAD=$(echo "$GOOD" | jq -c '.lines[0].unit_price = "4.50"')
jq -nc --arg good "$GOOD" --arg bad "$BAD" '{custom_id:"inv1",
  body:{messages:[{role:"user",content:("[[mock " +
    ({by_model:{"cheap-1":{answer:$bad},"*":{answer:$good}}} | tojson)
    + "]] extract the invoice")}]},routing:{task:"extraction"}}' \
  >"$TMP/inv.in"
run inv "$TMP/invoice.pipeline"
check_json schema_file_reason '[.[0].route.attempts[].reason] ==
  ["schema: /lines/0/unit_price: expected number", null]' "$TMP/inv.out"
check_json schema_file_answer '.[0].response.body.choices[0].message.content
  | fromjson | .total == 20.75' "$TMP/inv.out"

# --- mode=preempt: many reasoning steps skip tier 1 ----------------------
cat >"$TMP/preempt.pipeline" <<'EOF'
set catalog=models.json baseline=top-3
escalate mode=preempt require_tier=2 when_count=3 when_pattern='(then|finally)'
price
route policy=cheapest-capable
call timeout=20 retries=0
validate
escalate max=2 to=route
EOF
prompt() { # prompt ID ANSWER TEXT
  jq -nc --arg id "$1" --arg a "$2" --arg t "$3" '{custom_id:$id,
    body:{messages:[{role:"user",
      content:("[[mock " + ({answer:$a} | tojson) + "]] " + $t)}]},
    routing:{task:"extraction"}}'
}
{ prompt pre1 8 "Add 2, then double it, then square it, finally halve it."
  prompt pre2 4 "Add 2, then double it."; } >"$TMP/pre.in"
run pre "$TMP/preempt.pipeline"
check_json preempt_skips_tier1 '.[] | select(.custom_id == "pre1") | .route
  | .preempted == "3 when_pattern matches >= 3" and .min_tier == 2
  and [.attempts[].model] == ["mid-2"]' "$TMP/pre.out"
check_json preempt_simple_stays '.[] | select(.custom_id == "pre2") | .route
  | (has("preempted") | not) and [.attempts[].model] == ["cheap-1"]' \
  "$TMP/pre.out"

# --- a call that fails for good (on_failure=next) escalates too ---------
cat >"$TMP/fails.pipeline" <<EOF
set catalog=models.json baseline=top-3
price
route policy=cheapest-capable
call timeout=20 retries=0 on_failure=next
validate
escalate max=1 to=route
EOF
req fail1 '{"cheap-1":{"status":500},"*":{"answer":"{\"total\": 3}"}}' \
  >"$TMP/f.in"
req fail2 '{"*":{"status":503}}' >>"$TMP/f.in"
run f "$TMP/fails.pipeline"
check_eq call_failure_exit "$(cat "$TMP/f.rc")" 1
check_json call_failure_escalates '.[] | select(.custom_id == "fail1") |
  .error == null and [.route.attempts[].model] == ["cheap-1","mid-2"]
  and (.route | has("call_error") | not)
  and .response.body.choices[0].message.content == "{\"total\": 3}"' \
  "$TMP/f.out"
check_json call_failure_keeps_code '.[] | select(.custom_id == "fail2") |
  .response == null and .error.code == "provider_error"
  and (.error.message | test("max=1"))
  and [.route.attempts[].model] == ["cheap-1","mid-2"]' "$TMP/f.out"

# --- checks the request carries are judged before anything is paid: a
# schema that does not compile, a $ref loop, a bad expect pattern (also
# after a good one), a bad response_format schema: invalid_schema, no call
bad() { # bad ID ROUTING_JSON [BODY_EXTRA_JSON]
  jq -nc --arg id "$1" --argjson r "$2" --argjson x "${3:-{\}}" \
    '{custom_id:$id, routing:$r,
      body:({messages:[{role:"user",content:("mark-" + $id)}]} + $x)}'
}
{
  bad pre-type '{"schema":{"type":"float"}}'
  bad pre-loop '{"schema":{"$defs":{"a":{"$ref":"#/$defs/b"},
                 "b":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}}'
  bad pre-re '{"expect":["total","re:([a-z"]}'
  bad pre-shape '{"expect":{"re":"x"}}'
  bad pre-rf '{}' '{"response_format":{"type":"json_schema",
                "json_schema":{"name":"x","schema":{"minimum":"1"}}}}'
  bad pre-ok '{"expect":["re:^[a-z]+$"]}'
} >"$TMP/pre.in"
run pre "$TMP/cascade.pipeline"
check_json precheck_invalid_schema '[.[] | select(.custom_id != "pre-ok") |
  .error.code] == ["invalid_schema","invalid_schema","invalid_schema",
  "invalid_schema","invalid_schema"]' "$TMP/pre.out"
check_json precheck_reasons '[.[] | select(.custom_id != "pre-ok") |
  .error.message] as $m |
  ($m[0] | test("routing.schema is not a valid schema: #: type")) and ($m[1] | test("\\$ref loop")) and ($m[2] |
  test("routing.expect")) and ($m[4] | test("response_format"))' \
  "$TMP/pre.out"
check_json precheck_no_attempt '[.[] | select(.custom_id != "pre-ok") |
  .route.attempts // [] | length] | add == 0' "$TMP/pre.out"
check_eq precheck_nothing_sent "$(jq -r '.body | tostring' "$TMP/mock.log" |
  grep -c 'mark-pre-[^o]')" 0
check_json precheck_good_sent '.[] | select(.custom_id == "pre-ok") |
  (.route.attempts | length) >= 1 and .error.code != "invalid_schema"' \
  "$TMP/pre.out"

# --- review sampling: about the rate, the same ids on a second run -------
i=0
: >"$TMP/s.in"
while [ $i -lt 200 ]; do
  printf '{"custom_id":"s-%d","body":{"messages":[{"role":"user",' $i
  printf '"content":"[[mock {\\"answer\\":\\"ok\\"}]] hi"}]}}\n'
  i=$((i + 1))
done >"$TMP/s.in"
run s "$TMP/sampled.pipeline"
jq -c '[.custom_id, .route.review]' "$TMP/s.out" | sort >"$TMP/s1.txt"
run s "$TMP/sampled.pipeline"
jq -c '[.custom_id, .route.review]' "$TMP/s.out" | sort >"$TMP/s2.txt"
check_eq sample_all_answered "$(grep -c . "$TMP/s1.txt")" 200
check_eq sample_same_ids "$(cmp -s "$TMP/s1.txt" "$TMP/s2.txt" && echo same)"\
  same
n=$(grep -c true "$TMP/s1.txt")
# 200 draws at 0.25: 50 expected, 30..70 is beyond 4 standard deviations
if [ "$n" -ge 30 ] && [ "$n" -le 70 ]; then pass sample_rate
else fail sample_rate "$n of 200 marked at sample=0.25"; fi

finish
