// SPDX-License-Identifier: GPL-2.0
/*
 * The world switch on an nVHE host, run at EL2 under avcpu's own stage-1
 * tables (kmod/nvhe.c), called from the host's HVC (hyp/nvhe/host.S).
 *
 * The host kernel runs at EL1 here, so its whole EL1 context is what the
 * guest displaces: every register of enum avcpu_sysreg_idx is saved before
 * the guest's are loaded and put back after, with the EL2 controls the
 * guest needs (HCR, VTTBR, VTCR, CPTR, MDCR, CNTHCTL, CNTVOFF, VPIDR,
 * VMPIDR).
 *
 * Rules for this file (Documentation/design.rst, "EL2 code"): it runs
 * where only avcpu's text, its EL2 blocks and mapped vCPUs exist, so no
 * call into the kernel, no absolute address (everything PC-relative, or a
 * pointer the host handed over as an EL2 address), no jump tables, no
 * instrumentation (kmod/Kbuild), no per-CPU accessors (they read
 * TPIDR_EL1, the host's or the guest's).
 */
#include <linux/bits.h>
#include <linux/irqchip/arm-gic-v3.h>
#include <asm/barrier.h>
#include <asm/kvm_arm.h>
#include <asm/sysreg.h>

#define AVCPU_EL1(r)	SYS_##r##_EL1
#define AVCPU_EL0(r)	SYS_##r##_EL0
#include "../sysreg-sr.h"
#include "../switch-sr.h"
#include "nvhe.h"

/*
 * CPTR_EL2 without E2H (Arm ARM, DDI 0487, D13.2.31): TFP clear leaves
 * FP/SIMD to the guest (its registers are loaded below); TZ and TSM trap
 * SVE and SME, which the guest is not shown; TTA traps trace registers,
 * TAM activity monitors, TCPAC the guest's CPACR_EL1 is its own (clear).
 */
#define AVCPU_CPTR_NVHE_GUEST	(CPTR_NVHE_EL2_RES1 | CPTR_EL2_TZ | \
				 CPTR_EL2_TSM | CPTR_EL2_TTA | CPTR_EL2_TAM)

/*
 * CNTHCTL_EL2 without E2H (D13.11.2): EL1PCTEN (bit 0) lets the guest read
 * the physical counter; EL1PCEN (bit 1) clear traps the EL1 physical timer,
 * which is the host kernel's own timer on an nVHE host.
 */
#define AVCPU_CNTHCTL_NVHE_EL1PCTEN	BIT(0)
#define AVCPU_CNTHCTL_NVHE_EL1PCEN	BIT(1)

static __always_inline void __avcpu_nvhe_tlbi_vmid(u64 vttbr)
{
	u64 host_vttbr = read_sysreg(vttbr_el2);

	/* TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2 (D8.13) */
	write_sysreg(vttbr, vttbr_el2);
	isb();
	dsb(ishst);
	asm volatile("tlbi vmalls12e1is" : : : "memory");
	dsb(ish);
	write_sysreg(host_vttbr, vttbr_el2);
	isb();
}

static __always_inline u64 __avcpu_nvhe_ich_vtr(void)
{
	/* ICH_* need the system register interface enabled at EL2 */
	if (!(read_sysreg_s(SYS_ICC_SRE_EL2) & ICC_SRE_EL2_SRE))
		return 0;
	return AVCPU_ICH_VTR_VALID | read_sysreg_s(SYS_ICH_VTR_EL2);
}

static u64 __avcpu_nvhe_switch(struct avcpu_vcpu *vcpu, u64 vttbr, u64 vtcr)
{
	struct avcpu_ctx *ctx = &vcpu->ctx;
	struct avcpu_host_save host;
	u64 vbar;
	int code;

	avcpu_host_save(vcpu, &host);
	host.cptr = read_sysreg(cptr_el2);
	vbar = read_sysreg(vbar_el2);

	/*
	 * The EL1 physical timer is not switched: it is the host kernel's
	 * tick, the guest cannot reach it (EL1PCEN clear, its accesses are
	 * emulated in timer.c), and it keeps firing while the guest runs,
	 * which ends the guest like any other host interrupt.
	 */
	avcpu_guest_load(vcpu, &host, vttbr, vtcr,
			 (host.cnthctl | AVCPU_CNTHCTL_NVHE_EL1PCTEN) &
			 ~AVCPU_CNTHCTL_NVHE_EL1PCEN);
	write_sysreg(AVCPU_CPTR_NVHE_GUEST, cptr_el2);
	write_sysreg(ctx->traps.hcr, hcr_el2);
	isb();

	code = __avcpu_guest_enter(ctx, vbar);

	avcpu_guest_exit(vcpu);
	write_sysreg(host.hcr, hcr_el2);
	write_sysreg(host.cptr, cptr_el2);
	isb();
	avcpu_host_restore(vcpu, &host);
	return code;
}

/* x0-x3 of the host's HVC; returns the host's x0. No switch statement: a
 * jump table would be an absolute address.
 */
u64 __avcpu_nvhe_hvc(u64 fn, u64 a1, u64 a2, u64 a3)
{
	if (fn == AVCPU_HVC_RUN)
		return __avcpu_nvhe_switch((struct avcpu_vcpu *)a1, a2, a3);
	if (fn == AVCPU_HVC_FLUSH_VMID) {
		__avcpu_nvhe_tlbi_vmid(a1);
		return 0;
	}
	if (fn == AVCPU_HVC_FLUSH_EL2) {
		/* after the host changed avcpu's EL2 tables (D8.13.5) */
		dsb(ishst);
		asm volatile("tlbi alle2is" : : : "memory");
		dsb(ish);
		isb();
		return 0;
	}
	if (fn == AVCPU_HVC_ICH_VTR)
		return __avcpu_nvhe_ich_vtr();
	if (fn == AVCPU_HVC_PING)
		return AVCPU_HVC_TAG;
	return HVC_STUB_ERR;
}
