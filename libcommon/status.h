/* SPDX-License-Identifier: ISC */
/*
 * The status page, byte for byte as PHP-FPM 8.2 renders it but for the
 * escaping of what a client sent (fpm(7)): text, JSON, XML, HTML and
 * OpenMetrics, short and ?full.  Pure: no I/O.
 */
#ifndef LIBCOMMON_STATUS_H
#define LIBCOMMON_STATUS_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

/*
 * One worker, shown with ?full.  Strings may be NULL, which prints as ""
 * does: method, uri, user and script as "-", query as nothing (no '?').
 * state is PHP-FPM's stage name ("Idle", "Reading headers", "Getting
 * request information", "Running", "Ending", "Finishing"); NULL prints
 * "(null)", as PHP-FPM does for a child that has not accepted yet.
 * last_cpu and last_memory are printed as given: PHP-FPM shows them only
 * for Idle workers and 0 otherwise, so the caller zeroes them.
 */
struct status_proc {
	pid_t			 pid;
	const char		*state;
	time_t			 start_time;		/* epoch */
	unsigned long		 start_since;		/* seconds */
	unsigned long		 requests;
	unsigned long long	 request_duration_us;
	const char		*method;
	const char		*uri;		/* without the query */
	const char		*query;		/* without the '?' */
	const char		*user;
	const char		*script;
	unsigned long long	 content_length;
	double			 last_cpu;		/* percent */
	unsigned long long	 last_memory;		/* bytes */
};

/*
 * A histogram for STATUS_PROMETHEUS, owned by the caller.  le holds the n
 * finite upper bounds in seconds, ascending, without +Inf; count holds
 * n + 1 per-bucket (not cumulative) counts: count[i] observations in
 * (le[i - 1], le[i]], count[n] those above le[n - 1].  The renderer makes
 * them cumulative and prints their total as _count; sum is in seconds.
 * count NULL reads as all zero; a zeroed histogram is a bare +Inf bucket.
 */
struct status_hist {
	const double		*le;
	const unsigned long	*count;
	size_t			 n;
	double			 sum;
};

/*
 * One pool; total processes is printed as idle + active.  The fields
 * after procs/nprocs are fpm's own and only STATUS_PROMETHEUS shows them;
 * zero them when unknown.
 */
struct status_pool {
	const char		*pool;
	const char		*pm;		/* static, dynamic... */
	time_t			 start_time;	/* epoch */
	unsigned long		 start_since;	/* seconds */
	unsigned long		 accepted_conn;
	int			 listen_queue;
	int			 max_listen_queue;
	unsigned int		 listen_queue_len;
	int			 idle;
	int			 active;
	int			 max_active;
	unsigned int		 max_children_reached;
	unsigned long		 slow_requests;
	const struct status_proc *procs;	/* rendered in this order */
	size_t			 nprocs;
	unsigned long		 responses_502;	/* answered by fpm itself, */
	unsigned long		 responses_503;	/* not by a worker */
	unsigned long		 responses_504;
	struct status_hist	 request_duration;
	struct status_hist	 queue_wait;	/* accept to worker */
};

enum status_format {
	STATUS_TEXT,
	STATUS_JSON,
	STATUS_XML,
	STATUS_HTML,
	STATUS_OPENMETRICS,
	STATUS_PROMETHEUS	/* fpm's own: lint-clean, with extensions */
};

/*
 * Append-only byte buffer grown with realloc(3); start it zeroed.  data
 * stays NUL-terminated (not counted in len) once anything was appended.
 */
struct status_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};

/* Release b->data and zero *b; b may be reused afterwards. */
void	status_buf_free(struct status_buf *b);

/*
 * Pick the format from a QUERY_STRING (no leading '?'; NULL is empty) as
 * PHP-FPM reads $_GET: a key selects a format if it is a prefix of the
 * format's name, precedence html > xml > json > openmetrics > prometheus
 * > text; *full is set to 1 or 0 by the same test on "full".  prometheus
 * is ours: PHP-FPM has no key starting with 'p' and shows text for "?p".
 * Never fails.
 */
void	status_parse_query(const char *query, enum status_format *fmt,
	    int *full);

/*
 * PHP-FPM's Content-Type value for fmt, e.g. "text/plain;charset=UTF-8";
 * "text/plain; version=0.0.4; charset=utf-8" for STATUS_PROMETHEUS.
 */
const char *status_content_type(enum status_format fmt);

/*
 * Append PHP-FPM's response headers for fmt (Expires, Cache-Control, then
 * the content type with PHP's spelling of the name), CRLF-terminated, then
 * the empty line.  0, or -1 with errno ENOMEM (b->len unchanged).
 */
int	status_headers(struct status_buf *b, enum status_format fmt);

/*
 * Append the page for one pool, with the workers if full (OpenMetrics
 * ignores full, as PHP-FPM does).  Times use localtime(3) for text and
 * HTML.  STATUS_PROMETHEUS is the Prometheus text format 0.0.4 that
 * promtool check metrics accepts, fpm_ metrics labelled pool="...", the
 * workers' fpm_worker_ ones (also pid="...") if full, numbers in the C
 * locale.  0, or -1 with errno ENOMEM or EINVAL (bad fmt); b->len
 * unchanged on failure.
 */
int	status_render(struct status_buf *b, const struct status_pool *p,
	    enum status_format fmt, int full);

/*
 * Several pools on one page (fpm-status; PHP-FPM has no equivalent):
 * STATUS_TEXT concatenates the pages, STATUS_JSON emits a JSON array of
 * the per-pool objects, separated by ",", STATUS_PROMETHEUS one
 * exposition with each metric family's samples together, pools in the
 * given order.  Other formats have no sound concatenation: -1 with errno
 * EINVAL.  0, or -1 with errno ENOMEM; b->len unchanged on failure.
 */
int	status_render_multi(struct status_buf *b,
	    const struct status_pool *pools, size_t npools,
	    enum status_format fmt, int full);

#endif
