/* SPDX-License-Identifier: ISC */
/*
 * fpm-slowlog: take a slowlog entry from a running worker (trace), or
 * summarise slowlogs (report), in PHP-FPM's slowlog format.
 */

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <popt.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"
#include "cmd/fpm-slowlog/slowlog.h"

static char	*opt_pid, *opt_pool, *opt_script, *opt_output;
static char	*opt_since, *opt_until, *opt_format;
static int	 opt_depth = SLOWLOG_DEPTH_DEFAULT, opt_top = 3, opt_folded;

static struct poptOption top_options[] = {
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static struct poptOption trace_options[] = {
	{ "pid", 'p', POPT_ARG_STRING, &opt_pid, 0,
	    "trace the worker PID (required)", "PID" },
	{ "depth", 'd', POPT_ARG_INT | POPT_ARGFLAG_SHOW_DEFAULT,
	    &opt_depth, 0, "print at most N frames", "N" },
	{ "pool", 'P', POPT_ARG_STRING, &opt_pool, 0,
	    "pool name in the entry (default: the worker's command name)",
	    "NAME" },
	{ "script", 's', POPT_ARG_STRING, &opt_script, 0,
	    "script_filename in the entry (default: read from PHP)", "PATH" },
	{ "output", 'o', POPT_ARG_STRING, &opt_output, 0,
	    "append the entry to FILE (default: stdout)", "FILE" },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static struct poptOption report_options[] = {
	{ "since", 'S', POPT_ARG_STRING, &opt_since, 0,
	    "only entries at or after TIME (YYYY-MM-DD HH:MM:SS)",
	    "TIME" },
	{ "until", 'U', POPT_ARG_STRING, &opt_until, 0,
	    "only entries before TIME", "TIME" },
	{ "format", 'f', POPT_ARG_STRING, &opt_format, 0,
	    "text, json or tsv (default: text)", "FORMAT" },
	{ "folded", 'F', POPT_ARG_NONE, &opt_folded, 0,
	    "print folded stacks for flame graph tools", NULL },
	{ "top", 't', POPT_ARG_INT | POPT_ARGFLAG_SHOW_DEFAULT, &opt_top, 0,
	    "group stacks by their N innermost frames", "N" },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static int	cmd_trace(int, char *[]);
static int	cmd_report(int, char *[]);

static int
cmd_trace(int argc, char *argv[])
{
	struct trace_opts	 o;
	poptContext		 pc;
	const char		*errstr;

	pc = opts_parse(argc, argv, trace_options, "--pid PID [OPTION...]",
	    NULL);
	if (poptPeekArg(pc) != NULL)
		fatalx_usage("trace: unexpected argument '%s'",
		    poptPeekArg(pc));
	if (opt_pid == NULL)
		fatalx_usage("trace: --pid is required");
	memset(&o, 0, sizeof(o));
	o.pid = (pid_t)strtonum(opt_pid, 1, INT_MAX, &errstr);
	if (errstr != NULL)
		fatalx_usage("--pid: '%s' is %s", opt_pid, errstr);
	if (opt_depth < 1 || opt_depth > SLOWLOG_DEPTH_MAX)
		fatalx_usage("--depth: %d is not in 1..%d", opt_depth,
		    SLOWLOG_DEPTH_MAX);
	o.depth = opt_depth;
	o.pool = opt_pool;
	o.script = opt_script;
	o.output = opt_output;
	poptFreeContext(pc);
	return (trace_run(&o));
}

static int
cmd_report(int argc, char *argv[])
{
	struct report_opts	 o;
	poptContext		 pc;
	const char		**files, *stdin_only[] = { "-", NULL };
	int			 rc;

	pc = opts_parse(argc, argv, report_options, "[OPTION...] [FILE...]",
	    NULL);
	memset(&o, 0, sizeof(o));
	o.format = REPORT_TEXT;
	if (opt_format == NULL || strcmp(opt_format, "text") == 0)
		o.format = REPORT_TEXT;
	else if (strcmp(opt_format, "json") == 0)
		o.format = REPORT_JSON;
	else if (strcmp(opt_format, "tsv") == 0)
		o.format = REPORT_TSV;
	else
		fatalx_usage("--format: '%s' is not text, json or tsv",
		    opt_format);
	if (opt_folded) {
		if (opt_format != NULL)
			fatalx_usage("give only one of --folded and --format");
		o.format = REPORT_FOLDED;
	}
	if (opt_top < 1 || opt_top > SLOWLOG_DEPTH_MAX)
		fatalx_usage("--top: %d is not in 1..%d", opt_top,
		    SLOWLOG_DEPTH_MAX);
	o.top = opt_top;
	if (opt_since != NULL && report_parse_time(opt_since, &o.since) == -1)
		fatalx_usage("--since: cannot parse '%s'", opt_since);
	if (opt_until != NULL && report_parse_time(opt_until, &o.until) == -1)
		fatalx_usage("--until: cannot parse '%s'", opt_until);
	if ((files = poptGetArgs(pc)) == NULL)
		files = stdin_only;
	rc = report_run(&o, files);
	poptFreeContext(pc);
	return (rc);
}

int
main(int argc, char *argv[])
{
	poptContext	 pc;
	const char	*cmd;

	log_init(getprogname(), LOG_STYLE_PLAIN);
	/* popt names the program after argv[0]: "Usage: fpm-slowlog trace" */
	if (argc > 1 && strcmp(argv[1], "trace") == 0) {
		argv[1] = "fpm-slowlog trace";
		return (cmd_trace(argc - 1, argv + 1));
	}
	if (argc > 1 && strcmp(argv[1], "report") == 0) {
		argv[1] = "fpm-slowlog report";
		return (cmd_report(argc - 1, argv + 1));
	}
	pc = opts_parse(argc, argv, top_options,
	    "trace --pid PID [OPTION...] | report [OPTION...] [FILE...]", NULL);
	cmd = poptPeekArg(pc);
	if (cmd == NULL)
		fatalx_usage("no command: give trace or report");
	fatalx_usage("unknown command '%s': give trace or report", cmd);
}
