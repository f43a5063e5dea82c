# tests/cli/mockprov.sh - the loopback mock provider (tests/mockprov):
# endpoint shapes, token formulas, scripted errors and transport faults,
# seq and by_model, the request log and its redaction, /_stats, /_reset,
# keep-alive and a clean shutdown.
# Run: BUILD=build-mock sh tests/cli/mockprov.sh
. tests/lib.sh

KEY=sk-mockprov-test-7f3a9c1e
LOG=$TMP/mock.log

if [ ! -x "$MOCKPROV" ]; then
  fail mockprov_built "$MOCKPROV missing (make BUILD=$BUILD)"
  finish; exit
fi
mock_start --log "$LOG" --key "$KEY"
MOCK_PID=$!
if [ -n "$MOCK_PORT" ]; then pass mock_port_file
else fail mock_port_file "no port written"; finish; exit; fi

# req NAME PATH JSON [CURL_ARGS...]: POST JSON; keeps NAME.body, NAME.hdr,
# NAME.code (HTTP status) and NAME.rc (curl's exit status) under $TMP.
req() {
  _n=$1; _p=$2; _b=$3; shift 3
  curl -sS --max-time 10 -o "$TMP/$_n.body" -D "$TMP/$_n.hdr" \
    -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
    --data-binary "$_b" "$MOCK_URL$_p" >"$TMP/$_n.code" 2>"$TMP/$_n.err"
  echo $? >"$TMP/$_n.rc"
}
code() { cat "$TMP/$1.code"; }
rc() { cat "$TMP/$1.rc"; }
# hdr NAME HEADER: the header's value (case-insensitive name), CR removed.
hdr() {
  tr -d '\r' <"$TMP/$1.hdr" | awk -v h="$2" -F': ' \
    'tolower($1) == tolower(h) { sub(/^[^:]*: /, ""); print }'
}
stats() { curl -sS --max-time 5 "$MOCK_URL/_stats"; }

oai() { _n=$1; _b=$2; shift 2
  req "$_n" /v1/chat/completions "$_b" -H "Authorization: Bearer $KEY" "$@"; }
ant() { _n=$1; _b=$2; shift 2
  req "$_n" /v1/messages "$_b" -H "x-api-key: $KEY" \
    -H 'anthropic-version: 2023-06-01' "$@"; }
gem() { _n=$1; _m=$2; _b=$3; shift 3
  req "$_n" "/v1beta/models/$_m:generateContent" "$_b" \
    -H "x-goog-api-key: $KEY" "$@"; }
# an OpenAI body for model $1 whose only user message is $2 (JSON string)
obody() { printf '{"model":"%s","messages":[{"role":"user","content":%s}]}' \
  "$1" "$2"; }
# mk JSON: the JSON string "[[mock JSON]]", for a message content
mk() { printf '"[[mock %s]]"' \
  "$(printf '%s' "$1" | tr '\n' ' ' | sed 's/["\\]/\\&/g')"; }
# om NAME MODEL DIRECTIVE [CURL_ARGS...]: an OpenAI request carrying it
om() { _n=$1; _m=$2; _d=$3; shift 3
  oai "$_n" "$(obody "$_m" "$(mk "$_d")")" "$@"; }

T32=abcdefghijklmnopqrstuvwxyz012345   # 32 bytes: 8 tokens
T16=0123456789abcdef                   # 16 bytes: 4 tokens

# --- shapes and token formulas -------------------------------------------
oai o1 "$(obody gpt-test "\"$T32\"")"
check_eq openai_status "$(code o1)" 200
# answer "mock answer from gpt-test": 25 bytes -> 6 tokens; prompt 32 -> 8
check_json openai_shape '.[0] | (.id | type == "string")
  and .object == "chat.completion" and (.created | type == "number")
  and .model == "gpt-test" and (.choices | length == 1)
  and .choices[0].index == 0 and .choices[0].message.role == "assistant"
  and .choices[0].message.content == "mock answer from gpt-test"
  and (.choices[0].message | has("refusal") and .refusal == null)
  and (.choices[0] | has("logprobs") and .logprobs == null)
  and .choices[0].finish_reason == "stop"
  and .usage == {"prompt_tokens":8,"completion_tokens":6,"total_tokens":14,
                 "prompt_tokens_details":{"cached_tokens":0},
                 "completion_tokens_details":{"reasoning_tokens":0}}' \
  "$TMP/o1.body"
check_eq openai_ratelimit_header "$(hdr o1 x-ratelimit-limit-requests)" 10000
check_eq openai_remaining_tokens "$(hdr o1 x-ratelimit-remaining-tokens)" \
  9999992
check_eq openai_reset_header "$(hdr o1 x-ratelimit-reset-requests)" 6ms
check_grep openai_content_type '^[Cc]ontent-[Tt]ype: application/json' \
  "$TMP/o1.hdr"

ant a1 "{\"model\":\"claude-test\",\"max_tokens\":64,\"system\":\"$T16\",
  \"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",
  \"text\":\"$T32\"}]}]}"
check_eq anthropic_status "$(code a1)" 200
# prompt 16 + 32 = 48 bytes -> 12; "mock answer from claude-test" 28 -> 7
check_json anthropic_shape '.[0] | (.id | type == "string")
  and .type == "message" and .role == "assistant"
  and .model == "claude-test"
  and .content == [{"type":"text","text":"mock answer from claude-test"}]
  and .stop_reason == "end_turn" and has("stop_sequence")
  and .stop_sequence == null
  and .usage == {"input_tokens":12,"output_tokens":7,
                 "cache_read_input_tokens":0,
                 "cache_creation_input_tokens":0}' "$TMP/a1.body"
check_eq anthropic_ratelimit_header \
  "$(hdr a1 anthropic-ratelimit-requests-limit)" 10000
check_grep anthropic_reset_rfc3339 \
  '^anthropic-ratelimit-tokens-reset: [0-9]{4}-[0-9]{2}-[0-9]{2}T' \
  "$TMP/a1.hdr"
check_eq anthropic_request_id "$(hdr a1 request-id)" \
  "req_mock_$(hdr a1 x-mock-n)"

gem g1 gemini-test "{\"systemInstruction\":{\"parts\":[{\"text\":\"$T16\"}]},
  \"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"$T32\"}]}]}"
check_eq gemini_status "$(code g1)" 200
check_json gemini_shape '.[0] | .candidates[0].content.role == "model"
  and .candidates[0].content.parts
      == [{"text":"mock answer from gemini-test"}]
  and .candidates[0].finishReason == "STOP"
  and .usageMetadata == {"promptTokenCount":12,"candidatesTokenCount":7,
                         "totalTokenCount":19,"cachedContentTokenCount":0}
  and .modelVersion == "gemini-test"' "$TMP/g1.body"

# any base_url prefix
req prefix /openai/v1/chat/completions "$(obody gpt-test '"x"')" \
  -H "Authorization: Bearer $KEY"
check_eq path_suffix_match "$(code prefix)" 200

# --- request checks ----------------------------------------------------
ant a_nomax '{"model":"claude-test",
  "messages":[{"role":"user","content":"x"}]}'
check_eq anthropic_max_tokens_required "$(code a_nomax)" 400
check_json anthropic_error_shape '.[0] | .type == "error"
  and .error.type == "invalid_request_error"
  and (.error.message | test("max_tokens"))' "$TMP/a_nomax.body"
oai o_bad '{"model": "gpt-test", "messages": [ oops'
check_eq openai_bad_json "$(code o_bad)" 400
check_json openai_error_shape \
  '.[0].error | keys == ["code","message","param","type"]' \
  "$TMP/o_bad.body"
req nopath /v1/nothing '{}'
check_eq unknown_path_404 "$(code nopath)" 404
curl -sS -o /dev/null -w '%{http_code}' "$MOCK_URL/v1/chat/completions" \
  >"$TMP/get.code"
check_eq get_on_post_endpoint_405 "$(cat "$TMP/get.code")" 405

# --- keys -------------------------------------------------------------
req badkey /v1/chat/completions "$(obody gpt-test '"x"')" \
  -H 'Authorization: Bearer sk-wrong'
check_eq wrong_key_401 "$(code badkey)" 401
check_json wrong_key_openai_code '.[0].error.code == "invalid_api_key"' \
  "$TMP/badkey.body"
req nokey /v1/messages \
  '{"model":"claude-test","max_tokens":5,
    "messages":[{"role":"user","content":"x"}]}'
check_json missing_key_anthropic '.[0].error.type == "authentication_error"' \
  "$TMP/nokey.body"
req qkey "/v1beta/models/gemini-test:generateContent?key=$KEY" \
  '{"contents":[{"role":"user","parts":[{"text":"x"}]}]}'
check_eq gemini_query_key "$(code qkey)" 200

# --- scripted answers --------------------------------------------------
# {"total":5} is 11 bytes: K = 2, plus R = 2 reasoning tokens
om ans gpt-test '{"answer":{"total":5},"finish_reason":"length",
  "cached_tokens":3,"reasoning_tokens":2}'
check_json script_answer_openai '.[0] | .choices[0].message.content
    == "{\"total\":5}" and .choices[0].finish_reason == "length"
  and .usage.prompt_tokens_details.cached_tokens == 3
  and .usage.completion_tokens == 4
  and .usage.completion_tokens_details.reasoning_tokens == 2' \
  "$TMP/ans.body"
ant ans_a "{\"model\":\"claude-test\",\"max_tokens\":9,
  \"messages\":[{\"role\":\"user\",\"content\":$(mk '{"answer":"abcdefgh",
  "finish_reason":"length","prompt_tokens":100,"cached_tokens":30,
  "cache_creation_tokens":20}')}]}"
check_json script_answer_anthropic '.[0] | .content[0].text == "abcdefgh"
  and .stop_reason == "max_tokens" and .usage.input_tokens == 50
  and .usage.cache_read_input_tokens == 30
  and .usage.cache_creation_input_tokens == 20
  and .usage.output_tokens == 2' "$TMP/ans_a.body"
gem ans_g gemini-test "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":
  $(mk '{"finish_reason":"length","completion_tokens":40,
  "reasoning_tokens":5,"prompt_tokens":10}')}]}]}"
check_json script_answer_gemini '.[0] | .candidates[0].finishReason
    == "MAX_TOKENS" and .usageMetadata.candidatesTokenCount == 40
  and .usageMetadata.thoughtsTokenCount == 5
  and .usageMetadata.totalTokenCount == 55' "$TMP/ans_g.body"
oai echo '{"model":"gpt-test","messages":[
  {"role":"system","content":"[[mock {\"echo\":true}]]"},
  {"role":"user","content":"first"},{"role":"assistant","content":"a"},
  {"role":"user","content":[{"type":"text","text":"echo "},
                            {"type":"text","text":"this back"}]}]}'
check_json echo_last_user \
  '.[0].choices[0].message.content == "echo this back"' \
  "$TMP/echo.body"

TOOLS='{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}},
  {"name":"bad","arguments":"{oops"}]}'
om tools gpt-test "$TOOLS"
check_json tool_calls_openai '.[0].choices[0] | .finish_reason == "tool_calls"
  and .message.content == null
  and [.message.tool_calls[] | .type] == ["function","function"]
  and (.message.tool_calls[0].function.arguments | fromjson)
      == {"city":"Paris"}
  and .message.tool_calls[1].function == {"name":"bad","arguments":"{oops"}
  and (.message.tool_calls[0].id | type == "string")' "$TMP/tools.body"
ant tools_a "{\"model\":\"claude-test\",\"max_tokens\":9,
  \"messages\":[{\"role\":\"user\",\"content\":$(mk "$TOOLS")}]}"
check_json tool_calls_anthropic '.[0] | .stop_reason == "tool_use"
  and [.content[] | .type] == ["tool_use","tool_use"]
  and .content[0].name == "get_weather"
  and .content[0].input == {"city":"Paris"}' "$TMP/tools_a.body"
gem tools_g gemini-test "{\"contents\":[{\"role\":\"user\",
  \"parts\":[{\"text\":
  $(mk '{"answer":"hi","tool_calls":{"name":"f","arguments":{"a":1}}}')}]}]}"
check_json tool_calls_gemini '.[0].candidates[0].content.parts
  == [{"text":"hi"},{"functionCall":{"name":"f","args":{"a":1}}}]' \
  "$TMP/tools_g.body"

# --- scripted errors ---------------------------------------------------
om quota gpt-test '{"status":429,"error_code":"insufficient_quota"}'
check_eq quota_status "$(code quota)" 429
check_json quota_body '.[0].error | .code == "insufficient_quota"
  and .type == "insufficient_quota" and (.message | test("quota"))' \
  "$TMP/quota.body"
om rl gpt-test \
  '{"status":429,"retry_after":2,"retry_after_ms":1500,"x_should_retry":true}'
check_json rate_limit_body '.[0].error.code == "rate_limit_exceeded"' \
  "$TMP/rl.body"
check_eq retry_after_header "$(hdr rl retry-after)" 2
check_eq retry_after_ms_header "$(hdr rl retry-after-ms)" 1500
check_eq x_should_retry_header "$(hdr rl x-should-retry)" true
om ctx gpt-test '{"status":400,"error_code":"context_length_exceeded"}'
check_json context_length_openai '.[0].error | .code
    == "context_length_exceeded" and .param == "messages"
  and .type == "invalid_request_error"' "$TMP/ctx.body"
ant ovl '{"model":"claude-test","max_tokens":5,"system":[{"type":"text",
  "text":"[[mock {\"status\":529}]]"}],
  "messages":[{"role":"user","content":"x"}]}'
check_eq anthropic_529_status "$(code ovl)" 529
check_json anthropic_529_body '.[0] | .type == "error"
  and .error.type == "overloaded_error"' "$TMP/ovl.body"
gem g429 gemini-test '{"systemInstruction":{"parts":[{"text":
  "[[mock {\"status\":429}]]"}]},
  "contents":[{"role":"user","parts":[{"text":"x"}]}]}'
check_json gemini_429_body '.[0].error | .code == 429
  and .status == "RESOURCE_EXHAUSTED" and (.message | type == "string")' \
  "$TMP/g429.body"
om custom gpt-test \
  '{"status":503,"error_type":"my_type","error_code":"my_code",
    "message":"my message","headers":{"x-extra":"yes"}}'
check_json custom_error '.[0].error == {"message":"my message",
  "type":"my_type","param":null,"code":"my_code"}' "$TMP/custom.body"
check_eq custom_header "$(hdr custom x-extra)" yes
om baddir gpt-test '{"status":429'
check_eq bad_directive_400 "$(code baddir)" 400
check_json bad_directive_message '.[0].error.message | test("bad directive")' \
  "$TMP/baddir.body"

# --- seq and by_model ---------------------------------------------------
SEQ='{"seq":[{"status":429,"retry_after":1},{"status":500},{}]}'
for i in 1 2 3 4; do om "seq$i" gpt-test "$SEQ"; done
check_eq seq_steps "$(code seq1) $(code seq2) $(code seq3) $(code seq4)" \
  "429 500 200 200"
check_eq seq_step_headers "$(hdr seq1 retry-after)" 1
om seqm other-model "$SEQ"
check_eq seq_counts_per_model "$(code seqm)" 429
BM='{"by_model":{"cheap":{"answer":"not json"},"*":{"answer":{"ok":true}}}}'
om bm1 cheap "$BM"
om bm2 premium "$BM"
check_json by_model_cheap '.[0].choices[0].message.content == "not json"' \
  "$TMP/bm1.body"
check_json by_model_star '.[0].choices[0].message.content | fromjson
  == {"ok":true}' "$TMP/bm2.body"

# --- transport faults ---------------------------------------------------
curl -sS --max-time 1 -o /dev/null -H "Authorization: Bearer $KEY" \
  --data-binary "$(obody gpt-test '"[[mock {\"hang\":true}]]"')" \
  "$MOCK_URL/v1/chat/completions" 2>/dev/null
check_eq hang_times_out "$?" 28
# the mock notices the client left: the request is no longer active
_i=0
while [ "$(stats | jq .active)" != 0 ] && [ $_i -lt 50 ]; do
  sleep 0.1; _i=$((_i + 1)); done
check_eq hang_released "$(stats | jq .active)" 0
om reset gpt-test '{"reset":true}'
case $(rc reset) in
  52|56) pass reset_no_response ;;
  *) fail reset_no_response "curl exit $(rc reset), want 52 or 56" ;;
esac
om trunc gpt-test '{"truncate":true}'
check_eq truncate_short_body "$(rc trunc)" 18
om truncj gpt-test '{"truncate":"json"}'
check_eq truncate_json_complete "$(rc truncj) $(code truncj)" "0 200"
if jq -e . "$TMP/truncj.body" >/dev/null 2>&1; then
  fail truncate_json_invalid "body parsed as JSON"
else pass truncate_json_invalid; fi
om garb gpt-test '{"garbage":true}'
check_eq garbage_status "$(code garb)" 200
if jq -e . "$TMP/garb.body" >/dev/null 2>&1; then
  fail garbage_not_json "body parsed as JSON"
else pass garbage_not_json; fi
om html gpt-test '{"html":true,"status":502}'
check_eq html_status "$(code html)" 502
check_grep html_content_type '^[Cc]ontent-[Tt]ype: text/html' "$TMP/html.hdr"
om trick gpt-test '{"trickle_ms":5,"trickle_bytes":64,"latency_ms":50}'
check_json trickle_complete '.[0].choices[0].message.content
  == "mock answer from gpt-test"' "$TMP/trick.body"
om big gpt-test '{"big":3000000}'
check_json big_body '.[0] | (.choices[0].message.content | length) == 3000000
  and .usage.completion_tokens == 750000' "$TMP/big.body"
om e200 gpt-test '{"error_in_200":true,"error_status":429}'
check_eq error_in_200_status "$(code e200)" 200
check_json error_in_200_body '.[0].error.code == "rate_limit_exceeded"' \
  "$TMP/e200.body"

# --- concurrency: slow requests overlap instead of queueing -----------
curl -sS -X POST "$MOCK_URL/_reset" >/dev/null
_j=0; _pids=""
while [ $_j -lt 20 ]; do
  om "par$_j" gpt-test '{"latency_ms":400}' &
  _pids="$_pids $!"; _j=$((_j + 1)); done
for _p in $_pids; do wait "$_p"; done
_ok=0; _j=0
while [ $_j -lt 20 ]; do
  [ "$(code "par$_j")" = 200 ] && _ok=$((_ok + 1)); _j=$((_j + 1)); done
check_eq parallel_all_answered "$_ok" 20
stats >"$TMP/par.stats"
check_json parallel_overlap '.[0].max_active > 1' "$TMP/par.stats"

# --- /_stats, /_reset, keep-alive ---------------------------------------
curl -sS -X POST "$MOCK_URL/_reset" >/dev/null
oai st1 "$(obody gpt-test '"x"')"
om st2 gpt-test '{"status":500}'
ant st3 '{"model":"claude-test","max_tokens":5,
  "messages":[{"role":"user","content":"x"}]}'
stats >"$TMP/st.json"
check_json stats_counts '.[0] | .requests == 3
  and .by_model == {"gpt-test":2,"claude-test":1}
  and .by_path["/v1/chat/completions"] == 2
  and .by_status == {"200":2,"500":1}
  and .by_format == {"openai":2,"anthropic":1} and .active == 0' \
  "$TMP/st.json"
om seq1b gpt-test "$SEQ"
check_eq reset_restarts_seq "$(code seq1b)" 429
curl -sS -X POST "$MOCK_URL/_reset" >/dev/null
curl -sS -o /dev/null -o /dev/null -H "Authorization: Bearer $KEY" \
  --data-binary "$(obody gpt-test '"x"')" \
  "$MOCK_URL/v1/chat/completions" "$MOCK_URL/v1/chat/completions"
stats >"$TMP/ka.json"
# one connection for both requests, one for /_stats
check_json keep_alive_reuse '.[0] | .requests == 2
  and .connections_total == 2' "$TMP/ka.json"

# --- the log ------------------------------------------------------------
check_nogrep log_redacts_key "$KEY" "$LOG"
check_json log_lines_json 'length > 40 and all(.[]; (.n | type == "number")
  and (.headers | type == "object") and has("fault") and has("status"))' \
  "$LOG"
check_json log_auth_header_redacted 'any(.[];
  .headers.authorization == "<redacted>" and .auth_ok == true)
  and any(.[]; .headers["x-api-key"] == "<redacted>")
  and any(.[]; .headers["x-goog-api-key"] == "<redacted>")
  and any(.[]; .auth_ok == false)' "$LOG"
check_json log_headers_lower_case 'all(.[]; .headers | keys
  | all(. == ascii_downcase))' "$LOG"
check_json log_body_parsed 'any(.[]; .format == "anthropic"
  and .body.model == "claude-test" and .model == "claude-test")' "$LOG"
check_json log_raw_body \
  'any(.[]; .body == "{\"model\": \"gpt-test\", \"messages\": [ oops")' \
  "$LOG"
check_json log_faults '[.[].fault] | index("hang") and index("reset")
  and index("truncate") and index("garbage") and index("big")' "$LOG"
check_json log_hang_status_null 'any(.[]; .fault == "hang"
  and .status == null)' "$LOG"
check_json log_seq_statuses '[.[] | select(.model == "gpt-test"
  and (.body.messages[0].content | tostring | test("seq"))) | .status][0:4]
  == [429,500,200,200]' "$LOG"

# --- command line and shutdown -----------------------------------------
"$MOCKPROV" --bogus 1 2>"$TMP/bogus.err"
check_eq unknown_option_exit_2 "$?" 2
curl -sS --max-time 10 -o /dev/null -H "Authorization: Bearer $KEY" \
  --data-binary "$(obody gpt-test '"[[mock {\"hang\":true}]]"')" \
  "$MOCK_URL/v1/chat/completions" 2>/dev/null &
HANG_CURL=$!
sleep 0.3
kill -TERM "$MOCK_PID"
wait "$MOCK_PID"
check_eq sigterm_exit_0 "$?" 0
wait "$HANG_CURL"
_rc=$?
case $_rc in
  52|56) pass shutdown_releases_hung_client ;;
  *) fail shutdown_releases_hung_client "curl exit $_rc" ;;
esac
mock_start --latency-ms 1
MOCK_PID=$!
oai lat "$(obody gpt-test '"x"')"
check_eq latency_option "$(code lat)" 200
kill -INT "$MOCK_PID"
wait "$MOCK_PID"
check_eq sigint_exit_0 "$?" 0

finish
