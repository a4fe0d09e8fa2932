/* SPDX-License-Identifier: ISC */
/*
 * fpm-spawn: create or inherit a listening socket, drop privileges and exec a
 * FastCGI program with the socket on fd 0 (or handed on as LISTEN_FDS).
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <popt.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/opts.h"
#include "libcommon/parse.h"
#include "libcommon/sock.h"
#include "libcommon/spawn.h"

#define MAXCHILDREN	256
#define OPT_ENV		1

static char	*opt_addr, *opt_port, *opt_socket, *opt_listen;
static char	*opt_mode, *opt_sockuser, *opt_sockgroup;
static char	*opt_user, *opt_group, *opt_chroot, *opt_chdir, *opt_pidfile;
static char	*opt_nofile, *opt_core, *opt_php_children;
static int	 opt_backlog = 1024, opt_nofork, opt_children = 1;
static int	 opt_clearenv, opt_listenfds, opt_allowroot, opt_nice = INT_MIN;
static int	 opt_sockfirst, opt_keepout;
static char	**envset;
static size_t	 nenvset;

static struct poptOption options[] = {
	{ "listen", 'l', POPT_ARG_STRING, &opt_listen, 0,
	    "listen on ADDR: a unix path, PORT, IP:PORT or [IPv6]:PORT",
	    "ADDR" },
	{ "address", 'a', POPT_ARG_STRING, &opt_addr, 0,
	    "bind to IP (with --port; default 0.0.0.0)", "IP" },
	{ "port", 'p', POPT_ARG_STRING, &opt_port, 0,
	    "listen on TCP port PORT", "PORT" },
	{ "socket", 's', POPT_ARG_STRING, &opt_socket, 0,
	    "listen on the unix socket PATH", "PATH" },
	{ "backlog", 'b', POPT_ARG_INT | POPT_ARGFLAG_SHOW_DEFAULT,
	    &opt_backlog, 0, "listen(2) backlog (-1: the kernel's maximum)",
	    "N" },
	{ "socket-mode", 'M', POPT_ARG_STRING, &opt_mode, 0,
	    "mode of the unix socket (octal)", "MODE" },
	{ "socket-user", 'U', POPT_ARG_STRING, &opt_sockuser, 0,
	    "owner of the unix socket", "USER" },
	{ "socket-group", 'G', POPT_ARG_STRING, &opt_sockgroup, 0,
	    "group of the unix socket", "GROUP" },
	{ "socket-first", 'S', POPT_ARG_NONE, &opt_sockfirst, 0,
	    "accepted for spawn-fcgi: the socket is always made before "
	    "the chroot", NULL },
	{ "user", 'u', POPT_ARG_STRING, &opt_user, 0,
	    "run the program as USER (root only)", "USER" },
	{ "group", 'g', POPT_ARG_STRING, &opt_group, 0,
	    "run the program as GROUP (default: USER's group)", "GROUP" },
	{ "allow-root", 'R', POPT_ARG_NONE, &opt_allowroot, 0,
	    "allow --user or --group to be root", NULL },
	{ "chroot", 'c', POPT_ARG_STRING, &opt_chroot, 0,
	    "chroot to DIR before exec (root only)", "DIR" },
	{ "chdir", 'd', POPT_ARG_STRING, &opt_chdir, 0,
	    "change to DIR (inside the chroot) before exec", "DIR" },
	{ "pid", 'P', POPT_ARG_STRING, &opt_pidfile, 0,
	    "write the children's pids to FILE", "FILE" },
	{ "no-fork", 'n', POPT_ARG_NONE, &opt_nofork, 0,
	    "exec the program in place instead of forking", NULL },
	{ "keep-output", 'O', POPT_ARG_NONE, &opt_keepout, 0,
	    "forked children keep our stdout and stderr (default: "
	    "/dev/null)", NULL },
	{ "children", 'F', POPT_ARG_INT | POPT_ARGFLAG_SHOW_DEFAULT,
	    &opt_children, 0, "fork N copies of the program", "N" },
	{ "php-children", 'C', POPT_ARG_STRING, &opt_php_children, 0,
	    "set PHP_FCGI_CHILDREN=N for php-cgi", "N" },
	{ "env", 'e', POPT_ARG_STRING, NULL, OPT_ENV,
	    "set NAME=VALUE in the program's environment (repeatable)",
	    "NAME=VALUE" },
	{ "clear-env", 'E', POPT_ARG_NONE, &opt_clearenv, 0,
	    "start from an empty environment", NULL },
	{ "rlimit-files", 'f', POPT_ARG_STRING, &opt_nofile, 0,
	    "set RLIMIT_NOFILE", "N" },
	{ "rlimit-core", 'k', POPT_ARG_STRING, &opt_core, 0,
	    "set RLIMIT_CORE (a size or 'unlimited')", "N" },
	{ "nice", 'N', POPT_ARG_INT, &opt_nice, 0,
	    "set the nice value (-20..19)", "N" },
	{ "listen-fds", 'L', POPT_ARG_NONE, &opt_listenfds, 0,
	    "pass the socket as fd 3 with LISTEN_FDS=1 (systemd style)",
	    NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static void	handle(poptContext, int);
static int	open_socket(void);
static void	write_pidfile(const pid_t *, int);

static void
handle(poptContext pc, int c)
{
	const char	*arg = poptGetOptArg(pc);
	char		**n;

	if (c != OPT_ENV)
		return;
	if (arg == NULL || arg[0] == '=' || strchr(arg, '=') == NULL)
		fatalx_usage("--env: expected NAME=VALUE, got '%s'",
		    arg ? arg : "");
	if ((n = reallocarray(envset, nenvset + 1, sizeof(*n))) == NULL)
		fatal("reallocarray");
	envset = n;
	envset[nenvset++] = (char *)arg;	/* popt hands it over */
}

/* Bind, or adopt the inherited socket for the same address. */
static int
open_socket(void)
{
	struct sock_addr	 addr;
	struct sock_perm	 perm = { (uid_t)-1, (gid_t)-1, -1 };
	struct spawn		 ids;
	char			 spec[PATH_MAX + 64], err[256];
	unsigned int		 mode;
	int			 fd, given;

	given = (opt_listen != NULL) + (opt_socket != NULL) +
	    (opt_port != NULL);
	if (given > 1)
		fatalx_usage("give only one of --listen, --socket and --port");
	if (opt_addr != NULL && opt_port == NULL)
		fatalx_usage("--address needs --port");
	if (opt_listen != NULL)
		strlcpy(spec, opt_listen, sizeof(spec));
	else if (opt_socket != NULL)
		strlcpy(spec, opt_socket, sizeof(spec));
	else if (opt_port != NULL && opt_addr != NULL && strchr(opt_addr, ':'))
		snprintf(spec, sizeof(spec), "[%s]:%s", opt_addr, opt_port);
	else if (opt_port != NULL)
		snprintf(spec, sizeof(spec), "%s:%s",
		    opt_addr ? opt_addr : "0.0.0.0", opt_port);
	else
		fatalx_usage("no address: give --socket, --port or --listen");
	if (opt_socket != NULL && strchr(opt_socket, ':') != NULL) {
		/* -s is always a path, even one with a colon in it */
		if (strlen(opt_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			fatalx_usage("socket path too long: %s", opt_socket);
		if (sock_parse("/", &addr) == -1)
			fatal("sock_parse");
		strlcpy(((struct sockaddr_un *)&addr.ss)->sun_path, opt_socket,
		    sizeof(((struct sockaddr_un *)0)->sun_path));
		strlcpy(addr.key, opt_socket, sizeof(addr.key));
	} else if (sock_parse(spec, &addr) == -1)
		fatalx_usage("invalid address '%s': %s", spec,
		    errno == ENAMETOOLONG ? "path too long" : "bad address or "
		    "port");
	if (opt_mode != NULL) {
		if (parse_mode(opt_mode, &mode) == -1)
			fatalx_usage("--socket-mode: invalid mode '%s'",
			    opt_mode);
		perm.mode = (int)mode;
	}
	if (opt_sockuser != NULL || opt_sockgroup != NULL) {
		spawn_init(&ids);
		if (spawn_resolve_ids(&ids, opt_sockuser ? opt_sockuser :
		    "0", opt_sockgroup, 1, err, sizeof(err)) == -1)
			fatalx_code(FPM_EXIT_USAGE, "%s", err);
		perm.uid = opt_sockuser ? ids.uid : (uid_t)-1;
		perm.gid = ids.gid;
		spawn_free(&ids);
	}
	sock_inherit_init();
	if ((fd = sock_inherit_take(&addr)) != -1) {
		log_info("using inherited socket fd=%d, \"%s\"", fd, addr.key);
		sock_inherit_close_unused();
		return (fd);
	}
	sock_inherit_close_unused();
	if ((fd = sock_listen(&addr, opt_backlog, &perm)) == -1) {
		if (errno == EADDRINUSE && addr.ss.ss_family == AF_UNIX)
			fatalx("unable to bind %s: another process is "
			    "listening there", addr.key);
		fatal("unable to bind %s", addr.key);
	}
	return (fd);
}

static void
write_pidfile(const pid_t *pids, int n)
{
	FILE	*fp;
	int	 i;

	if (opt_pidfile == NULL)
		return;
	if ((fp = fopen(opt_pidfile, "we")) == NULL)
		fatal("unable to open %s", opt_pidfile);
	for (i = 0; i < n; i++)
		fprintf(fp, "%d\n", (int)pids[i]);
	if (fclose(fp) == EOF)
		fatal("unable to write %s", opt_pidfile);
}

int
main(int argc, char *argv[])
{
	struct spawn	 s;
	poptContext	 pc;
	const char	**args;
	char		 err[512], **env, chbuf[64];
	uint64_t	 v;
	long long	 ll;
	pid_t		 pids[MAXCHILDREN];
	int		 i, fd, devnull, root;

	log_init(getprogname(), LOG_STYLE_PLAIN);
	pc = opts_parse(argc, argv, options,
	    "[OPTION...] -- PROGRAM [ARG...]", handle);
	if ((args = poptGetArgs(pc)) == NULL || args[0] == NULL)
		fatalx_usage("no program to run");
	if (getuid() != geteuid())
		fatalx_code(FPM_EXIT_USAGE, "refusing to run set-uid");
	if (opt_children < 1 || opt_children > MAXCHILDREN)
		fatalx_usage("--children: must be 1..%d", MAXCHILDREN);
	if (opt_nofork && opt_children != 1)
		fatalx_usage("--no-fork and --children N don't mix");
	if (opt_listenfds && opt_children != 1)
		fatalx_usage("--listen-fds and --children N don't mix");
	if (opt_backlog < -1)
		fatalx_usage("--backlog: must be -1 or more");
	if (opt_nice != INT_MIN && (opt_nice < -20 || opt_nice > 19))
		fatalx_usage("--nice: must be -20..19");

	spawn_init(&s);
	s.argv = (char *const *)args;
	s.sockmode = opt_listenfds ? SPAWN_SOCK_LISTEN_FDS : SPAWN_SOCK_STDIN;
	s.chroot = opt_chroot;
	s.chdir = opt_chdir;
	if (opt_nice != INT_MIN) {
		s.setnice = 1;
		s.nice = opt_nice;
	}
	if (opt_nofile != NULL && (parse_rlimit(opt_nofile, &v) == -1 ||
	    v == 0))
		fatalx_usage("--rlimit-files: invalid value '%s'", opt_nofile);
	if (opt_nofile != NULL)
		s.rlimit_nofile = v;
	if (opt_core != NULL && parse_rlimit(opt_core, &v) == -1 &&
	    parse_size(opt_core, UINT64_MAX / 2, &v) == -1)
		fatalx_usage("--rlimit-core: invalid value '%s'", opt_core);
	if (opt_core != NULL)
		s.rlimit_core = v;
	if (opt_php_children != NULL) {
		if (parse_int(opt_php_children, 0, 1000, &ll) == -1)
			fatalx_usage("--php-children: invalid value '%s'",
			    opt_php_children);
		snprintf(chbuf, sizeof(chbuf), "PHP_FCGI_CHILDREN=%lld", ll);
	}

	root = geteuid() == 0;
	if ((opt_user != NULL || opt_group != NULL) && !root)
		log_warnx("ignoring --user and --group: not running as root");
	else if (opt_user != NULL || opt_group != NULL) {
		if (spawn_resolve_ids(&s, opt_user ? opt_user : "0", opt_group,
		    opt_allowroot || opt_user == NULL, err, sizeof(err)) == -1)
			fatalx_code(FPM_EXIT_USAGE, "%s", err);
		if (opt_user == NULL) {
			/* --group alone: keep our uid */
			s.uid = geteuid();
		}
	}
	if (opt_chroot != NULL && !root)
		fatalx_code(FPM_EXIT_USAGE, "--chroot needs root");
	if (opt_php_children != NULL) {
		char	**n;

		if ((n = reallocarray(envset, nenvset + 1, sizeof(*n))) == NULL)
			fatal("reallocarray");
		envset = n;
		envset[nenvset++] = chbuf;
	}
	/*
	 * The socket first: sock_inherit_init() unsets LISTEN_FDS, LISTEN_PID
	 * and FPM_SOCKETS, which must not reach the program with stale fds.
	 */
	fd = open_socket();
	s.sock = fd;
	if ((env = spawn_env(opt_clearenv, envset, nenvset)) == NULL)
		fatal("unable to build the environment");
	s.envp = env;

	if (opt_nofork) {
		/* s.argv lives in pc: keep it, exec replaces us anyway */
		spawn_exec(&s, -1);
		/* NOTREACHED */
	}

	/*
	 * Like spawn-fcgi: the children get their own session, and stdout
	 * and stderr on /dev/null, else they would hold our caller's pipe
	 * and out=$(fpm-spawn ...) would wait for them to exit.
	 */
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("unable to open /dev/null");
	if (!opt_keepout)
		s.stdout_fd = s.stderr_fd = devnull;
	s.setsid = 1;
	for (i = 0; i < opt_children; i++) {
		if ((pids[i] = spawn_start(&s, NULL, err, sizeof(err))) == -1) {
			if (errno == ENOENT)
				fatalx_code(FPM_EXIT_NOTFOUND, "%s", err);
			if (errno == ENOEXEC)
				fatalx_code(FPM_EXIT_EXEC, "%s", err);
			if (errno == ECHILD)
				fatalx("%s", err);
			fatal("unable to fork");
		}
		log_info("child spawned successfully: PID: %d", (int)pids[i]);
		printf("%d\n", (int)pids[i]);
	}
	write_pidfile(pids, opt_children);
	if (fflush(stdout) == EOF)
		fatal("unable to write to stdout");
	spawn_env_free(env);
	spawn_free(&s);
	free(envset);
	poptFreeContext(pc);
	return (FPM_EXIT_OK);
}
