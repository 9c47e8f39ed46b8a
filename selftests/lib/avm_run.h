/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running avm from a test (avm_test.c, avm_virtio_test.c): the binary and
 * the guest's files where the rig puts them, avm in a child process with
 * its console and stderr collected, and what a guest must never print.
 */
#ifndef AVM_RUN_H
#define AVM_RUN_H

#include <stdbool.h>
#include <stddef.h>

#define BOOT_TIMEOUT_S	300
#define QUICK_TIMEOUT_S	60
#define OUT_MAX		(1 << 20)

/* What a guest kernel must never print (as scripts/rig.py's BAD) */
static const char *const guest_bad[] __attribute__((unused)) = {
	"WARNING:", "BUG:", "Oops", "Call trace", "Kernel panic",
	"KASAN", "possible circular locking", "possible recursive locking",
	"INFO: lockdep is turned off", "soft lockup", "self-detected stall",
	"GIC: PPI", "RWP timeout", "failed to come online", "failed to boot",
};

struct avm_result {
	int status;		/* exit status, or -signal, or -1000 timeout */
	char *out;		/* stdout (the guest's console) */
	char *err;		/* stderr */
	size_t out_len;
	size_t err_len;
	double marker_s;	/* seconds from start to @marker on stdout, or -1 */
	double total_s;
};

/* $AVM_BIN, or /bin/avm */
const char *avm_bin(void);
/* @name in $AVM_GUEST_DIR, or /lib/avcpu/guest (four buffers in turn) */
const char *guest_file(const char *name);
/*
 * Run avm with @argv (NULL-terminated, without argv[0]); stdin is
 * /dev/null, or a pipe that gets @input once @marker is on the console
 * (after @at_marker(@arg) ran, if given). With @echo, each console line is
 * also printed as a TAP comment, so the guest's log lands in the serial
 * log the rig scans.
 */
void run_avm_input(const char *const *argv, int timeout_s, const char *marker,
		   bool echo, const char *input, void (*at_marker)(void *arg),
		   void *arg, struct avm_result *r);
void run_avm(const char *const *argv, int timeout_s, const char *marker,
	     bool echo, struct avm_result *r);
void free_result(struct avm_result *r);
/*
 * A guest kernel's command line: @base, and the loglevel for its guests,
 * AVCPU_GUEST_LOGLEVEL or GUEST_LOGLEVEL. Every character on the guest's
 * console is two exits to avm, which a boot's informational messages
 * make by the ten thousand (on a debug host for longer than the guest's
 * watchdogs allow); warnings and worse, what guest_bad[] looks for, still
 * print. Four buffers in turn.
 */
#define GUEST_LOGLEVEL	"5"
const char *guest_params(const char *base);
/* CLOCK_MONOTONIC in seconds */
double now_s(void);
/* @n bytes of @data to the NUL-terminated *@buf of *@len, up to OUT_MAX */
void append(char **buf, size_t *len, const char *data, size_t n);
int count_lines(const char *s);
int count_char(const char *s, char c);
/* @len bytes of @data into a new file @path: 0 or -1 */
int write_bytes(const char *path, const void *data, size_t len);
/* The first @len bytes of @src into @dst: 0 or -1 */
int copy_prefix(const char *src, const char *dst, size_t len);
/* avm, the guest's kernel and its initramfs are all there */
bool guest_files_present(void);

#define REQUIRE_GUEST_FILES() do {					\
	if (!guest_files_present())					\
		SKIP(return, "avm or the guest's kernel/initramfs is not installed here"); \
} while (0)

#endif /* AVM_RUN_H */
