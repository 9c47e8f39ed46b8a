/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Calls into whatever holds EL2 on an nVHE host, using the hyp-stub ABI
 * (Documentation/virt/kvm/arm/hyp-abi.rst in the kernel tree).
 */
#include <linux/linkage.h>
#include <asm/assembler.h>

	.text

/*
 * unsigned long avcpu_stub_hvc(unsigned long x0, unsigned long x1)
 *
 * In:  x0 = stub function (HVC_*), x1 = its argument.
 * Out: x0 = what EL2 returned (0 or HVC_STUB_ERR for the kernel's stub).
 *
 * The stub ABI lets EL2 clobber every caller-saved register, x0-x18.
 * x0-x17 are caller-saved for this C call anyway; x18 may be the shadow
 * call stack pointer, so keep it on the stack across the HVC.
 *
 * avcpu_stub_hvc_insn labels the HVC itself, so that the undef hook of
 * host.c can tell a probe on a CPU without usable EL2 from any other
 * undefined instruction.
 */
SYM_FUNC_START(avcpu_stub_hvc)
	str	x18, [sp, #-16]!
SYM_INNER_LABEL(avcpu_stub_hvc_insn, SYM_L_GLOBAL)
	hvc	#0
	ldr	x18, [sp], #16
	ret
SYM_FUNC_END(avcpu_stub_hvc)

/*
 * unsigned long avcpu_hvc(unsigned long x0, ..., unsigned long x7)
 *
 * "hvc #0" with x0-x7 as given: avcpu's own EL2 calls on an nVHE host
 * (kmod/hyp/nvhe/nvhe.h) and the stub calls that take more than one
 * argument. Same clobber rules as avcpu_stub_hvc.
 */
SYM_FUNC_START(avcpu_hvc)
	str	x18, [sp, #-16]!
	hvc	#0
	ldr	x18, [sp], #16
	ret
SYM_FUNC_END(avcpu_hvc)
