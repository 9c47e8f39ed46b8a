// SPDX-License-Identifier: GPL-2.0
/*
 * A GICv3 distributor and redistributors, emulated in avm (Arm IHI 0069,
 * "GICv3 and GICv4 Architecture Specification", chapter 12 for the register
 * maps), or a GICv2 distributor (Arm IHI 0048B, chapter 4), for a host
 * whose GIC is a GICv2: there the guest's CPU interface is the hardware's
 * GICV frame, which avcpu maps (AVCPU_SET_GICV), and SGIs are distributor
 * writes (GICD_SGIR) that this model turns into INJECT_IRQs naming their
 * source CPU. Both share the registers of the same layout (the
 * one-bit-per-INTID families, IPRIORITYR, ICFGR); a GICv2 distributor also
 * holds each CPU's banked SGIs and PPIs, routes SPIs by ITARGETSR (to the
 * lowest CPU of the target list: no 1-of-N) and serves at most 8 CPUs. The model holds the configuration (enable, group, priority,
 * trigger, routing) and mirrors it into the vCPUs through avm_irq_ops, that
 * is avcpu's SET_IRQ; pending and active states live in the kernel, where
 * the guest's acknowledge and completion change them without exits, so
 * they are read back with GET_IRQ and written with SET_IRQ.
 *
 * One security state (GICD_CTLR.DS = 1), affinity routing always on
 * (ARE = 1), no LPIs, no ITS: what Linux's irq-gic-v3 driver and the usual
 * test suites use on QEMU's virt board. An SPI is configured only in the
 * vCPU it is routed to; every other vCPU keeps it disabled.
 *
 * An SPI may have an irqfd (gic_spi_irqfd()): an eventfd avcpu binds to
 * the line of the vCPU the SPI is routed to, so that a device's I/O
 * thread raises an edge-triggered SPI with a write to it instead of an
 * INJECT_IRQ on a vCPU fd. The model moves the binding with the route.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "gic.h"

/* Distributor (GICD_*) and redistributor (GICR_*) offsets, IHI 0069 12.8-12.11 */
#define GICD_CTLR		0x0000
#define GICD_TYPER		0x0004
#define GICD_IIDR		0x0008
#define GICD_TYPER2		0x000c
#define GICD_IGROUPR		0x0080
#define GICD_ISENABLER		0x0100
#define GICD_ICENABLER		0x0180
#define GICD_ISPENDR		0x0200
#define GICD_ICPENDR		0x0280
#define GICD_ISACTIVER		0x0300
#define GICD_ICACTIVER		0x0380
#define GICD_IPRIORITYR		0x0400
#define GICD_ITARGETSR		0x0800
#define GICD_ICFGR		0x0c00
#define GICD_SGIR		0x0f00
#define GICD_IROUTER		0x6000
#define GICD_PIDR2		0xffe8

#define GICR_CTLR		0x0000
#define GICR_IIDR		0x0004
#define GICR_TYPER		0x0008
#define GICR_WAKER		0x0014
#define GICR_PIDR2		0xffe8
#define GICR_SGI_OFFSET		0x10000
#define GICR_ICFGR0		0x0c00
#define GICR_ICFGR1		0x0c04

#define CTLR_ENABLE_G0		(1U << 0)
#define CTLR_ENABLE_G1		(1U << 1)
#define CTLR_ARE		(1U << 4)
#define CTLR_DS			(1U << 6)

#define TYPER_LAST		(1ULL << 4)
#define WAKER_PROCESSOR_SLEEP	(1U << 1)
#define WAKER_CHILDREN_ASLEEP	(1U << 2)

/* ArchRev 3 in PIDR2[7:4]: what Linux checks before anything else */
#define PIDR2_GICV3		0x3b
/* Implementer Arm (0x43b); Linux matches quirks on it, none for this one */
#define IIDR_VALUE		0x0000043b

/* GICv2: ArchRev 2; the GIC-400's IIDR (product 0x02, Arm) */
#define PIDR2_GICV2		0x2b
#define IIDR_GICV2		0x0200043b
#define GICV2_MAX_CPUS		8

/* GICD_SGIR (IHI 0048B, 4.3.15) */
#define SGIR_FILTER(v)		(((v) >> 24) & 3)
#define SGIR_LIST(v)		(((v) >> 16) & 0xff)
#define SGIR_INTID(v)		((v) & 0xf)

#define IROUTER_IRM		(1ULL << 31)
#define AFF_MASK		0xff00ffffffULL

/* The register families that hold one bit per INTID */
enum gic_bits { BITS_GROUP, BITS_SENABLE, BITS_CENABLE, BITS_SPEND,
		BITS_CPEND, BITS_SACTIVE, BITS_CACTIVE };

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

struct gic {
	pthread_mutex_t lock;
	unsigned int version;	/* 3, or 2 */
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
	struct avm_dev redist;
	unsigned int warned;
};

static struct gic_irq *gic_irq(struct gic *gic, unsigned int cpu,
			       uint32_t intid)
{
	if (intid < 32)
		return &gic->priv[cpu * 32 + intid];
	return &gic->spi[intid - 32];
}

static void gic_ctlr_write(struct gic *gic, uint32_t val);

/* The vCPU whose state holds @intid: the redistributor's, or the route. */
static unsigned int gic_owner(struct gic *gic, unsigned int cpu,
			      uint32_t intid)
{
	return intid < 32 ? cpu : gic->spi[intid - 32].target;
}

/* Write the configuration of @intid into @cpu, plus @flags in @mask. */
static void gic_push(struct gic *gic, unsigned int cpu, uint32_t intid,
		     uint64_t flags, uint64_t mask)
{
	struct gic_irq *irq = gic_irq(gic, cpu, intid);
	uint32_t grp = irq->group1 ? CTLR_ENABLE_G1 : CTLR_ENABLE_G0;
	struct avcpu_irq r = { .intid = intid, .priority = irq->priority };

	/*
	 * A group the distributor does not forward is as good as disabled,
	 * and so is a GICv2 SPI with an empty target list.
	 */
	if (irq->enabled && (gic->ctlr & grp) &&
	    !(gic->version == 2 && intid >= 32 && !irq->route))
		r.flags |= AVCPU_IRQ_ENABLED;
	if (irq->group1)
		r.flags |= AVCPU_IRQ_GROUP1;
	r.set_mask = AVCPU_IRQ_ENABLED | AVCPU_IRQ_GROUP1 | AVCPU_IRQ_PRIORITY;
	/* SGIs are always edge-triggered: avcpu refuses LEVEL for them. */
	if (intid >= 16) {
		if (!irq->edge)
			r.flags |= AVCPU_IRQ_LEVEL;
		r.set_mask |= AVCPU_IRQ_LEVEL;
	}
	r.flags |= flags & mask;
	r.set_mask |= mask;
	if (gic->ops->set(gic->ctx, cpu, &r))
		avm_warn_limited(&gic->warned, 8, "gic: SET_IRQ %u on vCPU %u failed",
				 intid, cpu);
}

/* Only the state bits (pending, active) of @intid in @cpu. */
static void gic_push_state(struct gic *gic, unsigned int cpu, uint32_t intid,
			   uint64_t flags, uint64_t mask)
{
	struct avcpu_irq r = { .intid = intid, .flags = flags, .set_mask = mask };

	if (gic->ops->set(gic->ctx, cpu, &r))
		avm_warn_limited(&gic->warned, 8, "gic: SET_IRQ %u on vCPU %u failed",
				 intid, cpu);
}

static uint64_t gic_state(struct gic *gic, unsigned int cpu, uint32_t intid)
{
	struct avcpu_irq r = { .intid = intid };

	if (gic->ops->get(gic->ctx, cpu, &r))
		return 0;
	return r.flags;
}

/*
 * Lock held: move SPI @intid's irqfd binding from vCPU @old to @new. On a
 * failure the SPI goes back to INJECT_IRQ (its eventfd is closed), so
 * that it is never raised in a vCPU it is not routed to.
 */
static void gic_irqfd_move(struct gic *gic, uint32_t intid, unsigned int old,
			   unsigned int new)
{
	struct gic_irq *irq = gic_irq(gic, 0, intid);

	if (irq->irqfd < 0 || old == new)
		return;
	if (!gic->ops->irqfd(gic->ctx, old, intid, irq->irqfd, false) &&
	    !gic->ops->irqfd(gic->ctx, new, intid, irq->irqfd, true))
		return;
	avm_warn_limited(&gic->warned, 8,
			 "gic: SPI %u: cannot move its irqfd to vCPU %u: injecting it instead",
			 intid, new);
	close(irq->irqfd);
	irq->irqfd = -1;
}

static unsigned int gic_route_target(struct gic *gic, uint64_t route)
{
	unsigned int i;

	/* GICv2: the lowest CPU of the list; none: vCPU 0, kept disabled */
	if (gic->version == 2)
		return route ? (unsigned int)__builtin_ctzll(route) : 0;
	/* 1-of-N is not implemented (GICD_TYPER.No1N = 1): IRM means vCPU 0 */
	if (route & IROUTER_IRM)
		return 0;
	for (i = 0; i < gic->nr_cpus; i++)
		if ((gic->mpidr[i] & AFF_MASK) == (route & AFF_MASK))
			return i;
	/* No such CPU: the interrupt must still go somewhere that exists. */
	return 0;
}

static void gic_set_route(struct gic *gic, uint32_t intid, uint64_t route)
{
	struct gic_irq *irq = gic_irq(gic, 0, intid);
	unsigned int old = irq->target, new;
	uint64_t carry;

	if (gic->version == 2)
		irq->route = route & ((1U << gic->nr_cpus) - 1);
	else
		irq->route = route & (AFF_MASK | IROUTER_IRM);
	new = gic_route_target(gic, irq->route);
	if (new == old) {
		/* GICv2: a list emptied or filled again changes the enable */
		if (gic->version == 2)
			gic_push(gic, old, intid, 0, 0);
		return;
	}
	/*
	 * Move the interrupt: the old vCPU forgets it, the new one takes its
	 * configuration and state. A pending level interrupt whose line is
	 * high is pending because of the line, which moves by itself.
	 */
	carry = gic_state(gic, old, intid) & (AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE);
	if (irq->line && !irq->edge)
		carry &= ~AVCPU_IRQ_PENDING;
	gic_push_state(gic, old, intid, 0, AVCPU_IRQ_ENABLED |
		       AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE);
	if (irq->line)
		gic->ops->line(gic->ctx, old, intid, 0);
	gic_irqfd_move(gic, intid, old, new);
	irq->target = new;
	gic_push(gic, new, intid, carry, AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE);
	if (irq->line)
		gic->ops->line(gic->ctx, new, intid, 1);
}

/* One 32-bit register of a one-bit-per-INTID family, INTIDs @first.. */
static uint32_t gic_bits_read(struct gic *gic, unsigned int cpu,
			      enum gic_bits kind, uint32_t first)
{
	uint32_t val = 0, i;

	for (i = 0; i < 32 && first + i < gic->nr_irqs; i++) {
		uint32_t intid = first + i;
		struct gic_irq *irq = gic_irq(gic, cpu, intid);
		bool bit = false;

		switch (kind) {
		case BITS_GROUP:
			bit = irq->group1;
			break;
		case BITS_SENABLE:
		case BITS_CENABLE:
			bit = irq->enabled;
			break;
		case BITS_SPEND:
		case BITS_CPEND:
			bit = gic_state(gic, gic_owner(gic, cpu, intid), intid) &
			      AVCPU_IRQ_PENDING;
			break;
		case BITS_SACTIVE:
		case BITS_CACTIVE:
			bit = gic_state(gic, gic_owner(gic, cpu, intid), intid) &
			      AVCPU_IRQ_ACTIVE;
			break;
		}
		if (bit)
			val |= 1U << i;
	}
	return val;
}

static void gic_bits_write(struct gic *gic, unsigned int cpu,
			   enum gic_bits kind, uint32_t first, uint32_t val)
{
	uint32_t i;

	for (i = 0; i < 32 && first + i < gic->nr_irqs; i++) {
		uint32_t intid = first + i;
		struct gic_irq *irq = gic_irq(gic, cpu, intid);
		unsigned int owner = gic_owner(gic, cpu, intid);
		bool bit = val & (1U << i);

		switch (kind) {
		case BITS_GROUP:
			if (irq->group1 == bit)
				continue;
			irq->group1 = bit;
			gic_push(gic, owner, intid, 0, 0);
			break;
		case BITS_SENABLE:
		case BITS_CENABLE:
			if (!bit || irq->enabled == (kind == BITS_SENABLE))
				continue;
			irq->enabled = kind == BITS_SENABLE;
			gic_push(gic, owner, intid, 0, 0);
			break;
		case BITS_SPEND:
		case BITS_CPEND:
			if (bit)
				gic_push_state(gic, owner, intid,
					       kind == BITS_SPEND ? AVCPU_IRQ_PENDING : 0,
					       AVCPU_IRQ_PENDING);
			break;
		case BITS_SACTIVE:
		case BITS_CACTIVE:
			if (bit)
				gic_push_state(gic, owner, intid,
					       kind == BITS_SACTIVE ? AVCPU_IRQ_ACTIVE : 0,
					       AVCPU_IRQ_ACTIVE);
			break;
		}
	}
}

/* IPRIORITYR bytes @first..@first+len-1 */
static uint64_t gic_prio_read(struct gic *gic, unsigned int cpu,
			      uint32_t first, unsigned int len)
{
	uint64_t val = 0;
	unsigned int i;

	for (i = 0; i < len && first + i < gic->nr_irqs; i++)
		val |= (uint64_t)gic_irq(gic, cpu, first + i)->priority << (8 * i);
	return val;
}

static void gic_prio_write(struct gic *gic, unsigned int cpu, uint32_t first,
			   unsigned int len, uint64_t val)
{
	unsigned int i;

	for (i = 0; i < len && first + i < gic->nr_irqs; i++) {
		struct gic_irq *irq = gic_irq(gic, cpu, first + i);
		uint8_t prio = val >> (8 * i);

		if (irq->priority == prio)
			continue;
		irq->priority = prio;
		gic_push(gic, gic_owner(gic, cpu, first + i), first + i, 0, 0);
	}
}

/* ICFGR: two bits per INTID, bit 2n+1 set for edge-triggered */
static uint32_t gic_cfg_read(struct gic *gic, unsigned int cpu, uint32_t first)
{
	uint32_t val = 0, i;

	for (i = 0; i < 16 && first + i < gic->nr_irqs; i++)
		if (gic_irq(gic, cpu, first + i)->edge)
			val |= 2U << (2 * i);
	return val;
}

static void gic_cfg_write(struct gic *gic, unsigned int cpu, uint32_t first,
			  uint32_t val)
{
	uint32_t i;

	for (i = 0; i < 16 && first + i < gic->nr_irqs; i++) {
		struct gic_irq *irq = gic_irq(gic, cpu, first + i);
		bool edge = val & (2U << (2 * i));

		if (irq->edge == edge)
			continue;
		irq->edge = edge;
		gic_push(gic, gic_owner(gic, cpu, first + i), first + i, 0, 0);
	}
}

/*
 * The registers both frames share the layout of: the one-bit-per-INTID
 * families and IPRIORITYR, at the same offsets in the distributor and in a
 * redistributor's SGI frame. A GICv3 distributor ignores INTIDs below 32
 * (RAZ/WI with ARE = 1); a redistributor knows only those; a GICv2
 * distributor has them all, those below 32 banked per CPU. Reads (@write
 * false) fill *@val; false when @off is none of these registers.
 */
static bool gic_common(struct gic *gic, unsigned int cpu, bool redist,
		       uint64_t off, unsigned int len, bool write, uint64_t *val)
{
	uint32_t low = redist || gic->version == 2 ? 0 : 32;
	static const struct { uint32_t base; enum gic_bits kind; } fam[] = {
		{ GICD_IGROUPR, BITS_GROUP }, { GICD_ISENABLER, BITS_SENABLE },
		{ GICD_ICENABLER, BITS_CENABLE }, { GICD_ISPENDR, BITS_SPEND },
		{ GICD_ICPENDR, BITS_CPEND }, { GICD_ISACTIVER, BITS_SACTIVE },
		{ GICD_ICACTIVER, BITS_CACTIVE },
	};
	uint32_t limit = redist ? 32 : gic->nr_irqs, first;
	unsigned int i;

	if (!write)
		*val = 0;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		if (off < fam[i].base || off >= fam[i].base + 0x80)
			continue;
		first = (off - fam[i].base) * 8;
		if (len != 4 || (redist ? first != 0 : first < low) || first >= limit)
			return true;
		if (write)
			gic_bits_write(gic, cpu, fam[i].kind, first, *val);
		else
			*val = gic_bits_read(gic, cpu, fam[i].kind, first);
		return true;
	}
	if (off < GICD_IPRIORITYR || off >= GICD_IPRIORITYR + 0x400)
		return false;
	first = off - GICD_IPRIORITYR;
	if ((len != 1 && len != 4) || (redist ? first >= 32 : first < low) ||
	    first >= limit)
		return true;
	if (write)
		gic_prio_write(gic, cpu, first, len, *val);
	else
		*val = gic_prio_read(gic, cpu, first, len);
	return true;
}

static uint64_t gic_typer(struct gic *gic)
{
	/* ITLinesNumber, IDbits = 10 bits (9), No1N */
	return (gic->nr_irqs / 32 - 1) | (9U << 19) | (1U << 25) |
	       ((gic->nr_cpus - 1) & 7) << 5;
}

static uint64_t gic_dist_read(struct avm_dev *dev, unsigned int cpu,
			      uint64_t off, unsigned int len)
{
	struct gic *gic = dev->priv;
	uint64_t val = 0;

	/* an access not aligned to its size is RAZ/WI (IHI 0069 12.1.3) */
	if (off & (len - 1))
		return 0;
	pthread_mutex_lock(&gic->lock);
	if (gic_common(gic, cpu, false, off, len, false, &val)) {
		/* done */
	} else if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024) {
		uint32_t intid = (off - GICD_IROUTER) / 8;

		if (intid >= 32 && intid < gic->nr_irqs && (len == 8 || len == 4)) {
			val = gic->spi[intid - 32].route;
			if (len == 4)
				val = (uint32_t)(val >> (off & 4 ? 32 : 0));
		}
	} else if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		uint32_t first = (off - GICD_ICFGR) * 4;

		if (len == 4 && first >= 32 && first < gic->nr_irqs)
			val = gic_cfg_read(gic, cpu, first);
	} else if (len == 4) {
		switch (off) {
		case GICD_CTLR:
			/* RWP (bit 31) always 0: every write takes effect at once */
			val = (gic->ctlr & (CTLR_ENABLE_G0 | CTLR_ENABLE_G1)) |
			      CTLR_ARE | CTLR_DS;
			break;
		case GICD_TYPER:
			val = gic_typer(gic);
			break;
		case GICD_IIDR:
			val = IIDR_VALUE;
			break;
		case GICD_PIDR2:
			val = PIDR2_GICV3;
			break;
		}
	}
	pthread_mutex_unlock(&gic->lock);
	return val;
}

static void gic_dist_write(struct avm_dev *dev, unsigned int cpu, uint64_t off,
			   unsigned int len, uint64_t val)
{
	struct gic *gic = dev->priv;

	if (off & (len - 1))
		return;
	pthread_mutex_lock(&gic->lock);
	if (gic_common(gic, cpu, false, off, len, true, &val)) {
		/* done */
	} else if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024) {
		uint32_t intid = (off - GICD_IROUTER) / 8;

		if (intid >= 32 && intid < gic->nr_irqs && (len == 8 || len == 4)) {
			uint64_t route = gic->spi[intid - 32].route;

			if (len == 8)
				route = val;
			else if (off & 4)
				route = (route & 0xffffffffULL) | (val << 32);
			else
				route = (route & ~0xffffffffULL) | (uint32_t)val;
			gic_set_route(gic, intid, route);
		}
	} else if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		uint32_t first = (off - GICD_ICFGR) * 4;

		if (len == 4 && first >= 32 && first < gic->nr_irqs)
			gic_cfg_write(gic, cpu, first, val);
	} else if (off == GICD_CTLR && len == 4) {
		gic_ctlr_write(gic, val);
	}
	pthread_mutex_unlock(&gic->lock);
}

/* GICD_CTLR's group enables (lock held) */
static void gic_ctlr_write(struct gic *gic, uint32_t val)
{
	uint32_t old = gic->ctlr;
	unsigned int c, i;

	gic->ctlr = val & (CTLR_ENABLE_G0 | CTLR_ENABLE_G1);
	/* the group enables gate every interrupt: re-mirror them all */
	if (old == gic->ctlr)
		return;
	for (c = 0; c < gic->nr_cpus; c++)
		for (i = 0; i < 32; i++)
			gic_push(gic, c, i, 0, 0);
	for (i = 32; i < gic->nr_irqs; i++)
		gic_push(gic, gic->spi[i - 32].target, i, 0, 0);
}

/*
 * GICv2 distributor: the shared registers, then ITARGETSR, the ICFGRs of
 * the banked PPIs, GICD_SGIR and the identification registers.
 */
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

static uint64_t gic2_dist_read(struct avm_dev *dev, unsigned int cpu,
			       uint64_t off, unsigned int len)
{
	struct gic *gic = dev->priv;
	uint64_t val = 0;

	if (off & (len - 1))
		return 0;
	pthread_mutex_lock(&gic->lock);
	if (gic_common(gic, cpu, false, off, len, false, &val)) {
		/* done */
	} else if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) {
		if (len == 1 || len == 4)
			val = gic2_targets_read(gic, cpu, off - GICD_ITARGETSR, len);
	} else if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		uint32_t first = (off - GICD_ICFGR) * 4;

		if (len == 4 && first == 0)
			val = 0xaaaaaaaa;	/* SGIs: edge, read-only */
		else if (len == 4 && first < gic->nr_irqs)
			val = gic_cfg_read(gic, cpu, first);
	} else if (len == 4) {
		switch (off) {
		case GICD_CTLR:
			val = gic->ctlr & (CTLR_ENABLE_G0 | CTLR_ENABLE_G1);
			break;
		case GICD_TYPER:
			/* ITLinesNumber, CPUNumber; no Security Extensions */
			val = (gic->nr_irqs / 32 - 1) | ((gic->nr_cpus - 1) & 7) << 5;
			break;
		case GICD_IIDR:
			val = IIDR_GICV2;
			break;
		case GICD_PIDR2:
			val = PIDR2_GICV2;
			break;
		}
	}
	pthread_mutex_unlock(&gic->lock);
	return val;
}

static void gic2_dist_write(struct avm_dev *dev, unsigned int cpu, uint64_t off,
			    unsigned int len, uint64_t val)
{
	struct gic *gic = dev->priv;

	if (off & (len - 1))
		return;
	pthread_mutex_lock(&gic->lock);
	if (gic_common(gic, cpu, false, off, len, true, &val)) {
		/* done */
	} else if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) {
		if (len == 1 || len == 4)
			gic2_targets_write(gic, off - GICD_ITARGETSR, len, val);
	} else if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		uint32_t first = (off - GICD_ICFGR) * 4;

		/* ICFGR0 (SGIs) is read-only; ICFGR1 is the writer's PPIs */
		if (len == 4 && first >= 16 && first < gic->nr_irqs)
			gic_cfg_write(gic, cpu, first, val);
	} else if (off == GICD_SGIR && len == 4) {
		gic2_sgi(gic, cpu, val);
	} else if (off == GICD_CTLR && len == 4) {
		gic_ctlr_write(gic, val);
	}
	/* CPENDSGIR/SPENDSGIR (per-source SGI state): RAZ/WI here */
	pthread_mutex_unlock(&gic->lock);
}

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
		fo -= GICR_SGI_OFFSET;
		if (gic_common(gic, rd, true, fo, len, false, &val)) {
			/* done */
		} else if (fo == GICR_ICFGR0 && len == 4) {
			val = 0xaaaaaaaa;	/* SGIs: edge, read-only */
		} else if (fo == GICR_ICFGR1 && len == 4) {
			val = gic_cfg_read(gic, rd, 16);
		}
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
	if (fo >= GICR_SGI_OFFSET) {
		fo -= GICR_SGI_OFFSET;
		if (!gic_common(gic, rd, true, fo, len, true, &val) &&
		    fo == GICR_ICFGR1 && len == 4)
			gic_cfg_write(gic, rd, 16, val);
	} else if (fo == GICR_WAKER && len == 4) {
		gic->waker[rd] = val & WAKER_PROCESSOR_SLEEP;
	}
	pthread_mutex_unlock(&gic->lock);
}

static int gic_fdt_node(struct avm_dev *dev, void *fdt);
static int gic2_fdt_node(struct avm_dev *dev, void *fdt);

static struct gic *gic_new(unsigned int version, unsigned int nr_cpus,
			   const uint64_t *mpidr, unsigned int nr_irqs,
			   const struct avm_irq_ops *ops, void *ctx)
{
	struct gic *gic;
	unsigned int i;

	if (!nr_cpus || nr_cpus > AVM_MAX_CPUS || nr_irqs < 64 ||
	    nr_irqs > 1024 || nr_irqs % 32 ||
	    (version == 2 && nr_cpus > GICV2_MAX_CPUS)) {
		errno = EINVAL;
		return NULL;
	}
	gic = calloc(1, sizeof(*gic));
	if (!gic)
		return NULL;
	gic->mpidr = calloc(nr_cpus, sizeof(*gic->mpidr));
	gic->waker = calloc(nr_cpus, sizeof(*gic->waker));
	gic->priv = calloc(nr_cpus * 32, sizeof(*gic->priv));
	gic->spi = calloc(nr_irqs - 32, sizeof(*gic->spi));
	if (!gic->mpidr || !gic->waker || !gic->priv || !gic->spi) {
		gic_destroy(gic);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&gic->lock, NULL);
	gic->version = version;
	gic->nr_cpus = nr_cpus;
	gic->nr_irqs = nr_irqs;
	gic->ops = ops;
	gic->ctx = ctx;
	for (i = 0; i < nr_cpus; i++)
		gic->mpidr[i] = mpidr[i] & AFF_MASK;
	for (i = 0; i < nr_irqs - 32; i++)
		gic->spi[i].irqfd = -1;

	gic->dist = (struct avm_dev){
		.name = "gicv3-dist", .base = AVM_GICD_BASE, .size = AVM_GICD_SIZE,
		.read = gic_dist_read, .write = gic_dist_write,
		.fdt_node = gic_fdt_node, .priv = gic,
	};
	gic->redist = (struct avm_dev){
		.name = "gicv3-redist", .base = AVM_GICR_BASE,
		.size = nr_cpus * AVM_GICR_STRIDE,
		.read = gic_redist_read, .write = gic_redist_write, .priv = gic,
	};
	if (version == 2)
		gic->dist = (struct avm_dev){
			.name = "gicv2-dist", .base = AVM_GICD_BASE, .size = AVM_GICD_SIZE,
			.read = gic2_dist_read, .write = gic2_dist_write,
			.fdt_node = gic2_fdt_node, .priv = gic,
		};
	return gic;
}

struct gic *gic_create(unsigned int nr_cpus, const uint64_t *mpidr,
		       unsigned int nr_irqs, const struct avm_irq_ops *ops,
		       void *ctx)
{
	return gic_new(3, nr_cpus, mpidr, nr_irqs, ops, ctx);
}

struct gic *gic_create_v2(unsigned int nr_cpus, const uint64_t *mpidr,
			  unsigned int nr_irqs, const struct avm_irq_ops *ops,
			  void *ctx)
{
	return gic_new(2, nr_cpus, mpidr, nr_irqs, ops, ctx);
}

unsigned int gic_version(const struct gic *gic)
{
	return gic->version;
}

void gic_destroy(struct gic *gic)
{
	unsigned int i;

	if (!gic)
		return;
	/* avcpu drops a binding when the VM or the eventfd goes */
	for (i = 0; gic->spi && i < gic->nr_irqs - 32; i++)
		if (gic->spi[i].irqfd >= 0)
			close(gic->spi[i].irqfd);
	free(gic->mpidr);
	free(gic->waker);
	free(gic->priv);
	free(gic->spi);
	free(gic);
}

int gic_reset(struct gic *gic)
{
	const uint64_t state = AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE;
	unsigned int c, i;

	pthread_mutex_lock(&gic->lock);
	gic->ctlr = 0;
	for (c = 0; c < gic->nr_cpus; c++) {
		/* GICR_WAKER resets with ProcessorSleep and ChildrenAsleep */
		gic->waker[c] = WAKER_PROCESSOR_SLEEP;
		for (i = 0; i < 32; i++) {
			struct gic_irq *irq = gic_irq(gic, c, i);

			/*
			 * Group 1 as KVM resets a GICv3 guest, Group 0 as a
			 * GICv2's GICD_IGROUPR resets; SGIs edge
			 */
			*irq = (struct gic_irq){ .group1 = gic->version == 3,
						 .edge = i < 16 };
			gic_push(gic, c, i, 0, state);
		}
	}
	for (i = 32; i < gic->nr_irqs; i++) {
		struct gic_irq *irq = gic_irq(gic, 0, i);
		bool line = irq->line;
		int fd;

		/* routed to vCPU 0 again: the irqfd follows */
		gic_irqfd_move(gic, i, irq->target, 0);
		fd = irq->irqfd;
		*irq = (struct gic_irq){ .group1 = gic->version == 3, .line = line,
					 .irqfd = fd };
		/* disabled everywhere: an SPI lives only in its target */
		for (c = 0; c < gic->nr_cpus; c++)
			gic_push(gic, c, i, 0, state);
	}
	pthread_mutex_unlock(&gic->lock);
	return 0;
}

struct avm_dev *gic_dist_dev(struct gic *gic)
{
	return &gic->dist;
}

struct avm_dev *gic_redist_dev(struct gic *gic)
{
	return gic->version == 3 ? &gic->redist : NULL;
}

void gic_spi_line(struct gic *gic, uint32_t intid, int level)
{
	struct gic_irq *irq;

	if (intid < 32 || intid >= gic->nr_irqs)
		return;
	pthread_mutex_lock(&gic->lock);
	irq = gic_irq(gic, 0, intid);
	if (irq->line != !!level) {
		uint64_t one = 1;

		irq->line = level;
		/*
		 * A rising edge of an edge-triggered SPI is one raise, which
		 * the irqfd is; a level line, and the line's fall, take
		 * INJECT_IRQ (as does a full eventfd, which cannot happen
		 * while avcpu reads it at every signal).
		 */
		if (!level || !irq->edge || irq->irqfd < 0 ||
		    write(irq->irqfd, &one, sizeof(one)) != sizeof(one))
			gic->ops->line(gic->ctx, irq->target, intid, level);
	}
	pthread_mutex_unlock(&gic->lock);
}

int gic_spi_irqfd(struct gic *gic, uint32_t intid)
{
	struct gic_irq *irq;
	int fd, ret;

	if (intid < 32 || intid >= gic->nr_irqs)
		return -EINVAL;
	if (!gic->ops->irqfd)
		return -EOPNOTSUPP;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&gic->lock);
	irq = gic_irq(gic, 0, intid);
	if (irq->irqfd >= 0)
		ret = -EEXIST;
	else
		ret = gic->ops->irqfd(gic->ctx, irq->target, intid, fd, true);
	if (!ret)
		irq->irqfd = fd;
	pthread_mutex_unlock(&gic->lock);
	if (ret)
		close(fd);
	return ret;
}

unsigned int gic_spi_target(struct gic *gic, uint32_t intid)
{
	unsigned int t = 0;

	if (intid < 32 || intid >= gic->nr_irqs)
		return 0;
	pthread_mutex_lock(&gic->lock);
	t = gic->spi[intid - 32].target;
	pthread_mutex_unlock(&gic->lock);
	return t;
}

/*
 * An enable (ISENABLER), a read of any register and GICD_CTLR always exit,
 * and avm applies the posted writes before it handles any exit, so every
 * configuration write is in place before the interrupt it configures can
 * be delivered, and a read sees it.
 */
const struct gic_range gic_dist_posted[] = {
	{ GICD_IGROUPR, 0x80 },
	{ GICD_IPRIORITYR, 0x400 },
	{ GICD_ICFGR, 0x100 },
	{ GICD_IROUTER, 0x2000 },
};
const unsigned int gic_nr_dist_posted =
	sizeof(gic_dist_posted) / sizeof(gic_dist_posted[0]);

static int gic_fdt_node(struct avm_dev *dev, void *fdt)
{
	struct gic *gic = dev->priv;
	uint64_t reg[] = {
		AVM_GICD_BASE, AVM_GICD_SIZE,
		AVM_GICR_BASE, (uint64_t)gic->nr_cpus * AVM_GICR_STRIDE,
	};
	uint32_t maint[] = { 1, AVM_PPI_MAINT - 16, 4 };
	char name[32];
	unsigned int i;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)AVM_GICD_BASE);
	AVM_FDT_CHECK(fdt_begin_node(fdt, name));
	AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	AVM_FDT_CHECK(fdt_property(fdt, "ranges", NULL, 0));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#redistributor-regions", 1));
	for (i = 0; i < 4; i++)
		reg[i] = cpu_to_fdt64(reg[i]);
	AVM_FDT_CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
	for (i = 0; i < 3; i++)
		maint[i] = cpu_to_fdt32(maint[i]);
	AVM_FDT_CHECK(fdt_property(fdt, "interrupts", maint, sizeof(maint)));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "phandle", AVM_PHANDLE_GIC));
	return fdt_end_node(fdt);
}

/*
 * GICv2 (the kernel's arm,gic.yaml): the distributor and the 8K CPU
 * interface at QEMU virt's addresses; no GICH/GICV and no maintenance
 * interrupt, since the guest has no virtualization extensions.
 */
static int gic2_fdt_node(struct avm_dev *dev, void *fdt)
{
	uint64_t reg[] = {
		AVM_GICD_BASE, AVM_GICD_SIZE, AVM_GICC_BASE, AVM_GICC_SIZE,
	};
	char name[32];
	unsigned int i;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)AVM_GICD_BASE);
	AVM_FDT_CHECK(fdt_begin_node(fdt, name));
	AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic"));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	for (i = 0; i < 4; i++)
		reg[i] = cpu_to_fdt64(reg[i]);
	AVM_FDT_CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "phandle", AVM_PHANDLE_GIC));
	return fdt_end_node(fdt);
}
