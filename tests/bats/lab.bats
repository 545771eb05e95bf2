#!/usr/bin/env bats
# tools/lab as a newcomer uses it: up (twice), status, traffic through the VIP, faults and
# deploys on the running backends, bounded load, bad input that changes nothing, a failed up
# that cleans up after itself, and down (twice) that leaves nothing behind. The lab's name
# ("xclt-PID") and state directory are this file's own.

# shellcheck source=tools/lab.d/procs.sh
. "$BATS_TEST_DIRNAME/../../tools/lab.d/procs.sh"

# The bpffs entries a lab may make: iproute2's directories, and its pins.
bpffs_entries() {
	ls /sys/fs/bpf | grep -E "^(tc|ip|xdp)\$|^xc" || true
}

setup_file() {
	export LAB_NAME="xclt-${BATS_ROOT_PID:-$$}"
	export LAB_RUN="$BATS_FILE_TMPDIR/run"
	bpffs_entries >"$BATS_FILE_TMPDIR/bpffs.before"
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../../tools/lab" down >/dev/null 2>&1 || true
}

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
}

lab() {
	tools/lab "$@"
}

lab_namespaces() {
	ip netns list | awk '{print $1}' | grep -E "^$LAB_NAME-" || true
}

# From client 1 to the VIP: the body, or the status code with -w.
get() {
	ip netns exec "$LAB_NAME-c1" curl -sS --max-time 5 "$@" http://203.0.113.100/
}

# Nothing of the lab is left: namespaces, pins, its directory, its processes, bpffs entries.
nothing_left() {
	local pid

	[ -z "$(lab_namespaces)" ]
	[ ! -e "/sys/fs/bpf/$LAB_NAME" ]
	[ ! -e "$LAB_RUN/$LAB_NAME" ]
	for pid in $(cat "$BATS_FILE_TMPDIR"/pids 2>/dev/null); do
		# Not "! kill -0": bats ignores a negated command that is not a test's last; and a
		# zombie (ended, not yet reaped by init) answers kill -0.
		if pid_alive "$pid"; then
			echo "process $pid is still running: $(tr '\0' ' ' </proc/"$pid"/cmdline)" >&2
			return 1
		fi
	done
	diff <(bpffs_entries) "$BATS_FILE_TMPDIR/bpffs.before"
	! pgrep -f "$LAB_NAME" >/dev/null
}

@test "lab: --help, and usage errors exit 2" {
	run lab --help
	[ "$status" -eq 0 ]
	for c in up down status "load start" fault deploy ctl prom env; do
		grep -q "^  $c" <<<"$output"
	done
	run lab
	[ "$status" -eq 2 ]
	run lab frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown command 'frobnicate'"* ]]
}

@test "lab: bad arguments to up are refused before anything is made" {
	run lab up --clients 9
	[ "$status" -eq 1 ]
	[[ $output == *"--clients 9: give 1 to 4"* ]]
	echo '[1, 2]' >"$BATS_FILE_TMPDIR/plan-array.json"
	run lab up --plan "$BATS_FILE_TMPDIR/plan-array.json"
	[ "$status" -eq 1 ]
	[[ $output == *"not a JSON object"* ]]
	run lab --name 'Bad_Name' up
	[ "$status" -eq 1 ]
	[[ $output == *"lab name 'Bad_Name'"* ]]
	nothing_left
}

@test "lab: an up that fails half way removes what it made" {
	local fake=$BATS_FILE_TMPDIR/fake-build

	mkdir -p "$fake"
	ln -sf "$PWD/build/canaryctl" "$PWD/build/xdp_bare.bpf.o" "$fake/"
	printf '#!/bin/sh\necho "canaryd: error: a test stand-in that always fails" >&2\nexit 1\n' \
		>"$fake/canaryd"
	chmod +x "$fake/canaryd"
	run env LAB_BUILD="$fake" tools/lab up
	[ "$status" -ne 0 ]
	[[ $output == *"always fails"* ]]
	[[ $output == *"up failed; removing what was made"* ]]
	nothing_left
}

@test "lab: up makes clients, splitter, backends, canaryd and Prometheus; a second up changes nothing" {
	run lab up
	[ "$status" -eq 0 ]
	[[ $output == *"is up: VIP 203.0.113.100:80 from 2 clients"* ]]
	[ "$(lab_namespaces | wc -l)" -eq 5 ]
	cat "$LAB_RUN/$LAB_NAME"/*.pid >"$BATS_FILE_TMPDIR/pids"
	run lab up
	[ "$status" -eq 0 ]
	[[ $output == *"is up already"* ]]
	diff <(cat "$LAB_RUN/$LAB_NAME"/*.pid) "$BATS_FILE_TMPDIR/pids"
}

@test "lab: status shows the processes, canaryctl's view and Prometheus' three targets up" {
	for _ in $(seq 50); do
		[ "$(lab prom 'sum(up)' | awk '{print $NF}')" = 3 ] && break
		sleep 0.2
	done
	run lab status
	[ "$status" -eq 0 ]
	[[ $output == *"canaryd     pid "* ]]
	[[ $output == *"prometheus  pid "* ]]
	[[ $output == *"web  203.0.113.100:80/tcp"* ]]
	[ "$(grep -c 'job=.* 1$' <<<"$output")" -eq 3 ]
}

@test "lab: the VIP answers from stable at weight 0 and from canary at 100" {
	lab ctl weight web 0 >/dev/null
	[ "$(get)" = "web v1 (stable)" ]
	lab ctl weight web 100 >/dev/null
	[ "$(get)" = "web v2 (canary)" ]
}

@test "lab: fault makes the running canary answer 503 and slow; bad values change nothing" {
	lab ctl weight web 100 >/dev/null
	run lab fault canary --error abc
	[ "$status" -eq 1 ]
	[[ $output == *"--error 'abc': give a percentage"* ]]
	run lab fault canary --error 150
	[ "$status" -eq 1 ]
	[[ $output == *"not a ratio in 0..1"* ]]
	run lab fault blue --error 5
	[ "$status" -eq 1 ]
	[[ $output == *"'blue' is not a version"* ]]
	[ "$(get -o /dev/null -w '%{http_code}')" = 200 ]

	run lab fault canary --error 100 --delay 20
	[ "$status" -eq 0 ]
	[ "$output" = "canary: release v2, 503 on 100% of requests, 20 ms added" ]
	[ "$(get -o /dev/null -w '%{http_code}')" = 503 ]
	lab fault canary --error 0 --delay 0 >/dev/null
	[ "$(get -o /dev/null -w '%{http_code}')" = 200 ]
}

# The canary backend's own count of its 503 answers, from its /metrics.
canary_503s() {
	ip netns exec "$LAB_NAME-split" curl -sS --max-time 5 http://192.0.2.70:9100/metrics |
		awk '/^http_requests_total\{/ && /code="503"/ { n += $NF } END { print n + 0 }'
}

@test "lab: the backends' own metrics reach Prometheus, 503s by code" {
	local before after q='http_requests_total{version="canary",code="503"}'

	lab ctl weight web 100 >/dev/null
	before=$(canary_503s)
	lab fault canary --error 100 >/dev/null
	for _ in 1 2 3; do
		[ "$(get -o /dev/null -w '%{http_code}')" = 503 ]
	done
	lab fault canary --error 0 >/dev/null
	after=$(canary_503s)
	[ "$after" -eq $((before + 3)) ]
	for _ in $(seq 50); do
		[[ "$(lab prom "$q")" == *" $after" ]] && break
		sleep 0.2
	done
	run lab prom "$q"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"app=web,code=503,instance=192.0.2.70:9100,job=web,release=v2,version=canary $after" ]]
	run lab prom 'count(http_request_duration_seconds_bucket{version="canary"})'
	[ "$status" -eq 0 ]
	[[ $output =~ ^\ [1-9][0-9]*$ ]]
	run lab prom 'sum(('
	[ "$status" -eq 1 ]
	[[ $output == "lab: prom: "*"parse error"* ]]
}

@test "lab: deploy changes the running backend's release" {
	lab ctl weight web 100 >/dev/null
	run lab deploy canary v9
	[ "$status" -eq 0 ]
	[ "$(get)" = "web v9 (canary)" ]
	run lab deploy canary 'no spaces'
	[ "$status" -eq 1 ]
	[ "$(get)" = "web v9 (canary)" ]
}

@test "lab: load is bounded by its request count, and reaches both versions" {
	lab ctl weight web 50 >/dev/null
	run lab load start --rate 200 --duration 20 --requests 300 --connections 4
	[ "$status" -eq 0 ]
	run lab load start
	[ "$status" -eq 1 ]
	[[ $output == *"a load runs already"* ]]
	lab load wait
	n=$(awk '/requests in/ {n += $1} END {print n}' "$LAB_RUN/$LAB_NAME"/load-*.log)
	echo "requests: $n" >&3
	[ "$n" -ge 300 ]
	[ "$n" -le 310 ]
	run grep -q 'Socket errors' "$LAB_RUN/$LAB_NAME"/load-*.log
	[ "$status" -eq 1 ]
	run lab ctl status --json web
	[ "$(jq '.services[0].versions.canary.http_responses_total' <<<"$output")" -gt 50 ]
	[ "$(jq '.services[0].versions.stable.http_responses_total' <<<"$output")" -gt 50 ]
	run lab load start --rate 0
	[ "$status" -eq 1 ]
}

@test "lab: down removes everything; a second down is harmless; status says it is down" {
	run lab down
	[ "$status" -eq 0 ]
	nothing_left
	run lab down
	[ "$status" -eq 0 ]
	run lab status
	[ "$status" -eq 3 ]
	[[ $output == *"is down"* ]]
}
