#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything avcpu needs to build and test, from Debian's archive only.
#
# Host packages (compilers, QEMU, checkers) are installed once with apt.
# QEMU and qemu-user come from Debian 12's backports suite (QEMU 10: its
# "max" CPU has what current hardware has), which this script adds to apt's
# sources when it is missing; everything else from bookworm itself.
#
# The arm64 kernels of the host lanes are resolved from the archive at run
# time, through Debian's meta packages, so the script follows point releases
# and never names a version that will vanish:
#   6.1        linux-image-arm64            (bookworm)
#   6.12       linux-image-6.12-arm64       (bookworm-security, 4K pages)
#   6.12-16k   linux-image-6.12-arm64-16k   (16K pages)
#   6.12-rt    linux-image-6.12-rt-arm64    (PREEMPT_RT)
# Each one's image, headers, kbuild and the matching linux-source (for the
# kselftest headers and checkpatch) are downloaded and unpacked into a cache
# outside the clone, keyed on the package version, so a second clone or a CI
# run on the same machine reuses them:
#   ${AVCPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/avcpu}
# $DEPS/env.mk (in the build tree) points into that cache.
#
# Usage: scripts/deps.sh [DEPS_DIR]      (default: build/deps)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-$top/build/deps}
mkdir -p "$DEPS"
DEPS=$(cd "$DEPS" && pwd)
if [ -n "${AVCPU_CACHE:-}" ]; then
	CACHE=$AVCPU_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	CACHE=$XDG_CACHE_HOME/avcpu
elif [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then
	CACHE=$HOME/.cache/avcpu
else
	CACHE=/var/cache/avcpu
fi
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# The lanes' kernels: name and the meta package that names the current ABI.
KERNELS=(
	"6.1 linux-image-arm64"
	"6.12 linux-image-6.12-arm64"
	"6.12-16k linux-image-6.12-arm64-16k"
	"6.12-rt linux-image-6.12-rt-arm64"
)

# Layout of an unpacked kernel in the cache: 2 keeps lib/modules.
KLAYOUT=2

log() { echo "deps: $*" >&2; }
die() { echo "deps: error: $*" >&2; exit 1; }

# A mirror can fail for a moment; try an apt command three times.
retry() {
	local n
	for n in 1 2 3; do
		"$@" && return 0
		[ "$n" = 3 ] || { log "retrying in $((n * 10))s: $*"; sleep $((n * 10)); }
	done
	return 1
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "run as root (or install sudo)"
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

# On x86_64 (the project's machines) everything arm64 is cross-built; on an
# arm64 Debian host the same packages are native.
common_pkgs=(make cpio device-tree-compiler sparse xz-utils perl python3 bc bison flex
	     python3-docutils kmod dwarves dkms e2fsprogs qemu-efi-aarch64)
if [ "$(dpkg --print-architecture)" = arm64 ]; then
	host_pkgs=(gcc libc6-dev libfdt-dev zlib1g-dev "${common_pkgs[@]}")
	arm64_pkgs=()
	foreign=
else
	host_pkgs=(gcc libc6-dev gcc-aarch64-linux-gnu gcc-12-aarch64-linux-gnu
		   libc6-dev-arm64-cross "${common_pkgs[@]}")
	arm64_pkgs=(libfdt-dev:arm64 zlib1g-dev:arm64)
	foreign=arm64
fi
# From bookworm-backports: QEMU 10 (system emulator and user mode).
bpo_pkgs=(qemu-system-arm qemu-user)
BPO_MIN=1:10.0

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'
}

missing=()
for p in "${host_pkgs[@]}" ${arm64_pkgs[@]+"${arm64_pkgs[@]}"}; do
	installed "$p" || missing+=("$p")
done
bpo_missing=()
for p in "${bpo_pkgs[@]}"; do
	v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	if [ -z "$v" ] || ! dpkg --compare-versions "$v" ge "$BPO_MIN"; then
		bpo_missing+=("$p")
	fi
done

updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	log "apt-get update"
	retry $SUDO apt-get update -qq >&2 || die "apt-get update failed"
	updated=1
}

if [ -n "$foreign" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	log "adding the arm64 architecture (multiarch, for libfdt and zlib)"
	$SUDO dpkg --add-architecture arm64
	updated=0
fi

# Debian 12's backports suite, for QEMU 10 (same mirror as bookworm's).
if [ ${#bpo_missing[@]} -gt 0 ] &&
   ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	log "adding bookworm-backports to apt's sources (QEMU 10)"
	mirror=$(grep -rhs '^URIs:.*debian$\|^URIs: .*/debian/*$' /etc/apt/sources.list.d/ |
		 head -n1 | awk '{print $2}')
	mirror=${mirror:-http://deb.debian.org/debian}
	$SUDO tee /etc/apt/sources.list.d/avcpu-backports.sources >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	updated=0
fi

if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing ${missing[*]}"
	retry $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		die "cannot install ${missing[*]}"
fi
if [ ${#bpo_missing[@]} -gt 0 ]; then
	apt_update
	log "installing ${bpo_missing[*]} from bookworm-backports"
	retry $SUDO apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports "${bpo_missing[@]}" >&2 ||
		die "cannot install ${bpo_missing[*]} from bookworm-backports"
fi

# Everything below lives in the cache; env.mk is remade once per build tree
# (make deps, or a fresh clone) and then trusted.
stamp=$DEPS/.stamp
if [ -f "$stamp" ] && [ -f "$DEPS/env.mk" ]; then
	exit 0
fi

apt_update
dl=$CACHE/debs
mkdir -p "$dl"

get() {
	# Download into the cache unless a .deb of that name and version is
	# there. -o ...Sandbox: download as root (no _apt access to the cache).
	local pkg=$1 ver=$2 name
	name=${pkg%%:*}
	if ! ls "$dl/${name}_${ver//:/%3a}_"*.deb >/dev/null 2>&1; then
		(cd "$dl" && retry apt-get download -qq -o APT::Sandbox::User=root \
			"$pkg=$ver" >&2) || die "cannot download $pkg=$ver"
	fi
	ls "$dl/${name}_${ver//:/%3a}_"*.deb | head -n1
}

# candidate version of a package (arch-qualified for arm64 ones)
cand() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1
}

depends_on() {	# the first dependency of $1 matching the regex $2
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *|\?Depends: <\?\([^<>: ]*\).*/\1/p' | grep -E "$2" | head -n1 || true
}

# One kernel: image, headers (arch and common), kbuild, unpacked into
# $CACHE/kernels/<abi>-<version>; prints shell assignments for env.mk.
kernel() {
	local name=$1 meta=$2 img abi ver hdr common kbuild kd root kdir
	img=$(depends_on "$meta:arm64" '^linux-image-[0-9].*' | grep -v -- '-unsigned' || true)
	[ -n "$img" ] || die "cannot resolve the $name kernel from $meta"
	abi=${img#linux-image-}
	ver=$(cand "$img:arm64")
	[ -n "$ver" ] || die "no version of $img"
	hdr=linux-headers-$abi
	common=$(depends_on "$hdr:arm64" '^linux-headers-.*-common')
	kbuild=$(depends_on "$hdr:arm64" '^linux-kbuild-')
	[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve $hdr's dependencies"
	kd=$CACHE/kernels/$abi-${ver//[:~]/_}
	root=$kd/root
	kdir=$root/usr/src/linux-headers-$abi
	# .ok-<n>: the layout of an unpacked kernel; a change of it
	# unpacks again (from the cached .debs).
	if [ ! -f "$kd/.ok-$KLAYOUT" ]; then
		log "kernel $name: $abi ($ver)"
		rm -rf "$kd"
		mkdir -p "$root"
		for p in "$img:arm64" "$hdr:arm64" "$common" "$kbuild"; do
			local v deb
			v=$(cand "$p")
			[ -n "$v" ] || die "no version of $p"
			deb=$(get "$p" "$v")
			dpkg-deb -x "$deb" "$root"
		done
		# The modules stay: the rig takes the few it needs (tun for the
		# host, virtio and ext4 for the guests) with their dependencies.
		[ -f "$root/boot/vmlinuz-$abi" ] || die "no kernel image in $img"
		[ -f "$kdir/Makefile" ] || die "no kernel headers in $hdr"
		# The arch headers' Makefile includes the -common one by absolute path.
		sed -i "s|/usr/src/linux-headers-|$root/usr/src/linux-headers-|g" \
			"$kdir/Makefile"
		touch "$kd/.ok-$KLAYOUT"
	else
		log "kernel $name: $abi ($ver), cached"
	fi
	local v=${name//[.-]/_}
	echo "KABI_$v := $abi"
	echo "KVER_$v := $ver"
	echo "KDIR_$v := $kdir"
	echo "KIMAGE_$v := $root/boot/vmlinuz-$abi"
	echo "KCONFIG_$v := $root/boot/config-$abi"
}

# kselftest headers and checkpatch from linux-source-<series>=<version>.
source_tree() {
	local series=$1 ver=$2 sd deb
	sd=$CACHE/src/$series-${ver//[:~]/_}
	if [ ! -f "$sd/.ok" ]; then
		log "linux-source-$series ($ver): kselftest headers and checkpatch"
		deb=$(get "linux-source-$series" "$ver")
		rm -rf "$sd"
		mkdir -p "$sd"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc |
			tar -x -C "$sd" --strip-components=1 --wildcards \
			    "linux-source-$series/tools/testing/selftests/kselftest*" \
			    "linux-source-$series/scripts/checkpatch.pl" \
			    "linux-source-$series/scripts/spelling.txt" \
			    "linux-source-$series/scripts/const_structs.checkpatch"
		[ -f "$sd/tools/testing/selftests/kselftest_harness.h" ] ||
			die "kselftest_harness.h missing from linux-source-$series"
		touch "$sd/.ok"
	fi
	echo "$sd"
}

out=$DEPS/env.mk.tmp
{
	echo "# Generated by scripts/deps.sh; do not edit."
	echo "AVCPU_CACHE := $CACHE"
	names=()
	for k in "${KERNELS[@]}"; do
		read -r name meta <<<"$k"
		names+=("$name")
		kernel "$name" "$meta"
	done
	echo "KERNELS := ${names[*]}"
} >"$out"

# linux-source of each series, at the version of the series' 4K kernel.
val() { sed -n "s/^$1 := //p" "$out"; }
src61=$(source_tree 6.1 "$(val KVER_6_1)")
src612=$(source_tree 6.12 "$(val KVER_6_12)")

bb=$(get busybox-static:arm64 "$(cand busybox-static:arm64)")
bbroot=$CACHE/busybox/$(basename "$bb" .deb)
if [ ! -x "$bbroot/bin/busybox" ]; then
	rm -rf "$bbroot"
	mkdir -p "$bbroot"
	dpkg-deb -x "$bb" "$bbroot"
fi

{
	# The default kernel of 'make module' and the rig's 'make run': 6.1,
	# the one Debian 12 boots by default.
	echo "DEB_KABI := $(val KABI_6_1)"
	echo "DEB_KDIR := $(val KDIR_6_1)"
	echo "DEB_KIMAGE := $(val KIMAGE_6_1)"
	echo "DEB_KCONFIG := $(val KCONFIG_6_1)"
	echo "DEB_BUSYBOX := $bbroot/bin/busybox"
	# The newest kselftest harness builds the (kernel-independent) tests;
	# checkpatch runs from both series.
	echo "KSFT_DIR := $src612/tools/testing/selftests"
	echo "CHECKPATCH := $src612/scripts/checkpatch.pl"
	echo "CHECKPATCH_6_1 := $src61/scripts/checkpatch.pl"
} >>"$out"
mv "$out" "$DEPS/env.mk"
touch "$stamp"
log "ready: $DEPS/env.mk (cache $CACHE)"
