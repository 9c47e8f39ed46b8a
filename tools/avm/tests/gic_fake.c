// SPDX-License-Identifier: GPL-2.0
/*
 * The recording fake behind struct avm_irq_ops (gic_fake.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gic_fake.h"

struct fake_irq *fake_irq(struct fake *f, unsigned int cpu,
				 uint32_t intid)
{
	return &f->irq[cpu * f->nr_irqs + intid];
}

bool fake_valid(struct fake *f, unsigned int cpu, uint32_t intid)
{
	return cpu < f->nr_cpus && intid < f->nr_irqs;
}

int fake_set(void *ctx, unsigned int cpu, const struct avcpu_irq *r)
{
	struct fake *f = ctx;
	uint64_t m = r->set_mask;
	struct fake_irq *irq;

	if (f->nr_set < LOG_SIZE) {
		f->set[f->nr_set].cpu = cpu;
		f->set[f->nr_set].irq = *r;
	}
	f->nr_set++;
	if (f->fail_set)
		return f->fail_set;
	/* kmod/vgic.c avcpu_vgic_set(): what it refuses with EINVAL */
	if (!fake_valid(f, cpu, r->intid) || (m & ~SET_MASK) ||
	    (r->flags & ~(SET_MASK | AVCPU_IRQ_LINE)) ||
	    (r->intid < 16 && (m & r->flags & AVCPU_IRQ_LEVEL))) {
		f->errors++;
		return -EINVAL;
	}
	irq = fake_irq(f, cpu, r->intid);
	irq->cfg = (irq->cfg & ~(m & CFG_MASK)) | (r->flags & m & CFG_MASK);
	if (m & AVCPU_IRQ_PRIORITY)
		irq->priority = r->priority;
	if (m & AVCPU_IRQ_PENDING)
		irq->latch = r->flags & AVCPU_IRQ_PENDING;
	if (m & AVCPU_IRQ_ACTIVE)
		irq->active = r->flags & AVCPU_IRQ_ACTIVE;
	return 0;
}

bool fake_pending(const struct fake_irq *irq)
{
	return irq->latch || ((irq->cfg & AVCPU_IRQ_LEVEL) && irq->line);
}

int fake_get(void *ctx, unsigned int cpu, struct avcpu_irq *r)
{
	struct fake *f = ctx;
	struct fake_irq *irq;

	f->nr_get++;
	if (!fake_valid(f, cpu, r->intid) || r->set_mask) {
		f->errors++;
		return -EINVAL;
	}
	irq = fake_irq(f, cpu, r->intid);
	r->priority = irq->priority;
	r->flags = irq->cfg;
	if (fake_pending(irq))
		r->flags |= AVCPU_IRQ_PENDING;
	if (irq->active)
		r->flags |= AVCPU_IRQ_ACTIVE;
	if (irq->line)
		r->flags |= AVCPU_IRQ_LINE;
	return 0;
}

int fake_line(void *ctx, unsigned int cpu, uint32_t intid, int level)
{
	struct fake *f = ctx;
	struct fake_irq *irq;

	if (f->nr_line < LOG_SIZE)
		f->line[f->nr_line] = (struct fake_line){ cpu, intid, level };
	f->nr_line++;
	if (!fake_valid(f, cpu, intid) || level < 0 || level > 1) {
		f->errors++;
		return -EINVAL;
	}
	irq = fake_irq(f, cpu, intid);
	irq->line = level;
	if (level && !(irq->cfg & AVCPU_IRQ_LEVEL))
		irq->latch = true;
	return 0;
}

int fake_irqfd(void *ctx, unsigned int cpu, uint32_t intid, int fd, bool assign)
{
	struct fake *f = ctx;
	unsigned int i;

	f->nr_irqfd_calls++;
	if (f->fail_irqfd)
		return f->fail_irqfd;
	for (i = 0; i < f->nr_irqfd && f->irqfd[i].fd != fd; i++)
		;
	/* kmod/eventfd.c: EEXIST for a bound eventfd, ENOENT for an unbound one */
	if (assign) {
		if (i < f->nr_irqfd || !fake_valid(f, cpu, intid) ||
		    f->nr_irqfd == FAKE_IRQFDS) {
			f->errors++;
			return -EEXIST;
		}
		f->irqfd[f->nr_irqfd].fd = fd;
		f->irqfd[f->nr_irqfd].cpu = cpu;
		f->irqfd[f->nr_irqfd++].intid = intid;
		return 0;
	}
	if (i == f->nr_irqfd) {
		f->errors++;
		return -ENOENT;
	}
	f->irqfd[i] = f->irqfd[--f->nr_irqfd];
	return 0;
}

int fake_irqfd_cpu(struct fake *f, int fd)
{
	unsigned int i;

	for (i = 0; i < f->nr_irqfd; i++)
		if (f->irqfd[i].fd == fd)
			return f->irqfd[i].cpu;
	return -1;
}

unsigned int fake_irqfd_deliver(struct fake *f)
{
	unsigned int i, n = 0;
	uint64_t cnt;

	for (i = 0; i < f->nr_irqfd; i++) {
		struct fake_irq *irq;

		if (read(f->irqfd[i].fd, &cnt, sizeof(cnt)) != sizeof(cnt) || !cnt)
			continue;
		n++;
		irq = fake_irq(f, f->irqfd[i].cpu, f->irqfd[i].intid);
		irq->line = true;
		if (!(irq->cfg & AVCPU_IRQ_LEVEL))
			irq->latch = true;
	}
	return n;
}

const struct avm_irq_ops fake_ops = {
	.set = fake_set, .get = fake_get, .line = fake_line, .irqfd = fake_irqfd,
};

/* A fake in avcpu's initial state: enabled, Group 1, 0xa0, PPIs/SPIs level */
struct fake *fake_new(unsigned int nr_cpus, unsigned int nr_irqs)
{
	struct fake *f = calloc(1, sizeof(*f));
	unsigned int c, i;

	if (!f)
		return NULL;
	f->nr_cpus = nr_cpus;
	f->nr_irqs = nr_irqs;
	f->irq = calloc((size_t)nr_cpus * nr_irqs, sizeof(*f->irq));
	if (!f->irq) {
		free(f);
		return NULL;
	}
	for (c = 0; c < nr_cpus; c++)
		for (i = 0; i < nr_irqs; i++)
			*fake_irq(f, c, i) = (struct fake_irq){
				.cfg = AVCPU_IRQ_ENABLED | AVCPU_IRQ_GROUP1 |
				       (i >= 16 ? AVCPU_IRQ_LEVEL : 0),
				.priority = 0xa0,
			};
	return f;
}

void fake_free(struct fake *f)
{
	if (f)
		free(f->irq);
	free(f);
}

/* Forget the call logs: what follows is what a test looks at. */
void fake_clear_log(struct fake *f)
{
	f->nr_set = f->nr_get = f->nr_line = f->nr_irqfd_calls = 0;
}

struct gic *fake_gic(struct fake *f, uint64_t mpidr[NR_CPUS])
{
	struct gic *g;
	unsigned int i;

	for (i = 0; i < NR_CPUS; i++)
		mpidr[i] = avm_mpidr(i);
	g = gic_create(NR_CPUS, mpidr, NR_IRQS, &fake_ops, f);
	if (g && gic_reset(g)) {
		gic_destroy(g);
		g = NULL;
	}
	fake_clear_log(f);
	return g;
}

/* MMIO through the devices, as vcpu.c dispatches it */
uint64_t dread(struct gic *g, uint64_t off, unsigned int len)
{
	struct avm_dev *d = gic_dist_dev(g);

	return d->read(d, 0, off, len);
}

void dwrite(struct gic *g, uint64_t off, unsigned int len, uint64_t val)
{
	struct avm_dev *d = gic_dist_dev(g);

	d->write(d, 0, off, len, val);
}

/* @off in vCPU @cpu's redistributor (SGI_BASE + x for its SGI frame) */
uint64_t rread(struct gic *g, unsigned int cpu, uint64_t off,
		      unsigned int len)
{
	struct avm_dev *d = gic_redist_dev(g);

	return d->read(d, cpu, cpu * AVM_GICR_STRIDE + off, len);
}

void rwrite(struct gic *g, unsigned int cpu, uint64_t off,
		   unsigned int len, uint64_t val)
{
	struct avm_dev *d = gic_redist_dev(g);

	d->write(d, cpu, cpu * AVM_GICR_STRIDE + off, len, val);
}
