#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS route a board's owner takes (dkms.conf), checked on the build
# machine: 'dkms add' and 'dkms build' of the module's sources against
# Debian's unpacked 6.12 arm64 headers (cross-compiled here), in a DKMS tree
# of its own under build/dkms so nothing of the machine's DKMS state is
# touched. Passes when DKMS produced an avcpu.ko whose vermagic names that
# kernel and whose version is dkms.conf's.
#
# Usage: scripts/dkms_test.sh [KERNEL]     (default 6.12, one of KERNELS)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
env=build/deps/env.mk
[ -f "$env" ] || { echo "dkms_test: run 'make deps' first" >&2; exit 1; }
name=${1:-6.12}
var=${name//[.-]/_}
val() { sed -n "s/^$1 := //p" "$env"; }
kver=$(val "KABI_$var")
kdir=$(val "KDIR_$var")
[ -n "$kver" ] || { echo "dkms_test: no kernel $name" >&2; exit 1; }
command -v dkms >/dev/null || { echo "dkms_test: dkms missing (make deps)" >&2; exit 1; }
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
modver=$(sed -n 's/^MODULE_VERSION("\(.*\)");.*/\1/p' kmod/main.c)
if [ "$ver" != "$modver" ]; then
	echo "dkms_test: FAIL: dkms.conf says $ver, kmod/main.c's MODULE_VERSION $modver"
	exit 1
fi

out=$top/build/dkms
rm -rf "$out"
mkdir -p "$out/src/avcpu-$ver" "$out/tree"
# What a source package holds: dkms.conf and the module's sources, no objects.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git -C "$top" ls-files dkms.conf kmod uapi)
else
	files=$(find dkms.conf kmod uapi -type f ! -name '*.o' ! -name '*.ko' ! -name '*.mod*' ! -name '.*')
fi
tar -C "$top" -cf - $files | tar -C "$out/src/avcpu-$ver" -xf -

cross=aarch64-linux-gnu-
[ "$(uname -m)" = aarch64 ] && cross=
common=(-m avcpu -v "$ver" -k "$kver" -a arm64 --kernelsourcedir "$kdir"
	--dkmstree "$out/tree" --sourcetree "$out/src")
log=$out/dkms.log
if ! CROSS_COMPILE=$cross dkms add "${common[@]}" >"$log" 2>&1 ||
   ! CROSS_COMPILE=$cross dkms build "${common[@]}" -j "${AVCPU_BUILD_JOBS:-$(nproc)}" >>"$log" 2>&1; then
	cat "$log"
	find "$out/tree" -name make.log -exec cat {} + 2>/dev/null || true
	echo "dkms_test: FAIL: dkms build against $kver"
	exit 1
fi
ko=$(find "$out/tree/avcpu/$ver/$kver" -name 'avcpu.ko*' | head -n1)
if [ -z "$ko" ]; then
	cat "$log"
	echo "dkms_test: FAIL: no avcpu.ko in the DKMS tree"
	exit 1
fi
case "$ko" in
*.xz) xz -dc "$ko" >"$out/avcpu.ko"; ko=$out/avcpu.ko ;;
*.zst) zstd -dcq "$ko" >"$out/avcpu.ko"; ko=$out/avcpu.ko ;;
esac
magic=$(modinfo -F vermagic "$ko")
kov=$(modinfo -F version "$ko")
if [ "${magic%% *}" != "$kver" ] || [ "$kov" != "$ver" ]; then
	echo "dkms_test: FAIL: built module says vermagic '$magic', version '$kov'"
	exit 1
fi
echo "dkms_test: dkms build avcpu/$ver for $kver: ok ($(basename "$ko"), vermagic $kver)"
