/* SPDX-License-Identifier: ISC */
/*
 * The relay: a request written to its worker over the worker's persistent
 * connection (the body as the socket drains), and the worker's records
 * read back, checked, and passed to the client under the client's id.
 */

#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "fpm.h"
#include "conn.h"

#define HDRS_MAX	4096	/* response headers kept for %{NAME}o */

static int	conn_next_stdin(struct conn *);
static void	conn_learn_powered(struct pool *, const char *);
static void	conn_scan_headers(struct conn *, const uint8_t *, size_t);
static int	conn_worker_record_bad(struct conn *, const struct fcgi_header *);
static void	conn_worker_end(struct conn *);

/*
 * Build the request for the worker: BEGIN_REQUEST with FCGI_KEEP_CONN (one
 * persistent connection per worker), PARAMS, and STDIN from memory; a
 * spooled body follows as the worker drains the socket.
 */
void
conn_forward(struct conn *c, struct worker *w)
{
	struct pool	*p = c->pool;
	size_t		 need, n;
	uint8_t		*nb;

	conn_hold_own(c);
	conn_set_state(c, C_FORWARD);
	c->w = w;
	w->conn = c;
	w->taken++;
	conn_info(c, &w->cur);
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
void
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
		if (c->paused)
			conn_resume_body(c);
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

/*
 * php-cgi's X-Powered-By (its version, sent when its expose_php is on),
 * kept for the answers we make in its place (builtin.c), as PHP-FPM's
 * worker makes them.  Only a short printable one is kept.
 */
static void
conn_learn_powered(struct pool *p, const char *v)
{
	size_t	i, n;

	v += strspn(v, " \t");
	n = strlen(v);
	if (n == 0 || n >= sizeof(p->powered))
		return;
	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return;
	memcpy(p->powered, v, n + 1);
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
		else if (c->pool->php &&
		    strncasecmp(line, "X-Powered-By:", 13) == 0)
			conn_learn_powered(c->pool, line + 13);
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
 *
 * The bytes go through user space, two copies, on purpose: splice(2)
 * through a pipe saves the copies but not the calls, and php-cgi writes
 * each large record as an 8-byte header then up to 65528 bytes, so a
 * record costs a header read, its write and two splices where read(2)
 * and write(2) move 64 KiB of records at once.  Measured on 64 KiB
 * records (2 cores, unix sockets): 350 us/MB of relay CPU either way;
 * only a headerless stream gains (-30%).
 */
void
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
				/*
				 * Any record with content may go out in part
				 * (STDERR too): after it, an answer of ours
				 * would land inside it, so a failure closes.
				 */
				if (h.content_length > 0)
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
