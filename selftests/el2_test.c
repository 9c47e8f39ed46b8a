// SPDX-License-Identifier: GPL-2.0
/*
 * EL2 ownership over the module's life and the host's: avcpu takes EL2 from
 * the hyp stub on an nVHE host at load, on every CPU and on CPUs that come
 * online later, and gives it back at unload and CPU offline; the host's
 * own state must survive any number of guest runs. On a VHE host the same
 * contract holds with the kernel's EL2, so the tests run on both lanes.
 * Each test leaves avcpu loaded and every CPU online.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_ksft.h"

#define RELOAD_CYCLES	20
#define HOST_EXITS	10000

/* Unload (EL2 back to the stub) and load (EL2 taken again), a guest each time. */
TEST(reload_with_guests)
{
	int i, err;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_MODULE_FILE();

	for (i = 0; i < RELOAD_CYCLES; i++) {
		run_guest_on(_metadata, 0);
		err = __avcpu_unload(true);
		ASSERT_EQ(0, err) TH_LOG("cycle %d: unload: %s", i, strerror(-err));
		err = __avcpu_load();
		ASSERT_EQ(0, err) TH_LOG("cycle %d: load: %s", i, strerror(-err));
		ASSERT_TRUE(avcpu_can_run()) TH_LOG("cycle %d", i);
	}
	run_guest_on(_metadata, 0);
}

static int cpu_online_path(int cpu, char *path, size_t size)
{
	return snprintf(path, size, "/sys/devices/system/cpu/cpu%d/online", cpu);
}

static int set_cpu_online(int cpu, int online)
{
	char path[64];
	int fd, ret = 0;

	cpu_online_path(cpu, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, online ? "1" : "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* The highest CPU that can go offline, -1 if none */
static int hotpluggable_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char path[64];

	for (n = n - 1; n > 0; n--) {
		cpu_online_path(n, path, sizeof(path));
		if (!access(path, W_OK))
			return n;
	}
	return -1;
}

/*
 * Offline gives EL2 back on that CPU (cpuhp teardown), online takes it
 * again: a guest bound to the CPU runs before, not while, and after.
 */
TEST(cpu_offline_online)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	int cpu, i, err;

	AVCPU_REQUIRE_RUN();
	cpu = hotpluggable_cpu();
	if (cpu < 0)
		SKIP(return, "no CPU can go offline here");

	for (i = 0; i < 3; i++) {
		run_guest_on(_metadata, cpu);

		err = set_cpu_online(cpu, 0);
		ASSERT_EQ(0, err) TH_LOG("offline CPU%d: %s", cpu, strerror(-err));
		vm = vm_create();
		vcpu = vm_vcpu_create(vm, 0);
		vcpu_setup(vcpu, guest_only_done, 0);
		EXPECT_EQ(-EINVAL, __vcpu_bind(vcpu, cpu))
			TH_LOG("BIND to offline CPU%d", cpu);
		vm_free(vm);

		err = set_cpu_online(cpu, 1);
		ASSERT_EQ(0, err) TH_LOG("online CPU%d: %s", cpu, strerror(-err));
		run_guest_on(_metadata, cpu);
	}
}

/*
 * The guest scribbles over every EL1/EL0 register the host could notice
 * (through its own state, or as this process's thread state), then exits.
 */
static void guest_scribble(void)
{
	uint64_t i, x;

	for (i = 0; i < HOST_EXITS; i++) {
		x = 0x5a5a000000000000ULL | i;
		asm volatile("msr tpidr_el0, %0\n\t"
			     "msr tpidrro_el0, %0\n\t"
			     "msr contextidr_el1, %0\n\t"
			     "fmov d8, %0\n\t"
			     "fmov d9, %0"
			     : : "r" (x) : "d8", "d9");
		/* RMode = round towards zero, FZ: not the host's FPCR */
		asm volatile("msr fpcr, %0" : : "r" ((3ULL << 22) | (1ULL << 24)));
		GUEST_SYNC(i);
	}
	GUEST_DONE();
}

static uint64_t read_cntvct(void)
{
	uint64_t v;

	asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r" (v));
	return v;
}

/* The arch timer's interrupt count of @cpu in /proc/interrupts, -1 if not found */
static long timer_irqs(int cpu)
{
	char line[1024];
	long count = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		int c;

		if (!strstr(line, "arch_timer"))
			continue;
		strtol(p, &end, 10);	/* the IRQ number and its colon */
		p = strchr(line, ':');
		if (!p)
			break;
		p++;
		for (c = 0; c <= cpu; c++) {
			count = strtol(p, &end, 10);
			p = end;
		}
		break;
	}
	fclose(f);
	return count;
}

/*
 * 10 000 guest exits, then what the host shows this process: its thread
 * registers (TPIDR_EL0, TPIDRRO_EL0, FPCR, callee-saved FP registers),
 * the identification registers, and its clocks: CNTVCT_EL0 keeps pace
 * with CLOCK_MONOTONIC (CNTVOFF_EL2 given back) and the host's tick still
 * fires on this CPU (on nVHE, the EL1 physical timer is the host's).
 */
TEST(host_state_after_exits)
{
	uint64_t tpidr, fpcr_host = 1ULL << 22;
	uint64_t tpidrro0, tpidrro1, tp1, fpcr1, d8_1, ctr0, ctr1, dczid0, dczid1;
	uint64_t frq, cnt0, cnt1;
	/* in memory: a double live across the loop would take d8 */
	static volatile double t0;
	double t1, s0;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct ucall uc;
	long irq0, irq1;
	int cpu;
	uint64_t i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_scribble);
	cpu = sched_getcpu();

	asm volatile("mrs %0, tpidrro_el0" : "=r" (tpidrro0));
	asm volatile("mrs %0, ctr_el0" : "=r" (ctr0));
	asm volatile("mrs %0, dczid_el0" : "=r" (dczid0));
	asm volatile("mrs %0, cntfrq_el0" : "=r" (frq));
	/* the C library's thread pointer: the guest's writes must not stay */
	asm volatile("mrs %0, tpidr_el0" : "=r" (tpidr));
	asm volatile("msr fpcr, %0\n\tfmov d8, %0" : : "r" (fpcr_host) : "d8");
	cnt0 = read_cntvct();
	t0 = avcpu_now();

	for (i = 0; i < HOST_EXITS; i++) {
		run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
		ASSERT_EQ(i, uc.args[0]);
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);

	cnt1 = read_cntvct();
	t1 = avcpu_now();
	asm volatile("fmov %0, d8\n\tmrs %1, fpcr" : "=r" (d8_1), "=r" (fpcr1));
	asm volatile("msr fpcr, xzr");
	asm volatile("mrs %0, tpidr_el0" : "=r" (tp1));
	asm volatile("mrs %0, tpidrro_el0" : "=r" (tpidrro1));
	asm volatile("mrs %0, ctr_el0" : "=r" (ctr1));
	asm volatile("mrs %0, dczid_el0" : "=r" (dczid1));

	EXPECT_EQ(tpidr, tp1);
	EXPECT_EQ(tpidrro0, tpidrro1);
	EXPECT_EQ(fpcr_host, fpcr1);
	EXPECT_EQ(fpcr_host, d8_1);
	EXPECT_EQ(ctr0, ctr1);
	EXPECT_EQ(dczid0, dczid1);
	EXPECT_EQ(cpu, sched_getcpu());

	/* the counter and the kernel's clock agree to 10 ms over the run */
	ASSERT_GT(frq, 0);
	EXPECT_LT(abs((int)(((double)(cnt1 - cnt0) / frq - (t1 - t0)) * 1000)), 10)
		TH_LOG("CNTVCT_EL0: %.3f s, CLOCK_MONOTONIC: %.3f s",
		       (double)(cnt1 - cnt0) / frq, t1 - t0);

	/* the host's tick: a 50 ms sleep ends, and took timer interrupts here */
	irq0 = timer_irqs(cpu);
	s0 = avcpu_now();
	EXPECT_EQ(0, nanosleep(&ts, NULL));
	EXPECT_GE(avcpu_now() - s0, 0.05);
	EXPECT_LT(avcpu_now() - s0, 1.0);
	irq1 = timer_irqs(cpu);
	EXPECT_GE(irq0, 0) TH_LOG("no arch_timer line in /proc/interrupts");
	EXPECT_GT(irq1, irq0) TH_LOG("CPU%d: arch_timer interrupts %ld -> %ld",
				     cpu, irq0, irq1);
	vm_free(vm);
}

/*
 * An exception at EL2 in the way into or out of a guest (debugfs
 * "el2_fault" puts an undefined instruction before the ERET, once per
 * CPU) stops that vCPU, FAIL_ENTRY with AVCPU_FAIL_ENTRY_EL2_FAULT and the
 * EL2 syndrome, INVALID, one dmesg line, and nothing else: the host's
 * vectors are back and the next guest on the same CPU runs.
 */
#define EL2_FAULT_KNOB	"/sys/kernel/debug/avcpu/el2_fault"
#define ESR_EC_UNKNOWN_EL2	0x00

static int knob_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v, strlen(v)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

TEST(exception_at_el2_stops_the_vcpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu, ret;

	AVCPU_REQUIRE_RUN();
	ret = knob_write(EL2_FAULT_KNOB, "1");
	if (ret == -ENOENT)
		SKIP(return, "no debugfs at /sys/kernel/debug (test knob " EL2_FAULT_KNOB ")");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", EL2_FAULT_KNOB, strerror(-ret));

	for (cpu = 0; cpu < ncpu && cpu < 2; cpu++) {
		struct avcpu_vcpu *vcpu;
		struct avcpu_run *run;
		struct avcpu_vm *vm;
		uint64_t esr;

		vm = vm_create();
		vcpu = vm_vcpu_create(vm, 0);
		vcpu_setup(vcpu, guest_only_done, 0);
		vcpu_bind(vcpu, cpu);
		run = vcpu->run;
		EXPECT_EQ(0, __vcpu_run(vcpu));
		EXPECT_EQ(AVCPU_EXIT_FAIL_ENTRY, run->exit_reason)
			TH_LOG("CPU %d: exit %s", cpu, exit_reason_str(run->exit_reason));
		EXPECT_EQ(AVCPU_FAIL_ENTRY_EL2_FAULT, run->fail_entry.reason);
		esr = run->fail_entry.esr;
		EXPECT_EQ(ESR_EC_UNKNOWN_EL2, esr >> 26)
			TH_LOG("CPU %d: ESR_EL2 0x%llx, want the UDF's (EC 0)", cpu,
			       (unsigned long long)esr);
		EXPECT_EQ(AVCPU_STATE_INVALID, vcpu_get_state(vcpu));
		EXPECT_EQ(-EIO, __vcpu_run(vcpu)) TH_LOG("an INVALID vCPU ran again");
		vm_free(vm);

		/* the same CPU, a new guest: the host and EL2 are whole */
		run_guest_on(_metadata, cpu);
	}
	EXPECT_LT(0, avcpu_klog_contains("stopped: exception at EL2"));
	EXPECT_EQ(0, knob_write(EL2_FAULT_KNOB, "0"));
}

/*
 * Every Spectre-v2/BHB mitigation of the exit path (design.rst,
 * "Spectre-v2 and Spectre-BHB") runs without disturbing the guest or the
 * host: the rig's CPUs need none, so the debugfs knob "el2_mitigations"
 * turns all of them on (the loop with k = 8, CLRBHB, both firmware calls,
 * which QEMU's firmware answers NOT_SUPPORTED), and a guest checks its
 * registers across many exits; then the module's own choice comes back.
 */
#define EL2_MITIGATIONS_KNOB	"/sys/kernel/debug/avcpu/el2_mitigations"
#define ALL_MITIGATIONS		"0x708"	/* k 8, CLRBHB, BHB firmware, v2 firmware */
#define MITIGATED_EXITS		500

static void guest_many_exits(void)
{
	register uint64_t x19 asm("x19") = 0x1919191919191919ULL;
	register uint64_t x28 asm("x28") = 0x2828282828282828ULL;
	int i;

	for (i = 0; i < MITIGATED_EXITS; i++) {
		GUEST_SYNC(i);
		asm volatile("" : "+r" (x19), "+r" (x28));
		GUEST_ASSERT_EQ(x19, 0x1919191919191919ULL);
		GUEST_ASSERT_EQ(x28, 0x2828282828282828ULL);
	}
	GUEST_DONE();
}

TEST(every_exit_mitigation_runs)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	char saved[32] = "";
	struct ucall uc;
	int fd, n, i, ret;

	AVCPU_REQUIRE_RUN();
	fd = open(EL2_MITIGATIONS_KNOB, O_RDONLY);
	if (fd < 0)
		SKIP(return, "no debugfs at /sys/kernel/debug (test knob " EL2_MITIGATIONS_KNOB ")");
	n = read(fd, saved, sizeof(saved) - 1);
	close(fd);
	ASSERT_LT(0, n);
	saved[n] = '\0';
	ret = knob_write(EL2_MITIGATIONS_KNOB, ALL_MITIGATIONS);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_many_exits);
	for (i = 0; i < MITIGATED_EXITS; i++) {
		run_expect_ucall(_metadata, vcpu, UCALL_SYNC, &uc);
		ASSERT_EQ(i, uc.args[0]);
	}
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
	EXPECT_EQ(-EINVAL, knob_write(EL2_MITIGATIONS_KNOB, "0x800"));
	EXPECT_EQ(0, knob_write(EL2_MITIGATIONS_KNOB, saved));
}

TEST_HARNESS_MAIN
