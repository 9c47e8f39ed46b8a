// SPDX-License-Identifier: GPL-2.0
/*
 * avm's virtio-mmio transport (virtio.c, VIRTIO 1.2 section 4.2) through
 * its MMIO handlers, as a guest driver uses it: identification, feature
 * negotiation (VERSION_1 required), the status state machine, queues,
 * notifications reaching the device's I/O thread, interrupts, reset (also
 * with a buffer in flight), config generation, and DEVICE_NEEDS_RESET for
 * a driver that breaks the rules. The device behind it is a small one of
 * this test's own, then the entropy device (virtio_rng.c).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>

#include "kselftest_harness.h"

#include "vdriver.h"

#define INDEX		5
#define V1		(1ULL << VIRTIO_F_VERSION_1)
#define EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)
#define INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

/*
 * The test's device: one queue; writes "done" into each buffer, after a
 * byte from @hold when holding, so a test can keep a chain in flight.
 */
struct tdev {
	struct virtio_dev vd;
	uint8_t config[12];
	struct virtq_chain c;
	int hold[2];
	bool holding;
	int popped;			/* atomic: chains taken */
	pthread_t thread;		/* where process() last ran */
};

static void tdev_process(struct virtio_dev *vd)
{
	struct tdev *t = container_of(vd, struct tdev, vd);
	char byte;

	t->thread = pthread_self();
	while (virtio_pop(vd, 0, &t->c) > 0) {
		__atomic_add_fetch(&t->popped, 1, __ATOMIC_SEQ_CST);
		if (t->holding && read(t->hold[0], &byte, 1) != 1)
			break;
		virtio_push(vd, 0, &t->c, iov_from_buf(t->c.iov + t->c.nr_out, t->c.nr_in,
						       0, "done", 4));
	}
}

static void tdev_destroy(struct virtio_dev *vd)
{
}

static const struct virtio_ops tdev_ops = {
	.name = "test", .device_id = 42, .nr_queues = 1,
	.process = tdev_process, .destroy = tdev_destroy,
};

FIXTURE(mmio) {
	struct vdrv d;
	struct tdev t;
	uint64_t buf;
};

FIXTURE_SETUP(mmio)
{
	struct virtio_env env;
	unsigned int i;

	ASSERT_EQ(0, vdrv_init(&self->d));
	env = vdrv_env(&self->d);
	for (i = 0; i < sizeof(self->t.config); i++)
		self->t.config[i] = 0x10 + i;
	ASSERT_EQ(0, pipe(self->t.hold));
	ASSERT_EQ(0, virtio_init(&self->t.vd, &tdev_ops, &env, INDEX, 1ULL << 3,
				 self->t.config, sizeof(self->t.config)));
	self->d.dev = virtio_avm_dev(&self->t.vd);
	ASSERT_EQ(0, virtio_start(&self->t.vd));
	self->buf = vdrv_alloc(&self->d, 65536, 4096);
}

FIXTURE_TEARDOWN(mmio)
{
	/* a test that failed while holding: let the thread go */
	if (write(self->t.hold[1], "xxxx", 4) < 0)
		TH_LOG("teardown: %s", strerror(errno));
	virtio_destroy(&self->t.vd);
	close(self->t.hold[0]);
	close(self->t.hold[1]);
	vdrv_fini(&self->d);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

TEST_F(mmio, identification)
{
	struct avm_dev *dev = self->d.dev;

	EXPECT_EQ(AVM_VIRTIO_BASE + INDEX * 0x200, dev->base);
	EXPECT_EQ(0x200, dev->size);
	EXPECT_EQ(0x74726976, vdrv_rd(&self->d, VIRTIO_MMIO_MAGIC_VALUE));
	EXPECT_EQ(2, vdrv_rd(&self->d, VIRTIO_MMIO_VERSION));
	EXPECT_EQ(42, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_ID));
	EXPECT_EQ(VIRTIO_AVM_VENDOR, vdrv_rd(&self->d, VIRTIO_MMIO_VENDOR_ID));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
	/* no shared memory regions: length -1 (4.2.2.1) */
	EXPECT_EQ(0xffffffff, vdrv_rd(&self->d, VIRTIO_MMIO_SHM_LEN_LOW));
	EXPECT_EQ(0xffffffff, vdrv_rd(&self->d, VIRTIO_MMIO_SHM_LEN_HIGH));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(VIRTQ_NUM_MAX, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_NUM_MAX));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_SEL, 1);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_NUM_MAX));
	/* Magic wants 32-bit accesses (4.2.2.2) */
	EXPECT_EQ(0, dev->read(dev, 0, VIRTIO_MMIO_MAGIC_VALUE, 2));
	EXPECT_EQ(0, dev->read(dev, 0, VIRTIO_MMIO_MAGIC_VALUE, 8));
	EXPECT_EQ(0, dev->read(dev, 0, VIRTIO_MMIO_MAGIC_VALUE + 1, 4));
}

TEST_F(mmio, device_tree_node)
{
	static char fdt[4096];
	const fdt32_t *irq;
	const fdt64_t *reg;
	int node, len;

	ASSERT_EQ(0, fdt_create(fdt, sizeof(fdt)));
	ASSERT_EQ(0, fdt_finish_reservemap(fdt));
	ASSERT_EQ(0, fdt_begin_node(fdt, ""));
	ASSERT_EQ(0, self->d.dev->fdt_node(self->d.dev, fdt));
	ASSERT_EQ(0, fdt_end_node(fdt));
	ASSERT_EQ(0, fdt_finish(fdt));
	node = fdt_path_offset(fdt, "/virtio_mmio@a000a00");
	ASSERT_GE(node, 0);
	EXPECT_STREQ("virtio,mmio", fdt_getprop(fdt, node, "compatible", NULL));
	reg = fdt_getprop(fdt, node, "reg", &len);
	ASSERT_EQ(16, len);
	EXPECT_EQ(0x0a000a00, fdt64_to_cpu(reg[0]));
	EXPECT_EQ(0x200, fdt64_to_cpu(reg[1]));
	/* GIC_SPI 16 + n, IRQ_TYPE_EDGE_RISING: as QEMU's virt */
	irq = fdt_getprop(fdt, node, "interrupts", &len);
	ASSERT_EQ(12, len);
	EXPECT_EQ(0, fdt32_to_cpu(irq[0]));
	EXPECT_EQ(16 + INDEX, fdt32_to_cpu(irq[1]));
	EXPECT_EQ(1, fdt32_to_cpu(irq[2]));
	EXPECT_NE(NULL, fdt_getprop(fdt, node, "dma-coherent", &len));
	EXPECT_EQ(0, len);
}

TEST_F(mmio, features_offered)
{
	uint64_t f = vdrv_features(&self->d);

	EXPECT_EQ(V1 | EVENT_IDX | INDIRECT | 1ULL << 3, f);
	vdrv_wr(&self->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_FEATURES));
}

/* 3.1.1: FEATURES_OK stays clear when the device refuses the set */
TEST_F(mmio, features_ok_needs_version_1)
{
	EXPECT_EQ(S_ACK | S_DRIVER, vdrv_negotiate(&self->d, 1ULL << 3));
	EXPECT_EQ(S_ACK | S_DRIVER, vdrv_negotiate(&self->d, V1 | 1ULL << 50));
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vdrv_negotiate(&self->d, V1 | 1ULL << 3));
	/* and once accepted, the features are fixed */
	vdrv_wr(&self->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv_wr(&self->d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	EXPECT_TRUE(virtio_has_feature(&self->t.vd, 3));
	EXPECT_TRUE(virtio_has_feature(&self->t.vd, VIRTIO_F_VERSION_1));
}

/* 2.1.2: the driver never clears a bit but by writing 0 */
TEST_F(mmio, status_bits_are_not_cleared)
{
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK);
	EXPECT_EQ(S_ACK | S_DRIVER, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
	/* nor sets the device's own */
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_NEEDS_RESET);
	EXPECT_EQ(S_ACK | S_DRIVER, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, driver_ok_without_features_ok)
{
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	EXPECT_EQ(S_ACK | S_DRIVER | S_NEEDS_RESET, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, queue_ready_without_features_ok)
{
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	vdrv_queue_alloc(&self->d, 0, 16);
	vdrv_queue_enable(&self->d, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
}

TEST_F(mmio, queue_outside_ram_is_not_made_ready)
{
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vdrv_negotiate(&self->d, V1));
	vdrv_queue_alloc(&self->d, 0, 16);
	self->d.q[0].used = AVM_RAM_BASE + VD_RAM_SIZE - 64;
	vdrv_queue_enable(&self->d, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
}

TEST_F(mmio, queue_fields_fixed_while_ready)
{
	struct virtq *vq = &self->t.vd.vq[0];

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	EXPECT_EQ(1, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_NUM, 4);
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	EXPECT_EQ(16, vq->num);
	EXPECT_EQ(self->d.q[0].desc, vq->desc_addr);
	/* QueueReady = 0 takes it down at once (Linux checks) */
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_READY, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
}

TEST_F(mmio, buffers_are_used_and_interrupt)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };
	uint32_t id, len;
	uint16_t head;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	EXPECT_EQ(0, vdrv_level(&self->d));
	head = vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(head, id);
	EXPECT_EQ(4, len);
	EXPECT_EQ(0, memcmp(vdrv_ptr(&self->d, self->buf), "done", 4));
	/* the I/O thread did it, not the "vCPU" that kicked */
	EXPECT_FALSE(pthread_equal(pthread_self(), self->t.thread));
	/* the interrupt: InterruptStatus bit 0, the line up until acked */
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
	EXPECT_EQ(1, vdrv_raises(&self->d));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, vdrv_ack(&self->d));
	EXPECT_EQ(0, vdrv_level(&self->d));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_INTERRUPT_STATUS));
}

/* 3.1.1 step 8: nothing is used before DRIVER_OK */
TEST_F(mmio, nothing_before_driver_ok)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };
	uint32_t status, id, len;

	status = vdrv_negotiate(&self->d, V1);
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, status);
	vdrv_queue_alloc(&self->d, 0, 16);
	vdrv_queue_enable(&self->d, 0);
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, 0));
	EXPECT_EQ(0, __atomic_load_n(&self->t.popped, __ATOMIC_SEQ_CST));
	/* DRIVER_OK alone gets the queued buffer used */
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, status | S_DRIVER_OK);
	EXPECT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
}

/* 2.1.2: a bad chain: DEVICE_NEEDS_RESET and a config interrupt */
TEST_F(mmio, bad_chain_needs_reset)
{
	const struct vdrv_buf good[] = { { self->buf, 16, true } };
	const struct vdrv_buf bad[] = { { AVM_RAM_BASE + VD_RAM_SIZE, 16, true } };
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	vdrv_add(&self->d, 0, bad, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_status(&self->d, S_NEEDS_RESET));
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, vdrv_ack(&self->d));
	/* the queue is dead until a reset: good buffers wait */
	vdrv_add(&self->d, 0, good, 1);
	vdrv_kick(&self->d, 0);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, 0));
	/* a reset brings the device back */
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	vdrv_add(&self->d, 0, good, 1);
	vdrv_kick(&self->d, 0);
	EXPECT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
}

TEST_F(mmio, reset_clears_everything)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1 | INDIRECT, 1, 16));
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, 0);
	/* 4.2.2.1: InterruptStatus and QueueReady cleared, the line down */
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_INTERRUPT_STATUS));
	EXPECT_EQ(0, vdrv_level(&self->d));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
	EXPECT_FALSE(virtio_has_feature(&self->t.vd, VIRTIO_RING_F_INDIRECT_DESC));
	/* and kicks do nothing */
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, 0));
}

/* A register write from another "vCPU", which may have to wait */
struct write_job {
	struct vdrv *d;
	uint64_t off;
	uint32_t val;
};

static void *do_write(void *arg)
{
	struct write_job *w = arg;

	vdrv_wr(w->d, w->off, w->val);
	return NULL;
}

/*
 * One buffer taken by the device and held there (the test device waits
 * for a byte on its pipe); then @off = @val from another thread must wait
 * for it: Linux resets with one write (or takes a queue down, and checks
 * QueueReady at once), then frees the buffers.
 */
static void write_waits_for_held_buffer(struct __test_metadata *_metadata,
					FIXTURE_DATA(mmio) *self, uint64_t off,
					uint32_t val)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };
	struct write_job w = { &self->d, off, val };
	struct vring_used *used;
	pthread_t t;
	unsigned int i;

	self->t.holding = true;
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	used = vdrv_ptr(&self->d, self->d.q[0].used);
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	for (i = 0; i < VD_TIMEOUT_MS && !__atomic_load_n(&self->t.popped, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ASSERT_EQ(1, self->t.popped);
	ASSERT_EQ(0, pthread_create(&t, NULL, do_write, &w));
	sleep_ms(100);
	/* still in flight: the write has not taken effect */
	EXPECT_EQ(0, used->idx);
	EXPECT_TRUE(self->t.vd.vq[0].ready);
	EXPECT_NE(0, self->t.vd.status);
	ASSERT_EQ(1, write(self->t.hold[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_EQ(1, le16toh(used->idx));
	EXPECT_FALSE(self->t.vd.vq[0].ready);
}

TEST_F(mmio, reset_waits_for_buffers_in_flight)
{
	write_waits_for_held_buffer(_metadata, self, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, vdrv_level(&self->d));
}

TEST_F(mmio, queue_off_waits_for_buffers_in_flight)
{
	write_waits_for_held_buffer(_metadata, self, VIRTIO_MMIO_QUEUE_READY, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_READY));
	/* the device itself goes on */
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & S_DRIVER_OK);
}

/* Once the device needs a reset it leaves every queue alone */
TEST_F(mmio, needs_reset_stops_the_queues)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	virtio_needs_reset(&self->t.vd, "a test says so");
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, vdrv_ack(&self->d));
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, 0));
}

/* spec 2.7.7: VRING_AVAIL_F_NO_INTERRUPT keeps the line down */
TEST_F(mmio, no_interrupt_when_the_driver_says_not)
{
	const struct vdrv_buf b[] = { { self->buf, 16, true } };
	struct vring_avail *avail;
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	avail = vdrv_ptr(&self->d, self->d.q[0].avail);
	avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	sleep_ms(50);	/* an interrupt would follow the used entry at once */
	EXPECT_EQ(0, vdrv_level(&self->d));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_INTERRUPT_STATUS));
}

/* 4.2.2.2: config space at 0x100 in every width; outside it, zero */
TEST_F(mmio, config_space)
{
	struct avm_dev *dev = self->d.dev;

	EXPECT_EQ(0x10, vdrv_cfg(&self->d, 0, 1));
	EXPECT_EQ(0x1312, vdrv_cfg(&self->d, 2, 2));
	EXPECT_EQ(0x17161514, vdrv_cfg(&self->d, 4, 4));
	EXPECT_EQ(0x1b1a191817161514ULL, vdrv_cfg(&self->d, 4, 8));
	EXPECT_EQ(0, vdrv_cfg(&self->d, 8, 8));		/* crosses the end */
	EXPECT_EQ(0, vdrv_cfg(&self->d, 12, 1));
	/* writes to it are ignored */
	dev->write(dev, 0, VIRTIO_MMIO_CONFIG, 4, 0);
	EXPECT_EQ(0x13121110, vdrv_cfg(&self->d, 0, 4));
}

/* 4.2.2.1: a change moves ConfigGeneration and interrupts a running driver */
TEST_F(mmio, config_change)
{
	const uint8_t v = 0x99;
	uint32_t gen = vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION);

	virtio_config_update(&self->t.vd, 1, &v, 1);
	EXPECT_NE(gen, vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION));
	EXPECT_EQ(0x99, vdrv_cfg(&self->d, 1, 1));
	EXPECT_EQ(0, vdrv_level(&self->d));	/* no driver yet: no interrupt */
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	gen = vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_config_update(&self->t.vd, 1, &v, 1);
	EXPECT_EQ(gen + 1, vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION));
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, vdrv_ack(&self->d));
}

/* The entropy device (5.4) behind the same transport */
FIXTURE(rng) {
	struct vdrv d;
	struct virtio_dev *vd;
	uint64_t buf;
};

FIXTURE_SETUP(rng)
{
	struct virtio_env env;
	char err[128];

	ASSERT_EQ(0, vdrv_init(&self->d));
	env = vdrv_env(&self->d);
	self->vd = virtio_rng_create(&env, 0, err, sizeof(err));
	ASSERT_NE(NULL, self->vd) TH_LOG("%s", err);
	self->d.dev = virtio_avm_dev(self->vd);
	ASSERT_EQ(0, virtio_start(self->vd));
	self->buf = vdrv_alloc(&self->d, 65536, 4096);
}

FIXTURE_TEARDOWN(rng)
{
	virtio_destroy(self->vd);
	vdrv_fini(&self->d);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

TEST_F(rng, identification)
{
	EXPECT_EQ(VIRTIO_ID_RNG, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_ID));
	EXPECT_EQ(V1 | EVENT_IDX | INDIRECT, vdrv_features(&self->d));
	EXPECT_EQ(AVM_SPI_VIRTIO, self->vd->intid);
}

TEST_F(rng, fills_buffers)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 64, true },
		{ self->buf + 4096, 4000, true },
	};
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	vdrv_add(&self->d, 0, b, 1);
	vdrv_add(&self->d, 0, b + 1, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(64, len);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(4000, len);
	EXPECT_FALSE(all_zero(vdrv_ptr(&self->d, self->buf), 64));
	/* two different reads of 64 random bytes do not match */
	EXPECT_NE(0, memcmp(vdrv_ptr(&self->d, self->buf),
			    vdrv_ptr(&self->d, self->buf + 4096), 64));
	/* and not a byte more than asked */
	EXPECT_TRUE(all_zero(vdrv_ptr(&self->d, self->buf + 64), 4096 - 64));
	EXPECT_TRUE(all_zero(vdrv_ptr(&self->d, self->buf + 8096), 100));
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
}

TEST_F(rng, indirect_and_event_idx)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 10, true },
		{ self->buf + 100, 22, true },
	};
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1 | EVENT_IDX | INDIRECT, 1, 16));
	vdrv_add_indirect(&self->d, 0, b, 2);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(32, len);
	EXPECT_TRUE(all_zero(vdrv_ptr(&self->d, self->buf + 10), 90));
}

/* Readable buffers are the driver's mistake: left alone, nothing counted */
TEST_F(rng, readable_buffers_are_not_written)
{
	const struct vdrv_buf b[] = { { self->buf, 64, false } };
	uint32_t id, len;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  vdrv_setup(&self->d, V1, 1, 16));
	vdrv_add(&self->d, 0, b, 1);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(0, len);
	EXPECT_TRUE(all_zero(vdrv_ptr(&self->d, self->buf), 64));
}

TEST_HARNESS_MAIN
