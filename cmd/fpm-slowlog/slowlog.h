/* SPDX-License-Identifier: ISC */
/* fpm-slowlog: the two commands, taking a trace and reading slowlogs. */
#ifndef FPM_SLOWLOG_H
#define FPM_SLOWLOG_H

#include <sys/types.h>

#include <time.h>

#define SLOWLOG_DEPTH_DEFAULT	20	/* request_slowlog_trace_depth */
#define SLOWLOG_DEPTH_MAX	1000
#define SLOWLOG_FUNC_MAX	1024	/* PHP-FPM's buf_size */

struct trace_opts {
	pid_t		 pid;
	int		 depth;		/* frames to print, >= 1 */
	const char	*pool;		/* NULL: the worker's comm */
	const char	*script;	/* NULL: PHP's, or "unknown" */
	const char	*output;	/* NULL or "-": stdout */
};

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_TSV,
	REPORT_FOLDED
};

struct report_opts {
	time_t			 since, until;	/* 0: unbounded */
	int			 top;		/* frames in a stack's key */
	enum report_format	 format;
};

/*
 * Attach to o->pid, take one backtrace, detach, and append one entry in
 * PHP-FPM's slowlog format to o->output.  Returns an FPM_EXIT_* code; an
 * error that prevents the entry is logged as fatal and exits.
 */
int	trace_run(const struct trace_opts *o);

/*
 * Read the slowlogs in files (plain or gzip, "-" is stdin), and print the
 * summary on stdout.  Returns FPM_EXIT_OK, or FPM_EXIT_TEMP when a file
 * could not be read (the others are still reported).
 */
int	report_run(const struct report_opts *o, const char **files);

/*
 * Parse "YYYY-MM-DD[ HH:MM[:SS]]", "YYYY-MM-DDTHH:MM[:SS]" or PHP-FPM's
 * "25-Nov-2026[ 08:33:05]" as local time.  Returns 0, or -1 with EINVAL.
 */
int	report_parse_time(const char *s, time_t *out);

#endif
