/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal virtio driver for the unit tests (vdriver.c): fake guest RAM,
 * rings laid out as a guest lays them out, the transport's registers
 * through its MMIO handlers, an interrupt recorder. It does what Linux's
 * virtio_mmio and virtio_ring do, and lets a test do what they never do.
 */
#ifndef AVM_TEST_VDRIVER_H
#define AVM_TEST_VDRIVER_H

#include <pthread.h>

#include "virtio.h"

#define VD_RAM_SIZE	(4U << 20)
#define VD_TIMEOUT_MS	5000

struct vdrv_queue {
	uint16_t num;
	uint64_t desc, avail, used;	/* guest physical */
	uint16_t avail_idx;		/* the driver's next avail->idx */
	uint16_t used_seen;		/* used entries consumed */
	uint16_t next_desc;		/* next free descriptor slot */
};

/* One buffer of a chain: guest physical address, length, device-writable */
struct vdrv_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct vdrv {
	struct avm_mem mem;
	uint64_t brk;			/* vdrv_alloc()'s next address */
	struct avm_dev *dev;		/* the transport under test */
	struct vdrv_queue q[VIRTIO_MAX_QUEUES];
	pthread_mutex_t lock;
	int level;			/* the interrupt line */
	unsigned int raises;		/* its rising edges */
};

int vdrv_init(struct vdrv *d);
void vdrv_fini(struct vdrv *d);
/* The environment a device made for this driver needs */
struct virtio_env vdrv_env(struct vdrv *d);
uint64_t vdrv_alloc(struct vdrv *d, uint64_t size, uint64_t align);
void *vdrv_ptr(struct vdrv *d, uint64_t gpa);

uint32_t vdrv_rd(struct vdrv *d, uint64_t off);
void vdrv_wr(struct vdrv *d, uint64_t off, uint32_t val);
uint64_t vdrv_cfg(struct vdrv *d, uint64_t off, unsigned int len);
uint64_t vdrv_features(struct vdrv *d);
int vdrv_level(struct vdrv *d);
unsigned int vdrv_raises(struct vdrv *d);
/* Read InterruptStatus and acknowledge it, as Linux's handler does */
uint32_t vdrv_ack(struct vdrv *d);

/* Rings for queue @q of @num entries in RAM (no transport involved) */
void vdrv_queue_alloc(struct vdrv *d, unsigned int q, uint16_t num);
/* The steps of spec 3.1.1 up to FEATURES_OK; returns Status read back */
uint32_t vdrv_negotiate(struct vdrv *d, uint64_t features);
/* Tell the transport about queue @q (allocated) and set QueueReady */
void vdrv_queue_enable(struct vdrv *d, unsigned int q);
/*
 * All of 3.1.1: reset, negotiate @features, @nr_queues queues of @num,
 * DRIVER_OK. Returns Status read back at the end.
 */
uint32_t vdrv_setup(struct vdrv *d, uint64_t features, unsigned int nr_queues,
		    uint16_t num);

/* Write descriptor @i of queue @q as given */
void vdrv_set_desc(struct vdrv *d, unsigned int q, uint16_t i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next);
/* Put @head in the available ring and publish it */
void vdrv_publish(struct vdrv *d, unsigned int q, uint16_t head);
/* A chain of @n buffers in free slots, published; returns its head */
uint16_t vdrv_add(struct vdrv *d, unsigned int q, const struct vdrv_buf *b,
		  unsigned int n);
/* The same as one indirect descriptor (table allocated in RAM) */
uint16_t vdrv_add_indirect(struct vdrv *d, unsigned int q,
			   const struct vdrv_buf *b, unsigned int n);
void vdrv_kick(struct vdrv *d, unsigned int q);
/* Wait for the next used entry of @q: 0, or -1 after VD_TIMEOUT_MS */
int vdrv_wait_used(struct vdrv *d, unsigned int q, uint32_t *id, uint32_t *len);
/* Has the device used anything we have not consumed yet? */
bool vdrv_used_pending(struct vdrv *d, unsigned int q);
/*
 * Wait for the interrupt line to be @level: the device raises it just
 * after it publishes a used entry. 0 on time, -1 after VD_TIMEOUT_MS.
 */
int vdrv_wait_level(struct vdrv *d, int level);
/* CPU time this process used (all threads), in ms */
long vdrv_cpu_ms(void);
/* Wait until Status has @bit (0 on time, -1 after VD_TIMEOUT_MS) */
int vdrv_wait_status(struct vdrv *d, uint32_t bit);

#endif /* AVM_TEST_VDRIVER_H */
