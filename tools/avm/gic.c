// SPDX-License-Identifier: GPL-2.0
/*
 * What avm's GICv3 (gicv3.c) and GICv2 (gicv2.c) distributors share: the
 * registers of the same layout in both (the one-bit-per-INTID families,
 * IPRIORITYR, ICFGR; IHI 0069 chapter 12, IHI 0048B chapter 4), GICD_CTLR
 * and the identification registers, routing an SPI into the vCPU it
 * targets, reset, and the device side (SPI lines and irqfds). The model
 * holds the configuration (enable, group, priority, trigger, routing) and
 * mirrors it into the vCPUs through avm_irq_ops, that is avcpu's SET_IRQ;
 * pending and active states live in the kernel, where the guest's
 * acknowledge and completion change them without exits, so they are read
 * back with GET_IRQ and written with SET_IRQ. An SPI is configured only in
 * the vCPU it is routed to; every other vCPU keeps it disabled.
 *
 * An SPI may have an irqfd (gic_spi_irqfd()): an eventfd avcpu binds to
 * the line of the vCPU the SPI is routed to, so that a device's I/O
 * thread raises an edge-triggered SPI with a write to it instead of an
 * INJECT_IRQ on a vCPU fd. The model moves the binding with the route.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "gic_model.h"

/* The register families that hold one bit per INTID */
enum gic_bits { BITS_GROUP, BITS_SENABLE, BITS_CENABLE, BITS_SPEND,
		BITS_CPEND, BITS_SACTIVE, BITS_CACTIVE };

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
	    !(gic->model->version == 2 && intid >= 32 && !irq->route))
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

void gic_set_route(struct gic *gic, uint32_t intid, uint64_t route)
{
	struct gic_irq *irq = gic_irq(gic, 0, intid);
	unsigned int old = irq->target, new;
	uint64_t carry;

	new = gic->model->route(gic, &route);
	irq->route = route;
	if (new == old) {
		/* GICv2: a list emptied or filled again changes the enable */
		if (gic->model->version == 2)
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
 * families, IPRIORITYR and ICFGR, at the same offsets in the distributor
 * and in a redistributor's SGI frame. A GICv3 distributor ignores INTIDs
 * below 32 (RAZ/WI with ARE = 1); a redistributor knows only those; a
 * GICv2 distributor has them all, those below 32 banked per CPU.
 */
bool gic_common(struct gic *gic, unsigned int cpu, bool redist, uint64_t off,
		unsigned int len, bool write, uint64_t *val)
{
	uint32_t low = redist || gic->model->version == 2 ? 0 : 32;
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
		if (len != 4 || first < low || first >= limit)
			return true;
		if (write)
			gic_bits_write(gic, cpu, fam[i].kind, first, *val);
		else
			*val = gic_bits_read(gic, cpu, fam[i].kind, first);
		return true;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
		first = off - GICD_IPRIORITYR;
		if ((len != 1 && len != 4) || first < low || first >= limit)
			return true;
		if (write)
			gic_prio_write(gic, cpu, first, len, *val);
		else
			*val = gic_prio_read(gic, cpu, first, len);
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		first = (off - GICD_ICFGR) * 4;
		if (len != 4 || first < low || first >= limit)
			return true;
		/* ICFGR0: the SGIs, edge-triggered and read-only */
		if (first == 0) {
			if (!write)
				*val = 0xaaaaaaaa;
		} else if (write) {
			gic_cfg_write(gic, cpu, first, *val);
		} else {
			*val = gic_cfg_read(gic, cpu, first);
		}
		return true;
	}
	return false;
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
 * The distributor: the shared registers here, the model's own through its
 * hooks. An access not aligned to its size is RAZ/WI (IHI 0069 12.1.3).
 */
static uint64_t gic_dist_read(struct avm_dev *dev, unsigned int cpu,
			      uint64_t off, unsigned int len)
{
	struct gic *gic = dev->priv;
	const struct gic_model *m = gic->model;
	uint64_t val = 0;

	if (off & (len - 1))
		return 0;
	pthread_mutex_lock(&gic->lock);
	if (gic_common(gic, cpu, false, off, len, false, &val)) {
		/* done */
	} else if (len == 4 && off == GICD_CTLR) {
		/* GICv3's RWP (bit 31) always 0: every write takes effect at once */
		val = gic->ctlr | m->ctlr;
	} else if (len == 4 && off == GICD_TYPER) {
		/* ITLinesNumber, CPUNumber and the model's */
		val = (gic->nr_irqs / 32 - 1) | ((gic->nr_cpus - 1) & 7) << 5 |
		      m->typer;
	} else if (len == 4 && off == GICD_IIDR) {
		val = m->iidr;
	} else if (len == 4 && off == GICD_PIDR2) {
		val = m->pidr2;
	} else {
		val = m->dist_read(gic, cpu, off, len);
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
	if (gic_common(gic, cpu, false, off, len, true, &val))
		; /* done */
	else if (len == 4 && off == GICD_CTLR)
		gic_ctlr_write(gic, val);
	else
		gic->model->dist_write(gic, cpu, off, len, val);
	pthread_mutex_unlock(&gic->lock);
}

struct gic *gic_new(const struct gic_model *model, unsigned int nr_cpus,
		    const uint64_t *mpidr, unsigned int nr_irqs,
		    const struct avm_irq_ops *ops, void *ctx)
{
	struct gic *gic;
	unsigned int i;

	if (!nr_cpus || nr_cpus > model->max_cpus || nr_irqs < 64 ||
	    nr_irqs > 1024 || nr_irqs % 32) {
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
	gic->model = model;
	gic->nr_cpus = nr_cpus;
	gic->nr_irqs = nr_irqs;
	gic->ops = ops;
	gic->ctx = ctx;
	for (i = 0; i < nr_cpus; i++)
		gic->mpidr[i] = mpidr[i] & MPIDR_AFF_MASK;
	for (i = 0; i < nr_irqs - 32; i++)
		gic->spi[i].irqfd = -1;
	gic->dist = (struct avm_dev){
		.name = model->name, .base = AVM_GICD_BASE, .size = AVM_GICD_SIZE,
		.read = gic_dist_read, .write = gic_dist_write,
		.fdt_node = model->fdt_node, .priv = gic,
	};
	return gic;
}

unsigned int gic_version(const struct gic *gic)
{
	return gic->model->version;
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
			*irq = (struct gic_irq){ .group1 = gic->model->reset_group1,
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
		*irq = (struct gic_irq){ .group1 = gic->model->reset_group1, .line = line,
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
	return gic->redist.size ? &gic->redist : NULL;
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

int gic_fdt_begin(void *fdt, const char *compatible, const uint64_t *reg,
		  unsigned int nr_reg)
{
	uint64_t cells[4];
	char name[32];
	unsigned int i;

	if (nr_reg > 4)
		return -FDT_ERR_BADVALUE;
	for (i = 0; i < nr_reg; i++)
		cells[i] = cpu_to_fdt64(reg[i]);
	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)AVM_GICD_BASE);
	AVM_FDT_CHECK(fdt_begin_node(fdt, name));
	AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", compatible));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	AVM_FDT_CHECK(fdt_property(fdt, "reg", cells, nr_reg * sizeof(cells[0])));
	return fdt_property_u32(fdt, "phandle", AVM_PHANDLE_GIC);
}
