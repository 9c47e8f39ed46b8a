// SPDX-License-Identifier: GPL-2.0
/*
 * The structure offsets the EL2 assembly uses (hyp/entry.S, hyp/nvhe/host.S),
 * generated at build time as the kernel's asm-offsets are: Kbuild compiles
 * this file to assembly and turns each DEFINE() into a #define of
 * hyp/avcpu-offsets.h, so a field's offset is written once, in C.
 */
#include <linux/build_bug.h>
#include <linux/kbuild.h>
#include <linux/stddef.h>

#include "../avcpu.h"
#include "switch.h"
#include "nvhe/nvhe.h"

int main(void);

int main(void)
{
	/* struct avcpu_ctx: entry.S moves pc/pstate and esr/far as pairs */
	static_assert(offsetof(struct avcpu_ctx, pstate) ==
		      offsetof(struct avcpu_ctx, pc) + 8);
	static_assert(offsetof(struct avcpu_ctx, far) ==
		      offsetof(struct avcpu_ctx, esr) + 8);
	DEFINE(CTX_X0,		offsetof(struct avcpu_ctx, x));
	DEFINE(CTX_SP_EL0,	offsetof(struct avcpu_ctx, sp_el0));
	DEFINE(CTX_PC,		offsetof(struct avcpu_ctx, pc));
	DEFINE(CTX_ESR,		offsetof(struct avcpu_ctx, esr));
	DEFINE(CTX_HPFAR,	offsetof(struct avcpu_ctx, hpfar));
	BLANK();
	/* struct avcpu_fpsimd: v[] then fpsr, fpcr (one STP) */
	static_assert(offsetof(struct avcpu_fpsimd, fpcr) ==
		      offsetof(struct avcpu_fpsimd, fpsr) + 8);
	DEFINE(FP_FPSR,		offsetof(struct avcpu_fpsimd, fpsr));
	BLANK();
	/* struct avcpu_debug_regs */
	DEFINE(DBG_BVR,		offsetof(struct avcpu_debug_regs, bvr));
	DEFINE(DBG_BCR,		offsetof(struct avcpu_debug_regs, bcr));
	DEFINE(DBG_WVR,		offsetof(struct avcpu_debug_regs, wvr));
	DEFINE(DBG_WCR,		offsetof(struct avcpu_debug_regs, wcr));
	BLANK();
	/* struct avcpu_el2_cpu */
	DEFINE(EL2CPU_HOST_VBAR,	offsetof(struct avcpu_el2_cpu, host_vbar));
	DEFINE(EL2CPU_SERROR_SEEN,	offsetof(struct avcpu_el2_cpu, serror_seen));
	DEFINE(EL2CPU_FRAME,		offsetof(struct avcpu_el2_cpu, frame));
	DEFINE(EL2CPU_FAULT_ESR,	offsetof(struct avcpu_el2_cpu, fault_esr));
	DEFINE(EL2CPU_FAULT_ELR,	offsetof(struct avcpu_el2_cpu, fault_elr));
	DEFINE(EL2CPU_FAULT_FAR,	offsetof(struct avcpu_el2_cpu, fault_far));
	DEFINE(EL2CPU_INJECT_FAULT,	offsetof(struct avcpu_el2_cpu, inject_fault));
	DEFINE(EL2CPU_MITIGATIONS,	offsetof(struct avcpu_el2_cpu, mitigations));
	DEFINE(EL2_BHB_CLRBHB_BIT,	AVCPU_EL2_BHB_CLRBHB_BIT);
	DEFINE(EL2_BHB_FW_BIT,		AVCPU_EL2_BHB_FW_BIT);
	DEFINE(EL2_V2_FW_BIT,		AVCPU_EL2_V2_FW_BIT);
	DEFINE(EL2_BHB_LOOP_MASK,	AVCPU_EL2_BHB_LOOP_MASK);
	BLANK();
	/* struct avcpu_nvhe_data: host.S moves the orig_* fields in pairs */
	static_assert(offsetof(struct avcpu_nvhe_data, orig_tcr) ==
		      offsetof(struct avcpu_nvhe_data, orig_sctlr) + 8);
	static_assert(offsetof(struct avcpu_nvhe_data, orig_ttbr0) ==
		      offsetof(struct avcpu_nvhe_data, orig_mair) + 8);
	static_assert(offsetof(struct avcpu_nvhe_data, orig_sp) ==
		      offsetof(struct avcpu_nvhe_data, orig_tpidr) + 8);
	static_assert(offsetof(struct avcpu_nvhe_data, release_pa) ==
		      offsetof(struct avcpu_nvhe_data, stub_vbar) + 8);
	DEFINE(NVHE_STUB_VBAR,	offsetof(struct avcpu_nvhe_data, stub_vbar));
	DEFINE(NVHE_ORIG_SCTLR,	offsetof(struct avcpu_nvhe_data, orig_sctlr));
	DEFINE(NVHE_ORIG_MAIR,	offsetof(struct avcpu_nvhe_data, orig_mair));
	DEFINE(NVHE_ORIG_TPIDR,	offsetof(struct avcpu_nvhe_data, orig_tpidr));
	return 0;
}
