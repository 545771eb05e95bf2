#!/bin/bash
# Runs the test suites with TAP output and ends with one line: "N passed, N failed".
# A suite that exits non-zero without reporting a failing test counts as one failure.
#
# usage: tests/run.sh [BUILD [SUITE...]]
# SUITE is unit, datapath, datapath-tc (its packet tests through the TC ingress hook), selftest (a deliberately broken datapath must fail its tests),
# bats/NAME (tests/bats/NAME.bats) or vmtest (the quick vmtest: boot Debian 12's kernel and run
# the datapath suite there); without one, every suite runs.
set -u
build=${1:-build}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.." || exit 1

log=$(mktemp)
cleanup() {
	rm -f "$log"
	rm -rf /sys/fs/bpf/xdp-canary-test-* 2>/dev/null
}
trap cleanup EXIT

suite() {
	local name=$1 before after rc
	shift
	echo "# suite $name"
	before=$(grep -E '^not ok' "$log" | grep -vicE '# skip')
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	after=$(grep -E '^not ok' "$log" | grep -vicE '# skip')
	if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
		echo "not ok - suite $name exited with status $rc" | tee -a "$log"
	fi
}

run_suite() {
	local t

	case $1 in
	unit)
		for t in "$build"/tests/test_*; do
			suite "unit/$(basename "$t")" "$t"
		done ;;
	datapath)
		suite datapath "$build/tests/dp_test" ;;
	datapath-tc)
		suite datapath-tc env DP_HOOK=tc "$build/tests/dp_test" ;;
	bats/*)
		suite "$1" bats --tap "tests/bats/${1#bats/}.bats" ;;
	vmtest)
		suite vmtest vmtests/vmtest --quick --build "$build" ;;
	selftest)
		suite selftest tests/selftest.sh "$build" ;;
	*)
		echo "not ok - unknown suite $1 (unit, datapath, datapath-tc, selftest, bats/NAME or" \
			"vmtest)" |
			tee -a "$log" ;;
	esac
}

if [ $# -eq 0 ]; then
	set -- unit datapath datapath-tc selftest vmtest
	for b in tests/bats/*.bats; do
		set -- "$@" "bats/$(basename "$b" .bats)"
	done
fi
for s in "$@"; do
	run_suite "$s"
done

# A skip is a skip whether its line says ok or (cmocka) not ok.
skipped=$(grep -ciE '^(not )?ok .*# skip' "$log")
passed=$(grep -E '^ok' "$log" | grep -vicE '# skip')
failed=$(grep -E '^not ok' "$log" | grep -vicE '# skip')
echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
