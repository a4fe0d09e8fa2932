/* SPDX-License-Identifier: ISC */
/*
 * catch_workers_output: the workers' stdout and stderr, read through pipes
 * and logged a line at a time in PHP-FPM's format.  Nothing in them is
 * trusted: lines are cut at log_limit and made printable (strvis), the
 * reading is bounded per loop turn and the logging per second.
 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS 1
#include <vis.h>

#include "libcommon/log.h"
#include "fpm.h"

#define OUTPUT_READ_MAX		(64 * 1024)	/* per pipe per loop turn */
#define OUTPUT_DRAIN_MAX	(1024 * 1024)	/* left by a dead worker */
#define OUTPUT_WINDOW_MS	1000		/* of the rate limit */

static int	output_pipe(struct outpipe *, int *);
static void	output_read(struct ev_source *, uint32_t);
static ssize_t	output_take(struct outpipe *);
static void	output_feed(struct outpipe *, const char *, size_t);
static void	output_end(struct outpipe *);
static int	output_allow(struct worker *);
static void	output_note(struct worker *);
static void	output_timeout(struct ev_timer *);
static void	output_line(struct outpipe *, const char *, size_t, int);
static void	output_flush(struct outpipe *, int);

static int	devnull = -1;
static char	readbuf[OUTPUT_READ_MAX];	/* one read(2), then lines */

/*
 * A pipe whose read end is ours: non-blocking, watched, close-on-exec.
 * The write end (*wfd) stays blocking: the worker's fd 1 or 2 shares its
 * file description, and a worker given a non-blocking one gets EAGAIN in
 * the middle of a burst and loses lines or dies of it.  A blocking pipe
 * makes a worker that writes faster than we read wait instead, as in
 * PHP-FPM.  0, or -1 with errno set and nothing left open.
 */
static int
output_pipe(struct outpipe *o, int *wfd)
{
	int	fds[2], saved;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return (-1);
	o->src.fd = fds[0];
	o->src.cb = output_read;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    ev_add(&o->src, EPOLLIN) == -1) {
		saved = errno;
		close(fds[0]);
		close(fds[1]);
		o->src.fd = -1;
		errno = saved;
		return (-1);
	}
	*wfd = fds[1];
	return (0);
}

/*
 * The fds the worker gets as 1 and 2: pipes, or /dev/null.  Without its
 * pipes a worker gets /dev/null too: left as -1, its fds 1 and 2 would be
 * ours, and its output would reach the log raw.
 */
void
output_setup(struct worker *w, int *outfd, int *errfd)
{
	w->out.w = w->err.w = w;
	w->out.name = "stdout";
	w->err.name = "stderr";
	w->out_timer.cb = output_timeout;
	if (w->pool->cf->catch_workers_output) {
		if (output_pipe(&w->out, outfd) == 0 &&
		    output_pipe(&w->err, errfd) == 0)
			return;
		log_warn("[pool %s] unable to create a pipe for a worker's "
		    "output", w->pool->cf->name);
		if (w->out.src.fd != -1) {
			ev_close(&w->out.src);
			close(*outfd);
		}
	}
	if (devnull == -1 &&
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		log_warn("unable to open /dev/null");
	*outfd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
	*errfd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
}

/*
 * One line to the error log.  PHP-FPM's decorated form is a WARNING
 * '[pool www] child 42 said into stderr: "line"', with ", pipe is closed"
 * when the pipe closed mid-line; undecorated, the line alone.
 */
static void
output_line(struct outpipe *o, const char *s, size_t len, int closed)
{
	struct worker	*w = o->w;
	char		 vis[4 * sizeof(o->buf) + 1];

	if (!output_allow(w))
		return;
	if (!w->pool->cf->decorate_workers_output) {
		(void)strvisx(vis, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB);
		log_raw(LOG_LVL_WARNING, vis, strlen(vis));
		return;
	}
	(void)strvisx(vis, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_DQ);
	log_msg(LOG_LVL_WARNING, "[pool %s] child %d said into %s: \"%s\"%s",
	    w->pool->cf->name, (int)w->pid, o->name, vis,
	    closed ? ", pipe is closed" : "");
}

/*
 * workers_output_rate_limit: at most that many lines of a worker (stdout
 * and stderr together) in a window of OUTPUT_WINDOW_MS, which starts with
 * the first line after the last one ended.  The lines over it are only
 * counted, and the count logged once when the window ends.  1: log it.
 */
static int
output_allow(struct worker *w)
{
	int	rate = w->pool->cf->workers_output_rate_limit;
	int64_t	now = ev_now();

	if (rate <= 0)
		return (1);
	if (now >= w->out_window) {
		output_note(w);
		w->out_window = now + OUTPUT_WINDOW_MS;
		w->out_lines = 0;
	}
	if (w->out_lines < (unsigned long)rate) {
		w->out_lines++;
		return (1);
	}
	if (w->out_dropped++ == 0)
		ev_timer_set(&w->out_timer, w->out_window - now);
	return (0);
}

/* The count of the lines suppressed in the window, if any. */
static void
output_note(struct worker *w)
{
	ev_timer_stop(&w->out_timer);
	if (w->out_dropped == 0)
		return;
	log_warnx("[pool %s] child %d: suppressed %lu lines of output "
	    "(workers_output_rate_limit = %d)", w->pool->cf->name,
	    (int)w->pid, w->out_dropped, w->pool->cf->workers_output_rate_limit);
	w->out_dropped = 0;
}

static void
output_timeout(struct ev_timer *t)
{
	output_note(container_of(t, struct worker, out_timer));
}

/* Emit every complete line; a full buffer is a line of its own. */
static void
output_flush(struct outpipe *o, int closed)
{
	char	*nl, *s = o->buf;
	size_t	 left = o->len;

	while ((nl = memchr(s, '\n', left)) != NULL) {
		output_line(o, s, (size_t)(nl - s), 0);
		left -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	if (left > 0 && (closed || left == sizeof(o->buf))) {
		output_line(o, s, left, closed);
		left = 0;
	}
	memmove(o->buf, s, left);
	o->len = left;
}

/* Bytes read into o's line buffer: after each flush it has room again. */
static void
output_feed(struct outpipe *o, const char *p, size_t n)
{
	size_t	take;

	while (n > 0) {
		take = sizeof(o->buf) - o->len;
		if (take > n)
			take = n;
		memcpy(o->buf + o->len, p, take);
		o->len += take;
		p += take;
		n -= take;
		output_flush(o, 0);
	}
}

/* The pipe is closed (EOF, error, or the worker is gone). */
static void
output_end(struct outpipe *o)
{
	output_flush(o, 1);
	ev_close(&o->src);
}

/*
 * One read(2) of at most OUTPUT_READ_MAX.  A worker that writes without a
 * pause keeps its pipe readable, and reading until EAGAIN would hold the
 * loop for as long as it goes on; epoll is level-triggered, so the rest is
 * read on the next turn, after the other ready events.  The bytes read,
 * 0 when there were none, -1 when the pipe is closed.
 */
static ssize_t
output_take(struct outpipe *o)
{
	ssize_t	n;

	n = read(o->src.fd, readbuf, sizeof(readbuf));
	if (n > 0) {
		output_feed(o, readbuf, (size_t)n);
		return (n);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n == -1)
		log_warn("[pool %s] unable to read child %d's %s",
		    o->w->pool->cf->name, (int)o->w->pid, o->name);
	output_end(o);
	return (-1);
}

static void
output_read(struct ev_source *src, uint32_t events)
{
	(void)events;
	(void)output_take((struct outpipe *)src);
}

/*
 * w's request is over (it is back): what it wrote meanwhile is read, one
 * read per pipe, and a last line without its newline is logged now, as
 * PHP-FPM does, not held until the next request's output ends it.
 */
void
output_request_end(struct worker *w)
{
	struct outpipe	*o[2] = { &w->out, &w->err };
	int		 i;

	for (i = 0; i < 2; i++) {
		if (o[i]->src.fd == -1)
			continue;
		if (output_take(o[i]) == -1)
			continue;	/* closed: all of it logged */
		if (o[i]->len > 0) {
			output_line(o[i], o[i]->buf, o[i]->len, 0);
			o[i]->len = 0;
		}
	}
}

/*
 * The worker is gone: log what is left and close the pipes.  What it left
 * is at most a pipe's size (fs.pipe-max-size, 1 MiB by default), unless a
 * process it started holds the pipe open and goes on writing: so the
 * drain stops at OUTPUT_DRAIN_MAX.
 */
void
output_close(struct worker *w)
{
	struct outpipe	*o[2] = { &w->out, &w->err };
	size_t		 total;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < 2; i++) {
		for (total = 0; o[i]->src.fd != -1 &&
		    total < OUTPUT_DRAIN_MAX; total += (size_t)n)
			if ((n = output_take(o[i])) <= 0)
				break;
		if (o[i]->src.fd != -1)
			output_end(o[i]);
	}
	output_note(w);
}
