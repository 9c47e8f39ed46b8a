// SPDX-License-Identifier: GPL-2.0
/*
 * avm-bench: the guest side of `make bench` (scripts/bench.py). It runs
 * inside a Linux guest of avm and times with CLOCK_MONOTONIC, which under
 * QEMU's -icount shift=0,sleep=off advances one nanosecond per emulated
 * instruction: its "ns" are instruction counts of the whole emulated
 * machine (Documentation/testing.rst, "Benchmark").
 *
 *   avm-bench pingpong N         N round trips of one byte between two
 *                                processes on CPUs 0 and 1, over pipes
 *   avm-bench read FILE MIB      sequential reads of FILE, 64 KiB at a time
 *   avm-bench write FILE MIB     sequential writes, then fsync
 *   avm-bench send ADDR PORT MIB a TCP stream of MIB MiB to ADDR:PORT
 *
 * Each prints one line "avm-bench: <what> <count> ns=<elapsed> ..." that
 * the host side parses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(64 * 1024)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "avm-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void xfer(int rfd, int wfd, char *c)
{
	if (read(rfd, c, 1) != 1)
		die("read");
	if (write(wfd, c, 1) != 1)
		die("write");
}

/*
 * The parent on CPU 0 writes, the child on CPU 1 answers: each round trip
 * wakes a task on the other CPU twice, an IPI each time.
 */
static int pingpong(unsigned long n)
{
	int ab[2], ba[2], status;
	unsigned long i;
	uint64_t t0, t1;
	char c = 'x';
	pid_t pid;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		pin(1);
		for (i = 0; i <= n; i++)
			xfer(ab[0], ba[1], &c);
		_exit(0);
	}
	pin(0);
	/* one round trip first: both sides are running and pinned */
	if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
		die("warm-up");
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (write(ab[1], &c, 1) != 1)
			die("write");
		if (read(ba[0], &c, 1) != 1)
			die("read");
	}
	t1 = now_ns();
	waitpid(pid, &status, 0);
	printf("avm-bench: pingpong %lu ns=%llu per-round-trip=%llu\n", n,
	       (unsigned long long)(t1 - t0), (unsigned long long)((t1 - t0) / n));
	return 0;
}

static void report(const char *what, unsigned long mib, uint64_t ns)
{
	/* MiB per 10^9 ns: per second of guest time, per 10^9 instructions */
	printf("avm-bench: %s %lu MiB ns=%llu MiB/s=%.1f\n", what, mib,
	       (unsigned long long)ns, ns ? mib * 1e9 / ns : 0.0);
}

static int disk(const char *path, unsigned long mib, bool wr)
{
	static char buf[CHUNK];
	unsigned long i, n = mib * (1024 * 1024 / CHUNK);
	uint64_t t0;
	int fd = open(path, wr ? O_WRONLY : O_RDONLY);

	if (fd < 0)
		die(path);
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ssize_t r = wr ? write(fd, buf, CHUNK) : read(fd, buf, CHUNK);

		if (r != CHUNK)
			die(wr ? "write" : "read");
	}
	if (wr && fsync(fd))
		die("fsync");
	report(wr ? "write" : "read", mib, now_ns() - t0);
	close(fd);
	return 0;
}

static int send_stream(const char *addr, int port, unsigned long mib)
{
	static char buf[CHUNK];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long left = mib * 1024 * 1024;
	uint64_t t0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), tries;

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "avm-bench: %s: not an IPv4 address\n", addr);
		return 1;
	}
	/* the host's listener may come up a moment after the link */
	for (tries = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)); tries++) {
		if (tries == 50)
			die("connect");
		usleep(100000);
	}
	t0 = now_ns();
	while (left) {
		ssize_t r = write(fd, buf, left < CHUNK ? left : CHUNK);

		if (r <= 0)
			die("send");
		left -= r;
	}
	shutdown(fd, SHUT_WR);
	/* the receiver closes after it has everything */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	report("send", mib, now_ns() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(strtoul(argv[2], NULL, 0));
	if (argc == 4 && (!strcmp(argv[1], "read") || !strcmp(argv[1], "write")))
		return disk(argv[2], strtoul(argv[3], NULL, 0), argv[1][0] == 'w');
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_stream(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: avm-bench pingpong N | read|write FILE MIB | send ADDR PORT MIB\n");
	return 2;
}
