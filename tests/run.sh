#!/bin/bash
# Runs every test suite with TAP output and ends with one line: "N passed, N failed".
# A suite that exits non-zero without reporting a failing test counts as one failure.
set -u
build=${1:-build}
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
	before=$(grep -c '^not ok' "$log")
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	after=$(grep -c '^not ok' "$log")
	if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
		echo "not ok - suite $name exited with status $rc" | tee -a "$log"
	fi
}

for t in "$build"/tests/test_*; do
	suite "unit/$(basename "$t")" "$t"
done
suite datapath "$build/tests/dp_test"
for b in tests/bats/*.bats; do
	suite "bats/$(basename "$b" .bats)" bats --tap "$b"
done

skipped=$(grep -ciE '^ok .*# skip' "$log")
passed=$(( $(grep -c '^ok' "$log") - skipped ))
failed=$(grep -c '^not ok' "$log")
echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
