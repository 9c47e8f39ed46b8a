// SPDX-License-Identifier: GPL-2.0
/*
 * One translation-table walker for both tables avcpu builds: a VM's stage-2
 * tables (stage2.c) and, on nVHE hosts, the EL2 stage-1 tables (nvhe.c).
 *
 * Both use the host's granule (4K or 16K: PAGE_SIZE), since every leaf maps
 * one host page, and end at level 3. What differs is the input-address size
 * and whether the root may be a run of concatenated tables: stage 2 allows
 * up to 16 (Arm ARM, DDI 0487, D8.2.7 "Concatenating translation tables at
 * the initial lookup level"), which saves a level; stage 1 does not.
 *
 * A table holds PAGE_SIZE / 8 descriptors, so each level resolves
 * PAGE_SHIFT - 3 bits of the address: 9 with 4K, 11 with 16K (D8.2.3,
 * "Translation granule"). The descriptor bits the walker itself sets (valid,
 * table) mean the same in both stages (D8.3.1 "Table descriptor").
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/barrier.h>

#include "avcpu.h"

#define PGT_BITS	(PAGE_SHIFT - 3)	/* address bits per level */
#define PGT_PTRS	BIT(PGT_BITS)

/* Lowest address bit a level-@level entry resolves. */
static unsigned int pgt_shift(int level)
{
	return PAGE_SHIFT + PGT_BITS * (3 - level);
}

/* Levels needed to translate @bits of input address, down to level 3. */
static int pgt_levels(unsigned int bits)
{
	return DIV_ROUND_UP(bits - PAGE_SHIFT, PGT_BITS);
}

/**
 * avcpu_pgt_init() - allocate an empty table for @ia_bits of input address
 * @pgt: the table.
 * @ia_bits: input-address size (IPA bits for stage 2, VA bits for EL2).
 * @concat: the start level may be up to 16 concatenated tables (stage 2).
 * @gfp: allocation flags for every table of @pgt.
 *
 * Return: 0, -EINVAL for a size this granule cannot start at a valid level
 * for, or -ENOMEM.
 */
int avcpu_pgt_init(struct avcpu_pgtable *pgt, unsigned int ia_bits,
		   bool concat, gfp_t gfp)
{
	/* 16 concatenated tables (4 bits) at most: KVM's rule as well */
	int levels = pgt_levels(concat ? ia_bits - 4 : ia_bits);
	unsigned long entries;
	struct page *page;

	memset(pgt, 0, sizeof(*pgt));
	if (levels < 1 || levels > 4)
		return -EINVAL;
	pgt->start_level = 4 - levels;
	pgt->ia_bits = ia_bits;
	pgt->gfp = gfp;
	entries = 1UL << (ia_bits - pgt_shift(pgt->start_level));
	pgt->root_order = entries > PGT_PTRS ? ilog2(entries / PGT_PTRS) : 0;
	/* a concatenated root is aligned to its size: buddy pages are */
	page = alloc_pages(gfp | __GFP_ZERO, pgt->root_order);
	if (!page)
		return -ENOMEM;
	pgt->root = page_address(page);
	return 0;
}

static unsigned long pgt_index(struct avcpu_pgtable *pgt, u64 addr, int level)
{
	unsigned long mask = PGT_PTRS - 1;

	if (level == pgt->start_level)
		mask = (1UL << (pgt->ia_bits - pgt_shift(level))) - 1;
	return (addr >> pgt_shift(level)) & mask;
}

/**
 * avcpu_pgt_walk() - the level-3 descriptor of @addr
 * @pgt: the table.
 * @addr: input address, below 1 << @pgt->ia_bits.
 * @alloc: allocate missing tables on the way.
 *
 * The caller serialises walks that allocate with each other and with
 * avcpu_pgt_destroy(). A new table is zeroed and published with a barrier,
 * so a hardware walker that sees the table descriptor sees invalid entries
 * in it, never stale ones.
 *
 * Return: the descriptor's address, or NULL (not mapped, or no memory).
 */
u64 *avcpu_pgt_walk(struct avcpu_pgtable *pgt, u64 addr, bool alloc)
{
	u64 *table = pgt->root;
	int level;

	for (level = pgt->start_level; level < 3; level++) {
		u64 *entry = &table[pgt_index(pgt, addr, level)];
		u64 desc = READ_ONCE(*entry);

		if (!(desc & AVCPU_PTE_VALID)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = (u64 *)get_zeroed_page(pgt->gfp);
			if (!next)
				return NULL;
			dsb(ishst);
			desc = virt_to_phys(next) | AVCPU_PTE_TABLE | AVCPU_PTE_VALID;
			WRITE_ONCE(*entry, desc);
		}
		table = phys_to_virt(desc & AVCPU_PTE_ADDR);
	}
	return &table[pgt_index(pgt, addr, 3)];
}

static void pgt_free_table(struct avcpu_pgtable *pgt, u64 *table, int level,
			   unsigned long n, void (*leaf)(u64 desc))
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		u64 desc = table[i];

		if (!(desc & AVCPU_PTE_VALID))
			continue;
		if (level < 3)
			pgt_free_table(pgt, phys_to_virt(desc & AVCPU_PTE_ADDR),
				       level + 1, PGT_PTRS, leaf);
		else if (leaf)
			leaf(desc);
	}
	if (level != pgt->start_level)
		free_page((unsigned long)table);
}

/**
 * avcpu_pgt_destroy() - free every table, calling @leaf on each valid leaf
 * @pgt: the table; no walker (software or hardware) may use it any more.
 * @leaf: called for each valid level-3 descriptor (to unpin), or NULL.
 */
void avcpu_pgt_destroy(struct avcpu_pgtable *pgt, void (*leaf)(u64 desc))
{
	if (!pgt->root)
		return;
	pgt_free_table(pgt, pgt->root, pgt->start_level,
		       1UL << (pgt->ia_bits - pgt_shift(pgt->start_level)), leaf);
	free_pages((unsigned long)pgt->root, pgt->root_order);
	pgt->root = NULL;
}

/**
 * avcpu_pgt_skip() - where a level-3 descriptor could next exist, from @addr
 * @pgt: the table.
 * @addr: input address, below 1 << @pgt->ia_bits, that has no level-3
 *	descriptor (avcpu_pgt_walk() without @alloc returned NULL).
 *
 * A walk over a range skips, at once, all that the first missing table
 * would have mapped: a whole 512 GiB of a sparse 48-bit space is one step,
 * not 256K of them (so a huge memory region goes in no time).
 *
 * Return: the first address past what the missing table covers, or
 * 1 << @pgt->ia_bits (callers compare with their end).
 */
u64 avcpu_pgt_skip(struct avcpu_pgtable *pgt, u64 addr)
{
	u64 *table = pgt->root;
	int level;

	for (level = pgt->start_level; level < 3; level++) {
		u64 desc = READ_ONCE(table[pgt_index(pgt, addr, level)]);

		if (!(desc & AVCPU_PTE_VALID))
			break;
		table = phys_to_virt(desc & AVCPU_PTE_ADDR);
	}
	/* level 3 here means the leaf's table exists: the next page then */
	return (addr | ((1ULL << pgt_shift(level)) - 1)) + 1;
}
