# tests/cli/train.sh - `llmroute train` and the classify stage end to end:
# train on the labelled fixtures -> a model file -> an accuracy line; the
# model and the rules drive `classify` in a pipeline; bad input files and
# bad rules files are clear errors with exit 2.
. tests/lib.sh

FIX=tests/fixtures/labelled
MODEL=$TMP/m.model

# --- training ---------------------------------------------------------------

"$LLMROUTE" train -o "$MODEL" --eval-split 0.2 $FIX/*.jsonl \
  >"$TMP/train.out" 2>"$TMP/train.err"
check_eq "train: exit 0 on the fixtures" "$?" 0
check "train: model file written" test -s "$MODEL"
check_grep "train: held-out accuracy line" \
  '^held-out 20% \([0-9]+ examples\): accuracy [01]\.[0-9]{3} \([0-9/]+\)$' \
  "$TMP/train.out"
check_grep "train: confusion matrix printed" 'confusion' "$TMP/train.out"
check_grep "train: the model line names the file" "^model: $MODEL" \
  "$TMP/train.out"
acc=$(sed -n 's/^held-out.*accuracy \(0\.[0-9]*\).*/\1/p' "$TMP/train.out")
check "train: held-out accuracy above 0.6 (chance is about 0.11)" \
  awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.6) }'
check_grep "train: model header" '^llmroute-classifier 1$' "$MODEL"
check_grep "train: nine labels" '^labels 9 ' "$MODEL"

"$LLMROUTE" train -o "$TMP/m2.model" --eval-split 0.2 $FIX/*.jsonl \
  >/dev/null 2>&1
check "train: reproducible (same model twice)" cmp "$MODEL" "$TMP/m2.model"

# --- the model and the rules in a pipeline ----------------------------------

cat >"$TMP/in.jsonl" <<'EOF'
{"custom_id":"t1","prompt":"Translate this sentence into French: hello."}
{"custom_id":"t2","prompt":"Write a haiku about autumn rain."}
{"custom_id":"t3","prompt":"Fix my python code","routing":{"task":"math"}}
{"custom_id":"t4","prompt":"Summarize these notes: we ship on Friday."}
EOF
printf 'classify mode=model model=%s\n' "$MODEL" >"$TMP/model.pipeline"
"$LLMROUTE" -q --keep-order -p "$TMP/model.pipeline" "$TMP/in.jsonl" \
  >"$TMP/out.jsonl" 2>"$TMP/err"
check_eq "classify model=: exit 0" "$?" 0
check_json "classify model=: every line labelled" \
  'length == 4 and all(.route.task | type == "string")' "$TMP/out.jsonl"
check_json "classify model=: complexity in [0,1]" \
  'all(.route.complexity | type == "number" and . >= 0 and . <= 1)' \
  "$TMP/out.jsonl"
check_json "classify model=: hint skips the model" \
  '.[2].route.task == "math" and .[2].route.task_source == "hint"' \
  "$TMP/out.jsonl"
check_json "classify model=: task_source model" \
  '.[0].route.task_source == "model"' "$TMP/out.jsonl"

printf 'classify rules=%s model=%s\n' "$PWD/pipelines/tasks.rules" \
  "$PWD/pipelines/classifier.model" >"$TMP/both.pipeline"
"$LLMROUTE" -q --keep-order -p "$TMP/both.pipeline" "$TMP/in.jsonl" \
  >"$TMP/out2.jsonl" 2>"$TMP/err"
check_eq "shipped rules + model: exit 0" "$?" 0
check_json "shipped rules + model: translation" \
  '.[0].route.task == "translation"' "$TMP/out2.jsonl"
check_json "shipped rules + model: creative_generation" \
  '.[1].route.task == "creative_generation"' "$TMP/out2.jsonl"
check_json "shipped rules + model: summarization" \
  '.[3].route.task == "summarization"' "$TMP/out2.jsonl"

# --- defaults, from a pipeline outside share/ -------------------------------
# `classify` alone finds the shipped rules and model; naming only the rules
# keeps the shipped model.  The example prompts: the rules alone leave many
# to the default task, the model decides a good share of them.

EX=pipelines/examples/prompts.jsonl
printf 'classify\n' >"$TMP/bare.pipeline"
"$LLMROUTE" -q -p "$TMP/bare.pipeline" "$EX" >"$TMP/bare.jsonl" 2>"$TMP/err"
check_eq "bare classify: exit 0" "$?" 0
check_json "bare classify: the shipped model decides some" \
  'map(select(.route.task_source == "model")) | length > 20' \
  "$TMP/bare.jsonl"
check_json "bare classify: the shipped rules decide some" \
  'map(select(.route.task_source == "rules")) | length > 20' \
  "$TMP/bare.jsonl"
printf 'classify rules=%s\n' "$PWD/pipelines/tasks.rules" \
  >"$TMP/rulesonly.pipeline"
"$LLMROUTE" -q -p "$TMP/rulesonly.pipeline" "$EX" >"$TMP/ro.jsonl" \
  2>"$TMP/err"
check_json "classify rules= keeps the shipped model" \
  'map(select(.route.task_source == "model")) | length > 20' \
  "$TMP/ro.jsonl"
check "classify rules=: the same as the bare stage (but the result ids)" \
  cmp "$(jq -c 'del(.id)' "$TMP/bare.jsonl" >"$TMP/bare.noid"
         echo "$TMP/bare.noid")" \
      "$(jq -c 'del(.id)' "$TMP/ro.jsonl" >"$TMP/ro.noid"; echo "$TMP/ro.noid")"
printf 'classify mode=rules\n' >"$TMP/modeoff.pipeline"
"$LLMROUTE" -q -p "$TMP/modeoff.pipeline" "$EX" >"$TMP/mo.jsonl" 2>"$TMP/err"
check_json "classify mode=rules: the model is off" \
  'map(select(.route.task_source == "model")) | length == 0' \
  "$TMP/mo.jsonl"

# --- errors -----------------------------------------------------------------

printf '{"prompt":"ok","task":"chat"}\n{"prompt": oops}\n' >"$TMP/bad.jsonl"
"$LLMROUTE" train -o "$TMP/bad.model" "$TMP/bad.jsonl" >/dev/null \
  2>"$TMP/err"
check_eq "train error: invalid JSON exits 2" "$?" 2
check_grep "train error: names FILE:LINE" "bad.jsonl:2: invalid JSON" \
  "$TMP/err"
check "train error: no model written" test ! -e "$TMP/bad.model"

printf '{"prompt":"no label here"}\n' >"$TMP/nolabel.jsonl"
"$LLMROUTE" train -o "$TMP/bad.model" "$TMP/nolabel.jsonl" >/dev/null \
  2>"$TMP/err"
check_eq "train error: missing label exits 2" "$?" 2
check_grep "train error: says what is missing" 'nolabel.jsonl:1: no "task"' \
  "$TMP/err"

"$LLMROUTE" train -o "$TMP/bad.model" "$TMP/does-not-exist.jsonl" \
  >/dev/null 2>"$TMP/err"
check_eq "train error: missing file exits 2" "$?" 2
check_grep "train error: names the missing file" 'does-not-exist.jsonl' \
  "$TMP/err"

"$LLMROUTE" train --bits 99 "$FIX/chat.jsonl" >/dev/null 2>"$TMP/err"
check_eq "train error: bad option value exits 2" "$?" 2

printf 'coding 70 keyword: python\nmath often regex: \\d\n' \
  >"$TMP/broken.rules"
printf 'classify rules=%s\n' "$TMP/broken.rules" >"$TMP/broken.pipeline"
echo '{"prompt":"hi"}' | "$LLMROUTE" -q -p "$TMP/broken.pipeline" \
  >"$TMP/out3" 2>"$TMP/err"
check_eq "bad rules file: exit 2" "$?" 2
check_grep "bad rules file: names the rules file line" \
  'broken\.rules:2: bad priority' "$TMP/err"
check_eq "bad rules file: nothing on stdout" \
  "$(wc -c <"$TMP/out3" | tr -d ' ')" 0

printf 'llmroute-classifier 1\nalgo lr\n' >"$TMP/trunc.model"
printf 'classify model=%s\n' "$TMP/trunc.model" >"$TMP/trunc.pipeline"
echo '{"prompt":"hi"}' | "$LLMROUTE" -q -p "$TMP/trunc.pipeline" \
  >/dev/null 2>"$TMP/err"
check_eq "bad model file: exit 2" "$?" 2
check_grep "bad model file: names the model file line" 'trunc\.model:3:' \
  "$TMP/err"

finish
