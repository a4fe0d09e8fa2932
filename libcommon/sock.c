/* SPDX-License-Identifier: ISC */
/* Listen addresses: parse, bind and listen, and adopt inherited sockets. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/parse.h"
#include "libcommon/sock.h"

#define SOCK_MAXINHERIT	256

static struct {
	int	fd;
	char	key[SOCK_KEYLEN];
} inherited[SOCK_MAXINHERIT];
static int	ninherited;

static int	sock_port(const char *, in_port_t *);
static void	sock_key(const struct sockaddr *, char *, size_t);
static int	sock_unix_prepare(const struct sockaddr_un *);
static void	sock_inherit_add(int, const char *);
static int	sock_listen_one(const struct sock_addr *, int,
		    const struct sock_perm *);

static int
sock_port(const char *s, in_port_t *port)
{
	long long	v;

	if (parse_int(s, 1, 65535, &v) == -1) {
		errno = EINVAL;
		return (-1);
	}
	*port = htons((in_port_t)v);
	return (0);
}

static void
sock_key(const struct sockaddr *sa, char *key, size_t size)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	const struct sockaddr_un	*sun = (const void *)sa;
	char				 ip[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(key, size, "%s:%u", ip, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(key, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		snprintf(key, size, "%s", sun->sun_path);
		break;
	default:
		snprintf(key, size, "?");
		break;
	}
}

int
sock_parse(const char *spec, struct sock_addr *a)
{
	struct sockaddr_in	*sin = (void *)&a->ss;
	struct sockaddr_in6	*sin6 = (void *)&a->ss;
	struct sockaddr_un	*sun = (void *)&a->ss;
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*colon;
	size_t			 hlen;

	memset(a, 0, sizeof(*a));
	if (*spec == '\0') {
		errno = EINVAL;
		return (-1);
	}
	if (strspn(spec, "0123456789") == strlen(spec)) {
		/* a bare port: all addresses, IPv6 dual-stack if we can */
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		if (sock_port(spec, &sin6->sin6_port) == -1)
			return (-1);
		a->len = sizeof(*sin6);
		a->any = 1;
		sock_key((struct sockaddr *)&a->ss, a->key, sizeof(a->key));
		return (0);
	}
	if ((colon = strrchr(spec, ':')) == NULL) {
		if (strlen(spec) >= sizeof(sun->sun_path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		sun->sun_family = AF_UNIX;
		strlcpy(sun->sun_path, spec, sizeof(sun->sun_path));
		a->len = sizeof(*sun);
		strlcpy(a->key, spec, sizeof(a->key));
		return (0);
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= sizeof(host)) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1 ||
		    sock_port(colon + 1, &sin6->sin6_port) == -1) {
			errno = EINVAL;
			return (-1);
		}
		a->len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			errno = EINVAL;
			return (-1);
		}
		if (sock_port(colon + 1, &sin->sin_port) == -1)
			return (-1);
		a->len = sizeof(*sin);
	}
	sock_key((struct sockaddr *)&a->ss, a->key, sizeof(a->key));
	return (0);
}

/*
 * Like spawn-fcgi: refuse a path where a live socket answers, remove a stale
 * one.  Anything that is not a socket is refused with EEXIST and left alone:
 * bind(2) would say EADDRINUSE, which callers report as a live listener.
 */
static int
sock_unix_prepare(const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd, r;

	if (lstat(sun->sun_path, &st) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		errno = EADDRINUSE;
		return (-1);
	}
	if (errno != ECONNREFUSED && errno != ENOENT)
		return (-1);
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return (-1);
	return (0);
}

int
sock_listen(struct sock_addr *a, int backlog, const struct sock_perm *perm)
{
	int	fd;

	if ((fd = sock_listen_one(a, backlog, perm)) != -1 || !a->any ||
	    a->ss.ss_family != AF_INET6)
		return (fd);
	/* PHP-FPM's words and level, for any failure of [::] */
	log_info("Failed implicitly binding to ::, retrying with 0.0.0.0");
	sock_any_v4(a);
	return (sock_listen_one(a, backlog, perm));
}

static int
sock_listen_one(const struct sock_addr *a, int backlog,
    const struct sock_perm *perm)
{
	const struct sockaddr_un	*sun = (const void *)&a->ss;
	int				 fd, on = 1, off = 0, saved;
	mode_t				 mask = 0;

	if (a->ss.ss_family == AF_UNIX && sock_unix_prepare(sun) == -1)
		return (-1);
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
	if (a->ss.ss_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (a->any && a->ss.ss_family == AF_INET6 && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1)
		goto fail;
	if (a->ss.ss_family == AF_UNIX && perm != NULL && perm->mode != -1)
		mask = umask(0777 & ~(mode_t)perm->mode);
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		saved = errno;
		if (a->ss.ss_family == AF_UNIX && perm != NULL &&
		    perm->mode != -1)
			umask(mask);
		errno = saved;
		goto fail;
	}
	if (a->ss.ss_family == AF_UNIX && perm != NULL) {
		if (perm->mode != -1) {
			umask(mask);
			if (chmod(sun->sun_path, (mode_t)perm->mode) == -1)
				goto fail_unlink;
		}
		if ((perm->uid != (uid_t)-1 || perm->gid != (gid_t)-1) &&
		    chown(sun->sun_path, perm->uid, perm->gid) == -1)
			goto fail_unlink;
	}
	if (listen(fd, backlog < 0 ? INT_MAX : backlog) == -1)
		goto fail_unlink;
	return (fd);

fail_unlink:
	saved = errno;
	unlink(sun->sun_path);
	errno = saved;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

void
sock_any_v4(struct sock_addr *a)
{
	struct sockaddr_in	sin;

	if (!a->any || a->ss.ss_family != AF_INET6)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
	memset(&a->ss, 0, sizeof(a->ss));
	memcpy(&a->ss, &sin, sizeof(sin));
	a->len = sizeof(sin);
	sock_key((struct sockaddr *)&a->ss, a->key, sizeof(a->key));
}

int
sock_fd_key(int fd, char *key, size_t size)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	sock_key((struct sockaddr *)&ss, key, size);
	return (0);
}

static void
sock_inherit_add(int fd, const char *key)
{
	if (ninherited == SOCK_MAXINHERIT)
		return;
	inherited[ninherited].fd = fd;
	strlcpy(inherited[ninherited].key, key, SOCK_KEYLEN);
	ninherited++;
	/* ours now: workers and programs we exec must not see it */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
sock_inherit_init(void)
{
	const char	*s, *pid;
	char		*list, *item, *eq, *save;
	char		 key[SOCK_KEYLEN];
	long long	 n, fd, lpid;
	int		 i;

	if ((s = getenv("LISTEN_FDS")) != NULL &&
	    (pid = getenv("LISTEN_PID")) != NULL &&
	    parse_int(pid, 1, INT_MAX, &lpid) == 0 && lpid == getpid() &&
	    parse_int(s, 0, SOCK_MAXINHERIT, &n) == 0) {
		/* sd_listen_fds(3): fds from 3 on */
		for (i = 0; i < n; i++)
			if (sock_fd_key(3 + i, key, sizeof(key)) == 0)
				sock_inherit_add(3 + i, key);
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");

	/* PHP-FPM's re-exec format: "127.0.0.1:9000=7,/run/php.sock=8" */
	if ((s = getenv("FPM_SOCKETS")) != NULL && (list = strdup(s)) != NULL) {
		for (item = strtok_r(list, ",", &save); item != NULL;
		    item = strtok_r(NULL, ",", &save)) {
			if ((eq = strrchr(item, '=')) == NULL)
				continue;
			*eq = '\0';
			if (parse_int(eq + 1, 0, INT_MAX, &fd) == -1 ||
			    fcntl((int)fd, F_GETFD) == -1)
				continue;
			/* prefer the kernel's word over the variable's */
			if (sock_fd_key((int)fd, key, sizeof(key)) == -1)
				strlcpy(key, item, sizeof(key));
			sock_inherit_add((int)fd, key);
		}
		free(list);
	}
	unsetenv("FPM_SOCKETS");
	return (ninherited);
}

int
sock_inherit_take(const struct sock_addr *a)
{
	char	alt[SOCK_KEYLEN] = "";
	int	i, fd;

	/* a bare port may have been bound to [::] or to 0.0.0.0 */
	if (a->any)
		snprintf(alt, sizeof(alt), "%s%s", a->ss.ss_family == AF_INET6 ?
		    "0.0.0.0" : "[::]", strrchr(a->key, ':'));
	for (i = 0; i < ninherited; i++) {
		if (inherited[i].fd == -1 || (strcmp(inherited[i].key,
		    a->key) != 0 && strcmp(inherited[i].key, alt) != 0))
			continue;
		fd = inherited[i].fd;
		inherited[i].fd = -1;
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		return (fd);
	}
	return (-1);
}

int
sock_inherit_close_unused(void)
{
	int	i, n = 0;

	for (i = 0; i < ninherited; i++)
		if (inherited[i].fd != -1) {
			close(inherited[i].fd);
			inherited[i].fd = -1;
			n++;
		}
	ninherited = 0;
	return (n);
}

char *
sock_inherit_env(const int *fds, size_t nfds)
{
	char	*s, key[SOCK_KEYLEN];
	size_t	 size = 1, len = 0, i;
	int	 r;

	for (i = 0; i < nfds; i++)
		size += SOCK_KEYLEN + 16;
	if ((s = malloc(size)) == NULL)
		return (NULL);
	s[0] = '\0';
	for (i = 0; i < nfds; i++) {
		if (sock_fd_key(fds[i], key, sizeof(key)) == -1) {
			free(s);
			return (NULL);
		}
		r = snprintf(s + len, size - len, "%s%s=%d", i ? "," : "",
		    key, fds[i]);
		len += (size_t)r;
	}
	return (s);
}

int
sock_listen_queue(int fd, unsigned int *queued, unsigned int *backlog)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} rq;
	struct sockaddr_storage	 ss;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	struct tcp_info		 ti;
	struct unix_diag_msg	*m;
	struct unix_diag_rqlen	*rql;
	struct nlmsghdr		*h;
	struct rtattr		*a;
	struct stat		 st;
	socklen_t		 len = sizeof(ss);
	union {
		struct nlmsghdr	h;
		char		b[8192];
	} buf;
	ssize_t			 n;
	int			 nfd, alen, found = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		/* on a listener: unacked is the queue, sacked the backlog */
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
			return (-1);
		*queued = ti.tcpi_unacked;
		*backlog = ti.tcpi_sacked;
		return (0);
	}
	if (ss.ss_family != AF_UNIX || fstat(fd, &st) == -1) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST;
	rq.req.sdiag_family = AF_UNIX;
	rq.req.udiag_states = 1U << 10;		/* TCP_LISTEN */
	rq.req.udiag_ino = (unsigned int)st.st_ino;
	rq.req.udiag_show = UDIAG_SHOW_RQLEN;
	rq.req.udiag_cookie[0] = rq.req.udiag_cookie[1] = ~0U;
	if ((nfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return (-1);
	if (sendto(nfd, &rq, sizeof(rq), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) == -1 || (n = recv(nfd, &buf, sizeof(buf), 0)) <= 0) {
		close(nfd);
		return (-1);
	}
	close(nfd);
	for (h = &buf.h; NLMSG_OK(h, (unsigned int)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			break;
		m = NLMSG_DATA(h);
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
		    a = RTA_NEXT(a, alen)) {
			if (a->rta_type != UNIX_DIAG_RQLEN)
				continue;
			rql = RTA_DATA(a);
			*queued = rql->udiag_rqueue;
			*backlog = rql->udiag_wqueue;
			found = 1;
		}
	}
	if (!found) {
		errno = ENOENT;
		return (-1);
	}
	return (0);
}
