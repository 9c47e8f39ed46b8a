// SPDX-License-Identifier: GPL-2.0
/*
 * Host wake-up latency while guests run (a small cyclictest): a SCHED_FIFO
 * thread pinned to one CPU sleeps to absolute 1 ms deadlines and notes how
 * late it woke, first with no guest, then while a vCPU bound to a CPU
 * exits at full rate: MMIO stores to an unmapped address (an MMIO_WRITE
 * exit the vCPU thread answers by running again) interleaved with
 * PSCI_VERSION HVCs (answered in the kernel, never leaving RUN).
 *
 *   housekeeping_cpu: the thread on CPU 0, the guest on CPU 1: what a
 *                     guest costs the CPUs it does not run on.
 *   guest_cpu:        the thread and the guest both on CPU 1: how fast
 *                     the host takes the CPU back from a guest (the guest
 *                     leaves on the host's timer interrupt and RUN must
 *                     reschedule before it enters the guest again).
 *
 * The figures are printed, one line per measurement, for the record
 * ("# latency cpuN ..."). On an emulated host they are mostly the
 * emulator's, so the test checks only what any host must meet: every
 * measurement got all its samples in time, the guest exited at a
 * sustained rate while measured, and wake-ups were not late the way a
 * bug would make them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define PSCI_VERSION	0x84000000UL
#define MMIO_ADDR	0x90000000UL		/* Device, no memory */

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_USEC	1000LL

#define PERIOD_NS	NSEC_PER_MSEC
#define NR_PERIODS	2000			/* 2 s of samples */
#define RT_PRIO		90

/*
 * A measurement that has not got its samples after 4 times its nominal
 * length is a failure: a host whose measuring thread misses most of its
 * periods is broken, however loaded the emulator.
 */
#define MEASURE_LIMIT_NS	(4LL * NR_PERIODS * PERIOD_NS)

/*
 * What a bug looks like: a guest entry that keeps interrupts masked, or a
 * RUN loop that keeps the CPU from a higher-priority thread, for 100 ms
 * makes most wake-ups late while a guest runs, each by anything up to
 * 100 ms: the 99th percentile near 100 ms. The emulator on a busy 2-core
 * machine makes single wake-ups as late (one QEMU vCPU thread descheduled
 * by the machine: 55 and 74 ms seen, one sample of 2000 each time) but
 * keeps the 99th percentile at a few ms (1.5 to 4 ms on the rig's lanes
 * with another lane running beside them). So the 99th percentile is what
 * is checked, at half the 100 ms; the worst is printed, not checked.
 */
#define P99_BOUND_NS	(50 * NSEC_PER_MSEC)

/*
 * The least number of MMIO exits in each half of a measurement (1 s):
 * the guest must have been running and exiting all along, not started
 * late or stalled. The rig's lanes make 1900 to 3400 a second, with
 * another lane running beside them; a debug kernel (KASAN, lockdep) about
 * 500, and its lanes divide the floor by AVCPU_HOST_SLOWDOWN (4).
 */
#define MIN_EXITS_HALF	500

static uint64_t min_exits_half(bool shared_cpu)
{
	long slow = avcpu_host_slowdown();

	/*
	 * A guest sharing its CPU with the 1 kHz measuring thread gets what
	 * the thread's wake-ups leave, and on a slow host each wake-up costs
	 * that much more: the debug vhe lane's guest made 122 exits a second
	 * there (2021 on the other CPU). The floor still tells a guest that
	 * ran all along from one that stalled.
	 */
	return MIN_EXITS_HALF / (shared_cpu ? slow * slow : slow);
}

/* Shared with the guest (the guest runs the test's own image) */
static volatile uint64_t g_stop;		/* host: leave the loop */
static volatile uint64_t g_hvcs;		/* guest: in-kernel HVCs made */

static uint64_t guest_hvc(uint64_t nr)
{
	register uint64_t x0 asm("x0") = nr;

	asm volatile("hvc #0" : "+r" (x0) : : "x1", "x2", "x3", "memory");
	return x0;
}

/* Exit as often as the host lets it, until the host says stop. */
static void guest_exit_loop(void)
{
	uint64_t ver;

	while (!g_stop) {
		*(volatile uint64_t *)MMIO_ADDR = g_hvcs;
		ver = guest_hvc(PSCI_VERSION);
		__GUEST_ASSERT(ver == 0x10001,
			       "PSCI_VERSION returned 0x%lx; expected 0x10001 (PSCI 1.1)",
			       (unsigned long)ver);
		g_hvcs++;
	}
	GUEST_DONE();
}

/* Host side */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
}

/* The vCPU thread: BIND to @cpu, then RUN until the guest is done. */
struct spinner {
	struct avcpu_vcpu *vcpu;
	uint32_t cpu;
	pthread_t th;
	int bind_ret;
	int ret;			/* of the last RUN */
	uint32_t exit_reason;		/* of the last RUN */
	uint64_t exit_addr;		/* of the last MMIO exit */
	uint64_t cmd;			/* the ucall that ended it */
	struct ucall uc;
	uint64_t exits;			/* MMIO exits to MMIO_ADDR */
	int done;
};

static void *spinner_fn(void *p)
{
	struct spinner *s = p;
	struct avcpu_run *run = s->vcpu->run;

	s->bind_ret = __vcpu_bind(s->vcpu, s->cpu);
	while (!s->bind_ret) {
		s->ret = __vcpu_run(s->vcpu);
		if (s->ret)
			break;
		s->exit_reason = run->exit_reason;
		s->cmd = get_ucall(s->vcpu, &s->uc);
		if (s->cmd != UCALL_NONE)
			break;
		if (run->exit_reason != AVCPU_EXIT_MMIO_WRITE)
			break;
		s->exit_addr = run->mmio.addr;
		if (run->mmio.addr != MMIO_ADDR)
			break;
		__atomic_store_n(&s->exits, s->exits + 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static uint64_t spinner_exits(struct spinner *s)
{
	return __atomic_load_n(&s->exits, __ATOMIC_RELAXED);
}

static bool spinner_done(struct spinner *s)
{
	return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
}

/*
 * A vCPU on @cpu running guest_exit_loop, its thread at the normal
 * priority (created before this thread turns SCHED_FIFO, it inherits
 * SCHED_OTHER); returns once the guest made its first exit.
 */
static void spinner_start(struct __test_metadata *_metadata,
			  struct spinner *s, struct avcpu_vm *vm, uint32_t cpu)
{
	double t0 = avcpu_now();

	memset(s, 0, sizeof(*s));
	g_stop = 0;
	g_hvcs = 0;
	s->vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(s->vcpu, guest_exit_loop, 0);
	s->cpu = cpu;
	ASSERT_EQ(0, pthread_create(&s->th, NULL, spinner_fn, s));
	while (!spinner_exits(s) && !spinner_done(s) && avcpu_now() - t0 < 10)
		usleep(1000);
	ASSERT_NE(0, spinner_exits(s))
		TH_LOG("no MMIO exit within 10 s of starting the vCPU on CPU %u (BIND %s, RUN %s, exit %s); expected the guest to exit at once",
		       cpu, strerror(-s->bind_ret), strerror(-s->ret),
		       exit_reason_str(s->exit_reason));
}

/* Tell the guest to stop and check that it ended with GUEST_DONE. */
static void spinner_stop(struct __test_metadata *_metadata, struct spinner *s)
{
	double t0 = avcpu_now();

	g_stop = 1;
	while (!spinner_done(s) && avcpu_now() - t0 < 10)
		usleep(1000);
	ASSERT_TRUE(spinner_done(s))
		TH_LOG("the vCPU thread still in RUN 10 s after the guest was told to stop");
	pthread_join(s->th, NULL);
	ASSERT_EQ(0, s->bind_ret) TH_LOG("BIND to CPU %u: %s", s->cpu,
					 strerror(-s->bind_ret));
	if (s->cmd != UCALL_DONE && s->cmd != UCALL_NONE)
		ucall_dump(stderr, &s->uc);
	ASSERT_EQ(UCALL_DONE, s->cmd)
		TH_LOG("the vCPU's RUN loop ended with ret %d (%s), exit %s (address 0x%llx), ucall %s; expected MMIO_WRITE exits to 0x%lx, then DONE",
		       s->ret, s->ret ? strerror(-s->ret) : "ok",
		       exit_reason_str(s->exit_reason),
		       (unsigned long long)s->exit_addr,
		       ucall_cmd_str(s->cmd), MMIO_ADDR);
}

struct latency {
	int64_t max_ns;
	int64_t sum_ns;
	int64_t p99_ns;
	unsigned int samples;
	unsigned int over_1ms;
	int64_t wall_ns;	/* the whole measurement */
	uint64_t exits[3];	/* the guest's at the start, half-way, the end */
	uint64_t hvcs;		/* in-kernel HVCs during the measurement */
};

/* Every sample of one measurement, for the percentile */
static int64_t lat_ns[NR_PERIODS];

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void pin_self(struct __test_metadata *_metadata, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set))
		TH_LOG("pinning to CPU %d: %s", cpu, strerror(errno));
}

static int set_fifo(bool on)
{
	struct sched_param sp = { .sched_priority = on ? RT_PRIO : 0 };

	return sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &sp);
}

/*
 * NR_PERIODS wake-ups of this thread, SCHED_FIFO on @cpu, each at the next
 * 1 ms deadline: the latency is the time it woke minus the deadline. A
 * wake-up later than the next deadline skips the deadlines it missed (as
 * cyclictest does), so that one stall makes one late sample. With @s, the
 * guest's exit count is read at the start, half-way and at the end.
 */
static void measure(struct __test_metadata *_metadata, int cpu,
		    struct spinner *s, struct latency *l)
{
	struct timespec ts;
	int64_t start, next, now, lat;
	uint64_t hvcs = g_hvcs;
	cpu_set_t saved;
	int ret;

	memset(l, 0, sizeof(*l));
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	pin_self(_metadata, cpu);
	ASSERT_EQ(0, set_fifo(true)) TH_LOG("SCHED_FIFO: %s", strerror(errno));

	if (s)
		l->exits[0] = spinner_exits(s);
	start = mono_ns();
	now = start;
	next = start + PERIOD_NS;
	while (l->samples < NR_PERIODS) {
		ns_to_ts(next, &ts);
		ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		now = mono_ns();
		if (ret)
			break;
		lat = now - next;
		if (lat > l->max_ns)
			l->max_ns = lat;
		l->sum_ns += lat;
		if (lat > NSEC_PER_MSEC)
			l->over_1ms++;
		lat_ns[l->samples++] = lat;
		if (s && l->samples == NR_PERIODS / 2)
			l->exits[1] = spinner_exits(s);
		if (now - start > MEASURE_LIMIT_NS)
			break;
		do
			next += PERIOD_NS;
		while (next <= now);
	}
	l->wall_ns = now - start;
	if (s) {
		l->exits[2] = spinner_exits(s);
		l->hvcs = g_hvcs - hvcs;
	}

	ASSERT_EQ(0, set_fifo(false));
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(saved), &saved));
	ASSERT_EQ(0, ret) TH_LOG("clock_nanosleep: %s", strerror(ret));
	qsort(lat_ns, l->samples, sizeof(lat_ns[0]), cmp_i64);
	l->p99_ns = l->samples ? lat_ns[l->samples * 99 / 100] : 0;
}

/*
 * One grep-able line per measurement:
 * "# latency cpu0 idle: max 123 us avg 45 us p99 67 us over 1 ms: 0 (2000 samples in 2010 ms)"
 */
static void print_latency(const char *what, const struct latency *l,
			  const char *extra)
{
	ksft_print_msg("latency %s: max %lld us avg %lld us p99 %lld us over 1 ms: %u (%u samples in %lld ms)%s\n",
		       what, (long long)(l->max_ns / NSEC_PER_USEC),
		       (long long)(l->samples ?
				   l->sum_ns / l->samples / NSEC_PER_USEC : 0),
		       (long long)(l->p99_ns / NSEC_PER_USEC),
		       l->over_1ms, l->samples,
		       (long long)(l->wall_ns / NSEC_PER_MSEC), extra);
	/* the test child leaves by _exit(): nothing may stay buffered */
	fflush(stdout);
}

static void expect_samples(struct __test_metadata *_metadata,
			   const char *what, const struct latency *l)
{
	EXPECT_EQ(NR_PERIODS, l->samples)
		TH_LOG("%s: %u of %d samples in %lld ms; expected all within %lld ms",
		       what, l->samples, NR_PERIODS,
		       (long long)(l->wall_ns / NSEC_PER_MSEC),
		       MEASURE_LIMIT_NS / NSEC_PER_MSEC);
}

/* Measure on @cpu while a guest exits on @guest_cpu, and check. */
static void measure_with_guest(struct __test_metadata *_metadata, int cpu,
			       int guest_cpu)
{
	uint64_t floor = min_exits_half(cpu == guest_cpu);
	uint64_t first, second, exits, rate;
	struct avcpu_vm *vm;
	struct spinner s;
	struct latency l;
	char what[64], extra[128];

	snprintf(what, sizeof(what), "cpu%d guest on cpu%d", cpu, guest_cpu);
	vm = vm_create();
	spinner_start(_metadata, &s, vm, guest_cpu);
	measure(_metadata, cpu, &s, &l);
	spinner_stop(_metadata, &s);
	vm_free(vm);

	first = l.exits[1] - l.exits[0];
	second = l.exits[2] - l.exits[1];
	exits = first + second;
	rate = l.wall_ns ? exits * NSEC_PER_SEC / l.wall_ns : 0;
	snprintf(extra, sizeof(extra),
		 " (guest exits: %llu, %llu/s; in-kernel HVCs: %llu)",
		 (unsigned long long)exits, (unsigned long long)rate,
		 (unsigned long long)l.hvcs);
	print_latency(what, &l, extra);

	expect_samples(_metadata, what, &l);
	EXPECT_GE(first, floor)
		TH_LOG("%s: %llu MMIO exits in the first half of the measurement; expected at least %llu",
		       what, (unsigned long long)first, (unsigned long long)floor);
	EXPECT_GE(second, floor)
		TH_LOG("%s: %llu MMIO exits in the second half of the measurement; expected at least %llu",
		       what, (unsigned long long)second, (unsigned long long)floor);
	EXPECT_LT(l.p99_ns, P99_BOUND_NS)
		TH_LOG("%s: 1%% of the wake-ups %lld us late or more (the worst %lld us); expected the 99th percentile under %lld ms",
		       what, (long long)(l.p99_ns / NSEC_PER_USEC),
		       (long long)(l.max_ns / NSEC_PER_USEC),
		       P99_BOUND_NS / NSEC_PER_MSEC);
}

static void measure_idle(struct __test_metadata *_metadata, int cpu)
{
	struct latency l;
	char what[32];

	snprintf(what, sizeof(what), "cpu%d idle", cpu);
	measure(_metadata, cpu, NULL, &l);
	print_latency(what, &l, "");
	expect_samples(_metadata, what, &l);
}

/*
 * Inside a TEST(): guests, CPUs 0 and 1, and the right to SCHED_FIFO
 * (root, or CAP_SYS_NICE) are needed.
 */
#define REQUIRE_LATENCY_HOST() do {					\
	const char *__lane = getenv("AVCPU_LANE");			\
	cpu_set_t __set;						\
	int __ret;							\
									\
	AVCPU_REQUIRE_RUN();						\
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(__set), &__set));	\
	if (!CPU_ISSET(0, &__set) || !CPU_ISSET(1, &__set))		\
		SKIP(return, "CPUs 0 and 1 are needed (%d CPUs here)",	\
		     CPU_COUNT(&__set));				\
	__ret = set_fifo(true);						\
	if (__ret && errno == EPERM)					\
		SKIP(return, "SCHED_FIFO not permitted (not root?)");	\
	ASSERT_EQ(0, __ret) TH_LOG("SCHED_FIFO: %s", strerror(errno));	\
	ASSERT_EQ(0, set_fifo(false));					\
	if (__lane)							\
		ksft_print_msg("latency lane: %s\n", __lane);		\
} while (0)

/*
 * CPU 0 with no guest, then with a guest exiting on CPU 1: the guest may
 * take CPU 1, not the others.
 */
TEST(housekeeping_cpu)
{
	REQUIRE_LATENCY_HOST();
	measure_idle(_metadata, 0);
	measure_with_guest(_metadata, 0, 1);
}

/*
 * CPU 1 with no guest, then with the guest exiting on CPU 1 itself: the
 * measuring thread's timer interrupt comes while the guest runs, and the
 * host must take the CPU back at once for the higher-priority thread.
 */
TEST(guest_cpu)
{
	REQUIRE_LATENCY_HOST();
	measure_idle(_metadata, 1);
	measure_with_guest(_metadata, 1, 1);
}

TEST_HARNESS_MAIN
