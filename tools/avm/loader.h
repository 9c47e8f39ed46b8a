/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel, initrd and DTB placement (loader.c): the arm64 boot protocol,
 * Linux's Documentation/arm64/booting.rst.
 */
#ifndef AVM_LOADER_H
#define AVM_LOADER_H

#include "avm.h"

enum avm_kernel_format { AVM_KERNEL_RAW, AVM_KERNEL_IMAGE };

struct avm_kernel {
	uint8_t *data;		/* the (decompressed) bytes, in guest RAM */
	size_t size;
	enum avm_kernel_format format;
	bool gzip;		/* it came gzip-compressed */
	uint64_t text_offset;	/* Image header fields */
	uint64_t image_size;
	uint64_t flags;
};

struct avm_layout {
	uint64_t kernel;	/* load address = entry point */
	uint64_t kernel_end;	/* first byte after what it may use */
	uint64_t initrd;
	uint64_t dtb;		/* 2 MiB slot, AVM_FDT_MAX_SIZE */
};

/*
 * Load the kernel at @path straight into guest RAM @ram, where it runs:
 * a gzip'd Image is inflated there, an Image goes to its text_offset, a
 * raw binary to the start. 0, or -1 with one line in @err (a missing,
 * empty, cut or corrupt file, or one that does not fit).
 */
int avm_kernel_load(const char *path, const struct avm_mem *ram,
		    struct avm_kernel *k, char *err, size_t errlen);

/* Read @path whole into a malloc'd buffer; NULL with one line in @err. */
uint8_t *avm_read_file(const char *path, size_t max, size_t *len,
		       char *err, size_t errlen);
/* Read @path whole into @dst (room for @cap bytes): 0, or -1 and @err. */
int avm_load_file(const char *path, uint8_t *dst, uint64_t cap, uint64_t *len,
		  char *err, size_t errlen);
/* The size of the regular file @path, or -1 with @err set. */
int64_t avm_file_size(const char *path, char *err, size_t errlen);

/*
 * Place @k, an initrd of @initrd_size bytes (0: none) and the DTB in RAM
 * [@ram_base, @ram_base + @ram_size). 0, or -1 with one line in @err.
 */
int avm_layout(const struct avm_kernel *k, uint64_t ram_base,
	       uint64_t ram_size, uint64_t initrd_size, struct avm_layout *l,
	       char *err, size_t errlen);

#endif /* AVM_LOADER_H */
