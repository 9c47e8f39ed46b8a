/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of interrupts and timers: the GICv3 CPU interface system
 * registers (Arm GIC architecture specification, IHI 0069, chapter 12) and
 * the generic timer (Arm ARM, DDI 0487, D11), by encoding so that no
 * assembler feature flag is needed. Header only: everything is inline, so
 * a test's guest code can use it without linking more into the runtime.
 *
 * On a GICv2 host the same gic_*() calls use the memory-mapped CPU
 * interface (IHI 0048B, 4.4) that vm_create() placed at guest_gicc.
 * Interrupts stay Group 1 (avcpu's default); with GICC_CTLR.AckCtl set,
 * GICC_IAR and GICC_EOIR acknowledge and complete them (IHI 0048B, 4.4.1).
 */
#ifndef AVCPU_GUEST_GIC_H
#define AVCPU_GUEST_GIC_H

#include "guest.h"

#define ICC_PMR_EL1		s3_0_c4_c6_0
#define ICC_IAR0_EL1		s3_0_c12_c8_0
#define ICC_EOIR0_EL1		s3_0_c12_c8_1
#define ICC_HPPIR0_EL1		s3_0_c12_c8_2
#define ICC_BPR0_EL1		s3_0_c12_c8_3
#define ICC_AP1R0_EL1		s3_0_c12_c9_0
#define ICC_DIR_EL1		s3_0_c12_c11_1
#define ICC_RPR_EL1		s3_0_c12_c11_3
#define ICC_SGI1R_EL1		s3_0_c12_c11_5
#define ICC_ASGI1R_EL1		s3_0_c12_c11_6
#define ICC_SGI0R_EL1		s3_0_c12_c11_7
#define ICC_IAR1_EL1		s3_0_c12_c12_0
#define ICC_EOIR1_EL1		s3_0_c12_c12_1
#define ICC_HPPIR1_EL1		s3_0_c12_c12_2
#define ICC_BPR1_EL1		s3_0_c12_c12_3
#define ICC_CTLR_EL1		s3_0_c12_c12_4
#define ICC_SRE_EL1		s3_0_c12_c12_5
#define ICC_IGRPEN0_EL1		s3_0_c12_c12_6
#define ICC_IGRPEN1_EL1		s3_0_c12_c12_7

#define CNTV_CTL_EL0		s3_3_c14_c3_1
#define CNTV_CVAL_EL0		s3_3_c14_c3_2
#define CNTV_TVAL_EL0		s3_3_c14_c3_0
#define CNTP_CTL_EL0		s3_3_c14_c2_1
#define CNTP_CVAL_EL0		s3_3_c14_c2_2
#define CNTP_TVAL_EL0		s3_3_c14_c2_0

/* CNTx_CTL_EL0 bits */
#define CNT_CTL_ENABLE		(1UL << 0)
#define CNT_CTL_IMASK		(1UL << 1)
#define CNT_CTL_ISTATUS		(1UL << 2)

/* The timers' PPIs on the virt board and in Linux's device trees */
#define INTID_VTIMER		27
#define INTID_PTIMER		30
#define INTID_SPURIOUS		1023

/* ICC_IAR1_EL1 returns the INTID in bits 23:0 */
#define ICC_IAR_INTID_MASK	0xffffffUL

/* GICv2 CPU interface registers (IHI 0048B, 4.4 "CPU interface register map") */
#define GICC_CTLR		0x000
#define GICC_PMR		0x004
#define GICC_BPR		0x008
#define GICC_RPR		0x014
#define GICC_ABPR		0x01c
#define GICC_IAR		0x00c
#define GICC_EOIR		0x010
#define GICC_CTLR_ENABLEGRP0	(1U << 0)
#define GICC_CTLR_ENABLEGRP1	(1U << 1)
#define GICC_CTLR_ACKCTL	(1U << 2)
#define GICC_IAR_INTID		0x3ffU
#define GICC_IAR_CPUID_SHIFT	10

/*
 * Guest physical address of the GICC frame (AVCPU_SET_GICV) when the host's
 * GIC is a GICv2, 0 on GICv3 hosts. Set by vm_create() before any guest
 * runs (guest.c).
 */
extern volatile uint64_t guest_gicc;
/* GICv2: the last acknowledge of each SGI per vCPU, for its EOI (CPUID) */
extern uint32_t guest_gicv2_sgi_iar[GUEST_MAX_VCPUS][16];

static inline bool gic_is_v2(void)
{
	return guest_gicc != 0;
}

static inline uint32_t gicc_read(uint32_t off)
{
	return *(volatile uint32_t *)(guest_gicc + off);
}

static inline void gicc_write(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(guest_gicc + off) = v;
}

static inline uint32_t guest_cpu_id(void)
{
	return read_sysreg(mpidr_el1) & 0xff;
}

/*
 * Accept Group 1 interrupts of every priority (PMR 0xff), no preemption
 * grouping (BPR1 0), EOImode 0 (EOIR both drops priority and deactivates).
 * PSTATE.I stays as it is: unmask with local_irq_enable().
 */
static inline void gic_cpu_init(void)
{
	if (gic_is_v2()) {
		gicc_write(GICC_PMR, 0xff);
		gicc_write(GICC_ABPR, 0);
		gicc_write(GICC_CTLR, GICC_CTLR_ENABLEGRP0 | GICC_CTLR_ENABLEGRP1 |
			   GICC_CTLR_ACKCTL);
		dsb(sy);
		return;
	}
	write_sysreg(0xffUL, ICC_PMR_EL1);
	write_sysreg(0UL, ICC_BPR1_EL1);
	write_sysreg(0UL, ICC_CTLR_EL1);
	write_sysreg(1UL, ICC_IGRPEN1_EL1);
	isb();
}

/*
 * GICv2 acknowledge: the INTID, and for an SGI the source CPU in *@src
 * (GICC_IAR.CPUID); the full value is kept for the SGI's EOI.
 */
static inline uint64_t gic_read_iar_src(uint32_t *src)
{
	uint32_t iar = gicc_read(GICC_IAR), intid = iar & GICC_IAR_INTID;

	dsb(sy);
	if (intid < 16)
		guest_gicv2_sgi_iar[guest_cpu_id() % GUEST_MAX_VCPUS][intid] = iar;
	if (src)
		*src = (iar >> GICC_IAR_CPUID_SHIFT) & 7;
	return intid;
}

static inline uint64_t gic_read_iar(void)
{
	uint64_t iar;

	if (gic_is_v2())
		return gic_read_iar_src(0);
	iar = read_sysreg(ICC_IAR1_EL1);

	/* the acknowledge must complete before the handler's side effects */
	dsb(sy);
	return iar & ICC_IAR_INTID_MASK;
}

static inline void gic_write_eoir(uint64_t intid)
{
	if (gic_is_v2()) {
		/* an SGI's EOI names its source too (GICC_EOIR.CPUID) */
		gicc_write(GICC_EOIR, intid < 16 ?
			   guest_gicv2_sgi_iar[guest_cpu_id() % GUEST_MAX_VCPUS][intid] :
			   (uint32_t)intid);
		dsb(sy);
		return;
	}
	write_sysreg(intid, ICC_EOIR1_EL1);
	isb();
}

static inline void gic_set_pmr(uint64_t pmr)
{
	if (gic_is_v2()) {
		gicc_write(GICC_PMR, (uint32_t)pmr);
		dsb(sy);
		return;
	}
	write_sysreg(pmr, ICC_PMR_EL1);
	isb();
}

static inline uint64_t gic_read_pmr(void)
{
	return gic_is_v2() ? gicc_read(GICC_PMR) : read_sysreg(ICC_PMR_EL1);
}

/* The running priority: 0xff when nothing is active */
static inline uint64_t gic_read_rpr(void)
{
	return gic_is_v2() ? gicc_read(GICC_RPR) : read_sysreg(ICC_RPR_EL1);
}

static inline void local_irq_enable(void)
{
	asm volatile("msr daifclr, #2" : : : "memory");
}

static inline void local_irq_disable(void)
{
	asm volatile("msr daifset, #2" : : : "memory");
}

static inline void wfi(void)
{
	asm volatile("wfi" : : : "memory");
}

static inline uint64_t read_cntvct(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static inline uint64_t read_cntpct(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

static inline uint64_t read_cntfrq(void)
{
	return read_sysreg(cntfrq_el0);
}

#endif /* AVCPU_GUEST_GIC_H */
