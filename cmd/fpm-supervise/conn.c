/* SPDX-License-Identifier: ISC */
/*
 * The dispatcher: front connections speak FastCGI with the web server; each
 * complete request goes to an idle worker over the worker's persistent
 * connection, and the worker's records are relayed back.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libcommon/cgi.h"
#include "libcommon/log.h"
#include "libcommon/status.h"
#include "fpm.h"

#define ACCEPT_BATCH	64
#define MGMT_MAX	64	/* largest BEGIN_REQUEST/GET_VALUES we take */
#define HDRS_MAX	4096	/* response headers kept for %{NAME}o */
/*
 * Answers of ours a client has not taken (GET_VALUES, unknown types...):
 * past OWN_MAX we stop reading it, and one read of inbuf adds at most
 * twice its size (an 8-byte unknown record gets a 16-byte answer); past
 * OWN_HARD_MAX, which cannot happen, the connection is closed.
 */
#define OWN_MAX		(64 * 1024)
#define OWN_HARD_MAX	(OWN_MAX + 2 * sizeof(inbuf) + 4096)
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

static void	conn_event(struct ev_source *, uint32_t);
static int	conn_watch(struct conn *, uint32_t);
static void	conn_timeout(struct ev_timer *);
static void	conn_read(struct conn *);
static int	conn_record(struct conn *, const struct fcgi_header *,
		    const uint8_t *, size_t);
static int	conn_append(uint8_t **, size_t *, size_t *, const void *,
		    size_t, size_t);
static int	conn_body(struct conn *, const uint8_t *, size_t);
static void	conn_request_ready(struct conn *);
static void	conn_forward(struct conn *, struct worker *);
static int	conn_next_stdin(struct conn *);
static void	conn_worker_write(struct conn *);
static void	conn_worker_read(struct conn *);
static int	conn_worker_record_bad(struct conn *, const struct fcgi_header *);
static void	conn_worker_end(struct conn *);
static void	conn_worker_failed(struct conn *, const char *);
static void	conn_flush(struct conn *);
static int	conn_send(struct conn *, const void *, size_t);
static int	conn_out(struct conn *, const void *, size_t);
static int	conn_reply(struct conn *, const void *, size_t);
static int	conn_relaying(const struct conn *);
static size_t	conn_own_unsent(const struct conn *);
static void	conn_throttle(struct conn *);
static void	conn_client_timer(struct conn *);
static void	conn_respond(struct conn *, int, const char *, const char *,
		    const char *);
static void	conn_end(struct conn *, uint16_t, uint8_t);
static void	conn_request_done(struct conn *);
static void	conn_reset(struct conn *);
static void	conn_close(struct conn *);
static struct conn *conn_new(void);
static void	conn_free(struct conn *);
static void	conn_client_gone(struct conn *);
static int	conn_allowed(struct pool *, const struct sockaddr_storage *);
static void	conn_peer(struct conn *, const struct sockaddr_storage *);
static void	conn_scan_headers(struct conn *, const uint8_t *, size_t);
static int	conn_builtin(struct conn *);
static int	conn_script_allowed(struct conn *);
static void	conn_status_page(struct conn *);
static int	conn_param(const struct fcgi_nv *, void *);
static const char *conn_what(const struct conn *);
static void	conn_set_state(struct conn *, enum conn_state);
static int	conn_in_request(const struct conn *);

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
static void
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

static const char *
conn_what(const struct conn *c)
{
	return (req_what(c->method, c->uri));
}

/* accept(2) a batch; the rest waits for the next turn, fairly. */
void
conn_accept(struct ev_source *src, uint32_t events)
{
	struct listener		*l = (struct listener *)src;
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
		if (l->pool->access_fd != -1)
			conn_peer(c, &ss);
		c->spoolfd = -1;
		c->timer.cb = conn_timeout;
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
		conn_read(c);
	}
}

/*
 * Watch c's fd for events (EPOLLIN, and EPOLLOUT when a write would
 * block): the first time adds it to the epoll set.  0, or -1 (closed).
 */
static int
conn_watch(struct conn *c, uint32_t events)
{
	if (c->src.fd == -1)
		return (-1);
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
		log_warnx("[pool %s] connection disallowed: IP address '%s' "
		    "has been dropped", p->cf->name, ip);
	return (ok);
}

static void
conn_event(struct ev_source *src, uint32_t events)
{
	struct conn	*c = (struct conn *)src;

	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->src.fd == -1)
		return;
	if (c->throttled) {
		/* not reading it: only its end is news */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_client_gone(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(c);
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
		/* the worker's time is its own timer's (slow.c) */
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

static void
conn_read(struct conn *c)
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
		/* level-triggered: a short read means drained, no EAGAIN call */
		ev = FCGI_EV_HEADER;
		n = read(c->src.fd, inbuf, sizeof(inbuf));
		if (n == -1 && errno == EINTR) {
			n = sizeof(inbuf);
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			break;
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
			if (conn_record(c, &h, data, dlen) == -1) {
				conn_close(c);
				return;
			}
			if (c->src.fd == -1)
				return;
		}
	}
	/* waiting for more, or for the client to go: watch it */
	if (!c->polled && (c->state == C_NEW || c->state == C_PARAMS ||
	    c->state == C_BODY || c->state == C_KEEP ||
	    c->state == C_QUEUED || (c->state == C_FORWARD &&
	    c->pool->cf->request_terminate_on_abort)))
		(void)conn_watch(c, EPOLLIN | EPOLLRDHUP);
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

/* Body bytes: memory up to request.buffer_size, then a spool file. */
static int
conn_body(struct conn *c, const uint8_t *data, size_t n)
{
	struct conf_pool	*cf = c->pool->cf;
	ssize_t			 w;

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

static int
conn_param(const struct fcgi_nv *nv, void *arg)
{
	static const struct {
		const char	*name;
		size_t		 off, size;
	} want[] = {
		{ "REQUEST_METHOD", offsetof(struct conn, method),
		    sizeof(((struct conn *)0)->method) },
		{ "REQUEST_URI", offsetof(struct conn, uri),
		    sizeof(((struct conn *)0)->uri) },
		{ "SCRIPT_NAME", offsetof(struct conn, script),
		    sizeof(((struct conn *)0)->script) },
		{ "SCRIPT_FILENAME", offsetof(struct conn, filename),
		    sizeof(((struct conn *)0)->filename) },
		{ "QUERY_STRING", offsetof(struct conn, query),
		    sizeof(((struct conn *)0)->query) },
		{ "REMOTE_USER", offsetof(struct conn, user),
		    sizeof(((struct conn *)0)->user) },
	};
	struct conn	*c = arg;
	char		*dst, num[24];
	size_t		 i, n;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (nv->namelen != strlen(want[i].name) ||
		    memcmp(nv->name, want[i].name, nv->namelen) != 0)
			continue;
		dst = (char *)c + want[i].off;
		n = nv->valuelen < want[i].size - 1 ? nv->valuelen :
		    want[i].size - 1;
		memcpy(dst, nv->value, n);
		dst[n] = '\0';
		/* PHP-FPM shows the path; the query is QUERY_STRING's */
		if (want[i].off == offsetof(struct conn, uri))
			dst[strcspn(dst, "?")] = '\0';
		return (0);
	}
	if (nv->namelen == 14 && memcmp(nv->name, "CONTENT_LENGTH", 14) == 0) {
		n = nv->valuelen < sizeof(num) - 1 ? nv->valuelen :
		    sizeof(num) - 1;
		memcpy(num, nv->value, n);
		num[n] = '\0';
		c->content_length = strtoull(num, NULL, 10);
	}
	return (0);
}

/* The whole request is in: answer it ourselves, or find it a worker. */
static void
conn_request_ready(struct conn *c)
{
	struct pool	*p = c->pool;
	struct worker	*w;

	ev_timer_stop(&c->timer);
	if (!c->retried)
		c->ready_us = ev_now_us();
	/* Apache's proxy: prefix goes before anyone reads SCRIPT_FILENAME */
	if (cgi_params_normalize(&c->params, &c->paramslen, &c->paramssize,
	    cgi_flags(p->cf, p->php), cgi_probe_stat, p->cf->chroot) == -1) {
		log_warn("[pool %s] closing a connection", p->cf->name);
		conn_close(c);
		return;
	}
	if (fcgi_nv_foreach(c->params, c->paramslen, conn_param, c) == -1) {
		log_warnx("[pool %s] closing a connection: malformed PARAMS",
		    p->cf->name);
		conn_close(c);
		return;
	}
	/*
	 * PHP-FPM's request URI (status, access log %r, slow lines) is
	 * SCRIPT_NAME: /index.php behind a front controller, not the pretty
	 * REQUEST_URI; REQUEST_URI's path when there is none.
	 */
	if (c->script[0] != '\0')
		strlcpy(c->uri, c->script, sizeof(c->uri));
	if (conn_builtin(c) || !conn_script_allowed(c))
		return;
	/* older requests first: a worker idle since this turn is theirs */
	if (p->nqueue == 0 && (w = pool_idle_worker(p)) != NULL) {
		conn_forward(c, w);
		return;
	}
	if (p->nqueue >= p->cf->queue_max_length || sv_stopping() ||
	    p->draining) {
		p->queue_full++;
		log_warnx("[pool %s] no idle worker and the queue is full (%d): "
		    "answering 503 to \"%s\"", p->cf->name, p->nqueue,
		    conn_what(c));
		conn_respond(c, 503, "Service Unavailable", "text/plain",
		    "503 Service Unavailable: all workers are busy\n");
		return;
	}
	if (!c->polled && conn_watch(c, EPOLLIN | EPOLLRDHUP) == -1)
		return;
	conn_set_state(c, C_QUEUED);
	if (p->cf->queue_timeout_ms > 0)
		ev_timer_set(&c->timer, p->cf->queue_timeout_ms);
	pool_post(p);		/* a worker may have to be started */
}

/*
 * Whatever waits in the queue gets its 503 now: on a fast stop, or when
 * no worker of the pool can start (pm.c).
 */
void
conn_queue_refuse(struct pool *p)
{
	struct conn	*c;

	/* each answer takes c out of the queue (conn_set_state) */
	while ((c = TAILQ_FIRST(&p->queue)) != NULL) {
		p->queue_full++;
		conn_respond(c, 503, "Service Unavailable", "text/plain",
		    sv_stopping() ? "503 Service Unavailable: the server is "
		    "stopping\n" : "503 Service Unavailable: no worker can "
		    "start\n");
	}
}

/* Idle workers take queued requests, oldest first. */
void
conn_dispatch_queue(struct pool *p)
{
	struct conn	*c;
	struct worker	*w;

	while ((c = TAILQ_FIRST(&p->queue)) != NULL && p->nidle > 0) {
		w = pool_idle_worker(p);
		conn_forward(c, w);	/* out of the queue */
	}
}

/*
 * Build the request for the worker: BEGIN_REQUEST with FCGI_KEEP_CONN (one
 * persistent connection per worker), PARAMS, and STDIN from memory; a
 * spooled body follows as the worker drains the socket.
 */
static void
conn_forward(struct conn *c, struct worker *w)
{
	struct pool	*p = c->pool;
	size_t		 need, n;
	uint8_t		*nb;

	conn_set_state(c, C_FORWARD);
	c->w = w;
	w->conn = c;
	w->taken++;
	conn_info(c, &w->cur);
	w->fwd_mono = ev_now();
	w->fwd_us = ev_now_us();
	w->slow_logged = 0;
	if (w->cpu_prev < 0 && stat_wanted(p))
		stat_sample(w, -1);
	stat_observe(p->wait_count, &p->wait_sum, w->fwd_us - c->ready_us);
	slow_arm(w);
	c->woff = c->wlen = 0;
	c->wrote = 0;
	c->spooloff = 0;
	c->stdin_sent = 0;
	c->got_response = c->hdr_done = 0;
	c->wdrop = 0;
	c->hdrslen = 0;
	c->hdr_linelen = 0;
	c->status = 200;
	fcgi_decoder_init(&c->wdec);
	if ((unsigned long)(p->nworkers - p->nretiring - p->nidle) >
	    p->max_active)
		p->max_active = (unsigned long)(p->nworkers - p->nretiring -
		    p->nidle);
	if (worker_connect(w) == -1) {
		conn_worker_failed(c, "unable to connect");
		return;
	}
	need = 16 + fcgi_stream_size(c->paramslen) + 8 +
	    fcgi_stream_size(c->bodylen) + 8 + 8;
	if (need < 16 + 65536)
		need = 16 + 65536;	/* room for a whole STDIN record */
	if (need > c->wbuf_size) {
		if ((nb = realloc(c->wbuf, need)) == NULL) {
			conn_worker_failed(c, "out of memory");
			return;
		}
		c->wbuf = nb;
		c->wbuf_size = need;
	}
	n = fcgi_begin_request_encode(c->wbuf, need, 1, c->role,
	    FCGI_KEEP_CONN);
	if (c->paramslen > 0)
		n += fcgi_stream_encode(c->wbuf + n, need - n, FCGI_PARAMS, 1,
		    c->params, c->paramslen);
	n += fcgi_record_encode(c->wbuf + n, need - n, FCGI_PARAMS, 1, NULL, 0);
	c->bodyoff = 0;
	if (c->spoolfd == -1 && c->body_done) {
		/* the common case: all of it in one write */
		if (c->bodylen > 0)
			n += fcgi_stream_encode(c->wbuf + n, need - n,
			    FCGI_STDIN, 1, c->body, c->bodylen);
		n += fcgi_record_encode(c->wbuf + n, need - n, FCGI_STDIN, 1,
		    NULL, 0);
		if (p->probe == PROBE_APPEND)
			n += fcgi_record_encode(c->wbuf + n, need - n,
			    FCGI_STDIN, 1, NULL, 0);
		c->bodyoff = c->bodylen;
		c->stdin_sent = 1;
	}
	c->wlen = n;
	conn_worker_write(c);
}

/*
 * Fill wbuf with the next STDIN record: from the spool file, else from the
 * memory body, else the empty record once the client's body has ended.
 * Returns 0, 1 when there is nothing to send yet (streaming), -1 on error.
 */
static int
conn_next_stdin(struct conn *c)
{
	size_t	chunk = FCGI_STREAM_CHUNK;
	ssize_t	n;

	c->woff = c->wlen = 0;
	if (c->spoolfd != -1 && c->spooloff < c->spoollen) {
		if ((off_t)chunk > c->spoollen - c->spooloff)
			chunk = (size_t)(c->spoollen - c->spooloff);
		do
			n = pread(c->spoolfd, c->wbuf + 8, chunk, c->spooloff);
		while (n == -1 && errno == EINTR);
		if (n <= 0) {
			log_warn("[pool %s] unable to read the spooled body",
			    c->pool->cf->name);
			return (-1);
		}
		c->spooloff += n;
		c->wlen = fcgi_record_encode(c->wbuf, c->wbuf_size, FCGI_STDIN,
		    1, c->wbuf + 8, (size_t)n);
		return (0);
	}
	if (c->spoolfd == -1 && c->bodyoff < c->bodylen) {
		if (chunk > c->bodylen - c->bodyoff)
			chunk = c->bodylen - c->bodyoff;
		c->wlen = fcgi_record_encode(c->wbuf, c->wbuf_size, FCGI_STDIN,
		    1, c->body + c->bodyoff, chunk);
		c->bodyoff += chunk;
		if (c->bodyoff == c->bodylen && !c->body_done)
			c->bodylen = c->bodyoff = 0;	/* reuse the memory */
		return (0);
	}
	if (!c->body_done)
		return (1);
	c->wlen = fcgi_record_encode(c->wbuf, c->wbuf_size, FCGI_STDIN, 1,
	    NULL, 0);
	if (c->pool->probe == PROBE_APPEND)
		c->wlen += fcgi_record_encode(c->wbuf + c->wlen,
		    c->wbuf_size - c->wlen, FCGI_STDIN, 1, NULL, 0);
	c->stdin_sent = 1;
	return (0);
}

/* Write what we have for the worker, pulling the body as it drains. */
static void
conn_worker_write(struct conn *c)
{
	struct worker	*w = c->w;
	ssize_t		 n;
	int		 r;

	while (w != NULL && w->sock.fd != -1) {
		if (c->woff == c->wlen && c->stdin_sent && c->abort == 1) {
			c->woff = 0;
			c->wlen = fcgi_record_encode(c->wbuf, c->wbuf_size,
			    FCGI_ABORT_REQUEST, 1, NULL, 0);
			c->abort = 2;
		}
		if (c->woff == c->wlen) {
			if (c->stdin_sent)
				return;
			if ((r = conn_next_stdin(c)) == 1)
				return;
			if (r == -1) {
				conn_worker_failed(c, "spool error");
				return;
			}
		}
		n = write(w->sock.fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;		/* EPOLLOUT (edge) brings us back */
		if (n == -1) {
			/* EPIPE, ECONNRESET: the read side tells the story */
			conn_worker_read(c);
			return;
		}
		c->woff += (size_t)n;
		c->wrote = 1;
	}
}

void
conn_worker_event(struct worker *w, uint32_t events)
{
	struct conn	*c = w->conn;

	if (events & EPOLLOUT)
		conn_worker_write(c);
	if (c->w == w && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
	    EPOLLERR)))
		conn_worker_read(c);
}

/* Note the HTTP status from the CGI response headers (Status:, Location:). */
static void
conn_scan_headers(struct conn *c, const uint8_t *p, size_t n)
{
	size_t	i, len;
	char	*line = c->hdr_line;

	if (c->pool->access_hdr && c->hdrslen < HDRS_MAX) {
		/* keep the header block whole for the access log's %o */
		len = n < HDRS_MAX - c->hdrslen ? n : HDRS_MAX - c->hdrslen;
		if (c->hdrs == NULL)
			c->hdrs = malloc(HDRS_MAX + 1);
		if (c->hdrs != NULL) {
			memcpy(c->hdrs + c->hdrslen, p, len);
			c->hdrslen += len;
		}
	}
	for (i = 0; i < n && !c->hdr_done; i++) {
		if (p[i] != '\n') {
			if (c->hdr_linelen < sizeof(c->hdr_line) - 1)
				line[c->hdr_linelen] = (char)p[i];
			c->hdr_linelen++;
			continue;
		}
		len = c->hdr_linelen;
		if (len > 0 && len <= sizeof(c->hdr_line) - 1 &&
		    line[len - 1] == '\r')
			len--;
		c->hdr_linelen = 0;
		if (len == 0) {
			c->hdr_done = 1;
			break;
		}
		if (len > sizeof(c->hdr_line) - 1)
			continue;
		line[len] = '\0';
		if (strncasecmp(line, "Status:", 7) == 0)
			c->status = atoi(line + 7 + strspn(line + 7, " \t"));
		else if (strncasecmp(line, "Location:", 9) == 0 &&
		    c->status == 200)
			c->status = 302;
	}
}

/*
 * A worker may send STDOUT, STDERR and END_REQUEST of request 1 (ours),
 * nothing else: a BEGIN_REQUEST, PARAMS or unknown type relayed would
 * confuse the web server (nginx: "upstream sent unexpected FastCGI
 * record"), an END_REQUEST of another id (an answer to the probe) would
 * end the wrong request.  Such records are dropped, said once per worker.
 */
static int
conn_worker_record_bad(struct conn *c, const struct fcgi_header *h)
{
	struct worker	*w = c->w;

	if ((h->type == FCGI_STDOUT || h->type == FCGI_STDERR ||
	    h->type == FCGI_END_REQUEST) && h->request_id == 1)
		return (0);
	if (!w->bad_records)
		log_warnx("[pool %s] child %d sent a record a worker must "
		    "not send (%s, type %u, request %u): dropped, as are "
		    "all such records from it", c->pool->cf->name,
		    (int)w->pid, fcgi_type_name(h->type), h->type,
		    h->request_id);
	w->bad_records++;
	return (1);
}

/*
 * Relay the worker's records to the client: request ids are rewritten to
 * the client's, END_REQUEST ends the request, anything after it is dropped.
 * A header split across reads is never flushed half (so it can be patched).
 */
static void
conn_worker_read(struct conn *c)
{
	struct worker		*w = c->w;
	struct fcgi_header	 h;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen, off, start;
	ssize_t			 n, used;
	int			 more;

	if (c->rbuf == NULL) {
		if ((c->rbuf = malloc(RBUF_SIZE)) == NULL) {
			conn_worker_failed(c, "out of memory");
			return;
		}
		c->rbuf_size = RBUF_SIZE;
	}
	for (more = 1; more && c->state == C_FORWARD && w->sock.fd != -1 &&
	    c->rlen < RBUF_SIZE;) {
		n = read(w->sock.fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
		/*
		 * Edge-triggered, but a short read of a stream socket means
		 * its queue is empty: new bytes bring a new edge.
		 */
		more = n == (ssize_t)(RBUF_SIZE - c->rlen);
		if (n == -1 && errno == EINTR) {
			more = 1;
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			worker_disconnect(w);
			break;
		}
		start = c->rlen;
		c->rlen += (size_t)n;
		ev = FCGI_EV_HEADER;
		for (off = start; off < c->rlen || ev != FCGI_EV_NEED_MORE;) {
			used = fcgi_decode(&c->wdec, c->rbuf + off,
			    c->rlen - off, &ev, &data, &dlen);
			if (used == -1) {
				log_warnx("[pool %s] child %d speaks no "
				    "FastCGI: closing its connection",
				    c->pool->cf->name, (int)w->pid);
				c->rlen = start;
				worker_disconnect(w);
				conn_worker_failed(c, "protocol error");
				return;
			}
			if (c->wdrop && ev != FCGI_EV_HEADER) {
				/* a record the client must not see: cut out */
				memmove(c->rbuf + off, c->rbuf + off + used,
				    c->rlen - off - (size_t)used);
				c->rlen -= (size_t)used;
				used = 0;
				if (ev == FCGI_EV_RECORD_END)
					c->wdrop = 0;
				if (ev != FCGI_EV_NEED_MORE)
					continue;
			}
			off += (size_t)used;
			if (ev == FCGI_EV_NEED_MORE)
				break;
			h = c->wdec.hdr;
			if (ev == FCGI_EV_HEADER && conn_worker_record_bad(c, &h)) {
				/* its 8 bytes are here (see below): cut them */
				memmove(c->rbuf + off - 8, c->rbuf + off,
				    c->rlen - off);
				c->rlen -= 8;
				off -= 8;
				c->wdrop = 1;
			} else if (ev == FCGI_EV_HEADER) {
				/* patch the id in place: the 8 bytes are here */
				c->rbuf[off - 8 + 2] = (uint8_t)(c->reqid >> 8);
				c->rbuf[off - 8 + 3] = (uint8_t)c->reqid;
				if (h.type == FCGI_STDOUT && h.content_length)
					c->got_response = 1;
			} else if (ev == FCGI_EV_CONTENT &&
			    h.type == FCGI_STDOUT && !c->hdr_done)
				conn_scan_headers(c, data, dlen);
			else if (ev == FCGI_EV_RECORD_END &&
			    h.type == FCGI_END_REQUEST) {
				conn_set_state(c, C_FLUSH);
				if (off < c->rlen)
					log_debug("[pool %s] child %d: %zu "
					    "bytes after END_REQUEST dropped",
					    c->pool->cf->name, (int)w->pid,
					    c->rlen - off);
				c->rlen = off;
				break;
			}
		}
	}
	if (c->state == C_FORWARD && w->sock.fd == -1) {
		/* the worker closed its connection mid-request */
		conn_worker_failed(c, "connection closed");
		return;
	}
	if (c->state == C_FLUSH)
		conn_worker_end(c);
	conn_flush(c);
}

/*
 * The worker's END_REQUEST is in: the answer is whole in rbuf and the
 * worker is done with c, though maybe not with its work (fpm.h:
 * finishing).  What the access log needs of c goes with the worker.
 */
static void
conn_worker_end(struct conn *c)
{
	struct worker	*w = c->w;
	struct pool	*p = c->pool;
	uint8_t		*pb;
	char		*hb;
	size_t		 size;

	w->cur.status = c->status;
	w->paramslen = w->hdrslen = 0;
	if (p->access_fd != -1 && p->access_env) {
		pb = w->params;
		size = w->paramssize;
		w->params = c->params;
		w->paramslen = c->paramslen;
		w->paramssize = c->paramssize;
		c->params = pb;
		c->paramssize = size;
		c->paramslen = 0;
	}
	if (p->access_fd != -1 && p->access_hdr) {
		hb = w->hdrs;
		w->hdrs = c->hdrs;
		w->hdrslen = c->hdrslen;
		c->hdrs = hb;
		c->hdrslen = 0;
	}
	c->served = 1;
	c->w = NULL;
	w->conn = NULL;
	conn_client_timer(c);
	/* a worker that answered before reading all we sent: start afresh */
	if (!c->stdin_sent || c->woff < c->wlen)
		worker_disconnect(w);
	worker_end_request(w);
}

/* What a worker taking c's request, or the access log, keeps of it. */
void
conn_info(const struct conn *c, struct reqinfo *ri)
{
	strlcpy(ri->method, c->method, sizeof(ri->method));
	strlcpy(ri->uri, c->uri, sizeof(ri->uri));
	strlcpy(ri->query, c->query, sizeof(ri->query));
	strlcpy(ri->script, c->filename, sizeof(ri->script));
	strlcpy(ri->user, c->user, sizeof(ri->user));
	strlcpy(ri->peer, c->peer, sizeof(ri->peer));
	ri->content_length = c->content_length;
	ri->status = c->status;
	ri->start = c->start;
	ri->start_us = c->start_us;
	ri->duration_us = 0;
	ri->cpu_s = ri->cpu_pct = 0;
	ri->memory = 0;
}

/*
 * The worker is gone (pidfd): read what it left in the socket, which may be
 * the whole response; otherwise answer for it.
 */
void
conn_worker_died(struct conn *c)
{
	struct worker	*w = c->w;

	if (w != NULL && w->sock.fd != -1 && c->state == C_FORWARD)
		conn_worker_read(c);
	if (c->w == NULL)
		return;		/* its END_REQUEST was there */
	conn_worker_failed(c, "exited");
}

/*
 * request_terminate_timeout: the worker goes (SIGTERM, then SIGKILL), the
 * client gets a 504 if nothing of the answer was sent yet.
 */
void
conn_terminated(struct conn *c)
{
	struct worker	*w = c->w;

	c->w = NULL;
	w->conn = NULL;
	worker_retire(w, SIGTERM);
	c->pool->timed_out++;
	c->rlen = c->roff = 0;
	if (c->got_response) {
		conn_close(c);
		return;
	}
	conn_respond(c, 504, "Gateway Timeout", "text/plain",
	    "504 Gateway Timeout: the request ran too long\n");
}

/*
 * The worker failed this request.  Not one byte of it reached the worker
 * (connect(2) or the first write(2) failed): safe to run it elsewhere.
 * Nothing of the answer sent: 502.  A response half sent: close the client,
 * the only honest signal left.
 */
static void
conn_worker_failed(struct conn *c, const char *why)
{
	struct worker	*w = c->w;
	struct pool	*p = c->pool;
	int		 pid = w ? (int)w->pid : 0;

	if (w != NULL) {
		w->conn = NULL;
		c->w = NULL;
		w->failed = 1;	/* its death is news: see worker_reap */
		if (w->state != W_RETIRING && w->pidsrc.fd != -1)
			worker_retire(w, SIGTERM);
	}
	c->rlen = c->roff = 0;
	if (c->got_response) {
		log_warnx("[pool %s] child %d: %s in the middle of the response "
		    "to \"%s\"", p->cf->name, pid, why, conn_what(c));
		conn_close(c);
		return;
	}
	/*
	 * Once bytes are in the worker's socket nothing tells whether it
	 * began the request: php-cgi reads record by record, and a worker
	 * killed mid-script leaves no trace of what it did.  A second run
	 * could charge a card twice, whatever the method; so only a request
	 * that never reached the worker is sent again.  The body must be
	 * whole (not streamed).
	 */
	if (!c->retried && !sv_stopping() && c->body_done &&
	    p->cf->request_buffering && !c->wrote) {
		c->retried = 1;
		log_warnx("[pool %s] child %d: %s before reading \"%s\": "
		    "trying another worker", p->cf->name, pid, why,
		    conn_what(c));
		conn_request_ready(c);
		return;
	}
	log_warnx("[pool %s] child %d: %s before answering \"%s\": "
	    "answering 502", p->cf->name, pid, why, conn_what(c));
	p->bad_gateway++;
	conn_respond(c, 502, "Bad Gateway", "text/plain",
	    "502 Bad Gateway: the worker failed\n");
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
static int
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
static void
conn_client_timer(struct conn *c)
{
	if (c->pool->cf->request_client_timeout_ms > 0)
		ev_timer_set(&c->timer,
		    c->pool->cf->request_client_timeout_ms);
	else
		ev_timer_stop(&c->timer);
}

/* A whole response from us: headers and body, then END_REQUEST. */
static void
conn_respond(struct conn *c, int status, const char *reason,
    const char *type, const char *body)
{
	char	 head[512], st[64] = "";
	uint8_t	*rec;
	size_t	 n, size, blen;
	int	 hlen;

	c->status = status;
	if (status != 200)
		snprintf(st, sizeof(st), "Status: %d %s\r\n", status, reason);
	/* PHP-FPM's ping: the type first (status pages: libcommon/status) */
	hlen = snprintf(head, sizeof(head), "%sContent-type: %s\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
	    "\r\n", st, type);
	if (hlen < 0 || (size_t)hlen >= sizeof(head)) {
		conn_close(c);		/* our own types: cannot happen */
		return;
	}
	/* a ping.response of any length, in as many records as it takes */
	blen = strcasecmp(c->method, "HEAD") == 0 ? 0 : strlen(body);
	size = fcgi_stream_size((size_t)hlen) + fcgi_stream_size(blen) +
	    3 * FCGI_HEADER_LEN + 8;
	if ((rec = malloc(size)) == NULL) {
		log_warn("[pool %s] unable to answer \"%s\"",
		    c->pool->cf->name, conn_what(c));
		conn_close(c);
		return;
	}
	n = fcgi_stream_encode(rec, size, FCGI_STDOUT, c->reqid, head,
	    (size_t)hlen);
	if (blen > 0)
		n += fcgi_stream_encode(rec + n, size - n, FCGI_STDOUT,
		    c->reqid, body, blen);
	n += fcgi_record_encode(rec + n, size - n, FCGI_STDOUT, c->reqid,
	    NULL, 0);
	n += fcgi_end_request_encode(rec + n, size - n, c->reqid, 0,
	    FCGI_REQUEST_COMPLETE);
	/* the last record is queued: the flush may end the request */
	conn_set_state(c, C_FLUSH);
	if (conn_send(c, rec, n) == -1)
		conn_close(c);
	free(rec);
}

static void
conn_end(struct conn *c, uint16_t reqid, uint8_t status)
{
	uint8_t	rec[16];
	size_t	n;

	n = fcgi_end_request_encode(rec, sizeof(rec), reqid, 0, status);
	conn_set_state(c, C_FLUSH);
	if (conn_send(c, rec, n) == -1)
		conn_close(c);
}

/*
 * Write the relay buffer to the client; finish the request when done.
 * Every stall counts against request.client_timeout, in every state.
 */
static void
conn_flush(struct conn *c)
{
	size_t	safe;
	ssize_t	n;
	int	fwd, full;

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
		if (n == -1 && errno == EAGAIN) {
			if (!c->pollout && conn_watch(c, EPOLLOUT |
			    (c->throttled ? 0 : EPOLLIN | EPOLLRDHUP)) == 0)
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
	    ev_mod(&c->src, c->throttled ? 0 : EPOLLIN | EPOLLRDHUP) == 0)
		c->pollout = 0;
	/* keep the half header at the front */
	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	/* nothing waits for the client: the worker's time is slow.c's */
	if (c->state == C_FORWARD && c->rlen == 0)
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
	else if (full && c->state == C_FORWARD && c->w != NULL &&
	    c->w->sock.fd != -1 &&
	    c->rlen < RBUF_SIZE)
		conn_worker_read(c);
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
	if (c->client_gone || !(c->flags & FCGI_KEEP_CONN) ||
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
		close(c->src.fd);
		c->src.fd = -1;		/* freed when the worker is done */
		return;
	}
	conn_close(c);
}

static void
conn_close(struct conn *c)
{
	if (c->state == C_CLOSED)
		return;
	conn_set_state(c, C_CLOSED);
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

/*
 * security.limit_extensions, for php-cgi pools as in PHP-FPM (other
 * programs' scripts need not look like PHP), on the script php-cgi would
 * run: /srv/app/index.php for /srv/app/index.php/users/7, the upload for
 * /upload/evil.jpg/x.php.  None found is php-cgi's 404 to answer.
 * Answers a 403 and returns 0 when refused.
 */
static int
conn_script_allowed(struct conn *c)
{
	struct conf_pool	*cf = c->pool->cf;
	const char		*s;
	char			 script[sizeof(c->filename)];
	char			 vis[4 * sizeof(c->filename)];
	size_t			 slen;

	if (!c->pool->php || cf->limit_extensions == NULL ||
	    cf->limit_extensions[0] == NULL ||
	    cgi_script(c->params, c->paramslen, cgi_flags(cf, 1),
	    cgi_probe_stat, cf->chroot, &s, &slen) != 1 ||
	    cgi_ext_allowed(s, slen, cf->limit_extensions))
		return (1);
	slen = slen < sizeof(script) ? slen : sizeof(script) - 1;
	memcpy(script, s, slen);
	script[slen] = '\0';
	log_warnx("[pool %s] access to the script '%s' has been denied (see "
	    "security.limit_extensions)", cf->name,
	    log_vis(vis, sizeof(vis), script));
	conn_respond(c, 403, "Forbidden", "text/html", "Access denied.\n");
	return (0);
}

/*
 * pm.status_path: PHP-FPM's page for this pool in the format its query
 * switches ask for (?json, ?full...), headers included.
 */
static void
conn_status_page(struct conn *c)
{
	struct pool		*p = c->pool;
	struct status_buf	 b = { NULL, 0, 0 };
	struct status_pool	 sp;
	struct status_proc	*procs;
	enum status_format	 fmt;
	uint8_t			*rec;
	size_t			 n, size;
	int			 full;

	status_parse_query(c->query, &fmt, &full);
	procs = calloc((size_t)p->nworkers + 1, sizeof(*procs));
	if (procs == NULL || status_headers(&b, fmt) == -1) {
		free(procs);
		conn_respond(c, 500, "Internal Server Error", "text/plain",
		    "Internal error. Please review log file for errors.\n");
		return;
	}
	stat_fill(p, &sp, procs, (size_t)p->nworkers);
	if (strcasecmp(c->method, "HEAD") != 0 &&
	    status_render(&b, &sp, fmt, full) == -1) {
		free(procs);
		status_buf_free(&b);
		conn_respond(c, 500, "Internal Server Error", "text/plain",
		    "Internal error. Please review log file for errors.\n");
		return;
	}
	free(procs);
	c->status = 200;
	size = fcgi_stream_size(b.len) + 2 * FCGI_HEADER_LEN + 16;
	if ((rec = malloc(size)) == NULL) {
		status_buf_free(&b);
		conn_close(c);
		return;
	}
	n = fcgi_stream_encode(rec, size, FCGI_STDOUT, c->reqid, b.data, b.len);
	n += fcgi_record_encode(rec + n, size - n, FCGI_STDOUT, c->reqid,
	    NULL, 0);
	n += fcgi_end_request_encode(rec + n, size - n, c->reqid, 0,
	    FCGI_REQUEST_COMPLETE);
	status_buf_free(&b);
	conn_set_state(c, C_FLUSH);
	if (conn_send(c, rec, n) == -1)
		conn_close(c);
	free(rec);
}

/*
 * ping.path and pm.status_path, matched against SCRIPT_NAME as PHP-FPM
 * does, answered here: they never need (or wait for) a worker.  On
 * pm.status_listen nothing else is served.
 */
static int
conn_builtin(struct conn *c)
{
	struct pool		*p = c->pool;
	struct conf_pool	*cf = p->cf;
	const char		*status;

	if (cf->ping_path != NULL && strcmp(c->script, cf->ping_path) == 0) {
		conn_respond(c, 200, "OK", "text/plain;charset=UTF-8",
		    cf->ping_response);
		return (1);
	}
	/* on its own socket, the status page is at "/" unless set */
	status = cf->status_path != NULL ? cf->status_path :
	    c->status_only ? "/" : NULL;
	if (status != NULL && strcmp(c->script, status) == 0) {
		conn_status_page(c);
		return (1);
	}
	if (!c->status_only)
		return (0);
	conn_respond(c, 404, "Not Found", "text/plain",
	    "404 Not Found: only the status and ping pages are served on "
	    "pm.status_listen\n");
	return (1);
}
