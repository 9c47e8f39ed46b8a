// SPDX-License-Identifier: GPL-2.0
/*
 * The host's per-CPU interrupts avcpu takes for its guests: the EL1 timers'
 * PPIs (timer.c) and the GIC maintenance interrupt (vgic.c). Each owner
 * finds its interrupt and requests it here with its handler; this file
 * keeps them enabled on every online CPU (CPU hotplug included) and masks
 * one on this CPU on request. A PPI that fires while a guest runs ends the
 * guest (HCR_EL2.IMO routes it to EL2): that exit is what it is for; the
 * handler, run once the host unmasks interrupts, only tidies up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/percpu.h>

#include "avcpu.h"

static int avcpu_hirq[AVCPU_NR_HIRQS];
static int __percpu *avcpu_hirq_cookie;
static int avcpu_hirq_cpuhp = -1;
/* per CPU: which interrupts are masked at the host GIC (BIT(hirq)) */
static DEFINE_PER_CPU(u32, avcpu_hirq_masked);

int avcpu_of_irq(const char *const *compat, int index)
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

bool avcpu_hirq_is(enum avcpu_host_irq i, int irq)
{
	return avcpu_hirq[i] && avcpu_hirq[i] == irq;
}

int avcpu_hirq_init(void)
{
	avcpu_hirq_cookie = alloc_percpu(int);
	return avcpu_hirq_cookie ? 0 : -ENOMEM;
}

/*
 * Take Linux's interrupt @irq (0: none found) as @i. A missing or refused
 * one only delays what it would signal to the next exit, so it is
 * reported, not fatal.
 */
void avcpu_hirq_request(enum avcpu_host_irq i, int irq, irq_handler_t fn,
			const char *name)
{
	int err;

	if (!irq) {
		pr_info("no %s interrupt: delivery waits for exits\n", name);
		return;
	}
	err = __request_percpu_irq(irq, fn, 0, name, avcpu_hirq_cookie);
	if (err) {
		pr_info("cannot take the %s interrupt (%d): delivery waits for exits\n",
			name, err);
		return;
	}
	avcpu_hirq[i] = irq;
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

/* Once every owner has requested its interrupts: enable them everywhere. */
int avcpu_hirq_start(void)
{
	int ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "avcpu/hirq:online",
				    avcpu_hirq_cpu_up, avcpu_hirq_cpu_down);

	if (ret < 0)
		return ret;
	avcpu_hirq_cpuhp = ret;
	return 0;
}

void avcpu_hirq_exit(void)
{
	int i;

	if (avcpu_hirq_cpuhp >= 0)
		cpuhp_remove_state(avcpu_hirq_cpuhp);
	avcpu_hirq_cpuhp = -1;
	for (i = 0; i < AVCPU_NR_HIRQS; i++) {
		if (avcpu_hirq[i])
			free_percpu_irq(avcpu_hirq[i], avcpu_hirq_cookie);
		avcpu_hirq[i] = 0;
	}
	free_percpu(avcpu_hirq_cookie);
	avcpu_hirq_cookie = NULL;
}

/* IRQs off: mask or unmask interrupt @i at the host GIC on this CPU. */
void avcpu_hirq_mask(enum avcpu_host_irq i, bool mask)
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
