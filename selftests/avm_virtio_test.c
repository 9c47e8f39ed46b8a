// SPDX-License-Identifier: GPL-2.0
/*
 * avm's virtio devices under a Linux guest (Documentation/vmm.rst, "The
 * board"): disks read, written and refused writes when read-only, the
 * entropy device and the virtio console; the root file system on a virtio
 * disk; a virtio network card on a tap that carries pings both ways; and
 * avcpu's fast paths (ioeventfd, irqfd, in-kernel SGIs) seen in the
 * counters avm prints.
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

/* Linux boots take longer than the harness's default 30 s under load */
FIXTURE(avm) {};
FIXTURE_SETUP(avm) {}
FIXTURE_TEARDOWN(avm) {}

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
	/* a GICv2 guest's SGIs are distributor writes: avm's, never the kernel's */
	if (avcpu_gic_is_v2()) {
		EXPECT_EQ(0, sgis);
	} else {
		EXPECT_LT(0, sgis);
	}
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
			"--params", guest_params("console=ttyAMA0 panic=-1 avm_devices=1"),
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
			"--params", guest_params("console=ttyAMA0 panic=-1 loglevel=5 avm_root=/dev/vda "
						 "avm_ip=" GUEST_IP "/16 avm_ping=" HOST_IP
						 " avm_pingback=1"),
			"--no-reboot", NULL,
		};
		char disk[300];

		snprintf(disk, sizeof(disk), "%s,ro", guest_file("root.ext4"));
		argv[10] = disk;
		if (!net) {
			/* no network: drop --net and the guest's network part */
			argv[11] = "--params";
			argv[12] = guest_params("console=ttyAMA0 panic=-1 loglevel=5 avm_root=/dev/vda");
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

TEST_HARNESS_MAIN
