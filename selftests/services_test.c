// SPDX-License-Identifier: GPL-2.0
/*
 * The SMCCC and PSCI calls the module answers in the kernel (never an
 * exit), by HVC and by SMC: SMCCC_VERSION, SMCCC_ARCH_FEATURES,
 * PSCI_VERSION, PSCI_FEATURES, AFFINITY_INFO and NOT_SUPPORTED for the
 * rest of the Arm Architecture and Standard Secure ranges; and the calls
 * outside those ranges, which are HYPERCALL exits.
 *
 * The answers are checked by the guest (GUEST_ASSERT); the host checks that
 * the vCPU made no exit but its ucalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

/* Function ids (Arm DEN 0028 SMCCC, Arm DEN 0022 PSCI) */
#define SMCCC_VERSION		0x80000000U
#define SMCCC_ARCH_FEATURES	0x80000001U
#define SMCCC_ARCH_SOC_ID	0x80000002U
#define SMCCC_ARCH_WORKAROUND_1	0x80008000U
#define PSCI_VERSION		0x84000000U
#define PSCI_CPU_SUSPEND	0x84000001U
#define PSCI_CPU_SUSPEND64	0xc4000001U
#define PSCI_CPU_OFF		0x84000002U
#define PSCI_CPU_ON		0x84000003U
#define PSCI_CPU_ON64		0xc4000003U
#define PSCI_AFFINITY_INFO	0x84000004U
#define PSCI_AFFINITY_INFO64	0xc4000004U
#define PSCI_MIGRATE		0x84000005U
#define PSCI_MIGRATE_INFO_TYPE	0x84000006U
#define PSCI_SYSTEM_OFF		0x84000008U
#define PSCI_SYSTEM_RESET	0x84000009U
#define PSCI_FEATURES		0x8400000aU
#define PSCI_SYSTEM_SUSPEND	0x8400000eU

#define RET_NOT_SUPPORTED	((uint64_t)-1)
#define RET_INVALID_PARAMS	((uint64_t)-2)
#define AFF_ON			0
#define AFF_OFF			1
#define AFF_ON_PENDING		2

#define CONDUIT_HVC	0
#define CONDUIT_SMC	1

/* Registers the calls must leave alone */
#define KEEP(n)		(0x0101010101010101ULL * (n))

/*
 * An SMCCC call by @insn: x0 = @fid, x1..x3 = @a1..@a3. Only x0 may
 * change (x1..x7 checked); returns x0.
 */
#define SMCCC_CALL(insn, fid, a1, a2, a3) ({				\
	register uint64_t x0 asm("x0") = (fid);				\
	register uint64_t x1 asm("x1") = (a1);				\
	register uint64_t x2 asm("x2") = (a2);				\
	register uint64_t x3 asm("x3") = (a3);				\
	register uint64_t x4 asm("x4") = KEEP(4);			\
	register uint64_t x5 asm("x5") = KEEP(5);			\
	register uint64_t x6 asm("x6") = KEEP(6);			\
	register uint64_t x7 asm("x7") = KEEP(7);			\
									\
	asm volatile(insn						\
		     : "+r" (x0), "+r" (x1), "+r" (x2), "+r" (x3),	\
		       "+r" (x4), "+r" (x5), "+r" (x6), "+r" (x7)	\
		     : : "memory");					\
	__GUEST_ASSERT(x1 == (a1) && x2 == (a2) && x3 == (a3) &&	\
		       x4 == KEEP(4) && x5 == KEEP(5) &&		\
		       x6 == KEEP(6) && x7 == KEEP(7),			\
		       "%s 0x%lx changed x1..x7", insn,			\
		       (unsigned long)(fid));				\
	x0;								\
})

static uint64_t smccc(int conduit, uint64_t fid, uint64_t a1, uint64_t a2,
		      uint64_t a3)
{
	if (conduit == CONDUIT_SMC)
		return SMCCC_CALL("smc #0", fid, a1, a2, a3);
	return SMCCC_CALL("hvc #0", fid, a1, a2, a3);
}

struct call {
	uint64_t fid, a1, a2;
	uint64_t expect;
};

/* Check each call of @calls by both conduits. */
static void check_calls(const struct call *calls, unsigned int n)
{
	unsigned int i;
	int conduit;

	for (conduit = CONDUIT_HVC; conduit <= CONDUIT_SMC; conduit++) {
		for (i = 0; i < n; i++) {
			const struct call *c = &calls[i];
			uint64_t got = smccc(conduit, c->fid, c->a1, c->a2, 0);

			__GUEST_ASSERT(got == c->expect,
				       "%s fid 0x%lx x1 0x%lx x2 0x%lx: got 0x%lx, want 0x%lx",
				       conduit == CONDUIT_SMC ? "SMC" : "HVC",
				       (unsigned long)c->fid,
				       (unsigned long)c->a1,
				       (unsigned long)c->a2,
				       (unsigned long)got,
				       (unsigned long)c->expect);
		}
	}
}

#define NCALLS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Versions and features
 */
static const struct call version_calls[] = {
	{ SMCCC_VERSION, 0, 0, 0x10001 },
	{ PSCI_VERSION, 0, 0, 0x10001 },
	/* SMCCC_ARCH_FEATURES: NOT_SUPPORTED whatever it is asked */
	{ SMCCC_ARCH_FEATURES, SMCCC_VERSION, 0, RET_NOT_SUPPORTED },
	{ SMCCC_ARCH_FEATURES, SMCCC_ARCH_FEATURES, 0, RET_NOT_SUPPORTED },
	{ SMCCC_ARCH_FEATURES, SMCCC_ARCH_WORKAROUND_1, 0, RET_NOT_SUPPORTED },
	{ SMCCC_ARCH_FEATURES, PSCI_VERSION, 0, RET_NOT_SUPPORTED },
};

static const struct call psci_features_calls[] = {
	/* implemented */
	{ PSCI_FEATURES, PSCI_VERSION, 0, 0 },
	{ PSCI_FEATURES, PSCI_CPU_OFF, 0, 0 },
	{ PSCI_FEATURES, PSCI_CPU_ON, 0, 0 },
	{ PSCI_FEATURES, PSCI_CPU_ON64, 0, 0 },
	{ PSCI_FEATURES, PSCI_AFFINITY_INFO, 0, 0 },
	{ PSCI_FEATURES, PSCI_AFFINITY_INFO64, 0, 0 },
	{ PSCI_FEATURES, PSCI_SYSTEM_OFF, 0, 0 },
	{ PSCI_FEATURES, PSCI_SYSTEM_RESET, 0, 0 },
	{ PSCI_FEATURES, PSCI_FEATURES, 0, 0 },
	{ PSCI_FEATURES, SMCCC_VERSION, 0, 0 },
	/* not implemented */
	{ PSCI_FEATURES, PSCI_CPU_SUSPEND, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, PSCI_CPU_SUSPEND64, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, PSCI_MIGRATE, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, PSCI_MIGRATE_INFO_TYPE, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, PSCI_SYSTEM_SUSPEND, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, SMCCC_ARCH_FEATURES, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, SMCCC_ARCH_WORKAROUND_1, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, 0x8400001f, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, 0xc4000012, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, 0x86000000, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, 0x12345678, 0, RET_NOT_SUPPORTED },
	{ PSCI_FEATURES, 0, 0, RET_NOT_SUPPORTED },
};

static void guest_versions_features(void)
{
	check_calls(version_calls, NCALLS(version_calls));
	check_calls(psci_features_calls, NCALLS(psci_features_calls));
	GUEST_DONE();
}

TEST(versions_and_features)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_versions_features);
	/* the first exit is the final ucall: everything answered inside */
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * Every other id of the Arm Architecture and Standard Secure ranges:
 * NOT_SUPPORTED, no exit.
 */
static const struct call unknown_calls[] = {
	{ SMCCC_ARCH_SOC_ID, 0, 0, RET_NOT_SUPPORTED },
	{ SMCCC_ARCH_WORKAROUND_1, 0, 0, RET_NOT_SUPPORTED },
	{ 0x80007fff, 0, 0, RET_NOT_SUPPORTED },
	{ 0x8000ffff, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc0000000, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc0001234, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc000ffff, 0, 0, RET_NOT_SUPPORTED },
	{ PSCI_CPU_SUSPEND, 0, 0, RET_NOT_SUPPORTED },
	{ PSCI_CPU_SUSPEND64, 0, 0, RET_NOT_SUPPORTED },
	{ PSCI_MIGRATE, 0, 0, RET_NOT_SUPPORTED },
	{ PSCI_MIGRATE_INFO_TYPE, 0, 0, RET_NOT_SUPPORTED },
	{ 0x84000007, 0, 0, RET_NOT_SUPPORTED },	/* MIGRATE_INFO_UP_CPU */
	{ PSCI_SYSTEM_SUSPEND, 0, 0, RET_NOT_SUPPORTED },
	{ 0x8400001f, 0, 0, RET_NOT_SUPPORTED },
	{ 0x8400ffff, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc4000012, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc400ffff, 0, 0, RET_NOT_SUPPORTED },
	/* the 64-bit forms of the 32-bit-only calls are other ids */
	{ 0xc4000000, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc4000002, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc4000008, 0, 0, RET_NOT_SUPPORTED },
	{ 0xc400000a, PSCI_VERSION, 0, RET_NOT_SUPPORTED },
};

static void guest_unknown_ids(void)
{
	check_calls(unknown_calls, NCALLS(unknown_calls));
	GUEST_DONE();
}

TEST(unknown_ids_not_supported)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_unknown_ids);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * AFFINITY_INFO from vCPU 0 (mpidr 0, running) about vCPU 1 (CREATED) and
 * vCPU 2 (SETUP, not bound: FREE). The library gives vCPU n mpidr n.
 */
#define MPIDR_AFF_MASK	0xff00ffffffULL

static const struct call affinity_calls[] = {
	{ PSCI_AFFINITY_INFO64, 0, 0, AFF_ON },
	{ PSCI_AFFINITY_INFO64, 1, 0, AFF_OFF },
	{ PSCI_AFFINITY_INFO64, 2, 0, AFF_ON_PENDING },
	{ PSCI_AFFINITY_INFO64, 3, 0, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 0x77, 0, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 0x0100000000ULL, 0, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 0, 1, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 1, 1, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 2, 2, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO, 0, 0, AFF_ON },
	{ PSCI_AFFINITY_INFO, 1, 0, AFF_OFF },
	{ PSCI_AFFINITY_INFO, 2, 0, AFF_ON_PENDING },
	{ PSCI_AFFINITY_INFO, 0x77, 0, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO, 0, 1, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO, 2, 3, RET_INVALID_PARAMS },
	/* SMC32: only the low 32 bits of x1 and x2 count */
	{ PSCI_AFFINITY_INFO, 0xffffffff00000002ULL, 0, AFF_ON_PENDING },
	{ PSCI_AFFINITY_INFO, 1, 0x100000000ULL, AFF_OFF },
	/* SMC64: all of them */
	{ PSCI_AFFINITY_INFO64, 0xffffffff00000002ULL, 0, RET_INVALID_PARAMS },
	{ PSCI_AFFINITY_INFO64, 1, 0x100000000ULL, RET_INVALID_PARAMS },
};

static void guest_affinity_info(void)
{
	uint64_t self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;

	GUEST_ASSERT_EQ(self, 0);
	GUEST_ASSERT_EQ(smccc(CONDUIT_HVC, PSCI_AFFINITY_INFO64, self, 0, 0),
			AFF_ON);
	check_calls(affinity_calls, NCALLS(affinity_calls));
	GUEST_DONE();
}

TEST(affinity_info)
{
	struct avcpu_vcpu *vcpu0, *vcpu1, *vcpu2;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu0 = vm_vcpu_add(vm, 0, guest_affinity_info);
	vcpu1 = vm_vcpu_create(vm, 1);
	vcpu2 = vm_vcpu_create(vm, 2);
	vcpu_setup(vcpu2, guest_affinity_info, 0);
	ASSERT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu1));
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu2));

	run_expect_ucall(_metadata, vcpu0, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * AFFINITY_INFO follows a vCPU through CPU_OFF and the VMM's UNBIND,
 * SETUP and BIND: vCPU 0 asks about vCPU 1 at each step; the host
 * tells it what to expect through @aff_expect (the guest and the host
 * share the test's globals).
 */
static volatile uint64_t aff_expect;

static void guest_watch_vcpu1(void)
{
	for (;;) {
		uint64_t want = aff_expect;

		GUEST_ASSERT_EQ(smccc(CONDUIT_HVC, PSCI_AFFINITY_INFO64, 1, 0, 0),
				want);
		GUEST_ASSERT_EQ(smccc(CONDUIT_SMC, PSCI_AFFINITY_INFO, 1, 0, 0),
				want);
		GUEST_SYNC(want);
	}
}

static void guest_cpu_off(void)
{
	register uint64_t x0 asm("x0") = PSCI_CPU_OFF;

	asm volatile("hvc #0" : "+r" (x0) : : "x1", "x2", "x3", "memory");
	GUEST_SYNC(x0);
	GUEST_DONE();
}

/* vCPU 0 sees @want for vCPU 1 */
static void expect_vcpu1(struct __test_metadata *_metadata,
			 struct avcpu_vcpu *vcpu0, uint64_t want)
{
	struct ucall uc;

	aff_expect = want;
	run_expect_ucall(_metadata, vcpu0, UCALL_SYNC, &uc);
	EXPECT_EQ(want, uc.args[0]);
}

TEST(affinity_info_follows_cpu_off)
{
	struct avcpu_vcpu *vcpu0, *vcpu1;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu0 = vm_vcpu_add(vm, 0, guest_watch_vcpu1);
	vcpu1 = vm_vcpu_add(vm, 1, guest_cpu_off);

	expect_vcpu1(_metadata, vcpu0, AFF_ON);		/* READY */

	vcpu_run(vcpu1);
	ASSERT_EQ(AVCPU_EXIT_CPU_DOWN, vcpu1->run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu1);
	}
	ASSERT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu1));
	expect_vcpu1(_metadata, vcpu0, AFF_OFF);	/* READY, but off */

	/* CPU_OFF returning (the VMM's choice) does not turn it on */
	vcpu1->run->ret = (uint64_t)-3;	/* DENIED */
	run_expect_ucall(_metadata, vcpu1, UCALL_SYNC, &uc);
	EXPECT_EQ((uint64_t)-3, uc.args[0]);
	expect_vcpu1(_metadata, vcpu0, AFF_OFF);

	vcpu_unbind(vcpu1);
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu1));
	expect_vcpu1(_metadata, vcpu0, AFF_OFF);	/* FREE, still off */

	vcpu_setup(vcpu1, guest_cpu_off, 0);
	expect_vcpu1(_metadata, vcpu0, AFF_ON_PENDING);	/* set up again */

	vcpu_bind(vcpu1, AVCPU_BIND_CURRENT_CPU);
	expect_vcpu1(_metadata, vcpu0, AFF_ON);
	vm_free(vm);
}

/* A vCPU that RUN left INVALID (EFAULT) is OFF. */
#define GONE_GPA	0x30000000ULL

static void guest_touch_gone(void)
{
	GUEST_SYNC(*(volatile uint64_t *)GONE_GPA);
}

TEST(affinity_info_invalid_is_off)
{
	struct avcpu_vcpu *vcpu0, *vcpu1;
	struct avcpu_vm *vm;
	void *hva;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu0 = vm_vcpu_add(vm, 0, guest_watch_vcpu1);
	vcpu1 = vm_vcpu_add(vm, 1, guest_touch_gone);
	/* last mmap() before RUN: nothing may reuse the range once unmapped */
	hva = mmap(NULL, vm->page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hva);
	vm_set_memory_region(vm, 0, 0, GONE_GPA, vm->page_size, hva);
	/* the backing goes before the guest's first touch */
	ASSERT_EQ(0, munmap(hva, vm->page_size));

	ASSERT_EQ(-EFAULT, __vcpu_run(vcpu1)) {
		vcpu_dump_exit(stderr, vcpu1);
	}
	ASSERT_EQ(AVCPU_STATE_INVALID, vcpu_get_state(vcpu1));

	expect_vcpu1(_metadata, vcpu0, AFF_OFF);
	vm_free(vm);
}

/*
 * Ids of the other SMCCC owners, yielding calls and values that are no
 * SMCCC ids: HYPERCALL exits, by both conduits.
 */
static const uint64_t hypercall_ids[] = {
	0x81000000,		/* CPU service */
	0x82000000,		/* SiP */
	0x83000010,		/* OEM */
	0xc5000000,		/* Standard Hypervisor, SMC64 */
	0x86000000,		/* Vendor Hypervisor */
	0xc6000001,
	0xbf00ff00,		/* Trusted OS */
	0x80010000,		/* owner 0, but beyond 0x8000ffff */
	0x84010000,		/* owner 4, but beyond 0x8400ffff */
	0xc4ff0003,
	0x04000000,		/* a yielding (not fast) call */
	0x00000000,
	0x1234,
};

#define HC_RET(id, conduit)	((id) ^ 0x5a5a5a5a00000000ULL ^ (conduit))

static void guest_hypercalls(void)
{
	unsigned int i;
	int conduit;

	for (conduit = CONDUIT_HVC; conduit <= CONDUIT_SMC; conduit++)
		for (i = 0; i < NCALLS(hypercall_ids); i++)
			__GUEST_ASSERT(smccc(conduit, hypercall_ids[i], 1, 2, 3) ==
				       HC_RET(hypercall_ids[i], conduit),
				       "call 0x%lx conduit %d",
				       (unsigned long)hypercall_ids[i], conduit);
	GUEST_DONE();
}

TEST(other_owners_exit)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;
	uint32_t conduit;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_hypercalls);

	for (conduit = CONDUIT_HVC; conduit <= CONDUIT_SMC; conduit++) {
		for (i = 0; i < NCALLS(hypercall_ids); i++) {
			struct avcpu_run *run = vcpu->run;

			vcpu_run(vcpu);
			ASSERT_EQ(AVCPU_EXIT_HYPERCALL, run->exit_reason) {
				struct ucall uc;

				vcpu_dump_exit(stderr, vcpu);
				if (get_ucall(vcpu, &uc) != UCALL_NONE)
					ucall_dump(stderr, &uc);
				TH_LOG("call 0x%llx conduit %u",
				       (unsigned long long)hypercall_ids[i], conduit);
			}
			EXPECT_EQ(hypercall_ids[i], run->hypercall.nr);
			EXPECT_EQ(conduit, run->hypercall.conduit);
			EXPECT_EQ(1, run->hypercall.args[0]);
			EXPECT_EQ(2, run->hypercall.args[1]);
			EXPECT_EQ(3, run->hypercall.args[2]);
			run->ret = HC_RET(hypercall_ids[i], conduit);
		}
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST_HARNESS_MAIN
