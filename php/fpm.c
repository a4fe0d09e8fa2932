/* SPDX-License-Identifier: ISC */
/*
 * fpm.so: what PHP-FPM's own SAPI gives scripts, for the php-cgi workers of
 * fpm-supervise, which loads it with -d extension=: fastcgi_finish_request(),
 * admin values locked as php_admin_value locks them, no PHP_FCGI_* variables;
 * and for php.group, a php-cgi that forks its children when asked.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "php.h"
#include "php_ini.h"
#include "SAPI.h"
#include "ext/standard/head.h"
#include "ext/standard/info.h"
#include "main/php_output.h"

#include "../libcommon/phpgroup.h"

#ifdef ZTS
#error "fpm.so is for php-cgi, which is built without ZTS"
#endif

#define FPM_EXT_VERSION	"0.1.0"

/*
 * The head of php-cgi's struct _fcgi_request (main/fastcgi.c, unchanged
 * from PHP 7.1 to 8.4 and not exported, like every fcgi_* function).  Only
 * has_env is written, and only once fpm_request() has checked that the
 * fields before it hold what a php-cgi request on our connection holds.
 */
struct fcgi_req_head {
	int		 listen_socket;
	int		 tcp;
	int		 fd;
	int		 id;
	int		 keep;
	int		 nodelay;	/* under TCP_NODELAY: always on Linux */
	int		 ended;
	int		 in_len;
	int		 in_pad;
	void		*out_hdr;
	unsigned char	*out_pos;
	unsigned char	 out_buf[1024 * 8];
	unsigned char	 reserved[16];	/* an fcgi_end_request_rec */
	void		(*hook[3])(void);
	int		 has_env;
};

static int	fpm_same_addr(int, int);
static struct fcgi_req_head *fpm_request(void);
static void	fpm_lock_admin(void);
static zend_result fpm_post_startup(void);
static void	fpm_scrub_env(void);
static void	fpm_scrub_array(zval *);
static void	fpm_log_message(const char *, int);
static void	fpm_group_wait(void);
static void	fpm_group_reap(void);
static void	fpm_group_say(int, pid_t, int);

static int	fpm_fastcgi;		/* php-cgi serving FastCGI on fd 0 */
static int	fpm_scrubbed;		/* PHP_FCGI_* are gone */
static pid_t	fpm_start_pid;		/* the php-cgi started (MINIT) */
static int	fpm_group_fd = -1;	/* php.group: fpm-supervise's socket */
static int	fpm_group_sfd = -1;	/* its SIGCHLD (signalfd) */
static int	fpm_group_max;		/* children at once, at most */
static int	fpm_group_armed;	/* start-up is over: forks are php-cgi's */
static int	fpm_group_kids;		/* forked, not reaped */
static int	fpm_finished;		/* this request's END_REQUEST is out */
static int	fpm_said;		/* the layout warning was logged */
static zend_result (*fpm_next_post_startup)(void);
static void	(*fpm_next_log)(const char *, int);

PHP_INI_BEGIN()
	/* the names the pool set with php_admin_value/_flag, comma-separated */
	PHP_INI_ENTRY("fpm.admin_values", "", PHP_INI_SYSTEM, NULL)
PHP_INI_END()

/* Do a and b have the same local address (an accepted socket and its listener)? */
static int
fpm_same_addr(int a, int b)
{
	struct sockaddr_storage	 sa, sb;
	socklen_t		 la = sizeof(sa), lb = sizeof(sb);

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	if (getsockname(a, (struct sockaddr *)&sa, &la) == -1 ||
	    getsockname(b, (struct sockaddr *)&sb, &lb) == -1)
		return (0);
	return (la == lb && memcmp(&sa, &sb, la) == 0);
}

/*
 * The request in hand, if it is php-cgi's FastCGI request as we know it:
 * listening on fd 0, served on a socket accepted there, kept (fpm-supervise
 * always sets FCGI_KEEP_CONN), not ended, its parameters loaded, its output
 * pointer inside its buffer.  NULL otherwise.
 */
static struct fcgi_req_head *
fpm_request(void)
{
	struct fcgi_req_head	*r = SG(server_context);
	struct stat		 st;
	int			 acc = 0;
	socklen_t		 len = sizeof(acc);

	/* php-cgi as plain CGI sets (void *)1 */
	if (!fpm_fastcgi || r == NULL || r == (void *)1)
		return (NULL);
	if (r->listen_socket != 0 || r->fd <= 2 || r->keep != 1 ||
	    r->ended != 0 || r->has_env != 1 ||
	    r->out_pos < r->out_buf ||
	    r->out_pos > r->out_buf + sizeof(r->out_buf))
		return (NULL);
	if (fstat(r->fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(r->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    acc != 0 || !fpm_same_addr(r->fd, 0))
		return (NULL);
	return (r);
}

/*
 * PHP-FPM's: the output so far, headers first, then FCGI_END_REQUEST; the
 * script runs on.  php-cgi's own end of request (sapi deactivate:
 * fcgi_finish_request) writes it, with has_env cleared for the call so that
 * the request's parameters stay for getenv() and SAPI (PHP-FPM keeps them
 * too).  What the script prints afterwards is discarded, and what PHP logs
 * goes to stderr (catch_workers_output), not onto a finished request.
 */
static PHP_FUNCTION(fastcgi_finish_request)
{
	struct fcgi_req_head	*r;
	zend_string		*name;
	int			 bailout = 0;

	ZEND_PARSE_PARAMETERS_NONE();

	if (fpm_finished)
		RETURN_FALSE;
	if ((r = fpm_request()) == NULL) {
		/* logged, not shown: no fault of the script's */
		if (fpm_fastcgi && !fpm_said) {
			fpm_said = 1;
			php_log_err("fpm.so: fastcgi_finish_request(): this "
			    "php-cgi's request is not laid out as fpm.so knows "
			    "it; the response ends with the script");
		}
		RETURN_FALSE;
	}
	php_output_end_all();
	php_header();
	/*
	 * A failed write may bail out (php_handle_aborted_connection()): the
	 * flag comes back first, else the next request would find this one's
	 * parameters uncleaned under its own.
	 */
	r->has_env = 0;
	zend_try {
		if (sapi_module.deactivate != NULL)
			sapi_module.deactivate();
	} zend_catch {
		bailout = 1;
	} zend_end_try();
	r->has_env = 1;
	if (bailout)
		zend_bailout();
	if (!r->ended)
		RETURN_FALSE;
	fpm_finished = 1;
	php_output_set_status(PHP_OUTPUT_DISABLED);
	name = zend_string_init("fastcgi.logging", sizeof("fastcgi.logging") - 1,
	    0);
	zend_alter_ini_entry_chars(name, "0", 1, ZEND_INI_SYSTEM,
	    ZEND_INI_STAGE_RUNTIME);
	zend_string_release(name);
	RETURN_TRUE;
}

/*
 * php_admin_value and php_admin_flag arrive as -d, like php_value; what
 * makes them PHP-FPM's is this: their entries become PHP_INI_SYSTEM, so
 * ini_set() and .user.ini fail on them (fpm_php_zend_ini_alter_master()).
 */
static void
fpm_lock_admin(void)
{
	zend_ini_entry	*e;
	const char	*s, *t;

	s = INI_STR("fpm.admin_values");
	while (s != NULL && *s != '\0') {
		if ((t = strchr(s, ',')) == NULL)
			t = s + strlen(s);
		if (t > s && (e = zend_hash_str_find_ptr(EG(ini_directives),
		    s, (size_t)(t - s))) != NULL)
			e->modifiable = ZEND_INI_SYSTEM;
		s = *t == ',' ? t + 1 : t;
	}
}

/*
 * After every module and zend_extension (OPcache registers its entries in
 * its own startup, after our MINIT) and before the first request, whose
 * .user.ini is read before any RINIT.
 */
static zend_result
fpm_post_startup(void)
{
	if (fpm_next_post_startup != NULL &&
	    fpm_next_post_startup() != SUCCESS)
		return (FAILURE);
	fpm_lock_admin();
	/* php-cgi's next forks are its children's (fpm_group_wait) */
	fpm_group_armed = fpm_group_fd != -1;
	return (SUCCESS);
}

/*
 * fpm-supervise sets PHP_FCGI_CHILDREN and PHP_FCGI_MAX_REQUESTS for
 * php-cgi, which reads them after our MINIT: they go at the first request,
 * from the environment and from $_SERVER and $_ENV if already made.
 */
static void
fpm_scrub_env(void)
{
	extern char	**environ;
	char		 name[64];
	const char	*eq;
	size_t		 i;
	int		 again;

	do {
		again = 0;
		for (i = 0; environ != NULL && environ[i] != NULL; i++) {
			if (strncmp(environ[i], "PHP_FCGI_", 9) != 0 ||
			    (eq = strchr(environ[i], '=')) == NULL ||
			    (size_t)(eq - environ[i]) >= sizeof(name))
				continue;
			memcpy(name, environ[i], (size_t)(eq - environ[i]));
			name[eq - environ[i]] = '\0';
			if (unsetenv(name) == 0)
				again = 1;	/* environ moved */
			break;
		}
	} while (again);
	fpm_scrub_array(&PG(http_globals)[TRACK_VARS_SERVER]);
	fpm_scrub_array(&PG(http_globals)[TRACK_VARS_ENV]);
}

static void
fpm_scrub_array(zval *a)
{
	zend_string	*key;
	HashTable	*ht;
	int		 again;

	if (Z_TYPE_P(a) != IS_ARRAY)
		return;
	ht = Z_ARRVAL_P(a);
	do {
		again = 0;
		ZEND_HASH_FOREACH_STR_KEY(ht, key) {
			if (key != NULL && ZSTR_LEN(key) > 9 &&
			    memcmp(ZSTR_VAL(key), "PHP_FCGI_", 9) == 0) {
				zend_hash_del(ht, key);
				again = 1;
				break;
			}
		} ZEND_HASH_FOREACH_END();
	} while (again);
}

/*
 * PHP's messages (errors under log_errors with no error_log file, and
 * error_log()) as PHP-FPM's worker logs them: "PHP message: " to the web
 * server as FCGI_STDERR (by php-cgi, while fastcgi.logging is on and a
 * request is under way), and a NOTICE on stderr, which
 * catch_workers_output puts in fpm's log: 'child 42 said into stderr:
 * "NOTICE: PHP message: ..."'.
 */
static void
fpm_log_message(const char *msg, int syslog_type)
{
	char	*buf;

	fprintf(stderr, "NOTICE: PHP message: %s\n", msg);
	if (fpm_finished || SG(server_context) == NULL ||
	    !INI_INT("fastcgi.logging"))
		return;
	spprintf(&buf, 0, "PHP message: %s", msg);
	fpm_next_log(buf, syslog_type);
	efree(buf);
}

/*
 * php.group: php-cgi is about to fork a child, as its loop does whenever
 * fewer than PHP_FCGI_CHILDREN run (which MINIT made too many to reach).
 * Here, after its start-up, OPcache's memory made, it waits instead until
 * fpm-supervise asks for a child (a byte each), reaping those that go
 * meanwhile, with at most fpm_group_max at once.  A fork that fails ends
 * php-cgi (its "php (pre-forking)"), and fpm-supervise starts another.
 */
static void
fpm_group_wait(void)
{
	static int	 said, want;
	struct pollfd	 pfd[2];
	struct signalfd_siginfo si;
	sigset_t	 chld, old;
	unsigned char	 buf[256];
	ssize_t		 n;

	if (!fpm_group_armed || getpid() != fpm_start_pid)
		return;		/* a module's at start-up, or a script's */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &old) == -1 ||
	    (fpm_group_sfd == -1 && (fpm_group_sfd = signalfd(-1, &chld,
	    SFD_NONBLOCK | SFD_CLOEXEC)) == -1)) {
		fprintf(stderr, "fpm: php.group: %s\n", strerror(errno));
		_exit(1);
	}
	if (!said) {
		said = 1;
		fpm_group_say('H', getpid(), fpm_group_max);
	}
	for (;;) {
		fpm_group_reap();
		if (want > 0 && fpm_group_kids < fpm_group_max)
			break;
		pfd[0].fd = fpm_group_fd;
		pfd[1].fd = fpm_group_sfd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		while (read(fpm_group_sfd, &si, sizeof(si)) > 0)
			;
		if (pfd[0].revents == 0)
			continue;
		if ((n = read(fpm_group_fd, buf, sizeof(buf))) > 0)
			want += (int)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			_exit(0);	/* fpm-supervise is gone */
	}
	want--;
	fpm_group_kids++;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Reap the children that went, and say so. */
static void
fpm_group_reap(void)
{
	pid_t	pid;
	int	st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		fpm_group_kids--;
		fpm_group_say('X', pid, st);
	}
}

/* A record to fpm-supervise; php-cgi goes when it is gone. */
static void
fpm_group_say(int kind, pid_t pid, int status)
{
	struct phpgroup_rec	r = { kind, pid, status };

	while (send(fpm_group_fd, &r, sizeof(r), MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			_exit(0);
}

/* In a child php-cgi forked: it dies with its parent (see MINIT). */
static void
fpm_atfork_child(void)
{
	if (getppid() != fpm_start_pid)
		return;		/* a grandchild: a script's */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != fpm_start_pid)
		raise(SIGKILL);	/* it went before we could see it */
	if (fpm_group_armed) {
		fpm_group_armed = 0;
		/*
		 * Until its fork returns, the child has php-cgi's handler,
		 * which sends SIGTERM to the whole process group: not once
		 * fpm-supervise knows it (php-cgi then restores its own).
		 */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		fpm_group_say('F', getpid(), 0);
		close(fpm_group_fd);
		close(fpm_group_sfd);
		fpm_group_fd = fpm_group_sfd = -1;
	}
}

/*
 * php.group (fpm-supervise's group.c): php-cgi forks its children, and
 * with FPM_GROUP_FD, when fpm-supervise asks (fpm_group_wait).
 */
static void
fpm_group_init(void)
{
	const char	*s;
	int		 max;

	if ((s = getenv("PHP_FCGI_CHILDREN")) == NULL || (max = atoi(s)) <= 0)
		return;
	if ((s = getenv(PHPGROUP_ENV)) != NULL && atoi(s) == PHPGROUP_FD &&
	    fpm_fastcgi && fcntl(PHPGROUP_FD, F_SETFD, FD_CLOEXEC) == 0) {
		fpm_group_fd = PHPGROUP_FD;
		fpm_group_max = max;
		setenv("PHP_FCGI_CHILDREN", "1000000000", 1);
	}
	unsetenv(PHPGROUP_ENV);
	/*
	 * Each child goes with php-cgi, which goes with fpm-supervise,
	 * rather than wait on a socket nobody uses.  Only there: a script's
	 * own children (proc_open) are none of ours.
	 */
	pthread_atfork(fpm_group_wait, NULL, fpm_atfork_child);
}

static PHP_MINIT_FUNCTION(fpm)
{
	int		 acc = 0;
	socklen_t	 len = sizeof(acc);

	fpm_start_pid = getpid();
	REGISTER_INI_ENTRIES();
	/* php-cgi's test (fcgi_init()): fd 0 is a listening socket */
	fpm_fastcgi = strcmp(sapi_module.name, "cgi-fcgi") == 0 &&
	    getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 &&
	    acc != 0;
	fpm_group_init();
	fpm_next_post_startup = zend_post_startup_cb;
	zend_post_startup_cb = fpm_post_startup;
	if (fpm_fastcgi && sapi_module.log_message != NULL) {
		fpm_next_log = sapi_module.log_message;
		sapi_module.log_message = fpm_log_message;
	}
	return (SUCCESS);
}

static PHP_MSHUTDOWN_FUNCTION(fpm)
{
	UNREGISTER_INI_ENTRIES();
	return (SUCCESS);
}

static PHP_RINIT_FUNCTION(fpm)
{
	(void)type;
	(void)module_number;
	fpm_finished = 0;
	if (!fpm_scrubbed) {
		fpm_scrubbed = 1;
		fpm_scrub_env();
	}
	return (SUCCESS);
}

static PHP_MINFO_FUNCTION(fpm)
{
	php_info_print_table_start();
	php_info_print_table_row(2, "fpm support", "enabled");
	php_info_print_table_row(2, "FastCGI on fd 0",
	    fpm_fastcgi ? "yes" : "no");
	php_info_print_table_end();
	DISPLAY_INI_ENTRIES();
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_fastcgi_finish_request, 0, 0,
    _IS_BOOL, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry fpm_functions[] = {
	PHP_FE(fastcgi_finish_request, arginfo_fastcgi_finish_request)
	PHP_FE_END
};

static zend_module_entry fpm_module_entry = {
	STANDARD_MODULE_HEADER,
	"fpm",
	fpm_functions,
	PHP_MINIT(fpm),
	PHP_MSHUTDOWN(fpm),
	PHP_RINIT(fpm),
	NULL,
	PHP_MINFO(fpm),
	FPM_EXT_VERSION,
	STANDARD_MODULE_PROPERTIES
};

/* what php_load_extension() calls, by name */
ZEND_DLEXPORT zend_module_entry *get_module(void);
ZEND_GET_MODULE(fpm)
