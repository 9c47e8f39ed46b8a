// SPDX-License-Identifier: GPL-2.0
/*
 * avcpu: a loadable hypervisor module for AArch64 hosts booted at EL2.
 *
 * Module init/exit and the /dev/avcpu character device with its system
 * ioctls. Documentation/api.rst is the reference for the ioctls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "avcpu.h"
#include "hyp/switch.h"

static long avcpu_get_caps(void __user *argp)
{
	struct avcpu_caps caps;

	avcpu_host_fill_caps(&caps);
	if (copy_to_user(argp, &caps, sizeof(caps)))
		return -EFAULT;
	return 0;
}

static long avcpu_dev_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case AVCPU_GET_API_VERSION:
		/* Takes no argument; insist, so it can gain one later. */
		if (arg)
			return -EINVAL;
		return AVCPU_API_VERSION;
	case AVCPU_GET_CAPS:
		return avcpu_get_caps((void __user *)arg);
	case AVCPU_CREATE_VM:
		if (arg)
			return -EINVAL;
		return avcpu_create_vm();
	case AVCPU_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return PAGE_SIZE;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations avcpu_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= avcpu_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Root only by default, as /dev/kvm was before distributions added a group. */
/*
 * Test knobs, in debugfs (testing.rst, "Test knobs"): root only, not an
 * interface. "el2_fault": writing 1 makes the next guest entry on each CPU
 * take an undefined instruction at EL2 just before its ERET (once per
 * CPU); 0 takes that back.
 */
static struct dentry *avcpu_debugfs;

static int avcpu_el2_fault_set(void *data, u64 val)
{
	int cpu;

	for_each_possible_cpu(cpu)
		WRITE_ONCE(per_cpu(avcpu_el2_cpu, cpu).inject_fault, !!val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(avcpu_el2_fault_fops, NULL, avcpu_el2_fault_set,
			 "%llu\n");

/*
 * "el2_mitigations": what the EL2 exit path does against Spectre-v2 and
 * Spectre-BHB (AVCPU_EL2_*), read, or set on every CPU: the rig's CPUs
 * need none, so this is how the code of each runs there.
 */
static int avcpu_el2_mitigations_get(void *data, u64 *val)
{
	*val = READ_ONCE(per_cpu(avcpu_el2_cpu, 0).mitigations);
	return 0;
}

static int avcpu_el2_mitigations_set(void *data, u64 val)
{
	int cpu;

	if (val & ~(AVCPU_EL2_BHB_LOOP_MASK | AVCPU_EL2_BHB_CLRBHB |
		    AVCPU_EL2_BHB_FW | AVCPU_EL2_V2_FW))
		return -EINVAL;
	for_each_possible_cpu(cpu)
		WRITE_ONCE(per_cpu(avcpu_el2_cpu, cpu).mitigations, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(avcpu_el2_mitigations_fops, avcpu_el2_mitigations_get,
			 avcpu_el2_mitigations_set, "0x%llx\n");

static struct miscdevice avcpu_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "avcpu",
	.fops	= &avcpu_dev_fops,
	.mode	= 0600,
};

static int __init avcpu_init(void)
{
	int err;

	err = avcpu_host_probe();
	if (err)
		return err;

	if (avcpu_host.flags & AVCPU_CAP_F_IRQ) {
		/* the host interrupts the timers and the vGIC take */
		err = avcpu_hirq_init();
		if (!err)
			err = avcpu_timer_module_init();
		if (!err) {
			avcpu_vgic_module_init();
			err = avcpu_hirq_start();
		}
		if (err) {
			pr_err("cannot set up the guest timers and interrupts: %d\n", err);
			avcpu_hirq_exit();
			avcpu_host_exit();
			return err;
		}
	}

	err = misc_register(&avcpu_misc);
	if (err) {
		pr_err("cannot register /dev/avcpu: %d\n", err);
		avcpu_hirq_exit();
		avcpu_host_exit();
		return err;
	}
	avcpu_debugfs = debugfs_create_dir("avcpu", NULL);
	debugfs_create_file_unsafe("el2_fault", 0200, avcpu_debugfs, NULL,
				   &avcpu_el2_fault_fops);
	debugfs_create_file_unsafe("el2_mitigations", 0600, avcpu_debugfs, NULL,
				   &avcpu_el2_mitigations_fops);
	avcpu_nvhe_debugfs(avcpu_debugfs);
	return 0;
}

static void __exit avcpu_exit(void)
{
	debugfs_remove_recursive(avcpu_debugfs);
	misc_deregister(&avcpu_misc);
	avcpu_hirq_exit();
	avcpu_host_exit();
	avcpu_vmid_exit();
}

module_init(avcpu_init);
module_exit(avcpu_exit);

MODULE_DESCRIPTION("avcpu: vCPUs for AArch64 hosts booted at EL2");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.9.0");	/* dkms.conf's PACKAGE_VERSION */
