// SPDX-License-Identifier: GPL-2.0
/*
 * The VM's fast paths for devices that live in the VMM, as KVM has them:
 *
 * - ioeventfd: a guest store to a doorbell address (virtio's QueueNotify)
 *   signals an eventfd and the guest goes on, instead of an MMIO_WRITE exit
 *   and a return to the VMM's vCPU thread;
 * - irqfd: an eventfd signalled by any thread (a device's I/O thread)
 *   raises a guest interrupt, with no vCPU ioctl.
 *
 * Both are VM objects: bound and unbound through VM-fd ioctls, released
 * with the VM. Documentation/api.rst ("Fast paths") is the contract.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "avcpu.h"

/* Bindings one VM may hold of each kind: a bound on kernel memory. */
#define AVCPU_MAX_IOEVENTFDS	256
#define AVCPU_MAX_IRQFDS	256

struct avcpu_ioeventfd_k {
	struct list_head list;		/* vm->ioeventfds, RCU */
	u64 addr;
	u32 len;
	bool datamatch;
	u64 value;
	struct eventfd_ctx *ctx;
};

struct avcpu_irqfd_k {
	struct list_head list;		/* vm->irqfds, vm->fd_lock */
	struct avcpu_vm *vm;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	u32 vcpu_id;
	u32 intid;
};

/*
 * Linux 6.8 dropped eventfd_signal()'s count argument (kmod/Kbuild's
 * feature test sets AVCPU_HAVE_EVENTFD_SIGNAL_1ARG).
 */
static void avcpu_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef AVCPU_HAVE_EVENTFD_SIGNAL_1ARG
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

static bool ioeventfd_same(const struct avcpu_ioeventfd_k *e,
			   const struct avcpu_ioeventfd *a)
{
	bool dm = a->flags & AVCPU_IOEVENTFD_DATAMATCH;

	return e->addr == a->addr && e->len == a->len && e->datamatch == dm &&
	       (!dm || e->value == a->datamatch);
}

static int avcpu_ioeventfd_assign(struct avcpu_vm *vm,
				  const struct avcpu_ioeventfd *a)
{
	struct avcpu_ioeventfd_k *e, *n;
	struct eventfd_ctx *ctx;
	unsigned int count = 0;
	int ret = 0;

	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	n->addr = a->addr;
	n->len = a->len;
	n->datamatch = a->flags & AVCPU_IOEVENTFD_DATAMATCH;
	n->value = a->datamatch;
	n->ctx = ctx;

	mutex_lock(&vm->fd_lock);
	list_for_each_entry(e, &vm->ioeventfds, list) {
		/* one store rings one doorbell: no second binding it matches */
		if (e->addr == n->addr && e->len == n->len &&
		    (!e->datamatch || !n->datamatch || e->value == n->value)) {
			ret = -EEXIST;
			break;
		}
		count++;
	}
	if (!ret && count >= AVCPU_MAX_IOEVENTFDS)
		ret = -ENOSPC;
	if (!ret)
		list_add_tail_rcu(&n->list, &vm->ioeventfds);
	mutex_unlock(&vm->fd_lock);
	if (ret) {
		eventfd_ctx_put(ctx);
		kfree(n);
	}
	return ret;
}

static int avcpu_ioeventfd_deassign(struct avcpu_vm *vm,
				    const struct avcpu_ioeventfd *a)
{
	struct avcpu_ioeventfd_k *e, *found = NULL;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->fd_lock);
	list_for_each_entry(e, &vm->ioeventfds, list) {
		if (e->ctx == ctx && ioeventfd_same(e, a)) {
			list_del_rcu(&e->list);
			found = e;
			break;
		}
	}
	mutex_unlock(&vm->fd_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	/* no vCPU may still be signalling it */
	synchronize_rcu();
	eventfd_ctx_put(found->ctx);
	kfree(found);
	return 0;
}

int avcpu_ioeventfd(struct avcpu_vm *vm, void __user *argp)
{
	struct avcpu_ioeventfd a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(AVCPU_IOEVENTFD_DATAMATCH | AVCPU_IOEVENTFD_DEASSIGN) ||
	    a.reserved0 || memchr_inv(a.reserved, 0, sizeof(a.reserved)))
		return -EINVAL;
	if (a.len != 1 && a.len != 2 && a.len != 4 && a.len != 8)
		return -EINVAL;
	if (a.addr + a.len < a.addr || (a.addr + a.len - 1) >> avcpu_host.ipa_bits)
		return -EINVAL;
	if (!(a.flags & AVCPU_IOEVENTFD_DATAMATCH) && a.datamatch)
		return -EINVAL;
	if (a.flags & AVCPU_IOEVENTFD_DATAMATCH && a.len < 8 &&
	    a.datamatch >> (a.len * 8))
		return -EINVAL;		/* a value no store of @len can write */
	if (a.flags & AVCPU_IOEVENTFD_DEASSIGN)
		return avcpu_ioeventfd_deassign(vm, &a);
	return avcpu_ioeventfd_assign(vm, &a);
}

/**
 * avcpu_ioeventfd_write() - ring the doorbell a guest store hits, if any
 * @vm: the VM.
 * @addr: the store's IPA.
 * @len: its size in bytes.
 * @data: the value stored (zero-extended to 64 bits).
 *
 * Called from the MMIO exit handler, preemptible.
 *
 * Return: true if an eventfd took the store (no exit to userspace).
 */
bool avcpu_ioeventfd_write(struct avcpu_vm *vm, u64 addr, u32 len, u64 data)
{
	struct avcpu_ioeventfd_k *e;
	bool hit = false;

	if (list_empty(&vm->ioeventfds))	/* racy peek: the common case */
		return false;
	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->ioeventfds, list) {
		if (e->addr == addr && e->len == len &&
		    (!e->datamatch || e->value == data)) {
			avcpu_eventfd_signal(e->ctx);
			hit = true;
			break;
		}
	}
	rcu_read_unlock();
	return hit;
}

/*
 * One raise of @f's line, its eventfd's count just read. The vCPU is
 * looked up under RCU: vCPUs are freed only after a grace period (vcpu.c).
 */
static void avcpu_irqfd_fire(struct avcpu_irqfd_k *f)
{
	struct avcpu_vcpu *vcpu;

	rcu_read_lock();
	vcpu = READ_ONCE(f->vm->vcpus[f->vcpu_id]);
	if (vcpu) {
		atomic64_inc(&vcpu->stats.irqfd_injections);
		avcpu_vgic_raise(vcpu, f->intid, AVCPU_INJECT_SRC_IRQFD);
	}
	rcu_read_unlock();
}

/*
 * The eventfd's wait queue calls this, its lock held with interrupts off,
 * from whichever thread signalled it.
 */
static int avcpu_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct avcpu_irqfd_k *f = container_of(wait, struct avcpu_irqfd_k, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	if (!(flags & EPOLLIN))
		return 0;	/* EPOLLHUP: unbound at DEASSIGN or VM release */
	eventfd_ctx_do_read(f->ctx, &cnt);
	if (cnt)
		avcpu_irqfd_fire(f);
	return 0;
}

static void avcpu_irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct avcpu_irqfd_k *f = container_of(pt, struct avcpu_irqfd_k, pt);

	f->wqh = wqh;
	add_wait_queue(wqh, &f->wait);
}

static void avcpu_irqfd_free(struct avcpu_irqfd_k *f)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(f->ctx, &f->wait, &cnt);
	eventfd_ctx_put(f->ctx);
	kfree(f);
}

static int avcpu_irqfd_assign(struct avcpu_vm *vm, const struct avcpu_irqfd *a)
{
	struct avcpu_irqfd_k *f, *e;
	struct eventfd_ctx *ctx;
	unsigned int count = 0;
	struct file *file;
	__poll_t events;
	int ret = 0;

	file = fget(a->fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return PTR_ERR(ctx);
	}
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	f->vm = vm;
	f->ctx = ctx;
	f->vcpu_id = a->vcpu_id;
	f->intid = a->intid;
	init_waitqueue_func_entry(&f->wait, avcpu_irqfd_wakeup);
	init_poll_funcptr(&f->pt, avcpu_irqfd_queue);

	mutex_lock(&vm->fd_lock);
	list_for_each_entry(e, &vm->irqfds, list) {
		if (e->ctx == ctx) {
			ret = -EEXIST;
			break;
		}
		count++;
	}
	if (!ret && count >= AVCPU_MAX_IRQFDS)
		ret = -ENOSPC;
	if (ret) {
		mutex_unlock(&vm->fd_lock);
		kfree(f);
		goto out;
	}
	list_add_tail(&f->list, &vm->irqfds);
	/* on the eventfd's wait queue from here on: signals are seen */
	events = vfs_poll(file, &f->pt);
	mutex_unlock(&vm->fd_lock);
	if (events & EPOLLIN) {
		/* a count from before the binding: one raise, as a signal now */
		u64 cnt;

		spin_lock_irq(&f->wqh->lock);
		eventfd_ctx_do_read(ctx, &cnt);
		if (cnt)
			avcpu_irqfd_fire(f);
		spin_unlock_irq(&f->wqh->lock);
	}
	fput(file);
	return 0;
out:
	eventfd_ctx_put(ctx);
	fput(file);
	return ret;
}

static int avcpu_irqfd_deassign(struct avcpu_vm *vm, const struct avcpu_irqfd *a)
{
	struct avcpu_irqfd_k *e, *found = NULL;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->fd_lock);
	list_for_each_entry(e, &vm->irqfds, list) {
		if (e->ctx == ctx) {
			list_del(&e->list);
			found = e;
			break;
		}
	}
	mutex_unlock(&vm->fd_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	avcpu_irqfd_free(found);
	return 0;
}

int avcpu_irqfd(struct avcpu_vm *vm, void __user *argp)
{
	struct avcpu_irqfd a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~AVCPU_IRQFD_DEASSIGN ||
	    memchr_inv(a.reserved, 0, sizeof(a.reserved)))
		return -EINVAL;
	if (a.flags & AVCPU_IRQFD_DEASSIGN)
		return avcpu_irqfd_deassign(vm, &a);
	if (a.vcpu_id >= AVCPU_MAX_VCPUS ||
	    a.intid >= min_t(u32, vm->nr_irqs, AVCPU_INTID_LIMIT))
		return -EINVAL;
	return avcpu_irqfd_assign(vm, &a);
}

/* The VM's last reference is gone: unbind and free everything. */
void avcpu_eventfd_release(struct avcpu_vm *vm)
{
	struct avcpu_ioeventfd_k *e, *en;
	struct avcpu_irqfd_k *f, *fn;

	list_for_each_entry_safe(f, fn, &vm->irqfds, list) {
		list_del(&f->list);
		avcpu_irqfd_free(f);
	}
	/* no vCPU is left to ring a doorbell: no grace period needed */
	list_for_each_entry_safe(e, en, &vm->ioeventfds, list) {
		list_del(&e->list);
		eventfd_ctx_put(e->ctx);
		kfree(e);
	}
}
