/* SPDX-License-Identifier: ISC */
/*
 * Between the dispatcher's files: front.c (the client side), dispatch.c
 * (policy), relay.c (the worker side), builtin.c (our own answers).
 * Everything else sees only fpm.h.
 */
#ifndef FPM_SUPERVISE_CONN_H
#define FPM_SUPERVISE_CONN_H

/* The one way c changes state: checked against fpm.h's table. */
void	conn_set_state(struct conn *c, enum conn_state to);
/* "METHOD URI" of c's request, escaped for a log line (req_what). */
const char *conn_what(const struct conn *c);
/* Watch c for events (the first time adds it): 0, or -1 (closed). */
int	conn_watch(struct conn *c, uint32_t events);
/* The whole request is in: our answer, a worker, the queue or 503. */
void	conn_request_ready(struct conn *c);
/* c's request goes to a worker: our unsent answers wait behind it. */
void	conn_hold_own(struct conn *c);
/* Give c's request to w, an idle worker taken for it. */
void	conn_forward(struct conn *c, struct worker *w);
/* The worker took the body it lagged behind on: read the client on. */
void	conn_resume_body(struct conn *c);
/* Write what waits for c's worker, the body as its socket drains. */
void	conn_worker_write(struct conn *c);
/* Read and relay c's worker's records. */
void	conn_worker_read(struct conn *c);
/* c's worker failed it (why): retry, 502, or close the client. */
void	conn_worker_failed(struct conn *c, const char *why);
/* Queue our own bytes for the client and flush: 0, or -1 (ENOMEM). */
int	conn_send(struct conn *c, const void *data, size_t n);
/* Arm c's timer for request.client_timeout (0: none). */
void	conn_client_timer(struct conn *c);
/* A whole answer of ours: headers, body, END_REQUEST (C_FLUSH). */
void	conn_respond(struct conn *c, int status, const char *reason,
	    const char *type, const char *body);
/* END_REQUEST with status for reqid, alone (C_FLUSH). */
void	conn_end(struct conn *c, uint16_t reqid, uint8_t status);
/* Write what waits for the client; finish the request when all is out. */
void	conn_flush(struct conn *c);
/* Close c (a worker on it is retired); freed after this turn. */
void	conn_close(struct conn *c);
/* security.limit_extensions: 1 allowed, else 0 and the 403 sent. */
int	conn_script_allowed(struct conn *c);
/* ping.path or the status page: answered here, 1; else 0. */
int	conn_builtin(struct conn *c);

#endif
