/* SPDX-License-Identifier: ISC */
/*
 * request_slowlog_timeout and request_terminate_timeout: one timer per
 * request, armed when a worker takes it.  A slow request gets a trace from
 * fpm-slowlog(8), run in the background and reaped by its pidfd.
 */

#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/spawn.h"
#include "fpm.h"

struct tracer {
	struct ev_source	 src;	/* pidfd */
	pid_t			 pid;
	pid_t			 target;
	char			 pool[64];
};

static void	slow_reap(struct ev_source *, uint32_t);
static void	slow_trace(struct worker *);
static const char *slow_program(void);

/* fpm-slowlog next to our own binary, else from PATH. */
static const char *
slow_program(void)
{
	static char	path[PATH_MAX];
	char		self[PATH_MAX];

	if (path[0] != '\0')
		return (path);
	if (self_exe[0] != '\0') {
		strlcpy(self, self_exe, sizeof(self));
		snprintf(path, sizeof(path), "%s/fpm-slowlog", dirname(self));
		if (access(path, X_OK) == 0)
			return (path);
	}
	strlcpy(path, "fpm-slowlog", sizeof(path));
	return (path);
}

/*
 * Arm w's timer for the next of its two deadlines, counted from the
 * dispatch: while it runs the request, and while it finishes (after its
 * END_REQUEST) when request_terminate_timeout_track_finished says so.
 */
void
slow_arm(struct worker *w)
{
	struct conf_pool	*cf = w->pool->cf;
	int64_t			 due = -1, ran = ev_now_us() - w->fwd_us;

	if (w->finishing && !cf->request_terminate_timeout_track_finished) {
		ev_timer_stop(&w->req_timer);
		return;
	}
	if (cf->request_slowlog_timeout_ms > 0 && !w->slow_logged)
		due = cf->request_slowlog_timeout_ms * 1000 - ran;
	if (cf->request_terminate_timeout_ms > 0 && (due < 0 ||
	    cf->request_terminate_timeout_ms * 1000 - ran < due))
		due = cf->request_terminate_timeout_ms * 1000 - ran;
	/* in whole ms, rounded up: never before the deadline it logs */
	if (due >= 0)
		ev_timer_set(&w->req_timer, due > 0 ? (due + 999) / 1000 : 0);
}

/* w's timer fired: it has had its request too long. */
void
slow_timeout(struct ev_timer *t)
{
	struct worker		*w = container_of(t, struct worker, req_timer);
	struct conf_pool	*cf = w->pool->cf;
	const struct reqinfo	*ri = &w->cur;
	int64_t			 us = ev_now_us() - w->fwd_us;
	char			 vis[4 * sizeof(ri->script)];

	if (!worker_busy(w))
		return;
	/* a group's child: which one runs it (group.c) */
	if (w->group != NULL)
		group_identify(w);
	/* microseconds, as they are logged: the ms clock rounds down */
	if (cf->request_terminate_timeout_ms > 0 &&
	    us >= cf->request_terminate_timeout_ms * 1000) {
		log_warnx("[pool %s] child %d, script '%s' (request: \"%s\") "
		    "execution timed out (%lld.%06lld sec), terminating",
		    cf->name, (int)w->pid, log_vis(vis, sizeof(vis),
		    ri->script), req_what(ri->method, ri->uri),
		    (long long)us / 1000000, (long long)us % 1000000);
		if (w->conn != NULL)
			conn_terminated(w->conn);
		else {
			/* its client has its answer: only the work goes */
			w->finishing = 0;
			worker_retire(w, SIGTERM);
		}
		return;
	}
	if (cf->request_slowlog_timeout_ms > 0 && !w->slow_logged &&
	    us >= cf->request_slowlog_timeout_ms * 1000) {
		w->slow_logged = 1;
		w->pool->slow_requests++;
		log_warnx("[pool %s] child %d, script '%s' (request: \"%s\") "
		    "executing too slow (%lld.%06lld sec), logging",
		    cf->name, (int)w->pid, log_vis(vis, sizeof(vis),
		    ri->script), req_what(ri->method, ri->uri),
		    (long long)us / 1000000, (long long)us % 1000000);
		if (cf->slowlog != NULL && w->pid != 0)
			slow_trace(w);
	}
	slow_arm(w);
}

/* Run fpm-slowlog trace on w; it writes the entry itself. */
static void
slow_trace(struct worker *w)
{
	struct conf_pool	*cf = w->pool->cf;
	struct tracer		*t;
	struct spawn		 s;
	char			 pid[16], depth[16], err[256];
	char			*argv[16];
	int			 i = 0, pidfd;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	snprintf(depth, sizeof(depth), "%d", cf->request_slowlog_trace_depth);
	argv[i++] = (char *)slow_program();
	argv[i++] = "trace";
	argv[i++] = "--pid";
	argv[i++] = pid;
	argv[i++] = "--depth";
	argv[i++] = depth;
	argv[i++] = "--pool";
	argv[i++] = cf->name;
	argv[i++] = "--script";
	argv[i++] = w->cur.script[0] != '\0' ? w->cur.script : "-";
	argv[i++] = "--output";
	argv[i++] = cf->slowlog;
	argv[i] = NULL;
	spawn_init(&s);
	s.argv = argv;
	s.envp = environ;
	s.stderr_fd = log_fd() >= 0 ? log_fd() : -1;
	log_info("child %d stopped for tracing", (int)w->pid);
	log_info("about to trace %d", (int)w->pid);
	if ((t->pid = spawn_start(&s, &pidfd, err, sizeof(err))) == -1) {
		log_warnx("[pool %s] unable to trace child %d: %s", cf->name,
		    (int)w->pid, errno == ENOENT || errno == ENOEXEC ||
		    errno == ECHILD ? err : strerror(errno));
		free(t);
		return;
	}
	t->target = w->pid;
	strlcpy(t->pool, cf->name, sizeof(t->pool));
	t->src.fd = pidfd;
	t->src.cb = slow_reap;
	if (ev_add(&t->src, EPOLLIN) == -1) {
		close(pidfd);
		free(t);	/* reaped by nobody: a zombie until we exit */
	}
}

static void
slow_reap(struct ev_source *src, uint32_t events)
{
	struct tracer	*t = container_of(src, struct tracer, src);
	siginfo_t	 si;

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)src->fd, &si, WEXITED | WNOHANG)
	    == -1 || si.si_pid == 0)
		return;
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		log_info("finished trace of %d", (int)t->target);
	else
		log_warnx("[pool %s] the trace of child %d failed (fpm-slowlog "
		    "%s %d)", t->pool, (int)t->target, si.si_code ==
		    CLD_EXITED ? "exited with code" : "killed by signal",
		    si.si_status);
	ev_close(src);
	ev_defer_free(t);
}
