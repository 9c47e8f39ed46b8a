#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything avcpu needs to build and test, from Debian's archive only.
# Idempotent: host packages are installed once; the arm64 kernel, its headers,
# busybox and the kselftest headers are downloaded once into $DEPS (the build
# tree) and re-used. The arm64 kernel ABI is resolved from the archive at run
# time, so the script follows Debian's point releases.
#
# Usage: scripts/deps.sh [DEPS_DIR]      (default: build/deps)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-$top/build/deps}
mkdir -p "$DEPS"
DEPS=$(cd "$DEPS" && pwd)

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
if [ "$(dpkg --print-architecture)" = arm64 ]; then
	host_pkgs=(make gcc libc6-dev libfdt-dev zlib1g-dev qemu-system-arm cpio
		   device-tree-compiler sparse xz-utils perl python3 python3-docutils kmod)
	arm64_pkgs=()
	foreign=
else
	host_pkgs=(make gcc libc6-dev gcc-aarch64-linux-gnu gcc-12-aarch64-linux-gnu
		   libc6-dev-arm64-cross qemu-system-arm qemu-user cpio device-tree-compiler
		   sparse xz-utils perl python3 python3-docutils kmod)
	arm64_pkgs=(libfdt-dev:arm64 zlib1g-dev:arm64)
	foreign=arm64
fi

missing=()
for p in "${host_pkgs[@]}" ${arm64_pkgs[@]+"${arm64_pkgs[@]}"}; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
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
	apt_update
fi

if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing ${missing[*]}"
	retry $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		die "cannot install ${missing[*]}"
fi

# Everything below is cached in $DEPS and only rebuilt when absent.
stamp=$DEPS/.stamp
if [ -f "$stamp" ] && [ -f "$DEPS/env.mk" ]; then
	exit 0
fi

apt_update
dl=$DEPS/debs
mkdir -p "$dl"

# Resolve the current Debian arm64 kernel ABI from the meta package, e.g.
# linux-image-arm64 -> linux-image-6.1.0-56-arm64. Never install it: only
# download and unpack (installing linux-headers:arm64 pulls gcc-12:arm64, which
# collides with the host compiler).
img_pkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
	  sed -n 's/^ *Depends: \(linux-image-[0-9][^: ]*-arm64\).*/\1/p' |
	  grep -v -- '-unsigned' | head -n1)
[ -n "$img_pkg" ] || die "cannot resolve the arm64 kernel from linux-image-arm64"
abi=${img_pkg#linux-image-}			# 6.1.0-56-arm64
common_abi=${abi%-arm64}			# 6.1.0-56
kver=${abi%%-*}					# 6.1.0
kmm=${kver%.*}					# 6.1
log "arm64 kernel: $abi"

get() {
	# -o ...Sandbox: download as root into the build tree (no _apt access)
	(cd "$dl" && retry apt-get download -qq -o APT::Sandbox::User=root "$@" >&2) ||
		die "cannot download $*"
}
get "linux-image-$abi:arm64" "linux-headers-$abi:arm64" \
    "linux-headers-$common_abi-common" "linux-kbuild-$kmm" \
    "busybox-static:arm64" "linux-source-$kmm"

root=$DEPS/root
rm -rf "$root"
mkdir -p "$root"
for d in "$dl"/linux-image-"$abi"_*.deb "$dl"/linux-headers-*.deb \
	 "$dl"/linux-kbuild-"$kmm"_*.deb "$dl"/busybox-static_*.deb; do
	dpkg-deb -x "$d" "$root"
done

# The rig boots an initramfs of its own: the kernel's modules are not used.
rm -rf "$root/lib/modules"

kimg=$root/boot/vmlinuz-$abi
kdir=$root/usr/src/linux-headers-$abi
[ -f "$kimg" ] || die "no kernel image at $kimg"
[ -f "$kdir/Makefile" ] || die "no kernel headers at $kdir"
# The arch headers' Makefile includes the -common one by absolute path.
sed -i "s|/usr/src/linux-headers-$common_abi-common|$root/usr/src/linux-headers-$common_abi-common|g" \
	"$kdir/Makefile"

# kselftest headers and checkpatch, from the kernel source package.
src=$DEPS/linux-src
rm -rf "$src"
mkdir -p "$src"
dpkg-deb --fsys-tarfile "$dl"/linux-source-"$kmm"_*.deb |
	tar -xO "./usr/src/linux-source-$kmm.tar.xz" | xz -dc |
	tar -x -C "$src" --strip-components=1 --wildcards \
	    "linux-source-$kmm/tools/testing/selftests/kselftest*" \
	    "linux-source-$kmm/scripts/checkpatch.pl" \
	    "linux-source-$kmm/scripts/spelling.txt" \
	    "linux-source-$kmm/scripts/const_structs.checkpatch"
[ -f "$src/tools/testing/selftests/kselftest_harness.h" ] ||
	die "kselftest_harness.h missing from linux-source-$kmm"

cat > "$DEPS/env.mk" <<MK
# Generated by scripts/deps.sh; do not edit.
DEB_KABI := $abi
DEB_KDIR := $kdir
DEB_KIMAGE := $kimg
DEB_KCONFIG := $root/boot/config-$abi
DEB_BUSYBOX := $root/bin/busybox
KSFT_DIR := $src/tools/testing/selftests
CHECKPATCH := $src/scripts/checkpatch.pl
MK
touch "$stamp"
log "ready: $DEPS/env.mk"
