# tests/cli/core_outoftree.sh - `make install` into a temp prefix, then
# build the sample stage tests/outoftree/hello.c outside the tree against
# the INSTALLED header with `pkg-config llmroute`, load it by path from a
# pipeline and run it with the installed runner.
. tests/lib.sh

inst=$TMP/inst
unset LLMROUTE_PLUGIN_PATH

# Install from a copy of the build folder: the copy's files are newer
# than the sources, so make rebuilds nothing, and the runner other suites
# are using at the same time is never relinked under them (the sources
# may change during a run in a shared working tree).
cp -R "$BUILD" "$TMP/build"
make --no-print-directory BUILD="$TMP/build" PREFIX="$inst" install \
  >"$TMP/install.log" 2>&1
check_eq "install: make install PREFIX=... succeeds" "$?" 0
[ "$failures" -eq 0 ] || cat "$TMP/install.log" | tail -n 20

# --- the installed tree ------------------------------------------------------

check "install: bin/llmroute" test -x "$inst/bin/llmroute"
check "install: lib/llmroute/jq.so" test -f "$inst/lib/llmroute/jq.so"
check "install: share/llmroute/pipelines has pipelines" \
  sh -c "ls '$inst'/share/llmroute/pipelines/*.pipeline"
check "install: include/llmroute.h is the ABI header" \
  cmp "$inst/include/llmroute.h" core/llmroute.h
check "install: lib/pkgconfig/llmroute.pc" \
  test -f "$inst/lib/pkgconfig/llmroute.pc"
check "install: share/man/man1/llmroute.1" \
  test -s "$inst/share/man/man1/llmroute.1"
check_grep "install: the man page is roff" '^\.TH' \
  "$inst/share/man/man1/llmroute.1"
check "install: no test plugins installed" \
  test ! -e "$inst/lib/llmroute/echo.so"

export PKG_CONFIG_PATH="$inst/lib/pkgconfig"
cflags=$(pkg-config --cflags llmroute 2>"$TMP/pc.err")
check_eq "pkg-config: llmroute found" "$?" 0
libs=$(pkg-config --libs llmroute 2>>"$TMP/pc.err")
case " $cflags " in
  *" -I$inst/include "*) pass "pkg-config: --cflags points at the prefix" ;;
  *) fail "pkg-config: --cflags points at the prefix" "got '$cflags'" ;;
esac
"$inst/bin/llmroute" --version >"$TMP/version" 2>&1
check_grep "pkg-config: --modversion matches llmroute --version" \
  "^llmroute $(pkg-config --modversion llmroute | sed 's/\./\\./g')( |$)" \
  "$TMP/version"
check_eq "pkg-config: plugindir variable" \
  "$(pkg-config --variable=plugindir llmroute)" "$inst/lib/llmroute"

# --- build the sample out of the tree ----------------------------------------

mkdir -p "$TMP/src" "$TMP/p"
cp tests/outoftree/hello.c "$TMP/src/"
( cd "$TMP/src" &&
  ${CC:-cc} -std=c99 -Wall -Wextra -Wstrict-prototypes -Werror -fPIC \
    -shared -fvisibility=hidden $cflags -o "$TMP/p/hello.so" hello.c \
    $libs ) >"$TMP/cc.log" 2>&1
check_eq "out of tree: hello.c builds warning-free with pkg-config only" \
  "$?" 0
[ -s "$TMP/cc.log" ] && head -c 600 "$TMP/cc.log"
check_eq "out of tree: exports only llmr_stage_entry" \
  "$(nm -D --defined-only "$TMP/p/hello.so" 2>/dev/null |
     awk '$2 == "T" { print $3 }')" "llmr_stage_entry"

# --- load it by path from a pipeline, run the installed runner ---------------

cat >"$TMP/p/hello.pipeline" <<'PIPE'
# the built-in jq stage from the installed plugin folder, then ours by path
jq program='.body.max_tokens = 5'
./hello.so tag=greeted
PIPE
printf '%s\n' '{"custom_id":"plain","prompt":"hi"}' \
  '{"custom_id":"g1","prompt":"hi","routing":{"task":"greeting"}}' \
  >"$TMP/in.jsonl"
"$inst/bin/llmroute" -p "$TMP/p/hello.pipeline" --keep-order \
  "$TMP/in.jsonl" >"$TMP/out" 2>"$TMP/err" </dev/null
check_eq "out of tree: installed runner runs it, exit 0" "$?" 0
check_json "out of tree: route.tags has the tag" \
  'length == 2 and all(.route.tags == ["greeted"])' "$TMP/out"
check_json "out of tree: DONE with its own response" \
  '.[1].response.body.choices[0].message.content == "Hello, g1!" and
   .[0].response == null and .[0].error == null' "$TMP/out"

printf 'hello\n' >"$TMP/p/byname.pipeline"
"$inst/bin/llmroute" -p "$TMP/p/byname.pipeline" <"$TMP/in.jsonl" \
  >"$TMP/out" 2>"$TMP/err"
check_eq "out of tree: not found by bare name outside the search path" \
  "$?" 2
LLMROUTE_PLUGIN_PATH="$TMP/p" "$inst/bin/llmroute" \
  -p "$TMP/p/byname.pipeline" <"$TMP/in.jsonl" >"$TMP/out" 2>"$TMP/err"
check_eq "out of tree: found by name through LLMROUTE_PLUGIN_PATH" "$?" 0

# --- the plugin author's kit: skeleton, mock host, manual ------------------

check "kit: include/llmroute-mock.h" cmp "$inst/include/llmroute-mock.h" \
  core/kit/llmroute-mock.h
check "kit: lib/libllmroute-mock.a" test -s "$inst/lib/libllmroute-mock.a"
check "kit: llmroute-mock.pc" pkg-config --exists llmroute-mock
check_grep "kit: llmroute-stage(7) is roff" '^\.TH LLMROUTE-STAGE 7' \
  "$inst/share/man/man7/llmroute-stage.7"
skel=$(pkg-config --variable=skeletondir llmroute)
check_eq "kit: skeletondir under the prefix" "$skel" \
  "$inst/share/llmroute/skeleton"
# the sanitizer build's kit library is instrumented: link the same way
kitcflags="-O1 -g"
[ -n "${SAN:-}" ] && kitcflags="$kitcflags -fsanitize=address,undefined"
cp -R "$skel" "$TMP/mystage"
make -C "$TMP/mystage" CFLAGS="$kitcflags" test >"$TMP/skel.log" 2>&1
check_eq "kit: the skeleton builds and its unit tests pass" "$?" 0
check_grep "kit: the skeleton's tests ran" '^0 failed$' "$TMP/skel.log"
[ "$failures" -eq 0 ] || tail -n 20 "$TMP/skel.log" | sed "s/^/  | /"
printf './stage.so min_words=3\n' >"$TMP/mystage/my.pipeline"
echo '{"prompt":"two words"}' | "$inst/bin/llmroute" \
  -p "$TMP/mystage/my.pipeline" >"$TMP/out" 2>"$TMP/err"
check_json "kit: the skeleton stage runs in the installed runner" \
  '.[0].route.words == 2 and .[0].route.short == true' "$TMP/out"

# The example stage, as a user gets it: from the installed share folder,
# built with the installed kit, unit-tested on the mock host, then run in
# a pipeline with --dry-run (the request as it would leave; no call).
cp -R "$inst/share/llmroute/pipelines/examples/redact" "$TMP/redact"
make -C "$TMP/redact" CFLAGS="$kitcflags" test >"$TMP/redact.log" 2>&1
check_eq "redact example: builds and its unit tests pass" "$?" 0
check_grep "redact example: its tests ran" '^0 failed$' "$TMP/redact.log"
[ "$failures" -eq 0 ] || tail -n 20 "$TMP/redact.log" | sed "s/^/  | /"
printf '%s\n' \
  '{"custom_id":"r1","body":{"messages":[{"role":"user","content":"Reply to ann@example.com or call +1 415 555 0100."}]}}' \
  '{"custom_id":"r2","prompt":"nothing to hide"}' >"$TMP/pii.jsonl"
"$inst/bin/llmroute" --dry-run --keep-order \
  -p "$TMP/redact/redact.pipeline" "$TMP/pii.jsonl" >"$TMP/out" 2>"$TMP/err"
check_eq "redact example: --dry-run exit 0 with no key" "$?" 0
check_json "redact example: the request leaves redacted" \
  '.[0].request.body.messages[0].content == "Reply to [email] or call [phone]."' \
  "$TMP/out"
check_json "redact example: counted, routed, not called" \
  '.[0].route.redacted == {"email":1,"phone":1} and
   (.[0].route.model | type == "string") and .[0].route.attempts == null
   and .[1].route.redacted == null' "$TMP/out"
check_nogrep "redact example: no address or number anywhere in the output" \
  'ann@example|555 0100' "$TMP/out"

finish
