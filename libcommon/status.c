/* SPDX-License-Identifier: ISC */
/*
 * Status page renderer.  The format strings are PHP-FPM 8.2's
 * (sapi/fpm/fpm/fpm_status.c), checked against pages it served; the
 * Prometheus exposition is fpm's own.
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/status.h"

/*
 * PHP registers at most max_input_vars (default 1000) query variables;
 * a format key after that is not seen.
 */
#define STATUS_MAX_INPUT_VARS	1000

#define STATUS_NSHORT	14	/* fields of the pool part (status_short) */
#define STATUS_NPROC	13	/* fields of a worker (status_proc) */

/* How a string field is escaped on its way into the page. */
enum status_esc {
	STATUS_ESC_NONE,
	STATUS_ESC_HTML,	/* HTML and XML */
	STATUS_ESC_JSON
};

/*
 * The metric families of STATUS_PROMETHEUS in output order: the pools'
 * (one or more samples per pool), then the workers' (per worker, full
 * only) from STATUS_PROM_WORKER on.
 */
enum status_prom_metric {
	STATUS_PROM_INFO,
	STATUS_PROM_START_TIME,
	STATUS_PROM_ACCEPTED,
	STATUS_PROM_LISTEN_QUEUE,
	STATUS_PROM_LISTEN_QUEUE_MAX,
	STATUS_PROM_LISTEN_QUEUE_SIZE,
	STATUS_PROM_PROCESSES,
	STATUS_PROM_ACTIVE_MAX,
	STATUS_PROM_CHILDREN_REACHED,
	STATUS_PROM_SLOW,
	STATUS_PROM_RESPONSES,
	STATUS_PROM_DURATION,
	STATUS_PROM_QUEUE_WAIT,
	STATUS_PROM_WORKER,
	STATUS_PROM_W_STATE = STATUS_PROM_WORKER,
	STATUS_PROM_W_START_TIME,
	STATUS_PROM_W_REQUESTS,
	STATUS_PROM_W_DURATION,
	STATUS_PROM_W_CONTENT_LENGTH,
	STATUS_PROM_W_CPU,
	STATUS_PROM_W_MEMORY,
	STATUS_PROM_NMETRICS
};

/* An output in progress: the first failure sticks, later appends are no-ops. */
struct status_out {
	struct status_buf	*b;
	int			 err;
};

static int	status_reserve(struct status_out *, size_t);
static void	status_put(struct status_out *, const char *, size_t);
static void	status_puts(struct status_out *, const char *);
static void	status_printf(struct status_out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static long	status_utf8_next(const unsigned char *, size_t, size_t *);
static void	status_put_esc(struct status_out *, const char *,
		    enum status_esc);
static void	status_put_field(struct status_out *, const char *,
		    enum status_esc);
static void	status_put_uri(struct status_out *,
		    const struct status_proc *, enum status_esc);
static void	status_esc_html(struct status_out *, long,
		    const unsigned char *, size_t);
static void	status_esc_json(struct status_out *, long,
		    const unsigned char *, size_t);
static enum status_esc status_fmt_esc(enum status_format);
static char	*status_esc_dup(struct status_out *, const char *,
		    enum status_esc);
static void	status_fmt_time(char *, size_t, time_t, enum status_format);
struct status_field;
static void	status_field(struct status_out *, enum status_format, int,
		    const struct status_field *, size_t, const char *);
static void	status_om_field(struct status_out *, size_t, const char *);
static void	status_short_values(char [STATUS_NSHORT][24],
		    const struct status_pool *);
static void	status_short(struct status_out *, const struct status_pool *,
		    enum status_format, int);
static void	status_proc(struct status_out *, const struct status_proc *,
		    enum status_format);
static void	status_page(struct status_out *, const struct status_pool *,
		    enum status_format, int);
static void	status_put_label(struct status_out *, const char *);
static void	status_prom_double(struct status_out *, double);
static void	status_prom_start(struct status_out *, const char *,
		    const char *, const struct status_pool *,
		    const struct status_proc *);
static void	status_prom_hist(struct status_out *, const char *,
		    const struct status_pool *, const struct status_hist *);
static void	status_prom_sample(struct status_out *,
		    enum status_prom_metric, const struct status_pool *,
		    const struct status_proc *);
static void	status_prom(struct status_out *, const struct status_pool *,
		    size_t, int);
static int	status_finish(struct status_out *, size_t);
static int	status_key_matches(const char *, size_t, const char *);
static int	status_url_next(const char **, const char *);

static const char *const status_months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/*
 * Names follow the Prometheus conventions that promtool checks: base
 * units in the name, _total on counters and only there, no total of
 * idle + active (sum() does it), high-water marks as gauges.
 */
static const struct status_prom_family {
	const char	*name;
	const char	*type;
	const char	*help;
} status_prom_families[STATUS_PROM_NMETRICS] = {
	[STATUS_PROM_INFO] = { "fpm_pool_info", "gauge",
	    "The pool and its process manager (pm), always 1" },
	[STATUS_PROM_START_TIME] = { "fpm_start_time_seconds", "gauge",
	    "When the pool started, in seconds since the epoch" },
	[STATUS_PROM_ACCEPTED] = { "fpm_accepted_connections_total",
	    "counter", "Requests accepted by the pool" },
	[STATUS_PROM_LISTEN_QUEUE] = { "fpm_listen_queue", "gauge",
	    "Requests in the queue of pending connections" },
	[STATUS_PROM_LISTEN_QUEUE_MAX] = { "fpm_listen_queue_max", "gauge",
	    "Most requests in the queue of pending connections since the "
	    "pool started" },
	[STATUS_PROM_LISTEN_QUEUE_SIZE] = { "fpm_listen_queue_size", "gauge",
	    "Size of the socket queue of pending connections" },
	[STATUS_PROM_PROCESSES] = { "fpm_processes", "gauge",
	    "Worker processes by state, idle or active" },
	[STATUS_PROM_ACTIVE_MAX] = { "fpm_active_processes_max", "gauge",
	    "Most active processes at once since the pool started" },
	[STATUS_PROM_CHILDREN_REACHED] = { "fpm_max_children_reached_total",
	    "counter", "Times the process manager wanted to start a worker "
	    "beyond the process limit" },
	[STATUS_PROM_SLOW] = { "fpm_slow_requests_total", "counter",
	    "Requests that exceeded the slow request timeout" },
	[STATUS_PROM_RESPONSES] = { "fpm_responses_total", "counter",
	    "Error responses fpm answered itself instead of a worker, by "
	    "HTTP status code" },
	[STATUS_PROM_DURATION] = { "fpm_request_duration_seconds",
	    "histogram", "Time workers took to serve requests" },
	[STATUS_PROM_QUEUE_WAIT] = { "fpm_queue_wait_seconds", "histogram",
	    "Time requests waited for a free worker" },
	[STATUS_PROM_W_STATE] = { "fpm_worker_state", "gauge",
	    "The worker's current state, with value 1" },
	[STATUS_PROM_W_START_TIME] = { "fpm_worker_start_time_seconds",
	    "gauge", "When the worker started, in seconds since the epoch" },
	[STATUS_PROM_W_REQUESTS] = { "fpm_worker_requests_total", "counter",
	    "Requests the worker has served" },
	[STATUS_PROM_W_DURATION] = { "fpm_worker_request_duration_seconds",
	    "gauge", "Duration of the worker's current request, or of its "
	    "last one when idle" },
	[STATUS_PROM_W_CONTENT_LENGTH] = {
	    "fpm_worker_request_content_length_bytes", "gauge",
	    "Content length of the worker's current or last request" },
	[STATUS_PROM_W_CPU] = { "fpm_worker_last_request_cpu_ratio", "gauge",
	    "CPU time over wall time of the worker's last request, 0 unless "
	    "idle" },
	[STATUS_PROM_W_MEMORY] = { "fpm_worker_last_request_memory_bytes",
	    "gauge", "Peak memory of the worker's last request, 0 unless "
	    "idle" },
};

void
status_buf_free(struct status_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

/* Make room for n more bytes plus the NUL; -1 (and err set) on ENOMEM. */
static int
status_reserve(struct status_out *o, size_t n)
{
	struct status_buf	*b = o->b;
	size_t			 want, nsize;
	char			*p;

	if (o->err)
		return (-1);
	if (n > SIZE_MAX - b->len - 1)
		goto nomem;
	want = b->len + n + 1;
	if (want <= b->size)
		return (0);
	nsize = b->size < 256 ? 256 : b->size;
	while (nsize < want)
		nsize = nsize > SIZE_MAX / 2 ? want : nsize * 2;
	if ((p = realloc(b->data, nsize)) == NULL)
		goto nomem;
	b->data = p;
	b->size = nsize;
	return (0);
nomem:
	o->err = 1;
	return (-1);
}

static void
status_put(struct status_out *o, const char *s, size_t n)
{
	if (status_reserve(o, n) == -1)
		return;
	memcpy(o->b->data + o->b->len, s, n);
	o->b->len += n;
	o->b->data[o->b->len] = '\0';
}

static void
status_puts(struct status_out *o, const char *s)
{
	status_put(o, s, strlen(s));
}

static void
status_printf(struct status_out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = 1;
		return;
	}
	if (status_reserve(o, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(o->b->data + o->b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->b->len += (size_t)n;
}

/*
 * Decode one UTF-8 character at s (avail > 0 bytes) as PHP's
 * php_next_utf8_char() does: the code point, or -1 for an invalid
 * sequence.  *adv is how far to move on, valid or not; PHP's rules for
 * skipping a broken sequence are kept so that dropped bytes match.
 */
#define UTF8_LEAD(c)	((c) < 0x80 || ((c) >= 0xc2 && (c) <= 0xf4))
#define UTF8_TRAIL(c)	((c) >= 0x80 && (c) <= 0xbf)
static long
status_utf8_next(const unsigned char *s, size_t avail, size_t *adv)
{
	unsigned long	c = s[0], cp;

	if (c < 0x80) {
		*adv = 1;
		return ((long)c);
	}
	if (c < 0xc2) {
		*adv = 1;
		return (-1);
	}
	if (c < 0xe0) {
		if (avail < 2) {
			*adv = 1;
			return (-1);
		}
		if (!UTF8_TRAIL(s[1])) {
			*adv = UTF8_LEAD(s[1]) ? 1 : 2;
			return (-1);
		}
		*adv = 2;
		return ((long)(((c & 0x1f) << 6) | (s[1] & 0x3f)));
	}
	if (c < 0xf0) {
		if (avail < 3 || !UTF8_TRAIL(s[1]) || !UTF8_TRAIL(s[2])) {
			if (avail < 2 || UTF8_LEAD(s[1]))
				*adv = 1;
			else if (avail < 3 || UTF8_LEAD(s[2]))
				*adv = 2;
			else
				*adv = 3;
			return (-1);
		}
		*adv = 3;
		cp = ((c & 0x0f) << 12) | ((s[1] & 0x3fUL) << 6) |
		    (s[2] & 0x3f);
		if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
			return (-1);	/* overlong or surrogate */
		return ((long)cp);
	}
	if (c < 0xf5) {
		if (avail < 4 || !UTF8_TRAIL(s[1]) || !UTF8_TRAIL(s[2]) ||
		    !UTF8_TRAIL(s[3])) {
			if (avail < 2 || UTF8_LEAD(s[1]))
				*adv = 1;
			else if (avail < 3 || UTF8_LEAD(s[2]))
				*adv = 2;
			else if (avail < 4 || UTF8_LEAD(s[3]))
				*adv = 3;
			else
				*adv = 4;
			return (-1);
		}
		*adv = 4;
		cp = ((c & 0x07) << 18) | ((s[1] & 0x3fUL) << 12) |
		    ((s[2] & 0x3fUL) << 6) | (s[3] & 0x3f);
		if (cp < 0x10000 || cp > 0x10ffff)
			return (-1);
		return ((long)cp);
	}
	*adv = 1;
	return (-1);
}

/*
 * Append s escaped.  JSON is php_json_encode_string() with
 * PHP_JSON_INVALID_UTF8_IGNORE, quotes stripped: '/' becomes "\/", every
 * non-ASCII character a lower-case \uXXXX (surrogate pairs above the BMP).
 * HTML/XML is htmlspecialchars() with ENT_COMPAT and ENT_IGNORE: & " < >
 * become entities, ' stays.  Both drop invalid UTF-8.
 */
static void
status_put_esc(struct status_out *o, const char *s, enum status_esc esc)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, adv, run;
	long			 cp;

	if (esc == STATUS_ESC_NONE) {
		status_puts(o, s);
		return;
	}
	n = strlen(s);
	while (n > 0) {
		/* copy the longest run that needs nothing */
		for (run = 0; run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '&' && p[run] != '<' &&
		    p[run] != '>' && p[run] != '/' && p[run] != '\\'; run++)
			;
		if (run > 0) {
			status_put(o, (const char *)p, run);
			p += run;
			n -= run;
			continue;
		}
		cp = status_utf8_next(p, n, &adv);
		if (cp != -1 && esc == STATUS_ESC_HTML)
			status_esc_html(o, cp, p, adv);
		else if (cp != -1)
			status_esc_json(o, cp, p, adv);
		p += adv;
		n -= adv;
	}
}

/* One character cp, raw its adv bytes, as htmlspecialchars() has it. */
static void
status_esc_html(struct status_out *o, long cp, const unsigned char *raw,
    size_t adv)
{
	switch (cp) {
	case '&':
		status_puts(o, "&amp;");
		break;
	case '"':
		status_puts(o, "&quot;");
		break;
	case '<':
		status_puts(o, "&lt;");
		break;
	case '>':
		status_puts(o, "&gt;");
		break;
	default:
		status_put(o, (const char *)raw, adv);
		break;
	}
}

/* One character cp, raw its adv bytes, as php_json_encode_string() has it. */
static void
status_esc_json(struct status_out *o, long cp, const unsigned char *raw,
    size_t adv)
{
	static const char	 hex[] = "0123456789abcdef";
	/* pairs: a character, and the letter after '\\' that stands for it */
	static const char	 named[] = "\"\"\\\\//\bb\ff\nn\rr\tt";
	const char		*e;
	char			 u[6];

	for (e = named; *e != '\0'; e += 2)
		if (cp == (unsigned char)e[0]) {
			u[0] = '\\';
			u[1] = e[1];
			status_put(o, u, 2);
			return;
		}
	if (cp >= 0x20 && cp < 0x80) {
		status_put(o, (const char *)raw, adv);
		return;
	}
	u[0] = '\\';
	u[1] = 'u';
	if (cp >= 0x10000) {		/* a surrogate pair */
		cp -= 0x10000;
		u[2] = 'd';
		u[3] = hex[8 | ((cp >> 18) & 0x3)];
		u[4] = hex[(cp >> 14) & 0xf];
		u[5] = hex[(cp >> 10) & 0xf];
		status_put(o, u, 6);
		cp = 0xdc00 | (cp & 0x3ff);
	}
	u[2] = hex[(cp >> 12) & 0xf];
	u[3] = hex[(cp >> 8) & 0xf];
	u[4] = hex[(cp >> 4) & 0xf];
	u[5] = hex[cp & 0xf];
	status_put(o, u, 6);
}

/* A string field: empty or NULL prints "-", as PHP-FPM does. */
static void
status_put_field(struct status_out *o, const char *s, enum status_esc esc)
{
	if (s == NULL || *s == '\0')
		status_puts(o, "-");
	else
		status_put_esc(o, s, esc);
}

/* PHP-FPM's "%s%s%s": the URI ('-' if empty), then '?' and the query if any. */
static void
status_put_uri(struct status_out *o, const struct status_proc *pr,
    enum status_esc esc)
{
	status_put_field(o, pr->uri, esc);
	if (pr->query != NULL && *pr->query != '\0') {
		status_puts(o, "?");
		status_put_esc(o, pr->query, esc);
	}
}

/* How a format escapes the strings it shows: JSON, HTML/XML, or not. */
static enum status_esc
status_fmt_esc(enum status_format fmt)
{
	switch (fmt) {
	case STATUS_JSON:
		return (STATUS_ESC_JSON);
	case STATUS_XML:
	case STATUS_HTML:
		return (STATUS_ESC_HTML);
	default:
		return (STATUS_ESC_NONE);
	}
}

/*
 * s escaped, in a string of its own for a printf argument (the caller
 * frees it); NULL with o->err set when memory runs out.
 */
static char *
status_esc_dup(struct status_out *o, const char *s, enum status_esc esc)
{
	struct status_buf	 b = { NULL, 0, 0 };
	struct status_out	 t = { &b, 0 };

	status_put_esc(&t, s, esc);
	if (!t.err && b.data == NULL && (b.data = strdup("")) == NULL)
		t.err = 1;
	if (t.err) {
		status_buf_free(&b);
		o->err = 1;
		return (NULL);
	}
	return (b.data);
}

/*
 * PHP-FPM formats times with strftime "%d/%b/%Y:%H:%M:%S %z" (text, HTML)
 * or "%s" (the others).  The month is spelt here rather than by %b, so
 * that a caller's setlocale(LC_TIME) cannot change the page.
 */
static void
status_fmt_time(char *buf, size_t size, time_t t, enum status_format fmt)
{
	struct tm	tm;
	long		off;
	char		sign;

	if (fmt != STATUS_TEXT && fmt != STATUS_HTML) {
		(void)snprintf(buf, size, "%lld", (long long)t);
		return;
	}
	if (localtime_r(&t, &tm) == NULL) {
		(void)snprintf(buf, size, "%lld", (long long)t);
		return;
	}
	off = tm.tm_gmtoff / 60;
	sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	(void)snprintf(buf, size, "%02d/%s/%d:%02d:%02d:%02d %c%02ld%02ld",
	    tm.tm_mday, status_months[tm.tm_mon % 12], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

/*
 * A field of the page as PHP-FPM names it: the name is the JSON key and
 * the HTML header, and with '-' for ' ' the XML tag; with ':' and padded
 * to 22 columns, the text label, unless label says otherwise.
 */
struct status_field {
	const char	*name;
	const char	*label;		/* text, when not the name */
	int		 quoted;	/* a JSON string */
};

/* The pool part (status_short). */
static const struct status_field status_pool_fields[STATUS_NSHORT] = {
	{ "pool", NULL, 1 }, { "process manager", NULL, 1 },
	{ "start time", NULL, 0 }, { "start since", NULL, 0 },
	{ "accepted conn", NULL, 0 }, { "listen queue", NULL, 0 },
	{ "max listen queue", NULL, 0 }, { "listen queue len", NULL, 0 },
	{ "idle processes", NULL, 0 }, { "active processes", NULL, 0 },
	{ "total processes", NULL, 0 }, { "max active processes", NULL, 0 },
	{ "max children reached", NULL, 0 }, { "slow requests", NULL, 0 }
};

/* A worker, with ?full (status_proc). */
static const struct status_field status_proc_fields[STATUS_NPROC] = {
	{ "pid", NULL, 0 }, { "state", NULL, 1 }, { "start time", NULL, 0 },
	{ "start since", NULL, 0 }, { "requests", NULL, 0 },
	{ "request duration", NULL, 0 }, { "request method", NULL, 1 },
	{ "request uri", "request URI", 1 }, { "content length", NULL, 0 },
	{ "user", NULL, 1 }, { "script", NULL, 1 },
	{ "last request cpu", NULL, 0 }, { "last request memory", NULL, 0 }
};

/*
 * The same fields from "start since" on in PHP-FPM's OpenMetrics text,
 * defects included (GH-9494): HELP and TYPE swapped for
 * phpfpm_listen_queue_length, counters without _total, high-water marks
 * typed as counters.  Exporters parse exactly this.
 */
static const struct {
	const char	*name;		/* after "phpfpm_" */
	const char	*type;
	const char	*help;
} status_om[STATUS_NSHORT] = {
	[3] = { "start_since", "counter",
	    "The number of seconds since FPM has started." },
	[4] = { "accepted_connections", "counter",
	    "The number of requests accepted by the pool." },
	[5] = { "listen_queue", "gauge",
	    "The number of requests in the queue of pending connections." },
	[6] = { "max_listen_queue", "counter",
	    "The maximum number of requests in the queue of pending "
	    "connections since FPM has started." },
	[7] = { "listen_queue_length", "gauge",
	    "The size of the socket queue of pending connections." },
	[8] = { "idle_processes", "gauge", "The number of idle processes." },
	[9] = { "active_processes", "gauge",
	    "The number of active processes." },
	[10] = { "total_processes", "gauge",
	    "The number of idle + active processes." },
	[11] = { "max_active_processes", "counter",
	    "The maximum number of active processes since FPM has started." },
	[12] = { "max_children_reached", "counter",
	    "The number of times, the process limit has been reached, when "
	    "pm tries to start more children (works only for pm 'dynamic' "
	    "and 'ondemand')." },
	[13] = { "slow_requests", "counter",
	    "The number of requests that exceeded your "
	    "'request_slowlog_timeout' value." },
};
#define STATUS_OM_SWAPPED	7	/* phpfpm_listen_queue_length */

/* What goes before the pool part's fields, and after them. */
static const char *const status_short_pre[STATUS_PROMETHEUS + 1] = {
	[STATUS_JSON] = "{",
	[STATUS_XML] = "<?xml version=\"1.0\" ?>\n<status>\n",
	[STATUS_HTML] = "<!DOCTYPE html PUBLIC "
	    "\"-//W3C//DTD XHTML 1.0 Strict//EN\" "
	    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
	    "xml:lang=\"en\" lang=\"en\">\n"
	    "<head><title>PHP-FPM Status Page</title></head>\n"
	    "<body>\n"
	    "<table>\n",
};
static const char *const status_short_post[STATUS_PROMETHEUS + 1] = {
	[STATUS_HTML] = "</table>\n",
	[STATUS_OPENMETRICS] = "# EOF\n",
};
/* PHP-FPM's short_post: the end of a page without the workers. */
static const char *const status_short_end[STATUS_PROMETHEUS + 1] = {
	[STATUS_JSON] = "}",
	[STATUS_XML] = "</status>",
	[STATUS_HTML] = "</body></html>",
};

/* What goes before a worker's fields, and after them. */
static const char *const status_proc_pre[STATUS_PROMETHEUS + 1] = {
	[STATUS_TEXT] = "\n************************\n",
	[STATUS_JSON] = "{",
	[STATUS_XML] = "<process>",
	[STATUS_HTML] = "<tr>",
};
static const char *const status_proc_post[STATUS_PROMETHEUS + 1] = {
	[STATUS_JSON] = "}",
	[STATUS_XML] = "</process>\n",
	[STATUS_HTML] = "</tr>\n",
};

/*
 * Field f, the i-th of the pool part (proc 0) or of a worker (proc 1),
 * its value v already escaped for fmt.  The pool part is one line a field
 * in XML and a row a field in HTML; a worker is one element, one row.
 */
static void
status_field(struct status_out *o, enum status_format fmt, int proc,
    const struct status_field *f, size_t i, const char *v)
{
	const char	*q = f->quoted ? "\"" : "";
	char		 tag[32], *t;

	switch (fmt) {
	case STATUS_TEXT:
		(void)snprintf(tag, sizeof(tag), "%s:",
		    f->label != NULL ? f->label : f->name);
		status_printf(o, "%-22s%s\n", tag, v);
		break;
	case STATUS_JSON:
		status_printf(o, "%s\"%s\":%s%s%s", i > 0 ? "," : "", f->name,
		    q, v, q);
		break;
	case STATUS_XML:
		strlcpy(tag, f->name, sizeof(tag));
		for (t = tag; (t = strchr(t, ' ')) != NULL; t++)
			*t = '-';
		status_printf(o, "<%s>%s</%s>%s", tag, v, tag,
		    proc ? "" : "\n");
		break;
	case STATUS_HTML:
		if (proc)
			status_printf(o, "<td>%s</td>", v);
		else
			status_printf(o, "<tr><th>%s</th><td>%s</td></tr>\n",
			    f->name, v);
		break;
	case STATUS_OPENMETRICS:
	case STATUS_PROMETHEUS:
		break;
	}
}

/* Field i of the pool part in OpenMetrics (none for the first three). */
static void
status_om_field(struct status_out *o, size_t i, const char *v)
{
	if (status_om[i].name == NULL)
		return;		/* the pool, pm and start time: phpfpm_up */
	if (i == STATUS_OM_SWAPPED)
		status_printf(o, "# TYPE phpfpm_%s %s\n# HELP phpfpm_%s %s\n",
		    status_om[i].name, status_om[i].type, status_om[i].name,
		    status_om[i].help);
	else
		status_printf(o, "# HELP phpfpm_%s %s\n# TYPE phpfpm_%s %s\n",
		    status_om[i].name, status_om[i].help, status_om[i].name,
		    status_om[i].type);
	status_printf(o, "phpfpm_%s %s\n", status_om[i].name, v);
}

/* The pool part's figures, as PHP-FPM prints them, into v[3..]. */
static void
status_short_values(char v[STATUS_NSHORT][24], const struct status_pool *p)
{
	(void)snprintf(v[3], sizeof(v[3]), "%lu", p->start_since);
	(void)snprintf(v[4], sizeof(v[4]), "%lu", p->accepted_conn);
	(void)snprintf(v[5], sizeof(v[5]), "%d", p->listen_queue);
	(void)snprintf(v[6], sizeof(v[6]), "%d", p->max_listen_queue);
	(void)snprintf(v[7], sizeof(v[7]), "%u", p->listen_queue_len);
	(void)snprintf(v[8], sizeof(v[8]), "%d", p->idle);
	(void)snprintf(v[9], sizeof(v[9]), "%d", p->active);
	(void)snprintf(v[10], sizeof(v[10]), "%d", p->idle + p->active);
	(void)snprintf(v[11], sizeof(v[11]), "%d", p->max_active);
	(void)snprintf(v[12], sizeof(v[12]), "%u", p->max_children_reached);
	(void)snprintf(v[13], sizeof(v[13]), "%lu", p->slow_requests);
}

/* The pool part, with PHP-FPM's short_post when !full. */
static void
status_short(struct status_out *o, const struct status_pool *p,
    enum status_format fmt, int full)
{
	char		 tbuf[64], num[STATUS_NSHORT][24];
	char		*epool = NULL, *epm = NULL;
	const char	*pool = p->pool != NULL ? p->pool : "";
	const char	*pm = p->pm != NULL ? p->pm : "";
	const char	*v;
	size_t		 i;

	if (fmt == STATUS_PROMETHEUS)
		return;		/* status_prom() */
	/*
	 * PHP-FPM prints the pool's name and pm raw; a name with a quote
	 * would break the JSON, so the structured formats escape them.
	 */
	if (status_fmt_esc(fmt) != STATUS_ESC_NONE) {
		if ((epool = status_esc_dup(o, pool, status_fmt_esc(fmt))) ==
		    NULL || (epm = status_esc_dup(o, pm,
		    status_fmt_esc(fmt))) == NULL)
			goto done;
		pool = epool;
		pm = epm;
	}
	status_fmt_time(tbuf, sizeof(tbuf), p->start_time, fmt);
	status_short_values(num, p);
	if (fmt == STATUS_OPENMETRICS)
		status_printf(o, "# HELP phpfpm_up Could pool %s using a %s PM "
		    "on PHP-FPM be reached?\n"
		    "# TYPE phpfpm_up gauge\n"
		    "phpfpm_up 1\n", pool, pm);
	else if (status_short_pre[fmt] != NULL)
		status_puts(o, status_short_pre[fmt]);
	for (i = 0; i < STATUS_NSHORT; i++) {
		v = i == 0 ? pool : i == 1 ? pm : i == 2 ? tbuf : num[i];
		if (fmt == STATUS_OPENMETRICS)
			status_om_field(o, i, v);
		else
			status_field(o, fmt, 0, &status_pool_fields[i], i, v);
	}
	if (status_short_post[fmt] != NULL)
		status_puts(o, status_short_post[fmt]);
	if (!full && status_short_end[fmt] != NULL)
		status_puts(o, status_short_end[fmt]);
done:
	free(epool);
	free(epm);
}

/*
 * One worker.  PHP-FPM escapes the URI, query and script in the
 * structured formats (8.2.36; older releases only the query) and never
 * escapes state, method or user, nor anything in text.  We escape the
 * method and user too: they are a client's REQUEST_METHOD and
 * REMOTE_USER (nginx passes any Basic credentials' user name), which
 * would otherwise break the JSON and put markup in the HTML page.
 */
static void
status_proc(struct status_out *o, const struct status_proc *pr,
    enum status_format fmt)
{
	struct status_buf	 b = { NULL, 0, 0 };
	struct status_out	 t = { &b, 0 };
	enum status_esc		 esc = status_fmt_esc(fmt);
	char			 tbuf[64], num[STATUS_NPROC][24], cpu[320];
	const char		*v[STATUS_NPROC];
	size_t			 off[4], i;

	if (fmt == STATUS_OPENMETRICS || fmt == STATUS_PROMETHEUS)
		return;		/* no per-process metrics; status_prom() */
	/* what a client sent, escaped for fmt, each string NUL-ended in b */
	off[0] = 0;
	status_put_field(&t, pr->method, esc);
	status_put(&t, "", 1);
	off[1] = b.len;
	status_put_uri(&t, pr, esc);
	status_put(&t, "", 1);
	off[2] = b.len;
	status_put_field(&t, pr->user, esc);
	status_put(&t, "", 1);
	off[3] = b.len;
	status_put_field(&t, pr->script, esc);
	status_put(&t, "", 1);
	if (t.err) {
		o->err = 1;
		status_buf_free(&b);
		return;
	}
	status_fmt_time(tbuf, sizeof(tbuf), pr->start_time, fmt);
	(void)snprintf(num[0], sizeof(num[0]), "%d", (int)pr->pid);
	(void)snprintf(num[3], sizeof(num[3]), "%lu", pr->start_since);
	(void)snprintf(num[4], sizeof(num[4]), "%lu", pr->requests);
	(void)snprintf(num[5], sizeof(num[5]), "%llu",
	    pr->request_duration_us);
	(void)snprintf(num[8], sizeof(num[8]), "%llu", pr->content_length);
	(void)snprintf(cpu, sizeof(cpu), "%.2f", pr->last_cpu);
	(void)snprintf(num[12], sizeof(num[12]), "%llu", pr->last_memory);
	for (i = 0; i < STATUS_NPROC; i++)
		v[i] = num[i];
	v[1] = pr->state != NULL ? pr->state : "(null)";
	v[2] = tbuf;
	v[6] = b.data + off[0];
	v[7] = b.data + off[1];
	v[9] = b.data + off[2];
	v[10] = b.data + off[3];
	v[11] = cpu;
	status_puts(o, status_proc_pre[fmt]);
	for (i = 0; i < STATUS_NPROC; i++)
		status_field(o, fmt, 1, &status_proc_fields[i], i, v[i]);
	if (status_proc_post[fmt] != NULL)
		status_puts(o, status_proc_post[fmt]);
	status_buf_free(&b);
}

/* A whole page: short part, then full_pre, the workers, full_post. */
static void
status_page(struct status_out *o, const struct status_pool *p,
    enum status_format fmt, int full)
{
	size_t	i;

	if (fmt == STATUS_OPENMETRICS)
		full = 0;
	status_short(o, p, fmt, full);
	if (!full)
		return;
	switch (fmt) {
	case STATUS_JSON:
		status_puts(o, ", \"processes\":[");
		break;
	case STATUS_XML:
		status_puts(o, "<processes>\n");
		break;
	case STATUS_HTML:
		status_puts(o, "<table border=\"1\">\n<tr>");
		for (i = 0; i < STATUS_NPROC; i++)
			status_printf(o, "<th>%s</th>",
			    status_proc_fields[i].name);
		status_puts(o, "</tr>\n");
		break;
	default:
		break;
	}
	for (i = 0; i < p->nprocs; i++) {
		if (i > 0 && fmt == STATUS_JSON)
			status_puts(o, ",");
		status_proc(o, &p->procs[i], fmt);
	}
	switch (fmt) {
	case STATUS_JSON:
		status_puts(o, "]}");
		break;
	case STATUS_XML:
		status_puts(o, "</processes>\n</status>");
		break;
	case STATUS_HTML:
		status_puts(o, "</table></body></html>");
		break;
	default:
		break;
	}
}

/*
 * A label value as the exposition format wants it: backslash, '"' and
 * newline escaped; invalid UTF-8 dropped, since Prometheus rejects it.
 */
static void
status_put_label(struct status_out *o, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), run, adv;

	while (n > 0) {
		for (run = 0; run < n && p[run] < 0x80 && p[run] != '\\' &&
		    p[run] != '"' && p[run] != '\n'; run++)
			;
		if (run > 0) {
			status_put(o, (const char *)p, run);
			p += run;
			n -= run;
			continue;
		}
		adv = 1;
		if (*p == '\\')
			status_puts(o, "\\\\");
		else if (*p == '"')
			status_puts(o, "\\\"");
		else if (*p == '\n')
			status_puts(o, "\\n");
		else if (status_utf8_next(p, n, &adv) != -1)
			status_put(o, (const char *)p, adv);
		p += adv;
		n -= adv;
	}
}

/*
 * A sample value or le bound: the shortest of %.15g and %.17g that reads
 * back the same, and Prometheus's spelling of NaN and the infinities.
 * The caller has switched to the C locale, for the '.'.
 */
static void
status_prom_double(struct status_out *o, double v)
{
	char	buf[32];

	if (isnan(v)) {
		status_puts(o, "NaN");
		return;
	}
	if (isinf(v)) {
		status_puts(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	(void)snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		(void)snprintf(buf, sizeof(buf), "%.17g", v);
	status_puts(o, buf);
}

/* Start a sample up to its labels: pool="..." and, for a worker, pid. */
static void
status_prom_start(struct status_out *o, const char *name,
    const char *suffix, const struct status_pool *p,
    const struct status_proc *pr)
{
	status_printf(o, "%s%s{pool=\"", name, suffix);
	status_put_label(o, p->pool != NULL ? p->pool : "");
	status_puts(o, "\"");
	if (pr != NULL)
		status_printf(o, ",pid=\"%d\"", (int)pr->pid);
}

/* One pool's histogram, the per-bucket counts summed up into le buckets. */
static void
status_prom_hist(struct status_out *o, const char *name,
    const struct status_pool *p, const struct status_hist *h)
{
	unsigned long	cum = 0;
	size_t		i;

	for (i = 0; i <= h->n; i++) {
		if (h->count != NULL)
			cum += h->count[i];
		status_prom_start(o, name, "_bucket", p, NULL);
		status_puts(o, ",le=\"");
		if (i < h->n)
			status_prom_double(o, h->le[i]);
		else
			status_puts(o, "+Inf");
		status_printf(o, "\"} %lu\n", cum);
	}
	status_prom_start(o, name, "_sum", p, NULL);
	status_puts(o, "} ");
	status_prom_double(o, h->sum);
	status_puts(o, "\n");
	status_prom_start(o, name, "_count", p, NULL);
	status_printf(o, "} %lu\n", cum);
}

/* The samples of metric m for pool p, or for its worker pr. */
static void
status_prom_sample(struct status_out *o, enum status_prom_metric m,
    const struct status_pool *p, const struct status_proc *pr)
{
	static const int	 codes[] = { 502, 503, 504 };
	const char		*name = status_prom_families[m].name;
	unsigned long		 n;
	size_t			 i;

	switch (m) {
	case STATUS_PROM_INFO:
		status_prom_start(o, name, "", p, NULL);
		status_puts(o, ",pm=\"");
		status_put_label(o, p->pm != NULL ? p->pm : "");
		status_puts(o, "\"} 1\n");
		break;
	case STATUS_PROM_START_TIME:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %lld\n", (long long)p->start_time);
		break;
	case STATUS_PROM_ACCEPTED:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %lu\n", p->accepted_conn);
		break;
	case STATUS_PROM_LISTEN_QUEUE:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %d\n", p->listen_queue);
		break;
	case STATUS_PROM_LISTEN_QUEUE_MAX:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %d\n", p->max_listen_queue);
		break;
	case STATUS_PROM_LISTEN_QUEUE_SIZE:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %u\n", p->listen_queue_len);
		break;
	case STATUS_PROM_PROCESSES:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, ",state=\"idle\"} %d\n", p->idle);
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, ",state=\"active\"} %d\n", p->active);
		break;
	case STATUS_PROM_ACTIVE_MAX:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %d\n", p->max_active);
		break;
	case STATUS_PROM_CHILDREN_REACHED:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %u\n", p->max_children_reached);
		break;
	case STATUS_PROM_SLOW:
		status_prom_start(o, name, "", p, NULL);
		status_printf(o, "} %lu\n", p->slow_requests);
		break;
	case STATUS_PROM_RESPONSES:
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			n = codes[i] == 502 ? p->responses_502 :
			    codes[i] == 503 ? p->responses_503 :
			    p->responses_504;
			status_prom_start(o, name, "", p, NULL);
			status_printf(o, ",code=\"%d\"} %lu\n", codes[i], n);
		}
		break;
	case STATUS_PROM_DURATION:
		status_prom_hist(o, name, p, &p->request_duration);
		break;
	case STATUS_PROM_QUEUE_WAIT:
		status_prom_hist(o, name, p, &p->queue_wait);
		break;
	case STATUS_PROM_W_STATE:
		/* NULL: "(null)" as in the other formats, not started yet */
		status_prom_start(o, name, "", p, pr);
		status_puts(o, ",state=\"");
		status_put_label(o, pr->state != NULL ? pr->state : "(null)");
		status_puts(o, "\"} 1\n");
		break;
	case STATUS_PROM_W_START_TIME:
		status_prom_start(o, name, "", p, pr);
		status_printf(o, "} %lld\n", (long long)pr->start_time);
		break;
	case STATUS_PROM_W_REQUESTS:
		status_prom_start(o, name, "", p, pr);
		status_printf(o, "} %lu\n", pr->requests);
		break;
	case STATUS_PROM_W_DURATION:
		status_prom_start(o, name, "", p, pr);
		status_puts(o, "} ");
		status_prom_double(o, (double)pr->request_duration_us / 1e6);
		status_puts(o, "\n");
		break;
	case STATUS_PROM_W_CONTENT_LENGTH:
		status_prom_start(o, name, "", p, pr);
		status_printf(o, "} %llu\n", pr->content_length);
		break;
	case STATUS_PROM_W_CPU:
		status_prom_start(o, name, "", p, pr);
		status_puts(o, "} ");
		status_prom_double(o, pr->last_cpu / 100);
		status_puts(o, "\n");
		break;
	case STATUS_PROM_W_MEMORY:
		status_prom_start(o, name, "", p, pr);
		status_printf(o, "} %llu\n", pr->last_memory);
		break;
	case STATUS_PROM_NMETRICS:
		break;
	}
}

/*
 * The Prometheus exposition of all pools: family by family, each with
 * HELP and TYPE once and then its samples for every pool, since the
 * format wants a family's samples together.  Worker families appear only
 * if full and there is a worker.  Numbers are printed in the C locale
 * (uselocale is per thread; newlocale of "C" allocates nothing in glibc).
 */
static void
status_prom(struct status_out *o, const struct status_pool *pools,
    size_t npools, int full)
{
	const struct status_prom_family	*f;
	locale_t			 c, old;
	size_t				 i, j, nprocs = 0;
	int				 m;

	if (npools == 0)
		return;
	for (i = 0; i < npools; i++)
		nprocs += pools[i].nprocs;
	if ((c = newlocale(LC_ALL_MASK, "C", (locale_t)0)) == (locale_t)0) {
		o->err = 1;
		return;
	}
	old = uselocale(c);
	for (m = 0; m < STATUS_PROM_NMETRICS; m++) {
		if (m >= STATUS_PROM_WORKER && (!full || nprocs == 0))
			break;
		f = &status_prom_families[m];
		status_printf(o, "# HELP %s %s\n# TYPE %s %s\n", f->name,
		    f->help, f->name, f->type);
		for (i = 0; i < npools; i++) {
			if (m < STATUS_PROM_WORKER) {
				status_prom_sample(o, m, &pools[i], NULL);
				continue;
			}
			for (j = 0; j < pools[i].nprocs; j++)
				status_prom_sample(o, m, &pools[i],
				    &pools[i].procs[j]);
		}
	}
	(void)uselocale(old);
	freelocale(c);
}

/* Undo a failed output back to len; 0 or -1 with errno ENOMEM. */
static int
status_finish(struct status_out *o, size_t len)
{
	if (!o->err)
		return (0);
	o->b->len = len;
	if (o->b->data != NULL)
		o->b->data[len] = '\0';
	errno = ENOMEM;
	return (-1);
}

int
status_render(struct status_buf *b, const struct status_pool *p,
    enum status_format fmt, int full)
{
	struct status_out	o = { b, 0 };
	size_t			len = b->len;

	if (fmt < STATUS_TEXT || fmt > STATUS_PROMETHEUS) {
		errno = EINVAL;
		return (-1);
	}
	if (fmt == STATUS_PROMETHEUS)
		status_prom(&o, p, 1, full);
	else
		status_page(&o, p, fmt, full);
	return (status_finish(&o, len));
}

int
status_render_multi(struct status_buf *b, const struct status_pool *pools,
    size_t npools, enum status_format fmt, int full)
{
	struct status_out	o = { b, 0 };
	size_t			len = b->len, i;

	if (fmt != STATUS_TEXT && fmt != STATUS_JSON &&
	    fmt != STATUS_PROMETHEUS) {
		errno = EINVAL;
		return (-1);
	}
	if (fmt == STATUS_PROMETHEUS) {
		status_prom(&o, pools, npools, full);
		return (status_finish(&o, len));
	}
	if (fmt == STATUS_JSON)
		status_puts(&o, "[");
	for (i = 0; i < npools; i++) {
		if (i > 0 && fmt == STATUS_JSON)
			status_puts(&o, ",");
		else if (i > 0)
			status_puts(&o, "\n");	/* text: a blank line apart */
		status_page(&o, &pools[i], fmt, full);
	}
	if (fmt == STATUS_JSON)
		status_puts(&o, "]");
	return (status_finish(&o, len));
}

const char *
status_content_type(enum status_format fmt)
{
	/* PHP appends ";charset=UTF-8" to the text types only. */
	switch (fmt) {
	case STATUS_JSON:
		return ("application/json");
	case STATUS_XML:
		return ("text/xml;charset=UTF-8");
	case STATUS_HTML:
		return ("text/html;charset=UTF-8");
	case STATUS_OPENMETRICS:
		return ("application/openmetrics-text; version=1.0.0; "
		    "charset=utf-8");
	case STATUS_PROMETHEUS:
		return ("text/plain; version=0.0.4; charset=utf-8");
	case STATUS_TEXT:
	default:
		return ("text/plain;charset=UTF-8");
	}
}

int
status_headers(struct status_buf *b, enum status_format fmt)
{
	struct status_out	 o = { b, 0 };
	size_t			 len = b->len;
	const char		*name;

	/*
	 * When PHP adds the charset it rebuilds the header as
	 * "Content-type: "; other types keep fpm_status.c's spelling.
	 */
	name = (fmt == STATUS_JSON || fmt == STATUS_OPENMETRICS ||
	    fmt == STATUS_PROMETHEUS) ? "Content-Type" : "Content-type";
	status_printf(&o, "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
	    "%s: %s\r\n\r\n", name, status_content_type(fmt));
	return (status_finish(&o, len));
}

/* One byte of php_url_decode() from *s (< end): '+' is a space, %XX a byte. */
static int
status_url_next(const char **s, const char *end)
{
	const char	*p = *s;
	int		 hi, lo;

	if (*p == '+') {
		*s = p + 1;
		return (' ');
	}
	if (*p == '%' && end - p >= 3 && isxdigit((unsigned char)p[1]) &&
	    isxdigit((unsigned char)p[2])) {
		hi = isdigit((unsigned char)p[1]) ? p[1] - '0' :
		    tolower((unsigned char)p[1]) - 'a' + 10;
		lo = isdigit((unsigned char)p[2]) ? p[2] - '0' :
		    tolower((unsigned char)p[2]) - 'a' + 10;
		*s = p + 3;
		return (hi << 4 | lo);
	}
	*s = p + 1;
	return ((unsigned char)*p);
}

/*
 * PHP's key test (fpm_php_is_key_in_table): strncmp(key, name, keylen),
 * i.e. the registered key is a prefix of the name.  Keys here are never
 * empty: PHP drops those.
 */
static int
status_key_matches(const char *key, size_t keylen, const char *name)
{
	return (keylen <= strlen(name) && strncmp(key, name, keylen) == 0);
}

/*
 * Rebuild the keys of $_GET as PHP does: split on '&' (empty pieces
 * skipped), cut at '=', url-decode ('+' is a space), cut at a NUL, drop
 * leading spaces, keep the base of "name[...]"; a name that PHP mangles
 * (' ', '.', an unclosed '[' turn into '_') can match no format name,
 * so it is simply not counted.
 */
void
status_parse_query(const char *query, enum status_format *fmt, int *full)
{
	char		 key[64];
	const char	*s, *end, *eq;
	size_t		 klen, nvars = 0;
	int		 bad, c, html = 0, xml = 0, json = 0, om = 0, prom = 0;

	*full = 0;
	s = query != NULL ? query : "";
	while (*s != '\0') {
		if (*s == '&') {
			s++;
			continue;
		}
		end = strchr(s, '&');
		if (end == NULL)
			end = s + strlen(s);
		if (++nvars > STATUS_MAX_INPUT_VARS)
			break;
		eq = memchr(s, '=', (size_t)(end - s));
		if (eq == NULL)
			eq = end;
		/* decode the key; only its first sizeof(key) bytes matter */
		klen = 0;
		bad = 0;
		while (s < eq) {
			if ((c = status_url_next(&s, eq)) == '\0')
				break;
			if (c == ' ' && klen == 0)
				continue;	/* leading spaces */
			if (c == '[') {
				/* "name[...]" registers name; else mangled */
				bad = 1;
				while (s < eq)
					if (status_url_next(&s, eq) == ']') {
						bad = 0;
						break;
					}
				break;
			}
			if (c == ' ' || c == '.' || klen == sizeof(key))
				bad = 1;
			else
				key[klen++] = (char)c;
		}
		s = end;
		if (bad || klen == 0)
			continue;
		html |= status_key_matches(key, klen, "html");
		xml |= status_key_matches(key, klen, "xml");
		json |= status_key_matches(key, klen, "json");
		om |= status_key_matches(key, klen, "openmetrics");
		prom |= status_key_matches(key, klen, "prometheus");
		*full |= status_key_matches(key, klen, "full");
	}
	if (html)
		*fmt = STATUS_HTML;
	else if (xml)
		*fmt = STATUS_XML;
	else if (json)
		*fmt = STATUS_JSON;
	else if (om)
		*fmt = STATUS_OPENMETRICS;
	else if (prom)
		*fmt = STATUS_PROMETHEUS;
	else
		*fmt = STATUS_TEXT;
}
