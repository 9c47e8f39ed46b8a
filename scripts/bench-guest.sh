#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the guest `make bench` boots (scripts/bench.py): one
# measurement, named by "bench=" on the kernel command line, then PSCI
# SYSTEM_OFF. Silent unless it has something to report: what it prints is
# part of what is measured.

/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
export PATH=/bin
mods=/lib/modules/$(/bin/busybox uname -r)
if [ "$bench" != boot ] && [ -f "$mods/order" ]; then
	while read -r m; do
		/bin/busybox insmod "$mods/$m" || echo "bench: cannot load $m"
	done <"$mods/order"
fi
case "$bench" in
boot)
	;;
pingpong)
	/bin/avm-bench pingpong 2000
	;;
blk)
	/bin/avm-bench write /dev/vda 16
	/bin/busybox sync
	echo 3 >/proc/sys/vm/drop_caches
	/bin/avm-bench read /dev/vda 16
	;;
net)
	/bin/busybox ip addr add 169.254.7.2/16 dev eth0
	/bin/busybox ip link set eth0 up
	/bin/avm-bench send 169.254.7.1 5001 16
	;;
*)
	echo "bench: unknown bench=$bench"
	;;
esac
/bin/busybox poweroff -f
