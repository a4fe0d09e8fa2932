/* SPDX-License-Identifier: ISC */
/*
 * fpm-ctl: tell a running fpm-supervise what to do through its control
 * socket (fpm-control(7)), or with signals through its pidfile.
 */

#include <sys/types.h>
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <popt.h>

#include "libcommon/ctl.h"
#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"
#include "libcommon/parse.h"

#define USAGE	"[OPTION...] COMMAND [POOL]\n" \
	"Commands: reload [POOL], restart POOL, stop, quit, upgrade, reopen,\n" \
	"  pid, wait-ready, status [POOL], pools, version"
#define DEFAULT_TIMEOUT_MS	30000
#define MAXWORDS		8

/* Whether a command takes a POOL. */
enum cmd_pool {
	CMD_NOPOOL,
	CMD_POOLOPT,
	CMD_POOLREQ
};

/*
 * The commands.  sig is what the command becomes without the socket:
 * a signal, 0 for "print the pidfile's pid", -1 for nothing (the command
 * needs the socket).
 */
struct cmd {
	const char	*name;
	enum cmd_pool	 pool;
	int		 sig;
};

static const struct cmd cmds[] = {
	{ "reload",	CMD_POOLOPT,	SIGUSR2 },
	{ "restart",	CMD_POOLREQ,	-1 },
	{ "stop",	CMD_NOPOOL,	SIGTERM },
	{ "quit",	CMD_NOPOOL,	SIGQUIT },
	{ "reopen",	CMD_NOPOOL,	SIGUSR1 },
	{ "upgrade",	CMD_NOPOOL,	SIGURG },
	{ "pid",	CMD_NOPOOL,	0 },
	{ "wait-ready",	CMD_NOPOOL,	-1 },
	{ "status",	CMD_POOLOPT,	-1 },
	{ "pools",	CMD_NOPOOL,	-1 },
	{ "version",	CMD_NOPOOL,	-1 },
	{ NULL,		CMD_NOPOOL,	-1 }
};

static char	*opt_socket, *opt_config, *opt_pidfile, *opt_timeout;
static int	 opt_wait;

static struct poptOption options[] = {
	{ "socket", 's', POPT_ARG_STRING, &opt_socket, 0,
	    "talk to the control socket PATH", "PATH" },
	{ "fpm-config", 'y', POPT_ARG_STRING, &opt_config, 0,
	    "find the control socket and pidfile in the configuration FILE; "
	    "act only on the supervisor running it", "FILE" },
	{ "pid", 'P', POPT_ARG_STRING, &opt_pidfile, 0,
	    "the supervisor's pidfile: its socket is beside it, signals go to "
	    "its pid when the socket is absent; act only on its supervisor",
	    "FILE" },
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0,
	    "give up waiting after DURATION (default 30s)", "DURATION" },
	{ "wait", 'w', POPT_ARG_NONE, &opt_wait, 0,
	    "stop, quit: return once the supervisor is gone", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static char	 sockpath[PATH_MAX], pidpath[PATH_MAX];
static int	 timeout_ms = DEFAULT_TIMEOUT_MS;

static int	 args_parse(int, char *[], char **, int);
static int64_t	 now_ms(void);
static void	 nap(int);
static int	 connect_errno(int);
static __attribute__((noreturn)) void
		 fail_request(const char *, int);
static pid_t	 pidfile_pid(const char *);
static int	 pid_alive(pid_t);
static int	 wait_gone(pid_t);
static int	 run_signal(const struct cmd *, const char *, int);
static int	 run_wait_ready(void);
static void	 check_identity(void);
static size_t	 pools_split(const char *, size_t, const char **, size_t *);
static void	 print_pools(const char *);
static int	 run(const struct cmd *, const char *);

/*
 * Parse argv, options and words in any order ("fpm-ctl wait-ready -t 5"):
 * opts_parse() stops at the first word, so parse again after each word.
 * Returns the number of words stored in words.
 */
static int
args_parse(int argc, char *argv[], char **words, int maxwords)
{
	poptContext	  pc;
	const char	**left;
	char		**av, **next;
	int		  ac, i, n = 0;

	/* popt's leftovers die with its context: copy them each round */
	av = argv;
	ac = argc;
	for (;;) {
		pc = opts_parse(ac, av, options, USAGE, NULL);
		left = poptGetArgs(pc);
		if (left == NULL || left[0] == NULL) {
			poptFreeContext(pc);
			break;
		}
		if (n == maxwords)
			fatalx_usage("too many arguments");
		if ((words[n++] = strdup(left[0])) == NULL)
			fatal("strdup");
		for (ac = 1; left[ac] != NULL; ac++)
			;
		if ((next = calloc((size_t)ac + 1, sizeof(*next))) == NULL)
			fatal("calloc");
		next[0] = argv[0];
		for (i = 1; i < ac; i++)
			if ((next[i] = strdup(left[i])) == NULL)
				fatal("strdup");
		poptFreeContext(pc);
		if (av != argv) {
			for (i = 1; av[i] != NULL; i++)
				free(av[i]);
			free(av);
		}
		av = next;
	}
	if (av != argv) {
		for (i = 1; av[i] != NULL; i++)
			free(av[i]);
		free(av);
	}
	for (i = 0; i < n; i++)
		if (words[i][0] == '\0')
			fatalx_usage("empty argument");
	return (n);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
nap(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Non-zero when errno e from ctl_request() means nobody is listening. */
static int
connect_errno(int e)
{
	return (e == ENOENT || e == ECONNREFUSED);
}

/* Die of a failed ctl_request() on sockpath. */
static void
fail_request(const char *what, int e)
{
	if (e == ETIMEDOUT)
		fatalx("%s: no reply from %s within %d.%03ds", what, sockpath,
		    timeout_ms / 1000, timeout_ms % 1000);
	if (e == E2BIG)
		fatalx_usage("%s: request too long", what);
	if (e == EACCES || e == EPERM)
		fatalx_code(FPM_EXIT_USAGE, "unable to connect to %s: %s",
		    sockpath, strerror(e));
	errno = e;
	if (connect_errno(e) || e == ENOTSOCK || e == ENOTDIR)
		fatal("unable to connect to %s", sockpath);
	fatal("unable to talk to %s", sockpath);
}

/*
 * The pid in path, alive and holding the pidfile's lock (libbsd
 * pidfile_open() flocks it), or die: a pid that is gone or a lock that
 * nobody holds is a stale pidfile.
 */
static pid_t
pidfile_pid(const char *path)
{
	char		 buf[32], *e;
	long long	 v;
	ssize_t		 n;
	int		 fd, stale;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			fatalx("no fpm-supervise running: no control socket "
			    "at %s and no pidfile %s", sockpath, path);
		fatal("unable to open %s", path);
	}
	if ((n = read(fd, buf, sizeof(buf) - 1)) == -1)
		fatal("unable to read %s", path);
	buf[n] = '\0';
	for (e = buf + n; e > buf && strchr(" \t\r\n", e[-1]) != NULL; e--)
		e[-1] = '\0';
	if (parse_int(buf, 1, INT_MAX, &v) == -1)
		fatalx("no fpm-supervise running: no pid in %s", path);
	stale = !pid_alive((pid_t)v) || flock(fd, LOCK_SH | LOCK_NB) == 0;
	close(fd);
	if (stale)
		fatalx("no fpm-supervise running: pid %lld from %s is gone", v,
		    path);
	return ((pid_t)v);
}

/* Zero when pid is gone or a zombie waiting for its parent. */
static int
pid_alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return (0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno != ENOENT);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (1);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold anything, so the last ')' */
	if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
		return (0);
	return (1);
}

/* Wait until pid is gone: 0, or -1 after the timeout. */
static int
wait_gone(pid_t pid)
{
	int64_t	deadline = now_ms() + timeout_ms;

	while (pid_alive(pid)) {
		if (now_ms() >= deadline)
			return (-1);
		nap(20);
	}
	return (0);
}

/* The command without the socket (errno e from connecting to it). */
static int
run_signal(const struct cmd *c, const char *pool, int e)
{
	pid_t	pid;

	pid = pidfile_pid(pidpath);
	if (c->sig == -1) {
		errno = e;
		fatal("%s needs the control socket: unable to connect to %s",
		    c->name, sockpath);
	}
	log_warnx("no control socket at %s: using signals through %s",
	    sockpath, pidpath);
	if (c->sig == 0) {
		printf("%d\n", (int)pid);
		return (FPM_EXIT_OK);
	}
	if (pool != NULL)
		log_warnx("a signal reloads every pool, not only '%s'", pool);
	if (kill(pid, c->sig) == -1) {
		if (errno == EPERM)
			fatalx_code(FPM_EXIT_USAGE, "unable to signal pid %d: "
			    "%s", (int)pid, strerror(errno));
		fatal("unable to signal pid %d", (int)pid);
	}
	if (opt_wait && c->sig != SIGUSR1 && c->sig != SIGUSR2 &&
	    wait_gone(pid) == -1)
		fatalx("%s: pid %d still running after %d.%03ds", c->name,
		    (int)pid, timeout_ms / 1000, timeout_ms % 1000);
	return (FPM_EXIT_OK);
}

/*
 * Given a configuration or a pidfile (or found through the installed
 * configuration), act only on their supervisor: another one on the
 * socket is refused (exit 100).  Nobody listening is left to the
 * command, which may fall back to signals.
 */
static void
check_identity(void)
{
	char	err[CTL_ID_MAX * 2 + 256];
	int	code;

	if (ctl_identity_check(sockpath, ctl_client_expected(opt_socket,
	    opt_config, opt_pidfile), opt_pidfile, timeout_ms, &code, err,
	    sizeof(err)) == 0)
		return;
	if (code == FPM_EXIT_TEMP && connect_errno(errno))
		return;
	if (code == FPM_EXIT_TEMP && errno != EPROTO)
		fail_request("identity", errno);
	fatalx_code(code, "%s", err);
}

/*
 * Poll until the supervisor answers "wait-ready" with ok.  Nobody
 * listening yet and "error 111" (not ready) mean: try again shortly.
 */
static int
run_wait_ready(void)
{
	int64_t	 deadline = now_ms() + timeout_ms, left;
	char	*reply, *msg, *body;
	int	 code, e = ETIMEDOUT, delay = 10;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			break;
		if (ctl_request(sockpath, "wait-ready", (int)left,
		    &reply) == -1) {
			e = errno;
			if (!connect_errno(e) && e != ECONNRESET)
				fail_request("wait-ready", e);
		} else {
			if (ctl_reply_parse(reply, &code, &msg, &body) == -1)
				fatalx("bad reply from %s", sockpath);
			if (code == 0) {
				free(reply);
				check_identity();
				return (FPM_EXIT_OK);
			}
			if (code != FPM_EXIT_TEMP)
				fatalx_code(code, "%s", msg);
			e = EAGAIN;
			free(reply);
		}
		left = deadline - now_ms();
		if (left <= 0)
			break;
		nap(delay < left ? delay : (int)left);
		if (delay < 200)
			delay *= 2;
	}
	if (e == ETIMEDOUT || e == EAGAIN)
		fatalx("wait-ready: %s not ready within %d.%03ds", sockpath,
		    timeout_ms / 1000, timeout_ms % 1000);
	errno = e;
	fatal("wait-ready: %s not ready within %d.%03ds", sockpath,
	    timeout_ms / 1000, timeout_ms % 1000);
}

#define POOLS_FIELDS	7
#define POOLS_WIDTH_MAX	256	/* wider fields are not padded to */
#define POOLS_LINE_MAX	65536	/* longer lines are printed as they came */

/*
 * One line of the supervisor's "pools" answer, len bytes at line, into
 * its fields (pointer and length), separated by blanks.  Returns the
 * number of fields, POOLS_FIELDS + 1 when there are more.
 */
static size_t
pools_split(const char *line, size_t len, const char **f, size_t *flen)
{
	size_t	i = 0, n = 0, start;

	for (;;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			return (n);
		if (n == POOLS_FIELDS)
			return (n + 1);
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		f[n] = line + start;
		flen[n++] = i - start;
	}
}

/*
 * "pools": the supervisor's lines, name pm listen total idle active
 * queued (fpm-control(7)), under a header in aligned columns; the counts
 * to the right.  A line of another shape is printed as it came.
 */
static void
print_pools(const char *body)
{
	static const char *const head[POOLS_FIELDS] = { "POOL", "PM",
	    "LISTEN", "TOTAL", "IDLE", "ACTIVE", "QUEUED" };
	const char	*f[POOLS_FIELDS], *line, *eol;
	size_t		 flen[POOLS_FIELDS], w[POOLS_FIELDS], len, i;
	int		 pass;

	for (i = 0; i < POOLS_FIELDS; i++)
		w[i] = strlen(head[i]);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			for (i = 0; i < POOLS_FIELDS; i++)
				printf("%-*s%s", i == POOLS_FIELDS - 1 ? 0 :
				    (int)w[i], head[i],
				    i == POOLS_FIELDS - 1 ? "\n" : " ");
		for (line = body; *line != '\0'; line = eol) {
			if ((eol = strchr(line, '\n')) == NULL)
				eol = line + strlen(line);
			len = (size_t)(eol - line);
			if (*eol == '\n')
				eol++;
			if (len > POOLS_LINE_MAX ||
			    pools_split(line, len, f, flen) != POOLS_FIELDS) {
				if (pass == 1) {
					fwrite(line, 1, len, stdout);
					putchar('\n');
				}
				continue;
			}
			for (i = 0; i < POOLS_FIELDS; i++) {
				if (pass == 0) {
					if (flen[i] > w[i] &&
					    flen[i] <= POOLS_WIDTH_MAX)
						w[i] = flen[i];
				} else if (i == POOLS_FIELDS - 1)
					printf("%*.*s\n", (int)w[i],
					    (int)flen[i], f[i]);
				else
					printf(i < 3 ? "%-*.*s " : "%*.*s ",
					    (int)w[i], (int)flen[i], f[i]);
			}
		}
	}
}

static int
run(const struct cmd *c, const char *pool)
{
	char	 line[CTL_LINE_MAX], *reply, *msg, *body;
	pid_t	 pid = 0;
	int	 code, stopping;

	if (strcmp(c->name, "wait-ready") == 0)
		return (run_wait_ready());
	stopping = c->sig == SIGTERM || c->sig == SIGQUIT;
	if (strcmp(c->name, "status") == 0)
		snprintf(line, sizeof(line), "status %s text",
		    pool != NULL ? pool : "-");
	else
		snprintf(line, sizeof(line), "%s%s%s", c->name,
		    pool != NULL ? " " : "", pool != NULL ? pool : "");

	check_identity();
	/* to wait for the end, learn the pid first */
	if (stopping && opt_wait && ctl_request(sockpath, "pid", timeout_ms,
	    &reply) == 0) {
		if (ctl_reply_parse(reply, &code, &msg, &body) == 0 &&
		    code == 0)
			pid = (pid_t)strtol(body, NULL, 10);
		free(reply);
	}
	if (ctl_request(sockpath, line, timeout_ms, &reply) == -1) {
		if (connect_errno(errno) && pidpath[0] != '\0')
			return (run_signal(c, pool, errno));
		fail_request(c->name, errno);
	}
	if (ctl_reply_parse(reply, &code, &msg, &body) == -1)
		fatalx("bad reply from %s", sockpath);
	if (code != 0) {
		if (strcmp(c->name, "reload") == 0) {
			/* the reason is the point: say it plainly */
			fprintf(stderr, "%s: reload refused: %s\n",
			    getprogname(), msg);
			exit(code);
		}
		fatalx_code(code, "%s", msg);
	}
	if (strcmp(c->name, "reload") == 0 && *msg != '\0')
		printf("%s\n", msg);
	if (strcmp(c->name, "pools") == 0)
		print_pools(body);
	else
		fputs(body, stdout);
	free(reply);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	if (stopping && opt_wait) {
		if (pid <= 0 && pidpath[0] != '\0')
			pid = pidfile_pid(pidpath);
		if (pid <= 0)
			fatalx_usage("--wait: the supervisor's pid is unknown");
		if (wait_gone(pid) == -1)
			fatalx("%s: pid %d still running after %d.%03ds",
			    c->name, (int)pid, timeout_ms / 1000,
			    timeout_ms % 1000);
	}
	return (FPM_EXIT_OK);
}

int
main(int argc, char *argv[])
{
	const struct cmd	*c;
	char			*words[MAXWORDS];
	const char		*pool;
	char			 err[512];
	int64_t			 ms;
	int			 n;

	log_init(getprogname(), LOG_STYLE_PLAIN);
	n = args_parse(argc, argv, words, MAXWORDS);
	if (n == 0)
		fatalx_usage("no command");
	for (c = cmds; c->name != NULL; c++)
		if (strcmp(c->name, words[0]) == 0)
			break;
	if (c->name == NULL)
		fatalx_usage("unknown command '%s'", words[0]);
	if (n > 2 || (n == 2 && c->pool == CMD_NOPOOL))
		fatalx_usage("%s: too many arguments", c->name);
	if (n == 1 && c->pool == CMD_POOLREQ)
		fatalx_usage("%s: no POOL given", c->name);
	pool = n == 2 ? words[1] : NULL;
	if (pool != NULL && strpbrk(pool, " \t\r\n") != NULL)
		fatalx_usage("bad pool name '%s'", pool);
	if (opt_config != NULL && opt_pidfile != NULL)
		fatalx_usage("give only one of --fpm-config and --pid");
	if (opt_timeout != NULL) {
		if (parse_duration_ms(opt_timeout, 1, INT_MAX, &ms) == -1)
			fatalx_usage("--timeout: bad duration '%s'",
			    opt_timeout);
		timeout_ms = (int)ms;
	}
	if (opt_wait && c->sig != SIGTERM && c->sig != SIGQUIT)
		fatalx_usage("--wait goes with stop and quit only");
	if (ctl_client_paths(opt_socket, opt_config, opt_pidfile, sockpath,
	    sizeof(sockpath), pidpath, sizeof(pidpath), err,
	    sizeof(err)) == -1)
		fatalx_code(errno == EINVAL || errno == ENAMETOOLONG ||
		    errno == ENOENT || errno == EACCES ? FPM_EXIT_USAGE :
		    FPM_EXIT_TEMP, "%s", err);
	return (run(c, pool));
}
