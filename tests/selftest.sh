#!/bin/bash
# Proves that the suite can fail: builds the datapath with a deliberate bug (every HTTP 5xx
# lost: XDP_CANARY_SELFTEST_LOSE_5XX, see bpf/conn.h) into BUILD/selftest, runs the datapath
# suite against it, and passes only if exactly the tests that count 5xx fail and every other
# one still passes. Prints TAP.
#
# usage: tests/selftest.sh [BUILD]
set -u
build=${1:-build}
cd "$(dirname "$0")/.." || exit 1

broken=$build/selftest
# The tests that count 5xx; each must go red on the broken build.
expect_failing="http_status_lines_per_request"

echo "1..3"
if ! make -s BUILD="$broken" BPF_EXTRA_CFLAGS=-DXDP_CANARY_SELFTEST_LOSE_5XX \
	"$broken/tests/dp_test" >"$broken.log" 2>&1; then
	echo "not ok 1 - selftest: build the datapath that loses 5xx (see $broken.log)"
	sed 's/^/# /' "$broken.log" | tail -20
	exit 1
fi
echo "ok 1 - selftest: built the datapath that loses 5xx into $broken"

# Its own output format, whatever run.sh asked of cmocka.
out=$(CMOCKA_MESSAGE_OUTPUT=STDOUT "$broken/tests/dp_test" 2>&1)
rc=$?
failed=$(sed -n 's/^\[  FAILED  \] \([a-z0-9_]*\)$/\1/p' <<<"$out" | sort -u | tr '\n' ' ')
failed=${failed% }
if [ "$rc" -ne 0 ] && [ "$failed" = "$expect_failing" ]; then
	echo "ok 2 - selftest: on it, the 5xx test fails: $failed"
else
	echo "not ok 2 - selftest: expected exactly '$expect_failing' to fail, got '${failed:-none}' (exit $rc)"
	grep -E 'FAILED|error' <<<"$out" | sed 's/^/# /' | head -20
fi
ran=$(awk '/^\[==========\] Running [0-9]+ test/ { n += $3 } END { print n + 0 }' <<<"$out")
passed=$(awk '/^\[  PASSED  \] [0-9]+ test/ { n += $4 } END { print n + 0 }' <<<"$out")
nfail=$(wc -w <<<"$expect_failing")
if [ "$ran" -gt 0 ] && [ $((ran - passed)) -eq "$nfail" ]; then
	echo "ok 3 - selftest: the other $passed of $ran datapath tests still pass on it"
else
	echo "not ok 3 - selftest: $passed of $ran passed; only $nfail should have failed"
fi
