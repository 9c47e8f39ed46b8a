// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt injection (issue 4): INJECT_IRQ, GET_IRQ and SET_IRQ on a vCPU
 * fd, delivered through the GICv3 virtual CPU interface, and the SEND_IPI
 * exit of a guest's SGI register write.
 *
 * Every guest installs the same IRQ handler: it acknowledges with
 * ICC_IAR1_EL1, counts the INTID, logs the acknowledge order (and the value
 * of a counter the guest may be spinning on), and completes with
 * ICC_EOIR1_EL1; for one INTID chosen by the host it first reports with a
 * GUEST_SYNC from inside the handler, so the host sees that interrupt
 * active. The counters are globals the host reads directly. The handler
 * returns with IRQs masked after a chosen number of deliveries of a level
 * line held high, or after too many of any INTID (a storm would otherwise
 * keep the interrupted code from ever running again).
 *
 * Covered: delivery of an SPI, a PPI and an SGI; priority order (and INTID
 * order among equals) with more interrupts pending than list registers;
 * 64 pending at once; level and edge semantics; disabled interrupts and the
 * ACTIVE state; the latency of an injection into a running guest from a
 * second thread; 100 000 injections from two threads; SEND_IPI contents and
 * an IPI from one vCPU to another through the VMM; the interrupt state of
 * a vCPU across UNBIND and BIND to another CPU; bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"
#include "guest/gic.h"
#include "fuzz.h"

/* The guest's limits on waiting, in ms of its own counter */
#define GUEST_WAIT_MS	5000	/* for an interrupt that must come */
#define QUIET_MS	20	/* to see that no other one comes */
/* The host's limit on waiting for the guest */
#define HOST_WAIT_S	5.0

/* GET_IRQ's state bits */
#define IRQ_STATE	(AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE)
#define DEFAULT_PRIORITY 0xa0

/*
 * Shared with the guest
 */
#define NR_TRACKED	AVCPU_DEFAULT_NR_IRQS	/* INTIDs the handler counts */
#define ACK_LOG_SIZE	256
#define NO_INTID	0xffffffffU

static volatile uint32_t irq_count[NR_TRACKED];	/* acknowledged, by INTID */
static volatile uint32_t irq_done[NR_TRACKED];	/* completed (EOIR written) */
static volatile uint64_t last_ack_spin[NR_TRACKED]; /* spin_counter at the last */
static volatile uint32_t ack_log[ACK_LOG_SIZE];	/* INTIDs in acknowledge order */
static volatile uint64_t ack_spin[ACK_LOG_SIZE]; /* spin_counter at each one */
static volatile uint32_t ack_n;			/* acknowledges so far */
static volatile uint32_t bad_intids;		/* spurious, or not counted */
static volatile uint32_t last_bad_intid;
/* The handler GUEST_SYNCs (SYNC_IN_HANDLER) for this INTID before EOI. */
static volatile uint32_t hold_intid = NO_INTID;
static volatile uint64_t hold_rpr[2];		/* ICC_RPR_EL1 before, after */
/*
 * After its mask_after-th delivery, the handler returns from this INTID
 * with PSTATE.I set: a level line held high is taken again right after
 * each ERET, before the interrupted code gets to run one instruction.
 */
static volatile uint32_t mask_intid = NO_INTID;
static volatile uint32_t mask_after;
/*
 * More deliveries of one INTID than storm_limit: the same, so that a
 * kernel that delivers without end fails the test instead of hanging it;
 * storm_intid says which.
 */
#define STORM_LIMIT	1000
static volatile uint32_t storm_limit = STORM_LIMIT;
static volatile uint32_t storm_intid = NO_INTID;
static volatile uint64_t spin_counter;
static volatile uint32_t spin_stop;
static volatile uint32_t expect_acks;		/* for guest_unmask_and_count */

#define SYNC_IN_HANDLER	0x1a1
#define PSTATE_I	(1ULL << 7)

static void guest_irq_handler(struct ex_regs *regs)
{
	uint64_t intid = gic_read_iar();
	uint32_t n = ack_n;

	if (intid >= NR_TRACKED) {
		bad_intids++;
		last_bad_intid = intid;
		/* 1020-1023 are not acknowledges: nothing to complete */
		if (intid < 1020)
			gic_write_eoir(intid);
		return;
	}
	last_ack_spin[intid] = spin_counter;
	if (n < ACK_LOG_SIZE) {
		ack_spin[n] = last_ack_spin[intid];
		ack_log[n] = intid;
	}
	/* the host reads the logs once it sees the counts move */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ack_n = n + 1;
	irq_count[intid]++;
	if (intid == hold_intid) {
		hold_rpr[0] = gic_read_rpr();
		GUEST_SYNC_ARGS(SYNC_IN_HANDLER, intid, 0, 0);
		hold_rpr[1] = gic_read_rpr();
	}
	gic_write_eoir(intid);
	irq_done[intid]++;
	if (intid == mask_intid && irq_count[intid] >= mask_after)
		regs->pstate |= PSTATE_I;
	if (irq_count[intid] > storm_limit) {
		storm_intid = intid;
		regs->pstate |= PSTATE_I;
	}
}

/* The handler and the CPU interface; PSTATE.I is left as it is. */
static void guest_irq_init(void)
{
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, guest_irq_handler);
	gic_cpu_init();
}

static uint64_t guest_ms_to_ticks(uint64_t ms)
{
	return read_cntfrq() / 1000 * ms;
}

static void guest_spin_ms(uint64_t ms)
{
	uint64_t end = read_cntvct() + guest_ms_to_ticks(ms);

	while (read_cntvct() < end)
		;
}

/* Until *@p >= @want or GUEST_WAIT_MS have passed; returns *@p. */
static uint32_t guest_wait(volatile uint32_t *p, uint32_t want)
{
	uint64_t end = read_cntvct() + guest_ms_to_ticks(GUEST_WAIT_MS);

	while (*p < want && read_cntvct() < end)
		;
	return *p;
}

/*
 * Host helpers
 */
static const char *irq_flags_str(uint64_t flags, char *buf, size_t size)
{
	static const char * const names[] = {
		"ENABLED", "GROUP1", "LEVEL", "PENDING", "ACTIVE", "LINE",
	};
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (flags & (1ULL << i))
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "|" : "", names[i]);
	if (!len)
		snprintf(buf, size, "none");
	return buf;
}

/* The PENDING / ACTIVE bits of @intid must be @want. */
static void expect_irq_state(struct __test_metadata *_metadata,
			     struct avcpu_vcpu *vcpu, uint32_t intid,
			     uint64_t want, const char *when)
{
	uint64_t flags = vcpu_get_irq(vcpu, intid, NULL);
	char got_s[64], want_s[64];

	EXPECT_EQ(want, flags & IRQ_STATE)
		TH_LOG("INTID %u %s: expected state %s, GET_IRQ says %s", intid,
		       when, irq_flags_str(want, want_s, sizeof(want_s)),
		       irq_flags_str(flags, got_s, sizeof(got_s)));
}

/* Nothing spurious, no interrupt storm. */
static void expect_clean_deliveries(struct __test_metadata *_metadata)
{
	EXPECT_EQ(0, bad_intids) TH_LOG("expected no spurious INTID (last %u)",
					 last_bad_intid);
	EXPECT_EQ(NO_INTID, storm_intid)
		TH_LOG("INTID %u delivered more than %u times: expected no interrupt storm",
		       storm_intid, storm_limit);
}

static void set_edge(struct avcpu_vcpu *vcpu, uint32_t intid)
{
	vcpu_set_irq(vcpu, intid, AVCPU_IRQ_LEVEL, 0, 0);
}

/* The first CPU in @set other than @cpu, or -1. */
static int other_cpu(const cpu_set_t *set, int cpu)
{
	int i;

	for (i = 0; i < CPU_SETSIZE; i++)
		if (i != cpu && CPU_ISSET(i, set))
			return i;
	return -1;
}

/* Pin the calling thread to @cpu: 0 or -errno. */
static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void reset_guest_counters(void)
{
	memset((void *)irq_count, 0, sizeof(irq_count));
	memset((void *)irq_done, 0, sizeof(irq_done));
	ack_n = 0;
	bad_intids = 0;
	hold_intid = NO_INTID;
	mask_intid = NO_INTID;
	storm_limit = STORM_LIMIT;
	storm_intid = NO_INTID;
	spin_counter = 0;
	spin_stop = 0;
}

/*
 * 1. Delivery: an SPI, a PPI and an SGI, one at a time, injected while the
 * vCPU is stopped; each acknowledged once with its INTID and completed.
 */
#define DELIVERY_SPI	40
#define DELIVERY_PPI	20
#define DELIVERY_SGI	3

static const uint32_t delivery_intids[] = {
	DELIVERY_SPI, DELIVERY_PPI, DELIVERY_SGI,
};

static void guest_delivery(void)
{
	unsigned int i;

	guest_irq_init();
	local_irq_enable();
	for (i = 0; i < ARRAY_SIZE(delivery_intids); i++) {
		uint32_t intid = delivery_intids[i];

		GUEST_SYNC(i);	/* the host injects delivery_intids[i] */
		__GUEST_ASSERT(guest_wait(&irq_done[intid], 1) == 1,
			       "INTID %u completed %u times, expected once",
			       intid, irq_done[intid]);
	}
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_ASSERT_EQ(ack_n, ARRAY_SIZE(delivery_intids));
	GUEST_DONE();
}

TEST(delivery_spi_ppi_sgi)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_IRQ();
	reset_guest_counters();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_delivery);
	set_edge(vcpu, DELIVERY_SPI);
	set_edge(vcpu, DELIVERY_PPI);

	for (i = 0; i < ARRAY_SIZE(delivery_intids); i++) {
		run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
		ASSERT_EQ(i, uc.args[0]);
		expect_irq_state(_metadata, vcpu, delivery_intids[i], 0,
				 "before the injection");
		vcpu_inject_irq(vcpu, delivery_intids[i]);
		expect_irq_state(_metadata, vcpu, delivery_intids[i],
				 AVCPU_IRQ_PENDING, "injected, vCPU stopped");
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);

	for (i = 0; i < ARRAY_SIZE(delivery_intids); i++) {
		uint32_t intid = delivery_intids[i];

		EXPECT_EQ(intid, ack_log[i])
			TH_LOG("acknowledge %u: expected INTID %u", i, intid);
		EXPECT_EQ(1, irq_count[intid])
			TH_LOG("INTID %u: expected one acknowledge", intid);
		expect_irq_state(_metadata, vcpu, intid, 0, "after its EOI");
	}
	expect_clean_deliveries(_metadata);
	vm_free(vm);
}

/*
 * 2, 3. The guest masks PSTATE.I, the host injects, the guest unmasks and
 * takes them all: the order they are acknowledged in is the GIC's.
 */
static void guest_unmask_and_count(void)
{
	guest_irq_init();
	local_irq_disable();
	GUEST_SYNC(0);	/* the host injects */
	GUEST_SYNC(1);	/* once more: now the guest has run with them pending */
	local_irq_enable();
	guest_wait(&ack_n, expect_acks);
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(2, ack_n, bad_intids, 0);
	GUEST_DONE();
}

struct prio_irq {
	uint32_t intid;
	uint8_t priority;
};

/*
 * Injected in this order, lowest priority first: a kernel that queued in
 * injection order would fill the list registers with the wrong ones. Only
 * 5 priority bits exist: every value is a multiple of 8.
 */
static const struct prio_irq prio_irqs[] = {
	{ 40, 0xa0 }, { 7, 0xf0 }, { 42, 0x80 }, { 41, 0x80 },
	{ 22, 0x80 }, { 44, 0x40 }, { 43, 0x20 }, { 45, 0x08 },
};

/* Highest priority (lowest value) first; among equals, lowest INTID. */
static const uint32_t prio_order[] = { 45, 43, 44, 22, 41, 42, 40, 7 };

TEST(priority_order)
{
	const unsigned int n = ARRAY_SIZE(prio_irqs);
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;
	uint8_t prio;

	AVCPU_REQUIRE_IRQ();
	reset_guest_counters();
	expect_acks = n;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_unmask_and_count);
	for (i = 0; i < n; i++) {
		uint32_t intid = prio_irqs[i].intid;

		vcpu_set_irq(vcpu, intid, AVCPU_IRQ_PRIORITY, 0,
			     prio_irqs[i].priority);
		if (intid >= 16)
			set_edge(vcpu, intid);
		vcpu_get_irq(vcpu, intid, &prio);
		EXPECT_EQ(prio_irqs[i].priority, prio)
			TH_LOG("INTID %u: expected GET_IRQ to read back the priority set",
			       intid);
	}

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, uc.args[0]);
	for (i = 0; i < n; i++)
		vcpu_inject_irq(vcpu, prio_irqs[i].intid);

	/* The guest ran with PSTATE.I set: all still pending, none active. */
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(1, uc.args[0]);
	for (i = 0; i < n; i++)
		expect_irq_state(_metadata, vcpu, prio_irqs[i].intid,
				 AVCPU_IRQ_PENDING, "while the guest masks IRQs");

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(2, uc.args[0]);
	EXPECT_EQ(n, uc.args[1]) TH_LOG("expected %u acknowledges", n);
	EXPECT_EQ(0, uc.args[2]) TH_LOG("expected no spurious INTID (last %u)",
					last_bad_intid);
	for (i = 0; i < n && i < ack_n; i++)
		EXPECT_EQ(prio_order[i], ack_log[i])
			TH_LOG("acknowledge %u: expected INTID %u (priority order, then INTID)",
			       i, prio_order[i]);
	for (i = 0; i < n; i++)
		expect_irq_state(_metadata, vcpu, prio_irqs[i].intid, 0,
				 "after the guest took them all");
	expect_clean_deliveries(_metadata);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/* 3. Many: 64 edge SPIs pending at once, more than the list registers. */
#define MANY_FIRST	32
#define MANY_COUNT	64

TEST(many_pending)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_IRQ();
	reset_guest_counters();
	expect_acks = MANY_COUNT;
	vm = vm_create();
	ASSERT_TRUE(vm->caps.flags & AVCPU_CAP_F_NR_LRS)
		TH_LOG("expected the number of list registers to be known where IRQs are injected");
	TH_LOG("nr_lrs %u, %u interrupts pending at once", vm->caps.nr_lrs,
	       MANY_COUNT);
	ASSERT_LT(vm->caps.nr_lrs, MANY_COUNT)
		TH_LOG("expected fewer list registers than pending interrupts");
	vcpu = vm_vcpu_add(vm, 0, guest_unmask_and_count);
	for (i = 0; i < MANY_COUNT; i++)
		set_edge(vcpu, MANY_FIRST + i);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, uc.args[0]);
	for (i = 0; i < MANY_COUNT; i++)
		vcpu_inject_irq(vcpu, MANY_FIRST + i);
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(1, uc.args[0]);
	for (i = 0; i < MANY_COUNT; i++)
		expect_irq_state(_metadata, vcpu, MANY_FIRST + i,
				 AVCPU_IRQ_PENDING, "while the guest masks IRQs");

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(2, uc.args[0]);
	EXPECT_EQ(MANY_COUNT, uc.args[1])
		TH_LOG("expected %u acknowledges in all", MANY_COUNT);
	EXPECT_EQ(0, uc.args[2]) TH_LOG("expected no spurious INTID (last %u)",
					last_bad_intid);
	for (i = 0; i < MANY_COUNT; i++) {
		uint32_t intid = MANY_FIRST + i;

		EXPECT_EQ(1, irq_count[intid])
			TH_LOG("INTID %u: expected exactly one delivery", intid);
		expect_irq_state(_metadata, vcpu, intid, 0, "at the end");
	}
	/* One priority: INTID order */
	for (i = 0; i < MANY_COUNT && i < ack_n; i++)
		EXPECT_EQ(MANY_FIRST + i, ack_log[i])
			TH_LOG("acknowledge %u: expected INTID %u (equal priorities: lowest INTID first)",
			       i, MANY_FIRST + i);
	expect_clean_deliveries(_metadata);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * 4. Level and edge: a level line held high is delivered again after each
 * EOI until lowered, and never after; a level line lowered before the guest
 * takes it is not delivered; an edge raised once is delivered once. The
 * handler masks IRQs after LEVEL_REDELIVERIES deliveries of the level line
 * (an interrupt storm otherwise: the main code would never run again).
 */
#define LEVEL_SPI		50
#define EDGE_SPI		51
#define LEVEL_SPI_DROPPED	52
#define LEVEL_REDELIVERIES	3

static void guest_level_edge(void)
{
	uint32_t before;

	guest_irq_init();
	mask_after = LEVEL_REDELIVERIES;
	mask_intid = LEVEL_SPI;
	local_irq_enable();
	GUEST_SYNC(0);		/* the host raises LEVEL_SPI */
	guest_wait(&irq_done[LEVEL_SPI], LEVEL_REDELIVERIES);
	local_irq_disable();
	/* ... and lowers it; a delivery after that masks IRQs again at once */
	GUEST_SYNC_ARGS(1, irq_count[LEVEL_SPI], 0, 0);

	before = irq_count[LEVEL_SPI];
	local_irq_enable();
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(2, irq_count[LEVEL_SPI] - before, 0, 0);

	/* the host raised and lowered LEVEL_SPI_DROPPED, raised EDGE_SPI */
	local_irq_enable();
	guest_wait(&irq_done[EDGE_SPI], 1);
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(3, irq_count[EDGE_SPI], irq_count[LEVEL_SPI_DROPPED], 0);
	GUEST_DONE();
}

TEST(level_and_edge)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t flags;
	char s[64];

	AVCPU_REQUIRE_IRQ();
	reset_guest_counters();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_level_edge);
	flags = vcpu_get_irq(vcpu, LEVEL_SPI, NULL);
	EXPECT_TRUE(flags & AVCPU_IRQ_LEVEL)
		TH_LOG("expected SPIs level-sensitive by default, flags %s",
		       irq_flags_str(flags, s, sizeof(s)));
	set_edge(vcpu, EDGE_SPI);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, uc.args[0]);
	vcpu_irq_line(vcpu, LEVEL_SPI, 1);
	flags = vcpu_get_irq(vcpu, LEVEL_SPI, NULL);
	EXPECT_EQ(AVCPU_IRQ_LINE | AVCPU_IRQ_PENDING,
		  flags & (AVCPU_IRQ_LINE | IRQ_STATE))
		TH_LOG("raised level line: expected LINE|PENDING, got %s",
		       irq_flags_str(flags, s, sizeof(s)));

	/* Held high: taken again and again. */
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(1, uc.args[0]);
	EXPECT_GE(uc.args[1], LEVEL_REDELIVERIES)
		TH_LOG("expected a level line held high delivered again after each EOI: %llu deliveries in %d ms",
		       (unsigned long long)uc.args[1], GUEST_WAIT_MS);
	flags = vcpu_get_irq(vcpu, LEVEL_SPI, NULL);
	EXPECT_EQ(AVCPU_IRQ_LINE | AVCPU_IRQ_PENDING,
		  flags & (AVCPU_IRQ_LINE | IRQ_STATE))
		TH_LOG("line still high, guest masked: expected LINE|PENDING, got %s",
		       irq_flags_str(flags, s, sizeof(s)));

	vcpu_irq_line(vcpu, LEVEL_SPI, 0);
	flags = vcpu_get_irq(vcpu, LEVEL_SPI, NULL);
	EXPECT_EQ(0, flags & (AVCPU_IRQ_LINE | IRQ_STATE))
		TH_LOG("lowered level line: expected neither LINE nor PENDING, got %s",
		       irq_flags_str(flags, s, sizeof(s)));

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(2, uc.args[0]);
	EXPECT_EQ(0, uc.args[1])
		TH_LOG("expected no delivery after the line was lowered");

	/* Raised and lowered while the guest was out: never pending. */
	vcpu_irq_line(vcpu, LEVEL_SPI_DROPPED, 1);
	vcpu_irq_line(vcpu, LEVEL_SPI_DROPPED, 0);
	expect_irq_state(_metadata, vcpu, LEVEL_SPI_DROPPED, 0,
			 "level raised then lowered");
	vcpu_inject_irq(vcpu, EDGE_SPI);
	expect_irq_state(_metadata, vcpu, EDGE_SPI, AVCPU_IRQ_PENDING,
			 "edge raised");

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(3, uc.args[0]);
	EXPECT_EQ(1, uc.args[1])
		TH_LOG("edge raised once: expected exactly one delivery");
	EXPECT_EQ(0, uc.args[2])
		TH_LOG("level line lowered before the guest ran: expected no delivery");
	expect_irq_state(_metadata, vcpu, EDGE_SPI, 0, "after its delivery");
	expect_clean_deliveries(_metadata);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * 5. A disabled interrupt stays pending and undelivered until enabled; an
 * acknowledged, not yet completed one is ACTIVE (and ACTIVE|PENDING when
 * raised again meanwhile, then delivered a second time).
 */
#define DISABLED_SPI	60
#define HELD_SPI	61

static void guest_disabled_active(void)
{
	guest_irq_init();
	local_irq_enable();
	GUEST_SYNC(0);		/* the host injects DISABLED_SPI, disabled */
	guest_spin_ms(QUIET_MS);
	GUEST_SYNC_ARGS(1, irq_count[DISABLED_SPI], 0, 0);	/* enables it */
	guest_wait(&irq_done[DISABLED_SPI], 1);
	GUEST_SYNC_ARGS(2, irq_count[DISABLED_SPI], 0, 0);	/* HELD_SPI */
	/* the handler syncs from inside, the host raises HELD_SPI again */
	guest_wait(&irq_done[HELD_SPI], 2);
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(3, irq_count[HELD_SPI], irq_done[HELD_SPI], 0);
	GUEST_DONE();
}

TEST(disabled_and_active)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t flags;
	char s[64];

	AVCPU_REQUIRE_IRQ();
	reset_guest_counters();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_disabled_active);
	set_edge(vcpu, DISABLED_SPI);
	set_edge(vcpu, HELD_SPI);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, uc.args[0]);
	vcpu_set_irq(vcpu, DISABLED_SPI, AVCPU_IRQ_ENABLED, 0, 0);
	flags = vcpu_get_irq(vcpu, DISABLED_SPI, NULL);
	EXPECT_FALSE(flags & AVCPU_IRQ_ENABLED)
		TH_LOG("expected ENABLED clear after SET_IRQ, got %s",
		       irq_flags_str(flags, s, sizeof(s)));
	vcpu_inject_irq(vcpu, DISABLED_SPI);
	expect_irq_state(_metadata, vcpu, DISABLED_SPI, AVCPU_IRQ_PENDING,
			 "disabled, injected");

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(1, uc.args[0]);
	EXPECT_EQ(0, uc.args[1])
		TH_LOG("expected a disabled interrupt not delivered");
	expect_irq_state(_metadata, vcpu, DISABLED_SPI, AVCPU_IRQ_PENDING,
			 "disabled, after the guest ran unmasked");

	vcpu_set_irq(vcpu, DISABLED_SPI, AVCPU_IRQ_ENABLED, AVCPU_IRQ_ENABLED, 0);
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(2, uc.args[0]);
	EXPECT_EQ(1, uc.args[1])
		TH_LOG("expected the interrupt delivered once enabled");
	expect_irq_state(_metadata, vcpu, DISABLED_SPI, 0,
			 "enabled and delivered");

	/* Acknowledged, not completed: ACTIVE */
	hold_intid = HELD_SPI;
	vcpu_inject_irq(vcpu, HELD_SPI);
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(SYNC_IN_HANDLER, uc.args[0])
		TH_LOG("expected a ucall from the handler of INTID %u", HELD_SPI);
	ASSERT_EQ(HELD_SPI, uc.args[1]);
	expect_irq_state(_metadata, vcpu, HELD_SPI, AVCPU_IRQ_ACTIVE,
			 "acknowledged, not completed");
	/* Raised again while active: active and pending */
	vcpu_inject_irq(vcpu, HELD_SPI);
	expect_irq_state(_metadata, vcpu, HELD_SPI,
			 AVCPU_IRQ_ACTIVE | AVCPU_IRQ_PENDING,
			 "active and raised again");
	hold_intid = NO_INTID;

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(3, uc.args[0]);
	EXPECT_EQ(2, uc.args[1])
		TH_LOG("raised twice, the second time while active: expected two deliveries");
	EXPECT_EQ(2, uc.args[2]) TH_LOG("expected two completions");
	expect_irq_state(_metadata, vcpu, HELD_SPI, 0, "completed");
	expect_clean_deliveries(_metadata);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * 6. Kick latency: the guest spins incrementing spin_counter with IRQs
 * unmasked; a second host thread on another CPU injects and reads
 * spin_counter as soon as INJECT_IRQ returns; the handler records it at
 * the acknowledge. The difference is the guest's progress between the
 * injection and the delivery (negative: delivered before the host thread
 * got to read). Without a kick the delivery waits for the next exit, the
 * host's timer tick: on average 2 of its 4 ms. Every sample must stay
 * below LATENCY_BOUND_US worth of iterations, at the rate the guest spins
 * (measured first). Host noise can only make a sample smaller: a vCPU
 * whose thread is descheduled does not spin, and an injecting thread
 * descheduled after INJECT_IRQ reads a later count.
 */
#define LATENCY_SPI		70
#define LATENCY_SAMPLES		15
#define LATENCY_BOUND_US	500

static void guest_spin_until_stopped(void)
{
	guest_irq_init();
	local_irq_enable();
	while (!spin_stop)
		spin_counter++;
	local_irq_disable();
	GUEST_DONE();
}

struct latency_ctx {
	struct avcpu_vcpu *vcpu;
	int cpu;		/* the injector's; -1: as created */
	int err;		/* -errno of the failed call, or -ETIMEDOUT */
	const char *failed;	/* what failed */
	double iters_per_ms;
	int64_t lat[LATENCY_SAMPLES];
};

static bool wait_u64_changes(volatile uint64_t *p, uint64_t from)
{
	double end = avcpu_now() + HOST_WAIT_S;

	while (*p == from)
		if (avcpu_now() > end)
			return false;
	return true;
}

static bool wait_u32_above(volatile uint32_t *p, uint32_t than)
{
	double end = avcpu_now() + HOST_WAIT_S;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) <= than)
		if (avcpu_now() > end)
			return false;
	return true;
}

static void *latency_injector(void *arg)
{
	struct latency_ctx *ctx = arg;
	uint64_t c0, c1, at;
	double t0, t1;
	unsigned int k;
	uint32_t n;
	int ret;

	if (ctx->cpu >= 0) {
		ret = pin_self(ctx->cpu);
		if (ret) {
			ctx->err = ret;
			ctx->failed = "sched_setaffinity";
			goto out;
		}
	}
	if (!wait_u64_changes(&spin_counter, 0)) {
		ctx->err = -ETIMEDOUT;
		ctx->failed = "waiting for the guest to spin";
		goto out;
	}
	/* The guest's pace in host time */
	c0 = spin_counter;
	t0 = avcpu_now();
	usleep(100 * 1000);
	c1 = spin_counter;
	t1 = avcpu_now();
	ctx->iters_per_ms = (c1 - c0) / ((t1 - t0) * 1000);

	for (k = 0; k < LATENCY_SAMPLES; k++) {
		
/* 1 to 4.7 ms apart: spread over the phase of the host tick */
		usleep(1000 + (k * 1237) % 3700);
		n = ack_n;
		ret = __vcpu_irq_line(ctx->vcpu, LATENCY_SPI, 1);
		at = spin_counter;
		if (ret) {
			ctx->err = ret;
			ctx->failed = "INJECT_IRQ";
			goto out;
		}
		if (!wait_u32_above(&ack_n, n)) {
			ctx->err = -ETIMEDOUT;
			ctx->failed = "waiting for the delivery";
			goto out;
		}
		ctx->lat[k] = (int64_t)(ack_spin[n] - at);
	}
out:
	spin_stop = 1;
	return NULL;
}

/*
 * Nesting deeper than the list registers: each handler lets the next,
 * higher-priority interrupt preempt it, six deep with 4 LRs, so that some
 * active interrupts have no LR and their completion comes back through
 * ICH_HCR_EL2.EOIcount (GIC architecture, 12.4.7). Every level must be
 * acknowledged once, completed once, innermost first, and nothing may be
 * left active.
 */
#define NEST_LEVELS	6
#define NEST_INTID	100
#define SYNC_NESTED	0x1a2

static const uint8_t nest_priority[NEST_LEVELS] = {
	0xf0, 0xd0, 0xb0, 0x90, 0x70, 0x50,
};
static volatile uint32_t nest_depth, nest_max_depth;
static volatile uint32_t nest_eoi_log[NEST_LEVELS], nest_eoi_n;

static void guest_nest_handler(struct ex_regs *regs)
{
	uint64_t intid = gic_read_iar();

	if (intid < NEST_INTID || intid >= NEST_INTID + NEST_LEVELS) {
		bad_intids++;
		last_bad_intid = intid;
		if (intid < 1020)
			gic_write_eoir(intid);
		return;
	}
	irq_count[intid]++;
	nest_depth++;
	if (nest_depth > nest_max_depth)
		nest_max_depth = nest_depth;
	/*
	 * The host injects the next level now; unmasked, it preempts us at
	 * once (it is in an LR when the guest resumes). No lingering after:
	 * the levels must unwind without an exit in between, so that the
	 * ones left out of the LRs complete through EOIcount.
	 */
	GUEST_SYNC_ARGS(SYNC_NESTED, intid, nest_depth, 0);
	local_irq_enable();
	isb();
	local_irq_disable();
	nest_depth--;
	if (nest_eoi_n < NEST_LEVELS)
		nest_eoi_log[nest_eoi_n] = intid;
	nest_eoi_n++;
	gic_write_eoir(intid);
	irq_done[intid]++;
}

static void guest_nested(void)
{
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, guest_nest_handler);
	gic_cpu_init();
	local_irq_enable();
	while (nest_eoi_n < NEST_LEVELS)
		spin_counter++;
	local_irq_disable();
	/* the running priority is idle again: nothing is left active */
	GUEST_SYNC_ARGS(2, gic_read_rpr(), 0, 0);
	GUEST_DONE();
}

TEST(nested_beyond_list_registers)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int k;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	ASSERT_LT(vm->caps.nr_lrs, NEST_LEVELS)
		TH_LOG("the test needs more nesting levels than list registers");
	nest_depth = nest_max_depth = nest_eoi_n = 0;
	vcpu = vm_vcpu_add(vm, 0, guest_nested);
	for (k = 0; k < NEST_LEVELS; k++)
		vcpu_set_irq(vcpu, NEST_INTID + k,
			     AVCPU_IRQ_LEVEL | AVCPU_IRQ_PRIORITY, 0,
			     nest_priority[k]);

	vcpu_inject_irq(vcpu, NEST_INTID);
	for (k = 0; k < NEST_LEVELS; k++) {
		run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
		ASSERT_EQ(SYNC_NESTED, uc.args[0]);
		EXPECT_EQ(NEST_INTID + k, uc.args[1])
			TH_LOG("level %u: expected the interrupt just injected", k);
		EXPECT_EQ(k + 1, uc.args[2]) TH_LOG("expected nesting depth %u", k + 1);
		if (k + 1 < NEST_LEVELS)
			vcpu_inject_irq(vcpu, NEST_INTID + k + 1);
	}
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(2, uc.args[0]);
	EXPECT_EQ(0xff, uc.args[1] & 0xff)
		TH_LOG("running priority 0x%llx at the end: expected idle (0xff)",
		       (unsigned long long)uc.args[1]);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);

	EXPECT_EQ(NEST_LEVELS, nest_max_depth);
	EXPECT_EQ(NEST_LEVELS, nest_eoi_n);
	for (k = 0; k < NEST_LEVELS; k++) {
		EXPECT_EQ(NEST_INTID + NEST_LEVELS - 1 - k, nest_eoi_log[k])
			TH_LOG("completion %u: expected the innermost first", k);
		EXPECT_EQ(1, irq_count[NEST_INTID + k]);
		EXPECT_EQ(1, irq_done[NEST_INTID + k]);
		expect_irq_state(_metadata, vcpu, NEST_INTID + k, 0, "at the end");
	}
	expect_clean_deliveries(_metadata);
	vm_free(vm);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(kick_latency)
{
	struct latency_ctx ctx = { .cpu = -1 };
	int64_t sorted[LATENCY_SAMPLES], median, bound;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	cpu_set_t allowed;
	pthread_t thread;
	unsigned int i;
	int cpu;

	AVCPU_REQUIRE_IRQ();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	reset_guest_counters();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_spin_until_stopped);
	cpu = sched_getcpu();
	ctx.cpu = other_cpu(&allowed, cpu);
	if (ctx.cpu < 0) {
		vm_free(vm);
		SKIP(return, "needs a second CPU for the injecting thread");
	}
	set_edge(vcpu, LATENCY_SPI);
	ctx.vcpu = vcpu;

	ASSERT_EQ(0, pthread_create(&thread, NULL, latency_injector, &ctx));
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, ctx.err) TH_LOG("injecting thread: %s: %s", ctx.failed,
				     strerror(-ctx.err));

	memcpy(sorted, ctx.lat, sizeof(sorted));
	qsort(sorted, LATENCY_SAMPLES, sizeof(sorted[0]), cmp_i64);
	median = sorted[LATENCY_SAMPLES / 2];
	bound = (int64_t)(ctx.iters_per_ms * LATENCY_BOUND_US / 1000);
	TH_LOG("guest spins %.0f iterations/ms; injection to delivery: median %lld iterations (%.1f us), min %lld, max %lld (%.1f us); bound %lld (%d us); a 4 ms tick: %.0f",
	       ctx.iters_per_ms, (long long)median,
	       median * 1000 / ctx.iters_per_ms, (long long)sorted[0],
	       (long long)sorted[LATENCY_SAMPLES - 1],
	       sorted[LATENCY_SAMPLES - 1] * 1000 / ctx.iters_per_ms,
	       (long long)bound, LATENCY_BOUND_US, ctx.iters_per_ms * 4);
	EXPECT_GT(ctx.iters_per_ms, 0) TH_LOG("expected the guest to make progress");
	for (i = 0; i < LATENCY_SAMPLES; i++) {
		long long lat = ctx.lat[i];

		EXPECT_LT(lat, bound)
			TH_LOG("sample %u: %lld iterations from injection to delivery, expected a running guest kicked at once, not at the host's next tick",
			       i, lat);
	}
	EXPECT_EQ(LATENCY_SAMPLES, irq_count[LATENCY_SPI])
		TH_LOG("expected one delivery per injection");
	expect_clean_deliveries(_metadata);
	vm_free(vm);
}

/*
 * 7. Stress: two host threads inject 50 000 times each, one INTID each,
 * each waiting for the guest to count its previous one before the next
 * (a handshake: no two raises of one edge interrupt can collapse). The
 * guest counts exactly 50 000 of each (divided by AVCPU_HOST_SLOWDOWN, and
 * halved where the host's CPUs share one thread: a handshake costs 0.8 ms
 * there, 0.2 to 0.5 ms with a thread each). Every handshake is also a latency
 * sample as in kick_latency: a kick lost in some race would let the guest
 * spin on with the interrupt pending until its next exit. The wall time
 * depends mostly on how busy the machine running QEMU is.
 */
#define STRESS_SPI_A		80
#define STRESS_SPI_B		81
/*
 * each thread's injections (AVCPU_IRQ_STRESS says otherwise: the rig's
 * short lanes), divided by a slow host's slowdown (and 2)
 */
#define STRESS_PER_THREAD	50000
static volatile uint32_t stress_per_thread = STRESS_PER_THREAD;
/*
 * A handshake is "slow" when the guest spun more than this between the
 * injection and its delivery: about 0.2 ms at the ~300 000 iterations/ms
 * kick_latency measures on the rig, against a few for a kicked vCPU and
 * up to a whole 4 ms tick for one that is not.
 */
#define STRESS_SLOW_ITERS	60000

static volatile uint32_t stress_abort;

static void guest_stress(void)
{
	guest_irq_init();
	local_irq_enable();
	/*
	 * Spin a little, then wait in WFI: injections meet both a running
	 * guest (kicked out by an IPI) and a sleeping one (woken), and the
	 * idle guest leaves the QEMU host's CPUs to the injecting threads.
	 */
	while ((irq_done[STRESS_SPI_A] < stress_per_thread ||
		irq_done[STRESS_SPI_B] < stress_per_thread) && !stress_abort) {
		spin_counter++;
		if (!(spin_counter % 256))
			wfi();
	}
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_DONE();
}

struct stress_ctx {
	struct avcpu_vcpu *vcpu;
	uint32_t intid;
	int cpu;
	int err;
	const char *failed;
	uint32_t at;		/* the injection that failed */
	uint32_t extra;		/* times the count ran ahead of injections */
	/* guest iterations from INJECT_IRQ's return to the acknowledge */
	int64_t max_lat;
	uint32_t slow;		/* handshakes above STRESS_SLOW_ITERS */
};

static void *stress_injector(void *arg)
{
	struct stress_ctx *ctx = arg;
	volatile uint32_t *count = &irq_count[ctx->intid];
	uint32_t i, spins, polls = avcpu_host_one_thread() ? 0 : 64;
	double end;
	int ret;

	if (ctx->cpu >= 0) {
		ret = pin_self(ctx->cpu);
		if (ret) {
			ctx->err = ret;
			ctx->failed = "sched_setaffinity";
			goto out;
		}
	}
	for (i = 1; i <= stress_per_thread && !stress_abort; i++) {
		uint64_t at_spin;
		int64_t lat;

		ret = __vcpu_irq_line(ctx->vcpu, ctx->intid, 1);
		at_spin = spin_counter;
		if (ret) {
			ctx->err = ret;
			ctx->failed = "INJECT_IRQ";
			ctx->at = i;
			goto out;
		}
		end = 0;
		for (spins = 0; __atomic_load_n(count, __ATOMIC_ACQUIRE) < i;
		     spins++) {
			/*
			 * Poll briefly, then sleep: a CPU of the QEMU host
			 * that idles frees a real core for the one running
			 * the guest. Where the host's CPUs share one thread,
			 * sleep at once: a yield to the other injector keeps
			 * the thread busy (2.8 ms a handshake, not 0.6).
			 */
			if (spins < polls) {
				sched_yield();
			} else {
				struct timespec ts = { 0, 20000 };

				nanosleep(&ts, NULL);
			}
			if (spins % 256)
				continue;
			if (!end) {
				end = avcpu_now() + HOST_WAIT_S;
			} else if (avcpu_now() > end) {
				ctx->err = -ETIMEDOUT;
				ctx->failed = "waiting for the guest to count the injection";
				ctx->at = i;
				goto out;
			}
		}
		if (*count > i)
			ctx->extra++;
		lat = (int64_t)(last_ack_spin[ctx->intid] - at_spin);
		if (lat > ctx->max_lat)
			ctx->max_lat = lat;
		if (lat > STRESS_SLOW_ITERS)
			ctx->slow++;
	}
	return NULL;
out:
	stress_abort = 1;
	return NULL;
}

FIXTURE(irq) {
};

FIXTURE_SETUP(irq)
{
}

FIXTURE_TEARDOWN(irq)
{
}

TEST_F_TIMEOUT(irq, stress_two_threads, 300)
{
	struct stress_ctx ctx[2] = {
		{ .intid = STRESS_SPI_A },
		{ .intid = STRESS_SPI_B },
	};
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	pthread_t thread[2];
	cpu_set_t allowed;
	int cpu, other, i;
	double t0, t1;

	AVCPU_REQUIRE_IRQ();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	reset_guest_counters();
	stress_per_thread = fuzz_env("AVCPU_IRQ_STRESS", STRESS_PER_THREAD) /
			    avcpu_host_slowdown() /
			    (avcpu_host_one_thread() ? 2 : 1);
	/* a stress of no injections would pass without running */
	ASSERT_LT(0, stress_per_thread)
		TH_LOG("AVCPU_IRQ_STRESS leaves no injection after the divisions");
	storm_limit = stress_per_thread;
	stress_abort = 0;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_stress);
	cpu = sched_getcpu();
	other = other_cpu(&allowed, cpu);
	if (other < 0) {
		vm_free(vm);
		SKIP(return, "needs a second CPU for the injecting threads");
	}
	set_edge(vcpu, STRESS_SPI_A);
	set_edge(vcpu, STRESS_SPI_B);

	t0 = avcpu_now();
	for (i = 0; i < 2; i++) {
		ctx[i].vcpu = vcpu;
		ctx[i].cpu = other;
		ASSERT_EQ(0, pthread_create(&thread[i], NULL, stress_injector,
					    &ctx[i]));
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(thread[i], NULL));
	t1 = avcpu_now();

	TH_LOG("%u injections from two threads (CPU %d) into a vCPU on CPU %d: %.2f s, %.1f us per handshake",
	       2 * stress_per_thread, other, cpu, t1 - t0,
	       (t1 - t0) * 1e6 / stress_per_thread);
	for (i = 0; i < 2; i++)
		TH_LOG("INTID %u: guest iterations from injection to delivery: max %lld; %u of %u handshakes above %u",
		       ctx[i].intid, (long long)ctx[i].max_lat, ctx[i].slow,
		       stress_per_thread, STRESS_SLOW_ITERS);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, ctx[i].err)
			TH_LOG("INTID %u: injection %u: %s: %s (guest count %u)",
			       ctx[i].intid, ctx[i].at, ctx[i].failed,
			       strerror(-ctx[i].err), irq_count[ctx[i].intid]);
		EXPECT_EQ(stress_per_thread, irq_count[ctx[i].intid])
			TH_LOG("INTID %u: expected exactly one delivery per injection",
			       ctx[i].intid);
		EXPECT_EQ(stress_per_thread, irq_done[ctx[i].intid])
			TH_LOG("INTID %u: expected every delivery completed",
			       ctx[i].intid);
		EXPECT_EQ(0, ctx[i].extra)
			TH_LOG("INTID %u: expected the count never ahead of the injections",
			       ctx[i].intid);
		EXPECT_EQ(0, ctx[i].slow)
			TH_LOG("INTID %u: expected every injection delivered to the running guest at once",
			       ctx[i].intid);
		expect_irq_state(_metadata, vcpu, ctx[i].intid, 0, "at the end");
	}
	expect_clean_deliveries(_metadata);
	vm_free(vm);
}

/*
 * 8. SEND_IPI: what the exit says for each kind of SGI register write, in
 * a VM whose vCPUs have the MPIDRs 0x0, 0x1, 0x100 and 0x10100 (vCPU 0
 * sends); then an IPI delivered end to end through the VMM.
 */
#define SGI_REG_SGI1R	0
#define SGI_REG_SGI0R	1
#define SGI_REG_ASGI1R	2

/* ICC_SGI1R_EL1 / ICC_SGI0R_EL1 / ICC_ASGI1R_EL1 fields (GICv3, 12.2) */
#define SGIR(aff3, aff2, aff1, rs, list, intid, irm)			\
	(((uint64_t)(aff3) << 48) | ((uint64_t)(rs) << 44) |		\
	 ((uint64_t)(irm) << 40) | ((uint64_t)(aff2) << 32) |		\
	 ((uint64_t)(intid) << 24) | ((uint64_t)(aff1) << 16) |		\
	 (uint64_t)(list))
/* run->send_ipi.aff: the affinity fields at their MPIDR positions */
#define MPIDR_AFF(aff3, aff2, aff1)					\
	(((uint64_t)(aff3) << 32) | ((uint64_t)(aff2) << 16) |		\
	 ((uint64_t)(aff1) << 8))
#define MPIDR_RES1	(1ULL << 31)

static const uint64_t ipi_mpidrs[] = { 0x0, 0x1, 0x100, 0x10100 };

struct sgi_case {
	const char *what;
	unsigned int reg;	/* SGI_REG_* */
	uint64_t value;
	/* run->send_ipi expected */
	uint64_t targets;
	uint64_t aff;
	uint16_t target_list;
	uint8_t rs;
	uint8_t intid;
	uint64_t flags;
};

static const struct sgi_case sgi_cases[] = {
	{ "Aff 0.0.0, list {0, 1}", SGI_REG_SGI1R,
	  SGIR(0, 0, 0, 0, 0x3, 1, 0), 0x3, MPIDR_AFF(0, 0, 0), 0x3, 0, 1, 0 },
	{ "Aff 0.0.0, list {0-3}: 2 and 3 absent", SGI_REG_SGI1R,
	  SGIR(0, 0, 0, 0, 0xf, 2, 0), 0x3, MPIDR_AFF(0, 0, 0), 0xf, 0, 2, 0 },
	{ "self only", SGI_REG_SGI1R,
	  SGIR(0, 0, 0, 0, 0x1, 3, 0), 0x1, MPIDR_AFF(0, 0, 0), 0x1, 0, 3, 0 },
	{ "Aff 0.0.1, list {0}: 0x100", SGI_REG_SGI1R,
	  SGIR(0, 0, 1, 0, 0x1, 4, 0), 0x4, MPIDR_AFF(0, 0, 1), 0x1, 0, 4, 0 },
	{ "Aff 0.1.1, list {0}: 0x10100", SGI_REG_SGI1R,
	  SGIR(0, 1, 1, 0, 0x1, 5, 0), 0x8, MPIDR_AFF(0, 1, 1), 0x1, 0, 5, 0 },
	{ "Aff 0.0.1, list {1}: absent", SGI_REG_SGI1R,
	  SGIR(0, 0, 1, 0, 0x2, 6, 0), 0, MPIDR_AFF(0, 0, 1), 0x2, 0, 6, 0 },
	{ "Aff 1.0.0, list {0}: absent", SGI_REG_SGI1R,
	  SGIR(1, 0, 0, 0, 0x1, 7, 0), 0, MPIDR_AFF(1, 0, 0), 0x1, 0, 7, 0 },
	{ "RS 1, list {0}: Aff0 16, absent", SGI_REG_SGI1R,
	  SGIR(0, 0, 0, 1, 0x1, 8, 0), 0, MPIDR_AFF(0, 0, 0), 0x1, 1, 8, 0 },
	{ "broadcast (IRM): all but the sender", SGI_REG_SGI1R,
	  SGIR(0, 0, 0, 0, 0, 9, 1), 0xe, MPIDR_AFF(0, 0, 0), 0, 0, 9,
	  AVCPU_SGI_BROADCAST },
	{ "ICC_SGI0R_EL1, Aff 0.0.0, list {1}", SGI_REG_SGI0R,
	  SGIR(0, 0, 0, 0, 0x2, 10, 0), 0x2, MPIDR_AFF(0, 0, 0), 0x2, 0, 10,
	  AVCPU_SGI_GROUP0 },
	{ "ICC_ASGI1R_EL1, Aff 0.0.1, list {0}", SGI_REG_ASGI1R,
	  SGIR(0, 0, 1, 0, 0x1, 11, 0), 0x4, MPIDR_AFF(0, 0, 1), 0x1, 0, 11,
	  AVCPU_SGI_ALT_GROUP },
	{ "ICC_SGI0R_EL1 broadcast", SGI_REG_SGI0R,
	  SGIR(0, 0, 0, 0, 0, 15, 1), 0xe, MPIDR_AFF(0, 0, 0), 0, 0, 15,
	  AVCPU_SGI_BROADCAST | AVCPU_SGI_GROUP0 },
};

static volatile uint32_t undef_count;

static void count_undef_and_step(struct ex_regs *regs)
{
	undef_count++;
	regs->pc += 4;
}

static void guest_send_sgis(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sgi_cases); i++) {
		uint64_t v = sgi_cases[i].value;

		switch (sgi_cases[i].reg) {
		case SGI_REG_SGI1R:
			write_sysreg(v, ICC_SGI1R_EL1);
			break;
		case SGI_REG_SGI0R:
			write_sysreg(v, ICC_SGI0R_EL1);
			break;
		case SGI_REG_ASGI1R:
			write_sysreg(v, ICC_ASGI1R_EL1);
			break;
		}
		isb();
	}
	/*
	 * Write-only registers: reads are UNDEFINED. By encoding (the names
	 * would expand too late for read_sysreg()'s #r, and the assembler
	 * warns about reading them by name).
	 */
	guest_install_handler(VECTOR_SYNC_CURRENT, ESR_EC_UNKNOWN,
			      count_undef_and_step);
	(void)read_sysreg(s3_0_c12_c11_5);	/* ICC_SGI1R_EL1 */
	(void)read_sysreg(s3_0_c12_c11_7);	/* ICC_SGI0R_EL1 */
	(void)read_sysreg(s3_0_c12_c11_6);	/* ICC_ASGI1R_EL1 */
	GUEST_SYNC_ARGS(1, undef_count, 0, 0);
	GUEST_DONE();
}

/*
 * CREATE_VCPU with an MPIDR of our choice (vm_vcpu_create() gives vCPU n
 * the MPIDR n), registered with the library so that the other helpers and
 * vm_free() know it.
 */
static struct avcpu_vcpu *vcpu_create_mpidr(struct avcpu_vm *vm, uint32_t id,
					    uint64_t mpidr)
{
	struct avcpu_vcpu_init init = { .vcpu_id = id, .mpidr = mpidr };
	struct avcpu_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, AVCPU_CREATE_VCPU, &init);
	if (vcpu->fd < 0) {
		free(vcpu);
		return NULL;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		close(vcpu->fd);
		free(vcpu);
		return NULL;
	}
	vm->vcpus[id] = vcpu;
	return vcpu;
}

TEST(send_ipi_exits)
{
	struct avcpu_vcpu *vcpus[ARRAY_SIZE(ipi_mpidrs)];
	struct avcpu_vcpu *sender;
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_GICV3("the SEND_IPI exit (ICC_SGI1R_EL1; sgi_test covers GICD_SGIR)");
	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	for (i = 0; i < ARRAY_SIZE(ipi_mpidrs); i++) {
		vcpus[i] = vcpu_create_mpidr(vm, i, ipi_mpidrs[i]);
		ASSERT_NE(NULL, vcpus[i])
			TH_LOG("CREATE_VCPU %u with MPIDR 0x%llx: %s", i,
			       (unsigned long long)ipi_mpidrs[i], strerror(errno));
		EXPECT_EQ(MPIDR_RES1 | ipi_mpidrs[i],
			  vcpu_get_sysreg(vcpus[i], SYSREG_MPIDR_EL1))
			TH_LOG("vCPU %u: expected the MPIDR given to CREATE_VCPU", i);
	}
	sender = vcpus[0];
	run = sender->run;
	vcpu_setup(sender, guest_send_sgis, 0);
	vcpu_bind(sender, AVCPU_BIND_CURRENT_CPU);

	for (i = 0; i < ARRAY_SIZE(sgi_cases); i++) {
		const struct sgi_case *c = &sgi_cases[i];

		vcpu_run(sender);
		ASSERT_EQ(AVCPU_EXIT_SEND_IPI, run->exit_reason) {
			vcpu_dump_exit(stderr, sender);
			if (get_ucall(sender, &uc) != UCALL_NONE)
				ucall_dump(stderr, &uc);
			TH_LOG("%s: expected a SEND_IPI exit", c->what);
		}
		EXPECT_EQ(c->targets, run->send_ipi.targets)
			TH_LOG("%s: targets (bit n: vcpu_id n)", c->what);
		EXPECT_EQ(c->aff, run->send_ipi.aff)
			TH_LOG("%s: aff (Aff3/2/1 at bits 39:32/23:16/15:8)", c->what);
		EXPECT_EQ(c->target_list, run->send_ipi.target_list)
			TH_LOG("%s: target_list", c->what);
		EXPECT_EQ(c->rs, run->send_ipi.rs) TH_LOG("%s: rs", c->what);
		EXPECT_EQ(c->intid, run->send_ipi.intid)
			TH_LOG("%s: intid", c->what);
		EXPECT_EQ(c->flags, run->send_ipi.flags)
			TH_LOG("%s: flags (AVCPU_SGI_*)", c->what);
		EXPECT_EQ(c->value, run->send_ipi.value)
			TH_LOG("%s: value as written", c->what);
	}
	run_expect_ucall(_metadata, sender, UCALL_SYNC, &uc);
	EXPECT_EQ(3, uc.args[1])
		TH_LOG("expected reads of the three SGI registers each UNDEFINED");
	run_expect_ucall(_metadata, sender, UCALL_DONE, NULL);
	vm_free(vm);
}

#define IPI_SGI		5

static void guest_ipi_sender(void)
{
	/* Aff 0.0.0, target list {1}: vCPU 1 */
	write_sysreg(SGIR(0, 0, 0, 0, 0x2, IPI_SGI, 0), ICC_SGI1R_EL1);
	isb();
	GUEST_DONE();
}

static void guest_ipi_receiver(void)
{
	guest_irq_init();
	local_irq_enable();
	guest_wait(&irq_done[IPI_SGI], 1);
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(1, irq_count[IPI_SGI], ack_n ? ack_log[0] : NO_INTID,
			ack_n);
	GUEST_DONE();
}

struct receiver_ctx {
	struct avcpu_vcpu *vcpu;
	int cpu;		/* -1: stay where created */
	int err;
	struct ucall uc;	/* the SYNC */
	uint64_t last;		/* the last ucall: DONE */
};

static void *ipi_receiver_thread(void *arg)
{
	struct receiver_ctx *ctx = arg;

	if (ctx->cpu >= 0) {
		ctx->err = pin_self(ctx->cpu);
		if (ctx->err)
			return NULL;
	}
	vcpu_bind(ctx->vcpu, AVCPU_BIND_CURRENT_CPU);
	if (vcpu_run_ucall(ctx->vcpu, &ctx->uc) != UCALL_SYNC)
		return NULL;
	ctx->last = vcpu_run_ucall(ctx->vcpu, NULL);
	return NULL;
}

TEST(send_ipi_end_to_end)
{
	struct receiver_ctx rx = { .cpu = -1 };
	struct avcpu_vcpu *sender, *receiver;
	struct avcpu_vm *vm;
	cpu_set_t allowed;
	pthread_t thread;
	uint64_t targets;
	unsigned int n;
	int cpu;

	AVCPU_REQUIRE_IRQ();
	AVCPU_REQUIRE_GICV3("the SEND_IPI exit (ICC_SGI1R_EL1; sgi_test covers GICD_SGIR)");
	reset_guest_counters();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	vm = vm_create();
	sender = vm_vcpu_add(vm, 0, guest_ipi_sender);
	receiver = vm_vcpu_create(vm, 1);
	vcpu_setup(receiver, guest_ipi_receiver, 0);
	cpu = sched_getcpu();
	rx.vcpu = receiver;
	rx.cpu = other_cpu(&allowed, cpu);	/* -1 on one CPU: shared */

	ASSERT_EQ(0, pthread_create(&thread, NULL, ipi_receiver_thread, &rx));
	vcpu_run(sender);
	ASSERT_EQ(AVCPU_EXIT_SEND_IPI, sender->run->exit_reason) {
		vcpu_dump_exit(stderr, sender);
	}
	/* The VMM's part: INJECT_IRQ on every target */
	targets = sender->run->send_ipi.targets;
	EXPECT_EQ(1ULL << 1, targets) TH_LOG("expected vCPU 1 the only target");
	EXPECT_EQ(IPI_SGI, sender->run->send_ipi.intid);
	for (n = 0; n < GUEST_MAX_VCPUS; n++)
		if ((targets & (1ULL << n)) && vm->vcpus[n])
			vcpu_inject_irq(vm->vcpus[n], sender->run->send_ipi.intid);
	run_expect_ucall(_metadata, sender, UCALL_DONE, NULL);
	ASSERT_EQ(0, pthread_join(thread, NULL));

	ASSERT_EQ(0, rx.err) TH_LOG("receiver: sched_setaffinity: %s",
				    strerror(-rx.err));
	EXPECT_EQ(UCALL_DONE, rx.last) TH_LOG("expected the receiver to finish");
	EXPECT_EQ(1, rx.uc.args[1])
		TH_LOG("receiver: expected SGI %u delivered once", IPI_SGI);
	EXPECT_EQ(IPI_SGI, rx.uc.args[2])
		TH_LOG("receiver: expected its first acknowledge to be SGI %u",
		       IPI_SGI);
	EXPECT_EQ(1, rx.uc.args[3]) TH_LOG("receiver: expected one interrupt in all");
	expect_irq_state(_metadata, receiver, IPI_SGI, 0, "on the receiver");
	expect_irq_state(_metadata, sender, IPI_SGI, 0, "on the sender");
	expect_clean_deliveries(_metadata);
	vm_free(vm);
}

/*
 * 9. UNBIND and BIND on another CPU while the guest holds an interrupt
 * active, a second one injected meanwhile: the active state, the active
 * priority (ICC_RPR_EL1) and ICC_PMR_EL1 come along.
 */
#define HOLD_SPI	90
#define LATE_SPI	91
#define GUEST_PMR	0xf0

static void guest_migrate(void)
{
	guest_irq_init();
	gic_set_pmr(GUEST_PMR);
	local_irq_enable();
	GUEST_SYNC(0);	/* the host injects HOLD_SPI; the handler syncs */
	guest_wait(&irq_done[HOLD_SPI], 1);
	guest_wait(&irq_done[LATE_SPI], 1);
	guest_spin_ms(QUIET_MS);
	local_irq_disable();
	GUEST_SYNC_ARGS(1, gic_read_pmr(), irq_done[HOLD_SPI],
			irq_done[LATE_SPI]);
	GUEST_DONE();
}

TEST(unbind_bind_keeps_state)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	cpu_set_t allowed;
	struct ucall uc;
	int cpu, other;

	AVCPU_REQUIRE_IRQ();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	if (CPU_COUNT(&allowed) < 2)
		SKIP(return, "needs two CPUs to move between");
	reset_guest_counters();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_migrate);
	cpu = sched_getcpu();
	set_edge(vcpu, HOLD_SPI);
	set_edge(vcpu, LATE_SPI);

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, uc.args[0]);
	hold_intid = HOLD_SPI;
	vcpu_inject_irq(vcpu, HOLD_SPI);
	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(SYNC_IN_HANDLER, uc.args[0])
		TH_LOG("expected a ucall from the handler of INTID %u", HOLD_SPI);
	ASSERT_EQ(HOLD_SPI, uc.args[1]);
	expect_irq_state(_metadata, vcpu, HOLD_SPI, AVCPU_IRQ_ACTIVE,
			 "in the guest's handler");

	vcpu_unbind(vcpu);
	expect_irq_state(_metadata, vcpu, HOLD_SPI, AVCPU_IRQ_ACTIVE,
			 "after UNBIND");
	vcpu_inject_irq(vcpu, LATE_SPI);
	expect_irq_state(_metadata, vcpu, LATE_SPI, AVCPU_IRQ_PENDING,
			 "injected while unbound");

	/* UNBIND gave the thread its affinity back: it may go elsewhere. */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	other = other_cpu(&allowed, cpu);
	ASSERT_GE(other, 0) TH_LOG("expected another CPU allowed after UNBIND");
	vcpu_bind(vcpu, other);
	ASSERT_EQ(other, sched_getcpu()) TH_LOG("expected BIND to move the thread");
	hold_intid = NO_INTID;

	run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(1, uc.args[0]);
	EXPECT_EQ(GUEST_PMR, uc.args[1])
		TH_LOG("expected the priority mask kept across UNBIND/BIND (CPU %d -> %d)",
		       cpu, other);
	EXPECT_EQ(1, uc.args[2])
		TH_LOG("expected INTID %u completed once, on the new CPU", HOLD_SPI);
	EXPECT_EQ(1, uc.args[3])
		TH_LOG("expected INTID %u (injected while unbound) delivered once",
		       LATE_SPI);
	EXPECT_EQ(DEFAULT_PRIORITY, hold_rpr[0])
		TH_LOG("expected the running priority of INTID %u in its handler",
		       HOLD_SPI);
	EXPECT_EQ(DEFAULT_PRIORITY, hold_rpr[1])
		TH_LOG("expected the running priority kept across UNBIND/BIND");
	expect_irq_state(_metadata, vcpu, HOLD_SPI, 0, "at the end");
	expect_irq_state(_metadata, vcpu, LATE_SPI, 0, "at the end");
	expect_clean_deliveries(_metadata);

	/* and back */
	vcpu_unbind(vcpu);
	vcpu_bind(vcpu, cpu);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * 10. Bad arguments.
 */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int inject_raw(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t level,
		      uint64_t res0, uint64_t res1)
{
	struct avcpu_irq_level l = {
		.intid = intid, .level = level, .source = (uint32_t)res0,
		.reserved0 = (uint32_t)(res0 >> 32), .reserved = res1,
	};

	return xioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l);
}

static int set_nr_irqs(struct avcpu_vm *vm, unsigned long n)
{
	return ioctl(vm->fd, AVCPU_SET_NR_IRQS, n) ? -errno : 0;
}

TEST(bad_arguments)
{
	static const uint32_t bad_intids_list[] = {
		AVCPU_DEFAULT_NR_IRQS, 1019, 1020, 1021, 1022, 1023, 1024,
		0xffffffff,
	};
	static const uint64_t bad_set_bits[] = {
		AVCPU_IRQ_LINE, 1ULL << 6, 1ULL << 7, 1ULL << 9, 1ULL << 63,
	};
	struct avcpu_vcpu *vcpu;
	struct avcpu_irq irq;
	struct avcpu_vm *vm;
	unsigned int i;
	uint64_t flags;
	uint8_t prio;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);

	/* INJECT_IRQ */
	EXPECT_EQ(0, inject_raw(vcpu, AVCPU_DEFAULT_NR_IRQS - 1, 1, 0, 0))
		TH_LOG("expected the last INTID below nr_irqs accepted");
	EXPECT_EQ(0, inject_raw(vcpu, AVCPU_DEFAULT_NR_IRQS - 1, 0, 0, 0));
	for (i = 0; i < ARRAY_SIZE(bad_intids_list); i++)
		EXPECT_EQ(-EINVAL, inject_raw(vcpu, bad_intids_list[i], 1, 0, 0))
			TH_LOG("INJECT_IRQ intid %u: expected EINVAL",
			       bad_intids_list[i]);
	EXPECT_EQ(-EINVAL, inject_raw(vcpu, 40, 2, 0, 0))
		TH_LOG("INJECT_IRQ level 2: expected EINVAL");
	EXPECT_EQ(-EINVAL, inject_raw(vcpu, 40, 0xffffffff, 0, 0))
		TH_LOG("INJECT_IRQ level 0xffffffff: expected EINVAL");
	EXPECT_EQ(-EINVAL, inject_raw(vcpu, 40, 1, 1, 0))
		TH_LOG("INJECT_IRQ reserved[0] != 0: expected EINVAL");
	EXPECT_EQ(-EINVAL, inject_raw(vcpu, 40, 1, 0, 1ULL << 63))
		TH_LOG("INJECT_IRQ reserved[1] != 0: expected EINVAL");
	expect_irq_state(_metadata, vcpu, 40, 0, "after refused INJECT_IRQs");

	/* GET_IRQ */
	for (i = 0; i < ARRAY_SIZE(bad_intids_list); i++) {
		memset(&irq, 0, sizeof(irq));
		irq.intid = bad_intids_list[i];
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_IRQ, &irq))
			TH_LOG("GET_IRQ intid %u: expected EINVAL", irq.intid);
	}
	memset(&irq, 0, sizeof(irq));
	irq.intid = 40;
	irq.set_mask = AVCPU_IRQ_ENABLED;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_IRQ, &irq))
		TH_LOG("GET_IRQ with a set_mask: expected EINVAL");
	memset(&irq, 0, sizeof(irq));
	irq.intid = 40;
	irq.reserved0[1] = 1;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_IRQ, &irq))
		TH_LOG("GET_IRQ reserved0 != 0: expected EINVAL");
	memset(&irq, 0, sizeof(irq));
	irq.intid = 40;
	irq.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_IRQ, &irq))
		TH_LOG("GET_IRQ reserved != 0: expected EINVAL");

	/* SET_IRQ */
	for (i = 0; i < ARRAY_SIZE(bad_intids_list); i++) {
		memset(&irq, 0, sizeof(irq));
		irq.intid = bad_intids_list[i];
		irq.set_mask = AVCPU_IRQ_ENABLED;
		irq.flags = AVCPU_IRQ_ENABLED;
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
			TH_LOG("SET_IRQ intid %u: expected EINVAL", irq.intid);
	}
	for (i = 0; i < ARRAY_SIZE(bad_set_bits); i++) {
		/* with a valid bit: a refused call must change nothing */
		memset(&irq, 0, sizeof(irq));
		irq.intid = 40;
		irq.set_mask = AVCPU_IRQ_ENABLED | AVCPU_IRQ_PRIORITY |
			       bad_set_bits[i];
		irq.priority = 0x10;
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
			TH_LOG("SET_IRQ set_mask bit 0x%llx: expected EINVAL",
			       (unsigned long long)bad_set_bits[i]);
	}
	flags = vcpu_get_irq(vcpu, 40, &prio);
	EXPECT_TRUE(flags & AVCPU_IRQ_ENABLED)
		TH_LOG("expected refused SET_IRQs to leave INTID 40 enabled");
	EXPECT_EQ(DEFAULT_PRIORITY, prio)
		TH_LOG("expected refused SET_IRQs to leave the priority alone");
	memset(&irq, 0, sizeof(irq));
	irq.intid = 40;
	irq.set_mask = AVCPU_IRQ_ENABLED;
	irq.flags = AVCPU_IRQ_ENABLED;
	irq.reserved0[0] = 1;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
		TH_LOG("SET_IRQ reserved0 != 0: expected EINVAL");
	irq.reserved0[0] = 0;
	irq.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
		TH_LOG("SET_IRQ reserved != 0: expected EINVAL");

	/* SGIs are edge-triggered, always */
	for (i = 0; i < 16; i += 15) {
		memset(&irq, 0, sizeof(irq));
		irq.intid = i;
		irq.set_mask = AVCPU_IRQ_LEVEL;
		irq.flags = AVCPU_IRQ_LEVEL;
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
			TH_LOG("SET_IRQ LEVEL on SGI %u: expected EINVAL", i);
		EXPECT_FALSE(vcpu_get_irq(vcpu, i, NULL) & AVCPU_IRQ_LEVEL)
			TH_LOG("SGI %u: expected still edge-triggered", i);
	}
	/* ... PPIs may be either */
	memset(&irq, 0, sizeof(irq));
	irq.intid = 16;
	irq.set_mask = AVCPU_IRQ_LEVEL;
	EXPECT_EQ(0, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
		TH_LOG("SET_IRQ edge on PPI 16: expected it allowed");
	vm_free(vm);
}

TEST(nr_irqs)
{
	static const unsigned long bad[] = { 0, 32, 33, 63, 65, 96 + 1, 1056,
					     2048, 1UL << 32 | 64 };
	struct avcpu_irq irq;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, set_nr_irqs(vm, bad[i]))
			TH_LOG("SET_NR_IRQS %lu: expected EINVAL (multiple of 32, 64..1024)",
			       bad[i]);
	ASSERT_EQ(0, set_nr_irqs(vm, 128)) TH_LOG("SET_NR_IRQS 128");
	ASSERT_EQ(0, set_nr_irqs(vm, 64))
		TH_LOG("SET_NR_IRQS 64: expected it allowed again before a vCPU");

	/* Never set up: CREATED. Injection works all the same. */
	vcpu = vm_vcpu_create(vm, 0);
	ASSERT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	EXPECT_EQ(-EBUSY, set_nr_irqs(vm, 64))
		TH_LOG("SET_NR_IRQS after CREATE_VCPU: expected EBUSY");
	EXPECT_EQ(-EBUSY, set_nr_irqs(vm, 256))
		TH_LOG("SET_NR_IRQS after CREATE_VCPU: expected EBUSY");

	EXPECT_EQ(0, inject_raw(vcpu, 63, 1, 0, 0))
		TH_LOG("INJECT_IRQ 63 with nr_irqs 64, vCPU CREATED: expected it accepted");
	expect_irq_state(_metadata, vcpu, 63, AVCPU_IRQ_PENDING,
			 "injected in CREATED");
	EXPECT_EQ(-EINVAL, inject_raw(vcpu, 64, 1, 0, 0))
		TH_LOG("INJECT_IRQ 64 with nr_irqs 64: expected EINVAL");
	memset(&irq, 0, sizeof(irq));
	irq.intid = 64;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_IRQ, &irq))
		TH_LOG("GET_IRQ 64 with nr_irqs 64: expected EINVAL");
	irq.set_mask = AVCPU_IRQ_ENABLED;
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
		TH_LOG("SET_IRQ 64 with nr_irqs 64: expected EINVAL");
	irq.intid = 63;
	irq.flags = AVCPU_IRQ_ENABLED;
	EXPECT_EQ(0, xioctl(vcpu->fd, AVCPU_SET_IRQ, &irq))
		TH_LOG("SET_IRQ 63 with nr_irqs 64: expected it accepted");
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu))
		TH_LOG("expected the interrupt ioctls to leave the vCPU CREATED");
	vm_free(vm);

	/* The largest: 1020-1023 stay refused */
	vm = vm_create();
	ASSERT_EQ(0, set_nr_irqs(vm, AVCPU_MAX_NR_IRQS));
	vcpu = vm_vcpu_create(vm, 0);
	EXPECT_EQ(0, inject_raw(vcpu, 1019, 1, 0, 0))
		TH_LOG("INJECT_IRQ 1019 with nr_irqs 1024: expected it accepted");
	for (i = 1020; i <= 1024; i++)
		EXPECT_EQ(-EINVAL, inject_raw(vcpu, i, 1, 0, 0))
			TH_LOG("INJECT_IRQ %u with nr_irqs 1024: expected EINVAL", i);
	vm_free(vm);
}

TEST_HARNESS_MAIN
