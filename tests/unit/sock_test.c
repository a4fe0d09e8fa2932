/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/sock: parsing, binding, inherited sockets. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/sock.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static char	dir[] = "/tmp/sock_test.XXXXXX";

static void	skip(const char *);
static int	free_port(void);
static int	connects(const struct sock_addr *);


static void
skip(const char *why)
{
	ntest++;
	printf("ok %d # skip %s\n", ntest, why);
}

/* A TCP port on 127.0.0.1 that was free a moment ago (sock_parse refuses 0). */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("free_port");
		exit(1);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

static int
connects(const struct sock_addr *a)
{
	int	fd, r;

	if ((fd = socket(a->ss.ss_family, SOCK_STREAM, 0)) == -1)
		return (0);
	r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	close(fd);
	return (r == 0);
}

static void
test_parse(void)
{
	static const struct {
		const char	*spec;
		int		 family;
		int		 any;
		const char	*key;
	} ok[] = {
		{ "/run/php/www.sock", AF_UNIX, 0, "/run/php/www.sock" },
		{ "www.sock", AF_UNIX, 0, "www.sock" },
		{ "9000", AF_INET6, 1, "[::]:9000" },
		{ "1", AF_INET6, 1, "[::]:1" },
		{ "65535", AF_INET6, 1, "[::]:65535" },
		{ "127.0.0.1:9000", AF_INET, 0, "127.0.0.1:9000" },
		{ "*:9000", AF_INET, 0, "0.0.0.0:9000" },
		{ "0.0.0.0:9000", AF_INET, 0, "0.0.0.0:9000" },
		{ "[::1]:9000", AF_INET6, 0, "[::1]:9000" },
		{ "[::]:9000", AF_INET6, 0, "[::]:9000" },
		{ "[0:0::1]:80", AF_INET6, 0, "[::1]:80" },
	};
	static const struct {
		const char	*spec;
		int		 err;
	} bad[] = {
		{ "", EINVAL },
		{ "0", EINVAL },
		{ "65536", EINVAL },
		{ "99999999999999999999", EINVAL },
		{ "localhost:9000", EINVAL },
		{ ":9000", EINVAL },
		{ "127.0.0.1:", EINVAL },
		{ "127.0.0.1:0", EINVAL },
		{ "127.0.0.1:65536", EINVAL },
		{ "127.0.0.1:x", EINVAL },
		{ "127.0.0.1:-1", EINVAL },
		{ "127.0.0.1:90 ", EINVAL },
		{ "300.0.0.1:9000", EINVAL },
		{ "[::1]", EINVAL },
		{ "[::1]:", EINVAL },
		{ "[zz]:9000", EINVAL },
		{ "::1:9000", EINVAL },
		{ "[127.0.0.1]:9000", EINVAL },
	};
	struct sock_addr	 a;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a.ss;
	char			 path[200];
	size_t			 i;

	for (i = 0; i < NELEM(ok); i++) {
		memset(&a, 0x55, sizeof(a));
		check(sock_parse(ok[i].spec, &a) == 0 &&
		    a.ss.ss_family == ok[i].family && a.any == ok[i].any &&
		    strcmp(a.key, ok[i].key) == 0,
		    "sock_parse(\"%s\"): key \"%s\"", ok[i].spec, ok[i].key);
	}
	sock_parse("/a/b", &a);
	check(strcmp(sun->sun_path, "/a/b") == 0 &&
	    a.len == sizeof(struct sockaddr_un), "unix: sun_path and len");
	sock_parse("10.1.2.3:8080", &a);
	check(a.len == sizeof(struct sockaddr_in) &&
	    ntohs(((struct sockaddr_in *)&a.ss)->sin_port) == 8080 &&
	    ntohl(((struct sockaddr_in *)&a.ss)->sin_addr.s_addr) ==
	    0x0a010203, "ipv4: address, port and len");
	sock_parse("[::1]:8080", &a);
	check(a.len == sizeof(struct sockaddr_in6) &&
	    ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port) == 8080,
	    "ipv6: port and len");
	sock_parse("9000", &a);
	sock_any_v4(&a);
	check(a.ss.ss_family == AF_INET && a.len == sizeof(struct sockaddr_in) &&
	    a.any && strcmp(a.key, "0.0.0.0:9000") == 0 &&
	    ntohs(((struct sockaddr_in *)&a.ss)->sin_port) == 9000,
	    "sock_any_v4: a bare port's [::] becomes 0.0.0.0");
	sock_parse("127.0.0.1:9000", &a);
	sock_any_v4(&a);
	check(strcmp(a.key, "127.0.0.1:9000") == 0,
	    "sock_any_v4 leaves an address that is not a bare port");
	for (i = 0; i < NELEM(bad); i++) {
		errno = 0;
		check(sock_parse(bad[i].spec, &a) == -1 &&
		    errno == bad[i].err, "sock_parse(\"%s\") fails with "
		    "EINVAL", bad[i].spec);
	}
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[sizeof(sun->sun_path) - 1] = '\0';		/* 107 bytes */
	check(sock_parse(path, &a) == 0 && a.ss.ss_family == AF_UNIX,
	    "a 107-byte unix path fits");
	path[sizeof(sun->sun_path) - 1] = 'p';
	path[sizeof(sun->sun_path)] = '\0';		/* 108 bytes */
	errno = 0;
	check(sock_parse(path, &a) == -1 && errno == ENAMETOOLONG,
	    "a 108-byte unix path: ENAMETOOLONG");
}

static void
test_unix(void)
{
	struct sock_addr	a;
	struct sock_perm	perm = { (uid_t)-1, (gid_t)-1, 0640 };
	struct stat		st;
	char			path[256], key[SOCK_KEYLEN];
	mode_t			old;
	int			fd, fd2, f;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	check(sock_parse(path, &a) == 0, "parse %s", path);
	old = umask(022);
	fd = sock_listen(&a, 16, &perm);
	check(fd != -1, "sock_listen on a unix path");
	check(umask(old) == 022, "the umask is restored");
	check(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 07777) == 0640, "mode 0640 (got %#o)",
	    (unsigned)(st.st_mode & 07777));
	f = fcntl(fd, F_GETFL);
	check((f & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "non-blocking and close-on-exec");
	check(sock_fd_key(fd, key, sizeof(key)) == 0 &&
	    strcmp(key, path) == 0, "sock_fd_key = the path");
	check(connects(&a), "a client connects");

	errno = 0;
	fd2 = sock_listen(&a, 16, NULL);
	check(fd2 == -1 && errno == EADDRINUSE,
	    "a live socket is refused with EADDRINUSE");
	check(connects(&a), "and the live one still answers");
	close(fd);
	check(stat(path, &st) == 0 && !connects(&a), "a stale socket file");
	fd = sock_listen(&a, -1, NULL);
	check(fd != -1 && connects(&a), "a stale socket is replaced");
	close(fd);

	if (geteuid() == 0) {
		perm.uid = 65534;
		perm.gid = 65534;
		perm.mode = 0600;
		fd = sock_listen(&a, 16, &perm);
		check(fd != -1 && stat(path, &st) == 0 &&
		    st.st_uid == 65534 && st.st_gid == 65534 &&
		    (st.st_mode & 07777) == 0600,
		    "owner 65534:65534 mode 0600 (as root)");
		close(fd);
		perm.uid = (uid_t)-1;
		perm.gid = 100;
		perm.mode = -1;
		fd = sock_listen(&a, 16, &perm);
		check(fd != -1 && stat(path, &st) == 0 && st.st_uid == 0 &&
		    st.st_gid == 100, "group only: uid left alone");
		close(fd);
	} else {
		skip("socket owner needs root");
		skip("socket group needs root");
	}
	unlink(path);

	/* not a socket: nothing is removed, and it is not "in use" */
	if ((f = open(path, O_CREAT | O_WRONLY, 0600)) != -1)
		close(f);
	errno = 0;
	check(sock_listen(&a, 16, NULL) == -1 && errno == EEXIST &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode),
	    "a regular file in the way: EEXIST, left alone");
	unlink(path);

	snprintf(path, sizeof(path), "%s/nodir/s.sock", dir);
	sock_parse(path, &a);
	errno = 0;
	check(sock_listen(&a, 16, NULL) == -1 && errno == ENOENT,
	    "a missing directory: ENOENT");
}

static void
test_tcp(void)
{
	struct sock_addr	a;
	char			spec[64], key[SOCK_KEYLEN];
	int			port, fd, fd2;

	port = free_port();
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	check(sock_parse(spec, &a) == 0, "parse %s", spec);
	fd = sock_listen(&a, 16, NULL);
	check(fd != -1, "sock_listen on %s", spec);
	check(sock_fd_key(fd, key, sizeof(key)) == 0 &&
	    strcmp(key, spec) == 0, "sock_fd_key = \"%s\"", key);
	check(connects(&a), "a client connects");
	errno = 0;
	fd2 = sock_listen(&a, 16, NULL);
	check(fd2 == -1 && errno == EADDRINUSE,
	    "the same port twice: EADDRINUSE");
	close(fd);

	sock_parse("[::1]:1", &a);
	port = free_port();
	snprintf(spec, sizeof(spec), "[::1]:%d", port);
	sock_parse(spec, &a);
	if ((fd = sock_listen(&a, 16, NULL)) == -1 &&
	    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
		skip("no IPv6 loopback here");
	else {
		check(fd != -1 && sock_fd_key(fd, key, sizeof(key)) == 0 &&
		    strcmp(key, spec) == 0, "IPv6 %s", spec);
		close(fd);
	}

	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		errno = 0;
		check(sock_fd_key(fd, key, sizeof(key)) == -1 &&
		    errno == ENOTSOCK, "sock_fd_key of /dev/null: ENOTSOCK");
		close(fd);
	}
}

/* Put a fresh listening socket for spec on fd target. */
static int
listen_at(const char *spec, int target)
{
	struct sock_addr	a;
	int			fd;

	if (sock_parse(spec, &a) == -1 || (fd = sock_listen(&a, 16,
	    NULL)) == -1) {
		perror(spec);
		exit(1);
	}
	if (fd != target) {
		if (dup2(fd, target) == -1) {
			perror("dup2");
			exit(1);
		}
		close(fd);
	}
	/* as an exec'ing parent hands it over: inheritable, blocking */
	fcntl(target, F_SETFD, 0);
	fcntl(target, F_SETFL, 0);
	return (target);
}

static void
test_inherit(void)
{
	struct sock_addr	a;
	char			p3[256], p4[256], tcp[64], buf[512], *s;
	int			fds[2], n;

	snprintf(p3, sizeof(p3), "%s/three.sock", dir);
	snprintf(p4, sizeof(p4), "%s/four.sock", dir);
	snprintf(tcp, sizeof(tcp), "127.0.0.1:%d", free_port());

	/* systemd style: fds 3 and 4, LISTEN_PID ours */
	listen_at(p3, 3);
	listen_at(p4, 4);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "a:b", 1);
	n = sock_inherit_init();
	check(n == 2, "LISTEN_FDS=2: two sockets (got %d)", n);
	check(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL, "LISTEN_* unset");
	check((fcntl(3, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(4, F_GETFD) & FD_CLOEXEC), "inherited fds made CLOEXEC");
	sock_parse(p4, &a);
	n = sock_inherit_take(&a);
	check(n == 4 && (fcntl(4, F_GETFL) & O_NONBLOCK),
	    "take %s: fd 4, non-blocking", p4);
	check(sock_inherit_take(&a) == -1, "taken only once");
	sock_parse(tcp, &a);
	check(sock_inherit_take(&a) == -1, "no match for another address");
	check(sock_inherit_close_unused() == 1 &&
	    fcntl(3, F_GETFD) == -1 && errno == EBADF && fcntl(4,
	    F_GETFD) != -1, "close_unused closes fd 3 only");
	close(4);

	/* LISTEN_PID of another process: not for us */
	listen_at(p3, 3);
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	check(sock_inherit_init() == 0 && getenv("LISTEN_FDS") == NULL &&
	    fcntl(3, F_GETFD) == 0, "LISTEN_PID not ours: ignored, fd "
	    "untouched, variables unset");
	close(3);
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", "nope", 1);
	check(sock_inherit_init() == 0, "LISTEN_FDS=nope: ignored");

	/* PHP-FPM style: FPM_SOCKETS=key=fd,... (the kernel's key wins) */
	fds[0] = listen_at(p3, 20);
	fds[1] = listen_at(tcp, 21);
	snprintf(buf, sizeof(buf), "wrong=%d,%s=%d,junk,/x=99,/y=z",
	    fds[0], tcp, fds[1]);
	setenv("FPM_SOCKETS", buf, 1);
	n = sock_inherit_init();
	check(n == 2 && getenv("FPM_SOCKETS") == NULL,
	    "FPM_SOCKETS: two sockets, bad items skipped (got %d)", n);
	sock_parse(p3, &a);
	check(sock_inherit_take(&a) == 20, "take %s by its real name", p3);
	sock_parse("wrong", &a);
	check(sock_inherit_take(&a) == -1, "not by the variable's name");
	sock_parse(tcp, &a);
	check(sock_inherit_take(&a) == 21, "take %s", tcp);
	check(sock_inherit_close_unused() == 0, "nothing left to close");

	s = sock_inherit_env(fds, 2);
	snprintf(buf, sizeof(buf), "%s=20,%s=21", p3, tcp);
	check(s != NULL && strcmp(s, buf) == 0, "sock_inherit_env: \"%s\"",
	    s ? s : "(null)");
	free(s);
	s = sock_inherit_env(fds, 0);
	check(s != NULL && *s == '\0', "sock_inherit_env of none: \"\"");
	free(s);
	n = 0;
	errno = 0;
	s = sock_inherit_env(&n, 1);
	check(s == NULL && errno == ENOTSOCK, "sock_inherit_env of fd 0 "
	    "(not a socket): NULL");
	close(20);
	close(21);
	unlink(p3);
	unlink(p4);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_parse();
	test_unix();
	test_tcp();
	test_inherit();
	rmdir(dir);
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
