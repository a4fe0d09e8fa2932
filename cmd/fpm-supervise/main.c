/* SPDX-License-Identifier: ISC */
/*
 * fpm-supervise: the pool master.  Reads fpm.conf, owns the listening
 * sockets, runs the workers of every pool and dispatches requests to them.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

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

struct pool	*pools;
size_t		 npools;
struct conf	 fpmconf;
char		 runtime_dir[64];
int		 stopping;

static char	*opt_config, *opt_pid, *opt_prefix;
static int	 opt_test, opt_daemonize, opt_foreground, opt_root;
static int	 opt_stderr;

static struct poptOption options[] = {
	{ "fpm-config", 'y', POPT_ARG_STRING, &opt_config, 0,
	    "read the configuration from FILE (default: "
	    FPM_SYSCONFDIR "/fpm/fpm.conf, else the built-in one)", "FILE" },
	{ "test", 't', POPT_ARG_NONE, NULL, 't',
	    "test the configuration and exit (twice: also dump it)", NULL },
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
};

static struct ev_source	 sigsrc;
static struct ev_timer	 stop_timer;
static void		**graveyard;
static size_t		  ngraveyard, graveyardsize;
static int		  nsigquit;

static void	handle(poptContext, int);
static void	load_config(struct conf *);
static char	*embedded_config(char *, size_t);
static void	setup_log(void);
static void	daemonize(void);
static void	on_signal(struct ev_source *, uint32_t);
static void	on_stop_timeout(struct ev_timer *);
static void	stop(int);
static void	cleanup_runtime_dir(void);
static void	warn_unimplemented(const struct conf *);

static void
handle(poptContext pc, int c)
{
	(void)pc;
	if (c == 't')
		opt_test++;
}

void
defer_free(void *p)
{
	void	**n;
	size_t	  size;

	if (ngraveyard == graveyardsize) {
		size = graveyardsize ? graveyardsize * 2 : 64;
		if ((n = reallocarray(graveyard, size, sizeof(*n))) == NULL)
			fatal("reallocarray");
		graveyard = n;
		graveyardsize = size;
	}
	graveyard[ngraveyard++] = p;
}

/*
 * No -y and nothing installed: write the conf.d/ we were built with into a
 * private directory, to be read like any other configuration.
 */
static char *
embedded_config(char *dir, size_t size)
{
	char	path[PATH_MAX];
	FILE	*fp;
	size_t	 i;

	snprintf(dir, size, "/tmp/fpm-conf.XXXXXX");
	if (mkdtemp(dir) == NULL)
		fatal("unable to create %s", dir);
	for (i = 0; embed_conf[i].name != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, embed_conf[i].name);
		if (strchr(embed_conf[i].name, '/') != NULL) {
			char	sub[PATH_MAX];

			strlcpy(sub, path, sizeof(sub));
			(void)mkdir(dirname(sub), 0700);
		}
		if ((fp = fopen(path, "we")) == NULL ||
		    fputs(embed_conf[i].data, fp) == EOF || fclose(fp) == EOF)
			fatal("unable to write %s", path);
	}
	snprintf(path, sizeof(path), "%s/fpm.conf", dir);
	return (strdup(path));
}

static void
load_config(struct conf *c)
{
	char	 err[1024], dir[64] = "", path[PATH_MAX], *file;
	size_t	 i;

	if (opt_config != NULL)
		file = strdup(opt_config);
	else {
		snprintf(path, sizeof(path), "%s/fpm/fpm.conf", FPM_SYSCONFDIR);
		if (access(path, F_OK) == 0)
			file = strdup(path);
		else {
			file = embedded_config(dir, sizeof(dir));
			log_info("no %s: using the built-in configuration",
			    path);
		}
	}
	if (file == NULL)
		fatal("strdup");
	if (conf_load(c, file, opt_prefix, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		fatalx_code(errno == EINVAL ? FPM_EXIT_USAGE : FPM_EXIT_TEMP,
		    "FPM initialization failed");
	}
	if (dir[0] != '\0') {
		for (i = 0; embed_conf[i].name != NULL; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    embed_conf[i].name);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/pool.d", dir);
		rmdir(path);
		rmdir(dir);
	}
	for (i = 0; i < c->nwarnings; i++)
		log_warnx("%s", c->warnings[i]);
	free(file);
}

static void
setup_log(void)
{
	struct conf_global	*g = &fpmconf.global;

	log_setlevel((enum log_level)g->log_level);
	if (opts_verbose > 0)
		log_verbose(opts_verbose + 1);	/* -v: notice, -vv: debug */
	log_setlimit((size_t)g->log_limit);
	if (opt_stderr || g->error_log == NULL)
		return;
	if (strcmp(g->error_log, "syslog") == 0)
		log_open_syslog(g->syslog_ident, g->syslog_facility);
	else if (log_open_file(g->error_log) == -1)
		fatal("unable to open error_log %s", g->error_log);
}

static void
daemonize(void)
{
	int	fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(FPM_EXIT_OK);
	}
	if (setsid() == -1)
		fatal("setsid");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(FPM_EXIT_OK);
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

static void
stop(int mode)
{
	size_t	i;

	if (stopping == 2 || (stopping == 1 && mode == 1))
		return;
	stopping = mode;
	log_info(mode == 1 ? "Finishing ..." : "Terminating ...");
	conns_close_idle();
	pools_stop(mode == 1);
	for (i = 0; i < npools; i++)
		conn_dispatch_queue(&pools[i]);
	if (mode == 1 && fpmconf.global.process_control_timeout_ms > 0)
		ev_timer_set(&stop_timer, fpmconf.global.process_control_timeout_ms);
	else if (mode == 1)
		stop(2);
}

static void
on_stop_timeout(struct ev_timer *t)
{
	(void)t;
	log_warnx("process_control_timeout (%lld ms) reached: terminating "
	    "the workers still busy",
	    (long long)fpmconf.global.process_control_timeout_ms);
	stop(2);
}

static void
on_signal(struct ev_source *src, uint32_t events)
{
	struct signalfd_siginfo	si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			stop(2);
			break;
		case SIGQUIT:
			/* a second SIGQUIT hurries things up */
			stop(++nsigquit > 1 ? 2 : 1);
			break;
		case SIGUSR1:
			if (log_reopen() == -1)
				log_warn("unable to re-open the error log");
			else
				log_info("error log file re-opened");
			break;
		case SIGUSR2:
		case SIGHUP:
			/* BUGS in fpm-supervise(8): reload comes next */
			log_warnx("received SIG%s: reload is not supported "
			    "yet, keeping the current configuration",
			    sigabbrev_np((int)si.ssi_signo));
			break;
		default:
			break;
		}
	}
}

/*
 * Directives that parse but that this fpm-supervise does not act on yet:
 * said once at start (and by -t), so nobody relies on them unknowingly.
 */
static void
warn_unimplemented(const struct conf *c)
{
	const struct conf_pool	*p;
	size_t			 i;

#define UNIMPL(cond, pool, what) do {					\
	if (cond)							\
		log_warnx("%s%s%s'%s' is not implemented yet: ignored",	\
		    pool ? "[pool " : "", pool ? pool : "",		\
		    pool ? "] " : "", what);				\
} while (0)
	UNIMPL(c->global.emergency_restart_threshold > 0, NULL,
	    "emergency_restart_threshold");
	UNIMPL(c->global.process_max > 0, NULL, "process.max");
	UNIMPL(c->global.control != NULL, NULL, "control");
	for (i = 0; i < c->npools; i++) {
		p = &c->pools[i];
		UNIMPL(p->access_log != NULL, p->name, "access.log");
		UNIMPL(p->slowlog != NULL, p->name, "slowlog");
		UNIMPL(p->request_slowlog_timeout_ms > 0, p->name,
		    "request_slowlog_timeout");
		UNIMPL(p->request_terminate_timeout_ms > 0, p->name,
		    "request_terminate_timeout");
		UNIMPL(p->max_memory > 0, p->name, "pm.max_memory");
		UNIMPL(p->status_listen != NULL, p->name, "pm.status_listen");
		if (p->pm == CONF_PM_DYNAMIC)
			log_warnx("[pool %s] pm = dynamic does not scale yet: "
			    "running pm.start_servers (%d) workers", p->name,
			    p->start_servers);
		if (p->pm == CONF_PM_ONDEMAND)
			log_warnx("[pool %s] pm = ondemand starts "
			    "pm.max_children (%d) workers at the first request "
			    "and does not retire idle ones yet", p->name,
			    p->max_children);
	}
#undef UNIMPL
}

static void
cleanup_runtime_dir(void)
{
	if (runtime_dir[0] != '\0' && rmdir(runtime_dir) == -1 &&
	    errno != ENOENT)
		log_warn("unable to remove %s", runtime_dir);
}

int
main(int argc, char *argv[])
{
	struct pidfh	*pfh = NULL;
	poptContext	 pc;
	sigset_t	 set;
	const char	*pidpath, *base;
	pid_t		 other;
	size_t		 i;

	log_init(getprogname(), LOG_STYLE_FPM);
	pc = opts_parse(argc, argv, options, "[OPTION...]", handle);
	if (poptPeekArg(pc) != NULL)
		fatalx_usage("unexpected argument '%s'", poptPeekArg(pc));
	if (opt_daemonize && opt_foreground)
		fatalx_usage("-D and -F don't mix");
	if (opts_verbose > 0)
		log_verbose(opts_verbose + 1);

	load_config(&fpmconf);
	warn_unimplemented(&fpmconf);
	if (opt_test) {
		if (opt_test > 1)
			conf_dump(&fpmconf, stderr);
		log_info("configuration file %s test is successful",
		    fpmconf.global.file);
		/* -t is asked a question: the answer goes out at any level */
		if (log_getlevel() > LOG_LVL_NOTICE)
			fprintf(stderr, "%s: configuration file %s test is "
			    "successful\n", getprogname(), fpmconf.global.file);
		conf_free(&fpmconf);
		poptFreeContext(pc);
		return (FPM_EXIT_OK);
	}
	setup_log();

	pidpath = opt_pid != NULL ? opt_pid : fpmconf.global.pid;
	if (pidpath != NULL &&
	    (pfh = pidfile_open(pidpath, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx_code(FPM_EXIT_TEMP, "another fpm-supervise "
			    "(pid %d) holds %s", (int)other, pidpath);
		fatal("unable to open pid file %s", pidpath);
	}
	if (opt_daemonize || (fpmconf.global.daemonize && !opt_foreground)) {
		if (fpmconf.global.error_log == NULL && !opt_stderr)
			log_open_syslog(fpmconf.global.syslog_ident,
			    fpmconf.global.syslog_facility);
		daemonize();
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

	/* The workers' private sockets live in a directory only we enter. */
	base = fpmconf.global.runtime_dir;
	if (base == NULL)
		base = getenv("XDG_RUNTIME_DIR");
	if (base == NULL || access(base, W_OK) == -1)
		base = "/tmp";
	if ((size_t)snprintf(runtime_dir, sizeof(runtime_dir),
	    "%s/fpm.XXXXXX", base) >= sizeof(runtime_dir))
		fatalx("runtime_dir %s: path too long", base);
	if (mkdtemp(runtime_dir) == NULL)
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
	sock_inherit_init();
	npools = fpmconf.npools;
	if ((pools = calloc(npools, sizeof(*pools))) == NULL)
		fatal("calloc");
	for (i = 0; i < npools; i++)
		pool_setup(&pools[i], &fpmconf.pools[i], opt_root);
	sock_inherit_close_unused();
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("unable to write the pid file");
	log_info("fpm is running, pid %d", (int)getpid());
	for (i = 0; i < npools; i++)
		pool_start(&pools[i]);
	log_info("ready to handle connections");
	poptFreeContext(pc);

	while (!stopping || pools_alive() > 0 || conns_active() > 0) {
		if (ev_run_once() == -1)
			fatal("epoll_wait");
		for (i = 0; i < ngraveyard; i++)
			free(graveyard[i]);
		ngraveyard = 0;
	}
	for (i = 0; i < npools; i++) {
		pool_close_listener(&pools[i]);
		spawn_env_free(pools[i].envp);
		conf_argv_free(pools[i].argv);
		spawn_free(&pools[i].spawn);
	}
	cleanup_runtime_dir();
	log_info("exiting, bye-bye!");
	if (pfh != NULL)
		pidfile_remove(pfh);
	free(pools);
	free(graveyard);
	conf_free(&fpmconf);
	return (FPM_EXIT_OK);
}
