#!/bin/sh
# tests/run.sh - run the whole test suite: every $BUILD/tests/unit/*
# binary, every tests/cases/*.case through casecheck, every tests/cli/*.sh
# (from the source root, BUILD exported).  Suites run in parallel
# (TEST_JOBS, default twice the CPU count); each prints "PASS: name" and
# "FAIL: name: why" lines, which are counted.  A suite that exits non-zero
# without a FAIL line, or runs past TEST_TIMEOUT seconds (default 300),
# counts as one failure.  "SKIP: name: why" lines (a check whose tool is
# missing here) are counted apart and listed, never as passes.  The FAIL
# lines are repeated at the end, and the last line is "N passed, N
# failed".  Exit 1 when anything failed.
#
#   BUILD=build sh tests/run.sh [PATTERN...]   only suites whose path
#                                              contains a PATTERN

BUILD=${BUILD:-build}
export BUILD

# --- one suite (called back through xargs) ---------------------------------
if [ "$1" = "--suite" ]; then
  out=$2 kind=$3 path=$4
  name=$(echo "$path" | tr '/' '_')
  limit=${TEST_TIMEOUT:-300}
  start=$(date +%s)
  case $kind in
    unit) timeout -k 10 "$limit" "$path" ;;
    case) timeout -k 10 "$limit" "$BUILD/tests/tools/casecheck" "$path" ;;
    cli)
      if head -n 1 "$path" | grep -q bash; then sh=bash; else sh=sh; fi
      timeout -k 10 "$limit" $sh "$path" ;;
  esac </dev/null >"$out/$name.out" 2>&1
  echo "$? $(( $(date +%s) - start ))" >"$out/$name.rc"
  exit 0
fi

cd "$(dirname "$0")/.." || exit 1
out=$(mktemp -d "${TMPDIR:-/tmp}/llmr-run.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT INT TERM

jobs=${TEST_JOBS:-$(( $(nproc 2>/dev/null || echo 2) * 2 ))}

# wanted PATH: true when no pattern was given or PATH contains one.
wanted() {
  [ -z "$patterns" ] && return 0
  for p in $patterns; do
    case $1 in *"$p"*) return 0 ;; esac
  done
  return 1
}
patterns="$*"

# The list, slow suites first (shell tests, then cases, then units).
for f in tests/cli/*.sh; do
  [ -f "$f" ] && wanted "$f" && echo "cli $f"
done >"$out/list"
for f in tests/cases/*.case; do
  [ -f "$f" ] && wanted "$f" && echo "case $f"
done >>"$out/list"
for f in "$BUILD"/tests/unit/*; do
  [ -f "$f" ] && [ -x "$f" ] && wanted "$f" && echo "unit $f"
done >>"$out/list"

if [ ! -x "$BUILD/tests/tools/casecheck" ] &&
   grep -q '^case ' "$out/list"; then
  echo "run.sh: $BUILD/tests/tools/casecheck missing (run make first)" >&2
fi

# A run whose results broke the invariant (neither an answer nor an
# error) appends a line here; each is a failure, whatever the suite said.
LLMROUTE_INVARIANT_LOG=$out/invariants
export LLMROUTE_INVARIANT_LOG
xargs -P "$jobs" -L 1 sh tests/run.sh --suite "$out" <"$out/list"

passed=0 failed=0 skipped=0
: >"$out/fails"
while read -r kind path; do
  name=$(echo "$path" | tr '/' '_')
  set -- $(cat "$out/$name.rc" 2>/dev/null || echo "99 0")
  rc=$1 secs=$2
  echo "=== $path"
  cat "$out/$name.out" 2>/dev/null
  p=$(grep -c '^PASS: ' "$out/$name.out" 2>/dev/null)
  f=$(grep -c '^FAIL: ' "$out/$name.out" 2>/dev/null)
  s=$(grep -c '^SKIP: ' "$out/$name.out" 2>/dev/null)
  p=${p:-0} f=${f:-0} s=${s:-0}
  grep '^SKIP: ' "$out/$name.out" 2>/dev/null | sed "s|$| [$path]|" \
    >>"$out/skips"
  grep '^FAIL: ' "$out/$name.out" 2>/dev/null | sed "s|$| [$path]|" \
    >>"$out/fails"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    case $rc in
      124|137) why="ran past ${TEST_TIMEOUT:-300} s" ;;
      *) why="exited with status $rc without a FAIL line" ;;
    esac
    echo "FAIL: suite $path: $why"
    echo "FAIL: suite $path: $why" >>"$out/fails"
    f=1
  fi
  echo "--- $path: $p passed, $f failed (${secs}s)"
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
done <"$out/list"

if [ -s "$out/invariants" ]; then
  echo "=== invariant: every result of a calling pipeline is an answer or an error"
  while read -r line; do
    echo "FAIL: invariant: $line"
    echo "FAIL: invariant: $line" >>"$out/fails"
    failed=$((failed + 1))
  done <"$out/invariants"
fi

if [ -s "$out/fails" ]; then
  echo
  echo "Failures:"
  cat "$out/fails"
fi
if [ "$skipped" -gt 0 ]; then
  echo
  echo "Skipped (not counted as passed):"
  cat "$out/skips"
  echo "$skipped skipped"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
