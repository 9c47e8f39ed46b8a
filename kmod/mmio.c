// SPDX-License-Identifier: GPL-2.0
/*
 * Data aborts outside guest RAM (and writes to read-only RAM): decoded
 * from the syndrome into MMIO exits, completed at the next RUN.
 *
 * ESR_EL2.ISS for a data abort (Arm ARM, DDI 0487, D13.2.39 "ISS encoding
 * for an exception from a Data Abort"): ISV[24] says whether SAS[23:22]
 * (log2 of the access size), SSE[21] (sign extension), SRT[20:16]
 * (register), SF[15] (64-bit register) are valid; WnR[6] is the direction;
 * CM[8] marks a cache maintenance instruction.
 */
#include <linux/bitfield.h>
#include <asm/esr.h>

#include "avcpu.h"

int avcpu_handle_mmio(struct avcpu_vcpu *vcpu, u64 ipa)
{
	struct avcpu_run *run = vcpu->run;
	u64 esr = vcpu->exit.esr;
	unsigned int width, reg;

	if (esr & ESR_ELx_CM) {
		/* cache maintenance by VA on a device: nothing to maintain */
		avcpu_step(vcpu);
		return 1;
	}
	if (!(esr & ESR_ELx_ISV)) {
		/* no syndrome to emulate with: the VMM decides */
		avcpu_set_exit(vcpu, AVCPU_EXIT_NESTED_PAGE_FAULT);
		run->nested_page_fault.addr = ipa;
		run->nested_page_fault.access = (esr & ESR_ELx_WNR) ?
			AVCPU_ACCESS_WRITE : AVCPU_ACCESS_READ;
		vcpu->pending = AVCPU_PENDING_NONE;
		return 0;
	}

	width = 1U << FIELD_GET(ESR_ELx_SAS, esr);
	reg = FIELD_GET(ESR_ELx_SRT_MASK, esr);
	run->mmio.addr = ipa;
	run->mmio.width = width;
	run->mmio.reg = reg;
	run->mmio.reg_width = (esr & ESR_ELx_SF) ? 8 : 4;
	if (esr & ESR_ELx_WNR) {
		u64 data = avcpu_get_reg(vcpu, reg);

		if (width < 8)
			data &= GENMASK_ULL(width * 8 - 1, 0);
		/* a doorbell bound to an eventfd: signal it and go on */
		if (avcpu_ioeventfd_write(vcpu->vm, ipa, width, data)) {
			atomic64_inc(&vcpu->stats.ioeventfd_signals);
			avcpu_step(vcpu);
			return 1;
		}
		/* a store the VMM takes from the coalesced ring later */
		if (avcpu_coalesced_write(vcpu, ipa, width, data)) {
			atomic64_inc(&vcpu->stats.coalesced_mmio);
			avcpu_step(vcpu);
			return 1;
		}
		avcpu_set_exit(vcpu, AVCPU_EXIT_MMIO_WRITE);
		run->mmio.data = data;
		run->mmio.sign_ext = 0;
		vcpu->pending = AVCPU_PENDING_STEP;
	} else {
		avcpu_set_exit(vcpu, AVCPU_EXIT_MMIO_READ);
		run->mmio.data = 0;
		run->mmio.sign_ext = !!(esr & ESR_ELx_SSE);
		vcpu->pending = AVCPU_PENDING_LOAD;
		vcpu->pending_reg = reg;
		vcpu->pending_width = width;
		vcpu->pending_sign = run->mmio.sign_ext;
		vcpu->pending_reg64 = run->mmio.reg_width == 8;
	}
	return 0;
}
