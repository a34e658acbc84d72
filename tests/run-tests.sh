#!/usr/bin/env bash
# Run cmocka test binaries: unit tests (ASan/UBSan build) before "--", integration
# tests after it. Every binary runs from the project root (fixtures are read from
# ../shared) with a time limit; the last line sums up the test cases of every binary.
set -u
cd "$(dirname "$0")/.."
export KT_BUILD="${KT_BUILD:-build}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LIMIT="${KT_TEST_TIMEOUT:-300}"

passed=0; failed=0; broken=()
phase=unit
for t in "$@"; do
    if [ "$t" = "--" ]; then phase=integration; continue; fi
    name=$(basename "$t")
    log=$(mktemp)
    start=$(date +%s)
    timeout -k 5 "$LIMIT" "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    p=$(grep -Eo '\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -Eo '\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    passed=$((passed + p)); failed=$((failed + f))
    if [ $rc -ne 0 ]; then
        [ "$f" -eq 0 ] && failed=$((failed + 1))
        broken+=("$name")
        echo "FAIL  $phase/$name (exit $rc, ${secs}s)"
        sed 's/^/    /' "$log" | tail -60
    else
        echo "ok    $phase/$name ($p cases, ${secs}s)"
    fi
    rm -f "$log"
done
echo
[ ${#broken[@]} -gt 0 ] && echo "failed binaries: ${broken[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ ${#broken[@]} -eq 0 ]
