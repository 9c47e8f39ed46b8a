// SPDX-License-Identifier: GPL-2.0
/*
 * The host check: avcpu loads exactly where it can work, says which mode it
 * found, and on any other host refuses with -ENODEV and one line saying why,
 * leaving nothing behind. The rig runs this binary in every lane, including
 * the lanes built to be refused (no EL2, KVM holding EL2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_vm.h"

/* /proc/sys/kernel/tainted bits that mean the kernel hit trouble */
#define TAINT_BAD_PAGE		(1UL << 5)
#define TAINT_DIE		(1UL << 7)
#define TAINT_WARN		(1UL << 9)
#define TAINT_SOFTLOCKUP	(1UL << 14)

TEST(verdict)
{
	const struct avcpu_lane *lane = avcpu_lane();
	int i, err;

	if (!lane) {
		if (!avcpu_loaded())
			SKIP(return, "AVCPU_LANE unset and avcpu not loaded: no verdict to check");
		EXPECT_TRUE(avcpu_klog_contains("avcpu: VHE host") > 0 ||
			    avcpu_klog_contains("avcpu: nVHE host") > 0);
		return;
	}

	if (lane->host_mode) {
		ASSERT_TRUE(avcpu_loaded()) TH_LOG("lane %s: avcpu should have loaded",
						   lane->name);
		EXPECT_EQ(1, avcpu_klog_contains(lane->klog))
			TH_LOG("no '%s' in the kernel log", lane->klog);
		EXPECT_EQ(0, access(AVCPU_DEV, F_OK));
		return;
	}

	/* a host where avcpu cannot work: refused every time, cleanly */
	EXPECT_FALSE(avcpu_loaded());
	for (i = 0; i < 3; i++) {
		err = __avcpu_load();
		EXPECT_EQ(-ENODEV, err) TH_LOG("load %d: %s", i, strerror(-err));
		if (err == 0)
			__avcpu_unload(false);
	}
	EXPECT_FALSE(avcpu_loaded());
	EXPECT_NE(0, access(AVCPU_DEV, F_OK));
	EXPECT_EQ(1, avcpu_klog_contains(lane->klog))
		TH_LOG("no '%s' in the kernel log", lane->klog);
}

TEST(kernel_not_tainted_by_trouble)
{
	unsigned long taint = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%lu", &taint));
	fclose(f);
	EXPECT_EQ(0, taint & (TAINT_BAD_PAGE | TAINT_DIE | TAINT_WARN |
			      TAINT_SOFTLOCKUP)) TH_LOG("tainted = %#lx", taint);
}

/*
 * A host booted with irqchip.gicv3_pseudo_nmi=1 (the debug lanes) is there
 * to run every test with interrupts masked through the GIC's priority mask:
 * a kernel that quietly fell back to PSTATE masking (no GICv3, or a kernel
 * built without ARM64_PSEUDO_NMI) would pass the suite without trying that.
 */
TEST(pseudo_nmi_as_asked)
{
	char cmdline[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(cmdline, sizeof(cmdline), f));
	fclose(f);
	if (!strstr(cmdline, "irqchip.gicv3_pseudo_nmi=1"))
		SKIP(return, "host not booted with irqchip.gicv3_pseudo_nmi=1");
	EXPECT_EQ(1, avcpu_klog_contains("Pseudo-NMIs enabled"))
		TH_LOG("asked for pseudo-NMIs, the kernel log never says it enabled them");
}

/*
 * The host interrupts avcpu takes (the virtual timer's, on VHE the EL1
 * physical timer's, the GIC maintenance interrupt) come from the device
 * tree, or on a host booted with ACPI (UEFI, no device tree: the ACPI
 * lanes) from the GTDT and the MADT; one dmesg line says which, and names
 * each found. Every lane's QEMU board has all of them.
 */
TEST(host_interrupts_found)
{
	bool acpi = !access("/sys/firmware/acpi/tables/GTDT", F_OK);
	char want[128];
	struct avcpu_caps caps;

	if (!avcpu_loaded())
		SKIP(return, "avcpu not loaded here");
	ASSERT_EQ(0, avcpu_get_caps(&caps));
	if (!(caps.flags & AVCPU_CAP_F_IRQ))
		SKIP(return, "no AVCPU_CAP_F_IRQ: no interrupts taken");
	snprintf(want, sizeof(want), "avcpu: host interrupts from %s: virtual timer IRQ",
		 acpi ? "ACPI (GTDT, MADT)" : "the device tree");
	EXPECT_EQ(1, avcpu_klog_contains(want)) TH_LOG("no '%s' in the kernel log", want);
	EXPECT_EQ(1, avcpu_klog_contains("GIC maintenance IRQ"));
	if (acpi) {
		/* the GSIs QEMU's virt board gives: PPI 27, 30 and 25 */
		EXPECT_EQ(1, avcpu_klog_contains("virtual timer IRQ"));
		EXPECT_LT(0, avcpu_klog_contains("(GSI 27)"));
		EXPECT_LT(0, avcpu_klog_contains("(GSI 25)"));
	}
	EXPECT_EQ(0, avcpu_klog_contains("no avcpu-vtimer interrupt"));
	EXPECT_EQ(0, avcpu_klog_contains("no avcpu-maint interrupt"));
	EXPECT_EQ(0, avcpu_klog_contains("no avcpu-ptimer interrupt"));
}

/*
 * avcpu's EL2 vectors mitigate Spectre-v2 and Spectre-BHB as the kernel
 * mitigates them for itself (kmod/mitigations.c, one dmesg line). The
 * kernel's spectre_v2 file tells part of its choice ("Not affected", or
 * "Mitigation: ..., BHB"); a Cortex-A72 the kernel mitigates takes the
 * loop of 8 branches (Arm's Spectre-BHB mitigation list). The kernel does
 * not mitigate BHB alone while Spectre-v2 is open ("Vulnerable", as on
 * QEMU's Cortex-A72, whose firmware lacks SMCCC_ARCH_WORKAROUND_1).
 */
static bool cpu0_midr(unsigned long long *midr)
{
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%llx", midr) == 1;
	fclose(f);
	return ok;
}

#define MIDR_PART(m)		(((m) >> 4) & 0xfff)
#define MIDR_IMPL(m)		(((m) >> 24) & 0xff)

TEST(el2_vectors_mitigate_as_the_kernel)
{
	char v2[256] = "";
	unsigned long long midr;
	FILE *f;

	AVCPU_REQUIRE_LOADED();
	if (!avcpu_can_run())
		SKIP(return, "this host cannot run guests");
	ASSERT_EQ(1, avcpu_klog_contains("avcpu: EL2 vectors: "));
	EXPECT_EQ(0, avcpu_klog_contains("Spectre-BHB: UNMITIGATED"))
		TH_LOG("the kernel mitigates Spectre-BHB, avcpu's vectors do not");

	f = fopen("/sys/devices/system/cpu/vulnerabilities/spectre_v2", "r");
	if (f) {
		if (!fgets(v2, sizeof(v2), f))
			v2[0] = '\0';
		fclose(f);
	}
	ksft_print_msg("the kernel's spectre_v2: %s", v2);
	if (!strncmp(v2, "Not affected", 12))
		EXPECT_EQ(1, avcpu_klog_contains("Spectre-v2: not needed; Spectre-BHB: not affected"));
	if (strstr(v2, ", BHB")) {
		EXPECT_EQ(0, avcpu_klog_contains("Spectre-BHB: not affected"));
		EXPECT_EQ(0, avcpu_klog_contains("Spectre-BHB: not mitigated"));
	}
	/* where the kernel mitigates BHB on a Cortex-A72, with its loop of 8 */
	if (strstr(v2, ", BHB") && cpu0_midr(&midr) && MIDR_IMPL(midr) == 0x41 &&
	    MIDR_PART(midr) == 0xd08)
		EXPECT_EQ(1, avcpu_klog_contains("Spectre-BHB: loop (k=8)"))
			TH_LOG("a Cortex-A72: the kernel's loop of 8");
}

TEST_HARNESS_MAIN
