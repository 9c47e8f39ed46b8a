// SPDX-License-Identifier: GPL-2.0
/*
 * SMCCC and PSCI calls from the guest (HVC, or SMC trapped by
 * HCR_EL2.TSC). The kernel answers the discovery calls and AFFINITY_INFO;
 * CPU_ON, CPU_OFF, SYSTEM_OFF and SYSTEM_RESET become exits for the VMM;
 * any other fast call owned by the Arm Architecture or Standard Secure
 * services returns NOT_SUPPORTED, as does any call with a non-zero
 * immediate; everything else is a HYPERCALL exit.
 *
 * References: Arm DEN 0028 (SMC Calling Convention 1.4), section 2.5
 * "Function Identifier"; Arm DEN 0022 (PSCI 1.1), section 5.
 */
#include <linux/arm-smccc.h>
#include <linux/psci.h>
#include <uapi/linux/psci.h>

#include "avcpu.h"

#define SMCCC_FAST		BIT(31)
#define SMCCC_64		BIT(30)
#define SMCCC_OWNER(fid)	(((fid) >> 24) & 0x3f)
#define SMCCC_OWNER_ARCH	0
#define SMCCC_OWNER_STD		4

#define AVCPU_SMCCC_VERSION	0x10001		/* 1.1 */
#define AVCPU_PSCI_VERSION	0x10001		/* 1.1 */

/* Finish a call answered here: x0 = @ret, step past a trapped SMC. */
static int avcpu_smccc_ret(struct avcpu_vcpu *vcpu, u32 conduit, u64 ret)
{
	vcpu->ctx.x[0] = ret;
	if (conduit == AVCPU_CONDUIT_SMC)
		avcpu_step(vcpu);
	return 1;
}

/* Leave the call to the VMM; its run->ret becomes x0 at the next RUN. */
static int avcpu_smccc_exit(struct avcpu_vcpu *vcpu, u32 conduit, u32 reason)
{
	avcpu_set_exit(vcpu, reason);
	vcpu->pending = conduit == AVCPU_CONDUIT_SMC ? AVCPU_PENDING_X0_STEP :
						      AVCPU_PENDING_X0;
	return 0;
}

static bool avcpu_psci_known(u32 fid)
{
	switch (fid) {
	case PSCI_0_2_FN_PSCI_VERSION:
	case PSCI_0_2_FN_CPU_OFF:
	case PSCI_0_2_FN_CPU_ON:
	case PSCI_0_2_FN64_CPU_ON:
	case PSCI_0_2_FN_AFFINITY_INFO:
	case PSCI_0_2_FN64_AFFINITY_INFO:
	case PSCI_0_2_FN_SYSTEM_OFF:
	case PSCI_0_2_FN_SYSTEM_RESET:
	case PSCI_1_0_FN_PSCI_FEATURES:
	case ARM_SMCCC_VERSION_FUNC_ID:
		return true;
	default:
		return false;
	}
}

static u64 avcpu_affinity_info(struct avcpu_vcpu *vcpu, u64 target, u64 level)
{
	struct avcpu_vm *vm = vcpu->vm;
	u64 ret = PSCI_RET_INVALID_PARAMS;
	int i;

	if (level)
		return PSCI_RET_INVALID_PARAMS;
	target &= 0xff00ffffffULL;
	mutex_lock(&vm->lock);
	for (i = 0; i < AVCPU_MAX_VCPUS; i++) {
		struct avcpu_vcpu *v = vm->vcpus[i];
		int state;

		if (!v || (v->mpidr & 0xff00ffffffULL) != target)
			continue;
		state = READ_ONCE(v->state);
		if (READ_ONCE(v->powered_off) || state == AVCPU_STATE_CREATED ||
		    state == AVCPU_STATE_INVALID)
			ret = PSCI_0_2_AFFINITY_LEVEL_OFF;
		else if (state == AVCPU_STATE_FREE)
			ret = PSCI_0_2_AFFINITY_LEVEL_ON_PENDING;
		else
			ret = PSCI_0_2_AFFINITY_LEVEL_ON;
		break;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

int avcpu_handle_smccc(struct avcpu_vcpu *vcpu, u32 conduit, u16 imm)
{
	struct avcpu_run *run = vcpu->run;
	u64 *x = vcpu->ctx.x;
	/* the Function Identifier is W0, whatever X0's upper half (DEN 0028, 2.5) */
	u32 fid = lower_32_bits(x[0]);
	u64 a1 = x[1], a2 = x[2], a3 = x[3];
	int i;

	/*
	 * Only HVC #0 and SMC #0 are calls: other immediates are reserved
	 * (DEN 0028, 2.9 "SMC and HVC immediate value"). Answered here, so
	 * that no reserved call reaches PSCI or the VMM.
	 */
	if (imm)
		return avcpu_smccc_ret(vcpu, conduit,
				       (u64)(s64)SMCCC_RET_NOT_SUPPORTED);

	if (!(fid & SMCCC_FAST) ||
	    (SMCCC_OWNER(fid) != SMCCC_OWNER_ARCH &&
	     SMCCC_OWNER(fid) != SMCCC_OWNER_STD) || (fid & 0x00ff0000))
		goto hypercall;

	/* SMC32/HVC32 calls pass 32-bit arguments (SMCCC 2.6) */
	if (!(fid & SMCCC_64)) {
		a1 = (u32)a1;
		a2 = (u32)a2;
		a3 = (u32)a3;
	}

	switch (fid) {
	case ARM_SMCCC_VERSION_FUNC_ID:
		return avcpu_smccc_ret(vcpu, conduit, AVCPU_SMCCC_VERSION);
	case PSCI_0_2_FN_PSCI_VERSION:
		return avcpu_smccc_ret(vcpu, conduit, AVCPU_PSCI_VERSION);
	case PSCI_1_0_FN_PSCI_FEATURES:
		return avcpu_smccc_ret(vcpu, conduit,
				       avcpu_psci_known((u32)a1) ? 0 :
				       (u64)(s64)PSCI_RET_NOT_SUPPORTED);
	case PSCI_0_2_FN_AFFINITY_INFO:
	case PSCI_0_2_FN64_AFFINITY_INFO:
		return avcpu_smccc_ret(vcpu, conduit,
				       (u64)(s64)(int)avcpu_affinity_info(vcpu, a1, a2));
	case PSCI_0_2_FN_CPU_ON:
	case PSCI_0_2_FN64_CPU_ON:
		run->cpu_up.target_mpidr = a1;
		run->cpu_up.entry = a2;
		run->cpu_up.context = a3;
		return avcpu_smccc_exit(vcpu, conduit, AVCPU_EXIT_CPU_UP);
	case PSCI_0_2_FN_CPU_OFF:
		WRITE_ONCE(vcpu->powered_off, true);
		return avcpu_smccc_exit(vcpu, conduit, AVCPU_EXIT_CPU_DOWN);
	case PSCI_0_2_FN_SYSTEM_OFF:
		run->system_down.type = AVCPU_SYSTEM_OFF;
		return avcpu_smccc_exit(vcpu, conduit, AVCPU_EXIT_SYSTEM_DOWN);
	case PSCI_0_2_FN_SYSTEM_RESET:
		run->system_down.type = AVCPU_SYSTEM_RESET;
		return avcpu_smccc_exit(vcpu, conduit, AVCPU_EXIT_SYSTEM_DOWN);
	default:
		return avcpu_smccc_ret(vcpu, conduit,
				       (u64)(s64)SMCCC_RET_NOT_SUPPORTED);
	}

hypercall:
	run->hypercall.nr = fid;
	for (i = 0; i < 6; i++)
		run->hypercall.args[i] = x[i + 1];
	run->hypercall.conduit = conduit;
	run->hypercall.imm = imm;
	return avcpu_smccc_exit(vcpu, conduit, AVCPU_EXIT_HYPERCALL);
}
