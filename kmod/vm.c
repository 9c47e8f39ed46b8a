// SPDX-License-Identifier: GPL-2.0
/*
 * The VM object and its fd: guest memory regions and vCPU creation.
 *
 * A VM lives as long as any fd refers to it: its own and one per vCPU
 * (kref). Only the process that created it may use it, since guest memory
 * is that process's memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/arch_timer.h>

#include "avcpu.h"

static void avcpu_vm_free(struct kref *kref)
{
	struct avcpu_vm *vm = container_of(kref, struct avcpu_vm, kref);

	avcpu_eventfd_release(vm);
	avcpu_coalesced_release(vm);
	mutex_lock(&vm->mmu_lock);
	avcpu_stage2_destroy(vm);
	mutex_unlock(&vm->mmu_lock);
	mmdrop(vm->mm);
	kfree(vm);
}

void avcpu_vm_put(struct avcpu_vm *vm)
{
	kref_put(&vm->kref, avcpu_vm_free);
}

/* The slot holding @gpa, with vm->mmu_lock held. */
struct avcpu_slot *avcpu_find_slot(struct avcpu_vm *vm, u64 gpa)
{
	int i;

	for (i = 0; i < AVCPU_MAX_MEM_SLOTS; i++) {
		struct avcpu_slot *s = &vm->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

/*
 * Does [gpa, gpa + size) overlap a memory region or the GICv2 frame
 * (vm->lock held)? Neither may overlap anything.
 */
static bool avcpu_ipa_taken(struct avcpu_vm *vm, u64 gpa, u64 size)
{
	int i;

	for (i = 0; i < AVCPU_MAX_MEM_SLOTS; i++) {
		struct avcpu_slot *s = &vm->slots[i];

		if (s->size && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return vm->gicv_size && gpa < vm->gicv_ipa + vm->gicv_size &&
	       vm->gicv_ipa < gpa + size;
}

static int avcpu_set_memory_region(struct avcpu_vm *vm,
				   struct avcpu_mem_region *r)
{
	struct avcpu_slot *slot;
	u64 ipa_limit = BIT_ULL(avcpu_host.ipa_bits);

	if (r->slot >= AVCPU_MAX_MEM_SLOTS || r->reserved0 ||
	    memchr_inv(r->reserved, 0, sizeof(r->reserved)) ||
	    (r->flags & ~AVCPU_MEM_READONLY))
		return -EINVAL;
	slot = &vm->slots[r->slot];

	if (!r->memory_size) {
		int err;

		if (!slot->size)
			return -ENOENT;
		mutex_lock(&vm->mmu_lock);
		/* -EIO: no TLB invalidation, the slot and its pins stay */
		err = avcpu_stage2_unmap(vm, slot->gpa, slot->size);
		if (!err)
			slot->size = 0;
		mutex_unlock(&vm->mmu_lock);
		return err;
	}

	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size < r->userspace_addr ||
	    r->guest_phys_addr + r->memory_size > ipa_limit)
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(r->userspace_addr), r->memory_size))
		return -EFAULT;
	if (slot->size)
		return -EEXIST;	/* change a live region by delete + add */
	if (avcpu_ipa_taken(vm, r->guest_phys_addr, r->memory_size))
		return -EEXIST;

	mutex_lock(&vm->mmu_lock);
	slot->gpa = r->guest_phys_addr;
	slot->uaddr = r->userspace_addr;
	slot->flags = r->flags;
	slot->size = r->memory_size;
	mutex_unlock(&vm->mmu_lock);
	return 0;
}

/* AVCPU_SET_GICV: the host's GICV frame at @ipa, once (vm->lock held). */
static int avcpu_set_gicv(struct avcpu_vm *vm, const struct avcpu_gicv *g)
{
	u64 size = avcpu_host.gicv_size;
	int err;

	if (memchr_inv(g->reserved, 0, sizeof(g->reserved)))
		return -EINVAL;
	if (!avcpu_gic_v2() || !size)
		return -ENODEV;
	if (!IS_ALIGNED(g->ipa, size) || g->ipa + size < g->ipa ||
	    g->ipa + size > BIT_ULL(avcpu_host.ipa_bits))
		return -EINVAL;
	if (vm->gicv_size || avcpu_ipa_taken(vm, g->ipa, size))
		return -EEXIST;
	err = avcpu_stage2_map_device(vm, g->ipa, avcpu_gicv2_gicv_phys(), size);
	if (err)
		return err;
	vm->gicv_ipa = g->ipa;
	vm->gicv_size = size;
	return 0;
}

/* Every INTID up to the limit the VMM's distributor implements. */
static int avcpu_set_nr_irqs(struct avcpu_vm *vm, unsigned long nr)
{
	if (nr < 64 || nr > AVCPU_MAX_NR_IRQS || nr % 32)
		return -EINVAL;
	if (vm->vcpu_created)
		return -EBUSY;
	vm->nr_irqs = nr;
	return 0;
}

static int avcpu_counter_offset(struct avcpu_vm *vm, unsigned int cmd,
				void __user *argp)
{
	struct avcpu_counter_offset o;
	int i;

	if (cmd == AVCPU_GET_COUNTER_OFFSET) {
		memset(&o, 0, sizeof(o));
		o.offset = READ_ONCE(vm->cntvoff);
		return copy_to_user(argp, &o, sizeof(o)) ? -EFAULT : 0;
	}
	if (copy_from_user(&o, argp, sizeof(o)))
		return -EFAULT;
	if (memchr_inv(o.reserved, 0, sizeof(o.reserved)))
		return -EINVAL;
	WRITE_ONCE(vm->cntvoff, o.offset);
	/* running vCPUs load it at their next entry: make that now */
	mutex_lock(&vm->lock);
	for (i = 0; i < AVCPU_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			avcpu_vcpu_kick(vm->vcpus[i]);
	mutex_unlock(&vm->lock);
	return 0;
}

static int avcpu_vm_enable_cap(struct avcpu_vm *vm, void __user *argp)
{
	struct avcpu_enable_cap c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags || memchr_inv(c.args, 0, sizeof(c.args)))
		return -EINVAL;
	switch (c.cap) {
	case AVCPU_VM_CAP_KERNEL_SGI:
		/* GICv2 guests send SGIs through the VMM's distributor */
		if (avcpu_gic_v2())
			return -EOPNOTSUPP;
		WRITE_ONCE(vm->kernel_sgi, true);
		return 0;
	default:
		return -EINVAL;
	}
}

static long avcpu_vm_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct avcpu_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case AVCPU_SET_MEMORY_REGION: {
		struct avcpu_mem_region r;

		if (copy_from_user(&r, argp, sizeof(r)))
			return -EFAULT;
		mutex_lock(&vm->lock);
		ret = avcpu_set_memory_region(vm, &r);
		mutex_unlock(&vm->lock);
		return ret;
	}
	case AVCPU_CREATE_VCPU: {
		struct avcpu_vcpu_init init;

		if (copy_from_user(&init, argp, sizeof(init)))
			return -EFAULT;
		return avcpu_create_vcpu(vm, &init);
	}
	case AVCPU_SET_NR_IRQS:
		mutex_lock(&vm->lock);
		ret = avcpu_set_nr_irqs(vm, arg);
		mutex_unlock(&vm->lock);
		return ret;
	case AVCPU_GET_COUNTER_OFFSET:
	case AVCPU_SET_COUNTER_OFFSET:
		return avcpu_counter_offset(vm, cmd, argp);
	case AVCPU_IOEVENTFD:
		return avcpu_ioeventfd(vm, argp);
	case AVCPU_IRQFD:
		return avcpu_irqfd(vm, argp);
	case AVCPU_ENABLE_CAP:
		return avcpu_vm_enable_cap(vm, argp);
	case AVCPU_GET_STATS:
		return avcpu_vm_get_stats(vm, argp);
	case AVCPU_COALESCED_MMIO:
		return avcpu_coalesced_mmio(vm, argp);
	case AVCPU_SET_GICV: {
		struct avcpu_gicv g;

		if (copy_from_user(&g, argp, sizeof(g)))
			return -EFAULT;
		mutex_lock(&vm->lock);
		ret = avcpu_set_gicv(vm, &g);
		mutex_unlock(&vm->lock);
		return ret;
	}
	default:
		return -ENOTTY;
	}
}

static int avcpu_vm_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct avcpu_vm *vm = filp->private_data;

	if (vm->mm != current->mm)
		return -EIO;
	return avcpu_coalesced_mmap(vm, vma);
}

static int avcpu_vm_release(struct inode *inode, struct file *filp)
{
	avcpu_vm_put(filp->private_data);
	return 0;
}

const struct file_operations avcpu_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= avcpu_vm_release,
	.unlocked_ioctl	= avcpu_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= avcpu_vm_mmap,
	.llseek		= noop_llseek,
};

int avcpu_create_vm(void)
{
	struct avcpu_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	kref_init(&vm->kref);
	mutex_init(&vm->lock);
	mutex_init(&vm->mmu_lock);
	mutex_init(&vm->fd_lock);
	spin_lock_init(&vm->cmmio_lock);
	INIT_LIST_HEAD(&vm->ioeventfds);
	INIT_LIST_HEAD(&vm->irqfds);
	mmgrab(current->mm);
	vm->mm = current->mm;
	vm->nr_irqs = AVCPU_DEFAULT_NR_IRQS;
	/* the guest's virtual counter starts near 0, as after a reset */
	vm->cntvoff = __arch_counter_get_cntpct();

	ret = avcpu_stage2_init(vm);
	if (ret)
		goto err;
	ret = anon_inode_getfd("avcpu-vm", &avcpu_vm_fops, vm,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0)
		goto err;
	return ret;
err:
	avcpu_vm_put(vm);
	return ret;
}
