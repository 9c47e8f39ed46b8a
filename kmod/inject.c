// SPDX-License-Identifier: GPL-2.0
/*
 * Synchronous exceptions injected into the guest, taken at its EL1 as the
 * hardware would take them (Arm ARM, DDI 0487, D1.10 "Exception entry"):
 * ELR_EL1 and SPSR_EL1 get the interrupted PC and PSTATE, ESR_EL1 (and
 * FAR_EL1 for an abort) the syndrome, PSTATE becomes EL1h with DAIF
 * masked, and the PC the vector at VBAR_EL1.
 */
#include <linux/bits.h>
#include <asm/esr.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>

#include "avcpu.h"

/*
 * Vector offsets (D1.10.2): current EL with SP0, with SPx, lower EL
 * AArch64, lower EL AArch32 (a guest that went to AArch32 EL0)
 */
#define VEC_CUR_SP0	0x000
#define VEC_CUR_SPX	0x200
#define VEC_LOWER64	0x400
#define VEC_LOWER32	0x600

static bool avcpu_from_el0(struct avcpu_vcpu *vcpu)
{
	return (vcpu->ctx.pstate & PSR_MODE_MASK) == PSR_MODE_EL0t;
}

static void avcpu_inject_sync(struct avcpu_vcpu *vcpu, u64 esr)
{
	struct avcpu_ctx *c = &vcpu->ctx;
	u64 sctlr = c->sys[AVCPU_SCTLR_EL1];
	u64 old = c->pstate, pstate;
	u64 offset;

	switch (old & PSR_MODE_MASK) {
	case PSR_MODE_EL1t:
		offset = VEC_CUR_SP0;
		break;
	case PSR_MODE_EL1h:
		offset = VEC_CUR_SPX;
		break;
	default:
		offset = (old & PSR_MODE32_BIT) ? VEC_LOWER32 : VEC_LOWER64;
		break;
	}

	pstate = PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT;
	/* PAN is set on entry unless SCTLR_EL1.SPAN says to keep it */
	if (!(sctlr & SCTLR_EL1_SPAN))
		pstate |= PSR_PAN_BIT;
	else
		pstate |= old & PSR_PAN_BIT;
	if (sctlr & SCTLR_ELx_DSSBS)
		pstate |= PSR_SSBS_BIT;

	c->sys[AVCPU_ESR_EL1] = esr;
	c->sys[AVCPU_ELR_EL1] = c->pc;
	c->sys[AVCPU_SPSR_EL1] = old;
	c->pstate = pstate;
	c->pc = c->sys[AVCPU_VBAR_EL1] + offset;
}

/*
 * An UNDEFINED instruction: EC 0x00, IL as the trapped instruction's (clear
 * for a 16-bit T32 one at AArch32 EL0)
 */
void avcpu_inject_undef(struct avcpu_vcpu *vcpu)
{
	avcpu_inject_sync(vcpu, ((u64)ESR_ELx_EC_UNKNOWN << ESR_ELx_EC_SHIFT) |
			  (vcpu->exit.esr & ESR_ELx_IL));
}

/*
 * An instruction or data abort with fault status @fsc (ESR_ELx.IFSC/DFSC),
 * at the address the guest used (FAR_EL2 holds the guest's VA).
 */
void avcpu_inject_abort(struct avcpu_vcpu *vcpu, bool iabt, u32 fsc)
{
	bool el0 = avcpu_from_el0(vcpu);
	u64 ec, esr;

	if (iabt)
		ec = el0 ? ESR_ELx_EC_IABT_LOW : ESR_ELx_EC_IABT_CUR;
	else
		ec = el0 ? ESR_ELx_EC_DABT_LOW : ESR_ELx_EC_DABT_CUR;
	/* IL: set for instruction aborts, the access's for data aborts */
	esr = (ec << ESR_ELx_EC_SHIFT) | fsc;
	if (iabt)
		esr |= ESR_ELx_IL;
	else
		esr |= vcpu->exit.esr & (ESR_ELx_WNR | ESR_ELx_IL);
	vcpu->ctx.sys[AVCPU_FAR_EL1] = vcpu->exit.far;
	avcpu_inject_sync(vcpu, esr);
}
