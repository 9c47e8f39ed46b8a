/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * avcpu: a loadable hypervisor module for AArch64 hosts booted at EL2.
 *
 * This is the only header shared by the module and userspace. Every
 * structure is made of fixed-size types with explicit padding and reserved
 * fields, so its layout is the same for every ABI. Documentation/api.rst
 * describes every ioctl, field and error code.
 */
#ifndef _UAPI_LINUX_AVCPU_H
#define _UAPI_LINUX_AVCPU_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Version of the ioctl interface. It is bumped on every incompatible change;
 * additions are announced through struct avcpu_caps instead.
 */
#define AVCPU_API_VERSION	1

/* ioctl type byte; 0xAF 0x80-0xBF is unused in ioctl-number.rst. */
#define AVCPUIO			0xAF

/* How the host kernel relates to EL2 (struct avcpu_caps.host_mode). */
#define AVCPU_HOST_MODE_VHE	1	/* kernel runs at EL2 (HCR_EL2.E2H=1) */
#define AVCPU_HOST_MODE_NVHE	2	/* kernel at EL1, EL2 held by hyp stub */

/* struct avcpu_caps.flags */
#define AVCPU_CAP_F_GIC_SYSREG	_BITULL(0)	/* GICv3 CPU interface sysregs */
#define AVCPU_CAP_F_NR_LRS	_BITULL(1)	/* nr_lrs is known */
#define AVCPU_CAP_F_RUN		_BITULL(2)	/* this host can run guests */
/* INJECT_IRQ, GET/SET_IRQ, the timers and WFI blocking are there */
#define AVCPU_CAP_F_IRQ		_BITULL(3)
/* IOEVENTFD, IRQFD, ENABLE_CAP (KERNEL_SGI), GET_STATS, the tracepoints */
#define AVCPU_CAP_F_FAST_PATHS	_BITULL(4)
/* COALESCED_MMIO and the VM fd's ring page */
#define AVCPU_CAP_F_COALESCED_MMIO _BITULL(5)

/**
 * struct avcpu_caps - what this host and module can do (AVCPU_GET_CAPS)
 * @api_version: AVCPU_API_VERSION of the running module.
 * @host_mode: AVCPU_HOST_MODE_*.
 * @pa_bits: physical address size of the host (ID_AA64MMFR0_EL1.PARange).
 * @ipa_bits: largest guest physical address size a VM may use.
 * @max_vcpus: largest number of vCPUs in one VM.
 * @vmid_bits: width of a VMID (8 or 16).
 * @gic_version: 3 or 4 when the CPUs have the GICv3/v4 system register
 *	interface; 2 on a GICv2 host whose GIC has the virtualization
 *	extensions (GICH and GICV frames, found in the device tree or the
 *	MADT); 0 when avcpu found neither.
 * @nr_lrs: number of GIC list registers (ICH_VTR_EL2.ListRegs + 1 on
 *	GICv3, GICH_VTR.ListRegs + 1 on GICv2) when AVCPU_CAP_F_NR_LRS is
 *	set, 0 otherwise.
 * @flags: AVCPU_CAP_F_*.
 * @gicv_size: GICv2 hosts: bytes AVCPU_SET_GICV maps at the guest's
 *	GICC address (the 8K CPU interface rounded up to the host's page
 *	size), which is also the alignment it needs; 0 on other hosts.
 * @reserved: zero.
 *
 * Every field is written by the kernel (out).
 */
struct avcpu_caps {
	__u32 api_version;
	__u32 host_mode;
	__u32 pa_bits;
	__u32 ipa_bits;
	__u32 max_vcpus;
	__u32 vmid_bits;
	__u32 gic_version;
	__u32 nr_lrs;
	__u64 flags;
	__u64 gicv_size;
	__u64 reserved[6];
};

/* ioctls on /dev/avcpu */
#define AVCPU_GET_API_VERSION	_IO(AVCPUIO, 0x80)
#define AVCPU_GET_CAPS		_IOR(AVCPUIO, 0x81, struct avcpu_caps)
/* Returns a new VM fd; the argument must be 0. */
#define AVCPU_CREATE_VM		_IO(AVCPUIO, 0x82)
/* Returns the size to mmap from a vCPU fd for its struct avcpu_run. */
#define AVCPU_GET_VCPU_MMAP_SIZE _IO(AVCPUIO, 0x83)

/*
 * VM fd
 */

/* Most memory regions (slots) in one VM. */
#define AVCPU_MAX_MEM_SLOTS	32

/* struct avcpu_mem_region.flags */
#define AVCPU_MEM_READONLY	_BITULL(0)	/* guest writes exit as MMIO */

/**
 * struct avcpu_mem_region - guest RAM backed by the VMM's memory
 * @slot: 0 .. AVCPU_MAX_MEM_SLOTS - 1 (in).
 * @reserved0: zero (in).
 * @flags: AVCPU_MEM_* (in).
 * @guest_phys_addr: first guest physical address, page aligned (in).
 * @memory_size: bytes, page aligned; 0 deletes the slot (in).
 * @userspace_addr: the VMM's mapping of the memory, page aligned (in).
 * @reserved: zero (in).
 */
struct avcpu_mem_region {
	__u32 slot;
	__u32 reserved0;
	__u64 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 reserved[3];
};

/**
 * struct avcpu_vcpu_init - the seed's CreateConfig
 * @vcpu_id: 0 .. avcpu_caps.max_vcpus - 1, unique in the VM (in).
 * @flags: zero (in).
 * @mpidr: the guest's MPIDR_EL1 affinity fields Aff3..Aff0; other bits
 *	must be zero (the module sets bit 31, RES1) (in).
 * @reserved: zero (in).
 */
struct avcpu_vcpu_init {
	__u32 vcpu_id;
	__u32 flags;
	__u64 mpidr;
	__u64 reserved[4];
};

#define AVCPU_SET_MEMORY_REGION	_IOW(AVCPUIO, 0x90, struct avcpu_mem_region)
/* Returns a new vCPU fd. */
#define AVCPU_CREATE_VCPU	_IOW(AVCPUIO, 0x91, struct avcpu_vcpu_init)

/*
 * How many INTIDs the VMM's interrupt controller implements: the 32 SGIs
 * and PPIs plus its SPIs. The argument is the count, a multiple of 32 from
 * 64 to 1024 (INTIDs 1020-1023 are special and are refused anyway).
 * Default AVCPU_DEFAULT_NR_IRQS. Only before the first CREATE_VCPU (EBUSY
 * after).
 */
#define AVCPU_SET_NR_IRQS	_IO(AVCPUIO, 0x92)
#define AVCPU_DEFAULT_NR_IRQS	256
#define AVCPU_MAX_NR_IRQS	1024

/**
 * struct avcpu_counter_offset - the VM's virtual counter offset
 * @offset: CNTVOFF_EL2 for every vCPU of the VM: the guest's CNTVCT_EL0
 *	reads CNTPCT_EL0 - @offset. A new VM's offset is the physical count
 *	at its creation, so its virtual counter starts near 0.
 * @reserved: zero.
 */
struct avcpu_counter_offset {
	__u64 offset;
	__u64 reserved[3];
};

#define AVCPU_GET_COUNTER_OFFSET _IOR(AVCPUIO, 0x93, struct avcpu_counter_offset)
/* Takes effect at each vCPU's next guest entry; running vCPUs are kicked. */
#define AVCPU_SET_COUNTER_OFFSET _IOW(AVCPUIO, 0x94, struct avcpu_counter_offset)

/**
 * struct avcpu_ioeventfd - bind a guest-physical doorbell to an eventfd
 * @addr: guest-physical address of the doorbell (in).
 * @len: access size that rings it: 1, 2, 4 or 8 (in). The guest's store
 *	must be exactly @len bytes at exactly @addr.
 * @fd: an eventfd (in). A guest store that rings the doorbell signals it
 *	and the guest goes on without an exit to userspace.
 * @flags: AVCPU_IOEVENTFD_* (in).
 * @datamatch: with AVCPU_IOEVENTFD_DATAMATCH, only a store of this value
 *	rings it (in); zero otherwise.
 * @reserved: zero.
 *
 * The range must lie outside every memory slot (a store to RAM never
 * exits), and one (@addr, @len, @datamatch) rings at most one eventfd:
 * EEXIST otherwise. Stores that ring nothing exit as MMIO_WRITE as before;
 * loads always exit. Released when the VM is (its last fd closes).
 */
struct avcpu_ioeventfd {
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 flags;
	__u32 reserved0;
	__u64 datamatch;
	__u64 reserved[2];
};

#define AVCPU_IOEVENTFD_DATAMATCH	_BITULL(0)
#define AVCPU_IOEVENTFD_DEASSIGN	_BITULL(1)	/* remove the binding */

/**
 * struct avcpu_irqfd - raise a guest interrupt when an eventfd is signalled
 * @fd: an eventfd (in).
 * @vcpu_id: the vCPU whose interrupt it is (in): for an SPI, the vCPU the
 *	VMM's distributor routes it to (re-bind when the guest re-routes).
 * @intid: the INTID (in): SGI, PPI or SPI below the VM's nr_irqs.
 * @flags: AVCPU_IRQFD_* (in).
 * @reserved: zero.
 *
 * Each signal is one raise of the line, as INJECT_IRQ with level 1: an
 * edge-triggered interrupt becomes pending once; for a level-sensitive one
 * the line stays high until the VMM lowers it with INJECT_IRQ. A count
 * already in the eventfd at binding time is delivered at once. Any thread
 * (a device's I/O thread) may signal it; no vCPU ioctl is made. One eventfd
 * serves one binding (EEXIST). Released when the VM is, or when the
 * eventfd's last reference goes.
 */
struct avcpu_irqfd {
	__s32 fd;
	__u32 vcpu_id;
	__u32 intid;
	__u32 flags;
	__u64 reserved[2];
};

#define AVCPU_IRQFD_DEASSIGN		_BITULL(0)

/* AVCPU_ENABLE_CAP's caps */
/*
 * A guest's SGI (ICC_SGI1R_EL1, ICC_SGI0R_EL1, ICC_ASGI1R_EL1) is delivered
 * by the kernel to each target vCPU, as INJECT_IRQ would, where the SGI's
 * group in that vCPU (SET_IRQ's GROUP1) is the group the write generates
 * (SGI0R: 0, the others: 1); its enable and priority then decide delivery
 * as for any interrupt. No SEND_IPI exit.
 */
#define AVCPU_VM_CAP_KERNEL_SGI		1

/**
 * struct avcpu_enable_cap - turn a VM capability on (AVCPU_ENABLE_CAP)
 * @cap: AVCPU_VM_CAP_* (in).
 * @flags: zero.
 * @args: zero (reserved for capabilities with arguments).
 */
struct avcpu_enable_cap {
	__u32 cap;
	__u32 flags;
	__u64 args[4];
};

/*
 * Statistics: counters of a vCPU (GET_STATS on its fd) or of a whole VM
 * (GET_STATS on the VM fd: the sum over its vCPUs, plus what belongs to
 * the VM). Every field is out; reading does not reset them.
 */
#define AVCPU_STATS_EXIT_REASONS	32

/**
 * struct avcpu_stats - counters (AVCPU_GET_STATS)
 * @exits: RUN's returns to userspace by AVCPU_EXIT_* reason.
 * @entries: guest entries (each world switch into the guest).
 * @kernel_exits: exits from the guest handled without leaving RUN.
 * @wfi_sleeps: WFIs that slept in the kernel.
 * @ioeventfd_signals: guest stores that rang an ioeventfd.
 * @irqfd_injections: interrupts raised through an irqfd.
 * @kernel_sgis: SGIs delivered in the kernel (AVCPU_VM_CAP_KERNEL_SGI),
 *	counted at the sender.
 * @injections: INJECT_IRQ raises, from any source.
 * @coalesced_mmio: guest stores put in the coalesced MMIO ring.
 * @stage2_faults: stage-2 faults on RAM that mapped guest pages.
 * @reserved: zero.
 */
struct avcpu_stats {
	__u64 exits[AVCPU_STATS_EXIT_REASONS];
	__u64 entries;
	__u64 kernel_exits;
	__u64 wfi_sleeps;
	__u64 ioeventfd_signals;
	__u64 irqfd_injections;
	__u64 kernel_sgis;
	__u64 injections;
	__u64 coalesced_mmio;
	__u64 stage2_faults;
	__u64 reserved[7];
};

#define AVCPU_IOEVENTFD		_IOW(AVCPUIO, 0x95, struct avcpu_ioeventfd)
#define AVCPU_IRQFD		_IOW(AVCPUIO, 0x96, struct avcpu_irqfd)
#define AVCPU_ENABLE_CAP	_IOW(AVCPUIO, 0x97, struct avcpu_enable_cap)
/* on the VM fd and on a vCPU fd */
#define AVCPU_GET_STATS		_IOR(AVCPUIO, 0x98, struct avcpu_stats)

/**
 * struct avcpu_coalesced_zone - stores the VMM may see later (COALESCED_MMIO)
 * @addr: guest-physical start of the zone (in).
 * @size: its length in bytes, not zero (in).
 * @flags: AVCPU_COALESCED_* (in).
 * @reserved: zero.
 *
 * A guest store of 1, 2, 4 or 8 bytes that lies wholly in a zone does not
 * exit: the kernel appends it to the VM's ring (the page the VM fd maps at
 * offset 0) and the guest goes on. Loads exit as before. When the ring is
 * full the store exits as MMIO_WRITE. The VMM must apply the ring's
 * entries, in order, whenever RUN returns, before it handles the exit (so
 * that an exit for a register that depends on earlier stores sees them).
 * Zones may not overlap (EEXIST); at most 16 (ENOSPC). Released with the VM.
 */
struct avcpu_coalesced_zone {
	__u64 addr;
	__u32 size;
	__u32 flags;
	__u64 reserved[2];
};

#define AVCPU_COALESCED_DEASSIGN	_BITULL(0)	/* remove the zone */

/**
 * struct avcpu_coalesced_entry - one store in the ring
 * @addr: guest-physical address.
 * @len: 1, 2, 4 or 8.
 * @vcpu_id: the vCPU that made it.
 * @data: the value, zero-extended.
 */
struct avcpu_coalesced_entry {
	__u64 addr;
	__u32 len;
	__u32 vcpu_id;
	__u64 data;
};

/**
 * struct avcpu_coalesced_ring - the VM fd's page at offset 0 (mmap, shared)
 * @first: the next entry the VMM will read; the VMM writes it (release)
 *	after it has used the entries before it.
 * @last: the next entry the kernel will write; the kernel writes it
 *	(release) after the entry.
 * @nr: entries in @entries; the ring holds at most @nr - 1.
 * @reserved: zero.
 * @entries: the stores, from @first up to (not including) @last, modulo @nr.
 */
struct avcpu_coalesced_ring {
	__u32 first;
	__u32 last;
	__u32 nr;
	__u32 reserved;
	struct avcpu_coalesced_entry entries[];
};

#define AVCPU_COALESCED_MMIO	_IOW(AVCPUIO, 0x99, struct avcpu_coalesced_zone)

/**
 * struct avcpu_gicv - where a GICv2 guest finds its CPU interface (SET_GICV)
 * @ipa: guest physical address of the guest's GICC frame: a multiple of
 *	avcpu_caps.gicv_size, below 1 << ipa_bits, overlapping no memory
 *	region. The host's GICV frame is mapped there at stage 2 (device
 *	memory), so the guest's GICC_* accesses reach the hardware's virtual
 *	CPU interface without an exit.
 * @reserved: zero.
 *
 * GICv2 hosts only (ENODEV elsewhere); once per VM (EEXIST after). The
 * distributor stays the VMM's: its page is not mapped and exits as MMIO.
 */
struct avcpu_gicv {
	__u64 ipa;
	__u64 reserved[3];
};

#define AVCPU_SET_GICV		_IOW(AVCPUIO, 0x9a, struct avcpu_gicv)

/*
 * vCPU fd
 */

/* The seed's VCpuState, as AVCPU_GET_STATE reports it. */
#define AVCPU_STATE_CREATED	0	/* after CREATE_VCPU */
#define AVCPU_STATE_FREE	1	/* set up, bound to no CPU */
#define AVCPU_STATE_READY	2	/* bound to a CPU, not running */
#define AVCPU_STATE_RUNNING	3	/* inside RUN */
#define AVCPU_STATE_INVALID	4	/* broken for good: only close works */
#define AVCPU_STATE_BLOCKED	5	/* inside RUN, asleep in a guest WFI */

/* struct avcpu_setup.flags: the seed's SetupConfig */
/* RUN returns AVCPU_EXIT_EXTERNAL_INTERRUPT after each host interrupt. */
#define AVCPU_SETUP_EXIT_ON_HOST_IRQ	_BITULL(0)
/*
 * The seed's passthrough_timer: the guest reads and programs the EL1
 * physical timer (CNTP_*_EL0) without a trap. VHE hosts only, where the
 * kernel itself uses the EL2 timers; elsewhere SETUP fails with EOPNOTSUPP.
 */
#define AVCPU_SETUP_PASSTHROUGH_TIMER	_BITULL(1)
/*
 * A guest WFI with no interrupt pending returns AVCPU_EXIT_HALT instead of
 * sleeping in the kernel until one is.
 */
#define AVCPU_SETUP_EXIT_ON_WFI		_BITULL(2)

/**
 * struct avcpu_setup - the seed's set_entry + setup (SETUP)
 * @entry: guest physical address of the first instruction (in).
 * @x0: the guest's x0 at entry, for instance the DTB address (in).
 * @flags: AVCPU_SETUP_* (in).
 * @reserved: zero (in).
 *
 * The vCPU starts at EL1h with DAIF masked and the MMU off, as a CPU coming
 * out of reset (or PSCI CPU_ON) would: SCTLR_EL1 holds only its RES1 bits,
 * every other register is zero.
 */
struct avcpu_setup {
	__u64 entry;
	__u64 x0;
	__u64 flags;
	__u64 reserved[5];
};

/* struct avcpu_bind.cpu: the CPU the caller runs on now */
#define AVCPU_BIND_CURRENT_CPU	0xffffffffU

/**
 * struct avcpu_bind - the seed's bind (BIND)
 * @cpu: a physical CPU number, or AVCPU_BIND_CURRENT_CPU (in). The calling
 *	thread is pinned to it and becomes the vCPU's owner: the only thread
 *	that may RUN or UNBIND it.
 * @flags: zero (in).
 * @reserved: zero (in).
 */
struct avcpu_bind {
	__u32 cpu;
	__u32 flags;
	__u64 reserved[3];
};

/**
 * struct avcpu_regs - the guest's general and FP/SIMD registers
 * @x: x0 .. x30.
 * @sp_el0: SP_EL0.
 * @sp_el1: SP_EL1.
 * @pc: the address of the next instruction.
 * @pstate: as SPSR_EL2 holds it; SET_REGS accepts NZCV, DIT, UAO, PAN,
 *	SSBS, BTYPE and DAIF, and only the AArch64 modes EL0t, EL1t, EL1h.
 * @elr_el1: ELR_EL1.
 * @spsr_el1: SPSR_EL1.
 * @fpsr: FPSR.
 * @fpcr: FPCR.
 * @reserved: zero on SET_REGS, zero from GET_REGS.
 * @v: V0 .. V31, each as two 64-bit halves, low half first.
 */
struct avcpu_regs {
	__u64 x[31];
	__u64 sp_el0;
	__u64 sp_el1;
	__u64 pc;
	__u64 pstate;
	__u64 elr_el1;
	__u64 spsr_el1;
	__u64 fpsr;
	__u64 fpcr;
	__u64 reserved[7];
	__u64 v[32][2];
};

/*
 * A system register's encoding, as AVCPU_GET_SYSREG/AVCPU_SET_SYSREG take it
 * and as the SYSREG exits report it: op0[15:14] op1[13:11] CRn[10:7]
 * CRm[6:3] op2[2:0].
 */
#define AVCPU_SYSREG(op0, op1, crn, crm, op2)				\
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

/**
 * struct avcpu_sysreg - one guest system register (GET_SYSREG/SET_SYSREG)
 * @encoding: AVCPU_SYSREG() of the register (in).
 * @reserved0: zero (in).
 * @value: the value (out for GET, in for SET).
 * @reserved: zero (in).
 */
struct avcpu_sysreg {
	__u32 encoding;
	__u32 reserved0;
	__u64 value;
	__u64 reserved[2];
};

#define AVCPU_SETUP		_IOW(AVCPUIO, 0xa0, struct avcpu_setup)
#define AVCPU_BIND		_IOW(AVCPUIO, 0xa1, struct avcpu_bind)
#define AVCPU_RUN		_IO(AVCPUIO, 0xa2)
#define AVCPU_UNBIND		_IO(AVCPUIO, 0xa3)
#define AVCPU_GET_REGS		_IOR(AVCPUIO, 0xa4, struct avcpu_regs)
#define AVCPU_SET_REGS		_IOW(AVCPUIO, 0xa5, struct avcpu_regs)
#define AVCPU_GET_SYSREG	_IOWR(AVCPUIO, 0xa6, struct avcpu_sysreg)
#define AVCPU_SET_SYSREG	_IOW(AVCPUIO, 0xa7, struct avcpu_sysreg)
/* Returns the vCPU's AVCPU_STATE_*. */
#define AVCPU_GET_STATE		_IO(AVCPUIO, 0xa8)

/**
 * struct avcpu_irq_level - drive one interrupt line of a vCPU (INJECT_IRQ)
 * @intid: SGI 0-15, PPI 16-31 or SPI 32 up to the VM's nr_irqs - 1.
 * @level: 1 raises the line, 0 lowers it. An edge-triggered interrupt
 *	becomes pending once per raise; a level-triggered one is pending
 *	while the line is high.
 * @source: GICv2 hosts, SGIs raised: the sending vCPU's GIC CPU number
 *	(0-7), which the guest reads in GICC_IAR.CPUID; an SGI is pending
 *	once per source (IHI 0048, 3.2.2). Zero otherwise.
 * @reserved0: zero.
 * @reserved: zero.
 */
struct avcpu_irq_level {
	__u32 intid;
	__u32 level;
	__u32 source;
	__u32 reserved0;
	__u64 reserved;
};

/* struct avcpu_irq.flags; the first three are configuration */
#define AVCPU_IRQ_ENABLED	_BITULL(0)  /* the distributor forwards it */
#define AVCPU_IRQ_GROUP1	_BITULL(1)  /* Group 1 (IRQ); clear: Group 0 (FIQ) */
#define AVCPU_IRQ_LEVEL		_BITULL(2)  /* level-sensitive; clear: edge */
#define AVCPU_IRQ_PENDING	_BITULL(3)
#define AVCPU_IRQ_ACTIVE	_BITULL(4)
#define AVCPU_IRQ_LINE		_BITULL(5)  /* read only: the input is high */
/* set_mask only: write @priority */
#define AVCPU_IRQ_PRIORITY	_BITULL(8)

/**
 * struct avcpu_irq - one interrupt of a vCPU as its distributor sees it
 * @intid: which (in).
 * @priority: 0 highest, 255 lowest (in for SET_IRQ with
 *	AVCPU_IRQ_PRIORITY in @set_mask, out for GET_IRQ).
 * @reserved0: zero.
 * @flags: AVCPU_IRQ_* (GET_IRQ: out; SET_IRQ: in, for the bits in
 *	@set_mask).
 * @set_mask: SET_IRQ: which of ENABLED, GROUP1, LEVEL, PENDING, ACTIVE and
 *	PRIORITY to write; the rest are left alone, so one thread may change
 *	the configuration while others inject. Zero for GET_IRQ.
 * @reserved: zero.
 *
 * Until the VMM says otherwise every INTID is enabled, Group 1, priority
 * 0xa0; SGIs are edge-triggered (always: LEVEL is refused for them), PPIs
 * and SPIs level-sensitive. A VMM that emulates a distributor mirrors its
 * GICD_/GICR_ enable, priority, group, configuration, pending and active
 * registers here; the vCPU then delivers only enabled interrupts and in
 * priority order.
 */
struct avcpu_irq {
	__u32 intid;
	__u8 priority;
	__u8 reserved0[3];
	__u64 flags;
	__u64 set_mask;
	__u64 reserved[2];
};

/*
 * Interrupt ioctls need no binding and never wait for RUN: any thread may
 * call them at any time, also while the vCPU runs or sleeps in WFI, which
 * it then leaves at once to see the change.
 */
#define AVCPU_INJECT_IRQ	_IOW(AVCPUIO, 0xa9, struct avcpu_irq_level)
#define AVCPU_GET_IRQ		_IOWR(AVCPUIO, 0xaa, struct avcpu_irq)
#define AVCPU_SET_IRQ		_IOW(AVCPUIO, 0xab, struct avcpu_irq)

/*
 * The run page: mmap'd from the vCPU fd (offset 0, the size that
 * AVCPU_GET_VCPU_MMAP_SIZE returns). RUN writes the exit there; the VMM
 * answers an exit that wants a value (MMIO_READ, SYSREG_READ, HYPERCALL,
 * CPU_UP) by writing avcpu_run.ret before the next RUN.
 */
#define AVCPU_EXIT_NONE			0  /* RUN failed or was interrupted */
#define AVCPU_EXIT_HYPERCALL		1
#define AVCPU_EXIT_MMIO_READ		2
#define AVCPU_EXIT_MMIO_WRITE		3
#define AVCPU_EXIT_SYSREG_READ		4
#define AVCPU_EXIT_SYSREG_WRITE		5
#define AVCPU_EXIT_EXTERNAL_INTERRUPT	6
#define AVCPU_EXIT_NESTED_PAGE_FAULT	7
#define AVCPU_EXIT_CPU_UP		8
#define AVCPU_EXIT_CPU_DOWN		9
#define AVCPU_EXIT_SYSTEM_DOWN		10
#define AVCPU_EXIT_FAIL_ENTRY		11
#define AVCPU_EXIT_HALT			12 /* WFI, with AVCPU_SETUP_EXIT_ON_WFI */
#define AVCPU_EXIT_SEND_IPI		13 /* the guest wrote an SGI register */

/* hypercall.conduit */
#define AVCPU_CONDUIT_HVC	0
#define AVCPU_CONDUIT_SMC	1

/* nested_page_fault.access */
#define AVCPU_ACCESS_READ	_BITULL(0)
#define AVCPU_ACCESS_WRITE	_BITULL(1)

/* system_down.type */
#define AVCPU_SYSTEM_OFF	0
#define AVCPU_SYSTEM_RESET	1

/* send_ipi.flags */
#define AVCPU_SGI_BROADCAST	_BITULL(0)  /* IRM: every vCPU but the sender */
#define AVCPU_SGI_GROUP0	_BITULL(1)  /* written to ICC_SGI0R_EL1 */
#define AVCPU_SGI_ALT_GROUP	_BITULL(2)  /* written to ICC_ASGI1R_EL1 */

/* fail_entry.reason */
#define AVCPU_FAIL_ENTRY_WRONG_CPU	1  /* thread left its bound CPU */
#define AVCPU_FAIL_ENTRY_SERROR		2  /* SError while the guest ran */
#define AVCPU_FAIL_ENTRY_EL2_FAULT	3  /* exception at EL2 on the way in/out */
#define AVCPU_FAIL_ENTRY_NO_EL2		4  /* nVHE: this CPU's EL2 lost, not retaken */

/**
 * struct avcpu_run - the per-vCPU run page
 * @exit_reason: AVCPU_EXIT_* of the last RUN (out).
 * @immediate_exit: non-zero: RUN returns EINTR before entering (in).
 * @ret: the answer to the last exit (in), see above; x0 for HYPERCALL,
 *	CPU_UP, CPU_DOWN and SYSTEM_DOWN (the call returns if RUN is called
 *	again); the loaded value for MMIO_READ and SYSREG_READ. The kernel
 *	sets it to 0 with each exit.
 * @hypercall: @nr is the function id (w0: x0's upper half is not part
 *	of it), @args x1..x6; @conduit says whether HVC or SMC made the call;
 *	@imm is the instruction's immediate, always 0: HVC or SMC with any
 *	other immediate is answered NOT_SUPPORTED by the kernel.
 * @mmio: @addr the guest physical address, @width 1/2/4/8 bytes; @data
 *	(write) the stored value; @reg (read) the target register number
 *	(31: xzr), @reg_width 4 or 8, @sign_ext whether the load sign-extends.
 * @sysreg: @encoding AVCPU_SYSREG(); @reg the register number; @value the
 *	value written (SYSREG_WRITE).
 * @external_interrupt: @vector is unknown to the module and reads 0.
 * @nested_page_fault: @addr the guest physical address, @access
 *	AVCPU_ACCESS_*.
 * @cpu_up: PSCI CPU_ON: @target_mpidr, @entry, @context (x0 at entry).
 * @system_down: @type AVCPU_SYSTEM_*.
 * @fail_entry: @reason AVCPU_FAIL_ENTRY_*, @esr the ESR_EL2 of an SError
 *	or of the exception at EL2 (EL2_FAULT)
 *	(0 for WRONG_CPU).
 * @send_ipi: a guest SGI (Arm GICv3 architecture, ICC_SGI1R_EL1):
 *	@targets has bit n set for each existing vCPU with vcpu_id n that
 *	the write names (for BROADCAST, every vCPU but the sender); @aff
 *	holds the written Aff3, Aff2 and Aff1 at their MPIDR positions
 *	(bits 39:32, 23:16, 15:8); @target_list and @rs name Aff0 values
 *	rs * 16 + n for each bit n; @intid the SGI (0-15); @flags
 *	AVCPU_SGI_*; @value the register value as written. The VMM delivers
 *	it with INJECT_IRQ on each target; RUN continues after the write.
 */
struct avcpu_run {
	__u32 exit_reason;
	__u8 immediate_exit;
	__u8 padding[3];
	__u64 ret;
	__u64 reserved[6];
	union {
		struct {
			__u64 nr;
			__u64 args[6];
			__u32 conduit;
			__u32 imm;
		} hypercall;
		struct {
			__u64 addr;
			__u64 data;
			__u32 width;
			__u32 reg;
			__u32 reg_width;
			__u32 sign_ext;
		} mmio;
		struct {
			__u32 encoding;
			__u32 reg;
			__u64 value;
		} sysreg;
		struct {
			__u64 vector;
		} external_interrupt;
		struct {
			__u64 addr;
			__u64 access;
		} nested_page_fault;
		struct {
			__u64 target_mpidr;
			__u64 entry;
			__u64 context;
		} cpu_up;
		struct {
			__u32 type;
			__u32 padding;
		} system_down;
		struct {
			__u64 reason;
			__u64 esr;
		} fail_entry;
		struct {
			__u64 targets;
			__u64 aff;
			__u32 intid;
			__u16 target_list;
			__u8 rs;
			__u8 padding;
			__u64 flags;
			__u64 value;
		} send_ipi;
		__u8 pad[256];
	};
};

#endif /* _UAPI_LINUX_AVCPU_H */
