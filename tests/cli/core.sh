# tests/cli/core.sh - the runner's command line: help, version, usage and
# pipeline errors (FILE:LINE, exit 2, nothing read), plugin lookup, input
# files, the stdout contract, HTTP through the core's curl multi handle.
# Load, signals and concurrency are in core_load.sh.
. tests/lib.sh

PLUG=$(cd "$BUILD/tests/plugins" && pwd)
export LLMROUTE_PLUGIN_PATH="$PLUG"
printf '{"prompt":"a"}\n{"prompt":"b"}\n' >"$TMP/two.jsonl"

# --- help and version -------------------------------------------------------

"$LLMROUTE" --help >"$TMP/out" 2>"$TMP/err"
check_eq "--help exits 0" "$?" 0
check_grep "--help prints usage on stdout" '^Usage: llmroute' "$TMP/out"
check_grep "--help names -p" '-p' "$TMP/out"
check_grep "--help names --keep-order" '--keep-order' "$TMP/out"

"$LLMROUTE" --version >"$TMP/out" 2>"$TMP/err"
check_eq "--version exits 0" "$?" 0
check_grep "--version prints the version" '^llmroute [0-9]+\.[0-9]+' \
  "$TMP/out"

# --- usage errors: exit 2, a message, nothing read ---------------------------

pipeline ok 'jq program=.'
usage_error() {
  _name=$1; shift
  llmr "$@" <"$TMP/two.jsonl"
  check_eq "usage: $_name exits 2" "$rc" 2
  if [ -s "$TMP/err" ]; then pass "usage: $_name says why on stderr"
  else fail "usage: $_name says why on stderr" "stderr empty"; fi
  check_eq "usage: $_name writes nothing on stdout" \
    "$(wc -c <"$TMP/out" | tr -d ' ')" 0
  check_eq "usage: $_name reads no input" "$stdin_pos" 0
}
# The harness itself: a run that reads shows a non-zero stdin offset.
llmr -p "$TMP/ok.pipeline" <"$TMP/two.jsonl"
check_eq "harness: stdin offset after a normal run" "$stdin_pos" 30
usage_error "unknown option" -p "$TMP/ok.pipeline" --bogus
usage_error "-j 0" -p "$TMP/ok.pipeline" -j 0
usage_error "-j not a number" -p "$TMP/ok.pipeline" -j abc
usage_error "-p without a value" -p
usage_error "--budget not a number" -p "$TMP/ok.pipeline" --budget lots

# --- pipeline errors: FILE:LINE: message, exit 2, nothing read ---------------

# pipeline_error NAME LINE PATTERN TEXT: the pipeline TEXT must be refused
# at line LINE with a message matching the ERE PATTERN.
pipeline_error() {
  printf '%s\n' "$4" >"$TMP/bad.pipeline"
  llmr -p "$TMP/bad.pipeline" <"$TMP/two.jsonl"
  check_eq "pipeline: $1: exit 2" "$rc" 2
  check_grep "pipeline: $1: FILE:LINE: message" \
    "^(llmroute: )?$TMP/bad.pipeline:$2: " "$TMP/err"
  check_grep "pipeline: $1: message" "$3" "$TMP/err"
  check_eq "pipeline: $1: nothing on stdout" \
    "$(wc -c <"$TMP/out" | tr -d ' ')" 0
  check_eq "pipeline: $1: no input read" "$stdin_pos" 0
}
pipeline_error "unknown stage" 2 "nosuchstage" \
  "$(printf '# comment\nnosuchstage\njq program=.')"
check_grep "unknown stage: names where it looked" \
  "no nosuchstage\\.so in .*/lib/llmroute" "$TMP/err"
check_grep "unknown stage: says how to add a path" \
  "\\./nosuchstage\\.so.*LLMROUTE_PLUGIN_PATH" "$TMP/err"
pipeline_error "a misspelled set key is refused" 2 \
  "unknown setting 'budgte'.*valid: catalog, baseline, budget" \
  "$(printf 'jq program=.\nset budgte=0.0001')"
pipeline_error "escalate to= a stage that is not before it" 2 \
  "to=nowhere: no stage of that name comes before escalate" \
  "$(printf 'jq program=.\nescalate max=2 to=nowhere')"
pipeline_error "an unknown set key is refused" 1 "unknown setting 'colour'" \
  "set colour=blue"
pipeline_error "concurrency beyond an int is refused" 1 \
  "set concurrency: '2147483648' is not a number from 1 to 1e\\+?0?6" \
  "$(printf 'set concurrency=2147483648\njq program=.')"
pipeline_error "max_line=1e30 is refused" 1 "set max_line: '1e30'" \
  "$(printf 'set max_line=1e30\njq program=.')"
pipeline_error "unknown option lists the valid ones" 1 \
  "wat.*what.*verdict|wat.*verdict.*what" "echo wat=1"
pipeline_error "bad int value" 3 "ms" \
  "$(printf 'echo\n\nsleep_async ms=abc')"
pipeline_error "bad int with a suffix" 1 "ms" "sleep_async ms=10x"
pipeline_error "bad bool value" 1 "maybe" "opts req=r b=maybe"
pipeline_error "bad double value" 1 "1.5x" "opts req=r d=1.5x"
pipeline_error "missing required option" 1 "to" "loop"
pipeline_error "wrong ABI major" 1 "ABI|major|version" \
  "$PLUG/wrong_major.so"
pipeline_error "missing entry symbol" 1 "llmr_stage_entry" \
  "$PLUG/no_entry.so"
pipeline_error "stage path that does not exist" 1 "nope.so" \
  "$TMP/nope.so"
pipeline_error "unterminated quote" 1 "quote|unterminated" \
  "jq program='.body"
pipeline_error "option without a value" 1 "program" "jq program"
pipeline_error "init refusing" 2 "refused on purpose" \
  "$(printf 'echo\nopts req=r refuse=true')"
pipeline_error "jq syntax error" 1 "." "jq program='.a |||'"
pipeline_error "set max_hops not a number" 1 "max_hops" \
  "$(printf 'set max_hops=abc\necho')"
pipeline_error "set job_timeout negative" 2 "job_timeout" \
  "$(printf 'echo\nset job_timeout=-1')"
pipeline_error "set max_line zero" 1 "max_line" \
  "$(printf 'set max_line=0\necho')"
pipeline_error "set max_line with a suffix" 1 "max_line" \
  "$(printf 'set max_line=12x\necho')"
pipeline_error "set catalog that does not exist" 1 "nonexistent" \
  "$(printf 'set catalog=%s/nonexistent.json\necho' "$TMP")"
pipeline_error "second error line counts comments and blanks" 4 \
  "nosuchstage" "$(printf '# one\n\necho\nnosuchstage')"

llmr -p "$TMP/does-not-exist.pipeline" <"$TMP/two.jsonl"
check_eq "pipeline: unreadable file: exit 2" "$rc" 2
check_grep "pipeline: unreadable file: named" "does-not-exist.pipeline" \
  "$TMP/err"
check_eq "pipeline: unreadable file: no input read" "$stdin_pos" 0

mkdir -p "$TMP/adir.pipeline"
llmr -p "$TMP/adir.pipeline" <"$TMP/two.jsonl"
check_eq "pipeline: a folder: exit 2" "$rc" 2
check_eq "pipeline: a folder: no input read" "$stdin_pos" 0

llmr -p no_such_pipeline_name <"$TMP/two.jsonl"
check_eq "pipeline: unknown bare name: exit 2" "$rc" 2
check_grep "pipeline: unknown bare name: named" "no_such_pipeline_name" \
  "$TMP/err"

# --- plugin lookup -----------------------------------------------------------

pipeline echo 'echo'
LLMROUTE_PLUGIN_PATH="$TMP/none:$PLUG" llmr -p "$TMP/echo.pipeline" \
  <"$TMP/two.jsonl"
check_eq "lookup: later folder of LLMROUTE_PLUGIN_PATH" "$rc" 0

mkdir -p "$TMP/shadow"
cp "$PLUG/echo.so" "$TMP/shadow/jq.so"
pipeline shadow 'jq'
LLMROUTE_PLUGIN_PATH="$TMP/shadow" llmr -p "$TMP/shadow.pipeline" \
  <"$TMP/two.jsonl"
check_json "lookup: LLMROUTE_PLUGIN_PATH before the built-in folder" \
  'length == 2 and all(.response.body.object == "chat.completion")' \
  "$TMP/out"

pipeline builtin 'jq program=.'
LLMROUTE_PLUGIN_PATH= llmr -p "$TMP/builtin.pipeline" <"$TMP/two.jsonl"
check_eq "lookup: built-in folder without LLMROUTE_PLUGIN_PATH" "$rc" 0

# A tree like the installed one, elsewhere: plugins and pipelines are
# found relative to the executable.
mkdir -p "$TMP/tree/bin" "$TMP/tree/lib/llmroute" \
  "$TMP/tree/share/llmroute/pipelines"
cp "$LLMROUTE" "$TMP/tree/bin/llmroute"
cp "$BUILD/lib/llmroute/jq.so" "$TMP/tree/lib/llmroute/"
printf 'jq program=%s\n' "'.body.max_tokens = 7'" \
  >"$TMP/tree/share/llmroute/pipelines/mine.pipeline"
LLMROUTE_PLUGIN_PATH= "$TMP/tree/bin/llmroute" -p mine \
  <"$TMP/two.jsonl" >"$TMP/out" 2>"$TMP/err"
check_eq "lookup: -p NAME in <share>/pipelines next to the binary" "$?" 0
check_json "lookup: -p NAME gives two plans" \
  'length == 2 and all(.error == null)' "$TMP/out"

# --- input files -------------------------------------------------------------

pipeline echo 'echo'
printf '{"custom_id":"f1","prompt":"a"}\n' >"$TMP/f1.jsonl"
printf '{"custom_id":"f2","prompt":"b"}\n{"custom_id":"f3","prompt":"c"}\n' \
  >"$TMP/f2.jsonl"
printf '{"custom_id":"s1","prompt":"d"}\n' >"$TMP/stdin.jsonl"
llmr -p "$TMP/echo.pipeline" "$TMP/f1.jsonl" - "$TMP/f2.jsonl" \
  <"$TMP/stdin.jsonl"
check_eq "files: exit 0" "$rc" 0
check_eq "files: FILEs and - read in order" \
  "$(jq -r .custom_id "$TMP/out" | sort | tr '\n' ' ')" "f1 f2 f3 s1 "

printf '{"custom_id":"nl","prompt":"no newline at the end"}' \
  >"$TMP/nonl.jsonl"
llmr -p "$TMP/echo.pipeline" "$TMP/nonl.jsonl" </dev/null
check_eq "files: last line without a newline is read" \
  "$(jq -r .custom_id "$TMP/out")" "nl"

printf '{"custom_id":"crlf","prompt":"x"}\r\n' >"$TMP/crlf.jsonl"
llmr -p "$TMP/echo.pipeline" "$TMP/crlf.jsonl" </dev/null
check_eq "files: a CRLF line is one request" \
  "$(jq -r '.custom_id + " " + (.error|tostring)' "$TMP/out")" \
  "crlf null"

printf '{"custom_id":"present","prompt":"x"}\n' >"$TMP/present.jsonl"
llmr -p "$TMP/echo.pipeline" "$TMP/present.jsonl" "$TMP/missing.jsonl" \
  </dev/null
check_eq "files: a missing FILE is a usage error (exit 2)" "$rc" 2
check_grep "files: a missing FILE is named" "missing.jsonl" "$TMP/err"
check_eq "files: a missing FILE: nothing is read or written" \
  "$(wc -c <"$TMP/out" | tr -d ' ')" 0

# A line over the default 16 MiB limit, then a good one.
{ printf '{"prompt":"'; head -c 17000000 /dev/zero | tr '\0' 'x'
  printf '"}\n{"custom_id":"after","prompt":"y"}\n'; } >"$TMP/huge.jsonl"
llmr -p "$TMP/echo.pipeline" --keep-order "$TMP/huge.jsonl" </dev/null
check_eq "files: 17 MB line over the default limit: exit 1" "$rc" 1
check_json "files: 17 MB line is line_too_long, the next line goes on" \
  '.[0].error.code == "line_too_long" and .[0].error.line == 1 and
   .[1].custom_id == "after" and .[1].error == null' "$TMP/out"
rm -f "$TMP/huge.jsonl"

# --- the stdout contract -----------------------------------------------------

printf '{"prompt":"a"}\nbad\n[1]\n{"x":1}\n\n{"prompt":"b"}\n' \
  >"$TMP/mixed.jsonl"
llmr -v -v -p "$TMP/echo.pipeline" "$TMP/mixed.jsonl" </dev/null
check_eq "stdout: one line per non-blank input line" \
  "$(wc -l <"$TMP/out" | tr -d ' ')" 5
check_json "stdout: only result lines (id, custom_id, response, error...)" \
  'all(type == "object" and (.id | test("^llmr-[0-9a-z]{12}-[0-9]+$")) and
       has("custom_id") and has("response") and has("error") and
       has("route"))' "$TMP/out"
check_eq "stdout: an error record means exit 1" "$rc" 1

llmr -p "$TMP/echo.pipeline" --progress "$TMP/mixed.jsonl" </dev/null
check_json "stdout: --progress leaves stdout to result lines" \
  'length == 5 and all(has("id") and has("custom_id"))' "$TMP/out"
check "stdout: --progress writes progress on stderr" test -s "$TMP/err"
llmr -p "$TMP/echo.pipeline" "$TMP/two.jsonl" </dev/null
check_eq "stderr: only the summary line by default when not a terminal" \
  "$(wc -l <"$TMP/err" | tr -d ' ') $(grep -c '^llmroute: [0-9]* requests\{0,1\} in ' "$TMP/err")" "1 1"
llmr -p "$TMP/echo.pipeline" --quiet "$TMP/two.jsonl" </dev/null
check_eq "stderr: --quiet" "$(wc -c <"$TMP/err" | tr -d ' ')" 0

# --- --resume: skip what already succeeded -----------------------------------

printf '{"custom_id":"r%s","prompt":"x"}\n' 1 2 3 >"$TMP/r.jsonl"
jq -nc '{id: "llmr-1", custom_id: "r1", error: null, route: {},
          response: {status_code: 200, body: {}}},
         {id: "llmr-2", custom_id: "r2", response: null, route: {},
          error: {code: "timeout", message: "t", stage: "call"}}' \
  >"$TMP/prev.jsonl"
llmr -p "$TMP/echo.pipeline" --resume "$TMP/prev.jsonl" "$TMP/r.jsonl" \
  </dev/null
check_eq "resume: exit 0" "$rc" 0
check_eq "resume: only requests without a success are run" \
  "$(jq -r .custom_id "$TMP/out" | sort | tr '\n' ' ')" "r2 r3 "

# --- HTTP through host->http (loopback only) ---------------------------------

tiny_start
pipeline http "http_get url=$TINY_URL/x append_id=true"
printf '{"custom_id":"h%s","prompt":"a"}\n' 1 2 3 4 5 >"$TMP/h.jsonl"
llmr -p "$TMP/http.pipeline" -j 5 "$TMP/h.jsonl" </dev/null
check_eq "http: exit 0" "$rc" 0
check_json "http: every job got its answer through the core" \
  'length == 5 and all(.route.http.status == 200 and
       .route.http.body == "hello /x/" + .custom_id)' "$TMP/out"

# A closed port: a server that binds, says its port and exits at once.
"$BUILD/tests/tools/tinyhttpd" --port-file "$TMP/closed.port" --count 0
closed=$(cat "$TMP/closed.port")
pipeline refused "http_get url=http://127.0.0.1:$closed/"
llmr -p "$TMP/refused.pipeline" "$TMP/h.jsonl" </dev/null
check_eq "http: refused connection: exit 1" "$rc" 1
check_json "http: refused connection: error records via the done callback" \
  'length == 5 and all(.error.code == "http_error")' "$TMP/out"

# A job cut off by its deadline while its transfer is running: the
# transfer is cancelled without calling the stage back (no second result,
# no crash), and the record says timeout.
tiny_start --delay 6000
pipeline slowhttp "set job_timeout=0.3
http_get url=$TINY_URL/slow"
printf '{"custom_id":"t%s","prompt":"a"}\n' 1 2 >"$TMP/t.jsonl"
t0=$(now)
llmr -p "$TMP/slowhttp.pipeline" "$TMP/t.jsonl" </dev/null
check_eq "http: deadline during a transfer: exit 1" "$rc" 1
check_json "http: deadline during a transfer: one timeout record each" \
  'length == 2 and all(.error.code == "timeout" and .response == null)' \
  "$TMP/out"
secs=$(elapsed "$t0")
if awk -v s="$secs" 'BEGIN { exit !(s < 5) }'; then
  pass "http: deadline during a transfer: no wait for the server (< 5 s)"
else
  fail "http: deadline during a transfer: no wait for the server (< 5 s)" \
    "took $secs s with a 6 s server delay"
fi

# SIGTERM while transfers run: interrupted records, exit 130.
pipeline slowhttp "http_get url=$TINY_URL/slow"
"$LLMROUTE" -p "$TMP/slowhttp.pipeline" "$TMP/t.jsonl" </dev/null \
  >"$TMP/out" 2>"$TMP/err" &
_pid=$!
sleep 0.5
kill -TERM "$_pid"
wait "$_pid"
check_eq "http: SIGTERM during transfers: exit 130" "$?" 130
check_json "http: SIGTERM during transfers: interrupted records" \
  'length == 2 and all(.error.code == "interrupted")' "$TMP/out"

finish
