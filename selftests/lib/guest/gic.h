/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of interrupts and timers: the GICv3 CPU interface system
 * registers (Arm GIC architecture specification, IHI 0069, chapter 12) and
 * the generic timer (Arm ARM, DDI 0487, D11), by encoding so that no
 * assembler feature flag is needed. Header only: everything is inline, so
 * a test's guest code can use it without linking more into the runtime.
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

/*
 * Accept Group 1 interrupts of every priority (PMR 0xff), no preemption
 * grouping (BPR1 0), EOImode 0 (EOIR both drops priority and deactivates).
 * PSTATE.I stays as it is: unmask with local_irq_enable().
 */
static inline void gic_cpu_init(void)
{
	write_sysreg(0xffUL, ICC_PMR_EL1);
	write_sysreg(0UL, ICC_BPR1_EL1);
	write_sysreg(0UL, ICC_CTLR_EL1);
	write_sysreg(1UL, ICC_IGRPEN1_EL1);
	isb();
}

static inline uint64_t gic_read_iar(void)
{
	uint64_t iar = read_sysreg(ICC_IAR1_EL1);

	/* the acknowledge must complete before the handler's side effects */
	dsb(sy);
	return iar & ICC_IAR_INTID_MASK;
}

static inline void gic_write_eoir(uint64_t intid)
{
	write_sysreg(intid, ICC_EOIR1_EL1);
	isb();
}

static inline void gic_set_pmr(uint64_t pmr)
{
	write_sysreg(pmr, ICC_PMR_EL1);
	isb();
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
