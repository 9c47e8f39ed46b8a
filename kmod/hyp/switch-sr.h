/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The steps of a world switch that both host modes take, in the order they
 * take them; a mode file adds how it reaches EL2, its CPTR_EL2 and HCR_EL2
 * values, and what only it switches (the VHE passthrough timer). Include
 * after sysreg-sr.h, which needs the mode's AVCPU_EL1().
 *
 * Everything here is __always_inline and calls only hyp/entry.S: the nVHE
 * switch runs at EL2 where no kernel function is mapped.
 */
#ifndef __AVCPU_HYP_SWITCH_SR_H__
#define __AVCPU_HYP_SWITCH_SR_H__

#include <asm/kvm_arm.h>
#include <asm/sysreg.h>

#include "switch.h"
#include "debug-sr.h"
#include "vgic-sr.h"

/* Encodings the 6.1 headers lack (Arm ARM, DDI 0487, D24.2 and D24.12) */
#ifndef SYS_HFGRTR2_EL2
#define SYS_HDFGRTR2_EL2	sys_reg(3, 4, 3, 1, 0)
#define SYS_HDFGWTR2_EL2	sys_reg(3, 4, 3, 1, 1)
#define SYS_HFGRTR2_EL2		sys_reg(3, 4, 3, 1, 2)
#define SYS_HFGWTR2_EL2		sys_reg(3, 4, 3, 1, 3)
#define SYS_HFGITR2_EL2		sys_reg(3, 4, 3, 1, 7)
#endif
#ifndef SYS_MPAM2_EL2
#define SYS_MPAM2_EL2		sys_reg(3, 4, 10, 5, 0)
#endif

/*
 * The trap controls beyond HCR_EL2 that the CPU has (design.rst, "System
 * register inventory"): the guest's at entry, the host's back at exit.
 */
static __always_inline void avcpu_traps_save(const struct avcpu_traps *t,
					     struct avcpu_host_save *h)
{
	if (t->features & AVCPU_FEAT_HCX)
		h->hcrx = read_sysreg_s(SYS_HCRX_EL2);
	if (t->features & AVCPU_FEAT_FGT) {
		h->fgt[AVCPU_HFGRTR] = read_sysreg_s(SYS_HFGRTR_EL2);
		h->fgt[AVCPU_HFGWTR] = read_sysreg_s(SYS_HFGWTR_EL2);
		h->fgt[AVCPU_HFGITR] = read_sysreg_s(SYS_HFGITR_EL2);
		h->fgt[AVCPU_HDFGRTR] = read_sysreg_s(SYS_HDFGRTR_EL2);
		h->fgt[AVCPU_HDFGWTR] = read_sysreg_s(SYS_HDFGWTR_EL2);
	}
	if (t->features & AVCPU_FEAT_FGT2) {
		h->fgt[AVCPU_HFGRTR2] = read_sysreg_s(SYS_HFGRTR2_EL2);
		h->fgt[AVCPU_HFGWTR2] = read_sysreg_s(SYS_HFGWTR2_EL2);
		h->fgt[AVCPU_HFGITR2] = read_sysreg_s(SYS_HFGITR2_EL2);
		h->fgt[AVCPU_HDFGRTR2] = read_sysreg_s(SYS_HDFGRTR2_EL2);
		h->fgt[AVCPU_HDFGWTR2] = read_sysreg_s(SYS_HDFGWTR2_EL2);
	}
	if (t->features & AVCPU_FEAT_MPAM)
		h->mpam2 = read_sysreg_s(SYS_MPAM2_EL2);
}

static __always_inline void avcpu_traps_load(u64 features, u64 hcrx,
					     const u64 *fgt, u64 mpam2)
{
	if (features & AVCPU_FEAT_HCX)
		write_sysreg_s(hcrx, SYS_HCRX_EL2);
	if (features & AVCPU_FEAT_FGT) {
		write_sysreg_s(fgt[AVCPU_HFGRTR], SYS_HFGRTR_EL2);
		write_sysreg_s(fgt[AVCPU_HFGWTR], SYS_HFGWTR_EL2);
		write_sysreg_s(fgt[AVCPU_HFGITR], SYS_HFGITR_EL2);
		write_sysreg_s(fgt[AVCPU_HDFGRTR], SYS_HDFGRTR_EL2);
		write_sysreg_s(fgt[AVCPU_HDFGWTR], SYS_HDFGWTR_EL2);
	}
	if (features & AVCPU_FEAT_FGT2) {
		write_sysreg_s(fgt[AVCPU_HFGRTR2], SYS_HFGRTR2_EL2);
		write_sysreg_s(fgt[AVCPU_HFGWTR2], SYS_HFGWTR2_EL2);
		write_sysreg_s(fgt[AVCPU_HFGITR2], SYS_HFGITR2_EL2);
		write_sysreg_s(fgt[AVCPU_HDFGRTR2], SYS_HDFGRTR2_EL2);
		write_sysreg_s(fgt[AVCPU_HDFGWTR2], SYS_HDFGWTR2_EL2);
	}
	if (features & AVCPU_FEAT_MPAM)
		write_sysreg_s(mpam2, SYS_MPAM2_EL2);
}

/* The host's EL2 controls a guest changes (but CPTR_EL2), its EL1 registers. */
static __always_inline void avcpu_host_save(struct avcpu_vcpu *vcpu,
					    struct avcpu_host_save *h)
{
	const struct avcpu_traps *t = &vcpu->ctx.traps;

	h->hcr = read_sysreg(hcr_el2);
	h->vttbr = read_sysreg(vttbr_el2);
	h->vtcr = read_sysreg(vtcr_el2);
	h->mdcr = read_sysreg(mdcr_el2);
	h->cnthctl = read_sysreg(cnthctl_el2);
	h->cntvoff = read_sysreg(cntvoff_el2);
	h->vpidr = read_sysreg(vpidr_el2);
	h->vmpidr = read_sysreg(vmpidr_el2);
	avcpu_traps_save(t, h);
	avcpu_sysregs_save(h->sys, t->features);
	h->mdscr = read_sysreg(mdscr_el1);
	if (vcpu->ctx.debug.active)
		avcpu_debug_save(t, &h->dbg);
}

/*
 * The guest's registers, stage 2, counter offset, GIC virtual CPU
 * interface, identity and traps; the mode writes CPTR_EL2 and HCR_EL2 last.
 */
static __always_inline void avcpu_guest_load(struct avcpu_vcpu *vcpu,
					     const struct avcpu_host_save *h,
					     u64 vttbr, u64 vtcr, u64 cnthctl)
{
	struct avcpu_ctx *ctx = &vcpu->ctx;
	const struct avcpu_traps *t = &ctx->traps;

	avcpu_sysregs_load(ctx->sys, t->features);
	__avcpu_fpsimd_load(&ctx->fp);
	write_sysreg(vttbr, vttbr_el2);
	write_sysreg(vtcr, vtcr_el2);
	write_sysreg(ctx->cntvoff, cntvoff_el2);
	if (ctx->vgic.nr_lrs)
		avcpu_vgic_restore(&ctx->vgic);
	write_sysreg(read_cpuid_id(), vpidr_el2);
	write_sysreg(vcpu->mpidr, vmpidr_el2);
	write_sysreg(cnthctl, cnthctl_el2);
	write_sysreg((h->mdcr & MDCR_EL2_HPMN_MASK) | AVCPU_MDCR_GUEST_TRAPS,
		     mdcr_el2);
	avcpu_traps_load(t->features, t->hcrx, t->fgt, t->mpam2);
	if (ctx->debug.active)
		avcpu_debug_load(t, &ctx->debug.regs, true);
	write_sysreg(avcpu_guest_mdscr(ctx), mdscr_el1);
	write_sysreg(ctx->pc, elr_el2);
	write_sysreg(ctx->pstate, spsr_el2);
}

/* Right after the exit: the GIC interface and the exit's syndrome. */
static __always_inline void avcpu_guest_exit(struct avcpu_vcpu *vcpu)
{
	struct avcpu_ctx *ctx = &vcpu->ctx;

	if (ctx->vgic.nr_lrs)
		avcpu_vgic_save(&ctx->vgic);
	vcpu->exit.esr = ctx->esr;
	vcpu->exit.far = ctx->far;
	vcpu->exit.hpfar = ctx->hpfar;
}

/*
 * Once the mode has put back the host's HCR_EL2 and CPTR_EL2 (FP usable
 * again): the guest's registers out, the host's back in.
 */
static __always_inline void avcpu_host_restore(struct avcpu_vcpu *vcpu,
					       const struct avcpu_host_save *h)
{
	struct avcpu_ctx *ctx = &vcpu->ctx;
	u64 features = ctx->traps.features;

	avcpu_sysregs_save(ctx->sys, features);
	__avcpu_fpsimd_save(&ctx->fp);
	avcpu_sysregs_load(h->sys, features);
	avcpu_traps_load(features, h->hcrx, h->fgt, h->mpam2);
	if (ctx->debug.active)
		avcpu_debug_load(&ctx->traps, &h->dbg, false);
	write_sysreg(h->mdscr, mdscr_el1);
	write_sysreg(h->vttbr, vttbr_el2);
	write_sysreg(h->vtcr, vtcr_el2);
	write_sysreg(h->mdcr, mdcr_el2);
	write_sysreg(h->cnthctl, cnthctl_el2);
	write_sysreg(h->cntvoff, cntvoff_el2);
	write_sysreg(h->vpidr, vpidr_el2);
	write_sysreg(h->vmpidr, vmpidr_el2);
	isb();
}

#endif
