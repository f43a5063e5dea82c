# tests/cli/eval.sh - recorded outcomes end to end on a small fixture
# written for the project (tests/fixtures/outcomes/mini.routerbench, a
# CSV of RouterBench's shape with models cheap, mid and premium; it holds
# no RouterBench data): `eval convert routerbench` and
# `results`, the replay provider through the call stage, `llmroute eval`
# (its figures checked against sums over the fixture), `train --outcomes`
# with route policy=learned, and agreement checks escalating.
. tests/lib.sh

CSV=tests/fixtures/outcomes/mini.routerbench
cd "$TMP" || exit 1
L=$OLDPWD/$LLMROUTE

# --- convert -----------------------------------------------------------------

"$L" eval convert routerbench -o out.jsonl --catalog-out cat.json \
  --tiers 10,100 "$OLDPWD/$CSV" 2>conv.err
check_eq "convert: exit 0" "$?" 0
check_grep "convert: says what it read and skipped" \
  '15 prompts, 3 models \(1 rows skipped' conv.err
check_eq "convert: one line per kept row" "$(wc -l <out.jsonl | tr -d ' ')" 15
check_json "convert: a duplicate sample_id gets #2" \
  'map(.custom_id) | index("mc.0#2") != null and (unique | length) == 15' \
  out.jsonl
check_json "convert: the Python list prompt decoded (quotes, newlines)" \
  '.[10].prompt == "Write a function to add 0 to a number.\nIt'"'"'s for \"tests\" \u2014 caf\u00e9."' \
  out.jsonl
check_json "convert: outcomes per model (answer, score, usage, cost)" \
  '.[2].outcomes.cheap.answer == "D" and .[2].outcomes.cheap.score == 0 and
   .[2].outcomes.premium.score == 1 and .[2].outcomes.mid.cost_usd == 0.0012
   and .[2].outcomes.mid.usage.input_tokens > 10 and .[2].benchmark == "mc"' \
  out.jsonl
check_json "convert: the catalog serves them through one replay provider" \
  '.[0].providers == {"replay":{"format":"replay","outcomes":"out.jsonl"}}
   and (.[0].models | keys) == ["cheap","mid","premium"]' cat.json
check_json "convert: tiers from the price bands" \
  '.[0].models | .cheap.tier == 1 and .mid.tier == 2 and .premium.tier == 3' \
  cat.json
"$L" eval convert routerbench -o x.jsonl "$OLDPWD/tests/fixtures/catalog/good.json" \
  >/dev/null 2>err
check_eq "convert: not a RouterBench CSV is refused" "$?" 2
check_grep "convert: says so" 'not a RouterBench CSV|no "prompt" column' err

# --- the replay provider through call ---------------------------------------

jq -c 'del(.outcomes, .benchmark)' out.jsonl >req.jsonl
printf 'set catalog=cat.json\ncall\n' >pin.pipeline
jq -c '.body = {model: "mid", messages: [{role: "user", content: .prompt}]}
       | del(.prompt)' req.jsonl | head -n 3 >pinned.jsonl
"$L" -q --keep-order -p pin.pipeline pinned.jsonl >res.jsonl 2>err
check_eq "replay: exit 0" "$?" 0
check_json "replay: the recorded answer, as a chat.completion" \
  'map(.response.body.choices[0].message.content) == ["A","B","C"] and
   all(.response.body.object == "chat.completion")' res.jsonl
check_json "replay: charged the recorded cost, not a catalog price" \
  'map(.route.cost_usd) == [0.001, 0.0011, 0.0012] and
   all(.route.attempts[0].usage.input_tokens > 0)' res.jsonl
check_nogrep "replay: the recorded score never reaches the pipeline" \
  'score' res.jsonl
printf '%s\n' '{"custom_id":"nope","body":{"model":"mid","messages":[{"role":"user","content":"x"}]}}' \
  | "$L" -q -p pin.pipeline >res2.jsonl 2>err
check_json "replay: an unknown prompt is a clear error record" \
  '.[0].error.code == "not_recorded" and
   (.[0].error.message | test("no recorded outcomes"))' res2.jsonl

# --- eval ----------------------------------------------------------------------
# Always the cheap model (threshold above any complexity): the pipeline's
# figures must be the cheap model's own.
printf 'set catalog=cat.json\nprice\nroute policy=threshold threshold=2 weak=cheap strong=premium\ncall\n' \
  >cheap.pipeline
"$L" eval -p cheap.pipeline --json out.jsonl >ev.json 2>err
check_eq "eval: exit 0" "$?" 0
check_json "eval: the fields it promises" \
  '.[0] | has("requests") and has("quality") and has("cost_usd") and
   (.baseline | has("model") and has("quality") and has("cost_usd")) and
   has("quality_ratio") and has("savings") and has("oracle") and
   (.models | has("cheap") and has("mid") and has("premium"))' ev.json
check_json "eval: the pipeline's quality and cost are the cheap model's" \
  '.[0] | .requests == 15 and .quality == .models.cheap.quality and
   (.cost_usd - .models.cheap.cost_usd | fabs) < 1e-9' ev.json
check_json "eval: the baseline is the dearest model, premium" \
  '.[0].baseline.model == "premium" and .[0].baseline.quality == 1' ev.json
check_json "eval: quality ratio and savings against it" \
  '.[0] | (.quality_ratio - .quality / .baseline.quality | fabs) < 1e-6 and
   (.savings - (1 - .cost_usd / .baseline.cost_usd) | fabs) < 1e-6' ev.json
jq -s '(map(.outcomes.cheap.score) | add) / length' out.jsonl >want.q
check_json "eval: cheap's quality is its mean recorded score" \
  "(.[0].models.cheap.quality - $(cat want.q) | fabs) < 1e-6" ev.json
check_json "eval: the oracle is the cheapest best answer per prompt" \
  '.[0].oracle.quality == 1 and .[0].oracle.cost_usd < .[0].baseline.cost_usd' \
  ev.json
"$L" eval -p cheap.pipeline --svg plot.svg out.jsonl >table.txt 2>err
check_grep "eval: a table for people" '^  pipeline ' table.txt
check_grep "eval: --svg draws the pipeline" 'id="pipeline"' plot.svg
check_grep "eval: --svg draws the oracle" 'id="oracle"' plot.svg
check_grep "eval: --svg is an SVG" '^<svg xmlns="http://www.w3.org/2000/svg"' \
  plot.svg
jq '.providers.real = {"format":"openai","base_url":"http://127.0.0.1:9"}' \
  cat.json >http.json
"$L" eval -p cheap.pipeline --catalog http.json out.jsonl >/dev/null 2>err
check_eq "eval: a catalog that could call out is refused" "$?" 2
check_grep "eval: says why" 'recorded outcomes only' err

# --- --catalog and --baseline -----------------------------------------------
# The shipped audit pipeline names a baseline of its own catalog: with
# --catalog it goes, unless --baseline names one.
"$L" -q -p audit --catalog cat.json req.jsonl >a.jsonl 2>err
check_eq "--catalog: the shipped pipeline runs on another catalog" "$?" 0
check_json "--catalog: routed to its models" \
  'all(.route.model | IN("cheap","mid","premium"))' a.jsonl
"$L" -q -p audit --catalog cat.json --baseline mid req.jsonl >b.jsonl
check_json "--baseline: prices the baseline on that model" \
  '[.[0], .[1]] | all(.route.baseline_cost_usd < 0.1)' b.jsonl

# --- train --outcomes and route policy=learned -----------------------------

"$L" train --outcomes out.jsonl --catalog cat.json --folds 3 -o r.model \
  >train.log 2>&1
check_eq "train --outcomes: exit 0" "$?" 0
check_grep "train: the cross-validated table" '^  0\.95 ' train.log
check_grep "train: a one-vs-rest router" '^algo ovr$' r.model
check_grep "train: a predictor per model and per tier" \
  '^labels 6 cheap mid premium tier:1 tier:2 tier:3$' r.model
check_grep "train: thresholds for the quality targets" \
  '^meta thresholds 0\.50:[0-9.]+ .* 1\.00:' r.model
"$L" train --outcomes out.jsonl -o r2.model --folds 1 >/dev/null 2>err
check_eq "train: bad --folds refused" "$?" 2
printf 'set catalog=cat.json\nclassify\nprice\nroute policy=learned model=r.model quality=0.9\ncall\n' \
  >learned.pipeline
"$L" eval -p learned.pipeline --json out.jsonl >ev2.json 2>err
check_eq "learned: eval runs it" "$?" 0
check_json "learned: a router APGR and a threshold curve" \
  '.[0].apgr.router != null and (.[0].curve | length) == 21' ev2.json
"$L" -q -p learned.pipeline req.jsonl >l.jsonl
check_json "learned: route.complexity is the predicted difficulty" \
  'all(.route.complexity >= 0 and .route.complexity <= 1) and
   all(.route.reason | startswith("learned: "))' l.jsonl
printf 'set catalog=cat.json\nroute policy=learned model=r.model quality=1.5\n' \
  >bad.pipeline
"$L" --check -p bad.pipeline >/dev/null 2>err
check_eq "learned: quality out of range refused" "$?" 2
printf 'set catalog=cat.json\nroute policy=learned model=cat.json\n' \
  >bad2.pipeline
"$L" --check -p bad2.pipeline >/dev/null 2>err
check_eq "learned: a file that is not a router refused" "$?" 2

# --- agreement ----------------------------------------------------------------
# The cheap model first (quality=0.5: any chance is enough), and for the
# lettered questions a partner (agree_cost large: any model); where cheap
# answered otherwise than its partner, validate refuses it and escalate
# goes to the likeliest model.
printf 'set catalog=cat.json\nclassify\nprice\nroute policy=learned model=r.model quality=0.5 agree=true agree_cost=1000\ncall on_failure=next\nvalidate\nescalate max=2 to=route\n' \
  >agree.pipeline
"$L" -q --keep-order -p agree.pipeline req.jsonl >g.jsonl 2>err
check_eq "agreement: exit 0" "$?" 0
check_json "agreement: the lettered questions name a partner" \
  '[.[] | select(.custom_id | startswith("mc.")) | .route.agreement] |
   all(. != null)' g.jsonl
check_json "agreement: none for the code questions" \
  '[.[] | select(.custom_id | startswith("code.")) | .route.agreement] |
   all(. == null)' g.jsonl
check_json "agreement: a disagreement is refused and escalated" \
  '[.[] | select(.route.agreement.agree == false)] | length > 0 and
   all((.route.escalations // 0) >= 1 and
       any(.route.attempts[]; (.reason // "") | startswith("disagreement")))' \
  g.jsonl
check_json "agreement: agreeing answers are kept without escalation" \
  '[.[] | select(.route.agreement.agree == true)] | length > 0 and
   all((.route.escalations // 0) == 0)' g.jsonl
"$L" eval -p agree.pipeline --json out.jsonl >ev3.json
check_json "agreement: eval counts what the signal caught" \
  '.[0].signals.disagreement.caught >= 1 and
   .[0].signals.disagreement.catch_rate > 0' ev3.json

# --- outcomes from your own traffic ------------------------------------------
# results of two runs pinned to two models, joined with review verdicts

jq -c '{custom_id, prompt}' out.jsonl | head -n 4 >mine.jsonl
for m in cheap premium; do
  jq -c --arg m "$m" '{custom_id, body: {model: $m, messages: [{role: "user",
      content: .prompt}]}}' mine.jsonl >pin_$m.jsonl
  "$L" -q -p pin.pipeline pin_$m.jsonl >res_$m.jsonl
done
printf '%s\n' '{"custom_id":"mc.0","label":"A"}' \
  '{"custom_id":"mc.1","label":"B"}' \
  '{"custom_id":"mc.2","model":"cheap","verdict":"bad"}' \
  '{"custom_id":"mc.2","model":"premium","score":1}' >verdicts.jsonl
"$L" eval convert results -o own.jsonl --requests mine.jsonl \
  --verdicts verdicts.jsonl res_cheap.jsonl res_premium.jsonl 2>err
check_eq "convert results: exit 0" "$?" 0
check_json "convert results: scored prompts only, both models' answers" \
  'length == 3 and (.[0].outcomes | keys) == ["cheap","premium"] and
   .[0].outcomes.cheap.answer == "A" and .[0].outcomes.cheap.score == 1' \
  own.jsonl
check_json "convert results: a verdict for one model scores that one" \
  '.[2].outcomes.cheap.score == 0 and .[2].outcomes.premium.score == 1' \
  own.jsonl
check_json "convert results: usage and cost come from the results" \
  '.[0].outcomes.premium.cost_usd == 0.01 and
   .[0].outcomes.premium.usage.output_tokens >= 0' own.jsonl

finish
