#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The avcpu test rig: boot Debian's arm64 kernel in QEMU host lanes, load
avcpu, run the selftests, and judge each lane by its TAP output and its
whole serial log.

    rig.py check [LANE...]   the test suite; closes with "N passed, N failed, N skipped"
    rig.py run [LANE...]     show the module working, console streamed

Documentation/testing.rst describes the lanes and how to read a failure.
"""

import argparse
import fnmatch
import gzip
import hashlib
import lzma
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build")

# Every selftests/*_test.c, host_test first (it checks the module loaded
# where it should before anything relies on it).
FULL_SUITE = ["host_test"] + sorted(
    f[:-2] for f in os.listdir(os.path.join(TOP, "selftests"))
    if f.endswith("_test.c") and f != "host_test.c")
HOST_ONLY = ["host_test"]

# QEMU CPU models (QEMU 10, from Debian 12's backports). "max" has what
# current hardware has (FEAT_LPA2, FGT, HCX, SME2, ...); pauth-impdef keeps
# its pointer authentication cheap to emulate (3x faster boots).
CPU_MAX = "max,pauth-impdef=on"
# A 52-bit-VA kernel on an LPA2 CPU runs with 52 bits unless told not to
# (arm64.nolva: 48 bits, 47 with 16K pages, and PARange seen as 48), as an
# nVHE host must be for avcpu's EL2 (design.rst, "Finding EL2").
NO_LVA = "arm64.nolva"
CPU_A72 = "cortex-a72"            # no VHE, no 16K granule, 44-bit PA
# A VHE-capable CPU held in nVHE: the kernel's ID-register override.
FORCE_NVHE = "id_aa64mmfr1.vh=0"
NO_KVM = "kvm-arm.mode=none"
# UEFI firmware (Debian's qemu-efi-aarch64, deps.sh): the ACPI lanes boot
# through it, and it hands the kernel ACPI tables and an empty device tree
# ("EFI stub: Generating empty DTB"), as an Arm server's firmware does.
UEFI_FW = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
# The debug kernel boots without KASLR, so that an address in a report or
# from QEMU's monitor is the one in its System.map, and with its pseudo-NMIs
# (CONFIG_ARM64_PSEUDO_NMI) on: the host then masks interrupts with the
# GIC's priority mask, the way into the guest avcpu must get right
# (testing.rst, "Debug lanes").
DEBUG_KARGS = "nokaslr irqchip.gicv3_pseudo_nmi=1"
# Everything is several times slower on the debug host: the tests divide
# their fixed amounts of work (and latency_test its floor of exits) by
# AVCPU_HOST_SLOWDOWN there, the random-instruction guest runs the short
# stream and the fuzzers get 6 s.
DEBUG_ENV = {"AVCPU_INSN_WORDS": "50000", "AVCPU_HOST_SLOWDOWN": "4",
             "AVCPU_FUZZ_SECONDS": "6"}

# CPUs of each lane's QEMU host (-smp): two, so tests can use a second CPU
LANE_CPUS = 2
# How a lane's QEMU runs its CPUs. Most lanes: one host thread takes both
# in turn (QEMU's round-robin TCG), so a lane keeps one host core busy and
# lanes run one per core. A thread per emulated CPU kept 1.1 of two cores
# busy on average, and two such lanes side by side turned every cross-CPU
# handshake into a wait for a core (irq_test's stress: 7 s alone, 165 s
# with two lanes on two cores). The debug lanes keep a thread per CPU and
# run alone: on one thread, beside another lane, their checkers made them
# take 499 and 1053 s, and the vhe one lost three tests to the slowness
# (fuzz and race calls, leak noise), against 355 and 385 s (testing.rst,
# "Time"). The tests learn it from AVCPU_HOST_ONE_THREAD: spinning on one
# emulated CPU for another then holds the thread the other one needs.
ACCEL_ONE_THREAD = "tcg,thread=single"
ACCEL_THREAD_PER_CPU = "tcg,thread=multi"


class LaneSpec:
    """One host lane: the kernel (a name of deps.sh's KERNELS), the QEMU
    CPU, whether EL2 exists, extra kernel arguments, the tests, whether
    'make run' shows it, and what the tests expect of the host check (an
    entry of selftests/lib/avcpu_test.c's table)."""

    def __init__(self, kernel, cpu, virt, kargs, tests, run, expect, slow=1, env=None,
                 thread_per_cpu=False, firmware=None, gic=3):
        self.kernel, self.cpu, self.virt, self.kargs = kernel, cpu, virt, kargs
        self.firmware = firmware    # -bios: UEFI (ACPI) instead of QEMU's DT boot
        self.gic = gic              # the board's GIC: 3, or 2 (GIC-400 class)
        self.tests, self.run, self.expect = tests, run, expect
        self.slow = slow        # the lane's timeout is this many times the rig's
        self.env = dict(env or {})  # TEST_ENV defaults of this lane
        self.set_threads(thread_per_cpu)

    def set_threads(self, per_cpu):
        """A thread per emulated CPU, or one for both (ACCEL_*); the host
        cores the lane keeps busy follow."""
        self.thread_per_cpu = per_cpu
        self.cores = LANE_CPUS if per_cpu else 1
        if per_cpu:
            self.env.pop("AVCPU_HOST_ONE_THREAD", None)
        else:
            self.env["AVCPU_HOST_ONE_THREAD"] = "1"


# The random-instruction guest costs TCG a translation per word (about
# 20 us, 40 s for a million at each EL): its full million words run on one
# lane per mode (6.12-4k-vhe, 6.1-4k-nvhe), the other lanes a shorter stream.
# The same two lanes give fuzz_test and race_test their 12 s each, and
# irq_test's two-thread stress its 50 000 injections a thread; the others
# 6 s (the debug lanes too) and 20 000, which keeps make check inside its
# 30 minutes.
SHORT = {"AVCPU_INSN_WORDS": "50000", "AVCPU_FUZZ_SECONDS": "6",
         "AVCPU_IRQ_STRESS": "20000"}


def _lanes():
    lanes = {}

    def add(name, *a, **kw):
        lanes[name] = LaneSpec(*a, **kw)

    # Lane names say kernel, page size and mode. Where avcpu must work,
    # the full suite and avm's Linux guests run.
    add("6.1-4k-vhe", "6.1", CPU_MAX, True, NO_KVM, FULL_SUITE, True, "vhe", 1, SHORT)
    add("6.1-4k-nvhe", "6.1", CPU_A72, True, NO_KVM, FULL_SUITE, True, "nvhe")
    add("6.12-4k-vhe", "6.12", CPU_MAX, True, NO_KVM, FULL_SUITE, True, "vhe")
    add("6.12-4k-nvhe", "6.12", CPU_A72, True, NO_KVM, FULL_SUITE, False, "nvhe", 1, SHORT)
    add("6.12-4k-nvhe-max", "6.12", CPU_MAX, True,
        " ".join([NO_KVM, FORCE_NVHE, NO_LVA]), FULL_SUITE, False, "nvhe-max", 1, SHORT)
    add("6.12-16k-vhe", "6.12-16k", CPU_MAX, True, NO_KVM, FULL_SUITE, True, "vhe", 1, SHORT)
    add("6.12-16k-nvhe", "6.12-16k", CPU_MAX, True,
        " ".join([NO_KVM, FORCE_NVHE, NO_LVA]), FULL_SUITE, False, "nvhe-max", 1, SHORT)
    add("6.12rt-4k-vhe", "6.12-rt", CPU_MAX, True, NO_KVM, FULL_SUITE, False, "vhe", 1, SHORT)
    # Booted through UEFI with ACPI and no device tree, as Arm servers are:
    # the newest kernel, both modes.
    add("6.12-4k-vhe-acpi", "6.12", CPU_MAX, True, NO_KVM, FULL_SUITE, False, "vhe", 1, SHORT,
        firmware=UEFI_FW)
    add("6.12-4k-nvhe-acpi", "6.12", CPU_A72, True, NO_KVM, FULL_SUITE, False, "nvhe", 1, SHORT,
        firmware=UEFI_FW)
    # A GICv2 with the virtualization extensions (GICH, GICV), as on the
    # Raspberry Pi 4 and 5: the newest kernel, both modes.
    add("6.12-4k-vhe-gicv2", "6.12", CPU_MAX, True, NO_KVM, FULL_SUITE, False, "vhe-gicv2", 1,
        SHORT, gic=2)
    add("6.12-4k-nvhe-gicv2", "6.12", CPU_A72, True, NO_KVM, FULL_SUITE, False, "nvhe-gicv2", 1,
        SHORT, gic=2)
    # Hosts avcpu must refuse, cleanly, on both kernel series: no EL2 at
    # all, KVM holding EL2, and (6.12) a 52-bit VA an nVHE EL2 cannot map.
    for k in ("6.1", "6.12"):
        add(k + "-noel2", k, CPU_A72, False, "", HOST_ONLY, False, "noel2")
        add(k + "-4k-nvhe-kvm", k, CPU_A72, True, "", HOST_ONLY, False, "nvhe-kvm")
    # KVM enabled (the distributions' default) on a VHE host: avcpu shares
    # EL2 with it. The newest kernel runs the full suite, KVM guests beside
    # avcpu's included (kvm_test); 6.1 the host check and that test.
    add("6.12-4k-vhe-kvm", "6.12", CPU_MAX, True, "", FULL_SUITE, False, "vhe-kvm", 1, SHORT)
    add("6.1-4k-vhe-kvm", "6.1", CPU_MAX, True, "", ["host_test", "kvm_test", "smoke_test"],
        False, "vhe-kvm", 1, SHORT)
    # Protected KVM (pKVM) holds EL2 for itself: refused, with its own line
    add("6.12-4k-nvhe-pkvm", "6.12", CPU_A72, True, "kvm-arm.mode=protected", HOST_ONLY,
        False, "nvhe-pkvm")
    add("6.12-4k-nvhe-lva52", "6.12", CPU_MAX, True, NO_KVM + " " + FORCE_NVHE,
        HOST_ONLY, False, "nvhe-lva52")
    # The debug kernel (scripts/debug-kernel.sh: KASAN, lockdep, kmemleak,
    # KFENCE, UBSAN, ...), VHE and nVHE, the full suite. Everything runs a
    # few times slower under its checkers.
    for mode, cpu, kargs in (("vhe", CPU_MAX, ""), ("nvhe", CPU_A72, "")):
        add("6.12debug-4k-" + mode, "6.12-debug", cpu, True,
            " ".join([NO_KVM, DEBUG_KARGS, kargs]), FULL_SUITE, False, mode, 4,
            DEBUG_ENV, thread_per_cpu=True)
    return lanes


LANES = _lanes()
# Kernels with kmemleak: their lanes fail unless it scanned
KMEMLEAK_KERNELS = ("6.12-debug",)

# Any of these in a serial log fails the lane, whatever the tests said.
# Reports only: lockdep's start with "WARNING:" or "BUG:" or say it turned
# itself off; a debug kernel's "RCU lockdep checking is enabled." at boot
# is not one.
BAD = re.compile(r"WARNING:|BUG:|Oops|Call trace|KASAN|"
                 r"possible (circular|recursive) locking|"
                 r"possible irq lock inversion|inconsistent lock state|"
                 r"DEBUG_LOCKS_WARN_ON|INFO: lockdep is turned off|"
                 r"turning off the locking correctness validator|"
                 r"soft lockup|self-detected stall|Kernel panic")
# "ok 3 global.name", "ok 3 global.name # SKIP why"; the 6.1 harness
# prints a skip as "ok 3 # SKIP why", without the name, which then comes
# from its "#  RUN  global.name ..." line.
TAP = re.compile(r"^(not ok|ok) \d+(?: (?!#)(\S+))?(?: # (SKIP|TODO)\b ?(.*))?$")
TAP_RUN = re.compile(r"^#\s+RUN\s+(\S+)")


def kvar(env, what, kernel):
    """env.mk's KDIR/KIMAGE/... of one of deps.sh's kernels."""
    return env["%s_%s" % (what, re.sub(r"[.-]", "_", kernel))]


def read_env():
    """deps.sh's env.mk, and debug-kernel.sh's debug.mk once it is built."""
    env = {}
    for name in ("env.mk", "debug.mk"):
        path = os.path.join(BUILD, "deps", name)
        if name == "debug.mk" and not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                m = re.match(r"^([\w.-]+) := (.*)$", line.strip())
                if m:
                    env[m.group(1)] = m.group(2)
    return env


# --- initramfs: a newc cpio written here, so no root or mknod is needed ---

class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.out += b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out += name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, src, mode=0o755):
        with open(src, "rb") as f:
            self._entry(name, stat.S_IFREG | mode, f.read())

    def data(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


def rig_dir():
    """AVCPU_RIG_DIR: where the initramfs and lane logs go (build/rig), so
    that two developers' runs on one machine stay apart."""
    return os.environ.get("AVCPU_RIG_DIR") or os.path.join(BUILD, "rig")


def picked_tests():
    """AVCPU_TESTS="a_test b_test": run only these where the full suite runs
    (a developer's shortcut; make check always runs everything)."""
    return os.environ.get("AVCPU_TESTS", "").split()


# Modules a kernel of the rig loads from its initramfs, with whatever they
# depend on: the host's tap device (avm's virtio-net back end), and the
# guests' virtio transport and devices and the ext4 of a root disk (with
# the crc32c its metadata checksums ask the crypto API for, a dependency
# modinfo does not name).
HOST_MODULES = ["tun"]
GUEST_MODULES = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_console",
                 "virtio-rng", "ext4", "crc32c_generic"]


def kernel_modules(env, kernel, names):
    """[(file name, contents)] of @names and their dependencies from
    @kernel's package, dependencies first, decompressed (busybox's insmod
    takes plain .ko). A name the kernel has built in is skipped."""
    kabi = kvar(env, "KABI", kernel)
    base = os.path.join(os.path.dirname(os.path.dirname(kvar(env, "KIMAGE", kernel))),
                        "lib", "modules", kabi)
    index = {}
    for d, _, files in os.walk(base):
        for f in files:
            m = re.match(r"^(.*)\.ko(\.xz)?$", f)
            if m:
                index[m.group(1).replace("-", "_")] = os.path.join(d, f)
    order, seen = [], set()

    def visit(name):
        key = name.replace("-", "_")
        if key in seen:
            return
        seen.add(key)
        path = index.get(key)
        if not path:
            return      # built in (or not configured): nothing to load
        deps = subprocess.run(["modinfo", "-F", "depends", path], check=True,
                              capture_output=True, text=True).stdout.strip()
        for dep in filter(None, deps.split(",")):
            visit(dep)
        order.append(path)

    for n in names:
        visit(n)
    out = []
    for path in order:
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".xz"):
            data = lzma.decompress(data)
        out.append((os.path.basename(path).replace(".xz", ""), data))
    return out


def add_modules(c, where, mods):
    """Modules under @where, and @where/order listing them in load order."""
    c.dir(where)
    for name, data in mods:
        c.data("%s/%s" % (where, name), data)
    c.data(where + "/order", "".join(n + "\n" for n, _ in mods).encode())


def build_guest_initramfs(env):
    """The initramfs of the Linux guests avm boots: busybox, each guest
    kernel's virtio and ext4 modules under /lib/modules/<its uname -r>, and
    an init that loads them, reports the CPUs online and powers off
    (scripts/avm-guest-init.sh)."""
    c = Cpio()
    for d in ["bin", "proc", "sys", "dev", "lib", "lib/modules"]:
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", env["DEB_BUSYBOX"])
    c.symlink("bin/sh", "busybox")
    c.file("init", os.path.join(TOP, "scripts", "avm-guest-init.sh"))
    for k in sorted(set(GUEST_KERNELS.values())):
        add_modules(c, "lib/modules/" + kvar(env, "KABI", k),
                    kernel_modules(env, k, GUEST_MODULES))
    return gzip.compress(c.finish(), compresslevel=6, mtime=0)


# The guests' root disk (make run, avm_virtio_test's linux_virtio_root): an ext4
# image made by e2fsprogs' mkfs.ext4 -d from a tree holding busybox with
# its links and scripts/avm-guest-init.sh as /sbin/init. The guest
# initramfs mounts it (avm_root=/dev/vda) and switch_roots to it. The
# image is sparse; its size is what the guest sees.
ROOT_IMAGE_MB = 6
ROOT_DIRS = ["bin", "sbin", "dev", "proc", "sys", "tmp", "etc", "root"]
# root_owner: / owned by root whoever builds it; -L and -U name it
ROOT_MKFS = ["-q", "-F", "-t", "ext4", "-L", "avm-root",
             "-U", "a76d0000-0000-4000-8000-000000000001", "-E", "root_owner=0:0"]


def busybox_applets(busybox):
    """The applets of @busybox (an arm64 binary: run under qemu-user on
    other machines, the qemu-aarch64 that make avm-unit uses too)."""
    cmd = [busybox, "--list"]
    if os.uname().machine != "aarch64":
        cmd.insert(0, "qemu-aarch64")
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("rig: cannot list busybox's applets (%s): run 'make deps'" % e)
    return [a for a in out.split() if re.match(r"^[\w.\[-]+$", a) and a != "busybox"]


def mkfs_ext4():
    """e2fsprogs' mkfs.ext4, which lives in /sbin outside root's PATH."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    found = shutil.which("mkfs.ext4", path=path)
    if not found:
        sys.exit("rig: mkfs.ext4 missing: run 'make deps' (e2fsprogs)")
    return found


def build_root_image(env):
    """The guests' root disk image, rebuilt only when busybox, the init
    script or the layout change (a key beside it says what it was made
    of). Returns its path."""
    busybox = env["DEB_BUSYBOX"]
    init = os.path.join(TOP, "scripts", "avm-guest-init.sh")
    h = hashlib.sha256(repr((ROOT_IMAGE_MB, ROOT_DIRS, ROOT_MKFS)).encode())
    for p in (busybox, init):
        with open(p, "rb") as f:
            h.update(f.read())
    key = h.hexdigest()
    img = os.path.join(rig_dir(), "root.ext4")
    try:
        with open(img + ".key") as f:
            if f.read().strip() == key and os.path.exists(img):
                return img
    except OSError:
        pass
    os.makedirs(rig_dir(), exist_ok=True)
    tree = os.path.join(rig_dir(), "root-tree")
    shutil.rmtree(tree, ignore_errors=True)
    for d in ROOT_DIRS:
        os.makedirs(os.path.join(tree, d), mode=0o755)
    shutil.copyfile(busybox, os.path.join(tree, "bin", "busybox"))
    os.chmod(os.path.join(tree, "bin", "busybox"), 0o755)
    for a in busybox_applets(busybox):
        os.symlink("busybox", os.path.join(tree, "bin", a))
    shutil.copyfile(init, os.path.join(tree, "sbin", "init"))
    os.chmod(os.path.join(tree, "sbin", "init"), 0o755)
    os.chmod(os.path.join(tree, "tmp"), 0o1777)
    if os.path.exists(img + ".key"):
        os.unlink(img + ".key")
    if os.path.exists(img):
        os.unlink(img)
    subprocess.run([mkfs_ext4()] + ROOT_MKFS +
                   ["-d", tree, img, "%dM" % ROOT_IMAGE_MB], check=True,
                   stdout=subprocess.DEVNULL)      # "Creating regular file"
    shutil.rmtree(tree)
    with open(img + ".key", "w") as f:
        f.write(key + "\n")
    return img


def gzipped_image(env, kernel):
    """@kernel's Image gzip'd, as some distributions ship it (Debian's
    arm64 vmlinuz is a raw Image): avm_test boots it so. Cached."""
    src = kvar(env, "KIMAGE", kernel)
    dst = os.path.join(rig_dir(), "Image-%s.gz" % kernel)
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        os.makedirs(rig_dir(), exist_ok=True)
        with open(src, "rb") as f:
            data = gzip.compress(f.read(), compresslevel=6, mtime=0)
        with open(dst + ".tmp", "wb") as f:
            f.write(data)
        os.replace(dst + ".tmp", dst)
    with open(dst, "rb") as f:
        return f.read()


def module_path(kernel):
    """avcpu.ko built for @kernel (scripts/kbuild.sh, make modules)."""
    return os.path.join(BUILD, "kmod", kernel, "kmod", "avcpu.ko")


# Guests avm boots on every lane (avm_test): Debian 12's 6.1 kernel as
# "Image", and the 6.12 kernel (4K pages) gzip'd as "Image-6.12.gz" (one
# boot tries both the newer kernel and avm's gzip loader).
GUEST_KERNELS = {"Image": "6.1"}
GUEST_GZIP_KERNELS = {"Image-6.12.gz": "6.12"}


def build_initramfs(env, kernel, extra=(), tag=""):
    """The host's initramfs for lanes running @kernel: uncompressed (the
    guests' kernels are most of it, and the host then unpacks it at memcpy
    speed instead of inflating it under emulation). @extra: more files,
    (name, bytes, mode); @tag: a suffix to its file name."""
    c = Cpio()
    for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys",
              "dev", "tmp", "lib", "lib/avcpu", "lib/modules", "selftests"]:
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("bin/busybox", env["DEB_BUSYBOX"])
    c.symlink("bin/sh", "busybox")
    c.file("init", os.path.join(TOP, "scripts", "rig-init.sh"))
    c.file("lib/avcpu/avcpu.ko", module_path(kernel), 0o644)
    add_modules(c, "lib/modules/host", kernel_modules(env, kernel, HOST_MODULES))
    c.file("bin/avcpu-info", os.path.join(BUILD, "tools", "avcpu-info"))
    # avm and the Linux guests it boots, with a busybox initramfs.
    c.file("bin/avm", os.path.join(BUILD, "tools", "avm"))
    c.dir("lib/avcpu/guest")
    for name, k in GUEST_KERNELS.items():
        c.file("lib/avcpu/guest/" + name, kvar(env, "KIMAGE", k), 0o644)
    for name, k in GUEST_GZIP_KERNELS.items():
        c.data("lib/avcpu/guest/" + name, gzipped_image(env, k), 0o644)
    c.data("lib/avcpu/guest/initrd.cpio.gz", build_guest_initramfs(env), 0o644)
    c.file("lib/avcpu/guest/root.ext4", build_root_image(env), 0o644)
    # host_test always: every lane starts with it (its own list or not)
    for t in sorted({t.split(":")[0] for t in picked_tests() or FULL_SUITE} | {"host_test"}):
        c.file("selftests/" + t, os.path.join(BUILD, "selftests", t))
    for name, data, mode in extra:
        c.data(name, data, mode)
    path = os.path.join(rig_dir(), "initramfs-%s%s.cpio" % (kernel, tag))
    os.makedirs(rig_dir(), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(c.finish())
    os.replace(path + ".tmp", path)
    return path


# Test knobs handed from the developer's environment to the tests in the
# QEMU host: the kernel passes unknown NAME=value boot parameters to init's
# environment, and init hands its environment on to each test.
TEST_ENV = ("AVCPU_IPI_ROUNDS", "AVCPU_KVM_SECONDS", "AVCPU_IPI_WAIT", "AVCPU_FUZZ_SEED", "AVCPU_FUZZ_CALLS", "AVCPU_INSN_WORDS",
            "AVCPU_FUZZ_SECONDS", "AVCPU_GUEST_LOGLEVEL", "AVCPU_HOST_SLOWDOWN",
            "AVCPU_IRQ_STRESS")


# --- one lane ---

class Lane:
    def __init__(self, name, job, env, initrd, outdir, timeout):
        self.name = name
        self.job = job
        spec = self.spec = LANES[name]
        tests = spec.tests
        if tests is FULL_SUITE and picked_tests():
            tests = picked_tests()
        elif picked_tests():
            # a lane's own list: its host check, and what of it was picked
            picked = {t.split(":")[0] for t in picked_tests()}
            tests = [t for t in tests if t == "host_test" or t in picked]
        self.tests = tests
        self.log = os.path.join(outdir, name, "serial.log")
        os.makedirs(os.path.dirname(self.log), exist_ok=True)
        # AVCPU_KARGS: more kernel arguments for every lane picked (a
        # developer trying one, e.g. irqchip.gicv3_pseudo_nmi=1)
        append = ("console=ttyAMA0 panic=-1 %s %s avcpu_lane=%s avcpu_expect=%s "
                  "avcpu_job=%s avcpu_tests=%s" %
                  (spec.kargs, os.environ.get("AVCPU_KARGS", ""), name, spec.expect, job,
                   ",".join(tests)))
        knobs = dict(spec.env)
        knobs.update((k, os.environ[k]) for k in TEST_ENV if os.environ.get(k))
        append += "".join(" %s=%s" % kv for kv in sorted(knobs.items()))
        self.cmd = [
            "qemu-system-aarch64",
            "-M", "virt,virtualization=%s,gic-version=%d" % ("on" if spec.virt else "off", spec.gic),
            "-accel", ACCEL_THREAD_PER_CPU if spec.thread_per_cpu else ACCEL_ONE_THREAD,
            "-cpu", spec.cpu, "-smp", str(LANE_CPUS), "-m", "2048",
            "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-nic", "none",
            "-kernel", kvar(env, "KIMAGE", spec.kernel), "-initrd", initrd,
            "-append", " ".join(append.split()),
        ] + (["-bios", spec.firmware] if spec.firmware else []) + \
            shlex.split(os.environ.get("AVCPU_QEMU_ARGS", ""))
        self.timeout = timeout
        self.passed, self.failed, self.skipped = [], [], []
        self.problems = []
        self.seconds = 0.0

    def run(self, stream=None):
        t0 = time.monotonic()
        with open(self.log, "wb") as logf:
            logf.write(("# " + " ".join(self.cmd) + "\n").encode())
            logf.flush()
            p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
            expired = threading.Event()

            def kill():
                expired.set()
                p.kill()

            timer = threading.Timer(self.timeout, kill)
            timer.start()
            try:
                for raw in p.stdout:
                    logf.write(raw)
                    if stream:
                        stream.write("[%s] %s" % (self.name, raw.decode("utf-8", "replace")))
                        stream.flush()
            finally:
                rc = p.wait()
                timer.cancel()
            timed_out = expired.is_set()
        self.seconds = time.monotonic() - t0
        self.judge(rc, timed_out)

    def judge(self, rc, timed_out):
        with open(self.log, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        text = "\n".join(lines)
        if timed_out:
            self.problems.append("timed out after %ds" % self.timeout)
        if "avcpu-rig: start" not in text:
            self.problems.append("the host never reached the test init")
        elif "avcpu-rig: done" not in text:
            self.problems.append("init did not finish (see the log's end)")
        if rc != 0 and not timed_out:
            self.problems.append("qemu exited with status %d" % rc)
        for i, line in enumerate(lines):
            if BAD.search(line):
                self.problems.append("log line %d: %s" % (i + 1, line.strip()))
        if self.job == "check":
            self.parse_tests(lines)
            self.judge_kmemleak(text)
        if self.job == "run" and "avcpu-rig: insmod ok" not in text:
            self.problems.append("avcpu did not load")
        # make run's main event: avm boots Linux on 2 vCPUs with its root
        # on a virtio disk, and it pings the host through virtio-net
        if self.job == "run":
            if "avm-guest: cpus online 0-1" not in text:
                self.problems.append("avm's Linux guest did not bring 2 CPUs online")
            if not re.search(r"^avm-guest: root /dev/vda ext4 ", text, re.M):
                self.problems.append("avm's Linux guest is not on its virtio root disk")
            if "avm-guest: ping 169.254.0.1 ok (3/3)" not in text:
                self.problems.append("avm's Linux guest did not ping the host 3 times")
            if "avcpu-rig: avm exit status 0" not in text:
                self.problems.append("avm's Linux guest did not power off cleanly")

    def judge_kmemleak(self, text):
        """A kmemleak kernel scans after the tests and after rmmod: both
        reports must be empty, and the module must unload."""
        if "avcpu-rig: kmemleak on" not in text:
            if self.spec.kernel in KMEMLEAK_KERNELS:
                self.problems.append("kmemleak did not start")
            return
        for when in ("after the tests", "after rmmod"):
            if not re.search(r"^avcpu-rig: kmemleak scanned %s: 0 suspects$" % when,
                             text, re.M):
                self.problems.append("kmemleak: suspects %s (the log's "
                                     "avcpu-rig: kmemleak-report: lines)" % when)
        if "avcpu-rig: rmmod ok" not in text:
            self.problems.append("avcpu did not unload")

    def parse_tests(self, lines):
        cur, results, plan = None, [], None
        running = None
        seen = set()
        for line in lines:
            line = line.rstrip("\r")
            m = re.match(r"^avcpu-rig: begin (\S+)$", line)
            if m:
                cur, results, plan = m.group(1), [], None
                continue
            m = re.match(r"^avcpu-rig: end (\S+) rc=(\d+)(?: in \d+ s)?$", line)
            if m and cur == m.group(1):
                self.close_binary(cur, int(m.group(2)), results, plan)
                seen.add(cur)
                cur = None
                continue
            if cur is None:
                continue
            m = re.match(r"^1\.\.(\d+)$", line)
            if m:
                plan = int(m.group(1))
                continue
            m = TAP_RUN.match(line)
            if m:
                running = m.group(1)
                continue
            m = TAP.match(line)
            if m:
                name = m.group(2) or running or "test%d" % (len(results) + 1)
                results.append((m.group(1), "%s:%s" % (cur, name),
                                m.group(3), m.group(4)))
                running = None
        for t in self.tests:
            if t not in seen:
                self.failed.append("%s:%s (did not run to its end)" % (self.name, t))

    def close_binary(self, binary, rc, results, plan):
        fails = 0
        for status, name, directive, reason in results:
            full = "%s:%s" % (self.name, name)
            if status == "not ok":
                self.failed.append(full)
                fails += 1
            elif directive == "SKIP":
                self.skipped.append("%s (%s)" % (full, reason))
            else:
                self.passed.append(full)
        if plan is None:
            self.failed.append("%s:%s (no TAP plan)" % (self.name, binary))
        elif len(results) != plan:
            self.failed.append("%s:%s (%d of %d results)" %
                               (self.name, binary, len(results), plan))
        # kselftest exit codes: 0 pass, 1 fail, 4 all skipped
        if rc not in (0, 1, 4) or (rc == 1 and not fails) or (rc == 0 and fails):
            self.failed.append("%s:%s (exit status %d)" % (self.name, binary, rc))


def pick_lanes(names, job):
    """Lanes by name or glob ("6.12*", "*nvhe*"); none named: every lane
    of the job (AVCPU_LANES, space-separated, also names them)."""
    names = names or os.environ.get("AVCPU_LANES", "").split()
    if not names:
        return [n for n, l in LANES.items() if job == "check" or l.run]
    out = []
    for pat in names:
        hit = [n for n in LANES if fnmatch.fnmatchcase(n, pat)]
        if not hit:
            sys.exit("rig: no lane matches %s (lanes: %s)" % (pat, ", ".join(LANES)))
        out += [n for n in hit if n not in out]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("job", choices=["run", "check"])
    ap.add_argument("lanes", nargs="*", help="default: every lane of the job")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("AVCPU_LANE_TIMEOUT", 600)))
    # Host cores to fill: lanes start, in order, while the cores they keep
    # busy (LaneSpec.cores) fit; one whose cores never fit runs alone.
    ap.add_argument("-j", "--jobs", type=int, default=max(1, os.cpu_count() or 1))
    args = ap.parse_args()

    lanes = pick_lanes(args.lanes, args.job)
    # AVCPU_THREAD_PER_CPU=1: truly parallel CPUs in every lane picked, for
    # a race hunt (each lane then keeps two host cores busy)
    if os.environ.get("AVCPU_THREAD_PER_CPU") == "1":
        for n in lanes:
            LANES[n].set_threads(True)
    if not shutil.which("qemu-system-aarch64"):
        sys.exit("rig: qemu-system-aarch64 missing: run 'make deps'")

    env = read_env()
    for n in lanes:
        if LANES[n].firmware and not os.path.exists(LANES[n].firmware):
            sys.exit("rig: lane %s: no UEFI firmware %s: run 'make deps'" %
                     (n, LANES[n].firmware))
        if "KIMAGE_" + re.sub(r"[.-]", "_", LANES[n].kernel) not in env:
            sys.exit("rig: lane %s: kernel %s is not built (make debug-kernel)" %
                     (n, LANES[n].kernel))
    initrds = {}
    for n in lanes:
        k = LANES[n].kernel
        if k not in initrds:
            initrds[k] = build_initramfs(env, k)
    outdir = os.path.join(rig_dir(), args.job)
    objs = [Lane(n, args.job, env, initrds[LANES[n].kernel], outdir,
                 args.timeout * LANES[n].slow)
            for n in lanes]

    if args.job == "run":
        for lane in objs:
            print("== lane %s: %s" % (lane.name, " ".join(lane.cmd)), flush=True)
            lane.run(stream=sys.stdout)
    else:
        # the lanes that need the whole machine first, then the rest by
        # twos, the full suites before the short lists of the refusal
        # lanes: a full lane started last ran alone for its last 100 s
        pending = sorted(objs, key=lambda l: (-l.spec.cores, -len(l.spec.tests)))
        running = []
        while pending or running:
            for lane in list(pending):
                busy = sum(l.spec.cores for l, _ in running)
                if busy + lane.spec.cores > max(1, args.jobs) and running:
                    continue
                pending.remove(lane)
                th = threading.Thread(target=lane.run)
                th.start()
                running.append((lane, th))
                print("rig: lane %s started" % lane.name, flush=True)
            for lane, th in list(running):
                if not th.is_alive():
                    th.join()
                    running.remove((lane, th))
                    print("rig: lane %s finished in %.0fs" % (lane.name, lane.seconds),
                          flush=True)
            time.sleep(0.2)

    ok = True
    print()
    for lane in objs:
        status = "FAIL" if lane.problems or lane.failed else "ok"
        ok &= status == "ok"
        if args.job == "check":
            print("lane %-19s %s: %d passed, %d failed, %d skipped (%.0fs, log %s)" %
                  (lane.name, status, len(lane.passed),
                   len(lane.failed) + len(lane.problems), len(lane.skipped),
                   lane.seconds, os.path.relpath(lane.log, TOP)))
        else:
            print("lane %-19s %s (%.0fs, log %s)" % (lane.name, status, lane.seconds,
                                                   os.path.relpath(lane.log, TOP)))
        for p in lane.problems:
            print("  problem: %s" % p)
        for f in lane.failed:
            print("  failed:  %s" % f)
        for s in lane.skipped:
            print("  skipped: %s" % s)
    if args.job == "check":
        npass = sum(len(l.passed) for l in objs)
        nfail = sum(len(l.failed) + len(l.problems) for l in objs)
        nskip = sum(len(l.skipped) for l in objs)
        print("%d passed, %d failed, %d skipped" % (npass, nfail, nskip))
        ok = nfail == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
