# SPDX-License-Identifier: GPL-2.0
#
# avcpu: top-level build. README.md names the two commands that matter:
#   make run     boot the QEMU host lanes and show the module working
#   make check   the whole test suite on every lane, plus the static checks
#
# Cross-building on x86_64 (the default here) uses Debian's arm64 kernel
# headers, unpacked by scripts/deps.sh into build/deps. On an arm64 host,
# KDIR defaults to the running kernel's build tree.

TOP	:= $(CURDIR)
BUILD	:= $(TOP)/build
DEPS	:= $(BUILD)/deps

NODEPS_GOALS := clean distclean help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
# Remade (and make restarted) when absent: a fresh clone installs its own
# dependencies on the first make.
-include $(DEPS)/env.mk
endif

ifeq ($(shell uname -m),aarch64)
KDIR		?= /lib/modules/$(shell uname -r)/build
CROSS_COMPILE	?=
else
KDIR		?= $(DEB_KDIR)
CROSS_COMPILE	?= aarch64-linux-gnu-
endif

CC_ARM64	:= $(CROSS_COMPILE)gcc
# Userspace: C11 with GNU extensions (kselftest_harness.h needs them),
# warnings are errors, static binaries for the initramfs.
UCFLAGS		:= -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
		   -static -I$(TOP)/uapi -I$(TOP)/selftests/lib
export CC_ARM64 UCFLAGS KSFT_DIR BUILD

# Builds use every host CPU; scripts/check.sh passes NPROC=1 (and
# AVCPU_BUILD_JOBS=1) to the steps it runs beside the rig's lanes.
NPROC		:= $(shell nproc)

KMAKE		:= $(MAKE) -j$(NPROC) -C $(KDIR) M=$(TOP)/kmod CROSS_COMPILE=$(CROSS_COMPILE)

.PHONY: all deps debug-kernel module modules selftests tools avm-unit lint dkms-test run bench check clean distclean help

all: module selftests tools

$(DEPS)/env.mk:
	bash scripts/deps.sh $(DEPS)

deps:
	bash scripts/deps.sh $(DEPS)

# The debug host kernel of the debug lanes (KASAN, lockdep, kmemleak, ...),
# built from Debian's linux-source into the cache, once per source version
# and debug.config; build/deps/debug.mk points into it. Only make check
# needs it.
debug-kernel: $(DEPS)/env.mk
	bash scripts/debug-kernel.sh $(AVCPU_CACHE) 6.12 "$(KVER_6_12)" >$(DEPS)/debug.mk.tmp
	mv $(DEPS)/debug.mk.tmp $(DEPS)/debug.mk

module:
	$(KMAKE) modules

# avcpu.ko for every kernel of the host lanes (KERNELS, from deps.sh, and
# the debug kernel once built), each in build/kmod/<kernel>/kmod/avcpu.ko:
# what the rig loads.
modules:
	@set -e; for k in $(KERNELS) $$(sed -n 's/^DEBUG_KERNELS := //p' $(DEPS)/debug.mk 2>/dev/null); do \
		echo "  KBUILD  avcpu.ko for $$k"; \
		bash scripts/kbuild.sh $$k $(BUILD)/kmod/$$k; \
	done

selftests:
	$(MAKE) -j$(NPROC) -C selftests

tools:
	$(MAKE) -j$(NPROC) -C tools

# avm's unit tests (tools/avm/tests): static arm64 binaries, run under
# qemu-aarch64 on x86_64; run.sh also has the build machine's dtc read
# the tree avm makes.
avm-unit: tools
	$(MAKE) -j$(NPROC) -C tools/avm/tests
	bash tools/avm/tests/run.sh

# checkpatch --strict, a W=1 build and sparse on the module; any finding
# fails. The W=1/C=1 build goes to a scratch copy so it does not disturb
# the normal objects.
lint:
	bash scripts/lint.sh

# dkms.conf, as a board's owner uses it: 'dkms build' against Debian's
# 6.12 arm64 headers, in a DKMS tree under build/dkms.
dkms-test:
	bash scripts/dkms_test.sh 6.12

run: all modules
	python3 scripts/rig.py run

# Counts, not times: exits, instructions per round trip, memory, I/O rates
# under QEMU's -icount (scripts/bench.py).
bench: all modules
	python3 scripts/bench.py

# lint, dkms-test and avm-unit run beside the rig's first lanes
# (scripts/check.sh): the debug lanes leave most of a core idle.
check: all debug-kernel modules
	python3 scripts/rig_test.py
	bash scripts/check.sh

clean:
	-[ -d "$(DEB_KDIR)$(KDIR)" ] && $(KMAKE) clean
	rm -rf kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	       kmod/modules.order kmod/Module.symvers kmod/.tmp_versions
	$(MAKE) -C selftests clean
	$(MAKE) -C tools clean
	$(MAKE) -C tools/avm/tests clean
	rm -rf $(BUILD)/rig $(BUILD)/initramfs* $(BUILD)/lint $(BUILD)/kmod $(BUILD)/dkms

distclean: clean
	rm -rf $(BUILD)

help:
	@echo "make            build avcpu.ko, the selftests and tools (installs deps)"
	@echo "make run        boot the QEMU host lanes, load avcpu, show it working"
	@echo "make check      static checks + the kselftest suite on every lane"
	@echo "make modules    avcpu.ko for every lane kernel, in build/kmod/<kernel>"
	@echo "make lint       checkpatch --strict, W=1 and sparse on kmod/ (every kernel)"
	@echo "make dkms-test  dkms build of dkms.conf against the 6.12 headers"
	@echo "make avm-unit   avm's unit tests (GIC, PL011, loader, device tree)"
	@echo "make bench      exits, IPI cost, memory and I/O of avm under -icount"
	@echo "make KDIR=DIR   build the module against another kernel tree"
	@echo "make distclean  also drop build/ (downloaded dependencies)"
