// SPDX-License-Identifier: GPL-2.0
/*
 * The entropy device (VIRTIO 1.2, section 5.4; device ID 4): one queue of
 * device-writable buffers, filled from getrandom(2). No features, no
 * configuration space. Readable buffers are a driver's mistake (5.4.6.1)
 * and are left alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "virtio.h"

struct virtio_rng {
	struct virtio_dev vd;
	struct virtq_chain chain;	/* the I/O thread's */
	unsigned int warned;
};

/* Fill @len bytes at @p; how many were filled. */
static size_t fill_random(struct virtio_rng *r, uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			avm_warn_limited(&r->warned, 1, "%s: getrandom: %s", r->vd.name,
					 strerror(errno));
			break;
		}
		done += n;
	}
	return done;
}

static void rng_process(struct virtio_dev *vd)
{
	struct virtio_rng *r = container_of(vd, struct virtio_rng, vd);
	struct virtq_chain *c = &r->chain;

	while (virtio_pop(vd, 0, c) > 0) {
		uint64_t done = 0;
		unsigned int i;

		for (i = c->nr_out; i < c->nr_out + c->nr_in; i++) {
			size_t n = fill_random(r, c->iov[i].iov_base, c->iov[i].iov_len);

			done += n;
			if (n < c->iov[i].iov_len)
				break;
		}
		virtio_push(vd, 0, c, done);
	}
}

static void rng_destroy(struct virtio_dev *vd)
{
	free(container_of(vd, struct virtio_rng, vd));
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.process = rng_process,
	.destroy = rng_destroy,
};

struct virtio_dev *virtio_rng_create(const struct virtio_env *env,
				     unsigned int index, char *err, size_t errlen)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		snprintf(err, errlen, "--rng: out of memory");
		return NULL;
	}
	ret = virtio_init(&r->vd, &rng_ops, env, index, 0, NULL, 0);
	if (ret) {
		snprintf(err, errlen, "--rng: %s", strerror(-ret));
		free(r);
		return NULL;
	}
	return &r->vd;
}
