#!/usr/bin/env bats
# The rollout commands as an operator meets them, without traffic: start and history and their
# bad input, a plan that advances by itself (its kernel check passes on no data), a manual gate,
# pause, resume, promote, rollback, a restart of canaryd mid-stage, a rollback with canaryd
# stopped, the exporter's rollout metrics, webhooks (one that answers, one that cannot), and a
# rollout that waits for its canary backend's health check.
#
# One network namespace with a veth pair (s0 <-> s0p) that canaryd attaches to; its exporter, the
# webhook recorder and the health-checked backend live inside it. Names, pins and ports are this
# file's own ("xrc", tests/e2e/lib.bash's helpers); teardown_file removes all of it.

bats_require_minimum_version 1.5.0

load ../e2e/lib
e2e_names xrc xdp-canary-rcli 9437
NS=$NS_S
ID_RUN="${BATS_ROOT_PID:-$$}"
HOOK_PORT=18080		# the webhook recorder, on 127.0.0.1 in $NS
DEAD_PORT=18081		# nothing listens here: the webhook that fails
HOOKS="$BATS_FILE_TMPDIR/hooks.jsonl"
LOG="$BATS_FILE_TMPDIR/agent.log"
AGENT_PID="$BATS_FILE_TMPDIR/agent.pid"

# web: a plan of four stages (the third a manual gate) checked every second; dns: no plan;
# api: a plan that needs its canary backend (192.0.2.71, not up at first) to pass health checks.
write_config() {
	cat >"$CFG" <<EOF
{"pin_dir": "$PIN", "state_dir": "$BATS_FILE_TMPDIR/state",
 "control": {"socket": "$BATS_FILE_TMPDIR/canaryd.sock"},
 "exporter": {"listen": "127.0.0.1:$EXPORTER_PORT"},
 "interfaces": [{"name": "s0"}],
 "services": [
  {"name": "web", "vip": "203.0.113.100", "port": 80, "http": true,
   "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"],
   "rollout": {"interval": "1s",
     "stages": [{"weight": 1, "hold": "2s"}, {"weight": 5, "hold": "3s"},
                {"weight": 25, "hold": "1s", "manual": true}, {"weight": 100, "hold": "1s"}],
     "checks": [{"name": "conn-errors", "source": "kernel", "metric": "error_ratio",
                 "max": 0.5, "on_no_data": "pass"},
                {"name": "ttfb", "source": "kernel", "metric": "ttfb_p99", "max": 1,
                 "dry_run": true}],
     "webhooks": [{"url": "http://127.0.0.1:$HOOK_PORT/hook"},
                  {"url": "http://127.0.0.1:$DEAD_PORT/hook", "timeout": "500ms"}]}},
  {"name": "dns", "vip": "203.0.113.53", "port": 53, "protocol": "udp",
   "stable": ["192.0.2.10"], "canary": ["192.0.2.70"], "weight": 3},
  {"name": "api", "vip": "203.0.113.101", "port": 80,
   "stable": ["192.0.2.11:8080"], "canary": ["192.0.2.71:8080"],
   "health": {"type": "http", "every": "200ms", "timeout": "100ms", "fall": 1, "rise": 1},
   "rollout": {"interval": "1s", "stages": [{"weight": 10, "hold": "1m"}], "breaker": false}}]}
EOF
}

# Records each POST's body as one line of $HOOKS, which it creates once it listens.
RECORDER='
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
open(sys.argv[2], "ab").close()
server.serve_forever()
'

start_recorder() {
	ip netns exec "$NS" python3 -c "$RECORDER" "$HOOK_PORT" "$HOOKS" >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/recorder.pid"
	wait_until 5 test -e "$HOOKS" && return 0
	echo "the webhook recorder did not start" >&2
	return 1
}

setup_file() {
	ip netns add "$NS"
	ip -n "$NS" link add s0 type veth peer name s0p
	ip -n "$NS" link set s0 up
	ip -n "$NS" link set s0p up
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1	# remote backends: canaryd needs it
	write_config
	start_recorder
	agent_up
}

teardown_file() {
	local f

	stop_pidfile "$AGENT_PID"
	if [ -e "$PIN" ]; then
		"$CANARYD" -c "$CFG" --detach >/dev/null 2>&1 || true
	fi
	for f in "$BATS_FILE_TMPDIR"/*.pid; do
		stop_pidfile "$f"
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$PIN"
}

agent_running() {
	[ -f "$AGENT_PID" ] && kill -0 "$(agent_pid)" 2>/dev/null
}

ensure_agent() {
	agent_running || agent_up
}

log_lines() {
	wc -l <"$LOG"
}

log_since() {	# LINE
	tail -n +"$(($1 + 1))" "$LOG"
}

# A field of SERVICE's rollout status (canaryctl --json status).
ro() {	# SERVICE FIELD
	ctl --json status "$1" | jq -r ".services[0].rollout.$2"
}

ro_is() {	# SERVICE FIELD VALUE
	[ "$(ro "$1" "$2")" = "$3" ]
}

# Waits up to SECONDS for SERVICE's rollout FIELD to be VALUE.
ro_wait() {	# SERVICE FIELD VALUE SECONDS
	wait_until "$4" ro_is "$1" "$2" "$3" && return 0
	echo "$1: rollout .$2 is not $3 after $4 s" >&2
	ctl status "$1" >&2
	return 1
}

# The weight in the pinned svc_state map (basis points), read with bpftool: service ID's entry.
pinned_weight() {	# ID
	bpftool -j map lookup pinned "$PIN/svc_state" key "$1" 0 0 0 | jq .formatted.value.weight
}

# canaryd running, and no rollout of web under way.
web_idle() {
	ensure_agent
	case $(ro web phase) in
	waiting | warmup | stage | gate | rolling_back) ctl rollback web >/dev/null ;;
	esac
}

# canaryd running, and web's rollout begun anew; T0 is the start's decision time.
fresh_start() {
	web_idle
	T0=$(ctl --json start web | jq .rollout.last_decision.time_ms)
	[ "$T0" -gt 0 ]
}

# web's events (canaryctl --json history) since T0, one a line.
events_since_t0() {
	ctl --json history web -n 1000 | jq -c --argjson t0 "$T0" \
		'.events[] | select(.decision.time_ms >= $t0)'
}

# What bad input must leave alone: web's and dns's pinned weights, web's phase, the state file.
snapshot() {
	echo "$(pinned_weight 0) $(pinned_weight 1) $(ro web phase)" \
		"$(md5sum <"$BATS_FILE_TMPDIR/state/state.json")"
}

scrape() {
	in_ns "$NS" curl -sS --max-time 5 "http://127.0.0.1:$EXPORTER_PORT/metrics"
}

# --- 1. usage and bad input ------------------------------------------------------------------

@test "start, history: --help; bad -n, unknown service, no plan: exit 2, nothing changed" {
	local before
	ensure_agent
	run --separate-stderr ctl start --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: canaryctl [OPTIONS] start SERVICE"* ]]
	run --separate-stderr ctl history --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: canaryctl [OPTIONS] history SERVICE [-n N]"* ]]

	before=$(snapshot)
	run --separate-stderr ctl history web -n abc
	[ "$status" -eq 2 ]
	[[ $stderr == *"-n abc: not a count"* ]]
	run --separate-stderr ctl history web -n 0
	[ "$status" -eq 2 ]
	run --separate-stderr ctl history web --max=-3
	[ "$status" -eq 2 ]
	run --separate-stderr ctl status web -n 5
	[ "$status" -eq 2 ]
	[[ $stderr == *"only history takes it"* ]]
	run --separate-stderr ctl start web -n 5
	[ "$status" -eq 2 ]
	run --separate-stderr ctl start
	[ "$status" -eq 2 ]
	[[ $stderr == *"start: missing SERVICE"* ]]
	run --separate-stderr ctl start web dns
	[ "$status" -eq 2 ]
	run --separate-stderr ctl start web --full
	[ "$status" -eq 2 ]
	run --separate-stderr ctl start nosuch
	[ "$status" -eq 2 ]
	[[ $stderr == *'no service "nosuch"'* ]]
	run --separate-stderr ctl history nosuch
	[ "$status" -eq 2 ]
	run --separate-stderr ctl start dns
	[ "$status" -eq 2 ]
	[[ $stderr == *'service dns has no "rollout" plan'* ]]
	[ -z "$output" ]
	[ "$(snapshot)" = "$before" ]
	[ "$(pinned_weight 1)" -eq 300 ]
	[ "$(ro web phase)" = idle ]
}

# --- 2. start --------------------------------------------------------------------------------

@test "start web: stage 1 at 1 %, in the pins; a second start: exit 1, a rollout is running" {
	web_idle
	run --separate-stderr ctl start web --reason "release 2.4.1"
	[ "$status" -eq 0 ]
	[[ $output == "web: start: canary weight "*" -> 1.00%: started: stage 1 of 4 (1%) (release 2.4.1)"* ]]
	[[ $output == *"rollout: stage, stage 1 of 4 (1.00%)"* ]]
	run ctl history web -n 1
	[[ $output == *"start      none     started: stage 1 of 4 (1%) (release 2.4.1)"* ]]
	run ctl --json status web
	[ "$(jq -c '.services[0] | [.rollout.phase, .rollout.stage, .rollout.stages,
		.rollout.weight, .weight_bp]' <<<"$output")" = '["stage",1,4,"1.00",100]' ]
	[ "$(pinned_weight 0)" -eq 100 ]
	run --separate-stderr ctl start web
	[ "$status" -eq 1 ]
	[[ $stderr == *"a rollout is running (stage 1 of 4 (1%))"* ]]
	[ "$(pinned_weight 0)" -eq 100 ]
}

# --- 3. stages, the gate, history ------------------------------------------------------------

@test "the rollout advances by itself, waits at the gate for promote, completes; history says why" {
	fresh_start
	ro_wait web phase gate 15
	[ "$(pinned_weight 0)" -eq 2500 ]
	run ctl status web
	[[ $output == *"rollout: gate, stage 3 of 4 (25.00%)"*"waiting for canaryctl promote"* ]]
	sleep 1.5	# a gate waits, however long its checks pass
	[ "$(ro web phase)" = gate ]
	[ "$(pinned_weight 0)" -eq 2500 ]

	run --separate-stderr ctl promote web --reason "dashboards look fine"
	[ "$status" -eq 0 ]
	[[ $output == *"25.00% -> 100.00%: promoted from stage 3 of 4 (25%) to stage 4 of 4 (100%) (dashboards look fine)"* ]]
	ro_wait web phase complete 5
	[ "$(pinned_weight 0)" -eq 10000 ]

	run events_since_t0
	echo "$output"
	[ "$(jq -sc '[.[].decision | select(.action != "none") | .action]' <<<"$output")" = \
		'["start","advance","advance","gate","promote","complete"]' ]
	[ "$(jq -sc '[.[].decision | select(.action != "none") | .weight]' <<<"$output")" = \
		'["1.00","5.00","25.00","25.00","100.00","100.00"]' ]
	# Every decision says why; every evaluation passed and shows each check's outcome.
	[ "$(jq -s '[.[].decision.reason | select(length == 0)] | length' <<<"$output")" -eq 0 ]
	jq -se 'map(select(.decision.action == "advance")) | .[0].decision.reason |
		test("stage 1 of 4 \\(1%\\) held .* with checks passing: advancing to 5%")' \
		<<<"$output" >/dev/null
	[ "$(jq -s '[.[] | select(.event == "evaluation")] | length' <<<"$output")" -ge 4 ]
	[ "$(jq -sc '[.[] | select(.event == "evaluation") | .decision.verdict] | unique' \
		<<<"$output")" = '["pass"]' ]
	[ "$(jq -sc '[.[] | select(.event == "evaluation") | .checks | map(.name + ":" + .outcome)
		| join(",")] | unique' <<<"$output")" = '["conn-errors:no_data,ttfb:no_data"]' ]
	[ "$(jq -s '[.[] | select(.event == "evaluation") | .checks[] | select(.name == "ttfb")
		| .dry_run] | all' <<<"$output")" = true ]

	run --separate-stderr ctl history web -n 40
	[ "$status" -eq 0 ]
	grep -Eq 'stage 3/4 +25\.00% +gate +none +stage 3 of 4 \(25%\) held' <<<"$output"
	grep -q 'promote .*promoted from stage 3 of 4' <<<"$output"
	grep -Eq '^ +conn-errors +kernel +no_data ' <<<"$output"
	run --separate-stderr ctl history web -n 2
	[ "$(wc -l < <(grep -E '^[0-9]{4}-' <<<"$output"))" -eq 2 ]
}

# --- 4. pause, resume, promote --full --------------------------------------------------------

@test "pause stops the stages, resume lets them go on, promote --full completes at 100 %" {
	fresh_start
	run --separate-stderr ctl pause web
	[ "$status" -eq 0 ]
	[ "$(ro web paused)" = true ]
	sleep 4.5	# more than two of stage 1's holds
	run ctl --json status web
	[ "$(jq -c '.services[0].rollout | [.phase, .stage, .weight, .paused]' <<<"$output")" = \
		'["stage",1,"1.00",true]' ]
	[ "$(pinned_weight 0)" -eq 100 ]
	[[ $(ctl status web) == *"PAUSED"* ]]

	run --separate-stderr ctl resume web
	[ "$status" -eq 0 ]
	[ "$(ro web paused)" = false ]
	ro_wait web stage 2 5
	[ "$(pinned_weight 0)" -eq 500 ]

	run --separate-stderr ctl --json promote web --full
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.action, .to, .rollout.phase]' <<<"$output")" = \
		'["promote --full","100.00","complete"]' ]
	[ "$(pinned_weight 0)" -eq 10000 ]
	run events_since_t0
	[ "$(jq -sc '[.[].decision | select(.action != "none") | .action]' <<<"$output")" = \
		'["start","pause","resume","advance","promote"]' ]
}

# --- 5. rollback -----------------------------------------------------------------------------

@test "rollback web: weight 0, rolled_back with its reason; start begins again at stage 1" {
	fresh_start
	run --separate-stderr ctl -r "bad canary $ID_RUN" rollback web
	[ "$status" -eq 0 ]
	[[ $output == *"canary weight 1.00% -> 0.00%: bad canary $ID_RUN: rolled back to 0%"* ]]
	[ "$(pinned_weight 0)" -eq 0 ]
	run ctl --json status web
	[ "$(jq -c '.services[0] | [.rollout.phase, .weight_bp, .rollout.last_decision.action,
		.rollout.last_decision.reason]' <<<"$output")" = \
		"[\"rolled_back\",0,\"rollback\",\"bad canary $ID_RUN: rolled back to 0%\"]" ]
	run events_since_t0
	[ "$(jq -sr last.decision.reason <<<"$output")" = "bad canary $ID_RUN: rolled back to 0%" ]
	grep -q "service web: rollback: canary weight 1.00% -> 0.00% (bad canary $ID_RUN" "$LOG"

	run --separate-stderr ctl start web
	[ "$status" -eq 0 ]
	[ "$(ro web phase) $(ro web stage)" = "stage 1" ]
	[ "$(pinned_weight 0)" -eq 100 ]
}

# --- 6. restart mid-stage --------------------------------------------------------------------

@test "canaryd restarted mid-stage resumes at stage 2, not 1, with the weight unchanged" {
	local n
	fresh_start
	ro_wait web stage 2 6
	stop_pidfile "$AGENT_PID"
	[ "$(pinned_weight 0)" -eq 500 ]
	n=$(log_lines)
	agent_up
	log_since "$n" | grep -q 'service web: rollout stage at stage 2 of 4 (5.00%), .* into it'
	run ctl --json status web
	[ "$(jq -c '.services[0] | [.rollout.phase, .rollout.stage, .weight_bp]' <<<"$output")" = \
		'["stage",2,500]' ]
	[ "$(pinned_weight 0)" -eq 500 ]
	# It did not begin again: one start since T0.
	run events_since_t0
	[ "$(jq -s '[.[] | select(.decision.action == "start")] | length' <<<"$output")" -eq 1 ]
}

# --- 7. canaryd stopped ----------------------------------------------------------------------

@test "canaryd stopped: rollback on the pins, history from the log; the new agent keeps it" {
	fresh_start
	stop_pidfile "$AGENT_PID"
	run --separate-stderr ctl rollback web
	[ "$status" -eq 0 ]
	[[ $stderr == *"canaryd is not running"* ]]
	[[ $output == *"canary weight 1.00% -> 0.00%"* ]]
	[ "$(pinned_weight 0)" -eq 0 ]
	# history reads the log, where canaryctl put its rollback.
	run --separate-stderr ctl --json history web -n 5
	[ "$status" -eq 0 ]
	[ "$(jq -c '.events[-1].decision | [.action, .weight]' <<<"$output")" = \
		'["rollback","0.00"]' ]
	run --separate-stderr ctl history web
	[ "$status" -eq 0 ]
	grep -Eq 'stage 1/4 +0\.00% +rollback +none +rolled back by an operator, without canaryd' \
		<<<"$output"

	agent_up
	run ctl --json status web
	[ "$(jq -c '.services[0] | [.rollout.phase, .weight_bp]' <<<"$output")" = \
		'["rolled_back",0]' ]
	[[ $(jq -r .services[0].rollout.last_decision.reason <<<"$output") == *"without canaryd"* ]]
	# The restarted agent did not log the rollback again.
	run events_since_t0
	echo "$output"
	[ "$(jq -sc '[.[].decision | select(.action != "none") | .action]' <<<"$output")" = \
		'["start","rollback"]' ]
	sleep 2.5	# longer than stage 1's hold: it must not come back
	[ "$(ro web phase)" = rolled_back ]
	[ "$(pinned_weight 0)" -eq 0 ]
}

# --- 8. exporter -----------------------------------------------------------------------------

@test "exporter with a rollout running: promtool passes; phase, stage, checks, evaluations" {
	fresh_start
	ro_wait web last_verdict pass 4
	local m=$BATS_TEST_TMPDIR/metrics first last stage
	# The rollout goes on while we scrape: the stage scraped lies between the two read around it.
	first=$(ro web stage)
	scrape >"$m"
	last=$(ro web stage)
	run promtool check metrics <"$m"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'xdp_canary_rollout_phase{service="web",phase="stage"} 1' "$m"
	grep -qx 'xdp_canary_rollout_phase{service="web",phase="idle"} 0' "$m"
	stage=$(sed -n 's/^xdp_canary_rollout_stage{service="web"} //p' "$m")
	[ "$stage" -ge "$first" ]
	[ "$stage" -le "$last" ]
	grep -qx 'xdp_canary_rollout_paused{service="web"} 0' "$m"
	grep -qx 'xdp_canary_rollout_consecutive_failures{service="web"} 0' "$m"
	grep -Eqx 'xdp_canary_rollout_evaluations_total\{service="web",verdict="pass"\} [1-9][0-9]*' \
		"$m"
	grep -Eqx 'xdp_canary_rollout_rollbacks_total\{service="web"\} [0-9]+' "$m"
	grep -qx 'xdp_canary_check_outcome{service="web",check="conn-errors",outcome="no_data"} 1' \
		"$m"
	grep -q '^xdp_canary_rollout_phase{service="api",phase="idle"} 1$' "$m"
	run grep -c '^xdp_canary_rollout.*service="dns"' "$m"	# no plan, no rollout metrics
	[ "$output" = 0 ]
}

# --- 9. webhooks -----------------------------------------------------------------------------

# At least COUNT warnings since log line N that the dead webhook failed.
dead_warned() {	# N COUNT
	local warning="warning: service web: webhook http://127.0.0.1:$DEAD_PORT/hook: "

	[ "$(log_since "$1" | grep -c "$warning")" -ge "$2" ]
}

@test "webhooks: started, rolled_back recorded; the dead one is a warning, the rollback happens" {
	local n
	ensure_agent
	n=$(log_lines)
	fresh_start
	ctl -r "hook test $ID_RUN" rollback web >/dev/null
	[ "$(pinned_weight 0)" -eq 0 ]
	[ "$(ro web phase)" = rolled_back ]
	wait_until 5 grep -q "hook test $ID_RUN" "$HOOKS"
	# The bodies sent since the start: earlier tests' rollouts sent theirs before T0.
	run jq -c --argjson t0 "$T0" 'select(.time_ms >= $t0)' "$HOOKS"
	echo "$output"
	[ "$(jq -sc '[.[] | .event]' <<<"$output")" = '["started","rolled_back"]' ]
	[ "$(jq -sc '.[0] | [.service, .rollout.phase, .rollout.stage, .reason]' <<<"$output")" = \
		'["web","stage",1,"started: stage 1 of 4 (1%)"]' ]
	[ "$(jq -sc '.[1] | [.service, .rollout.phase, .rollout.weight, .reason]' <<<"$output")" = \
		"[\"web\",\"rolled_back\",\"0.00\",\"hook test $ID_RUN: rolled back to 0%\"]" ]
	# A warning for each event the dead webhook missed (and for a rollback fresh_start made).
	wait_until 3 dead_warned "$n" 2
	log_since "$n" | grep -q "webhook http://127.0.0.1:$DEAD_PORT/hook: .*Couldn't connect"
}

# --- 10. the health gate ---------------------------------------------------------------------

@test "health: start waits at weight 0 until the canary backend answers, then enters stage 1" {
	local id
	ensure_agent
	id=$(ctl --json status api | jq .services[0].id)
	run --separate-stderr ctl start api
	[ "$status" -eq 0 ]
	[[ $output == *"waiting for canary backends to pass health checks"* ]]
	sleep 1
	run ctl --json status api
	[ "$(jq -c '.services[0] | [.rollout.phase, .weight_bp, .health.canary[0].state]' \
		<<<"$output")" = '["waiting",0,"down"]' ]
	[ "$(pinned_weight "$id")" -eq 0 ]
	run --separate-stderr ctl promote api
	[ "$status" -eq 1 ]
	[[ $stderr == *"waits for its canary backends"* ]]

	ip -n "$NS" addr add 192.0.2.71/32 dev lo
	start_backend "$NS" api-canary 192.0.2.71 8080
	ro_wait api phase stage 5
	run ctl --json status api
	[ "$(jq -c '.services[0] | [.rollout.stage, .weight_bp, .health.canary[0].state]' \
		<<<"$output")" = '[1,1000,"up"]' ]
	[ "$(pinned_weight "$id")" -eq 1000 ]
	[[ $(ctl status api) == *"192.0.2.71:8080 up"* ]]
	scrape | grep -qx \
		'xdp_canary_backend_up{service="api",version="canary",backend="192.0.2.71:8080"} 1'
}
