# tests/bench/progress.sh - what the progress line and the run summary
# cost: a pass-through pipeline (`jq program=.`) over LINES (default
# 200,000) generated batch lines of about 800 bytes (passthrough.sh
# --gen), run ROUNDS times (default 3) each with -q (no progress, no
# summary), by default (the summary only) and with --progress into a file
# (the line every --progress-interval 0.1 s, and the input counted up
# front for the total).  Prints the best CPU seconds (user + sys) and
# lines a second of each; the rounds alternate, so load on the machine
# falls on all three alike.
#
#   BUILD=build sh tests/bench/progress.sh

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
LINES=${LINES:-200000}
ROUNDS=${ROUNDS:-3}

if [ ! -x "$LLMROUTE" ]; then
  echo "progress.sh: $LLMROUTE missing (make BUILD=$BUILD)" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
sh tests/bench/passthrough.sh --gen "$LINES" >"$TMP/in.jsonl"
printf 'jq program=.\n' >"$TMP/pass.pipeline"

# cpu ARGS...: user+sys seconds of one run over the input.
cpu() {
  /usr/bin/time -f '%U %S' -o "$TMP/time" "$LLMROUTE" -p "$TMP/pass.pipeline" \
    "$@" "$TMP/in.jsonl" >/dev/null 2>"$TMP/err"
  awk '{ printf "%.3f", $1 + $2 }' "$TMP/time"
}

best_q=999 best_d=999 best_p=999
r=0
while [ $r -lt "$ROUNDS" ]; do
  q=$(cpu -q)
  d=$(cpu)
  p=$(cpu --progress --progress-interval 0.1)
  best_q=$(echo "$best_q $q" | awk '{ print ($2 < $1) ? $2 : $1 }')
  best_d=$(echo "$best_d $d" | awk '{ print ($2 < $1) ? $2 : $1 }')
  best_p=$(echo "$best_p $p" | awk '{ print ($2 < $1) ? $2 : $1 }')
  r=$((r + 1))
done
echo "pass-through, $LINES lines, best of $ROUNDS (CPU seconds, user + sys):"
for k in "-q:$best_q" "summary only:$best_d" "--progress:$best_p"; do
  echo "$k" | awk -F: -v n="$LINES" \
    '{ printf "  %-14s %6.3f s  %8.0f lines/s\n", $1, $2, n / $2 }'
done
echo "last --progress stderr line: $(tail -n 1 "$TMP/err")"
echo "reproduce: BUILD=$BUILD LINES=$LINES ROUNDS=$ROUNDS sh tests/bench/progress.sh"
