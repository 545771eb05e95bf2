#!/usr/bin/env bats
# The Prometheus client (user/lib/prom.c) through promq against real servers, all on 127.0.0.1
# with ports the kernel picks: a real Prometheus (Debian's) scraping a test exporter whose values
# the tests set; a fake Prometheus (tests/prom/servers.py) answering badly on purpose, over HTTP
# and HTTPS, which also takes webhooks and records every request. Everything runs in this file's
# temp dir and is stopped by PID in teardown_file.

bats_require_minimum_version 1.5.0

ROOT="$BATS_TEST_DIRNAME/../.."
PROMQ="$ROOT/${BUILD:-build}/tests/promq"
PROM_SH="$BATS_TEST_DIRNAME/../e2e/prom.sh"
SERVERS="$BATS_TEST_DIRNAME/../prom/servers.py"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

# servers.py KIND in DIR, with any extra arguments; waits until it has written its port.
start_server() {	# KIND DIR [ARGS...]
	local kind=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	python3 "$SERVERS" "$kind" "$dir" "$@" </dev/null >"$dir/log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	for _ in $(seq 100); do
		[ -s "$dir/port" ] && return 0
		sleep 0.1
	done
	echo "servers.py $kind did not start:" >&2
	cat "$dir/log" >&2
	return 1
}

# Ends this file's servers by the PIDs in their files, then waits for all of them at once.
stop_servers() {	# PIDFILE...
	local pids=() f p left
	for f; do
		[ -f "$f" ] && pids+=("$(cat "$f")")
		rm -f "$f"
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 50); do
		left=()
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && left+=("$p")
		done
		[ ${#left[@]} -eq 0 ] && return 0
		sleep 0.1
	done
	kill -9 "${left[@]}" 2>/dev/null || true
}

set_metrics() {		# TEXT: what the exporter serves from now on
	printf '%s\n' "$1" >"$BATS_FILE_TMPDIR/exporter/metrics.tmp"
	mv "$BATS_FILE_TMPDIR/exporter/metrics.tmp" "$BATS_FILE_TMPDIR/exporter/metrics"
}

# A self-signed certificate for 127.0.0.1, which is its own CA.
make_cert() {		# DIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$1/key.pem" -out "$1/cert.pem" \
		>/dev/null 2>&1
}

setup_file() {
	local d=$BATS_FILE_TMPDIR
	if [ ! -x "$PROMQ" ]; then
		echo "no $PROMQ: run make first (BUILD=${BUILD:-build})" >&2
		return 1
	fi
	mkdir -p "$d/exporter" "$d/tls"
	set_metrics 'xct_value 42
xct_multi{pod="a"} 1
xct_multi{pod="b"} 2'
	start_server exporter "$d/exporter"
	start_server fake "$d/fake"
	make_cert "$d/tls"
	start_server fake "$d/tls" "$d/tls/cert.pem" "$d/tls/key.pem"
	PROM_PORT=$(free_port) "$PROM_SH" start "$d/prom" "127.0.0.1:$(cat "$d/exporter/port")"
	"$PROM_SH" wait-value "$d/prom" xct_value 42 30 >/dev/null
}

teardown_file() {
	local d=$BATS_FILE_TMPDIR
	"$PROM_SH" stop "$d/prom" || true
	stop_servers "$d/exporter/pid" "$d/fake/pid" "$d/tls/pid"
}

setup() {
	PROM="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/prom/prometheus.port")"
	FAKE="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fake/port")"
	FAKE_TLS="https://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/tls/port")"
	REQUESTS="$BATS_FILE_TMPDIR/fake/requests.jsonl"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Runs promq and checks its exit status and one jq test on its JSON line.
promq_is() {	# EXIT JQ_TEST PROMQ_ARGS...
	local want=$1 test=$2
	shift 2
	run "$PROMQ" "$@"
	echo "promq $* -> $status: $output"
	[ "$status" -eq "$want" ]
	jq -e "$test" <<<"$output" >/dev/null
}

@test "prometheus: the value the exporter serves is returned" {
	promq_is 0 '.status == "value" and .value == 42' "$PROM" xct_value
}

@test "prometheus: a changed value is returned once scraped" {
	set_metrics 'xct_value 7.5
xct_multi{pod="a"} 1
xct_multi{pod="b"} 2'
	for _ in $(seq 40); do
		run "$PROMQ" "$PROM" xct_value
		[ "$status" -eq 0 ] && [ "$(jq .value <<<"$output")" = 7.5 ] && return 0
		sleep 0.25
	done
	echo "last answer: $output"
	return 1
}

@test "prometheus: a series that does not exist is no data, not a value" {
	promq_is 3 '.status == "no_data" and .reason == "empty result"' "$PROM" xct_absent
}

@test "prometheus: several series are an error that names them; their sum is one value" {
	promq_is 4 '.error | startswith("2 series: aggregate the query") and contains("pod=\"a\"")' \
		"$PROM" xct_multi
	promq_is 0 '.value == 3' "$PROM" 'sum(xct_multi)'
	promq_is 0 '.value == 2' "$PROM" 'max by () (xct_multi)'
}

@test "prometheus: scalars, ±Inf and NaN" {
	promq_is 0 '.value == 7' "$PROM" '2 * 3.5'
	promq_is 0 '.value == "+Inf"' "$PROM" '1 / 0'
	promq_is 0 '.value == "-Inf"' "$PROM" '-1 / 0'
	promq_is 3 '.status == "no_data" and .reason == "NaN"' "$PROM" '0 / 0'
}

@test "prometheus: the evaluation time is the one given" {
	# Long before the first scrape the series did not exist.
	promq_is 3 '.reason == "empty result"' "$PROM" xct_value --time 1000000
	promq_is 0 '.status == "value"' "$PROM" xct_value --time "$(now_ms)"
}

@test "prometheus: a query Prometheus rejects is an error with its own message" {
	promq_is 4 '.error | startswith("HTTP 400: bad_data: ") and contains("parse error")' \
		"$PROM" 'sum(xct_value'
	promq_is 4 '.error | contains("range vector")' "$PROM" 'xct_value[1m]'
}

@test "request: query, time and Prometheus' own timeout are sent, URL-encoded" {
	local q='sum(rate(x{a="b c&d=e+f%"}[5m])) / 2'
	promq_is 0 '.value == 42' "$FAKE/value" "$q" --time 1700000000123 --timeout 3000
	jq -e --arg q "$q" 'select(.path == "/value/api/v1/query") | .query ==
		{"query": $q, "time": "1700000000.123", "timeout": "2700ms"}' "$REQUESTS"
}

@test "fake: a body that is not JSON is an error quoting it without control characters" {
	promq_is 4 '.error | startswith("not JSON: \"<html><body>??[31mproxy login")' \
		"$FAKE/notjson" up
	[[ "$output" != *'\u00'* ]]
}

@test "fake: status error shows Prometheus' type and message" {
	promq_is 4 '.error == "HTTP 422: execution: expanding series: query processing would " +
		"load too many samples"' "$FAKE/error" up
}

@test "fake: NaN is no data; +Inf and a scalar are values" {
	promq_is 3 '.reason == "NaN"' "$FAKE/nan" up
	promq_is 0 '.value == "+Inf"' "$FAKE/inf" up
	promq_is 0 '.value == 3.5' "$FAKE/scalar" up
}

@test "fake: several series and a matrix are errors" {
	promq_is 4 '.error == "3 series: aggregate the query (sum, max, ...): " +
		"up{pod=\"a\"}, up{pod=\"b\"}, ..."' "$FAKE/several" up
	promq_is 4 '.error | contains("matrix")' "$FAKE/matrix" up
}

@test "fake: HTTP 503 without JSON is an error with a snippet of the body" {
	promq_is 4 '.error == "HTTP 503: \"upstream connect error or disconnect\""' \
		"$FAKE/unavailable" up
}

@test "fake: an answer over 1 MiB is an error, with or without Content-Length" {
	promq_is 4 '.error | endswith("/big/api/v1/query: answer larger than 1 MiB")' "$FAKE/big" up
	promq_is 4 '.error | endswith("answer larger than 1 MiB")' "$FAKE/big-unsized" up
}

@test "fake: a server slower than the timeout is an error within the timeout" {
	local t0 elapsed
	t0=$(now_ms)
	promq_is 4 '.error | contains("/slow/api/v1/query: Timeout was reached") and
		contains("timed out after")' "$FAKE/slow" up --timeout 1000
	elapsed=$(($(now_ms) - t0))
	echo "elapsed ${elapsed} ms"
	# Not a speed bound: the client gave up at its timeout, not at the server's answer (10 s).
	[ "$elapsed" -ge 900 ]
	[ "$elapsed" -lt 9000 ]
}

@test "fake: connection refused is an error naming the URL, at once" {
	local port t0
	port=$(free_port)
	t0=$(now_ms)
	promq_is 4 ".error | startswith(\"GET http://127.0.0.1:$port/api/v1/query: \") and
		contains(\"Couldn't connect\")" "http://127.0.0.1:$port" up --timeout 30000
	# "At once" means without waiting for the timeout; how fast is for benchmarks.
	[ $(($(now_ms) - t0)) -lt 15000 ]
}

@test "token: the bearer token from the file is sent; a missing or wrong one is not accepted" {
	local tok=$BATS_TEST_TMPDIR/token
	printf 's3cret-token\n' >"$tok"
	promq_is 0 '.value == 42' "$FAKE/auth" up --token-file "$tok"
	tail -n 1 "$REQUESTS" | jq -e '.authorization == "Bearer s3cret-token"'
	promq_is 4 '.error == "HTTP 401: \"unauthorized\""' "$FAKE/auth" up
	printf 'wrong\n' >"$tok"
	promq_is 4 '.error == "HTTP 401: \"unauthorized\""' "$FAKE/auth" up --token-file "$tok"
	: >"$tok"
	promq_is 4 ".error == \"bearer_token_file $tok: is empty\"" "$FAKE/auth" up --token-file "$tok"
	promq_is 4 '.error | endswith("No such file or directory")' "$FAKE/auth" up \
		--token-file "$tok.absent"
}

@test "tls: https with the CA file; without it an error; --insecure skips verification" {
	promq_is 0 '.value == 42' "$FAKE_TLS/value" up --ca-file "$BATS_FILE_TMPDIR/tls/cert.pem"
	promq_is 4 '.error | contains("certificate")' "$FAKE_TLS/value" up
	promq_is 0 '.value == 42' "$FAKE_TLS/value" up --insecure
}

@test "protocols: only http and https" {
	promq_is 4 '.error | contains("Unsupported protocol")' "file:///etc" up
}

@test "webhook: the JSON body arrives as application/json" {
	local body='{"event":"rolled_back","service":"web","reason":"5xx > 0.01"}'
	promq_is 0 '.status == "ok"' --post "$FAKE/hook-ok" "$body"
	tail -n 1 "$REQUESTS" | jq -e --argjson b "$body" \
		'.path == "/hook-ok" and .content_type == "application/json" and
		 (.body | fromjson) == $b'
}

@test "webhook: HTTP 500 and an unreachable URL are errors, quickly" {
	local port t0
	promq_is 4 ".error == \"POST $FAKE/hook-fail: HTTP 500: \\\"boom\\\"\"" \
		--post "$FAKE/hook-fail" '{}'
	port=$(free_port)
	t0=$(now_ms)
	promq_is 4 ".error | startswith(\"POST http://127.0.0.1:$port/hook: \")" \
		--post "http://127.0.0.1:$port/hook" '{}' --timeout 30000
	[ $(($(now_ms) - t0)) -lt 15000 ]
}
