// SPDX-License-Identifier: GPL-2.0
/*
 * Everything a VMM can get wrong: every invalid argument of the VM and
 * vCPU ioctls gets its documented errno and changes nothing; bad
 * pointers; unknown ioctls; the run page's mapping; fds used by another
 * process; a VM fd closed under a running vCPU; a VMM killed while its
 * guest runs; unloading the module while avcpu files are open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define TEST_GPA	0x20000000ULL
#define KERNEL_ADDR	0xffff000000000000ULL

static long xioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

#define PTR(p)	((unsigned long)(p))

static int open_dev(struct __test_metadata *_metadata)
{
	int fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open %s: %s", AVCPU_DEV, strerror(errno));
	return fd;
}

static void get_caps(struct __test_metadata *_metadata, struct avcpu_caps *caps)
{
	int fd = open_dev(_metadata);

	ASSERT_EQ(0, xioctl(fd, AVCPU_GET_CAPS, PTR(caps)));
	close(fd);
}

/* A bare VM fd: no slots, no vCPUs (the library's VMs hold the image) */
static int create_vm(struct __test_metadata *_metadata)
{
	int dev = open_dev(_metadata);
	int fd = xioctl(dev, AVCPU_CREATE_VM, 0);

	close(dev);
	ASSERT_GE(fd, 0) TH_LOG("CREATE_VM: %s", strerror(-fd));
	return fd;
}

static int create_vcpu(int vm, uint32_t id, uint64_t mpidr)
{
	struct avcpu_vcpu_init init = { .vcpu_id = id, .mpidr = mpidr };

	return xioctl(vm, AVCPU_CREATE_VCPU, PTR(&init));
}

TEST(create_vm_arg)
{
	static const unsigned long args[] = { 1, 2, 0x80000000UL, ~0UL };
	unsigned int i;
	int dev, fd, fl;

	AVCPU_REQUIRE_LOADED();
	dev = open_dev(_metadata);
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		EXPECT_EQ(-EINVAL, xioctl(dev, AVCPU_CREATE_VM, args[i]))
			TH_LOG("arg 0x%lx", args[i]);
	}
	fd = xioctl(dev, AVCPU_CREATE_VM, 0);
	ASSERT_GE(fd, 0);
	/* read-write, close-on-exec */
	fl = fcntl(fd, F_GETFL);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(dev);
}

TEST(vcpu_mmap_size)
{
	int dev;

	AVCPU_REQUIRE_LOADED();
	dev = open_dev(_metadata);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), xioctl(dev, AVCPU_GET_VCPU_MMAP_SIZE, 0));
	EXPECT_LE(sizeof(struct avcpu_run), xioctl(dev, AVCPU_GET_VCPU_MMAP_SIZE, 0));
	EXPECT_EQ(-EINVAL, xioctl(dev, AVCPU_GET_VCPU_MMAP_SIZE, 1));
	close(dev);
}

/* SET_MEMORY_REGION: every EINVAL case; none of them adds the slot. */
TEST(mem_region_einval)
{
	struct avcpu_mem_region base, r;
	struct avcpu_caps caps;
	uint64_t page = sysconf(_SC_PAGESIZE), ipa_top;
	unsigned int i;
	void *mem;
	int vm;

	AVCPU_REQUIRE_LOADED();
	get_caps(_metadata, &caps);
	ipa_top = 1ULL << caps.ipa_bits;
	vm = create_vm(_metadata);
	mem = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(&base, 0, sizeof(base));
	base.guest_phys_addr = TEST_GPA;
	base.memory_size = 2 * page;
	base.userspace_addr = PTR(mem);

#define EXPECT_REGION(err, what) do {					\
	EXPECT_EQ(err, xioctl(vm, AVCPU_SET_MEMORY_REGION, PTR(&r)))	\
		TH_LOG("%s: slot %u flags 0x%llx gpa 0x%llx size 0x%llx uaddr 0x%llx", \
		       what, r.slot, (unsigned long long)r.flags,	\
		       (unsigned long long)r.guest_phys_addr,		\
		       (unsigned long long)r.memory_size,		\
		       (unsigned long long)r.userspace_addr);		\
} while (0)

	/* slot */
	{
		static const uint32_t slots[] = { AVCPU_MAX_MEM_SLOTS, 33, 1000, ~0U };

		for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
			r = base;
			r.slot = slots[i];
			EXPECT_REGION(-EINVAL, "slot");
		}
	}
	/* flags: every bit but READONLY */
	for (i = 1; i < 64; i++) {
		r = base;
		r.flags = 1ULL << i;
		EXPECT_REGION(-EINVAL, "flag");
	}
	r = base;
	r.flags = AVCPU_MEM_READONLY | (1ULL << 63);
	EXPECT_REGION(-EINVAL, "READONLY and an unknown flag");
	/* reserved */
	r = base;
	r.reserved0 = 1;
	EXPECT_REGION(-EINVAL, "reserved0");
	r = base;
	r.reserved0 = 0x80000000;
	EXPECT_REGION(-EINVAL, "reserved0");
	for (i = 0; i < 3; i++) {
		r = base;
		r.reserved[i] = 1ULL << (i * 20);
		EXPECT_REGION(-EINVAL, "reserved[]");
	}
	/* alignment */
	r = base;
	r.guest_phys_addr += 1;
	EXPECT_REGION(-EINVAL, "gpa + 1");
	r = base;
	r.guest_phys_addr += page / 2;
	EXPECT_REGION(-EINVAL, "gpa + page/2");
	r = base;
	r.memory_size += 1;
	EXPECT_REGION(-EINVAL, "size + 1");
	r = base;
	r.memory_size = page / 2;
	EXPECT_REGION(-EINVAL, "size page/2");
	r = base;
	r.memory_size = page - 8;
	EXPECT_REGION(-EINVAL, "size page - 8");
	r = base;
	r.userspace_addr += 1;
	EXPECT_REGION(-EINVAL, "uaddr + 1");
	r = base;
	r.userspace_addr += page / 2;
	EXPECT_REGION(-EINVAL, "uaddr + page/2");
	/* wrapping around */
	r = base;
	r.guest_phys_addr = -page;
	EXPECT_REGION(-EINVAL, "gpa + size wraps");
	r = base;
	r.guest_phys_addr = -page;
	r.memory_size = page;	/* ends exactly at 2^64 */
	EXPECT_REGION(-EINVAL, "gpa + size == 2^64");
	r = base;
	r.userspace_addr = -page;
	EXPECT_REGION(-EINVAL, "uaddr + size wraps");
	r = base;
	r.memory_size = -page;
	EXPECT_REGION(-EINVAL, "huge size wraps both");
	/* beyond the IPA size */
	r = base;
	r.guest_phys_addr = ipa_top - page;
	EXPECT_REGION(-EINVAL, "gpa + size > 2^ipa_bits");
	r = base;
	r.guest_phys_addr = ipa_top;
	r.memory_size = page;
	EXPECT_REGION(-EINVAL, "gpa == 2^ipa_bits");
	r = base;
	r.guest_phys_addr = ipa_top << 1;
	r.memory_size = page;
	EXPECT_REGION(-EINVAL, "gpa == 2^(ipa_bits + 1)");

	/* none of them added slot 0 */
	r = base;
	r.memory_size = 0;
	EXPECT_REGION(-ENOENT, "delete after the failures");
	/* deleting takes the slot number's check too */
	r.slot = AVCPU_MAX_MEM_SLOTS;
	EXPECT_REGION(-EINVAL, "delete slot 32");

	/* the last page below 2^ipa_bits is fine */
	r = base;
	r.guest_phys_addr = ipa_top - page;
	r.memory_size = page;
	EXPECT_REGION(0, "last page of the IPA space");
	r.memory_size = 0;
	EXPECT_REGION(0, "delete it");
	/* and the base case itself */
	r = base;
	EXPECT_REGION(0, "base");
	r.memory_size = 0;
	EXPECT_REGION(0, "delete base");
#undef EXPECT_REGION
	close(vm);
	munmap(mem, 4 * page);
}

/* A userspace_addr range that is not user memory: EFAULT */
TEST(mem_region_efault)
{
	static const uint64_t addrs[] = {
		KERNEL_ADDR, 0xffff800008000000ULL, 0xfffffffffff00000ULL,
	};
	uint64_t page = sysconf(_SC_PAGESIZE);
	struct avcpu_mem_region r;
	unsigned int i;
	int vm;

	AVCPU_REQUIRE_LOADED();
	vm = create_vm(_metadata);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.guest_phys_addr = TEST_GPA;
		r.memory_size = 4 * page;
		r.userspace_addr = addrs[i];
		EXPECT_EQ(-EFAULT, xioctl(vm, AVCPU_SET_MEMORY_REGION, PTR(&r)))
			TH_LOG("uaddr 0x%llx", (unsigned long long)addrs[i]);
		r.memory_size = 0;
		EXPECT_EQ(-ENOENT, xioctl(vm, AVCPU_SET_MEMORY_REGION, PTR(&r)));
	}
	close(vm);
}

static long set_region(int vm, uint32_t slot, uint64_t flags, uint64_t gpa,
		       uint64_t size, void *hva)
{
	struct avcpu_mem_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = PTR(hva),
	};

	return xioctl(vm, AVCPU_SET_MEMORY_REGION, PTR(&r));
}

/* Overlaps and live slots: EEXIST; deleting an empty slot: ENOENT */
TEST(mem_region_eexist_enoent)
{
	uint64_t p = sysconf(_SC_PAGESIZE), g = TEST_GPA;
	char *mem;
	unsigned int i;
	int vm;

	AVCPU_REQUIRE_LOADED();
	vm = create_vm(_metadata);
	mem = mmap(NULL, 64 * p, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);

	ASSERT_EQ(0, set_region(vm, 0, 0, g, 2 * p, mem));
	/* overlapping slot 0's [g, g + 2p) in every way */
	EXPECT_EQ(-EEXIST, set_region(vm, 1, 0, g + p, 2 * p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 1, 0, g - p, 2 * p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 1, 0, g - p, 4 * p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 1, 0, g, 2 * p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 1, 0, g + p, p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 1, AVCPU_MEM_READONLY, g, p, mem));
	/* the same host memory for two slots is allowed; touching is too */
	EXPECT_EQ(0, set_region(vm, 1, 0, g + 2 * p, p, mem));
	EXPECT_EQ(0, set_region(vm, 2, 0, g - p, p, mem));
	/* a live slot: EEXIST, whatever the new values */
	EXPECT_EQ(-EEXIST, set_region(vm, 0, 0, g, 2 * p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 0, 0, g + 100 * p, p, mem));
	EXPECT_EQ(-EEXIST, set_region(vm, 0, AVCPU_MEM_READONLY, g, 2 * p, mem));
	/* deleting: an empty slot is ENOENT, a live one goes */
	EXPECT_EQ(-ENOENT, set_region(vm, 5, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, set_region(vm, AVCPU_MAX_MEM_SLOTS - 1, 0, 0, 0, NULL));
	EXPECT_EQ(0, set_region(vm, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, set_region(vm, 0, 0, 0, 0, NULL));
	/* its range is free again, for another slot */
	EXPECT_EQ(0, set_region(vm, 3, 0, g, 2 * p, mem));
	/* every slot number works, up to AVCPU_MAX_MEM_SLOTS - 1 */
	for (i = 4; i < AVCPU_MAX_MEM_SLOTS; i++) {
		EXPECT_EQ(0, set_region(vm, i, 0, g + (16 + i) * p, p, mem + i * p))
			TH_LOG("slot %u", i);
	}
	EXPECT_EQ(0, set_region(vm, 0, 0, g + 100 * p, p, mem));
	for (i = 0; i < AVCPU_MAX_MEM_SLOTS; i++)
		EXPECT_EQ(0, set_region(vm, i, 0, 0, 0, NULL));
	close(vm);
	munmap(mem, 64 * p);
}

/*
 * Pointers the kernel cannot read or write: NULL, 1, an unmapped page, a
 * kernel address, a structure that runs into an unmapped page, and for the
 * ioctls that write back, a read-only page.
 */
struct bad_ptrs {
	char *area;		/* page 0 RW, page 1 unmapped, page 2 RO */
	size_t page;
};

static void bad_ptrs_init(struct __test_metadata *_metadata, struct bad_ptrs *b)
{
	b->page = sysconf(_SC_PAGESIZE);
	b->area = mmap(NULL, 3 * b->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b->area);
	memset(b->area, 0, 3 * b->page);
	/* a valid GET_SYSREG argument: only writing it back can fail */
	((struct avcpu_sysreg *)(b->area + 2 * b->page))->encoding = SYSREG_TPIDR_EL0;
	ASSERT_EQ(0, munmap(b->area + b->page, b->page));
	ASSERT_EQ(0, mprotect(b->area + 2 * b->page, b->page, PROT_READ));
}

static void expect_efault(struct __test_metadata *_metadata, int fd,
			  unsigned long cmd, const char *name, size_t size,
			  bool writes_back, const struct bad_ptrs *b)
{
	const unsigned long ptrs[] = {
		0, 1, PTR(b->area + b->page), KERNEL_ADDR,
		PTR(b->area + b->page - size / 2),	/* straddles */
	};
	unsigned int i;

	for (i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
		EXPECT_EQ(-EFAULT, xioctl(fd, cmd, ptrs[i]))
			TH_LOG("%s with pointer %#lx", name, ptrs[i]);
	}
	if (writes_back) {
		EXPECT_EQ(-EFAULT, xioctl(fd, cmd, PTR(b->area + 2 * b->page)))
			TH_LOG("%s with a read-only pointer", name);
	}
}

TEST(bad_pointers)
{
	struct avcpu_setup setup = { .entry = 0x1000 };
	struct bad_ptrs b;
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	bad_ptrs_init(_metadata, &b);
	vm = create_vm(_metadata);

	expect_efault(_metadata, vm, AVCPU_SET_MEMORY_REGION, "SET_MEMORY_REGION",
		      sizeof(struct avcpu_mem_region), false, &b);
	expect_efault(_metadata, vm, AVCPU_CREATE_VCPU, "CREATE_VCPU",
		      sizeof(struct avcpu_vcpu_init), false, &b);
	/* nothing was created: id 0 and mpidr 0 are free */
	vcpu = create_vcpu(vm, 0, 0);
	ASSERT_GE(vcpu, 0) TH_LOG("CREATE_VCPU: %s", strerror(-vcpu));

	/* CREATED: SETUP and the register ioctls */
	expect_efault(_metadata, vcpu, AVCPU_SETUP, "SETUP",
		      sizeof(struct avcpu_setup), false, &b);
	expect_efault(_metadata, vcpu, AVCPU_GET_REGS, "GET_REGS",
		      sizeof(struct avcpu_regs), true, &b);
	expect_efault(_metadata, vcpu, AVCPU_SET_REGS, "SET_REGS",
		      sizeof(struct avcpu_regs), false, &b);
	expect_efault(_metadata, vcpu, AVCPU_GET_SYSREG, "GET_SYSREG",
		      sizeof(struct avcpu_sysreg), true, &b);
	expect_efault(_metadata, vcpu, AVCPU_SET_SYSREG, "SET_SYSREG",
		      sizeof(struct avcpu_sysreg), false, &b);
	EXPECT_EQ(AVCPU_STATE_CREATED, xioctl(vcpu, AVCPU_GET_STATE, 0));

	/* FREE: BIND */
	ASSERT_EQ(0, xioctl(vcpu, AVCPU_SETUP, PTR(&setup)));
	expect_efault(_metadata, vcpu, AVCPU_BIND, "BIND",
		      sizeof(struct avcpu_bind), false, &b);
	EXPECT_EQ(AVCPU_STATE_FREE, xioctl(vcpu, AVCPU_GET_STATE, 0));

	close(vcpu);
	close(vm);
	munmap(b.area, b.page);
	munmap(b.area + 2 * b.page, b.page);
}

/* CREATE_VCPU's EINVAL and EEXIST cases, and its full range of ids */
TEST(create_vcpu_checks)
{
	static const uint32_t ids_bad_extra[] = { 1000, 0x80000000U, ~0U };
	struct avcpu_vcpu_init init;
	struct avcpu_caps caps;
	int vm, fd, fds[512];
	unsigned int i, n = 0;

	AVCPU_REQUIRE_LOADED();
	get_caps(_metadata, &caps);
	ASSERT_LE(caps.max_vcpus, 512);
	vm = create_vm(_metadata);

	EXPECT_EQ(-EINVAL, create_vcpu(vm, caps.max_vcpus, 0));
	EXPECT_EQ(-EINVAL, create_vcpu(vm, caps.max_vcpus + 1, 0));
	for (i = 0; i < sizeof(ids_bad_extra) / sizeof(ids_bad_extra[0]); i++) {
		EXPECT_EQ(-EINVAL, create_vcpu(vm, ids_bad_extra[i], 0))
			TH_LOG("id %u", ids_bad_extra[i]);
	}
	for (i = 0; i < 32; i++) {
		memset(&init, 0, sizeof(init));
		init.flags = 1U << i;
		EXPECT_EQ(-EINVAL, xioctl(vm, AVCPU_CREATE_VCPU, PTR(&init)))
			TH_LOG("flag bit %u", i);
	}
	for (i = 0; i < 4; i++) {
		memset(&init, 0, sizeof(init));
		init.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, xioctl(vm, AVCPU_CREATE_VCPU, PTR(&init)))
			TH_LOG("reserved[%u]", i);
	}
	/* mpidr: only Aff3 [39:32], Aff2, Aff1, Aff0 [23:0] */
	for (i = 0; i < 64; i++) {
		uint64_t bit = 1ULL << i;

		if (bit & 0xff00ffffffULL)
			continue;
		EXPECT_EQ(-EINVAL, create_vcpu(vm, 0, bit)) TH_LOG("mpidr bit %u", i);
	}

	/* every id from 0 to max_vcpus - 1, the widest mpidr among them */
	for (i = 0; i < caps.max_vcpus; i++) {
		uint64_t mpidr = i == caps.max_vcpus - 1 ? 0xff00ffffffULL :
				 ((uint64_t)i << 32) | i;

		fd = create_vcpu(vm, i, mpidr);
		EXPECT_GE(fd, 0) TH_LOG("id %u mpidr 0x%llx: %s", i,
					(unsigned long long)mpidr, strerror(-fd));
		if (fd >= 0)
			fds[n++] = fd;
	}
	/* duplicates */
	EXPECT_EQ(-EEXIST, create_vcpu(vm, 0, 0x777));	/* id */
	EXPECT_EQ(-EEXIST, create_vcpu(vm, caps.max_vcpus - 1, 0x777));
	for (i = 1; i < n; i++)
		close(fds[i]);
	EXPECT_EQ(-EEXIST, create_vcpu(vm, 5, 0));	/* vCPU 0's mpidr */
	EXPECT_EQ(-EEXIST, create_vcpu(vm, 0, 0x777));	/* vCPU 0's id */
	close(fds[0]);
	close(vm);
}

TEST(setup_checks)
{
	struct avcpu_setup s;
	struct avcpu_caps caps;
	unsigned int i;
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	get_caps(_metadata, &caps);
	vm = create_vm(_metadata);
	vcpu = create_vcpu(vm, 0, 0);
	ASSERT_GE(vcpu, 0);

	for (i = 3; i < 64; i++) {
		memset(&s, 0, sizeof(s));
		s.entry = 0x1000;
		s.flags = 1ULL << i;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_SETUP, PTR(&s))) TH_LOG("flag %u", i);
	}
	for (i = 0; i < 5; i++) {
		memset(&s, 0, sizeof(s));
		s.entry = 0x1000;
		s.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_SETUP, PTR(&s))) TH_LOG("reserved[%u]", i);
	}
	for (i = 1; i < 4; i++) {
		memset(&s, 0, sizeof(s));
		s.entry = 0x1000 + i;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_SETUP, PTR(&s))) TH_LOG("entry +%u", i);
	}
	EXPECT_EQ(AVCPU_STATE_CREATED, xioctl(vcpu, AVCPU_GET_STATE, 0));

	memset(&s, 0, sizeof(s));
	s.flags = AVCPU_SETUP_PASSTHROUGH_TIMER;
	if (caps.host_mode == AVCPU_HOST_MODE_VHE) {
		EXPECT_EQ(0, xioctl(vcpu, AVCPU_SETUP, PTR(&s)));
	} else {
		EXPECT_EQ(-EOPNOTSUPP, xioctl(vcpu, AVCPU_SETUP, PTR(&s)));
		EXPECT_EQ(AVCPU_STATE_CREATED, xioctl(vcpu, AVCPU_GET_STATE, 0));
	}
	s.flags = AVCPU_SETUP_EXIT_ON_HOST_IRQ;
	s.entry = ~3ULL;	/* any 4-byte aligned address */
	EXPECT_EQ(0, xioctl(vcpu, AVCPU_SETUP, PTR(&s)));
	EXPECT_EQ(AVCPU_STATE_FREE, xioctl(vcpu, AVCPU_GET_STATE, 0));
	/* the checks hold for a re-SETUP too, and leave the vCPU as it was */
	s.entry = 2;
	EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_SETUP, PTR(&s)));
	EXPECT_EQ(AVCPU_STATE_FREE, xioctl(vcpu, AVCPU_GET_STATE, 0));
	{
		struct avcpu_regs regs;

		EXPECT_EQ(0, xioctl(vcpu, AVCPU_GET_REGS, PTR(&regs)));
		EXPECT_EQ(~3ULL, regs.pc);
	}
	close(vcpu);
	close(vm);
}

static bool same_affinity(const cpu_set_t *a)
{
	cpu_set_t now;

	if (sched_getaffinity(0, sizeof(now), &now))
		return false;
	return CPU_EQUAL(a, &now);
}

TEST(bind_checks)
{
	struct avcpu_setup setup = { .entry = 0x1000 };
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	uint32_t cpus[] = { 4096, 0, 0x80000000U, 0xfffffffeU };
	struct avcpu_bind b;
	cpu_set_t orig, one;
	unsigned int i;
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	cpus[1] = ncpus;	/* the first CPU that does not exist */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(orig), &orig));
	vm = create_vm(_metadata);
	vcpu = create_vcpu(vm, 0, 0);
	ASSERT_GE(vcpu, 0);
	ASSERT_EQ(0, xioctl(vcpu, AVCPU_SETUP, PTR(&setup)));

	for (i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		memset(&b, 0, sizeof(b));
		b.cpu = cpus[i];
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_BIND, PTR(&b))) TH_LOG("cpu %u", cpus[i]);
	}
	for (i = 0; i < 32; i++) {
		memset(&b, 0, sizeof(b));
		b.cpu = AVCPU_BIND_CURRENT_CPU;
		b.flags = 1U << i;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_BIND, PTR(&b))) TH_LOG("flag %u", i);
	}
	for (i = 0; i < 3; i++) {
		memset(&b, 0, sizeof(b));
		b.cpu = AVCPU_BIND_CURRENT_CPU;
		b.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_BIND, PTR(&b))) TH_LOG("reserved[%u]", i);
	}
	EXPECT_EQ(AVCPU_STATE_FREE, xioctl(vcpu, AVCPU_GET_STATE, 0));
	EXPECT_TRUE(same_affinity(&orig));

	/* a CPU this thread may not run on */
	if (CPU_COUNT(&orig) >= 2) {
		int first = -1, second = -1, c;

		for (c = 0; c < CPU_SETSIZE && second < 0; c++) {
			if (!CPU_ISSET(c, &orig))
				continue;
			if (first < 0)
				first = c;
			else
				second = c;
		}
		CPU_ZERO(&one);
		CPU_SET(first, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
		memset(&b, 0, sizeof(b));
		b.cpu = second;
		EXPECT_EQ(-EINVAL, xioctl(vcpu, AVCPU_BIND, PTR(&b))) TH_LOG("cpu %d", second);
		EXPECT_TRUE(same_affinity(&one));
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(orig), &orig));

		/* a named CPU: the thread is pinned there, and back after UNBIND */
		b.cpu = second;
		EXPECT_EQ(0, xioctl(vcpu, AVCPU_BIND, PTR(&b)));
		CPU_ZERO(&one);
		CPU_SET(second, &one);
		EXPECT_TRUE(same_affinity(&one));
		EXPECT_EQ(second, sched_getcpu());
		EXPECT_EQ(0, xioctl(vcpu, AVCPU_UNBIND, 0));
		EXPECT_TRUE(same_affinity(&orig));
	}
	close(vcpu);
	close(vm);
}

/* A guest that spins until the host says stop */
static volatile int spin_started, spin_release;

static void guest_spin(void)
{
	spin_started = 1;
	while (!spin_release)
		;
	GUEST_DONE();
}

/*
 * The _IO ioctls of a vCPU take no argument: anything else is EINVAL, and
 * a RUN so refused does not enter the guest.
 */
TEST(arg_must_be_zero)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;
	long ret;

	AVCPU_REQUIRE_LOADED();
	spin_started = 0;
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_STATE, 1));
	vcpu_setup(vcpu, guest_spin, 0);
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_STATE, 0x100));
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_STATE, ~0UL));

	for (i = 0; i < 3; i++) {
		unsigned long arg = (unsigned long[]){ 1, 0x8000, ~0UL }[i];

		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_UNBIND, arg)) TH_LOG("0x%lx", arg);
		EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
		vcpu->run->exit_reason = 0x5a5a;
		ret = xioctl(vcpu->fd, AVCPU_RUN, arg);
		if (avcpu_can_run()) {
			EXPECT_EQ(-EINVAL, ret) TH_LOG("RUN 0x%lx", arg);
		} else {
			EXPECT_TRUE(ret == -EINVAL || ret == -EOPNOTSUPP)
				TH_LOG("RUN 0x%lx: %s", arg, strerror(-ret));
		}
		/* the guest was not entered */
		EXPECT_EQ(0, spin_started);
		EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	}
	EXPECT_EQ(0, __vcpu_unbind(vcpu));
	vm_free(vm);
}

TEST(unknown_ioctls)
{
	const unsigned long vm_cmds[] = {
		_IO(AVCPUIO, 0x95), _IO(AVCPUIO, 0x9f), _IO(AVCPUIO, 0x00),
		/* the right number, the wrong size or direction */
		_IO(AVCPUIO, 0x90), _IOW(AVCPUIO, 0x90, __u64),
		_IOR(AVCPUIO, 0x90, struct avcpu_mem_region),
		_IOWR(AVCPUIO, 0x90, struct avcpu_mem_region),
		_IOW(AVCPUIO, 0x91, struct avcpu_mem_region),
		_IOR(AVCPUIO, 0x91, struct avcpu_vcpu_init),
		/* another fd's ioctls */
		AVCPU_GET_API_VERSION, AVCPU_GET_CAPS, AVCPU_CREATE_VM,
		AVCPU_GET_VCPU_MMAP_SIZE, AVCPU_RUN, AVCPU_GET_REGS,
		AVCPU_SETUP, AVCPU_GET_STATE,
		/* KVM's CREATE_VCPU, SET_USER_MEMORY_REGION */
		_IO(0xae, 0x41), _IOW(0xae, 0x46, struct avcpu_mem_region),
	};
	const unsigned long vcpu_cmds[] = {
		_IO(AVCPUIO, 0xa9), _IO(AVCPUIO, 0xaf), _IO(AVCPUIO, 0x01),
		_IO(AVCPUIO, 0xa0), _IOW(AVCPUIO, 0xa0, __u64),
		_IOR(AVCPUIO, 0xa4, __u64), _IOW(AVCPUIO, 0xa4, struct avcpu_regs),
		_IOR(AVCPUIO, 0xa5, struct avcpu_regs),
		_IOR(AVCPUIO, 0xa6, struct avcpu_sysreg),
		_IOWR(AVCPUIO, 0xa7, struct avcpu_sysreg),
		_IOW(AVCPUIO, 0xa2, __u64), _IOR(AVCPUIO, 0xa8, __u32),
		AVCPU_GET_API_VERSION, AVCPU_GET_CAPS, AVCPU_CREATE_VM,
		AVCPU_SET_MEMORY_REGION, AVCPU_CREATE_VCPU,
		_IO(0xae, 0x80) /* KVM_RUN */,
	};
	static char buf[4096] __attribute__((aligned(64)));
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	for (i = 0; i < sizeof(vm_cmds) / sizeof(vm_cmds[0]); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, xioctl(vm->fd, vm_cmds[i], PTR(buf)))
			TH_LOG("VM fd, ioctl 0x%lx", vm_cmds[i]);
	}
	for (i = 0; i < sizeof(vcpu_cmds) / sizeof(vcpu_cmds[0]); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, xioctl(vcpu->fd, vcpu_cmds[i], PTR(buf)))
			TH_LOG("vCPU fd, ioctl 0x%lx", vcpu_cmds[i]);
	}
	EXPECT_EQ(AVCPU_STATE_CREATED, vcpu_get_state(vcpu));
	/* the VM did not get a vCPU nor a slot from a misrouted ioctl */
	EXPECT_EQ(-ENOENT, __vm_set_memory_region(vm, 0, 0, 0, 0, NULL));
	vm_free(vm);
}

/* The run page: offset 0, one page, MAP_SHARED; nothing else. */
TEST(run_page_mmap)
{
	long page = sysconf(_SC_PAGESIZE);
	struct avcpu_run *run;
	void *p;
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	vm = create_vm(_metadata);
	vcpu = create_vcpu(vm, 0, 0);
	ASSERT_GE(vcpu, 0);

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, vcpu, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	run = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(AVCPU_EXIT_NONE, run->exit_reason);
	EXPECT_EQ(0, run->immediate_exit);
	/* and it can be written: the VMM's side of the page */
	run->immediate_exit = 1;
	run->ret = 42;
	EXPECT_EQ(0, munmap(run, page));
	close(vcpu);
	close(vm);
}

/*
 * A VM belongs to the process that made it: a forked child holding the
 * fds gets EIO from every ioctl of the VM and its vCPUs, and changes
 * nothing; the parent's fds go on working.
 */
enum {
	C_SET_REGION, C_CREATE_VCPU, C_GET_STATE, C_SETUP, C_BIND, C_UNBIND,
	C_RUN, C_GET_REGS, C_SET_REGS, C_GET_SYSREG, C_SET_SYSREG, C_NR,
};
static const char * const child_names[C_NR] = {
	"SET_MEMORY_REGION", "CREATE_VCPU", "GET_STATE", "SETUP", "BIND",
	"UNBIND", "RUN", "GET_REGS", "SET_REGS", "GET_SYSREG", "SET_SYSREG",
};

TEST(forked_child_eio)
{
	struct avcpu_setup setup = { .entry = 0x1000 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	long *res;
	void *mem;
	int status, i, fd;
	pid_t pid;

	AVCPU_REQUIRE_LOADED();
	res = mmap(NULL, sizeof(long) * C_NR, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_spin, 0);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct avcpu_mem_region r = {
			.slot = 0, .guest_phys_addr = TEST_GPA,
			.memory_size = 4096, .userspace_addr = PTR(mem),
		};
		struct avcpu_vcpu_init init = { .vcpu_id = 1, .mpidr = 1 };
		struct avcpu_bind b = { .cpu = AVCPU_BIND_CURRENT_CPU };
		struct avcpu_sysreg sr = { .encoding = SYSREG_TPIDR_EL0, .value = 9 };
		static struct avcpu_regs regs;

		res[C_SET_REGION] = xioctl(vm->fd, AVCPU_SET_MEMORY_REGION, PTR(&r));
		res[C_CREATE_VCPU] = xioctl(vm->fd, AVCPU_CREATE_VCPU, PTR(&init));
		res[C_GET_STATE] = xioctl(vcpu->fd, AVCPU_GET_STATE, 0);
		res[C_SETUP] = xioctl(vcpu->fd, AVCPU_SETUP, PTR(&setup));
		res[C_BIND] = xioctl(vcpu->fd, AVCPU_BIND, PTR(&b));
		res[C_UNBIND] = xioctl(vcpu->fd, AVCPU_UNBIND, 0);
		res[C_RUN] = xioctl(vcpu->fd, AVCPU_RUN, 0);
		res[C_GET_REGS] = xioctl(vcpu->fd, AVCPU_GET_REGS, PTR(&regs));
		res[C_SET_REGS] = xioctl(vcpu->fd, AVCPU_SET_REGS, PTR(&regs));
		res[C_GET_SYSREG] = xioctl(vcpu->fd, AVCPU_GET_SYSREG, PTR(&sr));
		res[C_SET_SYSREG] = xioctl(vcpu->fd, AVCPU_SET_SYSREG, PTR(&sr));
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < C_NR; i++) {
		EXPECT_EQ(-EIO, res[i]) TH_LOG("child's %s: %ld (%s)", child_names[i],
					       res[i], res[i] < 0 ? strerror(-res[i]) : "");
	}

	/* nothing changed, and the parent's fds work */
	EXPECT_EQ(AVCPU_STATE_READY, vcpu_get_state(vcpu));
	EXPECT_NE(9, vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL0));
	EXPECT_EQ(-ENOENT, __vm_set_memory_region(vm, 0, 0, 0, 0, NULL));
	fd = create_vcpu(vm->fd, 1, 1);
	EXPECT_GE(fd, 0) TH_LOG("CREATE_VCPU after the child: %s", strerror(-fd));
	close(fd);
	EXPECT_EQ(0, __vcpu_unbind(vcpu));
	vm_free(vm);
	munmap(mem, 4096);
	munmap(res, sizeof(long) * C_NR);
}

/* A thread that binds and runs a vCPU, until a signal stops RUN */
struct runner {
	struct avcpu_vcpu *vcpu;
	int bind_ret;
	int run_ret;
	int get_regs_ret;
	int run2_ret;
	uint64_t ucall2;
	volatile int first_run_done;
};

static void sigusr1_handler(int sig)
{
}

static void install_sigusr1(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigusr1_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void *runner_fn(void *p)
{
	struct runner *r = p;
	struct avcpu_regs regs;
	sigset_t set;

	r->bind_ret = __vcpu_bind(r->vcpu, AVCPU_BIND_CURRENT_CPU);
	if (r->bind_ret) {
		r->first_run_done = 1;
		return NULL;
	}
	r->run_ret = __vcpu_run(r->vcpu);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->first_run_done = 1;
	r->get_regs_ret = __vcpu_get_regs(r->vcpu, &regs);
	/* the VM lives on without its fd: the guest can finish */
	spin_release = 1;
	r->run2_ret = __vcpu_run(r->vcpu);
	r->ucall2 = r->run2_ret ? UCALL_NONE : get_ucall(r->vcpu, NULL);
	__vcpu_unbind(r->vcpu);
	return NULL;
}

/*
 * Closing the VM fd while a vCPU of the VM runs: close returns at once,
 * the vCPU keeps the VM alive, a signal stops RUN as usual, and the vCPU
 * fd still works and closes cleanly.
 */
TEST(close_vm_fd_while_running)
{
	struct runner r = { 0 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	long ref0, ref1;
	pthread_t th;
	double t0;
	int state = -1;

	AVCPU_REQUIRE_RUN();
	install_sigusr1();
	spin_started = 0;
	spin_release = 0;
	ref0 = avcpu_module_refcnt();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_spin, 0);
	r.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&th, NULL, runner_fn, &r));

	state = vcpu_wait_state(vcpu, AVCPU_STATE_RUNNING, &spin_started, 10);
	EXPECT_EQ(AVCPU_STATE_RUNNING, state);
	EXPECT_TRUE(spin_started);

	t0 = avcpu_now();
	EXPECT_EQ(0, close(vm->fd));
	EXPECT_LT(avcpu_now() - t0, 1.0) TH_LOG("close waited for RUN");
	vm->fd = -1;	/* for vm_free() */
	usleep(20000);
	EXPECT_EQ(AVCPU_STATE_RUNNING, vcpu_get_state(vcpu));

	t0 = avcpu_now();
	while (!r.first_run_done && avcpu_now() - t0 < 10) {
		pthread_kill(th, SIGUSR1);
		usleep(20000);
	}
	ASSERT_TRUE(r.first_run_done) TH_LOG("RUN did not return");
	pthread_join(th, NULL);
	EXPECT_EQ(0, r.bind_ret);
	EXPECT_EQ(-EINTR, r.run_ret);
	EXPECT_EQ(0, r.get_regs_ret);
	EXPECT_EQ(0, r.run2_ret);
	EXPECT_EQ(UCALL_DONE, r.ucall2);

	EXPECT_EQ(0, __vcpu_get_regs(vcpu, &regs));
	EXPECT_EQ(AVCPU_STATE_FREE, vcpu_get_state(vcpu));
	/* the last references: the run page and the vCPU fd */
	EXPECT_EQ(0, munmap(vcpu->run, vm->run_size));
	EXPECT_EQ(0, close(vcpu->fd));
	vm->vcpus[0] = NULL;
	free(vcpu);
	vm_free(vm);
	ref1 = avcpu_module_refcnt();
	EXPECT_EQ(ref0, ref1);
}

/*
 * SIGKILL of a VMM whose guest spins inside RUN: the process dies at once,
 * and every reference it held on the module goes with it.
 */
static int state_pipe[2];

static void *child_watch_fn(void *p)
{
	struct avcpu_vcpu *vcpu = p;
	char c = 'R';

	if (vcpu_wait_state(vcpu, AVCPU_STATE_RUNNING, &spin_started, 10) ==
	    AVCPU_STATE_RUNNING && spin_started &&
	    write(state_pipe[1], &c, 1) == 1)
		return NULL;
	c = 'X';
	if (write(state_pipe[1], &c, 1) != 1)
		return NULL;
	return NULL;
}

TEST(sigkill_while_running)
{
	struct pollfd pfd;
	long ref0, ref1;
	double t0, waited;
	int status = 0, ret;
	char c = 0;
	pid_t pid, w = 0;

	AVCPU_REQUIRE_RUN();
	ref0 = avcpu_module_refcnt();
	ASSERT_GE(ref0, 0);
	ASSERT_EQ(0, pipe(state_pipe));
	spin_started = 0;
	spin_release = 0;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct avcpu_vm *vm = vm_create();
		struct avcpu_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_spin);
		pthread_t th;

		if (pthread_create(&th, NULL, child_watch_fn, vcpu))
			_exit(3);
		__vcpu_run(vcpu);	/* spins until killed */
		_exit(4);
	}

	close(state_pipe[1]);	/* so that the child's death is a hang-up */
	pfd.fd = state_pipe[0];
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, 10000);
	if (ret == 1 && read(state_pipe[0], &c, 1) != 1)
		c = 0;
	/* kill it whatever happened: no stray guest may outlive the test */
	w = avcpu_kill_and_reap(pid, 5, &status, &waited);
	EXPECT_EQ('R', c) TH_LOG("the child's vCPU never got RUNNING");
	ASSERT_EQ(pid, w) TH_LOG("the child did not die within 5 s of SIGKILL");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("status 0x%x", status);
	EXPECT_LT(waited, 3.0);
	TH_LOG("the child was reaped %.3f s after SIGKILL", waited);

	/* its fds are gone: the module's count is back (rmmod would work) */
	t0 = avcpu_now();
	do {
		ref1 = avcpu_module_refcnt();
		if (ref1 == ref0)
			break;
		usleep(10000);
	} while (avcpu_now() - t0 < 5);
	EXPECT_EQ(ref0, ref1);
	close(state_pipe[0]);
}

/*
 * Unloading avcpu while its files are open is refused, whichever file
 * holds it; once everything is closed it unloads. The fixture reloads the
 * module on every path, for the tests that follow.
 */
FIXTURE(module) {
	int dummy;
};

FIXTURE_SETUP(module)
{
	self->dummy = 0;
}

FIXTURE_TEARDOWN(module)
{
	if (!avcpu_loaded()) {
		int err = __avcpu_load();

		if (err)
			TH_LOG("could not load avcpu again: %s", strerror(-err));
	}
}

static bool can_reload(void)
{
	return access(avcpu_module_path(), R_OK) == 0;
}

static void expect_unload_refused(struct __test_metadata *_metadata,
				  const char *holder)
{
	int err = __avcpu_unload(true);

	EXPECT_TRUE(err == -EWOULDBLOCK || err == -EBUSY)
		TH_LOG("rmmod with %s open: %s", holder, err ? strerror(-err) : "it unloaded");
	EXPECT_TRUE(avcpu_loaded());
}

/* Unload (nothing open now), then load again and check the device works. */
static void unload_and_reload(struct __test_metadata *_metadata)
{
	int err, fd = -1;
	double t0;

	err = __avcpu_unload(true);
	EXPECT_EQ(0, err) TH_LOG("rmmod with everything closed: %s", strerror(-err));
	EXPECT_FALSE(avcpu_loaded());
	err = __avcpu_load();
	ASSERT_EQ(0, err) TH_LOG("insmod: %s", strerror(-err));
	t0 = avcpu_now();
	while (fd < 0 && avcpu_now() - t0 < 5) {
		fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			usleep(10000);
	}
	ASSERT_GE(fd, 0) TH_LOG("open after reload: %s", strerror(errno));
	EXPECT_EQ(AVCPU_API_VERSION, ioctl(fd, AVCPU_GET_API_VERSION, 0));
	close(fd);
}

TEST_F(module, unload_refused_while_vm_open)
{
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	if (!can_reload())
		SKIP(return, "no module file at %s (set AVCPU_MODULE)", avcpu_module_path());
	vm = create_vm(_metadata);	/* the device fd is closed */
	expect_unload_refused(_metadata, "a VM fd");
	/* and the VM still works */
	vcpu = create_vcpu(vm, 0, 0);
	EXPECT_GE(vcpu, 0);
	close(vcpu);
	EXPECT_EQ(0, close(vm));
	unload_and_reload(_metadata);
}

TEST_F(module, unload_refused_while_vcpu_or_run_page)
{
	long page = sysconf(_SC_PAGESIZE);
	struct avcpu_run *run;
	int vm, vcpu;

	AVCPU_REQUIRE_LOADED();
	if (!can_reload())
		SKIP(return, "no module file at %s (set AVCPU_MODULE)", avcpu_module_path());
	vm = create_vm(_metadata);
	vcpu = create_vcpu(vm, 0, 0);
	ASSERT_GE(vcpu, 0);
	run = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	EXPECT_EQ(0, close(vm));
	expect_unload_refused(_metadata, "a vCPU fd and its run page");
	EXPECT_EQ(AVCPU_STATE_CREATED, xioctl(vcpu, AVCPU_GET_STATE, 0));
	EXPECT_EQ(0, close(vcpu));
	expect_unload_refused(_metadata, "a run page mapping");
	EXPECT_EQ(AVCPU_EXIT_NONE, run->exit_reason);
	EXPECT_EQ(0, munmap(run, page));
	unload_and_reload(_metadata);
}

TEST_HARNESS_MAIN
