/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside avm's GIC models: the distributor state both share and the hooks
 * through which each serves what is its own. gic.c holds the shared part
 * (the one-bit-per-INTID families, IPRIORITYR, ICFGR, GICD_CTLR, routing
 * into the vCPUs, reset, SPI lines and irqfds), gicv3.c the GICv3
 * distributor's IROUTER and the redistributors, gicv2.c the GICv2
 * distributor's ITARGETSR and GICD_SGIR. The rest of avm sees gic.h only.
 */
#ifndef AVM_GIC_MODEL_H
#define AVM_GIC_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gic.h"

/*
 * Distributor offsets both architectures place alike (IHI 0069 12.9,
 * IHI 0048B 4.1.2); a redistributor's SGI frame repeats the families.
 */
#define GICD_CTLR		0x0000
#define GICD_TYPER		0x0004
#define GICD_IIDR		0x0008
#define GICD_IGROUPR		0x0080
#define GICD_ISENABLER		0x0100
#define GICD_ICENABLER		0x0180
#define GICD_ISPENDR		0x0200
#define GICD_ICPENDR		0x0280
#define GICD_ISACTIVER		0x0300
#define GICD_ICACTIVER		0x0380
#define GICD_IPRIORITYR		0x0400
#define GICD_ITARGETSR		0x0800	/* GICv2 */
#define GICD_ICFGR		0x0c00
#define GICD_SGIR		0x0f00	/* GICv2 */
#define GICD_IROUTER		0x6000	/* GICv3 */
#define GICD_PIDR2		0xffe8

/* MPIDR_EL1's affinity fields, Aff3 and Aff2.Aff1.Aff0 */
#define MPIDR_AFF_MASK		0xff00ffffffULL

#define CTLR_ENABLE_G0		(1U << 0)
#define CTLR_ENABLE_G1		(1U << 1)

/* GICR_WAKER.ProcessorSleep: reset sets it (gic.c), gicv3.c serves it */
#define WAKER_PROCESSOR_SLEEP	(1U << 1)

struct gic_irq {
	uint64_t route;		/* SPIs: GICD_IROUTER; GICv2: GICD_ITARGETSR */
	unsigned int target;	/* SPIs: the vCPU it is routed to */
	uint8_t priority;
	bool enabled;
	bool group1;
	bool edge;
	bool line;		/* SPIs: the device's output */
	int irqfd;		/* SPIs: bound to the target's line, or -1 */
};

/* What one architecture's distributor adds to gic.c's (constant). */
struct gic_model {
	unsigned int version;		/* 3 or 2 */
	const char *name;		/* of the distributor's MMIO device */
	unsigned int max_cpus;
	bool reset_group1;		/* GICD_IGROUPR's reset value */
	uint32_t ctlr;			/* GICD_CTLR bits that read as one */
	uint32_t typer;			/* GICD_TYPER beyond ITLines, CPUNumber */
	uint32_t iidr;
	uint32_t pidr2;
	/*
	 * @route masked to what the model keeps of it, and the vCPU it
	 * reaches (lock held).
	 */
	unsigned int (*route)(struct gic *gic, uint64_t *route);
	/* The distributor's other registers (lock held, @off aligned) */
	uint64_t (*dist_read)(struct gic *gic, unsigned int cpu, uint64_t off,
			      unsigned int len);
	void (*dist_write)(struct gic *gic, unsigned int cpu, uint64_t off,
			   unsigned int len, uint64_t val);
	int (*fdt_node)(struct avm_dev *dev, void *fdt);
};

struct gic {
	pthread_mutex_t lock;
	const struct gic_model *model;
	unsigned int nr_cpus;
	unsigned int nr_irqs;
	uint32_t ctlr;
	uint64_t *mpidr;
	uint32_t *waker;
	struct gic_irq *priv;	/* nr_cpus * 32: SGIs and PPIs of each vCPU */
	struct gic_irq *spi;	/* nr_irqs - 32 */
	const struct avm_irq_ops *ops;
	void *ctx;
	struct avm_dev dist;
	struct avm_dev redist;	/* GICv3 */
	unsigned int warned;
};

static inline struct gic_irq *gic_irq(struct gic *gic, unsigned int cpu,
				      uint32_t intid)
{
	if (intid < 32)
		return &gic->priv[cpu * 32 + intid];
	return &gic->spi[intid - 32];
}

/* A GIC of @model, its distributor device set up; NULL and errno. */
struct gic *gic_new(const struct gic_model *model, unsigned int nr_cpus,
		    const uint64_t *mpidr, unsigned int nr_irqs,
		    const struct avm_irq_ops *ops, void *ctx);

/* Route SPI @intid to @route, moving its state between vCPUs (lock held). */
void gic_set_route(struct gic *gic, uint32_t intid, uint64_t route);

/*
 * The registers of the shared layout at @off: of the distributor (@redist
 * false) or of vCPU @cpu's redistributor SGI frame. Reads (@write false)
 * fill *@val. False when @off is none of them (lock held).
 */
bool gic_common(struct gic *gic, unsigned int cpu, bool redist, uint64_t off,
		unsigned int len, bool write, uint64_t *val);

/*
 * Begin the controller's device-tree node: its name, @compatible, the
 * three-cell interrupt specifier, @nr_reg cells (at most 4, address and
 * size pairs) of "reg" and the phandle. The model adds its own properties
 * and ends the node. 0 or a libfdt error.
 */
int gic_fdt_begin(void *fdt, const char *compatible, const uint64_t *reg,
		  unsigned int nr_reg);

#endif /* AVM_GIC_MODEL_H */
