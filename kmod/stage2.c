// SPDX-License-Identifier: GPL-2.0
/*
 * Stage-2 translation: a VMID per VM and its tables, filled lazily.
 *
 * 4K granule; the IPA size is the host's (avcpu_host.ipa_bits), so the walk
 * starts at level 0 above 39 bits and at level 1 otherwise, with a single
 * page as the root either way (Arm ARM, DDI 0487, D8.2 "Translation table
 * walk", and VTCR_EL2.SL0). Leaves are 4K pages only: each maps one user
 * page pinned at the guest's first touch, and the pin is dropped when the
 * leaf is removed (region deletion or VM teardown).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <asm/cacheflush.h>
#include <asm/kvm_arm.h>

#include "avcpu.h"

#define S2_LEVELS	4
#define S2_PTRS		512

/* Descriptor bits (D8.3 "Translation table descriptor formats") */
#define S2_VALID	BIT(0)
#define S2_TABLE	BIT(1)		/* table at levels 0-2, page at 3 */
#define S2_MEMATTR_WB	(0xfUL << 2)	/* Normal, outer and inner write-back */
#define S2_AP_R		BIT(6)
#define S2_AP_W		BIT(7)
#define S2_SH_INNER	(3UL << 8)
#define S2_AF		BIT(10)
#define S2_ADDR		GENMASK_ULL(47, 12)

static DEFINE_IDA(avcpu_vmid_ida);

void avcpu_vmid_exit(void)
{
	ida_destroy(&avcpu_vmid_ida);
}

int avcpu_stage2_init(struct avcpu_vm *vm)
{
	u32 ipa = avcpu_host.ipa_bits;
	int vmid;

	vmid = ida_alloc_range(&avcpu_vmid_ida, 1,
			       (1U << avcpu_host.vmid_bits) - 1, GFP_KERNEL);
	if (vmid < 0)
		return vmid == -ENOSPC ? -ENOSPC : vmid;

	vm->pgd = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->pgd) {
		ida_free(&avcpu_vmid_ida, vmid);
		return -ENOMEM;
	}
	vm->vmid = vmid;
	vm->start_level = ipa > 39 ? 0 : 1;
	vm->vttbr = virt_to_phys(vm->pgd) | ((u64)vmid << 48);
	/* SL0 for 4K: 2 starts at level 0, 1 at level 1 (VTCR_EL2.SL0) */
	vm->vtcr = VTCR_EL2_RES1 | VTCR_EL2_T0SZ(ipa) |
		   ((vm->start_level ? 1UL : 2UL) << VTCR_EL2_SL0_SHIFT) |
		   VTCR_EL2_IRGN0_WBWA | VTCR_EL2_ORGN0_WBWA |
		   VTCR_EL2_SH0_INNER | VTCR_EL2_TG0_4K |
		   (avcpu_pa_range_enc(avcpu_host.pa_bits) << VTCR_EL2_PS_SHIFT) |
		   (avcpu_host.vmid_bits == 16 ? VTCR_EL2_VS_16BIT : 0);
	return 0;
}

static unsigned int s2_index(u64 ipa, int level)
{
	return (ipa >> (12 + 9 * (3 - level))) & (S2_PTRS - 1);
}

/* The level-3 entry for @ipa, allocating tables on the way if @alloc. */
static u64 *s2_walk(struct avcpu_vm *vm, u64 ipa, bool alloc)
{
	u64 *table = vm->pgd;
	int level;

	for (level = vm->start_level; level < 3; level++) {
		u64 *entry = &table[s2_index(ipa, level)];

		if (!(*entry & S2_VALID)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!next)
				return NULL;
			/* the table's contents before the entry that points to it */
			dsb(ishst);
			WRITE_ONCE(*entry, virt_to_phys(next) | S2_TABLE | S2_VALID);
		}
		table = phys_to_virt(*entry & S2_ADDR);
	}
	return &table[s2_index(ipa, 3)];
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
 * at EL2: directly under VHE, through avcpu's EL2 (an HVC) under nVHE.
 */
static void s2_flush(struct avcpu_vm *vm)
{
	if (avcpu_host.mode == AVCPU_HOST_MODE_VHE)
		avcpu_vhe_flush_vmid(vm);
	else
		avcpu_nvhe_flush_vmid(vm);
}

static void s2_unpin(u64 pte)
{
	struct page *page = pfn_to_page(PHYS_PFN(pte & S2_ADDR));

	unpin_user_pages_dirty_lock(&page, 1, pte & S2_AP_W);
}

/*
 * Map the page of @ipa (in a RAM slot) on a stage-2 fault. Sets *mapped
 * when done; returns -ENOENT if @ipa is not RAM (any more), -EFAULT if the
 * VMM's memory behind it is gone.
 */
int avcpu_stage2_map_page(struct avcpu_vm *vm, u64 ipa, bool *mapped)
{
	struct avcpu_slot *slot;
	unsigned int gup = FOLL_LONGTERM;
	struct page *page;
	u64 hva, *pte;
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
	pte = s2_walk(vm, ipa, false);
	if (pte && (*pte & S2_VALID)) {
		/* another vCPU got there first */
		mutex_unlock(&vm->mmu_lock);
		*mapped = true;
		return 0;
	}
	mutex_unlock(&vm->mmu_lock);

	/*
	 * Ask for write access even for a read-only slot when the VMM's
	 * mapping allows it: a never-written private page would otherwise be
	 * the shared zero page, and the VMM's later writes would land in a
	 * copy the guest never sees. A mapping without write permission (a
	 * ROM image mapped read-only) is pinned as it is.
	 */
	ret = pin_user_pages_fast(hva, 1, gup | FOLL_WRITE, &page);
	if (ret != 1 && ro)
		ret = pin_user_pages_fast(hva, 1, gup, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;

	mutex_lock(&vm->mmu_lock);
	/* the slot may have changed while the lock was dropped */
	slot = avcpu_find_slot(vm, ipa);
	if (!slot || slot->uaddr + (ipa - slot->gpa) != hva ||
	    !!(slot->flags & AVCPU_MEM_READONLY) != ro) {
		mutex_unlock(&vm->mmu_lock);
		unpin_user_page(page);
		return -EAGAIN;
	}
	pte = s2_walk(vm, ipa, true);
	if (!pte) {
		mutex_unlock(&vm->mmu_lock);
		unpin_user_page(page);
		return -ENOMEM;
	}
	if (*pte & S2_VALID) {
		mutex_unlock(&vm->mmu_lock);
		unpin_user_page(page);
		*mapped = true;
		return 0;
	}
	s2_clean_page(page);
	dsb(ishst);
	WRITE_ONCE(*pte, page_to_phys(page) | S2_VALID | S2_TABLE | S2_AF |
		   S2_SH_INNER | S2_AP_R | (ro ? 0 : S2_AP_W) | S2_MEMATTR_WB);
	dsb(ishst);
	mutex_unlock(&vm->mmu_lock);
	*mapped = true;
	return 0;
}

/* Clear the leaves of [gpa, gpa + size), flush the VMID, unpin. */
void avcpu_stage2_unmap(struct avcpu_vm *vm, u64 gpa, u64 size)
{
	u64 ipa, end = gpa + size;
	u64 *ptes = NULL;
	size_t n = 0, cap = 0;

	lockdep_assert_held(&vm->mmu_lock);
	for (ipa = gpa; ipa < end; ipa += PAGE_SIZE) {
		u64 *pte = s2_walk(vm, ipa, false);

		if (!pte) {
			/* skip to the next level-2 block */
			ipa = (ipa | (SZ_2M - 1)) + 1 - PAGE_SIZE;
			continue;
		}
		if (!(*pte & S2_VALID))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			u64 *p = krealloc_array(ptes, ncap, sizeof(*p), GFP_KERNEL);

			if (!p) {
				/* flush what is cleared so far and unpin it */
				break;
			}
			ptes = p;
			cap = ncap;
		}
		ptes[n++] = *pte;
		WRITE_ONCE(*pte, 0);
	}
	s2_flush(vm);
	while (n)
		s2_unpin(ptes[--n]);
	kfree(ptes);
	if (ipa < end)	/* out of memory above: finish one page at a time */
		for (; ipa < end; ipa += PAGE_SIZE) {
			u64 *pte = s2_walk(vm, ipa, false);
			u64 old;

			if (!pte || !(*pte & S2_VALID))
				continue;
			old = *pte;
			WRITE_ONCE(*pte, 0);
			s2_flush(vm);
			s2_unpin(old);
		}
}

static void s2_free_table(u64 *table, int level)
{
	int i;

	for (i = 0; i < S2_PTRS; i++) {
		u64 e = table[i];

		if (!(e & S2_VALID))
			continue;
		if (level < 3)
			s2_free_table(phys_to_virt(e & S2_ADDR), level + 1);
		else
			s2_unpin(e);
	}
	free_page((unsigned long)table);
}

/* Last reference gone: no vCPU can run. */
void avcpu_stage2_destroy(struct avcpu_vm *vm)
{
	if (!vm->pgd)
		return;
	s2_flush(vm);
	s2_free_table(vm->pgd, vm->start_level);
	vm->pgd = NULL;
	ida_free(&avcpu_vmid_ida, vm->vmid);
}
