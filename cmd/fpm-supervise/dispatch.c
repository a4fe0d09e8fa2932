/* SPDX-License-Identifier: ISC */
/*
 * Dispatch: a whole request gets our own answer, an idle worker, a place in
 * the queue or a 503; and when a worker fails it, the policy: a retry only
 * if no byte reached it, else 502 (or 504 for request_terminate_timeout).
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/cgi.h"
#include "libcommon/log.h"
#include "fpm.h"
#include "conn.h"

static int	conn_param(const struct fcgi_nv *, void *);

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
void
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
	/*
	 * Older requests first: a worker idle since this turn is theirs.
	 * A retry has waited its turn already.
	 */
	if ((p->nqueue == 0 || c->retried) &&
	    (w = pool_idle_worker(p)) != NULL) {
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
	if (c->retried) {
		/* at the head of the queue, where it was */
		TAILQ_REMOVE(&p->queue, c, qentry);
		TAILQ_INSERT_HEAD(&p->queue, c, qentry);
	}
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
void
conn_worker_failed(struct conn *c, const char *why)
{
	struct worker	*w = c->w;
	struct pool	*p = c->pool;
	int		 pid = w ? (int)w->pid : 0;

	if (w != NULL) {
		w->conn = NULL;
		c->w = NULL;
		w->failed = 1;	/* its death is news: see worker_reap */
		if ((w->state != W_RETIRING && w->pidsrc.fd != -1) ||
		    (w->group != NULL && !w->dead))
			worker_retire(w, SIGTERM);
	}
	c->rlen = c->roff = 0;
	if (c->client_gone) {
		conn_close(c);		/* nobody to answer */
		return;
	}
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
