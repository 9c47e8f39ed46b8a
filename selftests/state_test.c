// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU state machine (the seed's VCpuState): CREATED -SETUP-> FREE
 * -BIND-> READY -RUN-> READY, READY -UNBIND-> FREE, and INVALID. Each step
 * is checked with AVCPU_GET_STATE, and every ioctl that is not allowed in a
 * state gets its documented errno there. Also: the owner rule across
 * threads, GET_STATE answering RUNNING from another thread while RUN runs,
 * and a vCPU broken for good by RAM whose backing the VMM removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

/* A test slot in the Normal part of the guest's physical space */
#define TEST_SLOT	0
#define TEST_GPA	0x20000000ULL

#define SCTLR_EL1_RESET	0x30d00800ULL
#define PSTATE_RESET	0x3c5ULL

static const char *state_str(int state)
{
	static const char * const names[] = {
		"CREATED", "FREE", "READY", "RUNNING", "INVALID",
	};

	if (state >= 0 && state < 5)
		return names[state];
	return state < 0 ? strerror(-state) : "unknown";
}

/* An ioctl on the vCPU fd: its return value, or -errno */
static long vcpu_ioctl(struct avcpu_vcpu *vcpu, unsigned long cmd,
		       unsigned long arg)
{
	long ret = ioctl(vcpu->fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

static long vcpu_ioctl_ptr(struct avcpu_vcpu *vcpu, unsigned long cmd,
			   void *arg)
{
	return vcpu_ioctl(vcpu, cmd, (unsigned long)arg);
}

/* What RUN answers in a state it is not allowed in, on this host */
static int run_refused(void)
{
	return avcpu_can_run() ? -EBUSY : -EOPNOTSUPP;
}

/*
 * GET_REGS, SET_REGS, GET_SYSREG and SET_SYSREG are allowed in CREATED,
 * FREE and READY: they work, and do not change the state.
 */
static void check_reg_ioctls(struct __test_metadata *_metadata,
			     struct avcpu_vcpu *vcpu, int state)
{
	struct avcpu_regs regs;
	uint64_t val = 0;

	EXPECT_EQ(0, __vcpu_get_regs(vcpu, &regs)) TH_LOG("in %s", state_str(state));
	EXPECT_EQ(0, __vcpu_set_regs(vcpu, &regs)) TH_LOG("in %s", state_str(state));
	EXPECT_EQ(0, __vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL0, &val))
		TH_LOG("in %s", state_str(state));
	EXPECT_EQ(0, __vcpu_set_sysreg(vcpu, SYSREG_TPIDR_EL0, val))
		TH_LOG("in %s", state_str(state));
	EXPECT_EQ(0, __vcpu_get_sysreg(vcpu, SYSREG_MPIDR_EL1, &val))
		TH_LOG("in %s", state_str(state));
	EXPECT_EQ(state, vcpu_get_state(vcpu));
}

static volatile uint64_t guest_counter;

static void guest_sync_loop(void)
{
	for (;;) {
		guest_counter++;
		GUEST_SYNC(guest_counter);
	}
}

/*
 * The whole table of api.rst "The vCPU state machine" without entering a
 * guest, so it holds on nVHE hosts too (where RUN is EOPNOTSUPP).
 */
TEST(transitions)
{
	struct avcpu_setup setup = { .entry = (uintptr_t)guest_entry };
	struct avcpu_bind bind = { .cpu = AVCPU_BIND_CURRENT_CPU };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);

	/* CREATED: BIND, RUN and UNBIND refused */
	ASSERT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	EXPECT_EQ(run_refused(), vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	check_reg_ioctls(_metadata, vcpu, AVCPU_STATE_CREATED);

	/* SETUP: CREATED -> FREE */
	vcpu_setup(vcpu, guest_sync_loop, 0);
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));

	/* FREE: RUN and UNBIND refused; SETUP again allowed */
	EXPECT_EQ(run_refused(), vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	check_reg_ioctls(_metadata, vcpu, AVCPU_STATE_FREE);
	EXPECT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));

	/* BIND: FREE -> READY */
	ASSERT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
	ASSERT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	/* READY: SETUP and BIND refused */
	EXPECT_EQ(-EBUSY, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	check_reg_ioctls(_metadata, vcpu, AVCPU_STATE_READY);
	if (!avcpu_can_run()) {
		/* nVHE: RUN is refused in READY too, and changes nothing */
		EXPECT_EQ(-EOPNOTSUPP, vcpu_ioctl(vcpu, AVCPU_RUN, 0));
		EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	}

	/* UNBIND: READY -> FREE, and the way round again */
	ASSERT_EQ(0, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	ASSERT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	ASSERT_EQ(0, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));

	vm_free(vm);
}

/* The same with guests running: RUN leaves the vCPU READY each time. */
TEST(run_keeps_ready)
{
	struct avcpu_setup setup = { .entry = (uintptr_t)guest_entry };
	struct avcpu_bind bind = { .cpu = AVCPU_BIND_CURRENT_CPU };
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t pc;
	int i;

	AVCPU_REQUIRE_RUN();
	guest_counter = 0;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	vcpu_setup(vcpu, guest_sync_loop, 0);
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	for (i = 1; i <= 3; i++) {
		vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
		EXPECT_EQ(i, uc.args[0]);
		EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
		/* READY after a RUN: still no SETUP nor BIND */
		EXPECT_EQ(-EBUSY, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
		EXPECT_EQ(-EBUSY, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
		EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	}

	/* UNBIND keeps the registers: bound again, the guest goes on. */
	vcpu_unbind(vcpu);
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(4, uc.args[0]);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	/*
	 * immediate_exit: EINTR without entering, still READY; the ucall's
	 * completion (step past the store) is applied all the same.
	 */
	vcpu_get_regs(vcpu, &regs);
	pc = regs.pc;
	vcpu->run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, __vcpu_run(vcpu));
	EXPECT_EQ(AVCPU_EXIT_NONE, vcpu->run->exit_reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(4, guest_counter);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(pc + 4, regs.pc);
	EXPECT_EQ(-EINTR, __vcpu_run(vcpu));
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(pc + 4, regs.pc);
	vcpu->run->immediate_exit = 0;
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(5, uc.args[0]);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	vm_free(vm);
}

/* Every register different from its reset value */
static void dirty_vcpu(struct __test_metadata *_metadata,
		       struct avcpu_vcpu *vcpu)
{
	struct avcpu_regs regs;
	unsigned int i;

	memset(&regs, 0, sizeof(regs));
	for (i = 0; i < 31; i++)
		regs.x[i] = 0x1111111100000000ULL | i;
	regs.sp_el0 = 0x2000;
	regs.sp_el1 = 0x3000;
	regs.pc = 0x4000;
	regs.pstate = 0xf0000004;	/* NZCV, EL1t, DAIF clear */
	regs.elr_el1 = 0x5000;
	regs.spsr_el1 = 0x3c5;
	regs.fpsr = 0x9f;
	regs.fpcr = 0x1000000;
	for (i = 0; i < 32; i++) {
		regs.v[i][0] = 0x2222222200000000ULL | i;
		regs.v[i][1] = 0x3333333300000000ULL | i;
	}
	ASSERT_EQ(0, __vcpu_set_regs(vcpu, &regs));
	for (i = 0; i < AVCPU_NR_RW_SYSREGS; i++)
		ASSERT_EQ(0, __vcpu_set_sysreg(vcpu, avcpu_rw_sysregs[i],
					       0x4444444400000000ULL | i));
}

/* The state of api.rst's AVCPU_SETUP: everything 0 but pc, x0, pstate. */
static void check_reset(struct __test_metadata *_metadata,
			struct avcpu_vcpu *vcpu, uint64_t entry, uint64_t x0,
			uint64_t mpidr)
{
	struct avcpu_regs regs;
	unsigned int i;
	uint64_t val;

	memset(&regs, 0xa5, sizeof(regs));
	ASSERT_EQ(0, __vcpu_get_regs(vcpu, &regs));
	EXPECT_EQ(entry, regs.pc);
	EXPECT_EQ(x0, regs.x[0]);
	for (i = 1; i < 31; i++) {
		EXPECT_EQ(0, regs.x[i]) TH_LOG("x%u", i);
	}
	EXPECT_EQ(0, regs.sp_el0);
	EXPECT_EQ(0, regs.sp_el1);
	EXPECT_EQ(PSTATE_RESET, regs.pstate);
	EXPECT_EQ(0, regs.elr_el1);
	EXPECT_EQ(0, regs.spsr_el1);
	EXPECT_EQ(0, regs.fpsr);
	EXPECT_EQ(0, regs.fpcr);
	for (i = 0; i < 7; i++) {
		EXPECT_EQ(0, regs.reserved[i]) TH_LOG("reserved[%u]", i);
	}
	for (i = 0; i < 32; i++) {
		EXPECT_EQ(0, regs.v[i][0]) TH_LOG("v%u low", i);
		EXPECT_EQ(0, regs.v[i][1]) TH_LOG("v%u high", i);
	}
	for (i = 0; i < AVCPU_NR_RW_SYSREGS; i++) {
		val = 0xdead;
		ASSERT_EQ(0, __vcpu_get_sysreg(vcpu, avcpu_rw_sysregs[i], &val));
		EXPECT_EQ(avcpu_rw_sysregs[i] == SYSREG_SCTLR_EL1 ? SCTLR_EL1_RESET : 0,
			  val) TH_LOG("sysreg 0x%x", avcpu_rw_sysregs[i]);
	}
	ASSERT_EQ(0, __vcpu_get_sysreg(vcpu, SYSREG_MPIDR_EL1, &val));
	EXPECT_EQ(mpidr | (1ULL << 31), val);
}

/* SETUP from CREATED and again from FREE puts the vCPU back to reset. */
TEST(resetup_resets_registers)
{
	struct avcpu_setup setup = { .entry = 0x8000, .x0 = 0x1234 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 5);	/* the library's mpidr is the id */

	/* in CREATED */
	dirty_vcpu(_metadata, vcpu);
	ASSERT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	check_reset(_metadata, vcpu, 0x8000, 0x1234, 5);

	/* in FREE, and in FREE after a trip through READY */
	dirty_vcpu(_metadata, vcpu);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	dirty_vcpu(_metadata, vcpu);
	vcpu_unbind(vcpu);
	setup.entry = 0x10000;
	setup.x0 = 0xfedcba9876543210ULL;
	ASSERT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	ASSERT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	check_reset(_metadata, vcpu, 0x10000, 0xfedcba9876543210ULL, 5);

	vm_free(vm);
}

/*
 * After a guest ran (and set up its MMU, vectors, FP/SIMD), UNBIND + SETUP
 * is a reset: every register back, and the guest starts from the top.
 */
static void guest_uses_fp(void)
{
	volatile double d = 1.5;

	asm volatile("fmov d7, #3.0\n"
		     "msr fpcr, %0\n"
		     "msr nzcv, %1"
		     : : "r" (1UL << 24), "r" (0x60000000UL) : "v7", "cc");
	d *= 2;
	GUEST_SYNC((uint64_t)d);
	GUEST_DONE();
}

TEST(resetup_after_run)
{
	struct avcpu_setup setup = {
		.entry = (uintptr_t)guest_entry,
		.x0 = (uintptr_t)guest_uses_fp,
	};
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct avcpu_regs regs;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 2, guest_uses_fp);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(3, uc.args[0]);
	vcpu_get_regs(vcpu, &regs);
	/* the guest did change things: the reset below is no accident */
	EXPECT_NE(SCTLR_EL1_RESET, vcpu_get_sysreg(vcpu, SYSREG_SCTLR_EL1));
	EXPECT_NE(0, vcpu_get_sysreg(vcpu, SYSREG_VBAR_EL1));
	EXPECT_EQ(1UL << 24, regs.fpcr);

	vcpu_unbind(vcpu);
	ASSERT_EQ(0, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	check_reset(_metadata, vcpu, setup.entry, setup.x0, 2);

	/* and it runs again from guest_entry (the ucall's completion is gone) */
	ASSERT_EQ(0, __vcpu_setup(vcpu, guest_uses_fp, 0));
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(3, uc.args[0]);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	vm_free(vm);
}

/* One ioctl from a thread of its own: its result, or -errno */
struct thread_ioctl {
	int fd;
	unsigned long cmd;
	unsigned long arg;
	long ret;
};

static void *thread_ioctl_fn(void *p)
{
	struct thread_ioctl *t = p;

	t->ret = ioctl(t->fd, t->cmd, t->arg);
	if (t->ret < 0)
		t->ret = -errno;
	return NULL;
}

static long ioctl_other_thread(int fd, unsigned long cmd, unsigned long arg)
{
	struct thread_ioctl t = { .fd = fd, .cmd = cmd, .arg = arg, .ret = -12345 };
	pthread_t th;

	if (pthread_create(&th, NULL, thread_ioctl_fn, &t))
		return -12346;
	pthread_join(th, NULL);
	return t.ret;
}

/*
 * Only the owner (the thread that bound) may UNBIND; any thread may use the
 * register ioctls. After the owner's UNBIND another thread can bind and
 * becomes the owner.
 */
TEST(owner_unbind)
{
	struct avcpu_bind bind = { .cpu = AVCPU_BIND_CURRENT_CPU };
	struct avcpu_sysreg sr = { .encoding = SYSREG_TPIDR_EL0, .value = 77 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct avcpu_regs regs;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_sync_loop, 0);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);

	EXPECT_EQ(-EPERM, ioctl_other_thread(vcpu->fd, AVCPU_UNBIND, 0));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(0, ioctl_other_thread(vcpu->fd, AVCPU_GET_REGS,
					(unsigned long)&regs));
	EXPECT_EQ(0, ioctl_other_thread(vcpu->fd, AVCPU_SET_SYSREG,
					(unsigned long)&sr));
	EXPECT_EQ(77, vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL0));
	EXPECT_EQ(AVCPU_STATE_READY,
		  ioctl_other_thread(vcpu->fd, AVCPU_GET_STATE, 0));

	/* the owner can */
	EXPECT_EQ(0, __vcpu_unbind(vcpu));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));

	/* another thread binds: it is the owner now, not this one */
	EXPECT_EQ(0, ioctl_other_thread(vcpu->fd, AVCPU_BIND,
					(unsigned long)&bind));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(-EPERM, __vcpu_unbind(vcpu));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	vm_free(vm);
}

/* RUN from a thread that is not the owner: EPERM at once. */
TEST(owner_run)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;

	AVCPU_REQUIRE_RUN();
	guest_counter = 0;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_sync_loop);

	vcpu->run->exit_reason = 0x5a5a;
	EXPECT_EQ(-EPERM, ioctl_other_thread(vcpu->fd, AVCPU_RUN, 0));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	/* it did not enter the guest */
	EXPECT_EQ(0, guest_counter);
	EXPECT_EQ(0x5a5a, vcpu->run->exit_reason);
	EXPECT_EQ(-EPERM, ioctl_other_thread(vcpu->fd, AVCPU_UNBIND, 0));
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(-EPERM, ioctl_other_thread(vcpu->fd, AVCPU_RUN, 0));
	EXPECT_EQ(1, guest_counter);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(2, uc.args[0]);
	vm_free(vm);
}

/* A guest that spins until the host says stop */
static volatile int spin_started;
static volatile int spin_release;

static void guest_spin(void)
{
	spin_started = 1;
	while (!spin_release)
		;
	GUEST_DONE();
}

struct runner {
	struct avcpu_vcpu *vcpu;
	int bind_ret;
	int run_ret;		/* the RUN the signal stops */
	uint32_t exit_reason;
	int state_after;
	int run2_ret;		/* the RUN after spin_release */
	uint64_t ucall2;
	int unbind_ret;
	volatile int first_run_done;
	volatile int bound;
};

static void sigusr1_handler(int sig)
{
}

static void install_sigusr1(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigusr1_handler;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void *runner_fn(void *p)
{
	struct runner *r = p;
	struct avcpu_vcpu *vcpu = r->vcpu;
	sigset_t set;

	r->bind_ret = __vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	r->bound = 1;
	if (r->bind_ret)
		return NULL;
	r->run_ret = __vcpu_run(vcpu);
	r->exit_reason = vcpu->run->exit_reason;
	r->state_after = vcpu_get_state(vcpu);
	/* no more signals from here on: they would stop the next RUN */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->first_run_done = 1;

	spin_release = 1;
	r->run2_ret = __vcpu_run(vcpu);
	r->ucall2 = r->run2_ret ? UCALL_NONE : get_ucall(vcpu, NULL);
	r->unbind_ret = __vcpu_unbind(vcpu);
	return NULL;
}

/* An ioctl in a thread of its own, left running */
struct async_ioctl {
	int fd;
	unsigned long cmd;
	unsigned long arg;
	volatile long ret;
	volatile int done;
};

static void *async_ioctl_fn(void *p)
{
	struct async_ioctl *a = p;
	long ret = ioctl(a->fd, a->cmd, a->arg);

	a->ret = ret < 0 ? -errno : ret;
	a->done = 1;
	return NULL;
}

/*
 * GET_STATE does not wait for a RUN in another thread: it answers RUNNING.
 * A signal to the owner stops RUN with EINTR, the vCPU READY again.
 */
TEST(running_seen_from_other_thread)
{
	struct async_ioctl a = { .ret = -12345 };
	struct avcpu_regs regs;
	struct runner r = { 0 };
	pthread_t ath;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	pthread_t th;
	double t0;
	int state = -1, sent = 0;

	AVCPU_REQUIRE_RUN();
	install_sigusr1();
	spin_started = 0;
	spin_release = 0;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_spin, 0);
	r.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&th, NULL, runner_fn, &r));

	state = vcpu_wait_state(vcpu, AVCPU_STATE_RUNNING, &spin_started, 10);
	EXPECT_EQ(0, r.bind_ret);
	EXPECT_TRUE(spin_started) TH_LOG("the guest never ran");
	EXPECT_EQ(AVCPU_STATE_RUNNING, state) TH_LOG("GET_STATE: %s", state_str(state));
	/* again, a moment later: it is still in there */
	usleep(20000);
	EXPECT_EQ(AVCPU_STATE_RUNNING, vcpu_get_state(vcpu));
	/* not the owner: refused at once, not after the RUN */
	EXPECT_EQ(-EPERM, vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	EXPECT_EQ(-EPERM, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	/* any other ioctl waits for the RUN to return */
	a.fd = vcpu->fd;
	a.cmd = AVCPU_GET_REGS;
	a.arg = (unsigned long)&regs;
	ASSERT_EQ(0, pthread_create(&ath, NULL, async_ioctl_fn, &a));
	usleep(200000);
	EXPECT_FALSE(a.done) TH_LOG("GET_REGS returned %ld while RUN ran", a.ret);
	EXPECT_EQ(AVCPU_STATE_RUNNING, vcpu_get_state(vcpu));

	/* stop it: signal the owner until its RUN returns */
	t0 = avcpu_now();
	while (!r.first_run_done && avcpu_now() - t0 < 10) {
		pthread_kill(th, SIGUSR1);
		sent++;
		usleep(20000);
	}
	ASSERT_TRUE(r.first_run_done) TH_LOG("RUN did not return after %d signals", sent);
	pthread_join(th, NULL);
	pthread_join(ath, NULL);
	EXPECT_EQ(0, a.ret) TH_LOG("the waiting GET_REGS: %s", strerror(-a.ret));

	EXPECT_EQ(-EINTR, r.run_ret) TH_LOG("RUN: %s", strerror(-r.run_ret));
	EXPECT_EQ(AVCPU_EXIT_NONE, r.exit_reason);
	EXPECT_EQ(AVCPU_STATE_READY, r.state_after);
	/* the RUN after the EINTR resumed the guest where it was */
	EXPECT_EQ(0, r.run2_ret);
	EXPECT_EQ(UCALL_DONE, r.ucall2);
	EXPECT_EQ(0, r.unbind_ret);
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	vm_free(vm);
}

static void guest_wfi_forever(void)
{
	for (;;)
		__asm__ __volatile__("wfi" ::: "memory");
}

static void *wfi_runner_fn(void *p)
{
	struct runner *r = p;

	r->bind_ret = __vcpu_bind(r->vcpu, AVCPU_BIND_CURRENT_CPU);
	r->bound = 1;
	if (r->bind_ret)
		return NULL;
	r->run_ret = __vcpu_run(r->vcpu);
	r->first_run_done = 1;
	r->unbind_ret = __vcpu_unbind(r->vcpu);
	return NULL;
}

/*
 * An ioctl queued behind a RUN whose guest sleeps in WFI, with nothing to
 * wake it, is not stuck: a signal to the waiting thread ends its wait with
 * EINTR, and the guest sleeps on.
 */
TEST(waiting_ioctl_interrupted)
{
	struct async_ioctl a = { .ret = -12345 };
	struct runner r = { 0 };
	struct avcpu_regs regs;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	pthread_t th, ath;
	double t0;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	install_sigusr1();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_wfi_forever, 0);
	r.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&th, NULL, wfi_runner_fn, &r));
	ASSERT_EQ(AVCPU_STATE_BLOCKED,
		  vcpu_wait_state(vcpu, AVCPU_STATE_BLOCKED, &r.bound, 10));

	a.fd = vcpu->fd;
	a.cmd = AVCPU_GET_REGS;
	a.arg = (unsigned long)&regs;
	ASSERT_EQ(0, pthread_create(&ath, NULL, async_ioctl_fn, &a));
	usleep(200000);
	EXPECT_FALSE(a.done) TH_LOG("GET_REGS returned %ld while RUN ran", a.ret);
	t0 = avcpu_now();
	while (!a.done && avcpu_now() - t0 < 10) {
		pthread_kill(ath, SIGUSR1);
		usleep(20000);
	}
	ASSERT_TRUE(a.done) TH_LOG("GET_REGS still waits after a signal");
	pthread_join(ath, NULL);
	EXPECT_EQ(-EINTR, a.ret) TH_LOG("GET_REGS: %ld", a.ret);
	/* the guest was not disturbed */
	EXPECT_EQ(AVCPU_STATE_BLOCKED, vcpu_get_state(vcpu));
	EXPECT_FALSE(r.first_run_done);

	t0 = avcpu_now();
	while (!r.first_run_done && avcpu_now() - t0 < 10) {
		pthread_kill(th, SIGUSR1);
		usleep(20000);
	}
	ASSERT_TRUE(r.first_run_done);
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, r.run_ret);
	EXPECT_EQ(0, r.unbind_ret);
	vm_free(vm);
}

/*
 * The owner left the CPU it bound to (its affinity changed behind BIND's
 * back): RUN reports FAIL_ENTRY/WRONG_CPU without entering the guest, and
 * the vCPU stays READY; back on that CPU, it runs.
 */
TEST(wrong_cpu)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	cpu_set_t all, set;
	struct ucall uc;
	int cpu, other = -1, c;

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	if (CPU_COUNT(&all) < 2)
		SKIP(return, "needs two CPUs");
	guest_counter = 0;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_sync_loop);
	cpu = sched_getcpu();
	for (c = 0; c < CPU_SETSIZE && other < 0; c++)
		if (c != cpu && CPU_ISSET(c, &all))
			other = c;
	ASSERT_GE(other, 0);

	CPU_ZERO(&set);
	CPU_SET(other, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	ASSERT_EQ(other, sched_getcpu());
	vcpu->run->exit_reason = 0x5a5a;
	EXPECT_EQ(0, __vcpu_run(vcpu));
	EXPECT_EQ(AVCPU_EXIT_FAIL_ENTRY, vcpu->run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(AVCPU_FAIL_ENTRY_WRONG_CPU, vcpu->run->fail_entry.reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(0, guest_counter);

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	vm_free(vm);
}

static void guest_touch_lost(void)
{
	GUEST_SYNC(1);
	/* RAM whose host backing is gone: this access ends RUN */
	GUEST_SYNC(*(volatile uint64_t *)TEST_GPA);
	GUEST_DONE();
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * The guest touches a page whose backing the VMM unmapped before that first
 * touch: RUN fails EFAULT and the vCPU is INVALID for good. Only
 * GET_STATE and close work on it; the VM and its other vCPUs go on.
 */
TEST(invalid_after_lost_backing)
{
	struct avcpu_setup setup = { .entry = (uintptr_t)guest_entry };
	struct avcpu_bind bind = { .cpu = AVCPU_BIND_CURRENT_CPU };
	struct avcpu_sysreg sr = { .encoding = SYSREG_TPIDR_EL0 };
	struct avcpu_vcpu *vcpu, *other;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	size_t size;
	void *hva;
	int ret;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	size = 4 * vm->page_size;
	hva = vm_mem_add(vm, TEST_SLOT, TEST_GPA, size, 0);
	/* The slot stays; its memory goes (and vm_free() must not unmap it). */
	ASSERT_EQ(0, munmap(hva, size));
	vm->regions[TEST_SLOT].owned = false;

	vcpu = vm_vcpu_add(vm, 0, guest_touch_lost);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));

	vcpu->run->exit_reason = 0x5a5a;
	ret = __vcpu_run(vcpu);
	ASSERT_EQ(-EFAULT, ret) {
		TH_LOG("RUN: %d (%s)", ret, ret ? strerror(-ret) : "no error");
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(AVCPU_EXIT_NONE, vcpu->run->exit_reason);
	EXPECT_EQ(AVCPU_STATE_INVALID, vcpu_get_state(vcpu));
	EXPECT_EQ(AVCPU_STATE_INVALID,
		  ioctl_other_thread(vcpu->fd, AVCPU_GET_STATE, 0));

	/* every other ioctl: EIO */
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_SETUP, &setup));
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_BIND, &bind));
	EXPECT_EQ(-EIO, vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	EXPECT_EQ(-EIO, vcpu_ioctl(vcpu, AVCPU_UNBIND, 0));
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_GET_REGS, &regs));
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_SET_REGS, &regs));
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_GET_SYSREG, &sr));
	EXPECT_EQ(-EIO, vcpu_ioctl_ptr(vcpu, AVCPU_SET_SYSREG, &sr));
	/* the same for a thread that is not the owner (but RUN/UNBIND: EPERM) */
	EXPECT_EQ(-EIO, ioctl_other_thread(vcpu->fd, AVCPU_GET_REGS,
					   (unsigned long)&regs));
	EXPECT_EQ(-EIO, ioctl_other_thread(vcpu->fd, AVCPU_SETUP,
					   (unsigned long)&setup));
	/* and it stays so */
	EXPECT_EQ(-EIO, vcpu_ioctl(vcpu, AVCPU_RUN, 0));
	EXPECT_EQ(AVCPU_STATE_INVALID, vcpu_get_state(vcpu));

	/* the VM is fine: another vCPU runs */
	other = vm_vcpu_add(vm, 1, guest_done);
	vcpu_expect_ucall(other, UCALL_DONE, NULL);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(other));

	/* close works */
	EXPECT_EQ(0, munmap(vcpu->run, vm->run_size));
	EXPECT_EQ(0, close(vcpu->fd));
	vm->vcpus[0] = NULL;
	free(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
