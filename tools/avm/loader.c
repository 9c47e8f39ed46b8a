// SPDX-License-Identifier: GPL-2.0
/*
 * Loading: arm64 Linux Images (with their 64-byte header, Linux's
 * Documentation/arm64/booting.rst), gzip-compressed Images, and raw
 * binaries entered at their load address, each read (or inflated) from
 * its file straight into guest RAM, where it runs: no copy in between;
 * then where the initrd and the DTB go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "fdt.h"
#include "loader.h"

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL

#define IMAGE_MAGIC	0x644d5241	/* "ARM\x64" at offset 0x38 */
#define IMAGE_HDR_SIZE	64
#define IMAGE_F_BE	(1ULL << 0)
/* Without image_size (before 3.17), booting.rst says assume this offset */
#define IMAGE_OLD_TEXT_OFFSET 0x80000

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

/* @path opened for reading, a regular file; its size in *@size */
static int open_regular(const char *path, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/* @len bytes of @fd from offset 0 into @dst */
static int read_all(int fd, const char *path, uint8_t *dst, uint64_t len,
		    char *err, size_t errlen)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, dst + done, len - done, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			seterr(err, errlen, "%s: %s", path,
			       n ? strerror(errno) : "file shrank while read");
			return -1;
		}
		done += n;
	}
	return 0;
}

int64_t avm_file_size(const char *path, char *err, size_t errlen)
{
	uint64_t size;
	int fd = open_regular(path, &size, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return size;
}

int avm_load_file(const char *path, uint8_t *dst, uint64_t cap, uint64_t *len,
		  char *err, size_t errlen)
{
	uint64_t size;
	int fd = open_regular(path, &size, err, errlen), ret;

	if (fd < 0)
		return -1;
	if (size > cap) {
		seterr(err, errlen, "%s: %llu bytes, does not fit in %llu KiB", path,
		       (unsigned long long)size, (unsigned long long)(cap >> 10));
		close(fd);
		return -1;
	}
	ret = read_all(fd, path, dst, size, err, errlen);
	close(fd);
	*len = size;
	return ret;
}

uint8_t *avm_read_file(const char *path, size_t max, size_t *len,
		       char *err, size_t errlen)
{
	uint64_t size;
	uint8_t *buf;
	int fd = open_regular(path, &size, err, errlen);

	if (fd < 0)
		return NULL;
	if (size > max) {
		seterr(err, errlen, "%s: %llu bytes, does not fit in %zu KiB",
		       path, (unsigned long long)size, max >> 10);
		close(fd);
		return NULL;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		seterr(err, errlen, "%s: out of memory", path);
	} else if (read_all(fd, path, buf, size, err, errlen)) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = size;
	return buf;
}

/* A gzip stream (RFC 1952) read from a file in pieces, inflated by zlib */
struct gz {
	z_stream z;
	int fd;
	const char *path;
	uint8_t in[64 << 10];
	bool eof;
};

/* Keep what zlib has not taken, add what the file has next. */
static int gz_refill(struct gz *g, char *err, size_t errlen)
{
	ssize_t n;

	memmove(g->in, g->z.next_in, g->z.avail_in);
	g->z.next_in = g->in;
	do {
		n = read(g->fd, g->in + g->z.avail_in, sizeof(g->in) - g->z.avail_in);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		seterr(err, errlen, "%s: %s", g->path, strerror(errno));
		return -1;
	}
	g->eof = n == 0;
	g->z.avail_in += n;
	return 0;
}

/*
 * Inflate into @out until @cap bytes are there or the last member ends
 * (*@end). Every member of the file, as gzip allows (`cat a.gz b.gz`).
 * The bytes produced, or -1 with @err set.
 */
static int64_t gz_inflate(struct gz *g, uint8_t *out, uint64_t cap, bool *end,
			  char *err, size_t errlen)
{
	uint64_t done = 0;

	*end = false;
	for (;;) {
		/* zlib counts in 32 bits: at most 1 GiB at a time */
		uint64_t chunk = cap - done > (1U << 30) ? 1U << 30 : cap - done;
		int ret;

		if (!chunk)
			return done;
		if (!g->z.avail_in && !g->eof && gz_refill(g, err, errlen))
			return -1;
		g->z.next_out = out + done;
		g->z.avail_out = chunk;
		ret = inflate(&g->z, Z_NO_FLUSH);
		done += chunk - g->z.avail_out;
		if (ret == Z_STREAM_END) {
			/* another member right behind this one? */
			if (g->z.avail_in < 2 && !g->eof && gz_refill(g, err, errlen))
				return -1;
			if (g->z.avail_in >= 2 && g->z.next_in[0] == 0x1f &&
			    g->z.next_in[1] == 0x8b) {
				inflateReset(&g->z);
				continue;
			}
			*end = true;
			return done;
		}
		if (ret == Z_BUF_ERROR && !g->z.avail_in && g->eof) {
			seterr(err, errlen, "truncated gzip data");
			return -1;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			seterr(err, errlen, "corrupt gzip data (%s)",
			       g->z.msg ? g->z.msg : "inflate failed");
			return -1;
		}
	}
}
/*
 * An EFI-stub Image is also a PE/COFF file (res5 points at "PE\0\0"): its
 * section table says how far the file's data reaches, which tells a
 * truncated kernel from a whole one.
 */
static int check_pe(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	uint32_t pe = le32(buf + 0x3c);
	uint64_t end = 0, sec;
	unsigned int i, n;

	if (buf[0] != 'M' || buf[1] != 'Z')
		return 0;		/* no EFI stub: nothing more to check */
	if ((uint64_t)pe + 24 > len || memcmp(buf + pe, "PE\0\0", 4)) {
		seterr(err, errlen, "corrupt Image: bad PE header");
		return -1;
	}
	if (le16(buf + pe + 4) != 0xaa64) {
		seterr(err, errlen, "not an arm64 kernel (PE machine 0x%x)",
		       le16(buf + pe + 4));
		return -1;
	}
	n = le16(buf + pe + 6);
	sec = pe + 24 + le16(buf + pe + 20);
	if (sec + 40ULL * n > len) {
		seterr(err, errlen, "truncated Image: %zu bytes, PE headers cut", len);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *s = buf + sec + 40 * i;
		uint64_t e = (uint64_t)le32(s + 20) + le32(s + 16);

		if (e > end)
			end = e;
	}
	if (end > len) {
		seterr(err, errlen, "truncated Image: %zu bytes of %llu", len,
		       (unsigned long long)end);
		return -1;
	}
	return 0;
}

/*
 * The 64-byte Image header (booting.rst): the fields, and what avm cannot
 * boot. 0, or -1 with @err set.
 */
static int image_header(const uint8_t *hdr, struct avm_kernel *k, char *err,
			size_t errlen)
{
	k->format = AVM_KERNEL_IMAGE;
	k->text_offset = le64(hdr + 0x08);
	k->image_size = le64(hdr + 0x10);
	k->flags = le64(hdr + 0x18);
	if (!k->image_size)
		k->text_offset = IMAGE_OLD_TEXT_OFFSET;
	if (k->flags & IMAGE_F_BE) {
		seterr(err, errlen, "big-endian kernels are not supported");
		return -1;
	}
	if (k->text_offset % SZ_4K || k->text_offset >= SZ_2M) {
		seterr(err, errlen, "corrupt Image header: text_offset 0x%llx",
		       (unsigned long long)k->text_offset);
		return -1;
	}
	return 0;
}

static bool is_image(const uint8_t *hdr, uint64_t len)
{
	return len >= IMAGE_HDR_SIZE && le32(hdr + 0x38) == IMAGE_MAGIC;
}

/* What the whole Image in RAM says about itself */
static int image_check(const struct avm_kernel *k, char *err, size_t errlen)
{
	if (k->image_size && k->image_size < k->size &&
	    k->image_size + SZ_2M < k->size) {
		seterr(err, errlen, "corrupt Image header: image_size 0x%llx < file",
		       (unsigned long long)k->image_size);
		return -1;
	}
	return check_pe(k->data, k->size, err, errlen);
}

static int too_big(uint64_t size, const struct avm_mem *ram, char *err, size_t errlen)
{
	seterr(err, errlen, "kernel (%llu KiB) does not fit in %llu MiB of guest RAM",
	       (unsigned long long)(size >> 10), (unsigned long long)(ram->size >> 20));
	return -1;
}

/*
 * A gzip'd Image: its header inflated aside first, for where it goes;
 * then the rest straight into RAM behind it.
 */
static int load_gzip(int fd, const char *path, const struct avm_mem *ram,
		     struct avm_kernel *k, char *err, size_t errlen)
{
	struct gz *g = calloc(1, sizeof(*g));
	uint8_t hdr[IMAGE_HDR_SIZE];
	int64_t got;
	bool end;
	int ret = -1;

	if (!g || inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	g->fd = fd;
	g->path = path;
	got = gz_inflate(g, hdr, sizeof(hdr), &end, err, errlen);
	if (got < 0)
		goto out;
	if (!got && end) {
		seterr(err, errlen, "empty kernel file");
		goto out;
	}
	if (!is_image(hdr, got)) {
		seterr(err, errlen, "gzip data is not an arm64 Image");
		goto out;
	}
	if (image_header(hdr, k, err, errlen))
		goto out;
	if (k->text_offset + IMAGE_HDR_SIZE > ram->size) {
		too_big(k->text_offset + IMAGE_HDR_SIZE, ram, err, errlen);
		goto out;
	}
	k->data = ram->host + k->text_offset;
	memcpy(k->data, hdr, sizeof(hdr));
	got = gz_inflate(g, k->data + IMAGE_HDR_SIZE,
			 ram->size - k->text_offset - IMAGE_HDR_SIZE, &end, err, errlen);
	if (got < 0)
		goto out;
	if (!end) {
		seterr(err, errlen, "decompressed kernel larger than guest RAM (%llu MiB)",
		       (unsigned long long)(ram->size >> 20));
		goto out;
	}
	k->size = IMAGE_HDR_SIZE + got;
	k->gzip = true;
	ret = image_check(k, err, errlen);
out:
	inflateEnd(&g->z);
	free(g);
	return ret;
}

int avm_kernel_load(const char *path, const struct avm_mem *ram,
		    struct avm_kernel *k, char *err, size_t errlen)
{
	uint8_t hdr[IMAGE_HDR_SIZE];
	uint64_t size, off = 0;
	int fd, ret = -1;

	memset(k, 0, sizeof(*k));
	fd = open_regular(path, &size, err, errlen);
	if (fd < 0)
		return -1;
	if (!size) {
		seterr(err, errlen, "%s: empty kernel file", path);
		goto out;
	}
	if (read_all(fd, path, hdr, size < sizeof(hdr) ? size : sizeof(hdr), err, errlen))
		goto out;
	if (size >= 3 && hdr[0] == 0x1f && hdr[1] == 0x8b) {
		if (hdr[2] != 8)
			seterr(err, errlen, "corrupt gzip data (method %u)", hdr[2]);
		else
			ret = load_gzip(fd, path, ram, k, err, errlen);
		goto out;
	}
	if (size >= 8 && hdr[0] == 'M' && hdr[1] == 'Z' && !memcmp(hdr + 4, "zimg", 4)) {
		seterr(err, errlen, "EFI zboot kernels are not supported: give the Image (or its gzip)");
		goto out;
	}
	if (is_image(hdr, size)) {
		if (image_header(hdr, k, err, errlen))
			goto out;
		off = k->text_offset;
	} else {
		k->format = AVM_KERNEL_RAW;
	}
	if (off + size > ram->size) {
		too_big(size, ram, err, errlen);
		goto out;
	}
	/* no copy: the file goes where the guest runs it */
	k->data = ram->host + off;
	k->size = size;
	if (read_all(fd, path, k->data, size, err, errlen))
		goto out;
	ret = k->format == AVM_KERNEL_IMAGE ? image_check(k, err, errlen) : 0;
out:
	close(fd);
	if (ret)
		k->data = NULL;
	return ret;
}

int avm_layout(const struct avm_kernel *k, uint64_t ram_base,
	       uint64_t ram_size, uint64_t initrd_size, struct avm_layout *l,
	       char *err, size_t errlen)
{
	uint64_t ram_end = ram_base + ram_size, span;

	memset(l, 0, sizeof(*l));
	/* the DTB: the last 2 MiB-aligned slot, 2 MiB at most (booting.rst) */
	if (ram_size < 2 * SZ_2M) {
		seterr(err, errlen, "guest RAM too small: %llu KiB",
		       (unsigned long long)(ram_size >> 10));
		return -1;
	}
	l->dtb = (ram_end - AVM_FDT_MAX_SIZE) & ~(SZ_2M - 1);

	if (k->format == AVM_KERNEL_IMAGE) {
		/* 2 MiB-aligned base + text_offset: the RAM base is both */
		l->kernel = ram_base + k->text_offset;
		span = k->image_size > k->size ? k->image_size : k->size;
	} else {
		l->kernel = ram_base;
		span = k->size;
	}
	l->kernel_end = l->kernel + ((span + SZ_4K - 1) & ~(SZ_4K - 1));
	if (l->kernel_end > l->dtb) {
		seterr(err, errlen, "kernel (%llu KiB) does not fit in %llu MiB of guest RAM",
		       (unsigned long long)(span >> 10),
		       (unsigned long long)(ram_size >> 20));
		return -1;
	}
	if (initrd_size) {
		/* just below the DTB, above the kernel and its BSS */
		if (initrd_size > l->dtb - l->kernel_end) {
			seterr(err, errlen, "initrd (%llu KiB) does not fit: %llu KiB free between kernel and DTB",
			       (unsigned long long)(initrd_size >> 10),
			       (unsigned long long)((l->dtb - l->kernel_end) >> 10));
			return -1;
		}
		l->initrd = (l->dtb - initrd_size) & ~(SZ_4K - 1);
	}
	return 0;
}
