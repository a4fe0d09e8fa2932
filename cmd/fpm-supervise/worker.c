/* SPDX-License-Identifier: ISC */
/*
 * A pool's workers: spawn, connect, probe (Finishing), retire, kill, reap;
 * their state, changed only by worker_set_state().
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/sock.h"
#include "fpm.h"

#define QUICK_DEATH_MS	1000		/* lived less: counts as a failure */
#define FAST_STOP_MS	1000		/* SIGTERM to SIGKILL on a fast stop */

static unsigned long	worker_seq;

static void	worker_reap(struct ev_source *, uint32_t);
static void	worker_sock_event(struct ev_source *, uint32_t);
static void	worker_check_back(struct worker *);
static void	worker_back(struct worker *);
static void	worker_kill_timeout(struct ev_timer *);
static void	worker_free(struct worker *);
static void	worker_leave(struct worker *);
static void	worker_set_state(struct worker *, enum worker_state);
static int	worker_bind(struct pool *);
static void	worker_join(struct pool *, struct worker *);

/*
 * A new worker for p, listening on its private socket: 0, or -1 (said,
 * and the pool braked when the start itself failed).
 */
int
worker_spawn(struct pool *p)
{
	struct worker	*w;

	if (p->grouped)
		return (worker_bind(p));
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    ev_timer_reserve(WORKER_NTIMERS) == -1) {
		log_warn("[pool %s] unable to spawn a worker", p->cf->name);
		free(w);
		return (-1);
	}
	w->pool = p;
	w->sock.fd = -1;
	w->statfd = -1;
	w->out.src.fd = w->err.src.fd = -1;
	w->kill_timer.cb = worker_kill_timeout;
	w->req_timer.cb = slow_timeout;
	if (worker_exec(w, "w", 128, worker_reap) == -1) {
		ev_timer_unreserve(WORKER_NTIMERS);
		free(w);
		return (-1);
	}
	stat_open(w);
	log_info("[pool %s] child %d started", p->cf->name, (int)w->pid);
	worker_join(p, w);
	return (0);
}

/* w, just started or bound, joins p's workers, idle. */
static void
worker_join(struct pool *p, struct worker *w)
{
	w->last_used = w->started;
	if (p->cf->max_requests > 0) {
		/* up to +12.5% so that workers don't all retire together */
		w->max_requests = (unsigned long)p->cf->max_requests +
		    arc4random_uniform((uint32_t)p->cf->max_requests / 8 + 1);
	}
	TAILQ_INSERT_TAIL(&p->workers, w, entry);
	p->nworkers++;
	worker_set_state(w, W_IDLE);
	pool_post(p);		/* it takes the queue */
}

/*
 * Start w's process, a worker or a php.group's php-cgi, on a new private
 * socket (runtime_dir/KIND<n>.sock, listen(2) backlog) with reap called
 * when it goes: 0, or -1 (said, the pool braked when the program failed to
 * start; the caller frees w).
 */
int
worker_exec(struct worker *w, const char *kind, int backlog,
    void (*reap)(struct ev_source *, uint32_t))
{
	struct pool		*p = w->pool;
	struct sock_addr	 addr;
	char			 err[512];
	int			 lfd, pidfd, outfd = -1, errfd = -1;

	snprintf(w->path, sizeof(w->path), "%s/%s%lu.sock", runtime_dir, kind,
	    ++worker_seq);
	if (sock_parse(w->path, &addr) == -1 ||
	    (lfd = sock_listen(&addr, backlog, NULL)) == -1) {
		log_warn("[pool %s] unable to create %s", p->cf->name, w->path);
		return (-1);
	}
	output_setup(w, &outfd, &errfd);
	p->spawn.sock = lfd;
	p->spawn.stdout_fd = outfd;
	p->spawn.stderr_fd = errfd;
	w->pid = spawn_start(&p->spawn, &pidfd, err, sizeof(err));
	close(lfd);
	if (outfd != -1)
		close(outfd);
	if (errfd != -1 && errfd != outfd)
		close(errfd);
	if (w->pid == -1) {
		log_errorx("[pool %s] unable to start %s: %s", p->cf->name,
		    *kind == 'g' ? "php-cgi" : "a worker", errno == ENOENT ||
		    errno == ENOEXEC || errno == ECHILD ? err : strerror(errno));
		output_close(w);
		unlink(w->path);
		pool_brake(p, "workers fail to start");
		if (p->respawn_timer.slot == 0)
			ev_timer_set(&p->respawn_timer, 1000);
		return (-1);
	}
	w->pidsrc.fd = pidfd;
	w->pidsrc.cb = reap;
	if (ev_add(&w->pidsrc, EPOLLIN) == -1)
		fatal("epoll_ctl");
	w->started = ev_now();
	clock_gettime(CLOCK_REALTIME, &w->started_rt);
	return (0);
}

/*
 * php.group: a new worker is a connection to the group's socket, which the
 * first idle child accepts (group.c): it is ready at once, its pid known
 * once asked (group_identify).  0, or -1 (said).
 */
static int
worker_bind(struct pool *p)
{
	struct worker	*w;
	struct phpgrp	*g;

	if ((g = group_current(p)) == NULL)
		return (-1);
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    ev_timer_reserve(WORKER_NTIMERS) == -1) {
		log_warn("[pool %s] unable to add a worker", p->cf->name);
		free(w);
		return (-1);
	}
	w->pool = p;
	w->group = g;
	group_bind(g);
	w->sock.fd = w->statfd = w->pidsrc.fd = -1;
	w->out.src.fd = w->err.src.fd = -1;
	w->kill_timer.cb = worker_kill_timeout;
	w->req_timer.cb = slow_timeout;
	strlcpy(w->path, g->leader.path, sizeof(w->path));
	w->started = ev_now();
	clock_gettime(CLOCK_REALTIME, &w->started_rt);
	worker_join(p, w);
	/*
	 * Connected now, so that a child takes it now (a spare is ready),
	 * and one we let go has a pid to signal.  If it fails (said), the
	 * first request tries again.
	 */
	(void)worker_connect(w);
	return (0);
}

/* An idle worker to dispatch to, most recently used first; NULL if none. */
struct worker *
pool_idle_worker(struct pool *p)
{
	struct worker	*w;

	if ((w = TAILQ_FIRST(&p->idle)) == NULL)
		return (NULL);
	worker_set_state(w, W_BUSY);
	/* dynamic: a spare was just used, replace it in this turn */
	if (p->cf->pm == CONF_PM_DYNAMIC && p->nidle < p->cf->min_spare_servers)
		pool_post(p);
	return (w);
}

/*
 * Events on w's connection.  Without a request, it may be finishing (the
 * probe read: it is back) or idle; either way it has nothing to say, and
 * EOF or bytes from it end the connection.
 */
static void
worker_sock_event(struct ev_source *src, uint32_t events)
{
	struct worker	*w = container_of(src, struct worker, sock);
	uint8_t		 junk[512];
	ssize_t		 n;
	int		 closed;

	/* a group's child answers: it has accepted, we can tell which */
	if (w->group != NULL && w->pid == 0 && (events & EPOLLIN) &&
	    w->ident_tries < 3) {
		w->ident_tries++;
		group_identify(w);
	}
	if (w->conn != NULL) {
		conn_worker_event(w, events);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		n = read(w->sock.fd, junk, sizeof(junk));
		if (n != -1 || errno != EAGAIN) {
			if (n > 0)
				log_warnx("[pool %s] child %d sent %zd bytes "
				    "%s: closing its connection",
				    w->pool->cf->name, (int)w->pid, n,
				    w->finishing ? "after its END_REQUEST" :
				    "while idle");
			closed = n == 0 || (n == -1 && errno == ECONNRESET);
			worker_disconnect(w);
			/*
			 * finishing or idle: the probe read and the close
			 * may come in one turn or in two
			 */
			if (closed && w->pool->probe == PROBE_AFTER &&
			    !w->pool->hinted) {
				w->pool->hinted = 1;
				log_info("[pool %s] child %d closed its "
				    "connection after its request; if its "
				    "workers do that each time (php-cgi run "
				    "under another name does, on the finish "
				    "probe), each request costs a new "
				    "connection: see request.finish_probe",
				    w->pool->cf->name, (int)w->pid);
			}
			if (w->finishing)
				worker_back(w);
			/*
			 * With fpm.so its child is gone and php-cgi forks
			 * another when asked ('X'): connected again now, so
			 * that one takes it, and a trim has a pid to signal
			 * (else the new child outlives its worker, a spare).
			 */
			else if (closed && w->group != NULL &&
			    w->group->forker && !w->group->retiring &&
			    w->state == W_IDLE)
				(void)worker_connect(w);
			return;
		}
	}
	if (w->finishing && (events & EPOLLOUT))
		worker_check_back(w);
}

/*
 * Has w read everything we wrote, the probe included?  Then it is back.
 * The kernel wakes us while it frees the last buffer, before it drops its
 * own last reference: 1 byte "unread" is that moment (a real buffer
 * counts hundreds).
 */
static void
worker_check_back(struct worker *w)
{
	int	unread;

	if (ioctl(w->sock.fd, SIOCOUTQ, &unread) == -1 || unread <= 1)
		worker_back(w);
}

/*
 * w's END_REQUEST is in and its connection has left it.  It is back for
 * another request when it has read the probe (fpm.h); until then it is
 * finishing: busy, "Finishing" in status, and timed only with
 * request_terminate_timeout_track_finished.
 */
void
worker_end_request(struct worker *w)
{
	/* FCGI_STDIN of request 2, which we never use, 8 bytes of zeros */
	static const uint8_t	probe[16] = { FCGI_VERSION_1, FCGI_STDIN,
				    0, 2, 0, 8, 0, 0 };

	if (w->dead || w->sock.fd == -1 || w->pool->probe == PROBE_NONE) {
		worker_back(w);
		return;
	}
	if (w->pool->probe == PROBE_AFTER &&
	    write(w->sock.fd, probe, sizeof(probe)) != sizeof(probe)) {
		/* it did not read all of its request: start afresh */
		worker_disconnect(w);
		worker_back(w);
		return;
	}
	w->finishing = 1;
	worker_check_back(w);
	if (w->finishing)
		slow_arm(w);
}

/* Running a request, or still working after its END_REQUEST (fpm.h). */
int
worker_busy(const struct worker *w)
{
	return (w->conn != NULL || w->finishing);
}

/*
 * w is back, waiting for a request: the request is over, for status, the
 * access log and the histograms; then w is free (worker_done).
 */
static void
worker_back(struct worker *w)
{
	struct pool	*p = w->pool;
	int64_t		 now = ev_now_us();

	w->finishing = 0;
	ev_timer_stop(&w->req_timer);
	output_request_end(w->group != NULL ? &w->group->leader : w);
	w->last = w->cur;
	w->last.duration_us = now - w->cur.start_us;
	/* a pread of /proc is not free: only when someone may look */
	if (stat_wanted(p))
		stat_sample(w, now - w->fwd_us);
	stat_observe(p->dur_count, &p->dur_sum, w->last.duration_us);
	alog_write(p, w->pid, &w->last, w->params, w->paramslen, w->hdrs,
	    w->hdrslen);
	if (!w->dead)
		worker_done(w);
}

/* Connect to the worker's socket if we have no connection; 0 or -1. */
int
worker_connect(struct worker *w)
{
	struct sock_addr	addr;
	int			fd;

	if (w->sock.fd != -1)
		return (0);
	if (sock_parse(w->path, &addr) == -1)
		return (-1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&addr.ss, addr.len) == -1) {
		log_warn("[pool %s] unable to connect to child %d",
		    w->pool->cf->name, (int)w->pid);
		close(fd);
		return (-1);
	}
	w->sock.fd = fd;
	w->sock.cb = worker_sock_event;
	w->ident_tries = 0;
	/* edge-triggered: EPOLLOUT then tells us the worker read our bytes */
	if (ev_add(&w->sock, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) == -1) {
		close(fd);
		w->sock.fd = -1;
		return (-1);
	}
	return (0);
}

void
worker_disconnect(struct worker *w)
{
	if (w->sock.fd == -1)
		return;
	ev_close(&w->sock);
	/* a group's child that had it takes another connection now */
	if (w->group != NULL)
		group_unbind(w);
}

/* The request is over: back to the idle stack, or retire. */
void
worker_done(struct worker *w)
{
	struct pool	*p = w->pool;

	w->conn = NULL;
	w->requests++;
	w->last_used = ev_now();
	if (w->group != NULL)
		w->group->last_used = w->last_used;
	p->fails = 0;
	if (w->state == W_RETIRING || sv_state == SV_TERMINATING) {
		/* nothing more for it: a fast stop serves no queue */
		worker_retire(w, SIGTERM);
		pool_post(p);
		return;
	}
	if ((sv_stopping() || p->draining) && TAILQ_EMPTY(&p->queue)) {
		/* graceful stop: it served what was waiting, now it goes */
		worker_retire(w, SIGTERM);
		return;
	}
	if (w->max_requests != 0 && w->requests >= w->max_requests) {
		log_info("[pool %s] child %d reached pm.max_requests (%lu), "
		    "retiring", p->cf->name, (int)w->pid, w->requests);
		worker_retire(w, SIGTERM);
		pool_post(p);
		return;
	}
	if (p->cf->max_memory > 0 && pm_over_memory(w)) {
		worker_retire(w, SIGTERM);
		pool_post(p);
		return;
	}
	worker_set_state(w, W_IDLE);
	pool_post(p);
}

/* Off the idle stack, and counted as retiring: no request comes to it. */
static void
worker_leave(struct worker *w)
{
	if (w->state != W_RETIRING)
		worker_set_state(w, W_RETIRING);
}

#define S(x)	(1U << (x))
/* The moves fpm.h's worker table allows, from each state. */
static const unsigned int worker_moves[] = {
	[W_NEW] = S(W_IDLE),
	[W_IDLE] = S(W_BUSY) | S(W_RETIRING),
	[W_BUSY] = S(W_IDLE) | S(W_RETIRING),
	[W_RETIRING] = 0
};

/*
 * The one way w's state changes, checked against the table (a move it
 * does not list is our bug: said, and abort).  It keeps the pool's idle
 * stack (most recently used first) and its counts.
 */
static void
worker_set_state(struct worker *w, enum worker_state to)
{
	struct pool	*p = w->pool;

	if (!(worker_moves[w->state] & S(to))) {
		log_errorx("[pool %s] bug: child %d state %d to %d",
		    p->cf->name, (int)w->pid, (int)w->state, (int)to);
		abort();
	}
	if (w->state == W_IDLE) {
		TAILQ_REMOVE(&p->idle, w, idle);
		p->nidle--;
	}
	if (to == W_IDLE) {
		TAILQ_INSERT_HEAD(&p->idle, w, idle);
		p->nidle++;
	}
	if (to == W_RETIRING)
		p->nretiring++;
	w->state = to;
}
#undef S

/*
 * Ask w to go: a busy worker (running or finishing) finishes first, within
 * process_control_timeout when set, and gets the signal from worker_done;
 * an idle one gets sig now, and SIGKILL after the grace.
 */
void
worker_retire(struct worker *w, int sig)
{
	struct pool	*p = w->pool;
	int64_t		 grace;

	if (w->dead)
		return;		/* gone already (a group's, in this turn) */
	worker_leave(w);
	if (worker_busy(w)) {
		if (w->kill_timer.slot == 0 &&
		    fpmconf.global.process_control_timeout_ms > 0)
			ev_timer_set(&w->kill_timer,
			    fpmconf.global.process_control_timeout_ms);
		return;
	}
	if (w->group != NULL) {
		/*
		 * The child first, so that it leaves when it sees the
		 * connection close, before it can accept another; nothing
		 * to wait for here: the group watches its children.  sig 0
		 * (a trim), or a retiring group: the child stays.
		 */
		if (sig != 0 && !w->group->retiring)
			group_signal(w, sig);
		worker_disconnect(w);
		if (!w->dead) {
			worker_free(w);
			pool_post(p);
		}
		return;
	}
	worker_disconnect(w);
	ev_timer_stop(&w->req_timer);
	w->signaled = sig;
	if (syscall(SYS_pidfd_send_signal, w->pidsrc.fd, sig, NULL, 0) == -1 &&
	    errno != ESRCH)
		log_warn("[pool %s] unable to signal child %d", p->cf->name,
		    (int)w->pid);
	grace = sv_state == SV_TERMINATING ? FAST_STOP_MS :
	    fpmconf.global.process_control_timeout_ms;
	if (grace <= 0)
		grace = FAST_STOP_MS;
	if (w->kill_timer.slot == 0)
		ev_timer_set(&w->kill_timer, grace);
}

static void
worker_kill_timeout(struct ev_timer *t)
{
	struct worker	*w = container_of(t, struct worker, kill_timer);

	if (w->group != NULL) {
		/* busy after process_control_timeout: its child goes */
		log_warnx("[pool %s] child %d still busy after "
		    "process_control_timeout (%lld ms), terminating",
		    w->pool->cf->name, (int)w->pid,
		    (long long)fpmconf.global.process_control_timeout_ms);
		group_signal(w, SIGTERM);
		if (w->conn != NULL)
			conn_worker_died(w->conn);
		w->conn = NULL;
		w->finishing = 0;
		worker_retire(w, 0);
		return;
	}
	if (w->signaled == 0) {
		/* retired while busy, and process_control_timeout is over */
		log_warnx("[pool %s] child %d still busy after "
		    "process_control_timeout (%lld ms), terminating",
		    w->pool->cf->name, (int)w->pid,
		    (long long)fpmconf.global.process_control_timeout_ms);
		w->finishing = 0;
		w->signaled = SIGTERM;
		syscall(SYS_pidfd_send_signal, w->pidsrc.fd, SIGTERM, NULL, 0);
		ev_timer_set(&w->kill_timer, FAST_STOP_MS);
		return;
	}
	log_warnx("[pool %s] child %d still alive after the grace time, "
	    "sending SIGKILL", w->pool->cf->name, (int)w->pid);
	w->signaled = SIGKILL;
	syscall(SYS_pidfd_send_signal, w->pidsrc.fd, SIGKILL, NULL, 0);
}

void
worker_exit_reason(char *buf, size_t size, const siginfo_t *si)
{
	const char	*name;

	switch (si->si_code) {
	case CLD_EXITED:
		snprintf(buf, size, "exited with code %d", si->si_status);
		break;
	case CLD_KILLED:
	case CLD_DUMPED:
		name = sigabbrev_np(si->si_status);
		snprintf(buf, size, "exited on signal %d (SIG%s%s)",
		    si->si_status, name ? name : "?",
		    si->si_code == CLD_DUMPED ? " - core dumped" : "");
		break;
	default:
		snprintf(buf, size, "exited (code %d)", si->si_code);
		break;
	}
}

/* The pidfd is readable: the worker is gone.  Log why, clean up, replace. */
static void
worker_reap(struct ev_source *src, uint32_t events)
{
	struct worker	*w = container_of(src, struct worker, pidsrc);
	struct pool	*p = w->pool;
	siginfo_t	 si;
	struct timespec	 now;
	char		 why[96];
	long long	 us;
	int64_t		 lived;
	int		 expected;

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)src->fd, &si, WEXITED | WNOHANG)
	    == -1 || si.si_pid == 0)
		return;
	lived = ev_now() - w->started;
	clock_gettime(CLOCK_REALTIME, &now);
	us = (now.tv_sec - w->started_rt.tv_sec) * 1000000LL +
	    (now.tv_nsec - w->started_rt.tv_nsec) / 1000;
	worker_exit_reason(why, sizeof(why), &si);
	expected = w->state == W_RETIRING && !w->failed;
	/* a clean exit, or the signal we sent it, is no news */
	log_msg((si.si_code == CLD_EXITED && si.si_status == 0) ||
	    (si.si_code == CLD_KILLED && si.si_status == w->signaled) ?
	    LOG_LVL_NOTICE : LOG_LVL_WARNING,
	    "[pool %s] child %d %s after %lld.%06lld seconds from start",
	    p->cf->name, (int)w->pid, why, us / 1000000, us % 1000000);
	output_close(w);
	worker_free(w);
	/*
	 * Dying at start is dying quickly before taking any request: a
	 * worker that a request crashed (the request got its 502) says
	 * nothing about the next start, and must not slow the pool down.
	 */
	if (!expected && !sv_stopping()) {
		if (lived < QUICK_DEATH_MS && w->taken == 0)
			pool_brake(p, "workers keep dying at start");
		else
			p->fails = 0;
	}
	pm_worker_died(p, &si);
	pool_post(p);
	pool_gc(p);
}

/* Unlink w from everything; a request it served gets its answer first. */
static void
worker_free(struct worker *w)
{
	struct pool	*p = w->pool;

	/* retiring first: nothing may be dispatched to it any more */
	worker_leave(w);
	w->dead = 1;
	if (w->conn != NULL)
		conn_worker_died(w->conn);
	w->conn = NULL;
	w->finishing = 0;
	ev_timer_stop(&w->req_timer);
	free(w->params);
	free(w->hdrs);
	w->params = NULL;
	w->hdrs = NULL;
	worker_disconnect(w);
	p->nretiring--;
	TAILQ_REMOVE(&p->workers, w, entry);
	p->nworkers--;
	ev_timer_stop(&w->kill_timer);
	ev_timer_stop(&w->out_timer);
	ev_timer_unreserve(WORKER_NTIMERS);
	ev_close(&w->pidsrc);
	if (w->statfd != -1)
		close(w->statfd);
	if (w->group != NULL)
		group_worker_gone(w);	/* its socket is the group's */
	else
		unlink(w->path);
	/* freed after this loop turn: see libcommon/ev.h */
	w->pool = NULL;
	ev_defer_free(w);
}
