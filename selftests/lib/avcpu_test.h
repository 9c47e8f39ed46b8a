/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the avcpu selftests.
 *
 * Convention (as in the KVM selftest library): a helper whose name starts
 * with "__" returns an error to its caller; the plain name asserts.
 *
 * The rig tells a test which host lane it runs in through AVCPU_LANE (see
 * Documentation/testing.rst); on a real host it is unset and the tests
 * check what holds on any host.
 */
#ifndef AVCPU_TEST_H
#define AVCPU_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/avcpu.h>

#define AVCPU_DEV	"/dev/avcpu"
#define AVCPU_SYSFS	"/sys/module/avcpu"

/* What a lane expects of the host check. */
struct avcpu_lane {
	const char *name;
	unsigned int host_mode;	/* AVCPU_HOST_MODE_*, 0: must refuse */
	const char *klog;	/* the line the module logs, in part */
	unsigned int gic_version;
	unsigned int nr_lrs;	/* 0: not known in this mode */
	unsigned int pa_bits;
};

/* NULL when AVCPU_LANE is unset (a real host); aborts on an unknown lane. */
const struct avcpu_lane *avcpu_lane(void);

bool avcpu_loaded(void);
const char *avcpu_module_path(void);

/* Return 0 or -errno. */
int __avcpu_load(void);
int __avcpu_unload(bool nonblock);

/* CLOCK_MONOTONIC in seconds. */
double avcpu_now(void);

/*
 * How many times slower than a production host this lane's host is
 * (AVCPU_HOST_SLOWDOWN, set by the rig for the debug lanes; at least 1):
 * rates and time limits scale by it.
 */
long avcpu_host_slowdown(void);

/*
 * Whether this host's CPUs take turns on one thread of the machine below
 * (AVCPU_HOST_ONE_THREAD, set by the rig where QEMU runs a lane's CPUs on
 * one thread): a thread that spins for another CPU then holds the one the
 * other CPU needs, so waiting sleeps at once.
 */
bool avcpu_host_one_thread(void);

/*
 * SIGKILL @pid and reap it, waiting at most @limit_s seconds; returns what
 * waitpid() last returned (@pid once reaped, 0 if it was not) and the
 * seconds it took in *@waited.
 */
int avcpu_kill_and_reap(int pid, double limit_s, int *status, double *waited);

/* /sys/module/avcpu/refcnt, -1 if unreadable. */
long avcpu_module_refcnt(void);

/* Pages pinned (FOLL_PIN) system wide now, exact (/proc/vmstat); -1 if unknown */
long long avcpu_pinned_pages(void);

/* Does the kernel log hold a line containing @needle? -errno if unreadable. */
int avcpu_klog_contains(const char *needle);

/*
 * Inside a TEST(): skip unless avcpu is loaded, saying why (on the rig the
 * host_test binary asserts that it is loaded exactly where it should be).
 */
#define AVCPU_REQUIRE_LOADED() do {					\
	if (!avcpu_loaded())						\
		SKIP(return, "avcpu is not loaded on this host (see host_test and dmesg)"); \
} while (0)

/* Inside a TEST(): skip unless the module file is there to (re)load. */
#define AVCPU_REQUIRE_MODULE_FILE() do {				\
	if (access(avcpu_module_path(), R_OK))				\
		SKIP(return, "no module file at %s (set AVCPU_MODULE)",	\
		     avcpu_module_path());				\
} while (0)

#endif
