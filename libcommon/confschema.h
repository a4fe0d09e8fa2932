/* SPDX-License-Identifier: ISC */
/*
 * libcommon/conf's inside, shared by conf.c (loading, the model), confschema.c
 * (the directives: their types, bounds and defaults) and confcheck.c (the
 * checks and derived values after parsing).  Nothing else includes it.
 */
#ifndef LIBCOMMON_CONFSCHEMA_H
#define LIBCOMMON_CONFSCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libcommon/conf.h"
#include "libcommon/ini.h"

#define CONF_NOSET	((size_t)-1)

enum conf_type {
	CT_STR,			/* char *; "" stores NULL (unset) */
	CT_PATH,		/* CT_STR made absolute after parsing */
	CT_LISTEN,		/* CT_STR checked with sock_parse() */
	CT_FORMAT,		/* CT_STR checked as an access.format */
	CT_COMMAND,		/* CT_STR split into argv */
	CT_INT,			/* int in [min, max] */
	CT_TIME,		/* int64_t milliseconds */
	CT_SIZE,		/* uint64_t bytes */
	CT_BOOL,		/* int 0 or 1 */
	CT_MODE,		/* unsigned int */
	CT_RLIMIT,		/* uint64_t, UINT64_MAX unlimited */
	CT_PM,			/* enum conf_pm */
	CT_LOGLEVEL,		/* enum conf_log_level */
	CT_FACILITY,		/* int LOG_* */
	CT_EVENTS,		/* no field: only "epoll" */
	CT_SETFIB,		/* no field: only "-1" */
	CT_APPARMOR		/* no field: only empty */
};

#define CF_WORKER	0x01	/* a change restarts the workers */
#define CF_EMPTY	0x02	/* a string given empty is unset, not dflt */

/*
 * One directive.  dflt is its value before the file is read, written as in
 * fpm.conf (NULL: zero, no, unset); a string directive given empty gets it
 * back, unless CF_EMPTY.
 */
struct conf_opt {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	size_t		 setoff;	/* int flag set when given, or NOSET */
	long long	 min;
	long long	 max;
	const char	*dflt;
	int		 flags;
};

/* The tables, each ended by a NULL name. */
extern const struct conf_opt conf_global_opts[];
extern const struct conf_opt conf_pool_opts[];
extern const size_t conf_npool_opts;

/* The directive name of table o (any case), or NULL. */
const struct conf_opt *conf_opt_find(const struct conf_opt *o,
	    const char *name);

/*
 * Store v, as written, in o's field of base (a struct conf_global or
 * conf_pool).  Returns 0, or -1 with ini_err() at the current line.
 */
int	conf_set(struct ini *, const struct conf_opt *o, void *base,
	    const char *v);

/* Every directive of table o takes its dflt: 0, or -1 (out of memory). */
int	conf_set_defaults(struct ini *, const struct conf_opt *o, void *base);

/* Free the strings of table o's fields in base. */
void	conf_free_opts(const struct conf_opt *o, void *base);

/* "\tname = value" for every directive of table o. */
void	conf_dump_opts(const struct conf_opt *o, const void *base, FILE *fp);

/* 1 when a and b agree on every directive of table o with flags, else 0. */
int	conf_equal_opts(const struct conf_opt *o, const void *a,
	    const void *b, int flags);

/* "php_value" and the like. */
const char *conf_php_name(enum conf_php_kind);

/* "30s" or "1500ms". */
void	conf_fmt_time(int64_t ms, char *buf, size_t size);

/*
 * confcheck.c: after parsing, the derived values (absolute paths, the
 * limit_extensions list, pm.start_servers) and every check that needs the
 * whole file.  Returns 0, or -1 with the message set through ini.
 */
int	conf_finish(struct ini *, struct conf *);

#endif
