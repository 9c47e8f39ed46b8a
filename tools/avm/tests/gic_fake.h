/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording fake behind struct avm_irq_ops for avm's GIC model tests: it
 * keeps every vCPU's INTIDs the way kmod/vgic.c does (set_mask applied
 * bit by bit, pending = latch or a high level line), refuses what the
 * kernel refuses (and counts it), logs the calls, and binds irqfds as
 * AVCPU_IRQFD does (gic_fake.c).
 */
#ifndef AVM_GIC_FAKE_H
#define AVM_GIC_FAKE_H

#include <stdbool.h>

#include "gic.h"

/* Register offsets, IHI 0069 12.9 (GICD) and 12.11 (GICR) */
#define GICD_CTLR	0x0000
#define GICD_TYPER	0x0004
#define GICD_IIDR	0x0008
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_ICENABLER	0x0180
#define GICD_ISPENDR	0x0200
#define GICD_ICPENDR	0x0280
#define GICD_ISACTIVER	0x0300
#define GICD_ICACTIVER	0x0380
#define GICD_IPRIORITYR	0x0400
#define GICD_ICFGR	0x0c00
#define GICD_IROUTER	0x6000
#define GICD_PIDR2	0xffe8

#define GICR_IIDR	0x0004
#define GICR_TYPER	0x0008
#define GICR_WAKER	0x0014
#define GICR_PIDR2	0xffe8
#define SGI_BASE	0x10000
#define GICR_ICFGR0	(SGI_BASE + 0x0c00)
#define GICR_ICFGR1	(SGI_BASE + 0x0c04)

#define CTLR_G0		(1U << 0)
#define CTLR_G1		(1U << 1)
#define CTLR_ARE	(1U << 4)
#define CTLR_DS		(1U << 6)
#define CTLR_RWP	(1U << 31)
#define WAKER_PS	(1U << 1)
#define WAKER_CA	(1U << 2)

#define CFG_MASK	(AVCPU_IRQ_ENABLED | AVCPU_IRQ_GROUP1 | AVCPU_IRQ_LEVEL)
#define SET_MASK	(CFG_MASK | AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE | \
			 AVCPU_IRQ_PRIORITY)
#define STATE_MASK	(AVCPU_IRQ_PENDING | AVCPU_IRQ_ACTIVE)

#define NR_IRQS		AVM_NR_IRQS
#define NR_CPUS		4
#define LOG_SIZE	8192
#define FAKE_IRQFDS	16

/* One INTID of one vCPU, as kmod/vgic.c keeps it */
struct fake_irq {
	uint64_t cfg;		/* ENABLED, GROUP1, LEVEL */
	uint8_t priority;
	bool latch;		/* pending by an edge or a SET_IRQ */
	bool active;
	bool line;
};

struct fake_line {
	unsigned int cpu;
	uint32_t intid;
	int level;
};

struct fake {
	unsigned int nr_cpus;
	unsigned int nr_irqs;
	struct fake_irq *irq;		/* nr_cpus * nr_irqs */
	int fail_set;			/* SET_IRQ returns this when non-zero */
	unsigned int errors;		/* calls the kernel would refuse */
	unsigned int nr_set, nr_get, nr_line;
	struct { unsigned int cpu; struct avcpu_irq irq; } set[LOG_SIZE];
	struct fake_line line[LOG_SIZE];
	/* irqfds as AVCPU_IRQFD binds them: one binding per eventfd */
	int fail_irqfd;			/* IRQFD returns this when non-zero */
	unsigned int nr_irqfd_calls;
	unsigned int nr_irqfd;
	struct { int fd; unsigned int cpu; uint32_t intid; } irqfd[FAKE_IRQFDS];
};

struct fake_irq *fake_irq(struct fake *f, unsigned int cpu, uint32_t intid);
bool fake_valid(struct fake *f, unsigned int cpu, uint32_t intid);
int fake_set(void *ctx, unsigned int cpu, const struct avcpu_irq *r);
bool fake_pending(const struct fake_irq *irq);
int fake_get(void *ctx, unsigned int cpu, struct avcpu_irq *r);
int fake_line(void *ctx, unsigned int cpu, uint32_t intid, int level);
struct fake *fake_new(unsigned int nr_cpus, unsigned int nr_irqs);
void fake_free(struct fake *f);
void fake_clear_log(struct fake *f);
/*
 * A GIC of NR_CPUS vCPUs with avm's MPIDRs (left in @mpidr) on @f, reset,
 * the log cleared: NULL on failure.
 */
struct gic *fake_gic(struct fake *f, uint64_t mpidr[NR_CPUS]);
int fake_irqfd(void *ctx, unsigned int cpu, uint32_t intid, int fd, bool assign);
/* The vCPU eventfd @fd is bound to, or -1 */
int fake_irqfd_cpu(struct fake *f, int fd);
/*
 * What avcpu does when a bound eventfd is signalled: read the count and
 * raise the line once (an edge latches). Returns how many eventfds had one.
 */
unsigned int fake_irqfd_deliver(struct fake *f);
uint64_t dread(struct gic *g, uint64_t off, unsigned int len);
void dwrite(struct gic *g, uint64_t off, unsigned int len, uint64_t val);
uint64_t rread(struct gic *g, unsigned int cpu, uint64_t off, unsigned int len);
void rwrite(struct gic *g, unsigned int cpu, uint64_t off, unsigned int len, uint64_t val);

extern const struct avm_irq_ops fake_ops;

/* The one-bit-per-INTID registers: word and bit of @intid */
#define BITREG(base, intid)	((base) + ((intid) / 32) * 4)
#define BIT32(intid)		(1U << ((intid) % 32))

#endif /* AVM_GIC_FAKE_H */
