/* SPDX-License-Identifier: ISC */
/* Listen addresses: parse, bind and listen, and adopt inherited sockets. */
#ifndef LIBCOMMON_SOCK_H
#define LIBCOMMON_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

#define SOCK_KEYLEN	128	/* "[v6]:port" or a sun_path, NUL included */

struct sock_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			any;	/* a bare port: [::] dual-stack or 0.0.0.0 */
	char			key[SOCK_KEYLEN];	/* canonical text */
};

/* Owner, group and mode of a unix socket; (uid_t)-1 etc. leave them alone. */
struct sock_perm {
	uid_t	uid;
	gid_t	gid;
	int	mode;		/* -1: leave the umask's */
};

/*
 * Parse a listen address as PHP-FPM does: "/path" (anything without ':' that
 * is not all digits), "port", "ip:port", "[ipv6]:port", "*:port".  Returns 0,
 * or -1 with errno EINVAL (bad address or port) or ENAMETOOLONG (unix path).
 */
int	sock_parse(const char *spec, struct sock_addr *addr);

/*
 * Create a listening socket (non-blocking, close-on-exec) with backlog (-1:
 * the kernel's maximum).  A bare port binds [::], dual-stack; when that
 * fails for any reason, it logs PHP-FPM's notice and binds 0.0.0.0, as
 * PHP-FPM does, and *addr then says 0.0.0.0 (sock_any_v4()).  A unix path where a live socket answers fails with
 * EADDRINUSE, anything else that is not a socket with EEXIST; a stale socket
 * file is removed first.  perm applies to unix sockets (NULL: none).  Returns
 * the fd, or -1 with errno set.
 */
int	sock_listen(struct sock_addr *addr, int backlog,
	    const struct sock_perm *perm);

/* Make a bare port's [::] its 0.0.0.0 (its key too); others stay as they are. */
void	sock_any_v4(struct sock_addr *addr);

/* Write the canonical key of the address fd is bound to; 0 or -1 (errno). */
int	sock_fd_key(int fd, char *key, size_t size);

/*
 * Read inherited listening sockets from LISTEN_FDS/LISTEN_PID (systemd, when
 * LISTEN_PID is ours) and FPM_SOCKETS (PHP-FPM's "key=fd,key=fd"), and unset
 * those variables.  Returns how many were found (0 if none).
 */
int	sock_inherit_init(void);
/* The inherited fd bound to addr, now owned by the caller; -1 if none. */
int	sock_inherit_take(const struct sock_addr *addr);
/* Close inherited sockets nobody took; returns how many were closed. */
int	sock_inherit_close_unused(void);

/*
 * The kernel's accept queue of a listening socket: *queued connections
 * wait, *backlog may.  TCP through TCP_INFO, unix sockets through
 * NETLINK_SOCK_DIAG (which PHP-FPM never did).  0, or -1 with errno set.
 */
int	sock_listen_queue(int fd, unsigned int *queued, unsigned int *backlog);

/*
 * Build the FPM_SOCKETS value for fds ("key=fd,..."), for a re-exec; returns
 * a malloc'd string or NULL with errno set.  The fds must not be CLOEXEC.
 */
char	*sock_inherit_env(const int *fds, size_t nfds);

#endif
