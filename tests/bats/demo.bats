#!/usr/bin/env bats
# `make demo`'s scenario, run as the demo runs it (tools/demo) but on a lab of this file's own
# name: release v2 must reach 100 % stage by stage, release v3 (failing at 25 %) must be rolled
# back by the http-5xx check, the timeline must be drawn, and nothing may be left behind. The
# demo runs once, in setup_file; the tests read what it wrote.

# The bpffs entries a lab may make: iproute2's directories, and its pins.
bpffs_entries() {
	ls /sys/fs/bpf | grep -E "^(tc|ip|xdp)\$|^xc" || true
}

setup_file() {
	export DEMO_LAB="xcdt-${BATS_ROOT_PID:-$$}"
	export LAB_RUN="$BATS_FILE_TMPDIR/run"
	OUT=$BATS_FILE_TMPDIR/demo
	bpffs_entries >"$BATS_FILE_TMPDIR/bpffs.before"
	cd "$BATS_TEST_DIRNAME/../.."
	rc=0
	tools/demo --out "$OUT" >"$BATS_FILE_TMPDIR/demo.log" 2>&1 || rc=$?
	echo "$rc" >"$BATS_FILE_TMPDIR/demo.rc"
}

teardown_file() {
	LAB_NAME=$DEMO_LAB "$BATS_TEST_DIRNAME/../../tools/lab" down >/dev/null 2>&1 || true
}

setup() {
	OUT=$BATS_FILE_TMPDIR/demo
	SUMMARY=$OUT/summary.json
}

# Prints the demo's output (for a failing test's report) and checks its exit status.
demo_ok() {
	cat "$BATS_FILE_TMPDIR/demo.log"
	[ "$(cat "$BATS_FILE_TMPDIR/demo.rc")" -eq 0 ]
}

summary() {	# JQ_FILTER
	jq -r "$1" "$SUMMARY"
}

@test "demo: runs to its end without input, and prints its summary" {
	demo_ok
	grep -q '== Act 1: release v2 goes from 1 % to 100 %' "$BATS_FILE_TMPDIR/demo.log"
	grep -q '== Act 2: release v3 starts failing at 25 %' "$BATS_FILE_TMPDIR/demo.log"
	grep -q '== Summary ==' "$BATS_FILE_TMPDIR/demo.log"
	sed -n '/== Summary ==/,$p' "$BATS_FILE_TMPDIR/demo.log" >&3
}

@test "demo: act 1 takes v2 through 1, 5, 25, 50, 100 % to complete" {
	[ "$(summary .act1.result)" = complete ]
	[ "$(summary '.act1.weights | map(tostring) | join(",")')" = "1,5,25,50,100" ]
	grep -q '>> complete: stage 5 of 5 (100%) held' "$BATS_FILE_TMPDIR/demo.log"
}

@test "demo: act 2 rolls v3 back at 25 %, and the reason names the http-5xx check and its value" {
	[ "$(summary .act2.result)" = rolled_back ]
	[ "$(summary .act2.by)" = checks ]
	[ "$(summary '.act2.weights | last')" = 25 ]
	[ "$(summary '.act2.failed_checks | join(",")')" = http-5xx ]
	summary .act2.reason | grep -Eq '^http-5xx: canary 0\.[0-9]+ > max 0\.02 \([0-9]+ samples\)'
	summary .act2.reason | grep -q 'rolled back to 0%'
	grep -q '>> rollback: http-5xx: canary' "$BATS_FILE_TMPDIR/demo.log"
}

@test "demo: the load met no connection error, and few 503s: only v3 answered them, briefly" {
	[ "$(summary .load.requests)" -gt 10000 ]
	[ "$(summary .load.socket_errors)" -eq 0 ]
	[ "$(summary .load.non_2xx)" -gt 0 ]
	# 503s come from v3 only, while it failed: fewer than its share of the traffic then.
	[ "$(summary .load.non_2xx)" -lt 1000 ]
}

@test "demo: writes the timeline as a picture and as data" {
	head -c 400 "$OUT/timeline.svg" | grep -q '<svg'
	grep -q 'canary weight' "$OUT/timeline.svg"
	[ "$(wc -l <"$OUT/timeline.tsv")" -ge 60 ]
	grep -q 'fault' "$OUT/markers.tsv"
	grep -q 'rollback' "$OUT/markers.tsv"
	[ -s "$OUT/events.jsonl" ]
}

@test "demo: leaves nothing behind: no namespaces, pins, processes or files of its lab" {
	[ -z "$(ip netns list | grep "^$DEMO_LAB-" || true)" ]
	[ ! -e "/sys/fs/bpf/$DEMO_LAB" ]
	[ ! -e "$LAB_RUN/$DEMO_LAB" ]
	diff <(bpffs_entries) "$BATS_FILE_TMPDIR/bpffs.before"
	! pgrep -f "$DEMO_LAB" >/dev/null
}
