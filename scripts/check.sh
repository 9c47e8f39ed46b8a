#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's last step, after the builds: the lanes (scripts/rig.py
# check) and, beside them, the static checks (make lint), the DKMS build
# (make dkms-test) and avm's unit tests (make avm-unit). The rig starts
# with the debug lanes, whose QEMU keeps about 1.1 of two host cores
# busy; these steps, about two and a half minutes of one core one after
# the other (five cold), use the rest instead of delaying the first lane
# (testing.rst, "Time"). They build with one job each, so they take one
# core at most, and at nice 19, so that a lane's QEMU thread that wants a
# core gets it: at the same priority they slowed the debug lane's
# cross-CPU handshakes (irq_test's stress) fivefold.
# Their output is printed once they are done, then the rig's last line
# again: make check still ends with "N passed, N failed, N skipped".
# Either failing fails.
#
# Usage: scripts/check.sh [lane ...]   (the lanes as for scripts/rig.py)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build
side_log=build/check-side.log
rig_log=build/check-rig.log

(
	set -e
	for step in lint dkms-test avm-unit; do
		echo "check: make $step"
		AVCPU_BUILD_JOBS=1 nice -n 19 make --no-print-directory NPROC=1 "$step"
	done
) >"$side_log" 2>&1 &
side=$!

python3 scripts/rig.py check "$@" 2>&1 | tee "$rig_log"
rig=${PIPESTATUS[0]}

wait "$side"
side_rc=$?
echo
echo "check: lint, dkms-test and avm-unit (beside the rig; $side_log):"
cat "$side_log"
if [ "$side_rc" -ne 0 ]; then
	echo "check: a step beside the rig failed (exit $side_rc): see above"
fi
echo
tail -n 1 "$rig_log"
[ "$rig" -eq 0 ] && [ "$side_rc" -eq 0 ]
