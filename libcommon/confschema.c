/* SPDX-License-Identifier: ISC */
/*
 * The directives of fpm.conf, each with its type, bounds and default: the
 * one table that parsing, the defaults, `fpm-supervise -tt` and a reload's
 * comparison read.  Per type: parse a value, print it, compare it, free it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/accesslog.h"
#include "libcommon/confschema.h"
#include "libcommon/log.h"
#include "libcommon/parse.h"

#define CONF_TIME_MAX	((int64_t)100 * 365 * 86400 * 1000)	/* 100 years */
#define NOSET		CONF_NOSET

static int	conf_set_str(struct ini *, const struct conf_opt *, char **,
		    const char *);
static int	conf_set_command(struct ini *, struct conf_pool *,
		    const char *);
static int	conf_set_int(struct ini *, const struct conf_opt *, int *,
		    const char *);
static int	conf_refuse(struct ini *, const struct conf_opt *,
		    const char *);
static int	conf_bad_number(struct ini *, const struct conf_opt *,
		    const char *, const char *, const char *, const char *);
static int	conf_bad(struct ini *, const struct conf_opt *, const char *,
		    const char *);
static int	conf_range(struct ini *, const struct conf_opt *,
		    const char *, const char *);
static int	conf_split(const char *, char ***, const char **);
static const char *conf_split_word(const char **, char *);
static int	conf_pm_parse(const char *, enum conf_pm *);
static void	conf_level_word(enum conf_log_level, char *, size_t);
static int	conf_is_string(enum conf_type);
static const char *conf_format(const struct conf_opt *, const void *,
		    char *, size_t);
static void	conf_fmt_size(uint64_t, char *, size_t);
static int	conf_streq(const char *, const char *);

#define G(f)	offsetof(struct conf_global, f)
#define P(f)	offsetof(struct conf_pool, f)

/*
 * PHP-FPM's, with its defaults, but for those marked "ours" or "PHP-FPM:".
 */
const struct conf_opt conf_global_opts[] = {
	{ "pid", CT_PATH, G(pid), NOSET, 0, 0, NULL, 0 },
	/* unset: stderr (PHP-FPM: a file) */
	{ "error_log", CT_STR, G(error_log), NOSET, 0, 0, NULL, 0 },
	{ "syslog.ident", CT_STR, G(syslog_ident), NOSET, 0, 0, "fpm", 0 },
	{ "syslog.facility", CT_FACILITY, G(syslog_facility), NOSET, 0, 0,
	    "daemon", 0 },
	/* accepted; we always write whole lines */
	{ "log_buffering", CT_BOOL, G(log_buffering), NOSET, 0, 0, "yes", 0 },
	{ "log_level", CT_LOGLEVEL, G(log_level), NOSET, 0, 0, "notice", 0 },
	{ "log_limit", CT_INT, G(log_limit), NOSET, 512, INT_MAX, "1024", 0 },
	{ "emergency_restart_threshold", CT_INT,
	    G(emergency_restart_threshold), NOSET, 0, INT_MAX, NULL, 0 },
	{ "emergency_restart_interval", CT_TIME,
	    G(emergency_restart_interval_ms), NOSET, 0, 0, NULL, 0 },
	/* PHP-FPM: 0 */
	{ "process_control_timeout", CT_TIME, G(process_control_timeout_ms),
	    NOSET, 0, 0, "10s", 0 },
	{ "process.max", CT_INT, G(process_max), NOSET, 0, INT_MAX, NULL, 0 },
	{ "process.priority", CT_INT, G(priority), G(priority_set), -19, 20,
	    NULL, 0 },
	/* PHP-FPM: yes */
	{ "daemonize", CT_BOOL, G(daemonize), NOSET, 0, 0, NULL, 0 },
	{ "rlimit_files", CT_RLIMIT, G(rlimit_files), G(rlimit_files_set),
	    0, 0, NULL, 0 },
	{ "rlimit_core", CT_RLIMIT, G(rlimit_core), G(rlimit_core_set),
	    0, 0, NULL, 0 },
	/* only epoll */
	{ "events.mechanism", CT_EVENTS, 0, NOSET, 0, 0, NULL, 0 },
	{ "systemd_interval", CT_TIME, G(systemd_interval_ms), NOSET, 0, 0,
	    "10s", 0 },
	/* ours: the control socket; unset: the supervisor picks */
	{ "control", CT_PATH, G(control), NOSET, 0, 0, NULL, 0 },
	{ "control.owner", CT_STR, G(control_owner), NOSET, 0, 0, NULL, 0 },
	{ "control.group", CT_STR, G(control_group), NOSET, 0, 0, NULL, 0 },
	{ "control.mode", CT_MODE, G(control_mode), NOSET, 0, 0, "0660", 0 },
	/* ours: where worker sockets live; unset: the supervisor picks */
	{ "runtime_dir", CT_PATH, G(runtime_dir), NOSET, 0, 0, NULL, 0 },
	{ NULL, CT_STR, 0, 0, 0, 0, NULL, 0 }
};

const struct conf_opt conf_pool_opts[] = {
	{ "prefix", CT_STR, P(prefix), NOSET, 0, 0, NULL, 0 },
	{ "user", CT_STR, P(user), NOSET, 0, 0, NULL, CF_WORKER },
	{ "group", CT_STR, P(group), NOSET, 0, 0, NULL, CF_WORKER },
	{ "listen", CT_LISTEN, P(listen), NOSET, 0, 0, NULL, 0 },
	/* -1: the kernel's maximum */
	{ "listen.backlog", CT_INT, P(listen_backlog), NOSET, -1, INT_MAX,
	    "-1", 0 },
	{ "listen.owner", CT_STR, P(listen_owner), NOSET, 0, 0, NULL, 0 },
	{ "listen.group", CT_STR, P(listen_group), NOSET, 0, 0, NULL, 0 },
	{ "listen.mode", CT_MODE, P(listen_mode), NOSET, 0, 0, "0660", 0 },
	{ "listen.acl_users", CT_STR, P(listen_acl_users), NOSET, 0, 0, NULL,
	    0 },
	{ "listen.acl_groups", CT_STR, P(listen_acl_groups), NOSET, 0, 0,
	    NULL, 0 },
	{ "listen.allowed_clients", CT_STR, P(listen_allowed_clients), NOSET,
	    0, 0, NULL, 0 },
	/* FreeBSD's: only -1 */
	{ "listen.setfib", CT_SETFIB, 0, NOSET, 0, 0, NULL, 0 },
	/* ours: an idle kept-alive front connection's life; 0: one request */
	{ "listen.keepalive_timeout", CT_TIME, P(listen_keepalive_timeout_ms),
	    NOSET, 0, 0, "60s", 0 },
	{ "process.priority", CT_INT, P(priority), P(priority_set), -19, 20,
	    NULL, CF_WORKER },
	{ "process.dumpable", CT_BOOL, P(dumpable), NOSET, 0, 0, NULL,
	    CF_WORKER },
	/* required */
	{ "pm", CT_PM, P(pm), NOSET, 0, 0, NULL, 0 },
	{ "pm.max_children", CT_INT, P(max_children), NOSET, 0, INT_MAX,
	    NULL, 0 },
	/* unset: derived for dynamic (confcheck.c) */
	{ "pm.start_servers", CT_INT, P(start_servers), NOSET, 0, INT_MAX,
	    NULL, 0 },
	{ "pm.min_spare_servers", CT_INT, P(min_spare_servers), NOSET,
	    0, INT_MAX, NULL, 0 },
	{ "pm.max_spare_servers", CT_INT, P(max_spare_servers), NOSET,
	    0, INT_MAX, NULL, 0 },
	{ "pm.max_spawn_rate", CT_INT, P(max_spawn_rate), NOSET, 0, INT_MAX,
	    "32", 0 },
	{ "pm.process_idle_timeout", CT_TIME, P(process_idle_timeout_ms),
	    NOSET, 0, 0, "10s", 0 },
	/* 0: never */
	{ "pm.max_requests", CT_INT, P(max_requests), NOSET, 0, INT_MAX,
	    NULL, 0 },
	/* ours: a worker whose RSS exceeds it is retired after its request */
	{ "pm.max_memory", CT_SIZE, P(max_memory), NOSET, 0, 0, NULL, 0 },
	{ "pm.status_path", CT_STR, P(status_path), NOSET, 0, 0, NULL, 0 },
	{ "pm.status_listen", CT_LISTEN, P(status_listen), NOSET, 0, 0,
	    NULL, 0 },
	{ "ping.path", CT_STR, P(ping_path), NOSET, 0, 0, NULL, 0 },
	{ "ping.response", CT_STR, P(ping_response), NOSET, 0, 0, "pong", 0 },
	{ "access.log", CT_PATH, P(access_log), NOSET, 0, 0, NULL, 0 },
	{ "access.format", CT_FORMAT, P(access_format), NOSET, 0, 0,
	    ACCESSLOG_DEFAULT_FORMAT, 0 },
	{ "slowlog", CT_PATH, P(slowlog), NOSET, 0, 0, NULL, 0 },
	{ "request_slowlog_timeout", CT_TIME, P(request_slowlog_timeout_ms),
	    NOSET, 0, 0, NULL, 0 },
	{ "request_slowlog_trace_depth", CT_INT,
	    P(request_slowlog_trace_depth), NOSET, 1, INT_MAX, "20", 0 },
	{ "request_terminate_timeout", CT_TIME,
	    P(request_terminate_timeout_ms), NOSET, 0, 0, NULL, 0 },
	{ "request_terminate_timeout_track_finished", CT_BOOL,
	    P(request_terminate_timeout_track_finished), NOSET, 0, 0, NULL,
	    0 },
	{ "rlimit_files", CT_RLIMIT, P(rlimit_files), P(rlimit_files_set),
	    0, 0, NULL, CF_WORKER },
	{ "rlimit_core", CT_RLIMIT, P(rlimit_core), P(rlimit_core_set),
	    0, 0, NULL, CF_WORKER },
	{ "chroot", CT_STR, P(chroot), NOSET, 0, 0, NULL, CF_WORKER },
	{ "chdir", CT_PATH, P(chdir), NOSET, 0, 0, NULL, CF_WORKER },
	{ "catch_workers_output", CT_BOOL, P(catch_workers_output), NOSET,
	    0, 0, NULL, CF_WORKER },
	{ "decorate_workers_output", CT_BOOL, P(decorate_workers_output),
	    NOSET, 0, 0, "yes", 0 },
	/*
	 * ours: lines of a worker's stdout and stderr logged a second, the
	 * rest counted in one note a second; 0: no limit
	 */
	{ "workers_output_rate_limit", CT_INT, P(workers_output_rate_limit),
	    NOSET, 0, INT_MAX, "2000", 0 },
	{ "clear_env", CT_BOOL, P(clear_env), NOSET, 0, 0, "yes", CF_WORKER },
	/* empty: any extension */
	{ "security.limit_extensions", CT_STR, P(security_limit_extensions),
	    NOSET, 0, 0, ".php .phar", CF_EMPTY },
	/* AppArmor's: only empty */
	{ "apparmor_hat", CT_APPARMOR, 0, NOSET, 0, 0, NULL, 0 },
	/*
	 * ours: the worker program and its arguments, split like a shell
	 * word list (blanks separate, quotes group, backslash escapes,
	 * nothing expanded but ${ENV} and $pool, before the split); unset,
	 * a php-cgi (conf_default_phpcgi)
	 */
	{ "command", CT_COMMAND, P(command), NOSET, 0, 0, NULL, 0 },
	/* ours: requests waiting for a worker; 0: a 503 when none is idle */
	{ "queue.max_length", CT_INT, P(queue_max_length), NOSET, 0, INT_MAX,
	    "1024", 0 },
	/* ours: the longest wait in the queue before a 503; 0: none */
	{ "queue.timeout", CT_TIME, P(queue_timeout_ms), NOSET, 0, 0, "30s",
	    0 },
	/*
	 * ours: a client that sends none of its request, or takes none of
	 * its answer, for this long is closed; 0: never
	 */
	{ "request.client_timeout", CT_TIME, P(request_client_timeout_ms),
	    NOSET, 0, 0, "60s", 0 },
	/*
	 * ours: request bodies up to this are held in memory before a worker
	 * is chosen; larger ones spill to a file in request.spool_dir
	 */
	{ "request.buffer_size", CT_SIZE, P(request_buffer_size), NOSET, 0, 0,
	    "64k", 0 },
	{ "request.spool_dir", CT_PATH, P(request_spool_dir), NOSET, 0, 0,
	    "/tmp", 0 },
	/*
	 * ours: the largest body read before a worker is chosen (memory and
	 * spool), 0 for none; larger gets a 413
	 */
	{ "request.max_body_size", CT_SIZE, P(request_max_body_size), NOSET,
	    0, 0, "1g", 0 },
	/* ours: no: stream the body to the worker as it arrives */
	{ "request.buffering", CT_BOOL, P(request_buffering), NOSET, 0, 0,
	    "yes", 0 },
	/*
	 * ours: when the web server drops a request its worker still runs,
	 * yes terminates and replaces the worker, no lets it finish
	 */
	{ "request.terminate_on_abort", CT_BOOL, P(request_terminate_on_abort),
	    NOSET, 0, 0, NULL, 0 },
	/*
	 * ours: follow each request with a record the worker reads when it
	 * is back for the next one, which tells one that goes on after its
	 * END_REQUEST
	 */
	{ "request.finish_probe", CT_BOOL, P(request_finish_probe), NOSET,
	    0, 0, "yes", 0 },
	/* ours: the hard limit of the PARAMS stream */
	{ "request.max_params_size", CT_SIZE, P(request_max_params_size),
	    NOSET, 0, 0, "64k", 0 },
	/*
	 * ours: fpm.so for php-cgi workers; unset: the installed one, if
	 * any; "no": none; else an absolute path (pool.c)
	 */
	{ "php.extension", CT_STR, P(php_extension), NOSET, 0, 0, NULL,
	    CF_WORKER },
	/* ours: php-cgi's php.ini (-c); unset: the one php-cgi finds */
	{ "php.ini", CT_PATH, P(php_ini), NOSET, 0, 0, NULL, CF_WORKER },
	/*
	 * ours: php-cgi workers are the children of one php-cgi of the
	 * pool, which share its OPcache (group.c)
	 */
	{ "php.group", CT_BOOL, P(php_group), NOSET, 0, 0, "yes", CF_WORKER },
	{ NULL, CT_STR, 0, 0, 0, 0, NULL, 0 }
};

#undef G
#undef P

const size_t conf_npool_opts =
    sizeof(conf_pool_opts) / sizeof(conf_pool_opts[0]);

static const char *const conf_pm_names[] = {
	[CONF_PM_STATIC] = "static",
	[CONF_PM_DYNAMIC] = "dynamic",
	[CONF_PM_ONDEMAND] = "ondemand"
};

const char *
conf_pm_name(enum conf_pm pm)
{
	if ((size_t)pm >= sizeof(conf_pm_names) / sizeof(conf_pm_names[0]) ||
	    conf_pm_names[pm] == NULL)
		return ("?");
	return (conf_pm_names[pm]);
}

static int
conf_pm_parse(const char *s, enum conf_pm *out)
{
	size_t	i;

	for (i = 0; i < sizeof(conf_pm_names) / sizeof(conf_pm_names[0]); i++)
		if (conf_pm_names[i] != NULL &&
		    strcasecmp(conf_pm_names[i], s) == 0) {
			*out = (enum conf_pm)i;
			return (0);
		}
	return (-1);
}

/* A log_level as fpm.conf writes it: log.h's name in lower case. */
static void
conf_level_word(enum conf_log_level level, char *buf, size_t size)
{
	const char	*s = log_level_name((enum log_level)level);
	size_t		 i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = tolower((unsigned char)s[i]);
	buf[i] = '\0';
}

const struct conf_opt *
conf_opt_find(const struct conf_opt *o, const char *name)
{
	for (; o->name != NULL; o++)
		if (strcasecmp(o->name, name) == 0)
			return (o);
	return (NULL);
}

int
conf_set_defaults(struct ini *ini, const struct conf_opt *o, void *base)
{
	for (; o->name != NULL; o++)
		if (o->dflt != NULL && conf_set(ini, o, base, o->dflt) == -1)
			return (-1);
	return (0);
}

/* One switch, a case a type: each parses v, stores it, or says why not. */
int
conf_set(struct ini *ini, const struct conf_opt *o, void *base, const char *v)
{
	void		*field = (char *)base + o->off;
	enum log_level	 level;

	switch (o->type) {
	case CT_STR:
	case CT_PATH:
	case CT_LISTEN:
	case CT_FORMAT:
		return (conf_set_str(ini, o, field, v));
	case CT_COMMAND:
		return (conf_set_command(ini, base, v));
	case CT_INT:
		return (conf_set_int(ini, o, field, v));
	case CT_TIME:
		if (parse_duration_ms(v, 0, CONF_TIME_MAX, field) == -1)
			return (conf_bad_number(ini, o, v, "36500d", *v == '\0' ?
			    "invalid time value" : "unknown suffix used in time "
			    "value", "A time is a number with an optional ms, "
			    "s, m, h or d suffix."));
		break;
	case CT_SIZE:
		if (parse_size(v, UINT64_MAX, field) == -1)
			return (conf_bad_number(ini, o, v, NULL, "invalid size "
			    "value", "A size is a number with an optional k, m "
			    "or g suffix."));
		break;
	case CT_BOOL:
		if (parse_bool(v, field) == -1)
			return (conf_bad(ini, o, "invalid boolean value", "Use "
			    "yes/no, on/off, true/false or 1/0."));
		break;
	case CT_MODE:
		if (parse_mode(v, field) == -1)
			return (conf_bad_number(ini, o, v, "07777", "invalid "
			    "mode value", "A mode is an octal number, as "
			    "0660."));
		break;
	case CT_RLIMIT:
		if (parse_rlimit(v, field) == -1) {
			/* a negative one gets PHP-FPM's words, not a range */
			if (*v == '-')
				errno = EINVAL;
			return (conf_bad_number(ini, o, v, NULL, "must be "
			    "greater than zero or 'unlimited'", NULL));
		}
		break;
	case CT_PM:
		if (conf_pm_parse(v, field) == -1)
			return (conf_bad(ini, o, "invalid process manager "
			    "(static, dynamic or ondemand)", NULL));
		break;
	case CT_LOGLEVEL:
		if (log_level_parse_conf(v, &level) == -1)
			return (conf_bad(ini, o, "invalid value for "
			    "'log_level'", "Use debug, notice, warning, error "
			    "or alert."));
		*(enum conf_log_level *)field = (enum conf_log_level)level;
		break;
	case CT_FACILITY:
		if (log_facility_parse(v, field) == -1)
			return (conf_bad(ini, o, "invalid value", "Use a "
			    "syslog facility: daemon, user, local0 to local7, "
			    "..."));
		break;
	case CT_EVENTS:
	case CT_SETFIB:
	case CT_APPARMOR:
		return (conf_refuse(ini, o, v));
	}
	return (0);
}

/* A string; an empty one unsets it, or brings the default back. */
static int
conf_set_str(struct ini *ini, const struct conf_opt *o, char **field,
    const char *v)
{
	char	*dup = NULL, why[256];

	if (*v == '\0' && o->dflt != NULL && !(o->flags & CF_EMPTY))
		v = o->dflt;
	if (o->type == CT_FORMAT && *v != '\0' &&
	    accesslog_check(v, why, sizeof(why)) == -1)
		return (ini_err(ini, "wrong format for access.format '%s': %s",
		    v, why));
	if (*v != '\0' && (dup = strdup(v)) == NULL)
		return (ini_oom(ini));
	free(*field);
	*field = dup;
	return (0);
}

/* command: kept as written, and split into argv. */
static int
conf_set_command(struct ini *ini, struct conf_pool *pl, const char *v)
{
	char		**argv, *dup;
	const char	*why;

	if (conf_split(v, &argv, &why) == -1) {
		if (errno == ENOMEM)
			return (ini_oom(ini));
		return (ini_err(ini, "invalid command '%s': %s", v, why));
	}
	if ((dup = strdup(v)) == NULL) {
		ini_strv_free(argv);
		return (ini_oom(ini));
	}
	free(pl->command);
	ini_strv_free(pl->argv);
	pl->command = dup;
	pl->argv = argv;
	return (0);
}

static int
conf_set_int(struct ini *ini, const struct conf_opt *o, int *field,
    const char *v)
{
	char		max[32];
	long long	ll;

	if (parse_int(v, o->min, o->max, &ll) == -1) {
		if (errno == EINVAL)
			return (conf_bad(ini, o, "is not a valid number "
			    "(greater or equal than zero)", NULL));
		/* PHP-FPM's words for process.priority, the one so bounded */
		if (o->max != INT_MAX)
			return (ini_err(ini, "%s%s%s%s must be included into "
			    "[%lld,%lld]", ini->pool != NULL ? "[pool " : "",
			    ini->pool != NULL ? ini->pool : "",
			    ini->pool != NULL ? "] " : "", o->name, o->min,
			    o->max));
		snprintf(max, sizeof(max), "%d", INT_MAX);
		return (conf_range(ini, o, v, max));
	}
	*field = (int)ll;
	return (0);
}

/* What a directive we do not support accepts: nothing but the default. */
static int
conf_refuse(struct ini *ini, const struct conf_opt *o, const char *v)
{
	if (o->type == CT_EVENTS && *v != '\0' && strcasecmp(v, "epoll") != 0)
		return (ini_err(ini, "event mechanism '%s' is not available "
		    "on this system. fpm uses epoll.", v));
	if (o->type == CT_SETFIB && strcmp(v, "-1") != 0)
		return (ini_err(ini, "'listen.setfib' is FreeBSD-only and not "
		    "supported"));
	if (o->type == CT_APPARMOR && *v != '\0')
		return (ini_err(ini, "'apparmor_hat' is not supported"));
	return (0);
}

/* A parse_*() failed: out of range (ERANGE, at most max), or why. */
static int
conf_bad_number(struct ini *ini, const struct conf_opt *o, const char *v,
    const char *max, const char *why, const char *more)
{
	if (errno == ERANGE)
		return (conf_range(ini, o, v, max));
	return (conf_bad(ini, o, why, more));
}

/*
 * PHP-FPM's words for a value it cannot parse, why its own; then more,
 * what we add, as a sentence of its own (NULL: nothing).
 */
static int
conf_bad(struct ini *ini, const struct conf_opt *o, const char *why,
    const char *more)
{
	return (ini_err(ini, "unable to parse value for entry '%s': %s%s%s",
	    o->name, why, more != NULL ? ". " : "", more != NULL ? more : ""));
}

/*
 * v, a number of o's type, is out of range: below o->min, or too large
 * (beyond max when given, maybe beyond what a long long holds, which
 * strtoll(3) reports as ERANGE just the same).
 */
static int
conf_range(struct ini *ini, const struct conf_opt *o, const char *v,
    const char *max)
{
	char		why[64];
	long long	ll;

	if (*v == '-' || (parse_int(v, LLONG_MIN, LLONG_MAX, &ll) == 0 &&
	    ll < o->min)) {
		/* PHP-FPM's words, where it has a bound */
		if (strcmp(o->name, "log_limit") == 0)
			return (ini_err(ini, "log_limit must be greater than "
			    "%lld", o->min));
		snprintf(why, sizeof(why), "must not be less than %lld", o->min);
		return (conf_bad(ini, o, why, NULL));
	}
	if (max == NULL)
		return (conf_bad(ini, o, "is too large", NULL));
	snprintf(why, sizeof(why), "is too large. The most is %s.", max);
	return (conf_bad(ini, o, why, NULL));
}

/*
 * Split a command like sh(1) splits a simple command, without expansions:
 * blanks separate words, '...' is literal, "..." keeps blanks and takes \"
 * \\ \$ \` escapes, a backslash outside quotes escapes any character.
 * Returns 0 with a new argv, or -1 with errno ENOMEM, or EINVAL and *why.
 * A word is never longer than s: each is made in one buffer that size.
 */
static int
conf_split(const char *s, char ***argvp, const char **why)
{
	char	**argv = NULL, *w;
	size_t	 n = 0;

	*why = NULL;
	if ((w = malloc(strlen(s) + 1)) == NULL)
		return (-1);
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if ((*why = conf_split_word(&s, w)) != NULL ||
		    ini_strv_push(&argv, &n, w) == -1)
			goto fail;
	}
	free(w);
	if (n == 0) {
		ini_strv_free(argv);
		*why = "empty command";
		errno = EINVAL;
		return (-1);
	}
	*argvp = argv;
	return (0);
fail:
	free(w);
	ini_strv_free(argv);
	errno = *why != NULL ? EINVAL : ENOMEM;
	return (-1);
}

/* The word at *sp into w, *sp past it; NULL, or what is wrong with it. */
static const char *
conf_split_word(const char **sp, char *w)
{
	const char	*s = *sp;

	while (*s != '\0' && *s != ' ' && *s != '\t') {
		if (*s == '\'') {
			for (s++; *s != '\0' && *s != '\''; s++)
				*w++ = *s;
			if (*s++ == '\0')
				return ("unterminated single quote");
		} else if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0' &&
				    strchr("\"\\$`", s[1]) != NULL)
					s++;
				*w++ = *s;
			}
			if (*s++ == '\0')
				return ("unterminated double quote");
		} else if (*s == '\\') {
			if (s[1] == '\0')
				return ("trailing backslash");
			*w++ = s[1];
			s += 2;
		} else
			*w++ = *s++;
	}
	*w = '\0';
	*sp = s;
	return (NULL);
}

/* The types whose field is a char *. */
static int
conf_is_string(enum conf_type type)
{
	return (type == CT_STR || type == CT_PATH || type == CT_LISTEN ||
	    type == CT_FORMAT || type == CT_COMMAND);
}

void
conf_free_opts(const struct conf_opt *o, void *base)
{
	for (; o->name != NULL; o++)
		if (conf_is_string(o->type))
			free(*(char **)(void *)((char *)base + o->off));
}

void
conf_fmt_time(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

static void
conf_fmt_size(uint64_t v, char *buf, size_t size)
{
	static const char	 suf[] = "gmk";
	uint64_t		 unit;
	int			 i;

	for (i = 0, unit = 1ULL << 30; i < 3; i++, unit >>= 10) {
		if (v != 0 && v % unit == 0) {
			snprintf(buf, size, "%llu%c",
			    (unsigned long long)(v / unit), suf[i]);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)v);
}

void
conf_dump_opts(const struct conf_opt *o, const void *base, FILE *fp)
{
	const char	*s;
	char		 buf[64];

	for (; o->name != NULL; o++) {
		if (o->setoff != CONF_NOSET &&
		    *(const int *)(const void *)((const char *)base +
		    o->setoff) == 0)
			s = "undefined";
		else if ((s = conf_format(o, (const char *)base + o->off,
		    buf, sizeof(buf))) == NULL)
			continue;
		fprintf(fp, "\t%s = %s\n", o->name, s);
	}
}

/* o's value at field as fpm.conf would write it (maybe in buf), or NULL. */
static const char *
conf_format(const struct conf_opt *o, const void *field, char *buf,
    size_t size)
{
	const char	*s;
	uint64_t	 u;

	switch (o->type) {
	case CT_STR:
	case CT_PATH:
	case CT_LISTEN:
	case CT_FORMAT:
	case CT_COMMAND:
		s = *(char *const *)field;
		return (s != NULL ? s : "undefined");
	case CT_INT:
		snprintf(buf, size, "%d", *(const int *)field);
		break;
	case CT_TIME:
		conf_fmt_time(*(const int64_t *)field, buf, size);
		break;
	case CT_SIZE:
		conf_fmt_size(*(const uint64_t *)field, buf, size);
		break;
	case CT_BOOL:
		return (*(const int *)field ? "yes" : "no");
	case CT_MODE:
		snprintf(buf, size, "%04o", *(const unsigned int *)field);
		break;
	case CT_RLIMIT:
		if ((u = *(const uint64_t *)field) == UINT64_MAX)
			return ("unlimited");
		snprintf(buf, size, "%llu", (unsigned long long)u);
		break;
	case CT_PM:
		return (conf_pm_name(*(const enum conf_pm *)field));
	case CT_LOGLEVEL:
		conf_level_word(*(const enum conf_log_level *)field, buf,
		    size);
		break;
	case CT_FACILITY:
		return (log_facility_name(*(const int *)field));
	case CT_EVENTS:
		return ("epoll");
	case CT_SETFIB:
	case CT_APPARMOR:
		return (NULL);
	}
	return (buf);
}

static int
conf_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
conf_equal_opts(const struct conf_opt *o, const void *a, const void *b,
    int flags)
{
	const char	*fa, *fb;

	for (; o->name != NULL; o++) {
		if (!(o->flags & flags))
			continue;
		fa = (const char *)a + o->off;
		fb = (const char *)b + o->off;
		if (o->setoff != CONF_NOSET &&
		    *(const int *)(const void *)((const char *)a + o->setoff) !=
		    *(const int *)(const void *)((const char *)b + o->setoff))
			return (0);
		switch (o->type) {
		case CT_STR:
		case CT_PATH:
			if (!conf_streq(*(char *const *)(const void *)fa,
			    *(char *const *)(const void *)fb))
				return (0);
			break;
		case CT_INT:
		case CT_BOOL:
			if (*(const int *)(const void *)fa !=
			    *(const int *)(const void *)fb)
				return (0);
			break;
		case CT_RLIMIT:
			if (*(const uint64_t *)(const void *)fa !=
			    *(const uint64_t *)(const void *)fb)
				return (0);
			break;
		default:
			break;
		}
	}
	return (1);
}
