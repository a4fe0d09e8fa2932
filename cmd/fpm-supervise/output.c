/* SPDX-License-Identifier: ISC */
/*
 * catch_workers_output: the workers' stdout and stderr, read through pipes
 * and logged a line at a time in PHP-FPM's format.  Nothing in them is
 * trusted: lines are cut at log_limit and made printable (strvis).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS 1
#include <vis.h>

#include "libcommon/log.h"
#include "fpm.h"

static void	output_read(struct ev_source *, uint32_t);
static void	output_line(struct outpipe *, const char *, size_t, int);
static void	output_flush(struct outpipe *, int);

static int	devnull = -1;

/* The fds the worker gets as 1 and 2: pipes, or /dev/null. */
void
output_setup(struct worker *w, int *outfd, int *errfd)
{
	int	po[2], pe[2];

	w->out.w = w->err.w = w;
	w->out.name = "stdout";
	w->err.name = "stderr";
	if (!w->pool->cf->catch_workers_output) {
		if (devnull == -1)
			devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		*outfd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
		*errfd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
		return;
	}
	if (pipe2(po, O_CLOEXEC | O_NONBLOCK) == -1)
		return;
	if (pipe2(pe, O_CLOEXEC | O_NONBLOCK) == -1) {
		close(po[0]);
		close(po[1]);
		return;
	}
	w->out.src.fd = po[0];
	w->err.src.fd = pe[0];
	w->out.src.cb = w->err.src.cb = output_read;
	ev_add(&w->out.src, EPOLLIN);
	ev_add(&w->err.src, EPOLLIN);
	*outfd = po[1];
	*errfd = pe[1];
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

static void
output_read(struct ev_source *src, uint32_t events)
{
	struct outpipe	*o = (struct outpipe *)src;
	ssize_t		 n;

	(void)events;
	for (;;) {
		n = read(src->fd, o->buf + o->len, sizeof(o->buf) - o->len);
		if (n > 0) {
			o->len += (size_t)n;
			output_flush(o, 0);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		output_flush(o, 1);
		ev_del(src);
		close(src->fd);
		src->fd = -1;
		return;
	}
}

/* The worker is gone: log what is left and close the pipes. */
void
output_close(struct worker *w)
{
	struct outpipe	*o[2] = { &w->out, &w->err };
	int		 i;

	for (i = 0; i < 2; i++) {
		if (o[i]->src.fd == -1)
			continue;
		output_read(&o[i]->src, EPOLLIN);
		if (o[i]->src.fd == -1)
			continue;
		output_flush(o[i], 1);
		ev_del(&o[i]->src);
		close(o[i]->src.fd);
		o[i]->src.fd = -1;
	}
}
