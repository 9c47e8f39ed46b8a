/* SPDX-License-Identifier: GPL-2.0 */
/* Constants shared by insn_entry.S and insn_fuzz.c */
#ifndef INSN_FUZZ_H
#define INSN_FUZZ_H

#define INSN_MAGIC	0x464e5349	/* "ISNF" */

/* MAIR_EL1: attr0 Normal write-back (0xff), attr1 Device-nGnRnE (0x00) */
#define INSN_MAIR	0xff
/*
 * TCR_EL1 (Arm ARM D19.2): T0SZ 25 (39-bit VA, walks start at level 1),
 * inner/outer write-back, inner shareable, 4K granule, EPD1 (no TTBR1
 * walks), IPS 40 bits.
 */
#define INSN_TCR	(25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2ULL << 32))
/*
 * SCTLR_EL1: M, C, I; nTWI and nTWE (EL0's WFI/WFE go to EL2, not EL1);
 * the v8.0 RES1 bits 11, 20, 22, 23 (SPAN: PSTATE.PAN stays), 28, 29.
 */
#define INSN_SCTLR	((1 << 0) | (1 << 2) | (1 << 12) | (1 << 16) | (1 << 18) | \
			 (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29))

/* Where the words run: two pages past the image's 2 MiB block */
#define INSN_RAM	0x40000000UL
#define INSN_EL0_PAGE	(INSN_RAM + 0x200000)
#define INSN_EL1_PAGE	(INSN_RAM + 0x201000)
#define INSN_UART	0x09000000UL
#define INSN_GICD	0x08000000UL
#define INSN_GICC	0x08010000UL	/* GICv2 boards */
#define INSN_GICR	0x080a0000UL

#endif
