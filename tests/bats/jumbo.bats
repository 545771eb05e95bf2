#!/usr/bin/env bats
# Jumbo frames: every veth of the topology at MTU 9000, the forward program in native XDP,
# which takes them in several buffers (xdp.frags). Large HTTP responses, which the backends
# send in 9000-byte frames, come back whole at both versions. The topology is
# tests/e2e/lib.bash's (tx offload off at the senders: the XDP hook); everything this file makes
# is removed in teardown_file, failures included.

load ../e2e/lib
e2e_names xcj xdp-canary-jumbo 9448
TOPO_MTU=9000

setup_file() {
	topo_up
	start_backend "$NS_1" stable 192.0.2.10 8080
	start_backend "$NS_2" canary 192.0.2.70 8080
	write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_up
}

teardown_file() {
	topo_down
}

# The size of the answer to GET /big/BYTES, as the client received it.
big_get() {	# BYTES
	in_ns "$NS_C" curl -sS --max-time 10 -o /dev/null -w '%{size_download}' "http://$VIP/big/$1"
}

@test "jumbo: native XDP attaches at MTU 9000" {
	local ifc

	for ifc in s0 s1 s2; do
		[ "$(ip -n "$NS_S" -j link show "$ifc" | jq '.[0].mtu')" -eq 9000 ]
		grep -q "$ifc: xdp native" "$BATS_FILE_TMPDIR/agent.log"
	done
}

@test "jumbo: 1 MB responses in 9000-byte frames come back whole, at both versions" {
	local w size

	for w in 0 100; do
		set_weight "$w"
		for _ in 1 2 3; do
			size=$(big_get 1000000)
			# The backend's name and a newline come first: "stable\n" or "canary\n".
			[ "$size" -eq 1000007 ]
		done
	done
	# The replies came in frames past one page (more than 4000 bytes on average, ACKs and
	# all), each counted whole, none passed as truncated or split.
	for v in 0 1; do
		[ "$(ver_stat $v reply_bytes)" -gt 3000000 ]
		[ $(($(ver_stat $v reply_bytes) / $(ver_stat $v reply_packets))) -gt 4000 ]
	done
	[ "$(dp_stat 1)" -eq 0 ]
	[ "$(dp_stat 9)" -eq 0 ]
}
