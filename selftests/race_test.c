// SPDX-License-Identifier: GPL-2.0
/*
 * Threads racing a RUN: in rounds of a fresh VM, two vCPU owners run a
 * guest that exits to MMIO, reads RAM and sleeps in WFI, while chaos
 * threads UNBIND, change the memory region under it, inject and configure
 * interrupts, dup and close the vCPU fd, map and unmap the run page, kick
 * the owners, wait behind their RUN and fork children that call in from
 * another mm. Each round ends by closing the vCPUs, unmapping guest RAM or
 * closing the VM under the running owners.
 *
 * As in fuzz_test: the host stays clean, every failure is an errno
 * api.rst lists, and afterwards nothing stays pinned or referenced. The
 * seed replays the same operations, in an interleaving the scheduler picks
 * (Documentation/testing.rst, "Fuzzing").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_vm.h"
#include "fuzz.h"

#define RACE_CALLS	50000
#define RACE_SECONDS	12
#define RACE_THREADS	3
#define KICK_USEC	2000
#define CHILD_TICK_USEC	20000

/* --- the racing phase: one VM, vCPU owners in RUN, others at its state --- */

struct race {
	int dev, vm, vcpu[2];
	uint8_t *mem;		/* slot 0: code page, then data */
	size_t mem_size;
	/* an extra run page mapping, munmap'd at will: one owner at a time */
	_Atomic(void *) run;
	size_t run_size;
	pthread_t owner[2];
	/* each owner's argument: which vCPU is its own */
	struct owner_arg {
		struct race *rc;
		int me;
	} owner_arg[2];
	atomic_bool stop;
	atomic_int owners_done;
	atomic_int chaos_done;
	uint64_t seed;
	long page;
};

static void race_program(struct race *rc)
{
	static const uint32_t prog[] = {
		0xf9000041,	/* str x1, [x2]: an MMIO exit */
		0xf9400083,	/* ldr x3, [x4]: RAM in the data page */
		0xd503207f,	/* wfi */
		0x17fffffd,	/* b . - 12 */
	};

	memcpy(rc->mem, prog, sizeof(prog));
}

static int race_vcpu(struct race *rc, int id)
{
	struct avcpu_vcpu_init init = { .vcpu_id = id, .mpidr = id };
	struct avcpu_setup setup = { .entry = 0x40000000 };
	struct avcpu_regs regs;
	int fd = ioctl(rc->vm, AVCPU_CREATE_VCPU, &init);

	if (fd < 0)
		return -1;
	if (ioctl(fd, AVCPU_SETUP, &setup) || ioctl(fd, AVCPU_GET_REGS, &regs)) {
		close(fd);
		return -1;
	}
	regs.x[1] = 0x5a;
	regs.x[2] = 0x10000000;				/* not RAM: MMIO */
	regs.x[4] = 0x40000000 + rc->page;		/* the data page */
	ioctl(fd, AVCPU_SET_REGS, &regs);
	return fd;
}

/* An owner: binds, runs, answers exits by running again, rebinds when told */
static void *owner_fn(void *arg)
{
	struct owner_arg *oa = arg;
	struct race *rc = oa->rc;
	int me = oa->me;	/* not from rc->owner[]: the thread may run before it is set */
	int fd = rc->vcpu[me];
	struct avcpu_bind bind = { .cpu = me % sysconf(_SC_NPROCESSORS_ONLN) };
	long ret;

	judged(fd, AVCPU_BIND, (uintptr_t)&bind, "race BIND");
	while (!rc->stop) {
		ret = judged(fd, AVCPU_RUN, 0, "race RUN");
		atomic_fetch_add(&fuzz_st.runs, 1);
		if (ret == 0)
			atomic_fetch_add(&fuzz_st.exits, 1);
		else if (ret == -EPERM || ret == -EBUSY)
			judged(fd, AVCPU_BIND, (uintptr_t)&bind, "race BIND");
		else if (ret == -EBADF || ret == -EIO || ret == -EFAULT || ret == -ENOTTY)
			break;	/* closed under us, or its memory went */
	}
	atomic_fetch_add(&rc->owners_done, 1);
	return NULL;
}

/*
 * A child of fork: the fds it inherited belong to another mm. It only makes
 * system calls (another thread may hold stdio's lock), and exits 10 + the
 * number of the call that failed with an errno api.rst does not list.
 */
static void race_child(struct race *rc, struct rng *r)
{
	struct avcpu_regs regs;
	void *m;

	/* nobody kicks the child: its own timer ends a call that waits */
	fuzz_arm(CHILD_TICK_USEC);
	if (ioctl(rc->vcpu[below(r, 2)], AVCPU_RUN, 0) < 0 && !documented_errno(errno))
		_exit(11);
	if (ioctl(rc->vcpu[below(r, 2)], AVCPU_GET_REGS, &regs) < 0 && !documented_errno(errno))
		_exit(12);
	if (ioctl(rc->vm, AVCPU_GET_STATS, &regs) < 0 && !documented_errno(errno))
		_exit(13);
	m = mmap(NULL, rc->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, rc->vcpu[0], 0);
	if (m != MAP_FAILED)
		munmap(m, rc->run_size);
	_exit(0);
}

static void race_op(struct race *rc, struct rng *r)
{
	struct avcpu_mem_region m = { .slot = 1, .guest_phys_addr = 0x40000000 + rc->page,
				      .memory_size = rc->page };
	struct avcpu_irq_level level = { 0 };
	struct avcpu_irq irq = { 0 };
	struct avcpu_regs regs;
	int v = below(r, 2), fd;
	void *old;
	pid_t pid;

	switch (below(r, 9)) {
	case 0:
		/* not the owner: EPERM; racing the owner's RUN either way */
		judged(rc->vcpu[v], AVCPU_UNBIND, 0, "race UNBIND");
		break;
	case 1:
		/* the data page the guest reads goes and comes back */
		m.userspace_addr = (uintptr_t)rc->mem + rc->page;
		if (chance(r, 50))
			m.memory_size = 0;
		judged(rc->vm, AVCPU_SET_MEMORY_REGION, (uintptr_t)&m, "race SET_MEMORY_REGION");
		break;
	case 2:
		level.intid = below(r, 64);
		level.level = below(r, 2);
		judged(rc->vcpu[v], AVCPU_INJECT_IRQ, (uintptr_t)&level, "race INJECT_IRQ");
		break;
	case 3:
		irq.intid = below(r, 64);
		irq.priority = below(r, 256);
		irq.flags = rnd(r) & 0xff;
		irq.set_mask = rnd(r) & 0xff;
		judged(rc->vcpu[v], AVCPU_SET_IRQ, (uintptr_t)&irq, "race SET_IRQ");
		break;
	case 4:
		/* a second fd on the vCPU, closed while the owner runs */
		fd = dup(rc->vcpu[v]);
		if (fd >= 0) {
			judged(fd, AVCPU_GET_STATE, 0, "race GET_STATE");
			close(fd);
		}
		break;
	case 5:
		/* whoever takes the pointer unmaps it: never twice */
		old = atomic_exchange(&rc->run, NULL);
		if (old) {
			munmap(old, rc->run_size);
		} else {
			old = mmap(NULL, rc->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   rc->vcpu[v], 0);
			if (old != MAP_FAILED)
				old = atomic_exchange(&rc->run, old);
			if (old && old != MAP_FAILED)
				munmap(old, rc->run_size);
		}
		break;
	case 6:
		pid = fork();
		if (pid == 0)
			race_child(rc, r);
		if (pid > 0) {
			int status = 0;

			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				atomic_fetch_add(&fuzz_st.bad_errno, 1);
				ksft_print_msg("forked child: status 0x%x (10 + the call that failed badly)\n",
					       status);
			}
		}
		break;
	case 7:
		/* waits behind RUN: ends when the owner's RUN does, or on EINTR */
		judged(rc->vcpu[v], AVCPU_GET_REGS, (uintptr_t)&regs, "race GET_REGS");
		break;
	default:
		pthread_kill(rc->owner[v], SIGUSR1);	/* a kick */
		break;
	}
}

struct chaos {
	struct race *rc;
	uint64_t seed, calls;
	double until;
};

static void *chaos_fn(void *arg)
{
	struct chaos *c = arg;
	struct rng r = { c->seed };
	uint64_t n = 0;

	while (n++ < c->calls && (n % 32 || avcpu_now() < c->until))
		race_op(c->rc, &r);
	atomic_fetch_add(&c->rc->chaos_done, 1);
	return NULL;
}

/* The racing phase, in rounds of a fresh VM each; returns the calls made */
static uint64_t fuzz_race(uint64_t seed, uint64_t calls, double until)
{
	uint64_t start = fuzz_st.calls, round = 0;
	struct rng r = { seed };

	while (fuzz_st.calls - start < calls && avcpu_now() < until) {
		struct race rc = { .seed = rnd(&r), .page = sysconf(_SC_PAGESIZE) };
		struct avcpu_mem_region m = { 0 };
		struct chaos c[RACE_THREADS];
		pthread_t t[RACE_THREADS];
		uint64_t per = (calls - (fuzz_st.calls - start)) / RACE_THREADS / 4 + 1;
		int i, v, how;

		rc.mem_size = 2 * rc.page;
		rc.dev = open("/dev/avcpu", O_RDWR | O_CLOEXEC);
		rc.vm = ioctl(rc.dev, AVCPU_CREATE_VM, 0);
		rc.run_size = ioctl(rc.dev, AVCPU_GET_VCPU_MMAP_SIZE, 0);
		rc.mem = mmap(NULL, rc.mem_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (rc.dev < 0 || rc.vm < 0 || rc.mem == MAP_FAILED)
			return fuzz_st.calls - start;
		race_program(&rc);
		m.guest_phys_addr = 0x40000000;
		m.memory_size = rc.mem_size;
		m.userspace_addr = (uintptr_t)rc.mem;
		ioctl(rc.vm, AVCPU_SET_MEMORY_REGION, &m);
		for (v = 0; v < 2; v++)
			rc.vcpu[v] = race_vcpu(&rc, v);
		if (rc.vcpu[0] < 0 || rc.vcpu[1] < 0)
			return fuzz_st.calls - start;
		for (v = 0; v < 2; v++) {
			rc.owner_arg[v] = (struct owner_arg){ &rc, v };
			pthread_create(&rc.owner[v], NULL, owner_fn, &rc.owner_arg[v]);
		}
		for (i = 0; i < RACE_THREADS; i++) {
			c[i] = (struct chaos){ &rc, rnd(&r), per, until };
			pthread_create(&t[i], NULL, chaos_fn, &c[i]);
		}
		/*
		 * A call that waits behind an owner's RUN (GET_REGS, a second
		 * RUN) ends when that RUN does or on a signal: kick everyone
		 * until the chaos threads are through, so a guest asleep in
		 * WFI cannot hold the round up.
		 */
		while (rc.chaos_done < RACE_THREADS) {
			for (v = 0; v < 2; v++)
				pthread_kill(rc.owner[v], SIGUSR1);
			for (i = 0; i < RACE_THREADS; i++)
				pthread_kill(t[i], SIGUSR1);
			usleep(KICK_USEC);
		}
		for (i = 0; i < RACE_THREADS; i++)
			pthread_join(t[i], NULL);
		/* the end of the round races too: fds or RAM go under the owners */
		how = round++ % 3;
		if (how == 0) {
			close(rc.vcpu[0]);
			close(rc.vcpu[1]);
		} else if (how == 1) {
			munmap(rc.mem, rc.mem_size);
			rc.mem = NULL;
		} else {
			close(rc.vm);
		}
		rc.stop = true;
		while (rc.owners_done < 2) {
			pthread_kill(rc.owner[0], SIGUSR1);
			pthread_kill(rc.owner[1], SIGUSR1);
			usleep(KICK_USEC);
		}
		for (v = 0; v < 2; v++)
			pthread_join(rc.owner[v], NULL);
		if (how != 0) {
			close(rc.vcpu[0]);
			close(rc.vcpu[1]);
		}
		if (how != 2)
			close(rc.vm);
		if (rc.mem)
			munmap(rc.mem, rc.mem_size);
		if (rc.run)
			munmap((void *)rc.run, rc.run_size);
		close(rc.dev);
	}
	return fuzz_st.calls - start;
}

FIXTURE(race) {};
FIXTURE_SETUP(race) {}
FIXTURE_TEARDOWN(race) {}

TEST_F_TIMEOUT(race, run_against_everything, 600)
{
	struct fuzz_result res;

	AVCPU_REQUIRE_RUN();
	fuzz_run("race_test", RACE_CALLS, RACE_SECONDS, fuzz_race, &res);
	EXPECT_EQ(0, res.bad_errno);
	EXPECT_LE(res.floor, res.made);
	EXPECT_EQ(res.before.pins, res.after.pins);
	EXPECT_EQ(res.before.refs, res.after.refs);
}

TEST_HARNESS_MAIN
