// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced MMIO (AVCPU_COALESCED_MMIO): guest stores to zones the VMM
 * names go into a ring page the VMM maps from the VM fd, instead of an
 * exit each, and the VMM applies them the next time RUN returns. For
 * registers whose stores have no effect the guest could see before its
 * next exit to the VMM: an interrupt controller's configuration written
 * at boot, a framebuffer. KVM's KVM_REGISTER_COALESCED_MMIO is the model.
 *
 * The ring's indices live in a page the VMM can write: the kernel keeps
 * its own copy of where it writes next and only reads the VMM's "first",
 * checked, to know whether the ring is full.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "avcpu.h"

#define AVCPU_COALESCED_NR \
	((PAGE_SIZE - sizeof(struct avcpu_coalesced_ring)) / \
	 sizeof(struct avcpu_coalesced_entry))

/* The ring page, allocated at first need (a zone or an mmap): fd_lock held */
static int avcpu_coalesced_ring_get(struct avcpu_vm *vm)
{
	struct avcpu_coalesced_ring *r;

	if (vm->cring)
		return 0;
	r = (struct avcpu_coalesced_ring *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->nr = AVCPU_COALESCED_NR;
	spin_lock(&vm->cmmio_lock);
	vm->cring = r;
	spin_unlock(&vm->cmmio_lock);
	return 0;
}

static int avcpu_coalesced_find(struct avcpu_vm *vm, u64 addr, u32 size)
{
	unsigned int i;

	for (i = 0; i < vm->nr_czones; i++)
		if (vm->czones[i].addr == addr && vm->czones[i].size == size)
			return i;
	return -1;
}

static bool avcpu_coalesced_overlaps(struct avcpu_vm *vm, u64 addr, u32 size)
{
	unsigned int i;

	for (i = 0; i < vm->nr_czones; i++) {
		struct avcpu_czone *z = &vm->czones[i];

		if (addr < z->addr + z->size && z->addr < addr + size)
			return true;
	}
	return false;
}

int avcpu_coalesced_mmio(struct avcpu_vm *vm, void __user *argp)
{
	struct avcpu_coalesced_zone a;
	int ret = 0, i;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if ((a.flags & ~AVCPU_COALESCED_DEASSIGN) ||
	    memchr_inv(a.reserved, 0, sizeof(a.reserved)) || !a.size ||
	    a.addr + a.size < a.addr ||
	    a.addr + a.size > BIT_ULL(avcpu_host.ipa_bits))
		return -EINVAL;

	mutex_lock(&vm->fd_lock);
	if (a.flags & AVCPU_COALESCED_DEASSIGN) {
		i = avcpu_coalesced_find(vm, a.addr, a.size);
		if (i < 0) {
			ret = -ENOENT;
		} else {
			spin_lock(&vm->cmmio_lock);
			vm->czones[i] = vm->czones[--vm->nr_czones];
			spin_unlock(&vm->cmmio_lock);
		}
	} else if (avcpu_coalesced_overlaps(vm, a.addr, a.size)) {
		ret = -EEXIST;
	} else if (vm->nr_czones == AVCPU_MAX_CZONES) {
		ret = -ENOSPC;
	} else {
		ret = avcpu_coalesced_ring_get(vm);
		if (!ret) {
			spin_lock(&vm->cmmio_lock);
			vm->czones[vm->nr_czones].addr = a.addr;
			vm->czones[vm->nr_czones].size = a.size;
			vm->nr_czones++;
			spin_unlock(&vm->cmmio_lock);
		}
	}
	mutex_unlock(&vm->fd_lock);
	return ret;
}

/*
 * From the MMIO exit path: put a guest store of @len bytes at @addr in the
 * ring if it lies in a zone and the ring has room. Returns whether it did.
 */
bool avcpu_coalesced_write(struct avcpu_vcpu *vcpu, u64 addr, unsigned int len,
			   u64 data)
{
	struct avcpu_vm *vm = vcpu->vm;
	struct avcpu_coalesced_ring *r;
	struct avcpu_coalesced_entry *e;
	bool done = false;
	unsigned int i;
	u32 first, next;

	if (!READ_ONCE(vm->nr_czones))
		return false;
	spin_lock(&vm->cmmio_lock);
	r = vm->cring;
	for (i = 0; i < vm->nr_czones; i++) {
		struct avcpu_czone *z = &vm->czones[i];

		if (addr >= z->addr && addr - z->addr + len <= z->size)
			break;
	}
	if (!r || i == vm->nr_czones)
		goto out;
	/* the VMM's index, as it left it: a bad one only stops coalescing */
	first = smp_load_acquire(&r->first);
	next = vm->cring_last + 1 == AVCPU_COALESCED_NR ? 0 : vm->cring_last + 1;
	if (first >= AVCPU_COALESCED_NR || next == first)
		goto out;
	e = &r->entries[vm->cring_last];
	e->addr = addr;
	e->len = len;
	e->vcpu_id = vcpu->id;
	e->data = data;
	vm->cring_last = next;
	/* the entry before the index that publishes it */
	smp_store_release(&r->last, next);
	done = true;
out:
	spin_unlock(&vm->cmmio_lock);
	return done;
}

int avcpu_coalesced_mmap(struct avcpu_vm *vm, struct vm_area_struct *vma)
{
	int ret;

	/* shared: a private mapping would copy the page on the VMM's write */
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mutex_lock(&vm->fd_lock);
	ret = avcpu_coalesced_ring_get(vm);
	mutex_unlock(&vm->fd_lock);
	if (ret)
		return ret;
	avcpu_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_page(vma, vma->vm_start, virt_to_page(vm->cring));
}

void avcpu_coalesced_release(struct avcpu_vm *vm)
{
	free_page((unsigned long)vm->cring);
	vm->cring = NULL;
}
