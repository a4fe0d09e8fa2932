/* SPDX-License-Identifier: ISC */
/*
 * access.log: one line per request, PHP-FPM's access.format, written by
 * the supervisor (which sees every request) in one write(2) per line.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/accesslog.h"
#include "libcommon/log.h"
#include "fpm.h"

struct alog_lookup {
	const uint8_t		*params;
	size_t			 paramslen;
	const char		*hdrs;
	size_t			 hdrslen;
	char			 value[1024];
};

static int		 alog_param_cb(const struct fcgi_nv *, void *);
static const char	*alog_param(void *, const char *);
static const char	*alog_header(void *, const char *);

static struct accesslog_buf	 line;
static const char		*want_name;

/* Open (or reopen, SIGUSR1) p's access.log; 0, or -1 with errno set. */
int
alog_open(struct pool *p)
{
	int	fd;

	if (p->cf->access_log == NULL) {
		if (p->access_fd > 0)
			close(p->access_fd);
		p->access_fd = -1;
		return (0);
	}
	fd = open(p->cf->access_log, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return (-1);
	if (p->access_fd > 0)
		close(p->access_fd);
	p->access_fd = fd;
	/* keeping the response headers costs a copy: only for %o */
	p->access_hdr = strstr(p->cf->access_format, "}o") != NULL;
	/* and a finishing worker keeps its params only for %e */
	p->access_env = strstr(p->cf->access_format, "}e") != NULL;
	return (0);
}

static int
alog_param_cb(const struct fcgi_nv *nv, void *arg)
{
	struct alog_lookup	*l = arg;
	size_t			 n;

	if (nv->namelen != strlen(want_name) ||
	    memcmp(nv->name, want_name, nv->namelen) != 0)
		return (0);
	n = nv->valuelen < sizeof(l->value) - 1 ? nv->valuelen :
	    sizeof(l->value) - 1;
	memcpy(l->value, nv->value, n);
	l->value[n] = '\0';
	return (1);
}

/* %{NAME}e: a FastCGI param of the request. */
static const char *
alog_param(void *arg, const char *name)
{
	struct alog_lookup	*l = arg;

	want_name = name;
	if (fcgi_nv_foreach(l->params, l->paramslen, alog_param_cb,
	    l) != 1)
		return (NULL);
	return (l->value);
}

/*
 * %{NAME}o: a header of the response, from the block relay.c kept (only
 * when the format has %o); names match exactly, as in PHP-FPM.
 */
static const char *
alog_header(void *arg, const char *name)
{
	struct alog_lookup	*l = arg;
	const char		*s, *end, *nl;
	size_t			 nlen = strlen(name), vlen;

	if (l->hdrs == NULL)
		return (NULL);
	for (s = l->hdrs, end = l->hdrs + l->hdrslen; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s || (nl == s + 1 && *s == '\r'))
			break;		/* the end of the headers */
		if ((size_t)(nl - s) <= nlen || memcmp(s, name, nlen) != 0 ||
		    s[nlen] != ':')
			continue;
		s += nlen + 1;
		while (s < nl && (*s == ' ' || *s == '\t'))
			s++;
		vlen = (size_t)(nl - s);
		if (vlen > 0 && s[vlen - 1] == '\r')
			vlen--;
		if (vlen >= sizeof(l->value))
			vlen = sizeof(l->value) - 1;
		memcpy(l->value, s, vlen);
		l->value[vlen] = '\0';
		return (l->value);
	}
	return (NULL);
}

/*
 * The request is over: its line, unless access.suppress_path says not.
 * pid is the worker's, 0 for an answer of ours; ri has the duration, CPU
 * and memory filled in.
 */
void
alog_write(struct pool *p, pid_t pid, const struct reqinfo *ri,
    const uint8_t *params, size_t paramslen, const char *hdrs,
    size_t hdrslen)
{
	struct accesslog_req	 r;
	struct alog_lookup	 l;

	if (p->access_fd == -1)
		return;
	memset(&r, 0, sizeof(r));
	r.pool = p->cf->name;
	r.pid = pid;
	r.master_pid = getpid();
	r.peer_addr = ri->peer[0] != '\0' ? ri->peer : NULL;
	r.method = ri->method;
	r.uri = ri->uri;
	r.query = ri->query;
	r.script_filename = ri->script;
	r.user = ri->user;
	r.status = ri->status;
	r.content_length = ri->content_length;
	r.start = ri->start;
	clock_gettime(CLOCK_REALTIME, &r.end);
	r.duration.tv_sec = ri->duration_us / 1000000;
	r.duration.tv_nsec = (ri->duration_us % 1000000) * 1000;
	/* stat_sample() took them: /proc has no user/system split */
	r.cpu_user = ri->cpu_s;
	r.memory = ri->memory;
	l.params = params;
	l.paramslen = paramslen;
	l.hdrs = hdrs;
	l.hdrslen = hdrslen;
	r.param = alog_param;
	r.header = alog_header;
	r.arg = &l;
	if (accesslog_suppressed((const char *const *)p->cf->access_suppress_path,
	    p->cf->naccess_suppress_path, &r))
		return;
	line.len = 0;
	if (accesslog_format(&line, p->cf->access_format, &r) == -1 ||
	    line.len == 0)
		return;
	if (write(p->access_fd, line.data, line.len) != (ssize_t)line.len)
		log_warn("[pool %s] unable to write to %s", p->cf->name,
		    p->cf->access_log);
}

void
alog_free(void)
{
	accesslog_buf_free(&line);
}
