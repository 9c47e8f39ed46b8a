// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's timers (Arm ARM, DDI 0487, D11 "The Generic Timer in
 * AArch64 state") and WFI.
 *
 * Virtual timer: the guest owns CNTV_CTL_EL0/CNTV_CVAL_EL0 (the world
 * switch loads them) and reads CNTPCT_EL0 - CNTVOFF_EL2, one offset per
 * VM. Its output is sampled after every exit and becomes the level of PPI
 * 27 in vgic.c. While the guest runs, the hardware timer's own interrupt
 * (PPI 27 of the host GIC, requested here) ends the guest when the
 * deadline passes; while the line is already high it is masked at the
 * host GIC, or it would end every entry at once. While the vCPU sleeps in
 * WFI, an hrtimer stands in for it.
 *
 * EL1 physical timer: trapped (CNTHCTL_EL2.EL1PTEN clear) and emulated
 * here, with an hrtimer at its deadline, as PPI 30; compared against the
 * real CNTPCT_EL0. With AVCPU_SETUP_PASSTHROUGH_TIMER (VHE hosts only,
 * where the host kernel uses the EL2 timers) the guest owns the hardware
 * timer instead, and it is handled like the virtual one.
 *
 * Host timers are not touched: on VHE the host runs on the EL2 timers; on
 * nVHE the EL1 physical timer stays the host's and the guest's is
 * emulated.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <asm/arch_timer.h>
#include <asm/sysreg.h>

#include "avcpu.h"

/* CNTx_CTL_EL0 (D13.8.x): ENABLE, IMASK, ISTATUS */
#define AVCPU_CNT_ENABLE	BIT(0)
#define AVCPU_CNT_IMASK		BIT(1)
#define AVCPU_CNT_ISTATUS	BIT(2)

static u32 avcpu_cntfrq;

static bool avcpu_passthrough(struct avcpu_vcpu *vcpu)
{
	return vcpu->flags & AVCPU_SETUP_PASSTHROUGH_TIMER;
}

static u64 avcpu_cntpct(void)
{
	isb();	/* not read early, ahead of what came before */
	return read_sysreg(cntpct_el0);
}

/* The timer condition with interrupts unmasked: what drives the PPI. */
static bool avcpu_timer_fires(u64 ctl, u64 cval, u64 now)
{
	return (ctl & AVCPU_CNT_ENABLE) && !(ctl & AVCPU_CNT_IMASK) &&
	       now >= cval;
}

/*
 * A guest timer's interrupt taken by the host. The exit that it caused has
 * sampled the guest's timer and put the host's values back; only a stale
 * host-side setting could keep it asserted, so it is cleared.
 */
static irqreturn_t avcpu_timer_hirq(int irq, void *cookie)
{
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE) {
		if (avcpu_hirq_is(AVCPU_HIRQ_VTIMER, irq))
			write_sysreg_s(0, SYS_CNTV_CTL_EL02);
		else if (avcpu_hirq_is(AVCPU_HIRQ_PTIMER, irq))
			write_sysreg_s(0, SYS_CNTP_CTL_EL02);
	} else if (avcpu_hirq_is(AVCPU_HIRQ_VTIMER, irq)) {
		/* nVHE: the host kernel does not use the EL1 virtual timer */
		write_sysreg(0, cntv_ctl_el0);
	}
	return IRQ_HANDLED;
}

/*
 * Take the guest timers' interrupts (hostirq.c finds them in the device
 * tree or in ACPI's GTDT): the virtual timer's, and on VHE the EL1
 * physical timer's, which the kernel itself does not use there (it runs
 * on the EL2 timers).
 */
int avcpu_timer_module_init(void)
{
	avcpu_cntfrq = read_sysreg(cntfrq_el0);
	if (!avcpu_cntfrq)
		return -ENODEV;
	avcpu_hirq_request(AVCPU_HIRQ_VTIMER, avcpu_timer_hirq, "avcpu-vtimer");
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE)
		avcpu_hirq_request(AVCPU_HIRQ_PTIMER, avcpu_timer_hirq,
				   "avcpu-ptimer");
	return 0;
}

/* The guest's view of one timer: its registers and its counter's now. */
struct avcpu_tview {
	u64 ctl;
	u64 cval;
	u64 now;
};

static void avcpu_vtimer_view(struct avcpu_vcpu *vcpu, struct avcpu_tview *t,
			      u64 cntpct)
{
	t->ctl = READ_ONCE(vcpu->ctx.sys[AVCPU_CNTV_CTL_EL0]);
	t->cval = READ_ONCE(vcpu->ctx.sys[AVCPU_CNTV_CVAL_EL0]);
	t->now = cntpct - READ_ONCE(vcpu->ctx.cntvoff);
}

static void avcpu_ptimer_view(struct avcpu_vcpu *vcpu, struct avcpu_tview *t,
			      u64 cntpct)
{
	t->ctl = READ_ONCE(vcpu->ctx.sys[AVCPU_CNTP_CTL_EL0]);
	t->cval = READ_ONCE(vcpu->ctx.sys[AVCPU_CNTP_CVAL_EL0]);
	t->now = cntpct;
}

/*
 * Time until the deadline of an armed timer that has not fired, rounded up
 * so that it is never early (the callback checks the counter again anyway).
 * Beyond 2^48 ticks (some 50 days at 62.5 MHz) it waits that long and
 * looks again.
 */
static ktime_t avcpu_timer_remaining(const struct avcpu_tview *t)
{
	u64 delta = min_t(u64, t->cval - t->now, BIT_ULL(48));

	return ns_to_ktime(mul_u64_u32_div(delta, NSEC_PER_SEC, avcpu_cntfrq) + 1);
}

/* Start @hrt for the timer's deadline; returns whether it fires already. */
static bool avcpu_timer_arm(struct hrtimer *hrt, const struct avcpu_tview *t)
{
	if (!(t->ctl & AVCPU_CNT_ENABLE) || (t->ctl & AVCPU_CNT_IMASK)) {
		hrtimer_try_to_cancel(hrt);
		return false;
	}
	if (t->now >= t->cval)
		return true;
	hrtimer_start(hrt, avcpu_timer_remaining(t), HRTIMER_MODE_REL_HARD);
	return false;
}

static enum hrtimer_restart avcpu_timer_expired(struct avcpu_vcpu *vcpu,
						struct hrtimer *hrt, u32 intid,
						const struct avcpu_tview *t)
{
	if (avcpu_timer_fires(t->ctl, t->cval, t->now)) {
		avcpu_vgic_set_tline(vcpu, intid, true);
		return HRTIMER_NORESTART;
	}
	if (!(t->ctl & AVCPU_CNT_ENABLE) || (t->ctl & AVCPU_CNT_IMASK) ||
	    t->now >= t->cval)
		return HRTIMER_NORESTART;
	/* early by a rounding, or the deadline moved on: wait for the rest */
	hrtimer_forward_now(hrt, avcpu_timer_remaining(t));
	return HRTIMER_RESTART;
}

static enum hrtimer_restart avcpu_vtimer_fn(struct hrtimer *hrt)
{
	struct avcpu_vcpu *vcpu = container_of(hrt, struct avcpu_vcpu, vtimer);
	struct avcpu_tview t;

	avcpu_vtimer_view(vcpu, &t, avcpu_cntpct());
	return avcpu_timer_expired(vcpu, hrt, AVCPU_INTID_VTIMER, &t);
}

static enum hrtimer_restart avcpu_ptimer_fn(struct hrtimer *hrt)
{
	struct avcpu_vcpu *vcpu = container_of(hrt, struct avcpu_vcpu, ptimer);
	struct avcpu_tview t;

	avcpu_ptimer_view(vcpu, &t, avcpu_cntpct());
	return avcpu_timer_expired(vcpu, hrt, AVCPU_INTID_PTIMER, &t);
}

void avcpu_timer_vcpu_init(struct avcpu_vcpu *vcpu)
{
	hrtimer_init(&vcpu->vtimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	vcpu->vtimer.function = avcpu_vtimer_fn;
	hrtimer_init(&vcpu->ptimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	vcpu->ptimer.function = avcpu_ptimer_fn;
}

void avcpu_timer_vcpu_destroy(struct avcpu_vcpu *vcpu)
{
	hrtimer_cancel(&vcpu->vtimer);
	hrtimer_cancel(&vcpu->ptimer);
}

/*
 * The emulated physical timer after its registers changed (a trapped
 * write, or RUN after SET_SYSREG): its output now, and the hrtimer for
 * when it will change.
 */
void avcpu_ptimer_program(struct avcpu_vcpu *vcpu)
{
	struct avcpu_tview t;

	if (avcpu_passthrough(vcpu))
		return;
	avcpu_ptimer_view(vcpu, &t, avcpu_cntpct());
	avcpu_vgic_set_tline(vcpu, AVCPU_INTID_PTIMER,
			     avcpu_timer_arm(&vcpu->ptimer, &t));
}

#define ENC(op0, op1, crn, crm, op2)	AVCPU_SYSREG(op0, op1, crn, crm, op2)

/*
 * A trapped CNTP_CTL/CVAL/TVAL_EL0 access (D13.8.1x); false for any other
 * register. TVAL is the signed 32-bit distance to CVAL.
 */
bool avcpu_ptimer_access(struct avcpu_vcpu *vcpu, u32 enc, bool read,
			 u64 *val)
{
	u64 *ctl = &vcpu->ctx.sys[AVCPU_CNTP_CTL_EL0];
	u64 *cval = &vcpu->ctx.sys[AVCPU_CNTP_CVAL_EL0];
	u64 now = avcpu_cntpct();

	switch (enc) {
	case ENC(3, 3, 14, 2, 1):	/* CNTP_CTL_EL0 */
		if (read) {
			*val = *ctl & (AVCPU_CNT_ENABLE | AVCPU_CNT_IMASK);
			if ((*ctl & AVCPU_CNT_ENABLE) && now >= *cval)
				*val |= AVCPU_CNT_ISTATUS;
			return true;
		}
		WRITE_ONCE(*ctl, *val & (AVCPU_CNT_ENABLE | AVCPU_CNT_IMASK));
		break;
	case ENC(3, 3, 14, 2, 2):	/* CNTP_CVAL_EL0 */
		if (read) {
			*val = *cval;
			return true;
		}
		WRITE_ONCE(*cval, *val);
		break;
	case ENC(3, 3, 14, 2, 0):	/* CNTP_TVAL_EL0 */
		if (read) {
			*val = (u32)(*cval - now);
			return true;
		}
		WRITE_ONCE(*cval, now + (s64)(s32)*val);
		break;
	default:
		return false;
	}
	avcpu_ptimer_program(vcpu);
	return true;
}

/*
 * Before entry, IRQs off: the hardware timers' interrupts are masked at the
 * host GIC while the guest already has their line pending (they would end
 * every entry at once), and unmasked once the guest has dealt with it
 * (sampled at the exit).
 */
void avcpu_timer_load(struct avcpu_vcpu *vcpu)
{
	avcpu_hirq_mask(AVCPU_HIRQ_VTIMER,
			avcpu_vgic_tline(vcpu, AVCPU_INTID_VTIMER));
	if (avcpu_passthrough(vcpu))
		avcpu_hirq_mask(AVCPU_HIRQ_PTIMER,
				avcpu_vgic_tline(vcpu, AVCPU_INTID_PTIMER));
}

/* After an exit, IRQs off: sample both timers' outputs. */
void avcpu_timer_sync(struct avcpu_vcpu *vcpu)
{
	u64 cntpct = avcpu_cntpct();
	struct avcpu_tview t;

	avcpu_vtimer_view(vcpu, &t, cntpct);
	avcpu_vgic_set_tline(vcpu, AVCPU_INTID_VTIMER,
			     avcpu_timer_fires(t.ctl, t.cval, t.now));
	avcpu_ptimer_view(vcpu, &t, cntpct);
	avcpu_vgic_set_tline(vcpu, AVCPU_INTID_PTIMER,
			     avcpu_timer_fires(t.ctl, t.cval, t.now));
}

/* One hardware timer the guest owns, in WFI: raise its line if it is due. */
static bool avcpu_timer_wfi_one(struct avcpu_vcpu *vcpu, struct hrtimer *hrt,
				u32 intid, const struct avcpu_tview *t, bool arm)
{
	bool due = arm ? avcpu_timer_arm(hrt, t) :
			 avcpu_timer_fires(t->ctl, t->cval, t->now);

	if (due)
		avcpu_vgic_set_tline(vcpu, intid, true);
	return due;
}

static bool avcpu_timer_wfi(struct avcpu_vcpu *vcpu, bool arm)
{
	u64 cntpct = avcpu_cntpct();
	struct avcpu_tview t;
	bool due;

	/* the offset the next entry loads (SET_COUNTER_OFFSET may change it) */
	vcpu->ctx.cntvoff = READ_ONCE(vcpu->vm->cntvoff);
	avcpu_vtimer_view(vcpu, &t, cntpct);
	due = avcpu_timer_wfi_one(vcpu, &vcpu->vtimer, AVCPU_INTID_VTIMER, &t, arm);
	if (avcpu_passthrough(vcpu)) {
		avcpu_ptimer_view(vcpu, &t, cntpct);
		due |= avcpu_timer_wfi_one(vcpu, &vcpu->ptimer, AVCPU_INTID_PTIMER,
					   &t, arm);
	}
	return due;
}

/*
 * A WFI is about to sleep (vcpu.c): the hardware timers the guest owns
 * cannot wake a sleeping thread, so hrtimers stand in for them until
 * avcpu_timer_wfi_disarm(). A timer already due raises its line at once.
 */
void avcpu_timer_wfi_arm(struct avcpu_vcpu *vcpu)
{
	avcpu_timer_wfi(vcpu, true);
}

/*
 * A WFI polls (vcpu.c): whether a hardware timer the guest owns is due,
 * its line raised then; no hrtimer is started for a wait this short.
 */
bool avcpu_timer_wfi_due(struct avcpu_vcpu *vcpu)
{
	return avcpu_timer_wfi(vcpu, false);
}

void avcpu_timer_wfi_disarm(struct avcpu_vcpu *vcpu)
{
	hrtimer_cancel(&vcpu->vtimer);
	if (avcpu_passthrough(vcpu))
		hrtimer_cancel(&vcpu->ptimer);
}
