/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM: /dev/avcpu's VM and vCPUs, guest RAM, the MMIO bus, the vCPU
 * threads and their exits (vm.c, vcpu.c).
 */
#ifndef AVM_VM_H
#define AVM_VM_H

#include <pthread.h>
#include <stdatomic.h>

#include "avm.h"

struct gic;
struct pl011;
struct virtio_dev;

/* PSCI power state of a vCPU as avm tracks it */
enum avm_power { AVM_POWER_OFF, AVM_POWER_ON_PENDING, AVM_POWER_ON };

struct avm_vcpu {
	struct avm *vm;
	unsigned int id;
	int fd;
	struct avcpu_run *run;
	uint64_t mpidr;
	int host_cpu;
	pthread_t thread;
	bool thread_started;
	atomic_bool kickable;		/* the thread runs: SIGQUIT may signal it */
	enum avm_power power;		/* vm->lock */
	uint64_t entry, context;	/* vm->lock: set by CPU_ON */
	/* exits by AVCPU_EXIT_*, and MMIO exits by device (last: none) */
	unsigned long exits[AVCPU_EXIT_SEND_IPI + 1];
	unsigned long mmio_exits[AVM_MAX_DEVS + 1];
};

struct avm {
	int dev_fd;
	int vm_fd;
	struct avcpu_caps caps;
	int run_size;
	bool fast_paths;		/* IOEVENTFD, IRQFD and KERNEL_SGI in use */
	struct avcpu_coalesced_ring *cring;	/* coalesced MMIO, if used */
	pthread_mutex_t cring_lock;
	unsigned long coalesced[AVM_MAX_DEVS + 1];	/* cring_lock: by device */

	uint8_t *ram;
	uint64_t ram_base;
	uint64_t ram_size;
	struct avm_mem mem;		/* the same, for the devices */

	unsigned int nr_cpus;
	struct avm_vcpu vcpus[AVM_MAX_CPUS];
	uint64_t mpidr[AVM_MAX_CPUS];

	struct avm_dev *devs[AVM_MAX_DEVS];
	unsigned int nr_devs;
	struct gic *gic;
	unsigned int gic_version;	/* the board's: 3, or 2 */
	struct pl011 *uart;
	struct virtio_dev *virtio[AVM_VIRTIO_MAX];	/* transport n */
	unsigned int nr_virtio;
	struct virtio_dev *console;	/* the virtio console, if any */
	int uart_in;			/* what the PL011 receives */
	int term_out;			/* the terminal's bytes, filtered */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ended;			/* lock */
	bool quit;			/* lock: the user said Ctrl-A x */
	int exit_code;			/* lock */
	unsigned int warned_mmio;
	unsigned int warned_hvc;
	unsigned int warned_sysreg;
};

/* Open /dev/avcpu; check @nr_cpus and @ram_size against what it can do. */
int avm_vm_open(struct avm *vm, unsigned int nr_cpus, uint64_t ram_size);
/* Guest RAM, in avm: the loader fills it before the VM exists. */
int avm_ram_alloc(struct avm *vm, uint64_t ram_size);
/* Then create the VM on that RAM, and @nr_cpus vCPUs. */
int avm_vm_create(struct avm *vm, unsigned int nr_cpus);
void avm_vm_destroy(struct avm *vm);
int avm_add_device(struct avm *vm, struct avm_dev *dev);
/* The index in vm->devs of the device whose range holds the access, or -1 */
int avm_find_device(struct avm *vm, uint64_t addr, unsigned int len);

/*
 * avcpu's fast paths (Documentation/api.rst): in-kernel SGI delivery on
 * now, IOEVENTFD and IRQFD usable. 0, or -EOPNOTSUPP on a module without
 * them (everything takes the exits to avm then).
 */
int avm_vm_fast_paths(struct avm *vm);
/*
 * Guest stores in [@addr, @addr + @size) go to the coalesced MMIO ring
 * (mapped at the first call): 0 or -errno.
 */
int avm_vm_coalesce(struct avm *vm, uint64_t addr, uint32_t size);
/*
 * Apply the stores waiting in the coalesced ring, in order (any thread;
 * every vCPU thread calls it each time RUN returns, before anything else).
 */
void avm_vm_drain(struct avm *vm);
/* A guest store of @len bytes at @addr signals eventfd @fd: 0 or -errno */
int avm_vm_ioeventfd(struct avm *vm, uint64_t addr, unsigned int len, int fd);
/* The VM's counters (AVCPU_GET_STATS): 0 or -errno */
int avm_vm_stats(struct avm *vm, struct avcpu_stats *st);

/* The GIC's way to the vCPUs' interrupt state (SET/GET/INJECT_IRQ, IRQFD) */
extern const struct avm_irq_ops avm_vcpu_irq_ops;

/*
 * After avm_vm_wait(), for a reboot: every vCPU off and unbound, ready
 * for avm_vm_start() again; -1 if the user asked to quit meanwhile.
 */
int avm_vm_restart(struct avm *vm);
/* Clean @len bytes at @p to the point of coherency, the I-cache too. */
void avm_cache_sync(const void *p, size_t len);
/* Start vCPU 0 at @entry with x0 = @x0, then every vCPU thread. */
int avm_vm_start(struct avm *vm, uint64_t entry, uint64_t x0);
/* Wait for the guest to end; its exit status (AVM_EXIT_*). */
int avm_vm_wait(struct avm *vm);
/* End the VM with @code (the first caller wins) and stop every vCPU. */
void avm_vm_end(struct avm *vm, int code);
/* The user asked to quit: end with AVM_EXIT_OFF, and no reboot after. */
void avm_vm_quit(struct avm *vm);
/* Exit counts, avm's and avcpu's, and avm's memory, on stderr (AVM_DEBUG) */
void avm_vm_print_stats(struct avm *vm, double seconds);
void avm_vm_print_kernel_stats(struct avm *vm);
/*
 * kB of this process resident outside the mapping that starts at @skip
 * (guest RAM), from /proc/self/smaps; -1 when it cannot be read. Mappings
 * with @report_kb or more (0: none) are named on stderr.
 */
long avm_rss_outside(const void *skip, unsigned long report_kb);

#endif /* AVM_VM_H */
