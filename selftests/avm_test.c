// SPDX-License-Identifier: GPL-2.0
/*
 * avm, the VMM, end to end on this host: it boots Debian's arm64 kernel
 * (raw and gzip'd Image) with an initramfs to userspace on 2 vCPUs and
 * powers it off; its console takes input; it refuses every bad input with
 * one line before a guest runs; and small raw-binary guests check PSCI
 * CPU_ON races, unclaimed MMIO and the documented exit codes
 * (Documentation/vmm.rst). avm_virtio_test.c has the virtio devices.
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
#include "avm_run.h"


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
/* One vCPU that spins with a mark in x5, for SIGQUIT's register dump */
"	.globl	spin_guest_start, spin_guest_end\n"
"spin_guest_start:\n"
"	movz	x5, #0x5a5a\n"
"	b	.\n"
"spin_guest_end:\n"
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
extern const uint8_t spin_guest_start[], spin_guest_end[];
extern const uint8_t cpu_on_guest_start[], cpu_on_guest_end[];

/*
 * A Linux boot: init reached, the CPUs online, clean power off. With
 * @input, the console's input path too (the PL011's receive FIFO and
 * interrupt): the guest's init reads a line and says what came.
 */
static void check_linux_boot(struct __test_metadata *_metadata,
			     const char *kernel, const char *cpus,
			     const char *online, bool input)
{
	const char *argv[] = {
		"run", "--kernel", kernel, "--initrd", guest_file("initrd.cpio.gz"),
		"--cpus", cpus, "--mem", "256",
		/* a panic (panic=-1) fails at once instead of booting again */
		"--params", guest_params(input ? "console=ttyAMA0 panic=-1 avm_echo=1" :
					 "console=ttyAMA0 panic=-1"),
		"--no-reboot", NULL,
	};
	const char *marker = input ? "avm-guest: waiting for a line" : "avm-guest: init reached";
	struct avm_result r;
	char want[64];
	unsigned int i;

	run_avm_input(argv, BOOT_TIMEOUT_S, marker, true,
		      input ? "hello from the host\n" : NULL, NULL, NULL, &r);
	if (r.err_len)
		printf("# avm's stderr: %s", r.err);
	EXPECT_EQ(r.status, 0);
	ASSERT_GE(r.marker_s, 0) TH_LOG("the guest never printed '%s'", marker);
	/* the guest's tty turns "\n" into "\r\n" */
	snprintf(want, sizeof(want), "avm-guest: cpus online %s\r\n", online);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("want 'cpus online %s'", online);
	/* the board's GIC is the host's kind: Linux names a GICv2 "GIC-0" */
	snprintf(want, sizeof(want), "avm-guest: timer irqchip %s\r\n",
		 avcpu_gic_is_v2() ? "GIC-0" : "GICv3");
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("want '%s'", want);
	if (input)
		EXPECT_NE(NULL, strstr(r.out, "avm-guest: read 'hello from the host'"));
	EXPECT_NE(NULL, strstr(r.out, "reboot: Power down"));
	for (i = 0; i < sizeof(guest_bad) / sizeof(guest_bad[0]); i++)
		EXPECT_EQ(NULL, strstr(r.out, guest_bad[i]))
			TH_LOG("the guest printed '%s'", guest_bad[i]);
	printf("# avm start to the guest's %s: %.3f s; to its power off: %.3f s (%s vCPUs)\n",
	       input ? "console read" : "init", r.marker_s, r.total_s, cpus);
	free_result(&r);
}

/* Linux boots take longer than the harness's default 30 s under load */
FIXTURE(avm) {};
FIXTURE_SETUP(avm) {}
FIXTURE_TEARDOWN(avm) {}

/* The same boot reads a console line: one boot less a lane than apart */
TEST_F_TIMEOUT(avm, linux_boot_2_vcpus, BOOT_TIMEOUT_S + 30)
{
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	check_linux_boot(_metadata, guest_file("Image"), "2", "0-1", true);
}

/*
 * The newer of the kernels people run, Debian's 6.12, as a guest too, and
 * gzip'd as some distributions ship it (avm inflates it): the rig installs
 * it as Image-6.12.gz on every lane, so there its absence fails.
 */
TEST_F_TIMEOUT(avm, linux_boot_6_12_guest_gzip, BOOT_TIMEOUT_S + 30)
{
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	/* the debug lanes boot one guest kernel; every other lane both */
	if (avcpu_host_slowdown() > 1)
		SKIP(return, "a slow (debug) host boots the 6.1 guest only: the 6.12 one costs it 30 s");
	if (access(guest_file("Image-6.12.gz"), R_OK)) {
		ASSERT_EQ(NULL, getenv("AVCPU_LANE"))
			TH_LOG("the rig installs Image-6.12.gz on every lane");
		SKIP(return, "no Image-6.12.gz guest kernel here");
	}
	check_linux_boot(_metadata, guest_file("Image-6.12.gz"), "2", "0-1", false);
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

/*
 * A guest that never ends: at the timeout, run_avm() sends SIGQUIT and
 * each vCPU prints its registers (the spin's pc and its mark in x5)
 * before avm is killed.
 */
TEST(stuck_guest_registers_on_sigquit)
{
	const char *bin;
	struct avm_result r;

	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = raw_guest("spin", spin_guest_start, spin_guest_end);
	ASSERT_NE(NULL, bin);
	{
		const char *argv[] = { "run", "--kernel", bin, NULL };

		run_avm(argv, 2, NULL, false, &r);
	}
	EXPECT_EQ(-1000, r.status) TH_LOG("stderr: %s", r.err);
	/* the guest is loaded at the RAM base: the spin is its second word */
	EXPECT_NE(NULL, strstr(r.err, "avm: vCPU 0: pc 0x40000004 "))
		TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, " x5 0x5a5a ")) TH_LOG("stderr: %s", r.err);
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
	if (!access(guest_file("Image-6.12.gz"), R_OK))
		ASSERT_EQ(0, copy_prefix(guest_file("Image-6.12.gz"), tgz, 1 << 20));

	{
		const char *a[] = { "run", NULL };

		check_refused(_metadata, a, "no kernel");
	}
	{
		const char *a[] = { "run", "--kernel", "/nonexistent/Image", NULL };

		check_refused(_metadata, a, "No such file");
	}
	{
		/* the board's GIC is the host's kind: the other is refused */
		const char *a[] = { "run", "--kernel", image, "--gic",
				    avcpu_gic_is_v2() ? "v3" : "v2", NULL };

		check_refused(_metadata, a, "this host's GIC is a GICv");
	}
	if (avcpu_gic_is_v2()) {
		const char *a[] = { "run", "--kernel", image, "--cpus", "9", NULL };

		check_refused(_metadata, a, "a GICv2 serves at most 8 CPUs");
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

