/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry and exit at EL2, shared by both host modes: the vector table
 * VBAR_EL2 points to while a guest runs, and the FP/SIMD save and load.
 *
 * Register contract of __avcpu_guest_enter (AAPCS64 call from C, IRQs off):
 *   x0: struct avcpu_ctx * of the guest, x1: the host's VBAR_EL2.
 *   returns AVCPU_EXC_* in x0 when the guest exits.
 * Everything the C caller expects preserved (x18-x30, sp) and the host's
 * SP_EL0 (Linux keeps "current" there) is kept in a frame on the host stack.
 * An exception from the guest is taken to EL2 with SP_EL2, which still
 * points at that frame, so the exit path needs no other state. The frame's
 * address is also kept per CPU (struct avcpu_el2_cpu), for an unexpected
 * exception at EL2 to unwind to: it returns AVCPU_EXC_EL2 from here, with
 * the host's vectors back, and the vCPU's state is lost.
 */
#include <linux/arm-smccc.h>
#include <linux/linkage.h>
#include <asm/assembler.h>

#include "avcpu-offsets.h"

#define CTX_X(n)	(CTX_X0 + (n) * 8)

/* The host frame, from sp at guest entry */
#define FRAME_X18	96
#define FRAME_CTX	104
#define FRAME_SP_EL0	112
#define FRAME_VBAR	120
#define FRAME_SIZE	128

/*
 * This CPU's copy of a per-CPU variable, as EL2 sees it. TPIDR_EL2 holds
 * the kernel's per-CPU offset in both modes: the kernel keeps it there
 * under VHE, avcpu's nVHE init puts it there (kmod/nvhe.c, which also
 * maps the variables at EL2). adr_this_cpu would read TPIDR_EL1 on an
 * nVHE host, which is the host's or the guest's.
 */
.macro	hyp_this_cpu dst, sym, tmp
	adr_l	\dst, \sym
	mrs	\tmp, tpidr_el2
	add	\dst, \dst, \tmp
.endm

#define EXC_SYNC	0
#define EXC_IRQ		1
#define EXC_FIQ		2
#define EXC_SERROR	3
#define EXC_EL2		4

	.text

SYM_FUNC_START(__avcpu_guest_enter)
	sub	sp, sp, #FRAME_SIZE
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	x18, x0, [sp, #FRAME_X18]
	mrs	x2, sp_el0
	stp	x2, x1, [sp, #FRAME_SP_EL0]

	/* where an exception at EL2 unwinds to, before it can happen here */
	hyp_this_cpu x2, avcpu_el2_cpu, x3
	mov	x3, sp
	str	x3, [x2, #EL2CPU_FRAME]

	adr_l	x3, __avcpu_vectors
	msr	vbar_el2, x3
	isb

	/* the test knob (debugfs "el2_fault"): one fault at EL2, once */
	ldr	x3, [x2, #EL2CPU_INJECT_FAULT]
	cbz	x3, 1f
	str	xzr, [x2, #EL2CPU_INJECT_FAULT]
	udf	#0
1:

	ldr	x2, [x0, #CTX_SP_EL0]
	msr	sp_el0, x2
	ldp	x2, x3, [x0, #CTX_X(2)]
	ldp	x4, x5, [x0, #CTX_X(4)]
	ldp	x6, x7, [x0, #CTX_X(6)]
	ldp	x8, x9, [x0, #CTX_X(8)]
	ldp	x10, x11, [x0, #CTX_X(10)]
	ldp	x12, x13, [x0, #CTX_X(12)]
	ldp	x14, x15, [x0, #CTX_X(14)]
	ldp	x16, x17, [x0, #CTX_X(16)]
	ldp	x18, x19, [x0, #CTX_X(18)]
	ldp	x20, x21, [x0, #CTX_X(20)]
	ldp	x22, x23, [x0, #CTX_X(22)]
	ldp	x24, x25, [x0, #CTX_X(24)]
	ldp	x26, x27, [x0, #CTX_X(26)]
	ldp	x28, x29, [x0, #CTX_X(28)]
	ldr	x30, [x0, #CTX_X(30)]
	ldp	x0, x1, [x0, #CTX_X(0)]
	eret
	/* no speculation past the ERET (Arm ARM: "Speculation Barrier") */
	dsb	nsh
	isb
SYM_FUNC_END(__avcpu_guest_enter)

/*
 * Common exit: x0 = AVCPU_EXC_*, the guest's x0/x1 pushed on the stack
 * just above the host frame.
 */
SYM_CODE_START_LOCAL(__avcpu_guest_exit)
	ldr	x1, [sp, #16 + FRAME_CTX]
	stp	x2, x3, [x1, #CTX_X(2)]
	stp	x4, x5, [x1, #CTX_X(4)]
	stp	x6, x7, [x1, #CTX_X(6)]
	stp	x8, x9, [x1, #CTX_X(8)]
	stp	x10, x11, [x1, #CTX_X(10)]
	stp	x12, x13, [x1, #CTX_X(12)]
	stp	x14, x15, [x1, #CTX_X(14)]
	stp	x16, x17, [x1, #CTX_X(16)]
	stp	x18, x19, [x1, #CTX_X(18)]
	stp	x20, x21, [x1, #CTX_X(20)]
	stp	x22, x23, [x1, #CTX_X(22)]
	stp	x24, x25, [x1, #CTX_X(24)]
	stp	x26, x27, [x1, #CTX_X(26)]
	stp	x28, x29, [x1, #CTX_X(28)]
	str	x30, [x1, #CTX_X(30)]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x1, #CTX_X(0)]
	mrs	x2, sp_el0
	str	x2, [x1, #CTX_SP_EL0]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [x1, #CTX_PC]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [x1, #CTX_ESR]
	mrs	x2, hpfar_el2
	str	x2, [x1, #CTX_HPFAR]

	/*
	 * Before the host's first indirect branch, what the kernel does for
	 * itself against a guest's training of the branch predictor
	 * (mitigations.c): Spectre-v2's firmware call, then Spectre-BHB's
	 * CLRBHB, loop of k taken branches, or firmware call. Every general
	 * register but x0 (the exit code) is free here: the guest's are
	 * saved, the host's come from the frame. SMCCC 1.1 calls clobber
	 * x0-x3 only.
	 */
	hyp_this_cpu x2, avcpu_el2_cpu, x3
	ldr	x19, [x2, #EL2CPU_MITIGATIONS]
	cbz	x19, .L_mitigated
	mov	x20, x0
	tbz	x19, #EL2_V2_FW_BIT, 1f
	mov_q	x0, ARM_SMCCC_ARCH_WORKAROUND_1
	smc	#0
1:	tbz	x19, #EL2_BHB_CLRBHB_BIT, 2f
	hint	#22			/* CLRBHB (FEAT_CLRBHB) */
	isb
2:	tbz	x19, #EL2_BHB_FW_BIT, 3f
	mov_q	x0, ARM_SMCCC_ARCH_WORKAROUND_3
	smc	#0
3:	and	x3, x19, #EL2_BHB_LOOP_MASK
	cbz	x3, 5f
4:	b	. + 4
	subs	x3, x3, #1
	b.ne	4b
	dsb	nsh
	isb
5:	mov	x0, x20
.L_mitigated:

	/*
	 * An SError the guest left pending is taken here, with the syndrome
	 * saved and our vectors installed, where __avcpu_el2_serror records
	 * it; the host's own vectors would treat it as fatal. Exception
	 * entry masked it (PSTATE.A), so unmask it for this window only.
	 */
	dsb	sy
	msr	daifclr, #4
	isb
	msr	daifset, #4

	/* "current" first: nothing below may run without it */
.L_unwind:
	ldp	x2, x3, [sp, #FRAME_SP_EL0]
	msr	sp_el0, x2
	msr	vbar_el2, x3
	isb

	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldr	x18, [sp, #FRAME_X18]
	add	sp, sp, #FRAME_SIZE
	ret
SYM_CODE_END(__avcpu_guest_exit)

/*
 * An exception taken from EL2 itself while our table is installed: the few
 * instructions around ERET and the exit path above. None is expected; an
 * SError there is the guest's, recorded and left behind. Anything else
 * (a synchronous exception, an interrupt the masks should have kept out)
 * must neither return into the entry, which would then run a guest with
 * whatever state it had, nor reach the host's vectors with ours in place:
 * its syndrome is kept, the stack goes back to the entry's host frame,
 * and __avcpu_guest_enter returns EXC_EL2 through the normal exit's last
 * steps (the host's SP_EL0 and vectors, the callee-saved registers). The
 * interrupted context is abandoned; the C caller restores the rest of the
 * host's state as after any exit and stops the vCPU.
 */
SYM_CODE_START_LOCAL(__avcpu_el2_exception)
	hyp_this_cpu x0, avcpu_el2_cpu, x1
	mrs	x1, esr_el2
	str	x1, [x0, #EL2CPU_FAULT_ESR]
	mrs	x1, elr_el2
	str	x1, [x0, #EL2CPU_FAULT_ELR]
	mrs	x1, far_el2
	str	x1, [x0, #EL2CPU_FAULT_FAR]
	ldr	x1, [x0, #EL2CPU_FRAME]
	mov	sp, x1
	mov	x0, #EXC_EL2
	b	.L_unwind
SYM_CODE_END(__avcpu_el2_exception)

SYM_CODE_START_LOCAL(__avcpu_el2_serror)
	stp	x0, x1, [sp, #-16]!
	hyp_this_cpu x0, avcpu_el2_cpu, x1
	mov	x1, #1
	str	x1, [x0, #EL2CPU_SERROR_SEEN]
	ldp	x0, x1, [sp], #16
	eret
SYM_CODE_END(__avcpu_el2_serror)

.macro guest_vector code
	.align 7
	stp	x0, x1, [sp, #-16]!
	mov	x0, #\code
	b	__avcpu_guest_exit
.endm

.macro el2_vector target
	.align 7
	b	\target
.endm

/* Arm ARM, DDI 0487, D1.10.2 "Exception vectors": 16 entries of 128 bytes */
	.align 11
SYM_CODE_START(__avcpu_vectors)
	el2_vector	__avcpu_el2_exception	/* EL2t sync */
	el2_vector	__avcpu_el2_exception	/* EL2t IRQ */
	el2_vector	__avcpu_el2_exception	/* EL2t FIQ */
	el2_vector	__avcpu_el2_serror	/* EL2t SError */
	el2_vector	__avcpu_el2_exception	/* EL2h sync */
	el2_vector	__avcpu_el2_exception	/* EL2h IRQ */
	el2_vector	__avcpu_el2_exception	/* EL2h FIQ */
	el2_vector	__avcpu_el2_serror	/* EL2h SError */
	guest_vector	EXC_SYNC		/* lower EL, AArch64 */
	guest_vector	EXC_IRQ
	guest_vector	EXC_FIQ
	guest_vector	EXC_SERROR
	guest_vector	EXC_SYNC		/* lower EL, AArch32 */
	guest_vector	EXC_IRQ
	guest_vector	EXC_FIQ
	guest_vector	EXC_SERROR
SYM_CODE_END(__avcpu_vectors)

/* x0: struct avcpu_fpsimd *. Caller owns the FP unit (kernel_neon_begin). */
SYM_FUNC_START(__avcpu_fpsimd_save)
	stp	q0, q1, [x0, #0 * 32]
	stp	q2, q3, [x0, #1 * 32]
	stp	q4, q5, [x0, #2 * 32]
	stp	q6, q7, [x0, #3 * 32]
	stp	q8, q9, [x0, #4 * 32]
	stp	q10, q11, [x0, #5 * 32]
	stp	q12, q13, [x0, #6 * 32]
	stp	q14, q15, [x0, #7 * 32]
	stp	q16, q17, [x0, #8 * 32]
	stp	q18, q19, [x0, #9 * 32]
	stp	q20, q21, [x0, #10 * 32]
	stp	q22, q23, [x0, #11 * 32]
	stp	q24, q25, [x0, #12 * 32]
	stp	q26, q27, [x0, #13 * 32]
	stp	q28, q29, [x0, #14 * 32]
	stp	q30, q31, [x0, #15 * 32]
	mrs	x1, fpsr
	mrs	x2, fpcr
	add	x0, x0, #FP_FPSR
	stp	x1, x2, [x0]
	ret
SYM_FUNC_END(__avcpu_fpsimd_save)

SYM_FUNC_START(__avcpu_fpsimd_load)
	ldp	q0, q1, [x0, #0 * 32]
	ldp	q2, q3, [x0, #1 * 32]
	ldp	q4, q5, [x0, #2 * 32]
	ldp	q6, q7, [x0, #3 * 32]
	ldp	q8, q9, [x0, #4 * 32]
	ldp	q10, q11, [x0, #5 * 32]
	ldp	q12, q13, [x0, #6 * 32]
	ldp	q14, q15, [x0, #7 * 32]
	ldp	q16, q17, [x0, #8 * 32]
	ldp	q18, q19, [x0, #9 * 32]
	ldp	q20, q21, [x0, #10 * 32]
	ldp	q22, q23, [x0, #11 * 32]
	ldp	q24, q25, [x0, #12 * 32]
	ldp	q26, q27, [x0, #13 * 32]
	ldp	q28, q29, [x0, #14 * 32]
	ldp	q30, q31, [x0, #15 * 32]
	add	x0, x0, #FP_FPSR
	ldp	x1, x2, [x0]
	msr	fpsr, x1
	msr	fpcr, x2
	ret
SYM_FUNC_END(__avcpu_fpsimd_load)

/*
 * The breakpoint and watchpoint registers, by number: each has its own
 * MRS/MSR encoding, so the accesses are unrolled, and a comparison with the
 * CPU's count ends the run (no computed branch). Those beyond the count
 * do not exist: reading one is UNDEFINED.
 */
.macro dbg_save_one count, vr, cr, offvr, offcr, n, done
	cmp	\count, #\n
	b.le	\done
	mrs	x4, \vr\n\()_el1
	str	x4, [x0, #(\offvr + \n * 8)]
	mrs	x4, \cr\n\()_el1
	str	x4, [x0, #(\offcr + \n * 8)]
.endm

.macro dbg_load_one count, vr, cr, offvr, offcr, n, done
	cmp	\count, #\n
	b.le	\done
	ldr	x4, [x0, #(\offvr + \n * 8)]
	msr	\vr\n\()_el1, x4
	ldr	x4, [x0, #(\offcr + \n * 8)]
	and	x4, x4, x3
	msr	\cr\n\()_el1, x4
.endm

/* x0: struct avcpu_debug_regs *, x1: breakpoints, x2: watchpoints */
SYM_FUNC_START(__avcpu_debug_save)
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 0, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 1, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 2, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 3, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 4, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 5, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 6, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 7, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 8, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 9, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 10, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 11, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 12, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 13, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 14, 1f
	dbg_save_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 15, 1f
1:
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 0, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 1, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 2, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 3, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 4, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 5, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 6, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 7, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 8, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 9, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 10, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 11, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 12, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 13, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 14, 2f
	dbg_save_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 15, 2f
2:	ret
SYM_FUNC_END(__avcpu_debug_save)

/* x0: struct avcpu_debug_regs *, x1, x2 as above, x3: mask of DBG[BW]CR */
SYM_FUNC_START(__avcpu_debug_load)
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 0, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 1, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 2, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 3, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 4, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 5, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 6, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 7, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 8, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 9, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 10, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 11, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 12, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 13, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 14, 1f
	dbg_load_one	x1, dbgbvr, dbgbcr, DBG_BVR, DBG_BCR, 15, 1f
1:
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 0, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 1, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 2, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 3, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 4, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 5, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 6, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 7, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 8, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 9, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 10, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 11, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 12, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 13, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 14, 2f
	dbg_load_one	x2, dbgwvr, dbgwcr, DBG_WVR, DBG_WCR, 15, 2f
2:	ret
SYM_FUNC_END(__avcpu_debug_load)
