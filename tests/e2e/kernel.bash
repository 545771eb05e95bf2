# What the running kernel offers the tests' expectations; sourced by tests/e2e/lib.bash and by
# bats files that do not use the whole library.

# What "tc": "auto" attaches with on this kernel: TCX from Linux 6.6, a clsact qdisc before.
kernel_tc_mode() {
	local major minor

	IFS=. read -r major minor _ <<<"$(uname -r)"
	if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 6 ]; }; then
		echo tcx
	else
		echo clsact
	fi
}
