/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for libcommon/status: a status query string picks the
 * format, as a client's ?json&full does, and pools whose workers carry a
 * client's strings (method, URI, query, user, script) are rendered in it.
 * JSON must parse, Prometheus lines must be well formed, and the
 * multi-pool and header renderers must agree with the single one.
 *
 * Input: NUL-separated strings (the query, then per pool its name and pm,
 * then per worker method, uri, query, user, script), numbers taken from
 * the end.  What the supervisor makes itself stays in its range: worker
 * counts below INT_MAX together, states from PHP-FPM's list.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/status.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAXPOOLS	3
#define FUZZ_MAXPROCS	6
#define FUZZ_NBOUNDS	11

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fill_pool(struct fuzz_in *, struct status_pool *,
		    struct status_proc *, unsigned long *, unsigned long *);
static int	prom_name(const char **);
static int	prom_utf8(const char **, const char *);
static void	check_prom(const char *, size_t);
static void	check_out(const struct status_buf *, size_t,
		    enum status_format);

/* PHP-FPM's stage names; NULL: a worker that has not accepted yet. */
#define NSTATES		7
static const char *const states[NSTATES] = {
	"Idle", "Reading headers", "Getting request information", "Running",
	"Ending", "Finishing", NULL
};

/* The supervisor's bounds (cmd/fpm-supervise/stat.c). */
static const double	bounds[FUZZ_NBOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static void
fill_pool(struct fuzz_in *in, struct status_pool *p, struct status_proc *pr,
    unsigned long *dcount, unsigned long *wcount)
{
	size_t	i;

	memset(p, 0, sizeof(*p));
	p->start_time = (time_t)fuzz_u64(in);
	p->start_since = (unsigned long)fuzz_u64(in);
	p->accepted_conn = (unsigned long)fuzz_u64(in);
	p->listen_queue = (int)fuzz_u32(in);
	p->max_listen_queue = (int)fuzz_u32(in);
	p->listen_queue_len = fuzz_u32(in);
	p->idle = (int)(fuzz_u32(in) & 0x3fffffff);
	p->active = (int)(fuzz_u32(in) & 0x3fffffff);
	p->max_active = (int)fuzz_u32(in);
	p->max_children_reached = fuzz_u32(in);
	p->slow_requests = (unsigned long)fuzz_u64(in);
	p->responses_502 = fuzz_u32(in);
	p->responses_503 = fuzz_u32(in);
	p->responses_504 = fuzz_u32(in);
	for (i = 0; i <= FUZZ_NBOUNDS; i++) {
		dcount[i] = fuzz_u32(in);
		wcount[i] = fuzz_u32(in);
	}
	p->request_duration.le = bounds;
	p->request_duration.count = fuzz_u8(in) & 1 ? NULL : dcount;
	p->request_duration.n = fuzz_u8(in) % (FUZZ_NBOUNDS + 1);
	p->request_duration.sum = (double)fuzz_u64(in) / 1e6;
	p->queue_wait.le = bounds;
	p->queue_wait.count = wcount;
	p->queue_wait.n = FUZZ_NBOUNDS;
	p->queue_wait.sum = fuzz_u32(in) / 1e3;
	p->nprocs = fuzz_u8(in) % (FUZZ_MAXPROCS + 1);
	p->procs = pr;
	for (i = 0; i < p->nprocs; i++) {
		memset(&pr[i], 0, sizeof(pr[i]));
		pr[i].pid = (pid_t)fuzz_u32(in);
		pr[i].start_time = (time_t)fuzz_u64(in);
		pr[i].start_since = (unsigned long)fuzz_u64(in);
		pr[i].requests = (unsigned long)fuzz_u64(in);
		pr[i].request_duration_us = fuzz_u64(in);
		pr[i].content_length = fuzz_u64(in);
		pr[i].last_cpu = fuzz_u32(in) / 100.;
		pr[i].last_memory = fuzz_u64(in);
	}
	p->pool = fuzz_str(in);
	p->pm = fuzz_str(in);
	for (i = 0; i < p->nprocs; i++) {
		pr[i].state = states[fuzz_u8(in) % NSTATES];
		pr[i].method = fuzz_str(in);
		pr[i].uri = fuzz_str(in);
		pr[i].query = fuzz_str(in);
		pr[i].user = fuzz_str(in);
		pr[i].script = fuzz_str(in);
	}
}

/* A metric or label name at *s: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int
prom_name(const char **s)
{
	const char	*p = *s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    *p == '_' || *p == ':'))
		return (0);
	for (p++; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'; p++)
		;
	*s = p;
	return (1);
}

/* One UTF-8 character (>= 0x80) at *s, before end: shortest form. */
static int
prom_utf8(const char **s, const char *end)
{
	const unsigned char	*p = (const unsigned char *)*s;
	unsigned int		 cp, min;
	int			 n, i;

	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 1;
		cp = *p & 0x1f;
		min = 0x80;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 2;
		cp = *p & 0x0f;
		min = 0x800;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 3;
		cp = *p & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (end - *s < n + 1)
		return (0);
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	*s += n + 1;
	return (1);
}

/*
 * The Prometheus text format 0.0.4 as promtool reads it: HELP and TYPE
 * comments, and samples NAME{LABEL="VALUE",...} VALUE, label values with
 * \\ \" \n escapes only and valid UTF-8.
 */
static void
check_prom(const char *s, size_t len)
{
	const char	*end = s + len, *nl, *p;

	if (len > 0 && s[len - 1] != '\n')
		abort();
	for (p = s; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			abort();
		if (strncmp(p, "# HELP ", 7) == 0 ||
		    strncmp(p, "# TYPE ", 7) == 0) {
			p += 7;
			if (!prom_name(&p) || *p != ' ')
				abort();
			continue;
		}
		if (!prom_name(&p))
			abort();
		if (*p == '{') {
			for (p++; *p != '}'; ) {
				if (!prom_name(&p) || *p++ != '=' ||
				    *p++ != '"')
					abort();
				while (*p != '"') {
					if (p >= nl)
						abort();
					if (*p == '\\') {
						if (p[1] != '\\' &&
						    p[1] != '"' && p[1] != 'n')
							abort();
						p += 2;
					} else if ((unsigned char)*p >= 0x80) {
						if (!prom_utf8(&p, nl))
							abort();
					} else
						p++;
				}
				p++;
				if (*p == ',')
					p++;
				else if (*p != '}')
					abort();
			}
			p++;
		}
		if (*p++ != ' ' || p >= nl || memchr(p, ' ', (size_t)(nl - p)))
			abort();
	}
}

/* What the buffer holds after a render that started at len. */
static void
check_out(const struct status_buf *b, size_t len, enum status_format fmt)
{
	if (b->data == NULL || b->len < len || b->data[b->len] != '\0')
		abort();
	if (fmt == STATUS_JSON && !fuzz_json_valid(b->data + len,
	    b->len - len))
		fuzz_fail("invalid JSON", b->data + len, b->len - len);
	if (fmt == STATUS_PROMETHEUS)
		check_prom(b->data + len, b->len - len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_in		 in;
	struct status_pool	 pools[FUZZ_MAXPOOLS];
	struct status_proc	 procs[FUZZ_MAXPOOLS][FUZZ_MAXPROCS];
	unsigned long		 dcount[FUZZ_MAXPOOLS][FUZZ_NBOUNDS + 1];
	unsigned long		 wcount[FUZZ_MAXPOOLS][FUZZ_NBOUNDS + 1];
	struct status_buf	 b = { NULL, 0, 0 }, m = { NULL, 0, 0 };
	enum status_format	 fmt, fmt2;
	const char		*query;
	size_t			 i, npools, start;
	int			 full, full2, rc;

	fuzz_in_init(&in, data, len);
	npools = 1 + fuzz_u8(&in) % FUZZ_MAXPOOLS;
	query = fuzz_str(&in);
	for (i = 0; i < npools; i++)
		fill_pool(&in, &pools[i], procs[i], dcount[i], wcount[i]);

	fmt = (enum status_format)-1;
	full = -1;
	status_parse_query(query, &fmt, &full);
	status_parse_query(query, &fmt2, &full2);
	if (fmt < STATUS_TEXT || fmt > STATUS_PROMETHEUS ||
	    (full != 0 && full != 1) || fmt != fmt2 || full != full2)
		abort();

	/* headers, then the page, in one buffer as the supervisor does */
	if (status_headers(&b, fmt) == -1 || b.len < 4 ||
	    strcmp(b.data + b.len - 4, "\r\n\r\n") != 0 ||
	    strstr(b.data, status_content_type(fmt)) == NULL)
		abort();
	start = b.len;
	if (status_render(&b, &pools[0], fmt, full) == -1)
		abort();
	check_out(&b, start, fmt);

	/* several pools: a JSON array, one exposition, pages in a row */
	rc = status_render_multi(&m, pools, npools, fmt, full);
	if (fmt != STATUS_TEXT && fmt != STATUS_JSON &&
	    fmt != STATUS_PROMETHEUS) {
		if (rc != -1 || m.len != 0)
			abort();
	} else {
		if (rc == -1)
			abort();
		check_out(&m, 0, fmt);
		/* one pool in a row of one: the same page, but for [ ] */
		if (npools == 1 && fmt != STATUS_JSON &&
		    (m.len != b.len - start ||
		    memcmp(m.data, b.data + start, m.len) != 0))
			abort();
	}
	status_buf_free(&b);
	status_buf_free(&m);
	fuzz_in_free(&in);
	return (0);
}
