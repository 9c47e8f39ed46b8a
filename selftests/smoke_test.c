// SPDX-License-Identifier: GPL-2.0
/*
 * The guest runtime and the VM library end to end: a guest function in this
 * file runs, exchanges values with the host through shared globals and
 * ucalls, and its exceptions reach its own vectors.
 */
#define _GNU_SOURCE
#include <string.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define HOST_MAGIC	0x686f737400c0ffeeULL
#define GUEST_MAGIC	0x6775657374beefULL

/* The guest sees these pages: the image is mapped at IPA == VA. */
static volatile uint64_t host_to_guest;
static volatile uint64_t guest_to_host;

static void guest_shared_globals(void)
{
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(host_to_guest, HOST_MAGIC);
	guest_to_host = GUEST_MAGIC;
	GUEST_SYNC_ARGS(guest_vcpu_id(), 2, 3, 4);
	GUEST_DONE();
}

TEST(shared_globals)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	host_to_guest = 0;
	guest_to_host = 0;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 3, guest_shared_globals);

	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	host_to_guest = HOST_MAGIC;

	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(GUEST_MAGIC, guest_to_host);
	EXPECT_EQ(3, uc.args[0]);	/* guest_vcpu_id() */
	EXPECT_EQ(2, uc.args[1]);
	EXPECT_EQ(3, uc.args[2]);
	EXPECT_EQ(4, uc.args[3]);

	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	/* Returning from the function is GUEST_DONE too, for good. */
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

static void guest_assert_fails(void)
{
	uint64_t one = host_to_guest;

	GUEST_ASSERT_EQ(one, 2);
	GUEST_DONE();
}

/* A failed GUEST_ASSERT_EQ reaches the host with where, what and the values. */
TEST(guest_assert)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	host_to_guest = 1;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_assert_fails);

	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_ASSERT, get_ucall(vcpu, &uc)) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_NE(NULL, strstr(uc.buf, "smoke_test.c:")) TH_LOG("%s", uc.buf);
	EXPECT_NE(NULL, strstr(uc.buf, "one == 2")) TH_LOG("%s", uc.buf);
	EXPECT_NE(NULL, strstr(uc.buf, "0x1 != 0x2")) TH_LOG("%s", uc.buf);
	/* It does not return: it asserts again. */
	vcpu_run(vcpu);
	EXPECT_EQ(UCALL_ASSERT, get_ucall(vcpu, NULL));
	vm_free(vm);
}

/* The guest's own vector table, with no handler installed. */
extern char smoke_brk_insn[];

static void guest_brk(void)
{
	asm volatile(".globl smoke_brk_insn\n"
		     "smoke_brk_insn: brk #0x5a");
	GUEST_DONE();
}

TEST(unhandled_exception)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t esr;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_brk);

	vcpu_expect_ucall(vcpu, UCALL_UNHANDLED, &uc);
	esr = uc.args[UCALL_UNHANDLED_ESR];
	EXPECT_EQ(VECTOR_SYNC_CURRENT, uc.args[UCALL_UNHANDLED_VECTOR]);
	EXPECT_EQ(ESR_EC_BRK64, ESR_EC(esr)) TH_LOG("ESR 0x%llx",
						    (unsigned long long)esr);
	EXPECT_EQ(0x5a, esr & 0xffff);	/* the BRK immediate */
	EXPECT_EQ((uintptr_t)smoke_brk_insn, uc.args[UCALL_UNHANDLED_ELR]);
	/* Stuck there: reported again on every RUN. */
	vcpu_expect_ucall(vcpu, UCALL_UNHANDLED, &uc);
	EXPECT_EQ((uintptr_t)smoke_brk_insn, uc.args[UCALL_UNHANDLED_ELR]);
	vm_free(vm);
}

/* A handler that skips the BRK and edits the interrupted registers */
static volatile uint64_t brk_esr;

static void brk_handler(struct ex_regs *regs)
{
	brk_esr = regs->esr;
	regs->regs[0] = regs->regs[0] * 2;
	regs->pc += 4;
}

static void guest_brk_handled(void)
{
	double d = (double)host_to_guest;
	uint64_t x0;

	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_BRK64, brk_handler);
	/* x0 in, x0 out: the handler's change must survive the ERET. */
	asm volatile("mov x0, #21\n"
		     "brk #7\n"
		     "mov %0, x0"
		     : "=r" (x0) : : "x0", "memory");
	GUEST_ASSERT_EQ(x0, 42);
	GUEST_ASSERT_EQ(ESR_EC(brk_esr), ESR_EC_BRK64);
	/* FP/SIMD is on, and the exception left it alone */
	GUEST_ASSERT_EQ((uint64_t)(d * 1.5), 3);
	GUEST_DONE();
}

TEST(handled_exception)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	host_to_guest = 2;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_brk_handled);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(0x3c, brk_esr >> 26);
	EXPECT_EQ(7, brk_esr & 0xffff);
	vm_free(vm);
}

TEST_HARNESS_MAIN
