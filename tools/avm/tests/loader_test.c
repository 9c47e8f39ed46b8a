// SPDX-License-Identifier: GPL-2.0
/*
 * avm's loader (loader.c): recognising arm64 Images (Linux's
 * Documentation/arm64/booting.rst), their EFI/PE wrapper, gzip and raw
 * binaries, each read from a file straight into guest RAM (a fake one,
 * with a PROT_NONE page on either side, so a write outside it faults);
 * placing kernel, initrd and DTB; reading files. Every kernel here is
 * synthetic, built in memory and written to a temporary file; the real
 * Debian Image is looked at only when AVM_TEST_KERNEL names it (run.sh
 * does, if it is there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "kselftest_harness.h"

#include "fdt.h"
#include "loader.h"

#define SZ_4K		0x1000ULL
#define SZ_1M		0x100000ULL
#define SZ_2M		0x200000ULL
#define RAM_BASE	AVM_RAM_BASE
#define RAM_SIZE	(256 * SZ_1M)
#define MAX		RAM_SIZE

#define IMAGE_MAGIC	0x644d5241
#define PE_OFF		0x40
#define PE_OPT_SIZE	0xa0
#define PE_SECTIONS	(PE_OFF + 24 + PE_OPT_SIZE)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* @len bytes of something that is neither compressible nor all alike */
static void fill_body(uint8_t *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		/* half noise, half text: deflate gets both kinds of block */
		buf[i] = (i / 4096) % 2 ? seed >> 16 : "avm loader "[i % 11];
	}
}

/* An arm64 Image of @len bytes with this header (booting.rst) */
static uint8_t *make_image(size_t len, uint64_t text_offset,
			   uint64_t image_size, uint64_t flags)
{
	uint8_t *buf = malloc(len);

	if (!buf)
		return NULL;
	fill_body(buf, len, len);
	memset(buf, 0, 64);
	put32(buf, 0x14000000 + 16);		/* code0: b 64 */
	put64(buf + 0x08, text_offset);
	put64(buf + 0x10, image_size);
	put64(buf + 0x18, flags);
	put32(buf + 0x38, IMAGE_MAGIC);
	return buf;
}

/*
 * Make @buf an EFI-stub Image too: "MZ", res5 -> "PE\0\0", @machine, and
 * two sections, the last ending at @end (PointerToRawData + SizeOfRawData).
 */
static void make_pe(uint8_t *buf, uint16_t machine, uint32_t end)
{
	uint8_t *pe = buf + PE_OFF, *s = buf + PE_SECTIONS;

	buf[0] = 'M';
	buf[1] = 'Z';
	put32(buf + 0x3c, PE_OFF);
	memcpy(pe, "PE\0\0", 4);
	put16(pe + 4, machine);
	put16(pe + 6, 2);			/* NumberOfSections */
	put16(pe + 20, PE_OPT_SIZE);		/* SizeOfOptionalHeader */
	memset(pe + 24, 0, PE_OPT_SIZE);
	memset(s, 0, 80);
	memcpy(s, ".text", 5);
	put32(s + 16, 0x1000);			/* SizeOfRawData */
	put32(s + 20, 0x1000);			/* PointerToRawData */
	memcpy(s + 40, ".data", 5);
	put32(s + 40 + 16, end - 0x2000);
	put32(s + 40 + 20, 0x2000);
}

/* gzip (one member, compression @level) of @in into a malloc'd buffer */
static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len, int level)
{
	z_stream z = { 0 };
	uint8_t *out;
	size_t cap;

	if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* Guest RAM between two PROT_NONE pages: each test gets its own */
static struct avm_mem ram;
static uint8_t *ram_map;
static size_t ram_map_size;

static void ram_fini(void)
{
	if (ram_map)
		munmap(ram_map, ram_map_size);
	ram_map = NULL;
}

static int ram_init(uint64_t size)
{
	size_t page = sysconf(_SC_PAGESIZE);

	ram_fini();
	ram_map_size = size + 2 * page;
	ram_map = mmap(NULL, ram_map_size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram_map == MAP_FAILED || mprotect(ram_map + page, size, PROT_READ | PROT_WRITE))
		return -1;
	ram = (struct avm_mem){ .host = ram_map + page, .base = RAM_BASE, .size = size };
	return 0;
}

/* @len bytes of @p in a new temporary file; its path */
static const char *temp_file(const void *p, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/avm-loader-k.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len)
		return NULL;
	close(fd);
	return path;
}

/* avm_kernel_load() of @len bytes of @buf into @ram_size bytes of RAM */
static int load(const void *buf, size_t len, uint64_t ram_size, struct avm_kernel *k,
		char *err, size_t errlen)
{
	const char *path = temp_file(buf, len);
	int ret;

	if (!path || ram_init(ram_size))
		return -2;
	ret = avm_kernel_load(path, &ram, k, err, errlen);
	unlink(path);
	return ret;
}

/* Loading @buf must fail with an error containing @what */
#define EXPECT_LOAD_FAILS(buf, len, max, what) do {				\
	struct avm_kernel __k;							\
	char __err[256] = "";							\
										\
	EXPECT_EQ(-1, load((buf), (len), (max), &__k, __err, sizeof(__err)));	\
	EXPECT_NE(NULL, strstr(__err, (what))) TH_LOG("error: '%s'", __err);	\
	EXPECT_EQ(NULL, __k.data);						\
} while (0)

#define LOAD_OK(buf, len, k) do {						\
	char __err[256] = "";							\
										\
	ASSERT_EQ(0, load((buf), (len), MAX, (k), __err, sizeof(__err)))	\
		TH_LOG("%s", __err);						\
} while (0)

TEST(image_header)
{
	const size_t len = SZ_1M + 123;
	uint8_t *buf = make_image(len, 0, 0x2012345, 0xa);
	struct avm_kernel k;

	ASSERT_NE(NULL, buf);
	LOAD_OK(buf, len, &k);
	EXPECT_EQ(AVM_KERNEL_IMAGE, k.format);
	EXPECT_FALSE(k.gzip);
	EXPECT_EQ(0, k.text_offset);
	EXPECT_EQ(0x2012345, k.image_size);
	EXPECT_EQ(0xa, k.flags);
	/* read straight to where it runs: RAM base + text_offset */
	EXPECT_EQ(ram.host, k.data);
	EXPECT_EQ(len, k.size);
	EXPECT_EQ(0, memcmp(buf, k.data, len));
	free(buf);
}

TEST(image_text_offset)
{
	uint8_t *buf = make_image(SZ_1M, 0x80000, 0x300000, 0x2);
	struct avm_kernel k;

	ASSERT_NE(NULL, buf);
	LOAD_OK(buf, SZ_1M, &k);
	EXPECT_EQ(0x80000, k.text_offset);
	EXPECT_EQ(0x300000, k.image_size);
	EXPECT_EQ(0x2, k.flags);
	EXPECT_EQ(ram.host + 0x80000, k.data);
	EXPECT_EQ(0, memcmp(buf, k.data, SZ_1M));
	/* nothing before it */
	EXPECT_EQ(0, ram.host[0x80000 - 1]);
	free(buf);
}

/* Before Linux 3.17 image_size is 0: text_offset is then 0x80000 */
TEST(image_size_zero_means_old_offset)
{
	uint8_t *buf = make_image(SZ_1M, 0, 0, 0);
	struct avm_kernel k;

	ASSERT_NE(NULL, buf);
	LOAD_OK(buf, SZ_1M, &k);
	EXPECT_EQ(AVM_KERNEL_IMAGE, k.format);
	EXPECT_EQ(0x80000, k.text_offset);
	EXPECT_EQ(0, k.image_size);
	EXPECT_EQ(ram.host + 0x80000, k.data);
	free(buf);

	/* whatever the header's text_offset field holds */
	buf = make_image(SZ_1M, 0x1000, 0, 0);
	ASSERT_NE(NULL, buf);
	LOAD_OK(buf, SZ_1M, &k);
	EXPECT_EQ(0x80000, k.text_offset);
	free(buf);
}

TEST(big_endian_refused)
{
	uint8_t *buf = make_image(SZ_1M, 0, SZ_2M, 0xb);

	ASSERT_NE(NULL, buf);
	EXPECT_LOAD_FAILS(buf, SZ_1M, MAX, "big-endian");
	free(buf);
}

TEST(bad_text_offset_refused)
{
	uint8_t *buf = make_image(SZ_1M, 0x80010, SZ_2M, 0);

	ASSERT_NE(NULL, buf);
	EXPECT_LOAD_FAILS(buf, SZ_1M, MAX, "text_offset");
	put64(buf + 0x08, SZ_2M);
	EXPECT_LOAD_FAILS(buf, SZ_1M, MAX, "text_offset");
	free(buf);
}

/* A file much longer than the kernel says it is: not this header's file */
TEST(image_size_below_file_refused)
{
	const size_t len = 4 * SZ_1M;
	uint8_t *buf = make_image(len, 0, SZ_1M, 0);

	ASSERT_NE(NULL, buf);
	EXPECT_LOAD_FAILS(buf, len, MAX, "image_size");
	free(buf);
}

TEST(efi_image_accepted)
{
	const size_t len = SZ_1M;
	uint8_t *buf = make_image(len, 0, 3 * SZ_1M, 0xa);
	struct avm_kernel k;

	ASSERT_NE(NULL, buf);
	make_pe(buf, 0xaa64, len);
	LOAD_OK(buf, len, &k);
	EXPECT_EQ(AVM_KERNEL_IMAGE, k.format);
	EXPECT_EQ(3 * SZ_1M, k.image_size);
	free(buf);
}

TEST(efi_image_truncated_refused)
{
	const size_t len = SZ_1M;
	uint8_t *buf = make_image(len, 0, 3 * SZ_1M, 0xa);
	struct avm_kernel k;

	ASSERT_NE(NULL, buf);
	/* the sections reach 1 byte past the file: a cut download */
	make_pe(buf, 0xaa64, len + 1);
	EXPECT_LOAD_FAILS(buf, len, MAX, "truncated");
	/* the same file, whole, is fine: the check is the file's length */
	make_pe(buf, 0xaa64, len);
	LOAD_OK(buf, len, &k);
	/* cut inside the section table itself */
	EXPECT_LOAD_FAILS(buf, PE_SECTIONS + 60, MAX, "truncated");
	free(buf);
}

TEST(efi_bad_pe_refused)
{
	const size_t len = SZ_1M;
	uint8_t *buf = make_image(len, 0, 3 * SZ_1M, 0);

	ASSERT_NE(NULL, buf);
	make_pe(buf, 0x8664, len);		/* x86-64 */
	EXPECT_LOAD_FAILS(buf, len, MAX, "not an arm64");
	EXPECT_LOAD_FAILS(buf, len, MAX, "0x8664");
	make_pe(buf, 0xaa64, len);
	memcpy(buf + PE_OFF, "PX\0\0", 4);
	EXPECT_LOAD_FAILS(buf, len, MAX, "PE header");
	make_pe(buf, 0xaa64, len);
	put32(buf + 0x3c, len - 8);		/* "PE" beyond the end */
	EXPECT_LOAD_FAILS(buf, len, MAX, "PE header");
	put32(buf + 0x3c, 0xfffffff0);
	EXPECT_LOAD_FAILS(buf, len, MAX, "PE header");
	free(buf);
}

TEST(zboot_refused)
{
	uint8_t *buf = make_image(SZ_1M, 0, 0, 0);

	ASSERT_NE(NULL, buf);
	buf[0] = 'M';
	buf[1] = 'Z';
	memcpy(buf + 4, "zimg", 4);
	EXPECT_LOAD_FAILS(buf, SZ_1M, MAX, "zboot");
	free(buf);
}

TEST(gzip_image)
{
	const size_t len = 3 * SZ_1M + 4567;
	uint8_t *img = make_image(len, 0x80000, 4 * SZ_1M, 0xa), *gz;
	struct avm_kernel k;
	size_t gz_len;

	ASSERT_NE(NULL, img);
	make_pe(img, 0xaa64, len);
	gz = gzip(img, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	ASSERT_LT(gz_len, len);
	/* more than the loader reads at once */
	ASSERT_GT(gz_len, 65536);
	LOAD_OK(gz, gz_len, &k);
	/* inflated straight to RAM base + text_offset */
	EXPECT_TRUE(k.gzip);
	EXPECT_EQ(AVM_KERNEL_IMAGE, k.format);
	ASSERT_EQ(len, k.size);
	EXPECT_EQ(ram.host + 0x80000, k.data);
	EXPECT_EQ(0, memcmp(img, k.data, len));
	EXPECT_EQ(0x80000, k.text_offset);
	EXPECT_EQ(4 * SZ_1M, k.image_size);
	EXPECT_EQ(0xa, k.flags);
	free(gz);
	free(img);
}

/* @a then @b, one file of two gzip members */
static uint8_t *cat2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	uint8_t *cat = malloc(a_len + b_len);

	if (cat) {
		memcpy(cat, a, a_len);
		memcpy(cat + a_len, b, b_len);
	}
	return cat;
}

/*
 * gzip allows members one after the other (`cat a.gz b.gz` is one file),
 * and the loader takes them. This test found the loader writing at and
 * returning z.total_out, which inflateReset() sets back to 0 for each
 * member: the second member overwrote the first and only its bytes came
 * back ("gzip data is not an arm64 Image").
 */
TEST(gzip_two_members)
{
	const size_t len = SZ_1M, half = 300000;
	uint8_t *img = make_image(len, 0, SZ_2M, 0), *a, *b, *cat;
	size_t a_len, b_len;
	struct avm_kernel k;

	ASSERT_NE(NULL, img);
	a = gzip(img, half, &a_len, 6);
	b = gzip(img + half, len - half, &b_len, 6);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	cat = cat2(a, a_len, b, b_len);
	ASSERT_NE(NULL, cat);
	LOAD_OK(cat, a_len + b_len, &k);
	ASSERT_EQ(len, k.size);
	EXPECT_EQ(0, memcmp(img, k.data, len));
	free(cat);
	free(a);
	free(b);
	free(img);
}

/*
 * The loader reads the file 64 KiB at a time: a first member of 65535
 * bytes leaves one byte of the second's magic in the buffer, the other in
 * the file.
 */
TEST(gzip_member_across_reads)
{
	const size_t len = SZ_1M;
	uint8_t *img = make_image(len, 0, SZ_2M, 0), *a = NULL, *b, *cat;
	size_t a_len = 0, b_len, first;
	struct avm_kernel k;

	ASSERT_NE(NULL, img);
	/* stored blocks (level 0): the size grows with the input, find 65535 */
	for (first = 65400; first < 65536 && a_len != 65535; first++) {
		free(a);
		a = gzip(img, first, &a_len, 0);
		ASSERT_NE(NULL, a);
	}
	ASSERT_EQ(65535, a_len);
	first--;
	b = gzip(img + first, len - first, &b_len, 6);
	ASSERT_NE(NULL, b);
	cat = cat2(a, a_len, b, b_len);
	ASSERT_NE(NULL, cat);
	LOAD_OK(cat, a_len + b_len, &k);
	ASSERT_EQ(len, k.size);
	EXPECT_EQ(0, memcmp(img, k.data, len));
	free(cat);
	/* bytes after the last member that are no member: ignored, as gzip -d */
	cat = cat2(a, a_len, (const uint8_t *)"G\x8b", 2);
	ASSERT_NE(NULL, cat);
	LOAD_OK(cat, a_len + 2, &k);
	EXPECT_EQ(first, k.size);
	free(cat);
	free(a);
	free(b);
	free(img);
}

TEST(gzip_truncated_refused)
{
	const size_t len = 2 * SZ_1M;
	uint8_t *img = make_image(len, 0, SZ_2M, 0), *gz;
	size_t gz_len;

	ASSERT_NE(NULL, img);
	gz = gzip(img, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len / 2, MAX, "truncated");
	/* only the trailer (CRC32, ISIZE) missing */
	EXPECT_LOAD_FAILS(gz, gz_len - 8, MAX, "truncated");
	/* only the header */
	EXPECT_LOAD_FAILS(gz, 10, MAX, "truncated");
	free(gz);
	free(img);
}

TEST(gzip_corrupt_refused)
{
	const size_t len = 2 * SZ_1M;
	uint8_t *img = make_image(len, 0, SZ_2M, 0), *gz;
	struct avm_kernel k;
	size_t gz_len, i;

	ASSERT_NE(NULL, img);
	gz = gzip(img, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);

	/* bytes flipped in the middle of the deflate data */
	for (i = gz_len / 2; i < gz_len / 2 + 16; i++)
		gz[i] ^= 0x5a;
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "corrupt");
	for (i = gz_len / 2; i < gz_len / 2 + 16; i++)
		gz[i] ^= 0x5a;
	/* the CRC32 of the trailer */
	gz[gz_len - 8] ^= 1;
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "corrupt");
	gz[gz_len - 8] ^= 1;
	/* ISIZE of the trailer */
	gz[gz_len - 2] ^= 1;
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "corrupt");
	gz[gz_len - 2] ^= 1;
	/* compression method other than deflate */
	gz[2] = 7;
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "corrupt");
	gz[2] = 8;
	/* and back as it was: accepted */
	LOAD_OK(gz, gz_len, &k);
	free(gz);
	free(img);
}

TEST(gzip_not_image_refused)
{
	const size_t len = SZ_1M;
	uint8_t *raw = malloc(len), *gz;
	size_t gz_len;

	ASSERT_NE(NULL, raw);
	fill_body(raw, len, 42);
	gz = gzip(raw, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "not an arm64 Image");
	free(gz);
	/* shorter than an Image header */
	gz = gzip(raw, 63, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "not an arm64 Image");
	free(gz);
	/* nor a gzip of nothing */
	gz = gzip(raw, 0, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len, MAX, "empty");
	free(gz);
	free(raw);
}

/* Inflated straight into RAM: it stops at RAM's end (the guard page) */
TEST(gzip_bigger_than_ram_refused)
{
	const size_t len = 2 * SZ_1M;
	uint8_t *img = make_image(len, 0, SZ_2M, 0), *gz;
	struct avm_kernel k;
	size_t gz_len;
	char err[256];

	ASSERT_NE(NULL, img);
	gz = gzip(img, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len, SZ_1M, "larger than guest RAM");
	EXPECT_LOAD_FAILS(gz, gz_len, len - 1, "larger than guest RAM");
	/* exactly RAM's size fits */
	EXPECT_EQ(0, load(gz, gz_len, len, &k, err, sizeof(err))) TH_LOG("%s", err);
	free(gz);
	/* RAM ends where text_offset puts the header */
	put64(img + 0x08, 0x80000);
	gz = gzip(img, len, &gz_len, 6);
	ASSERT_NE(NULL, gz);
	EXPECT_LOAD_FAILS(gz, gz_len, 0x80000, "does not fit");
	free(gz);
	free(img);
}

/* Read straight into RAM: nothing beyond it is touched */
TEST(kernel_bigger_than_ram_refused)
{
	const size_t len = SZ_1M;
	uint8_t *buf = make_image(len, 0x80000, SZ_2M, 0), *raw = malloc(len);
	struct avm_kernel k;
	char err[256];

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, raw);
	EXPECT_LOAD_FAILS(buf, len, len + 0x80000 - 1, "does not fit");
	EXPECT_EQ(0, load(buf, len, len + 0x80000, &k, err, sizeof(err))) TH_LOG("%s", err);
	fill_body(raw, len, 3);
	EXPECT_LOAD_FAILS(raw, len, len - SZ_4K, "does not fit");
	EXPECT_EQ(0, load(raw, len, len, &k, err, sizeof(err))) TH_LOG("%s", err);
	free(raw);
	free(buf);
}

TEST(raw_binary)
{
	const size_t len = 12345;
	uint8_t *buf = malloc(len);
	struct avm_kernel k;
	struct avm_layout l;
	char err[256] = "";

	ASSERT_NE(NULL, buf);
	fill_body(buf, len, 7);
	LOAD_OK(buf, len, &k);
	EXPECT_EQ(AVM_KERNEL_RAW, k.format);
	EXPECT_FALSE(k.gzip);
	EXPECT_EQ(ram.host, k.data);
	EXPECT_EQ(len, k.size);
	EXPECT_EQ(0, memcmp(buf, k.data, len));
	EXPECT_EQ(0, k.text_offset);
	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	/* entered at its load address, the start of RAM */
	EXPECT_EQ(RAM_BASE, l.kernel);
	EXPECT_EQ(RAM_BASE + 4 * SZ_4K, l.kernel_end);
	free(buf);

	/* short files, and a header without the magic, are raw too */
	LOAD_OK("\x1f", 1, &k);
	EXPECT_EQ(AVM_KERNEL_RAW, k.format);
	buf = make_image(SZ_4K, 0, SZ_2M, 0);
	ASSERT_NE(NULL, buf);
	put32(buf + 0x38, IMAGE_MAGIC + 1);
	LOAD_OK(buf, SZ_4K, &k);
	EXPECT_EQ(AVM_KERNEL_RAW, k.format);
	free(buf);
}

TEST(empty_refused)
{
	uint8_t b = 0;

	EXPECT_LOAD_FAILS(&b, 0, MAX, "empty");
}

TEST(kernel_file_problems)
{
	struct avm_kernel k;
	char err[256] = "";

	ASSERT_EQ(0, ram_init(SZ_1M));
	EXPECT_EQ(-1, avm_kernel_load("/nonexistent/Image", &ram, &k, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "No such file")) TH_LOG("%s", err);
	EXPECT_EQ(-1, avm_kernel_load("/tmp", &ram, &k, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not a regular file")) TH_LOG("%s", err);
}

static struct avm_kernel image_k(uint64_t text_offset, uint64_t image_size,
				 size_t size)
{
	return (struct avm_kernel){
		.format = AVM_KERNEL_IMAGE, .size = size,
		.text_offset = text_offset, .image_size = image_size,
	};
}

TEST(layout_image)
{
	struct avm_kernel k = image_k(0x80000, 3 * SZ_1M + 5, SZ_1M);
	struct avm_layout l;
	char err[256] = "";

	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(RAM_BASE + 0x80000, l.kernel);
	/* image_size (BSS included) counts, rounded up to 4K */
	EXPECT_EQ(l.kernel + 3 * SZ_1M + SZ_4K, l.kernel_end);
	/* the DTB: the last 2 MiB-aligned slot of RAM */
	EXPECT_EQ(RAM_BASE + RAM_SIZE - SZ_2M, l.dtb);
	EXPECT_EQ(0, l.initrd);

	/* the file longer than image_size: the file's length counts */
	k = image_k(0, SZ_1M, 2 * SZ_1M + 1);
	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(RAM_BASE, l.kernel);
	EXPECT_EQ(RAM_BASE + 2 * SZ_1M + SZ_4K, l.kernel_end);
}

TEST(layout_dtb_slot)
{
	static const uint64_t sizes[] = {
		4 * SZ_1M, 5 * SZ_1M, 255 * SZ_1M + SZ_4K, 256 * SZ_1M - 1,
		SZ_1M * 1024,
	};
	struct avm_kernel k = image_k(0, SZ_1M, SZ_1M);
	struct avm_layout l;
	char err[256] = "";
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t end = RAM_BASE + sizes[i];

		ASSERT_EQ(0, avm_layout(&k, RAM_BASE, sizes[i], 0, &l, err,
					sizeof(err))) TH_LOG("%s", err);
		EXPECT_EQ(0, l.dtb % SZ_2M) TH_LOG("RAM 0x%llx", (unsigned long long)sizes[i]);
		/* the whole 2 MiB a DTB may take is in RAM ... */
		EXPECT_LE(l.dtb + AVM_FDT_MAX_SIZE, end) TH_LOG("RAM 0x%llx",
							 (unsigned long long)sizes[i]);
		/* ... and it is the last such slot */
		EXPECT_GT(l.dtb + SZ_2M + AVM_FDT_MAX_SIZE, end)
			TH_LOG("RAM 0x%llx", (unsigned long long)sizes[i]);
	}
	/* less than two slots of RAM */
	EXPECT_EQ(-1, avm_layout(&k, RAM_BASE, 4 * SZ_1M - 1, 0, &l, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "too small")) TH_LOG("error: '%s'", err);
}

TEST(layout_initrd)
{
	struct avm_kernel k = image_k(0, 20 * SZ_1M, 10 * SZ_1M);
	const uint64_t size = 5 * SZ_1M + 123;
	struct avm_layout l;
	char err[256] = "";
	uint64_t room;

	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, size, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(0, l.initrd % SZ_4K);
	/* below the DTB, as high as it goes, above the kernel's end */
	EXPECT_LE(l.initrd + size, l.dtb);
	EXPECT_GT(l.initrd + size + SZ_4K, l.dtb);
	EXPECT_GE(l.initrd, l.kernel_end);

	/* exactly the room there is */
	room = l.dtb - l.kernel_end;
	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, room, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(l.kernel_end, l.initrd);

	/* a byte more does not fit */
	EXPECT_EQ(-1, avm_layout(&k, RAM_BASE, RAM_SIZE, room + 1, &l, err,
				 sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "does not fit")) TH_LOG("error: '%s'", err);
	EXPECT_NE(NULL, strstr(err, "initrd")) TH_LOG("error: '%s'", err);
}

TEST(layout_kernel_too_big)
{
	struct avm_kernel k = image_k(0, 300 * SZ_1M, 10 * SZ_1M);
	struct avm_layout l;
	char err[256] = "";

	EXPECT_EQ(-1, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "does not fit")) TH_LOG("error: '%s'", err);
	/* a raw binary as big as RAM: no room for the DTB */
	k = (struct avm_kernel){ .format = AVM_KERNEL_RAW, .size = RAM_SIZE };
	EXPECT_EQ(-1, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "does not fit")) TH_LOG("error: '%s'", err);
	/* up to the DTB slot is fine */
	k.size = RAM_SIZE - SZ_2M;
	EXPECT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(l.dtb, l.kernel_end);
}

TEST(read_file)
{
	char dir[] = "/tmp/avm-loader-XXXXXX", path[64], err[256] = "";
	static const char data[] = "some kernel bytes";
	uint8_t *buf;
	size_t len = 12345;
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)sizeof(data), write(fd, data, sizeof(data)));
	close(fd);

	buf = avm_read_file(path, 1024, &len, err, sizeof(err));
	ASSERT_NE(NULL, buf) TH_LOG("%s", err);
	EXPECT_EQ(sizeof(data), len);
	EXPECT_EQ(0, memcmp(buf, data, sizeof(data)));
	free(buf);

	/* exactly @max is fine, a byte more is not */
	buf = avm_read_file(path, sizeof(data), &len, err, sizeof(err));
	EXPECT_NE(NULL, buf) TH_LOG("%s", err);
	free(buf);
	EXPECT_EQ(NULL, avm_read_file(path, sizeof(data) - 1, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, path)) TH_LOG("error: '%s'", err);
	/* a directory */
	EXPECT_EQ(NULL, avm_read_file(dir, 1024, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not a regular file")) TH_LOG("error: '%s'", err);
	/* an empty file: read, 0 bytes (the caller decides) */
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_GE(fd, 0);
	close(fd);
	buf = avm_read_file(path, 1024, &len, err, sizeof(err));
	ASSERT_NE(NULL, buf) TH_LOG("%s", err);
	EXPECT_EQ(0, len);
	free(buf);

	unlink(path);
	rmdir(dir);
}

TEST(read_file_missing)
{
	const char *path = "/nonexistent/avm-test/kernel";
	char err[256] = "";
	size_t len;

	EXPECT_EQ(NULL, avm_read_file(path, 1024, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, path)) TH_LOG("error: '%s'", err);
	EXPECT_NE(NULL, strstr(err, strerror(ENOENT))) TH_LOG("error: '%s'", err);
}

/* Files straight into RAM (the initrd), and their sizes */
TEST(load_file)
{
	static const char data[] = "an initrd";
	const char *path = temp_file(data, sizeof(data));
	uint64_t len = 0;
	char err[256] = "";

	ASSERT_NE(NULL, path);
	ASSERT_EQ(0, ram_init(SZ_1M));
	EXPECT_EQ(sizeof(data), avm_file_size(path, err, sizeof(err)));
	/* at the very end of RAM: exactly its size is room enough */
	ASSERT_EQ(0, avm_load_file(path, ram.host + SZ_1M - sizeof(data), sizeof(data),
				   &len, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(sizeof(data), len);
	EXPECT_EQ(0, memcmp(ram.host + SZ_1M - sizeof(data), data, sizeof(data)));
	EXPECT_EQ(-1, avm_load_file(path, ram.host, sizeof(data) - 1, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "does not fit")) TH_LOG("%s", err);
	unlink(path);
	EXPECT_EQ(-1, avm_file_size(path, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "No such file")) TH_LOG("%s", err);
	EXPECT_EQ(-1, avm_load_file(path, ram.host, SZ_1M, &len, err, sizeof(err)));
	EXPECT_EQ(-1, avm_file_size("/tmp", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not a regular file")) TH_LOG("%s", err);
}

/* The real thing, if run.sh found Debian's Image (scripts/deps.sh) */
TEST(debian_image)
{
	const char *path = getenv("AVM_TEST_KERNEL");
	struct avm_kernel k;
	struct avm_layout l;
	char err[256] = "";
	uint8_t *copy;
	size_t size;

	if (!path || !*path)
		SKIP(return, "AVM_TEST_KERNEL not set");
	ASSERT_EQ(0, ram_init(MAX));
	ASSERT_EQ(0, avm_kernel_load(path, &ram, &k, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(AVM_KERNEL_IMAGE, k.format);
	EXPECT_EQ(0, k.text_offset);
	EXPECT_GE(k.image_size, k.size);
	/* little-endian, 4K pages, anywhere in memory */
	EXPECT_EQ(0xa, k.flags);
	ASSERT_EQ(0, avm_layout(&k, RAM_BASE, RAM_SIZE, 0, &l, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(RAM_BASE, l.kernel);
	/* and cut short, it is refused */
	size = k.size - SZ_4K;
	copy = malloc(size);
	ASSERT_NE(NULL, copy);
	memcpy(copy, k.data, size);
	EXPECT_LOAD_FAILS(copy, size, MAX, "truncated");
	free(copy);
}

TEST_HARNESS_MAIN
