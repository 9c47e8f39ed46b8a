/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's EL1 exception vectors. Every entry saves the interrupted
 * context on the current stack (SP_EL1: an exception taken to EL1 always
 * selects it) and calls guest_handle_exception(regs, vector) in C, which
 * runs a handler or reports UCALL_UNHANDLED. The handler may edit the
 * saved registers; they are all written back before ERET.
 *
 * Frame, from the stack pointer up: struct ex_regs (EX_REGS_SIZE bytes),
 * then q0-q31, then FPSR and FPCR. The FP/SIMD registers are saved because
 * handlers are ordinary test code, compiled without -mgeneral-regs-only,
 * and the interrupted code expects its vector registers back intact.
 */
#include "guest.h"

#define FP_OFFSET	EX_REGS_SIZE			/* q0 */
#define FP_CTL		(32 * 16)			/* FPSR, FPCR after q31 */
#define FRAME_SIZE	(EX_REGS_SIZE + FP_CTL + 16)	/* 16-byte multiple */

/* Each entry is 0x80 bytes: save x0/x1, pass the index, branch out. */
.macro ventry index
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #EX_REGS_X0]
	mov	x0, #\index
	b	guest_vector_common
.endm

	.text
	/* VBAR_EL1 ignores bits 10:0: the table must be 2 KiB aligned. */
	.balign	0x800
	.globl	guest_vectors
guest_vectors:
	ventry	VECTOR_SYNC_CURRENT_SP0
	ventry	VECTOR_IRQ_CURRENT_SP0
	ventry	VECTOR_FIQ_CURRENT_SP0
	ventry	VECTOR_SERROR_CURRENT_SP0
	ventry	VECTOR_SYNC_CURRENT
	ventry	VECTOR_IRQ_CURRENT
	ventry	VECTOR_FIQ_CURRENT
	ventry	VECTOR_SERROR_CURRENT
	ventry	VECTOR_SYNC_LOWER_64
	ventry	VECTOR_IRQ_LOWER_64
	ventry	VECTOR_FIQ_LOWER_64
	ventry	VECTOR_SERROR_LOWER_64
	ventry	VECTOR_SYNC_LOWER_32
	ventry	VECTOR_IRQ_LOWER_32
	ventry	VECTOR_FIQ_LOWER_32
	ventry	VECTOR_SERROR_LOWER_32
	.balign	0x80		/* the last entry is 0x80 bytes too */
	.size	guest_vectors, . - guest_vectors

/* x0 = vector index; x0 and x1 are saved already. */
	.type	guest_vector_common, %function
guest_vector_common:
	stp	x2, x3, [sp, #16 * 1]
	stp	x4, x5, [sp, #16 * 2]
	stp	x6, x7, [sp, #16 * 3]
	stp	x8, x9, [sp, #16 * 4]
	stp	x10, x11, [sp, #16 * 5]
	stp	x12, x13, [sp, #16 * 6]
	stp	x14, x15, [sp, #16 * 7]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #16 * 9]
	stp	x20, x21, [sp, #16 * 10]
	stp	x22, x23, [sp, #16 * 11]
	stp	x24, x25, [sp, #16 * 12]
	stp	x26, x27, [sp, #16 * 13]
	stp	x28, x29, [sp, #16 * 14]
	str	x30, [sp, #16 * 15]

	/*
	 * The interrupted stack pointer: SP_EL1 before this frame for the
	 * "current EL with SPx" vectors (4-7), SP_EL0 for all the others.
	 * x19 keeps the index across the call (callee-saved).
	 */
	mov	x19, x0
	mrs	x1, sp_el0
	add	x2, sp, #FRAME_SIZE
	sub	x3, x19, #VECTOR_SYNC_CURRENT
	cmp	x3, #4
	csel	x1, x2, x1, lo
	mrs	x2, elr_el1
	stp	x1, x2, [sp, #EX_REGS_SP]	/* sp, pc */
	mrs	x1, spsr_el1
	mrs	x2, esr_el1
	stp	x1, x2, [sp, #EX_REGS_PSTATE]	/* pstate, esr */
	mrs	x1, far_el1
	str	x1, [sp, #EX_REGS_FAR]

	add	x1, sp, #FP_OFFSET
	stp	q0, q1, [x1, #32 * 0]
	stp	q2, q3, [x1, #32 * 1]
	stp	q4, q5, [x1, #32 * 2]
	stp	q6, q7, [x1, #32 * 3]
	stp	q8, q9, [x1, #32 * 4]
	stp	q10, q11, [x1, #32 * 5]
	stp	q12, q13, [x1, #32 * 6]
	stp	q14, q15, [x1, #32 * 7]
	stp	q16, q17, [x1, #32 * 8]
	stp	q18, q19, [x1, #32 * 9]
	stp	q20, q21, [x1, #32 * 10]
	stp	q22, q23, [x1, #32 * 11]
	stp	q24, q25, [x1, #32 * 12]
	stp	q26, q27, [x1, #32 * 13]
	stp	q28, q29, [x1, #32 * 14]
	stp	q30, q31, [x1, #32 * 15]
	mrs	x2, fpsr
	mrs	x3, fpcr
	str	x2, [sp, #FP_OFFSET + FP_CTL]		/* beyond STP's reach */
	str	x3, [sp, #FP_OFFSET + FP_CTL + 8]

	mov	x0, sp
	mov	x1, x19
	bl	guest_handle_exception

	ldr	x2, [sp, #FP_OFFSET + FP_CTL]
	ldr	x3, [sp, #FP_OFFSET + FP_CTL + 8]
	msr	fpsr, x2
	msr	fpcr, x3
	add	x1, sp, #FP_OFFSET
	ldp	q0, q1, [x1, #32 * 0]
	ldp	q2, q3, [x1, #32 * 1]
	ldp	q4, q5, [x1, #32 * 2]
	ldp	q6, q7, [x1, #32 * 3]
	ldp	q8, q9, [x1, #32 * 4]
	ldp	q10, q11, [x1, #32 * 5]
	ldp	q12, q13, [x1, #32 * 6]
	ldp	q14, q15, [x1, #32 * 7]
	ldp	q16, q17, [x1, #32 * 8]
	ldp	q18, q19, [x1, #32 * 9]
	ldp	q20, q21, [x1, #32 * 10]
	ldp	q22, q23, [x1, #32 * 11]
	ldp	q24, q25, [x1, #32 * 12]
	ldp	q26, q27, [x1, #32 * 13]
	ldp	q28, q29, [x1, #32 * 14]
	ldp	q30, q31, [x1, #32 * 15]

	/* The handler may have moved pc (ELR) or changed pstate (SPSR). */
	ldp	x2, x3, [sp, #EX_REGS_PC]	/* pc, pstate */
	msr	elr_el1, x2
	msr	spsr_el1, x3
	/* SP_EL0 goes back only where it was the interrupted stack pointer. */
	sub	x2, x19, #VECTOR_SYNC_CURRENT
	cmp	x2, #4
	b.lo	1f
	ldr	x2, [sp, #EX_REGS_SP]
	msr	sp_el0, x2
1:
	ldp	x0, x1, [sp, #16 * 0]
	ldp	x2, x3, [sp, #16 * 1]
	ldp	x4, x5, [sp, #16 * 2]
	ldp	x6, x7, [sp, #16 * 3]
	ldp	x8, x9, [sp, #16 * 4]
	ldp	x10, x11, [sp, #16 * 5]
	ldp	x12, x13, [sp, #16 * 6]
	ldp	x14, x15, [sp, #16 * 7]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x18, x19, [sp, #16 * 9]
	ldp	x20, x21, [sp, #16 * 10]
	ldp	x22, x23, [sp, #16 * 11]
	ldp	x24, x25, [sp, #16 * 12]
	ldp	x26, x27, [sp, #16 * 13]
	ldp	x28, x29, [sp, #16 * 14]
	ldr	x30, [sp, #16 * 15]
	add	sp, sp, #FRAME_SIZE
	eret
	.size	guest_vector_common, . - guest_vector_common
