/* SPDX-License-Identifier: ISC */
/*
 * fpm-status: print the status of fpm-supervise's pools, as PHP-FPM's
 * status page does, once or as a live view (--watch).
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <popt.h>

#include "libcommon/ctl.h"
#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"
#include "libcommon/parse.h"

#define REQUEST_TIMEOUT_MS	10000
#define MAXPOOLS		256
#define MAXPROCS		4096
#define FIXEDW			58	/* pid to method, with blanks */

static char	*opt_socket, *opt_config, *opt_pidfile, *opt_pool, *opt_format;
static char	*opt_watch, *opt_count_s;
static int	 opt_full;

static struct poptOption options[] = {
	{ "socket", 's', POPT_ARG_STRING, &opt_socket, 0,
	    "ask the control socket PATH", "PATH" },
	{ "fpm-config", 'y', POPT_ARG_STRING, &opt_config, 0,
	    "find the control socket in the configuration FILE; only its "
	    "supervisor may answer", "FILE" },
	{ "pid", 'P', POPT_ARG_STRING, &opt_pidfile, 0,
	    "the supervisor's pidfile: its socket is beside it; only its "
	    "supervisor may answer", "FILE" },
	{ "pool", 'p', POPT_ARG_STRING, &opt_pool, 0,
	    "show the pool NAME only (default: every pool)", "NAME" },
	{ "full", 'f', POPT_ARG_NONE, &opt_full, 0,
	    "show every worker too", NULL },
	{ "format", 'F', POPT_ARG_STRING, &opt_format, 0,
	    "text, json, xml, html, openmetrics or prometheus (default text)",
	    "FMT" },
	{ "watch", 'w', POPT_ARG_STRING, &opt_watch, 0,
	    "a live view of the pools and workers, refreshed every DURATION",
	    "DURATION" },
	{ "count", 'n', POPT_ARG_STRING, &opt_count_s, 0,
	    "with --watch: stop after N views", "N" },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static const char *const formats[] = {
	"text", "json", "xml", "html", "openmetrics", "prometheus", NULL
};

/*
 * The full text page, parsed in place: PHP-FPM's "key: value" lines, a
 * pool's block (starting at "pool:") then one block per worker, each after
 * a line of '*'.  Values point into the reply; missing ones are NULL.
 */
enum pool_key {
	PK_POOL, PK_PM, PK_ACCEPTED, PK_QUEUE, PK_MAXQUEUE, PK_IDLE,
	PK_ACTIVE, PK_TOTAL, PK_MAXCHILDREN, PK_SLOW, PK_NKEYS
};
static const char *const pool_keys[PK_NKEYS] = {
	"pool", "process manager", "accepted conn", "listen queue",
	"max listen queue", "idle processes", "active processes",
	"total processes", "max children reached", "slow requests"
};

enum proc_key {
	WK_PID, WK_STATE, WK_REQUESTS, WK_DURATION, WK_METHOD, WK_URI,
	WK_SCRIPT, WK_CPU, WK_MEMORY, WK_NKEYS
};
static const char *const proc_keys[WK_NKEYS] = {
	"pid", "state", "requests", "request duration", "request method",
	"request URI", "script", "last request cpu", "last request memory"
};

/*
 * A worker and a pool as the view shows them: the page's values, and what
 * the view works out from two refreshes (rate and cpu, in per second and
 * percent of a CPU; -1 unknown) and the "workers" answer (rss, in bytes;
 * -1 unknown).
 */
struct wproc {
	const char		*v[WK_NKEYS];
	pid_t			 pid;
	unsigned long long	 requests, cpu_ms;
	int			 counted;	/* pid and requests read */
	double			 rate, cpu;
	long long		 rss;
};

struct wpool {
	const char		*v[PK_NKEYS];
	struct wproc		*procs;
	size_t			 nprocs;
	unsigned long long	 accepted;
	int			 counted;	/* accepted read */
	double			 rate, cpu;
	long long		 rss;
};

struct view {
	struct wpool	 pools[MAXPOOLS];
	size_t		 npools;
	struct wproc	 procs[MAXPROCS];
	size_t		 nprocs;
	size_t		 dropped;	/* workers beyond MAXPROCS */
	char		*reply;		/* the page the values point into */
	char		*error;		/* why there is no page, or NULL */
	int64_t		 when;		/* monotonic ms of the page */
};

/* A worker in the "workers" answer. */
struct usage {
	pid_t			 pid;
	unsigned long long	 cpu_ms, rss;
};

/* What the previous refresh counted, for the rates. */
struct prev_pool {
	char			*name;
	unsigned long long	 accepted;
};

struct prev_proc {
	pid_t			 pid;
	unsigned long long	 requests, cpu_ms;
	int			 cpu_known;
};

static struct {
	struct prev_pool	 pools[MAXPOOLS];
	size_t			 npools;
	struct prev_proc	 procs[MAXPROCS];
	size_t			 nprocs;
	int64_t			 when;		/* -1: no previous refresh */
} prev = { .when = -1 };

static char		 sockpath[PATH_MAX];
static int		 tty;		/* stdout is a terminal */
static struct termios	 saved_tio;
static int		 tio_saved;
static struct view	 view;
static struct usage	 usage[MAXPROCS];
static size_t		 nusage;
static long long	 opt_count;	/* --count: views left; 0: no end */
static int		 top;		/* the first body line shown */
static int		 page = 1;	/* body lines that fit, as last drawn */
static char		 out[1024];	/* the view's line being built */
static size_t		 outlen;
static size_t		 outcols = sizeof(out);	/* the terminal's width */

static int	 status_get(const char *, char **, char **);
static void	 view_parse(struct view *, char *);
static int	 num(const char *, unsigned long long *);
static int	 pid_cmp(const void *, const void *);
static void	 usage_parse(char *);
static const struct usage *usage_find(pid_t);
static const struct prev_proc *prev_find(pid_t);
static void	 view_figures(struct view *);
static void	 prev_keep(const struct view *);
static void	 term_size(int *, int *);
static void	 out_putc(int);
static void	 out_line(void);
static void	 put_clipped(const char *, int);
static void	 put_tail(const char *, int);
static const char *str_or(const char *, const char *);
static const char *state_short(const char *);
static void	 fmt_duration(char *, size_t, const char *);
static void	 fmt_rate(char *, size_t, double);
static void	 fmt_cpu(char *, size_t, double);
static void	 fmt_bytes(char *, size_t, long long);
static void	 pool_line(char *, size_t, const struct wpool *, int);
static int	 body_lines(const struct view *);
static void	 view_print(const struct view *, int);
static void	 tty_restore(void);
static void	 watch_fetch(const char *);
static int	 watch_key(const char *, size_t);
static int	 watch(int);
#ifdef FPM_FUZZ
void		 fpm_status_fuzz_watch(const char *, int);
#endif

/*
 * Ask for line; 0 with the malloc'd reply in *reply and the body in *body,
 * or the exit code with the reason in *body (a static or reply string).
 */
static int
status_get(const char *line, char **reply, char **body)
{
	static char	 why[CTL_ID_MAX * 2 + 256];
	char		*msg;
	int		 code;

	*reply = NULL;
	if (ctl_identity_check(sockpath, ctl_client_expected(opt_socket,
	    opt_config, opt_pidfile), opt_pidfile, REQUEST_TIMEOUT_MS, &code,
	    why, sizeof(why)) == -1 &&
	    !(code == FPM_EXIT_TEMP && errno != EPROTO)) {
		*body = why;
		return (code);
	}
	/* could not be asked: the request below says why */
	if (ctl_request(sockpath, line, REQUEST_TIMEOUT_MS, reply) == -1) {
		snprintf(why, sizeof(why), "unable to %s %s: %s",
		    errno == ENOENT || errno == ECONNREFUSED ?
		    "connect to" : "talk to", sockpath, strerror(errno));
		*body = why;
		return (errno == EACCES ? FPM_EXIT_USAGE : FPM_EXIT_TEMP);
	}
	if (ctl_reply_parse(*reply, &code, &msg, body) == -1) {
		snprintf(why, sizeof(why), "bad reply from %s", sockpath);
		*body = why;
		return (FPM_EXIT_TEMP);
	}
	if (code != 0)
		*body = msg;
	return (code);
}

static void
view_parse(struct view *v, char *page_)
{
	struct wpool	*pool = NULL;
	struct wproc	*proc = NULL;
	char		*line, *next, *val;
	size_t		 i;

	v->npools = v->nprocs = v->dropped = 0;
	for (line = page_; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '*') {		/* a worker begins */
			proc = NULL;
			if (pool == NULL)
				continue;
			if (v->nprocs == MAXPROCS) {
				v->dropped++;
				continue;
			}
			proc = &v->procs[v->nprocs++];
			memset(proc, 0, sizeof(*proc));
			pool->nprocs++;
			continue;
		}
		if ((val = strchr(line, ':')) == NULL)
			continue;
		*val++ = '\0';
		val += strspn(val, " ");
		if (strcmp(line, "pool") == 0) {	/* a pool begins */
			proc = NULL;
			if (v->npools == MAXPOOLS) {
				pool = NULL;
				continue;
			}
			pool = &v->pools[v->npools++];
			memset(pool, 0, sizeof(*pool));
			pool->procs = &v->procs[v->nprocs];
		}
		if (pool == NULL)
			continue;
		if (proc != NULL) {
			for (i = 0; i < WK_NKEYS; i++)
				if (strcmp(line, proc_keys[i]) == 0)
					proc->v[i] = val;
		} else if (pool->nprocs == 0) {
			for (i = 0; i < PK_NKEYS; i++)
				if (strcmp(line, pool_keys[i]) == 0)
					pool->v[i] = val;
		}
	}
}

/* A decimal counter from the page: 0, or -1 when it is not one. */
static int
num(const char *s, unsigned long long *v)
{
	char	*end;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0' ? -1 : 0);
}

static int
pid_cmp(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * The "workers" answer's body, "pool pid cpu_ms rss" lines (fpm-control(7)),
 * into usage[], sorted by pid.  The pool name may hold anything: the
 * fields are taken from the end.  Lines of another shape, and "-" for a
 * figure /proc did not give, are left out.
 */
static void
usage_parse(char *body)
{
	struct usage		 u;
	unsigned long long	 v[3];
	char			*line, *next, *f;
	int			 i;

	nusage = 0;
	for (line = body; line != NULL && *line != '\0' && nusage < MAXPROCS;
	    line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (i = 2; i >= 0; i--) {
			if ((f = strrchr(line, ' ')) == NULL ||
			    num(f + 1, &v[i]) == -1)
				break;
			*f = '\0';
		}
		if (i >= 0 || v[0] == 0 || v[0] > INT_MAX || v[2] > LLONG_MAX)
			continue;
		u.pid = (pid_t)v[0];
		u.cpu_ms = v[1];
		u.rss = v[2];
		usage[nusage++] = u;
	}
	qsort(usage, nusage, sizeof(usage[0]), pid_cmp);
}

static const struct usage *
usage_find(pid_t pid)
{
	return (bsearch(&pid, usage, nusage, sizeof(usage[0]), pid_cmp));
}

static const struct prev_proc *
prev_find(pid_t pid)
{
	return (bsearch(&pid, prev.procs, prev.nprocs, sizeof(prev.procs[0]),
	    pid_cmp));
}

/*
 * The figures of v's pools and workers: request rates from the counters'
 * growth since the previous refresh (by pool name, by worker pid), CPU
 * from the growth of each worker's CPU time, memory from its resident
 * set.  A worker or pool seen for the first time, or whose counter went
 * back (a pool restarted by a reload), has no rate yet.  A pool's CPU
 * and memory are its workers' sums.
 */
static void
view_figures(struct view *v)
{
	const struct usage	*u;
	const struct prev_proc	*pp;
	struct wpool		*p;
	struct wproc		*w;
	unsigned long long	 n;
	double			 secs;
	size_t			 i, j, k;

	secs = prev.when < 0 ? 0 : (double)(v->when - prev.when) / 1000;
	for (i = 0; i < v->npools; i++) {
		p = &v->pools[i];
		p->rate = p->cpu = -1;
		p->rss = -1;
		p->counted = num(p->v[PK_ACCEPTED], &p->accepted) == 0;
		for (k = 0; secs > 0 && p->counted && p->v[PK_POOL] != NULL &&
		    k < prev.npools; k++)
			if (strcmp(prev.pools[k].name, p->v[PK_POOL]) == 0 &&
			    p->accepted >= prev.pools[k].accepted)
				p->rate = (double)(p->accepted -
				    prev.pools[k].accepted) / secs;
		for (j = 0; j < p->nprocs; j++) {
			w = &p->procs[j];
			w->rate = w->cpu = -1;
			w->rss = -1;
			w->counted = 0;
			if (num(w->v[WK_PID], &n) == -1 || n == 0 ||
			    n > INT_MAX)
				continue;
			w->pid = (pid_t)n;
			w->counted = num(w->v[WK_REQUESTS], &w->requests) == 0;
			pp = secs > 0 ? prev_find(w->pid) : NULL;
			if (pp != NULL && w->counted &&
			    w->requests >= pp->requests)
				w->rate = (double)(w->requests - pp->requests) /
				    secs;
			if ((u = usage_find(w->pid)) == NULL)
				continue;
			w->cpu_ms = u->cpu_ms;
			w->rss = (long long)u->rss;
			p->rss = (p->rss < 0 ? 0 : p->rss) + w->rss;
			if (pp != NULL && pp->cpu_known &&
			    w->cpu_ms >= pp->cpu_ms) {
				w->cpu = (double)(w->cpu_ms - pp->cpu_ms) /
				    10 / secs;
				p->cpu = (p->cpu < 0 ? 0 : p->cpu) + w->cpu;
			}
		}
	}
}

/* Remember v's counters for the next refresh's rates. */
static void
prev_keep(const struct view *v)
{
	const struct wproc	*w;
	struct prev_proc	*pp;
	size_t			 i;

	for (i = 0; i < prev.npools; i++)
		free(prev.pools[i].name);
	prev.npools = prev.nprocs = 0;
	for (i = 0; i < v->npools; i++) {
		if (!v->pools[i].counted || v->pools[i].v[PK_POOL] == NULL ||
		    (prev.pools[prev.npools].name =
		    strdup(v->pools[i].v[PK_POOL])) == NULL)
			continue;
		prev.pools[prev.npools++].accepted = v->pools[i].accepted;
	}
	for (i = 0; i < v->nprocs; i++) {
		w = &v->procs[i];
		if (!w->counted)
			continue;
		pp = &prev.procs[prev.nprocs++];
		pp->pid = w->pid;
		pp->requests = w->requests;
		pp->cpu_known = usage_find(w->pid) != NULL;
		pp->cpu_ms = pp->cpu_known ? w->cpu_ms : 0;
	}
	qsort(prev.procs, prev.nprocs, sizeof(prev.procs[0]), pid_cmp);
	prev.when = v->when;
}

/*
 * The size to draw in: a terminal's; else COLUMNS and LINES when set,
 * else 80 columns and no bound on the lines (*rows 0).
 */
static void
term_size(int *cols, int *rows)
{
	struct winsize	 ws;
	const char	*e;
	long long	 v;

	*cols = 80;
	*rows = 0;
	if (tty) {
		*rows = 24;
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 0 && ws.ws_row > 0) {
			*cols = ws.ws_col;
			*rows = ws.ws_row;
		}
		return;
	}
	if ((e = getenv("COLUMNS")) != NULL && parse_int(e, 1, 100000,
	    &v) == 0)
		*cols = (int)v;
	if ((e = getenv("LINES")) != NULL && parse_int(e, 1, 100000,
	    &v) == 0)
		*rows = (int)v;
}

static void
out_putc(int c)
{
	if (outlen < outcols)
		out[outlen++] = (char)c;
}

/* Print the line built, without trailing blanks; erase the rest on a tty. */
static void
out_line(void)
{
	while (outlen > 0 && out[outlen - 1] == ' ')
		outlen--;
	fwrite(out, 1, outlen, stdout);
	fputs(tty ? "\033[K\n" : "\n", stdout);
	outlen = 0;
}

/*
 * Append s in exactly width columns, padded, or cut with "..." at the end
 * (a '~' would read as a home directory).  What a client sent (URIs) must
 * not reach the terminal raw: bytes other than printable ASCII print as
 * '?'.
 */
static void
put_clipped(const char *s, int width)
{
	size_t	len = strlen(s);
	int	i, cut;

	cut = len > (size_t)width && width > 3 ? width - 3 : width;
	for (i = 0; i < cut; i++) {
		if ((size_t)i >= len)
			out_putc(' ');
		else if (s[i] < 0x20 || s[i] > 0x7e)
			out_putc('?');
		else
			out_putc(s[i]);
	}
	for (; i < width; i++)
		out_putc('.');
}

/* Like put_clipped(), but cut at the start: ".../www/index.php". */
static void
put_tail(const char *s, int width)
{
	size_t	len = strlen(s);

	if (len <= (size_t)width || width <= 3) {
		put_clipped(s, width);
		return;
	}
	put_clipped("...", 3);
	put_clipped(s + len - (size_t)width + 3, width - 3);
}

static const char *
str_or(const char *s, const char *dflt)
{
	return (s != NULL && *s != '\0' ? s : dflt);
}

/* PHP-FPM's stage names, in a word. */
static const char *
state_short(const char *state)
{
	if (state == NULL)
		return ("?");
	if (strcmp(state, "Reading headers") == 0)
		return ("Reading");
	if (strcmp(state, "Getting request information") == 0)
		return ("Info");
	if (strcmp(state, "(null)") == 0)
		return ("Starting");
	return (state);
}

/* A duration in microseconds, made short: 812us, 15ms, 1.50s, 3m02s. */
static void
fmt_duration(char *buf, size_t size, const char *us)
{
	unsigned long long	v;

	if (num(us, &v) == -1) {
		snprintf(buf, size, "-");
		return;
	}
	if (v < 1000)
		snprintf(buf, size, "%lluus", v);
	else if (v < 1000000)
		snprintf(buf, size, "%llums", v / 1000);
	else if (v < 60000000)
		snprintf(buf, size, "%llu.%02llus", v / 1000000,
		    v / 10000 % 100);
	else if (v < 3600000000ULL)
		snprintf(buf, size, "%llum%02llus", v / 60000000,
		    v / 1000000 % 60);
	else
		snprintf(buf, size, "%lluh%02llum", v / 3600000000ULL,
		    v / 60000000 % 60);
}

/* Requests per second in 5 columns: 0.0, 12.5, 873, 12345, 123k. */
static void
fmt_rate(char *buf, size_t size, double r)
{
	if (r < 0)
		snprintf(buf, size, "-");
	else if (r < 99.95)
		snprintf(buf, size, "%.1f", r);
	else if (r < 99999.5)
		snprintf(buf, size, "%.0f", r);
	else
		snprintf(buf, size, "%.0fk", r < 9999e3 ? r / 1000 : 9999.0);
}

/* Percent of one CPU in 5 columns: 0.0, 99.5, 100, 1600. */
static void
fmt_cpu(char *buf, size_t size, double c)
{
	if (c < 0)
		snprintf(buf, size, "-");
	else if (c < 99.95)
		snprintf(buf, size, "%.1f", c);
	else
		snprintf(buf, size, "%.0f", c < 99999 ? c : 99999.0);
}

/* Bytes in 5 columns, binary units: 512K, 9.5M, 123M, 1.5G, 64G. */
static void
fmt_bytes(char *buf, size_t size, long long b)
{
	static const char	 units[] = "KMGTP";
	double			 v = (double)b / 1024;
	int			 u = 0;

	if (b < 0) {
		snprintf(buf, size, "-");
		return;
	}
	while (v >= 1023.5 && u < (int)sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	if (u > 0 && v < 9.95)
		snprintf(buf, size, "%.1f%c", v, units[u]);
	else
		snprintf(buf, size, "%.0f%c", v, units[u]);
}

/* A pool's header line in the view; short: for narrow terminals. */
static void
pool_line(char *buf, size_t size, const struct wpool *p, int short_)
{
	snprintf(buf, size, short_ ? "%s %s  acc %s  queue %s/%s  "
	    "idle %s act %s tot %s  maxch %s  slow %s" : "pool %s [%s]  "
	    "accepted %s  queue %s (max %s)  idle %s  active %s  total %s  "
	    "max children reached %s  slow %s",
	    str_or(p->v[PK_POOL], "?"), str_or(p->v[PK_PM], "?"),
	    str_or(p->v[PK_ACCEPTED], "-"), str_or(p->v[PK_QUEUE], "-"),
	    str_or(p->v[PK_MAXQUEUE], "-"), str_or(p->v[PK_IDLE], "-"),
	    str_or(p->v[PK_ACTIVE], "-"), str_or(p->v[PK_TOTAL], "-"),
	    str_or(p->v[PK_MAXCHILDREN], "-"), str_or(p->v[PK_SLOW], "-"));
}

/* The lines below the fixed ones: per pool its line, its row, its workers. */
static int
body_lines(const struct view *v)
{
	if (v->error != NULL)
		return (0);
	if (v->npools == 0)
		return (1);
	/* a blank line between pools */
	return ((int)(v->npools * 3 + v->nprocs) - 1);
}

/*
 * The view: a title, the column heads, then the body: per pool a header
 * line, a row of its totals and one row per worker, each cut to the
 * width.  When the body does not fit, the lines from the top'th that fit
 * are shown, and a last line says which and how to see the others.
 */
static void
view_print(const struct view *v, int interval_ms)
{
	const struct wpool	*p;
	const struct wproc	*w;
	char			 line[1024], dur[32], when[32], rate[16];
	char			 cpu[16], mem[16];
	size_t			 i, j;
	time_t			 t = time(NULL);
	int			 cols, rows, total, n, shown, uriw, scriptw;

	term_size(&cols, &rows);
	if (cols > (int)sizeof(line) - 1)
		cols = (int)sizeof(line) - 1;
	outcols = (size_t)cols;		/* narrow terminals cut the columns */
	total = body_lines(v);
	/*
	 * The fixed lines: title, error or column heads; on a terminal the
	 * last row stays empty (a newline there scrolls).  One more is for
	 * the line that says what is not shown.
	 */
	page = rows == 0 ? total : rows - 2 - (tty ? 1 : 0);
	if (page < total)
		page--;
	if (page < 1)
		page = 1;
	if (top > total - page)
		top = total - page;
	if (top < 0)
		top = 0;
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (tty)
		fputs("\033[H", stdout);	/* home; lines end in "erase" */
	snprintf(line, sizeof(line), "fpm-status  %.200s  every %d.%ds  %s%s",
	    sockpath, interval_ms / 1000, interval_ms % 1000 / 100, when,
	    tty ? "  (q: quit)" : "");
	put_clipped(line, cols);
	out_line();
	if (v->error != NULL) {
		snprintf(line, sizeof(line), "error: %s", v->error);
		put_clipped(line, cols);
		out_line();
	}
	/* URI and script share what the fixed columns leave; URI first */
	uriw = cols - FIXEDW;
	scriptw = 0;
	if (uriw >= 30) {
		scriptw = uriw * 2 / 5;
		uriw -= scriptw + 1;
	}
	if (uriw < 3)
		uriw = 3;
	if (v->error == NULL) {
		snprintf(line, sizeof(line), "%7s %-9s %7s %5s %5s %5s %6s "
		    "%-6s ", "PID", "STATE", "REQS", "REQ/S", "CPU%", "RSS",
		    "TIME", "METHOD");
		put_clipped(line, FIXEDW);
		put_clipped("URI", uriw);
		if (scriptw > 0) {
			out_putc(' ');
			put_clipped("SCRIPT", scriptw);
		}
		out_line();
	}
	/* the body: line n is shown when top <= n < top + page */
#define BODYLINE()	do {						\
	if (n >= top && n < top + page)					\
		out_line();						\
	outlen = 0;							\
	n++;								\
} while (0)
	n = 0;
	for (i = 0; v->error == NULL && i < v->npools; i++) {
		p = &v->pools[i];
		if (i > 0)
			BODYLINE();
		pool_line(line, sizeof(line), p, 0);
		if ((int)strlen(line) > cols)
			pool_line(line, sizeof(line), p, 1);
		put_clipped(line, cols);
		BODYLINE();
		fmt_rate(rate, sizeof(rate), p->rate);
		fmt_cpu(cpu, sizeof(cpu), p->cpu);
		fmt_bytes(mem, sizeof(mem), p->rss);
		snprintf(line, sizeof(line), "%7s %-9s %7.7s %5s %5s %5s",
		    "pool", "", str_or(p->v[PK_ACCEPTED], "-"), rate, cpu,
		    mem);
		put_clipped(line, cols);
		BODYLINE();
		for (j = 0; j < p->nprocs; j++) {
			w = &p->procs[j];
			fmt_duration(dur, sizeof(dur), w->v[WK_DURATION]);
			fmt_rate(rate, sizeof(rate), w->rate);
			fmt_cpu(cpu, sizeof(cpu), w->cpu);
			fmt_bytes(mem, sizeof(mem), w->rss);
			snprintf(line, sizeof(line), "%7.7s %-9.9s %7.7s %5s "
			    "%5s %5s %6.6s %-6.6s ", str_or(w->v[WK_PID], "?"),
			    state_short(w->v[WK_STATE]),
			    str_or(w->v[WK_REQUESTS], "-"), rate, cpu, mem,
			    dur, str_or(w->v[WK_METHOD], "-"));
			put_clipped(line, FIXEDW);
			put_clipped(str_or(w->v[WK_URI], "-"), uriw);
			if (scriptw > 0) {
				out_putc(' ');
				/* the end of a script path says the most */
				put_tail(str_or(w->v[WK_SCRIPT], "-"), scriptw);
			}
			BODYLINE();
		}
	}
	if (v->error == NULL && v->npools == 0) {
		put_clipped("no pools", cols);
		BODYLINE();
	}
#undef BODYLINE
	if (page < total) {
		shown = top + page < total ? top + page : total;
		if (tty)
			snprintf(line, sizeof(line), "-- lines %d-%d of %d --  "
			    "space: next page  b: back  q: quit", top + 1,
			    shown, total);
		else
			snprintf(line, sizeof(line), "-- lines %d-%d of %d --  "
			    "%d more: a larger LINES, or --pool NAME", top + 1,
			    shown, total, total - shown);
		put_clipped(line, cols);
		out_line();
	}
	if (tty)
		fputs("\033[J", stdout);	/* erase what is left */
	else
		putchar('\n');
	if (fflush(stdout) == EOF)
		fatal("stdout");
}

static void
tty_restore(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	if (tty)
		fputs("\033[?25h\033[?1049l", stdout);	/* cursor, screen */
	fflush(stdout);
}

/*
 * One refresh of the live view's figures: the full text page asked with
 * line, then what each worker uses ("workers"), the rates worked out
 * against the previous refresh.  The page stays in view (its values
 * point into it) until the next refresh: paging redraws it as it is.
 */
static void
watch_fetch(const char *line)
{
	struct timespec	 ts;
	char		*reply, *body, *msg, *ureply, *ubody;
	char		 uline[CTL_LINE_MAX];
	int		 code;

	free(view.reply);
	view.reply = NULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	view.when = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	code = status_get(line, &reply, &body);
	view.reply = reply;
	view.error = code == 0 ? NULL : body;
	if (code != 0) {
		view.npools = view.nprocs = 0;
		return;
	}
	view_parse(&view, body);
	/* without it (an older supervisor): no CPU and memory, no error */
	nusage = 0;
	snprintf(uline, sizeof(uline), "workers %s",
	    opt_pool != NULL ? opt_pool : "-");
	if (ctl_request(sockpath, uline, REQUEST_TIMEOUT_MS, &ureply) == 0) {
		if (ctl_reply_parse(ureply, &code, &msg, &ubody) == 0 &&
		    code == 0)
			usage_parse(ubody);
		free(ureply);
	}
	view_figures(&view);
	prev_keep(&view);
}

/*
 * A key on the terminal, the bytes read at once (an arrow or page key is
 * an escape sequence): 'q' quits (-1), the paging keys move top and
 * redraw (1), 'r' and ^L refresh (2); others do nothing (0).
 */
static int
watch_key(const char *k, size_t len)
{
	if (len == 1) {
		switch (k[0]) {
		case 'q':
		case 'Q':
			return (-1);
		case ' ':
		case 'n':
		case 'f':
			top += page;
			return (1);
		case 'b':
		case 'p':
			top -= page;
			return (1);
		case 'j':
			top++;
			return (1);
		case 'k':
			top--;
			return (1);
		case 'g':
			top = 0;
			return (1);
		case 'G':
			top = MAXPROCS * 4;	/* view_print() clamps it */
			return (1);
		case 'r':
		case '\f':
			return (2);
		}
		return (0);
	}
	if (len == 4 && memcmp(k, "\033[6~", 4) == 0)
		return (watch_key(" ", 1));	/* Page Down */
	if (len == 4 && memcmp(k, "\033[5~", 4) == 0)
		return (watch_key("b", 1));	/* Page Up */
	if (len == 3 && memcmp(k, "\033[B", 3) == 0)
		return (watch_key("j", 1));	/* Down */
	if (len == 3 && memcmp(k, "\033[A", 3) == 0)
		return (watch_key("k", 1));	/* Up */
	return (0);
}

/*
 * The live view, until SIGINT, SIGTERM, SIGHUP, 'q' or --count views.
 * Signals arrive on a signalfd, keys on stdin (raw mode when a terminal),
 * both polled with the refresh interval as timeout; SIGWINCH and the
 * paging keys redraw what was fetched, 'r' fetches at once.
 */
static int
watch(int interval_ms)
{
	struct pollfd	 pfd[2];
	struct signalfd_siginfo si;
	struct termios	 tio;
	sigset_t	 set;
	char		 line[CTL_LINE_MAX], keys[16];
	int64_t		 next;
	struct timespec	 ts;
	ssize_t		 nk;
	int		 sfd, npfd = 1, ms, k, fetch;

	snprintf(line, sizeof(line), "status %s text full",
	    opt_pool != NULL ? opt_pool : "-");
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	tty = isatty(STDOUT_FILENO);
	if (tty && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		tio = saved_tio;
		tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == 0)
			tio_saved = 1;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		npfd = 2;
	}
	if (tty)
		fputs("\033[?1049h\033[?25l\033[2J", stdout);
	atexit(tty_restore);
	for (fetch = 1;;) {
		if (fetch) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			next = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec /
			    1000000 + interval_ms;
			watch_fetch(line);
		}
		view_print(&view, interval_ms);
		if (fetch && opt_count > 0 && --opt_count == 0)
			return (FPM_EXIT_OK);
		for (fetch = 1;;) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ms = (int)(next - ((int64_t)ts.tv_sec * 1000 +
			    ts.tv_nsec / 1000000));
			if (ms <= 0)
				break;
			if (poll(pfd, (nfds_t)npfd, ms) == -1) {
				if (errno == EINTR)
					continue;
				fatal("poll");
			}
			if (pfd[0].revents & POLLIN) {
				if (read(sfd, &si, sizeof(si)) !=
				    (ssize_t)sizeof(si))
					continue;
				if (si.ssi_signo != SIGWINCH)
					return (FPM_EXIT_OK);
				fetch = 0;	/* redraw now */
				break;
			}
			if (npfd == 2 && pfd[1].revents & (POLLIN | POLLHUP)) {
				if ((nk = read(STDIN_FILENO, keys,
				    sizeof(keys))) <= 0 ||
				    (k = watch_key(keys, (size_t)nk)) == -1)
					return (FPM_EXIT_OK);
				if (k == 1) {
					fetch = 0;
					break;
				}
				if (k == 2)
					break;
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	poptContext	 pc;
	const char	*fmt = "text";
	char		 line[CTL_LINE_MAX], pid[PATH_MAX], err[512];
	char		*reply, *body;
	int64_t		 ms = 0;
	int		 code, i;

	log_init(getprogname(), LOG_STYLE_PLAIN);
	pc = opts_parse(argc, argv, options, "[OPTION...]", NULL);
	if (poptPeekArg(pc) != NULL)
		fatalx_usage("unexpected argument '%s'", poptPeekArg(pc));
	poptFreeContext(pc);
	if (opt_config != NULL && opt_pidfile != NULL)
		fatalx_usage("give only one of --fpm-config and --pid");
	if (opt_format != NULL) {
		for (i = 0; formats[i] != NULL; i++)
			if (strcmp(opt_format, formats[i]) == 0)
				break;
		if (formats[i] == NULL)
			fatalx_usage("--format: unknown format '%s'",
			    opt_format);
		fmt = formats[i];
	}
	if (opt_pool != NULL && (*opt_pool == '\0' ||
	    strpbrk(opt_pool, " \t\r\n") != NULL || strcmp(opt_pool, "-") == 0))
		fatalx_usage("--pool: bad pool name '%s'", opt_pool);
	if (opt_watch != NULL) {
		if (parse_duration_ms(opt_watch, 100, 86400000, &ms) == -1)
			fatalx_usage("--watch: bad duration '%s' (100ms to 1d)",
			    opt_watch);
		if (opt_format != NULL && strcmp(fmt, "text") != 0)
			fatalx_usage("--watch shows text only");
	}
	if (opt_count_s != NULL) {
		if (opt_watch == NULL)
			fatalx_usage("--count goes with --watch");
		if (parse_int(opt_count_s, 1, INT_MAX, &opt_count) == -1)
			fatalx_usage("--count: bad number '%s'", opt_count_s);
	}
	if (ctl_client_paths(opt_socket, opt_config, opt_pidfile, sockpath,
	    sizeof(sockpath), pid, sizeof(pid), err, sizeof(err)) == -1)
		fatalx_code(errno == EINVAL || errno == ENAMETOOLONG ||
		    errno == ENOENT || errno == EACCES ? FPM_EXIT_USAGE :
		    FPM_EXIT_TEMP, "%s", err);
	if (ms > 0)
		return (watch((int)ms));

	snprintf(line, sizeof(line), "status %s %s%s",
	    opt_pool != NULL ? opt_pool : "-", fmt, opt_full ? " full" : "");
	if ((code = status_get(line, &reply, &body)) != 0)
		fatalx_code(code, "%s", body);
	fputs(body, stdout);
	free(reply);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	return (FPM_EXIT_OK);
}

#ifdef FPM_FUZZ
/*
 * For tests/fuzz/ctl_fuzz.c: one refresh of --watch from the control
 * socket at path, drawn as on a terminal when as_tty is set.
 */
void
fpm_status_fuzz_watch(const char *path, int as_tty)
{
	strlcpy(sockpath, path, sizeof(sockpath));
	tty = as_tty;
	watch_fetch("status - text full");
	view_print(&view, 1000);
}
#endif
