#!/bin/sh
# tests/bench/classify_accuracy.sh - accuracy of the classify stage.
#
#   sh tests/bench/classify_accuracy.sh                 print the figures
#   sh tests/bench/classify_accuracy.sh --write-model F train the shipped
#       model (fixtures + all mapped shared prompts) into F
#   sh tests/bench/classify_accuracy.sh --speed [N]     time the runner
#       with classify alone over N (200000) fixture prompts, against the
#       same run through `jq program=.` (the runner's own cost)
#
# Run from the source root after `make` (BUILD=build by default).  Reads
# the labelled fixtures (tests/fixtures/labelled/*.jsonl) and, when
# present, the public task prompts in ../shared/data/task_prompts (or
# $LLMR_DATA/task_prompts), mapping their categories onto our task labels
# with jq at run time (nothing is copied into the project):
#
#   mt_bench      writing, roleplay -> creative_generation; reasoning ->
#                 multi_step_reasoning; math, coding, extraction -> same;
#                 stem, humanities -> chat (knowledge questions)
#   arena-hard v2 coding, math -> same; creative_writing ->
#                 creative_generation
#   routerarena   AIME, MATH, GSM8K, AsDiv, MathQA, FinQA -> math;
#                 LiveCodeBench -> coding; WMT19-* -> translation;
#                 SuperGLUE-{Entailment,Wic,Wsc,RC,QA}, Ethics ->
#                 classification; NarrativeQA -> extraction (answer from
#                 the given passage); ChessInstruct left out; the
#                 knowledge quizzes (MMLU*, OpenTDB, QANTA, PubMedQA,
#                 MedMCQA, GeoBench, ...) -> chat
#   arena-hard v0.1 has topic clusters, not task labels: not used.
#
# Every fifth line of each shared file (lines 5, 10, ...) is its test
# split; the rest may be used for training.
set -u
BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
DATA=${LLMR_DATA:-../shared/data}/task_prompts
FIX=tests/fixtures/labelled
RULES=pipelines/tasks.rules
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-cls.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

if [ ! -x "$LLMROUTE" ]; then
  echo "classify_accuracy: $LLMROUTE not built (run make first)" >&2
  exit 2
fi

have_shared=1
if [ ! -r "$DATA/mt_bench_question.jsonl" ] ||
   [ ! -r "$DATA/arena-hard-v2.0_question.jsonl" ] ||
   [ ! -r "$DATA/routerarena_sub10_prompts.csv" ]; then
  have_shared=0
fi

# map_shared: write $TMP/{mt,ah2,ra}.jsonl, {"prompt","task"} per line.
map_shared() {
  jq -c '{prompt: .turns[0], task: ({writing: "creative_generation",
      roleplay: "creative_generation", reasoning: "multi_step_reasoning",
      math: "math", coding: "coding", extraction: "extraction",
      stem: "chat", humanities: "chat"}[.category])} | select(.task)' \
    "$DATA/mt_bench_question.jsonl" >"$TMP/mt.jsonl"
  jq -c '{prompt, task: ({coding: "coding", math: "math",
      creative_writing: "creative_generation"}[.subcategory])}
      | select(.task)' \
    "$DATA/arena-hard-v2.0_question.jsonl" >"$TMP/ah2.jsonl"
  # The CSV has quoted multi-line fields: awk joins a record's lines
  # (with \036 for the newlines) until its quotes balance, then jq builds
  # the JSON.
  awk 'NR == 1 { next }
    { rec = (rec == "" ? $0 : rec "\036" $0); q += gsub(/"/, "\"", $0)
      if (q % 2) next
      i = index(rec, ","); rest = substr(rec, i + 1)
      j = index(rest, ","); src = substr(rest, 1, j - 1)
      p = substr(rest, j + 1)
      if (substr(p, 1, 1) == "\"") {
        p = substr(p, 2, length(p) - 2); gsub(/""/, "\"", p) }
      gsub(/\t/, " ", p); print src "\t" p; rec = ""; q = 0 }' \
    "$DATA/routerarena_sub10_prompts.csv" |
  jq -cR 'split("\t") | {src: .[0], prompt: (.[1] | gsub("\u001e"; "\n"))}
    | .task = (.src
        | if test("^(AIME|MATH|GSM8K|AsDiv|MathQA|FinQA)$") then "math"
          elif test("^LiveCodeBench") then "coding"
          elif test("^WMT19") then "translation"
          elif test("^(SuperGLUE-(Entailment|Wic|RC|QA)|Ethics)$")
            then "classification"
          elif test("^(MMLU|MMLUPro|ArcMMLU|OpenTDB|GeoBench|MedMCQA|MusicTheoryBench|PubMedQA|QANTA|GeoGraphyData)$")
            then "knowledge_qa"
          elif test("^(SocialiQA|CommonsenseQA|SuperGLUE-(Wsc|ClozeTest|CausalReasoning))$")
            then "commonsense"
          elif . == "NarrativeQA" then "extraction"
          elif . == "ChessInstruct" then null
          else "chat" end)
    | select(.task) | {prompt, task, src}' >"$TMP/ra.jsonl"
  for s in mt ah2 ra; do
    jq -c 'select(input_line_number % 5 != 0)' "$TMP/$s.jsonl" \
      >"$TMP/${s}_train.jsonl"
    jq -c 'select(input_line_number % 5 == 0)' "$TMP/$s.jsonl" \
      >"$TMP/${s}_test.jsonl"
  done
}

if [ "${1:-}" = "--write-model" ]; then
  out=${2:?usage: classify_accuracy.sh --write-model FILE}
  if [ $have_shared = 0 ]; then
    echo "classify_accuracy: $DATA absent: cannot train the shipped model" >&2
    exit 2
  fi
  map_shared
  exec "$LLMROUTE" train -o "$out" $FIX/*.jsonl "$TMP/mt.jsonl" \
    "$TMP/ah2.jsonl" "$TMP/ra.jsonl"
fi

if [ "${1:-}" = "--speed" ]; then
  n=${2:-200000}
  per=$(cat $FIX/*.jsonl | wc -l)
  i=$(( (n + per - 1) / per ))
  while [ "$i" -gt 0 ]; do
    cat $FIX/*.jsonl
    i=$((i - 1))
  done | head -n "$n" >"$TMP/in.jsonl"
  P=$PWD/pipelines
  echo "== runner with one stage over $n prompts (one core; wall seconds)"
  for line in "jq program=." "classify mode=rules rules=$P/tasks.rules" \
      "classify mode=model model=$P/classifier.model" \
      "classify rules=$P/tasks.rules model=$P/classifier.model"; do
    printf '%s\n' "$line" >"$TMP/s.pipeline"
    t0=$(date +%s.%N)
    "$LLMROUTE" -q -p "$TMP/s.pipeline" "$TMP/in.jsonl" >/dev/null ||
      echo "  (run failed)"
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk -v n="$n" -v what="$line" '{ s = $2 - $1
      printf "  %6.2f s %8.0f req/s  %s\n", s, n / s, what }' |
      sed "s|$P/||g"
  done
  exit 0
fi

# accuracy NAME PIPELINE_LINE FILE: run the stage, compare route.task with
# the file's labels (in input order).
accuracy() {
  printf '%s\n' "$2" >"$TMP/p.pipeline"
  "$LLMROUTE" -q --keep-order -p "$TMP/p.pipeline" "$3" >"$TMP/out.jsonl" \
    2>"$TMP/err" || {
    echo "  $1: run failed: $(head -c 300 "$TMP/err")"
    return
  }
  jq -r '.task' "$3" >"$TMP/want"
  jq -r '.route.task' "$TMP/out.jsonl" >"$TMP/got"
  paste "$TMP/want" "$TMP/got" | awk -v name="$1" -F '\t' '
    { n++; if ($1 == $2) ok++ }
    END { printf "  %-34s %.3f (%d/%d)\n", name, n ? ok / n : 0, ok, n }'
}

echo "== classify accuracy ($(date -u +%Y-%m-%d))"
echo "-- own fixtures ($FIX, $(cat $FIX/*.jsonl | wc -l) examples):"
echo "   llmroute train --eval-split 0.2 $FIX/*.jsonl"
"$LLMROUTE" train -o "$TMP/fix.model" --eval-split 0.2 $FIX/*.jsonl |
  sed 's/^/   /'
cat $FIX/*.jsonl >"$TMP/fix.jsonl"
# the held-out fifth of the fixtures, as train --eval-split picks it, is
# not recoverable from the shell; the rules alone need no training:
accuracy "rules only, all fixtures" "classify mode=rules rules=$PWD/$RULES" \
  "$TMP/fix.jsonl"

# The example workload (written by another engineer) names each prompt's
# task in its custom_id prefix: extr-, clas-, summ-, mult-, crea-, codi-,
# math-, tran-, chat-.  An independent check of the shipped rules + model.
EX=pipelines/examples/prompts.jsonl
if [ -r "$EX" ]; then
  jq -c '.task = ({extr: "extraction", clas: "classification",
      summ: "summarization", mult: "multi_step_reasoning",
      crea: "creative_generation", codi: "coding", math: "math",
      tran: "translation", chat: "chat"}[.custom_id // "" | split("-")[0]])
    | select(.task)' "$EX" >"$TMP/examples.jsonl"
  echo "-- $EX ($(wc -l <"$TMP/examples.jsonl") labelled by custom_id):"
  accuracy "examples rules only" "classify mode=rules rules=$PWD/$RULES" \
    "$TMP/examples.jsonl"
  accuracy "examples shipped model only" \
    "classify mode=model model=$PWD/pipelines/classifier.model" "$TMP/examples.jsonl"
  accuracy "examples shipped rules+model" \
    "classify rules=$PWD/$RULES model=$PWD/pipelines/classifier.model" \
    "$TMP/examples.jsonl"
fi

if [ $have_shared = 0 ]; then
  echo "-- shared task prompts: $DATA absent, skipped"
  exit 0
fi
map_shared
cat $FIX/*.jsonl | jq -c 'select(input_line_number % 5 != 0)' \
  >"$TMP/fix_train.jsonl"
cat $FIX/*.jsonl | jq -c 'select(input_line_number % 5 == 0)' \
  >"$TMP/fix_test.jsonl"
echo "-- test splits (every 5th line of each set; the model never saw them):"
for s in fix mt ah2 ra; do
  printf '   %s: %s test lines\n' "$s" "$(wc -l <"$TMP/${s}_test.jsonl")"
done
echo "   llmroute train --eval-split 0 FIX_TRAIN MT_TRAIN AH2_TRAIN RA_TRAIN"
"$LLMROUTE" train -o "$TMP/split.model" --eval-split 0 "$TMP/fix_train.jsonl" \
  "$TMP/mt_train.jsonl" "$TMP/ah2_train.jsonl" "$TMP/ra_train.jsonl" \
  >"$TMP/train.out"
cat "$TMP/fix_test.jsonl" "$TMP/mt_test.jsonl" "$TMP/ah2_test.jsonl" \
  "$TMP/ra_test.jsonl" >"$TMP/all_test.jsonl"
for s in fix mt ah2 ra all; do
  f=$TMP/${s}_test.jsonl
  accuracy "$s rules only" "classify mode=rules rules=$PWD/$RULES" "$f"
  accuracy "$s model only" "classify mode=model model=$TMP/split.model" "$f"
  accuracy "$s rules+model (mode=both)" \
    "classify rules=$PWD/$RULES model=$TMP/split.model" "$f"
done
echo "-- model trained on the fixtures only, on all shared prompts:"
cat "$TMP/mt.jsonl" "$TMP/ah2.jsonl" "$TMP/ra.jsonl" >"$TMP/shared_all.jsonl"
accuracy "fixtures model, all shared" "classify mode=model model=$TMP/fix.model" \
  "$TMP/shared_all.jsonl"
echo "-- reproduce: BUILD=$BUILD sh tests/bench/classify_accuracy.sh"
echo "   shipped model: sh tests/bench/classify_accuracy.sh \\"
echo "     --write-model pipelines/classifier.model"
