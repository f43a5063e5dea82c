# tests/cli/core_load.sh - the runner under load and signals: exactly one
# result per input line for 10,000 mixed lines, EPIPE, SIGTERM/SIGINT with
# jobs in flight, concurrency bounded by -j, 1,000 timers at -j 1000.
# No timing is asserted except loose upper bounds the issue asks for.
. tests/lib.sh
# the ids below are worked out from line numbers (tests/cli/ids.sh tests
# the default h-HASH ones)
export LLMROUTE_CUSTOM_IDS=line

PLUG=$(cd "$BUILD/tests/plugins" && pwd)
export LLMROUTE_PLUGIN_PATH="$PLUG"

# crashed FILE: stderr shows a crash or a sanitizer report.
crashed() {
  grep -Eq 'Sanitizer|runtime error|Segmentation|Aborted|core dumped' "$1"
}

# --- 10,000 mixed lines: no loss, no duplicates ------------------------------
# Every 7th line invalid JSON, every 11th not an object, every 13th
# without messages, every 17th blank; the rest carry custom_id c<N> or
# (every 5th) none, so they get line-<N>.  Jobs finish out of order.
awk 'BEGIN {
  for(i = 1; i <= 10000; i++) {
    if(i % 17 == 0) { print ""; continue }
    if(i % 7 == 0) { print "{\"custom_id\":\"c" i "\",\"prompt\":"; continue }
    if(i % 11 == 0) { print "[" i "]"; continue }
    if(i % 13 == 0) {
      print "{\"custom_id\":\"c" i "\",\"body\":{}}"; continue }
    if(i % 5 == 0) {
      print "{\"prompt\":\"p" i "\",\"max_tokens\":" (i % 3) "}"; continue }
    print "{\"custom_id\":\"c" i "\",\"body\":{\"messages\":[{\"role\":" \
          "\"user\",\"content\":\"m" i "\"}],\"llmr_sleep_ms\":" (i % 4) "}}"
  } }' >"$TMP/mixed.jsonl"
# The ids the runner must give: invalid JSON and non-objects get line-N.
want_ids() {
  awk '{ i = NR
    if(i % 17 == 0) next
    if(i % 7 == 0 || i % 11 == 0) print "line-" i
    else if(i % 13 == 0) print "c" i
    else if(i % 5 == 0) print "line-" i
    else print "c" i }' "$TMP/mixed.jsonl"
}
want_ids | sort >"$TMP/want.ids"
pipeline mixed 'sleep_async ms=0
echo'
llmr -p "$TMP/mixed.pipeline" -j 100 "$TMP/mixed.jsonl" </dev/null
check_eq "10k: exit 1 (some error records)" "$rc" 1
jq -r .custom_id "$TMP/out" | sort >"$TMP/got.ids"
check_eq "10k: one result per non-blank line" \
  "$(wc -l <"$TMP/out" | tr -d ' ')" "$(wc -l <"$TMP/want.ids" | tr -d ' ')"
if cmp -s "$TMP/want.ids" "$TMP/got.ids"; then
  pass "10k: the same custom_ids, none lost, none duplicated"
else
  fail "10k: the same custom_ids, none lost, none duplicated" \
    "$(diff "$TMP/want.ids" "$TMP/got.ids" | head -5 | tr '\n' ' ')"
fi
check_eq "10k: result ids unique" \
  "$(jq -r .id "$TMP/out" | sort -u | wc -l | tr -d ' ')" \
  "$(wc -l <"$TMP/want.ids" | tr -d ' ')"
check_eq "10k: error records where the input was bad" \
  "$(jq -r 'select(.error != null) | .error.code' "$TMP/out" | sort |
     uniq -c | awk '{ printf "%s=%s ", $2, $1 }')" \
  "$(awk '{ i = NR; if(i % 17 == 0) next
            if(i % 7 == 0) b++; else if(i % 11 == 0) n++;
            else if(i % 13 == 0) m++ }
          END { printf "invalid_json=%d no_messages=%d not_an_object=%d ",
                b, m, n }' "$TMP/mixed.jsonl")"
check_json "10k: every error record carries its input line" \
  '[.[] | select(.error != null) | .error.line | type == "number"] |
   all' "$TMP/out"
check_json "10k: every good record echoes its own request" \
  '[.[] | select(.error == null) |
    (.response.body.llmr_echo.messages[0].content |
     ltrimstr("m") | ltrimstr("p")) == (.custom_id | ltrimstr("c") |
     ltrimstr("line-"))] | all' "$TMP/out"

llmr -p "$TMP/mixed.pipeline" -j 7 --keep-order "$TMP/mixed.jsonl" \
  </dev/null
want_ids >"$TMP/want.order"
jq -r .custom_id "$TMP/out" >"$TMP/got.order"
if cmp -s "$TMP/want.order" "$TMP/got.order"; then
  pass "10k: --keep-order gives input order"
else
  fail "10k: --keep-order gives input order" \
    "$(diff "$TMP/want.order" "$TMP/got.order" | head -5 | tr '\n' ' ')"
fi

# --- EPIPE: the reader goes away ---------------------------------------------

pipeline echo 'echo'
{ "$LLMROUTE" -p "$TMP/echo.pipeline" "$TMP/mixed.jsonl" 2>"$TMP/err"
  echo $? >"$TMP/rc"; } | head -n 1 >"$TMP/first"
rc=$(cat "$TMP/rc")
check_eq "EPIPE: head got one line" "$(wc -l <"$TMP/first" | tr -d ' ')" 1
case $rc in
  0|1|141) pass "EPIPE: ends cleanly (status $rc)" ;;
  *) fail "EPIPE: ends cleanly" "status $rc: $(head -c 300 "$TMP/err")" ;;
esac
if crashed "$TMP/err"; then
  fail "EPIPE: no crash message" "$(head -c 300 "$TMP/err")"
else pass "EPIPE: no crash message"; fi

# --- a full disk is no EPIPE: exit 74 and a message ------------------------
if [ -w /dev/full ]; then
  "$LLMROUTE" -p "$TMP/echo.pipeline" "$TMP/mixed.jsonl" >/dev/full \
    2>"$TMP/full.err"
  check_eq "full disk: exit 74, not the 141 of | head" "$?" 74
  check_grep "full disk: said on stderr" 'writing results: No space left' \
    "$TMP/full.err"
else
  echo "# skipped the full-disk checks: no writable /dev/full"
fi

# --- SIGTERM / SIGINT with jobs in flight ------------------------------------
# Fast jobs finish; slow ones (an hour) and never-completed ones must come
# out as "interrupted" records; the exit status is 130.  Stdin stays open
# (a FIFO), so the runner also has to stop reading.

# signal_run SIG NAME PIPELINE_TEXT [FAST_ERROR_CODE]
signal_run() {
  printf '%s\n' "$3" >"$TMP/sig.pipeline"
  rm -f "$TMP/fifo"
  mkfifo "$TMP/fifo"
  : >"$TMP/out"
  "$LLMROUTE" -p "$TMP/sig.pipeline" -j 50 <"$TMP/fifo" >"$TMP/out" \
    2>"$TMP/err" &
  _pid=$!
  exec 4>"$TMP/fifo"
  # slow ones first: once the fast ones are out, all were read
  printf '{"custom_id":"slow%s","prompt":"x"}\n' 1 2 3 4 5 >&4
  printf '{"custom_id":"fast%s","prompt":"x"}\n' 1 2 3 >&4
  # wait until the fast ones are out (at most 30 s)
  _i=0
  while [ "$(wc -l <"$TMP/out")" -lt 3 ] && [ $_i -lt 600 ]; do
    sleep 0.05; _i=$((_i + 1)); done
  sleep 0.2
  kill -"$1" "$_pid"
  _i=0
  while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 200 ]; do
    sleep 0.05; _i=$((_i + 1)); done
  if kill -0 "$_pid" 2>/dev/null; then
    kill -9 "$_pid"
    fail "$2: exits after the signal" "still running after 10 s"
  else pass "$2: exits after the signal"; fi
  wait "$_pid"
  rc=$?
  exec 4>&-
  check_eq "$2: exit 130" "$rc" 130
  if [ -n "${4:-}" ]; then _fe="\"$4\""; else _fe=null; fi
  check_json "$2: fast jobs finished before the signal" \
    "[.[] | select(.custom_id | startswith(\"fast\"))] |
     length == 3 and all(.error.code == $_fe)" "$TMP/out"
  check_json "$2: jobs in flight end as interrupted records" \
    '[.[] | select(.custom_id | startswith("slow"))] |
     length == 5 and all(.error.code == "interrupted" and
                         .response == null)' "$TMP/out"
  check_eq "$2: nothing else on stdout" "$(wc -l <"$TMP/out" | tr -d ' ')" 8
  if crashed "$TMP/err"; then fail "$2: no crash" "$(head -c 300 "$TMP/err")"
  else pass "$2: no crash"; fi
}
fast='(.custom_id | startswith("fast"))'
signal_run TERM "SIGTERM sleep" \
  "jq program='.body.llmr_sleep_ms = (if $fast then 0 else 3600000 end)'
sleep_async"
signal_run TERM "SIGTERM never" \
  "jq program='if $fast then error(\"skip\") else . end'
never" jq_error
signal_run INT "SIGINT sleep" \
  "jq program='.body.llmr_sleep_ms = (if $fast then 0 else 3600000 end)'
sleep_async"

# --- concurrency bounded by -j -----------------------------------------------

awk 'BEGIN { for(i = 1; i <= 200; i++) print "{\"prompt\":\"" i "\"}" }' \
  >"$TMP/200.jsonl"
pipeline sleep 'sleep_async ms=20'
llmr -p "$TMP/sleep.pipeline" -j 3 "$TMP/200.jsonl" </dev/null
check_eq "-j 3: exit 0" "$rc" 0
check_eq "-j 3: at most 3 in flight, and 3 reached" \
  "$(jq -s 'map(.route.sleep.inflight_max) | max' "$TMP/out")" 3
pipeline sleep 'sleep_async ms=200'
llmr -p "$TMP/sleep.pipeline" "$TMP/200.jsonl" </dev/null
check_eq "default -j is 64" \
  "$(jq -s 'map(.route.sleep.inflight_max) | max' "$TMP/out")" 64

# --- backpressure: reading pauses while -j jobs are in flight ----------------

awk 'BEGIN { for(i = 1; i <= 100000; i++)
  print "{\"custom_id\":\"bp" i "\",\"prompt\":\"x\"}" }' >"$TMP/many.jsonl"
pipeline never 'never'
# stdin_pos_of PID: how far PID has read its stdin, once it has started
# reading (waits up to 30 s for that), then after another 0.5 s.
stdin_pos_of() {
  _i=0
  while kill -0 "$1" 2>/dev/null && [ $_i -lt 600 ]; do
    _p=$(awk '/^pos:/ { print $2 }' "/proc/$1/fdinfo/0" 2>/dev/null)
    [ "${_p:-0}" -gt 0 ] && break
    sleep 0.05; _i=$((_i + 1))
  done
  sleep 0.5
  awk '/^pos:/ { print $2 }' "/proc/$1/fdinfo/0" 2>/dev/null
}
"$LLMROUTE" -p "$TMP/never.pipeline" -j 5 <"$TMP/many.jsonl" >"$TMP/out" \
  2>"$TMP/err" &
_pid=$!
pos=$(stdin_pos_of "$_pid")
kill -TERM "$_pid" 2>/dev/null
wait "$_pid"
rc=$?
size=$(wc -c <"$TMP/many.jsonl" | tr -d ' ')
if [ -n "$pos" ] && [ "$pos" -gt 0 ] && [ "$pos" -lt 1048576 ]; then
  pass "backpressure: -j 5 stuck jobs: reading stopped ($pos of $size bytes)"
else
  fail "backpressure: -j 5 stuck jobs: reading stopped" \
    "read ${pos:-?} of $size bytes"
fi
check_eq "backpressure: SIGTERM then exit 130" "$rc" 130
check_json "backpressure: the 5 stuck jobs are interrupted records" \
  'length >= 5 and length < 100000 and
   all(.error.code == "interrupted") and
   ([.[].custom_id] | index("bp1") != null)' "$TMP/out"

# With --keep-order a slow first job holds the rest in the reorder buffer:
# reading must still pause, or memory grows with the input.
prog='.body.llmr_sleep_ms = (if .custom_id == "bp1" then 3000 else 0 end)'
pipeline ko "jq program='$prog'
sleep_async"
"$LLMROUTE" -p "$TMP/ko.pipeline" -j 5 --keep-order <"$TMP/many.jsonl" \
  >"$TMP/out" 2>"$TMP/err" &
_pid=$!
pos=$(stdin_pos_of "$_pid")
wait "$_pid"
rc=$?
if [ -n "$pos" ] && [ "$pos" -gt 0 ] && [ "$pos" -lt 1048576 ]; then
  pass "backpressure: --keep-order, first job slow: reading paused ($pos B)"
else
  fail "backpressure: --keep-order, first job slow: reading paused" \
    "read ${pos:-?} of $size bytes"
fi
check_eq "backpressure: --keep-order: exit 0" "$rc" 0
check_eq "backpressure: --keep-order: all lines, in order" \
  "$(jq -r .custom_id "$TMP/out" | awk '$0 != "bp" NR { bad++ }
     END { print NR, bad + 0 }')" "100000 0"

# --- 1,000 jobs x 100 ms at -j 1000 (exact figure: tests/bench/async.sh) -----

awk 'BEGIN { for(i = 1; i <= 1000; i++) print "{\"prompt\":\"" i "\"}" }' \
  >"$TMP/1000.jsonl"
pipeline sleep 'sleep_async ms=100'
t0=$(now)
llmr -p "$TMP/sleep.pipeline" -j 1000 "$TMP/1000.jsonl" </dev/null
secs=$(elapsed "$t0")
check_eq "1000 x 100 ms: exit 0" "$rc" 0
check_eq "1000 x 100 ms: 1000 results" "$(wc -l <"$TMP/out" | tr -d ' ')" 1000
if awk -v s="$secs" 'BEGIN { exit !(s < 5) }'; then
  pass "1000 x 100 ms at -j 1000: well under 100 s (took ${secs}s < 5 s)"
else
  fail "1000 x 100 ms at -j 1000: well under 100 s" "took ${secs}s"
fi
check_json "1000 x 100 ms: at least 100 in flight at once" \
  'map(.route.sleep.inflight_max) | max >= 100' "$TMP/out"

finish
