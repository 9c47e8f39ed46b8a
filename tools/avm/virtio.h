/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio 1.x devices on virtio-mmio transports ("Virtual I/O Device
 * (VIRTIO) Version 1.2", OASIS): the split virtqueue (virtq.c, spec 2.7),
 * the transport and the devices' I/O threads (virtio.c, spec 4.2), and
 * the devices (virtio_*.c, spec 5). Only the modern interface: MMIO
 * version 2, VIRTIO_F_VERSION_1 required.
 *
 * Threads: the transport's registers are read and written by vCPU threads;
 * each device has one I/O thread that takes the driver's buffers, does
 * the work and gives them back. A QueueNotify write only wakes that
 * thread. One lock per device covers the registers and the queues' ring
 * indices; the work itself (disk, tap, terminal) runs without it, and a
 * reset waits for the buffers in flight to come back, so no device writes
 * guest memory after the driver reset it.
 */
#ifndef AVM_VIRTIO_H
#define AVM_VIRTIO_H

#include <pthread.h>
#include <sys/uio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "avm.h"

/* QueueNumMax of every queue; also the longest chain avm takes. */
#define VIRTQ_NUM_MAX		256
#define VIRTQ_CHAIN_MAX		VIRTQ_NUM_MAX
#define VIRTIO_MAX_QUEUES	2
/* VendorID: "avm" */
#define VIRTIO_AVM_VENDOR	0x006d7661

/*
 * One split virtqueue (spec 2.7). The transport fills in @num and the
 * three addresses, then virtq_enable() checks them.
 */
struct virtq {
	uint32_t num;
	uint64_t desc_addr, avail_addr, used_addr;
	bool ready;
	/* valid while ready */
	const struct avm_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t last_avail;	/* the next available entry to take */
	uint16_t used_idx;	/* what we last published in used->idx */
	uint16_t signalled;	/* used_idx when we last decided on an interrupt */
};

/*
 * A descriptor chain as the device sees it: @nr_out device-readable
 * segments first, then @nr_in device-writable ones (spec 2.7.4.2 lets a
 * device insist on that order), each a range of guest RAM checked to be
 * RAM.
 */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

/* virtq.c: the split ring. Callers serialise (the device's lock). */

/* Check the queue the driver described and start using it: 0 or -EINVAL. */
int virtq_enable(struct virtq *vq, const struct avm_mem *mem, bool event_idx,
		 bool indirect);
/* Forget everything (reset, or QueueReady = 0). */
void virtq_reset(struct virtq *vq);
/*
 * Take the next available chain: 1 and @c filled, 0 when there is none,
 * or a negative errno when the driver broke the rules (a chain outside
 * RAM, a loop, more entries than the ring holds...): then the queue must
 * not be used again until a reset.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);
/* Put back the chain the last virtq_pop() took (nothing to do with it yet). */
void virtq_unpop(struct virtq *vq);
/* Is a chain available? (With EVENT_IDX, asks to be told when one is.) */
bool virtq_has_avail(struct virtq *vq);
/* Give chain @head back with @len bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/* After pushes: does the driver want an interrupt for them? */
bool virtq_need_irq(struct virtq *vq);

/* Copy between a chain's segments (from byte @off of them) and a buffer. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t off,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t off,
		    const void *buf, size_t len);
/*
 * The segments that cover bytes [@off, @off + @len) of @iov into @out
 * (room for @n entries); returns how many. Fewer bytes when @iov is short.
 */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t off,
		       size_t len, struct iovec *out);
/* Drop the first @len bytes of *@iov (*@n segments), after a short transfer */
void iov_skip(struct iovec **iov, unsigned int *n, size_t len);

struct virtio_dev;

/* What a device adds to the transport. */
struct virtio_ops {
	const char *name;		/* "virtio-blk" */
	uint32_t device_id;		/* VIRTIO_ID_* */
	unsigned int nr_queues;		/* at most VIRTIO_MAX_QUEUES */
	/*
	 * On the I/O thread, after a notification, when the fd from
	 * poll_fd() is ready, and when the driver sets DRIVER_OK: take
	 * buffers with virtio_pop(), give them back with virtio_push().
	 */
	void (*process)(struct virtio_dev *vd);
	/*
	 * Optional: an fd the I/O thread also waits on, and for which
	 * @events; -1 for none this time.
	 */
	int (*poll_fd)(struct virtio_dev *vd, short *events);
	/* Optional: the device was reset; lock held, nothing in flight. */
	void (*reset)(struct virtio_dev *vd);
	/* Free the device (its thread is stopped); the transport is gone. */
	void (*destroy)(struct virtio_dev *vd);
};

/* How a transport raises its interrupt: the GIC's SPI line in avm. */
struct virtio_env {
	const struct avm_mem *mem;
	void (*irq)(void *ctx, uint32_t intid, int level);
	void *irq_ctx;
};

/* A virtio-mmio transport and the device behind it. */
struct virtio_dev {
	struct avm_dev dev;		/* MMIO range, handlers, DT node */
	const struct virtio_ops *ops;
	const struct avm_mem *mem;
	void (*irq)(void *ctx, uint32_t intid, int level);
	void *irq_ctx;
	unsigned int index;		/* transport n */
	uint32_t intid;
	char name[24];

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned int inflight;		/* chains popped, not pushed back */
	uint32_t status;
	uint32_t isr;			/* InterruptStatus */
	bool line;
	uint32_t generation;		/* ConfigGeneration */
	uint64_t host_features;		/* what the device offers */
	uint64_t guest_features;	/* what the driver took */
	uint32_t dev_fsel, drv_fsel, queue_sel;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint8_t *config;		/* device configuration space */
	size_t config_len;

	int kick_fd;			/* eventfd: wakes the I/O thread */
	pthread_t thread;
	bool thread_started;
	bool stop;
	unsigned int warned;
};

/*
 * Set up transport @index (base AVM_VIRTIO_BASE + 0x200 * @index, INTID
 * AVM_SPI_VIRTIO + @index) for a device with @ops, offering @features
 * (the transport adds VERSION_1, RING_EVENT_IDX, INDIRECT_DESC) and the
 * configuration space @config of @config_len bytes. 0 or a negative errno.
 */
int virtio_init(struct virtio_dev *vd, const struct virtio_ops *ops,
		const struct virtio_env *env, unsigned int index,
		uint64_t features, void *config, size_t config_len);
/* Start and stop the I/O thread; stopping waits for it. */
int virtio_start(struct virtio_dev *vd);
void virtio_stop(struct virtio_dev *vd);
/* Stop the thread, free the transport's resources, then the device's. */
void virtio_destroy(struct virtio_dev *vd);
/* A device reset, as the driver's write of 0 to Status (avm's reboot). */
void virtio_reset(struct virtio_dev *vd);
/* The transport's MMIO device, for avm_add_device(). */
static inline struct avm_dev *virtio_avm_dev(struct virtio_dev *vd)
{
	return &vd->dev;
}

/* For the devices, on their I/O thread: */
/* Was feature bit @bit negotiated? */
bool virtio_has_feature(struct virtio_dev *vd, unsigned int bit);
/* Take a chain from queue @q: as virtq_pop(), but 0 unless the queue runs. */
int virtio_pop(struct virtio_dev *vd, unsigned int q, struct virtq_chain *c);
void virtio_unpop(struct virtio_dev *vd, unsigned int q);
bool virtio_has_avail(struct virtio_dev *vd, unsigned int q);
/* Give @c back with @len bytes written; interrupt if the driver wants. */
void virtio_push(struct virtio_dev *vd, unsigned int q,
		 const struct virtq_chain *c, uint32_t len);
/* Change @len bytes of config space at @off and tell the driver. */
void virtio_config_update(struct virtio_dev *vd, size_t off, const void *data,
			  size_t len);
/* Wake the I/O thread (something besides the guest changed) */
void virtio_kick(struct virtio_dev *vd);
/* The driver broke the rules: DEVICE_NEEDS_RESET, and say why once. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);

/*
 * The devices (virtio_*.c). Each returns its transport at @index, ready
 * for avm_add_device() and virtio_start(), or NULL with one line in @err.
 */
struct virtio_dev *virtio_rng_create(const struct virtio_env *env,
				     unsigned int index, char *err, size_t errlen);
/*
 * A console reading @in_fd (-1: none) and writing @out_fd; a terminal of
 * @cols x @rows (0: unknown) offers its size, which
 * virtio_console_resize() changes.
 */
struct virtio_dev *virtio_console_create(const struct virtio_env *env,
					 unsigned int index, int in_fd, int out_fd,
					 unsigned int cols, unsigned int rows,
					 char *err, size_t errlen);
void virtio_console_resize(struct virtio_dev *vd, unsigned int cols, unsigned int rows);
/* Where the console's input comes from (before: none) */
void virtio_console_set_input(struct virtio_dev *vd, int in_fd);
/*
 * A network device on @fd (taken over, made non-blocking): one frame per
 * read or write behind a 12-byte virtio_net_hdr_v1, as a tap from
 * net_tap_open() gives them. @mac is the guest's address.
 */
struct virtio_dev *virtio_net_create(const struct virtio_env *env,
				     unsigned int index, int fd,
				     const uint8_t mac[6], char *err, size_t errlen);
/*
 * A tap from @tun (/dev/net/tun) named @ifname (NULL: the kernel picks
 * tapN), its name left in @name (IFNAMSIZ). The fd, or -1 with @err set.
 */
int net_tap_open(const char *tun, const char *ifname, char *name, char *err,
		 size_t errlen);
/* A raw image at @path, read-only if @ro (its size a multiple of 512) */
struct virtio_dev *virtio_blk_create(const struct virtio_env *env,
				     unsigned int index, const char *path,
				     bool ro, char *err, size_t errlen);

#endif /* AVM_VIRTIO_H */
