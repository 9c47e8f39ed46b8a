/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The random-instruction guest (insn_fuzz.c): entry, MMU, GIC and timer
 * set-up, the vector table, and the step that enters one random word.
 * avm enters a raw binary at the RAM base with the MMU off.
 */
#include "insn_fuzz.h"

	.section .text.head, "ax"
	.globl	_start
_start:
	b	start
	.balign	8
	/* the header the test patches before it writes the binary out */
	.globl	insn_header
insn_header:
	.word	INSN_MAGIC, 0
	.quad	1000000		/* words at each of EL1 and EL0 */
	.quad	1		/* seed */

	.text
start:
	/* a stack, and everything else from C with the MMU still off */
	adrp	x0, stack_top
	add	x0, x0, :lo12:stack_top
	mov	sp, x0
	msr	daifset, #0xf
	bl	insn_setup		/* tables, GIC, timer: insn_fuzz.c */

	/* Arm ARM D8 (VMSAv8-64): MAIR/TCR/TTBR0 first, then SCTLR.M */
	ldr	x0, =INSN_MAIR
	msr	mair_el1, x0
	ldr	x0, =INSN_TCR
	msr	tcr_el1, x0
	adrp	x0, insn_l1
	add	x0, x0, :lo12:insn_l1
	msr	ttbr0_el1, x0
	adrp	x0, insn_vectors
	add	x0, x0, :lo12:insn_vectors
	msr	vbar_el1, x0
	mov	x0, #(3 << 20)		/* CPACR_EL1.FPEN: FP/SIMD at EL0 and EL1 */
	msr	cpacr_el1, x0
	mov	x0, #2			/* CNTKCTL_EL1.EL0VCTEN */
	msr	cntkctl_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	ldr	x0, =INSN_SCTLR
	msr	sctlr_el1, x0
	isb
	/* fall into the loop */

/*
 * The loop: insn_next() (C) lays out the next word and says where and at
 * which EL it runs; every word ends in an exception back here, through
 * the vectors, on SP_EL1, which no word can reach (EL1 words run in EL1t).
 */
	.globl	insn_step
insn_step:
	adrp	x0, stack_top
	add	x0, x0, :lo12:stack_top
	mov	sp, x0
	bl	insn_next		/* x0: the word's address, 0 when done; x1: SPSR */
	cbz	x0, 9f
	msr	elr_el1, x0
	msr	spsr_el1, x1
	/* the timer fires a few ms on: a word that loops ends there */
	adrp	x0, insn_deadline
	ldr	x0, [x0, :lo12:insn_deadline]
	mrs	x1, cntvct_el0
	add	x1, x1, x0
	msr	cntv_cval_el0, x1
	/* every register the word may use: the random file insn_next made */
	adrp	x30, insn_regs
	add	x30, x30, :lo12:insn_regs
	ldr	x0, [x30, #248]
	msr	sp_el0, x0
	ldp	x0, x1, [x30, #0]
	ldp	x2, x3, [x30, #16]
	ldp	x4, x5, [x30, #32]
	ldp	x6, x7, [x30, #48]
	ldp	x8, x9, [x30, #64]
	ldp	x10, x11, [x30, #80]
	ldp	x12, x13, [x30, #96]
	ldp	x14, x15, [x30, #112]
	ldp	x16, x17, [x30, #128]
	ldp	x18, x19, [x30, #144]
	ldp	x20, x21, [x30, #160]
	ldp	x22, x23, [x30, #176]
	ldp	x24, x25, [x30, #192]
	ldp	x26, x27, [x30, #208]
	ldp	x28, x29, [x30, #224]
	ldr	x30, [x30, #240]
	eret
9:	bl	insn_done		/* prints the counts, powers off */
	b	.

/* 16 entries of 128 bytes: each says which it is and goes to C */
	.macro	vec kind
	.balign	0x80
	mov	x0, #\kind
	b	vec_common
	.endm

	.balign	0x800
	.globl	insn_vectors
insn_vectors:
	vec	0	/* current EL, SP_EL0: sync (EL1 words run here) */
	vec	1	/* irq */
	vec	2	/* fiq */
	vec	3	/* serror */
	vec	4	/* current EL, SP_ELx: sync (the harness itself) */
	vec	5
	vec	6
	vec	7
	vec	8	/* lower EL, AArch64: sync (EL0 words) */
	vec	9
	vec	10
	vec	11
	vec	12	/* lower EL, AArch32 */
	vec	13
	vec	14
	vec	15

vec_common:
	/* SP_EL1 is the stack top insn_step left */
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	insn_exception		/* counts it; stops on a harness fault */
	b	insn_step
