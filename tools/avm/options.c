// SPDX-License-Identifier: GPL-2.0
/*
 * avm's command line, kvmtool's "lkvm run" style (Documentation/vmm.rst,
 * "Usage"). Parsing never exits and never touches anything but @o, so the
 * unit tests can run it over and over.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

void avm_usage(FILE *f)
{
	fprintf(f,
		"usage: avm run --kernel FILE [options]\n"
		"       avm --help | --version\n"
		"\n"
		"Boot a guest on avcpu (/dev/avcpu), on a board laid out as QEMU's virt:\n"
		"a GICv3 (or GICv2), a PL011 UART on the console, PSCI, RAM from 0x40000000, virtio-mmio\n"
		"devices from 0x0a000000 (INTID 48 + n). Documentation/vmm.rst has it all.\n"
		"\n"
		"  -k, --kernel FILE    arm64 Linux Image, gzip'd Image, or raw binary\n"
		"  -i, --initrd FILE    initial ramdisk\n"
		"  -p, --params STR     the kernel command line, as given (none by default;\n"
		"                       Linux finds the PL011 console in /chosen/stdout-path)\n"
		"  -c, --cpus N         vCPUs (default 1)\n"
		"      --gic v2|v3      the board's interrupt controller (default: the\n"
		"                       host's; a GICv2 serves at most 8 vCPUs)\n"
		"  -m, --mem MIB        guest RAM in MiB (default %d)\n"
		"      --disk FILE[,ro] a virtio block device on a raw image (its size a\n"
		"                       multiple of 512 bytes); ,ro: read-only. Repeatable:\n"
		"                       the first is /dev/vda in a Linux guest\n"
		"      --net tap[=IFNAME][,mac=MAC] | none\n"
		"                       a virtio network device on a tap (created, or\n"
		"                       IFNAME's), MAC default 02:61:76:6d:00:01; none: no\n"
		"                       network (the default)\n"
		"      --rng            a virtio entropy device (virtio-rng)\n"
		"      --console serial|virtio\n"
		"                       where stdin goes: the PL011 (default) or a virtio\n"
		"                       console (hvc0: say console=hvc0 in --params); the\n"
		"                       PL011 still prints either way\n"
		"      --no-reboot      a guest's reboot (PSCI SYSTEM_RESET) ends avm, status 2\n"
		"                       (default: avm boots the guest again)\n"
		"      --no-fast-paths  every virtio notification, device interrupt and\n"
		"                       IPI goes through avm (default: avcpu's IOEVENTFD,\n"
		"                       IRQFD and in-kernel SGIs, where the module has them)\n"
		"      --dtb FILE       use this device tree (its /chosen is updated)\n"
		"      --dump-dtb FILE  write the device tree to FILE and exit\n"
		"  -h, --help           this text\n"
		"      --version        avm's version\n"
		"\n"
		"A terminal on stdin is the guest's (raw mode): Ctrl-A x quits avm,\n"
		"Ctrl-A Ctrl-A sends one Ctrl-A.\n"
		"\n"
		"Exit status: 0 the guest powered off (or Ctrl-A x); 1 bad input or a host\n"
		"error; 2 the guest rebooted, with --no-reboot; 3 the guest cannot go on\n"
		"(crash); 4 every vCPU turned itself off (PSCI CPU_OFF).\n",
		AVM_DEFAULT_MEM_MIB);
}

static int parse_ulong(const char *opt, const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		avm_err("%s: '%s' is not a number", opt, s);
		return -1;
	}
	return 0;
}

/* FILE[,ro]: a path, read-only when it ends in ",ro" */
static int parse_disk(struct avm_opts *o, const char *arg)
{
	struct avm_disk_opt *d = &o->disks[o->nr_disks];
	size_t len = strlen(arg);

	if (o->nr_disks == AVM_MAX_DISKS) {
		avm_err("--disk %s: at most %d disks", arg, AVM_MAX_DISKS);
		return -1;
	}
	d->ro = len >= 3 && !strcmp(arg + len - 3, ",ro");
	if (d->ro)
		len -= 3;
	if (!len || len >= sizeof(d->path)) {
		avm_err("--disk '%s': give a file name (and ,ro for read-only)", arg);
		return -1;
	}
	memcpy(d->path, arg, len);
	d->path[len] = '\0';
	o->nr_disks++;
	return 0;
}

/* xx:xx:xx:xx:xx:xx, a unicast address */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	int end = -1;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || end != (int)strlen(s) || strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	/* bit 0 of the first byte: a group address, not a NIC's */
	return mac[0] & 1 ? -1 : 0;
}

/* tap[=IFNAME][,mac=MAC] or none */
static int parse_net(struct avm_opts *o, const char *arg)
{
	const char *mac = strstr(arg, ",mac=");
	size_t len = mac ? (size_t)(mac - arg) : strlen(arg);

	if (!strcmp(arg, "none")) {
		o->net = false;
		return 0;
	}
	if (len < 3 || strncmp(arg, "tap", 3) || (len > 3 && arg[3] != '=')) {
		avm_err("--net %s: say tap[=IFNAME][,mac=MAC] or none", arg);
		return -1;
	}
	o->tap[0] = '\0';
	if (len > 3) {
		if (len - 4 == 0 || len - 4 >= sizeof(o->tap)) {
			avm_err("--net %s: an interface name has 1 to %zu characters",
				arg, sizeof(o->tap) - 1);
			return -1;
		}
		memcpy(o->tap, arg + 4, len - 4);
		o->tap[len - 4] = '\0';
	}
	if (mac && parse_mac(mac + 5, o->mac)) {
		avm_err("--net %s: the MAC is six hex bytes, xx:xx:xx:xx:xx:xx, unicast",
			arg);
		return -1;
	}
	o->net = true;
	return 0;
}

/* What was said, checked on its own (the host's limits come later) */
static int check_opts(const struct avm_opts *o)
{
	if (!o->kernel) {
		avm_err("no kernel: say --kernel FILE");
		return -1;
	}
	if (o->cpus < 1 || o->cpus > 4096) {
		avm_err("--cpus %lu: give at least 1 (and at most the module's limit)",
			o->cpus);
		return -1;
	}
	if (o->mem_mib < AVM_MIN_MEM_MIB || o->mem_mib > (1UL << 20)) {
		avm_err("--mem %lu: give %d MiB to 1 TiB", o->mem_mib, AVM_MIN_MEM_MIB);
		return -1;
	}
	return 0;
}

enum avm_parse avm_parse_args(int argc, char **argv, struct avm_opts *o)
{
	enum { OPT_DTB = 256, OPT_DUMP_DTB, OPT_VERSION, OPT_RNG, OPT_DISK,
	       OPT_CONSOLE, OPT_NET, OPT_NO_REBOOT, OPT_NO_FAST, OPT_GIC };
	static const uint8_t default_mac[6] = AVM_DEFAULT_MAC;
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "net", required_argument, NULL, OPT_NET },
		{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
		{ "no-fast-paths", no_argument, NULL, OPT_NO_FAST },
		{ "gic", required_argument, NULL, OPT_GIC },
		{ "dtb", required_argument, NULL, OPT_DTB },
		{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->cpus = 1;
	o->mem_mib = AVM_DEFAULT_MEM_MIB;
	memcpy(o->mac, default_mac, sizeof(o->mac));
	if (argc < 2) {
		avm_usage(stderr);
		return AVM_PARSE_ERROR;
	}
	if (argv[1][0] != '-') {
		if (strcmp(argv[1], "run")) {
			avm_err("unknown command '%s' (try 'avm --help')", argv[1]);
			return AVM_PARSE_ERROR;
		}
		argv++;
		argc--;
	} else if (strcmp(argv[1], "--help") && strcmp(argv[1], "-h") &&
		   strcmp(argv[1], "--version")) {
		avm_err("no command: say 'avm run ...' (try 'avm --help')");
		return AVM_PARSE_ERROR;
	}
	/* 0: getopt starts over (GNU), for callers that parse twice */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "k:i:p:c:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'p':
			o->params = optarg;
			break;
		case 'c':
			if (parse_ulong("--cpus", optarg, &o->cpus))
				return AVM_PARSE_ERROR;
			break;
		case 'm':
			if (parse_ulong("--mem", optarg, &o->mem_mib))
				return AVM_PARSE_ERROR;
			break;
		case OPT_RNG:
			o->rng = true;
			break;
		case OPT_DISK:
			if (parse_disk(o, optarg))
				return AVM_PARSE_ERROR;
			break;
		case OPT_NO_REBOOT:
			o->no_reboot = true;
			break;
		case OPT_GIC:
			if (!strcmp(optarg, "v2")) {
				o->gic = 2;
			} else if (!strcmp(optarg, "v3")) {
				o->gic = 3;
			} else {
				avm_err("--gic %s: say v2 or v3", optarg);
				return AVM_PARSE_ERROR;
			}
			break;
		case OPT_NO_FAST:
			o->no_fast_paths = true;
			break;
		case OPT_NET:
			memcpy(o->mac, default_mac, sizeof(o->mac));
			if (parse_net(o, optarg))
				return AVM_PARSE_ERROR;
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial")) {
				o->console = AVM_CONSOLE_SERIAL;
			} else if (!strcmp(optarg, "virtio")) {
				o->console = AVM_CONSOLE_VIRTIO;
			} else {
				avm_err("--console %s: say serial or virtio", optarg);
				return AVM_PARSE_ERROR;
			}
			break;
		case OPT_DTB:
			o->dtb = optarg;
			break;
		case OPT_DUMP_DTB:
			o->dump_dtb = optarg;
			break;
		case 'h':
			avm_usage(stdout);
			return AVM_PARSE_EXIT;
		case OPT_VERSION:
			printf("avm %s (avcpu API %d)\n", AVM_VERSION, AVCPU_API_VERSION);
			return AVM_PARSE_EXIT;
		default:
			/* a long option by its name, a short one by its letter */
			if (!strncmp(argv[optind - 1], "--", 2))
				avm_err("option '%s': unknown, or its argument missing or not taken (try 'avm --help')",
					argv[optind - 1]);
			else
				avm_err("option -%c: unknown or missing its argument (try 'avm --help')",
					optopt);
			return AVM_PARSE_ERROR;
		}
	}
	if (optind < argc) {
		avm_err("unexpected argument '%s' (try 'avm --help')", argv[optind]);
		return AVM_PARSE_ERROR;
	}
	return check_opts(o) ? AVM_PARSE_ERROR : AVM_PARSE_RUN;
}
