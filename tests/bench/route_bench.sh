# tests/bench/route_bench.sh - classify + price + route (the audit
# pipeline) over N requests (default 200,000), in requests per second,
# compared in the same run with jq doing a rules-only rewrite of the same
# file (keyword task rules + a task -> model map, nothing priced).
#
#   BUILD=build sh tests/bench/route_bench.sh [N]
#   sh tests/bench/route_bench.sh --gen N MAXLEN   print the N input lines
#                                  (lines under MAXLEN bytes; route_profile)
#
# The input is pipelines/examples/prompts.jsonl repeated with fresh
# custom_ids (~880 bytes a line: it holds long documents to summarise),
# then the same with only its lines under 600 bytes (typical short chat
# requests).  llmroute runs REPS times (default 3) and the fastest run is
# printed after them; jq, about 80 s a run, runs once.  Wall time and CPU
# time (user+sys, from /usr/bin/time when present: on a busy machine it
# is the steadier figure) are printed.
# Prints figures only: timings are not pass/fail tests.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
EX=pipelines/examples/prompts.jsonl

# repeat FILE MAXLEN PREFIX: N lines of FILE's lines shorter than MAXLEN
# bytes, cycled, with fresh custom_ids.
repeat() {
  awk -v n="$N" -v max="$2" -v p="$3" '
    length($0) < max { line[++k] = $0 }
    END {
      for(i = 0; i < n; i++) {
        s = line[i % k + 1]
        sub(/"custom_id":"[^"]*"/, "\"custom_id\":\"" p i "\"", s)
        print s
      }
    }' "$1"
}

if [ "${1:-}" = "--gen" ]; then
  N=$2
  repeat "$EX" "$3" p
  exit 0
fi

N=${1:-${BENCH_N:-200000}}
REPS=${REPS:-3} # llmroute runs per input; the best is printed too (a
                # shared machine's speed wanders by 10-40% run to run)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$LLMROUTE" ]; then
  echo "route_bench: $LLMROUTE not built (make BUILD=$BUILD)" >&2
  exit 1
fi
TIME=
[ -x /usr/bin/time ] && TIME=/usr/bin/time

# run NAME OUT CMD...: time one command; requests/s by wall time and per
# CPU-second.
run() {
  _name=$1 _out=$2
  shift 2
  _t0=$(date +%s.%N)
  if [ -n "$TIME" ]; then
    $TIME -f "%U %S" -o "$TMP/time" "$@" >"$_out" 2>"$TMP/err"
  else
    "$@" >"$_out" 2>"$TMP/err"
    echo "0 0" >"$TMP/time"
  fi
  _rc=$?
  _t1=$(date +%s.%N)
  _lines=$(wc -l <"$_out" | tr -d ' ')
  awk -v name="$_name" -v n="$N" -v a="$_t0" -v b="$_t1" -v rc="$_rc" \
      -v lines="$_lines" '
    { cpu = $1 + $2 }
    END {
      wall = b - a
      printf "%-42s %6.2f s wall %7.0f req/s", name, wall, n / wall
      if(cpu > 0)
        printf " | %6.2f s CPU %7.0f req/s", cpu, n / cpu
      printf "  [exit %d, %d lines]\n", rc, lines
      printf "%f %f\n", wall, cpu >>walls
    }' walls="$TMP/walls" "$TMP/time"
}

cat >"$TMP/rules.jq" <<'JQ'
([.body.messages[]?.content | strings] | join("\n")) as $t
| (if   $t | test("^\\s*translate\\b"; "i") then "translation"
   elif $t | test("^\\s*(summari[sz]e|tl;?dr|condense)"; "i")
     then "summarization"
   elif $t | test("\\b(extract|parse|pull out)\\b"; "i") then "extraction"
   elif $t | test("\\b(classify|categori[sz]e|label|sentiment|spam)\\b"; "i")
     then "classification"
   elif $t | test("```|\\b(python|sql|rust|golang|java|typescript|bash)\\b";
                  "i")
     then "coding"
   elif $t | test("\\b(solve|prove|integral|derivative|probability)\\b"; "i")
     then "math"
   elif $t | test("\\b(step by step|plan|analy[sz]e|trade-?offs?)\\b"; "i")
     then "multi_step_reasoning"
   elif $t | test("\\b(write|compose|poem|story|haiku|lyrics|toast)\\b"; "i")
     then "creative_generation"
   else "chat" end) as $task
| .routing.task = $task
| .body.model = ({"coding": "deepseek-chat", "math": "deepseek-chat",
                  "multi_step_reasoning": "deepseek-chat",
                  "creative_generation": "deepseek-chat"}[$task]
                 // "llama-3.1-8b")
JQ

# best NAME: the fastest of the runs logged since the last call.
best() {
  awk -v name="$1" -v n="$N" '
    NR == 1 || $1 < w { w = $1; c = $2 }
    END {
      printf "%-42s %6.2f s wall %7.0f req/s | %6.2f s CPU %7.0f req/s\n",
             name, w, n / w, c, (c > 0 ? n / c : 0)
    }' "$TMP/walls"
  : >"$TMP/walls"
}

bench() {
  echo "input: $N requests, $(wc -c <"$1" | tr -d ' ') bytes," \
    "$(nproc 2>/dev/null || echo ?) CPUs; llmroute runs $REPS times"
  : >"$TMP/walls"
  i=0
  while [ $i -lt "$REPS" ]; do
    run "llmroute -p audit (classify+price+route)" "$TMP/plan.jsonl" \
      "$LLMROUTE" -p audit "$1"
    i=$((i + 1))
  done
  best "best: llmroute -p audit"
  i=0
  while [ $i -lt "$REPS" ]; do
    run "llmroute -p audit --keep-order" "$TMP/plan2.jsonl" \
      "$LLMROUTE" -p audit --keep-order "$1"
    i=$((i + 1))
  done
  best "best: llmroute -p audit --keep-order"
  run "jq rules-only rewrite (task + model map)" "$TMP/jq.jsonl" \
    jq -c -f "$TMP/rules.jq" "$1"
}

repeat "$EX" 1000000 b >"$TMP/in.jsonl"
echo "== the example workload, repeated"
bench "$TMP/in.jsonl"
repeat "$EX" 600 s >"$TMP/short.jsonl"
echo "== its short requests only (lines under 600 bytes), repeated"
bench "$TMP/short.jsonl"
echo "reproduce: make BUILD=$BUILD && BUILD=$BUILD sh tests/bench/route_bench.sh $N"
