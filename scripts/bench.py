#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: what avm and avcpu cost, in counts rather than times.

One QEMU host lane (6.12-4k-vhe by default) runs under -icount
shift=0,sleep=off, so that the guests' CLOCK_MONOTONIC advances one
nanosecond per emulated instruction and every figure is an instruction
count or a count of events, the same from run to run up to scheduling.
avm boots a small Linux guest (scripts/bench-guest.sh, tools/avm-bench)
once per measurement, with avcpu's fast paths and without them
(--no-fast-paths):

  boot      a quiet boot (1 vCPU) to init and SYSTEM_OFF: exits to avm
  pingpong  a pipe ping-pong between processes on 2 vCPUs: instructions
            per round trip (each one two cross-CPU wake-ups, two IPIs)
  blk       16 MiB written to and read from a virtio-blk disk
  net       16 MiB over TCP from the guest to the QEMU host, virtio-net

and prints a table beside the goals of issue 17 and the kvmtool figures
measured there. Documentation/testing.rst, "Benchmark", explains it.
"""

import argparse
import gzip
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402

# (what, goal, kvmtool on KVM, avm before the fast paths): issue 17
GOALS = {
    "boot": ("exits to avm, quiet 1-vCPU boot", 177, 177, 649),
    "pingpong": ("instructions per ping-pong round trip", 23600, 29500, 49700),
    "memory": ("avm's memory outside a 128 MiB guest's RAM, kB", 1150, 1150, 2870),
}


def guest_initrd(env, kernel):
    c = rig.Cpio()
    for d in ["bin", "proc", "sys", "dev", "lib", "lib/modules"]:
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", env["DEB_BUSYBOX"])
    c.symlink("bin/sh", "busybox")
    c.file("init", os.path.join(rig.TOP, "scripts", "bench-guest.sh"))
    c.file("bin/avm-bench", os.path.join(rig.BUILD, "tools", "avm-bench"))
    rig.add_modules(c, "lib/modules/" + rig.kvar(env, "KABI", kernel),
                    rig.kernel_modules(env, kernel, ["virtio_mmio", "virtio_blk",
                                                     "virtio_net"]))
    return gzip.compress(c.finish(), compresslevel=6, mtime=0)


def parse(text):
    """{measurement: {field: value}} from the lane's serial log."""
    out, cur = {}, None
    for line in text.splitlines():
        line = re.sub(r"^\[[^]]*\] ", "", line.rstrip("\r"))
        m = re.match(r"^bench: trace (begin|end)$", line)
        if m:
            cur = out.setdefault("trace", {"lines": []}) if m.group(1) == "begin" else None
            continue
        if cur is not None and "lines" in cur:
            m = re.match(r"^bench: trace (.*)", line)
            if m:
                cur["lines"].append(m.group(1))
            continue
        m = re.match(r"^bench: begin (\S+)", line)
        if m:
            cur = out.setdefault(m.group(1), {})
            continue
        if cur is None:
            continue
        m = re.match(r"^bench: end \S+ status (\d+)", line)
        if m:
            cur["status"] = int(m.group(1))
            cur = None
            continue
        m = re.search(r"avm: kernel: .*?(\d+) exits to avm, (\d+) exits handled in the "
                      r"kernel, (\d+) WFI sleeps, (\d+) ioeventfd signals, (\d+) irqfd "
                      r"injections, (\d+) in-kernel SGIs", line)
        if m:
            for k, v in zip(["exits", "kexits", "wfi", "ioeventfd", "irqfd", "sgis"],
                            m.groups()):
                cur[k] = int(v)
        m = re.search(r"avm: [\d.]+ s, \d+ exits:(.*)", line)
        if m:
            cur["breakdown"] = m.group(1).strip()
        m = re.search(r"memory outside guest RAM: (\d+) kB", line)
        if m:
            cur["memory"] = int(m.group(1))
        m = re.search(r"avm-bench: pingpong \d+ ns=\d+ per-round-trip=(\d+)", line)
        if m:
            cur["per_rt"] = int(m.group(1))
        m = re.search(r"avm-bench: (read|write|send) \d+ MiB ns=\d+ MiB/s=([\d.]+)", line)
        if m:
            cur[m.group(1)] = float(m.group(2))
    return out


def report(res):
    def get(name, key):
        return res.get(name, {}).get(key)

    def fmt(v):
        return "-" if v is None else (("%.1f" % v) if isinstance(v, float) else str(v))

    ok = True
    rows = [("boot", "boot", "exits"), ("pingpong", "pingpong", "per_rt"),
            ("memory", "boot", "memory")]
    print("%-42s %10s %10s %8s %8s %8s" % ("", "fast paths", "no fast", "goal",
                                         "kvmtool", "before"))
    for goal_key, name, key in rows:
        what, goal, kvmtool, before = GOALS[goal_key]
        fast, slow = get(name + "-fast", key), get(name + "-slow", key)
        met = fast is not None and fast <= goal
        print("%-42s %10s %10s %8d %8d %8d  %s" % (what, fmt(fast), fmt(slow), goal,
                                                 kvmtool, before,
                                                 "met" if met else "NOT MET"))
    for what, name, key in [("virtio-blk write, MiB per 1e9 instructions", "blk", "write"),
                            ("virtio-blk read, MiB per 1e9 instructions", "blk", "read"),
                            ("virtio-net send, MiB per 1e9 instructions", "net", "send")]:
        print("%-42s %10s %10s" % (what, fmt(get(name + "-fast", key)),
                                    fmt(get(name + "-slow", key))))
    trace = res.get("trace", {}).get("lines")
    if trace:
        print()
        print("Exits during the ping-pong (fast paths, traced; EC = ESR_EL2[31:26]):")
        for t in trace:
            m = re.match(r"\s*(\d+) code (\d+) esr 0x([0-9a-f]+)", t)
            if m:
                esr = int(m.group(3), 16)
                kind = {0: "sync", 1: "irq", 2: "fiq", 3: "serror"}.get(int(m.group(2)), "?")
                print("  %8s  %-6s EC 0x%02x ESR 0x%08x" % (m.group(1), kind, esr >> 26, esr))
    print()
    for name in sorted(res):
        if name == "trace":
            continue
        r = res[name]
        print("%-14s status %s; exits to avm %s (%s); in the kernel: %s exits, %s ioeventfd, "
              "%s irqfd, %s SGIs" % (name, fmt(r.get("status")), fmt(r.get("exits")),
                                     r.get("breakdown", "?"), fmt(r.get("kexits")),
                                     fmt(r.get("ioeventfd")), fmt(r.get("irqfd")),
                                     fmt(r.get("sgis"))))
        ok &= r.get("status") == 0
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lane", default="6.12-4k-vhe")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--log", help="report on a lane log already made")
    args = ap.parse_args()

    if not args.log:
        env = rig.read_env()
        spec = rig.LANES[args.lane]
        extra = [("lib/avcpu/guest/bench.cpio.gz", guest_initrd(env, "6.1"), 0o644),
                 ("lib/avcpu/bench-host.sh",
                  open(os.path.join(rig.TOP, "scripts", "bench-host.sh"), "rb").read(),
                  0o755)]
        initrd = rig.build_initramfs(env, spec.kernel, extra, "-bench")
        lane = rig.Lane(args.lane, "bench", env, initrd,
                        os.path.join(rig.rig_dir(), "bench"), args.timeout)
        lane.cmd += ["-icount", "shift=0,sleep=off"]
        print("== bench on lane %s: %s" % (lane.name, " ".join(lane.cmd)), flush=True)
        lane.run()
        for p in lane.problems:
            print("problem: %s" % p)
        args.log = lane.log
        bad = bool(lane.problems)
    else:
        bad = False
    with open(args.log, "rb") as f:
        res = parse(f.read().decode("utf-8", "replace"))
    print("log: %s" % os.path.relpath(args.log, rig.TOP))
    ok = report(res)
    sys.exit(0 if ok and not bad else 1)


if __name__ == "__main__":
    main()
