/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_entry: the first instruction every test vCPU runs.
 *
 * The host's SETUP leaves the vCPU at EL1h, MMU and caches off, DAIF masked,
 * x0 = the C function to run, and vm_vcpu_add() adds x1 = vcpu id and
 * SP_EL1 = the top of this vCPU's stack. Until the MMU is on, every data
 * access would be Device-nGnRnE and non-cacheable: so this code touches no
 * memory at all before then (addresses come from ADRP, constants from
 * MOVZ/MOVK, nothing is pushed). The stage-1 tables it points TTBR0_EL1 at
 * were written by the host, through the same cacheable mapping the table
 * walker uses once TCR_EL1 says the walks are write-back.
 */
#include "guest.h"

/* CPACR_EL1.FPEN = 0b11: FP/SIMD at EL1 and EL0 without a trap */
#define CPACR_FPEN		(3 << 20)

/* MAIR_EL1: Attr0 Normal inner/outer write-back RW-allocate, Attr1 Device-nGnRE */
#define MAIR_VALUE		0x04ff

/*
 * TCR_EL1: T0SZ 25 (39-bit VA, so a walk starts at level 1), IRGN0/ORGN0
 * write-back write-allocate, SH0 inner shareable, TG0 4K; TTBR1 walks off
 * (EPD1, T1SZ 25, TG1 4K so no field holds a reserved value).
 * IPS: 52 bits are only allowed with a 4K granule in the FEAT_LPA2 format
 * (TCR_EL1.DS = 1); without it the descriptors hold 48 bits, so 48.
 */
#define TCR_LO			0x3519		/* T0SZ, IRGN0, ORGN0, SH0 */
#define TCR_MID			0x8099		/* T1SZ, EPD1, TG1 (bits 31:16) */
#define TCR_IPS_48		0x5		/* bits 35:32 */
#define TCR_IPS_52		0x6
#define TCR_DS_HI		0x0800		/* bit 59, in bits 63:48 */

/* SCTLR_EL1: M | C | I on top of the RES1 bits of the reset value */
#define SCTLR_LO		0x1805
#define SCTLR_HI		0x30d0

/* ID_AA64MMFR0_EL1.TGran4 == 0b0001: 4K granule with 52-bit addresses */
#define MMFR0_TGRAN4_SHIFT	28
#define MMFR0_TGRAN4_LPA2	1

	.text
	.balign	4
	.globl	guest_entry
	.type	guest_entry, %function
guest_entry:
	/* FP/SIMD first: the vectors save the FP/SIMD registers. */
	mov	x9, #CPACR_FPEN
	msr	cpacr_el1, x9

	adrp	x9, guest_vectors
	add	x9, x9, :lo12:guest_vectors
	msr	vbar_el1, x9

	/* guest_vcpu_id() reads it back */
	msr	tpidr_el1, x1

	mov	x9, #MAIR_VALUE
	msr	mair_el1, x9

	/* Pick the table written in the descriptor format this CPU will use. */
	movz	x12, #TCR_MID, lsl #16
	movk	x12, #TCR_LO
	mrs	x10, id_aa64mmfr0_el1
	ubfx	x10, x10, #MMFR0_TGRAN4_SHIFT, #4
	cmp	x10, #MMFR0_TGRAN4_LPA2
	b.eq	1f
	adrp	x11, guest_pgd
	movk	x12, #TCR_IPS_48, lsl #32
	b	2f
1:	adrp	x11, guest_pgd_lpa2
	movk	x12, #TCR_IPS_52, lsl #32
	movk	x12, #TCR_DS_HI, lsl #48
2:	msr	ttbr0_el1, x11		/* ASID 0, CnP 0 */
	msr	tcr_el1, x12

	/*
	 * Drop whatever EL1&0 translations this VMID's TLB entries may hold
	 * (a CPU's TLB contents are UNKNOWN until invalidated), wait for it,
	 * and make the TTBR0/TCR/MAIR writes take effect before SCTLR_EL1.M:
	 * writes to System registers are only guaranteed to be seen after a
	 * context synchronization event (Arm ARM, "Synchronization
	 * requirements for AArch64 System registers"; the same sequence is
	 * in Arm's "Programmer's Guide for ARMv8-A" (DEN0024A), "Configuring
	 * and enabling the MMU"). The local "nsh" forms suffice: no other
	 * vCPU can hold translations for this one's stage 1 yet.
	 */
	isb
	tlbi	vmalle1
	dsb	nsh
	isb

	movz	x9, #SCTLR_HI, lsl #16
	movk	x9, #SCTLR_LO
	msr	sctlr_el1, x9
	/*
	 * The instructions after this ISB are fetched with the MMU on. VA ==
	 * PA here, so the next one is the same instruction either way.
	 */
	isb

	mov	x29, #0			/* end of the frame-pointer chain */
	blr	x0

	/* The guest function returned: done, for good. */
3:	mov	x0, #UCALL_DONE
	mov	x1, #0
	mov	x2, #0
	mov	x3, #0
	mov	x4, #0
	bl	guest_ucall
	b	3b
	.size	guest_entry, . - guest_entry
