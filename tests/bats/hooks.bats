#!/usr/bin/env bats
# The forward program at TC ingress, on a container host's terms: every sender keeps its tx
# checksum offload on (its packets carry partial checksums), and no XDP runs anywhere. The
# splitter's interfaces say "hook": "auto", which picks TC on veth. Remote backends, UDP, then
# backends local to the splitter (TC ingress forward, TC egress reply). The topology is
# tests/e2e/lib.bash's; everything this file makes is removed in teardown_file, failures
# included.

load ../e2e/lib
e2e_names xch xdp-canary-hooks 9447
TOPO_OFFLOAD=on
IFACE_KEYS='"hook": "auto"'

setup_file() {
	e2e_up
}

teardown_file() {
	topo_down
}

# One datagram from the client to the VIP's echo service; prints the answer.
udp_ask() {	# TEXT
	in_ns "$NS_C" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(sys.argv[1].encode(), (sys.argv[2], 53))
print(s.recv(2048).decode())
' "$1" "$VIP"
}

@test "hooks: auto picks TC ingress on veth; no XDP anywhere, every sender's tx offload on" {
	local ifc log=$BATS_FILE_TMPDIR/agent.log

	for ifc in s0 s1 s2; do
		grep -Eq "$ifc: tc ingress (tcx|clsact) \(attached" "$log"
		[ "$(ip -n "$NS_S" -j link show "$ifc" | jq '.[0].xdp')" = null ]
	done
	in_ns "$NS_C" ethtool -k c0 | grep -q '^tx-checksumming: on'
	in_ns "$NS_1" ethtool -k b0 | grep -q '^tx-checksumming: on'
	scrape | grep -Eq '^xdp_canary_attached\{interface="s0",hook="tc_ingress",mode="(tcx|clsact)"\} 1'
}

@test "hooks: every request gets through TC at weights 0, 50 % and 100 %, each backend its share" {
	shares_follow_weight 30
}

@test "hooks: the TC hook counts what XDP counts: connections, packets, responses" {
	local flows responses packets replies

	set_weight 100
	flows=$(ver_stat 1 new_flows)
	responses=$(ver_stat 1 http_responses)
	packets=$(ver_stat 1 packets)
	replies=$(ver_stat 1 reply_packets)
	run curl_n 20
	[ "$status" -eq 0 ]
	[ $(($(ver_stat 1 new_flows) - flows)) -eq 20 ]
	[ $(($(ver_stat 1 http_responses) - responses)) -eq 20 ]
	# A connection is at least SYN, ACK, request, FIN and ACK each way.
	[ $(($(ver_stat 1 packets) - packets)) -ge 80 ]
	[ $(($(ver_stat 1 reply_packets) - replies)) -ge 80 ]
	[ "$(ver_stat 1 fib_fail)" -eq 0 ]
}

@test "hooks: UDP with partial checksums through TC, both ways" {
	set_weight 0
	run udp_ask "ping-stable"
	[ "$status" -eq 0 ]
	[ "$output" = "ping-stable" ]
	set_weight 100
	run udp_ask "ping-canary"
	[ "$status" -eq 0 ]
	[ "$output" = "ping-canary" ]
}

@test "hooks: backends local to the splitter: TC ingress forward, TC egress reply" {
	start_backend "$NS_S" local-stable 198.51.100.1 8080
	start_backend "$NS_S" local-canary 198.51.100.1 8081
	write_config 198.51.100.1:8080 198.51.100.1:8081 auto
	agent_reload
	for w in 0 100; do
		set_weight "$w"
		run curl_n 10
		[ "$status" -eq 0 ]
		if [ "$w" -eq 0 ]; then
			[ "$(grep -c '^local-stable$' <<<"$output")" -eq 10 ]
		else
			[ "$(grep -c '^local-canary$' <<<"$output")" -eq 10 ]
		fi
	done
	[ "$(ver_stat 1 fwd_local)" -gt 0 ]
	write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_reload
}

@test "hooks: a reload moves the forward program between XDP and TC; connections still work" {
	local log=$BATS_FILE_TMPDIR/agent.log

	IFACE_KEYS='"hook": "xdp"' write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_reload
	grep -q 's0: xdp native' "$log"
	[ "$(ip -n "$NS_S" -j link show s0 | jq '.[0].xdp.prog.name')" = '"xdp_canary_fwd"' ]
	[ ! -e "$PIN/links/tci_s0" ]
	write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_reload
	[ "$(ip -n "$NS_S" -j link show s0 | jq '.[0].xdp')" = null ]
	set_weight 50
	run curl_n 10
	[ "$status" -eq 0 ]
}
