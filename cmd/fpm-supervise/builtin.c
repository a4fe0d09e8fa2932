/* SPDX-License-Identifier: ISC */
/*
 * The answers the supervisor makes itself: ping, the status page, the 403
 * of security.limit_extensions, and any own answer (502, 503, 504...).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/cgi.h"
#include "libcommon/log.h"
#include "libcommon/status.h"
#include "fpm.h"
#include "conn.h"

static void	conn_answer(struct conn *, int, const char *, size_t,
		    const char *, size_t, const char *);
static size_t	conn_body_len(const struct conn *, const char *);
static void	conn_respond_php(struct conn *, int, const char *,
		    const char *, const char *);
static void	conn_status_page(struct conn *);

/*
 * The X-Powered-By line php-cgi sends (relay.c learns it), for the three
 * %s of a format: PHP-FPM's answers are made by a PHP worker.
 */
#define POWERED(c)	(c)->pool->powered[0] ? "X-Powered-By: " : "", \
			(c)->pool->powered, (c)->pool->powered[0] ? "\r\n" : ""

/*
 * A whole answer of ours: err (if not NULL) in an FCGI_STDERR record, as
 * a worker writes its log lines before its output; head[0..hlen) and
 * body[0..blen) on STDOUT, each of any length, in as many records as it
 * takes; then END_REQUEST.
 */
static void
conn_answer(struct conn *c, int status, const char *head, size_t hlen,
    const char *body, size_t blen, const char *err)
{
	uint8_t	*rec;
	size_t	 n, size, elen;

	c->status = status;
	elen = err != NULL ? strlen(err) : 0;
	size = fcgi_stream_size(elen) + fcgi_stream_size(hlen) +
	    fcgi_stream_size(blen) + 3 * FCGI_HEADER_LEN + 8;
	if ((rec = malloc(size)) == NULL) {
		log_warn("[pool %s] unable to answer \"%s\"",
		    c->pool->cf->name, conn_what(c));
		conn_close(c);
		return;
	}
	n = 0;
	if (elen > 0) {
		n += fcgi_stream_encode(rec, size, FCGI_STDERR, c->reqid, err,
		    elen);
		n += fcgi_record_encode(rec + n, size - n, FCGI_STDERR,
		    c->reqid, NULL, 0);
	}
	if (hlen > 0)
		n += fcgi_stream_encode(rec + n, size - n, FCGI_STDOUT,
		    c->reqid, head, hlen);
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

/* A whole response from us: headers and body, then END_REQUEST. */
void
conn_respond(struct conn *c, int status, const char *reason,
    const char *type, const char *body)
{
	char	head[512], st[64] = "";
	int	hlen;

	if (status != 200)
		snprintf(st, sizeof(st), "Status: %d %s\r\n", status, reason);
	/* PHP-FPM's ping: the type first (status pages: libcommon/status) */
	hlen = snprintf(head, sizeof(head), "%s%s%s%sContent-type: %s\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
	    "\r\n", st, POWERED(c), type);
	if (hlen < 0 || (size_t)hlen >= sizeof(head)) {
		conn_close(c);		/* our own types: cannot happen */
		return;
	}
	conn_answer(c, status, head, (size_t)hlen, body, conn_body_len(c, body),
	    NULL);
}

/* The length of a body of ours: none for HEAD. */
static size_t
conn_body_len(const struct conn *c, const char *body)
{
	return (strcasecmp(c->method, "HEAD") == 0 ? 0 : strlen(body));
}

/*
 * An answer PHP-FPM's worker makes before it runs a script (404, 403):
 * PHP's headers, and what its log line sends the web server (err).
 */
static void
conn_respond_php(struct conn *c, int status, const char *reason,
    const char *body, const char *err)
{
	char	head[512];
	int	hlen;

	hlen = snprintf(head, sizeof(head), "Status: %d %s\r\n%s%s%s"
	    "Content-type: text/html; charset=UTF-8\r\n\r\n", status,
	    reason, POWERED(c));
	if (hlen < 0 || (size_t)hlen >= sizeof(head)) {
		conn_close(c);		/* our own reasons: cannot happen */
		return;
	}
	conn_answer(c, status, head, (size_t)hlen, body, conn_body_len(c, body),
	    err);
}

void
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
 * What PHP-FPM's worker checks before it runs a script, for php-cgi
 * pools (other programs' scripts need not look like PHP), on the script
 * php-cgi would run: /srv/app/index.php for /srv/app/index.php/users/7,
 * the upload for /upload/evil.jpg/x.php.  None (no SCRIPT_FILENAME, no
 * such file): PHP-FPM's 404, "Primary script unknown" for the web
 * server's log.  security.limit_extensions refuses it: 403.  Returns 1
 * when the request goes on, else 0 (answered).
 */
int
conn_script_allowed(struct conn *c)
{
	struct conf_pool	*cf = c->pool->cf;
	const char		*s;
	char			 script[sizeof(c->filename)];
	char			 vis[4 * sizeof(c->filename)];
	char			 msg[sizeof(vis) + 64];
	size_t			 slen;
	int			 r;

	if (!c->pool->php)
		return (1);
	r = cgi_script(c->params, c->paramslen, cgi_flags(cf, 1),
	    cgi_probe_stat, cf->chroot, &s, &slen);
	if (r == 0) {
		conn_respond_php(c, 404, "Not Found", "File not found.\n",
		    "Primary script unknown");
		return (0);
	}
	if (r != 1 || cf->limit_extensions == NULL ||
	    cf->limit_extensions[0] == NULL ||
	    cgi_ext_allowed(s, slen, cf->limit_extensions))
		return (1);
	slen = slen < sizeof(script) ? slen : sizeof(script) - 1;
	memcpy(script, s, slen);
	script[slen] = '\0';
	/* PHP-FPM's words, to our log and to the web server's, escaped */
	snprintf(msg, sizeof(msg), "Access to the script '%s' has been denied "
	    "(see security.limit_extensions)",
	    log_vis(vis, sizeof(vis), script));
	log_errorx("[pool %s] %s", cf->name, msg);
	conn_respond_php(c, 403, "Forbidden", "Access denied.\n", msg);
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
	char			 pw[sizeof(p->powered) + 16];
	int			 full, hlen;

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
	/* status_headers() put the headers in b: only X-Powered-By before */
	hlen = snprintf(pw, sizeof(pw), "%s%s%s", POWERED(c));
	conn_answer(c, 200, pw, hlen > 0 ? (size_t)hlen : 0, b.data, b.len,
	    NULL);
	status_buf_free(&b);
}

/*
 * ping.path and pm.status_path, matched against SCRIPT_NAME as PHP-FPM
 * does, answered here: they never need (or wait for) a worker.  On
 * pm.status_listen nothing else is served.
 */
int
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
