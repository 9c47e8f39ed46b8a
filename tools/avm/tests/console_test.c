// SPDX-License-Identifier: GPL-2.0
/*
 * avm's console device (virtio_console.c, VIRTIO 1.2 section 5.3) between
 * two pipes standing in for stdin and stdout, driven as Linux's hvc
 * driver drives it: output written whole, input delivered only into
 * buffers the guest gave, the end of input, the terminal size.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_console.h>

#include "kselftest_harness.h"

#include "vdriver.h"

#define RXQ		0
#define TXQ		1
#define V1		(1ULL << VIRTIO_F_VERSION_1)
#define RUNNING		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

FIXTURE(con) {
	int in[2], out[2];	/* [1] is what the test writes to the guest */
	struct vdrv d;
	struct virtio_dev *vd;
	uint64_t buf;
};

FIXTURE_SETUP(con)
{
	struct virtio_env env;
	char err[128];

	ASSERT_EQ(0, pipe(self->in));
	/* both non-blocking: the device must wait for room itself */
	ASSERT_EQ(0, pipe2(self->out, O_NONBLOCK));
	ASSERT_EQ(0, vdrv_init(&self->d));
	env = vdrv_env(&self->d);
	self->vd = virtio_console_create(&env, 2, self->in[0], self->out[1], 0, 0,
					 err, sizeof(err));
	ASSERT_NE(NULL, self->vd) TH_LOG("%s", err);
	self->d.dev = virtio_avm_dev(self->vd);
	ASSERT_EQ(0, virtio_start(self->vd));
	self->buf = vdrv_alloc(&self->d, 65536, 4096);
	ASSERT_EQ(RUNNING, vdrv_setup(&self->d, V1, 2, 16));
}

FIXTURE_TEARDOWN(con)
{
	virtio_destroy(self->vd);
	vdrv_fini(&self->d);
	close(self->in[0]);
	if (self->in[1] >= 0)
		close(self->in[1]);
	close(self->out[0]);
	close(self->out[1]);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* What the guest wrote so far, as a string */
static size_t output(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? n : 0;
}

/* An input buffer of @len bytes at @addr */
static void give_rx(struct vdrv *d, uint64_t addr, uint32_t len)
{
	const struct vdrv_buf b[] = { { addr, len, true } };

	vdrv_add(d, RXQ, b, 1);
	vdrv_kick(d, RXQ);
}

TEST_F(con, identification)
{
	EXPECT_EQ(VIRTIO_ID_CONSOLE, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_ID));
	/* no terminal: no size, and never MULTIPORT (one port: hvc0) */
	EXPECT_EQ(0, vdrv_features(&self->d) & 0xffffffff &
		  ~(1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_SEL, TXQ);
	EXPECT_EQ(VIRTQ_NUM_MAX, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_NUM_MAX));
	vdrv_wr(&self->d, VIRTIO_MMIO_QUEUE_SEL, 2);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_QUEUE_NUM_MAX));
}

TEST_F(con, output)
{
	const struct vdrv_buf b[] = {
		{ self->buf, 6, false },
		{ self->buf + 100, 7, false },
	};
	char got[64];
	uint32_t id, len;

	memcpy(vdrv_ptr(&self->d, self->buf), "hello ", 6);
	memcpy(vdrv_ptr(&self->d, self->buf + 100), "world\n", 7);
	vdrv_add(&self->d, TXQ, b, 2);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	EXPECT_EQ(0, len);
	EXPECT_EQ(13, output(self->out[0], got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, "hello world\n", 13));
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
}

TEST_F(con, input_into_a_waiting_buffer)
{
	uint32_t id, len;

	give_rx(&self->d, self->buf, 64);
	sleep_ms(50);
	EXPECT_FALSE(vdrv_used_pending(&self->d, RXQ));
	/* typed later: the device was waiting on its input */
	ASSERT_EQ(3, write(self->in[1], "abc", 3));
	ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
	EXPECT_EQ(3, len);
	EXPECT_EQ(0, memcmp(vdrv_ptr(&self->d, self->buf), "abc", 3));
}

TEST_F(con, input_waits_for_a_buffer)
{
	uint32_t id, len;
	char left[8];

	ASSERT_EQ(5, write(self->in[1], "early", 5));
	sleep_ms(50);
	give_rx(&self->d, self->buf, 3);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
	EXPECT_EQ(3, len);
	EXPECT_EQ(0, memcmp(vdrv_ptr(&self->d, self->buf), "ear", 3));
	/* the rest stays in the pipe until the next buffer */
	sleep_ms(50);
	give_rx(&self->d, self->buf + 100, 16);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
	EXPECT_EQ(2, len);
	EXPECT_EQ(0, memcmp(vdrv_ptr(&self->d, self->buf + 100), "ly", 2));
	/* nothing else was taken from the pipe */
	close(self->in[1]);
	self->in[1] = -1;
	EXPECT_EQ(0, read(self->in[0], left, sizeof(left)));
}

TEST_F(con, input_across_buffers)
{
	const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint32_t id, len, total = 0;
	unsigned int i;

	for (i = 0; i < 4; i++)
		give_rx(&self->d, self->buf + 16 * i, 16);
	ASSERT_EQ(36, write(self->in[1], text, 36));
	while (total < 36) {
		ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
		ASSERT_LE(len, 16);
		/* each buffer filled from its start, in order */
		EXPECT_EQ(0, memcmp(vdrv_ptr(&self->d, self->buf + 16 * id), text + total, len));
		total += len;
	}
	EXPECT_EQ(36, total);
}

struct drain {
	int fd;
	size_t got;
	uint8_t sum;
};

/* A slow reader: what it read, and a checksum */
static void *drain(void *arg)
{
	struct drain *dr = arg;
	uint8_t buf[4096];
	unsigned int idle = 0;

	while (idle < 1000) {
		ssize_t n = read(dr->fd, buf, sizeof(buf));
		ssize_t i;

		if (n <= 0) {
			idle++;
			sleep_ms(1);
			continue;
		}
		idle = 0;
		for (i = 0; i < n; i++)
			dr->sum += buf[i];
		dr->got += n;
		sleep_ms(1);
	}
	return NULL;
}

/* More than a pipe holds: written in pieces, none lost, none twice */
TEST_F(con, long_output)
{
	const uint32_t size = 300000;
	uint64_t big = vdrv_alloc(&self->d, size, 4096);
	uint8_t *p = vdrv_ptr(&self->d, big), sum = 0;
	const struct vdrv_buf b[] = {
		{ big, 100000, false },
		{ big + 100000, size - 100000, false },
	};
	struct drain dr = { .fd = self->out[0] };
	uint32_t id, len, i;
	pthread_t t;

	for (i = 0; i < size; i++) {
		p[i] = i * 13;
		sum += p[i];
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, drain, &dr));
	vdrv_add(&self->d, TXQ, b, 2);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	pthread_join(t, NULL);
	EXPECT_EQ(size, dr.got);
	EXPECT_EQ(sum, dr.sum);
}

/* Input waiting and no buffer: the device sleeps, it does not spin */
TEST_F(con, idle_costs_nothing)
{
	long used_ms;

	ASSERT_EQ(5, write(self->in[1], "input", 5));
	sleep_ms(20);
	used_ms = vdrv_cpu_ms();
	sleep_ms(300);
	used_ms = vdrv_cpu_ms() - used_ms;
	EXPECT_LT(used_ms, 100);
}

/* The end of input: no more for the guest, output goes on */
TEST_F(con, end_of_input)
{
	const struct vdrv_buf b[] = { { self->buf + 200, 2, false } };
	uint32_t id, len;
	char got[8];

	close(self->in[1]);
	self->in[1] = -1;
	give_rx(&self->d, self->buf, 16);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, RXQ));
	memcpy(vdrv_ptr(&self->d, self->buf + 200), "ok", 2);
	vdrv_add(&self->d, TXQ, b, 1);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	EXPECT_EQ(2, output(self->out[0], got, sizeof(got)));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* the input buffer went back to the ring: a reset does not wait for it */
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
}

/* Input given later (avm: when the guest is about to run) */
TEST(input_set_later)
{
	struct virtio_env env;
	struct virtio_dev *vd;
	uint32_t id, len;
	struct vdrv d;
	char err[128];
	uint64_t buf;
	int in[2];

	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, vdrv_init(&d));
	env = vdrv_env(&d);
	vd = virtio_console_create(&env, 0, -1, 1, 0, 0, err, sizeof(err));
	ASSERT_NE(NULL, vd);
	d.dev = virtio_avm_dev(vd);
	ASSERT_EQ(0, virtio_start(vd));
	buf = vdrv_alloc(&d, 4096, 4096);
	ASSERT_EQ(RUNNING, vdrv_setup(&d, V1, 2, 16));
	ASSERT_EQ(2, write(in[1], "hi", 2));
	give_rx(&d, buf, 64);
	sleep_ms(50);
	EXPECT_FALSE(vdrv_used_pending(&d, RXQ));
	virtio_console_set_input(vd, in[0]);
	ASSERT_EQ(0, vdrv_wait_used(&d, RXQ, &id, &len));
	EXPECT_EQ(2, len);
	virtio_destroy(vd);
	vdrv_fini(&d);
	close(in[0]);
	close(in[1]);
}

/* A terminal's size (5.3.4), and a resize as a config change */
TEST(terminal_size)
{
	struct virtio_env env;
	struct virtio_dev *vd;
	struct vdrv d;
	char err[128];
	uint32_t gen;

	ASSERT_EQ(0, vdrv_init(&d));
	env = vdrv_env(&d);
	vd = virtio_console_create(&env, 0, -1, 1, 132, 43, err, sizeof(err));
	ASSERT_NE(NULL, vd);
	d.dev = virtio_avm_dev(vd);
	EXPECT_TRUE(vdrv_features(&d) & (1ULL << VIRTIO_CONSOLE_F_SIZE));
	EXPECT_EQ(132, vdrv_cfg(&d, 0, 2));
	EXPECT_EQ(43, vdrv_cfg(&d, 2, 2));
	ASSERT_EQ(RUNNING, vdrv_setup(&d, V1 | 1ULL << VIRTIO_CONSOLE_F_SIZE, 2, 16));
	gen = vdrv_rd(&d, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_console_resize(vd, 80, 25);
	EXPECT_EQ(80, vdrv_cfg(&d, 0, 2));
	EXPECT_EQ(25, vdrv_cfg(&d, 2, 2));
	EXPECT_NE(gen, vdrv_rd(&d, VIRTIO_MMIO_CONFIG_GENERATION));
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, vdrv_ack(&d));
	virtio_destroy(vd);
	vdrv_fini(&d);
}

/* Without a size to offer, a resize changes nothing */
TEST_F(con, no_size_no_resize)
{
	uint32_t gen = vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION);

	virtio_console_resize(self->vd, 80, 25);
	EXPECT_EQ(0, vdrv_cfg(&self->d, 0, 4));
	EXPECT_EQ(gen, vdrv_rd(&self->d, VIRTIO_MMIO_CONFIG_GENERATION));
	EXPECT_EQ(0, vdrv_level(&self->d));
}

TEST_HARNESS_MAIN
