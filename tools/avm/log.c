// SPDX-License-Identifier: GPL-2.0
/*
 * avm's messages: one line each on stderr, "avm: ...". Shared by avm and
 * its unit tests.
 */
#include <stdarg.h>
#include <stdio.h>

#include "avm.h"

static void avm_vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "avm: %s%s\n", prefix, line);
}

void avm_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	avm_vmsg("error: ", fmt, ap);
	va_end(ap);
}

void avm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	avm_vmsg("", fmt, ap);
	va_end(ap);
}

void avm_warn_limited(unsigned int *count, unsigned int limit, const char *fmt, ...)
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
	avm_vmsg("", fmt, ap);
	va_end(ap);
}
