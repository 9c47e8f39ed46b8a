#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run avm's unit tests (make avm-unit builds them first): every binary in
# $BUILD/tools/avm-tests, under qemu-aarch64 unless this machine is arm64,
# then avm itself with --dump-dtb (with and without virtio devices), whose
# trees (and fdt_test's) the build machine's dtc must read without errors.
# Builds nothing. Counts the TAP results ("ok", "not ok", "# SKIP") into
# one summary line; exits non-zero if anything failed.

set -u
# an assertion aborts a test's child: no core files (qemu's) left about
ulimit -c 0

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BUILD=${BUILD:-$top/build}
dir=$BUILD/tools/avm-tests
avm=$BUILD/tools/avm

pass=0
fail=0
skip=0
failed=()

if [ "$(uname -m)" = aarch64 ]; then
	run=()
elif command -v qemu-aarch64 >/dev/null; then
	run=(qemu-aarch64)
else
	echo "avm unit tests: qemu-aarch64 not found (Debian: qemu-user; make deps)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/avm-unit.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Debian's arm64 Image, if scripts/deps.sh fetched it (build/deps/env.mk
# names it in the cache): loader_test looks at it
kernel=$(sed -n 's/^DEB_KIMAGE := //p' "$BUILD/deps/env.mk" 2>/dev/null)

result() {	# NAME ok|fail|skip [why]
	case ${2:-ok} in
	ok)	pass=$((pass + 1)); echo "ok - $1" ;;
	skip)	skip=$((skip + 1)); echo "ok - $1 # SKIP ${3:-}" ;;
	*)	fail=$((fail + 1)); failed+=("$1"); echo "not ok - $1${3:+: $3}" ;;
	esac
}

# One harness binary: its TAP output shown and counted.
run_test() {
	local t=$1 name log rc planned=-1 seen=0 line
	local p=0 f=0 s=0

	name=$(basename "$t")
	log=$tmp/$name.log
	echo "# $name"
	AVM_TEST_OUTDIR=$tmp AVM_TEST_KERNEL=$kernel ${run[@]+"${run[@]}"} "$t" >"$log" 2>&1
	rc=$?
	sed 's/^/  /' "$log"
	while IFS= read -r line; do
		case $line in
		"1..0 # SKIP"*)	s=$((s + 1)) ;;
		1..*)		planned=${line#1..}; planned=${planned%% *} ;;
		"not ok "*)	f=$((f + 1)); failed+=("$name: ${line#not ok }") ;;
		"ok "*"# SKIP"*) s=$((s + 1)) ;;
		"ok "*)		p=$((p + 1)) ;;
		*)		continue ;;
		esac
	done <"$log"
	seen=$((p + f + s))
	# a crash or a hang ends the binary before all its results are out
	if [ "$planned" -gt "$seen" ]; then
		f=$((f + planned - seen))
		failed+=("$name: $((planned - seen)) of $planned results missing")
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=$((f + 1))
		failed+=("$name: exit status $rc")
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

shopt -s nullglob
tests=("$dir"/*_test)
if [ ${#tests[@]} -eq 0 ]; then
	echo "avm unit tests: nothing in $dir (make -C tools/avm/tests)" >&2
	exit 1
fi
for t in "${tests[@]}"; do
	[ -x "$t" ] && run_test "$t"
done

# avm itself: a board's tree for 2 vCPUs, without /dev/avcpu
echo "# avm --dump-dtb"
if [ ! -x "$avm" ]; then
	result "avm run --dump-dtb" fail "$avm missing (make tools)"
else
	# not gzip, not an Image: a raw binary, all avm needs for its tree
	{ printf 'avm raw kernel\n'; head -c 65536 /dev/zero; } >"$tmp/raw.bin"
	if ${run[@]+"${run[@]}"} "$avm" run --kernel "$tmp/raw.bin" --cpus 2 \
			--dump-dtb "$tmp/avm.dtb" >"$tmp/avm.log" 2>&1 &&
	   [ -s "$tmp/avm.dtb" ]; then
		result "avm run --dump-dtb"
	else
		sed 's/^/  /' "$tmp/avm.log"
		result "avm run --dump-dtb" fail "no device tree written"
	fi
fi

# and with virtio devices on four transports (not the network: that would
# create a tap on the build machine)
echo "# avm --dump-dtb, virtio devices"
if [ -x "$avm" ]; then
	head -c 1048576 /dev/zero >"$tmp/disk.img"
	head -c 4096 /dev/zero >"$tmp/ro.img"
	if ${run[@]+"${run[@]}"} "$avm" run --kernel "$tmp/raw.bin" \
			--disk "$tmp/disk.img" --disk "$tmp/ro.img,ro" --rng \
			--console virtio --dump-dtb "$tmp/virtio.dtb" >"$tmp/avm.log" 2>&1 &&
	   [ -s "$tmp/virtio.dtb" ]; then
		result "avm run --dump-dtb with virtio devices"
	else
		sed 's/^/  /' "$tmp/avm.log"
		result "avm run --dump-dtb with virtio devices" fail "no device tree written"
	fi
fi

# dtc, the build machine's, on every tree written
for dtb in "$tmp"/*.dtb; do
	name="dtc reads $(basename "$dtb")"
	if ! command -v dtc >/dev/null; then
		result "$name" skip "dtc not installed (device-tree-compiler)"
		continue
	fi
	if dtc -I dtb -O dts -o "$tmp/out.dts" "$dtb" 2>"$tmp/dtc.log" &&
	   ! grep -qiE '^(error|fatal)|: error' "$tmp/dtc.log"; then
		sed 's/^/  /' "$tmp/dtc.log"
		if [ "$(basename "$dtb")" = avm.dtb ] &&
		   ! { grep -q 'cpu@1 {' "$tmp/out.dts" && grep -q 'psci {' "$tmp/out.dts"; }; then
			result "$name" fail "no cpu@1 or psci node"
		elif [ "$(basename "$dtb")" = virtio.dtb ] &&
		     [ "$(grep -c 'compatible = "virtio,mmio"' "$tmp/out.dts")" != 4 ]; then
			result "$name" fail "not four virtio,mmio nodes"
		elif [ "$(basename "$dtb")" = avm.dtb ] && grep -q 'virtio' "$tmp/out.dts"; then
			result "$name" fail "virtio nodes without virtio devices"
		else
			result "$name"
		fi
	else
		sed 's/^/  /' "$tmp/dtc.log"
		result "$name" fail "dtc failed"
	fi
done

echo
for f in ${failed[@]+"${failed[@]}"}; do
	echo "FAILED: $f"
done
echo "avm unit tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
