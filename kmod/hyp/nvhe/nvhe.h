/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the EL1 half of the nVHE support (kmod/nvhe.c) and the code it runs
 * at EL2 (kmod/hyp/nvhe/) agree on: the hypercall numbers and the layout of
 * each CPU's EL2 block. Documentation/design.rst ("nVHE hosts") tells the
 * whole story.
 */
#ifndef __AVCPU_HYP_NVHE_H__
#define __AVCPU_HYP_NVHE_H__

#include <asm/page.h>
#include <asm/virt.h>

/*
 * avcpu's hypercalls. The hyp-stub ABI owns x0 < HVC_STUB_HCALL_NR and lets
 * any other value be "hypervisor-specific"; these ones carry a tag so that
 * a stray call from someone else is answered HVC_STUB_ERR, as the stub
 * would answer it.
 */
#define AVCPU_HVC_TAG		0x61760000	/* "av" */
#define AVCPU_HVC_INIT		(AVCPU_HVC_TAG + 1)	/* to the init vectors only */
#define AVCPU_HVC_RUN		(AVCPU_HVC_TAG + 2)	/* x1: vCPU (EL2 VA), x2: VTTBR, x3: VTCR */
#define AVCPU_HVC_FLUSH_VMID	(AVCPU_HVC_TAG + 3)	/* x1: VTTBR of the VMID */
#define AVCPU_HVC_FLUSH_EL2	(AVCPU_HVC_TAG + 4)	/* EL2 stage-1 TLB, all CPUs */
/* returns AVCPU_ICH_VTR_VALID | ICH_VTR_EL2 */
#define AVCPU_HVC_ICH_VTR	(AVCPU_HVC_TAG + 5)
/* returns AVCPU_HVC_TAG: whether EL2 is avcpu's (the stub answers HVC_STUB_ERR) */
#define AVCPU_HVC_PING		(AVCPU_HVC_TAG + 6)

/* ICH_VTR_EL2 bits [63:32] are RES0: bit 63 says the value was readable */
#define AVCPU_ICH_VTR_VALID	BIT_ULL(63)

/*
 * Each CPU's EL2 block: physically contiguous, AVCPU_NVHE_BLOCK_SIZE bytes.
 * The first page holds struct avcpu_nvhe_data, the rest is the EL2 stack,
 * whose top is SP_EL2 whenever the host calls in. That is how the EL2
 * code finds its data: block base = SP at entry - block size.
 */
#define AVCPU_NVHE_BLOCK_ORDER	2
#define AVCPU_NVHE_BLOCK_SIZE	(PAGE_SIZE << AVCPU_NVHE_BLOCK_ORDER)

/* struct avcpu_nvhe_data's offsets, for host.S: hyp/offsets.c */

#ifndef __ASSEMBLY__
#include <linux/types.h>

/**
 * struct avcpu_nvhe_data - what EL2 keeps per CPU, first page of the block
 * @stub_vbar: physical address of the hyp stub's vectors, to give EL2 back.
 * @release_pa: physical (and EL2 identity) address of the give-back code.
 * @orig_sctlr: SCTLR_EL2 as the stub had it (MMU off).
 * @orig_tcr: TCR_EL2 as the stub had it.
 * @orig_mair: MAIR_EL2 as the stub had it.
 * @orig_ttbr0: TTBR0_EL2 as the stub had it.
 * @orig_tpidr: TPIDR_EL2 as the stub had it.
 * @orig_sp: SP_EL2 as the stub had it.
 */
struct avcpu_nvhe_data {
	u64 stub_vbar;
	u64 release_pa;
	u64 orig_sctlr;
	u64 orig_tcr;
	u64 orig_mair;
	u64 orig_ttbr0;
	u64 orig_tpidr;
	u64 orig_sp;
};

struct avcpu_vcpu;

/* hyp/nvhe/switch.c, run at EL2 from hyp/nvhe/host.S */
u64 __avcpu_nvhe_hvc(u64 fn, u64 a1, u64 a2, u64 a3);

/* hyp/nvhe/host.S */
extern char __avcpu_nvhe_idmap_start[], __avcpu_nvhe_idmap_end[];
extern char __avcpu_nvhe_init_vectors[], __avcpu_nvhe_release[];
extern char __avcpu_nvhe_vectors[];
#endif

#endif
