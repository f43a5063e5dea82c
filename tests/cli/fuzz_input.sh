#!/bin/sh
# fuzz_input.sh - 20,000 mutated input lines (tests/tools/fuzzlines, fixed
# seeds): the runner never crashes, writes exactly one result line per
# input line, every result is valid JSON with a custom_id, and every bad
# line is an error record with a code and its line number.
. tests/lib.sh

FUZZ=$BUILD/tests/tools/fuzzlines
printf 'jq program=.\n' > "$TMP/pass.pipeline"

for seed in 1 2; do
  "$FUZZ" 10000 $seed > "$TMP/in"
  "$LLMROUTE" -p "$TMP/pass.pipeline" -j 97 "$TMP/in" > "$TMP/out" \
    2> "$TMP/err"
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then pass "seed $seed: exit 0 or 1"
  else fail "seed $seed: exit 0 or 1" "exit $rc: $(head -c 300 "$TMP/err")"
  fi
  check_eq "seed $seed: one result per line" \
    "$(wc -l < "$TMP/out" | tr -d ' ')" "10000"
  check_json "seed $seed: every result is an object with a custom_id" \
    'all(type == "object" and (.custom_id | type) == "string")' "$TMP/out"
  check_json "seed $seed: ids 1..10000 each once" \
    '([.[].id | sub("-[0-9]+$"; "")] | unique | length) == 1 and
     ([.[].id | sub("^llmr-[0-9a-z]{12}-"; "") | tonumber] | sort) ==
     [range(1;10001)]' \
    "$TMP/out"
  check_json "seed $seed: errors are input errors with code, message, line" \
    'all(.[] | select(.error != null) | .error;
         .stage == "input" and (.code | type) == "string" and
         (.message | type) == "string" and (.line | type) == "number")' \
    "$TMP/out"
  check_json "seed $seed: the line number is the input line" \
    'all(.[] | select(.error != null); .custom_id == "line-\(.error.line)"
         or (.custom_id | test("^line-") | not))' "$TMP/out"
  check_json "seed $seed: both good and bad lines seen" \
    'any(.error == null) and any(.error != null)' "$TMP/out"
  check_nogrep "seed $seed: nothing alarming on stderr" \
    'AddressSanitizer|runtime error|Segmentation|Aborted|assert' "$TMP/err"
done
finish
