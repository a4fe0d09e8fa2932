/* SPDX-License-Identifier: ISC */
/* Starting a worker: privilege drop, chroot, limits, environment, then exec. */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/parse.h"
#include "libcommon/spawn.h"

/*
 * The stack of a child that shares our memory until it execs (spawn_start):
 * its frames, execvpe's path buffer, and spawn_fail's message.
 */
#define SPAWN_STACK	(64 * 1024)

/*
 * Under AddressSanitizer, the child's frames mark their redzones in the
 * shadow of our stack, and an exec leaves the marks there: the region is
 * cleared before and after each child.
 */
#if defined(__SANITIZE_ADDRESS__)		/* gcc */
#define SPAWN_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)	/* clang */
#define SPAWN_ASAN	1
#endif
#endif
#ifdef SPAWN_ASAN
#include <sanitizer/asan_interface.h>
#define SPAWN_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SPAWN_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

extern char	**environ;

/*
 * Low fds that spawn_reserve_fds() keeps on /dev/null, through which
 * spawn_start hands its child the fds it needs, so that the child can
 * copy only our fds below them (spawn_child).
 */
enum { SLOT_NULL, SLOT_SOCK, SLOT_OUT, SLOT_ERR, SLOT_FD3, SLOT_PIPE, NSLOTS };
static int	spawn_slots[NSLOTS];
static int	spawn_cut;	/* 1 + the highest slot; 0: none reserved */
static int	spawn_filled;	/* the slots holding a copy: 1 << slot */

/* What the child needs, built by the parent (the child must not allocate). */
struct spawn_child {
	const struct spawn	*s;
	char			**env;	/* s->envp, or a copy (LISTEN_FDS) */
	size_t			 pidslot; /* env[pidslot]: LISTEN_PID, or -1 */
	int			 errfd;
	int			 cut;	/* CLONE_FILES: copy our fds below */
	pid_t			 parent;
};

static int	spawn_listen_env(const struct spawn *, struct spawn_child *);
static int	spawn_clone_child(void *);
static void	spawn_child(struct spawn_child *)
		    __attribute__((noreturn));
static void	spawn_fail(int, const char *, const char *)
		    __attribute__((noreturn));
static int	spawn_fds(const struct spawn *, int *);
static int	spawn_rlimit(int, uint64_t);
static uint64_t	spawn_sig_changed(void);
static void	spawn_sig_default(int);
static void	spawn_slots_drop(void);
static int	spawn_slots_fill(const struct spawn *, struct spawn *, int *);
static void	spawn_slots_empty(void);

void
spawn_init(struct spawn *s)
{
	memset(s, 0, sizeof(*s));
	s->sock = -1;
	s->stdout_fd = -1;
	s->fd3 = -1;
	s->stderr_fd = -1;
	s->rlimit_nofile = SPAWN_NOLIMIT;
	s->rlimit_core = SPAWN_NOLIMIT;
}

void
spawn_free(struct spawn *s)
{
	free((void *)s->groups);
	s->groups = NULL;
	s->ngroups = 0;
}

int
spawn_resolve_ids(struct spawn *s, const char *user, const char *group,
    int allow_root, char *err, size_t errsize)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		*groups;
	long long	 id;
	int		 n = 0;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL &&
	    parse_int(user, 0, UINT_MAX - 1, &id) == 0)
		pw = getpwuid((uid_t)id);
	if (pw == NULL) {
		if (parse_int(user, 0, UINT_MAX - 1, &id) == -1) {
			snprintf(err, errsize, "unknown user '%s'", user);
			errno = ENOENT;
			return (-1);
		}
		/* a bare uid without a passwd entry: no groups to add */
		s->uid = (uid_t)id;
		s->gid = (gid_t)id;
	} else {
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) != NULL)
			s->gid = gr->gr_gid;
		else if (parse_int(group, 0, UINT_MAX - 1, &id) == 0)
			s->gid = (gid_t)id;
		else {
			snprintf(err, errsize, "unknown group '%s'", group);
			errno = ENOENT;
			return (-1);
		}
	}
	if (!allow_root && (s->uid == 0 || s->gid == 0)) {
		snprintf(err, errsize, "refusing to run as root "
		    "(user '%s'%s%s%s)", user, group ? ", group '" : "",
		    group ? group : "", group ? "'" : "");
		errno = EPERM;
		return (-1);
	}
	if (pw != NULL) {
		/* getgrouplist tells how many when the first try is short */
		getgrouplist(pw->pw_name, s->gid, NULL, &n);
		if ((groups = calloc((size_t)n + 1, sizeof(*groups))) == NULL)
			return (-1);
		if (getgrouplist(pw->pw_name, s->gid, groups, &n) == -1)
			n = 0;
	} else if ((groups = calloc(1, sizeof(*groups))) == NULL)
		return (-1);
	if (n == 0)
		groups[n++] = s->gid;
	spawn_free(s);
	s->groups = groups;
	s->ngroups = (size_t)n;
	s->setids = 1;
	return (0);
}

char **
spawn_env(int clear, char *const *set, size_t nset)
{
	char	**env;
	size_t	  n = 0, i, j, len;

	if (!clear)
		while (environ[n] != NULL)
			n++;
	if ((env = calloc(n + nset + 1, sizeof(*env))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if ((env[i] = strdup(environ[i])) == NULL)
			goto fail;
	for (j = 0; j < nset; j++) {
		len = strcspn(set[j], "=");
		for (i = 0; env[i] != NULL; i++)
			if (strncmp(env[i], set[j], len) == 0 &&
			    env[i][len] == '=')
				break;
		free(env[i]);
		if ((env[i] = strdup(set[j])) == NULL)
			goto fail;
		if (i == n)
			n++;
	}
	return (env);
fail:
	spawn_env_free(env);
	errno = ENOMEM;
	return (NULL);
}

void
spawn_env_free(char **env)
{
	size_t	i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static void
spawn_fail(int errfd, const char *step, const char *what)
{
	char	buf[512];
	int	saved = errno, n, code;

	code = (strcmp(step, "exec") == 0) ?
	    (saved == ENOENT ? FPM_EXIT_NOTFOUND : FPM_EXIT_EXEC) :
	    FPM_EXIT_TEMP;
	n = snprintf(buf, sizeof(buf), "unable to %s%s%s: %s", step,
	    what ? " " : "", what ? what : "", strerror(saved));
	if (n < 0)
		n = 0;
	if (errfd != -1) {
		if ((size_t)n >= sizeof(buf))
			n = sizeof(buf) - 1;
		(void)write(errfd, buf, (size_t)n);
	} else
		log_msg(LOG_LVL_ALERT, "%s", buf);
	_exit(code);
}

/*
 * The signals whose disposition is not SIG_DFL, bit sig - 1 each: the
 * SigIgn and SigCgt lines of /proc/self/status, one read where asking
 * each signal takes 64 system calls (/proc/self/stat has them too, but
 * only the first 31).  Every signal when it cannot tell (no /proc).  Lines
 * are scanned as they come, only their start kept: Groups can be long.
 */
static uint64_t
spawn_sig_changed(void)
{
	char			 buf[1024], line[32], *end;
	unsigned long long	 v;
	uint64_t		 mask = 0;
	size_t			 len = 0;
	ssize_t			 n, i;
	int			 fd, found = 0;

	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return (UINT64_MAX);
	while (found < 2 && (n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n && found < 2; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (strncmp(line, "SigIgn:\t", 8) != 0 &&
			    strncmp(line, "SigCgt:\t", 8) != 0)
				continue;
			v = strtoull(line + 8, &end, 16);
			if (end == line + 8 || *end != '\0')
				break;
			mask |= (uint64_t)v;
			found++;
		}
	close(fd);
	return (found == 2 ? mask : UINT64_MAX);
}

/*
 * glibc keeps signals 32 and 33 for itself and refuses to touch them, but
 * an ignored one survives exec (make(1) ignores them, for one): reset it
 * with the system call.  SIGKILL and SIGSTOP fail here too, harmlessly.
 */
static void
spawn_sig_default(int sig)
{
	struct {
		void		(*handler)(int);
		unsigned long	  flags;
		void		(*restorer)(void);
		unsigned long	  mask;
	} ksa;

	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = SIG_DFL;
	(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

static int
spawn_rlimit(int resource, uint64_t value)
{
	struct rlimit	rl;

	if (value == SPAWN_NOLIMIT)
		return (0);
	rl.rlim_cur = rl.rlim_max = (rlim_t)value;
	return (setrlimit(resource, &rl));
}

/*
 * Move the socket and the output fds to their places; everything else goes
 * (errfd last, at exec).  An fd already sitting where another must go is
 * moved out of the way first (dup'd above 3).
 */
static int
spawn_fds(const struct spawn *s, int *errfd)
{
	int	sock = s->sock, out = s->stdout_fd, err = s->stderr_fd;
	int	fd3 = s->sockmode == SPAWN_SOCK_STDIN ? s->fd3 : -1;
	int	target, lowest;

	if (*errfd != -1 && *errfd <= 3 && (*errfd = fcntl(*errfd,
	    F_DUPFD_CLOEXEC, 4)) == -1)
		return (-1);
	if (sock != -1 && sock <= 3 && s->sockmode != SPAWN_SOCK_NONE &&
	    (sock = fcntl(sock, F_DUPFD, 4)) == -1)
		return (-1);
	if (out != -1 && out < 3 && (out = fcntl(out, F_DUPFD, 4)) == -1)
		return (-1);
	if (err != -1 && err < 3 && (err = fcntl(err, F_DUPFD, 4)) == -1)
		return (-1);
	if (fd3 != -1 && fd3 < 3 && (fd3 = fcntl(fd3, F_DUPFD, 4)) == -1)
		return (-1);
	if (out != -1 && dup2(out, 1) == -1)
		return (-1);
	if (err != -1 && dup2(err, 2) == -1)
		return (-1);
	lowest = 3;
	if (sock != -1 && s->sockmode != SPAWN_SOCK_NONE) {
		target = s->sockmode == SPAWN_SOCK_STDIN ? 0 : 3;
		if (dup2(sock, target) == -1)
			return (-1);
		/* dup2 clears FD_CLOEXEC; listening fds must block */
		if (fcntl(target, F_SETFL, fcntl(target, F_GETFL) &
		    ~O_NONBLOCK) == -1)
			return (-1);
		if (target == 3)
			lowest = 4;
	}
	if (fd3 != -1) {
		/* dup2 clears FD_CLOEXEC; a dup2 onto itself does not */
		if (fd3 == 3 ? fcntl(3, F_SETFD, 0) == -1 : dup2(fd3, 3) == -1)
			return (-1);
		lowest = 4;
	}
	/*
	 * The rest, errfd included (close-on-exec already), goes at exec:
	 * marked here, a bit each, and closed by exec past the point where
	 * spawn_start's caller resumes.  Closed here, they would hold it up
	 * the while: without the slots (spawn_reserve_fds), they are a copy
	 * of all of its own, thousands for a supervisor.  Before Linux 5.11,
	 * they are closed.
	 */
	if (close_range((unsigned)lowest, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return (0);
	if (*errfd != -1) {
		/* close all but errfd, which is close-on-exec anyway */
		if (*errfd > lowest)
			close_range((unsigned)lowest,
			    (unsigned)*errfd - 1, 0);
		closefrom(*errfd + 1);
	} else
		closefrom(lowest);
	return (0);
}

/*
 * With sockmode SPAWN_SOCK_LISTEN_FDS, the environment gets LISTEN_FDS=1
 * and LISTEN_PID, the child's pid, which only the child knows: a copy of
 * s->envp without either, a slot the child fills, then LISTEN_FDS=1.
 * Otherwise s->envp as it is.  0, or -1 (ENOMEM).
 */
static int
spawn_listen_env(const struct spawn *s, struct spawn_child *c)
{
	static char	 fds[] = "LISTEN_FDS=1";
	size_t		 n, i, j;

	c->env = (char **)s->envp;
	c->pidslot = (size_t)-1;
	if (s->sockmode != SPAWN_SOCK_LISTEN_FDS || s->sock == -1)
		return (0);
	for (n = 0; s->envp[n] != NULL; n++)
		;
	if ((c->env = calloc(n + 3, sizeof(*c->env))) == NULL)
		return (-1);
	for (i = j = 0; i < n; i++)
		if (strncmp(s->envp[i], "LISTEN_PID=", 11) != 0 &&
		    strncmp(s->envp[i], "LISTEN_FDS=", 11) != 0)
			c->env[j++] = s->envp[i];
	c->pidslot = j++;
	c->env[j] = fds;
	return (0);
}

void
spawn_exec(const struct spawn *s, int errfd)
{
	struct spawn_child	c;

	if (spawn_listen_env(s, &c) == -1)
		spawn_fail(errfd, "build the environment", NULL);
	c.s = s;
	c.errfd = errfd;
	c.cut = 0;
	c.parent = getppid();
	spawn_child(&c);
}

/*
 * c->parent is the process whose death must bring pdeathsig: spawn_start()
 * takes it before the clone, since a getppid() in the child could already
 * answer 1 (or a subreaper) if the parent died in between.
 *
 * Started by spawn_start(), the child shares the parent's memory (and
 * errno) until it execs or exits, while the parent waits: it writes only
 * its own stack and c->env, allocates nothing, and changes ids with the
 * system calls themselves (glibc's wrappers would signal the parent's
 * threads, if it had any).  Its fds, signal dispositions and mask, limits,
 * root and directory are its own.
 */
static void
spawn_child(struct spawn_child *c)
{
	const struct spawn	*s = c->s;
	sigset_t		 none;
	uint64_t		 changed;
	char			 pidbuf[32];
	int			 sig, errfd = c->errfd;

	/*
	 * Started with CLONE_FILES: our fd table is the parent's, until this
	 * makes it ours with only the fds below the cut, which spawn_start
	 * put there; without close_range (Linux before 5.9), a whole copy.
	 */
	if (c->cut > 0 && close_range((unsigned)c->cut, ~0U,
	    CLOSE_RANGE_UNSHARE) == -1 && unshare(CLONE_FILES) == -1)
		spawn_fail(errfd, "unshare the file descriptors", NULL);
	if (s->setsid && setsid() == -1)
		spawn_fail(errfd, "setsid", NULL);
	if (spawn_fds(s, &errfd) == -1)
		spawn_fail(errfd, "set up file descriptors", NULL);
	/* both survive exec: a blocked or ignored signal stays so */
	changed = spawn_sig_changed();
	for (sig = 1; sig < NSIG; sig++) {
		if (sig <= 64 && !(changed & (UINT64_C(1) << (sig - 1))))
			continue;
		if (signal(sig, SIG_DFL) == SIG_ERR && errno == EINVAL)
			spawn_sig_default(sig);
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		spawn_fail(errfd, "reset the signal mask", NULL);
	if (spawn_rlimit(RLIMIT_NOFILE, s->rlimit_nofile) == -1)
		spawn_fail(errfd, "set", "rlimit_files");
	if (spawn_rlimit(RLIMIT_CORE, s->rlimit_core) == -1)
		spawn_fail(errfd, "set", "rlimit_core");
	if (s->setnice && setpriority(PRIO_PROCESS, 0, s->nice) == -1)
		spawn_fail(errfd, "set the priority", NULL);
	if (s->setids) {
		if (syscall(SYS_setgroups, s->ngroups, s->groups) == -1)
			spawn_fail(errfd, "setgroups", NULL);
		if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) == -1)
			spawn_fail(errfd, "setresgid", NULL);
	}
	if (s->chroot != NULL) {
		if (chroot(s->chroot) == -1)
			spawn_fail(errfd, "chroot to", s->chroot);
		if (s->chdir == NULL && chdir("/") == -1)
			spawn_fail(errfd, "chdir to", "/");
	}
	if (s->chdir != NULL && chdir(s->chdir) == -1)
		spawn_fail(errfd, "chdir to", s->chdir);
	if (s->setids &&
	    syscall(SYS_setresuid, s->uid, s->uid, s->uid) == -1)
		spawn_fail(errfd, "setresuid", NULL);
	/*
	 * The kernel clears the parent-death signal on a change of
	 * credentials (and on exec of a set-id program), so it comes after
	 * setresuid; a parent that died before it was set is caught by
	 * getppid(), and then we do not exec at all.
	 */
	if (s->pdeathsig != 0 && (prctl(PR_SET_PDEATHSIG, s->pdeathsig) == -1 ||
	    getppid() != c->parent))
		spawn_fail(errfd, "set the parent-death signal", NULL);
	if (c->pidslot != (size_t)-1) {
		/* sd_listen_fds(3) checks LISTEN_PID: it must be ours */
		snprintf(pidbuf, sizeof(pidbuf), "LISTEN_PID=%d",
		    (int)getpid());
		c->env[c->pidslot] = pidbuf;
	}
	if (strchr(s->argv[0], '/') != NULL)
		execve(s->argv[0], s->argv, c->env);
	else
		execvpe(s->argv[0], s->argv, c->env);
	spawn_fail(errfd, "exec", s->argv[0]);
}

static int
spawn_clone_child(void *arg)
{
	spawn_child(arg);
	/* NOTREACHED */
}

/* The slots given up, with any copy they hold. */
static void
spawn_slots_drop(void)
{
	int	i;

	for (i = 0; i < NSLOTS && spawn_cut != 0; i++)
		close(spawn_slots[i]);
	spawn_cut = 0;
	spawn_filled = 0;
}

int
spawn_reserve_fds(void)
{
	int	fd, i, saved;

	if (spawn_cut != 0)
		return (0);
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	for (i = 0; i < NSLOTS; i++) {
		/* above the standard fds, which may be closed */
		if (i == 0 && fd > 2)
			spawn_slots[i] = fd;
		else if ((spawn_slots[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3)) ==
		    -1) {
			saved = errno;
			while (i-- > 0)
				if (spawn_slots[i] != fd)
					close(spawn_slots[i]);
			close(fd);
			errno = saved;
			return (-1);
		}
		if (spawn_slots[i] >= spawn_cut)
			spawn_cut = spawn_slots[i] + 1;
	}
	if (fd != spawn_slots[0])
		close(fd);
	return (0);
}

/*
 * ls: s with its fds, and *errfd, copied into the slots.  0, or -1 when
 * they cannot be used: ls is not to be used then.
 */
static int
spawn_slots_fill(const struct spawn *s, struct spawn *ls, int *errfd)
{
	const int	from[] = { s->sock, s->stdout_fd, s->stderr_fd, s->fd3,
			    *errfd };
	int		to[SLOT_PIPE], i, j;

	/* a slot closed behind our back, its number taken since */
	for (i = 0; i < SLOT_PIPE; i++)
		for (j = 0; j < NSLOTS; j++)
			if (from[i] == spawn_slots[j])
				return (-1);
	for (i = 0; i < SLOT_PIPE; i++) {
		to[i] = spawn_slots[SLOT_SOCK + i];
		if (from[i] == -1)
			to[i] = -1;
		else if (i == 2 && from[2] == from[1])
			to[i] = to[1];		/* stderr is stdout */
		else if (dup3(from[i], to[i], O_CLOEXEC) == -1) {
			spawn_slots_drop();
			return (-1);
		} else
			spawn_filled |= 1 << (SLOT_SOCK + i);
	}
	*ls = *s;
	ls->sock = to[0];
	ls->stdout_fd = to[1];
	ls->stderr_fd = to[2];
	ls->fd3 = to[3];
	*errfd = to[4];
	return (0);
}

/* The slots back on /dev/null: we keep no copy of what the child had. */
static void
spawn_slots_empty(void)
{
	int	i;

	for (i = SLOT_SOCK; i < NSLOTS; i++) {
		if (!(spawn_filled & (1 << i)))
			continue;
		if (dup3(spawn_slots[SLOT_NULL], spawn_slots[i], O_CLOEXEC) ==
		    -1) {
			spawn_slots_drop();
			return;
		}
		spawn_filled &= ~(1 << i);
	}
}

/*
 * The child is a clone that shares our memory and suspends us until it
 * has exec'd or exited (CLONE_VM | CLONE_VFORK, as posix_spawn does): no
 * page table copied in the parent, whose size would make each start
 * dearer than the last.  With the slots reserved, it shares our fd table
 * too (CLONE_FILES) until it copies the few below the slots: neither we
 * nor it pays for each of the thousands we may hold.  When clone()
 * returns, the child has failed (its reason is in the pipe, written
 * before it exited) or is past exec's point of no return (the pipe is
 * empty: closed by exec, or about to be), so the non-blocking read never
 * waits.
 */
pid_t
spawn_start(const struct spawn *s, int *pidfd, char *err, size_t errsize)
{
	struct spawn_child	 c;
	struct spawn		 ls;
	sigset_t		 all, old;
	ssize_t			 n;
	pid_t			 pid;
	char			 stack[SPAWN_STACK] __attribute__((aligned(16)));
	int			 p[2], status, saved, dump = -1;
	int			 flags = CLONE_VM | CLONE_VFORK | SIGCHLD;

	if (errsize > 0)
		err[0] = '\0';
	if (spawn_listen_env(s, &c) == -1)
		return (-1);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		saved = errno;
		if (c.env != s->envp)
			free(c.env);
		errno = saved;
		return (-1);
	}
	c.s = s;
	c.errfd = p[1];
	c.cut = 0;
	if (spawn_cut != 0 && spawn_slots_fill(s, &ls, &c.errfd) == 0) {
		c.s = &ls;
		c.cut = spawn_cut;
		flags |= CLONE_FILES;
	}
	c.parent = getpid();
	/*
	 * The child's setresuid marks the memory it shares with us not
	 * dumpable: ours is put back after.  (It never makes it dumpable:
	 * a process of the workers' user could then ptrace it, and write
	 * our memory through it.  Its exec makes the worker dumpable.)
	 */
	if (s->setids)
		dump = prctl(PR_GET_DUMPABLE);
	/* no handler of ours may run in the child, on our memory */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	SPAWN_UNPOISON(stack, sizeof(stack));
	pid = clone(spawn_clone_child, stack + sizeof(stack), flags, &c);
	saved = errno;
	SPAWN_UNPOISON(stack, sizeof(stack));
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (dump != -1 && prctl(PR_GET_DUMPABLE) != dump)
		(void)prctl(PR_SET_DUMPABLE, dump);
	if (c.env != s->envp)
		free(c.env);
	if (c.cut != 0)
		spawn_slots_empty();
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		errno = saved;
		return (-1);
	}
	if (pidfd != NULL &&
	    (*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		/*
		 * Our caller would never learn the pid: the child must not
		 * run on unsupervised, nor stay a zombie.  Unreaped, its pid
		 * cannot have been reused, so the kill is safe.
		 */
		saved = errno;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		close(p[0]);
		snprintf(err, errsize, "pidfd_open: %s", strerror(saved));
		errno = saved;
		return (-1);
	}
	/* EOF or EAGAIN without a word: exec succeeded */
	do
		n = read(p[0], err, errsize > 0 ? errsize - 1 : 0);
	while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n <= 0)
		return (pid);
	err[n] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (pidfd != NULL)
		close(*pidfd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == FPM_EXIT_NOTFOUND)
		errno = ENOENT;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == FPM_EXIT_EXEC)
		errno = ENOEXEC;
	else
		errno = ECHILD;
	return (-1);
}
