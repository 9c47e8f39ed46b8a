// SPDX-License-Identifier: GPL-2.0
/*
 * avm's device tree (fdt.c): the tree avm_fdt_build() makes, with the real
 * devices' nodes (gic.c, pl011.c), read back with libfdt; and
 * avm_fdt_adopt() on users' trees, good and bad. When AVM_TEST_OUTDIR is
 * set the built blob is left there too, for run.sh to show to dtc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libfdt.h>

#include "kselftest_harness.h"

#include "fdt.h"
#include "gic.h"
#include "pl011.h"

#define RAM_SIZE	(256ULL << 20)
#define NR_CPUS		18		/* vCPUs 16 and 17 have Aff1 = 1 */
#define BUF_SIZE	(64 << 10)
#define BOOTARGS	"console=ttyAMA0 earlycon root=/dev/vda"
#define STDOUT_PATH	"/pl011@9000000"
#define INITRD_START	0x4f000000ULL
#define INITRD_SIZE	0x123456ULL
#define KASLR_SEED	0x1122334455667788ULL

/* The GIC model never calls these while it builds its node. */
static int no_set(void *ctx, unsigned int cpu, const struct avcpu_irq *irq)
{
	return -ENOSYS;
}

static int no_get(void *ctx, unsigned int cpu, struct avcpu_irq *irq)
{
	return -ENOSYS;
}

static int no_line(void *ctx, unsigned int cpu, uint32_t intid, int level)
{
	return -ENOSYS;
}

static const struct avm_irq_ops no_ops = {
	.set = no_set, .get = no_get, .line = no_line,
};

/* A board as main.c makes it */
struct board {
	uint64_t mpidr[AVM_MAX_CPUS];
	struct gic *gic;
	struct pl011 *uart;
	struct avm_dev *devs[3];
	struct avm_fdt_cfg cfg;
};

static int board_init(struct board *b, unsigned int nr_cpus)
{
	unsigned int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < nr_cpus; i++)
		b->mpidr[i] = avm_mpidr(i);
	b->gic = gic_create(nr_cpus, b->mpidr, AVM_NR_IRQS, &no_ops, NULL);
	b->uart = pl011_create(-1, NULL, NULL);
	if (!b->gic || !b->uart)
		return -1;
	b->devs[0] = gic_dist_dev(b->gic);
	b->devs[1] = gic_redist_dev(b->gic);	/* no node of its own */
	b->devs[2] = pl011_dev(b->uart);
	b->cfg = (struct avm_fdt_cfg){
		.ram_base = AVM_RAM_BASE, .ram_size = RAM_SIZE,
		.nr_cpus = nr_cpus, .mpidr = b->mpidr,
		.bootargs = BOOTARGS,
		.initrd_start = INITRD_START, .initrd_size = INITRD_SIZE,
		.stdout_path = STDOUT_PATH,
		.kaslr_seed = KASLR_SEED,
		.devs = b->devs, .nr_devs = 3,
	};
	for (i = 0; i < AVM_RNG_SEED_SIZE; i++)
		b->cfg.rng_seed[i] = 0xc0 + i;
	return 0;
}

static void board_fini(struct board *b)
{
	gic_destroy(b->gic);
	pl011_destroy(b->uart);
}

static uint32_t be32_at(const void *p, unsigned int i)
{
	return fdt32_to_cpu(((const fdt32_t *)p)[i]);
}

static uint64_t be64_at(const void *p, unsigned int i)
{
	fdt64_t v;

	memcpy(&v, (const uint8_t *)p + 8 * i, 8);
	return fdt64_to_cpu(v);
}

/* The property @name of @path, NULL (and *len < 0) if absent */
static const void *prop(const void *fdt, const char *path, const char *name,
			int *len)
{
	int node = fdt_path_offset(fdt, path);

	if (node < 0) {
		*len = node;
		return NULL;
	}
	return fdt_getprop(fdt, node, name, len);
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name)
{
	int len;
	const void *p = prop(fdt, path, name, &len);

	return p && len == 4 ? be32_at(p, 0) : 0xdeadbeef;
}

FIXTURE(tree) {
	struct board b;
	uint8_t buf[BUF_SIZE];
};

FIXTURE_SETUP(tree)
{
	const char *dir = getenv("AVM_TEST_OUTDIR");
	int ret;

	ASSERT_EQ(0, board_init(&self->b, NR_CPUS));
	ret = avm_fdt_build(self->buf, sizeof(self->buf), &self->b.cfg);
	ASSERT_EQ(0, ret) TH_LOG("%s", fdt_strerror(ret));
	if (dir && *dir) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/fdt_test.dtb", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_GE(fd, 0) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ((ssize_t)fdt_totalsize(self->buf),
			  write(fd, self->buf, fdt_totalsize(self->buf)));
		close(fd);
	}
}

FIXTURE_TEARDOWN(tree)
{
	board_fini(&self->b);
}

TEST_F(tree, valid_and_packed)
{
	EXPECT_EQ(0, fdt_check_header(self->buf));
	EXPECT_EQ(0, fdt_check_full(self->buf, sizeof(self->buf)));
	EXPECT_EQ(0, fdt_check_full(self->buf, fdt_totalsize(self->buf)));
	/* packed: no slack after the strings */
	EXPECT_EQ(fdt_totalsize(self->buf),
		  fdt_off_dt_strings(self->buf) + fdt_size_dt_strings(self->buf));
	EXPECT_LE(fdt_totalsize(self->buf), AVM_FDT_MAX_SIZE);
	EXPECT_EQ(0, fdt_num_mem_rsv(self->buf));
	EXPECT_EQ(17, fdt_version(self->buf));
}

TEST_F(tree, root)
{
	const void *fdt = self->buf;
	int len;
	const char *s = prop(fdt, "/", "compatible", &len);

	ASSERT_NE(NULL, s);
	EXPECT_STREQ("linux,dummy-virt", s);
	EXPECT_EQ(2, prop_u32(fdt, "/", "#address-cells"));
	EXPECT_EQ(2, prop_u32(fdt, "/", "#size-cells"));
	EXPECT_EQ(AVM_PHANDLE_GIC, prop_u32(fdt, "/", "interrupt-parent"));
}

TEST_F(tree, memory)
{
	const void *fdt = self->buf;
	int len;
	const void *reg = prop(fdt, "/memory@40000000", "reg", &len);
	const char *type = prop(fdt, "/memory@40000000", "device_type", &len);

	ASSERT_NE(NULL, reg);
	ASSERT_NE(NULL, type);
	EXPECT_STREQ("memory", type);
	reg = prop(fdt, "/memory@40000000", "reg", &len);
	ASSERT_EQ(16, len);
	EXPECT_EQ(AVM_RAM_BASE, be64_at(reg, 0));
	EXPECT_EQ(RAM_SIZE, be64_at(reg, 1));
}

TEST_F(tree, cpus)
{
	const void *fdt = self->buf;
	int cpus = fdt_path_offset(fdt, "/cpus"), node, n = 0;
	unsigned int i;

	ASSERT_GE(cpus, 0);
	EXPECT_EQ(2, prop_u32(fdt, "/cpus", "#address-cells"));
	EXPECT_EQ(0, prop_u32(fdt, "/cpus", "#size-cells"));
	for (i = 0; i < NR_CPUS; i++) {
		char path[64];
		const void *reg;
		const char *s;
		int len;

		snprintf(path, sizeof(path), "/cpus/cpu@%llx",
			 (unsigned long long)avm_mpidr(i));
		reg = prop(fdt, path, "reg", &len);
		ASSERT_NE(NULL, reg) TH_LOG("%s: %s", path, fdt_strerror(len));
		ASSERT_EQ(8, len) TH_LOG("%s", path);
		EXPECT_EQ(avm_mpidr(i), be64_at(reg, 0)) TH_LOG("%s", path);
		s = prop(fdt, path, "enable-method", &len);
		ASSERT_NE(NULL, s) TH_LOG("%s", path);
		EXPECT_STREQ("psci", s);
		s = prop(fdt, path, "device_type", &len);
		ASSERT_NE(NULL, s) TH_LOG("%s", path);
		EXPECT_STREQ("cpu", s);
	}
	/* vCPU 16 is cluster 1, CPU 0 */
	EXPECT_LE(0, fdt_path_offset(fdt, "/cpus/cpu@100"));
	/* no more CPUs than that */
	fdt_for_each_subnode(node, fdt, cpus)
		n++;
	EXPECT_EQ(NR_CPUS, n);
}

TEST_F(tree, psci)
{
	const void *fdt = self->buf;
	int len;
	const char *compat = prop(fdt, "/psci", "compatible", &len);
	const char *method;

	ASSERT_NE(NULL, compat);
	EXPECT_TRUE(fdt_stringlist_contains(compat, len, "arm,psci-1.0"));
	EXPECT_TRUE(fdt_stringlist_contains(compat, len, "arm,psci-0.2"));
	method = prop(fdt, "/psci", "method", &len);
	ASSERT_NE(NULL, method);
	EXPECT_STREQ("hvc", method);
	/* PSCI 0.1 IDs for kernels that know only "arm,psci" */
	EXPECT_EQ(0xc4000003, prop_u32(fdt, "/psci", "cpu_on"));
	EXPECT_EQ(0x84000002, prop_u32(fdt, "/psci", "cpu_off"));
}

TEST_F(tree, timer)
{
	/* secure, non-secure, virtual, hypervisor: PPIs 29, 30, 27, 26 */
	static const uint32_t want[12] = {
		1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4,
	};
	const void *fdt = self->buf;
	const void *irqs;
	const char *compat;
	unsigned int i;
	int len;

	compat = prop(fdt, "/timer", "compatible", &len);
	ASSERT_NE(NULL, compat);
	EXPECT_TRUE(fdt_stringlist_contains(compat, len, "arm,armv8-timer"));
	irqs = prop(fdt, "/timer", "interrupts", &len);
	ASSERT_NE(NULL, irqs);
	ASSERT_EQ(sizeof(want), len);
	for (i = 0; i < 12; i++) {
		EXPECT_EQ(want[i], be32_at(irqs, i)) TH_LOG("cell %u", i);
	}
	EXPECT_NE(NULL, prop(fdt, "/timer", "always-on", &len));
}

TEST_F(tree, gic)
{
	const void *fdt = self->buf;
	const char *path = "/intc@8000000";
	int node = fdt_path_offset(fdt, path), len;
	const void *reg, *irq;
	const char *compat;

	ASSERT_GE(node, 0);
	compat = prop(fdt, path, "compatible", &len);
	ASSERT_NE(NULL, compat);
	EXPECT_STREQ("arm,gic-v3", compat);
	EXPECT_NE(NULL, prop(fdt, path, "interrupt-controller", &len));
	EXPECT_EQ(3, prop_u32(fdt, path, "#interrupt-cells"));
	EXPECT_EQ(1, prop_u32(fdt, path, "#redistributor-regions"));
	/* GICD, then one GICR region: RD_base + SGI_base of each vCPU */
	reg = prop(fdt, path, "reg", &len);
	ASSERT_NE(NULL, reg);
	ASSERT_EQ(32, len);
	EXPECT_EQ(AVM_GICD_BASE, be64_at(reg, 0));
	EXPECT_EQ(AVM_GICD_SIZE, be64_at(reg, 1));
	EXPECT_EQ(AVM_GICR_BASE, be64_at(reg, 2));
	EXPECT_EQ(NR_CPUS * 0x20000ULL, be64_at(reg, 3));
	/* the GICR region ends before the UART */
	EXPECT_LE(AVM_GICR_BASE + NR_CPUS * 0x20000ULL, AVM_UART_BASE);
	/* the maintenance interrupt: PPI 9 (INTID 25), level-high */
	irq = prop(fdt, path, "interrupts", &len);
	ASSERT_NE(NULL, irq);
	ASSERT_EQ(12, len);
	EXPECT_EQ(1, be32_at(irq, 0));
	EXPECT_EQ(9, be32_at(irq, 1));
	EXPECT_EQ(4, be32_at(irq, 2));
	/* the root's interrupt-parent is this node */
	EXPECT_EQ(node, fdt_node_offset_by_phandle(fdt, AVM_PHANDLE_GIC));
}

TEST_F(tree, uart)
{
	const void *fdt = self->buf;
	const char *path = "/pl011@9000000";
	const void *reg, *irq, *clks;
	const char *compat, *names;
	int len, clk;

	compat = prop(fdt, path, "compatible", &len);
	ASSERT_NE(NULL, compat);
	EXPECT_TRUE(fdt_stringlist_contains(compat, len, "arm,pl011"));
	EXPECT_TRUE(fdt_stringlist_contains(compat, len, "arm,primecell"));
	reg = prop(fdt, path, "reg", &len);
	ASSERT_NE(NULL, reg);
	ASSERT_EQ(16, len);
	EXPECT_EQ(AVM_UART_BASE, be64_at(reg, 0));
	EXPECT_EQ(AVM_UART_SIZE, be64_at(reg, 1));
	/* SPI 1 (INTID 33), level-high */
	irq = prop(fdt, path, "interrupts", &len);
	ASSERT_NE(NULL, irq);
	ASSERT_EQ(12, len);
	EXPECT_EQ(0, be32_at(irq, 0));
	EXPECT_EQ(AVM_SPI_UART - 32, be32_at(irq, 1));
	EXPECT_EQ(4, be32_at(irq, 2));
	/* both clocks, from the fixed clock node */
	clks = prop(fdt, path, "clocks", &len);
	ASSERT_NE(NULL, clks);
	ASSERT_EQ(8, len);
	EXPECT_EQ(AVM_PHANDLE_CLK, be32_at(clks, 0));
	EXPECT_EQ(AVM_PHANDLE_CLK, be32_at(clks, 1));
	names = prop(fdt, path, "clock-names", &len);
	ASSERT_NE(NULL, names);
	EXPECT_EQ(0, fdt_stringlist_search(fdt, fdt_path_offset(fdt, path),
					   "clock-names", "uartclk"));
	EXPECT_EQ(1, fdt_stringlist_search(fdt, fdt_path_offset(fdt, path),
					   "clock-names", "apb_pclk"));
	clk = fdt_node_offset_by_phandle(fdt, AVM_PHANDLE_CLK);
	ASSERT_GE(clk, 0);
	EXPECT_EQ(clk, fdt_path_offset(fdt, "/apb-pclk"));
	EXPECT_EQ(0, prop_u32(fdt, "/apb-pclk", "#clock-cells"));
	EXPECT_EQ(24000000, prop_u32(fdt, "/apb-pclk", "clock-frequency"));
}

TEST_F(tree, chosen)
{
	const void *fdt = self->buf;
	const char *s;
	const void *p;
	int len;

	s = prop(fdt, "/chosen", "bootargs", &len);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ(BOOTARGS, s);
	s = prop(fdt, "/chosen", "stdout-path", &len);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ(STDOUT_PATH, s);
	/* it names a node that is there */
	EXPECT_EQ(fdt_path_offset(fdt, "/pl011@9000000"), fdt_path_offset(fdt, s));
	p = prop(fdt, "/chosen", "linux,initrd-start", &len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(8, len);
	EXPECT_EQ(INITRD_START, be64_at(p, 0));
	p = prop(fdt, "/chosen", "linux,initrd-end", &len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(8, len);
	EXPECT_EQ(INITRD_START + INITRD_SIZE, be64_at(p, 0));
	p = prop(fdt, "/chosen", "rng-seed", &len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(AVM_RNG_SEED_SIZE, len);
	EXPECT_EQ(0, memcmp(p, self->b.cfg.rng_seed, AVM_RNG_SEED_SIZE));
	p = prop(fdt, "/chosen", "kaslr-seed", &len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(8, len);
	EXPECT_EQ(KASLR_SEED, be64_at(p, 0));
}

/* No bootargs, no initrd, no stdout-path: no such properties */
/*
 * A GICv2 board (arm,gic.yaml): distributor and 8K CPU interface, no
 * maintenance interrupt; the timer's PPIs name the board's CPUs.
 */
TEST(gicv2_board)
{
	static uint8_t buf[BUF_SIZE];
	const char *path = "/intc@8000000";
	const void *reg, *irqs;
	struct board b;
	unsigned int i;
	int len;

	ASSERT_EQ(0, board_init(&b, 3));
	gic_destroy(b.gic);
	b.gic = gic_create_v2(3, b.mpidr, AVM_NR_IRQS, &no_ops, NULL);
	ASSERT_NE(NULL, b.gic);
	b.devs[0] = gic_dist_dev(b.gic);
	b.devs[1] = b.devs[2];
	b.cfg.nr_devs = 2;
	b.cfg.gic_version = 2;
	ASSERT_EQ(0, avm_fdt_build(buf, sizeof(buf), &b.cfg));
	EXPECT_EQ(0, fdt_check_full(buf, sizeof(buf)));
	EXPECT_STREQ("arm,cortex-a15-gic", prop(buf, path, "compatible", &len));
	EXPECT_EQ(3, prop_u32(buf, path, "#interrupt-cells"));
	EXPECT_EQ(NULL, prop(buf, path, "interrupts", &len));
	EXPECT_EQ(NULL, prop(buf, path, "#redistributor-regions", &len));
	reg = prop(buf, path, "reg", &len);
	ASSERT_NE(NULL, reg);
	ASSERT_EQ(32, len);
	EXPECT_EQ(AVM_GICD_BASE, be64_at(reg, 0));
	EXPECT_EQ(AVM_GICD_SIZE, be64_at(reg, 1));
	EXPECT_EQ(0x08010000ULL, be64_at(reg, 2));	/* QEMU virt's GICC */
	EXPECT_EQ(0x2000ULL, be64_at(reg, 3));
	EXPECT_EQ(fdt_path_offset(buf, path),
		  fdt_node_offset_by_phandle(buf, AVM_PHANDLE_GIC));
	/* level-high, CPUs 0-2 in bits 15:8 */
	irqs = prop(buf, "/timer", "interrupts", &len);
	ASSERT_NE(NULL, irqs);
	ASSERT_EQ(48, len);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0x0704, be32_at(irqs, 3 * i + 2)) TH_LOG("PPI %u", i);
	board_fini(&b);
}

TEST(chosen_minimal)
{
	static uint8_t buf[BUF_SIZE];
	struct board b;
	int len;

	ASSERT_EQ(0, board_init(&b, 1));
	b.cfg.bootargs = NULL;
	b.cfg.stdout_path = NULL;
	b.cfg.initrd_size = 0;
	ASSERT_EQ(0, avm_fdt_build(buf, sizeof(buf), &b.cfg));
	EXPECT_EQ(0, fdt_check_full(buf, sizeof(buf)));
	EXPECT_EQ(NULL, prop(buf, "/chosen", "bootargs", &len));
	EXPECT_EQ(NULL, prop(buf, "/chosen", "stdout-path", &len));
	EXPECT_EQ(NULL, prop(buf, "/chosen", "linux,initrd-start", &len));
	EXPECT_EQ(NULL, prop(buf, "/chosen", "linux,initrd-end", &len));
	EXPECT_NE(NULL, prop(buf, "/chosen", "rng-seed", &len));
	EXPECT_NE(NULL, prop(buf, "/chosen", "kaslr-seed", &len));
	EXPECT_LE(0, fdt_path_offset(buf, "/cpus/cpu@0"));
	EXPECT_GT(0, fdt_path_offset(buf, "/cpus/cpu@1"));
	board_fini(&b);
}

/*
 * @size bytes that end at a PROT_NONE page: a write past them faults
 * instead of going unnoticed.
 */
static uint8_t *guarded(size_t size, void **map, size_t *map_len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t span = (size + page - 1) / page * page;
	uint8_t *p;

	*map_len = span + page;
	p = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + span, page, PROT_NONE)) {
		munmap(p, *map_len);
		return NULL;
	}
	*map = p;
	return p + span - size;
}

TEST(too_small_buffer)
{
	static uint8_t full[BUF_SIZE];
	struct board b;
	size_t need, sizes[8], i;

	ASSERT_EQ(0, board_init(&b, 4));
	ASSERT_EQ(0, avm_fdt_build(full, sizeof(full), &b.cfg));
	need = fdt_totalsize(full);
	sizes[0] = 0;
	sizes[1] = 16;
	sizes[2] = 40;		/* less than a header */
	sizes[3] = 100;
	sizes[4] = need / 2;
	sizes[5] = need - 8;
	sizes[6] = need - 1;
	sizes[7] = need;	/* the packed size: too small to build in? */
	for (i = 0; i < 8; i++) {
		void *map;
		size_t map_len;
		uint8_t *buf = guarded(sizes[i], &map, &map_len);
		int ret;

		ASSERT_NE(NULL, buf);
		ret = avm_fdt_build(buf, sizes[i], &b.cfg);
		if (i < 7) {
			EXPECT_GT(0, ret) TH_LOG("%zu bytes of %zu", sizes[i], need);
		} else if (ret == 0) {
			/* if it fits, it is the same tree */
			EXPECT_EQ(0, memcmp(buf, full, need));
		} else {
			EXPECT_EQ(-FDT_ERR_NOSPACE, ret);
		}
		munmap(map, map_len);
	}
	board_fini(&b);
}

/* A small tree of a user's own (--dtb), with or without /chosen */
static int user_tree(void *buf, size_t size, bool chosen)
{
	AVM_FDT_CHECK(fdt_create(buf, size));
	AVM_FDT_CHECK(fdt_finish_reservemap(buf));
	AVM_FDT_CHECK(fdt_begin_node(buf, ""));
	AVM_FDT_CHECK(fdt_property_string(buf, "compatible", "user,board"));
	AVM_FDT_CHECK(fdt_property_u32(buf, "#address-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(buf, "#size-cells", 2));
	AVM_FDT_CHECK(fdt_begin_node(buf, "mine"));
	AVM_FDT_CHECK(fdt_property_string(buf, "label", "kept"));
	AVM_FDT_CHECK(fdt_end_node(buf));
	if (chosen) {
		AVM_FDT_CHECK(fdt_begin_node(buf, "chosen"));
		AVM_FDT_CHECK(fdt_property_string(buf, "bootargs", "old args"));
		AVM_FDT_CHECK(fdt_property_string(buf, "stdout-path", "/mine"));
		AVM_FDT_CHECK(fdt_end_node(buf));
	}
	AVM_FDT_CHECK(fdt_end_node(buf));
	return fdt_finish(buf);
}

TEST(adopt)
{
	static uint8_t user[4096], out[BUF_SIZE];
	struct board b;
	const char *s;
	const void *p;
	int len, pass;

	ASSERT_EQ(0, board_init(&b, 2));
	for (pass = 0; pass < 2; pass++) {
		bool chosen = pass;

		ASSERT_EQ(0, user_tree(user, sizeof(user), chosen));
		ASSERT_EQ(0, avm_fdt_adopt(out, sizeof(out), user,
					   fdt_totalsize(user), &b.cfg)) TH_LOG("pass %d", pass);
		EXPECT_EQ(0, fdt_check_full(out, sizeof(out)));
		/* the user's tree, as it was */
		s = prop(out, "/", "compatible", &len);
		ASSERT_NE(NULL, s);
		EXPECT_STREQ("user,board", s);
		s = prop(out, "/mine", "label", &len);
		ASSERT_NE(NULL, s);
		EXPECT_STREQ("kept", s);
		/* nothing of avm's own board */
		EXPECT_GT(0, fdt_path_offset(out, "/psci"));
		/* /chosen from avm's command line */
		s = prop(out, "/chosen", "bootargs", &len);
		ASSERT_NE(NULL, s) TH_LOG("pass %d", pass);
		EXPECT_STREQ(BOOTARGS, s);
		p = prop(out, "/chosen", "linux,initrd-start", &len);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(8, len);
		EXPECT_EQ(INITRD_START, be64_at(p, 0));
		p = prop(out, "/chosen", "linux,initrd-end", &len);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(8, len);
		EXPECT_EQ(INITRD_START + INITRD_SIZE, be64_at(p, 0));
		p = prop(out, "/chosen", "rng-seed", &len);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(AVM_RNG_SEED_SIZE, len);
		EXPECT_EQ(0, memcmp(p, b.cfg.rng_seed, AVM_RNG_SEED_SIZE));
		p = prop(out, "/chosen", "kaslr-seed", &len);
		ASSERT_NE(NULL, p);
		EXPECT_EQ(KASLR_SEED, be64_at(p, 0));
		/* the user's other /chosen properties stay */
		if (chosen) {
			s = prop(out, "/chosen", "stdout-path", &len);
			ASSERT_NE(NULL, s);
			EXPECT_STREQ("/mine", s);
		}
	}

	/* no command line: the user's bootargs stay */
	b.cfg.bootargs = NULL;
	b.cfg.initrd_size = 0;
	ASSERT_EQ(0, user_tree(user, sizeof(user), true));
	ASSERT_EQ(0, avm_fdt_adopt(out, sizeof(out), user, fdt_totalsize(user), &b.cfg));
	s = prop(out, "/chosen", "bootargs", &len);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("old args", s);
	EXPECT_EQ(NULL, prop(out, "/chosen", "linux,initrd-start", &len));
	board_fini(&b);
}

/*
 * avm_fdt_adopt() of the first @len bytes of @user, given as a file of
 * that size would be: they end (but for the 8-byte alignment libfdt wants
 * of a tree, which malloc gives avm) where a PROT_NONE page starts, so
 * reading past what the file holds faults.
 */
static int adopt_file(void *out, size_t out_size, const void *user, size_t len,
		      const struct avm_fdt_cfg *cfg)
{
	void *map;
	size_t map_len;
	uint8_t *p = guarded((len + 7) & ~(size_t)7, &map, &map_len);
	int ret;

	if (!p)
		return 1;
	memcpy(p, user, len);
	ret = avm_fdt_adopt(out, out_size, p, len, cfg);
	munmap(map, map_len);
	return ret;
}

TEST(adopt_refuses_bad_trees)
{
	static uint8_t user[4096], out[BUF_SIZE], junk[4096];
	struct board b;
	size_t total, i;
	uint32_t seed = 1;
	int node, prop_off;

	ASSERT_EQ(0, board_init(&b, 1));
	/* garbage */
	for (i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = seed >> 16;
	}
	EXPECT_GT(0, adopt_file(out, sizeof(out), junk, sizeof(junk), &b.cfg));
	memset(junk, 0, sizeof(junk));
	EXPECT_GT(0, adopt_file(out, sizeof(out), junk, sizeof(junk), &b.cfg));
	/* too short for a header */
	ASSERT_EQ(0, user_tree(user, sizeof(user), true));
	EXPECT_EQ(-FDT_ERR_TRUNCATED, adopt_file(out, sizeof(out), user, 20, &b.cfg));
	EXPECT_EQ(-FDT_ERR_TRUNCATED, adopt_file(out, sizeof(out), user, 0, &b.cfg));
	/* cut: the file is shorter than totalsize says */
	total = fdt_totalsize(user);
	EXPECT_EQ(-FDT_ERR_TRUNCATED,
		  adopt_file(out, sizeof(out), user, total - 1, &b.cfg));
	EXPECT_EQ(-FDT_ERR_TRUNCATED,
		  adopt_file(out, sizeof(out), user, total / 2, &b.cfg));
	/* whole, it is fine */
	EXPECT_EQ(0, adopt_file(out, sizeof(out), user, total, &b.cfg));

	/* a good header over a broken structure block */
	memset(user + fdt_off_dt_struct(user) + 8, 0xff, 8);
	EXPECT_GT(0, adopt_file(out, sizeof(out), user, total, &b.cfg));

	/*
	 * A property whose name is outside the strings block, in a node
	 * before /chosen: only a walk over the whole tree sees it.
	 */
	ASSERT_EQ(0, user_tree(user, sizeof(user), true));
	node = fdt_path_offset(user, "/mine");
	ASSERT_GE(node, 0);
	prop_off = fdt_first_property_offset(user, node);
	ASSERT_GE(prop_off, 0);
	/* struct fdt_property: tag, len, nameoff */
	((fdt32_t *)(user + fdt_off_dt_struct(user) + prop_off))[2] =
		cpu_to_fdt32(0x7ffffff0);
	EXPECT_GT(0, adopt_file(out, sizeof(out), user, total, &b.cfg));

	/* a good tree, but no room for it */
	ASSERT_EQ(0, user_tree(user, sizeof(user), true));
	EXPECT_GT(0, adopt_file(out, 64, user, fdt_totalsize(user), &b.cfg));
	board_fini(&b);
}

TEST_HARNESS_MAIN
