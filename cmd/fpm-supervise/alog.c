/* SPDX-License-Identifier: ISC */
/*
 * access.log: one line per request, PHP-FPM's access.format, written by
 * the supervisor (which sees every request) in one write(2) per line.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/accesslog.h"
#include "libcommon/log.h"
#include "fpm.h"

struct alog_lookup {
	const struct conn	*c;
	char			 value[1024];
};

static int		 alog_param_cb(const struct fcgi_nv *, void *);
static const char	*alog_param(void *, const char *);
static int		 alog_proc(pid_t, double *, unsigned long long *);

static struct accesslog_buf	 line;
static const char		*want_name;

/* Open (or reopen, SIGUSR1) p's access.log; 0, or -1 with errno set. */
int
alog_open(struct pool *p)
{
	int	fd;

	if (p->cf->access_log == NULL) {
		if (p->access_fd > 0)
			close(p->access_fd);
		p->access_fd = -1;
		return (0);
	}
	fd = open(p->cf->access_log, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return (-1);
	if (p->access_fd > 0)
		close(p->access_fd);
	p->access_fd = fd;
	/* %C and %M cost /proc reads per request: only when asked */
	p->access_cpu = strstr(p->cf->access_format, "C") != NULL;
	p->access_mem = strstr(p->cf->access_format, "M") != NULL;
	return (0);
}

static int
alog_param_cb(const struct fcgi_nv *nv, void *arg)
{
	struct alog_lookup	*l = arg;
	size_t			 n;

	if (nv->namelen != strlen(want_name) ||
	    memcmp(nv->name, want_name, nv->namelen) != 0)
		return (0);
	n = nv->valuelen < sizeof(l->value) - 1 ? nv->valuelen :
	    sizeof(l->value) - 1;
	memcpy(l->value, nv->value, n);
	l->value[n] = '\0';
	return (1);
}

/* %{NAME}e: a FastCGI param of the request. */
static const char *
alog_param(void *arg, const char *name)
{
	struct alog_lookup	*l = arg;

	want_name = name;
	if (fcgi_nv_foreach(l->c->params, l->c->paramslen, alog_param_cb,
	    l) != 1)
		return (NULL);
	return (l->value);
}

/* CPU seconds (utime + stime) and RSS bytes of pid, from /proc. */
static int
alog_proc(pid_t pid, double *cpu, unsigned long long *rss)
{
	char			 path[64], buf[1024], *s;
	unsigned long long	 ut, st;
	long			 rsspages;
	ssize_t			 n;
	int			 fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* after "(comm)", which may hold anything: field 3 onwards */
	if ((s = strrchr(buf, ')')) == NULL || sscanf(s + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
	    "%*d %*d %*d %*d %*u %*u %ld", &ut, &st, &rsspages) != 3)
		return (-1);
	*cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	*rss = (unsigned long long)rsspages *
	    (unsigned long long)sysconf(_SC_PAGESIZE);
	return (0);
}

/* The request goes to a worker: note its CPU time if %C wants it. */
void
alog_begin(struct conn *c, struct worker *w)
{
	unsigned long long	rss;

	c->cpu0 = 0;
	if (c->pool->access_fd != -1 && c->pool->access_cpu)
		(void)alog_proc(w->pid, &c->cpu0, &rss);
}

/* The request is over: its line, unless access.suppress_path says not. */
void
alog_write(struct conn *c, struct worker *w)
{
	struct pool		*p = c->pool;
	struct accesslog_req	 r;
	struct alog_lookup	 l;
	int64_t			 us = conn_now_us() - c->start_us;
	double			 cpu = 0;
	unsigned long long	 rss = 0;

	if (p->access_fd == -1)
		return;
	memset(&r, 0, sizeof(r));
	r.pool = p->cf->name;
	r.pid = w != NULL ? w->pid : 0;
	r.master_pid = getpid();
	r.peer_addr = c->peer[0] != '\0' ? c->peer : NULL;
	r.method = c->method;
	r.uri = c->uri;
	r.query = c->query;
	r.script_filename = c->filename;
	r.user = c->user;
	r.status = c->status;
	r.content_length = c->content_length;
	r.start = c->start;
	clock_gettime(CLOCK_REALTIME, &r.end);
	r.duration.tv_sec = us / 1000000;
	r.duration.tv_nsec = (us % 1000000) * 1000;
	if (w != NULL && (p->access_cpu || p->access_mem) &&
	    alog_proc(w->pid, &cpu, &rss) == 0) {
		/* PHP-FPM's %C is user + system over the duration */
		r.cpu_user = cpu - c->cpu0;
		r.memory = p->access_mem ? rss : 0;
	}
	l.c = c;
	r.param = alog_param;
	r.arg = &l;
	if (accesslog_suppressed((const char *const *)p->cf->access_suppress_path,
	    p->cf->naccess_suppress_path, &r))
		return;
	line.len = 0;
	if (accesslog_format(&line, p->cf->access_format, &r) == -1 ||
	    line.len == 0)
		return;
	if (write(p->access_fd, line.data, line.len) != (ssize_t)line.len)
		log_warn("[pool %s] unable to write to %s", p->cf->name,
		    p->cf->access_log);
}

void
alog_free(void)
{
	accesslog_buf_free(&line);
}
