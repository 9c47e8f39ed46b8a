// SPDX-License-Identifier: GPL-2.0
/*
 * The console device (VIRTIO 1.2, section 5.3; device ID 3): one port, no
 * MULTIPORT, so a Linux guest makes it hvc0. Queue 0 (receiveq) takes
 * bytes from avm's input, queue 1 (transmitq) gives the guest's bytes to
 * avm's output. With a terminal's size known, VIRTIO_CONSOLE_F_SIZE
 * offers it, and a resize is a configuration change (5.3.6.2).
 *
 * Input is read only when the guest has a buffer for it: until then it
 * waits in the pipe or the terminal, as on a real line. Linux's hvc
 * driver spins until each output buffer comes back, so output is written
 * at once, whole.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_console.h>

#include "virtio.h"

#define RXQ	0
#define TXQ	1

struct virtio_console {
	struct virtio_dev vd;
	int in_fd;			/* -1: no input, or it ended */
	int out_fd;
	struct virtio_console_config config;
	struct virtq_chain chain;	/* the I/O thread's */
	unsigned int warned;
};

/*
 * All of @iov to the output, waiting for room when it is a non-blocking
 * file; the guest's bytes are dropped on an error.
 */
static void write_all(struct virtio_console *con, struct iovec *iov, unsigned int n)
{
	while (n) {
		ssize_t done = writev(con->out_fd, iov, n);
		struct pollfd p = { .fd = con->out_fd, .events = POLLOUT };

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0 && errno == EAGAIN && poll(&p, 1, -1) >= 0)
			continue;
		if (done <= 0) {
			avm_warn_limited(&con->warned, 1, "%s: output lost: %s",
					 con->vd.name, done ? strerror(errno) : "short write");
			return;
		}
		iov_skip(&iov, &n, done);
	}
}

static void console_tx(struct virtio_console *con)
{
	struct virtq_chain *c = &con->chain;

	while (virtio_pop(&con->vd, TXQ, c) > 0) {
		write_all(con, c->iov, c->nr_out);
		/* 5.3.6.1: nothing is written into a transmit buffer */
		virtio_push(&con->vd, TXQ, c, 0);
	}
}

/* The input, or -1 (set from another thread before the guest runs) */
static int input_fd(struct virtio_console *con)
{
	return __atomic_load_n(&con->in_fd, __ATOMIC_ACQUIRE);
}

/* Is input waiting right now? */
static bool input_ready(struct virtio_console *con)
{
	struct pollfd p = { .fd = input_fd(con), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) == 1;
}

static void console_rx(struct virtio_console *con)
{
	struct virtq_chain *c = &con->chain;

	while (input_ready(con) && virtio_pop(&con->vd, RXQ, c) > 0) {
		/* one read: what is there now, no waiting for more */
		ssize_t n = readv(input_fd(con), c->iov + c->nr_out, c->nr_in);

		if (n > 0) {
			virtio_push(&con->vd, RXQ, c, n);
			continue;
		}
		virtio_unpop(&con->vd, RXQ);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* end of input (or it failed): the guest just gets no more */
		if (n < 0)
			avm_warn("%s: input: %s", con->vd.name, strerror(errno));
		__atomic_store_n(&con->in_fd, -1, __ATOMIC_RELEASE);
	}
}

static void console_process(struct virtio_dev *vd)
{
	struct virtio_console *con = container_of(vd, struct virtio_console, vd);

	console_tx(con);
	console_rx(con);
}

/* Wait for input only while the guest has somewhere to put it */
static int console_poll_fd(struct virtio_dev *vd, short *events)
{
	struct virtio_console *con = container_of(vd, struct virtio_console, vd);

	int fd = input_fd(con);

	if (fd < 0 || !virtio_has_avail(vd, RXQ))
		return -1;
	*events = POLLIN;
	return fd;
}

static void console_destroy(struct virtio_dev *vd)
{
	free(container_of(vd, struct virtio_console, vd));
}

static const struct virtio_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.process = console_process,
	.poll_fd = console_poll_fd,
	.destroy = console_destroy,
};

struct virtio_dev *virtio_console_create(const struct virtio_env *env,
					 unsigned int index, int in_fd, int out_fd,
					 unsigned int cols, unsigned int rows,
					 char *err, size_t errlen)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	uint64_t features = 0;
	int ret;

	if (!con) {
		snprintf(err, errlen, "--console virtio: out of memory");
		return NULL;
	}
	con->in_fd = in_fd;
	con->out_fd = out_fd;
	if (cols && rows) {
		features |= 1ULL << VIRTIO_CONSOLE_F_SIZE;
		con->config.cols = htole16(cols);
		con->config.rows = htole16(rows);
	}
	ret = virtio_init(&con->vd, &console_ops, env, index, features, &con->config,
			  sizeof(con->config));
	if (ret) {
		snprintf(err, errlen, "--console virtio: %s", strerror(-ret));
		free(con);
		return NULL;
	}
	return &con->vd;
}

void virtio_console_set_input(struct virtio_dev *vd, int in_fd)
{
	struct virtio_console *con = container_of(vd, struct virtio_console, vd);

	__atomic_store_n(&con->in_fd, in_fd, __ATOMIC_RELEASE);
	/* the I/O thread waits on it from its next round */
	virtio_kick(vd);
}

void virtio_console_resize(struct virtio_dev *vd, unsigned int cols, unsigned int rows)
{
	struct virtio_console *con = container_of(vd, struct virtio_console, vd);
	/* cols then rows, both le16, at the start of the config (5.3.4) */
	uint16_t size[2] = { htole16(cols), htole16(rows) };

	if (!(vd->host_features & (1ULL << VIRTIO_CONSOLE_F_SIZE)))
		return;
	virtio_config_update(&con->vd, 0, size, sizeof(size));
}
