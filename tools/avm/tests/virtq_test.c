// SPDX-License-Identifier: GPL-2.0
/*
 * avm's split virtqueue (virtq.c, VIRTIO 1.2 section 2.7) on rings in fake
 * guest RAM: what a well-behaved driver queues comes out right, and what a
 * malicious one queues (addresses outside RAM, loops, bad indices, bad
 * indirect tables) is refused without avm touching anything outside RAM
 * or walking forever.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "vdriver.h"

#define NUM	8
#define END	(AVM_RAM_BASE + VD_RAM_SIZE)

/* New rings for queue 0, described in @vq (not enabled) */
static void fresh_queue(struct vdrv *d, struct virtq *vq)
{
	vdrv_queue_alloc(d, 0, NUM);
	*vq = (struct virtq){
		.num = NUM, .desc_addr = d->q[0].desc,
		.avail_addr = d->q[0].avail, .used_addr = d->q[0].used,
	};
}

FIXTURE(vq) {
	struct vdrv d;
	struct virtq vq;
	struct virtq_chain c;
	uint64_t buf;		/* 64 KiB of RAM for buffers */
};

FIXTURE_SETUP(vq)
{
	ASSERT_EQ(0, vdrv_init(&self->d));
	self->buf = vdrv_alloc(&self->d, 65536, 4096);
	fresh_queue(&self->d, &self->vq);
}

FIXTURE_TEARDOWN(vq)
{
	vdrv_fini(&self->d);
}

static int enable(struct vdrv *d, struct virtq *vq, bool event_idx, bool indirect)
{
	return virtq_enable(vq, &d->mem, event_idx, indirect);
}

/* A one-descriptor chain at slot @i */
static void one(struct vdrv *d, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
	vdrv_set_desc(d, 0, i, addr, len, flags, 0);
	vdrv_publish(d, 0, i);
}

TEST_F(vq, enable_accepts_a_good_queue)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	EXPECT_TRUE(self->vq.ready);
	EXPECT_EQ(vdrv_ptr(&self->d, self->d.q[0].desc), (void *)self->vq.desc);
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, enable_refuses_bad_sizes)
{
	const uint32_t bad[] = { 0, 3, 6, 100, 512, 65536 };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		self->vq.num = bad[i];
		EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false))
			TH_LOG("num %u", bad[i]);
		EXPECT_FALSE(self->vq.ready);
	}
	self->vq.num = VIRTQ_NUM_MAX;
	self->vq.used_addr = vdrv_alloc(&self->d, 8 * VIRTQ_NUM_MAX + 6, 4096);
	self->vq.desc_addr = vdrv_alloc(&self->d, 16 * VIRTQ_NUM_MAX, 4096);
	self->vq.avail_addr = vdrv_alloc(&self->d, 2 * VIRTQ_NUM_MAX + 6, 4096);
	EXPECT_EQ(0, enable(&self->d, &self->vq, false, false));
}

/* spec 2.7, table "Virtqueue Part Alignment": 16, 2, 4 */
TEST_F(vq, enable_refuses_misaligned_parts)
{
	struct virtq good = self->vq;

	self->vq.desc_addr += 8;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	self->vq = good;
	self->vq.avail_addr += 1;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	self->vq = good;
	self->vq.used_addr += 2;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	self->vq = good;
	EXPECT_EQ(0, enable(&self->d, &self->vq, false, false));
}

TEST_F(vq, enable_refuses_parts_outside_ram)
{
	struct virtq good = self->vq;

	self->vq.desc_addr = AVM_RAM_BASE - 4096;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	self->vq = good;
	/* the used ring's last bytes (avail_event) beyond the end */
	self->vq.used_addr = END - 8 * NUM - 4;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	self->vq = good;
	self->vq.avail_addr = 0xfffffffffffffff0ULL;
	EXPECT_EQ(-EINVAL, enable(&self->d, &self->vq, false, false));
	EXPECT_EQ(NULL, self->vq.desc);
	self->vq = good;
	/* the very end of RAM is fine */
	self->vq.used_addr = END - 8 * NUM - 8;
	EXPECT_EQ(0, enable(&self->d, &self->vq, false, false));
}

TEST_F(vq, chain_readable_then_writable)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 16, false },
		{ self->buf + 100, 300, false },
		{ self->buf + 4096, 512, true },
		{ self->buf + 8192, 1, true },
	};

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_add(&self->d, 0, b, 4);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(0, self->c.head);
	EXPECT_EQ(2, self->c.nr_out);
	EXPECT_EQ(2, self->c.nr_in);
	EXPECT_EQ(316, self->c.out_len);
	EXPECT_EQ(513, self->c.in_len);
	EXPECT_EQ(vdrv_ptr(&self->d, self->buf + 100), self->c.iov[1].iov_base);
	EXPECT_EQ(vdrv_ptr(&self->d, self->buf + 8192), self->c.iov[3].iov_base);
	EXPECT_EQ(1, self->c.iov[3].iov_len);
	/* taken: nothing more */
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->c));
}

/* spec 2.7.4.2: a readable buffer after a writable one */
TEST_F(vq, chain_readable_after_writable_is_refused)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 16, true },
		{ self->buf + 100, 16, false },
	};

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_add(&self->d, 0, b, 2);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, zero_length_buffers_are_skipped)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 0, false },
		{ self->buf, 16, false },
		{ self->buf + 64, 0, true },
	};

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_add(&self->d, 0, b, 3);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(1, self->c.nr_out);
	EXPECT_EQ(0, self->c.nr_in);
}

TEST_F(vq, buffers_outside_ram_are_refused)
{
	const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ AVM_RAM_BASE - 1, 2 },		/* starts below */
		{ END - 16, 17 },			/* ends above */
		{ END, 1 },				/* just after */
		{ 0xfffffffffffffff0ULL, 0x100 },	/* wraps around 2^64 */
		{ 0, 16 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_queue(&self->d, &self->vq);
		ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
		one(&self->d, 0, bad[i].addr, bad[i].len, VRING_DESC_F_WRITE);
		EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->c))
			TH_LOG("buffer 0x%llx + %u", (unsigned long long)bad[i].addr,
			       bad[i].len);
	}
}

TEST_F(vq, last_byte_of_ram_is_fine)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	one(&self->d, 0, END - 1, 1, VRING_DESC_F_WRITE);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(self->d.mem.host + VD_RAM_SIZE - 1, (uint8_t *)self->c.iov[0].iov_base);
}

TEST_F(vq, loops_end_the_walk)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	/* 0 -> 1 -> 2 -> 0 */
	vdrv_set_desc(&self->d, 0, 0, self->buf, 8, VRING_DESC_F_NEXT, 1);
	vdrv_set_desc(&self->d, 0, 1, self->buf, 8, VRING_DESC_F_NEXT, 2);
	vdrv_set_desc(&self->d, 0, 2, self->buf, 8, VRING_DESC_F_NEXT, 0);
	vdrv_publish(&self->d, 0, 0);
	EXPECT_EQ(-ELOOP, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, self_loop_ends_the_walk)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_set_desc(&self->d, 0, 5, self->buf, 8, VRING_DESC_F_NEXT, 5);
	vdrv_publish(&self->d, 0, 5);
	EXPECT_EQ(-ELOOP, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, longest_chain_is_the_ring)
{
	unsigned int i;

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	for (i = 0; i < NUM; i++)
		vdrv_set_desc(&self->d, 0, i, self->buf + i, 1,
			      i + 1 < NUM ? VRING_DESC_F_NEXT : 0, i + 1);
	vdrv_publish(&self->d, 0, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(NUM, self->c.nr_out);
}

TEST_F(vq, next_outside_the_table_is_refused)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_set_desc(&self->d, 0, 0, self->buf, 8, VRING_DESC_F_NEXT, NUM);
	vdrv_publish(&self->d, 0, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, head_outside_the_table_is_refused)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_publish(&self->d, 0, NUM);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->c));
}

/* avail->idx claims more entries than the ring holds */
TEST_F(vq, avail_index_too_far_ahead_is_refused)
{
	struct vring_avail *avail = vdrv_ptr(&self->d, self->d.q[0].avail);

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_set_desc(&self->d, 0, 0, self->buf, 8, 0, 0);
	avail->idx = htole16(NUM + 1);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->c));
	avail->idx = htole16(NUM);
	EXPECT_EQ(1, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, indirect_table)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 16, false },
		{ self->buf + 32, 100, true },
		{ self->buf + 200, 1, true },
	};

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, true));
	vdrv_add_indirect(&self->d, 0, b, 3);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(1, self->c.nr_out);
	EXPECT_EQ(2, self->c.nr_in);
	EXPECT_EQ(101, self->c.in_len);
	EXPECT_EQ(vdrv_ptr(&self->d, self->buf + 200), self->c.iov[2].iov_base);
}

/* spec 2.7.5.3.1: only when negotiated */
TEST_F(vq, indirect_not_negotiated_is_refused)
{
	const struct vdrv_buf b[] = { { self->buf, 16, false } };

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	vdrv_add_indirect(&self->d, 0, b, 1);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->c));
}

/* Direct descriptors then an indirect table: the table ends the chain */
TEST_F(vq, indirect_after_direct)
{
	uint64_t table = vdrv_alloc(&self->d, 32, 16);
	struct vring_desc *t = vdrv_ptr(&self->d, table);

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, true));
	t[0] = (struct vring_desc){ htole64(self->buf + 64), htole32(8),
				    htole16(VRING_DESC_F_WRITE | VRING_DESC_F_NEXT), htole16(1) };
	t[1] = (struct vring_desc){ htole64(self->buf + 128), htole32(8),
				    htole16(VRING_DESC_F_WRITE), 0 };
	vdrv_set_desc(&self->d, 0, 3, self->buf, 16, VRING_DESC_F_NEXT, 4);
	vdrv_set_desc(&self->d, 0, 4, table, 32, VRING_DESC_F_INDIRECT, 0);
	vdrv_publish(&self->d, 0, 3);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(3, self->c.head);
	EXPECT_EQ(1, self->c.nr_out);
	EXPECT_EQ(2, self->c.nr_in);
}

struct bad_table {
	uint32_t len;		/* of the indirect descriptor */
	uint16_t flags;		/* its own flags besides INDIRECT */
	uint32_t t0_len;	/* entry 0 of the table */
	uint16_t t0_flags;
	uint16_t t0_next;
	int err;
};

TEST_F(vq, bad_indirect_tables_are_refused)
{
	const struct bad_table bad[] = {
		{ 0, 0, 8, 0, 0, -EINVAL },				/* empty */
		{ 24, 0, 8, 0, 0, -EINVAL },				/* not n * 16 */
		{ 32, VRING_DESC_F_NEXT, 8, 0, 0, -EINVAL },		/* with NEXT */
		{ 32, 0, 16, VRING_DESC_F_INDIRECT, 0, -EINVAL },	/* nested */
		{ 32, 0, 8, VRING_DESC_F_NEXT, 2, -EINVAL },		/* next beyond it */
		{ 32, 0, 8, VRING_DESC_F_NEXT, 0, -ELOOP },		/* a loop inside */
		{ 16 * (VIRTQ_CHAIN_MAX + 1), 0, 8, 0, 0, -EINVAL },	/* too big */
	};
	uint64_t table = vdrv_alloc(&self->d, 16 * (VIRTQ_CHAIN_MAX + 1), 16);
	struct vring_desc *t = vdrv_ptr(&self->d, table);
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_queue(&self->d, &self->vq);
		ASSERT_EQ(0, enable(&self->d, &self->vq, false, true));
		/* a nested table would be entry 1, a good one */
		t[0] = (struct vring_desc){ htole64(table + 16), htole32(bad[i].t0_len),
					    htole16(bad[i].t0_flags), htole16(bad[i].t0_next) };
		t[1] = (struct vring_desc){ htole64(self->buf), htole32(8), 0, 0 };
		one(&self->d, 0, table, bad[i].len, VRING_DESC_F_INDIRECT | bad[i].flags);
		EXPECT_EQ(bad[i].err, virtq_pop(&self->vq, &self->c)) TH_LOG("case %u", i);
	}
}

TEST_F(vq, indirect_table_outside_ram_is_refused)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, true));
	one(&self->d, 0, END - 16, 32, VRING_DESC_F_INDIRECT);
	EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->c));
}

/* Direct descriptors plus a full indirect table: more than avm takes */
TEST_F(vq, chain_longer_than_avm_takes_is_refused)
{
	uint64_t table = vdrv_alloc(&self->d, 16 * VIRTQ_CHAIN_MAX, 16);
	struct vring_desc *t = vdrv_ptr(&self->d, table);
	unsigned int i;

	for (i = 0; i < VIRTQ_CHAIN_MAX; i++)
		t[i] = (struct vring_desc){ htole64(self->buf), htole32(1),
					    htole16(i + 1 < VIRTQ_CHAIN_MAX ?
						    VRING_DESC_F_NEXT : 0),
					    htole16(i + 1) };
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, true));
	vdrv_set_desc(&self->d, 0, 0, table, 16 * VIRTQ_CHAIN_MAX, VRING_DESC_F_INDIRECT, 0);
	vdrv_publish(&self->d, 0, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(VIRTQ_CHAIN_MAX, self->c.nr_out);
	vdrv_set_desc(&self->d, 0, 1, self->buf, 1, VRING_DESC_F_NEXT, 2);
	vdrv_set_desc(&self->d, 0, 2, table, 16 * VIRTQ_CHAIN_MAX, VRING_DESC_F_INDIRECT, 0);
	vdrv_publish(&self->d, 0, 1);
	EXPECT_EQ(-E2BIG, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, unpop_gives_the_same_chain_again)
{
	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	one(&self->d, 6, self->buf, 8, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(6, self->c.head);
	virtq_unpop(&self->vq);
	EXPECT_TRUE(virtq_has_avail(&self->vq));
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(6, self->c.head);
	EXPECT_FALSE(virtq_has_avail(&self->vq));
}

TEST_F(vq, push_fills_the_used_ring)
{
	struct vring_used *used = vdrv_ptr(&self->d, self->d.q[0].used);

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	one(&self->d, 2, self->buf, 8, VRING_DESC_F_WRITE);
	one(&self->d, 5, self->buf, 8, VRING_DESC_F_WRITE);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	virtq_push(&self->vq, self->c.head, 7);
	EXPECT_EQ(1, le16toh(used->idx));
	EXPECT_EQ(2, le32toh(used->ring[0].id));
	EXPECT_EQ(7, le32toh(used->ring[0].len));
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	virtq_push(&self->vq, self->c.head, 3);
	EXPECT_EQ(2, le16toh(used->idx));
	EXPECT_EQ(5, le32toh(used->ring[1].id));
	EXPECT_EQ(3, le32toh(used->ring[1].len));
}

/* 65536 and more: the free-running indices wrap (spec 2.7.6, 2.7.8) */
TEST_F(vq, indices_wrap)
{
	struct vring_used *used = vdrv_ptr(&self->d, self->d.q[0].used);
	unsigned int i;

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	for (i = 0; i < 70000; i++) {
		one(&self->d, i % NUM, self->buf, 8, 0);
		ASSERT_EQ(1, virtq_pop(&self->vq, &self->c)) TH_LOG("round %u", i);
		ASSERT_EQ(i % NUM, self->c.head);
		virtq_push(&self->vq, self->c.head, 0);
	}
	EXPECT_EQ((uint16_t)70000, le16toh(used->idx));
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->c));
}

TEST_F(vq, interrupt_unless_the_driver_says_not)
{
	struct vring_avail *avail = vdrv_ptr(&self->d, self->d.q[0].avail);

	ASSERT_EQ(0, enable(&self->d, &self->vq, false, false));
	EXPECT_FALSE(virtq_need_irq(&self->vq));	/* nothing used yet */
	one(&self->d, 0, self->buf, 8, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	virtq_push(&self->vq, 0, 0);
	EXPECT_TRUE(virtq_need_irq(&self->vq));
	EXPECT_FALSE(virtq_need_irq(&self->vq));	/* already told */
	avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	one(&self->d, 1, self->buf, 8, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	virtq_push(&self->vq, 1, 0);
	EXPECT_FALSE(virtq_need_irq(&self->vq));
}

/* spec 2.7.10: used_event says after which used entry to interrupt */
TEST_F(vq, event_idx_interrupts_when_asked)
{
	struct vring_avail *avail = vdrv_ptr(&self->d, self->d.q[0].avail);
	uint16_t *used_event = &avail->ring[NUM];
	unsigned int i;

	ASSERT_EQ(0, enable(&self->d, &self->vq, true, false));
	/* the flag means nothing with EVENT_IDX */
	avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	*used_event = htole16(2);	/* wake me when entry 2 is used */
	for (i = 0; i < 4; i++)
		one(&self->d, i, self->buf, 8, 0);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
		virtq_push(&self->vq, i, 0);
		/* used_idx becomes 1, 2, 3, 4: entry 2 is in the third push */
		EXPECT_EQ(i == 2, virtq_need_irq(&self->vq)) TH_LOG("push %u", i);
	}
}

/* spec 2.7.10: avail_event tells the driver when to notify */
TEST_F(vq, event_idx_asks_for_notifications)
{
	struct vring_used *used = vdrv_ptr(&self->d, self->d.q[0].used);
	uint16_t *avail_event = (uint16_t *)&used->ring[NUM];

	ASSERT_EQ(0, enable(&self->d, &self->vq, true, false));
	*avail_event = htole16(0x5555);
	one(&self->d, 0, self->buf, 8, 0);
	one(&self->d, 1, self->buf, 8, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(0x5555, le16toh(*avail_event));	/* busy: no need yet */
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->c));
	EXPECT_EQ(2, le16toh(*avail_event));		/* empty: tell me at 2 */
}

TEST(iov_copies_across_segments)
{
	uint8_t a[3], b[5], c[2], out[10];
	const struct iovec iov[] = { { a, 3 }, { b, 5 }, { c, 2 } };
	struct iovec part[3];
	unsigned int i;

	for (i = 0; i < 10; i++)
		out[i] = i;
	EXPECT_EQ(10, iov_from_buf(iov, 3, 0, out, 10));
	EXPECT_EQ(2, a[2]);
	EXPECT_EQ(7, b[4]);
	EXPECT_EQ(9, c[1]);
	memset(out, 0xff, sizeof(out));
	EXPECT_EQ(4, iov_to_buf(iov, 3, 2, out, 4));
	EXPECT_EQ(2, out[0]);
	EXPECT_EQ(5, out[3]);
	EXPECT_EQ(0xff, out[4]);
	/* past the end: what there is */
	EXPECT_EQ(1, iov_to_buf(iov, 3, 9, out, 4));
	EXPECT_EQ(9, out[0]);
	EXPECT_EQ(0, iov_to_buf(iov, 3, 10, out, 4));
	/* bytes 2..8: the end of a, all of b, the start of c */
	ASSERT_EQ(3, iov_slice(iov, 3, 2, 7, part));
	EXPECT_EQ(a + 2, (uint8_t *)part[0].iov_base);
	EXPECT_EQ(1, part[0].iov_len);
	EXPECT_EQ(5, part[1].iov_len);
	EXPECT_EQ(&c[0], (uint8_t *)part[2].iov_base);
	EXPECT_EQ(1, part[2].iov_len);
}

/* After a short transfer: what is left */
TEST(iov_skip_drops_what_was_done)
{
	uint8_t a[3], b[5];
	struct iovec v[] = { { a, 3 }, { b, 5 } }, *iov = v;
	unsigned int n = 2;

	iov_skip(&iov, &n, 2);
	EXPECT_EQ(2, n);
	EXPECT_EQ(a + 2, (uint8_t *)iov->iov_base);
	EXPECT_EQ(1, iov->iov_len);
	iov_skip(&iov, &n, 3);
	EXPECT_EQ(1, n);
	EXPECT_EQ(b + 2, (uint8_t *)iov->iov_base);
	EXPECT_EQ(3, iov->iov_len);
	iov_skip(&iov, &n, 3);
	EXPECT_EQ(0, n);
}

TEST_HARNESS_MAIN
