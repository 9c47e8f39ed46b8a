// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal vsnprintf for guest messages: the guest cannot use libc's. Only
 * what assertion and debug messages need; see guest.h for the subset.
 */
#include "guest.h"

struct out {
	char *buf;
	size_t size;
	size_t len;	/* characters stored, always < size */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s, int width, bool left)
{
	int n = 0;

	while (s[n])
		n++;
	for (; !left && width > n; width--)
		put(o, ' ');
	while (*s)
		put(o, *s++);
	for (; left && width > n; width--)
		put(o, ' ');
}

static void put_num(struct out *o, unsigned long long v, bool neg,
		    unsigned int base, bool upper, const char *prefix,
		    int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (prefix && prefix[plen])
		plen++;
	len = n + neg + plen;
	if (!left && !zero)
		for (; width > len; width--)
			put(o, ' ');
	if (neg)
		put(o, '-');
	while (prefix && *prefix)
		put(o, *prefix++);
	if (!left && zero)
		for (; width > len; width--)
			put(o, '0');
	while (n)
		put(o, tmp[--n]);
	for (; left && width > len; width--)
		put(o, ' ');
}

size_t guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };

	for (; *fmt; fmt++) {
		bool zero = false, left = false, alt = false;
		int width = 0, lng = 0;
		unsigned long long v;
		const char *s;
		char c;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (;; fmt++) {
			if (fmt[1] == '0')
				zero = true;
			else if (fmt[1] == '-')
				left = true;
			else if (fmt[1] == '#')
				alt = true;
			else
				break;
		}
		while (fmt[1] >= '0' && fmt[1] <= '9')
			width = width * 10 + *++fmt - '0';
		while (fmt[1] == 'l' || fmt[1] == 'z') {
			lng += fmt[1] == 'z' ? 2 : 1;
			fmt++;
		}
		c = *++fmt;
		switch (c) {
		case 'd':
		case 'i': {
			long long sv = lng >= 2 ? va_arg(ap, long long) :
				       lng ? va_arg(ap, long) : va_arg(ap, int);

			v = sv < 0 ? 0 - (unsigned long long)sv :
				     (unsigned long long)sv;
			put_num(&o, v, sv < 0, 10, false, NULL, width, zero,
				left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng >= 2 ? va_arg(ap, unsigned long long) :
			    lng ? va_arg(ap, unsigned long) :
				  va_arg(ap, unsigned int);
			put_num(&o, v, false, c == 'u' ? 10 : 16, c == 'X',
				alt && c != 'u' ? "0x" : NULL, width, zero,
				left);
			break;
		case 'p':
			v = (uintptr_t)va_arg(ap, void *);
			put_num(&o, v, false, 16, false, "0x", width, zero,
				left);
			break;
		case 's':
			s = va_arg(ap, const char *);
			put_str(&o, s ? s : "(null)", width, left);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;		/* a lone '%' at the end */
			break;
		default:		/* unknown: show it as it was */
			put(&o, '%');
			put(&o, c);
			break;
		}
	}
	if (size)
		buf[o.len] = '\0';
	return o.len;
}

size_t guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
