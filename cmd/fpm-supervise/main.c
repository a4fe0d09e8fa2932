/* SPDX-License-Identifier: ISC */
/*
 * fpm-supervise: the pool master.  Reads fpm.conf, owns the listening
 * sockets, runs the workers of every pool and dispatches requests to them.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <libutil.h>

#include <popt.h>

#include "libcommon/conf.h"
#include "libcommon/ev.h"
#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"
#include "libcommon/sock.h"
#include "fpm.h"

struct embed {
	const char	*name, *data;
};
extern const struct embed embed_conf[];

struct pool	**pools;
size_t		  npools;
struct conf	  fpmconf;
static struct confref *current;	/* the configuration in force */
char		 runtime_dir[96];	/* + "/w%lu.sock" fits sun_path */
enum sv_state	 sv_state;

static char	*opt_config, *opt_pid, *opt_prefix;
static int	 opt_test, opt_daemonize, opt_foreground, opt_root;
static int	 opt_stderr;
static int	 opt_readyfd = -1;

static struct poptOption options[] = {
	{ "fpm-config", 'y', POPT_ARG_STRING, &opt_config, 0,
	    "read the configuration from FILE (default: "
	    FPM_SYSCONFDIR "/fpm/fpm.conf, else the built-in one)", "FILE" },
	{ "test", 't', POPT_ARG_NONE, NULL, 't',
	    "test the configuration as a start would (users, command...) "
	    "and exit (twice: also dump it)", NULL },
	{ "nodaemonize", 'F', POPT_ARG_NONE, &opt_foreground, 0,
	    "stay in the foreground, whatever the config says", NULL },
	{ "daemonize", 'D', POPT_ARG_NONE, &opt_daemonize, 0,
	    "run in the background, whatever the config says", NULL },
	{ "pid", 'g', POPT_ARG_STRING, &opt_pid, 0,
	    "write the pid to FILE (overrides the config's pid)", "FILE" },
	{ "prefix", 'p', POPT_ARG_STRING, &opt_prefix, 0,
	    "base of relative paths in the configuration", "DIR" },
	{ "allow-to-run-as-root", 'R', POPT_ARG_NONE, &opt_root, 0,
	    "allow pools to run as root", NULL },
	{ "ready-fd", 'r', POPT_ARG_INT, &opt_readyfd, 0,
	    "write a newline to FD when serving, then close it (s6)", "FD" },
	{ "force-stderr", 'O', POPT_ARG_NONE, &opt_stderr, 0,
	    "log to stderr, whatever error_log says", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

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
static char		**saved_argv;
static char		  exe[PATH_MAX];	/* our binary, by name */
static struct pidfh	 *pfh;
static int		  rundir_lock = -1;	/* runtime_dir/lock, flock'd */
static const char	 *pidpath;
static pid_t		  pidfile_pid;	/* who may remove it: not a fork */

static void	handle(poptContext, int);
static int	conf_read(struct conf *, char *, size_t);
static void	pool_own(struct pool *, struct confref *);

static int	 path_join(char *, size_t, const char *, const char *);
static char	*embedded_config(char *, size_t, char *, size_t);
static int	 builtin;	/* running on the built-in conf.d/ */
static int	setup_log(void);
static void	daemonize(void);
static void	on_signal(struct ev_source *, uint32_t);
static void	on_stop_timeout(struct ev_timer *);
static void	cleanup_runtime_dir(void);
static int	runtime_dir_make(void);
static void	runtime_dir_sweep(const char *);
static int	runtime_dir_stale(int);
static void	upgrade_drained(void);
static void	pidfile_cleanup(void);
static void	upgrade_exec(void);
static int	fd_listed(const char *, int);

static void
handle(poptContext pc, int c)
{
	(void)pc;
	if (c == 't')
		opt_test++;
}

/* dir/name into buf: 0, or -1 with ENAMETOOLONG when it does not fit. */
static int
path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int	n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * No -y and nothing installed: write the conf.d/ we were built with into a
 * private directory (dir, of size bytes) under $TMPDIR, to be read like any
 * other configuration.  Returns the path of its fpm.conf (malloc'd), or NULL
 * with errno set and the reason in err; dir[0] is '\0' unless dir was made.
 */
static char *
embedded_config(char *dir, size_t size, char *err, size_t errsize)
{
	char		 path[PATH_MAX], *file;
	const char	*tmp;
	FILE		*fp;
	size_t		 i;
	int		 saved;

	if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	/* PATH_MAX and path[] bound dir and every file in it */
	for (i = 0; embed_conf[i].name != NULL; i++)
		if (strlen(tmp) + sizeof("/fpm-conf.XXXXXX/") +
		    strlen(embed_conf[i].name) > sizeof(path))
			break;
	if (embed_conf[i].name != NULL || (size_t)snprintf(dir, size,
	    "%s/fpm-conf.XXXXXX", tmp) >= size) {
		dir[0] = '\0';
		snprintf(err, errsize, "TMPDIR is too long for the built-in "
		    "configuration (%zu bytes)", strlen(tmp));
		errno = ENAMETOOLONG;
		return (NULL);
	}
	if (mkdtemp(dir) == NULL) {
		saved = errno;
		snprintf(err, errsize, "unable to create %s: %s", dir,
		    strerror(saved));
		dir[0] = '\0';
		errno = saved;
		return (NULL);
	}
	for (i = 0; embed_conf[i].name != NULL; i++) {
		(void)path_join(path, sizeof(path), dir, embed_conf[i].name);
		if (strchr(embed_conf[i].name, '/') != NULL) {
			char	sub[PATH_MAX];

			strlcpy(sub, path, sizeof(sub));
			(void)mkdir(dirname(sub), 0700);
		}
		if ((fp = fopen(path, "we")) == NULL ||
		    fputs(embed_conf[i].data, fp) == EOF || fclose(fp) == EOF) {
			saved = errno;
			snprintf(err, errsize, "unable to write %s: %s", path,
			    strerror(saved));
			errno = saved;
			return (NULL);
		}
	}
	(void)path_join(path, sizeof(path), dir, "fpm.conf");
	if ((file = strdup(path)) == NULL)
		snprintf(err, errsize, "%s", strerror(ENOMEM));
	return (file);
}

/*
 * Read the configuration: -y, else the installed one, else the built-in
 * conf.d/.  Returns 0, or -1 with the reason in err (errno EINVAL for a
 * configuration error).
 */
static int
conf_read(struct conf *c, char *err, size_t errsize)
{
	char	 dir[PATH_MAX] = "", path[PATH_MAX], *file;
	size_t	 i;
	int	 r = -1, saved;

	snprintf(path, sizeof(path), "%s/fpm/fpm.conf", FPM_SYSCONFDIR);
	if (opt_config != NULL || access(path, F_OK) == 0) {
		if ((file = strdup(opt_config != NULL ? opt_config : path)) ==
		    NULL)
			fatal("strdup");
	} else if ((file = embedded_config(dir, sizeof(dir), err,
	    errsize)) != NULL) {
		builtin = 1;
		log_info("no %s: using the built-in configuration", path);
	}
	if (file != NULL)
		r = conf_load(c, file, opt_prefix, err, errsize);
	saved = errno;
	if (dir[0] != '\0') {
		for (i = 0; embed_conf[i].name != NULL; i++) {
			if (path_join(path, sizeof(path), dir,
			    embed_conf[i].name) == 0)
				unlink(path);
		}
		if (path_join(path, sizeof(path), dir, "pool.d") == 0)
			rmdir(path);
		rmdir(dir);
	}
	free(file);
	if (r == 0)
		for (i = 0; i < c->nwarnings; i++)
			log_warnx("%s", c->warnings[i]);
	errno = saved;
	return (r);
}

void
conf_release(struct confref *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	conf_free(&r->c);
	free(r);
}

/* p now lives in r's configuration. */
static void
pool_own(struct pool *p, struct confref *r)
{
	r->refs++;
	conf_release(p->owner);
	p->owner = r;
}

/* One pool of the new configuration, on its way in (reload). */
struct plan {
	struct conf_pool	*c;
	struct pool		*old;	/* same name, or NULL */
	struct pool		*donor;	/* has the listener, or NULL */
	struct pool		*fresh;	/* made for it when old is NULL */
	struct pool		 tmp;	/* new template, new listener */
	int			 keep_status;	/* old's pm.status_listen stays */
	int			 skip;	/* not the pool asked for */
};

static void	plan_free(struct plan *, size_t);
static struct pool *plan_apply(struct plan *, struct confref *, size_t *,
		    size_t *, size_t *);

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

/* Put one planned pool in place; it cannot fail. */
static struct pool *
plan_apply(struct plan *pl, struct confref *n, size_t *kept,
    size_t *restarted, size_t *added)
{
	struct pool	*p;
	int		 restart = 0;

	if ((p = pl->old) == NULL) {
		p = pl->fresh;
		pl->fresh = NULL;
		(*added)++;
	} else if (conf_pool_equal(p->cf, pl->c))
		(*kept)++;
	else {
		restart = 1;
		(*restarted)++;
	}
	/* the template: swapped in whole */
	pool_template_free(p);
	p->cf = pl->c;
	p->spawn = pl->tmp.spawn;
	p->argv = pl->tmp.argv;
	p->envp = pl->tmp.envp;
	p->php = pl->tmp.php;
	p->probe = pl->tmp.probe;
	pl->tmp.argv = pl->tmp.envp = NULL;
	memset(&pl->tmp.spawn, 0, sizeof(pl->tmp.spawn));
	pool_own(p, n);
	if (alog_open(p) == -1)
		log_warn("[pool %s] unable to open access.log %s", p->cf->name,
		    p->cf->access_log);
	/* the listener: kept, taken from another pool, or new */
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
			strlcpy(p->lst.key, pl->tmp.lst.key, sizeof(p->lst.key));
			pl->tmp.lst.src.fd = -1;
		}
		pool_listen_start(p, &p->lst);
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
	if (restart)
		pool_restart(p);
	return (p);
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
	struct plan		*plan;
	struct confref		*n;
	struct pool		*p, **np;
	size_t			 i, k, kept = 0, restarted = 0, added = 0;
	size_t			 removed = 0, np_n;
	int			 missing;

	if (sv_state != SV_RUNNING) {
		snprintf(msg, size, "%s", sv_upgrading() ? "a binary upgrade "
		    "is under way" : "stopping");
		return (-1);
	}
	/*
	 * With only, step 2 reloads that running pool in place and runs
	 * pm_maintain() on it: one removed (draining) or not started yet
	 * has none, and step 1 would find it NULL.  ctl.c checks first;
	 * this holds the invariant here, whoever calls.
	 */
	if (only != NULL) {
		for (i = 0; i < npools; i++)
			if (!pools[i]->draining &&
			    strcmp(pools[i]->cf->name, only) == 0)
				break;
		if (i == npools) {
			snprintf(msg, size, "no running pool '%s'", only);
			return (-1);
		}
	}
	log_info("Reloading in progress ...");
	notify_reloading(1);
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(msg, size, "%s", strerror(errno));
		return (-1);
	}
	if (conf_read(&n->c, msg, size) == -1) {
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
	/* plan_free() closes what a failed step 1 left: -1 is nothing */
	for (i = 0; i < n->c.npools; i++)
		plan[i].tmp.lst.src.fd = plan[i].tmp.slst.src.fd = -1;
	/* 1: everything that can fail, into plan[]; nothing live changes */
	for (i = 0; i < n->c.npools; i++) {
		plan[i].c = &n->c.pools[i];
		if (only != NULL && strcmp(plan[i].c->name, only) != 0) {
			plan[i].skip = 1;
			continue;
		}
		for (k = 0; k < npools; k++) {
			if (pools[k]->draining)
				continue;
			if (strcmp(pools[k]->cf->name, plan[i].c->name) == 0)
				plan[i].old = pools[k];
			if (pools[k]->lst.src.fd != -1 &&
			    strcmp(pools[k]->cf->listen, plan[i].c->listen) == 0)
				plan[i].donor = pools[k];
		}
		plan[i].keep_status = plan[i].old != NULL &&
		    plan[i].old->slst.src.fd != -1 &&
		    plan[i].c->status_listen != NULL &&
		    strcmp(plan[i].old->cf->status_listen,
		    plan[i].c->status_listen) == 0;
		if (pool_template(&plan[i].tmp, plan[i].c, opt_root, msg,
		    size) == -1 || (plan[i].donor == NULL &&
		    pool_listen(&plan[i].tmp, msg, size) == -1) ||
		    (!plan[i].keep_status &&
		    pool_status_listen(&plan[i].tmp, msg, size) == -1))
			break;
		/* a new pool (and its timers) is made here, where it may fail */
		if (plan[i].old == NULL &&
		    (plan[i].fresh = pool_alloc()) == NULL) {
			snprintf(msg, size, "[pool %s] %s", plan[i].c->name,
			    strerror(errno));
			break;
		}
	}
	missing = 0;
	if (i == n->c.npools && only != NULL) {
		for (k = 0; k < n->c.npools; k++)
			if (!plan[k].skip)
				break;
		if (k == n->c.npools) {
			snprintf(msg, size, "pool '%s' is not in the new "
			    "configuration: reload them all", only);
			missing = 1;
		}
	}
	if (i < n->c.npools || missing) {
		plan_free(plan, n->c.npools);
		free(np);
		conf_free(&n->c);
		free(n);
		goto refused;
	}

	/* 2: commit; nothing below fails */
	if (only != NULL) {
		/* the one pool moves to the new configuration, alone */
		for (i = 0; plan[i].skip; i++)
			;
		n->refs = 0;
		plan_apply(&plan[i], n, &kept, &restarted, &added);
		pm_maintain(plan[i].old);
		plan_free(plan, n->c.npools);
		free(np);
		snprintf(msg, size, "reloaded pool %s: %s", only,
		    restarted ? "restarted" : "kept");
		log_info("configuration of pool %s reloaded (%s)", only,
		    restarted ? "restarted" : "kept");
		notify_reloading(0);
		return (0);
	}
	n->refs = 1;		/* ours, as the configuration in force */
	for (i = 0; i < n->c.npools; i++)
		np[i] = plan_apply(&plan[i], n, &kept, &restarted, &added);
	/* pools not in the new configuration drain and go */
	np_n = n->c.npools;
	for (i = 0; i < npools; i++) {
		for (k = 0; k < n->c.npools; k++)
			if (np[k] == pools[i])
				break;
		if (k < n->c.npools)
			continue;
		if (!pools[i]->draining) {
			removed++;
			pools[i]->draining = 1;
			conns_close_idle(pools[i]);
			pool_drain(pools[i], 1);
		}
		np[np_n++] = pools[i];
	}
	free(pools);
	pools = np;
	npools = np_n;
	conf_release(current);
	current = n;
	fpmconf = n->c;
	if (setup_log() == -1)
		log_warn("unable to open error_log %s: logging where it was",
		    fpmconf.global.error_log);
	for (i = 0; i < npools; i++) {
		p = pools[i];
		if (p->draining)
			pool_gc(p);
		else
			pm_maintain(p);
	}
	plan_free(plan, n->c.npools);
	snprintf(msg, size, "reloaded: %zu pools kept, %zu restarted, "
	    "%zu added, %zu removed", kept, restarted, added, removed);
	log_info("configuration %s", msg);
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

/* Apply [global]'s logging; -1 (errno set) if error_log can't be opened. */
static int
setup_log(void)
{
	struct conf_global	*g = &fpmconf.global;

	log_setlevel((enum log_level)g->log_level);
	if (opts_verbose > 0)
		log_verbose(opts_verbose + 1);	/* notice already: -v is debug */
	log_setlimit((size_t)g->log_limit);
	if (opt_stderr || g->error_log == NULL)
		return (0);
	if (strcmp(g->error_log, "syslog") == 0)
		log_open_syslog(g->syslog_ident, g->syslog_facility);
	else if (log_open_file(g->error_log) == -1)
		return (-1);
	return (0);
}

static void
daemonize(void)
{
	int	fd, i;

	/* fork, setsid, fork: no controlling terminal, ever */
	for (i = 0; i < 2; i++) {
		switch (fork()) {
		case -1:
			fatal("fork");
		case 0:
			break;
		default:
			_exit(FPM_EXIT_OK);
		}
		if (i == 0 && setsid() == -1)
			fatal("setsid");
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	dup2(fd, 0);
	dup2(fd, 1);
	if (log_fd() != 2)
		dup2(fd, 2);
	if (fd > 2)
		close(fd);
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

void
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
		ev_timer_set(&stop_timer, fpmconf.global.process_control_timeout_ms);
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
		upgrade_drained();
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
	size_t	i;

	struct conf	c;
	char		err[1024];

	if (sv_state != SV_RUNNING)
		return;
	/* the new image reads the configuration: it must be good */
	if (conf_read(&c, err, sizeof(err)) == -1) {
		log_errorx("binary upgrade refused: %s", err);
		return;
	}
	conf_free(&c);
	if (access(exe, X_OK) == -1) {
		log_error("binary upgrade refused: %s", exe);
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
static void
upgrade_drained(void)
{
	struct worker	*w, *tw;
	size_t		 i;

	sv_set_state(SV_UPGRADE_EXEC);
	/* workers finishing (fpm.h) have process_control_timeout */
	ev_timer_stop(&stop_timer);
	for (i = 0; i < npools; i++)
		TAILQ_FOREACH_SAFE(w, &pools[i]->workers, entry, tw)
			worker_retire(w, SIGTERM);
}

/* Is fd in list, fds separated by commas ("-": none)? */
static int
fd_listed(const char *list, int fd)
{
	const char	*s;
	char		*end;
	long		 v;

	if (fd == -1)
		return (0);
	for (s = list; *s != '\0'; s = *end == ',' ? end + 1 : end) {
		v = strtol(s, &end, 10);
		if (end == s)
			return (0);
		if (v == fd)
			return (1);
	}
	return (0);
}

static void
upgrade_exec(void)
{
	struct listener	*l;
	int		*fds;
	char		*env, *foreign = NULL;
	size_t		 i, n = 0, len = 0, size;

	/* "fd," for each socket handed over: at most 11 + 1 bytes each */
	size = (2 * npools + 1) * 12;
	if ((fds = calloc(2 * npools + 1, sizeof(*fds))) == NULL ||
	    (foreign = calloc(size, 1)) == NULL)
		goto fail;
	for (i = 0; i < 2 * npools; i++) {
		l = i % 2 ? &pools[i / 2]->slst : &pools[i / 2]->lst;
		if (l->src.fd == -1)
			continue;
		/* they must survive the exec */
		if (fcntl(l->src.fd, F_SETFD, 0) == -1)
			goto fail;
		fds[n++] = l->src.fd;
		/* systemd's or fpm-spawn's stay theirs (not unlinked) */
		if (l->inherited)
			len += (size_t)snprintf(foreign + len, size - len,
			    "%s%d", len > 0 ? "," : "", l->src.fd);
	}
	if ((env = sock_inherit_env(fds, n)) == NULL ||
	    setenv("FPM_SOCKETS", env, 1) == -1 ||
	    setenv("FPM_UPGRADED", foreign[0] != '\0' ? foreign : "-", 1)
	    == -1)
		goto fail;
	free(env);
	free(fds);
	free(foreign);
	fds = NULL;
	foreign = NULL;
	ctl_shutdown();
	cleanup_runtime_dir();
	if (pfh != NULL)
		pidfile_close(pfh);	/* the new image takes the lock */
	log_info("binary upgrade: execv(\"%s\") with %zu socket%s", exe, n,
	    n == 1 ? "" : "s");
	execv(exe, saved_argv);
	log_error("binary upgrade failed: unable to exec");
	pfh = NULL;
fail:
	free(fds);
	free(foreign);
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

static void
pidfile_cleanup(void)
{
	if (pfh != NULL && getpid() == pidfile_pid)
		pidfile_remove(pfh);
	pfh = NULL;
}

static void
cleanup_runtime_dir(void)
{
	char	path[sizeof(runtime_dir) + 8];

	if (runtime_dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/lock", runtime_dir);
	(void)unlink(path);
	if (rundir_lock != -1)
		close(rundir_lock);
	rundir_lock = -1;
	if (rmdir(runtime_dir) == -1 && errno != ENOENT)
		log_warn("unable to remove %s", runtime_dir);
}

/*
 * Create runtime_dir from its template (base/fpm.XXXXXX) with the file
 * "lock" in it: flock'd for as long as we live, then our pid written.  The
 * kernel drops the lock when we die, however we die, so a later start can
 * tell a dead supervisor's directory from a live one's (runtime_dir_stale).
 * Returns 0, or -1 with errno set (the directory is gone again then).
 */
static int
runtime_dir_make(void)
{
	char	buf[32];
	int	dfd, fd, n, saved;

	if (mkdtemp(runtime_dir) == NULL)
		return (-1);
	if ((dfd = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		goto fail;
	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	saved = errno;
	close(dfd);
	errno = saved;
	if (fd == -1)
		goto fail;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    write(fd, buf, (size_t)n) != n) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	rundir_lock = fd;
	return (0);
fail:
	saved = errno;
	cleanup_runtime_dir();
	errno = saved;
	return (-1);
}

/*
 * Is dfd, a base/fpm.XXXXXX directory, one that a dead supervisor left?
 * Only if it is ours, has a lock file that we can lock, and that file is
 * not empty: an empty one may belong to a supervisor between its open and
 * its flock, and stays (a supervisor killed in that instant leaves an
 * empty directory behind, nothing more).  Returns the locked fd, or -1.
 */
static int
runtime_dir_stale(int dfd)
{
	struct stat	st;
	int		fd;

	if (fstat(dfd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid())
		return (-1);
	if ((fd = openat(dfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return (-1);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Remove the runtime directories under base that dead supervisors left
 * (kill -9, a crash, power loss with a persistent base): their worker
 * sockets would otherwise pile up.  A live supervisor's is never touched.
 */
static void
runtime_dir_sweep(const char *base)
{
	struct dirent	*de, *e;
	DIR		*d, *sub;
	size_t		 i;
	int		 dfd, lfd, fd;

	if ((d = opendir(base)) == NULL) {
		log_warn("unable to read %s", base);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		/* mkdtemp's names: "fpm." and 6 letters or digits */
		if (strncmp(de->d_name, "fpm.", 4) != 0 ||
		    strlen(de->d_name) != 10)
			continue;
		for (i = 4; i < 10; i++)
			if (!isalnum((unsigned char)de->d_name[i]))
				break;
		if (i < 10)
			continue;
		if ((dfd = openat(dirfd(d), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if ((lfd = runtime_dir_stale(dfd)) == -1) {
			close(dfd);
			continue;
		}
		/* held, the lock keeps another sweeping start out */
		if ((fd = dup(dfd)) != -1 && (sub = fdopendir(fd)) != NULL) {
			while ((e = readdir(sub)) != NULL)
				if (e->d_type != DT_DIR)
					(void)unlinkat(dfd, e->d_name, 0);
			closedir(sub);
		} else if (fd != -1)
			close(fd);
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == -1)
			log_warn("unable to remove %s/%s, left by a dead "
			    "supervisor", base, de->d_name);
		else
			log_info("removed %s/%s, left by a dead supervisor",
			    base, de->d_name);
		close(lfd);
		close(dfd);
	}
	closedir(d);
}

int
main(int argc, char *argv[])
{
	poptContext	 pc;
	char		 err[1024];
	sigset_t	 set;
	const char	*base;
	ssize_t		 n;
	int		 upgraded = 0;
	char		*foreign = NULL;
	const char	*s;
	pid_t		 other;
	size_t		 i;

	log_init(getprogname(), LOG_STYLE_FPM);
	saved_argv = argv;
	/*
	 * The binary by its name, not /proc/self/exe, which would run the
	 * replaced file again: an upgrade runs what is installed now.
	 */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0)
		exe[n] = '\0';
	pc = opts_parse(argc, argv, options, "[OPTION...]", handle);
	if (poptPeekArg(pc) != NULL)
		fatalx_usage("unexpected argument '%s'", poptPeekArg(pc));
	if (opt_daemonize && opt_foreground)
		fatalx_usage("-D and -F don't mix");
	if (opt_readyfd != -1 && fcntl(opt_readyfd, F_GETFD) == -1)
		fatalx_usage("--ready-fd %d: not an open file descriptor",
		    opt_readyfd);
	if (opts_verbose > 0)
		log_verbose(opts_verbose + 1);

	if ((current = calloc(1, sizeof(*current))) == NULL)
		fatal("calloc");
	current->refs = 1;
	if (conf_read(&current->c, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		/* missing or unreadable: retrying won't help either */
		fatalx_code(errno == ENOMEM || errno == EMFILE ||
		    errno == ENFILE || errno == EINTR ? FPM_EXIT_TEMP :
		    FPM_EXIT_USAGE, "FPM initialization failed");
	}
	fpmconf = current->c;
	if (opt_test) {
		/* what a start checks beyond the file: ids, the command */
		for (i = 0; i < fpmconf.npools; i++)
			if (pool_check(&fpmconf.pools[i], opt_root, err,
			    sizeof(err)) == -1) {
				log_errorx("%s", err);
				fatalx_code(FPM_EXIT_USAGE,
				    "FPM initialization failed");
			}
		if (opt_test > 1)
			conf_dump(&fpmconf, stderr);
		log_info("configuration file %s test is successful",
		    builtin ? "(built-in)" : fpmconf.global.file);
		/* -t is asked a question: the answer goes out at any level */
		if (log_getlevel() > LOG_LVL_NOTICE)
			fprintf(stderr, "%s: configuration file %s test is "
			    "successful\n", getprogname(), builtin ?
			    "(built-in)" : fpmconf.global.file);
		conf_release(current);
		poptFreeContext(pc);
		return (FPM_EXIT_OK);
	}
	if (setup_log() == -1)
		fatal("unable to open error_log %s", fpmconf.global.error_log);

	pidpath = opt_pid != NULL ? opt_pid : fpmconf.global.pid;
	if (pidpath != NULL &&
	    (pfh = pidfile_open(pidpath, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx_code(FPM_EXIT_TEMP, "another fpm-supervise "
			    "(pid %d) holds %s", (int)other, pidpath);
		fatal("unable to open pid file %s", pidpath);
	}
	/* a start that fails later leaves no empty pidfile behind */
	pidfile_pid = getpid();
	atexit(pidfile_cleanup);
	/*
	 * A re-exec'd supervisor (binary upgrade) stays where it is; its
	 * sockets are its own but for the fds FPM_UPGRADED lists.
	 */
	if ((s = getenv("FPM_UPGRADED")) != NULL) {
		opt_foreground = upgraded = 1;
		/* as long as our previous image made it: no bound to cut it */
		if ((foreign = strdup(s)) == NULL)
			fatal("strdup");
	}
	unsetenv("FPM_UPGRADED");
	if (opt_daemonize || (fpmconf.global.daemonize && !opt_foreground)) {
		if (fpmconf.global.error_log == NULL && !opt_stderr)
			log_open_syslog(fpmconf.global.syslog_ident,
			    fpmconf.global.syslog_facility);
		daemonize();
		pidfile_pid = getpid();
	}

	/* Every signal we act on arrives through the signalfd. */
	sigemptyset(&set);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaddset(&set, signals[i].sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	if (ev_init() == -1)
		fatal("epoll_create1");
	if ((sigsrc.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	sigsrc.cb = on_signal;
	if (ev_add(&sigsrc, EPOLLIN) == -1)
		fatal("epoll_ctl");
	stop_timer.cb = on_stop_timeout;
	if (ev_timer_reserve(1) == -1)
		fatal("unable to reserve the stop timer");

	/* The workers' private sockets live in a directory only we enter. */
	if ((base = fpmconf.global.runtime_dir) == NULL) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL || access(base, W_OK) == -1)
			base = getenv("TMPDIR");
		if (base == NULL || access(base, W_OK) == -1)
			base = "/tmp";
	}
	if ((size_t)snprintf(runtime_dir, sizeof(runtime_dir),
	    "%s/fpm.XXXXXX", base) >= sizeof(runtime_dir))
		fatalx_code(FPM_EXIT_USAGE, "runtime_dir %s: path too long "
		    "(at most %zu bytes)", base, sizeof(runtime_dir) - 12);
	runtime_dir_sweep(base);
	if (runtime_dir_make() == -1)
		fatal("unable to create %s", runtime_dir);

	if (fpmconf.global.rlimit_files_set) {
		struct rlimit rl = { fpmconf.global.rlimit_files,
		    fpmconf.global.rlimit_files };
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("unable to set rlimit_files");
	}
	if (fpmconf.global.rlimit_core_set) {
		struct rlimit rl = { fpmconf.global.rlimit_core,
		    fpmconf.global.rlimit_core };
		if (setrlimit(RLIMIT_CORE, &rl) == -1)
			log_warn("unable to set rlimit_core");
	}
	if (fpmconf.global.priority_set) {
		if (geteuid() != 0)
			log_info("'process.priority' directive is ignored "
			    "when FPM is not running as root");
		else if (setpriority(PRIO_PROCESS, 0,
		    fpmconf.global.priority) == -1)
			log_warn("unable to set process.priority");
	}
	notify_init(fpmconf.global.systemd_interval_ms);
	sock_inherit_init();
	npools = fpmconf.npools;
	if ((pools = calloc(npools, sizeof(*pools))) == NULL)
		fatal("calloc");
	for (i = 0; i < npools; i++) {
		if ((pools[i] = pool_new(&fpmconf.pools[i], opt_root, err,
		    sizeof(err))) == NULL) {
			log_errorx("%s", err);
			fatalx_code(errno == EINVAL ? FPM_EXIT_USAGE :
			    FPM_EXIT_TEMP, "FPM initialization failed");
		}
		pool_own(pools[i], current);
		/* our own sockets, handed over by our previous image */
		if (upgraded) {
			pools[i]->lst.inherited = fd_listed(foreign,
			    pools[i]->lst.src.fd);
			pools[i]->slst.inherited = fd_listed(foreign,
			    pools[i]->slst.src.fd);
		}
	}
	free(foreign);
	sock_inherit_close_unused();
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("unable to write the pid file");
	(void)ctl_open(pidpath);
	log_info("fpm is running, pid %d", (int)getpid());
	for (i = 0; i < npools; i++)
		pm_maintain(pools[i]);
	log_info("ready to handle connections");
	notify_ready(opt_readyfd);
	poptFreeContext(pc);

	for (;;) {
		while (!sv_stopping() || pools_alive() > 0 ||
		    conns_active() > 0) {
			if (ev_run_once() == -1)
				fatal("epoll_wait");
			conns_reap();
			if (sv_state == SV_UPGRADE_DRAIN && conns_count() == 0)
				upgrade_drained();
		}
		if (sv_state != SV_UPGRADE_EXEC)
			break;
		upgrade_exec();		/* returns only when exec failed */
	}
	for (i = 0; i < npools; i++) {
		listener_close(&pools[i]->lst);
		listener_close(&pools[i]->slst);
		if (pools[i]->access_fd != -1)
			close(pools[i]->access_fd);
		pool_template_free(pools[i]);
		conf_release(pools[i]->owner);
		free(pools[i]);
	}
	ctl_shutdown();
	alog_free();
	cleanup_runtime_dir();
	log_info("exiting, bye-bye!");
	pidfile_cleanup();
	free(pools);
	conf_release(current);
	return (FPM_EXIT_OK);
}
