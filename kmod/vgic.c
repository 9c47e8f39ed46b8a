// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's interrupts: what the VMM's distributor made pending, in what
 * order the guest sees them, and how they reach the GICv3 virtual CPU
 * interface (Arm GIC architecture specification, IHI 0069, chapter 12:
 * "Virtual interrupt handling and prioritization").
 *
 * The software state here is the truth; the list registers hold a window
 * of it while the guest runs. Before each entry (IRQs off) the highest-
 * priority interrupts are written to the LRs; after the exit their LR state
 * is folded back. An LR owns the pending state of what it holds: an edge
 * raised again while the guest runs sets the latch anew and is not lost;
 * one the guest acknowledged is not delivered twice.
 *
 * More candidates than LRs: the rest wait here, and ICH_HCR_EL2.NPIE asks
 * for a maintenance interrupt (an exit) once no LR holds a pending one.
 * Level-sensitive interrupts carry ICH_LR.EOI, so the guest's deactivation
 * exits and the line is sampled again: still high, it is pending again.
 * Active interrupts beyond the LRs are completed through EOIcount
 * (ICH_HCR_EL2.LRENPIE).
 *
 * INJECT_IRQ and SET_IRQ may come from any thread at any time: they update
 * this state under @lock and kick the vCPU (avcpu_vcpu_kick), which leaves
 * the guest or its WFI sleep and reloads the LRs.
 *
 * This state machine serves both GICs. The LRs are kept in the GICv3
 * ICH_LR<n>_EL2 layout; on a GICv3 host the world switch moves them
 * (hyp/vgic-sr.h), on a GICv2 host vgic-v2.c does, translating to
 * GICH_LR<n>. The one difference the state machine sees is GICv2's SGIs,
 * which carry their source CPU (IHI 0048B, 3.2.2): one is pending once per
 * source, an LR holds one source at a time, and an LR whose SGI has more
 * sources waiting asks for an EOI maintenance exit to load the next.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/sysreg.h>

#include "avcpu.h"
#include "trace.h"

#define AVCPU_NR_SGIS		16
#define AVCPU_NR_PRIVATE	32
#define AVCPU_DEFAULT_PRIORITY	0xa0

#define AVCPU_IRQ_CFG_MASK	(AVCPU_IRQ_ENABLED | AVCPU_IRQ_GROUP1 | \
				 AVCPU_IRQ_LEVEL)
#define AVCPU_IRQ_SET_MASK	(AVCPU_IRQ_CFG_MASK | AVCPU_IRQ_PENDING | \
				 AVCPU_IRQ_ACTIVE | AVCPU_IRQ_PRIORITY)

/* From ICH_VTR_EL2 (IHI 0069, 12.4.10), read once at EL2. */
void avcpu_vgic_host_init(u64 vtr)
{
	u32 pri_bits = ((vtr & ICH_VTR_PRI_BITS_MASK) >> ICH_VTR_PRI_BITS_SHIFT) + 1;
	u32 pre_bits = ((vtr >> 26) & 7) + 1;

	avcpu_host.nr_lrs = min_t(u32, (vtr & 0x1f) + 1, AVCPU_MAX_LRS);
	/* 5 preemption bits: 32 levels, one 32-bit APR; 6: two; 7: four */
	avcpu_host.nr_apr = pre_bits >= 7 ? 4 : pre_bits == 6 ? 2 : 1;
	avcpu_host.pri_mask = GENMASK(7, 8 - pri_bits);
}

/*
 * The GIC maintenance interrupt (NPIE, LRENPIE, EOI of a level-sensitive
 * interrupt) ends the guest: that exit is the point, and the condition is
 * gone with ICH_HCR_EL2.EN = 0 after it, so the handler has nothing to do.
 */
static irqreturn_t avcpu_vgic_maint(int irq, void *cookie)
{
	return IRQ_HANDLED;
}

void avcpu_vgic_module_init(void)
{
	avcpu_hirq_request(AVCPU_HIRQ_MAINT, avcpu_vgic_maint, "avcpu-maint");
}

int avcpu_vgic_init(struct avcpu_vcpu *vcpu)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	u32 i;

	raw_spin_lock_init(&v->lock);
	v->nr_irqs = vcpu->vm->nr_irqs;
	v->irq = kcalloc(v->nr_irqs, sizeof(*v->irq), GFP_KERNEL_ACCOUNT);
	v->live = bitmap_zalloc(v->nr_irqs, GFP_KERNEL_ACCOUNT);
	if (!v->irq || !v->live) {
		avcpu_vgic_destroy(vcpu);
		return -ENOMEM;
	}
	for (i = 0; i < v->nr_irqs; i++) {
		v->irq[i].priority = AVCPU_DEFAULT_PRIORITY;
		v->irq[i].cfg = AVCPU_IRQ_ENABLED | AVCPU_IRQ_GROUP1;
		/* SGIs are edge-triggered; the rest reset level-sensitive */
		if (i >= AVCPU_NR_SGIS)
			v->irq[i].cfg |= AVCPU_IRQ_LEVEL;
	}
	/* the world switch moves GICv3's LRs; vgic-v2.c moves GICv2's */
	vcpu->ctx.vgic.nr_lrs = avcpu_gic_v2() ? 0 : avcpu_host.nr_lrs;
	vcpu->ctx.vgic.nr_apr = avcpu_host.nr_apr;
	return 0;
}

void avcpu_vgic_destroy(struct avcpu_vcpu *vcpu)
{
	kfree(vcpu->vgic.irq);
	bitmap_free(vcpu->vgic.live);
	vcpu->vgic.irq = NULL;
	vcpu->vgic.live = NULL;
}

static bool avcpu_virq_pending(const struct avcpu_virq *irq)
{
	return (irq->st & AVCPU_VIRQ_LATCH) ||
	       ((irq->cfg & AVCPU_IRQ_LEVEL) &&
		(irq->st & (AVCPU_VIRQ_LINE | AVCPU_VIRQ_TLINE)));
}

/* Keep @live in step with one interrupt's state; @lock held. */
static void avcpu_virq_update(struct avcpu_vgic *v, u32 intid)
{
	struct avcpu_virq *irq = &v->irq[intid];

	if (avcpu_virq_pending(irq) || (irq->st & AVCPU_VIRQ_ACTIVE))
		__set_bit(intid, v->live);
	else
		__clear_bit(intid, v->live);
}

/* Lower is more urgent: priority (the implemented bits), then INTID. */
static u32 avcpu_virq_key(const struct avcpu_virq *irq, u32 intid)
{
	return (u32)(irq->priority & avcpu_host.pri_mask) << 16 | intid;
}

struct avcpu_lr_pick {
	u32 key;
	u32 intid;
};

/* Insert into @set (sorted, at most @max); returns what fell out, or U32_MAX. */
static u32 avcpu_pick_insert(struct avcpu_lr_pick *set, u32 *n, u32 max,
			     u32 key, u32 intid)
{
	u32 out = U32_MAX, i;

	if (*n == max) {
		if (key >= set[max - 1].key)
			return intid;
		out = set[max - 1].intid;
		(*n)--;
	}
	for (i = *n; i > 0 && set[i - 1].key > key; i--)
		set[i] = set[i - 1];
	set[i].key = key;
	set[i].intid = intid;
	(*n)++;
	return out;
}

/*
 * GICv2: the LR for SGI @id takes one source CPU (@lock held). An active
 * SGI keeps the source it was acknowledged from and cannot be pending in
 * the same LR, which would be pending from that source again; a pending
 * one takes its lowest waiting source. With more sources waiting, the
 * LR's EOI bit brings the vCPU out when the guest deactivates this one,
 * and the next entry loads the next (IHI 0048B, 5.3.12, GICH_LR.EOI).
 */
static u64 avcpu_vgic_v2_sgi_lr(struct avcpu_vgic *v, u32 n, u32 id, u64 lr)
{
	struct avcpu_virq *irq = &v->irq[id];
	u8 waiting = v->sgi_src[id];

	if (lr & ICH_LR_ACTIVE_BIT) {
		lr &= ~ICH_LR_PENDING_BIT;
		v->lr_src[n] = v->sgi_act[id];
	} else if (lr & ICH_LR_PENDING_BIT) {
		/* SET_IRQ made it pending without a source: CPU 0's */
		if (!waiting)
			waiting = BIT(0);
		v->lr_src[n] = __ffs(waiting);
		waiting &= ~BIT(v->lr_src[n]);
		v->sgi_src[id] = waiting;
		v->lr_latched[n] = true;
		/* with sources left the latch stays: the LR holds just one */
		if (!waiting)
			irq->st &= ~AVCPU_VIRQ_LATCH;
	} else {
		v->lr_src[n] = 0;
	}
	if (waiting && (irq->st & AVCPU_VIRQ_LATCH))
		lr |= ICH_LR_EOI;
	return lr;
}

/*
 * Fill the LRs for the next entry: active interrupts first (the guest will
 * complete them), then pending and enabled ones by priority, keeping one LR
 * for the most urgent pending interrupt if actives would fill them all.
 * Called with IRQs off, after vcpu->in_guest is set.
 */
void avcpu_vgic_flush(struct avcpu_vcpu *vcpu)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_vgic_cpu *c = &vcpu->ctx.vgic;
	struct avcpu_lr_pick act[AVCPU_MAX_LRS], pend[AVCPU_MAX_LRS];
	u32 nr_act = 0, nr_pend = 0, nr_lrs = avcpu_host.nr_lrs, n;
	bool more_pend = false, more_act = false, any_pend = false;
	unsigned long intid;
	u64 hcr = ICH_HCR_EN;

	/*
	 * Nothing pending or active: no LR to fill. Racing with an injection
	 * is fine: it sees in_guest and kicks.
	 */
	if (bitmap_empty(v->live, v->nr_irqs)) {
		c->used_lrs = 0;
		c->hcr = hcr;
		goto load;
	}

	raw_spin_lock(&v->lock);
	for_each_set_bit(intid, v->live, v->nr_irqs) {
		struct avcpu_virq *irq = &v->irq[intid];
		u32 key = avcpu_virq_key(irq, intid);

		irq->st &= ~AVCPU_VIRQ_DIRTY;
		if (irq->st & AVCPU_VIRQ_ACTIVE) {
			if (avcpu_pick_insert(act, &nr_act, nr_lrs, key,
					      intid) != U32_MAX)
				more_act = true;
		} else if (avcpu_virq_pending(irq) &&
			   (irq->cfg & AVCPU_IRQ_ENABLED)) {
			if (avcpu_pick_insert(pend, &nr_pend, nr_lrs, key,
					      intid) != U32_MAX)
				more_pend = true;
		}
	}
	/* the LRs left after the actives go to the most urgent pending ones */
	if (nr_act == nr_lrs && nr_pend) {
		nr_act--;
		more_act = true;
	}
	if (nr_pend > nr_lrs - nr_act) {
		nr_pend = nr_lrs - nr_act;
		more_pend = true;
	}

	for (n = 0; n < nr_act + nr_pend; n++) {
		u32 id = n < nr_act ? act[n].intid : pend[n - nr_act].intid;
		struct avcpu_virq *irq = &v->irq[id];
		bool level = irq->cfg & AVCPU_IRQ_LEVEL;
		u64 lr = id | (u64)irq->priority << ICH_LR_PRIORITY_SHIFT;

		if (irq->cfg & AVCPU_IRQ_GROUP1)
			lr |= ICH_LR_GROUP;
		if (irq->st & AVCPU_VIRQ_ACTIVE)
			lr |= ICH_LR_ACTIVE_BIT;
		/*
		 * Pending too, unless it is an active level interrupt: that
		 * one is sampled again when the guest deactivates it (EOI
		 * maintenance), by which time its handler has usually
		 * quietened the source.
		 */
		if (avcpu_virq_pending(irq) && (irq->cfg & AVCPU_IRQ_ENABLED) &&
		    !(level && (irq->st & AVCPU_VIRQ_ACTIVE)))
			lr |= ICH_LR_PENDING_BIT;
		if (level)
			lr |= ICH_LR_EOI;
		v->lr_latched[n] = false;
		if (avcpu_gic_v2() && id < AVCPU_NR_SGIS)
			lr = avcpu_vgic_v2_sgi_lr(v, n, id, lr);
		if (lr & ICH_LR_PENDING_BIT) {
			any_pend = true;
			if ((irq->st & AVCPU_VIRQ_LATCH) && !v->lr_latched[n]) {
				/* the LR owns it now; the exit gives it back */
				irq->st &= ~AVCPU_VIRQ_LATCH;
				v->lr_latched[n] = true;
			}
		}
		v->lr_intid[n] = id;
		c->lr[n] = lr;
	}
	c->used_lrs = n;

	if (more_pend && any_pend)
		hcr |= ICH_HCR_NPIE;
	if (more_act)
		hcr |= BIT(2);	/* LRENPIE: EOIcount non-zero */
	/* EN even with no LR in use: the guest's ICV_ registers need it */
	c->hcr = hcr;
	raw_spin_unlock(&v->lock);
load:
	if (avcpu_gic_v2())
		avcpu_gicv2_load(c, v->lr_src);
}

/* The highest-priority active interrupt not in an LR; @lock held. */
static int avcpu_vgic_unlisted_active(struct avcpu_vgic *v, u32 used)
{
	u32 best_key = U32_MAX, i;
	unsigned long intid;
	int best = -1;

	for_each_set_bit(intid, v->live, v->nr_irqs) {
		struct avcpu_virq *irq = &v->irq[intid];

		if (!(irq->st & AVCPU_VIRQ_ACTIVE))
			continue;
		for (i = 0; i < used; i++)
			if (v->lr_intid[i] == intid)
				break;
		if (i == used && avcpu_virq_key(irq, intid) < best_key) {
			best_key = avcpu_virq_key(irq, intid);
			best = intid;
		}
	}
	return best;
}

/* Fold the LRs back after an exit. IRQs off. */
void avcpu_vgic_sync(struct avcpu_vcpu *vcpu)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_vgic_cpu *c = &vcpu->ctx.vgic;
	u32 i, eoicount;

	if (avcpu_gic_v2())
		avcpu_gicv2_save(c);
	eoicount = (c->hcr & ICH_HCR_EOIcount_MASK) >> ICH_HCR_EOIcount_SHIFT;
	if (!c->used_lrs && !eoicount)
		return;

	raw_spin_lock(&v->lock);
	for (i = 0; i < c->used_lrs; i++) {
		u32 id = v->lr_intid[i];
		struct avcpu_virq *irq = &v->irq[id];
		u64 lr = c->lr[i];

		/* SET_IRQ rewrote it while the guest ran: that wins */
		if (irq->st & AVCPU_VIRQ_DIRTY)
			continue;
		if (lr & ICH_LR_ACTIVE_BIT)
			irq->st |= AVCPU_VIRQ_ACTIVE;
		else
			irq->st &= ~AVCPU_VIRQ_ACTIVE;
		/* not acknowledged yet: an edge, or a SET_IRQ pending, stays */
		if ((lr & ICH_LR_PENDING_BIT) &&
		    (v->lr_latched[i] || !(irq->cfg & AVCPU_IRQ_LEVEL)))
			irq->st |= AVCPU_VIRQ_LATCH;
		if (avcpu_gic_v2() && id < AVCPU_NR_SGIS) {
			/* its source waits again, or is the active one's */
			if (lr & ICH_LR_PENDING_BIT)
				v->sgi_src[id] |= BIT(v->lr_src[i]);
			else if (lr & ICH_LR_ACTIVE_BIT)
				v->sgi_act[id] = v->lr_src[i];
		}
		avcpu_virq_update(v, id);
	}

	/* completions of actives that had no LR (IHI 0069, 12.4.7, EOIcount) */
	while (eoicount--) {
		int id = avcpu_vgic_unlisted_active(v, c->used_lrs);

		if (id < 0)
			break;
		v->irq[id].st &= ~AVCPU_VIRQ_ACTIVE;
		avcpu_virq_update(v, id);
	}
	c->used_lrs = 0;
	raw_spin_unlock(&v->lock);
}

/* A timer's output, as timer.c samples it. Any context. */
void avcpu_vgic_set_tline(struct avcpu_vcpu *vcpu, u32 intid, bool level)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	unsigned long flags;
	bool changed;

	/* the common case after an exit: no change, no lock */
	if (!!(READ_ONCE(v->irq[intid].st) & AVCPU_VIRQ_TLINE) == level)
		return;

	raw_spin_lock_irqsave(&v->lock, flags);
	changed = !!(v->irq[intid].st & AVCPU_VIRQ_TLINE) != level;
	if (level)
		v->irq[intid].st |= AVCPU_VIRQ_TLINE;
	else
		v->irq[intid].st &= ~AVCPU_VIRQ_TLINE;
	avcpu_virq_update(v, intid);
	raw_spin_unlock_irqrestore(&v->lock, flags);
	if (changed && level) {
		trace_avcpu_inject(vcpu->vm->vmid, vcpu->id, intid,
				   AVCPU_INJECT_SRC_TIMER);
		avcpu_vcpu_kick(vcpu);
	}
}

bool avcpu_vgic_tline(struct avcpu_vcpu *vcpu, u32 intid)
{
	return READ_ONCE(vcpu->vgic.irq[intid].st) & AVCPU_VIRQ_TLINE;
}

/*
 * Would the guest's virtual CPU interface signal an interrupt now, that is,
 * does a WFI complete (Arm ARM, DDI 0487, D1.16.2 "Wait for Interrupt")?
 * Pending, enabled, its group enabled in ICH_VMCR_EL2, above the priority
 * mask and above the running priority. PSTATE.I does not matter.
 */
bool avcpu_vgic_wfi_pending(struct avcpu_vcpu *vcpu)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	u64 vmcr = READ_ONCE(vcpu->ctx.vgic.vmcr);
	u8 mask = avcpu_host.pri_mask;
	u8 pmr = ((vmcr & ICH_VMCR_PMR_MASK) >> ICH_VMCR_PMR_SHIFT) & mask;
	u32 running = 0x100, best = 0x100;
	unsigned long intid, flags;

	raw_spin_lock_irqsave(&v->lock, flags);
	for_each_set_bit(intid, v->live, v->nr_irqs) {
		struct avcpu_virq *irq = &v->irq[intid];
		u32 prio = irq->priority & mask;
		u64 grp_en = irq->cfg & AVCPU_IRQ_GROUP1 ? ICH_VMCR_ENG1_MASK :
							   ICH_VMCR_ENG0_MASK;

		if (irq->st & AVCPU_VIRQ_ACTIVE) {
			running = min(running, prio);
			continue;
		}
		if (avcpu_virq_pending(irq) && (irq->cfg & AVCPU_IRQ_ENABLED) &&
		    (vmcr & grp_en) && prio < pmr)
			best = min(best, prio);
	}
	raw_spin_unlock_irqrestore(&v->lock, flags);
	return best < running;
}

static int avcpu_vgic_check_intid(struct avcpu_vgic *v, u32 intid)
{
	return intid < v->nr_irqs && intid < AVCPU_INTID_LIMIT ? 0 : -EINVAL;
}

/**
 * avcpu_vgic_raise() - raise an interrupt line of @vcpu, as INJECT_IRQ does
 * @vcpu: the target.
 * @intid: a valid INTID of its VM.
 * @src: who raises it (counted, traced).
 *
 * Any context: the ioctl, an irqfd's wake-up (its eventfd's lock held), a
 * vCPU delivering an SGI. An edge-triggered interrupt becomes pending once
 * per raise; a level-sensitive one stays pending while the line is high.
 */
void avcpu_vgic_raise(struct avcpu_vcpu *vcpu, u32 intid, enum avcpu_inject_src src)
{
	avcpu_vgic_raise_sgi(vcpu, intid, 0, src);
}

/**
 * avcpu_vgic_raise_sgi() - avcpu_vgic_raise(), naming a GICv2 SGI's source
 * @vcpu: the target.
 * @intid: a valid INTID of its VM.
 * @source: GICv2, SGIs: the sending CPU (0-7); ignored otherwise.
 * @src: who raises it (counted, traced).
 */
void avcpu_vgic_raise_sgi(struct avcpu_vcpu *vcpu, u32 intid, u32 source,
			  enum avcpu_inject_src src)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_virq *irq;
	unsigned long flags;

	atomic64_inc(&vcpu->stats.injections);
	trace_avcpu_inject(vcpu->vm->vmid, vcpu->id, intid, src);
	raw_spin_lock_irqsave(&v->lock, flags);
	irq = &v->irq[intid];
	irq->st |= AVCPU_VIRQ_LINE;
	/* each raise of an edge-triggered input is one interrupt */
	if (!(irq->cfg & AVCPU_IRQ_LEVEL))
		irq->st |= AVCPU_VIRQ_LATCH;
	if (avcpu_gic_v2() && intid < AVCPU_NR_SGIS)
		v->sgi_src[intid] |= BIT(source);
	avcpu_virq_update(v, intid);
	raw_spin_unlock_irqrestore(&v->lock, flags);

	avcpu_vcpu_kick(vcpu);
}

static int avcpu_vgic_inject(struct avcpu_vcpu *vcpu, void __user *argp)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_irq_level l;
	struct avcpu_virq *irq;
	unsigned long flags;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (avcpu_vgic_check_intid(v, l.intid) || l.level > 1 || l.reserved0 ||
	    l.reserved)
		return -EINVAL;
	/* a source only where the GIC has one: GICv2 SGIs, CPUs 0-7 */
	if (l.source && (!avcpu_gic_v2() || l.intid >= AVCPU_NR_SGIS ||
			 !l.level || l.source > 7))
		return -EINVAL;

	if (l.level) {
		avcpu_vgic_raise_sgi(vcpu, l.intid, l.source, AVCPU_INJECT_SRC_IOCTL);
		return 0;
	}
	raw_spin_lock_irqsave(&v->lock, flags);
	irq = &v->irq[l.intid];
	irq->st &= ~AVCPU_VIRQ_LINE;
	avcpu_virq_update(v, l.intid);
	raw_spin_unlock_irqrestore(&v->lock, flags);

	avcpu_vcpu_kick(vcpu);
	return 0;
}

static int avcpu_vgic_get(struct avcpu_vcpu *vcpu, void __user *argp)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_virq *irq;
	struct avcpu_irq r;
	unsigned long flags;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if (avcpu_vgic_check_intid(v, r.intid) || r.set_mask ||
	    memchr_inv(r.reserved0, 0, sizeof(r.reserved0)) ||
	    memchr_inv(r.reserved, 0, sizeof(r.reserved)))
		return -EINVAL;

	raw_spin_lock_irqsave(&v->lock, flags);
	irq = &v->irq[r.intid];
	r.priority = irq->priority;
	r.flags = irq->cfg;
	if (avcpu_virq_pending(irq))
		r.flags |= AVCPU_IRQ_PENDING;
	if (irq->st & AVCPU_VIRQ_ACTIVE)
		r.flags |= AVCPU_IRQ_ACTIVE;
	if (irq->st & (AVCPU_VIRQ_LINE | AVCPU_VIRQ_TLINE))
		r.flags |= AVCPU_IRQ_LINE;
	raw_spin_unlock_irqrestore(&v->lock, flags);

	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}

static int avcpu_vgic_set(struct avcpu_vcpu *vcpu, void __user *argp)
{
	struct avcpu_vgic *v = &vcpu->vgic;
	struct avcpu_virq *irq;
	struct avcpu_irq r;
	unsigned long flags;
	u64 m;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	m = r.set_mask;
	/* flags may be what GET_IRQ returned: bits outside @m are ignored */
	if (avcpu_vgic_check_intid(v, r.intid) || (m & ~AVCPU_IRQ_SET_MASK) ||
	    (r.flags & ~(AVCPU_IRQ_SET_MASK | AVCPU_IRQ_LINE)) ||
	    memchr_inv(r.reserved0, 0, sizeof(r.reserved0)) ||
	    memchr_inv(r.reserved, 0, sizeof(r.reserved)))
		return -EINVAL;
	/* SGIs are always edge-triggered (GICR_ICFGR0 is read-only) */
	if (r.intid < AVCPU_NR_SGIS && (m & AVCPU_IRQ_LEVEL) &&
	    (r.flags & AVCPU_IRQ_LEVEL))
		return -EINVAL;

	raw_spin_lock_irqsave(&v->lock, flags);
	irq = &v->irq[r.intid];
	irq->cfg = (irq->cfg & ~(m & AVCPU_IRQ_CFG_MASK)) |
		   (r.flags & m & AVCPU_IRQ_CFG_MASK);
	if (m & AVCPU_IRQ_PRIORITY)
		irq->priority = r.priority;
	if (m & AVCPU_IRQ_PENDING) {
		if (r.flags & AVCPU_IRQ_PENDING)
			irq->st |= AVCPU_VIRQ_LATCH;
		else
			irq->st &= ~AVCPU_VIRQ_LATCH;
		irq->st |= AVCPU_VIRQ_DIRTY;
		/* GICv2 SGIs: pending from CPU 0 unless it already is from some */
		if (avcpu_gic_v2() && r.intid < AVCPU_NR_SGIS) {
			if (!(r.flags & AVCPU_IRQ_PENDING))
				v->sgi_src[r.intid] = 0;
			else if (!v->sgi_src[r.intid])
				v->sgi_src[r.intid] = BIT(0);
		}
	}
	if (m & AVCPU_IRQ_ACTIVE) {
		if (r.flags & AVCPU_IRQ_ACTIVE)
			irq->st |= AVCPU_VIRQ_ACTIVE;
		else
			irq->st &= ~AVCPU_VIRQ_ACTIVE;
		irq->st |= AVCPU_VIRQ_DIRTY;
	}
	avcpu_virq_update(v, r.intid);
	raw_spin_unlock_irqrestore(&v->lock, flags);

	avcpu_vcpu_kick(vcpu);
	return 0;
}

/* INJECT_IRQ, GET_IRQ, SET_IRQ: without vcpu->mutex, from any thread. */
int avcpu_vgic_ioctl(struct avcpu_vcpu *vcpu, unsigned int cmd,
		     void __user *argp)
{
	if (!(avcpu_host.flags & AVCPU_CAP_F_IRQ))
		return -EOPNOTSUPP;
	switch (cmd) {
	case AVCPU_INJECT_IRQ:
		return avcpu_vgic_inject(vcpu, argp);
	case AVCPU_GET_IRQ:
		return avcpu_vgic_get(vcpu, argp);
	case AVCPU_SET_IRQ:
		return avcpu_vgic_set(vcpu, argp);
	default:
		return -ENOTTY;
	}
}

/* ICC_SGI1R_EL1 fields (IHI 0069, 12.2.22) */
#define AVCPU_SGIR_TARGETS	GENMASK_ULL(15, 0)
#define AVCPU_SGIR_AFF1		GENMASK_ULL(23, 16)
#define AVCPU_SGIR_INTID	GENMASK_ULL(27, 24)
#define AVCPU_SGIR_AFF2		GENMASK_ULL(39, 32)
#define AVCPU_SGIR_IRM		BIT_ULL(40)
#define AVCPU_SGIR_RS		GENMASK_ULL(47, 44)
#define AVCPU_SGIR_AFF3		GENMASK_ULL(55, 48)

/*
 * AVCPU_VM_CAP_KERNEL_SGI: each target whose copy of the SGI is in the
 * group the write generates becomes pending, as INJECT_IRQ would make it
 * (a GICv3 redistributor forwards an SGI only to a PE whose SGI is of that
 * group: IHI 0069, 3.2 "Interrupt grouping"; with GICD_CTLR.DS = 1 there is
 * one Security state, and ASGI1R generates Group 1 as SGI1R does). Its
 * enable and priority then decide delivery. vm->lock held: the targets
 * exist.
 */
static void avcpu_sgi_deliver(struct avcpu_vcpu *vcpu, u64 targets, u32 intid,
			      bool group1)
{
	struct avcpu_vm *vm = vcpu->vm;
	int i;

	lockdep_assert_held(&vm->lock);
	atomic64_inc(&vcpu->stats.kernel_sgis);
	for (i = 0; i < AVCPU_MAX_VCPUS && targets; i++) {
		struct avcpu_vcpu *t = vm->vcpus[i];

		if (!(targets & BIT_ULL(i)))
			continue;
		targets &= ~BIT_ULL(i);
		if (!!(READ_ONCE(t->vgic.irq[intid].cfg) & AVCPU_IRQ_GROUP1) != group1)
			continue;
		avcpu_vgic_raise(t, intid, AVCPU_INJECT_SRC_SGI);
	}
}

/*
 * A guest write to ICC_SGI1R_EL1, ICC_ASGI1R_EL1 or ICC_SGI0R_EL1 (trapped
 * by HCR_EL2.IMO/FMO): the seed's SendIPI exit, with the targets resolved
 * against the vCPUs' MPIDRs so the VMM can inject at once.
 */
int avcpu_sgi_exit(struct avcpu_vcpu *vcpu, u64 val, u64 flags)
{
	struct avcpu_run *run = vcpu->run;
	struct avcpu_vm *vm = vcpu->vm;
	u64 aff = FIELD_GET(AVCPU_SGIR_AFF3, val) << 32 |
		  FIELD_GET(AVCPU_SGIR_AFF2, val) << 16 |
		  FIELD_GET(AVCPU_SGIR_AFF1, val) << 8;
	u32 rs = FIELD_GET(AVCPU_SGIR_RS, val);
	u16 list = FIELD_GET(AVCPU_SGIR_TARGETS, val);
	u64 targets = 0;
	int i;

	if (val & AVCPU_SGIR_IRM)
		flags |= AVCPU_SGI_BROADCAST;

	mutex_lock(&vm->lock);
	for (i = 0; i < AVCPU_MAX_VCPUS; i++) {
		struct avcpu_vcpu *t = vm->vcpus[i];
		u64 mpidr;
		u32 aff0;

		if (!t)
			continue;
		mpidr = t->mpidr & 0xff00ffffffULL;
		aff0 = mpidr & 0xff;
		if (flags & AVCPU_SGI_BROADCAST) {
			if (t != vcpu)
				targets |= BIT_ULL(i);
		} else if ((mpidr & ~0xffULL) == aff && aff0 / 16 == rs &&
			   (list & BIT(aff0 % 16))) {
			targets |= BIT_ULL(i);
		}
	}
	if (READ_ONCE(vm->kernel_sgi)) {
		avcpu_sgi_deliver(vcpu, targets, FIELD_GET(AVCPU_SGIR_INTID, val),
				  !(flags & AVCPU_SGI_GROUP0));
		mutex_unlock(&vm->lock);
		avcpu_step(vcpu);
		return 1;
	}
	mutex_unlock(&vm->lock);

	avcpu_set_exit(vcpu, AVCPU_EXIT_SEND_IPI);
	run->send_ipi.targets = targets;
	run->send_ipi.aff = aff;
	run->send_ipi.intid = FIELD_GET(AVCPU_SGIR_INTID, val);
	run->send_ipi.target_list = list;
	run->send_ipi.rs = rs;
	run->send_ipi.padding = 0;
	run->send_ipi.flags = flags;
	run->send_ipi.value = val;
	vcpu->pending = AVCPU_PENDING_STEP;
	return 0;
}
