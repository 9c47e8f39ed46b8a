/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avm: the small VMM of avcpu. Shared definitions: the guest memory map
 * (QEMU's "virt" board), the device interface, exit codes.
 * Documentation/vmm.rst describes the whole program.
 */
#ifndef AVM_H
#define AVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/avcpu.h>

#define AVM_VERSION		"0.1"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Guest physical memory map: QEMU's virt board (hw/arm/virt.c). */
#define AVM_GICD_BASE		0x08000000ULL
#define AVM_GICD_SIZE		0x00010000ULL
#define AVM_GICC_BASE		0x08010000ULL	/* GICv2: the CPU interface */
#define AVM_GICC_SIZE		0x00002000ULL
#define AVM_GICR_BASE		0x080a0000ULL
#define AVM_GICR_STRIDE		0x00020000ULL	/* RD_base + SGI_base frames */
#define AVM_UART_BASE		0x09000000ULL
#define AVM_UART_SIZE		0x00001000ULL
/* virtio-mmio transports: virt's 32 of them, 0x200 bytes each */
#define AVM_VIRTIO_BASE		0x0a000000ULL
#define AVM_VIRTIO_SIZE		0x00000200ULL
#define AVM_VIRTIO_MAX		32
#define AVM_RAM_BASE		0x40000000ULL

/* INTIDs: PPIs as the virt board wires them, SPIs from 32. */
#define AVM_PPI_MAINT		25
#define AVM_PPI_HYP_TIMER	26
#define AVM_PPI_VIRT_TIMER	27
#define AVM_PPI_SEC_TIMER	29
#define AVM_PPI_PHYS_TIMER	30
#define AVM_SPI_UART		33
#define AVM_SPI_VIRTIO		48	/* transport n: INTID 48 + n, edge */
/*
 * 64 SPIs, INTIDs 32-95: the UART's and every virtio transport's, and no
 * more, since Linux's GICv3 driver writes each SPI's IROUTER, priority
 * and trigger at boot, one exit to avm per register (QEMU's virt has 256).
 */
#define AVM_NR_IRQS		96

#define AVM_MAX_CPUS		64
/* the GIC's two frames, the PL011 and every virtio-mmio transport */
#define AVM_MAX_DEVS		(3 + AVM_VIRTIO_MAX)

/* Fixed phandles of the device tree. */
#define AVM_PHANDLE_GIC		1
#define AVM_PHANDLE_CLK		2

/* Exit status of avm (Documentation/vmm.rst, "Exit status"). */
#define AVM_EXIT_OFF		0	/* the guest called PSCI SYSTEM_OFF */
#define AVM_EXIT_ERROR		1	/* bad input or a host-side error */
#define AVM_EXIT_RESET		2	/* SYSTEM_RESET, with --no-reboot */
#define AVM_EXIT_CRASH		3	/* the guest cannot go on */
#define AVM_EXIT_CPUS_OFF	4	/* every vCPU called PSCI CPU_OFF */

/*
 * An emulated device: one MMIO range, its handlers and its device-tree
 * node, registered together (avm_add_device()). Offsets are from @base;
 * @len is 1, 2, 4 or 8; @cpu is the vCPU that made the access.
 */
struct avm_dev {
	const char *name;
	uint64_t base;
	uint64_t size;
	uint64_t (*read)(struct avm_dev *dev, unsigned int cpu, uint64_t off,
			 unsigned int len);
	void (*write)(struct avm_dev *dev, unsigned int cpu, uint64_t off,
		      unsigned int len, uint64_t val);
	/* Adds the device's nodes under / with fdt_begin_node() and co. */
	int (*fdt_node)(struct avm_dev *dev, void *fdt);
	void *priv;
};

/*
 * Guest RAM as the devices see it: @size bytes from guest physical @base,
 * mapped at @host in avm.
 */
struct avm_mem {
	uint8_t *host;
	uint64_t base;
	uint64_t size;
};

/*
 * avm's view of guest bytes [@gpa, @gpa + @len), or NULL when any of them
 * is outside RAM: the one check every guest-supplied address goes
 * through. Both values are the guest's, so nothing is added: below the
 * base, @off wraps to beyond any RAM size; @len is compared with what is
 * left.
 */
static inline void *avm_mem_ptr(const struct avm_mem *m, uint64_t gpa,
				uint64_t len)
{
	uint64_t off = gpa - m->base;

	if (off > m->size || len > m->size - off)
		return NULL;
	return m->host + off;
}

/*
 * How the GIC model reaches a vCPU's interrupt state: in avm these are the
 * AVCPU_SET_IRQ, AVCPU_GET_IRQ and AVCPU_INJECT_IRQ ioctls, and AVCPU_IRQFD
 * to bind (@assign) or unbind eventfd @fd to a line (optional); unit tests
 * put a recorder behind them. Each returns 0 or a negative errno.
 */
struct avm_irq_ops {
	int (*set)(void *ctx, unsigned int cpu, const struct avcpu_irq *irq);
	int (*get)(void *ctx, unsigned int cpu, struct avcpu_irq *irq);
	int (*line)(void *ctx, unsigned int cpu, uint32_t intid, int level);
	/* GICv2: raise SGI @intid in @cpu from @source (optional: line()) */
	int (*sgi)(void *ctx, unsigned int cpu, uint32_t intid, unsigned int source);
	int (*irqfd)(void *ctx, unsigned int cpu, uint32_t intid, int fd,
		     bool assign);
};

/* Messages: "avm: ..." on stderr. */
void avm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void avm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warn at most @limit times per *@count (a site's own counter). */
void avm_warn_limited(unsigned int *count, unsigned int limit,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline uint64_t avm_mpidr(unsigned int id)
{
	/* KVM's layout: 16 CPUs per cluster (GICv3 Aff0 without RSS). */
	return (id & 0xf) | ((uint64_t)((id >> 4) & 0xff) << 8);
}

#endif /* AVM_H */
