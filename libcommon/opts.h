/* SPDX-License-Identifier: ISC */
/* The popt options every program shares, and the one way to parse them. */
#ifndef LIBCOMMON_OPTS_H
#define LIBCOMMON_OPTS_H

#include <popt.h>

/* -h/--help, -V/--version, -v/--verbose: include with POPT_ARG_INCLUDE_TABLE. */
extern struct poptOption opts_common[];

/* The same for fpm-supervise: -v is the version, as in PHP-FPM. */
extern struct poptOption opts_common_fpm[];
/* How many times -v (--verbose) was given. */
extern int	opts_verbose;

/*
 * Parse argv against table (which includes opts_common).  --help prints the
 * help to stdout and exits 0; --version prints "prog VERSION" and exits 0; a
 * bad option prints one line and a hint on stderr and exits 100.  Values of
 * options declared with a val other than 0 are handed to handle (which may be
 * NULL) in order.  Stops at the first non-option (POSIXMEHARDER), so that
 * "fpm-spawn -s x -- php-cgi -b y" keeps "php-cgi -b y" whole.  Returns the
 * context; the caller takes the arguments with poptGetArgs() and frees it.
 */
poptContext	opts_parse(int argc, char *argv[], const struct poptOption *table,
		    const char *usage, void (*handle)(poptContext, int));

/* Print the usage error "prog: usage: msg" and the hint; exit 100. */
#define opts_usage_error	fatalx_usage

#endif
