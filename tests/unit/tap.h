/* SPDX-License-Identifier: ISC */
/* TAP for the unit tests: check() prints "ok N - what" or "not ok N - what". */
#ifndef TESTS_UNIT_TAP_H
#define TESTS_UNIT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	ntest, nfail;

static void	check(int, const char *, ...)
		    __attribute__((format(printf, 2, 3), unused));

/* One test: ok is its verdict, fmt... what it checks. */
static void
check(int ok, const char *fmt, ...)
{
	va_list	ap;

	ntest++;
	if (!ok)
		nfail++;
	printf("%sok %d - ", ok ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#endif
