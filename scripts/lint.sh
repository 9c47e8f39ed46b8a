#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks, each a hard failure:
#   checkpatch.pl --strict   on kmod/ and the uapi header (6.1's and 6.12's)
#   make W=1 C=2             gcc's extra warnings and sparse on every file,
#                            against every kernel of the lanes (KERNELS)
#   EL2 relocations          the nVHE EL2 C code only branches within
#                            avcpu (no absolute address, no kernel call)
#   EL2 instrumentation      no hyp object calls a sanitizer, coverage or
#                            profiling hook, nor uses the shadow call stack
#   scripts/doccheck.py      Documentation/*.rst parses without a warning
# Usage: scripts/lint.sh   (after scripts/deps.sh; KERNELS="6.12" for one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
env=build/deps/env.mk
[ -f "$env" ] || { echo "lint: run 'make deps' first" >&2; exit 1; }
# env.mk, and debug-kernel.sh's debug.mk once the debug kernel is built
val() { sed -n "s/^$1 := //p" "$env" $(ls build/deps/debug.mk 2>/dev/null); }
kernels=${KERNELS:-$(val KERNELS) $(val DEBUG_KERNELS)}
cross=${CROSS_COMPILE-aarch64-linux-gnu-}
[ "$(uname -m)" = aarch64 ] && cross=${CROSS_COMPILE-}
out=build/lint
mkdir -p "$out"
fail=0

# checkpatch of both kernel series (6.12's is the stricter).
# CAMELCASE: the kernel's own arm64 names (ESR_ELx_*) are mixed case.
files=$(git ls-files "kmod/*.[chS]" "uapi/*.h")
for cp in CHECKPATCH_6_1 CHECKPATCH; do
	checkpatch=$(val $cp)
	series=$(basename "$(dirname "$(dirname "$checkpatch")")")
	if perl "$checkpatch" --no-tree --strict --terse --show-types \
		--ignore SPDX_LICENSE_TAG,CAMELCASE -f $files >"$out/checkpatch-$series.txt" 2>&1; then
		echo "lint: checkpatch --strict ($series): clean ($(echo $files | wc -w) files)"
	else
		echo "lint: checkpatch --strict ($series) found problems:"
		grep -E 'ERROR|WARNING|CHECK' "$out/checkpatch-$series.txt" ||
			cat "$out/checkpatch-$series.txt"
		fail=1
	fi
done

for k in $kernels; do
	# W=1 and sparse over every file (C=2 checks even up-to-date objects).
	if bash scripts/kbuild.sh "$k" "$out/$k" W=1 C=2 >"$out/build-$k.txt" 2>&1; then
		if grep -E 'warning:|error:' "$out/build-$k.txt"; then
			echo "lint: $k: W=1/sparse warnings above"
			fail=1
		else
			echo "lint: $k: make W=1 C=2 (sparse): clean"
		fi
	else
		cat "$out/build-$k.txt"
		echo "lint: $k: W=1 build failed"
		fail=1
	fi
	# Code run at EL2 under avcpu's nVHE tables sees only what nvhe.c
	# maps: an absolute address (a literal, a jump table) or a call into
	# the kernel would point nowhere. Its .text may only hold PC-relative
	# references to the hyp objects' own symbols (design.rst, "EL2 code").
	hyp_o=$out/$k/kmod/hyp/nvhe/switch.o
	hyp_syms="__avcpu_guest_enter|__avcpu_fpsimd_load|__avcpu_fpsimd_save|__avcpu_debug_load|__avcpu_debug_save"
	if [ -f "$hyp_o" ]; then
		bad=$("${cross}objdump" -r -j .text "$hyp_o" | awk 'NR > 5 && NF == 3' |
			grep -vE "R_AARCH64_(CALL26|JUMP26) +($hyp_syms)\$" || true)
		others=$("${cross}objdump" -h "$hyp_o" | awk '$2 ~ /^\.(rodata|data|bss)/ && $3 != "00000000" { print $2 }')
		if [ -n "$bad$others" ]; then
			echo "lint: $k: $hyp_o has references EL2 cannot follow:"
			echo "$bad" "$others"
			fail=1
		else
			echo "lint: $k: nVHE EL2 code: PC-relative only"
		fi
	else
		echo "lint: $k: $hyp_o not built"
		fail=1
	fi
	# Nothing that runs with a guest's state loaded may call into the
	# kernel's sanitizers, coverage or profiling (kmod/Kbuild's opt-outs),
	# nor use the shadow call stack (x18) where the kernel has one.
	kconfig=$(val "KCONFIG_$(echo "$k" | tr .- __)")
	scs=$(grep -c '^CONFIG_SHADOW_CALL_STACK=y' "$kconfig" || true)
	clean=1
	for o in hyp/vhe/switch.o hyp/nvhe/switch.o; do
		obj=$out/$k/kmod/$o
		if [ ! -f "$obj" ] || [ ! -f "$kconfig" ]; then
			echo "lint: $k: $o or the kernel's config ($kconfig) missing"
			fail=1
			clean=0
			continue
		fi
		instr=$("${cross}nm" -u "$obj" |
			grep -E '__(asan|hwasan|kasan|ubsan|sanitizer_cov|gcov|tsan|kcsan|msan)_|^ +U (_mcount|__fentry__)$' || true)
		# ftrace's patch sites: the kernel would patch them into calls
		if "${cross}objdump" -h "$obj" | grep -q __patchable_function_entries; then
			instr="$instr ftrace patch sites (__patchable_function_entries)"
		fi
		if [ "$scs" != 0 ] && "${cross}objdump" -d "$obj" | grep -qw 'x18'; then
			instr="$instr shadow-call-stack (x18)"
		fi
		if [ -n "$instr" ]; then
			echo "lint: $k: $o is instrumented:" $instr
			fail=1
			clean=0
		fi
	done
	[ $clean = 1 ] &&
		echo "lint: $k: EL2 objects: no sanitizer, coverage or profiling references"
done
if /usr/bin/python3 scripts/doccheck.py >"$out/doccheck.txt" 2>&1; then
	echo "lint: Documentation/*.rst: clean"
else
	cat "$out/doccheck.txt"
	fail=1
fi
exit $fail
