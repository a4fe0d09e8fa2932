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
#define FIXEDW			42	/* pid to method, with blanks */

static char	*opt_socket, *opt_config, *opt_pidfile, *opt_pool, *opt_format;
static char	*opt_watch;
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

struct wproc {
	const char	*v[WK_NKEYS];
};

struct wpool {
	const char	*v[PK_NKEYS];
	struct wproc	*procs;
	size_t		 nprocs;
};

struct view {
	struct wpool	 pools[MAXPOOLS];
	size_t		 npools;
	struct wproc	 procs[MAXPROCS];
	size_t		 nprocs;
	size_t		 dropped;	/* workers beyond MAXPROCS */
};

static char		 sockpath[PATH_MAX];
static int		 tty;		/* stdout is a terminal */
static struct termios	 saved_tio;
static int		 tio_saved;
static struct view	 view;
static char		 out[1024];	/* the view's line being built */
static size_t		 outlen;
static size_t		 outcols = sizeof(out);	/* the terminal's width */

static int	 status_get(const char *, char **, char **);
static void	 view_parse(struct view *, char *);
static void	 term_size(int *, int *);
static void	 out_putc(int);
static void	 out_line(void);
static void	 put_clipped(const char *, int);
static void	 put_tail(const char *, int);
static const char *str_or(const char *, const char *);
static const char *state_short(const char *);
static void	 fmt_duration(char *, size_t, const char *);
static void	 pool_line(char *, size_t, const struct wpool *, int);
static void	 view_print(const struct view *, const char *, int);
static void	 tty_restore(void);
static void	 watch_once(const char *, int);
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
	if (ctl_identity_check(sockpath, opt_config, opt_pidfile,
	    REQUEST_TIMEOUT_MS, &code, why, sizeof(why)) == -1 &&
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
view_parse(struct view *v, char *page)
{
	struct wpool	*pool = NULL;
	struct wproc	*proc = NULL;
	char		*line, *next, *val;
	size_t		 i;

	v->npools = v->nprocs = v->dropped = 0;
	for (line = page; line != NULL && *line != '\0'; line = next) {
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

/* The terminal's size, else 80x24. */
static void
term_size(int *cols, int *rows)
{
	struct winsize	ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
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
 * Append s in exactly width columns, padded or cut with a '~' at the end.
 * What a client sent (URIs) must not reach the terminal raw: bytes other
 * than printable ASCII print as '?'.
 */
static void
put_clipped(const char *s, int width)
{
	size_t	len = strlen(s);
	int	i;

	for (i = 0; i < width; i++) {
		if ((size_t)i >= len)
			out_putc(' ');
		else if ((size_t)i == (size_t)width - 1 && len > (size_t)width)
			out_putc('~');
		else if (s[i] < 0x20 || s[i] > 0x7e)
			out_putc('?');
		else
			out_putc(s[i]);
	}
}

/* Like put_clipped(), but cut at the start: "~/www/index.php". */
static void
put_tail(const char *s, int width)
{
	size_t	len = strlen(s);

	if (len <= (size_t)width || width < 2) {
		put_clipped(s, width);
		return;
	}
	out_putc('~');
	put_clipped(s + len - (size_t)width + 1, width - 1);
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
	char			*end;

	errno = 0;
	if (us == NULL || (v = strtoull(us, &end, 10), errno != 0 ||
	    end == us || *end != '\0')) {
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

/*
 * The view: a title, then per pool a header line and one row per worker,
 * each cut to cols; rows (0: no limit) bounds the lines printed.
 */
static void
view_print(const struct view *v, const char *error, int interval_ms)
{
	const struct wpool	*p;
	const struct wproc	*w;
	char			 line[1024], dur[32], when[32];
	size_t			 i, j;
	time_t			 t = time(NULL);
	int			 cols, rows, used = 0, rest, uriw, scriptw;

	term_size(&cols, &rows);
	if (!tty)
		rows = 0;
	if (cols > (int)sizeof(line) - 1)
		cols = (int)sizeof(line) - 1;
	outcols = (size_t)cols;		/* narrow terminals cut the columns */
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (tty)
		fputs("\033[H", stdout);	/* home; lines end in "erase" */
#define ENDLINE()	do {						\
	out_line();							\
	used++;								\
} while (0)
/* the last row stays empty (a newline there scrolls); one is for "more" */
#define ROOM()		(rows == 0 || used < rows - 2)
	snprintf(line, sizeof(line), "fpm-status  %.200s  every %d.%ds  %s%s",
	    sockpath, interval_ms / 1000, interval_ms % 1000 / 100, when,
	    tty ? "  (q: quit)" : "");
	put_clipped(line, cols);
	ENDLINE();
	if (error != NULL) {
		snprintf(line, sizeof(line), "error: %s", error);
		put_clipped(line, cols);
		ENDLINE();
	}
	/* URI and script share what pid, state, requests, time, method leave */
	rest = cols - FIXEDW;
	if (rest < 12)
		rest = 12;
	uriw = rest * 3 / 5;
	scriptw = rest - uriw - 1;
	for (i = 0; error == NULL && i < v->npools && ROOM(); i++) {
		p = &v->pools[i];
		if (used > 1)
			ENDLINE();
		pool_line(line, sizeof(line), p, 0);
		if ((int)strlen(line) > cols)
			pool_line(line, sizeof(line), p, 1);
		put_clipped(line, cols);
		ENDLINE();
		if (p->nprocs == 0 || !ROOM())
			continue;
		snprintf(line, sizeof(line), "%7s %-9s %8s %7s %-6s ", "PID",
		    "STATE", "REQS", "TIME", "METHOD");
		put_clipped(line, FIXEDW);
		put_clipped("URI", uriw);
		out_putc(' ');
		put_clipped("SCRIPT", scriptw);
		ENDLINE();
		for (j = 0; j < p->nprocs; j++) {
			w = &p->procs[j];
			if (!ROOM()) {
				snprintf(line, sizeof(line), "... %zu more",
				    p->nprocs - j);
				put_clipped(line, cols);
				ENDLINE();
				break;
			}
			fmt_duration(dur, sizeof(dur), w->v[WK_DURATION]);
			snprintf(line, sizeof(line), "%7.7s %-9.9s %8.8s %7.7s "
			    "%-6.6s ", str_or(w->v[WK_PID], "?"),
			    state_short(w->v[WK_STATE]),
			    str_or(w->v[WK_REQUESTS], "-"), dur,
			    str_or(w->v[WK_METHOD], "-"));
			put_clipped(line, FIXEDW);
			put_clipped(str_or(w->v[WK_URI], "-"), uriw);
			out_putc(' ');
			/* the end of a script path says the most */
			put_tail(str_or(w->v[WK_SCRIPT], "-"), scriptw);
			ENDLINE();
		}
	}
	if (error == NULL && i < v->npools) {
		snprintf(line, sizeof(line), "... %zu more pools",
		    v->npools - i);
		put_clipped(line, cols);
		ENDLINE();
	}
	if (error == NULL && v->npools == 0 && ROOM()) {
		put_clipped("no pools", cols);
		ENDLINE();
	}
#undef ROOM
#undef ENDLINE
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

/* One refresh of the live view: ask with line, parse the page, draw it. */
static void
watch_once(const char *line, int interval_ms)
{
	char	*reply, *body;
	int	 code;

	code = status_get(line, &reply, &body);
	if (code == 0)
		view_parse(&view, body);
	view_print(&view, code == 0 ? NULL : body, interval_ms);
	free(reply);
}

/*
 * The live view, until SIGINT, SIGTERM, SIGHUP or 'q'.  Signals arrive on
 * a signalfd, keys on stdin (raw mode when a terminal), both polled with
 * the refresh interval as timeout; SIGWINCH redraws at once.
 */
static int
watch(int interval_ms)
{
	struct pollfd	 pfd[2];
	struct signalfd_siginfo si;
	struct termios	 tio;
	sigset_t	 set;
	char		 line[CTL_LINE_MAX], key;
	int64_t		 next;
	struct timespec	 ts;
	int		 sfd, npfd = 1, ms;

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
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		next = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		    interval_ms;
		watch_once(line, interval_ms);
		for (;;) {
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
				break;		/* redraw now */
			}
			if (npfd == 2 && pfd[1].revents & (POLLIN | POLLHUP)) {
				if (read(STDIN_FILENO, &key, 1) != 1 ||
				    key == 'q' || key == 'Q')
					return (FPM_EXIT_OK);
				if (key == ' ' || key == '\f')
					break;	/* refresh now */
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
	watch_once("status - text full", 1000);
}
#endif
