// SPDX-License-Identifier: GPL-2.0
/*
 * What the guest sees without any exit: the exceptions the module injects
 * (undefined instruction, prefetch abort outside RAM, address size fault
 * beyond the IPA size), the ID registers it sanitises and the debug
 * registers it emulates.
 *
 * The guest installs exception handlers that record ESR_EL1, ELR_EL1 and
 * FAR_EL1 and resume; the host only checks that every exit is a ucall.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

/* One vCPU running @guest_code; its first exit must be GUEST_DONE. */
static void run_guest_to_done(struct __test_metadata *_metadata,
			      void (*guest_code)(void))
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

#define ESR_IL			(1ULL << 25)
#define ESR_FSC(esr)		((esr) & 0x3f)
#define ESR_WNR			(1ULL << 6)
#define FSC_ADDR_SIZE_L0	0x00
#define FSC_ADDR_SIZE_L1	0x01
#define FSC_EXT_ABORT		0x10

/* What the last handled exception recorded */
static volatile uint64_t exc_count, exc_esr, exc_elr, exc_far;

static void record(struct ex_regs *regs)
{
	exc_count++;
	exc_esr = regs->esr;
	exc_elr = regs->pc;
	exc_far = regs->far;
}

/* Skip the faulting instruction. */
static void record_and_step(struct ex_regs *regs)
{
	record(regs);
	regs->pc += 4;
}

/* A fetch fault after a BLR: go back to its caller. */
static void record_and_return(struct ex_regs *regs)
{
	record(regs);
	regs->pc = regs->regs[30];
}

/*
 * UNDEF: @insn (at label 1) must raise exactly one EC 0 exception with
 * IL set and ELR_EL1 the instruction; @clob names the registers it writes.
 */
#define EXPECT_UNDEF(what, insn, ...) do {				\
	uint64_t __before = exc_count, __pc;				\
									\
	asm volatile("adr %0, 1f\n"					\
		     "1:\t" insn						\
		     : "=&r" (__pc) : : "memory", ##__VA_ARGS__);	\
	__GUEST_ASSERT(exc_count == __before + 1,			\
		       "%s: %lu exceptions, want 1", what,		\
		       (unsigned long)(exc_count - __before));		\
	__GUEST_ASSERT(exc_esr == ESR_IL,				\
		       "%s: ESR_EL1 0x%lx, want EC 0 IL 1 (0x%lx)", what,	\
		       (unsigned long)exc_esr, (unsigned long)ESR_IL);	\
	__GUEST_ASSERT(exc_elr == __pc, "%s: ELR_EL1 0x%lx, want 0x%lx",	\
		       what, (unsigned long)exc_elr, (unsigned long)__pc);	\
} while (0)

#define CPACR_ZEN	(3ULL << 16)

static void guest_undef_pacga(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN,
			      record_and_step);
	EXPECT_UNDEF("pacga x0, x1, x2", ".inst 0x9ac23020", "x0");
	GUEST_DONE();
}

static void guest_undef_sve(void)
{
	uint64_t cpacr = read_sysreg(cpacr_el1);

	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN,
			      record_and_step);
	/* SVE enabled as far as EL1 is concerned */
	write_sysreg(cpacr | CPACR_ZEN, cpacr_el1);
	isb();
	EXPECT_UNDEF("rdvl x0, #1", ".inst 0x04bf5020", "x0");
	write_sysreg(cpacr, cpacr_el1);
	isb();
	GUEST_DONE();
}

static void guest_undef_hidden_sysregs(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN,
			      record_and_step);
	EXPECT_UNDEF("mrs x0, pmcr_el0", "mrs x0, pmcr_el0", "x0");
	EXPECT_UNDEF("mrs x0, pmccntr_el0", "mrs x0, s3_3_c9_c13_0", "x0");
	EXPECT_UNDEF("msr pmcr_el0, x0", "msr s3_3_c9_c12_0, xzr");
	EXPECT_UNDEF("mrs x0, LORID_EL1", "mrs x0, s3_0_c10_c4_7", "x0");
	EXPECT_UNDEF("mrs x0, LORC_EL1", "mrs x0, s3_0_c10_c4_3", "x0");
	EXPECT_UNDEF("mrs x0, AMCR_EL0", "mrs x0, s3_3_c13_c2_0", "x0");
	EXPECT_UNDEF("mrs x0, APIAKEYLO_EL1", "mrs x0, s3_0_c2_c1_0", "x0");
	EXPECT_UNDEF("mrs x0, APGAKEYLO_EL1", "mrs x0, s3_0_c2_c3_0", "x0");
	EXPECT_UNDEF("mrs x0, ERRIDR_EL1", "mrs x0, s3_0_c5_c3_0", "x0");
	GUEST_DONE();
}

static void guest_undef_id_write(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN,
			      record_and_step);
	EXPECT_UNDEF("msr ID_AA64PFR0_EL1, x0", "msr s3_0_c0_c4_0, xzr");
	EXPECT_UNDEF("msr ID_AA64ISAR1_EL1, x0", "msr s3_0_c0_c6_1, xzr");
	EXPECT_UNDEF("msr ID_AA64MMFR0_EL1, x0", "msr s3_0_c0_c7_0, xzr");
	/* reads of the same registers do not fault */
	(void)read_sysreg(s3_0_c0_c4_0);
	GUEST_ASSERT_EQ(exc_count, 3);
	GUEST_DONE();
}

TEST(undef_pacga)
{
	AVCPU_REQUIRE_RUN();
	run_guest_to_done(_metadata, guest_undef_pacga);
}

TEST(undef_sve)
{
	AVCPU_REQUIRE_RUN();
	run_guest_to_done(_metadata, guest_undef_sve);
}

TEST(undef_hidden_sysregs)
{
	AVCPU_REQUIRE_RUN();
	run_guest_to_done(_metadata, guest_undef_hidden_sysregs);
}

TEST(undef_id_register_write)
{
	AVCPU_REQUIRE_RUN();
	run_guest_to_done(_metadata, guest_undef_id_write);
}

/*
 * Prefetch abort: a branch to an IPA in no memory slot (GiB 0-1 is
 * Normal, executable memory in the guest's stage 1).
 */
#define NO_RAM_IPA	0x30000400ULL

static void guest_fetch_outside_ram(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_IABT_CUR,
			      record_and_return);
	asm volatile("blr %0" : : "r" (NO_RAM_IPA) : "x30", "memory");
	GUEST_ASSERT_EQ(exc_count, 1);
	GUEST_ASSERT_EQ(ESR_EC(exc_esr), ESR_EC_IABT_CUR);
	GUEST_ASSERT_EQ(ESR_FSC(exc_esr), FSC_EXT_ABORT);
	GUEST_ASSERT_EQ(exc_far, NO_RAM_IPA);
	GUEST_ASSERT_EQ(exc_elr, NO_RAM_IPA);
	GUEST_DONE();
}

TEST(prefetch_abort_outside_ram)
{
	AVCPU_REQUIRE_RUN();
	run_guest_to_done(_metadata, guest_fetch_outside_ram);
}

/*
 * Address size fault: a 1 GiB block at VA 4 GiB pointing at the first IPA
 * beyond the VM's IPA size. Who raises it depends on the CPU: when the VM's
 * IPA size is below the CPU's PA size, the IPA reaches stage 2 and avcpu
 * injects the fault at level 0 (exit.c); when they are equal (the nvhe
 * lane's Cortex-A72: 44 bits), the CPU's own stage 1 refuses the output
 * address at the level of the block descriptor, 1 (Arm ARM, DDI 0487, the
 * VMSAv8-64 Address size fault: reported at the lookup level that gave the
 * output address), and the guest takes it without avcpu.
 */
#define BEYOND_INDEX	4
#define BEYOND_VA	((uint64_t)BEYOND_INDEX << 30)
static volatile uint64_t vm_ipa_bits;
static volatile uint64_t beyond_fsc;

static void guest_beyond_ipa(void)
{
	uint64_t load_va = BEYOND_VA + 0x1238, store_va = BEYOND_VA + 0x2340;
	uint64_t fetch_va = BEYOND_VA + 0x3000;

	/* the host skips the test on a 0 */
	GUEST_SYNC(guest_map_1g(BEYOND_INDEX, 1ULL << vm_ipa_bits, false) == 0);

	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_DABT_CUR,
			      record_and_step);
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_IABT_CUR,
			      record_and_return);

	asm volatile("ldr x0, [%0]" : : "r" (load_va) : "x0", "memory");
	GUEST_ASSERT_EQ(exc_count, 1);
	GUEST_ASSERT_EQ(ESR_EC(exc_esr), ESR_EC_DABT_CUR);
	GUEST_ASSERT_EQ(ESR_FSC(exc_esr), beyond_fsc);
	GUEST_ASSERT_EQ(exc_esr & ESR_WNR, 0);
	GUEST_ASSERT_EQ(exc_far, load_va);

	asm volatile("str xzr, [%0]" : : "r" (store_va) : "memory");
	GUEST_ASSERT_EQ(exc_count, 2);
	GUEST_ASSERT_EQ(ESR_EC(exc_esr), ESR_EC_DABT_CUR);
	GUEST_ASSERT_EQ(ESR_FSC(exc_esr), beyond_fsc);
	GUEST_ASSERT_EQ(exc_esr & ESR_WNR, ESR_WNR);
	GUEST_ASSERT_EQ(exc_far, store_va);

	asm volatile("blr %0" : : "r" (fetch_va) : "x30", "memory");
	GUEST_ASSERT_EQ(exc_count, 3);
	GUEST_ASSERT_EQ(ESR_EC(exc_esr), ESR_EC_IABT_CUR);
	GUEST_ASSERT_EQ(ESR_FSC(exc_esr), beyond_fsc);
	GUEST_ASSERT_EQ(exc_far, fetch_va);
	GUEST_ASSERT_EQ(exc_elr, fetch_va);
	GUEST_DONE();
}

TEST(address_size_fault_beyond_ipa)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	if (vm->caps.ipa_bits >= 52) {
		vm_free(vm);
		SKIP(return, "IPA size %u: no guest address beyond it",
		     vm->caps.ipa_bits);
	}
	vm_ipa_bits = vm->caps.ipa_bits;
	beyond_fsc = vm->caps.ipa_bits < vm->caps.pa_bits ? FSC_ADDR_SIZE_L0 :
							    FSC_ADDR_SIZE_L1;
	vcpu = vm_vcpu_add(vm, 0, guest_beyond_ipa);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	if (!uc.args[0]) {
		unsigned int bits = vm->caps.ipa_bits;

		vm_free(vm);
		SKIP(return, "the guest's 4K stage 1 cannot output 1 << %u: its ID registers show no FEAT_LPA2 (the CPU has none, or the host kernel hides it)",
		     bits);
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * ID registers as the guest reads them.
 */
#define FIELD(v, shift)	(((v) >> (shift)) & 0xf)
static volatile uint64_t want_parange;

static void guest_id_regs(void)
{
	uint64_t pfr0 = read_sysreg(id_aa64pfr0_el1);
	uint64_t pfr1 = read_sysreg(id_aa64pfr1_el1);
	uint64_t dfr0 = read_sysreg(id_aa64dfr0_el1);
	uint64_t isar0 = read_sysreg(id_aa64isar0_el1);
	uint64_t isar1 = read_sysreg(id_aa64isar1_el1);
	uint64_t isar2 = read_sysreg(s3_0_c0_c6_2);
	uint64_t mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	uint64_t mmfr1 = read_sysreg(id_aa64mmfr1_el1);
	uint64_t mmfr2 = read_sysreg(id_aa64mmfr2_el1);

	/* ID_AA64PFR0_EL1 */
	GUEST_ASSERT_EQ(FIELD(pfr0, 0), 1);	/* EL0: AArch64 only */
	GUEST_ASSERT_EQ(FIELD(pfr0, 4), 1);	/* EL1: AArch64 only */
	GUEST_ASSERT_EQ(FIELD(pfr0, 8), 0);	/* EL2 */
	GUEST_ASSERT_EQ(FIELD(pfr0, 12), 0);	/* EL3 */
	GUEST_ASSERT_EQ(FIELD(pfr0, 28), 0);	/* RAS */
	GUEST_ASSERT_EQ(FIELD(pfr0, 32), 0);	/* SVE */
	GUEST_ASSERT_EQ(FIELD(pfr0, 36), 0);	/* SEL2 */
	GUEST_ASSERT_EQ(FIELD(pfr0, 40), 0);	/* MPAM */
	GUEST_ASSERT_EQ(FIELD(pfr0, 44), 0);	/* AMU */
	GUEST_ASSERT_EQ(FIELD(pfr0, 52), 0);	/* RME */
	/* ID_AA64PFR1_EL1: BT[3:0] and SSBS[7:4] at most */
	GUEST_ASSERT_EQ(FIELD(pfr1, 8), 0);	/* MTE */
	GUEST_ASSERT_EQ(FIELD(pfr1, 24), 0);	/* SME */
	GUEST_ASSERT_EQ(pfr1 & ~0xffULL, 0);
	/*
	 * ID_AA64DFR0_EL1: debug v8.0 and the CPU's breakpoints (BRPs,
	 * 15:12), watchpoints (WRPs, 23:20) and context-aware breakpoints
	 * (CTX_CMPs, 31:28), at least 2, 2 and 1; nothing else
	 */
	GUEST_ASSERT_EQ(FIELD(dfr0, 0), 6);	/* DebugVer: v8.0 */
	GUEST_ASSERT_EQ(FIELD(dfr0, 8), 0);	/* PMUVer */
	GUEST_ASSERT_EQ(FIELD(dfr0, 32), 0);	/* PMSVer */
	GUEST_ASSERT(FIELD(dfr0, 12) >= 1 && FIELD(dfr0, 20) >= 1);
	GUEST_ASSERT_EQ(dfr0 & ~0xf0f0f000ULL, 0x000000f000000006ULL);
	/* ID_AA64ISAR0_EL1 */
	GUEST_ASSERT_EQ(FIELD(isar0, 24), 0);	/* TME */
	/* ID_AA64ISAR1_EL1: no pointer authentication */
	GUEST_ASSERT_EQ(FIELD(isar1, 4), 0);	/* APA */
	GUEST_ASSERT_EQ(FIELD(isar1, 8), 0);	/* API */
	GUEST_ASSERT_EQ(FIELD(isar1, 24), 0);	/* GPA */
	GUEST_ASSERT_EQ(FIELD(isar1, 28), 0);	/* GPI */
	/* ID_AA64ISAR2_EL1 */
	GUEST_ASSERT_EQ(FIELD(isar2, 8), 0);	/* GPA3 */
	GUEST_ASSERT_EQ(FIELD(isar2, 12), 0);	/* APA3 */
	/* ID_AA64MMFR0_EL1 */
	GUEST_ASSERT_EQ(FIELD(mmfr0, 0), want_parange);
	GUEST_ASSERT_EQ(FIELD(mmfr0, 8), 0);	/* BigEnd: little-endian only */
	GUEST_ASSERT_EQ(FIELD(mmfr0, 16), 0);	/* BigEndEL0 */
	/* ID_AA64MMFR1_EL1 */
	GUEST_ASSERT_EQ(FIELD(mmfr1, 8), 0);	/* VH */
	GUEST_ASSERT_EQ(FIELD(mmfr1, 16), 0);	/* LO */
	GUEST_ASSERT_EQ(FIELD(mmfr1, 32), 0);	/* TWED */
	GUEST_ASSERT_EQ(FIELD(mmfr1, 40), 0);	/* HCX */
	/* ID_AA64MMFR2_EL1 */
	GUEST_ASSERT_EQ(FIELD(mmfr2, 24), 0);	/* NV */
	/* all zero */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c4_4), 0);	/* ID_AA64ZFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c4_5), 0);	/* ID_AA64SMFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c5_1), 0);	/* ID_AA64DFR1_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c5_4), 0);	/* ID_AA64AFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c5_5), 0);	/* ID_AA64AFR1_EL1 */
	/* AArch32 ID registers */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c1_0), 0);	/* ID_PFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c1_2), 0);	/* ID_DFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c1_4), 0);	/* ID_MMFR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c2_0), 0);	/* ID_ISAR0_EL1 */
	GUEST_ASSERT_EQ(read_sysreg(s3_0_c0_c3_0), 0);	/* MVFR0_EL1 */
	GUEST_DONE();
}

/* ID_AA64MMFR0_EL1.PARange of an address size, -1 if none */
static int parange(unsigned int bits)
{
	switch (bits) {
	case 32: return 0;
	case 36: return 1;
	case 40: return 2;
	case 42: return 3;
	case 44: return 4;
	case 48: return 5;
	case 52: return 6;
	default: return -1;
	}
}

TEST(id_registers)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	ASSERT_GE(parange(vm->caps.ipa_bits), 0)
		TH_LOG("caps.ipa_bits %u", vm->caps.ipa_bits);
	want_parange = parange(vm->caps.ipa_bits);
	vcpu = vm_vcpu_add(vm, 0, guest_id_regs);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/* MIDR_EL1 is the host's, MPIDR_EL1 the CREATE_VCPU value with bit 31. */
static void guest_ids(void)
{
	GUEST_SYNC_ARGS(read_sysreg(midr_el1), read_sysreg(mpidr_el1), 0, 0);
	GUEST_DONE();
}

TEST(midr_mpidr)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	char path[128], buf[64] = "";
	uint64_t host_midr;
	struct ucall uc;
	int fd, cpu;
	ssize_t n;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 5);
	vcpu_setup(vcpu, guest_ids, 0);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	cpu = sched_getcpu();
	ASSERT_GE(cpu, 0);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(0x80000005ULL, uc.args[1]);

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/regs/identification/midr_el1", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vm_free(vm);
		SKIP(return, "%s: %s", path, strerror(errno));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	host_midr = strtoull(buf, NULL, 16);
	EXPECT_EQ(host_midr, uc.args[0]);
	vm_free(vm);
}

/*
 * Debug registers: MDSCR_EL1, OSDLR_EL1, DBGPRCR_EL1 stored; the OS lock;
 * breakpoints and watchpoints read back as written.
 */
#define MDSCR_GUEST	0x3000ULL	/* TDCC | KDE: no effect here */
#define MDSCR_HOST	0x1000ULL	/* TDCC */
#define OSLSR_OSLK	(1ULL << 1)

static void guest_debug_regs(void)
{
	/* written by the guest, read back and by the host */
	write_sysreg(MDSCR_GUEST, mdscr_el1);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(mdscr_el1), MDSCR_GUEST);
	GUEST_SYNC(1);
	/* the host wrote it meanwhile */
	GUEST_ASSERT_EQ(read_sysreg(mdscr_el1), MDSCR_HOST);
	write_sysreg(0, mdscr_el1);

	/* locked after SETUP, as a cold reset leaves it */
	GUEST_ASSERT_EQ(read_sysreg(oslsr_el1) & OSLSR_OSLK, OSLSR_OSLK);
	write_sysreg(0, oslar_el1);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(oslsr_el1) & OSLSR_OSLK, 0);
	write_sysreg(1, oslar_el1);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(oslsr_el1) & OSLSR_OSLK, OSLSR_OSLK);
	write_sysreg(0, oslar_el1);
	isb();

	write_sysreg(1, osdlr_el1);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(osdlr_el1), 1);
	write_sysreg(0, osdlr_el1);

	/*
	 * breakpoint and watchpoint registers: the guest's own (debug_test
	 * makes them fire); with MDSCR_EL1 0 nothing is armed
	 */
	write_sysreg(0x400000, dbgbvr0_el1);
	write_sysreg(0x1e7, dbgbcr0_el1);
	write_sysreg(0x400000, dbgwvr0_el1);
	isb();
	GUEST_ASSERT_EQ(read_sysreg(dbgbvr0_el1), 0x400000);
	GUEST_ASSERT_EQ(read_sysreg(dbgbcr0_el1), 0x1e7);
	GUEST_ASSERT_EQ(read_sysreg(dbgwvr0_el1), 0x400000);
	write_sysreg(0, dbgbcr0_el1);
	GUEST_DONE();
}

TEST(debug_registers)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_debug_regs);
	EXPECT_EQ(0, vcpu_get_sysreg(vcpu, SYSREG_MDSCR_EL1)) TH_LOG("after SETUP");

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(MDSCR_GUEST, vcpu_get_sysreg(vcpu, SYSREG_MDSCR_EL1));
	vcpu_set_sysreg(vcpu, SYSREG_MDSCR_EL1, MDSCR_HOST);

	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(0, vcpu_get_sysreg(vcpu, SYSREG_MDSCR_EL1));
	vm_free(vm);
}

/*
 * The stored debug registers through GET/SET_SYSREG: what the guest wrote
 * is what the VMM reads, and what the VMM sets is what the guest reads.
 * OSDLR_EL1 carries the guest side; DBGPRCR_EL1 is held in the same table
 * but QEMU 7.2's CPU models do not implement it (a guest access UNDEFs at
 * EL1 before any EL2 trap), so only the VMM's side of it runs here.
 */
#define SYSREG_OSDLR_EL1	AVCPU_SYSREG(2, 0, 1, 3, 4)
#define SYSREG_DBGPRCR_EL1	AVCPU_SYSREG(2, 0, 1, 4, 4)

static void guest_debug_state(void)
{
	write_sysreg(1, osdlr_el1);
	isb();
	GUEST_SYNC(1);
	/* the VMM cleared it meanwhile */
	GUEST_ASSERT_EQ(read_sysreg(osdlr_el1), 0);
	GUEST_DONE();
}

TEST(debug_state_via_sysreg_ioctls)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_debug_state);
	EXPECT_EQ(0, vcpu_get_sysreg(vcpu, SYSREG_OSDLR_EL1));
	EXPECT_EQ(0, vcpu_get_sysreg(vcpu, SYSREG_DBGPRCR_EL1));

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, vcpu_get_sysreg(vcpu, SYSREG_OSDLR_EL1))
		TH_LOG("the guest's OSDLR_EL1 write, as the VMM reads it");
	vcpu_set_sysreg(vcpu, SYSREG_OSDLR_EL1, 0);
	vcpu_set_sysreg(vcpu, SYSREG_DBGPRCR_EL1, 1);
	EXPECT_EQ(1, vcpu_get_sysreg(vcpu, SYSREG_DBGPRCR_EL1));
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(1, vcpu_get_sysreg(vcpu, SYSREG_DBGPRCR_EL1));
	vm_free(vm);
}

TEST_HARNESS_MAIN
