/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avm's command line (options.c): parsed and checked before anything
 * else happens, so every bad input is one "avm: error:" line.
 */
#ifndef AVM_OPTIONS_H
#define AVM_OPTIONS_H

#include <limits.h>
#include <net/if.h>
#include <stdio.h>

#include "avm.h"

#define AVM_DEFAULT_MEM_MIB	256
#define AVM_MIN_MEM_MIB		8
#define AVM_MAX_DISKS		16

/* --disk FILE[,ro] */
struct avm_disk_opt {
	char path[PATH_MAX];
	bool ro;
};

/* The guest's MAC address unless --net says: locally administered, unicast */
#define AVM_DEFAULT_MAC		{ 0x02, 0x61, 0x76, 0x6d, 0x00, 0x01 }

/* Who owns the console, stdin and stdout: --console */
enum avm_console { AVM_CONSOLE_SERIAL, AVM_CONSOLE_VIRTIO };

struct avm_opts {
	const char *kernel;
	const char *initrd;
	const char *params;
	const char *dtb;
	const char *dump_dtb;
	unsigned long cpus;
	unsigned long mem_mib;
	unsigned int gic;		/* --gic: 2, 3, or 0 for the host's */
	bool rng;
	bool no_reboot;			/* SYSTEM_RESET ends avm (status 2) */
	bool no_fast_paths;		/* no IOEVENTFD, IRQFD, KERNEL_SGI */
	enum avm_console console;
	bool net;			/* --net tap */
	char tap[IFNAMSIZ];		/* its name; "": the kernel's choice */
	uint8_t mac[6];
	struct avm_disk_opt disks[AVM_MAX_DISKS];
	unsigned int nr_disks;
};

/* What avm_parse_args() found */
enum avm_parse {
	AVM_PARSE_RUN,		/* options in @o: run */
	AVM_PARSE_EXIT,		/* --help or --version printed: exit 0 */
	AVM_PARSE_ERROR,	/* one error line printed: exit 1 */
};

enum avm_parse avm_parse_args(int argc, char **argv, struct avm_opts *o);
void avm_usage(FILE *f);

#endif /* AVM_OPTIONS_H */
