#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the Linux guest that avm boots in the rig (make run, avm_test).
# It proves the guest reached userspace on every vCPU and powers off
# through PSCI SYSTEM_OFF. Lines starting with "avm-guest:" are read by
# selftests/avm_test.c. init must never exit: that panics the guest.

/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox --install -s /bin
export PATH=/bin

echo "avm-guest: init reached, kernel $(uname -r)"
# This kernel's virtio and ext4 modules (scripts/rig.py puts them there in
# load order): avm's virtio devices need them.
mods=/lib/modules/$(uname -r)
if [ -f "$mods/order" ]; then
	while read -r m; do
		insmod "$mods/$m" || echo "avm-guest: cannot load $m"
	done <"$mods/order"
fi
echo "avm-guest: cpus online $(cat /sys/devices/system/cpu/online)"
echo "avm-guest: cpus present $(cat /sys/devices/system/cpu/present)"
# avm_echo=1 on the command line (init's environment): read one line from
# the console (the PL011's receive path) and say what came.
if [ -n "$avm_echo" ]; then
	echo "avm-guest: waiting for a line"
	read -r line
	echo "avm-guest: read '$line'"
fi
# avm_devices=1: exercise avm's virtio devices (selftests/avm_test.c's
# linux_virtio_devices): the disk the test wrote (vda), a read-only one
# (vdb), the entropy device and the virtio console.
if [ -n "$avm_devices" ]; then
	/bin/busybox mount -t devtmpfs devtmpfs /dev
	for d in vda vdb hwrng hvc0; do
		[ -e "/dev/$d" ] || echo "avm-guest: no /dev/$d"
	done
	echo "avm-guest: vda sector0 $(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 19)"
	echo "avm-guest: vda sectors $(cat /sys/block/vda/size)"
	printf 'GUEST-WROTE-SECTOR1' | dd of=/dev/vda bs=512 seek=1 conv=notrunc,fsync 2>/dev/null &&
		echo "avm-guest: vda written"
	if printf 'NO' | dd of=/dev/vdb bs=512 seek=1 conv=notrunc,fsync 2>/dev/null; then
		echo "avm-guest: vdb written"
	else
		echo "avm-guest: vdb refused the write"
	fi
	echo "avm-guest: vdb ro $(cat /sys/block/vdb/ro)"
	echo "avm-guest: rng $(cat /sys/class/misc/hw_random/rng_current)"
	echo "avm-guest: rng bytes $(od -An -tx1 -N16 /dev/hwrng | tr -d ' \n')"
	echo "avm-guest: hello on hvc0" >/dev/hvc0
fi
echo "avm-guest: powering off"
poweroff -f
# Still here: poweroff failed. Say so, then wait to be stopped.
echo "avm-guest: poweroff failed"
while :; do sleep 1000; done
