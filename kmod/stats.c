// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics (AVCPU_GET_STATS on a vCPU or VM fd) and the home of the
 * tracepoints (trace.h).
 */
#include <linux/uaccess.h>

#include "avcpu.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static void stats_fill(struct avcpu_stats *u, struct avcpu_vcpu_stats *k)
{
	int i;

	for (i = 0; i < AVCPU_STATS_EXIT_REASONS; i++)
		u->exits[i] += atomic64_read(&k->exits[i]);
	u->entries += atomic64_read(&k->entries);
	u->kernel_exits += atomic64_read(&k->kernel_exits);
	u->wfi_sleeps += atomic64_read(&k->wfi_sleeps);
	u->ioeventfd_signals += atomic64_read(&k->ioeventfd_signals);
	u->irqfd_injections += atomic64_read(&k->irqfd_injections);
	u->kernel_sgis += atomic64_read(&k->kernel_sgis);
	u->injections += atomic64_read(&k->injections);
	u->coalesced_mmio += atomic64_read(&k->coalesced_mmio);
	u->stage2_faults += atomic64_read(&k->stage2_faults);
}

/* A closing vCPU's counters go to its VM's total. */
void avcpu_stats_add(struct avcpu_vcpu_stats *to, struct avcpu_vcpu_stats *from)
{
	int i;

	for (i = 0; i < AVCPU_STATS_EXIT_REASONS; i++)
		atomic64_add(atomic64_read(&from->exits[i]), &to->exits[i]);
	atomic64_add(atomic64_read(&from->entries), &to->entries);
	atomic64_add(atomic64_read(&from->kernel_exits), &to->kernel_exits);
	atomic64_add(atomic64_read(&from->wfi_sleeps), &to->wfi_sleeps);
	atomic64_add(atomic64_read(&from->ioeventfd_signals), &to->ioeventfd_signals);
	atomic64_add(atomic64_read(&from->irqfd_injections), &to->irqfd_injections);
	atomic64_add(atomic64_read(&from->kernel_sgis), &to->kernel_sgis);
	atomic64_add(atomic64_read(&from->injections), &to->injections);
	atomic64_add(atomic64_read(&from->coalesced_mmio), &to->coalesced_mmio);
	atomic64_add(atomic64_read(&from->stage2_faults), &to->stage2_faults);
}

int avcpu_stats_copy(struct avcpu_vcpu_stats *k, void __user *argp)
{
	struct avcpu_stats u;

	memset(&u, 0, sizeof(u));
	stats_fill(&u, k);
	return copy_to_user(argp, &u, sizeof(u)) ? -EFAULT : 0;
}

/* The VM's: its closed vCPUs' counters and its live vCPUs'. */
int avcpu_vm_get_stats(struct avcpu_vm *vm, void __user *argp)
{
	struct avcpu_stats u;
	int i;

	memset(&u, 0, sizeof(u));
	mutex_lock(&vm->lock);
	stats_fill(&u, &vm->gone);
	for (i = 0; i < AVCPU_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			stats_fill(&u, &vm->vcpus[i]->stats);
	mutex_unlock(&vm->lock);
	return copy_to_user(argp, &u, sizeof(u)) ? -EFAULT : 0;
}
