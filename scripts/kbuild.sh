#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build avcpu.ko against one of the lanes' kernels (scripts/deps.sh lists
# them in build/deps/env.mk as KERNELS), out of tree: the module's sources
# are mirrored as symlinks into OUT/kmod (and uapi/ beside it), so each
# kernel keeps its own objects and a rebuild only recompiles what changed.
#
# Usage: scripts/kbuild.sh KERNEL OUT [make arguments]
#   e.g. scripts/kbuild.sh 6.12-16k build/kmod/6.12-16k
#        scripts/kbuild.sh 6.1 build/lint/6.1 W=1 C=2
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
env=$top/build/deps/env.mk
[ $# -ge 2 ] || { echo "usage: $0 KERNEL OUT [make args]" >&2; exit 2; }
name=$1 out=$2
shift 2
[ -f "$env" ] || { echo "kbuild: run 'make deps' first" >&2; exit 1; }
var=KDIR_${name//[.-]/_}
# the lanes' kernels, and the debug kernel once built (debug-kernel.sh)
kdir=$(sed -n "s/^$var := //p" "$env" $(ls "${env%/*}/debug.mk" 2>/dev/null))
[ -n "$kdir" ] || { echo "kbuild: no kernel '$name' (env.mk: $(sed -n 's/^KERNELS := //p' "$env"))" >&2; exit 1; }
cross=${CROSS_COMPILE-aarch64-linux-gnu-}
[ "$(uname -m)" = aarch64 ] && cross=${CROSS_COMPILE-}

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Sources only: objects of an in-tree build must not leak into the mirror.
(cd "$top" && find kmod uapi \( -name '*.[chS]' -o -name Kbuild \) ! -name '*.mod.c' -print) |
while read -r f; do
	mkdir -p "$out/$(dirname "$f")"
	[ -L "$out/$f" ] || ln -sf "$top/$f" "$out/$f"
done
# A source that is gone from the tree leaves a dangling link: drop it.
find "$out/kmod" "$out/uapi" -xtype l -delete
# every host CPU unless AVCPU_BUILD_JOBS says (a later -j in the arguments wins)
exec make -s -j"${AVCPU_BUILD_JOBS:-$(nproc)}" -C "$kdir" M="$out/kmod" ARCH=arm64 CROSS_COMPILE="$cross" "$@" modules
