// SPDX-License-Identifier: GPL-2.0
/*
 * What an exit costs, in guest counter ticks per round trip, for the three
 * paths a guest can take out of itself:
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

static void guest_code(void)
{
	uint64_t t0, t1, t2, t3;
	int i;

	isb();
	t0 = read_sysreg(cntvct_el0);
	for (i = 0; i < CALLS; i++)
		guest_hvc(PSCI_VERSION);
	isb();
	t1 = read_sysreg(cntvct_el0);
	for (i = 0; i < CALLS; i++)
		guest_hvc(VMM_CALL);
	isb();
	t2 = read_sysreg(cntvct_el0);
	for (i = 0; i < CALLS; i++)
		*(volatile uint64_t *)MMIO_ADDR = i;
	isb();
	t3 = read_sysreg(cntvct_el0);
	GUEST_SYNC_ARGS(t1 - t0, t2 - t1, t3 - t2, 0);
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
	ksft_print_msg("counter ticks per round trip: in-kernel %lu.%02lu, hypercall exit %lu.%02lu, mmio exit %lu.%02lu\n",
		       kernel / CALLS, kernel * 100 / CALLS % 100,
		       user / CALLS, user * 100 / CALLS % 100,
		       store / CALLS, store * 100 / CALLS % 100);
	EXPECT_LT(kernel, user);
	EXPECT_LT(kernel, store);
	vm_free(vm);
}

TEST_HARNESS_MAIN
