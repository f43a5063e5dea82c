# tests/cli/soak.sh - a fault soak: thousands of requests, over a third
# of them carrying every fault the mock provider offers, through the
# three wire formats at -j 128; then a kill -9 mid-run and a --resume.
#
# The input is generated from a fixed seed (a Park-Miller generator in
# jq, so every machine gets the same lines): SOAK_N request lines
# (default 3000, a few blank lines between them), about 3% malformed
# (not JSON, not an object, cut JSON, no messages, messages not an
# array), about 40% faulty, the rest clean.  A faulty request carries a
# [[mock {...}]] directive (tests/mockprov/mockprov.c) of one of these
# kinds, aimed either at every model ("all") or only at the first
# deployment of the model it starts on ("first"), or scripted to fail
# once and then answer ("seq"):
#   statuses  429 + retry-after, 500, 502, 503 (SDK back-off), 529, 400,
#             401, 404, 429 insufficient_quota, 400 context_length_exceeded
#   transport hang (past the call timeout), hang_ms (closed unanswered),
#             reset, truncate true and "json", garbage, html 502, slow
#             trickle (past the timeout), fast trickle, big bodies under
#             and over max_body, an error inside a 200
#   answers   a refusal and finish_reason length (validate refuses them),
#             usage of 1e308 tokens, negative counts
# The catalog (written here, every provider on the mock) has three tiers
# and two or three deployments a model, on openai, anthropic and gemini
# providers, so fallback and escalation both happen.
#
# Three runs at once, each on its own mock.  Run A: the shipped
# default's shape (classify, price, route, call on_failure=next,
# validate, escalate) with a breaker.  Run B: a plain call pipeline on
# pinned models, no breaker.  The kill round: run A's pipeline on a mock
# with 50 ms of latency, kill -9 once 500 results are written, then
# --resume over that partial output.  Over A, B and the resumed run it
# asserts: one result per input line by custom_id (none lost, none
# twice), every line JSON with exactly one of response/error, every
# error with a code and a message, route.cost_usd = the sum of
# route.attempts[].cost_usd (to 1e-9, relative beyond $1), no cost
# negative or non-finite, no usage count negative (the attempts' and
# the answer's), the mock's requests = the attempts' sends request by
# request (see sends() for the one exception), every request without a
# fault answered, the outcome each fault class must have (below), exit
# status 1, no internal_error, no key in any output, no sanitizer
# report.  Over the kill round: every request that can succeed has
# exactly one success over the two files, nothing answered before the
# kill is sent again (the mock's log), and the requests sent but not
# written, and those paid twice, are at most -j.
#
# Outcomes: clean, "seq" and harmless kinds (fast trickle, a big body
# under max_body, absurd usage) succeed everywhere; a fault on "first"
# succeeds through fallback or escalation, but a 400 or a context error
# stops a plain call, and from tier 3 escalation has nowhere to go (the
# breaker may still steer such a request past its faulty deployment:
# either outcome); "all" fails, except a refusal or a length cut, which
# only validate refuses.
#
# Timing: about 30 s (the kill round is the longest), about 2 min with
# the sanitizer build.  Run: BUILD=build sh tests/cli/soak.sh
. tests/lib.sh
# the ids below are worked out from line numbers (tests/cli/ids.sh tests
# the default h-HASH ones)
export LLMROUTE_CUSTOM_IDS=line

N=${SOAK_N:-3000}
SEED=20240611
J=128
KOA=sk-soak-oa-7c2e91d04b5a
KOA2=sk-soak-oa2-1f8a3b6c9d20
KAN=sk-soak-an-e40b7a2259c1
KGE=sk-soak-ge-93d15c07aa48
export SOAK_OA_KEY=$KOA SOAK_OA2_KEY=$KOA2 SOAK_AN_KEY=$KAN \
  SOAK_GE_KEY=$KGE

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail soak_built "$MOCKPROV or $LLMROUTE missing (make BUILD=$BUILD)"
  finish; exit
fi
T0=$(now)

# --- the input: $TMP/a.in (routed), $TMP/b.in (pinned), $TMP/exp.jsonl --
# exp.jsonl: one record a request line: cid (the custom_id its result
# must carry), cat (clean, fault, malformed), kind, target, start (the
# model it starts on), a and b (ok, err: the outcome each run must have).
jq -nr --argjson n "$N" --argjson seed "$SEED" '
def rnd: (. * 16807) % 2147483647;
def first_dep: {"t1-oa":"gpt-t1","t1-an":"claude-t1","t1-ge":"gemini-t1",
                "t2-a":"claude-t2","t2-b":"gemini-t2","t3":"gpt-t3"};
def task_of: {"t1-oa":"chat","t1-an":"extraction","t1-ge":"summarization",
              "t2-a":"translation","t2-b":"coding","t3":"math"};
def tier_of: {"t1-oa":1,"t1-an":1,"t1-ge":1,"t2-a":2,"t2-b":2,"t3":3};
# c: retry (retried, then given up), next (not retried: the next
# deployment), stop (a 400: no other deployment), ctx (context error),
# invalid (answered, refused by validate), fine (harmless), seq (fails
# once, then answers); only: the one target it is aimed with.
def kinds: [
  {k:"429",c:"retry",d:{status:429,retry_after:0.1}},
  {k:"500",c:"retry",d:{status:500,retry_after_ms:20}},
  {k:"502",c:"retry",d:{status:502,retry_after_ms:20}},
  {k:"503",c:"retry",d:{status:503}},
  {k:"529",c:"retry",d:{status:529,retry_after_ms:20}},
  {k:"hang",c:"retry",only:"first",d:{hang:true}},
  {k:"hang_ms",c:"retry",d:{hang:true,hang_ms:150}},
  {k:"reset",c:"retry",d:{reset:true}},
  {k:"truncate",c:"retry",d:{truncate:true}},
  {k:"truncate_json",c:"retry",d:{truncate:"json",retry_after_ms:20}},
  {k:"garbage",c:"retry",d:{garbage:true,retry_after_ms:20}},
  {k:"html",c:"retry",d:{html:true,status:502,retry_after_ms:20}},
  {k:"error_in_200",c:"retry",d:{error_in_200:true,retry_after_ms:20}},
  {k:"trickle_slow",c:"retry",only:"first",
   d:{trickle_ms:200,trickle_bytes:8}},
  {k:"401",c:"next",d:{status:401}},
  {k:"404",c:"next",d:{status:404}},
  {k:"quota",c:"next",d:{status:429,error_code:"insufficient_quota"}},
  {k:"big_over",c:"next",d:{big:400000}},
  {k:"400",c:"stop",d:{status:400}},
  {k:"context",c:"ctx",d:{status:400,error_code:"context_length_exceeded"}},
  {k:"refusal",c:"invalid",
   d:{answer:"I am sorry, but I cannot help with that."}},
  {k:"length",c:"invalid",d:{finish_reason:"length"}},
  {k:"trickle_fast",c:"fine",only:"all",d:{trickle_ms:2,trickle_bytes:64}},
  {k:"big_ok",c:"fine",only:"all",d:{big:60000}},
  {k:"usage_huge",c:"fine",only:"all",d:{usage:{
     prompt_tokens:1e308,completion_tokens:1e308,total_tokens:1e308,
     input_tokens:1e308,output_tokens:1e308,
     promptTokenCount:1e308,candidatesTokenCount:1e308,
     totalTokenCount:1e308}}},
  {k:"usage_negative",c:"fine",only:"all",d:{usage:{
     prompt_tokens:-3,completion_tokens:-5,total_tokens:-8,
     prompt_tokens_details:{cached_tokens:-7},
     input_tokens:-3,output_tokens:-5,cache_read_input_tokens:-4,
     promptTokenCount:-3,candidatesTokenCount:-5,totalTokenCount:-8,
     cachedContentTokenCount:-2}}},
  {k:"seq_429",c:"seq",d:{status:429,retry_after:0.1}},
  {k:"seq_500",c:"seq",d:{status:500,retry_after_ms:20}},
  {k:"seq_503",c:"seq",d:{status:503,retry_after_ms:30}},
  {k:"seq_529",c:"seq",d:{status:529}},
  {k:"seq_reset",c:"seq",d:{reset:true}},
  {k:"seq_hang_ms",c:"seq",d:{hang:true,hang_ms:100}},
  {k:"seq_truncate",c:"seq",d:{truncate:true}},
  {k:"seq_garbage",c:"seq",d:{garbage:true,retry_after_ms:20}},
  {k:"seq_error_in_200",c:"seq",d:{error_in_200:true,retry_after_ms:20}}
];
def models: ["t1-oa","t1-an","t1-ge","t2-a","t2-b","t3"];
def words: ["please","summarise","the","quarterly","note","on","supplier",
            "invoices","and","list","open","questions","for","review"];
kinds as $K
| foreach range(1; $n + 1) as $i ({x: $seed, line: 0};
    .x |= rnd | .r1 = .x | .x |= rnd | .r2 = .x | .x |= rnd
    | .r3 = .x | .x |= rnd | .r4 = .x | .x |= rnd | .r5 = .x
    | .blank = ($i % 700 == 0)
    | .line += (if .blank then 2 else 1 end);
  . as $s
  | ("s" + ($i | tostring | ("0000" + .)[-5:])) as $cid
  | ($s.r1 % 1000) as $u
  | ($s.r4 % 100 | if . < 25 then 0 elif . < 50 then 1 elif . < 75 then 2
      elif . < 83 then 3 elif . < 91 then 4 else 5 end) as $mi
  | models[$mi] as $m
  | ([range(0; 3 + $s.r5 % 9)] | map(words[($s.r5 / (. + 1) | floor)
      % (words | length)]) | join(" ")) as $filler
  | (if $s.blank then "A\t\nB\t" else empty end),
    (if $u < 30 then
      # malformed: the result carries the custom_id when it can be read
      ($s.r2 % 6) as $w
      | (if $w == 0 then ["this line is not JSON \($i)", "line-\($s.line)"]
         elif $w == 1 then ["[\($i),\"not an object\"]", "line-\($s.line)"]
         elif $w == 2 then ["\"a string \($i)\"", "line-\($s.line)"]
         elif $w == 3 then [{custom_id:$cid,body:{max_tokens:5}}|tojson, $cid]
         elif $w == 4 then [{custom_id:$cid,body:{messages:"not an array"}}
                            |tojson, $cid]
         else ["{\"custom_id\":\"\($cid)\",\"body\":{\"messages\":[",
               "line-\($s.line)"] end) as $ml
      | "A\t\($ml[0])", "B\t\($ml[0])",
        "E\t\({cid:$ml[1],cat:"malformed",kind:"m\($w)",a:"err",b:"err"}
              |tojson)"
    else
      (if $u < 410 then $K[$s.r2 % ($K | length)] else null end) as $k
      | (if $k == null then null
         elif $k.only then $k.only
         elif $k.c == "seq" then "seq"
         elif $s.r3 % 2 == 0 then "first" else "all" end) as $target
      | (if $k == null then null
         elif $target == "seq" then {n:$cid, seq:[$k.d, {}]}
         elif $target == "first" then
           {n:$cid, by_model:{(first_dep[$m]):$k.d}}
         else {n:$cid} + $k.d end) as $dir
      | (if $k == null then ["ok","ok"]
         elif $k.c == "fine" or $k.c == "seq" then ["ok","ok"]
         elif $k.c == "invalid" then
           [(if $target == "all" then "err" elif tier_of[$m] < 3 then "ok"
             else "any" end), "ok"]
         elif $target == "all" then ["err","err"]
         elif $k.c == "stop" or $k.c == "ctx" then
           [(if tier_of[$m] < 3 then "ok" else "any" end), "err"]
         else ["ok","ok"] end) as $x
      | ("id=\($cid) \($filler)" + (if $dir then " [[mock \($dir|tojson)]]"
          else "" end)) as $text
      | {role:"user",content:$text} as $msg
      | "A\t\({custom_id:$cid,body:{messages:[$msg],max_tokens:64},
               routing:{task:task_of[$m]}}|tojson)",
        "B\t\({custom_id:$cid,body:{model:$m,messages:[$msg],max_tokens:64}}
              |tojson)",
        "E\t\({cid:$cid,cat:(if $k then "fault" else "clean" end),
               kind:($k.k // "clean"),target:$target,start:$m,
               a:$x[0],b:$x[1]}|tojson)"
    end))
' | awk -v d="$TMP" '{
  t = substr($0, 1, 1); l = substr($0, 3)
  if(t == "A") print l > (d "/a.in")
  else if(t == "B") print l > (d "/b.in")
  else print l > (d "/exp.jsonl")
}'
check_eq "input: $N request lines generated" \
  "$(grep -c . "$TMP/exp.jsonl") $(grep -c . "$TMP/a.in") $(grep -c . \
  "$TMP/b.in")" "$N $N $N"
jq -s '{n: length,
  fault: (map(select(.cat == "fault")) | length),
  malformed: (map(select(.cat == "malformed")) | length),
  kinds: (map(select(.cat == "fault") | .kind) | unique | length),
  targets: (map(.target // empty) | unique),
  starts: (map(.start // empty) | unique | length)}' "$TMP/exp.jsonl" \
  >"$TMP/mix.json"
echo "soak: input mix $(jq -c . "$TMP/mix.json")"
check_json "input: at least 30% of the requests carry faults" \
  '.[0].fault * 100 >= 30 * .[0].n' "$TMP/mix.json"
check_json "input: every fault kind, every target, every start model" \
  '.[0].kinds == 35 and .[0].targets == ["all","first","seq"] and
   .[0].starts == 6' "$TMP/mix.json"
check_json "input: malformed lines of every sort" \
  '[.[] | select(.cat == "malformed") | .kind] | unique | length == 6' \
  "$TMP/exp.jsonl"

# --- catalog and pipelines ------------------------------------------------
# setup DIR URL: DIR/models.json on the mock at URL, DIR/a.pipeline (the
# default's shape) and DIR/b.pipeline (a plain call).  Per million
# tokens the tiers cost about 0.1, 1 and 5 (input); t2-a is the
# cheapest tier 2, where an escalation from tier 1 lands.
setup() {
  mkdir -p "$1"
  cat >"$1/models.json" <<JSON
{"providers":{
  "oa":{"format":"openai","base_url":"$2/v1","api_key_env":"SOAK_OA_KEY",
        "max_tokens_param":"max_completion_tokens"},
  "oa2":{"format":"openai","base_url":"$2/v1","api_key_env":"SOAK_OA2_KEY"},
  "an":{"format":"anthropic","base_url":"$2","api_key_env":"SOAK_AN_KEY"},
  "ge":{"format":"gemini","base_url":"$2","api_key_env":"SOAK_GE_KEY"}},
 "models":{
  "t1-oa":{"tier":1,"input_usd_per_mtok":0.1,"output_usd_per_mtok":0.4,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"oa","model":"gpt-t1"},
                   {"provider":"an","model":"claude-t1b"}]},
  "t1-an":{"tier":1,"input_usd_per_mtok":0.12,"output_usd_per_mtok":0.5,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"an","model":"claude-t1"},
                   {"provider":"ge","model":"gemini-t1b"}]},
  "t1-ge":{"tier":1,"input_usd_per_mtok":0.08,"output_usd_per_mtok":0.3,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"ge","model":"gemini-t1"},
                   {"provider":"oa2","model":"gpt-t1c"}]},
  "t2-a":{"tier":2,"input_usd_per_mtok":1,"output_usd_per_mtok":4,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"an","model":"claude-t2"},
                   {"provider":"oa","model":"gpt-t2b"}]},
  "t2-b":{"tier":2,"input_usd_per_mtok":1.2,"output_usd_per_mtok":5,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"ge","model":"gemini-t2"},
                   {"provider":"oa2","model":"gpt-t2c"}]},
  "t3":{"tier":3,"input_usd_per_mtok":5,"output_usd_per_mtok":25,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"oa","model":"gpt-t3"},
                   {"provider":"an","model":"claude-t3b"},
                   {"provider":"ge","model":"gemini-t3c"}]}}}
JSON
  MAP=chat=t1-oa,extraction=t1-an,summarization=t1-ge
  MAP=$MAP,translation=t2-a,coding=t2-b,math=t3
  CALL="call timeout=1 retries=1 deadline=10 retry_after_max=1 max_body=262144"
  printf '%s\n' 'set catalog=models.json baseline=t3' classify price \
    "route policy=map map=\"$MAP\"" \
    "$CALL breaker=5 cooldown=0.3 on_failure=next" validate \
    'escalate max=2 to=route' >"$1/a.pipeline"
  printf '%s\n' 'set catalog=models.json' "$CALL breaker=0" >"$1/b.pipeline"
}

# --- the checks -----------------------------------------------------------
# The mock's log as TSV: custom_id (from "id=..." in the text), status,
# fault, format.
logtsv() {
  jq -r '[(.body | tostring | [match("id=(s[0-9]+)").captures[0].string]
           | .[0] // "?"), (.status // 0 | tostring), (.fault // "-"),
          (.format // "-")] | @tsv' "$1"
}

# summary OUT COL: one JSON object of counts over the result file OUT,
# COL the expectation column (a or b) of exp.jsonl.
summary() {
  jq -n --slurpfile e "$TMP/exp.jsonl" --arg col "$2" '
  def finite: type == "number" and (isinfinite | not) and (isnan | not)
              and . < 1e300 and . > -1e300;
  def atts: (.route.attempts // []) | if type == "array" then . else [] end;
  def what($E): $E[.custom_id] | "\(.kind)/\(.target)/\(.start)";
  def usage_ok: [.route.attempts[]?.usage // {} | .[]] +
    [.response.body.usage // {} | .prompt_tokens, .completion_tokens,
     .total_tokens, .prompt_tokens_details.cached_tokens?,
     .completion_tokens_details.reasoning_tokens?] |
    all(. == null or (finite and . >= 0));
  ($e | map({key: .cid, value: .}) | from_entries) as $E
  | [inputs] as $r
  | ($r | group_by(.custom_id) | map({key: .[0].custom_id, value: length})
     | from_entries) as $cnt
  | {
    results: ($r | length),
    missing: [$e[].cid | select($cnt[.] == null)],
    twice: [$cnt | to_entries[] | select(.value > 1) | .key],
    unknown: [$r[].custom_id | select($E[.] == null)],
    both_null: [$r[] | select(.response == null and .error == null)
                | .custom_id],
    both_set: [$r[] | select(.response != null and .error != null)
               | .custom_id],
    error_bad: [$r[] | select(.error != null and
                 ((.error.code | type) != "string" or .error.code == "" or
                  (.error.message | type) != "string" or
                  .error.message == "")) | .custom_id],
    cost_sum: [$r[] | select(
                 ((atts | length) > 0 and ((.route.cost_usd | type) !=
                   "number" or ((.route.cost_usd - ([atts[].cost_usd] | add))
                   | fabs) > 1e-9 * ([1, (.route.cost_usd | fabs)] | max)))
                 or ((atts | length) == 0 and (.route.cost_usd // 0) != 0))
               | .custom_id],
    cost_bad: [$r[] | select([.route | .. | objects | to_entries[]
                 | select(.key | endswith("_usd")) | .value
                 | select(. != null and ((finite | not) or . < 0))]
                 | length > 0) | .custom_id],
    usage_bad: [$r[] | select(usage_ok | not) | .custom_id],
    internal: [$r[] | select(.error.code == "internal_error") | .custom_id],
    clean_failed: [$r[] | select(.error != null and
                    $E[.custom_id].cat == "clean") | .custom_id],
    want_ok_failed: [$r[] | select(.error != null and
                      $E[.custom_id][$col] == "ok")
                     | "\(.custom_id) \(what($E)): \(.error.code)"],
    want_err_ok: [$r[] | select(.error == null and
                   $E[.custom_id][$col] == "err")
                  | "\(.custom_id) \(what($E))"],
    ok: ([$r[] | select(.error == null)] | length),
    attempts: ([$r[] | atts | length] | add),
    retries: ([$r[] | atts[] | .retries // 0] | add),
    fallbacks: ([$r[] | [atts[] | .model] | select(length >
                 (unique | length))] | length),
    escalated: ([$r[] | select((.route.escalations // 0) > 0)] | length),
    absurd_usage: ([$r[] | select($E[.custom_id].kind |
                    test("^usage_")) | .error == null] | unique),
    codes: ([$r[] | .error.code // empty] | group_by(.)
            | map({key: .[0], value: length}) | from_entries)
  }' "$1"
}

# verify NAME OUT ERR RC LOG COL: the whole battery over one complete run.
verify() {
  _n=$1 _out=$2 _err=$3 _rc=$4 _log=$5 _col=$6
  _bad=$(jq -R -r 'try (fromjson | "ok") catch "bad"' "$_out" | grep -c bad)
  check_eq "$_n: every result line is JSON" "$_bad" 0
  summary "$_out" "$_col" >"$TMP/$_n.sum" 2>"$TMP/$_n.sumerr" ||
    fail "$_n: summary" "$(head -c 300 "$TMP/$_n.sumerr")"
  # sv FIELD: a summary field, arrays as "count: first few"
  sv() { jq -r ".$1 | if type == \"array\" then
    \"\(length)\" + (if length > 0 then \": \(.[0:5] | join(\", \"))\"
                     else \"\" end) else tostring end" "$TMP/$_n.sum"; }
  check_eq "$_n: exit status 1 (some requests failed)" "$_rc" 1
  check_eq "$_n: one result per input line ($N)" "$(sv results)" "$N"
  check_eq "$_n: no custom_id lost" "$(sv missing)" 0
  check_eq "$_n: no custom_id twice" "$(sv twice)" 0
  check_eq "$_n: no custom_id that was not in the input" "$(sv unknown)" 0
  check_eq "$_n: no result with neither response nor error" \
    "$(sv both_null)" 0
  check_eq "$_n: no result with both response and error" "$(sv both_set)" 0
  check_eq "$_n: every error has a code and a message" "$(sv error_bad)" 0
  check_eq "$_n: route.cost_usd is the sum of the attempts' cost_usd" \
    "$(sv cost_sum)" 0
  check_eq "$_n: no cost negative or non-finite" "$(sv cost_bad)" 0
  check_eq "$_n: no usage count negative or non-finite" "$(sv usage_bad)" 0
  check_eq "$_n: no internal_error" "$(sv internal)" 0
  check_eq "$_n: every request without a fault answered" \
    "$(sv clean_failed)" 0
  check_eq "$_n: every request that can succeed answered" \
    "$(sv want_ok_failed)" 0
  check_eq "$_n: every request that cannot succeed failed" \
    "$(sv want_err_ok)" 0
  sends "$_out" "$_log" "$_n"
  check_nogrep "$_n: no sanitizer report" \
    'AddressSanitizer|LeakSanitizer|runtime error' "$_err"
  echo "soak: $_n: $(jq -c 'del(.missing, .twice, .unknown, .both_null,
    .both_set, .error_bad, .cost_sum, .cost_bad, .usage_bad, .internal,
    .clean_failed, .want_ok_failed, .want_err_ok)' "$TMP/$_n.sum")"
}

# sends OUT LOG NAME: the mock's log LOG against the attempts of the
# results OUT, request by request.  An attempt is one send plus one per
# retry (attempts[].retries), less one when it was recorded without a
# send (its deadline passed, no key).  libcurl's own re-send of a request
# whose reused connection closed before any answer (the mock's reset and
# hang_ms) counts as a retry too, so every kind is held to exactly.
UNSENT='deadline passed|past its deadline|past the request.s deadline'
UNSENT="$UNSENT|^no API key|refused the transfer|cannot build|out of memory"
sends() {
  logtsv "$2" | jq -n -R --slurpfile e "$TMP/exp.jsonl" --slurpfile r "$1" \
    --arg unsent "$UNSENT" '
    def unsent: .reason // "" | test($unsent);
    def sent_by: 1 + (.retries // 0) - (if unsent then 1 else 0 end);
    ($e | map({key: .cid, value: .kind}) | from_entries) as $K
    | ($r | map({key: .custom_id, value: ([(.route.attempts // [])[]
        | sent_by] | add // 0)}) | from_entries) as $W
    | (reduce (inputs | split("\t")[0]) as $c ({}; .[$c] += 1)) as $G
    | [($W | keys[]), ($G | keys[])] | unique
    | map({c: ., want: ($W[.] // 0), got: ($G[.] // 0)})
    | {got: (map(.got) | add), want: (map(.want) | add),
       unsent: ([$r[] | (.route.attempts // [])[] | select(unsent)]
                | length),
       exact: [.[] | select(.got != .want)
               | "\(.c) (\($K[.c])): \(.got) sent, \(.want) counted"]}' \
    >"$TMP/$3.sends"
  check_eq "$3: the mock's requests = the attempts' sends, one by one" \
    "$(jq -r '.exact | "\(length) \(.[0:5])"' "$TMP/$3.sends")" "0 []"
  echo "soak: $3: mock requests $(jq -c '{got, want, unsent}' \
    "$TMP/$3.sends")"
}

# stop_mock PID: stop a mock and wait for it (its sanitizer report, if
# any, is in $TMP/mock.err then).
stop_mock() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# --- the mock's "usage" directive, and its counts clamped to 2^53 ------------
mock_start
if [ -z "$MOCK_PORT" ]; then fail soak_mock "mockprov did not start"
  finish; exit; fi
M0=$!
D='[[mock {"prompt_tokens":1e308,"usage":{"x":1e308,"y":-5}}]]'
for f in "v1/chat/completions usage" "v1/messages usage" \
         "v1beta/models/g:generateContent usageMetadata"; do
  set -- $f
  jq -nc --arg d "$D" '{model: "m", max_tokens: 9,
    messages: [{role: "user", content: $d}],
    contents: [{parts: [{text: $d}]}]}' |
    curl -s -X POST "$MOCK_URL/$1" --data-binary @- |
    jq -c ".$2" >>"$TMP/directive.out"
done
stop_mock $M0
check_json "mock: usage is merged verbatim, prompt_tokens clamped to 2^53" \
  'length == 3 and all(.x == 1e308 and .y == -5) and
   .[0].prompt_tokens == 9007199254740992 and
   .[2].promptTokenCount == 9007199254740992' "$TMP/directive.out"

# --- the runs: A, B and the kill round at once, each on its own mock --------
mock_start --log "$TMP/a.log"
MA=$!
setup "$TMP/a" "$MOCK_URL"
mock_start --log "$TMP/b.log"
MB=$!
setup "$TMP/b" "$MOCK_URL"
mock_start --log "$TMP/k.log" --latency-ms 50
MK=$!
setup "$TMP/k" "$MOCK_URL"
if ! grep -q '127.0.0.1:[0-9]' "$TMP/a/models.json" ||
   ! grep -q '127.0.0.1:[0-9]' "$TMP/b/models.json" ||
   ! grep -q '127.0.0.1:[0-9]' "$TMP/k/models.json"; then
  fail soak_mock "a mock did not start"; finish; exit
fi

# run A: the default's shape, -v (more text to leak a key into)
( t=$(now)
  "$LLMROUTE" -v -j $J -p "$TMP/a/a.pipeline" "$TMP/a.in" >"$TMP/a.out" \
    2>"$TMP/a.err"
  echo $? >"$TMP/a.rc"
  echo "soak: run A (the default's shape) took $(elapsed "$t") s" ) &
PA=$!
# run B: a plain call on pinned models
( t=$(now)
  "$LLMROUTE" -j $J -p "$TMP/b/b.pipeline" "$TMP/b.in" >"$TMP/b.out" \
    2>"$TMP/b.err"
  echo $? >"$TMP/b.rc"
  echo "soak: run B (a plain call) took $(elapsed "$t") s" ) &
PB=$!
# the kill round: run A's pipeline on the slow mock, kill -9 after 500
# results, then resume
( t=$(now)
  : >"$TMP/k1.out" # there before the loop below reads it
  "$LLMROUTE" -q -j $J -p "$TMP/k/a.pipeline" "$TMP/a.in" >>"$TMP/k1.out" \
    2>"$TMP/k1.err" &
  kpid=$!
  i=0
  while [ "$(grep -c . "$TMP/k1.out")" -lt 500 ] && [ $i -lt 1200 ] &&
        kill -0 $kpid 2>/dev/null; do
    sleep 0.05; i=$((i + 1)); done
  kill -9 $kpid 2>/dev/null
  echo $? >"$TMP/k1.killed"
  wait $kpid 2>/dev/null
  # what the mock had received is logged once its log stops growing
  n=-1 m=$(grep -c . "$TMP/k.log") i=0
  while [ "$n" != "$m" ] && [ $i -lt 30 ]; do
    n=$m; sleep 0.3; m=$(grep -c . "$TMP/k.log"); i=$((i + 1)); done
  echo "$m" >"$TMP/k1.logn"
  grep -c . "$TMP/k1.out" >"$TMP/k1.n"
  "$LLMROUTE" -q -j $J --resume "$TMP/k1.out" -p "$TMP/k/a.pipeline" \
    "$TMP/a.in" >"$TMP/k2.out" 2>"$TMP/k2.err"
  echo $? >"$TMP/k2.rc"
  echo "soak: kill round (killed after $(cat "$TMP/k1.n") results," \
    "then resumed) took $(elapsed "$t") s" ) &
PK=$!
wait $PA $PB $PK
stop_mock $MA
stop_mock $MB
stop_mock $MK

# --- A and B: the battery ----------------------------------------------------
verify A "$TMP/a.out" "$TMP/a.err" "$(cat "$TMP/a.rc")" "$TMP/a.log" a
logtsv "$TMP/a.log" >"$TMP/a.tsv"
check "A: every wire format served (over 300 requests each)" \
  test "$(awk -F'\t' '{ n[$4]++ } END { print (n["openai"] > 300 &&
    n["anthropic"] > 300 && n["gemini"] > 300) }' "$TMP/a.tsv")" = 1
check_json "A: fallbacks, escalations and retries happened" \
  '.[0].fallbacks > 50 and .[0].escalated > 50 and .[0].retries > 100' \
  "$TMP/A.sum"
check_json "A: answers with absurd usage (1e308, negative) were kept" \
  '.[0].absurd_usage == [true]' "$TMP/A.sum"
verify B "$TMP/b.out" "$TMP/b.err" "$(cat "$TMP/b.rc")" "$TMP/b.log" b
check_json "B: fallbacks and retries happened" \
  '.[0].fallbacks > 50 and .[0].retries > 100' "$TMP/B.sum"

# --- the kill round ----------------------------------------------------------
n1=$(cat "$TMP/k1.logn")
head -n "$n1" "$TMP/k.log" >"$TMP/k1.log"
tail -n +"$((n1 + 1))" "$TMP/k.log" >"$TMP/k2.log"
w1=$(grep -c . "$TMP/k1.out")
check_eq "kill: the run was killed mid-run" "$(cat "$TMP/k1.killed")" 0
check "kill: some results were written, not all ($w1 of $N)" \
  test "$w1" -ge 100 -a "$w1" -lt "$N"
check_json "kill: the partial output is whole JSON lines (once resumed)" \
  'length > 0' "$TMP/k1.out"
check_eq "resume: exit status 1" "$(cat "$TMP/k2.rc")" 1
jq -c '{c: .custom_id, ok: (.error == null)}' "$TMP/k1.out" >"$TMP/k1.ids"
jq -c '{c: .custom_id, ok: (.error == null)}' "$TMP/k2.out" >"$TMP/k2.ids"
logtsv "$TMP/k1.log" >"$TMP/k1.tsv"
logtsv "$TMP/k2.log" >"$TMP/k2.tsv"
# paid TSV: the custom_ids the mock gave a usable 200 (what is billed)
paid() {
  jq -n -R -r --slurpfile e "$TMP/exp.jsonl" '
    ($e | map({key: .cid, value: .kind}) | from_entries) as $K
    | inputs | split("\t") | select(.[1] == "200" and (.[2] == "-" or
        (.[2] == "trickle" and $K[.[0]] == "trickle_fast") or
        (.[2] == "big" and $K[.[0]] == "big_ok"))) | .[0]' "$1" | sort -u
}
paid "$TMP/k1.tsv" >"$TMP/k1.paid"
paid "$TMP/k2.tsv" >"$TMP/k2.paid"
cut -f1 "$TMP/k1.tsv" | sort -u >"$TMP/k1.sent"
cut -f1 "$TMP/k2.tsv" | sort -u >"$TMP/k2.sent"
jq -r 'select(.ok) | .c' "$TMP/k1.ids" | sort -u >"$TMP/k1.ok"
jq -r .c "$TMP/k1.ids" | sort -u >"$TMP/k1.written"
jq -r .c "$TMP/k2.ids" | sort -u >"$TMP/k2.written"
jq -r .cid "$TMP/exp.jsonl" | sort -u >"$TMP/all.ids"
cat "$TMP/k1.ids" "$TMP/k2.ids" | jq -r 'select(.ok) | .c' | sort \
  >"$TMP/k.ok"
check_eq "resume: every request has a result in one of the two files" \
  "$(sort -u "$TMP/k1.written" "$TMP/k2.written" |
     comm -13 - "$TMP/all.ids" | wc -l | tr -d ' ')" 0
check_eq "resume: no request has two successes over the two files" \
  "$(uniq -d "$TMP/k.ok" | wc -l | tr -d ' ')" 0
check_eq "resume: every request that can succeed has one success" \
  "$(jq -r 'select(.a == "ok") | .cid' "$TMP/exp.jsonl" | sort |
     comm -23 - "$TMP/k.ok" | wc -l | tr -d ' ')" 0
check_eq "resume: nothing answered before the kill was sent again" \
  "$(comm -12 "$TMP/k1.ok" "$TMP/k2.sent" | wc -l | tr -d ' ')" 0
check_eq "resume: only the requests without a success were taken" \
  "$(comm -12 "$TMP/k1.ok" "$TMP/k2.written" | wc -l | tr -d ' ') \
$(grep -c . "$TMP/k2.out")" "0 $((N - $(grep -c . "$TMP/k1.ok")))"
lost=$(comm -23 "$TMP/k1.sent" "$TMP/k1.written" | grep -c '^s')
twice=$(comm -23 "$TMP/k1.paid" "$TMP/k1.written" |
        comm -12 - "$TMP/k2.paid" | grep -c '^s')
echo "soak: kill: $lost requests were sent but had no result written;" \
  "$twice of them were paid before the kill and again after"
check "kill: requests sent but not written ($lost) are at most -j $J" \
  test "$lost" -le $J
check "kill: requests paid twice ($twice) are at most -j $J" \
  test "$twice" -le $J
# the resumed run: the battery over the lines it was given
jq -n -c --slurpfile ok "$TMP/k1.ids" --slurpfile e "$TMP/exp.jsonl" '
  ([$ok[] | select(.ok) | .c] | map({key: ., value: 1}) | from_entries)
    as $done | $e[] | select($done[.cid] | not)' >"$TMP/exp2.jsonl"
cp "$TMP/exp.jsonl" "$TMP/exp.all"
cp "$TMP/exp2.jsonl" "$TMP/exp.jsonl"
N_ALL=$N
N=$(grep -c . "$TMP/exp.jsonl")
verify resumed "$TMP/k2.out" "$TMP/k2.err" "$(cat "$TMP/k2.rc")" \
  "$TMP/k2.log" a
N=$N_ALL
cp "$TMP/exp.all" "$TMP/exp.jsonl"
check_nogrep "kill: no sanitizer report" \
  'AddressSanitizer|LeakSanitizer|runtime error' "$TMP/k1.err"

# --- secrets and the mocks ---------------------------------------------------
leaks=0
for f in "$TMP"/*.out "$TMP"/*.err "$TMP"/*.log "$TMP/mock.err"; do
  [ -f "$f" ] || continue
  for k in $KOA $KOA2 $KAN $KGE; do
    if grep -qF -- "$k" "$f"; then leaks=$((leaks + 1))
      echo "soak: key $k in $f"; fi
  done
done
check_eq "no API key in any output (stdout, stderr, the mocks' logs)" \
  "$leaks" 0
check_nogrep "the mocks: no sanitizer report" \
  'AddressSanitizer|LeakSanitizer|runtime error' "$TMP/mock.err"
echo "soak: all done in $(elapsed "$T0") s"
finish
