/* SPDX-License-Identifier: ISC */
/*
 * Pools: the worker template, the listeners, the crash-loop brake, the
 * pool's posted pass, drain and removal.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/acl.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/parse.h"
#include "libcommon/phpgroup.h"
#include "libcommon/sock.h"
#include "fpm.h"

#define BACKOFF_MAX_MS	(60 * 1000)

static int	pool_slowlog_create(const struct conf_pool *, char *, size_t);
static int	listener_open(struct pool *, struct listener *, const char *,
		    char *, size_t);
static void	pool_respawn_timeout(struct ev_timer *);
static void	pool_pass(struct ev_post *);
static int	pool_env(struct pool *);
static int	pool_acl(struct conf_pool *, const char *, char *, size_t);
static int	pool_err(struct conf_pool *, const char *, char *, size_t,
		    const char *, ...) __attribute__((format(printf, 5, 6)));
static int	pool_check_exec(struct pool *, char *, size_t);
static int	pool_exec_ok(const char *);
static int	pool_phpext(struct pool *, char *, size_t);

/*
 * The worker environment: PHP-FPM's clear_env and env[], plus what php-cgi
 * needs to leave process management to us: PHP_FCGI_CHILDREN=0, no
 * children of its own; PHP_FCGI_MAX_REQUESTS=0, no exit after 500
 * requests (pm.max_requests is ours).
 */
static int
pool_env(struct pool *p)
{
	struct conf_pool	*c = p->cf;
	struct passwd		*pw = NULL;
	char			**set, buf[512];
	size_t			  n = 0, i;
	int			  r;

	if ((set = calloc(c->nenv + 5, sizeof(*set))) == NULL)
		return (-1);
	if (p->spawn.setids)
		pw = getpwuid(p->spawn.uid);
	if (pw != NULL) {
		snprintf(buf, sizeof(buf), "USER=%s", pw->pw_name);
		set[n++] = strdup(buf);
		snprintf(buf, sizeof(buf), "HOME=%s", pw->pw_dir);
		set[n++] = strdup(buf);
	}
	if (conf_is_phpcgi(c->argv[0])) {
		set[n++] = strdup("PHP_FCGI_MAX_REQUESTS=0");
		/* php.group: its children are the workers (group.c) */
		snprintf(buf, sizeof(buf), "PHP_FCGI_CHILDREN=%d",
		    c->php_group ? c->max_children : 0);
		set[n++] = strdup(buf);
		/* and with fpm.so, forked when asked (phpgroup.h) */
		if (c->php_group) {
			snprintf(buf, sizeof(buf), "%s=%d", PHPGROUP_ENV,
			    PHPGROUP_FD);
			set[n++] = strdup(buf);
		}
	}
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

/*
 * "[FILE:LINE] [pool NAME] message" into err, FILE:LINE being where
 * directive name was set (the section when it was not).  Returns -1.
 */
static int
pool_err(struct conf_pool *c, const char *name, char *err, size_t errsize,
    const char *fmt, ...)
{
	va_list		 ap;
	const char	*file;
	int		 line, n;

	conf_pool_where(c, name, &file, &line);
	n = snprintf(err, errsize, "[%s:%d] [pool %s] ", file, line, c->name);
	/* the message goes after what snprintf wrote, never past err */
	if (n < 0)
		n = 0;
	if ((size_t)n >= errsize)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(err + n, errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * What every worker of the pool is started with, from its config: ids,
 * chroot, limits, argv, environment, and a program they can run.  This is
 * the one check of a pool beyond its file, made alike by -t, a start and a
 * reload.  Returns 0, or -1 with err filled (the pool is then unchanged).
 */
int
pool_template(struct pool *p, struct conf_pool *c, int allow_root, char *err,
    size_t errsize)
{
	struct pool	t;
	char		why[512];

	memset(&t, 0, sizeof(t));
	t.cf = c;
	spawn_init(&t.spawn);
	if (geteuid() == 0) {
		if (c->user == NULL && !allow_root)
			return (pool_err(c, "user", err, errsize, "user has "
			    "not been defined"));
		if (c->user != NULL && spawn_resolve_ids(&t.spawn, c->user,
		    c->group, allow_root, why, sizeof(why)) == -1) {
			/* the uid is known when only the group is wrong */
			if (errno == ENOMEM)
				return (pool_err(c, "user", err, errsize,
				    "%s", strerror(errno)));
			if (errno == EPERM)
				return (pool_err(c, c->group != NULL &&
				    t.spawn.uid != 0 ? "group" : "user", err,
				    errsize, "please specify user and group "
				    "other than root. The pool has user '%s'%s%s%s;"
				    " -R allows root.", c->user, c->group !=
				    NULL ? ", group '" : "", c->group != NULL ?
				    c->group : "", c->group != NULL ? "'" : ""));
			if (c->group != NULL &&
			    strncmp(why, "unknown group", 13) == 0)
				return (pool_err(c, "group", err, errsize,
				    "cannot get gid for group '%s'",
				    c->group));
			return (pool_err(c, "user", err, errsize, "cannot get "
			    "uid for user '%s'", c->user));
		}
		t.spawn.chroot = c->chroot;
	} else if (c->chroot != NULL)
		return (pool_err(c, "chroot", err, errsize, "chroot needs "
		    "root"));
	else {
		/* PHP-FPM's notices; a chroot is never dropped silently */
		if (c->user != NULL)
			log_info("[pool %s] 'user' directive is ignored when "
			    "FPM is not running as root", c->name);
		if (c->group != NULL)
			log_info("[pool %s] 'group' directive is ignored when "
			    "FPM is not running as root", c->name);
	}
	t.spawn.chdir = c->chdir;
	if (c->rlimit_files_set)
		t.spawn.rlimit_nofile = c->rlimit_files;
	if (c->rlimit_core_set)
		t.spawn.rlimit_core = c->rlimit_core;
	if (c->priority_set) {
		t.spawn.setnice = 1;
		t.spawn.nice = c->priority;
	}
	t.spawn.sockmode = SPAWN_SOCK_STDIN;
	t.spawn.setsid = 1;
	/*
	 * Should we die, even by SIGKILL, a worker must not outlive us holding
	 * its socket: nothing can reach it any more.  SIGKILL, since a worker
	 * may ignore SIGTERM.  The parent-death signal needs no privileges or
	 * cgroup delegation, unlike a cgroup kill, and no live process, unlike
	 * a pidfd.  It does not reach a worker's own children (php-cgi with
	 * PHP_FCGI_CHILDREN): only a cgroup would.
	 */
	t.spawn.pdeathsig = SIGKILL;
	if ((t.argv = pool_argv(c)) == NULL || pool_env(&t) == -1) {
		pool_err(c, "command", err, errsize, "unable to build the "
		    "worker's argv and environment: %s", strerror(errno));
		pool_argv_free(t.argv);
		spawn_free(&t.spawn);
		return (-1);
	}
	if (pool_phpext(&t, err, errsize) == -1) {
		pool_template_free(&t);
		return (-1);
	}
	t.spawn.argv = t.argv;
	t.spawn.envp = t.envp;
	if (pool_check_exec(&t, err, errsize) == -1) {
		pool_template_free(&t);
		return (-1);
	}
	pool_template_free(p);
	p->cf = c;
	p->spawn = t.spawn;
	p->argv = t.argv;
	p->envp = t.envp;
	p->phpext = t.phpext;
	p->php = conf_is_phpcgi(p->argv[0]);
	p->grouped = p->php && c->php_group;
	p->probe = !c->request_finish_probe ? PROBE_NONE :
	    p->php ? PROBE_APPEND : PROBE_AFTER;
	return (0);
}

/*
 * fpm.so (php/fpm.c) for php-cgi workers, as "-d extension=PATH" and
 * "-d fpm.admin_values=NAME,..." after argv[0]: php.extension unset is the
 * installed one when there is one (in the chroot), "no" is none.  The
 * admin names go as a quoted ini string, so only names PHP could have.
 * Returns 0, or -1 with err.
 */
static int
pool_phpext(struct pool *t, char *err, size_t errsize)
{
	static const char	 namech[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	struct conf_pool	*c = t->cf;
	const char		*path = c->php_extension;
	char			 buf[PATH_MAX], *names = NULL, **v;
	char			*ext = NULL, *adm = NULL, *d1 = NULL, *d2 = NULL;
	size_t			 n, i, k, len = 0;
	FILE			*f;
	int			 r;

	if (!conf_is_phpcgi(t->argv[0]) ||
	    (path != NULL && strcmp(path, "no") == 0))
		return (0);
	if (path != NULL && (*path != '/' || strpbrk(path, "\"$\\\n") != NULL))
		return (pool_err(c, "php.extension", err, errsize,
		    "php.extension is 'no' or an absolute path without '\"', "
		    "'$' or '\\' ('%s')", path));
	r = snprintf(buf, sizeof(buf), "%s%s", c->chroot != NULL ? c->chroot :
	    "", path != NULL ? path : FPM_PHPEXT);
	if (r < 0 || (size_t)r >= sizeof(buf) || access(buf, R_OK) == -1) {
		if (path == NULL)
			return (0);	/* fpm was built without it */
		return (pool_err(c, "php.extension", err, errsize, "unable "
		    "to read %s: %s", buf, r < 0 || (size_t)r >= sizeof(buf) ?
		    strerror(ENAMETOOLONG) : strerror(errno)));
	}
	if ((f = open_memstream(&names, &len)) == NULL)
		goto oom;
	for (i = 0; i < c->nphp; i++)
		if ((c->php[i].kind == CONF_PHP_ADMIN_VALUE ||
		    c->php[i].kind == CONF_PHP_ADMIN_FLAG) &&
		    c->php[i].key[strspn(c->php[i].key, namech)] == '\0')
			fprintf(f, "%s%s", ftell(f) > 0 ? "," : "",
			    c->php[i].key);
	if (fclose(f) != 0)
		goto oom;
	if (asprintf(&ext, "extension=%s", path != NULL ? path :
	    FPM_PHPEXT) == -1) {
		ext = NULL;
		goto oom;
	}
	if (len > 0 && asprintf(&adm, "fpm.admin_values=\"%s\"",
	    names) == -1) {
		adm = NULL;
		goto oom;
	}
	for (n = 0; t->argv[n] != NULL; n++)
		;
	if ((d1 = strdup("-d")) == NULL ||
	    (adm != NULL && (d2 = strdup("-d")) == NULL) ||
	    (v = calloc(n + 5, sizeof(*v))) == NULL)
		goto oom;
	k = 0;
	v[k++] = t->argv[0];
	v[k++] = d1;
	v[k++] = ext;
	if (adm != NULL) {
		v[k++] = d2;
		v[k++] = adm;
	}
	for (i = 1; i <= n; i++)
		v[k++] = t->argv[i];
	free(names);
	free(t->argv);
	t->argv = v;
	t->phpext = 1;
	return (0);
oom:
	free(d1);
	free(d2);
	free(ext);
	free(adm);
	free(names);
	return (pool_err(c, "php.extension", err, errsize, "unable to "
	    "build the worker's argv: %s", strerror(ENOMEM)));
}

/* The checks of pool_template() alone, for -t: 0, or -1 with err. */
int
pool_check(struct conf_pool *c, int allow_root, char *err, size_t errsize)
{
	struct pool	t;

	memset(&t, 0, sizeof(t));
	if (pool_template(&t, c, allow_root, err, errsize) == -1)
		return (-1);
	pool_template_free(&t);
	return (0);
}

/*
 * Can t's workers run their program?  A child takes their groups, gid,
 * chroot, directory and uid as spawn_exec() will, and asks the kernel,
 * so that search permission on each directory, ACLs and noexec mounts all
 * count.  Returns 0, or -1 with err filled: which step failed, and why.
 */
static int
pool_check_exec(struct pool *t, char *err, size_t errsize)
{
	const struct spawn	*s = &t->spawn;
	struct {
		int	step;	/* 0: exec, 1: chroot, 2: chdir, 3: ids */
		int	error;
	} r;
	ssize_t			 n;
	pid_t			 pid;
	int			 fd[2], status;

	if (pipe2(fd, O_CLOEXEC) == -1)
		return (pool_err(t->cf, "command", err, errsize, "unable to "
		    "check the command: pipe: %s", strerror(errno)));
	if ((pid = fork()) == -1) {
		r.error = errno;
		close(fd[0]);
		close(fd[1]);
		return (pool_err(t->cf, "command", err, errsize, "unable to "
		    "check the command: fork: %s", strerror(r.error)));
	}
	if (pid == 0) {
		close(fd[0]);
		r.step = 3;
		r.error = 0;
		if (s->setids && (setgroups(s->ngroups, s->groups) == -1 ||
		    setresgid(s->gid, s->gid, s->gid) == -1))
			r.error = errno;
		if (r.error == 0 && s->chroot != NULL && (r.step = 1,
		    chroot(s->chroot) == -1 || (s->chdir == NULL &&
		    chdir("/") == -1)))
			r.error = errno;
		if (r.error == 0 && s->chdir != NULL && (r.step = 2,
		    chdir(s->chdir) == -1))
			r.error = errno;
		if (r.error == 0 && s->setids && (r.step = 3,
		    setresuid(s->uid, s->uid, s->uid) == -1))
			r.error = errno;
		if (r.error == 0) {
			r.step = 0;
			r.error = pool_exec_ok(s->argv[0]);
		}
		(void)write(fd[1], &r, sizeof(r));
		_exit(0);
	}
	close(fd[1]);
	while ((n = read(fd[0], &r, sizeof(r))) == -1 && errno == EINTR)
		;
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r))
		return (pool_err(t->cf, "command", err, errsize, "unable to "
		    "check the command: the checking process failed"));
	if (r.error == 0)
		return (0);
	switch (r.step) {
	case 0:
		return (pool_err(t->cf, "command", err, errsize, "unable to "
		    "execute %s: %s", s->argv[0], strerror(r.error)));
	case 1:
		return (pool_err(t->cf, "chroot", err, errsize, "unable to "
		    "chroot to %s: %s", s->chroot, strerror(r.error)));
	case 2:
		return (pool_err(t->cf, "chdir", err, errsize, "unable to "
		    "chdir to %s: %s", s->chdir, strerror(r.error)));
	default:
		return (pool_err(t->cf, "user", err, errsize, "unable to "
		    "take the workers' user and groups: %s",
		    strerror(r.error)));
	}
}

/*
 * In the checking child: 0 when prog can be exec'd, else the errno exec
 * would give.  A name without '/' is looked up in PATH (our own, the
 * default of glibc when unset), as execvpe(3) does.
 */
static int
pool_exec_ok(const char *prog)
{
	struct stat	 st;
	const char	*path, *e;
	char		 buf[PATH_MAX];
	int		 n, denied = 0;

	if (strchr(prog, '/') != NULL) {
		if (faccessat(AT_FDCWD, prog, X_OK, AT_EACCESS) == -1 ||
		    stat(prog, &st) == -1)
			return (errno);
		return (S_ISREG(st.st_mode) ? 0 : EACCES);
	}
	if (*prog == '\0')
		return (ENOENT);
	if ((path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	for (;; path = e + 1) {
		e = strchrnul(path, ':');
		/* an empty entry is the current directory */
		n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(e - path),
		    path, e == path ? "" : "/", prog);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			if (faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == -1)
				denied |= errno == EACCES;
			else if (stat(buf, &st) == 0) {
				if (S_ISREG(st.st_mode))
					return (0);
				denied = 1;	/* a directory */
			}
		}
		if (*e == '\0')
			break;
	}
	/* execvpe's answer: EACCES if any entry said so */
	return (denied ? EACCES : ENOENT);
}

void
pool_template_free(struct pool *p)
{
	spawn_env_free(p->envp);
	pool_argv_free(p->argv);
	spawn_free(&p->spawn);
	p->envp = p->argv = NULL;
}

/*
 * Open (or adopt, when inherited) the pool's listening socket.  Returns 0,
 * or -1 with err filled.
 */
int
pool_listen(struct pool *p, char *err, size_t errsize)
{
	return (listener_open(p, &p->lst, p->cf->listen, err, errsize));
}

/* The same for pm.status_listen, when set. */
int
pool_status_listen(struct pool *p, char *err, size_t errsize)
{
	if (p->cf->status_listen == NULL)
		return (0);
	return (listener_open(p, &p->slst, p->cf->status_listen, err,
	    errsize));
}

/* Open l on address, with the pool's listen.* permissions and backlog. */
static int
listener_open(struct pool *p, struct listener *l, const char *address,
    char *err, size_t errsize)
{
	struct conf_pool	*c = p->cf;
	struct sock_addr	 addr;
	struct sock_perm	 perm = { (uid_t)-1, (gid_t)-1, -1 };
	struct passwd		*pw;
	struct group		*gr;
	const char		*what = address == c->listen ? "listen" :
				    "pm.status_listen";
	long long		 id;
	int			 fd, acl;

	if (sock_parse(address, &addr) == -1) {
		snprintf(err, errsize, "[pool %s] invalid listen address "
		    "'%s'", c->name, address);
		return (-1);
	}
	acl = c->listen_acl_users != NULL || c->listen_acl_groups != NULL;
	if (addr.ss.ss_family == AF_UNIX) {
		perm.mode = (int)c->listen_mode;
		/* as PHP-FPM: with ACLs, owner and group stay ours */
		if (acl && c->listen_owner != NULL)
			log_warnx("[pool %s] ACL set, listen.owner = '%s' is "
			    "ignored", c->name, c->listen_owner);
		if (acl && c->listen_group != NULL)
			log_warnx("[pool %s] ACL set, listen.group = '%s' is "
			    "ignored", c->name, c->listen_group);
		/* a number without an entry is used as it is (PHP-FPM) */
		if (!acl && c->listen_owner != NULL) {
			if ((pw = getpwnam(c->listen_owner)) != NULL) {
				perm.uid = pw->pw_uid;
				perm.gid = pw->pw_gid;
			} else if (parse_int(c->listen_owner, 0, UINT_MAX - 1,
			    &id) == 0)
				perm.uid = (uid_t)id;
			else
				return (pool_err(c, "listen.owner", err,
				    errsize, "cannot get uid for user '%s'. "
				    "It is listen.owner's.", c->listen_owner));
		}
		if (!acl && c->listen_group != NULL) {
			if ((gr = getgrnam(c->listen_group)) != NULL)
				perm.gid = gr->gr_gid;
			else if (parse_int(c->listen_group, 0, UINT_MAX - 1,
			    &id) == 0)
				perm.gid = (gid_t)id;
			else
				return (pool_err(c, "listen.group", err,
				    errsize, "cannot get gid for group '%s'. "
				    "It is listen.group's.", c->listen_group));
		}
	}
	l->inherited = 0;
	if ((fd = sock_inherit_take(&addr)) != -1) {
		log_info("using inherited socket fd=%d, \"%s\"", fd, addr.key);
		l->inherited = 1;
	} else if ((fd = sock_listen(&addr, c->listen_backlog, &perm)) == -1) {
		/* PHP-FPM's words, with the address as written */
		if (errno == EADDRINUSE && addr.ss.ss_family == AF_UNIX)
			snprintf(err, errsize, "Another FPM instance seems to "
			    "already listen on %s. [pool %s] %s cannot be "
			    "bound.", addr.key, c->name, what);
		else
			snprintf(err, errsize, "unable to bind listening "
			    "socket for address '%s': %s (%d). [pool %s] %s "
			    "cannot be bound.", address, strerror(errno), errno,
			    c->name, what);
		return (-1);
	}
	if (addr.ss.ss_family == AF_UNIX && acl &&
	    pool_acl(c, addr.key, err, errsize) == -1) {
		close(fd);
		unlink(addr.key);
		return (-1);
	}
	l->src.fd = fd;
	strlcpy(l->key, addr.key, sizeof(l->key));
	return (0);
}

/* Start accepting on l, one of p's listeners (once it found its home). */
void
pool_listen_start(struct pool *p, struct listener *l)
{
	l->src.cb = conn_accept;
	l->pool = p;
	if (l->src.fd != -1 && ev_add(&l->src, EPOLLIN) == -1)
		fatal("epoll_ctl");
}

/* A new pool: its template and its listener.  Returns it, or NULL (err). */
struct pool *
pool_new(struct conf_pool *c, int allow_root, char *err, size_t errsize)
{
	struct pool	*p;
	int		 bad;

	if ((p = pool_alloc()) == NULL) {
		snprintf(err, errsize, "[pool %s] %s", c->name,
		    strerror(errno));
		return (NULL);
	}
	if (pool_template(p, c, allow_root, err, errsize) == -1) {
		pool_template_free(p);
		pool_free(p);
		errno = EINVAL;		/* the configuration's fault */
		return (NULL);
	}
	if (pool_listen(p, err, errsize) == -1) {
		pool_template_free(p);
		pool_free(p);
		errno = EADDRINUSE;	/* the system's: try again later */
		return (NULL);
	}
	if (pool_status_listen(p, err, errsize) == -1) {
		listener_close(&p->lst);
		pool_template_free(p);
		pool_free(p);
		errno = EADDRINUSE;
		return (NULL);
	}
	bad = pool_slowlog_create(c, err, errsize) == -1;
	if (!bad && alog_open(p) == -1) {
		snprintf(err, errsize, "[pool %s] unable to open access.log "
		    "%s: %s", c->name, c->access_log, strerror(errno));
		bad = 1;
	}
	if (bad) {
		listener_close(&p->lst);
		listener_close(&p->slst);
		pool_template_free(p);
		pool_free(p);
		return (NULL);
	}
	pool_listen_start(p, &p->lst);
	pool_listen_start(p, &p->slst);
	pool_announce(p);
	return (p);
}

/*
 * One line at start (and for a pool a reload adds or changes): where it
 * listens, for a unix socket with its owner and mode, and what it runs,
 * so that a newcomer knows where to point the web server.
 */
void
pool_announce(struct pool *p)
{
	struct stat	 st;
	struct passwd	*pw;
	struct group	*gr;
	char		 perm[96] = "", uid[16], gid[16];

	if (p->lst.key[0] == '/' && stat(p->lst.key, &st) == 0) {
		snprintf(uid, sizeof(uid), "%u", (unsigned)st.st_uid);
		snprintf(gid, sizeof(gid), "%u", (unsigned)st.st_gid);
		pw = getpwuid(st.st_uid);
		gr = getgrgid(st.st_gid);
		snprintf(perm, sizeof(perm), " (%s:%s %04o)",
		    pw != NULL ? pw->pw_name : uid,
		    gr != NULL ? gr->gr_name : gid,
		    (unsigned)(st.st_mode & 07777));
	}
	log_info("[pool %s] listening on %s%s, running %s", p->cf->name,
	    p->lst.key, perm, p->argv != NULL && p->argv[0] != NULL ?
	    p->argv[0] : "?");
}

/*
 * The slowlog is created when the pool starts, as PHP-FPM creates it, so
 * that a path fpm-slowlog cannot write shows now, not at the first slow
 * request.  0, or -1 with err filled.
 */
static int
pool_slowlog_create(const struct conf_pool *c, char *err, size_t errsize)
{
	int	fd;

	if (c->slowlog == NULL || c->request_slowlog_timeout_ms <= 0)
		return (0);
	if ((fd = open(c->slowlog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errsize, "[pool %s] Unable to create or open "
		    "slowlog(%s): %s", c->name, c->slowlog, strerror(errno));
		return (-1);
	}
	close(fd);
	return (0);
}

/* An empty pool: no config, no listener, no workers. */
struct pool *
pool_alloc(void)
{
	struct pool	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	if (ev_timer_reserve(POOL_NTIMERS) == -1) {
		free(p);
		return (NULL);
	}
	TAILQ_INIT(&p->workers);
	LIST_INIT(&p->groups);
	TAILQ_INIT(&p->idle);
	TAILQ_INIT(&p->queue);
	p->lst.src.fd = -1;
	p->slst.src.fd = -1;
	p->access_fd = -1;
	p->respawn_timer.cb = pool_respawn_timeout;
	p->pm_timer.cb = pm_timeout;
	p->pass.cb = pool_pass;
	p->start_time = time(NULL);
	return (p);
}

/*
 * The one place where work for a pool runs: what changed in it during the
 * turn (a worker idle, spawned, gone; a request queued; a timer) posts it,
 * and the loop runs it once after the events.  The queue first, so that
 * the process manager counts as idle only the workers left idle.  Nothing
 * here runs nested in the code that found it needed.
 */
static void
pool_pass(struct ev_post *ep)
{
	struct pool	*p = container_of(ep, struct pool, pass);

	conn_dispatch_queue(p);
	pm_maintain(p);
}

void
pool_post(struct pool *p)
{
	ev_post(&p->pass);
}

/* A pool that never ran (no worker, no connection, no timer armed). */
void
pool_free(struct pool *p)
{
	ev_timer_unreserve(POOL_NTIMERS);
	ev_unpost(&p->pass);
	free(p);
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
void
pool_own(struct pool *p, struct confref *r)
{
	r->refs++;
	conf_release(p->owner);
	p->owner = r;
}


/*
 * listen.acl_users / listen.acl_groups: a POSIX ACL giving each named user
 * and group read and write on the socket, on top of listen.mode.
 */
static int
pool_acl(struct conf_pool *c, const char *path, char *err, size_t errsize)
{
	const char	*lists[2] = { c->listen_acl_users,
			    c->listen_acl_groups };
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
			if (len >= sizeof(text)) {
				snprintf(err, errsize, "[pool %s] listen.acl_"
				    "%ss: too long", c->name, kind[i]);
				free(list);
				return (-1);
			}
		}
		free(list);
	}
	if ((acl = acl_from_text(text)) == NULL) {
		snprintf(err, errsize, "[pool %s] listen.acl_users/acl_groups: "
		    "unknown user or group in '%s'", c->name, text);
		return (-1);
	}
	if (acl_set_file(path, ACL_TYPE_ACCESS, acl) == -1) {
		snprintf(err, errsize, "[pool %s] unable to set the ACL of %s: "
		    "%s", c->name, path, strerror(errno));
		acl_free(acl);
		return (-1);
	}
	acl_free(acl);
	return (0);
}

/* Close l, one of a pool's listeners; unlink its socket if we made it. */
void
listener_close(struct listener *l)
{
	if (l->src.fd == -1)
		return;
	ev_close(&l->src);
	/* an inherited socket belongs to whoever made it (socket activation) */
	if (l->key[0] == '/' && !l->inherited)
		unlink(l->key);
}

static void
pool_respawn_timeout(struct ev_timer *t)
{
	struct pool	*p = container_of(t, struct pool, respawn_timer);

	pool_post(p);
}

/*
 * Exponential back-off: after n quick deaths in a row, wait 2^(n-1) s (at
 * most a minute) before the next spawn, and say so.
 */
void
pool_brake(struct pool *p, const char *why)
{
	int64_t	ms;

	p->brake_why = why;
	p->brake_said = 0;	/* a new back-off: its 503s get a line */
	p->fails++;
	if (p->fails <= 1)
		return;
	ms = 1000LL << (p->fails - 2 < 6 ? p->fails - 2 : 6);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	log_warnx("[pool %s] %s (%d times in a row), next start in "
	    "%lld.%03llds", p->cf->name, why, p->fails, (long long)ms / 1000,
	    (long long)ms % 1000);
	ev_timer_set(&p->respawn_timer, ms);
}

/*
 * Stop everything.  Graceful: workers finish their requests and go, with
 * process_control_timeout as the bound.  Fast: SIGTERM now, SIGKILL soon.
 */
void
pools_stop(int graceful)
{
	size_t	i;

	for (i = 0; i < npools; i++)
		pool_drain(pools[i], graceful);
}

/*
 * Stop one pool: no more connections, workers go as soon as they are idle
 * (graceful) or now (a request in flight gets a 502).
 */
void
pool_drain(struct pool *p, int graceful)
{
	struct worker	*w, *tw;

	listener_close(&p->lst);
	listener_close(&p->slst);
	ev_timer_stop(&p->respawn_timer);
	ev_timer_stop(&p->pm_timer);
	TAILQ_FOREACH_SAFE(w, &p->workers, entry, tw) {
		if (graceful && (w->state == W_BUSY || worker_busy(w)))
			continue;	/* worker_done retires it */
		if (w->conn != NULL) {
			/* fast: the request gets a 502 */
			conn_worker_died(w->conn);
			w->conn = NULL;
		}
		w->finishing = 0;	/* fast: its work goes too */
		worker_retire(w, SIGTERM);
	}
	groups_retire(p);
}

/* Retire every worker of p and let pm_maintain start fresh ones. */
void
pool_restart(struct pool *p)
{
	struct worker	*w, *tw;

	/* php.group: a new php-cgi, a new OPcache; the old one drains */
	if (p->group != NULL)
		group_retire(p->group);
	TAILQ_FOREACH_SAFE(w, &p->workers, entry, tw)
		if (w->state != W_RETIRING)
			worker_retire(w, SIGTERM);
	p->fails = 0;
	ev_timer_stop(&p->respawn_timer);
	pool_post(p);
}

int
pools_alive(void)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < npools; i++)
		n += pools[i]->nworkers + pools[i]->ngroups;
	return (n);
}

/* Every pool's first workers started (pm.c): fpm-supervise is ready. */
int
pools_started(void)
{
	size_t	i;

	for (i = 0; i < npools; i++)
		if (!pools[i]->started && !pools[i]->draining)
			return (0);
	return (1);
}

/*
 * A removed pool goes once its last worker and connection are gone (reload);
 * it is taken out of pools[] and freed after this loop turn.
 */
void
pool_gc(struct pool *p)
{
	size_t	i;

	if (!p->draining || p->nworkers > 0 || p->ngroups > 0 ||
	    p->nconns > 0)
		return;
	for (i = 0; i < npools; i++)
		if (pools[i] == p)
			break;
	if (i == npools)
		return;
	memmove(&pools[i], &pools[i + 1], (npools - i - 1) * sizeof(*pools));
	npools--;
	log_info("[pool %s] removed", p->cf->name);
	if (p->access_fd != -1)
		close(p->access_fd);
	pool_template_free(p);
	conf_release(p->owner);
	/* a worker that died after the drain may have braked it again */
	ev_timer_stop(&p->respawn_timer);
	ev_timer_stop(&p->pm_timer);
	ev_timer_unreserve(POOL_NTIMERS);
	ev_unpost(&p->pass);
	ev_defer_free(p);
}
