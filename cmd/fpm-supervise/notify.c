/* SPDX-License-Identifier: ISC */
/*
 * Readiness for supervisors: sd_notify(3)'s protocol (NOTIFY_SOCKET,
 * spoken without libsystemd: one datagram per message) with READY=1,
 * RELOADING=1, STATUS= and the watchdog, and s6's readiness fd.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "libcommon/parse.h"
#include "fpm.h"

static struct sockaddr_un	 nsun;
static socklen_t		 nsunlen;
static int			 nfd = -1;
static struct ev_timer		 status_timer, watchdog_timer;
static int64_t			 status_ms, watchdog_ms;

static void	notify_send(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	notify_status_tick(struct ev_timer *);
static void	notify_watchdog_tick(struct ev_timer *);

/*
 * Read NOTIFY_SOCKET (a path, or "@name" in the abstract namespace) and
 * WATCHDOG_USEC, then unset them: our workers must not notify for us.
 */
void
notify_init(int64_t interval_ms)
{
	const char	*path = getenv("NOTIFY_SOCKET");
	const char	*wd = getenv("WATCHDOG_USEC");
	const char	*wdpid = getenv("WATCHDOG_PID");
	long long	 v, pid;
	size_t		 len;

	/* WATCHDOG_PID, when set, must be ours (sd_watchdog_enabled(3)) */
	watchdog_ms = 0;
	if (wd != NULL && parse_int(wd, 1, INT64_MAX, &v) == 0 &&
	    (wdpid == NULL || (parse_int(wdpid, 1, INT32_MAX, &pid) == 0 &&
	    pid == getpid())))
		watchdog_ms = (int64_t)v / 2000;	/* twice a period */
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || (path[0] != '/' && path[0] != '@')) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	len = strlen(path);
	if (len >= sizeof(nsun.sun_path)) {
		log_warnx("NOTIFY_SOCKET too long: not notifying");
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&nsun, 0, sizeof(nsun));
	nsun.sun_family = AF_UNIX;
	memcpy(nsun.sun_path, path, len);
	if (path[0] == '@')
		nsun.sun_path[0] = '\0';
	nsunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	unsetenv("NOTIFY_SOCKET");
	if ((nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return;
	}
	/* one of the two runs: the watchdog's ticks carry the status */
	if (ev_timer_reserve(1) == -1) {
		log_warn("NOTIFY_SOCKET: unable to reserve a timer");
		close(nfd);
		nfd = -1;
		return;
	}
	status_ms = interval_ms;
	status_timer.cb = notify_status_tick;
	watchdog_timer.cb = notify_watchdog_tick;
	if (watchdog_ms > 0)
		log_info("systemd watchdog configured to %.3gsec",
		    (double)watchdog_ms * 2 / 1000);
	else if (status_ms > 0)
		log_info("systemd monitor interval set to %lldms",
		    (long long)status_ms);
}

static void
notify_send(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	if (nfd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (sendto(nfd, buf, (size_t)n < sizeof(buf) ? (size_t)n :
	    sizeof(buf) - 1, MSG_NOSIGNAL, (struct sockaddr *)&nsun,
	    nsunlen) == -1 && errno != EAGAIN)
		log_warn("NOTIFY_SOCKET: sendto");
}

/* PHP-FPM's STATUS= line: processes and requests of every pool. */
static void
notify_status(void)
{
	unsigned long	accepted = 0, slow = 0;
	int		active = 0, idle = 0;
	size_t		i;

	for (i = 0; i < npools; i++) {
		idle += pools[i]->nidle;
		active += pools[i]->nworkers - pools[i]->nidle;
		accepted += pools[i]->accepted;
		slow += pools[i]->slow_requests;
	}
	notify_send("STATUS=Processes active: %d, idle: %d, Requests: %lu, "
	    "slow: %lu", active, idle, accepted, slow);
}

static void
notify_status_tick(struct ev_timer *t)
{
	notify_status();
	ev_timer_set(t, status_ms);
}

static void
notify_watchdog_tick(struct ev_timer *t)
{
	notify_send("WATCHDOG=1");
	notify_status();
	ev_timer_set(t, watchdog_ms);
}

/* Serving: tell systemd, and the s6 readiness fd (closed after). */
void
notify_ready(int readyfd)
{
	if (readyfd != -1) {
		if (write(readyfd, "\n", 1) == -1)
			log_warn("unable to write to the readiness fd %d",
			    readyfd);
		close(readyfd);
	}
	notify_send("READY=1\nMAINPID=%d", (int)getpid());
	notify_status();
	if (nfd == -1)
		return;
	if (watchdog_ms > 0)
		ev_timer_set(&watchdog_timer, watchdog_ms);
	else if (status_ms > 0)
		ev_timer_set(&status_timer, status_ms);
}

/* A reload begins (RELOADING=1 with the time systemd wants) or ends. */
void
notify_reloading(int begin)
{
	struct timespec	ts;

	if (!begin) {
		notify_send("READY=1");
		notify_status();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}
