/* SPDX-License-Identifier: ISC */
/* The figures of a pool and its workers, as libcommon/status renders them. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "libcommon/sock.h"
#include "libcommon/status.h"
#include "fpm.h"

/*
 * Set once a status page was asked for on the control socket: from then
 * on every pool samples its workers' CPU and memory (stat_sample).
 */
int	stat_watched;

/* Histogram bounds in seconds, Prometheus' defaults. */
static const double stat_bounds[STAT_NBOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

void
stat_observe(unsigned long *count, double *sum, int64_t us)
{
	double	s = (double)us / 1e6;
	size_t	i;

	for (i = 0; i < STAT_NBOUNDS && s > stat_bounds[i]; i++)
		;
	count[i]++;
	*sum += s;
}

/*
 * Fill sp from p, and procs (room for nprocs) from its workers; returns how
 * many procs were filled.  Strings point into p: use them before the next
 * loop turn.  PHP-FPM's state names: a worker on a request is "Running",
 * one still working after its answer (fpm.h) "Finishing", one waiting
 * "Idle", one told to go "Ending".
 */
size_t
stat_fill(struct pool *p, struct status_pool *sp, struct status_proc *procs,
    size_t nprocs)
{
	struct worker		*w;
	struct status_proc	*sr;
	const struct reqinfo	*ri;
	time_t			 now = time(NULL);
	unsigned int		 kq, kb;
	size_t			 n = 0;

	memset(sp, 0, sizeof(*sp));
	sp->pool = p->cf->name;
	sp->pm = conf_pm_name(p->cf->pm);
	sp->start_time = p->start_time;
	sp->start_since = (unsigned long)(now - p->start_time);
	sp->accepted_conn = p->accepted;
	/*
	 * Our queue and the kernel's accept queue behind it, for unix
	 * sockets too (sock_diag), which PHP-FPM shows as 0.
	 */
	if (p->lst.src.fd == -1 || sock_listen_queue(p->lst.src.fd, &kq,
	    &kb) == -1)
		kq = kb = 0;
	sp->listen_queue = p->nqueue + (int)kq;
	if ((unsigned long)sp->listen_queue > p->max_queue)
		p->max_queue = (unsigned long)sp->listen_queue;
	sp->max_listen_queue = (int)p->max_queue;
	sp->listen_queue_len = (unsigned int)p->cf->queue_max_length + kb;
	sp->idle = p->nidle;
	sp->active = p->nworkers - p->nidle;
	sp->max_active = (int)p->max_active;
	sp->max_children_reached = (unsigned int)p->max_children_reached;
	sp->slow_requests = p->slow_requests;
	sp->responses_502 = p->bad_gateway;
	sp->responses_503 = p->queue_full;
	sp->responses_504 = p->timed_out;
	sp->request_duration.le = stat_bounds;
	sp->request_duration.count = p->dur_count;
	sp->request_duration.n = STAT_NBOUNDS;
	sp->request_duration.sum = p->dur_sum;
	sp->queue_wait.le = stat_bounds;
	sp->queue_wait.count = p->wait_count;
	sp->queue_wait.n = STAT_NBOUNDS;
	sp->queue_wait.sum = p->wait_sum;
	sp->procs = procs;
	TAILQ_FOREACH(w, &p->workers, entry) {
		if (n == nprocs)
			break;
		sr = &procs[n++];
		memset(sr, 0, sizeof(*sr));
		if (w->group != NULL && w->pid == 0)
			group_identify(w);	/* 0 still: no child has it */
		sr->pid = w->pid;
		sr->start_time = w->started_rt.tv_sec;
		sr->start_since = (unsigned long)(now - w->started_rt.tv_sec);
		sr->requests = w->requests;
		ri = &w->last;
		if (worker_busy(w)) {
			/* the request in hand, or the work after its answer */
			w->cur.duration_us = ev_now_us() - w->cur.start_us;
			ri = &w->cur;
			sr->state = w->finishing ? "Finishing" : "Running";
		} else
			sr->state = w->state == W_RETIRING ? "Ending" : "Idle";
		sr->request_duration_us = (unsigned long long)ri->duration_us;
		sr->method = ri->method;
		sr->uri = ri->uri;	/* the path: dispatch.c cuts REQUEST_URI */
		sr->query = ri->query;
		sr->content_length = ri->content_length;
		/* PHP-FPM shows these for an idle worker only */
		if (ri == &w->last) {
			sr->last_cpu = ri->cpu_pct;
			sr->last_memory = ri->memory;
		}
		sr->user = ri->user;
		sr->script = ri->script;
	}
	sp->nprocs = n;
	return (n);
}

int
stat_wanted(const struct pool *p)
{
	return (p->access_fd != -1 || p->cf->status_path != NULL ||
	    p->cf->status_listen != NULL || stat_watched);
}

/* Keep /proc/PID/stat open: one pread(2) per request gives CPU and RSS. */
void
stat_open(struct worker *w)
{
	char	path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)w->pid);
	w->statfd = open(path, O_RDONLY | O_CLOEXEC);
	w->cpu_prev = -1;
}

/* CPU ticks (utime + stime) and RSS pages of w; 0, or -1. */
static int
stat_read(struct worker *w, long long *ticks, long long *rss)
{
	char		 buf[1024], *s;
	long long	 v[25];
	ssize_t		 n;
	int		 f;

	if (w->statfd == -1 ||
	    (n = pread(w->statfd, buf, sizeof(buf) - 1, 0)) <= 0)
		return (-1);
	buf[n] = '\0';
	/* after "(comm)", which may hold anything, field 3 is the state */
	if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ' || s[2] == '\0')
		return (-1);
	s += 3;
	for (f = 4; f <= 24; f++) {
		s = strchr(s, ' ');
		if (s == NULL)
			return (-1);
		v[f] = strtoll(++s, NULL, 10);
	}
	*ticks = v[14] + v[15];
	*rss = v[24];
	return (0);
}

/*
 * For the control socket's "workers": what w has used so far, read when
 * asked (fpm-status --watch turns the CPU time into a rate).  The
 * resident set is statm's, as top(1) and ps(1) show it: /proc/PID/stat's
 * is an approximation on recent kernels (per-CPU counters not summed).
 */
int
stat_usage(struct worker *w, unsigned long long *cpu_ms,
    unsigned long long *rss)
{
	static long	 hz, page;
	long long	 ticks, pages;
	char		 path[64], buf[256], *s;

	if (hz == 0) {
		hz = sysconf(_SC_CLK_TCK);
		page = sysconf(_SC_PAGESIZE);
	}
	if (hz <= 0 || page <= 0 || stat_read(w, &ticks, &pages) == -1 ||
	    ticks < 0)
		return (-1);
	/* "size resident shared ...", in pages */
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)w->pid);
	if (proc_read(path, buf, sizeof(buf)) == -1)
		return (-1);
	if ((s = strchr(buf, ' ')) == NULL ||
	    (pages = strtoll(s + 1, NULL, 10)) < 0)
		return (-1);
	*cpu_ms = (unsigned long long)ticks * 1000 / (unsigned long long)hz;
	*rss = (unsigned long long)pages * (unsigned long long)page;
	return (0);
}

/*
 * At the start of w's first request, and at the end of every one: the
 * CPU used between the two (what the request cost; a waiting worker
 * uses none) and the resident set, for "last request cpu/memory" and
 * the access log's %C and %M.
 */
void
stat_sample(struct worker *w, int64_t duration_us)
{
	static long	 hz, page;
	long long	 ticks, rss;

	if (hz == 0) {
		hz = sysconf(_SC_CLK_TCK);
		page = sysconf(_SC_PAGESIZE);
	}
	if (stat_read(w, &ticks, &rss) == -1)
		return;
	if (duration_us < 0) {			/* the first request begins */
		w->cpu_prev = ticks;
		return;
	}
	w->last.cpu_s = w->cpu_prev < 0 ? 0 :
	    (double)(ticks - w->cpu_prev) / (double)hz;
	w->cpu_prev = ticks;
	w->last.memory = (unsigned long long)rss * (unsigned long long)page;
	w->last.cpu_pct = duration_us > 0 ? w->last.cpu_s * 1e8 /
	    (double)duration_us : 0;
}

/*
 * A small /proc file (statm, stat, children) in one read, NUL-terminated
 * in buf of size bytes, cut there: its length, or -1.
 */
ssize_t
proc_read(const char *path, char *buf, size_t size)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	return (n);
}
