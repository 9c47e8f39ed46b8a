// SPDX-License-Identifier: GPL-2.0
/*
 * Every system register a guest can write is its own: a marker the guest
 * writes is read back by the same guest after an exit and after its vCPU
 * moved to another physical CPU, and never by the host thread that runs it
 * or by a second VM in another process, run on the same CPU in between.
 * A register the guest's ID registers say does not exist must UNDEF
 * instead (hidden in the ID registers and trapped: design.rst, "System
 * register inventory"); one they say exists must not.
 *
 * Where the CPU lacks a register, the guest's access UNDEFs at EL1 without
 * avcpu's help, which is as isolated as a trap; the test says which
 * registers it found writable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

/* The guest ID registers a register's feature is read from */
enum id_reg { ID_NONE, PFR0, PFR1, PFR2, ISAR1, MMFR3, DFR0 };

/*
 * One register: its accessors (an MRS/MSR of its encoding, so that the
 * assembler needs no knowledge of the feature), the ID field that says
 * whether the guest has it (ID_NONE: always), and two markers whose bits
 * change nothing the guest relies on while they are set.
 */
struct iso_reg {
	const char *name;
	uint64_t (*rd)(void);
	void (*wr)(uint64_t v);
	enum id_reg id;
	unsigned int shift;
	unsigned int min;	/* field >= min: the guest is told it exists */
	uint64_t marker;	/* the guest's */
	uint64_t marker2;	/* the second VM's */
	bool untrappable;	/* no control traps it: hidden or not, switched */
	bool flip;		/* the markers are bits flipped in its value */
};

#define ISO_ACCESSORS(fn, enc)						\
static uint64_t rd_##fn(void)						\
{									\
	uint64_t v = 0;							\
	asm volatile("mrs %0, " enc : "+r" (v));			\
	return v;							\
}									\
static void wr_##fn(uint64_t v)						\
{									\
	asm volatile("msr " enc ", %0\n\tisb" : : "r" (v) : "memory");	\
}

/* Arm ARM, DDI 0487, the encodings of the register descriptions (D24) */
ISO_ACCESSORS(tpidr_el0, "s3_3_c13_c0_2")
ISO_ACCESSORS(tpidrro_el0, "s3_3_c13_c0_3")
ISO_ACCESSORS(contextidr_el1, "s3_0_c13_c0_1")
ISO_ACCESSORS(afsr0_el1, "s3_0_c5_c1_0")
ISO_ACCESSORS(afsr1_el1, "s3_0_c5_c1_1")
ISO_ACCESSORS(amair_el1, "s3_0_c10_c3_0")
ISO_ACCESSORS(par_el1, "s3_0_c7_c4_0")
ISO_ACCESSORS(tpidr2_el0, "s3_3_c13_c0_5")
ISO_ACCESSORS(smpri_el1, "s3_0_c1_c2_4")
ISO_ACCESSORS(smcr_el1, "s3_0_c1_c2_6")
ISO_ACCESSORS(zcr_el1, "s3_0_c1_c2_0")
ISO_ACCESSORS(scxtnum_el0, "s3_3_c13_c0_7")
ISO_ACCESSORS(scxtnum_el1, "s3_0_c13_c0_7")
ISO_ACCESSORS(tcr2_el1, "s3_0_c2_c0_3")
ISO_ACCESSORS(pire0_el1, "s3_0_c10_c2_2")
ISO_ACCESSORS(pir_el1, "s3_0_c10_c2_3")
ISO_ACCESSORS(por_el1, "s3_0_c10_c2_4")
ISO_ACCESSORS(por_el0, "s3_3_c10_c2_4")
ISO_ACCESSORS(mair2_el1, "s3_0_c10_c2_1")
ISO_ACCESSORS(amair2_el1, "s3_0_c10_c3_1")
ISO_ACCESSORS(gcscr_el1, "s3_0_c2_c5_0")
ISO_ACCESSORS(gcspr_el1, "s3_0_c2_c5_1")
ISO_ACCESSORS(gcscre0_el1, "s3_0_c2_c5_2")
ISO_ACCESSORS(gcspr_el0, "s3_3_c2_c5_1")
ISO_ACCESSORS(rcwmask_el1, "s3_0_c13_c0_6")
ISO_ACCESSORS(accdata_el1, "s3_0_c13_c0_5")
ISO_ACCESSORS(fpmr, "s3_3_c4_c4_2")
ISO_ACCESSORS(gcr_el1, "s3_0_c1_c0_6")
ISO_ACCESSORS(rgsr_el1, "s3_0_c1_c0_5")
ISO_ACCESSORS(tfsr_el1, "s3_0_c5_c6_0")
ISO_ACCESSORS(tfsre0_el1, "s3_0_c5_c6_1")
ISO_ACCESSORS(disr_el1, "s3_0_c12_c1_1")
ISO_ACCESSORS(smidr_el1, "s3_1_c0_c0_6")
ISO_ACCESSORS(trcprgctlr, "s2_1_c0_c1_0")
ISO_ACCESSORS(brbcr_el1, "s2_1_c9_c0_0")
/* the registers the guest's own translation and exceptions run on */
ISO_ACCESSORS(tpidr_el1, "s3_0_c13_c0_4")
ISO_ACCESSORS(sp_el0, "s3_0_c4_c1_0")
ISO_ACCESSORS(elr_el1, "s3_0_c4_c0_1")
ISO_ACCESSORS(spsr_el1, "s3_0_c4_c0_0")
ISO_ACCESSORS(esr_el1, "s3_0_c5_c2_0")
ISO_ACCESSORS(far_el1, "s3_0_c6_c0_0")
ISO_ACCESSORS(ttbr0_el1, "s3_0_c2_c0_0")
ISO_ACCESSORS(ttbr1_el1, "s3_0_c2_c0_1")
ISO_ACCESSORS(tcr_el1, "s3_0_c2_c0_2")
ISO_ACCESSORS(mair_el1, "s3_0_c10_c2_0")
ISO_ACCESSORS(sctlr_el1, "s3_0_c1_c0_0")
ISO_ACCESSORS(cpacr_el1, "s3_0_c1_c0_2")
ISO_ACCESSORS(csselr_el1, "s3_2_c0_c0_0")
ISO_ACCESSORS(cntkctl_el1, "s3_0_c14_c1_0")
ISO_ACCESSORS(mdscr_el1, "s2_0_c0_c2_2")
ISO_ACCESSORS(cntv_cval_el0, "s3_3_c14_c3_2")
ISO_ACCESSORS(cntv_ctl_el0, "s3_3_c14_c3_1")
ISO_ACCESSORS(cntp_cval_el0, "s3_3_c14_c2_2")
ISO_ACCESSORS(cntp_ctl_el0, "s3_3_c14_c2_1")
ISO_ACCESSORS(vbar_el1, "s3_0_c12_c0_0")

#define R(n, idr, sh, mn, m1, m2)	{ #n, rd_##n, wr_##n, idr, sh, mn, m1, m2, false, false }
#define R_UNTRAPPABLE(n, m1, m2)	{ #n, rd_##n, wr_##n, ID_NONE, 0, 0, m1, m2, true, false }
#define R_FLIP(n, m1, m2)		{ #n, rd_##n, wr_##n, ID_NONE, 0, 0, m1, m2, false, true }

/* Fields of the flipped registers (Arm ARM D24.2): EL0 controls, unused slots */
#define SCTLR_DZE	(1ULL << 14)
#define SCTLR_UCT	(1ULL << 15)
#define TCR_T1SZ_LSB	(1ULL << 16)	/* TTBR1 walks are off (EPD1) */
#define TCR_TBI1	(1ULL << 38)
#define MAIR_ATTR(i, a)	((uint64_t)(a) << ((i) * 8))	/* entry.S uses 0, 1 */
#define TTBR_ASID(a)	((uint64_t)(a) << 48)
#define CPACR_TTA	(1ULL << 28)
#define MDSCR_TDCC	(1ULL << 12)
#define CNTKCTL_EL0CTEN	0x3ULL		/* EL0PCTEN, EL0VCTEN */

/*
 * Markers: TCR2_EL1 sets only PnCH (the guest's tables use no contiguous
 * bit); the GCS control registers only PUSHMEn and STREn (GCS stays off);
 * SMPRI_EL1 a priority; the tag and memory-attribute registers bits that
 * act only with features nobody enables here.
 */
static const struct iso_reg iso_regs[] = {
	R(tpidr_el0,	  ID_NONE, 0, 0, 0x6775657374303030ULL, 0x6f74686572303030ULL),
	R(tpidrro_el0,	  ID_NONE, 0, 0, 0x6775657374524f30ULL, 0x6f74686572524f30ULL),
	R(contextidr_el1, ID_NONE, 0, 0, 0x5a5a0001ULL, 0xa5a50002ULL),
	R(afsr0_el1,	  ID_NONE, 0, 0, 0x1234ULL, 0x4321ULL),
	R(afsr1_el1,	  ID_NONE, 0, 0, 0x5678ULL, 0x8765ULL),
	R(amair_el1,	  ID_NONE, 0, 0, 0, 0),
	R(par_el1,	  ID_NONE, 0, 0, 0x0000123456789000ULL, 0x0000987654321000ULL),
	/* SME: ID_AA64PFR1_EL1.SME */
	R(tpidr2_el0,	  PFR1, 24, 1, 0x7470696472322121ULL, 0x6f74686572322121ULL),
	R(smpri_el1,	  PFR1, 24, 1, 0x5, 0xa),
	R(smcr_el1,	  PFR1, 24, 1, 0x1, 0x2),
	/* SVE: ID_AA64PFR0_EL1.SVE */
	R(zcr_el1,	  PFR0, 32, 1, 0x1, 0x2),
	/* FEAT_CSV2_2: ID_AA64PFR0_EL1.CSV2 >= 2 */
	R(scxtnum_el0,	  PFR0, 56, 2, 0x7363787430303030ULL, 0x6f74686572783030ULL),
	R(scxtnum_el1,	  PFR0, 56, 2, 0x7363787431313131ULL, 0x6f74686572783131ULL),
	/* ID_AA64MMFR3_EL1: TCRX, S1PIE, S1POE, AIE */
	R(tcr2_el1,	  MMFR3, 0, 1, 0x1, 0x1),
	R(pire0_el1,	  MMFR3, 8, 1, 0x1111222233334444ULL, 0x4444333322221111ULL),
	R(pir_el1,	  MMFR3, 8, 1, 0x5555666677778888ULL, 0x8888777766665555ULL),
	R(por_el1,	  MMFR3, 16, 1, 0x0123456701234567ULL, 0x7654321076543210ULL),
	R(por_el0,	  MMFR3, 16, 1, 0x0011223344556677ULL, 0x7766554433221100ULL),
	R(mair2_el1,	  MMFR3, 24, 1, 0x00000000000000ffULL, 0x000000000000ff00ULL),
	R(amair2_el1,	  MMFR3, 24, 1, 0, 0),
	/* GCS: ID_AA64PFR1_EL1.GCS */
	R(gcscr_el1,	  PFR1, 44, 1, 0x300, 0x100),
	R(gcspr_el1,	  PFR1, 44, 1, 0x0000001234567000ULL, 0x0000007654321000ULL),
	R(gcscre0_el1,	  PFR1, 44, 1, 0x300, 0x200),
	R(gcspr_el0,	  PFR1, 44, 1, 0x0000002345678000ULL, 0x0000008765432000ULL),
	/* FEAT_THE: ID_AA64PFR1_EL1.THE */
	R(rcwmask_el1,	  PFR1, 48, 1, 0x0102030405060708ULL, 0x0807060504030201ULL),
	/* FEAT_LS64_ACCDATA: ID_AA64ISAR1_EL1.LS64 >= 3 */
	R(accdata_el1,	  ISAR1, 60, 3, 0x12345678ULL, 0x87654321ULL),
	/* FEAT_FPMR: ID_AA64PFR2_EL1.FPMR */
	R(fpmr,		  PFR2, 32, 1, 0x1, 0x2),
	/* MTE registers: ID_AA64PFR1_EL1.MTE >= 2 */
	R(gcr_el1,	  PFR1, 8, 2, 0x0000000000000f0fULL, 0x000000000000f0f0ULL),
	R(rgsr_el1,	  PFR1, 8, 2, 0x0000000000012300ULL, 0x0000000000032100ULL),
	R(tfsr_el1,	  PFR1, 8, 2, 0x1, 0x2),
	R(tfsre0_el1,	  PFR1, 8, 2, 0x1, 0x2),
	/*
	 * FEAT_RAS is hidden, but nothing traps DISR_EL1 (under HCR_EL2.AMO
	 * it is VDISR_EL2): where the CPU has it, it must be the guest's own
	 */
	R_UNTRAPPABLE(disr_el1, 0x80000001ULL, 0x80000002ULL),
	/* SME's ID register, read-only: its write probe always UNDEFs */
	R(smidr_el1,	  PFR1, 24, 1, 0, 0),
	/* trace (ID_AA64DFR0_EL1.TraceVer) and BRBE (ID_AA64DFR0_EL1.BRBE) */
	R(trcprgctlr,	  DFR0, 4, 1, 0, 0),
	R(brbcr_el1,	  DFR0, 52, 1, 0, 0),
	/*
	 * What the guest's own translation and exception entry run on. These
	 * rows come last, VBAR_EL1 the very last: once they hold markers the
	 * guest takes no exception until it has read them back. The markers
	 * change what only EL0, an unused TTBR1_EL1 or an unused MAIR_EL1
	 * slot would see; the second VM's value of a flipped register with
	 * marker2 0 is its own.
	 */
	R(tpidr_el1,	  ID_NONE, 0, 0, 0x7470696472316131ULL, 0x6f74686572316131ULL),
	R(sp_el0,	  ID_NONE, 0, 0, 0x0000123456789ab0ULL, 0x00000ba987654320ULL),
	R(elr_el1,	  ID_NONE, 0, 0, 0x0000000012345678ULL, 0x0000000087654320ULL),
	R(spsr_el1,	  ID_NONE, 0, 0, 0x3c5, 0x3c4),
	R(esr_el1,	  ID_NONE, 0, 0, 0x96000045ULL, 0x92000046ULL),
	R(far_el1,	  ID_NONE, 0, 0, 0x0000deadbeef0000ULL, 0x0000beefdead0000ULL),
	R(ttbr1_el1,	  ID_NONE, 0, 0, 0x0000000040000000ULL, 0x0000000080000000ULL),
	R(csselr_el1,	  ID_NONE, 0, 0, 0x2, 0x1),
	R(cntv_cval_el0,  ID_NONE, 0, 0, 0x00ff000012340000ULL, 0x00ff000043210000ULL),
	R(cntv_ctl_el0,	  ID_NONE, 0, 0, 0x2, 0),
	R(cntp_cval_el0,  ID_NONE, 0, 0, 0x00ff000056780000ULL, 0x00ff000087650000ULL),
	R(cntp_ctl_el0,	  ID_NONE, 0, 0, 0x2, 0),
	R_FLIP(ttbr0_el1,  TTBR_ASID(0x12), TTBR_ASID(0x21)),
	R_FLIP(tcr_el1,	   TCR_TBI1, TCR_TBI1 | TCR_T1SZ_LSB),
	R_FLIP(mair_el1,   MAIR_ATTR(7, 0x44), MAIR_ATTR(6, 0x44)),
	R_FLIP(sctlr_el1,  SCTLR_UCT | SCTLR_DZE, SCTLR_UCT),
	R_FLIP(cpacr_el1,  CPACR_TTA, 0),
	R_FLIP(cntkctl_el1, CNTKCTL_EL0CTEN, 0x1),
	R_FLIP(mdscr_el1,  MDSCR_TDCC, 0),
	R_FLIP(vbar_el1,   0x0000001000000000ULL, 0x0000002000000000ULL),
};

#define NR_ISO	(sizeof(iso_regs) / sizeof(iso_regs[0]))

/* What the guest found, in the pages guest and host share */
static volatile uint64_t undef_count;
static volatile bool shown[NR_ISO];
static volatile bool undef_rd[NR_ISO];
static volatile bool undef_wr[NR_ISO];
static volatile uint64_t seen[NR_ISO];
/* What the guest wrote: the marker, or its value with the marker's bits flipped */
static volatile uint64_t wrote[NR_ISO];
/* Read back as written at once: the CPU keeps it (not RAZ/WI here) */
static volatile bool keeps[NR_ISO];
/* The second VM writes its markers only when this is set */
static volatile bool write_marker2;

static void undef_step(struct ex_regs *regs)
{
	undef_count++;
	regs->pc += 4;
}

/*
 * The guest's own traps out of the way: CPACR_EL1.ZEN and SMEN (bits 17:16,
 * 25:24) enable SVE and SME at EL1 as far as the guest is concerned, so
 * that ZCR_EL1 and SMCR_EL1 reach avcpu's traps. Were the guest's own traps
 * taken (EC 0x19, 0x1d), they count as UNDEF: the register stays out of
 * reach either way.
 */
#define CPACR_ZEN_SMEN	((3UL << 16) | (3UL << 24))
#define ESR_EC_SME	0x1d

static void guest_prepare(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN, undef_step);
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_SVE, undef_step);
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_SME, undef_step);
	write_sysreg(read_sysreg(cpacr_el1) | CPACR_ZEN_SMEN, cpacr_el1);
	isb();
}

static uint64_t guest_id_reg(enum id_reg id)
{
	switch (id) {
	case PFR0:
		return read_sysreg(s3_0_c0_c4_0);
	case PFR1:
		return read_sysreg(s3_0_c0_c4_1);
	case PFR2:
		return read_sysreg(s3_0_c0_c4_2);
	case ISAR1:
		return read_sysreg(s3_0_c0_c6_1);
	case MMFR3:
		return read_sysreg(s3_0_c0_c7_3);
	case DFR0:
		return read_sysreg(s3_0_c0_c5_0);
	default:
		return 0;
	}
}

static bool guest_probe(uint64_t (*fn)(void))
{
	uint64_t before = undef_count;

	(void)fn();
	return undef_count != before;
}

static bool guest_probe_wr(void (*fn)(uint64_t), uint64_t v)
{
	uint64_t before = undef_count;

	fn(v);
	return undef_count != before;
}

/*
 * SYNC 1: each register probed and, where writable, set to its marker.
 * Then, at each SYNC 2, what every writable register holds.
 */
static void guest_markers(void)
{
	unsigned int i;

	guest_prepare();
	for (i = 0; i < NR_ISO; i++) {
		const struct iso_reg *r = &iso_regs[i];

		shown[i] = r->id == ID_NONE ||
			   ((guest_id_reg(r->id) >> r->shift) & 0xf) >= r->min;
		undef_rd[i] = guest_probe(r->rd);
		wrote[i] = r->flip && !undef_rd[i] ? r->rd() ^ r->marker : r->marker;
		undef_wr[i] = guest_probe_wr(r->wr, wrote[i]);
		seen[i] = undef_rd[i] ? 0 : r->rd();
		keeps[i] = !undef_rd[i] && !undef_wr[i] && r->marker &&
			   seen[i] == wrote[i];
	}
	GUEST_SYNC(1);
	for (;;) {
		for (i = 0; i < NR_ISO; i++)
			if (keeps[i])
				seen[i] = iso_regs[i].rd();
		GUEST_SYNC(2);
	}
}

/* The second VM: what it finds in the writable registers, then its own. */
static void guest_other(void)
{
	unsigned int i;

	guest_prepare();
	for (i = 0; i < NR_ISO; i++) {
		if (!keeps[i])
			continue;
		seen[i] = iso_regs[i].rd();
		if (write_marker2)
			iso_regs[i].wr(iso_regs[i].flip ?
				       seen[i] ^ iso_regs[i].marker2 :
				       iso_regs[i].marker2);
	}
	GUEST_SYNC(3);
}

/* The host thread's own EL0 copies of the EL0 registers it can reach */
#ifndef HWCAP2_SME
#define HWCAP2_SME	(1UL << 23)
#endif

static bool host_has_tpidr2(void)
{
	return getauxval(AT_HWCAP2) & HWCAP2_SME;
}

static uint64_t host_tpidr2(void)
{
	return rd_tpidr2_el0();
}

/*
 * A second VM, in a child process, on @cpu: returns what it saw in @out
 * (shared memory), or aborts the test when the child failed.
 */
static void other_vm(struct __test_metadata *_metadata, unsigned int cpu,
		     uint64_t *out)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct avcpu_vcpu *vcpu;
		struct avcpu_vm *vm;
		struct ucall uc;
		cpu_set_t set;
		unsigned int i;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			_exit(2);
		write_marker2 = true;
		vm = vm_create();
		vcpu = vm_vcpu_add(vm, 0, guest_other);
		for (;;) {
			vcpu_run(vcpu);
			if (vcpu->run->exit_reason != AVCPU_EXIT_SYSREG_READ &&
			    vcpu->run->exit_reason != AVCPU_EXIT_SYSREG_WRITE)
				break;
			vcpu->run->ret = 0;	/* the parent reported it */
		}
		if (get_ucall(vcpu, &uc) != UCALL_SYNC || uc.args[0] != 3)
			_exit(3);
		for (i = 0; i < NR_ISO; i++)
			out[i] = seen[i];
		vm_free(vm);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("the second VM's process died");
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the second VM failed");
}

static void pin(struct __test_metadata *_metadata, unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
}

/*
 * Run to the next ucall. None of these registers is the VMM's to answer
 * (api.rst lists those): an exit for one fails the test, and the guest
 * goes on reading 0.
 */
static uint64_t run_ucall(struct __test_metadata *_metadata,
			  struct avcpu_vcpu *vcpu, struct ucall *uc)
{
	struct avcpu_run *run = vcpu->run;
	bool vmm_asked;

	for (;;) {
		vcpu_run(vcpu);
		vmm_asked = run->exit_reason == AVCPU_EXIT_SYSREG_READ ||
			    run->exit_reason == AVCPU_EXIT_SYSREG_WRITE;
		if (!vmm_asked)
			break;
		EXPECT_FALSE(vmm_asked)
			TH_LOG("the VMM was asked for register 0x%x",
			       run->sysreg.encoding);
		run->ret = 0;
	}
	return get_ucall(vcpu, uc);
}

/* The guest's writable registers still hold its markers (SYNC 2). */
static void expect_markers(struct __test_metadata *_metadata,
			   struct avcpu_vcpu *vcpu, const char *when)
{
	struct ucall uc;
	unsigned int i;

	ASSERT_EQ(UCALL_SYNC, run_ucall(_metadata, vcpu, &uc));
	ASSERT_EQ(2, uc.args[0]);
	for (i = 0; i < NR_ISO; i++) {
		if (!keeps[i])
			continue;
		EXPECT_EQ(wrote[i], seen[i])
			TH_LOG("%s: the guest lost its value %s", iso_regs[i].name,
			       when);
	}
}

TEST(sysreg_markers)
{
	uint64_t host_t2 = 0x686f737474703221ULL;
	bool t2 = host_has_tpidr2();
	struct avcpu_vcpu *vcpu;
	unsigned int i, ncpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t *other;

	AVCPU_REQUIRE_RUN();
	ncpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	other = mmap(NULL, sizeof(uint64_t) * NR_ISO, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, other);

	pin(_metadata, 0);
	if (t2)
		wr_tpidr2_el0(host_t2);
	ksft_print_msg("the host thread's TPIDR2_EL0: %s\n",
		       t2 ? "checked" : "not reachable (no HWCAP2_SME)");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_markers);
	ASSERT_EQ(UCALL_SYNC, run_ucall(_metadata, vcpu, &uc));
	ASSERT_EQ(1, uc.args[0]);
	if (t2)
		EXPECT_EQ(host_t2, host_tpidr2())
			TH_LOG("the host thread's TPIDR2_EL0 took the guest's");

	for (i = 0; i < NR_ISO; i++) {
		const struct iso_reg *r = &iso_regs[i];
		bool undef = undef_rd[i] || undef_wr[i];

		if (r->untrappable)
			continue;
		if (!shown[i]) {
			EXPECT_TRUE(undef)
				TH_LOG("%s: hidden from the guest, yet it reads and writes it",
				       r->name);
			continue;
		}
		EXPECT_FALSE(undef)
			TH_LOG("%s: shown to the guest, yet it UNDEFs (read %d, write %d)",
			       r->name, undef_rd[i], undef_wr[i]);
	}
	for (i = 0; i < NR_ISO; i++) {
		if (keeps[i])
			ksft_print_msg("%s: the guest's own\n", iso_regs[i].name);
		else if (!undef_rd[i] && !undef_wr[i])
			ksft_print_msg("%s: writable, keeps no marker (RAZ/WI here)\n",
				       iso_regs[i].name);
	}

	/* the same guest after an exit, on the same CPU */
	expect_markers(_metadata, vcpu, "after an exit");

	/* a second VM in another process, on the CPU the guest just left */
	other_vm(_metadata, 0, other);
	for (i = 0; i < NR_ISO; i++) {
		if (!keeps[i])
			continue;
		EXPECT_NE(wrote[i], other[i])
			TH_LOG("%s: a VM in another process read this VM's value",
			       iso_regs[i].name);
	}
	/* back on the CPU the other VM left its markers on */
	expect_markers(_metadata, vcpu, "after another VM ran on its CPU");

	if (ncpu > 1) {
		vcpu_unbind(vcpu);
		pin(_metadata, 1);
		vcpu_bind(vcpu, 1);
		expect_markers(_metadata, vcpu, "after moving to CPU 1");
		vcpu_unbind(vcpu);
		pin(_metadata, 0);
		vcpu_bind(vcpu, 0);
		expect_markers(_metadata, vcpu, "after moving back to CPU 0");
	}
	if (t2)
		EXPECT_EQ(host_t2, host_tpidr2())
			TH_LOG("the host thread's TPIDR2_EL0 took the guest's");
	vm_free(vm);
	munmap(other, sizeof(uint64_t) * NR_ISO);
}

TEST_HARNESS_MAIN
