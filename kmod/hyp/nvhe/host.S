/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EL2 on an nVHE host, the assembly half: the page that takes EL2 from the
 * kernel's hyp stub and gives it back (run from its physical address), and
 * the vectors that answer the host's HVCs once avcpu holds EL2.
 *
 * Documentation/design.rst ("nVHE hosts") describes the sequence; the hyp
 * stub ABI is the kernel's Documentation/virt/kvm/arm/hyp-abi.rst.
 */
#include <linux/linkage.h>
#include <asm/assembler.h>
#include <asm/esr.h>
#include <asm/virt.h>

#include "nvhe.h"
#include "../avcpu-offsets.h"

	.text

/*
 * The identity page. HVC_SET_VECTORS points VBAR_EL2 at its physical
 * address while the EL2 MMU is off, and avcpu's EL2 tables map the page at
 * VA == PA, so the code here keeps running across the SCTLR_EL2.M changes
 * (Arm ARM, DDI 0487, D8.2.11 "Enabling and disabling the MMU": the
 * instructions after the change are fetched with the new setting). All of
 * it must fit one page: module text is virtually, not physically,
 * contiguous.
 */
	.balign	PAGE_SIZE
SYM_CODE_START(__avcpu_nvhe_idmap_start)
SYM_INNER_LABEL(__avcpu_nvhe_init_vectors, SYM_L_GLOBAL)
	/* D1.10.2 "Exception vectors": 16 entries of 128 bytes */
	.rept	8
	.align	7
	b	.			/* nothing but the host's HVC is expected */
	.endr
	.align	7
	b	__avcpu_nvhe_init	/* lower EL, AArch64, synchronous */
	.rept	7
	.align	7
	b	.
	.endr

/*
 * AVCPU_HVC_INIT, taken with the MMU off, from the host's EL1 (nvhe.c).
 *   x1 TTBR0_EL2, x2 TCR_EL2, x3 MAIR_EL2, x4 SCTLR_EL2 (MMU on),
 *   x5 SP_EL2 (EL2 VA: the top of this CPU's block), x6 TPIDR_EL2,
 *   x7 VBAR_EL2 (EL2 VA of __avcpu_nvhe_vectors).
 * Returns 0 in x0 with avcpu's EL2 live, HVC_STUB_ERR for any other call.
 * The stub's values of what is changed are kept in struct avcpu_nvhe_data,
 * for __avcpu_nvhe_release to put back.
 */
	.align	7
SYM_INNER_LABEL(__avcpu_nvhe_init, SYM_L_LOCAL)
	mov_q	x9, AVCPU_HVC_INIT
	cmp	x0, x9
	b.ne	1f
	mrs	x9, sctlr_el2
	mrs	x10, tcr_el2
	mrs	x11, mair_el2
	mrs	x12, ttbr0_el2
	mrs	x13, tpidr_el2
	mov	x14, sp

	msr	mair_el2, x3
	msr	tcr_el2, x2
	msr	ttbr0_el2, x1
	isb
	/* EL2 has no ASID: a previous owner's entries must not survive */
	tlbi	alle2
	dsb	nsh
	isb
	msr	sctlr_el2, x4
	isb
	ic	iallu
	dsb	nsh
	isb

	msr	vbar_el2, x7
	msr	tpidr_el2, x6
	mov	sp, x5
	/* the data page, now through the cacheable mapping the host shares */
	sub	x8, x5, #AVCPU_NVHE_BLOCK_SIZE
	stp	x9, x10, [x8, #NVHE_ORIG_SCTLR]
	stp	x11, x12, [x8, #NVHE_ORIG_MAIR]
	stp	x13, x14, [x8, #NVHE_ORIG_TPIDR]
	isb
	mov	x0, xzr
	eret
1:	mov_q	x0, HVC_STUB_ERR
	eret
	sb

/*
 * Give EL2 back to the hyp stub, exactly as it was; reached by a branch to
 * this physical address from __avcpu_nvhe_give_back, with the MMU on.
 *   x0 HVC_RESET_VECTORS or HVC_SOFT_RESTART, x1-x4 that call's arguments,
 *   x9-x14 the stub's SCTLR, TCR, MAIR, TTBR0, TPIDR and SP of EL2,
 *   x15 the stub's vectors (physical).
 * HVC_RESET_VECTORS returns 0 to the host; HVC_SOFT_RESTART continues as
 * the stub would: at x1, at EL2, MMU off, with x0-x2 = the old x2-x4.
 */
SYM_INNER_LABEL(__avcpu_nvhe_release, SYM_L_GLOBAL)
	msr	sctlr_el2, x9
	isb
	tlbi	alle2
	dsb	nsh
	ic	iallu
	dsb	nsh
	isb
	msr	tcr_el2, x10
	msr	mair_el2, x11
	msr	ttbr0_el2, x12
	msr	tpidr_el2, x13
	mov	sp, x14
	msr	vbar_el2, x15
	isb
	cmp	x0, #HVC_SOFT_RESTART
	b.eq	2f
	mov	x0, xzr
	eret
2:	mov	x0, x2
	mov	x2, x4
	mov	x4, x1
	mov	x1, x3
	br	x4
SYM_INNER_LABEL(__avcpu_nvhe_idmap_end, SYM_L_GLOBAL)
SYM_CODE_END(__avcpu_nvhe_idmap_start)
	/* the nVHE identity code must fit one page: .org refuses to go back */
	.org	__avcpu_nvhe_idmap_start + PAGE_SIZE

/*
 * The host's HVC once avcpu holds EL2 (MMU on, EL2 VAs). The hyp stub ABI
 * lets the call clobber x0-x18; x29, x30, the host's ELR_EL2 and SPSR_EL2
 * (which a guest run overwrites) are kept on the EL2 stack.
 */
SYM_CODE_START_LOCAL(__avcpu_nvhe_host_sync)
	mrs	x9, esr_el2
	lsr	x9, x9, #ESR_ELx_EC_SHIFT
	cmp	x9, #ESR_ELx_EC_HVC64
	b.ne	__avcpu_nvhe_panic
	cmp	x0, #HVC_SOFT_RESTART
	b.eq	__avcpu_nvhe_give_back
	cmp	x0, #HVC_RESET_VECTORS
	b.eq	__avcpu_nvhe_give_back
	/* HVC_SET_VECTORS, HVC_FINALISE_EL2: only the stub implements them */
	cmp	x0, #HVC_STUB_HCALL_NR
	b.lo	1f

	stp	x29, x30, [sp, #-32]!
	mrs	x9, elr_el2
	mrs	x10, spsr_el2
	stp	x9, x10, [sp, #16]
	bl	__avcpu_nvhe_hvc
	ldp	x9, x10, [sp, #16]
	msr	elr_el2, x9
	msr	spsr_el2, x10
	ldp	x29, x30, [sp], #32
	eret
	sb
1:	mov_q	x0, HVC_STUB_ERR
	eret
	sb
SYM_CODE_END(__avcpu_nvhe_host_sync)

/* Load what __avcpu_nvhe_release needs and branch to its identity address. */
SYM_CODE_START_LOCAL(__avcpu_nvhe_give_back)
	mov	x16, sp
	sub	x16, x16, #AVCPU_NVHE_BLOCK_SIZE
	ldp	x9, x10, [x16, #NVHE_ORIG_SCTLR]
	ldp	x11, x12, [x16, #NVHE_ORIG_MAIR]
	ldp	x13, x14, [x16, #NVHE_ORIG_TPIDR]
	ldp	x15, x17, [x16, #NVHE_STUB_VBAR]
	br	x17
SYM_CODE_END(__avcpu_nvhe_give_back)

/*
 * Nothing else may reach avcpu's EL2 while the host runs (HCR_EL2 routes
 * the host's interrupts and aborts to EL1), and an exception taken from
 * EL2 itself is a bug in avcpu: stop this CPU here, where a debugger
 * (or QEMU's -d int log) finds ESR_EL2 and ELR_EL2 intact, rather than
 * return into a state that cannot be trusted.
 */
SYM_CODE_START_LOCAL(__avcpu_nvhe_panic)
	wfe
	b	__avcpu_nvhe_panic
SYM_CODE_END(__avcpu_nvhe_panic)

.macro nvhe_vector target
	.align 7
	b	\target
.endm

	.align 11
SYM_CODE_START(__avcpu_nvhe_vectors)
	nvhe_vector	__avcpu_nvhe_panic	/* EL2t */
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic	/* EL2h */
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_host_sync	/* lower EL, AArch64 */
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic	/* lower EL, AArch32 */
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
	nvhe_vector	__avcpu_nvhe_panic
SYM_CODE_END(__avcpu_nvhe_vectors)
