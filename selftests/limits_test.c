// SPDX-License-Identifier: GPL-2.0
/*
 * What a VM may take, and that it gives it back: its pinned pages are the
 * VMM's locked memory (RLIMIT_MEMLOCK, VmLck), and its VMID goes back for
 * the next VM with no translation of the old one left in the TLBs
 * (Documentation/api.rst, "AVCPU_SET_MEMORY_REGION").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define GPA_A		0x20000000ULL
/* VMs run one after another on the same VMID (about 25 ms each under TCG) */
#define VMID_ROUNDS	300
/* times each VMID of a full 8-bit space is freed and taken again */
#define VMID_PASSES	10
#define TOUCH_PAGES	64
/* a stage-2 fault maps up to the next 64K boundary (api.rst, "Pinning") */
#define FAULT_AROUND	0x10000

static inline uint64_t pat(uint64_t i)
{
	return 0x4c494d4954000000ULL ^ (i * 0x9e3779b97f4a7c15ULL);
}

/* Report the first word at GPA_A. */
static void guest_read_word(void)
{
	GUEST_SYNC_ARGS(*(volatile uint64_t *)GPA_A, 0, 0, 0);
	GUEST_DONE();
}

/*
 * VMIDs are reused: the IDA hands out the lowest free one, so VMs made and
 * freed one after another all get the same VMID. Each must see its own
 * memory, never a translation a VM before it left in the TLBs (the VMID's
 * entries are invalidated when its VM goes, before the VMID is free).
 * More rounds than an 8-bit VMID space has VMIDs.
 */
FIXTURE(vmid) {};
FIXTURE_SETUP(vmid) {}
FIXTURE_TEARDOWN(vmid) {}

TEST_F_TIMEOUT(vmid, reuse_sees_own_memory, 600)
{
	unsigned int round, rounds, bad = 0;
	struct avcpu_caps caps;
	double t0 = avcpu_now();

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, avcpu_get_caps(&caps));
	rounds = VMID_ROUNDS;
	for (round = 0; round < rounds; round++) {
		struct avcpu_vcpu *vcpu;
		struct avcpu_vm *vm = vm_create();
		uint64_t *hva = vm_mem_add(vm, 0, GPA_A, vm->page_size, 0);
		struct ucall uc;

		hva[0] = pat(round);
		vcpu = vm_vcpu_add(vm, 0, guest_read_word);
		vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
		if (uc.args[0] != pat(round) && !bad++)
			TH_LOG("round %u read 0x%llx, want 0x%llx", round,
			       (unsigned long long)uc.args[0],
			       (unsigned long long)pat(round));
		vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
		vm_free(vm);
	}
	ksft_print_msg("%u VMs on a %u-bit VMID space in %.1f s\n", rounds,
		       caps.vmid_bits, avcpu_now() - t0);
	EXPECT_EQ(0, bad);
}

/*
 * With every VMID taken by a live VM, one more VM is refused with ENOSPC and
 * nothing else; freeing any VM makes its VMID the next one's, ten times
 * round the space.
 */
TEST_F(vmid, space_full_then_freed)
{
	int dev, fds[256], n = 0, i, fd, pass, bad = 0;
	struct avcpu_caps caps;

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, avcpu_get_caps(&caps));
	/* beside KVM every avcpu VM runs on VMID 0 (design.rst) */
	if (!access("/dev/kvm", F_OK))
		SKIP(return, "KVM is enabled: avcpu's VMs share VMID 0, there is no VMID space to fill");
	if (caps.vmid_bits != 8)
		SKIP(return, "%u-bit VMIDs: 65535 live VMs do not fit the test's fd limit",
		     caps.vmid_bits);
	dev = open("/dev/avcpu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	while (n < 256) {
		fd = ioctl(dev, AVCPU_CREATE_VM, 0);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	/* VMID 0 is never a guest's: 255 VMs, then ENOSPC */
	EXPECT_EQ(255, n);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOSPC, errno);
	/*
	 * Any one freed makes room for exactly one: ten times round the whole
	 * space, each VM in turn freed and its VMID taken by a new one.
	 */
	for (pass = 0; pass < VMID_PASSES; pass++) {
		for (i = 0; i < n; i++) {
			close(fds[i]);
			fds[i] = ioctl(dev, AVCPU_CREATE_VM, 0);
			if (fds[i] < 0) {
				ksft_print_msg("pass %d VM %d: %s\n", pass, i, strerror(errno));
				bad++;
				break;
			}
		}
		if (bad)
			break;
		if (ioctl(dev, AVCPU_CREATE_VM, 0) != -1 || errno != ENOSPC) {
			ksft_print_msg("pass %d: a 256th VM was not refused\n", pass);
			bad++;
			break;
		}
	}
	EXPECT_EQ(0, bad);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* all back: a VM runs again */
	fd = ioctl(dev, AVCPU_CREATE_VM, 0);
	EXPECT_LE(0, fd);
	close(fd);
	close(dev);
}

/* 64-bit words in a host page; TOUCH_PAGES pages from GPA_A */
static volatile uint64_t page_words;

/* One page, a stop, then the rest, one word each */
static void guest_touch(void)
{
	volatile uint64_t *p = (volatile uint64_t *)GPA_A;
	uint64_t i;

	p[0] = 1;
	GUEST_SYNC(1);
	for (i = 1; i < TOUCH_PAGES; i++)
		p[i * page_words] = i;
	GUEST_DONE();
}

/* VmLck of this process, in bytes; -1 if unreadable */
static long long locked_bytes(void)
{
	char line[128];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* This process (the harness runs each test in a child) loses CAP_IPC_LOCK */
static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(1U << CAP_IPC_LOCK);
	d[0].permitted &= ~(1U << CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int set_memlock(long long bytes)
{
	struct rlimit r = { .rlim_cur = bytes, .rlim_max = RLIM_INFINITY };

	if (bytes < 0)
		r.rlim_cur = RLIM_INFINITY;
	return setrlimit(RLIMIT_MEMLOCK, &r) ? -errno : 0;
}

/*
 * Pinned guest pages are the VMM's locked memory: VmLck grows by one page
 * per page the guest touches and goes back when the VM is freed; without
 * CAP_IPC_LOCK, the touch that would cross RLIMIT_MEMLOCK fails RUN with
 * ENOMEM, the vCPU still READY, and RUN goes on once the limit is raised.
 */
TEST(pinned_pages_are_locked_memory)
{
	long long before, at_sync, done, page;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	int ret;

	AVCPU_REQUIRE_RUN();
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(-1));
	before = locked_bytes();
	ASSERT_LE(0, before);

	/* unlimited: every touched page counts, and all come back */
	vm = vm_create();
	page = vm->page_size;
	page_words = page / 8;
	vm_mem_add(vm, 0, GPA_A, TOUCH_PAGES * page, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_touch);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	at_sync = locked_bytes();
	/* the guest's code, stack and first page at least */
	EXPECT_LT(before, at_sync);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	done = locked_bytes();
	/*
	 * All of the slot, each page once, plus the guest's code and stack:
	 * the first touch pinned the slot's first 64K (fault-around), so
	 * less than the slot came after the stop, and at most a fault-around
	 * window more for the code of the loop and GUEST_DONE.
	 */
	EXPECT_LE(TOUCH_PAGES * page, done - before);
	EXPECT_GT(TOUCH_PAGES * page, done - at_sync);
	EXPECT_GE(TOUCH_PAGES * page + FAULT_AROUND, done - at_sync);
	vm_free(vm);
	EXPECT_EQ(before, locked_bytes()) TH_LOG("pages still counted after the VM went");

	/*
	 * limited: room for 8 pages after the stop. The 64K the first touch
	 * pinned do not fault again; past them each fault asks for 64K, is
	 * refused, and pins its own page alone, until the 9th.
	 */
	vm = vm_create();
	vm_mem_add(vm, 0, GPA_A, TOUCH_PAGES * page, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_touch);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	EXPECT_EQ(at_sync, locked_bytes());
	ASSERT_EQ(0, set_memlock(at_sync + 8 * page));
	ret = __vcpu_run(vcpu);
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(AVCPU_EXIT_NONE, vcpu->run->exit_reason);
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_EQ(at_sync + 8 * page, locked_bytes());
	/* raised: the same access goes through, and the guest finishes */
	ASSERT_EQ(0, set_memlock(-1));
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(done, locked_bytes());
	vm_free(vm);
	EXPECT_EQ(before, locked_bytes());
}

/* Touch one word a page from page @from up to @to, or down from @from - 1 */
static void __attribute__((noinline)) touch(uint64_t from, uint64_t to)
{
	volatile uint64_t *p = (volatile uint64_t *)GPA_A;
	uint64_t words = page_words;	/* its data page too, on the empty touch */

	for (; from < to; from++)
		p[from * words] = from;
	for (; from > to; from--)
		p[(from - 1) * words] = from;
}

/*
 * Up through the slot's first half, down through its second. The empty
 * touch first maps the loop's code, data and stack, so that what the counters
 * see after the first stop is the slot's pages only.
 */
static void guest_up_down(void)
{
	touch(0, 0);
	GUEST_SYNC(0);
	touch(0, TOUCH_PAGES / 2);
	GUEST_SYNC(1);
	touch(TOUCH_PAGES, TOUCH_PAGES / 2);
	GUEST_SYNC(2);
	GUEST_DONE();
}

static long long stage2_faults(struct avcpu_vm *vm)
{
	struct avcpu_stats st;

	return ioctl(vm->fd, AVCPU_GET_STATS, &st) ? -errno : (long long)st.stage2_faults;
}

/*
 * A stage-2 fault maps the faulting page and the unmapped ones after it
 * in the slot up to the next 64K boundary: a guest walking up its memory
 * faults once per 64K, one walking down once per page (each fault finds
 * the next page mapped), and either way VmLck grows by the pages it
 * touched, each pinned once.
 */
TEST(fault_around)
{
	long long f0, f1, f2, l0, l1, l2, page, per;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	page = vm->page_size;
	page_words = page / 8;
	per = FAULT_AROUND / page;
	vm_mem_add(vm, 0, GPA_A, TOUCH_PAGES * page, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_up_down);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	f0 = stage2_faults(vm);
	l0 = locked_bytes();
	ASSERT_LE(0, f0);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	f1 = stage2_faults(vm);
	l1 = locked_bytes();
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);
	f2 = stage2_faults(vm);
	l2 = locked_bytes();
	TH_LOG("stage-2 faults: %lld up, %lld down over %d pages of %lld bytes each way",
	       f1 - f0, f2 - f1, TOUCH_PAGES / 2, page);
	EXPECT_EQ(TOUCH_PAGES / 2 / per, f1 - f0);
	EXPECT_EQ(TOUCH_PAGES / 2, f2 - f1);
	if (l0 >= 0) {
		EXPECT_EQ(TOUCH_PAGES / 2 * page, l1 - l0);
		EXPECT_EQ(TOUCH_PAGES / 2 * page, l2 - l1);
	}
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST_HARNESS_MAIN
