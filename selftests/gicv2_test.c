// SPDX-License-Identifier: GPL-2.0
/*
 * What only a GICv2 host has: the guest's CPU interface is the hardware's
 * GICV frame, mapped where the VMM says (AVCPU_SET_GICV), and an SGI is
 * pending once per source CPU, which the guest reads in GICC_IAR.CPUID
 * (IHI 0048B, 3.2.2 and 4.4.4). On a GICv3 host every test here but the
 * refusal of SET_GICV skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"
#include "guest/gic.h"

#define SGI_NR		5
#define NR_SOURCES	3
#define GICC_IIDR	0x0fc

/* Written by the guest */
static volatile uint64_t sources_seen[8];	/* per source CPU */
static volatile uint64_t ack_order[NR_SOURCES * 2];
static volatile uint64_t nr_acks;

static void sgi_handler(struct ex_regs *regs)
{
	uint32_t src = 0;
	uint64_t intid = gic_read_iar_src(&src);

	if (intid >= 1020)
		return;
	if (intid == SGI_NR) {
		sources_seen[src & 7]++;
		if (nr_acks < NR_SOURCES * 2)
			ack_order[nr_acks] = src;
		nr_acks++;
	}
	gic_write_eoir(intid);
}

static void guest_sgi_sources(void)
{
	uint64_t end;

	guest_install_handler(VECTOR_IRQ_CURRENT, 0, sgi_handler);
	gic_cpu_init();
	/* the interface's identity: the guest really talks to a GIC */
	GUEST_SYNC_ARGS(0, gicc_read(GICC_IIDR), 0, 0);
	/* spin, not WFI: a lost source ends the wait after 2 s, not never */
	end = read_cntvct() + 2 * read_cntfrq();
	local_irq_enable();
	while (nr_acks < NR_SOURCES && read_cntvct() < end)
		;
	local_irq_disable();
	GUEST_SYNC_ARGS(1, nr_acks, 0, 0);
	GUEST_DONE();
}

static bool host_gic_v2(void)
{
	return avcpu_gic_is_v2();
}

/*
 * Three CPUs send SGI 5 to vCPU 0 before it runs: it takes it three
 * times, once from each, in the order of their numbers (one LR holds one
 * source; the EOI maintenance exit brings the next).
 */
TEST(sgi_once_per_source)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_IRQ();
	if (!host_gic_v2())
		SKIP(return, "GICv3 host: SGIs carry no source CPU there");
	memset((void *)sources_seen, 0, sizeof(sources_seen));
	nr_acks = 0;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_sgi_sources);
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	/* GICC_IIDR: ArchitectureVersion 2 in bits 19:16 */
	EXPECT_EQ(2, (uc.args[1] >> 16) & 0xf)
		TH_LOG("GICC_IIDR 0x%llx at 0x%x: no GICv2 CPU interface there",
		       (unsigned long long)uc.args[1], GUEST_GICC_IPA);
	for (i = 1; i <= NR_SOURCES; i++)
		ASSERT_EQ(0, __vcpu_inject_sgi(vcpu, SGI_NR, i));
	/* the same source twice is one pending SGI */
	ASSERT_EQ(0, __vcpu_inject_sgi(vcpu, SGI_NR, 2));
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(NR_SOURCES, uc.args[1]) TH_LOG("SGI %u taken %llu times in 2 s, once per source expected",
						  SGI_NR, (unsigned long long)uc.args[1]);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	for (i = 1; i <= NR_SOURCES; i++) {
		EXPECT_EQ(1, sources_seen[i]) TH_LOG("source CPU %u", i);
		EXPECT_EQ(i, ack_order[i - 1]);
	}
	EXPECT_EQ(0, sources_seen[0]);
	EXPECT_EQ(0, vcpu_get_irq(vcpu, SGI_NR, NULL) &
		     (AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE));
	vm_free(vm);
}

TEST(inject_source_checked)
{
	struct avcpu_irq_level l = { .intid = SGI_NR, .level = 1, .source = 8 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	if (host_gic_v2()) {
		/* CPU numbers are 0-7 */
		EXPECT_EQ(-1, ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
		EXPECT_EQ(EINVAL, errno);
		l.source = 7;
		EXPECT_EQ(0, ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
	} else {
		/* no GIC but a GICv2 has a source */
		l.source = 1;
		EXPECT_EQ(-1, ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
		EXPECT_EQ(EINVAL, errno);
	}
	/* a PPI or SPI has no source, nor has a lowered line */
	l.intid = 40;
	l.source = 1;
	EXPECT_EQ(-1, ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
	EXPECT_EQ(EINVAL, errno);
	l.intid = SGI_NR;
	l.level = 0;
	EXPECT_EQ(-1, ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);
}

static int set_gicv(struct avcpu_vm *vm, uint64_t ipa, uint64_t res)
{
	struct avcpu_gicv g = { .ipa = ipa, .reserved = { res } };

	return ioctl(vm->fd, AVCPU_SET_GICV, &g) ? -errno : 0;
}

/*
 * The placement's rules: aligned to gicv_size, inside the IPA space, not
 * over memory (nor memory over it later), once. A GICv3 host refuses.
 */
TEST(set_gicv_arguments)
{
	struct avcpu_caps caps;
	struct avcpu_vm *vm;
	uint64_t sz, base = 0x30000000;
	void *mem;

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, avcpu_get_caps(&caps));
	vm = vm_create();	/* on GICv2, with its GICC at GUEST_GICC_IPA */
	if (caps.gic_version != 2) {
		EXPECT_EQ(-ENODEV, set_gicv(vm, base, 0));
		vm_free(vm);
		return;
	}
	sz = caps.gicv_size;
	EXPECT_EQ(-EEXIST, set_gicv(vm, base, 0)) TH_LOG("a second SET_GICV");
	vm_free(vm);

	/* a VM without the library's mapping: a bare fd */
	vm = calloc(1, sizeof(*vm));
	ASSERT_NE(NULL, vm);
	vm->dev_fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vm->dev_fd);
	vm->fd = ioctl(vm->dev_fd, AVCPU_CREATE_VM, 0);
	ASSERT_LE(0, vm->fd);
	EXPECT_EQ(-EINVAL, set_gicv(vm, base + sz / 2, 0));
	EXPECT_EQ(-EINVAL, set_gicv(vm, base, 1));
	EXPECT_EQ(-EINVAL, set_gicv(vm, (1ULL << caps.ipa_bits), 0));
	EXPECT_EQ(-EINVAL, set_gicv(vm, UINT64_MAX & ~(sz - 1), 0));
	mem = mmap(NULL, 4 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	{
		struct avcpu_mem_region r = {
			.slot = 0, .guest_phys_addr = base, .memory_size = 4 * sz,
			.userspace_addr = (uintptr_t)mem,
		};

		ASSERT_EQ(0, ioctl(vm->fd, AVCPU_SET_MEMORY_REGION, &r));
		EXPECT_EQ(-EEXIST, set_gicv(vm, base + sz, 0)) TH_LOG("over memory");
		EXPECT_EQ(0, set_gicv(vm, base + 4 * sz, 0)) TH_LOG("right after it");
		/* and memory over the frame is refused in turn */
		r.slot = 1;
		r.guest_phys_addr = base + 4 * sz;
		r.memory_size = sz;
		EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_SET_MEMORY_REGION, &r));
		EXPECT_EQ(EEXIST, errno);
	}
	close(vm->fd);
	close(vm->dev_fd);
	munmap(mem, 4 * sz);
	free(vm);
}

TEST_HARNESS_MAIN
