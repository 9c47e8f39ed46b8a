// SPDX-License-Identifier: GPL-2.0
/*
 * avm: boot a guest on avcpu. The command line follows kvmtool's
 * ("lkvm run"); Documentation/vmm.rst has the whole story.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "gic.h"
#include "loader.h"
#include "pl011.h"
#include "vm.h"

#define DEFAULT_MEM_MIB		256
#define MIN_MEM_MIB		8
#define DEFAULT_CONSOLE		"console=ttyAMA0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: avm run --kernel FILE [options]\n"
		"       avm --help | --version\n"
		"\n"
		"Boot a guest on avcpu (/dev/avcpu), on a board laid out as QEMU's virt:\n"
		"GICv3, a PL011 UART on the console, PSCI, RAM from 0x40000000.\n"
		"\n"
		"  -k, --kernel FILE    arm64 Linux Image, gzip'd Image, or raw binary\n"
		"  -i, --initrd FILE    initial ramdisk\n"
		"  -p, --params STR     kernel command line (default \"" DEFAULT_CONSOLE "\";\n"
		"                       that is prepended when STR names no console=)\n"
		"  -c, --cpus N         vCPUs (default 1)\n"
		"  -m, --mem MIB        guest RAM in MiB (default %d)\n"
		"      --dtb FILE       use this device tree (its /chosen is updated)\n"
		"      --dump-dtb FILE  write the device tree to FILE and exit\n"
		"  -h, --help           this text\n"
		"      --version        avm's version\n"
		"\n"
		"Exit status: 0 the guest powered off; 1 bad input or a host error;\n"
		"2 the guest asked for a reset; 3 the guest cannot go on (crash).\n",
		DEFAULT_MEM_MIB);
}

struct opts {
	const char *kernel;
	const char *initrd;
	const char *params;
	const char *dtb;
	const char *dump_dtb;
	unsigned long cpus;
	unsigned long mem_mib;
};

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

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_DTB = 256, OPT_DUMP_DTB, OPT_VERSION };
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "dtb", required_argument, NULL, OPT_DTB },
		{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	int c;

	o->cpus = 1;
	o->mem_mib = DEFAULT_MEM_MIB;
	if (argc < 2) {
		usage(stderr);
		return -1;
	}
	if (argc >= 2 && argv[1][0] != '-') {
		if (strcmp(argv[1], "run")) {
			avm_err("unknown command '%s' (try 'avm --help')", argv[1]);
			return -1;
		}
		argv++;
		argc--;
	} else if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h") &&
		   strcmp(argv[1], "--version")) {
		avm_err("no command: say 'avm run ...' (try 'avm --help')");
		return -1;
	}
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
				return -1;
			break;
		case 'm':
			if (parse_ulong("--mem", optarg, &o->mem_mib))
				return -1;
			break;
		case OPT_DTB:
			o->dtb = optarg;
			break;
		case OPT_DUMP_DTB:
			o->dump_dtb = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("avm %s (avcpu API %d)\n", AVM_VERSION, AVCPU_API_VERSION);
			exit(0);
		default:
			if (optopt)
				avm_err("option -%c: unknown or missing its argument (try 'avm --help')",
					optopt);
			else
				avm_err("option '%s': unknown or missing its argument (try 'avm --help')",
					argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		avm_err("unexpected argument '%s' (try 'avm --help')", argv[optind]);
		return -1;
	}
	if (!o->kernel) {
		avm_err("no kernel: say --kernel FILE");
		return -1;
	}
	if (o->cpus < 1 || o->cpus > 4096) {
		avm_err("--cpus %lu: give at least 1 (and at most the module's limit)",
			o->cpus);
		return -1;
	}
	if (o->mem_mib < MIN_MEM_MIB || o->mem_mib > (1UL << 20)) {
		avm_err("--mem %lu: give %d MiB to 1 TiB", o->mem_mib, MIN_MEM_MIB);
		return -1;
	}
	return 0;
}

/* MemAvailable of /proc/meminfo, in MiB; 0 when unknown */
static unsigned long host_mem_available(void)
{
	unsigned long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib >> 10;
}

static void uart_irq(void *ctx, int level)
{
	struct avm *vm = ctx;

	gic_spi_line(vm->gic, AVM_SPI_UART, level);
}

/* stdin to the UART's receive FIFO, as long as there is input */
static void *console_input(void *arg)
{
	struct avm *vm = arg;
	uint8_t buf[64];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		size_t done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (done < (size_t)n) {
			done += pl011_receive(vm->uart, buf + done, n - done);
			if (done < (size_t)n)
				pl011_wait_room(vm->uart);
		}
	}
	return NULL;
}

static char *make_bootargs(const char *params)
{
	char *s;

	if (!params)
		return strdup(DEFAULT_CONSOLE);
	if (strstr(params, "console="))
		return strdup(params);
	if (asprintf(&s, "%s %s", DEFAULT_CONSOLE, params) < 0)
		return NULL;
	return s;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const uint8_t *p = buf;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= n;
	}
	return close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct avm vm = { .dev_fd = -1, .vm_fd = -1 };
	struct avm_fdt_cfg fcfg = { 0 };
	struct avm_kernel k;
	struct avm_layout l;
	struct opts o = { 0 };
	uint8_t *kbuf, *initrd = NULL, *user_dtb = NULL;
	size_t klen, initrd_len = 0, user_dtb_len = 0;
	uint64_t ram_size;
	static uint8_t fdt[AVM_FDT_MAX_SIZE];
	char err[256], *bootargs;
	unsigned long avail;
	unsigned int i;
	pthread_t input;
	double t0 = now();
	int ret;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (parse_args(argc, argv, &o))
		return AVM_EXIT_ERROR;
	ram_size = (uint64_t)o.mem_mib << 20;
	avail = host_mem_available();
	if (!o.dump_dtb && avail && o.mem_mib > avail) {
		avm_err("--mem %lu: the host has only %lu MiB available", o.mem_mib, avail);
		return AVM_EXIT_ERROR;
	}

	/* Everything the user gave is checked before anything runs. */
	kbuf = avm_read_file(o.kernel, ram_size, &klen, err, sizeof(err));
	if (!kbuf) {
		avm_err("kernel %s", err);
		return AVM_EXIT_ERROR;
	}
	if (avm_kernel_parse(kbuf, klen, ram_size, &k, err, sizeof(err))) {
		avm_err("kernel %s: %s", o.kernel, err);
		return AVM_EXIT_ERROR;
	}
	if (o.initrd) {
		initrd = avm_read_file(o.initrd, ram_size, &initrd_len, err, sizeof(err));
		if (!initrd) {
			avm_err("initrd %s", err);
			return AVM_EXIT_ERROR;
		}
		if (!initrd_len) {
			avm_err("initrd %s: empty file", o.initrd);
			return AVM_EXIT_ERROR;
		}
	}
	if (avm_layout(&k, AVM_RAM_BASE, ram_size, initrd_len, &l, err, sizeof(err))) {
		avm_err("%s", err);
		return AVM_EXIT_ERROR;
	}
	if (o.dtb) {
		user_dtb = avm_read_file(o.dtb, AVM_FDT_MAX_SIZE, &user_dtb_len, err,
					 sizeof(err));
		if (!user_dtb) {
			avm_err("--dtb %s", err);
			return AVM_EXIT_ERROR;
		}
	}
	/* What the host can do: the module's vCPU limit and address space */
	if (!o.dump_dtb && avm_vm_open(&vm, o.cpus, ram_size))
		return AVM_EXIT_ERROR;
	if (o.cpus > AVM_MAX_CPUS) {
		avm_err("--cpus %lu: avm supports at most %d vCPUs", o.cpus, AVM_MAX_CPUS);
		return AVM_EXIT_ERROR;
	}
	bootargs = make_bootargs(o.params);
	if (!bootargs) {
		avm_err("out of memory");
		return AVM_EXIT_ERROR;
	}

	/* The board: its devices, then its device tree. */
	vm.nr_cpus = o.cpus;
	for (i = 0; i < o.cpus; i++)
		vm.mpidr[i] = avm_mpidr(i);
	vm.gic = gic_create(o.cpus, vm.mpidr, AVM_NR_IRQS, &avm_vcpu_irq_ops, &vm);
	vm.uart = pl011_create(STDOUT_FILENO, uart_irq, &vm);
	if (!vm.gic || !vm.uart || avm_add_device(&vm, gic_dist_dev(vm.gic)) ||
	    avm_add_device(&vm, gic_redist_dev(vm.gic)) ||
	    avm_add_device(&vm, pl011_dev(vm.uart))) {
		avm_err("cannot create the devices");
		return AVM_EXIT_ERROR;
	}
	fcfg.ram_base = AVM_RAM_BASE;
	fcfg.ram_size = ram_size;
	fcfg.nr_cpus = o.cpus;
	fcfg.mpidr = vm.mpidr;
	fcfg.bootargs = bootargs;
	fcfg.initrd_start = l.initrd;
	fcfg.initrd_size = initrd_len;
	fcfg.stdout_path = "/pl011@9000000";
	fcfg.devs = vm.devs;
	fcfg.nr_devs = vm.nr_devs;
	if (getrandom(fcfg.rng_seed, sizeof(fcfg.rng_seed), 0) != sizeof(fcfg.rng_seed) ||
	    getrandom(&fcfg.kaslr_seed, sizeof(fcfg.kaslr_seed), 0) != sizeof(fcfg.kaslr_seed)) {
		avm_err("getrandom: %s", strerror(errno));
		return AVM_EXIT_ERROR;
	}
	if (user_dtb)
		ret = avm_fdt_adopt(fdt, sizeof(fdt), user_dtb, user_dtb_len, &fcfg);
	else
		ret = avm_fdt_build(fdt, sizeof(fdt), &fcfg);
	if (ret) {
		if (user_dtb)
			avm_err("--dtb %s: not a usable device tree: %s", o.dtb, fdt_strerror(ret));
		else
			avm_err("device tree: %s", fdt_strerror(ret));
		return AVM_EXIT_ERROR;
	}
	if (o.dump_dtb) {
		if (write_file(o.dump_dtb, fdt, fdt_totalsize(fdt))) {
			avm_err("--dump-dtb %s: %s", o.dump_dtb, strerror(errno));
			return AVM_EXIT_ERROR;
		}
		return AVM_EXIT_OFF;
	}

	/* The VM: avcpu's side, then the guest's memory image. */
	vm.nr_cpus = 0;
	if (avm_vm_create(&vm, o.cpus, ram_size))
		return AVM_EXIT_ERROR;
	memcpy(vm.ram + (l.kernel - AVM_RAM_BASE), k.data, k.size);
	if (initrd)
		memcpy(vm.ram + (l.initrd - AVM_RAM_BASE), initrd, initrd_len);
	memcpy(vm.ram + (l.dtb - AVM_RAM_BASE), fdt, fdt_totalsize(fdt));
	free(k.data);
	free(initrd);
	free(user_dtb);
	if (gic_reset(vm.gic))
		return AVM_EXIT_ERROR;

	if (pthread_create(&input, NULL, console_input, &vm) == 0)
		pthread_detach(input);
	if (getenv("AVM_DEBUG"))
		avm_warn("%s%s at 0x%llx, initrd 0x%llx (%zu bytes), dtb 0x%llx, %lu vCPUs, %lu MiB",
			 k.format == AVM_KERNEL_IMAGE ? "Image" : "raw binary",
			 k.gzip ? " (gzip)" : "", (unsigned long long)l.kernel,
			 (unsigned long long)l.initrd, initrd_len,
			 (unsigned long long)l.dtb, o.cpus, o.mem_mib);
	if (avm_vm_start(&vm, l.kernel, l.dtb)) {
		avm_vm_wait(&vm);
		return AVM_EXIT_ERROR;
	}
	ret = avm_vm_wait(&vm);
	if (getenv("AVM_DEBUG")) {
		avm_warn("guest ended with status %d", ret);
		avm_vm_print_stats(&vm, now() - t0);
	}
	pl011_close_input(vm.uart);
	avm_vm_destroy(&vm);
	return ret;
}
