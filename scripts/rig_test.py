#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the rig's judge: a serial log in, a verdict out. The rig
decides whether make check passes, so it must fail when it should."""

import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402

GOOD_BIN = """avcpu-rig: begin host_test
TAP version 13
1..2
# Starting 2 tests from 1 test cases.
ok 1 global.verdict
ok 2 global.kernel_not_tainted_by_trouble # SKIP no reason
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
avcpu-rig: end host_test rc=0 in 3 s
"""


def judge(body, rc=0, timed_out=False, tests=("host_test",), lane_name="6.12-4k-vhe"):
    d = tempfile.mkdtemp()
    lane = rig.Lane.__new__(rig.Lane)
    lane.name, lane.job, lane.tests = "t", "check", list(tests)
    lane.spec = rig.LANES[lane_name]
    lane.log = os.path.join(d, "serial.log")
    lane.timeout = 1
    lane.passed, lane.failed, lane.skipped, lane.problems = [], [], [], []
    with open(lane.log, "w") as f:
        f.write(body)
    lane.judge(rc, timed_out)
    return lane


def wrap(middle):
    return "boot\navcpu-rig: start lane=t\n" + middle + "avcpu-rig: done\n"


class Judge(unittest.TestCase):
    def test_clean(self):
        lane = judge(wrap(GOOD_BIN))
        self.assertEqual((1, 0, 1, 0), (len(lane.passed), len(lane.failed),
                                        len(lane.skipped), len(lane.problems)))

    def test_harness_skip_without_name(self):
        # Linux 6.1's kselftest_harness prints a skip with no test name
        body = GOOD_BIN.replace(
            "ok 2 global.kernel_not_tainted_by_trouble # SKIP no reason",
            "#  RUN           global.guest ...\n"
            "#      SKIP      cannot run guests\n"
            "#            OK  global.guest\n"
            "ok 2 # SKIP cannot run guests")
        lane = judge(wrap(body))
        self.assertEqual((1, 0, 1, 0), (len(lane.passed), len(lane.failed),
                                        len(lane.skipped), len(lane.problems)))
        self.assertIn("global.guest", lane.skipped[0])

    def test_failed_test(self):
        lane = judge(wrap(GOOD_BIN.replace("ok 1 global.verdict",
                                           "not ok 1 global.verdict").replace("rc=0", "rc=1")))
        self.assertEqual(["t:host_test:global.verdict"], lane.failed)

    def test_kernel_warning_fails_lane(self):
        for bad in ["WARNING: CPU: 1 PID: 1 at kmod/x.c:1", "BUG: sleeping function",
                    "Internal error: Oops: 96000004", "Call trace:",
                    "Kernel panic - not syncing", "watchdog: BUG: soft lockup",
                    "possible circular locking dependency detected",
                    "rcu: INFO: rcu_sched self-detected stall on CPU",
                    "rcu: INFO: rcu_preempt self-detected stall on CPU",
                    "WARNING: possible recursive locking detected",
                    "INFO: lockdep is turned off.",
                    "DEBUG_LOCKS_WARN_ON(1)",
                    "BUG: KASAN: slab-out-of-bounds in avcpu_run+0x10/0x20"]:
            lane = judge(wrap(GOOD_BIN + bad + "\n"))
            self.assertTrue(lane.problems, bad)

    def test_debug_kernel_boot_lines_pass(self):
        # what a lockdep/KASAN kernel says at boot when nothing is wrong
        for fine in ["rcu: RCU lockdep checking is enabled.",
                     "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
                     "... MAX_LOCKDEP_SUBCLASSES:  8",
                     "kasan: KernelAddressSanitizer initialized (generic)"]:
            lane = judge(wrap(GOOD_BIN + fine + "\n"))
            self.assertEqual([], lane.problems, fine)

    def test_kmemleak(self):
        clean = ("avcpu-rig: kmemleak on, boot's suspects cleared\n" + GOOD_BIN +
                 "avcpu-rig: kmemleak scanned after the tests: 0 suspects\n"
                 "avcpu-rig: rmmod ok\n"
                 "avcpu-rig: kmemleak scanned after rmmod: 0 suspects\n")
        self.assertEqual([], judge(wrap(clean), lane_name="6.12debug-4k-vhe").problems)
        leak = clean.replace("after rmmod: 0 suspects", "after rmmod: 1 suspects\n"
                             "avcpu-rig: kmemleak-report: unreferenced object 0xffff0000c0a8 (size 64):")
        self.assertTrue(judge(wrap(leak), lane_name="6.12debug-4k-vhe").problems)
        stuck = clean.replace("rmmod ok", "rmmod failed")
        self.assertTrue(judge(wrap(stuck), lane_name="6.12debug-4k-vhe").problems)
        # a kmemleak kernel that never scanned fails; other kernels need not
        self.assertTrue(judge(wrap(GOOD_BIN), lane_name="6.12debug-4k-nvhe").problems)
        self.assertEqual([], judge(wrap(GOOD_BIN)).problems)

    def test_never_booted(self):
        lane = judge("qemu: failed to start\n", rc=1)
        self.assertTrue(lane.problems)
        self.assertTrue(lane.failed)  # the binary never ran

    def test_timeout(self):
        lane = judge("avcpu-rig: start\n" + GOOD_BIN, rc=-9, timed_out=True)
        self.assertTrue(any("timed out" in p for p in lane.problems))
        self.assertTrue(any("did not finish" in p for p in lane.problems))

    def test_crashed_binary(self):
        body = GOOD_BIN.split("ok 2")[0] + "avcpu-rig: end host_test rc=139\n"
        lane = judge(wrap(body))
        self.assertTrue(any("1 of 2 results" in f for f in lane.failed))
        self.assertTrue(any("exit status 139" in f for f in lane.failed))

    def test_exit_status_disagrees(self):
        lane = judge(wrap(GOOD_BIN.replace("rc=0", "rc=1")))
        self.assertTrue(any("exit status 1" in f for f in lane.failed))

    def test_missing_binary(self):
        lane = judge(wrap(GOOD_BIN), tests=("host_test", "dev_test"))
        self.assertEqual(["t:dev_test (did not run to its end)"], lane.failed)


GOOD_RUN = """avcpu-rig: insmod ok
avm-guest: init reached, kernel 6.1.0-57-arm64
avm-guest: switching to the root on /dev/vda
avm-guest: root /dev/vda ext4 ro,relatime
avm-guest: cpus online 0-1
avm-guest: ping 169.254.0.1 ok (3/3)
avm-guest: powering off
avcpu-rig: avm exit status 0
"""


class JudgeRun(unittest.TestCase):
    """make run passes only when the guest is on its virtio root disk,
    pinged the host and brought both CPUs online."""

    def run_judge(self, body):
        lane = judge(wrap(body), tests=())
        lane.job = "run"
        lane.problems = []
        lane.judge(0, False)
        return lane

    def test_good(self):
        self.assertEqual([], self.run_judge(GOOD_RUN).problems)

    def test_each_line_needed(self):
        for line, why in [("avm-guest: root /dev/vda ext4 ro,relatime\n", "root disk"),
                          ("avm-guest: ping 169.254.0.1 ok (3/3)\n", "ping"),
                          ("avm-guest: cpus online 0-1\n", "2 CPUs"),
                          ("avcpu-rig: avm exit status 0\n", "power off")]:
            lane = self.run_judge(GOOD_RUN.replace(line, ""))
            self.assertTrue(any(why in p for p in lane.problems), (line, lane.problems))

    def test_ping_failed(self):
        lane = self.run_judge(GOOD_RUN.replace("ok (3/3)", "failed (2/3)"))
        self.assertTrue(any("ping" in p for p in lane.problems))

    def test_root_still_initramfs(self):
        lane = self.run_judge(GOOD_RUN.replace("/dev/vda ext4", "rootfs rootfs"))
        self.assertTrue(any("root disk" in p for p in lane.problems))


class Matrix(unittest.TestCase):
    """The lane table agrees with deps.sh's kernels and the selftests'
    expectations, and lanes can be picked by name or glob."""

    def test_kernels_exist(self):
        with open(os.path.join(rig.TOP, "scripts", "deps.sh")) as f:
            kernels = set(re.findall(r'^\s+"([\w.-]+) linux-image-', f.read(), re.M))
        self.assertIn("6.12-16k", kernels)
        # and the debug kernel(s) make debug-kernel builds
        with open(os.path.join(rig.TOP, "Makefile")) as f:
            kernels |= {s + "-debug" for s in
                        re.findall(r"debug-kernel\.sh \$\(AVCPU_CACHE\) ([\d.]+) ", f.read())}
        self.assertIn("6.12-debug", kernels)
        for name, spec in rig.LANES.items():
            self.assertIn(spec.kernel, kernels, name)

    def test_expectations_exist(self):
        with open(os.path.join(rig.TOP, "selftests", "lib", "avcpu_test.c")) as f:
            known = set(re.findall(r'^\s+\{ "([\w-]+)", ', f.read(), re.M))
        for name, spec in rig.LANES.items():
            self.assertIn(spec.expect, known, name)

    def test_names_say_kernel_pages_mode(self):
        for name, spec in rig.LANES.items():
            self.assertTrue(name.startswith(spec.kernel.replace("-rt", "rt")
                                            .replace("-debug", "debug")), name)
            if spec.tests is rig.FULL_SUITE:
                self.assertRegex(name, r"-(4k|16k)-n?vhe")

    def test_pick(self):
        self.assertEqual(["6.12-16k-vhe"], rig.pick_lanes(["6.12-16k-vhe"], "check"))
        both = rig.pick_lanes(["6.12-16k-*"], "check")
        self.assertEqual({"6.12-16k-vhe", "6.12-16k-nvhe"}, set(both))
        saved = os.environ.pop("AVCPU_LANES", None)
        try:
            self.assertEqual(list(rig.LANES), rig.pick_lanes([], "check"))
        finally:
            if saved is not None:
                os.environ["AVCPU_LANES"] = saved
        with self.assertRaises(SystemExit):
            rig.pick_lanes(["no-such-lane"], "check")

    def test_threads(self):
        """A lane's accelerator, the cores it keeps busy and what the tests
        are told move together, both ways."""
        spec = rig.LaneSpec("6.12", rig.CPU_MAX, True, "", rig.FULL_SUITE, False, "vhe")
        self.assertEqual((False, 1, "1"), (spec.thread_per_cpu, spec.cores,
                                           spec.env.get("AVCPU_HOST_ONE_THREAD")))
        spec.set_threads(True)
        self.assertEqual((True, rig.LANE_CPUS, None),
                         (spec.thread_per_cpu, spec.cores,
                          spec.env.get("AVCPU_HOST_ONE_THREAD")))
        spec.set_threads(False)
        self.assertEqual("1", spec.env.get("AVCPU_HOST_ONE_THREAD"))
        for name, spec in rig.LANES.items():
            self.assertEqual("debug" in name, spec.thread_per_cpu, name)


class Cpio(unittest.TestCase):
    def test_newc_layout(self):
        c = rig.Cpio()
        c.dir("bin")
        c.chardev("dev/console", 5, 1)
        out = c.finish()
        self.assertTrue(out.startswith(b"070701"))
        self.assertEqual(0, len(out) % 4)
        self.assertIn(b"TRAILER!!!\0", out)


if __name__ == "__main__":
    unittest.main()
