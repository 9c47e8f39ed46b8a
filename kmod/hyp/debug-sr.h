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
#include "switch.h"

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
	__avcpu_debug_save(d, t->nr_brps, t->nr_wrps);
}

/* @guest: clear the EL2 match controls of the values loaded */
static __always_inline void avcpu_debug_load(const struct avcpu_traps *t,
					     const struct avcpu_debug_regs *d,
					     bool guest)
{
	__avcpu_debug_load(d, t->nr_brps, t->nr_wrps,
			   guest ? ~AVCPU_DBG_CR_EL2_MATCH : ~0ULL);
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
