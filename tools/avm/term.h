/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The terminal on avm's standard input (term.c): raw while the guest owns
 * it, restored on every way out; the Ctrl-A escape; window size changes.
 */
#ifndef AVM_TERM_H
#define AVM_TERM_H

#include "avm.h"

#define TERM_ESCAPE	0x01	/* Ctrl-A, as kvmtool and QEMU */
#define TERM_QUIT	'x'

struct term_esc {
	bool armed;		/* the last byte was an escape */
};

/*
 * If @fd is a terminal, put it in raw mode (no echo, no line editing, no
 * signals from keys: every byte is the guest's) and arrange for it to be
 * restored at exit and on fatal signals: 1. Not a terminal: 0, nothing
 * changed. -1 on an error (with a message).
 */
int term_raw(int fd);
/* Put the terminal back as it was (async-signal-safe; idempotent). */
void term_restore(void);

/*
 * Typed bytes @in (@n) to what the guest gets, into @out (room for @n + 1,
 * an escape held over from the last call may come out now). Ctrl-A x sets
 * *@quit and ends the bytes there; Ctrl-A Ctrl-A is one Ctrl-A; Ctrl-A and
 * any other byte pass both. Returns the bytes in @out.
 */
size_t term_filter(struct term_esc *e, const uint8_t *in, size_t n, uint8_t *out,
		   bool *quit);

/* A pipe that gets a byte at each SIGWINCH: its read end, or -1. */
int term_winch_fd(void);
/* The terminal @fd's size; 0, or -1 (then 0 x 0) if it has none. */
int term_size(int fd, unsigned int *cols, unsigned int *rows);

#endif /* AVM_TERM_H */
