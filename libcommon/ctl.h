/* SPDX-License-Identifier: ISC */
/*
 * The control protocol between fpm-supervise and its clients (fpm-ctl,
 * fpm-status, socat): one request line, one reply, then the server closes.
 */
#ifndef LIBCOMMON_CTL_H
#define LIBCOMMON_CTL_H

#include <stddef.h>

#include "libcommon/conf.h"

/*
 * The protocol (fpm-control(7)):
 *
 *   request:  COMMAND [ARG...] "\n"		(at most CTL_LINE_MAX bytes)
 *   reply:    "ok" [" " WORDS] "\n" BODY	then the server closes
 *         or  "error " CODE " " MESSAGE "\n"	CODE: an FPM_EXIT_* value
 *
 * Commands: status [POOL|-] [text|json|xml|html|openmetrics|prometheus]
 * [full]; pools; reload [POOL]; restart POOL; stop; quit; upgrade; reopen;
 * pid; version; wait-ready; identity; workers [POOL|-].  Who may do what
 * is decided by SO_PEERCRED: root and the supervisor's own uid
 * everything, members of control.group the read-only commands (status,
 * pools, pid, version, wait-ready, identity, workers).
 */
#define CTL_LINE_MAX	1024

/*
 * The control socket's path: the configured `control`, else the pidfile's
 * path with ".pid" replaced by ".sock" (pidfile may be NULL: the config's
 * `pid`), else $XDG_RUNTIME_DIR/fpm.sock, else /run/fpm.sock for root and
 * /tmp/fpm-UID.sock for others.  Returns 0, or -1 with ENAMETOOLONG.
 */
int	ctl_default_path(const struct conf_global *g, const char *pidfile,
	    char *buf, size_t size);

/*
 * Where a client finds the supervisor, from its -s SOCKET (sockopt), -y
 * CONFIG or -P PIDFILE (CONFIG and PIDFILE not both).  SOCKET is taken as
 * is, with PIDFILE as the pidfile if given (CONFIG is not read: it only
 * names whom ctl_identity_check() expects); CONFIG is loaded with
 * conf_load() and gives its control socket and pidfile; PIDFILE gives
 * itself and its socket by ctl_default_path()'s rule; with none, the
 * installed FPM_SYSCONFDIR/fpm/fpm.conf is used as CONFIG when it loads,
 * else the rule with no config.  The socket path goes to sock, the pidfile
 * to pid ("" when unknown).  Returns 0, or -1 with errno set and the reason
 * in err: EINVAL for a config error ("[FILE:LINE] message"), ENAMETOOLONG,
 * or conf_load()'s errno when CONFIG cannot be read.
 */
int	ctl_client_paths(const char *sockopt, const char *config,
	    const char *pidfile, char *sock, size_t socksize, char *pid,
	    size_t pidsize, char *err, size_t errsize);

/*
 * The "identity" command's answer (fpm-control(7)): the body's lines
 * "pid PID", "config PATH" and "pidfile PATH", each PATH the real path
 * (realpath(3)) escaped by log_vis(), or "-" for none (the built-in
 * configuration, no pidfile).  CTL_ID_MAX bounds an escaped path.
 */
#define CTL_ID_MAX	(4 * 4096 + 1)

/*
 * Is the supervisor answering on sock the one a client was pointed at:
 * the one running the configuration file config (its -y), or the one
 * holding the pidfile pidfile (its -P)?  Both NULL: nothing to check.
 * Asks "identity" and compares real paths.  Returns 0 when it is; else
 * -1, with the exit status to use in *code and the reason in err:
 * FPM_EXIT_USAGE when another supervisor answers or it does not say which
 * it is, the supervisor's code for an error reply, FPM_EXIT_TEMP with
 * errno set when it could not be asked (ctl_request()'s, or EPROTO for
 * a reply that is not one).
 */
int	ctl_identity_check(const char *sock, const char *config,
	    const char *pidfile, int timeout_ms, int *code, char *err,
	    size_t errsize);

/*
 * The configuration whose supervisor a client given these options expects
 * (ctl_identity_check()'s config): CONFIG when given; with none of the
 * three, the installed FPM_SYSCONFDIR/fpm/fpm.conf when it exists, as
 * ctl_client_paths() and fpm-supervise without -y read it; else NULL.
 */
const char *ctl_client_expected(const char *sockopt, const char *config,
	    const char *pidfile);

/* Non-zero when cmd (the first word) is one of the read-only commands. */
int	ctl_is_readonly(const char *cmd);

/*
 * Client side: connect to path, send line (a newline is added), read the
 * whole reply into a malloc'd NUL-terminated *reply (the caller frees it).
 * Returns 0, or -1 with errno set (ENOENT/ECONNREFUSED: nobody there;
 * ETIMEDOUT after timeout_ms, 0 meaning none).
 */
int	ctl_request(const char *path, const char *line, int timeout_ms,
	    char **reply);

/*
 * Split a reply: *code is 0 for "ok", else the error's code; *msg points
 * at the words after "ok" or at the error message (up to the first
 * newline, which is replaced by NUL); *body at what follows the first
 * line.  Returns 0, or -1 with EPROTO for anything else.
 */
int	ctl_reply_parse(char *reply, int *code, char **msg, char **body);

#endif
