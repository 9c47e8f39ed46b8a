// SPDX-License-Identifier: GPL-2.0
/*
 * Loading: arm64 Linux Images (with their 64-byte header, Linux's
 * Documentation/arm64/booting.rst), gzip-compressed Images, and raw
 * binaries entered at their load address; then where the kernel, the
 * initrd and the DTB go in guest RAM.
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

uint8_t *avm_read_file(const char *path, size_t max, size_t *len,
		       char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		seterr(err, errlen, "%s: %lld bytes, does not fit in %zu KiB",
		       path, (long long)st.st_size, max >> 10);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		seterr(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0) {
			seterr(err, errlen, "%s: %s", path,
			       n ? strerror(errno) : "file shrank while read");
			free(buf);
			close(fd);
			return NULL;
		}
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}

/* gzip (RFC 1952) through zlib; every member, bounded by @max bytes out. */
static uint8_t *gunzip(const uint8_t *in, size_t len, size_t max, size_t *out_len,
		       char *err, size_t errlen)
{
	size_t cap = len * 4 > max ? max : len * 4;
	z_stream z = { 0 };
	size_t done = 0;	/* z.total_out restarts with each member */
	uint8_t *out;
	int ret;

	if (cap < 4096)
		cap = 4096;
	out = malloc(cap);
	if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	for (;;) {
		if (done == cap) {
			uint8_t *bigger;

			if (cap >= max) {
				seterr(err, errlen, "decompressed kernel larger than guest RAM (%zu MiB)",
				       max >> 20);
				goto fail;
			}
			cap = cap * 2 > max ? max : cap * 2;
			bigger = realloc(out, cap);
			if (!bigger) {
				seterr(err, errlen, "out of memory");
				goto fail;
			}
			out = bigger;
		}
		z.next_out = out + done;
		z.avail_out = cap - done;
		ret = inflate(&z, Z_NO_FLUSH);
		done = cap - z.avail_out;
		if (ret == Z_STREAM_END) {
			/* concatenated members, as gzip allows; else done */
			if (z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
				inflateReset(&z);
				continue;
			}
			break;
		}
		if (ret == Z_BUF_ERROR && z.avail_in == 0) {
			seterr(err, errlen, "truncated gzip data");
			goto fail;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			seterr(err, errlen, "corrupt gzip data (%s)",
			       z.msg ? z.msg : "inflate failed");
			goto fail;
		}
	}
	*out_len = done;
	inflateEnd(&z);
	return out;
fail:
	inflateEnd(&z);
	free(out);
	return NULL;
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

int avm_kernel_parse(uint8_t *buf, size_t len, size_t max,
		     struct avm_kernel *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	if (!len) {
		seterr(err, errlen, "empty kernel file");
		return -1;
	}
	if (len >= 3 && buf[0] == 0x1f && buf[1] == 0x8b) {
		size_t out_len;
		uint8_t *out;

		if (buf[2] != 8) {
			seterr(err, errlen, "corrupt gzip data (method %u)", buf[2]);
			return -1;
		}
		out = gunzip(buf, len, max, &out_len, err, errlen);
		if (!out)
			return -1;
		if (avm_kernel_parse(out, out_len, max, k, err, errlen)) {
			free(out);
			return -1;
		}
		if (k->format != AVM_KERNEL_IMAGE) {
			seterr(err, errlen, "gzip data is not an arm64 Image");
			free(k->data);
			k->data = NULL;
			return -1;
		}
		free(buf);
		k->gzip = true;
		return 0;
	}
	if (len >= 8 && buf[0] == 'M' && buf[1] == 'Z' && !memcmp(buf + 4, "zimg", 4)) {
		seterr(err, errlen, "EFI zboot kernels are not supported: give the Image (or its gzip)");
		return -1;
	}
	if (len >= IMAGE_HDR_SIZE && le32(buf + 0x38) == IMAGE_MAGIC) {
		k->format = AVM_KERNEL_IMAGE;
		k->text_offset = le64(buf + 0x08);
		k->image_size = le64(buf + 0x10);
		k->flags = le64(buf + 0x18);
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
		if (k->image_size && k->image_size < len &&
		    k->image_size + SZ_2M < len) {
			seterr(err, errlen, "corrupt Image header: image_size 0x%llx < file",
			       (unsigned long long)k->image_size);
			return -1;
		}
		if (check_pe(buf, len, err, errlen))
			return -1;
	} else {
		k->format = AVM_KERNEL_RAW;
	}
	k->data = buf;
	k->size = len;
	return 0;
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
