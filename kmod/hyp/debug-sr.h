/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's hardware breakpoints and watchpoints, and MDSCR_EL1, in the
 * world switch (both modes; design.rst, "Guest debug").
 *
 * MDSCR_EL1 is the guest's on every entry: with its MDE, KDE and SS clear
 * (a guest that never debugs), no breakpoint, watchpoint or step of the
 * host's can fire in the guest. The breakpoint and watchpoint registers
 * are switched only for a guest that uses them (ctx.debug.active), all of
 * the CPU's, so that none of the host's stays armed under the guest; a
 * guest that never touches them pays two MDSCR_EL1 writes and a read.
 *
 * The guest's accesses to all of these trap (MDCR_EL2.TDA) and are served
 * from ctx (sysreg.c), so what the CPU holds at exit is never newer than
 * ctx: nothing is saved back.
 */
#ifndef __AVCPU_HYP_DEBUG_SR_H__
#define __AVCPU_HYP_DEBUG_SR_H__

#include <asm/debug-monitors.h>
#include <asm/sysreg.h>

#include "../avcpu.h"

/* Reads and writes of breakpoint/watchpoint register @n (0-15) of a kind */
#define AVCPU_DBG_CASES(X, kind)					\
	X(kind, 0); X(kind, 1); X(kind, 2); X(kind, 3);			\
	X(kind, 4); X(kind, 5); X(kind, 6); X(kind, 7);			\
	X(kind, 8); X(kind, 9); X(kind, 10); X(kind, 11);		\
	X(kind, 12); X(kind, 13); X(kind, 14); X(kind, 15)

#define AVCPU_DBG_RD_CASE(kind, n)					\
	case n: return read_sysreg_s(SYS_DBG##kind##n_EL1(n))
#define AVCPU_DBG_WR_CASE(kind, n)					\
	case n: write_sysreg_s(v, SYS_DBG##kind##n_EL1(n)); break

#define AVCPU_DBG_ACCESSORS(kind)					\
static __always_inline u64 avcpu_dbg_rd_##kind(int n)			\
{									\
	switch (n) {							\
	AVCPU_DBG_CASES(AVCPU_DBG_RD_CASE, kind);			\
	}								\
	return 0;							\
}									\
static __always_inline void avcpu_dbg_wr_##kind(int n, u64 v)		\
{									\
	switch (n) {							\
	AVCPU_DBG_CASES(AVCPU_DBG_WR_CASE, kind);			\
	}								\
}

AVCPU_DBG_ACCESSORS(BVR)
AVCPU_DBG_ACCESSORS(BCR)
AVCPU_DBG_ACCESSORS(WVR)
AVCPU_DBG_ACCESSORS(WCR)

/*
 * DBGBCR<n>_EL1 / DBGWCR<n>_EL1 HMC (bit 13) and SSC (bits 15:14): clear,
 * a guest's breakpoint or watchpoint matches at EL1 and EL0 only, never in
 * avcpu's or the host's code at EL2 (Arm ARM, DDI 0487, D2.9 "Breakpoint
 * instruction address comparisons", the HMC/SSC/PxC table).
 */
#define AVCPU_DBG_CR_EL2_MATCH	GENMASK_ULL(15, 13)

static __always_inline void avcpu_debug_save(const struct avcpu_traps *t,
					     struct avcpu_debug_regs *d)
{
	int i;

	for (i = 0; i < t->nr_brps; i++) {
		d->bvr[i] = avcpu_dbg_rd_BVR(i);
		d->bcr[i] = avcpu_dbg_rd_BCR(i);
	}
	for (i = 0; i < t->nr_wrps; i++) {
		d->wvr[i] = avcpu_dbg_rd_WVR(i);
		d->wcr[i] = avcpu_dbg_rd_WCR(i);
	}
}

/* @guest: clear the EL2 match controls of the values loaded */
static __always_inline void avcpu_debug_load(const struct avcpu_traps *t,
					     const struct avcpu_debug_regs *d,
					     bool guest)
{
	u64 mask = guest ? ~AVCPU_DBG_CR_EL2_MATCH : ~0ULL;
	int i;

	for (i = 0; i < t->nr_brps; i++) {
		avcpu_dbg_wr_BVR(i, d->bvr[i]);
		avcpu_dbg_wr_BCR(i, d->bcr[i] & mask);
	}
	for (i = 0; i < t->nr_wrps; i++) {
		avcpu_dbg_wr_WVR(i, d->wvr[i]);
		avcpu_dbg_wr_WCR(i, d->wcr[i] & mask);
	}
}

/*
 * The MDSCR_EL1 the guest runs with: its own, but with the OS lock set
 * (its OSLSR_EL1.OSLK), breakpoints, watchpoints and steps are disabled
 * (D2.5 "The OS Lock").
 */
static __always_inline u64 avcpu_guest_mdscr(const struct avcpu_ctx *ctx)
{
	u64 mdscr = ctx->sys[AVCPU_MDSCR_EL1];

	if (ctx->sys[AVCPU_OSLSR_EL1] & BIT(1))
		mdscr &= ~(u64)(DBG_MDSCR_MDE | DBG_MDSCR_KDE | DBG_MDSCR_SS);
	return mdscr;
}

#endif
