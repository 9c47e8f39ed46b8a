/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avcpu internal interfaces shared by the module's files.
 */
#ifndef __AVCPU_H__
#define __AVCPU_H__

#include <linux/types.h>
#include <linux/avcpu.h>

/* Largest number of vCPUs in one VM; reported by AVCPU_GET_CAPS. */
#define AVCPU_MAX_VCPUS		64

/*
 * Largest IPA size: a 4K-granule stage-2 walk starting at level 0 covers
 * 48 bits; 52-bit IPAs need FEAT_LPA2 (Arm ARM, DDI 0487: VTCR_EL2.DS),
 * which avcpu does not use.
 */
#define AVCPU_MAX_IPA_BITS	48

/**
 * struct avcpu_host - what the host offers, found once at module load
 * @mode: AVCPU_HOST_MODE_VHE or AVCPU_HOST_MODE_NVHE.
 * @pa_bits: host physical address size.
 * @ipa_bits: largest guest IPA size.
 * @vmid_bits: 8 or 16.
 * @gic_version: 0, 3 or 4.
 * @nr_lrs: GIC list registers, 0 when not known.
 * @flags: AVCPU_CAP_F_*.
 */
struct avcpu_host {
	u32 mode;
	u32 pa_bits;
	u32 ipa_bits;
	u32 vmid_bits;
	u32 gic_version;
	u32 nr_lrs;
	u64 flags;
};

extern struct avcpu_host avcpu_host;

/* host.c */
int avcpu_host_probe(void);
void avcpu_host_fill_caps(struct avcpu_caps *caps);

/* stub.S: "hvc #0" with the hyp-stub calling convention */
unsigned long avcpu_stub_hvc(unsigned long x0, unsigned long x1);
extern const u32 avcpu_stub_hvc_insn[];

#endif /* __AVCPU_H__ */
