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

/**
 * struct avcpu_caps - what this host and module can do (AVCPU_GET_CAPS)
 * @api_version: AVCPU_API_VERSION of the running module.
 * @host_mode: AVCPU_HOST_MODE_*.
 * @pa_bits: physical address size of the host (ID_AA64MMFR0_EL1.PARange).
 * @ipa_bits: largest guest physical address size a VM may use.
 * @max_vcpus: largest number of vCPUs in one VM.
 * @vmid_bits: width of a VMID (8 or 16).
 * @gic_version: 3 or 4 when the CPUs have the GICv3/v4 system register
 *	interface, 0 when they have none.
 * @nr_lrs: number of GIC list registers (ICH_VTR_EL2.ListRegs + 1) when
 *	AVCPU_CAP_F_NR_LRS is set, 0 otherwise.
 * @flags: AVCPU_CAP_F_*.
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
	__u64 reserved[7];
};

/* ioctls on /dev/avcpu */
#define AVCPU_GET_API_VERSION	_IO(AVCPUIO, 0x80)
#define AVCPU_GET_CAPS		_IOR(AVCPUIO, 0x81, struct avcpu_caps)

#endif /* _UAPI_LINUX_AVCPU_H */
