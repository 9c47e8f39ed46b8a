// SPDX-License-Identifier: GPL-2.0
/*
 * Running avm from a test (avm_run.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "avm_run.h"

/* After SIGQUIT at the timeout, the time avm has to print its vCPUs */
#define QUIT_GRACE_S	3

const char *avm_bin(void)
{
	return getenv("AVM_BIN") ?: "/bin/avm";
}

const char *guest_file(const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s",
		 getenv("AVM_GUEST_DIR") ?: "/lib/avcpu/guest", name);
	return p;
}

const char *guest_params(const char *base)
{
	static char buf[4][512];
	static int i;
	char *p = buf[i++ % 4];
	const char *level = getenv("AVCPU_GUEST_LOGLEVEL");

	snprintf(p, sizeof(buf[0]), "%s loglevel=%s", base,
		 level && *level ? level : GUEST_LOGLEVEL);
	return p;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void append(char **buf, size_t *len, const char *data, size_t n)
{
	if (*len + n > OUT_MAX)
		n = OUT_MAX - *len;
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
}

/*
 * Run avm with @argv (NULL-terminated, without argv[0]); stdin is
 * /dev/null, or a pipe that gets @input once @marker is on the console
 * (after @at_marker(@arg) ran, if given). With @echo, each console line is
 * also printed as a TAP comment, so the guest's log lands in the serial
 * log the rig scans.
 */
void run_avm_input(const char *const *argv, int timeout_s,
			  const char *marker, bool echo, const char *input,
			  void (*at_marker)(void *arg), void *arg,
			  struct avm_result *r)
{
	int out[2], err[2], in[2] = { -1, -1 }, n = 0, status;
	const char *args[32];
	double t0 = now_s();
	bool quit_sent = false;
	size_t echoed = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->marker_s = -1;
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	args[n++] = avm_bin();
	while (*argv && n < 31)
		args[n++] = *argv++;
	args[n] = NULL;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    (input && pipe2(in, O_CLOEXEC))) {
		r->status = -2000;
		return;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(input ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	if (input)
		close(in[0]);
	for (;;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		double left = timeout_s - (now_s() - t0);
		char buf[4096];
		int open_fds = 0, i;

		for (i = 0; i < 2; i++)
			if (p[i].fd >= 0)
				open_fds++;
		if (!open_fds)
			break;
		if (left <= 0 && !quit_sent) {
			/* avm's vCPUs print where they are (vmm.rst), then it goes */
			printf("# avm: no end after %d s: SIGQUIT, then SIGKILL\n", timeout_s);
			fflush(stdout);
			kill(pid, SIGQUIT);
			quit_sent = true;
			timeout_s += QUIT_GRACE_S;
			continue;
		}
		if (left <= 0) {
			kill(pid, SIGKILL);
			r->status = -1000;
			break;
		}
		if (poll(p, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t len;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			len = read(p[i].fd, buf, sizeof(buf));
			if (len <= 0) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				continue;
			}
			if (i == 0) {
				append(&r->out, &r->out_len, buf, len);
				if (marker && r->marker_s < 0 && strstr(r->out, marker)) {
					r->marker_s = now_s() - t0;
					if (at_marker)
						at_marker(arg);
					/* the guest is ready for its input now */
					if (in[1] >= 0) {
						if (write(in[1], input, strlen(input)) < 0)
							r->status = -3000;
						close(in[1]);
						in[1] = -1;
					}
				}
			} else {
				append(&r->err, &r->err_len, buf, len);
			}
		}
		while (echo) {
			char *nl = memchr(r->out + echoed, '\n', r->out_len - echoed);

			if (!nl)
				break;
			printf("#   | %.*s\n", (int)(nl - r->out - echoed), r->out + echoed);
			echoed = nl - r->out + 1;
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	waitpid(pid, &status, 0);
	r->total_s = now_s() - t0;
	if (r->status == -1000 || r->status == -3000)
		return;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

void run_avm(const char *const *argv, int timeout_s, const char *marker,
		    bool echo, struct avm_result *r)
{
	run_avm_input(argv, timeout_s, marker, echo, NULL, NULL, NULL, r);
}

void free_result(struct avm_result *r)
{
	free(r->out);
	free(r->err);
}

int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		if (*s == c)
			n++;
	return n;
}

int write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The first @len bytes of @src into @dst */
int copy_prefix(const char *src, const char *dst, size_t len)
{
	char *buf = malloc(len);
	int fd = open(src, O_RDONLY), ret = -1;

	if (buf && fd >= 0 && read(fd, buf, len) == (ssize_t)len)
		ret = write_bytes(dst, buf, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

bool guest_files_present(void)
{
	return !access(avm_bin(), X_OK) && !access(guest_file("Image"), R_OK) &&
	       !access(guest_file("initrd.cpio.gz"), R_OK);
}
