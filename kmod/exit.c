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

static void avcpu_step(struct avcpu_vcpu *vcpu)
{
	vcpu->ctx.pc += 4;
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
		return avcpu_exit_handlers[ESR_ELx_EC(vcpu->exit.esr)](vcpu);
	case AVCPU_EXC_IRQ:
	case AVCPU_EXC_FIQ:
		/* the host took its interrupt when RUN unmasked IRQs */
		if (!(vcpu->flags & AVCPU_SETUP_EXIT_ON_HOST_IRQ))
			return 1;
		avcpu_set_exit(vcpu, AVCPU_EXIT_EXTERNAL_INTERRUPT);
		run->external_interrupt.vector = 0;
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
