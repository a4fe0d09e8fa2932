/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/spawn: environments, what the child gets, ids. */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/sock.h"
#include "libcommon/spawn.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

extern char	**environ;

static char	dir[] = "/tmp/spawn_test.XXXXXX";
static char	out[256];

static void	skip(const char *);
static char	*slurp(const char *);
static int	envcount(char **, const char *);
static int	run_sh(struct spawn *, const char *, int *);
static void	test_pidfd_fail(void);


static void
skip(const char *why)
{
	ntest++;
	printf("ok %d # skip %s\n", ntest, why);
}

static char *
slurp(const char *p)
{
	static char	buf[8192];
	ssize_t		n;
	int		fd;

	buf[0] = '\0';
	if ((fd = open(p, O_RDONLY)) == -1)
		return (buf);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	close(fd);
	return (buf);
}

/* How many entries of env are exactly s. */
static int
envcount(char **env, const char *s)
{
	int	n = 0;

	for (; *env != NULL; env++)
		if (strcmp(*env, s) == 0)
			n++;
	return (n);
}

/*
 * Run "/bin/sh -c script" through spawn_start with stdout and stderr on the
 * file out; wait for it.  Returns its pid (or -1) and stores the wait status.
 */
static int
run_sh(struct spawn *s, const char *script, int *status)
{
	char	*argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char	 err[256];
	pid_t	 pid;
	int	 fd;

	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return (-1);
	s->argv = argv;
	if (s->envp == NULL)
		s->envp = environ;
	s->stdout_fd = fd;
	s->stderr_fd = fd;
	pid = spawn_start(s, NULL, err, sizeof(err));
	close(fd);
	if (pid == -1) {
		printf("# spawn_start: %s\n", err);
		return (-1);
	}
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return (-1);
	return (pid);
}

static void
test_env(void)
{
	char	*set1[] = { "A=1", "B=2", "A=3" };
	char	*set2[] = { "SPAWN_T_OVR=new", "SPAWN_T_NEW=1", "SPAWN_T=p" };
	char	**env;
	int	 n, m;

	env = spawn_env(1, set1, NELEM(set1));
	check(env != NULL && env[0] != NULL && env[1] != NULL &&
	    env[2] == NULL && strcmp(env[0], "A=3") == 0 &&
	    strcmp(env[1], "B=2") == 0, "clear: only the set ones, last wins");
	spawn_env_free(env);
	env = spawn_env(1, NULL, 0);
	check(env != NULL && env[0] == NULL, "clear and nothing set: empty");
	spawn_env_free(env);

	setenv("SPAWN_T_KEEP", "x", 1);
	setenv("SPAWN_T_OVR", "old", 1);
	for (n = 0; environ[n] != NULL; n++)
		;
	env = spawn_env(0, set2, NELEM(set2));
	for (m = 0; env != NULL && env[m] != NULL; m++)
		;
	check(env != NULL && m == n + 2, "keep: environ plus two new "
	    "(%d + 2 = %d)", n, m);
	check(env != NULL && envcount(env, "SPAWN_T_KEEP=x") == 1,
	    "keep: untouched variable kept");
	check(env != NULL && envcount(env, "SPAWN_T_OVR=new") == 1 &&
	    envcount(env, "SPAWN_T_OVR=old") == 0, "override replaces");
	check(env != NULL && envcount(env, "SPAWN_T_NEW=1") == 1 &&
	    envcount(env, "SPAWN_T=p") == 1, "new ones added, a prefix "
	    "does not match a longer name");
	check(strcmp(getenv("SPAWN_T_OVR"), "old") == 0,
	    "our own environment is untouched");
	spawn_env_free(env);
	spawn_env_free(NULL);
	unsetenv("SPAWN_T_KEEP");
	unsetenv("SPAWN_T_OVR");
}

static void
test_child(void)
{
	struct spawn		s;
	struct sock_addr	a;
	struct stat		st, pst;
	struct sigaction	sa, oldsa, oldrt;
	sigset_t		set, oldset;
	char			path[256], want[1024], *got;
	int			sock, extra, status, pfd[2], fd;
	pid_t			pid;

	snprintf(path, sizeof(path), "%s/w.sock", dir);
	if (sock_parse(path, &a) == -1 ||
	    (sock = sock_listen(&a, 16, NULL)) == -1) {
		check(0, "listen on %s", path);
		return;
	}
	fstat(sock, &st);
	/* an inheritable fd that must not reach the program */
	extra = open("/dev/null", O_RDONLY);
	if (extra != -1 && dup2(extra, 17) != -1) {
		close(extra);
		extra = 17;
	}
	/* a blocked and two ignored signals that must not either */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &oldset);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR2, &sa, &oldsa);
	sigaction(SIGRTMIN + 4, &sa, &oldrt);

	spawn_init(&s);
	s.sock = sock;
	s.sockmode = SPAWN_SOCK_STDIN;
	s.rlimit_nofile = 64;
	s.rlimit_core = 0;
	s.setnice = 1;
	s.nice = 7;
	s.chdir = dir;
	/*
	 * The mask is read with builtins first: dash blocks every signal
	 * around its own vfork, which a grep of /proc/$$/status could see.
	 */
	pid = run_sh(&s, "while read -r k v; do case $k in SigBlk:|SigIgn:) "
	    "printf '%s\\t%s\\n' $k $v;; esac; done </proc/$$/status; "
	    "stat -L -c %i /proc/$$/fd/0; "
	    "ls /proc/$$/fd; "
	    "grep -E 'open files|core file' /proc/$$/limits | tr -s ' '; "
	    "echo nice $(nice); pwd; "
	    "echo sid $(($(cut -d' ' -f6 /proc/$$/stat) == $$))", &status);
	check(pid != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sh ran and exited 0");
	snprintf(want, sizeof(want), "SigBlk:\t0000000000000000\n"
	    "SigIgn:\t0000000000000000\n"
	    "%lu\n"
	    "0\n1\n2\n"
	    "Max core file size 0 0 bytes \n"
	    "Max open files 64 64 files \n"
	    "nice 7\n"
	    "%s\n"
	    "sid 0\n", (unsigned long)st.st_ino, dir);
	got = slurp(out);
	check(strcmp(got, want) == 0, "fd 0 is the socket, fds 3+ closed, "
	    "no blocked or ignored signal, rlimits, nice, chdir, no setsid");
	if (strcmp(got, want) != 0)
		printf("# got:\n%s# want:\n%s", got, want);

	/* setsid, and the socket on fd 3 with LISTEN_FDS */
	spawn_init(&s);
	s.sock = sock;
	s.sockmode = SPAWN_SOCK_LISTEN_FDS;
	s.setsid = 1;
	setenv("LISTEN_FDS", "9", 1);
	pid = run_sh(&s, "echo $LISTEN_FDS $LISTEN_PID $$; "
	    "stat -L -c %i /proc/$$/fd/3; "
	    "echo sid $(($(cut -d' ' -f6 /proc/$$/stat) == $$))", &status);
	check(strcmp(getenv("LISTEN_FDS"), "9") == 0 &&
	    getenv("LISTEN_PID") == NULL,
	    "--listen-fds: our own environment is untouched");
	unsetenv("LISTEN_FDS");
	snprintf(want, sizeof(want), "1 %d %d\n%lu\nsid 1\n", (int)pid,
	    (int)pid, (unsigned long)st.st_ino);
	got = slurp(out);
	check(pid != -1 && strcmp(got, want) == 0, "--listen-fds: fd 3, "
	    "LISTEN_FDS=1, LISTEN_PID is the program's, setsid");
	if (strcmp(got, want) != 0)
		printf("# got:\n%s# want:\n%s", got, want);

	/* fd 3 in LISTEN_FDS mode is the socket even when it sat on 0 */
	if (dup2(sock, 0) != -1) {
		s.sock = 0;
		pid = run_sh(&s, "stat -L -c %i /proc/$$/fd/3", &status);
		snprintf(want, sizeof(want), "%lu\n",
		    (unsigned long)st.st_ino);
		check(pid != -1 && strcmp(slurp(out), want) == 0,
		    "a socket on fd 0 is moved to fd 3");
		close(0);
		open("/dev/null", O_RDONLY);
	}

	/* fd3 beside the socket on 0 (php.group), close-on-exec here */
	if (pipe2(pfd, O_CLOEXEC) == 0 && fstat(pfd[0], &pst) == 0) {
		spawn_init(&s);
		s.sock = sock;
		s.sockmode = SPAWN_SOCK_STDIN;
		s.fd3 = pfd[0];
		pid = run_sh(&s, "stat -L -c %i /proc/$$/fd/0 /proc/$$/fd/3; "
		    "ls /proc/$$/fd", &status);
		snprintf(want, sizeof(want), "%lu\n%lu\n0\n1\n2\n3\n",
		    (unsigned long)st.st_ino, (unsigned long)pst.st_ino);
		got = slurp(out);
		check(pid != -1 && strcmp(got, want) == 0,
		    "fd3: fd 0 the socket, fd 3 the one given, no other");
		if (strcmp(got, want) != 0)
			printf("# got:\n%s# want:\n%s", got, want);
		close(pfd[0]);
		close(pfd[1]);
	} else
		check(0, "pipe2");

	spawn_init(&s);
	pid = run_sh(&s, "exit 3", &status);
	check(pid != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 3,
	    "the program's exit status is its own");

	sigaction(SIGUSR2, &oldsa, NULL);
	sigaction(SIGRTMIN + 4, &oldrt, NULL);
	sigprocmask(SIG_SETMASK, &oldset, NULL);
	close(extra);
	close(sock);
	/* no copy of it is left with us (spawn_reserve_fds' slots) */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	check(fd != -1 && connect(fd, (struct sockaddr *)&a.ss, a.len) == -1 &&
	    errno == ECONNREFUSED, "the socket is closed once we close it");
	if (fd != -1)
		close(fd);
	unlink(path);
}

static void
test_failures(void)
{
	struct spawn	 s;
	char		*nope[] = { "/nonexistent/prog", NULL };
	char		*bare[] = { "no-such-program-spawn-test", NULL };
	char		*noexec[] = { NULL, NULL };
	char		*sh[] = { "/bin/sh", "-c", "exit 0", NULL };
	char		 err[256], path[256];
	pid_t		 pid;
	int		 fd, pidfd = -1, status;

	spawn_init(&s);
	s.argv = nope;
	errno = 0;
	pid = spawn_start(&s, NULL, err, sizeof(err));
	check(pid == -1 && errno == ENOENT && strcmp(err, "unable to exec "
	    "/nonexistent/prog: No such file or directory") == 0,
	    "missing program: -1, ENOENT, \"%s\"", err);
	check(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD,
	    "the failed child was reaped");
	s.argv = bare;
	errno = 0;
	pid = spawn_start(&s, NULL, err, sizeof(err));
	check(pid == -1 && errno == ENOENT, "missing program in PATH: "
	    "ENOENT");

	snprintf(path, sizeof(path), "%s/noexec", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
	noexec[0] = path;
	s.argv = noexec;
	errno = 0;
	pid = spawn_start(&s, NULL, err, sizeof(err));
	check(pid == -1 && errno == ENOEXEC &&
	    strstr(err, "Permission denied") != NULL,
	    "not executable: ENOEXEC, \"%s\"", err);
	unlink(path);

	s.argv = sh;
	s.chdir = "/nonexistent/dir";
	errno = 0;
	pid = spawn_start(&s, NULL, err, sizeof(err));
	check(pid == -1 && errno == ECHILD && strcmp(err, "unable to chdir "
	    "to /nonexistent/dir: No such file or directory") == 0,
	    "a step before exec: ECHILD, \"%s\"", err);

	s.chdir = NULL;
	pid = spawn_start(&s, &pidfd, err, sizeof(err));
	check(pid > 0 && pidfd > 2 && (fcntl(pidfd, F_GETFD) != -1),
	    "a pidfd is returned");
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (pidfd > 2)
		close(pidfd);
}

/*
 * pidfd_open fails (a seccomp policy denies it, as Docker's default profile
 * did before 20.10): the child must not be left running and unreaped,
 * since nobody else has its pid.  The filter stays, so this test runs last.
 */
static void
test_pidfd_fail(void)
{
	struct sock_filter	 insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	 prog = { NELEM(insns), insns };
	struct spawn		 s;
	char			*argv[] = { "/bin/sleep", "1", NULL };
	char			 err[256] = "";
	pid_t			 pid;
	int			 pidfd = -1, status, saved;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		skip("no seccomp filter");
		skip("no seccomp filter");
		return;
	}
	spawn_init(&s);
	s.argv = argv;
	s.envp = environ;
	errno = 0;
	pid = spawn_start(&s, &pidfd, err, sizeof(err));
	saved = errno;
	check(pid == -1 && saved == EPERM &&
	    strcmp(err, "pidfd_open: Operation not permitted") == 0,
	    "pidfd_open fails: -1, EPERM, \"%s\"", err);
	errno = 0;
	check(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD,
	    "pidfd_open fails: the child was killed and reaped");
	/* when it was not, do not leave the stray behind */
	while (wait(&status) > 0)
		;
}

static void
test_ids(void)
{
	struct spawn	s;
	char		err[256], want[128];
	pid_t		pid;
	int		status;

	spawn_init(&s);
	check(spawn_resolve_ids(&s, "nobody", NULL, 0, err,
	    sizeof(err)) == 0 && s.uid == 65534 && s.gid == 65534 &&
	    s.setids && s.ngroups >= 1 && s.groups[0] == 65534,
	    "nobody: 65534:65534 with its groups");
	check(spawn_resolve_ids(&s, "nobody", "nogroup", 0, err,
	    sizeof(err)) == 0 && s.gid == 65534, "group by name");
	check(spawn_resolve_ids(&s, "nobody", "4242", 0, err,
	    sizeof(err)) == 0 && s.uid == 65534 && s.gid == 4242,
	    "group by number");
	check(spawn_resolve_ids(&s, "12345", NULL, 0, err,
	    sizeof(err)) == 0 && s.uid == 12345 && s.gid == 12345 &&
	    s.ngroups == 1 && s.groups[0] == 12345,
	    "a bare uid: its own gid, one group");
	check(spawn_resolve_ids(&s, "65534", NULL, 0, err,
	    sizeof(err)) == 0 && s.uid == 65534 && s.gid == 65534,
	    "a known uid by number");
	errno = 0;
	check(spawn_resolve_ids(&s, "no-such-user-xyz", NULL, 0, err,
	    sizeof(err)) == -1 && errno == ENOENT &&
	    strcmp(err, "unknown user 'no-such-user-xyz'") == 0,
	    "unknown user: ENOENT, \"%s\"", err);
	errno = 0;
	check(spawn_resolve_ids(&s, "nobody", "no-such-group-xyz", 0, err,
	    sizeof(err)) == -1 && errno == ENOENT &&
	    strcmp(err, "unknown group 'no-such-group-xyz'") == 0,
	    "unknown group: ENOENT, \"%s\"", err);
	errno = 0;
	check(spawn_resolve_ids(&s, "root", NULL, 0, err,
	    sizeof(err)) == -1 && errno == EPERM &&
	    strcmp(err, "refusing to run as root (user 'root')") == 0,
	    "root refused: EPERM, \"%s\"", err);
	errno = 0;
	check(spawn_resolve_ids(&s, "0", NULL, 0, err, sizeof(err)) == -1 &&
	    errno == EPERM, "uid 0 refused");
	errno = 0;
	check(spawn_resolve_ids(&s, "nobody", "root", 0, err,
	    sizeof(err)) == -1 && errno == EPERM && strcmp(err,
	    "refusing to run as root (user 'nobody', group 'root')") == 0,
	    "group root refused: \"%s\"", err);
	check(spawn_resolve_ids(&s, "root", NULL, 1, err,
	    sizeof(err)) == 0 && s.uid == 0 && s.gid == 0,
	    "root allowed with allow_root");
	spawn_free(&s);
	check(s.groups == NULL && s.ngroups == 0, "spawn_free");

	if (geteuid() != 0) {
		skip("dropping privileges needs root");
		return;
	}
	spawn_init(&s);
	spawn_resolve_ids(&s, "nobody", NULL, 0, err, sizeof(err));
	pid = run_sh(&s, "echo $(id -u) $(id -g) $(id -G); "
	    "grep -E '^(Uid|Gid)' /proc/$$/status", &status);
	snprintf(want, sizeof(want), "65534 65534 65534\n"
	    "Uid:\t65534\t65534\t65534\t65534\n"
	    "Gid:\t65534\t65534\t65534\t65534\n");
	check(pid != -1 && strcmp(slurp(out), want) == 0,
	    "runs as nobody, real, effective and saved ids");
	/*
	 * The child shared our memory until its exec: its setuid made it
	 * not dumpable, ours must be as it was.
	 */
	check(prctl(PR_GET_DUMPABLE) == 1, "our memory is still dumpable");
	/* its exec makes it dumpable, its /proc files its user's */
	pid = run_sh(&s, "stat -c %u /proc/$$/environ", &status);
	check(pid != -1 && strcmp(slurp(out), "65534\n") == 0,
	    "the worker is dumpable once it runs, as its user");
	(void)prctl(PR_SET_DUMPABLE, 0);
	pid = run_sh(&s, "true", &status);
	check(pid != -1 && prctl(PR_GET_DUMPABLE) == 0,
	    "a start leaves our flag as it was");
	(void)prctl(PR_SET_DUMPABLE, 1);
	spawn_free(&s);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	chmod(dir, 0755);		/* nobody must be able to chdir here */
	snprintf(out, sizeof(out), "%s/out", dir);
	test_env();
	test_child();
	test_failures();
	test_ids();
	/* again, the child copying only our fds below the slots */
	check(spawn_reserve_fds() == 0 && spawn_reserve_fds() == 0,
	    "spawn_reserve_fds, twice");
	test_child();
	test_failures();
	test_ids();
	unlink(out);
	rmdir(dir);
	test_pidfd_fail();		/* last: its seccomp filter stays */
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
