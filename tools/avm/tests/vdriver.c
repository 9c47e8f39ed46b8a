// SPDX-License-Identifier: GPL-2.0
/*
 * The unit tests' virtio driver (vdriver.h): the guest side of VIRTIO 1.2
 * sections 2.7 (split rings) and 4.2.3 (virtio-mmio driver steps).
 */
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vdriver.h"

static void vdrv_irq(void *ctx, uint32_t intid, int level)
{
	struct vdrv *d = ctx;

	pthread_mutex_lock(&d->lock);
	if (level && !d->level)
		d->raises++;
	d->level = level;
	pthread_mutex_unlock(&d->lock);
}

int vdrv_init(struct vdrv *d)
{
	memset(d, 0, sizeof(*d));
	d->mem.host = mmap(NULL, VD_RAM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->mem.host == MAP_FAILED)
		return -1;
	d->mem.base = AVM_RAM_BASE;
	d->mem.size = VD_RAM_SIZE;
	d->brk = AVM_RAM_BASE;
	pthread_mutex_init(&d->lock, NULL);
	return 0;
}

void vdrv_fini(struct vdrv *d)
{
	munmap(d->mem.host, VD_RAM_SIZE);
	pthread_mutex_destroy(&d->lock);
}

struct virtio_env vdrv_env(struct vdrv *d)
{
	return (struct virtio_env){ .mem = &d->mem, .irq = vdrv_irq, .irq_ctx = d };
}

uint64_t vdrv_alloc(struct vdrv *d, uint64_t size, uint64_t align)
{
	uint64_t a = (d->brk + align - 1) & ~(align - 1);

	d->brk = a + size;
	return a;
}

void *vdrv_ptr(struct vdrv *d, uint64_t gpa)
{
	return d->mem.host + (gpa - d->mem.base);
}

uint32_t vdrv_rd(struct vdrv *d, uint64_t off)
{
	return d->dev->read(d->dev, 0, off, 4);
}

void vdrv_wr(struct vdrv *d, uint64_t off, uint32_t val)
{
	d->dev->write(d->dev, 0, off, 4, val);
}

uint64_t vdrv_cfg(struct vdrv *d, uint64_t off, unsigned int len)
{
	return d->dev->read(d->dev, 0, VIRTIO_MMIO_CONFIG + off, len);
}

uint64_t vdrv_features(struct vdrv *d)
{
	uint64_t f;

	vdrv_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vdrv_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vdrv_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | vdrv_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

int vdrv_level(struct vdrv *d)
{
	int l;

	pthread_mutex_lock(&d->lock);
	l = d->level;
	pthread_mutex_unlock(&d->lock);
	return l;
}

unsigned int vdrv_raises(struct vdrv *d)
{
	unsigned int n;

	pthread_mutex_lock(&d->lock);
	n = d->raises;
	pthread_mutex_unlock(&d->lock);
	return n;
}

uint32_t vdrv_ack(struct vdrv *d)
{
	uint32_t isr = vdrv_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	vdrv_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

void vdrv_queue_alloc(struct vdrv *d, unsigned int q, uint16_t num)
{
	struct vdrv_queue *vq = &d->q[q];

	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	/* as Linux lays them out: the used ring on its own page */
	vq->desc = vdrv_alloc(d, 16 * num, 4096);
	vq->avail = vdrv_alloc(d, 6 + 2 * num, 2);
	vq->used = vdrv_alloc(d, 6 + 8 * num, 4096);
	memset(vdrv_ptr(d, vq->desc), 0, 16 * num);
	memset(vdrv_ptr(d, vq->avail), 0, 6 + 2 * num);
	memset(vdrv_ptr(d, vq->used), 0, 6 + 8 * num);
}

uint32_t vdrv_negotiate(struct vdrv *d, uint64_t features)
{
	vdrv_wr(d, VIRTIO_MMIO_STATUS, 0);
	vdrv_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vdrv_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vdrv_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdrv_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	vdrv_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, features);
	vdrv_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return vdrv_rd(d, VIRTIO_MMIO_STATUS);
}

void vdrv_queue_enable(struct vdrv *d, unsigned int q)
{
	struct vdrv_queue *vq = &d->q[q];

	vdrv_wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_NUM, vq->num);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, vq->desc);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, vq->desc >> 32);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, vq->avail);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, vq->avail >> 32);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, vq->used);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, vq->used >> 32);
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

uint32_t vdrv_setup(struct vdrv *d, uint64_t features, unsigned int nr_queues,
		    uint16_t num)
{
	uint32_t status = vdrv_negotiate(d, features);
	unsigned int q;

	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK))
		return status;
	for (q = 0; q < nr_queues; q++) {
		vdrv_queue_alloc(d, q, num);
		vdrv_queue_enable(d, q);
	}
	vdrv_wr(d, VIRTIO_MMIO_STATUS, status | VIRTIO_CONFIG_S_DRIVER_OK);
	return vdrv_rd(d, VIRTIO_MMIO_STATUS);
}

void vdrv_set_desc(struct vdrv *d, unsigned int q, uint16_t i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *desc = vdrv_ptr(d, d->q[q].desc);

	desc[i].addr = htole64(addr);
	desc[i].len = htole32(len);
	desc[i].flags = htole16(flags);
	desc[i].next = htole16(next);
}

void vdrv_publish(struct vdrv *d, unsigned int q, uint16_t head)
{
	struct vdrv_queue *vq = &d->q[q];
	struct vring_avail *avail = vdrv_ptr(d, vq->avail);

	avail->ring[vq->avail_idx % vq->num] = htole16(head);
	vq->avail_idx++;
	/* the entry before the index, as virtio_ring's virtio_wmb() */
	__atomic_store_n(&avail->idx, htole16(vq->avail_idx), __ATOMIC_RELEASE);
}

static uint16_t buf_flags(const struct vdrv_buf *b, bool more)
{
	return (b->write ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0);
}

uint16_t vdrv_add(struct vdrv *d, unsigned int q, const struct vdrv_buf *b,
		  unsigned int n)
{
	struct vdrv_queue *vq = &d->q[q];
	uint16_t head = vq->next_desc, i = head;
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t next = (i + 1) % vq->num;

		vdrv_set_desc(d, q, i, b[k].addr, b[k].len, buf_flags(&b[k], k + 1 < n),
			      next);
		i = next;
	}
	vq->next_desc = i;
	vdrv_publish(d, q, head);
	return head;
}

uint16_t vdrv_add_indirect(struct vdrv *d, unsigned int q,
			   const struct vdrv_buf *b, unsigned int n)
{
	struct vdrv_queue *vq = &d->q[q];
	uint64_t table = vdrv_alloc(d, 16 * n, 16);
	struct vring_desc *t = vdrv_ptr(d, table);
	uint16_t head = vq->next_desc;
	unsigned int k;

	for (k = 0; k < n; k++) {
		t[k].addr = htole64(b[k].addr);
		t[k].len = htole32(b[k].len);
		t[k].flags = htole16(buf_flags(&b[k], k + 1 < n));
		t[k].next = htole16(k + 1);
	}
	vdrv_set_desc(d, q, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
	vq->next_desc = (head + 1) % vq->num;
	vdrv_publish(d, q, head);
	return head;
}

void vdrv_kick(struct vdrv *d, unsigned int q)
{
	vdrv_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

bool vdrv_used_pending(struct vdrv *d, unsigned int q)
{
	struct vring_used *used = vdrv_ptr(d, d->q[q].used);

	return le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE)) != d->q[q].used_seen;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int vdrv_wait_used(struct vdrv *d, unsigned int q, uint32_t *id, uint32_t *len)
{
	struct vdrv_queue *vq = &d->q[q];
	struct vring_used *used = vdrv_ptr(d, vq->used);
	unsigned int waited;

	for (waited = 0; !vdrv_used_pending(d, q); waited++) {
		if (waited == VD_TIMEOUT_MS)
			return -1;
		sleep_ms(1);
	}
	*id = le32toh(used->ring[vq->used_seen % vq->num].id);
	*len = le32toh(used->ring[vq->used_seen % vq->num].len);
	vq->used_seen++;
	return 0;
}

int vdrv_wait_status(struct vdrv *d, uint32_t bit)
{
	unsigned int waited;

	for (waited = 0; !(vdrv_rd(d, VIRTIO_MMIO_STATUS) & bit); waited++) {
		if (waited == VD_TIMEOUT_MS)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

int vdrv_wait_level(struct vdrv *d, int level)
{
	unsigned int waited;

	for (waited = 0; vdrv_level(d) != level; waited++) {
		if (waited == VD_TIMEOUT_MS)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

long vdrv_cpu_ms(void)
{
	struct rusage r;

	if (getrusage(RUSAGE_SELF, &r))
		return -1;
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000 +
	       (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000;
}
