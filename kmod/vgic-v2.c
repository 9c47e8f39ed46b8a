// SPDX-License-Identifier: GPL-2.0
/*
 * The GICv2 back end of vgic.c: a GIC with the virtualization extensions
 * (GIC-400 on Raspberry Pi 4/5 class boards; QEMU virt with
 * gic-version=2,virtualization=on). Arm GIC architecture specification
 * v2, IHI 0048B, chapter 5 "GIC Support for Virtualization".
 *
 * The hypervisor control interface (GICH) is an MMIO frame, banked per CPU:
 * the same address shows each CPU its own list registers. Unlike GICv3's
 * ICH_*_EL2 it needs no EL2, so the LRs are moved here, at EL1 or EL2
 * alike, with IRQs off around the entry: loaded after vgic.c chose them,
 * read back before vgic.c folds them in. The world switch does nothing
 * for the GIC on such a host (ctx.vgic.nr_lrs is 0 there).
 *
 * vgic.c keeps its list registers in the ICH_LR<n>_EL2 layout whatever
 * the host; this file translates to and from GICH_LR<n> (IHI 0048B,
 * 5.3.12). GICH_HCR and GICH_VMCR keep their GICv3 counterparts' bit
 * positions (En, LRENPIE, NPIE, EOICount; the group enables and the
 * priority mask's top bits), so vgic.c reads them unchanged.
 *
 * The guest's CPU interface is the GICV frame, mapped at stage 2 where the
 * VMM asks (AVCPU_SET_GICV, stage2.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/bitfield.h>
#include <linux/io.h>
#include <linux/of.h>
#include <linux/of_address.h>

#include "avcpu.h"

/* GICH registers (IHI 0048B, 5.3 "GIC virtual interface control registers") */
#define GICH_HCR		0x000
#define GICH_VTR		0x004
#define GICH_VMCR		0x008
#define GICH_APR		0x0f0
#define GICH_LR(n)		(0x100 + 4 * (n))
#define GICH_FRAME_SIZE		0x200

#define GICH_VTR_LISTREGS	GENMASK(5, 0)
#define GICH_VTR_PREBITS	GENMASK(28, 26)
#define GICH_VTR_PRIBITS	GENMASK(31, 29)

/* GICH_LR<n>, software interrupts (HW = 0) */
#define GICH_LR_VIRTUALID	GENMASK(9, 0)
#define GICH_LR_CPUID		GENMASK(12, 10)
#define GICH_LR_EOI		BIT(19)
#define GICH_LR_PRIORITY	GENMASK(27, 23)
#define GICH_LR_PENDING		BIT(28)
#define GICH_LR_ACTIVE		BIT(29)
#define GICH_LR_GRP1		BIT(30)

/* The GICC/GICV frame: GICC_DIR is at 0x1000, so the interface spans 8K */
#define GICV_FRAME_SIZE		SZ_8K

static void __iomem *avcpu_gich;
static phys_addr_t avcpu_gicv_phys;

static const char *const avcpu_gicv2_compat[] = {
	"arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic", NULL
};

/*
 * Device tree (the kernel's arm,gic.yaml): reg holds the distributor, the
 * CPU interface, then GICH and GICV when the virtualization extensions are
 * there; the node's first interrupt is the maintenance interrupt
 * (hostirq.c).
 */
static int avcpu_gicv2_of(phys_addr_t *gich, phys_addr_t *gicv, u64 *gicv_size)
{
	const char *const *c;
	struct device_node *np = NULL;
	struct resource h, v;
	int err;

	for (c = avcpu_gicv2_compat; *c && !np; c++)
		np = of_find_compatible_node(NULL, NULL, *c);
	if (!np)
		return -ENODEV;
	err = of_address_to_resource(np, 2, &h);
	if (!err)
		err = of_address_to_resource(np, 3, &v);
	of_node_put(np);
	if (err)
		return -ENODEV;
	*gich = h.start;
	*gicv = v.start;
	*gicv_size = resource_size(&v);
	return 0;
}

#ifdef CONFIG_ACPI
/*
 * ACPI: every GICC entry of the MADT (ACPI 6.5, 5.2.12.14) names the GICH
 * and GICV frames' base addresses; one set serves all CPUs (banked).
 */
struct avcpu_gicv2_frames {
	phys_addr_t gich, gicv;
};

static bool avcpu_gicc_frames(const struct acpi_madt_generic_interrupt *gicc, void *arg)
{
	struct avcpu_gicv2_frames *f = arg;

	if (!gicc->gich_base_address || !gicc->gicv_base_address)
		return false;
	f->gich = gicc->gich_base_address;
	f->gicv = gicc->gicv_base_address;
	return true;
}

static int avcpu_gicv2_acpi(phys_addr_t *gich, phys_addr_t *gicv, u64 *gicv_size)
{
	struct avcpu_gicv2_frames f;
	int err;

	err = avcpu_madt_gicc(offsetofend(struct acpi_madt_generic_interrupt,
					  gicv_base_address), avcpu_gicc_frames, &f);
	if (err)
		return err;
	*gich = f.gich;
	*gicv = f.gicv;
	*gicv_size = GICV_FRAME_SIZE;	/* the MADT gives no size */
	return 0;
}
#else
static int avcpu_gicv2_acpi(phys_addr_t *gich, phys_addr_t *gicv, u64 *gicv_size)
{
	return -ENODEV;
}
#endif

/**
 * avcpu_gicv2_probe() - find a GICv2 with the virtualization extensions
 *
 * Called on a host whose CPUs have no GICv3 system register interface.
 * Fills avcpu_host's GIC fields and returns 0, or returns -ENODEV (no such
 * GIC: interrupts stay unavailable, as before) after a dmesg line when
 * the GIC is there but cannot be used.
 */
int avcpu_gicv2_probe(void)
{
	phys_addr_t gich, gicv;
	u64 gicv_size;
	u32 vtr, pri_bits;

	if (avcpu_gicv2_of(&gich, &gicv, &gicv_size) &&
	    avcpu_gicv2_acpi(&gich, &gicv, &gicv_size))
		return -ENODEV;
	/*
	 * The guest's 8K CPU interface is mapped with host pages: the frame
	 * must start on one, and the mapping must not reach past it into
	 * whatever follows (KVM refuses such a GICV too).
	 */
	if (!PAGE_ALIGNED(gicv) || gicv_size < ALIGN(GICV_FRAME_SIZE, PAGE_SIZE)) {
		pr_info("GICv2: GICV frame at %pa (%llu bytes) cannot be mapped with %lu-byte pages: no guest interrupts\n",
			&gicv, gicv_size, PAGE_SIZE);
		return -ENODEV;
	}
	avcpu_gich = ioremap(gich, GICH_FRAME_SIZE);
	if (!avcpu_gich)
		return -ENOMEM;
	avcpu_gicv_phys = gicv;

	vtr = readl_relaxed(avcpu_gich + GICH_VTR);
	/* GICH_LR's priority field holds 5 bits, whatever PRIbits says */
	pri_bits = min_t(u32, FIELD_GET(GICH_VTR_PRIBITS, vtr) + 1, 5);
	avcpu_host.gic_version = 2;
	avcpu_host.nr_lrs = min_t(u32, FIELD_GET(GICH_VTR_LISTREGS, vtr) + 1,
				  AVCPU_MAX_LRS);
	avcpu_host.nr_apr = 1;
	avcpu_host.pri_mask = GENMASK(7, 8 - pri_bits);
	avcpu_host.gicv_size = ALIGN(GICV_FRAME_SIZE, PAGE_SIZE);
	pr_info("GICv2: GICH at %pa, GICV at %pa, %u list registers, %u priority bits\n",
		&gich, &gicv, avcpu_host.nr_lrs, pri_bits);
	return 0;
}

void avcpu_gicv2_exit(void)
{
	if (avcpu_gich)
		iounmap(avcpu_gich);
	avcpu_gich = NULL;
}

phys_addr_t avcpu_gicv2_gicv_phys(void)
{
	return avcpu_gicv_phys;
}

/* ICH_LR<n>_EL2 layout (vgic.c) to GICH_LR<n>, with an SGI's source CPU */
static u32 avcpu_gicv2_lr(u64 lr, u8 src)
{
	u32 v = FIELD_PREP(GICH_LR_VIRTUALID, lr & GICH_LR_VIRTUALID) |
		FIELD_PREP(GICH_LR_PRIORITY, ((lr >> ICH_LR_PRIORITY_SHIFT) & 0xff) >> 3);

	if ((lr & GICH_LR_VIRTUALID) < 16)
		v |= FIELD_PREP(GICH_LR_CPUID, src);
	if (lr & ICH_LR_PENDING_BIT)
		v |= GICH_LR_PENDING;
	if (lr & ICH_LR_ACTIVE_BIT)
		v |= GICH_LR_ACTIVE;
	if (lr & ICH_LR_GROUP)
		v |= GICH_LR_GRP1;
	if (lr & ICH_LR_EOI)
		v |= GICH_LR_EOI;
	return v;
}

/*
 * Before the guest, IRQs off on the vCPU's CPU: every LR is written (the
 * unused ones with 0, so no state of another vCPU lingers), GICH_HCR last,
 * which turns the virtual CPU interface on. The barrier makes the writes
 * reach the GIC before the guest can read its GICV.
 */
void avcpu_gicv2_load(struct avcpu_vgic_cpu *c, const u8 *src)
{
	u32 i;

	writel_relaxed(lower_32_bits(c->vmcr), avcpu_gich + GICH_VMCR);
	writel_relaxed(lower_32_bits(c->ap0r[0]), avcpu_gich + GICH_APR);
	for (i = 0; i < avcpu_host.nr_lrs; i++)
		writel_relaxed(i < c->used_lrs ? avcpu_gicv2_lr(c->lr[i], src[i]) : 0,
			       avcpu_gich + GICH_LR(i));
	writel_relaxed(lower_32_bits(c->hcr), avcpu_gich + GICH_HCR);
	/* the LRs and En reach the GIC before the guest can read its GICV */
	wmb();
}

/*
 * After the guest, IRQs off: GICH_HCR (EOICount) read before En is
 * cleared; the LRs loaded are read back into vgic.c's layout (only their
 * state changes: the guest cannot write an LR) and emptied.
 */
void avcpu_gicv2_save(struct avcpu_vgic_cpu *c)
{
	u32 i;

	c->hcr = readl_relaxed(avcpu_gich + GICH_HCR);
	c->vmcr = readl_relaxed(avcpu_gich + GICH_VMCR);
	writel_relaxed(0, avcpu_gich + GICH_HCR);
	for (i = 0; i < c->used_lrs; i++) {
		u32 v = readl_relaxed(avcpu_gich + GICH_LR(i));

		c->lr[i] &= ~(ICH_LR_PENDING_BIT | ICH_LR_ACTIVE_BIT);
		if (v & GICH_LR_PENDING)
			c->lr[i] |= ICH_LR_PENDING_BIT;
		if (v & GICH_LR_ACTIVE)
			c->lr[i] |= ICH_LR_ACTIVE_BIT;
		writel_relaxed(0, avcpu_gich + GICH_LR(i));
	}
	c->ap0r[0] = readl_relaxed(avcpu_gich + GICH_APR);
}
