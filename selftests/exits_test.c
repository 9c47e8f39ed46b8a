// SPDX-License-Identifier: GPL-2.0
/*
 * Every exit reason of AVCPU_RUN, from a guest that provokes it with exactly
 * the instruction it names: the fields of the run page, the completion the
 * guest sees (run->ret written to the right register, the PC past the
 * instruction or not), and how RUN itself ends (EINTR, FAIL_ENTRY).
 *
 * Guest code is the static functions named guest_*: they run inside the VM
 * (see lib/guest/guest.h) and report with ucalls; the TEST()s are the VMM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

/* A value no instruction under test leaves in a register by chance. */
#define POISON		0xdeadbeefdeadbeefULL

/* Guest physical addresses with no memory: GiB 2-3 is Device in stage 1. */
#define MMIO_BASE	0x90000000ULL
/* ... and one in the Normal range (GiB 0-1 is Normal in stage 1). */
#define NORMAL_HOLE	0x30000000ULL

/* Run once: the exit must be @reason; otherwise describe what it was. */
static void run_expect_exit(struct __test_metadata *_metadata,
			    struct avcpu_vcpu *vcpu, uint32_t reason)
{
	struct ucall uc;

	vcpu_run(vcpu);
	if (vcpu->run->exit_reason != reason) {
		vcpu_dump_exit(stderr, vcpu);
		if (get_ucall(vcpu, &uc) != UCALL_NONE)
			ucall_dump(stderr, &uc);
	}
	ASSERT_EQ(reason, vcpu->run->exit_reason)
		TH_LOG("exit %s, expected %s",
		       exit_reason_str(vcpu->run->exit_reason),
		       exit_reason_str(reason));
}

/*
 * HYPERCALL
 */

#define HC_VENDOR_HYP	0xc6000001ULL	/* SMCCC fast SMC64, owner 6 */
#define HC_NON_SMCCC	0x1234ULL
#define HC_RET1		0x0123456789abcdefULL
#define HC_RET2		0xfffffffffffffffeULL
#define HC_A(n)		(0x1111111111111111ULL * (n))	/* x1 .. x6 */

/*
 * One HVC #@imm (or SMC #@imm) with x0 = @nr and x1..x6 = HC_A(1..6);
 * asserts x1..x6 come back unchanged and returns x0.
 */
#define HC_CALL(insn, nr) ({						\
	register uint64_t x0 asm("x0") = (nr);				\
	register uint64_t x1 asm("x1") = HC_A(1);			\
	register uint64_t x2 asm("x2") = HC_A(2);			\
	register uint64_t x3 asm("x3") = HC_A(3);			\
	register uint64_t x4 asm("x4") = HC_A(4);			\
	register uint64_t x5 asm("x5") = HC_A(5);			\
	register uint64_t x6 asm("x6") = HC_A(6);			\
									\
	asm volatile(insn						\
		     : "+r" (x0), "+r" (x1), "+r" (x2), "+r" (x3),	\
		       "+r" (x4), "+r" (x5), "+r" (x6) : : "memory");	\
	GUEST_ASSERT_EQ(x1, HC_A(1));					\
	GUEST_ASSERT_EQ(x2, HC_A(2));					\
	GUEST_ASSERT_EQ(x3, HC_A(3));					\
	GUEST_ASSERT_EQ(x4, HC_A(4));					\
	GUEST_ASSERT_EQ(x5, HC_A(5));					\
	GUEST_ASSERT_EQ(x6, HC_A(6));					\
	x0;								\
})

/* SMCCC's NOT_SUPPORTED, and the same function ids with junk above w0 */
#define HC_NOT_SUPPORTED	0xffffffffffffffffULL
#define HC_HIGH_JUNK		0xa5a5a5a500000000ULL
#define HC_PSCI_VERSION		0x84000000ULL

static void guest_hvc(void)
{
	GUEST_ASSERT_EQ(HC_CALL("hvc #0", HC_VENDOR_HYP), HC_RET1);
	GUEST_ASSERT_EQ(HC_CALL("hvc #0", HC_NON_SMCCC), HC_RET2);
	/* the host answers nothing: RUN's reset of ret to 0 is what we get */
	GUEST_ASSERT_EQ(HC_CALL("hvc #0", HC_VENDOR_HYP | HC_HIGH_JUNK), 0);
	/* reserved immediates: answered in the kernel, even for PSCI ids */
	GUEST_ASSERT_EQ(HC_CALL("hvc #0xabcd", HC_VENDOR_HYP), HC_NOT_SUPPORTED);
	GUEST_ASSERT_EQ(HC_CALL("hvc #0xffff", HC_PSCI_VERSION), HC_NOT_SUPPORTED);
	GUEST_ASSERT_EQ(HC_CALL("hvc #1", HC_NON_SMCCC), HC_NOT_SUPPORTED);
	/* an SMC32 function id in w0 is PSCI whatever x0's upper half */
	GUEST_ASSERT_EQ(HC_CALL("hvc #0", HC_PSCI_VERSION | HC_HIGH_JUNK), 0x10001);
	GUEST_DONE();
}

static void guest_smc(void)
{
	GUEST_ASSERT_EQ(HC_CALL("smc #0", HC_VENDOR_HYP), HC_RET1);
	/* not stepped past the SMC, the guest would make the call again */
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(HC_CALL("smc #0", HC_NON_SMCCC), HC_RET2);
	/* a reserved immediate: answered, and stepped past, in the kernel */
	GUEST_ASSERT_EQ(HC_CALL("smc #0x17", HC_VENDOR_HYP), HC_NOT_SUPPORTED);
	GUEST_ASSERT_EQ(HC_CALL("smc #0", HC_PSCI_VERSION | HC_HIGH_JUNK), 0x10001);
	GUEST_DONE();
}

static void check_hypercall(struct __test_metadata *_metadata,
			    struct avcpu_vcpu *vcpu, uint64_t nr,
			    uint32_t conduit, uint32_t imm)
{
	struct avcpu_run *run = vcpu->run;
	int i;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_HYPERCALL);
	EXPECT_EQ(nr, run->hypercall.nr);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(HC_A(i + 1), run->hypercall.args[i]) TH_LOG("args[%d]", i);
	EXPECT_EQ(conduit, run->hypercall.conduit);
	EXPECT_EQ(imm, run->hypercall.imm);
	EXPECT_EQ(0, run->ret) TH_LOG("RUN must reset ret with each exit");
}

TEST(hypercall_hvc)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_hvc);

	check_hypercall(_metadata, vcpu, HC_VENDOR_HYP, AVCPU_CONDUIT_HVC, 0);
	vcpu->run->ret = HC_RET1;
	check_hypercall(_metadata, vcpu, HC_NON_SMCCC, AVCPU_CONDUIT_HVC, 0);
	vcpu->run->ret = HC_RET2;
	/* w0 only: the upper half of x0 is not part of the function id */
	check_hypercall(_metadata, vcpu, HC_VENDOR_HYP, AVCPU_CONDUIT_HVC, 0);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST(hypercall_smc)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_smc);

	check_hypercall(_metadata, vcpu, HC_VENDOR_HYP, AVCPU_CONDUIT_SMC, 0);
	vcpu->run->ret = HC_RET1;
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	check_hypercall(_metadata, vcpu, HC_NON_SMCCC, AVCPU_CONDUIT_SMC, 0);
	vcpu->run->ret = HC_RET2;
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * MMIO_READ: each load below, in this order, at MMIO_BASE + 0x10 * index.
 * The host answers ret; the guest checks its register holds expect.
 */
struct mmio_load {
	uint32_t width, reg, reg_width, sign_ext;
	uint64_t ret, expect;
};

#define LD_RET		0x0123456789abcdefULL	/* every width's sign bit set */

static const struct mmio_load mmio_loads[] = {
	/* unsigned: cut to the width, zero-extended */
	{ 1, 5, 4, 0, LD_RET, 0xef },				/* ldrb w5 */
	{ 2, 6, 4, 0, LD_RET, 0xcdef },				/* ldrh w6 */
	{ 4, 7, 4, 0, LD_RET, 0x89abcdef },			/* ldr w7 */
	{ 8, 8, 8, 0, LD_RET, LD_RET },				/* ldr x8 */
	/* signed: sign-extended to the register, a W register's top cleared */
	{ 1, 9, 4, 1, LD_RET, 0xffffffef },			/* ldrsb w9 */
	{ 1, 10, 8, 1, LD_RET, 0xffffffffffffffefULL },		/* ldrsb x10 */
	{ 2, 11, 4, 1, LD_RET, 0xffffcdef },			/* ldrsh w11 */
	{ 2, 12, 8, 1, LD_RET, 0xffffffffffffcdefULL },		/* ldrsh x12 */
	{ 4, 13, 8, 1, LD_RET, 0xffffffff89abcdefULL },		/* ldrsw x13 */
	/* cut before extending: a positive byte above garbage */
	{ 1, 14, 8, 1, 0xffffffffffffff7fULL, 0x7f },		/* ldrsb x14 */
	{ 2, 28, 4, 0, 0xffffffffffff1234ULL, 0x1234 },		/* ldrh w28 */
	{ 2, 19, 4, 1, 0xffffffffffff7fffULL, 0x7fff },		/* ldrsh w19 */
	/* the zero register as target */
	{ 8, 31, 8, 0, LD_RET, 0 },				/* ldr xzr */
};

#define MMIO_LOAD_ADDR(i)	(MMIO_BASE + 0x10 * (i))

/* One load of @insn into register @reg ("x5"), printed as @fmt ("w"/"x"). */
#define MMIO_LOAD(insn, fmt, reg, i) ({					\
	register uint64_t __r asm(reg) = POISON;			\
									\
	asm volatile(insn " %" fmt "0, [%1]"				\
		     : "+r" (__r) : "r" (MMIO_LOAD_ADDR(i)) : "memory");	\
	__r;								\
})

#define CHECK_LOAD(insn, fmt, reg, i)					\
	__GUEST_ASSERT(MMIO_LOAD(insn, fmt, reg, i) == mmio_loads[i].expect, \
		       "load %d (%s %s): want 0x%lx", i, insn, reg,	\
		       (unsigned long)mmio_loads[i].expect)

static void guest_mmio_read(void)
{
	CHECK_LOAD("ldrb", "w", "x5", 0);
	CHECK_LOAD("ldrh", "w", "x6", 1);
	CHECK_LOAD("ldr", "w", "x7", 2);
	CHECK_LOAD("ldr", "x", "x8", 3);
	CHECK_LOAD("ldrsb", "w", "x9", 4);
	CHECK_LOAD("ldrsb", "x", "x10", 5);
	CHECK_LOAD("ldrsh", "w", "x11", 6);
	CHECK_LOAD("ldrsh", "x", "x12", 7);
	CHECK_LOAD("ldrsw", "x", "x13", 8);
	CHECK_LOAD("ldrsb", "x", "x14", 9);
	CHECK_LOAD("ldrh", "w", "x28", 10);
	CHECK_LOAD("ldrsh", "w", "x19", 11);
	asm volatile("ldr xzr, [%0]" : : "r" (MMIO_LOAD_ADDR(12)) : "memory");
	GUEST_DONE();
}

TEST(mmio_read)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_mmio_read);

	for (i = 0; i < ARRAY_SIZE(mmio_loads); i++) {
		const struct mmio_load *l = &mmio_loads[i];
		struct avcpu_run *run = vcpu->run;

		run_expect_exit(_metadata, vcpu, AVCPU_EXIT_MMIO_READ);
		EXPECT_EQ(MMIO_LOAD_ADDR(i), run->mmio.addr) TH_LOG("load %u", i);
		EXPECT_EQ(l->width, run->mmio.width) TH_LOG("load %u", i);
		EXPECT_EQ(l->reg, run->mmio.reg) TH_LOG("load %u", i);
		EXPECT_EQ(l->reg_width, run->mmio.reg_width) TH_LOG("load %u", i);
		EXPECT_EQ(l->sign_ext, run->mmio.sign_ext) TH_LOG("load %u", i);
		run->ret = l->ret;
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * MMIO_WRITE: the stored register masked to the access width.
 */
#define ST_VAL		0xa1b2c3d4e5f60718ULL
#define MMIO_STORE_ADDR(i)	(MMIO_BASE + 0x1000 + 0x10 * (i))

static const struct {
	uint32_t width;
	uint64_t data;
} mmio_stores[] = {
	{ 1, 0x18 },			/* strb w5 */
	{ 2, 0x0718 },			/* strh w6 */
	{ 4, 0xe5f60718 },		/* str w7 */
	{ 8, ST_VAL },			/* str x8 */
	{ 8, 0 },			/* str xzr */
	{ 1, 0 },			/* strb wzr */
	{ 4, 0xe5f60718 },		/* str w27 */
};

#define MMIO_STORE(insn, fmt, reg, i) do {				\
	register uint64_t __r asm(reg) = ST_VAL;			\
									\
	asm volatile(insn " %" fmt "0, [%1]"				\
		     : : "r" (__r), "r" (MMIO_STORE_ADDR(i)) : "memory");	\
} while (0)

static void guest_mmio_write(void)
{
	MMIO_STORE("strb", "w", "x5", 0);
	MMIO_STORE("strh", "w", "x6", 1);
	MMIO_STORE("str", "w", "x7", 2);
	MMIO_STORE("str", "x", "x8", 3);
	asm volatile("str xzr, [%0]" : : "r" (MMIO_STORE_ADDR(4)) : "memory");
	asm volatile("strb wzr, [%0]" : : "r" (MMIO_STORE_ADDR(5)) : "memory");
	MMIO_STORE("str", "w", "x27", 6);
	GUEST_DONE();
}

TEST(mmio_write)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_mmio_write);

	for (i = 0; i < ARRAY_SIZE(mmio_stores); i++) {
		struct avcpu_run *run = vcpu->run;

		run_expect_exit(_metadata, vcpu, AVCPU_EXIT_MMIO_WRITE);
		EXPECT_EQ(MMIO_STORE_ADDR(i), run->mmio.addr) TH_LOG("store %u", i);
		EXPECT_EQ(mmio_stores[i].width, run->mmio.width) TH_LOG("store %u", i);
		EXPECT_EQ(mmio_stores[i].data, run->mmio.data) TH_LOG("store %u", i);
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * A read-only slot: reads see the host's data, writes exit as MMIO_WRITE
 * and change nothing. The first store hits a page not yet mapped in
 * stage 2, the last one a page the guest has read (mapped read-only).
 */
#define ROM_GPA		0x20000000ULL
#define ROM_W0		0x1122334455667788ULL
#define ROM_W1		0x99aabbccddeeff00ULL
#define ROM_W2		0x0f1e2d3c4b5a6978ULL

static void guest_rom(void)
{
	volatile uint64_t *rom = (volatile uint64_t *)ROM_GPA;
	volatile uint32_t *rom32 = (volatile uint32_t *)ROM_GPA;

	rom[1] = 0xcafef00dcafef00dULL;
	GUEST_ASSERT_EQ(rom[0], ROM_W0);
	GUEST_ASSERT_EQ(rom[1], ROM_W1);
	rom32[4] = 0x600dd00d;
	GUEST_ASSERT_EQ(rom[2], ROM_W2);
	GUEST_DONE();
}

TEST(mmio_write_to_readonly_slot)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	uint64_t *hva;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	hva = vm_mem_add(vm, 0, ROM_GPA, vm->page_size, AVCPU_MEM_READONLY);
	/* before the guest's first touch pins the page */
	hva[0] = ROM_W0;
	hva[1] = ROM_W1;
	hva[2] = ROM_W2;
	vcpu = vm_vcpu_add(vm, 0, guest_rom);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_MMIO_WRITE);
	EXPECT_EQ(ROM_GPA + 8, vcpu->run->mmio.addr);
	EXPECT_EQ(8, vcpu->run->mmio.width);
	EXPECT_EQ(0xcafef00dcafef00dULL, vcpu->run->mmio.data);
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_MMIO_WRITE);
	EXPECT_EQ(ROM_GPA + 16, vcpu->run->mmio.addr);
	EXPECT_EQ(4, vcpu->run->mmio.width);
	EXPECT_EQ(0x600dd00d, vcpu->run->mmio.data);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(ROM_W0, hva[0]);
	EXPECT_EQ(ROM_W1, hva[1]);
	EXPECT_EQ(ROM_W2, hva[2]);
	vm_free(vm);
}

/*
 * SYSREG_READ / SYSREG_WRITE
 */
#define SR_ACTLR	AVCPU_SYSREG(3, 0, 1, 0, 1)
#define SR_RET1		0x5
#define SR_RET2		0xfeedface12345678ULL

static void guest_sysreg(void)
{
	register uint64_t x7 asm("x7") = POISON;
	register uint64_t x9 asm("x9") = 0x3;
	register uint64_t x21 asm("x21") = POISON;
	register uint64_t x22 asm("x22") = 0x123;

	asm volatile("mrs %0, actlr_el1" : "+r" (x7));
	GUEST_ASSERT_EQ(x7, SR_RET1);
	asm volatile("msr actlr_el1, %0" : : "r" (x9));
	asm volatile("mrs %0, actlr_el1" : "+r" (x21));
	GUEST_ASSERT_EQ(x21, SR_RET2);
	asm volatile("msr actlr_el1, %0" : : "r" (x22));
	asm volatile("msr actlr_el1, xzr");
	GUEST_DONE();
}

TEST(sysreg_read_write)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_run *run;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_sysreg);
	run = vcpu->run;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSREG_READ);
	EXPECT_EQ(SR_ACTLR, run->sysreg.encoding);
	EXPECT_EQ(7, run->sysreg.reg);
	run->ret = SR_RET1;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSREG_WRITE);
	EXPECT_EQ(SR_ACTLR, run->sysreg.encoding);
	EXPECT_EQ(9, run->sysreg.reg);
	EXPECT_EQ(0x3, run->sysreg.value);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSREG_READ);
	EXPECT_EQ(SR_ACTLR, run->sysreg.encoding);
	EXPECT_EQ(21, run->sysreg.reg);
	run->ret = SR_RET2;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSREG_WRITE);
	EXPECT_EQ(SR_ACTLR, run->sysreg.encoding);
	EXPECT_EQ(22, run->sysreg.reg);
	EXPECT_EQ(0x123, run->sysreg.value);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSREG_WRITE);
	EXPECT_EQ(SR_ACTLR, run->sysreg.encoding);
	EXPECT_EQ(31, run->sysreg.reg);
	EXPECT_EQ(0, run->sysreg.value);

	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/* With the timer passed through, the EL1 physical timer is the guest's. */
#define CNTP_CTL_ENABLE		1
#define CNTP_CTL_IMASK		2
#define CNTP_CTL_ISTATUS	4
#define FAR_FUTURE		0x00ffffffffffff00ULL

static void guest_passthrough_timer(void)
{
	write_sysreg(0, cntp_ctl_el0);
	write_sysreg(FAR_FUTURE, cntp_cval_el0);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(cntp_cval_el0), FAR_FUTURE);
	/* enabled but masked: the condition is met only once CVAL is passed */
	write_sysreg(CNTP_CTL_ENABLE | CNTP_CTL_IMASK, cntp_ctl_el0);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(cntp_ctl_el0),
			CNTP_CTL_ENABLE | CNTP_CTL_IMASK);
	write_sysreg(0, cntp_cval_el0);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(cntp_cval_el0), 0);
	GUEST_ASSERT_EQ(read_sysreg(cntp_ctl_el0),
			CNTP_CTL_ENABLE | CNTP_CTL_IMASK | CNTP_CTL_ISTATUS);
	write_sysreg(0, cntp_ctl_el0);
	isb();
	GUEST_DONE();
}

TEST(sysreg_passthrough_timer_no_exit)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	if (vm->caps.host_mode == AVCPU_HOST_MODE_NVHE) {
		/* the EL1 physical timer is the nVHE host kernel's own */
		EXPECT_EQ(-EOPNOTSUPP, __vcpu_setup(vcpu, guest_passthrough_timer,
						    AVCPU_SETUP_PASSTHROUGH_TIMER));
		vm_free(vm);
		return;
	}
	vcpu_setup(vcpu, guest_passthrough_timer, AVCPU_SETUP_PASSTHROUGH_TIMER);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);

	/* the very first exit is the ucall: no SYSREG exit on the way */
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * NESTED_PAGE_FAULT: LDP/STP and writeback forms have no syndrome.
 */
#define NPF_DEV_LDP	(MMIO_BASE + 0x2000)
#define NPF_DEV_STR	(MMIO_BASE + 0x3000)
#define NPF_VAL0	0x0102030405060708ULL
#define NPF_VAL1	0x1112131415161718ULL
#define NPF_VAL2	0x2122232425262728ULL
#define NPF_VAL3	0x3132333435363738ULL

/* ldp x2, x3, [x4] / str x9, [x10, #8]! */
#define INSN_LDP_X2_X3_X4	0xa9400c82U
#define INSN_STR_X9_X10_PRE8	0xf8008d49U

static void guest_npf_emulated(void)
{
	uint64_t a, b, base = NPF_DEV_STR;

	asm volatile("mov x4, %2\n\t"
		     "ldp x2, x3, [x4]\n\t"
		     "mov %0, x2\n\t"
		     "mov %1, x3"
		     : "=&r" (a), "=&r" (b) : "r" (NPF_DEV_LDP)
		     : "x2", "x3", "x4", "memory");
	GUEST_ASSERT_EQ(a, NPF_VAL0);
	GUEST_ASSERT_EQ(b, NPF_VAL1);

	asm volatile("mov x9, %1\n\t"
		     "mov x10, %0\n\t"
		     "str x9, [x10, #8]!\n\t"
		     "mov %0, x10"
		     : "+r" (base) : "r" (NPF_VAL2) : "x9", "x10", "memory");
	GUEST_ASSERT_EQ(base, NPF_DEV_STR + 8);
	GUEST_DONE();
}

/*
 * The VMM emulates the instructions itself with GET_REGS/SET_REGS; RUN
 * without doing so runs the instruction again.
 */
TEST(nested_page_fault_emulated_by_vmm)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	uint64_t pc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_npf_emulated);
	run = vcpu->run;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
	EXPECT_EQ(NPF_DEV_LDP, run->nested_page_fault.addr);
	EXPECT_EQ(AVCPU_ACCESS_READ, run->nested_page_fault.access);
	vcpu_get_regs(vcpu, &regs);
	pc = regs.pc;
	/* IPA == VA: the host reads the guest's code where it runs it */
	ASSERT_EQ(INSN_LDP_X2_X3_X4, *(uint32_t *)(uintptr_t)pc)
		TH_LOG("pc 0x%llx is not the LDP", (unsigned long long)pc);

	/* no completion: the same instruction faults again */
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
	EXPECT_EQ(NPF_DEV_LDP, run->nested_page_fault.addr);
	EXPECT_EQ(AVCPU_ACCESS_READ, run->nested_page_fault.access);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(pc, regs.pc);

	regs.x[2] = NPF_VAL0;
	regs.x[3] = NPF_VAL1;
	regs.pc += 4;
	vcpu_set_regs(vcpu, &regs);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
	EXPECT_EQ(NPF_DEV_STR + 8, run->nested_page_fault.addr);
	EXPECT_EQ(AVCPU_ACCESS_WRITE, run->nested_page_fault.access);
	vcpu_get_regs(vcpu, &regs);
	ASSERT_EQ(INSN_STR_X9_X10_PRE8, *(uint32_t *)(uintptr_t)regs.pc)
		TH_LOG("pc 0x%llx is not the STR", (unsigned long long)regs.pc);
	EXPECT_EQ(NPF_VAL2, regs.x[9]);
	regs.x[10] += 8;
	regs.pc += 4;
	vcpu_set_regs(vcpu, &regs);

	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

#define NPF_RAM		NORMAL_HOLE
/* the second page: beyond the first slot whatever the host's page size */
#define NPF_RAM2	(NPF_RAM + 0x20000)

static void guest_npf_ram(void)
{
	uint64_t a, b;

	asm volatile("mov x4, %2\n\t"
		     "ldp x2, x3, [x4]\n\t"
		     "mov %0, x2\n\t"
		     "mov %1, x3"
		     : "=&r" (a), "=&r" (b) : "r" (NPF_RAM)
		     : "x2", "x3", "x4", "memory");
	GUEST_ASSERT_EQ(a, NPF_VAL0);
	GUEST_ASSERT_EQ(b, NPF_VAL1);
	asm volatile("stp %0, %1, [%2]"
		     : : "r" (NPF_VAL2), "r" (NPF_VAL3),
		       "r" (NPF_RAM2) : "memory");
	GUEST_DONE();
}

/* The VMM makes the address RAM; RUN runs the instruction again. */
TEST(nested_page_fault_then_memory_added)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	uint64_t *hva;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_npf_ram);
	run = vcpu->run;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
	EXPECT_EQ(NPF_RAM, run->nested_page_fault.addr);
	EXPECT_EQ(AVCPU_ACCESS_READ, run->nested_page_fault.access);
	hva = vm_mem_add(vm, 0, NPF_RAM, vm->page_size, 0);
	hva[0] = NPF_VAL0;
	hva[1] = NPF_VAL1;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
	EXPECT_EQ(NPF_RAM2, run->nested_page_fault.addr);
	EXPECT_EQ(AVCPU_ACCESS_WRITE, run->nested_page_fault.access);
	hva = vm_mem_add(vm, 1, NPF_RAM2, vm->page_size, 0);

	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(NPF_VAL2, hva[0]);
	EXPECT_EQ(NPF_VAL3, hva[1]);
	vm_free(vm);
}

/*
 * PSCI calls that exit: CPU_ON, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET.
 */
#define PSCI_CPU_OFF		0x84000002ULL
#define PSCI_CPU_ON32		0x84000003ULL
#define PSCI_CPU_ON64		0xc4000003ULL
#define PSCI_SYSTEM_OFF		0x84000008ULL
#define PSCI_SYSTEM_RESET	0x84000009ULL
#define PSCI_RET_INVALID	((uint64_t)-2)
#define PSCI_RET_DENIED		((uint64_t)-3)
#define PSCI_RET_ALREADY_ON	((uint64_t)-4)

/* x0 = @fid, x1..x3 = @a1..@a3, @insn; returns x0 */
#define PSCI_CALL(insn, fid, a1, a2, a3) ({				\
	register uint64_t x0 asm("x0") = (fid);				\
	register uint64_t x1 asm("x1") = (a1);				\
	register uint64_t x2 asm("x2") = (a2);				\
	register uint64_t x3 asm("x3") = (a3);				\
									\
	asm volatile(insn : "+r" (x0), "+r" (x1), "+r" (x2), "+r" (x3)	\
		     : : "memory");					\
	x0;								\
})

#define CPU_ON_CONTEXT	0x00c0ffee00c0ffeeULL

static void guest_cpu_on(void)
{
	uint64_t entry = (uintptr_t)guest_entry;

	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_CPU_ON64, 1, entry,
				  CPU_ON_CONTEXT), 0);
	/* Aff3 is only expressible in the SMC64 call */
	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_CPU_ON64, 0x0100000203ULL,
				  entry, 7), PSCI_RET_ALREADY_ON);
	/* the SMC32 call uses only the low 32 bits of x1..x3 */
	GUEST_ASSERT_EQ(PSCI_CALL("smc #0", PSCI_CPU_ON32,
				  0xabcd000000000007ULL,
				  0xffffffff00000000ULL | (uint32_t)entry,
				  0x1234567800000009ULL), PSCI_RET_INVALID);
	GUEST_DONE();
}

TEST(cpu_up)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_run *run;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_cpu_on);
	run = vcpu->run;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_CPU_UP);
	EXPECT_EQ(1, run->cpu_up.target_mpidr);
	EXPECT_EQ((uintptr_t)guest_entry, run->cpu_up.entry);
	EXPECT_EQ(CPU_ON_CONTEXT, run->cpu_up.context);
	/* ret left at 0: SUCCESS */

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_CPU_UP);
	EXPECT_EQ(0x0100000203ULL, run->cpu_up.target_mpidr);
	EXPECT_EQ((uintptr_t)guest_entry, run->cpu_up.entry);
	EXPECT_EQ(7, run->cpu_up.context);
	run->ret = PSCI_RET_ALREADY_ON;

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_CPU_UP);
	EXPECT_EQ(7, run->cpu_up.target_mpidr);
	EXPECT_EQ((uint32_t)(uintptr_t)guest_entry, run->cpu_up.entry);
	EXPECT_EQ(9, run->cpu_up.context);
	run->ret = PSCI_RET_INVALID;

	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/* CPU_ON as a VMM serves it: the second vCPU starts where the call says. */
static void guest_secondary(void)
{
	GUEST_SYNC_ARGS(read_sysreg(mpidr_el1), guest_vcpu_id(), 0, 0);
}

static void guest_boot_secondary(void)
{
	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_CPU_ON64, 1,
				  (uintptr_t)guest_entry,
				  (uintptr_t)guest_secondary), 0);
	GUEST_DONE();
}

TEST(cpu_up_starts_secondary)
{
	struct avcpu_vcpu *vcpu0, *vcpu1;
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu0 = vm_vcpu_add(vm, 0, guest_boot_secondary);
	vcpu1 = vm_vcpu_create(vm, 1);
	run = vcpu0->run;

	run_expect_exit(_metadata, vcpu0, AVCPU_EXIT_CPU_UP);
	ASSERT_EQ(1, run->cpu_up.target_mpidr);
	ASSERT_EQ((uintptr_t)guest_entry, run->cpu_up.entry);
	ASSERT_EQ((uintptr_t)guest_secondary, run->cpu_up.context);
	/* the library's SETUP enters at guest_entry with x0 = the function */
	vcpu_setup(vcpu1, (void (*)(void))(uintptr_t)run->cpu_up.context, 0);
	vcpu_bind(vcpu1, AVCPU_BIND_CURRENT_CPU);

	run_expect_ucall(_metadata, vcpu1, UCALL_SYNC, &uc);
	EXPECT_EQ(0x80000001ULL, uc.args[0]) TH_LOG("the guest's MPIDR_EL1");
	EXPECT_EQ(1, uc.args[1]);
	run_expect_ucall(_metadata, vcpu0, UCALL_DONE, NULL);
	vm_free(vm);
}

static void guest_cpu_off(void)
{
	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_CPU_OFF, 0, 0, 0),
			PSCI_RET_DENIED);
	GUEST_ASSERT_EQ(PSCI_CALL("smc #0", PSCI_CPU_OFF, 0, 0, 0), 0);
	GUEST_DONE();
}

TEST(cpu_down)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_cpu_off);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_CPU_DOWN);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	/* a RUN regardless: CPU_OFF returns, with the VMM's status */
	vcpu->run->ret = PSCI_RET_DENIED;
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_CPU_DOWN);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

#define SYSDOWN_RET	0x5a5a

static void guest_system_down(void)
{
	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_SYSTEM_OFF, 0, 0, 0),
			SYSDOWN_RET);
	GUEST_ASSERT_EQ(PSCI_CALL("hvc #0", PSCI_SYSTEM_RESET, 0, 0, 0), 0);
	GUEST_ASSERT_EQ(PSCI_CALL("smc #0", PSCI_SYSTEM_OFF, 0, 0, 0), 0);
	GUEST_ASSERT_EQ(PSCI_CALL("smc #0", PSCI_SYSTEM_RESET, 0, 0, 0),
			SYSDOWN_RET);
	GUEST_DONE();
}

TEST(system_down)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_system_down);

	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSTEM_DOWN);
	EXPECT_EQ(AVCPU_SYSTEM_OFF, vcpu->run->system_down.type);
	vcpu->run->ret = SYSDOWN_RET;
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSTEM_DOWN);
	EXPECT_EQ(AVCPU_SYSTEM_RESET, vcpu->run->system_down.type);
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSTEM_DOWN);
	EXPECT_EQ(AVCPU_SYSTEM_OFF, vcpu->run->system_down.type);
	run_expect_exit(_metadata, vcpu, AVCPU_EXIT_SYSTEM_DOWN);
	EXPECT_EQ(AVCPU_SYSTEM_RESET, vcpu->run->system_down.type);
	vcpu->run->ret = SYSDOWN_RET;
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * EXTERNAL_INTERRUPT: host timer ticks (250 Hz) while the guest spins on
 * the virtual counter.
 */
static void guest_spin_ms(uint64_t ms)
{
	uint64_t end = read_sysreg(cntvct_el0) +
		       read_sysreg(cntfrq_el0) * ms / 1000;

	while (read_sysreg(cntvct_el0) < end)
		;
}

#define SPIN_MS		300

static void guest_spin_then_sync(void)
{
	guest_spin_ms(SPIN_MS);
	GUEST_SYNC(SPIN_MS);
	GUEST_DONE();
}

TEST(external_interrupt)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int exits = 0;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_spin_then_sync, AVCPU_SETUP_EXIT_ON_HOST_IRQ);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);

	/* 300 ms at 250 Hz: many ticks; each one an exit, then resumed */
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason != AVCPU_EXIT_EXTERNAL_INTERRUPT)
			break;
		exits++;
		ASSERT_EQ(0, vcpu->run->external_interrupt.vector);
		ASSERT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
		ASSERT_LT(exits, 100000) TH_LOG("the guest never gets to its ucall");
	}
	EXPECT_EQ(UCALL_SYNC, get_ucall(vcpu, &uc)) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(SPIN_MS, uc.args[0]);
	EXPECT_GE(exits, 1) TH_LOG("no EXTERNAL_INTERRUPT exit in %d ms", SPIN_MS);
	TH_LOG("%u EXTERNAL_INTERRUPT exits in %d ms", exits, SPIN_MS);
	vm_free(vm);
}

TEST(no_external_interrupt_without_flag)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_spin_then_sync);

	/* the host's ticks during those 300 ms are handled inside RUN */
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(SPIN_MS, uc.args[0]);
	vm_free(vm);
}

/*
 * FAIL_ENTRY WRONG_CPU: the owner thread moved off the bound CPU.
 */
static void guest_done(void)
{
	GUEST_DONE();
}

TEST(fail_entry_wrong_cpu)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	cpu_set_t set, online;
	int bound, other;

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(online), &online));
	if (CPU_COUNT(&online) < 2)
		SKIP(return, "needs two CPUs to move between");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_done);

	bound = sched_getcpu();
	ASSERT_GE(bound, 0);
	for (other = 0; other < CPU_SETSIZE; other++)
		if (other != bound && CPU_ISSET(other, &online))
			break;
	ASSERT_LT(other, CPU_SETSIZE);
	CPU_ZERO(&set);
	CPU_SET(other, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(other, sched_getcpu());

	vcpu->run->exit_reason = AVCPU_EXIT_NONE;
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(AVCPU_EXIT_FAIL_ENTRY, vcpu->run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(AVCPU_FAIL_ENTRY_WRONG_CPU, vcpu->run->fail_entry.reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	/* back on its CPU, the vCPU runs */
	CPU_ZERO(&set);
	CPU_SET(bound, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * RUN interrupted: immediate_exit, and signals while the guest spins.
 */
TEST(run_immediate_exit)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_done);

	vcpu->run->immediate_exit = 1;
	vcpu->run->exit_reason = AVCPU_EXIT_HYPERCALL;	/* must be overwritten */
	EXPECT_EQ(-EINTR, __vcpu_run(vcpu));
	EXPECT_EQ(AVCPU_EXIT_NONE, vcpu->run->exit_reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	/* the guest was not entered */
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ((uintptr_t)guest_entry, regs.pc);

	vcpu->run->immediate_exit = 0;
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

static volatile uint64_t stop_spinning;
static volatile sig_atomic_t signals_seen;
static volatile int run_returned;

static void guest_spin_until_told(void)
{
	while (!stop_spinning)
		;
	GUEST_SYNC(0x5109);
	GUEST_DONE();
}

static void count_signal(int sig)
{
	signals_seen++;
}

static void install_handler(struct __test_metadata *_metadata, int sig)
{
	struct sigaction sa = { .sa_handler = count_signal };

	/* no SA_RESTART: RUN must come back with EINTR */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(sig, &sa, NULL));
}

/*
 * RUN on a spinning guest, which only a signal ends. The signals repeat
 * (every 100 ms) until @stop_signals returns, so one sent before RUN
 * started does not leave RUN spinning until the harness's timeout.
 */
static void run_until_signal(struct __test_metadata *_metadata,
			     struct avcpu_vcpu *vcpu,
			     void (*stop_signals)(void))
{
	struct ucall uc;
	int ret;

	vcpu->run->exit_reason = AVCPU_EXIT_HYPERCALL;	/* must be overwritten */
	ret = __vcpu_run(vcpu);
	stop_signals();
	EXPECT_EQ(-EINTR, ret) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_GE(signals_seen, 1);
	EXPECT_EQ(AVCPU_EXIT_NONE, vcpu->run->exit_reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	/* RUN again works, and the guest goes on from where it was */
	stop_spinning = 1;
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(0x5109, uc.args[0]);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
}

static void stop_timer(void)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
}

TEST(run_interrupted_by_timer_signal)
{
	struct itimerval it = {
		.it_value = { .tv_usec = 100 * 1000 },
		.it_interval = { .tv_usec = 100 * 1000 },
	};
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	install_handler(_metadata, SIGALRM);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_spin_until_told);

	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	run_until_signal(_metadata, vcpu, stop_timer);
	vm_free(vm);
}

static pthread_t killer;

static void *kill_until_run_returns(void *arg)
{
	struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
	pthread_t target = *(pthread_t *)arg;

	do {
		nanosleep(&ts, NULL);
		pthread_kill(target, SIGUSR1);
	} while (!run_returned);
	return NULL;
}

static void stop_killer(void)
{
	run_returned = 1;
	pthread_join(killer, NULL);
}

TEST(run_interrupted_by_thread_signal)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	pthread_t self = pthread_self();

	AVCPU_REQUIRE_RUN();
	install_handler(_metadata, SIGUSR1);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_spin_until_told);

	ASSERT_EQ(0, pthread_create(&killer, NULL, kill_until_run_returns, &self));
	run_until_signal(_metadata, vcpu, stop_killer);
	vm_free(vm);
}

TEST_HARNESS_MAIN
