// SPDX-License-Identifier: GPL-2.0
/*
 * The guest runtime's C part: exception dispatch, ucalls and the stage-1
 * tables. Built freestanding with -mgeneral-regs-only: it runs inside
 * exception handlers that have only saved what the vectors save, and must
 * not call into libc (see guest.h).
 */
#include "guest.h"
#include "gic.h"

/* Stage-1 block descriptor bits (4K granule, level 1) */
#define PTE_VALID	(1UL << 0)
#define PTE_BLOCK	(1UL << 0)		/* bits 1:0 = 0b01 */
#define PTE_ATTRINDX(i)	((uint64_t)(i) << 2)	/* MAIR_EL1 index */
#define PTE_AP_EL1_RW	(0UL << 6)		/* EL0 no access: keeps EL1 exec */
#define PTE_SH_INNER	(3UL << 8)		/* DS == 0 format only */
#define PTE_AF		(1UL << 10)
#define PTE_PXN		(1UL << 53)
#define PTE_UXN		(1UL << 54)

/* MAIR_EL1 indexes, as entry.S programs MAIR_EL1 */
#define MT_NORMAL	0
#define MT_DEVICE_nGnRE	1

#define TCR_DS		(1UL << 59)

#define PGD_ENTRIES	512
#define BLOCK_SHIFT	30
#define BLOCK_SIZE	(1UL << BLOCK_SHIFT)

/*
 * The same map in the two descriptor formats: guest_entry picks one
 * depending on FEAT_LPA2, which the host cannot read. Each is the only
 * level of the walk (T0SZ 25: level 1, 512 entries of 1 GiB).
 */
uint64_t guest_pgd[PGD_ENTRIES] __attribute__((aligned(4096)));
uint64_t guest_pgd_lpa2[PGD_ENTRIES] __attribute__((aligned(4096)));

static guest_handler_t handlers[VECTOR_NUM][ESR_EC_NUM];

/* Written through volatile so the compiler emits exactly one store. */
#define WRITE_ONCE64(p, v)	(*(volatile uint64_t *)(p) = (v))

static bool is_sync(unsigned int vector)
{
	return vector % 4 == 0;
}

void guest_install_handler(unsigned int vector, unsigned int ec,
			   guest_handler_t fn)
{
	__GUEST_ASSERT(vector < VECTOR_NUM && ec < ESR_EC_NUM &&
		       (is_sync(vector) || ec == 0),
		       "vector %u ec 0x%x", vector, ec);
	handlers[vector][ec] = fn;
}

/* Called by the vectors with interrupts masked, on the exception's stack. */
void guest_handle_exception(struct ex_regs *regs, uint64_t vector);
void guest_handle_exception(struct ex_regs *regs, uint64_t vector)
{
	unsigned int ec = is_sync(vector) ? ESR_EC(regs->esr) : 0;
	guest_handler_t fn = vector < VECTOR_NUM ? handlers[vector][ec] : NULL;

	if (fn) {
		fn(regs);
		return;
	}
	/* Nothing sensible to return to: report, again on every RUN. */
	for (;;)
		guest_ucall(UCALL_UNHANDLED, vector, regs->esr, regs->pc,
			    regs->far);
}

/*
 * A plain 64-bit store (one register, no writeback), so the abort has a
 * valid syndrome (ISV) and the module reports it as MMIO_WRITE. The
 * "memory" clobber makes the compiler finish writing *uc first.
 */
static void ucall_send(struct ucall *uc)
{
	asm volatile("str %0, [%1]"
		     : : "r" (uc), "r" ((uint64_t)UCALL_MMIO_ADDR) : "memory");
}

void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3)
{
	struct ucall uc;

	uc.cmd = cmd;
	uc.args[0] = a0;
	uc.args[1] = a1;
	uc.args[2] = a2;
	uc.args[3] = a3;
	uc.buf[0] = '\0';
	ucall_send(&uc);
}

void __guest_assert(const char *file, int line, const char *expr,
		    const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;
	size_t n;

	uc.cmd = UCALL_ASSERT;
	uc.args[0] = line;
	uc.args[1] = 0;
	uc.args[2] = 0;
	uc.args[3] = 0;
	n = guest_snprintf(uc.buf, sizeof(uc.buf), "%s:%d: %s: ", file, line,
			   expr);
	va_start(ap, fmt);
	guest_vsnprintf(uc.buf + n, sizeof(uc.buf) - n, fmt, ap);
	va_end(ap);
	for (;;)
		ucall_send(&uc);
}

void __guest_printf(const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;

	uc.cmd = UCALL_PRINTF;
	uc.args[0] = 0;
	uc.args[1] = 0;
	uc.args[2] = 0;
	uc.args[3] = 0;
	va_start(ap, fmt);
	guest_vsnprintf(uc.buf, sizeof(uc.buf), fmt, ap);
	va_end(ap);
	ucall_send(&uc);
}

uint64_t guest_vcpu_id(void)
{
	return read_sysreg(tpidr_el1);
}

bool guest_has_lpa2(void)
{
	return read_sysreg(tcr_el1) & TCR_DS;
}

/*
 * A level-1 block descriptor. In the FEAT_LPA2 format (TCR_EL1.DS = 1)
 * bits 9:8 hold OA[51:50] and the shareability comes from TCR_EL1.SH0,
 * inner shareable as well.
 */
static uint64_t block_desc(uint64_t pa, bool device, bool lpa2)
{
	uint64_t desc = PTE_BLOCK | PTE_AF | PTE_AP_EL1_RW;

	if (device)
		desc |= PTE_ATTRINDX(MT_DEVICE_nGnRE) | PTE_PXN | PTE_UXN;
	else
		desc |= PTE_ATTRINDX(MT_NORMAL);
	if (lpa2)
		return desc | (pa & 0x0003ffffc0000000UL) | ((pa >> 50) & 3) << 8;
	return desc | (pa & 0x0000ffffc0000000UL) | PTE_SH_INNER;
}

/* gic.h: GICv2 hosts only */
volatile uint64_t guest_gicc;
uint32_t guest_gicv2_sgi_iar[GUEST_MAX_VCPUS][16];

void guest_runtime_reset(void)
{
	unsigned int i, ec;

	for (i = 0; i < VECTOR_NUM; i++)
		for (ec = 0; ec < ESR_EC_NUM; ec++)
			handlers[i][ec] = NULL;
	for (i = 0; i < PGD_ENTRIES; i++) {
		/* GiB 0-1 Normal, GiB 2-3 Device, identity */
		bool device = i >= 2;
		bool valid = i < 4;

		guest_pgd[i] = valid ?
			block_desc((uint64_t)i << BLOCK_SHIFT, device, false) : 0;
		guest_pgd_lpa2[i] = valid ?
			block_desc((uint64_t)i << BLOCK_SHIFT, device, true) : 0;
	}
}

/*
 * Replace one level-1 entry while the MMU is on, possibly on several vCPUs.
 * Break-before-make (Arm ARM, "Using break-before-make when updating
 * translation table entries"): a valid entry is first made invalid, the
 * write made visible to the table walkers (DSB ISHST), every vCPU's TLB
 * entries for it invalidated (TLBI ...IS) and waited for (DSB ISH, Arm
 * ARM "Ordering and completion of TLB maintenance instructions"). Then the
 * new entry is written and made visible the same way, and an ISB makes
 * this vCPU's later instructions translate with it. No TLBI is needed
 * after writing a valid entry over an invalid one: faulting translations
 * are never cached. VMALLE1IS rather than VAE1IS: one 1 GiB block may sit
 * in the TLB as many smaller entries (stage 2 uses pages), and simplicity
 * beats speed here.
 */
static void set_pgd_entry(unsigned int index, uint64_t desc)
{
	uint64_t *pgd = guest_has_lpa2() ? guest_pgd_lpa2 : guest_pgd;

	if (pgd[index] & PTE_VALID) {
		WRITE_ONCE64(&pgd[index], 0);
		dsb(ishst);
		asm volatile("tlbi vmalle1is" : : : "memory");
		dsb(ish);
		isb();
	}
	if (desc) {
		WRITE_ONCE64(&pgd[index], desc);
		dsb(ishst);
		isb();
	}
}

int guest_map_1g(unsigned int index, uint64_t pa, bool device)
{
	bool lpa2 = guest_has_lpa2();
	uint64_t limit = lpa2 ? 1UL << 52 : 1UL << 48;

	if (index >= PGD_ENTRIES || pa & (BLOCK_SIZE - 1) || pa >= limit)
		return -1;
	set_pgd_entry(index, block_desc(pa, device, lpa2));
	return 0;
}

void guest_unmap_1g(unsigned int index)
{
	__GUEST_ASSERT(index < PGD_ENTRIES, "index %u", index);
	set_pgd_entry(index, 0);
}

_Static_assert(sizeof(struct ex_regs) == EX_REGS_SIZE, "ex_regs size");
_Static_assert(offsetof(struct ex_regs, sp) == EX_REGS_SP, "ex_regs.sp");
_Static_assert(offsetof(struct ex_regs, pc) == EX_REGS_PC, "ex_regs.pc");
_Static_assert(offsetof(struct ex_regs, pstate) == EX_REGS_PSTATE,
	       "ex_regs.pstate");
_Static_assert(offsetof(struct ex_regs, esr) == EX_REGS_ESR, "ex_regs.esr");
_Static_assert(offsetof(struct ex_regs, far) == EX_REGS_FAR, "ex_regs.far");
