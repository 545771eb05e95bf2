#!/usr/bin/env bats
# The HTTP benchmark's harness, once, short (tools/bench-http --quick): every scenario runs and
# is reported, and nothing is left behind. No figure is asserted: speed is reported by
# `make bench`, never tested.

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
}

bench_leftovers() {
	ip netns list | awk '/^xbh-/ { print "netns " $1 }'
	ls /sys/fs/bpf | awk '/^xdp-canary-bench-/ { print "pin " $1 }'
	ls -d /tmp/xdp-canary-bench-http.* 2>/dev/null | sed 's/^/dir /' || true
	pgrep -af 'xdp-canary-bench-http' | sed 's/^/process /' || true
	ip netns list | awk '/^xbr-/ { print "netns " $1 }'
	ls -d /tmp/xdp-canary-bench-reaction.* 2>/dev/null | sed 's/^/dir /' || true
	ip netns list | awk '/^xba-/ { print "netns " $1 }'
	ls -d /tmp/xdp-canary-bench-agent.* 2>/dev/null | sed 's/^/dir /' || true
}

@test "bench-http --quick: every scenario and mode runs, the report shows each, nothing is left" {
	local out=$BATS_TEST_TMPDIR/http

	run tools/bench-http --quick --out "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tail -n +2 "$out/results.tsv" | wc -l)" -eq 12 ]
	# Each run was measured: wrk answered (a harness that failed writes 0 req/s).
	run awk -F'\t' 'NR > 1 && !($4 > 0) { print }' "$out/results.tsv"
	[ -z "$output" ]
	run tools/bench-report --http "$out" --plot "$BATS_TEST_TMPDIR/http.svg"
	[ "$status" -eq 0 ]
	for s in "direct, no split" "XDP forwarding floor" "xdp-canary, remote backends" \
		 "xdp-canary, local backends (TC)" "nginx weighted upstream" "nftables numgen DNAT"; do
		[ "$(grep -c "^| $s" <<<"$output")" -eq 2 ]
	done
	grep -q '<svg' "$BATS_TEST_TMPDIR/http.svg"
	run bench_leftovers
	[ -z "$output" ]
}

@test "bench-http: bad arguments exit 2 with a reason, before anything is made" {
	run tools/bench-http --rounds 0
	[ "$status" -eq 2 ]
	[[ $output == *"--rounds 0: give 1 or more"* ]]
	run tools/bench-http --frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown argument '--frobnicate'"* ]]
	run tools/bench-http --help
	[ "$status" -eq 0 ]
	[[ $output == *"usage: tools/bench-http"* ]]
	run bench_leftovers
	[ -z "$output" ]
}

@test "bench-reaction: rollback through the agent and on the pins, each run checked in the map" {
	run tools/bench-reaction --runs 3
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^\| through canaryd \| 3 \| [0-9.]+ \|' <<<"$output"
	grep -Eq '^\| canaryd down \(on the pins\) \| 3 \| [0-9.]+ \|' <<<"$output"
	run bench_leftovers
	[ -z "$output" ]
}

@test "bench-agent: a row for each service count, and nothing left" {
	run tools/bench-agent --seconds 1 --services "1 4"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^\| 1 \| [0-9.]+ % \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \|$' <<<"$output"
	grep -Eq '^\| 4 \| [0-9.]+ % \|' <<<"$output"
	run bench_leftovers
	[ -z "$output" ]
}
