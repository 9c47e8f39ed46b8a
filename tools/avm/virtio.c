// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio transport, modern interface only (VIRTIO 1.2, section
 * 4.2.2: MagicValue "virt", Version 2, 64-bit queue addresses), the device
 * status state machine (2.1, 3.1.1), feature negotiation (2.2, with
 * VIRTIO_F_VERSION_1 required), the interrupt (InterruptStatus, driving
 * one GIC SPI as QEMU's virt board wires it) and each device's I/O thread.
 *
 * Registers are 32 bits wide and accessed 32 bits at a time (4.2.2.2);
 * the configuration space takes 8, 16, 32 and 64-bit accesses. Anything
 * else reads as zero and is ignored, with a warning.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "virtio.h"

#define MAGIC			0x74726976	/* "virt" */
#define VERSION			2

/* Status bits only the device sets */
#define STATUS_DEVICE		VIRTIO_CONFIG_S_NEEDS_RESET

static void virtio_warn(struct virtio_dev *vd, const char *fmt, const char *what)
{
	avm_warn_limited(&vd->warned, 5, fmt, vd->name, what);
}

/* Lock held: the line follows InterruptStatus. */
static void update_irq(struct virtio_dev *vd)
{
	bool level = vd->isr != 0;

	if (level != vd->line) {
		vd->line = level;
		if (vd->irq)
			vd->irq(vd->irq_ctx, vd->intid, level);
	}
}

/* Lock held (spec 2.1.2: NEEDS_RESET, then a config change interrupt) */
static void needs_reset_locked(struct virtio_dev *vd, const char *why)
{
	if (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	virtio_warn(vd, "%s: the driver broke the rules (%s): device needs a reset", why);
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) {
		vd->isr |= VIRTIO_MMIO_INT_CONFIG;
		update_irq(vd);
	}
}

void virtio_needs_reset(struct virtio_dev *vd, const char *why)
{
	pthread_mutex_lock(&vd->lock);
	needs_reset_locked(vd, why);
	pthread_mutex_unlock(&vd->lock);
}

void virtio_kick(struct virtio_dev *vd)
{
	uint64_t one = 1;

	/* a full counter already means "wake up": nothing is lost */
	if (write(vd->kick_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		virtio_warn(vd, "%s: cannot wake the I/O thread (%s)", strerror(errno));
}

/* Lock held: wait until the I/O thread has given back what it took. */
static void wait_idle(struct virtio_dev *vd)
{
	while (vd->inflight)
		pthread_cond_wait(&vd->idle, &vd->lock);
}

/* Lock held (spec 4.2.2.1: InterruptStatus and every QueueReady cleared) */
static void reset_locked(struct virtio_dev *vd)
{
	unsigned int i;

	wait_idle(vd);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&vd->vq[i]);
	vd->status = 0;
	vd->isr = 0;
	vd->guest_features = 0;
	vd->dev_fsel = vd->drv_fsel = vd->queue_sel = 0;
	update_irq(vd);
	if (vd->ops->reset)
		vd->ops->reset(vd);
}

void virtio_reset(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
	reset_locked(vd);
	pthread_mutex_unlock(&vd->lock);
}

/* Lock held: may the device use its queues (spec 2.1.2, 3.1.1)? */
static bool running(struct virtio_dev *vd)
{
	return (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vd->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

bool virtio_has_feature(struct virtio_dev *vd, unsigned int bit)
{
	bool ret;

	pthread_mutex_lock(&vd->lock);
	ret = vd->guest_features & (1ULL << bit);
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

/* Lock held: the driver wrote Status (spec 2.1, 3.1.1) */
static void write_status(struct virtio_dev *vd, uint32_t val)
{
	uint32_t old = vd->status, added;

	if (!val) {
		reset_locked(vd);
		return;
	}
	val &= 0xff & ~STATUS_DEVICE;
	/* 2.1.2: the driver never clears a bit, except by a reset */
	if (old & ~STATUS_DEVICE & ~val) {
		virtio_warn(vd, "%s: the driver cleared a status bit (%s): ignored",
			    "not a reset");
		return;
	}
	added = val & ~old;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		/*
		 * 3.1.1 step 5-6: accept only what was offered, and only the
		 * modern interface; leaving FEATURES_OK clear is the refusal
		 * the driver reads back.
		 */
		if (!(vd->guest_features & (1ULL << VIRTIO_F_VERSION_1)) ||
		    (vd->guest_features & ~vd->host_features) ||
		    !(val & VIRTIO_CONFIG_S_DRIVER)) {
			virtio_warn(vd, "%s: %s", "features refused (VERSION_1 is required)");
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
		needs_reset_locked(vd, "DRIVER_OK without FEATURES_OK");
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	/* NEEDS_RESET may have been set just above */
	vd->status = val | (vd->status & STATUS_DEVICE);
	/* buffers the driver queued before DRIVER_OK wait for the device now */
	if (added & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_kick(vd);
}

/* Lock held: QueueReady (spec 4.2.2.3: written after the queue's fields) */
static void write_queue_ready(struct virtio_dev *vd, struct virtq *vq, uint32_t val)
{
	if (!val) {
		/* Linux checks that it reads 0 at once: finish what is in flight */
		wait_idle(vd);
		virtq_reset(vq);
		return;
	}
	if (vq->ready)
		return;
	if (!(vd->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		needs_reset_locked(vd, "QueueReady before FEATURES_OK");
		return;
	}
	if (virtq_enable(vq, vd->mem,
			 vd->guest_features & (1ULL << VIRTIO_RING_F_EVENT_IDX),
			 vd->guest_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC)))
		needs_reset_locked(vd, "a queue outside RAM, misaligned or of a bad size");
}

static struct virtq *selected(struct virtio_dev *vd)
{
	return vd->queue_sel < vd->ops->nr_queues ? &vd->vq[vd->queue_sel] : NULL;
}

/* Little-endian bytes of the configuration space (spec 4.2.2.2) */
static uint64_t config_read(struct virtio_dev *vd, uint64_t off, unsigned int len)
{
	uint64_t val = 0;
	unsigned int i;

	if (off >= vd->config_len || len > vd->config_len - off)
		return 0;
	for (i = 0; i < len; i++)
		val |= (uint64_t)vd->config[off + i] << (8 * i);
	return val;
}

static uint32_t read_reg(struct virtio_dev *vd, uint64_t off)
{
	struct virtq *vq = selected(vd);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_AVM_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vd->dev_fsel > 1)
			return 0;
		return vd->host_features >> (32 * vd->dev_fsel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? VIRTQ_NUM_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vd->isr;
	case VIRTIO_MMIO_STATUS:
		return vd->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		/* 4.2.2.1: no shared memory regions: a length of -1 */
		return 0xffffffff;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->generation;
	default:
		/* write-only registers and holes read as zero */
		return 0;
	}
}

static void set_half(uint64_t *addr, bool high, uint32_t val)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | val;
}

static void write_reg(struct virtio_dev *vd, uint64_t off, uint32_t val)
{
	struct virtq *vq = selected(vd);
	/* a queue's fields are fixed while it runs (spec 4.2.2.3) */
	struct virtq *setup = vq && !vq->ready ? vq : NULL;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vd->dev_fsel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* only while negotiating (spec 3.1.1 step 5) */
		if (vd->drv_fsel > 1 || (vd->status & VIRTIO_CONFIG_S_FEATURES_OK))
			break;
		if (vd->drv_fsel)
			vd->guest_features = (vd->guest_features & 0xffffffffULL) |
					     (uint64_t)val << 32;
		else
			vd->guest_features = (vd->guest_features & ~0xffffffffULL) | val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vd->drv_fsel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vd->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (setup)
			setup->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (vq)
			write_queue_ready(vd, vq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* the vCPU only wakes the device's thread (Documentation/vmm.rst) */
		if (val < vd->ops->nr_queues && running(vd))
			virtio_kick(vd);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vd->isr &= ~val;
		update_irq(vd);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(vd, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (setup)
			set_half(&setup->desc_addr, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (setup)
			set_half(&setup->avail_addr, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (setup)
			set_half(&setup->used_addr, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	default:
		/* read-only registers, legacy ones (GuestPageSize...), holes */
		break;
	}
}

static uint64_t virtio_mmio_read(struct avm_dev *dev, unsigned int cpu,
				 uint64_t off, unsigned int len)
{
	struct virtio_dev *vd = dev->priv;
	uint64_t val = 0;

	pthread_mutex_lock(&vd->lock);
	if (off >= VIRTIO_MMIO_CONFIG)
		val = config_read(vd, off - VIRTIO_MMIO_CONFIG, len);
	else if (len == 4 && !(off & 3))
		val = read_reg(vd, off);
	else
		virtio_warn(vd, "%s: %s", "register read that is not 32-bit: reads 0");
	pthread_mutex_unlock(&vd->lock);
	return val;
}

static void virtio_mmio_write(struct avm_dev *dev, unsigned int cpu,
			      uint64_t off, unsigned int len, uint64_t val)
{
	struct virtio_dev *vd = dev->priv;

	/* no device offers a feature that makes config space writable */
	if (off >= VIRTIO_MMIO_CONFIG)
		return;
	pthread_mutex_lock(&vd->lock);
	if (len == 4 && !(off & 3))
		write_reg(vd, off, val);
	else
		virtio_warn(vd, "%s: %s", "register write that is not 32-bit: ignored");
	pthread_mutex_unlock(&vd->lock);
}

/*
 * The node QEMU's virt board has for each transport (Linux's
 * Documentation/devicetree/bindings/virtio/mmio.yaml): an edge-triggered
 * SPI; "dma-coherent" since the guest's and avm's accesses to the rings
 * are cacheable.
 */
static int virtio_fdt_node(struct avm_dev *dev, void *fdt)
{
	struct virtio_dev *vd = dev->priv;
	uint64_t reg[] = { cpu_to_fdt64(dev->base), cpu_to_fdt64(dev->size) };
	uint32_t irq[] = { 0, cpu_to_fdt32(vd->intid - 32), cpu_to_fdt32(1) };
	char name[40];

	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)dev->base);
	AVM_FDT_CHECK(fdt_begin_node(fdt, name));
	AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	AVM_FDT_CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupts", irq, sizeof(irq)));
	AVM_FDT_CHECK(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

int virtio_pop(struct virtio_dev *vd, unsigned int q, struct virtq_chain *c)
{
	int ret = 0;

	pthread_mutex_lock(&vd->lock);
	if (running(vd) && q < vd->ops->nr_queues) {
		ret = virtq_pop(&vd->vq[q], c);
		if (ret < 0) {
			needs_reset_locked(vd, ret == -EFAULT ? "a buffer outside RAM" :
					   ret == -ELOOP ? "a descriptor loop" :
					   ret == -E2BIG ? "a chain too long" :
					   "a malformed descriptor chain");
			ret = 0;
		} else if (ret) {
			vd->inflight++;
		}
	}
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

static void done_one(struct virtio_dev *vd)
{
	if (!--vd->inflight)
		pthread_cond_broadcast(&vd->idle);
}

void virtio_unpop(struct virtio_dev *vd, unsigned int q)
{
	pthread_mutex_lock(&vd->lock);
	virtq_unpop(&vd->vq[q]);
	done_one(vd);
	pthread_mutex_unlock(&vd->lock);
}

bool virtio_has_avail(struct virtio_dev *vd, unsigned int q)
{
	bool ret = false;

	pthread_mutex_lock(&vd->lock);
	if (running(vd) && q < vd->ops->nr_queues)
		ret = virtq_has_avail(&vd->vq[q]);
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

void virtio_push(struct virtio_dev *vd, unsigned int q,
		 const struct virtq_chain *c, uint32_t len)
{
	struct virtq *vq = &vd->vq[q];

	pthread_mutex_lock(&vd->lock);
	/* a reset waits for this chain: the queue is still the one it came from */
	virtq_push(vq, c->head, len);
	done_one(vd);
	if (virtq_need_irq(vq)) {
		vd->isr |= VIRTIO_MMIO_INT_VRING;
		update_irq(vd);
	}
	pthread_mutex_unlock(&vd->lock);
}

void virtio_config_update(struct virtio_dev *vd, size_t off, const void *data,
			  size_t len)
{
	pthread_mutex_lock(&vd->lock);
	if (off <= vd->config_len && len <= vd->config_len - off) {
		memcpy(vd->config + off, data, len);
		/* spec 4.2.2.1: a driver reading across the change must notice */
		vd->generation++;
		if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) {
			vd->isr |= VIRTIO_MMIO_INT_CONFIG;
			update_irq(vd);
		}
	}
	pthread_mutex_unlock(&vd->lock);
}

static void *virtio_thread(void *arg)
{
	struct virtio_dev *vd = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = vd->kick_fd, .events = POLLIN } };
		nfds_t n = 1;
		uint64_t count;

		if (vd->ops->poll_fd) {
			p[1].fd = vd->ops->poll_fd(vd, &p[1].events);
			if (p[1].fd >= 0)
				n = 2;
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			avm_err("%s: I/O thread: poll: %s", vd->name, strerror(errno));
			break;
		}
		if ((p[0].revents & POLLIN) &&
		    read(vd->kick_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			virtio_warn(vd, "%s: eventfd: %s", strerror(errno));
		if (__atomic_load_n(&vd->stop, __ATOMIC_ACQUIRE))
			break;
		vd->ops->process(vd);
	}
	return NULL;
}

int virtio_init(struct virtio_dev *vd, const struct virtio_ops *ops,
		const struct virtio_env *env, unsigned int index,
		uint64_t features, void *config, size_t config_len)
{
	if (index >= AVM_VIRTIO_MAX || ops->nr_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	memset(vd, 0, sizeof(*vd));
	vd->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->kick_fd < 0)
		return -errno;
	pthread_mutex_init(&vd->lock, NULL);
	pthread_cond_init(&vd->idle, NULL);
	vd->ops = ops;
	vd->mem = env->mem;
	vd->irq = env->irq;
	vd->irq_ctx = env->irq_ctx;
	vd->index = index;
	vd->intid = AVM_SPI_VIRTIO + index;
	vd->host_features = features | 1ULL << VIRTIO_F_VERSION_1 |
			    1ULL << VIRTIO_RING_F_EVENT_IDX |
			    1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	vd->config = config;
	vd->config_len = config_len;
	snprintf(vd->name, sizeof(vd->name), "%s@%u", ops->name, index);
	vd->dev = (struct avm_dev){
		.name = vd->name,
		.base = AVM_VIRTIO_BASE + index * AVM_VIRTIO_SIZE,
		.size = AVM_VIRTIO_SIZE,
		.read = virtio_mmio_read, .write = virtio_mmio_write,
		.fdt_node = virtio_fdt_node, .priv = vd,
	};
	return 0;
}

int virtio_start(struct virtio_dev *vd)
{
	int ret = pthread_create(&vd->thread, NULL, virtio_thread, vd);

	if (ret)
		return -ret;
	vd->thread_started = true;
	return 0;
}

void virtio_stop(struct virtio_dev *vd)
{
	if (!vd->thread_started)
		return;
	__atomic_store_n(&vd->stop, true, __ATOMIC_RELEASE);
	virtio_kick(vd);
	pthread_join(vd->thread, NULL);
	vd->thread_started = false;
	vd->stop = false;
}

void virtio_destroy(struct virtio_dev *vd)
{
	if (!vd)
		return;
	virtio_stop(vd);
	close(vd->kick_fd);
	pthread_mutex_destroy(&vd->lock);
	pthread_cond_destroy(&vd->idle);
	vd->ops->destroy(vd);
}
