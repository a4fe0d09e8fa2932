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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/parse.h"
#include "libcommon/spawn.h"

extern char	**environ;

static void	spawn_child(const struct spawn *, int, pid_t)
		    __attribute__((noreturn));
static void	spawn_fail(int, const char *, const char *)
		    __attribute__((noreturn));
static int	spawn_fds(const struct spawn *, int *);
static int	spawn_rlimit(int, uint64_t);
static void	spawn_sig_default(int);

void
spawn_init(struct spawn *s)
{
	memset(s, 0, sizeof(*s));
	s->sock = -1;
	s->stdout_fd = -1;
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
 * Move the socket and the output fds to their places, then close everything
 * else but errfd.  An fd already sitting where another must go is moved out
 * of the way first (dup'd above 3).
 */
static int
spawn_fds(const struct spawn *s, int *errfd)
{
	int	sock = s->sock, out = s->stdout_fd, err = s->stderr_fd;
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

void
spawn_exec(const struct spawn *s, int errfd)
{
	spawn_child(s, errfd, getppid());
}

/*
 * parent is the process whose death must bring pdeathsig: spawn_start()
 * takes it before fork, since a getppid() in the child could already
 * answer 1 (or a subreaper) if the parent died in between.
 */
static void
spawn_child(const struct spawn *s, int errfd, pid_t parent)
{
	sigset_t	 none;
	char		 pidbuf[32], **env = (char **)s->envp;
	char		*extra[2];
	int		 sig;

	if (s->setsid && setsid() == -1)
		spawn_fail(errfd, "setsid", NULL);
	if (spawn_fds(s, &errfd) == -1)
		spawn_fail(errfd, "set up file descriptors", NULL);
	/* both survive exec: a blocked or ignored signal stays so */
	for (sig = 1; sig < NSIG; sig++)
		if (signal(sig, SIG_DFL) == SIG_ERR && errno == EINVAL)
			spawn_sig_default(sig);
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
		if (setgroups(s->ngroups, s->groups) == -1)
			spawn_fail(errfd, "setgroups", NULL);
		if (setresgid(s->gid, s->gid, s->gid) == -1)
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
	if (s->setids && setresuid(s->uid, s->uid, s->uid) == -1)
		spawn_fail(errfd, "setresuid", NULL);
	/*
	 * The kernel clears the parent-death signal on a change of
	 * credentials (and on exec of a set-id program), so it comes after
	 * setresuid; a parent that died before it was set is caught by
	 * getppid(), and then we do not exec at all.
	 */
	if (s->pdeathsig != 0 && (prctl(PR_SET_PDEATHSIG, s->pdeathsig) == -1 ||
	    getppid() != parent))
		spawn_fail(errfd, "set the parent-death signal", NULL);
	if (s->dumpable && prctl(PR_SET_DUMPABLE, 1) == -1)
		spawn_fail(errfd, "set dumpable", NULL);
	if (s->sockmode == SPAWN_SOCK_LISTEN_FDS && s->sock != -1) {
		/* sd_listen_fds(3) checks LISTEN_PID: it must be ours */
		snprintf(pidbuf, sizeof(pidbuf), "LISTEN_PID=%d",
		    (int)getpid());
		extra[0] = pidbuf;
		extra[1] = "LISTEN_FDS=1";
		environ = env;
		if ((env = spawn_env(0, extra, 2)) == NULL)
			spawn_fail(errfd, "build the environment", NULL);
	}
	if (strchr(s->argv[0], '/') != NULL)
		execve(s->argv[0], s->argv, env);
	else
		execvpe(s->argv[0], s->argv, env);
	spawn_fail(errfd, "exec", s->argv[0]);
}

pid_t
spawn_start(const struct spawn *s, int *pidfd, char *err, size_t errsize)
{
	ssize_t	n;
	pid_t	pid, self = getpid();
	int	p[2], status, saved;

	if (pipe2(p, O_CLOEXEC) == -1)
		return (-1);
	switch ((pid = fork())) {
	case -1:
		saved = errno;
		close(p[0]);
		close(p[1]);
		errno = saved;
		return (-1);
	case 0:
		close(p[0]);
		spawn_child(s, p[1], self);
		/* NOTREACHED */
	default:
		break;
	}
	close(p[1]);
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
	/* EOF without a word: exec succeeded and closed the pipe */
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
