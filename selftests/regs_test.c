// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's registers: AVCPU_GET_REGS/AVCPU_SET_REGS (general, FP/SIMD,
 * PSTATE) and AVCPU_GET_SYSREG/AVCPU_SET_SYSREG, as the host sets and reads
 * them and as the guest itself sees them. The host's own FP/SIMD registers
 * and TPIDR_EL0 must come back from a RUN untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"

/* A store here (Device memory, in no slot) is a raw sync point: MMIO_WRITE */
#define SYNC_MMIO	0x90000000ULL

/* PSTATE bits SET_REGS takes (api.rst), M[4:0] apart */
#define PSTATE_NZCV	0xf0000000ULL
#define PSTATE_DIT	(1ULL << 24)
#define PSTATE_UAO	(1ULL << 23)
#define PSTATE_PAN	(1ULL << 22)
#define PSTATE_SS	(1ULL << 21)
#define PSTATE_IL	(1ULL << 20)
#define PSTATE_SSBS	(1ULL << 12)
#define PSTATE_BTYPE	(3ULL << 10)
#define PSTATE_DAIF	(0xfULL << 6)
#define PSTATE_M	0x1fULL
#define PSTATE_ALLOWED	(PSTATE_NZCV | PSTATE_DIT | PSTATE_UAO | PSTATE_PAN | \
			 PSTATE_SSBS | PSTATE_BTYPE | PSTATE_DAIF | PSTATE_M)
#define MODE_EL0t	0x0
#define MODE_EL1t	0x4
#define MODE_EL1h	0x5

static long xioctl(int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

static void fill_regs(struct avcpu_regs *r, uint64_t seed, uint64_t pstate)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 31; i++)
		r->x[i] = seed ^ (0x0101010101010101ULL * (i + 1));
	r->sp_el0 = seed ^ 0x5000000000000010ULL;
	r->sp_el1 = seed ^ 0x5100000000000020ULL;
	r->pc = seed ^ 0x5200000000000030ULL;
	r->pstate = pstate;
	r->elr_el1 = seed ^ 0x5300000000000040ULL;
	r->spsr_el1 = seed ^ 0x5400000000000050ULL;
	/* FPSR and FPCR are 32-bit registers: the top halves are RES0 */
	r->fpsr = (uint32_t)(seed ^ 0x0800009fULL);
	r->fpcr = (uint32_t)(seed ^ 0x07c09f00ULL);
	for (i = 0; i < 32; i++) {
		r->v[i][0] = seed ^ (0x1111111111111111ULL * (i % 15 + 1)) ^ i;
		r->v[i][1] = ~seed ^ (0x0f0f0f0f0f0f0f0fULL + i);
	}
}

static void expect_regs_eq(struct __test_metadata *_metadata,
			   const struct avcpu_regs *want,
			   const struct avcpu_regs *got)
{
	unsigned int i;

	for (i = 0; i < 31; i++) {
		EXPECT_EQ(want->x[i], got->x[i]) TH_LOG("x%u", i);
	}
	EXPECT_EQ(want->sp_el0, got->sp_el0);
	EXPECT_EQ(want->sp_el1, got->sp_el1);
	EXPECT_EQ(want->pc, got->pc);
	EXPECT_EQ(want->pstate, got->pstate);
	EXPECT_EQ(want->elr_el1, got->elr_el1);
	EXPECT_EQ(want->spsr_el1, got->spsr_el1);
	EXPECT_EQ(want->fpsr, got->fpsr);
	EXPECT_EQ(want->fpcr, got->fpcr);
	for (i = 0; i < 7; i++) {
		EXPECT_EQ(0, got->reserved[i]) TH_LOG("reserved[%u]", i);
	}
	for (i = 0; i < 32; i++) {
		EXPECT_EQ(want->v[i][0], got->v[i][0]) TH_LOG("v%u[63:0]", i);
		EXPECT_EQ(want->v[i][1], got->v[i][1]) TH_LOG("v%u[127:64]", i);
	}
	/* and nothing else: the whole structure */
	EXPECT_EQ(0, memcmp(want, got, sizeof(*want)));
}

/* SET_REGS then GET_REGS gives back every field, in every allowed state. */
TEST(regs_round_trip)
{
	struct avcpu_regs set, got;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	int step;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);

	for (step = 0; step < 6; step++) {
		uint64_t seed = 0x0123456789abcdefULL * (step + 1);
		uint64_t pstate = step & 1 ? PSTATE_ALLOWED & ~PSTATE_M :
					     PSTATE_NZCV & (seed << 28);

		if (step == 2)
			vcpu_setup(vcpu, guest_entry, 0);	/* FREE */
		if (step == 4)
			vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);	/* READY */
		pstate |= (uint64_t[]){ MODE_EL1h, MODE_EL1t, MODE_EL0t }[step % 3];
		fill_regs(&set, seed, pstate);
		ASSERT_EQ(0, __vcpu_set_regs(vcpu, &set)) TH_LOG("step %d", step);
		/* poison: GET writes every byte, reserved as 0 */
		memset(&got, 0xa5, sizeof(got));
		ASSERT_EQ(0, __vcpu_get_regs(vcpu, &got));
		expect_regs_eq(_metadata, &set, &got);
	}
	vm_free(vm);
}

/*
 * SET_REGS takes only NZCV, DIT, UAO, PAN, SSBS, BTYPE, DAIF and the modes
 * EL0t, EL1t, EL1h; a refused SET_REGS changes no register at all.
 */
TEST(pstate_checked)
{
	static const struct {
		uint64_t pstate;
		const char *what;
	} bad[] = {
		{ 0x3c9, "EL2h" }, { 0x3c8, "EL2t" }, { 0x3cd, "EL3h" },
		{ 0x3cc, "EL3t" }, { 0x3d0, "AArch32 User" },
		{ 0x3d3, "AArch32 Supervisor" }, { 0x3c1, "reserved mode 1" },
		{ PSTATE_IL | 0x3c5, "IL" }, { PSTATE_SS | 0x3c5, "SS" },
		{ (1ULL << 25) | 0x3c5, "TCO" }, { (1ULL << 5) | 0x3c5, "T/bit 5" },
		{ (1ULL << 32) | 0x3c5, "bit 32" }, { (1ULL << 63) | 0x3c5, "bit 63" },
	};
	struct avcpu_regs good, r, got;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_entry, 0);
	fill_regs(&good, 0x1122334455667788ULL, 0x3c5);
	ASSERT_EQ(0, __vcpu_set_regs(vcpu, &good));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = good;
		r.pstate = bad[i].pstate;
		r.x[5] = 0xbadbadbad;	/* must not land */
		EXPECT_EQ(-EINVAL, __vcpu_set_regs(vcpu, &r))
			TH_LOG("pstate 0x%llx (%s)",
			       (unsigned long long)bad[i].pstate, bad[i].what);
	}
	/* every bit outside the allowed set, alone with EL1h */
	for (i = 0; i < 64; i++) {
		if (PSTATE_ALLOWED & (1ULL << i))
			continue;
		r = good;
		r.pstate = 0x3c5 | (1ULL << i);
		EXPECT_EQ(-EINVAL, __vcpu_set_regs(vcpu, &r)) TH_LOG("bit %u", i);
	}
	/* every mode */
	for (i = 0; i < 32; i++) {
		bool ok = i == MODE_EL0t || i == MODE_EL1t || i == MODE_EL1h;

		r = good;
		r.pstate = 0x3c0 | i;
		EXPECT_EQ(ok ? 0 : -EINVAL, __vcpu_set_regs(vcpu, &r))
			TH_LOG("mode 0x%x", i);
	}
	/* reserved words */
	for (i = 0; i < 7; i++) {
		r = good;
		r.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __vcpu_set_regs(vcpu, &r)) TH_LOG("reserved[%u]", i);
	}
	/* the last SET that worked was mode EL1h (0x3c5); nothing else landed */
	ASSERT_EQ(0, __vcpu_get_regs(vcpu, &got));
	r = good;
	r.pstate = 0x3c5;
	expect_regs_eq(_metadata, &r, &got);

	/* every allowed bit, alone, is taken and read back */
	for (i = 0; i < 64; i++) {
		if (!(PSTATE_ALLOWED & ~PSTATE_M & (1ULL << i)))
			continue;
		r = good;
		r.pstate = MODE_EL1h | (1ULL << i);
		EXPECT_EQ(0, __vcpu_set_regs(vcpu, &r)) TH_LOG("bit %u", i);
		ASSERT_EQ(0, __vcpu_get_regs(vcpu, &got));
		EXPECT_EQ(r.pstate, got.pstate);
	}
	vm_free(vm);
}

/*
 * The x registers across the guest boundary, in assembly so that no
 * compiler gets in between:
 *  1. store to SYNC_MMIO (data 1): the host sets x0..x30 and moves pc past
 *     the store; the guest saves them all to regs_seen[];
 *  2. the guest sets x1..x28 and NZCV itself, stores to SYNC_MMIO (data 2)
 *     through x29: the host reads them with GET_REGS;
 *  3. regs_guest_finish() compares regs_seen[] in the guest, GUEST_DONE.
 */
uint64_t regs_seen[31];

static inline uint64_t host_x_pattern(unsigned int i)
{
	return 0x4f53540000000000ULL | ((uint64_t)i << 32) | (0x01010101U * (i + 3));
}

/* What the assembly below writes to x<n> */
static inline uint64_t guest_x_pattern(unsigned int n)
{
	return 0x9e57000000000000ULL | ((uint64_t)(0x5a00 + n) << 32) |
	       (0xc0deULL << 16) | (n * 0x0101);
}

void regs_guest_finish(void);
void __attribute__((noreturn, used)) regs_guest_finish(void)
{
	volatile uint64_t *seen = regs_seen;
	unsigned int i;

	for (i = 0; i < 31; i++)
		GUEST_ASSERT_EQ(seen[i], host_x_pattern(i));
	for (;;)
		GUEST_DONE();
}

void regs_guest_asm(void);
extern char regs_sync1[], regs_sync2[];

asm(
"	.text\n"
"	.balign	4\n"
"	.globl	regs_guest_asm\n"
"	.type	regs_guest_asm, %function\n"
"regs_guest_asm:\n"
"	movz	x1, #0x9000, lsl #16\n"
"	mov	x0, #1\n"
"	.globl	regs_sync1\n"
"regs_sync1:\n"
"	str	x0, [x1]\n"
"	sub	sp, sp, #256\n"
"	stp	x0, x1, [sp, #0]\n"
"	stp	x2, x3, [sp, #16]\n"
"	stp	x4, x5, [sp, #32]\n"
"	stp	x6, x7, [sp, #48]\n"
"	stp	x8, x9, [sp, #64]\n"
"	stp	x10, x11, [sp, #80]\n"
"	stp	x12, x13, [sp, #96]\n"
"	stp	x14, x15, [sp, #112]\n"
"	stp	x16, x17, [sp, #128]\n"
"	stp	x18, x19, [sp, #144]\n"
"	stp	x20, x21, [sp, #160]\n"
"	stp	x22, x23, [sp, #176]\n"
"	stp	x24, x25, [sp, #192]\n"
"	stp	x26, x27, [sp, #208]\n"
"	stp	x28, x29, [sp, #224]\n"
"	str	x30, [sp, #240]\n"
"	adrp	x0, regs_seen\n"
"	add	x0, x0, :lo12:regs_seen\n"
"	mov	x1, #0\n"
"1:	ldr	x2, [sp, x1, lsl #3]\n"
"	str	x2, [x0, x1, lsl #3]\n"
"	add	x1, x1, #1\n"
"	cmp	x1, #31\n"
"	b.ne	1b\n"
"	add	sp, sp, #256\n"
"	.irp	n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28\n"
"	movz	x\\n, #(\\n * 0x0101)\n"
"	movk	x\\n, #0xc0de, lsl #16\n"
"	movk	x\\n, #(0x5a00 + \\n), lsl #32\n"
"	movk	x\\n, #0x9e57, lsl #48\n"
"	.endr\n"
"	movz	x0, #0xa000, lsl #16\n"
"	msr	nzcv, x0\n"
"	movz	x29, #0x9000, lsl #16\n"
"	mov	x0, #2\n"
"	.globl	regs_sync2\n"
"regs_sync2:\n"
"	str	x0, [x29]\n"
"	b	regs_guest_finish\n"
"	.size	regs_guest_asm, . - regs_guest_asm\n"
);

static void expect_sync_exit(struct __test_metadata *_metadata,
			     struct avcpu_vcpu *vcpu, uint64_t data)
{
	struct avcpu_run *run = vcpu->run;

	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu);
	}
	ASSERT_EQ(SYNC_MMIO, run->mmio.addr) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(8, run->mmio.width);
	ASSERT_EQ(data, run->mmio.data);
}

TEST(x_regs_both_ways)
{
	uint64_t stack_top = GUEST_STACK_IPA + GUEST_STACK_SIZE;
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	memset(regs_seen, 0, sizeof(regs_seen));
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, regs_guest_asm);

	/* 1: at the store, EL1h with DAIF masked as SETUP left it */
	vcpu_run(vcpu);
	expect_sync_exit(_metadata, vcpu, 1);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ((uintptr_t)regs_sync1, regs.pc);
	EXPECT_EQ(0x3c5, regs.pstate & (PSTATE_DAIF | PSTATE_M));
	EXPECT_EQ(1, regs.x[0]);
	EXPECT_EQ(SYNC_MMIO, regs.x[1]);
	EXPECT_EQ(stack_top, regs.sp_el1);	/* nothing pushed yet */
	for (i = 0; i < 31; i++)
		regs.x[i] = host_x_pattern(i);
	/* SET_REGS cancels the store's completion: step past it ourselves */
	regs.pc += 4;
	ASSERT_EQ(0, __vcpu_set_regs(vcpu, &regs));

	/* 2: the guest saw every one; now it wrote its own */
	vcpu_run(vcpu);
	expect_sync_exit(_metadata, vcpu, 2);
	for (i = 0; i < 31; i++) {
		EXPECT_EQ(host_x_pattern(i), regs_seen[i]) TH_LOG("guest x%u", i);
	}
	vcpu_get_regs(vcpu, &regs);
	for (i = 1; i <= 28; i++) {
		EXPECT_EQ(guest_x_pattern(i), regs.x[i]) TH_LOG("x%u", i);
	}
	EXPECT_EQ(2, regs.x[0]);
	EXPECT_EQ(SYNC_MMIO, regs.x[29]);
	EXPECT_EQ(host_x_pattern(30), regs.x[30]);
	EXPECT_EQ((uintptr_t)regs_sync2, regs.pc);
	EXPECT_EQ(0xa00003c5, regs.pstate & (PSTATE_NZCV | PSTATE_DAIF | PSTATE_M));
	EXPECT_EQ(stack_top, regs.sp_el1);

	/* A PSTATE read after the guest ran is taken back as it is. */
	regs.pc += 4;
	EXPECT_EQ(0, __vcpu_set_regs(vcpu, &regs));

	/* 3: the guest's own check of what it saw, then done */
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/*
 * FP/SIMD. The host loads its own pattern into v0-v31, FPSR and FPCR and
 * issues RUN from the same assembly block (nothing compiled in between);
 * afterwards its registers must hold that pattern still. The guest saves
 * what it finds in its v0-v31 (the host's SET_REGS pattern, never the
 * host's live registers), then loads a third pattern for GET_REGS to see.
 */
struct fp_state {
	uint64_t v[32][2];
	uint64_t fpsr, fpcr;
};

struct fp_state fp_seen;		/* written by the guest */
struct fp_state fp_guest_pattern;	/* loaded by the guest */

void fp_guest_finish(void);
void __attribute__((noreturn, used)) fp_guest_finish(void)
{
	for (;;)
		GUEST_DONE();
}

void fp_guest_asm(void);
extern char fp_sync1[], fp_sync2[];

asm(
"	.text\n"
"	.balign	4\n"
"	.globl	fp_guest_asm\n"
"	.type	fp_guest_asm, %function\n"
"fp_guest_asm:\n"
"	adrp	x9, fp_seen\n"
"	add	x9, x9, :lo12:fp_seen\n"
"	stp	q0, q1, [x9, #0]\n"
"	stp	q2, q3, [x9, #32]\n"
"	stp	q4, q5, [x9, #64]\n"
"	stp	q6, q7, [x9, #96]\n"
"	stp	q8, q9, [x9, #128]\n"
"	stp	q10, q11, [x9, #160]\n"
"	stp	q12, q13, [x9, #192]\n"
"	stp	q14, q15, [x9, #224]\n"
"	stp	q16, q17, [x9, #256]\n"
"	stp	q18, q19, [x9, #288]\n"
"	stp	q20, q21, [x9, #320]\n"
"	stp	q22, q23, [x9, #352]\n"
"	stp	q24, q25, [x9, #384]\n"
"	stp	q26, q27, [x9, #416]\n"
"	stp	q28, q29, [x9, #448]\n"
"	stp	q30, q31, [x9, #480]\n"
"	mrs	x10, fpsr\n"
"	mrs	x11, fpcr\n"
"	str	x10, [x9, #512]\n"
"	str	x11, [x9, #520]\n"
"	movz	x1, #0x9000, lsl #16\n"
"	mov	x0, #1\n"
"	.globl	fp_sync1\n"
"fp_sync1:\n"
"	str	x0, [x1]\n"
"	adrp	x9, fp_guest_pattern\n"
"	add	x9, x9, :lo12:fp_guest_pattern\n"
"	ldp	q0, q1, [x9, #0]\n"
"	ldp	q2, q3, [x9, #32]\n"
"	ldp	q4, q5, [x9, #64]\n"
"	ldp	q6, q7, [x9, #96]\n"
"	ldp	q8, q9, [x9, #128]\n"
"	ldp	q10, q11, [x9, #160]\n"
"	ldp	q12, q13, [x9, #192]\n"
"	ldp	q14, q15, [x9, #224]\n"
"	ldp	q16, q17, [x9, #256]\n"
"	ldp	q18, q19, [x9, #288]\n"
"	ldp	q20, q21, [x9, #320]\n"
"	ldp	q22, q23, [x9, #352]\n"
"	ldp	q24, q25, [x9, #384]\n"
"	ldp	q26, q27, [x9, #416]\n"
"	ldp	q28, q29, [x9, #448]\n"
"	ldp	q30, q31, [x9, #480]\n"
"	ldr	x10, [x9, #512]\n"
"	ldr	x11, [x9, #520]\n"
"	msr	fpsr, x10\n"
"	msr	fpcr, x11\n"
"	mov	x0, #2\n"
"	.globl	fp_sync2\n"
"fp_sync2:\n"
"	str	x0, [x1]\n"
"	b	fp_guest_finish\n"
"	.size	fp_guest_asm, . - fp_guest_asm\n"
);

#define FP_V_ALL							\
	"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",	\
	"v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18",	\
	"v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27",	\
	"v28", "v29", "v30", "v31"

/*
 * ioctl(fd, AVCPU_RUN, 0) with the host's v0-v31/FPSR/FPCR = *in, and
 * *out = what they hold when RUN returns. The host's FPCR is put back.
 */
static long run_with_host_fp(int fd, const struct fp_state *in,
			     struct fp_state *out)
{
	register long x0 asm("x0") = fd;
	register long x1 asm("x1") = AVCPU_RUN;
	register long x2 asm("x2") = 0;
	register long x8 asm("x8") = __NR_ioctl;
	uint64_t saved_fpcr;

	asm volatile(
		"mrs	%[saved], fpcr\n"
		"ldp	q0, q1, [%[in], #0]\n"
		"ldp	q2, q3, [%[in], #32]\n"
		"ldp	q4, q5, [%[in], #64]\n"
		"ldp	q6, q7, [%[in], #96]\n"
		"ldp	q8, q9, [%[in], #128]\n"
		"ldp	q10, q11, [%[in], #160]\n"
		"ldp	q12, q13, [%[in], #192]\n"
		"ldp	q14, q15, [%[in], #224]\n"
		"ldp	q16, q17, [%[in], #256]\n"
		"ldp	q18, q19, [%[in], #288]\n"
		"ldp	q20, q21, [%[in], #320]\n"
		"ldp	q22, q23, [%[in], #352]\n"
		"ldp	q24, q25, [%[in], #384]\n"
		"ldp	q26, q27, [%[in], #416]\n"
		"ldp	q28, q29, [%[in], #448]\n"
		"ldp	q30, q31, [%[in], #480]\n"
		"ldr	x9, [%[in], #512]\n"
		"msr	fpsr, x9\n"
		"ldr	x9, [%[in], #520]\n"
		"msr	fpcr, x9\n"
		"svc	#0\n"
		"stp	q0, q1, [%[out], #0]\n"
		"stp	q2, q3, [%[out], #32]\n"
		"stp	q4, q5, [%[out], #64]\n"
		"stp	q6, q7, [%[out], #96]\n"
		"stp	q8, q9, [%[out], #128]\n"
		"stp	q10, q11, [%[out], #160]\n"
		"stp	q12, q13, [%[out], #192]\n"
		"stp	q14, q15, [%[out], #224]\n"
		"stp	q16, q17, [%[out], #256]\n"
		"stp	q18, q19, [%[out], #288]\n"
		"stp	q20, q21, [%[out], #320]\n"
		"stp	q22, q23, [%[out], #352]\n"
		"stp	q24, q25, [%[out], #384]\n"
		"stp	q26, q27, [%[out], #416]\n"
		"stp	q28, q29, [%[out], #448]\n"
		"stp	q30, q31, [%[out], #480]\n"
		"mrs	x9, fpsr\n"
		"str	x9, [%[out], #512]\n"
		"mrs	x9, fpcr\n"
		"str	x9, [%[out], #520]\n"
		"msr	fpcr, %[saved]\n"
		: "+r" (x0), [saved] "=&r" (saved_fpcr)
		: "r" (x1), "r" (x2), "r" (x8), [in] "r" (in), [out] "r" (out)
		: "x9", "memory", "cc", FP_V_ALL);
	return x0 < 0 ? x0 : 0;	/* the raw syscall returns -errno */
}

static void fill_fp(struct fp_state *s, uint64_t seed, uint64_t fpsr,
		    uint64_t fpcr)
{
	unsigned int i;

	for (i = 0; i < 32; i++) {
		s->v[i][0] = seed ^ (0x0001000100010001ULL * (i + 1));
		s->v[i][1] = seed ^ (0x1000100010001000ULL * (i + 1)) ^ 0xffff;
	}
	s->fpsr = fpsr;
	s->fpcr = fpcr;
}

static void expect_fp_eq(struct __test_metadata *_metadata, const char *what,
			 const struct fp_state *want, const struct fp_state *got)
{
	unsigned int i;

	for (i = 0; i < 32; i++) {
		EXPECT_EQ(want->v[i][0], got->v[i][0]) TH_LOG("%s: v%u[63:0]", what, i);
		EXPECT_EQ(want->v[i][1], got->v[i][1]) TH_LOG("%s: v%u[127:64]", what, i);
	}
	EXPECT_EQ(want->fpsr, got->fpsr) TH_LOG("%s: FPSR", what);
	EXPECT_EQ(want->fpcr, got->fpcr) TH_LOG("%s: FPCR", what);
}

static void regs_to_fp(const struct avcpu_regs *r, struct fp_state *s)
{
	memcpy(s->v, r->v, sizeof(s->v));
	s->fpsr = r->fpsr;
	s->fpcr = r->fpcr;
}

TEST(fp_regs_isolated)
{
	struct fp_state host, host_after, guest_set, got;
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	unsigned int i;
	long ret;

	AVCPU_REQUIRE_RUN();
	/* FPSR: cumulative flags and QC; FPCR: DN, FZ, a rounding mode */
	fill_fp(&host, 0x4855535400000000ULL, 0x08000000, 0x02000000);
	fill_fp(&guest_set, 0x5345544100000000ULL, 0x00000013, 0x03c00000);
	fill_fp(&fp_guest_pattern, 0x4755455300000000ULL, 0x0800009f, 0x00400000);
	memset(&fp_seen, 0, sizeof(fp_seen));

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, fp_guest_asm);
	vcpu_get_regs(vcpu, &regs);
	memcpy(regs.v, guest_set.v, sizeof(regs.v));
	regs.fpsr = guest_set.fpsr;
	regs.fpcr = guest_set.fpcr;
	vcpu_set_regs(vcpu, &regs);

	/* 1: the guest sees what SET_REGS put there, not the host's registers */
	memset(&host_after, 0, sizeof(host_after));
	ret = run_with_host_fp(vcpu->fd, &host, &host_after);
	ASSERT_EQ(0, ret) TH_LOG("RUN: %s", strerror(-ret));
	expect_sync_exit(_metadata, vcpu, 1);
	expect_fp_eq(_metadata, "guest's view", &guest_set, &fp_seen);
	for (i = 0; i < 32; i++) {
		EXPECT_NE(host.v[i][0], fp_seen.v[i][0]) TH_LOG("v%u", i);
	}
	expect_fp_eq(_metadata, "host after RUN 1", &host, &host_after);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ((uintptr_t)fp_sync1, regs.pc);
	regs_to_fp(&regs, &got);
	expect_fp_eq(_metadata, "GET_REGS after RUN 1", &guest_set, &got);

	/* 2: what the guest loaded is what GET_REGS reads */
	memset(&host_after, 0, sizeof(host_after));
	ret = run_with_host_fp(vcpu->fd, &host, &host_after);
	ASSERT_EQ(0, ret) TH_LOG("RUN: %s", strerror(-ret));
	expect_sync_exit(_metadata, vcpu, 2);
	expect_fp_eq(_metadata, "host after RUN 2", &host, &host_after);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ((uintptr_t)fp_sync2, regs.pc);
	regs_to_fp(&regs, &got);
	expect_fp_eq(_metadata, "GET_REGS after RUN 2", &fp_guest_pattern, &got);

	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

/* Every known system register takes any 64-bit value and gives it back. */
TEST(sysreg_round_trip)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i, pass;
	uint64_t val;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);

	for (pass = 0; pass < 4; pass++) {
		if (pass == 1)
			vcpu_setup(vcpu, guest_entry, 0);
		if (pass == 2)
			vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
		/* set all, then read all: no two registers share storage */
		for (i = 0; i < AVCPU_NR_RW_SYSREGS; i++) {
			val = (0x5359535245470000ULL | avcpu_rw_sysregs[i]) ^
			      ((uint64_t)(pass * 31 + i) << 32);
			if (pass == 3)
				val = ~val;
			ASSERT_EQ(0, __vcpu_set_sysreg(vcpu, avcpu_rw_sysregs[i], val))
				TH_LOG("SET 0x%x", avcpu_rw_sysregs[i]);
		}
		for (i = 0; i < AVCPU_NR_RW_SYSREGS; i++) {
			uint64_t want = (0x5359535245470000ULL | avcpu_rw_sysregs[i]) ^
					((uint64_t)(pass * 31 + i) << 32);

			if (pass == 3)
				want = ~want;
			val = 0;
			ASSERT_EQ(0, __vcpu_get_sysreg(vcpu, avcpu_rw_sysregs[i], &val))
				TH_LOG("GET 0x%x", avcpu_rw_sysregs[i]);
			EXPECT_EQ(want, val) TH_LOG("sysreg 0x%x pass %u",
						    avcpu_rw_sysregs[i], pass);
		}
	}
	/* the extremes */
	for (i = 0; i < AVCPU_NR_RW_SYSREGS; i++) {
		ASSERT_EQ(0, __vcpu_set_sysreg(vcpu, avcpu_rw_sysregs[i], 0));
		ASSERT_EQ(0, __vcpu_get_sysreg(vcpu, avcpu_rw_sysregs[i], &val));
		EXPECT_EQ(0, val);
		ASSERT_EQ(0, __vcpu_set_sysreg(vcpu, avcpu_rw_sysregs[i], ~0ULL));
		ASSERT_EQ(0, __vcpu_get_sysreg(vcpu, avcpu_rw_sysregs[i], &val));
		EXPECT_EQ(~0ULL, val);
	}
	vm_free(vm);
}

/* Reserved fields, unknown encodings */
TEST(sysreg_bad_args)
{
	static const uint32_t unknown[] = {
		AVCPU_SYSREG(3, 0, 0, 0, 0),	/* MIDR_EL1 */
		AVCPU_SYSREG(3, 0, 0, 4, 0),	/* ID_AA64PFR0_EL1 */
		AVCPU_SYSREG(3, 0, 1, 0, 1),	/* ACTLR_EL1 */
		AVCPU_SYSREG(3, 0, 4, 0, 1),	/* ELR_EL1: in struct avcpu_regs */
		AVCPU_SYSREG(3, 4, 4, 1, 0),	/* SP_EL1: likewise */
		AVCPU_SYSREG(3, 3, 14, 2, 0),	/* CNTP_TVAL_EL0 */
		AVCPU_SYSREG(3, 3, 14, 0, 2),	/* CNTVCT_EL0 */
		AVCPU_SYSREG(2, 0, 1, 0, 4),	/* OSLAR_EL1: write only */
		AVCPU_SYSREG(2, 0, 0, 2, 0),	/* MDCCINT_EL1: DCC, RAZ/WI */
		AVCPU_SYSREG(3, 4, 1, 1, 0),	/* HCR_EL2 */
		0, 0xffff, 0xffffffff,
		SYSREG_SCTLR_EL1 | 0x10000,	/* a known one with bits above 15 */
		SYSREG_TPIDR_EL0 | 0x80000000,
	};
	struct avcpu_sysreg sr;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	unsigned int i;
	uint64_t val;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_entry, 0);
	vcpu_set_sysreg(vcpu, SYSREG_TPIDR_EL0, 0x1234);

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		EXPECT_EQ(-ENOENT, __vcpu_get_sysreg(vcpu, unknown[i], &val))
			TH_LOG("GET 0x%x", unknown[i]);
		EXPECT_EQ(-ENOENT, __vcpu_set_sysreg(vcpu, unknown[i], 0))
			TH_LOG("SET 0x%x", unknown[i]);
	}
	EXPECT_EQ(0x1234, vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL0));

	/* reserved0, reserved[]: EINVAL, and a SET changes nothing */
	for (i = 0; i < 3; i++) {
		memset(&sr, 0, sizeof(sr));
		sr.encoding = SYSREG_TPIDR_EL0;
		sr.value = 0x5678;
		if (i == 0)
			sr.reserved0 = 1;
		else
			sr.reserved[i - 1] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_SET_SYSREG, &sr))
			TH_LOG("reserved field %u", i);
		EXPECT_EQ(-EINVAL, xioctl(vcpu->fd, AVCPU_GET_SYSREG, &sr))
			TH_LOG("reserved field %u", i);
	}
	EXPECT_EQ(0x1234, vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL0));
	vm_free(vm);
}

/* MPIDR_EL1: CREATE_VCPU's mpidr with bit 31 set; read only. */
TEST(mpidr)
{
	static const uint64_t mpidrs[] = { 0, 0x8a00123456ULL, 0xff00ffffffULL, 0x1 };
	struct avcpu_vcpu_init init = { 0 };
	struct avcpu_sysreg sr;
	struct avcpu_vm *vm;
	unsigned int i;
	int fd;

	AVCPU_REQUIRE_LOADED();
	vm = vm_create();
	for (i = 0; i < sizeof(mpidrs) / sizeof(mpidrs[0]); i++) {
		init.vcpu_id = i;
		init.mpidr = mpidrs[i];
		fd = xioctl(vm->fd, AVCPU_CREATE_VCPU, &init);
		ASSERT_GE(fd, 0) TH_LOG("mpidr 0x%llx: %s",
					(unsigned long long)mpidrs[i], strerror(-fd));
		memset(&sr, 0, sizeof(sr));
		sr.encoding = SYSREG_MPIDR_EL1;
		EXPECT_EQ(0, xioctl(fd, AVCPU_GET_SYSREG, &sr));
		EXPECT_EQ(mpidrs[i] | (1ULL << 31), sr.value);
		/* not even its own value */
		sr.value = mpidrs[i] | (1ULL << 31);
		EXPECT_EQ(-EINVAL, xioctl(fd, AVCPU_SET_SYSREG, &sr));
		sr.value = 0x42;
		EXPECT_EQ(-EINVAL, xioctl(fd, AVCPU_SET_SYSREG, &sr));
		/* SETUP keeps it */
		{
			struct avcpu_setup setup = { .entry = 0x1000 };

			EXPECT_EQ(0, xioctl(fd, AVCPU_SETUP, &setup));
		}
		sr.value = 0;
		EXPECT_EQ(0, xioctl(fd, AVCPU_GET_SYSREG, &sr));
		EXPECT_EQ(mpidrs[i] | (1ULL << 31), sr.value);
		close(fd);
	}
	vm_free(vm);
}

/*
 * System registers between host and guest. guest_entry sets TPIDR_EL1
 * itself, so the host changes the registers at a ucall in the middle of
 * the run. The host thread's own TPIDR_EL0 (its TLS pointer) and
 * TPIDRRO_EL0 are the same after RUN as before.
 */
static const uint32_t guest_rw_regs[] = {
	SYSREG_TPIDR_EL1, SYSREG_TPIDR_EL0, SYSREG_TPIDRRO_EL0,
	SYSREG_CONTEXTIDR_EL1, SYSREG_FAR_EL1,
};
#define NR_GUEST_RW	5

static const uint64_t host_sets[NR_GUEST_RW] = {
	0x54504944523145ffULL, 0x5450494452304500ULL, 0x54504944524f3000ULL,
	0x12345678ULL,		/* CONTEXTIDR_EL1 is 32 bits */
	0xfa00000012345678ULL,
};
static const uint64_t guest_sets[NR_GUEST_RW] = {
	0x6775657374454c31ULL, 0x6775657374454c30ULL, 0x67756573745230ULL,
	0x9abcdef0ULL, 0x00fa00fa00fa00faULL,
};
static volatile uint64_t guest_read[NR_GUEST_RW];
static volatile uint64_t guest_mpidr;

static void guest_sysregs(void)
{
	guest_mpidr = read_sysreg(mpidr_el1);
	GUEST_SYNC(1);
	guest_read[0] = read_sysreg(tpidr_el1);
	guest_read[1] = read_sysreg(tpidr_el0);
	guest_read[2] = read_sysreg(tpidrro_el0);
	guest_read[3] = read_sysreg(contextidr_el1);
	guest_read[4] = read_sysreg(far_el1);
	GUEST_ASSERT_EQ(guest_read[0], host_sets[0]);
	GUEST_ASSERT_EQ(guest_read[1], host_sets[1]);
	write_sysreg(guest_sets[0], tpidr_el1);
	write_sysreg(guest_sets[1], tpidr_el0);
	write_sysreg(guest_sets[2], tpidrro_el0);
	write_sysreg(guest_sets[3], contextidr_el1);
	write_sysreg(guest_sets[4], far_el1);
	isb();
	GUEST_SYNC(2);
	GUEST_DONE();
}

static uint64_t host_tpidr_el0(void)
{
	uint64_t v;

	asm volatile("mrs %0, tpidr_el0" : "=r" (v));
	return v;
}

static uint64_t host_tpidrro_el0(void)
{
	uint64_t v;

	asm volatile("mrs %0, tpidrro_el0" : "=r" (v));
	return v;
}

TEST(sysregs_host_guest)
{
	uint64_t tls = host_tpidr_el0(), tlsro = host_tpidrro_el0();
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	struct ucall uc;
	unsigned int i;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 7, guest_sysregs);

	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(tls, host_tpidr_el0());
	EXPECT_EQ(tlsro, host_tpidrro_el0());
	EXPECT_EQ(0x80000007ULL, guest_mpidr);
	EXPECT_EQ(0x80000007ULL, vcpu_get_sysreg(vcpu, SYSREG_MPIDR_EL1));
	/* guest_entry's TPIDR_EL1 (the vcpu id) */
	EXPECT_EQ(7, vcpu_get_sysreg(vcpu, SYSREG_TPIDR_EL1));
	for (i = 0; i < NR_GUEST_RW; i++)
		vcpu_set_sysreg(vcpu, guest_rw_regs[i], host_sets[i]);

	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(2, uc.args[0]);
	for (i = 0; i < NR_GUEST_RW; i++) {
		EXPECT_EQ(host_sets[i], guest_read[i]) TH_LOG("guest read 0x%x",
							      guest_rw_regs[i]);
		EXPECT_EQ(guest_sets[i], vcpu_get_sysreg(vcpu, guest_rw_regs[i]))
			TH_LOG("GET_SYSREG 0x%x", guest_rw_regs[i]);
	}
	/* the host thread's own registers did not follow the guest's */
	EXPECT_EQ(tls, host_tpidr_el0());
	EXPECT_EQ(tlsro, host_tpidrro_el0());
	/* TLS still works: errno lives there */
	errno = 0;
	EXPECT_EQ(-1, close(-1));
	EXPECT_EQ(EBADF, errno);

	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(tls, host_tpidr_el0());
	vm_free(vm);
}

/*
 * PSTATE bits the guest sets itself (PAN, UAO, DIT, SSBS where the CPU has
 * them; NZCV; part of DAIF) read back with GET_REGS at an exit, and that
 * PSTATE is taken back by SET_REGS.
 */
#define ID_FIELD(v, shift)	(((v) >> (shift)) & 0xf)

static void guest_pstate(void)
{
	uint64_t bits = 0;

	if (ID_FIELD(read_sysreg(id_aa64mmfr1_el1), 20)) {
		asm volatile("msr s3_0_c4_c2_3, %0" : : "r" (PSTATE_PAN));
		bits |= PSTATE_PAN;
	}
	if (ID_FIELD(read_sysreg(id_aa64mmfr2_el1), 4)) {
		asm volatile("msr s3_0_c4_c2_4, %0" : : "r" (PSTATE_UAO));
		bits |= PSTATE_UAO;
	}
	if (ID_FIELD(read_sysreg(id_aa64pfr0_el1), 48)) {
		asm volatile("msr s3_3_c4_c2_5, %0" : : "r" (PSTATE_DIT));
		bits |= PSTATE_DIT;
	}
	if (ID_FIELD(read_sysreg(id_aa64pfr1_el1), 4) >= 2) {
		asm volatile("msr s3_3_c4_c2_6, %0" : : "r" (PSTATE_SSBS));
		bits |= PSTATE_SSBS;
	}
	/* D and A masked, I and F not (nothing interrupts this guest) */
	asm volatile("msr daif, %0" : : "r" (0x300UL));
	GUEST_SYNC(bits);
	GUEST_SYNC(bits);
	GUEST_DONE();
}

TEST(pstate_from_guest)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_regs regs;
	struct avcpu_vm *vm;
	struct ucall uc;
	uint64_t bits;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_pstate);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	bits = uc.args[0];
	TH_LOG("the guest set PSTATE bits 0x%llx", (unsigned long long)bits);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(bits, regs.pstate & bits);
	EXPECT_EQ(0x305, regs.pstate & (PSTATE_DAIF | PSTATE_M));
	EXPECT_EQ(0, regs.pstate & ~PSTATE_ALLOWED)
		TH_LOG("pstate 0x%llx", (unsigned long long)regs.pstate);
	/* at the ucall's store: the next instruction is ours to step to */
	regs.pc += 4;
	EXPECT_EQ(0, __vcpu_set_regs(vcpu, &regs))
		TH_LOG("pstate 0x%llx", (unsigned long long)regs.pstate);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(bits, uc.args[0]);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(bits, regs.pstate & bits);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

TEST_HARNESS_MAIN
