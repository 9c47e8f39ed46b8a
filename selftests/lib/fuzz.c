// SPDX-License-Identifier: GPL-2.0
/* The fuzzers' shared generator and judge (fuzz.h) */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest.h"
#include "avcpu_test.h"
#include "avcpu_vm.h"
#include "fuzz.h"

struct fuzz_stats fuzz_st;

uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

uint64_t edgy(struct rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 1019,
		1020, 1023, 1024, 4095, 4096, 16384, 65536, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ULL, 0x40000000,
		0xfffffffffffff000ULL, 0x8000000000000000ULL, ~0ULL, ~1ULL,
		1ULL << 48, 1ULL << 52, (1ULL << 48) - 4096, 0xffff000000000000ULL,
	};

	switch (below(r, 4)) {
	case 0:
		return rnd(r);
	case 1:
		return rnd(r) & 0xffff;
	default:
		return edges[below(r, sizeof(edges) / sizeof(edges[0]))];
	}
}

void fill(struct rng *r, void *p, size_t len)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = chance(r, 70) ? 0 : (uint8_t)rnd(r);
}

bool documented_errno(int e)
{
	switch (e) {
	case EACCES: case EBADF: case EBUSY: case EEXIST: case EFAULT:
	case EINTR: case EINVAL: case EIO: case EMFILE: case ENFILE:
	case ENOENT: case ENOMEM: case ENOSPC: case ENOTTY: case EOPNOTSUPP:
	case EPERM:
		return true;
	}
	return false;
}

long judged(int fd, unsigned long cmd, unsigned long arg, const char *what)
{
	long ret = ioctl(fd, cmd, arg);
	int e = errno;

	atomic_fetch_add(&fuzz_st.calls, 1);
	if (ret >= 0) {
		atomic_fetch_add(&fuzz_st.ok, 1);
		return ret;
	}
	if (e >= 0 && e < FUZZ_ERRNOS)
		atomic_fetch_add(&fuzz_st.errnos[e], 1);
	if (!documented_errno(e) && atomic_fetch_add(&fuzz_st.bad_errno, 1) < 10)
		ksft_print_msg("call %lu: %s (cmd 0x%lx on fd %d) failed with errno %d (%s), not one api.rst lists\n",
			       (unsigned long)fuzz_st.calls, what, cmd, fd, e, strerror(e));
	return -e;
}

static void on_signal(int sig)
{
}

void fuzz_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */

	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Signal the thread's process every @usec until disarmed (0): a call that
 * blocks (RUN) cannot outlive it. Periodic, because the first signal can
 * come before the call has started (a host tick between setitimer() and
 * the ioctl is enough at the fuzzer's RUN lengths), and a one-shot timer
 * would then leave that call nothing to end it.
 */
void fuzz_arm(long usec)
{
	struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };
	struct itimerval t = { .it_value = tv, .it_interval = tv };

	setitimer(ITIMER_REAL, &t, NULL);
}

uint64_t fuzz_env(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

uint64_t fuzz_seed(const char *test)
{
	struct timespec ts;
	uint64_t seed;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = fuzz_env("AVCPU_FUZZ_SEED", (uint64_t)ts.tv_sec * 1000003 + ts.tv_nsec / 1000);
	ksft_print_msg("seed %llu: AVCPU_FUZZ_SEED=%llu AVCPU_TESTS=%s python3 scripts/rig.py check <lane> replays it\n",
		       (unsigned long long)seed, (unsigned long long)seed, test);
	return seed;
}

void fuzz_print_errnos(void)
{
	char line[1024];
	int e, n = 0;

	for (e = 0; e < FUZZ_ERRNOS && n < (int)sizeof(line) - 32; e++)
		if (fuzz_st.errnos[e])
			n += snprintf(line + n, sizeof(line) - n, " %s:%lu",
				      strerrorname_np(e) ?: "?", (unsigned long)fuzz_st.errnos[e]);
	ksft_print_msg("failed calls by errno:%s\n", n ? line : " none");
}

void fuzz_mark(struct fuzz_mark *m)
{
	m->pins = avcpu_pinned_pages();
	m->refs = avcpu_module_refcnt();
}

static void guest_done(void)
{
	GUEST_DONE();
}

void fuzz_guest_runs(void)
{
	struct avcpu_vm *vm = vm_create();
	struct avcpu_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_done);

	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

void fuzz_run(const char *test, uint64_t calls, unsigned int seconds,
	      uint64_t (*body)(uint64_t seed, uint64_t calls, double until),
	      struct fuzz_result *res)
{
	uint64_t seed = fuzz_seed(test);
	double t0;

	calls = fuzz_env("AVCPU_FUZZ_CALLS", calls);
	seconds = fuzz_env("AVCPU_FUZZ_SECONDS", seconds);
	res->floor = 100ULL * seconds / avcpu_host_slowdown();
	if (res->floor > calls)
		res->floor = calls;
	ksft_print_msg("at most %llu calls in %u s (at least %llu)\n",
		       (unsigned long long)calls, seconds, (unsigned long long)res->floor);
	fuzz_signals();
	fuzz_mark(&res->before);
	t0 = avcpu_now();
	res->made = body(seed, calls, t0 + seconds);
	ksft_print_msg("%llu calls in %.1f s; %lu RUNs, %lu exits; %lu succeeded\n",
		       (unsigned long long)res->made, avcpu_now() - t0,
		       (unsigned long)fuzz_st.runs, (unsigned long)fuzz_st.exits,
		       (unsigned long)fuzz_st.ok);
	fuzz_print_errnos();
	res->bad_errno = fuzz_st.bad_errno;
	fuzz_guest_runs();
	fuzz_mark(&res->after);
	ksft_print_msg("pinned pages %lld -> %lld, module references %ld -> %ld\n",
		       res->before.pins, res->after.pins, res->before.refs, res->after.refs);
}
