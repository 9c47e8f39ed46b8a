// SPDX-License-Identifier: GPL-2.0
/*
 * Stage-2 translation: a VMID per VM and its tables, filled lazily.
 *
 * The tables use the host's granule (4K or 16K) whatever granule the guest
 * uses at stage 1: the two stages are independent (Arm ARM, DDI 0487, D8.1
 * "Translation regimes"), and each leaf maps one host page, pinned at the
 * guest's first touch and unpinned when the leaf is removed (region deletion
 * or VM teardown). The IPA size is the host's (avcpu_host.ipa_bits); the
 * walk starts at the level pgtable.c picks, with up to 16 concatenated root
 * tables, and VTCR_EL2.SL0 says which (D8.2.7, and VTCR_EL2.SL0).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <asm/cacheflush.h>
#include <asm/kvm_arm.h>

#include "avcpu.h"

/* Stage-2 leaf attributes (D8.3 "Translation table descriptor formats") */
#define S2_MEMATTR_WB	(0xfUL << 2)	/* Normal, outer and inner write-back */
#define S2_AP_R		BIT(6)
#define S2_AP_W		BIT(7)
#define S2_SH_INNER	(3UL << 8)
#define S2_AF		BIT(10)
#define S2_MEMATTR_DEV	(0x1UL << 2)	/* Device-nGnRE */
#define S2_XN		(2UL << 53)	/* no execution at EL1 or EL0 */
/* software bit (D8.3.1, bits 58:55 are ignored): a device frame, not pinned */
#define S2_SW_DEVICE	BIT_ULL(55)

static DEFINE_IDA(avcpu_vmid_ida);
static atomic64_t avcpu_s2_gen = ATOMIC64_INIT(0);

void avcpu_vmid_exit(void)
{
	ida_destroy(&avcpu_vmid_ida);
}

int avcpu_stage2_init(struct avcpu_vm *vm)
{
	u32 ipa = avcpu_host.ipa_bits;
	int vmid = 0, err;

	/*
	 * Beside KVM every VM takes VMID 0, which KVM's allocator never hands
	 * out; the world switch tells the VMs apart by @s2_gen and flushes
	 * VMID 0 on a CPU where another VM's tables were last (design.rst,
	 * "Sharing EL2 with KVM").
	 */
	if (!avcpu_host.with_kvm) {
		vmid = ida_alloc_range(&avcpu_vmid_ida, 1,
				       (1U << avcpu_host.vmid_bits) - 1, GFP_KERNEL);
		if (vmid < 0)
			return vmid == -ENOSPC ? -ENOSPC : vmid;
	}

	err = avcpu_pgt_init(&vm->s2, ipa, true, GFP_KERNEL_ACCOUNT);
	if (err) {
		if (vmid)
			ida_free(&avcpu_vmid_ida, vmid);
		return err;
	}
	vm->vmid = vmid;
	vm->s2_gen = atomic64_inc_return(&avcpu_s2_gen);
	vm->vttbr = virt_to_phys(vm->s2.root) | ((u64)vmid << 48);
	/*
	 * VTCR_EL2.SL0 counts down from the granule's base: with 4K, 2 starts
	 * at level 0; with 16K, 3 does (D13.2.151, VTCR_EL2.SL0).
	 */
	vm->vtcr = VTCR_EL2_RES1 | VTCR_EL2_T0SZ(ipa) |
		   ((VTCR_EL2_TGRAN_SL0_BASE - vm->s2.start_level) << VTCR_EL2_SL0_SHIFT) |
		   VTCR_EL2_IRGN0_WBWA | VTCR_EL2_ORGN0_WBWA |
		   VTCR_EL2_SH0_INNER | VTCR_EL2_TGRAN |
		   (avcpu_pa_range_enc(avcpu_host.pa_bits) << VTCR_EL2_PS_SHIFT) |
		   (avcpu_host.vmid_bits == 16 ? VTCR_EL2_VS_16BIT : 0);
	return 0;
}

/*
 * A guest running with its MMU off makes non-cacheable accesses: clean the
 * new page to the point of coherency so it sees what the VMM wrote, and
 * make it coherent for instruction fetch.
 */
static void s2_clean_page(struct page *page)
{
	unsigned long va = (unsigned long)page_address(page);
	unsigned long line = cache_line_size();
	unsigned long p;

	for (p = va; p < va + PAGE_SIZE; p += line)
		asm volatile("dc cvac, %0" : : "r" (p) : "memory");
	dsb(ish);
	caches_clean_inval_pou(va, va + PAGE_SIZE);
}

/*
 * Invalidate the VMID's TLB entries on every CPU. The TLBI must be issued
 * at EL2: directly under VHE, through avcpu's EL2 (an HVC) under nVHE,
 * where it can fail (no CPU's EL2 could be taken back, nvhe.c): then
 * -EIO, and no page that was mapped may be unpinned, since a CPU may
 * still reach it through a stale entry.
 */
static int s2_flush(struct avcpu_vm *vm)
{
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE) {
		avcpu_vhe_flush_vmid(vm);
		return 0;
	}
	return avcpu_nvhe_flush_vmid(vm);
}

static void s2_unpin(u64 pte)
{
	struct page *page;

	if (pte & S2_SW_DEVICE)
		return;
	page = pfn_to_page(PHYS_PFN(pte & AVCPU_PTE_ADDR));

	unpin_user_pages_dirty_lock(&page, 1, pte & S2_AP_W);
}

/* Put cleared leaves back, after a flush that failed (vm->mmu_lock held). */
static void s2_restore(struct avcpu_vm *vm, const u64 *ptes, const u64 *addrs,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		WRITE_ONCE(*avcpu_pgt_walk(&vm->s2, addrs[i], false), ptes[i]);
	dsb(ishst);
}

/*
 * Pinned guest pages are locked memory of the VMM's process, charged to
 * its mm as VFIO charges its pins (account_locked_vm(): RLIMIT_MEMLOCK,
 * unless the process has CAP_IPC_LOCK; /proc/PID/status "VmLck").
 * @n pages were unpinned: give them back (vm->mmu_lock held).
 */
static void s2_unaccount(struct avcpu_vm *vm, u64 n)
{
	if (!n)
		return;
	account_locked_vm(vm->mm, n, false);
	vm->s2_pinned -= n;
}

/* A page pinned and charged that the fault path does not map after all */
static void s2_drop(struct avcpu_vm *vm, struct page *page)
{
	unpin_user_page(page);
	account_locked_vm(vm->mm, 1, false);
}

/*
 * A stage-2 fault maps the faulting page and the unmapped pages after it
 * in the same slot, up to the next S2_FAULT_AROUND boundary. A booting
 * Linux guest touches its RAM mostly in ascending runs (its image, the
 * memblock and struct page arrays, zeroed allocations): one page a fault,
 * a 6.1 guest's boot took about 17,000 stage-2 faults, two thirds of all
 * its exits. The cost is at most S2_FAULT_AROUND less a page pinned ahead
 * of the guest's touch.
 */
#define S2_FAULT_AROUND		SZ_64K
#define S2_FAULT_PAGES		(S2_FAULT_AROUND / PAGE_SIZE)

/*
 * Map the page of @ipa (in a RAM slot) on a stage-2 fault, and those after
 * it as above. Sets *mapped when the page of @ipa is mapped; returns
 * -ENOENT if @ipa is not RAM (any more), -EFAULT if the VMM's memory behind
 * it is gone, -ENOMEM if pinning it would take the VMM over its
 * RLIMIT_MEMLOCK, -EAGAIN if the slot changed meanwhile.
 */
int avcpu_stage2_map_page(struct avcpu_vm *vm, u64 ipa, bool *mapped)
{
	struct page *pages[S2_FAULT_PAGES];
	unsigned int gup = FOLL_LONGTERM;
	struct avcpu_slot *slot;
	u64 hva, end, a, *pte;
	long n, got, i;
	bool ro;
	int ret;

	*mapped = false;
	ipa &= PAGE_MASK;
	mutex_lock(&vm->mmu_lock);
	slot = avcpu_find_slot(vm, ipa);
	if (!slot) {
		mutex_unlock(&vm->mmu_lock);
		return -ENOENT;
	}
	hva = slot->uaddr + (ipa - slot->gpa);
	ro = slot->flags & AVCPU_MEM_READONLY;
	end = min(ALIGN(ipa + 1, S2_FAULT_AROUND), slot->gpa + slot->size);
	for (a = ipa; a < end; a += PAGE_SIZE) {
		pte = avcpu_pgt_walk(&vm->s2, a, false);
		if (pte && (*pte & AVCPU_PTE_VALID))
			break;
	}
	mutex_unlock(&vm->mmu_lock);
	n = (a - ipa) >> PAGE_SHIFT;
	if (!n) {
		/* another vCPU got there first */
		*mapped = true;
		return 0;
	}

	/* Near the limit, the faulting page alone: the touch decides ENOMEM */
	ret = account_locked_vm(vm->mm, n, true);
	if (ret && n > 1) {
		n = 1;
		ret = account_locked_vm(vm->mm, 1, true);
	}
	if (ret)
		return ret;
	/*
	 * Ask for write access even for a read-only slot when the VMM's
	 * mapping allows it: a never-written private page would otherwise be
	 * the shared zero page, and the VMM's later writes would land in a
	 * copy the guest never sees. A mapping without write permission (a
	 * ROM image mapped read-only) is pinned as it is. Fewer pages than
	 * asked for (a hole in the VMM's mapping after the first) is fine.
	 */
	got = pin_user_pages_fast(hva, n, gup | FOLL_WRITE, pages);
	if (got < 1 && ro)
		got = pin_user_pages_fast(hva, n, gup, pages);
	if (got < 1) {
		account_locked_vm(vm->mm, n, false);
		return got < 0 ? got : -EFAULT;
	}
	if (got < n)
		account_locked_vm(vm->mm, n - got, false);

	mutex_lock(&vm->mmu_lock);
	/* the slot may have changed while the lock was dropped */
	slot = avcpu_find_slot(vm, ipa);
	if (!slot || slot->uaddr + (ipa - slot->gpa) != hva ||
	    !!(slot->flags & AVCPU_MEM_READONLY) != ro ||
	    ipa + got * PAGE_SIZE > slot->gpa + slot->size) {
		mutex_unlock(&vm->mmu_lock);
		for (i = 0; i < got; i++)
			s2_drop(vm, pages[i]);
		return -EAGAIN;
	}
	ret = 0;
	for (i = 0; i < got; i++)
		s2_clean_page(pages[i]);
	dsb(ishst);
	for (i = 0; i < got; i++) {
		pte = avcpu_pgt_walk(&vm->s2, ipa + i * PAGE_SIZE, true);
		if (!pte || (*pte & AVCPU_PTE_VALID)) {
			/* no table page, or another vCPU mapped it meanwhile */
			if (!pte && !i)
				ret = -ENOMEM;
			s2_drop(vm, pages[i]);
			continue;
		}
		vm->s2_pinned++;
		WRITE_ONCE(*pte, page_to_phys(pages[i]) | AVCPU_PTE_VALID | AVCPU_PTE_TABLE |
			   S2_AF | S2_SH_INNER | S2_AP_R | (ro ? 0 : S2_AP_W) | S2_MEMATTR_WB);
	}
	dsb(ishst);
	mutex_unlock(&vm->mmu_lock);
	*mapped = !ret;
	return ret;
}

/*
 * Map [ipa, ipa + size) to the device frames at @pa (the GICv2 GICV frame,
 * vgic-v2.c) for the VM's lifetime: Device-nGnRE, read-write, never
 * executable, not pinned (no struct page behind them) and not counted.
 * Nothing was mapped there before (the caller checked the regions), so
 * no TLB flush is needed; teardown unmaps them with the rest.
 */
int avcpu_stage2_map_device(struct avcpu_vm *vm, u64 ipa, phys_addr_t pa, u64 size)
{
	u64 off, *pte;
	int ret = 0;

	mutex_lock(&vm->mmu_lock);
	for (off = 0; off < size; off += PAGE_SIZE) {
		pte = avcpu_pgt_walk(&vm->s2, ipa + off, true);
		if (!pte || (*pte & AVCPU_PTE_VALID)) {
			ret = pte ? -EEXIST : -ENOMEM;
			break;
		}
		WRITE_ONCE(*pte, (pa + off) | AVCPU_PTE_VALID | AVCPU_PTE_TABLE |
			   S2_AF | S2_AP_R | S2_AP_W | S2_XN | S2_MEMATTR_DEV |
			   S2_SW_DEVICE);
	}
	/* a part mapped before a failure: cleared again, never used */
	while (ret && off) {
		off -= PAGE_SIZE;
		WRITE_ONCE(*avcpu_pgt_walk(&vm->s2, ipa + off, false), 0);
	}
	dsb(ishst);
	mutex_unlock(&vm->mmu_lock);
	return ret;
}

/*
 * Clear the leaves of [gpa, gpa + size), flush the VMID, unpin. If the
 * flush fails, the leaves it was to cover are put back, still pinned, and
 * -EIO returned: pages are never unpinned before their invalidation. A
 * page-at-a-time unmap (out of memory for the list) may have released a
 * first part by then; the slot is still whole, and the guest faults that
 * part in again.
 */
int avcpu_stage2_unmap(struct avcpu_vm *vm, u64 gpa, u64 size)
{
	u64 ipa, end = gpa + size, released;
	u64 *ptes = NULL, *addrs = NULL;
	size_t n = 0, cap = 0;
	int err;

	lockdep_assert_held(&vm->mmu_lock);
	for (ipa = gpa; ipa < end; ipa += PAGE_SIZE) {
		u64 *pte = avcpu_pgt_walk(&vm->s2, ipa, false);

		if (!pte) {
			/* no table here: skip all that it would map */
			ipa = avcpu_pgt_skip(&vm->s2, ipa) - PAGE_SIZE;
			continue;
		}
		if (!(*pte & AVCPU_PTE_VALID))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			u64 *p = krealloc_array(ptes, ncap, sizeof(*p), GFP_KERNEL);
			u64 *q = p ? krealloc_array(addrs, ncap, sizeof(*q), GFP_KERNEL) : NULL;

			if (p)
				ptes = p;
			if (!q) {
				/* flush what is cleared so far and unpin it */
				break;
			}
			addrs = q;
			cap = ncap;
		}
		ptes[n] = *pte;
		addrs[n++] = ipa;
		WRITE_ONCE(*pte, 0);
	}
	err = s2_flush(vm);
	if (err) {
		s2_restore(vm, ptes, addrs, n);
		n = 0;
	}
	released = n;
	while (n)
		s2_unpin(ptes[--n]);
	kfree(ptes);
	kfree(addrs);
	/* out of memory above: finish one page at a time */
	for (; !err && ipa < end; ipa += PAGE_SIZE) {
		u64 *pte = avcpu_pgt_walk(&vm->s2, ipa, false);
		u64 old;

		if (!pte)
			ipa = avcpu_pgt_skip(&vm->s2, ipa) - PAGE_SIZE;
		if (!pte || !(*pte & AVCPU_PTE_VALID))
			continue;
		old = *pte;
		WRITE_ONCE(*pte, 0);
		err = s2_flush(vm);
		if (err) {
			s2_restore(vm, &old, &ipa, 1);
			break;
		}
		s2_unpin(old);
		released++;
	}
	s2_unaccount(vm, released);
	return err;
}

/*
 * Last reference gone: no vCPU can run. If the VMID cannot be flushed,
 * its pages stay pinned and the VMID stays allocated, for good: a CPU may
 * still hold translations to them.
 */
void avcpu_stage2_destroy(struct avcpu_vm *vm)
{
	if (!vm->s2.root)
		return;
	if (s2_flush(vm)) {
		pr_err("VMID %u: %llu guest pages stay pinned and the VMID stays allocated (no TLB invalidation)\n",
		       vm->vmid, vm->s2_pinned);
		avcpu_pgt_destroy(&vm->s2, NULL);
		return;
	}
	avcpu_pgt_destroy(&vm->s2, s2_unpin);
	s2_unaccount(vm, vm->s2_pinned);
	if (vm->vmid)
		ida_free(&avcpu_vmid_ida, vm->vmid);
}
