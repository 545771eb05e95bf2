#!/usr/bin/env bats
# What the README promises about canaryd and canaryctl on a host, one test per promise, named
# after it: --version, control.group, an interface with another XDP program, generic XDP and
# "tc": "clsact" from the config, reloads, canaryctl without the agent or with one that does not
# answer, and the agent's own metrics by value.
#
# One network namespace (xcp-ID) with a veth pair (s0 <-> s0p) and a bridge d0 (a driver
# without native XDP); the agent runs there by PID. Pins /sys/fs/bpf/xdp-canary-prm-ID, files
# /tmp/xcp-ID, group of the control socket "nogroup" (uid 65534's primary group), all removed
# in teardown, failures included. Each test writes the config it needs and starts its own agent.

bats_require_minimum_version 1.5.0

ID="${BATS_ROOT_PID:-$$}"
NS="xcp-$ID"
PIN="/sys/fs/bpf/xdp-canary-prm-$ID"
DIR="/tmp/xcp-$ID"
PORT=19437

# shellcheck source=tests/bats/agent.bash
. "$BATS_TEST_DIRNAME/agent.bash"

# The config, with the jq FILTER applied to a base of two services on s0.
config() {	# [FILTER]
	agent_config '{"interfaces": [{"name": "s0", "xdp": "auto", "tc": "off"}],
	 "services": [{"name": "web", "vip": "203.0.113.100", "port": 80, "http": true,
	   "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"], "weight": 5},
	  {"name": "dns", "vip": "203.0.113.53", "port": 53, "protocol": "udp",
	   "stable": ["192.0.2.10"], "canary": ["192.0.2.70"]}]}' "$1"
}

# The value of one exporter sample, e.g. 'xdp_canary_reloads_total{result="ok"}'.
metric() {	# SAMPLE
	scrape /metrics | awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# What a reload may change of the services canaryctl lists (not their rates).
SERVICES='[.services[] | {service, id, vip, port, protocol, hash, weight_bp, generation,
	last_change}]'

# The agent has finished a reload started at log line N.
reloaded() {	# N
	log_since "$1" | grep -Eq 'reloaded |error: reload '
}

setup_file() {
	agent_env_up
	ip -n "$NS" link add d0 type bridge
	ip -n "$NS" link set d0 up
}

# Nothing of a test's agent outlives it: stopped by PID, its datapath and pins removed.
teardown() {
	agent_stop 2>/dev/null || true
	[ ! -f "$CFG" ] || "$CANARYD" -c "$CFG" --netns "$NS" --detach >/dev/null 2>&1 || true
	ip -n "$NS" link set s0 xdp off 2>/dev/null || true
	rm -rf "$PIN" "$DIR/state" "$CFG"
}

teardown_file() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$PIN" "$DIR"
}

@test "--version: canaryd and canaryctl print the build's version, exit 0" {
	local want

	want=$(make -s -C "$BATS_TEST_DIRNAME/../.." --no-print-directory -f Makefile \
		--eval 'print-version: ; @echo $(VERSION)' print-version)
	[[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	for o in -V --version; do
		run "$CANARYD" "$o"
		[ "$status" -eq 0 ]
		[ "$output" = "canaryd $want" ]
		run "$CANARYCTL" "$o"
		[ "$status" -eq 0 ]
		[ "$output" = "canaryctl $want" ]
	done
}

@test "control.group: the socket is 0660 of that group, whose members may use it; others not" {
	config '.control.group = "nogroup"'
	agent_up
	[ "$(stat -c '%a %U %G' "$DIR/ctl.sock")" = "660 root nogroup" ]
	# A member (uid 65534, group nogroup) changes the weight through the agent.
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CANARYCTL" -c "$CFG" -r "from the group" weight web 7
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ $output == *"canary weight 5.00% -> 7.00%"* ]]
	[[ $stderr != *directly* ]]
	[ "$(pinned weight)" -eq 700 ]
	log_since 0 | grep -q "canaryctl uid 65534 pid [0-9]*: from the group"
	# The same user in another group cannot open the socket, nor use the pins.
	run --separate-stderr setpriv --reuid=65534 --regid=100 --clear-groups \
		"$CANARYCTL" -c "$CFG" weight web 50
	[ "$status" -eq 1 ]
	[[ $stderr == *"Permission denied"* ]]
	[ "$(pinned weight)" -eq 700 ]
}

@test "another XDP program on an interface: canaryd refuses it, names its id, starts nothing" {
	local id

	ip netns exec "$NS" ip link set s0 xdpdrv obj "$BATS_TEST_DIRNAME/../../build/xdp_bare.bpf.o" \
		sec xdp
	id=$(ip -n "$NS" -j link show s0 | jq '.[0].xdp.prog.id')
	[[ $id =~ ^[0-9]+$ ]]
	config
	agent_fails
	[[ $output == *"s0"*"XDP program id $id is attached already"* ]]
	# Nothing was started: no socket, no pins, the other program still in place.
	[ ! -e "$DIR/ctl.sock" ]
	[ ! -e "$PIN/svc_state" ]
	[ -z "$(ls "$PIN/links" 2>/dev/null)" ]
	[ "$(ip -n "$NS" -j link show s0 | jq '.[0].xdp.prog.id')" = "$id" ]
	# "xdp": "off" on that interface is the way around it.
	config '.interfaces[0].xdp = "off"'
	agent_up
	[ "$(ip -n "$NS" -j link show s0 | jq '.[0].xdp.prog.id')" = "$id" ]
}

@test "xdp auto on a driver without native XDP: generic mode, and canaryd says so; native refuses" {
	config '.interfaces = [{"name": "d0", "xdp": "auto", "tc": "off"}]'
	agent_up
	log_since 0 | grep -q "d0: the driver has no native XDP; running in generic mode (slower, same behaviour)"
	log_since 0 | grep -q "d0: xdp generic (attached)"
	[ "$(ip -n "$NS" -j link show d0 | jq -r '.[0].xdp.mode')" = 2 ]	# generic
	[ "$(metric 'xdp_canary_attached{interface="d0",hook="xdp",mode="generic"}')" = 1 ]
	teardown
	config '.interfaces = [{"name": "d0", "xdp": "native", "tc": "off"}]'
	agent_fails
	[[ $output == *"attach xdp to d0"* ]]
	[ "$(ip -n "$NS" -j link show d0 | jq '.[0].xdp')" = null ]
}

@test "tc clsact in the config: a clsact qdisc and filter on egress, not a TCX link" {
	config '.interfaces[0].tc = "clsact"'
	agent_up
	log_since 0 | grep -q "s0: tc egress clsact (attached)"
	ip netns exec "$NS" tc filter show dev s0 egress | grep -q tc_canary_reply
	[ ! -e "$PIN/links/tcx-s0" ]
	[ "$(metric 'xdp_canary_attached{interface="s0",hook="tc",mode="clsact"}')" = 1 ]
	[ "$(metric 'xdp_canary_attached{interface="s0",hook="xdp",mode="native"}')" = 1 ]
}

@test "reload: an invalid config changes nothing; the agent says why; reloads and reload_ok say it" {
	local n before

	config
	agent_up
	ctl weight web 12 >/dev/null
	[ "$(metric 'xdp_canary_agent_config_last_reload_ok')" = 1 ]
	before=$(ctl -s "$DIR/ctl.sock" --json services | jq -c "$SERVICES")
	cp "$CFG" "$DIR/good.json"
	jq '.services[0].weight = 101 | .services[1].port = 54' "$DIR/good.json" >"$CFG"
	n=$(log_lines)
	# canaryctl cannot read the bad file either: it is told the socket.
	ctl -s "$DIR/ctl.sock" reload >/dev/null
	wait_until 5 reloaded "$n"
	log_since "$n" | grep -q "services\[0\].weight: 101 is not"
	agent_running
	[ "$(ctl -s "$DIR/ctl.sock" --json services 2>/dev/null | jq -c "$SERVICES")" = "$before" ]
	[ "$(pinned weight)" -eq 1200 ]
	[ "$(metric 'xdp_canary_agent_config_last_reload_ok')" = 0 ]
	[ "$(metric 'xdp_canary_agent_reloads_total{result="failed"}')" = 1 ]
	[ "$(metric 'xdp_canary_agent_reloads_total{result="ok"}')" = 0 ]
	# A good one again: ok.
	cp "$DIR/good.json" "$CFG"
	n=$(log_lines)
	kill -HUP "$(agent_pid)"
	wait_until 5 reloaded "$n"
	[ "$(metric 'xdp_canary_agent_config_last_reload_ok')" = 1 ]
	[ "$(metric 'xdp_canary_agent_reloads_total{result="ok"}')" = 1 ]
}

@test "reload: services added and removed, overrides and hash mode changed, a weight edited" {
	local n svcs

	config
	agent_up
	ctl weight web 12 >/dev/null
	# dns goes, api comes; web gets client hashing and an override; its file weight stays 5.
	config '.services[1] = {"name": "api", "vip": "203.0.113.101", "port": 443,
		"stable": ["192.0.2.11:8443"], "canary": ["192.0.2.71:8443"], "weight": 30} |
		.services[0].hash = "client" |
		.services[0].overrides = [{"prefix": "198.51.100.0/24", "version": "canary"}]'
	n=$(log_lines)
	ctl reload >/dev/null
	wait_until 5 reloaded "$n"
	svcs=$(ctl --json services)
	echo "$svcs"
	[ "$(jq -c '[.services[].service] | sort' <<<"$svcs")" = '["api","web"]' ]
	[ "$(jq -r '.services[] | select(.service == "api") | .weight' <<<"$svcs")" = 30 ]
	# web kept the weight canaryctl set: the file's number was not edited.
	[ "$(pinned weight)" -eq 1200 ]
	run bpftool -j map lookup pinned "$PIN/svc_state" key 0 0 0 0
	[ "$(jq .formatted.value.mode <<<"$output")" -eq 1 ]		# per client
	[ "$(( $(jq .formatted.value.flags <<<"$output") & 2 ))" -eq 2 ]	# has overrides
	[ "$(bpftool -j map dump pinned "$PIN/overrides" | jq length)" -eq 1 ]
	run ctl status dns
	[ "$status" -eq 2 ]
	# Now the file's weight of web is edited: that one is applied.
	config '.services[0].weight = 40'
	n=$(log_lines)
	ctl reload >/dev/null
	wait_until 5 reloaded "$n"
	[ "$(pinned weight)" -eq 4000 ]
	run bpftool -j map lookup pinned "$PIN/svc_state" key 0 0 0 0
	[ "$(jq .formatted.value.mode <<<"$output")" -eq 0 ]
	[ "$(bpftool -j map dump pinned "$PIN/overrides" | jq length)" -eq 0 ]
}

@test "canaryctl without the agent: pause and resume go to the state file, start is refused" {
	config '.services[0].rollout = {"stages": [{"weight": 5, "hold": "1m"}, 100],
		"checks": [{"name": "k", "source": "kernel", "metric": "error_ratio",
			    "max": 0.5}]}'
	agent_up
	ctl start web >/dev/null
	agent_stop
	run --separate-stderr ctl pause web --reason "down for the night"
	[ "$status" -eq 0 ]
	[[ $stderr == *"canaryd is not running"* ]]
	[ "$(jq -r .services.web.rollout.paused "$DIR/state/state.json")" = true ]
	run --separate-stderr ctl start web
	[ "$status" -eq 1 ]
	[[ $stderr == *"needs canaryd"* ]]
	agent_up
	[ "$(ctl --json status web | jq .services[0].rollout.paused)" = true ]
	agent_stop
	run --separate-stderr ctl resume web
	[ "$status" -eq 0 ]
	[ "$(jq -r .services.web.rollout.paused "$DIR/state/state.json")" = false ]
	agent_up
	[ "$(ctl --json status web | jq .services[0].rollout.paused)" = false ]
}

# (Not with a clsact filter: canaryctl runs outside the agent's namespace here, where the
# filter is; canaryd --detach --netns is the test of that.)
@test "canaryctl teardown without the agent: links, pins and state removed" {
	config
	agent_up
	agent_stop
	[ -n "$(ip -n "$NS" -j link show s0 | jq '.[0].xdp.prog.id // empty')" ]
	run --separate-stderr ctl teardown
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ ! -e "$PIN" ]
	[ ! -e "$DIR/state/state.json" ]
	[ "$(ip -n "$NS" -j link show s0 | jq '.[0].xdp')" = null ]
}

# A socket at the control path that takes connections and never answers: a stalled agent.
mute_agent() {
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(16)
conns = []
while True:
    conns.append(s.accept()[0])
' "$DIR/ctl.sock" &
	echo $! >"$DIR/mute.pid"
	wait_file "$DIR/ctl.sock" 5
}

@test "canaryctl with an agent that does not answer in 5 s: weight and rollback act on the pins" {
	config
	agent_up
	agent_stop
	rm -f "$DIR/ctl.sock"
	mute_agent
	run --separate-stderr ctl -r "agent stuck" weight web 9
	local st=$status out=$output err=$stderr
	run --separate-stderr ctl rollback web
	local st2=$status err2=$stderr
	pid_stop "$(cat "$DIR/mute.pid")"
	echo "$out $err $err2"
	[ "$st" -eq 0 ]
	[[ $out == *"canary weight 5.00% -> 9.00%"* ]]
	[[ $err == *"no answer"* ]]
	[ "$st2" -eq 0 ]
	[[ $err2 == *"no answer"* ]]
	[ "$(pinned weight)" -eq 0 ]
}
