#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# init of the Linux guest that avm boots in the rig (make run, avm_test),
# in two places: /init of the guest's initramfs, and /sbin/init of the
# root disk image scripts/rig.py builds (root.ext4). It proves the guest
# reached userspace on every vCPU and powers off through PSCI SYSTEM_OFF.
# Lines starting with "avm-guest:" are read by selftests/avm_test.c,
# selftests/avm_virtio_test.c and scripts/rig.py. init must never exit: that panics the guest.
#
# What it does more comes from the kernel command line (unknown
# "name=value" parameters are init's environment):
#   avm_root=/dev/vda    the initramfs mounts that ext4 disk (read-only)
#                        and switch_roots to it, where this script runs
#                        again as /sbin/init
#   avm_ip=ADDR/LEN      configure eth0 (virtio-net) with ADDR/LEN, up
#   avm_ping=ADDR        then ping ADDR 3 times and say how many answered
#   avm_pingback=1       then wait for a console line (the host pings the
#                        guest meanwhile) and say how many echo requests
#                        the guest answered
#   avm_echo=1           read one console line and say what came
#   avm_devices=1        exercise the virtio disks, entropy and console

# /init in the initramfs, /sbin/init on the root disk
if [ "$0" = /sbin/init ]; then
	stage=root
else
	stage=initramfs
fi

/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
# The root disk is read-only and has busybox's links already (rig.py).
[ "$stage" = initramfs ] && /bin/busybox --install -s /bin
export PATH=/bin

if [ "$stage" = initramfs ]; then
	echo "avm-guest: init reached, kernel $(uname -r)"
	# This kernel's virtio and ext4 modules (scripts/rig.py puts them
	# there in load order): avm's virtio devices and the root disk need
	# them.
	mods=/lib/modules/$(uname -r)
	if [ -f "$mods/order" ]; then
		while read -r m; do
			insmod "$mods/$m" || echo "avm-guest: cannot load $m"
		done <"$mods/order"
	fi
	if [ -n "$avm_root" ]; then
		mount -t devtmpfs devtmpfs /dev
		mkdir -p /newroot
		if mount -t ext4 -o ro "$avm_root" /newroot; then
			echo "avm-guest: switching to the root on $avm_root"
			umount /dev /sys /proc
			exec switch_root /newroot /sbin/init
		fi
		# Carry on from the initramfs: the missing root line and
		# this one say what went wrong.
		echo "avm-guest: cannot mount $avm_root"
	fi
else
	mount -t devtmpfs devtmpfs /dev
	mount -t tmpfs tmpfs /tmp
	# What /proc/mounts says of "/": device, file system, options
	echo "avm-guest: root $(awk '$2 == "/" { r = $1 " " $3 " " $4 } END { print r }' /proc/mounts)"
fi

echo "avm-guest: cpus online $(cat /sys/devices/system/cpu/online)"
echo "avm-guest: cpus present $(cat /sys/devices/system/cpu/present)"
# which interrupt controller the guest's timer goes through (GICv3, GIC-0)
echo "avm-guest: timer irqchip $(awk '/arch_timer/ { print $(NF - 3); exit }' /proc/interrupts)"
# avm_echo=1: read one line from the console (the PL011's receive path)
# and say what came.
if [ -n "$avm_echo" ]; then
	echo "avm-guest: waiting for a line"
	read -r line
	echo "avm-guest: read '$line'"
fi
# avm_devices=1: exercise avm's virtio devices (selftests/avm_virtio_test.c's
# linux_virtio_devices): the disk the test wrote (vda), a read-only one
# (vdb), the entropy device and the virtio console.
if [ -n "$avm_devices" ]; then
	grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
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
# avm_ip=, avm_ping=, avm_pingback=: the virtio network against a tap in
# the host (make run, avm_virtio_test's linux_virtio_net).
if [ -n "$avm_ip" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ip addr add "$avm_ip" dev eth0 && ip link set eth0 up; then
		echo "avm-guest: eth0 $avm_ip up, mac $(cat /sys/class/net/eth0/address)"
	else
		echo "avm-guest: eth0 cannot be configured"
	fi
fi
if [ -n "$avm_ping" ]; then
	out=$(ping -c 3 -W 5 "$avm_ping" 2>&1)
	echo "$out" | sed 's/^/  /'
	got=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) packets received.*/\1/p')
	if [ "${got:-0}" = 3 ]; then
		echo "avm-guest: ping $avm_ping ok (3/3)"
	else
		echo "avm-guest: ping $avm_ping failed (${got:-0}/3)"
	fi
fi
if [ -n "$avm_pingback" ]; then
	echo "avm-guest: waiting for the host's ping"
	read -r line
	# The ICMP counters: OutEchoReps is the replies this guest sent
	echo "avm-guest: echo replies sent $(awk '/^Icmp:/ { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else print $col["OutEchoReps"] }' /proc/net/snmp)"
fi
echo "avm-guest: powering off"
poweroff -f
# Still here: poweroff failed. Say so, then wait to be stopped.
echo "avm-guest: poweroff failed"
while :; do sleep 1000; done
