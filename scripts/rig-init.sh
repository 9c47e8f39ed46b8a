#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the rig's initramfs, run by busybox inside the QEMU host.
# The kernel hands unknown "name=value" boot parameters to init as
# environment variables: avcpu_lane, avcpu_expect, avcpu_job and avcpu_tests come from
# scripts/rig.py. Lines starting with "avcpu-rig:" are read by rig.py.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

lane=${avcpu_lane:-unknown}
job=${avcpu_job:-check}
echo "avcpu-rig: start lane=$lane job=$job kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"

# The host's own modules the tests use (tun, for avm's virtio-net), in
# load order.
if [ -f /lib/modules/host/order ]; then
	while read -r m; do
		insmod "/lib/modules/host/$m" || echo "avcpu-rig: cannot load $m"
	done </lib/modules/host/order
fi

# A kernel with kmemleak (the debug lanes): what it suspects at boot is the
# kernel's own and is cleared, so a report after the tests is theirs.
kmemleak=
if mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null &&
	[ -e /sys/kernel/debug/kmemleak ]; then
	kmemleak=/sys/kernel/debug/kmemleak
	echo scan >$kmemleak && echo clear >$kmemleak &&
		echo "avcpu-rig: kmemleak on, boot's suspects cleared"
fi
# kmemleak_report WHEN: scan, and print what it suspects, one line each.
# An object younger than 5 s is never reported: the last ones age first.
kmemleak_report() {
	[ -n "$kmemleak" ] || return 0
	sleep 6
	echo scan >$kmemleak
	echo "avcpu-rig: kmemleak scanned $1: $(grep -c '^unreferenced object' $kmemleak) suspects"
	sed "s/^/avcpu-rig: kmemleak-report: /" $kmemleak
}

if insmod /lib/avcpu/avcpu.ko; then
	echo "avcpu-rig: insmod ok"
else
	echo "avcpu-rig: insmod refused"
fi
dmesg | grep 'avcpu: ' | sed 's/^/avcpu-rig: dmesg: /'

case "$job" in
run)
	if [ -e /dev/avcpu ]; then
		echo "avcpu-rig: avcpu-info on the $lane host:"
		avcpu-info
		# A guest running (or the reason it cannot run on this host).
		echo "avcpu-rig: a guest on the $lane host (smoke_test):"
		AVCPU_LANE="$lane" AVCPU_EXPECT="$avcpu_expect" AVCPU_MODULE=/lib/avcpu/avcpu.ko \
			/selftests/smoke_test
		# The main event: avm boots Debian's kernel with 2 vCPUs, its
		# root file system on a virtio disk (the initramfs loads the
		# virtio and ext4 modules and switches to it), and a virtio
		# network card on a tap, avm0, whose host end is 169.254.0.1.
		# The tap is made (persistent) and configured before avm
		# attaches to it, so the host's address is there before the
		# guest can ping it; it goes when avm is done.
		echo "avcpu-rig: avm boots Linux on the $lane host, 2 vCPUs, root on a virtio disk, network on a tap:"
		net=
		guest_net=
		if tunctl -t avm0 >/dev/null && ip addr add 169.254.0.1/16 dev avm0 &&
			ip link set avm0 up; then
			echo "avcpu-rig: tap avm0 is the host's 169.254.0.1/16"
			net="--net tap=avm0"
			guest_net="avm_ip=169.254.0.2/16 avm_ping=169.254.0.1"
		else
			echo "avcpu-rig: no tap avm0: the guest runs without a network"
		fi
		AVM_DEBUG=1 avm run --kernel /lib/avcpu/guest/Image \
			--initrd /lib/avcpu/guest/initrd.cpio.gz --cpus 2 --mem 256 \
			--disk /lib/avcpu/guest/root.ext4,ro $net \
			--params "console=ttyAMA0 panic=-1 avm_root=/dev/vda $guest_net" \
			--no-reboot
		echo "avcpu-rig: avm exit status $?"
		[ -n "$net" ] && tunctl -d avm0 >/dev/null
	fi
	;;
bench)
	# make bench: scripts/bench.py reads what this prints
	[ -e /dev/avcpu ] && sh /lib/avcpu/bench-host.sh
	;;
check)
	# The console stays quiet while tests print, so that kernel lines do
	# not cut TAP lines in half; the whole kernel log is dumped below.
	dmesg -n 1
	export AVCPU_LANE="$lane" AVCPU_EXPECT="$avcpu_expect" AVCPU_MODULE=/lib/avcpu/avcpu.ko
	for t in $(echo "$avcpu_tests" | tr ',' ' '); do
		echo "avcpu-rig: begin $t"
		t0=$(cut -d. -f1 /proc/uptime)
		# "name_test:fixture.case" runs that one case
		case "$t" in
		*:*) "/selftests/${t%%:*}" -r "${t#*:}" 2>&1 ;;
		*) "/selftests/$t" 2>&1 ;;
		esac
		rc=$?
		echo "avcpu-rig: end $t rc=$rc in $(($(cut -d. -f1 /proc/uptime) - t0)) s"
	done
	kmemleak_report "after the tests"
	if [ -n "$kmemleak" ]; then
		if rmmod avcpu; then
			echo "avcpu-rig: rmmod ok"
		else
			echo "avcpu-rig: rmmod failed"
		fi
		kmemleak_report "after rmmod"
	fi
	echo "avcpu-rig: dmesg begin"
	dmesg
	echo "avcpu-rig: dmesg end"
	;;
esac

echo "avcpu-rig: done"
poweroff -f
