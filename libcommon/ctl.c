/* SPDX-License-Identifier: ISC */
/* The control protocol: the socket's path, and the client side. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/ctl.h"
#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "libcommon/parse.h"

static int	ctl_config_paths(const char *, char *, size_t, char *, size_t,
		    char *, size_t);
static int	ctl_identity_field(const char *, const char *, char *,
		    size_t);
static int	ctl_wait(int, short, int64_t);
static int64_t	ctl_now(void);

int
ctl_default_path(const struct conf_global *g, const char *pidfile, char *buf,
    size_t size)
{
	const char	*xdg;
	size_t		 len;
	int		 n;

	if (pidfile == NULL && g != NULL)
		pidfile = g->pid;
	if (g != NULL && g->control != NULL)
		n = snprintf(buf, size, "%s", g->control);
	else if (pidfile != NULL) {
		len = strlen(pidfile);
		if (len > 4 && strcmp(pidfile + len - 4, ".pid") == 0)
			len -= 4;
		n = snprintf(buf, size, "%.*s.sock", (int)len, pidfile);
	} else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg == '/')
		n = snprintf(buf, size, "%s/fpm.sock", xdg);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/fpm.sock");
	else
		n = snprintf(buf, size, "/tmp/fpm-%u.sock",
		    (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= size ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/* Load config and copy its paths; ctl_client_paths() with CONFIG. */
static int
ctl_config_paths(const char *config, char *sock, size_t socksize, char *pid,
    size_t pidsize, char *err, size_t errsize)
{
	struct conf	conf;
	int		rc = 0;

	if (conf_load(&conf, config, NULL, err, errsize) == -1)
		return (-1);
	if (ctl_default_path(&conf.global, NULL, sock, socksize) == -1 ||
	    strlcpy(pid, conf.global.pid ? conf.global.pid : "", pidsize) >=
	    pidsize) {
		snprintf(err, errsize, "%s: control socket or pid path too "
		    "long", config);
		rc = -1;
	}
	conf_free(&conf);
	if (rc == -1)
		errno = ENAMETOOLONG;
	return (rc);
}

int
ctl_client_paths(const char *sockopt, const char *config, const char *pidfile,
    char *sock, size_t socksize, char *pid, size_t pidsize, char *err,
    size_t errsize)
{
	const char	*installed = FPM_SYSCONFDIR "/fpm/fpm.conf";

	if (sockopt != NULL) {
		pid[0] = '\0';
		if ((pidfile != NULL && strlcpy(pid, pidfile, pidsize) >=
		    pidsize) || strlcpy(sock, sockopt, socksize) >= socksize ||
		    strlen(sockopt) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			goto toolong;
		return (0);
	}
	if (config != NULL)
		return (ctl_config_paths(config, sock, socksize, pid, pidsize,
		    err, errsize));
	if (pidfile != NULL) {
		if (strlcpy(pid, pidfile, pidsize) >= pidsize ||
		    ctl_default_path(NULL, pidfile, sock, socksize) == -1)
			goto toolong;
		return (0);
	}
	/* as fpm-supervise without -y: the installed config, if usable */
	if (access(installed, F_OK) == 0 && ctl_config_paths(installed, sock,
	    socksize, pid, pidsize, err, errsize) == 0)
		return (0);
	pid[0] = '\0';
	if (ctl_default_path(NULL, NULL, sock, socksize) == 0)
		return (0);
toolong:
	snprintf(err, errsize, "control socket or pid path too long");
	errno = ENAMETOOLONG;
	return (-1);
}

const char *
ctl_client_expected(const char *sockopt, const char *config,
    const char *pidfile)
{
	static const char	*installed = FPM_SYSCONFDIR "/fpm/fpm.conf";

	if (config != NULL || sockopt != NULL || pidfile != NULL)
		return (config);
	return (access(installed, F_OK) == 0 ? installed : NULL);
}

int
ctl_is_readonly(const char *cmd)
{
	static const char *const ro[] = { "status", "pools", "pid",
	    "version", "wait-ready", "identity", "workers" };
	size_t	i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (strcmp(cmd, ro[i]) == 0)
			return (1);
	return (0);
}

/*
 * Copy the value of the line "key VALUE" of an identity answer into buf,
 * each byte log_vis() would not leave as is made '?' (it goes into our
 * messages).  0, or -1 when there is no such line or it does not fit.
 */
static int
ctl_identity_field(const char *body, const char *key, char *buf,
    size_t size)
{
	const char	*line, *nl;
	size_t		 klen = strlen(key), i, n;

	for (line = body; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		line += klen + 1;
		if ((n = (size_t)(nl - line)) >= size)
			return (-1);
		for (i = 0; i < n; i++)
			buf[i] = line[i] < 0x20 || line[i] > 0x7e ? '?' :
			    line[i];
		buf[n] = '\0';
		return (0);
	}
	return (-1);
}

int
ctl_identity_check(const char *sock, const char *config, const char *pidfile,
    int timeout_ms, int *code, char *err, size_t errsize)
{
	static char	 real[PATH_MAX], want[CTL_ID_MAX], have[CTL_ID_MAX];
	const char	*path, *what;
	char		*reply, *msg, *body, pid[32];
	int		 saved, known;

	if ((path = config != NULL ? config : pidfile) == NULL)
		return (0);
	what = config != NULL ? "config" : "pidfile";
	if (ctl_request(sock, "identity", timeout_ms, &reply) == -1) {
		saved = errno;
		*code = FPM_EXIT_TEMP;
		snprintf(err, errsize, "unable to talk to %s: %s", sock,
		    strerror(saved));
		errno = saved;
		return (-1);
	}
	if (ctl_reply_parse(reply, code, &msg, &body) == -1) {
		*code = FPM_EXIT_TEMP;
		snprintf(err, errsize, "bad reply from %s", sock);
		free(reply);
		errno = EPROTO;
		return (-1);
	}
	if (*code != 0 && strncmp(msg, "unknown command", 15) != 0) {
		snprintf(err, errsize, "%s", msg);
		free(reply);
		return (-1);
	}
	/* an older supervisor cannot tell: that is not a yes */
	known = *code == 0 && ctl_identity_field(body, "pid", pid,
	    sizeof(pid)) == 0 && ctl_identity_field(body, what, have,
	    sizeof(have)) == 0;
	free(reply);
	*code = FPM_EXIT_USAGE;
	/* now, not before: nobody there and no pidfile is the caller's case */
	if (realpath(path, real) == NULL) {
		snprintf(err, errsize, "unable to check who answers on %s: "
		    "%s: %s", sock, path, strerror(errno));
		return (-1);
	}
	(void)log_vis(want, sizeof(want), real);
	if (!known)
		snprintf(err, errsize, "the supervisor on %s does not say "
		    "which %s it has: not acting on it (-s alone talks to it "
		    "unchecked)", sock, config != NULL ? "configuration" :
		    "pidfile");
	else if (strcmp(have, want) != 0)
		snprintf(err, errsize, "another fpm-supervise answers on %s: "
		    "pid %s %s %s, not %s", sock, pid, config != NULL ?
		    "runs" : "has the pidfile", strcmp(have, "-") == 0 ?
		    (config != NULL ? "the built-in configuration" : "none") :
		    have, want);
	else
		return (0);
	return (-1);
}

static int64_t
ctl_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait for events on fd until the deadline (-1: none); 0 or -1. */
static int
ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		ms, r;

	for (;;) {
		ms = deadline < 0 ? -1 : (int)(deadline - ctl_now());
		if (deadline >= 0 && ms <= 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if ((r = poll(&pfd, 1, ms)) > 0)
			return (0);
		if (r == -1 && errno != EINTR)
			return (-1);
	}
}

int
ctl_request(const char *path, const char *line, int timeout_ms, char **reply)
{
	struct sockaddr_un	 sun;
	char			*buf = NULL, *nb, req[CTL_LINE_MAX + 1];
	size_t			 len = 0, size = 0, off, reqlen;
	ssize_t			 n;
	int64_t			 deadline;
	int			 fd, saved;

	deadline = timeout_ms > 0 ? ctl_now() + timeout_ms : -1;
	reqlen = (size_t)snprintf(req, sizeof(req), "%s\n", line);
	if (reqlen >= sizeof(req)) {
		errno = E2BIG;
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	for (off = 0; off < reqlen; off += (size_t)n) {
		if (ctl_wait(fd, POLLOUT, deadline) == -1)
			goto fail;
		if ((n = write(fd, req + off, reqlen - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
	}
	for (;;) {
		if (len + 4096 + 1 > size) {
			size = size ? size * 2 : 8192;
			if ((nb = realloc(buf, size)) == NULL)
				goto fail;
			buf = nb;
		}
		if (ctl_wait(fd, POLLIN, deadline) == -1)
			goto fail;
		n = read(fd, buf + len, size - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL && (buf = calloc(1, 1)) == NULL)
		return (-1);
	buf[len] = '\0';
	*reply = buf;
	return (0);
fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return (-1);
}

int
ctl_reply_parse(char *reply, int *code, char **msg, char **body)
{
	char		*nl, *sp;
	long long	 c;

	if ((nl = strchr(reply, '\n')) == NULL) {
		errno = EPROTO;
		return (-1);
	}
	*nl = '\0';
	*body = nl + 1;
	if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' ||
	    reply[2] == ' ')) {
		*code = 0;
		*msg = reply[2] == ' ' ? reply + 3 : reply + 2;
		return (0);
	}
	if (strncmp(reply, "error ", 6) != 0 ||
	    (sp = strchr(reply + 6, ' ')) == NULL) {
		errno = EPROTO;
		return (-1);
	}
	*sp = '\0';
	if (parse_int(reply + 6, 1, 255, &c) == -1) {
		errno = EPROTO;
		return (-1);
	}
	*code = (int)c;
	*msg = sp + 1;
	return (0);
}
