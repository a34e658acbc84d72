#!/usr/bin/env bash
# Run cmocka test binaries: unit tests (ASan/UBSan build) before "--", integration
# tests after it. Every binary runs from the project root (fixtures are read from
# ../shared) with a time limit; the last line sums up the test cases of every binary.
# Nothing is skipped silently: a binary that is missing, or that ran no test case (or
# fewer than it announced), is a failure. KT_TEST_FILTER (make test T=bin:case) is
# passed on to the binaries (tests/support/kt_testfilter.c).
#
# Integration tests named in KT_TEST_EARLY (default: sim_backtest_test, which spends
# two minutes of wall time waiting on a simulated day, using little CPU) start at once
# and run beside the others; their results are reported and counted at the end.
set -u
cd "$(dirname "$0")/.."
export KT_BUILD="${KT_BUILD:-build}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LIMIT="${KT_TEST_TIMEOUT:-300}"
EARLY=" ${KT_TEST_EARLY-sim_backtest_test} "
RES=$(mktemp -d)
trap 'rm -rf "$RES"' EXIT

# Run one binary: prints its ok/FAIL line (and the log's tail on failure) and writes
# "passed failed broken" to $RES/<name>.st.
s_run() {
    local t=$1 phase=$2 name log start rc secs p f ran bad=0
    name=$(basename "$t")
    if [ ! -x "$t" ]; then
        echo "FAIL  $phase/$name (missing: $t was not built)"
        echo "0 1 1" >"$RES/$name.st"
        return
    fi
    log=$(mktemp)
    start=$(date +%s)
    timeout -k 5 "$LIMIT" "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    p=$(grep -Eo '\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -Eo '\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    ran=$(grep -Eo '\[==========\] [0-9]+ test\(s\) run' "$log" | awk '{s+=$2} END {print s+0}')
    if [ $rc -eq 0 ] && { [ $((p + f)) -eq 0 ] || [ "$ran" -ne $((p + f)) ]; }; then
        # Exit 0 without a single case (a filter that matched nothing, a main that
        # returned early) or with cases unaccounted for: never a silent pass.
        rc=1
        echo "    ($name ran $((p + f)) of $ran test cases)" >>"$log"
    fi
    if [ $rc -ne 0 ]; then
        [ "$f" -eq 0 ] && f=1
        bad=1
        echo "FAIL  $phase/$name (exit $rc, ${secs}s)"
        sed 's/^/    /' "$log" | tail -60
    else
        echo "ok    $phase/$name ($p cases, ${secs}s)"
    fi
    echo "$p $f $bad" >"$RES/$name.st"
    rm -f "$log"
}

early=()
phase=unit
for t in "$@"; do
    if [ "$t" = "--" ]; then phase=integration; continue; fi
    if [ $phase = integration ] && [[ "$EARLY" == *" $(basename "$t") "* ]]; then
        early+=("$t")
        s_run "$t" "$phase" >"$RES/$(basename "$t").out" 2>&1 &
    fi
done
phase=unit
order=()
for t in "$@"; do
    if [ "$t" = "--" ]; then phase=integration; continue; fi
    name=$(basename "$t")
    order+=("$name")
    [ $phase = integration ] && [[ "$EARLY" == *" $name "* ]] && continue
    s_run "$t" "$phase"
done
wait
for t in ${early[@]+"${early[@]}"}; do
    cat "$RES/$(basename "$t").out"
done

passed=0; failed=0; broken=()
for name in ${order[@]+"${order[@]}"}; do
    read -r p f bad <"$RES/$name.st"
    passed=$((passed + p)); failed=$((failed + f))
    [ "$bad" -eq 1 ] && broken+=("$name")
done
echo
[ ${#broken[@]} -gt 0 ] && echo "failed binaries: ${broken[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ ${#broken[@]} -eq 0 ]
