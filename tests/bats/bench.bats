#!/usr/bin/env bats
# The benchmark's harness, once, short (tools/bench-run --quick, as `make bench-quick`): every
# section runs and is reported, and nothing is left behind. No figure is asserted: speed is
# reported by `make bench`, never tested.

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
	ip netns list | awk '/^xrb-/ { print "netns " $1 }'
	ls -d /tmp/xdp-canary-bench-rollback.* 2>/dev/null | sed 's/^/dir /' || true
	ls /sys/fs/bpf | awk '/^xrb-/ { print "pin " $1 }'
	pgrep -af 'canary-pps|canary-bench|napi/xp[fg]0' | sed 's/^/process /' || true
}

@test "bench-run --quick: every section runs, the report shows each, the plots are drawn, nothing is left" {
	local out=$BATS_TEST_TMPDIR/quick report

	run tools/bench-run --quick --out "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	report=$(cat "$out/BENCHMARKS.md")
	for h in "HTTP through the splitter" "Packets per second on veth" "Scaling:" \
		 "Reaction: a failing canary" "Reaction: \`canaryctl rollback\`" "What canaryd costs" \
		 "The datapath alone"; do
		grep -q "^## $h" <<<"$report"
	done
	# HTTP: each scenario and mode was measured (a harness that failed writes 0 req/s).
	[ "$(tail -n +2 "$out/http/results.tsv" | wc -l)" -eq 14 ]
	run awk -F'\t' 'NR > 1 && !($4 > 0) { print }' "$out/http/results.tsv"
	[ -z "$output" ]
	for s in "direct, no split" "XDP forwarding floor" "xdp-canary, remote backends" \
		 "xdp-canary, local backends (TC)" "xdp-canary, TC ingress hook, tx offload on" \
		 "nginx weighted upstream" "nftables numgen DNAT"; do
		[ "$(grep -c "^| $s" <<<"$report")" -eq 2 ]
	done
	# Packets per second: 12 forwarders, each forwarded frames to the sink.
	[ "$(tail -n +2 "$out/pps.tsv" | wc -l)" -eq 12 ]
	run awk -F'\t' 'NR > 1 && !($4 > 0 && $5 > 0) { print }' "$out/pps.tsv"
	[ -z "$output" ]
	grep -q '^| xdp-canary, a new flow (SYN) every frame | ' <<<"$report"
	grep -q '^| xdp-canary, connections: SYN, ACK, RST | ' <<<"$report"
	grep -q '^| nftables DNAT, a new flow (SYN) every frame | ' <<<"$report"
	grep -q '^| nftables DNAT, connections: SYN, ACK, RST | ' <<<"$report"
	# Scaling: 9 points, three axes.
	[ "$(tail -n +2 "$out/scaling.tsv" | wc -l)" -eq 9 ]
	[ "$(grep -c '^| \(flows\|services\|backends\) | [0-9]' <<<"$report")" -eq 9 ]
	# Reactions: both health cases ended at weight 0, for the reason each was set up to give.
	grep -Eq '^\| breaker .* \| 1 \| [0-9]+ \| [0-9]+ \| [0-9]+ \| breaker: canary http_5xx ' <<<"$report"
	grep -Eq '^\| Prometheus check .* \| 1 \| [0-9]+ \| [0-9]+ \| [0-9]+ \| http-5xx: canary ' <<<"$report"
	grep -Eq '^\| through canaryd \| 5 \| [0-9.]+ \|' <<<"$report"
	grep -Eq '^\| canaryd down \(on the pins\) \| 5 \| [0-9.]+ \|' <<<"$report"
	grep -Eq '^\| 16 \| [0-9.]+ % \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \|$' <<<"$report"
	grep -q '<svg' "$out/bench-http.svg"
	grep -q '<svg' "$out/bench-scaling.svg"
	run bench_leftovers
	[ -z "$output" ]
}

@test "bench tools: bad arguments exit 2 with a reason, before anything is made" {
	run tools/bench-http --rounds 0
	[ "$status" -eq 2 ]
	[[ $output == *"--rounds 0: give 1 or more"* ]]
	run tools/bench-http --frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown argument '--frobnicate'"* ]]
	run tools/bench-http --help
	[ "$status" -eq 0 ]
	[[ $output == *"usage: tools/bench-http"* ]]
	run tools/bench-rollback --runs 0
	[ "$status" -eq 2 ]
	[[ $output == *"--runs 0: give 1 to 99"* ]]
	run tools/bench-run --frobnicate
	[ "$status" -eq 2 ]
	run build/canary-pps --rounds 0
	[ "$status" -eq 2 ]
	[[ $output == *"--rounds 1..16"* ]]
	run build/canary-pps --scenarios reflect,bogus
	[ "$status" -eq 2 ]
	[[ $output == *"unknown scenario 'bogus'"* ]]
	run build/canary-bench --only bogus
	[ "$status" -eq 2 ]
	[[ $output == *"Usage: canary-bench"* ]]
	run bench_leftovers
	[ -z "$output" ]
}
