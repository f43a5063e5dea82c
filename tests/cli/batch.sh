#!/bin/bash
# tests/cli/batch.sh - the providers' batch formats against the loopback
# mock provider: Anthropic Message Batches lines in, --output-format
# anthropic (succeeded, errored, tool_use) and openai (request_id from the
# provider's header, a provider's 400 as status_code and masked body,
# errors that reached no provider in "error"), endpoints not served, and
# --resume over either format.
# Run: BUILD=build bash tests/cli/batch.sh
. tests/lib.sh
# the malformed line is named by its line number (line-N), not its bytes
export LLMROUTE_CUSTOM_IDS=line

FIX=tests/fixtures/call
LOG=$TMP/mock.log
K1=sk-llmr-test-oa-batch-4c1f09e2
K2=sk-llmr-test-an-batch-b83d7a55

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail batch_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
mock_start --log "$LOG"
if [ -z "$MOCK_PORT" ]; then
  fail batch_mock_started "no port"; finish; exit; fi

export LLMR_TEST_OA_KEY=$K1 LLMR_TEST_AN_KEY=$K2
for p in OA OA2 SLOW LOCAL NOKEY; do
  export "LLMROUTE_${p}_BASE_URL=$MOCK_URL/v1"; done
export LLMROUTE_AN_BASE_URL=$MOCK_URL LLMROUTE_GE_BASE_URL=$MOCK_URL
P=$FIX/call.pipeline

# run NAME [ARGS]: llmroute over $TMP/NAME.in -> NAME.out/.err/.rc
run() {
  _n=$1; shift
  "$LLMROUTE" -p "$P" "$@" <"$TMP/$_n.in" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
  echo $? >"$TMP/$_n.rc"
}
# res NAME ID JQ: jq over the result line of custom_id ID
res() {
  jq -c "select(.custom_id == \"$2\") | $3" "$TMP/$1.out" 2>/dev/null
}

# --- Anthropic Message Batches in, Anthropic results out -------------------
# as Anthropic's batch create request lists them ({"requests":[...]}),
# one a line: jq -c '.requests[]'
cat >"$TMP/an.json" <<'EOF'
{"requests":[
 {"custom_id":"hello","params":{"model":"m-anthropic","max_tokens":64,
  "system":[{"type":"text","text":"Be terse.",
             "cache_control":{"type":"ephemeral"}}],
  "messages":[{"role":"user","content":"Hello"}]}},
 {"custom_id":"blocks","params":{"model":"m-openai","max_tokens":32,
  "temperature":0.2,"stop_sequences":["END"],
  "messages":[{"role":"user","content":[
    {"type":"text","text":"[[mock {\"echo\":true}]] say blocks"}]}]}},
 {"custom_id":"tool","params":{"model":"m-anthropic","max_tokens":64,
  "tools":[{"name":"get_weather","description":"weather",
            "input_schema":{"type":"object",
              "properties":{"city":{"type":"string"}}}}],
  "tool_choice":{"type":"any"},
  "messages":[{"role":"user","content":
   "[[mock {\"tool_calls\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]] weather?"}]}},
 {"custom_id":"turns","params":{"model":"m-openai","max_tokens":32,
  "messages":[
   {"role":"user","content":"weather in Paris?"},
   {"role":"assistant","content":[{"type":"tool_use","id":"tu_1",
     "name":"get_weather","input":{"city":"Paris"}}]},
   {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1",
     "content":"sunny"},{"type":"text","text":"so?"}]}]}},
 {"custom_id":"bad400","params":{"model":"m-anthropic","max_tokens":32,
  "messages":[{"role":"user","content":
   "[[mock {\"status\":400,\"message\":\"max_tokens too large\"}]]"}]}},
 {"custom_id":"topk","params":{"model":"m-anthropic","max_tokens":32,
  "top_k":5,"messages":[{"role":"user","content":"x"}]}},
 {"custom_id":"doc","params":{"model":"m-anthropic","max_tokens":32,
  "messages":[{"role":"user","content":[{"type":"document",
   "source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}}
]}
EOF
jq -c '.requests[]' "$TMP/an.json" >"$TMP/an.in"
run an --output-format anthropic
check_eq an_exit_1 "$(cat "$TMP/an.rc")" 1
check_eq an_one_line_each "$(wc -l <"$TMP/an.out" | tr -d ' ')" 7
check_json an_only_documented_keys \
  'all(keys == ["custom_id","result"])' "$TMP/an.out"
# the shape Anthropic documents for a succeeded result (Message object)
check_json an_succeeded_message '[.[] | select(.custom_id == "hello")][0]
  | .result.type == "succeeded"
  and (.result | keys == ["message","type"])
  and (.result.message | (.id | startswith("msg_"))
       and .type == "message" and .role == "assistant"
       and .model == "claude-test"
       and .content == [{"type":"text","text":"mock answer from claude-test"}]
       and .stop_reason == "end_turn" and has("stop_sequence")
       and .stop_sequence == null
       and (.usage | (.input_tokens | type == "number")
            and .output_tokens == 7
            and .cache_creation_input_tokens == 0
            and .cache_read_input_tokens == 0))' "$TMP/an.out"
check_eq an_text_blocks_sent "$(res an blocks \
  '.result.message.content[0].text')" '"say blocks"'
check_json an_tool_use '[.[] | select(.custom_id == "tool")][0]
  | .result.message.stop_reason == "tool_use"
  and (.result.message.content | map(select(.type == "tool_use"))
       | length == 1 and .[0].name == "get_weather"
       and .[0].input == {"city":"Paris"} and (.[0].id | type == "string"))' \
  "$TMP/an.out"
check_eq an_turns_answered "$(res an turns '.result.type')" '"succeeded"'
# what reached the provider: system, stop and the tool conversation
check_json an_sent_system_and_stop '[.[] | select(.body | tostring
  | contains("say blocks"))][0].body | .stop == ["END"]
  and .temperature == 0.2 and .max_completion_tokens == 32' "$LOG"
check_json an_sent_system '[.[] | select(.body | tostring
  | contains("Hello"))][0].body.system | tostring | contains("Be terse.")' \
  "$LOG"
check_json an_sent_tool_turns '[.[] | select(.body | tostring
  | contains("so?"))][0].body.messages
  | (map(.role) == ["user","assistant","tool","user"])
  and .[1].tool_calls[0].function.name == "get_weather"
  and (.[1].tool_calls[0].function.arguments | fromjson) == {"city":"Paris"}
  and .[2].tool_call_id == "tu_1" and .[2].content == "sunny"' "$LOG"
check_json an_sent_tools '[.[] | select(.body | tostring
  | contains("weather?"))][0].body | (.tools[0].name == "get_weather")
  and .tools[0].input_schema.properties.city.type == "string"
  and .tool_choice.type == "any"' "$LOG"
# errored: Anthropic's error response inside, its own type kept
check_json an_errored_400 '[.[] | select(.custom_id == "bad400")][0].result
  | .type == "errored" and .error.type == "error"
  and .error.error.type == "invalid_request_error"
  and (.error.error.message | contains("max_tokens too large"))' \
  "$TMP/an.out"
check_json an_errored_topk '[.[] | select(.custom_id == "topk")][0].result
  | .type == "errored" and .error.error.type == "invalid_request_error"
  and (.error.error.message | contains("params.top_k"))' "$TMP/an.out"
check_json an_errored_document '[.[] | select(.custom_id == "doc")][0]
  | .result.error.error.message | contains("\"document\" block")' \
  "$TMP/an.out"
check_eq an_unsupported_not_sent "$(jq -s '[.[] | select(.body | tostring
  | contains("media_type"))] | length' "$LOG")" 0

# cached prompt tokens: Anthropic's input_tokens leaves them out, as
# cache_read_input_tokens (OpenAI's prompt_tokens counts them)
printf '%s\n' '{"custom_id":"cached","params":{"model":"m-anthropic","max_tokens":20,"messages":[{"role":"user","content":"abcdefghijklmnopqrstuvwxyz012345 [[mock {\"cached_tokens\":3}]]"}]}}' >"$TMP/cache.in"
run cache --output-format anthropic
check_json an_usage_cached '.[0].result.message.usage | .cache_read_input_tokens == 3
  and .input_tokens > 0' "$TMP/cache.out"
cp "$TMP/cache.in" "$TMP/cachel.in"
run cachel
check_eq an_usage_input_excludes_cached \
  "$(jq '.route.attempts[0].usage.input_tokens' "$TMP/cachel.out")" \
  "$(jq '.result.message.usage.input_tokens' "$TMP/cache.out")"

# the same file in llmroute's own format: route kept, request_id added
cp "$TMP/an.in" "$TMP/anl.in"
run anl
check_json llmroute_format_request_id '[.[] | select(.custom_id == "hello")][0]
  | (.id | startswith("llmr-")) and .route.model == "m-anthropic"
  and (.response.request_id | test("^req_mock_[0-9]+$"))
  and .response.status_code == 200' "$TMP/anl.out"
check_json llmroute_format_error_record '[.[] | select(.custom_id == "topk")][0]
  | .response == null and .error.code == "invalid_request"
  and .error.stage == "input"' "$TMP/anl.out"

# --- OpenAI Batch out --------------------------------------------------------
oline() {
  printf '{"custom_id":"%s","method":"POST","url":"%s","body":{"model":"%s","messages":[{"role":"user","content":"%s"}]}}\n' \
    "$1" "$2" "$3" "$4"
}
{
  oline ok /v1/chat/completions m-openai 'hello openai'
  oline okan /v1/chat/completions m-anthropic 'hello anthropic'
  oline o400 /v1/chat/completions m-openai \
    'c-o400 [[mock {\"status\":400,\"message\":\"bad param, key $CREDENTIALS\"}]]'
  oline a400 /v1/chat/completions m-anthropic \
    'c-a400 [[mock {\"status\":400,\"message\":\"bad, key $CREDENTIALS\"}]]'
  oline html /v1/chat/completions m-openai \
    'c-html [[mock {\"html\":true,\"status\":502}]]'
  oline emb /v1/embeddings text-embedding-3-small 'hello'
  oline resp /v1/responses m-openai 'hello'
  oline legacy /v1/completions m-openai 'hello'
  printf '{"custom_id":"get","method":"GET","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"x"}]}}\n'
  printf '{"custom_id":"input","body":{"model":"m-openai","input":"hello"}}\n'
  printf 'not json\n'
} >"$TMP/oa.in"
run oa --output-format openai
check_eq oa_one_line_each "$(wc -l <"$TMP/oa.out" | tr -d ' ')" 11
check_json oa_only_documented_keys \
  'all(keys == ["custom_id","error","id","response"])' "$TMP/oa.out"
check_json oa_ids 'all(.id | test("^batch_req_[A-Za-z0-9_-]+$"))
  and (map(.id) | unique | length == 11)' "$TMP/oa.out"
check_json oa_succeeded '[.[] | select(.custom_id == "ok")][0]
  | .error == null and (.response | keys == ["body","request_id","status_code"])
  and .response.status_code == 200
  and (.response.request_id | test("^req_mock_[0-9]+$"))
  and .response.body.object == "chat.completion"
  and .response.body.choices[0].message.content == "mock answer from gpt-test"' \
  "$TMP/oa.out"
# the request id is the provider's: the mock's log numbers its requests
n_ok=$(jq -s '[.[] | select(.body | tostring | contains("hello openai"))][0].n' "$LOG")
check_eq oa_request_id_is_providers "$(res oa ok '.response.request_id')" \
  "\"req_mock_$n_ok\""
check_json oa_anthropic_request_id '[.[] | select(.custom_id == "okan")][0]
  | .response.request_id | test("^req_mock_[0-9]+$")' "$TMP/oa.out"
check_json oa_http_400 '[.[] | select(.custom_id == "o400")][0]
  | .error == null and .response.status_code == 400
  and (.response.request_id | test("^req_mock_[0-9]+$"))
  and (.response.body.error.message | contains("bad param"))
  and (.response.body.error.type | type == "string")' "$TMP/oa.out"
check_json oa_http_400_anthropic '[.[] | select(.custom_id == "a400")][0]
  | .error == null and .response.status_code == 400
  and .response.body.type == "error"
  and .response.body.error.type == "invalid_request_error"' "$TMP/oa.out"
check_json oa_http_502_text '[.[] | select(.custom_id == "html")][0]
  | .error == null and .response.status_code == 502
  and (.response.body.error.message | contains("Bad Gateway"))' \
  "$TMP/oa.out"
# the mock echoed each key into its error message: masked in the output
check_nogrep oa_no_openai_key "$K1" "$TMP/oa.out"
check_nogrep oa_no_anthropic_key "$K2" "$TMP/oa.out"
check_nogrep oa_no_key_stderr "$K1|$K2" "$TMP/oa.err"
check_json oa_key_masked '[.[] | select(.custom_id == "o400")][0]
  | .response.body.error.message | contains("****")' "$TMP/oa.out"
for e in emb:/v1/embeddings resp:/v1/responses legacy:/v1/completions; do
  id=${e%%:*} url=${e#*:}
  check_json "oa_unsupported_$id" "[.[] | select(.custom_id == \"$id\")][0]
    | .response == null and .error.code == \"unsupported_endpoint\"
    and (.error.message | contains(\"$url\"))
    and (.error.message | contains(\"/v1/chat/completions\"))
    and (.error | keys == [\"code\",\"message\"])" "$TMP/oa.out"
done
check_eq oa_get_refused "$(res oa get '.error.code')" '"invalid_request"'
check_json oa_input_hint '[.[] | select(.custom_id == "input")][0].error
  | .code == "no_messages" and (.message | contains("/v1/responses"))' \
  "$TMP/oa.out"
check_json oa_invalid_json '[.[] | select(.custom_id == "line-11")][0]
  | .response == null and .error.code == "invalid_json"' "$TMP/oa.out"
check_eq oa_unserved_not_sent "$(jq -s '[.[] | select(.path
  | test("embeddings|responses|/v1/completions"))] | length' "$LOG")" 0

# --- --resume over either format -------------------------------------------
# the successes are skipped; a 400 reported in "response" is no success
before=$(wc -l <"$LOG" | tr -d ' ')
cp "$TMP/oa.in" "$TMP/oa2.in"
run oa2 --output-format openai --resume "$TMP/oa.out"
check_json resume_openai_redoes_errors '(map(.custom_id) | sort) ==
  (["a400","emb","get","html","input","legacy","line-11","o400","resp"]
   | sort)' "$TMP/oa2.out"
cp "$TMP/an.in" "$TMP/an2.in"
run an2 --output-format anthropic --resume "$TMP/an.out"
check_json resume_anthropic_redoes_errors \
  '(map(.custom_id) | sort) == ["bad400","doc","topk"]' "$TMP/an2.out"
check_json resume_no_success_resent "[.[$before:][] | .body | tostring
  | select(contains(\"hello\"))] | length == 0" "$LOG"

# --- SIGINT: requests cut off are "canceled" ---------------------------------
pipeline slow 'sleep_async ms=10000'
printf '{"custom_id":"c1","prompt":"a"}\n{"custom_id":"c2","prompt":"b"}\n' \
  >"$TMP/slow.in"
LLMROUTE_PLUGIN_PATH=$BUILD/tests/plugins "$LLMROUTE" -p "$TMP/slow.pipeline" \
  --output-format anthropic "$TMP/slow.in" >"$TMP/slow.out" \
  2>"$TMP/slow.err" &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
check_eq sigint_exit_130 "$?" 130
check_json sigint_canceled 'length == 2
  and all(.result == {"type":"canceled"})' "$TMP/slow.out"

# --- bad option --------------------------------------------------------------
"$LLMROUTE" -p "$P" --output-format csv </dev/null >"$TMP/bad.out" \
  2>"$TMP/bad.err"
check_eq bad_format_exit_2 "$?" 2
check_grep bad_format_message 'output-format wants' "$TMP/bad.err"

finish
