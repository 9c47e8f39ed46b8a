// SPDX-License-Identifier: GPL-2.0
/*
 * avm, the VMM, end to end on this host: it boots Debian's arm64 kernel
 * (raw and gzip'd Image) with an initramfs to userspace on 2 vCPUs and
 * powers it off, also with its root file system on a virtio disk and a
 * virtio network card on a tap that carries pings both ways; it refuses
 * every bad input with one line before a guest runs; and small raw-binary
 * guests check PSCI CPU_ON races, unclaimed MMIO and the documented exit
 * codes (Documentation/vmm.rst).
 *
 * The rig puts avm at /bin/avm and the guest's kernel, initramfs and root
 * disk image in /lib/avcpu/guest (scripts/rig.py); AVM_BIN and
 * AVM_GUEST_DIR override.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

#define BOOT_TIMEOUT_S	300
#define QUICK_TIMEOUT_S	60
#define OUT_MAX		(1 << 20)

/*
 * Raw-binary guests, entered at the RAM base with the MMU off; only
 * PC-relative references, so they run wherever they are copied. x4 holds
 * the PL011 data register. PSCI function IDs: Arm DEN 0022.
 */
asm(
"	.pushsection .rodata.avm_guests, \"a\"\n"
"	.balign 4\n"
"	.macro	avm_putc c\n"
"	mov	w5, #\\c\n"
"	strb	w5, [x4]\n"
"	.endm\n"
"	.macro	avm_psci fn\n"
"	movz	w0, #(\\fn & 0xffff)\n"
"	movk	w0, #(\\fn >> 16), lsl #16\n"
"	.endm\n"
/* A write and a read where no device is: expect "RAZ". */
"	.globl	mmio_guest_start, mmio_guest_end\n"
"mmio_guest_start:\n"
"	mov	x4, #0x09000000\n"
"	mov	x1, #0x0a000000\n"
"	mov	w2, #0x1234\n"
"	str	w2, [x1]\n"
"	mov	w3, #0x5555\n"
"	ldr	w3, [x1]\n"
"	cbnz	w3, 1f\n"
"	avm_putc 'R'\n"
"	avm_putc 'A'\n"
"	avm_putc 'Z'\n"
"	b	2f\n"
"1:	avm_putc 'B'\n"
"	avm_putc 'A'\n"
"	avm_putc 'D'\n"
"2:	avm_putc '\\n'\n"
"	avm_psci 0x84000008\n"		/* SYSTEM_OFF */
"	hvc	#0\n"
"	b	.\n"
"mmio_guest_end:\n"
/* SYSTEM_RESET: avm's exit status 2 with --no-reboot */
"	.globl	reset_guest_start, reset_guest_end\n"
"reset_guest_start:\n"
"	mov	x4, #0x09000000\n"
"	avm_putc 'R'\n"
"	avm_psci 0x84000009\n"		/* SYSTEM_RESET */
"	hvc	#0\n"
"	b	.\n"
"reset_guest_end:\n"
/*
 * A store pair where no device is: no syndrome to emulate it with, so the
 * guest cannot go on, status 3 (Documentation/vmm.rst)
 */
"	.globl	crash_guest_start, crash_guest_end\n"
"crash_guest_start:\n"
"	mov	x1, #0x0a000000\n"
"	stp	x1, x1, [x1]\n"
"	b	.\n"
"crash_guest_end:\n"
/*
 * Three vCPUs. vCPU 0 starts vCPU 1; then both race to start vCPU 2 and
 * print S (success) or A (ALREADY_ON); vCPU 2 prints T, sets a flag in
 * RAM and stays on, in WFI. vCPU 1 turns off with CPU_OFF; vCPU 0 waits
 * for AFFINITY_INFO to say so and for the flag, and powers off (which
 * must stop vCPU 2 in its WFI).
 * Every vCPU enters at the start: registers are zero after CPU_ON.
 */
"	.globl	cpu_on_guest_start, cpu_on_guest_end\n"
"cpu_on_guest_start:\n"
"	mov	x4, #0x09000000\n"
"	mrs	x9, mpidr_el1\n"
"	and	x9, x9, #0xff\n"
"	cbnz	x9, 1f\n"
"	avm_psci 0xc4000003\n"		/* CPU_ON64 */
"	mov	x1, #1\n"
"	adr	x2, cpu_on_guest_start\n"
"	mov	x3, #0\n"
"	hvc	#0\n"
"	cbnz	x0, 9f\n"
"	b	2f\n"
"1:	cmp	x9, #2\n"
"	b.eq	3f\n"
"2:	avm_psci 0xc4000003\n"
"	mov	x1, #2\n"
"	adr	x2, cpu_on_guest_start\n"
"	mov	x3, #0\n"
"	hvc	#0\n"
"	mov	w5, #'S'\n"
"	cbz	x0, 4f\n"
"	mov	w5, #'A'\n"
"	cmn	x0, #4\n"
"	b.eq	4f\n"
"	mov	w5, #'X'\n"
"4:	strb	w5, [x4]\n"
"	cbz	x9, 5f\n"
"	b	6f\n"
"3:	avm_putc 'T'\n"
"	mov	x11, #0x40100000\n"
"	mov	w12, #1\n"
"	str	w12, [x11]\n"
"11:	wfi\n"
"	b	11b\n"
"6:	avm_psci 0x84000002\n"		/* CPU_OFF */
"	hvc	#0\n"
"	b	.\n"
"5:	avm_psci 0xc4000004\n"		/* AFFINITY_INFO64 */
"	mov	x1, #1\n"
"	mov	x2, #0\n"
"	hvc	#0\n"
"	cmp	x0, #1\n"			/* OFF */
"	b.ne	5b\n"
"	mov	x11, #0x40100000\n"
"10:	ldr	w12, [x11]\n"
"	cbz	w12, 10b\n"
"	avm_putc '\\n'\n"
"	b	8f\n"
"9:	avm_putc 'F'\n"
"8:	avm_psci 0x84000008\n"
"	hvc	#0\n"
"	b	.\n"
"cpu_on_guest_end:\n"
"	.popsection\n");

extern const uint8_t mmio_guest_start[], mmio_guest_end[];
extern const uint8_t reset_guest_start[], reset_guest_end[];
extern const uint8_t crash_guest_start[], crash_guest_end[];
extern const uint8_t cpu_on_guest_start[], cpu_on_guest_end[];

/* What a guest kernel must never print (as scripts/rig.py's BAD) */
static const char *const guest_bad[] = {
	"WARNING:", "BUG:", "Oops", "Call trace", "Kernel panic",
	"KASAN", "lockdep", "soft lockup", "self-detected stall",
	"GIC: PPI", "RWP timeout", "failed to come online", "failed to boot",
};

struct avm_result {
	int status;		/* exit status, or -signal, or -1000 timeout */
	char *out;		/* stdout (the guest's console) */
	char *err;		/* stderr */
	size_t out_len;
	size_t err_len;
	double marker_s;	/* seconds from start to @marker on stdout, or -1 */
	double total_s;
};

static const char *avm_bin(void)
{
	return getenv("AVM_BIN") ?: "/bin/avm";
}

static const char *guest_file(const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s",
		 getenv("AVM_GUEST_DIR") ?: "/lib/avcpu/guest", name);
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	if (*len + n > OUT_MAX)
		n = OUT_MAX - *len;
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
}

/*
 * Run avm with @argv (NULL-terminated, without argv[0]); stdin is
 * /dev/null, or a pipe that gets @input once @marker is on the console
 * (after @at_marker(@arg) ran, if given). With @echo, each console line is
 * also printed as a TAP comment, so the guest's log lands in the serial
 * log the rig scans.
 */
static void run_avm_input(const char *const *argv, int timeout_s,
			  const char *marker, bool echo, const char *input,
			  void (*at_marker)(void *arg), void *arg,
			  struct avm_result *r)
{
	int out[2], err[2], in[2] = { -1, -1 }, n = 0, status;
	const char *args[32];
	double t0 = now_s();
	size_t echoed = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->marker_s = -1;
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	args[n++] = avm_bin();
	while (*argv && n < 31)
		args[n++] = *argv++;
	args[n] = NULL;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    (input && pipe2(in, O_CLOEXEC))) {
		r->status = -2000;
		return;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(input ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	if (input)
		close(in[0]);
	for (;;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		double left = timeout_s - (now_s() - t0);
		char buf[4096];
		int open_fds = 0, i;

		for (i = 0; i < 2; i++)
			if (p[i].fd >= 0)
				open_fds++;
		if (!open_fds)
			break;
		if (left <= 0) {
			kill(pid, SIGKILL);
			r->status = -1000;
			break;
		}
		if (poll(p, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t len;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			len = read(p[i].fd, buf, sizeof(buf));
			if (len <= 0) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				continue;
			}
			if (i == 0) {
				append(&r->out, &r->out_len, buf, len);
				if (marker && r->marker_s < 0 && strstr(r->out, marker)) {
					r->marker_s = now_s() - t0;
					if (at_marker)
						at_marker(arg);
					/* the guest is ready for its input now */
					if (in[1] >= 0) {
						if (write(in[1], input, strlen(input)) < 0)
							r->status = -3000;
						close(in[1]);
						in[1] = -1;
					}
				}
			} else {
				append(&r->err, &r->err_len, buf, len);
			}
		}
		while (echo) {
			char *nl = memchr(r->out + echoed, '\n', r->out_len - echoed);

			if (!nl)
				break;
			printf("#   | %.*s\n", (int)(nl - r->out - echoed), r->out + echoed);
			echoed = nl - r->out + 1;
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	waitpid(pid, &status, 0);
	r->total_s = now_s() - t0;
	if (r->status == -1000 || r->status == -3000)
		return;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static void run_avm(const char *const *argv, int timeout_s, const char *marker,
		    bool echo, struct avm_result *r)
{
	run_avm_input(argv, timeout_s, marker, echo, NULL, NULL, NULL, r);
}

static void free_result(struct avm_result *r)
{
	free(r->out);
	free(r->err);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		if (*s == c)
			n++;
	return n;
}

static int write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The first @len bytes of @src into @dst */
static int copy_prefix(const char *src, const char *dst, size_t len)
{
	char *buf = malloc(len);
	int fd = open(src, O_RDONLY), ret = -1;

	if (buf && fd >= 0 && read(fd, buf, len) == (ssize_t)len)
		ret = write_bytes(dst, buf, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static bool guest_files_present(void)
{
	return !access(avm_bin(), X_OK) && !access(guest_file("Image"), R_OK) &&
	       !access(guest_file("initrd.cpio.gz"), R_OK);
}

#define REQUIRE_GUEST_FILES() do {					\
	if (!guest_files_present())					\
		SKIP(return, "avm or the guest's kernel/initramfs is not installed here"); \
} while (0)

/* A Linux boot: init reached, the CPUs online, clean power off. */
static void check_linux_boot(struct __test_metadata *_metadata,
			     const char *kernel, const char *cpus,
			     const char *online)
{
	const char *argv[] = {
		"run", "--kernel", kernel, "--initrd", guest_file("initrd.cpio.gz"),
		"--cpus", cpus, "--mem", "256",
		/* a panic (panic=-1) fails at once instead of booting again */
		"--params", "console=ttyAMA0 panic=-1", "--no-reboot", NULL,
	};
	struct avm_result r;
	char want[64];
	unsigned int i;

	run_avm(argv, BOOT_TIMEOUT_S, "avm-guest: init reached", true, &r);
	if (r.err_len)
		printf("# avm's stderr: %s", r.err);
	EXPECT_EQ(r.status, 0);
	ASSERT_GE(r.marker_s, 0) TH_LOG("the guest never reached its init");
	/* the guest's tty turns "\n" into "\r\n" */
	snprintf(want, sizeof(want), "avm-guest: cpus online %s\r\n", online);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("want 'cpus online %s'", online);
	EXPECT_NE(NULL, strstr(r.out, "reboot: Power down"));
	for (i = 0; i < sizeof(guest_bad) / sizeof(guest_bad[0]); i++)
		EXPECT_EQ(NULL, strstr(r.out, guest_bad[i]))
			TH_LOG("the guest printed '%s'", guest_bad[i]);
	printf("# avm start to the guest's init: %.3f s; to its power off: %.3f s (%s vCPUs)\n",
	       r.marker_s, r.total_s, cpus);
	free_result(&r);
}

/* Linux boots take longer than the harness's default 30 s under load */
FIXTURE(avm) {};
FIXTURE_SETUP(avm) {}
FIXTURE_TEARDOWN(avm) {}

TEST_F_TIMEOUT(avm, linux_boot_2_vcpus, BOOT_TIMEOUT_S + 30)
{
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	check_linux_boot(_metadata, guest_file("Image"), "2", "0-1");
}

TEST_F_TIMEOUT(avm, linux_boot_gzip_image, BOOT_TIMEOUT_S + 30)
{
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	if (access(guest_file("Image.gz"), R_OK))
		SKIP(return, "no gzip'd Image here");
	check_linux_boot(_metadata, guest_file("Image.gz"), "1", "0");
}

/*
 * The newer of the kernels people run, Debian's 6.12, as a guest too: the
 * rig installs it as Image-6.12 on every lane, so there its absence fails.
 */
TEST_F_TIMEOUT(avm, linux_boot_6_12_guest, BOOT_TIMEOUT_S + 30)
{
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	if (access(guest_file("Image-6.12"), R_OK)) {
		ASSERT_EQ(NULL, getenv("AVCPU_LANE"))
			TH_LOG("the rig installs Image-6.12 on every lane");
		SKIP(return, "no Image-6.12 guest kernel here");
	}
	check_linux_boot(_metadata, guest_file("Image-6.12"), "2", "0-1");
}

/*
 * avm's virtio devices under a real Linux guest (the guest kernel's
 * virtio_mmio, virtio_blk, virtio-rng and virtio_console drivers, loaded
 * by scripts/avm-guest-init.sh with avm_devices=1): a disk the test wrote,
 * written back by the guest; a read-only disk the guest cannot write; the
 * entropy device; a line on hvc0.
 */
#define DISK_SECTORS	2048		/* 1 MiB */

static int make_disk(const char *path, const char *sector0)
{
	char buf[512] = { 0 };
	int fd, i, ok = 1;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (i = 0; i < DISK_SECTORS && ok; i++) {
		memset(buf, 0, sizeof(buf));
		if (i == 0)
			memcpy(buf, sector0, strlen(sector0));
		ok = write(fd, buf, sizeof(buf)) == sizeof(buf);
	}
	close(fd);
	return ok ? 0 : -1;
}

static int read_sector(const char *path, int n, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, buf, 512, (off_t)n * 512) == 512;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A module with the fast paths (AVCPU_CAP_F_FAST_PATHS): the guest's
 * virtio doorbells rang ioeventfds, the devices' interrupts came through
 * irqfds and its IPIs stayed in the kernel; avm took no SEND_IPI exit.
 */
static void check_fast_paths(struct __test_metadata *_metadata,
			     const struct avm_result *r)
{
	unsigned long long ioev = 0, irqfd = 0, sgis = 0;
	struct avcpu_caps caps;
	const char *k;
	int fd;

	fd = open("/dev/avcpu", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, AVCPU_GET_CAPS, &caps));
	close(fd);
	if (!(caps.flags & AVCPU_CAP_F_FAST_PATHS)) {
		printf("# no fast paths in this module: not checked\n");
		return;
	}
	k = strstr(r->err, "avm: kernel: ");
	ASSERT_NE(NULL, k) TH_LOG("no kernel counters in avm's stderr");
	k = strstr(k, "ioeventfd");
	ASSERT_NE(NULL, k);
	/* "..., N ioeventfd signals, N irqfd injections, N in-kernel SGIs" */
	while (k > r->err && k[-1] != ',')
		k--;
	ASSERT_EQ(3, sscanf(k, " %llu ioeventfd signals, %llu irqfd injections, %llu in-kernel SGIs",
			    &ioev, &irqfd, &sgis));
	printf("# fast paths: %llu ioeventfd signals, %llu irqfd injections, %llu in-kernel SGIs\n",
	       ioev, irqfd, sgis);
	EXPECT_LT(0, ioev);
	EXPECT_LT(0, irqfd);
	EXPECT_LT(0, sgis);
	EXPECT_EQ(NULL, strstr(r->err, "send-ipi")) TH_LOG("SEND_IPI exits with KERNEL_SGI on");
}

TEST_F_TIMEOUT(avm, linux_virtio_devices, BOOT_TIMEOUT_S + 30)
{
	const char *rw = "/tmp/avm-disk-rw.img", *ro = "/tmp/avm-disk-ro.img";
	char disk_rw[64], disk_ro[64], sector[512], want[80];
	struct avm_result r;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	ASSERT_EQ(0, make_disk(rw, "HOST-WROTE-SECTOR0!"));
	ASSERT_EQ(0, make_disk(ro, "READ-ONLY-SECTOR0!!"));
	snprintf(disk_rw, sizeof(disk_rw), "%s", rw);
	snprintf(disk_ro, sizeof(disk_ro), "%s,ro", ro);
	{
		const char *argv[] = {
			"run", "--kernel", guest_file("Image"),
			"--initrd", guest_file("initrd.cpio.gz"),
			"--cpus", "2", "--mem", "256",
			"--disk", disk_rw, "--disk", disk_ro, "--rng",
			"--console", "virtio",
			"--params", "console=ttyAMA0 panic=-1 avm_devices=1",
			"--no-reboot", NULL,
		};

		/* avm's counters and the kernel's, on stderr (vmm.rst) */
		setenv("AVM_DEBUG", "1", 1);
		run_avm(argv, BOOT_TIMEOUT_S, "avm-guest: powering off", true, &r);
		unsetenv("AVM_DEBUG");
	}
	if (r.err_len)
		printf("# avm's stderr: %s", r.err);
	EXPECT_EQ(0, r.status);
	static const char *const lines[] = {
		"avm-guest: vda sector0 HOST-WROTE-SECTOR0",
		"avm-guest: vda sectors 2048",
		"avm-guest: vda written",
		"avm-guest: vdb refused the write",
		"avm-guest: vdb ro 1",
		"avm-guest: rng virtio_rng.0",
		"avm-guest: hello on hvc0",
	};

	EXPECT_EQ(NULL, strstr(r.out, "avm-guest: no /dev/"));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		EXPECT_NE(NULL, strstr(r.out, lines[i])) TH_LOG("no '%s'", lines[i]);
	/* 16 random bytes, as 32 hex digits, not all zero */
	snprintf(want, sizeof(want), "avm-guest: rng bytes ");
	{
		const char *p = strstr(r.out, want);

		ASSERT_NE(NULL, p);
		p += strlen(want);
		EXPECT_EQ(32, strspn(p, "0123456789abcdef"));
		EXPECT_NE(0, strncmp(p, "00000000000000000000000000000000", 32));
	}
	for (i = 0; i < sizeof(guest_bad) / sizeof(guest_bad[0]); i++)
		EXPECT_EQ(NULL, strstr(r.out, guest_bad[i]))
			TH_LOG("the guest printed '%s'", guest_bad[i]);
	/* what the guest wrote is in the file; the read-only one is untouched */
	ASSERT_EQ(0, read_sector(rw, 1, sector));
	EXPECT_EQ(0, memcmp(sector, "GUEST-WROTE-SECTOR1", 19));
	ASSERT_EQ(0, read_sector(ro, 1, sector));
	EXPECT_EQ(0, sector[0]);
	check_fast_paths(_metadata, &r);
	free_result(&r);
	unlink(rw);
	unlink(ro);
}

/*
 * The guest as make run boots it: its root file system on the ext4 image
 * the rig builds (root.ext4, given read-only as vda; the initramfs loads
 * the virtio and ext4 modules, mounts it and switch_roots to it, with
 * avm_root=/dev/vda), and a virtio network card on a tap in this host
 * whose address is 169.254.0.1. The guest (scripts/avm-guest-init.sh)
 * configures eth0 as 169.254.0.2, pings this host, then waits on its
 * console while this host pings it, and says how many echo replies it
 * sent.
 *
 * One boot serves linux_virtio_root and linux_virtio_net, each asserting
 * its own part: the first leaves the result in a file for the second,
 * keyed by the pid of the harness's main process (each test runs in a
 * process of its own, a fixture's in a grandchild); run alone,
 * linux_virtio_net boots by itself.
 */
#define TAP_NAME	"avmtest0"
#define HOST_IP		"169.254.0.1"
#define GUEST_IP	"169.254.0.2"
#define PINGS		3
#define PINGBACK_MARK	"avm-guest: waiting for the host's ping"

struct root_net {
	struct avm_result r;
	char tap_why[160];	/* why the guest has no network, or "" */
	int host_replies;	/* echo replies this host got from the guest */
};

/* The tap @name, made (IFF_PERSIST) or deleted as avm opens it */
static int tap_persist(const char *name, int on, char *why, size_t len)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "no tap: /dev/net/tun: %s (the tun module?)",
			 strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, on)) {
		snprintf(why, len, "cannot make the tap %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int set_addr(int s, struct ifreq *ifr, unsigned long req, const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	memcpy(&ifr->ifr_addr, &sin, sizeof(sin));
	return ioctl(s, req, ifr);
}

/*
 * A tap with this host's address, up, before avm attaches to it: the
 * address is there before the guest can send anything.
 */
static int tap_create(const char *name, char *why, size_t len)
{
	struct ifreq ifr = { 0 };
	int s;

	if (tap_persist(name, 1, why, len))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s < 0 || set_addr(s, &ifr, SIOCSIFADDR, HOST_IP) ||
	    set_addr(s, &ifr, SIOCSIFNETMASK, "255.255.0.0") ||
	    ioctl(s, SIOCGIFFLAGS, &ifr)) {
		snprintf(why, len, "cannot configure the tap %s: %s", name, strerror(errno));
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr)) {
		snprintf(why, len, "cannot bring the tap %s up: %s", name, strerror(errno));
		goto fail;
	}
	close(s);
	return 0;
fail:
	if (s >= 0)
		close(s);
	tap_persist(name, 0, (char[160]){ 0 }, 160);
	return -1;
}

static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/*
 * Ping @ip @count times from this host (a raw ICMP socket), one echo
 * request at a time, each given 5 s for its reply. Returns the replies.
 */
static int host_ping(const char *ip, int count)
{
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint16_t id = getpid() & 0xffff;
	int seq, got = 0;

	if (s < 0) {
		printf("# host ping: socket: %s\n", strerror(errno));
		return 0;
	}
	inet_pton(AF_INET, ip, &to.sin_addr);
	for (seq = 1; seq <= count; seq++) {
		struct {
			struct icmphdr h;
			char data[56];
		} req = { 0 };
		double end = now_s() + 5;

		req.h.type = ICMP_ECHO;
		req.h.un.echo.id = htons(id);
		req.h.un.echo.sequence = htons(seq);
		snprintf(req.data, sizeof(req.data), "avm_test ping %d", seq);
		req.h.checksum = inet_csum(&req, sizeof(req));
		if (sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&to,
			   sizeof(to)) != sizeof(req)) {
			printf("# host ping: sendto: %s\n", strerror(errno));
			continue;
		}
		while (now_s() < end) {
			struct pollfd pfd = { s, POLLIN, 0 };
			struct sockaddr_in from;
			socklen_t fromlen = sizeof(from);
			const struct icmphdr *h;
			const struct iphdr *iph;
			uint8_t buf[1500];
			ssize_t n;

			if (poll(&pfd, 1, (int)((end - now_s()) * 1000) + 1) <= 0)
				break;
			n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from,
				     &fromlen);
			iph = (const void *)buf;
			if (n < (ssize_t)sizeof(*iph) ||
			    n < (ssize_t)(iph->ihl * 4 + sizeof(*h)))
				continue;
			h = (const void *)(buf + iph->ihl * 4);
			if (from.sin_addr.s_addr == to.sin_addr.s_addr &&
			    h->type == ICMP_ECHOREPLY && h->un.echo.id == htons(id) &&
			    ntohs(h->un.echo.sequence) == seq) {
				got++;
				break;
			}
		}
	}
	close(s);
	printf("# host ping %s: %d of %d answered\n", ip, got, count);
	return got;
}

/* When the guest waits for it: this host pings the guest */
static void ping_guest(void *arg)
{
	struct root_net *rn = arg;

	rn->host_replies = host_ping(GUEST_IP, PINGS);
}

static void root_net_run(struct root_net *rn)
{
	bool net;

	memset(rn, 0, sizeof(*rn));
	net = !tap_create(TAP_NAME, rn->tap_why, sizeof(rn->tap_why));
	{
		const char *argv[] = {
			"run", "--kernel", guest_file("Image"),
			"--initrd", guest_file("initrd.cpio.gz"),
			"--cpus", "2", "--mem", "256",
			"--disk", "", "--net", "tap=" TAP_NAME,
			/*
			 * loglevel=5: the kernel's warnings and worse, not its
			 * boot chatter (the console is most of a boot's exits)
			 */
			"--params", "console=ttyAMA0 panic=-1 loglevel=5 avm_root=/dev/vda "
			"avm_ip=" GUEST_IP "/16 avm_ping=" HOST_IP " avm_pingback=1",
			"--no-reboot", NULL,
		};
		char disk[300];

		snprintf(disk, sizeof(disk), "%s,ro", guest_file("root.ext4"));
		argv[10] = disk;
		if (!net) {
			/* no network: drop --net and the guest's network part */
			argv[11] = "--params";
			argv[12] = "console=ttyAMA0 panic=-1 loglevel=5 avm_root=/dev/vda";
			argv[13] = "--no-reboot";
			argv[14] = NULL;
			printf("# %s: the guest boots without a network\n", rn->tap_why);
		}
		run_avm_input(argv, BOOT_TIMEOUT_S, net ? PINGBACK_MARK : NULL, true,
			      net ? "pinged\n" : NULL, ping_guest, rn, &rn->r);
	}
	if (net)
		tap_persist(TAP_NAME, 0, (char[160]){ 0 }, 160);
	if (rn->r.err_len)
		printf("# avm's stderr: %s", rn->r.err);
	printf("# root disk and network boot: %.3f s to the power off\n", rn->r.total_s);
}

static pid_t harness_pid;

static void __attribute__((constructor)) note_harness_pid(void)
{
	harness_pid = getpid();
}

static void root_net_path(char *path, size_t len)
{
	snprintf(path, len, "/tmp/avm-root-net.%d", (int)harness_pid);
}

/* The boot's result for the other test: status, replies, why, console */
static void root_net_save(const struct root_net *rn)
{
	char path[64];
	FILE *f;

	root_net_path(path, sizeof(path));
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "%d %d\nwhy:%s\n", rn->r.status, rn->host_replies, rn->tap_why);
	fwrite(rn->r.out, 1, rn->r.out_len, f);
	fclose(f);
}

static bool root_net_load(struct root_net *rn)
{
	char path[64], line[sizeof(rn->tap_why) + 4];
	bool ok = false;
	size_t n;
	FILE *f;

	root_net_path(path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return false;
	memset(rn, 0, sizeof(*rn));
	rn->r.out = calloc(1, 1);
	rn->r.err = calloc(1, 1);
	if (fgets(line, sizeof(line), f) &&
	    sscanf(line, "%d %d", &rn->r.status, &rn->host_replies) == 2 &&
	    fgets(line, sizeof(line), f) && !strncmp(line, "why:", 4)) {
		char buf[4096];

		line[strcspn(line, "\n")] = 0;
		snprintf(rn->tap_why, sizeof(rn->tap_why), "%s", line + 4);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			append(&rn->r.out, &rn->r.out_len, buf, n);
		ok = true;
		printf("# the guest's console is above, in linux_virtio_root\n");
	}
	fclose(f);
	unlink(path);
	if (!ok)
		free_result(&rn->r);
	return ok;
}

#define REQUIRE_ROOT_IMAGE() do {					\
	REQUIRE_GUEST_FILES();						\
	if (access(guest_file("root.ext4"), R_OK)) {			\
		ASSERT_EQ(NULL, getenv("AVCPU_LANE"))			\
			TH_LOG("the rig installs root.ext4 on every lane"); \
		SKIP(return, "no root.ext4 guest root disk here");	\
	}								\
} while (0)

/* The number after @prefix in @out (e.g. "... (N/3)"), or -1 */
static int number_after(const char *out, const char *prefix, const char *fmt)
{
	const char *p = strstr(out, prefix);
	int n = -1;

	if (p && sscanf(p + strlen(prefix), fmt, &n) != 1)
		n = -1;
	return n;
}

TEST_F_TIMEOUT(avm, linux_virtio_root, BOOT_TIMEOUT_S + 60)
{
	struct root_net rn;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_ROOT_IMAGE();
	root_net_run(&rn);
	root_net_save(&rn);
	EXPECT_EQ(0, rn.r.status);
	EXPECT_NE(NULL, strstr(rn.r.out, "avm-guest: switching to the root on /dev/vda"));
	/* what /proc/mounts says of "/" once init runs from the disk */
	EXPECT_NE(NULL, strstr(rn.r.out, "avm-guest: root /dev/vda ext4 ro,"))
		TH_LOG("the guest's root is not the virtio disk");
	EXPECT_EQ(NULL, strstr(rn.r.out, "avm-guest: cannot"));
	EXPECT_NE(NULL, strstr(rn.r.out, "avm-guest: cpus online 0-1\r\n"));
	EXPECT_NE(NULL, strstr(rn.r.out, "reboot: Power down"));
	for (i = 0; i < sizeof(guest_bad) / sizeof(guest_bad[0]); i++)
		EXPECT_EQ(NULL, strstr(rn.r.out, guest_bad[i]))
			TH_LOG("the guest printed '%s'", guest_bad[i]);
	free_result(&rn.r);
}

TEST_F_TIMEOUT(avm, linux_virtio_net, BOOT_TIMEOUT_S + 60)
{
	struct root_net rn;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_ROOT_IMAGE();
	if (!root_net_load(&rn))
		root_net_run(&rn);
	if (rn.tap_why[0]) {
		free_result(&rn.r);
		SKIP(return, "%s", rn.tap_why);
	}
	EXPECT_EQ(0, rn.r.status);
	EXPECT_NE(NULL, strstr(rn.r.out, "avm-guest: eth0 " GUEST_IP "/16 up"));
	/* the guest pinged this host: PINGS echo requests, all answered */
	EXPECT_EQ(PINGS, number_after(rn.r.out, "avm-guest: ping " HOST_IP " ",
				      "%*s (%d/"))
		TH_LOG("the guest's pings of this host were not all answered");
	/* this host pinged the guest; the guest counted the replies it sent */
	EXPECT_EQ(PINGS, rn.host_replies)
		TH_LOG("this host's pings of the guest were not all answered");
	EXPECT_EQ(PINGS, number_after(rn.r.out, "avm-guest: echo replies sent ", "%d"));
	free_result(&rn.r);
}

/* The console's input path: the PL011's receive FIFO and interrupt. */
TEST_F_TIMEOUT(avm, linux_console_input, BOOT_TIMEOUT_S + 30)
{
	const char *argv[] = {
		"run", "--kernel", guest_file("Image"),
		"--initrd", guest_file("initrd.cpio.gz"), "--cpus", "2",
		"--params", "console=ttyAMA0 panic=-1 quiet avm_echo=1", "--no-reboot", NULL,
	};
	struct avm_result r;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	run_avm_input(argv, BOOT_TIMEOUT_S, "avm-guest: waiting for a line", false,
		      "hello from the host\n", NULL, NULL, &r);
	EXPECT_EQ(r.status, 0) TH_LOG("stderr: %s", r.err);
	ASSERT_GE(r.marker_s, 0) TH_LOG("the guest never asked for input");
	EXPECT_NE(NULL, strstr(r.out, "avm-guest: read 'hello from the host'"))
		TH_LOG("console: %s", r.out);
	free_result(&r);
}

/* A raw guest's bytes in a file; returns its path. */
static const char *raw_guest(const char *name, const uint8_t *start,
			     const uint8_t *end)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/avm-%s.bin", name);
	return write_bytes(path, start, end - start) ? NULL : path;
}

TEST(unclaimed_mmio_reads_zero)
{
	const char *bin;
	struct avm_result r;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("mmio", mmio_guest_start, mmio_guest_end);
	ASSERT_NE(NULL, bin);
	{
		const char *argv[] = { "run", "--kernel", bin, NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 0);
	EXPECT_STREQ(r.out, "RAZ\n");
	/* both accesses reported, once each */
	EXPECT_NE(NULL, strstr(r.err, "4-byte write of 0xa000000: no device there"))
		TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "4-byte read of 0xa000000: no device there"))
		TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(count_lines(r.err), 2);
	free_result(&r);
	unlink(bin);
}

/* --dump-dtb's tree, given back with --dtb, boots the same guest. */
TEST(dtb_round_trip)
{
	const char *dtb = "/tmp/avm-round-trip.dtb", *bin;
	struct avm_result r;
	struct stat st;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("dtb", mmio_guest_start, mmio_guest_end);
	ASSERT_NE(NULL, bin);
	{
		const char *argv[] = { "run", "--kernel", bin, "--cpus", "2",
				       "--dump-dtb", dtb, NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.out_len, 0);	/* nothing ran */
	free_result(&r);
	ASSERT_EQ(0, stat(dtb, &st));
	EXPECT_GT(st.st_size, 512);
	{
		const char *argv[] = { "run", "--kernel", bin, "--cpus", "2",
				       "--dtb", dtb, NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 0) TH_LOG("stderr: %s", r.err);
	EXPECT_STREQ(r.out, "RAZ\n");
	free_result(&r);
	unlink(dtb);
	unlink(bin);
}

TEST(system_reset_exit_status)
{
	const char *bin;
	struct avm_result r;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("reset", reset_guest_start, reset_guest_end);
	ASSERT_NE(NULL, bin);
	{
		/* without --no-reboot avm would boot the guest again */
		const char *argv[] = { "run", "--kernel", bin, "--cpus", "2",
				       "--no-reboot", NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 2);
	EXPECT_STREQ(r.out, "R");
	free_result(&r);
	unlink(bin);
}

TEST(guest_crash_exit_status)
{
	const char *bin;
	struct avm_result r;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("crash", crash_guest_start, crash_guest_end);
	ASSERT_NE(NULL, bin);
	{
		const char *argv[] = { "run", "--kernel", bin, NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 3);
	EXPECT_NE(NULL, strstr(r.err, "0xa000000")) TH_LOG("stderr: %s", r.err);
	free_result(&r);
	unlink(bin);
}

TEST_F_TIMEOUT(avm, psci_cpu_on_race, 5 * QUICK_TIMEOUT_S)
{
	const char *bin;
	struct avm_result r;
	int round;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("cpu-on", cpu_on_guest_start, cpu_on_guest_end);
	ASSERT_NE(NULL, bin);
	for (round = 0; round < 5; round++) {
		const char *argv[] = { "run", "--kernel", bin, "--cpus", "3", NULL };

		run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
		EXPECT_EQ(r.status, 0) TH_LOG("stderr: %s", r.err);
		/* one winner, one ALREADY_ON, vCPU 2 started once */
		EXPECT_EQ(count_char(r.out, 'S'), 1) TH_LOG("console: '%s'", r.out);
		EXPECT_EQ(count_char(r.out, 'A'), 1) TH_LOG("console: '%s'", r.out);
		EXPECT_EQ(count_char(r.out, 'T'), 1) TH_LOG("console: '%s'", r.out);
		EXPECT_EQ(r.out_len, 4);
		free_result(&r);
	}
	unlink(bin);
}

/*
 * Bad input: status 1, one line on stderr that names the problem, and
 * nothing on the console (no guest ran).
 */
static void check_refused(struct __test_metadata *_metadata,
			  const char *const *argv, const char *needle)
{
	struct avm_result r;

	run_avm(argv, QUICK_TIMEOUT_S, NULL, false, &r);
	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(count_lines(r.err), 1) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, needle)) TH_LOG("want '%s' in: %s", needle, r.err);
	EXPECT_EQ(r.out_len, 0) TH_LOG("console: %s", r.out);
	free_result(&r);
}

TEST_F_TIMEOUT(avm, bad_inputs, 5 * QUICK_TIMEOUT_S)
{
	const char *image, *initrd = guest_file("initrd.cpio.gz");
	const char *big = "/tmp/avm-big-initrd", *trunc = "/tmp/avm-trunc-Image";
	const char *tgz = "/tmp/avm-trunc-Image.gz", *junkgz = "/tmp/avm-junk.gz";
	const char *junkdtb = "/tmp/avm-junk.dtb";
	static const uint8_t junk_gzip[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
					     'n', 'o', 't', ' ', 'd', 'e', 'f', 'l',
					     'a', 't', 'e', 0xff, 0xff, 0xff };
	static const char junk_dtb[] = "this is not a device tree, not even close";
	char *zeros;

	REQUIRE_GUEST_FILES();
	image = guest_file("Image");
	zeros = calloc(1, 16 << 20);
	ASSERT_NE(NULL, zeros);
	ASSERT_EQ(0, write_bytes(big, zeros, 16 << 20));
	free(zeros);
	ASSERT_EQ(0, copy_prefix(image, trunc, 4 << 20));
	ASSERT_EQ(0, write_bytes(junkgz, junk_gzip, sizeof(junk_gzip)));
	ASSERT_EQ(0, write_bytes(junkdtb, junk_dtb, sizeof(junk_dtb)));
	if (!access(guest_file("Image.gz"), R_OK))
		ASSERT_EQ(0, copy_prefix(guest_file("Image.gz"), tgz, 1 << 20));

	{
		const char *a[] = { "run", NULL };

		check_refused(_metadata, a, "no kernel");
	}
	{
		const char *a[] = { "run", "--kernel", "/nonexistent/Image", NULL };

		check_refused(_metadata, a, "No such file");
	}
	{
		const char *a[] = { "run", "--kernel", trunc, NULL };

		check_refused(_metadata, a, "truncated Image");
	}
	{
		const char *a[] = { "run", "--kernel", junkgz, NULL };

		check_refused(_metadata, a, "corrupt gzip");
	}
	if (!access(tgz, R_OK)) {
		const char *a[] = { "run", "--kernel", tgz, NULL };

		check_refused(_metadata, a, "truncated gzip");
	}
	{
		/* 40 MiB: the 32 MiB kernel and the DTB leave about 6 MiB */
		const char *a[] = { "run", "--kernel", image, "--initrd", big,
				    "--mem", "40", NULL };

		check_refused(_metadata, a, "initrd");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--mem", "1000000", NULL };

		check_refused(_metadata, a, "--mem");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--mem", "16", NULL };

		check_refused(_metadata, a, "does not fit");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--cpus", "0", NULL };

		check_refused(_metadata, a, "--cpus");
	}
	{
		/* the module's limit, AVCPU_GET_CAPS max_vcpus (64) */
		const char *a[] = { "run", "--kernel", image, "--cpus", "65", NULL };

		check_refused(_metadata, a, "at most");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--cpus", "two", NULL };

		check_refused(_metadata, a, "not a number");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--initrd", initrd,
				    "--dtb", junkdtb, NULL };

		check_refused(_metadata, a, "--dtb");
	}
	{
		const char *a[] = { "run", "--kernel", image, "--frobnicate", NULL };

		check_refused(_metadata, a, "unknown");
	}
	{
		const char *a[] = { "fly", NULL };

		check_refused(_metadata, a, "unknown command");
	}
	unlink(big);
	unlink(trunc);
	unlink(tgz);
	unlink(junkgz);
	unlink(junkdtb);
}

TEST(help_and_version)
{
	struct avm_result r;

	REQUIRE_GUEST_FILES();
	{
		const char *a[] = { "--help", NULL };

		run_avm(a, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 0);
	EXPECT_NE(NULL, strstr(r.out, "usage: avm run --kernel FILE"));
	EXPECT_NE(NULL, strstr(r.out, "Exit status"));
	free_result(&r);
	{
		const char *a[] = { "--version", NULL };

		run_avm(a, QUICK_TIMEOUT_S, NULL, false, &r);
	}
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(0, strncmp(r.out, "avm ", 4));
	free_result(&r);
}

TEST_HARNESS_MAIN
