// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded fuzzer for the ioctl interface, one thread: random and boundary
 * ioctls and argument structs on /dev/avcpu, VM and vCPU fds drawn from a
 * pool (open, closed, and numbers nothing has), user buffers that come and
 * go under registered memory, run pages mapped and unmapped, RUNs of tiny
 * or random guests. race_test races the same interface from threads.
 *
 * The host must stay clean (the rig scans the serial log), every failing
 * call must fail with an errno Documentation/api.rst lists (never a
 * kernel-internal one such as ERESTARTSYS or ENOIOCTLCMD), and when all is
 * closed no page may stay pinned and no module reference held.
 *
 * It prints its seed first; the seed replays the same calls
 * (Documentation/testing.rst, "Fuzzing"):
 *   AVCPU_FUZZ_SEED=<seed> AVCPU_TESTS=fuzz_test python3 scripts/rig.py check <lane>
 * AVCPU_FUZZ_CALLS and AVCPU_FUZZ_SECONDS bound it (lib/fuzz.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_vm.h"
#include "fuzz.h"

#define FUZZ_CALLS	50000
#define FUZZ_SECONDS	12
#define NR_FDS		24
#define NR_BUFS		6
#define BUF_SIZE	(256 * 1024)	/* several pages at 4K, 16K and 64K */
#define MAX_VMS		4
/* What bounds any call that could block (a RUN under another name) */
#define CALL_USEC	20000

static long call(int fd, unsigned long cmd, unsigned long arg, const char *what)
{
	long ret;

	fuzz_arm(CALL_USEC);
	ret = judged(fd, cmd, arg, what);
	fuzz_arm(0);
	return ret;
}

/* --- the single-threaded phase: a pool of fds and buffers --- */

enum kind { K_NONE, K_DEV, K_VM, K_VCPU, K_EVENTFD, K_CLOSED };

struct slot {
	enum kind kind;
	int fd;
	int vm;			/* K_VCPU: the pool slot of its VM */
};

struct buf {
	uint8_t *p;		/* NULL once munmap'd */
	size_t size;
	bool ro;
};

struct pool {
	struct rng r;
	uint8_t *guard;		/* a PROT_NONE page: a pointer nothing may use */
	struct slot s[NR_FDS];
	struct buf b[NR_BUFS];
	void *run[NR_FDS];	/* a run page mapping per vCPU slot */
	size_t run_size;
	long page;
};

static int pick(struct pool *p, enum kind k)
{
	int i, n = 0, idx[NR_FDS];

	for (i = 0; i < NR_FDS; i++)
		if (p->s[i].kind == k)
			idx[n++] = i;
	return n ? idx[below(&p->r, n)] : -1;
}

static int count(struct pool *p, enum kind k)
{
	int i, n = 0;

	for (i = 0; i < NR_FDS; i++)
		n += p->s[i].kind == k;
	return n;
}

static int free_slot(struct pool *p)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		if (p->s[i].kind == K_NONE || p->s[i].kind == K_CLOSED)
			return i;
	return -1;
}

/* Any fd of the pool, a closed one, or a number nothing has */
static int any_fd(struct pool *p)
{
	int i = below(&p->r, NR_FDS + 2);

	if (i >= NR_FDS)
		return i == NR_FDS ? -1 : 1000 + (int)below(&p->r, 24);
	return p->s[i].kind == K_NONE ? -1 : p->s[i].fd;
}

static void put(struct pool *p, enum kind k, int fd, int vm)
{
	int i = free_slot(p);

	if (i < 0) {
		close(fd);
		return;
	}
	p->s[i] = (struct slot){ .kind = k, .fd = fd, .vm = vm };
}

static void drop(struct pool *p, int i)
{
	if (p->run[i]) {
		munmap(p->run[i], p->run_size);
		p->run[i] = NULL;
	}
	close(p->s[i].fd);
	p->s[i].kind = K_CLOSED;	/* the number stays, for EBADF calls */
}

/* A user address for a memory region: mostly good, sometimes not */
static uint64_t user_addr(struct pool *p, uint64_t *size)
{
	struct buf *b = &p->b[below(&p->r, NR_BUFS)];
	uint64_t off;

	switch (below(&p->r, 10)) {
	case 0:
		return edgy(&p->r);
	case 1: {
		int v = pick(p, K_VCPU);

		if (v >= 0 && p->run[v])
			return (uintptr_t)p->run[v];	/* the run page itself */
		return 0;
	}
	default:
		if (!b->p)
			return (uintptr_t)b;		/* a freed buffer: its old number */
		off = below(&p->r, b->size / p->page) * p->page;
		if (chance(&p->r, 5))
			off += 8;
		if (chance(&p->r, 80))
			*size = (below(&p->r, (b->size - off) / p->page) + 1) * p->page;
		return (uintptr_t)b->p + off;
	}
}

static uint64_t guest_addr(struct pool *p)
{
	return chance(&p->r, 70) ? 0x40000000ULL + below(&p->r, 64) * p->page : edgy(&p->r);
}

/* Tiny guests: stores to MMIO, RAM reads, WFI, HVC and junk */
static void write_guest(struct pool *p, struct buf *b)
{
	static const uint32_t prog[] = {
		0xf9000041,	/* str x1, [x2] */
		0xf9400083,	/* ldr x3, [x4] */
		0xd4000002,	/* hvc #0 */
		0xd503207f,	/* wfi */
		0x17fffffc,	/* b . - 16 */
	};
	size_t i;

	if (!b->p || b->ro)
		return;
	if (chance(&p->r, 50)) {
		memcpy(b->p, prog, sizeof(prog));
	} else {
		for (i = 0; i < 64; i++)
			((uint32_t *)b->p)[i] = (uint32_t)rnd(&p->r);
	}
}

static void op_mem_region(struct pool *p, int vm)
{
	struct avcpu_mem_region m;
	uint64_t size = edgy(&p->r);

	fill(&p->r, &m, sizeof(m));
	m.slot = chance(&p->r, 80) ? below(&p->r, 10) : (uint32_t)edgy(&p->r);
	m.flags = chance(&p->r, 80) ? below(&p->r, 4) : edgy(&p->r);
	m.guest_phys_addr = guest_addr(p);
	m.userspace_addr = user_addr(p, &size);
	m.memory_size = chance(&p->r, 15) ? 0 : size;
	if (chance(&p->r, 90)) {
		m.reserved0 = 0;
		memset(m.reserved, 0, sizeof(m.reserved));
	}
	call(vm, AVCPU_SET_MEMORY_REGION, (uintptr_t)&m, "SET_MEMORY_REGION");
}

static void op_create_vcpu(struct pool *p, int vmi)
{
	struct avcpu_vcpu_init init;
	long fd;

	fill(&p->r, &init, sizeof(init));
	init.vcpu_id = chance(&p->r, 80) ? below(&p->r, 4) : (uint32_t)edgy(&p->r);
	init.mpidr = chance(&p->r, 80) ? init.vcpu_id : edgy(&p->r);
	if (chance(&p->r, 90)) {
		init.flags = 0;
		memset(init.reserved, 0, sizeof(init.reserved));
	}
	fd = call(p->s[vmi].fd, AVCPU_CREATE_VCPU, (uintptr_t)&init, "CREATE_VCPU");
	if (fd >= 0)
		put(p, K_VCPU, fd, vmi);
}

static void op_map_run(struct pool *p, int v)
{
	size_t len = chance(&p->r, 85) ? p->run_size : edgy(&p->r) & 0xfffff;
	off_t off = chance(&p->r, 85) ? 0 : (off_t)(below(&p->r, 4) * p->page);
	int prot = chance(&p->r, 85) ? PROT_READ | PROT_WRITE : (int)below(&p->r, 8);
	void *m;

	m = mmap(NULL, len, prot, chance(&p->r, 90) ? MAP_SHARED : MAP_PRIVATE,
		 p->s[v].fd, off);
	atomic_fetch_add(&fuzz_st.calls, 1);
	if (m == MAP_FAILED)
		return;
	if (p->run[v] || len != p->run_size || off || prot != (PROT_READ | PROT_WRITE)) {
		munmap(m, len);
		return;
	}
	p->run[v] = m;
}

/* Before a RUN: the run page holds whatever a buggy VMM might leave */
static void scribble_run(struct pool *p, int v)
{
	struct avcpu_run *run = p->run[v];

	if (!run || !chance(&p->r, 30))
		return;
	fill(&p->r, (uint8_t *)run + offsetof(struct avcpu_run, ret),
	     sizeof(*run) - offsetof(struct avcpu_run, ret));
	if (chance(&p->r, 10))
		run->exit_reason = (uint32_t)rnd(&p->r);
	run->immediate_exit = chance(&p->r, 10);
}

static void op_run(struct pool *p, int v)
{
	scribble_run(p, v);
	/*
	 * A RUN whose guest runs on ends at this timer, and costs all of it:
	 * at 2 to 22 ms, waiting took half the fuzzer's time. 0.5 to 5 ms
	 * still lets a guest run into its host's tick now and then. A slow
	 * (debug) host keeps longer RUNs: there the short ones cost calls
	 * (5,923 against 7,749 in 12 s with one seed on 6.12debug-4k-vhe).
	 */
	fuzz_arm((500 + below(&p->r, 4500)) * avcpu_host_slowdown());
	if (judged(p->s[v].fd, AVCPU_RUN, 0, "RUN") == 0)
		atomic_fetch_add(&fuzz_st.exits, 1);
	fuzz_arm(0);
	atomic_fetch_add(&fuzz_st.runs, 1);
}

static void op_vcpu(struct pool *p, int v)
{
	union {
		struct avcpu_setup setup;
		struct avcpu_bind bind;
		struct avcpu_regs regs;
		struct avcpu_sysreg sysreg;
		struct avcpu_irq_level level;
		struct avcpu_irq irq;
	} a;
	int fd = p->s[v].fd;

	fill(&p->r, &a, sizeof(a));
	switch (below(&p->r, 12)) {
	case 0:
		a.setup.entry = guest_addr(p);
		if (chance(&p->r, 90))
			a.setup.flags = 0, memset(a.setup.reserved, 0, sizeof(a.setup.reserved));
		call(fd, AVCPU_SETUP, (uintptr_t)&a, "SETUP");
		break;
	case 1:
		a.bind.cpu = chance(&p->r, 70) ? AVCPU_BIND_CURRENT_CPU : (uint32_t)edgy(&p->r);
		if (chance(&p->r, 90))
			a.bind.flags = 0, memset(a.bind.reserved, 0, sizeof(a.bind.reserved));
		call(fd, AVCPU_BIND, (uintptr_t)&a, "BIND");
		break;
	case 2:
	case 3:
		op_run(p, v);
		break;
	case 4:
		call(fd, AVCPU_UNBIND, chance(&p->r, 90) ? 0 : edgy(&p->r), "UNBIND");
		break;
	case 5:
		call(fd, AVCPU_GET_REGS, (uintptr_t)&a, "GET_REGS");
		if (chance(&p->r, 50)) {
			a.regs.x[1] = 0x10000000 + below(&p->r, 16) * 8;	/* MMIO */
			a.regs.x[2] = a.regs.x[1];
			a.regs.x[4] = guest_addr(p);
			a.regs.pc = guest_addr(p);
		}
		if (chance(&p->r, 20))
			a.regs.pstate = edgy(&p->r);
		call(fd, AVCPU_SET_REGS, (uintptr_t)&a, "SET_REGS");
		break;
	case 6:
		a.sysreg.encoding = chance(&p->r, 50) ?
			AVCPU_SYSREG(3, below(&p->r, 8), below(&p->r, 16), below(&p->r, 16), below(&p->r, 8)) :
			(uint32_t)edgy(&p->r);
		if (chance(&p->r, 90))
			a.sysreg.reserved0 = 0, memset(a.sysreg.reserved, 0, sizeof(a.sysreg.reserved));
		call(fd, chance(&p->r, 50) ? AVCPU_GET_SYSREG : AVCPU_SET_SYSREG,
		       (uintptr_t)&a, "GET/SET_SYSREG");
		break;
	case 7:
		a.level.intid = chance(&p->r, 80) ? below(&p->r, 100) : (uint32_t)edgy(&p->r);
		a.level.level = chance(&p->r, 90) ? below(&p->r, 2) : (uint32_t)rnd(&p->r);
		if (chance(&p->r, 90))
			a.level.reserved0 = 0, a.level.reserved = 0;
		/* a source only for SGIs, and only on a GICv2 host */
		if (chance(&p->r, 90))
			a.level.source = below(&p->r, 8);
		call(fd, AVCPU_INJECT_IRQ, (uintptr_t)&a, "INJECT_IRQ");
		break;
	case 8:
		a.irq.intid = chance(&p->r, 80) ? below(&p->r, 100) : (uint32_t)edgy(&p->r);
		if (chance(&p->r, 90))
			memset(a.irq.reserved0, 0, sizeof(a.irq.reserved0)),
			memset(a.irq.reserved, 0, sizeof(a.irq.reserved));
		call(fd, chance(&p->r, 40) ? AVCPU_GET_IRQ : AVCPU_SET_IRQ, (uintptr_t)&a,
		       "GET/SET_IRQ");
		break;
	case 9:
		call(fd, AVCPU_GET_STATE, chance(&p->r, 90) ? 0 : edgy(&p->r), "GET_STATE");
		call(fd, AVCPU_GET_STATS, (uintptr_t)&a, "GET_STATS");
		break;
	case 10:
		op_map_run(p, v);
		break;
	default:
		if (p->run[v] && chance(&p->r, 50)) {
			munmap(p->run[v], p->run_size);
			p->run[v] = NULL;
		} else {
			op_run(p, v);
		}
		break;
	}
}

static void op_vm(struct pool *p, int vmi)
{
	union {
		struct avcpu_counter_offset co;
		struct avcpu_ioeventfd io;
		struct avcpu_irqfd irqfd;
		struct avcpu_enable_cap cap;
		struct avcpu_stats stats;
		struct avcpu_coalesced_zone zone;
	} a;
	int fd = p->s[vmi].fd, e;

	fill(&p->r, &a, sizeof(a));
	switch (below(&p->r, 10)) {
	case 0:
	case 1:
		op_mem_region(p, fd);
		break;
	case 2:
		op_create_vcpu(p, vmi);
		break;
	case 3:
		call(fd, AVCPU_SET_NR_IRQS, chance(&p->r, 50) ? 32 * below(&p->r, 34) : edgy(&p->r),
		       "SET_NR_IRQS");
		break;
	case 4:
		call(fd, chance(&p->r, 50) ? AVCPU_GET_COUNTER_OFFSET : AVCPU_SET_COUNTER_OFFSET,
		       (uintptr_t)&a, "COUNTER_OFFSET");
		break;
	case 5:
		e = pick(p, K_EVENTFD);
		a.io.addr = chance(&p->r, 70) ? 0x10000000 + below(&p->r, 8) * 4 : edgy(&p->r);
		a.io.len = chance(&p->r, 70) ? 1U << below(&p->r, 4) : (uint32_t)edgy(&p->r);
		a.io.fd = chance(&p->r, 80) && e >= 0 ? p->s[e].fd : any_fd(p);
		a.io.flags = chance(&p->r, 80) ? below(&p->r, 4) : edgy(&p->r);
		if (chance(&p->r, 90))
			memset(a.io.reserved, 0, sizeof(a.io.reserved));
		call(fd, AVCPU_IOEVENTFD, (uintptr_t)&a, "IOEVENTFD");
		break;
	case 6:
		e = pick(p, K_EVENTFD);
		a.irqfd.fd = chance(&p->r, 80) && e >= 0 ? p->s[e].fd : any_fd(p);
		a.irqfd.intid = chance(&p->r, 80) ? 32 + below(&p->r, 64) : (uint32_t)edgy(&p->r);
		a.irqfd.flags = chance(&p->r, 80) ? below(&p->r, 2) : (uint32_t)edgy(&p->r);
		if (chance(&p->r, 90))
			memset(a.irqfd.reserved, 0, sizeof(a.irqfd.reserved));
		call(fd, AVCPU_IRQFD, (uintptr_t)&a, "IRQFD");
		break;
	case 7:
		a.cap.cap = chance(&p->r, 70) ? below(&p->r, 4) : (uint32_t)edgy(&p->r);
		if (chance(&p->r, 80))
			a.cap.flags = 0;
		call(fd, AVCPU_ENABLE_CAP, (uintptr_t)&a, "ENABLE_CAP");
		break;
	case 8:
		call(fd, AVCPU_GET_STATS, (uintptr_t)&a, "GET_STATS");
		break;
	default:
		a.zone.addr = chance(&p->r, 70) ? 0x08000000 + below(&p->r, 64) * 4 : edgy(&p->r);
		a.zone.size = chance(&p->r, 70) ? 4U << below(&p->r, 8) : (uint32_t)edgy(&p->r);
		call(fd, AVCPU_COALESCED_MMIO, (uintptr_t)&a, "COALESCED_MMIO");
		break;
	}
}

/* Any number in avcpu's ioctl space (or outside it), with any argument */
static void op_random_ioctl(struct pool *p)
{
	static uint8_t junk[4096];
	unsigned long cmd, arg;
	uint64_t nr = chance(&p->r, 80) ? 0x80 + below(&p->r, 0x30) : below(&p->r, 256);

	cmd = _IOC(below(&p->r, 4), chance(&p->r, 90) ? AVCPUIO : below(&p->r, 256), nr,
		   chance(&p->r, 50) ? below(&p->r, 64) * 8 : below(&p->r, 1 << 14));
	fill(&p->r, junk, sizeof(junk));
	int lowest;
	long ret;

	switch (below(&p->r, 6)) {
	case 0:
		arg = (uintptr_t)junk;
		break;
	case 1:
		arg = (uintptr_t)junk + sizeof(junk) - below(&p->r, 64);	/* runs off the end */
		break;
	case 2:
		arg = 0xffff800000000000ULL + below(&p->r, 1 << 20) * 8;	/* the kernel's half */
		break;
	case 3:
		arg = edgy(&p->r);
		break;
	default:
		arg = (uintptr_t)p->guard + below(&p->r, 64);
		break;
	}
	/* a call that happens to make a VM or a vCPU gets the lowest free fd */
	lowest = dup(0);
	close(lowest);
	ret = call(any_fd(p), cmd, arg, "random ioctl");
	if (ret == lowest && fcntl(lowest, F_GETFD) >= 0)
		close(lowest);
}

static void op_buffers(struct pool *p)
{
	struct buf *b = &p->b[below(&p->r, NR_BUFS)];

	if (b->p && chance(&p->r, 30)) {
		/* registered or not: the backing goes (the guest may then fault) */
		munmap(b->p, b->size);
		b->p = NULL;
	} else if (!b->p) {
		b->ro = chance(&p->r, 15);
		b->p = mmap(NULL, b->size, PROT_READ | (b->ro ? 0 : PROT_WRITE),
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b->p == MAP_FAILED)
			b->p = NULL;
	}
	write_guest(p, b);
}

static void one_op(struct pool *p, int dev)
{
	int i, fd;

	switch (below(&p->r, 20)) {
	case 0:
		if (count(p, K_VM) < MAX_VMS) {
			fd = call(dev, AVCPU_CREATE_VM, chance(&p->r, 95) ? 0 : edgy(&p->r),
				    "CREATE_VM");
			if (fd >= 0)
				put(p, K_VM, fd, -1);
		}
		break;
	case 1:
		call(dev, AVCPU_GET_CAPS, chance(&p->r, 50) ? (uintptr_t)p->guard : 0,
		       "GET_CAPS");
		call(dev, chance(&p->r, 50) ? AVCPU_GET_API_VERSION : AVCPU_GET_VCPU_MMAP_SIZE,
		       chance(&p->r, 90) ? 0 : edgy(&p->r), "GET_API_VERSION/MMAP_SIZE");
		break;
	case 2:
		/* close a VM or a vCPU, its mappings with it */
		i = pick(p, chance(&p->r, 50) ? K_VM : K_VCPU);
		if (i >= 0 && chance(&p->r, 30))
			drop(p, i);
		break;
	case 3:
		if (count(p, K_EVENTFD) < 3) {
			fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fd >= 0)
				put(p, K_EVENTFD, fd, -1);
		} else if ((i = pick(p, K_EVENTFD)) >= 0) {
			drop(p, i);
		}
		break;
	case 4:
		op_random_ioctl(p);
		break;
	case 5:
		op_buffers(p);
		break;
	case 6:
	case 7:
	case 8:
	case 9:
		i = pick(p, K_VM);
		if (i >= 0)
			op_vm(p, i);
		break;
	default:
		i = pick(p, K_VCPU);
		if (i >= 0)
			op_vcpu(p, i);
		break;
	}
}

static void pool_close(struct pool *p)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		if (p->s[i].kind != K_NONE && p->s[i].kind != K_CLOSED)
			drop(p, i);
	for (i = 0; i < NR_BUFS; i++)
		if (p->b[i].p)
			munmap(p->b[i].p, p->b[i].size);
}

/* The whole run; returns the calls it made */
static uint64_t fuzz_serial(uint64_t seed, uint64_t calls, double until)
{
	struct pool p = { .r = { seed }, .page = sysconf(_SC_PAGESIZE) };
	uint64_t start = fuzz_st.calls, n = 0;
	int dev, i;

	dev = open("/dev/avcpu", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 0;
	p.run_size = ioctl(dev, AVCPU_GET_VCPU_MMAP_SIZE, 0);
	p.guard = mmap(NULL, p.page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p.guard == MAP_FAILED) {
		close(dev);
		return 0;
	}
	for (i = 0; i < NR_BUFS; i++)
		p.b[i].size = BUF_SIZE;
	while (fuzz_st.calls - start < calls && (++n % 64 || avcpu_now() < until))
		one_op(&p, dev);
	pool_close(&p);
	munmap(p.guard, p.page);
	close(dev);
	return fuzz_st.calls - start;
}

FIXTURE(fuzz) {};
FIXTURE_SETUP(fuzz) {}
FIXTURE_TEARDOWN(fuzz) {}

TEST_F_TIMEOUT(fuzz, ioctls, 600)
{
	struct fuzz_result res;

	AVCPU_REQUIRE_RUN();
	fuzz_run("fuzz_test", FUZZ_CALLS, FUZZ_SECONDS, fuzz_serial, &res);
	EXPECT_EQ(0, res.bad_errno);
	EXPECT_LE(res.floor, res.made);
	EXPECT_EQ(res.before.pins, res.after.pins);
	EXPECT_EQ(res.before.refs, res.after.refs);
}

TEST_HARNESS_MAIN
