#!/usr/bin/env bash
# A real Prometheus (/usr/bin/prometheus) for tests, scraping one target every second.
#
# usage:
#   prom.sh start DIR TARGET [NETNS]        write DIR/prometheus.yml (job "xdp-canary", target
#                                           TARGET=host:port, /metrics), start prometheus on
#                                           127.0.0.1:$PROM_PORT (default 9090), inside NETNS if
#                                           given; PID in DIR/prometheus.pid, log in
#                                           DIR/prometheus.log; waits up to 20 s for /-/ready.
#   prom.sh query DIR PROMQL [NETNS]        print the /api/v1/query JSON answer
#   prom.sh value DIR PROMQL [NETNS]        print the single number of the result, or "none"
#   prom.sh wait-value DIR PROMQL EXPECTED TIMEOUT_S [NETNS]
#                                           poll until the value equals EXPECTED (numerically);
#                                           print it, or print the last value and exit 1
#   prom.sh stop DIR                        kill the PID in DIR/prometheus.pid (-9 after 10 s)
#
# The port and netns given to "start" are kept in DIR, so later subcommands may omit NETNS
# (an explicit NETNS wins). The netns' loopback must be up.
set -euo pipefail

die() { echo "prom.sh: $*" >&2; exit 2; }

# load DIR's saved port/netns; $2 (optional) overrides the netns
load() {
    dir=$1
    port=$(cat "$dir/prometheus.port" 2>/dev/null || echo "${PROM_PORT:-9090}")
    ns=${2:-$(cat "$dir/prometheus.netns" 2>/dev/null || true)}
}

in_ns() {
    if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# shellcheck source=tools/lab.d/procs.sh
. "$(dirname "$0")/../../tools/lab.d/procs.sh"

is_prom() {  # is_prom PID: alive and still prometheus (not a reused PID)
    pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q prometheus
}

cmd_start() {
    [ $# -ge 2 ] || die "usage: start DIR TARGET [NETNS]"
    local dir=$1 target=$2 i code
    ns=${3:-}
    port=${PROM_PORT:-9090}
    if [ -f "$dir/prometheus.pid" ] && is_prom "$(cat "$dir/prometheus.pid")"; then
        die "a prometheus already runs for $dir"
    fi
    code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
        "http://127.0.0.1:$port/" || true)
    [ "$code" = 000 ] || die "127.0.0.1:$port${ns:+ in $ns} is already in use"
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xdp-canary
    metrics_path: /metrics
    static_configs:
      - targets: ['$target']
EOF
    echo "$port" >"$dir/prometheus.port"
    echo "$ns" >"$dir/prometheus.netns"
    local args=(/usr/bin/prometheus --config.file="$dir/prometheus.yml"
        --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$port")
    # A simple command run with & is exec'd by the forked child, and "ip netns exec" execs
    # too, so $! is prometheus's own PID. fd 3 is closed for bats.
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "${args[@]}" </dev/null >>"$dir/prometheus.log" 2>&1 3>&- &
    else
        "${args[@]}" </dev/null >>"$dir/prometheus.log" 2>&1 3>&- &
    fi
    local pid=$!
    echo "$pid" >"$dir/prometheus.pid"
    for ((i = 0; i < 40; i++)); do
        if ! pid_alive "$pid"; then
            echo "prom.sh: prometheus exited; log tail:" >&2
            tail -n 20 "$dir/prometheus.log" >&2
            exit 1
        fi
        code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
            "http://127.0.0.1:$port/-/ready" || true)
        [ "$code" = 200 ] && pid_alive "$pid" && return 0
        sleep 0.5
    done
    echo "prom.sh: prometheus not ready after 20 s; log tail:" >&2
    tail -n 20 "$dir/prometheus.log" >&2
    exit 1
}

cmd_query() {
    [ $# -ge 2 ] || die "usage: query DIR PROMQL [NETNS]"
    load "$1" "${3:-}"
    in_ns curl -sS --max-time 5 "http://127.0.0.1:$port/api/v1/query" \
        --data-urlencode "query=$2"
}

cmd_value() {
    [ $# -ge 2 ] || die "usage: value DIR PROMQL [NETNS]"
    cmd_query "$@" | jq -er '
        if .status != "success" then error("query failed: \(.error // .)")
        elif .data.resultType == "scalar" then .data.result[1]
        elif .data.resultType == "vector" then
            if (.data.result | length) == 0 then "none"
            elif (.data.result | length) == 1 then .data.result[0].value[1]
            else error("\(.data.result | length) series; aggregate them") end
        else error("unsupported result type \(.data.resultType)") end'
}

cmd_wait_value() {
    [ $# -ge 4 ] || die "usage: wait-value DIR PROMQL EXPECTED TIMEOUT_S [NETNS]"
    local dir=$1 q=$2 want=$3 timeout=$4 v=none end
    end=$((SECONDS + ${timeout%.*}))
    while :; do
        v=$(cmd_value "$dir" "$q" "${5:-}" 2>/dev/null) || v=none
        if awk -v a="$v" -v b="$want" 'BEGIN {
                n = "^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$"
                exit !(a ~ n && b ~ n && a + 0 == b + 0) }'; then
            echo "$v"
            return 0
        fi
        [ "$SECONDS" -lt "$end" ] || break
        sleep 0.5
    done
    echo "$v"
    exit 1
}

cmd_stop() {
    [ $# -ge 1 ] || die "usage: stop DIR"
    local pidfile=$1/prometheus.pid pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if is_prom "$pid"; then
        pid_stop "$pid" TERM 10 || true
    fi
    rm -f "$pidfile"
}

[ $# -ge 1 ] || die "usage: prom.sh start|query|value|wait-value|stop DIR ..."
sub=$1
shift
case $sub in
    start) cmd_start "$@" ;;
    query) cmd_query "$@" ;;
    value) cmd_value "$@" ;;
    wait-value) cmd_wait_value "$@" ;;
    stop) cmd_stop "$@" ;;
    *) die "unknown subcommand $sub" ;;
esac
