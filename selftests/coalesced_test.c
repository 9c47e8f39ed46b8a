// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced MMIO (Documentation/api.rst, "Coalesced MMIO"): guest stores
 * to a zone go into the VM's ring page instead of exiting, in order, with
 * their vCPU; a full ring makes the store exit; loads always exit; bad
 * zones and bad mappings are refused; the VMM's index cannot make the
 * kernel write outside the ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define ZONE		0x0a100000ULL	/* outside RAM */
#define ZONE_SIZE	0x1000
#define OUTSIDE		(ZONE + ZONE_SIZE)
#define STORES		10
#define MANY		2000

static void store32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static void store8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

static uint32_t load32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

/* STORES stores in the zone and a byte at its end, one outside, a load */
static void guest_stores(void)
{
	uint32_t i;

	for (i = 0; i < STORES; i++)
		store32(ZONE + 4 * i, 100 + i);
	store8(ZONE + ZONE_SIZE - 1, 0xab);
	store32(OUTSIDE, 1);
	GUEST_ASSERT_EQ(load32(ZONE), 0x1234);
	GUEST_DONE();
}

static void guest_many(void)
{
	uint32_t i;

	for (i = 0; i < MANY; i++)
		store32(ZONE + 4 * (i % 64), i);
	GUEST_DONE();
}

static int zone(struct avcpu_vm *vm, uint64_t addr, uint32_t size, uint32_t flags)
{
	struct avcpu_coalesced_zone z = { .addr = addr, .size = size, .flags = flags };

	return ioctl(vm->fd, AVCPU_COALESCED_MMIO, &z) ? -errno : 0;
}

static struct avcpu_coalesced_ring *map_ring(struct avcpu_vm *vm)
{
	void *p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint32_t ring_count(const struct avcpu_coalesced_ring *r)
{
	uint32_t first = r->first, last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);

	return (last + r->nr - first) % r->nr;
}

static bool module_has_it(void)
{
	struct avcpu_caps caps;
	int fd = open("/dev/avcpu", O_RDWR);
	bool ret;

	if (fd < 0)
		return false;
	ret = !ioctl(fd, AVCPU_GET_CAPS, &caps) &&
	      (caps.flags & AVCPU_CAP_F_COALESCED_MMIO);
	close(fd);
	return ret;
}

#define REQUIRE_COALESCED() do {					\
	AVCPU_REQUIRE_RUN();						\
	if (!module_has_it())						\
		SKIP(return, "the module has no coalesced MMIO");	\
} while (0)

TEST(stores_in_order_loads_exit)
{
	struct avcpu_coalesced_ring *r;
	struct avcpu_vcpu *vcpu;
	struct avcpu_stats st;
	struct avcpu_vm *vm;
	uint32_t i;

	REQUIRE_COALESCED();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_stores);
	r = map_ring(vm);
	ASSERT_NE(NULL, r);
	EXPECT_EQ((getpagesize() - sizeof(*r)) / sizeof(r->entries[0]), r->nr);
	EXPECT_EQ(0, r->first);
	EXPECT_EQ(0, r->last);
	ASSERT_EQ(0, zone(vm, ZONE, ZONE_SIZE, 0));

	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(OUTSIDE, vcpu->run->mmio.addr);
	ASSERT_EQ(STORES + 1, ring_count(r));
	for (i = 0; i < STORES; i++) {
		const struct avcpu_coalesced_entry *e = &r->entries[i];

		EXPECT_EQ(ZONE + 4 * i, e->addr) TH_LOG("entry %u", i);
		EXPECT_EQ(4, e->len);
		EXPECT_EQ(0, e->vcpu_id);
		EXPECT_EQ(100 + i, e->data);
	}
	EXPECT_EQ(ZONE + ZONE_SIZE - 1, r->entries[STORES].addr);
	EXPECT_EQ(1, r->entries[STORES].len);
	EXPECT_EQ(0xab, r->entries[STORES].data);
	__atomic_store_n(&r->first, r->last, __ATOMIC_RELEASE);

	/* a load in the zone exits as any load */
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_READ, vcpu->run->exit_reason);
	EXPECT_EQ(ZONE, vcpu->run->mmio.addr);
	vcpu->run->ret = 0x1234;
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(0, ring_count(r));

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, ioctl(vcpu->fd, AVCPU_GET_STATS, &st));
	EXPECT_EQ(STORES + 1, st.coalesced_mmio);
	/* the store outside the zone, and the guest's UCALL_DONE */
	EXPECT_EQ(2, st.exits[AVCPU_EXIT_MMIO_WRITE]);
	EXPECT_EQ(1, st.exits[AVCPU_EXIT_MMIO_READ]);
	munmap(r, getpagesize());
	vm_free(vm);
}

/*
 * MANY stores: the ring fills (nr - 1 entries), the next store exits, and
 * once the VMM has drained the ring the guest goes on. Nothing is lost or
 * reordered: the entries and the exits together are the stores in order.
 */
TEST(full_ring_exits)
{
	struct avcpu_coalesced_ring *r;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	uint32_t seen = 0, exits = 0;
	struct ucall uc;

	REQUIRE_COALESCED();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_many);
	r = map_ring(vm);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, zone(vm, ZONE, ZONE_SIZE, 0));
	ASSERT_LT(r->nr, MANY);

	for (;;) {
		uint32_t n, first;

		vcpu_run(vcpu);
		n = ring_count(r);
		first = r->first;
		while (n--) {
			const struct avcpu_coalesced_entry *e = &r->entries[first];

			ASSERT_EQ(seen, e->data) TH_LOG("entry %u", first);
			ASSERT_EQ(ZONE + 4 * (seen % 64), e->addr);
			seen++;
			first = (first + 1) % r->nr;
		}
		__atomic_store_n(&r->first, first, __ATOMIC_RELEASE);
		ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason) {
			vcpu_dump_exit(stderr, vcpu);
		}
		if (vcpu->run->mmio.addr == UCALL_MMIO_ADDR)
			break;
		/* only a full ring makes a store in the zone exit */
		ASSERT_EQ(seen, vcpu->run->mmio.data);
		exits++;
		seen++;
	}
	EXPECT_EQ(UCALL_DONE, get_ucall(vcpu, &uc));
	EXPECT_EQ(MANY, seen);
	/* each exit came after nr - 1 entries */
	EXPECT_EQ(MANY / r->nr, exits);
	munmap(r, getpagesize());
	vm_free(vm);
}

/* A VMM that scribbles on the indices stops coalescing, nothing else. */
TEST(bad_first_index)
{
	struct avcpu_coalesced_ring *r;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	REQUIRE_COALESCED();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_stores);
	r = map_ring(vm);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, zone(vm, ZONE, ZONE_SIZE, 0));
	r->first = 0xffffffff;
	r->last = 77;
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	EXPECT_EQ(ZONE, vcpu->run->mmio.addr);
	EXPECT_EQ(100, vcpu->run->mmio.data);
	EXPECT_EQ(77, r->last);
	munmap(r, getpagesize());
	vm_free(vm);
}

TEST(bad_arguments)
{
	struct avcpu_coalesced_zone z = { .addr = ZONE, .size = 8 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;
	void *p;

	REQUIRE_COALESCED();
	vm = vm_create();
	EXPECT_EQ(-EINVAL, zone(vm, ZONE, 0, 0));
	EXPECT_EQ(-EINVAL, zone(vm, ZONE, 8, 1U << 5));
	EXPECT_EQ(-EINVAL, zone(vm, ~0ULL - 4, 8, 0));
	EXPECT_EQ(-EINVAL, zone(vm, 1ULL << vm->caps.ipa_bits, 8, 0));
	z.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_COALESCED_MMIO, &z));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_COALESCED_MMIO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-ENOENT, zone(vm, ZONE, 8, AVCPU_COALESCED_DEASSIGN));

	ASSERT_EQ(0, zone(vm, ZONE, 0x100, 0));
	EXPECT_EQ(-EEXIST, zone(vm, ZONE + 0xff, 8, 0));
	EXPECT_EQ(-EEXIST, zone(vm, ZONE - 4, 8, 0));
	for (i = 1; i < 16; i++)
		ASSERT_EQ(0, zone(vm, ZONE + 0x100 * i, 0x100, 0)) TH_LOG("zone %u", i);
	EXPECT_EQ(-ENOSPC, zone(vm, ZONE + 0x100 * 16, 0x100, 0));
	/* only the exact zone is removed */
	EXPECT_EQ(-ENOENT, zone(vm, ZONE, 0x80, AVCPU_COALESCED_DEASSIGN));
	EXPECT_EQ(0, zone(vm, ZONE, 0x100, AVCPU_COALESCED_DEASSIGN));
	EXPECT_EQ(0, zone(vm, ZONE, 0x100, 0));

	/* the ring: one shared page at offset 0 */
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_PRIVATE, vm->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 2 * getpagesize(), PROT_READ, MAP_SHARED, vm->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, vm->fd, getpagesize());
	EXPECT_EQ(MAP_FAILED, p);

	/* with the zone gone, its stores exit again */
	EXPECT_EQ(0, zone(vm, ZONE, 0x100, AVCPU_COALESCED_DEASSIGN));
	vcpu = vm_vcpu_add(vm, 0, guest_stores);
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	EXPECT_EQ(ZONE, vcpu->run->mmio.addr);
	/* zones left: closing the VM releases them and the ring */
	vm_free(vm);
}

TEST_HARNESS_MAIN
