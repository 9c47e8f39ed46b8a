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
echo "avm-guest: powering off"
poweroff -f
# Still here: poweroff failed. Say so, then wait to be stopped.
echo "avm-guest: poweroff failed"
while :; do sleep 1000; done
