// SPDX-License-Identifier: GPL-2.0
/*
 * Branch-predictor hygiene at EL2: what avcpu's vectors do on every exit
 * from a guest before the host's first indirect branch, chosen the way the
 * kernel chose its own mitigations, so that a host the kernel mitigates is
 * not left open through avcpu (design.rst, "Spectre-v2 and Spectre-BHB").
 *
 * Spectre-BHB (Arm, "Spectre-BHB" security update, 2022): a guest can
 * train the branch history the host's indirect branches are predicted
 * with. Where the kernel mitigates it, the exit path scrubs the history:
 * the CLRBHB instruction where the CPU has it (FEAT_CLRBHB), else the
 * kernel's loop of k taken branches, else the firmware's
 * SMCCC_ARCH_WORKAROUND_3. Spectre-v2: where the kernel relies on the
 * firmware's SMCCC_ARCH_WORKAROUND_1 to invalidate the predictor, the exit
 * makes that call too.
 *
 * The kernel's choices are read through its own functions
 * (arm64_get_spectre_*_state() and friends), which it does not export:
 * avcpu_ksym() finds them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/spectre.h>

#include "avcpu.h"
#include "hyp/switch.h"

typedef enum mitigation_state (*avcpu_state_fn_t)(void);
typedef bool (*avcpu_bool_fn_t)(void);
typedef u8 (*avcpu_loop_fn_t)(int scope);

/* The kernel's state, or -1 when its function cannot be found */
static int avcpu_kernel_state(const char *fn)
{
	avcpu_state_fn_t get = (avcpu_state_fn_t)avcpu_ksym(fn);

	return get ? get() : -1;
}

/*
 * The kernel's loop count k: get_spectre_bhb_loop_value(void) from 6.12,
 * spectre_bhb_loop_affected(int scope) before. Called the same way, with
 * the scope in x0, which the first ignores. 0: no loop, or not found.
 */
static u64 avcpu_bhb_loop_k(void)
{
	static const char * const names[] = {
		"get_spectre_bhb_loop_value", "spectre_bhb_loop_affected",
	};
	avcpu_loop_fn_t k;
	int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		k = (avcpu_loop_fn_t)avcpu_ksym(names[i]);
		if (k)
			return k(SCOPE_SYSTEM);
	}
	return 0;
}

static bool avcpu_fw_has(u32 workaround)
{
	struct arm_smccc_res res;

	/* the vectors can only make SMC calls: at EL2, HVC is avcpu's */
	if (arm_smccc_1_1_get_conduit() != SMCCC_CONDUIT_SMC)
		return false;
	arm_smccc_1_1_invoke(ARM_SMCCC_ARCH_FEATURES_FUNC_ID, workaround, &res);
	return (int)res.a0 >= 0;
}

void avcpu_mitigations_probe(void)
{
	avcpu_bool_fn_t bhb_fw =
		(avcpu_bool_fn_t)avcpu_ksym("is_spectre_bhb_fw_mitigated");
	const char *v2 = "not needed", *bhb = "not affected";
	u64 flags = 0, k;
	int cpu;

	if (avcpu_kernel_state("arm64_get_spectre_v2_state") == SPECTRE_MITIGATED &&
	    avcpu_fw_has(ARM_SMCCC_ARCH_WORKAROUND_1)) {
		flags |= AVCPU_EL2_V2_FW;
		v2 = "firmware (SMCCC_ARCH_WORKAROUND_1)";
	}

	switch (avcpu_kernel_state("arm64_get_spectre_bhb_state")) {
	case -1:
		bhb = "UNMITIGATED: the kernel's state is not readable here";
		break;
	case SPECTRE_UNAFFECTED:
		break;
	default:
		/* the kernel too: e.g. not alone while Spectre-v2 is open */
		bhb = "not mitigated (nor by the kernel)";
		break;
	case SPECTRE_MITIGATED:
		k = avcpu_bhb_loop_k();
		if (supports_clearbhb(SCOPE_SYSTEM)) {
			flags |= AVCPU_EL2_BHB_CLRBHB;
			bhb = "CLRBHB";
		} else if (k) {
			flags |= k & AVCPU_EL2_BHB_LOOP_MASK;
			bhb = "loop";
		} else if (bhb_fw && bhb_fw() &&
			   avcpu_fw_has(ARM_SMCCC_ARCH_WORKAROUND_3)) {
			flags |= AVCPU_EL2_BHB_FW;
			bhb = "firmware (SMCCC_ARCH_WORKAROUND_3)";
		} else {
			bhb = "UNMITIGATED: the kernel's choice is not readable here";
		}
		break;
	}

	for_each_possible_cpu(cpu)
		per_cpu(avcpu_el2_cpu, cpu).mitigations = flags;
	if (flags & AVCPU_EL2_BHB_LOOP_MASK)
		pr_info("EL2 vectors: Spectre-v2: %s; Spectre-BHB: %s (k=%llu)\n",
			v2, bhb, flags & AVCPU_EL2_BHB_LOOP_MASK);
	else
		pr_info("EL2 vectors: Spectre-v2: %s; Spectre-BHB: %s\n", v2, bhb);
}
