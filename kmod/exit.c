// SPDX-License-Identifier: GPL-2.0
/*
 * Exit decode: one handler per exception class, in a table whose default
 * injects UNDEF, so no exception class a guest can raise reaches anything
 * but a handler. Every handler returns >0 to re-enter the guest, 0 to
 * return to userspace with the run page filled, <0 for an error that ends
 * RUN (and leaves the vCPU INVALID).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/sched.h>
#include <asm/esr.h>

#include "avcpu.h"

typedef int (*avcpu_exit_handler)(struct avcpu_vcpu *vcpu);

/*
 * The guest at AArch32 EL0 (PSTATE.nRW): its EL1 is AArch64 (HCR_EL2.RW)
 * and the ID registers say EL0 is AArch64 only, but no control stops a
 * guest's ERET to AArch32 EL0 on a CPU that has it. Its traps are stepped
 * and injected as the architecture says (design.rst, "AArch32 at EL0").
 */
static bool avcpu_is_aarch32(const struct avcpu_ctx *c)
{
	return c->pstate & PSR_MODE32_BIT;
}

/*
 * PSTATE.IT as one byte: IT[7:2] in bits 15:10, IT[1:0] in bits 26:25
 * (Arm ARM, DDI 0487, the SPSR_EL2 layout for an exception from AArch32).
 */
static u32 avcpu_itstate(u64 pstate)
{
	return ((pstate >> 8) & 0xfc) | ((pstate >> 25) & 0x3);
}

/*
 * ITAdvance() of the Arm ARM's AArch32 pseudocode, on a T32 step. (QEMU
 * 10.0 reports a trapped WFI's IT state already advanced, a divergence
 * from the architecture that this follows, as KVM does.)
 */
static void avcpu_it_advance(struct avcpu_ctx *c)
{
	u32 it = avcpu_itstate(c->pstate);

	if (!(c->pstate & PSR_AA32_T_BIT) || !it)
		return;
	if ((it & 0x7) == 0)
		it = 0;
	else
		it = (it & 0xe0) | ((it << 1) & 0x1f);
	c->pstate &= ~(GENMASK_ULL(15, 10) | GENMASK_ULL(26, 25));
	c->pstate |= ((u64)(it & 0xfc) << 8) | ((u64)(it & 0x3) << 25);
}

/*
 * Past the instruction that trapped: 4 bytes, or 2 for a 16-bit T32 one
 * (ESR_EL2.IL clear); in a T32 IT block the IT state moves on as the
 * instruction's completion would move it.
 */
void avcpu_step(struct avcpu_vcpu *vcpu)
{
	struct avcpu_ctx *c = &vcpu->ctx;

	c->pc += (vcpu->exit.esr & ESR_ELx_IL) ? 4 : 2;
	if (avcpu_is_aarch32(c))
		avcpu_it_advance(c);
}

/*
 * A trapped AArch32 instruction whose condition fails must do nothing
 * (whether the CPU traps it at all is IMPLEMENTATION DEFINED): ESR_EL2's
 * CV and COND give the condition, or, with CV clear, the IT block does.
 * Only the exception classes that carry CV/COND are asked.
 */
static bool avcpu_cond_passed(struct avcpu_vcpu *vcpu)
{
	u64 esr = vcpu->exit.esr, pstate = vcpu->ctx.pstate;
	bool n = pstate & PSR_N_BIT, z = pstate & PSR_Z_BIT;
	bool c = pstate & PSR_C_BIT, v = pstate & PSR_V_BIT;
	u32 cond, it;
	bool pass;

	switch (ESR_ELx_EC(esr)) {
	case ESR_ELx_EC_WFx:
	case ESR_ELx_EC_CP15_32:
	case ESR_ELx_EC_CP15_64:
	case ESR_ELx_EC_CP14_MR:
	case ESR_ELx_EC_CP14_LS:
	case ESR_ELx_EC_FP_ASIMD:
	case ESR_ELx_EC_CP10_ID:
	case ESR_ELx_EC_CP14_64:
		break;
	default:
		return true;
	}
	if (esr & ESR_ELx_CV) {
		cond = (esr & ESR_ELx_COND_MASK) >> ESR_ELx_COND_SHIFT;
	} else {
		it = avcpu_itstate(pstate);
		if (!(pstate & PSR_AA32_T_BIT) || !it)
			return true;
		cond = it >> 4;
	}

	switch (cond >> 1) {
	case 0:
		pass = z;			/* EQ */
		break;
	case 1:
		pass = c;			/* CS */
		break;
	case 2:
		pass = n;			/* MI */
		break;
	case 3:
		pass = v;			/* VS */
		break;
	case 4:
		pass = c && !z;			/* HI */
		break;
	case 5:
		pass = n == v;			/* GE */
		break;
	case 6:
		pass = n == v && !z;		/* GT */
		break;
	default:
		return true;			/* AL */
	}
	return (cond & 1) ? !pass : pass;
}

/* Finish the last exit with the VMM's answer (the seed's set_return_value). */
void avcpu_complete_exit(struct avcpu_vcpu *vcpu)
{
	u64 val = READ_ONCE(vcpu->run->ret);

	switch (vcpu->pending) {
	case AVCPU_PENDING_NONE:
		return;
	case AVCPU_PENDING_STEP:
		break;
	case AVCPU_PENDING_LOAD: {
		unsigned int bits = vcpu->pending_width * 8;

		if (bits < 64) {
			val &= GENMASK_ULL(bits - 1, 0);
			if (vcpu->pending_sign)
				val = sign_extend64(val, bits - 1);
		}
		if (!vcpu->pending_reg64)
			val &= GENMASK_ULL(31, 0);
		avcpu_set_reg(vcpu, vcpu->pending_reg, val);
		break;
	}
	case AVCPU_PENDING_X0:
		vcpu->ctx.x[0] = val;
		vcpu->pending = AVCPU_PENDING_NONE;
		return;
	case AVCPU_PENDING_X0_STEP:
		vcpu->ctx.x[0] = val;
		break;
	}
	avcpu_step(vcpu);
	vcpu->pending = AVCPU_PENDING_NONE;
}

static int avcpu_handle_unknown(struct avcpu_vcpu *vcpu)
{
	avcpu_inject_undef(vcpu);
	return 1;
}

/*
 * WFI sleeps until an interrupt is pending for the vCPU (timer.c); WFE,
 * and the timeout variants, let the scheduler run whoever is due and
 * return (a spurious wake-up is always allowed: Arm ARM, DDI 0487, D1.16).
 * ESR_EL2.ISS.TI (bits 1:0): 0 WFI, 1 WFE, 2 WFIT, 3 WFET.
 */
static int avcpu_handle_wfx(struct avcpu_vcpu *vcpu)
{
	avcpu_step(vcpu);
	if ((vcpu->exit.esr & 3) == 0)
		return avcpu_vcpu_wfi(vcpu);
	cond_resched();
	return 1;
}

static int avcpu_handle_hvc(struct avcpu_vcpu *vcpu)
{
	/* ELR_EL2 already points past an HVC (Arm ARM D1.10.1 "preferred return") */
	return avcpu_handle_smccc(vcpu, AVCPU_CONDUIT_HVC,
				  vcpu->exit.esr & ESR_ELx_xVC_IMM_MASK);
}

static int avcpu_handle_smc(struct avcpu_vcpu *vcpu)
{
	/* A trapped SMC's ELR_EL2 is the SMC itself: avcpu_handle_smccc steps */
	return avcpu_handle_smccc(vcpu, AVCPU_CONDUIT_SMC,
				  vcpu->exit.esr & ESR_ELx_xVC_IMM_MASK);
}

static bool avcpu_fsc_is_s2(u32 fsc)
{
	u32 type = fsc & ESR_ELx_FSC_TYPE;

	/* 0: address size fault */
	return type == 0 || type == ESR_ELx_FSC_FAULT || type == ESR_ELx_FSC_ACCESS ||
	       type == ESR_ELx_FSC_PERM;
}

/* Instruction and data aborts from the guest: stage-2 faults. */
static int avcpu_handle_abort(struct avcpu_vcpu *vcpu)
{
	u64 esr = vcpu->exit.esr;
	u32 fsc = esr & ESR_ELx_FSC;
	bool iabt = ESR_ELx_EC(esr) == ESR_ELx_EC_IABT_LOW;
	/*
	 * HPFAR_EL2.FIPA is IPA[47:12] whatever the granules (D13.2.56); the
	 * VA in FAR_EL2 shares only the bits below the guest's smallest
	 * granule with the IPA, 4K, not the host's page: with a 4K guest on
	 * a 16K host, FAR's bits [13:12] are the guest's, not the IPA's.
	 */
	u64 ipa = ((vcpu->exit.hpfar & GENMASK_ULL(43, 4)) << 8) |
		  (vcpu->exit.far & GENMASK_ULL(11, 0));
	bool mapped;
	int ret;

	if (!avcpu_fsc_is_s2(fsc)) {
		/* an external abort or similar: the guest's to handle */
		avcpu_inject_abort(vcpu, iabt, ESR_ELx_FSC_EXTABT);
		return 1;
	}
	if (ipa >> avcpu_host.ipa_bits) {
		/* beyond the guest's PA size: address size fault, level 0 */
		avcpu_inject_abort(vcpu, iabt, 0);
		return 1;
	}

	if ((fsc & ESR_ELx_FSC_TYPE) != ESR_ELx_FSC_PERM) {
		ret = avcpu_stage2_map_page(vcpu->vm, ipa, &mapped);
		if (!ret)
			atomic64_inc(&vcpu->stats.stage2_faults);
		if (!ret || ret == -EAGAIN)
			return 1;	/* mapped, or the slot changed: retry */
		if (ret != -ENOENT)
			return ret;
	}

	/* not RAM, or a write to a read-only slot */
	if (iabt) {
		avcpu_inject_abort(vcpu, true, ESR_ELx_FSC_EXTABT);
		return 1;
	}
	return avcpu_handle_mmio(vcpu, ipa);
}

static int avcpu_handle_sys64(struct avcpu_vcpu *vcpu)
{
	return avcpu_handle_sysreg(vcpu);
}

static const avcpu_exit_handler avcpu_exit_handlers[ESR_ELx_EC_MAX + 1] = {
	[0 ... ESR_ELx_EC_MAX]	= avcpu_handle_unknown,
	[ESR_ELx_EC_WFx]	= avcpu_handle_wfx,
	[ESR_ELx_EC_HVC64]	= avcpu_handle_hvc,
	[ESR_ELx_EC_SMC64]	= avcpu_handle_smc,
	[ESR_ELx_EC_SYS64]	= avcpu_handle_sys64,
	[ESR_ELx_EC_IABT_LOW]	= avcpu_handle_abort,
	[ESR_ELx_EC_DABT_LOW]	= avcpu_handle_abort,
};

int avcpu_handle_exit(struct avcpu_vcpu *vcpu, int code)
{
	struct avcpu_run *run = vcpu->run;

	switch (code) {
	case AVCPU_EXC_SYNC:
		if (avcpu_is_aarch32(&vcpu->ctx) && !avcpu_cond_passed(vcpu)) {
			avcpu_step(vcpu);
			return 1;
		}
		return avcpu_exit_handlers[ESR_ELx_EC(vcpu->exit.esr)](vcpu);
	case AVCPU_EXC_IRQ:
	case AVCPU_EXC_FIQ:
		/* the host took its interrupt when RUN unmasked IRQs */
		if (!(vcpu->flags & AVCPU_SETUP_EXIT_ON_HOST_IRQ))
			return 1;
		avcpu_set_exit(vcpu, AVCPU_EXIT_EXTERNAL_INTERRUPT);
		run->external_interrupt.vector = 0;
		return 0;
	case AVCPU_EXC_EL2:
		/*
		 * An exception at EL2 itself, in the entry or exit path
		 * (hyp/entry.S unwound it): the guest's state is lost.
		 */
		pr_err_ratelimited("vCPU %u of VM %u stopped: exception at EL2 (ESR 0x%llx, ELR 0x%llx, FAR 0x%llx)\n",
				   vcpu->id, vcpu->vm->vmid, vcpu->exit.esr,
				   vcpu->exit.elr, vcpu->exit.far);
		avcpu_set_exit(vcpu, AVCPU_EXIT_FAIL_ENTRY);
		run->fail_entry.reason = AVCPU_FAIL_ENTRY_EL2_FAULT;
		run->fail_entry.esr = vcpu->exit.esr;
		vcpu->state = AVCPU_STATE_INVALID;
		return 0;
	default:
		/* an SError while the guest ran: its state cannot be trusted */
		avcpu_set_exit(vcpu, AVCPU_EXIT_FAIL_ENTRY);
		run->fail_entry.reason = AVCPU_FAIL_ENTRY_SERROR;
		run->fail_entry.esr = vcpu->exit.esr;
		vcpu->state = AVCPU_STATE_INVALID;
		return 0;
	}
}
