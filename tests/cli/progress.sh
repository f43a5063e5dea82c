#!/bin/bash
# tests/cli/progress.sh - the progress line and the end-of-run summary,
# over calls to the loopback mock provider made slow (--latency-ms) so a
# run lasts several progress intervals: the periodic lines on a
# non-terminal (done/total, percentage, rate, ETA, in flight, errors, $
# against the budget and the baseline), --total, the in-place line on a
# terminal (script(1)), the summary's figures against the result file,
# -q, --resume and SIGINT.
# Run: BUILD=build bash tests/cli/progress.sh
. tests/lib.sh

FIX=$PWD/tests/fixtures/call
if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail progress_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
mock_start --latency-ms 120
if [ -z "$MOCK_PORT" ]; then
  fail progress_mock_started "no port"; finish; exit; fi
export LLMROUTE_OA_BASE_URL=$MOCK_URL/v1 LLMR_TEST_OA_KEY=sk-llmr-test-pg-41c0

pipeline pg "set catalog=$FIX/models.json baseline=m-anthropic
price
call timeout=5 retries=0 breaker=0"

# line ID TEXT: a request pinned to m-openai (served by the mock).
line() {
  printf '{"custom_id":"%s","body":{"model":"m-openai","messages":[{"role":"user","content":"%s"}]}}\n' \
    "$1" "$2"
}
{
  for i in $(seq 1 16); do line "ok$i" "hello number $i"; done
  for i in 1 2 3; do line "e400-$i" 'x [[mock {\"status\":400}]]'; done
  echo 'not json'
  echo
} >"$TMP/in.jsonl"

# usd V: dollars as the runner prints them.
usd() {
  awk -v v="$1" 'BEGIN { if (v >= 100) printf "$%.2f", v;
    else if (v >= 1) printf "$%.4f", v; else printf "$%.6f", v }'
}

# --- periodic lines on a non-terminal ---------------------------------------
llmr -p "$TMP/pg.pipeline" -j 2 --progress --progress-interval 0.3 \
  --budget 5 "$TMP/in.jsonl" </dev/null
check_eq "run: exit 1 (some errors)" "$rc" 1
n=$(grep -Ec '^llmroute: [0-9]+/20 [0-9.]+% done, [0-9.]+/s, ETA [0-9]+:[0-9]{2}, [0-9]+ in flight, [0-9]+ errors?, \$[0-9.]+ of \$5\.0000( vs \$[0-9.]+ baseline)?, [0-9]+:[0-9]{2}$' "$TMP/err")
if [ "$n" -ge 2 ]; then
  pass "non-tty: $n whole progress lines with done/total, %, rate, ETA, in flight, errors, \$ of budget"
else
  fail "non-tty: periodic progress lines" "$n lines in: $(head -c 600 "$TMP/err")"
fi
check_nogrep "non-tty: no carriage return or terminal escape" \
  $'\r|\033' "$TMP/err"
check_grep "non-tty: the baseline beside the cost" \
  '^llmroute: [0-9]+/20 .* vs \$[0-9.]+ baseline' "$TMP/err"
# done never goes down, the percentage follows done/20
check "non-tty: done grows, percentage is done/total" awk '
  /^llmroute: [0-9]+\/20 / { split($2, a, "/"); d = a[1] + 0;
    if (d < last) exit 1; last = d;
    p = $3; sub(/%/, "", p);
    if (p + 0 < 100 * d / 20 - 0.06 || p + 0 > 100 * d / 20 + 0.06) exit 1 }
  END { if (!last) exit 1 }' "$TMP/err"

# --- the summary against the result file ------------------------------------
summary=$(tail -n 1 "$TMP/err")
nreq=$(jq -s length "$TMP/out")
nok=$(jq -s 'map(select(.error == null)) | length' "$TMP/out")
nerr=$(jq -s 'map(select(.error != null)) | length' "$TMP/out")
codes=$(jq -rs '[.[] | select(.error != null) | .error.code] | group_by(.)
  | map({c: .[0], n: length}) | sort_by(-.n) | map("\(.n) \(.c)")
  | join(", ")' "$TMP/out")
cost=$(usd "$(jq -s 'map(.route.cost_usd // 0) | add' "$TMP/out")")
base=$(usd "$(jq -s 'map(select(.error == null)
  | .route.baseline_cost_usd // 0) | add' "$TMP/out")")
check_eq "summary: requests, answered, errors by code match the results" \
  "$(echo "$summary" | sed -E 's/^llmroute: ([0-9]+) requests in [0-9.]+s \([0-9.]+\/s\): ([0-9]+) answered, ([0-9]+) errors \(([^)]*)\);.*/\1 \2 \3 (\4)/')" \
  "$nreq $nok $nerr ($codes)"
check_eq "summary: the figures" "$nreq $nok $nerr" "20 16 4"
case $summary in
  *"; cost $cost against a $base baseline, "*"% saved; budget \$5.0000") \
    pass "summary: cost and baseline equal the result file's sums ($cost, $base)" ;;
  *) fail "summary: cost and baseline" "want $cost and $base in: $summary" ;;
esac
saved=$(echo "$summary" | sed -E 's/.* ([0-9.]+)% saved.*/\1/')
want=$(jq -rs '(map(.route.cost_usd // 0) | add) as $c
  | (map(select(.error == null) | .route.baseline_cost_usd // 0) | add) as $b
  | 100 * ($b - $c) / $b' "$TMP/out" | awk '{ printf "%.1f", $1 }')
check_eq "summary: savings = 1 - cost / baseline" "$saved" "$want"

# --- --total, the default (no progress), -q ---------------------------------
llmr -p "$TMP/pg.pipeline" -j 2 --progress --progress-interval 0.3 \
  --total 40 "$TMP/in.jsonl" </dev/null
check_grep "--total: the total given wins over the file's count" \
  '^llmroute: [0-9]+/40 [0-9.]+% done' "$TMP/err"
check_nogrep "--total: no /20" '^llmroute: [0-9]+/20 ' "$TMP/err"
check_nogrep "no budget: no ' of \$'" ' of \$' "$TMP/err"
head -n 12 "$TMP/in.jsonl" >"$TMP/small.jsonl"
llmr -p "$TMP/pg.pipeline" -j 4 <"$TMP/small.jsonl"
check_eq "default on a non-terminal: the summary alone" \
  "$(wc -l <"$TMP/err" | tr -d ' ') $(grep -c '^llmroute: 12 requests in .*: 12 answered, 0 errors; cost \$' "$TMP/err")" \
  "1 1"
llmr -p "$TMP/pg.pipeline" -j 4 -q --progress-interval 0.1 "$TMP/small.jsonl" \
  </dev/null
check_eq "-q: nothing on stderr" "$(wc -c <"$TMP/err" | tr -d ' ')" 0
# a pipe has no total known up front: done without /total, no ETA
cat "$TMP/small.jsonl" | "$LLMROUTE" -p "$TMP/pg.pipeline" -j 1 --progress \
  --progress-interval 0.2 >"$TMP/out" 2>"$TMP/err"
check_grep "a pipe: done and rate without a total" \
  '^llmroute: [0-9]+ done, [0-9.]+/s, [0-9]+ in flight' "$TMP/err"
check_nogrep "a pipe: no ETA" 'ETA' "$TMP/err"

# --- a pass-through pipeline: no money in the summary -----------------------
pipeline pass "set catalog=$FIX/models.json
jq program='.'"
llmr -p "$TMP/pass.pipeline" "$TMP/in.jsonl" </dev/null
check_grep "pass-through: requests and errors, no cost" \
  '^llmroute: 20 requests in [0-9.]+s \([0-9.]+/s\): 19 done, 1 error \(1 invalid_json\)$' \
  "$TMP/err"

# --- --resume: skipped requests are counted ---------------------------------
llmr -p "$TMP/pg.pipeline" -j 4 "$TMP/small.jsonl" </dev/null
cp "$TMP/out" "$TMP/done.jsonl"
llmr -p "$TMP/pg.pipeline" -j 4 --resume "$TMP/done.jsonl" \
  --progress --progress-interval 0.1 "$TMP/in.jsonl" </dev/null
check_grep "--resume: the summary counts the skipped" \
  '^llmroute: 8 requests in .*; 12 skipped \(--resume: already done\)$' \
  "$TMP/err"

# --- SIGINT: the summary still comes, with the interrupted ------------------
{ for i in $(seq 1 40); do line "int$i" "slow $i"; done; } >"$TMP/int.jsonl"
"$LLMROUTE" -p "$TMP/pg.pipeline" -j 2 "$TMP/int.jsonl" </dev/null \
  >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
nint=$(jq -s 'map(select(.error.code == "interrupted")) | length' \
  "$TMP/int.out")
nres=$(jq -s length "$TMP/int.out")
check_eq "SIGINT: exit 130" "$rc" 130
check_grep "SIGINT: summary with the interrupted records and the signal" \
  "^llmroute: $nres requests in .*, $nint errors? \\($nint interrupted\\);.*; interrupted by SIGINT\$" \
  "$TMP/int.err"

# --- a terminal: one line redrawn in place ----------------------------------
if command -v script >/dev/null 2>&1; then
  # script(1) gives the runner a pty for stderr; stdout goes to a file
  TERM=dumb script -qec "'$LLMROUTE' -p '$TMP/pg.pipeline' -j 2 \
    --progress-interval 0.2 '$TMP/in.jsonl' >'$TMP/tty.out' </dev/null" \
    "$TMP/typescript" >/dev/null 2>&1 </dev/null
  if [ ! -s "$TMP/tty.out" ]; then
    fail "tty: the run under script(1)" "no results"
  else
    draws=$(grep -o $'\rllmroute: [0-9]*/20 [0-9.]*% done' "$TMP/typescript" |
      wc -l)
    if [ "$draws" -ge 2 ]; then
      pass "tty: the line is redrawn in place with \\r ($draws draws)"
    else
      fail "tty: redrawn in place" "$draws draws in: $(head -c 400 "$TMP/typescript" | od -c | head -5)"
    fi
    check_grep "tty: each draw clears to the end of the line" \
      $'\033\\[K' "$TMP/typescript"
    # the summary replaces the progress line: cleared, then written whole
    check_grep "tty: the summary after a cleared line" \
      $'\r\033\\[Kllmroute: 20 requests in ' "$TMP/typescript"
    check_eq "tty: stdout keeps the result lines" \
      "$(wc -l <"$TMP/tty.out" | tr -d ' ')" 20
  fi
else
  echo "SKIP: tty: script(1) not installed (util-linux)"
fi
finish
