#!/bin/bash
# tests/cli/local.sh - the shipped local-model example
# (pipelines/examples/local/: models.json and local.pipeline) run
# unchanged against the loopback mock provider standing in for Ollama,
# vLLM or llama-server, with no API key anywhere in the environment: the
# base URL comes from LLMROUTE_LOCAL_BASE_URL, the model names from the
# catalog's ${VAR:-default}s; answers come back at $0 with a baseline
# priced on claude-opus-4-5, and no key header is sent.  Also the default
# pipeline with --catalog on the same catalog, and ${VAR} errors.
# Run: BUILD=build bash tests/cli/local.sh
. tests/lib.sh

EX=pipelines/examples/local
if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail local_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
LOG=$TMP/mock.log
mock_start --log "$LOG"
if [ -z "$MOCK_PORT" ]; then
  fail local_mock_started "no port"; finish; exit; fi

# prompts of several tasks; one asks for JSON and gets it
{
  echo '{"custom_id":"chat","prompt":"Say hello to the team in one friendly sentence."}'
  echo '{"custom_id":"sum","prompt":"Summarize in two sentences: the meeting moved the release to Friday because the payment tests failed twice on Tuesday."}'
  echo '{"custom_id":"code","prompt":"Write a Python function that merges two sorted lists in linear time, with tests."}'
  echo '{"custom_id":"json","body":{"messages":[{"role":"user","content":"Extract the total as JSON {\"total\": number}: ACME, total due $1,204.50 [[mock {\"answer\":\"{\\\"total\\\": 1204.5}\"}]]"}],"response_format":{"type":"json_object"}}}'
  echo '{"custom_id":"reason","prompt":"A train leaves at 9:40 and arrives at 13:05 after two stops of 7 minutes each. How long was it moving? Think step by step, then check the answer."}'
} >"$TMP/in.jsonl"

# noenv CMD...: CMD with an environment of PATH, HOME and what is given
# before it as NAME=VALUE words: no *_API_KEY can leak in.
noenv() { env -i PATH="$PATH" HOME="$HOME" "$@"; }

noenv LLMROUTE_LOCAL_BASE_URL="$MOCK_URL/v1" "$LLMROUTE" \
  -p "$EX/local.pipeline" "$TMP/in.jsonl" >"$TMP/out" 2>"$TMP/err" </dev/null
rc=$?
check_eq "local.pipeline: exit 0, no API key in the environment" "$rc" 0
check_json "local.pipeline: every request answered by a local model" \
  'length == 5 and all(.error == null and .response.status_code == 200
     and (.route.model | startswith("local-")) and .route.provider == "local")' \
  "$TMP/out"
check_json "local.pipeline: the answer is the server's" \
  'all(.response.body.choices[0].message.content | type == "string"
       and length > 0)' "$TMP/out"
check_json "local.pipeline: cost is \$0 (the catalog's price)" \
  'all(.route.cost_usd == 0)' "$TMP/out"
check_json "local.pipeline: a baseline priced on claude-opus-4-5" \
  'all(.route.baseline_cost_usd > 0)' "$TMP/out"
check_json "local.pipeline: the JSON answer passed validate" \
  'map(select(.custom_id == "json"))[0].response.body.choices[0].message.content
   | fromjson | .total == 1204.5' "$TMP/out"
check_json "local.pipeline: the cheap tier takes the easy ones" \
  'map(select(.custom_id == "chat"))[0].route.model == "local-small"' \
  "$TMP/out"
check_json "mock: the catalog's default model names were sent" \
  'length >= 5 and all(.model == "llama3.2:3b" or .model == "qwen2.5:14b"
     or .model == "llama3.3:70b")' "$LOG"
check_json "mock: no key header sent (the provider has none)" \
  'all(.headers | has("authorization") or has("x-api-key") | not)' "$LOG"
check_grep "summary: \$0 against the baseline, 100% saved" \
  '^llmroute: 5 requests in .*: 5 answered, 0 errors; cost \$0\.000000 against a \$[0-9.]+ baseline, 100\.0% saved$' \
  "$TMP/err"

# --- the model names from the environment ----------------------------------
: >"$LOG"
noenv LLMROUTE_LOCAL_BASE_URL="$MOCK_URL/v1" LLMROUTE_LOCAL_SMALL=my-small \
  LLMROUTE_LOCAL_MEDIUM=my-model LLMROUTE_LOCAL_LARGE=my-model \
  "$LLMROUTE" -p "$EX/local.pipeline" "$TMP/in.jsonl" >"$TMP/out" \
  2>"$TMP/err" </dev/null
check_json "LLMROUTE_LOCAL_*: the names given are sent" \
  'length >= 5 and all(.model == "my-small" or .model == "my-model")
   and any(.model == "my-small")' "$LOG"
check_json "LLMROUTE_LOCAL_*: the answers name them" \
  'all(.error == null and (.response.body.model | test("^my-")))' "$TMP/out"

# --- the default pipeline on the local catalog ------------------------------
noenv LLMROUTE_LOCAL_BASE_URL="$MOCK_URL/v1" "$LLMROUTE" \
  --catalog "$EX/models.json" "$TMP/in.jsonl" >"$TMP/out" 2>"$TMP/err" \
  </dev/null
rc=$?
check_eq "default pipeline --catalog local: exit 0" "$rc" 0
check_json "default pipeline --catalog local: answered locally at \$0" \
  'length == 5 and all(.error == null and .route.provider == "local"
     and .route.cost_usd == 0 and .route.baseline_cost_usd > 0)' "$TMP/out"

# --- ${VAR} in a catalog -----------------------------------------------------
sed 's/LLMROUTE_LOCAL_SMALL:-llama3.2:3b/LLMR_TEST_UNSET_MODEL/' \
  "$EX/models.json" >"$TMP/unset.json"
noenv "$LLMROUTE" -p audit --catalog "$TMP/unset.json" "$TMP/in.jsonl" \
  >"$TMP/out" 2>"$TMP/err" </dev/null
rc=$?
check_eq "catalog \${VAR} unset: exit 2 before input" "$rc $(wc -c <"$TMP/out" | tr -d ' ')" "2 0"
check_grep "catalog \${VAR} unset: says where and which" \
  'unset\.json: models\.local-small\.deployments\[0\]\.model: environment variable LLMR_TEST_UNSET_MODEL is not set' \
  "$TMP/err"
sed 's|"http://localhost:11434/v1"|"${LLMR_TEST_LOCAL_URL:-http://localhost:11434/v1}"|' \
  "$EX/models.json" >"$TMP/url.json"
: >"$LOG"
echo '{"custom_id":"u","prompt":"hi"}' | noenv \
  LLMR_TEST_LOCAL_URL="$MOCK_URL/v1" "$LLMROUTE" -p "$EX/local.pipeline" \
  --catalog "$TMP/url.json" --baseline claude-opus-4-5 >"$TMP/out" \
  2>"$TMP/err"
check_json "catalog \${VAR} in base_url: expanded" \
  'length == 1 and .[0].error == null' "$TMP/out"
finish
