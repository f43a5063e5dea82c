# tests/tools/token_calibration.sh - how close the token estimator
# (core/tokens.c) comes to a real BPE tokenizer, on real prompts.
#
#   TOKENIZER_DIR=DIR BUILD=build sh tests/tools/token_calibration.sh [FILE]
#
# Needs node and the gpt-tokenizer npm package (OpenAI's o200k_base and
# cl100k_base rank files ship inside it) installed under DIR
# (`cd DIR && npm install gpt-tokenizer`): llmroute itself depends on
# neither.  The prompts are ../shared/data/task_prompts, or FILE: request
# lines (pipelines/examples/prompts.jsonl) or lines with a "text" field.
# A text goes through `price` as one user message and the estimate less
# the chat overhead (3 per message + the role + 3 for the reply's priming
# = 7) is compared with the tokenizer's count of the text; a request's
# estimate is compared with the same chat count made with the tokenizer
# (per message 3 + role + content [+ 1 + name], plus 3).  Prints the total
# ratio and the median and 90th-percentile relative error per encoding.
# A tool, not a test: it skips (exit 0) when something it needs is
# missing.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
DATA=${DATA:-../shared/data/task_prompts}
DIR=${TOKENIZER_DIR:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-tok.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

skip() { echo "token_calibration: skipped: $1"; exit 0; }
command -v node >/dev/null 2>&1 || skip "node not installed"
[ -n "$DIR" ] && [ -d "$DIR/node_modules/gpt-tokenizer" ] ||
  skip "set TOKENIZER_DIR to a folder with node_modules/gpt-tokenizer"
[ -x "$LLMROUTE" ] || skip "$LLMROUTE not built"

# --- the prompts: {"text":...} lines ----------------------------------------
if [ -n "$1" ]; then
  jq -c 'if .text then select(.text | type == "string" and length > 0)
         else {body: (.body // {messages: [{role: "user", content: .prompt}]})}
         end' "$1" >"$TMP/texts.jsonl"
else
  [ -d "$DATA" ] || skip "$DATA not found"
  {
    jq -c '{text: .turns[0]}' "$DATA/mt_bench_question.jsonl"
    jq -c '{text: .prompt}' "$DATA/arena-hard-v2.0_question.jsonl"
    # the CSV set needs a CSV reader: python3 when there is one
    if command -v python3 >/dev/null 2>&1; then
      python3 -c '
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    print(json.dumps({"text": r["prompt"]}))' \
        "$DATA/routerarena_sub10_prompts.csv"
    fi
  } 2>/dev/null | jq -c 'select(.text | type == "string" and length > 0)' \
    >"$TMP/texts.jsonl"
fi
n=$(wc -l <"$TMP/texts.jsonl" | tr -d ' ')
[ "$n" -gt 0 ] || skip "no prompts"

# --- the real counts ------------------------------------------------------------
cat >"$TMP/count.js" <<'JS'
const dir = process.argv[2];
const o200 = require(dir + '/node_modules/gpt-tokenizer/cjs/encoding/o200k_base');
const cl100 = require(dir + '/node_modules/gpt-tokenizer/cjs/encoding/cl100k_base');
const opt = { disallowedSpecial: new Set() };
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
function count(enc, v) {
  if (typeof v.text === 'string') return enc.encode(v.text, opt).length;
  let n = 3;
  for (const m of v.body.messages || []) {
    n += 3 + enc.encode(String(m.role || ''), opt).length;
    if (typeof m.content === 'string')
      n += enc.encode(m.content, opt).length;
    if (typeof m.name === 'string')
      n += 1 + enc.encode(m.name, opt).length;
  }
  return n;
}
for (const l of lines) {
  const v = JSON.parse(l);
  console.log(count(o200, v) + ' ' + count(cl100, v));
}
JS
node "$TMP/count.js" "$(cd "$DIR" && pwd)" <"$TMP/texts.jsonl" \
  >"$TMP/real.txt" || skip "node could not run gpt-tokenizer"

# --- the estimates ----------------------------------------------------------------
echo "set catalog=$(cd "$BUILD/share/llmroute/pipelines" && pwd)/models.json" \
  >"$TMP/p.pipeline"
echo "price" >>"$TMP/p.pipeline"
jq -c 'if .text then {text: true, routing: {task: "chat"},
         body: {messages: [{role: "user", content: .text}]}}
         else . end' "$TMP/texts.jsonl" |
  "$LLMROUTE" -p "$TMP/p.pipeline" --keep-order |
  jq -r '.route.estimate.input_tokens' >"$TMP/est0.txt"
jq -r 'if .text then 7 else 0 end' "$TMP/texts.jsonl" |
  paste -d ' ' "$TMP/est0.txt" - | awk '{ print $1 - $2 }' >"$TMP/est.txt"

paste -d ' ' "$TMP/est.txt" "$TMP/real.txt" | awk -v n="$n" '
  function report(name, col,    i, k, e, r, sorted, tmp) {
    e = 0; r = 0; k = 0
    for(i = 1; i <= NR; i++) {
      e += est[i]; r += real[col, i]
      err[++k] = (est[i] - real[col, i]) / (real[col, i] > 0 ? real[col, i] : 1)
      if(err[k] < 0) err[k] = -err[k]
    }
    # insertion sort of |error| (a few thousand values)
    for(i = 2; i <= k; i++) {
      tmp = err[i]
      for(j = i - 1; j >= 1 && err[j] > tmp; j--) err[j + 1] = err[j]
      err[j + 1] = tmp
    }
    printf "%-12s %d prompts: estimate/real in all %.3f, median |error| " \
           "%.1f%%, 90th percentile %.1f%%\n", name, k, e / r,
           100 * err[int((k + 1) / 2)], 100 * err[int(k * 0.9)]
  }
  { est[NR] = $1; real[1, NR] = $2; real[2, NR] = $3 }
  END { report("o200k_base", 1); report("cl100k_base", 2) }'
