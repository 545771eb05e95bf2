#!/usr/bin/env bats
# The rollout engine end to end: canaryd takes the canary through its stages by itself while real
# HTTP load runs from the client namespace to the VIP, judged by a real Prometheus scraping the
# agent's exporter (inside the splitter's namespace) and by the kernel's own counters; rolled
# back by a failing Prometheus check, or by the local breaker with Prometheus down. The topology
# is tests/e2e/lib.bash's; the names, pins and ports are this file's own ("xcr"), so that it can
# run right after e2e.bats. Everything it creates is removed in teardown_file, failures included.
#
# The breaker's reaction time (from the canary's first 503 to the rollback's decision) goes to
# the TAP output and to $ROLLOUT_REPORT.

bats_require_minimum_version 1.5.0

load ../e2e/lib
e2e_names xcr xdp-canary-rollout 9436
export PROM_PORT=9091
PROM_DIR="$BATS_FILE_TMPDIR/prom"
ROLLOUT_REPORT="${ROLLOUT_REPORT:-$E2E_ROOT/build/tests/rollout-e2e.txt}"

# The canary's share of 5xx answers in Prometheus, over the last 5 s (scraped every second).
Q5XX='sum(rate(xdp_canary_errors_total{service="$service",version="$version",kind="http_5xx"}[5s]))'
Q5XX+=' / sum(rate(xdp_canary_http_responses_total{service="$service",version="$version"}[5s]))'

# The canary's requests in the same window, for min_samples.
QREQ='sum(increase(xdp_canary_http_responses_total{service="$service",version="$version"}[5s]))'

prom_check() {	# [MIN_SAMPLES, default 10]
	jq -nc --arg q "$Q5XX" --arg n "$QREQ" --argjson min "${1:-10}" '{name: "prom-5xx",
		source: "prometheus", query: $q, samples_query: $n, min_samples: $min, max: 0.05}'
}

kernel_check() {
	jq -nc '{name: "kernel-5xx", source: "kernel", metric: "error_ratio", kinds: ["http_5xx"],
		 max: 0.05}'
}

# A plan: STAGES (a JSON list), CHECKS (JSON objects, one an argument) and the rest as JSON
# keys, e.g. '"breaker": false'. Every plan evaluates each second and holds up to a minute.
plan() {	# STAGES EXTRA CHECK...
	local stages=$1 extra=$2

	shift 2
	jq -nc --argjson stages "$stages" --argjson extra "{$extra}" '$ARGS.positional |
		map(fromjson) as $checks |
		{interval: "1s", max_hold: "1m", stages: $stages, checks: $checks} + $extra' \
		--args "$@"
}

# The config: one HTTP service, web, with the rollout PLAN; Prometheus in the splitter.
write_config() {	# PLAN
	{
		echo "{"
		cfg_common off
		cat <<EOF
  "prometheus": {"url": "${PROM_URL:-http://127.0.0.1:$PROM_PORT}", "timeout": "${PROM_TIMEOUT:-800ms}"},
  "breaker_every": "250ms",
  "services": [$(jq -nc --arg vip "$VIP" --argjson plan "$1" '{name: "web", vip: $vip,
	port: 80, http: true, stable: ["192.0.2.10:8080"], canary: ["192.0.2.70:8080"],
	rollout: $plan}')]
}
EOF
	} >"$CFG"
}

use_plan() {	# PLAN
	write_config "$1"
	agent_reload
}

# Prometheus scraping the exporter, with the two scrapes a rate needs in its window, so that a
# first stage is not held for want of data. Each test says whether it wants it up or down.
prom_up() {
	if [ ! -f "$PROM_DIR/prometheus.pid" ]; then
		"$PROM" start "$PROM_DIR" "127.0.0.1:$EXPORTER_PORT" "$NS_S" >/dev/null
	fi
	for _ in $(seq 50); do
		[ "$("$PROM" value "$PROM_DIR" \
			'sum(count_over_time(xdp_canary_http_responses_total{service="web"}[5s]))' \
			2>/dev/null)" -ge 4 ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "prometheus at $PROM_DIR has no scrapes of the exporter" >&2
	return 1
}

prom_down() {
	"$PROM" stop "$PROM_DIR"
}

setup_file() {
	topo_up
	start_backend "$NS_1" stable 192.0.2.10 8080
	start_backend "$NS_2" canary 192.0.2.70 8080
	write_config "$(plan '[1, 100]' '' "$(kernel_check)")"
	agent_up
}

teardown_file() {
	topo_down
}

# Each test starts from no load, a healthy canary and no rollout running.
setup() {
	T0=$(date +%s%3N)
	ensure_backend "$NS_2" canary 192.0.2.70 8080
}

# One sample of the agent's /metrics.
metric() {	# NAME{LABELS}
	in_ns "$NS_S" curl -sS --max-time 5 "http://127.0.0.1:$EXPORTER_PORT/metrics" |
		awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

teardown() {
	load_stop
	stop_pidfile "$BATS_FILE_TMPDIR/hang.pid"
	rm -f "$BATS_FILE_TMPDIR/canary.status"
	if [ "$(rollout phase)" != rolled_back ] && [ "$(rollout phase)" != complete ]; then
		ctl rollback web --reason "test over" >/dev/null 2>&1 || true
	fi
}

# Real HTTP load from the client to the VIP, a new connection per request, for at most SECONDS
# (or until load_stop); its tally goes to load.json.
load_start() {	# SECONDS
	rm -f "$BATS_FILE_TMPDIR/load.stop" "$BATS_FILE_TMPDIR/load.json"
	ip netns exec "$NS_C" python3 "$E2E/load.py" "http://$VIP/" --duration "$1" \
		--concurrency 8 --stop-file "$BATS_FILE_TMPDIR/load.stop" \
		--out "$BATS_FILE_TMPDIR/load.json" >/dev/null 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/load.pid"
}

# Ends the load and waits for its tally.
load_stop() {
	local f=$BATS_FILE_TMPDIR/load.pid pid

	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	touch "$BATS_FILE_TMPDIR/load.stop"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_pidfile "$f"
}

# The plan, the load for SECONDS, and `canaryctl start`.
rollout_begin() {	# PLAN SECONDS
	use_plan "$1"
	load_start "$2"
	ctl start web >/dev/null
}

# Ends the load: no request may have gone unanswered (an HTTP 503 is an answer).
load_ok() {
	load_stop
	jq -c . "$BATS_FILE_TMPDIR/load.json"
	[ "$(jq .failed "$BATS_FILE_TMPDIR/load.json")" -eq 0 ]
}

# How many of the events in $output (one a line) match the jq condition.
count() {	# CONDITION
	jq -s "[.[] | select($1)] | length" <<<"$output"
}

# A field of the rollout's status, as canaryctl --json prints it.
rollout() {	# FIELD (jq path below .services[0].rollout)
	ctl --json status web | jq -r ".services[0].rollout.$1"
}

rollout_is() {	# FIELD VALUE
	[ "$(rollout "$1")" = "$2" ]
}

# Waits up to SECONDS for the rollout's FIELD to be VALUE.
wait_rollout() {	# FIELD VALUE SECONDS
	wait_until "$3" rollout_is "$1" "$2" && return 0
	echo "rollout .$1 is $(rollout "$1"), not $2 after $3 s" >&2
	ctl status web >&2
	return 1
}

# The web service's events since this test began (canaryctl history --json), one a line.
events() {
	ctl --json history web -n 1000 | jq -c --argjson t0 "$T0" '.events[] | select(.time_ms >= $t0)'
}

# The canary weight in the datapath, in basis points.
weight_bp() {
	ctl --json status web | jq '.services[0].weight_bp'
}

@test "rollout: a healthy canary goes 1, 5, 25, 50, 100 % under real load, every request answered" {
	prom_up
	# At 1 % the canary gets a hundredth of what the load generator manages, and under qemu
	# that can be 1 request a second: 10 samples in Prometheus' 5 s window would need 200
	# requests a second in all. One sample is enough to show the stage passes on evidence.
	rollout_begin "$(plan '[{"weight": 1, "hold": "2s"}, {"weight": 5, "hold": "2s"},
			       {"weight": 25, "hold": "2s"}, {"weight": 50, "hold": "2s"},
			       {"weight": 100, "hold": "2s"}]' '' "$(prom_check 1)" "$(kernel_check)")" 40
	wait_rollout phase complete 30
	load_ok
	run events
	echo "$output"
	# The weights the rollout set, in order: exactly the plan's.
	[ "$(jq -sc '[.[].decision | select(.action == "start" or .action == "advance") |
		      .weight | tonumber]' <<<"$output")" = '[1,5,25,50,100]' ]
	[ "$(jq -sc '[.[].decision.action | select(. == "complete")] | length' <<<"$output")" -eq 1 ]
	# Each stage ended on a passing evaluation, with both checks passing; nothing failed.
	[ "$(count '.event == "evaluation" and .decision.verdict == "fail"')" -eq 0 ]
	[ "$(count '.decision.action == "rollback"')" -eq 0 ]
	for stage in 1 2 3 4 5; do
		last=$(jq -sc --argjson s "$stage" '[.[] | select(.event == "evaluation" and
			.decision.stage == $s)] | last' <<<"$output")
		[ "$(jq -r .decision.verdict <<<"$last")" = pass ]
		[ "$(jq -c '[.checks[] | {(.name): .outcome}] | add' <<<"$last")" = \
			'{"prom-5xx":"pass","kernel-5xx":"pass"}' ]
	done
	[ "$(rollout phase)" = complete ]
	[ "$(weight_bp)" -eq 10000 ]
	# Every answer was a 200 (load_ok: every request had one); the canary had its share.
	[ "$(jq -c '.statuses | keys' "$BATS_FILE_TMPDIR/load.json")" = '["200"]' ]
	[ "$(jq '.bodies["canary\n"]' "$BATS_FILE_TMPDIR/load.json")" -gt 0 ]
}

@test "rollout: a canary answering 503 is rolled back by the Prometheus check, which says why" {
	prom_up
	rollout_begin "$(plan '[{"weight": 20, "hold": "1m"}, 100]' '"breaker": false' \
		"$(prom_check)")" 40
	wait_rollout last_verdict pass 15
	[ "$(weight_bp)" -eq 2000 ]
	echo 503 >"$BATS_FILE_TMPDIR/canary.status"
	wait_rollout phase rolled_back 15
	load_ok
	[ "$(weight_bp)" -eq 0 ]
	[ "$(rollout weight)" = 0.00 ]
	run events
	echo "$output"
	rb=$(jq -sc '[.[] | select(.decision.action == "rollback")]' <<<"$output")
	[ "$(jq length <<<"$rb")" -eq 1 ]
	# The check rolled it back, after failure_limit (2) failures, and its reason says with what.
	[ "$(jq -r '.[0].event' <<<"$rb")" = evaluation ]
	[ "$(jq -r '.[0].decision.verdict' <<<"$rb")" = fail ]
	reason=$(jq -r '.[0].decision.reason' <<<"$rb")
	re='^prom-5xx: canary ([0-9.e+-]+) > max 0\.05 \(([0-9]+) samples\); failure 2 of 2: '
	[[ "$reason" =~ $re"rolled back to 0%"$ ]]
	measured=${BASH_REMATCH[1]}
	samples=${BASH_REMATCH[2]}
	check=$(jq -c '.[0].checks[] | select(.name == "prom-5xx")' <<<"$rb")
	[ "$(jq -r .outcome <<<"$check")" = fail ]
	[ "$(jq -r .rule <<<"$check")" = max ]
	[ "$(jq .threshold <<<"$check")" = 0.05 ]
	[ "$(jq .samples <<<"$check")" -eq "$samples" ]
	[ "$samples" -ge 10 ]
	jq -e --argjson m "$measured" '.canary > 0.05 and (.canary - $m | fabs) < 0.001 * $m' \
		<<<"$check"
	# canaryctl status says the same to a person.
	run ctl status web
	echo "$output"
	[[ "$output" == *"rolled_back"* ]]
	[[ "$output" == *"prom-5xx: canary $measured > max 0.05"* ]]
}

@test "rollout: with Prometheus down, the breaker rolls a failing canary back within a second" {
	prom_down
	rollout_begin "$(plan '[{"weight": 25, "hold": "1m"}, 100]' \
		'"breaker": {"window": "1s", "max_error_ratio": 0.2, "min_samples": 10}' \
		"$(prom_check)")" 40
	wait_rollout phase stage 5
	# More than the breaker's window of healthy samples first.
	sleep 2
	[ "$(rollout phase)" = stage ]
	trips=$(metric 'xdp_canary_breaker_trips_total{service="web"}')
	before=$(date +%s%3N)
	echo 503 >"$BATS_FILE_TMPDIR/canary.status"
	after=$(date +%s%3N)
	wait_rollout phase rolled_back 10
	load_ok
	[ "$(weight_bp)" -eq 0 ]
	run events
	echo "$output"
	rb=$(jq -sc '[.[] | select(.decision.action == "rollback")]' <<<"$output")
	[ "$(jq length <<<"$rb")" -eq 1 ]
	[[ "$(jq -r '.[0].decision.reason' <<<"$rb")" == "breaker: canary http_5xx "* ]]
	at=$(jq '.[0].decision.time_ms' <<<"$rb")
	ms=$((at - before))
	# When the canary had served min_samples (10) 503s: from then on the breaker's window
	# holds enough errors, however slowly the load generator sends (a machine under qemu).
	known=$(awk -v t0="$before" '$1 == 503 && $2 >= t0 && ++n == 10 { print $2 }' \
		"$BATS_FILE_TMPDIR/canary.hits")
	[ -n "$known" ]
	echo "# breaker rollback after $ms ms, $((at - known)) ms after the 10th 503" \
		"(status flipped within $((after - before)) ms)" >&3
	echo "$(date -u +%FT%TZ) breaker rollback after $ms ms, $((at - known)) ms after the" \
		"10th 503: $(jq -r '.[0].decision.reason' <<<"$rb")" >>"$ROLLOUT_REPORT"
	[ "$ms" -ge 0 ]
	# The bound is the breaker's own (its window and tick), from when it had its evidence; from
	# the flip on it also holds how fast the load generator sends, which no bound here can.
	[ "$((at - known))" -lt 1000 ]
	[ "$(metric 'xdp_canary_breaker_trips_total{service="web"}')" -eq $((trips + 1)) ]
	# Prometheus was down the whole time: no check passed or failed, each said why it held.
	[ "$(count '.event == "evaluation" and .decision.verdict != "hold"')" -eq 0 ]
}

@test "rollout: with Prometheus down, a healthy canary holds at stage 1 and never advances" {
	prom_down
	rollout_begin "$(plan '[{"weight": 1, "hold": "1s"}, {"weight": 5, "hold": "1s"}, 100]' '' \
		"$(prom_check)" "$(kernel_check)")" 20
	sleep 6
	# At 1 % a slow machine's load takes a while to give the kernel's check its samples.
	wait_rollout 'checks[] | select(.name == "kernel-5xx") | .outcome' pass 10
	run ctl --json status web
	echo "$output"
	ro=$(jq -c '.services[0].rollout' <<<"$output")
	[ "$(jq -r .phase <<<"$ro")" = stage ]
	[ "$(jq .stage <<<"$ro")" -eq 1 ]
	[ "$(jq -r .weight <<<"$ro")" = 1.00 ]
	[ "$(jq '.services[0].weight_bp' <<<"$output")" -eq 100 ]
	[ "$(jq -r .last_verdict <<<"$ro")" = hold ]
	[ "$(jq -r .last_decision.action <<<"$ro")" = hold ]
	reason=$(jq -r .last_decision.reason <<<"$ro")
	url="http://127.0.0.1:$PROM_PORT/api/v1/query"
	[[ "$reason" == "prom-5xx: error: canary query: GET $url: "*"connect"* ]]
	load_ok
	run events
	echo "$output"
	# The kernel's check passed meanwhile: the hold is Prometheus's alone. Read from the
	# evaluations themselves: at 1 % of a slow guest's load the next one may have no sample.
	[ "$(count '.event == "evaluation" and ([.checks[] | {(.name): .outcome}] | add) ==
		{"prom-5xx": "error", "kernel-5xx": "pass"}')" -ge 1 ]
	# Several evaluations, each a hold; nothing advanced, nothing rolled back.
	[ "$(count '.event == "evaluation"')" -ge 4 ]
	[ "$(jq -sc '[.[] | select(.event == "evaluation") | .decision.verdict] | unique' \
		<<<"$output")" = '["hold"]' ]
	[ "$(jq -sc '[.[].decision.action] | unique - ["hold"]' <<<"$output")" = '["start"]' ]
}

# The tests below judge by the kernel's counters alone: Prometheus is down from here on.

@test "rollout: a restarted canaryd resumes mid-stage; it does not start the rollout again" {
	prom_down
	rollout_begin "$(plan '[{"weight": 5, "hold": "1s"}, {"weight": 25, "hold": "1m"}, 100]' '' \
		"$(kernel_check)")" 40
	wait_rollout stage 2 10
	sleep 2.5
	in_stage=$(rollout time_in_stage_ms)
	[ "$in_stage" -ge 1000 ]
	kill -9 "$(agent_pid)"
	for _ in $(seq 50); do
		kill -0 "$(agent_pid)" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$(agent_pid)"
	[ "$status" -ne 0 ]
	restarted=$(date +%s%3N)
	sleep 1
	agent_up
	# Where it was: stage 2 at 25 %, with the time it had run there (to its last state write).
	run ctl --json status web
	echo "$output"
	[ "$(jq -r .services[0].rollout.phase <<<"$output")" = stage ]
	[ "$(jq .services[0].rollout.stage <<<"$output")" -eq 2 ]
	[ "$(jq -r .services[0].rollout.weight <<<"$output")" = 25.00 ]
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 2500 ]
	[ "$(jq .services[0].rollout.time_in_stage_ms <<<"$output")" -ge $((in_stage - 1500)) ]
	# It goes on evaluating stage 2; nothing started again, no weight moved.
	sleep 2.5
	load_ok
	run events
	echo "$output"
	after=$(jq -sc --argjson t "$restarted" '[.[] | select(.time_ms > $t)]' <<<"$output")
	[ "$(jq '[.[] | select(.event == "evaluation" and .decision.stage == 2 and
			       .decision.verdict == "pass")] | length' <<<"$after")" -ge 1 ]
	[ "$(jq '[.[] | select(.event != "evaluation")] | length' <<<"$after")" -eq 0 ]
	[ "$(count '.decision.action == "start"')" -eq 1 ]
	[ "$(rollout stage)" -eq 2 ]
}

@test "rollout: canaryctl pause stops advancing (checks still run); resume lets it go on" {
	prom_down
	rollout_begin "$(plan '[{"weight": 5, "hold": "1s"}, {"weight": 25, "hold": "1s"}, 100]' '' \
		"$(kernel_check)")" 40
	ctl pause web --reason "looking at the dashboards" >/dev/null
	sleep 4
	# Paused, the checks go on: wait for a passing one (a slow machine needs longer for the
	# samples), then nothing may have advanced.
	wait_rollout last_verdict pass 10
	run ctl --json status web
	echo "$output"
	[ "$(jq -r .services[0].rollout.phase <<<"$output")" = stage ]
	[ "$(jq .services[0].rollout.paused <<<"$output")" = true ]
	[ "$(jq .services[0].rollout.stage <<<"$output")" -eq 1 ]
	[ "$(jq .services[0].weight_bp <<<"$output")" -eq 500 ]
	[ "$(jq -r .services[0].rollout.last_verdict <<<"$output")" = pass ]
	run events
	echo "$output"
	[ "$(count '.event == "evaluation"')" -ge 3 ]
	# Decisions, not evaluations: an evaluation short of samples holds, and that moves nothing.
	[ "$(jq -sc '[.[] | select(.event == "decision" and .decision.action != "none") | .decision.action]' <<<"$output")" = \
		'["start","pause"]' ]
	[ "$(jq -sr '.[] | select(.decision.action == "pause") | .decision.reason' \
		<<<"$output")" = "looking at the dashboards: paused" ]
	ctl resume web >/dev/null
	wait_rollout phase complete 15
	load_ok
	run events
	[ "$(jq -sc '[.[].decision | select(.action == "start" or .action == "advance") |
		      .weight | tonumber]' <<<"$output")" = '[5,25,100]' ]
}

@test "rollout: a manual stage waits at its gate for canaryctl promote" {
	prom_down
	rollout_begin "$(plan '[{"weight": 5, "hold": "1s", "manual": true}, {"weight": 100,
			   "hold": "1s"}]' '' "$(kernel_check)")" 30
	wait_rollout phase gate 10
	sleep 2
	[ "$(rollout phase)" = gate ]
	[ "$(weight_bp)" -eq 500 ]
	run ctl status web
	echo "$output"
	[[ "$output" == *"waiting for canaryctl promote"* ]]
	ctl promote web >/dev/null
	[ "$(rollout phase)" = stage ]
	[ "$(rollout stage)" -eq 2 ]
	[ "$(weight_bp)" -eq 10000 ]
	wait_rollout phase complete 10
	load_ok
	run events
	echo "$output"
	[ "$(jq -sc '[.[].decision.action | select(. != "none" and . != "hold")]' \
		<<<"$output")" = '["start","gate","promote","complete"]' ]
}

# A rollout at 50 % judged by the breaker alone (Prometheus down, a kernel check), after more
# than the breaker's window of healthy traffic.
breaker_stage_50() {
	prom_down
	rollout_begin "$(plan '[{"weight": 50, "hold": "1m"}, 100]' \
		'"breaker": {"window": "1s", "max_error_ratio": 0.2, "min_samples": 10}' \
		"$(kernel_check)")" 40
	wait_rollout phase stage 5
	sleep 2
}

@test "rollout: the breaker rolls back a canary that refuses connections (kind refused)" {
	local trips

	breaker_stage_50
	trips=$(metric 'xdp_canary_breaker_trips_total{service="web"}')
	# The canary's server goes away: its address answers each SYN with a RST.
	stop_pidfile "$BATS_FILE_TMPDIR/canary.pid"
	wait_rollout phase rolled_back 10
	load_stop
	[ "$(weight_bp)" -eq 0 ]
	run events
	echo "$output"
	[[ "$(jq -sr '.[] | select(.decision.action == "rollback") | .decision.reason' \
		<<<"$output")" == "breaker: canary refused "*" > 0.2 over "* ]]
	[ "$(metric 'xdp_canary_breaker_trips_total{service="web"}')" -eq $((trips + 1)) ]
}

# The exception counter of packets that claimed to be a backend's from the clients' side.
wrong_side() {
	metric 'xdp_canary_exception_packets_total{reason="reply_wrong_side",action="pass"}'
}

@test "rollout: a client's forged ICMP errors about its canary connection never roll a 50 % canary back" {
	local trips u0 w0

	breaker_stage_50
	trips=$(metric 'xdp_canary_breaker_trips_total{service="web"}')
	u0=$(metric 'xdp_canary_errors_total{service="web",version="canary",kind="unreachable"}')
	w0=$(wrong_side)
	# 1500 errors in 3 s, port unreachable, fragmentation needed and host unreachable, from the
	# canary backend's address and from the client's own, against about 1000 new canary flows a
	# second: before errors were judged, this stream made the breaker roll the canary back.
	run ip netns exec "$NS_C" python3 "$E2E/spoof.py" icmp "$VIP" 192.0.2.70 --count 1500 \
		--rate 500
	echo "$output"
	[ "$status" -eq 0 ]
	sleep 1.5	# more than the breaker's window after the last one
	[ "$(rollout phase)" = stage ]
	[ "$(weight_bp)" -eq 5000 ]
	[ "$(metric 'xdp_canary_breaker_trips_total{service="web"}')" -eq "$trips" ]
	[ "$(metric 'xdp_canary_errors_total{service="web",version="canary",kind="unreachable"}')" \
		-eq "$u0" ]
	# Those the client sent from its own address as port or host unreachable were not plausible
	# at all (500); the other 1000 came by the clients' side, not the backend's.
	[ "$(($(wrong_side) - w0))" -eq 1000 ]
	load_ok
}

@test "rollout: a client's forged backend RSTs for its canary connections count for nothing" {
	local r0 w0 mac

	prom_down
	rollout_begin "$(plan '[{"weight": 50, "hold": "1m"}, 100]' '' "$(kernel_check)")" 30
	wait_rollout phase stage 5
	r0=$(metric 'xdp_canary_errors_total{service="web",version="canary",kind="reset"}')
	w0=$(wrong_side)
	mac=$(ip -n "$NS_S" -j link show s0 | jq -r '.[0].address')
	run ip netns exec "$NS_C" python3 "$E2E/spoof.py" rst "$VIP" 192.0.2.70 --dev c0 \
		--mac "$mac" --conns 8
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .answered <<<"$output")" -eq 8 ]
	[ "$(metric 'xdp_canary_errors_total{service="web",version="canary",kind="reset"}')" \
		-eq "$r0" ]
	[ "$(($(wrong_side) - w0))" -eq 8 ]
	[ "$(rollout phase)" = stage ]
	load_ok
}

# An HTTP server in the splitter that takes requests and never answers; it logs each request
# line to hang.log as it arrives.
hang_start() {	# PORT
	rm -f "$BATS_FILE_TMPDIR/hang.log"
	# ip netns exec execs python, so $! is its PID; fd 3 closed, or bats waits for it at the end.
	ip netns exec "$NS_S" python3 -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
log = open(sys.argv[2], "a", buffering=1)
def hold(c):
    log.write(c.makefile("rb").readline().decode(errors="replace").split(" HTTP/")[0] + "\n")
    threading.Event().wait()
while True:
    threading.Thread(target=hold, args=(s.accept()[0],), daemon=True).start()
' "$1" "$BATS_FILE_TMPDIR/hang.log" >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/hang.pid"
	wait_until 5 in_ns "$NS_S" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1"
}

# The hanging server holds a request of both kinds: a webhook POST and a Prometheus query.
hang_holds_both() {
	grep -q '^POST /hook' "$BATS_FILE_TMPDIR/hang.log" 2>/dev/null &&
		grep -q '^GET /api/v1/query' "$BATS_FILE_TMPDIR/hang.log"
}

# Every canaryctl status during SECONDS was answered by the agent, not read from the pins
# (which canaryctl does when the agent is silent for 5 s).
agent_answers() {	# SECONDS
	local end=$((SECONDS + $1))

	while [ "$SECONDS" -lt "$end" ]; do
		run --separate-stderr ctl --json status web
		[ "$status" -eq 0 ] || return 1
		[ "$(jq .services[0].agent <<<"$output")" = true ] || return 1
		[[ $stderr != *directly* ]] || return 1
		sleep 0.2
	done
}

@test "rollout: a Prometheus and a webhook that hang delay neither canaryctl nor the breaker" {
	local port=19555	# in the splitter's namespace, this file's own

	hang_start "$port"
	# Every evaluation's query now waits its whole 9 s timeout, every webhook its 10 s.
	PROM_URL="http://127.0.0.1:$port" PROM_TIMEOUT=9s rollout_begin "$(plan \
		'[{"weight": 50, "hold": "1m"}, 100]' \
		"\"interval\": \"10s\", \"webhooks\": [{\"url\": \"http://127.0.0.1:$port/hook\", \"timeout\": \"10s\"}], \"breaker\": {\"window\": \"1s\", \"max_error_ratio\": 0.2, \"min_samples\": 10}" \
		"$(prom_check)")" 40
	wait_rollout phase stage 5
	# The webhook of "started" and the first evaluation's query are both held from here on
	# (for 9 s and more): the agent must go on answering, and its breaker acting.
	wait_until 20 hang_holds_both
	agent_answers 3
	echo 503 >"$BATS_FILE_TMPDIR/canary.status"
	wait_rollout phase rolled_back 5
	agent_answers 1
	cat "$BATS_FILE_TMPDIR/hang.log"
	load_stop
	run events
	echo "$output"
	[[ "$(jq -sr '.[] | select(.decision.action == "rollback") | .decision.reason' \
		<<<"$output" | head -1)" == "breaker: canary http_5xx "* ]]
}
