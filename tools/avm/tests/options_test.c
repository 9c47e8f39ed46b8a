// SPDX-License-Identifier: GPL-2.0
/*
 * avm's command line (options.c): what each option sets, the defaults,
 * and every bad input refused with exactly one "avm: error:" line; --help
 * names every option (Documentation/vmm.rst, "Usage").
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "options.h"

#define OUT_MAX		8192

struct parsed {
	enum avm_parse ret;
	struct avm_opts o;
	char out[OUT_MAX];	/* stdout */
	char err[OUT_MAX];	/* stderr */
};

/* Everything @fd (a memfd) holds, as a string */
static void slurp(int fd, char *buf)
{
	ssize_t n = pread(fd, buf, OUT_MAX - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* avm_parse_args() on "avm" + @args (NULL-terminated), output captured */
static void parse(const char *const *args, struct parsed *p)
{
	char *argv[64] = { "avm" };
	int argc = 1, out, err, saved_out, saved_err;

	while (args[argc - 1])
		argv[argc] = (char *)args[argc - 1], argc++;
	argv[argc] = NULL;
	out = memfd_create("out", 0);
	err = memfd_create("err", 0);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(out, 1);
	dup2(err, 2);
	p->ret = avm_parse_args(argc, argv, &p->o);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out, p->out);
	slurp(err, p->err);
}

static unsigned int lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Refused: one error line that says @needle, nothing on stdout */
static void check_refused(struct __test_metadata *_metadata,
			  const char *const *args, const char *needle)
{
	struct parsed p;

	parse(args, &p);
	EXPECT_EQ(AVM_PARSE_ERROR, p.ret);
	EXPECT_EQ(1, lines(p.err)) TH_LOG("stderr: %s", p.err);
	EXPECT_EQ(0, strncmp(p.err, "avm: error: ", 12)) TH_LOG("stderr: %s", p.err);
	EXPECT_NE(NULL, strstr(p.err, needle)) TH_LOG("want '%s' in: %s", needle, p.err);
	EXPECT_STREQ("", p.out);
}

#define REFUSED(needle, ...) do {					\
	const char *const a[] = { __VA_ARGS__, NULL };			\
	check_refused(_metadata, a, needle);				\
} while (0)

TEST(defaults)
{
	const char *const a[] = { "run", "--kernel", "Image", NULL };
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_STREQ("Image", p.o.kernel);
	EXPECT_EQ(NULL, p.o.initrd);
	EXPECT_EQ(NULL, p.o.params);
	EXPECT_EQ(1, p.o.cpus);
	EXPECT_EQ(AVM_DEFAULT_MEM_MIB, p.o.mem_mib);
	EXPECT_FALSE(p.o.rng);
	EXPECT_EQ(0, p.o.nr_disks);
	EXPECT_EQ(AVM_CONSOLE_SERIAL, p.o.console);
	EXPECT_FALSE(p.o.no_reboot);
	EXPECT_FALSE(p.o.no_fast_paths);
	EXPECT_FALSE(p.o.net);
	EXPECT_EQ(0, p.o.gic);		/* the host's */
	EXPECT_STREQ("", p.err);
}

TEST(gic)
{
	const char *const a[] = { "run", "-k", "K", "--gic", "v2", NULL };
	const char *const b[] = { "run", "-k", "K", "--gic", "v2", "--gic", "v3", NULL };
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_EQ(2, p.o.gic);
	parse(b, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret);
	EXPECT_EQ(3, p.o.gic);
}

TEST(console)
{
	const char *const a[] = { "run", "-k", "K", "--console", "virtio", NULL };
	const char *const b[] = { "run", "-k", "K", "--console", "virtio",
				  "--console", "serial", NULL };
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_EQ(AVM_CONSOLE_VIRTIO, p.o.console);
	/* the last one counts */
	parse(b, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret);
	EXPECT_EQ(AVM_CONSOLE_SERIAL, p.o.console);
}

TEST(disks)
{
	const char *const a[] = {
		"run", "-k", "K", "--disk", "a.img", "--disk", "/x/b.img,ro",
		"--disk", "c,d.img", "--disk", "ro", NULL,
	};
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(4, p.o.nr_disks);
	EXPECT_STREQ("a.img", p.o.disks[0].path);
	EXPECT_FALSE(p.o.disks[0].ro);
	EXPECT_STREQ("/x/b.img", p.o.disks[1].path);
	EXPECT_TRUE(p.o.disks[1].ro);
	/* a comma elsewhere is part of the name */
	EXPECT_STREQ("c,d.img", p.o.disks[2].path);
	EXPECT_FALSE(p.o.disks[2].ro);
	EXPECT_STREQ("ro", p.o.disks[3].path);
	EXPECT_FALSE(p.o.disks[3].ro);
}

TEST(net)
{
	const uint8_t def[6] = AVM_DEFAULT_MAC, mine[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
	const char *const a[] = { "run", "-k", "K", "--net", "tap", NULL };
	const char *const b[] = { "run", "-k", "K", "--net", "tap=tap7,mac=52:54:00:AB:cd:ef", NULL };
	const char *const c[] = { "run", "-k", "K", "--net", "tap,mac=52:54:00:ab:cd:ef",
				  "--net", "none", NULL };
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_TRUE(p.o.net);
	EXPECT_STREQ("", p.o.tap);
	EXPECT_EQ(0, memcmp(def, p.o.mac, 6));
	/* locally administered, unicast */
	EXPECT_EQ(2, def[0] & 3);
	parse(b, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_TRUE(p.o.net);
	EXPECT_STREQ("tap7", p.o.tap);
	EXPECT_EQ(0, memcmp(mine, p.o.mac, 6));
	parse(c, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_FALSE(p.o.net);
}

TEST(too_many_disks)
{
	const char *a[64] = { "run", "-k", "K" };
	unsigned int i, n = 3;
	struct parsed p;

	for (i = 0; i <= AVM_MAX_DISKS; i++) {
		a[n++] = "--disk";
		a[n++] = "d.img";
	}
	a[n] = NULL;
	parse(a, &p);
	EXPECT_EQ(AVM_PARSE_ERROR, p.ret);
	EXPECT_EQ(1, lines(p.err));
	EXPECT_NE(NULL, strstr(p.err, "at most 16 disks")) TH_LOG("%s", p.err);
	a[n - 2] = NULL;
	parse(a, &p);
	EXPECT_EQ(AVM_PARSE_RUN, p.ret);
	EXPECT_EQ(AVM_MAX_DISKS, p.o.nr_disks);
}

TEST(every_option)
{
	const char *const a[] = {
		"run", "-k", "K", "-i", "I", "-p", "a b c", "-c", "4", "-m", "512",
		"--rng", "--dtb", "D", "--dump-dtb", "O", "--disk", "x", "--no-reboot",
		"--no-fast-paths", NULL,
	};
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_STREQ("K", p.o.kernel);
	EXPECT_STREQ("I", p.o.initrd);
	EXPECT_STREQ("a b c", p.o.params);
	EXPECT_EQ(4, p.o.cpus);
	EXPECT_EQ(512, p.o.mem_mib);
	EXPECT_TRUE(p.o.rng);
	EXPECT_STREQ("D", p.o.dtb);
	EXPECT_STREQ("O", p.o.dump_dtb);
	EXPECT_EQ(1, p.o.nr_disks);
	EXPECT_TRUE(p.o.no_reboot);
	EXPECT_TRUE(p.o.no_fast_paths);
}

/* Parsing twice starts over (getopt's state) */
TEST(parse_twice)
{
	const char *const a[] = { "run", "--rng", "--kernel", "A", NULL };
	const char *const b[] = { "run", "--kernel", "B", NULL };
	struct parsed p;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret);
	parse(b, &p);
	ASSERT_EQ(AVM_PARSE_RUN, p.ret) TH_LOG("stderr: %s", p.err);
	EXPECT_STREQ("B", p.o.kernel);
	EXPECT_FALSE(p.o.rng);
}

TEST(bad_inputs)
{
	REFUSED("no kernel", "run");
	REFUSED("no kernel", "run", "--rng");
	REFUSED("--cpus", "run", "-k", "K", "--cpus", "0");
	REFUSED("not a number", "run", "-k", "K", "--cpus", "two");
	REFUSED("not a number", "run", "-k", "K", "--cpus", "-1");
	REFUSED("not a number", "run", "-k", "K", "--cpus", "");
	REFUSED("not a number", "run", "-k", "K", "--mem", "1G");
	REFUSED("--mem 4", "run", "-k", "K", "--mem", "4");
	REFUSED("not a number", "run", "-k", "K", "--mem", "99999999999999999999999");
	REFUSED("unknown", "run", "-k", "K", "--frobnicate");
	REFUSED("unknown", "run", "-k", "K", "-z");
	REFUSED("--kernel", "run", "--kernel");
	REFUSED("--rng", "run", "-k", "K", "--rng=yes");
	REFUSED("--console hvc: say serial or virtio", "run", "-k", "K", "--console", "hvc");
	REFUSED("--net user: say tap", "run", "-k", "K", "--net", "user");
	REFUSED("say tap", "run", "-k", "K", "--net", "tapx");
	REFUSED("1 to 15 characters", "run", "-k", "K", "--net", "tap=");
	REFUSED("1 to 15 characters", "run", "-k", "K", "--net", "tap=a123456789abcdef");
	REFUSED("six hex bytes", "run", "-k", "K", "--net", "tap,mac=01:02:03:04:05:06");
	REFUSED("six hex bytes", "run", "-k", "K", "--net", "tap,mac=02:02:03:04:05");
	REFUSED("six hex bytes", "run", "-k", "K", "--net", "tap,mac=02:02:03:04:05:06:07");
	REFUSED("six hex bytes", "run", "-k", "K", "--net", "tap,mac=2:2:3:4:5:6");
	REFUSED("six hex bytes", "run", "-k", "K", "--net", "tap,mac=02:02:03:04:05:0g");
	REFUSED("--no-reboot", "run", "-k", "K", "--no-reboot=1");
	REFUSED("--gic 4: say v2 or v3", "run", "-k", "K", "--gic", "4");
	REFUSED("--gic", "run", "-k", "K", "--gic");
	REFUSED("--no-fast-paths", "run", "-k", "K", "--no-fast-paths=0");
	REFUSED("give a file name", "run", "-k", "K", "--disk", ",ro");
	REFUSED("give a file name", "run", "-k", "K", "--disk", "");
	REFUSED("--disk", "run", "-k", "K", "--disk");
	REFUSED("unexpected argument 'extra'", "run", "-k", "K", "extra");
	REFUSED("unknown command 'boot'", "boot", "-k", "K");
	REFUSED("no command", "--kernel", "K");
}

TEST(no_arguments)
{
	const char *const a[] = { NULL };
	struct parsed p;

	parse(a, &p);
	EXPECT_EQ(AVM_PARSE_ERROR, p.ret);
	EXPECT_NE(NULL, strstr(p.err, "usage: avm run"));
}

/* --help names every option, on stdout */
TEST(help_covers_every_option)
{
	const char *const opts[] = {
		"--kernel", "--initrd", "--params", "--cpus", "--mem", "--rng", "--disk",
		"--console", "--net", "--no-reboot", "--no-fast-paths", "--gic", "Ctrl-A x",
		"--dtb", "--dump-dtb", "--help", "--version", "Exit status",
	};
	const char *const a[] = { "--help", NULL };
	const char *const b[] = { "run", "-k", "K", "-h", NULL };
	char missing[256] = "";
	struct parsed p;
	unsigned int i;

	parse(a, &p);
	ASSERT_EQ(AVM_PARSE_EXIT, p.ret);
	EXPECT_STREQ("", p.err);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (!strstr(p.out, opts[i])) {
			strcat(missing, " ");
			strcat(missing, opts[i]);
		}
	}
	EXPECT_STREQ("", missing) TH_LOG("not in --help:%s", missing);
	parse(b, &p);
	EXPECT_EQ(AVM_PARSE_EXIT, p.ret);
	EXPECT_NE(NULL, strstr(p.out, "usage: avm run"));
}

TEST(version)
{
	const char *const a[] = { "--version", NULL };
	struct parsed p;

	parse(a, &p);
	EXPECT_EQ(AVM_PARSE_EXIT, p.ret);
	EXPECT_EQ(0, strncmp(p.out, "avm " AVM_VERSION, 4 + strlen(AVM_VERSION)));
}

TEST_HARNESS_MAIN
