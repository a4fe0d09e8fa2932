/* SPDX-License-Identifier: ISC */
/* Unit tests of libcommon/conf: ini dialect, includes, errors, argv, dump. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "libcommon/conf.h"

#define MINPOOL	"[www]\nlisten = 127.0.0.1:9000\npm = static\n" \
		"pm.max_children = 5\ncommand = /usr/bin/php-cgi\n"

static char	 tmp[256];
static char	 err[1024];
static int	 ntest, nfail;

static void	 ok(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 put(const char *, const char *);
static int	 load(struct conf *, const char *, const char *);
static void	 expect_err(const char *, const char *, int, const char *);
static void	 expect_errv(const char *, const char *, const char *);
static int	 streq(const char *, const char *);
static char	*dump(const struct conf *);
static void	 test_minimal(void);
static void	 test_types(void);
static void	 test_quotes(void);
static void	 test_env(void);
static void	 test_pool_var(void);
static void	 test_include(void);
static void	 test_reopen(void);
static void	 test_errors(void);
static void	 test_validation(void);
static void	 test_bool(void);
static void	 test_argv(void);
static void	 test_dump(void);
static void	 test_equal(void);
static void	 test_full(void);

static void
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond && err[0] != '\0')
		printf("# err: %s\n", err);
}

/* Write tmp/rel, creating its directories. */
static void
put(const char *rel, const char *text)
{
	char	 path[PATH_MAX * 2], *slash;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	for (slash = path + strlen(tmp) + 1; (slash = strchr(slash, '/')) !=
	    NULL; slash++) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

static int
load(struct conf *c, const char *rel, const char *text)
{
	char	path[PATH_MAX * 2];

	if (text != NULL)
		put(rel, text);
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	err[0] = '\0';
	return (conf_load(c, path, NULL, err, sizeof(err)));
}

/* Loading text must fail with exactly "[TMP/t.conf:LINE] msg". */
static void
expect_err(const char *what, const char *text, int line, const char *msg)
{
	struct conf	c;
	char		want[2048];
	int		r;

	snprintf(want, sizeof(want), "[%s/t.conf:%d] %s", tmp, line, msg);
	r = load(&c, "t.conf", text);
	ok(r == -1 && errno == EINVAL && strcmp(err, want) == 0 &&
	    c.npools == 0, "error: %s", what);
	if (r == -1 && strcmp(err, want) != 0)
		printf("#  got: %s\n# want: %s\n", err, want);
	if (r == 0)
		conf_free(&c);
}

/* The same for messages without the temp dir prefix (whole text given). */
static void
expect_errv(const char *what, const char *text, const char *want)
{
	struct conf	c;
	int		r;

	r = load(&c, "t.conf", text);
	ok(r == -1 && strcmp(err, want) == 0, "error: %s", what);
	if (r == -1 && strcmp(err, want) != 0)
		printf("#  got: %s\n# want: %s\n", err, want);
	if (r == 0)
		conf_free(&c);
}

static int
streq(const char *a, const char *b)
{
	return (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static char *
dump(const struct conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return (NULL);
	conf_dump(c, fp);
	fclose(fp);
	return (buf);
}

static void
test_minimal(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	struct conf_global	*g = &c.global;
	int			 r;

	r = load(&c, "t.conf", MINPOOL);
	ok(r == 0 && c.npools == 1, "minimal config loads");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(streq(p->name, "www") && p->line == 1 && streq(p->listen,
	    "127.0.0.1:9000") && p->pm == CONF_PM_STATIC &&
	    p->max_children == 5, "minimal: pool fields");
	ok(p->argv != NULL && streq(p->argv[0], "/usr/bin/php-cgi") &&
	    p->argv[1] == NULL, "minimal: command argv");
	ok(p->listen_backlog == -1 && p->listen_mode == 0660 &&
	    p->max_spawn_rate == 32 && p->process_idle_timeout_ms == 10000 &&
	    p->request_slowlog_trace_depth == 20 &&
	    !p->catch_workers_output && p->decorate_workers_output &&
	    p->clear_env && !p->priority_set && !p->rlimit_files_set,
	    "minimal: PHP-FPM pool defaults");
	ok(streq(p->access_format, "%R - %u %t \"%m %r\" %s") &&
	    streq(p->ping_response, "pong") && p->limit_extensions != NULL &&
	    streq(p->limit_extensions[0], ".php") &&
	    streq(p->limit_extensions[1], ".phar") &&
	    p->limit_extensions[2] == NULL, "minimal: string defaults");
	ok(p->queue_max_length == 1024 && p->queue_timeout_ms == 30000 &&
	    p->request_buffer_size == 65536 &&
	    streq(p->request_spool_dir, "/tmp") && p->request_buffering &&
	    p->listen_keepalive_timeout_ms == 60000 && p->max_memory == 0 &&
	    p->request_max_params_size == 65536 &&
	    p->request_max_body_size == 1024ULL * 1024 * 1024,
	    "minimal: our additions");
	ok(g->error_log == NULL && streq(g->syslog_ident, "fpm") &&
	    g->syslog_facility == LOG_DAEMON && g->log_level ==
	    CONF_LOG_NOTICE && g->log_limit == 1024 && !g->daemonize &&
	    g->process_control_timeout_ms == 10000 && g->control == NULL &&
	    g->control_mode == 0660 && g->runtime_dir == NULL &&
	    streq(g->prefix, tmp), "minimal: global defaults");
	ok(c.nwarnings == 0, "minimal: no warnings");
	conf_free(&c);
}

static void
test_types(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	int			 r;

	r = load(&c, "t.conf",
	    "[global]\n"
	    "log_level = WARN\n"
	    "syslog.facility = local3\n"
	    "emergency_restart_interval = 2m\n"
	    "process_control_timeout = 500ms\n"
	    "systemd_interval = 15\n"
	    "rlimit_core = unlimited\n"
	    "process.priority = -19\n"
	    "control.mode = 600\n"
	    "[www]\n"
	    "listen = /run/www.sock\n"
	    "pm = dynamic\n"
	    "pm.max_children = 10\n"
	    "pm.min_spare_servers = 2\n"
	    "pm.max_spare_servers = 4\n"
	    "pm.start_servers = 3\n"
	    "pm.process_idle_timeout = 1h\n"
	    "request_terminate_timeout = 1d\n"
	    "request.buffer_size = 2m\n"
	    "pm.max_memory = 1g\n"
	    "request.max_params_size = 16k\n"
	    "rlimit_files = 4096\n"
	    "listen.mode = 0666\n"
	    "listen.backlog = 511\n"
	    "catch_workers_output = yes\n"
	    "clear_env = off\n"
	    "process.priority = 20\n"
	    "command = /usr/bin/php-cgi\n");
	ok(r == 0, "value types load");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(c.global.log_level == CONF_LOG_WARNING &&
	    c.global.syslog_facility == LOG_LOCAL3, "enum values");
	ok(c.global.emergency_restart_interval_ms == 120000 &&
	    c.global.process_control_timeout_ms == 500 &&
	    c.global.systemd_interval_ms == 15000 &&
	    p->process_idle_timeout_ms == 3600000 &&
	    p->request_terminate_timeout_ms == 86400000LL,
	    "time values in ms (m, ms, bare seconds, h, d)");
	ok(p->request_buffer_size == 2 * 1024 * 1024 &&
	    p->max_memory == 1024ULL * 1024 * 1024 &&
	    p->request_max_params_size == 16384, "size values");
	ok(c.global.rlimit_core_set && c.global.rlimit_core == UINT64_MAX &&
	    p->rlimit_files_set && p->rlimit_files == 4096, "rlimits");
	ok(c.global.priority_set && c.global.priority == -19 &&
	    p->priority_set && p->priority == 20, "priorities");
	ok(c.global.control_mode == 0600 && p->listen_mode == 0666 &&
	    p->listen_backlog == 511, "modes and ints");
	ok(p->catch_workers_output == 1 && p->clear_env == 0, "booleans");
	ok(p->pm == CONF_PM_DYNAMIC && p->start_servers == 3 &&
	    c.nwarnings == 0, "dynamic with start_servers set");
	conf_free(&c);
}

static void
test_quotes(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	int			 r;

	r = load(&c, "t.conf", MINPOOL
	    "ping.path = /ping ; a comment\n"
	    "ping.response = \"a ; b\"\n"
	    "access.format = \"%R \\\"%m %r\\\" %s\"\n"
	    "access.log = '/var/log/${NOT_EXPANDED}.log'\n"
	    "slowlog = /var/log/a\"b c\"d.log   \n"
	    "pm.status_path = \"/status\"    ; comment\n"
	    "  user   =   nobody  \n"
	    "\t# a hash comment\n"
	    "group = \"\\\\x\\$y\"\n");
	ok(r == 0, "quoted values load");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(streq(p->ping_path, "/ping"), "inline ';' comment cut");
	ok(streq(p->ping_response, "a ; b"), "';' inside double quotes kept");
	ok(streq(p->access_format, "%R \"%m %r\" %s"),
	    "\\\" inside double quotes");
	ok(streq(p->access_log, "/var/log/${NOT_EXPANDED}.log"),
	    "single quotes are literal");
	ok(streq(p->slowlog, "/var/log/ab cd.log"),
	    "quotes inside a value removed, trailing blanks dropped");
	ok(streq(p->status_path, "/status") && streq(p->user, "nobody"),
	    "quoted value with comment; blanks around name and value");
	ok(streq(p->group, "\\x$y"), "\\\\ and \\$ escapes");
	conf_free(&c);
	expect_err("unterminated quote", MINPOOL "user = \"abc\n", 6,
	    "unterminated quoted string");
}

static void
test_env(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	int			 r;

	setenv("FPM_T_PORT", "9001", 1);
	setenv("FPM_T_YES", "yes", 1);
	setenv("FPM_T_SUP", "from-supervisor", 1);
	setenv("FPM_T_EMPTY", "", 1);
	unsetenv("FPM_T_UNSET");
	r = load(&c, "t.conf",
	    "[www]\n"
	    "listen = 127.0.0.1:${FPM_T_PORT}\n"
	    "pm = static\n"
	    "pm.max_children = 1\n"
	    "command = /bin/worker ${FPM_T_PORT}\n"
	    "user = a${FPM_T_UNSET}b\n"
	    "group = \"${FPM_T_PORT}\"\n"
	    "catch_workers_output = ${FPM_T_YES}\n"
	    "ping.response = ${FPM_T_UNSET:-dflt}\n"
	    "listen.owner = ${FPM_T_EMPTY:-dflt2}\n"
	    "env[A] = $FPM_T_SUP\n"
	    "env[B] = $FPM_T_UNSET\n"
	    "env[C] = plain\n"
	    "env[C] = again\n");
	ok(r == 0, "${ENV} config loads");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(streq(p->listen, "127.0.0.1:9001") && streq(p->argv[1], "9001"),
	    "${VAR} expanded (also in command)");
	ok(streq(p->user, "ab"), "unset ${VAR} is empty");
	ok(streq(p->group, "9001"), "${VAR} inside double quotes");
	ok(p->catch_workers_output == 1, "boolean from ${VAR} (GH-13563)");
	ok(streq(p->ping_response, "dflt") && streq(p->listen_owner, "dflt2"),
	    "${VAR:-default}");
	ok(p->nenv == 3 && streq(p->env[0].key, "A") &&
	    streq(p->env[0].value, "from-supervisor") &&
	    streq(p->env[1].value, "") && streq(p->env[2].value, "again"),
	    "env[]: $VAR from the supervisor, last wins");
	conf_free(&c);
}

static void
test_pool_var(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	int			 r;

	r = load(&c, "t.conf",
	    "[blog]\n"
	    "listen = /run/fpm/$pool.sock\n"
	    "pm = static\n"
	    "pm.max_children = 1\n"
	    "command = /usr/bin/php-cgi -d x=$pool\n"
	    "slowlog = /var/log/$pool.slow.$pool\n"
	    "env[POOL] = $pool\n"
	    "php_value[session.save_path] = /var/lib/php/$pool\n");
	ok(r == 0, "$pool config loads");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(streq(p->listen, "/run/fpm/blog.sock") &&
	    streq(p->slowlog, "/var/log/blog.slow.blog") &&
	    streq(p->argv[2], "x=blog"), "$pool in string directives");
	ok(streq(p->env[0].value, "blog") &&
	    streq(p->php[0].value, "/var/lib/php/blog"),
	    "$pool in env[] and php_value[]");
	conf_free(&c);
	expect_err("$pool in [global]", "pid = /run/$pool.pid\n" MINPOOL, 1,
	    "Can't use '$pool' when the pool is not defined");
}

static void
test_include(void)
{
	struct conf	 c;
	char		 want[2048], path[PATH_MAX * 2];
	int		 r;

	put("inc/pool.d/b.conf", "[b]\nlisten = 9002\npm = static\n"
	    "pm.max_children = 1\ncommand = /bin/b\n");
	put("inc/pool.d/a.conf", "[a]\nlisten = 9001\npm = static\n"
	    "pm.max_children = 1\ncommand = /bin/a\n"
	    "include = more/*.conf\n");
	/* relative patterns are relative to the prefix, not the file */
	put("inc/more/c.conf", "[c]\nlisten = 9003\npm = static\n"
	    "pm.max_children = 1\ncommand = /bin/c\n");
	snprintf(path, sizeof(path), "%s/inc/pool.d/dir.conf", tmp);
	mkdir(path, 0755);
	r = load(&c, "inc/main.conf", "[global]\nlog_level = debug\n"
	    "include = pool.d/*.conf\n"
	    "include = nothing/*.conf\n");
	ok(r == 0 && c.npools == 3, "relative and nested includes load");
	if (r == 0) {
		ok(streq(c.pools[0].name, "a") && streq(c.pools[1].name, "c") &&
		    streq(c.pools[2].name, "b"),
		    "includes sorted, nested in place, directories skipped");
		snprintf(path, sizeof(path), "%s/inc/pool.d/a.conf", tmp);
		ok(streq(c.pools[0].file, path) && c.pools[0].line == 1,
		    "pool remembers its file and line");
		snprintf(want, sizeof(want), "Nothing matches the include "
		    "pattern '%s/inc/nothing/*.conf' from %s/inc/main.conf "
		    "at line 4.", tmp, tmp);
		ok(c.nwarnings == 1 && streq(c.warnings[0], want),
		    "nothing matches: a warning");
		if (c.nwarnings > 0 && !streq(c.warnings[0], want))
			printf("#  got: %s\n# want: %s\n", c.warnings[0], want);
		conf_free(&c);
	}

	/* prefix given: relative patterns resolve against it */
	put("inc2/main.conf", "include = pool.d/*.conf\n");
	snprintf(path, sizeof(path), "%s/inc2/main.conf", tmp);
	snprintf(want, sizeof(want), "%s/inc", tmp);
	r = conf_load(&c, path, want, err, sizeof(err));
	ok(r == 0 && c.npools == 3 && streq(c.global.prefix, want),
	    "include relative to the given prefix");
	if (r == 0)
		conf_free(&c);

	/* a file including itself hits the nesting limit */
	put("loop.conf", "; loop\ninclude = loop.conf\n");
	snprintf(want, sizeof(want), "[%s/loop.conf:2] failed to include more "
	    "than 5 files recursively", tmp);
	r = load(&c, "loop.conf", NULL);
	ok(r == -1 && errno == EINVAL && streq(err, want),
	    "nesting limit of 5");

	/* depth 5 exactly is fine */
	put("d/d1.conf", "include = d2.conf\n");
	put("d/d2.conf", "include = d3.conf\n");
	put("d/d3.conf", "include = d4.conf\n");
	put("d/d4.conf", MINPOOL);
	r = load(&c, "d/main.conf", "include = d1.conf\n");
	ok(r == 0 && c.npools == 1, "five files deep is allowed");
	if (r == 0)
		conf_free(&c);

	/* an error inside an included file names that file */
	put("e/bad.conf", "[x]\nbogus = 1\n");
	snprintf(want, sizeof(want), "[%s/e/bad.conf:2] unknown entry 'bogus'",
	    tmp);
	r = load(&c, "e/main.conf", "include = bad.conf\n");
	ok(r == -1 && streq(err, want), "error location in an included file");

	/*
	 * A check made after parsing names the directive's own line, in
	 * the file that set it, not the line of the pool's section.
	 */
	put("w/more.conf", "; more\n[www]\npm.max_children = 0\n");
	snprintf(want, sizeof(want), "[%s/w/more.conf:3] [pool www] "
	    "pm.max_children must be a positive value", tmp);
	r = load(&c, "w/main.conf", MINPOOL "include = more.conf\n");
	ok(r == -1 && streq(err, want), "a pool check names its directive's "
	    "file and line");
	if (r == -1 && !streq(err, want))
		printf("#  got: %s\n# want: %s\n", err, want);
}

static void
test_where(void)
{
	struct conf	 c;
	const char	*file;
	char		 path[PATH_MAX * 2];
	int		 line, r;

	put("wh/p.conf", "\n[www]\nuser = nobody\n");
	r = load(&c, "wh/main.conf", MINPOOL "include = p.conf\n"
	    "[www]\nuser = daemon\n");
	ok(r == 0, "where: loads");
	if (r != 0)
		return;
	snprintf(path, sizeof(path), "%s/wh/main.conf", tmp);
	conf_pool_where(&c.pools[0], "user", &file, &line);
	ok(streq(file, path) && line == 8, "where: the last setting wins");
	conf_pool_where(&c.pools[0], "pm.max_children", &file, &line);
	ok(streq(file, path) && line == 4, "where: a directive's line");
	conf_pool_where(&c.pools[0], "group", &file, &line);
	ok(streq(file, path) && line == 1, "where: unset is the section");
	conf_pool_where(&c.pools[0], "bogus", &file, &line);
	ok(streq(file, path) && line == 1, "where: unknown is the section");
	conf_free(&c);

	r = load(&c, "wh/main.conf", MINPOOL "include = p.conf\n");
	snprintf(path, sizeof(path), "%s/wh/p.conf", tmp);
	conf_pool_where(&c.pools[0], "user", &file, &line);
	ok(r == 0 && streq(file, path) && line == 3,
	    "where: the included file's name outlives its glob");
	if (r == 0)
		conf_free(&c);
}

static void
test_reopen(void)
{
	struct conf	 c;
	int		 r;

	r = load(&c, "t.conf", MINPOOL
	    "[other]\nlisten = 9001\npm = static\npm.max_children = 1\n"
	    "command = /bin/x\n"
	    "[WWW]\npm.max_children = 7\n"
	    "[GLOBAL]\nlog_limit = 2048\n");
	ok(r == 0 && c.npools == 2 && c.pools[0].max_children == 7 &&
	    c.global.log_limit == 2048 && conf_pool_find(&c, "Other") ==
	    &c.pools[1], "re-opened pool (case-insensitive) and [GLOBAL]");
	if (r == 0)
		conf_free(&c);
}

static void
test_errors(void)
{
	struct conf	c;
	char		want[2048];
	int		r;

	expect_err("unknown entry", MINPOOL "foo = bar\n", 6,
	    "unknown entry 'foo'");
	expect_err("pool directive in [global]", "pm = static\n", 1,
	    "unknown entry 'pm'. It is a pool directive, not allowed in "
	    "[global].");
	expect_err("array in [global]", "env[X] = y\n", 1,
	    "Array are not allowed in the global section");
	expect_err("unknown array", MINPOOL "foo[x] = y\n", 6,
	    "unknown directive 'foo'");
	expect_err("empty env value", MINPOOL "env[X] =\n", 6, "empty value");
	expect_err("env without a key", MINPOOL "env[] = x\n", 6,
	    "You must provide a key for field 'env'");
	expect_err("php_value without a key", MINPOOL "php_value[] = 1\n", 6,
	    "You must provide a key for field 'php_value'");
	expect_err("suppress_path key", MINPOOL
	    "access.suppress_path[k] = /x\n", 6,
	    "Keys provided to field 'access.suppress_path' are ignored. "
	    "Write access.suppress_path[] = /x.");
	expect_err("suppress_path value", MINPOOL
	    "access.suppress_path[] = x\n", 6,
	    "Values provided to field 'access.suppress_path' must begin with "
	    "'/'. 'x' does not.");
	expect_err("syntax: no '='", MINPOOL "just words\n", 6,
	    "syntax error: expected 'name = value'");
	expect_err("syntax: no ']'", "[www\n", 1, "syntax error: missing ']'");
	expect_err("empty section", "[ ]\n", 1, "empty section name");
	expect_err("bad pool name", "[a/b]\n", 1, "invalid pool name 'a/b'");
	expect_err("not a number", MINPOOL "pm.max_requests = 12x\n", 6,
	    "unable to parse value for entry 'pm.max_requests': is not a "
	    "valid number (greater or equal than zero)");
	expect_err("negative number", MINPOOL "pm.max_requests = -1\n", 6,
	    "unable to parse value for entry 'pm.max_requests': must not be "
	    "less than 0");
	expect_err("bad time", MINPOOL "request_terminate_timeout = 5x\n", 6,
	    "unable to parse value for entry 'request_terminate_timeout': "
	    "unknown suffix used in time value. A time is a number with an "
	    "optional ms, s, m, h or d suffix.");
	expect_err("bad size", MINPOOL "pm.max_memory = lots\n", 6,
	    "unable to parse value for entry 'pm.max_memory': invalid size "
	    "value. A size is a number with an optional k, m or g suffix.");
	expect_err("bad mode", MINPOOL "listen.mode = 0999\n", 6,
	    "unable to parse value for entry 'listen.mode': invalid mode "
	    "value. A mode is an octal number, as 0660.");
	expect_err("bad rlimit", MINPOOL "rlimit_core = lots\n", 6,
	    "unable to parse value for entry 'rlimit_core': must be greater "
	    "than zero or 'unlimited'");
	expect_err("bad pm", "[www]\npm = lazy\n", 2,
	    "unable to parse value for entry 'pm': invalid process manager "
	    "(static, dynamic or ondemand)");
	expect_err("bad log_level", "log_level = loud\n", 1,
	    "unable to parse value for entry 'log_level': invalid value for "
	    "'log_level'. Use debug, notice, warning, error or alert.");
	expect_err("bad facility", "syslog.facility = local9\n", 1,
	    "unable to parse value for entry 'syslog.facility': invalid "
	    "value. Use a syslog facility: daemon, user, local0 to local7, "
	    "...");
	expect_err("log_limit >= 512", "log_limit = 100\n", 1,
	    "log_limit must be greater than 512");
	expect_err("process.max >= 0", "process.max = -1\n", 1,
	    "unable to parse value for entry 'process.max': must not be less "
	    "than 0");
	/* beyond a long long, strtoll's ERANGE: still "too large" */
	expect_err("overflow", MINPOOL
	    "pm.max_requests = 99999999999999999999\n", 6,
	    "unable to parse value for entry 'pm.max_requests': is too large. "
	    "The most is 2147483647.");
	expect_err("beyond int", MINPOOL "pm.max_requests = 4294967296\n", 6,
	    "unable to parse value for entry 'pm.max_requests': is too large. "
	    "The most is 2147483647.");
	expect_err("negative overflow", MINPOOL
	    "pm.max_requests = -99999999999999999999\n", 6,
	    "unable to parse value for entry 'pm.max_requests': must not be "
	    "less than 0");
	expect_err("time overflow", MINPOOL
	    "request_terminate_timeout = 99999999999999999999s\n", 6,
	    "unable to parse value for entry 'request_terminate_timeout': is "
	    "too large. The most is 36500d.");
	expect_err("time beyond 100 years", MINPOOL
	    "request_terminate_timeout = 36501d\n", 6,
	    "unable to parse value for entry 'request_terminate_timeout': is "
	    "too large. The most is 36500d.");
	expect_err("negative time", MINPOOL "queue.timeout = -1s\n", 6,
	    "unable to parse value for entry 'queue.timeout': must not be "
	    "less than 0");
	expect_err("size overflow", MINPOOL
	    "pm.max_memory = 99999999999999999999k\n", 6,
	    "unable to parse value for entry 'pm.max_memory': is too large");
	expect_err("rlimit overflow", MINPOOL
	    "rlimit_files = 99999999999999999999\n", 6,
	    "unable to parse value for entry 'rlimit_files': is too large");
	expect_err("mode overflow", MINPOOL "listen.mode = 017777\n", 6,
	    "unable to parse value for entry 'listen.mode': is too large. "
	    "The most is 07777.");
	expect_err("priority range", MINPOOL "process.priority = 30\n", 6,
	    "[pool www] process.priority must be included into [-19,20]");
	expect_err("global priority range", "process.priority = -20\n", 1,
	    "process.priority must be included into [-19,20]");
	expect_err("events.mechanism", "events.mechanism = kqueue\n", 1,
	    "event mechanism 'kqueue' is not available on this system. fpm "
	    "uses epoll.");
	expect_err("listen.setfib", MINPOOL "listen.setfib = 2\n", 6,
	    "'listen.setfib' is FreeBSD-only and not supported");
	expect_err("apparmor_hat", MINPOOL "apparmor_hat = x\n", 6,
	    "'apparmor_hat' is not supported");
	expect_err("access.format token", MINPOOL "access.format = %R %z\n", 6,
	    "wrong format for access.format '%R %z': Invalid token in the "
	    "access.format (%z)");
	expect_err("access.format embrace", MINPOOL "access.format = %{x\n", 6,
	    "wrong format for access.format '%{x': missing closing embrace in "
	    "the access.format");
	expect_err("access.format modifier", MINPOOL
	    "access.format = %{hours}d\n", 6, "wrong format for access.format "
	    "'%{hours}d': only 'seconds', 'milli', 'milliseconds', 'micro' or "
	    "'microseconds' are allowed as a modifier for %d ('hours')");
	expect_err("access.format %e", MINPOOL "access.format = %e\n", 6,
	    "wrong format for access.format '%e': the name of the environment "
	    "variable must be set between embraces for %e");
	expect_err("access.format embrace on %s", MINPOOL
	    "access.format = %{x}s\n", 6, "wrong format for access.format "
	    "'%{x}s': embrace is not allowed for modifier %s");
	expect_err("command quote", MINPOOL "command = /bin/sh -c 'x\n", 6,
	    "invalid command '/bin/sh -c 'x': unterminated single quote");
	expect_err("empty command", MINPOOL "command =\n", 6,
	    "invalid command '': empty command");
	expect_err("bad boolean", MINPOOL "clear_env = maybe\n", 6,
	    "unable to parse value for entry 'clear_env': invalid boolean "
	    "value. Use yes/no, on/off, true/false or 1/0.");
	expect_err("bad php_flag", MINPOOL "php_flag[x] = maybe\n", 6,
	    "error while parsing 'php_flag[x]' : invalid boolean value. "
	    "'maybe' is none of yes/no, on/off, true/false, 1/0.");
	expect_err("unterminated ${", MINPOOL "user = ${X\n", 6,
	    "unterminated '${' in value");

	snprintf(want, sizeof(want), "cannot open %s/none.conf: No such file "
	    "or directory", tmp);
	r = load(&c, "none.conf", NULL);
	ok(r == -1 && errno == ENOENT && streq(err, want),
	    "missing file: errno ENOENT and message");
	snprintf(want, sizeof(want), "%s/dangling.conf", tmp);
	if (symlink("nowhere", want) == -1)
		perror(want);
	snprintf(want, sizeof(want), "[%s/t.conf:1] cannot open "
	    "%s/dangling.conf: No such file or directory", tmp, tmp);
	expect_errv("included file cannot be opened", "include = dangl*.conf\n",
	    want);
	snprintf(want, sizeof(want), "No pool defined. at least one pool "
	    "section must be specified in config file. %s/t.conf has none.",
	    tmp);
	expect_errv("no pool", "[global]\n", want);
}

static void
test_validation(void)
{
	struct conf	c;
	char		*path;
	int		r;

	expect_err("listen required", "\n[www]\npm = static\n"
	    "pm.max_children = 1\ncommand = /bin/x\n", 2,
	    "[pool www] no listen address have been defined!");
	/* without command, a php-cgi on PATH; none there: an error */
	path = strdup(getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", "/nonexistent", 1);
	expect_err("command or php-cgi", "[www]\nlisten = 9000\npm = static\n"
	    "pm.max_children = 1\n", 1, "[pool www] 'command' is not set "
	    "and no php-cgi is on PATH: set command to the worker program");
	setenv("PATH", path, 1);
	free(path);
	expect_err("pm required", "[www]\nlisten = 9000\n"
	    "pm.max_children = 1\ncommand = /bin/x\n", 1,
	    "[pool www] the process manager is missing (static, dynamic or "
	    "ondemand)");
	expect_err("max_children required", "[www]\nlisten = 9000\n"
	    "pm = static\ncommand = /bin/x\n", 1,
	    "[pool www] pm.max_children must be a positive value");
	expect_err("min_spare > max_spare", "[www]\nlisten = 9000\n"
	    "pm = dynamic\npm.max_children = 10\npm.min_spare_servers = 5\n"
	    "pm.max_spare_servers = 3\ncommand = /bin/x\n", 6,
	    "[pool www] pm.max_spare_servers(3) must not be less than "
	    "pm.min_spare_servers(5)");
	expect_err("spare > max_children", "[www]\nlisten = 9000\n"
	    "pm = dynamic\npm.max_children = 2\npm.min_spare_servers = 1\n"
	    "pm.max_spare_servers = 3\ncommand = /bin/x\n", 6,
	    "[pool www] pm.min_spare_servers(1) and pm.max_spare_servers(3) "
	    "cannot be greater than pm.max_children(2)");
	expect_err("min_spare required", "[www]\nlisten = 9000\n"
	    "pm = dynamic\npm.max_children = 2\ncommand = /bin/x\n", 1,
	    "[pool www] pm.min_spare_servers(0) must be a positive value");
	expect_err("start_servers range", "[www]\nlisten = 9000\n"
	    "pm = dynamic\npm.max_children = 9\npm.min_spare_servers = 2\n"
	    "pm.max_spare_servers = 4\npm.start_servers = 5\n"
	    "command = /bin/x\n", 7, "[pool www] pm.start_servers(5) must "
	    "not be less than pm.min_spare_servers(2) and not greater than "
	    "pm.max_spare_servers(4)");
	expect_err("ondemand idle timeout", "[www]\nlisten = 9000\n"
	    "pm = ondemand\npm.max_children = 2\npm.process_idle_timeout = 0\n"
	    "command = /bin/x\n", 5, "[pool www] pm.process_idle_timeout(0s) "
	    "must be greater than 0s");
	expect_err("status path /", MINPOOL "pm.status_path = status\n", 6,
	    "[pool www] the status path 'status' must start with a '/'");
	expect_err("status path chars", MINPOOL "pm.status_path = /st@t\n", 6,
	    "[pool www] the status path '/st@t' must contain only the "
	    "following characters '[alphanum]/_-.~'");
	expect_err("ping path short", MINPOOL "ping.path = /\n", 6,
	    "[pool www] the ping path '/' is not long enough");
	expect_err("slowlog required", MINPOOL
	    "request_slowlog_timeout = 5s\n", 6, "[pool www] 'slowlog' must "
	    "be specified for use with 'request_slowlog_timeout'");
	expect_err("slowlog <= terminate", MINPOOL "slowlog = /tmp/s\n"
	    "request_slowlog_timeout = 5s\nrequest_terminate_timeout = 2s\n",
	    7, "[pool www] 'request_slowlog_timeout' (5) can't be greater "
	    "than 'request_terminate_timeout' (2)");
	expect_err("php_value for fcgiwrap", "[www]\nlisten = 9000\n"
	    "pm = static\npm.max_children = 1\n"
	    "command = /usr/sbin/fcgiwrap -f\nphp_value[memory_limit] = 1G\n",
	    6, "[pool www] php_value[memory_limit] is only for php-cgi workers "
	    "(command is '/usr/sbin/fcgiwrap')");
	expect_err("shared listen", MINPOOL "[b]\nlisten = 127.0.0.1:9000\n"
	    "pm = static\npm.max_children = 1\ncommand = /bin/x\n", 7,
	    "[pool b] unable to set listen address as it's already used in "
	    "another pool 'www'");
	expect_err("status_listen on a pool's listen", MINPOOL
	    "[b]\nlisten = 9001\npm.status_listen = 127.0.0.1:9000\n"
	    "pm = static\npm.max_children = 1\ncommand = /bin/x\n", 8,
	    "[pool b] unable to set listen address as it's already used in "
	    "another pool 'www'");
	expect_err("allowed_clients", MINPOOL
	    "listen.allowed_clients = 127.0.0.1, ::1,10.0.0.300\n", 6,
	    "[pool www] Wrong IP address '10.0.0.300' in "
	    "listen.allowed_clients");
	expect_err("bad listen port", "[www]\nlisten = 127.0.0.1:99999\n"
	    "pm = static\npm.max_children = 1\ncommand = /bin/x\n", 2,
	    "invalid port value '99999'. A port is 1 to 65535.");
	expect_err("bad bare port", "[www]\nlisten = 69002\n"
	    "pm = static\npm.max_children = 1\ncommand = /bin/x\n", 2,
	    "invalid port value '69002'. A port is 1 to 65535.");
	expect_err("bad listen host", "[www]\nlisten = 10.0.0.300:9000\n"
	    "pm = static\npm.max_children = 1\ncommand = /bin/x\n", 2,
	    "[pool www] invalid listen address '10.0.0.300:9000'. The host is "
	    "neither an IPv4 nor a [IPv6] address.");
	expect_err("ping path chars", MINPOOL "ping.path = /p*ng\n", 6,
	    "[pool www] the ping path '/p*ng' must contain only the following "
	    "characters '[alphanum]/_-.~'");

	r = load(&c, "t.conf", "[www]\nlisten = 9000\npm = static\n"
	    "pm.max_children = 1\ncommand = php-cgi8.2\n"
	    "php_admin_value[disable_functions] =\nping.path = /~ping\n");
	ok(r == 0 && c.pools[0].nphp == 1 && streq(c.pools[0].php[0].value,
	    "") && streq(c.pools[0].ping_path, "/~ping"),
	    "an empty php_admin_value[] and '~' in ping.path, as PHP-FPM");
	if (r == 0)
		conf_free(&c);
	r = load(&c, "t.conf", "[www]\nlisten = 9000\npm = dynamic\n"
	    "pm.max_children = 9\npm.min_spare_servers = 2\n"
	    "pm.max_spare_servers = 6\ncommand = php-cgi8.2\n"
	    "php_value[x] = 1\n");
	ok(r == 0 && c.pools[0].start_servers == 4 && c.nwarnings == 0 &&
	    c.nnotes == 1 && streq(c.notes[0], "[pool www] pm.start_servers "
	    "is not set. "
	    "It's been set to 4."), "derived start_servers with a notice");
	if (r == 0)
		conf_free(&c);
}

static void
test_bool(void)
{
	static const char *const t[] = { "yes", "On", "TRUE", "1", NULL };
	static const char *const f[] = { "no", "Off", "false", "0", "",
	    "none", "\"\"", NULL };
	struct conf	 c;
	char		 text[512];
	int		 i, good = 1;

	for (i = 0; t[i] != NULL; i++) {
		snprintf(text, sizeof(text), MINPOOL "catch_workers_output = "
		    "%s\nclear_env = %s\n", t[i], t[i]);
		if (load(&c, "t.conf", text) != 0 ||
		    !c.pools[0].catch_workers_output || !c.pools[0].clear_env) {
			printf("# true word '%s' failed\n", t[i]);
			good = 0;
		} else
			conf_free(&c);
	}
	ok(good, "boolean true words");
	good = 1;
	for (i = 0; f[i] != NULL; i++) {
		snprintf(text, sizeof(text), MINPOOL "clear_env = %s\n", f[i]);
		if (load(&c, "t.conf", text) != 0 || c.pools[0].clear_env) {
			printf("# false word '%s' failed\n", f[i]);
			good = 0;
		} else
			conf_free(&c);
	}
	ok(good, "boolean false words, empty and none");
}

static void
test_argv(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	size_t			 it;
	int			 r;

	r = load(&c, "t.conf", "[www]\nlisten = 9000\npm = static\n"
	    "pm.max_children = 1\n"
	    "command = /usr/bin/php-cgi -c '/etc/my php.ini'\n"
	    "php_value[memory_limit] = 128M\n"
	    "php_admin_flag[log_errors] = on\n"
	    "php_flag[display_errors] = off\n"
	    "php_admin_value[error_reporting] = E_ALL & ~E_DEPRECATED\n"
	    "php_value[memory_limit] = 256M\n");
	ok(r == 0, "php_* config loads");
	if (r != 0)
		return;
	p = &c.pools[0];
	ok(p->nphp == 4 && p->php[0].kind == CONF_PHP_VALUE &&
	    streq(p->php[0].value, "256M") && p->php[1].kind ==
	    CONF_PHP_ADMIN_FLAG && streq(p->php[1].value, "1") &&
	    streq(p->php[2].value, "0"), "php_* stored, flags normalised");
	it = 0;
	ok(conf_php_next(p, &it) == &p->php[0] &&
	    conf_php_next(p, &it) == &p->php[2] &&
	    conf_php_next(p, &it) == &p->php[1] &&
	    conf_php_next(p, &it) == &p->php[3] &&
	    conf_php_next(p, &it) == NULL,
	    "conf_php_next: the values, then the admin values");
	conf_free(&c);

	r = load(&c, "t.conf", "[www]\nlisten = 9000\npm = static\n"
	    "pm.max_children = 1\n"
	    "command = /bin/sh -c 'echo \"a b\"; exit 0' x\\ y \"q\\\"r\" "
	    "; comment\n");
	ok(r == 0 && streq(c.pools[0].argv[0], "/bin/sh") &&
	    streq(c.pools[0].argv[1], "-c") &&
	    streq(c.pools[0].argv[2], "echo \"a b\"; exit 0") &&
	    streq(c.pools[0].argv[3], "x y") &&
	    streq(c.pools[0].argv[4], "q\"r") && c.pools[0].argv[5] == NULL,
	    "command split like sh: quotes, escapes, ';' inside quotes");
	if (r == 0)
		conf_free(&c);
	r = load(&c, "t.conf", "[www]\nlisten = 9000\npm = static\n"
	    "pm.max_children = 1\n"
	    "command = \"/usr/bin/fcgiwrap -c 4\"\n");
	ok(r == 0 && streq(c.pools[0].argv[0], "/usr/bin/fcgiwrap") &&
	    streq(c.pools[0].argv[2], "4"), "wholly quoted command is split");
	if (r == 0)
		conf_free(&c);
}

static void
test_dump(void)
{
	struct conf	 c;
	char		*out;
	int		 r;

	r = load(&c, "t.conf", "error_log = syslog\n" MINPOOL
	    "env[FOO] = bar\nphp_admin_value[memory_limit] = 1G\n"
	    "php_flag[display_errors] = on\n"
	    "php_value[error_reporting] = E_ALL & ~(E_NOTICE | E_STRICT)\n"
	    "php_value[date.timezone] = Europe/Paris\n"
	    "php_value[x] = E_ALL & E_BOGUS\n"
	    "request_terminate_timeout = 1500ms\n"
	    "access.suppress_path[] = /ping\n");
	ok(r == 0, "dump config loads");
	if (r != 0)
		return;
	out = dump(&c);
	ok(out != NULL && strncmp(out, "[global]\n", 9) == 0 &&
	    strstr(out, "\terror_log = syslog\n") != NULL &&
	    strstr(out, "\tlog_level = notice\n") != NULL &&
	    strstr(out, "\tprocess_control_timeout = 10s\n") != NULL &&
	    strstr(out, "\tevents.mechanism = epoll\n") != NULL &&
	    strstr(out, "\tpid = undefined\n") != NULL &&
	    strstr(out, "\trlimit_core = undefined\n") != NULL,
	    "dump: [global] lines");
	ok(out != NULL && strstr(out, "\n[www]\n") != NULL &&
	    strstr(out, "\tpm = static\n") != NULL &&
	    strstr(out, "\tpm.max_children = 5\n") != NULL &&
	    strstr(out, "\tlisten.mode = 0660\n") != NULL &&
	    strstr(out, "\tclear_env = yes\n") != NULL &&
	    strstr(out, "\trequest_terminate_timeout = 1500ms\n") != NULL &&
	    strstr(out, "\trequest.buffer_size = 64k\n") != NULL &&
	    strstr(out, "\tcommand = /usr/bin/php-cgi\n") != NULL &&
	    strstr(out, "\taccess.suppress_path[] = /ping\n") != NULL &&
	    strstr(out, "\tenv[FOO] = bar\n") != NULL &&
	    strstr(out, "\tphp_admin_value[memory_limit] = 1G\n") != NULL,
	    "dump: pool lines");
	ok(out != NULL && strstr(out, "\n \n[www]\n") != NULL &&
	    strstr(out, "\tphp_value[display_errors] = 1\n") != NULL &&
	    strstr(out, "\tphp_value[error_reporting] = 30711\n") != NULL &&
	    strstr(out, "\tphp_value[date.timezone] = Europe/Paris\n") !=
	    NULL && strstr(out, "\tphp_value[x] = E_ALL & E_BOGUS\n") !=
	    NULL && strcmp(out + strlen(out) - 3, "\n \n") == 0,
	    "dump: PHP-FPM's php_value[] for flags, E_* evaluated, blank "
	    "after each section");
	free(out);
	conf_free(&c);
}

static void
test_equal(void)
{
	struct conf	a, b;
	int		r;

	r = load(&a, "t.conf", MINPOOL "env[A] = 1\nuser = nobody\n");
	r |= load(&b, "u.conf", MINPOOL "env[A] = 1\nuser = nobody\n"
	    "pm.max_children = 9\nlisten = 9009\n"
	    "request_terminate_timeout = 3\n");
	ok(r == 0 && conf_pool_equal(&a.pools[0], &b.pools[0]) == 1,
	    "conf_pool_equal: pm and listen changes keep the workers");
	conf_free(&b);
	r = load(&b, "u.conf", MINPOOL "env[A] = 2\nuser = nobody\n");
	ok(r == 0 && conf_pool_equal(&a.pools[0], &b.pools[0]) == 0,
	    "conf_pool_equal: an env[] change restarts them");
	conf_free(&b);
	r = load(&b, "u.conf", MINPOOL "env[A] = 1\nuser = nobody\n"
	    "command = /usr/bin/php-cgi -q\n");
	ok(r == 0 && conf_pool_equal(&a.pools[0], &b.pools[0]) == 0,
	    "conf_pool_equal: a command change restarts them");
	conf_free(&b);
	r = load(&b, "u.conf", MINPOOL "env[A] = 1\nuser = nobody\n"
	    "rlimit_files = 10\n");
	ok(r == 0 && conf_pool_equal(&a.pools[0], &b.pools[0]) == 0,
	    "conf_pool_equal: an rlimit change restarts them");
	conf_free(&b);
	conf_free(&a);
}

static void
test_full(void)
{
	struct conf		 c;
	struct conf_pool	*p;
	char			*out;

	unsetenv("FPM_FULL_PORT");
	if (access("tests/unit/conf/full.conf", R_OK) == -1) {
		ok(1, "full.conf # SKIP not run from the source tree");
		return;
	}
	if (conf_load(&c, "tests/unit/conf/full.conf", "/srv", err,
	    sizeof(err)) == -1) {
		ok(0, "full.conf loads");
		return;
	}
	ok(c.npools == 2 && c.nwarnings == 1, "full.conf loads");
	p = conf_pool_find(&c, "www");
	ok(p != NULL && streq(p->listen, "127.0.0.1:9000") &&
	    streq(p->prefix, "/srv/www") &&
	    streq(p->access_log, "/srv/www/log/www.access.log") &&
	    streq(c.global.pid, "/srv/run/fpm.pid") &&
	    p->naccess_suppress_path == 2 && p->nenv == 4 && p->nphp == 4 &&
	    p->max_memory == 256ULL << 20 && p->chroot == NULL,
	    "full.conf: values and resolved paths");
	p = conf_pool_find(&c, "cgit");
	ok(p != NULL && streq(p->listen, "/run/fpm/cgit.sock") &&
	    p->pm == CONF_PM_ONDEMAND, "full.conf: second pool");
	out = dump(&c);
	ok(out != NULL && strstr(out, "\tpm.max_memory = 256m\n") != NULL,
	    "full.conf: dump");
	free(out);
	conf_free(&c);
}

int
main(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(tmp, sizeof(tmp), "%s/conf_test.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_minimal();
	test_types();
	test_quotes();
	test_env();
	test_pool_var();
	test_include();
	test_reopen();
	test_errors();
	test_validation();
	test_where();
	test_bool();
	test_argv();
	test_dump();
	test_equal();
	test_full();
	printf("1..%d\n", ntest);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return (nfail != 0);
}
