/* SPDX-License-Identifier: ISC */
/*
 * The control socket (fpm-control(7)): one request line, one reply, close.
 * Replies are written as the socket drains; nothing here blocks the loop.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/ctl.h"
#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/sock.h"
#include "libcommon/status.h"
#include "fpm.h"

/*
 * A local user may be refused every command, yet connect: it must not be
 * able to fill the table.  Each uid but root's and ours gets CTL_MAXPERUID
 * connections, all of them together CTL_MAXCONNS - CTL_RESERVED, and each
 * connection CTL_TIMEOUT_MS from accept to the reply sent.
 */
#define CTL_TIMEOUT_MS	5000	/* to send a request line, read the reply */
#define CTL_MAXCONNS	64
#define CTL_MAXPERUID	8	/* each uid but root's and ours */
#define CTL_RESERVED	16	/* only root and our uid may use these */
#define CTL_ACCEPT_BATCH 16	/* then the loop's other events */

struct ctlconn {
	struct ev_source	 src;
	struct ev_timer		 timer;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			 in[CTL_LINE_MAX + 1];
	size_t			 inlen;
	char			*out;
	size_t			 outlen, outoff;
	int			 after;		/* what to do once sent */
	LIST_ENTRY(ctlconn)	 entry;
};

enum { AFTER_NOTHING, AFTER_STOP, AFTER_QUIT, AFTER_UPGRADE };

static struct ev_source		 lsrc = { -1, NULL };
static char			 lpath[108];
static gid_t			 readgid = (gid_t)-1;
static int			 nctl;
static struct ev_backoff	 lbackoff;	/* accept out of fds */
static int			 reserved;	/* the timers below */
static LIST_HEAD(, ctlconn)	 ctlconns = LIST_HEAD_INITIALIZER(ctlconns);

static void	ctl_accept(struct ev_source *, uint32_t);
static int	ctl_room(uid_t);
static void	ctl_refuse(int, uid_t);
static void	ctl_event(struct ev_source *, uint32_t);
static void	ctl_timeout(struct ev_timer *);
static void	ctl_close(struct ctlconn *);
static void	ctl_run(struct ctlconn *, char *);
static void	ctl_reply(struct ctlconn *, const char *, size_t);
static void	ctl_replyf(struct ctlconn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	ctl_flush(struct ctlconn *);
static int	ctl_in_group(pid_t, gid_t, gid_t);
static void	ctl_status(struct ctlconn *, char **, int);
static struct pool *ctl_pool(const char *);
static int	ctl_allowed(struct ctlconn *, const char *);
static void	ctl_pools(struct ctlconn *);
static void	ctl_reload(struct ctlconn *, char **, int);
static void	ctl_restart(struct ctlconn *, char **, int);
static void	ctl_identity(struct ctlconn *);
static void	ctl_workers(struct ctlconn *, char **, int);

/*
 * Open the control socket: `control` or the default next to the pidfile
 * (libcommon/ctl.h), with control.owner/group/mode.  A failure is logged
 * and leaves the supervisor without one: it still serves.  -1 with errno
 * EADDRINUSE: another supervisor answers there (main.c refuses to start).
 */
int
ctl_open(const char *pidfile)
{
	struct conf_global	*g = &fpmconf.global;
	struct sock_addr	 addr;
	struct sock_perm	 perm = { (uid_t)-1, (gid_t)-1, -1 };
	struct passwd		*pw;
	struct group		*gr;
	int			 saved;

	if (lsrc.fd != -1)
		return (0);
	/*
	 * ctl_room() bounds the connections: their timers and the back-off's
	 * are reserved once, and a client is never dropped for want of one.
	 */
	if (!reserved) {
		if (ev_timer_reserve(CTL_MAXCONNS + 1) == -1) {
			log_warn("unable to open the control socket");
			return (-1);
		}
		reserved = 1;
	}
	if (ctl_default_path(g, pidfile, lpath, sizeof(lpath)) == -1 ||
	    sock_parse(lpath, &addr) == -1) {
		log_warnx("control socket: path too long");
		return (-1);
	}
	perm.mode = (int)g->control_mode;
	if (g->control_owner != NULL) {
		if ((pw = getpwnam(g->control_owner)) == NULL) {
			log_warnx("control.owner: unknown user '%s'",
			    g->control_owner);
			return (-1);
		}
		perm.uid = pw->pw_uid;
	}
	if (g->control_group != NULL) {
		if ((gr = getgrnam(g->control_group)) == NULL) {
			log_warnx("control.group: unknown group '%s'",
			    g->control_group);
			return (-1);
		}
		perm.gid = readgid = gr->gr_gid;
	}
	if ((lsrc.fd = sock_listen(&addr, 16, &perm)) == -1) {
		saved = errno;
		log_warn("unable to open the control socket %s", lpath);
		lpath[0] = '\0';
		errno = saved;
		return (-1);
	}
	lsrc.cb = ctl_accept;
	if (ev_add(&lsrc, EPOLLIN) == -1)
		fatal("epoll_ctl");
	log_info("control socket %s", lpath);
	return (0);
}

void
ctl_shutdown(void)
{
	struct ctlconn	*c, *tc;

	LIST_FOREACH_SAFE(c, &ctlconns, entry, tc)
		ctl_close(c);
	if (lsrc.fd == -1)
		return;
	ev_close(&lsrc);
	unlink(lpath);
}

static void
ctl_accept(struct ev_source *src, uint32_t events)
{
	struct ucred	 cred;
	socklen_t	 len;
	struct ctlconn	*c;
	unsigned long	 n;
	int		 fd, i;

	(void)events;
	for (i = 0; i < CTL_ACCEPT_BATCH; i++) {
		fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			/* out of fds or memory: pause, as conn_accept does */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (ev_backoff_fail(&lbackoff, src, EPOLLIN,
				    &n))
					log_warn("control socket: unable to "
					    "accept (failures: %lu, paused for "
					    "%lld ms)", n,
					    (long long)lbackoff.delay);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control socket: unable to accept");
			return;
		}
		if (ev_backoff_ok(&lbackoff, &n))
			log_warnx("control socket: accepting again (failures "
			    "since the last report: %lu)", n);
		/* who it is decides whether it may take a slot */
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ==
		    -1) {
			log_warn("control socket: unable to read the peer's "
			    "credentials");
			close(fd);
			continue;
		}
		if (!ctl_room(cred.uid)) {
			ctl_refuse(fd, cred.uid);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("control socket: dropping a connection");
			close(fd);
			continue;
		}
		c->src.fd = fd;
		c->src.cb = ctl_event;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->timer.cb = ctl_timeout;
		if (ev_add(&c->src, EPOLLIN) == -1) {
			log_warn("control socket: dropping a connection");
			close(fd);
			free(c);
			continue;
		}
		/* an idle client must not keep its slot */
		ev_timer_set(&c->timer, CTL_TIMEOUT_MS);
		LIST_INSERT_HEAD(&ctlconns, c, entry);
		nctl++;
	}
}

/*
 * Is there room for one more connection from uid?  Root and our own uid
 * may take any slot; the others are counted before they cost anything
 * more than an accept, so that no number of idle connections from other
 * users keeps root out.
 */
static int
ctl_room(uid_t uid)
{
	struct ctlconn	*c;
	uid_t		 self = geteuid();
	int		 same = 0, others = 0;

	if (nctl >= CTL_MAXCONNS)
		return (0);
	if (uid == 0 || uid == self)
		return (1);
	LIST_FOREACH(c, &ctlconns, entry) {
		if (c->uid == uid)
			same++;
		if (c->uid != 0 && c->uid != self)
			others++;
	}
	return (same < CTL_MAXPERUID &&
	    others < CTL_MAXCONNS - CTL_RESERVED);
}

/*
 * Say why, then close: the new socket's send buffer is empty, so the
 * line fits without waiting, and a client that never reads costs nothing.
 */
static void
ctl_refuse(int fd, uid_t uid)
{
	char	line[128];
	int	n;

	n = snprintf(line, sizeof(line), "error %d too many connections "
	    "from uid %u\n", FPM_EXIT_TEMP, (unsigned int)uid);
	/* a failed write: the client is gone, nothing to tell */
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(fd, line, (size_t)n) == -1)
		log_debug("control socket: uid %u: %s", (unsigned int)uid,
		    strerror(errno));
	close(fd);
}

static void
ctl_timeout(struct ev_timer *t)
{
	ctl_close(container_of(t, struct ctlconn, timer));
}

static void
ctl_close(struct ctlconn *c)
{
	int	after = c->after;

	ev_timer_stop(&c->timer);
	if (c->src.fd != -1)
		close(c->src.fd);
	c->src.fd = -1;
	LIST_REMOVE(c, entry);
	nctl--;
	free(c->out);
	ev_defer_free(c);
	if (after == AFTER_STOP)
		supervisor_stop(2);
	else if (after == AFTER_QUIT)
		supervisor_stop(1);
	else if (after == AFTER_UPGRADE)
		supervisor_upgrade();
}

static void
ctl_event(struct ev_source *src, uint32_t events)
{
	struct ctlconn	*c = container_of(src, struct ctlconn, src);
	char		*nl;
	ssize_t		 n;

	if (c->out != NULL) {
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			ctl_flush(c);
		return;
	}
	n = read(src->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_close(c);
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	if ((nl = strchr(c->in, '\n')) == NULL) {
		if (c->inlen == sizeof(c->in) - 1)
			ctl_replyf(c, "error %d request line too long\n",
			    FPM_EXIT_USAGE);
		return;
	}
	*nl = '\0';
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	ctl_run(c, c->in);
}

/* Is the peer (pid, primary gid) a member of gid?  /proc tells. */
static int
ctl_in_group(pid_t pid, gid_t primary, gid_t gid)
{
	char		 path[64], line[4096], *s, *save;
	FILE		*fp;
	int		 found = 0;

	if (gid == (gid_t)-1)
		return (0);
	if (primary == gid)
		return (1);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return (0);
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (s = strtok_r(line + 7, " \t\n", &save); s != NULL;
		    s = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(s, NULL, 10) == gid)
				found = 1;
	}
	fclose(fp);
	return (found);
}

static struct pool *
ctl_pool(const char *name)
{
	size_t	i;

	for (i = 0; i < npools; i++)
		if (!pools[i]->draining && strcmp(pools[i]->cf->name,
		    name) == 0)
			return (pools[i]);
	return (NULL);
}

/*
 * May c's peer run argv[0]?  Its own uid or root may run anything; the
 * listen.group's members may read.  If not: refused, said, and 0.
 */
static int
ctl_allowed(struct ctlconn *c, const char *cmd)
{
	char	vis[256];
	int	reader;

	if (c->uid == 0 || c->uid == geteuid())
		return (1);
	reader = ctl_in_group(c->pid, c->gid, readgid);
	if (ctl_is_readonly(cmd) && reader)
		return (1);
	ctl_replyf(c, "error %d permission denied: uid %u may %s\n",
	    FPM_EXIT_USAGE, (unsigned int)c->uid, reader ? "only read "
	    "(status, pools, pid, version, wait-ready, identity, workers)" :
	    "not use this socket");
	/* another user's bytes: escaped, they forge no line */
	log_warnx("control socket: uid %u (pid %d) refused '%s'",
	    (unsigned int)c->uid, (int)c->pid, log_vis(vis, sizeof(vis), cmd));
	return (0);
}

/* pools: one line a running pool. */
static void
ctl_pools(struct ctlconn *c)
{
	struct pool	*p;
	char		*buf = NULL;
	size_t		 i, len = 0;
	FILE		*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL) {
		ctl_replyf(c, "error %d %s\n", FPM_EXIT_TEMP, strerror(errno));
		return;
	}
	fprintf(fp, "ok\n");
	for (i = 0; i < npools; i++) {
		p = pools[i];
		if (p->draining)
			continue;
		fprintf(fp, "%s %s %s %d %d %d %d\n", p->cf->name,
		    conf_pm_name(p->cf->pm), p->cf->listen, p->nworkers,
		    p->nidle, p->nworkers - p->nidle, p->nqueue);
	}
	fclose(fp);
	ctl_reply(c, buf, len);
	free(buf);
}

/*
 * workers [POOL|-]: one line a worker, "pool pid cpu_ms rss_bytes", what
 * its process has used: CPU time since it started, resident set now ("-"
 * when /proc does not say).  The text status page has no field for it.
 */
static void
ctl_workers(struct ctlconn *c, char **argv, int argc)
{
	struct pool		*p;
	struct worker		*w;
	const char		*name = argc > 1 ? argv[1] : "-";
	char			*buf = NULL;
	unsigned long long	 cpu, rss;
	size_t			 i, len = 0;
	FILE			*fp;

	if (argc > 2) {
		ctl_replyf(c, "error %d usage: workers [POOL]\n",
		    FPM_EXIT_USAGE);
		return;
	}
	if (strcmp(name, "-") != 0 && ctl_pool(name) == NULL) {
		ctl_replyf(c, "error %d no pool '%s'\n", FPM_EXIT_NO, name);
		return;
	}
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		ctl_replyf(c, "error %d %s\n", FPM_EXIT_TEMP, strerror(errno));
		return;
	}
	fprintf(fp, "ok\n");
	for (i = 0; i < npools; i++) {
		p = pools[i];
		if (p->draining || (strcmp(name, "-") != 0 &&
		    strcmp(p->cf->name, name) != 0))
			continue;
		TAILQ_FOREACH(w, &p->workers, entry) {
			if (stat_usage(w, &cpu, &rss) == 0)
				fprintf(fp, "%s %d %llu %llu\n", p->cf->name,
				    (int)w->pid, cpu, rss);
			else
				fprintf(fp, "%s %d - -\n", p->cf->name,
				    (int)w->pid);
		}
	}
	if (fclose(fp) == EOF) {
		free(buf);
		ctl_replyf(c, "error %d %s\n", FPM_EXIT_TEMP, strerror(errno));
		return;
	}
	ctl_reply(c, buf, len);
	free(buf);
}

/* reload [POOL] */
static void
ctl_reload(struct ctlconn *c, char **argv, int argc)
{
	char	msg[1024];

	if (argc > 1 && ctl_pool(argv[1]) == NULL) {
		ctl_replyf(c, "error %d no pool '%s'\n", FPM_EXIT_NO, argv[1]);
		return;
	}
	if (supervisor_reload(argc > 1 ? argv[1] : NULL, msg,
	    sizeof(msg)) == -1)
		ctl_replyf(c, "error %d %s\n", FPM_EXIT_USAGE, msg);
	else
		ctl_replyf(c, "ok %s\n", msg);
}

/* restart POOL */
static void
ctl_restart(struct ctlconn *c, char **argv, int argc)
{
	struct pool	*p;

	if (argc < 2) {
		ctl_replyf(c, "error %d usage: restart POOL\n",
		    FPM_EXIT_USAGE);
		return;
	}
	if ((p = ctl_pool(argv[1])) == NULL) {
		ctl_replyf(c, "error %d no pool '%s'\n", FPM_EXIT_NO, argv[1]);
		return;
	}
	log_info("[pool %s] restart asked on the control socket",
	    p->cf->name);
	pool_restart(p);
	ctl_replyf(c, "ok\n");
}

/*
 * identity: who we are, for a client to check that it reached the
 * supervisor of the configuration or pidfile it was given (ctl.h).
 */
static void
ctl_identity(struct ctlconn *c)
{
	static char	conf[CTL_ID_MAX], pid[CTL_ID_MAX];

	ctl_replyf(c, "ok\npid %d\nconfig %s\npidfile %s\n", (int)getpid(),
	    self_config[0] != '\0' ? log_vis(conf, sizeof(conf), self_config) :
	    "-", self_pidfile[0] != '\0' ? log_vis(pid, sizeof(pid),
	    self_pidfile) : "-");
}

static void
ctl_run(struct ctlconn *c, char *line)
{
	char	*argv[8], *save, *s;
	int	 argc = 0;

	for (s = strtok_r(line, " \t", &save); s != NULL && argc < 7;
	    s = strtok_r(NULL, " \t", &save))
		argv[argc++] = s;
	argv[argc] = NULL;
	if (argc == 0) {
		ctl_replyf(c, "error %d empty request\n", FPM_EXIT_USAGE);
		return;
	}
	if (!ctl_allowed(c, argv[0]))
		return;
	if (strcmp(argv[0], "status") == 0)
		ctl_status(c, argv, argc);
	else if (strcmp(argv[0], "pools") == 0)
		ctl_pools(c);
	else if (strcmp(argv[0], "reload") == 0)
		ctl_reload(c, argv, argc);
	else if (strcmp(argv[0], "restart") == 0)
		ctl_restart(c, argv, argc);
	else if (strcmp(argv[0], "stop") == 0 ||
	    strcmp(argv[0], "quit") == 0) {
		c->after = argv[0][0] == 's' ? AFTER_STOP : AFTER_QUIT;
		ctl_replyf(c, "ok\n");
	} else if (strcmp(argv[0], "upgrade") == 0) {
		c->after = AFTER_UPGRADE;
		ctl_replyf(c, "ok\n");
	} else if (strcmp(argv[0], "reopen") == 0) {
		supervisor_reopen();
		ctl_replyf(c, "ok\n");
	} else if (strcmp(argv[0], "pid") == 0)
		ctl_replyf(c, "ok\n%d\n", (int)getpid());
	else if (strcmp(argv[0], "version") == 0)
		ctl_replyf(c, "ok\nfpm-supervise %s\n", FPM_VERSION);
	else if (strcmp(argv[0], "wait-ready") == 0)
		ctl_replyf(c, "ok ready\n");
	else if (strcmp(argv[0], "identity") == 0)
		ctl_identity(c);
	else if (strcmp(argv[0], "workers") == 0)
		ctl_workers(c, argv, argc);
	else
		ctl_replyf(c, "error %d unknown command '%s'\n",
		    FPM_EXIT_USAGE, argv[0]);
}

/* status [POOL|-] [FORMAT] [full] */
static void
ctl_status(struct ctlconn *c, char **argv, int argc)
{
	/* in enum status_format's order */
	static const char *const fmts[] = { "text", "json", "xml", "html",
	    "openmetrics", "prometheus" };
	struct status_buf	 b = { NULL, 0, 0 };
	struct status_pool	*sp = NULL;
	struct status_proc	*procs = NULL;
	enum status_format	 fmt = STATUS_TEXT;
	const char		*name = NULL;
	size_t			 i, np = 0, nprocs = 0, off = 0;
	int			 a, full = 0, r;

	for (a = 1; a < argc; a++) {
		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			if (strcmp(argv[a], fmts[i]) == 0)
				break;
		if (i < sizeof(fmts) / sizeof(fmts[0]))
			fmt = (enum status_format)i;
		else if (strcmp(argv[a], "full") == 0)
			full = 1;
		else if (name == NULL)
			name = argv[a];
		else {
			ctl_replyf(c, "error %d unknown status argument "
			    "'%s'\n", FPM_EXIT_USAGE, argv[a]);
			return;
		}
	}
	if (name != NULL && strcmp(name, "-") == 0)
		name = NULL;
	stat_watched = 1;	/* workers' CPU and memory: measure from now */
	if (name != NULL && ctl_pool(name) == NULL) {
		ctl_replyf(c, "error %d no pool '%s'\n", FPM_EXIT_NO, name);
		return;
	}
	for (i = 0; i < npools; i++)
		nprocs += (size_t)pools[i]->nworkers;
	if ((sp = calloc(npools + 1, sizeof(*sp))) == NULL ||
	    (procs = calloc(nprocs + 1, sizeof(*procs))) == NULL)
		goto fail;
	for (i = 0; i < npools; i++) {
		if (pools[i]->draining || (name != NULL &&
		    strcmp(pools[i]->cf->name, name) != 0))
			continue;
		off += stat_fill(pools[i], &sp[np++], procs + off,
		    nprocs - off);
	}
	if (np == 1)
		r = status_render(&b, &sp[0], fmt, full);
	else
		r = status_render_multi(&b, sp, np, fmt, full);
	if (r == -1 && errno == EINVAL) {
		ctl_replyf(c, "error %d format %s shows one pool: name it\n",
		    FPM_EXIT_USAGE, fmts[fmt]);
		goto done;
	}
	if (r == -1)
		goto fail;
	if ((c->out = malloc(b.len + 4)) == NULL)
		goto fail;
	memcpy(c->out, "ok\n", 3);
	memcpy(c->out + 3, b.data, b.len);
	c->outlen = b.len + 3;
	ev_mod(&c->src, EPOLLOUT);
	ctl_flush(c);
	goto done;
fail:
	ctl_replyf(c, "error %d %s\n", FPM_EXIT_TEMP, strerror(errno));
done:
	status_buf_free(&b);
	free(sp);
	free(procs);
}

static void
ctl_replyf(struct ctlconn *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		ctl_close(c);
		return;
	}
	ctl_reply(c, s, (size_t)n);
	free(s);
}

static void
ctl_reply(struct ctlconn *c, const char *data, size_t len)
{
	if ((c->out = malloc(len)) == NULL) {
		ctl_close(c);
		return;
	}
	memcpy(c->out, data, len);
	c->outlen = len;
	ev_mod(&c->src, EPOLLOUT);
	ctl_flush(c);
}

static void
ctl_flush(struct ctlconn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = write(c->src.fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			break;
		c->outoff += (size_t)n;
	}
	ctl_close(c);
}
