# tests/bench/passthrough.sh - throughput and memory of the runner itself:
# a pass-through pipeline (`jq program=.`) over LINES (default 200,000)
# OpenAI-Batch lines of about 800 bytes, against `jq -c .` on the same
# file; the same lines without "custom_id" (each gets a generated one: a
# hash of the line, and a set of those seen to tell repeats apart); then
# the peak resident memory of MEM_LINES (default 1,000,000) lines, with
# and without custom_id, streamed through the same pipeline; then the
# instructions a line (callgrind) over PROFILE_LINES (default 20,000).
# The input is generated, deterministic (a fixed LCG), never stored in
# the repository.
#
#   BUILD=build sh tests/bench/passthrough.sh
#   sh tests/bench/passthrough.sh --gen N     print N input lines

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
LINES=${LINES:-200000}
MEM_LINES=${MEM_LINES:-1000000}

# gen N: N batch lines of about 800 bytes, the same every time.
gen() {
  awk -v n="$1" 'BEGIN {
    split("the of and to in is that for it as with was on be by this " \
          "are from at or an have not which but can all were when we " \
          "there your more one has their been if would will about also " \
          "invoice total amount customer order shipping address refund " \
          "please summarize extract translate classify following text " \
          "json schema field value date number name email product " \
          "quantity price delivery status account balance support ticket",
          w, " ")
    nw = 0; for(k in w) nw++
    seed = 12345
    # 997 system and 1009 user texts, combined by line number
    for(k = 0; k < 997; k++) {
      t = ""
      while(length(t) < 120) {
        seed = (seed * 16807) % 2147483647
        t = t (t == "" ? "" : " ") w[1 + seed % nw]
      }
      sys[k] = t
    }
    for(k = 0; k < 1009; k++) {
      t = ""
      while(length(t) < 470) {
        seed = (seed * 16807) % 2147483647
        t = t (t == "" ? "" : " ") w[1 + seed % nw]
      }
      usr[k] = t
    }
    for(i = 1; i <= n; i++)
      printf "{\"custom_id\":\"req-%07d\",\"method\":\"POST\"," \
             "\"url\":\"/v1/chat/completions\",\"body\":{\"model\":" \
             "\"auto\",\"max_tokens\":%d,\"temperature\":0.2," \
             "\"messages\":[{\"role\":\"system\",\"content\":\"%s\"}," \
             "{\"role\":\"user\",\"content\":\"%s\"}]}}\n",
             i, 64 + i % 512, sys[i % 997], usr[i % 1009]
  }'
}

if [ "${1:-}" = "--gen" ]; then
  gen "${2:-$LINES}"
  exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
printf 'jq program=.\n' >"$TMP/pass.pipeline"

# seconds CMD...: run CMD (stdout to /dev/null), print its wall seconds.
seconds() {
  _t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; echo 0; return 1; }
  _t1=$(date +%s.%N)
  echo "$_t0 $_t1" | awk '{ printf "%.3f", $2 - $1 }'
}

gen "$LINES" >"$TMP/in.jsonl"
bytes=$(wc -c <"$TMP/in.jsonl")
echo "passthrough: $LINES lines, $((bytes / LINES)) bytes a line on average"

# best of 3 for each
best() { sort -n | head -n 1; }
lt=$(for i in 1 2 3; do
       seconds "$LLMROUTE" -p "$TMP/pass.pipeline" "$TMP/in.jsonl"; echo
     done | best)
jt=$(for i in 1 2 3; do seconds jq -c . "$TMP/in.jsonl"; echo; done | best)
noid() { sed 's/^{"custom_id":"req-[0-9]*",/{/'; }
noid <"$TMP/in.jsonl" >"$TMP/noid.jsonl"
nt=$(for i in 1 2 3; do
       seconds "$LLMROUTE" -p "$TMP/pass.pipeline" "$TMP/noid.jsonl"; echo
     done | best)
"$LLMROUTE" -p "$TMP/pass.pipeline" "$TMP/in.jsonl" 2>/dev/null |
  head -n 1 | cut -c 1-120 >"$TMP/first"
awk -v n="$LINES" -v lt="$lt" -v jt="$jt" 'BEGIN {
  printf "passthrough: llmroute -p (jq program=.): %.3f s, %.0f lines/s\n",
         lt, n / lt
  printf "passthrough: jq -c .:                   %.3f s, %.0f lines/s\n",
         jt, n / jt
  printf "passthrough: llmroute / jq speed ratio: %.2fx\n", jt / lt
}'
awk -v n="$LINES" -v nt="$nt" 'BEGIN {
  printf "passthrough: no custom_id (generated h-HASH ids): %.3f s, " \
         "%.0f lines/s\n", nt, n / nt
}'
echo "passthrough: first result line starts: $(cat "$TMP/first")"

# peak_rss FILTER: peak RSS in kB of MEM_LINES lines from the generator,
# through FILTER (cat, noid), streamed (never stored).  GNU time when
# present, else the last VmHWM read from /proc while it runs.
peak_rss() {
  if [ -x /usr/bin/time ] &&
     /usr/bin/time -f %M true >/dev/null 2>&1; then
    gen "$MEM_LINES" | $1 | /usr/bin/time -f '%M' -o "$TMP/rss" \
      "$LLMROUTE" -p "$TMP/pass.pipeline" >/dev/null 2>"$TMP/err"
    kb=$(tail -n 1 "$TMP/rss")
    how="GNU time %M"
  else
    gen "$MEM_LINES" | $1 | "$LLMROUTE" -p "$TMP/pass.pipeline" \
      >/dev/null 2>"$TMP/err" &
    pid=$!
    kb=0
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
      [ -n "$v" ] && kb=$v
      sleep 0.2
    done
    wait "$pid"
    how="VmHWM polled from /proc"
  fi
}
peak_rss cat
echo "passthrough: peak RSS for $MEM_LINES lines: $kb kB" \
     "($((kb / 1024)) MB; $how)"
peak_rss noid
echo "passthrough: peak RSS for $MEM_LINES lines without custom_id:" \
     "$kb kB ($((kb / 1024)) MB; $how)"
# instructions a line (callgrind: steady on a shared machine, where the
# rates above wander), over PROFILE_LINES lines with custom_id
PROFILE_LINES=${PROFILE_LINES:-20000}
if command -v valgrind >/dev/null; then
  gen "$PROFILE_LINES" >"$TMP/prof.jsonl"
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
    "$LLMROUTE" -q -p "$TMP/pass.pipeline" "$TMP/prof.jsonl" \
    >/dev/null 2>"$TMP/vg.err"
  ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$TMP/vg.err")
  echo "passthrough: instructions for $PROFILE_LINES lines: $ir," \
       "$((ir / PROFILE_LINES)) a line (start-up included)"
else
  echo "passthrough: valgrind not installed: no instruction count"
fi
echo "passthrough: reproduce: BUILD=$BUILD sh tests/bench/passthrough.sh" \
     "(LINES=, MEM_LINES=, PROFILE_LINES= to vary)"
