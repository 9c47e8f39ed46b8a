// SPDX-License-Identifier: GPL-2.0
/*
 * avm_err(), avm_warn() and avm_warn_limited() for the unit tests: main.c
 * (which holds avm's own) is not linked into them. Same limiting rule as
 * main.c's avm_warn_limited(); lines start with "# " so they stay TAP
 * comments in the harness's output.
 */
#include <stdarg.h>
#include <stdio.h>

#include "avm.h"
#include "avm_stubs.h"

unsigned int avm_test_nr_msgs;
char avm_test_last_msg[512];

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	vsnprintf(avm_test_last_msg, sizeof(avm_test_last_msg), fmt, ap);
	avm_test_nr_msgs++;
	fprintf(stderr, "# avm: %s%s\n", prefix, avm_test_last_msg);
}

void avm_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void avm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void avm_warn_limited(unsigned int *count, unsigned int limit,
		      const char *fmt, ...)
{
	unsigned int n = __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
	va_list ap;

	if (n > limit)
		return;
	if (n == limit) {
		avm_warn("(more of these are not reported)");
		return;
	}
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}
