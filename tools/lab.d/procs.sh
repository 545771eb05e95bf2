# shellcheck shell=bash
# Process helpers for tools/lab and the tests, sourced: whether a process runs, and ending one
# this code started, by its PID. Nothing here looks a process up by name.

# True while PID runs. A zombie (ended, not yet reaped by the shell that started it) has ended.
pid_alive() {	# PID
	[ -n "${1:-}" ] && [ -e "/proc/$1" ] &&
		! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Sends SIGNAL (default TERM) to PID and waits up to SECONDS (default 5) for it to end; then
# SIGKILL. Returns 1 when it had to kill, 0 when the process ended (or was not running).
pid_stop() {	# PID [SIGNAL [SECONDS]]
	local pid=$1 i

	pid_alive "$pid" || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < ${3:-5} * 10; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	return 1
}
