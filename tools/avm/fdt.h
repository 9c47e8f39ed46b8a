/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's device tree (fdt.c), built with libfdt's sequential writer.
 */
#ifndef AVM_FDT_H
#define AVM_FDT_H

#include "avm.h"

/* Return a libfdt error (negative) from the enclosing function. */
#define AVM_FDT_CHECK(x)				\
	do {						\
		int __r = (x);				\
		if (__r < 0)				\
			return __r;			\
	} while (0)

#define AVM_RNG_SEED_SIZE	32
/* The arm64 boot protocol's limit on a DTB */
#define AVM_FDT_MAX_SIZE	(2U << 20)

struct avm_fdt_cfg {
	uint64_t ram_base;
	uint64_t ram_size;
	unsigned int nr_cpus;
	const uint64_t *mpidr;
	unsigned int gic_version;	/* 2: PPI specifiers carry a CPU mask */
	const char *bootargs;		/* NULL: none */
	uint64_t initrd_start;
	uint64_t initrd_size;		/* 0: no initrd */
	const char *stdout_path;	/* NULL: none */
	uint8_t rng_seed[AVM_RNG_SEED_SIZE];
	uint64_t kaslr_seed;
	struct avm_dev *const *devs;
	unsigned int nr_devs;
};

/*
 * Build the whole tree into @buf (@size bytes), packed. 0 or a negative
 * libfdt error (fdt_strerror()).
 */
int avm_fdt_build(void *buf, size_t size, const struct avm_fdt_cfg *cfg);

/*
 * A user's tree (--dtb): check it, copy it into @buf and set /chosen's
 * bootargs, initrd range and seeds from @cfg; the rest is the user's.
 */
int avm_fdt_adopt(void *buf, size_t size, const void *user, size_t user_size,
		  const struct avm_fdt_cfg *cfg);

#endif /* AVM_FDT_H */
