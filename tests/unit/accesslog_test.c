/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for libcommon/accesslog: every specifier and argument, PHP-FPM
 * 8.2's own lines, escaping, long lines, format errors, suppress_path.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/accesslog.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct kv {
	const char	*k, *v;
};

static struct accesslog_buf	buf;

static const char *kv_find(const struct kv *, size_t, const char *);
static const char *param(void *, const char *);
static const char *header(void *, const char *);
static void	settz(const char *);
static struct accesslog_req base(void);
static void	is(const char *, const struct accesslog_req *, const char *);
static void	test_specifiers(void);
static void	test_defaults(void);
static void	test_time(void);
static void	test_fixture(void);
static void	test_wwwconf(void);
static void	test_escape(void);
static void	test_long(void);
static void	test_errors(void);
static void	test_suppress(void);

static const struct kv	params[] = {
	{ "REMOTE_ADDR", "192.0.2.7" },
	{ "SERVER_PROTOCOL", "HTTP/1.1" },
	{ "EMPTY", "" },
	{ "EVIL", "a\nb\\c" },
};
static const struct kv	headers[] = {
	{ "Content-type", "text/html; charset=UTF-8" },
	{ "X-Empty", "" },
};


static const char *
kv_find(const struct kv *t, size_t n, const char *k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].k, k) == 0)	/* case-sensitive, as PHP-FPM */
			return (t[i].v);
	return (NULL);
}

static const char *
param(void *arg, const char *name)
{
	check(arg == &buf, "param callback gets arg (%s)", name);
	return (kv_find(params, NELEM(params), name));
}

static const char *
header(void *arg, const char *name)
{
	(void)arg;
	return (kv_find(headers, NELEM(headers), name));
}

static void
settz(const char *tz)
{
	if (setenv("TZ", tz, 1) == -1)
		abort();
	tzset();
}

/* 25/Nov/2026:08:33:06 UTC, 1.234567891 s long, 60.75 % CPU. */
static struct accesslog_req
base(void)
{
	struct accesslog_req	 r;

	memset(&r, 0, sizeof(r));
	r.pool = "www";
	r.pid = 4242;
	r.master_pid = 4200;
	r.peer_addr = "127.0.0.1";
	r.method = "GET";
	r.uri = "/index.php";
	r.query = "a=1&b=2";
	r.script_filename = "/srv/www/index.php";
	r.user = "alice";
	r.status = 200;
	r.content_length = 1234;
	r.start.tv_sec = 1795595586;
	r.start.tv_nsec = 250000000;
	r.end.tv_sec = 1795595587;
	r.end.tv_nsec = 500000000;
	r.duration.tv_sec = 1;
	r.duration.tv_nsec = 234567891;
	r.cpu_user = 0.5;
	r.cpu_system = 0.25;
	r.memory = 3 * 1024 * 1024 + 512;
	r.param = param;
	r.header = header;
	r.arg = &buf;
	return (r);
}

/* Format r with f; want is the line without its newline. */
static void
is(const char *f, const struct accesslog_req *r, const char *want)
{
	size_t	 wl = strlen(want), i;
	char	 name[80];
	int	 rv;

	/* a TAP line must stay one line */
	strlcpy(name, f, sizeof(name));
	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 0x20)
			name[i] = '?';
	rv = accesslog_format(&buf, f, r);
	if (rv == 0 && buf.len == wl + 1 && memcmp(buf.data, want, wl) == 0 &&
	    buf.data[wl] == '\n' && buf.data[wl + 1] == '\0') {
		check(1, "'%s'", name);
		return;
	}
	check(0, "'%s'", name);
	printf("# want '%s'\n", want);
	printf("# got rv %d len %zu: '%s'\n", rv, buf.len,
	    buf.data != NULL ? buf.data : "(null)");
}

static void
test_specifiers(void)
{
	static const struct {
		const char	*f, *want;
	} t[] = {
		{ "%%", "%" },
		{ "100%%", "100%" },
		{ "%C", "60.75" },
		{ "%{total}C", "60.75" },
		{ "%{user}C", "40.50" },
		{ "%{system}C", "20.25" },
		{ "%{SYSTEM}C", "20.25" },		/* strcasecmp */
		{ "%d", "1.235" },
		{ "%{seconds}d", "1.235" },
		{ "%{milli}d", "1234.567" },
		{ "%{milliseconds}d", "1234.567" },
		{ "%{mili}d", "1234.567" },
		{ "%{miliseconds}d", "1234.567" },
		{ "%{micro}d", "1234567" },
		{ "%{microseconds}d", "1234567" },
		{ "%{Micro}d", "1234567" },
		{ "%{REMOTE_ADDR}e", "192.0.2.7" },
		{ "%{SERVER_PROTOCOL}e", "HTTP/1.1" },
		{ "%{NOPE}e", "-" },
		{ "[%{EMPTY}e]", "[]" },		/* set but empty */
		{ "%{remote_addr}e", "-" },		/* names are exact */
		{ "%f", "/srv/www/index.php" },
		{ "%l", "1234" },
		{ "%m", "GET" },
		{ "%M", "3146240" },
		{ "%{bytes}M", "3146240" },
		{ "%{kilo}M", "3072" },
		{ "%{kilobytes}M", "3072" },
		{ "%{mega}M", "3" },
		{ "%{megabytes}M", "3" },
		{ "%n", "www" },
		{ "%{Content-type}o", "text/html; charset=UTF-8" },
		{ "%{Content-Type}o", "-" },		/* case-sensitive */
		{ "%{X-Empty}o", "-" },
		{ "%p", "4242" },
		{ "%P", "4200" },
		{ "%q", "a=1&b=2" },
		{ "%Q", "?" },
		{ "%r", "/index.php" },
		{ "%R", "127.0.0.1" },
		{ "%s", "200" },
		{ "%u", "alice" },
		{ "%{}s", "200" },		/* empty braces: no argument */
		{ "%{}d", "1.235" },
		{ "no specifier at all", "no specifier at all" },
		{ "%p%P%%%n", "42424200%www" },
	};
	struct accesslog_req	 r = base();
	size_t			 i;

	for (i = 0; i < NELEM(t); i++)
		is(t[i].f, &r, t[i].want);
	r.param = NULL;
	r.header = NULL;
	is("%{REMOTE_ADDR}e %{Content-type}o", &r, "- -");
}

/* What NULL and empty fields print. */
static void
test_defaults(void)
{
	struct accesslog_req	 r;
	int			 rv;

	memset(&r, 0, sizeof(r));
	is("%n|%m|%f|%R|%r|%q|%Q|%u|%s|%l|%M|%p", &r, "-|-|-|-|||||0|0|0|0");
	r.pool = r.method = r.script_filename = "";
	r.uri = r.query = r.user = "";
	r.peer_addr = "";
	is("%n|%m|%f|%R|%r|%q|%Q|%u", &r, "-|-|-|||||");
	is("%d %{milli}d %{micro}d", &r, "0.000 0.000 0");
	is("%C %{user}C %{system}C", &r, "0.00 0.00 0.00");
	r.duration.tv_sec = 0;
	r.duration.tv_nsec = 999;		/* below 1 us, as a timeval */
	r.cpu_user = 1;
	is("%C %{micro}d", &r, "0.00 0");
	r.duration.tv_sec = -1;
	is("%{micro}d", &r, "0");

	/* an empty line: PHP-FPM writes nothing */
	r.query = NULL;
	rv = accesslog_format(&buf, "%q%Q", &r);
	check(rv == 0 && buf.len == 0 && buf.data[0] == '\0',
	    "an empty line leaves the buffer empty");
	rv = accesslog_format(&buf, "", &r);
	check(rv == 0 && buf.len == 0, "an empty format makes nothing");
}

static void
test_time(void)
{
	struct accesslog_req	 r = base();
	char			 f[300];
	int			 rv;

	settz("UTC");
	is("%t", &r, "25/Nov/2026:08:33:06 +0000");
	is("%T", &r, "25/Nov/2026:08:33:07 +0000");
	is("%{%Y-%m-%dT%H:%M:%S%z}t", &r, "2026-11-25T08:33:06+0000");
	is("%{%s}T", &r, "1795595587");
	is("[%{%d/%b/%Y:%H:%M:%S %z}t]", &r, "[25/Nov/2026:08:33:06 +0000]");
	is("%{}t", &r, "25/Nov/2026:08:33:06 +0000");
	is("%{%%}t %{%a %A %B}t", &r, "% Wed Wednesday November");
	settz("CET-1");
	is("%t", &r, "25/Nov/2026:09:33:06 +0100");
	is("%{%H:%M %Z}T", &r, "09:33 CET");
	settz("UTC");

	/* strftime with an empty result, and one longer than 128 bytes */
	is("[%{%p}t]", &r, "[AM]");
	is("[%{%H%}t]", &r, "[08%]");		/* glibc keeps a lone '%' */
	memset(f, 0, sizeof(f));
	strlcpy(f, "%{", sizeof(f));
	while (strlen(f) < 200)
		strlcat(f, "%Y", sizeof(f));
	strlcat(f, "}t", sizeof(f));
	rv = accesslog_format(&buf, f, &r);
	check(rv == 0 && buf.len == 99 * 4 + 1,
	    "a time longer than PHP-FPM's 128 bytes is whole (%zu)", buf.len);
	is("%{%1000000Y}t|", &r, "|");		/* over the cap: nothing */
}

/*
 * The access log of a real PHP-FPM 8.2 (default format, pool on a unix
 * socket so %R is "-", no PHP_AUTH_USER so %u is empty, TZ UTC).
 */
static void
test_fixture(void)
{
	static const struct {
		time_t		 t;
		const char	*uri;
		const char	*line;
	} t[] = {
		{ 1795595586, "/status",
		    "- -  25/Nov/2026:08:33:06 +0000 \"GET /status\" 200" },
		{ 1795595586, "/ping",
		    "- -  25/Nov/2026:08:33:06 +0000 \"GET /ping\" 200" },
		{ 1795595584, "/sleep.php",
		    "- -  25/Nov/2026:08:33:04 +0000 \"GET /sleep.php\" 200" },
	};
	struct accesslog_req	 r;
	size_t			 i;

	settz("UTC");
	for (i = 0; i < NELEM(t); i++) {
		memset(&r, 0, sizeof(r));
		r.pool = "www";
		r.method = "GET";
		r.uri = t[i].uri;
		r.status = 200;
		r.start.tv_sec = t[i].t;
		is(ACCESSLOG_DEFAULT_FORMAT, &r, t[i].line);
	}
	check(strcmp(ACCESSLOG_DEFAULT_FORMAT, "%R - %u %t \"%m %r\" %s") == 0,
	    "ACCESSLOG_DEFAULT_FORMAT is PHP-FPM's");
	r.peer_addr = "127.0.0.1";
	r.uri = "/ping";
	r.start.tv_sec = 1795594297;
	is(ACCESSLOG_DEFAULT_FORMAT, &r,
	    "127.0.0.1 -  25/Nov/2026:08:11:37 +0000 \"GET /ping\" 200");
}

/* The example in PHP-FPM's www.conf. */
static void
test_wwwconf(void)
{
	static const char	 f[] = "%R - %u %t \"%m %r%Q%q\" %s %f "
	    "%{milli}d %{kilo}M %C%%";
	struct accesslog_req	 r = base();

	settz("UTC");
	check(accesslog_check(f, NULL, 0) == 0, "www.conf example is valid");
	is(f, &r, "127.0.0.1 - alice 25/Nov/2026:08:33:06 +0000 "
	    "\"GET /index.php?a=1&b=2\" 200 /srv/www/index.php 1234.567 3072 "
	    "60.75%");
	r.query = "";
	r.user = NULL;
	r.method = "POST";
	r.status = 404;
	is(f, &r, "127.0.0.1 -  25/Nov/2026:08:33:06 +0000 "
	    "\"POST /index.php\" 404 /srv/www/index.php 1234.567 3072 60.75%");
}

static void
test_escape(void)
{
	struct accesslog_req	 r = base();

	r.uri = "/a\nb\r\x1b[31m\x7f\\x0a";
	is("%r", &r, "/a\\x0ab\\x0d\\x1b[31m\\x7f\\x5cx0a");
	r.uri = "/caf\xc3\xa9 \"q\"";
	is("%r", &r, "/caf\xc3\xa9 \"q\"");	/* UTF-8 and '"' stay raw */
	r.user = "x\ty";
	r.method = "G\nT";
	r.query = "a=\n";
	r.script_filename = "/x\n";
	r.peer_addr = "\n";
	r.pool = "p\n";
	is("%u %m %q %f %R %n", &r,
	    "x\\x09y G\\x0aT a=\\x0a /x\\x0a \\x0a p\\x0a");
	is("%{EVIL}e", &r, "a\\x0ab\\x5cc");
	is("a\tb\\c", &r, "a\\x09b\\c");	/* format: controls only */
	is("%{%H\n}t", &r, "08\\x0a");
}

static void
test_long(void)
{
	struct accesslog_req	 r = base();
	char			*uri, *want;
	size_t			 n = 5000;

	if ((uri = malloc(n + 1)) == NULL || (want = malloc(n + 64)) == NULL)
		abort();
	memset(uri, 'a', n);
	uri[0] = '/';
	uri[n] = '\0';
	r.uri = uri;
	snprintf(want, n + 64, "\"GET %s\" 200", uri);
	is("\"%m %r\" %s", &r, want);
	check(buf.len == n + 11, "a 5000-byte path is not cut at 1024 (%zu)",
	    buf.len);
	/* the buffer is reused: a short line replaces a long one */
	is("%s", &r, "200");
	check(buf.size >= n, "the buffer keeps its memory");
	free(uri);
	free(want);
}

static void
test_errors(void)
{
	static const struct {
		const char	*f, *why;
	} t[] = {
		{ "%R %z", "Invalid token in the access.format (%z)" },
		{ "50%", "Invalid token in the access.format (%)" },
		{ "%{x", "missing closing embrace in the access.format" },
		{ "%{x}", "missing closing embrace in the access.format" },
		{ "%{x}{y}d", "Invalid token in the access.format (%{)" },
		{ "%{hours}d", "only 'seconds', 'milli', 'milliseconds', "
		    "'micro' or 'microseconds' are allowed as a modifier for "
		    "%d ('hours')" },
		{ "%{idle}C", "only 'total', 'user' or 'system' are allowed as "
		    "a modifier for %C ('idle')" },
		{ "%{giga}M", "only 'bytes', 'kilo', 'kilobytes', 'mega' or "
		    "'megabytes' are allowed as a modifier for %M ('giga')" },
		{ "%e", "the name of the environment variable must be set "
		    "between embraces for %e" },
		{ "%{}e", "the name of the environment variable must be set "
		    "between embraces for %e" },
		{ "%o", "the name of the header must be set between embraces "
		    "for %o" },
		{ "%{x}s", "embrace is not allowed for modifier %s" },
		{ "%{x}%", "embrace is not allowed for modifier %%" },
		{ "%{x}u", "embrace is not allowed for modifier %u" },
	};
	static const char *const good[] = {
		"%R - %u %t \"%m %r\" %s", "%%", "%{A}e%{B}o", "%{%Y}t%{%s}T",
		"%C%d%M%{MEGA}M%{Total}C", "", "plain",
	};
	struct accesslog_req	 r = base();
	char			 why[256], small[8];
	size_t			 i;
	int			 rv;

	for (i = 0; i < NELEM(t); i++) {
		why[0] = '\0';
		errno = 0;
		rv = accesslog_check(t[i].f, why, sizeof(why));
		check(rv == -1 && errno == EINVAL && strcmp(why, t[i].why) == 0,
		    "'%s' fails: %s", t[i].f, t[i].why);
		if (strcmp(why, t[i].why) != 0)
			printf("# got '%s'\n", why);
		errno = 0;
		rv = accesslog_format(&buf, t[i].f, &r);
		check(rv == -1 && errno == EINVAL && buf.len == 0,
		    "'%s' does not format", t[i].f);
	}
	for (i = 0; i < NELEM(good); i++)
		check(accesslog_check(good[i], why, sizeof(why)) == 0,
		    "'%s' is valid", good[i]);
	rv = accesslog_check("%z", small, sizeof(small));
	check(rv == -1 && strcmp(small, "Invalid") == 0,
	    "the reason is cut to errsize");
}

static void
test_suppress(void)
{
	static const char *const paths[] = { "/ping", "/status" };
	struct accesslog_req	 r;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.uri = "/ping";
	r.status = 200;
	check(accesslog_suppressed(paths, 2, &r) == 1, "GET /ping 200");
	r.uri = "/status";
	check(accesslog_suppressed(paths, 2, &r) == 1, "GET /status 200");
	r.query = "";
	check(accesslog_suppressed(paths, 2, &r) == 1, "empty query");
	r.method = "HEAD";
	r.status = 299;
	check(accesslog_suppressed(paths, 2, &r) == 1, "HEAD 299");
	check(accesslog_suppressed(paths, 0, &r) == 0, "no paths");
	check(accesslog_suppressed(NULL, 0, &r) == 0, "NULL paths");
	r.uri = "/status/";
	check(accesslog_suppressed(paths, 2, &r) == 0, "exact match only");
	r.uri = "/STATUS";
	check(accesslog_suppressed(paths, 2, &r) == 0, "case-sensitive");
	r.uri = NULL;
	check(accesslog_suppressed(paths, 2, &r) == 0, "NULL uri");
	r.uri = "/ping";
	r.query = "full";
	check(accesslog_suppressed(paths, 2, &r) == 0, "a query string");
	r.query = NULL;
	r.method = "POST";
	check(accesslog_suppressed(paths, 2, &r) == 0, "POST");
	r.method = "get";
	check(accesslog_suppressed(paths, 2, &r) == 0, "lower-case get");
	r.method = NULL;
	check(accesslog_suppressed(paths, 2, &r) == 0, "no method");
	r.method = "GET";
	r.status = 199;
	check(accesslog_suppressed(paths, 2, &r) == 0, "status 199");
	r.status = 300;
	check(accesslog_suppressed(paths, 2, &r) == 0, "status 300");
	r.status = 204;
	r.content_length = 1;
	check(accesslog_suppressed(paths, 2, &r) == 0, "a body");
	r.content_length = 0;
	check(accesslog_suppressed(paths, 2, &r) == 1, "GET /ping 204");
}

int
main(void)
{
	test_specifiers();
	test_defaults();
	test_time();
	test_fixture();
	test_wwwconf();
	test_escape();
	test_long();
	test_errors();
	test_suppress();
	accesslog_buf_free(&buf);
	check(buf.data == NULL && buf.len == 0 && buf.size == 0,
	    "accesslog_buf_free zeroes the buffer");
	printf("1..%d\n", ntest);
	return (nfail > 0);
}
