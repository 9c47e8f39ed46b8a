// SPDX-License-Identifier: GPL-2.0
/*
 * avm's GICv2 distributor model (gic.c, gic_create_v2()) driven through
 * its MMIO callbacks as each vCPU, with the recording fake of gic_fake.c
 * behind struct avm_irq_ops, plus an SGI hook that records the source CPU
 * each GICD_SGIR write names (Arm IHI 0048B, chapter 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gic_fake.h"

#define GICD_ITARGETSR	0x0800
#define GICD_SGIR	0x0f00
#define SGIR(filter, list, intid) (((filter) << 24) | ((list) << 16) | (intid))

struct sgi_rec {
	unsigned int cpu, intid, source;
};

static struct sgi_rec sgis[64];
static unsigned int nr_sgis;

static int rec_sgi(void *ctx, unsigned int cpu, uint32_t intid, unsigned int source)
{
	if (nr_sgis < 64)
		sgis[nr_sgis] = (struct sgi_rec){ cpu, intid, source };
	nr_sgis++;
	return fake_line(ctx, cpu, intid, 1);
}

static struct avm_irq_ops v2_ops;

FIXTURE(gicv2) {
	struct fake *f;
	struct gic *gic;
	struct avm_dev *d;
};

FIXTURE_SETUP(gicv2)
{
	uint64_t mpidr[NR_CPUS];
	unsigned int i;

	v2_ops = fake_ops;
	v2_ops.sgi = rec_sgi;
	nr_sgis = 0;
	for (i = 0; i < NR_CPUS; i++)
		mpidr[i] = avm_mpidr(i);
	self->f = fake_new(NR_CPUS, NR_IRQS);
	ASSERT_NE(NULL, self->f);
	self->gic = gic_create_v2(NR_CPUS, mpidr, NR_IRQS, &v2_ops, self->f);
	ASSERT_NE(NULL, self->gic);
	ASSERT_EQ(0, gic_reset(self->gic));
	fake_clear_log(self->f);
	self->d = gic_dist_dev(self->gic);
}

FIXTURE_TEARDOWN(gicv2)
{
	EXPECT_EQ(0, self->f->errors);
	gic_destroy(self->gic);
	fake_free(self->f);
}

static uint64_t rd(struct avm_dev *d, unsigned int cpu, uint64_t off, unsigned int len)
{
	return d->read(d, cpu, off, len);
}

static void wr(struct avm_dev *d, unsigned int cpu, uint64_t off, unsigned int len,
	       uint64_t val)
{
	d->write(d, cpu, off, len, val);
}

TEST_F(gicv2, identity_and_no_redistributors)
{
	EXPECT_EQ(2, gic_version(self->gic));
	EXPECT_EQ(NULL, gic_redist_dev(self->gic));
	EXPECT_STREQ("gicv2-dist", self->d->name);
	EXPECT_EQ(0x2b, rd(self->d, 0, GICD_PIDR2, 4));	/* ArchRev 2 */
	EXPECT_EQ(0x0200043b, rd(self->d, 0, GICD_IIDR, 4));
	/* ITLinesNumber, CPUNumber */
	EXPECT_EQ((NR_IRQS / 32 - 1) | (NR_CPUS - 1) << 5, rd(self->d, 0, GICD_TYPER, 4));
	/* no ARE or DS: a GICv2 has neither */
	wr(self->d, 0, GICD_CTLR, 4, CTLR_G0 | CTLR_ARE | CTLR_DS);
	EXPECT_EQ(CTLR_G0, rd(self->d, 0, GICD_CTLR, 4));
}

TEST(at_most_8_cpus)
{
	uint64_t mpidr[9];
	unsigned int i;

	for (i = 0; i < 9; i++)
		mpidr[i] = avm_mpidr(i);
	errno = 0;
	EXPECT_EQ(NULL, gic_create_v2(9, mpidr, NR_IRQS, &fake_ops, NULL));
	EXPECT_EQ(EINVAL, errno);
}

/* Group 0 after reset (GICD_IGROUPR resets to 0), every vCPU's copy */
TEST_F(gicv2, reset_group0)
{
	unsigned int c;

	for (c = 0; c < NR_CPUS; c++) {
		EXPECT_EQ(0, rd(self->d, c, GICD_IGROUPR, 4));
		EXPECT_EQ(0, fake_irq(self->f, c, 27)->cfg & AVCPU_IRQ_GROUP1);
		EXPECT_EQ(0, fake_irq(self->f, c, 40)->cfg & AVCPU_IRQ_GROUP1);
	}
}

/* SGIs and PPIs are banked: a vCPU's writes reach its own copies only */
TEST_F(gicv2, banked_private_interrupts)
{
	wr(self->d, 0, GICD_CTLR, 4, CTLR_G0);
	wr(self->d, 1, GICD_ISENABLER, 4, BIT32(27));
	EXPECT_EQ(BIT32(27), rd(self->d, 1, GICD_ISENABLER, 4));
	EXPECT_EQ(0, rd(self->d, 2, GICD_ISENABLER, 4));
	EXPECT_TRUE(fake_irq(self->f, 1, 27)->cfg & AVCPU_IRQ_ENABLED);
	EXPECT_FALSE(fake_irq(self->f, 2, 27)->cfg & AVCPU_IRQ_ENABLED);
	wr(self->d, 3, GICD_IPRIORITYR + 27, 1, 0x80);
	EXPECT_EQ(0x80, rd(self->d, 3, GICD_IPRIORITYR + 27, 1));
	EXPECT_EQ(0, rd(self->d, 0, GICD_IPRIORITYR + 27, 1));
	EXPECT_EQ(0x80, fake_irq(self->f, 3, 27)->priority);
}

/* ICFGR0 (SGIs) is edge and read-only; ICFGR1 the writer's PPIs */
TEST_F(gicv2, icfgr)
{
	wr(self->d, 0, GICD_ICFGR, 4, 0);
	EXPECT_EQ(0xaaaaaaaa, rd(self->d, 0, GICD_ICFGR, 4));
	wr(self->d, 2, GICD_ICFGR + 4, 4, 2U << (2 * (27 - 16)));
	EXPECT_EQ(2U << (2 * (27 - 16)), rd(self->d, 2, GICD_ICFGR + 4, 4));
	EXPECT_EQ(0, rd(self->d, 1, GICD_ICFGR + 4, 4));
	EXPECT_FALSE(fake_irq(self->f, 2, 27)->cfg & AVCPU_IRQ_LEVEL);
	EXPECT_TRUE(fake_irq(self->f, 1, 27)->cfg & AVCPU_IRQ_LEVEL);
}

/* SGI/PPI target bytes read as the reader's own bit; SPIs route by theirs */
TEST_F(gicv2, itargetsr_routing)
{
	uint32_t spi = 40;

	EXPECT_EQ(0x02020202, rd(self->d, 1, GICD_ITARGETSR, 4));
	EXPECT_EQ(0x08, rd(self->d, 3, GICD_ITARGETSR + 27, 1));
	wr(self->d, 0, GICD_ITARGETSR + 27, 1, 0xff);	/* read-only */
	EXPECT_EQ(0x01, rd(self->d, 0, GICD_ITARGETSR + 27, 1));

	/* enabled but no CPU named: forwarded nowhere */
	wr(self->d, 0, GICD_CTLR, 4, CTLR_G0);
	wr(self->d, 0, BITREG(GICD_ISENABLER, spi), 4, BIT32(spi));
	EXPECT_EQ(0, rd(self->d, 0, GICD_ITARGETSR + spi, 1));
	EXPECT_FALSE(fake_irq(self->f, 0, spi)->cfg & AVCPU_IRQ_ENABLED);

	/* CPU 2: only there; bits beyond the CPUs are dropped */
	wr(self->d, 0, GICD_ITARGETSR + spi, 1, 0x04 | 0x80);
	EXPECT_EQ(0x04, rd(self->d, 0, GICD_ITARGETSR + spi, 1));
	EXPECT_TRUE(fake_irq(self->f, 2, spi)->cfg & AVCPU_IRQ_ENABLED);
	EXPECT_FALSE(fake_irq(self->f, 0, spi)->cfg & AVCPU_IRQ_ENABLED);
	EXPECT_EQ(2, gic_spi_target(self->gic, spi));

	/* CPUs 1 and 3: the lowest; a whole word moves four SPIs */
	wr(self->d, 0, GICD_ITARGETSR + spi, 4, 0x0a);
	EXPECT_EQ(1, gic_spi_target(self->gic, spi));
	EXPECT_TRUE(fake_irq(self->f, 1, spi)->cfg & AVCPU_IRQ_ENABLED);
	EXPECT_FALSE(fake_irq(self->f, 2, spi)->cfg & AVCPU_IRQ_ENABLED);

	/* the list emptied again: disabled where it was */
	wr(self->d, 0, GICD_ITARGETSR + spi, 1, 0);
	EXPECT_FALSE(fake_irq(self->f, 1, spi)->cfg & AVCPU_IRQ_ENABLED);

	/* a line follows the route */
	wr(self->d, 0, GICD_ITARGETSR + spi, 1, 0x08);
	gic_spi_line(self->gic, spi, 1);
	EXPECT_TRUE(fake_irq(self->f, 3, spi)->line);
}

/* GICD_SGIR's three filters, each SGI naming the writer as its source */
TEST_F(gicv2, sgir_filters_and_sources)
{
	unsigned int i;

	wr(self->d, 2, GICD_SGIR, 4, SGIR(0, 0x0a, 5));	/* list {1, 3} */
	ASSERT_EQ(2, nr_sgis);
	EXPECT_EQ(1, sgis[0].cpu);
	EXPECT_EQ(3, sgis[1].cpu);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(5, sgis[i].intid);
		EXPECT_EQ(2, sgis[i].source);
	}

	nr_sgis = 0;
	wr(self->d, 1, GICD_SGIR, 4, SGIR(1, 0, 7));	/* all but the writer */
	ASSERT_EQ(NR_CPUS - 1, nr_sgis);
	for (i = 0; i < nr_sgis; i++) {
		EXPECT_NE(1, sgis[i].cpu);
		EXPECT_EQ(1, sgis[i].source);
	}

	nr_sgis = 0;
	wr(self->d, 3, GICD_SGIR, 4, SGIR(2, 0xff, 0));	/* the writer only */
	ASSERT_EQ(1, nr_sgis);
	EXPECT_EQ(3, sgis[0].cpu);
	EXPECT_EQ(3, sgis[0].source);

	nr_sgis = 0;
	wr(self->d, 0, GICD_SGIR, 4, SGIR(3, 0xff, 1));	/* reserved: nothing */
	wr(self->d, 0, GICD_SGIR, 4, SGIR(0, 0xf0, 1));	/* no such CPUs */
	EXPECT_EQ(0, nr_sgis);
	/* GICD_SGIR is write-only */
	EXPECT_EQ(0, rd(self->d, 0, GICD_SGIR, 4));
}

TEST_HARNESS_MAIN
