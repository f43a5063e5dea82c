# tests/bench/route_profile.sh - where an audit line's time goes, counted
# in instructions (valgrind's callgrind): steadier than wall time on a
# shared machine, and it names the part of the run that costs them.
#
#   BUILD=build sh tests/bench/route_profile.sh [N]
#
# Runs the audit pipeline over N lines (default 5,000) of the example
# workload, then over N of its short lines (under 600 bytes), and prints
# instructions per line in all and the share of reading, each stage and
# writing, then the calls into jq a line and what they cost.  Start-up
# (loading the stages, the catalog and the classifier model) is in the
# total, so N much below 5,000 inflates it.  Needs valgrind
# (callgrind_annotate); without it, says so and exits 0.

BUILD=${BUILD:-build}
LLMROUTE=$BUILD/bin/llmroute
N=${1:-5000}

if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate \
     >/dev/null; then
  echo "route_profile: valgrind is not installed; nothing measured"
  exit 0
fi
if [ ! -x "$LLMROUTE" ]; then
  echo "route_profile: $LLMROUTE not built (make BUILD=$BUILD)" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmr-prof.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# profile NAME MAXLEN: N lines of the examples shorter than MAXLEN, as
# route_bench.sh makes them.
profile() {
  sh tests/bench/route_bench.sh --gen "$N" "$2" >"$TMP/in.jsonl"
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
    "$LLMROUTE" -p audit "$TMP/in.jsonl" >/dev/null 2>"$TMP/vg.err" || {
    echo "route_profile: the run failed:" >&2
    cat "$TMP/vg.err" >&2
    return 1
  }
  callgrind_annotate --inclusive=yes "$TMP/cg.out" 2>/dev/null | awk \
    -v name="$1" -v n="$N" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    # inclusive cost of a function, by the name after the colon
    function take(key, label) {
      if(index($0, ":" key " ") && !(label in seen)) {
        v = $1; gsub(",", "", v); seen[label] = v
      }
    }
    {
      take("reader_fill", "read and parse lines")
      take("classify_process", "classify")
      take("price_process", "price")
      take("route_process", "route")
      take("writer_put", "write results, free jobs")
      take("init_stages", "start-up (stages, catalog, model)")
    }
    END {
      printf "%s: %d lines, %.0f instructions a line\n", name, n, total / n
      split("read and parse lines|classify|price|route|" \
            "write results, free jobs|start-up (stages, catalog, model)",
            order, "|")
      for(i = 1; i <= 6; i++)
        printf "  %-36s %5.1f%%  %7.0f a line\n", order[i],
               100 * seen[order[i]] / total, seen[order[i]] / n
    }'
  # Calls into jq 1.6 from llmroute's own code (stages included), a line
  # (start-up included), and the instructions they cost in all, the
  # costliest first.  In callgrind_annotate's caller tree a block lists
  # the callers ("<", each with its count "(Nx)") above the function
  # ("*"); blank lines part the blocks.  Calls among jq's own functions
  # are not counted.
  echo "  calls into jq a line (instructions a line, inside jq included):"
  callgrind_annotate --inclusive=yes --tree=caller "$TMP/cg.out" \
    2>/dev/null | awk -v n="$N" '
    /^$/ { calls = 0; cost = 0; next }
    / < / {
      if($0 !~ /libjq/ && match($0, /\([0-9,]+x\)/)) {
        c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c)
        v = $1; gsub(",", "", v)
        calls += c; cost += v
      }
      next
    }
    /\*  \?\?\?:jv_[a-z_]+ / && calls > 0 {
      f = $0; sub(/.*\?\?\?:/, "", f); sub(/ .*/, "", f)
      printf "%s %.1f %.0f\n", f, calls / n, cost / n
    }' | sort -k3 -rn | head -6 | awk '
    { printf "    %-24s %6.1f  (%6.0f)\n", $1, $2, $3 }'
}

profile "example mix" 1000000 || exit 1
profile "short lines (< 600 B)" 600 || exit 1
echo "reproduce: make BUILD=$BUILD && BUILD=$BUILD sh tests/bench/route_profile.sh $N"
