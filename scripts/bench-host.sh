#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The QEMU host's side of `make bench` (scripts/bench.py), run by
# rig-init.sh for avcpu_job=bench: avm boots the bench guest once per
# measurement, with avcpu's fast paths and without (--no-fast-paths).
# Lines starting with "bench:" and avm's AVM_DEBUG lines are what
# bench.py reads.

guest=/lib/avcpu/guest
avm_bench() {
	what=$1
	shift
	echo "bench: begin $what"
	AVM_DEBUG=1 avm run --kernel $guest/Image --initrd $guest/bench.cpio.gz \
		--mem 128 --no-reboot "$@" 2>&1
	echo "bench: end $what status $?"
}

for mode in fast slow; do
	flag=
	[ $mode = slow ] && flag=--no-fast-paths
	# a quiet boot to init and straight to SYSTEM_OFF, 1 vCPU
	avm_bench "boot-$mode" --cpus 1 --params "quiet panic=-1 bench=boot" $flag
	avm_bench "pingpong-$mode" --cpus 2 --params "quiet panic=-1 bench=pingpong" $flag
	dd if=/dev/zero of=/tmp/bench.img bs=1M count=16 2>/dev/null
	avm_bench "blk-$mode" --cpus 1 --disk /tmp/bench.img \
		--params "quiet panic=-1 bench=blk" $flag
	rm -f /tmp/bench.img
	# the guest streams to a listener on the host's end of a tap, made
	# and addressed before avm attaches to it
	tunctl -t avmb0 >/dev/null
	ip addr add 169.254.7.1/16 dev avmb0
	ip link set avmb0 up
	nc -l -p 5001 >/dev/null &
	avm_bench "net-$mode" --cpus 1 --net tap=avmb0 \
		--params "quiet panic=-1 bench=net" $flag
	kill $! 2>/dev/null
	wait
	tunctl -d avmb0 >/dev/null
done

# What the guest exits for during the ping-pong (fast paths on): avcpu's
# avcpu_exit tracepoint, counted by exception class and ESR. Tracing
# costs instructions, so this run's own figure is not the one above.
t=/sys/kernel/tracing
if mount -t tracefs nodev $t 2>/dev/null && [ -d $t/events/avcpu ]; then
	echo 16384 >$t/buffer_size_kb
	echo 1 >$t/events/avcpu/avcpu_exit/enable
	avm_bench pingpong-trace --cpus 2 --params "quiet panic=-1 bench=pingpong"
	echo 0 >$t/events/avcpu/avcpu_exit/enable
	echo "bench: trace begin"
	grep -o 'code [0-9]* esr 0x[0-9a-f]*' $t/trace | sort | uniq -c | sort -rn |
		head -20 | sed 's/^/bench: trace /'
	echo "bench: trace end"
fi
