// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU threads: one per vCPU, bound to a host CPU, running the guest and
 * handling what RUN returns (the seed's run_vcpu loop). PSCI power
 * management (Arm DEN 0022) is split with the kernel: avcpu answers the
 * discovery calls and AFFINITY_INFO, avm starts, stops and ends.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gic.h"
#include "vm.h"

/* PSCI return codes (DEN 0022, 5.2.2) */
#define PSCI_SUCCESS		0
#define PSCI_NOT_SUPPORTED	(-1)
#define PSCI_INVALID_PARAMS	(-2)
#define PSCI_ALREADY_ON		(-4)
#define PSCI_INTERNAL_FAILURE	(-6)
#define PSCI_INVALID_ADDRESS	(-9)

/* SMCCC vendor-specific hypervisor service: KVM's UID query (DEN 0028) */
#define SMCCC_VENDOR_HYP_CALL_UID	0x8600ff01

static void vcpu_ret(struct avm_vcpu *v, int64_t val)
{
	v->run->ret = (uint64_t)val;
}

static void vcpu_mmio(struct avm_vcpu *v)
{
	struct avm *vm = v->vm;
	struct avcpu_run *run = v->run;
	uint64_t addr = run->mmio.addr;
	unsigned int len = run->mmio.width;
	bool write = run->exit_reason == AVCPU_EXIT_MMIO_WRITE;
	int i = avm_find_device(vm, addr, len);

	v->mmio_exits[i < 0 ? AVM_MAX_DEVS : i]++;
	if (i >= 0) {
		struct avm_dev *dev = vm->devs[i];

		if (write)
			dev->write(dev, v->id, addr - dev->base, len, run->mmio.data);
		else
			run->ret = dev->read(dev, v->id, addr - dev->base, len);
		return;
	}
	/* No device here: reads as zero, writes ignored (Documentation/vmm.rst) */
	avm_warn_limited(&vm->warned_mmio, 10,
			 "vCPU %u: %u-byte %s of 0x%llx: no device there (reads as zero, writes ignored)",
			 v->id, len, write ? "write" : "read",
			 (unsigned long long)addr);
	if (!write)
		run->ret = 0;
}

static void vcpu_hypercall(struct avm_vcpu *v)
{
	uint64_t nr = v->run->hypercall.nr;

	/*
	 * The guest asks whose hypervisor this is; anything but KVM's UID
	 * makes Linux leave KVM's services (ptp_kvm) alone.
	 */
	if (nr != SMCCC_VENDOR_HYP_CALL_UID)
		avm_warn_limited(&v->vm->warned_hvc, 5,
				 "vCPU %u: unknown %s call 0x%llx: NOT_SUPPORTED",
				 v->id, v->run->hypercall.conduit ? "SMC" : "HVC",
				 (unsigned long long)nr);
	vcpu_ret(v, PSCI_NOT_SUPPORTED);
}

static struct avm_vcpu *vcpu_by_mpidr(struct avm *vm, uint64_t mpidr)
{
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++)
		if ((vm->vcpus[i].mpidr & 0xff00ffffffULL) == (mpidr & 0xff00ffffffULL))
			return &vm->vcpus[i];
	return NULL;
}

/* PSCI CPU_ON: exactly one caller may start a vCPU that is off. */
static void vcpu_cpu_on(struct avm_vcpu *v)
{
	struct avm *vm = v->vm;
	struct avm_vcpu *t = vcpu_by_mpidr(vm, v->run->cpu_up.target_mpidr);
	uint64_t entry = v->run->cpu_up.entry;
	struct avcpu_setup setup = { .entry = entry, .x0 = v->run->cpu_up.context };

	if (!t) {
		vcpu_ret(v, PSCI_INVALID_PARAMS);
		return;
	}
	if (entry & 3 || entry < vm->ram_base || entry >= vm->ram_base + vm->ram_size) {
		vcpu_ret(v, PSCI_INVALID_ADDRESS);
		return;
	}
	pthread_mutex_lock(&vm->lock);
	if (t->power != AVM_POWER_OFF) {
		vcpu_ret(v, PSCI_ALREADY_ON);
	} else if (ioctl(t->fd, AVCPU_SETUP, &setup)) {
		avm_warn("vCPU %u: CPU_ON of vCPU %u: SETUP: %s", v->id, t->id,
			 strerror(errno));
		vcpu_ret(v, PSCI_INTERNAL_FAILURE);
	} else {
		/* SETUP made it FREE: AFFINITY_INFO now says ON_PENDING */
		t->power = AVM_POWER_ON_PENDING;
		pthread_cond_broadcast(&vm->cond);
		vcpu_ret(v, PSCI_SUCCESS);
	}
	pthread_mutex_unlock(&vm->lock);
}

static void vcpu_send_ipi(struct avm_vcpu *v)
{
	uint64_t targets = v->run->send_ipi.targets;
	unsigned int i;

	for (i = 0; i < v->vm->nr_cpus && i < 64; i++)
		if (targets & (1ULL << i))
			avm_vcpu_irq_ops.line(v->vm, i, v->run->send_ipi.intid, 1);
}

/*
 * SIGQUIT: every running vCPU prints its registers to stderr and goes on,
 * as kvmtool's "lkvm debug --dump" does; a test whose guest stopped making
 * progress sends it before it gives up (vmm.rst, "Signals"). The handler
 * only counts the request and kicks the vCPU threads out of RUN; each
 * thread prints its own state, since only a vCPU's thread may read it.
 */
static struct avm *dump_vm;
static atomic_uint dump_requests;
static atomic_int dump_in_handler;

static void vcpu_dump_signal(int sig)
{
	int err = errno;
	unsigned int i;

	(void)sig;
	atomic_fetch_add(&dump_in_handler, 1);
	atomic_fetch_add(&dump_requests, 1);
	for (i = 0; dump_vm && i < dump_vm->nr_cpus; i++)
		if (atomic_load(&dump_vm->vcpus[i].kickable))
			pthread_kill(dump_vm->vcpus[i].thread, SIGUSR1);
	atomic_fetch_sub(&dump_in_handler, 1);
	errno = err;
}

static uint64_t vcpu_sysreg(struct avm_vcpu *v, uint32_t enc)
{
	struct avcpu_sysreg r = { .encoding = enc };

	return ioctl(v->fd, AVCPU_GET_SYSREG, &r) ? ~0ULL : r.value;
}

static void vcpu_dump(struct avm_vcpu *v)
{
	struct avcpu_regs r;
	char line[1024];
	int i, n;

	if (ioctl(v->fd, AVCPU_GET_REGS, &r)) {
		avm_warn("vCPU %u: GET_REGS: %s", v->id, strerror(errno));
		return;
	}
	/* one write a line: the vCPUs print at once */
	n = snprintf(line, sizeof(line),
		     "avm: vCPU %u: pc 0x%" PRIx64 " pstate 0x%" PRIx64
		     " sp_el0 0x%" PRIx64 " sp_el1 0x%" PRIx64 " elr_el1 0x%" PRIx64
		     " spsr_el1 0x%" PRIx64 " esr_el1 0x%" PRIx64 " far_el1 0x%" PRIx64
		     " vbar_el1 0x%" PRIx64 " (last exit %u)\n",
		     v->id, (uint64_t)r.pc, (uint64_t)r.pstate, (uint64_t)r.sp_el0,
		     (uint64_t)r.sp_el1, (uint64_t)r.elr_el1, (uint64_t)r.spsr_el1,
		     vcpu_sysreg(v, AVCPU_SYSREG(3, 0, 5, 2, 0)),
		     vcpu_sysreg(v, AVCPU_SYSREG(3, 0, 6, 0, 0)),
		     vcpu_sysreg(v, AVCPU_SYSREG(3, 0, 12, 0, 0)),
		     v->run->exit_reason);
	for (i = 0; i < 31; i++) {
		if (i % 8 == 0)
			n += snprintf(line + n, sizeof(line) - n, "avm: vCPU %u:", v->id);
		n += snprintf(line + n, sizeof(line) - n, " x%d 0x%" PRIx64, i,
			      (uint64_t)r.x[i]);
		if (i % 8 == 7 || i == 30)
			n += snprintf(line + n, sizeof(line) - n, "\n");
	}
	fputs(line, stderr);
	fflush(stderr);
}

/*
 * Run until the vCPU turns itself off (0) or the VM ends (-1).
 */
static int vcpu_loop(struct avm_vcpu *v)
{
	struct avm *vm = v->vm;
	struct avcpu_run *run = v->run;
	unsigned int dumped = atomic_load(&dump_requests);

	for (;;) {
		int rc = ioctl(v->fd, AVCPU_RUN, 0), err = errno;

		if (dumped != atomic_load(&dump_requests)) {
			dumped = atomic_load(&dump_requests);
			vcpu_dump(v);
		}

		/* stores that did not exit come first (vm.h) */
		avm_vm_drain(vm);
		if (rc) {
			if (err == EINTR || err == EAGAIN) {
				bool ended;

				pthread_mutex_lock(&vm->lock);
				ended = vm->ended;
				pthread_mutex_unlock(&vm->lock);
				if (ended)
					return -1;
				continue;
			}
			if (err == ENOMEM)
				avm_err("vCPU %u: no locked memory left for guest RAM: raise 'ulimit -l' (RLIMIT_MEMLOCK) to the guest's --mem, or run avm with CAP_IPC_LOCK",
					v->id);
			else
				avm_err("vCPU %u: RUN: %s", v->id, strerror(err));
			avm_vm_end(vm, AVM_EXIT_ERROR);
			return -1;
		}
		if (run->exit_reason <= AVCPU_EXIT_SEND_IPI)
			v->exits[run->exit_reason]++;
		switch (run->exit_reason) {
		case AVCPU_EXIT_MMIO_READ:
		case AVCPU_EXIT_MMIO_WRITE:
			vcpu_mmio(v);
			break;
		case AVCPU_EXIT_HYPERCALL:
			vcpu_hypercall(v);
			break;
		case AVCPU_EXIT_SYSREG_READ:
		case AVCPU_EXIT_SYSREG_WRITE:
			/* registers avcpu leaves to the VMM: none are emulated */
			avm_warn_limited(&vm->warned_sysreg, 5,
					 "vCPU %u: system register 0x%x %s: RAZ/WI",
					 v->id, run->sysreg.encoding,
					 run->exit_reason == AVCPU_EXIT_SYSREG_READ ?
					 "read" : "write");
			run->ret = 0;
			break;
		case AVCPU_EXIT_EXTERNAL_INTERRUPT:
		case AVCPU_EXIT_HALT:
		case AVCPU_EXIT_NONE:
			break;
		case AVCPU_EXIT_SEND_IPI:
			vcpu_send_ipi(v);
			break;
		case AVCPU_EXIT_CPU_UP:
			vcpu_cpu_on(v);
			break;
		case AVCPU_EXIT_CPU_DOWN:
			return 0;
		case AVCPU_EXIT_SYSTEM_DOWN:
			avm_vm_end(vm, run->system_down.type == AVCPU_SYSTEM_OFF ?
				   AVM_EXIT_OFF : AVM_EXIT_RESET);
			return -1;
		case AVCPU_EXIT_NESTED_PAGE_FAULT:
			avm_err("vCPU %u: guest %s at 0x%llx: neither RAM nor an emulatable MMIO access",
				v->id,
				run->nested_page_fault.access & AVCPU_ACCESS_WRITE ?
				"write" : "read/fetch",
				(unsigned long long)run->nested_page_fault.addr);
			avm_vm_end(vm, AVM_EXIT_CRASH);
			return -1;
		case AVCPU_EXIT_FAIL_ENTRY:
			avm_err("vCPU %u: entry failed (reason %llu, ESR 0x%llx)", v->id,
				(unsigned long long)run->fail_entry.reason,
				(unsigned long long)run->fail_entry.esr);
			avm_vm_end(vm, AVM_EXIT_CRASH);
			return -1;
		default:
			avm_err("vCPU %u: unknown exit %u", v->id, run->exit_reason);
			avm_vm_end(vm, AVM_EXIT_ERROR);
			return -1;
		}
	}
}

/* vm->lock held: every vCPU is off (none on, none about to be) */
static bool all_off(struct avm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++)
		if (vm->vcpus[i].power != AVM_POWER_OFF)
			return false;
	return true;
}

static void *vcpu_thread(void *arg)
{
	struct avm_vcpu *v = arg;
	struct avm *vm = v->vm;
	bool last;

	atomic_store(&v->kickable, true);
	for (;;) {
		struct avcpu_bind bind = { .cpu = v->host_cpu };
		int rc;

		pthread_mutex_lock(&vm->lock);
		while (v->power != AVM_POWER_ON_PENDING && !vm->ended)
			pthread_cond_wait(&vm->cond, &vm->lock);
		if (vm->ended) {
			pthread_mutex_unlock(&vm->lock);
			break;
		}
		pthread_mutex_unlock(&vm->lock);

		if (ioctl(v->fd, AVCPU_BIND, &bind)) {
			avm_err("vCPU %u: BIND to CPU %d: %s", v->id, v->host_cpu,
				strerror(errno));
			avm_vm_end(vm, AVM_EXIT_ERROR);
			break;
		}
		pthread_mutex_lock(&vm->lock);
		v->power = AVM_POWER_ON;
		pthread_mutex_unlock(&vm->lock);

		rc = vcpu_loop(v);
		/*
		 * Give the CPU back: after CPU_OFF, to wait for a CPU_ON; at the
		 * end, so that a reboot can set the vCPU up again (SETUP wants
		 * it unbound, and only this thread may unbind it).
		 */
		if (ioctl(v->fd, AVCPU_UNBIND, 0) && errno != EIO)
			/* EIO: broken for good (api.rst), the VM ends anyway */
			avm_warn("vCPU %u: UNBIND: %s", v->id, strerror(errno));
		if (rc)
			break;
		pthread_mutex_lock(&vm->lock);
		v->power = AVM_POWER_OFF;
		last = all_off(vm);
		pthread_mutex_unlock(&vm->lock);
		/* nothing left that could turn a vCPU on again */
		if (last)
			avm_vm_end(vm, AVM_EXIT_CPUS_OFF);
	}
	atomic_store(&v->kickable, false);
	return NULL;
}

static void vcpu_kick_signal(int sig)
{
	(void)sig;
}

void avm_vm_end(struct avm *vm, int code)
{
	pthread_t self = pthread_self();
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	if (!vm->ended) {
		vm->ended = true;
		vm->exit_code = code;
	}
	/*
	 * Every other vCPU leaves RUN: immediate_exit stops one about to
	 * enter, the signal one inside (even asleep in a masked WFI).
	 */
	for (i = 0; i < vm->nr_cpus; i++) {
		struct avm_vcpu *v = &vm->vcpus[i];

		if (!v->thread_started || pthread_equal(v->thread, self))
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, SIGUSR1);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void avm_vm_quit(struct avm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	pthread_mutex_unlock(&vm->lock);
	avm_vm_end(vm, AVM_EXIT_OFF);
}

int avm_vm_restart(struct avm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	/* a Ctrl-A x during the reboot wins over it */
	if (vm->quit) {
		pthread_mutex_unlock(&vm->lock);
		return -1;
	}
	vm->ended = false;
	vm->exit_code = 0;
	for (i = 0; i < vm->nr_cpus; i++) {
		struct avm_vcpu *v = &vm->vcpus[i];

		/* unbound, set up or not: off until a CPU_ON (vCPU 0: the start) */
		v->power = AVM_POWER_OFF;
		v->thread_started = false;
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int avm_vm_start(struct avm *vm, uint64_t entry, uint64_t x0)
{
	struct avcpu_setup setup = { .entry = entry, .x0 = x0 };
	struct sigaction sa = { .sa_handler = vcpu_kick_signal };
	struct sigaction dump = { .sa_handler = vcpu_dump_signal };
	cpu_set_t allowed;
	int cpus[CPU_SETSIZE], nr_host = 0, c;
	unsigned int i;

	/* no SA_RESTART: RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&dump.sa_mask);
	dump.sa_flags = SA_RESTART;
	dump_vm = vm;
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGQUIT, &dump, NULL)) {
		avm_err("sigaction: %s", strerror(errno));
		return -1;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		avm_err("sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[nr_host++] = c;

	if (ioctl(vm->vcpus[0].fd, AVCPU_SETUP, &setup)) {
		avm_err("vCPU 0: SETUP: %s", strerror(errno));
		return -1;
	}
	vm->vcpus[0].power = AVM_POWER_ON_PENDING;
	for (i = 0; i < vm->nr_cpus; i++) {
		struct avm_vcpu *v = &vm->vcpus[i];

		/* one host CPU each, round robin over the CPUs avm may use */
		v->host_cpu = cpus[i % nr_host];
		if (pthread_create(&v->thread, NULL, vcpu_thread, v)) {
			avm_err("vCPU %u: cannot start its thread", i);
			avm_vm_end(vm, AVM_EXIT_ERROR);
			return -1;
		}
		pthread_mutex_lock(&vm->lock);
		v->thread_started = true;
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}

int avm_vm_wait(struct avm *vm)
{
	unsigned int i;
	int code;

	pthread_mutex_lock(&vm->lock);
	while (!vm->ended)
		pthread_cond_wait(&vm->cond, &vm->lock);
	code = vm->exit_code;
	pthread_mutex_unlock(&vm->lock);
	/* a thread started after avm_vm_end() saw it; signal again to be sure */
	avm_vm_end(vm, code);
	/*
	 * No SIGQUIT handler may signal a thread once it is joined: none
	 * starts from here (avm_vm_start() installs it again), and one
	 * already running on another thread is waited for.
	 */
	signal(SIGQUIT, SIG_IGN);
	while (atomic_load(&dump_in_handler))
		sched_yield();
	for (i = 0; i < vm->nr_cpus; i++)
		if (vm->vcpus[i].thread_started)
			pthread_join(vm->vcpus[i].thread, NULL);
	return code;
}

void avm_vm_print_stats(struct avm *vm, double seconds)
{
	static const char *const names[] = {
		[AVCPU_EXIT_HYPERCALL] = "hypercall",
		[AVCPU_EXIT_SYSREG_READ] = "sysreg-read",
		[AVCPU_EXIT_SYSREG_WRITE] = "sysreg-write",
		[AVCPU_EXIT_EXTERNAL_INTERRUPT] = "host-irq",
		[AVCPU_EXIT_CPU_UP] = "cpu-on",
		[AVCPU_EXIT_CPU_DOWN] = "cpu-off",
		[AVCPU_EXIT_SYSTEM_DOWN] = "system",
		[AVCPU_EXIT_HALT] = "halt",
		[AVCPU_EXIT_SEND_IPI] = "send-ipi",
	};
	unsigned long total = 0, n;
	char line[1024];
	size_t len = 0;
	unsigned int i, r;

	for (r = 0; r <= AVCPU_EXIT_SEND_IPI; r++)
		for (i = 0; i < vm->nr_cpus; i++)
			total += vm->vcpus[i].exits[r];
	len += snprintf(line + len, sizeof(line) - len, "%.3f s, %lu exits:",
			seconds, total);
	for (i = 0; i <= vm->nr_devs && len < sizeof(line); i++) {
		unsigned int d = i < vm->nr_devs ? i : AVM_MAX_DEVS;

		n = 0;
		for (r = 0; r < vm->nr_cpus; r++)
			n += vm->vcpus[r].mmio_exits[d];
		if (n)
			len += snprintf(line + len, sizeof(line) - len, " mmio-%s %lu",
					i < vm->nr_devs ? vm->devs[i]->name : "none", n);
		/* stores that came through the coalesced ring, not exits */
		if (vm->coalesced[d] && len < sizeof(line))
			len += snprintf(line + len, sizeof(line) - len, " (+%lu coalesced)",
					vm->coalesced[d]);
	}
	for (r = 0; r <= AVCPU_EXIT_SEND_IPI && len < sizeof(line); r++) {
		if (r < sizeof(names) / sizeof(names[0]) && !names[r])
			continue;
		n = 0;
		for (i = 0; i < vm->nr_cpus; i++)
			n += vm->vcpus[i].exits[r];
		if (n)
			len += snprintf(line + len, sizeof(line) - len, " %s %lu",
					names[r], n);
	}
	avm_warn("%s", line);
	avm_vm_print_kernel_stats(vm);
}

/*
 * avcpu's side (AVCPU_GET_STATS on the VM fd): what the guest did without
 * avm, and the memory avm itself holds, guest RAM left out.
 */
void avm_vm_print_kernel_stats(struct avm *vm)
{
	struct avcpu_stats st;
	uint64_t exits = 0;
	long rss;
	unsigned int r;

	if (!avm_vm_stats(vm, &st)) {
		for (r = 0; r < AVCPU_STATS_EXIT_REASONS; r++)
			exits += st.exits[r];
		avm_warn("kernel: %llu entries, %llu exits to avm, %llu exits handled in the kernel, %llu WFI sleeps, %llu ioeventfd signals, %llu irqfd injections, %llu in-kernel SGIs, %llu injections, %llu coalesced stores, %llu stage-2 faults",
			 (unsigned long long)st.entries, (unsigned long long)exits,
			 (unsigned long long)st.kernel_exits,
			 (unsigned long long)st.wfi_sleeps,
			 (unsigned long long)st.ioeventfd_signals,
			 (unsigned long long)st.irqfd_injections,
			 (unsigned long long)st.kernel_sgis,
			 (unsigned long long)st.injections,
			 (unsigned long long)st.coalesced_mmio,
			 (unsigned long long)st.stage2_faults);
	}
	rss = avm_rss_outside(vm->ram, 64);
	if (rss >= 0)
		avm_warn("memory outside guest RAM: %ld kB resident", rss);
}
