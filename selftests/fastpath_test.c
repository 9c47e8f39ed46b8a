// SPDX-License-Identifier: GPL-2.0
/*
 * The fast paths of a VM (Documentation/api.rst, "Fast paths"): a doorbell
 * bound to an eventfd (IOEVENTFD), an eventfd that raises an interrupt
 * (IRQFD), SGIs delivered in the kernel (ENABLE_CAP KERNEL_SGI), and the
 * counters (GET_STATS) and tracepoints that show them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_vm.h"
#include "guest/gic.h"

#define DOORBELL	0x0a000050ULL	/* outside RAM: a virtio QueueNotify */
#define RINGS		100
#define IRQFD_SPI	40
#define IRQFD_RAISES	3
#define SGI_NR		5

static volatile uint32_t irq_count[64];
static volatile uint32_t bad_irqs;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint64_t intid = gic_read_iar();

	if (intid < 64)
		irq_count[intid]++;
	else
		bad_irqs++;
	if (intid < 1020)
		gic_write_eoir(intid);
}

static void store32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static void store16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)addr = v;
}

/* RINGS doorbell stores, then one of another size: the only exit. */
static void guest_ring(void)
{
	uint32_t i;

	for (i = 0; i < RINGS; i++)
		store32(DOORBELL, i);
	store16(DOORBELL, 1);
	GUEST_DONE();
}

static int new_eventfd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static uint64_t eventfd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int ioeventfd(struct avcpu_vm *vm, uint64_t addr, uint32_t len, int fd,
		     uint32_t flags, uint64_t datamatch)
{
	struct avcpu_ioeventfd a = {
		.addr = addr, .len = len, .fd = fd, .flags = flags,
		.datamatch = datamatch,
	};

	return ioctl(vm->fd, AVCPU_IOEVENTFD, &a) ? -errno : 0;
}

static int irqfd(struct avcpu_vm *vm, int fd, uint32_t vcpu_id, uint32_t intid,
		 uint32_t flags)
{
	struct avcpu_irqfd a = {
		.fd = fd, .vcpu_id = vcpu_id, .intid = intid, .flags = flags,
	};

	return ioctl(vm->fd, AVCPU_IRQFD, &a) ? -errno : 0;
}

static void get_stats(int fd, struct avcpu_stats *s)
{
	memset(s, 0xa5, sizeof(*s));
	if (ioctl(fd, AVCPU_GET_STATS, s))
		memset(s, 0, sizeof(*s));
}

/* A store of the bound size signals the eventfd; nothing else does. */
TEST(ioeventfd_doorbell)
{
	struct avcpu_stats st, vst;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	int efd;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_ring);
	efd = new_eventfd();
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioeventfd(vm, DOORBELL, 4, efd, 0, 0));

	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason) {
		vcpu_dump_exit(stderr, vcpu);
	}
	EXPECT_EQ(DOORBELL, vcpu->run->mmio.addr);
	EXPECT_EQ(2, vcpu->run->mmio.width);
	EXPECT_EQ(RINGS, eventfd_take(efd));

	get_stats(vcpu->fd, &st);
	EXPECT_EQ(RINGS, st.ioeventfd_signals);
	EXPECT_EQ(1, st.exits[AVCPU_EXIT_MMIO_WRITE]);
	/* each ring was an exit handled in the kernel */
	EXPECT_LE(RINGS, st.kernel_exits);
	EXPECT_EQ(st.entries, st.kernel_exits + 1);
	get_stats(vm->fd, &vst);
	EXPECT_EQ(0, memcmp(&st, &vst, sizeof(st)));

	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(0, eventfd_take(efd));
	vm_free(vm);
	close(efd);
}

/* With DATAMATCH only that value rings; after DEASSIGN nothing does. */
static void guest_datamatch(void)
{
	store32(DOORBELL, 7);
	store32(DOORBELL, 8);
	GUEST_SYNC(1);
	store32(DOORBELL, 7);
	GUEST_DONE();
}

TEST(ioeventfd_datamatch_and_deassign)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	int efd, other;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_datamatch);
	efd = new_eventfd();
	other = new_eventfd();
	ASSERT_EQ(0, ioeventfd(vm, DOORBELL, 4, efd,
			       AVCPU_IOEVENTFD_DATAMATCH, 7));
	/* another value at the same doorbell may have its own eventfd */
	ASSERT_EQ(0, ioeventfd(vm, DOORBELL, 4, other,
			       AVCPU_IOEVENTFD_DATAMATCH, 9));

	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	EXPECT_EQ(8, vcpu->run->mmio.data);
	EXPECT_EQ(1, eventfd_take(efd));
	EXPECT_EQ(0, eventfd_take(other));
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);

	EXPECT_EQ(0, ioeventfd(vm, DOORBELL, 4, efd,
			       AVCPU_IOEVENTFD_DATAMATCH | AVCPU_IOEVENTFD_DEASSIGN, 7));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, DOORBELL, 4, efd,
				     AVCPU_IOEVENTFD_DATAMATCH | AVCPU_IOEVENTFD_DEASSIGN, 7));
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	EXPECT_EQ(7, vcpu->run->mmio.data);
	EXPECT_EQ(0, eventfd_take(efd));
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	vm_free(vm);
	close(efd);
	close(other);
}

TEST(ioeventfd_bad_arguments)
{
	struct avcpu_ioeventfd a = { .addr = DOORBELL, .len = 4 };
	struct avcpu_vm *vm;
	int efd, pipefd[2];

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	efd = new_eventfd();
	ASSERT_EQ(0, pipe(pipefd));

	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 3, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 0, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 4, efd, 1U << 7, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 4, efd, 0, 5));	/* no DATAMATCH */
	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 1, efd,
				     AVCPU_IOEVENTFD_DATAMATCH, 0x100));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, 1ULL << vm->caps.ipa_bits, 4, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, ~0ULL - 1, 4, efd, 0, 0));
	EXPECT_EQ(-EBADF, ioeventfd(vm, DOORBELL, 4, -1, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, DOORBELL, 4, pipefd[0], 0, 0));
	a.fd = efd;
	a.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_IOEVENTFD, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_IOEVENTFD, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(0, ioeventfd(vm, DOORBELL, 4, efd, 0, 0));
	/* the same store may not ring two eventfds */
	EXPECT_EQ(-EEXIST, ioeventfd(vm, DOORBELL, 4, efd, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, DOORBELL, 4, efd,
				     AVCPU_IOEVENTFD_DATAMATCH, 3));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, DOORBELL + 4, 4, efd,
				     AVCPU_IOEVENTFD_DEASSIGN, 0));
	/* left bound: closing the VM releases it */
	vm_free(vm);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * IRQFD: an I/O thread writes the eventfd; the guest takes the SPI with no
 * INJECT_IRQ from anyone.
 */
static void guest_wait_irqfd(void)
{
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, guest_irq_handler);
	gic_cpu_init();
	local_irq_enable();
	/* the count bound before the first run arrives at once */
	while (irq_count[IRQFD_SPI] < 1)
		wfi();
	GUEST_SYNC(1);
	while (irq_count[IRQFD_SPI] < 1 + IRQFD_RAISES)
		wfi();
	GUEST_DONE();
}

struct signaller {
	int efd;
	volatile int stop;
};

/* One raise at a time: an edge coalesces with one still pending. */
static void *signal_thread(void *arg)
{
	struct signaller *s = arg;
	uint32_t i, seen;
	uint64_t one = 1;

	for (i = 0; i < IRQFD_RAISES && !s->stop; i++) {
		seen = irq_count[IRQFD_SPI];
		if (write(s->efd, &one, sizeof(one)) != sizeof(one))
			break;
		while (irq_count[IRQFD_SPI] == seen && !s->stop)
			usleep(1000);
	}
	return NULL;
}

TEST(irqfd_raises_interrupts)
{
	struct signaller sig = { 0 };
	struct avcpu_vcpu *vcpu;
	struct avcpu_stats st;
	struct avcpu_vm *vm;
	pthread_t th;
	uint64_t one = 1;

	AVCPU_REQUIRE_IRQ();
	memset((void *)irq_count, 0, sizeof(irq_count));
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_wait_irqfd);
	vcpu_set_irq(vcpu, IRQFD_SPI, AVCPU_IRQ_LEVEL, 0, 0);	/* edge */
	sig.efd = new_eventfd();
	ASSERT_LE(0, sig.efd);
	/* signalled before the binding: delivered when bound */
	ASSERT_EQ(sizeof(one), write(sig.efd, &one, sizeof(one)));
	ASSERT_EQ(0, irqfd(vm, sig.efd, 0, IRQFD_SPI, 0));
	EXPECT_TRUE(vcpu_get_irq(vcpu, IRQFD_SPI, NULL) & AVCPU_IRQ_PENDING);
	vcpu_expect_ucall(vcpu, UCALL_SYNC, NULL);

	ASSERT_EQ(0, pthread_create(&th, NULL, signal_thread, &sig));
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	sig.stop = 1;
	pthread_join(th, NULL);

	EXPECT_EQ(1 + IRQFD_RAISES, irq_count[IRQFD_SPI]);
	EXPECT_EQ(0, bad_irqs);
	get_stats(vcpu->fd, &st);
	EXPECT_EQ(1 + IRQFD_RAISES, st.irqfd_injections);
	EXPECT_EQ(1 + IRQFD_RAISES, st.injections);

	/* unbound: a signal stays in the eventfd */
	EXPECT_EQ(0, irqfd(vm, sig.efd, 0, 0, AVCPU_IRQFD_DEASSIGN));
	ASSERT_EQ(sizeof(one), write(sig.efd, &one, sizeof(one)));
	EXPECT_FALSE(vcpu_get_irq(vcpu, IRQFD_SPI, NULL) & AVCPU_IRQ_PENDING);
	EXPECT_EQ(1, eventfd_take(sig.efd));
	vm_free(vm);
	close(sig.efd);
}

TEST(irqfd_bad_arguments)
{
	struct avcpu_irqfd a = { 0 };
	int efd, unbound, nowhere;
	struct avcpu_vm *vm;
	int pipefd[2];

	AVCPU_REQUIRE_IRQ();
	vm = vm_create();
	efd = new_eventfd();
	unbound = new_eventfd();
	nowhere = new_eventfd();
	ASSERT_EQ(0, pipe(pipefd));

	EXPECT_EQ(-EINVAL, irqfd(vm, efd, 0, AVCPU_DEFAULT_NR_IRQS, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, 0, 1020, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, GUEST_MAX_VCPUS, 40, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, 0, 40, 1U << 5));
	EXPECT_EQ(-EBADF, irqfd(vm, -1, 0, 40, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, pipefd[0], 0, 40, 0));
	a.fd = efd;
	a.intid = 40;
	a.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_IRQFD, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_IRQFD, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(0, irqfd(vm, efd, 0, 40, 0));
	EXPECT_EQ(-EEXIST, irqfd(vm, efd, 0, 41, 0));
	EXPECT_EQ(-ENOENT, irqfd(vm, unbound, 0, 0, AVCPU_IRQFD_DEASSIGN));
	/* bound to a vCPU that does not exist (yet): its signals are dropped */
	ASSERT_EQ(0, irqfd(vm, nowhere, 3, 40, 0));
	vm_free(vm);		/* releases both bindings */
	close(efd);
	close(unbound);
	close(nowhere);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * KERNEL_SGI: vCPU 0's ICC_SGI1R_EL1 write makes the SGI pending in vCPU 1
 * without a SEND_IPI exit; without the capability it exits; an SGI whose
 * group differs at the target is not delivered.
 */
static void send_sgi_to_vcpu1(void)
{
	/* TargetList bit 1: Aff0 1, vCPU 1 (mpidr = vcpu_id) */
	write_sysreg(((uint64_t)SGI_NR << 24) | (1UL << 1), ICC_SGI1R_EL1);
	isb();
}

static void guest_send_sgi(void)
{
	send_sgi_to_vcpu1();		/* no capability: SEND_IPI */
	GUEST_SYNC(1);
	send_sgi_to_vcpu1();		/* in the kernel, group mismatch */
	GUEST_SYNC(2);
	send_sgi_to_vcpu1();		/* in the kernel, delivered */
	GUEST_DONE();
}

static void guest_take_sgi(void)
{
	guest_install_handler(VECTOR_IRQ_CURRENT, 0, guest_irq_handler);
	gic_cpu_init();
	local_irq_enable();
	while (!irq_count[SGI_NR])
		wfi();
	GUEST_DONE();
}

TEST(kernel_sgi)
{
	struct avcpu_enable_cap cap = { .cap = AVCPU_VM_CAP_KERNEL_SGI };
	struct avcpu_vcpu *v0, *v1;
	struct avcpu_stats st;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_IRQ();
	memset((void *)irq_count, 0, sizeof(irq_count));
	vm = vm_create();
	if (avcpu_gic_is_v2()) {
		/* a GICv2 guest's SGIs are distributor writes, the VMM's */
		EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_ENABLE_CAP, &cap));
		EXPECT_EQ(EOPNOTSUPP, errno);
		vm_free(vm);
		SKIP(return, "GICv2 host: no in-kernel SGIs (ENABLE_CAP says EOPNOTSUPP, as it should)");
	}
	v0 = vm_vcpu_add(vm, 0, guest_send_sgi);
	v1 = vm_vcpu_add(vm, 1, guest_take_sgi);

	vcpu_run(v0);
	ASSERT_EQ(AVCPU_EXIT_SEND_IPI, v0->run->exit_reason) {
		vcpu_dump_exit(stderr, v0);
	}
	EXPECT_EQ(1ULL << 1, v0->run->send_ipi.targets);
	EXPECT_FALSE(vcpu_get_irq(v1, SGI_NR, NULL) & AVCPU_IRQ_PENDING);
	vcpu_expect_ucall(v0, UCALL_SYNC, NULL);

	cap.flags = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.flags = 0;
	cap.cap = 77;
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.cap = AVCPU_VM_CAP_KERNEL_SGI;
	ASSERT_EQ(0, ioctl(vm->fd, AVCPU_ENABLE_CAP, &cap));

	/* a Group 0 SGI at the target: the Group 1 write does not reach it */
	vcpu_set_irq(v1, SGI_NR, AVCPU_IRQ_GROUP1, 0, 0);
	vcpu_expect_ucall(v0, UCALL_SYNC, NULL);
	EXPECT_FALSE(vcpu_get_irq(v1, SGI_NR, NULL) & AVCPU_IRQ_PENDING);

	/* Group 1 again: delivered in the kernel, no exit */
	vcpu_set_irq(v1, SGI_NR, AVCPU_IRQ_GROUP1, AVCPU_IRQ_GROUP1, 0);
	vcpu_expect_ucall(v0, UCALL_DONE, NULL);
	EXPECT_TRUE(vcpu_get_irq(v1, SGI_NR, NULL) & AVCPU_IRQ_PENDING);
	vcpu_expect_ucall(v1, UCALL_DONE, NULL);
	EXPECT_EQ(1, irq_count[SGI_NR]);
	get_stats(v0->fd, &st);
	EXPECT_EQ(1, st.exits[AVCPU_EXIT_SEND_IPI]);
	EXPECT_EQ(2, st.kernel_sgis);
	get_stats(v1->fd, &st);
	EXPECT_EQ(1, st.injections);
	vm_free(vm);
}

/* The VM's counters outlive a closed vCPU; a bad pointer is EFAULT. */
static void guest_one_exit(void)
{
	store32(DOORBELL, 1);
	GUEST_DONE();
}

TEST(stats_vm_total)
{
	struct avcpu_stats st, before, after;
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	AVCPU_REQUIRE_RUN();
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_one_exit);
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	get_stats(vcpu->fd, &st);
	EXPECT_EQ(1, st.exits[AVCPU_EXIT_MMIO_WRITE]);
	EXPECT_EQ(0, st.reserved[0]);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	EXPECT_EQ(-1, ioctl(vcpu->fd, AVCPU_GET_STATS, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	get_stats(vcpu->fd, &before);
	EXPECT_LT(st.entries, before.entries);
	vcpu_free(vcpu);
	get_stats(vm->fd, &after);
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
		TH_LOG("a closed vCPU's counters stay in the VM's");
	EXPECT_EQ(-1, ioctl(vm->fd, AVCPU_GET_STATS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	vm_free(vm);
}

/* events/avcpu/ in tracefs: entries, exits and injections are traced. */
#define TRACEFS		"/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -EIO;
}

static char *read_file(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	return buf;
}

TEST(tracepoints)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;
	char *trace;

	AVCPU_REQUIRE_IRQ();
	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/avcpu/enable", F_OK))
		SKIP(return, "no tracefs with events/avcpu (CONFIG_FTRACE off?)");
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/avcpu/enable", "1"));

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_one_exit);
	vcpu_inject_irq(vcpu, 40);
	vcpu_run(vcpu);
	ASSERT_EQ(AVCPU_EXIT_MMIO_WRITE, vcpu->run->exit_reason);
	vcpu_expect_ucall(vcpu, UCALL_DONE, NULL);
	write_file(TRACEFS "/events/avcpu/enable", "0");
	trace = read_file(TRACEFS "/trace");
	EXPECT_NE(NULL, strstr(trace, "avcpu_entry: ")) TH_LOG("%.400s", trace);
	EXPECT_NE(NULL, strstr(trace, "avcpu_exit: "));
	/* the MMIO store's exit to userspace: reason 3 */
	EXPECT_NE(NULL, strstr(trace, "ret 0 reason 3"));
	EXPECT_NE(NULL, strstr(trace, "vcpu 0 intid 40 src ioctl"));
	vm_free(vm);
}

TEST_HARNESS_MAIN
