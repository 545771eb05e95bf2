#!/usr/bin/env bats
# canaryctl and canaryd as an operator meets them: usage and exit codes, bad input that must
# change nothing, every command with canaryd running and (weight, rollback, status) without it,
# the exporter, the control socket's permissions, --check-config, the agent lock, and removal.
#
# One network namespace with a veth pair (s0 <-> s0p) and no traffic: the agent attaches to s0
# and its exporter listens inside the namespace. Everything this file creates has names of its
# own (namespace xcc-ID, pins /sys/fs/bpf/xdp-canary-ctl-ID, files /tmp/xcc-ctl-ID) and is
# removed in teardown_file, failures included. The work directory is world-readable so that the
# non-root tests reach the control socket and the config.

bats_require_minimum_version 1.5.0

ID="${BATS_ROOT_PID:-$$}"
NS="xcc-$ID"
PIN="/sys/fs/bpf/xdp-canary-ctl-$ID"
DIR="/tmp/xcc-ctl-$ID"
PORT=19436
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

write_config() {	# FILE PIN_DIR STATE_DIR SOCKET
	cat >"$1" <<EOF
{"pin_dir": "$2", "state_dir": "$3", "control": {"socket": "$4"},
 "exporter": {"listen": "127.0.0.1:$PORT"},
 "interfaces": [{"name": "s0", "xdp": "auto", "tc": "auto"}],
 "services": [{"name": "web", "vip": "203.0.113.100", "port": 80, "http": true,
   "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"], "weight": 5},
  {"name": "dns", "vip": "203.0.113.53", "port": 53, "protocol": "udp",
   "stable": ["192.0.2.10"], "canary": []}]}
EOF
	chmod 644 "$1"
}

# shellcheck source=tests/bats/agent.bash
. "$BATS_TEST_DIRNAME/agent.bash"

# What bad input must leave alone: the pinned weight and generation, and the state file.
snapshot() {
	echo "$(pinned weight) $(pinned gen) $(md5sum <"$DIR/state/state.json")"
}

# How many links canaryd pins for s0: XDP, and TC where the kernel has TCX (clsact before 6.6
# is a filter, not a link).
links_expected() {
	[ "$(kernel_tc_mode)" = tcx ] && echo 2 || echo 1
}

# Whether our TC program is a filter on s0's egress (the clsact fallback).
tc_filter_on_s0() {
	ip netns exec "$NS" tc filter show dev s0 egress | grep -q tc_canary_reply
}

# The IDs of the BPF links pinned under $PIN (XDP and TC on s0).
pinned_links() {
	local f

	for f in "$PIN"/links/*; do
		bpftool -j link show pinned "$f" | jq -r .id
	done
}

setup_file() {
	agent_env_up
	write_config "$CFG" "$PIN" "$DIR/state" "$DIR/ctl.sock"
	agent_up
}

teardown_file() {
	agent_stop || true
	if [ -e "$PIN" ] && [ -f "$CFG" ]; then
		"$CANARYD" -c "$CFG" --netns "$NS" --detach >/dev/null 2>&1 || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$PIN" "$PIN-check"
	rm -rf "$DIR"
}

# --- 1. usage --------------------------------------------------------------------------------

@test "canaryctl --help and COMMAND --help for every command: exit 0, usage on stdout" {
	run --separate-stderr "$CANARYCTL" --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: canaryctl"* ]]
	for c in status services weight rollback start promote pause resume history reload teardown; do
		[[ $output == *"  $c "* ]]
	done
	for c in status services weight rollback start promote pause resume history reload teardown; do
		run --separate-stderr "$CANARYCTL" "$c" --help
		[ "$status" -eq 0 ]
		[[ $output == "usage: canaryctl [OPTIONS] $c"* ]]
		run --separate-stderr "$CANARYCTL" -h "$c"
		[ "$status" -eq 0 ]
		[[ $output == *"usage:"* ]]
	done
}

@test "canaryd --help: exit 0, usage" {
	run --separate-stderr "$CANARYD" --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: canaryd"* ]]
	[[ $output == *"--check-config"* ]]
	run "$CANARYD" --bogus
	[ "$status" -eq 2 ]
	run "$CANARYD" stray
	[ "$status" -eq 2 ]
	[[ $output == *"unexpected argument 'stray'"* ]]
}

@test "canaryctl: no command, unknown command, unknown option: exit 2" {
	run --separate-stderr "$CANARYCTL"
	[ "$status" -eq 2 ]
	[[ $stderr == *"usage: canaryctl"* ]]
	run --separate-stderr "$CANARYCTL" -c "$CFG"
	[ "$status" -eq 2 ]
	run --separate-stderr "$CANARYCTL" -c "$CFG" frobnicate
	[ "$status" -eq 2 ]
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
	run --separate-stderr "$CANARYCTL" -c "$CFG" --frobnicate status
	[ "$status" -eq 2 ]
	[[ $stderr == *"unknown option --frobnicate"* ]]
	run --separate-stderr "$CANARYCTL" -c "$CFG" status --hard=yes
	[ "$status" -eq 2 ]
	run --separate-stderr "$CANARYCTL" -c
	[ "$status" -eq 2 ]
	[[ $stderr == *"-c needs a value"* ]]
}

# --- 2. bad input changes nothing ------------------------------------------------------------

# ARGS|what stderr says. Each must exit 2 and leave the weight, generation and state alone.
BAD_INPUT=(
	'weight web 101|"101" is not a percentage (0..100)'
	'weight web -1|"-1" is not a percentage (0..100)'
	'weight web abc|"abc" is not a number'
	'weight web 1.234|"1.234" has more than two decimals'
	'weight web 100.01|"100.01" is not a percentage (0..100)'
	'weight web 1e2|"1e2" is not a number'
	'weight web 5.|"5." is not a number'
	'weight web|weight: missing PERCENT'
	'weight|weight: missing SERVICE'
	'weight nosuch 10|no service "nosuch"'
	'rollback nosuch|no service "nosuch"'
	'rollback nosuch --hard|no service "nosuch"'
	'promote nosuch|no service "nosuch"'
	'rollback web --full|rollback has no option --full'
	'promote web --hard|promote has no option --hard'
	'weight web 10 --hard|weight has no option --hard'
	'status nosuch|no service "nosuch"'
	'status web extra|status: unexpected argument '"'extra'"
	'weight web 10 extra|weight: unexpected argument '"'extra'"
	'rollback web extra|rollback: unexpected argument '"'extra'"
	'weight web 10 --reason|--reason needs a value'
)

check_bad_input() {
	local before line args want

	before=$(snapshot)
	# A weight, a generation and the state file's digest: a missing pin would leave a blank.
	[[ $before =~ ^[0-9]+\ [0-9]+\ [0-9a-f]{32}\ \ -$ ]]
	for line in "${BAD_INPUT[@]}"; do
		read -ra args <<<"${line%%|*}"
		want=${line#*|}
		run --separate-stderr "$CANARYCTL" -c "$CFG" "${args[@]}"
		if [ "$status" -ne 2 ] || [[ $stderr != *"$want"* ]] || [ -n "$output" ]; then
			echo "canaryctl ${args[*]}: exit $status, stdout '$output', stderr: $stderr" >&2
			echo "expected exit 2 and '$want'" >&2
			return 1
		fi
		[ "$(snapshot)" = "$before" ] || {
			echo "canaryctl ${args[*]} changed $before to $(snapshot)" >&2
			return 1
		}
	done
}

@test "bad input with canaryd running: exit 2, clear message, nothing changed" {
	ensure_running
	ctl -r setup weight web 5 >/dev/null
	local n
	n=$(log_lines)
	check_bad_input
	[ "$(pinned weight)" -eq 500 ]
	run ctl --json status web
	[ "$status" -eq 0 ]
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 500 ]
	# The agent saw the unknown service requests and changed nothing.
	run log_since "$n"
	[[ $output != *"service web:"* ]]
}

@test "bad input with canaryd stopped: exit 2, clear message, pins not touched" {
	ensure_running
	ctl -r setup weight web 5 >/dev/null
	agent_stop
	[ ! -e "$DIR/ctl.sock" ]
	check_bad_input
	[ "$(pinned weight)" -eq 500 ]
}

# --- 3. with canaryd running -----------------------------------------------------------------

@test "services lists web (id 0) and dns" {
	ensure_running
	run --separate-stderr ctl services
	[ "$status" -eq 0 ]
	[[ $output == *"SERVICE"* ]]
	grep -Eq '^web +0 +203\.0\.113\.100:80/tcp ' <<<"$output"
	grep -Eq '^dns +1 +203\.0\.113\.53:53/udp ' <<<"$output"
	[ -z "$stderr" ]
	run --separate-stderr ctl --json services
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.services[] | [.service, .id]]' <<<"$output")" = '[["web",0],["dns",1]]' ]
}

@test "weight web 2.5: exit 0, says 2.50; --json answer is JSON with the right fields" {
	ensure_running
	ctl weight web 1 >/dev/null
	run --separate-stderr ctl -r "ramp to 2.5" weight web 2.5
	[ "$status" -eq 0 ]
	[[ $output == *"web: weight: canary weight 1.00% -> 2.50%"* ]]
	[ "$(pinned weight)" -eq 250 ]
	run --separate-stderr ctl --json weight web 3.75
	[ "$status" -eq 0 ]
	jq -e . <<<"$output" >/dev/null
	[ "$(jq -c '[.ok, .service, .action, .from, .to, .hard, (.generation | type)]' \
		<<<"$output")" = '[true,"web","weight","2.50","3.75",false,"number"]' ]
	[ "$(jq -r '.direct // false' <<<"$output")" = false ]
	run ctl --json status web
	[ "$status" -eq 0 ]
	[ "$(jq -c '.services[0] | [.service, .weight_bp, .weight, .versions.canary.weight,
		.versions.stable.weight]' <<<"$output")" = '["web",375,3.75,3.75,96.25]' ]
}

@test "status web: both versions and the last change with its reason" {
	ensure_running
	ctl -r "ticket XC-1234 canary looks good" weight web 4 >/dev/null
	run --separate-stderr ctl status web
	[ "$status" -eq 0 ]
	[[ $output == "web  203.0.113.100:80/tcp"* ]]
	[[ $output == *"canary weight 4.00%"* ]]
	grep -Eq '^  stable +96\.00% ' <<<"$output"
	grep -Eq '^  canary +4\.00% ' <<<"$output"
	grep -q 'last change: .*weight, canary .* -> 4.00%.*(ticket XC-1234 canary looks good)' \
		<<<"$output"
	[[ $output != *"dns"* ]]
	run ctl --json status
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.services[].service]' <<<"$output")" = '["web","dns"]' ]
	[ "$(jq -r '.services[0].last_change.reason' <<<"$output")" = \
		"ticket XC-1234 canary looks good" ]
	[ "$(jq -r '.services[0].last_change.action' <<<"$output")" = weight ]
}

@test "rollback web: weight 0; rollback --hard: generation + 1" {
	ensure_running
	ctl weight web 10 >/dev/null
	run --separate-stderr ctl rollback web
	[ "$status" -eq 0 ]
	[[ $output == *"canary weight 10.00% -> 0.00%"* ]]
	run ctl --json status web
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 0 ]
	local gen
	gen=$(jq .services[0].generation <<<"$output")
	[ "$(pinned gen)" -eq "$gen" ]

	ctl weight web 10 >/dev/null
	run --separate-stderr ctl rollback web --hard
	[ "$status" -eq 0 ]
	[[ $output == *"generation $gen -> $((gen + 1))"* ]]
	run ctl --json status web
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 0 ]
	[ "$(jq .services[0].generation <<<"$output")" -eq "$((gen + 1))" ]
	[ "$(pinned gen)" -eq "$((gen + 1))" ]
	[ "$(pinned weight)" -eq 0 ]
}

@test "promote web: 100; promote web --full: 100" {
	ensure_running
	ctl weight web 1 >/dev/null
	run --separate-stderr ctl promote web
	[ "$status" -eq 0 ]
	[[ $output == *"web: promote: canary weight 1.00% -> 100.00%"* ]]
	[ "$(pinned weight)" -eq 10000 ]
	ctl weight web 1 >/dev/null
	run --separate-stderr ctl --json promote web --full
	[ "$status" -eq 0 ]
	[ "$(jq -r .action <<<"$output")" = "promote --full" ]
	[ "$(jq -r .to <<<"$output")" = "100.00" ]
	run ctl --json status web
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 10000 ]
}

@test "pause web, resume web: status --json paused true, then false" {
	ensure_running
	ctl resume web >/dev/null
	run --separate-stderr ctl pause web
	[ "$status" -eq 0 ]
	[ "$output" = "web: paused" ]
	run ctl --json status web
	[ "$(jq .services[0].paused <<<"$output")" = true ]
	run ctl services
	grep -Eq '^web .* paused$' <<<"$output"
	run --separate-stderr ctl pause web
	[ "$output" = "web: already paused" ]
	run --separate-stderr ctl resume web
	[ "$status" -eq 0 ]
	[ "$output" = "web: running" ]
	run ctl --json status web
	[ "$(jq .services[0].paused <<<"$output")" = false ]
	run ctl --json status dns
	[ "$(jq .services[0].paused <<<"$output")" = false ]
}

@test "reload: exit 0, the agent logs reloaded, weights stay" {
	ensure_running
	ctl weight web 12.34 >/dev/null
	local n
	n=$(log_lines)
	run --separate-stderr ctl reload
	[ "$status" -eq 0 ]
	[[ $output == *"reloading $CFG"* ]]
	for _ in $(seq 50); do
		log_since "$n" | grep -q "reloaded $CFG: 2 services, 1 interfaces" && break
		sleep 0.1
	done
	log_since "$n" | grep -q "reloaded $CFG: 2 services, 1 interfaces"
	agent_running
	[ "$(pinned weight)" -eq 1234 ]
}

@test "the agent logs one line per change: service, old and new weight, reason" {
	ensure_running
	ctl weight web 1 >/dev/null
	local n
	n=$(log_lines)
	ctl -r "step one $ID" weight web 2 >/dev/null
	ctl --reason="step two $ID" weight web 20 >/dev/null
	ctl --reason "back off $ID" rollback web >/dev/null
	ctl promote web >/dev/null
	run log_since "$n"
	[ "$(grep -c 'service web:' <<<"$output")" -eq 4 ]
	grep -q "service web: weight: canary weight 1.00% -> 2.00% (canaryctl uid 0 pid [0-9]*: step one $ID)" <<<"$output"
	grep -q "service web: weight: canary weight 2.00% -> 20.00% (.*: step two $ID)" <<<"$output"
	grep -q "service web: rollback: canary weight 20.00% -> 0.00% (.*: back off $ID)" <<<"$output"
	grep -q "service web: promote: canary weight 0.00% -> 100.00% (.*: no reason given)" <<<"$output"
}

# --- 4. with canaryd stopped -----------------------------------------------------------------

@test "canaryd stopped: weight, rollback, rollback --hard act on the pins directly" {
	ensure_running
	run ctl --json status web
	[ "$(jq .services[0].id <<<"$output")" -eq 0 ]	# pinned() reads key 0
	ctl weight web 1 >/dev/null
	agent_stop

	run --separate-stderr ctl -r "agent down" weight web 7
	[ "$status" -eq 0 ]
	[[ $output == *"web: weight: canary weight 1.00% -> 7.00%"* ]]
	[[ $stderr == *"canaryd is not running (no answer on"* ]]
	[ "$(pinned weight)" -eq 700 ]

	run --separate-stderr ctl rollback web
	[ "$status" -eq 0 ]
	[[ $output == *"canary weight 7.00% -> 0.00%"* ]]
	[[ $stderr == *"canaryd is not running (no answer on"* ]]
	[ "$(pinned weight)" -eq 0 ]

	local gen
	gen=$(pinned gen)
	ctl weight web 7 2>/dev/null
	run --separate-stderr ctl rollback web --hard
	[ "$status" -eq 0 ]
	[[ $output == *"generation $gen -> $((gen + 1))"* ]]
	[[ $stderr == *"canaryd is not running (no answer on"* ]]
	[ "$(pinned weight)" -eq 0 ]
	[ "$(pinned gen)" -eq "$((gen + 1))" ]

	run --separate-stderr ctl --json promote web
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.direct, .to]' <<<"$output")" = '[true,"100.00"]' ]
	[ "$(pinned weight)" -eq 10000 ]
	refute agent_running
}

@test "canaryd stopped: status reads the pins, reload fails with exit 1" {
	ensure_stopped
	ctl -r "set while down" weight web 7 2>/dev/null
	run --separate-stderr ctl status web
	[ "$status" -eq 0 ]
	[[ $stderr == *"read from the pinned maps directly"* ]]
	[[ $output == *"canary weight 7.00%"* ]]
	grep -Eq '^  stable +93\.00% ' <<<"$output"
	grep -Eq '^  canary +7\.00% ' <<<"$output"
	[[ $output == *"(set while down)"* ]]
	run --separate-stderr ctl reload
	[ "$status" -eq 1 ]
	[[ $stderr == *"needs canaryd, which is not running"* ]]
	refute agent_running
}

@test "restarted canaryd takes over the pins and keeps the weight set while it was down" {
	ensure_stopped
	ctl -r "set while down" weight web 7.5 2>/dev/null
	[ "$(pinned weight)" -eq 750 ]
	local n
	n=$(log_lines)
	agent_up
	log_since "$n" | grep -q "taking over the pinned datapath"
	run --separate-stderr ctl --json status web
	[ "$status" -eq 0 ]
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 750 ]
	[ "$(jq -r .services[0].last_change.reason <<<"$output")" = "set while down" ]
	[ "$(jq -r '.services[0].agent' <<<"$output")" = true ]
	[ "$(pinned weight)" -eq 750 ]
}

# --- 5. exporter -----------------------------------------------------------------------------

@test "exporter: /metrics passes promtool, shows the weight; /other is 404" {
	ensure_running
	ctl weight web 2.5 >/dev/null
	scrape /metrics >"$BATS_TEST_TMPDIR/metrics"
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	[ "$status" -eq 0 ]
	local m=$BATS_TEST_TMPDIR/metrics
	grep -q '^# HELP xdp_canary_weight_ratio ' "$m"
	grep -q '^# TYPE xdp_canary_weight_ratio gauge$' "$m"
	grep -q '^# TYPE xdp_canary_handshake_seconds histogram$' "$m"
	grep -q '^xdp_canary_agent_up 1$' "$m"
	grep -Eq '^xdp_canary_handshake_seconds_bucket\{service="web",version="(stable|canary)",le="\+Inf"\} [0-9]+$' "$m"
	run awk '$1 == "xdp_canary_weight_ratio{service=\"web\",version=\"canary\"}" { print $2 }' "$m"
	[ -n "$output" ]
	awk -v v="$output" 'BEGIN { exit !(v > 0.02499 && v < 0.02501) }'
	run awk '$1 == "xdp_canary_weight_ratio{service=\"web\",version=\"stable\"}" { print $2 }' "$m"
	awk -v v="$output" 'BEGIN { exit !(v > 0.97499 && v < 0.97501) }'
	# Every sample's family has HELP and TYPE.
	run awk '/^# HELP / { h[$3] = 1 } /^# TYPE / { t[$3] = 1 }
		!/^#/ && NF { n = $1; sub(/[{].*/, "", n); f = n; sub(/_(bucket|sum|count)$/, "", f)
			if (!((n in h && n in t) || (f in h && f in t))) print n }' "$m"
	[ -z "$output" ]

	ctl weight web 50 >/dev/null
	scrape /metrics | grep -q '^xdp_canary_weight_ratio{service="web",version="canary"} 0.50*$'

	run ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://127.0.0.1:$PORT/other"
	[ "$output" = 404 ]
}

# --- 6. control socket permissions -----------------------------------------------------------

@test "control socket is 0600; a non-root user cannot connect and cannot use the pins" {
	ensure_running
	ctl weight web 5 >/dev/null
	[ -S "$DIR/ctl.sock" ]
	[ "$(stat -c '%a %U' "$DIR/ctl.sock")" = "600 root" ]
	local before
	before=$(snapshot)

	run --separate-stderr "${NOBODY[@]}" "$CANARYCTL" -c "$CFG" services
	[ "$status" -eq 1 ]
	[[ $stderr == *"ctl.sock: Permission denied"* ]]
	[ -z "$output" ]
	# weight may go around a canaryd it cannot reach, but the pins are root's too.
	run --separate-stderr "${NOBODY[@]}" "$CANARYCTL" -c "$CFG" weight web 50
	[ "$status" -eq 1 ]
	[[ $stderr == *"Permission denied"* ]]
	run --separate-stderr "${NOBODY[@]}" "$CANARYCTL" -c "$CFG" rollback web --hard
	[ "$status" -eq 1 ]
	[ "$(snapshot)" = "$before" ]
}

@test "a non-root peer that reaches the socket is refused by canaryd" {
	ensure_running
	ctl weight web 5 >/dev/null
	local before n
	before=$(snapshot)
	n=$(log_lines)
	chmod 666 "$DIR/ctl.sock"
	run --separate-stderr "${NOBODY[@]}" "$CANARYCTL" -c "$CFG" weight web 50
	local st=$status err=$stderr
	run --separate-stderr "${NOBODY[@]}" "$CANARYCTL" -c "$CFG" services
	local st2=$status err2=$stderr
	chmod 600 "$DIR/ctl.sock"
	[ "$st" -eq 1 ]
	[[ $err == *"permission denied: root or the control group only"* ]]
	[[ $err != *"directly"* ]]
	[ "$st2" -eq 1 ]
	[[ $err2 == *"permission denied"* ]]
	[ "$(snapshot)" = "$before" ]
	[ "$(log_since "$n" | grep -c 'control: canaryctl uid 65534 pid [0-9]* refused (not root)')" -eq 2 ]
}

# --- 7. --check-config -----------------------------------------------------------------------

@test "canaryd --check-config: a good config exits 0 and touches nothing" {
	local cfg=$BATS_TEST_TMPDIR/good.json
	write_config "$cfg" "$PIN-check" "$DIR/check-state" "$DIR/check.sock"
	run --separate-stderr "$CANARYD" -c "$cfg" --check-config
	[ "$status" -eq 0 ]
	[ "$output" = "$cfg: OK: 2 services, 1 interfaces" ]
	[ ! -e "$PIN-check" ]
	[ ! -e "$DIR/check-state" ]
	[ ! -e "$DIR/check.sock" ]
	run --separate-stderr "$CANARYCTL" -c "$cfg" --help
	[ "$status" -eq 0 ]
}

# name|config (JSON; @IF@ is a valid interfaces list, @S@ a valid service's fields)|message
BAD_CONFIGS=(
	'bad JSON|{@IF@, "services": [{@S@},]}|:1:'
	'bad JSON, second line|{@IF@,
  "services": [{"name": "web" "vip": "203.0.113.100"}]}|:2:35: '"'}'"' expected near'
	'empty file||empty, expected a JSON object'
	'not an object|[]|expected a JSON object at the top level'
	'weight 101|{@IF@, "services": [{@S@, "weight": 101}]}|services[0].weight: 101 is not a percentage (0..100)'
	'weight -1|{@IF@, "services": [{@S@, "weight": -1}]}|services[0].weight: -1 is not a percentage (0..100)'
	'weight 3 decimals|{@IF@, "services": [{@S@, "weight": 2.555}]}|services[0].weight: 2.555 has more than two decimals'
	'port 70000|{@IF@, "services": [{"name": "web", "vip": "203.0.113.100", "port": 70000, "stable": ["192.0.2.10:8080"], "canary": []}]}|services[0].port: 70000 is not a port (1..65535)'
	'backend port 70000|{@IF@, "services": [{"name": "web", "vip": "203.0.113.100", "port": 80, "stable": ["192.0.2.10:70000"], "canary": []}]}|services[0].stable[0]: port 70000 is not a port (1..65535)'
	'unknown top-level key|{@IF@, "bogus": 1, "services": []}|unknown key "bogus"'
	'unknown service key|{@IF@, "services": [{@S@, "type": "x"}]}|services[0]: unknown key "type"'
	'service field of the wrong type|{@IF@, "services": [{"name": "web", "vip": "203.0.113.100", "port": "80", "stable": ["192.0.2.10:8080"], "canary": []}]}|services[0].port: expected an integer'
	'duplicate name|{@IF@, "services": [{@S@}, {"name": "web", "vip": "203.0.113.101", "port": 80, "stable": ["192.0.2.10:8080"], "canary": []}]}|services[1].name: "web" is used by services[0] too'
	'http with udp|{@IF@, "services": [{"name": "dns", "vip": "203.0.113.53", "port": 53, "protocol": "udp", "http": true, "stable": ["192.0.2.10"], "canary": []}]}|services[0].http: true but the protocol is udp'
	'missing interfaces|{"services": [{@S@}]}|interfaces: missing'
	'no interfaces|{"interfaces": [], "services": [{@S@}]}|interfaces: at least one interface is needed'
	'weight with no canary pool|{@IF@, "services": [{"name": "web", "vip": "203.0.113.100", "port": 80, "stable": ["192.0.2.10:8080"], "canary": [], "weight": 5}]}|services[0].weight: 5 but the canary pool is empty'
	'bad vip|{@IF@, "services": [{"name": "web", "vip": "nope", "port": 80, "stable": ["192.0.2.10:8080"], "canary": []}]}|services[0].vip: "nope" is not an IPv4 or IPv6 address'
	'mixed families|{@IF@, "services": [{"name": "web", "vip": "2001:db8::1", "port": 80, "stable": ["192.0.2.10:8080"], "canary": []}]}|services[0].stable[0]: 192.0.2.10 is IPv4 but the vip is IPv6'
	'bad protocol|{@IF@, "services": [{"name": "web", "vip": "203.0.113.100", "port": 80, "protocol": "sctp", "stable": ["192.0.2.10:8080"], "canary": []}]}|services[0].protocol: "sctp" is not tcp or udp'
	'bad xdp mode|{"interfaces": [{"name": "s0", "xdp": "turbo"}], "services": []}|interfaces[0].xdp: "turbo" is not auto, native, generic or off'
	'relative pin_dir|{"interfaces": ["s0"], "pin_dir": "relative", "services": []}|pin_dir: "relative" is not an absolute path'
	'duplicate key|{@IF@, "pin_dir": "/sys/fs/bpf/elsewhere", "services": []}|duplicate object key near '"'"'"pin_dir"'"'"
)

@test "canaryd --check-config: bad configs exit 1 with the reason, and touch nothing" {
	local ifs='"pin_dir": "'"$PIN-check"'", "state_dir": "'"$DIR/check-state"'", "interfaces": ["s0"]'
	local svc='"name": "web", "vip": "203.0.113.100", "port": 80, "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"]'
	local cfg=$BATS_TEST_TMPDIR/bad.json line name text want rest

	[ "${#BAD_CONFIGS[@]}" -ge 8 ]
	for line in "${BAD_CONFIGS[@]}"; do
		name=${line%%|*}
		rest=${line#*|}
		text=${rest%|*}
		want=${rest##*|}
		text=${text//@IF@/$ifs}
		text=${text//@S@/$svc}
		printf '%s' "$text" >"$cfg"
		run --separate-stderr "$CANARYD" -c "$cfg" --check-config
		if [ "$status" -ne 1 ] || [[ $stderr != "canaryd: $cfg"*"$want"* ]] ||
		   [ -n "$output" ]; then
			echo "$name: exit $status, stdout '$output', stderr: $stderr" >&2
			echo "expected exit 1 and '$want'" >&2
			return 1
		fi
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
	done
	run --separate-stderr "$CANARYD" -c "$BATS_TEST_TMPDIR/nonexistent.json" --check-config
	[ "$status" -eq 1 ]
	[[ $stderr == *"No such file or directory"* ]]
	[ ! -e "$PIN-check" ]
	[ ! -e "$DIR/check-state" ]
}

# --- 8. one agent per state directory --------------------------------------------------------

@test "a second canaryd with the same state dir refuses to start; --detach too" {
	ensure_running
	ctl weight web 5 >/dev/null
	local pid before
	pid=$(agent_pid)
	before=$(snapshot)
	run --separate-stderr "$CANARYD" -c "$CFG" --netns "$NS"
	[ "$status" -eq 1 ]
	[[ $stderr == *"another canaryd (pid $pid) runs with state in $DIR/state"* ]]
	run --separate-stderr "$CANARYD" -c "$CFG" --detach
	[ "$status" -eq 1 ]
	[[ $stderr == *"another canaryd (pid $pid)"* ]]
	[ -e "$PIN/svc_state" ]
	[ "$(snapshot)" = "$before" ]
	agent_running
	run ctl --json services
	[ "$status" -eq 0 ]
	[ -S "$DIR/ctl.sock" ]
}

# --- 9. removal ------------------------------------------------------------------------------

# Nothing of xdp-canary is left: no pins, no XDP program on s0, none of LINKS (IDs) exists.
assert_removed() {
	local id

	[ ! -e "$PIN" ]
	run ip -n "$NS" link show s0
	[ "$status" -eq 0 ]
	[[ $output != *xdp* ]]
	run ip netns exec "$NS" bpftool -j net show dev s0
	[ "$(jq -c '.[0].xdp' <<<"$output")" = '[]' ]
	for id in "$@"; do
		run bpftool link show id "$id"
		[ "$status" -ne 0 ]
	done
}

@test "canaryctl teardown with canaryd running: everything removed, canaryd exits" {
	ensure_running
	local pid links n
	pid=$(agent_pid)
	links=$(pinned_links)
	[ "$(wc -w <<<"$links")" -eq "$(links_expected)" ]
	if [ "$(kernel_tc_mode)" = clsact ]; then
		tc_filter_on_s0
	fi
	run ip -n "$NS" link show s0
	[[ $output == *xdp* ]]
	n=$(log_lines)
	run --separate-stderr ctl teardown
	[ "$status" -eq 0 ]
	[[ $output == *"xdp-canary removed"* ]]
	for _ in $(seq 50); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	refute pid_alive "$pid"
	log_since "$n" | grep -q 'teardown (canaryctl uid 0 pid [0-9]*): programs, links and pins removed'
	[ ! -e "$DIR/ctl.sock" ]
	# shellcheck disable=SC2086
	assert_removed $links
	refute tc_filter_on_s0
	run --separate-stderr ctl services
	[ "$status" -eq 1 ]
}

@test "canaryd --detach with canaryd stopped: everything removed" {
	ensure_stopped
	local links
	links=$(pinned_links)
	[ "$(wc -w <<<"$links")" -eq "$(links_expected)" ]
	if [ "$(kernel_tc_mode)" = clsact ]; then
		tc_filter_on_s0
	fi
	# With the namespace the agent ran in: a clsact filter (kernels before 6.6) lives there.
	run --separate-stderr "$CANARYD" -c "$CFG" --netns "$NS" --detach
	[ "$status" -eq 0 ]
	[[ $stderr == *"detached: programs, links and pins under $PIN removed"* ]]
	# shellcheck disable=SC2086
	assert_removed $links
	refute tc_filter_on_s0
	refute agent_running
	# canaryctl without pins: a rollback cannot be done and says so.
	run --separate-stderr ctl rollback web
	[ "$status" -eq 1 ]
	[ -n "$stderr" ]
}

@test "a direct change made while canaryd runs (socket not reached) is kept by the agent" {
	ensure_running
	ctl weight web 3 >/dev/null
	run --separate-stderr ctl -s /nonexistent/canaryd.sock -r "side door" weight web 42
	[ "$status" -eq 0 ]
	[[ $stderr == *"no answer on /nonexistent/canaryd.sock"* ]]
	run ctl --json status web
	[ "$(jq -r '.services[0].last_change.to' <<<"$output")" = "42.00" ]
	[ "$(jq -r '.services[0].last_change.reason' <<<"$output")" = "side door" ]
	[ "$(jq '.services[0].weight_bp' <<<"$output")" -eq 4200 ]
	# The agent's next write keeps it in the file.
	ctl pause web >/dev/null
	ctl resume web >/dev/null
	jq -e '.services.web.last_change.reason == "side door"' "$DIR/state/state.json" >/dev/null
}

@test "a reason with a newline is refused: one log line per change" {
	ensure_running
	run ctl -r $'x\ncanaryd: info: forged' weight web 6
	[ "$status" -eq 2 ]
	run --separate-stderr bash -c 'printf "%s\n" "{\"cmd\":\"weight\",\"service\":\"web\",\"weight_bp\":600,\"reason\":\"x\\ny\"}" |
		python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(4096).decode())" "$1"' _ "$DIR/ctl.sock"
	[[ $output == *'"exit": 2'* || $output == *'"exit":2'* ]]
	! grep -q forged "$LOG"
}
