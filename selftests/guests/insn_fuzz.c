// SPDX-License-Identifier: GPL-2.0
/*
 * The random-instruction guest: a raw binary avm boots (insn_test.c runs
 * it). It executes random 32-bit words, a given number at EL1 and as many
 * at EL0, each in a freshly laid out page, each after loading every
 * general register (and SP_EL0) with random values, and each followed by
 * a BRK: whatever a word does (nothing, an UNDEF, a fault, a trap that the
 * hypervisor handles, a call to it), an exception brings the loop back to
 * the vector table, which counts it by class and goes on to the next word.
 *
 * Only the translation tables this guest sets up stand between a word and
 * its harness, so at EL1 words that could take them away are drawn again:
 * system register writes (MSR, MSRR), PSTATE writes (MSR immediate), ERET
 * and the other register branches, and immediate branches (the harness's
 * code is EL1-executable). At EL0 every word runs as drawn, but for the
 * few the emulator cannot take (emulator_unsafe()). A register holding a
 * random 64-bit value almost never points into the 2 MiB this guest maps,
 * so loads and stores fault at stage 1, inside the guest.
 *
 * The virtual timer is armed a few milliseconds after each word is
 * entered, with interrupts unmasked where the word runs: a word that loops
 * (an EL0 branch to itself) ends there, and a WFI that traps to the
 * hypervisor always has an interrupt on its way.
 */
#include <stdbool.h>
#include <stdint.h>

#include "insn_fuzz.h"

struct insn_header {
	uint32_t magic, pad;
	uint64_t words;
	uint64_t seed;
};

extern struct insn_header insn_header;
extern char __bss_start[], __bss_end[];

/* translation tables (insn_entry.S points TTBR0_EL1 at insn_l1) */
uint64_t insn_l1[512] __attribute__((aligned(4096)));
static uint64_t l2_low[512] __attribute__((aligned(4096)));
static uint64_t l2_ram[512] __attribute__((aligned(4096)));
static uint64_t l3_words[512] __attribute__((aligned(4096)));

uint64_t insn_regs[32];		/* x0..x30, then SP_EL0 */
uint64_t insn_deadline;		/* timer ticks a word may take */

#define PTE_TABLE	3ULL
#define PTE_BLOCK	1ULL
#define PTE_PAGE	3ULL
#define PTE_AF		(1ULL << 10)
#define PTE_SH_INNER	(3ULL << 8)
#define PTE_AP_EL0_RW	(1ULL << 6)
#define PTE_DEVICE	(1ULL << 2)	/* AttrIndx 1 */
#define PTE_PXN		(1ULL << 53)
#define PTE_UXN		(1ULL << 54)

#define BRK_END		(0xd4200000 | (0xf00f << 5))	/* brk #0xf00f */
#define WORDS_PER_PAGE	512			/* word, brk, word, brk... */

#define PSCI_SYSTEM_OFF		0x84000008
#define PSCI_SYSTEM_RESET	0x84000009

#define sysreg_read(r) ({ uint64_t __v; asm volatile("mrs %0, " r : "=r"(__v)); __v; })
#define sysreg_write(r, v) asm volatile("msr " r ", %0" : : "r"((uint64_t)(v)))
#define ICC_IAR1_EL1	"S3_0_C12_C12_0"
#define ICC_EOIR1_EL1	"S3_0_C12_C12_1"
#define ICC_RPR_EL1	"S3_0_C12_C11_3"
#define ICC_PMR_EL1	"S3_0_C4_C6_0"
#define ICC_IGRPEN1_EL1	"S3_0_C12_C12_7"
#define ICC_SRE_EL1	"S3_0_C12_C12_5"
#define TIMER_PPI	27

/* GICv2 board (no GICv3 system registers): its CPU interface's registers */
#define GICC_IAR	0x0c
#define GICC_EOIR	0x10
#define GICC_RPR	0x14
static bool gicv2;

static uint32_t r32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static void w32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

/* --- the console: PL011 data register, no FIFO wait (avm's has none) --- */

static void putc_(char c)
{
	*(volatile uint32_t *)INSN_UART = (uint8_t)c;
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void putu(uint64_t v)
{
	char b[24];
	int n = 0;

	do {
		b[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		putc_(b[--n]);
}

static void putx(uint64_t v)
{
	int i, started = 0;

	for (i = 60; i >= 0; i -= 4) {
		int d = (v >> i) & 15;

		if (d || started || !i) {
			putc_(d < 10 ? '0' + d : 'a' + d - 10);
			started = 1;
		}
	}
}

static void psci(uint64_t fn)
{
	register uint64_t x0 asm("x0") = fn;

	asm volatile("hvc #0" : "+r"(x0) : : "memory");
}

/* --- the generator: splitmix64 --- */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Words an EL1 word must not be (see the top): encodings, Arm ARM C4.1 */
static bool el1_unsafe(uint32_t w)
{
	if ((w & 0xfff00000) == 0xd5100000)	/* MSR (register), op0 2 and 3 */
		return true;
	if ((w & 0xfff8f01f) == 0xd500401f)	/* MSR (immediate): PSTATE */
		return true;
	if ((w & 0xffc00000) == 0xd5400000)	/* MSRR, SYSP (128-bit) */
		return true;
	if ((w & 0xfe000000) == 0xd6000000)	/* BR, BLR, RET, ERET, DRPS... */
		return true;
	if ((w & 0x7c000000) == 0x14000000)	/* B, BL */
		return true;
	if ((w & 0xff000000) == 0x54000000)	/* B.cond, BC.cond */
		return true;
	if ((w & 0x7c000000) == 0x34000000)	/* CBZ, CBNZ, TBZ, TBNZ */
		return true;
	return false;
}

/*
 * Words the rig's emulator cannot take, at any EL: QEMU 10.0 (Debian 12's
 * backport) aborts translating BRAA/BRAB (register modifier) with Rn not
 * x16/x17 on a CPU with BTI, "gen_pc_plus_diff: Assertion `s->pc_save !=
 * -1' failed", and the host lane dies. Fixed upstream by "target/arm: Fix
 * assert on BRA" (December 2025). One EL0 word in 2^21 is one, so a
 * million words hit it about every other run on the "max" lanes.
 */
static bool emulator_unsafe(uint32_t w)
{
	return (w & 0xfffff800) == 0xd71f0800;	/* BRAA, BRAB */
}

/* --- the loop's state --- */

enum { EL1, EL0, DONE };
static const char *const el_name[] = { "EL1", "EL0" };
static int phase;
static unsigned int slot;		/* next word in the page */
static uint64_t entered[2], redrawn[2], irqs[2], fiqs[2], serrors[2], eoi_fixups;
static uint64_t by_class[2][64];

static void lay_out_page(void)
{
	uint32_t *page = (uint32_t *)(phase == EL1 ? INSN_EL1_PAGE : INSN_EL0_PAGE);
	uint64_t a;
	int i;

	for (i = 0; i < WORDS_PER_PAGE; i++) {
		uint32_t w = rnd();

		while ((phase == EL1 && el1_unsafe(w)) || emulator_unsafe(w)) {
			w = rnd();
			redrawn[phase]++;
		}
		page[2 * i] = w;
		page[2 * i + 1] = BRK_END;
	}
	for (i = 0; i < 32; i++)
		insn_regs[i] = rnd();
	/* new code: clean to the point of unification, invalidate I-cache */
	for (a = (uint64_t)page; a < (uint64_t)page + 4096; a += 64)
		asm volatile("dc cvau, %0" : : "r"(a) : "memory");
	asm volatile("dsb ish; ic iallu; dsb ish; isb" : : : "memory");
}

struct step {
	uint64_t pc, spsr;
};

/* The next word's address and SPSR (EL1t or EL0t, interrupts unmasked) */
struct step insn_next(void)
{
	struct step s = { 0, 0 };

	if (phase != DONE && entered[phase] == insn_header.words) {
		phase++;
		slot = 0;
	}
	if (phase == DONE)
		return s;
	if (!slot)
		lay_out_page();
	s.pc = (phase == EL1 ? INSN_EL1_PAGE : INSN_EL0_PAGE) + 8 * slot;
	s.spsr = phase == EL1 ? 0x4 : 0x0;
	slot = (slot + 1) % WORDS_PER_PAGE;
	entered[phase]++;
	return s;
}

void insn_exception(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
	int p = phase;

	if (kind >= 4 && kind < 8) {
		/* taken on SP_EL1: the harness itself faulted */
		puts_("insn-fuzz: FAIL: exception in the harness, vector ");
		putu(kind);
		puts_(" ESR 0x");
		putx(esr);
		puts_(" ELR 0x");
		putx(elr);
		puts_(" FAR 0x");
		putx(far);
		puts_("\n");
		psci(PSCI_SYSTEM_RESET);
		for (;;)
			;
	}
	switch (kind & 3) {
	case 0:
		by_class[p][esr >> 26]++;
		break;
	case 1: {
		uint64_t iar = gicv2 ? r32(INSN_GICC + GICC_IAR) : sysreg_read(ICC_IAR1_EL1);

		if (iar < 1020 && gicv2)
			w32(INSN_GICC + GICC_EOIR, iar);
		else if (iar < 1020)
			sysreg_write(ICC_EOIR1_EL1, iar);
		irqs[p]++;
		break;
	}
	case 2:
		fiqs[p]++;
		break;
	default:
		serrors[p]++;
		break;
	}
	/*
	 * An EL1 word may have read ICC_IAR1_EL1 itself: the timer's
	 * interrupt is then active and the next WFI would never wake.
	 */
	if (gicv2 && (r32(INSN_GICC + GICC_RPR) & 0xff) != 0xff) {
		w32(INSN_GICC + GICC_EOIR, TIMER_PPI);
		eoi_fixups++;
	} else if (!gicv2 && (sysreg_read(ICC_RPR_EL1) & 0xff) != 0xff) {
		sysreg_write(ICC_EOIR1_EL1, TIMER_PPI);
		eoi_fixups++;
	}
}

void insn_done(void)
{
	int p, c;

	for (p = EL1; p <= EL0; p++) {
		puts_("insn-fuzz: ");
		puts_(el_name[p]);
		puts_(": ");
		putu(entered[p]);
		puts_(" words (");
		putu(redrawn[p]);
		puts_(" drawn again), ");
		putu(irqs[p]);
		puts_(" IRQs, ");
		putu(fiqs[p]);
		puts_(" FIQs, ");
		putu(serrors[p]);
		puts_(" SErrors; exceptions by class:");
		for (c = 0; c < 64; c++) {
			if (!by_class[p][c])
				continue;
			puts_(" 0x");
			putx(c);
			putc_(':');
			putu(by_class[p][c]);
		}
		puts_("\n");
	}
	puts_("insn-fuzz: EOI fix-ups ");
	putu(eoi_fixups);
	puts_("\ninsn-fuzz: done\n");
	psci(PSCI_SYSTEM_OFF);
}

/* With the MMU off: zero .bss, build the tables, GIC and timer */
void insn_setup(void)
{
	char *b;

	for (b = __bss_start; b < __bss_end; b++)
		*(volatile char *)b = 0;
	rng = insn_header.seed;

	insn_l1[0] = (uint64_t)l2_low | PTE_TABLE;
	insn_l1[INSN_RAM >> 30] = (uint64_t)l2_ram | PTE_TABLE;
	/* the GIC's frames (GICC for the handler), then the UART */
	l2_low[INSN_GICD >> 21] = INSN_GICD | PTE_AF | PTE_DEVICE | PTE_PXN | PTE_UXN |
				  PTE_BLOCK;
	l2_low[INSN_UART >> 21] = INSN_UART | PTE_AF | PTE_DEVICE | PTE_PXN | PTE_UXN |
				  PTE_BLOCK;
	/* the image, tables and stack: EL1 only, EL1-executable */
	l2_ram[0] = INSN_RAM | PTE_AF | PTE_SH_INNER | PTE_UXN | PTE_BLOCK;
	l2_ram[1] = (uint64_t)l3_words | PTE_TABLE;
	l3_words[0] = INSN_EL0_PAGE | PTE_AF | PTE_SH_INNER | PTE_AP_EL0_RW | PTE_PXN | PTE_PAGE;
	l3_words[1] = INSN_EL1_PAGE | PTE_AF | PTE_SH_INNER | PTE_UXN | PTE_PAGE;

	/* ID_AA64PFR0_EL1.GIC 0: no GICv3 CPU interface, a GICv2 board */
	gicv2 = !((sysreg_read("id_aa64pfr0_el1") >> 24) & 0xf);
	if (gicv2) {
		/* Group 0 (GICD_IGROUPR's reset), signalled as IRQ; PPI 27 on */
		w32(INSN_GICD, 1);			/* GICD_CTLR: EnableGrp0 */
		w32(INSN_GICD + 0x100, 1U << TIMER_PPI);	/* GICD_ISENABLER0 */
		w32(INSN_GICC + 0x04, 0xff);		/* GICC_PMR */
		w32(INSN_GICC, 1);			/* GICC_CTLR: EnableGrp0 */
		goto timer;
	}
	/* GICv3 (avm's: one security state): group 1 on, PPI 27 enabled */
	w32(INSN_GICD, 0x13);			/* GICD_CTLR: ARE, Grp1, Grp0 */
	w32(INSN_GICR + 0x14, 0);		/* GICR_WAKER: awake */
	w32(INSN_GICR + 0x10080, ~0U);		/* GICR_IGROUPR0: group 1 */
	w32(INSN_GICR + 0x10100, 1U << TIMER_PPI);	/* GICR_ISENABLER0 */
	sysreg_write(ICC_SRE_EL1, sysreg_read(ICC_SRE_EL1) | 1);
	asm volatile("isb");
	sysreg_write(ICC_PMR_EL1, 0xff);
	sysreg_write(ICC_IGRPEN1_EL1, 1);

timer:
	/* the virtual timer, enabled and unmasked; insn_step sets CVAL */
	insn_deadline = sysreg_read("cntfrq_el0") / 200;	/* 5 ms */
	sysreg_write("cntv_cval_el0", ~0ULL);
	sysreg_write("cntv_ctl_el0", 1);
	asm volatile("isb");

	puts_("insn-fuzz: seed ");
	putu(insn_header.seed);
	puts_(", ");
	putu(insn_header.words);
	puts_(" words at EL1 and at EL0\n");
}
