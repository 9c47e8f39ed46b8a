// SPDX-License-Identifier: GPL-2.0
/*
 * avm's block device (virtio_blk.c, VIRTIO 1.2 section 5.2) on an image in
 * a temporary file, driven through the transport as a guest drives it:
 * reads, writes, flushes, GET_ID, a read-only disk, out-of-range and
 * malformed requests, host I/O errors; and the images avm refuses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "kselftest_harness.h"

#include "vdriver.h"

#define SECTORS		64		/* a 32 KiB image */
#define V1		(1ULL << VIRTIO_F_VERSION_1)
#define RUNNING		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

/* An image file of @sectors with a known pattern: byte i is (i * 7) % 251 */
static int make_image(char *path, unsigned int sectors, size_t extra)
{
	size_t len = sectors * 512 + extra, i;
	uint8_t *buf = malloc(len ? len : 1);
	int fd;

	strcpy(path, "/tmp/avm-blk-test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !buf)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = (i * 7) % 251;
	if (write(fd, buf, len) != (ssize_t)len)
		return -1;
	free(buf);
	return close(fd);
}

static uint8_t pattern(uint64_t byte)
{
	return (byte * 7) % 251;
}

/* Reading the image back from the host's side */
static void read_image(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	if (pread(fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xee, len);
	close(fd);
}

FIXTURE(blk) {
	char path[64];
	struct vdrv d;
	struct virtio_dev *vd;
	uint64_t hdr, data, status;
};

FIXTURE_VARIANT(blk) {
	bool ro;
};

FIXTURE_VARIANT_ADD(blk, rw) {
	.ro = false,
};

FIXTURE_VARIANT_ADD(blk, ro) {
	.ro = true,
};

FIXTURE_SETUP(blk)
{
	struct virtio_env env;
	char err[256];

	ASSERT_EQ(0, make_image(self->path, SECTORS, 0));
	ASSERT_EQ(0, vdrv_init(&self->d));
	env = vdrv_env(&self->d);
	self->vd = virtio_blk_create(&env, 1, self->path, variant->ro, err, sizeof(err));
	ASSERT_NE(NULL, self->vd) TH_LOG("%s", err);
	self->d.dev = virtio_avm_dev(self->vd);
	ASSERT_EQ(0, virtio_start(self->vd));
	self->hdr = vdrv_alloc(&self->d, 16, 16);
	self->data = vdrv_alloc(&self->d, 65536, 4096);
	self->status = vdrv_alloc(&self->d, 1, 1);
	ASSERT_EQ(RUNNING, vdrv_setup(&self->d, vdrv_features(&self->d), 1, 16));
}

FIXTURE_TEARDOWN(blk)
{
	virtio_destroy(self->vd);
	vdrv_fini(&self->d);
	unlink(self->path);
}

/* Fill the request header at @hdr */
static void header(struct vdrv *d, uint64_t hdr, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr *h = vdrv_ptr(d, hdr);

	h->type = htole32(type);
	h->ioprio = 0;
	h->sector = htole64(sector);
}

/*
 * One request, the usual layout (header, data, status): its status, and
 * the used length in *@used_len. 0xff when it never completes.
 */
static uint8_t request(struct vdrv *d, uint64_t hdr, uint32_t type,
		       uint64_t sector, uint64_t data, uint32_t len,
		       uint64_t status, uint32_t *used_len)
{
	const struct vdrv_buf b[] = {
		{ hdr, 16, false },
		{ data, len, type != VIRTIO_BLK_T_OUT },
		{ status, 1, true },
	};
	uint8_t *st = vdrv_ptr(d, status);
	uint32_t id;

	header(d, hdr, type, sector);
	*st = 0xff;
	if (len)
		vdrv_add(d, 0, b, 3);
	else
		vdrv_add(d, 0, (struct vdrv_buf[]){ b[0], b[2] }, 2);
	vdrv_kick(d, 0);
	if (vdrv_wait_used(d, 0, &id, used_len))
		return 0xff;
	return *st;
}

#define REQ(type, sector, len, used) \
	request(&self->d, self->hdr, type, sector, self->data, len, self->status, used)

TEST_F(blk, identification_and_config)
{
	uint64_t f = vdrv_features(&self->d);

	EXPECT_EQ(VIRTIO_ID_BLOCK, vdrv_rd(&self->d, VIRTIO_MMIO_DEVICE_ID));
	EXPECT_TRUE(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	EXPECT_TRUE(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	EXPECT_EQ(variant->ro, !!(f & (1ULL << VIRTIO_BLK_F_RO)));
	/* capacity in 512-byte sectors, read as Linux does: two 32-bit halves */
	EXPECT_EQ(SECTORS, vdrv_cfg(&self->d, 0, 4));
	EXPECT_EQ(0, vdrv_cfg(&self->d, 4, 4));
	EXPECT_EQ(SECTORS, vdrv_cfg(&self->d, 0, 8));
	EXPECT_EQ(VIRTQ_CHAIN_MAX - 2, vdrv_cfg(&self->d, 12, 4));
}

TEST_F(blk, read)
{
	uint8_t *p = vdrv_ptr(&self->d, self->data);
	uint32_t used;
	unsigned int i;

	memset(p, 0, 2048);
	ASSERT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_IN, 3, 1024, &used));
	/* 5.2.6: the data and the status byte were written */
	EXPECT_EQ(1025, used);
	for (i = 0; i < 1024; i++)
		ASSERT_EQ(pattern(3 * 512 + i), p[i]) TH_LOG("byte %u", i);
	EXPECT_EQ(0, p[1024]);
}

/* Any layout (2.7.4.3): header in two pieces, data and status in one */
TEST_F(blk, read_any_layout)
{
	const struct vdrv_buf b[] = {
		{ self->hdr, 5, false },
		{ self->hdr + 5, 11, false },
		{ self->data, 300, true },
		{ self->data + 4096, 213, true },	/* 212 bytes of data + status */
	};
	uint8_t *p = vdrv_ptr(&self->d, self->data);
	uint32_t id, len;

	header(&self->d, self->hdr, VIRTIO_BLK_T_IN, SECTORS - 1);
	p[4096 + 212] = 0xff;
	vdrv_add(&self->d, 0, b, 4);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(513, len);
	EXPECT_EQ(VIRTIO_BLK_S_OK, p[4096 + 212]);
	EXPECT_EQ(pattern((SECTORS - 1) * 512), p[0]);
	EXPECT_EQ(pattern((SECTORS - 1) * 512 + 299), p[299]);
	EXPECT_EQ(pattern((SECTORS - 1) * 512 + 300), p[4096]);
	EXPECT_EQ(pattern(SECTORS * 512 - 1), p[4096 + 211]);
}

TEST_F(blk, write)
{
	uint8_t *p = vdrv_ptr(&self->d, self->data), back[1536];
	uint32_t used;

	memset(p, 0xa5, 1536);
	if (variant->ro) {
		int err = memfd_create("stderr", 0), saved = dup(2);

		/* 5.2.6.2: IOERR, nothing written, and not a host error (no message) */
		dup2(err, 2);
		EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_OUT, 5, 1536, &used));
		dup2(saved, 2);
		close(saved);
		EXPECT_EQ(0, lseek(err, 0, SEEK_END));
		close(err);
		read_image(self->path, 5 * 512, back, sizeof(back));
		EXPECT_EQ(pattern(5 * 512), back[0]);
		EXPECT_EQ(pattern(8 * 512 - 1), back[1535]);
		return;
	}
	ASSERT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_OUT, 5, 1536, &used));
	EXPECT_EQ(1, used);	/* only the status was written */
	read_image(self->path, 5 * 512, back, sizeof(back));
	EXPECT_EQ(0xa5, back[0]);
	EXPECT_EQ(0xa5, back[1535]);
	read_image(self->path, 5 * 512 - 1, back, 1);
	EXPECT_EQ(pattern(5 * 512 - 1), back[0]);
	read_image(self->path, 8 * 512, back, 1);
	EXPECT_EQ(pattern(8 * 512), back[0]);
	/* and reads see it */
	memset(p, 0, 512);
	ASSERT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_IN, 7, 512, &used));
	EXPECT_EQ(0xa5, p[511]);
}

TEST_F(blk, flush)
{
	uint32_t used;

	EXPECT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_FLUSH, 0, 0, &used));
	EXPECT_EQ(1, used);
}

TEST_F(blk, get_id)
{
	const char *name = strrchr(self->path, '/') + 1;
	uint8_t *p = vdrv_ptr(&self->d, self->data);
	uint32_t used;

	memset(p, 0xff, 64);
	ASSERT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_GET_ID, 0, 64, &used));
	/* 20 bytes: the name, NUL-padded */
	EXPECT_EQ(21, used);
	EXPECT_EQ(0, memcmp(p, name, strlen(name)));
	EXPECT_EQ(0, p[strlen(name)]);
	EXPECT_EQ(0, p[19]);
	EXPECT_EQ(0xff, p[20]);
	/* a smaller buffer gets what fits */
	memset(p, 0xff, 64);
	ASSERT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_GET_ID, 0, 4, &used));
	EXPECT_EQ(5, used);
	EXPECT_EQ(0, memcmp(p, name, 4));
	EXPECT_EQ(0xff, p[4]);
}

TEST_F(blk, out_of_range)
{
	uint32_t used;

	/* the last sector is fine, one past it is not */
	EXPECT_EQ(VIRTIO_BLK_S_OK, REQ(VIRTIO_BLK_T_IN, SECTORS - 1, 512, &used));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, SECTORS, 512, &used));
	EXPECT_EQ(1, used);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, SECTORS - 1, 1024, &used));
	/* a sector whose byte offset overflows 64 bits */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, 1ULL << 55, 512, &used));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, ~0ULL, 512, &used));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_OUT, SECTORS, 512, &used));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_OUT, ~0ULL, 512, &used));
	/* not whole sectors */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, 0, 100, &used));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_OUT, 0, 513, &used));
}

TEST_F(blk, unsupported_types)
{
	const uint32_t types[] = {
		VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, 2, 99,
		VIRTIO_BLK_T_IN | 0x80000000,
	};
	uint32_t used;
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		uint32_t type = types[i];

		EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, REQ(type, 0, 512, &used)) TH_LOG("type %u", type);
	}
}

/* Several requests queued at once (5 chains of 3 fill the ring) all come back */
TEST_F(blk, many_requests)
{
	uint64_t st = vdrv_alloc(&self->d, 5, 1), hdr = vdrv_alloc(&self->d, 5 * 16, 16);
	uint8_t *status = vdrv_ptr(&self->d, st), *p = vdrv_ptr(&self->d, self->data);
	unsigned int i, k, seen = 0;
	uint16_t heads[5];
	uint32_t id, len;

	for (i = 0; i < 5; i++) {
		const struct vdrv_buf b[] = {
			{ hdr + 16 * i, 16, false },
			{ self->data + 512 * i, 512, true },
			{ st + i, 1, true },
		};

		header(&self->d, hdr + 16 * i, VIRTIO_BLK_T_IN, 10 + i);
		status[i] = 0xff;
		heads[i] = vdrv_add(&self->d, 0, b, 3);
	}
	vdrv_kick(&self->d, 0);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
		EXPECT_EQ(513, len);
		for (k = 0; k < 5; k++)
			if (heads[k] == id)
				seen |= 1U << k;
	}
	EXPECT_EQ(0x1f, seen);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(VIRTIO_BLK_S_OK, status[i]);
		EXPECT_EQ(pattern((10 + i) * 512 + 9), p[512 * i + 9]);
	}
}

/* No room for the status byte: the driver is broken */
TEST_F(blk, request_without_status_needs_reset)
{
	const struct vdrv_buf b[] = {
		{ self->hdr, 16, false },
		{ self->data, 512, false },
	};
	uint32_t id, len;

	header(&self->d, self->hdr, VIRTIO_BLK_T_OUT, 0);
	vdrv_add(&self->d, 0, b, 2);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_EQ(0, len);
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(blk, short_header_needs_reset)
{
	const struct vdrv_buf b[] = {
		{ self->hdr, 8, false },
		{ self->status, 1, true },
	};
	uint32_t id, len;

	vdrv_add(&self->d, 0, b, 2);
	vdrv_kick(&self->d, 0);
	ASSERT_EQ(0, vdrv_wait_used(&self->d, 0, &id, &len));
	EXPECT_TRUE(vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* The device's fd on the image (found through /proc/self/fd) */
static int image_fd(const char *path)
{
	char link[300], target[256];
	struct dirent *e;
	int fd = -1;
	DIR *dir = opendir("/proc/self/fd");

	while (dir && (e = readdir(dir))) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			fd = atoi(e->d_name);
	}
	if (dir)
		closedir(dir);
	return fd;
}

/*
 * Host errors are the guest's IOERR: the image's fd becomes /dev/null,
 * which reads nothing and cannot be synced.
 */
TEST_F(blk, host_errors_are_ioerr)
{
	int fd = image_fd(self->path), null = open("/dev/null", O_RDWR);
	uint32_t used;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(fd, dup2(null, fd));
	close(null);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_IN, 0, 512, &used));
	if (!variant->ro)
		EXPECT_EQ(VIRTIO_BLK_S_IOERR, REQ(VIRTIO_BLK_T_FLUSH, 0, 0, &used));
	/* and the device goes on */
	EXPECT_EQ(0, vdrv_rd(&self->d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* What avm refuses before a guest runs: one message each */
static void check_refused(struct __test_metadata *_metadata, const char *path,
			  bool ro, const char *needle)
{
	struct vdrv d;
	struct virtio_env env;
	struct virtio_dev *vd;
	char err[256] = "";

	ASSERT_EQ(0, vdrv_init(&d));
	env = vdrv_env(&d);
	vd = virtio_blk_create(&env, 0, path, ro, err, sizeof(err));
	EXPECT_EQ(NULL, vd);
	virtio_destroy(vd);
	EXPECT_NE(NULL, strstr(err, needle)) TH_LOG("want '%s' in '%s'", needle, err);
	EXPECT_NE(NULL, strstr(err, path)) TH_LOG("'%s' does not name the file", err);
	vdrv_fini(&d);
}

TEST(bad_images_are_refused)
{
	char odd[64], empty[64], dir[] = "/tmp/avm-blk-dir.XXXXXX";

	check_refused(_metadata, "/nonexistent/disk.img", false, "No such file");
	check_refused(_metadata, "/nonexistent/disk.img", true, "No such file");
	ASSERT_NE(NULL, mkdtemp(dir));
	check_refused(_metadata, dir, true, "not a regular file or block device");
	rmdir(dir);
	ASSERT_EQ(0, make_image(odd, 2, 100));
	check_refused(_metadata, odd, false, "multiple of 512");
	unlink(odd);
	ASSERT_EQ(0, make_image(empty, 0, 0));
	check_refused(_metadata, empty, true, "multiple of 512");
	unlink(empty);
	check_refused(_metadata, "/dev/null", true, "not a regular file");
}

/* One writer per image; readers may share it */
TEST(images_are_locked)
{
	struct virtio_dev *a, *b;
	struct virtio_env env;
	char path[64], err[256] = "";
	struct vdrv d;

	ASSERT_EQ(0, make_image(path, 4, 0));
	ASSERT_EQ(0, vdrv_init(&d));
	env = vdrv_env(&d);
	a = virtio_blk_create(&env, 0, path, false, err, sizeof(err));
	ASSERT_NE(NULL, a) TH_LOG("%s", err);
	check_refused(_metadata, path, false, "in use");
	check_refused(_metadata, path, true, "in use");
	virtio_destroy(a);
	a = virtio_blk_create(&env, 0, path, true, err, sizeof(err));
	b = virtio_blk_create(&env, 1, path, true, err, sizeof(err));
	EXPECT_NE(NULL, a);
	EXPECT_NE(NULL, b) TH_LOG("%s", err);
	check_refused(_metadata, path, false, "in use");
	virtio_destroy(a);
	virtio_destroy(b);
	vdrv_fini(&d);
	unlink(path);
}

TEST_HARNESS_MAIN
