// SPDX-License-Identifier: GPL-2.0
/*
 * The world switch on a VHE host. The kernel already runs at EL2 with
 * HCR_EL2.{E2H,TGE} = {1,1}; entering a guest means clearing TGE, giving
 * EL1 the guest's registers through their _EL12 aliases, and ERET.
 */
#include <linux/percpu.h>
#include <linux/kprobes.h>
#include <asm/barrier.h>
#include <asm/sysreg.h>

#define AVCPU_EL1(r)	SYS_##r##_EL12
#define AVCPU_EL0(r)	SYS_##r##_EL02
#include "../sysreg-sr.h"
#include "../switch-sr.h"

DEFINE_PER_CPU(struct avcpu_el2_cpu, avcpu_el2_cpu);

/*
 * CPTR_EL2 with E2H set has CPACR_EL1's layout (D13.2.30): FPEN = 0b11
 * leaves FP/SIMD to the guest (the caller loaded its registers); ZEN and
 * SMEN = 0b00 trap SVE and SME, which the guest is not shown; TTA traps
 * trace registers and TAM activity monitors.
 */
#define AVCPU_CPTR_VHE_GUEST	(CPACR_EL1_FPEN_EL0EN | CPACR_EL1_FPEN_EL1EN | \
				 CPACR_EL1_TTA | CPTR_EL2_TAM)

/*
 * The PSTATE fields as MRS/MSR name them (Arm ARM, DDI 0487, C5.2 "Special
 * purpose registers"), by encoding, which every assembler takes.
 */
#define AVCPU_SYS_PAN	sys_reg(3, 0, 4, 2, 3)
#define AVCPU_SYS_UAO	sys_reg(3, 0, 4, 2, 4)
#define AVCPU_SYS_DIT	sys_reg(3, 3, 4, 2, 5)
#define AVCPU_SYS_SSBS	sys_reg(3, 3, 4, 2, 6)
#define AVCPU_SYS_TCO	sys_reg(3, 3, 4, 2, 7)

struct avcpu_pstate {
	u64 pan, uao, dit, ssbs, tco;
};

/* The host kernel's PSTATE fields, before the guest... */
static __always_inline void avcpu_pstate_save(u64 f, struct avcpu_pstate *p)
{
	if (f & AVCPU_FEAT_PAN)
		p->pan = read_sysreg_s(AVCPU_SYS_PAN);
	if (f & AVCPU_FEAT_UAO)
		p->uao = read_sysreg_s(AVCPU_SYS_UAO);
	if (f & AVCPU_FEAT_DIT)
		p->dit = read_sysreg_s(AVCPU_SYS_DIT);
	if (f & AVCPU_FEAT_SSBS)
		p->ssbs = read_sysreg_s(AVCPU_SYS_SSBS);
	if (f & AVCPU_FEAT_TCO)
		p->tco = read_sysreg_s(AVCPU_SYS_TCO);
}

/* ... and after the exception that ended it */
static __always_inline void avcpu_pstate_restore(u64 f,
						 const struct avcpu_pstate *p)
{
	if (f & AVCPU_FEAT_PAN)
		write_sysreg_s(p->pan, AVCPU_SYS_PAN);
	if (f & AVCPU_FEAT_UAO)
		write_sysreg_s(p->uao, AVCPU_SYS_UAO);
	if (f & AVCPU_FEAT_DIT)
		write_sysreg_s(p->dit, AVCPU_SYS_DIT);
	if (f & AVCPU_FEAT_SSBS)
		write_sysreg_s(p->ssbs, AVCPU_SYS_SSBS);
	if (f & AVCPU_FEAT_TCO)
		write_sysreg_s(p->tco, AVCPU_SYS_TCO);
}

/* Called with IRQs masked and the FP unit owned; returns AVCPU_EXC_*. */
int avcpu_vhe_run(struct avcpu_vcpu *vcpu)
{
	bool ptimer = vcpu->flags & AVCPU_SETUP_PASSTHROUGH_TIMER;
	struct avcpu_ctx *ctx = &vcpu->ctx;
	u64 features = ctx->traps.features;
	struct avcpu_host_save host;
	struct avcpu_pstate pstate;
	u64 cnthctl, vbar, daif;
	int code;

	/*
	 * The exception that ends the guest masks all of DAIF: restore it.
	 * Debug exceptions stay masked (PSTATE.D) from here: the guest's
	 * MDSCR_EL1 is loaded while HCR_EL2.TGE still makes EL2 the debug
	 * target, and with its KDE and SS it would step or break the host
	 * (Arm ARM, DDI 0487, D2.1 "Enabling debug exceptions").
	 */
	daif = read_sysreg(daif);
	asm volatile("msr daifset, #8" : : : "memory");
	avcpu_pstate_save(features, &pstate);

	avcpu_host_save(vcpu, &host);
	host.cptr = read_sysreg(cpacr_el1);
	vbar = read_sysreg(vbar_el2);
	this_cpu_write(avcpu_el2_cpu.host_vbar, vbar);
	this_cpu_write(avcpu_el2_cpu.serror_seen, 0);

	cnthctl = host.cnthctl | AVCPU_CNTHCTL_EL1PCTEN;
	if (ptimer) {
		cnthctl |= AVCPU_CNTHCTL_EL1PTEN;
		avcpu_ptimer_save(&host.cntp_ctl, &host.cntp_cval);
		avcpu_ptimer_load(ctx->sys[AVCPU_CNTP_CTL_EL0],
				  ctx->sys[AVCPU_CNTP_CVAL_EL0]);
	} else {
		cnthctl &= ~AVCPU_CNTHCTL_EL1PTEN;
	}
	avcpu_guest_load(vcpu, &host, vcpu->vm->vttbr, vcpu->vm->vtcr, cnthctl);
	write_sysreg(AVCPU_CPTR_VHE_GUEST, cpacr_el1);
	write_sysreg(ctx->traps.hcr | HCR_E2H, hcr_el2);
	isb();
	/*
	 * Beside KVM all VMs share VMID 0: drop what another VM's tables left
	 * in this CPU's TLB. TLBI VMALLS12E1 acts on the VMID just loaded,
	 * with TGE clear (D8.13); local, since each CPU checks for itself.
	 */
	if (avcpu_host.with_kvm &&
	    this_cpu_read(avcpu_el2_cpu.s2_gen) != vcpu->vm->s2_gen) {
		asm volatile("tlbi vmalls12e1" : : : "memory");
		dsb(nsh);
		isb();
		this_cpu_write(avcpu_el2_cpu.s2_gen, vcpu->vm->s2_gen);
	}

	code = __avcpu_guest_enter(ctx, vbar);

	avcpu_guest_exit(vcpu);
	if (ptimer) {
		avcpu_ptimer_save(&ctx->sys[AVCPU_CNTP_CTL_EL0],
				  &ctx->sys[AVCPU_CNTP_CVAL_EL0]);
		avcpu_ptimer_load(host.cntp_ctl, host.cntp_cval);
	}
	write_sysreg(host.hcr, hcr_el2);
	write_sysreg(host.cptr, cpacr_el1);
	isb();
	avcpu_host_restore(vcpu, &host);

	avcpu_pstate_restore(features, &pstate);
	write_sysreg(daif, daif);

	if (code != AVCPU_EXC_EL2 && this_cpu_read(avcpu_el2_cpu.serror_seen))
		code = AVCPU_EXC_SERROR;
	return code;
}

NOKPROBE_SYMBOL(avcpu_vhe_run);

/*
 * Invalidate every stage-1 and stage-2 TLB entry of a VMID on all CPUs.
 * TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2 and on the EL1&0 regime,
 * so TGE is cleared for the duration (with E2H and TGE set, EL1&0 TLB
 * maintenance targets the EL2&0 regime; Arm ARM, DDI 0487, D8.13).
 */
void avcpu_vhe_flush_vmid(struct avcpu_vm *vm)
{
	unsigned long flags;
	u64 hcr, vttbr;

	local_irq_save(flags);
	hcr = read_sysreg(hcr_el2);
	vttbr = read_sysreg(vttbr_el2);
	write_sysreg(vm->vttbr, vttbr_el2);
	write_sysreg(hcr & ~HCR_TGE, hcr_el2);
	isb();
	dsb(ishst);
	asm volatile("tlbi vmalls12e1is" : : : "memory");
	dsb(ish);
	isb();
	write_sysreg(hcr, hcr_el2);
	write_sysreg(vttbr, vttbr_el2);
	isb();
	local_irq_restore(flags);
}

NOKPROBE_SYMBOL(avcpu_vhe_flush_vmid);
