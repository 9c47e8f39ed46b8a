// SPDX-License-Identifier: GPL-2.0
/*
 * avm's network device (virtio_net.c, VIRTIO 1.2 section 5.1) with a
 * SOCK_SEQPACKET socket pair as its back end instead of a tap: the same
 * contract (one frame per message behind a 12-byte virtio_net_hdr_v1),
 * and an end of file when the other side closes.
 * Frames both ways, headers avm owns, frames waiting for buffers, bad
 * buffers, a back end that goes away; and tap errors before a guest runs.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "kselftest_harness.h"

#include "vdriver.h"

#define RXQ		0
#define TXQ		1
#define HDR		12
#define V1		(1ULL << VIRTIO_F_VERSION_1)
#define RUNNING		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

FIXTURE(net) {
	int sv[2];		/* [0] the device's, [1] the "wire" */
	struct vdrv d;
	struct virtio_dev *vd;
	uint64_t buf;
};

FIXTURE_SETUP(net)
{
	struct virtio_env env;
	char err[128];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, self->sv));
	ASSERT_EQ(0, vdrv_init(&self->d));
	env = vdrv_env(&self->d);
	self->vd = virtio_net_create(&env, 3, self->sv[0], mac, err, sizeof(err));
	ASSERT_NE(NULL, self->vd) TH_LOG("%s", err);
	self->d.dev = virtio_avm_dev(self->vd);
	ASSERT_EQ(0, virtio_start(self->vd));
	self->buf = vdrv_alloc(&self->d, 65536, 4096);
	ASSERT_EQ(RUNNING, vdrv_setup(&self->d, vdrv_features(&self->d), 2, 16));
}

FIXTURE_TEARDOWN(net)
{
	virtio_destroy(self->vd);	/* closes sv[0] */
	vdrv_fini(&self->d);
	if (self->sv[1] >= 0)
		close(self->sv[1]);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* A frame of @len bytes, its bytes from @seed, behind header @h */
static void frame(uint8_t *p, const struct virtio_net_hdr_v1 *h, size_t len, uint8_t seed)
{
	size_t i;

	memcpy(p, h, HDR);
	for (i = 0; i < len; i++)
		p[HDR + i] = seed + i;
}

static void give_rx(struct vdrv *d, uint64_t addr, uint32_t len)
{
	const struct vdrv_buf b[] = { { addr, len, true } };

	vdrv_add(d, RXQ, b, 1);
	vdrv_kick(d, RXQ);
}

/* What the wire got within @ms, or -1 */
static ssize_t wire_recv(int fd, void *buf, size_t len, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(fd, buf, len, 0);
}

TEST_F(net, identification_and_config)
{
	uint64_t f = vdrv_features(&self->d);
	unsigned int i;

	EXPECT_EQ(VIRTIO_ID_NET, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_ID));
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_MAC));
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_STATUS));
	/* no offloads, no merged buffers, no control queue */
	EXPECT_FALSE(f & (1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
			  1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_NET_F_CTRL_VQ |
			  1ULL << VIRTIO_NET_F_HOST_TSO4));
	/* the MAC, read a byte at a time as Linux does; the link up */
	for (i = 0; i < 6; i++)
		EXPECT_EQ(mac[i], vdrv_cfg(&self->d, i, 1));
	EXPECT_EQ(VIRTIO_NET_S_LINK_UP, vdrv_cfg(&self->d, 6, 2));
}

TEST_F(net, transmit)
{
	struct virtio_net_hdr_v1 h = {
		/* offloads never negotiated: avm must not pass them on */
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.csum_start = htole16(14), .csum_offset = htole16(16),
		.gso_size = htole16(1000),
	};
	const struct vdrv_buf b[] = {
		{ self->buf, HDR + 20, false },
		{ self->buf + 1000, 40, false },
	};
	static const struct virtio_net_hdr_v1 zero = { 0 };
	uint8_t *p = vdrv_ptr(&self->d, self->buf), got[256];
	uint32_t id, len;
	unsigned int i;

	frame(p, &h, 20, 1);
	for (i = 0; i < 40; i++)
		p[1000 + i] = 21 + i;
	vdrv_add(&self->d, TXQ, b, 2);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(HDR + 60, wire_recv(self->sv[1], got, sizeof(got), 5000));
	EXPECT_EQ(0, memcmp(got, &zero, HDR));
	for (i = 0; i < 60; i++)
		ASSERT_EQ(1 + i, got[HDR + i]) TH_LOG("byte %u", i);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	EXPECT_EQ(0, len);
}

/* An empty wire never holds up the I/O thread: transmit goes on */
TEST_F(net, transmit_while_receive_waits)
{
	const struct vdrv_buf b[] = { { self->buf + 4096, HDR + 4, false } };
	uint8_t got[64];
	uint32_t id, len;

	give_rx(&self->d, self->buf, 1526);
	sleep_ms(50);
	memset(vdrv_ptr(&self->d, self->buf + 4096), 0, HDR + 4);
	vdrv_add(&self->d, TXQ, b, 1);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	EXPECT_EQ(HDR + 4, wire_recv(self->sv[1], got, sizeof(got), 1000));
	EXPECT_FALSE(vdrv_used_pending(&self->d, RXQ));
}

/* No frame behind the header: dropped, the device goes on */
TEST_F(net, transmit_without_frame)
{
	const struct vdrv_buf b[] = { { self->buf, HDR, false } };
	const struct vdrv_buf good[] = { { self->buf + 100, HDR + 1, false } };
	uint32_t id, len;
	uint8_t got[64];

	memset(vdrv_ptr(&self->d, self->buf + 100), 0, HDR + 1);
	vdrv_add(&self->d, TXQ, b, 1);
	vdrv_add(&self->d, TXQ, good, 1);
	vdrv_kick(&self->d, TXQ);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	ASSERT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	/* only the good one reached the wire */
	EXPECT_EQ(HDR + 1, wire_recv(self->sv[1], got, sizeof(got), 1000));
	EXPECT_EQ(-1, wire_recv(self->sv[1], got, sizeof(got), 100));
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(net, receive)
{
	/* what a tap may fill in; without GUEST_CSUM the guest sees none of it */
	const struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID, .num_buffers = htole16(7),
	};
	struct virtio_net_hdr_v1 *gh = vdrv_ptr(&self->d, self->buf);
	uint8_t pkt[HDR + 100], *p = vdrv_ptr(&self->d, self->buf);
	uint32_t id, len;

	frame(pkt, &h, 100, 50);
	give_rx(&self->d, self->buf, 1526);
	ASSERT_EQ(sizeof(pkt), send(self->sv[1], pkt, sizeof(pkt), 0));
	ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
	EXPECT_EQ(HDR + 100, len);
	EXPECT_EQ(0, gh->flags);
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_NONE, gh->gso_type);
	/* 5.1.6.4: num_buffers is 1 without MRG_RXBUF */
	EXPECT_EQ(1, le16toh(gh->num_buffers));
	EXPECT_EQ(0, memcmp(p + HDR, pkt + HDR, 100));
	EXPECT_EQ(0, vdrv_wait_level(&self->d, 1));
}

/* Frames that came early wait in the back end, in order */
TEST_F(net, frames_wait_for_buffers)
{
	const struct virtio_net_hdr_v1 h = { 0 };
	uint8_t pkt[HDR + 64], *p = vdrv_ptr(&self->d, self->buf);
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		frame(pkt, &h, 20 + i, 10 * i);
		ASSERT_EQ(HDR + 20 + i, send(self->sv[1], pkt, HDR + 20 + i, 0));
	}
	sleep_ms(50);
	for (i = 0; i < 3; i++) {
		give_rx(&self->d, self->buf + 2048 * i, 1526);
		ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
		EXPECT_EQ(HDR + 20 + i, len);
		EXPECT_EQ(10 * i, p[2048 * i + HDR]);
	}
}

/* A frame with no room behind the header is lost; its buffer is not */
TEST_F(net, runt_frames_are_dropped)
{
	const struct virtio_net_hdr_v1 h = { 0 };
	uint8_t pkt[HDR + 8];
	uint32_t id, len;

	ASSERT_EQ(5, send(self->sv[1], "short", 5, 0));
	ASSERT_EQ(HDR, send(self->sv[1], &h, HDR, 0));
	frame(pkt, &h, 8, 0);
	ASSERT_EQ(sizeof(pkt), send(self->sv[1], pkt, sizeof(pkt), 0));
	give_rx(&self->d, self->buf, 1526);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, RXQ, &id, &len));
	EXPECT_EQ(HDR + 8, len);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Frames waiting and no buffer: the I/O thread sleeps */
TEST_F(net, idle_costs_nothing)
{
	const struct virtio_net_hdr_v1 h = { 0 };
	uint8_t pkt[HDR + 8];
	long used_ms;

	frame(pkt, &h, 8, 0);
	ASSERT_EQ(sizeof(pkt), send(self->sv[1], pkt, sizeof(pkt), 0));
	sleep_ms(20);
	used_ms = vdrv_cpu_ms();
	sleep_ms(300);
	used_ms = vdrv_cpu_ms() - used_ms;
	EXPECT_LT(used_ms, 100);
}

/* The wire goes away (end of file): no more frames, no spinning */
TEST_F(net, back_end_gone)
{
	const struct vdrv_buf b[] = { { self->buf + 4096, HDR + 4, false } };
	uint32_t id, len;

	close(self->sv[1]);
	self->sv[1] = -1;
	give_rx(&self->d, self->buf, 1526);
	sleep_ms(100);
	EXPECT_FALSE(vdrv_used_pending(&self->d, RXQ));
	/* transmit still completes (into nowhere) */
	memset(vdrv_ptr(&self->d, self->buf + 4096), 0, HDR + 4);
	vdrv_add(&self->d, TXQ, b, 1);
	vdrv_kick(&self->d, TXQ);
	EXPECT_EQ(0, vdrv_wait_used(&self->d, TXQ, &id, &len));
	/* and a reset does not wait for the receive buffer */
	vdrv_wr(&self->d, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS));
}

/* A tap that cannot be had: one message, before any guest runs */
TEST(tap_errors)
{
	char name[IFNAMSIZ], err[256] = "";

	EXPECT_EQ(-1, net_tap_open("/nonexistent/tun", NULL, name, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/tun: No such file")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "tun module")) TH_LOG("%s", err);
	/* something that is not the tun device refuses TUNSETIFF */
	EXPECT_EQ(-1, net_tap_open("/dev/null", "avmtest0", name, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--net tap=avmtest0: cannot create the tap")) TH_LOG("%s", err);
}

TEST_HARNESS_MAIN
