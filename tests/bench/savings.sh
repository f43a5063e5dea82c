# tests/bench/savings.sh - what routing keeps of the premium model's
# quality, and at what cost, measured with `llmroute eval` on recorded
# outcomes the router never saw.
#
#   BUILD=build sh tests/bench/savings.sh [CSV...]
#
# The RouterBench CSVs (default ../shared/data/routerbench/*.csv) are
# converted to recorded outcomes and split in two halves by line (odd,
# even).  A router is trained on each half (`llmroute train --outcomes`,
# its thresholds cross-validated on that half only) and every pipeline is
# evaluated on the other half with it, so no figure below comes from
# prompts its router was trained on.  Each row prints both halves and
# their mean, with the command that reproduces the first half's figure.
# Rows: every recorded model alone, the oracle, rules routing (route
# policy=cheapest-capable), learned routing alone (quality=0.95, no
# agreement, no escalation), the same learned routing as the default
# pipeline's but without its agreement checks and escalation, the
# shipped default and cascade pipelines.  Prints figures only.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
SRC=$PWD/pipelines
if [ $# -eq 0 ]; then
  set -- ../shared/data/routerbench/*.csv
fi
if [ ! -r "$1" ]; then
  echo "savings: no RouterBench CSV ($1): nothing measured"
  exit 0
fi
if [ ! -x "$LLMROUTE" ]; then
  echo "savings: $LLMROUTE not built (make BUILD=$BUILD)" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-sav.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

"$LLMROUTE" eval convert routerbench -o "$TMP/all.jsonl" \
  --catalog-out "$TMP/cat.json" "$@" 2>"$TMP/conv.err" || {
  cat "$TMP/conv.err" >&2
  exit 1
}
awk 'NR % 2 == 1' "$TMP/all.jsonl" >"$TMP/h1.jsonl"
awk 'NR % 2 == 0' "$TMP/all.jsonl" >"$TMP/h2.jsonl"
echo "input: $(wc -l <"$TMP/all.jsonl") recorded prompts ($*), halves of" \
  "$(wc -l <"$TMP/h1.jsonl") and $(wc -l <"$TMP/h2.jsonl")"

# Each fold: a folder with the router trained on the other half, the
# shipped pipelines and variants; relative paths in them resolve there,
# then in the shipped folder.
for f in 1 2; do
  o=$((3 - f))
  mkdir -p "$TMP/f$f"
  "$LLMROUTE" train --outcomes "$TMP/h$o.jsonl" --catalog "$TMP/cat.json" \
    -o "$TMP/f$f/router.model" >"$TMP/f$f/train.log" || exit 1
  cp "$SRC/default.pipeline" "$SRC/cascade.pipeline" "$TMP/f$f/"
  printf 'set catalog=models.json\nclassify\nprice\nroute policy=cheapest-capable\ncall on_failure=next\nvalidate\nescalate max=2 to=route\n' \
    >"$TMP/f$f/rules.pipeline"
  printf 'set catalog=models.json\nclassify\nprice\nroute policy=learned model=router.model quality=0.95\ncall\n' \
    >"$TMP/f$f/learned.pipeline"
  # the default pipeline's route line without agree= and without
  # validate/escalate: what the checks and escalation add
  grep -v '^#' "$SRC/default.pipeline" | grep -v '^\(validate\|escalate\)' |
    sed 's/ agree=true//' >"$TMP/f$f/noescalate.pipeline"
done

# row NAME PIPELINE: eval on both folds, print quality / savings.
row() {
  for f in 1 2; do
    "$LLMROUTE" eval -p "$TMP/f$f/$2.pipeline" --catalog "$TMP/cat.json" \
      --json "$TMP/h$f.jsonl" >"$TMP/$2.$f.json" 2>"$TMP/err" || {
      echo "$1: eval failed: $(head -c 300 "$TMP/err")"
      return
    }
  done
  jq -rs --arg n "$1" '
    def pct: . * 1000 | round / 10;
    "\($n | .[0:30] | . + (" " * (30 - length)))  " +
    "\(.[0].quality_ratio | pct)% / \(.[0].savings | pct)%   " +
    "\(.[1].quality_ratio | pct)% / \(.[1].savings | pct)%   " +
    "mean \(((.[0].quality_ratio + .[1].quality_ratio) / 2) | pct)% / " +
    "\(((.[0].savings + .[1].savings) / 2) | pct)%   APGR " +
    "\(.[0].apgr.router // "-" | tostring | .[0:5]) " +
    "\(.[1].apgr.router // "-" | tostring | .[0:5])"' \
    "$TMP/$2.1.json" "$TMP/$2.2.json"
}

echo "                                quality of baseline / cost saved"
echo "                                half 1           half 2"
row "rules (cheapest-capable)" rules
row "learned routing, quality 0.95" learned
row "learned, no checks/escalation" noescalate
row "default pipeline" default
row "cascade pipeline" cascade
jq -rs '
  def pct: . * 1000 | round / 10;
  .[0] as $a | .[1] as $b |
  ($a.models | keys[]) as $m |
  "\($m | .[0:30] | . + (" " * (30 - length)))  " +
  "\($a.models[$m].quality_ratio | pct)% / \($a.models[$m].savings | pct)%   " +
  "\($b.models[$m].quality_ratio | pct)% / \($b.models[$m].savings | pct)%"' \
  "$TMP/default.1.json" "$TMP/default.2.json"
jq -rs '
  def pct: . * 1000 | round / 10;
  "oracle                          \(.[0].oracle.quality_ratio | pct)% / " +
  "\(.[0].oracle.savings | pct)%   \(.[1].oracle.quality_ratio | pct)% / " +
  "\(.[1].oracle.savings | pct)%"' "$TMP/default.1.json" \
  "$TMP/default.2.json"
jq -rs '
  def pct: . * 1000 | round / 10;
  "default pipeline, half 1: \(.[0].signals | to_entries | map("\(.key) " +
   "catches \(.value.catch_rate | pct)% of wrong first answers, refuses " +
   "\(.value.false_alarm_rate | pct)% of right ones") | join("; ")); " +
  "route.complexity AUC (weak model fails) \(.[0].complexity_auc * 1000 |
   round / 1000), per benchmark \(.[0].benchmarks | map_values(
   .complexity_auc * 1000 | round / 1000) | tostring)"' \
  "$TMP/default.1.json" "$TMP/default.2.json"
echo "baseline: $(jq -r .baseline.model "$TMP/default.1.json")"
echo "reproduce: make BUILD=$BUILD && BUILD=$BUILD sh tests/bench/savings.sh"
echo "  one row by hand: llmroute eval convert routerbench -o all.jsonl" \
  "--catalog-out cat.json CSV...; awk 'NR%2==0' all.jsonl > h2.jsonl;" \
  "awk 'NR%2==1' all.jsonl > h1.jsonl; llmroute train --outcomes h2.jsonl" \
  "--catalog cat.json -o f1/router.model; cp pipelines/default.pipeline f1/;" \
  "llmroute eval -p f1/default.pipeline --catalog cat.json h1.jsonl"
