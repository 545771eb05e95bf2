#!/usr/bin/env bats
# canaryd's start (issue 16): the host checks it makes before anything else (BTF, IP forwarding
# for remote backends, the interfaces), and a start that fails at any later step: it says what
# failed and removes what it made (pins, links, clsact filters and qdiscs, the socket, the state
# files), and nothing it took over from a previous run. One test per failing step.
#
# One network namespace (xcs-ID) with two veth pairs (s0 <-> s0p, s1 <-> s1p) and IPv4
# forwarding on; the agent runs there by PID. Pins /sys/fs/bpf/xdp-canary-start-ID, files
# /tmp/xcs-ID (with an immutable directory "ro" for the steps that cannot write), a listener on
# the exporter's port in the namespace: all removed in teardown, failures included.

bats_require_minimum_version 1.5.0

ID="${BATS_ROOT_PID:-$$}"
NS="xcs-$ID"
PIN="/sys/fs/bpf/xdp-canary-start-$ID"
DIR="/tmp/xcs-$ID"
PORT=19457

# shellcheck source=tests/bats/agent.bash
. "$BATS_TEST_DIRNAME/agent.bash"

# The config, with the jq FILTER applied to a base of one service on s0 (XDP and a clsact
# filter, so that a start makes a link and a qdisc) with remote backends.
config() {	# [FILTER]
	agent_config '{"interfaces": [{"name": "s0", "xdp": "auto", "tc": "clsact"}],
	 "services": [{"name": "web", "vip": "203.0.113.100", "port": 80,
	   "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"], "weight": 5}]}' "$1"
}

xdp_of() {	# IFACE: the XDP program id on it, or nothing
	ip -n "$NS" -j link show "$1" | jq -r '.[0].xdp.prog.id // empty'
}

has_clsact() {	# IFACE
	tc -n "$NS" qdisc show dev "$1" | grep -q clsact
}

# Nothing of xdp-canary on s0 and s1, in bpffs or on disk.
nothing_left() {
	[ ! -e "$PIN" ]
	for l in s0 s1; do
		[ -z "$(xdp_of "$l")" ]
		refute has_clsact "$l"
	done
	[ ! -e "$DIR/ctl.sock" ]
	[ ! -e "$DIR/state" ]
}

# canaryd fails to start, says "start failed: MESSAGE..." and leaves nothing.
start_fails() {	# MESSAGE [ENV=VALUE...]
	local want=$1

	shift
	agent_fails "$@"
	[[ $output == *"start failed: $want"* ]]
	nothing_left
}

# Takes the exporter's port in the namespace (ip netns exec execs python: $! is its PID).
port_take() {
	ip netns exec "$NS" python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close()
time.sleep(600)
' "$PORT" "$DIR/port-taken" >/dev/null 2>&1 3>&- &
	echo $! >"$DIR/listener.pid"
	wait_file "$DIR/port-taken" 5
}

reload_failed() {	# N: since log line N
	log_since "$1" | grep -q 'error: reload '
}

setup_file() {
	agent_env_up
	ip -n "$NS" link add s1 type veth peer name s1p
	ip -n "$NS" link set s1 up
	ip -n "$NS" link set s1p up
	ip netns exec "$NS" sysctl -qw net.ipv4.conf.s1.forwarding=1
}

teardown() {
	agent_stop 2>/dev/null || true
	[ ! -f "$DIR/listener.pid" ] || pid_stop "$(cat "$DIR/listener.pid")" || true
	[ ! -f "$CFG" ] || "$CANARYD" -c "$CFG" --netns "$NS" --detach >/dev/null 2>&1 || true
	for l in s0 s1; do
		ip -n "$NS" link set "$l" xdp off 2>/dev/null || true
		tc -n "$NS" qdisc del dev "$l" clsact 2>/dev/null || true
		ip netns exec "$NS" sysctl -qw "net.ipv4.conf.$l.forwarding=1"
	done
	[ ! -d "$DIR/ro" ] || chattr -i "$DIR/ro"
	rm -rf "$PIN" "$DIR/state" "$DIR/ro" "$DIR/notbpf" "$DIR/listener.pid" "$DIR/port-taken" \
		"$DIR/ctl.sock" "$CFG"
}

teardown_file() {
	ip netns del "$NS" 2>/dev/null || true
	[ ! -d "$DIR/ro" ] || chattr -i "$DIR/ro"
	rm -rf "$PIN" "$DIR"
}

@test "start: a bad interface name is refused before anything is made" {
	config '.interfaces += [{"name": "xcsnone0"}]'
	start_fails "interfaces[1]: xcsnone0: No such device"
	[[ $output == *"it had made nothing to remove"* ]]
}

@test "start: attach refused (another XDP program on s0): what it made on s1 goes, the program stays" {
	local id

	ip netns exec "$NS" ip link set s0 xdpdrv obj "$BATS_TEST_DIRNAME/../../build/xdp_bare.bpf.o" \
		sec xdp
	id=$(xdp_of s0)
	# s1 first: its link and qdisc are made before s0 fails.
	config '.interfaces = [{"name": "s1", "xdp": "auto", "tc": "clsact"},
		{"name": "s0", "xdp": "auto", "tc": "off"}]'
	agent_fails
	[[ $output == *"start failed: attach xdp to s0: "*"XDP program id $id is attached already"* ]]
	[[ $output == *"removed what this start made: link xdp_s1, clsact qdisc on s1, "*" pins under $PIN, state directory $DIR/state with canaryd.pid, state.lock, state.json"* ]]
	[ "$(xdp_of s0)" = "$id" ]
	ip -n "$NS" link set s0 xdp off
	nothing_left
}

@test "start: a map that cannot be pinned (pin_dir not on bpffs): the directory it made goes" {
	mkdir "$DIR/notbpf"
	config ".pin_dir = \"$DIR/notbpf/pins\""
	start_fails "pin_dir $DIR/notbpf/pins is not on a bpf filesystem"
	[ -z "$(ls -A "$DIR/notbpf")" ]
}

@test "start: the control socket cannot be made: pins, link, qdisc and state go" {
	mkdir "$DIR/ro"
	chattr +i "$DIR/ro"
	config ".control.socket = \"$DIR/ro/ctl.sock\""
	start_fails "control socket $DIR/ro/ctl.sock: Operation not permitted"
	[[ $output == *"removed what this start made: link xdp_s0, clsact qdisc on s0, "*" pins under $PIN"* ]]
}

@test "start: something else at the control socket's path: refused, and that file stays" {
	echo keep >"$DIR/not-a-socket"
	config ".control.socket = \"$DIR/not-a-socket\""
	start_fails "control socket $DIR/not-a-socket: something else is there (not a socket)"
	[ "$(cat "$DIR/not-a-socket")" = keep ]
}

@test "start: the exporter's port is taken: everything it made goes, the socket too" {
	port_take
	config
	start_fails "exporter: listen on 127.0.0.1:$PORT: "
	[[ $output == *"removed what this start made: link xdp_s0, clsact qdisc on s0, "*" pins under $PIN, control socket $DIR/ctl.sock, "* ]]
}

@test "start: the state directory is not writable: refused before anything is made" {
	mkdir "$DIR/ro"
	chattr +i "$DIR/ro"
	config ".state_dir = \"$DIR/ro\""
	start_fails "open $DIR/ro/canaryd.pid: Operation not permitted"
	[ -z "$(ls -A "$DIR/ro")" ]
}
@test "start: a takeover that fails keeps the pins and links it found, removes what it made" {
	local s0_link

	config
	agent_up
	agent_stop
	s0_link=$(bpftool -j link show pinned "$PIN/links/xdp_s0" | jq .id)
	# Now s1 as well, and a start that fails at its last step.
	config '.interfaces += [{"name": "s1", "xdp": "auto", "tc": "clsact"}]'
	port_take
	agent_fails
	[[ $output == *"start failed: exporter: listen on 127.0.0.1:$PORT: "* ]]
	[[ $output == *"removed what this start made: link xdp_s1, clsact qdisc on s1, control socket $DIR/ctl.sock"* ]]
	[[ $output == *"control socket $DIR/ctl.sock; the datapath it took over stays, with its links, under $PIN"* ]]
	[[ $output != *" pins under "* ]]
	# What it found: pins, the s0 link (the same one), s0's qdisc and filter, the state file.
	[ -e "$PIN/svc_state" ]
	[ "$(bpftool -j link show pinned "$PIN/links/xdp_s0" | jq .id)" = "$s0_link" ]
	[ -n "$(xdp_of s0)" ]
	tc -n "$NS" filter show dev s0 egress | grep -q tc_canary_reply
	[ "$(jq -c .clsact "$DIR/state/state.json")" = '["s0"]' ]
	# What it made: gone.
	[ ! -e "$PIN/links/xdp_s1" ]
	[ -z "$(xdp_of s1)" ]
	refute has_clsact s1
	[ ! -e "$DIR/ctl.sock" ]
	# The datapath it left is whole: the first config starts on it.
	pid_stop "$(cat "$DIR/listener.pid")"
	rm "$DIR/listener.pid"
	config
	agent_up
	log_since 0 | grep -q "taking over the pinned datapath"
}

@test "start: forwarding off on s0 with remote backends is refused, the sysctl named; on, it starts" {
	ip netns exec "$NS" sysctl -qw net.ipv4.conf.s0.forwarding=0
	config
	start_fails "forwarding is off on s0 (net.ipv4.conf.s0.forwarding=0) and backends 192.0.2.10:8080, 192.0.2.70:8080 are remote: new flows would be dropped; sysctl -w net.ipv4.conf.s0.forwarding=1"
	# Backends on the agent's own addresses need no forwarding.
	ip -n "$NS" addr add 192.0.2.10/32 dev lo
	ip -n "$NS" addr add 192.0.2.70/32 dev lo
	agent_up
	agent_stop
	ip -n "$NS" addr del 192.0.2.10/32 dev lo
	ip -n "$NS" addr del 192.0.2.70/32 dev lo
	ip netns exec "$NS" sysctl -qw net.ipv4.conf.s0.forwarding=1
	agent_up
}

@test "reload: forwarding turned off under a running agent: the reload is refused, the agent runs" {
	local n

	config
	agent_up
	ip netns exec "$NS" sysctl -qw net.ipv4.conf.s0.forwarding=0
	n=$(log_lines)
	kill -HUP "$(agent_pid)"
	wait_until 5 reload_failed "$n"
	log_since "$n" | grep -q "reload $CFG: forwarding is off on s0 (net.ipv4.conf.s0.forwarding=0).*; keeping the running config"
	agent_running
	ctl status web >/dev/null
}

@test "start: no kernel BTF is refused before anything is made, and says what the kernel lacks" {
	config
	start_fails "no kernel BTF at $DIR/no-btf (No such file or directory): the CO-RE programs cannot load; the kernel must be built with CONFIG_DEBUG_INFO_BTF=y" \
		CANARYD_TEST_BTF="$DIR/no-btf"
}
