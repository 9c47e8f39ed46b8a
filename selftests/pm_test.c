// SPDX-License-Identifier: GPL-2.0
/*
 * CPU power management on nVHE hosts: a CPU that comes back from a
 * power-down idle state or from suspend has the kernel's hyp stub at EL2
 * again, not avcpu. QEMU cannot power a CPU down, so the module's test
 * knobs (testing.rst, "Test knobs") do to EL2 what a power-down does:
 * "el2_stub" puts the stub back on a CPU without telling avcpu,
 * "el2_powerdown" runs the kernel's CPU-PM sequence around it, and
 * "el2_refuse" makes taking EL2 back fail. Each test checks who answers
 * at EL2 through "el2_owner", so a knob that did nothing fails it. On a
 * VHE host the kernel itself runs at EL2 and nothing can be lost: SKIP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_ksft.h"

#define KNOB_DIR	"/sys/kernel/debug/avcpu/"
#define KNOB_STUB	KNOB_DIR "el2_stub"
#define KNOB_POWERDOWN	KNOB_DIR "el2_powerdown"
#define KNOB_REFUSE	KNOB_DIR "el2_refuse"
#define KNOB_OWNER	KNOB_DIR "el2_owner"

#define GPA_DATA	0x30000000ULL
#define DATA_PAGES	16
#define STALE_MARKER	0x57a1e57a1e57a1eULL

/* Skip unless this host is nVHE and the module has the knobs. */
#define REQUIRE_NVHE_KNOBS() do {					\
		AVCPU_REQUIRE_RUN();					\
		if (access(KNOB_OWNER, R_OK))				\
			SKIP(return, "no %s: a VHE host (the kernel runs at EL2 and cannot lose it) or no debugfs", \
			     KNOB_OWNER);				\
	} while (0)

static int knob_write(const char *path, const char *fmt, int v)
{
	char buf[16];
	int fd, n, ret = 0;

	n = snprintf(buf, sizeof(buf), fmt, v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * "el2_owner"'s line for @cpu: 1 if avcpu answers at EL2 there, 0 if the
 * stub does, -1 if there is no such line; *takes how often avcpu took it.
 */
static int el2_owner(int cpu, long *takes)
{
	char line[128], who[16];
	int c, ret = -1;
	long t;
	FILE *f;

	f = fopen(KNOB_OWNER, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "cpu%d %15s takes %ld", &c, who, &t) != 3 ||
		    c != cpu)
			continue;
		ret = !strcmp(who, "avcpu");
		if (takes)
			*takes = t;
	}
	fclose(f);
	return ret;
}

static int nr_test_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? (int)n : 2;
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void unpin_self(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The stub is back on a CPU and avcpu was not told: the next guest entry
 * there finds out (the stub answers the hypercall HVC_STUB_ERR), takes EL2
 * back, and the guest runs.
 */
TEST(stub_back_then_guest_runs)
{
	long before, after;
	int cpu;

	REQUIRE_NVHE_KNOBS();
	for (cpu = 0; cpu < nr_test_cpus(); cpu++) {
		ASSERT_EQ(1, el2_owner(cpu, &before)) TH_LOG("CPU%d", cpu);
		ASSERT_EQ(0, knob_write(KNOB_STUB, "%d", cpu));
		ASSERT_EQ(0, el2_owner(cpu, NULL))
			TH_LOG("CPU%d: avcpu still answers at EL2 after el2_stub", cpu);

		run_guest_on(_metadata, cpu);
		EXPECT_EQ(1, el2_owner(cpu, &after)) TH_LOG("CPU%d", cpu);
		EXPECT_EQ(before + 1, after) TH_LOG("CPU%d: EL2 taken %ld times, then %ld",
						    cpu, before, after);
		run_guest_on(_metadata, cpu);
	}
	EXPECT_LT(0, avcpu_klog_contains("EL2 was the hyp stub's again"));
}

/*
 * A power-down as cpuidle does it: the CPU-PM notifier takes EL2 back on
 * CPU_PM_EXIT, before anything runs there (no guest entry needed).
 */
TEST(powerdown_takes_el2_back_on_exit)
{
	long before, after;
	int cpu, i;

	REQUIRE_NVHE_KNOBS();
	for (cpu = 0; cpu < nr_test_cpus(); cpu++) {
		for (i = 0; i < 3; i++) {
			int ret;

			ASSERT_EQ(1, el2_owner(cpu, &before)) TH_LOG("CPU%d", cpu);
			ret = knob_write(KNOB_POWERDOWN, "%d", cpu);
			if (ret == -EOPNOTSUPP)
				SKIP(return, "a kernel without CONFIG_CPU_PM (no SUSPEND, no CPU_IDLE): no CPU powers down");
			ASSERT_EQ(0, ret) TH_LOG("CPU%d: %s", cpu, strerror(-ret));
			EXPECT_EQ(1, el2_owner(cpu, &after))
				TH_LOG("CPU%d: the stub answers after CPU_PM_EXIT", cpu);
			EXPECT_EQ(before + 1, after) TH_LOG("CPU%d", cpu);
			run_guest_on(_metadata, cpu);
		}
	}
	EXPECT_EQ(-EINVAL, knob_write(KNOB_POWERDOWN, "%d", 4096));
}

struct reader {
	struct avcpu_vcpu *vcpu;
	int cpu;
	volatile int started;
	int ret;
};

/*
 * Read the data page until the read exits (its slot is gone); report a
 * marker that the VMM writes only after deleting the slot: read through a
 * stale translation, of a page no longer the guest's.
 */
static void guest_read_until_gone(void)
{
	volatile uint64_t *p = (volatile uint64_t *)GPA_DATA;
	uint64_t v;

	GUEST_SYNC(0);
	for (;;) {
		v = *p;
		if (v == STALE_MARKER)
			GUEST_SYNC(1);
	}
}

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	struct ucall uc;

	r->ret = __vcpu_bind(r->vcpu, r->cpu);
	if (r->ret)
		return NULL;
	r->ret = __vcpu_run(r->vcpu);
	if (r->ret || get_ucall(r->vcpu, &uc) != UCALL_SYNC || uc.args[0] != 0) {
		r->ret = -1;
		return NULL;
	}
	r->started = 1;
	r->ret = __vcpu_run(r->vcpu);
	return NULL;
}

/*
 * A region deleted right after a CPU lost EL2 is really unmapped: a guest
 * on CPU0 keeps reading its page, the VMM on CPU1 (where the stage-2 TLB
 * invalidation is issued, the stub there now) deletes the slot and then
 * writes a marker into the old page. The guest's next read must exit as
 * MMIO; reading the marker would mean a stale translation survived the
 * deletion and the page was released before its invalidation.
 */
TEST(region_deleted_after_loss_is_unmapped)
{
	struct reader r = { .cpu = 0 };
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	long before, after;
	pthread_t th;
	uint64_t *hva;
	int round;

	REQUIRE_NVHE_KNOBS();
	if (nr_test_cpus() < 2)
		SKIP(return, "one CPU: the deletion must run beside the guest");

	for (round = 0; round < 5; round++) {
		vm = vm_create();
		/* the test's own memory: deleting the slot leaves it mapped */
		hva = mmap(NULL, vm->page_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, hva);
		hva[0] = 1;
		vm_set_memory_region(vm, 1, 0, GPA_DATA, vm->page_size, hva);
		r.vcpu = vm_vcpu_create(vm, 0);
		vcpu_setup(r.vcpu, guest_read_until_gone, 0);
		r.started = 0;
		run = r.vcpu->run;
		ASSERT_EQ(0, pthread_create(&th, NULL, reader_fn, &r));
		while (!r.started && !r.ret)
			usleep(1000);
		ASSERT_EQ(0, r.ret);
		usleep(20000);	/* the guest is in its loop, its TLB filled */

		pin_self(1);
		ASSERT_EQ(1, el2_owner(1, &before));
		ASSERT_EQ(0, knob_write(KNOB_STUB, "%d", 1));
		ASSERT_EQ(0, __vm_set_memory_region(vm, 1, 0, GPA_DATA, 0, hva));
		/* the page is the VMM's alone now: anything may go there */
		hva[0] = STALE_MARKER;
		EXPECT_EQ(1, el2_owner(1, &after))
			TH_LOG("round %d: the deletion did not take CPU1's EL2 back", round);
		EXPECT_EQ(before + 1, after);
		unpin_self();

		pthread_join(th, NULL);
		ASSERT_EQ(0, r.ret);
		EXPECT_EQ(AVCPU_EXIT_MMIO_READ, run->exit_reason) {
			vcpu_dump_exit(stderr, r.vcpu);
			TH_LOG("round %d: the guest read the page after its deletion", round);
		}
		EXPECT_EQ(GPA_DATA, run->mmio.addr);
		vm_free(vm);
		munmap(hva, getpagesize());
	}
}

static void guest_touch_pages(void)
{
	volatile uint64_t *p = (volatile uint64_t *)GPA_DATA;
	uint64_t sum;
	int i;

	for (;;) {
		sum = 0;
		for (i = 0; i < DATA_PAGES; i++)
			sum += p[i * 4096 / sizeof(*p)];
		GUEST_SYNC(sum);
	}
}

/*
 * No CPU can take EL2 back (every CPU lost it, "el2_refuse" on): deleting
 * a region cannot invalidate the stage-2 TLB, so it fails with EIO and
 * releases nothing (the slot stays, its pages stay pinned); a guest entry
 * fails as NO_EL2 with the vCPU still READY. Once EL2 can be taken back,
 * the same guest runs on and the deletion goes through.
 */
TEST(failed_invalidation_keeps_the_pages)
{
	long long pinned0, pinned1;
	struct avcpu_vcpu *vcpu;
	struct avcpu_run *run;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t *hva;
	size_t size;
	int cpu;

	REQUIRE_NVHE_KNOBS();
	vm = vm_create();
	size = DATA_PAGES * 4096;
	if (size < vm->page_size)
		size = vm->page_size;
	hva = vm_mem_add(vm, 1, GPA_DATA, size, 0);
	hva[0] = 7;
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_touch_pages, 0);
	run = vcpu->run;
	vcpu_bind(vcpu, 0);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(7, uc.args[0]);
	pinned0 = avcpu_pinned_pages();

	ASSERT_EQ(0, knob_write(KNOB_REFUSE, "%d", 1));
	for (cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN); cpu++)
		ASSERT_EQ(0, knob_write(KNOB_STUB, "%d", cpu)) TH_LOG("CPU%d", cpu);

	EXPECT_EQ(-EIO, __vm_set_memory_region(vm, 1, 0, GPA_DATA, 0, hva));
	pinned1 = avcpu_pinned_pages();
	if (pinned0 >= 0)
		EXPECT_EQ(pinned0, pinned1) TH_LOG("pages unpinned without an invalidation");
	/* the slot is still there: adding another one over it collides */
	EXPECT_EQ(-EEXIST, __vm_set_memory_region(vm, 2, 0, GPA_DATA, size, hva));

	EXPECT_EQ(0, __vcpu_run(vcpu));
	EXPECT_EQ(AVCPU_EXIT_FAIL_ENTRY, run->exit_reason);
	EXPECT_EQ(AVCPU_FAIL_ENTRY_NO_EL2, run->fail_entry.reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(0, el2_owner(0, NULL));

	/* EL2 can be taken back again: the guest goes on, then the deletion */
	ASSERT_EQ(0, knob_write(KNOB_REFUSE, "%d", 0));
	hva[0] = 9;
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(9, uc.args[0]);
	EXPECT_EQ(1, el2_owner(0, NULL));
	pin_self(0);
	EXPECT_EQ(0, __vm_set_memory_region(vm, 1, 0, GPA_DATA, 0, hva));
	unpin_self();
	if (pinned0 >= 0)
		EXPECT_GT(pinned0, avcpu_pinned_pages());
	vm_free(vm);
	/* every CPU answers as avcpu again, whoever needed it first */
	for (cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN); cpu++)
		if (el2_owner(cpu, NULL) == 0)
			run_guest_on(_metadata, cpu);
	for (cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN); cpu++)
		EXPECT_EQ(1, el2_owner(cpu, NULL)) TH_LOG("CPU%d", cpu);
	EXPECT_LT(0, avcpu_klog_contains("stage-2 TLB invalidation failed"));
}

TEST_HARNESS_MAIN
