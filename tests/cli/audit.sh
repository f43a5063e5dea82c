# tests/cli/audit.sh - the audit pipeline (classify, price, route; no
# calls) on pipelines/examples/prompts.jsonl: one plan per line with a
# model and a baseline cost; hints honoured; error records; a bad catalog
# stops the run with exit 2; the catalog's prices match the LiteLLM table
# in ../shared/data when it is there.
. tests/lib.sh

EX=pipelines/examples/prompts.jsonl
CAT=pipelines/models.json
PLAN=$TMP/plan.jsonl

# --- the example workload --------------------------------------------------

"$LLMROUTE" -p audit "$EX" >"$PLAN" 2>"$TMP/err"
check_eq "audit: exit 0 on the examples" "$?" 0
check_eq "audit: one line per prompt" "$(wc -l <"$PLAN" | tr -d ' ')" \
  "$(grep -c . "$EX")"
check_json "audit: >= 200 prompts" 'length >= 200' "$PLAN"
check_json "audit: no error record" 'all(.error == null)' "$PLAN"
check_json "audit: every line has route.model" \
  'all(.route.model | type == "string")' "$PLAN"
check_json "audit: every line has baseline_cost_usd > 0" \
  'all(.route.baseline_cost_usd | type == "number" and . > 0)' "$PLAN"
check_json "audit: every line has an expected cost" \
  'all(.route.expected_cost_usd | type == "number" and . >= 0)' "$PLAN"
check_json "audit: worst case >= expected" \
  'all(.route.worst_cost_usd >= .route.expected_cost_usd)' "$PLAN"
check_json "audit: every line has a token estimate" \
  'all(.route.estimate.input_tokens > 0 and .route.estimate.output_tokens > 0)' \
  "$PLAN"
check_json "audit: no response (nothing was called)" \
  'all(.response == null and (.route.attempts // []) == [])' "$PLAN"
check_json "audit: custom_ids are the input's" \
  "[.[].custom_id] | sort == ($(jq -s '[.[].custom_id] | sort' "$EX"))" \
  "$PLAN"
check_json "audit: deployments listed, provider = the first" \
  'all(.route.deployments[0].provider == .route.provider)' "$PLAN"
check_json "audit: every model is in the catalog, tier as written" \
  "($(jq -c '.models | map_values(.tier)' "$CAT")) as \$t
   | all(\$t[.route.model] == .route.tier)" "$PLAN"
check_json "audit: routed cheaper than the baseline in all" \
  '(map(.route.expected_cost_usd) | add) < (map(.route.baseline_cost_usd) | add)' \
  "$PLAN"
check_json "audit: several tiers are used" \
  '[.[].route.tier] | unique | length >= 2' "$PLAN"
check_json "audit: a pinned model is kept" \
  'any(.route.reason == "pinned: body.model" and .route.model == "gpt-5-nano")' \
  "$PLAN"
CAPPED=$(jq -r 'select(.routing.max_cost_usd != null) | .custom_id' "$EX" |
  head -n 1)
check_json "audit: routing.max_cost_usd honoured" \
  "any(.custom_id == \"$CAPPED\" and .route.expected_cost_usd <= 0.0001)" \
  "$PLAN"

# The same input twice gives the same plan (deterministic routing; the
# result ids differ, llmr-RUN-N, a RUN a process).
"$LLMROUTE" -p audit --keep-order "$EX" 2>/dev/null | jq -c 'del(.id)' \
  >"$TMP/p1"
"$LLMROUTE" -p audit --keep-order "$EX" 2>/dev/null | jq -c 'del(.id)' \
  >"$TMP/p2"
if cmp -s "$TMP/p1" "$TMP/p2"; then pass "audit: deterministic"
else fail "audit: deterministic" "two runs differ"; fi

# --- hints and error records -------------------------------------------------

cat >"$TMP/hints.jsonl" <<'EOF'
{"custom_id":"t3","routing":{"min_tier":3},"body":{"messages":[{"role":"user","content":"Hi there"}]}}
{"custom_id":"cheap","routing":{"max_cost_usd":1e-12},"body":{"messages":[{"role":"user","content":"Hi there"}]}}
{"custom_id":"huge","body":{"model":"llama-3.1-8b","max_tokens":200000,"messages":[{"role":"user","content":"Write a novel"}]}}
{"custom_id":"nope","body":{"model":"gpt-99-ultra","messages":[{"role":"user","content":"Hi"}]}}
{"custom_id":"task","routing":{"task":"math"},"body":{"messages":[{"role":"user","content":"hello"}]}}
EOF
"$LLMROUTE" -p audit "$TMP/hints.jsonl" >"$TMP/hints.out" 2>"$TMP/err"
check_eq "hints: exit 1 (some error records)" "$?" 1
check_json "hints: one line each" 'length == 5' "$TMP/hints.out"
check_json "hints: routing.min_tier 3 -> a tier-3 model" \
  'any(.custom_id == "t3" and .route.tier == 3)' "$TMP/hints.out"
check_json "hints: impossible max_cost_usd -> no_model" \
  'any(.custom_id == "cheap" and .error.code == "no_model")' "$TMP/hints.out"
check_json "hints: max_tokens beyond the model -> context_length_exceeded" \
  'any(.custom_id == "huge" and .error.code == "context_length_exceeded")' \
  "$TMP/hints.out"
check_json "hints: unknown pinned model -> no_model" \
  'any(.custom_id == "nope" and .error.code == "no_model"
       and (.error.message | test("gpt-99-ultra")))' "$TMP/hints.out"
check_json "hints: routing.task is used" \
  'any(.custom_id == "task" and .route.task == "math" and .route.tier >= 2)' \
  "$TMP/hints.out"
check_json "hints: error records keep baseline_cost_usd" \
  'all(.route.baseline_cost_usd > 0)' "$TMP/hints.out"

# --- a bad catalog: message naming file and entry, exit 2 --------------------

jq '.models["gpt-5-mini"].input_usd_per_mtok = "cheap"' "$CAT" \
  >"$TMP/bad.json"
{ echo "set catalog=bad.json baseline=claude-opus-4-5"
  echo "price"; echo "route"; } >"$TMP/bad.pipeline"
"$LLMROUTE" -p "$TMP/bad.pipeline" "$EX" >"$TMP/out" 2>"$TMP/err"
check_eq "bad catalog: exit 2" "$?" 2
check_grep "bad catalog: names the file and the entry" \
  'bad\.json: models\.gpt-5-mini: input_usd_per_mtok must be a number from 0 to 1e6' \
  "$TMP/err"
check_eq "bad catalog: nothing on stdout" "$(wc -c <"$TMP/out" | tr -d ' ')" 0

jq '.models["o3"].deployments[0].provider = "openia"' "$CAT" \
  >"$TMP/bad.json"
"$LLMROUTE" -p "$TMP/bad.pipeline" "$EX" >"$TMP/out" 2>"$TMP/err"
check_eq "bad deployment: exit 2" "$?" 2
check_grep "bad deployment: names the unknown provider" \
  "models\.o3: deployments\[0\]: unknown provider 'openia'" "$TMP/err"

# --- the catalog against the LiteLLM price table ----------------------------

PRICES=${PRICES:-../shared/data/prices/model_prices_and_context_window.json}
if [ -r "$PRICES" ]; then
  jq --slurpfile lp "$PRICES" -f tests/tools/refresh_prices.jq "$CAT" \
    >"$TMP/refreshed.json" 2>"$TMP/refresh.err"
  if cmp -s "$TMP/refreshed.json" "$CAT"; then
    pass "catalog: prices equal the LiteLLM table (make prices is a no-op)"
  else
    fail "catalog: prices equal the LiteLLM table" \
      "$(diff "$CAT" "$TMP/refreshed.json" | head -c 300)"
  fi
  check_eq "catalog: every litellm_key is in the table" \
    "$(wc -c <"$TMP/refresh.err" | tr -d ' ')" 0
  # the refresh rewrites a changed price and keeps the rest
  jq '.models["gpt-5"].input_usd_per_mtok = 99' "$CAT" >"$TMP/changed.json"
  jq --slurpfile lp "$PRICES" -f tests/tools/refresh_prices.jq \
    "$TMP/changed.json" >"$TMP/fixed.json" 2>/dev/null
  if cmp -s "$TMP/fixed.json" "$CAT"; then
    pass "refresh: restores a changed price, keeps the rest"
  else fail "refresh: restores a changed price" "differs"; fi
else
  echo "# skipped the price-table checks: $PRICES not found"
fi

finish
