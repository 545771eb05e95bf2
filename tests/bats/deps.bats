#!/usr/bin/env bats
# The installer CI relies on: nothing to do means nothing printed and nothing touched; a
# package missing is named.

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
}

teardown() {
	[ ! -f "$BATS_TEST_TMPDIR/fake" ] || rm -rf "$(cat "$BATS_TEST_TMPDIR/fake")"
}

# Stand-ins for what could change the machine: each logs its call and fails.
fake_installers() {	# DIR
	local t

	mkdir -p "$1"
	for t in apt-get apt dpkg; do
		printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 1\n' "$t" "$1" >"$1/$t"
		chmod +x "$1/$t"
	done
}

@test "deps: a second run finds everything installed, prints nothing and touches nothing" {
	local fake=$BATS_TEST_TMPDIR/bin status_mtime

	run tools/deps.sh
	[ "$status" -eq 0 ]
	fake_installers "$fake"
	status_mtime=$(stat -c %Y /var/lib/dpkg/status)
	run env PATH="$fake:$PATH" tools/deps.sh
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# No apt-get, apt or dpkg ran (dpkg-query, which only reads, may), dpkg's status is as it was.
	[ ! -e "$fake/calls" ]
	[ "$(stat -c %Y /var/lib/dpkg/status)" = "$status_mtime" ]
}

@test "deps: with a package missing it names it; as a user it asks for root, as root installs" {
	# Not under BATS_TEST_TMPDIR: its 0700 parents keep the user below out.
	local fake

	fake=$(mktemp -d /tmp/xdp-canary-deps.XXXXXX)
	echo "$fake" >"$BATS_TEST_TMPDIR/fake"
	chmod 755 "$fake"
	fake_installers "$fake"
	# A dpkg-query that knows every package but jq.
	printf '#!/bin/sh\ncase "$*" in *" jq") exit 1;; esac\nexec /usr/bin/dpkg-query "$@"\n' \
		>"$fake/dpkg-query"
	chmod +x "$fake/dpkg-query"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env PATH="$fake:$PATH" \
		tools/deps.sh
	[ "$status" -eq 1 ]
	[ "$output" = "deps: missing packages: jq (run 'make deps' as root)" ]
	[ ! -e "$fake/calls" ]
	# As root: it says what it installs and asks apt for exactly that (the stand-in fails).
	run env PATH="$fake:$PATH" tools/deps.sh
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = "deps: installing jq" ]
	[ "$(cat "$fake/calls")" = "apt-get update -qq" ]
}

@test "deps: every package it names is installed, and in Debian 12's lists where apt has them" {
	local p lists=0

	ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 && lists=1
	[ "$lists" -eq 1 ] || echo "# no apt lists on this machine: installed only" >&3
	for p in $(sed -n '/^PKGS="/,/"$/p' tools/deps.sh | tr -d '"' | sed 's/^PKGS=//'); do
		[ "$(dpkg-query -W -f='${Status}' "$p")" = "install ok installed" ] || {
			echo "$p is not installed" >&2
			return 1
		}
		[ "$lists" -eq 0 ] || apt-cache policy "$p" | grep -q ' bookworm[-/a-z]* ' || {
			echo "$p: no Debian 12 (bookworm) candidate in apt's lists" >&2
			return 1
		}
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
