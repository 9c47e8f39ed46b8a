// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU object and its fd: the seed's state machine, the RUN loop,
 * register access and the run page.
 *
 * States (Documentation/api.rst): CREATED -SETUP-> FREE -BIND-> READY
 * -RUN-> RUNNING -> READY; READY -UNBIND-> FREE; INVALID after an error
 * that leaves the guest's state unknown. vcpu->mutex serialises the
 * ioctls; RUN holds it while the guest runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/rcupdate.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/daifflags.h>
#include <asm/neon.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>

#include "avcpu.h"
#include "hyp/switch.h"
#include "trace.h"

static_assert(offsetof(struct avcpu_fpsimd, fpsr) == 16 * 32);
static_assert(sizeof(struct avcpu_run) <= PAGE_SIZE);

/* EL1h, all of DAIF masked: how a CPU leaves reset (Arm ARM D1.9) */
#define AVCPU_PSTATE_RESET	(PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | \
				 PSR_I_BIT | PSR_F_BIT)
/*
 * PSTATE bits SET_REGS takes (SPSR_EL2 layout, Arm ARM D13.2.128): NZCV,
 * DIT, UAO, PAN, SSBS, BTYPE, DAIF and M; not SS, IL or TCO, and M[4]
 * (AArch32) is refused below.
 */
#define AVCPU_PSTATE_ALLOWED	(GENMASK(31, 28) | PSR_DIT_BIT | PSR_UAO_BIT | \
				 PSR_PAN_BIT | PSR_SSBS_BIT | PSR_BTYPE_MASK | \
				 PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT | \
				 GENMASK(4, 0))

/*
 * A CPU out of reset: registers, and its GIC CPU interface (priority mask,
 * group enables, active priorities); what the distributor holds pending
 * for it stays.
 */
static void avcpu_vcpu_reset(struct avcpu_vcpu *vcpu, u64 entry, u64 x0)
{
	u32 nr_lrs = vcpu->ctx.vgic.nr_lrs, nr_apr = vcpu->ctx.vgic.nr_apr;

	memset(&vcpu->ctx, 0, sizeof(vcpu->ctx));
	vcpu->ctx.vgic.nr_lrs = nr_lrs;
	vcpu->ctx.vgic.nr_apr = nr_apr;
	vcpu->ctx.traps = avcpu_host.traps;
	vcpu->ctx.x[0] = x0;
	vcpu->ctx.pc = entry;
	vcpu->ctx.pstate = AVCPU_PSTATE_RESET;
	avcpu_reset_sysregs(vcpu);
	vcpu->pending = AVCPU_PENDING_NONE;
	vcpu->powered_off = false;
}

static bool avcpu_pstate_ok(u64 pstate)
{
	u64 mode = pstate & GENMASK(4, 0);

	if (pstate & ~AVCPU_PSTATE_ALLOWED)
		return false;
	return mode == PSR_MODE_EL0t || mode == PSR_MODE_EL1t ||
	       mode == PSR_MODE_EL1h;
}

static int avcpu_vcpu_setup(struct avcpu_vcpu *vcpu, void __user *argp)
{
	struct avcpu_setup s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (vcpu->state != AVCPU_STATE_CREATED && vcpu->state != AVCPU_STATE_FREE)
		return -EBUSY;
	if (memchr_inv(s.reserved, 0, sizeof(s.reserved)) ||
	    (s.flags & ~(AVCPU_SETUP_EXIT_ON_HOST_IRQ |
			 AVCPU_SETUP_PASSTHROUGH_TIMER |
			 AVCPU_SETUP_EXIT_ON_WFI)) ||
	    (s.entry & 3))
		return -EINVAL;
	if ((s.flags & AVCPU_SETUP_PASSTHROUGH_TIMER) &&
	    avcpu_host.mode != AVCPU_HOST_MODE_VHE)
		return -EOPNOTSUPP;
	avcpu_vcpu_reset(vcpu, s.entry, s.x0);
	vcpu->flags = s.flags;
	/* the timers were reset with the registers: so are their outputs */
	hrtimer_cancel(&vcpu->ptimer);
	avcpu_vgic_set_tline(vcpu, AVCPU_INTID_VTIMER, false);
	avcpu_vgic_set_tline(vcpu, AVCPU_INTID_PTIMER, false);
	vcpu->state = AVCPU_STATE_FREE;
	return 0;
}

static bool avcpu_is_owner(struct avcpu_vcpu *vcpu)
{
	return vcpu->owner && vcpu->owner == task_pid(current);
}

static int avcpu_vcpu_bind(struct avcpu_vcpu *vcpu, void __user *argp)
{
	struct avcpu_bind b;
	unsigned int cpu;
	int ret;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if (vcpu->state != AVCPU_STATE_FREE)
		return -EBUSY;
	if (b.flags || memchr_inv(b.reserved, 0, sizeof(b.reserved)))
		return -EINVAL;
	cpu = b.cpu == AVCPU_BIND_CURRENT_CPU ? raw_smp_processor_id() : b.cpu;
	if (cpu >= nr_cpu_ids || !cpu_online(cpu) ||
	    !cpumask_test_cpu(cpu, current->cpus_ptr))
		return -EINVAL;

	cpumask_copy(vcpu->saved_mask, current->cpus_ptr);
	ret = set_cpus_allowed_ptr(current, cpumask_of(cpu));
	if (ret)
		return ret;
	vcpu->cpu = cpu;
	vcpu->owner = get_pid(task_pid(current));
	vcpu->state = AVCPU_STATE_READY;
	return 0;
}

/* Give the owner back its affinity; vcpu->mutex held or vCPU dying. */
static void avcpu_vcpu_release_owner(struct avcpu_vcpu *vcpu)
{
	struct task_struct *task = get_pid_task(vcpu->owner, PIDTYPE_PID);

	if (task) {
		set_cpus_allowed_ptr(task, vcpu->saved_mask);
		put_task_struct(task);
	}
	put_pid(vcpu->owner);
	vcpu->owner = NULL;
}

static int avcpu_vcpu_unbind(struct avcpu_vcpu *vcpu)
{
	if (vcpu->state != AVCPU_STATE_READY)
		return -EBUSY;
	if (!avcpu_is_owner(vcpu))
		return -EPERM;
	avcpu_vcpu_release_owner(vcpu);
	vcpu->state = AVCPU_STATE_FREE;
	return 0;
}

/*
 * Make the vCPU notice new interrupt state: wake it from WFI, or, if it is
 * in the guest, interrupt its CPU (any physical IRQ ends the guest, since
 * HCR_EL2.IMO routes them to EL2). Pairs with the barrier after in_guest is
 * set: either the entry sees the new state, or this sees in_guest. One
 * IPI per guest run is enough: whoever moves in_guest from IN to KICKED
 * sends it, and later kickers, whose state the next entry will load, need
 * not.
 */
void avcpu_vcpu_kick(struct avcpu_vcpu *vcpu)
{
	struct task_struct *task;

	/* the state change before it; a polling WFI reads it (see there) */
	smp_wmb();
	WRITE_ONCE(vcpu->kick_seq, READ_ONCE(vcpu->kick_seq) + 1);
	/*
	 * Safe from hard-IRQ context on PREEMPT_RT too (the timers' hrtimers
	 * call this). Its full barrier also orders the state change before
	 * the in_guest read below (see avcpu_enter_guest).
	 */
	rcuwait_wake_up(&vcpu->wait);
	if (cmpxchg(&vcpu->in_guest, AVCPU_IN_GUEST, AVCPU_KICKED) !=
	    AVCPU_IN_GUEST)
		return;
	/* task_structs are freed after an RCU grace period */
	rcu_read_lock();
	task = READ_ONCE(vcpu->run_task);
	if (task)
		kick_process(task);
	rcu_read_unlock();
}

static unsigned int halt_poll_ns = 50000;
module_param(halt_poll_ns, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns,
		 "ns a vCPU in WFI waits for an interrupt on its CPU before it sleeps (0: sleeps at once)");

/*
 * Halt polling, as KVM does it: an interrupt that comes within
 * halt_poll_ns (an IPI answered by another vCPU, a device completing)
 * costs no sleep, wake-up and context switch. Only the kick sequence is
 * read while waiting, and whether a timer the guest owns is due; the vGIC
 * is looked at when either moves. No hrtimer is started for the guest's
 * timers until the vCPU really sleeps.
 */
static bool avcpu_wfi_poll(struct avcpu_vcpu *vcpu)
{
	unsigned int ns = READ_ONCE(halt_poll_ns), seq;
	u64 stop;

	if (!ns)
		return false;
	stop = ktime_get_ns() + ns;
	seq = READ_ONCE(vcpu->kick_seq);
	do {
		if (READ_ONCE(vcpu->kick_seq) != seq || avcpu_timer_wfi_due(vcpu)) {
			smp_rmb();	/* pairs with avcpu_vcpu_kick() */
			if (avcpu_vgic_wfi_pending(vcpu))
				return true;
			seq = READ_ONCE(vcpu->kick_seq);
		}
		cpu_relax();
	} while (ktime_get_ns() < stop && !need_resched() &&
		 !signal_pending(current));
	return false;
}

/*
 * WFI (D1.16.2): sleep until the guest's interrupt interface would signal
 * something, a signal arrives, or the VMM asked for HALT exits instead.
 * Returns >0 to re-enter, 0 for an exit.
 */
int avcpu_vcpu_wfi(struct avcpu_vcpu *vcpu)
{
	/* without a virtual CPU interface nothing could end the sleep */
	if (!(avcpu_host.flags & AVCPU_CAP_F_IRQ))
		return 1;
	if (avcpu_vgic_wfi_pending(vcpu))
		return 1;
	if (vcpu->flags & AVCPU_SETUP_EXIT_ON_WFI) {
		avcpu_set_exit(vcpu, AVCPU_EXIT_HALT);
		return 0;
	}

	if (avcpu_wfi_poll(vcpu))
		return 1;
	avcpu_timer_wfi_arm(vcpu);
	atomic64_inc(&vcpu->stats.wfi_sleeps);
	WRITE_ONCE(vcpu->state, AVCPU_STATE_BLOCKED);
	/* a signal ends the wait; the RUN loop then returns EINTR */
	rcuwait_wait_event(&vcpu->wait, avcpu_vgic_wfi_pending(vcpu),
			   TASK_INTERRUPTIBLE);
	WRITE_ONCE(vcpu->state, AVCPU_STATE_RUNNING);
	avcpu_timer_wfi_disarm(vcpu);
	return 1;
}

/*
 * One entry into the guest. Returns AVCPU_EXC_*, or AVCPU_ENTER_WRONG_CPU
 * if this thread is not on the vCPU's CPU (userspace changed its affinity
 * after BIND), AVCPU_ENTER_NO_EL2 if avcpu's EL2 is gone from it.
 */
static int avcpu_enter_guest(struct avcpu_vcpu *vcpu)
{
	int code;

	kernel_neon_begin();	/* saves the task's FP/SIMD/SVE state */
	if (smp_processor_id() != vcpu->cpu) {
		kernel_neon_end();
		return AVCPU_ENTER_WRONG_CPU;
	}
	local_irq_disable();
	/*
	 * in_guest before the LRs are filled, with a full barrier: whoever
	 * makes an interrupt pending after this point also sees in_guest
	 * and kicks (avcpu_vcpu_kick), so nothing waits for a later exit.
	 */
	smp_store_mb(vcpu->in_guest, AVCPU_IN_GUEST);
	vcpu->ctx.cntvoff = READ_ONCE(vcpu->vm->cntvoff);
	atomic64_inc(&vcpu->stats.entries);
	trace_avcpu_entry(vcpu->vm->vmid, vcpu->id, vcpu->ctx.pc);
	if (avcpu_host.flags & AVCPU_CAP_F_IRQ) {
		avcpu_vgic_flush(vcpu);
		avcpu_timer_load(vcpu);
	}
	/*
	 * A host masking interrupts with the GIC's priority mask (pseudo-NMIs)
	 * would keep them masked in the guest too: the CPU interface signals
	 * nothing below ICC_PMR_EL1, so no tick, kick or device interrupt
	 * would end the guest's run, only its own traps. Mask them in PSTATE
	 * and open the PMR instead, as KVM does, with a DSB SY so the GIC
	 * sees the new mask before the guest runs (IHI 0069, "Observability
	 * of the effects of accesses to the GIC registers").
	 */
	if (system_uses_irq_prio_masking()) {
		local_daif_mask();
		dsb(sy);
	}
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE)
		code = avcpu_vhe_run(vcpu);
	else
		code = avcpu_nvhe_run(vcpu);
	if (system_uses_irq_prio_masking())
		local_daif_restore(DAIF_PROCCTX_NOIRQ);
	if (code == AVCPU_EXC_EL2) {
		/* this CPU's record, before anyone else can enter here */
		vcpu->exit.esr = this_cpu_read(avcpu_el2_cpu.fault_esr);
		vcpu->exit.elr = this_cpu_read(avcpu_el2_cpu.fault_elr);
		vcpu->exit.far = this_cpu_read(avcpu_el2_cpu.fault_far);
	}
	WRITE_ONCE(vcpu->in_guest, AVCPU_OUTSIDE_GUEST);
	if (avcpu_host.flags & AVCPU_CAP_F_IRQ) {
		avcpu_timer_sync(vcpu);
		avcpu_vgic_sync(vcpu);
		/* the host may take a timer PPI now, and beside KVM leave it active */
		if (code == AVCPU_EXC_IRQ)
			avcpu_hirq_forget();
	}
	local_irq_enable();	/* a host interrupt that ended the guest is taken here */
	kernel_neon_end();
	return code;
}

static int avcpu_vcpu_run(struct avcpu_vcpu *vcpu)
{
	struct avcpu_run *run = vcpu->run;
	int ret;

	if (vcpu->state != AVCPU_STATE_READY)
		return -EBUSY;

	WRITE_ONCE(vcpu->state, AVCPU_STATE_RUNNING);
	WRITE_ONCE(vcpu->run_task, current);
	avcpu_complete_exit(vcpu);
	if (avcpu_host.flags & AVCPU_CAP_F_IRQ)
		avcpu_ptimer_program(vcpu);	/* SET_SYSREG may have moved it */
	run->exit_reason = AVCPU_EXIT_NONE;
	for (;;) {
		int code;

		if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();

		code = avcpu_enter_guest(vcpu);
		if (code < 0) {
			avcpu_set_exit(vcpu, AVCPU_EXIT_FAIL_ENTRY);
			run->fail_entry.reason = code == AVCPU_ENTER_NO_EL2 ?
				AVCPU_FAIL_ENTRY_NO_EL2 : AVCPU_FAIL_ENTRY_WRONG_CPU;
			run->fail_entry.esr = 0;
			ret = 0;
			break;
		}
		ret = avcpu_handle_exit(vcpu, code);
		trace_avcpu_exit(vcpu->vm->vmid, vcpu->id, code, vcpu->exit.esr,
				 vcpu->ctx.pc, ret, ret ? 0 : run->exit_reason);
		if (ret <= 0)
			break;
		atomic64_inc(&vcpu->stats.kernel_exits);
	}
	if (ret == 0 && run->exit_reason < AVCPU_STATS_EXIT_REASONS)
		atomic64_inc(&vcpu->stats.exits[run->exit_reason]);

	WRITE_ONCE(vcpu->run_task, NULL);
	/*
	 * Out of locked memory (or memory) at a stage-2 fault: nothing was
	 * done, the next RUN tries the access again.
	 */
	if ((ret < 0 && ret != -EINTR && ret != -ENOMEM) ||
	    vcpu->state == AVCPU_STATE_INVALID)
		WRITE_ONCE(vcpu->state, AVCPU_STATE_INVALID);
	else
		WRITE_ONCE(vcpu->state, AVCPU_STATE_READY);
	return ret;
}

static void avcpu_regs_get(struct avcpu_vcpu *vcpu, struct avcpu_regs *r)
{
	struct avcpu_ctx *c = &vcpu->ctx;
	int i;

	memset(r, 0, sizeof(*r));
	memcpy(r->x, c->x, sizeof(r->x));
	r->sp_el0 = c->sp_el0;
	r->sp_el1 = c->sys[AVCPU_SP_EL1];
	r->pc = c->pc;
	r->pstate = c->pstate;
	r->elr_el1 = c->sys[AVCPU_ELR_EL1];
	r->spsr_el1 = c->sys[AVCPU_SPSR_EL1];
	r->fpsr = c->fp.fpsr;
	r->fpcr = c->fp.fpcr;
	for (i = 0; i < 32; i++) {
		r->v[i][0] = (u64)c->fp.v[i];
		r->v[i][1] = (u64)(c->fp.v[i] >> 64);
	}
}

static int avcpu_regs_set(struct avcpu_vcpu *vcpu, const struct avcpu_regs *r)
{
	struct avcpu_ctx *c = &vcpu->ctx;
	int i;

	if (memchr_inv(r->reserved, 0, sizeof(r->reserved)) ||
	    !avcpu_pstate_ok(r->pstate) || r->fpsr >> 32 || r->fpcr >> 32)
		return -EINVAL;
	memcpy(c->x, r->x, sizeof(c->x));
	c->sp_el0 = r->sp_el0;
	c->sys[AVCPU_SP_EL1] = r->sp_el1;
	c->pc = r->pc;
	c->pstate = r->pstate;
	c->sys[AVCPU_ELR_EL1] = r->elr_el1;
	c->sys[AVCPU_SPSR_EL1] = r->spsr_el1;
	c->fp.fpsr = r->fpsr;
	c->fp.fpcr = r->fpcr;
	for (i = 0; i < 32; i++)
		c->fp.v[i] = ((__uint128_t)r->v[i][1] << 64) | r->v[i][0];
	/* a completion pending for the old state no longer applies */
	vcpu->pending = AVCPU_PENDING_NONE;
	return 0;
}

static int avcpu_vcpu_regs(struct avcpu_vcpu *vcpu, unsigned int cmd,
			   void __user *argp)
{
	struct avcpu_regs *r;
	int ret = 0;

	if (vcpu->state == AVCPU_STATE_RUNNING)
		return -EBUSY;
	r = kmalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	if (cmd == AVCPU_GET_REGS) {
		avcpu_regs_get(vcpu, r);
		if (copy_to_user(argp, r, sizeof(*r)))
			ret = -EFAULT;
	} else if (copy_from_user(r, argp, sizeof(*r))) {
		ret = -EFAULT;
	} else {
		ret = avcpu_regs_set(vcpu, r);
	}
	kfree(r);
	return ret;
}

static int avcpu_vcpu_sysreg(struct avcpu_vcpu *vcpu, unsigned int cmd,
			     void __user *argp)
{
	struct avcpu_sysreg s;
	int ret;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.reserved0 || memchr_inv(s.reserved, 0, sizeof(s.reserved)))
		return -EINVAL;
	if (s.encoding == AVCPU_SYSREG(3, 0, 0, 0, 5)) {	/* MPIDR_EL1 */
		if (cmd == AVCPU_SET_SYSREG)
			return -EINVAL;
		s.value = vcpu->mpidr;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	ret = avcpu_sysreg_user(vcpu, s.encoding, cmd == AVCPU_SET_SYSREG,
				&s.value);
	if (ret || cmd == AVCPU_SET_SYSREG)
		return ret;
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long avcpu_vcpu_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct avcpu_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	if (vcpu->vm->mm != current->mm)
		return -EIO;

	if (cmd != AVCPU_GET_STATE &&
	    READ_ONCE(vcpu->state) == AVCPU_STATE_INVALID)
		return -EIO;

	/* Not the binder: fail at once rather than wait for a running guest. */
	if ((cmd == AVCPU_RUN || cmd == AVCPU_UNBIND) &&
	    READ_ONCE(vcpu->owner) && !avcpu_is_owner(vcpu))
		return -EPERM;

	/* Lockless, so that it answers RUNNING while another thread runs. */
	if (cmd == AVCPU_GET_STATE)
		return arg ? -EINVAL : READ_ONCE(vcpu->state);

	/* Counters: any thread, at any time, also while the vCPU runs. */
	if (cmd == AVCPU_GET_STATS)
		return avcpu_stats_copy(&vcpu->stats, argp);

	/* Interrupts: any thread, at any time, without waiting for RUN. */
	if (cmd == AVCPU_INJECT_IRQ || cmd == AVCPU_GET_IRQ ||
	    cmd == AVCPU_SET_IRQ)
		return avcpu_vgic_ioctl(vcpu, cmd, argp);

	/* behind a RUN, maybe a guest asleep in WFI: any signal ends the wait */
	if (mutex_lock_interruptible(&vcpu->mutex))
		return -EINTR;
	if (vcpu->state == AVCPU_STATE_INVALID) {
		ret = -EIO;
		goto out;
	}

	switch (cmd) {
	case AVCPU_SETUP:
		ret = avcpu_vcpu_setup(vcpu, argp);
		break;
	case AVCPU_BIND:
		ret = avcpu_vcpu_bind(vcpu, argp);
		break;
	case AVCPU_UNBIND:
		ret = arg ? -EINVAL : avcpu_vcpu_unbind(vcpu);
		break;
	case AVCPU_RUN:
		if (arg)
			ret = -EINVAL;
		else if (vcpu->state == AVCPU_STATE_READY && !avcpu_is_owner(vcpu))
			ret = -EPERM;
		else
			ret = avcpu_vcpu_run(vcpu);
		break;
	case AVCPU_GET_REGS:
	case AVCPU_SET_REGS:
		ret = avcpu_vcpu_regs(vcpu, cmd, argp);
		break;
	case AVCPU_GET_SYSREG:
	case AVCPU_SET_SYSREG:
		ret = avcpu_vcpu_sysreg(vcpu, cmd, argp);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
out:
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static int avcpu_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct avcpu_vcpu *vcpu = filp->private_data;

	/* shared: a private mapping would copy the page on the VMM's write */
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	avcpu_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_page(vma, vma->vm_start, virt_to_page(vcpu->run));
}

/*
 * A vCPU takes whole pages: on nVHE hosts EL2 maps it, and must see
 * nothing else (Documentation/design.rst, "EL2 page tables").
 */
static struct avcpu_vcpu *avcpu_vcpu_alloc(void)
{
	struct avcpu_vcpu *vcpu;
	int err = -ENOMEM;

	vcpu = alloc_pages_exact(sizeof(*vcpu), GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vcpu)
		return NULL;
	vcpu->run = (struct avcpu_run *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (vcpu->run && zalloc_cpumask_var(&vcpu->saved_mask, GFP_KERNEL))
		err = avcpu_nvhe_map_vcpu(vcpu);
	if (!err)
		return vcpu;
	free_cpumask_var(vcpu->saved_mask);
	free_page((unsigned long)vcpu->run);
	/* -EIO: EL2 may still reach it through a stale TLB entry (nvhe.c) */
	if (err != -EIO)
		free_pages_exact(vcpu, sizeof(*vcpu));
	return NULL;
}

static void avcpu_vcpu_free(struct avcpu_vcpu *vcpu)
{
	avcpu_vgic_destroy(vcpu);
	free_cpumask_var(vcpu->saved_mask);
	free_page((unsigned long)vcpu->run);
	/* EL2 may still reach it through a stale TLB entry: leaked (nvhe.c) */
	if (!avcpu_nvhe_unmap_vcpu(vcpu))
		free_pages_exact(vcpu, sizeof(*vcpu));
}

static int avcpu_vcpu_release(struct inode *inode, struct file *filp)
{
	struct avcpu_vcpu *vcpu = filp->private_data;
	struct avcpu_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	WRITE_ONCE(vm->vcpus[vcpu->id], NULL);
	avcpu_stats_add(&vm->gone, &vcpu->stats);
	mutex_unlock(&vm->lock);
	/* an irqfd's wake-up may still be looking at it (eventfd.c) */
	synchronize_rcu();
	if (vcpu->owner)
		avcpu_vcpu_release_owner(vcpu);
	avcpu_timer_vcpu_destroy(vcpu);
	avcpu_vcpu_free(vcpu);
	avcpu_vm_put(vm);
	return 0;
}

const struct file_operations avcpu_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= avcpu_vcpu_release,
	.unlocked_ioctl	= avcpu_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= avcpu_vcpu_mmap,
	.llseek		= noop_llseek,
};

#define AVCPU_MPIDR_AFF_MASK	0xff00ffffffULL

int avcpu_create_vcpu(struct avcpu_vm *vm, struct avcpu_vcpu_init *init)
{
	struct avcpu_vcpu *vcpu;
	int i, fd;

	if (init->vcpu_id >= AVCPU_MAX_VCPUS || init->flags ||
	    memchr_inv(init->reserved, 0, sizeof(init->reserved)) ||
	    (init->mpidr & ~AVCPU_MPIDR_AFF_MASK))
		return -EINVAL;

	vcpu = avcpu_vcpu_alloc();
	if (!vcpu)
		return -ENOMEM;
	mutex_init(&vcpu->mutex);
	rcuwait_init(&vcpu->wait);
	avcpu_timer_vcpu_init(vcpu);
	vcpu->vm = vm;
	vcpu->id = init->vcpu_id;
	vcpu->mpidr = init->mpidr | BIT(31);	/* RES1 */
	vcpu->state = AVCPU_STATE_CREATED;
	vcpu->cpu = -1;
	avcpu_vcpu_reset(vcpu, 0, 0);
	if (avcpu_vgic_init(vcpu)) {
		avcpu_vcpu_free(vcpu);
		return -ENOMEM;
	}

	mutex_lock(&vm->lock);
	for (i = 0; i < AVCPU_MAX_VCPUS; i++) {
		struct avcpu_vcpu *v = vm->vcpus[i];

		if (v && (i == vcpu->id || v->mpidr == vcpu->mpidr)) {
			mutex_unlock(&vm->lock);
			avcpu_vcpu_free(vcpu);
			return -EEXIST;
		}
	}
	kref_get(&vm->kref);
	fd = anon_inode_getfd("avcpu-vcpu", &avcpu_vcpu_fops, vcpu,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		mutex_unlock(&vm->lock);
		avcpu_vm_put(vm);	/* not the last: the VM fd holds one */
		avcpu_vcpu_free(vcpu);
		return fd;
	}
	/* irqfds find it without the lock: publish it initialised */
	smp_store_release(&vm->vcpus[vcpu->id], vcpu);
	vm->vcpu_created = true;
	mutex_unlock(&vm->lock);
	return fd;
}
