// SPDX-License-Identifier: GPL-2.0
/*
 * The network device (VIRTIO 1.2, section 5.1; device ID 1): one receive
 * and one transmit queue, VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (the
 * link always up), no offloads, no merged receive buffers.
 *
 * The back end is a file descriptor on which each read and each write is
 * one Ethernet frame behind a 12-byte struct virtio_net_hdr_v1: a tap
 * opened with IFF_VNET_HDR and TUNSETVNETHDRSZ 12 (net_tap_open()), or,
 * in the unit tests, a SOCK_DGRAM socket pair. Frames go between the
 * guest's buffers and the back end without a copy; only the header is
 * avm's: with nothing negotiated (5.1.6.2, 5.1.6.4), the guest's is sent
 * with no offload asked, and the guest gets flags 0, GSO_NONE and
 * num_buffers 1, whatever the tap filled in.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "virtio.h"

#define RXQ		0
#define TXQ		1
#define HDR_SIZE	sizeof(struct virtio_net_hdr_v1)

struct virtio_net {
	struct virtio_dev vd;
	int fd;
	struct virtio_net_config config;
	struct virtq_chain chain;	/* the I/O thread's */
	struct iovec frame[VIRTQ_CHAIN_MAX + 1];
	unsigned int warned;
};

/* The header avm sends frames with: no offloads (all zero, GSO_NONE) */
static const struct virtio_net_hdr_v1 tx_hdr = {
	.gso_type = VIRTIO_NET_HDR_GSO_NONE,
};

static void net_tx(struct virtio_net *n)
{
	struct virtq_chain *c = &n->chain;

	while (virtio_pop(&n->vd, TXQ, c) > 0) {
		unsigned int k;

		/* 5.1.6.2: a header, then the frame; without one, drop it */
		if (c->out_len <= HDR_SIZE) {
			avm_warn_limited(&n->warned, 5, "%s: a transmit buffer without a frame: dropped",
					 n->vd.name);
			virtio_push(&n->vd, TXQ, c, 0);
			continue;
		}
		n->frame[0] = (struct iovec){ .iov_base = (void *)&tx_hdr, .iov_len = HDR_SIZE };
		k = iov_slice(c->iov, c->nr_out, HDR_SIZE, c->out_len - HDR_SIZE,
			      n->frame + 1);
		/*
		 * A full tap (EAGAIN) or one down on the host (EIO, until
		 * someone sets it up) drops the frame, as a wire would; the
		 * guest's network stack copes with loss.
		 */
		if (n->fd >= 0 && writev(n->fd, n->frame, k + 1) < 0 &&
		    errno != EAGAIN && errno != EIO)
			avm_warn_limited(&n->warned, 5, "%s: frame dropped: %s",
					 n->vd.name, strerror(errno));
		virtio_push(&n->vd, TXQ, c, 0);
	}
}

/* A read that says nothing more will come: not one frame's trouble */
static bool backend_gone(ssize_t got)
{
	if (got == 0)
		return true;
	/* a frame too big for the buffer (tap: EFAULT), or too short */
	return got < 0 && errno != EFAULT && errno != EINVAL && errno != EMSGSIZE;
}

static void net_rx(struct virtio_net *n)
{
	/* what the guest gets: no offloads, one buffer (5.1.6.4) */
	const struct virtio_net_hdr_v1 rx_hdr = {
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
		.num_buffers = htole16(1),
	};
	struct virtq_chain *c = &n->chain;

	while (n->fd >= 0 && virtio_pop(&n->vd, RXQ, c) > 0) {
		ssize_t got = readv(n->fd, c->iov + c->nr_out, c->nr_in);

		if (got > (ssize_t)HDR_SIZE) {
			iov_from_buf(c->iov + c->nr_out, c->nr_in, 0, &rx_hdr, HDR_SIZE);
			virtio_push(&n->vd, RXQ, c, got);
			continue;
		}
		/* no frame for this buffer: it waits for the next one */
		virtio_unpop(&n->vd, RXQ);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (backend_gone(got)) {
			avm_warn("%s: the back end is gone (%s): no more frames",
				 n->vd.name, got ? strerror(errno) : "end of file");
			close(n->fd);
			n->fd = -1;
			return;
		}
		avm_warn_limited(&n->warned, 5, "%s: frame lost: %s", n->vd.name,
				 got < 0 ? strerror(errno) : "nothing behind the header");
	}
}

static void net_process(struct virtio_dev *vd)
{
	struct virtio_net *n = container_of(vd, struct virtio_net, vd);

	net_tx(n);
	net_rx(n);
}

/* Wait for frames only while the guest has buffers for them */
static int net_poll_fd(struct virtio_dev *vd, short *events)
{
	struct virtio_net *n = container_of(vd, struct virtio_net, vd);

	if (n->fd < 0 || !virtio_has_avail(vd, RXQ))
		return -1;
	*events = POLLIN;
	return n->fd;
}

static void net_destroy(struct virtio_dev *vd)
{
	struct virtio_net *n = container_of(vd, struct virtio_net, vd);

	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.process = net_process,
	.poll_fd = net_poll_fd,
	.destroy = net_destroy,
};

struct virtio_dev *virtio_net_create(const struct virtio_env *env,
				     unsigned int index, int fd,
				     const uint8_t mac[6], char *err, size_t errlen)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	int ret;

	if (!n) {
		snprintf(err, errlen, "--net: out of memory");
		close(fd);
		return NULL;
	}
	n->fd = fd;
	/* the I/O thread must never wait on the back end */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		snprintf(err, errlen, "--net: %s", strerror(errno));
		goto fail;
	}
	memcpy(n->config.mac, mac, sizeof(n->config.mac));
	n->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	ret = virtio_init(&n->vd, &net_ops, env, index,
			  1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS,
			  &n->config, sizeof(n->config));
	if (ret) {
		snprintf(err, errlen, "--net: %s", strerror(-ret));
		goto fail;
	}
	return &n->vd;
fail:
	close(fd);
	free(n);
	return NULL;
}

int net_tap_open(const char *tun, const char *ifname, char *name, char *err,
		 size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr_size = HDR_SIZE, fd;

	fd = open(tun, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "--net tap: %s: %s%s", tun, strerror(errno),
			 errno == ENOENT ? " (load the tun module)" : "");
		return -1;
	}
	if (ifname)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(err, errlen, "--net tap%s%s: cannot create the tap: %s",
			 ifname ? "=" : "", ifname ? ifname : "", strerror(errno));
		goto fail;
	}
	/* virtio 1.x's header (num_buffers included), and no offloads */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) || ioctl(fd, TUNSETOFFLOAD, 0)) {
		snprintf(err, errlen, "--net tap=%s: %s", ifr.ifr_name, strerror(errno));
		goto fail;
	}
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;
fail:
	close(fd);
	return -1;
}
