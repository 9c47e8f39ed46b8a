/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The GICv3 distributor and redistributors, or the GICv2 distributor, avm
 * emulates (gic.c shared, gicv3.c, gicv2.c).
 */
#ifndef AVM_GIC_H
#define AVM_GIC_H

#include "avm.h"

struct gic;

/*
 * A GICv3 for @nr_cpus vCPUs with the MPIDRs @mpidr, @nr_irqs INTIDs
 * (a multiple of 32), its state reaching the vCPUs through @ops/@ctx.
 * NULL (errno set) on failure.
 */
struct gic *gic_create(unsigned int nr_cpus, const uint64_t *mpidr,
		       unsigned int nr_irqs, const struct avm_irq_ops *ops,
		       void *ctx);
/*
 * A GICv2 distributor for at most 8 vCPUs (EINVAL beyond); the CPU
 * interface is the host's GICV frame, mapped by the caller at AVM_GICC_BASE.
 */
struct gic *gic_create_v2(unsigned int nr_cpus, const uint64_t *mpidr,
			  unsigned int nr_irqs, const struct avm_irq_ops *ops,
			  void *ctx);
void gic_destroy(struct gic *gic);

/* 3 or 2 */
unsigned int gic_version(const struct gic *gic);

/*
 * Architectural reset: every INTID disabled, priority 0, idle; Group 1
 * (GICv3) or Group 0 (GICv2); GICv2 SPIs with no target.
 */
int gic_reset(struct gic *gic);

/* The distributor's and the redistributors' MMIO devices (none: GICv2). */
struct avm_dev *gic_dist_dev(struct gic *gic);
struct avm_dev *gic_redist_dev(struct gic *gic);

/* A device's line to SPI @intid went to @level (any thread). */
void gic_spi_line(struct gic *gic, uint32_t intid, int level);

/*
 * Raise SPI @intid's rising edges through an irqfd from now on, when it is
 * edge-triggered (gic.c): 0, or a negative errno and INJECT_IRQ as before.
 * The ops need .irqfd.
 */
int gic_spi_irqfd(struct gic *gic, uint32_t intid);

/*
 * Distributor registers whose writes may take effect late, at the next
 * exit to avm (coalesced MMIO): the configuration of SPIs (group,
 * priority, trigger, routing), which Linux writes for every SPI at boot
 * before it enables any. Offsets from the distributor's base.
 */
struct gic_range {
	uint64_t off;
	uint64_t len;
};
extern const struct gic_range gic_dist_posted[];
extern const unsigned int gic_nr_dist_posted;

/* The vCPU an SPI is routed to now (its GICD_IROUTER). */
unsigned int gic_spi_target(struct gic *gic, uint32_t intid);

#endif /* AVM_GIC_H */
