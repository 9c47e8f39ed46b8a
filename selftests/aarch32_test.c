// SPDX-License-Identifier: GPL-2.0
/*
 * A guest at AArch32 EL0. avcpu's guests are told EL0 is AArch64 only, but
 * nothing stops a guest's EL1 from returning to AArch32 EL0 on a CPU that
 * has it, so what traps from there must be handled as the architecture
 * says (design.rst, "AArch32 at EL0"): a trapped 16-bit T32 instruction
 * (ESR_EL2.IL clear) is stepped by 2, and an exception the module injects
 * arrives at the "lower EL, AArch32" vector with IL as the instruction's.
 *
 * The T32 code runs from the test image (EL0 may execute it: the guest's
 * stage 1 leaves UXN clear) and ends each run with an SVC, taken at the
 * guest's EL1, where the handler resumes the test's EL1 code.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/personality.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"
#include "guest/gic.h"

#define ESR_EC_SVC32		0x11
#define ESR_IL			(1ULL << 25)
#define VEC_OFFSET_LOWER32	0x600

/*
 * SPSR for AArch32 User mode (M[4:0] 0b10000), T32 (T, bit 5), with A, I
 * and F masked: the guest takes no interrupt at EL0.
 */
#define SPSR_A32_USR_T32	(0x10 | 0x20 | 0x1c0)
/* EL1h, DAIF masked: where the SVC handler returns to */
#define PSTATE_EL1H_MASKED	0x3c5
/* SCTLR_EL1.nTWI (16), nTWE (18): EL0's WFI/WFE do not trap to EL1 */
#define SCTLR_NTWI_NTWE		((1UL << 16) | (1UL << 18))

/*
 * T32, 16-bit encodings (Arm ARM, DDI 0487, F3). The WFI traps
 * (HCR_EL2.TWI; QEMU does not trap WFE, nor a WFI with an interrupt
 * pending): the guest's virtual timer, armed 50 ms ahead (more on a slow
 * host),
 * wakes the vCPU avcpu put to sleep, and avcpu steps the WFI. Stepped by
 * 2 it reaches svc #0, by 4 svc #1.
 *   0  wfi
 *   2  svc #0
 *   4  svc #1
 *   6  b .
 * A WFI in an IT block is not tested: QEMU 10.0 saves the IT state of the
 * next instruction with the trapped WFI's own PC (design.rst, "AArch32 at
 * EL0").
 */
asm(".pushsection .text\n"
    ".balign 4\n"
    ".global t32_step\n"
    "t32_step:\n"
    "	.hword 0xbf30, 0xdf00, 0xdf01, 0xe7fe\n"
    ".popsection");
extern const char t32_step[];

/*
 * The EL1 physical timer from AArch32 EL0: mrc p15, 0, r1, c14, c2, 1
 * (CNTP_CTL), a 32-bit T32 instruction. With the guest's CNTKCTL_EL1.EL0PTEN
 * set it traps to EL2 (CNTHCTL_EL2), where avcpu, which emulates this
 * timer for AArch64 only, answers UNDEF; then svc #3.
 */
asm(".pushsection .text\n"
    ".balign 4\n"
    ".global t32_cntp\n"
    "t32_cntp:\n"
    "	.hword 0xee1e, 0x1f32\n"
    "	.hword 0xdf03\n"
    "	.hword 0xe7fe\n"
    ".popsection");
extern const char t32_cntp[];
#define CNTKCTL_EL0PTEN		(1UL << 9)

static volatile uint64_t svc_esr, svc_elr, svc_count;

static void guest_a32_back(void)
{
	GUEST_SYNC_ARGS(svc_esr, svc_elr, svc_count, 0);
	GUEST_DONE();
}

static void a32_svc(struct ex_regs *regs)
{
	svc_count++;
	svc_esr = regs->esr;
	svc_elr = regs->pc;
	regs->pc = (uint64_t)guest_a32_back;
	regs->pstate = PSTATE_EL1H_MASKED;
}

static void guest_to_a32_el0(const char *code)
{
	guest_install_handler(VECTOR_SYNC_LOWER_32, ESR_EC_SVC32, a32_svc);
	guest_install_handler(VECTOR_SYNC_LOWER_32, ESR_EC_UNKNOWN, a32_svc);
	write_sysreg(read_sysreg(sctlr_el1) | SCTLR_NTWI_NTWE, sctlr_el1);
	write_sysreg(read_sysreg(cntkctl_el1) | CNTKCTL_EL0PTEN, cntkctl_el1);
	write_sysreg((uint64_t)code, elr_el1);
	write_sysreg(SPSR_A32_USR_T32, spsr_el1);
	isb();
	asm volatile("eret" : : : "memory");
}

/* The virtual timer, to fire @us microseconds from now */
static void guest_timer_in(uint64_t us)
{
	uint64_t now = read_sysreg(cntvct_el0);

	gic_cpu_init();
	write_sysreg(now + read_sysreg(cntfrq_el0) * us / 1000000, cntv_cval_el0);
	write_sysreg(1, cntv_ctl_el0);
	isb();
}

/* The timer's distance, set by the host: long enough to be in the WFI */
static volatile uint64_t wfi_timer_us;

static void guest_a32_step(void)
{
	guest_timer_in(wfi_timer_us);
	guest_to_a32_el0(t32_step);
}

static void guest_a32_cntp(void)
{
	guest_to_a32_el0(t32_cntp);
}

/*
 * Does this CPU run AArch32 at EL0? The kernel accepts the PER_LINUX32
 * personality only where it does (and with CONFIG_COMPAT).
 */
static bool host_has_aarch32_el0(void)
{
	int old = personality(0xffffffff);

	if (personality(PER_LINUX32) < 0)
		return false;
	personality(old);
	return true;
}

TEST(t32_wfi_stepped_by_two)
{
	struct avcpu_stats st;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_IRQ();
	if (!host_has_aarch32_el0())
		SKIP(return, "the CPU has no AArch32 at EL0");
	wfi_timer_us = 50000 * avcpu_host_slowdown();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_a32_step);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, ioctl(vcpu->fd, AVCPU_GET_STATS, &st));
	if (!st.wfi_sleeps) {
		vm_free(vm);
		SKIP(return, "the AArch32 WFI did not trap: the CPU ran it as a NOP (QEMU does with an interrupt pending)");
	}
	EXPECT_EQ(1, uc.args[2]) TH_LOG("SVCs taken");
	EXPECT_EQ(ESR_EC_SVC32, ESR_EC(uc.args[0]));
	EXPECT_EQ(0, uc.args[0] & ESR_IL);
	EXPECT_EQ(0, uc.args[0] & 0xffff)
		TH_LOG("SVC #%llu: the trapped 16-bit WFI was stepped by 4",
		       (unsigned long long)(uc.args[0] & 0xffff));
	/* preferred return: the instruction after SVC #0 */
	EXPECT_EQ((uint64_t)t32_step + 4, uc.args[1]);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST(t32_undef_injected)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	if (!host_has_aarch32_el0())
		SKIP(return, "the CPU has no AArch32 at EL0");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_a32_cntp);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	/* the first exception the guest took: avcpu's UNDEF, at the MRC */
	EXPECT_EQ(1, uc.args[2]);
	EXPECT_EQ(ESR_EC_UNKNOWN, ESR_EC(uc.args[0]));
	EXPECT_EQ(ESR_IL, uc.args[0] & ESR_IL) TH_LOG("a 32-bit T32 instruction");
	EXPECT_EQ((uint64_t)t32_cntp, uc.args[1]);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST_HARNESS_MAIN
