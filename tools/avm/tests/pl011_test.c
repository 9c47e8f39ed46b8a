// SPDX-License-Identifier: GPL-2.0
/*
 * avm's PL011 UART (pl011.c) through its MMIO callbacks: identification,
 * flags, transmission into a pipe, the receive FIFO, and the interrupt
 * line as a recorder sees it (Arm DDI 0183 for the registers).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

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

#define FR_BUSY		(1U << 3)
#define FR_RXFE		(1U << 4)
#define FR_TXFF		(1U << 5)
#define FR_RXFF		(1U << 6)
#define FR_TXFE		(1U << 7)
#define INT_RX		(1U << 4)
#define INT_TX		(1U << 5)
#define INT_RT		(1U << 6)
#define LCR_H_FEN	(1U << 4)

/* What the UART did with its interrupt output */
struct irq_rec {
	int level;
	unsigned int calls;
};

static void irq_rec(void *ctx, int level)
{
	struct irq_rec *r = ctx;

	r->level = level;
	r->calls++;
}

FIXTURE(uart) {
	int pipe[2];		/* [0]: what the guest wrote, non-blocking */
	struct irq_rec irq;
	struct pl011 *u;
	struct avm_dev *dev;
};

FIXTURE_SETUP(uart)
{
	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC));
	ASSERT_EQ(0, fcntl(self->pipe[0], F_SETFL, O_NONBLOCK));
	self->u = pl011_create(self->pipe[1], irq_rec, &self->irq);
	ASSERT_NE(NULL, self->u);
	self->dev = pl011_dev(self->u);
	ASSERT_NE(NULL, self->dev);
}

FIXTURE_TEARDOWN(uart)
{
	pl011_destroy(self->u);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

static uint64_t rd(struct avm_dev *d, uint64_t off, unsigned int len)
{
	return d->read(d, 0, off, len);
}

static void wr(struct avm_dev *d, uint64_t off, unsigned int len, uint64_t val)
{
	d->write(d, 0, off, len, val);
}

/* Everything the UART sent so far */
static ssize_t drain(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n < 0 && errno == EAGAIN)
		return 0;
	return n;
}

static void fill(struct pl011 *u, size_t n)
{
	uint8_t buf[64];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 'a' + i;
	pl011_receive(u, buf, n);
}

TEST_F(uart, device)
{
	EXPECT_EQ(AVM_UART_BASE, self->dev->base);
	EXPECT_EQ(AVM_UART_SIZE, self->dev->size);
	EXPECT_NE(NULL, self->dev->read);
	EXPECT_NE(NULL, self->dev->write);
	EXPECT_NE(NULL, self->dev->fdt_node);
}

TEST_F(uart, id_registers)
{
	static const uint8_t id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	unsigned int i;

	for (i = 0; i < 8; i++) {
		EXPECT_EQ(id[i], rd(self->dev, UARTPERIPHID0 + 4 * i, 4))
			TH_LOG("0x%x", UARTPERIPHID0 + 4 * i);
		EXPECT_EQ(id[i], rd(self->dev, UARTPERIPHID0 + 4 * i, 1))
			TH_LOG("0x%x, byte", UARTPERIPHID0 + 4 * i);
	}
}

TEST_F(uart, reset_values)
{
	EXPECT_EQ(0x300, rd(self->dev, UARTCR, 4));
	EXPECT_EQ(0x12, rd(self->dev, UARTIFLS, 4));
	EXPECT_EQ(0, rd(self->dev, UARTIMSC, 4));
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4));
	EXPECT_EQ(0, rd(self->dev, UARTMIS, 4));
	EXPECT_EQ(0, rd(self->dev, UARTLCR_H, 4));
	EXPECT_EQ(0, rd(self->dev, UARTRSR, 4));
	EXPECT_EQ(0, rd(self->dev, UARTDMACR, 4));
	EXPECT_EQ(FR_TXFE | FR_RXFE, rd(self->dev, UARTFR, 4));
	EXPECT_EQ(0, self->irq.calls);
}

TEST_F(uart, transmit)
{
	char buf[16];

	wr(self->dev, UARTDR, 4, 'A');
	wr(self->dev, UARTDR, 2, 'B');
	wr(self->dev, UARTDR, 1, 'C');
	/* only the data byte goes out */
	wr(self->dev, UARTDR, 4, 0xf00 | 'D');
	/* a doubleword is no access of a PL011 */
	wr(self->dev, UARTDR, 8, 'X');
	ASSERT_EQ(4, drain(self->pipe[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ABCD", 4));
	/* instant transmission: never busy, never full */
	EXPECT_EQ(FR_TXFE | FR_RXFE, rd(self->dev, UARTFR, 4));
	EXPECT_EQ(0, rd(self->dev, UARTFR, 4) & (FR_BUSY | FR_TXFF));
	/* the interrupt is masked: no line */
	EXPECT_EQ(0, self->irq.calls);
	EXPECT_EQ(INT_TX, rd(self->dev, UARTRIS, 4));
}

TEST_F(uart, tx_interrupt)
{
	wr(self->dev, UARTIMSC, 4, INT_TX);
	EXPECT_EQ(0, self->irq.calls);
	wr(self->dev, UARTDR, 4, 'x');
	EXPECT_EQ(1, self->irq.calls);
	EXPECT_EQ(1, self->irq.level);
	EXPECT_EQ(INT_TX, rd(self->dev, UARTMIS, 4));
	/* more bytes: still high, no new call */
	wr(self->dev, UARTDR, 4, 'y');
	EXPECT_EQ(1, self->irq.calls);
	/* ICR clears it */
	wr(self->dev, UARTICR, 4, INT_TX);
	EXPECT_EQ(2, self->irq.calls);
	EXPECT_EQ(0, self->irq.level);
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4));
	EXPECT_EQ(0, rd(self->dev, UARTMIS, 4));
	/* pending but masked: unmasking raises the line, masking lowers it */
	wr(self->dev, UARTIMSC, 4, 0);
	wr(self->dev, UARTDR, 4, 'z');
	EXPECT_EQ(2, self->irq.calls);
	wr(self->dev, UARTIMSC, 4, INT_TX);
	EXPECT_EQ(1, self->irq.level);
	wr(self->dev, UARTIMSC, 4, 0);
	EXPECT_EQ(0, self->irq.level);
	EXPECT_EQ(4, self->irq.calls);
}

TEST_F(uart, receive_flags)
{
	uint8_t many[20] = "0123456789abcdefghi";

	EXPECT_EQ(FR_RXFE, rd(self->dev, UARTFR, 4) & (FR_RXFE | FR_RXFF));
	EXPECT_EQ(1, pl011_receive(self->u, many, 1));
	EXPECT_EQ(0, rd(self->dev, UARTFR, 4) & (FR_RXFE | FR_RXFF));
	EXPECT_EQ(14, pl011_receive(self->u, many + 1, 14));
	EXPECT_EQ(0, rd(self->dev, UARTFR, 4) & (FR_RXFE | FR_RXFF));
	/* 16 bytes at most wait */
	EXPECT_EQ(1, pl011_receive(self->u, many + 15, 5));
	EXPECT_EQ(FR_RXFF, rd(self->dev, UARTFR, 4) & (FR_RXFE | FR_RXFF));
	EXPECT_EQ(0, pl011_receive(self->u, many, 4));
	EXPECT_EQ(INT_RX, rd(self->dev, UARTRIS, 4) & INT_RX);
	/* masked: the line stays low */
	EXPECT_EQ(0, self->irq.calls);
	EXPECT_EQ(0, rd(self->dev, UARTMIS, 4));
}

TEST_F(uart, receive_interrupt_and_drain)
{
	const char *msg = "hello, avm world";	/* 16 bytes */
	unsigned int i;

	ASSERT_EQ(16, strlen(msg));
	EXPECT_EQ(16, pl011_receive(self->u, (const uint8_t *)msg, 16));
	EXPECT_EQ(0, self->irq.calls);
	/* IMSC.RXIM: the line rises */
	wr(self->dev, UARTIMSC, 4, INT_RX);
	EXPECT_EQ(1, self->irq.calls);
	EXPECT_EQ(1, self->irq.level);
	EXPECT_EQ(INT_RX, rd(self->dev, UARTMIS, 4));

	/* reads drain in order; the line stays up while bytes wait */
	for (i = 0; i < 15; i++) {
		EXPECT_EQ((uint8_t)msg[i], rd(self->dev, UARTDR, 4)) TH_LOG("byte %u", i);
	}
	EXPECT_EQ(1, self->irq.level);
	EXPECT_EQ(1, self->irq.calls);
	EXPECT_EQ(0, rd(self->dev, UARTFR, 4) & FR_RXFE);
	EXPECT_EQ((uint8_t)msg[15], rd(self->dev, UARTDR, 1));
	/* empty: RXFE, no RX in RIS, line down */
	EXPECT_EQ(FR_RXFE, rd(self->dev, UARTFR, 4) & (FR_RXFE | FR_RXFF));
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4) & INT_RX);
	EXPECT_EQ(0, self->irq.level);
	EXPECT_EQ(2, self->irq.calls);
	/* reading an empty FIFO changes nothing */
	EXPECT_EQ(0, rd(self->dev, UARTDR, 4));
	EXPECT_EQ(2, self->irq.calls);

	/* with RXIM set, one byte is enough */
	fill(self->u, 1);
	EXPECT_EQ(1, self->irq.level);
	EXPECT_EQ(3, self->irq.calls);
	EXPECT_EQ('a', rd(self->dev, UARTDR, 2));
	EXPECT_EQ(0, self->irq.level);
}

/* The FIFO is a ring: bytes keep their order across wrap-arounds. */
TEST_F(uart, receive_wraps)
{
	uint8_t b;
	unsigned int i, next_in = 0, next_out = 0;

	for (i = 0; i < 100; i++) {
		while (1) {
			b = next_in & 0xff;
			if (pl011_receive(self->u, &b, 1) != 1)
				break;
			next_in++;
		}
		/* take a few out, not all */
		for (b = 0; b < 5; b++) {
			ASSERT_EQ(next_out & 0xff, rd(self->dev, UARTDR, 4));
			next_out++;
		}
	}
	while (next_out < next_in) {
		ASSERT_EQ(next_out & 0xff, rd(self->dev, UARTDR, 4));
		next_out++;
	}
	EXPECT_NE(0, rd(self->dev, UARTFR, 4) & FR_RXFE);
}

TEST_F(uart, icr)
{
	wr(self->dev, UARTIMSC, 4, INT_RX | INT_TX);
	wr(self->dev, UARTDR, 4, '!');
	fill(self->u, 2);
	EXPECT_EQ(INT_RX | INT_TX, rd(self->dev, UARTMIS, 4));
	EXPECT_EQ(1, self->irq.level);
	/* ICR of TX leaves RX */
	wr(self->dev, UARTICR, 4, INT_TX);
	EXPECT_EQ(INT_RX, rd(self->dev, UARTRIS, 4));
	EXPECT_EQ(1, self->irq.level);
	/* zero bits clear nothing */
	wr(self->dev, UARTICR, 4, 0);
	EXPECT_EQ(INT_RX, rd(self->dev, UARTRIS, 4));
	/*
	 * ICR of RX while bytes wait: pl011.c keeps asking for them (its
	 * trigger level is one byte); once read, it is gone.
	 */
	wr(self->dev, UARTICR, 4, 0x7ff);
	EXPECT_EQ(INT_RX, rd(self->dev, UARTRIS, 4));
	rd(self->dev, UARTDR, 4);
	rd(self->dev, UARTDR, 4);
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4));
	EXPECT_EQ(0, self->irq.level);
	/* after the FIFO went empty, ICR of everything leaves RIS clear */
	wr(self->dev, UARTICR, 4, 0x7ff);
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4));
	EXPECT_EQ(0, self->irq.level);
}

TEST_F(uart, fen_toggle_flushes)
{
	wr(self->dev, UARTIMSC, 4, INT_RX);
	fill(self->u, 5);
	EXPECT_EQ(1, self->irq.level);
	/* FEN 0 -> 1: the FIFO is flushed, the interrupt goes */
	wr(self->dev, UARTLCR_H, 4, LCR_H_FEN | 0x60);
	EXPECT_EQ(LCR_H_FEN | 0x60, rd(self->dev, UARTLCR_H, 4));
	EXPECT_NE(0, rd(self->dev, UARTFR, 4) & FR_RXFE);
	EXPECT_EQ(0, rd(self->dev, UARTRIS, 4) & INT_RX);
	EXPECT_EQ(0, self->irq.level);
	EXPECT_EQ(0, rd(self->dev, UARTDR, 4));

	/* a write that keeps FEN does not flush */
	fill(self->u, 3);
	wr(self->dev, UARTLCR_H, 4, LCR_H_FEN | 0x62);
	EXPECT_EQ(LCR_H_FEN | 0x62, rd(self->dev, UARTLCR_H, 4));
	EXPECT_EQ(0, rd(self->dev, UARTFR, 4) & FR_RXFE);
	EXPECT_EQ(1, self->irq.level);
	EXPECT_EQ('a', rd(self->dev, UARTDR, 4));

	/* FEN 1 -> 0 flushes again; after it, the FIFO takes 16 again */
	wr(self->dev, UARTLCR_H, 4, 0x60);
	EXPECT_NE(0, rd(self->dev, UARTFR, 4) & FR_RXFE);
	EXPECT_EQ(0, self->irq.level);
	fill(self->u, 20);
	EXPECT_NE(0, rd(self->dev, UARTFR, 4) & FR_RXFF);
	EXPECT_EQ('a', rd(self->dev, UARTDR, 4));
}

TEST_F(uart, register_widths)
{
	static const struct { uint32_t off; uint32_t mask; } regs[] = {
		{ UARTILPR, 0xff }, { UARTIBRD, 0xffff }, { UARTFBRD, 0x3f },
		{ UARTCR, 0xffff }, { UARTIFLS, 0x3f }, { UARTIMSC, 0x7ff },
		{ UARTDMACR, 0x7 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		wr(self->dev, regs[i].off, 4, 0xffffffff);
		EXPECT_EQ(regs[i].mask, rd(self->dev, regs[i].off, 4))
			TH_LOG("0x%x", regs[i].off);
		/* Linux's amba-pl011 uses 16-bit accesses too */
		wr(self->dev, regs[i].off, 2, 0x5);
		EXPECT_EQ(0x5, rd(self->dev, regs[i].off, 2)) TH_LOG("0x%x", regs[i].off);
	}
	wr(self->dev, UARTIMSC, 4, 0);
	/* read-only and write-only registers */
	wr(self->dev, UARTFR, 4, 0);
	EXPECT_EQ(FR_TXFE | FR_RXFE, rd(self->dev, UARTFR, 4));
	EXPECT_EQ(0, rd(self->dev, UARTICR, 4));
	/* doublewords: RAZ/WI */
	wr(self->dev, UARTCR, 8, 0x1234);
	EXPECT_EQ(0x5, rd(self->dev, UARTCR, 4));
	EXPECT_EQ(0, rd(self->dev, UARTCR, 8));
	EXPECT_EQ(0, rd(self->dev, UARTPERIPHID0, 8));
	/* nothing there */
	EXPECT_EQ(0, rd(self->dev, 0x800, 4));
	wr(self->dev, 0x800, 4, 0xffffffff);
	EXPECT_EQ(0, self->irq.calls);
}

struct waiter {
	struct pl011 *u;
	int done;
};

static void *wait_room(void *arg)
{
	struct waiter *w = arg;

	pl011_wait_room(w->u);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int waited(struct waiter *w)
{
	int i;

	/* up to 2 s: qemu-user can be slow */
	for (i = 0; i < 200; i++) {
		if (__atomic_load_n(&w->done, __ATOMIC_SEQ_CST))
			return 1;
		usleep(10000);
	}
	return 0;
}

TEST_F(uart, wait_room)
{
	struct waiter w = { .u = self->u };
	pthread_t t;

	/* room: no wait */
	pl011_wait_room(self->u);

	/* full: the console thread waits until the guest reads a byte */
	fill(self->u, 16);
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_room, &w));
	usleep(50000);
	EXPECT_EQ(0, __atomic_load_n(&w.done, __ATOMIC_SEQ_CST));
	rd(self->dev, UARTDR, 4);
	EXPECT_TRUE(waited(&w));
	pthread_join(t, NULL);

	/* or until input is closed */
	fill(self->u, 1);
	w.done = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_room, &w));
	usleep(50000);
	EXPECT_EQ(0, __atomic_load_n(&w.done, __ATOMIC_SEQ_CST));
	pl011_close_input(self->u);
	EXPECT_TRUE(waited(&w));
	pthread_join(t, NULL);
}

TEST_HARNESS_MAIN
