// SPDX-License-Identifier: GPL-2.0
/*
 * Host side of the guest-running selftests: see avcpu_vm.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "avcpu_vm.h"
#include "guest/gic.h"

/* The linker's bounds of this static, non-PIE executable */
extern char __executable_start[], _end[];

static void __attribute__((noreturn, format(printf, 5, 6)))
vm_assert_fail(const char *file, int line, const char *func,
	       const char *expr, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: %s: assertion '%s' failed: ", file, line, func,
		expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define VM_ASSERT(cond, fmt, ...) do {					\
	if (!(cond))							\
		vm_assert_fail(__FILE__, __LINE__, __func__, #cond,	\
			       fmt, ##__VA_ARGS__);			\
} while (0)

#define VM_FAIL(fmt, ...)						\
	vm_assert_fail(__FILE__, __LINE__, __func__, "0", fmt, ##__VA_ARGS__)

/* For the "__name returns -errno" calls: ret is that -errno. */
#define VM_ASSERT_OK(ret, fmt, ...)					\
	VM_ASSERT(!(ret), fmt ": %s", ##__VA_ARGS__, strerror(-(ret)))

static int ioctl_ret(int ret)
{
	return ret < 0 ? -errno : ret;
}

int avcpu_get_caps(struct avcpu_caps *caps)
{
	int fd, ret;

	fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl_ret(ioctl(fd, AVCPU_GET_CAPS, caps));
	close(fd);
	return ret;
}

static bool avcpu_has_cap(uint64_t flag)
{
	struct avcpu_caps caps;

	return !avcpu_get_caps(&caps) && (caps.flags & flag);
}

bool avcpu_can_run(void)
{
	return avcpu_has_cap(AVCPU_CAP_F_RUN);
}

bool avcpu_has_irq(void)
{
	return avcpu_has_cap(AVCPU_CAP_F_IRQ);
}

bool avcpu_gic_is_v2(void)
{
	struct avcpu_caps caps;

	return !avcpu_get_caps(&caps) && caps.gic_version == 2;
}

const char *exit_reason_str(uint32_t reason)
{
	static const char * const names[] = {
		[AVCPU_EXIT_NONE] = "NONE",
		[AVCPU_EXIT_HYPERCALL] = "HYPERCALL",
		[AVCPU_EXIT_MMIO_READ] = "MMIO_READ",
		[AVCPU_EXIT_MMIO_WRITE] = "MMIO_WRITE",
		[AVCPU_EXIT_SYSREG_READ] = "SYSREG_READ",
		[AVCPU_EXIT_SYSREG_WRITE] = "SYSREG_WRITE",
		[AVCPU_EXIT_EXTERNAL_INTERRUPT] = "EXTERNAL_INTERRUPT",
		[AVCPU_EXIT_NESTED_PAGE_FAULT] = "NESTED_PAGE_FAULT",
		[AVCPU_EXIT_CPU_UP] = "CPU_UP",
		[AVCPU_EXIT_CPU_DOWN] = "CPU_DOWN",
		[AVCPU_EXIT_SYSTEM_DOWN] = "SYSTEM_DOWN",
		[AVCPU_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[AVCPU_EXIT_HALT] = "HALT",
		[AVCPU_EXIT_SEND_IPI] = "SEND_IPI",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown";
}

const char *ucall_cmd_str(uint64_t cmd)
{
	static const char * const names[] = {
		[UCALL_NONE] = "NONE",
		[UCALL_SYNC] = "SYNC",
		[UCALL_DONE] = "DONE",
		[UCALL_ASSERT] = "ASSERT",
		[UCALL_UNHANDLED] = "UNHANDLED",
		[UCALL_PRINTF] = "PRINTF",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "unknown";
}

/* Memory */

int __vm_set_memory_region(struct avcpu_vm *vm, uint32_t slot, uint64_t flags,
			   uint64_t gpa, uint64_t size, void *hva)
{
	struct avcpu_mem_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->fd, AVCPU_SET_MEMORY_REGION, &r))
		return -errno;
	if (slot >= AVCPU_MAX_MEM_SLOTS)	/* a kernel bug: a test will say */
		return 0;
	if (size) {
		vm->regions[slot] = (struct avcpu_vm_region) {
			.used = true, .flags = flags, .gpa = gpa,
			.size = size, .hva = hva,
		};
	} else {
		if (vm->regions[slot].owned)
			munmap(vm->regions[slot].hva, vm->regions[slot].size);
		vm->regions[slot] = (struct avcpu_vm_region) { 0 };
	}
	return 0;
}

void vm_set_memory_region(struct avcpu_vm *vm, uint32_t slot, uint64_t flags,
			  uint64_t gpa, uint64_t size, void *hva)
{
	int ret = __vm_set_memory_region(vm, slot, flags, gpa, size, hva);

	VM_ASSERT_OK(ret, "SET_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx hva %p flags 0x%llx",
		     slot, (unsigned long long)gpa, (unsigned long long)size,
		     hva, (unsigned long long)flags);
}

void *vm_mem_add(struct avcpu_vm *vm, uint32_t slot, uint64_t gpa,
		 uint64_t size, uint64_t flags)
{
	void *hva;

	hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VM_ASSERT(hva != MAP_FAILED, "mmap 0x%llx bytes: %s",
		  (unsigned long long)size, strerror(errno));
	vm_set_memory_region(vm, slot, flags, gpa, size, hva);
	vm->regions[slot].owned = true;
	return hva;
}

static void *gpa2hva_range(struct avcpu_vm *vm, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < AVCPU_MAX_MEM_SLOTS; i++) {
		struct avcpu_vm_region *r = &vm->regions[i];

		if (r->used && gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return (char *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void *__addr_gpa2hva(struct avcpu_vm *vm, uint64_t gpa)
{
	return gpa2hva_range(vm, gpa, 1);
}

void *addr_gpa2hva(struct avcpu_vm *vm, uint64_t gpa)
{
	void *hva = __addr_gpa2hva(vm, gpa);

	VM_ASSERT(hva, "gpa 0x%llx is in no memory slot",
		  (unsigned long long)gpa);
	return hva;
}

/*
 * One run of same-permission pages of the image: READONLY unless writable
 * and not executable. The module pins a writable slot's pages for write,
 * which fails on a read-only or executable mapping; a read-only slot only
 * needs them readable.
 */
struct image_run {
	uint64_t start, end;
	bool readonly;
};

static void map_image_run(struct avcpu_vm *vm, unsigned int *slot,
			  const struct image_run *run)
{
	VM_ASSERT(*slot < VM_STACK_SLOT,
		  "the test image needs more than %d memory slots",
		  VM_STACK_SLOT - VM_LIB_SLOT_FIRST);
	vm_set_memory_region(vm, *slot,
			     run->readonly ? AVCPU_MEM_READONLY : 0,
			     run->start, run->end - run->start,
			     (void *)(uintptr_t)run->start);
	(*slot)++;
}

/*
 * Map this executable's image at IPA == VA: every mapping of
 * /proc/self/maps between the image's first page and the page holding
 * _end. That covers the file mappings and the anonymous rest of .bss (part
 * of [heap] on some kernels), and skips the gap between the segments
 * (unmapped, or a PROT_NONE reservation).
 * Adjacent mappings of the same kind share a slot.
 */
static void vm_map_image(struct avcpu_vm *vm)
{
	uint64_t lo = (uintptr_t)__executable_start & ~(vm->page_size - 1);
	uint64_t hi = ((uintptr_t)_end + vm->page_size - 1) &
		      ~(vm->page_size - 1);
	unsigned int slot = VM_LIB_SLOT_FIRST;
	struct image_run run = { 0 };
	char *line = NULL;
	size_t cap = 0;
	FILE *maps;

	/* The guest's stage 1 makes only GiB 0-1 Normal memory. */
	VM_ASSERT(hi <= GUEST_STACK_IPA || lo >= GUEST_STACK_IPA + GUEST_STACK_AREA_SIZE,
		  "image 0x%llx-0x%llx overlaps the guest stacks",
		  (unsigned long long)lo, (unsigned long long)hi);
	VM_ASSERT(hi <= GUEST_NORMAL_LIMIT,
		  "image 0x%llx-0x%llx is not below 2 GiB: a PIE build?",
		  (unsigned long long)lo, (unsigned long long)hi);

	maps = fopen("/proc/self/maps", "re");
	VM_ASSERT(maps, "/proc/self/maps: %s", strerror(errno));
	while (getline(&line, &cap, maps) > 0) {
		unsigned long start, end;
		char perms[5];
		bool readonly;

		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3)
			continue;
		if (end <= lo || start >= hi)
			continue;
		start = start < lo ? lo : start;
		end = end > hi ? hi : end;
		/* A PROT_NONE hole between segments holds nothing. */
		if (perms[0] != 'r')
			continue;
		readonly = perms[1] != 'w' || perms[2] == 'x';
		if (run.end == start && run.readonly == readonly) {
			run.end = end;
			continue;
		}
		if (run.end)
			map_image_run(vm, &slot, &run);
		run = (struct image_run) { start, end, readonly };
	}
	free(line);
	fclose(maps);
	VM_ASSERT(run.end, "no mapping of the image 0x%llx-0x%llx",
		  (unsigned long long)lo, (unsigned long long)hi);
	map_image_run(vm, &slot, &run);
}

struct avcpu_vm *vm_create(void)
{
	struct avcpu_vm *vm = calloc(1, sizeof(*vm));
	int ret;

	VM_ASSERT(vm, "out of memory");
	vm->page_size = sysconf(_SC_PAGESIZE);
	vm->dev_fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
	VM_ASSERT(vm->dev_fd >= 0, "open %s: %s", AVCPU_DEV, strerror(errno));
	ret = ioctl_ret(ioctl(vm->dev_fd, AVCPU_GET_CAPS, &vm->caps));
	VM_ASSERT_OK(ret, "AVCPU_GET_CAPS");
	ret = ioctl_ret(ioctl(vm->dev_fd, AVCPU_GET_VCPU_MMAP_SIZE, 0));
	VM_ASSERT(ret > 0, "AVCPU_GET_VCPU_MMAP_SIZE: %d (%s)", ret,
		  ret < 0 ? strerror(-ret) : "too small");
	vm->run_size = ret;
	VM_ASSERT(vm->run_size >= sizeof(struct avcpu_run),
		  "AVCPU_GET_VCPU_MMAP_SIZE %zu < struct avcpu_run", vm->run_size);
	vm->fd = ioctl_ret(ioctl(vm->dev_fd, AVCPU_CREATE_VM, 0));
	VM_ASSERT(vm->fd >= 0, "AVCPU_CREATE_VM: %s", strerror(-vm->fd));

	/* Before the first guest runs: tables and handlers to defaults. */
	guest_runtime_reset();
	vm_map_image(vm);
	vm_mem_add(vm, VM_STACK_SLOT, GUEST_STACK_IPA, GUEST_STACK_AREA_SIZE, 0);
	/* a GICv2 guest's CPU interface is the host's GICV frame (gic.h) */
	guest_gicc = 0;
	if (vm->caps.gic_version == 2) {
		struct avcpu_gicv g = { .ipa = GUEST_GICC_IPA };

		ret = ioctl_ret(ioctl(vm->fd, AVCPU_SET_GICV, &g));
		VM_ASSERT_OK(ret, "AVCPU_SET_GICV at 0x%llx", (unsigned long long)g.ipa);
		guest_gicc = GUEST_GICC_IPA;
	}
	return vm;
}

void vm_free(struct avcpu_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < GUEST_MAX_VCPUS; i++)
		vcpu_free(vm->vcpus[i]);
	/* The VM's pins go with its last fd; unmap the memory after. */
	close(vm->fd);
	close(vm->dev_fd);
	for (i = 0; i < AVCPU_MAX_MEM_SLOTS; i++)
		if (vm->regions[i].owned)
			munmap(vm->regions[i].hva, vm->regions[i].size);
	free(vm);
}

/* vCPUs */

int __vm_vcpu_create(struct avcpu_vm *vm, uint32_t id,
		     struct avcpu_vcpu **out)
{
	struct avcpu_vcpu_init init = { .vcpu_id = id, .mpidr = id };
	struct avcpu_vcpu *vcpu;
	int ret;

	if (id >= GUEST_MAX_VCPUS)
		return -EINVAL;
	if (vm->vcpus[id])
		return -EEXIST;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl_ret(ioctl(vm->fd, AVCPU_CREATE_VCPU, &init));
	if (vcpu->fd < 0) {
		ret = vcpu->fd;
		free(vcpu);
		return ret;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		close(vcpu->fd);
		free(vcpu);
		return ret;
	}
	vm->vcpus[id] = vcpu;
	*out = vcpu;
	return 0;
}

struct avcpu_vcpu *vm_vcpu_create(struct avcpu_vm *vm, uint32_t id)
{
	struct avcpu_vcpu *vcpu = NULL;
	int ret = __vm_vcpu_create(vm, id, &vcpu);

	VM_ASSERT_OK(ret, "vCPU %u: CREATE_VCPU and mmap of its run page", id);
	return vcpu;
}

int __vcpu_setup(struct avcpu_vcpu *vcpu, void (*guest_code)(void),
		 uint64_t flags)
{
	struct avcpu_setup setup = {
		.entry = (uintptr_t)guest_entry,
		.x0 = (uintptr_t)guest_code,
		.flags = flags,
	};
	struct avcpu_regs regs;
	int ret;

	if (ioctl(vcpu->fd, AVCPU_SETUP, &setup))
		return -errno;
	/* SETUP reset every other register: add what guest_entry expects. */
	ret = __vcpu_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	regs.x[1] = vcpu->id;
	regs.sp_el1 = GUEST_STACK_IPA + (uint64_t)(vcpu->id + 1) * GUEST_STACK_SIZE;
	return __vcpu_set_regs(vcpu, &regs);
}

void vcpu_setup(struct avcpu_vcpu *vcpu, void (*guest_code)(void),
		uint64_t flags)
{
	int ret = __vcpu_setup(vcpu, guest_code, flags);

	VM_ASSERT_OK(ret, "vCPU %u: SETUP (flags 0x%llx) and SET_REGS",
		     vcpu->id, (unsigned long long)flags);
}

int __vcpu_bind(struct avcpu_vcpu *vcpu, uint32_t cpu)
{
	struct avcpu_bind bind = { .cpu = cpu };

	return ioctl(vcpu->fd, AVCPU_BIND, &bind) ? -errno : 0;
}

void vcpu_bind(struct avcpu_vcpu *vcpu, uint32_t cpu)
{
	int ret = __vcpu_bind(vcpu, cpu);

	VM_ASSERT_OK(ret, "vCPU %u: BIND to cpu 0x%x", vcpu->id, cpu);
}

int __vcpu_unbind(struct avcpu_vcpu *vcpu)
{
	return ioctl(vcpu->fd, AVCPU_UNBIND, 0) ? -errno : 0;
}

void vcpu_unbind(struct avcpu_vcpu *vcpu)
{
	int ret = __vcpu_unbind(vcpu);

	VM_ASSERT_OK(ret, "vCPU %u: UNBIND", vcpu->id);
}

struct avcpu_vcpu *vm_vcpu_add(struct avcpu_vm *vm, uint32_t id,
			       void (*guest_code)(void))
{
	struct avcpu_vcpu *vcpu = vm_vcpu_create(vm, id);

	vcpu_setup(vcpu, guest_code, 0);
	vcpu_bind(vcpu, AVCPU_BIND_CURRENT_CPU);
	return vcpu;
}

void vcpu_free(struct avcpu_vcpu *vcpu)
{
	if (!vcpu)
		return;
	vcpu->vm->vcpus[vcpu->id] = NULL;
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	free(vcpu);
}

int vcpu_get_state(struct avcpu_vcpu *vcpu)
{
	return ioctl_ret(ioctl(vcpu->fd, AVCPU_GET_STATE, 0));
}

int vcpu_wait_state(struct avcpu_vcpu *vcpu, int want, volatile int *flag,
		    double limit_s)
{
	double t0 = avcpu_now();
	int state;

	for (;;) {
		state = vcpu_get_state(vcpu);
		if (state == want && (!flag || *flag))
			return state;
		if (avcpu_now() - t0 >= limit_s)
			return state;
		usleep(1000);
	}
}

int __vcpu_inject_sgi(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t source)
{
	struct avcpu_irq_level l = { .intid = intid, .level = 1, .source = source };

	return ioctl_ret(ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l));
}

int __vcpu_irq_line(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t level)
{
	struct avcpu_irq_level l = { .intid = intid, .level = level };

	return ioctl(vcpu->fd, AVCPU_INJECT_IRQ, &l) ? -errno : 0;
}

void vcpu_irq_line(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t level)
{
	int ret = __vcpu_irq_line(vcpu, intid, level);

	VM_ASSERT_OK(ret, "vCPU %u: INJECT_IRQ intid %u level %u", vcpu->id,
		     intid, level);
}

void vcpu_inject_irq(struct avcpu_vcpu *vcpu, uint32_t intid)
{
	vcpu_irq_line(vcpu, intid, 1);
}

int __vcpu_get_irq(struct avcpu_vcpu *vcpu, struct avcpu_irq *irq)
{
	return ioctl(vcpu->fd, AVCPU_GET_IRQ, irq) ? -errno : 0;
}

uint64_t vcpu_get_irq(struct avcpu_vcpu *vcpu, uint32_t intid,
		      uint8_t *priority)
{
	struct avcpu_irq irq = { .intid = intid };
	int ret = __vcpu_get_irq(vcpu, &irq);

	VM_ASSERT_OK(ret, "vCPU %u: GET_IRQ intid %u", vcpu->id, intid);
	if (priority)
		*priority = irq.priority;
	return irq.flags;
}

int __vcpu_set_irq(struct avcpu_vcpu *vcpu, const struct avcpu_irq *irq)
{
	return ioctl(vcpu->fd, AVCPU_SET_IRQ, irq) ? -errno : 0;
}

void vcpu_set_irq(struct avcpu_vcpu *vcpu, uint32_t intid, uint64_t set_mask,
		  uint64_t flags, uint8_t priority)
{
	struct avcpu_irq irq = {
		.intid = intid,
		.priority = priority,
		.flags = flags,
		.set_mask = set_mask,
	};
	int ret = __vcpu_set_irq(vcpu, &irq);

	VM_ASSERT_OK(ret, "vCPU %u: SET_IRQ intid %u mask %#llx flags %#llx",
		     vcpu->id, intid, (unsigned long long)set_mask,
		     (unsigned long long)flags);
}

int __vm_set_nr_irqs(struct avcpu_vm *vm, uint32_t nr_irqs)
{
	return ioctl(vm->fd, AVCPU_SET_NR_IRQS, (unsigned long)nr_irqs) ?
	       -errno : 0;
}

int __vm_get_counter_offset(struct avcpu_vm *vm, uint64_t *offset)
{
	struct avcpu_counter_offset o = { 0 };

	if (ioctl(vm->fd, AVCPU_GET_COUNTER_OFFSET, &o))
		return -errno;
	*offset = o.offset;
	return 0;
}

int __vm_set_counter_offset(struct avcpu_vm *vm, uint64_t offset)
{
	struct avcpu_counter_offset o = { .offset = offset };

	return ioctl(vm->fd, AVCPU_SET_COUNTER_OFFSET, &o) ? -errno : 0;
}

int __vcpu_run(struct avcpu_vcpu *vcpu)
{
	return ioctl(vcpu->fd, AVCPU_RUN, 0) ? -errno : 0;
}

void vcpu_run(struct avcpu_vcpu *vcpu)
{
	int ret = __vcpu_run(vcpu);

	VM_ASSERT_OK(ret, "vCPU %u: RUN (exit reason %s)", vcpu->id,
		     exit_reason_str(vcpu->run->exit_reason));
}

int __vcpu_get_regs(struct avcpu_vcpu *vcpu, struct avcpu_regs *regs)
{
	return ioctl(vcpu->fd, AVCPU_GET_REGS, regs) ? -errno : 0;
}

void vcpu_get_regs(struct avcpu_vcpu *vcpu, struct avcpu_regs *regs)
{
	int ret = __vcpu_get_regs(vcpu, regs);

	VM_ASSERT_OK(ret, "vCPU %u: GET_REGS", vcpu->id);
}

int __vcpu_set_regs(struct avcpu_vcpu *vcpu, const struct avcpu_regs *regs)
{
	return ioctl(vcpu->fd, AVCPU_SET_REGS, regs) ? -errno : 0;
}

void vcpu_set_regs(struct avcpu_vcpu *vcpu, const struct avcpu_regs *regs)
{
	int ret = __vcpu_set_regs(vcpu, regs);

	VM_ASSERT_OK(ret, "vCPU %u: SET_REGS", vcpu->id);
}

int __vcpu_get_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		      uint64_t *value)
{
	struct avcpu_sysreg reg = { .encoding = encoding };

	if (ioctl(vcpu->fd, AVCPU_GET_SYSREG, &reg))
		return -errno;
	*value = reg.value;
	return 0;
}

uint64_t vcpu_get_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding)
{
	uint64_t value = 0;
	int ret = __vcpu_get_sysreg(vcpu, encoding, &value);

	VM_ASSERT_OK(ret, "vCPU %u: GET_SYSREG 0x%x", vcpu->id, encoding);
	return value;
}

int __vcpu_set_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		      uint64_t value)
{
	struct avcpu_sysreg reg = { .encoding = encoding, .value = value };

	return ioctl(vcpu->fd, AVCPU_SET_SYSREG, &reg) ? -errno : 0;
}

void vcpu_set_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		     uint64_t value)
{
	int ret = __vcpu_set_sysreg(vcpu, encoding, value);

	VM_ASSERT_OK(ret, "vCPU %u: SET_SYSREG 0x%x = 0x%llx", vcpu->id,
		     encoding, (unsigned long long)value);
}

/* ucalls */

uint64_t get_ucall(struct avcpu_vcpu *vcpu, struct ucall *uc)
{
	struct avcpu_run *run = vcpu->run;
	struct ucall copy = { 0 };
	const struct ucall *src;

	if (run->exit_reason == AVCPU_EXIT_MMIO_WRITE &&
	    run->mmio.addr == UCALL_MMIO_ADDR) {
		VM_ASSERT(run->mmio.width == 8,
			  "vCPU %u: %u-byte store to the ucall address",
			  vcpu->id, run->mmio.width);
		src = gpa2hva_range(vcpu->vm, run->mmio.data, sizeof(*src));
		VM_ASSERT(src, "vCPU %u: ucall at gpa 0x%llx is not in guest RAM",
			  vcpu->id, (unsigned long long)run->mmio.data);
		memcpy(&copy, src, sizeof(copy));
		copy.buf[sizeof(copy.buf) - 1] = '\0';
		/* A guest bug must not look like "no ucall". */
		VM_ASSERT(copy.cmd != UCALL_NONE, "vCPU %u: ucall with cmd 0",
			  vcpu->id);
	}
	if (uc)
		*uc = copy;
	return copy.cmd;
}

static const char * const vector_names[VECTOR_NUM] = {
	"SYNC_CURRENT_SP0", "IRQ_CURRENT_SP0", "FIQ_CURRENT_SP0",
	"SERROR_CURRENT_SP0", "SYNC_CURRENT", "IRQ_CURRENT", "FIQ_CURRENT",
	"SERROR_CURRENT", "SYNC_LOWER_64", "IRQ_LOWER_64", "FIQ_LOWER_64",
	"SERROR_LOWER_64", "SYNC_LOWER_32", "IRQ_LOWER_32", "FIQ_LOWER_32",
	"SERROR_LOWER_32",
};

void ucall_dump(FILE *f, const struct ucall *uc)
{
	uint64_t vector = uc->args[UCALL_UNHANDLED_VECTOR];
	uint64_t esr = uc->args[UCALL_UNHANDLED_ESR];

	switch (uc->cmd) {
	case UCALL_ASSERT:
		fprintf(f, "guest assertion failed: %s\n", uc->buf);
		break;
	case UCALL_PRINTF:
		fprintf(f, "guest: %s\n", uc->buf);
		break;
	case UCALL_UNHANDLED:
		fprintf(f, "guest: unhandled exception: vector %llu (%s), ESR 0x%llx (EC 0x%llx), ELR 0x%llx, FAR 0x%llx\n",
			(unsigned long long)vector,
			vector < VECTOR_NUM ? vector_names[vector] : "?",
			(unsigned long long)esr,
			(unsigned long long)ESR_EC(esr),
			(unsigned long long)uc->args[UCALL_UNHANDLED_ELR],
			(unsigned long long)uc->args[UCALL_UNHANDLED_FAR]);
		break;
	default:
		fprintf(f, "ucall %s (%llu): args 0x%llx 0x%llx 0x%llx 0x%llx\n",
			ucall_cmd_str(uc->cmd), (unsigned long long)uc->cmd,
			(unsigned long long)uc->args[0],
			(unsigned long long)uc->args[1],
			(unsigned long long)uc->args[2],
			(unsigned long long)uc->args[3]);
	}
}

void vcpu_dump_exit(FILE *f, struct avcpu_vcpu *vcpu)
{
	struct avcpu_run *run = vcpu->run;
	struct avcpu_regs regs;

	fprintf(f, "vCPU %u: exit %s (%u)", vcpu->id,
		exit_reason_str(run->exit_reason), run->exit_reason);
	switch (run->exit_reason) {
	case AVCPU_EXIT_HYPERCALL:
		fprintf(f, ": %s #0x%x nr 0x%llx args 0x%llx 0x%llx 0x%llx",
			run->hypercall.conduit == AVCPU_CONDUIT_SMC ? "SMC" : "HVC",
			run->hypercall.imm,
			(unsigned long long)run->hypercall.nr,
			(unsigned long long)run->hypercall.args[0],
			(unsigned long long)run->hypercall.args[1],
			(unsigned long long)run->hypercall.args[2]);
		break;
	case AVCPU_EXIT_MMIO_READ:
	case AVCPU_EXIT_MMIO_WRITE:
		fprintf(f, ": addr 0x%llx width %u data 0x%llx reg %u",
			(unsigned long long)run->mmio.addr, run->mmio.width,
			(unsigned long long)run->mmio.data, run->mmio.reg);
		break;
	case AVCPU_EXIT_SYSREG_READ:
	case AVCPU_EXIT_SYSREG_WRITE:
		fprintf(f, ": encoding 0x%x (op0 %u op1 %u CRn %u CRm %u op2 %u) reg %u value 0x%llx",
			run->sysreg.encoding, run->sysreg.encoding >> 14,
			(run->sysreg.encoding >> 11) & 7,
			(run->sysreg.encoding >> 7) & 15,
			(run->sysreg.encoding >> 3) & 15,
			run->sysreg.encoding & 7, run->sysreg.reg,
			(unsigned long long)run->sysreg.value);
		break;
	case AVCPU_EXIT_NESTED_PAGE_FAULT:
		fprintf(f, ": addr 0x%llx access 0x%llx",
			(unsigned long long)run->nested_page_fault.addr,
			(unsigned long long)run->nested_page_fault.access);
		break;
	case AVCPU_EXIT_CPU_UP:
		fprintf(f, ": target 0x%llx entry 0x%llx context 0x%llx",
			(unsigned long long)run->cpu_up.target_mpidr,
			(unsigned long long)run->cpu_up.entry,
			(unsigned long long)run->cpu_up.context);
		break;
	case AVCPU_EXIT_SYSTEM_DOWN:
		fprintf(f, ": type %u", run->system_down.type);
		break;
	case AVCPU_EXIT_FAIL_ENTRY:
		fprintf(f, ": reason %llu esr 0x%llx",
			(unsigned long long)run->fail_entry.reason,
			(unsigned long long)run->fail_entry.esr);
		break;
	}
	/* Best effort: not in the INVALID state, for one. */
	if (!__vcpu_get_regs(vcpu, &regs))
		fprintf(f, "; pc 0x%llx pstate 0x%llx",
			(unsigned long long)regs.pc,
			(unsigned long long)regs.pstate);
	fputc('\n', f);
}

uint64_t vcpu_run_ucall(struct avcpu_vcpu *vcpu, struct ucall *uc)
{
	struct ucall local;
	uint64_t cmd;

	if (!uc)
		uc = &local;
	for (;;) {
		vcpu_run(vcpu);
		cmd = get_ucall(vcpu, uc);
		switch (cmd) {
		case UCALL_PRINTF: {
			size_t len = strlen(uc->buf);

			/*
			 * Where TH_LOG() writes, unbuffered: a harness test
			 * ends in _exit(), which drops stdio buffers. '#'
			 * starts a kselftest diagnostic line.
			 */
			fprintf(stderr, "# vCPU %u: %s%s", vcpu->id, uc->buf,
				len && uc->buf[len - 1] == '\n' ? "" : "\n");
			continue;
		}
		case UCALL_SYNC:
		case UCALL_DONE:
		case UCALL_UNHANDLED:
			return cmd;
		case UCALL_NONE:
			vcpu_dump_exit(stderr, vcpu);
			VM_FAIL("vCPU %u: the exit is not a ucall", vcpu->id);
		case UCALL_ASSERT:
			ucall_dump(stderr, uc);
			VM_FAIL("vCPU %u: guest assertion failed", vcpu->id);
		default:
			ucall_dump(stderr, uc);
			VM_FAIL("vCPU %u: unknown ucall %llu", vcpu->id,
				(unsigned long long)cmd);
		}
	}
}

void vcpu_expect_ucall(struct avcpu_vcpu *vcpu, uint64_t cmd,
		       struct ucall *uc)
{
	struct ucall local;
	uint64_t got;

	if (!uc)
		uc = &local;
	got = vcpu_run_ucall(vcpu, uc);
	if (got != cmd)
		ucall_dump(stderr, uc);
	VM_ASSERT(got == cmd, "vCPU %u: expected ucall %s, got %s", vcpu->id,
		  ucall_cmd_str(cmd), ucall_cmd_str(got));
}

const uint32_t avcpu_rw_sysregs[AVCPU_NR_RW_SYSREGS] = {
	SYSREG_SCTLR_EL1, SYSREG_CPACR_EL1, SYSREG_TTBR0_EL1,
	SYSREG_TTBR1_EL1, SYSREG_TCR_EL1, SYSREG_AFSR0_EL1, SYSREG_AFSR1_EL1,
	SYSREG_ESR_EL1, SYSREG_FAR_EL1, SYSREG_PAR_EL1, SYSREG_MAIR_EL1,
	SYSREG_AMAIR_EL1, SYSREG_VBAR_EL1, SYSREG_CONTEXTIDR_EL1,
	SYSREG_TPIDR_EL1, SYSREG_CNTKCTL_EL1, SYSREG_CSSELR_EL1,
	SYSREG_TPIDR_EL0, SYSREG_TPIDRRO_EL0, SYSREG_CNTP_CTL_EL0,
	SYSREG_CNTP_CVAL_EL0, SYSREG_CNTV_CTL_EL0, SYSREG_CNTV_CVAL_EL0,
	SYSREG_MDSCR_EL1,
};
