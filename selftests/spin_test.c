// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that never leaves by itself (a "b ." loop) must not take its CPU
 * from the host: the host's timer keeps ticking on that CPU while the guest
 * spins, and a signal ends RUN. On a host that masks interrupts with the
 * GIC's priority mask (pseudo-NMIs, the debug lanes), this fails if the
 * guest runs with the host's interrupts masked at the PMR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "avcpu_ksft.h"

static void guest_spin(void)
{
	for (;;)
		asm volatile("" : : : "memory");
}

/* The host's timer interrupts taken so far on @cpu (/proc/interrupts) */
static long long timer_irqs(unsigned int cpu)
{
	char line[4096];
	long long n = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		unsigned int i;

		if (!p || !strstr(line, "arch_timer"))
			continue;
		p++;
		for (i = 0; i <= cpu; i++)
			n = strtoll(p, &p, 10);
		break;
	}
	fclose(f);
	return n;
}

static void on_alarm(int sig)
{
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(host_ticks_while_guest_spins)
{
	struct itimerval it = { .it_value.tv_usec = 500000,
				.it_interval.tv_usec = 100000 };
	struct sigaction sa = { .sa_handler = on_alarm };
	long long before, after;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	double t0, took;
	unsigned int cpu;
	int ret;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_spin);
	cpu = sched_getcpu();
	before = timer_irqs(cpu);
	if (before < 0) {
		vm_free(vm);
		SKIP(return, "no arch_timer line in /proc/interrupts");
	}

	/* periodic, so that a signal taken before the ioctl cannot hang it */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	t0 = now_s();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = __vcpu_run(vcpu);
	took = now_s() - t0;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	after = timer_irqs(cpu);

	EXPECT_EQ(-EINTR, ret) TH_LOG("RUN ended by %d, not by the signal", ret);
	/* 0.5 s at HZ 100 or more is 50 ticks; ask for a fifth */
	EXPECT_LE(before + 10, after)
		TH_LOG("CPU %u took %lld timer interrupts in %.2f s of a spinning guest",
		       cpu, after - before, took);
	ksft_print_msg("CPU %u: %lld timer interrupts in %.2f s of a spinning guest\n",
		       cpu, after - before, took);
	vm_free(vm);
}

TEST_HARNESS_MAIN
