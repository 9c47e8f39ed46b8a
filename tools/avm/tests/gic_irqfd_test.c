// SPDX-License-Identifier: GPL-2.0
/*
 * avm's GIC model with irqfds (gic_spi_irqfd()): a rising edge of an
 * edge-triggered SPI is an eventfd write, the binding follows the SPI's
 * route and a reset, and everything else still takes INJECT_IRQ. The
 * fake of gic_fake.c binds eventfds as AVCPU_IRQFD does and delivers
 * their counts as avcpu would.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gic_fake.h"

#define SPI	48	/* virtio-mmio transport 0 */

FIXTURE(irqfd) {
	struct fake *f;
	struct gic *gic;
	uint64_t mpidr[NR_CPUS];
};

FIXTURE_SETUP(irqfd)
{
	self->f = fake_new(NR_CPUS, NR_IRQS);
	ASSERT_NE(NULL, self->f);
	self->gic = fake_gic(self->f, self->mpidr);
	ASSERT_NE(NULL, self->gic);
	/* edge-triggered and enabled, as Linux sets up a virtio-mmio SPI */
	dwrite(self->gic, GICD_ICFGR + 4 * (SPI / 16), 4, 2U << (2 * (SPI % 16)));
	dwrite(self->gic, BITREG(GICD_ISENABLER, SPI), 4, BIT32(SPI));
	dwrite(self->gic, GICD_CTLR, 4, CTLR_G1);
	ASSERT_EQ(0, gic_spi_irqfd(self->gic, SPI));
	ASSERT_EQ(1, self->f->nr_irqfd);
	EXPECT_EQ(0, self->f->irqfd[0].cpu);
	EXPECT_EQ(SPI, self->f->irqfd[0].intid);
	fake_clear_log(self->f);
}

FIXTURE_TEARDOWN(irqfd)
{
	EXPECT_EQ(0, self->f->errors);
	gic_destroy(self->gic);
	fake_free(self->f);
}

/* A rising edge is one eventfd signal, no INJECT_IRQ; the fall is one. */
TEST_F(irqfd, edge_rise_is_a_signal)
{
	struct fake *f = self->f;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		gic_spi_line(self->gic, SPI, 1);
		EXPECT_EQ(0, f->nr_line);
		EXPECT_EQ(1, fake_irqfd_deliver(f));
		EXPECT_TRUE(fake_pending(fake_irq(f, 0, SPI)));
		/* the line falls (InterruptACK): INJECT_IRQ level 0 */
		gic_spi_line(self->gic, SPI, 0);
		ASSERT_EQ(1, f->nr_line);
		EXPECT_EQ(0, f->line[0].level);
		/* the guest took it */
		fake_irq(f, 0, SPI)->latch = false;
		fake_clear_log(f);
	}
	/* a line already high is no new edge: nothing signalled */
	gic_spi_line(self->gic, SPI, 1);
	gic_spi_line(self->gic, SPI, 1);
	EXPECT_EQ(1, fake_irqfd_deliver(f));
	EXPECT_EQ(0, fake_irqfd_deliver(f));
}

/* A level-sensitive SPI keeps INJECT_IRQ both ways: the line is a state. */
TEST_F(irqfd, level_takes_inject)
{
	struct fake *f = self->f;

	dwrite(self->gic, GICD_ICFGR + 4 * (SPI / 16), 4, 0);
	fake_clear_log(f);
	gic_spi_line(self->gic, SPI, 1);
	EXPECT_EQ(0, fake_irqfd_deliver(f));
	ASSERT_EQ(1, f->nr_line);
	EXPECT_EQ(1, f->line[0].level);
	EXPECT_TRUE(fake_pending(fake_irq(f, 0, SPI)));
	gic_spi_line(self->gic, SPI, 0);
	ASSERT_EQ(2, f->nr_line);
	EXPECT_FALSE(fake_pending(fake_irq(f, 0, SPI)));
}

/* GICD_IROUTER moves the binding: the next edge lands in the new target. */
TEST_F(irqfd, follows_the_route)
{
	struct fake *f = self->f;
	int fd = f->irqfd[0].fd;

	dwrite(self->gic, GICD_IROUTER + 8 * SPI, 8, self->mpidr[2]);
	EXPECT_EQ(2, gic_spi_target(self->gic, SPI));
	EXPECT_EQ(2, fake_irqfd_cpu(f, fd));
	EXPECT_EQ(1, f->nr_irqfd);
	/* one unbind, one bind */
	EXPECT_EQ(2, f->nr_irqfd_calls);
	gic_spi_line(self->gic, SPI, 1);
	EXPECT_EQ(1, fake_irqfd_deliver(f));
	EXPECT_TRUE(fake_pending(fake_irq(f, 2, SPI)));
	EXPECT_FALSE(fake_pending(fake_irq(f, 0, SPI)));
	/* the same route again: no calls */
	fake_clear_log(f);
	dwrite(self->gic, GICD_IROUTER + 8 * SPI, 8, self->mpidr[2]);
	EXPECT_EQ(0, f->nr_irqfd_calls);
	/* a reset routes it to vCPU 0, and the binding with it */
	gic_spi_line(self->gic, SPI, 0);
	ASSERT_EQ(0, gic_reset(self->gic));
	EXPECT_EQ(0, gic_spi_target(self->gic, SPI));
	EXPECT_EQ(0, fake_irqfd_cpu(f, fd));
}

/* A binding that cannot move: the SPI goes back to INJECT_IRQ, never lost. */
TEST_F(irqfd, failed_move_falls_back)
{
	struct fake *f = self->f;

	f->fail_irqfd = -ENOMEM;
	dwrite(self->gic, GICD_IROUTER + 8 * SPI, 8, self->mpidr[1]);
	f->fail_irqfd = 0;
	EXPECT_EQ(1, gic_spi_target(self->gic, SPI));
	fake_clear_log(f);
	gic_spi_line(self->gic, SPI, 1);
	EXPECT_EQ(0, fake_irqfd_deliver(f));
	ASSERT_EQ(1, f->nr_line);
	EXPECT_EQ(1, f->line[0].cpu);
	EXPECT_TRUE(fake_pending(fake_irq(f, 1, SPI)));
	/* the fake's stale binding on vCPU 0 is the kernel's to drop */
	f->nr_irqfd = 0;
}

TEST_F(irqfd, bad_requests)
{
	struct fake *f = self->f;

	EXPECT_EQ(-EEXIST, gic_spi_irqfd(self->gic, SPI));
	EXPECT_EQ(-EINVAL, gic_spi_irqfd(self->gic, 27));
	EXPECT_EQ(-EINVAL, gic_spi_irqfd(self->gic, NR_IRQS));
	f->fail_irqfd = -ENOTTY;
	EXPECT_EQ(-ENOTTY, gic_spi_irqfd(self->gic, SPI + 1));
	f->fail_irqfd = 0;
	/* that SPI still works, by INJECT_IRQ */
	fake_clear_log(f);
	gic_spi_line(self->gic, SPI + 1, 1);
	EXPECT_EQ(1, f->nr_line);
	EXPECT_EQ(0, f->nr_irqfd_calls);
}

/* Ops without IRQFD (an older module): EOPNOTSUPP, nothing else changes. */
TEST(no_irqfd_op)
{
	struct avm_irq_ops ops = fake_ops;
	uint64_t mpidr = 0;
	struct fake *f = fake_new(1, 64);
	struct gic *g;

	ASSERT_NE(NULL, f);
	ops.irqfd = NULL;
	g = gic_create(1, &mpidr, 64, &ops, f);
	ASSERT_NE(NULL, g);
	EXPECT_EQ(-EOPNOTSUPP, gic_spi_irqfd(g, 40));
	gic_destroy(g);
	fake_free(f);
}

TEST_HARNESS_MAIN
