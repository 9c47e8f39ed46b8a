/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Load and save of the guest's GICv3 virtual CPU interface at EL2, shared
 * by the per-mode world switches (Arm GIC architecture specification,
 * IHI 0069, 12.4 "The virtual CPU interface control registers"). vgic.c
 * decides what goes into the list registers; this file only moves
 * struct avcpu_vgic_cpu in and out of the CPU.
 *
 * While no guest runs, ICH_HCR_EL2.EN is 0 and the list registers are
 * empty, so the virtual CPU interface signals nothing and raises no
 * maintenance interrupt for the host.
 */
#ifndef __AVCPU_HYP_VGIC_SR_H__
#define __AVCPU_HYP_VGIC_SR_H__

#include <asm/sysreg.h>

#include "../avcpu.h"

#define AVCPU_ICH_AP0R(n)	sys_reg(3, 4, 12, 8, n)
#define AVCPU_ICH_AP1R(n)	sys_reg(3, 4, 12, 9, n)

/* Each MSR/MRS names one register; the LR number is a run-time value. */
static __always_inline u64 avcpu_read_lr(unsigned int n)
{
	switch (n) {
	case 0:
		return read_sysreg_s(SYS_ICH_LR0_EL2);
	case 1:
		return read_sysreg_s(SYS_ICH_LR1_EL2);
	case 2:
		return read_sysreg_s(SYS_ICH_LR2_EL2);
	case 3:
		return read_sysreg_s(SYS_ICH_LR3_EL2);
	case 4:
		return read_sysreg_s(SYS_ICH_LR4_EL2);
	case 5:
		return read_sysreg_s(SYS_ICH_LR5_EL2);
	case 6:
		return read_sysreg_s(SYS_ICH_LR6_EL2);
	case 7:
		return read_sysreg_s(SYS_ICH_LR7_EL2);
	case 8:
		return read_sysreg_s(SYS_ICH_LR8_EL2);
	case 9:
		return read_sysreg_s(SYS_ICH_LR9_EL2);
	case 10:
		return read_sysreg_s(SYS_ICH_LR10_EL2);
	case 11:
		return read_sysreg_s(SYS_ICH_LR11_EL2);
	case 12:
		return read_sysreg_s(SYS_ICH_LR12_EL2);
	case 13:
		return read_sysreg_s(SYS_ICH_LR13_EL2);
	case 14:
		return read_sysreg_s(SYS_ICH_LR14_EL2);
	case 15:
		return read_sysreg_s(SYS_ICH_LR15_EL2);
	}
	return 0;
}

static __always_inline void avcpu_write_lr(unsigned int n, u64 v)
{
	switch (n) {
	case 0:
		write_sysreg_s(v, SYS_ICH_LR0_EL2);
		break;
	case 1:
		write_sysreg_s(v, SYS_ICH_LR1_EL2);
		break;
	case 2:
		write_sysreg_s(v, SYS_ICH_LR2_EL2);
		break;
	case 3:
		write_sysreg_s(v, SYS_ICH_LR3_EL2);
		break;
	case 4:
		write_sysreg_s(v, SYS_ICH_LR4_EL2);
		break;
	case 5:
		write_sysreg_s(v, SYS_ICH_LR5_EL2);
		break;
	case 6:
		write_sysreg_s(v, SYS_ICH_LR6_EL2);
		break;
	case 7:
		write_sysreg_s(v, SYS_ICH_LR7_EL2);
		break;
	case 8:
		write_sysreg_s(v, SYS_ICH_LR8_EL2);
		break;
	case 9:
		write_sysreg_s(v, SYS_ICH_LR9_EL2);
		break;
	case 10:
		write_sysreg_s(v, SYS_ICH_LR10_EL2);
		break;
	case 11:
		write_sysreg_s(v, SYS_ICH_LR11_EL2);
		break;
	case 12:
		write_sysreg_s(v, SYS_ICH_LR12_EL2);
		break;
	case 13:
		write_sysreg_s(v, SYS_ICH_LR13_EL2);
		break;
	case 14:
		write_sysreg_s(v, SYS_ICH_LR14_EL2);
		break;
	case 15:
		write_sysreg_s(v, SYS_ICH_LR15_EL2);
		break;
	}
}

/* The active priority registers; ICH_VTR_EL2.PREbits says how many exist. */
static __always_inline void avcpu_vgic_apr(struct avcpu_vgic_cpu *v, bool save)
{
	switch (v->nr_apr) {
	case 4:
		if (save) {
			v->ap0r[3] = read_sysreg_s(AVCPU_ICH_AP0R(3));
			v->ap1r[3] = read_sysreg_s(AVCPU_ICH_AP1R(3));
			v->ap0r[2] = read_sysreg_s(AVCPU_ICH_AP0R(2));
			v->ap1r[2] = read_sysreg_s(AVCPU_ICH_AP1R(2));
		} else {
			write_sysreg_s(v->ap0r[3], AVCPU_ICH_AP0R(3));
			write_sysreg_s(v->ap1r[3], AVCPU_ICH_AP1R(3));
			write_sysreg_s(v->ap0r[2], AVCPU_ICH_AP0R(2));
			write_sysreg_s(v->ap1r[2], AVCPU_ICH_AP1R(2));
		}
		fallthrough;
	case 2:
		if (save) {
			v->ap0r[1] = read_sysreg_s(AVCPU_ICH_AP0R(1));
			v->ap1r[1] = read_sysreg_s(AVCPU_ICH_AP1R(1));
		} else {
			write_sysreg_s(v->ap0r[1], AVCPU_ICH_AP0R(1));
			write_sysreg_s(v->ap1r[1], AVCPU_ICH_AP1R(1));
		}
		fallthrough;
	default:
		if (save) {
			v->ap0r[0] = read_sysreg_s(AVCPU_ICH_AP0R(0));
			v->ap1r[0] = read_sysreg_s(AVCPU_ICH_AP1R(0));
		} else {
			write_sysreg_s(v->ap0r[0], AVCPU_ICH_AP0R(0));
			write_sysreg_s(v->ap1r[0], AVCPU_ICH_AP1R(0));
		}
	}
}

/*
 * Before the guest: every LR is written, the unused ones with 0, so no
 * state of another vCPU can linger; ICH_HCR_EL2 last, which turns the
 * virtual CPU interface on.
 */
static __always_inline void avcpu_vgic_restore(struct avcpu_vgic_cpu *v)
{
	unsigned int i;

	write_sysreg_s(v->vmcr, SYS_ICH_VMCR_EL2);
	avcpu_vgic_apr(v, false);
	for (i = 0; i < v->nr_lrs; i++)
		avcpu_write_lr(i, i < v->used_lrs ? v->lr[i] : 0);
	write_sysreg_s(v->hcr, SYS_ICH_HCR_EL2);
}

/*
 * After the guest: ICH_HCR_EL2 (for EOIcount) is read before EN is
 * cleared; the LRs vgic.c filled are read back and emptied.
 */
static __always_inline void avcpu_vgic_save(struct avcpu_vgic_cpu *v)
{
	unsigned int i;

	v->hcr = read_sysreg_s(SYS_ICH_HCR_EL2);
	v->vmcr = read_sysreg_s(SYS_ICH_VMCR_EL2);
	write_sysreg_s(0, SYS_ICH_HCR_EL2);
	for (i = 0; i < v->used_lrs; i++) {
		v->lr[i] = avcpu_read_lr(i);
		avcpu_write_lr(i, 0);
	}
	avcpu_vgic_apr(v, true);
}

#endif
