# tests/cli/ids.sh - ids that survive sharding, and --resume over shard
# outputs (llmroute(1), IDS AND SHARDS).
#
# (1) Result ids: llmr-RUN-N, unique across 4 shards run at once.
# (2) Generated custom_ids: the same for the same line in two runs and
#     across shard boundaries; repeats within one input told apart (#2);
#     a line repeated in two shards gets the same id in both.
# (3) GNU parallel --pipe: the same ids as split(1) shards.
# (4) --resume: several files, a folder, - (stdin), generated ids, the
#     count on stderr; a resume that skips 50 of 100 requests sends
#     exactly 50 to the loopback provider.  `eval convert results`
#     joins requests without custom_id to their results.
. tests/lib.sh

if [ ! -x "$MOCKPROV" ] || [ ! -x "$LLMROUTE" ]; then
  fail ids_built "$MOCKPROV or $LLMROUTE missing"
  finish; exit
fi
# the default scheme, whatever the caller's environment says
unset LLMROUTE_CUSTOM_IDS
pipeline pass 'jq program=.'

# --- (1) and (2): 400 lines, 4 shards ---------------------------------------
# line i is {"prompt":"qi"}, but lines 50, 150, 250 and 350 are the same
# line "dup" (one in each shard of 100), and lines 10 and 11 the same
# line "pair" (both in the first shard)
awk 'BEGIN {
  for(i = 1; i <= 400; i++) {
    t = "q" i
    if(i % 100 == 50) t = "dup"
    if(i == 10 || i == 11) t = "pair"
    printf "{\"prompt\":\"%s\"}\n", t
  }
}' >"$TMP/in.jsonl"

"$LLMROUTE" -q --keep-order -p "$TMP/pass.pipeline" "$TMP/in.jsonl" \
  >"$TMP/whole1.out" 2>"$TMP/err"
check_eq "one run: exit 0" "$?" 0
"$LLMROUTE" -q --keep-order -p "$TMP/pass.pipeline" "$TMP/in.jsonl" \
  >"$TMP/whole2.out" 2>>"$TMP/err"
jq -r .custom_id "$TMP/whole1.out" >"$TMP/whole1.cid"
jq -r .custom_id "$TMP/whole2.out" >"$TMP/whole2.cid"
check_eq "one run: a result a line" "$(grep -c . "$TMP/whole1.cid")" 400
check_eq "one run: 400 distinct custom_ids (repeats told apart)" \
  "$(sort -u "$TMP/whole1.cid" | grep -c .)" 400
check_grep "custom_id: h- and 20 hex digits" '^h-[0-9a-f]{20}$' \
  "$TMP/whole1.cid"
check_nogrep "custom_id: no line-N by default" '^line-' "$TMP/whole1.cid"
check "custom_ids: the same in two runs of the same input" \
  cmp -s "$TMP/whole1.cid" "$TMP/whole2.cid"
check_eq "custom_ids: a repeat in one input is #2, #3, #4 in input order" \
  "$(sed -n '50p;150p;250p;350p' "$TMP/whole1.cid" | sed 's/.*#/#/;
     s/^h-.*/first/' | tr '\n' ' ')" "first #2 #3 #4 "
check_eq "custom_ids: the repeat's base is the first one's id" \
  "$(sed -n 150p "$TMP/whole1.cid" | sed 's/#.*//')" \
  "$(sed -n 50p "$TMP/whole1.cid")"
check_eq "custom_ids: a pair of lines: h-X and h-X#2" \
  "$(sed -n 11p "$TMP/whole1.cid")" "$(sed -n 10p "$TMP/whole1.cid")#2"
check_json "result ids: llmr-RUN-N, N the input order with --keep-order" \
  '[.[].id | capture("^llmr-(?<r>[0-9a-z]{12})-(?<n>[0-9]+)$")] |
   length == 400 and ([.[].r] | unique | length) == 1 and
   [.[].n | tonumber] == [range(1; 401)]' "$TMP/whole1.out"
check_eq "result ids: a second run has another RUN" \
  "$(cat "$TMP/whole1.out" "$TMP/whole2.out" | jq -r .id | sort -u |
     grep -c .)" 800

# past the sets' first size (1024 slots): 3000 lines, then the same again
awk 'BEGIN { for(r = 0; r < 2; r++) for(i = 1; i <= 3000; i++)
               printf "{\"prompt\":\"g%d\"}\n", i }' >"$TMP/big.jsonl"
"$LLMROUTE" -q --keep-order -p "$TMP/pass.pipeline" "$TMP/big.jsonl" |
  jq -r .custom_id >"$TMP/big.cid"
check_eq "6000 lines, each twice: 6000 distinct custom_ids" \
  "$(sort -u "$TMP/big.cid" | grep -c .)" 6000
check_eq "6000 lines, each twice: the second 3000 are the first with #2" \
  "$(head -n 3000 "$TMP/big.cid" | sed 's/$/#2/' |
     cmp -s - "$(tail -n 3000 "$TMP/big.cid" >"$TMP/big2.cid";
                 echo "$TMP/big2.cid")" && echo same)" same

# 4 shards of 100 lines, run at once
(cd "$TMP" && split -l 100 -d in.jsonl shard.)
for s in 00 01 02 03; do
  "$LLMROUTE" -q --keep-order -p "$TMP/pass.pipeline" "$TMP/shard.$s" \
    >"$TMP/shard.$s.out" 2>>"$TMP/err" &
done
wait
cat "$TMP/shard.00.out" "$TMP/shard.01.out" "$TMP/shard.02.out" \
  "$TMP/shard.03.out" >"$TMP/shards.out"
jq -r .custom_id "$TMP/shards.out" >"$TMP/shards.cid"
check_eq "4 shards: a result a line" "$(grep -c . "$TMP/shards.cid")" 400
check_eq "4 shards: 400 distinct result ids" \
  "$(jq -r .id "$TMP/shards.out" | sort -u | grep -c .)" 400
check_eq "4 shards: 4 RUNs, one a process" \
  "$(jq -r '.id | split("-")[1]' "$TMP/shards.out" | sort -u | grep -c .)" 4
# line by line, the shard ids equal the one-run ids except at the
# repeats of "dup" that fell into other shards (lines 150, 250, 350)
check_eq "4 shards: custom_ids as in one run, but for a repeat in another shard" \
  "$(paste -d ' ' "$TMP/whole1.cid" "$TMP/shards.cid" |
     awk '$1 != $2 { printf "%d ", NR }')" "150 250 350 "
check_eq "4 shards: a line repeated in 4 shards has the same id in each" \
  "$(sed -n '50p;150p;250p;350p' "$TMP/shards.cid" | sort -u | tr -d '\n')" \
  "$(sed -n 50p "$TMP/whole1.cid")"

# --- (3) GNU parallel --pipe ------------------------------------------------
if command -v parallel >/dev/null 2>&1; then
  parallel --will-cite --pipe -N 100 -j 4 --keep-order "$LLMROUTE" -q \
    --keep-order -p "$TMP/pass.pipeline" <"$TMP/in.jsonl" \
    >"$TMP/par.out" 2>>"$TMP/err"
  check_eq "parallel --pipe -j 4: exit 0" "$?" 0
  check_eq "parallel --pipe -j 4: 400 distinct result ids" \
    "$(jq -r .id "$TMP/par.out" | sort -u | grep -c .)" 400
  check_eq "parallel --pipe -j 4: the custom_ids of the split(1) shards" \
    "$(jq -r .custom_id "$TMP/par.out" | cmp -s - "$TMP/shards.cid" &&
       echo same)" same
else
  echo "SKIP: parallel --pipe: GNU parallel is not installed (make deps)"
fi

# --custom-ids line: the line numbers of old
"$LLMROUTE" -q --custom-ids line -p "$TMP/pass.pipeline" "$TMP/shard.01" \
  >"$TMP/line.out" 2>>"$TMP/err"
check_json "--custom-ids line: line-1 ... line-100" \
  '[.[].custom_id] | sort == ([range(1; 101)] | map("line-\(.)") | sort)' \
  "$TMP/line.out"
LLMROUTE_CUSTOM_IDS=line "$LLMROUTE" -q -p "$TMP/pass.pipeline" \
  "$TMP/shard.01" >"$TMP/line2.out" 2>>"$TMP/err"
check_json "LLMROUTE_CUSTOM_IDS=line: the same" \
  'any(.[]; .custom_id == "line-1")' "$TMP/line2.out"
llmr --custom-ids lines -p "$TMP/pass.pipeline" "$TMP/shard.01"
check_eq "--custom-ids lines: a usage error (exit 2)" "$rc" 2
check_grep "--custom-ids lines: says what it wants" 'content or line' \
  "$TMP/err"
check_eq "--custom-ids lines: nothing written" "$(wc -c <"$TMP/out")" 0

# --- (4) --resume against the loopback provider -----------------------------
mock_start --log "$TMP/mock.log"
if [ -z "$MOCK_PORT" ]; then fail ids_mock "no port"; finish; exit; fi
cat >"$TMP/models.json" <<JSON
{"providers":{"mock":{"format":"openai","base_url":"$MOCK_URL/v1",
                      "api_key_env":"LLMR_IDS_KEY"}},
 "models":{
  "only-1":{"tier":1,"input_usd_per_mtok":1,"output_usd_per_mtok":2,
    "context_tokens":100000,"max_output_tokens":1000,
    "deployments":[{"provider":"mock","model":"only-1"}]}}}
JSON
export LLMR_IDS_KEY=test-ids-key
printf '%s\n' 'set catalog=models.json baseline=only-1' \
  'call timeout=10 retries=0' >"$TMP/call.pipeline"
# 100 requests without custom_id; line 60 repeats line 5
awk 'BEGIN {
  for(i = 1; i <= 100; i++)
    printf "{\"model\":\"only-1\",\"messages\":[{\"role\":\"user\"," \
           "\"content\":\"resume %d\"}]}\n", i == 60 ? 5 : i
}' >"$TMP/r.jsonl"
head -n 50 "$TMP/r.jsonl" >"$TMP/r50.jsonl"
calls() { grep -c . "$TMP/mock.log" 2>/dev/null || echo 0; }

"$LLMROUTE" -q -j 8 -p "$TMP/call.pipeline" "$TMP/r50.jsonl" \
  >"$TMP/done.out" 2>"$TMP/done.err"
check_eq "resume: the first 50 answered (exit 0)" "$?" 0
check_eq "resume: 50 calls for them" "$(calls)" 50
mkdir -p "$TMP/done/sub"
head -n 20 "$TMP/done.out" >"$TMP/done/a.jsonl"
tail -n 30 "$TMP/done.out" >"$TMP/done/b.jsonl"
# neither a subfolder nor an error record counts as done
jq -c '.error = {"code":"timeout"} | .response = null' "$TMP/done.out" \
  >"$TMP/done/sub/errors.jsonl"

# resume_run NAME ARGS...: the full 100 through call; wants 50 calls
# made, 50 results, and with the 50 done ones every custom_id once
resume_run() {
  _n=$1; shift
  _c0=$(calls)
  "$LLMROUTE" -j 8 -p "$TMP/call.pipeline" "$@" >"$TMP/more.out" \
    2>"$TMP/more.err"
  check_eq "$_n: exit 0" "$?" 0
  check_eq "$_n: exactly 50 calls to the provider" $(($(calls) - _c0)) 50
  check_eq "$_n: 50 results" "$(grep -c . "$TMP/more.out")" 50
  check_eq "$_n: with the first run's, every request once" \
    "$(cat "$TMP/done.out" "$TMP/more.out" | jq -r .custom_id | sort -u |
       grep -c .)" 100
}
resume_run "resume two files" --resume "$TMP/done/a.jsonl" \
  --resume "$TMP/done/b.jsonl" "$TMP/r.jsonl"
check_grep "resume two files: the count on stderr" \
  '^llmroute: resume: 50 requests already done in 2 files, skipped$' \
  "$TMP/more.err"
check_json "resume: line 60 (a repeat of line 5, done) is sent as #2" \
  'any(.[]; .custom_id | endswith("#2"))' "$TMP/more.out"

resume_run "resume a folder" --resume "$TMP/done" "$TMP/r.jsonl"
check_grep "resume a folder: its 2 files (not the subfolder's)" \
  'resume: 50 requests already done in 2 files, skipped' "$TMP/more.err"

resume_run "resume -" --resume - "$TMP/r.jsonl" <"$TMP/done.out"
check_grep "resume -: read from stdin" \
  'resume: 50 requests already done in 1 file, skipped' "$TMP/more.err"

# the same file twice, and a file that holds only errors: still 50
resume_run "resume a file twice and an error file" \
  --resume "$TMP/done.out" --resume "$TMP/done.out" \
  --resume "$TMP/done/sub/errors.jsonl" "$TMP/r.jsonl"
check_grep "resume a file twice: 3 files read" \
  'resume: 50 requests already done in 3 files, skipped' "$TMP/more.err"

_c0=$(calls)
"$LLMROUTE" -q -p "$TMP/call.pipeline" --resume "$TMP/done.out" \
  "$TMP/r.jsonl" >/dev/null 2>"$TMP/q.err"
check_eq "resume -q: no message" "$(wc -c <"$TMP/q.err")" 0
"$LLMROUTE" -p "$TMP/call.pipeline" --resume "$TMP/done/sub" \
  "$TMP/r50.jsonl" >/dev/null 2>"$TMP/zero.err"
check_grep "resume: 0 skipped is said too (ids that never match are seen)" \
  'resume: 0 requests already done in 1 file, skipped' "$TMP/zero.err"

_c0=$(calls)
llmr -p "$TMP/call.pipeline" --resume - <"$TMP/r.jsonl"
check_eq "resume - with stdin as the input: exit 2" "$rc" 2
check_grep "resume - with stdin as the input: says why" \
  'stdin is the input already' "$TMP/err"
check_eq "resume - with stdin as the input: no call, no output" \
  "$(($(calls) - _c0)) $(wc -c <"$TMP/out")" "0 0"
llmr -p "$TMP/call.pipeline" --resume - - <"$TMP/r.jsonl"
check_eq "resume - with - as the input: exit 2" "$rc" 2
llmr -p "$TMP/call.pipeline" --resume "$TMP/nonesuch" "$TMP/r.jsonl"
check_eq "resume a missing file: exit 2" "$rc" 2
check_grep "resume a missing file: named" 'nonesuch' "$TMP/err"

# a torn last line in a folder's file: cut off, its request sent again
cp "$TMP/done/b.jsonl" "$TMP/b.keep"
head -n 29 "$TMP/b.keep" >"$TMP/done/b.jsonl"
tail -n 1 "$TMP/b.keep" | head -c 40 >>"$TMP/done/b.jsonl"
_c0=$(calls)
"$LLMROUTE" -j 8 -p "$TMP/call.pipeline" --resume "$TMP/done" \
  "$TMP/r.jsonl" >"$TMP/torn.out" 2>"$TMP/torn.err"
check_eq "resume a torn file in a folder: 51 calls" $(($(calls) - _c0)) 51
check_grep "resume a torn file in a folder: said" \
  'b.jsonl: the last line is torn.*cut off' "$TMP/torn.err"
check_grep "resume a torn file in a folder: 49 skipped" \
  'resume: 49 requests already done in 2 files, skipped' "$TMP/torn.err"

# --custom-ids line: resume honours line-N as well
"$LLMROUTE" -q -p "$TMP/call.pipeline" --custom-ids line "$TMP/r50.jsonl" \
  >"$TMP/ln.out" 2>/dev/null
_c0=$(calls)
"$LLMROUTE" -p "$TMP/call.pipeline" --custom-ids line --resume \
  "$TMP/ln.out" "$TMP/r.jsonl" >/dev/null 2>"$TMP/ln.err"
check_eq "resume --custom-ids line: 50 calls" $(($(calls) - _c0)) 50
check_grep "resume --custom-ids line: 50 skipped" \
  'resume: 50 requests already done' "$TMP/ln.err"

# eval convert results names requests without custom_id as the runner did
jq -c '{custom_id, score: 1}' "$TMP/done.out" >"$TMP/verdicts.jsonl"
"$LLMROUTE" eval convert results --requests "$TMP/r50.jsonl" \
  --verdicts "$TMP/verdicts.jsonl" "$TMP/done.out" >"$TMP/conv.out" \
  2>"$TMP/conv.err"
check_grep "eval convert results: joins generated ids (50 of 50)" \
  '50 prompts with a scored answer \(of 50 requests' "$TMP/conv.err"

check_eq "no API key in any output" \
  "$(cat "$TMP"/*.out "$TMP"/*.err "$TMP/done"/*.jsonl |
     grep -c test-ids-key)" 0
finish
