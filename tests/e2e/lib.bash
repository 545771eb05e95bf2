# Shared by the end-to-end bats files (tests/bats/e2e.bats, tests/bats/rollout.bats): the network
# namespaces and veths, the backends, canaryd, canaryctl and the config's common part. Load it
# with `load ../e2e/lib`, then call e2e_names at the top of the file (it runs for every test).
#
#   client 198.51.100.2 (c0) --- s0 198.51.100.1  splitter  s1 192.0.2.1  --- stable 192.0.2.10
#                                                           s2 192.0.2.65 --- canary 192.0.2.70
#   VIP 203.0.113.100, routed to the splitter; backends answer on :8080.
# The client and backends send with full checksums (tx offload off on c0 and b0): XDP rewrites
# checksums incrementally and must not see partial ones. Every name has the file's prefix and the
# bats run's PID in it, so that files run one after the other (or two runs) never share one.

VIP=203.0.113.100

# shellcheck source=tools/lab.d/procs.sh
. "$BATS_TEST_DIRNAME/../../tools/lab.d/procs.sh"
# shellcheck source=tests/e2e/kernel.bash
. "$BATS_TEST_DIRNAME/../e2e/kernel.bash"
# shellcheck source=tests/e2e/wait.bash
. "$BATS_TEST_DIRNAME/../e2e/wait.bash"

# The names of one file's namespaces, pin dir and exporter port: PREFIX (e.g. "xce"), PIN_NAME
# (a directory in /sys/fs/bpf), EXPORTER_PORT (canaryd's, on 127.0.0.1 in the splitter).
e2e_names() {	# PREFIX PIN_NAME EXPORTER_PORT
	local id="${BATS_ROOT_PID:-$$}"

	NS_C="$1-c-$id"
	NS_S="$1-s-$id"
	NS_1="$1-1-$id"
	NS_2="$1-2-$id"
	PIN="/sys/fs/bpf/$2-$id"
	EXPORTER_PORT=$3
	E2E_ROOT="$BATS_TEST_DIRNAME/../.."
	E2E="$E2E_ROOT/tests/e2e"
	CANARYD="$E2E_ROOT/build/canaryd"
	CANARYCTL="$E2E_ROOT/build/canaryctl"
	PROM="$E2E/prom.sh"
	CFG="$BATS_FILE_TMPDIR/canaryd.json"
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Client, splitter and two backend namespaces, the veths between them, routes, and XDP pass
# programs on the splitter's peers. TOPO_OFFLOAD=on leaves tx checksum offload on at every
# client and backend and puts no XDP on the peers (the TC hook's case); TOPO_MTU sets every
# veth's MTU.
topo_up() {
	local bare="$E2E_ROOT/build/xdp_bare.bpf.o" ns l sec=xdp

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
	if [ -n "${TOPO_MTU:-}" ]; then
		for l in "$NS_C c0" "$NS_S s0" "$NS_S s1" "$NS_S s2" "$NS_1 b0" "$NS_2 b0"; do
			set -- $l
			ip -n "$1" link set "$2" mtu "$TOPO_MTU"
		done
	fi
	# TC redirects need nothing of the peer, and the kernel's helpers take partial checksums.
	# A partial checksum is trusted all the way across veth, so a wrong one would pass: the
	# splitter finishes every checksum in software (tx off on its ends), and the receivers
	# verify what they get (rx off), so that a rewrite's checksum is seen to be right.
	if [ "${TOPO_OFFLOAD:-off}" = on ]; then
		for l in s0 s1 s2; do
			in_ns "$NS_S" ethtool -K "$l" tx off >/dev/null
		done
		in_ns "$NS_C" ethtool -K c0 rx off >/dev/null
		in_ns "$NS_1" ethtool -K b0 rx off >/dev/null
		in_ns "$NS_2" ethtool -K b0 rx off >/dev/null
		return 0
	fi
	in_ns "$NS_C" ethtool -K c0 tx off >/dev/null
	in_ns "$NS_1" ethtool -K b0 tx off >/dev/null
	in_ns "$NS_2" ethtool -K b0 tx off >/dev/null
	# A veth delivers XDP_TX and redirects only to a peer that runs XDP itself, one that takes
	# multi-buffer frames past one page of MTU. iproute2's loader makes its own directories in
	# bpffs: note whether they were there before.
	[ "${TOPO_MTU:-1500}" -gt 3000 ] && sec=xdp.frags
	[ -e /sys/fs/bpf/tc ] && touch "$BATS_FILE_TMPDIR/had-iproute-bpffs"
	ip -n "$NS_C" link set dev c0 xdp obj "$bare" sec "$sec"
	ip -n "$NS_1" link set dev b0 xdp obj "$bare" sec "$sec"
	ip -n "$NS_2" link set dev b0 xdp obj "$bare" sec "$sec"
}

# The topology, HTTP and UDP backends on both remote pools, the config and the agent.
e2e_up() {
	topo_up
	start_backend "$NS_1" stable 192.0.2.10 8080
	start_backend "$NS_2" canary 192.0.2.70 8080
	start_udp_echo "$NS_1" echo-stable 192.0.2.10 5353
	start_udp_echo "$NS_2" echo-canary 192.0.2.70 5353
	write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_up
}

# Everything topo_up, start_backend, agent_up and prom.sh started or made, failures included.
topo_down() {
	local f ns

	"$PROM" stop "$BATS_FILE_TMPDIR/prom" 2>/dev/null || true
	stop_pidfile "$BATS_FILE_TMPDIR/agent.pid"
	"$CANARYD" -c "$CFG" --detach 2>/dev/null || true
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

# An HTTP backend (tests/e2e/backend.py) answering with NAME; its status is the one in
# $BATS_FILE_TMPDIR/NAME.status, its PID in NAME.pid.
start_backend() {	# NS NAME ADDR PORT
	# Not through a shell function: $! must be the server's own PID (ip netns exec execs it).
	ip netns exec "$1" python3 "$E2E/backend.py" "$2" "$3" "$4" \
		"$BATS_FILE_TMPDIR" >/dev/null 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/$2.pid"
	for _ in $(seq 50); do
		in_ns "$1" bash -c "exec 3<>/dev/tcp/$3/$4" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_backend, unless that backend runs already (a test before may have stopped it).
ensure_backend() {	# NS NAME ADDR PORT
	local f=$BATS_FILE_TMPDIR/$2.pid

	[ -f "$f" ] && pid_alive "$(cat "$f")" && return 0
	start_backend "$@"
}

# Ends a process this file started, by its PID, and waits until it is gone (it may have been
# started by another test's shell, so `wait` cannot be used).
stop_pidfile() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	pid_stop "$pid" || true
}

# The config's keys every test shares, one a line and each ending with a comma: pins, state,
# control socket, exporter, and the splitter's interfaces, TC on s0 as TC says (off, auto), and
# the keys of IFACE_KEYS (e.g. '"hook": "tc"') on each.
cfg_common() {	# TC
	local more=${IFACE_KEYS:+, $IFACE_KEYS}

	cat <<EOF
  "pin_dir": "$PIN",
  "state_dir": "$BATS_FILE_TMPDIR/state",
  "control": {"socket": "$BATS_FILE_TMPDIR/canaryd.sock"},
  "exporter": {"listen": "127.0.0.1:$EXPORTER_PORT"},
  "interfaces": [{"name": "s0", "tc": "$1"$more}, {"name": "s1"$more}, {"name": "s2"$more}],
EOF
}

agent_pid() {
	cat "$BATS_FILE_TMPDIR/agent.pid"
}

# Starts canaryd in the splitter's namespace and waits until it says it is ready.
agent_up() {
	local log=$BATS_FILE_TMPDIR/agent.log lines

	lines=$(wc -l <"$log" 2>/dev/null || echo 0)
	"$CANARYD" -c "$CFG" --netns "$NS_S" >>"$log" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/agent.pid"
	for _ in $(seq 100); do
		tail -n +"$((lines + 1))" "$log" | grep -q 'ready:' && return 0
		kill -0 "$(agent_pid)" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

# Sends SIGHUP and waits for the agent to say it reloaded.
agent_reload() {
	local log=$BATS_FILE_TMPDIR/agent.log n

	n=$(grep -c 'reloaded' "$log" || true)
	kill -HUP "$(agent_pid)"
	for _ in $(seq 50); do
		[ "$(grep -c 'reloaded' "$log")" -gt "$n" ] && return 0
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

ctl() {
	"$CANARYCTL" -c "$CFG" "$@"
}

# Sum over CPUs of one ver_stats field of the first service (id 0), as an SRE reads it: bpftool
# on the pinned map. VERSION 0 is stable, 1 canary.
ver_stat() {	# VERSION FIELD
	bpftool -j map lookup pinned "$PIN/ver_stats" key "$1" 0 0 0 |
		jq "[.formatted.values[].value.$2] | add"
}

# Packets of one dp_stats reason (enum canary_dp_reason), summed over CPUs.
dp_stat() {	# REASON
	bpftool -j map lookup pinned "$PIN/dp_stats" key "$1" 0 0 0 |
		jq '[.formatted.values[].value.packets] | add'
}

# The agent's config: web (HTTP) and echo (UDP) services; $1 and $2 are web's pools, $3 the TC
# mode on s0 (off for remote backends, auto for local ones), $4 more of web's keys.
write_config() {	# STABLE CANARY TC [WEB_KEYS]
	{
		echo "{"
		cfg_common "$3"
		cat <<EOF
  "services": [
    {"name": "web", "vip": "$VIP", "port": 80, "http": true, "stable": ["$1"], "canary": ["$2"]
     ${4:+, $4}},
    {"name": "echo", "vip": "$VIP", "port": 53, "protocol": "udp",
     "stable": ["192.0.2.10:5353"], "canary": ["192.0.2.70:5353"]}
  ]
}
EOF
	} >"$CFG"
}

# A UDP echo server in NS on ADDR:PORT; its PID in NAME.pid.
start_udp_echo() {	# NS NAME ADDR PORT
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
' "$3" "$4" >/dev/null 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/$2.pid"
}

set_weight() {	# PERCENT
	ctl weight web "$1" >/dev/null
}

reset_hits() {
	rm -f "$BATS_FILE_TMPDIR"/*.hits
}

hits() {
	[ -f "$BATS_FILE_TMPDIR/$1.hits" ] && wc -l <"$BATS_FILE_TMPDIR/$1.hits" || echo 0
}

# N requests, each on a connection of its own; prints one answer (backend name) a line, FAILED
# for a request that got none, and fails if one did.
curl_n() {
	local failed=0

	for _ in $(seq "$1"); do
		in_ns "$NS_C" curl -sS --max-time 5 "http://$VIP/" || { echo "FAILED"; failed=1; }
	done
	return "$failed"
}

# At weights 0, 50 % and 100 %, N requests each all get an answer, from the backends the weight
# says, and each backend served as many as its answers say. Fails at the first that does not.
shares_follow_weight() {	# N
	local stable canary out

	for w in 0 50 100; do
		set_weight "$w"
		reset_hits
		out=$(curl_n "$1") || return 1
		stable=$(grep -c '^stable$' <<<"$out" || true)
		canary=$(grep -c '^canary$' <<<"$out" || true)
		[ $((stable + canary)) -eq "$1" ] || return 1
		[ "$(hits stable)" -eq "$stable" ] && [ "$(hits canary)" -eq "$canary" ] || return 1
		case $w in
		0) [ "$canary" -eq 0 ] ;;
		100) [ "$stable" -eq 0 ] ;;
		*) [ "$stable" -gt 0 ] && [ "$canary" -gt 0 ] ;;
		esac || return 1
	done
}

# The agent's /metrics, read in the splitter's namespace.
scrape() {
	in_ns "$NS_S" curl -sS --max-time 5 "http://127.0.0.1:$EXPORTER_PORT/metrics"
}

# One sample's value in a scrape kept in FILE.
sample() {	# FILE NAME{LABELS}
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1"
}
