#!/bin/bash
# Finds the guest kernel for vmtests/vmtest and prints "VMLINUZ MODULES_DIR VERSION".
#
# usage: vmtests/kernel.sh KERNEL CACHE_DIR
# KERNEL is a Debian package name (linux-image-amd64, linux-image-6.1.0-57-amd64-unsigned, ...),
# fetched with apt-get download and unpacked in CACHE_DIR without installing it on the host; or a
# kernel image file, whose modules are taken from VMTEST_MODULES, or else from the
# lib/modules/VERSION beside the boot/ it lies in (as dpkg -x lays a package out).
set -eu
kernel=$1
cache=$2

die() {
	echo "vmtest: $*" >&2
	exit 1
}

# The modules a kernel package ships lack modules.dep: make it once, in place.
depmod_once() {	# MODULES_DIR VERSION
	[ -s "$1/modules.dep" ] && return 0
	local base=${1%/lib/modules/$2}
	[ "$base" != "$1" ] || die "$1 is not a lib/modules/$2 directory: cannot run depmod on it"
	depmod -b "$base" "$2" || die "depmod -b $base $2 failed"
}

from_file() {
	local img=$1 ver mods

	[ -r "$img" ] || die "kernel image $img cannot be read"
	# "Linux kernel x86 boot executable bzImage, version 6.1.0-57-amd64 (...)"
	ver=$(file -bL "$img" | sed -n 's/.*, version \([^ ]*\) .*/\1/p')
	[ -n "$ver" ] || die "$img is not a bzImage whose version file(1) can read"
	mods=${VMTEST_MODULES:-$(dirname "$(readlink -f "$img")")/../lib/modules/$ver}
	[ -d "$mods" ] || die "no modules for $ver: set VMTEST_MODULES to its lib/modules/$ver"
	mods=$(readlink -f "$mods")
	depmod_once "$mods" "$ver"
	echo "$(readlink -f "$img") $mods $ver"
}

candidate() {	# PACKAGE: the version apt would install, after one update if the lists lack it
	local v

	v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	fi
	[ -n "$v" ] && [ "$v" != "(none)" ] || die "no Debian package $1 (apt-cache policy $1)"
	echo "$v"
}

# Unpacks only what a guest needs: the image, and the modules of filesystems, networking,
# virtio and their libraries (a fifth of the package).
unpack() {	# DEB DIR
	local tmp="$2.tmp"

	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb --fsys-tarfile "$1" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' \
		'./lib/modules/*/modules.*' './lib/modules/*/kernel/net' './lib/modules/*/kernel/fs' \
		'./lib/modules/*/kernel/lib' './lib/modules/*/kernel/crypto' \
		'./lib/modules/*/kernel/drivers/virtio' './lib/modules/*/kernel/drivers/net' ||
		die "unpack $1 failed"
	mv "$tmp" "$2"
}

# A metapackage (linux-image-amd64) ships no image: the kernel package it depends on does.
image_package() {	# PACKAGE VERSION
	local dep

	dep=$(apt-cache show "$1=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -n 1)
	echo "${dep:-$1}"
}

from_package() {
	local pkg=$1 ver dir img real

	ver=$(candidate "$pkg")
	real=$(image_package "$pkg" "$ver")
	if [ "$real" != "$pkg" ]; then
		from_package "$real"
		return
	fi
	dir="$cache/${pkg}_$ver"
	if [ ! -d "$dir" ]; then
		mkdir -p "$cache"
		rm -f "$cache/${pkg}_"*.deb
		(cd "$cache" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
			die "apt-get download $pkg=$ver failed"
		unpack "$cache/${pkg}_"*.deb "$dir"
		rm -f "$cache/${pkg}_"*.deb
	fi
	img=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$img" ] || die "$pkg=$ver holds no kernel image (boot/vmlinuz-*)"
	ver=${img##*/vmlinuz-}
	depmod_once "$dir/lib/modules/$ver" "$ver"
	echo "$img $dir/lib/modules/$ver $ver"
}

case $kernel in
*/*) from_file "$kernel" ;;
*) from_package "$kernel" ;;
esac
