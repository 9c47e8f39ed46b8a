// SPDX-License-Identifier: GPL-2.0
/*
 * avm: boot a guest on avcpu. The command line follows kvmtool's
 * ("lkvm run"); Documentation/vmm.rst has the whole story.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "gic.h"
#include "loader.h"
#include "options.h"
#include "pl011.h"
#include "term.h"
#include "virtio.h"
#include "vm.h"

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

static void virtio_irq(void *ctx, uint32_t intid, int level)
{
	struct avm *vm = ctx;

	gic_spi_line(vm->gic, intid, level);
}

/* Put @vd (made by a virtio_*_create()) on the board: the next transport. */
static int add_virtio(struct avm *vm, struct virtio_dev *vd, const char *err)
{
	if (!vd) {
		avm_err("%s", err);
		return -1;
	}
	vm->virtio[vm->nr_virtio++] = vd;
	if (avm_add_device(vm, virtio_avm_dev(vd))) {
		avm_err("%s: no room on the MMIO bus", vd->name);
		return -1;
	}
	return 0;
}

/*
 * The virtio devices asked for, each on the next virtio-mmio transport,
 * in this order (Documentation/vmm.rst, "The board").
 */
static int add_virtio_devices(struct avm *vm, const struct avm_opts *o)
{
	const struct virtio_env env = {
		.mem = &vm->mem, .irq = virtio_irq, .irq_ctx = vm,
	};
	char err[256] = "";
	unsigned int i;

	for (i = 0; i < o->nr_disks; i++)
		if (add_virtio(vm, virtio_blk_create(&env, vm->nr_virtio, o->disks[i].path,
						     o->disks[i].ro, err, sizeof(err)), err))
			return -1;
	if (o->net) {
		char name[IFNAMSIZ];
		int fd = net_tap_open("/dev/net/tun", o->tap[0] ? o->tap : NULL, name,
				      err, sizeof(err));

		if (fd < 0) {
			avm_err("%s", err);
			return -1;
		}
		if (add_virtio(vm, virtio_net_create(&env, vm->nr_virtio, fd, o->mac,
						     err, sizeof(err)), err))
			return -1;
		if (getenv("AVM_DEBUG"))
			avm_warn("network: tap %s", name);
	}
	if (o->rng &&
	    add_virtio(vm, virtio_rng_create(&env, vm->nr_virtio, err, sizeof(err)), err))
		return -1;
	if (o->console == AVM_CONSOLE_VIRTIO) {
		unsigned int cols = 0, rows = 0;

		/* a terminal's size for the guest (F_SIZE), when there is one */
		if (isatty(STDIN_FILENO))
			term_size(STDIN_FILENO, &cols, &rows);
		/* its input comes when the guest runs (start_input()) */
		vm->console = virtio_console_create(&env, vm->nr_virtio, -1,
						    STDOUT_FILENO, cols, rows,
						    err, sizeof(err));
		if (add_virtio(vm, vm->console, err))
			return -1;
	}
	return 0;
}

/*
 * avcpu's fast paths, unless --no-fast-paths: SGIs between vCPUs stay in
 * the kernel, a QueueNotify store signals the device's I/O thread through
 * an ioeventfd without an exit, and the thread raises the transport's SPI
 * through an irqfd. Each is optional: without it the exit to avm does the
 * same work, so a failure is only reported (AVM_DEBUG).
 */
/*
 * The board's GIC: --gic, or the host's. avcpu on a GICv2 host gives its
 * guests a GICv2 CPU interface only, and on a GICv3 host a GICv3 one.
 * Without a host (--dump-dtb), what was asked, or a GICv3.
 */
static int pick_gic(struct avm *vm, const struct avm_opts *o)
{
	unsigned int host = o->dump_dtb ? 0 : vm->caps.gic_version == 2 ? 2 : 3;

	vm->gic_version = o->gic ? o->gic : host ? host : 3;
	if (host && vm->gic_version != host) {
		avm_err("--gic v%u: this host's GIC is a GICv%u, whose guests have a GICv%u",
			o->gic, host, host);
		return -1;
	}
	if (vm->gic_version == 2 && o->cpus > 8) {
		avm_err("--cpus %lu: a GICv2 serves at most 8 CPUs", o->cpus);
		return -1;
	}
	return 0;
}

static void use_fast_paths(struct avm *vm, const struct avm_opts *o)
{
	bool debug = getenv("AVM_DEBUG");
	unsigned int i;
	int ret;

	if (o->no_fast_paths)
		return;
	ret = avm_vm_fast_paths(vm);
	if (ret) {
		if (debug)
			avm_warn("fast paths: not used (%s)", strerror(-ret));
		return;
	}
	for (i = 0; i < vm->nr_virtio; i++) {
		struct virtio_dev *vd = vm->virtio[i];

		ret = avm_vm_ioeventfd(vm, vd->dev.base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
				       vd->kick_fd);
		if (ret)
			avm_warn("%s: no ioeventfd (%s): notifications exit to avm",
				 vd->name, strerror(-ret));
		ret = gic_spi_irqfd(vm->gic, vd->intid);
		if (ret)
			avm_warn("%s: no irqfd (%s): interrupts take INJECT_IRQ",
				 vd->name, strerror(-ret));
	}
	/* the GIC's configuration registers, written at boot: posted */
	for (i = 0; i < gic_nr_dist_posted; i++) {
		ret = avm_vm_coalesce(vm, AVM_GICD_BASE + gic_dist_posted[i].off,
				      gic_dist_posted[i].len);
		if (ret) {
			if (debug)
				avm_warn("coalesced MMIO: not used (%s)", strerror(-ret));
			break;
		}
	}
	if (debug)
		avm_warn("fast paths: %sioeventfd and irqfd for %u virtio device(s)%s",
			 vm->gic_version == 2 ? "" : "in-kernel SGIs, ", vm->nr_virtio,
			 ret ? "" : ", coalesced GIC configuration writes");
}

static void stop_virtio_devices(struct avm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++)
		virtio_stop(vm->virtio[i]);
}

static void destroy_virtio_devices(struct avm *vm)
{
	while (vm->nr_virtio)
		virtio_destroy(vm->virtio[--vm->nr_virtio]);
}

/* Bytes from @fd to the UART's receive FIFO, as long as there are any */
static void *uart_input(void *arg)
{
	struct avm *vm = arg;
	uint8_t buf[64];

	for (;;) {
		ssize_t n = read(vm->uart_in, buf, sizeof(buf));
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

/* All of @buf down @fd; false when its reader is gone */
static bool write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/*
 * A terminal on stdin (raw, term.c): its bytes, the escape taken out,
 * down @vm->term_out to whoever owns the console (the PL011's reader or
 * the virtio console), so Ctrl-A x is seen even when the guest reads
 * nothing (until 64 KiB, a pipe's worth, wait). A window size change
 * goes to the virtio console.
 */
static void *term_input(void *arg)
{
	struct avm *vm = arg;
	int winch = vm->console ? term_winch_fd() : -1;
	uint8_t buf[64], out[sizeof(buf) + 1];
	struct term_esc esc = { 0 };

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = winch, .events = POLLIN },
		};
		unsigned int cols, rows;
		bool quit;
		ssize_t n;

		if (poll(p, winch >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (winch >= 0 && (p[1].revents & POLLIN)) {
			while (read(winch, buf, sizeof(buf)) > 0)
				;
			if (!term_size(STDIN_FILENO, &cols, &rows))
				virtio_console_resize(vm->console, cols, rows);
		}
		if (!p[0].revents)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		n = term_filter(&esc, buf, n, out, &quit);
		if (!write_all(vm->term_out, out, n))
			break;
		if (quit) {
			avm_vm_quit(vm);
			break;
		}
	}
	close(vm->term_out);
	return NULL;
}

/*
 * Who reads stdin: the virtio console if there is one, else the PL011;
 * through term_input() when stdin is a terminal (raw, with the escape).
 * 0, or -1 with a message.
 */
static int start_input(struct avm *vm)
{
	int tty = term_raw(STDIN_FILENO), in = STDIN_FILENO, pipefd[2];
	pthread_t t;

	if (tty < 0)
		return -1;
	if (tty) {
		if (pipe2(pipefd, O_CLOEXEC)) {
			avm_err("pipe: %s", strerror(errno));
			return -1;
		}
		in = pipefd[0];
		vm->term_out = pipefd[1];
		if (pthread_create(&t, NULL, term_input, vm)) {
			avm_err("cannot start the terminal's thread");
			return -1;
		}
		pthread_detach(t);
	}
	if (vm->console) {
		virtio_console_set_input(vm->console, in);
		return 0;
	}
	vm->uart_in = in;
	if (pthread_create(&t, NULL, uart_input, vm)) {
		avm_err("cannot start the console's input thread");
		return -1;
	}
	pthread_detach(t);
	return 0;
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

/* Where the guest's images went, for its DTB and its first vCPU */
struct boot {
	struct avm_kernel k;
	struct avm_layout l;
	uint64_t initrd_len;
};

/*
 * The kernel and the initrd, read straight into guest RAM where the
 * guest will find them (booting.rst). At start and at each reboot.
 */
static int load_images(struct avm *vm, const struct avm_opts *o, struct boot *b)
{
	int64_t initrd_size = 0;
	char err[256];

	if (avm_kernel_load(o->kernel, &vm->mem, &b->k, err, sizeof(err))) {
		avm_err("kernel %s: %s", o->kernel, err);
		return -1;
	}
	if (o->initrd) {
		initrd_size = avm_file_size(o->initrd, err, sizeof(err));
		if (initrd_size < 0) {
			avm_err("initrd %s", err);
			return -1;
		}
		if (!initrd_size) {
			avm_err("initrd %s: empty file", o->initrd);
			return -1;
		}
	}
	if (avm_layout(&b->k, vm->ram_base, vm->ram_size, initrd_size, &b->l, err,
		       sizeof(err))) {
		avm_err("%s", err);
		return -1;
	}
	b->initrd_len = initrd_size;
	/* the file's size may have changed since: no more than its place */
	if (o->initrd &&
	    avm_load_file(o->initrd, vm->ram + (b->l.initrd - vm->ram_base),
			  b->l.dtb - b->l.initrd, &b->initrd_len, err, sizeof(err))) {
		avm_err("initrd %s", err);
		return -1;
	}
	return 0;
}

/*
 * The device tree, avm's or the user's (--dtb), into its slot in RAM, or
 * into the file --dump-dtb names. Fresh seeds each time.
 */
static int load_dtb(struct avm *vm, const struct avm_opts *o, const struct boot *b)
{
	/*
	 * Built in place, in its slot of guest RAM: a buffer of avm's own
	 * would stay resident beside it (libfdt's sequential writer touches
	 * the whole buffer it is given).
	 */
	uint8_t *fdt = vm->ram + (b->l.dtb - vm->ram_base);
	struct avm_fdt_cfg fcfg = {
		.ram_base = vm->ram_base, .ram_size = vm->ram_size,
		.nr_cpus = o->cpus, .mpidr = vm->mpidr, .gic_version = vm->gic_version,
		/* verbatim, as QEMU's -append: Linux finds ttyAMA0 in stdout-path */
		.bootargs = o->params,
		.initrd_start = b->l.initrd, .initrd_size = b->initrd_len,
		.stdout_path = "/pl011@9000000",
		.devs = vm->devs, .nr_devs = vm->nr_devs,
	};
	uint8_t *user = NULL;
	size_t user_len = 0;
	char err[256];
	int ret;

	if (getrandom(fcfg.rng_seed, sizeof(fcfg.rng_seed), 0) != sizeof(fcfg.rng_seed) ||
	    getrandom(&fcfg.kaslr_seed, sizeof(fcfg.kaslr_seed), 0) != sizeof(fcfg.kaslr_seed)) {
		avm_err("getrandom: %s", strerror(errno));
		return -1;
	}
	if (o->dtb) {
		user = avm_read_file(o->dtb, AVM_FDT_MAX_SIZE, &user_len, err, sizeof(err));
		if (!user) {
			avm_err("--dtb %s", err);
			return -1;
		}
		ret = avm_fdt_adopt(fdt, AVM_FDT_MAX_SIZE, user, user_len, &fcfg);
		free(user);
		if (ret) {
			avm_err("--dtb %s: not a usable device tree: %s", o->dtb,
				fdt_strerror(ret));
			return -1;
		}
	} else {
		ret = avm_fdt_build(fdt, AVM_FDT_MAX_SIZE, &fcfg);
		if (ret) {
			avm_err("device tree: %s", fdt_strerror(ret));
			return -1;
		}
	}
	if (o->dump_dtb) {
		if (write_file(o->dump_dtb, fdt, fdt_totalsize(fdt))) {
			avm_err("--dump-dtb %s: %s", o->dump_dtb, strerror(errno));
			return -1;
		}
		return 0;
	}
	return 0;
}

/*
 * PSCI SYSTEM_RESET: the board as at power on (devices reset, the kernel,
 * initrd and DTB loaded again from their files), vCPU 0 at the kernel's
 * entry, the others off. AVM_EXIT_RESET to go on; AVM_EXIT_OFF when the
 * user quit meanwhile; AVM_EXIT_ERROR.
 */
static int reboot(struct avm *vm, const struct avm_opts *o, struct boot *b)
{
	unsigned int i;

	/* what the guest wrote before it asked, then the reset */
	avm_vm_drain(vm);
	/* devices first: no device thread writes guest RAM after this */
	for (i = 0; i < vm->nr_virtio; i++)
		virtio_reset(vm->virtio[i]);
	pl011_reset(vm->uart);
	if (gic_reset(vm->gic) || load_images(vm, o, b) || load_dtb(vm, o, b))
		return AVM_EXIT_ERROR;
	avm_cache_sync(b->k.data, b->k.size);
	if (b->initrd_len)
		avm_cache_sync(vm->ram + (b->l.initrd - vm->ram_base), b->initrd_len);
	avm_cache_sync(vm->ram + (b->l.dtb - vm->ram_base), AVM_FDT_MAX_SIZE);
	if (getenv("AVM_DEBUG"))
		avm_warn("the guest asked for a reset: booting it again");
	return avm_vm_restart(vm) ? AVM_EXIT_OFF : AVM_EXIT_RESET;
}

int main(int argc, char **argv)
{
	static struct avm vm = { .dev_fd = -1, .vm_fd = -1 };
	struct avm_opts o;
	struct boot b;
	unsigned long avail;
	unsigned int i;
	double t0 = now();
	int ret;

	setvbuf(stdout, NULL, _IONBF, 0);
	switch (avm_parse_args(argc, argv, &o)) {
	case AVM_PARSE_RUN:
		break;
	case AVM_PARSE_EXIT:
		return AVM_EXIT_OFF;
	default:
		return AVM_EXIT_ERROR;
	}
	avail = host_mem_available();
	if (!o.dump_dtb && avail && o.mem_mib > avail) {
		avm_err("--mem %lu: the host has only %lu MiB available", o.mem_mib, avail);
		return AVM_EXIT_ERROR;
	}

	/* Everything the user gave is checked before anything runs. */
	if (avm_ram_alloc(&vm, (uint64_t)o.mem_mib << 20) || load_images(&vm, &o, &b))
		return AVM_EXIT_ERROR;
	/* What the host can do: the module's vCPU limit and address space */
	if (!o.dump_dtb && avm_vm_open(&vm, o.cpus, vm.ram_size))
		return AVM_EXIT_ERROR;
	if (o.cpus > AVM_MAX_CPUS) {
		avm_err("--cpus %lu: avm supports at most %d vCPUs", o.cpus, AVM_MAX_CPUS);
		return AVM_EXIT_ERROR;
	}
	if (pick_gic(&vm, &o))
		return AVM_EXIT_ERROR;

	/* The board: its devices, then its device tree. */
	vm.nr_cpus = o.cpus;
	for (i = 0; i < o.cpus; i++)
		vm.mpidr[i] = avm_mpidr(i);
	if (vm.gic_version == 2)
		vm.gic = gic_create_v2(o.cpus, vm.mpidr, AVM_NR_IRQS, &avm_vcpu_irq_ops, &vm);
	else
		vm.gic = gic_create(o.cpus, vm.mpidr, AVM_NR_IRQS, &avm_vcpu_irq_ops, &vm);
	vm.uart = pl011_create(STDOUT_FILENO, uart_irq, &vm);
	if (!vm.gic || !vm.uart || avm_add_device(&vm, gic_dist_dev(vm.gic)) ||
	    (gic_redist_dev(vm.gic) && avm_add_device(&vm, gic_redist_dev(vm.gic))) ||
	    avm_add_device(&vm, pl011_dev(vm.uart))) {
		avm_err("cannot create the devices");
		return AVM_EXIT_ERROR;
	}
	if (add_virtio_devices(&vm, &o) || load_dtb(&vm, &o, &b))
		return AVM_EXIT_ERROR;
	if (o.dump_dtb)
		return AVM_EXIT_OFF;

	/* The VM: avcpu's side of it, on the RAM loaded above. */
	vm.nr_cpus = 0;
	if (avm_vm_create(&vm, o.cpus))
		return AVM_EXIT_ERROR;
	if (gic_reset(vm.gic))
		return AVM_EXIT_ERROR;
	use_fast_paths(&vm, &o);

	for (i = 0; i < vm.nr_virtio; i++) {
		if (virtio_start(vm.virtio[i])) {
			avm_err("%s: cannot start its I/O thread", vm.virtio[i]->name);
			return AVM_EXIT_ERROR;
		}
	}
	if (start_input(&vm))
		return AVM_EXIT_ERROR;
	if (getenv("AVM_DEBUG"))
		avm_warn("%s%s at 0x%llx, initrd 0x%llx (%llu bytes), dtb 0x%llx, %lu vCPUs, %lu MiB",
			 b.k.format == AVM_KERNEL_IMAGE ? "Image" : "raw binary",
			 b.k.gzip ? " (gzip)" : "", (unsigned long long)b.l.kernel,
			 (unsigned long long)b.l.initrd, (unsigned long long)b.initrd_len,
			 (unsigned long long)b.l.dtb, o.cpus, o.mem_mib);
	for (;;) {
		if (avm_vm_start(&vm, b.l.kernel, b.l.dtb)) {
			avm_vm_wait(&vm);
			return AVM_EXIT_ERROR;
		}
		ret = avm_vm_wait(&vm);
		if (ret != AVM_EXIT_RESET || o.no_reboot)
			break;
		ret = reboot(&vm, &o, &b);
		if (ret != AVM_EXIT_RESET)
			break;
	}
	avm_vm_drain(&vm);
	if (getenv("AVM_DEBUG")) {
		avm_warn("guest ended with status %d", ret);
		avm_vm_print_stats(&vm, now() - t0);
	}
	stop_virtio_devices(&vm);
	pl011_close_input(vm.uart);
	destroy_virtio_devices(&vm);
	avm_vm_destroy(&vm);
	return ret;
}
