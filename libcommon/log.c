/* SPDX-License-Identifier: ISC */
/* Logging: one write(2) per line to stderr, a file or syslog. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"

#define LOG_BUFSIZE	8192		/* the hard cap of log_limit */

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_FILE,
	LOG_TO_SYSLOG
};

static struct {
	const char	*prog;
	enum log_style	 style;
	enum log_level	 level;
	enum log_target	 target;
	int		 fd;
	char		*path;		/* of the file target, for reopen */
	size_t		 limit;
} L = { "fpm", LOG_STYLE_PLAIN, LOG_LVL_WARNING, LOG_TO_STDERR, 2, NULL,
    1024 };

static const struct {
	const char	*upper;		/* PHP-FPM's word, its log_level's */
	const char	*lower;		/* ours, in the plain style */
	int		 prio;		/* syslog(3) */
} levels[] = {
	[LOG_LVL_DEBUG] = { "DEBUG", "debug", LOG_DEBUG },
	[LOG_LVL_NOTICE] = { "NOTICE", "info", LOG_NOTICE },
	[LOG_LVL_WARNING] = { "WARNING", "warning", LOG_WARNING },
	[LOG_LVL_ERROR] = { "ERROR", "error", LOG_ERR },
	[LOG_LVL_ALERT] = { "ALERT", "fatal", LOG_ALERT }
};

static const struct {
	const char	*name;
	int		 fac;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON },
	{ "ftp", LOG_FTP }, { "kern", LOG_KERN }, { "lpr", LOG_LPR },
	{ "mail", LOG_MAIL }, { "news", LOG_NEWS },
	{ "syslog", LOG_SYSLOG }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }
};

static size_t	log_prefix(char *, size_t, enum log_level);
static void	log_emit(char *, size_t, enum log_level);

void
log_init(const char *prog, enum log_style style)
{
	L.prog = prog;
	L.style = style;
	L.level = style == LOG_STYLE_FPM ? LOG_LVL_NOTICE : LOG_LVL_WARNING;
}

void
log_setlevel(enum log_level level)
{
	L.level = level;
}

enum log_level
log_getlevel(void)
{
	return (L.level);
}

void
log_verbose(int nverbose)
{
	int	l = (int)LOG_LVL_WARNING - nverbose;

	L.level = l < (int)LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)l;
}

void
log_setlimit(size_t limit)
{
	if (limit == 0)
		limit = 1024;
	L.limit = limit < LOG_BUFSIZE - 1 ? limit : LOG_BUFSIZE - 1;
}

size_t
log_getlimit(void)
{
	return (L.limit);
}

/* fpm.conf's log_level words: each level's name, any case, and "warn". */
int
log_level_parse_conf(const char *word, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(word, levels[i].upper) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	if (strcasecmp(word, "warn") == 0) {
		*out = LOG_LVL_WARNING;
		return (0);
	}
	errno = EINVAL;
	return (-1);
}

int
log_level_parse(const char *word, enum log_level *out)
{
	if (strcasecmp(word, "info") == 0) {
		*out = LOG_LVL_NOTICE;
		return (0);
	}
	return (log_level_parse_conf(word, out));
}

const char *
log_level_name(enum log_level level)
{
	return (levels[level].upper);
}

int
log_facility_parse(const char *name, int *out)
{
	size_t	i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0) {
			*out = facilities[i].fac;
			return (0);
		}
	errno = EINVAL;
	return (-1);
}

const char *
log_facility_name(int facility)
{
	size_t	i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].fac == facility)
			return (facilities[i].name);
	return ("?");
}

int
log_open_file(const char *path)
{
	char	*p;
	int	 fd;

	if ((p = strdup(path)) == NULL)
		return (-1);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		free(p);
		return (-1);
	}
	if (L.target == LOG_TO_FILE)
		close(L.fd);
	else if (L.target == LOG_TO_SYSLOG)
		closelog();
	free(L.path);
	L.path = p;
	L.fd = fd;
	L.target = LOG_TO_FILE;
	return (0);
}

void
log_open_syslog(const char *ident, int facility)
{
	if (L.target == LOG_TO_FILE)
		close(L.fd);
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	L.target = LOG_TO_SYSLOG;
	L.fd = -1;
}

void
log_open_stderr(void)
{
	if (L.target == LOG_TO_FILE)
		close(L.fd);
	else if (L.target == LOG_TO_SYSLOG)
		closelog();
	L.target = LOG_TO_STDERR;
	L.fd = 2;
}

int
log_reopen(void)
{
	int	fd;

	if (L.target != LOG_TO_FILE)
		return (0);
	fd = open(L.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return (-1);
	/* dup2 keeps the fd number: whoever holds it keeps writing here */
	if (dup2(fd, L.fd) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

int
log_fd(void)
{
	return (L.fd);
}

size_t
log_fmt_time(char *buf, size_t size, time_t t)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL)
		return (0);
	return (strftime(buf, size, "%d-%b-%Y %H:%M:%S", &tm));
}

static size_t
log_prefix(char *buf, size_t size, enum log_level level)
{
	size_t	n;
	int	r;

	if (L.target == LOG_TO_SYSLOG)
		r = snprintf(buf, size, "[%s] ", levels[level].upper);
	else if (L.style == LOG_STYLE_FPM) {
		buf[0] = '[';
		n = 1 + log_fmt_time(buf + 1, size - 1, time(NULL));
		r = (int)n + snprintf(buf + n, size - n, "] %s: ",
		    levels[level].upper);
	} else
		r = snprintf(buf, size, "%s: %s: ", L.prog,
		    levels[level].lower);
	return (r < 0 ? 0 : (size_t)r);
}

/*
 * buf holds len bytes of a line with room for a newline; cut it at the limit
 * with "..." as PHP-FPM's zlog does, then write it with one call.
 */
static void
log_emit(char *buf, size_t len, enum log_level level)
{
	if (len > L.limit) {
		len = L.limit;
		/* a limit under 3 has no room for the dots */
		if (len >= 3)
			memcpy(buf + len - 3, "...", 3);
	}
	if (L.target == LOG_TO_SYSLOG) {
		syslog(levels[level].prio, "%.*s", (int)len, buf);
		return;
	}
	buf[len++] = '\n';
	(void)write(L.fd, buf, len);
}

void
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char	buf[LOG_BUFSIZE];
	size_t	n;
	int	r, saved = errno;

	if (level < L.level) {
		errno = saved;
		return;
	}
	n = log_prefix(buf, sizeof(buf) - 1, level);
	r = vsnprintf(buf + n, sizeof(buf) - 1 - n, fmt, ap);
	n = r < 0 ? n : n + (size_t)r;
	if (errnum != 0 && n < sizeof(buf) - 1) {
		r = snprintf(buf + n, sizeof(buf) - 1 - n, ": %s",
		    strerror(errnum));
		n = r < 0 ? n : n + (size_t)r;
	}
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	log_emit(buf, n, level);
	errno = saved;
}

const char *
log_vis(char *buf, size_t size, const char *s)
{
	const unsigned char	*p;
	char			 e[5];
	size_t			 n, len = 0;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			n = (size_t)snprintf(e, sizeof(e), "\\%c", *p);
		else if (*p == '\n')
			n = (size_t)snprintf(e, sizeof(e), "\\n");
		else if (*p == '\r')
			n = (size_t)snprintf(e, sizeof(e), "\\r");
		else if (*p == '\t')
			n = (size_t)snprintf(e, sizeof(e), "\\t");
		else if (*p < 0x20 || *p > 0x7e)
			n = (size_t)snprintf(e, sizeof(e), "\\%03o", *p);
		else {
			e[0] = (char)*p;
			n = 1;
		}
		if (n >= size - len)
			break;
		memcpy(buf + len, e, n);
		len += n;
	}
	buf[len] = '\0';
	return (buf);
}

void
log_raw(enum log_level level, const char *line, size_t len)
{
	char	buf[LOG_BUFSIZE];

	if (level < L.level)
		return;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	memcpy(buf, line, len);
	log_emit(buf, len, level);
}

#define LOG_VA(level, errnum) do {			\
	va_list	ap;					\
	va_start(ap, fmt);				\
	log_vmsg((level), (errnum), fmt, ap);		\
	va_end(ap);					\
} while (0)

void
log_msg(enum log_level level, const char *fmt, ...)
{
	LOG_VA(level, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_DEBUG, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_NOTICE, 0);
}

void
log_warn(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_WARNING, errno);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_WARNING, 0);
}

void
log_error(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_ERROR, errno);
}

void
log_errorx(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_ERROR, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_VA(LOG_LVL_ALERT, errno);
	exit(FPM_EXIT_TEMP);
}

void
fatalx_code(int code, const char *fmt, ...)
{
	LOG_VA(LOG_LVL_ALERT, 0);
	exit(code);
}

void
fatalx_usage(const char *fmt, ...)
{
	char	buf[LOG_BUFSIZE];
	va_list	ap;
	int	n;

	n = snprintf(buf, sizeof(buf), "%s: usage: ", L.prog);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	dprintf(2, "%s\nTry '%s --help'.\n", buf, L.prog);
	exit(FPM_EXIT_USAGE);
}
