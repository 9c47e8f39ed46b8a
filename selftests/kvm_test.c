// SPDX-License-Identifier: GPL-2.0
/*
 * avcpu beside KVM, on a VHE host with KVM enabled (the vhe-kvm lanes):
 * KVM guests, with KVM's in-kernel vGICv3, and avcpu guests run at the same
 * time on both CPUs, a KVM vCPU and an avcpu vCPU bound to each, so the
 * two hypervisors' world switches interleave on every CPU. Every guest
 * checks its own memory (a pattern written and read back each pass) and
 * its own virtual timer (an interrupt each pass, never early, no stray
 * INTID) and reports each pass; the test counts passes and errors. A guest
 * that saw the other's translations would read the wrong pattern; one that
 * lost its timer interrupt to the other would stop reporting. Elsewhere
 * (no /dev/kvm: KVM disabled) it SKIPs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_ksft.h"
#include "guest/gic.h"

#define KVM_DEV			"/dev/kvm"
#define RUN_SECONDS_DEFAULT	20

/* The KVM guest's board: RAM, where its code runs, data, stack; the vGIC */
#define KG_RAM			0x40000000ULL
#define KG_RAM_SIZE		0x100000ULL
#define KG_ENTRY		(KG_RAM + 0x800)	/* after the vectors */
#define KG_STACK_TOP		(KG_RAM + KG_RAM_SIZE)
#define KG_GICD			0x08000000ULL
#define KG_GICR			0x080a0000ULL
/* a store here reports a pass: (errors << 32) | passes; +8: an exception */
#define KG_REPORT		0x20000000ULL

/*
 * The KVM guest, run with its MMU off from KG_RAM (this is data here,
 * copied there). Vectors first (VBAR_EL1 = KG_RAM): every entry but the
 * IRQ one reports its ESR_EL1 at KG_REPORT + 8 and stops. From KG_ENTRY:
 * the vGIC's distributor and redistributor set up for PPI 27 (Group 1),
 * the CPU interface on; then passes of: 4096 words written with a pattern
 * of the pass and read back (mismatches counted), the virtual timer set
 * 1 ms ahead and waited for in WFI (the handler counts it, an early one
 * as an error, masks it, EOIs), then one report. The data page at
 * KG_RAM + 0x80000 holds the counters: +0 timer interrupts, +8 early
 * ones, +16 memory mismatches, +24 unexpected INTIDs.
 */
asm(
"	.pushsection .rodata.kvm_guest, \"a\"\n"
"	.balign	2048\n"
"	.globl	kvm_guest_start\n"
"kvm_guest_start:\n"
"	.rept	5\n"
"	b	kvm_guest_bad\n"
"	.balign	128\n"
"	.endr\n"
"	b	kvm_guest_irq\n"
"	.balign	128\n"
"	.rept	10\n"
"	b	kvm_guest_bad\n"
"	.balign	128\n"
"	.endr\n"
"kvm_guest_entry:\n"
"	movz	x0, #0x0800, lsl #16\n"		/* GICD_CTLR: ARE, EnableGrp1 */
"	mov	w1, #0x12\n"
"	str	w1, [x0]\n"
"	movz	x0, #0x080a, lsl #16\n"		/* RD_base */
"	str	wzr, [x0, #0x14]\n"		/* GICR_WAKER */
"	add	x0, x0, #0x10, lsl #12\n"	/* SGI_base */
"	mov	w1, #-1\n"
"	str	w1, [x0, #0x80]\n"		/* GICR_IGROUPR0: Group 1 */
"	mov	w1, #0xa0\n"
"	add	x2, x0, #0x400\n"
"	strb	w1, [x2, #27]\n"		/* GICR_IPRIORITYR: PPI 27 */
"	mov	w1, #0x8000000\n"
"	str	w1, [x0, #0x100]\n"		/* GICR_ISENABLER0: PPI 27 */
"	mov	x1, #7\n"
"	msr	S3_0_C12_C12_5, x1\n"		/* ICC_SRE_EL1 */
"	isb\n"
"	mov	x1, #0xf0\n"
"	msr	S3_0_C4_C6_0, x1\n"		/* ICC_PMR_EL1 */
"	mov	x1, #1\n"
"	msr	S3_0_C12_C12_7, x1\n"		/* ICC_IGRPEN1_EL1 */
"	adr	x1, kvm_guest_start\n"
"	msr	vbar_el1, x1\n"
"	isb\n"
"	mov	x19, #0\n"			/* passes */
"	mov	x20, #0x1234\n"			/* the pass's seed */
"	movz	x24, #0x4008, lsl #16\n"	/* data page */
"	movz	x25, #0x2000, lsl #16\n"	/* KG_REPORT */
"	mrs	x26, cntfrq_el0\n"
"	mov	x1, #1000\n"
"	udiv	x26, x26, x1\n"			/* ticks in 1 ms */
"	movz	x5, #0x9e37, lsl #16\n"
"	movk	x5, #0x79b9\n"
"1:	add	x2, x24, #0x10, lsl #12\n"	/* the buffer */
"	mov	x3, #0\n"
"2:	mul	x4, x3, x5\n"
"	eor	x4, x4, x20\n"
"	str	x4, [x2, x3, lsl #3]\n"
"	add	x3, x3, #1\n"
"	cmp	x3, #4096\n"
"	b.lo	2b\n"
"	mov	x3, #0\n"
"	mov	x6, #0\n"
"3:	mul	x4, x3, x5\n"
"	eor	x4, x4, x20\n"
"	ldr	x7, [x2, x3, lsl #3]\n"
"	cmp	x7, x4\n"
"	cinc	x6, x6, ne\n"
"	add	x3, x3, #1\n"
"	cmp	x3, #4096\n"
"	b.lo	3b\n"
"	ldr	x7, [x24, #16]\n"
"	add	x7, x7, x6\n"
"	str	x7, [x24, #16]\n"
"	ldr	x8, [x24]\n"
"	mrs	x1, cntvct_el0\n"
"	add	x1, x1, x26\n"
"	msr	cntv_cval_el0, x1\n"
"	mov	x1, #1\n"
"	msr	cntv_ctl_el0, x1\n"
"	isb\n"
"4:	wfi\n"
"	msr	daifclr, #2\n"
"	isb\n"
"	msr	daifset, #2\n"
"	ldr	x9, [x24]\n"
"	cmp	x9, x8\n"
"	b.eq	4b\n"
"	ldr	x1, [x24, #8]\n"
"	ldr	x2, [x24, #16]\n"
"	add	x1, x1, x2\n"
"	ldr	x2, [x24, #24]\n"
"	add	x1, x1, x2\n"
"	add	x19, x19, #1\n"
"	orr	x1, x19, x1, lsl #32\n"
"	str	x1, [x25]\n"
"	add	x20, x20, #1\n"
"	b	1b\n"
"kvm_guest_irq:\n"
"	stp	x0, x1, [sp, #-32]!\n"
"	stp	x2, x3, [sp, #16]\n"
"	movz	x3, #0x4008, lsl #16\n"
"	mrs	x0, S3_0_C12_C12_0\n"		/* ICC_IAR1_EL1 */
"	cmp	x0, #27\n"
"	b.ne	5f\n"
"	mrs	x1, cntvct_el0\n"
"	mrs	x2, cntv_cval_el0\n"
"	cmp	x1, x2\n"
"	b.hs	6f\n"
"	ldr	x1, [x3, #8]\n"
"	add	x1, x1, #1\n"
"	str	x1, [x3, #8]\n"
"6:	mov	x1, #2\n"			/* IMASK: the level drops */
"	msr	cntv_ctl_el0, x1\n"
"	isb\n"
"	ldr	x1, [x3]\n"
"	add	x1, x1, #1\n"
"	str	x1, [x3]\n"
"	b	7f\n"
"5:	cmp	x0, #1020\n"
"	b.hs	8f\n"
"	ldr	x1, [x3, #24]\n"
"	add	x1, x1, #1\n"
"	str	x1, [x3, #24]\n"
"7:	msr	S3_0_C12_C12_1, x0\n"		/* ICC_EOIR1_EL1 */
"	isb\n"
"8:	ldp	x2, x3, [sp, #16]\n"
"	ldp	x0, x1, [sp], #32\n"
"	eret\n"
"kvm_guest_bad:\n"
"	mrs	x0, esr_el1\n"
"	movz	x1, #0x2000, lsl #16\n"
"	str	x0, [x1, #8]\n"
"	b	kvm_guest_bad\n"
"	.globl	kvm_guest_end\n"
"kvm_guest_end:\n"
"	.popsection\n"
);

extern const char kvm_guest_start[], kvm_guest_end[];

struct kvm_guest {
	int kvm, vm, vcpu, gic;
	struct kvm_run *run;
	size_t run_size;
	void *ram;
};

/* One KVM VM with one vCPU and a vGICv3; 0 or -errno, *what says where. */
static int kvm_guest_create(struct kvm_guest *g, const char **what)
{
	struct kvm_userspace_memory_region mem = {
		.slot = 0, .guest_phys_addr = KG_RAM, .memory_size = KG_RAM_SIZE,
	};
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = KG_GICD, redist = KG_GICR;
	struct kvm_device_attr attr;
	struct kvm_vcpu_init init;
	struct kvm_one_reg reg;
	uint64_t val;
	int n;

	memset(g, 0, sizeof(*g));
	g->kvm = g->vm = g->vcpu = g->gic = -1;
#define KG_TRY(cond, msg) do { if (!(cond)) { *what = (msg); return -errno; } } while (0)
	g->kvm = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	KG_TRY(g->kvm >= 0, "open " KVM_DEV);
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	KG_TRY(g->vm >= 0, "KVM_CREATE_VM");
	g->ram = mmap(NULL, KG_RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KG_TRY(g->ram != MAP_FAILED, "mmap guest RAM");
	memcpy(g->ram, kvm_guest_start, kvm_guest_end - kvm_guest_start);
	mem.userspace_addr = (uintptr_t)g->ram;
	KG_TRY(!ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &mem), "KVM_SET_USER_MEMORY_REGION");

	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	KG_TRY(g->vcpu >= 0, "KVM_CREATE_VCPU");
	KG_TRY(!ioctl(g->vm, KVM_ARM_PREFERRED_TARGET, &init), "KVM_ARM_PREFERRED_TARGET");
	KG_TRY(!ioctl(g->vcpu, KVM_ARM_VCPU_INIT, &init), "KVM_ARM_VCPU_INIT");
	n = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	KG_TRY(n > 0, "KVM_GET_VCPU_MMAP_SIZE");
	g->run_size = n;
	g->run = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	KG_TRY(g->run != MAP_FAILED, "mmap kvm_run");

	KG_TRY(!ioctl(g->vm, KVM_CREATE_DEVICE, &cd), "KVM_CREATE_DEVICE vGICv3");
	g->gic = cd.fd;
	attr = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_ADDR,
		.attr = KVM_VGIC_V3_ADDR_TYPE_DIST, .addr = (uintptr_t)&dist };
	KG_TRY(!ioctl(g->gic, KVM_SET_DEVICE_ATTR, &attr), "vGIC distributor address");
	attr.attr = KVM_VGIC_V3_ADDR_TYPE_REDIST;
	attr.addr = (uintptr_t)&redist;
	KG_TRY(!ioctl(g->gic, KVM_SET_DEVICE_ATTR, &attr), "vGIC redistributor address");
	attr = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_CTRL,
		.attr = KVM_DEV_ARM_VGIC_CTRL_INIT };
	KG_TRY(!ioctl(g->gic, KVM_SET_DEVICE_ATTR, &attr), "vGIC init");

	reg.addr = (uintptr_t)&val;
	val = KG_ENTRY;
	reg.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		 (offsetof(struct kvm_regs, regs.pc) / sizeof(__u32));
	KG_TRY(!ioctl(g->vcpu, KVM_SET_ONE_REG, &reg), "KVM_SET_ONE_REG pc");
	val = KG_STACK_TOP;
	reg.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		 (offsetof(struct kvm_regs, sp_el1) / sizeof(__u32));
	KG_TRY(!ioctl(g->vcpu, KVM_SET_ONE_REG, &reg), "KVM_SET_ONE_REG sp_el1");
#undef KG_TRY
	return 0;
}

static void kvm_guest_free(struct kvm_guest *g)
{
	if (g->run && g->run != MAP_FAILED)
		munmap(g->run, g->run_size);
	if (g->ram && g->ram != MAP_FAILED)
		munmap(g->ram, KG_RAM_SIZE);
	if (g->gic >= 0)
		close(g->gic);
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->vm >= 0)
		close(g->vm);
	if (g->kvm >= 0)
		close(g->kvm);
}

/* What each runner thread reports */
struct runner {
	pthread_t th;
	int cpu;
	volatile int stop;
	int ret;		/* 0, or -errno of a failed call */
	const char *what;	/* where it failed, or what went wrong */
	uint64_t passes, errors, exits;
	uint64_t bad_esr;
	/* one of the two */
	struct kvm_guest kvm;
	struct avcpu_vcpu *vcpu;
};

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void *kvm_runner(void *arg)
{
	struct runner *r = arg;
	struct kvm_run *run = r->kvm.run;

	r->ret = pin(r->cpu);
	while (!r->ret && !r->stop) {
		uint64_t data;

		if (ioctl(r->kvm.vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			r->ret = -errno;
			r->what = "KVM_RUN";
			break;
		}
		r->exits++;
		if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write ||
		    run->mmio.len != 8) {
			r->ret = -EIO;
			r->what = "a KVM exit other than the guest's report";
			break;
		}
		memcpy(&data, run->mmio.data, 8);
		if (run->mmio.phys_addr == KG_REPORT + 8) {
			r->bad_esr = data;
			r->ret = -EIO;
			r->what = "an exception in the KVM guest";
			break;
		}
		r->passes = (uint32_t)data;
		r->errors = data >> 32;
	}
	return NULL;
}

/* avcpu's guest: the same checks, written in C with the test runtime */
#define AV_BUF_GPA	0x30000000ULL
#define AV_BUF_WORDS	4096
static volatile uint64_t av_irqs[2], av_early[2], av_stray[2], av_memerr[2];

static void av_irq_handler(struct ex_regs *regs)
{
	uint64_t id = guest_vcpu_id(), intid = gic_read_iar();

	if (intid == INTID_SPURIOUS)
		return;
	if (intid == INTID_VTIMER) {
		if (read_cntvct() < read_sysreg(cntv_cval_el0))
			av_early[id]++;
		write_sysreg(2UL, cntv_ctl_el0);	/* IMASK */
		isb();
		av_irqs[id]++;
	} else {
		av_stray[id]++;
	}
	gic_write_eoir(intid);
}

static void guest_av_checks(void)
{
	uint64_t id = guest_vcpu_id(), tick = read_cntfrq() / 1000, seed, i;
	volatile uint64_t *buf = (volatile uint64_t *)(AV_BUF_GPA + id * AV_BUF_WORDS * 8);

	gic_cpu_init();
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, av_irq_handler);
	for (seed = 0x4321;; seed++) {
		uint64_t before = av_irqs[id];

		for (i = 0; i < AV_BUF_WORDS; i++)
			buf[i] = (i * 0x9e3779b9ULL) ^ seed ^ (id << 60);
		for (i = 0; i < AV_BUF_WORDS; i++)
			if (buf[i] != ((i * 0x9e3779b9ULL) ^ seed ^ (id << 60)))
				av_memerr[id]++;
		write_sysreg(read_cntvct() + tick, cntv_cval_el0);
		write_sysreg(1UL, cntv_ctl_el0);
		isb();
		while (av_irqs[id] == before) {
			wfi();
			local_irq_enable();
			isb();
			local_irq_disable();
		}
		GUEST_SYNC(av_early[id] + av_stray[id] + av_memerr[id]);
	}
}

static void *av_runner(void *arg)
{
	struct runner *r = arg;
	struct ucall uc;

	r->ret = __vcpu_bind(r->vcpu, r->cpu);
	if (r->ret)
		r->what = "AVCPU_BIND";
	while (!r->ret && !r->stop) {
		r->ret = __vcpu_run(r->vcpu);
		if (r->ret == -EINTR) {
			r->ret = 0;
			continue;
		}
		if (r->ret) {
			r->what = "AVCPU_RUN";
			break;
		}
		r->exits++;
		if (get_ucall(r->vcpu, &uc) != UCALL_SYNC) {
			r->ret = -EIO;
			r->what = "an avcpu exit other than the guest's GUEST_SYNC";
			vcpu_dump_exit(stderr, r->vcpu);
			break;
		}
		r->passes++;
		r->errors = uc.args[0];
	}
	return NULL;
}

static void on_sigusr1(int sig)
{
}

static long run_seconds(void)
{
	const char *s = getenv("AVCPU_KVM_SECONDS");
	long n = s ? strtol(s, NULL, 0) : 0;

	return n > 0 ? n : RUN_SECONDS_DEFAULT;
}

TEST(kvm_and_avcpu_guests_share_the_cpus)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct runner kr[2], ar[2];
	uint64_t last[4] = { 0 };
	struct avcpu_vm *vm;
	const char *what = "";
	long secs = run_seconds();
	double t0, progress, elapsed, floor;
	int i, ret, ncpu;

	AVCPU_REQUIRE_RUN();
	if (access(KVM_DEV, R_OK | W_OK))
		SKIP(return, "no %s: KVM is not enabled on this host", KVM_DEV);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN) < 2 ? 1 : 2;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	memset(kr, 0, sizeof(kr));
	memset(ar, 0, sizeof(ar));
	for (i = 0; i < ncpu; i++) {
		ret = kvm_guest_create(&kr[i].kvm, &what);
		ASSERT_EQ(0, ret) TH_LOG("KVM guest %d: %s: %s", i, what, strerror(-ret));
		kr[i].cpu = i;
	}
	vm = vm_create();
	vm_mem_add(vm, 1, AV_BUF_GPA, 2 * AV_BUF_WORDS * 8, 0);
	for (i = 0; i < ncpu; i++) {
		ar[i].vcpu = vm_vcpu_create(vm, i);
		vcpu_setup(ar[i].vcpu, guest_av_checks, 0);
		ar[i].cpu = i;
	}

	for (i = 0; i < ncpu; i++) {
		ASSERT_EQ(0, pthread_create(&kr[i].th, NULL, kvm_runner, &kr[i]));
		ASSERT_EQ(0, pthread_create(&ar[i].th, NULL, av_runner, &ar[i]));
	}
	/* every guest must keep reporting: 5 s without a pass is a stall */
	t0 = progress = avcpu_now();
	while (avcpu_now() - t0 < secs && avcpu_now() - progress < 5) {
		int moved = 0, failed = 0;

		usleep(100000);
		for (i = 0; i < ncpu; i++) {
			moved += kr[i].passes != last[2 * i] && ar[i].passes != last[2 * i + 1];
			failed |= kr[i].ret || ar[i].ret;
			last[2 * i] = kr[i].passes;
			last[2 * i + 1] = ar[i].passes;
		}
		if (failed)
			break;
		if (moved == ncpu)
			progress = avcpu_now();
	}
	for (i = 0; i < ncpu; i++) {
		kr[i].stop = ar[i].stop = 1;
		pthread_kill(kr[i].th, SIGUSR1);
		pthread_kill(ar[i].th, SIGUSR1);
	}
	for (i = 0; i < ncpu; i++) {
		pthread_join(kr[i].th, NULL);
		pthread_join(ar[i].th, NULL);
	}

	printf("# %.1f s, %d CPUs: KVM guests %llu + %llu passes, avcpu guests %llu + %llu passes; errors %llu %llu %llu %llu\n",
	       avcpu_now() - t0, ncpu,
	       (unsigned long long)kr[0].passes, (unsigned long long)kr[1].passes,
	       (unsigned long long)ar[0].passes, (unsigned long long)ar[1].passes,
	       (unsigned long long)kr[0].errors, (unsigned long long)kr[1].errors,
	       (unsigned long long)ar[0].errors, (unsigned long long)ar[1].errors);
	elapsed = avcpu_now() - t0;
	floor = elapsed * 100 / (avcpu_host_slowdown() > 1 ? avcpu_host_slowdown() : 1);
	for (i = 0; i < ncpu; i++) {
		EXPECT_EQ(0, kr[i].ret) TH_LOG("CPU%d KVM guest: %s: %s (ESR_EL1 0x%llx)", i,
					       kr[i].what, strerror(-kr[i].ret),
					       (unsigned long long)kr[i].bad_esr);
		EXPECT_EQ(0, ar[i].ret) TH_LOG("CPU%d avcpu guest: %s: %s", i,
					       ar[i].what, strerror(-ar[i].ret));
		EXPECT_EQ(0, kr[i].errors) TH_LOG("CPU%d KVM guest: memory or timer errors", i);
		EXPECT_EQ(0, ar[i].errors)
			TH_LOG("CPU%d avcpu guest: %llu early timer, %llu stray, %llu memory", i,
			       (unsigned long long)av_early[i], (unsigned long long)av_stray[i],
			       (unsigned long long)av_memerr[i]);
		/* 1 ms timers: at least a pass per 10 ms each, on a slow host too */
		EXPECT_LT(floor, kr[i].passes) TH_LOG("CPU%d KVM guest stalled", i);
		EXPECT_LT(floor, ar[i].passes) TH_LOG("CPU%d avcpu guest stalled", i);
	}
	vm_free(vm);
	for (i = 0; i < ncpu; i++)
		kvm_guest_free(&kr[i].kvm);
}

TEST_HARNESS_MAIN
