// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "avcpu_test.h"

/*
 * What the QEMU rig's host lanes expect of avcpu, by the lane's expectation
 * (AVCPU_EXPECT; scripts/rig.py gives each lane one). The numbers are those
 * of QEMU 10's models: "-cpu max" has FEAT_LPA (52-bit PA) and the GICv3 CPU
 * interface model has 4 list registers; a Cortex-A72 has a 44-bit PA.
 */
static const struct avcpu_lane lanes[] = {
	{ "vhe", AVCPU_HOST_MODE_VHE, "avcpu: VHE host", 3, 4, 52 },
	{ "nvhe", AVCPU_HOST_MODE_NVHE, "avcpu: nVHE host", 3, 4, 44 },
	{ "nvhe-max", AVCPU_HOST_MODE_NVHE, "avcpu: nVHE host", 3, 4, 52 },
	{ "noel2", 0, "avcpu: the CPUs do not implement EL2", 0, 0, 0 },
	{ "nvhe-kvm", 0, "avcpu: KVM is enabled on this nVHE host", 0, 0, 0 },
	{ "nvhe-pkvm", 0, "avcpu: protected KVM (pKVM) holds EL2 on this host", 0, 0, 0 },
	{ "vhe-kvm", AVCPU_HOST_MODE_VHE, "avcpu: KVM is enabled: sharing EL2 with it", 3, 4, 52 },
	{ "nvhe-lva52", 0, "avcpu: nVHE guests need a kernel VA of at most 48 bits", 0, 0, 0 },
	/* QEMU's GICv2 virtualization extensions have 4 list registers too */
	{ "vhe-gicv2", AVCPU_HOST_MODE_VHE, "avcpu: VHE host", 2, 4, 52 },
	{ "nvhe-gicv2", AVCPU_HOST_MODE_NVHE, "avcpu: nVHE host", 2, 4, 44 },
};

const struct avcpu_lane *avcpu_lane(void)
{
	const char *name = getenv("AVCPU_EXPECT");
	size_t i;

	if (!name || !*name)
		name = getenv("AVCPU_LANE");	/* an older rig: the lane's name */
	if (!name || !*name)
		return NULL;
	for (i = 0; i < sizeof(lanes) / sizeof(lanes[0]); i++)
		if (!strcmp(lanes[i].name, name))
			return &lanes[i];
	fprintf(stderr, "unknown AVCPU_EXPECT '%s'\n", name);
	abort();
}

bool avcpu_loaded(void)
{
	return access(AVCPU_SYSFS, F_OK) == 0;
}

const char *avcpu_module_path(void)
{
	const char *p = getenv("AVCPU_MODULE");

	return p && *p ? p : "/lib/avcpu/avcpu.ko";
}

int __avcpu_load(void)
{
	int fd, ret;

	fd = open(avcpu_module_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

int __avcpu_unload(bool nonblock)
{
	if (syscall(SYS_delete_module, "avcpu", nonblock ? O_NONBLOCK : 0))
		return -errno;
	return 0;
}

int avcpu_klog_contains(const char *needle)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	int n, found;

	if (size < 0)
		return -errno;
	buf = calloc(1, size + 1);
	if (!buf)
		return -ENOMEM;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	buf[n] = '\0';
	found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

double avcpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long avcpu_host_slowdown(void)
{
	const char *s = getenv("AVCPU_HOST_SLOWDOWN");
	long slow = s ? atol(s) : 1;

	return slow > 1 ? slow : 1;
}

bool avcpu_host_one_thread(void)
{
	const char *s = getenv("AVCPU_HOST_ONE_THREAD");

	return s && atoi(s) > 0;
}

int avcpu_kill_and_reap(int pid, double limit_s, int *status, double *waited)
{
	double t0;
	int w = 0;

	kill(pid, SIGKILL);
	t0 = avcpu_now();
	while (avcpu_now() - t0 < limit_s) {
		w = waitpid(pid, status, WNOHANG);
		if (w)
			break;
		usleep(5000);
	}
	*waited = avcpu_now() - t0;
	return w;
}

long avcpu_module_refcnt(void)
{
	long v = -1;
	FILE *f = fopen(AVCPU_SYSFS "/refcnt", "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * /proc/vmstat: pages pinned (FOLL_PIN) now, system wide. The counters
 * are per CPU, folded into the global ones in batches: vm.stat_refresh
 * folds them all first, so that the difference is exact.
 */
long long avcpu_pinned_pages(void)
{
	long long acquired = -1, released = -1, v;
	char name[64];
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "we");

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	if (acquired < 0 || released < 0)
		return -1;
	return acquired - released;
}
