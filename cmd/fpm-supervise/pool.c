/* SPDX-License-Identifier: ISC */
/* Pools and their workers: spawn, reap, retire, respawn with a brake. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/acl.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/sock.h"
#include "fpm.h"

#define BACKOFF_MAX_MS	(60 * 1000)
#define QUICK_DEATH_MS	1000		/* lived less: counts as a failure */
#define FAST_STOP_MS	1000		/* SIGTERM to SIGKILL on a fast stop */

static unsigned long	worker_seq;

static int	pool_env(struct pool *);
static int	worker_spawn(struct pool *);
static void	worker_reap(struct ev_source *, uint32_t);
static void	worker_sock_event(struct ev_source *, uint32_t);
static void	worker_kill_timeout(struct ev_timer *);
static void	worker_free(struct worker *);
static void	pool_respawn_timeout(struct ev_timer *);
static int	pool_wanted(const struct pool *);
static void	pool_exit_reason(char *, size_t, const siginfo_t *);
static void	pool_acl(struct conf_pool *, const char *);

/*
 * The worker environment: PHP-FPM's clear_env and env[], plus what php-cgi
 * needs to leave process management to us (DESIGN 5a).
 */
static int
pool_env(struct pool *p)
{
	struct conf_pool	*c = p->cf;
	struct passwd		*pw = NULL;
	char			**set, buf[512];
	size_t			  n = 0, i;
	int			  r;

	if ((set = calloc(c->nenv + 4, sizeof(*set))) == NULL)
		return (-1);
	if (p->spawn.setids)
		pw = getpwuid(p->spawn.uid);
	if (pw != NULL) {
		snprintf(buf, sizeof(buf), "USER=%s", pw->pw_name);
		set[n++] = strdup(buf);
		snprintf(buf, sizeof(buf), "HOME=%s", pw->pw_dir);
		set[n++] = strdup(buf);
	}
	set[n++] = strdup("PHP_FCGI_MAX_REQUESTS=0");
	set[n++] = strdup("PHP_FCGI_CHILDREN=0");
	for (i = 0; i < c->nenv; i++) {
		if (asprintf(&set[n], "%s=%s", c->env[i].key,
		    c->env[i].value) == -1)
			set[n] = NULL;
		n++;
	}
	r = 0;
	for (i = 0; i < n; i++)
		if (set[i] == NULL)
			r = -1;
	if (r == 0 && (p->envp = spawn_env(c->clear_env, set, n)) == NULL)
		r = -1;
	for (i = 0; i < n; i++)
		free(set[i]);
	free(set);
	return (r);
}

int
pool_setup(struct pool *p, struct conf_pool *c, int allow_root)
{
	struct sock_addr	 addr;
	struct sock_perm	 perm = { (uid_t)-1, (gid_t)-1, -1 };
	struct passwd		*pw;
	struct group		*gr;
	char			 err[256];
	int			 fd;

	memset(p, 0, sizeof(*p));
	p->cf = c;
	TAILQ_INIT(&p->workers);
	LIST_INIT(&p->idle);
	TAILQ_INIT(&p->queue);
	p->respawn_timer.cb = pool_respawn_timeout;
	p->start_time = time(NULL);
	p->start_mono = ev_now();

	spawn_init(&p->spawn);
	if (geteuid() == 0) {
		if (c->user == NULL && !allow_root)
			fatalx_code(FPM_EXIT_USAGE, "[pool %s] user has not "
			    "been defined", c->name);
		if (c->user != NULL && spawn_resolve_ids(&p->spawn, c->user,
		    c->group, allow_root, err, sizeof(err)) == -1)
			fatalx_code(FPM_EXIT_USAGE, "[pool %s] %s", c->name,
			    err);
		p->spawn.chroot = c->chroot;
	} else {
		if (c->user != NULL)
			log_info("[pool %s] 'user' directive is ignored when "
			    "FPM is not running as root", c->name);
		if (c->group != NULL)
			log_info("[pool %s] 'group' directive is ignored "
			    "when FPM is not running as root", c->name);
		if (c->chroot != NULL)
			fatalx_code(FPM_EXIT_USAGE, "[pool %s] chroot "
			    "needs root", c->name);
	}
	p->spawn.chdir = c->chdir;
	if (c->rlimit_files_set)
		p->spawn.rlimit_nofile = c->rlimit_files;
	if (c->rlimit_core_set)
		p->spawn.rlimit_core = c->rlimit_core;
	if (c->priority_set) {
		p->spawn.setnice = 1;
		p->spawn.nice = c->priority;
	}
	p->spawn.dumpable = c->dumpable;
	p->spawn.sockmode = SPAWN_SOCK_STDIN;
	p->spawn.setsid = 1;
	p->spawn.pdeathsig = SIGTERM;
	if ((p->argv = conf_pool_argv(c)) == NULL)
		fatal("[pool %s] conf_pool_argv", c->name);
	p->spawn.argv = p->argv;
	p->php = conf_is_phpcgi(p->argv[0]);
	if (pool_env(p) == -1)
		fatal("[pool %s] unable to build the environment", c->name);
	p->spawn.envp = p->envp;

	if (sock_parse(c->listen, &addr) == -1)
		fatalx_code(FPM_EXIT_USAGE, "[pool %s] invalid listen address "
		    "'%s'", c->name, c->listen);
	if (addr.ss.ss_family == AF_UNIX && (c->listen_acl_users != NULL ||
	    c->listen_acl_groups != NULL)) {
		/* as PHP-FPM: with ACLs, owner and group stay ours */
		perm.mode = (int)c->listen_mode;
		if (c->listen_owner != NULL)
			log_warnx("[pool %s] ACL set, listen.owner = '%s' is "
			    "ignored", c->name, c->listen_owner);
		if (c->listen_group != NULL)
			log_warnx("[pool %s] ACL set, listen.group = '%s' is "
			    "ignored", c->name, c->listen_group);
	} else if (addr.ss.ss_family == AF_UNIX) {
		perm.mode = (int)c->listen_mode;
		if (c->listen_owner != NULL) {
			if ((pw = getpwnam(c->listen_owner)) == NULL)
				fatalx_code(FPM_EXIT_USAGE, "[pool %s] "
				    "listen.owner: unknown user '%s'",
				    c->name, c->listen_owner);
			perm.uid = pw->pw_uid;
			perm.gid = pw->pw_gid;
		}
		if (c->listen_group != NULL) {
			if ((gr = getgrnam(c->listen_group)) == NULL)
				fatalx_code(FPM_EXIT_USAGE, "[pool %s] "
				    "listen.group: unknown group '%s'",
				    c->name, c->listen_group);
			perm.gid = gr->gr_gid;
		}
	}
	if ((fd = sock_inherit_take(&addr)) != -1)
		log_info("using inherited socket fd=%d, \"%s\"", fd, addr.key);
	else if ((fd = sock_listen(&addr, c->listen_backlog, &perm)) == -1) {
		if (errno == EADDRINUSE && addr.ss.ss_family == AF_UNIX)
			fatalx("[pool %s] unable to bind %s: another process "
			    "is listening there", c->name, addr.key);
		fatal("[pool %s] unable to bind listening socket for address "
		    "'%s'", c->name, addr.key);
	}
	if (addr.ss.ss_family == AF_UNIX && (c->listen_acl_users != NULL ||
	    c->listen_acl_groups != NULL))
		pool_acl(c, addr.key);
	p->lst.src.fd = fd;
	p->lst.src.cb = conn_accept;
	p->lst.pool = p;
	strlcpy(p->lst.key, addr.key, sizeof(p->lst.key));
	if (ev_add(&p->lst.src, EPOLLIN) == -1)
		fatal("epoll_ctl");
	return (0);
}

/*
 * listen.acl_users / listen.acl_groups: a POSIX ACL giving each named user
 * and group read and write on the socket, on top of listen.mode.
 */
static void
pool_acl(struct conf_pool *c, const char *path)
{
	const char	*lists[2] = { c->listen_acl_users, c->listen_acl_groups };
	const char	*kind[2] = { "user", "group" };
	char		 text[4096], *list, *name, *save;
	unsigned int	 m = c->listen_mode;
	acl_t		 acl;
	size_t		 len;
	int		 i;

	len = (size_t)snprintf(text, sizeof(text),
	    "user::%c%c-,group::%c%c-,other::%c%c-,mask::rw-",
	    m & 0400 ? 'r' : '-', m & 0200 ? 'w' : '-',
	    m & 040 ? 'r' : '-', m & 020 ? 'w' : '-',
	    m & 04 ? 'r' : '-', m & 02 ? 'w' : '-');
	for (i = 0; i < 2; i++) {
		if (lists[i] == NULL)
			continue;
		if ((list = strdup(lists[i])) == NULL)
			fatal("strdup");
		for (name = strtok_r(list, ", \t", &save); name != NULL;
		    name = strtok_r(NULL, ", \t", &save)) {
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    ",%s:%s:rw-", kind[i], name);
			if (len >= sizeof(text))
				fatalx_code(FPM_EXIT_USAGE, "[pool %s] "
				    "listen.acl_%ss: too long", c->name,
				    kind[i]);
		}
		free(list);
	}
	if ((acl = acl_from_text(text)) == NULL)
		fatalx_code(FPM_EXIT_USAGE, "[pool %s] listen.acl_users/"
		    "acl_groups: unknown user or group in '%s'", c->name,
		    text);
	if (acl_set_file(path, ACL_TYPE_ACCESS, acl) == -1)
		fatal("[pool %s] unable to set the ACL of %s", c->name, path);
	acl_free(acl);
}

void
pool_close_listener(struct pool *p)
{
	if (p->lst.src.fd == -1)
		return;
	ev_del(&p->lst.src);
	close(p->lst.src.fd);
	p->lst.src.fd = -1;
	if (p->lst.key[0] == '/')
		unlink(p->lst.key);
}

/* How many workers the pool wants alive and not retiring. */
static int
pool_wanted(const struct pool *p)
{
	if (stopping)
		return (0);
	/* pm = static; dynamic and ondemand start at their floor here */
	switch (p->cf->pm) {
	case CONF_PM_DYNAMIC:
		return (p->cf->start_servers);
	case CONF_PM_ONDEMAND:
		return (p->nqueue > 0 ? p->cf->max_children : 0);
	default:
		return (p->cf->max_children);
	}
}

void
pool_start(struct pool *p)
{
	pool_maintain(p);
}

/* Spawn what is missing, unless the crash-loop brake holds us back. */
void
pool_maintain(struct pool *p)
{
	while (p->nworkers - p->nretiring < pool_wanted(p)) {
		if (p->respawn_timer.slot != 0)
			return;
		if (worker_spawn(p) == -1)
			return;
	}
}

static void
pool_respawn_timeout(struct ev_timer *t)
{
	struct pool	*p = (struct pool *)((char *)t -
	    offsetof(struct pool, respawn_timer));

	pool_maintain(p);
}

/*
 * Exponential back-off: after n quick deaths in a row, wait 2^(n-1) s (at
 * most a minute) before the next spawn, and say so.
 */
static void
pool_brake(struct pool *p, const char *why)
{
	int64_t	ms;

	p->fails++;
	if (p->fails <= 1)
		return;
	ms = 1000LL << (p->fails - 2 < 6 ? p->fails - 2 : 6);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	log_warnx("[pool %s] %s (%d times in a row), next start in %lld.%03llds",
	    p->cf->name, why, p->fails, (long long)ms / 1000,
	    (long long)ms % 1000);
	ev_timer_set(&p->respawn_timer, ms);
}

static int
worker_spawn(struct pool *p)
{
	struct sock_addr	 addr;
	struct worker		*w;
	char			 err[512];
	int			 lfd, pidfd, outfd = -1, errfd = -1;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("[pool %s] unable to spawn a worker", p->cf->name);
		return (-1);
	}
	w->pool = p;
	w->sock.fd = -1;
	w->out.src.fd = w->err.src.fd = -1;
	w->kill_timer.cb = worker_kill_timeout;
	snprintf(w->path, sizeof(w->path), "%s/w%lu.sock", runtime_dir,
	    ++worker_seq);
	if (sock_parse(w->path, &addr) == -1 ||
	    (lfd = sock_listen(&addr, 128, NULL)) == -1) {
		log_warn("[pool %s] unable to create %s", p->cf->name, w->path);
		free(w);
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
		log_errorx("[pool %s] unable to start a worker: %s",
		    p->cf->name, errno == ENOENT || errno == ENOEXEC ||
		    errno == ECHILD ? err : strerror(errno));
		output_close(w);
		unlink(w->path);
		free(w);
		pool_brake(p, "workers fail to start");
		if (p->respawn_timer.slot == 0)
			ev_timer_set(&p->respawn_timer, 1000);
		return (-1);
	}
	w->pidsrc.fd = pidfd;
	w->pidsrc.cb = worker_reap;
	if (ev_add(&w->pidsrc, EPOLLIN) == -1)
		fatal("epoll_ctl");
	w->started = w->last_used = ev_now();
	clock_gettime(CLOCK_REALTIME, &w->started_rt);
	if (p->cf->max_requests > 0) {
		/* up to +12.5% so that workers don't all retire together */
		w->max_requests = (unsigned long)p->cf->max_requests +
		    arc4random_uniform((uint32_t)p->cf->max_requests / 8 + 1);
	}
	w->state = W_IDLE;
	TAILQ_INSERT_TAIL(&p->workers, w, entry);
	LIST_INSERT_HEAD(&p->idle, w, idle);
	p->nworkers++;
	p->nidle++;
	log_info("[pool %s] child %d started", p->cf->name, (int)w->pid);
	conn_dispatch_queue(p);
	return (0);
}

/* An idle worker to dispatch to, most recently used first; NULL if none. */
struct worker *
pool_idle_worker(struct pool *p)
{
	struct worker	*w;

	if ((w = LIST_FIRST(&p->idle)) == NULL)
		return (NULL);
	LIST_REMOVE(w, idle);
	p->nidle--;
	w->state = W_BUSY;
	return (w);
}

static void
worker_sock_event(struct ev_source *src, uint32_t events)
{
	struct worker	*w = (struct worker *)((char *)src -
	    offsetof(struct worker, sock));

	conn_worker_event(w, events);
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
	w->reading = 0;
	w->fresh = 1;
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
	ev_del(&w->sock);
	close(w->sock.fd);
	w->sock.fd = -1;
}

/* The request is over: back to the idle stack, or retire. */
void
worker_done(struct worker *w)
{
	struct pool	*p = w->pool;

	w->conn = NULL;
	w->requests++;
	w->last_used = ev_now();
	p->fails = 0;
	if (w->state == W_RETIRING) {
		worker_retire(w, SIGTERM);
		return;
	}
	if (stopping && TAILQ_EMPTY(&p->queue)) {
		/* graceful stop: it served what was waiting, now it goes */
		worker_retire(w, SIGTERM);
		return;
	}
	if (w->max_requests != 0 && w->requests >= w->max_requests) {
		log_info("[pool %s] child %d reached pm.max_requests (%lu), "
		    "retiring", p->cf->name, (int)w->pid, w->requests);
		worker_retire(w, SIGTERM);
		pool_maintain(p);
		return;
	}
	w->state = W_IDLE;
	LIST_INSERT_HEAD(&p->idle, w, idle);
	p->nidle++;
	conn_dispatch_queue(p);
}

/*
 * Ask w to go: a busy worker finishes its request first (the signal is sent
 * by worker_done); an idle one gets sig now, and SIGKILL after the grace.
 */
void
worker_retire(struct worker *w, int sig)
{
	struct pool	*p = w->pool;
	int64_t		 grace;

	if (w->state == W_IDLE) {
		LIST_REMOVE(w, idle);
		p->nidle--;
	}
	if (w->state != W_RETIRING) {
		w->state = W_RETIRING;
		p->nretiring++;
	}
	if (w->conn != NULL)
		return;
	worker_disconnect(w);
	w->signaled = sig;
	if (syscall(SYS_pidfd_send_signal, w->pidsrc.fd, sig, NULL, 0) == -1 &&
	    errno != ESRCH)
		log_warn("[pool %s] unable to signal child %d", p->cf->name,
		    (int)w->pid);
	grace = stopping == 2 ? FAST_STOP_MS : fpmconf.global.process_control_timeout_ms;
	if (grace <= 0)
		grace = FAST_STOP_MS;
	if (w->kill_timer.slot == 0)
		ev_timer_set(&w->kill_timer, grace);
}

static void
worker_kill_timeout(struct ev_timer *t)
{
	struct worker	*w = (struct worker *)((char *)t -
	    offsetof(struct worker, kill_timer));

	log_warnx("[pool %s] child %d still alive after the grace time, "
	    "sending SIGKILL", w->pool->cf->name, (int)w->pid);
	w->killed = 1;
	w->signaled = SIGKILL;
	syscall(SYS_pidfd_send_signal, w->pidsrc.fd, SIGKILL, NULL, 0);
}

static void
pool_exit_reason(char *buf, size_t size, const siginfo_t *si)
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
	struct worker	*w = (struct worker *)((char *)src -
	    offsetof(struct worker, pidsrc));
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
	pool_exit_reason(why, sizeof(why), &si);
	expected = w->state == W_RETIRING;
	/* a clean exit, or the signal we sent it, is no news */
	log_msg((si.si_code == CLD_EXITED && si.si_status == 0) ||
	    (si.si_code == CLD_KILLED && si.si_status == w->signaled) ?
	    LOG_LVL_NOTICE : LOG_LVL_WARNING,
	    "[pool %s] child %d %s after %lld.%06lld seconds from start",
	    p->cf->name, (int)w->pid, why, us / 1000000, us % 1000000);
	output_close(w);
	worker_free(w);
	if (!expected && !stopping) {
		if (lived < QUICK_DEATH_MS)
			pool_brake(p, "workers keep dying at start");
		else
			p->fails = 0;
	}
	pool_maintain(p);
}

/* Unlink w from everything; a request it served gets its answer first. */
static void
worker_free(struct worker *w)
{
	struct pool	*p = w->pool;

	/* retiring first: nothing may be dispatched to it any more */
	if (w->state == W_IDLE) {
		LIST_REMOVE(w, idle);
		p->nidle--;
	}
	if (w->state != W_RETIRING) {
		w->state = W_RETIRING;
		p->nretiring++;
	}
	if (w->conn != NULL)
		conn_worker_died(w->conn);
	w->conn = NULL;
	worker_disconnect(w);
	p->nretiring--;
	TAILQ_REMOVE(&p->workers, w, entry);
	p->nworkers--;
	ev_timer_stop(&w->kill_timer);
	ev_del(&w->pidsrc);
	close(w->pidsrc.fd);
	w->pidsrc.fd = -1;
	unlink(w->path);
	/* freed after this loop turn: see libcommon/ev.h */
	w->pool = NULL;
	defer_free(w);
}

/*
 * Stop everything.  Graceful: workers finish their requests and go, with
 * process_control_timeout as the bound.  Fast: SIGTERM now, SIGKILL soon.
 */
void
pools_stop(int graceful)
{
	struct worker	*w, *tw;
	size_t		 i;

	for (i = 0; i < npools; i++) {
		pool_close_listener(&pools[i]);
		ev_timer_stop(&pools[i].respawn_timer);
		TAILQ_FOREACH_SAFE(w, &pools[i].workers, entry, tw) {
			if (graceful && w->state == W_BUSY)
				continue;	/* worker_done retires it */
			if (w->conn != NULL) {
				/* fast: the request gets a 502 */
				conn_worker_died(w->conn);
				w->conn = NULL;
			}
			worker_retire(w, SIGTERM);
		}
	}
}

int
pools_alive(void)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < npools; i++)
		n += pools[i].nworkers;
	return (n);
}
