/* SPDX-License-Identifier: ISC */
/*
 * The front side of the dispatcher: accept, read and decode what the web
 * server sends, spool the body, send what goes back (a relayed answer or
 * ours) within request.client_timeout, keep-alive, and the connection's
 * life (fpm.h: enum conn_state).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "fpm.h"
#include "conn.h"

#define ACCEPT_BATCH	64
#define MGMT_MAX	64	/* largest BEGIN_REQUEST/GET_VALUES we take */
/*
 * Answers of ours a client has not taken (GET_VALUES, unknown types...):
 * past OWN_MAX we stop reading it, and one read of inbuf adds at most
 * twice its size (an 8-byte unknown record gets a 16-byte answer); past
 * OWN_HARD_MAX, which cannot happen, the connection is closed.
 */
#define OWN_MAX		(64 * 1024)
#define OWN_HARD_MAX	(OWN_MAX + 2 * sizeof(inbuf) + 4096)
/*
 * A relay moves RBUF_SIZE per read; a client and a worker both fast would
 * keep it going for ever: past this many reads in a row, it yields to the
 * next loop turn, so others are served and the stack stays shallow.
 */
#define RELAY_TURN	16
/*
 * An answer bigger than a unix socket's buffer (net.core.wmem_default,
 * 208 KiB) would go to the web server in a turn of the loop per 150 KiB or
 * so, each a wakeup of both sides: its connection's buffer grows to this
 * (the kernel doubles it: 1 MiB) at its first full write.  Measured with
 * 1 MB answers through nginx: 6.4 wakeups of the supervisor each, 1.4
 * after, and 25-35% less of its CPU.  Small answers never pay the
 * setsockopt.
 */
#define CONN_SNDBUF	(512 * 1024)
#define SPARE_MAX	32	/* closed connections kept for reuse */
#define SPARE_BUF_MAX	(80 * 1024)	/* larger buffers are not kept */

static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);
/*
 * Closed this loop turn (events may still name them), and spares: a
 * connection per request without keepalive would otherwise cost a calloc,
 * two 64 KB buffers and their page faults each time.
 */
static LIST_HEAD(, conn) dead = LIST_HEAD_INITIALIZER(dead);
static LIST_HEAD(, conn) spare = LIST_HEAD_INITIALIZER(spare);
static int	nspare;
static uint8_t	inbuf[64 * 1024];

static int	conn_in_request(const struct conn *);
static int	conn_grow_sndbuf(struct conn *);
static void	conn_peer(struct conn *, const struct sockaddr_storage *);
static int	conn_allowed(struct pool *, const struct sockaddr_storage *);
static void	conn_event(struct ev_source *, uint32_t);
static void	conn_timeout(struct ev_timer *);
static void	conn_read(struct conn *, int);
static uint32_t	conn_inmask(const struct conn *);
static void	conn_half_closed(struct conn *);
static size_t	conn_body_pending(const struct conn *);
static int	conn_body_too_large(struct conn *, size_t);
static void	conn_pause(struct conn *);
static void	conn_resume(struct ev_post *);
static int	conn_append(uint8_t **, size_t *, size_t *, const void *,
		    size_t, size_t);
static int	conn_body(struct conn *, const uint8_t *, size_t);
static int	conn_record(struct conn *, const struct fcgi_header *,
		    const uint8_t *, size_t);
static int	conn_out(struct conn *, const void *, size_t);
static int	conn_reply(struct conn *, const void *, size_t);
static int	conn_relaying(const struct conn *);
static size_t	conn_own_unsent(const struct conn *);
static void	conn_throttle(struct conn *);
static void	conn_request_done(struct conn *);
static void	conn_reset(struct conn *);
static void	conn_client_gone(struct conn *);
static struct conn *conn_new(void);
static void	conn_free(struct conn *);

#define S(x)	(1U << (x))
/* The moves fpm.h's table allows, from each state; C_CLOSED from any. */
static const unsigned int conn_moves[] = {
	[C_NEW] = S(C_PARAMS),
	[C_PARAMS] = S(C_BODY) | S(C_FLUSH),
	[C_BODY] = S(C_QUEUED) | S(C_FORWARD) | S(C_FLUSH),
	[C_QUEUED] = S(C_FORWARD) | S(C_FLUSH),
	[C_FORWARD] = S(C_FLUSH) | S(C_QUEUED) | S(C_FORWARD),
	[C_FLUSH] = S(C_KEEP),
	[C_KEEP] = S(C_NEW),
	[C_CLOSED] = 0
};

/*
 * The one way c's state changes.  A move the table does not allow is a
 * bug of ours: said, and the process aborts rather than serve on with a
 * connection in a state nobody expects.  Entering and leaving C_QUEUED
 * takes c in and out of its pool's queue, and its queue timer.
 */
void
conn_set_state(struct conn *c, enum conn_state to)
{
	struct pool	*p = c->pool;

	if (to != C_CLOSED && !(conn_moves[c->state] & S(to))) {
		log_errorx("[pool %s] bug: connection state %d to %d",
		    p->cf->name, (int)c->state, (int)to);
		abort();
	}
	if (c->state == C_QUEUED) {
		TAILQ_REMOVE(&p->queue, c, qentry);
		p->nqueue--;
		ev_timer_stop(&c->timer);
	}
	if (to == C_QUEUED) {
		TAILQ_INSERT_TAIL(&p->queue, c, qentry);
		p->nqueue++;
		if ((unsigned long)p->nqueue > p->max_queue)
			p->max_queue = (unsigned long)p->nqueue;
	}
	c->state = to;
}
#undef S

/* Between its BEGIN_REQUEST and the end of its answer. */
static int
conn_in_request(const struct conn *c)
{
	return (c->state >= C_PARAMS && c->state <= C_FLUSH);
}

/*
 * "METHOD URI" of a request, escaped for a log line: a client's bytes
 * never end the line nor fake another (nginx decodes %0a).  The buffer is
 * static: one call per log line.
 */
const char *
req_what(const char *method, const char *uri)
{
	static char	buf[4 * (16 + 256) + 2];
	size_t		n;

	log_vis(buf, sizeof(buf) - 1, method);
	n = strlen(buf);
	buf[n++] = ' ';
	log_vis(buf + n, sizeof(buf) - n, uri);
	return (buf);
}

const char *
conn_what(const struct conn *c)
{
	return (req_what(c->method, c->uri));
}

/* accept(2) a batch; the rest waits for the next turn, fairly. */
void
conn_accept(struct ev_source *src, uint32_t events)
{
	struct listener		*l = container_of(src, struct listener, src);
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct conn		*c;
	unsigned long		 n;
	int			 fd, i;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(src->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno != EMFILE && errno != ENFILE &&
			    errno != ENOBUFS && errno != ENOMEM) {
				log_warn("[pool %s] unable to accept",
				    l->pool->cf->name);
				return;
			}
			/*
			 * Out of fds or memory, the connection stays queued
			 * and epoll reports it again at once: pause this
			 * listener instead of spinning (libcommon/ev.h).
			 */
			if (ev_backoff_fail(&l->backoff, src, EPOLLIN, &n))
				log_warn("[pool %s] unable to accept "
				    "(failures: %lu, paused for %lld ms)",
				    l->pool->cf->name, n,
				    (long long)l->backoff.delay);
			return;
		}
		if (ev_backoff_ok(&l->backoff, &n))
			log_warnx("[pool %s] accepting again (failures since "
			    "the last report: %lu)", l->pool->cf->name, n);
		if (!conn_allowed(l->pool, &ss)) {
			close(fd);
			continue;
		}
		if ((c = conn_new()) == NULL) {
			log_warn("[pool %s] dropping a connection",
			    l->pool->cf->name);
			close(fd);
			continue;
		}
		c->src.fd = fd;
		c->src.cb = conn_event;
		c->pool = l->pool;
		c->status_only = l == &l->pool->slst;
		c->sndbuf = ss.ss_family == AF_UNIX;
		if (l->pool->access_fd != -1)
			conn_peer(c, &ss);
		c->spoolfd = -1;
		c->timer.cb = conn_timeout;
		c->resume.cb = conn_resume;
		/* not C_KEEP: its first request may be in flight already */
		c->state = C_NEW;
		fcgi_decoder_init(&c->dec);
		LIST_INSERT_HEAD(&conns, c, all);
		l->pool->nconns++;
		conn_client_timer(c);
		/*
		 * The web server writes its request as soon as it connects:
		 * read it now.  The connection joins the epoll set only when
		 * it has to wait (conn_watch), which a one-request connection
		 * answered at once never does: no epoll_ctl for it.
		 */
		conn_read(c, 0);
	}
}

/*
 * c's answer fills its unix socket's buffer: a bigger one (CONN_SNDBUF),
 * once.  Root passes net.core.wmem_max (SO_SNDBUFFORCE); others get up to
 * it.  TCP keeps the kernel's own sizing.  0 when it grew: write again.
 */
static int
conn_grow_sndbuf(struct conn *c)
{
	int	size = CONN_SNDBUF;

	if (!c->sndbuf)
		return (-1);
	c->sndbuf = 0;
	if (setsockopt(c->src.fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1 && setsockopt(c->src.fd, SOL_SOCKET,
	    SO_SNDBUF, &size, sizeof(size)) == -1)
		return (-1);
	return (0);
}

/*
 * Watch c's fd for events (EPOLLIN, and EPOLLOUT when a write would
 * block): the first time adds it to the epoll set.  Its input only while
 * it is read (conn_inmask).  0, or -1 (closed).  A client gone during
 * its request has nothing to watch: 0.
 */
int
conn_watch(struct conn *c, uint32_t events)
{
	if (c->src.fd == -1)
		return (0);
	events &= EPOLLOUT | conn_inmask(c);
	if ((c->polled ? ev_mod(&c->src, events) : ev_add(&c->src, events))
	    == -1) {
		log_warn("[pool %s] epoll_ctl", c->pool->cf->name);
		conn_close(c);
		return (-1);
	}
	c->polled = 1;
	return (0);
}

/* The TCP peer's address, for the access log's %R. */
static void
conn_peer(struct conn *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const struct sockaddr_in	*sin = (const void *)ss;

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, c->peer, sizeof(c->peer));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &sin6->sin6_addr, c->peer,
		    sizeof(c->peer));
}

/* listen.allowed_clients: a comma list of addresses; TCP only. */
static int
conn_allowed(struct pool *p, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const struct sockaddr_in	*sin = (const void *)ss;
	char				 ip[INET6_ADDRSTRLEN], *list, *s, *save;
	int				 ok = 0;

	if (p->cf->listen_allowed_clients == NULL ||
	    (ss->ss_family != AF_INET && ss->ss_family != AF_INET6))
		return (1);
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip,
		    sizeof(ip));
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
	if ((list = strdup(p->cf->listen_allowed_clients)) == NULL)
		return (0);
	for (s = strtok_r(list, ", \t", &save); s != NULL && !ok;
	    s = strtok_r(NULL, ", \t", &save))
		ok = strcmp(s, ip) == 0;
	free(list);
	if (!ok)
		log_warnx("[pool %s] Connection disallowed: IP address '%s' "
		    "has been dropped.", p->cf->name, ip);
	return (ok);
}

/* The input events c is watched for: none while it is not read. */
static uint32_t
conn_inmask(const struct conn *c)
{
	return (c->throttled || c->paused || c->rdeof ? 0 :
	    EPOLLIN | EPOLLRDHUP);
}

/*
 * EPOLLHUP and EPOLLERR come whatever is watched: shut both ways (a unix
 * socket's peer closed) or reset, the client is gone, with what it sent.
 * A TCP peer's close reads as a half-close (conn_read), until a write
 * fails.
 */
static void
conn_event(struct ev_source *src, uint32_t events)
{
	struct conn	*c = container_of(src, struct conn, src);
	int		 hup = (events & (EPOLLHUP | EPOLLERR)) != 0;

	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->src.fd == -1)
		return;
	if (!conn_inmask(c)) {
		/* not reading it: only its end is news */
		if (hup)
			conn_client_gone(c);
		return;
	}
	if (hup || (events & (EPOLLIN | EPOLLRDHUP)))
		conn_read(c, hup);
}

static void
conn_timeout(struct ev_timer *t)
{
	struct conn	*c = container_of(t, struct conn, timer);
	struct pool	*p = c->pool;

	switch (c->state) {
	case C_QUEUED:
		p->queue_full++;
		log_warnx("[pool %s] request \"%s\" waited %lld ms in the "
		    "queue for a worker: answering 503", p->cf->name,
		    conn_what(c), (long long)p->cf->queue_timeout_ms);
		conn_respond(c, 503, "Service Unavailable", "text/plain",
		    "503 Service Unavailable: no worker became free in "
		    "time\n");
		break;
	case C_NEW:
	case C_PARAMS:
	case C_BODY:
	case C_KEEP:
		if (conn_own_unsent(c) > 0)
			goto stalled;
		conn_close(c);
		break;
	case C_CLOSED:
		break;
	case C_FORWARD:
		/*
		 * The worker's time is its own timer's (slow.c).  Throttled,
		 * the client sent 64 KiB of records wanting answers during
		 * its request: a stall like any other, though the answers
		 * wait behind the relay.
		 */
		if (c->rlen == 0 && !c->throttled)
			break;
		/* FALLTHROUGH */
	case C_FLUSH:
stalled:
		log_warnx("[pool %s] the client took no data for %lld ms: "
		    "closing its connection", p->cf->name,
		    (long long)p->cf->request_client_timeout_ms);
		conn_close(c);	/* a worker still on it is retired */
		break;
	}
}

/*
 * Read what c sent and act on each record.  hup: the client has hung up
 * (conn_event), so the end of its bytes is its going, not a half-close.
 */
static void
conn_read(struct conn *c, int hup)
{
	struct fcgi_header	 h;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen, off;
	ssize_t			 n, used;

	for (n = sizeof(inbuf); n == (ssize_t)sizeof(inbuf);) {
		if (conn_own_unsent(c) >= OWN_MAX) {
			conn_throttle(c);
			return;
		}
		if (conn_body_pending(c) >= c->pool->cf->request_buffer_size) {
			conn_pause(c);
			return;
		}
		/* level-triggered: a short read means drained, no EAGAIN call */
		ev = FCGI_EV_HEADER;
		n = read(c->src.fd, inbuf, sizeof(inbuf));
		if (n == -1 && errno == EINTR) {
			n = sizeof(inbuf);
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == 0 && !hup && ((c->body_done && (c->state ==
		    C_QUEUED || c->state == C_FORWARD)) ||
		    c->state == C_FLUSH) &&
		    !c->pool->cf->request_terminate_on_abort) {
			conn_half_closed(c);
			return;
		}
		if (n <= 0) {
			conn_client_gone(c);
			return;
		}
		if (c->state == C_KEEP)
			conn_set_state(c, C_NEW);
		if (c->state == C_NEW || c->state == C_PARAMS ||
		    c->state == C_BODY)
			conn_client_timer(c);
		for (off = 0; off < (size_t)n || ev != FCGI_EV_NEED_MORE;) {
			used = fcgi_decode(&c->dec, inbuf + off, (size_t)n - off,
			    &ev, &data, &dlen);
			if (used == -1) {
				log_warnx("[pool %s] closing a connection: not "
				    "FastCGI (bad version)", c->pool->cf->name);
				conn_close(c);
				return;
			}
			off += (size_t)used;
			h = c->dec.hdr;
			if (ev == FCGI_EV_NEED_MORE)
				break;
			if (ev == FCGI_EV_HEADER)
				data = NULL, dlen = 0;
			else if (ev == FCGI_EV_RECORD_END)
				data = NULL, dlen = (size_t)-1;
			/*
			 * A request we answered at once (ping, an abort...)
			 * may end, kept alive, with more of this read behind
			 * it: the next request's bytes.
			 */
			if (c->state == C_KEEP) {
				conn_set_state(c, C_NEW);
				conn_client_timer(c);
			}
			if (conn_record(c, &h, data, dlen) == -1) {
				conn_close(c);
				return;
			}
			if (c->src.fd == -1)
				return;
		}
	}
	/*
	 * Waiting for more, or for the client to go: watch it.  Not a
	 * whole request a worker has, unless its going is news
	 * (request.terminate_on_abort): no epoll_ctl for it.
	 */
	if (!c->polled && !c->rdeof && (c->state == C_NEW ||
	    c->state == C_PARAMS || c->state == C_BODY ||
	    c->state == C_KEEP || c->state == C_QUEUED ||
	    (c->state == C_FORWARD && (!c->body_done ||
	    c->pool->cf->request_terminate_on_abort))))
		(void)conn_watch(c, EPOLLIN | EPOLLRDHUP);
}

/*
 * The client shut its sending side after a whole request (shutdown(2),
 * as a one-shot client may): it still reads.  Its answer goes out, then
 * the connection closes; only a hang-up or a failed write says it left.
 * With request.terminate_on_abort, the end of its bytes is its going.
 */
static void
conn_half_closed(struct conn *c)
{
	c->rdeof = 1;
	if (c->polled)
		(void)conn_watch(c, c->pollout ? EPOLLOUT : 0);
}

static int
conn_append(uint8_t **buf, size_t *len, size_t *size, const void *data,
    size_t n, size_t max)
{
	uint8_t	*nb;
	size_t	 ns;

	if (n > max - *len) {
		errno = EFBIG;
		return (-1);
	}
	if (*len + n > *size) {
		ns = *size ? *size : 1024;
		while (ns < *len + n)
			ns *= 2;
		if (ns > max)
			ns = max;
		if ((nb = realloc(*buf, ns)) == NULL)
			return (-1);
		*buf = nb;
		*size = ns;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	return (0);
}

/*
 * request.max_body_size: a body read whole before a worker is chosen (in
 * memory, then spooled) that would grow past it gets a 413 at once, and
 * the rest of it is ignored.  1 when answered so.
 */
static int
conn_body_too_large(struct conn *c, size_t n)
{
	struct conf_pool	*cf = c->pool->cf;
	uint64_t		 have;

	if (!cf->request_buffering || cf->request_max_body_size == 0 ||
	    c->state != C_BODY)
		return (0);
	have = c->spoolfd == -1 ? c->bodylen : (uint64_t)c->spoollen;
	if (have + n <= cf->request_max_body_size)
		return (0);
	log_warnx("[pool %s] a request body larger than "
	    "request.max_body_size (%llu bytes): answering 413", cf->name,
	    (unsigned long long)cf->request_max_body_size);
	c->body_done = 1;	/* what follows of it is ignored */
	conn_respond(c, 413, "Payload Too Large", "text/plain",
	    "413 Payload Too Large: the request body exceeds "
	    "request.max_body_size\n");
	return (1);
}

/*
 * With request.buffering = no, the body bytes read and not yet passed to
 * the worker; 0 otherwise.
 */
static size_t
conn_body_pending(const struct conn *c)
{
	if (c->pool->cf->request_buffering || c->body_done)
		return (0);
	return (c->bodylen - c->bodyoff);
}

/*
 * The worker takes the body more slowly than the client sends it (or none
 * is free yet): read no more of the client until it has (conn_resume_body),
 * so the body stays in memory, within request.buffer_size and a read.  Its
 * hang-up is still watched; the time is the worker's.
 */
static void
conn_pause(struct conn *c)
{
	c->paused = 1;
	(void)conn_watch(c, c->pollout ? EPOLLOUT : 0);
}

/* The worker took the body down to half of request.buffer_size: read on. */
void
conn_resume_body(struct conn *c)
{
	if (!c->paused ||
	    conn_body_pending(c) > c->pool->cf->request_buffer_size / 2)
		return;
	c->paused = 0;
	/* level-triggered: what it sent meanwhile is reported */
	(void)conn_watch(c, EPOLLIN | EPOLLRDHUP |
	    (c->pollout ? EPOLLOUT : 0));
}

/*
 * Body bytes: memory up to request.buffer_size, then a spool file.
 * Passed on as they come (request.buffering = no), they stay in memory:
 * conn_read pauses at request.buffer_size, so one read is the most over.
 */
static int
conn_body(struct conn *c, const uint8_t *data, size_t n)
{
	struct conf_pool	*cf = c->pool->cf;
	ssize_t			 w;

	if (!cf->request_buffering && c->spoolfd == -1) {
		if (c->bodyoff > 0) {
			/* what the worker took makes room */
			memmove(c->body, c->body + c->bodyoff,
			    c->bodylen - c->bodyoff);
			c->bodylen -= c->bodyoff;
			c->bodyoff = 0;
		}
		return (conn_append(&c->body, &c->bodylen, &c->bodysize, data,
		    n, cf->request_buffer_size + sizeof(inbuf)));
	}

	if (c->spoolfd == -1 && c->bodylen + n <= cf->request_buffer_size)
		return (conn_append(&c->body, &c->bodylen, &c->bodysize, data,
		    n, cf->request_buffer_size));
	if (c->spoolfd == -1) {
		c->spoolfd = open(cf->request_spool_dir, O_TMPFILE | O_RDWR |
		    O_CLOEXEC, 0600);
		if (c->spoolfd == -1) {
			log_warn("[pool %s] unable to spool a request body "
			    "in %s", cf->name, cf->request_spool_dir);
			return (-1);
		}
		c->spoollen = 0;
		if (c->bodylen > 0 && conn_body(c, c->body, c->bodylen) == -1)
			return (-1);
		/* streaming: what went to the worker already stays sent */
		c->spooloff = (off_t)c->bodyoff;
		c->bodylen = c->bodyoff = 0;
	}
	while (n > 0) {
		w = pwrite(c->spoolfd, data, n, c->spoollen);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("[pool %s] unable to spool a request body",
			    cf->name);
			return (-1);
		}
		c->spoollen += w;
		data += w;
		n -= (size_t)w;
	}
	return (0);
}

/*
 * One decoded piece: a header (data NULL, len 0), content, or the record's
 * end (len (size_t)-1).  Returns -1 to close the connection.
 */
static int
conn_record(struct conn *c, const struct fcgi_header *h, const uint8_t *data,
    size_t len)
{
	struct conf_pool	*cf = c->pool->cf;
	uint8_t			 out[256];
	size_t			 n;
	uint16_t		 role;
	uint8_t			 flags;
	int			 end = len == (size_t)-1;

	if (data == NULL && !end) {
		/* a header: the fixed-size bodies are gathered in mgmt */
		c->mlen = 0;
		switch (h->type) {
		case FCGI_BEGIN_REQUEST:
		case FCGI_ABORT_REQUEST:
		case FCGI_PARAMS:
		case FCGI_STDIN:
		case FCGI_DATA:
		case FCGI_GET_VALUES:
			break;
		default:
			if (h->type <= FCGI_MAXTYPE) {
				log_warnx("[pool %s] closing a connection: "
				    "unexpected %s record from the client",
				    cf->name, fcgi_type_name(h->type));
				return (-1);
			}
			break;
		}
		if ((h->type == FCGI_GET_VALUES || h->type ==
		    FCGI_BEGIN_REQUEST) && h->content_length > MGMT_MAX) {
			log_warnx("[pool %s] closing a connection: oversized "
			    "%s record (%u bytes)", cf->name,
			    fcgi_type_name(h->type), h->content_length);
			return (-1);
		}
		return (0);
	}
	if (!end) {
		switch (h->type) {
		case FCGI_BEGIN_REQUEST:
		case FCGI_GET_VALUES:
			memcpy(c->mgmt + c->mlen, data, len);
			c->mlen += len;
			return (0);
		case FCGI_PARAMS:
			if (c->state != C_PARAMS || h->request_id != c->reqid)
				return (0);
			if (conn_append(&c->params, &c->paramslen,
			    &c->paramssize, data, len,
			    cf->request_max_params_size) == -1) {
				log_warnx("[pool %s] closing a connection: "
				    "PARAMS larger than %llu bytes", cf->name,
				    (unsigned long long)
				    cf->request_max_params_size);
				return (-1);
			}
			return (0);
		case FCGI_STDIN:
			if (!conn_in_request(c) || h->request_id != c->reqid ||
			    c->body_done)
				return (0);
			if (c->state == C_PARAMS) {
				log_warnx("[pool %s] closing a connection: "
				    "STDIN before the end of PARAMS", cf->name);
				return (-1);
			}
			if (conn_body_too_large(c, len))
				return (0);
			if (conn_body(c, data, len) == -1)
				return (-1);
			if (c->state == C_FORWARD)
				conn_worker_write(c);	/* streaming */
			return (0);
		default:
			return (0);	/* DATA, unknown types: ignored */
		}
	}

	/* the record is complete */
	switch (h->type) {
	case FCGI_GET_VALUES:
		if (h->request_id != FCGI_NULL_REQUEST_ID)
			return (0);
		n = fcgi_get_values_result(out, sizeof(out), c->mgmt, c->mlen,
		    1024, 1, 0);
		if (n == 0) {
			log_warnx("[pool %s] closing a connection: malformed "
			    "GET_VALUES", cf->name);
			return (-1);
		}
		return (conn_reply(c, out, n));
	case FCGI_BEGIN_REQUEST:
		if (fcgi_begin_request_decode(c->mgmt, c->mlen, &role, &flags) == -1 ||
		    h->request_id == FCGI_NULL_REQUEST_ID) {
			log_warnx("[pool %s] closing a connection: malformed "
			    "BEGIN_REQUEST", cf->name);
			return (-1);
		}
		if (conn_in_request(c) && h->request_id == c->reqid) {
			/*
			 * The live request's id: any END_REQUEST we sent for
			 * it would end the live one in the client's eyes.
			 */
			log_warnx("[pool %s] closing a connection: "
			    "BEGIN_REQUEST for request %u, which is under "
			    "way", cf->name, h->request_id);
			return (-1);
		}
		if (conn_in_request(c)) {
			/* one request at a time per connection (spec 3.3) */
			n = fcgi_end_request_encode(out, sizeof(out),
			    h->request_id, 0, FCGI_CANT_MPX_CONN);
			return (conn_reply(c, out, n));
		}
		if (role != FCGI_RESPONDER && role != FCGI_AUTHORIZER) {
			n = fcgi_end_request_encode(out, sizeof(out),
			    h->request_id, 0, FCGI_UNKNOWN_ROLE);
			return (conn_reply(c, out, n));
		}
		c->reqid = h->request_id;
		c->role = role;
		c->flags = flags;
		conn_set_state(c, C_PARAMS);
		clock_gettime(CLOCK_REALTIME, &c->start);
		c->start_us = ev_now_us();
		/* PHP-FPM: the status listener is a pool of its own */
		if (!c->status_only)
			c->pool->accepted++;
		return (0);
	case FCGI_ABORT_REQUEST:
		/* answered already: a second END_REQUEST would end the next */
		if (!conn_in_request(c) || h->request_id != c->reqid ||
		    c->state == C_FLUSH)
			return (0);
		if (c->state == C_FORWARD) {
			/*
			 * Passed on (DESIGN 5a) behind the whole request,
			 * never inside a record: what came of the body is
			 * all there will be.  Not to php-cgi, which takes
			 * any record but STDIN for the end of the body, or
			 * of the connection, and ignores aborts anyway.
			 */
			if (c->pool->probe == PROBE_APPEND || c->abort)
				return (0);
			c->abort = 1;
			c->body_done = 1;
			conn_worker_write(c);
			return (0);
		}
		conn_end(c, c->reqid, FCGI_REQUEST_COMPLETE);
		return (0);
	case FCGI_PARAMS:
		if (c->state != C_PARAMS || h->request_id != c->reqid ||
		    h->content_length != 0)
			return (0);
		conn_set_state(c, C_BODY);
		/* request.buffering = no: a worker now, the body as it comes */
		if (!cf->request_buffering)
			conn_request_ready(c);
		return (0);
	case FCGI_STDIN:
		if (!conn_in_request(c) || c->state == C_PARAMS ||
		    h->request_id != c->reqid || h->content_length != 0 ||
		    c->body_done)
			return (0);
		c->body_done = 1;
		if (c->state == C_BODY)
			conn_request_ready(c);
		else if (c->state == C_FORWARD)
			conn_worker_write(c);
		return (0);
	default:
		if (h->type > FCGI_MAXTYPE) {
			n = fcgi_unknown_type_encode(out, sizeof(out),
			    h->type);
			return (conn_reply(c, out, n));
		}
		return (0);
	}
}

/* Append bytes for the client (our own records) to rbuf. */
static int
conn_out(struct conn *c, const void *data, size_t n)
{
	uint8_t	*nb;
	size_t	 size;

	if (c->rbuf == NULL) {
		if ((c->rbuf = malloc(RBUF_SIZE)) == NULL)
			return (-1);
		c->rbuf_size = RBUF_SIZE;
	}
	if (n > c->rbuf_size - c->rlen) {
		/* a large answer of ours (a full status page) */
		size = c->rlen + n;
		if ((nb = realloc(c->rbuf, size)) == NULL)
			return (-1);
		c->rbuf = nb;
		c->rbuf_size = size;
	}
	memcpy(c->rbuf + c->rlen, data, n);
	c->rlen += n;
	return (0);
}

/* Queue bytes for the client (our own records) and flush. */
int
conn_send(struct conn *c, const void *data, size_t n)
{
	if (conn_out(c, data, n) == -1)
		return (-1);
	conn_flush(c);
	return (0);
}

/*
 * An answer to a management record (GET_VALUES, an unknown type, a refused
 * BEGIN_REQUEST).  It goes between records only, so never into a worker's
 * answer being relayed: it waits in obuf until that answer has ended.
 * -1 (logged): the client sends much and reads nothing; close it.
 */
static int
conn_reply(struct conn *c, const void *data, size_t n)
{
	if (conn_append(&c->obuf, &c->olen, &c->osize, data, n,
	    OWN_HARD_MAX) == -1) {
		log_warnx("[pool %s] closing a connection: %zu bytes of "
		    "answers it does not read", c->pool->cf->name, c->olen);
		return (-1);
	}
	conn_flush(c);
	return (0);
}

/* A worker's answer is on its way to the client, not yet whole. */
static int
conn_relaying(const struct conn *c)
{
	return (c->state == C_FORWARD);
}

/* The bytes of our own answers the client has still to take. */
static size_t
conn_own_unsent(const struct conn *c)
{
	return (c->olen + (conn_relaying(c) ? 0 : c->rlen));
}

/*
 * The client sends records that each want an answer and takes none: read
 * no more of it until it does (conn_flush resumes), within
 * request.client_timeout.  Only its hang-up is watched meanwhile.
 */
static void
conn_throttle(struct conn *c)
{
	c->throttled = 1;
	if (conn_watch(c, c->pollout ? EPOLLOUT : 0) == -1)
		return;
	if (c->state != C_QUEUED)
		conn_client_timer(c);
}

/* Arm c's timer for request.client_timeout (0: none). */
void
conn_client_timer(struct conn *c)
{
	if (c->pool->cf->request_client_timeout_ms > 0)
		ev_timer_set(&c->timer,
		    c->pool->cf->request_client_timeout_ms);
	else
		ev_timer_stop(&c->timer);
}

/*
 * Write the relay buffer to the client; finish the request when done.
 * Every stall counts against request.client_timeout, in every state.
 */
void
conn_flush(struct conn *c)
{
	static int	depth;	/* relay reads in a row (RELAY_TURN) */
	size_t		safe;
	ssize_t		n;
	int		fwd, full;

	/* our answers held back by a relay go once it is whole */
	if (c->olen > 0 && !conn_relaying(c)) {
		if (conn_out(c, c->obuf, c->olen) == -1) {
			conn_close(c);
			return;
		}
		c->olen = 0;
	}
	/* a full buffer stopped conn_worker_read: only then resume it */
	full = c->rlen == RBUF_SIZE;
	/* a half header stays behind (see conn_worker_read) */
	safe = c->rlen - (conn_relaying(c) ? c->wdec.hlen : 0);
	if (c->client_gone)
		c->roff = safe;
	while (c->roff < safe) {
		n = write(c->src.fd, c->rbuf + c->roff, safe - c->roff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN && conn_grow_sndbuf(c) == 0)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->pollout && conn_watch(c, EPOLLOUT |
			    EPOLLIN | EPOLLRDHUP) == 0)
				c->pollout = 1;
			if (c->state != C_QUEUED && c->timer.slot == 0)
				conn_client_timer(c);
			return;
		}
		if (n == -1) {
			/* EPIPE: only a worker still on it keeps c alive */
			fwd = c->state == C_FORWARD;
			conn_client_gone(c);
			if (!fwd || c->state == C_CLOSED)
				return;		/* closed: a spare after this turn */
			c->roff = safe;
			break;
		}
		c->roff += (size_t)n;
		if (c->state != C_QUEUED && c->state != C_KEEP)
			conn_client_timer(c);
	}
	if (c->pollout && c->src.fd != -1 && c->roff == c->rlen &&
	    ev_mod(&c->src, conn_inmask(c)) == 0)
		c->pollout = 0;
	/* keep the half header at the front */
	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	/*
	 * Nothing waits for the client: the worker's time is slow.c's.  A
	 * throttled client keeps its timer (conn_timeout): the worker's
	 * output reaching it must not free it of the bound.
	 */
	if (c->state == C_FORWARD && c->rlen == 0 && !c->throttled)
		ev_timer_stop(&c->timer);
	if (c->throttled && c->src.fd != -1 && conn_own_unsent(c) < OWN_MAX) {
		/* level-triggered: what it sent meanwhile is reported */
		c->throttled = 0;
		if (conn_watch(c, EPOLLIN | EPOLLRDHUP |
		    (c->pollout ? EPOLLOUT : 0)) == -1)
			return;
	}
	if (c->state == C_FLUSH && c->rlen == 0)
		conn_request_done(c);
	else if (full && c->rlen < RBUF_SIZE) {
		/* room again: the worker's reading resumes, within a share */
		if (depth < RELAY_TURN) {
			depth++;
			conn_resume(&c->resume);
			depth--;
		} else
			ev_post_next(&c->resume);
	}
}

/* The relay of c's answer goes on, if it still can. */
static void
conn_resume(struct ev_post *p)
{
	struct conn	*c = container_of(p, struct conn, resume);

	if (c->state == C_FORWARD && c->w != NULL && c->w->sock.fd != -1 &&
	    c->rlen < RBUF_SIZE)
		conn_worker_read(c);
}

/*
 * c goes to a worker: answers of ours it has not taken yet wait in obuf,
 * with those that come meanwhile, so rbuf holds the worker's answer alone
 * (a failure drops it whole).  Outside a relay obuf is empty (conn_flush
 * moves it), so the buffers swap, and nothing can fail.
 */
void
conn_hold_own(struct conn *c)
{
	if (c->rlen == c->roff || c->olen != 0)
		return;
	memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
	free(c->obuf);
	c->obuf = c->rbuf;
	c->osize = c->rbuf_size;
	c->olen = c->rlen - c->roff;
	c->rbuf = NULL;
	c->rbuf_size = c->rlen = c->roff = 0;
}

static void
conn_request_done(struct conn *c)
{
	struct reqinfo	ri;

	log_debug("[pool %s] \"%s\" %d %lld ms", c->pool->cf->name,
	    conn_what(c), c->status,
	    (long long)(ev_now_us() - c->start_us) / 1000);
	/* a worker's request is logged when the worker is back */
	if (!c->served && !c->status_only &&
	    c->pool->access_fd != -1) {
		conn_info(c, &ri);
		ri.duration_us = ev_now_us() - c->start_us;
		alog_write(c->pool, 0, &ri, c->params, c->paramslen, c->hdrs,
		    c->hdrslen);
	}
	if (c->client_gone || c->rdeof || !(c->flags & FCGI_KEEP_CONN) ||
	    sv_state != SV_RUNNING) {
		conn_close(c);
		return;
	}
	conn_reset(c);
	conn_set_state(c, C_KEEP);
	if (c->pool->cf->listen_keepalive_timeout_ms <= 0) {
		conn_close(c);
		return;
	}
	ev_timer_set(&c->timer, c->pool->cf->listen_keepalive_timeout_ms);
	if (!c->polled)
		(void)conn_watch(c, EPOLLIN | EPOLLRDHUP);
}

/* Forget the request, keep the buffers for the next one. */
static void
conn_reset(struct conn *c)
{
	c->paramslen = 0;
	c->bodylen = 0;
	if (c->spoolfd != -1) {
		close(c->spoolfd);
		c->spoolfd = -1;
	}
	c->spoollen = 0;
	c->spooloff = 0;
	c->bodyoff = 0;
	c->body_done = 0;
	c->retried = 0;
	c->served = 0;
	c->abort = 0;
	c->paused = 0;
	c->method[0] = c->uri[0] = c->script[0] = c->query[0] = '\0';
	c->filename[0] = '\0';
	c->user[0] = '\0';
	c->content_length = 0;
	c->status = 0;
}

/* The client went away (EOF, reset).  A worker still on it keeps going. */
static void
conn_client_gone(struct conn *c)
{
	if (c->state == C_QUEUED)
		log_info("[pool %s] client went away while \"%s\" was "
		    "queued", c->pool->cf->name, conn_what(c));
	if (c->state == C_FORWARD &&
	    c->pool->cf->request_terminate_on_abort) {
		log_info("[pool %s] client went away during \"%s\": "
		    "terminating child %d (request.terminate_on_abort)",
		    c->pool->cf->name, conn_what(c), (int)c->w->pid);
		conn_close(c);	/* retires the worker */
		return;
	}
	if (c->state == C_FORWARD) {
		c->client_gone = 1;
		if (c->polled)
			ev_del(&c->src);
		c->polled = c->pollout = 0;
		close(c->src.fd);
		c->src.fd = -1;		/* freed when the worker is done */
		return;
	}
	conn_close(c);
}

void
conn_close(struct conn *c)
{
	if (c->state == C_CLOSED)
		return;
	conn_set_state(c, C_CLOSED);
	ev_unpost(&c->resume);
	if (c->w != NULL) {
		/* the worker's answer has nowhere to go: it must not linger */
		c->w->conn = NULL;
		worker_retire(c->w, SIGTERM);
		c->w = NULL;
	}
	ev_timer_stop(&c->timer);
	if (c->src.fd >= 0)
		close(c->src.fd);	/* leaves the epoll set by itself */
	c->src.fd = -1;
	if (c->spoolfd != -1)
		close(c->spoolfd);
	c->spoolfd = -1;
	LIST_REMOVE(c, all);
	c->pool->nconns--;
	pool_gc(c->pool);
	LIST_INSERT_HEAD(&dead, c, all);	/* conns_reap, after this turn */
}

/*
 * A zeroed connection: a spare with its buffers (and its timer's
 * reservation) kept, else a new one.  NULL, with errno set, if none.
 */
static struct conn *
conn_new(void)
{
	struct conn	*c;
	uint8_t		*params, *body, *wbuf, *rbuf, *obuf;
	char		*hdrs;
	size_t		 paramssize, bodysize, wbuf_size, rbuf_size, osize;

	if ((c = LIST_FIRST(&spare)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return (NULL);
		if (ev_timer_reserve(1) == -1) {
			free(c);
			return (NULL);
		}
		return (c);
	}
	LIST_REMOVE(c, all);
	nspare--;
	params = c->params;
	paramssize = c->paramssize;
	body = c->body;
	bodysize = c->bodysize;
	wbuf = c->wbuf;
	wbuf_size = c->wbuf_size;
	rbuf = c->rbuf;
	rbuf_size = c->rbuf_size;
	obuf = c->obuf;
	osize = c->osize;
	hdrs = c->hdrs;
	memset(c, 0, sizeof(*c));
	c->params = params;
	c->paramssize = paramssize;
	c->body = body;
	c->bodysize = bodysize;
	c->wbuf = wbuf;
	c->wbuf_size = wbuf_size;
	c->rbuf = rbuf;
	c->rbuf_size = rbuf_size;
	c->obuf = obuf;
	c->osize = osize;
	c->hdrs = hdrs;
	return (c);
}

static void
conn_free(struct conn *c)
{
	free(c->params);
	free(c->hdrs);
	free(c->body);
	free(c->wbuf);
	free(c->rbuf);
	free(c->obuf);
	free(c);
	ev_timer_unreserve(1);
}

/* After each loop turn: the connections closed in it become spares. */
void
conns_reap(void)
{
	struct conn	*c;

	while ((c = LIST_FIRST(&dead)) != NULL) {
		LIST_REMOVE(c, all);
		if (nspare == SPARE_MAX || c->paramssize > SPARE_BUF_MAX ||
		    c->bodysize > SPARE_BUF_MAX ||
		    c->wbuf_size > SPARE_BUF_MAX ||
		    c->rbuf_size > SPARE_BUF_MAX ||
		    c->osize > SPARE_BUF_MAX) {
			conn_free(c);
			continue;
		}
		LIST_INSERT_HEAD(&spare, c, all);
		nspare++;
	}
}

int
conns_active(void)
{
	struct conn	*c;
	int		 n = 0;

	LIST_FOREACH(c, &conns, all)
		if (c->state == C_FORWARD || c->state == C_QUEUED ||
		    c->state == C_FLUSH)
			n++;
	return (n);
}

int
conns_count(void)
{
	struct conn	*c;
	int		 n = 0;

	LIST_FOREACH(c, &conns, all)
		n++;
	return (n);
}

/* Every connection goes now (an upgrade that ran out of time). */
void
conns_abort_all(void)
{
	struct conn	*c, *tc;

	LIST_FOREACH_SAFE(c, &conns, all, tc)
		conn_close(c);
}

/* Graceful stop (of p, or of all when NULL): idle kept-alive ones go now. */
void
conns_close_idle(struct pool *p)
{
	struct conn	*c, *tc;

	LIST_FOREACH_SAFE(c, &conns, all, tc)
		if (c->state == C_KEEP && (p == NULL || c->pool == p))
			conn_close(c);
}
