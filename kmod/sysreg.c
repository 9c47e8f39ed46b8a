// SPDX-License-Identifier: GPL-2.0
/*
 * Trapped MRS/MSR (ESR_EL2.EC 0x18) and the guest system registers that
 * GET_SYSREG/SET_SYSREG reach.
 *
 * What the module answers itself: the ID registers (HCR_EL2.TID3), shown
 * without the features it does not virtualize; the debug registers
 * (MDCR_EL2.TDA/TDOSA/TDRA) from the guest's debug state, which the world
 * switch loads (hyp/debug-sr.h). The emulated EL1 physical timer is
 * timer.c's; a write to an SGI register is a SEND_IPI exit; ACTLR_EL1 and
 * the IMPLEMENTATION DEFINED registers are a SYSREG exit for the VMM. Any
 * other trapped register belongs to a hidden feature and UNDEFs, as it
 * would on a CPU without it (design.rst, "System register inventory").
 *
 * ISS of a trapped MSR/MRS (Arm ARM, DDI 0487, D13.2.39 "ISS encoding for
 * an exception from MSR, MRS, or System instruction execution"): Op0[21:20]
 * Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Direction[0] (1: read).
 */
#include <linux/bitfield.h>
#include <asm/cpufeature.h>
#include <asm/debug-monitors.h>
#include <asm/esr.h>
#include <asm/sysreg.h>

#include "avcpu.h"
#include "hyp/switch.h"

#define ENC(op0, op1, crn, crm, op2)	AVCPU_SYSREG(op0, op1, crn, crm, op2)

/* ID_AA64MMFR0_EL1.FGT's FEAT_FGT2 value, which 6.1's headers do not name */
#ifndef ID_AA64MMFR0_EL1_FGT_FGT2
#define ID_AA64MMFR0_EL1_FGT_FGT2	UL(0b0010)
#endif

static const struct {
	u32 enc;
	u32 idx;
} avcpu_sysreg_table[] = {
	{ ENC(3, 0, 1, 0, 0),	AVCPU_SCTLR_EL1 },
	{ ENC(3, 0, 1, 0, 2),	AVCPU_CPACR_EL1 },
	{ ENC(3, 0, 2, 0, 0),	AVCPU_TTBR0_EL1 },
	{ ENC(3, 0, 2, 0, 1),	AVCPU_TTBR1_EL1 },
	{ ENC(3, 0, 2, 0, 2),	AVCPU_TCR_EL1 },
	{ ENC(3, 0, 5, 2, 0),	AVCPU_ESR_EL1 },
	{ ENC(3, 0, 5, 1, 0),	AVCPU_AFSR0_EL1 },
	{ ENC(3, 0, 5, 1, 1),	AVCPU_AFSR1_EL1 },
	{ ENC(3, 0, 6, 0, 0),	AVCPU_FAR_EL1 },
	{ ENC(3, 0, 10, 2, 0),	AVCPU_MAIR_EL1 },
	{ ENC(3, 0, 10, 3, 0),	AVCPU_AMAIR_EL1 },
	{ ENC(3, 0, 12, 0, 0),	AVCPU_VBAR_EL1 },
	{ ENC(3, 0, 13, 0, 1),	AVCPU_CONTEXTIDR_EL1 },
	{ ENC(3, 0, 14, 1, 0),	AVCPU_CNTKCTL_EL1 },
	{ ENC(3, 3, 14, 3, 1),	AVCPU_CNTV_CTL_EL0 },
	{ ENC(3, 3, 14, 3, 2),	AVCPU_CNTV_CVAL_EL0 },
	{ ENC(3, 3, 14, 2, 1),	AVCPU_CNTP_CTL_EL0 },
	{ ENC(3, 3, 14, 2, 2),	AVCPU_CNTP_CVAL_EL0 },
	{ ENC(3, 0, 13, 0, 4),	AVCPU_TPIDR_EL1 },
	{ ENC(3, 3, 13, 0, 2),	AVCPU_TPIDR_EL0 },
	{ ENC(3, 3, 13, 0, 3),	AVCPU_TPIDRRO_EL0 },
	{ ENC(3, 0, 7, 4, 0),	AVCPU_PAR_EL1 },
	{ ENC(3, 2, 0, 0, 0),	AVCPU_CSSELR_EL1 },
	{ ENC(3, 3, 13, 0, 7),	AVCPU_SCXTNUM_EL0 },
	{ ENC(3, 0, 13, 0, 7),	AVCPU_SCXTNUM_EL1 },
	{ ENC(2, 0, 0, 2, 2),	AVCPU_MDSCR_EL1 },
	{ ENC(2, 0, 1, 3, 4),	AVCPU_OSDLR_EL1 },
	{ ENC(2, 0, 1, 4, 4),	AVCPU_DBGPRCR_EL1 },
};

/* Index into ctx.sys[] of a register GET/SET_SYSREG accept, or -ENOENT. */
int avcpu_sysreg_index(u32 encoding)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(avcpu_sysreg_table); i++) {
		u32 idx = avcpu_sysreg_table[i].idx;

		if (avcpu_sysreg_table[i].enc != encoding)
			continue;
		/* registers the CPU may not have */
		if ((idx == AVCPU_SCXTNUM_EL0 || idx == AVCPU_SCXTNUM_EL1) &&
		    !(avcpu_host.traps.features & AVCPU_FEAT_SCXTNUM))
			return -ENOENT;
		return idx;
	}
	return -ENOENT;
}

/* SCTLR_EL1 RES1 bits, MMU and caches off (D13.2.118 "SCTLR_EL1") */
#define AVCPU_SCTLR_EL1_RESET	0x30d00800ULL
/* OSLSR_EL1: OSLM = 0b10 (OS lock implemented), OSLK = 1 at reset */
#define AVCPU_OSLSR_OSLM	BIT(3)
#define AVCPU_OSLSR_OSLK	BIT(1)

void avcpu_reset_sysregs(struct avcpu_vcpu *vcpu)
{
	u64 *r = vcpu->ctx.sys;

	memset(r, 0, sizeof(vcpu->ctx.sys));
	r[AVCPU_SCTLR_EL1] = AVCPU_SCTLR_EL1_RESET;
	r[AVCPU_OSLSR_EL1] = AVCPU_OSLSR_OSLM | AVCPU_OSLSR_OSLK;
}

static u64 avcpu_field_set(u64 val, unsigned int shift, u64 field)
{
	return (val & ~(0xfULL << shift)) | (field << shift);
}

/*
 * The ID registers as the guest sees them. Field positions are those of
 * the Arm ARM's ID_AA64*_EL1 descriptions (D13.2.6x); everything not
 * listed here reads as zero (reserved ID space and AArch32 registers: the
 * guest has no AArch32).
 */
static u64 avcpu_id_reg(u32 crm, u32 op2)
{
	u64 v;

	switch (crm << 3 | op2) {
	case 4 << 3 | 0:	/* ID_AA64PFR0_EL1 */
		v = read_sanitised_ftr_reg(SYS_ID_AA64PFR0_EL1);
		/* keep FP, AdvSIMD, GIC, DIT, CSV2, CSV3; AArch64-only EL0/EL1 */
		return (v & 0xff0f00000fff0000ULL) | 0x11;
	case 4 << 3 | 1:	/* ID_AA64PFR1_EL1: BT and SSBS only */
		return read_sanitised_ftr_reg(SYS_ID_AA64PFR1_EL1) & 0xff;
	case 5 << 3 | 0:
		/*
		 * ID_AA64DFR0_EL1: debug v8.0 with the CPU's breakpoints,
		 * watchpoints and context-aware breakpoints (all the guest's,
		 * hyp/debug-sr.h); no PMU, trace, SPE, BRBE or double lock
		 * (DoubleLock 0xf; their registers trap).
		 */
		v = read_sanitised_ftr_reg(SYS_ID_AA64DFR0_EL1);
		return 0x000000f000000006ULL |
		       (v & (0xfULL << ID_AA64DFR0_EL1_BRPs_SHIFT)) |
		       (v & (0xfULL << ID_AA64DFR0_EL1_WRPs_SHIFT)) |
		       (v & (0xfULL << ID_AA64DFR0_EL1_CTX_CMPs_SHIFT));
	case 6 << 3 | 0:	/* ID_AA64ISAR0_EL1: no TME */
		return avcpu_field_set(read_sanitised_ftr_reg(SYS_ID_AA64ISAR0_EL1),
				       ID_AA64ISAR0_EL1_TME_SHIFT, 0);
	case 6 << 3 | 1:
		/*
		 * ID_AA64ISAR1_EL1: no pointer authentication; no LS64 (its
		 * enables in HCRX_EL2 stay clear).
		 */
		v = read_sanitised_ftr_reg(SYS_ID_AA64ISAR1_EL1);
		v = avcpu_field_set(v, ID_AA64ISAR1_EL1_APA_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64ISAR1_EL1_API_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64ISAR1_EL1_GPA_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64ISAR1_EL1_GPI_SHIFT, 0);
		return avcpu_field_set(v, ID_AA64ISAR1_EL1_LS64_SHIFT, 0);
	case 6 << 3 | 2:
		/*
		 * ID_AA64ISAR2_EL1: no QARMA3 PAC, no 128-bit system
		 * register instructions (they need TCR2/D128, hidden).
		 */
		v = read_sanitised_ftr_reg(SYS_ID_AA64ISAR2_EL1);
		v = avcpu_field_set(v, ID_AA64ISAR2_EL1_GPA3_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64ISAR2_EL1_APA3_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64ISAR2_EL1_PAC_frac_SHIFT, 0);
		/* SYSREG_128, bits 35:32 (not named by 6.1's headers) */
		return avcpu_field_set(v, 32, 0);
	case 7 << 3 | 0:
		/*
		 * ID_AA64MMFR0_EL1: the VM's IPA size; little-endian only
		 * (BigEnd, BigEndEL0), since MMIO data is passed as stored.
		 */
		v = read_sanitised_ftr_reg(SYS_ID_AA64MMFR0_EL1);
		v = avcpu_field_set(v, ID_AA64MMFR0_EL1_PARANGE_SHIFT,
				    avcpu_pa_range_enc(avcpu_host.ipa_bits));
		v = avcpu_field_set(v, ID_AA64MMFR0_EL1_BIGEND_SHIFT, 0);
		return avcpu_field_set(v, ID_AA64MMFR0_EL1_BIGENDEL0_SHIFT, 0);
	case 7 << 3 | 1:	/* ID_AA64MMFR1_EL1: no VHE, LOR, TWED, HCX */
		v = read_sanitised_ftr_reg(SYS_ID_AA64MMFR1_EL1);
		v = avcpu_field_set(v, ID_AA64MMFR1_EL1_VH_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64MMFR1_EL1_LO_SHIFT, 0);
		v = avcpu_field_set(v, ID_AA64MMFR1_EL1_TWED_SHIFT, 0);
		return avcpu_field_set(v, ID_AA64MMFR1_EL1_HCX_SHIFT, 0);
	case 7 << 3 | 2:	/* ID_AA64MMFR2_EL1: no nested virtualization */
		return avcpu_field_set(read_sanitised_ftr_reg(SYS_ID_AA64MMFR2_EL1),
				       ID_AA64MMFR2_EL1_NV_SHIFT, 0);
	default:
		return 0;
	}
}

static unsigned int avcpu_id_field(u32 reg, unsigned int shift)
{
	return cpuid_feature_extract_unsigned_field(read_sanitised_ftr_reg(reg),
						    shift);
}

/*
 * The trap controls every guest gets, from the same sanitised ID
 * registers avcpu_id_reg() shows the guest: a feature hidden there is
 * trapped here, on CPUs that have the control (Arm ARM, DDI 0487:
 * HCRX_EL2 with FEAT_HCX, the fine-grained traps with FEAT_FGT). A CPU
 * without them has none of the registers they would trap, and pays
 * nothing at the world switch.
 */
void avcpu_traps_probe(void)
{
	struct avcpu_traps *t = &avcpu_host.traps;
	unsigned int fgt, mpam_frac;

	memset(t, 0, sizeof(*t));
	t->hcr = AVCPU_HCR_GUEST;

	/* CSV2 >= 2: SCXTNUM_EL0/EL1 exist, are shown and switched */
	if (avcpu_id_field(SYS_ID_AA64PFR0_EL1, ID_AA64PFR0_EL1_CSV2_SHIFT) >= 2) {
		t->features |= AVCPU_FEAT_SCXTNUM;
		t->hcr |= HCR_ENSCXT;
	}

	/*
	 * FEAT_RAS, hidden from the guest: its error records trap (TERR),
	 * but DISR_EL1 cannot be trapped; under HCR_EL2.AMO the guest's
	 * accesses reach VDISR_EL2, which is switched instead.
	 */
	if (avcpu_id_field(SYS_ID_AA64PFR0_EL1, ID_AA64PFR0_EL1_RAS_SHIFT))
		t->features |= AVCPU_FEAT_RAS;

	/*
	 * The PSTATE fields an exception to EL2 sets its own way (Arm ARM,
	 * DDI 0487, D1.4 "Process state, PSTATE" on exception entry): PAN
	 * from SCTLR_EL2.SPAN, UAO and DIT cleared, SSBS from
	 * SCTLR_EL2.DSSBS, TCO set. A VHE host's kernel runs with its own
	 * values; vhe/switch.c puts them back after the guest.
	 */
	if (avcpu_id_field(SYS_ID_AA64MMFR1_EL1, ID_AA64MMFR1_EL1_PAN_SHIFT))
		t->features |= AVCPU_FEAT_PAN;
	if (avcpu_id_field(SYS_ID_AA64MMFR2_EL1, ID_AA64MMFR2_EL1_UAO_SHIFT))
		t->features |= AVCPU_FEAT_UAO;
	if (avcpu_id_field(SYS_ID_AA64PFR0_EL1, ID_AA64PFR0_EL1_DIT_SHIFT))
		t->features |= AVCPU_FEAT_DIT;
	if (avcpu_id_field(SYS_ID_AA64PFR1_EL1, ID_AA64PFR1_EL1_SSBS_SHIFT) >= 2)
		t->features |= AVCPU_FEAT_SSBS;
	if (avcpu_id_field(SYS_ID_AA64PFR1_EL1, ID_AA64PFR1_EL1_MTE_SHIFT))
		t->features |= AVCPU_FEAT_TCO;

	/*
	 * HCRX_EL2: every enable clear (TCR2_EL1, SCTLR2_EL1, FPMR, GCS,
	 * LS64, NMI, ... trap or act as off), but MSCEn where the guest is
	 * shown FEAT_MOPS: without it the memcpy/memset instructions UNDEF
	 * at EL1 and EL0. MCE2 clear: their exceptions go to the guest.
	 */
	if (avcpu_id_field(SYS_ID_AA64MMFR1_EL1, ID_AA64MMFR1_EL1_HCX_SHIFT)) {
		t->features |= AVCPU_FEAT_HCX;
		if (avcpu_id_field(SYS_ID_AA64ISAR2_EL1, ID_AA64ISAR2_EL1_MOPS_SHIFT))
			t->hcrx |= HCRX_EL2_MSCEn;
	}

	/*
	 * The fine-grained traps, all zero: each "n" bit (nTPIDR2_EL0,
	 * nSMPRI_EL1, nPIR_EL1, nPIRE0_EL1, nPOR_EL1, nPOR_EL0, nGCS_EL1,
	 * nGCS_EL0, nACCDATA_EL1, nRCWMASK_EL1, nMAIR2_EL1, nAMAIR2_EL1,
	 * nS2POR_EL1, the BRBE and SPE ones) traps its register, all of
	 * them of features the guest is not shown; the positive bits trap
	 * nothing, the coarse controls cover what they would.
	 */
	fgt = avcpu_id_field(SYS_ID_AA64MMFR0_EL1, ID_AA64MMFR0_EL1_FGT_SHIFT);
	if (fgt)
		t->features |= AVCPU_FEAT_FGT;
	/*
	 * FEAT_FGT2's second set, all zero likewise: its "n" bits trap
	 * PFAR_EL1, RCWSMASK_EL1, the SCTLR/TCR/CPACR/ACTLR alias and mask
	 * registers of FEAT_SRMASK, TRCITECR_EL1, the PMU snapshot and
	 * SPMU registers, DC CIVAPS; its positive bits (HFGITR2_EL2.TSBCSYNC)
	 * trap nothing the guest is not already denied.
	 */
	if (fgt >= ID_AA64MMFR0_EL1_FGT_FGT2)
		t->features |= AVCPU_FEAT_FGT2;

	/*
	 * FEAT_MPAM (ID_AA64PFR0_EL1.MPAM major, ID_AA64PFR1_EL1.MPAM_frac
	 * minor), hidden from the guest: MPAM2_EL2 traps MPAM1_EL1 and
	 * MPAM0_EL1 (TRAPMPAM1EL1, TRAPMPAM0EL1) and, EnMPAMSM clear,
	 * MPAMSM_EL1; from v0.1/v1.1 on TIDR traps MPAMIDR_EL1 too. The
	 * guest's accesses then UNDEF. Its partition and monitor group are
	 * 0 while it runs. booting.rst requires EL3 to leave MPAM2_EL2 to
	 * EL2 (MPAM3_EL3.TRAPLOWER clear) wherever the CPU has MPAM.
	 */
	mpam_frac = avcpu_id_field(SYS_ID_AA64PFR1_EL1,
				   ID_AA64PFR1_EL1_MPAM_frac_SHIFT);
	if (avcpu_id_field(SYS_ID_AA64PFR0_EL1, ID_AA64PFR0_EL1_MPAM_SHIFT) ||
	    mpam_frac) {
		t->features |= AVCPU_FEAT_MPAM;
		t->mpam2 = AVCPU_MPAM2_TRAPMPAM1EL1 | AVCPU_MPAM2_TRAPMPAM0EL1;
		if (mpam_frac)
			t->mpam2 |= AVCPU_MPAM2_TIDR;
	}

	/* every breakpoint and watchpoint of the CPU is the guest's */
	t->nr_brps = avcpu_id_field(SYS_ID_AA64DFR0_EL1,
				    ID_AA64DFR0_EL1_BRPs_SHIFT) + 1;
	t->nr_wrps = avcpu_id_field(SYS_ID_AA64DFR0_EL1,
				    ID_AA64DFR0_EL1_WRPs_SHIFT) + 1;
}

/*
 * DBGBVR<n>_EL1 (op2 4), DBGBCR<n>_EL1 (5), DBGWVR<n>_EL1 (6),
 * DBGWCR<n>_EL1 (7): op0 2, op1 0, CRn 0, CRm n. Served from ctx.debug,
 * which the world switch loads (hyp/debug-sr.h); the first write makes
 * the guest's debug state active. false: no such register on this CPU.
 */
static bool avcpu_bpwp_reg(struct avcpu_vcpu *vcpu, u32 crm, u32 op2,
			   bool read, u64 *val)
{
	struct avcpu_debug *d = &vcpu->ctx.debug;
	const struct avcpu_traps *t = &vcpu->ctx.traps;
	u64 *reg;

	switch (op2) {
	case 4:
	case 5:
		if (crm >= t->nr_brps)
			return false;
		reg = op2 == 4 ? &d->regs.bvr[crm] : &d->regs.bcr[crm];
		break;
	case 6:
	case 7:
		if (crm >= t->nr_wrps)
			return false;
		reg = op2 == 6 ? &d->regs.wvr[crm] : &d->regs.wcr[crm];
		break;
	default:
		return false;
	}
	if (read) {
		*val = *reg;
	} else {
		*reg = *val;
		d->active = 1;
	}
	return true;
}

/*
 * Debug registers (op0 2): MDSCR_EL1 (loaded at every entry) and the
 * breakpoints and watchpoints are the guest's own; the OS lock is emulated
 * (with it set, the entry disarms the guest's debug events); OSDLR_EL1 and
 * DBGPRCR_EL1 are storage (no double lock, no power-down control); the
 * DCC and claim tags read as zero. false: UNDEF.
 */
static bool avcpu_debug_reg(struct avcpu_vcpu *vcpu, u32 enc, bool read,
			    u64 *val)
{
	u64 *r = vcpu->ctx.sys;
	int idx = -1;

	if ((enc & ~ENC(0, 0, 0, 0xf, 0x3)) == ENC(2, 0, 0, 0, 4))
		return avcpu_bpwp_reg(vcpu, (enc >> 3) & 0xf, enc & 7, read, val);

	switch (enc) {
	case ENC(2, 0, 0, 2, 2):
		/* debug enabled: the host's breakpoints must be off */
		if (!read && (*val & (DBG_MDSCR_MDE | DBG_MDSCR_KDE)))
			vcpu->ctx.debug.active = 1;
		idx = AVCPU_MDSCR_EL1;
		break;
	case ENC(2, 0, 1, 3, 4):
		idx = AVCPU_OSDLR_EL1;
		break;
	case ENC(2, 0, 1, 4, 4):
		idx = AVCPU_DBGPRCR_EL1;
		break;
	case ENC(2, 0, 1, 1, 4):			/* OSLSR_EL1 */
		if (read)
			*val = r[AVCPU_OSLSR_EL1];
		return true;
	case ENC(2, 0, 1, 0, 4):			/* OSLAR_EL1 */
		if (!read)
			r[AVCPU_OSLSR_EL1] = AVCPU_OSLSR_OSLM |
					     ((*val & 1) ? AVCPU_OSLSR_OSLK : 0);
		else
			*val = 0;
		return true;
	}
	if (idx < 0) {		/* DCC, claim tags, authentication status */
		if (read)
			*val = 0;
		return true;
	}
	if (read)
		*val = r[idx];
	else
		r[idx] = *val;
	return true;
}

/*
 * GET_SYSREG (@set false) and SET_SYSREG of @enc for the VMM (api.rst,
 * "System registers"): the registers of ctx.sys[] in avcpu_sysreg_table,
 * the breakpoints and watchpoints the CPU has and OSLSR_EL1, whose OSLK
 * a VMM restores (OSLM is fixed). A write that enables debug (a changed
 * breakpoint or watchpoint, MDSCR_EL1.MDE or KDE) makes the debug state
 * active as the guest's own write would; restoring what is already there
 * does not, so a VMM restoring zeros costs the guest nothing.
 */
int avcpu_sysreg_user(struct avcpu_vcpu *vcpu, u32 enc, bool set, u64 *val)
{
	u64 *oslsr = &vcpu->ctx.sys[AVCPU_OSLSR_EL1];
	u64 cur;
	int idx;

	if ((enc & ~ENC(0, 0, 0, 0xf, 0x3)) == ENC(2, 0, 0, 0, 4)) {
		if (!avcpu_bpwp_reg(vcpu, (enc >> 3) & 0xf, enc & 7, true, &cur))
			return -ENOENT;
		if (!set)
			*val = cur;
		else if (*val != cur)
			avcpu_bpwp_reg(vcpu, (enc >> 3) & 0xf, enc & 7, false, val);
		return 0;
	}
	if (enc == ENC(2, 0, 1, 1, 4)) {		/* OSLSR_EL1 */
		if (!set) {
			*val = *oslsr;
			return 0;
		}
		if ((*val & ~(u64)AVCPU_OSLSR_OSLK) != AVCPU_OSLSR_OSLM)
			return -EINVAL;
		*oslsr = *val;
		return 0;
	}
	idx = avcpu_sysreg_index(enc);
	if (idx < 0)
		return idx;
	if (!set) {
		*val = vcpu->ctx.sys[idx];
		return 0;
	}
	if (idx == AVCPU_MDSCR_EL1 && (*val & (DBG_MDSCR_MDE | DBG_MDSCR_KDE)))
		vcpu->ctx.debug.active = 1;
	vcpu->ctx.sys[idx] = *val;
	return 0;
}

int avcpu_handle_sysreg(struct avcpu_vcpu *vcpu)
{
	u64 esr = vcpu->exit.esr;
	u32 op0 = FIELD_GET(ESR_ELx_SYS64_ISS_OP0_MASK, esr);
	u32 op1 = FIELD_GET(ESR_ELx_SYS64_ISS_OP1_MASK, esr);
	u32 crn = FIELD_GET(ESR_ELx_SYS64_ISS_CRN_MASK, esr);
	u32 crm = FIELD_GET(ESR_ELx_SYS64_ISS_CRM_MASK, esr);
	u32 op2 = FIELD_GET(ESR_ELx_SYS64_ISS_OP2_MASK, esr);
	u32 rt = FIELD_GET(ESR_ELx_SYS64_ISS_RT_MASK, esr);
	bool read = esr & ESR_ELx_SYS64_ISS_DIR_READ;
	u32 enc = ENC(op0, op1, crn, crm, op2);
	struct avcpu_run *run = vcpu->run;
	u64 val;
	int idx;

	if (op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7) {
		if (!read)
			goto undef;	/* ID registers are read-only */
		avcpu_set_reg(vcpu, rt, avcpu_id_reg(crm, op2));
		avcpu_step(vcpu);
		return 1;
	}
	/*
	 * ID group 1 (HCR_EL2.TID1): REVIDR_EL1 and AIDR_EL1 as the CPU has
	 * them; SMIDR_EL1 belongs to SME, hidden.
	 */
	if (enc == ENC(3, 0, 0, 0, 6) || enc == ENC(3, 1, 0, 0, 7)) {
		if (!read)
			goto undef;
		avcpu_set_reg(vcpu, rt, enc == ENC(3, 0, 0, 0, 6) ?
			      read_sysreg(revidr_el1) : read_sysreg(aidr_el1));
		avcpu_step(vcpu);
		return 1;
	}
	/*
	 * op0 2: the debug registers (op1 0, CRn 0-7) and the debug
	 * communication channel (op1 3, CRn 0) are emulated; the rest of the
	 * space is trace (ETE, TRBE), BRBE and the system PMU, all hidden.
	 */
	if (op0 == 2) {
		if (!((op1 == 0 && crn <= 7) || (op1 == 3 && crn == 0)))
			goto undef;
		val = avcpu_get_reg(vcpu, rt);
		if (!avcpu_debug_reg(vcpu, enc, read, &val))
			goto undef;
		if (read)
			avcpu_set_reg(vcpu, rt, val);
		avcpu_step(vcpu);
		return 1;
	}
	/* the emulated EL1 physical timer (timer.c) */
	val = avcpu_get_reg(vcpu, rt);
	if (avcpu_ptimer_access(vcpu, enc, read, &val)) {
		if (read)
			avcpu_set_reg(vcpu, rt, val);
		avcpu_step(vcpu);
		return 1;
	}
	/* guest IPIs: write-only registers, the SendIPI exit */
	switch (enc) {
	case ENC(3, 0, 12, 11, 5):	/* ICC_SGI1R_EL1 */
	case ENC(3, 0, 12, 11, 6):	/* ICC_ASGI1R_EL1 */
	case ENC(3, 0, 12, 11, 7):	/* ICC_SGI0R_EL1 */
		if (read)
			goto undef;
		return avcpu_sgi_exit(vcpu, val,
				      enc == ENC(3, 0, 12, 11, 6) ? AVCPU_SGI_ALT_GROUP :
				      enc == ENC(3, 0, 12, 11, 7) ? AVCPU_SGI_GROUP0 : 0);
	}

	/*
	 * SCXTNUM_EL0/EL1 are the guest's (HCR_EL2.EnSCXT), but a CPU may
	 * still trap them: QEMU up to 10.0 applies the host's
	 * SCTLR_EL2.TSCXT to EL1 under VHE. The guest's value is in
	 * ctx.sys[] while it is out, and loaded again at entry.
	 */
	idx = avcpu_sysreg_index(enc);
	if (idx == AVCPU_SCXTNUM_EL0 || idx == AVCPU_SCXTNUM_EL1) {
		if (read)
			avcpu_set_reg(vcpu, rt, vcpu->ctx.sys[idx]);
		else
			vcpu->ctx.sys[idx] = avcpu_get_reg(vcpu, rt);
		avcpu_step(vcpu);
		return 1;
	}

	/*
	 * What the VMM answers (api.rst, "SYSREG_READ / SYSREG_WRITE"):
	 * ACTLR_EL1 and the IMPLEMENTATION DEFINED encodings (op0 3, CRn 11
	 * and 15). Anything else trapped belongs to a feature the guest is
	 * not shown: UNDEF, as on a CPU without it.
	 */
	if (enc != ENC(3, 0, 1, 0, 1) &&
	    !(op0 == 3 && (crn == 11 || crn == 15)))
		goto undef;

	run->sysreg.encoding = enc;
	run->sysreg.reg = rt;
	if (read) {
		avcpu_set_exit(vcpu, AVCPU_EXIT_SYSREG_READ);
		run->sysreg.value = 0;
		vcpu->pending = AVCPU_PENDING_LOAD;
		vcpu->pending_reg = rt;
		vcpu->pending_width = 8;
		vcpu->pending_sign = false;
		vcpu->pending_reg64 = true;
	} else {
		avcpu_set_exit(vcpu, AVCPU_EXIT_SYSREG_WRITE);
		run->sysreg.value = avcpu_get_reg(vcpu, rt);
		vcpu->pending = AVCPU_PENDING_STEP;
	}
	return 0;

undef:
	avcpu_inject_undef(vcpu);
	return 1;
}
