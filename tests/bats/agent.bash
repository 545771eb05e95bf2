# canaryd and canaryctl for a bats file: the agent started in a namespace by PID, its log, the
# pins and the exporter. The file sets DIR (its work directory), NS (the agent's namespace),
# PIN (the config's pin_dir) and PORT (the exporter's); agent_env_up sets the rest.

# pid_alive, pid_stop
. "$BATS_TEST_DIRNAME/../../tools/lab.d/procs.sh"
# shellcheck source=tests/e2e/kernel.bash
. "$BATS_TEST_DIRNAME/../e2e/kernel.bash"
# shellcheck source=tests/e2e/wait.bash
. "$BATS_TEST_DIRNAME/../e2e/wait.bash"

# Fails when the command succeeds ("! cmd" does not fail a bats test).
refute() {
	if "$@"; then
		echo "unexpectedly true: $*" >&2
		return 1
	fi
}

agent_pid() {
	cat "$PIDF" 2>/dev/null
}

agent_running() {
	pid_alive "$(agent_pid)"
}

# Starts canaryd in the namespace (directly, so that $! is its PID) and waits for "ready:".
agent_up() {
	local n pid

	n=$(wc -l <"$LOG" 2>/dev/null || echo 0)
	"$CANARYD" -c "$CFG" --netns "$NS" >>"$LOG" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$PIDF"
	for _ in $(seq 100); do
		tail -n +"$((n + 1))" "$LOG" | grep -q 'ready:' && return 0
		pid_alive "$pid" || break
		sleep 0.1
	done
	echo "canaryd did not start:" >&2
	tail -n +"$((n + 1))" "$LOG" >&2
	return 1
}

# SIGTERM, by PID; the datapath stays pinned and attached.
agent_stop() {
	local pid

	pid=$(agent_pid)
	rm -f "$PIDF"
	pid_stop "$pid"
}

# Starts canaryd and expects it to fail; its log is in $output.
agent_fails() {	# [ENV=VALUE...]
	run --separate-stderr env "$@" "$CANARYD" -c "$CFG" --netns "$NS"
	echo "$stderr"
	output=$stderr
	[ "$status" -ne 0 ]
}

# Writes the config: the file's pins, state, socket and exporter, BASE's interfaces and services,
# then the jq FILTER.
agent_config() {	# BASE [FILTER]
	jq --arg pin "$PIN" --arg dir "$DIR" --arg port "$PORT" '{pin_dir: $pin,
		state_dir: "\($dir)/state", control: {socket: "\($dir)/ctl.sock"},
		exporter: {listen: "127.0.0.1:\($port)"}} + . | '"${2:-.}" <<<"$1" >"$CFG"
	chmod 644 "$CFG"
}

ensure_running() {
	agent_running || agent_up
}

# canaryd stopped, its datapath pinned.
ensure_stopped() {
	if agent_running; then
		agent_stop
	elif [ ! -e "$PIN/svc_state" ]; then
		agent_up && agent_stop
	fi
}

ctl() {
	"$CANARYCTL" -c "$CFG" "$@"
}

# A field of web's entry (id 0) in the pinned svc_state map: weight (basis points) or gen.
pinned() {
	bpftool -j map lookup pinned "$PIN/svc_state" key 0 0 0 0 | jq -r ".formatted.value.$1"
}

log_lines() {
	wc -l <"$LOG"
}

# Lines the agent logged since line $1.
log_since() {
	tail -n +"$(($1 + 1))" "$LOG"
}

scrape() {	# PATH
	ip netns exec "$NS" curl -sS --max-time 5 "http://127.0.0.1:$PORT$1"
}

# The file's work directory (world-readable, so that the non-root tests reach the socket and the
# config) with the agent's config, log and PID file; and its namespace with a veth pair
# s0 <-> s0p, all up, and IPv4 forwarding on (the backends are remote: canaryd refuses to
# start without it). For setup_file.
agent_env_up() {
	export CANARYD="$BATS_TEST_DIRNAME/../../build/canaryd"
	export CANARYCTL="$BATS_TEST_DIRNAME/../../build/canaryctl"
	export CFG="$DIR/canaryd.json"
	export LOG="$DIR/agent.log"
	export PIDF="$DIR/agent.pid"

	rm -rf "$DIR"
	mkdir -m 755 "$DIR"
	touch "$LOG"
	ip netns add "$NS"
	ip -n "$NS" link add s0 type veth peer name s0p
	for l in s0 s0p lo; do
		ip -n "$NS" link set "$l" up
	done
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
}
