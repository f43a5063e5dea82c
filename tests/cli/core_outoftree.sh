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

finish
