#!/usr/bin/env bats
# make install stages what a package holds; the systemd unit passes systemd-analyze verify.

setup() {
	ROOT="$BATS_TEST_DIRNAME/../.."
}

@test "install: make install DESTDIR= PREFIX= puts binaries, unit, example config and docs" {
	run make -s -C "$ROOT" install DESTDIR="$BATS_TEST_TMPDIR/stage" PREFIX=/usr
	[ "$status" -eq 0 ]
	for f in usr/sbin/canaryd usr/sbin/canaryctl; do
		[ -x "$BATS_TEST_TMPDIR/stage/$f" ]
	done
	unit="$BATS_TEST_TMPDIR/stage/usr/lib/systemd/system/canaryd.service"
	grep -q '^ExecStart=/usr/sbin/canaryd -c /etc/xdp-canary/canaryd.json$' "$unit"
	grep -q '^CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_ADMIN CAP_CHOWN$' \
		"$unit"
	[ -f "$BATS_TEST_TMPDIR/stage/etc/xdp-canary/canaryd.json.example" ]
	for f in README.md DESIGN.md TESTING.md; do
		[ -f "$BATS_TEST_TMPDIR/stage/usr/share/doc/xdp-canary/$f" ]
	done
	"$BATS_TEST_TMPDIR/stage/usr/sbin/canaryd" --check-config \
		-c "$BATS_TEST_TMPDIR/stage/etc/xdp-canary/canaryd.json.example"
}

@test "install: a second install with another PREFIX gets a unit with that PREFIX's paths" {
	make -s -C "$ROOT" install DESTDIR="$BATS_TEST_TMPDIR/a" PREFIX=/usr >/dev/null
	make -s -C "$ROOT" install DESTDIR="$BATS_TEST_TMPDIR/b" PREFIX=/usr/local >/dev/null
	grep -q '^ExecStart=/usr/local/sbin/canaryd ' \
		"$BATS_TEST_TMPDIR/b/usr/local/lib/systemd/system/canaryd.service"
}

@test "install: the systemd unit passes systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	# verify wants the binaries where the unit says: point it at this build.
	sed -e "s|@SBINDIR@|$(cd "$ROOT" && pwd)/build|g" -e "s|@DOCDIR@|/usr/share/doc|g" \
		"$ROOT/tools/canaryd.service.in" >"$BATS_TEST_TMPDIR/canaryd.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/canaryd.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
