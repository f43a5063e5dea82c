# tests/bench/batch_formats.sh - the cost of the batch formats on the
# runner's own path (no provider): N Anthropic Message Batches lines read
# and converted, answered by the echo test stage, written in each
# --output-format; and N OpenAI Batch lines in the default format as the
# reference.  Prints the best of RUNS (default 3) wall times and lines/s.
#
#   BUILD=build sh tests/bench/batch_formats.sh      (N=100000 RUNS=3)

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
RUNS=${RUNS:-3}
N=${N:-100000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

plug=$(cd "$BUILD/tests/plugins" && pwd) || exit 1
printf '%s/echo.so\n' "$plug" >"$TMP/echo.pipeline"
awk -v n="$N" 'BEGIN { for(i = 1; i <= n; i++)
  printf "{\"custom_id\":\"r%d\",\"params\":{\"model\":\"auto\",\"max_tokens\":64,\"system\":[{\"type\":\"text\",\"text\":\"Be terse.\"}],\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"question %d: what is the capital of France?\"}]}]}}\n", i, i }' \
  >"$TMP/anthropic.jsonl"
awk -v n="$N" 'BEGIN { for(i = 1; i <= n; i++)
  printf "{\"custom_id\":\"r%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"auto\",\"max_tokens\":64,\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"question %d: what is the capital of France?\"}]}}\n", i, i }' \
  >"$TMP/openai.jsonl"

# best FILE FORMAT: the best wall time of RUNS runs
best() {
  _best=
  _i=0
  while [ $_i -lt "$RUNS" ]; do
    t0=$(date +%s.%N)
    "$LLMROUTE" -p "$TMP/echo.pipeline" --output-format "$2" "$TMP/$1" \
      >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; exit 1; }
    t1=$(date +%s.%N)
    n=$(wc -l <"$TMP/out")
    [ "$n" -eq "$N" ] || { echo "batch_formats: $n results, want $N"; exit 1; }
    _t=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
    if [ -z "$_best" ] || [ "$(echo "$_t $_best" | awk '{ print ($1 < $2) }')" = 1 ]
    then _best=$_t; fi
    _i=$((_i + 1))
  done
  echo "$_best"
}

echo "batch formats: $N lines, echo stage, best of $RUNS"
for c in openai.jsonl:llmroute anthropic.jsonl:llmroute \
         anthropic.jsonl:openai anthropic.jsonl:anthropic; do
  f=${c%%:*} fmt=${c#*:}
  t=$(best "$f" "$fmt")
  echo "$f $fmt $t" | awk -v n="$N" \
    '{ printf "  %-18s -> %-9s %7.3f s  %9.0f lines/s\n", $1, $2, $3, n / $3 }'
done
echo "reproduce: BUILD=$BUILD N=$N RUNS=$RUNS sh tests/bench/batch_formats.sh"
