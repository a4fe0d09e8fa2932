/* SPDX-License-Identifier: ISC */
/*
 * php.group: the workers of a php-cgi pool are the children of one php-cgi
 * of ours (PHP_FCGI_CHILDREN), forked after its start-up, so that they
 * share its OPcache and start warm when it re-forks one.
 *
 * php-cgi's children all accept(2) on the group's socket, so a worker here
 * is a connection, not a process: it is bound to the child that accepted
 * it, which serves nothing else while we keep the connection (FastCGI's
 * KEEP_CONN).  Which child that is we learn from the kernel: sock_diag
 * gives the inode of our connection's other end, and the child holding it
 * has it among its fds.  The children's lives (their pidfds) are watched
 * here, apart from the workers: a child may die with no worker bound to it,
 * and a worker may be unbound from a live child (connection closed).
 *
 * The parent is ours: stopped (SIGTERM, which php-cgi passes to its
 * process group) once the group has no worker left, and the group retired
 * by a restart, a reload that changes the pool, or an emergency restart:
 * a new group, a new cache.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/phpgroup.h"
#include "libcommon/sock.h"
#include "fpm.h"

/*
 * Linux 6.15's exit status of any pidfd's process, even one that is not
 * our child (the children are php-cgi's): the first version of the struct
 * is enough.
 */
struct pidfd_info_v0 {
	uint64_t	mask;
	uint64_t	cgroupid;
	uint32_t	pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t	fsuid, fsgid;
	int32_t		exit_code;
};
#define GROUP_PIDFD_GET_INFO	_IOWR(0xFF, 11, struct pidfd_info_v0)
#define GROUP_PIDFD_INFO_EXIT	(1ULL << 3)

#define GROUP_FAST_STOP_MS	1000	/* SIGTERM to SIGKILL */
#define GROUP_EXIT_TRIES	50	/* 10 ms apart: its parent reaps it */
#define GROUP_SCAN_MS		10	/* looking for its new children */
#define GROUP_SCANS		300	/* for 3 s at most */
#define GROUP_NTIMERS		(WORKER_NTIMERS + 1)	/* and scan */
#define GROUP_MAX_KIDS		8192	/* seen at once: above pm.max_children */

static int		diagfd = -1;	/* NETLINK_SOCK_DIAG, once needed */

static void	group_reap(struct ev_source *, uint32_t);
static void	group_kill_timeout(struct ev_timer *);
static void	group_kill(struct worker *);
static void	group_free(struct phpgrp *);
static struct gchild *group_watch(struct phpgrp *, pid_t);
static int64_t	gchild_stat(pid_t, pid_t *);
static void	gchild_event(struct ev_source *, uint32_t);
static void	gchild_gone(struct gchild *);
static void	gchild_timeout(struct ev_timer *);
static void	gchild_exited(struct gchild *, const siginfo_t *);
static void	gchild_free(struct gchild *);
static void	gchild_signal(struct gchild *, int);
static int	group_peer_inode(int, unsigned int *);
static int	group_children(struct phpgrp *, pid_t *, size_t);
static int	group_holds(pid_t, unsigned int);
static void	group_scan(struct phpgrp *);
static void	group_scan_timeout(struct ev_timer *);
static int	group_chan_open(struct phpgrp *);
static void	group_chan_event(struct ev_source *, uint32_t);
static void	group_chan_read(struct phpgrp *);
static void	group_heard(struct phpgrp *, const struct phpgroup_rec *);
static void	group_want(struct phpgrp *);

/*
 * The group p's new workers bind to, started if there is none: NULL when
 * it cannot start (said, the pool braked) or is full.  A child signaled
 * and not gone yet (request_terminate_timeout: its script runs on until
 * SIGKILL) is no room: php-cgi forks its successor once it is gone, and
 * a connection made before would wait for that, idle to us.
 */
struct phpgrp *
group_current(struct pool *p)
{
	struct phpgrp	*g = p->group;

	if (g != NULL && !g->retiring)
		return (g->nworkers + g->nleaving < g->nchildren ? g : NULL);
	return (group_start(p));
}

/* A new php-cgi parent for p, which forks up to pm.max_children children. */
struct phpgrp *
group_start(struct pool *p)
{
	struct phpgrp	*g;
	struct worker	*l;
	int		 rc;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    ev_timer_reserve(GROUP_NTIMERS) == -1) {
		log_warn("[pool %s] unable to start php-cgi", p->cf->name);
		free(g);
		return (NULL);
	}
	g->pool = p;
	g->nchildren = p->cf->max_children;
	LIST_INIT(&g->children);
	l = &g->leader;
	l->pool = p;
	l->sock.fd = l->statfd = -1;
	l->out.src.fd = l->err.src.fd = -1;
	l->kill_timer.cb = group_kill_timeout;
	g->scan.cb = group_scan_timeout;
	/*
	 * Only fpm.so takes fd 3 from php-cgi's children: without it, each
	 * script and what it runs would hold the socket, and could speak
	 * for php-cgi.
	 */
	g->chan.fd = -1;
	if (p->phpext && group_chan_open(g) == -1) {
		ev_timer_unreserve(GROUP_NTIMERS);
		free(g);
		return (NULL);
	}
	/* every worker may connect before one child accepts */
	rc = worker_exec(l, "g", g->nchildren + 128, group_reap);
	/* php-cgi has its copy of its end of the socket, or none: ours goes */
	if (p->spawn.fd3 != -1) {
		close(p->spawn.fd3);
		p->spawn.fd3 = -1;
	}
	if (rc == -1) {
		ev_close(&g->chan);
		ev_timer_unreserve(GROUP_NTIMERS);
		free(g);
		return (NULL);
	}
	g->last_used = l->started;
	LIST_INSERT_HEAD(&p->groups, g, entry);
	p->ngroups++;
	if (p->group != NULL)
		group_retire(p->group);
	p->group = g;
	log_info("[pool %s] php-cgi %d started: its children, %d at most, "
	    "are the workers, with one OPcache (php.group)", p->cf->name,
	    (int)l->pid, g->nchildren);
	ev_timer_set(&g->scan, GROUP_SCAN_MS);
	return (g);
}

/*
 * php-cgi's end of g's socket (libcommon/phpgroup.h) goes to its fd 3
 * through p->spawn.fd3, ours is watched: 0, or -1 (said).
 */
static int
group_chan_open(struct phpgrp *g)
{
	struct pool	*p = g->pool;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("[pool %s] unable to start php-cgi: socketpair",
		    p->cf->name);
		return (-1);
	}
	g->chan.fd = sv[0];
	g->chan.cb = group_chan_event;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    ev_add(&g->chan, EPOLLIN) == -1) {
		log_warn("[pool %s] unable to start php-cgi", p->cf->name);
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	p->spawn.fd3 = sv[1];
	return (0);
}

/* A worker binds to g: a child for it, if g forks when asked. */
void
group_bind(struct phpgrp *g)
{
	g->nworkers++;
	group_want(g);
}

/*
 * As many children asked for as there are workers bound, and children
 * signaled that hold their place until they go.  Asked before php-cgi has
 * said it forks when asked: an older fpm.so forks them all by itself and
 * never reads, and the few bytes wait in the socket.  A child that was
 * trimmed before it accepted (no pid to signal) stays a spare.
 */
static void
group_want(struct phpgrp *g)
{
	static const unsigned char	 asks[64];
	ssize_t				 n;
	int				 k;

	while (g->chan.fd != -1 && !g->dead &&
	    (k = g->nworkers + g->nleaving - g->nforks) > 0) {
		if (k > (int)sizeof(asks))
			k = (int)sizeof(asks);
		if ((n = write(g->chan.fd, asks, (size_t)k)) == -1) {
			if (errno != EINTR)
				break;	/* php-cgi is going: group_reap */
			continue;
		}
		g->nforks += (int)n;
	}
}

static void
group_chan_event(struct ev_source *src, uint32_t events)
{
	(void)events;
	group_chan_read(container_of(src, struct phpgrp, chan));
}

/* Every record php-cgi has written; at its end, the socket is closed. */
static void
group_chan_read(struct phpgrp *g)
{
	struct phpgroup_rec	 r;
	unsigned char		 buf[64 * sizeof(r)];
	ssize_t			 n;
	size_t			 i, k;

	while (g->chan.fd != -1) {
		if ((n = read(g->chan.fd, buf, sizeof(buf))) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			ev_close(&g->chan);
			return;
		}
		for (i = 0; i < (size_t)n; i += k) {
			k = sizeof(r) - g->rlen;
			if (k > (size_t)n - i)
				k = (size_t)n - i;
			memcpy(g->rbuf + g->rlen, buf + i, k);
			if ((g->rlen += k) < sizeof(r))
				break;
			g->rlen = 0;
			memcpy(&r, g->rbuf, sizeof(r));
			group_heard(g, &r);
			if (g->chan.fd == -1)
				return;
		}
	}
}

/* One record from g's php-cgi, or from a child it just forked. */
static void
group_heard(struct phpgrp *g, const struct phpgroup_rec *r)
{
	struct gchild	*c;

	switch (r->kind) {
	case 'H':
		g->forker = 1;
		ev_timer_stop(&g->scan);
		break;
	case 'F':
		/* ours and forked by our php-cgi: group_watch checks */
		if (r->pid > 0 && !g->retiring)
			group_watch(g, r->pid);
		/* a spare, if no worker is left (pm.c: group_trim) */
		if (g->nworkers == 0)
			pool_post(g->pool);
		break;
	case 'X':
		if (g->nforks > 0)
			g->nforks--;
		LIST_FOREACH(c, &g->children, entry)
			if (c->pid == r->pid)
				break;
		if (c != NULL) {
			/*
			 * Its end from the loop, not from here: a read of
			 * this socket may be nested (group_identify), and an
			 * end may count towards an emergency restart.
			 */
			c->status = r->status;
			c->has_status = 1;
			if (!c->exited)
				gchild_gone(c);
			ev_timer_stop(&c->timer);
			ev_timer_set(&c->timer, 0);
		}
		group_want(g);
		break;
	default:
		break;		/* a later fpm.so's: not ours to know */
	}
}

/* No new worker binds to g; it stops when its last worker is gone. */
void
group_retire(struct phpgrp *g)
{
	if (g->pool->group == g)
		g->pool->group = NULL;
	g->retiring = 1;
	group_check(g);
}

/*
 * Stop g when nothing needs it: no worker bound, and retired or its pool
 * stopping.  (An idle ondemand pool retires its group: pm.c.)
 */
void
group_check(struct phpgrp *g)
{
	struct worker	*l = &g->leader;
	struct pool	*p = g->pool;

	if (g->nworkers > 0 || l->signaled != 0 || g->dead)
		return;
	if (!g->retiring && !sv_stopping() && !p->draining)
		return;
	if (p->group == g)
		p->group = NULL;
	g->retiring = 1;
	/* php-cgi passes it on to its children, which are all idle now */
	l->signaled = SIGTERM;
	if (syscall(SYS_pidfd_send_signal, l->pidsrc.fd, SIGTERM, NULL, 0)
	    == -1 && errno != ESRCH)
		log_warn("[pool %s] unable to signal php-cgi %d", p->cf->name,
		    (int)l->pid);
	ev_timer_set(&l->kill_timer, sv_state == SV_TERMINATING ?
	    GROUP_FAST_STOP_MS : fpmconf.global.process_control_timeout_ms >
	    0 ? fpmconf.global.process_control_timeout_ms : GROUP_FAST_STOP_MS);
}

static void
group_kill_timeout(struct ev_timer *t)
{
	struct worker	*l = container_of(t, struct worker, kill_timer);

	log_warnx("[pool %s] php-cgi %d still alive after the grace time, "
	    "sending SIGKILL to its process group", l->pool->cf->name,
	    (int)l->pid);
	l->signaled = SIGKILL;
	group_kill(l);
}

/* SIGKILL to what is left of l's process group (php-cgi and children). */
static void
group_kill(struct worker *l)
{
	if (kill(-l->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("[pool %s] unable to kill php-cgi %d's process group",
		    l->pool->cf->name, (int)l->pid);
}

/* The parent is gone: its children go too, and the group with them. */
static void
group_reap(struct ev_source *src, uint32_t events)
{
	struct worker	*l = container_of(src, struct worker, pidsrc);
	struct phpgrp	*g = container_of(l, struct phpgrp, leader);
	struct pool	*p = g->pool;
	struct worker	*w, *tw;
	siginfo_t	 si;
	char		 why[96];
	int		 expected;

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)src->fd, &si, WEXITED | WNOHANG)
	    == -1 || si.si_pid == 0)
		return;
	g->dead = 1;
	worker_exit_reason(why, sizeof(why), &si);
	expected = l->signaled != 0;
	log_msg(expected ? LOG_LVL_NOTICE : LOG_LVL_WARNING,
	    "[pool %s] php-cgi %d %s after %lld ms", p->cf->name, (int)l->pid,
	    why, (long long)(ev_now() - l->started));
	/* what is left of its process group: nothing can reach it now */
	group_kill(l);
	TAILQ_FOREACH_SAFE(w, &p->workers, entry, tw)
		if (w->group == g) {
			if (w->conn != NULL)
				conn_worker_died(w->conn);
			w->conn = NULL;
			w->finishing = 0;
			worker_retire(w, 0);
		}
	if (!expected && !sv_stopping() && ev_now() - l->started < 1000)
		pool_brake(p, "php-cgi keeps dying at start");
	group_free(g);
	pool_post(p);
	pool_gc(p);
}

static void
group_free(struct phpgrp *g)
{
	struct worker	*l = &g->leader;
	struct pool	*p = g->pool;
	struct gchild	*c;

	while ((c = LIST_FIRST(&g->children)) != NULL)
		gchild_free(c);
	if (p->group == g)
		p->group = NULL;
	LIST_REMOVE(g, entry);
	p->ngroups--;
	output_close(l);
	ev_timer_stop(&l->kill_timer);
	ev_timer_stop(&l->out_timer);
	ev_timer_stop(&g->scan);
	ev_timer_unreserve(GROUP_NTIMERS);
	ev_close(&g->chan);
	ev_close(&l->pidsrc);
	unlink(l->path);
	ev_defer_free(g);
}

/* w is no longer bound to g (worker_free). */
void
group_worker_gone(struct worker *w)
{
	struct phpgrp	*g = w->group;

	w->group = NULL;
	g->nworkers--;
	group_check(g);
}

/* Every group of p goes once it has no worker (a stop, a drain). */
void
groups_retire(struct pool *p)
{
	struct phpgrp	*g, *tg;

	LIST_FOREACH_SAFE(g, &p->groups, entry, tg)
		group_retire(g);
}

/*
 * Which child of w's group holds w's connection: 0 (w->pid set, the child
 * watched), or -1 when none does yet (not accepted) or it cannot be told.
 */
int
group_identify(struct worker *w)
{
	struct phpgrp	*g = w->group;
	struct gchild	*c;
	unsigned int	 peer;

	if (w->pid != 0)
		return (0);
	if (g == NULL || w->sock.fd == -1 ||
	    group_peer_inode(w->sock.fd, &peer) == -1)
		return (-1);
	/* its 'F' may wait in this batch still */
	group_chan_read(g);
	if (!g->forker)
		group_scan(g);
	LIST_FOREACH(c, &g->children, entry)
		if (!c->exited && group_holds(c->pid, peer)) {
			w->pid = c->pid;
			/* pm.max_requests counts the child's, not ours */
			w->requests = c->requests;
			stat_open(w);
			return (0);
		}
	return (-1);
}

/*
 * Watch every child of g (each logged as started, as PHP-FPM logs its
 * forks), and look again shortly while it has fewer than it forks.
 */
static void
group_scan(struct phpgrp *g)
{
	static pid_t	kids[GROUP_MAX_KIDS];
	int		n, i;

	n = group_children(g, kids, GROUP_MAX_KIDS);
	for (i = 0; i < n; i++)
		group_watch(g, kids[i]);
	ev_timer_stop(&g->scan);
	if (n < g->nchildren && !g->retiring && !g->forker &&
	    g->scans++ < GROUP_SCANS)
		ev_timer_set(&g->scan, GROUP_SCAN_MS);
}

static void
group_scan_timeout(struct ev_timer *t)
{
	group_scan(container_of(t, struct phpgrp, scan));
}

/*
 * w's connection is gone: the child it was bound to serves others now
 * (dynamic and ondemand close idle connections), and keeps its count.
 */
void
group_unbind(struct worker *w)
{
	struct gchild	*c;

	if (w->pid != 0)
		LIST_FOREACH(c, &w->group->children, entry)
			if (c->pid == w->pid)
				c->requests = w->requests;
	w->pid = 0;
	if (w->statfd != -1)
		close(w->statfd);
	w->statfd = -1;
}

/*
 * Signal the child w is bound to (escalated to SIGKILL after the grace,
 * as for any worker): 0, or -1 when w is bound to none.
 */
int
group_signal(struct worker *w, int sig)
{
	struct gchild	*c;

	if (w->pid == 0 && group_identify(w) == -1)
		return (-1);
	LIST_FOREACH(c, &w->group->children, entry)
		if (c->pid == w->pid)
			break;
	if (c == NULL)
		return (-1);
	gchild_signal(c, sig);
	return (0);
}

/*
 * g forks when asked and has no worker left: a child it still has is a
 * spare (forked for a worker that was let go before its child accepted,
 * or whose child died before its 'X' came), which no worker will let go.
 * SIGKILL: it holds no request, and one just forked may still have
 * php-cgi's own SIGTERM handler, which signals the whole process group.
 */
void
group_trim(struct phpgrp *g)
{
	struct gchild	*c;

	if (!g->forker || g->nworkers > 0 || g->retiring || g->dead)
		return;
	LIST_FOREACH(c, &g->children, entry)
		if (c->signaled == 0 && !c->exited)
			gchild_signal(c, SIGKILL);
}

/* Signal c, escalated to SIGKILL after the grace; it holds its place. */
static void
gchild_signal(struct gchild *c, int sig)
{
	int64_t		 grace;

	if (c->signaled == 0 && !c->exited)
		c->group->nleaving++;
	c->signaled = sig;
	if (syscall(SYS_pidfd_send_signal, c->src.fd, sig, NULL, 0) == -1 &&
	    errno != ESRCH)
		log_warn("[pool %s] unable to signal child %d",
		    c->group->pool->cf->name, (int)c->pid);
	grace = sv_state == SV_TERMINATING ? GROUP_FAST_STOP_MS :
	    fpmconf.global.process_control_timeout_ms;
	if (grace <= 0)
		grace = GROUP_FAST_STOP_MS;
	if (sig != SIGKILL && c->timer.slot == 0)
		ev_timer_set(&c->timer, grace);
}

/* Watch child pid of g (a pidfd): the entry, or NULL. */
static struct gchild *
group_watch(struct phpgrp *g, pid_t pid)
{
	struct gchild	*c;
	pid_t		 ppid;
	int		 fd;

	LIST_FOREACH(c, &g->children, entry)
		if (c->pid == pid)
			return (c);
	/* php-cgi re-forks what dies: its children are few, ours bounded */
	if (g->nwatched >= 2 * g->nchildren + 8)
		return (NULL);
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return (NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    ev_timer_reserve(1) == -1) {
		free(c);
		close(fd);
		return (NULL);
	}
	c->group = g;
	c->pid = pid;
	c->src.fd = fd;
	c->src.cb = gchild_event;
	c->timer.cb = gchild_timeout;
	/* its start, for "after N seconds from start" */
	c->started_ms = gchild_stat(pid, &ppid);

	/* the pid a record names is the pidfd's: a child of our php-cgi? */
	if (ppid != g->leader.pid || ev_add(&c->src, EPOLLIN) == -1) {
		close(c->src.fd);
		ev_timer_unreserve(1);
		free(c);
		return (NULL);
	}
	LIST_INSERT_HEAD(&g->children, c, entry);
	g->nwatched++;
	log_info("[pool %s] child %d started", g->pool->cf->name, (int)pid);
	return (c);
}

/*
 * When pid was forked, in ev_now() ms: /proc's starttime (clock ticks
 * since boot), else now; and its parent in ppid (-1: unknown).
 */
static int64_t
gchild_stat(pid_t pid, pid_t *ppid)
{
	struct timespec		 now;
	char			 path[64], buf[1024], *s;
	unsigned long long	 start;
	int			 i, pp;

	*ppid = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) == -1 ||
	    (s = strrchr(buf, ')')) == NULL)
		return (ev_now());
	/* ") S PPID": fields 3 and 4 */
	if (sscanf(s + 1, " %*c %d", &pp) == 1)
		*ppid = (pid_t)pp;
	/* after "(comm)", field 22 is the 20th */
	for (i = 0; i < 20 && s != NULL; i++)
		s = strchr(s + 1, ' ');
	if (s == NULL || sscanf(s, "%llu", &start) != 1 ||
	    clock_gettime(CLOCK_BOOTTIME, &now) == -1)
		return (ev_now());
	return (ev_now() - (now.tv_sec * 1000LL + now.tv_nsec / 1000000 -
	    (long long)(start * 1000 / (unsigned long long)sysconf(
	    _SC_CLK_TCK))));
}

/* A child's pidfd is readable: it exited.  Its status, once its parent
   has reaped it. */
static void
gchild_event(struct ev_source *src, uint32_t events)
{
	struct gchild	*c = container_of(src, struct gchild, src);

	(void)events;
	if (c->exited)
		return;		/* php-cgi's 'X' came first, in this batch */
	gchild_gone(c);
	ev_timer_stop(&c->timer);
	gchild_timeout(&c->timer);
}

/* c exited (its pidfd, or php-cgi's 'X'): its status is looked for next. */
static void
gchild_gone(struct gchild *c)
{
	ev_del(&c->src);
	if (c->signaled != 0) {
		/* its place is free: a worker may bind (group_current) */
		c->group->nleaving--;
		pool_post(c->group->pool);
	}
	c->exited = 1;
}

/*
 * The kill timer of a signaled child (SIGKILL), or, once it exited, the
 * wait for its exit status (10 ms apart, GROUP_EXIT_TRIES times).
 */
static void
gchild_timeout(struct ev_timer *t)
{
	struct gchild		*c = container_of(t, struct gchild, timer);
	struct pidfd_info_v0	 info;
	siginfo_t		 si;
	int			 st, rc;

	if (!c->exited) {
		log_warnx("[pool %s] child %d still alive after the grace "
		    "time, sending SIGKILL", c->group->pool->cf->name,
		    (int)c->pid);
		c->signaled = SIGKILL;
		syscall(SYS_pidfd_send_signal, c->src.fd, SIGKILL, NULL, 0);
		return;
	}
	memset(&si, 0, sizeof(si));
	memset(&info, 0, sizeof(info));
	info.mask = GROUP_PIDFD_INFO_EXIT;
	/*
	 * Its status: from php-cgi with fpm.so (group_heard), else from
	 * the kernel once its parent has reaped it; until then the ioctl
	 * succeeds without it (errno is not the answer then).  A kernel
	 * without PIDFD_GET_INFO ends the wait at once, one without its
	 * exit field (before 6.15) after the tries.
	 */
	if (c->has_status)
		st = c->status;
	else if ((rc = ioctl(c->src.fd, GROUP_PIDFD_GET_INFO, &info)) == 0 &&
	    (info.mask & GROUP_PIDFD_INFO_EXIT))
		st = info.exit_code;
	else if ((rc == 0 || (errno != ENOTTY && errno != EINVAL)) &&
	    ++c->tries < GROUP_EXIT_TRIES) {
		ev_timer_set(&c->timer, 10);
		return;
	} else {
		gchild_exited(c, &si);	/* its status went to php-cgi */
		return;
	}
	si.si_pid = c->pid;
	if (WIFEXITED(st)) {
		si.si_code = CLD_EXITED;
		si.si_status = WEXITSTATUS(st);
	} else {
		si.si_code = WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
		si.si_status = WTERMSIG(st);
	}
	gchild_exited(c, &si);
}

/* Log c's end as PHP-FPM logs a child's; a crash counts (pm.c). */
static void
gchild_exited(struct gchild *c, const siginfo_t *si)
{
	struct pool	*p = c->group->pool;
	char		 why[96];
	int64_t		 ms = ev_now() - c->started_ms;

	if (si->si_pid == 0)
		snprintf(why, sizeof(why), "exited (its status went to "
		    "php-cgi %d)", (int)c->group->leader.pid);
	else
		worker_exit_reason(why, sizeof(why), si);
	log_msg(si->si_pid == 0 || (si->si_code == CLD_EXITED &&
	    si->si_status == 0) || (si->si_code == CLD_KILLED &&
	    si->si_status == c->signaled) ? LOG_LVL_NOTICE : LOG_LVL_WARNING,
	    "[pool %s] child %d %s after %lld.%03lld seconds from start",
	    p->cf->name, (int)c->pid, why, (long long)ms / 1000,
	    (long long)ms % 1000);
	if (si->si_pid != 0)
		pm_worker_died(p, si);
	/* its parent forks another at once: watch it */
	if (!c->group->retiring && !c->group->dead && !c->group->forker) {
		c->group->scans = 0;
		ev_timer_set(&c->group->scan, GROUP_SCAN_MS);
	}
	gchild_free(c);
}

static void
gchild_free(struct gchild *c)
{
	if (!c->exited) {
		ev_del(&c->src);
		if (c->signaled != 0)
			c->group->nleaving--;
	}
	close(c->src.fd);
	/*
	 * Its exit may be later in this batch (its php-cgi's came first,
	 * group_reap): the loop skips a source whose fd is -1 (ev.c).
	 */
	c->src.fd = -1;
	ev_timer_stop(&c->timer);
	ev_timer_unreserve(1);
	LIST_REMOVE(c, entry);
	c->group->nwatched--;
	ev_defer_free(c);
}

/* The inode of the other end of our unix socket fd (sock_diag): 0 or -1. */
static int
group_peer_inode(int fd, unsigned int *peer)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} q;
	union {
		struct nlmsghdr	nlh;
		uint8_t		buf[1024];
	} r;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK }, from;
	socklen_t		 fromlen;
	struct unix_diag_msg	*m;
	struct rtattr		*a;
	struct stat		 st;
	static uint32_t		 seq;
	ssize_t			 n;
	size_t			 len;

	if (fstat(fd, &st) == -1)
		return (-1);
	if (diagfd == -1 && (diagfd = socket(AF_NETLINK, SOCK_DGRAM |
	    SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		return (-1);
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.nlh.nlmsg_seq = ++seq;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = ~0U;
	q.req.udiag_ino = (uint32_t)st.st_ino;
	q.req.udiag_show = UDIAG_SHOW_PEER;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;
	if (sendto(diagfd, &q, sizeof(q), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) != (ssize_t)sizeof(q))
		return (-1);
	/* the kernel answers at once, before sendto returns */
	/* the kernel's answer (port 0), to this question */
	do {
		fromlen = sizeof(from);
		n = recvfrom(diagfd, &r, sizeof(r), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);
	} while (n > 0 && (from.nl_pid != 0 || r.nlh.nlmsg_seq != seq ||
	    r.nlh.nlmsg_type == NLMSG_DONE));
	if (n <= 0 || !NLMSG_OK(&r.nlh, (size_t)n) ||
	    r.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    r.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return (-1);
	m = NLMSG_DATA(&r.nlh);
	a = (struct rtattr *)(m + 1);
	len = r.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			memcpy(peer, RTA_DATA(a), sizeof(*peer));
			return (*peer != 0 ? 0 : -1);
		}
	return (-1);
}

/* g's children now (/proc/PID/task/PID/children): how many, up to max. */
static int
group_children(struct phpgrp *g, pid_t *kids, size_t max)
{
	static char	 buf[GROUP_MAX_KIDS * 8];	/* "PID " each */
	char		 path[64], *s, *e;
	size_t		 k = 0;
	long		 v;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
	    (int)g->leader.pid, (int)g->leader.pid);
	if (proc_read(path, buf, sizeof(buf)) == -1)
		return (0);
	for (s = buf; k < max; s = e) {
		errno = 0;
		v = strtol(s, &e, 10);
		if (e == s || errno != 0 || v <= 0)
			break;
		kids[k++] = (pid_t)v;
	}
	return ((int)k);
}

/* Does pid have socket inode ino among its fds? */
static int
group_holds(pid_t pid, unsigned int ino)
{
	char		 path[64], want[32], link[64], fd[300];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	int		 found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%u]", ino);
	if ((d = opendir(path)) == NULL)
		return (0);
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "/proc/%d/fd/%s", (int)pid,
		    de->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return (found);
}
