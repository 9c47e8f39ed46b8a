/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of the avcpu selftests: a freestanding runtime linked into
 * every test binary, so that a test's guest code is plain C in the same file
 * as its host code.
 *
 * How it works: a test binary is a static, non-PIE executable. The host maps
 * the binary's own image into the guest at IPA == host VA, so a function
 * pointer is a valid guest entry point and the guest and the host share
 * every global variable (the same pages). guest_entry turns on an identity
 * stage-1 mapping and the caches, then calls the test's guest function.
 * The guest talks to the host with "ucalls": a 64-bit store of the address
 * of a struct ucall to UCALL_MMIO_ADDR, which is outside guest RAM and so
 * exits to the host as AVCPU_EXIT_MMIO_WRITE.
 *
 * Guest physical / virtual layout (stage 1 is an identity map):
 *   GiB 0-1  Normal write-back: the test image (IPA == host VA, from
 *            0x400000) and the per-vCPU stacks at GUEST_STACK_IPA
 *   GiB 2-3  Device-nGnRE, execute-never: UCALL_MMIO_ADDR lives here
 *   others   unmapped, until guest_map_1g() adds a block
 *
 * Guest code must not call the C library: most of it touches TLS, locks or
 * system calls, none of which exist in the guest. Large struct copies or
 * zeroing can make the compiler call memcpy()/memset() behind your back,
 * which lands in libc too (and its ifunc may have picked an SVE variant the
 * guest cannot run): keep guest code simple. FP/SIMD may be used.
 *
 * This header is also included by the runtime's assembly files, hence the
 * plain-number constants above the __ASSEMBLER__ guard.
 */
#ifndef AVCPU_GUEST_H
#define AVCPU_GUEST_H

/*
 * Per-vCPU stacks, by vcpu id: vCPU n's is the GUEST_STACK_SIZE bytes at
 * GUEST_STACK_IPA + n * GUEST_STACK_SIZE, SP_EL1 starting at their top.
 */
#define GUEST_STACK_IPA		0x10000000
#define GUEST_STACK_SIZE	0x10000
#define GUEST_MAX_VCPUS		64	/* the module's limit on vcpu_id */
#define GUEST_STACK_AREA_SIZE	(GUEST_MAX_VCPUS * GUEST_STACK_SIZE)

/* A 64-bit store of a struct ucall's guest address here is a ucall. */
#define UCALL_MMIO_ADDR		0xf0000000
/* GICv2 hosts: where vm_create() maps the guest's GICC frame (gic.h) */
#define GUEST_GICC_IPA		0xeff00000

/* Guest RAM must stay below this: GiB 2 and up are Device in stage 1. */
#define GUEST_NORMAL_LIMIT	0x80000000

/* struct ex_regs, as the vectors lay it out on the stack */
#define EX_REGS_X0		0
#define EX_REGS_SP		248
#define EX_REGS_PC		256
#define EX_REGS_PSTATE		264
#define EX_REGS_ESR		272
#define EX_REGS_FAR		280
#define EX_REGS_SIZE		288

/* ucall commands: struct ucall.cmd */
#define UCALL_NONE		0	/* host only: the exit was no ucall */
#define UCALL_SYNC		1	/* GUEST_SYNC*(): args[] */
#define UCALL_DONE		2	/* GUEST_DONE(), or the function returned */
#define UCALL_ASSERT		3	/* GUEST_ASSERT*() failed: buf, args[0] = line */
#define UCALL_UNHANDLED		4	/* exception without a handler: args[] below */
#define UCALL_PRINTF		5	/* GUEST_PRINTF(): buf */

/* Vector table offsets / 0x80, the "vector" argument of the handlers */
#define VECTOR_SYNC_CURRENT_SP0		0
#define VECTOR_IRQ_CURRENT_SP0		1
#define VECTOR_FIQ_CURRENT_SP0		2
#define VECTOR_SERROR_CURRENT_SP0	3
#define VECTOR_SYNC_CURRENT		4	/* from EL1h: the usual one */
#define VECTOR_IRQ_CURRENT		5
#define VECTOR_FIQ_CURRENT		6
#define VECTOR_SERROR_CURRENT		7
#define VECTOR_SYNC_LOWER_64		8	/* from EL0, AArch64 */
#define VECTOR_IRQ_LOWER_64		9
#define VECTOR_FIQ_LOWER_64		10
#define VECTOR_SERROR_LOWER_64		11
#define VECTOR_SYNC_LOWER_32		12	/* from AArch32: never here */
#define VECTOR_IRQ_LOWER_32		13
#define VECTOR_FIQ_LOWER_32		14
#define VECTOR_SERROR_LOWER_32		15
#define VECTOR_NUM			16

/* ESR_ELx.EC values the tests are likely to meet */
#define ESR_EC_SHIFT		26
#define ESR_EC_NUM		64
#define ESR_EC_UNKNOWN		0x00
#define ESR_EC_FP_ASIMD		0x07
#define ESR_EC_SVC64		0x15
#define ESR_EC_HVC64		0x16
#define ESR_EC_SMC64		0x17
#define ESR_EC_SYS64		0x18
#define ESR_EC_SVE		0x19
#define ESR_EC_IABT_LOW		0x20
#define ESR_EC_IABT_CUR		0x21
#define ESR_EC_PC_ALIGN		0x22
#define ESR_EC_DABT_LOW		0x24
#define ESR_EC_DABT_CUR		0x25
#define ESR_EC_SP_ALIGN		0x26
#define ESR_EC_SERROR		0x2f
#define ESR_EC_BRK64		0x3c

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESR_EC(esr)		(((esr) >> ESR_EC_SHIFT) & 0x3f)

/* UCALL_UNHANDLED's args[] */
#define UCALL_UNHANDLED_VECTOR	0
#define UCALL_UNHANDLED_ESR	1
#define UCALL_UNHANDLED_ELR	2
#define UCALL_UNHANDLED_FAR	3

#define UCALL_MAX_ARGS	4
#define UCALL_BUF_SIZE	256

/*
 * Built on the guest's stack by the sender, so every vCPU has its own; the
 * host finds it through the guest address stored to UCALL_MMIO_ADDR.
 */
struct ucall {
	uint64_t cmd;
	uint64_t args[UCALL_MAX_ARGS];
	char buf[UCALL_BUF_SIZE];	/* NUL-terminated message */
};

/*
 * The interrupted context. A handler may change regs[], pc and pstate; the
 * vectors write them back before ERET. sp is SP_EL0 when the exception came
 * from EL0 or EL1t (written back too), or the EL1h stack pointer before the
 * exception (read-only: the handler runs on that stack).
 */
struct ex_regs {
	uint64_t regs[31];
	uint64_t sp;
	uint64_t pc;		/* ELR_EL1 */
	uint64_t pstate;	/* SPSR_EL1 */
	uint64_t esr;		/* ESR_EL1 (sync and SError only) */
	uint64_t far;		/* FAR_EL1 (aborts only) */
};

typedef void (*guest_handler_t)(struct ex_regs *regs);

/* The vCPU's first instruction (SETUP entry); x0 = function, x1 = vcpu id. */
void guest_entry(void);

/*
 * Install @fn for exceptions taken to @vector (VECTOR_*); for the SYNC
 * vectors, only those whose ESR_EL1.EC is @ec, otherwise @ec must be 0.
 * NULL removes it. The table is one global shared by every vCPU (and every
 * VM of the process): vm_create() empties it.
 */
void guest_install_handler(unsigned int vector, unsigned int ec,
			   guest_handler_t fn);

/*
 * Map VA [index << 30, (index + 1) << 30) to the 1 GiB block at @pa
 * (1 GiB aligned): Normal write-back, or Device-nGnRE execute-never. Does
 * break-before-make and the TLB maintenance when it replaces a valid
 * entry. -1 if @index >= 512, @pa is not aligned, or @pa does not fit the
 * stage-1 descriptor format in use: 48 bits, or 52 bits when the CPU has
 * FEAT_LPA2 (see guest_has_lpa2()). Shared by every vCPU, like the
 * handlers; vm_create() restores the default map.
 */
int guest_map_1g(unsigned int index, uint64_t pa, bool device);
void guest_unmap_1g(unsigned int index);
/* Stage 1 uses the FEAT_LPA2 format (TCR_EL1.DS): 52-bit output addresses. */
bool guest_has_lpa2(void);

/* The vcpu_id the host created this vCPU with (kept in TPIDR_EL1). */
uint64_t guest_vcpu_id(void);

/* ucalls; the macros below are the interface */
void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3);
void __guest_assert(const char *file, int line, const char *expr,
		    const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));
void __guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define GUEST_SYNC_ARGS(a0, a1, a2, a3)					\
	guest_ucall(UCALL_SYNC, (uint64_t)(a0), (uint64_t)(a1),		\
		    (uint64_t)(a2), (uint64_t)(a3))
#define GUEST_SYNC(arg)		GUEST_SYNC_ARGS(arg, 0, 0, 0)
#define GUEST_DONE()		guest_ucall(UCALL_DONE, 0, 0, 0, 0)
#define GUEST_PRINTF(fmt, ...)	__guest_printf(fmt, ##__VA_ARGS__)

/* A failed assertion reports to the host and never returns. */
#define __GUEST_ASSERT(cond, fmt, ...) do {				\
	if (!(cond))							\
		__guest_assert(__FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__); \
} while (0)
#define GUEST_ASSERT(cond)	__GUEST_ASSERT(cond, "failed")
/* Evaluates each operand once and reports both values. */
#define GUEST_ASSERT_EQ(a, b) do {					\
	uint64_t __ga = (uint64_t)(a), __gb = (uint64_t)(b);		\
									\
	if (__ga != __gb)						\
		__guest_assert(__FILE__, __LINE__, #a " == " #b,	\
			       "0x%lx != 0x%lx", (unsigned long)__ga,	\
			       (unsigned long)__gb);			\
} while (0)

/*
 * A small printf for the guest (and usable on the host): %d %i %u %x %X
 * %p %s %c %% with the 0, - and # flags, a width, and the l, ll and z
 * length modifiers. Returns the number of characters stored, excluding the
 * terminating NUL, which is always written when @size > 0.
 */
size_t guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t guest_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Host side, called by vm_create(): empty the handler table and write the
 * default stage-1 tables. The host writes them (not guest_entry) because
 * the guest would do it with its MMU and caches off, behind the back of
 * the cached copy the host and the table walker see.
 */
void guest_runtime_reset(void);

/* Accessors for the guest */
#define read_sysreg(r) ({						\
	uint64_t __val;							\
	asm volatile("mrs %0, " #r : "=r" (__val));			\
	__val;								\
})
#define write_sysreg(v, r) do {						\
	uint64_t __val = (uint64_t)(v);					\
	asm volatile("msr " #r ", %x0" : : "rZ" (__val));		\
} while (0)
#define isb()		do { asm volatile("isb" : : : "memory"); } while (0)
#define dsb(opt)	do { asm volatile("dsb " #opt : : : "memory"); } while (0)

#endif /* !__ASSEMBLER__ */
#endif /* AVCPU_GUEST_H */
