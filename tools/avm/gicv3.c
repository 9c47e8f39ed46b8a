// SPDX-License-Identifier: GPL-2.0
/*
 * avm's GICv3 (Arm IHI 0069, "GICv3 and GICv4 Architecture
 * Specification", chapter 12 for the register maps): what the distributor
 * adds to gic.c's shared registers (GICD_IROUTER, the affinity routing),
 * the redistributors, and the arm,gic-v3 device-tree node. The guest's CPU
 * interface is the ICC system registers avcpu serves.
 *
 * One security state (GICD_CTLR.DS = 1), affinity routing always on
 * (ARE = 1), no LPIs, no ITS: what Linux's irq-gic-v3 driver and the usual
 * test suites use on QEMU's virt board.
 */
#include <libfdt.h>

#include "fdt.h"
#include "gic_model.h"

/* Redistributor offsets, IHI 0069 12.10-12.11 */
#define GICR_CTLR		0x0000
#define GICR_IIDR		0x0004
#define GICR_TYPER		0x0008
#define GICR_WAKER		0x0014
#define GICR_PIDR2		0xffe8
#define GICR_SGI_OFFSET		0x10000

#define CTLR_ARE		(1U << 4)
#define CTLR_DS			(1U << 6)

#define TYPER_LAST		(1ULL << 4)
#define WAKER_CHILDREN_ASLEEP	(1U << 2)

/* ArchRev 3 in PIDR2[7:4]: what Linux checks before anything else */
#define PIDR2_GICV3		0x3b
/* Implementer Arm (0x43b); Linux matches quirks on it, none for this one */
#define IIDR_VALUE		0x0000043b

#define IROUTER_IRM		(1ULL << 31)

static unsigned int gic3_route(struct gic *gic, uint64_t *route)
{
	unsigned int i;

	*route &= MPIDR_AFF_MASK | IROUTER_IRM;
	/* 1-of-N is not implemented (GICD_TYPER.No1N = 1): IRM means vCPU 0 */
	if (*route & IROUTER_IRM)
		return 0;
	for (i = 0; i < gic->nr_cpus; i++)
		if (gic->mpidr[i] == *route)
			return i;
	/* No such CPU: the interrupt must still go somewhere that exists. */
	return 0;
}

/* GICD_IROUTER<n>, 64-bit or either half */
static uint64_t gic3_dist_read(struct gic *gic, unsigned int cpu,
			       uint64_t off, unsigned int len)
{
	uint32_t intid = (off - GICD_IROUTER) / 8;
	uint64_t val;

	if (off < GICD_IROUTER || off >= GICD_IROUTER + 8 * 1024 ||
	    intid < 32 || intid >= gic->nr_irqs || (len != 8 && len != 4))
		return 0;
	val = gic->spi[intid - 32].route;
	if (len == 4)
		val = (uint32_t)(val >> (off & 4 ? 32 : 0));
	return val;
}

static void gic3_dist_write(struct gic *gic, unsigned int cpu, uint64_t off,
			    unsigned int len, uint64_t val)
{
	uint32_t intid = (off - GICD_IROUTER) / 8;
	uint64_t route;

	if (off < GICD_IROUTER || off >= GICD_IROUTER + 8 * 1024 ||
	    intid < 32 || intid >= gic->nr_irqs || (len != 8 && len != 4))
		return;
	route = gic->spi[intid - 32].route;
	if (len == 8)
		route = val;
	else if (off & 4)
		route = (route & 0xffffffffULL) | (val << 32);
	else
		route = (route & ~0xffffffffULL) | (uint32_t)val;
	gic_set_route(gic, intid, route);
}

/*
 * A redistributor: the RD frame (TYPER, WAKER, the identification), then
 * the SGI frame with the shared registers for that vCPU's SGIs and PPIs.
 */
static uint64_t gic_redist_read(struct avm_dev *dev, unsigned int cpu,
				uint64_t off, unsigned int len)
{
	struct gic *gic = dev->priv;
	unsigned int rd = off / AVM_GICR_STRIDE;
	uint64_t fo = off % AVM_GICR_STRIDE;
	uint64_t val = 0;

	if (rd >= gic->nr_cpus || off & (len - 1))
		return 0;
	pthread_mutex_lock(&gic->lock);
	if (fo >= GICR_SGI_OFFSET) {
		gic_common(gic, rd, true, fo - GICR_SGI_OFFSET, len, false, &val);
	} else if (fo == GICR_TYPER || fo == GICR_TYPER + 4) {
		uint64_t m = gic->mpidr[rd];
		/* Affinity Aff3.Aff2.Aff1.Aff0 in [63:32], Processor_Number */
		uint64_t typer = ((((m >> 32) & 0xff) << 24 | (m & 0xffffff)) << 32) |
				 ((uint64_t)rd << 8);

		if (rd == gic->nr_cpus - 1)
			typer |= TYPER_LAST;
		if (len == 8 && fo == GICR_TYPER)
			val = typer;
		else if (len == 4)
			val = (uint32_t)(typer >> (fo == GICR_TYPER ? 0 : 32));
	} else if (len == 4) {
		switch (fo) {
		case GICR_IIDR:
			val = IIDR_VALUE;
			break;
		case GICR_WAKER:
			/* the children fall asleep (and wake) at once */
			val = gic->waker[rd] & WAKER_PROCESSOR_SLEEP;
			if (val)
				val |= WAKER_CHILDREN_ASLEEP;
			break;
		case GICR_PIDR2:
			val = PIDR2_GICV3;
			break;
		}
	}
	pthread_mutex_unlock(&gic->lock);
	return val;
}

static void gic_redist_write(struct avm_dev *dev, unsigned int cpu,
			     uint64_t off, unsigned int len, uint64_t val)
{
	struct gic *gic = dev->priv;
	unsigned int rd = off / AVM_GICR_STRIDE;
	uint64_t fo = off % AVM_GICR_STRIDE;

	if (rd >= gic->nr_cpus || off & (len - 1))
		return;
	pthread_mutex_lock(&gic->lock);
	if (fo >= GICR_SGI_OFFSET)
		gic_common(gic, rd, true, fo - GICR_SGI_OFFSET, len, true, &val);
	else if (fo == GICR_WAKER && len == 4)
		gic->waker[rd] = val & WAKER_PROCESSOR_SLEEP;
	pthread_mutex_unlock(&gic->lock);
}

static int gic3_fdt_node(struct avm_dev *dev, void *fdt)
{
	struct gic *gic = dev->priv;
	const uint64_t reg[] = {
		AVM_GICD_BASE, AVM_GICD_SIZE,
		AVM_GICR_BASE, (uint64_t)gic->nr_cpus * AVM_GICR_STRIDE,
	};
	uint32_t maint[] = { 1, AVM_PPI_MAINT - 16, 4 };
	unsigned int i;

	AVM_FDT_CHECK(gic_fdt_begin(fdt, "arm,gic-v3", reg, 4));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	AVM_FDT_CHECK(fdt_property(fdt, "ranges", NULL, 0));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#redistributor-regions", 1));
	for (i = 0; i < 3; i++)
		maint[i] = cpu_to_fdt32(maint[i]);
	AVM_FDT_CHECK(fdt_property(fdt, "interrupts", maint, sizeof(maint)));
	return fdt_end_node(fdt);
}

static const struct gic_model gicv3 = {
	.version = 3,
	.name = "gicv3-dist",
	.max_cpus = AVM_MAX_CPUS,
	/* Group 1, as KVM resets a GICv3 guest's */
	.reset_group1 = true,
	.ctlr = CTLR_ARE | CTLR_DS,
	/* IDbits = 10 bits (9), No1N */
	.typer = 9U << 19 | 1U << 25,
	.iidr = IIDR_VALUE,
	.pidr2 = PIDR2_GICV3,
	.route = gic3_route,
	.dist_read = gic3_dist_read,
	.dist_write = gic3_dist_write,
	.fdt_node = gic3_fdt_node,
};

struct gic *gic_create(unsigned int nr_cpus, const uint64_t *mpidr,
		       unsigned int nr_irqs, const struct avm_irq_ops *ops,
		       void *ctx)
{
	struct gic *gic = gic_new(&gicv3, nr_cpus, mpidr, nr_irqs, ops, ctx);

	if (!gic)
		return NULL;
	gic->redist = (struct avm_dev){
		.name = "gicv3-redist", .base = AVM_GICR_BASE,
		.size = nr_cpus * AVM_GICR_STRIDE,
		.read = gic_redist_read, .write = gic_redist_write, .priv = gic,
	};
	return gic;
}
