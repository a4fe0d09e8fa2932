/* SPDX-License-Identifier: ISC */
/* Logging: OpenBSD log.h's API with levels, two line styles and three targets. */
#ifndef LIBCOMMON_LOG_H
#define LIBCOMMON_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "libcommon/exits.h"

/* Levels, most verbose first; the names are PHP-FPM's log_level words. */
enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_NOTICE,		/* "info" in the small tools' words */
	LOG_LVL_WARNING,
	LOG_LVL_ERROR,
	LOG_LVL_ALERT
};

/*
 * LOG_STYLE_PLAIN: "prog: warning: message" (the small tools, STYLE B7).
 * LOG_STYLE_FPM: "[25-Nov-2026 08:33:05] WARNING: message", PHP-FPM's master
 * line; on syslog both styles become "[WARNING] message".
 */
enum log_style {
	LOG_STYLE_PLAIN,
	LOG_STYLE_FPM
};

/* Set the program name and style; the target is stderr, the level warning. */
void	log_init(const char *prog, enum log_style style);
void	log_setlevel(enum log_level level);
enum log_level	log_getlevel(void);
/* Each -v lowers the threshold by one level (warning, notice, debug). */
void	log_verbose(int nverbose);
/* Lines are cut at limit bytes (prefix included) and end in "..."; 0 = 1024. */
void	log_setlimit(size_t limit);
size_t	log_getlimit(void);

/* Parse a log_level word of fpm.conf (debug, notice, warning, warn, error, alert). */
int	log_level_parse_conf(const char *word, enum log_level *out);
/* The same, and the small tools' "info" for notice. */
int	log_level_parse(const char *word, enum log_level *out);
const char *log_level_name(enum log_level level);	/* "WARNING" */

/*
 * Targets.  log_open_file() appends to path (O_APPEND|O_CLOEXEC, 0600) and
 * returns 0, or -1 with errno set (the old target stays).  log_open_syslog()
 * takes a facility such as LOG_DAEMON.  log_reopen() reopens a file target
 * (SIGUSR1, logrotate); it returns -1 with errno set and keeps the old fd on
 * failure.  log_fd() is the file target's fd, or 2 for stderr, -1 for syslog.
 */
int	log_open_file(const char *path);
void	log_open_syslog(const char *ident, int facility);
void	log_open_stderr(void);
int	log_reopen(void);
int	log_fd(void);
/* Parse a syslog facility name (daemon, local0, ...): 0, or -1 with EINVAL. */
int	log_facility_parse(const char *name, int *out);
const char *log_facility_name(int facility);	/* "daemon"; "?" */

/*
 * Format t as PHP-FPM does: "25-Nov-2026 08:33:05" (local time).  Returns
 * the length written, at most size - 1.
 */
size_t	log_fmt_time(char *buf, size_t size, time_t t);

/*
 * Copy the string s into buf (size > 0), made safe for one log line: a
 * printable ASCII byte stays, '\\' and '"' are escaped, \n \r \t become
 * C escapes and every other byte \ooo (as strvis(3) VIS_CSTYLE|VIS_OCTAL).
 * Cut at a whole escape to fit; returns buf.
 */
const char *log_vis(char *buf, size_t size, const char *s);

/* Emitters.  All preserve errno.  The _warn/fatal forms append strerror. */
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level, int errnum, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* "prog: fatal: msg: strerror" and exit FPM_EXIT_TEMP (111). */
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
/* The same without strerror, exiting with code. */
__attribute__((noreturn)) void fatalx_code(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
#define fatalx(...)	fatalx_code(FPM_EXIT_TEMP, __VA_ARGS__)
/* "prog: usage: msg" then "Try 'prog --help'." and exit FPM_EXIT_USAGE. */
__attribute__((noreturn)) void fatalx_usage(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * Write one line as it is (decorate_workers_output = no): the target gets
 * len bytes of line and a newline, cut at the limit.  No prefix.
 */
void	log_raw(enum log_level, const char *line, size_t len);

#endif
