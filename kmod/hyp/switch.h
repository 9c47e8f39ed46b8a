/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both world switches set for a guest: trap configuration and the
 * host state they save around it. Per-mode files add only how EL2 is
 * entered.
 */
#ifndef __AVCPU_HYP_SWITCH_H__
#define __AVCPU_HYP_SWITCH_H__

#include <linux/bits.h>
#include <linux/percpu.h>
#include <asm/kvm_arm.h>

#include "../avcpu.h"

/* A name the 6.1 headers lack (Arm ARM, DDI 0487, HCR_EL2.EnSCXT) */
#ifndef HCR_ENSCXT
#define HCR_ENSCXT		BIT_ULL(53)
#endif

/*
 * HCR_EL2 for a guest (Arm ARM, DDI 0487, D13.2.48 "HCR_EL2"):
 * VM	stage-2 translation on;
 * SWIO	set/way invalidation becomes clean+invalidate;
 * FMO, IMO, AMO	physical FIQ, IRQ and SError go to EL2, so the host
 *	keeps its interrupts while a guest runs;
 * TSC	SMC traps (answered as PSCI or a hypercall exit);
 * TID1	REVIDR_EL1, AIDR_EL1, SMIDR_EL1 trap (SMIDR_EL1: SME is hidden);
 * TID3	ID registers trap (sanitized in sysreg.c);
 * TACR	ACTLR_EL1 traps (IMPLEMENTATION DEFINED: a SYSREG exit);
 * TIDCP	IMPLEMENTATION DEFINED registers trap;
 * TWI, TWE	WFI and WFE trap (the vCPU sleeps or yields in the host);
 * TLOR	LORegion registers trap (FEAT_LOR is hidden);
 * TERR	RAS error record registers trap (FEAT_RAS is hidden);
 * TID5	GMID_EL1 traps (MTE is hidden);
 * EnSCXT	(added by sysreg.c where SCXTNUM_ELx exist and are switched;
 *	clear, they trap);
 * RW	EL1 is AArch64;
 * BSU_IS, FB	barriers and TLB/cache maintenance are inner shareable,
 *	so they reach every CPU the vCPU may have run on.
 * API and APK stay clear: pointer authentication instructions and key
 * registers trap, so the guest can neither use nor read the host's keys.
 */
#define AVCPU_HCR_GUEST	(HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | \
			 HCR_TSC | HCR_TID1 | HCR_TID3 | HCR_TACR | HCR_TIDCP | HCR_TWI | \
			 HCR_TWE | HCR_TLOR | HCR_TERR | HCR_TID5 | HCR_RW | \
			 HCR_BSU_IS | HCR_FB)

/*
 * MDCR_EL2 for a guest (D13.2.76): debug (TDA, TDOSA, TDRA), PMU (TPM,
 * TPMCR), statistical profiling (TPMS, E2PB = 0) and trace (TTRF, E2TB = 0)
 * accesses trap; HPMN keeps the host's value so the host's own counters are
 * unaffected.
 */
#define AVCPU_MDCR_GUEST_TRAPS	(MDCR_EL2_TDA | MDCR_EL2_TDOSA | MDCR_EL2_TDRA | \
				 MDCR_EL2_TPM | MDCR_EL2_TPMCR | MDCR_EL2_TPMS | \
				 MDCR_EL2_TTRF)

/* CNTHCTL_EL2 with E2H set (D13.11.1): EL1PCTEN is bit 10, EL1PTEN bit 11. */
#define AVCPU_CNTHCTL_EL1PCTEN	BIT(10)
#define AVCPU_CNTHCTL_EL1PTEN	BIT(11)

/**
 * struct avcpu_host_save - host EL2 and EL1 state kept while a guest runs
 */
struct avcpu_host_save {
	u64 hcr;
	u64 vttbr;
	u64 vtcr;
	u64 cptr;
	u64 mdcr;
	u64 cnthctl;
	u64 cntvoff;
	u64 vpidr;
	u64 vmpidr;
	u64 cntp_ctl;
	u64 cntp_cval;
	u64 hcrx;
	u64 fgt[AVCPU_NR_FGT];
	u64 mpam2;
	u64 mdscr;
	struct avcpu_debug_regs dbg;
	u64 sys[AVCPU_NR_SWITCHED];
};

/**
 * struct avcpu_el2_cpu - what hyp/entry.S keeps per CPU
 * @host_vbar: the host's VBAR_EL2, put back at every exit.
 * @serror_seen: set when an SError is taken at EL2 around a guest run.
 * @frame: SP at the host's frame of the guest entry in progress: where an
 *	unexpected exception at EL2 unwinds to.
 * @fault_esr: ESR_EL2 of that exception,
 * @fault_elr: ELR_EL2,
 * @fault_far: FAR_EL2.
 * @inject_fault: test knob (debugfs "el2_fault"): non-zero makes the next
 *	entry on this CPU take an undefined instruction at EL2 just before
 *	its ERET, then clears it.
 * @mitigations: what the exit does against Spectre-v2 and Spectre-BHB
 *	(AVCPU_EL2_*, mitigations.c): a BHB loop count in the low byte, or
 *	CLRBHB, or a firmware call, and the v2 firmware call.
 *
 * hyp/entry.S finds it through TPIDR_EL2 in both modes; on nVHE, nvhe.c
 * maps each CPU's copy at EL2. Its offsets come from hyp/offsets.c.
 */
struct avcpu_el2_cpu {
	u64 host_vbar;
	u64 serror_seen;
	u64 frame;
	u64 fault_esr;
	u64 fault_elr;
	u64 fault_far;
	u64 inject_fault;
	u64 mitigations;
	u64 s2_gen;	/* VHE beside KVM: whose VMID-0 entries this CPU may hold */
};

#define AVCPU_EL2_BHB_LOOP_MASK	GENMASK_ULL(7, 0)
#define AVCPU_EL2_BHB_CLRBHB	BIT_ULL(8)
#define AVCPU_EL2_BHB_FW	BIT_ULL(9)
#define AVCPU_EL2_V2_FW		BIT_ULL(10)
/* the same bits, for hyp/entry.S */
#define AVCPU_EL2_BHB_CLRBHB_BIT	8
#define AVCPU_EL2_BHB_FW_BIT		9
#define AVCPU_EL2_V2_FW_BIT		10

DECLARE_PER_CPU(struct avcpu_el2_cpu, avcpu_el2_cpu);

/* hyp/entry.S */
int __avcpu_guest_enter(struct avcpu_ctx *ctx, u64 host_vbar);
void __avcpu_fpsimd_save(struct avcpu_fpsimd *fp);
void __avcpu_fpsimd_load(const struct avcpu_fpsimd *fp);
/* the first @nr_brps breakpoints and @nr_wrps watchpoints of the CPU */
void __avcpu_debug_save(struct avcpu_debug_regs *d, u64 nr_brps, u64 nr_wrps);
/* ... loaded, each control register ANDed with @cr_mask */
void __avcpu_debug_load(const struct avcpu_debug_regs *d, u64 nr_brps,
			u64 nr_wrps, u64 cr_mask);

#endif
