# Waiting for a condition in tests, never for a fixed time.

# Runs CMD until it succeeds, for at most SECONDS; TEST_TIME_SCALE stretches that on a slow
# machine (vmtests/ sets it under qemu).
wait_until() {	# SECONDS CMD...
	local deadline=$((SECONDS + $1 * ${TEST_TIME_SCALE:-1}))

	shift
	until "$@"; do
		[ "$SECONDS" -le "$deadline" ] || return 1
		sleep 0.1
	done
}

wait_file() {	# FILE SECONDS
	wait_until "$2" test -e "$1" && return 0
	echo "$1 did not appear within $2 s" >&2
	return 1
}
