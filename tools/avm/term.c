// SPDX-License-Identifier: GPL-2.0
/*
 * avm's terminal. When standard input is a terminal the guest owns it:
 * raw mode (cfmakeraw(3): bytes as typed, no echo, Ctrl-C a byte for the
 * guest), so the only way out from the keyboard is the escape, Ctrl-A x,
 * as in kvmtool and QEMU. The terminal is restored at exit (atexit), and
 * on every signal that would end avm: the handler restores it (tcsetattr
 * is async-signal-safe, POSIX.1-2017 2.4.3) and lets the signal end avm
 * as it would have. When standard input is not a terminal nothing here
 * does anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

static struct termios saved;
static int saved_fd = -1;
static int winch_pipe[2] = { -1, -1 };

/*
 * Signals whose default action ends the process (signal(7)); not SIGQUIT,
 * which makes the vCPUs print their registers (vcpu.c)
 */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGALRM, SIGUSR2,
	SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGTRAP,
	SIGXCPU, SIGXFSZ,
};

void term_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSANOW, &saved);
}

/*
 * Installed with SA_RESETHAND: the default action is back once here, so
 * the signal raised again (or the fault taken again) ends avm as before.
 */
static void term_fatal(int sig)
{
	int err = errno;

	term_restore();
	raise(sig);
	errno = err;
}

int term_raw(int fd)
{
	struct sigaction sa = { .sa_handler = term_fatal, .sa_flags = SA_RESETHAND };
	struct termios raw;
	unsigned int i;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &saved)) {
		avm_err("terminal: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		struct sigaction old;

		/* a signal ignored by whoever started avm stays ignored */
		if (sigaction(fatal_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_signals[i], &sa, NULL);
	}
	if (saved_fd < 0 && atexit(term_restore)) {
		avm_err("terminal: atexit failed");
		return -1;
	}
	saved_fd = fd;
	raw = saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw)) {
		avm_err("terminal: %s", strerror(errno));
		return -1;
	}
	return 1;
}

size_t term_filter(struct term_esc *e, const uint8_t *in, size_t n, uint8_t *out,
		   bool *quit)
{
	size_t i, k = 0;

	*quit = false;
	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (!e->armed) {
			if (c == TERM_ESCAPE)
				e->armed = true;
			else
				out[k++] = c;
			continue;
		}
		e->armed = false;
		if (c == TERM_QUIT) {
			*quit = true;
			break;
		}
		/* Ctrl-A Ctrl-A: one Ctrl-A for the guest; else both */
		out[k++] = TERM_ESCAPE;
		if (c != TERM_ESCAPE)
			out[k++] = c;
	}
	return k;
}

static void term_winch(int sig)
{
	int err = errno;
	/* a full pipe already says "the size changed": nothing is lost */
	ssize_t n = write(winch_pipe[1], "w", 1);

	(void)n;
	errno = err;
}

int term_winch_fd(void)
{
	struct sigaction sa = { .sa_handler = term_winch, .sa_flags = SA_RESTART };

	if (winch_pipe[0] >= 0)
		return winch_pipe[0];
	if (pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK))
		return -1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGWINCH, &sa, NULL)) {
		close(winch_pipe[0]);
		close(winch_pipe[1]);
		winch_pipe[0] = winch_pipe[1] = -1;
		return -1;
	}
	return winch_pipe[0];
}

int term_size(int fd, unsigned int *cols, unsigned int *rows)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) || !ws.ws_col || !ws.ws_row) {
		*cols = *rows = 0;
		return -1;
	}
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}
