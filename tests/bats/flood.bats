#!/usr/bin/env bats
# Hostile traffic against established connections: a spoofed SYN flood four times the size of
# the flow table, with the weight moved in the middle. The lab of tests/e2e/lib.bash with a
# small table; everything it makes has names of its own and goes in teardown_file.

load ../e2e/lib
e2e_names xcf xdp-canary-flood 9438

FLOW_ENTRIES=2048
FLOOD_SRC=10.99.0.0/16	# routed nowhere: the backends' SYN-ACKs die at the splitter

setup_file() {
	topo_up
	start_backend "$NS_1" stable 192.0.2.10 8080
	start_backend "$NS_2" canary 192.0.2.70 8080
	{
		echo "{"
		cfg_common off
		cat <<EOF
  "flow_entries": $FLOW_ENTRIES,
  "services": [
    {"name": "web", "vip": "$VIP", "port": 80, "http": true,
     "stable": ["192.0.2.10:8080"], "canary": ["192.0.2.70:8080"]}
  ]
}
EOF
	} >"$CFG"
	agent_up
}

teardown_file() {
	topo_down
}

# N keep-alive connections asking every INTERVAL s, and once more when told to stop (SIGTERM).
hold_conns() {	# NAME N INTERVAL
	rm -f "$BATS_FILE_TMPDIR/$1.ready"
	ip netns exec "$NS_C" python3 "$E2E/conns.py" "$VIP" 80 "$2" 600 --interval "$3" --final \
		--ready "$BATS_FILE_TMPDIR/$1.ready" --out "$BATS_FILE_TMPDIR/$1.json" \
		>/dev/null 2>"$BATS_FILE_TMPDIR/$1.err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/$1.pid"
}

# Stops a holder and checks what it saw: every connection answered to the end, on one backend.
conns_intact() {	# NAME N MIN_REQUESTS
	local out=$BATS_FILE_TMPDIR/$1.json

	kill -TERM "$(cat "$BATS_FILE_TMPDIR/$1.pid")"
	wait_file "$out" 30
	jq -c . "$out"
	cat "$BATS_FILE_TMPDIR/$1.err"
	[ "$(jq .connections "$out")" -eq "$2" ]
	[ "$(jq '.resets + .errors + .moved' "$out")" -eq 0 ]
	[ "$(jq .requests "$out")" -ge "$3" ]
}

flood() {	# COUNT
	run ip netns exec "$NS_C" python3 "$E2E/spoof.py" synflood "$VIP" --src "$FLOOD_SRC" \
		--count "$1"
	echo "$output"
	[ "$status" -eq 0 ]
}

flows_in_table() {
	bpftool -j map dump pinned "$PIN/flows" | jq length
}

@test "flood: 50 keep-alive connections, half idle, live through 4x flow_entries of spoofed SYNs and a weight change" {
	local half=$((2 * FLOW_ENTRIES)) new_before syns_before

	ctl weight web 50 >/dev/null
	hold_conns active 25 0.1
	hold_conns idle 25 1000
	wait_file "$BATS_FILE_TMPDIR/active.ready" 60
	wait_file "$BATS_FILE_TMPDIR/idle.ready" 60
	new_before=$(($(ver_stat 0 new_flows) + $(ver_stat 1 new_flows)))
	syns_before=$(($(ver_stat 0 syns) + $(ver_stat 1 syns)))

	flood "$half"
	ctl weight web 100 >/dev/null
	flood "$half"
	# The flood took no room from the connections, and counted as handshakes, not new flows.
	[ "$(flows_in_table)" -le 60 ]
	[ "$(($(ver_stat 0 syns) + $(ver_stat 1 syns) - syns_before))" -ge $((2 * half)) ]
	[ "$(($(ver_stat 0 new_flows) + $(ver_stat 1 new_flows)))" -eq "$new_before" ]

	conns_intact active 25 50
	conns_intact idle 25 50		# a request at the start and one after the flood, each
	# Both versions had connections of their own, and kept them at 100 %.
	[ "$(jq '.bodies | length' "$BATS_FILE_TMPDIR/active.json")" -eq 2 ]
	[ "$(jq '.bodies | length' "$BATS_FILE_TMPDIR/idle.json")" -eq 2 ]
}
