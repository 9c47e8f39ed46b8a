// SPDX-License-Identifier: GPL-2.0
/*
 * The block device (VIRTIO 1.2, section 5.2; device ID 2) over a raw
 * image: a regular file or a block device whose size is a multiple of 512
 * bytes. One request queue; reads, writes, flushes (fdatasync(2)) and
 * GET_ID. Offered: SEG_MAX (a request fits in one chain avm takes),
 * FLUSH, and RO for a read-only disk, whose writes fail with IOERR.
 *
 * A request is a chain (5.2.6): a 16-byte header the device reads, the
 * data, and a status byte the device writes last. Any layout over the
 * descriptors is accepted (VERSION_1 implies ANY_LAYOUT, 2.7.4.3): the
 * header is the first 16 readable bytes, the status the last writable one.
 * Every failure is the guest's status byte (IOERR, UNSUPP), never avm's
 * end; only a chain with no room for a header or a status is the
 * driver's mistake (DEVICE_NEEDS_RESET).
 *
 * Images are locked (flock(2)): shared for ",ro", exclusive otherwise,
 * so two VMs do not write one disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_blk.h>

#include "virtio.h"

#define SECTOR		512
#define HDR_SIZE	sizeof(struct virtio_blk_outhdr)

struct virtio_blk {
	struct virtio_dev vd;
	int fd;
	bool ro;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];	/* GET_ID: NUL-padded, not terminated */
	struct virtio_blk_config config;
	struct virtq_chain chain;	/* the I/O thread's */
	struct iovec data[VIRTQ_CHAIN_MAX];
	unsigned int warned;
};

/*
 * All of @iov (@n segments) from or to @off of the image, across short
 * transfers; 0 or -1 (end of the image, or an I/O error).
 */
static int transfer(struct virtio_blk *b, struct iovec *iov, unsigned int n,
		    off_t off, bool write)
{
	while (n) {
		ssize_t done = write ? pwritev(b->fd, iov, n, off) :
				       preadv(b->fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0) {
			avm_warn_limited(&b->warned, 5, "%s: %s at byte %lld: %s",
					 b->vd.name, write ? "write" : "read",
					 (long long)off,
					 done ? strerror(errno) : "the image is shorter");
			return -1;
		}
		off += done;
		iov_skip(&iov, &n, done);
	}
	return 0;
}

/* Is [@sector, + @len bytes) a whole number of sectors of the disk? */
static bool in_range(struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	return len % SECTOR == 0 && sector <= b->sectors &&
	       len / SECTOR <= b->sectors - sector;
}

/*
 * One request (spec 5.2.6.1, 5.2.6.2); its status, and in *@written the
 * bytes of data written into the guest's buffers.
 */
static uint8_t blk_request(struct virtio_blk *b, const struct virtq_chain *c,
			   const struct virtio_blk_outhdr *h, uint32_t *written)
{
	uint64_t sector = le64toh(h->sector);
	uint64_t in_data = c->in_len - 1, out_data = c->out_len - HDR_SIZE;
	const struct iovec *in = c->iov + c->nr_out;
	unsigned int n;

	*written = 0;
	switch (le32toh(h->type)) {
	case VIRTIO_BLK_T_IN:
		if (!in_range(b, sector, in_data))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(in, c->nr_in, 0, in_data, b->data);
		if (transfer(b, b->data, n, sector * SECTOR, false))
			return VIRTIO_BLK_S_IOERR;
		*written = in_data;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		/* 5.2.6.2: a read-only device fails every write, writes nothing */
		if (b->ro || !in_range(b, sector, out_data))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(c->iov, c->nr_out, HDR_SIZE, out_data, b->data);
		if (transfer(b, b->data, n, sector * SECTOR, true))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->ro && fdatasync(b->fd)) {
			avm_warn_limited(&b->warned, 5, "%s: flush: %s", b->vd.name,
					 strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		/* 20 bytes, fewer if that is all the buffer holds */
		*written = iov_from_buf(in, c->nr_in, 0, b->id,
					in_data < sizeof(b->id) ? in_data : sizeof(b->id));
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_process(struct virtio_dev *vd)
{
	struct virtio_blk *b = container_of(vd, struct virtio_blk, vd);
	struct virtq_chain *c = &b->chain;

	while (virtio_pop(vd, 0, c) > 0) {
		struct virtio_blk_outhdr h;
		uint32_t written;
		uint8_t status;

		if (c->out_len < HDR_SIZE || c->in_len < 1) {
			/* nowhere to say what went wrong: the driver is broken */
			virtio_needs_reset(vd, "a block request without header or status byte");
			virtio_push(vd, 0, c, 0);
			continue;
		}
		iov_to_buf(c->iov, c->nr_out, 0, &h, sizeof(h));
		status = blk_request(b, c, &h, &written);
		iov_from_buf(c->iov + c->nr_out, c->nr_in, c->in_len - 1, &status, 1);
		virtio_push(vd, 0, c, written + 1);
	}
}

static void blk_destroy(struct virtio_dev *vd)
{
	struct virtio_blk *b = container_of(vd, struct virtio_blk, vd);

	close(b->fd);
	free(b);
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.process = blk_process,
	.destroy = blk_destroy,
};

/* The image's size in bytes, or -1 with @err set */
static int64_t image_size(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st)) {
		snprintf(err, errlen, "--disk %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return st.st_size;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size)) {
			snprintf(err, errlen, "--disk %s: BLKGETSIZE64: %s", path,
				 strerror(errno));
			return -1;
		}
		return size;
	}
	snprintf(err, errlen, "--disk %s: not a regular file or block device", path);
	return -1;
}

struct virtio_dev *virtio_blk_create(const struct virtio_env *env,
				     unsigned int index, const char *path,
				     bool ro, char *err, size_t errlen)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_FLUSH;
	char *name;
	int64_t size;
	int ret;

	if (!b) {
		snprintf(err, errlen, "--disk %s: out of memory", path);
		return NULL;
	}
	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		snprintf(err, errlen, "--disk %s: %s%s", path, strerror(errno),
			 !ro && (errno == EACCES || errno == EROFS) ?
			 " (add ,ro for a read-only disk)" : "");
		goto fail;
	}
	size = image_size(b->fd, path, err, errlen);
	if (size < 0)
		goto fail;
	if (!size || size % SECTOR) {
		snprintf(err, errlen, "--disk %s: %lld bytes, not a non-zero multiple of 512",
			 path, (long long)size);
		goto fail;
	}
	if (flock(b->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		snprintf(err, errlen, "--disk %s: %s", path, errno == EWOULDBLOCK ?
			 "in use (locked by another program, or given twice)" :
			 strerror(errno));
		goto fail;
	}
	b->ro = ro;
	b->sectors = size / SECTOR;
	/* the guest's serial number (/sys/block/vdX/serial): the file's name */
	name = strrchr(path, '/');
	name = name ? name + 1 : (char *)path;
	memcpy(b->id, name, strnlen(name, sizeof(b->id)));
	b->config.capacity = htole64(b->sectors);
	/* 5.2.4: segments of data, the header and status not counted */
	b->config.seg_max = htole32(VIRTQ_CHAIN_MAX - 2);
	if (ro)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	ret = virtio_init(&b->vd, &blk_ops, env, index, features, &b->config,
			  sizeof(b->config));
	if (ret) {
		snprintf(err, errlen, "--disk %s: %s", path, strerror(-ret));
		goto fail;
	}
	return &b->vd;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return NULL;
}
