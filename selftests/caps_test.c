// SPDX-License-Identifier: GPL-2.0
/*
 * AVCPU_GET_CAPS: values consistent with each other, with the architecture,
 * and with the host lane the test runs in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"

#define KNOWN_FLAGS	(AVCPU_CAP_F_GIC_SYSREG | AVCPU_CAP_F_NR_LRS | \
			 AVCPU_CAP_F_RUN | AVCPU_CAP_F_IRQ | AVCPU_CAP_F_FAST_PATHS | \
			 AVCPU_CAP_F_COALESCED_MMIO)

static void get_caps(struct __test_metadata *_metadata, struct avcpu_caps *caps)
{
	int fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	/* poison it: every byte must be written by the kernel */
	memset(caps, 0xa5, sizeof(*caps));
	ASSERT_EQ(0, ioctl(fd, AVCPU_GET_CAPS, caps)) TH_LOG("%s", strerror(errno));
	close(fd);
}

TEST(consistent)
{
	struct avcpu_caps c;
	unsigned int i;

	AVCPU_REQUIRE_LOADED();
	get_caps(_metadata, &c);

	EXPECT_EQ(AVCPU_API_VERSION, c.api_version);
	EXPECT_TRUE(c.host_mode == AVCPU_HOST_MODE_VHE ||
		    c.host_mode == AVCPU_HOST_MODE_NVHE);
	/* ID_AA64MMFR0_EL1.PARange encodings */
	EXPECT_TRUE(c.pa_bits == 32 || c.pa_bits == 36 || c.pa_bits == 40 ||
		    c.pa_bits == 42 || c.pa_bits == 44 || c.pa_bits == 48 ||
		    c.pa_bits == 52) TH_LOG("pa_bits %u", c.pa_bits);
	EXPECT_EQ(c.pa_bits < 48 ? c.pa_bits : 48, c.ipa_bits);
	EXPECT_GE(c.max_vcpus, 1);
	EXPECT_LE(c.max_vcpus, 512);
	EXPECT_TRUE(c.vmid_bits == 8 || c.vmid_bits == 16);
	EXPECT_TRUE(c.gic_version == 0 || c.gic_version == 2 ||
		    c.gic_version == 3 || c.gic_version == 4);
	EXPECT_EQ(0, c.flags & ~(__u64)KNOWN_FLAGS);
	EXPECT_EQ(c.gic_version >= 3, !!(c.flags & AVCPU_CAP_F_GIC_SYSREG));
	/* GICv2: the 8K GICC frame in host pages, a power of two */
	if (c.gic_version == 2) {
		EXPECT_GE(c.gicv_size, 8192);
		EXPECT_EQ(0, c.gicv_size & (c.gicv_size - 1));
		EXPECT_EQ(0, c.gicv_size % (__u64)getpagesize());
		EXPECT_TRUE(c.flags & AVCPU_CAP_F_IRQ);
	} else {
		EXPECT_EQ(0, c.gicv_size);
	}
	if (c.flags & AVCPU_CAP_F_NR_LRS) {
		EXPECT_GE(c.nr_lrs, 1);
		EXPECT_LE(c.nr_lrs, 16);	/* ICH_VTR_EL2.ListRegs is 4 bits */
	} else {
		EXPECT_EQ(0, c.nr_lrs);
	}
	for (i = 0; i < sizeof(c.reserved) / sizeof(c.reserved[0]); i++)
		EXPECT_EQ(0, c.reserved[i]) TH_LOG("reserved[%u]", i);
}

TEST(matches_lane)
{
	const struct avcpu_lane *lane = avcpu_lane();
	struct avcpu_caps c;

	if (!lane)
		SKIP(return, "AVCPU_LANE unset: not on the QEMU rig, nothing to compare with");
	if (!lane->host_mode)
		SKIP(return, "lane %s expects avcpu to refuse to load", lane->name);
	ASSERT_TRUE(avcpu_loaded()) TH_LOG("lane %s expects avcpu loaded", lane->name);
	get_caps(_metadata, &c);

	EXPECT_EQ(lane->host_mode, c.host_mode);
	EXPECT_EQ(lane->gic_version, c.gic_version);
	EXPECT_EQ(lane->pa_bits, c.pa_bits);
	EXPECT_EQ(lane->nr_lrs, c.nr_lrs);
	EXPECT_EQ(!!lane->nr_lrs, !!(c.flags & AVCPU_CAP_F_NR_LRS));
	/* guests run on both kinds of host avcpu loads on */
	EXPECT_TRUE(c.flags & AVCPU_CAP_F_RUN);
}

/* The answer does not depend on the CPU that asks, nor on the moment. */
TEST(same_on_every_cpu)
{
	struct avcpu_caps first, c;
	cpu_set_t set;
	long cpu, ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	AVCPU_REQUIRE_LOADED();
	get_caps(_metadata, &first);
	for (cpu = 0; cpu < ncpus; cpu++) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		get_caps(_metadata, &c);
		EXPECT_EQ(0, memcmp(&first, &c, sizeof(c))) TH_LOG("cpu %ld", cpu);
	}
}

TEST_HARNESS_MAIN
