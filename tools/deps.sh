#!/bin/sh
# Installs the Debian 12 packages xdp-canary builds and tests with, only those missing.
# Idempotent and quiet: with everything present it touches neither the network nor dpkg.
set -eu

PKGS="make gcc pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev
libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev bats jq iproute2 ethtool curl python3 prometheus
openssl wrk gnuplot-nox python3-prometheus-client qemu-system-x86 busybox-static kmod file
nginx nftables"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
# No package's install may start its service: nginx (for the benchmark) would take port 80 on
# the host. invoke-rc.d asks policy-rc.d; 101 means "not allowed".
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
