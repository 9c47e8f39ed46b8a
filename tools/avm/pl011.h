/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PL011 UART avm emulates (pl011.c).
 */
#ifndef AVM_PL011_H
#define AVM_PL011_H

#include "avm.h"

#define PL011_FIFO_SIZE		16

struct pl011;

/*
 * A PL011 at AVM_UART_BASE whose transmitted bytes go to @out_fd and whose
 * interrupt output calls @irq(@ctx, level) on each change.
 */
struct pl011 *pl011_create(int out_fd, void (*irq)(void *ctx, int level),
			   void *ctx);
void pl011_destroy(struct pl011 *uart);
/* Back to the reset state (a reboot): FIFO emptied, interrupt line down. */
void pl011_reset(struct pl011 *uart);
struct avm_dev *pl011_dev(struct pl011 *uart);

/* Queue received bytes; returns how many fit in the receive FIFO. */
size_t pl011_receive(struct pl011 *uart, const uint8_t *buf, size_t len);
/* Block until the receive FIFO has room (or pl011_close_input()). */
void pl011_wait_room(struct pl011 *uart);
void pl011_close_input(struct pl011 *uart);

#endif /* AVM_PL011_H */
