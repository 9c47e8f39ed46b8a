/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Save and load of the EL1/EL0 registers a guest owns while it runs, shared
 * by the per-mode world switches. A mode file defines AVCPU_EL1(reg) to
 * name the EL1 register as EL2 sees it: the _EL12 alias under VHE
 * (Arm ARM, DDI 0487, D8.4 "Virtualization Host Extensions": with
 * HCR_EL2.E2H set, the plain _EL1 name reaches the EL2 register), the
 * _EL1 register itself under nVHE. Registers with no _EL12 alias are the
 * same register in both modes.
 *
 * Save and load are written side by side, in the order of
 * enum avcpu_sysreg_idx.
 */
#ifndef __AVCPU_HYP_SYSREG_SR_H__
#define __AVCPU_HYP_SYSREG_SR_H__

#include <asm/sysreg.h>

#include "../avcpu.h"

/* A name the 6.1 headers lack: SCXTNUM_EL1 as EL2 reaches it under VHE */
#ifndef SYS_SCXTNUM_EL12
#define SYS_SCXTNUM_EL12	sys_reg(3, 5, 13, 0, 7)
#endif

#ifndef AVCPU_EL1
#error "define AVCPU_EL1() before including sysreg-sr.h"
#endif

/* @features: AVCPU_FEAT_* of the CPU, which registers beyond v8.0 exist */
static __always_inline void avcpu_sysregs_save(u64 *r, u64 features)
{
	r[AVCPU_SCTLR_EL1]	= read_sysreg_s(AVCPU_EL1(SCTLR));
	r[AVCPU_CPACR_EL1]	= read_sysreg_s(AVCPU_EL1(CPACR));
	r[AVCPU_TTBR0_EL1]	= read_sysreg_s(AVCPU_EL1(TTBR0));
	r[AVCPU_TTBR1_EL1]	= read_sysreg_s(AVCPU_EL1(TTBR1));
	r[AVCPU_TCR_EL1]	= read_sysreg_s(AVCPU_EL1(TCR));
	r[AVCPU_ESR_EL1]	= read_sysreg_s(AVCPU_EL1(ESR));
	r[AVCPU_AFSR0_EL1]	= read_sysreg_s(AVCPU_EL1(AFSR0));
	r[AVCPU_AFSR1_EL1]	= read_sysreg_s(AVCPU_EL1(AFSR1));
	r[AVCPU_FAR_EL1]	= read_sysreg_s(AVCPU_EL1(FAR));
	r[AVCPU_MAIR_EL1]	= read_sysreg_s(AVCPU_EL1(MAIR));
	r[AVCPU_AMAIR_EL1]	= read_sysreg_s(AVCPU_EL1(AMAIR));
	r[AVCPU_VBAR_EL1]	= read_sysreg_s(AVCPU_EL1(VBAR));
	r[AVCPU_CONTEXTIDR_EL1]	= read_sysreg_s(AVCPU_EL1(CONTEXTIDR));
	r[AVCPU_CNTKCTL_EL1]	= read_sysreg_s(AVCPU_EL1(CNTKCTL));
	r[AVCPU_CNTV_CTL_EL0]	= read_sysreg_s(AVCPU_EL0(CNTV_CTL));
	r[AVCPU_CNTV_CVAL_EL0]	= read_sysreg_s(AVCPU_EL0(CNTV_CVAL));
	r[AVCPU_ELR_EL1]	= read_sysreg_s(AVCPU_EL1(ELR));
	r[AVCPU_SPSR_EL1]	= read_sysreg_s(AVCPU_EL1(SPSR));
	r[AVCPU_SP_EL1]		= read_sysreg(sp_el1);
	r[AVCPU_TPIDR_EL1]	= read_sysreg(tpidr_el1);
	r[AVCPU_TPIDR_EL0]	= read_sysreg(tpidr_el0);
	r[AVCPU_TPIDRRO_EL0]	= read_sysreg(tpidrro_el0);
	r[AVCPU_PAR_EL1]	= read_sysreg(par_el1);
	r[AVCPU_CSSELR_EL1]	= read_sysreg(csselr_el1);
	if (features & AVCPU_FEAT_SCXTNUM) {
		r[AVCPU_SCXTNUM_EL0] = read_sysreg_s(SYS_SCXTNUM_EL0);
		r[AVCPU_SCXTNUM_EL1] = read_sysreg_s(AVCPU_EL1(SCXTNUM));
	}
	if (features & AVCPU_FEAT_RAS)
		r[AVCPU_DISR_EL1] = read_sysreg_s(SYS_VDISR_EL2);
}

static __always_inline void avcpu_sysregs_load(const u64 *r, u64 features)
{
	write_sysreg_s(r[AVCPU_SCTLR_EL1],	AVCPU_EL1(SCTLR));
	write_sysreg_s(r[AVCPU_CPACR_EL1],	AVCPU_EL1(CPACR));
	write_sysreg_s(r[AVCPU_TTBR0_EL1],	AVCPU_EL1(TTBR0));
	write_sysreg_s(r[AVCPU_TTBR1_EL1],	AVCPU_EL1(TTBR1));
	write_sysreg_s(r[AVCPU_TCR_EL1],	AVCPU_EL1(TCR));
	write_sysreg_s(r[AVCPU_ESR_EL1],	AVCPU_EL1(ESR));
	write_sysreg_s(r[AVCPU_AFSR0_EL1],	AVCPU_EL1(AFSR0));
	write_sysreg_s(r[AVCPU_AFSR1_EL1],	AVCPU_EL1(AFSR1));
	write_sysreg_s(r[AVCPU_FAR_EL1],	AVCPU_EL1(FAR));
	write_sysreg_s(r[AVCPU_MAIR_EL1],	AVCPU_EL1(MAIR));
	write_sysreg_s(r[AVCPU_AMAIR_EL1],	AVCPU_EL1(AMAIR));
	write_sysreg_s(r[AVCPU_VBAR_EL1],	AVCPU_EL1(VBAR));
	write_sysreg_s(r[AVCPU_CONTEXTIDR_EL1],	AVCPU_EL1(CONTEXTIDR));
	write_sysreg_s(r[AVCPU_CNTKCTL_EL1],	AVCPU_EL1(CNTKCTL));
	/* CVAL first: CTL must not enable the timer on the old deadline */
	write_sysreg_s(r[AVCPU_CNTV_CVAL_EL0],	AVCPU_EL0(CNTV_CVAL));
	write_sysreg_s(r[AVCPU_CNTV_CTL_EL0],	AVCPU_EL0(CNTV_CTL));
	write_sysreg_s(r[AVCPU_ELR_EL1],	AVCPU_EL1(ELR));
	write_sysreg_s(r[AVCPU_SPSR_EL1],	AVCPU_EL1(SPSR));
	write_sysreg(r[AVCPU_SP_EL1],		sp_el1);
	write_sysreg(r[AVCPU_TPIDR_EL1],	tpidr_el1);
	write_sysreg(r[AVCPU_TPIDR_EL0],	tpidr_el0);
	write_sysreg(r[AVCPU_TPIDRRO_EL0],	tpidrro_el0);
	write_sysreg(r[AVCPU_PAR_EL1],		par_el1);
	write_sysreg(r[AVCPU_CSSELR_EL1],	csselr_el1);
	if (features & AVCPU_FEAT_SCXTNUM) {
		write_sysreg_s(r[AVCPU_SCXTNUM_EL0],	SYS_SCXTNUM_EL0);
		write_sysreg_s(r[AVCPU_SCXTNUM_EL1],	AVCPU_EL1(SCXTNUM));
	}
	if (features & AVCPU_FEAT_RAS)
		write_sysreg_s(r[AVCPU_DISR_EL1],	SYS_VDISR_EL2);
}

/*
 * The EL1 physical timer, for a guest that owns it (passthrough): the
 * control register first on save and last on load, so that the timer never
 * runs with a half-switched pair. @ctl and @cval may point into ctx.sys[]
 * or to the host's copy.
 */
static __always_inline void avcpu_ptimer_save(u64 *ctl, u64 *cval)
{
	*ctl = read_sysreg_s(AVCPU_EL0(CNTP_CTL));
	*cval = read_sysreg_s(AVCPU_EL0(CNTP_CVAL));
}

static __always_inline void avcpu_ptimer_load(u64 ctl, u64 cval)
{
	write_sysreg_s(cval, AVCPU_EL0(CNTP_CVAL));
	write_sysreg_s(ctl, AVCPU_EL0(CNTP_CTL));
}

#endif
