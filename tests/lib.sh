# tests/lib.sh - helpers for shell tests (tests/cli/*.sh), sourced by them.
# Run by tests/run.sh from the source root with BUILD set (default build).
# Every check prints "PASS: name" or "FAIL: name: why"; run.sh counts them.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
MOCKPROV=$BUILD/tests/mockprov
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-test.XXXXXX")
_mock_pids=""
trap 'for p in $_mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
failures=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failures=$((failures + 1)); }
# skip NAME WHY: a check that could not run here (a missing tool); counted
# apart by run.sh, never as a pass.
skip() { echo "SKIP: $1: $2"; }

# check NAME COMMAND...: passes when the command exits 0.
check() {
  _n=$1; shift
  if "$@" >"$TMP/check.out" 2>&1; then pass "$_n"
  else fail "$_n" "command failed: $* ($(head -c 300 "$TMP/check.out"))"; fi
}

# check_eq NAME GOT WANT
check_eq() {
  if [ "$2" = "$3" ]; then pass "$1"
  else fail "$1" "got '$2', want '$3'"; fi
}

# check_grep NAME PATTERN FILE: FILE has a line matching the ERE.
check_grep() {
  if grep -Eq -- "$2" "$3"; then pass "$1"
  else fail "$1" "no line matching '$2' in: $(head -c 300 "$3")"; fi
}

# check_nogrep NAME PATTERN FILE: no line of FILE matches.
check_nogrep() {
  if grep -Eq -- "$2" "$3"; then fail "$1" "unexpected '$2' in $3"
  else pass "$1"; fi
}

# check_json NAME JQ_BOOLEAN_EXPR FILE: jq -e over the whole file (slurped).
check_json() {
  if jq -e -s "$2" "$3" >/dev/null 2>&1; then pass "$1"
  else fail "$1" "jq '$2' false on: $(head -c 400 "$3")"; fi
}

# tier_catalog KEYVAR [MODEL...]: a catalog (on stdout) of provider
# "mock" at $MOCK_URL, its key in the variable KEYVAR, and the MODELs
# (default cheap-1 mid-2 top-3), each of the tier its name ends with,
# priced so costs are easy to check: input 1/10/100 and output 2/20/200
# USD per million tokens for tiers 1/2/3.
tier_catalog() {
  _key=$1; shift
  [ $# -gt 0 ] || set -- cheap-1 mid-2 top-3
  printf '{"providers":{"mock":{"format":"openai","base_url":"%s/v1",\n' \
    "$MOCK_URL"
  printf '                      "api_key_env":"%s"}},\n "models":{' "$_key"
  _sep=
  for _m in "$@"; do
    _t=${_m##*-}
    _in=$(awk -v t="$_t" 'BEGIN { print 10 ^ (t - 1) }')
    printf '%s\n  "%s":{"tier":%s,"input_usd_per_mtok":%s,' "$_sep" "$_m" \
      "$_t" "$_in"
    printf '"output_usd_per_mtok":%s,\n' "$((_in * 2))"
    printf '    "context_tokens":100000,"max_output_tokens":1000,\n'
    printf '    "deployments":[{"provider":"mock","model":"%s"}]}' "$_m"
    _sep=,
  done
  printf '}}\n'
}

# mock_start [ARGS...]: start tests/mockprov on a free loopback port;
# sets MOCK_PORT and MOCK_URL (http://127.0.0.1:PORT).
mock_start() {
  rm -f "$TMP/mock.port"
  "$MOCKPROV" --port 0 --port-file "$TMP/mock.port" "$@" \
    2>>"$TMP/mock.err" &
  _mock_pids="$_mock_pids $!"
  _i=0
  while [ ! -s "$TMP/mock.port" ] && [ $_i -lt 100 ]; do
    sleep 0.05; _i=$((_i + 1)); done
  MOCK_PORT=$(cat "$TMP/mock.port" 2>/dev/null)
  MOCK_URL=http://127.0.0.1:$MOCK_PORT
}

# finish: exit status of the script.
finish() { [ "$failures" -eq 0 ]; }

# tiny_start [ARGS...]: start tests/tools/tinyhttpd on a free loopback
# port (answers "hello PATH"; ARGS e.g. --delay MS); sets TINY_URL
# (http://127.0.0.1:PORT).
tiny_start() {
  rm -f "$TMP/tiny.port"
  "$BUILD/tests/tools/tinyhttpd" --port-file "$TMP/tiny.port" "$@" \
    2>>"$TMP/tiny.err" &
  _mock_pids="$_mock_pids $!"
  _i=0
  while [ ! -s "$TMP/tiny.port" ] && [ $_i -lt 100 ]; do
    sleep 0.05; _i=$((_i + 1)); done
  TINY_URL=http://127.0.0.1:$(cat "$TMP/tiny.port" 2>/dev/null)
}

# pipeline NAME TEXT: write TEXT to $TMP/NAME.pipeline.
pipeline() { printf '%s\n' "$2" >"$TMP/$1.pipeline"; }

# llmr ARGS... <input: run the runner; stdout in $TMP/out, stderr in
# $TMP/err, exit status in $rc, and in $stdin_pos how many bytes of
# stdin it consumed (stdin must be a regular file: its offset is shared).
llmr() {
  "$LLMROUTE" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  stdin_pos=$(awk '/^pos:/ { print $2 }' /proc/$$/fdinfo/0 2>/dev/null)
}

# now: seconds since the epoch with a fraction.
now() { date +%s.%N; }

# elapsed START: seconds since START (from now) with 3 decimals.
elapsed() { echo "$1 $(now)" | awk '{ printf "%.3f", $2 - $1 }'; }
