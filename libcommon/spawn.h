/* SPDX-License-Identifier: ISC */
/* Starting a worker: privilege drop, chroot, limits, environment, then exec. */
#ifndef LIBCOMMON_SPAWN_H
#define LIBCOMMON_SPAWN_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stdint.h>

#define SPAWN_NOLIMIT	((uint64_t)-2)	/* leave an rlimit as it is */

/* Where the listening socket goes in the new program. */
enum spawn_sockmode {
	SPAWN_SOCK_NONE,	/* fd 0 is left alone */
	SPAWN_SOCK_STDIN,	/* fd 0, FastCGI's FCGI_LISTENSOCK_FILENO */
	SPAWN_SOCK_LISTEN_FDS	/* fd 3 with LISTEN_FDS=1 LISTEN_PID=pid */
};

/*
 * What the child does before its exec, in this order: setsid, fds (socket,
 * stdout/stderr, everything else closed at exec), signal dispositions and
 * mask reset, rlimits, nice, setgroups, setresgid, chroot, chdir, setresuid,
 * the parent-death signal, then execve(argv[0], argv, envp)
 * (execvpe when argv[0] has no '/').  groups and chroot are done while still
 * root, as spawn-fcgi does; setresuid comes last.
 */
struct spawn {
	char *const	*argv;		/* argv[0] is the program */
	char *const	*envp;		/* the whole environment */
	int		 sock;		/* listening socket, or -1 */
	enum spawn_sockmode sockmode;
	int		 stdout_fd;	/* dup2'd to 1 (-1: leave 1 alone) */
	int		 stderr_fd;	/* dup2'd to 2 (-1: leave 2 alone) */
	int		 fd3;		/* dup2'd to 3 with SPAWN_SOCK_STDIN
					   (-1: none) */
	int		 setids;	/* change to uid/gid/groups */
	uid_t		 uid;
	gid_t		 gid;
	const gid_t	*groups;	/* supplementary groups */
	size_t		 ngroups;
	const char	*chroot;	/* NULL: none */
	const char	*chdir;		/* NULL: none ("/" after a chroot) */
	uint64_t	 rlimit_nofile;	/* SPAWN_NOLIMIT: leave it */
	uint64_t	 rlimit_core;
	int		 setnice;
	int		 nice;
	int		 setsid;	/* new session and process group */
	int		 pdeathsig;	/* sent when the parent dies (0: none) */
};

/* Fill s with the defaults: nothing changes, no socket. */
void	spawn_init(struct spawn *s);

/*
 * Resolve user (a name or a uid) and group (a name, a gid, or NULL for the
 * user's primary group) into s, with the user's supplementary groups (a
 * malloc'd list: free with spawn_free).  Root is refused with EPERM unless
 * allow_root.  Returns 0, or -1 with errno ENOENT (no such user or group) or
 * EPERM; what went wrong is written to err.
 */
int	spawn_resolve_ids(struct spawn *s, const char *user, const char *group,
	    int allow_root, char *err, size_t errsize);
void	spawn_free(struct spawn *s);

/*
 * Build an environment: a copy of environ unless clear, then each "NAME=VALUE"
 * of set replaces or adds.  Returns a malloc'd NULL-terminated array (free with
 * spawn_env_free), or NULL with errno set.
 */
char	**spawn_env(int clear, char *const *set, size_t nset);
void	spawn_env_free(char **env);

/*
 * The child side: apply s and exec.  Never returns.  On failure, if errfd is
 * not -1, "step: strerror" is written to it (a close-on-exec pipe, whose EOF
 * tells the parent that exec succeeded), else it is logged; then the child
 * exits 127 if the program was not found, 126 if exec failed, 111 otherwise.
 */
__attribute__((noreturn)) void spawn_exec(const struct spawn *s, int errfd);

/*
 * Start a child that does what spawn_exec does, and return once it has
 * exec'd or failed.  The child is a clone sharing our memory, during which
 * we are suspended (CLONE_VM | CLONE_VFORK): no page table is copied, and
 * no pipe read waits for the exec after.
 * Returns the child's pid, or -1 with errno set and the child's reason in err
 * (the failed child has been reaped then): ENOENT, the program was not found;
 * ENOEXEC, exec failed otherwise; ECHILD, a step before exec failed.  If
 * pidfd is not NULL, a pidfd of the child is stored there; when pidfd_open
 * fails, the child is killed and reaped and its errno returned ("pidfd_open:
 * strerror" in err).
 */
pid_t	spawn_start(const struct spawn *s, int *pidfd, char *err,
	    size_t errsize);

/*
 * Keep six low fds (above 2, close-on-exec, on /dev/null) through which
 * spawn_start hands its children their fds: a child then copies only our
 * fds below them, not all (a supervisor holds a few per worker), and
 * neither we nor it pays for each.  Call it early, before the fds that
 * will be many; once is enough.  The slots are spawn_start's: nothing else
 * may close or replace them, nor call it from two threads at once.  0, or
 * -1 with errno set (nothing kept: spawn_start works as without).
 */
int	spawn_reserve_fds(void);

#endif
