/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avcpu internal interfaces shared by the module's files.
 */
#ifndef __AVCPU_H__
#define __AVCPU_H__

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cpumask.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcuwait.h>
#include <linux/types.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/avcpu.h>
#include <asm/page.h>

/* Largest number of vCPUs in one VM; reported by AVCPU_GET_CAPS. */
#define AVCPU_MAX_VCPUS		64

/*
 * Largest IPA size: a 4K-granule stage-2 walk starting at level 0 covers
 * 48 bits; 52-bit IPAs need FEAT_LPA2 (Arm ARM, DDI 0487: VTCR_EL2.DS),
 * which avcpu does not use.
 */
#define AVCPU_MAX_IPA_BITS	48

/* Which of the controls of struct avcpu_traps this CPU has */
#define AVCPU_FEAT_HCX		BIT(0)	/* HCRX_EL2 (FEAT_HCX) */
#define AVCPU_FEAT_FGT		BIT(1)	/* HFG*TR_EL2, HDFG*TR_EL2 (FEAT_FGT) */
#define AVCPU_FEAT_SCXTNUM	BIT(2)	/* SCXTNUM_EL0/EL1 (FEAT_CSV2_2) */
#define AVCPU_FEAT_RAS		BIT(3)	/* DISR_EL1, as VDISR_EL2 (FEAT_RAS) */
/* PSTATE fields an exception to EL2 changes, which the VHE switch restores */
#define AVCPU_FEAT_PAN		BIT(4)	/* FEAT_PAN */
#define AVCPU_FEAT_UAO		BIT(5)	/* FEAT_UAO */
#define AVCPU_FEAT_DIT		BIT(6)	/* FEAT_DIT */
#define AVCPU_FEAT_SSBS		BIT(7)	/* FEAT_SSBS2: SSBS readable by MRS */
#define AVCPU_FEAT_TCO		BIT(8)	/* FEAT_MTE: PSTATE.TCO */
#define AVCPU_FEAT_FGT2		BIT(9)	/* HFG*TR2_EL2, HDFG*TR2_EL2 (FEAT_FGT2) */
#define AVCPU_FEAT_MPAM		BIT(10)	/* MPAM2_EL2 (FEAT_MPAM) */

/* The fine-grained trap registers, in struct avcpu_traps.fgt[] */
enum avcpu_fgt_idx {
	AVCPU_HFGRTR,
	AVCPU_HFGWTR,
	AVCPU_HFGITR,
	AVCPU_HDFGRTR,
	AVCPU_HDFGWTR,
	/* FEAT_FGT2 */
	AVCPU_HFGRTR2,
	AVCPU_HFGWTR2,
	AVCPU_HFGITR2,
	AVCPU_HDFGRTR2,
	AVCPU_HDFGWTR2,
	AVCPU_NR_FGT,
};

/**
 * struct avcpu_traps - what a guest is allowed, decided once at module load
 * @features: AVCPU_FEAT_*: the controls below this CPU has.
 * @hcr: HCR_EL2 for the guest; the VHE switch adds E2H.
 * @hcrx: HCRX_EL2 for the guest, with AVCPU_FEAT_HCX.
 * @fgt: the fine-grained trap registers, with AVCPU_FEAT_FGT (and their
 *	FEAT_FGT2 second set, with AVCPU_FEAT_FGT2).
 * @mpam2: MPAM2_EL2 for the guest, with AVCPU_FEAT_MPAM.
 * @nr_brps: the CPU's breakpoints, all of them the guest's (and shown).
 * @nr_wrps: the CPU's watchpoints, likewise.
 *
 * sysreg.c computes these next to the ID registers the guest sees, so that
 * what is hidden there is what traps here (design.rst, "System register
 * inventory"). Each vCPU carries a copy: the nVHE switch reaches only the
 * vCPU at EL2.
 */
struct avcpu_traps {
	u64 features;
	u64 hcr;
	u64 hcrx;
	u64 fgt[AVCPU_NR_FGT];
	u64 mpam2;
	u32 nr_brps;
	u32 nr_wrps;
};

/* MPAM2_EL2 trap bits (Arm ARM, DDI 0487, D24.12; no kernel names in 6.12) */
#define AVCPU_MPAM2_TRAPMPAM1EL1	BIT_ULL(48)
#define AVCPU_MPAM2_TRAPMPAM0EL1	BIT_ULL(49)
#define AVCPU_MPAM2_TIDR		BIT_ULL(58)

/* The most breakpoints and watchpoints the architecture allows (16 each) */
#define AVCPU_MAX_BRPS		16
#define AVCPU_MAX_WRPS		16

/* Breakpoint and watchpoint registers, the guest's or the host's */
struct avcpu_debug_regs {
	u64 bvr[AVCPU_MAX_BRPS];
	u64 bcr[AVCPU_MAX_BRPS];
	u64 wvr[AVCPU_MAX_WRPS];
	u64 wcr[AVCPU_MAX_WRPS];
};

/**
 * struct avcpu_debug - the guest's hardware debug state
 * @regs: its breakpoint and watchpoint registers, as it wrote them.
 * @active: load @regs at entry: set once the guest writes one of them or
 *	enables debug in MDSCR_EL1 (hyp/debug-sr.h).
 */
struct avcpu_debug {
	struct avcpu_debug_regs regs;
	u32 active;
};

/**
 * struct avcpu_host - what the host offers, found once at module load
 * @mode: AVCPU_HOST_MODE_VHE or AVCPU_HOST_MODE_NVHE.
 * @pa_bits: host physical address size.
 * @ipa_bits: largest guest IPA size.
 * @vmid_bits: 8 or 16.
 * @gic_version: 0, 3 or 4.
 * @nr_lrs: GIC list registers, 0 when not known.
 * @nr_apr: GIC active priority registers per group (1, 2 or 4).
 * @pri_mask: the priority bits the virtual CPU interface implements.
 * @flags: AVCPU_CAP_F_*.
 * @traps: every guest's trap controls (sysreg.c, avcpu_traps_probe()).
 */
struct avcpu_host {
	u32 mode;
	u32 pa_bits;
	u32 ipa_bits;
	u32 vmid_bits;
	u32 gic_version;
	u32 nr_lrs;
	u32 nr_apr;
	u8 pri_mask;
	u64 gicv_size;		/* GICv2 (vgic-v2.c): AVCPU_SET_GICV's mapping */
	/* VHE: KVM is enabled beside avcpu (design.rst, "Sharing EL2 with KVM") */
	bool with_kvm;
	u64 flags;
	struct avcpu_traps traps;
};

extern struct avcpu_host avcpu_host;

/* A GICv2 host: vgic-v2.c moves the LRs, the guest's GICC is the GICV frame */
static inline bool avcpu_gic_v2(void)
{
	return avcpu_host.gic_version == 2;
}

/* host.c */
int avcpu_host_probe(void);
void avcpu_host_exit(void);
unsigned long avcpu_ksym(const char *name);
void avcpu_host_fill_caps(struct avcpu_caps *caps);
u64 avcpu_pa_range_enc(u32 bits);

/* mitigations.c */
void avcpu_mitigations_probe(void);

/* stub.S: "hvc #0" with the hyp-stub calling convention */
unsigned long avcpu_stub_hvc(unsigned long x0, unsigned long x1);
extern const u32 avcpu_stub_hvc_insn[];
unsigned long avcpu_hvc(unsigned long x0, unsigned long x1, unsigned long x2,
			unsigned long x3, unsigned long x4, unsigned long x5,
			unsigned long x6, unsigned long x7);

/*
 * Guest EL1 (and EL0) system registers the world switch carries. The same
 * list, in the same order, describes the host's copy that is saved while a
 * guest runs (hyp/sysreg-sr.h).
 */
enum avcpu_sysreg_idx {
	AVCPU_SCTLR_EL1,
	AVCPU_CPACR_EL1,
	AVCPU_TTBR0_EL1,
	AVCPU_TTBR1_EL1,
	AVCPU_TCR_EL1,
	AVCPU_ESR_EL1,
	AVCPU_AFSR0_EL1,
	AVCPU_AFSR1_EL1,
	AVCPU_FAR_EL1,
	AVCPU_MAIR_EL1,
	AVCPU_AMAIR_EL1,
	AVCPU_VBAR_EL1,
	AVCPU_CONTEXTIDR_EL1,
	AVCPU_CNTKCTL_EL1,
	AVCPU_CNTV_CTL_EL0,
	AVCPU_CNTV_CVAL_EL0,
	AVCPU_ELR_EL1,
	AVCPU_SPSR_EL1,
	AVCPU_SP_EL1,
	AVCPU_TPIDR_EL1,
	AVCPU_TPIDR_EL0,
	AVCPU_TPIDRRO_EL0,
	AVCPU_PAR_EL1,
	AVCPU_CSSELR_EL1,
	/* only where the CPU has FEAT_CSV2_2 (AVCPU_FEAT_SCXTNUM) */
	AVCPU_SCXTNUM_EL0,
	AVCPU_SCXTNUM_EL1,
	/*
	 * only with FEAT_RAS (AVCPU_FEAT_RAS): the guest's DISR_EL1, which
	 * with HCR_EL2.AMO set is VDISR_EL2 and has no trap
	 */
	AVCPU_DISR_EL1,
	AVCPU_NR_SWITCHED,	/* the ones above are loaded into the CPU */
	/*
	 * The EL1 physical timer: loaded only with
	 * AVCPU_SETUP_PASSTHROUGH_TIMER, emulated otherwise (timer.c).
	 */
	AVCPU_CNTP_CTL_EL0 = AVCPU_NR_SWITCHED,
	AVCPU_CNTP_CVAL_EL0,
	/* emulated: never loaded, trapped accesses read and write these */
	AVCPU_MDSCR_EL1,
	AVCPU_OSLSR_EL1,
	AVCPU_OSDLR_EL1,
	AVCPU_DBGPRCR_EL1,
	AVCPU_NR_SYSREGS,
};

/* FP/SIMD state, in the layout hyp/fpsimd.S saves and loads. */
struct avcpu_fpsimd {
	__uint128_t v[32];
	u64 fpsr;
	u64 fpcr;
};

/* ICH_VTR_EL2.ListRegs can say at most 16 (GICv3, 12.4.10 in IHI 0069) */
#define AVCPU_MAX_LRS		16

/**
 * struct avcpu_vgic_cpu - the guest's GICv3 virtual CPU interface
 * @lr: ICH_LR<n>_EL2; loaded at entry (all @nr_lrs of them), the first
 *	@used_lrs saved at exit.
 * @ap0r: ICH_AP0R<n>_EL2, @nr_apr of them.
 * @ap1r: ICH_AP1R<n>_EL2.
 * @vmcr: ICH_VMCR_EL2: the guest's PMR, BPRs, group enables.
 * @hcr: ICH_HCR_EL2 to load; at exit, the value it had (EOIcount).
 * @used_lrs: LRs vgic.c filled for this entry.
 * @nr_lrs: the CPU's list registers.
 * @nr_apr: the CPU's active priority registers per group.
 *
 * Part of struct avcpu_ctx: everything the world switch needs is there, so
 * a mode whose EL2 code maps only the context can reach it.
 */
struct avcpu_vgic_cpu {
	u64 lr[AVCPU_MAX_LRS];
	u64 ap0r[4];
	u64 ap1r[4];
	u64 vmcr;
	u64 hcr;
	u32 used_lrs;
	u32 nr_lrs;
	u32 nr_apr;
};

/*
 * The guest's register context. hyp/entry.S saves and loads x[] through
 * hpfar at the offsets hyp/offsets.c generates; pc and pstate, esr and far
 * are pairs it moves with one LDP/STP (checked there).
 */
struct avcpu_ctx {
	u64 x[31];
	u64 sp_el0;
	u64 pc;		/* ELR_EL2 */
	u64 pstate;	/* SPSR_EL2 */
	u64 esr;	/* ESR_EL2, FAR_EL2, HPFAR_EL2 of the last exit */
	u64 far;
	u64 hpfar;
	u64 sys[AVCPU_NR_SYSREGS];
	u64 cntvoff;	/* CNTVOFF_EL2: the VM's, copied at each entry */
	struct avcpu_traps traps;
	struct avcpu_debug debug;
	struct avcpu_vgic_cpu vgic;
	struct avcpu_fpsimd fp __aligned(16);
};

/*
 * What hyp/entry.S returns: which vector the guest left through, or
 * AVCPU_EXC_EL2 after an unexpected exception at EL2 itself (the vCPU's
 * state is lost: it becomes INVALID).
 */
#define AVCPU_EXC_SYNC		0
#define AVCPU_EXC_IRQ		1
#define AVCPU_EXC_FIQ		2
#define AVCPU_EXC_SERROR	3
#define AVCPU_EXC_EL2		4

/* What avcpu_*_run() returns instead when the guest was not entered */
#define AVCPU_ENTER_WRONG_CPU	(-1)	/* the thread is not on the vCPU's CPU */
#define AVCPU_ENTER_NO_EL2	(-2)	/* nVHE: EL2 lost, not taken back */

/*
 * Syndrome of the last exit, read at EL2 right after it; after an
 * AVCPU_EXC_EL2, that of the exception at EL2 (@elr: where it was taken).
 */
struct avcpu_exit_info {
	u64 esr;
	u64 far;
	u64 hpfar;
	u64 elr;
};

/* What the next RUN must finish for the last exit (set_return_value). */
enum avcpu_pending {
	AVCPU_PENDING_NONE,
	AVCPU_PENDING_STEP,		/* step past the instruction */
	AVCPU_PENDING_LOAD,		/* write ret into a register, step */
	AVCPU_PENDING_X0,		/* x0 = ret, no step (HVC) */
	AVCPU_PENDING_X0_STEP,		/* x0 = ret, step (trapped SMC) */
};

struct avcpu_vm;

/* struct avcpu_vcpu.in_guest */
#define AVCPU_OUTSIDE_GUEST	0
#define AVCPU_IN_GUEST		1
#define AVCPU_KICKED		2	/* an IPI is on its way to end the guest */

/**
 * struct avcpu_virq - one interrupt of a vCPU, as vgic.c keeps it
 * @priority: 0 highest.
 * @cfg: AVCPU_IRQ_ENABLED, AVCPU_IRQ_GROUP1, AVCPU_IRQ_LEVEL.
 * @st: AVCPU_VIRQ_* below.
 */
struct avcpu_virq {
	u8 priority;
	u8 cfg;
	u8 st;
};

#define AVCPU_VIRQ_LATCH	BIT(0)	/* edge seen, or made pending by SET_IRQ */
#define AVCPU_VIRQ_ACTIVE	BIT(1)
#define AVCPU_VIRQ_LINE		BIT(2)	/* the VMM's input is high */
#define AVCPU_VIRQ_TLINE	BIT(3)	/* a timer's output is high */
#define AVCPU_VIRQ_DIRTY	BIT(4)	/* SET_IRQ changed it under the guest */

/**
 * struct avcpu_vgic - a vCPU's interrupts (vgic.c)
 * @lock: protects everything here; taken from any thread and from the
 *	timers' hrtimer callbacks, and with IRQs off around guest entry.
 * @nr_irqs: the VM's, fixed when the vCPU is created.
 * @irq: per INTID.
 * @live: bit n set when INTID n is pending or active: what entry scans.
 * @lr_intid: the INTID in each LR loaded for the current entry.
 * @lr_latched: that LR took its pending state from AVCPU_VIRQ_LATCH.
 * @lr_src: GICv2: the source CPU of the SGI in each LR.
 * @sgi_src: GICv2: per SGI, the CPUs it is pending from (one bit each;
 *	AVCPU_VIRQ_LATCH is set while any is).
 * @sgi_act: GICv2: per SGI, the CPU its active instance came from.
 */
struct avcpu_vgic {
	raw_spinlock_t lock;
	u32 nr_irqs;
	struct avcpu_virq *irq;
	unsigned long *live;
	u16 lr_intid[AVCPU_MAX_LRS];
	bool lr_latched[AVCPU_MAX_LRS];
	u8 lr_src[AVCPU_MAX_LRS];
	u8 sgi_src[16];
	u8 sgi_act[16];
};

/*
 * Counters of one vCPU (struct avcpu_stats in the uapi): atomic, since
 * injections are counted by whichever thread raises them.
 */
struct avcpu_vcpu_stats {
	atomic64_t exits[AVCPU_STATS_EXIT_REASONS];
	atomic64_t entries;
	atomic64_t kernel_exits;
	atomic64_t wfi_sleeps;
	atomic64_t ioeventfd_signals;
	atomic64_t irqfd_injections;
	atomic64_t kernel_sgis;
	atomic64_t injections;
	atomic64_t coalesced_mmio;
	atomic64_t stage2_faults;
};

/* Who raised an interrupt (the avcpu_inject tracepoint's source). */
enum avcpu_inject_src {
	AVCPU_INJECT_SRC_IOCTL,		/* INJECT_IRQ */
	AVCPU_INJECT_SRC_IRQFD,
	AVCPU_INJECT_SRC_SGI,		/* in-kernel SGI delivery */
	AVCPU_INJECT_SRC_TIMER,		/* a guest timer's line */
};

/* INTIDs 1020-1023 are special (IHI 0069, 2.2.1) and are never injected. */
#define AVCPU_INTID_LIMIT	1020

/**
 * struct avcpu_vcpu - one vCPU
 * @vm: the VM, referenced.
 * @id: vcpu_id.
 * @mpidr: the guest's MPIDR_EL1 (with bit 31).
 * @mutex: serialises the vCPU's ioctls; RUN holds it while the guest runs.
 * @state: AVCPU_STATE_*; written under @mutex, read locklessly by PSCI.
 * @powered_off: PSCI CPU_OFF seen, cleared by SETUP.
 * @flags: SETUP flags.
 * @cpu: the physical CPU it is bound to.
 * @owner: the binding thread.
 * @saved_mask: @owner's affinity before BIND.
 * @run: the run page.
 * @ctx: the guest registers.
 * @exit: syndrome of the last exit.
 * @pending: what RUN must complete first.
 * @pending_reg: the register of a pending load.
 * @pending_width: its access width in bytes.
 * @pending_sign: sign-extend the load.
 * @pending_reg64: the register is 64-bit (else its top half is cleared).
 * @vgic: its interrupts.
 * @in_guest: AVCPU_IN_GUEST with IRQs off from just before the guest's
 *	state is loaded, AVCPU_OUTSIDE_GUEST after the exit: whoever makes an
 *	interrupt pending meanwhile kicks the CPU, and marks it
 *	AVCPU_KICKED so that one IPI serves.
 * @run_task: the thread inside RUN, NULL outside (read under RCU).
 * @wait: where a WFI sleeps; an rcuwait, not a wait queue, because the
 *	hard-IRQ hrtimers below wake it, and on PREEMPT_RT a wait queue's lock
 *	sleeps (KVM's vCPUs block on an rcuwait for the same reason).
 * @vtimer: wakes a WFI at the virtual timer's deadline.
 * @ptimer: the emulated EL1 physical timer; with the passthrough timer,
 *	wakes a WFI at its deadline.
 * @stats: counters for GET_STATS. Last, after everything EL2 reads.
 */
struct avcpu_vcpu {
	struct avcpu_vm *vm;
	u32 id;
	u64 mpidr;
	struct mutex mutex;	/* serialises the vCPU's ioctls */
	int state;
	bool powered_off;
	u64 flags;
	int cpu;
	struct pid *owner;
	cpumask_var_t saved_mask;
	struct avcpu_run *run;
	struct avcpu_ctx ctx;
	struct avcpu_exit_info exit;
	enum avcpu_pending pending;
	u8 pending_reg;
	u8 pending_width;
	bool pending_sign;
	bool pending_reg64;
	struct avcpu_vgic vgic;
	int in_guest;
	struct task_struct *run_task;
	struct rcuwait wait;
	/* bumped by every kick: what a vCPU polling in WFI watches */
	unsigned int kick_seq;
	struct hrtimer vtimer;
	struct hrtimer ptimer;
	struct avcpu_vcpu_stats stats;
};

/**
 * struct avcpu_slot - one guest memory region
 * @gpa: first guest physical address.
 * @size: bytes; 0 when the slot is free.
 * @uaddr: the VMM's address of @gpa.
 * @flags: AVCPU_MEM_*.
 */
struct avcpu_slot {
	u64 gpa;
	u64 size;
	u64 uaddr;
	u64 flags;
};

/* Descriptor bits common to stage 1 and stage 2 (D8.3 "Descriptor formats") */
#define AVCPU_PTE_VALID		BIT(0)
#define AVCPU_PTE_TABLE		BIT(1)	/* table at levels 0-2, page at 3 */
#define AVCPU_PTE_ADDR		GENMASK_ULL(47, PAGE_SHIFT)

/**
 * struct avcpu_pgtable - a translation table in the host's granule (pgtable.c)
 * @root: the start level's table, or its concatenated tables.
 * @root_order: page order of @root.
 * @start_level: the level the walk starts at (0 to 3).
 * @ia_bits: input-address bits.
 * @gfp: allocation flags of every table.
 */
struct avcpu_pgtable {
	u64 *root;
	unsigned int root_order;
	int start_level;
	unsigned int ia_bits;
	gfp_t gfp;
};

/**
 * struct avcpu_vm - one VM
 * @kref: one reference per fd (the VM's and each vCPU's).
 * @mm: the creating process; only it may use the VM.
 * @lock: serialises VM ioctls and vCPU creation/removal.
 * @mmu_lock: protects @slots and the stage-2 tables.
 * @slots: memory regions.
 * @s2: stage-2 tables.
 * @vmid: the VM's VMID.
 * @s2_gen: unique per VM, to tell stage-2 tables apart where VMs share
 *          VMID 0 (beside KVM).
 * @vttbr: VTTBR_EL2 value.
 * @s2_pinned: guest pages pinned (and charged to @mm's locked memory).
 * @vtcr: VTCR_EL2 value.
 * @vcpus: by vcpu_id.
 * @nr_irqs: INTIDs the VMM's interrupt controller implements.
 * @vcpu_created: a vCPU was created: @nr_irqs is fixed.
 * @cntvoff: CNTVOFF_EL2 for every vCPU.
 * @fd_lock: serialises binding and unbinding eventfds.
 * @ioeventfds: doorbells (eventfd.c); read under RCU by the vCPUs.
 * @irqfds: interrupt eventfds (eventfd.c).
 * @kernel_sgi: AVCPU_VM_CAP_KERNEL_SGI is on.
 * @cmmio_lock: the coalesced MMIO zones and ring, against the vCPUs.
 * @czones: coalesced MMIO zones (coalesced.c); changed under @fd_lock too.
 * @nr_czones: how many.
 * @cring: the coalesced MMIO ring page, once needed.
 * @cring_last: where the kernel writes the ring's next entry.
 * @gone: the counters of vCPUs already closed, for the VM's GET_STATS.
 */
/* A coalesced MMIO zone (AVCPU_COALESCED_MMIO) */
struct avcpu_czone {
	u64 addr;
	u32 size;
};

#define AVCPU_MAX_CZONES	16

struct avcpu_vm {
	struct kref kref;
	struct mm_struct *mm;
	struct mutex lock;	/* VM ioctls, vcpus[] */
	struct mutex mmu_lock;	/* slots[], stage-2 tables */
	struct avcpu_slot slots[AVCPU_MAX_MEM_SLOTS];
	struct avcpu_pgtable s2;
	u32 vmid;
	u64 s2_gen;
	u64 vttbr;
	u64 vtcr;
	u64 s2_pinned;		/* mmu_lock */
	struct avcpu_vcpu *vcpus[AVCPU_MAX_VCPUS];
	u32 nr_irqs;
	bool vcpu_created;
	u64 cntvoff;
	struct mutex fd_lock;	/* changes to ioeventfds, irqfds */
	struct list_head ioeventfds;
	struct list_head irqfds;
	bool kernel_sgi;
	u64 gicv_ipa;		/* AVCPU_SET_GICV (vm->lock); size 0: unset */
	u64 gicv_size;
	spinlock_t cmmio_lock;	/* czones[] and the ring, against the vCPUs */
	struct avcpu_czone czones[AVCPU_MAX_CZONES];
	unsigned int nr_czones;
	struct avcpu_coalesced_ring *cring;
	u32 cring_last;
	struct avcpu_vcpu_stats gone;
};

/* main.c */
extern const struct file_operations avcpu_vm_fops;
extern const struct file_operations avcpu_vcpu_fops;

/* vm.c */
int avcpu_create_vm(void);
void avcpu_vm_put(struct avcpu_vm *vm);
struct avcpu_slot *avcpu_find_slot(struct avcpu_vm *vm, u64 gpa);

/* vcpu.c */
int avcpu_create_vcpu(struct avcpu_vm *vm, struct avcpu_vcpu_init *init);

/*
 * Linux 6.3 made vma->vm_flags read-only, to be changed through
 * vm_flags_set() (kmod/Kbuild's feature test sets AVCPU_HAVE_VM_FLAGS_SET).
 */
static inline void avcpu_vm_flags_set(struct vm_area_struct *vma,
				      vm_flags_t flags)
{
#ifdef AVCPU_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* coalesced.c */
int avcpu_coalesced_mmio(struct avcpu_vm *vm, void __user *argp);
bool avcpu_coalesced_write(struct avcpu_vcpu *vcpu, u64 addr, unsigned int len,
			   u64 data);
int avcpu_coalesced_mmap(struct avcpu_vm *vm, struct vm_area_struct *vma);
void avcpu_coalesced_release(struct avcpu_vm *vm);

/* eventfd.c */
int avcpu_ioeventfd(struct avcpu_vm *vm, void __user *argp);
bool avcpu_ioeventfd_write(struct avcpu_vm *vm, u64 addr, u32 len, u64 data);
int avcpu_irqfd(struct avcpu_vm *vm, void __user *argp);
void avcpu_eventfd_release(struct avcpu_vm *vm);

/* stats.c */
void avcpu_stats_add(struct avcpu_vcpu_stats *to, struct avcpu_vcpu_stats *from);
int avcpu_stats_copy(struct avcpu_vcpu_stats *k, void __user *argp);
int avcpu_vm_get_stats(struct avcpu_vm *vm, void __user *argp);

/* pgtable.c */
int avcpu_pgt_init(struct avcpu_pgtable *pgt, unsigned int ia_bits,
		   bool concat, gfp_t gfp);
u64 *avcpu_pgt_walk(struct avcpu_pgtable *pgt, u64 addr, bool alloc);
void avcpu_pgt_destroy(struct avcpu_pgtable *pgt, void (*leaf)(u64 desc));
u64 avcpu_pgt_skip(struct avcpu_pgtable *pgt, u64 addr);

/* stage2.c */
int avcpu_stage2_init(struct avcpu_vm *vm);
void avcpu_stage2_destroy(struct avcpu_vm *vm);
int avcpu_stage2_unmap(struct avcpu_vm *vm, u64 gpa, u64 size);
int avcpu_stage2_map_page(struct avcpu_vm *vm, u64 ipa, bool *mapped);
int avcpu_stage2_map_device(struct avcpu_vm *vm, u64 ipa, phys_addr_t pa, u64 size);
void avcpu_vmid_exit(void);

/* exit.c: past the trapped instruction (2 or 4 bytes, T32 IT state) */
void avcpu_step(struct avcpu_vcpu *vcpu);
/* exit.c: >0 re-enter, 0 return to userspace, <0 error */
int avcpu_handle_exit(struct avcpu_vcpu *vcpu, int code);
void avcpu_complete_exit(struct avcpu_vcpu *vcpu);

/* mmio.c */
int avcpu_handle_mmio(struct avcpu_vcpu *vcpu, u64 ipa);

/* sysreg.c */
int avcpu_handle_sysreg(struct avcpu_vcpu *vcpu);
int avcpu_sysreg_index(u32 encoding);
int avcpu_sysreg_user(struct avcpu_vcpu *vcpu, u32 enc, bool set, u64 *val);
void avcpu_reset_sysregs(struct avcpu_vcpu *vcpu);
void avcpu_traps_probe(void);

/* hostirq.c: the host's per-CPU interrupts avcpu takes */
enum avcpu_host_irq {
	AVCPU_HIRQ_VTIMER,	/* EL1 virtual timer, PPI 27 on Arm boards */
	AVCPU_HIRQ_PTIMER,	/* EL1 physical timer: VHE hosts only */
	AVCPU_HIRQ_MAINT,	/* GIC maintenance interrupt */
	AVCPU_NR_HIRQS,
};

int avcpu_hirq_init(void);
#ifdef CONFIG_ACPI
struct acpi_madt_generic_interrupt;
int avcpu_madt_gicc(size_t need,
		    bool (*fn)(const struct acpi_madt_generic_interrupt *gicc, void *arg),
		    void *arg);
#endif
void avcpu_hirq_request(enum avcpu_host_irq i, irq_handler_t fn,
			const char *name);
int avcpu_hirq_start(void);
void avcpu_hirq_exit(void);
void avcpu_hirq_mask(enum avcpu_host_irq i, bool mask);
void avcpu_hirq_forget(void);
bool avcpu_hirq_is(enum avcpu_host_irq i, int irq);

/* vgic.c */
void avcpu_vgic_module_init(void);
int avcpu_vgic_init(struct avcpu_vcpu *vcpu);
void avcpu_vgic_destroy(struct avcpu_vcpu *vcpu);
void avcpu_vgic_flush(struct avcpu_vcpu *vcpu);
void avcpu_vgic_sync(struct avcpu_vcpu *vcpu);
void avcpu_vgic_set_tline(struct avcpu_vcpu *vcpu, u32 intid, bool level);
bool avcpu_vgic_tline(struct avcpu_vcpu *vcpu, u32 intid);
bool avcpu_vgic_wfi_pending(struct avcpu_vcpu *vcpu);
int avcpu_vgic_ioctl(struct avcpu_vcpu *vcpu, unsigned int cmd,
		     void __user *argp);
void avcpu_vgic_raise(struct avcpu_vcpu *vcpu, u32 intid, enum avcpu_inject_src src);
void avcpu_vgic_raise_sgi(struct avcpu_vcpu *vcpu, u32 intid, u32 source,
			  enum avcpu_inject_src src);

/* vgic-v2.c */
int avcpu_gicv2_probe(void);
void avcpu_gicv2_exit(void);
phys_addr_t avcpu_gicv2_gicv_phys(void);
void avcpu_gicv2_load(struct avcpu_vgic_cpu *c, const u8 *src);
void avcpu_gicv2_save(struct avcpu_vgic_cpu *c);
void avcpu_vgic_host_init(u64 ich_vtr);
int avcpu_sgi_exit(struct avcpu_vcpu *vcpu, u64 val, u64 flags);

/* timer.c */
#define AVCPU_INTID_VTIMER	27
#define AVCPU_INTID_PTIMER	30
int avcpu_timer_module_init(void);
void avcpu_timer_vcpu_init(struct avcpu_vcpu *vcpu);
void avcpu_timer_vcpu_destroy(struct avcpu_vcpu *vcpu);
void avcpu_timer_load(struct avcpu_vcpu *vcpu);
void avcpu_timer_sync(struct avcpu_vcpu *vcpu);
void avcpu_ptimer_program(struct avcpu_vcpu *vcpu);
void avcpu_timer_wfi_arm(struct avcpu_vcpu *vcpu);
bool avcpu_timer_wfi_due(struct avcpu_vcpu *vcpu);
void avcpu_timer_wfi_disarm(struct avcpu_vcpu *vcpu);
bool avcpu_ptimer_access(struct avcpu_vcpu *vcpu, u32 enc, bool read,
			 u64 *val);

/* vcpu.c: the RUN loop's neighbours */
void avcpu_vcpu_kick(struct avcpu_vcpu *vcpu);
int avcpu_vcpu_wfi(struct avcpu_vcpu *vcpu);

/* psci.c */
int avcpu_handle_smccc(struct avcpu_vcpu *vcpu, u32 conduit, u16 imm);

/* inject.c */
void avcpu_inject_undef(struct avcpu_vcpu *vcpu);
void avcpu_inject_abort(struct avcpu_vcpu *vcpu, bool iabt, u32 fsc);

/* hyp: the world switch; called with IRQs off, returns AVCPU_EXC_* */
int avcpu_vhe_run(struct avcpu_vcpu *vcpu);
void avcpu_vhe_flush_vmid(struct avcpu_vm *vm);

/* nvhe.c: avcpu's EL2 on nVHE hosts */
int avcpu_nvhe_init(void);
void avcpu_nvhe_exit(void);
int avcpu_nvhe_run(struct avcpu_vcpu *vcpu);
int avcpu_nvhe_flush_vmid(struct avcpu_vm *vm);
void avcpu_nvhe_read_ich_vtr(void);
int avcpu_nvhe_map_vcpu(struct avcpu_vcpu *vcpu);
int avcpu_nvhe_unmap_vcpu(struct avcpu_vcpu *vcpu);
struct dentry;
void avcpu_nvhe_debugfs(struct dentry *dir);

/* Register n as an instruction names it: 31 reads as zero. */
static inline u64 avcpu_get_reg(struct avcpu_vcpu *vcpu, unsigned int n)
{
	return n == 31 ? 0 : vcpu->ctx.x[n];
}

static inline void avcpu_set_reg(struct avcpu_vcpu *vcpu, unsigned int n,
				 u64 val)
{
	if (n != 31)
		vcpu->ctx.x[n] = val;
}

/* Write an exit to the run page; ret starts at 0 for the VMM's answer. */
static inline void avcpu_set_exit(struct avcpu_vcpu *vcpu, u32 reason)
{
	vcpu->run->exit_reason = reason;
	vcpu->run->ret = 0;
}

#endif /* __AVCPU_H__ */
