/* SPDX-License-Identifier: ISC */
/* The control protocol: the socket's path, and the client side. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/ctl.h"
#include "libcommon/parse.h"

static int	ctl_config_paths(const char *, char *, size_t, char *, size_t,
		    char *, size_t);
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
		if (strlcpy(sock, sockopt, socksize) >= socksize ||
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

int
ctl_is_readonly(const char *cmd)
{
	static const char *const ro[] = { "status", "pools", "pid",
	    "version", "wait-ready" };
	size_t	i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (strcmp(cmd, ro[i]) == 0)
			return (1);
	return (0);
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
