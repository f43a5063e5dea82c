#!/bin/sh
# tests/bench/run.sh - run every benchmark in tests/bench/ (all *.sh but
# this one) from the source root with BUILD exported.  `make bench`.
# Benchmarks print figures, never PASS/FAIL: timings are not tests.

BUILD=${BUILD:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1
status=0
for f in tests/bench/*.sh; do
  [ "$f" = tests/bench/run.sh ] && continue
  echo "=== $f"
  sh "$f" || { echo "bench: $f failed (status $?)"; status=1; }
done
exit $status
