// SPDX-License-Identifier: GPL-2.0
/*
 * Host detection: how the kernel relates to EL2, and what the CPUs offer.
 *
 * Documentation/design.rst ("Finding EL2") explains the order of the checks;
 * the short form: VHE is read from CurrentEL; otherwise EL2 must be
 * implemented (ID_AA64PFR0_EL1.EL2) and must answer the hyp-stub ABI on every
 * online CPU. The probing HVC is only made once the kernel's boot-mode
 * record says every CPU booted at EL2, or, where that record cannot be
 * read, under an undef hook, so a host whose firmware left EL2 unusable
 * (SCR_EL3.HCE == 0) gets an error, not an Oops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/irqchip/arm-gic-v3.h>
#include <linux/kprobes.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>

#include <asm/cpufeature.h>
#include <asm/insn.h>
#include <asm/kvm_host.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/traps.h>
#include <asm/virt.h>

#include "avcpu.h"

struct avcpu_host avcpu_host;

/*
 * The hyp-stub ABI reserves x0 < HVC_STUB_HCALL_NR for its own calls and
 * answers HVC_STUB_ERR to any other value it is given; KVM's nVHE host
 * handler answers SMCCC_RET_NOT_SUPPORTED to the same value. This one has no
 * effect on either.
 */
#define AVCPU_STUB_PROBE	HVC_STUB_HCALL_NR

/* Written into x0 by our undef hook when the probing HVC is UNDEFINED. */
#define AVCPU_PROBE_UNDEF	0xdeadbeefbadca11eUL

/* HVC #0 (Arm ARM, DDI 0487: the HVC instruction's A64 encoding) */
#define AVCPU_INSN_HVC0		0xd4000002U

/*
 * kallsyms_lookup_name() is not exported; a kprobe on it gives its address.
 * Only used at load time, for symbols the kernel does not export but that
 * the host check and the nVHE hand-over need (see design.rst).
 */
unsigned long avcpu_ksym(const char *name)
{
	static unsigned long (*lookup)(const char *name);
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };

	if (!lookup) {
		if (register_kprobe(&kp) < 0)
			return 0;
		lookup = (unsigned long (*)(const char *))kp.addr;
		unregister_kprobe(&kp);
	}
	return lookup ? lookup(name) : 0;
}

/*
 * The kernel's own record of the mode its CPUs entered it in
 * (__boot_cpu_mode, arch/arm64/include/asm/virt.h): both words hold
 * BOOT_CPU_MODE_EL2 only if every CPU booted at EL2, and so installed the
 * hyp stub there before dropping to EL1 (is_hyp_mode_available() reads the
 * same, but is inline over an unexported symbol). kallsyms lists it where
 * the kernel keeps data symbols (CONFIG_KALLSYMS_ALL, as Debian's 6.12 does;
 * its 6.1 does not).
 *
 * Return: 1 every CPU booted at EL2, 0 not every CPU, -ENOENT no record.
 */
static int avcpu_boot_mode_el2(void)
{
	u32 *mode = (u32 *)avcpu_ksym("__boot_cpu_mode");

	if (!mode)
		return -ENOENT;
	return READ_ONCE(mode[0]) == BOOT_CPU_MODE_EL2 &&
	       READ_ONCE(mode[1]) == BOOT_CPU_MODE_EL2;
}

/*
 * Where the boot-mode record cannot be read, an undef hook (kmod/Kbuild sets
 * AVCPU_HAVE_UNDEF_HOOK while the kernel has them; Linux 6.5 removed them)
 * lets the probing HVC fail softly on a host whose EL2 is unusable
 * (SCR_EL3.HCE == 0 makes HVC UNDEFINED at EL1).
 */
#ifdef AVCPU_HAVE_UNDEF_HOOK
static int avcpu_hvc_undef(struct pt_regs *regs, u32 insn)
{
	if (regs->pc != (unsigned long)avcpu_stub_hvc_insn)
		return 1;	/* not the probe: let the kernel handle it */
	regs->regs[0] = AVCPU_PROBE_UNDEF;
	regs->pc += AARCH64_INSN_SIZE;
	return 0;
}

static struct undef_hook avcpu_hvc_hook = {
	.instr_mask	= 0xffffffff,
	.instr_val	= AVCPU_INSN_HVC0,
	.pstate_mask	= PSR_MODE_MASK,
	.pstate_val	= PSR_MODE_EL1h,
	.fn		= avcpu_hvc_undef,
};

static void (*avcpu_unreg_hook)(struct undef_hook *hook);

static int avcpu_guard_probe(void)
{
	void (*reg_hook)(struct undef_hook *hook);

	reg_hook = (void *)avcpu_ksym("register_undef_hook");
	avcpu_unreg_hook = (void *)avcpu_ksym("unregister_undef_hook");
	if (!reg_hook || !avcpu_unreg_hook) {
		pr_info("cannot guard the EL2 probe (no kallsyms through kprobes); refusing to guess\n");
		return -ENODEV;
	}
	reg_hook(&avcpu_hvc_hook);
	return 0;
}

static void avcpu_unguard_probe(void)
{
	avcpu_unreg_hook(&avcpu_hvc_hook);
}
#else
static int avcpu_guard_probe(void)
{
	pr_info("cannot tell whether the kernel booted at EL2 (no boot-mode record in kallsyms, no undef hooks); refusing to guess\n");
	return -ENODEV;
}

static void avcpu_unguard_probe(void)
{
}
#endif

static DEFINE_PER_CPU(unsigned long, avcpu_probe_ret);

static void avcpu_probe_cpu(void *unused)
{
	this_cpu_write(avcpu_probe_ret,
		       avcpu_stub_hvc(AVCPU_STUB_PROBE, 0));
}

/*
 * Ask every online CPU's EL2 who it is; 0 when the hyp stub answers all.
 * The HVC is only issued once EL2 is known to be there (the boot-mode
 * record) or with the undef hook armed.
 */
static int avcpu_probe_nvhe(void)
{
	int booted_el2 = avcpu_boot_mode_el2();
	bool guarded = booted_el2 < 0;
	unsigned long ret;
	int cpu, err = 0;

	if (booted_el2 == 0) {
		pr_info("the kernel was not booted at EL2 on every CPU (its boot-mode record); no EL2 to use\n");
		return -ENODEV;
	}
	cpus_read_lock();
	if (guarded) {
		err = avcpu_guard_probe();
		if (err)
			goto out;
	}
	on_each_cpu(avcpu_probe_cpu, NULL, 1);
	if (guarded)
		avcpu_unguard_probe();

	for_each_online_cpu(cpu) {
		ret = per_cpu(avcpu_probe_ret, cpu);
		if (ret == HVC_STUB_ERR)
			continue;
		if (ret == AVCPU_PROBE_UNDEF)
			pr_info("EL2 is not usable from CPU%d (HVC is undefined): the kernel was not booted at EL2\n",
				cpu);
		else if (ret == (unsigned long)SMCCC_RET_NOT_SUPPORTED)
			pr_info("EL2 on CPU%d is owned by KVM (protected mode?); boot with kvm-arm.mode=none\n",
				cpu);
		else
			pr_info("EL2 on CPU%d is held by something other than the kernel's hyp stub (answered %#lx)\n",
				cpu, ret);
		err = -ENODEV;
		break;
	}
out:
	cpus_read_unlock();
	return err;
}

/*
 * KVM beside avcpu:
 * - nVHE: KVM owns EL2 (6.1, not protected, hands it back to the hyp stub
 *   after its init and installs its own vectors again whenever it creates
 *   a VM, so the stub probe above answers as if EL2 were free: KVM would
 *   then call HVC_SET_VECTORS into avcpu's vectors). Refused, and so is
 *   protected KVM, whose EL2 is not the kernel's at all.
 * - VHE: the kernel runs at EL2, and KVM, like avcpu, programs the EL2
 *   trap, timer, vGIC and stage-2 registers only around its own guests,
 *   on the CPU its vCPU thread runs on. The two share it (design.rst,
 *   "Sharing EL2 with KVM"): avcpu's VMs take VMID 0, which KVM never
 *   allocates, and KVM's per-CPU timer and maintenance interrupts serve
 *   avcpu's exits too. KVM's nested mode is not tried, and refused.
 */
static int avcpu_check_kvm(bool vhe)
{
	enum kvm_mode (*get_mode)(void);
	enum kvm_mode mode;

	if (!IS_ENABLED(CONFIG_KVM))
		return 0;
	get_mode = (void *)avcpu_ksym("kvm_get_mode");
	if (!get_mode) {
		pr_info("cannot tell whether KVM is using EL2; refusing to guess\n");
		return -ENODEV;
	}
	mode = get_mode();
	if (mode == KVM_MODE_NONE)
		return 0;
	if (mode == KVM_MODE_PROTECTED) {
		pr_info("protected KVM (pKVM) holds EL2 on this host and shares it with no one; boot with kvm-arm.mode=none\n");
		return -ENODEV;
	}
	if (!vhe) {
		pr_info("KVM is enabled on this nVHE host and cannot share EL2 with avcpu; boot with kvm-arm.mode=none\n");
		return -ENODEV;
	}
	if (mode != KVM_MODE_DEFAULT) {
		pr_info("KVM is enabled on this VHE host in a mode avcpu does not share EL2 with (%d); boot with kvm-arm.mode=none\n",
			mode);
		return -ENODEV;
	}
	avcpu_host.with_kvm = true;
	return 0;
}

static int avcpu_probe_mode(void)
{
	u64 pfr0;
	int err;

	if (is_kernel_in_hyp_mode()) {
		/* Running at EL2 is only possible with HCR_EL2.E2H set. */
		if (!(read_sysreg(hcr_el2) & HCR_E2H)) {
			pr_info("kernel at EL2 without HCR_EL2.E2H; unsupported\n");
			return -ENODEV;
		}
		avcpu_host.mode = AVCPU_HOST_MODE_VHE;
		return avcpu_check_kvm(true);
	}

	/* ID_AA64PFR0_EL1.EL2 (Arm ARM, DDI 0487): 0 means no EL2 at all. */
	pfr0 = read_sanitised_ftr_reg(SYS_ID_AA64PFR0_EL1);
	if (!cpuid_feature_extract_unsigned_field(pfr0, ID_AA64PFR0_EL1_EL2_SHIFT)) {
		pr_info("the CPUs do not implement EL2\n");
		return -ENODEV;
	}
	avcpu_host.mode = AVCPU_HOST_MODE_NVHE;
	err = avcpu_check_kvm(false);
	if (err)
		return err;
	return avcpu_probe_nvhe();
}

/* Only called at EL2 (VHE): ICH_* are not accessible from EL1. */
static void avcpu_read_ich_vtr(void)
{
	/* ICH_* need the system register interface enabled at EL2. */
	if (!(read_sysreg_s(SYS_ICC_SRE_EL2) & ICC_SRE_EL2_SRE))
		return;
	avcpu_vgic_host_init(read_sysreg_s(SYS_ICH_VTR_EL2));
}

static void avcpu_read_parange(void *arg)
{
	atomic_t *min = arg;
	int pa = cpuid_feature_extract_unsigned_field(read_sysreg(id_aa64mmfr0_el1),
						      ID_AA64MMFR0_EL1_PARANGE_SHIFT);
	int old = atomic_read(min);

	/* every CPU at once: the smallest wins */
	while (pa < old) {
		int seen = atomic_cmpxchg(min, old, pa);

		if (seen == old)
			break;
		old = seen;
	}
}

/* The smallest ID_AA64MMFR0_EL1.PARange any online CPU implements. */
static unsigned int avcpu_hw_parange(u64 sanitised)
{
	atomic_t min = ATOMIC_INIT(INT_MAX);

	on_each_cpu(avcpu_read_parange, &min, 1);
	if (atomic_read(&min) == INT_MAX)
		return cpuid_feature_extract_unsigned_field(sanitised,
				ID_AA64MMFR0_EL1_PARANGE_SHIFT);
	return atomic_read(&min);
}

static void avcpu_probe_features(void)
{
	u64 pfr0 = read_sanitised_ftr_reg(SYS_ID_AA64PFR0_EL1);
	u64 mmfr0 = read_sanitised_ftr_reg(SYS_ID_AA64MMFR0_EL1);
	u64 mmfr1 = read_sanitised_ftr_reg(SYS_ID_AA64MMFR1_EL1);
	unsigned int parange, gic;

	/*
	 * The PA size the CPUs implement, not the sanitised one: a kernel
	 * may override that (arm64.nolva says 48 on 52-bit hardware), but a
	 * guest's stage 1 checks output addresses against the hardware's
	 * (Arm ARM, DDI 0487, D8.2.5 "Address size configuration").
	 */
	parange = avcpu_hw_parange(mmfr0);
	avcpu_host.pa_bits = id_aa64mmfr0_parange_to_phys_shift(parange);
	avcpu_host.ipa_bits = min_t(u32, avcpu_host.pa_bits, AVCPU_MAX_IPA_BITS);

	avcpu_host.vmid_bits = get_vmid_bits(mmfr1);

	/* ID_AA64PFR0_EL1.GIC: 1 = GICv3/v4 CPU interface, 3 = GICv4.1. */
	gic = cpuid_feature_extract_unsigned_field(pfr0, ID_AA64PFR0_EL1_GIC_SHIFT);
	avcpu_host.gic_version = gic == 0 ? 0 : gic >= 3 ? 4 : 3;
	if (gic)
		avcpu_host.flags |= AVCPU_CAP_F_GIC_SYSREG;

	/* ICH_VTR_EL2 is an EL2 register: read where avcpu runs EL2 code */
	if (gic && avcpu_host.mode == AVCPU_HOST_MODE_VHE)
		avcpu_read_ich_vtr();
	else if (gic)
		avcpu_nvhe_read_ich_vtr();
	else
		avcpu_gicv2_probe();	/* GICH and GICV frames, or nothing */
	if (avcpu_host.nr_lrs)
		avcpu_host.flags |= AVCPU_CAP_F_NR_LRS;
	/* VHE: the kernel's EL2; nVHE: avcpu's own, taken at load */
	avcpu_host.flags |= AVCPU_CAP_F_RUN | AVCPU_CAP_F_FAST_PATHS |
			    AVCPU_CAP_F_COALESCED_MMIO;
	/* interrupts go through the GICv3 or GICv2 virtual CPU interface */
	if (avcpu_host.nr_lrs)
		avcpu_host.flags |= AVCPU_CAP_F_IRQ;
	avcpu_traps_probe();
}

static const char *avcpu_host_mode_name(u32 mode)
{
	switch (mode) {
	case AVCPU_HOST_MODE_VHE:
		return "VHE";
	case AVCPU_HOST_MODE_NVHE:
		return "nVHE";
	default:
		return "none";
	}
}

/**
 * avcpu_host_probe() - decide whether avcpu can run on this host
 *
 * Return: 0 and avcpu_host filled in, or -ENODEV after logging one line
 * that says why not.
 */
int avcpu_host_probe(void)
{
	u64 feat;
	int err;

	memset(&avcpu_host, 0, sizeof(avcpu_host));
	err = avcpu_probe_mode();
	if (err)
		return err;
	if (avcpu_host.mode == AVCPU_HOST_MODE_NVHE) {
		err = avcpu_nvhe_init();
		if (err)
			return err;
	}
	avcpu_probe_features();
	avcpu_mitigations_probe();

	pr_info("%s host, %u-bit PA, %u-bit IPA, %u-bit VMID, GIC v%u, %u list registers%s\n",
		avcpu_host_mode_name(avcpu_host.mode), avcpu_host.pa_bits,
		avcpu_host.ipa_bits, avcpu_host.vmid_bits,
		avcpu_host.gic_version, avcpu_host.nr_lrs,
		avcpu_host.flags & AVCPU_CAP_F_NR_LRS ? "" : " (not known in this mode)");
	if (avcpu_host.with_kvm)
		pr_info("KVM is enabled: sharing EL2 with it (every avcpu VM on VMID 0, KVM's timer and maintenance interrupts)\n");
	/* which of the newer trap controls this CPU gives the guests */
	feat = avcpu_host.traps.features;
	pr_info("guest traps: HCRX_EL2 %s, fine-grained traps %s, MPAM2_EL2 %s, SCXTNUM_ELx %s, DISR_EL1 %s\n",
		feat & AVCPU_FEAT_HCX ? "written" : "absent",
		feat & AVCPU_FEAT_FGT2 ? "written (FGT2 too)" :
		feat & AVCPU_FEAT_FGT ? "written" : "absent",
		feat & AVCPU_FEAT_MPAM ? "written" : "absent",
		feat & AVCPU_FEAT_SCXTNUM ? "switched" : "absent",
		feat & AVCPU_FEAT_RAS ? "switched" : "absent");
	return 0;
}

/* Undo avcpu_host_probe(): on nVHE, EL2 goes back to the hyp stub. */
void avcpu_host_exit(void)
{
	if (avcpu_host.mode == AVCPU_HOST_MODE_NVHE)
		avcpu_nvhe_exit();
	avcpu_gicv2_exit();
}

/*
 * ID_AA64MMFR0_EL1.PARange encoding of an address size (also the encoding
 * of VTCR_EL2.PS); sizes avcpu does not use map to 48 bits.
 */
u64 avcpu_pa_range_enc(u32 bits)
{
	switch (bits) {
	case 32: return 0;
	case 36: return 1;
	case 40: return 2;
	case 42: return 3;
	case 44: return 4;
	default: return 5;
	}
}

void avcpu_host_fill_caps(struct avcpu_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->api_version = AVCPU_API_VERSION;
	caps->host_mode = avcpu_host.mode;
	caps->pa_bits = avcpu_host.pa_bits;
	caps->ipa_bits = avcpu_host.ipa_bits;
	caps->max_vcpus = AVCPU_MAX_VCPUS;
	caps->vmid_bits = avcpu_host.vmid_bits;
	caps->gic_version = avcpu_host.gic_version;
	caps->nr_lrs = avcpu_host.nr_lrs;
	caps->gicv_size = avcpu_host.gicv_size;
	caps->flags = avcpu_host.flags;
}
