/* SPDX-License-Identifier: ISC */
/*
 * The configuration parser: PHP-FPM's ini dialect, include globs, ${ENV} and
 * $pool expansion, the directive tables, validation, dump and comparison.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "libcommon/accesslog.h"
#include "libcommon/conf.h"
#include "libcommon/parse.h"
#include "libcommon/sock.h"

/*
 * Why not libinih: Debian's build caps lines at 200 bytes, treats indented
 * lines as continuations of the previous value (Python style; PHP has none),
 * keeps the quotes of "..." values, cuts "a;b" at the ';', has no section
 * callback (a re-opened empty pool is invisible) and no line numbers.  PHP's
 * scanner rules are few, so this file reads lines itself (getline(3): no
 * length limit) and implements them; see conf_value().
 */

#define CONF_MAXDEPTH	5	/* files open at once, the main one included */
#define CONF_NOSET	((size_t)-1)
#define CONF_TIME_MAX	((int64_t)100 * 365 * 86400 * 1000)	/* 100 years */

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

struct conf_opt {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	size_t		 setoff;	/* int flag set when given, or NOSET */
	long long	 min;
	long long	 max;
	int		 flags;
};

struct conf_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

struct conf_parser {
	struct conf	*conf;
	ssize_t		 cur;		/* pool index, -1 in [global] */
	const char	*file;		/* NULL before the main file opens */
	int		 line;
	int		 depth;
	char		*err;
	size_t		 errsize;
};

struct conf_name {
	const char	*name;
	int		 value;
};

static int	conf_glob_errno;	/* glob(3)'s errfunc has no context */

static int	conf_err(struct conf_parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conf_verrat(struct conf_parser *, const char *, int,
		    const char *, va_list) __attribute__((format(printf, 4, 0)));
static int	conf_errat(struct conf_parser *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	conf_errdir(struct conf_parser *, const struct conf_pool *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	conf_oom(struct conf_parser *);
static int	conf_warn(struct conf_parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conf_buf_add(struct conf_buf *, const char *, size_t);
static void	conf_buf_addc(struct conf_buf *, char);
static char	*conf_buf_done(struct conf_buf *, size_t);
static int	conf_expand(struct conf_parser *, const char **,
		    struct conf_buf *);
static char	*conf_value(struct conf_parser *, const char *);
static char	*conf_value_raw(struct conf_parser *, const char *);
static int	conf_whole_quoted(const char *);
static char	*conf_subst_pool(struct conf_parser *, char *);
static int	conf_parse_file(struct conf_parser *, const char *);
static int	conf_parse_line(struct conf_parser *, char *);
static int	conf_section(struct conf_parser *, char *);
static int	conf_entry(struct conf_parser *, const char *, const char *,
		    const char *);
static int	conf_array(struct conf_parser *, const char *, const char *,
		    const char *);
static int	conf_include(struct conf_parser *, const char *);
static int	conf_glob_error(const char *, int);
static int	conf_set(struct conf_parser *, const struct conf_opt *, void *,
		    const char *);
static int	conf_bad(struct conf_parser *, const struct conf_opt *,
		    const char *, const char *);
static int	conf_range(struct conf_parser *, const struct conf_opt *,
		    const char *, const char *);
static int	conf_bool(const char *, int *);
static int	conf_split(const char *, char ***, const char **);
static int	conf_split_ws(const char *, char ***);
static const struct conf_opt *conf_opt_find(const struct conf_opt *,
		    const char *);
static int	conf_name_lookup(const struct conf_name *, const char *, int *);
static const char *conf_name_of(const struct conf_name *, int);
static int	conf_pool_init(struct conf_pool *, const char *, const char *,
		    int);
static void	conf_pool_free(struct conf_pool *);
static void	conf_strv_free(char **);
static int	conf_strv_push(char ***, size_t *, const char *);
static int	conf_resolve(char **, const char *);
static int	conf_finish(struct conf_parser *);
static int	conf_finish_pool(struct conf_parser *, struct conf_pool *);
static int	conf_check_uri(struct conf_parser *, struct conf_pool *,
		    const char *, const char *, const char *, const char *);
static int	conf_is_unix(const char *);
static int	conf_check_clients(struct conf_parser *, struct conf_pool *);
static void	conf_dump_opts(const struct conf_opt *, const void *, FILE *);
static void	conf_fmt_time(int64_t, char *, size_t);
static void	conf_fmt_size(uint64_t, char *, size_t);
static int	conf_streq(const char *, const char *);
static int	conf_strv_eq(char *const *, char *const *);
static const char *conf_php_name(enum conf_php_kind);

#define G(f)	offsetof(struct conf_global, f)
#define P(f)	offsetof(struct conf_pool, f)

static const struct conf_opt conf_global_opts[] = {
	{ "pid", CT_PATH, G(pid), CONF_NOSET, 0, 0, 0 },
	{ "error_log", CT_STR, G(error_log), CONF_NOSET, 0, 0, 0 },
	{ "syslog.ident", CT_STR, G(syslog_ident), CONF_NOSET, 0, 0, 0 },
	{ "syslog.facility", CT_FACILITY, G(syslog_facility), CONF_NOSET,
	    0, 0, 0 },
	{ "log_buffering", CT_BOOL, G(log_buffering), CONF_NOSET, 0, 0, 0 },
	{ "log_level", CT_LOGLEVEL, G(log_level), CONF_NOSET, 0, 0, 0 },
	{ "log_limit", CT_INT, G(log_limit), CONF_NOSET, 512, INT_MAX, 0 },
	{ "emergency_restart_threshold", CT_INT,
	    G(emergency_restart_threshold), CONF_NOSET, 0, INT_MAX, 0 },
	{ "emergency_restart_interval", CT_TIME,
	    G(emergency_restart_interval_ms), CONF_NOSET, 0, 0, 0 },
	{ "process_control_timeout", CT_TIME,
	    G(process_control_timeout_ms), CONF_NOSET, 0, 0, 0 },
	{ "process.max", CT_INT, G(process_max), CONF_NOSET, 0, INT_MAX, 0 },
	{ "process.priority", CT_INT, G(priority), G(priority_set),
	    -19, 20, 0 },
	{ "daemonize", CT_BOOL, G(daemonize), CONF_NOSET, 0, 0, 0 },
	{ "rlimit_files", CT_RLIMIT, G(rlimit_files), G(rlimit_files_set),
	    0, 0, 0 },
	{ "rlimit_core", CT_RLIMIT, G(rlimit_core), G(rlimit_core_set),
	    0, 0, 0 },
	{ "events.mechanism", CT_EVENTS, 0, CONF_NOSET, 0, 0, 0 },
	{ "systemd_interval", CT_TIME, G(systemd_interval_ms), CONF_NOSET,
	    0, 0, 0 },
	{ "control", CT_PATH, G(control), CONF_NOSET, 0, 0, 0 },
	{ "control.owner", CT_STR, G(control_owner), CONF_NOSET, 0, 0, 0 },
	{ "control.group", CT_STR, G(control_group), CONF_NOSET, 0, 0, 0 },
	{ "control.mode", CT_MODE, G(control_mode), CONF_NOSET, 0, 0, 0 },
	{ "runtime_dir", CT_PATH, G(runtime_dir), CONF_NOSET, 0, 0, 0 },
	{ NULL, CT_STR, 0, 0, 0, 0, 0 }
};

static const struct conf_opt conf_pool_opts[] = {
	{ "prefix", CT_STR, P(prefix), CONF_NOSET, 0, 0, 0 },
	{ "user", CT_STR, P(user), CONF_NOSET, 0, 0, CF_WORKER },
	{ "group", CT_STR, P(group), CONF_NOSET, 0, 0, CF_WORKER },
	{ "listen", CT_LISTEN, P(listen), CONF_NOSET, 0, 0, 0 },
	{ "listen.backlog", CT_INT, P(listen_backlog), CONF_NOSET,
	    -1, INT_MAX, 0 },
	{ "listen.owner", CT_STR, P(listen_owner), CONF_NOSET, 0, 0, 0 },
	{ "listen.group", CT_STR, P(listen_group), CONF_NOSET, 0, 0, 0 },
	{ "listen.mode", CT_MODE, P(listen_mode), CONF_NOSET, 0, 0, 0 },
	{ "listen.acl_users", CT_STR, P(listen_acl_users), CONF_NOSET,
	    0, 0, 0 },
	{ "listen.acl_groups", CT_STR, P(listen_acl_groups), CONF_NOSET,
	    0, 0, 0 },
	{ "listen.allowed_clients", CT_STR, P(listen_allowed_clients),
	    CONF_NOSET, 0, 0, 0 },
	{ "listen.setfib", CT_SETFIB, 0, CONF_NOSET, 0, 0, 0 },
	{ "listen.keepalive_timeout", CT_TIME,
	    P(listen_keepalive_timeout_ms), CONF_NOSET, 0, 0, 0 },
	{ "process.priority", CT_INT, P(priority), P(priority_set),
	    -19, 20, CF_WORKER },
	{ "process.dumpable", CT_BOOL, P(dumpable), CONF_NOSET, 0, 0,
	    CF_WORKER },
	{ "pm", CT_PM, P(pm), CONF_NOSET, 0, 0, 0 },
	{ "pm.max_children", CT_INT, P(max_children), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.start_servers", CT_INT, P(start_servers), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.min_spare_servers", CT_INT, P(min_spare_servers), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.max_spare_servers", CT_INT, P(max_spare_servers), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.max_spawn_rate", CT_INT, P(max_spawn_rate), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.process_idle_timeout", CT_TIME, P(process_idle_timeout_ms),
	    CONF_NOSET, 0, 0, 0 },
	{ "pm.max_requests", CT_INT, P(max_requests), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "pm.max_memory", CT_SIZE, P(max_memory), CONF_NOSET, 0, 0, 0 },
	{ "pm.status_path", CT_STR, P(status_path), CONF_NOSET, 0, 0, 0 },
	{ "pm.status_listen", CT_LISTEN, P(status_listen), CONF_NOSET,
	    0, 0, 0 },
	{ "ping.path", CT_STR, P(ping_path), CONF_NOSET, 0, 0, 0 },
	{ "ping.response", CT_STR, P(ping_response), CONF_NOSET, 0, 0, 0 },
	{ "access.log", CT_PATH, P(access_log), CONF_NOSET, 0, 0, 0 },
	{ "access.format", CT_FORMAT, P(access_format), CONF_NOSET,
	    0, 0, 0 },
	{ "slowlog", CT_PATH, P(slowlog), CONF_NOSET, 0, 0, 0 },
	{ "request_slowlog_timeout", CT_TIME, P(request_slowlog_timeout_ms),
	    CONF_NOSET, 0, 0, 0 },
	{ "request_slowlog_trace_depth", CT_INT,
	    P(request_slowlog_trace_depth), CONF_NOSET, 1, INT_MAX, 0 },
	{ "request_terminate_timeout", CT_TIME,
	    P(request_terminate_timeout_ms), CONF_NOSET, 0, 0, 0 },
	{ "request_terminate_timeout_track_finished", CT_BOOL,
	    P(request_terminate_timeout_track_finished), CONF_NOSET,
	    0, 0, 0 },
	{ "rlimit_files", CT_RLIMIT, P(rlimit_files), P(rlimit_files_set),
	    0, 0, CF_WORKER },
	{ "rlimit_core", CT_RLIMIT, P(rlimit_core), P(rlimit_core_set),
	    0, 0, CF_WORKER },
	{ "chroot", CT_STR, P(chroot), CONF_NOSET, 0, 0, CF_WORKER },
	{ "chdir", CT_PATH, P(chdir), CONF_NOSET, 0, 0, CF_WORKER },
	{ "catch_workers_output", CT_BOOL, P(catch_workers_output),
	    CONF_NOSET, 0, 0, CF_WORKER },
	{ "decorate_workers_output", CT_BOOL, P(decorate_workers_output),
	    CONF_NOSET, 0, 0, 0 },
	{ "workers_output_rate_limit", CT_INT, P(workers_output_rate_limit),
	    CONF_NOSET, 0, INT_MAX, 0 },
	{ "clear_env", CT_BOOL, P(clear_env), CONF_NOSET, 0, 0, CF_WORKER },
	{ "security.limit_extensions", CT_STR, P(security_limit_extensions),
	    CONF_NOSET, 0, 0, 0 },
	{ "apparmor_hat", CT_APPARMOR, 0, CONF_NOSET, 0, 0, 0 },
	{ "command", CT_COMMAND, P(command), CONF_NOSET, 0, 0, 0 },
	{ "queue.max_length", CT_INT, P(queue_max_length), CONF_NOSET,
	    0, INT_MAX, 0 },
	{ "queue.timeout", CT_TIME, P(queue_timeout_ms), CONF_NOSET,
	    0, 0, 0 },
	{ "request.client_timeout", CT_TIME, P(request_client_timeout_ms),
	    CONF_NOSET, 0, 0, 0 },
	{ "request.buffer_size", CT_SIZE, P(request_buffer_size),
	    CONF_NOSET, 0, 0, 0 },
	{ "request.spool_dir", CT_PATH, P(request_spool_dir), CONF_NOSET,
	    0, 0, 0 },
	{ "request.buffering", CT_BOOL, P(request_buffering), CONF_NOSET,
	    0, 0, 0 },
	{ "request.terminate_on_abort", CT_BOOL, P(request_terminate_on_abort),
	    CONF_NOSET, 0, 0, 0 },
	{ "request.finish_probe", CT_BOOL, P(request_finish_probe),
	    CONF_NOSET, 0, 0, 0 },
	{ "request.max_params_size", CT_SIZE, P(request_max_params_size),
	    CONF_NOSET, 0, 0, 0 },
	{ "php.extension", CT_STR, P(php_extension), CONF_NOSET, 0, 0,
	    CF_WORKER },
	{ NULL, CT_STR, 0, 0, 0, 0, 0 }
};

#undef G
#undef P

static const struct conf_name conf_pm_names[] = {
	{ "static", CONF_PM_STATIC },
	{ "dynamic", CONF_PM_DYNAMIC },
	{ "ondemand", CONF_PM_ONDEMAND },
	{ NULL, 0 }
};

static const struct conf_name conf_level_names[] = {
	{ "debug", CONF_LOG_DEBUG },
	{ "notice", CONF_LOG_NOTICE },
	{ "warning", CONF_LOG_WARNING },
	{ "warn", CONF_LOG_WARNING },
	{ "error", CONF_LOG_ERROR },
	{ "alert", CONF_LOG_ALERT },
	{ NULL, 0 }
};

static const struct conf_name conf_facility_names[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP },
	{ "kern", LOG_KERN }, { "lpr", LOG_LPR }, { "mail", LOG_MAIL },
	{ "news", LOG_NEWS }, { "syslog", LOG_SYSLOG }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

static int
conf_err(struct conf_parser *p, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verrat(p, p->file != NULL ? p->file : "?", p->line, fmt, ap);
	va_end(ap);
	return (-1);
}

static int
conf_errat(struct conf_parser *p, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verrat(p, file, line, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * An error about directive name of pool pl, found after parsing: it names
 * the line that set the directive, or the section when none did.
 */
static int
conf_errdir(struct conf_parser *p, const struct conf_pool *pl,
    const char *name, const char *fmt, ...)
{
	va_list		 ap;
	const char	*file;
	int		 line;

	conf_pool_where(pl, name, &file, &line);
	va_start(ap, fmt);
	conf_verrat(p, file, line, fmt, ap);
	va_end(ap);
	return (-1);
}

/* "FILE:LINE: message" into p->err; errno EINVAL (a config error). */
static void
conf_verrat(struct conf_parser *p, const char *file, int line,
    const char *fmt, va_list ap)
{
	int	n;

	n = snprintf(p->err, p->errsize, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= p->errsize)
		n = 0;
	vsnprintf(p->err + n, p->errsize - n, fmt, ap);
	errno = EINVAL;
}

static int
conf_oom(struct conf_parser *p)
{
	snprintf(p->err, p->errsize, "out of memory");
	errno = ENOMEM;
	return (-1);
}

static int
conf_warn(struct conf_parser *p, const char *fmt, ...)
{
	struct conf	*c = p->conf;
	va_list		 ap;
	char		**w, *s;
	int		 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		return (conf_oom(p));
	if ((w = reallocarray(c->warnings, c->nwarnings + 2,
	    sizeof(*w))) == NULL) {
		free(s);
		return (conf_oom(p));
	}
	c->warnings = w;
	w[c->nwarnings++] = s;
	w[c->nwarnings] = NULL;
	return (0);
}

static void
conf_buf_add(struct conf_buf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap == 0 ? 64 : b->cap;
		while (b->len + n + 1 > ncap)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
conf_buf_addc(struct conf_buf *b, char c)
{
	conf_buf_add(b, &c, 1);
}

/* Cut at keep and hand the string over; NULL (errno ENOMEM) after a failure. */
static char *
conf_buf_done(struct conf_buf *b, size_t keep)
{
	if (b->oom) {
		free(b->p);
		errno = ENOMEM;
		return (NULL);
	}
	if (b->p == NULL)
		return (strdup(""));
	b->p[keep] = '\0';
	return (b->p);
}

/*
 * At "${": append the environment variable (empty when unset); PHP 8.3's
 * "${VAR:-default}" gives default when VAR is unset or empty.
 */
static int
conf_expand(struct conf_parser *p, const char **sp, struct conf_buf *b)
{
	const char	*s = *sp + 2, *e, *dflt;
	char		*name, *colon;
	const char	*v;

	if ((e = strchr(s, '}')) == NULL)
		return (conf_err(p, "unterminated '${' in value"));
	if ((name = strndup(s, e - s)) == NULL)
		return (conf_oom(p));
	dflt = NULL;
	if ((colon = strstr(name, ":-")) != NULL) {
		*colon = '\0';
		dflt = colon + 2;
	}
	v = getenv(name);
	if (dflt != NULL && (v == NULL || *v == '\0'))
		v = dflt;
	if (v != NULL)
		conf_buf_add(b, v, strlen(v));
	free(name);
	*sp = e + 1;
	return (0);
}

/*
 * The value after '=', by the Zend ini scanner's rules as far as fpm.conf
 * needs them: "..." with \" \\ \$ escapes and ${VAR} expanded; '...' taken
 * as is; ${VAR} expanded outside quotes; ';' outside quotes starts a
 * comment; blanks around the value dropped.  Quotes may appear anywhere in
 * the value and are removed (PHP concatenates the pieces).  Returns a new
 * string, or NULL with the error set.
 */
static char *
conf_value(struct conf_parser *p, const char *s)
{
	struct conf_buf	 b = { NULL, 0, 0, 0 };
	size_t		 keep = 0;
	char		*v;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != ';') {
		if (*s == '"') {
			for (s++; *s != '"'; ) {
				if (*s == '\0') {
					conf_err(p, "unterminated quoted "
					    "string");
					goto fail;
				}
				if (*s == '\\' && s[1] != '\0' &&
				    strchr("\"\\$", s[1]) != NULL) {
					conf_buf_addc(&b, s[1]);
					s += 2;
				} else if (*s == '$' && s[1] == '{') {
					if (conf_expand(p, &s, &b) == -1)
						goto fail;
				} else
					conf_buf_addc(&b, *s++);
			}
			s++;
			keep = b.len;
		} else if (*s == '\'') {
			for (s++; *s != '\''; s++) {
				if (*s == '\0') {
					conf_err(p, "unterminated quoted "
					    "string");
					goto fail;
				}
				conf_buf_addc(&b, *s);
			}
			s++;
			keep = b.len;
		} else if (*s == '$' && s[1] == '{') {
			if (conf_expand(p, &s, &b) == -1)
				goto fail;
			keep = b.len;
		} else {
			conf_buf_addc(&b, *s);
			if (*s != ' ' && *s != '\t')
				keep = b.len;
			s++;
		}
	}
	if ((v = conf_buf_done(&b, keep)) == NULL)
		conf_oom(p);
	return (v);
fail:
	free(b.p);
	return (NULL);
}

/* Non-zero when s is one "..." string, then maybe blanks or a comment. */
static int
conf_whole_quoted(const char *s)
{
	if (*s++ != '"')
		return (0);
	for (; *s != '"'; s++) {
		if (*s == '\0')
			return (0);
		if (*s == '\\' && s[1] != '\0')
			s++;
	}
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	return (*s == '\0' || *s == ';');
}

/*
 * The value of "command": its quotes belong to the word splitting done in
 * conf_split(), so they are kept here; only ${VAR} is expanded (outside
 * single quotes) and a comment cut.  A value that is one "..." string, as
 * PHP users write strings, is unquoted first.
 */
static char *
conf_value_raw(struct conf_parser *p, const char *s)
{
	struct conf_buf	 b = { NULL, 0, 0, 0 };
	size_t		 keep = 0;
	char		 q = '\0', *v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (conf_whole_quoted(s))
		return (conf_value(p, s));
	while (*s != '\0' && (q != '\0' || *s != ';')) {
		if (q != '\'' && *s == '\\' && s[1] != '\0') {
			conf_buf_add(&b, s, 2);
			s += 2;
			keep = b.len;
			continue;
		}
		if (q != '\'' && *s == '$' && s[1] == '{') {
			if (conf_expand(p, &s, &b) == -1) {
				free(b.p);
				return (NULL);
			}
			keep = b.len;
			continue;
		}
		if (*s == '\'' || *s == '"') {
			if (q == '\0')
				q = *s;
			else if (q == *s)
				q = '\0';
		}
		conf_buf_addc(&b, *s);
		if (*s != ' ' && *s != '\t')
			keep = b.len;
		s++;
	}
	if ((v = conf_buf_done(&b, keep)) == NULL)
		conf_oom(p);
	return (v);
}

/* Replace each "$pool" in v (consumed) by the pool's name; NULL on error. */
static char *
conf_subst_pool(struct conf_parser *p, char *v)
{
	struct conf_buf	 b = { NULL, 0, 0, 0 };
	const char	*s, *name;
	char		*hit, *r;

	if (strstr(v, "$pool") == NULL)
		return (v);
	if (p->cur < 0) {
		free(v);
		conf_err(p, "Can't use '$pool' when the pool is not defined");
		return (NULL);
	}
	name = p->conf->pools[p->cur].name;
	for (s = v; (hit = strstr(s, "$pool")) != NULL; s = hit + 5) {
		conf_buf_add(&b, s, hit - s);
		conf_buf_add(&b, name, strlen(name));
	}
	conf_buf_add(&b, s, strlen(s));
	free(v);
	if ((r = conf_buf_done(&b, b.len)) == NULL)
		conf_oom(p);
	return (r);
}

static int
conf_parse_file(struct conf_parser *p, const char *path)
{
	FILE		*fp;
	const char	*ofile = p->file;
	char		*line = NULL, *s;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 oline = p->line, r = 0, saved;

	if (p->depth >= CONF_MAXDEPTH)
		return (conf_err(p, "failed to include more than %d files "
		    "recursively", CONF_MAXDEPTH));
	if ((fp = fopen(path, "re")) == NULL) {
		saved = errno;
		if (ofile == NULL)
			snprintf(p->err, p->errsize, "cannot open %s: %s",
			    path, strerror(saved));
		else
			snprintf(p->err, p->errsize,
			    "%s:%d: cannot open %s: %s", ofile, oline, path,
			    strerror(saved));
		errno = saved;
		return (-1);
	}
	/* error messages and pools' where[] outlive the include's glob */
	if (conf_strv_push(&p->conf->files, &p->conf->nfiles, path) == -1) {
		fclose(fp);
		return (conf_oom(p));
	}
	p->depth++;
	p->file = p->conf->files[p->conf->nfiles - 1];
	p->line = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		p->line++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		s = line;
		if (p->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;			/* a UTF-8 BOM */
		if ((r = conf_parse_line(p, s)) == -1)
			break;
	}
	if (r == 0 && ferror(fp)) {
		saved = errno;
		snprintf(p->err, p->errsize, "cannot read %s: %s", path,
		    strerror(saved));
		errno = saved;
		r = -1;
	}
	saved = errno;
	free(line);
	fclose(fp);
	p->depth--;
	p->file = ofile;
	p->line = oline;
	errno = saved;
	return (r);
}

static int
conf_parse_line(struct conf_parser *p, char *s)
{
	char	*e, *key, *name, *akey = NULL, *rest, *v;
	int	 r;

	while (isspace((unsigned char)*s))
		s++;
	/* PHP dropped '#' comments in 7.0; we keep them at line start. */
	if (*s == '\0' || *s == ';' || *s == '#')
		return (0);
	if (*s == '[')
		return (conf_section(p, s + 1));
	for (e = s; *e != '\0' && *e != '=' && *e != ';'; e++)
		;
	if (*e != '=')
		return (conf_err(p, "syntax error: expected 'name = value'"));
	*e = '\0';
	rest = e + 1;
	key = s;
	for (s = e; s > key && isspace((unsigned char)s[-1]); s--)
		s[-1] = '\0';
	if (*key == '\0')
		return (conf_err(p, "syntax error: no name before '='"));
	name = key;
	if ((s = strchr(key, '[')) != NULL) {
		*s++ = '\0';
		if ((e = strchr(s, ']')) == NULL || e[1] != '\0')
			return (conf_err(p, "syntax error: malformed array "
			    "entry '%s['", name));
		*e = '\0';
		while (isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		akey = s;
		for (e = name + strlen(name); e > name &&
		    isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
	}
	if (akey == NULL && strcasecmp(name, "command") == 0)
		v = conf_value_raw(p, rest);
	else
		v = conf_value(p, rest);
	if (v == NULL)
		return (-1);
	if ((v = conf_subst_pool(p, v)) == NULL)
		return (-1);
	r = conf_entry(p, name, akey, v);
	free(v);
	return (r);
}

static int
conf_section(struct conf_parser *p, char *s)
{
	struct conf	*c = p->conf;
	struct conf_pool *np;
	char		*e, *t;
	size_t		 i;

	if ((e = strchr(s, ']')) == NULL)
		return (conf_err(p, "syntax error: missing ']'"));
	for (t = e + 1; isspace((unsigned char)*t); t++)
		;
	if (*t != '\0' && *t != ';' && *t != '#')
		return (conf_err(p, "syntax error: unexpected text after ']'"));
	*e = '\0';
	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (*s == '\0')
		return (conf_err(p, "empty section name"));
	if (strcasecmp(s, "global") == 0) {
		p->cur = -1;
		return (0);
	}
	for (i = 0; i < c->npools; i++) {
		if (strcasecmp(c->pools[i].name, s) == 0) {
			p->cur = i;
			return (0);
		}
	}
	/* Pool names end up in paths (runtime_dir/name) and status output. */
	if (strchr(s, '/') != NULL || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return (conf_err(p, "invalid pool name '%s'", s));
	for (t = s; *t != '\0'; t++)
		if (iscntrl((unsigned char)*t))
			return (conf_err(p, "invalid pool name '%s'", s));
	if ((np = reallocarray(c->pools, c->npools + 1, sizeof(*np))) == NULL)
		return (conf_oom(p));
	c->pools = np;
	if (conf_pool_init(&np[c->npools], s, p->file, p->line) == -1)
		return (conf_oom(p));
	p->cur = c->npools++;
	return (0);
}

static int
conf_entry(struct conf_parser *p, const char *name, const char *akey,
    const char *v)
{
	const struct conf_opt	*o, *other;
	struct conf_where	*where;
	void			*base;

	if (akey == NULL && strcasecmp(name, "include") == 0)
		return (conf_include(p, v));
	if (akey != NULL) {
		if (p->cur < 0)
			return (conf_err(p,
			    "Array are not allowed in the global section"));
		return (conf_array(p, name, akey, v));
	}
	if (p->cur < 0) {
		o = conf_opt_find(conf_global_opts, name);
		other = conf_opt_find(conf_pool_opts, name);
		base = &p->conf->global;
	} else {
		o = conf_opt_find(conf_pool_opts, name);
		other = conf_opt_find(conf_global_opts, name);
		base = &p->conf->pools[p->cur];
	}
	if (o == NULL) {
		if (other != NULL)
			return (conf_err(p, "unknown entry '%s' (a %s "
			    "directive, not allowed in %s)", name,
			    p->cur < 0 ? "pool" : "[global]",
			    p->cur < 0 ? "[global]" : "a pool"));
		return (conf_err(p, "unknown entry '%s'", name));
	}
	if (conf_set(p, o, base, v) == -1)
		return (-1);
	if (p->cur >= 0) {
		where = &p->conf->pools[p->cur].where[o - conf_pool_opts];
		where->file = p->file;
		where->line = p->line;
	}
	return (0);
}

static int
conf_array(struct conf_parser *p, const char *name, const char *akey,
    const char *v)
{
	struct conf_pool	*pool = &p->conf->pools[p->cur];
	struct conf_kv		*kv;
	struct conf_php		*ph;
	enum conf_php_kind	 kind;
	const char		*val;
	size_t			 i;
	int			 b, admin;

	if (strcasecmp(name, "access.suppress_path") == 0) {
		if (*akey != '\0')
			return (conf_err(p, "keys are not allowed in "
			    "access.suppress_path[] ('%s')", akey));
		if (*v != '/')
			return (conf_err(p, "access.suppress_path[] values "
			    "must start with '/' ('%s')", v));
		if (conf_strv_push(&pool->access_suppress_path,
		    &pool->naccess_suppress_path, v) == -1)
			return (conf_oom(p));
		return (0);
	}
	if (strcasecmp(name, "env") == 0) {
		if (*akey == '\0' || strchr(akey, '=') != NULL)
			return (conf_err(p, "invalid name in env[%s]", akey));
		if (*v == '\0')
			return (conf_err(p, "empty value"));
		/* A whole value "$VAR" is the supervisor's VAR (PHP-FPM). */
		val = v;
		if (*v == '$' && (val = getenv(v + 1)) == NULL)
			val = "";
		for (i = 0; i < pool->nenv; i++)
			if (strcmp(pool->env[i].key, akey) == 0)
				break;
		if (i == pool->nenv) {
			kv = reallocarray(pool->env, pool->nenv + 1,
			    sizeof(*kv));
			if (kv == NULL)
				return (conf_oom(p));
			pool->env = kv;
			if ((kv[i].key = strdup(akey)) == NULL)
				return (conf_oom(p));
			kv[i].value = NULL;
			pool->nenv++;
		}
		free(pool->env[i].value);
		if ((pool->env[i].value = strdup(val)) == NULL)
			return (conf_oom(p));
		return (0);
	}
	if (strcasecmp(name, "php_value") == 0)
		kind = CONF_PHP_VALUE;
	else if (strcasecmp(name, "php_flag") == 0)
		kind = CONF_PHP_FLAG;
	else if (strcasecmp(name, "php_admin_value") == 0)
		kind = CONF_PHP_ADMIN_VALUE;
	else if (strcasecmp(name, "php_admin_flag") == 0)
		kind = CONF_PHP_ADMIN_FLAG;
	else
		return (conf_err(p, "unknown entry '%s[%s]'", name, akey));
	if (*akey == '\0')
		return (conf_err(p, "missing key in %s[]",
		    conf_php_name(kind)));
	val = v;
	if (kind == CONF_PHP_FLAG || kind == CONF_PHP_ADMIN_FLAG) {
		if (conf_bool(v, &b) == -1)
			return (conf_err(p, "invalid value '%s' for %s[%s]: "
			    "invalid boolean value", v, conf_php_name(kind),
			    akey));
		val = b ? "1" : "0";
	} else if (*v == '\0')
		return (conf_err(p, "empty value"));
	/* Last wins among the admin ones and among the others, as in PHP. */
	admin = kind == CONF_PHP_ADMIN_VALUE || kind == CONF_PHP_ADMIN_FLAG;
	for (i = 0; i < pool->nphp; i++) {
		ph = &pool->php[i];
		if (strcmp(ph->key, akey) == 0 && admin ==
		    (ph->kind == CONF_PHP_ADMIN_VALUE ||
		    ph->kind == CONF_PHP_ADMIN_FLAG))
			break;
	}
	if (i == pool->nphp) {
		ph = reallocarray(pool->php, pool->nphp + 1, sizeof(*ph));
		if (ph == NULL)
			return (conf_oom(p));
		pool->php = ph;
		if ((ph[i].key = strdup(akey)) == NULL)
			return (conf_oom(p));
		ph[i].value = NULL;
		pool->nphp++;
	}
	ph = &pool->php[i];
	ph->kind = kind;
	ph->file = p->file;
	ph->line = p->line;
	free(ph->value);
	if ((ph->value = strdup(val)) == NULL)
		return (conf_oom(p));
	return (0);
}

static int
conf_include(struct conf_parser *p, const char *pattern)
{
	glob_t	 g;
	char	*pat;
	size_t	 i, len;
	int	 r, saved;

	if (*pattern == '\0')
		return (conf_err(p, "empty include pattern"));
	if (*pattern == '/')
		pat = strdup(pattern);
	else if (asprintf(&pat, "%s/%s", p->conf->global.prefix,
	    pattern) == -1)
		pat = NULL;
	if (pat == NULL)
		return (conf_oom(p));
	memset(&g, 0, sizeof(g));
	conf_glob_errno = 0;
	r = glob(pat, GLOB_MARK, conf_glob_error, &g);
	if (r == GLOB_NOMATCH) {
		r = conf_warn(p, "Nothing matches the include pattern '%s' "
		    "from %s at line %d.", pat, p->file, p->line);
		globfree(&g);
		free(pat);
		return (r);
	}
	if (r != 0) {
		if (r == GLOB_NOSPACE)
			conf_oom(p);
		else {
			r = conf_glob_errno != 0 ? conf_glob_errno : EIO;
			conf_err(p, "cannot expand include pattern '%s': %s",
			    pat, strerror(r));
			errno = r;
		}
		globfree(&g);
		free(pat);
		return (-1);
	}
	r = 0;
	for (i = 0; i < g.gl_pathc && r == 0; i++) {
		len = strlen(g.gl_pathv[i]);
		if (len == 0 || g.gl_pathv[i][len - 1] == '/')
			continue;		/* a directory (GLOB_MARK) */
		r = conf_parse_file(p, g.gl_pathv[i]);
	}
	saved = errno;
	globfree(&g);
	free(pat);
	errno = saved;
	return (r);
}

/*
 * GLOB_ERR's behaviour (stop on an unreadable directory) except that a
 * directory that does not exist is just "nothing matches", as for a shell.
 */
static int
conf_glob_error(const char *path, int eerrno)
{
	(void)path;
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return (0);
	conf_glob_errno = eerrno;
	return (1);
}

static int
conf_set(struct conf_parser *p, const struct conf_opt *o, void *base,
    const char *v)
{
	char		*field = (char *)base + o->off, **sp, *dup, why[256];
	char		**argv;
	const char	*reason;
	long long	 ll;
	int64_t		 ms;
	uint64_t	 u;
	unsigned int	 mode;
	int		 b, n;

	switch (o->type) {
	case CT_STR:
	case CT_PATH:
	case CT_LISTEN:
	case CT_FORMAT:
		if (o->type == CT_FORMAT && *v != '\0' &&
		    accesslog_check(v, why, sizeof(why)) == -1)
			return (conf_err(p, "wrong format for access.format "
			    "'%s': %s", v, why));
		dup = NULL;
		if (*v != '\0' && (dup = strdup(v)) == NULL)
			return (conf_oom(p));
		sp = (char **)(void *)field;
		free(*sp);
		*sp = dup;
		break;
	case CT_COMMAND:
		if (conf_split(v, &argv, &reason) == -1) {
			if (errno == ENOMEM)
				return (conf_oom(p));
			return (conf_err(p, "invalid command '%s': %s", v,
			    reason));
		}
		if ((dup = strdup(v)) == NULL) {
			conf_strv_free(argv);
			return (conf_oom(p));
		}
		free(((struct conf_pool *)base)->command);
		conf_strv_free(((struct conf_pool *)base)->argv);
		((struct conf_pool *)base)->command = dup;
		((struct conf_pool *)base)->argv = argv;
		break;
	case CT_INT:
		if (parse_int(v, o->min, o->max, &ll) == -1) {
			if (errno == EINVAL)
				return (conf_bad(p, o, v, "not a number"));
			if (o->max != INT_MAX) {
				snprintf(why, sizeof(why), "must be between "
				    "%lld and %lld", o->min, o->max);
				return (conf_bad(p, o, v, why));
			}
			snprintf(why, sizeof(why), "%d", INT_MAX);
			return (conf_range(p, o, v, why));
		}
		*(int *)(void *)field = (int)ll;
		break;
	case CT_TIME:
		if (parse_duration_ms(v, 0, CONF_TIME_MAX, &ms) == -1) {
			if (errno == ERANGE)
				return (conf_range(p, o, v, "36500d"));
			return (conf_bad(p, o, v, "not a time value (a number "
			    "with an optional ms, s, m, h or d suffix)"));
		}
		*(int64_t *)(void *)field = ms;
		break;
	case CT_SIZE:
		if (parse_size(v, UINT64_MAX, &u) == -1) {
			if (errno == ERANGE)
				return (conf_range(p, o, v, NULL));
			return (conf_bad(p, o, v, "not a size (a number with "
			    "an optional k, m or g suffix)"));
		}
		*(uint64_t *)(void *)field = u;
		break;
	case CT_BOOL:
		if (conf_bool(v, &b) == -1)
			return (conf_bad(p, o, v, "invalid boolean value "
			    "(yes/no, on/off, true/false, 1/0)"));
		*(int *)(void *)field = b;
		break;
	case CT_MODE:
		if (parse_mode(v, &mode) == -1) {
			if (errno == ERANGE)
				return (conf_range(p, o, v, "07777"));
			return (conf_bad(p, o, v, "not an octal mode"));
		}
		*(unsigned int *)(void *)field = mode;
		break;
	case CT_RLIMIT:
		if (parse_rlimit(v, &u) == -1) {
			if (errno == ERANGE)
				return (conf_range(p, o, v, NULL));
			return (conf_bad(p, o, v,
			    "must be a number or 'unlimited'"));
		}
		*(uint64_t *)(void *)field = u;
		break;
	case CT_PM:
		if (conf_name_lookup(conf_pm_names, v, &n) == -1)
			return (conf_err(p, "invalid process manager '%s' "
			    "(static, dynamic or ondemand)", v));
		*(enum conf_pm *)(void *)field = (enum conf_pm)n;
		break;
	case CT_LOGLEVEL:
		if (conf_name_lookup(conf_level_names, v, &n) == -1)
			return (conf_bad(p, o, v, "not one of debug, notice, "
			    "warning, error, alert"));
		*(enum conf_log_level *)(void *)field = (enum conf_log_level)n;
		break;
	case CT_FACILITY:
		if (conf_name_lookup(conf_facility_names, v, &n) == -1)
			return (conf_bad(p, o, v, "not a syslog facility"));
		*(int *)(void *)field = n;
		break;
	case CT_EVENTS:
		if (*v != '\0' && strcasecmp(v, "epoll") != 0)
			return (conf_err(p, "events.mechanism '%s' is not "
			    "available: fpm uses epoll", v));
		break;
	case CT_SETFIB:
		if (strcmp(v, "-1") != 0)
			return (conf_err(p, "'listen.setfib' is FreeBSD-only "
			    "and not supported"));
		break;
	case CT_APPARMOR:
		if (*v != '\0')
			return (conf_err(p, "'apparmor_hat' is not supported"));
		break;
	}
	if (o->setoff != CONF_NOSET)
		*(int *)(void *)((char *)base + o->setoff) = 1;
	return (0);
}

static int
conf_bad(struct conf_parser *p, const struct conf_opt *o, const char *v,
    const char *why)
{
	return (conf_err(p, "invalid value '%s' for %s: %s", v, o->name, why));
}

/*
 * v, a number of o's type, is out of range: below o->min, or too large
 * (beyond max when given, maybe beyond what a long long holds, which
 * strtoll(3) reports as ERANGE just the same).
 */
static int
conf_range(struct conf_parser *p, const struct conf_opt *o, const char *v,
    const char *max)
{
	char		why[64];
	long long	ll;

	if (*v == '-' || (parse_int(v, LLONG_MIN, LLONG_MAX, &ll) == 0 &&
	    ll < o->min)) {
		snprintf(why, sizeof(why), "must not be less than %lld", o->min);
		return (conf_bad(p, o, v, why));
	}
	if (max == NULL)
		return (conf_bad(p, o, v, "too large"));
	snprintf(why, sizeof(why), "too large (at most %s)", max);
	return (conf_bad(p, o, v, why));
}

/* parse_bool() plus PHP's "none" (false). */
static int
conf_bool(const char *v, int *out)
{
	if (strcasecmp(v, "none") == 0) {
		*out = 0;
		return (0);
	}
	return (parse_bool(v, out));
}

/*
 * Split a command like sh(1) splits a simple command, without expansions:
 * blanks separate words, '...' is literal, "..." keeps blanks and takes \"
 * \\ \$ \` escapes, a backslash outside quotes escapes any character.
 * Returns 0 with a new argv, or -1 with errno ENOMEM, or EINVAL and *why.
 */
static int
conf_split(const char *s, char ***argvp, const char **why)
{
	struct conf_buf	 w = { NULL, 0, 0, 0 };
	char		**argv = NULL;
	size_t		 n = 0;

	*why = NULL;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		w.len = 0;
		conf_buf_add(&w, "", 0);
		while (*s != '\0' && *s != ' ' && *s != '\t') {
			if (*s == '\'') {
				for (s++; *s != '\0' && *s != '\''; s++)
					conf_buf_addc(&w, *s);
				if (*s == '\0') {
					*why = "unterminated single quote";
					goto fail;
				}
				s++;
			} else if (*s == '"') {
				for (s++; *s != '\0' && *s != '"'; s++) {
					if (*s == '\\' && s[1] != '\0' &&
					    strchr("\"\\$`", s[1]) != NULL)
						s++;
					conf_buf_addc(&w, *s);
				}
				if (*s == '\0') {
					*why = "unterminated double quote";
					goto fail;
				}
				s++;
			} else if (*s == '\\') {
				if (s[1] == '\0') {
					*why = "trailing backslash";
					goto fail;
				}
				conf_buf_addc(&w, s[1]);
				s += 2;
			} else
				conf_buf_addc(&w, *s++);
		}
		if (w.oom)
			goto fail;
		if (conf_strv_push(&argv, &n, w.p) == -1)
			goto fail;
	}
	free(w.p);
	if (n == 0) {
		conf_strv_free(argv);
		*why = "empty command";
		errno = EINVAL;
		return (-1);
	}
	*argvp = argv;
	return (0);
fail:
	free(w.p);
	conf_strv_free(argv);
	errno = *why != NULL ? EINVAL : ENOMEM;
	return (-1);
}

/* Split on blanks into a new NULL-terminated list (never NULL on success). */
static int
conf_split_ws(const char *s, char ***out)
{
	char	**v = NULL, *w;
	size_t	 n = 0, len;

	if (conf_strv_push(&v, &n, NULL) == -1)
		return (-1);
	n = 0;
	while (s != NULL && *s != '\0') {
		while (isspace((unsigned char)*s))
			s++;
		for (len = 0; s[len] != '\0' &&
		    !isspace((unsigned char)s[len]); len++)
			;
		if (len == 0)
			break;
		if ((w = strndup(s, len)) == NULL ||
		    conf_strv_push(&v, &n, w) == -1) {
			free(w);
			conf_strv_free(v);
			return (-1);
		}
		free(w);
		s += len;
	}
	*out = v;
	return (0);
}

static const struct conf_opt *
conf_opt_find(const struct conf_opt *o, const char *name)
{
	for (; o->name != NULL; o++)
		if (strcasecmp(o->name, name) == 0)
			return (o);
	return (NULL);
}

static int
conf_name_lookup(const struct conf_name *t, const char *s, int *out)
{
	for (; t->name != NULL; t++) {
		if (strcasecmp(t->name, s) == 0) {
			*out = t->value;
			return (0);
		}
	}
	return (-1);
}

static const char *
conf_name_of(const struct conf_name *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return (t->name);
	return ("?");
}

static int
conf_pool_init(struct conf_pool *pool, const char *name, const char *file,
    int line)
{
	memset(pool, 0, sizeof(*pool));
	pool->name = strdup(name);
	pool->file = strdup(file);
	pool->security_limit_extensions = strdup(".php .phar");
	pool->line = line;
	pool->listen_backlog = -1;
	pool->listen_mode = 0660;
	pool->listen_keepalive_timeout_ms = 60000;
	pool->max_spawn_rate = 32;
	pool->process_idle_timeout_ms = 10000;
	pool->request_slowlog_trace_depth = 20;
	pool->decorate_workers_output = 1;
	pool->workers_output_rate_limit = 2000;
	pool->clear_env = 1;
	pool->queue_max_length = 1024;
	pool->queue_timeout_ms = 30000;
	pool->request_client_timeout_ms = 60000;
	pool->request_buffer_size = 64 * 1024;
	pool->request_buffering = 1;
	pool->request_finish_probe = 1;
	pool->request_max_params_size = 64 * 1024;
	pool->where = calloc(sizeof(conf_pool_opts) / sizeof(conf_pool_opts[0]),
	    sizeof(*pool->where));
	if (pool->name == NULL || pool->file == NULL ||
	    pool->security_limit_extensions == NULL || pool->where == NULL) {
		conf_pool_free(pool);
		return (-1);
	}
	return (0);
}

static void
conf_pool_free(struct conf_pool *pool)
{
	const struct conf_opt	*o;
	size_t			 i;

	for (o = conf_pool_opts; o->name != NULL; o++) {
		switch (o->type) {
		case CT_STR:
		case CT_PATH:
		case CT_LISTEN:
		case CT_FORMAT:
		case CT_COMMAND:
			free(*(char **)(void *)((char *)pool + o->off));
			break;
		default:
			break;
		}
	}
	free(pool->name);
	free(pool->file);
	free(pool->where);
	conf_strv_free(pool->access_suppress_path);
	conf_strv_free(pool->limit_extensions);
	conf_strv_free(pool->argv);
	for (i = 0; i < pool->nenv; i++) {
		free(pool->env[i].key);
		free(pool->env[i].value);
	}
	free(pool->env);
	for (i = 0; i < pool->nphp; i++) {
		free(pool->php[i].key);
		free(pool->php[i].value);
	}
	free(pool->php);
	memset(pool, 0, sizeof(*pool));
}

static void
conf_strv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Append a copy of s (NULL: nothing, just terminate) to a NULL-ended list. */
static int
conf_strv_push(char ***vp, size_t *np, const char *s)
{
	char	**v, *dup = NULL;

	if (s != NULL && (dup = strdup(s)) == NULL)
		return (-1);
	if ((v = reallocarray(*vp, *np + 2, sizeof(*v))) == NULL) {
		free(dup);
		return (-1);
	}
	*vp = v;
	if (dup != NULL)
		v[(*np)++] = dup;
	v[*np] = NULL;
	return (0);
}

/* Make *pathp absolute against base; -1 (ENOMEM) on failure. */
static int
conf_resolve(char **pathp, const char *base)
{
	char	*np;

	if (*pathp == NULL || **pathp == '/')
		return (0);
	if (asprintf(&np, "%s/%s", base, *pathp) == -1)
		return (-1);
	free(*pathp);
	*pathp = np;
	return (0);
}

/* Defaults that depend on what was set, paths, and every check of 1.4. */
static int
conf_finish(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	struct conf_global	*g = &c->global;
	struct sock_addr	*addrs;
	const char		*a, *b;
	size_t			 i, j;
	int			 r = 0;

	if (g->syslog_ident == NULL &&
	    (g->syslog_ident = strdup("fpm")) == NULL)
		return (conf_oom(p));
	if (conf_resolve(&g->pid, g->prefix) == -1 ||
	    conf_resolve(&g->control, g->prefix) == -1 ||
	    conf_resolve(&g->runtime_dir, g->prefix) == -1 ||
	    (g->error_log != NULL && strcmp(g->error_log, "syslog") != 0 &&
	    conf_resolve(&g->error_log, g->prefix) == -1))
		return (conf_oom(p));
	if (c->npools == 0) {
		snprintf(p->err, p->errsize, "%s: no pool defined: at least "
		    "one pool section must be specified", g->file);
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < c->npools; i++)
		if (conf_finish_pool(p, &c->pools[i]) == -1)
			return (-1);

	/* Two pools (or a pool and a status listener) on one address. */
	if ((addrs = calloc(c->npools * 2, sizeof(*addrs))) == NULL)
		return (conf_oom(p));
	for (i = 0; i < c->npools * 2 && r == 0; i++) {
		a = i % 2 == 0 ? c->pools[i / 2].listen :
		    c->pools[i / 2].status_listen;
		if (a == NULL)
			continue;
		if (sock_parse(a, &addrs[i]) == -1) {
			r = conf_errdir(p, &c->pools[i / 2], i % 2 == 0 ?
			    "listen" : "pm.status_listen", "[pool %s] invalid "
			    "%s address '%s'%s", c->pools[i / 2].name,
			    i % 2 == 0 ? "listen" : "pm.status_listen", a,
			    errno == ENAMETOOLONG ? ": path too long" : "");
			break;
		}
		for (j = 0; j < i; j++) {
			b = j % 2 == 0 ? c->pools[j / 2].listen :
			    c->pools[j / 2].status_listen;
			if (b == NULL ||
			    strcmp(addrs[i].key, addrs[j].key) != 0)
				continue;
			r = conf_errdir(p, &c->pools[i / 2], i % 2 == 0 ?
			    "listen" : "pm.status_listen", "[pool %s] unable "
			    "to set listen address as it's already used in another "
			    "pool '%s'", c->pools[i / 2].name,
			    c->pools[j / 2].name);
			break;
		}
	}
	free(addrs);
	return (r);
}

static int
conf_finish_pool(struct conf_parser *p, struct conf_pool *pl)
{
	struct conf_global	*g = &p->conf->global;
	const struct conf_opt	*o;
	const char		*base, *f = pl->file, *nm = pl->name;
	char			*np, a[32], b[32];
	int			 l = pl->line;

	if (conf_resolve(&pl->prefix, g->prefix) == -1)
		return (conf_oom(p));
	base = pl->prefix != NULL ? pl->prefix : g->prefix;

	/* $prefix is only recognised at the start of chroot (PHP-FPM). */
	if (pl->chroot != NULL && (np = strstr(pl->chroot, "$prefix")) !=
	    NULL) {
		if (np != pl->chroot)
			return (conf_errdir(p, pl, "chroot", "[pool %s] "
			    "'$prefix' must be use at the beginning of the value", nm));
		if (asprintf(&np, "%s%s", base, pl->chroot + 7) == -1)
			return (conf_oom(p));
		free(pl->chroot);
		pl->chroot = np;
	}
	if (conf_resolve(&pl->chroot, base) == -1)
		return (conf_oom(p));
	for (o = conf_pool_opts; o->name != NULL; o++)
		if (o->type == CT_PATH && conf_resolve((char **)(void *)
		    ((char *)pl + o->off), base) == -1)
			return (conf_oom(p));
	if (pl->listen != NULL && conf_is_unix(pl->listen) &&
	    conf_resolve(&pl->listen, base) == -1)
		return (conf_oom(p));
	if (pl->status_listen != NULL && conf_is_unix(pl->status_listen) &&
	    conf_resolve(&pl->status_listen, base) == -1)
		return (conf_oom(p));
	if (pl->access_format == NULL &&
	    (pl->access_format = strdup(ACCESSLOG_DEFAULT_FORMAT)) == NULL)
		return (conf_oom(p));
	if (pl->ping_response == NULL &&
	    (pl->ping_response = strdup("pong")) == NULL)
		return (conf_oom(p));
	if (pl->request_spool_dir == NULL &&
	    (pl->request_spool_dir = strdup("/tmp")) == NULL)
		return (conf_oom(p));
	conf_strv_free(pl->limit_extensions);
	pl->limit_extensions = NULL;
	if (conf_split_ws(pl->security_limit_extensions,
	    &pl->limit_extensions) == -1)
		return (conf_oom(p));

	if (pl->listen == NULL)
		return (conf_errat(p, f, l, "[pool %s] no listen address have "
		    "been defined!", nm));
	if (pl->command == NULL)
		return (conf_errat(p, f, l, "[pool %s] 'command' is not set: "
		    "the worker program is required (e.g. command = "
		    "/usr/bin/php-cgi)", nm));
	if (pl->nphp > 0 && !conf_is_phpcgi(pl->argv[0]))
		return (conf_errat(p, pl->php[0].file, pl->php[0].line,
		    "[pool %s] %s[%s] is only for "
		    "php-cgi workers (command is '%s')", nm,
		    conf_php_name(pl->php[0].kind), pl->php[0].key,
		    pl->argv[0]));
	if (pl->pm == CONF_PM_NONE)
		return (conf_errat(p, f, l, "[pool %s] the process manager is "
		    "missing (static, dynamic or ondemand)", nm));
	if (pl->max_children < 1)
		return (conf_errdir(p, pl, "pm.max_children", "[pool %s] "
		    "pm.max_children must be a positive value", nm));
	if (pl->pm == CONF_PM_DYNAMIC) {
		if (pl->min_spare_servers <= 0)
			return (conf_errdir(p, pl, "pm.min_spare_servers",
			    "[pool %s] "
			    "pm.min_spare_servers(%d) must be a positive value",
			    nm, pl->min_spare_servers));
		if (pl->max_spare_servers <= 0)
			return (conf_errdir(p, pl, "pm.max_spare_servers",
			    "[pool %s] "
			    "pm.max_spare_servers(%d) must be a positive value",
			    nm, pl->max_spare_servers));
		if (pl->min_spare_servers > pl->max_children ||
		    pl->max_spare_servers > pl->max_children)
			return (conf_errdir(p, pl,
			    pl->min_spare_servers > pl->max_children ?
			    "pm.min_spare_servers" : "pm.max_spare_servers",
			    "[pool %s] "
			    "pm.min_spare_servers(%d) and "
			    "pm.max_spare_servers(%d) cannot be greater than "
			    "pm.max_children(%d)", nm, pl->min_spare_servers,
			    pl->max_spare_servers, pl->max_children));
		if (pl->min_spare_servers > pl->max_spare_servers)
			return (conf_errdir(p, pl, "pm.min_spare_servers",
			    "[pool %s] "
			    "pm.min_spare_servers(%d) must not be greater than "
			    "pm.max_spare_servers(%d)", nm,
			    pl->min_spare_servers, pl->max_spare_servers));
		if (pl->max_spawn_rate < 1)
			return (conf_errdir(p, pl, "pm.max_spawn_rate",
			    "[pool %s] "
			    "pm.max_spawn_rate must be a positive value", nm));
		if (pl->start_servers <= 0) {
			pl->start_servers = pl->min_spare_servers +
			    (pl->max_spare_servers - pl->min_spare_servers) / 2;
			if (conf_warn(p, "[pool %s] pm.start_servers is not "
			    "set. It's been set to %d.", nm,
			    pl->start_servers) == -1)
				return (-1);
		} else if (pl->start_servers < pl->min_spare_servers ||
		    pl->start_servers > pl->max_spare_servers)
			return (conf_errdir(p, pl, "pm.start_servers",
			    "[pool %s] "
			    "pm.start_servers(%d) must not be less than "
			    "pm.min_spare_servers(%d) and not greater than "
			    "pm.max_spare_servers(%d)", nm, pl->start_servers,
			    pl->min_spare_servers, pl->max_spare_servers));
	} else if (pl->pm == CONF_PM_ONDEMAND) {
		if (pl->process_idle_timeout_ms <= 0)
			return (conf_errdir(p, pl, "pm.process_idle_timeout",
			    "[pool %s] "
			    "pm.process_idle_timeout(0s) must be greater than "
			    "0s", nm));
	}
	if (conf_check_uri(p, pl, "status", "pm.status_path", pl->status_path,
	    "[alphanum]/_-.~") == -1 ||
	    conf_check_uri(p, pl, "ping", "ping.path", pl->ping_path,
	    "[alphanum]/_-.") == -1)
		return (-1);
	if (pl->request_slowlog_timeout_ms > 0 && pl->slowlog == NULL)
		return (conf_errdir(p, pl, "request_slowlog_timeout",
		    "[pool %s] 'slowlog' must be specified for use with "
		    "'request_slowlog_timeout'", nm));
	if (pl->request_slowlog_timeout_ms > 0 &&
	    pl->request_terminate_timeout_ms > 0 &&
	    pl->request_slowlog_timeout_ms >
	    pl->request_terminate_timeout_ms) {
		conf_fmt_time(pl->request_slowlog_timeout_ms, a, sizeof(a));
		conf_fmt_time(pl->request_terminate_timeout_ms, b, sizeof(b));
		return (conf_errdir(p, pl, "request_slowlog_timeout",
		    "[pool %s] request_slowlog_timeout(%s) must not be "
		    "greater than "
		    "request_terminate_timeout(%s)", nm, a, b));
	}
	if (conf_check_clients(p, pl) == -1)
		return (-1);
	if (pl->request_max_params_size == 0)
		return (conf_errdir(p, pl, "request.max_params_size",
		    "[pool %s] request.max_params_size must be a positive "
		    "value", nm));
	return (0);
}

static int
conf_check_uri(struct conf_parser *p, struct conf_pool *pl, const char *what,
    const char *directive, const char *path, const char *allowed)
{
	const char	*s;
	int		 tilde = strchr(allowed, '~') != NULL;

	if (path == NULL)
		return (0);
	if (*path != '/')
		return (conf_errdir(p, pl, directive, "[pool %s] the %s "
		    "path '%s' must start with a '/'", pl->name, what, path));
	if (strlen(path) < 2 && (tilde == 0 || pl->status_listen == NULL))
		return (conf_errdir(p, pl, directive, "[pool %s] the %s "
		    "path '%s' is not long enough", pl->name, what, path));
	for (s = path; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("/_-.", *s) != NULL ||
		    (tilde && *s == '~'))
			continue;
		return (conf_errdir(p, pl, directive, "[pool %s] the %s "
		    "path '%s' must contain only the following characters "
		    "'%s'", pl->name, what, path, allowed));
	}
	return (0);
}

/* listen.allowed_clients: a comma list of IPv4 and IPv6 addresses. */
static int
conf_check_clients(struct conf_parser *p, struct conf_pool *pl)
{
	struct in6_addr	 a6;
	const char	*s, *e;
	char		 ip[INET6_ADDRSTRLEN + 1];
	size_t		 len;

	for (s = pl->listen_allowed_clients; s != NULL && *s != '\0'; s = e) {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		for (e = s; *e != '\0' && *e != ','; e++)
			;
		for (len = e - s; len > 0 &&
		    isspace((unsigned char)s[len - 1]); len--)
			;
		if (len == 0)
			continue;
		snprintf(ip, sizeof(ip), "%.*s", (int)len, s);
		if (len >= sizeof(ip) || (inet_pton(AF_INET, ip, &a6) != 1 &&
		    inet_pton(AF_INET6, ip, &a6) != 1))
			return (conf_errdir(p, pl, "listen.allowed_clients",
			    "[pool %s] Wrong IP address '%.*s' in listen.allowed_clients",
			    pl->name, (int)len, s));
	}
	return (0);
}

/* PHP-FPM's rule: a unix path has no ':' and is not all digits. */
static int
conf_is_unix(const char *a)
{
	const char	*s;

	if (*a == '/')
		return (1);
	if (strchr(a, ':') != NULL)
		return (0);
	for (s = a; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (1);
	return (0);
}

/* php-cgi, php-cgi8.2, php8.2-cgi...: the basename has "php" and "-cgi". */
int
conf_is_phpcgi(const char *prog)
{
	const char	*b;

	b = strrchr(prog, '/');
	b = b == NULL ? prog : b + 1;
	return (strncmp(b, "php", 3) == 0 && strstr(b, "-cgi") != NULL);
}

int
conf_load(struct conf *conf, const char *path, const char *prefix,
    char *err, size_t errsize)
{
	struct conf_parser	 p;
	struct conf_global	*g = &conf->global;
	const char		*slash;
	char			 cwd[PATH_MAX], *dir = NULL;
	int			 r, saved;

	memset(conf, 0, sizeof(*conf));
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.cur = -1;
	p.err = err;
	p.errsize = errsize;
	if (errsize > 0)
		err[0] = '\0';

	g->syslog_facility = LOG_DAEMON;
	g->log_buffering = 1;
	g->log_level = CONF_LOG_NOTICE;
	g->log_limit = 1024;
	g->process_control_timeout_ms = 10000;
	g->systemd_interval_ms = 10000;
	g->control_mode = 0660;

	if (prefix != NULL)
		dir = strdup(prefix);
	else if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, slash - path);
	if (dir == NULL || (g->file = strdup(path)) == NULL) {
		free(dir);
		r = conf_oom(&p);
		goto out;
	}
	if (*dir != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			saved = errno;
			snprintf(err, errsize, "getcwd: %s", strerror(saved));
			free(dir);
			errno = saved;
			r = -1;
			goto out;
		}
		r = strcmp(dir, ".") == 0 ?
		    asprintf(&g->prefix, "%s", cwd) :
		    asprintf(&g->prefix, "%s/%s", cwd, dir);
		free(dir);
		if (r == -1) {
			g->prefix = NULL;
			r = conf_oom(&p);
			goto out;
		}
	} else
		g->prefix = dir;

	if ((r = conf_parse_file(&p, path)) == 0)
		r = conf_finish(&p);
out:
	if (r == -1) {
		saved = errno;
		conf_free(conf);
		errno = saved;
	}
	return (r);
}

void
conf_free(struct conf *conf)
{
	const struct conf_opt	*o;
	size_t			 i;

	for (o = conf_global_opts; o->name != NULL; o++)
		if (o->type == CT_STR || o->type == CT_PATH)
			free(*(char **)(void *)((char *)&conf->global +
			    o->off));
	free(conf->global.file);
	free(conf->global.prefix);
	for (i = 0; i < conf->npools; i++)
		conf_pool_free(&conf->pools[i]);
	free(conf->pools);
	conf_strv_free(conf->warnings);
	conf_strv_free(conf->files);
	memset(conf, 0, sizeof(*conf));
}

static void
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

static void
conf_dump_opts(const struct conf_opt *o, const void *base, FILE *fp)
{
	const char	*field, *s;
	char		 buf[64];
	uint64_t	 u;

	for (; o->name != NULL; o++) {
		field = (const char *)base + o->off;
		if (o->setoff != CONF_NOSET &&
		    *(const int *)(const void *)((const char *)base +
		    o->setoff) == 0) {
			fprintf(fp, "\t%s = undefined\n", o->name);
			continue;
		}
		s = buf;
		switch (o->type) {
		case CT_STR:
		case CT_PATH:
		case CT_LISTEN:
		case CT_FORMAT:
		case CT_COMMAND:
			s = *(char *const *)(const void *)field;
			if (s == NULL)
				s = "undefined";
			break;
		case CT_INT:
			snprintf(buf, sizeof(buf), "%d",
			    *(const int *)(const void *)field);
			break;
		case CT_TIME:
			conf_fmt_time(*(const int64_t *)(const void *)field,
			    buf, sizeof(buf));
			break;
		case CT_SIZE:
			conf_fmt_size(*(const uint64_t *)(const void *)field,
			    buf, sizeof(buf));
			break;
		case CT_BOOL:
			s = *(const int *)(const void *)field ? "yes" : "no";
			break;
		case CT_MODE:
			snprintf(buf, sizeof(buf), "%04o",
			    *(const unsigned int *)(const void *)field);
			break;
		case CT_RLIMIT:
			u = *(const uint64_t *)(const void *)field;
			if (u == UINT64_MAX)
				s = "unlimited";
			else
				snprintf(buf, sizeof(buf), "%llu",
				    (unsigned long long)u);
			break;
		case CT_PM:
			s = conf_name_of(conf_pm_names,
			    *(const enum conf_pm *)(const void *)field);
			break;
		case CT_LOGLEVEL:
			s = conf_name_of(conf_level_names,
			    *(const enum conf_log_level *)(const void *)field);
			break;
		case CT_FACILITY:
			s = conf_name_of(conf_facility_names,
			    *(const int *)(const void *)field);
			break;
		case CT_EVENTS:
			s = "epoll";
			break;
		case CT_SETFIB:
		case CT_APPARMOR:
			continue;
		}
		fprintf(fp, "\t%s = %s\n", o->name, s);
	}
}

void
conf_dump(const struct conf *conf, FILE *fp)
{
	const struct conf_pool	*pl;
	size_t			 i, j;

	fprintf(fp, "[global]\n");
	fprintf(fp, "\tprefix = %s\n", conf->global.prefix != NULL ?
	    conf->global.prefix : "undefined");
	conf_dump_opts(conf_global_opts, &conf->global, fp);
	for (i = 0; i < conf->npools; i++) {
		pl = &conf->pools[i];
		fprintf(fp, "[%s]\n", pl->name);
		conf_dump_opts(conf_pool_opts, pl, fp);
		for (j = 0; j < pl->naccess_suppress_path; j++)
			fprintf(fp, "\taccess.suppress_path[] = %s\n",
			    pl->access_suppress_path[j]);
		for (j = 0; j < pl->nenv; j++)
			fprintf(fp, "\tenv[%s] = %s\n", pl->env[j].key,
			    pl->env[j].value);
		for (j = 0; j < pl->nphp; j++)
			fprintf(fp, "\t%s[%s] = %s\n",
			    conf_php_name(pl->php[j].kind), pl->php[j].key,
			    pl->php[j].value);
	}
}

void
conf_pool_where(const struct conf_pool *pool, const char *name,
    const char **file, int *line)
{
	const struct conf_opt	*o;

	*file = pool->file;
	*line = pool->line;
	if ((o = conf_opt_find(conf_pool_opts, name)) == NULL ||
	    pool->where == NULL || pool->where[o - conf_pool_opts].file == NULL)
		return;
	*file = pool->where[o - conf_pool_opts].file;
	*line = pool->where[o - conf_pool_opts].line;
}

struct conf_pool *
conf_pool_find(const struct conf *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->npools; i++)
		if (strcasecmp(conf->pools[i].name, name) == 0)
			return (&conf->pools[i]);
	return (NULL);
}

static int
conf_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static int
conf_strv_eq(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	for (; *a != NULL && *b != NULL; a++, b++)
		if (strcmp(*a, *b) != 0)
			return (0);
	return (*a == NULL && *b == NULL);
}

int
conf_pool_equal(const struct conf_pool *a, const struct conf_pool *b)
{
	const struct conf_opt	*o;
	const char		*fa, *fb;
	size_t			 i;

	for (o = conf_pool_opts; o->name != NULL; o++) {
		if (!(o->flags & CF_WORKER))
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
	if (!conf_strv_eq(a->argv, b->argv) || a->nenv != b->nenv ||
	    a->nphp != b->nphp)
		return (0);
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i].key, b->env[i].key) != 0 ||
		    strcmp(a->env[i].value, b->env[i].value) != 0)
			return (0);
	for (i = 0; i < a->nphp; i++)
		if (a->php[i].kind != b->php[i].kind ||
		    strcmp(a->php[i].key, b->php[i].key) != 0 ||
		    strcmp(a->php[i].value, b->php[i].value) != 0)
			return (0);
	return (1);
}

static const char *
conf_php_name(enum conf_php_kind kind)
{
	switch (kind) {
	case CONF_PHP_VALUE:
		return ("php_value");
	case CONF_PHP_FLAG:
		return ("php_flag");
	case CONF_PHP_ADMIN_VALUE:
		return ("php_admin_value");
	case CONF_PHP_ADMIN_FLAG:
		return ("php_admin_flag");
	}
	return ("?");
}

char **
conf_pool_argv(const struct conf_pool *pool)
{
	char	**v = NULL, *kv;
	size_t	 n = 0, i;
	int	 pass, admin;

	if (pool->argv == NULL || pool->argv[0] == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (conf_strv_push(&v, &n, pool->argv[0]) == -1)
		goto fail;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < pool->nphp; i++) {
			admin = pool->php[i].kind == CONF_PHP_ADMIN_VALUE ||
			    pool->php[i].kind == CONF_PHP_ADMIN_FLAG;
			if (admin != pass)
				continue;
			if (asprintf(&kv, "%s=%s", pool->php[i].key,
			    pool->php[i].value) == -1)
				goto fail;
			if (conf_strv_push(&v, &n, "-d") == -1 ||
			    conf_strv_push(&v, &n, kv) == -1) {
				free(kv);
				goto fail;
			}
			free(kv);
		}
	}
	for (i = 1; pool->argv[i] != NULL; i++)
		if (conf_strv_push(&v, &n, pool->argv[i]) == -1)
			goto fail;
	return (v);
fail:
	conf_strv_free(v);
	errno = ENOMEM;
	return (NULL);
}

void
conf_argv_free(char **argv)
{
	conf_strv_free(argv);
}
