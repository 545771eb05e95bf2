#!/bin/bash
# PID 1 inside the vmtest guest, on the overlay of the host's root that vmtests/init made:
# mounts what the tests need, runs the job's suites with tests/run.sh, writes their TAP, the
# guest's uname -r and "done" to the result share, and powers the guest off.
out=$1
exec >"$out/guest.log" 2>&1
uname -r >"$out/uname"

off() {
	sync
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}
trap off EXIT

# The reason goes to guest.log and, as a failed test, to the TAP the host prints.
fail() {
	echo "vmtest-guest: $*"
	echo "not ok - vmtest guest: $*" >>"$out/results.tap"
	exit 1
}

# shellcheck source=/dev/null
. "$out/job" || fail "no job file in $out"

mnt() {	# TYPE DIR [OPTIONS]
	mkdir -p "$2" && mount -t "$1" ${3:+-o "$3"} "$1" "$2" || fail "mount $1 on $2"
}
# /tmp stays the overlay's (writable already): a tmpfs there would hide a checkout, and the
# result share, that live under the host's /tmp.
mnt tmpfs /run mode=0755
mnt tmpfs /dev/shm mode=1777
mnt devpts /dev/pts
mnt bpf /sys/fs/bpf
mnt cgroup2 /sys/fs/cgroup
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mkdir -p /run/netns /var/tmp
# devtmpfs makes device nodes only; bash's process substitution needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr

# TCG runs the guest several times slower than the host: the tests' waiting limits stretch by
# TEST_TIME_SCALE (the breaker's own reaction is still held to its second).
export PATH=$GUEST_PATH HOME=/root CI LANG=C.UTF-8 TERM=dumb TEST_TIME_SCALE=3
hostname vmtest
ip link set lo up || fail "ip link set lo up"
# What the suites need that Debian builds as modules; a missing one is named here, not
# as an odd failure deep in a test.
for m in veth sch_ingress cls_bpf act_bpf; do
	modprobe "$m" || fail "modprobe $m"
done

cd "$REPO" || fail "no repository at $REPO"
echo "# guest: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)" \
	>>"$out/results.tap"
# shellcheck disable=SC2086
tests/run.sh "$BUILD" $SUITES >>"$out/results.tap" 2>&1
echo "tests/run.sh exited with status $?"
echo done >"$out/status"
