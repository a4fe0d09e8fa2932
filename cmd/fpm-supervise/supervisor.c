/* SPDX-License-Identifier: ISC */
/*
 * The supervisor's life: signals, stop, reload (plan, check, commit) and
 * binary upgrade; its state, changed only by sv_set_state().
 */

#include <sys/types.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/conf.h"
#include "libcommon/ev.h"
#include "libcommon/log.h"
#include "libcommon/sock.h"
#include "fpm.h"

enum sv_state	 sv_state;

/* What each signal means (nginx's signals[]); the rest stay blocked. */
static const struct {
	int		 sig;
	const char	*what;
} signals[] = {
	{ SIGTERM, "fast stop" },
	{ SIGINT, "fast stop" },
	{ SIGQUIT, "graceful stop" },
	{ SIGUSR1, "reopen logs" },
	{ SIGUSR2, "reload" },
	{ SIGHUP, "reload" },
	{ SIGURG, "binary upgrade" },
};

static struct ev_source	 sigsrc;
static struct ev_timer	 stop_timer;
static int		  nsigquit;

static void	sv_set_state(enum sv_state);
static void	on_signal(struct ev_source *, uint32_t);
static void	on_stop_timeout(struct ev_timer *);
static ssize_t	upgrade_env(void);
static void	upgrade_failed(void);

/*
 * Every signal we act on arrives through the signalfd, read in the loop;
 * the stop timer is reserved here, so that arming it never fails.
 */
void
supervisor_signals(void)
{
	sigset_t	set;
	size_t		i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaddset(&set, signals[i].sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	if ((sigsrc.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	sigsrc.cb = on_signal;
	if (ev_add(&sigsrc, EPOLLIN) == -1)
		fatal("epoll_ctl");
	stop_timer.cb = on_stop_timeout;
	if (ev_timer_reserve(1) == -1)
		fatal("unable to reserve the stop timer");
}

/* One pool of the new configuration, on its way in (reload). */
struct plan {
	struct conf_pool	*c;
	struct pool		*old;	/* same name, or NULL */
	struct pool		*donor;	/* has the listener, or NULL */
	struct pool		*fresh;	/* made for it when old is NULL */
	struct pool		 tmp;	/* new template, new listener */
	int			 keep_status;	/* old's status_listen stays */
	int			 skip;	/* not the pool asked for */
};

/* What a reload did, for its summary. */
struct tally {
	size_t	kept, restarted, added, removed;
};

static int	reload_refused(const char *, char *, size_t);
static int	plan_make(struct plan *, struct conf *, const char *, char *,
		    size_t);
static int	plan_one(struct plan *, char *, size_t);
static void	plan_free(struct plan *, size_t);
static struct pool *plan_apply(struct plan *, struct confref *,
		    struct tally *);
static void	plan_listeners(struct plan *, struct pool *);
static void	reload_one(struct plan *, struct confref *, const char *,
		    char *, size_t);
static void	reload_all(struct plan *, struct confref *, struct pool **,
		    char *, size_t);
static size_t	reload_removed(struct pool **, size_t, size_t *);

static void
plan_free(struct plan *plan, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (plan[i].fresh != NULL)
			pool_free(plan[i].fresh);
		pool_template_free(&plan[i].tmp);
		/* never in the epoll set: the ev_del in there is a no-op */
		listener_close(&plan[i].tmp.lst);
		listener_close(&plan[i].tmp.slst);
	}
	free(plan);
}

/*
 * Step 1 of a reload, for one pool of the new configuration: its running
 * namesake and listener donor found, its template and new listeners made.
 * Nothing live changes.  Returns 0, or -1 with msg.
 */
static int
plan_one(struct plan *pl, char *msg, size_t size)
{
	size_t	k;

	for (k = 0; k < npools; k++) {
		if (pools[k]->draining)
			continue;
		if (strcmp(pools[k]->cf->name, pl->c->name) == 0)
			pl->old = pools[k];
		if (pools[k]->lst.src.fd != -1 &&
		    strcmp(pools[k]->cf->listen, pl->c->listen) == 0)
			pl->donor = pools[k];
	}
	pl->keep_status = pl->old != NULL && pl->old->slst.src.fd != -1 &&
	    pl->c->status_listen != NULL &&
	    strcmp(pl->old->cf->status_listen, pl->c->status_listen) == 0;
	if (pool_template(&pl->tmp, pl->c, opt_root, msg, size) == -1 ||
	    (pl->donor == NULL && pool_listen(&pl->tmp, msg, size) == -1) ||
	    (!pl->keep_status &&
	    pool_status_listen(&pl->tmp, msg, size) == -1))
		return (-1);
	/* a new pool (and its timers) is made here, where it may fail */
	if (pl->old == NULL && (pl->fresh = pool_alloc()) == NULL) {
		snprintf(msg, size, "[pool %s] %s", pl->c->name,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Step 1: everything that can fail, into plan[] (c->npools entries), for
 * every pool of c or the one named only.  Returns 0, or -1 with msg; the
 * caller frees plan[] either way.
 */
static int
plan_make(struct plan *plan, struct conf *c, const char *only, char *msg,
    size_t size)
{
	size_t	i;

	/* plan_free() closes what a failed step 1 left: -1 is nothing */
	for (i = 0; i < c->npools; i++)
		plan[i].tmp.lst.src.fd = plan[i].tmp.slst.src.fd = -1;
	for (i = 0; i < c->npools; i++) {
		plan[i].c = &c->pools[i];
		if (only != NULL && strcmp(plan[i].c->name, only) != 0) {
			plan[i].skip = 1;
			continue;
		}
		if (plan_one(&plan[i], msg, size) == -1)
			return (-1);
	}
	if (only == NULL)
		return (0);
	for (i = 0; i < c->npools; i++)
		if (!plan[i].skip)
			return (0);
	snprintf(msg, size, "pool '%s' is not in the new configuration: "
	    "reload them all", only);
	return (-1);
}

/* Put one planned pool in place; it cannot fail. */
static struct pool *
plan_apply(struct plan *pl, struct confref *n, struct tally *t)
{
	struct pool	*p;
	int		 restart = 0;

	if ((p = pl->old) == NULL) {
		p = pl->fresh;
		pl->fresh = NULL;
		t->added++;
	} else if (conf_pool_equal(p->cf, pl->c))
		t->kept++;
	else {
		restart = 1;
		t->restarted++;
	}
	/* the template: swapped in whole */
	pool_template_free(p);
	p->cf = pl->c;
	p->spawn = pl->tmp.spawn;
	p->argv = pl->tmp.argv;
	p->envp = pl->tmp.envp;
	p->php = pl->tmp.php;
	p->grouped = pl->tmp.grouped;
	p->probe = pl->tmp.probe;
	pl->tmp.argv = pl->tmp.envp = NULL;
	memset(&pl->tmp.spawn, 0, sizeof(pl->tmp.spawn));
	pool_own(p, n);
	if (alog_open(p) == -1)
		log_warn("[pool %s] unable to open access.log %s", p->cf->name,
		    p->cf->access_log);
	plan_listeners(pl, p);
	if (restart)
		pool_restart(p);
	return (p);
}

/* p's listeners: kept, taken from another pool, or the plan's new ones. */
static void
plan_listeners(struct plan *pl, struct pool *p)
{
	if (pl->donor != p) {
		if (p->lst.src.fd != -1 && (pl->donor == NULL ||
		    strcmp(p->lst.key, pl->donor->lst.key) != 0))
			listener_close(&p->lst);
		if (pl->donor != NULL) {
			ev_del(&pl->donor->lst.src);
			p->lst.src.fd = pl->donor->lst.src.fd;
			p->lst.inherited = pl->donor->lst.inherited;
			strlcpy(p->lst.key, pl->donor->lst.key,
			    sizeof(p->lst.key));
			pl->donor->lst.src.fd = -1;
		} else {
			p->lst.src.fd = pl->tmp.lst.src.fd;
			p->lst.inherited = pl->tmp.lst.inherited;
			strlcpy(p->lst.key, pl->tmp.lst.key,
			    sizeof(p->lst.key));
			pl->tmp.lst.src.fd = -1;
		}
		pool_listen_start(p, &p->lst);
		pool_announce(p);
	}
	/* pm.status_listen: kept, or replaced (it is never lent) */
	if (!pl->keep_status) {
		listener_close(&p->slst);
		p->slst.src.fd = pl->tmp.slst.src.fd;
		p->slst.inherited = pl->tmp.slst.inherited;
		strlcpy(p->slst.key, pl->tmp.slst.key, sizeof(p->slst.key));
		pl->tmp.slst.src.fd = -1;
		pool_listen_start(p, &p->slst);
	}
}

/*
 * A reload refused before anything is read: none while stopping or
 * upgrading.  With only, step 2 reloads that running pool in place and
 * runs pm_maintain() on it: one removed (draining) or not started yet has
 * none, and step 1 would find it NULL.  ctl.c checks first; this holds the
 * invariant here, whoever calls.  Returns 1 (msg filled) or 0.
 */
static int
reload_refused(const char *only, char *msg, size_t size)
{
	size_t	i;

	if (sv_state != SV_RUNNING) {
		snprintf(msg, size, "%s", sv_upgrading() ? "a binary upgrade "
		    "is under way" : "stopping");
		return (1);
	}
	if (only == NULL)
		return (0);
	for (i = 0; i < npools; i++)
		if (!pools[i]->draining &&
		    strcmp(pools[i]->cf->name, only) == 0)
			return (0);
	snprintf(msg, size, "no running pool '%s'", only);
	return (1);
}

/* Step 2 with only: the one pool moves to n, alone. */
static void
reload_one(struct plan *plan, struct confref *n, const char *only,
    char *msg, size_t size)
{
	struct tally	t = { 0, 0, 0, 0 };
	size_t		i;

	for (i = 0; plan[i].skip; i++)
		;
	n->refs = 0;
	plan_apply(&plan[i], n, &t);
	pm_maintain(plan[i].old);
	plan_free(plan, n->c.npools);
	snprintf(msg, size, "reloaded pool %s: %s", only,
	    t.restarted ? "restarted" : "kept");
	log_info("configuration of pool %s reloaded (%s)", only,
	    t.restarted ? "restarted" : "kept");
}

/*
 * Pools of pools[] not among np's first nnew: they drain and go, appended
 * to np.  Returns np's new count; *removed counts those that began to.
 */
static size_t
reload_removed(struct pool **np, size_t nnew, size_t *removed)
{
	size_t	i, k, n = nnew;

	for (i = 0; i < npools; i++) {
		for (k = 0; k < nnew; k++)
			if (np[k] == pools[i])
				break;
		if (k < nnew)
			continue;
		if (!pools[i]->draining) {
			(*removed)++;
			pools[i]->draining = 1;
			conns_close_idle(pools[i]);
			pool_drain(pools[i], 1);
		}
		np[n++] = pools[i];
	}
	return (n);
}

/* Step 2 for all: n becomes the configuration in force, np the pools. */
static void
reload_all(struct plan *plan, struct confref *n, struct pool **np,
    char *msg, size_t size)
{
	struct tally	t = { 0, 0, 0, 0 };
	size_t		i, np_n;

	n->refs = 1;		/* ours, as the configuration in force */
	for (i = 0; i < n->c.npools; i++)
		np[i] = plan_apply(&plan[i], n, &t);
	np_n = reload_removed(np, n->c.npools, &t.removed);
	free(pools);
	pools = np;
	npools = np_n;
	conf_release(fpmconf_ref);
	fpmconf_ref = n;
	fpmconf = n->c;
	if (main_log_setup() == -1)
		log_warn("unable to open error_log %s: logging where it was",
		    fpmconf.global.error_log);
	for (i = 0; i < npools; i++) {
		if (pools[i]->draining)
			pool_gc(pools[i]);
		else
			pm_maintain(pools[i]);
	}
	plan_free(plan, n->c.npools);
	snprintf(msg, size, "reloaded: %zu pools kept, %zu restarted, "
	    "%zu added, %zu removed", t.kept, t.restarted, t.added, t.removed);
	log_info("configuration %s", msg);
}

/*
 * Reload (SIGUSR2, SIGHUP, `reload [POOL]`): read and check the new
 * configuration entirely first, so that a bad one changes nothing (PHP-FPM
 * exits there).  Then, per pool: the same name keeps its workers when
 * conf_pool_equal() says they would start the same, else it gets a rolling
 * restart (old workers finish, new ones take the new requests); an
 * unchanged listen address keeps its socket, even across pools; pools gone
 * drain and go; new ones start.  With only, that pool alone is touched.
 * Returns 0 with a summary in msg, or -1 with the reason.
 */
int
supervisor_reload(const char *only, char *msg, size_t size)
{
	struct plan	*plan;
	struct confref	*n;
	struct pool	**np;

	if (reload_refused(only, msg, size))
		return (-1);
	log_info("Reloading in progress ...");
	notify_reloading(1);
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(msg, size, "%s", strerror(errno));
		return (-1);
	}
	if (main_conf_read(&n->c, msg, size) == -1) {
		free(n);
		goto refused;
	}
	if ((plan = calloc(n->c.npools + 1, sizeof(*plan))) == NULL ||
	    (np = calloc(npools + n->c.npools, sizeof(*np))) == NULL) {
		snprintf(msg, size, "%s", strerror(errno));
		free(plan);
		conf_free(&n->c);
		free(n);
		goto refused;
	}
	if (plan_make(plan, &n->c, only, msg, size) == -1) {
		plan_free(plan, n->c.npools);
		free(np);
		conf_free(&n->c);
		free(n);
		goto refused;
	}
	/* 2: commit; nothing below fails */
	if (only != NULL) {
		free(np);	/* pools[] stays as it is */
		reload_one(plan, n, only, msg, size);
	} else
		reload_all(plan, n, np, msg, size);
	notify_reloading(0);
	return (0);

refused:
	log_errorx("reload failed, keeping the current configuration: %s",
	    msg);
	notify_reloading(0);
	return (-1);
}

void
supervisor_reopen(void)
{
	size_t	i;
	int	access = 0;

	if (log_reopen() == -1)
		log_warn("unable to re-open the error log");
	else
		log_info("error log file re-opened");
	for (i = 0; i < npools; i++) {
		if (pools[i]->cf->access_log == NULL)
			continue;
		access = 1;
		if (alog_open(pools[i]) == -1)
			log_warn("[pool %s] unable to re-open access.log %s",
			    pools[i]->cf->name, pools[i]->cf->access_log);
	}
	if (access)
		log_info("access log file re-opened");
}

/* The moves the table in fpm.h allows, from each state. */
#define S(x)	(1U << (x))
static const unsigned int sv_moves[] = {
	[SV_RUNNING] = S(SV_UPGRADE_DRAIN) | S(SV_STOPPING) |
	    S(SV_TERMINATING),
	[SV_UPGRADE_DRAIN] = S(SV_UPGRADE_EXEC) | S(SV_STOPPING) |
	    S(SV_TERMINATING),
	[SV_UPGRADE_EXEC] = S(SV_RUNNING) | S(SV_STOPPING) | S(SV_TERMINATING),
	[SV_STOPPING] = S(SV_TERMINATING),
	[SV_TERMINATING] = 0
};

static void
sv_set_state(enum sv_state to)
{
	if (!(sv_moves[sv_state] & S(to))) {
		log_errorx("bug: supervisor state %d to %d", (int)sv_state,
		    (int)to);
		abort();
	}
	sv_state = to;
}
#undef S

void
supervisor_stop(int mode)
{
	size_t	i;

	notify_stopping();
	/* a stop wins over an upgrade; one whose workers leave already
	   needs no more to be graceful */
	if (sv_state == SV_TERMINATING ||
	    (sv_state == SV_STOPPING && mode == 1))
		return;
	if (sv_state == SV_UPGRADE_EXEC && mode == 1) {
		sv_set_state(SV_STOPPING);
		return;
	}
	sv_set_state(mode == 1 ? SV_STOPPING : SV_TERMINATING);
	log_info(mode == 1 ? "Finishing ..." : "Terminating ...");
	conns_close_idle(NULL);
	/* first: a worker freed by the drain must find no queue */
	if (mode == 2)
		for (i = 0; i < npools; i++)
			conn_queue_refuse(pools[i]);
	pools_stop(mode == 1);
	for (i = 0; i < npools; i++)
		conn_dispatch_queue(pools[i]);
	if (mode == 1 && fpmconf.global.process_control_timeout_ms > 0)
		ev_timer_set(&stop_timer,
		    fpmconf.global.process_control_timeout_ms);
	else if (mode == 1)
		supervisor_stop(2);
}

static void
on_stop_timeout(struct ev_timer *t)
{
	(void)t;
	if (sv_state == SV_UPGRADE_DRAIN) {
		log_warnx("process_control_timeout (%lld ms) reached: "
		    "upgrading with requests still in flight",
		    (long long)fpmconf.global.process_control_timeout_ms);
		conns_abort_all();
		supervisor_upgrade_drained();
		return;
	}
	log_warnx("process_control_timeout (%lld ms) reached: terminating "
	    "the workers still busy",
	    (long long)fpmconf.global.process_control_timeout_ms);
	supervisor_stop(2);
}

static void
on_signal(struct ev_source *src, uint32_t events)
{
	struct signalfd_siginfo	si;
	char			msg[1024];

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			supervisor_stop(2);
			break;
		case SIGQUIT:
			/* a second SIGQUIT hurries things up */
			supervisor_stop(++nsigquit > 1 ? 2 : 1);
			break;
		case SIGUSR1:
			supervisor_reopen();
			break;
		case SIGUSR2:
		case SIGHUP:
			(void)supervisor_reload(NULL, msg, sizeof(msg));
			break;
		case SIGURG:
			supervisor_upgrade();
			break;
		default:
			break;
		}
	}
}

/*
 * Binary upgrade (SIGURG, `upgrade`): stop accepting but keep the listening
 * sockets (new connections wait in the kernel's queue), let every request
 * in flight finish, let the workers go, then exec ourselves again with the
 * sockets in FPM_SOCKETS: same pid, no connection refused.  Bounded by
 * process_control_timeout like a graceful stop.
 */
void
supervisor_upgrade(void)
{
	struct conf	c;
	char		err[1024];
	size_t		i;

	if (sv_state != SV_RUNNING)
		return;
	/* the new image reads the configuration: it must be good */
	if (main_conf_read(&c, err, sizeof(err)) == -1) {
		log_errorx("binary upgrade refused: %s", err);
		return;
	}
	conf_free(&c);
	if (access(self_exe, X_OK) == -1) {
		log_error("binary upgrade refused: %s", self_exe);
		return;
	}
	sv_set_state(SV_UPGRADE_DRAIN);
	log_info("binary upgrade: finishing the requests in flight, then "
	    "re-executing");
	for (i = 0; i < npools; i++) {
		if (pools[i]->lst.src.fd != -1)
			ev_del(&pools[i]->lst.src);
		if (pools[i]->slst.src.fd != -1)
			ev_del(&pools[i]->slst.src);
	}
	conns_close_idle(NULL);
	if (fpmconf.global.process_control_timeout_ms > 0)
		ev_timer_set(&stop_timer,
		    fpmconf.global.process_control_timeout_ms);
}

/* No request left: the workers go; the loop ends when they are gone. */
void
supervisor_upgrade_drained(void)
{
	struct worker	*w, *tw;
	size_t		 i;

	sv_set_state(SV_UPGRADE_EXEC);
	/* workers finishing (fpm.h) have process_control_timeout */
	ev_timer_stop(&stop_timer);
	for (i = 0; i < npools; i++) {
		TAILQ_FOREACH_SAFE(w, &pools[i]->workers, entry, tw)
			worker_retire(w, SIGTERM);
		groups_retire(pools[i]);
	}
}

/*
 * The environment of the new image: FPM_SOCKETS, every listening socket,
 * made to survive the exec; FPM_UPGRADED, those of them that are not ours
 * ("-": none).  Returns how many sockets, or -1 with errno set.
 */
static ssize_t
upgrade_env(void)
{
	struct listener	*l;
	int		*fds;
	char		*env = NULL, *foreign = NULL;
	size_t		 i, n = 0, len = 0, size;
	ssize_t		 r = -1;

	/* "fd," for each socket handed over: at most 11 + 1 bytes each */
	size = (2 * npools + 1) * 12;
	if ((fds = calloc(2 * npools + 1, sizeof(*fds))) == NULL ||
	    (foreign = calloc(size, 1)) == NULL)
		goto out;
	for (i = 0; i < 2 * npools; i++) {
		l = i % 2 ? &pools[i / 2]->slst : &pools[i / 2]->lst;
		if (l->src.fd == -1)
			continue;
		/* they must survive the exec */
		if (fcntl(l->src.fd, F_SETFD, 0) == -1)
			goto out;
		fds[n++] = l->src.fd;
		/* systemd's or fpm-spawn's stay theirs (not unlinked) */
		if (l->inherited)
			len += (size_t)snprintf(foreign + len, size - len,
			    "%s%d", len > 0 ? "," : "", l->src.fd);
	}
	if ((env = sock_inherit_env(fds, n)) != NULL &&
	    setenv("FPM_SOCKETS", env, 1) == 0 &&
	    setenv("FPM_UPGRADED", foreign[0] != '\0' ? foreign : "-", 1) == 0)
		r = (ssize_t)n;
out:
	free(env);
	free(fds);
	free(foreign);
	return (r);
}

/* The exec failed, or never came: serve on as before the upgrade. */
static void
upgrade_failed(void)
{
	size_t	i;

	log_error("binary upgrade failed: serving on");
	ev_timer_stop(&stop_timer);
	unsetenv("FPM_SOCKETS");
	unsetenv("FPM_UPGRADED");
	sv_set_state(SV_RUNNING);
	/* a fresh private directory: the old one went before the exec */
	memcpy(runtime_dir + strlen(runtime_dir) - 6, "XXXXXX", 6);
	if (runtime_dir_make() == -1)
		log_warn("unable to create %s", runtime_dir);
	for (i = 0; i < npools; i++) {
		if (pools[i]->lst.src.fd != -1) {
			(void)fcntl(pools[i]->lst.src.fd, F_SETFD, FD_CLOEXEC);
			pool_listen_start(pools[i], &pools[i]->lst);
		}
		if (pools[i]->slst.src.fd != -1) {
			(void)fcntl(pools[i]->slst.src.fd, F_SETFD, FD_CLOEXEC);
			pool_listen_start(pools[i], &pools[i]->slst);
		}
		pm_maintain(pools[i]);
	}
	(void)ctl_open(pidpath);
}

/*
 * The workers are gone: exec our binary again, our sockets in its
 * environment.  Returns only if that failed, serving on.
 */
void
supervisor_upgrade_exec(void)
{
	ssize_t	n;

	if ((n = upgrade_env()) != -1) {
		ctl_shutdown();
		runtime_dir_cleanup();
		main_pidfile_handover();  /* the new image takes the lock */
		log_info("binary upgrade: execv(\"%s\") with %zd socket%s",
		    self_exe, n, n == 1 ? "" : "s");
		execv(self_exe, self_argv);
		log_error("binary upgrade failed: unable to exec");
	}
	upgrade_failed();
}
