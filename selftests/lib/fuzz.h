/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What fuzz_test (one thread, a pool of fds) and race_test (threads racing
 * a RUN) share: a seeded generator, values a hostile VMM would pass, and
 * one judged ioctl that counts calls and flags any errno api.rst does not
 * list.
 *
 * AVCPU_FUZZ_SEED    the seed (default: from the clock; printed first)
 * AVCPU_FUZZ_CALLS   calls at most (default: the test's own)
 * AVCPU_FUZZ_SECONDS seconds at most (default: the test's own)
 */
#ifndef AVCPU_FUZZ_H
#define AVCPU_FUZZ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: small, seedable, one stream per thread */
struct rng {
	uint64_t s;
};

uint64_t rnd(struct rng *r);
uint64_t below(struct rng *r, uint64_t n);
bool chance(struct rng *r, unsigned int percent);
/* A value a careless or hostile VMM might pass: edges more than noise */
uint64_t edgy(struct rng *r);
/* Mostly zero bytes, some noise: structs that almost pass validation */
void fill(struct rng *r, void *p, size_t len);

#define FUZZ_ERRNOS	160

struct fuzz_stats {
	atomic_ulong calls, ok, bad_errno, runs, exits;
	atomic_ulong errnos[FUZZ_ERRNOS];
};

extern struct fuzz_stats fuzz_st;

/* Every errno api.rst lists for some call; never ERESTARTSYS and the like */
bool documented_errno(int e);
/* One ioctl, counted and judged: what it returned, or -errno */
long judged(int fd, unsigned long cmd, unsigned long arg, const char *what);
/*
 * Blocking ioctls (a RUN, or anything waiting behind one) end with EINTR:
 * the calling thread has SIGALRM and SIGUSR1 handlers without SA_RESTART,
 * and fuzz_arm() signals every @usec until fuzz_arm(0).
 */
void fuzz_signals(void);
void fuzz_arm(long usec);

uint64_t fuzz_env(const char *name, uint64_t def);
/* AVCPU_FUZZ_SEED, or one from the clock; printed with how to replay it */
uint64_t fuzz_seed(const char *test);
void fuzz_print_errnos(void);

/* What must be the same before and after: pinned pages, module references */
struct fuzz_mark {
	long long pins;
	long refs;
};

void fuzz_mark(struct fuzz_mark *m);
/* A plain guest still runs, start to end (aborts the test otherwise) */
void fuzz_guest_runs(void);

struct fuzz_result {
	uint64_t made;			/* calls made */
	/*
	 * the calls a working run makes at least: 100 a second of its bound,
	 * divided by a slow host's slowdown, at most the calls asked for
	 * (race_test makes 110 to 180 a second on the debug lanes, 900 and up
	 * on the others)
	 */
	uint64_t floor;
	unsigned long bad_errno;	/* failures with an errno api.rst lacks */
	struct fuzz_mark before, after;
};

/*
 * One fuzzer's run: print the seed and bounds (AVCPU_FUZZ_CALLS and
 * AVCPU_FUZZ_SECONDS over the defaults), call @body(seed, calls, until),
 * print what it did, check that a plain guest still runs, and take the
 * marks before and after for the test to compare.
 */
void fuzz_run(const char *test, uint64_t calls, unsigned int seconds,
	      uint64_t (*body)(uint64_t seed, uint64_t calls, double until),
	      struct fuzz_result *res);

#endif
