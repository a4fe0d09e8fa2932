/* SPDX-License-Identifier: ISC */
/*
 * Process managers: how many workers each pool runs, decided at once on
 * every change (a request queued, a worker idle or gone), never on a tick.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "fpm.h"

#define PM_WINDOW_MS	1000	/* spawn-rate window and trim pace */
#define PM_WARN_MS	10000	/* at most one "reached" warning per pool */
#define PM_DEFER_MS	100	/* a let-go that waits for its child */
#define PM_SPAWN_TURN	4	/* starts per loop turn: a burst yields */

static int	pm_target(struct pool *);
static int	pm_budget(struct pool *);
static void	pm_trim(struct pool *);
static int64_t	pm_idle_deadline(struct pool *);
static void	pm_refuse(struct pool *);
static int	pm_let_go(struct worker *);
static int64_t	pm_group_idle(struct pool *);

static int64_t	last_process_max_warning = -PM_WARN_MS;
static int64_t	crashes[1024];	/* ring of SIGSEGV/SIGBUS deaths */
static size_t	ncrashes, crash_head;

/*
 * How many working (not retiring) workers p should have now:
 * static: pm.max_children;
 * dynamic: enough for min_spare_servers idle ones plus every queued
 * request, at least start_servers at start;
 * ondemand: one per queued request on top of the busy ones.
 * Anything above pm.max_children is counted and said ("max children
 * reached"), once per episode.
 */
static int
pm_target(struct pool *p)
{
	struct conf_pool	*c = p->cf;
	int			 working = p->nworkers - p->nretiring;
	int			 busy = working - p->nidle, want;

	switch (c->pm) {
	case CONF_PM_STATIC:
		return (c->max_children);
	case CONF_PM_DYNAMIC:
		want = busy + p->nqueue + c->min_spare_servers;
		if (!p->started && want < c->start_servers)
			want = c->start_servers;
		break;
	default:
		want = busy + p->nqueue;
		break;
	}
	if (want > c->max_children) {
		if (!p->reached) {
			p->reached = 1;
			p->max_children_reached++;
			if (ev_now() - p->last_reached_warning >= PM_WARN_MS) {
				p->last_reached_warning = ev_now();
				log_warnx("[pool %s] server reached %smax_children "
				    "setting (%d), consider raising it", c->name,
				    c->pm == CONF_PM_DYNAMIC ? "pm." : "",
				    c->max_children);
			}
		}
		want = c->max_children;
	} else if (want < c->max_children)
		p->reached = 0;
	return (want);
}

/*
 * dynamic's spawn rate: 1 in the first window, doubling in each window
 * that was still short, up to pm.max_spawn_rate (PHP-FPM's idle spawn
 * rate, without the 1 s wait for the first one).  Other pms: unbounded.
 */
static int
pm_budget(struct pool *p)
{
	int64_t	now = ev_now();

	if (p->cf->pm != CONF_PM_DYNAMIC || !p->started)
		return (p->cf->max_children);
	if (now >= p->window_end) {
		if (p->short_window && now - p->window_end < PM_WINDOW_MS)
			p->spawn_rate *= 2;
		else
			p->spawn_rate = 1;
		if (p->spawn_rate > p->cf->max_spawn_rate)
			p->spawn_rate = p->cf->max_spawn_rate;
		p->window_end = now + PM_WINDOW_MS;
		p->spawned = 0;
		p->short_window = 0;
		log_debug("[pool %s] spawn window: up to %d workers in the "
		    "next second", p->cf->name, p->spawn_rate);
	}
	return (p->spawn_rate - p->spawned);
}

/* Spawn what is missing, retire what is surplus; arm the next look. */
void
pm_maintain(struct pool *p)
{
	int64_t	next = -1, d;
	int	want, budget, n = 0, more = 0;

	if (sv_stopping() || p->draining)
		return;
	/*
	 * php.group: a reload changed pm.max_children, which keeps the pool
	 * but not its php-cgi, whose children are as many as it had
	 */
	if (p->group != NULL && p->group->nchildren != p->cf->max_children) {
		log_info("[pool %s] pm.max_children is now %d: a new php-cgi",
		    p->cf->name, p->cf->max_children);
		pool_restart(p);
	}
	want = pm_target(p);
	budget = pm_budget(p);
	while (p->nworkers - p->nretiring < want) {
		if (p->respawn_timer.slot != 0)
			break;		/* the crash-loop brake holds */
		if (fpmconf.global.process_max > 0 &&
		    pools_alive() >= fpmconf.global.process_max) {
			if (ev_now() - last_process_max_warning >= PM_WARN_MS) {
				last_process_max_warning = ev_now();
				log_warnx("The maximum number of processes has "
				    "been reached. Please review your "
				    "configuration and consider raising "
				    "'process.max'");
			}
			next = 1000;
			break;
		}
		if (budget <= 0) {
			p->short_window = 1;
			next = p->window_end - ev_now();
			break;
		}
		/*
		 * A start holds the loop until its exec: the rest of a burst
		 * (1,024 workers take seconds) comes after this turn's events,
		 * so that other pools and the control socket are served.
		 */
		if (n == PM_SPAWN_TURN) {
			more = 1;
			break;
		}
		/* only a start counts: a full php.group is no spawn */
		if (worker_spawn(p) == -1)
			break;
		p->spawned++;
		budget--;
		n++;
	}
	if (more) {
		/* a new worker posts the pass for this turn: next turn's */
		ev_unpost(&p->pass);
		ev_post_next(&p->pass);
	} else
		p->started = 1;
	/*
	 * The brake holds and no worker is left to take the queue: a wait
	 * could only end in queue.timeout's 503, so it comes now.
	 */
	if (p->respawn_timer.slot != 0 && p->nworkers - p->nretiring == 0 &&
	    p->nqueue > 0)
		pm_refuse(p);
	pm_trim(p);
	if (p->cf->pm == CONF_PM_DYNAMIC &&
	    p->nidle > p->cf->max_spare_servers) {
		/* the next trim: a second after the last one */
		d = p->last_trim + PM_WINDOW_MS - ev_now();
		if (d < 0)
			d = 0;
		if (next == -1 || d < next)
			next = d;
	}
	if (p->cf->pm == CONF_PM_ONDEMAND && p->nidle > 0) {
		/* overdue: its let-go waits for its child (pm_let_go) */
		d = pm_idle_deadline(p) - ev_now();
		if (d <= 0)
			d = PM_DEFER_MS;
		if (next == -1 || d < next)
			next = d;
	}
	if ((d = pm_group_idle(p)) >= 0 && (next == -1 || d < next))
		next = d;
	if (next >= 0 && (p->pm_timer.slot == 0 ||
	    p->pm_timer.when > ev_now() + next))
		ev_timer_set(&p->pm_timer, next);
}

void
pm_timeout(struct ev_timer *t)
{
	struct pool	*p = container_of(t, struct pool, pm_timer);

	pool_post(p);
}

/*
 * No worker of p can start for now: its queued requests get a 503, and
 * the reason is logged once per back-off, not once per request.
 */
static void
pm_refuse(struct pool *p)
{
	int64_t	ms = p->respawn_timer.when - ev_now();

	if (!p->brake_said) {
		p->brake_said = 1;
		if (ms < 0)
			ms = 0;
		log_warnx("[pool %s] no worker can start (%s): answering 503 "
		    "to queued requests until the next start in %lld.%03llds",
		    p->cf->name, p->brake_why != NULL ? p->brake_why :
		    "workers fail to start", (long long)ms / 1000,
		    (long long)ms % 1000);
	}
	conn_queue_refuse(p);
}

/*
 * An idle worker let go: a process that leaves.  A group's child forked
 * when asked (fpm.so) leaves too, its php-cgi forks another when needed;
 * but not before it has taken the worker's connection, or it would stay
 * a spare that no worker lets go: -1, for the next pass.  One forked by
 * php-cgi on its own stays a warm child, and only its connection closes.
 */
static int
pm_let_go(struct worker *w)
{
	if (w->group != NULL && w->group->forker && w->pid == 0 &&
	    group_identify(w) == -1)
		return (-1);
	worker_retire(w, w->group != NULL && !w->group->forker ? 0 : SIGTERM);
	return (0);
}

/*
 * ondemand with php.group.  With fpm.so, the php-cgi stays, warm, with no
 * child, as PHP-FPM's master does: the first request costs a fork, not a
 * start.  Without, the php-cgi of a pool with no worker left goes after
 * pm.process_idle_timeout, its children with it, and the next request
 * starts another.  Returns the ms until it goes, or -1: not to watch.
 */
static int64_t
pm_group_idle(struct pool *p)
{
	struct phpgrp	*g = p->group;
	int64_t		 d;

	if (p->cf->pm != CONF_PM_ONDEMAND || !p->grouped)
		return (-1);
	if (g == NULL) {
		if (p->phpext && p->respawn_timer.slot == 0)
			group_start(p);
		return (-1);
	}
	if (g->nworkers > 0 || p->nqueue > 0)
		return (-1);
	d = g->last_used + p->cf->process_idle_timeout_ms - ev_now();
	if (g->forker) {
		/* a spare child goes, as an idle worker's would */
		if (d > 0)
			return (d);
		group_trim(g);
		return (-1);
	}
	/*
	 * Never used and no hello yet: still starting (a long preload, say),
	 * not an fpm.so that does not fork when asked.
	 */
	if (p->phpext && g->leader.started == g->last_used)
		return (-1);
	if (d > 0)
		return (d);
	log_debug("[pool %s] no worker for %lld ms: php-cgi %d goes",
	    p->cf->name, (long long)(ev_now() - g->last_used),
	    (int)g->leader.pid);
	/* an fpm.so that does not fork when asked: no php-cgi kept */
	p->phpext = 0;
	group_retire(g);
	return (-1);
}

/* When the least recently used idle worker of an ondemand pool expires. */
static int64_t
pm_idle_deadline(struct pool *p)
{
	struct worker	*w = TAILQ_LAST(&p->idle, idlehead);

	return (w == NULL ? ev_now() : w->last_used +
	    p->cf->process_idle_timeout_ms);
}

/*
 * Surplus idle workers go gently: static above pm.max_children (after a
 * reload) at once; dynamic retires one per second above
 * pm.max_spare_servers, the least recently used first; ondemand retires
 * those idle for pm.process_idle_timeout.
 */
static void
pm_trim(struct pool *p)
{
	struct worker	*w;

	if (p->cf->pm == CONF_PM_STATIC) {
		/* pm.max_children lowered by a reload: idle ones go now */
		while (p->nworkers - p->nretiring > p->cf->max_children &&
		    (w = TAILQ_LAST(&p->idle, idlehead)) != NULL)
			worker_retire(w, SIGTERM);
	} else if (p->cf->pm == CONF_PM_DYNAMIC) {
		if (p->nidle <= p->cf->max_spare_servers)
			return;
		/* a second apart, whatever armed the timer (pm_maintain) */
		if (ev_now() - p->last_trim < PM_WINDOW_MS)
			return;
		p->last_trim = ev_now();
		w = TAILQ_LAST(&p->idle, idlehead);
		log_debug("[pool %s] %d idle workers, more than "
		    "pm.max_spare_servers (%d): retiring child %d", p->cf->name,
		    p->nidle, p->cf->max_spare_servers, (int)w->pid);
		(void)pm_let_go(w);
	} else if (p->cf->pm == CONF_PM_ONDEMAND) {
		while ((w = TAILQ_LAST(&p->idle, idlehead)) != NULL &&
		    ev_now() - w->last_used >= p->cf->process_idle_timeout_ms) {
			log_debug("[pool %s] child %d idle for %lld ms: retiring",
			    p->cf->name, (int)w->pid,
			    (long long)(ev_now() - w->last_used));
			if (pm_let_go(w) == -1)
				break;	/* pm_maintain looks again soon */
		}
	}
}

/*
 * pm.max_memory: the worker's resident set from /proc/PID/statm, read
 * after each request only when the directive is set.
 */
int
pm_over_memory(struct worker *w)
{
	char			 path[64], buf[128];
	unsigned long long	 size, rss;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)w->pid);
	if (proc_read(path, buf, sizeof(buf)) == -1)
		return (0);
	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return (0);
	rss *= (unsigned long long)sysconf(_SC_PAGESIZE);
	if (rss <= w->pool->cf->max_memory)
		return (0);
	log_info("[pool %s] child %d uses %llu bytes, more than pm.max_memory "
	    "(%llu): retiring", w->pool->cf->name, (int)w->pid, rss,
	    (unsigned long long)w->pool->cf->max_memory);
	return (1);
}

/*
 * Emergency restart: emergency_restart_threshold workers dying of SIGSEGV
 * or SIGBUS within emergency_restart_interval restart every pool's
 * workers (a rolling restart, not PHP-FPM's full re-exec).
 */
void
pm_worker_died(struct pool *p, const siginfo_t *si)
{
	struct conf_global	*g = &fpmconf.global;
	size_t			 i, n;
	int64_t			 now = ev_now();

	(void)p;
	if (g->emergency_restart_threshold <= 0 ||
	    g->emergency_restart_interval_ms <= 0 ||
	    (si->si_code != CLD_KILLED && si->si_code != CLD_DUMPED) ||
	    (si->si_status != SIGSEGV && si->si_status != SIGBUS))
		return;
	n = sizeof(crashes) / sizeof(crashes[0]);
	crashes[crash_head] = now;
	crash_head = (crash_head + 1) % n;
	if (ncrashes < n)
		ncrashes++;
	/* count the deaths inside the window */
	for (i = 0, n = 0; i < ncrashes; i++)
		if (now - crashes[i] <= g->emergency_restart_interval_ms)
			n++;
	if ((int)n < g->emergency_restart_threshold)
		return;
	log_warnx("failed processes threshold (%d in %lld sec) is reached, "
	    "initiating reload", g->emergency_restart_threshold,
	    (long long)g->emergency_restart_interval_ms / 1000);
	ncrashes = crash_head = 0;
	for (i = 0; i < npools; i++)
		pool_restart(pools[i]);
}
