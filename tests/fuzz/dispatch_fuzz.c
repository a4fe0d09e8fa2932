/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for fpm-supervise's dispatcher (front.c, dispatch.c,
 * relay.c, builtin.c, with the real pools, workers and event loop): the
 * input is a script of what clients and workers do, and the supervisor's
 * own code runs between the steps until it has nothing left to do.
 *
 * Three pools from a fixed configuration, each unlike the others (php-cgi's
 * probe, the probe after END_REQUEST, none; buffered or streamed bodies,
 * a spool, a queue, ping and status, an access log).  Clients are real
 * unix socket connections to a pool's listening socket.  Workers are not
 * processes: spawn_start() is wrapped, and the "worker" is the listening
 * socket the supervisor made for it, which the script accepts, reads and
 * writes; its pidfd is an eventfd that turns readable when the script (or
 * a signal of the supervisor's, through the wrapped syscall()) kills it,
 * and waitid() answers for it.  The scripts under /srv/www exist
 * (cgi_probe_stat() is wrapped too).  The clock is the script's too:
 * clock_gettime() is wrapped and epoll_wait() never sleeps, so timers fire
 * when the script moves time on, and every run is the same.
 *
 * What the supervisor sends a client or a worker must be a FastCGI stream
 * it may send: checked as it is read.  After each input every client and
 * worker goes, time runs on until nothing is left, and no descriptor or
 * connection may remain (the sanitizers see the memory).  The seeds are
 * written by tests/fuzz/dispatch-seeds (run from the top directory).
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/cgi.h"
#include "libcommon/conf.h"
#include "libcommon/ev.h"
#include "libcommon/fcgi.h"
#include "libcommon/log.h"
#include "libcommon/spawn.h"
#include "cmd/fpm-supervise/fpm.h"
#include "tests/fuzz/fuzz.h"

#define MAXCLIENTS	4
#define MAXWORKERS	16
#define FAKE_PID0	(1 << 22)	/* above Linux's largest pid_max */
#define SETTLE_MAX	2000		/* loop turns to quiescence */
#define IOBUF		(256 * 1024)

/*
 * The script's steps: the low 5 bits of a byte; the high 3 pick who: the
 * client (who % MAXCLIENTS; a new one connects to pool who % npools), or
 * the worker (fw_pick).
 */
enum op {
	OP_CONNECT,	/* a new client of pool (who % npools) */
	OP_CWRITE,	/* len16, bytes: the client sends them */
	OP_CREAD,	/* the client reads what is there */
	OP_CSHUT,	/* the client shuts its write side */
	OP_CCLOSE,	/* the client closes */
	OP_WACCEPT,	/* a worker accepts the supervisor's connection */
	OP_WREAD,	/* a worker reads what is there */
	OP_WWRITE,	/* len16, bytes: a worker sends them */
	OP_WCLOSE,	/* a worker closes its connection */
	OP_WEXIT,	/* u8: a worker exits (even: code; odd: signal) */
	OP_WIGNTERM,	/* a worker ignores SIGTERM from now on */
	OP_WANSWER,	/* a worker sends a whole answer to request 1 */
	OP_CLOCK,	/* u8: time moves on (table below) */
	OP_SPAWNFAIL,	/* the next worker fails to start */
	OP_CREQUEST,	/* u8 flags, u8 id, [u16 * 3 body bytes]: a client
			   sends a whole request (client_request) */
	OP_CREC,	/* u8 type, u8 id, len16, bytes: one client record */
	OP_WREC,	/* u8 type, u8 id, len16, bytes: one worker record */
	OP_CABORT,	/* u8 id: ABORT_REQUEST */
	OP_CREPEAT,	/* u8 n, len16, bytes: the client sends them n + 1
			   times (up to IOBUF): answers it does not read */
	OP_WBIG,	/* u8 n: a worker answers request 1 with n % 32 * 64 KB
			   of STDOUT, more than the sockets hold; with n & 32
			   the clients read along */
	OP_NOPS
};

struct client {
	int			 fd;		/* -1: none */
	int			 pool;
	int			 shut;
	struct fcgi_decoder	 in;		/* what it gets */
	struct fcgi_decoder	 out;		/* what it sends */
	uint8_t			 begun[65536 / 8];	/* ids it began */
};

struct fakew {
	int			 used;
	struct pool		*pool;
	pid_t			 pid;
	int			 pidfd;		/* the supervisor's, an eventfd */
	int			 lfd;		/* its listening socket */
	int			 cfd;		/* the connection it took */
	int			 dead;		/* pidfd readable */
	int			 code, status;	/* for waitid */
	int			 ignterm;
	struct fcgi_decoder	 in;		/* what the supervisor sends it */
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	fpm_supervise_main(int, char **);

int	__real_clock_gettime(clockid_t, struct timespec *);
int	__wrap_clock_gettime(clockid_t, struct timespec *);
int	__real_epoll_wait(int, struct epoll_event *, int, int);
int	__wrap_epoll_wait(int, struct epoll_event *, int, int);
int	__real_waitid(idtype_t, id_t, siginfo_t *, int);
int	__wrap_waitid(idtype_t, id_t, siginfo_t *, int);
long	__real_syscall(long, ...);
long	__wrap_syscall(long, ...);
pid_t	__wrap_spawn_start(const struct spawn *, int *, char *, size_t);
uint32_t __wrap_arc4random_uniform(uint32_t);
enum cgi_ftype __real_cgi_probe_stat(const char *, void *);
enum cgi_ftype __wrap_cgi_probe_stat(const char *, void *);

static void	settle(void);
static void	fw_die(struct fakew *, int, int);
static struct fakew *fw_pick(unsigned int);
static struct fakew *fw_of_pidfd(int);
static void	client_check(struct client *, const uint8_t *, size_t);
static void	worker_check(struct fakew *, const uint8_t *, size_t);
static void	client_send(struct client *, const uint8_t *, size_t);
static size_t	send_part(int, const uint8_t *, size_t);
static void	send_all(int, const uint8_t *, size_t);
static void	worker_big(struct fakew *, size_t, int);
static void	drain(int, void (*)(void *, const uint8_t *, size_t), void *);
static void	drain_clients(void);
static void	cleanup(void);

static char		 dir[PATH_MAX];
static struct conf	 conf;
static struct confref	*ref;
static pthread_t	 main_thread;
static int		 virt;		/* the clock is ours */
static int64_t		 vnow_us = 1000000;
static int		 nevents;	/* of the last epoll_wait */
static struct client	 clients[MAXCLIENTS];
static struct fakew	 fws[MAXWORKERS];
static pid_t		 next_pid = FAKE_PID0;
static int		 spawn_fail;
static uint8_t		 iobuf[IOBUF];
static uint8_t		 recbig[IOBUF];	/* worker_big()'s records */
static uint8_t		 recbuf[FCGI_RECORD_SIZE(FCGI_MAX_CONTENT)];
/* OP_CLOCK's steps, milliseconds */
static const int64_t	 steps[] = { 0, 1, 10, 100, 999, 1000, 1001, 3000,
			    5000, 10000, 20000, 60000, 600000 };

static const char config[] =
	"[global]\n"
	"process_control_timeout = 3s\n"
	"[a]\n"
	"listen = %1$s/a.sock\n"
	"command = %1$s/php-cgi\n"
	/* its fake workers are processes, not one php-cgi's children */
	"php.group = no\n"
	"pm = ondemand\n"
	"pm.max_children = 2\n"
	"pm.max_requests = 3\n"
	"pm.process_idle_timeout = 10s\n"
	"ping.path = /ping\n"
	"pm.status_path = /status\n"
	"queue.max_length = 2\n"
	"queue.timeout = 1s\n"
	"request.client_timeout = 5s\n"
	"request.buffer_size = 1k\n"
	"request.spool_dir = %1$s\n"
	"request.max_params_size = 4k\n"
	"request_terminate_timeout = 20s\n"
	"listen.keepalive_timeout = 10s\n"
	"[b]\n"
	"listen = %1$s/b.sock\n"
	"command = /bin/true\n"
	"pm = static\n"
	"pm.max_children = 1\n"
	"request.buffering = no\n"
	"request.terminate_on_abort = yes\n"
	"request_terminate_timeout = 30s\n"
	"request_terminate_timeout_track_finished = yes\n"
	"listen.keepalive_timeout = 0\n"
	"security.limit_extensions = .php .phtml\n"
	"[c]\n"
	"listen = %1$s/c.sock\n"
	"command = /bin/true\n"
	"pm = ondemand\n"
	"pm.max_children = 1\n"
	"request.finish_probe = no\n"
	"queue.max_length = 0\n"
	"access.log = /dev/null\n"
	"access.format = \"%%m %%r %%s %%{REQUEST_URI}e %%{Content-Type}o "
	    "%%{mili}d\"\n"
	"ping.path = /ping\n"
	"ping.response = pong\n";

/* The clock, for the supervisor's code on the main thread only. */
int
__wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t	us = vnow_us;

	if (!virt || !pthread_equal(pthread_self(), main_thread))
		return (__real_clock_gettime(id, ts));
	if (id == CLOCK_REALTIME)
		us += 1700000000LL * 1000000;
	ts->tv_sec = us / 1000000;
	ts->tv_nsec = (long)(us % 1000000) * 1000;
	return (0);
}

/* The loop never sleeps: time moves only with OP_CLOCK. */
int
__wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	(void)timeout;
	nevents = __real_epoll_wait(epfd, evs, max, 0);
	return (nevents);
}

int
__wrap_waitid(idtype_t type, id_t id, siginfo_t *si, int options)
{
	struct fakew	*f;

	if (type != P_PIDFD || (f = fw_of_pidfd((int)id)) == NULL)
		return (__real_waitid(type, id, si, options));
	memset(si, 0, sizeof(*si));
	if (!f->dead)
		return (0);	/* WNOHANG, still running */
	si->si_signo = SIGCHLD;
	si->si_pid = f->pid;
	si->si_code = f->code;
	si->si_status = f->status;
	f->used = 0;	/* the supervisor closes the pidfd */
	return (0);
}

/* pidfd_send_signal(2) to a fake worker: it dies, or shrugs SIGTERM off. */
long
__wrap_syscall(long n, ...)
{
	struct fakew	*f;
	va_list		 ap;
	long		 a[6];
	int		 i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (n != SYS_pidfd_send_signal || (f = fw_of_pidfd((int)a[0])) ==
	    NULL)
		return (__real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]));
	if (f->dead) {
		errno = ESRCH;
		return (-1);
	}
	if (a[1] == 0 || (a[1] == SIGTERM && f->ignterm))
		return (0);
	fw_die(f, CLD_KILLED, (int)a[1]);
	return (0);
}

/* A "worker": the listening socket made for it, and an eventfd pidfd. */
pid_t
__wrap_spawn_start(const struct spawn *s, int *pidfd, char *err,
    size_t errsize)
{
	struct fakew	*f = NULL;
	size_t		 i;

	for (i = 0; i < MAXWORKERS && f == NULL; i++)
		if (!fws[i].used)
			f = &fws[i];
	if (f == NULL || spawn_fail) {
		spawn_fail = 0;
		snprintf(err, errsize, "no more room");
		errno = EAGAIN;
		return (-1);
	}
	memset(f, 0, sizeof(*f));
	f->cfd = -1;
	if ((f->lfd = fcntl(s->sock, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (f->pidfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		perror("spawn_start");
		abort();
	}
	f->used = 1;
	f->pool = container_of(s, struct pool, spawn);
	f->pid = next_pid++;
	fcgi_decoder_init(&f->in);
	*pidfd = f->pidfd;
	return (f->pid);
}

/*
 * The scripts the requests name, the same on every machine: /srv/www
 * holds index.php, a.phtml, x.txt and up/evil.jpg; anything else is
 * looked up for real.
 */
enum cgi_ftype
__wrap_cgi_probe_stat(const char *path, void *root)
{
	static const char *const files[] = { "/srv/www/index.php",
	    "/srv/www/a.phtml", "/srv/www/x.txt", "/srv/www/up/evil.jpg" };
	size_t	i;

	if (strncmp(path, "/srv/www", 8) != 0)
		return (__real_cgi_probe_stat(path, root));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(path, files[i]) == 0)
			return (CGI_FT_REG);
	if (strcmp(path, "/srv/www") == 0 || strcmp(path, "/srv/www/") == 0 ||
	    strcmp(path, "/srv/www/up") == 0)
		return (CGI_FT_OTHER);
	return (CGI_FT_NONE);
}

/* max_requests' jitter, and anything else random: none. */
uint32_t
__wrap_arc4random_uniform(uint32_t upper)
{
	(void)upper;
	return (0);
}

static struct fakew *
fw_of_pidfd(int fd)
{
	size_t	i;

	for (i = 0; i < MAXWORKERS; i++)
		if (fws[i].used && fws[i].pidfd == fd)
			return (&fws[i]);
	return (NULL);
}

/*
 * A living fake worker of pool (who % npools): the (who / npools)-th,
 * modulo their count; NULL if it has none.
 */
static struct fakew *
fw_pick(unsigned int who)
{
	struct pool	*p = pools[who % npools];
	size_t		 i, alive = 0, n;

	for (i = 0; i < MAXWORKERS; i++)
		alive += fws[i].used && !fws[i].dead && fws[i].pool == p;
	if (alive == 0)
		return (NULL);
	n = (who / npools) % alive;
	for (i = 0; i < MAXWORKERS; i++)
		if (fws[i].used && !fws[i].dead && fws[i].pool == p &&
		    n-- == 0)
			return (&fws[i]);
	return (NULL);
}

/* The process is gone: the kernel closes its descriptors. */
static void
fw_die(struct fakew *f, int code, int status)
{
	uint64_t	one = 1;

	if (f->cfd != -1)
		close(f->cfd);
	close(f->lfd);
	f->cfd = f->lfd = -1;
	f->dead = 1;
	f->code = code;
	f->status = status;
	if (write(f->pidfd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void
settle(void)
{
	int	idle = 0, turns = 0;

	while (idle < 3) {
		if (ev_run_once() == -1) {
			perror("ev_run_once");
			abort();
		}
		conns_reap();
		if (++turns > SETTLE_MAX)
			fuzz_fail("the loop does not settle: an event "
			    "nobody takes", NULL, 0);
		idle = nevents == 0 ? idle + 1 : 0;
	}
}

/* What a client may get: records it can take, for requests it began. */
static void
client_check(struct client *cl, const uint8_t *buf, size_t len)
{
	const struct fcgi_header *h = &cl->in.hdr;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen, off = 0;
	ssize_t			 used;

	do {
		used = fcgi_decode(&cl->in, buf + off, len - off, &ev, &data,
		    &dlen);
		if (used == -1)
			fuzz_fail("a client got a record of another version",
			    (const char *)buf, len);
		off += (size_t)used;
		if (ev != FCGI_EV_HEADER)
			continue;
		switch (h->type) {
		case FCGI_STDOUT:
		case FCGI_STDERR:
		case FCGI_END_REQUEST:
			if (h->request_id == 0 || !(cl->begun[h->request_id /
			    8] & (1 << (h->request_id % 8))))
				fuzz_fail("a client got a record of a request "
				    "it never began", NULL, 0);
			break;
		case FCGI_GET_VALUES_RESULT:
		case FCGI_UNKNOWN_TYPE:
			if (h->request_id != 0)
				fuzz_fail("a management answer with a request "
				    "id", NULL, 0);
			break;
		default:
			fuzz_fail("a client got a record of a type a server "
			    "does not send", NULL, 0);
		}
	} while (off < len || ev != FCGI_EV_NEED_MORE);
}

/* What a worker may get: a request as id 1, or the probe as id 2. */
static void
worker_check(struct fakew *f, const uint8_t *buf, size_t len)
{
	const struct fcgi_header *h = &f->in.hdr;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen, off = 0;
	ssize_t			 used;

	do {
		used = fcgi_decode(&f->in, buf + off, len - off, &ev, &data,
		    &dlen);
		if (used == -1)
			fuzz_fail("a worker got a record of another version",
			    (const char *)buf, len);
		off += (size_t)used;
		if (ev != FCGI_EV_HEADER)
			continue;
		if (h->request_id == 2 && h->type == FCGI_STDIN)
			continue;	/* the probe */
		if (h->request_id != 1 || (h->type != FCGI_BEGIN_REQUEST &&
		    h->type != FCGI_PARAMS && h->type != FCGI_STDIN &&
		    h->type != FCGI_ABORT_REQUEST))
			fuzz_fail("a worker got a record a client may not "
			    "send it", NULL, 0);
	} while (off < len || ev != FCGI_EV_NEED_MORE);
}

static void
client_check_cb(void *arg, const uint8_t *buf, size_t len)
{
	client_check(arg, buf, len);
}

static void
worker_check_cb(void *arg, const uint8_t *buf, size_t len)
{
	worker_check(arg, buf, len);
}

/* Read fd until it has nothing more now; hand each piece to cb. */
static void
drain(int fd, void (*cb)(void *, const uint8_t *, size_t), void *arg)
{
	ssize_t	n;

	while ((n = read(fd, iobuf, sizeof(iobuf))) > 0)
		cb(arg, iobuf, (size_t)n);
}

/*
 * Write buf, letting the supervisor run while fd is full: how much went
 * (less when nobody reads it, or the other side closed).
 */
static size_t
send_part(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	n;
	size_t	sent = 0;
	int	stuck = 0;

	while (sent < len && stuck < 2) {
		n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			break;		/* EPIPE: the other side closed */
		if (n > 0) {
			sent += (size_t)n;
			stuck = 0;
		} else
			stuck++;
		settle();
	}
	return (sent);
}

static void
send_all(int fd, const uint8_t *buf, size_t len)
{
	(void)send_part(fd, buf, len);
}

/* A client's bytes: note the BEGIN_REQUESTs it makes, then send them. */
static void
client_send(struct client *cl, const uint8_t *buf, size_t len)
{
	const struct fcgi_header *h = &cl->out.hdr;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen, off = 0;
	ssize_t			 used;

	if (cl->fd == -1 || cl->shut)
		return;
	do {
		used = fcgi_decode(&cl->out, buf + off, len - off, &ev, &data,
		    &dlen);
		if (used == -1)
			break;	/* the supervisor closes on it */
		off += (size_t)used;
		if (ev == FCGI_EV_HEADER && h->type == FCGI_BEGIN_REQUEST)
			cl->begun[h->request_id / 8] |= 1 << (h->request_id %
			    8);
	} while (off < len || ev != FCGI_EV_NEED_MORE);
	send_all(cl->fd, buf, len);
}

/* p's name-value pairs as nginx's fastcgi_params would send them. */
static size_t
nginx_params(uint8_t *buf, size_t size, int flags, size_t bodylen)
{
	static const char *const paths[] = { "/srv/www/index.php",
	    "/srv/www/a.phtml", "/srv/www/x.txt", "/srv/www" };
	static const char *const uris[] = { "/index.php?a=1", "/ping",
	    "/status?json&full", "/status?openmetrics" };
	char		 cl[24];
	const char	*nv[][2] = {
		{ "SCRIPT_FILENAME", paths[flags >> 2 & 3] },
		{ "QUERY_STRING", "a=1" },
		{ "REQUEST_METHOD", bodylen > 0 ? "POST" : "GET" },
		{ "CONTENT_TYPE", "application/x-www-form-urlencoded" },
		{ "CONTENT_LENGTH", cl },
		{ "SCRIPT_NAME", uris[flags >> 4 & 3] },
		{ "REQUEST_URI", uris[flags >> 4 & 3] },
		{ "DOCUMENT_ROOT", "/srv/www" },
		{ "SERVER_PROTOCOL", "HTTP/1.1" },
		{ "GATEWAY_INTERFACE", "CGI/1.1" },
		{ "SERVER_SOFTWARE", "nginx/1.22.1" },
		{ "REMOTE_ADDR", "127.0.0.1" },
		{ "REMOTE_PORT", "40000" },
		{ "SERVER_NAME", "localhost" },
		{ "HTTP_HOST", "localhost" },
	};
	size_t		 i, n = 0;

	snprintf(cl, sizeof(cl), "%zu", bodylen);
	for (i = 0; i < sizeof(nv) / sizeof(nv[0]); i++)
		n += fcgi_nv_encode(buf + n, size - n, nv[i][0],
		    strlen(nv[i][0]), nv[i][1], strlen(nv[i][1]));
	return (n);
}

/*
 * A whole request: flags bit 0 FCGI_KEEP_CONN, bit 1 a body (of
 * bodylen bytes), bits 2-3 the script, 4-5 the URI, bit 6
 * the body in 1000-byte records, bit 7 no end of the body yet.
 */
static void
client_request(struct client *cl, int flags, uint16_t id, size_t bodylen)
{
	uint8_t		params[2048];
	size_t		n, plen, off, chunk;

	if (id == 0)
		id = 1;
	plen = nginx_params(params, sizeof(params), flags, bodylen);
	n = fcgi_begin_request_encode(iobuf, sizeof(iobuf), id,
	    FCGI_RESPONDER, flags & 1 ? FCGI_KEEP_CONN : 0);
	n += fcgi_stream_encode(iobuf + n, sizeof(iobuf) - n, FCGI_PARAMS, id,
	    params, plen);
	n += fcgi_record_encode(iobuf + n, sizeof(iobuf) - n, FCGI_PARAMS, id,
	    NULL, 0);
	for (off = 0; off < bodylen; off += chunk) {
		chunk = flags & 0x40 ? 1000 : FCGI_MAX_CONTENT;
		if (chunk > bodylen - off)
			chunk = bodylen - off;
		memset(recbuf, 'A' + (int)(off % 26), chunk);
		n += fcgi_record_encode(iobuf + n, sizeof(iobuf) - n,
		    FCGI_STDIN, id, recbuf, chunk);
	}
	if (!(flags & 0x80))
		n += fcgi_record_encode(iobuf + n, sizeof(iobuf) - n,
		    FCGI_STDIN, id, NULL, 0);
	client_send(cl, iobuf, n);
}

/* Every client reads what is there. */
static void
drain_clients(void)
{
	size_t	i;

	for (i = 0; i < MAXCLIENTS; i++)
		if (clients[i].fd != -1)
			drain(clients[i].fd, client_check_cb, &clients[i]);
}

/*
 * A worker's long answer to request 1: headers, len bytes, its end; what
 * the supervisor does not take stays unsent, unless the clients read.
 */
static void
worker_big(struct fakew *f, size_t len, int read_along)
{
	static const char	hdr[] = "Content-Type: text/plain\r\n\r\n";
	size_t			n, chunk;

	n = fcgi_record_encode(iobuf, sizeof(iobuf), FCGI_STDOUT, 1, hdr,
	    sizeof(hdr) - 1);
	send_all(f->cfd, iobuf, n);
	memset(recbuf, 'x', 32768);
	while (len > 0 && f->cfd != -1) {
		/* as much as iobuf holds, in records of 32 KB */
		for (n = 0; len > 0 && n + FCGI_RECORD_SIZE(32768) <=
		    sizeof(recbig); len -= chunk) {
			chunk = len < 32768 ? len : 32768;
			n += fcgi_record_encode(recbig + n, sizeof(recbig) - n,
			    FCGI_STDOUT, 1, recbuf, chunk);
		}
		if (read_along)
			drain_clients();
		if (send_part(f->cfd, recbig, n) < n && !read_along)
			return;		/* nobody takes it: the rest stays */
	}
	n = fcgi_record_encode(iobuf, sizeof(iobuf), FCGI_STDOUT, 1, NULL, 0);
	n += fcgi_end_request_encode(iobuf + n, sizeof(iobuf) - n, 1, 0,
	    FCGI_REQUEST_COMPLETE);
	send_all(f->cfd, iobuf, n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct confref	*r;
	char		 path[PATH_MAX], err[1024];
	FILE		*fp;
	size_t		 i;

	(void)argc;
	(void)argv;
	main_thread = pthread_self();
	signal(SIGPIPE, SIG_IGN);
	log_init("fpm-supervise", LOG_STYLE_FPM);
	if (getenv("FUZZ_VERBOSE") == NULL && log_open_file("/dev/null") == -1)
		abort();
	log_setlevel(LOG_LVL_DEBUG);
	fuzz_tmpdir(dir, sizeof(dir) - 20, "dispatch");
	fuzz_path(path, sizeof(path), dir, "php-cgi", 7);
	if (symlink("/bin/true", path) == -1) {
		perror(path);
		abort();
	}
	fuzz_path(path, sizeof(path), dir, "fpm.conf", 8);
	if ((fp = fopen(path, "we")) == NULL ||
	    fprintf(fp, config, dir) < 0 || fclose(fp) == EOF) {
		perror(path);
		abort();
	}
	if (conf_load(&conf, path, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		abort();
	r->c = conf;
	r->refs = (int)conf.npools;
	ref = r;
	fpmconf = r->c;
	if (strlcpy(runtime_dir, dir, 96) >= 96) {
		fprintf(stderr, "%s: too long for runtime_dir\n", dir);
		abort();
	}
	virt = 1;
	if (ev_init() == -1) {
		perror("epoll_create1");
		abort();
	}
	npools = r->c.npools;
	if ((pools = calloc(npools, sizeof(*pools))) == NULL)
		abort();
	for (i = 0; i < npools; i++) {
		if ((pools[i] = pool_new(&r->c.pools[i], 1, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
		pools[i]->owner = r;
		pm_maintain(pools[i]);
	}
	for (i = 0; i < MAXCLIENTS; i++)
		clients[i].fd = -1;
	settle();
	cleanup();
	virt = 0;
	return (0);
}

/*
 * Everyone goes: clients close, time runs out for every timer, workers
 * die; then the loop must hold nothing of this input.
 */
static void
cleanup(void)
{
	size_t	i;
	int	round;

	for (i = 0; i < MAXCLIENTS; i++) {
		if (clients[i].fd != -1)
			close(clients[i].fd);
		clients[i].fd = -1;
	}
	settle();
	for (round = 0; round < 3; round++) {
		vnow_us += 3600 * 1000000LL;
		settle();
		for (i = 0; i < MAXWORKERS; i++)
			if (fws[i].used && !fws[i].dead &&
			    (fws[i].cfd != -1 || round > 0))
				fw_die(&fws[i], CLD_KILLED, SIGKILL);
		settle();
	}
	/* static pools start theirs again: those stay, idle and fresh */
	vnow_us += 3600 * 1000000LL;
	settle();
	if (conns_count() != 0)
		fuzz_fail("a connection outlived its client", NULL, 0);
	for (i = 0; i < npools; i++) {
		if (pools[i]->nqueue != 0 || pools[i]->nconns != 0)
			fuzz_fail("a pool still counts a connection", NULL, 0);
		if (pools[i]->nworkers != pools[i]->nidle)
			fuzz_fail("a worker is busy with nobody", NULL, 0);
		/* the brake's memory: each input starts unbraked */
		pools[i]->fails = 0;
		pools[i]->hinted = 0;
	}
	for (i = 0; i < MAXWORKERS; i++)
		if (fws[i].used && fws[i].dead)
			fuzz_fail("a dead worker was never reaped", NULL, 0);
}

/* A 16-bit number, little-endian (one byte at the very end). */
static size_t
take16(const uint8_t **p, const uint8_t *end)
{
	size_t	n = 0;

	if (end - *p >= 2) {
		n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
		*p += 2;
	} else if (*p < end)
		n = *(*p)++;
	return (n);
}

/* A length, and that many bytes (fewer at the end of the input). */
static size_t
take_data(const uint8_t **p, const uint8_t *end)
{
	size_t	n = take16(p, end);

	return (n < (size_t)(end - *p) ? n : (size_t)(end - *p));
}

static uint8_t
take8(const uint8_t **p, const uint8_t *end)
{
	return (*p < end ? *(*p)++ : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char answer[] = "Status: 201 Created\r\n"
	    "Content-Type: text/html\r\nX-Powered-By: PHP/8.2\r\n\r\nhello";
	const uint8_t	*p = data, *end = data + size;
	struct client	*cl;
	struct fakew	*f;
	struct sockaddr_un sun;
	size_t		 n, i;
	uint8_t		 b, who, type, id;

	virt = 1;
	/* each input begins at a round time, whatever the last one did */
	vnow_us = (vnow_us / 1000000000000LL + 1) * 1000000000000LL;
	settle();
	/* per input: libFuzzer's symbolizer pipes may have come meanwhile */
	fuzz_fd_mark();
	while (p < end) {
		b = *p++;
		who = b >> 5;
		cl = &clients[who % MAXCLIENTS];
		switch ((enum op)((b & 0x1f) % OP_NOPS)) {
		case OP_CONNECT:
			if (cl->fd != -1)
				close(cl->fd);
			memset(cl, 0, sizeof(*cl));
			cl->pool = who % (int)npools;
			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			strlcpy(sun.sun_path, pools[cl->pool]->lst.key,
			    sizeof(sun.sun_path));
			if ((cl->fd = socket(AF_UNIX, SOCK_STREAM |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
			    connect(cl->fd, (struct sockaddr *)&sun,
			    sizeof(sun)) == -1) {
				perror("connect");
				abort();
			}
			fcgi_decoder_init(&cl->in);
			fcgi_decoder_init(&cl->out);
			break;
		case OP_CWRITE:
			n = take_data(&p, end);
			client_send(cl, p, n);
			p += n;
			break;
		case OP_CREAD:
			if (cl->fd != -1)
				drain(cl->fd, client_check_cb, cl);
			break;
		case OP_CSHUT:
			if (cl->fd != -1 && !cl->shut)
				shutdown(cl->fd, SHUT_WR);
			cl->shut = 1;
			break;
		case OP_CCLOSE:
			if (cl->fd != -1)
				close(cl->fd);
			cl->fd = -1;
			break;
		case OP_CREQUEST:
			b = take8(&p, end);
			id = take8(&p, end);
			n = b & 2 ? take16(&p, end) * 3 : 0;
			if (cl->fd != -1)
				client_request(cl, b, id, n);
			break;
		case OP_CREC:
		case OP_WREC:
			type = take8(&p, end);
			id = take8(&p, end);
			n = take_data(&p, end);
			i = fcgi_record_encode(recbuf, sizeof(recbuf), type,
			    id, p, n);
			p += n;
			if ((b & 0x1f) == OP_CREC)
				client_send(cl, recbuf, i);
			else if ((f = fw_pick(who)) != NULL && f->cfd != -1)
				send_all(f->cfd, recbuf, i);
			break;
		case OP_CABORT:
			id = take8(&p, end);
			i = fcgi_record_encode(recbuf, sizeof(recbuf),
			    FCGI_ABORT_REQUEST, id, NULL, 0);
			client_send(cl, recbuf, i);
			break;
		case OP_WACCEPT:
			if ((f = fw_pick(who)) != NULL && f->cfd == -1) {
				f->cfd = accept4(f->lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
				fcgi_decoder_init(&f->in);
			}
			break;
		case OP_WREAD:
			if ((f = fw_pick(who)) != NULL && f->cfd != -1)
				drain(f->cfd, worker_check_cb, f);
			break;
		case OP_WWRITE:
			n = take_data(&p, end);
			if ((f = fw_pick(who)) != NULL && f->cfd != -1)
				send_all(f->cfd, p, n);
			p += n;
			break;
		case OP_WCLOSE:
			if ((f = fw_pick(who)) != NULL && f->cfd != -1) {
				close(f->cfd);
				f->cfd = -1;
			}
			break;
		case OP_WEXIT:
			b = take8(&p, end);
			if ((f = fw_pick(who)) != NULL)
				fw_die(f, b & 1 ? CLD_KILLED : CLD_EXITED,
				    b >> 1);
			break;
		case OP_WIGNTERM:
			if ((f = fw_pick(who)) != NULL)
				f->ignterm = 1;
			break;
		case OP_WANSWER:
			if ((f = fw_pick(who)) == NULL || f->cfd == -1)
				break;
			n = fcgi_record_encode(recbuf, sizeof(recbuf),
			    FCGI_STDOUT, 1, answer, sizeof(answer) - 1);
			n += fcgi_record_encode(recbuf + n, sizeof(recbuf) - n,
			    FCGI_STDOUT, 1, NULL, 0);
			n += fcgi_end_request_encode(recbuf + n,
			    sizeof(recbuf) - n, 1, 0, FCGI_REQUEST_COMPLETE);
			send_all(f->cfd, recbuf, n);
			break;
		case OP_CLOCK:
			b = take8(&p, end);
			vnow_us += steps[b % (sizeof(steps) /
			    sizeof(steps[0]))] * 1000;
			break;
		case OP_SPAWNFAIL:
			spawn_fail = 1;
			break;
		case OP_CREPEAT:
			b = take8(&p, end);
			n = take_data(&p, end);
			for (i = 0; n > 0 && i <= b && (i + 1) * n <= IOBUF;
			    i++)
				memcpy(iobuf + i * n, p, n);
			p += n;
			client_send(cl, iobuf, i * n);
			break;
		case OP_WBIG:
			b = take8(&p, end);
			if ((f = fw_pick(who)) != NULL && f->cfd != -1)
				worker_big(f, (size_t)(b % 32) * 65536, b & 32);
			break;
		case OP_NOPS:
			break;
		}
		settle();
	}
	spawn_fail = 0;
	cleanup();
	fuzz_fd_check();
	virt = 0;
	return (0);
}
