# tests/bench/report_bench.sh - how long `llmroute report` takes over
# LINES (default 100,000) result lines of about 1.3 kB (an answer body, one
# to three attempts, tags, 3% errors, 2% of custom_ids written twice as a
# resumed run does): the table, every grouping as JSON, and the --html
# page; against `jq -c .` reading the same file.  The lines are
# generated, deterministic (a fixed LCG), never stored.
#
#   BUILD=build sh tests/bench/report_bench.sh
#   sh tests/bench/report_bench.sh --gen N     print N result lines

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
LINES=${LINES:-100000}

gen() {
  awk -v n="$1" 'BEGIN {
    split("chat coding extraction summarization classification", task, " ")
    split("m-nano m-mini m-large", model, " ")
    body = "This is the answer text of the mock model, long enough to " \
           "look like a real completion of a few sentences. "
    body = body body body body body
    seed = 4242
    for(i = 1; i <= n; i++) {
      seed = (seed * 16807) % 2147483647; r = seed % 1000
      cid = (r < 20 && i > 100) ? "c" (i - 50) : "c" i
      t = task[1 + seed % 5]
      na = r < 150 ? 2 : (r < 180 ? 3 : 1)
      err = r >= 970
      att = ""
      for(a = 1; a <= na; a++) {
        seed = (seed * 16807) % 2147483647
        att = att (a > 1 ? "," : "") "{\"model\":\"" model[a] "\"," \
          "\"provider\":\"p" a "\",\"status\":200,\"retries\":" \
          (seed % 50 == 0) ",\"latency_ms\":" (100 + seed % 2000) \
          ",\"usage\":{\"input_tokens\":" (200 + seed % 900) \
          ",\"output_tokens\":" (50 + seed % 300) ",\"cached_tokens\":0}," \
          "\"cost_usd\":0.000" (100 + seed % 800) ",\"valid\":" \
          (a < na ? "false" : "true") "}"
      }
      printf "{\"id\":\"llmr-%d\",\"custom_id\":\"%s\",", i, cid
      if(err)
        printf "\"response\":null,\"error\":{\"code\":\"%s\",\"message\":" \
          "\"x\",\"stage\":\"call\"},", r % 2 ? "timeout" : "provider_error"
      else
        printf "\"response\":{\"status_code\":200,\"body\":{\"id\":\"x%d\"," \
          "\"object\":\"chat.completion\",\"created\":1,\"model\":\"%s\"," \
          "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\"," \
          "\"content\":\"%s\"},\"finish_reason\":\"stop\"}]}},\"error\":null,",
          i, model[na], body
      printf "\"route\":{\"task\":\"%s\",\"complexity\":0.4,\"tier\":%d," \
        "\"model\":\"%s\",\"provider\":\"p%d\",\"tags\":[\"batch%d\"]," \
        "\"escalations\":%d,\"attempts\":[%s],\"cost_usd\":0.001," \
        "\"baseline_cost_usd\":0.01,\"baseline_basis\":\"actual\"}}\n",
        t, na, model[na], na, i % 4, na - 1, att
    }
  }'
}

if [ "$1" = "--gen" ]; then gen "$2"; exit; fi
if [ ! -x "$LLMROUTE" ]; then
  echo "build first: make BUILD=$BUILD" >&2; exit 1; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gen "$LINES" >"$tmp/res.jsonl"
bytes=$(wc -c <"$tmp/res.jsonl")
secs() { # secs CMD...: wall seconds of CMD (output discarded)
  s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
}
echo "report over $LINES result lines ($((bytes / 1048576)) MiB):"
echo "  table (task, model):          $(secs "$LLMROUTE" report \
  "$tmp/res.jsonl") s"
echo "  json, all five groupings:     $(secs "$LLMROUTE" report --json \
  --by task,model,provider,tag,code "$tmp/res.jsonl") s"
echo "  --html page:                  $(secs "$LLMROUTE" report --html \
  "$tmp/r.html" "$tmp/res.jsonl") s"
echo "  jq -c . (parsing alone):      $(secs jq -c . "$tmp/res.jsonl") s"
echo "reproduce: BUILD=$BUILD LINES=$LINES sh tests/bench/report_bench.sh"
