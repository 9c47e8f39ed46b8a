// SPDX-License-Identifier: GPL-2.0
/*
 * avm's terminal (term.c) on a pseudo-terminal: raw mode while the guest
 * owns it, and the terminal as it was after every way avm can end (exit,
 * a signal, a crash); nothing done to what is not a terminal; the Ctrl-A
 * escape; the window size and its change.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "term.h"

FIXTURE(pty) {
	int master, slave;
};

FIXTURE_SETUP(pty)
{
	self->master = posix_openpt(O_RDWR | O_NOCTTY);
	ASSERT_GE(self->master, 0);
	ASSERT_EQ(0, grantpt(self->master));
	ASSERT_EQ(0, unlockpt(self->master));
	self->slave = open(ptsname(self->master), O_RDWR | O_NOCTTY);
	ASSERT_GE(self->slave, 0);
}

FIXTURE_TEARDOWN(pty)
{
	close(self->slave);
	close(self->master);
}

/* A terminal as a shell leaves it: lines, echo, keys that send signals */
static bool cooked(int fd)
{
	struct termios t;

	return !tcgetattr(fd, &t) && (t.c_lflag & ICANON) && (t.c_lflag & ECHO) &&
	       (t.c_lflag & ISIG);
}

static bool raw(int fd)
{
	struct termios t;

	return !tcgetattr(fd, &t) && !(t.c_lflag & (ICANON | ECHO | ISIG)) &&
	       !(t.c_oflag & OPOST) && t.c_cc[VMIN] == 1;
}

/* A child that puts @fd in raw mode, then ends as @how says; its status */
static int child(int fd, const char *how)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		/*
		 * The signals of the test at their defaults, whatever this
		 * process inherited: under nohup SIGHUP arrives ignored, and
		 * avm leaves an ignored signal ignored (ignored_signals_stay_
		 * ignored), so the child would outlive its SIGHUP.
		 */
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (term_raw(fd) != 1 || !raw(fd))
			_exit(10);
		if (!strcmp(how, "exit"))
			exit(0);
		if (!strcmp(how, "sigterm"))
			raise(SIGTERM);
		if (!strcmp(how, "sighup"))
			kill(getpid(), SIGHUP);
		if (!strcmp(how, "segv")) {
			/* a real fault, not a sent signal: a page just unmapped */
			int *volatile p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			munmap((void *)p, 4096);
			*p = 1;
		}
		if (!strcmp(how, "abort"))
			abort();
		_exit(11);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST_F(pty, raw_then_restored_at_exit)
{
	int status;

	ASSERT_TRUE(cooked(self->slave));
	status = child(self->slave, "exit");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(cooked(self->slave));
}

/* Killed by a signal: restored, and still killed by that signal */
TEST_F(pty, restored_on_signals)
{
	const struct { const char *how; int sig; } cases[] = {
		{ "sigterm", SIGTERM }, { "sighup", SIGHUP },
		{ "segv", SIGSEGV }, { "abort", SIGABRT },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = child(self->slave, cases[i].how);
		int sig = cases[i].sig;

		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("%s: status 0x%x", cases[i].how, status);
		EXPECT_EQ(sig, WTERMSIG(status));
		EXPECT_TRUE(cooked(self->slave)) TH_LOG("%s left the terminal raw", cases[i].how);
	}
}

TEST_F(pty, restore_in_place)
{
	ASSERT_EQ(1, term_raw(self->slave));
	EXPECT_TRUE(raw(self->slave));
	term_restore();
	EXPECT_TRUE(cooked(self->slave));
	term_restore();			/* twice is fine */
	EXPECT_TRUE(cooked(self->slave));
}

TEST(not_a_terminal)
{
	int p[2];
	struct sigaction sa;

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(0, term_raw(p[0]));
	/* and no handler took over a signal */
	ASSERT_EQ(0, sigaction(SIGTERM, NULL, &sa));
	EXPECT_EQ(SIG_DFL, sa.sa_handler);
	close(p[0]);
	close(p[1]);
}

/* A signal ignored by avm's parent (nohup) stays ignored */
TEST_F(pty, ignored_signals_stay_ignored)
{
	struct sigaction sa;

	signal(SIGHUP, SIG_IGN);
	ASSERT_EQ(1, term_raw(self->slave));
	ASSERT_EQ(0, sigaction(SIGHUP, NULL, &sa));
	EXPECT_EQ(SIG_IGN, sa.sa_handler);
	ASSERT_EQ(0, sigaction(SIGTERM, NULL, &sa));
	EXPECT_NE(SIG_DFL, sa.sa_handler);
	term_restore();
}

TEST_F(pty, size_and_changes)
{
	struct winsize ws = { .ws_row = 43, .ws_col = 132 };
	unsigned int cols, rows;
	struct pollfd p;
	int fd;
	char c;

	/* a terminal that does not know its size (a new pty: 0 x 0) has none */
	EXPECT_EQ(-1, term_size(self->slave, &cols, &rows));
	EXPECT_EQ(0, rows);
	ASSERT_EQ(0, ioctl(self->master, TIOCSWINSZ, &ws));
	ASSERT_EQ(0, term_size(self->slave, &cols, &rows));
	EXPECT_EQ(132, cols);
	EXPECT_EQ(43, rows);
	fd = term_winch_fd();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(fd, term_winch_fd());
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));
	raise(SIGWINCH);
	EXPECT_EQ(1, poll(&p, 1, 1000));
	EXPECT_EQ(1, read(fd, &c, 1));
	/* no terminal: no size */
	EXPECT_EQ(-1, term_size(fd, &cols, &rows));
	EXPECT_EQ(0, cols);
}

/* The escape over @in, in pieces as they might be read; the result */
static size_t filter(const char *const *in, char *out, bool *quit)
{
	struct term_esc e = { 0 };
	size_t k = 0;

	*quit = false;
	for (; *in && !*quit; in++)
		k += term_filter(&e, (const uint8_t *)*in, strlen(*in),
				 (uint8_t *)out + k, quit);
	out[k] = '\0';
	return k;
}

#define FILTER(want, want_quit, ...) do {				\
	const char *const __in[] = { __VA_ARGS__, NULL };		\
	char __out[64];							\
	bool __quit;							\
									\
	filter(__in, __out, &__quit);					\
	EXPECT_STREQ(want, __out);					\
	EXPECT_EQ(want_quit, __quit);					\
} while (0)

TEST(escape)
{
	FILTER("hello\r", false, "hello\r");
	/* Ctrl-C and the rest are the guest's */
	FILTER("\x03\x1a\x1c", false, "\x03\x1a\x1c");
	/* Ctrl-A x: quit; what came before still goes, nothing after */
	FILTER("ab", true, "ab\x01xcd");
	FILTER("", true, "\x01x");
	/* the escape at the end of one read, x at the start of the next */
	FILTER("a", true, "a\x01", "x", "never");
	/* Ctrl-A Ctrl-A: one Ctrl-A */
	FILTER("\x01", false, "\x01\x01");
	FILTER("\x01x", false, "\x01\x01x");
	/* Ctrl-A anything else: both */
	FILTER("\x01y", false, "\x01y");
	FILTER("\x01" "X", false, "\x01X");
	/* an escape held over comes out with the next byte: n + 1 out */
	FILTER("\x01" "ab", false, "\x01", "ab");
	/* a lone escape at the end waits */
	FILTER("z", false, "z\x01");
}

TEST_HARNESS_MAIN
