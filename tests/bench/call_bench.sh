#!/bin/sh
# tests/bench/call_bench.sh - the call stage against the loopback mock.
#
#  1. throughput: N requests (default 20000) at -j 512 with the mock
#     answering after 100 ms; ideal N / 512 * 0.1 s (3.9 s for 20000).
#  2. the shell way: the same requests with `xargs -P 64 curl`, one process
#     per request (CURL_N of them, default N); ideal CURL_N / 64 * 0.1 s.
#  3. router overhead: requests fed at RATE/s (default 5000) to a mock
#     answering at once; per request, the time from its line entering
#     llmroute's stdin to its result leaving stdout.  That includes the
#     loopback HTTP exchange and the mock's own work, so it is an upper
#     bound on the time spent inside llmroute; the mock's median answer
#     time over a kept-alive connection is measured too and printed.
#
#   BUILD=build sh tests/bench/call_bench.sh
#   N=20000 CURL_N=20000 RATE=5000 OVER_N=20000 J=512 BUILD=build \
#     sh tests/bench/call_bench.sh
#
# Prints one "name: value" line per figure; timings are not pass/fail.

BUILD=${BUILD:-build}
N=${N:-20000}
J=${J:-512}
CURL_N=${CURL_N:-$N}
RATE=${RATE:-5000}
OVER_N=${OVER_N:-20000}
LLMROUTE=$BUILD/bin/llmroute
MOCKPROV=$BUILD/tests/mockprov
FIX=tests/fixtures/call
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-bench.XXXXXX")
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

cd "$(dirname "$0")/../.." || exit 1
if [ ! -x "$LLMROUTE" ] || [ ! -x "$MOCKPROV" ]; then
  echo "call_bench: build first (make BUILD=$BUILD)" >&2
  exit 1
fi

# mock LATENCY_MS: start a mock, set URL
mock() {
  rm -f "$TMP/port"
  "$MOCKPROV" --port 0 --port-file "$TMP/port" --latency-ms "$1" \
    2>>"$TMP/mock.err" &
  pids="$pids $!"
  MPID=$!
  i=0
  while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1))
  done
  URL=http://127.0.0.1:$(cat "$TMP/port")
}

now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

export LLMR_TEST_OA_KEY=sk-bench-not-a-key
seq 1 "$N" | awk '{ printf "{\"custom_id\":\"b%d\",\"body\":{\"model\":\"m-openai\",\"messages\":[{\"role\":\"user\",\"content\":\"bench request %d\"}]}}\n", $1, $1 }' \
  >"$TMP/in.jsonl"

echo "machine: $(nproc) CPUs, $(uname -sr)"

# --- 1. llmroute -j 512, mock latency 100 ms ------------------------------
mock 100
export LLMROUTE_OA_BASE_URL=$URL/v1
t0=$(now)
"$LLMROUTE" -p "$FIX/call.pipeline" -j "$J" <"$TMP/in.jsonl" \
  >"$TMP/out.jsonl" 2>"$TMP/err"
rc=$?
t1=$(now)
ok=$(grep -c '"error":null' "$TMP/out.jsonl")
ideal=$(echo "$N $J" | awk '{ printf "%.2f", $1 / $2 * 0.1 }')
took=$(secs "$t0" "$t1")
echo "llmroute_requests: $N (-j $J, mock latency 100 ms), exit $rc, ok $ok"
echo "llmroute_seconds: $took (ideal $ideal, ratio $(echo "$took $ideal" |
  awk '{ printf "%.2f", $1 / $2 }'))"
echo "llmroute_req_per_s: $(echo "$N $took" | awk '{ printf "%.0f", $1/$2 }')"
echo "mock_stats: $(curl -s "$URL/_stats" | jq -c '{requests,max_active,
  connections_total}')"

# --- 2. xargs -P 64 curl, same mock -------------------------------------------
head -n "$CURL_N" "$TMP/in.jsonl" | jq -c '.body | .model = "gpt-test"' \
  >"$TMP/bodies.jsonl"
t0=$(now)
tr '\n' '\0' <"$TMP/bodies.jsonl" |
  xargs -0 -P 64 -n 1 curl -s -o /dev/null -w '%{http_code}\n' \
    -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $LLMR_TEST_OA_KEY" \
    "$URL/v1/chat/completions" -d >"$TMP/curl.codes"
t1=$(now)
cok=$(grep -c '^200$' "$TMP/curl.codes")
cideal=$(echo "$CURL_N" | awk '{ printf "%.2f", $1 / 64 * 0.1 }')
ctook=$(secs "$t0" "$t1")
echo "xargs_curl_requests: $CURL_N (-P 64), ok $cok"
echo "xargs_curl_seconds: $ctook (ideal $cideal, ratio $(echo "$ctook $cideal" |
  awk '{ printf "%.2f", $1 / $2 }'))"
echo "xargs_curl_req_per_s: $(echo "$CURL_N $ctook" |
  awk '{ printf "%.0f", $1/$2 }')"
kill "$MPID" 2>/dev/null

# --- 3. router overhead at RATE requests/s, mock answering at once ---------
if ! command -v python3 >/dev/null 2>&1; then
  echo "overhead: skipped (needs python3 for the paced feeder)"
  exit 0
fi
mock 0
export LLMROUTE_OA_BASE_URL=$URL/v1
# three processes, so the feeder and the reader do not slow each other:
# the feeder paces lines and logs when each went in, the reader logs when
# each result came out (CLOCK_MONOTONIC is shared between processes).
cat >"$TMP/feed.py" <<'EOF'
import sys, time
n, rate, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
out, sent = sys.stdout.buffer, []
start = time.monotonic()
for i in range(n):
    due = start + i / rate
    while True:
        d = due - time.monotonic()
        if d <= 0:
            break
        time.sleep(min(d, 0.0005))
    out.write(b'{"custom_id":"o%d","body":{"model":"m-openai","messages":'
              b'[{"role":"user","content":"overhead %d"}]}}\n' % (i, i))
    out.flush()
    sent.append(time.monotonic_ns())
with open(log, "w") as f:
    f.write("%d\n" % int((time.monotonic() - start) * 1e6))
    f.write("\n".join(str(t) for t in sent))
EOF
cat >"$TMP/recv.py" <<'EOF'
import sys, time
got, errors = {}, 0
for line in sys.stdin.buffer:
    t = time.monotonic_ns()
    k = line.find(b'"custom_id":"o') + 14
    got[int(line[k:line.index(b'"', k)])] = t
    if b'"error":null' not in line:
        errors += 1
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % errors)
    f.write("\n".join("%d %d" % kv for kv in got.items()))
EOF
cat >"$TMP/stats.py" <<'EOF'
import sys, json, http.client, time, urllib.parse
sent = open(sys.argv[1]).read().split("\n")
feed_us, sent = int(sent[0]), [int(x) for x in sent[1:]]
recv = open(sys.argv[2]).read().split("\n")
errors, lat = int(recv[0]), []
for l in recv[1:]:
    if l:
        i, t = l.split()
        lat.append((int(t) - sent[int(i)]) / 1e3)
lat.sort()
def pct(q):
    return lat[min(len(lat) - 1, int(q * len(lat)))]
u = urllib.parse.urlparse(sys.argv[3])
c = http.client.HTTPConnection(u.hostname, u.port)
body = json.dumps({"model": "gpt-test", "messages":
                   [{"role": "user", "content": "overhead probe"}]})
m = []
for i in range(2000):
    t = time.perf_counter()
    c.request("POST", "/v1/chat/completions", body,
              {"Content-Type": "application/json"})
    c.getresponse().read()
    m.append((time.perf_counter() - t) * 1e6)
m.sort()
print("overhead_requests: %d at %s/s offered, fed in %.2f s, %d errors"
      % (len(lat), sys.argv[4], feed_us / 1e6, errors))
print("overhead_e2e_us: p50 %.0f p90 %.0f p99 %.0f max %.0f"
      % (pct(0.5), pct(0.9), pct(0.99), lat[-1]))
print("mock_alone_us: p50 %.0f p99 %.0f (python client, kept-alive)"
      % (m[len(m) // 2], m[int(0.99 * len(m))]))
EOF
python3 "$TMP/feed.py" "$OVER_N" "$RATE" "$TMP/sent" |
  "$LLMROUTE" -p "$FIX/call.pipeline" -j "$J" 2>/dev/null |
  python3 "$TMP/recv.py" "$TMP/recv"
python3 "$TMP/stats.py" "$TMP/sent" "$TMP/recv" "$URL" "$RATE"
