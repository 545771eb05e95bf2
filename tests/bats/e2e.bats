#!/usr/bin/env bats
# Real connections through the splitter: a client namespace, the splitter, and two backend
# namespaces running real HTTP servers; then both backends local to the splitter. Everything
# this file creates has names of its own and is removed in teardown_file, failures included.
#
#   client 198.51.100.2 (c0) --- s0 198.51.100.1  splitter  s1 192.0.2.1  --- stable 192.0.2.10
#                                                           s2 192.0.2.65 --- canary 192.0.2.70
#   VIP 203.0.113.100:80, routed to the splitter; backends answer on :8080.
# The client and backends send with full checksums (tx offload off on c0 and b0): XDP rewrites
# checksums incrementally and must not see partial ones. The splitter keeps its offloads, so the
# local-backend test also shows the TC path handling CHECKSUM_PARTIAL.

ID="${BATS_ROOT_PID:-$$}"
NS_C="xce-c-$ID"
NS_S="xce-s-$ID"
NS_1="xce-1-$ID"
NS_2="xce-2-$ID"
PIN="/sys/fs/bpf/xdp-canary-e2e-$ID"
VIP=203.0.113.100

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

start_backend() {	# NS NAME ADDR PORT
	# Not through a shell function: $! must be the server's own PID (ip netns exec execs it).
	ip netns exec "$1" python3 "$BATS_TEST_DIRNAME/../e2e/backend.py" "$2" "$3" "$4" \
		"$BATS_FILE_TMPDIR" >/dev/null 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/$2.pid"
	for _ in $(seq 50); do
		in_ns "$1" bash -c "exec 3<>/dev/tcp/$3/$4" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Ends a process this file started, by its PID, and waits until it is gone (it may have been
# started by another test's shell, so `wait` cannot be used).
stop_pidfile() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

lab_up() {	# lab-dp options after PIN and NETNS
	"$LAB_DP" up "$PIN" "$NS_S" "$@" >"$BATS_FILE_TMPDIR/lab.log" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/lab.pid"
	for _ in $(seq 100); do
		grep -q '^ready$' "$BATS_FILE_TMPDIR/lab.log" && return 0
		kill -0 "$(cat "$BATS_FILE_TMPDIR/lab.pid")" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BATS_FILE_TMPDIR/lab.log" >&2
	return 1
}

setup_file() {
	export LAB_DP="$BATS_TEST_DIRNAME/../../build/tests/lab-dp"
	local bare="$BATS_TEST_DIRNAME/../../build/xdp_bare.bpf.o"

	for ns in "$NS_C" "$NS_S" "$NS_1" "$NS_2"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add c0 netns "$NS_C" type veth peer name s0 netns "$NS_S"
	ip link add b0 netns "$NS_1" type veth peer name s1 netns "$NS_S"
	ip link add b0 netns "$NS_2" type veth peer name s2 netns "$NS_S"
	ip -n "$NS_C" addr add 198.51.100.2/24 dev c0
	ip -n "$NS_S" addr add 198.51.100.1/24 dev s0
	ip -n "$NS_S" addr add 192.0.2.1/26 dev s1
	ip -n "$NS_S" addr add 192.0.2.65/26 dev s2
	ip -n "$NS_1" addr add 192.0.2.10/26 dev b0
	ip -n "$NS_2" addr add 192.0.2.70/26 dev b0
	for l in "$NS_C c0" "$NS_S s0" "$NS_S s1" "$NS_S s2" "$NS_1 b0" "$NS_2 b0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$NS_C" route add default via 198.51.100.1
	ip -n "$NS_1" route add default via 192.0.2.1
	ip -n "$NS_2" route add default via 192.0.2.65
	in_ns "$NS_S" sysctl -qw net.ipv4.ip_forward=1
	in_ns "$NS_C" ethtool -K c0 tx off >/dev/null
	in_ns "$NS_1" ethtool -K b0 tx off >/dev/null
	in_ns "$NS_2" ethtool -K b0 tx off >/dev/null
	# A veth delivers XDP_TX and redirects only to a peer that runs XDP itself. iproute2's
	# loader makes its own directories in bpffs: note whether they were there before.
	[ -e /sys/fs/bpf/tc ] && touch "$BATS_FILE_TMPDIR/had-iproute-bpffs"
	ip -n "$NS_C" link set dev c0 xdp obj "$bare" sec xdp
	ip -n "$NS_1" link set dev b0 xdp obj "$bare" sec xdp
	ip -n "$NS_2" link set dev b0 xdp obj "$bare" sec xdp

	start_backend "$NS_1" stable 192.0.2.10 8080
	start_backend "$NS_2" canary 192.0.2.70 8080
	lab_up --vip "$VIP:80" --stable 192.0.2.10:8080 --canary 192.0.2.70:8080 --http \
		--xdp s0 --xdp s1 --xdp s2 --tx s0 --tx s1 --tx s2
}

teardown_file() {
	stop_pidfile "$BATS_FILE_TMPDIR/lab.pid"
	for f in "$BATS_FILE_TMPDIR"/*.pid; do
		stop_pidfile "$f"
	done
	for ns in "$NS_C" "$NS_S" "$NS_1" "$NS_2"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$PIN"
	if [ ! -e "$BATS_FILE_TMPDIR/had-iproute-bpffs" ]; then
		rm -f /sys/fs/bpf/ip /sys/fs/bpf/xdp
		rmdir /sys/fs/bpf/tc/globals /sys/fs/bpf/tc 2>/dev/null || true
	fi
}

set_weight() {
	"$LAB_DP" weight "$PIN" "$1"
}

reset_hits() {
	rm -f "$BATS_FILE_TMPDIR"/*.hits
}

hits() {
	[ -f "$BATS_FILE_TMPDIR/$1.hits" ] && wc -l <"$BATS_FILE_TMPDIR/$1.hits" || echo 0
}

# N requests, each on a connection of its own; prints one answer (backend name) a line.
curl_n() {
	for _ in $(seq "$1"); do
		in_ns "$NS_C" curl -sS --max-time 5 "http://$VIP/" || echo "FAILED"
	done
}

# Sum over CPUs of one ver_stats field, as an SRE reads it: bpftool on the pinned map.
ver_stat() {	# VERSION FIELD
	bpftool -j map lookup pinned "$PIN/ver_stats" key "$1" 0 0 0 |
		jq "[.formatted.values[].value.$2] | add"
}

hist_count() {	# VERSION KIND(0 handshake, 1 ttfb)
	bpftool -j map lookup pinned "$PIN/lat_hist" key $(($1 * 2 + $2)) 0 0 0 |
		jq '[.formatted.values[].value.count] | add'
}

@test "e2e: every request gets through at weights 0, 50 % and 100 %, each backend its share" {
	for w in 0 5000 10000; do
		set_weight "$w"
		reset_hits
		run curl_n 40
		[ "$status" -eq 0 ]
		! echo "$output" | grep -q FAILED
		stable=$(echo "$output" | grep -c '^stable$' || true)
		canary=$(echo "$output" | grep -c '^canary$' || true)
		[ $((stable + canary)) -eq 40 ]
		[ "$(hits stable)" -eq "$stable" ]
		[ "$(hits canary)" -eq "$canary" ]
		case $w in
		0) [ "$canary" -eq 0 ] ;;
		10000) [ "$stable" -eq 0 ] ;;
		*) [ "$stable" -gt 0 ] && [ "$canary" -gt 0 ] ;;
		esac
	done
}

@test "e2e: handshake and time-to-first-byte histograms fill, read with bpftool" {
	set_weight 0
	curl_n 3 >/dev/null
	[ "$(hist_count 0 0)" -ge 3 ]
	[ "$(hist_count 0 1)" -ge 3 ]
	[ "$(ver_stat 0 reply_packets)" -gt 0 ]
	[ "$(ver_stat 0 http_responses)" -ge 3 ]
}

@test "e2e: every 503 of the canary is in its HTTP 5xx counter, and only there" {
	set_weight 10000
	echo 503 >"$BATS_FILE_TMPDIR/canary.status"
	before=$(ver_stat 1 http_5xx)
	stable_before=$(ver_stat 0 http_5xx)
	for _ in $(seq 10); do
		code=$(in_ns "$NS_C" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$VIP/")
		[ "$code" = 503 ]
	done
	rm -f "$BATS_FILE_TMPDIR/canary.status"
	[ $(($(ver_stat 1 http_5xx) - before)) -eq 10 ]
	[ "$(ver_stat 0 http_5xx)" -eq "$stable_before" ]
}

@test "e2e: a stopped backend shows up as connection refused" {
	set_weight 10000
	stop_pidfile "$BATS_FILE_TMPDIR/canary.pid"
	before=$(ver_stat 1 rst_refused)
	for _ in $(seq 5); do
		run in_ns "$NS_C" curl -sS --max-time 5 "http://$VIP/"
		[ "$status" -eq 7 ]	# curl: failed to connect
	done
	[ $(($(ver_stat 1 rst_refused) - before)) -eq 5 ]
	start_backend "$NS_2" canary 192.0.2.70 8080
}

@test "e2e: backends local to the splitter, replies rewritten on TC egress" {
	stop_pidfile "$BATS_FILE_TMPDIR/lab.pid"
	start_backend "$NS_S" local-stable 198.51.100.1 8080
	start_backend "$NS_S" local-canary 198.51.100.1 8081
	lab_up --vip "$VIP:80" --stable 198.51.100.1:8080 --canary 198.51.100.1:8081 --http \
		--xdp s0 --tc s0
	grep -q '^tc egress on s0: tcx$' "$BATS_FILE_TMPDIR/lab.log"
	for w in 0 5000 10000; do
		set_weight "$w"
		run curl_n 20
		! echo "$output" | grep -q FAILED
		stable=$(echo "$output" | grep -c '^local-stable$' || true)
		canary=$(echo "$output" | grep -c '^local-canary$' || true)
		[ $((stable + canary)) -eq 20 ]
		case $w in
		0) [ "$canary" -eq 0 ] ;;
		10000) [ "$stable" -eq 0 ] ;;
		*) [ "$stable" -gt 0 ] && [ "$canary" -gt 0 ] ;;
		esac
	done
	[ "$(ver_stat 1 http_responses)" -gt 0 ]
}
