// SPDX-License-Identifier: GPL-2.0
/*
 * The VM's resources: /dev/avcpu, the VM and vCPU fds, the run pages,
 * guest RAM, and the MMIO bus the devices register on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

static int vcpu_irq_set(void *ctx, unsigned int cpu, const struct avcpu_irq *irq)
{
	struct avm *vm = ctx;

	return ioctl(vm->vcpus[cpu].fd, AVCPU_SET_IRQ, irq) ? -errno : 0;
}

static int vcpu_irq_get(void *ctx, unsigned int cpu, struct avcpu_irq *irq)
{
	struct avm *vm = ctx;

	return ioctl(vm->vcpus[cpu].fd, AVCPU_GET_IRQ, irq) ? -errno : 0;
}

static int vcpu_irq_line(void *ctx, unsigned int cpu, uint32_t intid, int level)
{
	struct avcpu_irq_level l = { .intid = intid, .level = !!level };
	struct avm *vm = ctx;

	return ioctl(vm->vcpus[cpu].fd, AVCPU_INJECT_IRQ, &l) ? -errno : 0;
}

static int vcpu_irq_sgi(void *ctx, unsigned int cpu, uint32_t intid,
			unsigned int source)
{
	struct avcpu_irq_level l = { .intid = intid, .level = 1, .source = source };
	struct avm *vm = ctx;

	return ioctl(vm->vcpus[cpu].fd, AVCPU_INJECT_IRQ, &l) ? -errno : 0;
}

static int vcpu_irqfd(void *ctx, unsigned int cpu, uint32_t intid, int fd,
		      bool assign)
{
	struct avcpu_irqfd a = {
		.fd = fd, .vcpu_id = cpu, .intid = intid,
		.flags = assign ? 0 : AVCPU_IRQFD_DEASSIGN,
	};
	struct avm *vm = ctx;

	return ioctl(vm->vm_fd, AVCPU_IRQFD, &a) ? -errno : 0;
}

const struct avm_irq_ops avm_vcpu_irq_ops = {
	.set = vcpu_irq_set,
	.get = vcpu_irq_get,
	.line = vcpu_irq_line,
	.sgi = vcpu_irq_sgi,
	.irqfd = vcpu_irqfd,
};

int avm_vm_fast_paths(struct avm *vm)
{
	struct avcpu_enable_cap cap = { .cap = AVCPU_VM_CAP_KERNEL_SGI };

	if (!(vm->caps.flags & AVCPU_CAP_F_FAST_PATHS))
		return -EOPNOTSUPP;
	/* a GICv2 guest's SGIs are distributor writes: avm's to deliver */
	if (vm->caps.gic_version != 2 && ioctl(vm->vm_fd, AVCPU_ENABLE_CAP, &cap))
		return -errno;
	vm->fast_paths = true;
	return 0;
}

int avm_vm_ioeventfd(struct avm *vm, uint64_t addr, unsigned int len, int fd)
{
	struct avcpu_ioeventfd a = { .addr = addr, .len = len, .fd = fd };

	if (!vm->fast_paths)
		return -EOPNOTSUPP;
	return ioctl(vm->vm_fd, AVCPU_IOEVENTFD, &a) ? -errno : 0;
}

int avm_vm_coalesce(struct avm *vm, uint64_t addr, uint32_t size)
{
	struct avcpu_coalesced_zone z = { .addr = addr, .size = size };
	void *p;

	if (!(vm->caps.flags & AVCPU_CAP_F_COALESCED_MMIO))
		return -EOPNOTSUPP;
	if (!vm->cring) {
		p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			 MAP_SHARED, vm->vm_fd, 0);
		if (p == MAP_FAILED)
			return -errno;
		vm->cring = p;
		if (!vm->cring->nr) {
			munmap(p, sysconf(_SC_PAGESIZE));
			vm->cring = NULL;
			return -EINVAL;
		}
	}
	return ioctl(vm->vm_fd, AVCPU_COALESCED_MMIO, &z) ? -errno : 0;
}

void avm_vm_drain(struct avm *vm)
{
	struct avcpu_coalesced_ring *r = vm->cring;
	uint32_t first, last;

	if (!r || __atomic_load_n(&r->first, __ATOMIC_RELAXED) ==
		  __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->cring_lock);
	first = r->first;
	/* the entries before "last", written before it (release, acquire) */
	last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
	while (first != last && first < r->nr) {
		struct avcpu_coalesced_entry e = r->entries[first];
		int i = avm_find_device(vm, e.addr, e.len);

		vm->coalesced[i < 0 ? AVM_MAX_DEVS : i]++;
		if (i >= 0 && e.vcpu_id < vm->nr_cpus)
			vm->devs[i]->write(vm->devs[i], e.vcpu_id,
					   e.addr - vm->devs[i]->base, e.len, e.data);
		first = first + 1 == r->nr ? 0 : first + 1;
	}
	/* the kernel may reuse them now */
	__atomic_store_n(&r->first, first, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->cring_lock);
}

int avm_vm_stats(struct avm *vm, struct avcpu_stats *st)
{
	return ioctl(vm->vm_fd, AVCPU_GET_STATS, st) ? -errno : 0;
}

int avm_vm_open(struct avm *vm, unsigned int nr_cpus, uint64_t ram_size)
{
	vm->dev_fd = open("/dev/avcpu", O_RDWR | O_CLOEXEC);
	if (vm->dev_fd < 0) {
		avm_err("/dev/avcpu: %s (is avcpu.ko loaded, and are you root?)",
			strerror(errno));
		return -1;
	}
	if (ioctl(vm->dev_fd, AVCPU_GET_CAPS, &vm->caps)) {
		avm_err("/dev/avcpu: GET_CAPS: %s", strerror(errno));
		return -1;
	}
	if (vm->caps.api_version != AVCPU_API_VERSION ||
	    !(vm->caps.flags & AVCPU_CAP_F_RUN) || !(vm->caps.flags & AVCPU_CAP_F_IRQ)) {
		avm_err("this host cannot run avm's guests (avcpu API %u, caps 0x%llx)",
			vm->caps.api_version, (unsigned long long)vm->caps.flags);
		return -1;
	}
	if (nr_cpus > vm->caps.max_vcpus) {
		avm_err("--cpus %u: the module allows at most %u vCPUs",
			nr_cpus, vm->caps.max_vcpus);
		return -1;
	}
	if (vm->caps.ipa_bits < 64 &&
	    AVM_RAM_BASE + ram_size > (1ULL << vm->caps.ipa_bits)) {
		avm_err("--mem %llu: beyond the guest's %u-bit physical address space",
			(unsigned long long)(ram_size >> 20), vm->caps.ipa_bits);
		return -1;
	}
	return 0;
}

int avm_ram_alloc(struct avm *vm, uint64_t ram_size)
{
	vm->ram_base = AVM_RAM_BASE;
	vm->ram_size = ram_size;
	/* pages come when first touched: by the loader, or by the guest */
	vm->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		avm_err("guest RAM (%llu MiB): %s", (unsigned long long)(ram_size >> 20),
			strerror(errno));
		return -1;
	}
	vm->mem = (struct avm_mem){
		.host = vm->ram, .base = vm->ram_base, .size = ram_size,
	};
	return 0;
}

int avm_vm_create(struct avm *vm, unsigned int nr_cpus)
{
	struct avcpu_mem_region region = { 0 };
	unsigned int i;

	vm->vm_fd = ioctl(vm->dev_fd, AVCPU_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		avm_err("CREATE_VM: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	pthread_mutex_init(&vm->cring_lock, NULL);
	if (ioctl(vm->vm_fd, AVCPU_SET_NR_IRQS, AVM_NR_IRQS)) {
		avm_err("SET_NR_IRQS: %s", strerror(errno));
		return -1;
	}
	region.slot = 0;
	region.guest_phys_addr = vm->ram_base;
	region.memory_size = vm->ram_size;
	region.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, AVCPU_SET_MEMORY_REGION, &region)) {
		avm_err("SET_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	if (vm->gic_version == 2) {
		struct avcpu_gicv g = { .ipa = AVM_GICC_BASE };

		if (ioctl(vm->vm_fd, AVCPU_SET_GICV, &g)) {
			avm_err("SET_GICV at 0x%llx: %s", (unsigned long long)g.ipa,
				strerror(errno));
			return -1;
		}
	}
	vm->run_size = ioctl(vm->dev_fd, AVCPU_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct avcpu_run)) {
		avm_err("GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}

	for (i = 0; i < nr_cpus; i++) {
		struct avcpu_vcpu_init init = { .vcpu_id = i, .mpidr = avm_mpidr(i) };
		struct avm_vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->mpidr = init.mpidr;
		v->fd = ioctl(vm->vm_fd, AVCPU_CREATE_VCPU, &init);
		if (v->fd < 0) {
			avm_err("CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
		vm->nr_cpus = i + 1;
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			avm_err("vCPU %u run page: %s", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void avm_vm_destroy(struct avm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	if (vm->cring)
		munmap(vm->cring, sysconf(_SC_PAGESIZE));
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->dev_fd >= 0)
		close(vm->dev_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
}

long avm_rss_outside(const void *skip, unsigned long report_kb)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long start, end, kb;
	bool skipping = false;
	char line[512], map[512] = "";
	long total = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a mapping's first line: "start-end perms offset dev inode path" */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			skipping = start == (uintptr_t)skip;
			snprintf(map, sizeof(map), "%s", line);
			map[strcspn(map, "\n")] = 0;
		} else if (!skipping && sscanf(line, "Rss: %lu kB", &kb) == 1) {
			total += kb;
			if (report_kb && kb >= report_kb)
				avm_warn("memory: %lu kB in %s", kb, map);
		}
	}
	fclose(f);
	return total;
}

int avm_add_device(struct avm *vm, struct avm_dev *dev)
{
	unsigned int i;

	if (vm->nr_devs == AVM_MAX_DEVS)
		return -ENOSPC;
	for (i = 0; i < vm->nr_devs; i++) {
		struct avm_dev *d = vm->devs[i];

		if (dev->base < d->base + d->size && d->base < dev->base + dev->size)
			return -EBUSY;
	}
	vm->devs[vm->nr_devs++] = dev;
	return 0;
}

int avm_find_device(struct avm *vm, uint64_t addr, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_devs; i++) {
		struct avm_dev *d = vm->devs[i];

		if (addr >= d->base && addr + len <= d->base + d->size)
			return i;
	}
	return -1;
}

/*
 * What avm wrote into guest RAM at a reboot: the guest starts with its
 * MMU and caches off and reads memory, not avm's cache lines; avcpu
 * cleans a page only when it first maps it (Arm ARM D7.5.9, data and
 * instruction cache maintenance; Linux lets EL0 do this, SCTLR_EL1.UCI).
 */
void avm_cache_sync(const void *p, size_t len)
{
	uintptr_t start = (uintptr_t)p, end = start + len, a;
	uint64_t ctr;
	size_t dline, iline;

	__asm__ __volatile__("mrs %0, ctr_el0" : "=r"(ctr));
	/* CTR_EL0.DminLine and IminLine: log2 of the words in a line */
	dline = 4UL << ((ctr >> 16) & 0xf);
	iline = 4UL << (ctr & 0xf);
	for (a = start & ~(dline - 1); a < end; a += dline)
		__asm__ __volatile__("dc civac, %0" : : "r"(a) : "memory");
	__asm__ __volatile__("dsb sy" : : : "memory");
	for (a = start & ~(iline - 1); a < end; a += iline)
		__asm__ __volatile__("ic ivau, %0" : : "r"(a) : "memory");
	__asm__ __volatile__("dsb sy\n\tisb" : : : "memory");
}
