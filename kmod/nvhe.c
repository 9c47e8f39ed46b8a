// SPDX-License-Identifier: GPL-2.0
/*
 * nVHE hosts, the EL1 half: take EL2 from the kernel's hyp stub on every
 * CPU (and on CPUs that come online later), give it back on unload, on CPU
 * offline and when the kernel asks through the stub ABI; build the EL2
 * stage-1 tables; and call the nVHE world switch.
 *
 * EL2 addresses: nVHE EL2 has one VA range, TTBR0_EL2's (Arm ARM, DDI 0487,
 * D8.1.2), 48 bits here. Anything EL2 touches is mapped at its kernel VA
 * with the top 16 bits cleared, so module text keeps its layout and
 * PC-relative code finds its neighbours; linear-map objects and module
 * text land in different halves of that range (kernel VA bit 47). The page
 * that switches the EL2 MMU on and off is also mapped at VA == PA.
 * Documentation/design.rst ("nVHE hosts") has the whole picture.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/cpu.h>
#include <linux/cpu_pm.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/daifflags.h>
#include <asm/kvm_arm.h>
#include <asm/memory.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

#include "avcpu.h"
#include "hyp/switch.h"
#include "hyp/nvhe/nvhe.h"

#define EL2_VA_BITS	48
#define EL2_VA_MASK	GENMASK_ULL(EL2_VA_BITS - 1, 0)

/* Stage-1 leaf attributes (D8.3), in the host's granule (pgtable.c) */
#define EL2_ATTR_WB	(0UL << 2)	/* MAIR_EL2 index 0 */
/* AP[2:1] (D8.4.1): AP[1] is RES1 in a regime with one privilege level */
#define EL2_AP_RW	BIT(6)		/* AP[2:1] = 0b01 */
#define EL2_AP_RO	(3UL << 6)
#define EL2_SH_INNER	(3UL << 8)
#define EL2_AF		BIT(10)
#define EL2_XN		BIT_ULL(54)

/* TCR_EL2.TG0: the host's granule, which pgtable.c builds in */
#if defined(CONFIG_ARM64_16K_PAGES)
#define EL2_TCR_TG0	TCR_TG0_16K
#else
#define EL2_TCR_TG0	TCR_TG0_4K
#endif

/*
 * Where the module's text is: Linux 6.4 replaced mod->core_layout with
 * mod->mem[] (kmod/Kbuild's feature test sets AVCPU_HAVE_MODULE_MEMORY).
 */
#ifdef AVCPU_HAVE_MODULE_MEMORY
#define avcpu_module_text(mod)		((mod)->mem[MOD_TEXT].base)
#define avcpu_module_text_size(mod)	((mod)->mem[MOD_TEXT].size)
#else
#define avcpu_module_text(mod)		((mod)->core_layout.base)
#define avcpu_module_text_size(mod)	((mod)->core_layout.text_size)
#endif

#define EL2_PROT_TEXT	EL2_AP_RO
#define EL2_PROT_DATA	(EL2_AP_RW | EL2_XN)

/*
 * MAIR_EL2 attribute 0: Normal, inner and outer write-back, read/write
 * allocate, the kernel's MT_NORMAL, so EL2 and the host see the same
 * cacheable memory through mappings of the same type (B2.8 "Mismatched
 * memory attributes").
 */
#define EL2_MAIR	0xffUL

static struct avcpu_pgtable el2_pgt;
static DEFINE_MUTEX(el2_pt_lock);	/* el2_pgt */
static phys_addr_t nvhe_idmap_pa;
static phys_addr_t nvhe_stub_vbar;
static int nvhe_hp_state = -1;
static u64 nvhe_ttbr, nvhe_tcr, nvhe_sctlr;
/* CPUs whose EL2 is avcpu's; changed by each CPU for itself, IRQs off */
static struct cpumask nvhe_held;
static DEFINE_PER_CPU(void *, nvhe_block);

static u64 el2_va(const void *p)
{
	return (u64)p & EL2_VA_MASK;
}

static phys_addr_t avcpu_kva_to_phys(const void *p)
{
	if (virt_addr_valid(p))
		return virt_to_phys(p);
	return ((phys_addr_t)vmalloc_to_pfn(p) << PAGE_SHIFT) +
	       offset_in_page(p);
}

/*
 * Map one page. A page mapped twice at the same VA must be the same
 * physical page (two per-CPU variables sharing a page); anything else is
 * a clash of the VA scheme and refused. No TLB maintenance: an invalid
 * entry is never cached (D8.13.1).
 */
static int el2_map_page(u64 va, phys_addr_t pa, u64 prot)
{
	u64 *pte;

	va &= PAGE_MASK;
	pa &= PAGE_MASK;
	lockdep_assert_held(&el2_pt_lock);
	pte = avcpu_pgt_walk(&el2_pgt, va, true);
	if (!pte)
		return -ENOMEM;
	if (*pte & AVCPU_PTE_VALID)
		return (*pte & AVCPU_PTE_ADDR) == pa ? 0 : -EEXIST;
	WRITE_ONCE(*pte, pa | prot | AVCPU_PTE_VALID | AVCPU_PTE_TABLE | EL2_AF |
			 EL2_SH_INNER | EL2_ATTR_WB);
	dsb(ishst);
	return 0;
}

/* Map [p, p + size) of linear-map or vmalloc memory at its EL2 VA. */
static int el2_map_kva(const void *p, size_t size, u64 prot)
{
	unsigned long a = (unsigned long)p & PAGE_MASK;
	unsigned long end = PAGE_ALIGN((unsigned long)p + size);
	int err = 0;

	mutex_lock(&el2_pt_lock);
	for (; a < end && !err; a += PAGE_SIZE)
		err = el2_map_page(el2_va((void *)a),
				   avcpu_kva_to_phys((void *)a), prot);
	mutex_unlock(&el2_pt_lock);
	return err;
}

/*
 * Losing EL2. A CPU that comes back from a power-down idle state or from
 * suspend has run the kernel's EL2 setup again: the hyp stub's vectors are
 * back, avcpu's tables and stack are gone from its registers. The CPU-PM
 * notifier below takes EL2 again before anything else runs there; should
 * a CPU lose it without notice all the same, the stub answers avcpu's next
 * hypercall with HVC_STUB_ERR (it knows none of them), and that call takes
 * EL2 back and is made again. nvhe_held is where avcpu means to hold EL2,
 * not a promise that it does.
 */
static DEFINE_PER_CPU(unsigned long, nvhe_takes);	/* debugfs "el2_owner" */
static bool nvhe_refuse_take;	/* test knob "el2_refuse" */

/* On this CPU, IRQs off: hand EL2 from the stub to avcpu. */
static u64 nvhe_take_here(void)
{
	unsigned int cpu = smp_processor_id();
	void *block = per_cpu(nvhe_block, cpu);
	u64 ret;

	ret = avcpu_stub_hvc(HVC_SET_VECTORS, nvhe_idmap_pa);
	if (!ret)
		ret = avcpu_hvc(AVCPU_HVC_INIT, nvhe_ttbr, nvhe_tcr, EL2_MAIR,
				nvhe_sctlr,
				el2_va(block) + AVCPU_NVHE_BLOCK_SIZE,
				per_cpu_offset(cpu),
				el2_va(__avcpu_nvhe_vectors));
	if (!ret) {
		cpumask_set_cpu(cpu, &nvhe_held);
		this_cpu_inc(nvhe_takes);
	}
	return ret;
}

/* Whether avcpu's EL2 answers on this CPU (IRQs off). */
static bool nvhe_owned_here(void)
{
	return avcpu_hvc(AVCPU_HVC_PING, 0, 0, 0, 0, 0, 0, 0) == AVCPU_HVC_TAG;
}

/*
 * EL2 answered as the stub: take it back if avcpu holds this CPU (one
 * going offline gave it back on purpose). IRQs off.
 */
static bool nvhe_retake_here(void)
{
	unsigned int cpu = smp_processor_id();
	u64 ret = HVC_STUB_ERR;

	if (!cpumask_test_cpu(cpu, &nvhe_held))
		return false;
	if (!READ_ONCE(nvhe_refuse_take))
		ret = nvhe_take_here();
	if (ret) {
		pr_err_ratelimited("CPU%u: EL2 is the hyp stub's again and cannot be taken back (%#llx)\n",
				   cpu, ret);
		return false;
	}
	pr_info_ratelimited("CPU%u: EL2 was the hyp stub's again (a power-down avcpu was not told of); taken back\n",
			    cpu);
	return true;
}

/* One of avcpu's hypercalls on this CPU, IRQs off, EL2 taken back if lost. */
static u64 nvhe_call_here(u64 fn, u64 a1, u64 a2, u64 a3)
{
	u64 ret = avcpu_hvc(fn, a1, a2, a3, 0, 0, 0, 0);

	if (ret == HVC_STUB_ERR && nvhe_retake_here())
		ret = avcpu_hvc(fn, a1, a2, a3, 0, 0, 0, 0);
	return ret;
}

/* a[0]: the call, then its result; a[1]: its argument; a[2]: the CPU */
static void avcpu_nvhe_call_fn(void *arg)
{
	u64 *a = arg;

	a[2] = smp_processor_id();
	a[0] = nvhe_call_here(a[0], a[1], 0, 0);
}

/*
 * One call on one CPU that holds EL2, hotplug excluded: the nearest, then
 * each of the others until one answers. Returns HVC_STUB_ERR if none did.
 */
static u64 avcpu_nvhe_call_any(u64 fn, u64 a1)
{
	u64 a[3] = { fn, a1, nr_cpu_ids };
	unsigned int cpu, tried;

	cpus_read_lock();
	if (smp_call_function_any(&nvhe_held, avcpu_nvhe_call_fn, a, 1))
		a[0] = HVC_STUB_ERR;
	tried = a[2];
	for_each_cpu(cpu, &nvhe_held) {
		if (a[0] != HVC_STUB_ERR)
			break;
		if (cpu == tried)	/* it has failed already */
			continue;
		a[0] = fn;
		if (smp_call_function_single(cpu, avcpu_nvhe_call_fn, a, 1))
			a[0] = HVC_STUB_ERR;
	}
	cpus_read_unlock();
	return a[0];
}

/*
 * Unmap vCPU memory, then drop EL2's TLB entries for it on every CPU.
 * Returns -EIO if no CPU could invalidate: then the memory must stay
 * allocated, since EL2 may still reach it through a stale entry.
 */
static int el2_unmap_kva(const void *p, size_t size)
{
	unsigned long a = (unsigned long)p & PAGE_MASK;
	unsigned long end = PAGE_ALIGN((unsigned long)p + size);
	u64 *pte;

	mutex_lock(&el2_pt_lock);
	for (; a < end; a += PAGE_SIZE) {
		pte = avcpu_pgt_walk(&el2_pgt, el2_va((void *)a), false);
		if (pte)
			WRITE_ONCE(*pte, 0);
	}
	mutex_unlock(&el2_pt_lock);
	if (avcpu_nvhe_call_any(AVCPU_HVC_FLUSH_EL2, 0)) {
		pr_err("EL2 TLB invalidation failed on every CPU: %zu bytes of vCPU memory stay allocated\n",
		       size);
		return -EIO;
	}
	return 0;
}

int avcpu_nvhe_map_vcpu(struct avcpu_vcpu *vcpu)
{
	int err;

	if (avcpu_host.mode != AVCPU_HOST_MODE_NVHE)
		return 0;
	err = el2_map_kva(vcpu, sizeof(*vcpu), EL2_PROT_DATA);
	if (err && el2_unmap_kva(vcpu, sizeof(*vcpu)))
		return -EIO;
	return err;
}

/* Returns -EIO if @vcpu's memory must not be freed (el2_unmap_kva()). */
int avcpu_nvhe_unmap_vcpu(struct avcpu_vcpu *vcpu)
{
	if (avcpu_host.mode != AVCPU_HOST_MODE_NVHE)
		return 0;
	return el2_unmap_kva(vcpu, sizeof(*vcpu));
}

/* Returns -EIO if no CPU could invalidate (the stage-2 pages stay pinned). */
int avcpu_nvhe_flush_vmid(struct avcpu_vm *vm)
{
	if (avcpu_nvhe_call_any(AVCPU_HVC_FLUSH_VMID, vm->vttbr)) {
		pr_err("VMID %u: stage-2 TLB invalidation failed on every CPU\n",
		       vm->vmid);
		return -EIO;
	}
	return 0;
}

/* ICH_VTR_EL2 is only readable at EL2: ask avcpu's, then size the vGIC */
void avcpu_nvhe_read_ich_vtr(void)
{
	u64 vtr = avcpu_nvhe_call_any(AVCPU_HVC_ICH_VTR, 0);

	if (vtr != HVC_STUB_ERR && (vtr & AVCPU_ICH_VTR_VALID))
		avcpu_vgic_host_init(lower_32_bits(vtr));
}

/*
 * Called with IRQs masked and the FP unit owned; returns AVCPU_EXC_*, or
 * AVCPU_ENTER_WRONG_CPU on a CPU going offline (it has given EL2 back
 * already) and AVCPU_ENTER_NO_EL2 where EL2 was lost and cannot be taken
 * back: the guest was not entered.
 */
int avcpu_nvhe_run(struct avcpu_vcpu *vcpu)
{
	struct avcpu_vm *vm = vcpu->vm;
	u64 code;

	if (!cpumask_test_cpu(smp_processor_id(), &nvhe_held))
		return AVCPU_ENTER_WRONG_CPU;
	this_cpu_write(avcpu_el2_cpu.serror_seen, 0);
	code = nvhe_call_here(AVCPU_HVC_RUN, el2_va(vcpu), vm->vttbr, vm->vtcr);
	if (code == HVC_STUB_ERR)
		return AVCPU_ENTER_NO_EL2;
	if (code != AVCPU_EXC_EL2 && this_cpu_read(avcpu_el2_cpu.serror_seen))
		code = AVCPU_EXC_SERROR;
	return code;
}

/* cpuhp startup, on @cpu itself: hand EL2 from the stub to avcpu. */
static int avcpu_nvhe_cpu_up(unsigned int cpu)
{
	unsigned long flags;
	u64 ret;

	local_irq_save(flags);
	ret = nvhe_take_here();
	local_irq_restore(flags);
	if (ret) {
		pr_err("CPU%u: the hyp stub did not hand EL2 over (%#llx)\n",
		       cpu, ret);
		return -EBUSY;
	}
	return 0;
}

/* cpuhp teardown, on @cpu itself: give EL2 back to the stub. */
static int avcpu_nvhe_cpu_down(unsigned int cpu)
{
	unsigned long flags;
	u64 ret;

	local_irq_save(flags);
	cpumask_clear_cpu(cpu, &nvhe_held);
	ret = avcpu_hvc(HVC_RESET_VECTORS, 0, 0, 0, 0, 0, 0, 0);
	local_irq_restore(flags);
	if (ret)
		pr_err("CPU%u: EL2 not given back (%#llx)\n", cpu, ret);
	return 0;
}

/*
 * CPU power management: the kernel notifies CPU_PM_EXIT on the CPU itself,
 * IRQs off, after a power-down idle state and after system resume (its
 * syscore resume runs the same chain on the boot CPU), before anything is
 * scheduled there; CPU_PM_ENTER_FAILED when the CPU did not go down after
 * all. Where the state was kept (a retention state, a failed entry) EL2 is
 * still avcpu's and answers the ping; otherwise take it back now.
 */
static int avcpu_nvhe_cpu_pm(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	if (action != CPU_PM_EXIT && action != CPU_PM_ENTER_FAILED)
		return NOTIFY_OK;
	if (cpumask_test_cpu(smp_processor_id(), &nvhe_held) &&
	    !nvhe_owned_here())
		nvhe_retake_here();
	return NOTIFY_OK;
}

static struct notifier_block avcpu_nvhe_pm_nb = {
	.notifier_call = avcpu_nvhe_cpu_pm,
};

/*
 * Test knobs (testing.rst, "Test knobs"), nVHE only. QEMU cannot power a
 * CPU down, so these do to EL2 what a power-down does:
 * "el2_stub": write a CPU number; that CPU's EL2 goes back to the hyp stub
 * and avcpu is not told, as after a power-down nobody notified.
 * "el2_powerdown": write a CPU number; that CPU runs the kernel's CPU-PM
 * sequence of a power-down idle state (cpu_pm_enter(), EL2 back to the
 * stub as the firmware's power-down and the kernel's resume leave it,
 * cpu_pm_exit()), IRQs off.
 * "el2_refuse": 1 makes every re-take of EL2 after a loss fail, as if the
 * stub refused; 0 takes that back.
 * "el2_owner": who answers at EL2 on each online CPU, and how many times
 * avcpu took it there.
 */
static void nvhe_knob_stub_fn(void *arg)
{
	*(u64 *)arg = avcpu_hvc(HVC_RESET_VECTORS, 0, 0, 0, 0, 0, 0, 0);
}

/*
 * In a worker on the CPU, everything masked as arm64's cpu_suspend() has
 * it (the GIC's CPU_PM_EXIT handler rewrites the priority mask).
 */
static long nvhe_knob_powerdown_fn(void *arg)
{
	unsigned long flags = local_daif_save();
	int ret;

	ret = cpu_pm_enter();
	if (!ret) {
		/* what the firmware's power-down and the kernel's resume leave */
		avcpu_hvc(HVC_RESET_VECTORS, 0, 0, 0, 0, 0, 0, 0);
		ret = cpu_pm_exit();
	}
	local_daif_restore(flags);
	return ret;
}

/* The CPU number written to a knob: online and held by avcpu, or -EINVAL */
static int nvhe_knob_cpu(const char __user *ubuf, size_t len,
			 unsigned int *cpu)
{
	int err = kstrtouint_from_user(ubuf, len, 0, cpu);

	if (err)
		return err;
	if (*cpu >= nr_cpu_ids || !cpu_online(*cpu) ||
	    !cpumask_test_cpu(*cpu, &nvhe_held))
		return -EINVAL;
	return 0;
}

static ssize_t nvhe_knob_stub_write(struct file *f, const char __user *ubuf,
				    size_t len, loff_t *pos)
{
	unsigned int cpu;
	u64 ret = 0;
	int err;

	cpus_read_lock();
	err = nvhe_knob_cpu(ubuf, len, &cpu);
	if (!err && (smp_call_function_single(cpu, nvhe_knob_stub_fn, &ret, 1) ||
		     ret))
		err = -EIO;
	cpus_read_unlock();
	return err ? err : len;
}

static ssize_t nvhe_knob_powerdown_write(struct file *f,
					 const char __user *ubuf, size_t len,
					 loff_t *pos)
{
	unsigned int cpu;
	int err;

	/* without CPU_PM (no SUSPEND, no CPU_IDLE) no CPU powers down */
	if (!IS_ENABLED(CONFIG_CPU_PM))
		return -EOPNOTSUPP;
	cpus_read_lock();
	err = nvhe_knob_cpu(ubuf, len, &cpu);
	if (!err)
		err = work_on_cpu(cpu, nvhe_knob_powerdown_fn, NULL);
	cpus_read_unlock();
	return err ? err : len;
}

static const struct file_operations nvhe_knob_stub_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= nvhe_knob_stub_write,
	.llseek	= noop_llseek,
};

static const struct file_operations nvhe_knob_powerdown_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= nvhe_knob_powerdown_write,
	.llseek	= noop_llseek,
};

static void nvhe_knob_ping_fn(void *arg)
{
	*(bool *)arg = nvhe_owned_here();
}

static int nvhe_knob_owner_show(struct seq_file *m, void *v)
{
	unsigned int cpu;
	bool owned;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (smp_call_function_single(cpu, nvhe_knob_ping_fn, &owned, 1))
			continue;
		seq_printf(m, "cpu%u %s takes %lu\n", cpu,
			   owned ? "avcpu" : "stub", per_cpu(nvhe_takes, cpu));
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvhe_knob_owner);

void avcpu_nvhe_debugfs(struct dentry *dir)
{
	if (avcpu_host.mode != AVCPU_HOST_MODE_NVHE || nvhe_hp_state < 0)
		return;
	debugfs_create_file("el2_stub", 0200, dir, NULL, &nvhe_knob_stub_fops);
	debugfs_create_file("el2_powerdown", 0200, dir, NULL,
			    &nvhe_knob_powerdown_fops);
	debugfs_create_bool("el2_refuse", 0600, dir, &nvhe_refuse_take);
	debugfs_create_file("el2_owner", 0400, dir, NULL,
			    &nvhe_knob_owner_fops);
}

/*
 * Clean the identity page to the point of coherency: the EL2 MMU is off
 * when it first runs, so its instructions are fetched from memory, not
 * from the caches the module loader wrote them through (D7.5.9 "Behavior
 * of caches at reset and when caches are disabled").
 */
static void avcpu_nvhe_clean_idmap(void)
{
	unsigned long a = (unsigned long)__avcpu_nvhe_idmap_start;
	unsigned long end = a + PAGE_SIZE;

	for (; a < end; a += L1_CACHE_BYTES)
		asm volatile("dc civac, %0" : : "r" (a) : "memory");
	dsb(sy);
	asm volatile("ic ialluis" : : : "memory");
	dsb(ish);
	isb();
}

static int avcpu_nvhe_map_common(void)
{
	struct module *mod = THIS_MODULE;
	int cpu, err;

	/* module text, where the EL2 code and vectors are */
	err = el2_map_kva(avcpu_module_text(mod), avcpu_module_text_size(mod),
			  EL2_PROT_TEXT);
	if (err)
		return err;

	mutex_lock(&el2_pt_lock);
	err = el2_map_page(nvhe_idmap_pa, nvhe_idmap_pa, EL2_PROT_TEXT);
	mutex_unlock(&el2_pt_lock);
	if (err)
		return err;

	for_each_possible_cpu(cpu) {
		struct avcpu_nvhe_data *data;
		struct page *page;

		page = alloc_pages(GFP_KERNEL | __GFP_ZERO,
				   AVCPU_NVHE_BLOCK_ORDER);
		if (!page)
			return -ENOMEM;
		data = page_address(page);
		per_cpu(nvhe_block, cpu) = data;
		data->stub_vbar = nvhe_stub_vbar;
		data->release_pa = nvhe_idmap_pa +
			(__avcpu_nvhe_release - __avcpu_nvhe_idmap_start);
		err = el2_map_kva(data, AVCPU_NVHE_BLOCK_SIZE, EL2_PROT_DATA);
		if (err)
			return err;

		/* what hyp/entry.S reaches through TPIDR_EL2 */
		per_cpu(avcpu_el2_cpu, cpu).host_vbar = el2_va(__avcpu_nvhe_vectors);
		err = el2_map_kva(per_cpu_ptr(&avcpu_el2_cpu, cpu),
				  sizeof(struct avcpu_el2_cpu), EL2_PROT_DATA);
		if (err)
			return err;
	}
	return 0;
}

static void avcpu_nvhe_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		void *block = per_cpu(nvhe_block, cpu);

		if (block)
			free_pages((unsigned long)block, AVCPU_NVHE_BLOCK_ORDER);
		per_cpu(nvhe_block, cpu) = NULL;
	}
	avcpu_pgt_destroy(&el2_pgt, NULL);
}

/*
 * Where the stub's vectors are: the stub ABI has no call that returns them
 * (HVC_GET_VECTORS is gone since Linux 5.x) and __hyp_stub_vectors is not
 * exported, so the address comes from kallsyms; it is a kernel image
 * address, turned physical with kimage_voffset.
 */
static int avcpu_nvhe_find_stub(void)
{
	unsigned long va = avcpu_ksym("__hyp_stub_vectors");

	if (!va || !IS_ALIGNED(va, SZ_2K)) {
		pr_info("cannot find the hyp stub's vectors (kallsyms); nVHE guests unavailable\n");
		return -ENODEV;
	}
	nvhe_stub_vbar = va - kimage_voffset;
	return 0;
}

/**
 * avcpu_nvhe_init() - take EL2 on every CPU of an nVHE host
 *
 * Return: 0 with avcpu's EL2 on every online CPU (and on any that comes
 * online later), or an error with everything undone.
 */
int avcpu_nvhe_init(void)
{
	int err;

	/*
	 * The EL2 VA scheme folds kernel VAs into 48 bits, which keeps them
	 * apart only while the kernel runs with at most 48 (a 52-bit-VA build
	 * does on a CPU without LPA2/LVA: vabits_actual, not VA_BITS, says
	 * what it runs with). 52 bits would need TCR_EL2.DS and another
	 * level (D8.2.7).
	 */
	if (vabits_actual > EL2_VA_BITS) {
		pr_info("nVHE guests need a kernel VA of at most %d bits (this kernel runs with %llu: 52-bit VA on LPA2 hardware); refusing\n",
			EL2_VA_BITS, (u64)vabits_actual);
		return -ENODEV;
	}
	err = avcpu_nvhe_find_stub();
	if (err)
		return err;

	nvhe_idmap_pa = avcpu_kva_to_phys(__avcpu_nvhe_idmap_start);
	err = avcpu_pgt_init(&el2_pgt, EL2_VA_BITS, false, GFP_KERNEL);
	if (err)
		return err;
	err = avcpu_nvhe_map_common();
	if (err) {
		pr_err("cannot build the EL2 page tables: %d\n", err);
		goto out_free;
	}
	avcpu_nvhe_clean_idmap();

	/*
	 * TCR_EL2 without E2H (D13.2.134): 48-bit VA (T0SZ 16), the host's
	 * granule,
	 * walks inner shareable and write-back cacheable like the host's own
	 * tables, PS the host's PA size.
	 */
	nvhe_ttbr = virt_to_phys(el2_pgt.root);
	nvhe_tcr = TCR_EL2_RES1 | TCR_T0SZ(EL2_VA_BITS) | EL2_TCR_TG0 |
		   TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
		   (avcpu_pa_range_enc(avcpu_host.pa_bits) << TCR_EL2_PS_SHIFT);
	/* SCTLR_EL2: MMU and caches on, W^X, little-endian (the kernel's) */
	nvhe_sctlr = INIT_SCTLR_EL2_MMU_ON;

	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "avcpu/nvhe:online",
				avcpu_nvhe_cpu_up, avcpu_nvhe_cpu_down);
	if (err < 0) {
		pr_err("cannot take EL2 on every CPU: %d\n", err);
		goto out_free;
	}
	nvhe_hp_state = err;
	cpu_pm_register_notifier(&avcpu_nvhe_pm_nb);
	return 0;

out_free:
	avcpu_nvhe_free();
	return err;
}

/* Give EL2 back to the stub on every CPU and free what EL2 used. */
void avcpu_nvhe_exit(void)
{
	if (nvhe_hp_state < 0)
		return;
	cpu_pm_unregister_notifier(&avcpu_nvhe_pm_nb);
	cpuhp_remove_state(nvhe_hp_state);
	nvhe_hp_state = -1;
	avcpu_nvhe_free();
}
