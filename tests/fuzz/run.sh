#!/bin/sh
# tests/fuzz/run.sh - run libFuzzer harnesses (built by `make fuzz`) for a
# bounded time each and report them like tests/run.sh: one
# "PASS: fuzz_NAME" or "FAIL: fuzz_NAME: why" line per harness, then
# "N passed, N failed"; exit 1 when anything failed.
#
#   FUZZ_BUILD=build-fuzz FUZZ_TIME=60 sh tests/fuzz/run.sh NAME...
#
# Each harness runs on a copy of its seed corpus tests/fuzz/corpus/NAME/
# in $FUZZ_BUILD/run/NAME/corpus (the source tree is never written);
# a crash, leak, timeout or out-of-memory input is saved in
# $FUZZ_BUILD/run/NAME/artifacts/ and its path printed, the whole log is
# $FUZZ_BUILD/run/NAME/log.  Harnesses run FUZZ_JOBS at a time (default:
# the CPU count).  Replay one input: $FUZZ_BUILD/fuzz_NAME FILE.

FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_TIME=${FUZZ_TIME:-60}
export FUZZ_BUILD FUZZ_TIME

# Per harness: the longest input to try (bytes) and its dictionary.
max_len() {
  case $1 in
    catalog) echo 8192 ;;
    reader|json|answer_*) echo 4096 ;;
    *) echo 2048 ;;
  esac
}
dict() {
  case $1 in
    pipeline) echo tests/fuzz/pipeline.dict ;;
    *) echo tests/fuzz/json.dict ;;
  esac
}

# --- one harness (called back through xargs) --------------------------------
if [ "$1" = "--one" ]; then
  name=$2
  work=$FUZZ_BUILD/run/$name
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$name"/* "$work/corpus/" 2>/dev/null
  start=$(date +%s)
  # -close_fd_mask=2: the code's own messages (a pipeline's FILE:LINE
  # errors) go nowhere; libFuzzer's and the sanitizers' still reach the log
  "$FUZZ_BUILD/fuzz_$name" "$work/corpus" \
    -max_total_time="$FUZZ_TIME" -max_len="$(max_len "$name")" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -dict="$(dict "$name")" -artifact_prefix="$work/artifacts/" \
    -close_fd_mask=2 -print_final_stats=1 >"$work/log" 2>&1
  echo "$? $(( $(date +%s) - start ))" >"$work/rc"
  exit 0
fi

cd "$(dirname "$0")/../.." || exit 1
if [ $# -eq 0 ]; then
  echo "usage: FUZZ_BUILD=DIR FUZZ_TIME=S sh tests/fuzz/run.sh NAME..." >&2
  exit 2
fi
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
for name in "$@"; do
  if [ ! -x "$FUZZ_BUILD/fuzz_$name" ]; then
    echo "run.sh: $FUZZ_BUILD/fuzz_$name missing (make fuzz builds it)" >&2
  fi
done
echo "fuzz: $# harnesses, ${FUZZ_TIME}s each, $jobs at a time"
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh tests/fuzz/run.sh --one {}

# stat N LOG: the value of libFuzzer's final "stat::N:" line
stat() {
  sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

passed=0 failed=0
for name in "$@"; do
  work=$FUZZ_BUILD/run/$name
  log=$work/log
  set -- $(cat "$work/rc" 2>/dev/null || echo "99 0")
  rc=$1 secs=$2
  artifact=$(ls "$work/artifacts/" 2>/dev/null | head -n 1)
  runs=$(stat number_of_executed_units "$log")
  speed=$(stat average_exec_per_sec "$log")
  cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ] && [ -z "$artifact" ] && [ -n "$runs" ]; then
    echo "PASS: fuzz_$name (${runs} runs, ${speed} exec/s, cov ${cov:-?}," \
         "${secs}s)"
    passed=$((passed + 1))
  else
    why=$(grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz check failed|.*runtime error)' \
          "$log" | head -n 1 | cut -c 1-200)
    [ -n "$why" ] || why="exit status $rc"
    echo "FAIL: fuzz_$name: $why"
    [ -n "$artifact" ] && echo "  artifact: $work/artifacts/$artifact" \
      "(replay: $FUZZ_BUILD/fuzz_$name $work/artifacts/$artifact)"
    echo "  log: $log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
