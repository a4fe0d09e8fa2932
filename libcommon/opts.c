/* SPDX-License-Identifier: ISC */
/* The popt options every program shares, and the one way to parse them. */

#include <stdio.h>
#include <stdlib.h>

#include <popt.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"

#define OPTS_HELP	0x7f01
#define OPTS_VERSION	0x7f02
#define OPTS_VERBOSE	0x7f03

int	opts_verbose;

struct poptOption opts_common[] = {
	{ "help", 'h', POPT_ARG_NONE, NULL, OPTS_HELP,
	    "show this help and exit", NULL },
	{ "version", 'V', POPT_ARG_NONE, NULL, OPTS_VERSION,
	    "show the version and exit", NULL },
	{ "verbose", 'v', POPT_ARG_NONE, NULL, OPTS_VERBOSE,
	    "log more (repeat for debug)", NULL },
	POPT_TABLEEND
};

/* fpm-supervise's: -v is the version, as PHP-FPM's; --verbose has no letter */
struct poptOption opts_common_fpm[] = {
	{ "help", 'h', POPT_ARG_NONE, NULL, OPTS_HELP,
	    "show this help and exit", NULL },
	{ "version", 'v', POPT_ARG_NONE, NULL, OPTS_VERSION,
	    "show the version and exit (-V too)", NULL },
	{ NULL, 'V', POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN, NULL,
	    OPTS_VERSION, NULL, NULL },
	{ "verbose", '\0', POPT_ARG_NONE, NULL, OPTS_VERBOSE,
	    "log more (repeat for debug)", NULL },
	POPT_TABLEEND
};

poptContext
opts_parse(int argc, char *argv[], const struct poptOption *table,
    const char *usage, void (*handle)(poptContext, int))
{
	poptContext	 pc;
	int		 c;

	pc = poptGetContext(getprogname(), argc, (const char **)argv, table,
	    POPT_CONTEXT_POSIXMEHARDER);
	if (usage != NULL)
		poptSetOtherOptionHelp(pc, usage);
	while ((c = poptGetNextOpt(pc)) > 0) {
		switch (c) {
		case OPTS_HELP:
			poptPrintHelp(pc, stdout, 0);
			poptFreeContext(pc);
			exit(FPM_EXIT_OK);
		case OPTS_VERSION:
			printf("%s %s\n", getprogname(), FPM_VERSION);
			poptFreeContext(pc);
			exit(FPM_EXIT_OK);
		case OPTS_VERBOSE:
			opts_verbose++;
			log_verbose(opts_verbose);
			break;
		default:
			if (handle != NULL)
				handle(pc, c);
			break;
		}
	}
	if (c < -1)
		fatalx_usage("%s: %s", poptBadOption(pc,
		    POPT_BADOPTION_NOALIAS), poptStrerror(c));
	return (pc);
}
