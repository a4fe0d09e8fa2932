/* SPDX-License-Identifier: ISC */
/*
 * The configuration: fpm.conf(5), in PHP's ini dialect (libcommon/ini), read
 * into a typed, plain model of the [global] section and the pools.
 */
#ifndef LIBCOMMON_CONF_H
#define LIBCOMMON_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libcommon/log.h"

/*
 * Every PHP-FPM directive is known, with PHP-FPM's default unless said
 * otherwise, and a few of ours: the table in confschema.c gives each its
 * type, bounds and default (what `fpm-supervise -tt` prints).  Some are
 * refused with a message naming them: events.mechanism other than epoll,
 * listen.setfib other than -1, apparmor_hat.  Durations are kept in
 * milliseconds (suffixes ms, s, m, h, d), sizes in bytes (suffixes k, m, g).
 *
 * php_value[], php_flag[], php_admin_value[], php_admin_flag[] are only for
 * php-cgi workers: they become "-d key=value" arguments (fpm-supervise's
 * argv.c).  disable_functions replaces php.ini's list instead of extending
 * it.  The admin ones are locked by fpm.so (php/fpm.c), which fpm-supervise
 * loads into php-cgi workers (php.extension: unset is the installed one, if
 * any; "no" none; else an absolute path).
 */

enum conf_pm {
	CONF_PM_NONE,		/* not set: an error after parsing */
	CONF_PM_STATIC,
	CONF_PM_DYNAMIC,
	CONF_PM_ONDEMAND
};

/* log_level: log.h's levels, whose names are PHP-FPM's words. */
enum conf_log_level {
	CONF_LOG_DEBUG = LOG_LVL_DEBUG,
	CONF_LOG_NOTICE = LOG_LVL_NOTICE,
	CONF_LOG_WARNING = LOG_LVL_WARNING,
	CONF_LOG_ERROR = LOG_LVL_ERROR,
	CONF_LOG_ALERT = LOG_LVL_ALERT
};

/* php_value[] and friends. */
enum conf_php_kind {
	CONF_PHP_VALUE,
	CONF_PHP_FLAG,		/* value normalised to "1" or "0" */
	CONF_PHP_ADMIN_VALUE,
	CONF_PHP_ADMIN_FLAG	/* value normalised to "1" or "0" */
};

struct conf_kv {
	char			*key;
	char			*value;
};

struct conf_php {
	enum conf_php_kind	 kind;
	char			*key;
	char			*value;
	const char		*file;	/* where it was set (struct conf's) */
	int			 line;
};

/* Where a pool directive was last set; file NULL when it was not. */
struct conf_where {
	const char		*file;	/* one of struct conf's files */
	int			 line;
};

struct conf_global {
	char		*file;		/* the main configuration file */
	char		*prefix;	/* absolute base of relative paths */
	char		*pid;		/* NULL: no pid file */
	char		*error_log;	/* NULL: stderr; "syslog"; a path */
	char		*syslog_ident;
	int		 syslog_facility;	/* LOG_DAEMON etc. */
	int		 log_buffering;	/* accepted; we always write lines */
	enum conf_log_level log_level;
	int		 log_limit;	/* >= 512 */
	int		 emergency_restart_threshold;
	int64_t		 emergency_restart_interval_ms;
	int64_t		 process_control_timeout_ms;
	int		 process_max;	/* 0: no limit */
	int		 priority;	/* -19..20, when priority_set */
	int		 priority_set;
	int		 daemonize;
	uint64_t	 rlimit_files;	/* when rlimit_files_set */
	int		 rlimit_files_set;
	uint64_t	 rlimit_core;	/* UINT64_MAX: unlimited */
	int		 rlimit_core_set;
	int64_t		 systemd_interval_ms;
	char		*control;
	char		*control_owner;
	char		*control_group;
	unsigned int	 control_mode;
	char		*runtime_dir;
};

struct conf_pool {
	char		*name;
	char		*file;		/* where its section was first opened */
	int		 line;
	struct conf_where *where;	/* per directive: conf_pool_where() */
	char		*prefix;
	char		*user;
	char		*group;
	char		*listen;	/* unix paths made absolute */
	int		 listen_backlog;	/* -1: the kernel's maximum */
	char		*listen_owner;
	char		*listen_group;
	unsigned int	 listen_mode;
	char		*listen_acl_users;
	char		*listen_acl_groups;
	char		*listen_allowed_clients;
	int64_t		 listen_keepalive_timeout_ms;
	int		 priority;	/* -19..20, when priority_set */
	int		 priority_set;
	int		 dumpable;
	enum conf_pm	 pm;
	int		 max_children;
	int		 start_servers;	/* derived for dynamic when unset */
	int		 min_spare_servers;
	int		 max_spare_servers;
	int		 max_spawn_rate;
	int64_t		 process_idle_timeout_ms;
	int		 max_requests;	/* 0: never */
	uint64_t	 max_memory;	/* 0: off */
	char		*status_path;
	char		*status_listen;
	char		*ping_path;
	char		*ping_response;	/* "pong" */
	char		*access_log;
	char		*access_format;
	char		**access_suppress_path;	/* NULL-terminated */
	size_t		 naccess_suppress_path;
	char		*slowlog;
	int64_t		 request_slowlog_timeout_ms;
	int		 request_slowlog_trace_depth;
	int64_t		 request_terminate_timeout_ms;
	int		 request_terminate_timeout_track_finished;
	uint64_t	 rlimit_files;	/* when rlimit_files_set */
	int		 rlimit_files_set;
	uint64_t	 rlimit_core;	/* UINT64_MAX: unlimited */
	int		 rlimit_core_set;
	char		*chroot;
	char		*chdir;
	int		 catch_workers_output;
	int		 decorate_workers_output;
	int		 workers_output_rate_limit;	/* lines/s; 0: off */
	int		 clear_env;
	char		*security_limit_extensions;	/* as written */
	char		**limit_extensions;	/* split; empty list: all */
	char		*command;	/* as written, after expansion */
	char		**argv;		/* command split, NULL-terminated */
	struct conf_kv	*env;		/* env[NAME]; "$VAR" already resolved */
	size_t		 nenv;
	struct conf_php	*php;		/* php_*[], in order of appearance */
	size_t		 nphp;
	int		 queue_max_length;
	int64_t		 queue_timeout_ms;
	int64_t		 request_client_timeout_ms;
	uint64_t	 request_buffer_size;
	uint64_t	 request_max_body_size;	/* 0: no limit */
	char		*request_spool_dir;
	int		 request_buffering;
	int		 request_terminate_on_abort;
	int		 request_finish_probe;
	uint64_t	 request_max_params_size;
	char		*php_extension;	/* NULL: the installed fpm.so */
	char		*php_ini;	/* php-cgi's -c; NULL: its own */
	int		 php_group;	/* one php-cgi, its children the workers */
};

struct conf {
	struct conf_global	 global;
	struct conf_pool	*pools;
	size_t			 npools;
	char			**warnings;	/* for the caller to log */
	size_t			 nwarnings;
	char			**notes;	/* the same, at NOTICE */
	size_t			 nnotes;
	char			**files;	/* every file read, NULL-ended */
	size_t			 nfiles;
};

/*
 * Load path and its includes, then validate.  prefix is the base of relative
 * include patterns and paths (NULL: the directory of path).  Returns 0 with
 * *conf filled and owned by the caller (conf_free), or -1 with *conf empty,
 * the message in err ("[FILE:LINE] message") and errno EINVAL for a config
 * error or the system's errno for an I/O error ("cannot open X: ...").
 */
int	conf_load(struct conf *conf, const char *path, const char *prefix,
	    char *err, size_t errsize);

/* Free everything conf_load() allocated; conf is left empty. */
void	conf_free(struct conf *conf);

/* Print every effective setting as "\tname = value" lines under "[section]". */
void	conf_dump(const struct conf *conf, FILE *fp);

/*
 * Where directive name (e.g. "user") of pool was last set: its file and
 * line, or the pool's section when it was not set (or is not a directive).
 * *file lives as long as the configuration.
 */
void	conf_pool_where(const struct conf_pool *pool, const char *name,
	    const char **file, int *line);

/* "static", "dynamic" or "ondemand". */
const char *conf_pm_name(enum conf_pm pm);

/* The pool named name (case-insensitive), or NULL. */
struct conf_pool *conf_pool_find(const struct conf *conf, const char *name);

/*
 * 1 when a and b agree on everything their workers are started with (so a
 * reload may keep the workers), 0 when the workers must be restarted.
 */
int	conf_pool_equal(const struct conf_pool *a, const struct conf_pool *b);

/*
 * The php_*[] entries in the order PHP must see them: the values, then the
 * admin values, which so win.  Start with *it 0; NULL after the last.
 */
const struct conf_php *conf_php_next(const struct conf_pool *pool,
	    size_t *it);

/* Non-zero when prog (a path or a name) is php-cgi: php-cgi8.2, php8.2-cgi. */
int	conf_is_phpcgi(const char *prog);
/*
 * The php-cgi a pool without command runs: the one of the PHP-FPM whose
 * file (/etc/php/X.Y/fpm/...) defined it, else php-cgi on PATH, else the
 * highest php-cgiX.Y on PATH.  Writes it to buf: 0, or -1 if none.
 */
int	conf_default_phpcgi(const char *file, char *buf, size_t size);

#endif
