// SPDX-License-Identifier: GPL-2.0
/*
 * The split virtqueue, device side (VIRTIO 1.2, section 2.7): the
 * descriptor table, the available ring the driver fills and the used ring
 * the device fills, all in guest RAM, which the guest may change at any
 * moment. So every descriptor is read once into a local copy and checked
 * there; every address goes through avm_mem_ptr(); every walk is bounded
 * by the table it walks, so a loop ends it; and the ring indices are read
 * and written with the ordering spec 2.7.13 asks for (an acquire on the
 * driver's index before its entries, a release on ours after our entries,
 * a full barrier between publishing and reading the driver's wishes).
 */
#include <errno.h>
#include <string.h>

#include "virtio.h"

/* Guest memory that other CPUs write: one load or store, no tearing. */
#define GUEST_LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define GUEST_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

static bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* Sizes of the three parts, spec 2.7 (the event fields always counted) */
static uint64_t desc_size(uint32_t num)
{
	return 16ULL * num;
}

static uint64_t avail_size(uint32_t num)
{
	return 6 + 2ULL * num;
}

static uint64_t used_size(uint32_t num)
{
	return 6 + 8ULL * num;
}

int virtq_enable(struct virtq *vq, const struct avm_mem *mem, bool event_idx,
		 bool indirect)
{
	/* spec 2.7: a power of 2; alignments 16, 2 and 4 (table 2.7) */
	if (!is_pow2(vq->num) || vq->num > VIRTQ_NUM_MAX)
		return -EINVAL;
	if (vq->desc_addr % 16 || vq->avail_addr % 2 || vq->used_addr % 4)
		return -EINVAL;
	vq->desc = avm_mem_ptr(mem, vq->desc_addr, desc_size(vq->num));
	vq->avail = avm_mem_ptr(mem, vq->avail_addr, avail_size(vq->num));
	vq->used = avm_mem_ptr(mem, vq->used_addr, used_size(vq->num));
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EINVAL;
	}
	vq->mem = mem;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled = 0;
	vq->ready = true;
	return 0;
}

/* The driver's avail->idx; its ring entries may be read after this. */
static uint16_t avail_idx(struct virtq *vq)
{
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

/* used_event and avail_event: the u16 after each ring (spec 2.7.10) */
static uint16_t *used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->ready)
		return false;
	if (avail_idx(vq) != vq->last_avail)
		return true;
	if (!vq->event_idx)
		return false;
	/*
	 * Empty: ask for a notification when the driver adds the next one
	 * (spec 2.7.10), then look again, since it may have added one
	 * before it could see our request.
	 */
	GUEST_STORE(avail_event(vq), htole16(vq->last_avail));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(vq) != vq->last_avail;
}

/* One descriptor, copied out of guest memory once */
static void read_desc(const struct vring_desc *table, unsigned int i,
		      struct vring_desc *d)
{
	memcpy(d, &table[i], sizeof(*d));
	/* the checks below must see this copy, not a second read */
	__asm__ __volatile__("" ::: "memory");
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/*
 * Walk the chain from @head (spec 2.7.5, indirect tables 2.7.5.3). Each
 * table is walked at most as many steps as it has entries: a chain that
 * comes back on itself runs out of steps, and at most one indirect table
 * (which must end the chain) gives at most VIRTQ_CHAIN_MAX more.
 */
static int walk_chain(struct virtq *vq, uint16_t head, struct virtq_chain *c)
{
	const struct vring_desc *table = vq->desc;
	unsigned int size = vq->num, steps = vq->num, i = head;
	bool in_indirect = false;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct vring_desc d;
		void *p;

		if (!steps--)
			return -ELOOP;
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* spec 2.7.5.3.1: negotiated, not nested, not with NEXT */
			if (!vq->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (!d.len || d.len % sizeof(d) ||
			    d.len / sizeof(d) > VIRTQ_CHAIN_MAX)
				return -EINVAL;
			table = avm_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return -EFAULT;
			size = steps = d.len / sizeof(d);
			in_indirect = true;
			i = 0;
			continue;
		}
		p = avm_mem_ptr(vq->mem, d.addr, d.len);
		if (!p)
			return -EFAULT;
		if (d.len) {
			if (c->nr_out + c->nr_in == VIRTQ_CHAIN_MAX)
				return -E2BIG;
			c->iov[c->nr_out + c->nr_in] =
				(struct iovec){ .iov_base = p, .iov_len = d.len };
			if (d.flags & VRING_DESC_F_WRITE) {
				c->nr_in++;
				c->in_len += d.len;
			} else {
				/* spec 2.7.4.2: readable ones come first */
				if (c->nr_in)
					return -EINVAL;
				c->nr_out++;
				c->out_len += d.len;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= size)
			return -EINVAL;
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	uint16_t head, pending;
	int ret;

	if (!virtq_has_avail(vq))
		return 0;
	/* the driver cannot have more entries waiting than the ring holds */
	pending = avail_idx(vq) - vq->last_avail;
	if (pending > vq->num)
		return -EINVAL;
	head = le16toh(GUEST_LOAD(&vq->avail->ring[vq->last_avail % vq->num]));
	if (head >= vq->num)
		return -EINVAL;
	ret = walk_chain(vq, head, c);
	if (ret)
		return ret;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];

	GUEST_STORE(&e->id, htole32(head));
	GUEST_STORE(&e->len, htole32(len));
	vq->used_idx++;
	/* the entry is visible before the index that hands it over */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
}

bool virtq_need_irq(struct virtq *vq)
{
	uint16_t old = vq->signalled;

	if (vq->used_idx == old)
		return false;
	vq->signalled = vq->used_idx;
	/* our used->idx store is ordered before reading the driver's wish */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		return vring_need_event(le16toh(GUEST_LOAD(used_event(vq))),
					vq->used_idx, old);
	return !(le16toh(GUEST_LOAD(&vq->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
}

unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t off,
		       size_t len, struct iovec *out)
{
	unsigned int i, k = 0;

	for (i = 0; i < n && len; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[k++] = (struct iovec){
			.iov_base = (uint8_t *)iov[i].iov_base + off,
			.iov_len = take,
		};
		len -= take;
		off = 0;
	}
	return k;
}

void iov_skip(struct iovec **iov, unsigned int *n, size_t len)
{
	while (*n && len >= (*iov)->iov_len) {
		len -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + len;
		(*iov)->iov_len -= len;
	}
}

/* Bytes between @buf and the segments' range from @off: one walker, iov_slice() */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t off,
		       void *buf, size_t len, bool to_iov)
{
	struct iovec part[VIRTQ_CHAIN_MAX];
	unsigned int i, k;
	uint8_t *b = buf;
	size_t done = 0;

	if (n > VIRTQ_CHAIN_MAX)
		n = VIRTQ_CHAIN_MAX;
	k = iov_slice(iov, n, off, len, part);
	for (i = 0; i < k; i++) {
		if (to_iov)
			memcpy(part[i].iov_base, b + done, part[i].iov_len);
		else
			memcpy(b + done, part[i].iov_base, part[i].iov_len);
		done += part[i].iov_len;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t off,
		    const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, true);
}
