/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for libcommon/status: every PHP-FPM 8.2 fixture byte for byte,
 * query switches, escaping, empty fields, buffer growth, and fpm's own
 * Prometheus exposition (promtool runs in tests/status-prometheus.bats).
 */

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/status.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define FIXDIR		"tests/unit/status/"
/* 25/Nov/2026:08:33:03 UTC */
#define START		((time_t)1795595583)
#define SCRIPT		"/work/steering/bench/www/sleep.php"


static char	*slurp(const char *, size_t *);
static void	diff(const char *, size_t, const char *, size_t);
static void	pool_init(struct status_pool *, unsigned long);
static void	test_fixtures(void);
static void	test_query(void);
static int	render1(struct status_buf *, enum status_format,
		    const char *, const char *, const char *);
static void	test_escape(void);
static void	test_escape_client(void);
static void	test_utf8(void);
static void	test_empty(void);
static void	test_growth(void);
static void	test_multi(void);
static void	test_errors(void);
static void	test_tz(void);
static size_t	count(const char *, const char *);
static void	test_prom_query(void);
static void	test_prom_render(void);
static void	test_prom_multi(void);
static void	test_prom_locale(void);
static int	has(const struct status_buf *, const char *);


/* Read a whole file; NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return (NULL);
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return (buf);
}

/* Show where two outputs part, as TAP comments. */
static void
diff(const char *got, size_t glen, const char *want, size_t wlen)
{
	size_t	i;

	for (i = 0; i < glen && i < wlen && got[i] == want[i]; i++)
		;
	printf("# differ at byte %zu (got %zu bytes, want %zu)\n", i, glen,
	    wlen);
	printf("# got:  %.60s\n# want: %.60s\n", got + i, want + i);
}

/* The pool as all fixtures show it, but for the accepted count. */
static void
pool_init(struct status_pool *p, unsigned long accepted)
{
	memset(p, 0, sizeof(*p));
	p->pool = "www";
	p->pm = "dynamic";
	p->start_time = START;
	p->start_since = 3;
	p->accepted_conn = accepted;
	p->listen_queue = 0;
	p->max_listen_queue = 0;
	p->listen_queue_len = 0;
	p->idle = 0;
	p->active = 2;
	p->max_active = 2;
	p->max_children_reached = 0;
	p->slow_requests = 1;
}

static void
test_fixtures(void)
{
	/* Values read off each fixture: it counts its own request. */
	static const struct {
		const char		*file;
		enum status_format	 fmt;
		int			 full;
		unsigned long		 accepted;
		unsigned long long	 d1;	/* sleep.php duration */
		unsigned long		 r2;	/* status worker */
		unsigned long long	 d2;
		const char		*query;
	} t[] = {
		{ "status.txt", STATUS_TEXT, 0, 2, 0, 0, 0, NULL },
		{ "status-full.txt", STATUS_TEXT, 1, 3, 1503942, 2, 102,
		    "full" },
		{ "status.json", STATUS_JSON, 0, 4, 0, 0, 0, "json" },
		{ "status-full.json", STATUS_JSON, 1, 5, 1506911, 4, 50,
		    "json&full" },
		{ "status.xml", STATUS_XML, 0, 6, 0, 0, 0, "xml" },
		{ "status-full.xml", STATUS_XML, 1, 7, 1509800, 6, 50,
		    "xml&full" },
		{ "status.openmetrics", STATUS_OPENMETRICS, 0, 8, 0, 0, 0,
		    "openmetrics" },
		{ "status-full.openmetrics", STATUS_OPENMETRICS, 1, 9, 0, 0, 0,
		    "openmetrics&full" },
		{ "status.html", STATUS_HTML, 0, 10, 0, 0, 0, "html" },
		{ "status-full.html", STATUS_HTML, 1, 11, 1514973, 10, 59,
		    "html&full" },
	};
	struct status_proc	 procs[2];
	struct status_pool	 p;
	struct status_buf	 b;
	enum status_format	 fmt;
	char			 path[256];
	char			*want;
	size_t			 i, wlen;
	int			 full, ok;

	for (i = 0; i < NELEM(t); i++) {
		(void)snprintf(path, sizeof(path), FIXDIR "%s", t[i].file);
		if ((want = slurp(path, &wlen)) == NULL) {
			check(0, "fixture %s: %s", path, strerror(errno));
			continue;
		}
		pool_init(&p, t[i].accepted);
		memset(procs, 0, sizeof(procs));
		procs[0].pid = 18189;
		procs[0].state = "Running";
		procs[0].start_time = START;
		procs[0].start_since = 3;
		procs[0].requests = 1;
		procs[0].request_duration_us = t[i].d1;
		procs[0].method = "GET";
		procs[0].uri = "/sleep.php";
		procs[0].query = "";
		procs[0].user = "";
		procs[0].script = SCRIPT;
		procs[1].pid = 18190;
		procs[1].state = "Running";
		procs[1].start_time = START;
		procs[1].start_since = 3;
		procs[1].requests = t[i].r2;
		procs[1].request_duration_us = t[i].d2;
		procs[1].method = "GET";
		procs[1].uri = "/status";
		procs[1].query = t[i].query;
		procs[1].user = NULL;
		procs[1].script = NULL;
		p.procs = procs;
		p.nprocs = 2;

		/* the page's own query picks its format */
		status_parse_query(t[i].query, &fmt, &full);
		check(fmt == t[i].fmt && full == t[i].full,
		    "%s: query \"%s\" selects it", t[i].file,
		    t[i].query != NULL ? t[i].query : "");

		memset(&b, 0, sizeof(b));
		ok = status_headers(&b, t[i].fmt) == 0 &&
		    status_render(&b, &p, t[i].fmt, t[i].full) == 0;
		ok = ok && b.len == wlen && memcmp(b.data, want, wlen) == 0;
		if (!ok && b.data != NULL)
			diff(b.data, b.len, want, wlen);
		check(ok, "%s: headers and body byte for byte", t[i].file);
		status_buf_free(&b);
		free(want);
	}
}

static void
test_query(void)
{
	static const struct {
		const char		*q;
		enum status_format	 fmt;
		int			 full;
	} t[] = {
		{ "", STATUS_TEXT, 0 },
		{ "json", STATUS_JSON, 0 },
		{ "j", STATUS_JSON, 0 },
		{ "js", STATUS_JSON, 0 },
		{ "json&x", STATUS_XML, 0 },	/* xml is tested first */
		{ "full&html", STATUS_HTML, 1 },
		{ "x", STATUS_XML, 0 },
		{ "xm", STATUS_XML, 0 },
		{ "h", STATUS_HTML, 0 },
		{ "htm", STATUS_HTML, 0 },
		{ "o", STATUS_OPENMETRICS, 0 },
		{ "openmetrics", STATUS_OPENMETRICS, 0 },
		{ "openmetrics&json", STATUS_JSON, 0 },
		{ "xml&openmetrics", STATUS_XML, 0 },
		{ "json&xml&html&openmetrics", STATUS_HTML, 0 },
		{ "full", STATUS_TEXT, 1 },
		{ "f", STATUS_TEXT, 1 },
		{ "fulll", STATUS_TEXT, 0 },
		{ "jsonx", STATUS_TEXT, 0 },
		{ "JSON", STATUS_TEXT, 0 },
		{ "json=1&full=yes", STATUS_JSON, 1 },
		{ "a=json", STATUS_TEXT, 0 },
		{ "=json", STATUS_TEXT, 0 },
		{ "&&json&&", STATUS_JSON, 0 },
		{ "%6Aso%6e", STATUS_JSON, 0 },
		{ "+json", STATUS_JSON, 0 },
		{ "%20%20json", STATUS_JSON, 0 },
		{ "js%00garbage", STATUS_JSON, 0 },
		{ "json[]=1", STATUS_JSON, 0 },
		{ "json[a]=1&full%5b%5d", STATUS_JSON, 1 },
		{ "json[", STATUS_TEXT, 0 },
		{ "[json]", STATUS_TEXT, 0 },
		{ "j.s", STATUS_TEXT, 0 },
		{ "j+s", STATUS_TEXT, 0 },
	};
	enum status_format	 fmt;
	char			*q;
	size_t			 i;
	int			 full;

	for (i = 0; i < NELEM(t); i++) {
		fmt = (enum status_format)-1;
		full = -1;
		status_parse_query(t[i].q, &fmt, &full);
		check(fmt == t[i].fmt && full == t[i].full,
		    "query \"%s\" gives format %d full %d (got %d %d)", t[i].q,
		    t[i].fmt, t[i].full, fmt, full);
	}
	status_parse_query(NULL, &fmt, &full);
	check(fmt == STATUS_TEXT && full == 0, "NULL query is text, short");

	/* PHP registers only max_input_vars (1000) variables */
	if ((q = malloc(1000 * 2 + sizeof("json"))) == NULL)
		abort();
	for (i = 0; i < 1000; i++)
		memcpy(q + 2 * i, "a&", 2);
	memcpy(q + 2000, "json", sizeof("json"));
	status_parse_query(q, &fmt, &full);
	check(fmt == STATUS_TEXT, "json as variable 1001 is not seen");
	q[1998] = '\0';
	strcat(q, "&json");
	status_parse_query(q, &fmt, &full);
	check(fmt == STATUS_JSON, "json as variable 1000 is seen");
	free(q);
}

/* Render one worker with the given strings in fmt, full. */
static int
render1(struct status_buf *b, enum status_format fmt, const char *uri,
    const char *query, const char *script)
{
	struct status_proc	pr;
	struct status_pool	p;

	pool_init(&p, 1);
	memset(&pr, 0, sizeof(pr));
	pr.pid = 42;
	pr.state = "Idle";
	pr.start_time = START;
	pr.method = "GET";
	pr.uri = uri;
	pr.query = query;
	pr.script = script;
	p.procs = &pr;
	p.nprocs = 1;
	memset(b, 0, sizeof(*b));
	return (status_render(b, &p, fmt, 1));
}

static void
test_escape(void)
{
	struct status_buf	b;

	/* research 2.2: observed on PHP-FPM 8.2.36 */
	render1(&b, STATUS_JSON, "/sl\"ee<p.php", "s=2&q=\"a<",
	    "/tmp/fpmt/www/sl\"ee<p.php");
	check(strstr(b.data,
	    "\"request uri\":\"\\/sl\\\"ee<p.php?s=2&q=\\\"a<\",") != NULL,
	    "json: uri and query escaped, / as \\/");
	check(strstr(b.data,
	    "\"script\":\"\\/tmp\\/fpmt\\/www\\/sl\\\"ee<p.php\",") != NULL,
	    "json: script escaped");
	status_buf_free(&b);

	render1(&b, STATUS_XML, "/sl\"ee<p.php", "s=2&q=\"a<",
	    "/tmp/fpmt/www/sl\"ee<p.php");
	check(strstr(b.data, "<request-uri>/sl&quot;ee&lt;p.php?s=2&amp;"
	    "q=&quot;a&lt;</request-uri>") != NULL, "xml: uri and query");
	check(strstr(b.data, "<script>/tmp/fpmt/www/sl&quot;ee&lt;p.php"
	    "</script>") != NULL, "xml: script");
	status_buf_free(&b);

	render1(&b, STATUS_HTML, "/sl\"ee<p.php", "s=2&q=\"a<",
	    "/tmp/fpmt/www/sl\"ee<p.php");
	check(strstr(b.data, "<td>/sl&quot;ee&lt;p.php?s=2&amp;"
	    "q=&quot;a&lt;</td>") != NULL, "html: uri and query");
	check(strstr(b.data, "<td>/tmp/fpmt/www/sl&quot;ee&lt;p.php</td>") !=
	    NULL, "html: script");
	status_buf_free(&b);

	render1(&b, STATUS_TEXT, "/sl\"ee<p.php", "s=2&q=\"a<",
	    "/tmp/fpmt/www/sl\"ee<p.php");
	check(strstr(b.data, "request URI:          /sl\"ee<p.php?s=2&q=\"a<\n")
	    != NULL && strstr(b.data,
	    "script:               /tmp/fpmt/www/sl\"ee<p.php\n") != NULL,
	    "text: never escaped");
	status_buf_free(&b);

	render1(&b, STATUS_HTML, "/a'b>c", "x=&amp;", NULL);
	check(strstr(b.data, "<td>/a'b&gt;c?x=&amp;amp;</td>") != NULL,
	    "html: ' kept, > escaped, & double-encoded");
	status_buf_free(&b);

	render1(&b, STATUS_JSON, "/a\\b", "t=\t\n\r\b\f\x01\x1f", NULL);
	check(strstr(b.data, "\"request uri\":\"\\/a\\\\b?t=\\t\\n\\r\\b\\f"
	    "\\u0001\\u001f\"") != NULL, "json: backslash and controls");
	status_buf_free(&b);
}

/*
 * A client's REQUEST_METHOD and REMOTE_USER, and a pool name with a
 * quote, escaped in the structured formats (PHP-FPM prints them raw and
 * breaks the JSON; tests/fuzz/corpus/status/hostile-json), still raw in
 * text.
 */
static void
test_escape_client(void)
{
	struct status_proc	pr;
	struct status_pool	p;
	struct status_buf	b;
	const char		*text;

	pool_init(&p, 1);
	p.pool = "w\"w";
	memset(&pr, 0, sizeof(pr));
	pr.pid = 42;
	pr.state = "Running";
	pr.method = "GET\"<x>";
	pr.user = "\"><script>/";
	p.procs = &pr;
	p.nprocs = 1;

	memset(&b, 0, sizeof(b));
	status_render(&b, &p, STATUS_JSON, 1);
	check(strstr(b.data, "{\"pool\":\"w\\\"w\",") != NULL &&
	    strstr(b.data, "\"request method\":\"GET\\\"<x>\",") != NULL &&
	    strstr(b.data, "\"user\":\"\\\"><script>\\/\",") != NULL,
	    "json: pool, method and user escaped");
	status_buf_free(&b);

	status_render(&b, &p, STATUS_XML, 1);
	check(strstr(b.data, "<pool>w&quot;w</pool>") != NULL &&
	    strstr(b.data, "<request-method>GET&quot;&lt;x&gt;"
	    "</request-method>") != NULL &&
	    strstr(b.data, "<user>&quot;&gt;&lt;script&gt;/</user>") != NULL,
	    "xml: pool, method and user escaped");
	status_buf_free(&b);

	status_render(&b, &p, STATUS_HTML, 1);
	check(strstr(b.data, "<td>w&quot;w</td>") != NULL &&
	    strstr(b.data, "<td>GET&quot;&lt;x&gt;</td>") != NULL &&
	    strstr(b.data, "<td>&quot;&gt;&lt;script&gt;/</td>") != NULL &&
	    strstr(b.data, "<script>") == NULL,
	    "html: pool, method and user escaped");
	status_buf_free(&b);

	status_render(&b, &p, STATUS_TEXT, 1);
	text = b.data;
	check(strstr(text, "pool:                 w\"w\n") != NULL &&
	    strstr(text, "request method:       GET\"<x>\n") != NULL &&
	    strstr(text, "user:                 \"><script>/\n") != NULL,
	    "text: pool, method and user raw, as PHP-FPM");
	status_buf_free(&b);
}

static void
test_utf8(void)
{
	struct status_buf	b;

	/* é, U+20AC, U+1F600, then broken sequences dropped */
	render1(&b, STATUS_JSON, "/caf\xc3\xa9", "e=\xe2\x82\xac&s=\xf0\x9f"
	    "\x98\x80", "/x\xff" "y\xc3" "z\xe2\x82" "w\xed\xa0\x80" "v");
	check(strstr(b.data, "\"request uri\":\"\\/caf\\u00e9?e=\\u20ac&"
	    "s=\\ud83d\\ude00\"") != NULL, "json: \\u escapes, pairs");
	check(strstr(b.data, "\"script\":\"\\/xyzwv\"") != NULL,
	    "json: invalid UTF-8 dropped (%s)", strstr(b.data, "\"script"));
	status_buf_free(&b);

	render1(&b, STATUS_XML, "/caf\xc3\xa9", NULL, "/x\xffy\xc0\xafz");
	check(strstr(b.data, "<request-uri>/caf\xc3\xa9</request-uri>") !=
	    NULL, "xml: valid UTF-8 passes through");
	check(strstr(b.data, "<script>/xyz</script>") != NULL,
	    "xml: invalid UTF-8 dropped");
	status_buf_free(&b);
}

static void
test_empty(void)
{
	struct status_proc	pr;
	struct status_pool	p;
	struct status_buf	b;

	pool_init(&p, 1);
	memset(&pr, 0, sizeof(pr));
	pr.pid = 7;
	pr.state = "Idle";
	pr.start_time = START;
	pr.method = "";
	pr.uri = NULL;
	pr.query = NULL;
	pr.user = NULL;
	pr.script = "";
	pr.last_cpu = 12.345;
	pr.last_memory = 2097152;
	p.procs = &pr;
	p.nprocs = 1;

	memset(&b, 0, sizeof(b));
	status_render(&b, &p, STATUS_TEXT, 1);
	check(strstr(b.data, "request method:       -\n"
	    "request URI:          -\n"
	    "content length:       0\n"
	    "user:                 -\n"
	    "script:               -\n"
	    "last request cpu:     12.35\n"
	    "last request memory:  2097152\n") != NULL,
	    "text: empty method, URI, user, script print -");
	status_buf_free(&b);

	status_render(&b, &p, STATUS_JSON, 1);
	check(strstr(b.data, "\"request method\":\"-\",\"request uri\":\"-\","
	    "\"content length\":0,\"user\":\"-\",\"script\":\"-\"") != NULL,
	    "json: empty fields print -");
	status_buf_free(&b);

	pr.uri = "";
	pr.query = "a=1";
	pr.state = NULL;
	status_render(&b, &p, STATUS_XML, 1);
	check(strstr(b.data, "<request-uri>-?a=1</request-uri>") != NULL,
	    "xml: empty URI with a query prints -?query");
	check(strstr(b.data, "<state>(null)</state>") != NULL,
	    "xml: NULL state prints (null), like PHP's spprintf");
	status_buf_free(&b);

	p.nprocs = 0;
	status_render(&b, &p, STATUS_JSON, 1);
	check(b.len > 17 && strcmp(b.data + b.len - 17,
	    ", \"processes\":[]}") == 0, "json: no workers, empty array");
	status_buf_free(&b);
	status_render(&b, &p, STATUS_TEXT, 1);
	check(b.len > 0 && strstr(b.data, "****") == NULL &&
	    b.data[b.len - 1] == '\n', "text: no workers, short part only");
	status_buf_free(&b);
}

static size_t
count(const char *s, const char *needle)
{
	size_t	n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return (n);
}

static void
test_growth(void)
{
	static struct status_proc	procs[1000];
	struct status_pool		p;
	struct status_buf		b;
	enum status_format		fmt;
	size_t				i, len;
	int				ok = 1;

	pool_init(&p, 1000);
	for (i = 0; i < NELEM(procs); i++) {
		procs[i].pid = (pid_t)(1000 + i);
		procs[i].state = (i % 2) ? "Idle" : "Running";
		procs[i].start_time = START;
		procs[i].method = "POST";
		procs[i].uri = "/index.php";
		procs[i].query = "page=2&sort=desc";
		procs[i].user = "alice";
		procs[i].script = "/srv/www/index.php";
	}
	p.procs = procs;
	p.nprocs = NELEM(procs);
	for (fmt = STATUS_TEXT; fmt <= STATUS_HTML; fmt++) {
		memset(&b, 0, sizeof(b));
		if (status_headers(&b, fmt) == -1 ||
		    status_render(&b, &p, fmt, 1) == -1)
			ok = 0;
		len = b.len;
		ok = ok && strlen(b.data) == len && b.size > len;
		if (fmt == STATUS_TEXT)
			ok = ok && count(b.data, "pid:") == 1000;
		if (fmt == STATUS_JSON)
			ok = ok && count(b.data, "\"pid\":") == 1000 &&
			    count(b.data, "},{") == 999 &&
			    strcmp(b.data + len - 2, "]}") == 0;
		if (fmt == STATUS_XML)
			ok = ok && count(b.data, "<process>") == 1000 &&
			    strstr(b.data, "<pid>1999</pid>") != NULL;
		if (fmt == STATUS_HTML)
			ok = ok && count(b.data, "<tr><td>") == 1000;
		check(ok, "1000 workers, format %d: %zu bytes", fmt, len);
		status_buf_free(&b);
	}

	/* appending keeps what was there */
	memset(&b, 0, sizeof(b));
	status_render(&b, &p, STATUS_TEXT, 0);
	len = b.len;
	status_render(&b, &p, STATUS_JSON, 1);
	check(b.len > len && strncmp(b.data, "pool:", 5) == 0 &&
	    b.data[len] == '{', "render appends after earlier content");
	status_buf_free(&b);
	check(b.data == NULL && b.len == 0 && b.size == 0,
	    "status_buf_free zeroes the buffer");
}

static void
test_multi(void)
{
	struct status_pool	p[2];
	struct status_buf	a, b;
	int			ok;

	pool_init(&p[0], 1);
	pool_init(&p[1], 2);
	p[1].pool = "api";
	p[1].pm = "static";

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	status_render(&a, &p[0], STATUS_TEXT, 0);
	ok = status_render_multi(&b, p, 2, STATUS_TEXT, 0) == 0;
	/* the first page, a blank line, then the second page */
	ok = ok && b.len > a.len && memcmp(a.data, b.data, a.len) == 0 &&
	    b.data[a.len] == '\n';
	if (ok) {
		size_t	first = a.len + 1;

		status_buf_free(&a);
		memset(&a, 0, sizeof(a));
		status_render(&a, &p[1], STATUS_TEXT, 0);
		ok = b.len - first == a.len &&
		    memcmp(b.data + first, a.data, a.len) == 0;
	}
	check(ok, "multi text: the pages a blank line apart");
	status_buf_free(&a);
	status_buf_free(&b);

	ok = status_render_multi(&b, p, 2, STATUS_JSON, 0) == 0;
	check(ok && b.data[0] == '[' && strstr(b.data, "\"slow requests\":1},"
	    "{\"pool\":\"api\",\"process manager\":\"static\"") != NULL &&
	    strcmp(b.data + b.len - 2, "}]") == 0,
	    "multi json: an array of pool objects");
	status_buf_free(&b);

	ok = status_render_multi(&b, p, 0, STATUS_JSON, 1) == 0;
	check(ok && b.len == 2 && strcmp(b.data, "[]") == 0,
	    "multi json: no pools, []");
	status_buf_free(&b);

	errno = 0;
	check(status_render_multi(&b, p, 2, STATUS_XML, 0) == -1 &&
	    errno == EINVAL && b.len == 0, "multi xml: EINVAL");
}

static void
test_errors(void)
{
	struct status_pool	p;
	struct status_buf	b;

	pool_init(&p, 1);
	memset(&b, 0, sizeof(b));
	errno = 0;
	check(status_render(&b, &p, (enum status_format)42, 0) == -1 &&
	    errno == EINVAL && b.len == 0, "bad format: EINVAL");
	check(strcmp(status_content_type(STATUS_OPENMETRICS),
	    "application/openmetrics-text; version=1.0.0; charset=utf-8") ==
	    0 && strcmp(status_content_type(STATUS_TEXT),
	    "text/plain;charset=UTF-8") == 0, "content types");
	status_buf_free(&b);
}

/* %z and localtime with zones east and west of UTC (POSIX TZ, no tzdata) */
static void
test_tz(void)
{
	static const struct {
		const char	*tz, *want;
	} t[] = {
		{ "IST-5:30", "time:           25/Nov/2026:14:03:03 +0530\n" },
		{ "EST5", "time:           25/Nov/2026:03:33:03 -0500\n" },
	};
	struct status_pool	p;
	struct status_buf	b;
	size_t			i;

	pool_init(&p, 1);
	for (i = 0; i < NELEM(t); i++) {
		setenv("TZ", t[i].tz, 1);
		tzset();
		memset(&b, 0, sizeof(b));
		status_render(&b, &p, STATUS_TEXT, 0);
		check(b.data != NULL && strstr(b.data, t[i].want) != NULL,
		    "TZ=%s: local time and offset", t[i].tz);
		status_buf_free(&b);
		status_render(&b, &p, STATUS_XML, 0);
		check(b.data != NULL && strstr(b.data,
		    "<start-time>1795595583</start-time>") != NULL,
		    "TZ=%s: xml keeps the epoch", t[i].tz);
		status_buf_free(&b);
	}
	setenv("TZ", "UTC", 1);
	tzset();
}

/* b holds needle, which names the test when it does not */
static int
has(const struct status_buf *b, const char *needle)
{
	if (b->data != NULL && strstr(b->data, needle) != NULL)
		return (1);
	printf("# missing: %s", needle);
	return (0);
}

static void
test_prom_query(void)
{
	static const struct {
		const char		*q;
		enum status_format	 fmt;
		int			 full;
	} t[] = {
		{ "prometheus", STATUS_PROMETHEUS, 0 },
		{ "p", STATUS_PROMETHEUS, 0 },
		{ "prom&full", STATUS_PROMETHEUS, 1 },
		{ "o", STATUS_OPENMETRICS, 0 },
		{ "prometheus&openmetrics", STATUS_OPENMETRICS, 0 },
		{ "prometheus&json", STATUS_JSON, 0 },
		{ "x&p", STATUS_XML, 0 },
		{ "html&prometheus", STATUS_HTML, 0 },
		{ "prometheusx", STATUS_TEXT, 0 },
		{ "pr%6fmetheus", STATUS_PROMETHEUS, 0 },
	};
	enum status_format	 fmt;
	size_t			 i;
	int			 full;

	for (i = 0; i < NELEM(t); i++) {
		status_parse_query(t[i].q, &fmt, &full);
		check(fmt == t[i].fmt && full == t[i].full,
		    "prometheus: query \"%s\" gives %d %d (got %d %d)", t[i].q,
		    t[i].fmt, t[i].full, fmt, full);
	}
}

static void
test_prom_render(void)
{
	static const double		le[] = { 0.005, 0.1, 2.5 };
	static const unsigned long	cnt[] = { 3, 10, 0, 2 };
	struct status_proc		pr[2];
	struct status_pool		p;
	struct status_buf		b;
	int				ok;

	check(strcmp(status_content_type(STATUS_PROMETHEUS),
	    "text/plain; version=0.0.4; charset=utf-8") == 0,
	    "prometheus: content type");
	memset(&b, 0, sizeof(b));
	ok = status_headers(&b, STATUS_PROMETHEUS) == 0;
	check(ok && has(&b, "\r\nContent-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n\r\n"), "prometheus: headers");
	status_buf_free(&b);

	/* the PHP-FPM fields only: extensions zeroed, no workers */
	pool_init(&p, 7);
	ok = status_render(&b, &p, STATUS_PROMETHEUS, 0) == 0;
	check(ok && strncmp(b.data, "# HELP fpm_pool_info ", 21) == 0 &&
	    has(&b, "\n# TYPE fpm_pool_info gauge\n"
	    "fpm_pool_info{pool=\"www\",pm=\"dynamic\"} 1\n") &&
	    has(&b, "fpm_start_time_seconds{pool=\"www\"} 1795595583\n") &&
	    has(&b, "# TYPE fpm_accepted_connections_total counter\n"
	    "fpm_accepted_connections_total{pool=\"www\"} 7\n") &&
	    has(&b, "fpm_processes{pool=\"www\",state=\"idle\"} 0\n"
	    "fpm_processes{pool=\"www\",state=\"active\"} 2\n") &&
	    has(&b, "fpm_slow_requests_total{pool=\"www\"} 1\n") &&
	    has(&b, "fpm_responses_total{pool=\"www\",code=\"503\"} 0\n") &&
	    b.data[b.len - 1] == '\n', "prometheus: pool metrics");
	check(has(&b, "# TYPE fpm_queue_wait_seconds histogram\n"
	    "fpm_queue_wait_seconds_bucket{pool=\"www\",le=\"+Inf\"} 0\n"
	    "fpm_queue_wait_seconds_sum{pool=\"www\"} 0\n"
	    "fpm_queue_wait_seconds_count{pool=\"www\"} 0\n"),
	    "prometheus: a zeroed histogram is a bare +Inf bucket");
	check(count(b.data, "# HELP ") == 13 &&
	    count(b.data, "# TYPE ") == 13 && strstr(b.data, "EOF") ==
	    NULL && strstr(b.data, "fpm_worker_") == NULL,
	    "prometheus: 13 families with HELP and TYPE, no workers");
	status_buf_free(&b);

	/* full with no workers adds nothing */
	ok = status_render(&b, &p, STATUS_PROMETHEUS, 1) == 0;
	check(ok && count(b.data, "# TYPE ") == 13,
	    "prometheus: full without workers, no worker families");
	status_buf_free(&b);

	/* histograms: per-bucket counts summed up, odd values */
	p.request_duration.le = le;
	p.request_duration.count = cnt;
	p.request_duration.n = NELEM(le);
	p.request_duration.sum = 0.1 + 0.2;
	p.queue_wait.le = le;
	p.queue_wait.n = NELEM(le);
	p.queue_wait.sum = NAN;
	p.responses_502 = 4;
	p.responses_503 = 5;
	p.responses_504 = 6;
	ok = status_render(&b, &p, STATUS_PROMETHEUS, 0) == 0;
	check(ok && has(&b, "# HELP fpm_request_duration_seconds ") &&
	    has(&b, "\n# TYPE fpm_request_duration_seconds histogram\n"
	    "fpm_request_duration_seconds_bucket{pool=\"www\",le=\"0.005\"} 3\n"
	    "fpm_request_duration_seconds_bucket{pool=\"www\",le=\"0.1\"} 13\n"
	    "fpm_request_duration_seconds_bucket{pool=\"www\",le=\"2.5\"} 13\n"
	    "fpm_request_duration_seconds_bucket{pool=\"www\",le=\"+Inf\"} 15\n"
	    "fpm_request_duration_seconds_sum{pool=\"www\"} "
	    "0.30000000000000004\n"
	    "fpm_request_duration_seconds_count{pool=\"www\"} 15\n"),
	    "prometheus: histogram buckets cumulative, sum exact");
	check(has(&b, "fpm_queue_wait_seconds_bucket{pool=\"www\",le=\"2.5\"} "
	    "0\nfpm_queue_wait_seconds_bucket{pool=\"www\",le=\"+Inf\"} 0\n"
	    "fpm_queue_wait_seconds_sum{pool=\"www\"} NaN\n"),
	    "prometheus: NULL counts are zero, NaN spelt NaN");
	check(has(&b, "fpm_responses_total{pool=\"www\",code=\"502\"} 4\n"
	    "fpm_responses_total{pool=\"www\",code=\"503\"} 5\n"
	    "fpm_responses_total{pool=\"www\",code=\"504\"} 6\n"),
	    "prometheus: responses by code");
	status_buf_free(&b);

	/* workers, and label escaping */
	memset(pr, 0, sizeof(pr));
	pr[0].pid = 42;
	pr[0].state = "Reading headers";
	pr[0].start_time = START;
	pr[0].requests = 9;
	pr[0].request_duration_us = 1503942;
	pr[0].content_length = 100;
	pr[1].pid = 43;
	pr[1].state = NULL;
	pr[1].last_cpu = 12.5;
	pr[1].last_memory = 2097152;
	p.procs = pr;
	p.nprocs = 2;
	p.pool = "a\"b\\c\nd\xff\xc3\xa9";
	p.pm = "x\\";
	ok = status_render(&b, &p, STATUS_PROMETHEUS, 0) == 0;
	check(ok && strstr(b.data, "fpm_worker_") == NULL,
	    "prometheus: workers only with full");
	status_buf_free(&b);
	ok = status_render(&b, &p, STATUS_PROMETHEUS, 1) == 0;
	check(ok && has(&b, "fpm_pool_info{pool=\"a\\\"b\\\\c\\nd\xc3\xa9\","
	    "pm=\"x\\\\\"} 1\n"),
	    "prometheus: label values escaped, invalid UTF-8 dropped");
	check(ok && count(b.data, "# TYPE ") == 20 &&
	    count(b.data, "# HELP ") == 20, "prometheus: 20 families full");
	check(has(&b, "# TYPE fpm_worker_state gauge\n"
	    "fpm_worker_state{pool=\"a\\\"b\\\\c\\nd\xc3\xa9\",pid=\"42\","
	    "state=\"Reading headers\"} 1\n"
	    "fpm_worker_state{pool=\"a\\\"b\\\\c\\nd\xc3\xa9\",pid=\"43\","
	    "state=\"(null)\"} 1\n"), "prometheus: worker state");
	check(has(&b, "pid=\"42\"} 1795595583\n") &&
	    has(&b, "# TYPE fpm_worker_requests_total counter\n") &&
	    has(&b, "pid=\"42\"} 9\n") && has(&b, "pid=\"42\"} 1.503942\n") &&
	    has(&b, "pid=\"42\"} 100\n") && has(&b, "pid=\"43\"} 0.125\n") &&
	    has(&b, "pid=\"43\"} 2097152\n"), "prometheus: worker values");
	status_buf_free(&b);
}

static void
test_prom_multi(void)
{
	struct status_proc	pr;
	struct status_pool	p[2];
	struct status_buf	b;
	size_t			len;
	int			ok;

	pool_init(&p[0], 1);
	pool_init(&p[1], 2);
	p[1].pool = "api";
	memset(&pr, 0, sizeof(pr));
	pr.pid = 5;
	pr.state = "Idle";
	p[1].procs = &pr;
	p[1].nprocs = 1;
	memset(&b, 0, sizeof(b));
	ok = status_render_multi(&b, p, 2, STATUS_PROMETHEUS, 1) == 0;
	check(ok && has(&b, "# TYPE fpm_accepted_connections_total counter\n"
	    "fpm_accepted_connections_total{pool=\"www\"} 1\n"
	    "fpm_accepted_connections_total{pool=\"api\"} 2\n# HELP ") &&
	    has(&b, "fpm_queue_wait_seconds_count{pool=\"www\"} 0\n"
	    "fpm_queue_wait_seconds_bucket{pool=\"api\",le=\"+Inf\"} 0\n") &&
	    count(b.data, "# TYPE ") == 20 &&
	    count(b.data, "fpm_worker_state{") == 1,
	    "multi prometheus: families grouped across pools");
	status_buf_free(&b);

	ok = status_render_multi(&b, p, 0, STATUS_PROMETHEUS, 1) == 0;
	check(ok && b.len == 0, "multi prometheus: no pools, nothing");
	status_buf_free(&b);

	/* appends */
	ok = status_render(&b, &p[0], STATUS_TEXT, 0) == 0;
	len = b.len;
	ok = ok && status_render_multi(&b, p, 1, STATUS_PROMETHEUS, 0) == 0;
	check(ok && strncmp(b.data + len, "# HELP ", 7) == 0,
	    "multi prometheus: appends after earlier content");
	status_buf_free(&b);
}

/* Numbers keep their '.' whatever LC_NUMERIC the caller chose. */
static void
test_prom_locale(void)
{
	static const char *const	 locs[] = {
		"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR", "ru_RU.UTF-8"
	};
	static const double		 le[] = { 0.25 };
	struct status_pool		 p;
	struct status_buf		 b;
	size_t				 i;

	for (i = 0; i < NELEM(locs); i++)
		if (setlocale(LC_NUMERIC, locs[i]) != NULL)
			break;
	if (i == NELEM(locs)) {
		check(1, "# SKIP no locale with a decimal comma");
		return;
	}
	pool_init(&p, 1);
	p.request_duration.le = le;
	p.request_duration.n = 1;
	p.request_duration.sum = 1.5;
	memset(&b, 0, sizeof(b));
	status_render(&b, &p, STATUS_PROMETHEUS, 0);
	check(has(&b, "le=\"0.25\"} 0\n") &&
	    has(&b, "_sum{pool=\"www\"} 1.5\n"),
	    "prometheus: '.' under LC_NUMERIC=%s", locs[i]);
	status_buf_free(&b);
	(void)setlocale(LC_NUMERIC, "C");
}

int
main(void)
{
	/* the fixtures were taken with TZ=UTC (+0000) */
	if (setenv("TZ", "UTC", 1) == -1)
		return (1);
	tzset();
	test_fixtures();
	test_query();
	test_escape();
	test_escape_client();
	test_utf8();
	test_empty();
	test_growth();
	test_multi();
	test_errors();
	test_tz();
	test_prom_query();
	test_prom_render();
	test_prom_multi();
	test_prom_locale();
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
