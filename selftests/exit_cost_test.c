// SPDX-License-Identifier: GPL-2.0
/*
 * What an exit costs, in guest counter ticks per round trip (the fastest
 * of many), for the three paths a guest can take out of itself:
 *   in-kernel: an HVC the module answers (PSCI_VERSION), never leaving RUN;
 *   hypercall: an HVC that RUN returns to this process and it answers;
 *   mmio:      a store outside RAM, an MMIO_WRITE exit.
 * Run under QEMU's "-icount shift=0" one tick of the 62.5 MHz counter is 16
 * instructions executed by the emulated machine, which makes the figures
 * deterministic (Documentation/testing.rst, "Time"). The test checks only
 * the ordering that must hold on any host: answering in the kernel is
 * cheaper than a return to userspace.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define CALLS		200
#define PSCI_VERSION	0x84000000UL
#define VMM_CALL	0x1234UL		/* not SMCCC: a HYPERCALL exit */
#define MMIO_ADDR	0x90000000UL		/* Device, no memory */

static uint64_t guest_hvc(uint64_t nr)
{
	register uint64_t x0 asm("x0") = nr;

	asm volatile("hvc #0" : "+r" (x0) : : "x1", "x2", "x3", "memory");
	return x0;
}

/* Counter ticks one call takes, barriers included. */
static uint64_t ticks(void (*call)(uint64_t), uint64_t arg)
{
	uint64_t t0, t1;

	isb();
	t0 = read_sysreg(cntvct_el0);
	call(arg);
	isb();
	t1 = read_sysreg(cntvct_el0);
	return t1 - t0;
}

static void do_hvc(uint64_t nr)
{
	guest_hvc(nr);
}

static void do_mmio(uint64_t val)
{
	*(volatile uint64_t *)MMIO_ADDR = val;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The three paths interleaved, and the fastest of CALLS samples of each:
 * a host that preempts QEMU or a first translation of the code only ever
 * makes a sample slower, so the minimum is the cost itself.
 */
static void guest_code(void)
{
	uint64_t kernel = ~0ULL, user = ~0ULL, store = ~0ULL;
	int i;

	for (i = 0; i < CALLS; i++) {
		kernel = min_u64(kernel, ticks(do_hvc, PSCI_VERSION));
		user = min_u64(user, ticks(do_hvc, VMM_CALL));
		store = min_u64(store, ticks(do_mmio, i));
	}
	GUEST_SYNC_ARGS(kernel, user, store, 0);
	GUEST_DONE();
}

TEST(exit_paths)
{
	uint64_t hvc = 0, mmio = 0, kernel, user, store;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	for (;;) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, &uc) != UCALL_NONE)
			break;
		if (vcpu->run->exit_reason == AVCPU_EXIT_HYPERCALL) {
			ASSERT_EQ(VMM_CALL, vcpu->run->hypercall.nr);
			hvc++;
		} else {
			ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
			ASSERT_EQ(MMIO_ADDR, vcpu->run->mmio.addr);
			mmio++;
		}
	}
	ASSERT_EQ(UCALL_SYNC, uc.cmd) TH_LOG("%s", uc.buf);
	EXPECT_EQ(CALLS, hvc);
	EXPECT_EQ(CALLS, mmio);
	kernel = uc.args[0];
	user = uc.args[1];
	store = uc.args[2];
	ksft_print_msg("counter ticks per round trip (fastest of %d): in-kernel %lu, hypercall exit %lu, mmio exit %lu\n",
		       CALLS, kernel, user, store);
	EXPECT_LT(kernel, user);
	EXPECT_LT(kernel, store);
	vm_free(vm);
}

TEST_HARNESS_MAIN
