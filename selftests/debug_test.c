// SPDX-License-Identifier: GPL-2.0
/*
 * Guest hardware debug works as on hardware (design.rst, "Guest debug"): a
 * breakpoint, a watchpoint and a software step programmed by the guest at
 * EL1 fire in the guest, with the syndrome and address the architecture
 * gives; with the OS lock set they do not. The host's own debug state is
 * untouched: a perf hardware watchpoint of the host thread counts every
 * access it makes between runs of a guest that uses the same CPU's debug
 * registers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

/* ESR_EL1.EC of debug exceptions taken at the current EL (Arm ARM D24.2.42) */
#define EC_BREAKPT_CUR		0x31
#define EC_SOFTSTP_CUR		0x33
#define EC_WATCHPT_CUR		0x35
#define EC_BRK64		0x3c

/* MDSCR_EL1 (D24.3.20): SS (0), KDE (13), MDE (15) */
#define MDSCR_SS		(1UL << 0)
#define MDSCR_KDE		(1UL << 13)
#define MDSCR_MDE		(1UL << 15)
/* SPSR.SS (bit 21): the software step state machine's active-not-pending */
#define PSTATE_SS		(1UL << 21)
#define PSTATE_D		(1UL << 9)

/*
 * DBGBCR<n>_EL1: E, PMC = 0b11 (EL1 and EL0), BAS = 0b1111 (A64).
 * DBGWCR<n>_EL1: E, PAC = 0b11, LSC = 0b11 (loads and stores), BAS = 0xff.
 */
#define BCR_EL1_EXEC		(1UL | (3UL << 1) | (0xfUL << 5))
#define WCR_EL1_RW8		(1UL | (3UL << 1) | (3UL << 3) | (0xffUL << 5))

static volatile uint64_t dbg_count, dbg_esr, dbg_elr, dbg_far;
static volatile uint64_t watched __attribute__((aligned(8)));

static void __attribute__((noinline)) bp_target(void)
{
	asm volatile("nop");
}

/* Every debug exception: record, disarm what fired, resume */
static void on_debug(struct ex_regs *regs)
{
	uint64_t ec = ESR_EC(regs->esr);

	dbg_count++;
	dbg_esr = regs->esr;
	dbg_elr = regs->pc;
	dbg_far = regs->far;
	if (ec == EC_BREAKPT_CUR)
		write_sysreg(0, dbgbcr0_el1);
	if (ec == EC_WATCHPT_CUR)
		write_sysreg(0, dbgwcr0_el1);
	if (ec == EC_SOFTSTP_CUR)
		write_sysreg(read_sysreg(mdscr_el1) & ~MDSCR_SS, mdscr_el1);
	isb();
}

/* A BRK whose handler returns with PSTATE.SS set: one step, then EC 0x33 */
static void on_brk_step(struct ex_regs *regs)
{
	regs->pc += 4;
	regs->pstate |= PSTATE_SS;
	regs->pstate &= ~PSTATE_D;
}

static void debug_on(void)
{
	write_sysreg(0, oslar_el1);		/* the OS lock is set at reset */
	write_sysreg(MDSCR_MDE | MDSCR_KDE, mdscr_el1);
	isb();
	asm volatile("msr daifclr, #8" : : : "memory");	/* PSTATE.D */
}

static void guest_breakpoint(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_BREAKPT_CUR, on_debug);
	debug_on();
	write_sysreg((uint64_t)bp_target, dbgbvr0_el1);
	write_sysreg(BCR_EL1_EXEC, dbgbcr0_el1);
	isb();
	bp_target();
	GUEST_SYNC_ARGS(dbg_count, dbg_esr, dbg_elr, (uint64_t)bp_target);
	GUEST_DONE();
}

static void guest_watchpoint(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_WATCHPT_CUR, on_debug);
	debug_on();
	write_sysreg((uint64_t)&watched, dbgwvr0_el1);
	write_sysreg(WCR_EL1_RW8, dbgwcr0_el1);
	isb();
	watched = 42;
	GUEST_SYNC_ARGS(dbg_count, dbg_esr, dbg_far, (uint64_t)&watched);
	GUEST_DONE();
}

static void guest_single_step(void)
{
	uint64_t brk_at;

	guest_install_handler(VECTOR_SYNC_CURRENT, EC_SOFTSTP_CUR, on_debug);
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_BRK64, on_brk_step);
	debug_on();
	/*
	 * As a debugger does: step enabled with debug exceptions masked
	 * (with PSTATE.SS clear it would be active-pending at once), then
	 * an ERET with SPSR.SS set and D clear (on_brk_step) steps one
	 * instruction.
	 */
	asm volatile("msr daifset, #8" : : : "memory");
	write_sysreg(read_sysreg(mdscr_el1) | MDSCR_SS, mdscr_el1);
	isb();
	/* BRK, then the one instruction stepped (the NOP), then the step */
	asm volatile("adr %0, 1f\n"
		     "1:	brk #0\n"
		     "	nop\n"
		     "	nop\n" : "=&r" (brk_at) : : "memory");
	GUEST_SYNC_ARGS(dbg_count, dbg_esr, dbg_elr, brk_at + 8);
	GUEST_DONE();
}

/* With the OS lock set, the breakpoint must not fire; cleared, it does */
static void guest_os_lock(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_BREAKPT_CUR, on_debug);
	debug_on();
	write_sysreg((uint64_t)bp_target, dbgbvr0_el1);
	write_sysreg(BCR_EL1_EXEC, dbgbcr0_el1);
	write_sysreg(1, oslar_el1);
	isb();
	bp_target();
	GUEST_SYNC(dbg_count);
	write_sysreg(0, oslar_el1);
	isb();
	bp_target();
	GUEST_SYNC(dbg_count);
	GUEST_DONE();
}

static void run_debug_guest(struct __test_metadata *_metadata,
			    void (*guest_code)(void), uint64_t ec,
			    bool check_far)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]) TH_LOG("debug exceptions taken");
	EXPECT_EQ(ec, ESR_EC(uc.args[1]))
		TH_LOG("ESR_EL1 0x%llx", (unsigned long long)uc.args[1]);
	EXPECT_EQ(uc.args[3], uc.args[2])
		TH_LOG("%s 0x%llx, want 0x%llx", check_far ? "FAR" : "ELR",
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3]);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST(breakpoint)
{
	AVCPU_REQUIRE_RUN();
	run_debug_guest(_metadata, guest_breakpoint, EC_BREAKPT_CUR, false);
}

TEST(watchpoint)
{
	AVCPU_REQUIRE_RUN();
	run_debug_guest(_metadata, guest_watchpoint, EC_WATCHPT_CUR, true);
}

TEST(single_step)
{
	AVCPU_REQUIRE_RUN();
	run_debug_guest(_metadata, guest_single_step, EC_SOFTSTP_CUR, false);
}

TEST(os_lock_disarms)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_os_lock);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(0, uc.args[0]) TH_LOG("a breakpoint fired under the OS lock");
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]) TH_LOG("no breakpoint once the OS lock was cleared");
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * Migration: a VMM reads a guest's debug state with GET_SYSREG and restores
 * it into a new vCPU with SET_SYSREG (api.rst). The first guest arms a
 * breakpoint and a watchpoint and leaves the OS lock; the second never
 * touches a debug register, so both fire there only if the restore
 * carried OSLSR_EL1, MDSCR_EL1 and the four registers into its hardware.
 */
#define REG_OSLSR	AVCPU_SYSREG(2, 0, 1, 1, 4)
#define REG_MDSCR	AVCPU_SYSREG(2, 0, 0, 2, 2)
#define REG_DBGBVR0	AVCPU_SYSREG(2, 0, 0, 0, 4)
#define REG_DBGBCR0	AVCPU_SYSREG(2, 0, 0, 0, 5)
#define REG_DBGWVR0	AVCPU_SYSREG(2, 0, 0, 0, 6)
#define REG_DBGWCR0	AVCPU_SYSREG(2, 0, 0, 0, 7)
#define OSLSR_OSLM	0x8

static void guest_arm_and_leave(void)
{
	debug_on();
	write_sysreg((uint64_t)bp_target, dbgbvr0_el1);
	write_sysreg(BCR_EL1_EXEC, dbgbcr0_el1);
	write_sysreg((uint64_t)&watched, dbgwvr0_el1);
	write_sysreg(WCR_EL1_RW8, dbgwcr0_el1);
	isb();
	GUEST_DONE();
}

static void guest_restored(void)
{
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_BREAKPT_CUR, on_debug);
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_WATCHPT_CUR, on_debug);
	asm volatile("msr daifclr, #8" : : : "memory");	/* PSTATE.D */
	bp_target();
	GUEST_SYNC_ARGS(dbg_count, dbg_esr, 0, 0);
	watched = 7;
	GUEST_SYNC_ARGS(dbg_count, dbg_esr, dbg_far, (uint64_t)&watched);
	GUEST_DONE();
}

TEST(debug_state_migrates)
{
	static const uint32_t regs[] = {
		REG_OSLSR, REG_MDSCR, REG_DBGBVR0, REG_DBGBCR0, REG_DBGWVR0,
		REG_DBGWCR0,
	};
	uint64_t val[sizeof(regs) / sizeof(regs[0])];
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_arm_and_leave);
	/* a new vCPU: the OS lock set, no breakpoint; the lock's value checked */
	EXPECT_EQ(OSLSR_OSLM | 0x2, vcpu_get_sysreg(vcpu, REG_OSLSR));
	EXPECT_EQ(0, vcpu_get_sysreg(vcpu, REG_DBGBCR0));
	EXPECT_EQ(-EINVAL, __vcpu_set_sysreg(vcpu, REG_OSLSR, 0x2));
	EXPECT_EQ(-ENOENT, __vcpu_set_sysreg(vcpu, REG_DBGBVR0 + (15 << 3), 0))
		TH_LOG("DBGBVR15_EL1: QEMU's CPUs have fewer breakpoints");
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		val[i] = vcpu_get_sysreg(vcpu, regs[i]);
	EXPECT_EQ(OSLSR_OSLM, val[0]) TH_LOG("OSLSR_EL1 after the guest unlocked");
	EXPECT_EQ(BCR_EL1_EXEC, val[3]);
	EXPECT_EQ(WCR_EL1_RW8, val[5]);
	vm_free(vm);

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_restored);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		vcpu_set_sysreg(vcpu, regs[i], val[i]);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]) TH_LOG("the restored breakpoint did not fire");
	EXPECT_EQ(EC_BREAKPT_CUR, ESR_EC(uc.args[1]));
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(2, uc.args[0]) TH_LOG("the restored watchpoint did not fire");
	EXPECT_EQ(EC_WATCHPT_CUR, ESR_EC(uc.args[1]));
	EXPECT_EQ(uc.args[3], uc.args[2]) TH_LOG("FAR");
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * The host's side: a perf hardware watchpoint on a variable of this thread,
 * and a guest on the same CPU that keeps its own breakpoint and watchpoint
 * armed (its debug state is loaded at every entry). Every store the host
 * makes between the guest's runs must be counted.
 */
#define HOST_ROUNDS	200

static volatile uint64_t host_watched __attribute__((aligned(8)));

static void guest_armed_loop(void)
{
	debug_on();
	write_sysreg((uint64_t)bp_target, dbgbvr0_el1);
	write_sysreg(0, dbgbcr0_el1);
	write_sysreg((uint64_t)&watched, dbgwvr0_el1);
	write_sysreg(WCR_EL1_RW8, dbgwcr0_el1);
	isb();
	guest_install_handler(VECTOR_SYNC_CURRENT, EC_WATCHPT_CUR, on_debug);
	for (;;)
		GUEST_SYNC(dbg_count);
}

TEST(host_watchpoint_survives_guest_debug)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uint64_t)&host_watched,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t count;
	int fd, i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_armed_loop);	/* binds this CPU */
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0) {
		vm_free(vm);
		SKIP(return, "perf hardware watchpoint: %s", strerror(errno));
	}
	for (i = 0; i < HOST_ROUNDS; i++) {
		vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
		host_watched = i;
	}
	ASSERT_EQ(sizeof(count), read(fd, &count, sizeof(count)));
	EXPECT_EQ(HOST_ROUNDS, count) TH_LOG("host stores seen by its watchpoint");
	EXPECT_EQ(0, uc.args[0]) TH_LOG("the guest took debug exceptions not its own");
	close(fd);
	vm_free(vm);
}

TEST_HARNESS_MAIN
