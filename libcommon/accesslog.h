/* SPDX-License-Identifier: ISC */
/*
 * PHP-FPM's access log (access.format, access.suppress_path): checks a
 * format and turns one finished request into one line.  Pure: no I/O.
 */
#ifndef LIBCOMMON_ACCESSLOG_H
#define LIBCOMMON_ACCESSLOG_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

/* PHP-FPM's access.format default. */
#define ACCESSLOG_DEFAULT_FORMAT	"%R - %u %t \"%m %r\" %s"

/*
 * One finished request, filled by the supervisor.  Each field names the
 * specifier that prints it and what a NULL or empty value prints, which
 * is what PHP-FPM 8.2 prints for an empty scoreboard field.
 */
struct accesslog_req {
	const char	*pool;		/* %n; NULL or "": "-" */
	pid_t		 pid;		/* %p: the worker */
	pid_t		 master_pid;	/* %P: the supervisor (PHP-FPM's
					   getppid()) */
	const char	*peer_addr;	/* %R: the FastCGI peer's IP (the web
					   server), NULL: "-" (unix socket) */
	const char	*method;	/* %m; NULL or "": "-" */
	const char	*uri;		/* %r: the path without the query;
					   NULL: "" */
	const char	*query;		/* %q, %Q: without the '?'; NULL: "" */
	const char	*script_filename; /* %f; NULL or "": "-" */
	const char	*user;		/* %u; NULL: "" */
	int		 status;	/* %s: HTTP status */
	unsigned long long content_length; /* %l: CONTENT_LENGTH */
	struct timespec	 start;		/* %t: CLOCK_REALTIME at accept */
	struct timespec	 end;		/* %T: CLOCK_REALTIME at the end */
	struct timespec	 duration;	/* %d, %C: elapsed (CLOCK_MONOTONIC) */
	double		 cpu_user;	/* %C: seconds of user CPU */
	double		 cpu_system;	/* %C: seconds of system CPU */
	unsigned long long memory;	/* %M: bytes, 0 if unknown */
	/* %{NAME}e and %{NAME}o: the value or NULL ("-"); either may be NULL */
	const char	*(*param)(void *arg, const char *name);
	const char	*(*header)(void *arg, const char *name);
	void		*arg;		/* passed to param and header */
};

/*
 * Output buffer grown with realloc(3); start it zeroed.  data stays
 * NUL-terminated (not counted in len) once anything was written.
 */
struct accesslog_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};

/* Release b->data and zero *b; b may be reused afterwards. */
void	accesslog_buf_free(struct accesslog_buf *b);

/*
 * Check an access.format as PHP-FPM does at startup: 0, or -1 with errno
 * EINVAL and PHP-FPM's reason in err ("Invalid token in the access.format
 * (%z)"), which the caller prefixes with "wrong format for access.format
 * '...': ".  err may be NULL when errsize is 0.
 */
int	accesslog_check(const char *format, char *err, size_t errsize);

/*
 * Replace b's contents with the line for r, newline included, ready for
 * one write(2); no length limit.  An empty line leaves b->len 0: PHP-FPM
 * writes nothing then.  Request-controlled bytes below 0x20, 0x7f and '\\'
 * are written as \xHH so that one request makes exactly one line.  0, or
 * -1 with errno ENOMEM or EINVAL (format fails accesslog_check).
 */
int	accesslog_format(struct accesslog_buf *b, const char *format,
	    const struct accesslog_req *r);

/*
 * access.suppress_path[]: 1 if the line must not be written (GET or HEAD,
 * no query string, status 2xx, content_length 0 and uri equal to one of
 * the n paths), else 0.
 */
int	accesslog_suppressed(const char *const *paths, size_t n,
	    const struct accesslog_req *r);

#endif
