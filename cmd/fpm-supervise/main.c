/* SPDX-License-Identifier: ISC */
/*
 * fpm-supervise: the pool master.  Reads fpm.conf, owns the listening
 * sockets, runs the workers of every pool and dispatches requests to them.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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
struct confref	 *fpmconf_ref;
char		  runtime_dir[96];	/* + "/w%lu.sock" fits sun_path */
char		  self_exe[PATH_MAX];
char		  self_config[PATH_MAX];
char		  self_pidfile[PATH_MAX];
char		**self_argv;
const char	 *pidpath;
int		  opt_root;

static char	*opt_config, *opt_pid, *opt_prefix;
static int	 opt_test, opt_daemonize, opt_foreground;
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
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, opts_common_fpm, 0,
	    "Common options:", NULL },
	POPT_TABLEEND
};

static struct pidfh	 *pfh;
static int		  rundir_lock = -1;	/* runtime_dir/lock, flock'd */
static pid_t		  pidfile_pid;	/* who may remove it: not a fork */
static int		  builtin;	/* running on the built-in conf.d/ */

static void	handle(poptContext, int);
static int	path_join(char *, size_t, const char *, const char *);
static char	*embedded_config(char *, size_t, char *, size_t);
static void	daemonize(void);
static void	runtime_dir_sweep(const char *);
static int	runtime_dir_stale(int);
static void	pidfile_cleanup(void);
static int	fd_listed(const char *, int);
static poptContext start_options(int, char *[]);
static void	init_failed(const char *, int) __attribute__((noreturn));
static void	start_conf(void);
static void	test_conf(void);
static void	test_dump(void);
static char	*start_process(void);
static void	start_runtime_dir(void);
static void	start_limits(void);
static void	start_pools(const char *);
static void	run(void);
static void	finish(void);

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
int
main_conf_read(struct conf *c, char *err, size_t errsize)
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
	if (r == 0) {
		for (i = 0; i < c->nwarnings; i++)
			log_warnx("%s", c->warnings[i]);
		for (i = 0; i < c->nnotes; i++)
			log_info("%s", c->notes[i]);
	}
	errno = saved;
	return (r);
}

/* Apply [global]'s logging; -1 (errno set) if error_log can't be opened. */
int
main_log_setup(void)
{
	struct conf_global	*g = &fpmconf.global;
	int			 fd = -1;

	log_setlevel((enum log_level)g->log_level);
	if (opts_verbose > 0)
		log_verbose(opts_verbose + 1);	/* --verbose is debug */
	log_setlimit((size_t)g->log_limit);
	if (g->error_log == NULL)
		return (0);
	if (opt_stderr) {
		/*
		 * The log goes to stderr, but error_log is created as PHP-FPM
		 * creates it: a path that cannot be written shows now.
		 */
		if (strcmp(g->error_log, "syslog") != 0 &&
		    (fd = open(g->error_log, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0600)) == -1)
			return (-1);
		if (fd != -1)
			close(fd);
		return (0);
	}
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
pidfile_cleanup(void)
{
	if (pfh != NULL && getpid() == pidfile_pid)
		pidfile_remove(pfh);
	pfh = NULL;
}

/* An upgrade: the new image takes the pid file's lock, and removes it. */
void
main_pidfile_handover(void)
{
	if (pfh != NULL)
		pidfile_close(pfh);
	pfh = NULL;
}

void
runtime_dir_cleanup(void)
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
int
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
	runtime_dir_cleanup();
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

/* The options: fatal on a usage error.  Returns popt's context. */
static poptContext
start_options(int argc, char *argv[])
{
	poptContext	pc;

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
	return (pc);
}

/* Why a start fails, then PHP-FPM's last word, both errors; exit code. */
static void
init_failed(const char *err, int code)
{
	log_errorx("%s", err);
	log_errorx("FPM initialization failed");
	exit(code);
}

/* The configuration in force, read once: fatal if it cannot be. */
static void
start_conf(void)
{
	char	err[1024];

	if ((fpmconf_ref = calloc(1, sizeof(*fpmconf_ref))) == NULL)
		fatal("calloc");
	fpmconf_ref->refs = 1;
	if (main_conf_read(&fpmconf_ref->c, err, sizeof(err)) == -1) {
		/* missing or unreadable: retrying won't help either */
		init_failed(err, errno == ENOMEM || errno == EMFILE ||
		    errno == ENFILE || errno == EINTR ? FPM_EXIT_TEMP :
		    FPM_EXIT_USAGE);
	}
	fpmconf = fpmconf_ref->c;
	/* who we are for "identity": a client compares its -y with this */
	if (!builtin && realpath(fpmconf.global.file, self_config) == NULL)
		(void)strlcpy(self_config, fpmconf.global.file,
		    sizeof(self_config));
}

/* -t: what a start checks beyond the file (ids, the command); -tt dumps. */
static void
test_conf(void)
{
	char	err[1024];
	size_t	i;

	for (i = 0; i < fpmconf.npools; i++)
		if (pool_check(&fpmconf.pools[i], opt_root, err,
		    sizeof(err)) == -1) {
			init_failed(err, FPM_EXIT_USAGE);
		}
	if (opt_test > 1)
		test_dump();
	log_info("configuration file %s test is successful",
	    builtin ? "(built-in)" : fpmconf.global.file);
	/* -t is asked a question: the answer goes out at any level */
	if (log_getlevel() > LOG_LVL_NOTICE)
		fprintf(stderr, "%s: configuration file %s test is "
		    "successful\n", getprogname(), builtin ?
		    "(built-in)" : fpmconf.global.file);
	conf_release(fpmconf_ref);
}

/*
 * -tt: every setting, a NOTICE line each, as PHP-FPM's -tt; asked for, so
 * shown at any log_level.
 */
static void
test_dump(void)
{
	enum log_level	 level = log_getlevel();
	FILE		*fp;
	char		*buf = NULL, *line, *save;
	size_t		 len = 0;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		fatal("open_memstream");
	conf_dump(&fpmconf, fp);
	if (fclose(fp) != 0)
		fatal("open_memstream");
	if (level > LOG_LVL_NOTICE)
		log_setlevel(LOG_LVL_NOTICE);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_info("%s", line);
	log_setlevel(level);
	free(buf);
}

/*
 * The process: the pid file, then into the background when asked.  An
 * upgraded supervisor stays where it is; returns the fds FPM_UPGRADED
 * lists (sockets not ours, malloc'd), or NULL when we were not upgraded.
 */
static char *
start_process(void)
{
	const char	*s;
	char		*foreign = NULL;
	pid_t		 other;

	pidpath = opt_pid != NULL ? opt_pid : fpmconf.global.pid;
	if (pidpath != NULL &&
	    (pfh = pidfile_open(pidpath, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx_code(FPM_EXIT_TEMP, "another fpm-supervise "
			    "(pid %d) holds %s", (int)other, pidpath);
		fatal("unable to open pid file %s", pidpath);
	}
	if (pidpath != NULL && realpath(pidpath, self_pidfile) == NULL)
		(void)strlcpy(self_pidfile, pidpath, sizeof(self_pidfile));
	/* a start that fails later leaves no empty pidfile behind */
	pidfile_pid = getpid();
	atexit(pidfile_cleanup);
	/*
	 * A re-exec'd supervisor (binary upgrade) stays where it is; its
	 * sockets are its own but for the fds FPM_UPGRADED lists.
	 */
	if ((s = getenv("FPM_UPGRADED")) != NULL) {
		opt_foreground = 1;
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
	return (foreign);
}

/*
 * The workers' private sockets live in a directory only we enter: in the
 * first writable of runtime_dir, systemd's RuntimeDirectory= (one, a tmpfs
 * under /run, where a bind costs no disk inode), $XDG_RUNTIME_DIR,
 * $TMPDIR, /tmp.
 */
static void
start_runtime_dir(void)
{
	static const char	*env[] = { "RUNTIME_DIRECTORY",
				    "XDG_RUNTIME_DIR", "TMPDIR" };
	const char		*base;
	size_t			 i;

	base = fpmconf.global.runtime_dir;
	for (i = 0; base == NULL && i < sizeof(env) / sizeof(env[0]); i++)
		if ((base = getenv(env[i])) != NULL && (*base != '/' ||
		    strchr(base, ':') != NULL || access(base, W_OK) == -1))
			base = NULL;
	if (base == NULL)
		base = "/tmp";
	if ((size_t)snprintf(runtime_dir, sizeof(runtime_dir),
	    "%s/fpm.XXXXXX", base) >= sizeof(runtime_dir))
		fatalx_code(FPM_EXIT_USAGE, "runtime_dir %s: path too long "
		    "(at most %zu bytes)", base, sizeof(runtime_dir) - 12);
	runtime_dir_sweep(base);
	if (runtime_dir_make() == -1)
		fatal("unable to create %s", runtime_dir);
}

/* [global]'s rlimit_files, rlimit_core and process.priority. */
static void
start_limits(void)
{
	struct conf_global	*g = &fpmconf.global;
	struct rlimit		 rl;

	if (g->rlimit_files_set) {
		rl.rlim_cur = rl.rlim_max = g->rlimit_files;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("unable to set rlimit_files");
	}
	if (g->rlimit_core_set) {
		rl.rlim_cur = rl.rlim_max = g->rlimit_core;
		if (setrlimit(RLIMIT_CORE, &rl) == -1)
			log_warn("unable to set rlimit_core");
	}
	if (g->priority_set) {
		if (geteuid() != 0)
			log_info("'process.priority' directive is ignored "
			    "when FPM is not running as root");
		else if (setpriority(PRIO_PROCESS, 0, g->priority) == -1)
			log_warn("unable to set process.priority");
	}
}

/*
 * Every pool of the configuration, with its listeners: fatal if one cannot
 * start.  foreign: the sockets our previous image did not own, or NULL.
 */
static void
start_pools(const char *foreign)
{
	char	err[1024];
	size_t	i;

	npools = fpmconf.npools;
	if ((pools = calloc(npools, sizeof(*pools))) == NULL)
		fatal("calloc");
	for (i = 0; i < npools; i++) {
		if ((pools[i] = pool_new(&fpmconf.pools[i], opt_root, err,
		    sizeof(err))) == NULL) {
			init_failed(err, errno == EINVAL ? FPM_EXIT_USAGE :
			    FPM_EXIT_TEMP);
		}
		pool_own(pools[i], fpmconf_ref);
		/* our own sockets, handed over by our previous image */
		if (foreign != NULL) {
			pools[i]->lst.inherited = fd_listed(foreign,
			    pools[i]->lst.src.fd);
			pools[i]->slst.inherited = fd_listed(foreign,
			    pools[i]->slst.src.fd);
		}
	}
}

/*
 * The loop: until a stop has no worker and no connection left.  A binary
 * upgrade leaves it with the workers gone, and comes back if its exec
 * failed.
 */
static void
run(void)
{
	int	ready = 0;

	for (;;) {
		while (!sv_stopping() || pools_alive() > 0 ||
		    conns_active() > 0) {
			/* serving once every pool's first workers are up */
			if (!ready && !sv_stopping() && pools_started()) {
				ready = 1;
				log_info("ready to handle connections");
				notify_ready(opt_readyfd);
			}
			if (ev_run_once() == -1)
				fatal("epoll_wait");
			conns_reap();
			if (sv_state == SV_UPGRADE_DRAIN && conns_count() == 0)
				supervisor_upgrade_drained();
		}
		if (sv_state != SV_UPGRADE_EXEC)
			break;
		supervisor_upgrade_exec();	/* returns if exec failed */
	}
}

/* After the loop: everything we hold, released. */
static void
finish(void)
{
	size_t	i;

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
	runtime_dir_cleanup();
	log_info("exiting, bye-bye!");
	pidfile_cleanup();
	free(pools);
	conf_release(fpmconf_ref);
}

int
main(int argc, char *argv[])
{
	poptContext	 pc;
	char		*foreign;
	ssize_t		 n;
	size_t		 i;

	log_init(getprogname(), LOG_STYLE_FPM);
	self_argv = argv;
	/*
	 * The binary by its name, not /proc/self/exe, which would run the
	 * replaced file again: an upgrade runs what is installed now.
	 */
	if ((n = readlink("/proc/self/exe", self_exe,
	    sizeof(self_exe) - 1)) > 0)
		self_exe[n] = '\0';
	pc = start_options(argc, argv);
	start_conf();
	if (opt_test) {
		test_conf();
		poptFreeContext(pc);
		return (FPM_EXIT_OK);
	}
	if (main_log_setup() == -1)
		fatal("unable to open error_log %s", fpmconf.global.error_log);
	foreign = start_process();
	if (ev_init() == -1)
		fatal("epoll_create1");
	supervisor_signals();
	start_runtime_dir();
	start_limits();
	notify_init(fpmconf.global.systemd_interval_ms);
	sock_inherit_init();
	/* low, before the fds that come with each worker (spawn.h) */
	if (spawn_reserve_fds() == -1)
		log_warn("unable to reserve the fds of the workers' start");
	/*
	 * Before any worker: a second instance on the same control socket
	 * would leave fpm-ctl and fpm-status talking to the first.
	 */
	if (ctl_open(pidpath) == -1 && errno == EADDRINUSE)
		fatalx_code(FPM_EXIT_TEMP, "another fpm-supervise answers on "
		    "its control socket: not starting a second one (set pid "
		    "or control to run both)");
	start_pools(foreign);
	free(foreign);
	sock_inherit_close_unused();
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("unable to write the pid file");
	log_info("fpm is running, pid %d", (int)getpid());
	for (i = 0; i < npools; i++)
		pm_maintain(pools[i]);
	poptFreeContext(pc);
	run();
	finish();
	return (FPM_EXIT_OK);
}
