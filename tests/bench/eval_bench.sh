# tests/bench/eval_bench.sh - how long `llmroute eval` takes over N
# recorded prompts (default 100,000; the target is under a minute).
#
#   BUILD=build sh tests/bench/eval_bench.sh [N] [CSV...]
#
# The RouterBench CSVs (default ../shared/data/routerbench/*.csv) are
# converted and their lines repeated with fresh custom_ids up to N; the
# shipped default pipeline (learned router, agreement checks, validate,
# escalate) runs on them through the replay provider.  Prints the wall
# time of the conversion and of the evaluation.  Figures only.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
N=${1:-100000}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
  set -- ../shared/data/routerbench/*.csv
fi
if [ ! -r "$1" ]; then
  echo "eval_bench: no RouterBench CSV ($1): nothing measured"
  exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-evb.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

t0=$(date +%s.%N)
"$LLMROUTE" eval convert routerbench -o "$TMP/one.jsonl" \
  --catalog-out "$TMP/cat.json" "$@" 2>/dev/null || exit 1
t1=$(date +%s.%N)
# N lines: the file repeated, custom_ids made unique with a round suffix
awk -v n="$N" '{ line[NR] = $0 } END {
    for(i = 0; i < n; i++) {
      s = line[i % NR + 1]; r = int(i / NR)
      if(r) sub(/"custom_id":"/, "\"custom_id\":\"r" r "-", s)
      print s } }' "$TMP/one.jsonl" >"$TMP/all.jsonl"
sed -i "s|\"outcomes\":\"one.jsonl\"|\"outcomes\":\"all.jsonl\"|" \
  "$TMP/cat.json"
bytes=$(wc -c <"$TMP/all.jsonl")
t2=$(date +%s.%N)
"$LLMROUTE" eval -p default --catalog "$TMP/cat.json" --json \
  "$TMP/all.jsonl" >"$TMP/out.json" || exit 1
t3=$(date +%s.%N)
echo "$t0 $t1 $t2 $t3" | awk -v n="$N" -v b="$bytes" '{
  printf "convert: %.2f s for the CSVs\n", $2 - $1
  printf "eval -p default: %d recorded prompts (%.0f MB) in %.1f s, %.0f prompts/s\n",
    n, b / 1e6, $4 - $3, n / ($4 - $3) }'
jq -r '"  quality \(.quality_ratio * 1000 | round / 10)% of the baseline'"'"'s, savings \(.savings * 1000 | round / 10)% (in-sample: the shipped router saw these prompts)"' "$TMP/out.json"
echo "reproduce: make BUILD=$BUILD && BUILD=$BUILD sh tests/bench/eval_bench.sh $N"
