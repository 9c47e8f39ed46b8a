// SPDX-License-Identifier: GPL-2.0
/*
 * The host's per-CPU interrupts avcpu takes for its guests: the EL1 timers'
 * PPIs (timer.c) and the GIC maintenance interrupt (vgic.c). This file
 * finds each, in the device tree or, on a host booted with ACPI and no
 * device tree (UEFI servers), in the ACPI tables; requests it with its
 * owner's handler; keeps them enabled on every online CPU (CPU hotplug
 * included) and masks one on this CPU on request. A PPI that fires while a
 * guest runs ends the guest (HCR_EL2.IMO routes it to EL2): that exit is
 * what it is for; the handler, run once the host unmasks interrupts, only
 * tidies up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/cpuhotplug.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/percpu.h>
#include <linux/sched.h>

#include "avcpu.h"

static int avcpu_hirq[AVCPU_NR_HIRQS];
/* BIT(i): interrupt i is KVM's, used as it leaves it (VHE beside KVM) */
static u32 avcpu_hirq_kvm;
static int __percpu *avcpu_hirq_cookie;
static int avcpu_hirq_cpuhp = -1;
/* per CPU: which interrupts are masked at the host GIC (BIT(hirq)) */
static DEFINE_PER_CPU(u32, avcpu_hirq_masked);
/* what was found, for the dmesg line: the GSIV (ACPI) or the DT index */
static u32 avcpu_hirq_fw[AVCPU_NR_HIRQS];

static const char *const avcpu_hirq_name[AVCPU_NR_HIRQS] = {
	[AVCPU_HIRQ_VTIMER]	= "virtual timer",
	[AVCPU_HIRQ_PTIMER]	= "EL1 physical timer",
	[AVCPU_HIRQ_MAINT]	= "GIC maintenance",
};

/*
 * Device tree: the arch timer node lists the secure physical, non-secure
 * physical, virtual and hypervisor timer PPIs in that order (the kernel's
 * Documentation/devicetree/bindings/timer/arm,arch_timer.yaml); the GICv3
 * node's first interrupt is its maintenance interrupt (arm,gic-v3.yaml), as
 * is a GICv2's with the virtualization extensions (arm,gic.yaml).
 */
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

static int avcpu_dt_hirq(enum avcpu_host_irq i)
{
	static const char *const timer[] = {
		"arm,armv8-timer", "arm,armv7-timer", NULL
	};
	static const char *const gic[] = {
		"arm,gic-v3", "arm,gic-400", "arm,cortex-a15-gic",
		"arm,cortex-a7-gic", NULL
	};

	switch (i) {
	case AVCPU_HIRQ_VTIMER:
		return avcpu_of_irq(timer, 2);
	case AVCPU_HIRQ_PTIMER:
		return avcpu_of_irq(timer, 1);
	case AVCPU_HIRQ_MAINT:
		return avcpu_of_irq(gic, 0);
	default:
		return 0;
	}
}

#ifdef CONFIG_ACPI
/*
 * ACPI (ACPI 6.5): the timers' GSIVs and trigger flags are in the GTDT
 * (5.2.25 "Generic Timer Description Table"), the maintenance interrupt
 * in every GICC entry of the MADT (5.2.12.14 "GIC CPU Interface (GICC)
 * Structure", "VGIC Maintenance interrupt", the same PPI on every CPU).
 * A GSIV becomes Linux's IRQ through acpi_register_gsi(), which returns
 * the mapping the kernel's arch timer driver made for the same PPI. The
 * mappings stay at unload: the timer driver shares the timers'.
 */
/**
 * avcpu_madt_gicc() - walk the MADT's GICC entries (ACPI 6.5, 5.2.12.14)
 * @need: bytes of the entry @fn reads: older firmware's entries are
 *	shorter (80 bytes before ACPI 6.3), and shorter ones are skipped.
 * @fn: called for each entry until it returns true.
 * @arg: @fn's.
 *
 * Return: 0 when @fn said true for one, -ENODEV otherwise (no MADT too).
 */
int avcpu_madt_gicc(size_t need,
		    bool (*fn)(const struct acpi_madt_generic_interrupt *gicc, void *arg),
		    void *arg)
{
	struct acpi_subtable_header *sub;
	struct acpi_table_header *hdr;
	int err = -ENODEV;
	void *end;

	if (acpi_disabled || ACPI_FAILURE(acpi_get_table(ACPI_SIG_MADT, 0, &hdr)))
		return -ENODEV;
	end = (void *)hdr + hdr->length;
	sub = (void *)hdr + sizeof(struct acpi_table_madt);
	while ((void *)sub + sizeof(*sub) <= end && sub->length &&
	       (void *)sub + sub->length <= end) {
		const struct acpi_madt_generic_interrupt *gicc = (void *)sub;

		sub = (void *)sub + sub->length;
		if (gicc->header.type == ACPI_MADT_TYPE_GENERIC_INTERRUPT &&
		    gicc->header.length >= need && fn(gicc, arg)) {
			err = 0;
			break;
		}
	}
	acpi_put_table(hdr);
	return err;
}

struct avcpu_gicc_maint {
	u32 gsi;
	int trigger;
};

static bool avcpu_gicc_maint(const struct acpi_madt_generic_interrupt *gicc, void *arg)
{
	struct avcpu_gicc_maint *m = arg;

	if (!gicc->vgic_interrupt)
		return false;
	m->gsi = gicc->vgic_interrupt;
	m->trigger = gicc->flags & ACPI_MADT_VGIC_IRQ_MODE ?
		     ACPI_EDGE_SENSITIVE : ACPI_LEVEL_SENSITIVE;
	return true;
}

static u32 avcpu_acpi_gsi(enum avcpu_host_irq i, int *trigger, int *polarity)
{
	struct acpi_table_header *hdr;
	u32 gsi = 0, flags = 0;

	*polarity = ACPI_ACTIVE_HIGH;
	if (i == AVCPU_HIRQ_MAINT) {
		struct avcpu_gicc_maint m = { 0 };

		if (avcpu_madt_gicc(offsetofend(struct acpi_madt_generic_interrupt,
						vgic_interrupt), avcpu_gicc_maint, &m))
			return 0;
		*trigger = m.trigger;
		return m.gsi;
	}

	if (ACPI_FAILURE(acpi_get_table(ACPI_SIG_GTDT, 0, &hdr)))
		return 0;
	if (hdr->length >= sizeof(struct acpi_table_gtdt)) {
		struct acpi_table_gtdt *gtdt = (void *)hdr;

		if (i == AVCPU_HIRQ_VTIMER) {
			gsi = gtdt->virtual_timer_interrupt;
			flags = gtdt->virtual_timer_flags;
		} else if (i == AVCPU_HIRQ_PTIMER) {
			gsi = gtdt->non_secure_el1_interrupt;
			flags = gtdt->non_secure_el1_flags;
		}
	}
	acpi_put_table(hdr);
	*trigger = flags & ACPI_GTDT_INTERRUPT_MODE ? ACPI_EDGE_SENSITIVE :
						      ACPI_LEVEL_SENSITIVE;
	if (flags & ACPI_GTDT_INTERRUPT_POLARITY)
		*polarity = ACPI_ACTIVE_LOW;
	return gsi;
}

static int avcpu_acpi_hirq(enum avcpu_host_irq i)
{
	int trigger, polarity, irq;
	u32 gsi = avcpu_acpi_gsi(i, &trigger, &polarity);

	if (!gsi)
		return 0;
	avcpu_hirq_fw[i] = gsi;
	irq = acpi_register_gsi(NULL, gsi, trigger, polarity);
	return irq > 0 ? irq : 0;
}
#else
static int avcpu_acpi_hirq(enum avcpu_host_irq i)
{
	return 0;
}
#endif

/* Linux's IRQ of interrupt @i from the host's firmware tables, 0 if none */
static int avcpu_hirq_find(enum avcpu_host_irq i)
{
	/* arm64 with ACPI on has no device tree (setup_arch()) */
	if (!acpi_disabled)
		return avcpu_acpi_hirq(i);
	return avcpu_dt_hirq(i);
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
 * Find interrupt @i and take it with @fn. A missing or refused one only
 * delays what it would signal to the next exit, so it is reported, not
 * fatal.
 */
void avcpu_hirq_request(enum avcpu_host_irq i, irq_handler_t fn,
			const char *name)
{
	int irq = avcpu_hirq_find(i);
	int err;

	if (!irq) {
		pr_info("no %s interrupt: delivery waits for exits\n", name);
		return;
	}
	err = __request_percpu_irq(irq, fn, 0, name, avcpu_hirq_cookie);
	/*
	 * Beside KVM, its timer and vGIC have requested the same PPIs (a
	 * per-CPU interrupt has one handler) and enabled them on every CPU.
	 * What avcpu needs of them is the exit they cause while its guest
	 * runs, which comes whoever handles them after it: KVM's handlers,
	 * with no KVM vCPU loaded on the CPU, only return.
	 */
	if (err == -EBUSY && avcpu_host.with_kvm) {
		avcpu_hirq[i] = irq;
		avcpu_hirq_kvm |= BIT(i);
		return;
	}
	if (err) {
		pr_info("cannot take the %s interrupt (%d): delivery waits for exits\n",
			name, err);
		return;
	}
	avcpu_hirq[i] = irq;
}

/* One line: where the interrupts came from, and which were found. */
static void avcpu_hirq_report(void)
{
	char buf[160];
	int i, n = 0;

	for (i = 0; i < AVCPU_NR_HIRQS; i++) {
		if (!avcpu_hirq[i])
			continue;
		n += scnprintf(buf + n, sizeof(buf) - n, "%s%s IRQ %d%s",
			       n ? ", " : "", avcpu_hirq_name[i], avcpu_hirq[i],
			       avcpu_hirq_kvm & BIT(i) ? " (KVM's)" : "");
		if (!acpi_disabled)
			n += scnprintf(buf + n, sizeof(buf) - n, " (GSI %u)",
				       avcpu_hirq_fw[i]);
	}
	pr_info("host interrupts from %s: %s\n",
		acpi_disabled ? "the device tree" : "ACPI (GTDT, MADT)",
		n ? buf : "none");
}

static int avcpu_hirq_cpu_up(unsigned int cpu)
{
	int i;

	for (i = 0; i < AVCPU_NR_HIRQS; i++)
		if (avcpu_hirq[i] && !(avcpu_hirq_kvm & BIT(i)))
			enable_percpu_irq(avcpu_hirq[i], IRQ_TYPE_NONE);
	this_cpu_write(avcpu_hirq_masked, 0);
	return 0;
}

static int avcpu_hirq_cpu_down(unsigned int cpu)
{
	int i;

	for (i = 0; i < AVCPU_NR_HIRQS; i++)
		if (avcpu_hirq[i] && !(avcpu_hirq_kvm & BIT(i)))
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
	avcpu_hirq_report();
	return 0;
}

void avcpu_hirq_exit(void)
{
	int i;

	if (avcpu_hirq_cpuhp >= 0)
		cpuhp_remove_state(avcpu_hirq_cpuhp);
	avcpu_hirq_cpuhp = -1;
	for (i = 0; i < AVCPU_NR_HIRQS; i++) {
		if (avcpu_hirq[i] && !(avcpu_hirq_kvm & BIT(i)))
			free_percpu_irq(avcpu_hirq[i], avcpu_hirq_cookie);
		avcpu_hirq[i] = 0;
	}
	avcpu_hirq_kvm = 0;
	free_percpu(avcpu_hirq_cookie);
	avcpu_hirq_cookie = NULL;
}

/*
 * Beside KVM, what avcpu last wrote to the active state of KVM's PPIs on
 * this CPU (BIT(i) of @known and @active), and in which stretch of which
 * task (a task is its address and start time: an address alone may come
 * back): only KVM's vcpu_load, in another task, or the host taking the
 * PPI (KVM's handler leaves it active: KVM marks it forwarded to a vCPU,
 * so the host's EOI does not deactivate it) can change it behind avcpu's
 * back. The first needs a context switch of this task, the second an
 * exit for a host interrupt, after which avcpu_hirq_forget() is called.
 * The state is the CPU's, whichever vCPU the task runs.
 */
struct avcpu_hirq_kvm_state {
	const struct task_struct *task;
	u64 start_time;
	unsigned long switches;
	u32 known;
	u32 active;
};

static DEFINE_PER_CPU(struct avcpu_hirq_kvm_state, avcpu_hirq_kvm_state);

/* IRQs off: forget what this CPU's KVM PPIs were left at. */
void avcpu_hirq_forget(void)
{
	this_cpu_write(avcpu_hirq_kvm_state.known, 0);
}

static void avcpu_hirq_hold(enum avcpu_host_irq i, bool active)
{
	struct avcpu_hirq_kvm_state *st = this_cpu_ptr(&avcpu_hirq_kvm_state);
	unsigned long switches = current->nvcsw + current->nivcsw;

	if (st->task != current || st->start_time != current->start_time ||
	    st->switches != switches) {
		st->task = current;
		st->start_time = current->start_time;
		st->switches = switches;
		st->known = 0;
	}
	if ((st->known & BIT(i)) && !!(st->active & BIT(i)) == active)
		return;
	irq_set_irqchip_state(avcpu_hirq[i], IRQCHIP_STATE_ACTIVE, active);
	st->known |= BIT(i);
	if (active)
		st->active |= BIT(i);
	else
		st->active &= ~BIT(i);
}

/*
 * IRQs off, before an entry: keep interrupt @i from signalling on this CPU
 * (@mask) or let it. An interrupt of avcpu's own is masked at the host GIC
 * and stays so until unmasked. One of KVM's is instead held active at the
 * GIC, as KVM holds its own guest's timer PPI: its enable state is KVM's,
 * and an active PPI is not signalled again (IHI 0069, 4.1 "Interrupt
 * states"). KVM sets that state as its own guest needs at every vCPU load,
 * so avcpu writes it unless it knows (above) that it is as needed.
 */
void avcpu_hirq_mask(enum avcpu_host_irq i, bool mask)
{
	u32 masked = this_cpu_read(avcpu_hirq_masked);

	if (!avcpu_hirq[i])
		return;
	if (avcpu_hirq_kvm & BIT(i)) {
		avcpu_hirq_hold(i, mask);
		return;
	}
	if (!!(masked & BIT(i)) == mask)
		return;
	if (mask)
		disable_percpu_irq(avcpu_hirq[i]);
	else
		enable_percpu_irq(avcpu_hirq[i], IRQ_TYPE_NONE);
	this_cpu_write(avcpu_hirq_masked, masked ^ BIT(i));
}
