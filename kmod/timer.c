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

#include <linux/cpuhotplug.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/math64.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <asm/arch_timer.h>
#include <asm/sysreg.h>

#include "avcpu.h"

/* CNTx_CTL_EL0 (D13.8.x): ENABLE, IMASK, ISTATUS */
#define AVCPU_CNT_ENABLE	BIT(0)
#define AVCPU_CNT_IMASK		BIT(1)
#define AVCPU_CNT_ISTATUS	BIT(2)

/* The Linux interrupts avcpu takes from the host for its guests. */
enum avcpu_host_irq {
	AVCPU_HIRQ_VTIMER,	/* EL1 virtual timer, PPI 27 on Arm boards */
	AVCPU_HIRQ_PTIMER,	/* EL1 physical timer: VHE hosts only */
	AVCPU_HIRQ_MAINT,	/* GIC maintenance interrupt */
	AVCPU_NR_HIRQS,
};

static const char * const avcpu_hirq_name[AVCPU_NR_HIRQS] = {
	"avcpu-vtimer", "avcpu-ptimer", "avcpu-maint",
};

static int avcpu_hirq[AVCPU_NR_HIRQS];
static int __percpu *avcpu_hirq_cookie;
static enum cpuhp_state avcpu_hirq_cpuhp;
/* per CPU: which timer interrupts are masked at the host GIC (BIT(hirq)) */
static DEFINE_PER_CPU(u32, avcpu_hirq_masked);
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
 * host-side setting could keep it asserted, so it is cleared, and the
 * maintenance interrupt is gone with ICH_HCR_EL2.EN = 0 after the exit.
 */
static irqreturn_t avcpu_hirq_handler(int irq, void *cookie)
{
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE) {
		if (irq == avcpu_hirq[AVCPU_HIRQ_VTIMER])
			write_sysreg_s(0, SYS_CNTV_CTL_EL02);
		else if (irq == avcpu_hirq[AVCPU_HIRQ_PTIMER])
			write_sysreg_s(0, SYS_CNTP_CTL_EL02);
	} else if (irq == avcpu_hirq[AVCPU_HIRQ_VTIMER]) {
		/* nVHE: the host kernel does not use the EL1 virtual timer */
		write_sysreg(0, cntv_ctl_el0);
	}
	return IRQ_HANDLED;
}

static int avcpu_hirq_cpu_up(unsigned int cpu)
{
	int i;

	for (i = 0; i < AVCPU_NR_HIRQS; i++)
		if (avcpu_hirq[i])
			enable_percpu_irq(avcpu_hirq[i], IRQ_TYPE_NONE);
	this_cpu_write(avcpu_hirq_masked, 0);
	return 0;
}

static int avcpu_hirq_cpu_down(unsigned int cpu)
{
	int i;

	for (i = 0; i < AVCPU_NR_HIRQS; i++)
		if (avcpu_hirq[i])
			disable_percpu_irq(avcpu_hirq[i]);
	return 0;
}

/* Linux's number for interrupt @index of the first node that matches. */
static int avcpu_of_irq(const char *const *compat, int index)
{
	struct device_node *np = NULL;
	int irq;

	for (; *compat && !np; compat++)
		np = of_find_compatible_node(NULL, NULL, *compat);
	if (!np)
		return 0;
	irq = of_irq_get(np, index);
	of_node_put(np);
	return irq > 0 ? irq : 0;
}

static void avcpu_hirq_free(void)
{
	int i;

	for (i = 0; i < AVCPU_NR_HIRQS; i++) {
		if (avcpu_hirq[i])
			free_percpu_irq(avcpu_hirq[i], avcpu_hirq_cookie);
		avcpu_hirq[i] = 0;
	}
	free_percpu(avcpu_hirq_cookie);
	avcpu_hirq_cookie = NULL;
}

/*
 * Take the guest timers' and the GIC maintenance interrupt from the host's
 * device tree: the arch timer node lists the secure physical, non-secure
 * physical, virtual and hypervisor timer PPIs in that order (the kernel's
 * Documentation/devicetree/bindings/timer/arm,arch_timer.yaml); the GICv3
 * node's first interrupt is its maintenance interrupt. A missing one only
 * delays what it would have signalled to the next exit, so it is reported,
 * not fatal.
 */
int avcpu_timer_module_init(void)
{
	static const char *const timer_compat[] = {
		"arm,armv8-timer", "arm,armv7-timer", NULL
	};
	static const char *const gic_compat[] = { "arm,gic-v3", NULL };
	int i, err;

	avcpu_cntfrq = read_sysreg(cntfrq_el0);
	if (!avcpu_cntfrq)
		return -ENODEV;
	avcpu_hirq_cookie = alloc_percpu(int);
	if (!avcpu_hirq_cookie)
		return -ENOMEM;

	avcpu_hirq[AVCPU_HIRQ_VTIMER] = avcpu_of_irq(timer_compat, 2);
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE)
		avcpu_hirq[AVCPU_HIRQ_PTIMER] = avcpu_of_irq(timer_compat, 1);
	avcpu_hirq[AVCPU_HIRQ_MAINT] = avcpu_of_irq(gic_compat, 0);

	for (i = 0; i < AVCPU_NR_HIRQS; i++) {
		if (!avcpu_hirq[i]) {
			pr_info("no %s interrupt: delivery waits for exits\n",
				avcpu_hirq_name[i]);
			continue;
		}
		err = __request_percpu_irq(avcpu_hirq[i], avcpu_hirq_handler, 0,
					   avcpu_hirq_name[i], avcpu_hirq_cookie);
		if (err) {
			pr_info("cannot take the %s interrupt (%d): delivery waits for exits\n",
				avcpu_hirq_name[i], err);
			avcpu_hirq[i] = 0;
		}
	}

	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "avcpu/hirq:online",
				avcpu_hirq_cpu_up, avcpu_hirq_cpu_down);
	if (err < 0) {
		avcpu_hirq_free();
		return err;
	}
	avcpu_hirq_cpuhp = err;
	return 0;
}

void avcpu_timer_module_exit(void)
{
	if (!avcpu_hirq_cookie)
		return;
	cpuhp_remove_state(avcpu_hirq_cpuhp);
	avcpu_hirq_free();
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

/* Mask or unmask one of the guest timers' interrupts at the host GIC. */
static void avcpu_hirq_mask(enum avcpu_host_irq i, bool mask)
{
	u32 masked = this_cpu_read(avcpu_hirq_masked);

	if (!avcpu_hirq[i] || !!(masked & BIT(i)) == mask)
		return;
	if (mask)
		disable_percpu_irq(avcpu_hirq[i]);
	else
		enable_percpu_irq(avcpu_hirq[i], IRQ_TYPE_NONE);
	this_cpu_write(avcpu_hirq_masked, masked ^ BIT(i));
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

/*
 * A WFI is about to sleep (vcpu.c): the hardware timers the guest owns
 * cannot wake a sleeping thread, so hrtimers stand in for them until
 * avcpu_timer_wfi_disarm(). A timer already due raises its line at once.
 */
void avcpu_timer_wfi_arm(struct avcpu_vcpu *vcpu)
{
	u64 cntpct = avcpu_cntpct();
	struct avcpu_tview t;

	/* the offset the next entry loads (SET_COUNTER_OFFSET may change it) */
	vcpu->ctx.cntvoff = READ_ONCE(vcpu->vm->cntvoff);
	avcpu_vtimer_view(vcpu, &t, cntpct);
	if (avcpu_timer_arm(&vcpu->vtimer, &t))
		avcpu_vgic_set_tline(vcpu, AVCPU_INTID_VTIMER, true);
	if (avcpu_passthrough(vcpu)) {
		avcpu_ptimer_view(vcpu, &t, cntpct);
		if (avcpu_timer_arm(&vcpu->ptimer, &t))
			avcpu_vgic_set_tline(vcpu, AVCPU_INTID_PTIMER, true);
	}
}

void avcpu_timer_wfi_disarm(struct avcpu_vcpu *vcpu)
{
	hrtimer_cancel(&vcpu->vtimer);
	if (avcpu_passthrough(vcpu))
		hrtimer_cancel(&vcpu->ptimer);
}
