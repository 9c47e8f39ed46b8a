// SPDX-License-Identifier: GPL-2.0
/*
 * Time in the guest (issue 4): the virtual timer and the EL1 physical
 * timer (trapped and emulated by default, handed to the guest with
 * AVCPU_SETUP_PASSTHROUGH_TIMER) fire no earlier than programmed, while
 * the guest spins and while it sleeps in WFI; TVAL and ISTATUS behave as
 * the architecture says; a WFI with nothing pending sleeps in the kernel
 * at no CPU cost, and leaves for an injected interrupt, a signal, SIGKILL,
 * or (AVCPU_SETUP_EXIT_ON_WFI) a HALT exit; the VM's counter offset; and
 * the host's own timers keep working while guests hold theirs.
 *
 * The guest's IRQ handler acknowledges with ICC_IAR1_EL1 and completes
 * with ICC_EOIR1_EL1; what it saw is left in globals shared with the host
 * (the guest runs the test's own image).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "guest/gic.h"

#define TIMER_VIRT	0
#define TIMER_PHYS	1

/* Interrupts the host injects here: SGIs, edge-triggered by definition */
#define SGI_WAKE	5
#define SGI_AFTER_SIGNAL	6
#define SGI_MASKED	7

#define NSEC_PER_SEC	1000000000LL

/*
 * Shared with the guest: set by the host before RUN, or written by the
 * guest for the host to read after an exit.
 */
static volatile uint64_t g_kind;		/* TIMER_* under test */
static volatile uint64_t g_use_wfi;		/* wait for the timer in WFI */
static volatile uint64_t g_offset;		/* the VM's counter offset */
static volatile uint64_t g_expect_intid;	/* what the host will inject */

/* What the guest's IRQ handler saw */
static volatile uint64_t irq_total;		/* every acknowledged INTID */
static volatile uint64_t irq_last;		/* the last one */
static volatile uint64_t irq_spurious;		/* reads of 1023 */
static volatile uint64_t irq_timer;		/* the timer of g_kind */
static volatile uint64_t irq_timer_at;		/* its counter in the handler */
static volatile uint64_t irq_timer_ctl;		/* its CTL in the handler */
static volatile uint64_t irq_expect_cval;	/* the deadline programmed */

/* Guest side: the two timers by kind */

static const char *timer_name(uint64_t kind)
{
	return kind == TIMER_VIRT ? "virtual" : "physical";
}

static uint64_t timer_intid(uint64_t kind)
{
	return kind == TIMER_VIRT ? INTID_VTIMER : INTID_PTIMER;
}

static uint64_t timer_count(uint64_t kind)
{
	return kind == TIMER_VIRT ? read_cntvct() : read_cntpct();
}

static uint64_t timer_get_ctl(uint64_t kind)
{
	isb();
	return kind == TIMER_VIRT ? read_sysreg(cntv_ctl_el0) :
				    read_sysreg(cntp_ctl_el0);
}

static void timer_set_ctl(uint64_t kind, uint64_t ctl)
{
	if (kind == TIMER_VIRT)
		write_sysreg(ctl, cntv_ctl_el0);
	else
		write_sysreg(ctl, cntp_ctl_el0);
	isb();
}

static uint64_t timer_get_cval(uint64_t kind)
{
	isb();
	return kind == TIMER_VIRT ? read_sysreg(cntv_cval_el0) :
				    read_sysreg(cntp_cval_el0);
}

static void timer_set_cval(uint64_t kind, uint64_t cval)
{
	if (kind == TIMER_VIRT)
		write_sysreg(cval, cntv_cval_el0);
	else
		write_sysreg(cval, cntp_cval_el0);
	isb();
}

/* TVAL is a signed 32-bit down-counter: CVAL - count */
static int32_t timer_get_tval(uint64_t kind)
{
	isb();
	return (int32_t)(kind == TIMER_VIRT ? read_sysreg(cntv_tval_el0) :
					      read_sysreg(cntp_tval_el0));
}

static void timer_set_tval(uint64_t kind, int32_t tval)
{
	uint64_t v = (uint64_t)(uint32_t)tval;

	if (kind == TIMER_VIRT)
		write_sysreg(v, cntv_tval_el0);
	else
		write_sysreg(v, cntp_tval_el0);
	isb();
}

/*
 * The one IRQ handler: acknowledge, record, and for a timer interrupt
 * check that it is not early and that the timer says so (ISTATUS), then
 * mask and disable it so that its level drops before the EOI.
 */
static void irq_handler(struct ex_regs *regs)
{
	uint64_t intid = gic_read_iar();
	uint64_t kind = g_kind, now, ctl;

	if (intid == INTID_SPURIOUS) {
		irq_spurious++;
		return;
	}
	if (intid == INTID_VTIMER || intid == INTID_PTIMER) {
		uint64_t k = intid == INTID_VTIMER ? TIMER_VIRT : TIMER_PHYS;

		now = timer_count(k);
		ctl = timer_get_ctl(k);
		if (k == kind) {
			__GUEST_ASSERT(now >= irq_expect_cval,
				       "%s timer interrupt %lu ticks early: counter 0x%lx < CVAL 0x%lx; expected counter >= CVAL",
				       timer_name(k),
				       (unsigned long)(irq_expect_cval - now),
				       (unsigned long)now,
				       (unsigned long)irq_expect_cval);
			__GUEST_ASSERT((ctl & CNT_CTL_ISTATUS) && (ctl & CNT_CTL_ENABLE),
				       "%s timer interrupt with CTL 0x%lx; expected ENABLE and ISTATUS set",
				       timer_name(k), (unsigned long)ctl);
			irq_timer_at = now;
			irq_timer_ctl = ctl;
			irq_timer++;
		}
		timer_set_ctl(k, CNT_CTL_IMASK);
	}
	irq_last = intid;
	irq_total++;
	gic_write_eoir(intid);
}

/* Deadlines of one run, in microseconds; one long enough to see BLOCKED */
static const uint32_t deadlines_us[] = { 10000, 2000, 300000, 500, 25000 };
#define NR_DEADLINES	(sizeof(deadlines_us) / sizeof(deadlines_us[0]))
static volatile uint64_t round_cval[NR_DEADLINES], round_at[NR_DEADLINES];

/*
 * Program the timer of g_kind for each deadline, wait (spinning or in WFI
 * as g_use_wfi says) until its interrupt came, and check that it came
 * exactly once.
 */
static void guest_timer_fires(void)
{
	uint64_t kind = g_kind, freq = read_cntfrq();
	unsigned int i;

	gic_cpu_init();
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, irq_handler);
	for (i = 0; i < NR_DEADLINES; i++) {
		uint64_t delta = freq * deadlines_us[i] / 1000000, cval, until;

		timer_set_ctl(kind, 0);
		irq_timer = 0;
		irq_total = 0;
		cval = timer_count(kind) + delta;
		irq_expect_cval = cval;
		timer_set_cval(kind, cval);
		timer_set_ctl(kind, CNT_CTL_ENABLE);
		/*
		 * WFI with PSTATE.I set, then a window to take the IRQ: an
		 * interrupt taken just before an unmasked WFI would leave
		 * it asleep for good.
		 */
		if (!g_use_wfi)
			local_irq_enable();
		while (!irq_timer) {
			if (g_use_wfi) {
				wfi();
				local_irq_enable();
				isb();
				local_irq_disable();
			}
			__GUEST_ASSERT(irq_timer || timer_count(kind) < cval + 2 * freq,
				       "%s timer, deadline %u us: no interrupt 2 s after the deadline; expected one at the deadline",
				       timer_name(kind), deadlines_us[i]);
		}
		/* a level that stayed high would come again: give it 2 ms */
		local_irq_enable();
		until = timer_count(kind) + freq / 500;
		while (timer_count(kind) < until)
			;
		local_irq_disable();
		__GUEST_ASSERT(irq_timer == 1 && irq_total == 1,
			       "%s timer, deadline %u us: %lu timer interrupts and %lu in all (last INTID %lu); expected exactly one, INTID %lu",
			       timer_name(kind), deadlines_us[i],
			       (unsigned long)irq_timer, (unsigned long)irq_total,
			       (unsigned long)irq_last,
			       (unsigned long)timer_intid(kind));
		round_cval[i] = cval;
		round_at[i] = irq_timer_at;
	}
	timer_set_ctl(kind, 0);
	GUEST_DONE();
}

/*
 * TVAL counts down and reads CVAL - count; a TVAL write sets CVAL to the
 * count plus the sign-extended value; ISTATUS is set once the count
 * reaches CVAL (with ENABLE set; IMASK keeps the interrupt away).
 */
static void guest_timer_regs(void)
{
	uint64_t kind = g_kind, freq = read_cntfrq();
	uint64_t p0, p1, cval, ctl, until;
	int32_t t, t2, lo, hi;

	timer_set_ctl(kind, CNT_CTL_ENABLE | CNT_CTL_IMASK);
	ctl = timer_get_ctl(kind);
	__GUEST_ASSERT((ctl & 3) == (CNT_CTL_ENABLE | CNT_CTL_IMASK),
		       "%s timer CTL reads 0x%lx after writing ENABLE|IMASK; expected both bits set",
		       timer_name(kind), (unsigned long)ctl);

	/* TVAL reads CVAL - count */
	cval = timer_count(kind) + freq;	/* 1 s */
	timer_set_cval(kind, cval);
	GUEST_ASSERT_EQ(timer_get_cval(kind), cval);
	p0 = timer_count(kind);
	t = timer_get_tval(kind);
	p1 = timer_count(kind);
	lo = (int32_t)(cval - p1);
	hi = (int32_t)(cval - p0);
	__GUEST_ASSERT(t >= lo && t <= hi,
		       "%s timer TVAL read %d; expected CVAL - count, between %d and %d",
		       timer_name(kind), t, lo, hi);
	/* and counts down */
	until = timer_count(kind) + freq / 1000;
	while (timer_count(kind) < until)
		;
	t2 = timer_get_tval(kind);
	__GUEST_ASSERT(t2 < t && t2 > 0,
		       "%s timer TVAL read %d 1 ms after %d; expected it lower and still positive",
		       timer_name(kind), t2, t);
	ctl = timer_get_ctl(kind);
	__GUEST_ASSERT(!(ctl & CNT_CTL_ISTATUS),
		       "%s timer CTL 0x%lx with the deadline 1 s away; expected ISTATUS clear",
		       timer_name(kind), (unsigned long)ctl);

	/* a TVAL write sets CVAL = count + TVAL, positive and negative */
	p0 = timer_count(kind);
	timer_set_tval(kind, (int32_t)(freq / 2));
	p1 = timer_count(kind);
	cval = timer_get_cval(kind);
	__GUEST_ASSERT(cval >= p0 + freq / 2 && cval <= p1 + freq / 2,
		       "%s timer: TVAL = %lu gave CVAL 0x%lx; expected count + TVAL, between 0x%lx and 0x%lx",
		       timer_name(kind), (unsigned long)(freq / 2),
		       (unsigned long)cval, (unsigned long)(p0 + freq / 2),
		       (unsigned long)(p1 + freq / 2));
	p0 = timer_count(kind);
	timer_set_tval(kind, -1000);
	p1 = timer_count(kind);
	cval = timer_get_cval(kind);
	__GUEST_ASSERT(cval >= p0 - 1000 && cval <= p1 - 1000,
		       "%s timer: TVAL = -1000 gave CVAL 0x%lx; expected count - 1000, between 0x%lx and 0x%lx",
		       timer_name(kind), (unsigned long)cval,
		       (unsigned long)(p0 - 1000), (unsigned long)(p1 - 1000));
	/* that deadline has passed: ISTATUS, and TVAL reads negative */
	ctl = timer_get_ctl(kind);
	__GUEST_ASSERT(ctl & CNT_CTL_ISTATUS,
		       "%s timer CTL 0x%lx with CVAL in the past; expected ISTATUS set",
		       timer_name(kind), (unsigned long)ctl);
	t = timer_get_tval(kind);
	__GUEST_ASSERT(t <= -1000,
		       "%s timer TVAL read %d after a write of -1000; expected <= -1000",
		       timer_name(kind), t);

	/* ISTATUS goes from 0 to 1 as the count passes CVAL (2 ms ahead) */
	cval = timer_count(kind) + freq / 500;
	timer_set_cval(kind, cval);
	ctl = timer_get_ctl(kind);
	p0 = timer_count(kind);
	if (p0 < cval)
		__GUEST_ASSERT(!(ctl & CNT_CTL_ISTATUS),
			       "%s timer CTL 0x%lx before its deadline; expected ISTATUS clear",
			       timer_name(kind), (unsigned long)ctl);
	/*
	 * A timer may notice its deadline a little late (QEMU updates
	 * ISTATUS from a host timer callback): allow 100 ms, but never
	 * early.
	 */
	do {
		ctl = timer_get_ctl(kind);
		p1 = timer_count(kind);
		__GUEST_ASSERT(!(ctl & CNT_CTL_ISTATUS) || p1 >= cval,
			       "%s timer CTL 0x%lx with the count 0x%lx still before CVAL 0x%lx; expected ISTATUS clear until the deadline",
			       timer_name(kind), (unsigned long)ctl,
			       (unsigned long)p1, (unsigned long)cval);
	} while (!(ctl & CNT_CTL_ISTATUS) && p1 < cval + freq / 10);
	__GUEST_ASSERT(ctl & CNT_CTL_ISTATUS,
		       "%s timer CTL 0x%lx 100 ms after the count passed CVAL; expected ISTATUS set",
		       timer_name(kind), (unsigned long)ctl);
	/* IMASK kept it from the guest */
	GUEST_ASSERT_EQ(irq_total, 0);
	timer_set_ctl(kind, 0);
	GUEST_DONE();
}

/* Host side */

static volatile sig_atomic_t signals_seen;

static void count_signal(int sig)
{
	signals_seen++;
}

/* No SA_RESTART: a signal makes RUN return EINTR. */
static void install_signal(struct __test_metadata *_metadata, int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(sig, &sa, NULL));
}

/*
 * A thread that watches a vCPU run by another thread: notes whether
 * GET_STATE ever said BLOCKED, and after @timeout seconds signals the
 * running thread (SIGUSR2, every 100 ms) so that a guest waiting forever
 * for an interrupt ends RUN with EINTR instead of the harness's timeout.
 */
struct watch {
	struct avcpu_vcpu *vcpu;
	pthread_t target;
	double timeout;
	pthread_t th;
	volatile int stop;
	volatile int saw_blocked;
	volatile int timed_out;
};

static void *watch_fn(void *p)
{
	struct watch *w = p;
	double t0 = avcpu_now();

	while (!w->stop) {
		if (vcpu_get_state(w->vcpu) == AVCPU_STATE_BLOCKED)
			w->saw_blocked = 1;
		if (avcpu_now() - t0 > w->timeout) {
			w->timed_out = 1;
			pthread_kill(w->target, SIGUSR2);
			usleep(100000);
		} else {
			usleep(1000);
		}
	}
	return NULL;
}

static void watch_start(struct __test_metadata *_metadata, struct watch *w,
			struct avcpu_vcpu *vcpu, double timeout)
{
	install_signal(_metadata, SIGUSR2);
	memset(w, 0, sizeof(*w));
	w->vcpu = vcpu;
	w->target = pthread_self();
	w->timeout = timeout;
	ASSERT_EQ(0, pthread_create(&w->th, NULL, watch_fn, w));
}

static void watch_stop(struct watch *w)
{
	w->stop = 1;
	pthread_join(w->th, NULL);
}

/*
 * RUN until a SYNC or DONE ucall (printing GUEST_PRINTFs); anything else,
 * a failed guest assertion among them, fails the test.
 */
static uint64_t run_guest(struct __test_metadata *_metadata,
			  struct avcpu_vcpu *vcpu, struct watch *w,
			  struct ucall *uc)
{
	struct ucall local;
	uint64_t cmd;
	int ret;

	if (!uc)
		uc = &local;
	for (;;) {
		ret = __vcpu_run(vcpu);
		ASSERT_EQ(0, ret) TH_LOG("RUN: %s%s; expected it to return 0 with a ucall",
					 strerror(-ret), w && w->timed_out ?
					 " (the guest did not finish in time: an interrupt never came?)" : "");
		cmd = get_ucall(vcpu, uc);
		if (cmd == UCALL_PRINTF) {
			fprintf(stderr, "# vCPU %u: %s\n", vcpu->id, uc->buf);
			continue;
		}
		if (cmd != UCALL_SYNC && cmd != UCALL_DONE) {
			vcpu_dump_exit(stderr, vcpu);
			if (cmd != UCALL_NONE)
				ucall_dump(stderr, uc);
		}
		ASSERT_TRUE(cmd == UCALL_SYNC || cmd == UCALL_DONE)
			TH_LOG("exit %s, ucall %s; expected a SYNC or DONE ucall",
			       exit_reason_str(vcpu->run->exit_reason),
			       ucall_cmd_str(cmd));
		return cmd;
	}
}

/* A vCPU with SETUP @flags bound to the calling thread; -errno from SETUP */
static int vcpu_add_flags(struct avcpu_vm *vm, uint32_t id,
			  void (*guest_code)(void), uint64_t flags,
			  struct avcpu_vcpu **out)
{
	struct avcpu_vcpu *vcpu = vm_vcpu_create(vm, id);
	int ret = __vcpu_setup(vcpu, guest_code, flags);

	if (ret) {
		vcpu_free(vcpu);
		return ret;
	}
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	*out = vcpu;
	return 0;
}

/* Does SETUP take AVCPU_SETUP_PASSTHROUGH_TIMER here? 0 or -errno */
static int passthrough_setup_ret(void)
{
	struct avcpu_vm *vm = vm_create();
	struct avcpu_vcpu *vcpu = vm_vcpu_create(vm, 0);
	int ret = __vcpu_setup(vcpu, guest_timer_fires,
			       AVCPU_SETUP_PASSTHROUGH_TIMER);

	vm_free(vm);
	return ret;
}

static bool nvhe_host(void)
{
	struct avcpu_vm *vm = vm_create();
	bool nvhe = vm->caps.host_mode == AVCPU_HOST_MODE_NVHE;

	vm_free(vm);
	return nvhe;
}

/*
 * api.rst: VHE hosts take the flag; nVHE hosts refuse it with EOPNOTSUPP,
 * since the EL1 physical timer is their kernel's own: that refusal is
 * what the test checks there.
 */
#define REQUIRE_PASSTHROUGH() do {					\
	int __ret = passthrough_setup_ret();				\
									\
	if (nvhe_host()) {						\
		ASSERT_EQ(-EOPNOTSUPP, __ret)				\
			TH_LOG("nVHE host: SETUP with PASSTHROUGH_TIMER"); \
		return;							\
	}								\
	ASSERT_EQ(0, __ret) TH_LOG("SETUP with PASSTHROUGH_TIMER: %s",	\
				   strerror(-__ret));			\
} while (0)

static void run_timer_regs(struct __test_metadata *_metadata, uint64_t kind,
			   uint64_t flags)
{
	struct avcpu_vcpu *vcpu = NULL;
	struct avcpu_vm *vm;

	g_kind = kind;
	irq_total = 0;
	vm = vm_create();
	ASSERT_EQ(0, vcpu_add_flags(vm, 0, guest_timer_regs, flags, &vcpu));
	EXPECT_EQ(UCALL_DONE, run_guest(_metadata, vcpu, NULL, NULL));
	vm_free(vm);
}

static void run_timer_fires(struct __test_metadata *_metadata, uint64_t kind,
			    bool use_wfi, uint64_t flags)
{
	struct avcpu_vcpu *vcpu = NULL;
	struct avcpu_vm *vm;
	struct watch w;
	char lat[256];
	size_t len = 0;
	unsigned int i;
	uint64_t freq;

	g_kind = kind;
	g_use_wfi = use_wfi;
	vm = vm_create();
	ASSERT_EQ(0, vcpu_add_flags(vm, 0, guest_timer_fires, flags, &vcpu));
	watch_start(_metadata, &w, vcpu, 10);
	EXPECT_EQ(UCALL_DONE, run_guest(_metadata, vcpu, &w, NULL));
	watch_stop(&w);
	if (use_wfi) {
		EXPECT_TRUE(w.saw_blocked)
			TH_LOG("GET_STATE never said BLOCKED; expected the vCPU asleep in the kernel while the guest waited %u ms in WFI",
			       deadlines_us[2] / 1000);
	}
	asm volatile("mrs %0, cntfrq_el0" : "=r" (freq));
	for (i = 0; i < NR_DEADLINES; i++)
		len += snprintf(lat + len, sizeof(lat) - len, " %u:%llu",
				deadlines_us[i],
				(unsigned long long)((round_at[i] - round_cval[i]) *
						     1000000 / freq));
	TH_LOG("%s timer, %s%s: deadline us:latency us%s", timer_name(kind),
	       use_wfi ? "WFI" : "spinning",
	       flags & AVCPU_SETUP_PASSTHROUGH_TIMER ? ", passthrough" : "", lat);
	vm_free(vm);
}

TEST(vtimer_running)
{
	AVCPU_REQUIRE_IRQ();
	run_timer_regs(_metadata, TIMER_VIRT, 0);
	run_timer_fires(_metadata, TIMER_VIRT, false, 0);
}

TEST(vtimer_wfi)
{
	AVCPU_REQUIRE_IRQ();
	run_timer_fires(_metadata, TIMER_VIRT, true, 0);
}

TEST(ptimer_emulated)
{
	AVCPU_REQUIRE_IRQ();
	run_timer_regs(_metadata, TIMER_PHYS, 0);
	run_timer_fires(_metadata, TIMER_PHYS, false, 0);
	run_timer_fires(_metadata, TIMER_PHYS, true, 0);
}

TEST(ptimer_passthrough)
{
	AVCPU_REQUIRE_IRQ();
	REQUIRE_PASSTHROUGH();
	run_timer_regs(_metadata, TIMER_PHYS, AVCPU_SETUP_PASSTHROUGH_TIMER);
	run_timer_fires(_metadata, TIMER_PHYS, false, AVCPU_SETUP_PASSTHROUGH_TIMER);
	run_timer_fires(_metadata, TIMER_PHYS, true, AVCPU_SETUP_PASSTHROUGH_TIMER);
}

/*
 * A vCPU run by another thread, RUN session by session: session i starts
 * once the main thread has set go > i and ends at a ucall other than
 * PRINTF, or a RUN error.
 */
#define RUNNER_MAX	4

struct runner {
	struct avcpu_vcpu *vcpu;
	uint32_t cpu;			/* BIND argument */
	int sessions;
	pthread_t th;
	int bind_ret;
	int ret[RUNNER_MAX];
	uint32_t exit_reason[RUNNER_MAX];
	uint64_t cmd[RUNNER_MAX];
	struct ucall uc[RUNNER_MAX];
	volatile int go;
	volatile int done;
};

static void *runner_fn(void *p)
{
	struct runner *r = p;
	int i, ret;

	r->bind_ret = __vcpu_bind(r->vcpu, r->cpu);
	if (r->bind_ret) {
		__atomic_store_n(&r->done, r->sessions, __ATOMIC_RELEASE);
		return NULL;
	}
	for (i = 0; i < r->sessions; i++) {
		while (r->go <= i)
			usleep(1000);
		for (;;) {
			ret = __vcpu_run(r->vcpu);
			r->cmd[i] = ret ? UCALL_NONE : get_ucall(r->vcpu, &r->uc[i]);
			if (r->cmd[i] != UCALL_PRINTF)
				break;
			fprintf(stderr, "# vCPU %u: %s\n", r->vcpu->id, r->uc[i].buf);
		}
		r->ret[i] = ret;
		r->exit_reason[i] = r->vcpu->run->exit_reason;
		__atomic_store_n(&r->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void runner_start(struct __test_metadata *_metadata, struct runner *r,
			 struct avcpu_vcpu *vcpu, uint32_t cpu, int sessions)
{
	memset(r, 0, sizeof(*r));
	r->vcpu = vcpu;
	r->cpu = cpu;
	r->sessions = sessions;
	r->go = 1;
	ASSERT_EQ(0, pthread_create(&r->th, NULL, runner_fn, r));
}

/* Wait until the runner finished @n sessions: false after @timeout s */
static bool runner_wait(struct runner *r, int n, double timeout)
{
	double t0 = avcpu_now();

	while (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) < n) {
		if (avcpu_now() - t0 > timeout)
			return false;
		usleep(1000);
	}
	return true;
}

/* Check session @i ended with the ucall @cmd */
static void runner_expect(struct __test_metadata *_metadata, struct runner *r,
			  int i, uint64_t cmd)
{
	ASSERT_EQ(0, r->bind_ret) TH_LOG("BIND in the vCPU thread: %s; expected 0",
					 strerror(-r->bind_ret));
	if (r->cmd[i] != cmd && r->cmd[i] != UCALL_NONE)
		ucall_dump(stderr, &r->uc[i]);
	ASSERT_EQ(cmd, r->cmd[i])
		TH_LOG("RUN session %d: ret %d (%s), exit %s, ucall %s; expected ucall %s",
		       i, r->ret[i], r->ret[i] ? strerror(-r->ret[i]) : "ok",
		       exit_reason_str(r->exit_reason[i]),
		       ucall_cmd_str(r->cmd[i]), ucall_cmd_str(cmd));
}

/* Poll GET_STATE until it says @state: false after @timeout s */
static bool wait_state(struct avcpu_vcpu *vcpu, int state, double timeout)
{
	double t0 = avcpu_now();

	while (vcpu_get_state(vcpu) != state) {
		if (avcpu_now() - t0 > timeout)
			return false;
		usleep(1000);
	}
	return true;
}

static double thread_cpu_time(pthread_t th)
{
	struct timespec ts;
	clockid_t clk;

	if (pthread_getcpuclockid(th, &clk) || clock_gettime(clk, &ts))
		return -1;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint64_t wfi_wakeups;

/*
 * Interrupts unmasked, the virtual timer 30 s away: sleep in WFI until
 * an interrupt comes, which must be the host's SGI_WAKE.
 */
static void guest_wfi_until_irq(void)
{
	uint64_t freq = read_cntfrq();

	gic_cpu_init();
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, irq_handler);
	g_kind = TIMER_VIRT;
	irq_expect_cval = timer_count(TIMER_VIRT) + 30 * freq;
	timer_set_cval(TIMER_VIRT, irq_expect_cval);
	timer_set_ctl(TIMER_VIRT, CNT_CTL_ENABLE);
	/* PSTATE.I set around the WFI, unmasked between two */
	local_irq_disable();
	while (!irq_total) {
		wfi();
		wfi_wakeups++;
		local_irq_enable();
		isb();
		local_irq_disable();
	}
	timer_set_ctl(TIMER_VIRT, 0);
	__GUEST_ASSERT(irq_total == 1 && irq_last == g_expect_intid,
		       "%lu interrupts, the last INTID %lu; expected one, INTID %lu",
		       (unsigned long)irq_total, (unsigned long)irq_last,
		       (unsigned long)g_expect_intid);
	GUEST_DONE();
}

#define IDLE_SECONDS	3.0

/*
 * A guest idle in WFI costs the host (almost) no CPU: the vCPU thread's
 * CPU time over IDLE_SECONDS of wall time while GET_STATE says BLOCKED.
 * An injection from the main thread then wakes it.
 */
TEST(wfi_idle_cpu)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct runner r;
	double cpu0, cpu1, wall0, wall1, cpu, wall;
	int samples = 0, blocked = 0;

	AVCPU_REQUIRE_IRQ();
	g_expect_intid = SGI_WAKE;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_wfi_until_irq, 0);
	runner_start(_metadata, &r, vcpu, AVCPU_BIND_CURRENT_CPU, 1);
	ASSERT_TRUE(wait_state(vcpu, AVCPU_STATE_BLOCKED, 10))
		TH_LOG("state %d after 10 s; expected BLOCKED (%d) with the guest in WFI",
		       vcpu_get_state(vcpu), AVCPU_STATE_BLOCKED);
	/* settle: let whatever the entry cost be over */
	usleep(100000);

	wall0 = avcpu_now();
	cpu0 = thread_cpu_time(r.th);
	ASSERT_GE(cpu0, 0) TH_LOG("the vCPU thread's CPU clock: %s", strerror(errno));
	while (avcpu_now() - wall0 < IDLE_SECONDS) {
		usleep(100000);
		samples++;
		if (vcpu_get_state(vcpu) == AVCPU_STATE_BLOCKED)
			blocked++;
	}
	cpu1 = thread_cpu_time(r.th);
	wall1 = avcpu_now();
	cpu = cpu1 - cpu0;
	wall = wall1 - wall0;
	TH_LOG("idle vCPU in WFI: %.3f ms of CPU time over %.3f s of wall time (%.3f%%; its thread's CPU clock %.3f -> %.3f ms); BLOCKED in %d of %d samples; %llu WFI wake-ups",
	       cpu * 1000, wall, 100 * cpu / wall, cpu0 * 1000, cpu1 * 1000,
	       blocked, samples, (unsigned long long)wfi_wakeups);
	EXPECT_GT(cpu0, 0) TH_LOG("the vCPU thread's CPU clock read 0; expected its start-up counted");
	EXPECT_LT(cpu, 0.05 * wall)
		TH_LOG("the idle vCPU thread used %.3f s of CPU in %.3f s; expected less than 5%%",
		       cpu, wall);
	EXPECT_GE(blocked * 10, samples * 9)
		TH_LOG("BLOCKED in only %d of %d samples; expected the vCPU asleep all along",
		       blocked, samples);
	EXPECT_EQ(0, irq_total) TH_LOG("the guest took INTID %llu while idle; expected no interrupt",
				       (unsigned long long)irq_last);

	/* an injection from this thread wakes it */
	vcpu_inject_irq(vcpu, SGI_WAKE);
	ASSERT_TRUE(runner_wait(&r, 1, 5))
		TH_LOG("the guest did not finish within 5 s of the injection; expected it to wake and finish");
	pthread_join(r.th, NULL);
	runner_expect(_metadata, &r, 0, UCALL_DONE);
	EXPECT_EQ(SGI_WAKE, irq_last);
	vm_free(vm);
}

/* Interrupts masked (and, without gic_cpu_init, PMR 0): WFI forever. */
static void guest_wfi_forever(void)
{
	local_irq_disable();
	for (;;) {
		wfi();
		wfi_wakeups++;
	}
}

/*
 * An interrupt pending but masked at PSTATE.I: every WFI completes at
 * once, so the vCPU loops through the kernel and never sleeps.
 */
static void guest_wfi_pending_masked(void)
{
	gic_cpu_init();
	local_irq_disable();
	for (;;) {
		wfi();
		wfi_wakeups++;
	}
}

/*
 * In the child: watch the vCPU, and tell the parent on @fd once it is
 * where the test wants it: 'B' asleep in WFI, or 'R' running with WFI
 * completing over and over; 'X' and a diagnostic after 10 s otherwise.
 */
struct child_watch {
	struct avcpu_vcpu *vcpu;
	bool busy;
	int fd;
};

static void *child_watch_fn(void *p)
{
	struct child_watch *cw = p;
	double t0 = avcpu_now();
	char msg[80];
	int state = -1, len;

	while (avcpu_now() - t0 < 10) {
		state = vcpu_get_state(cw->vcpu);
		if (!cw->busy && state == AVCPU_STATE_BLOCKED) {
			/* and still so a moment later */
			usleep(50000);
			state = vcpu_get_state(cw->vcpu);
			if (state == AVCPU_STATE_BLOCKED) {
				if (write(cw->fd, "B", 1) != 1)
					break;
				return NULL;
			}
		}
		if (cw->busy && state == AVCPU_STATE_RUNNING && wfi_wakeups > 1000) {
			if (write(cw->fd, "R", 1) != 1)
				break;
			return NULL;
		}
		usleep(1000);
	}
	len = snprintf(msg, sizeof(msg), "X state %d, %llu WFI wake-ups", state,
		       (unsigned long long)wfi_wakeups);
	if (write(cw->fd, msg, len) != len)
		return NULL;
	return NULL;
}

/*
 * Fork a VMM whose guest loops on WFI with interrupts masked; once it is
 * where @busy says, SIGKILL it: it must be reaped within 2 s.
 */
static void sigkill_wfi_child(struct __test_metadata *_metadata, bool busy)
{
	struct pollfd pfd;
	char msg[81] = "";
	double t0, waited;
	long ref0, ref1;
	int fds[2], status = 0, ret;
	ssize_t n = 0;
	pid_t pid, w = 0;

	ref0 = avcpu_module_refcnt();
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct child_watch cw = { .busy = busy, .fd = fds[1] };
		struct avcpu_vm *vm = vm_create();
		pthread_t th;

		cw.vcpu = vm_vcpu_add(vm, 0, busy ? guest_wfi_pending_masked :
						    guest_wfi_forever);
		if (busy)
			vcpu_inject_irq(cw.vcpu, SGI_MASKED);
		if (pthread_create(&th, NULL, child_watch_fn, &cw))
			_exit(3);
		__vcpu_run(cw.vcpu);	/* until killed */
		_exit(4);
	}
	close(fds[1]);	/* the child's death is a hang-up */
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, 15000);
	if (ret == 1)
		n = read(fds[0], msg, sizeof(msg) - 1);
	if (n > 0)
		msg[n] = '\0';
	/* settle in the loop, then kill it whatever happened */
	usleep(200000);
	w = avcpu_kill_and_reap(pid, 10, &status, &waited);
	close(fds[0]);
	EXPECT_EQ(busy ? 'R' : 'B', msg[0])
		TH_LOG("the child said \"%s\"; expected its vCPU %s", msg,
		       busy ? "RUNNING with WFI completing at once" :
			      "BLOCKED in WFI");
	ASSERT_EQ(pid, w) TH_LOG("the child was not reaped within 10 s of SIGKILL; expected within 2 s");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status 0x%x; expected killed by SIGKILL", status);
	EXPECT_LT(waited, 2.0) TH_LOG("reaped %.3f s after SIGKILL; expected within 2 s", waited);
	TH_LOG("the child (vCPU %s) was reaped %.3f s after SIGKILL",
	       busy ? "looping on WFI with an interrupt pending" : "asleep in WFI",
	       waited);

	/* and it left no reference on the module behind */
	t0 = avcpu_now();
	do {
		ref1 = avcpu_module_refcnt();
		if (ref1 == ref0)
			break;
		usleep(10000);
	} while (avcpu_now() - t0 < 5);
	EXPECT_EQ(ref0, ref1) TH_LOG("module refcount %ld after the child died; expected %ld as before",
				     ref1, ref0);
}

TEST(wfi_sigkill)
{
	AVCPU_REQUIRE_IRQ();
	sigkill_wfi_child(_metadata, false);
}

TEST(wfi_sigkill_pending_masked)
{
	AVCPU_REQUIRE_IRQ();
	sigkill_wfi_child(_metadata, true);
}

/*
 * A signal to the vCPU thread while it sleeps in WFI: RUN returns EINTR;
 * RUN again goes back to sleep, and an injection ends it.
 */
TEST(wfi_signal)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct runner r;
	double t0;
	bool back;

	AVCPU_REQUIRE_IRQ();
	install_signal(_metadata, SIGUSR1);
	g_expect_intid = SGI_AFTER_SIGNAL;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_wfi_until_irq, 0);
	runner_start(_metadata, &r, vcpu, AVCPU_BIND_CURRENT_CPU, 2);
	ASSERT_TRUE(wait_state(vcpu, AVCPU_STATE_BLOCKED, 10))
		TH_LOG("state %d after 10 s; expected BLOCKED with the guest in WFI",
		       vcpu_get_state(vcpu));
	usleep(50000);

	t0 = avcpu_now();
	ASSERT_EQ(0, pthread_kill(r.th, SIGUSR1));
	back = runner_wait(&r, 1, 2);
	if (!back) {
		/* free the thread: an injection ends the guest */
		vcpu_inject_irq(vcpu, SGI_AFTER_SIGNAL);
	}
	ASSERT_TRUE(back) TH_LOG("RUN did not return within 2 s of SIGUSR1; expected EINTR at once");
	TH_LOG("RUN returned %.3f ms after the signal", (avcpu_now() - t0) * 1000);
	EXPECT_EQ(-EINTR, r.ret[0]) TH_LOG("RUN returned %d (%s); expected -EINTR",
					   r.ret[0], strerror(-r.ret[0]));
	EXPECT_EQ(AVCPU_EXIT_NONE, r.exit_reason[0]);
	EXPECT_EQ(1, signals_seen);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(0, irq_total) TH_LOG("the guest took INTID %llu; expected none yet",
				       (unsigned long long)irq_last);

	/* RUN again: the guest goes on waiting in its WFI loop */
	r.go = 2;
	ASSERT_TRUE(wait_state(vcpu, AVCPU_STATE_BLOCKED, 10))
		TH_LOG("state %d 10 s after the second RUN; expected BLOCKED again",
		       vcpu_get_state(vcpu));
	EXPECT_EQ(0, irq_total);
	vcpu_inject_irq(vcpu, SGI_AFTER_SIGNAL);
	ASSERT_TRUE(runner_wait(&r, 2, 5))
		TH_LOG("the guest did not finish within 5 s of the injection");
	pthread_join(r.th, NULL);
	runner_expect(_metadata, &r, 1, UCALL_DONE);
	EXPECT_EQ(SGI_AFTER_SIGNAL, irq_last);
	vm_free(vm);
}

#define WFI_TIMER_MS	500

static void guest_exit_on_wfi(void)
{
	uint64_t freq = read_cntfrq(), ctl;

	gic_cpu_init();
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, irq_handler);
	local_irq_disable();
	g_kind = TIMER_VIRT;

	/* nothing pending: the WFI exits HALT */
	GUEST_SYNC(1);
	wfi();
	GUEST_SYNC(2);

	/* the host injected SGI_MASKED: pending, masked at PSTATE.I */
	wfi();
	GUEST_SYNC(3);
	local_irq_enable();
	isb();
	local_irq_disable();
	__GUEST_ASSERT(irq_total == 1 && irq_last == SGI_MASKED,
		       "%lu interrupts, last INTID %lu once unmasked; expected one, INTID %u",
		       (unsigned long)irq_total, (unsigned long)irq_last, SGI_MASKED);

	/* the virtual timer: HALT before its deadline, none after */
	irq_expect_cval = timer_count(TIMER_VIRT) + freq * WFI_TIMER_MS / 1000;
	timer_set_cval(TIMER_VIRT, irq_expect_cval);
	timer_set_ctl(TIMER_VIRT, CNT_CTL_ENABLE);
	GUEST_SYNC(4);
	wfi();		/* HALT; the host waits past the deadline */
	ctl = timer_get_ctl(TIMER_VIRT);
	__GUEST_ASSERT(ctl & CNT_CTL_ISTATUS,
		       "virtual timer CTL 0x%lx after the host waited past the deadline; expected ISTATUS set",
		       (unsigned long)ctl);
	wfi();		/* the timer's PPI is pending: no exit */
	GUEST_SYNC(5);
	local_irq_enable();
	isb();
	local_irq_disable();
	__GUEST_ASSERT(irq_total == 2 && irq_timer == 1 && irq_last == INTID_VTIMER,
		       "%lu interrupts (%lu of the timer), last INTID %lu; expected the virtual timer's %u",
		       (unsigned long)irq_total, (unsigned long)irq_timer,
		       (unsigned long)irq_last, INTID_VTIMER);
	GUEST_DONE();
}

static void expect_sync(struct __test_metadata *_metadata,
			struct avcpu_vcpu *vcpu, struct watch *w, uint64_t arg,
			const char *why)
{
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, run_guest(_metadata, vcpu, w, &uc))
		TH_LOG("expected SYNC %llu: %s", (unsigned long long)arg, why);
	ASSERT_EQ(arg, uc.args[0]) TH_LOG("expected SYNC %llu: %s",
					  (unsigned long long)arg, why);
}

static void expect_halt(struct __test_metadata *_metadata,
			struct avcpu_vcpu *vcpu, struct watch *w, const char *why)
{
	struct ucall uc;
	uint64_t cmd;
	int ret;

	ret = __vcpu_run(vcpu);
	ASSERT_EQ(0, ret) TH_LOG("RUN: %s%s; expected a HALT exit: %s", strerror(-ret),
				 w->timed_out ? " (the vCPU slept in WFI?)" : "", why);
	cmd = get_ucall(vcpu, &uc);
	if (cmd != UCALL_NONE)
		ucall_dump(stderr, &uc);
	ASSERT_EQ(AVCPU_EXIT_HALT, vcpu->run->exit_reason)
		TH_LOG("exit %s (ucall %s); expected HALT: %s",
		       exit_reason_str(vcpu->run->exit_reason),
		       ucall_cmd_str(cmd), why);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
}

/*
 * AVCPU_SETUP_EXIT_ON_WFI: a WFI with nothing pending returns HALT (and
 * the next RUN goes on after it); with an interrupt pending, masked at
 * PSTATE.I, WFI completes in the guest. The virtual timer's PPI counts
 * as pending once its deadline passed.
 */
TEST(exit_on_wfi)
{
	struct avcpu_vcpu *vcpu = NULL;
	struct avcpu_vm *vm;
	struct watch w;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	ASSERT_EQ(0, vcpu_add_flags(vm, 0, guest_exit_on_wfi,
				    AVCPU_SETUP_EXIT_ON_WFI, &vcpu));
	watch_start(_metadata, &w, vcpu, 10);
	expect_sync(_metadata, vcpu, &w, 1, "the guest starts");
	expect_halt(_metadata, vcpu, &w, "a WFI with nothing pending");
	expect_sync(_metadata, vcpu, &w, 2, "RUN after HALT goes on after the WFI");

	vcpu_inject_irq(vcpu, SGI_MASKED);
	expect_sync(_metadata, vcpu, &w, 3,
		    "a WFI with SGI 7 pending (masked at PSTATE.I) completes without an exit");

	expect_sync(_metadata, vcpu, &w, 4, "the guest programs its timer");
	expect_halt(_metadata, vcpu, &w, "a WFI before the virtual timer's deadline");
	usleep((WFI_TIMER_MS + 200) * 1000);
	expect_sync(_metadata, vcpu, &w, 5,
		    "a WFI with the expired virtual timer pending (masked at PSTATE.I) completes without an exit");
	EXPECT_EQ(UCALL_DONE, run_guest(_metadata, vcpu, &w, NULL));
	watch_stop(&w);
	EXPECT_FALSE(w.saw_blocked) TH_LOG("GET_STATE said BLOCKED; expected EXIT_ON_WFI never to sleep");
	vm_free(vm);
}

/*
 * The counters, back to back: v1 = CNTVCT, p = CNTPCT, v2 = CNTVCT, so
 * that the offset CNTPCT - CNTVCT lies in [p - v2, p - v1].
 */
static void read_counters(uint64_t *v1, uint64_t *p, uint64_t *v2)
{
	*v1 = read_cntvct();
	*p = read_cntpct();
	*v2 = read_cntvct();
}

static void guest_counter_offset(void)
{
	uint64_t v1, p, v2;
	int i;

	for (i = 0; i < 3; i++) {
		read_counters(&v1, &p, &v2);
		GUEST_SYNC_ARGS(v1, p, v2, read_cntfrq());
	}
	GUEST_DONE();
}

static void expect_offset(struct __test_metadata *_metadata,
			  const struct ucall *uc, uint64_t offset,
			  const char *when)
{
	uint64_t v1 = uc->args[0], p = uc->args[1], v2 = uc->args[2];

	EXPECT_TRUE(p - v2 <= offset && offset <= p - v1)
		TH_LOG("%s: guest CNTVCT 0x%llx..0x%llx around CNTPCT 0x%llx; expected CNTPCT - CNTVCT == offset 0x%llx",
		       when, (unsigned long long)v1, (unsigned long long)v2,
		       (unsigned long long)p, (unsigned long long)offset);
}

static uint64_t host_cntvct(void)
{
	uint64_t v;

	asm volatile("isb; mrs %0, cntvct_el0" : "=r" (v) : : "memory");
	return v;
}

/*
 * A new VM's offset is the physical count at its creation (the guest's
 * CNTVCT starts near 0); SET_COUNTER_OFFSET moves what the guest reads.
 * The host reads the physical count as its own CNTVCT_EL0: the host's
 * virtual offset is 0 (VHE: the EL2&0 regime has none).
 */
TEST(counter_offset)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc0, uc1, uc2;
	uint64_t h0, h1, off0, off, freq, jump;

	AVCPU_REQUIRE_IRQ();
	h0 = host_cntvct();
	vm = vm_create();
	h1 = host_cntvct();
	ASSERT_EQ(0, __vm_get_counter_offset(vm, &off0));
	EXPECT_TRUE(off0 >= h0 && off0 <= h1)
		TH_LOG("a new VM's offset 0x%llx; expected the physical count at its creation, between 0x%llx and 0x%llx",
		       (unsigned long long)off0, (unsigned long long)h0,
		       (unsigned long long)h1);
	vcpu = vm_vcpu_add(vm, 0, guest_counter_offset);

	ASSERT_EQ(UCALL_SYNC, run_guest(_metadata, vcpu, NULL, &uc0));
	freq = uc0.args[3];
	ASSERT_NE(0, freq);
	EXPECT_LT(uc0.args[0], 10 * freq)
		TH_LOG("the new guest's CNTVCT 0x%llx; expected less than 10 s of ticks (0x%llx)",
		       (unsigned long long)uc0.args[0],
		       (unsigned long long)(10 * freq));
	expect_offset(_metadata, &uc0, off0, "default offset");

	/* 100 s forward */
	jump = 100 * freq;
	ASSERT_EQ(0, __vm_set_counter_offset(vm, off0 - jump));
	ASSERT_EQ(0, __vm_get_counter_offset(vm, &off));
	EXPECT_EQ(off0 - jump, off) TH_LOG("GET_COUNTER_OFFSET after SET; expected the value set");
	ASSERT_EQ(UCALL_SYNC, run_guest(_metadata, vcpu, NULL, &uc1));
	expect_offset(_metadata, &uc1, off0 - jump, "offset 100 s lower");
	EXPECT_TRUE(uc1.args[0] - uc0.args[2] >= jump &&
		    uc1.args[0] - uc0.args[2] < jump + 10 * freq)
		TH_LOG("CNTVCT went from 0x%llx to 0x%llx; expected it to jump by 100 s (0x%llx ticks) plus under 10 s",
		       (unsigned long long)uc0.args[2],
		       (unsigned long long)uc1.args[0],
		       (unsigned long long)jump);

	/* and back */
	ASSERT_EQ(0, __vm_set_counter_offset(vm, off0));
	ASSERT_EQ(UCALL_SYNC, run_guest(_metadata, vcpu, NULL, &uc2));
	expect_offset(_metadata, &uc2, off0, "offset set back");
	EXPECT_TRUE(uc2.args[0] < uc1.args[0] && uc2.args[0] >= uc0.args[2])
		TH_LOG("CNTVCT 0x%llx after the offset went back; expected between 0x%llx and 0x%llx",
		       (unsigned long long)uc2.args[0],
		       (unsigned long long)uc0.args[2],
		       (unsigned long long)uc1.args[0]);
	EXPECT_EQ(UCALL_DONE, run_guest(_metadata, vcpu, NULL, NULL));
	vm_free(vm);
}

/*
 * Two vCPUs on two physical CPUs read one counter: each checks the VM's
 * offset on every sample, and that its CNTVCT is never behind a value the
 * other vCPU read and published earlier.
 */
static volatile uint64_t published[2];
static volatile uint64_t pair_samples[2];
static volatile uint64_t pair_started[2];

static void guest_counter_pair(void)
{
	uint64_t id = guest_vcpu_id(), other = !id, freq = read_cntfrq();
	uint64_t v1, p, v2, seen, mine, end;

	pair_started[id] = 1;
	while (!pair_started[other])
		;
	end = read_cntvct() + freq / 50;	/* 20 ms of samples */
	do {
		read_counters(&v1, &p, &v2);
		__GUEST_ASSERT(p - v2 <= g_offset && g_offset <= p - v1,
			       "vCPU %lu: CNTVCT 0x%lx..0x%lx around CNTPCT 0x%lx; expected CNTPCT - CNTVCT == the VM's offset 0x%lx",
			       (unsigned long)id, (unsigned long)v1,
			       (unsigned long)v2, (unsigned long)p,
			       (unsigned long)g_offset);
		__atomic_store_n(&published[id], v2, __ATOMIC_RELEASE);
		seen = __atomic_load_n(&published[other], __ATOMIC_ACQUIRE);
		dsb(ish);
		mine = read_cntvct();
		__GUEST_ASSERT(mine >= seen,
			       "vCPU %lu read CNTVCT 0x%lx after vCPU %lu had published 0x%lx; expected one counter, never behind",
			       (unsigned long)id, (unsigned long)mine,
			       (unsigned long)other, (unsigned long)seen);
		pair_samples[id]++;
	} while (mine < end);
	GUEST_DONE();
}

TEST(counter_offset_two_vcpus)
{
	struct avcpu_vcpu *vcpu[2];
	struct avcpu_vm *vm;
	struct runner r[2];
	uint64_t off0;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	for (i = 0; i < 2; i++) {
		vcpu[i] = vm_vcpu_create(vm, i);
		vcpu_setup(vcpu[i], guest_counter_pair, 0);
	}
	/* set after both exist: it must reach each at its next entry */
	ASSERT_EQ(0, __vm_get_counter_offset(vm, &off0));
	g_offset = off0 - 12345678;
	ASSERT_EQ(0, __vm_set_counter_offset(vm, g_offset));
	for (i = 0; i < 2; i++)
		runner_start(_metadata, &r[i], vcpu[i], i % (ncpus > 0 ? ncpus : 1), 1);
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(runner_wait(&r[i], 1, 10))
			TH_LOG("vCPU %d did not finish within 10 s", i);
		pthread_join(r[i].th, NULL);
		runner_expect(_metadata, &r[i], 0, UCALL_DONE);
	}
	TH_LOG("%llu and %llu samples on CPUs 0 and %ld",
	       (unsigned long long)pair_samples[0],
	       (unsigned long long)pair_samples[1], 1 % (ncpus > 0 ? ncpus : 1));
	EXPECT_GT(pair_samples[0], 0);
	EXPECT_GT(pair_samples[1], 0);
	vm_free(vm);
}

/*
 * The host's timers while a guest holds its own: phase 1 the virtual
 * timer expired (its PPI pending, masked at PSTATE.I) and the physical
 * one 30 s away; phase 2 the other way round. The guest spins through
 * each phase until the host says.
 */
static volatile uint64_t host_phase;
static volatile uint64_t guest_spins;

static void guest_hold_timers(void)
{
	uint64_t freq = read_cntfrq();

	gic_cpu_init();
	local_irq_disable();
	timer_set_cval(TIMER_VIRT, timer_count(TIMER_VIRT) - 1);
	timer_set_ctl(TIMER_VIRT, CNT_CTL_ENABLE);
	timer_set_cval(TIMER_PHYS, timer_count(TIMER_PHYS) + 30 * freq);
	timer_set_ctl(TIMER_PHYS, CNT_CTL_ENABLE);
	GUEST_SYNC(1);
	while (host_phase < 1)
		guest_spins++;

	timer_set_cval(TIMER_VIRT, timer_count(TIMER_VIRT) + 30 * freq);
	timer_set_cval(TIMER_PHYS, timer_count(TIMER_PHYS) - 1);
	GUEST_SYNC(2);
	while (host_phase < 2)
		guest_spins++;

	timer_set_ctl(TIMER_VIRT, 0);
	timer_set_ctl(TIMER_PHYS, 0);
	GUEST_DONE();
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void pin_self(struct __test_metadata *_metadata, long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
}

/*
 * Five 50 ms nanosleeps on each CPU: none may be early, and the median
 * may not be later than 0.5 s. A host whose timers a guest broke sleeps
 * late every time; the emulator of a loaded machine stalls now and then
 * (a second and more, seen on a busy 2-core machine), which the median
 * rides over. With @check false only the figures are logged.
 */
#define NR_SLEEPS	5

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_host_sleeps(struct __test_metadata *_metadata,
			      const char *what, long ncpus, bool check)
{
	struct timespec req = { .tv_nsec = 50 * 1000 * 1000 };
	int64_t t0, dt[NR_SLEEPS];
	cpu_set_t saved;
	long cpu;
	int i;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	for (cpu = 0; cpu < ncpus && cpu < 2; cpu++) {
		pin_self(_metadata, cpu);
		for (i = 0; i < NR_SLEEPS; i++) {
			t0 = mono_ns();
			ASSERT_EQ(0, nanosleep(&req, NULL));
			dt[i] = mono_ns() - t0;
			if (check)
				EXPECT_GE(dt[i], 50 * 1000 * 1000LL)
					TH_LOG("%s: a 50 ms nanosleep on CPU %ld took %.3f ms; expected at least 50 ms",
					       what, cpu, dt[i] / 1e6);
		}
		qsort(dt, NR_SLEEPS, sizeof(dt[0]), cmp_i64);
		if (check)
			EXPECT_LE(dt[NR_SLEEPS / 2], 500 * 1000 * 1000LL)
				TH_LOG("%s: 50 ms nanosleeps on CPU %ld took %.3f ms (median); expected at most 500 ms",
				       what, cpu, dt[NR_SLEEPS / 2] / 1e6);
		TH_LOG("%s: 50 ms host sleeps on CPU %ld: %.3f / %.3f / %.3f ms (min / median / max)",
		       what, cpu, dt[0] / 1e6, dt[NR_SLEEPS / 2] / 1e6,
		       dt[NR_SLEEPS - 1] / 1e6);
	}
	/* threads started later must be free to BIND anywhere */
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(saved), &saved));
}

static void host_timers_scenario(struct __test_metadata *_metadata,
				 uint64_t flags, long ncpus)
{
	const char *mode = flags ? "passthrough physical timer" : "emulated physical timer";
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct runner r;
	char what[128];
	uint64_t spins;
	int phase;

	host_phase = 0;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	ASSERT_EQ(0, __vcpu_setup(vcpu, guest_hold_timers, flags));
	runner_start(_metadata, &r, vcpu, 0, 3);	/* the vCPU on CPU 0 */

	for (phase = 1; phase <= 2; phase++) {
		ASSERT_TRUE(runner_wait(&r, phase, 10))
			TH_LOG("%s: no SYNC %d within 10 s", mode, phase);
		runner_expect(_metadata, &r, phase - 1, UCALL_SYNC);
		ASSERT_EQ(phase, r.uc[phase - 1].args[0]);
		guest_spins = 0;
		r.go = phase + 1;
		ASSERT_TRUE(wait_state(vcpu, AVCPU_STATE_RUNNING, 10));
		while (!guest_spins)
			usleep(1000);
		snprintf(what, sizeof(what), "%s, %s", mode,
			 phase == 1 ? "virtual timer expired and masked, physical 30 s away" :
				      "physical timer expired and masked, virtual 30 s away");
		spins = guest_spins;
		check_host_sleeps(_metadata, what, ncpus, true);
		EXPECT_GT(guest_spins, spins)
			TH_LOG("%s: the guest made no progress; expected it to keep running", what);
		EXPECT_EQ(AVCPU_STATE_RUNNING, vcpu_get_state(vcpu))
			TH_LOG("%s: expected the vCPU still RUNNING", what);
		host_phase = phase;
	}
	ASSERT_TRUE(runner_wait(&r, 3, 10)) TH_LOG("%s: no DONE within 10 s", mode);
	pthread_join(r.th, NULL);
	runner_expect(_metadata, &r, 2, UCALL_DONE);
	vm_free(vm);
}

TEST(host_timers_unaffected)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	AVCPU_REQUIRE_IRQ();
	ASSERT_GT(ncpus, 0);
	/* the same without a guest, for comparison */
	check_host_sleeps(_metadata, "no guest", ncpus, false);
	host_timers_scenario(_metadata, 0, ncpus);
	ret = passthrough_setup_ret();
	if (ret == -EOPNOTSUPP) {
		TH_LOG("no passthrough physical timer on this host: that scenario skipped");
		return;
	}
	ASSERT_EQ(0, ret);
	host_timers_scenario(_metadata, AVCPU_SETUP_PASSTHROUGH_TIMER, ncpus);
}

TEST_HARNESS_MAIN
