#!/usr/bin/env bats
# The installer CI relies on: nothing to do means nothing printed and nothing touched.

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
}

@test "deps: a second run finds everything installed and prints nothing" {
	run tools/deps.sh
	[ "$status" -eq 0 ]
	run tools/deps.sh
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "deps: every package it names exists in Debian's lists" {
	for p in $(sed -n '/^PKGS="/,/"$/p' tools/deps.sh | tr -d '"' | sed 's/^PKGS=//'); do
		dpkg-query -W "$p" >/dev/null
	done
}

@test "build: the skeleton embeds an object with BTF for every map type that takes it" {
	run bpftool btf dump file build/canary_bpf.bpf.o
	[ "$status" -eq 0 ]
	for t in svc_key svc_val svc_state flow_key flow_val pool backend override_key \
		 ver_stats be_stats dp_stats; do
		echo "$output" | grep -q "STRUCT '$t'"
	done
}
