// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's device tree: what Linux needs to boot on avm's virt-like
 * board. Bindings: Linux's Documentation/devicetree/bindings (arm/cpus.yaml,
 * arm/psci.yaml, timer/arm,arch_timer.yaml) and dt-schema's chosen.yaml.
 * Each device adds its own nodes (struct avm_dev.fdt_node).
 */
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "fdt.h"

static int fdt_prop_u64s(void *fdt, const char *name, const uint64_t *v,
			 unsigned int n)
{
	fdt64_t be[8];
	unsigned int i;

	for (i = 0; i < n; i++)
		be[i] = cpu_to_fdt64(v[i]);
	return fdt_property(fdt, name, be, n * sizeof(be[0]));
}

static int fdt_cpus(void *fdt, const struct avm_fdt_cfg *cfg)
{
	unsigned int i;

	AVM_FDT_CHECK(fdt_begin_node(fdt, "cpus"));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#size-cells", 0));
	for (i = 0; i < cfg->nr_cpus; i++) {
		/* reg is the MPIDR's affinity: what PSCI CPU_ON names */
		uint64_t reg = cfg->mpidr[i] & 0xff00ffffffULL;
		char name[32];

		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)reg);
		AVM_FDT_CHECK(fdt_begin_node(fdt, name));
		AVM_FDT_CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		AVM_FDT_CHECK(fdt_prop_u64s(fdt, "reg", &reg, 1));
		AVM_FDT_CHECK(fdt_property_string(fdt, "enable-method", "psci"));
		AVM_FDT_CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int fdt_psci(void *fdt)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";

	AVM_FDT_CHECK(fdt_begin_node(fdt, "psci"));
	AVM_FDT_CHECK(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	AVM_FDT_CHECK(fdt_property_string(fdt, "method", "hvc"));
	/* PSCI 0.1 function IDs, for a kernel that knows only "arm,psci" */
	AVM_FDT_CHECK(fdt_property_u32(fdt, "cpu_suspend", 0xc4000001));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "cpu_off", 0x84000002));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "cpu_on", 0xc4000003));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "migrate", 0xc4000005));
	return fdt_end_node(fdt);
}

static int fdt_timer(void *fdt, const struct avm_fdt_cfg *cfg)
{
	static const char compat[] = "arm,armv8-timer\0arm,armv7-timer";
	/* secure, non-secure physical, virtual, hypervisor: level-high PPIs */
	const uint32_t ppis[] = { AVM_PPI_SEC_TIMER, AVM_PPI_PHYS_TIMER,
				  AVM_PPI_VIRT_TIMER, AVM_PPI_HYP_TIMER };
	fdt32_t irqs[12];
	uint32_t flags = 4;
	unsigned int i;

	/*
	 * A GICv2 PPI's specifier names the CPUs it is wired to in bits 15:8
	 * (the kernel's arm,gic.yaml); a GICv3's has no such mask.
	 */
	if (cfg->gic_version == 2)
		flags |= (((1U << cfg->nr_cpus) - 1) & 0xff) << 8;
	for (i = 0; i < 4; i++) {
		irqs[3 * i] = cpu_to_fdt32(1);
		irqs[3 * i + 1] = cpu_to_fdt32(ppis[i] - 16);
		irqs[3 * i + 2] = cpu_to_fdt32(flags);
	}
	AVM_FDT_CHECK(fdt_begin_node(fdt, "timer"));
	AVM_FDT_CHECK(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupts", irqs, sizeof(irqs)));
	AVM_FDT_CHECK(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

static int fdt_chosen(void *fdt, const struct avm_fdt_cfg *cfg)
{
	AVM_FDT_CHECK(fdt_begin_node(fdt, "chosen"));
	if (cfg->bootargs)
		AVM_FDT_CHECK(fdt_property_string(fdt, "bootargs", cfg->bootargs));
	if (cfg->stdout_path)
		AVM_FDT_CHECK(fdt_property_string(fdt, "stdout-path", cfg->stdout_path));
	if (cfg->initrd_size) {
		AVM_FDT_CHECK(fdt_property_u64(fdt, "linux,initrd-start",
					       cfg->initrd_start));
		AVM_FDT_CHECK(fdt_property_u64(fdt, "linux,initrd-end",
					       cfg->initrd_start + cfg->initrd_size));
	}
	AVM_FDT_CHECK(fdt_property(fdt, "rng-seed", cfg->rng_seed,
				   sizeof(cfg->rng_seed)));
	AVM_FDT_CHECK(fdt_property_u64(fdt, "kaslr-seed", cfg->kaslr_seed));
	return fdt_end_node(fdt);
}

int avm_fdt_build(void *buf, size_t size, const struct avm_fdt_cfg *cfg)
{
	uint64_t mem[2] = { cfg->ram_base, cfg->ram_size };
	char name[32];
	unsigned int i;

	AVM_FDT_CHECK(fdt_create(buf, size));
	AVM_FDT_CHECK(fdt_finish_reservemap(buf));
	AVM_FDT_CHECK(fdt_begin_node(buf, ""));
	AVM_FDT_CHECK(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	AVM_FDT_CHECK(fdt_property_string(buf, "model", "avm"));
	AVM_FDT_CHECK(fdt_property_u32(buf, "#address-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(buf, "#size-cells", 2));
	AVM_FDT_CHECK(fdt_property_u32(buf, "interrupt-parent", AVM_PHANDLE_GIC));

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->ram_base);
	AVM_FDT_CHECK(fdt_begin_node(buf, name));
	AVM_FDT_CHECK(fdt_property_string(buf, "device_type", "memory"));
	AVM_FDT_CHECK(fdt_prop_u64s(buf, "reg", mem, 2));
	AVM_FDT_CHECK(fdt_end_node(buf));

	AVM_FDT_CHECK(fdt_cpus(buf, cfg));
	AVM_FDT_CHECK(fdt_psci(buf));
	AVM_FDT_CHECK(fdt_timer(buf, cfg));
	for (i = 0; i < cfg->nr_devs; i++)
		if (cfg->devs[i]->fdt_node)
			AVM_FDT_CHECK(cfg->devs[i]->fdt_node(cfg->devs[i], buf));
	AVM_FDT_CHECK(fdt_chosen(buf, cfg));

	AVM_FDT_CHECK(fdt_end_node(buf));
	AVM_FDT_CHECK(fdt_finish(buf));
	/* fdt_finish leaves a sequential-write tree: make it a normal one */
	AVM_FDT_CHECK(fdt_open_into(buf, buf, size));
	return fdt_pack(buf);
}

int avm_fdt_adopt(void *buf, size_t size, const void *user, size_t user_size,
		  const struct avm_fdt_cfg *cfg)
{
	int chosen;

	if (user_size < FDT_V1_SIZE)
		return -FDT_ERR_TRUNCATED;
	AVM_FDT_CHECK(fdt_check_header(user));
	if (fdt_totalsize(user) > user_size)
		return -FDT_ERR_TRUNCATED;
	AVM_FDT_CHECK(fdt_open_into(user, buf, size));
	/* a walk over every node: a corrupt structure block fails here */
	AVM_FDT_CHECK(fdt_check_full(buf, size));

	chosen = fdt_path_offset(buf, "/chosen");
	if (chosen == -FDT_ERR_NOTFOUND)
		chosen = fdt_add_subnode(buf, 0, "chosen");
	AVM_FDT_CHECK(chosen);
	if (cfg->bootargs)
		AVM_FDT_CHECK(fdt_setprop_string(buf, chosen, "bootargs", cfg->bootargs));
	if (cfg->initrd_size) {
		AVM_FDT_CHECK(fdt_setprop_u64(buf, chosen, "linux,initrd-start",
					      cfg->initrd_start));
		AVM_FDT_CHECK(fdt_setprop_u64(buf, chosen, "linux,initrd-end",
					      cfg->initrd_start + cfg->initrd_size));
	}
	AVM_FDT_CHECK(fdt_setprop(buf, chosen, "rng-seed", cfg->rng_seed,
				  sizeof(cfg->rng_seed)));
	AVM_FDT_CHECK(fdt_setprop_u64(buf, chosen, "kaslr-seed", cfg->kaslr_seed));
	return fdt_pack(buf);
}
