// SPDX-License-Identifier: GPL-2.0
/*
 * IPI stress: two vCPUs of one guest bounce SGIs, vCPU 0 sends SGI PING to
 * vCPU 1, which answers with SGI PONG, round after round, each side asleep
 * in WFI between its SGIs. Through the VMM (SEND_IPI exits, INJECT_IRQ on
 * the target from the sender's thread) and through the kernel
 * (AVCPU_VM_CAP_KERNEL_SGI); with the vCPUs on two CPUs, and both on one.
 * Every round trip has a deadline: a lost or late SGI fails the test with
 * the round's number and both vCPUs' view of the SGI.
 *
 * On a GICv2 host an SGI is a write to the distributor's GICD_SGIR: an
 * MMIO exit, which the sender's thread answers with INJECT_IRQ naming the
 * sender as the source, and the receiver checks GICC_IAR.CPUID. There is
 * no in-kernel path for those (the kernel_sgi cases skip).
 *
 * AVCPU_IPI_ROUNDS sets the round trips per case (default IPI_ROUNDS,
 * divided by AVCPU_HOST_SLOWDOWN). AVCPU_IPI_WAIT=unmasked makes the guests
 * wait the racy way (see wait_for()), to show what a guest that does so
 * meets: the test then stalls sooner or later, and its report says whether
 * the SGI was lost or taken and slept through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "guest/gic.h"

#define SGI_PING	3
#define SGI_PONG	4
#define IPI_ROUNDS	2000
/* a round trip later than this (guest counter) fails; a stall is caught at */
#define DEADLINE_S	2
#define STALL_S		10

/* Shared with the guests (the same pages); written before they run */
static volatile uint64_t rounds;
static volatile uint64_t deadline_ticks;
static volatile uint64_t unmasked_wait;
/* Written by the guests */
static volatile uint64_t got[2];	/* SGIs each vCPU took */
static volatile uint64_t sent[2];	/* SGIs each vCPU sent */
static volatile uint64_t done_rounds;	/* round trips vCPU 0 completed */
static volatile uint64_t late_round;	/* the first over the deadline, 0: none */
static volatile uint64_t late_ticks;
static volatile uint64_t max_ticks;
static volatile uint64_t bad_intid;
static volatile uint64_t bad_source;	/* GICv2: an SGI not from the peer */

/* GICv2: the distributor avm-style VMMs emulate; its GICD_SGIR exits */
#define GUEST_GICD_SGIR		0xefe00f00ULL

static void ipi_handler(struct ex_regs *regs)
{
	uint64_t me = guest_vcpu_id();
	uint32_t src = !me;
	uint64_t intid = gic_is_v2() ? gic_read_iar_src(&src) : gic_read_iar();

	if (intid < 16 && src != !me)
		bad_source = src + 1;
	if (intid == (me ? SGI_PING : SGI_PONG))
		got[me]++;
	else if (intid < 1020)
		bad_intid = intid;
	if (intid < 1020)
		gic_write_eoir(intid);
}

static void send_sgi(uint64_t intid, uint64_t target)
{
	if (gic_is_v2()) {
		/* GICD_SGIR: TargetListFilter 0, CPUTargetList[23:16], INTID */
		*(volatile uint32_t *)GUEST_GICD_SGIR = (uint32_t)((1UL << (16 + target)) | intid);
		return;
	}
	/* ICC_SGI1R_EL1: INTID[27:24], TargetList[15:0] (Aff0 = vcpu_id) */
	write_sysreg((intid << 24) | (1UL << target), ICC_SGI1R_EL1);
	isb();
}

/*
 * Sleep until this vCPU has taken @n SGIs. Interrupts are masked around
 * the test and the WFI (a pending one still ends it, D1.16.2), so one that
 * comes between the two is not slept through.
 */
static void wait_for(uint64_t me, uint64_t n)
{
	/*
	 * The racy way, on request only: an SGI taken between the test and
	 * the WFI leaves the WFI nothing to wake it, and the vCPU sleeps
	 * with its SGI already handled.
	 */
	if (unmasked_wait) {
		while (got[me] < n)
			wfi();
		return;
	}
	local_irq_disable();
	while (got[me] < n) {
		wfi();
		local_irq_enable();
		isb();
		local_irq_disable();
	}
	local_irq_enable();
}

static void guest_init(void)
{
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, ipi_handler);
	gic_cpu_init();
	local_irq_enable();
}

static uint64_t cntvct(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static void guest_ping(void)
{
	uint64_t i, t0, dt;

	guest_init();
	for (i = 1; i <= rounds; i++) {
		t0 = cntvct();
		send_sgi(SGI_PING, 1);
		sent[0] = i;
		wait_for(0, i);
		dt = cntvct() - t0;
		if (dt > max_ticks)
			max_ticks = dt;
		if (dt > deadline_ticks && !late_round) {
			late_round = i;
			late_ticks = dt;
		}
		done_rounds = i;
	}
	GUEST_DONE();
}

static void guest_pong(void)
{
	uint64_t i;

	guest_init();
	for (i = 1; i <= rounds; i++) {
		wait_for(1, i);
		send_sgi(SGI_PONG, 0);
		sent[1] = i;
	}
	GUEST_DONE();
}

struct runner {
	struct avcpu_vcpu *self;
	struct avcpu_vcpu *peer;
	int cpu;
	pthread_t th;
	int ret;
	uint64_t cmd;
	uint32_t exit_reason;
	uint64_t send_ipis;
	volatile int done;
};

static void on_signal(int sig)
{
}

static void *runner_fn(void *p)
{
	struct runner *r = p;
	struct avcpu_run *run = r->self->run;

	r->ret = __vcpu_bind(r->self, r->cpu);
	while (!r->ret) {
		r->ret = __vcpu_run(r->self);
		if (r->ret)
			break;
		r->exit_reason = run->exit_reason;
		if (run->exit_reason == AVCPU_EXIT_SEND_IPI) {
			/* the VMM's part: the SGI, raised in its one target */
			r->send_ipis++;
			r->ret = __vcpu_irq_line(r->peer, run->send_ipi.intid, 1);
			continue;
		}
		if (run->exit_reason == AVCPU_EXIT_MMIO_WRITE &&
		    run->mmio.addr == GUEST_GICD_SGIR) {
			/* GICv2: its one target is the peer; the source, us */
			r->send_ipis++;
			r->ret = __vcpu_inject_sgi(r->peer, run->mmio.data & 0xf, r->self->id);
			continue;
		}
		r->cmd = get_ucall(r->self, NULL);
		break;
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static uint64_t rounds_wanted(void)
{
	const char *s = getenv("AVCPU_IPI_ROUNDS");

	return s && atol(s) > 0 ? (uint64_t)atol(s) : IPI_ROUNDS / (uint64_t)avcpu_host_slowdown();
}

static uint64_t cntfrq(void)
{
	uint64_t f;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

/* Two vCPUs ping-pong SGIs: @kernel_sgi, on CPUs @cpu0 and @cpu1 */
static void ping_pong(struct __test_metadata *_metadata, bool kernel_sgi,
		      int cpu0, int cpu1)
{
	struct avcpu_enable_cap cap = { .cap = AVCPU_VM_CAP_KERNEL_SGI };
	struct runner r[2] = { { .cpu = cpu0 }, { .cpu = cpu1 } };
	uint64_t last = 0, want = rounds_wanted();
	struct sigaction sa = { .sa_handler = on_signal };
	double t0, progress;
	struct avcpu_stats st;
	struct avcpu_vm *vm;
	int i;

	AVCPU_REQUIRE_IRQ();
	if (kernel_sgi)
		AVCPU_REQUIRE_GICV3("an in-kernel SGI (AVCPU_VM_CAP_KERNEL_SGI)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 && cpu0 != cpu1)
		SKIP(return, "one CPU online: the two-CPU case needs two");
	sigaction(SIGUSR1, &sa, NULL);
	rounds = want;
	unmasked_wait = getenv("AVCPU_IPI_WAIT") &&
			!strcmp(getenv("AVCPU_IPI_WAIT"), "unmasked");
	if (unmasked_wait)
		printf("# the guests wait with interrupts unmasked (AVCPU_IPI_WAIT=unmasked)\n");
	deadline_ticks = DEADLINE_S * cntfrq();
	got[0] = got[1] = sent[0] = sent[1] = 0;
	done_rounds = late_round = late_ticks = max_ticks = bad_intid = 0;
	bad_source = 0;

	vm = vm_create();
	if (kernel_sgi)
		ASSERT_EQ(0, ioctl(vm->fd, AVCPU_ENABLE_CAP, &cap));
	r[0].self = vm_vcpu_create(vm, 0);
	r[1].self = vm_vcpu_create(vm, 1);
	vcpu_setup(r[0].self, guest_ping, 0);
	vcpu_setup(r[1].self, guest_pong, 0);
	r[0].peer = r[1].self;
	r[1].peer = r[0].self;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, runner_fn, &r[i]));

	/* a watchdog on the round trips: progress, or a stall to report */
	t0 = progress = avcpu_now();
	while (!__atomic_load_n(&r[0].done, __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&r[1].done, __ATOMIC_ACQUIRE)) {
		usleep(50000);
		if (done_rounds != last) {
			last = done_rounds;
			progress = avcpu_now();
		} else if (avcpu_now() - progress > STALL_S) {
			break;
		}
	}
	if (!r[0].done || !r[1].done) {
		uint64_t p1 = vcpu_get_irq(r[1].self, SGI_PING, NULL);
		uint64_t p0 = vcpu_get_irq(r[0].self, SGI_PONG, NULL);
		uint64_t round = done_rounds + 1;

		TH_LOG("stalled in round trip %llu of %llu: vCPU 0 took %llu PONGs (PONG %s%s), vCPU 1 took %llu PINGs (PING %s%s); states %d, %d",
		       (unsigned long long)round, (unsigned long long)want,
		       (unsigned long long)got[0],
		       p0 & AVCPU_IRQ_PENDING ? "pending " : "",
		       p0 & AVCPU_IRQ_ACTIVE ? "active" : "",
		       (unsigned long long)got[1],
		       p1 & AVCPU_IRQ_PENDING ? "pending " : "",
		       p1 & AVCPU_IRQ_ACTIVE ? "active" : "",
		       vcpu_get_state(r[0].self), vcpu_get_state(r[1].self));
		/* which side, and lost, undelivered or slept through */
		for (i = 0; i < 2; i++) {
			uint64_t pend = i ? p1 : p0;

			if (got[i] >= round) {
				/* vCPU 1 is done with the round once it answered */
				if (i == 0 || sent[1] < round)
					TH_LOG("vCPU %d took its SGI of round %llu and sleeps anyway: slept through, not lost",
					       i, (unsigned long long)round);
			} else if (sent[!i] >= round) {
				TH_LOG("vCPU %d's SGI of round %llu was sent and %s",
				       i, (unsigned long long)round,
				       pend & AVCPU_IRQ_PENDING ?
				       "is pending, never delivered" : "is gone: lost");
			}
		}
		/* stop both: a signal ends a RUN, even one asleep in WFI */
		while (!r[0].done || !r[1].done) {
			for (i = 0; i < 2; i++)
				if (!r[i].done)
					pthread_kill(r[i].th, SIGUSR1);
			usleep(20000);
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(r[i].th, NULL);
	printf("# %s, vCPUs on CPUs %d and %d: %llu round trips in %.1f s, slowest %llu us\n",
	       kernel_sgi ? "in-kernel SGIs" : "SEND_IPI through the VMM", cpu0, cpu1,
	       (unsigned long long)done_rounds, avcpu_now() - t0,
	       (unsigned long long)(max_ticks * 1000000 / cntfrq()));
	EXPECT_EQ(want, done_rounds);
	EXPECT_EQ(0, late_round) TH_LOG("round trip %llu took %llu us (deadline %d s)",
					(unsigned long long)late_round,
					(unsigned long long)(late_ticks * 1000000 / cntfrq()),
					DEADLINE_S);
	EXPECT_EQ(0, bad_intid);
	EXPECT_EQ(0, bad_source) TH_LOG("an SGI came from CPU %llu, not the peer",
					(unsigned long long)bad_source - 1);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, r[i].ret) TH_LOG("vCPU %d: %s", i, strerror(-r[i].ret));
		EXPECT_EQ(UCALL_DONE, r[i].cmd) TH_LOG("vCPU %d ended with %s", i,
						       exit_reason_str(r[i].exit_reason));
		EXPECT_EQ(kernel_sgi ? 0 : want, r[i].send_ipis);
	}
	EXPECT_EQ(want, got[0]);
	EXPECT_EQ(want, got[1]);
	memset(&st, 0, sizeof(st));
	EXPECT_EQ(0, ioctl(vm->fd, AVCPU_GET_STATS, &st));
	EXPECT_EQ(kernel_sgi ? 2 * want : 0, st.kernel_sgis);
	vm_free(vm);
}

/* each case may take minutes under emulation: the harness's 30 s is not enough */
FIXTURE(ipi) {};
FIXTURE_SETUP(ipi) {}
FIXTURE_TEARDOWN(ipi) {}

TEST_F_TIMEOUT(ipi, vmm_sgi_two_cpus, 4 * 3600)
{
	ping_pong(_metadata, false, 0, 1);
}

TEST_F_TIMEOUT(ipi, vmm_sgi_one_cpu, 4 * 3600)
{
	ping_pong(_metadata, false, 0, 0);
}

TEST_F_TIMEOUT(ipi, kernel_sgi_two_cpus, 4 * 3600)
{
	ping_pong(_metadata, true, 0, 1);
}

TEST_F_TIMEOUT(ipi, kernel_sgi_one_cpu, 4 * 3600)
{
	ping_pong(_metadata, true, 0, 0);
}

TEST_HARNESS_MAIN
