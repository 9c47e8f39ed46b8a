// SPDX-License-Identifier: GPL-2.0
/*
 * A PL011 UART (Arm DDI 0183, "PrimeCell UART (PL011) Technical Reference
 * Manual", section 3 for the registers). Transmission is instant: a byte
 * written to UARTDR goes straight to the output, so the transmit FIFO is
 * always empty and never busy. Received bytes wait in a 16-entry FIFO.
 *
 * The receive interrupt is raised as soon as one byte waits (as if the
 * trigger level were 1/16): avm has no receive-timeout timer, and Linux
 * reads the FIFO only from its interrupt handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libfdt.h>

#include "fdt.h"
#include "pl011.h"

#define UARTDR		0x000
#define UARTRSR		0x004
#define UARTFR		0x018
#define UARTILPR	0x020
#define UARTIBRD	0x024
#define UARTFBRD	0x028
#define UARTLCR_H	0x02c
#define UARTCR		0x030
#define UARTIFLS	0x034
#define UARTIMSC	0x038
#define UARTRIS		0x03c
#define UARTMIS		0x040
#define UARTICR		0x044
#define UARTDMACR	0x048
#define UARTPERIPHID0	0xfe0

#define FR_RXFE		(1U << 4)
#define FR_RXFF		(1U << 6)
#define FR_TXFE		(1U << 7)

#define INT_RX		(1U << 4)
#define INT_TX		(1U << 5)
#define INT_RT		(1U << 6)
#define INT_ALL		0x7ff

#define LCR_H_FEN	(1U << 4)

/* PeriphID0-3 then PCellID0-3 (TRM 3.3.14-15): part 0x011, rev 1, Arm */
static const uint8_t pl011_id[8] = {
	0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

struct pl011 {
	pthread_mutex_t lock;
	pthread_cond_t room;
	int out_fd;
	void (*irq)(void *ctx, int level);
	void *ctx;
	bool level;
	bool closed;
	uint8_t fifo[PL011_FIFO_SIZE];
	unsigned int head;
	unsigned int count;
	uint32_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
	struct avm_dev dev;
	unsigned int warned;
};

/* Called with the lock held: recompute the line, report a change. */
static void pl011_update(struct pl011 *u)
{
	bool level = u->ris & u->imsc;

	if (level != u->level) {
		u->level = level;
		if (u->irq)
			u->irq(u->ctx, level);
	}
}

static uint32_t pl011_pop(struct pl011 *u)
{
	uint32_t c = 0;

	if (u->count) {
		c = u->fifo[u->head];
		u->head = (u->head + 1) % PL011_FIFO_SIZE;
		u->count--;
		pthread_cond_broadcast(&u->room);
	}
	if (!u->count)
		u->ris &= ~(INT_RX | INT_RT);
	return c;
}

static uint64_t pl011_read(struct avm_dev *dev, unsigned int cpu, uint64_t off,
			   unsigned int len)
{
	struct pl011 *u = dev->priv;
	uint32_t val = 0;

	/* 8, 16 and 32-bit accesses all reach the register (Linux uses each) */
	if (len == 8)
		return 0;
	off &= ~3ULL;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UARTDR:
		val = pl011_pop(u);
		pl011_update(u);
		break;
	case UARTRSR:
		val = 0;
		break;
	case UARTFR:
		val = FR_TXFE;
		if (!u->count)
			val |= FR_RXFE;
		if (u->count == PL011_FIFO_SIZE)
			val |= FR_RXFF;
		break;
	case UARTILPR:
		val = u->ilpr;
		break;
	case UARTIBRD:
		val = u->ibrd;
		break;
	case UARTFBRD:
		val = u->fbrd;
		break;
	case UARTLCR_H:
		val = u->lcr_h;
		break;
	case UARTCR:
		val = u->cr;
		break;
	case UARTIFLS:
		val = u->ifls;
		break;
	case UARTIMSC:
		val = u->imsc;
		break;
	case UARTRIS:
		val = u->ris;
		break;
	case UARTMIS:
		val = u->ris & u->imsc;
		break;
	case UARTDMACR:
		val = u->dmacr;
		break;
	default:
		if (off >= UARTPERIPHID0 && off < UARTPERIPHID0 + 0x20)
			val = pl011_id[(off - UARTPERIPHID0) / 4];
		break;
	}
	pthread_mutex_unlock(&u->lock);
	return val;
}

static void pl011_write(struct avm_dev *dev, unsigned int cpu, uint64_t off,
			unsigned int len, uint64_t val)
{
	struct pl011 *u = dev->priv;
	uint8_t c;

	if (len == 8)
		return;
	off &= ~3ULL;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UARTDR:
		c = val;
		if (write(u->out_fd, &c, 1) != 1)
			avm_warn_limited(&u->warned, 1, "pl011: output lost: %s",
					 errno ? "write failed" : "short write");
		/* the transmit FIFO drained at once: at or below any level */
		u->ris |= INT_TX;
		break;
	case UARTRSR:
		break;
	case UARTILPR:
		u->ilpr = val & 0xff;
		break;
	case UARTIBRD:
		u->ibrd = val & 0xffff;
		break;
	case UARTFBRD:
		u->fbrd = val & 0x3f;
		break;
	case UARTLCR_H:
		/* turning the FIFOs on or off flushes them */
		if ((u->lcr_h ^ val) & LCR_H_FEN) {
			u->count = 0;
			u->ris &= ~(INT_RX | INT_RT);
			pthread_cond_broadcast(&u->room);
		}
		u->lcr_h = val & 0xff;
		break;
	case UARTCR:
		u->cr = val & 0xffff;
		break;
	case UARTIFLS:
		u->ifls = val & 0x3f;
		break;
	case UARTIMSC:
		u->imsc = val & INT_ALL;
		break;
	case UARTICR:
		u->ris &= ~(val & INT_ALL);
		/* still waiting bytes keep asking to be read */
		if (u->count)
			u->ris |= INT_RX;
		break;
	case UARTDMACR:
		u->dmacr = val & 7;
		break;
	}
	pl011_update(u);
	pthread_mutex_unlock(&u->lock);
}

size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->count < PL011_FIFO_SIZE) {
		u->fifo[(u->head + u->count) % PL011_FIFO_SIZE] = buf[n++];
		u->count++;
	}
	if (u->count)
		u->ris |= INT_RX;
	pl011_update(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void pl011_wait_room(struct pl011 *u)
{
	pthread_mutex_lock(&u->lock);
	while (u->count == PL011_FIFO_SIZE && !u->closed)
		pthread_cond_wait(&u->room, &u->lock);
	pthread_mutex_unlock(&u->lock);
}

void pl011_close_input(struct pl011 *u)
{
	pthread_mutex_lock(&u->lock);
	u->closed = true;
	pthread_cond_broadcast(&u->room);
	pthread_mutex_unlock(&u->lock);
}

static int pl011_fdt_node(struct avm_dev *dev, void *fdt)
{
	uint64_t reg[] = { cpu_to_fdt64(AVM_UART_BASE), cpu_to_fdt64(AVM_UART_SIZE) };
	uint32_t irq[] = { 0, cpu_to_fdt32(AVM_SPI_UART - 32), cpu_to_fdt32(4) };
	uint32_t clks[] = { cpu_to_fdt32(AVM_PHANDLE_CLK), cpu_to_fdt32(AVM_PHANDLE_CLK) };
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clk_names[] = "uartclk\0apb_pclk";
	char name[32];

	/* The AMBA bus enables apb_pclk before it reads the IDs; the driver
	 * takes uartclk for its baud rate: without both there is no probe. */
	AVM_FDT_CHECK(fdt_begin_node(fdt, "apb-pclk"));
	AVM_FDT_CHECK(fdt_property_string(fdt, "compatible", "fixed-clock"));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "#clock-cells", 0));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "clock-frequency", 24000000));
	AVM_FDT_CHECK(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	AVM_FDT_CHECK(fdt_property_u32(fdt, "phandle", AVM_PHANDLE_CLK));
	AVM_FDT_CHECK(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)AVM_UART_BASE);
	AVM_FDT_CHECK(fdt_begin_node(fdt, name));
	AVM_FDT_CHECK(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	AVM_FDT_CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
	AVM_FDT_CHECK(fdt_property(fdt, "interrupts", irq, sizeof(irq)));
	AVM_FDT_CHECK(fdt_property(fdt, "clocks", clks, sizeof(clks)));
	AVM_FDT_CHECK(fdt_property(fdt, "clock-names", clk_names, sizeof(clk_names)));
	return fdt_end_node(fdt);
}

/* Lock held: the registers as the TRM's table 3-1 has them at reset */
static void pl011_reset_locked(struct pl011 *u)
{
	u->head = u->count = 0;
	u->ilpr = u->ibrd = u->fbrd = u->lcr_h = u->imsc = u->ris = u->dmacr = 0;
	/* TXE and RXE set, UART disabled */
	u->cr = 0x300;
	u->ifls = 0x12;
	pl011_update(u);
	pthread_cond_broadcast(&u->room);
}

void pl011_reset(struct pl011 *u)
{
	pthread_mutex_lock(&u->lock);
	pl011_reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

struct pl011 *pl011_create(int out_fd, void (*irq)(void *ctx, int level),
			   void *ctx)
{
	struct pl011 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->room, NULL);
	u->out_fd = out_fd;
	u->irq = irq;
	u->ctx = ctx;
	pl011_reset_locked(u);
	u->dev = (struct avm_dev){
		.name = "pl011", .base = AVM_UART_BASE, .size = AVM_UART_SIZE,
		.read = pl011_read, .write = pl011_write,
		.fdt_node = pl011_fdt_node, .priv = u,
	};
	return u;
}

void pl011_destroy(struct pl011 *u)
{
	free(u);
}

struct avm_dev *pl011_dev(struct pl011 *u)
{
	return &u->dev;
}
