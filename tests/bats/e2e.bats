#!/usr/bin/env bats
# Real connections through the splitter, run by canaryd and driven with canaryctl: a client
# namespace, the splitter, and two backend namespaces running real HTTP (and UDP) servers; then
# both backends local to the splitter. A real Prometheus scrapes the agent. Everything this file
# creates has names of its own and is removed in teardown_file, failures included.
# The topology is in tests/e2e/lib.bash. The splitter keeps its offloads, so the local-backend
# test also shows the TC path handling CHECKSUM_PARTIAL.

load ../e2e/lib
e2e_names xce xdp-canary-e2e 9435

setup_file() {
	e2e_up
}

teardown_file() {
	topo_down
}

# Each test starts with both remote backends up and answering 200, whatever the one before did
# or where it failed.
setup() {
	rm -f "$BATS_FILE_TMPDIR"/*.status
	ensure_backend "$NS_1" stable 192.0.2.10 8080
	ensure_backend "$NS_2" canary 192.0.2.70 8080
	# The kill -9 test restarts the agent; if it failed before that, the next test would not.
	pid_alive "$(agent_pid)" || agent_up
}

# Whether the canary's new flows, as canaryctl reads them (from the pins without the agent),
# have passed N.
canary_flows_past() {	# N
	[ "$(ctl --json status web 2>/dev/null | jq '.services[0].versions.canary.flows_total')" \
		-gt "$1" ]
}

# A test that changes the config says so; the next one gets the file's own back, even when the
# one before failed half way.
config_changed() {	# STABLE CANARY TC [WEB_KEYS]
	touch "$BATS_FILE_TMPDIR/config.changed"
	write_config "$@"
	agent_reload
}

teardown() {
	if [ -e "$BATS_FILE_TMPDIR/config.changed" ]; then
		rm -f "$BATS_FILE_TMPDIR/config.changed"
		write_config 192.0.2.10:8080 192.0.2.70:8080 off
		agent_reload
	fi
}

hist_count() {	# VERSION KIND(0 handshake, 1 ttfb)
	bpftool -j map lookup pinned "$PIN/lat_hist" key $(($1 * 2 + $2)) 0 0 0 |
		jq '[.formatted.values[].value.count] | add'
}

@test "e2e: every request gets through at weights 0, 50 % and 100 %, each backend its share" {
	shares_follow_weight 40
}

@test "e2e: canaryd's log has no netlink noise for interfaces with tc off" {
	grep -q 'ready:' "$BATS_FILE_TMPDIR/agent.log"
	! grep -q 'libbpf: Kernel error message' "$BATS_FILE_TMPDIR/agent.log"
}

@test "e2e: handshake and time-to-first-byte histograms fill, read with bpftool" {
	set_weight 0
	# Counters only grow, and earlier tests sent to stable: count from here.
	local hs ttfb replies responses
	hs=$(hist_count 0 0)
	ttfb=$(hist_count 0 1)
	replies=$(ver_stat 0 reply_packets)
	responses=$(ver_stat 0 http_responses)
	curl_n 3 >/dev/null
	[ $(($(hist_count 0 0) - hs)) -eq 3 ]
	[ $(($(hist_count 0 1) - ttfb)) -eq 3 ]
	[ $(($(ver_stat 0 reply_packets) - replies)) -ge 3 ]
	[ $(($(ver_stat 0 http_responses) - responses)) -eq 3 ]
}

@test "e2e: every 503 of the canary is in its HTTP 5xx counter, and only there" {
	set_weight 100
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
	set_weight 100
	stop_pidfile "$BATS_FILE_TMPDIR/canary.pid"
	before=$(ver_stat 1 rst_refused)
	for _ in $(seq 5); do
		run in_ns "$NS_C" curl -sS --max-time 5 "http://$VIP/"
		[ "$status" -eq 7 ]	# curl: failed to connect
	done
	[ $(($(ver_stat 1 rst_refused) - before)) -eq 5 ]
}

@test "e2e: backends local to the splitter (a reload moves them), replies rewritten on TC egress" {
	start_backend "$NS_S" local-stable 198.51.100.1 8080
	start_backend "$NS_S" local-canary 198.51.100.1 8081
	config_changed 198.51.100.1:8080 198.51.100.1:8081 auto
	grep -q "s0: tc egress $(kernel_tc_mode)" "$BATS_FILE_TMPDIR/agent.log"
	# The canary's responses so far came by XDP: count those of the TC path from here.
	local responses canary_total=0
	responses=$(ver_stat 1 http_responses)
	for w in 0 50 100; do
		set_weight "$w"
		run curl_n 20
		[[ $output != *FAILED* ]]
		stable=$(echo "$output" | grep -c '^local-stable$' || true)
		canary=$(echo "$output" | grep -c '^local-canary$' || true)
		canary_total=$((canary_total + canary))
		[ $((stable + canary)) -eq 20 ]
		case $w in
		0) [ "$canary" -eq 0 ] ;;
		100) [ "$stable" -eq 0 ] ;;
		*)
			[ "$stable" -gt 0 ]
			[ "$canary" -gt 0 ]
			;;
		esac
	done
	[ "$canary_total" -gt 0 ]
	[ $(($(ver_stat 1 http_responses) - responses)) -eq "$canary_total" ]
	# Back to the remote backends for the tests after this one.
	write_config 192.0.2.10:8080 192.0.2.70:8080 off
	agent_reload
	[ ! -e "$PIN/links/tcx_s0" ]
	run in_ns "$NS_S" tc filter show dev s0 egress
	[[ $output != *tc_canary_reply* ]]
}

@test "e2e: a 0 -> 100 -> 0 sweep moves new connections and resets no established one" {
	set_weight 0
	rm -f "$BATS_FILE_TMPDIR/conns.ready"
	in_ns "$NS_C" python3 "$E2E/conns.py" "$VIP" 80 20 9 --interval 0.1 \
		--ready "$BATS_FILE_TMPDIR/conns.ready" --out "$BATS_FILE_TMPDIR/conns.json" \
		>/dev/null 2>&1 &
	local conns=$!
	# The weight moves only once all 20 connections are open, however slow the machine.
	wait_file "$BATS_FILE_TMPDIR/conns.ready" 30
	for w in 25 50 100; do
		set_weight "$w"
		sleep 0.7
	done
	# At 100 % every new connection goes to the canary...
	run curl_n 5
	[ "$(echo "$output" | grep -c '^canary$')" -eq 5 ]
	for w in 50 25 0; do
		set_weight "$w"
		sleep 0.7
	done
	run curl_n 5
	[ "$(echo "$output" | grep -c '^stable$')" -eq 5 ]
	wait "$conns"
	# ...while the 20 connections opened at 0 % stayed on stable the whole time.
	run jq -c . "$BATS_FILE_TMPDIR/conns.json"
	echo "$output"
	[ "$(jq .resets <<<"$output")" -eq 0 ]
	[ "$(jq .errors <<<"$output")" -eq 0 ]
	[ "$(jq .requests <<<"$output")" -gt 200 ]
	[ "$(jq '.bodies | keys | join(",")' <<<"$output")" = '"stable\n"' ]
}

@test "e2e: kill -9 of canaryd under load loses no request; the new agent keeps weights and counters" {
	set_weight 50
	in_ns "$NS_C" python3 "$E2E/load.py" "http://$VIP/" --duration 6 --concurrency 4 \
		--out "$BATS_FILE_TMPDIR/load.json" >/dev/null 2>&1 &
	local load=$!
	sleep 1.5
	before=$(ctl --json status web | jq '.services[0].versions.canary.flows_total')
	kill -9 "$(agent_pid)"
	# Nobody runs the agent: traffic still flows (a slow guest takes a while to open new
	# connections), and canaryctl reads the pins.
	wait_until 10 canary_flows_past "$before"
	run ctl --json status web
	[ "$status" -eq 0 ]
	[ "$(jq '.services[0].agent' <<<"$output")" = false ]
	agent_up
	tail -n 20 "$BATS_FILE_TMPDIR/agent.log" | grep -q 'taking over the pinned datapath'
	wait "$load"
	run jq -c . "$BATS_FILE_TMPDIR/load.json"
	echo "$output"
	[ "$(jq .failed <<<"$output")" -eq 0 ]
	[ "$(jq .ok <<<"$output")" -gt 100 ]
	run ctl --json status web
	[ "$(jq '.services[0].weight_bp' <<<"$output")" -eq 5000 ]
	[ "$(jq '.services[0].agent' <<<"$output")" = true ]
	[ "$(jq '.services[0].versions.canary.flows_total' <<<"$output")" -gt "$before" ]
}

@test "e2e: a real Prometheus scrapes the exporter: canary packets and responses match what was sent" {
	"$PROM" start "$BATS_FILE_TMPDIR/prom" "127.0.0.1:$EXPORTER_PORT" "$NS_S" >/dev/null
	ctl weight echo 100 >/dev/null
	set_weight 100
	# Each datagram is one packet to the canary; each curl is one HTTP response.
	for _ in $(seq 100); do
		web0=$("$PROM" value "$BATS_FILE_TMPDIR/prom" \
			'xdp_canary_http_responses_total{service="web",version="canary"}')
		[ "$web0" != none ] && break
		sleep 0.2
	done
	[ "$web0" != none ]
	# The first scrape may predate the weight change; the counters are what counts.
	sleep 1.5
	web0=$("$PROM" value "$BATS_FILE_TMPDIR/prom" \
		'xdp_canary_http_responses_total{service="web",version="canary"}')
	for i in $(seq 25); do
		in_ns "$NS_C" bash -c "echo ping$i >/dev/udp/$VIP/53"
	done
	run curl_n 10
	[ "$(echo "$output" | grep -c '^canary$')" -eq 10 ]
	run "$PROM" wait-value "$BATS_FILE_TMPDIR/prom" \
		'xdp_canary_packets_total{service="echo",version="canary"}' 25 20
	echo "$output"
	[ "$status" -eq 0 ]
	run "$PROM" wait-value "$BATS_FILE_TMPDIR/prom" \
		'xdp_canary_http_responses_total{service="web",version="canary"}' "$((web0 + 10))" 20
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$("$PROM" value "$BATS_FILE_TMPDIR/prom" \
		'xdp_canary_packets_total{service="echo",version="stable"}')" -eq 0 ]
	[ "$("$PROM" value "$BATS_FILE_TMPDIR/prom" \
		'xdp_canary_weight_ratio{service="web",version="canary"}')" -eq 1 ]
	"$PROM" stop "$BATS_FILE_TMPDIR/prom"
}

web_health() {	# VERSION (stable or canary)
	ctl --json status web | jq -r ".services[0].health.$1[0].state"
}

web_health_is() {	# VERSION STATE
	[ "$(web_health "$1")" = "$2" ]
}

@test "e2e: a running backend failing its fall probes leaves its pool; its new flows fall back" {
	local fell

	config_changed 192.0.2.10:8080 192.0.2.70:8080 off \
		'"health": {"type": "http", "every": "200ms", "timeout": "150ms", "fall": 2, "rise": 1}'
	wait_until 10 web_health_is canary up
	set_weight 100
	run curl_n 3
	[ "$status" -eq 0 ]
	[ "$(grep -c '^canary$' <<<"$output")" -eq 3 ]
	fell=$(ver_stat 1 fallback_flows)
	# The canary answers 503 to everything, its probes included: out after 2 of them.
	echo 503 >"$BATS_FILE_TMPDIR/canary.status"
	wait_until 10 web_health_is canary down
	grep -q "web: canary 192.0.2.70:8080 is down after 2 failed checks (HTTP 503): no healthy canary backend: new canary flows go to stable" \
		"$BATS_FILE_TMPDIR/agent.log"
	run curl_n 5
	[ "$status" -eq 0 ]
	[ "$(grep -c '^stable$' <<<"$output")" -eq 5 ]
	[ $(($(ver_stat 1 fallback_flows) - fell)) -eq 5 ]
	[ "$(ctl --json status web | jq .services[0].weight_bp)" -eq 10000 ]
	# Healthy again: back in after one probe, and new flows go to the canary.
	rm -f "$BATS_FILE_TMPDIR/canary.status"
	wait_until 10 web_health_is canary up
	run curl_n 3
	[ "$(grep -c '^canary$' <<<"$output")" -eq 3 ]
}

dp_stat_is() {	# REASON PACKETS
	[ "$(dp_stat "$1")" -eq "$2" ]
}

@test "e2e: forward, error and exception counters on /metrics are the kernel's own counts" {
	local m=$BATS_TEST_TMPDIR/metrics id v name o k before frags
	local -A fwd=([local]=fwd_local [tx]=fwd_tx [redirect]=fwd_redirect [stack]=fwd_stack
		      [no_neigh]=no_neigh [fib_fail]=fib_fail [redirect_fail]=redirect_fail)
	local -A err=([refused]=rst_refused [reset]=rst_midflow [syn_timeout]=syn_timeout
		      [unreachable]=icmp_unreach [no_backend]=no_backend [http_5xx]=http_5xx
		      [http_4xx]=http_4xx)

	set_weight 100
	id=$(ctl --json status web | jq '.services[0].id')
	scrape >"$m"
	before=$(sample "$m" 'xdp_canary_forward_total{service="web",version="canary",outcome="redirect"}')
	frags=$(dp_stat 0)
	run curl_n 10
	[ "$status" -eq 0 ]
	# One 3000-byte datagram to the VIP leaves the client as three IPv4 fragments, which the
	# datapath passes untouched and counts.
	in_ns "$NS_C" python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x" * 3000, ("'"$VIP"'", 53))'
	wait_until 5 dp_stat_is 0 $((frags + 3))
	scrape >"$m"
	[ "$(sample "$m" 'xdp_canary_exception_packets_total{reason="fragment",action="pass"}')" -eq \
		"$(dp_stat 0)" ]
	[ "$(sample "$m" 'xdp_canary_forward_total{service="web",version="canary",outcome="redirect"}')" \
		-gt "$before" ]
	# Every outcome and error kind of both versions: the exporter says what the maps say.
	for v in 0 1; do
		name=$([ "$v" -eq 0 ] && echo stable || echo canary)
		for o in "${!fwd[@]}"; do
			[ "$(sample "$m" "xdp_canary_forward_total{service=\"web\",version=\"$name\",outcome=\"$o\"}")" \
				-eq "$(ver_stat $((id * 2 + v)) "${fwd[$o]}")" ]
		done
		for k in "${!err[@]}"; do
			[ "$(sample "$m" "xdp_canary_errors_total{service=\"web\",version=\"$name\",kind=\"$k\"}")" \
				-eq "$(ver_stat $((id * 2 + v)) "${err[$k]}")" ]
		done
	done
}

@test "e2e: bpftool shows the weight canaryctl set" {
	ctl weight web 12.34 >/dev/null
	id=$(ctl --json status web | jq '.services[0].id')
	run bpftool -j map lookup pinned "$PIN/svc_state" key "$id" 0 0 0
	[ "$(jq '.formatted.value.weight' <<<"$output")" -eq 1234 ]
	ctl rollback web >/dev/null
	run bpftool -j map lookup pinned "$PIN/svc_state" key "$id" 0 0 0
	[ "$(jq '.formatted.value.weight' <<<"$output")" -eq 0 ]
}
