// SPDX-License-Identifier: GPL-2.0
/*
 * avm's GICv2 distributor (Arm IHI 0048B, chapter 4), for a host whose GIC
 * is a GICv2: there the guest's CPU interface is the hardware's GICV
 * frame, which avcpu maps (AVCPU_SET_GICV), and SGIs are distributor
 * writes (GICD_SGIR) that this model turns into INJECT_IRQs naming their
 * source CPU. What it adds to gic.c's shared registers: ITARGETSR routing
 * (to the lowest CPU of the target list: no 1-of-N), GICD_SGIR, and the
 * arm,cortex-a15-gic device-tree node. SGIs and PPIs are banked per CPU in
 * the distributor itself; at most 8 CPUs.
 */
#include <libfdt.h>

#include "fdt.h"
#include "gic_model.h"

/* ArchRev 2 in PIDR2[7:4]; the GIC-400's IIDR (product 0x02, Arm) */
#define PIDR2_GICV2		0x2b
#define IIDR_GICV2		0x0200043b
#define GICV2_MAX_CPUS		8

/* GICD_SGIR (IHI 0048B, 4.3.15) */
#define SGIR_FILTER(v)		(((v) >> 24) & 3)
#define SGIR_LIST(v)		(((v) >> 16) & 0xff)
#define SGIR_INTID(v)		((v) & 0xf)

/* The lowest CPU of the list; none: vCPU 0, where the SPI stays disabled */
static unsigned int gic2_route(struct gic *gic, uint64_t *route)
{
	*route &= (1U << gic->nr_cpus) - 1;
	return *route ? (unsigned int)__builtin_ctzll(*route) : 0;
}

static uint32_t gic2_targets_read(struct gic *gic, unsigned int cpu,
				  uint32_t first, unsigned int len)
{
	uint32_t val = 0;
	unsigned int i;

	for (i = 0; i < len && first + i < gic->nr_irqs; i++) {
		uint32_t intid = first + i;
		/* SGIs and PPIs: read-only, the reading CPU's own bit */
		uint32_t t = intid < 32 ? 1U << cpu : (uint32_t)gic->spi[intid - 32].route;

		val |= (t & 0xff) << (8 * i);
	}
	return val;
}

static void gic2_targets_write(struct gic *gic, uint32_t first, unsigned int len,
			       uint32_t val)
{
	unsigned int i;

	for (i = 0; i < len && first + i < gic->nr_irqs; i++)
		if (first + i >= 32)
			gic_set_route(gic, first + i, (val >> (8 * i)) & 0xff);
}

/* GICD_SGIR: SGI @intid to the CPUs the filter and list name, from @cpu */
static void gic2_sgi(struct gic *gic, unsigned int cpu, uint32_t val)
{
	uint32_t intid = SGIR_INTID(val), targets, t;

	switch (SGIR_FILTER(val)) {
	case 0:
		targets = SGIR_LIST(val);
		break;
	case 1:
		targets = ~(1U << cpu);
		break;
	case 2:
		targets = 1U << cpu;
		break;
	default:
		return;		/* reserved */
	}
	targets &= (1U << gic->nr_cpus) - 1;
	for (t = 0; t < gic->nr_cpus; t++) {
		int ret;

		if (!(targets & (1U << t)))
			continue;
		ret = gic->ops->sgi ? gic->ops->sgi(gic->ctx, t, intid, cpu) :
				      gic->ops->line(gic->ctx, t, intid, 1);
		if (ret)
			avm_warn_limited(&gic->warned, 8, "gic: SGI %u to vCPU %u failed",
					 intid, t);
	}
}

static uint64_t gic2_dist_read(struct gic *gic, unsigned int cpu,
			       uint64_t off, unsigned int len)
{
	if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400 &&
	    (len == 1 || len == 4))
		return gic2_targets_read(gic, cpu, off - GICD_ITARGETSR, len);
	return 0;
}

static void gic2_dist_write(struct gic *gic, unsigned int cpu, uint64_t off,
			    unsigned int len, uint64_t val)
{
	if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400 &&
	    (len == 1 || len == 4))
		gic2_targets_write(gic, off - GICD_ITARGETSR, len, val);
	else if (off == GICD_SGIR && len == 4)
		gic2_sgi(gic, cpu, val);
	/* CPENDSGIR/SPENDSGIR (per-source SGI state): RAZ/WI here */
}

/*
 * The kernel's arm,gic.yaml: the distributor and the 8K CPU interface at
 * QEMU virt's addresses; no GICH/GICV and no maintenance interrupt, since
 * the guest has no virtualization extensions.
 */
static int gic2_fdt_node(struct avm_dev *dev, void *fdt)
{
	const uint64_t reg[] = {
		AVM_GICD_BASE, AVM_GICD_SIZE, AVM_GICC_BASE, AVM_GICC_SIZE,
	};

	AVM_FDT_CHECK(gic_fdt_begin(fdt, "arm,cortex-a15-gic", reg, 4));
	return fdt_end_node(fdt);
}

static const struct gic_model gicv2 = {
	.version = 2,
	.name = "gicv2-dist",
	.max_cpus = GICV2_MAX_CPUS,
	/* Group 0, GICD_IGROUPR's reset value (Linux's irq-gic enables it) */
	.reset_group1 = false,
	/* no Security Extensions: GICD_TYPER.SecurityExtn 0 */
	.iidr = IIDR_GICV2,
	.pidr2 = PIDR2_GICV2,
	.route = gic2_route,
	.dist_read = gic2_dist_read,
	.dist_write = gic2_dist_write,
	.fdt_node = gic2_fdt_node,
};

struct gic *gic_create_v2(unsigned int nr_cpus, const uint64_t *mpidr,
			  unsigned int nr_irqs, const struct avm_irq_ops *ops,
			  void *ctx)
{
	return gic_new(&gicv2, nr_cpus, mpidr, nr_irqs, ops, ctx);
}
