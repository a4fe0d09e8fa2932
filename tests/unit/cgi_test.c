/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for libcommon/cgi: Apache's proxy: prefixes, the
 * cgi.fix_pathinfo walk over a pretend file system, limit_extensions, and
 * PARAMS rewritten as PHP-FPM 8.2 rewrites them.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/cgi.h"
#include "libcommon/conf.h"
#include "libcommon/fcgi.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The pretend file system: these exist, "/" ending a directory. */
static const char *const files[] = {
	"/srv/app/index.php",
	"/srv/app/upload/evil.jpg",
	"/srv/app/",
	"/srv/app/upload/",
	"/srv/",
	"C:\\app\\x.php"
};

static int	nprobes;

static enum cgi_ftype probe(const char *, void *);
static size_t	params(uint8_t *, size_t, const char *const *);
static const char *get(const uint8_t *, size_t, const char *);
static void	test_strip(void);
static void	test_walk(void);
static void	test_valid(void);
static void	test_ext(void);
static void	test_flags(void);
static void	test_normalize(void);
static void	test_script(void);
static void	test_stat(void);

static enum cgi_ftype
probe(const char *path, void *arg)
{
	size_t	 i, n;

	(void)arg;
	nprobes++;
	for (i = 0; i < NELEM(files); i++) {
		n = strlen(files[i]);
		if (strcmp(path, files[i]) == 0)
			return (CGI_FT_REG);
		if (files[i][n - 1] == '/' && n - 1 == strlen(path) &&
		    strncmp(path, files[i], n - 1) == 0)
			return (CGI_FT_OTHER);
	}
	return (CGI_FT_NONE);
}

/* Encode NAME=VALUE strings (NULL-ended) into buf; its length. */
static size_t
params(uint8_t *buf, size_t size, const char *const *kv)
{
	const char	*eq;
	size_t		 n = 0;

	for (; *kv != NULL; kv++) {
		eq = strchr(*kv, '=');
		n += fcgi_nv_encode(buf + n, size - n, *kv, (size_t)(eq - *kv),
		    eq + 1, strlen(eq + 1));
	}
	return (n);
}

struct lookup {
	const char	*name;
	char		 value[512];
	int		 count;
};

static int
lookup_cb(const struct fcgi_nv *nv, void *arg)
{
	struct lookup	*l = arg;

	if (nv->namelen == strlen(l->name) &&
	    memcmp(nv->name, l->name, nv->namelen) == 0) {
		snprintf(l->value, sizeof(l->value), "%.*s",
		    (int)nv->valuelen, (const char *)nv->value);
		l->count++;
	}
	return (0);
}

/* The value of name in buf, "(unset)", or "(twice)" when there are two. */
static const char *
get(const uint8_t *buf, size_t len, const char *name)
{
	static struct lookup	 l;

	memset(&l, 0, sizeof(l));
	l.name = name;
	if (fcgi_nv_foreach(buf, len, lookup_cb, &l) == -1)
		return ("(malformed)");
	if (l.count == 0)
		return ("(unset)");
	return (l.count > 1 ? "(twice)" : l.value);
}

static void
test_strip(void)
{
	static const struct {
		const char	*in, *out;
		int		 r;
	} t[] = {
		{ "proxy:fcgi://localhost/srv/app/index.php",
		    "/srv/app/index.php", 1 },
		{ "proxy:fcgi://127.0.0.1:9000/srv/a.php/b?c=d&e",
		    "/srv/a.php/b", 1 },
		{ "PROXY:FCGI://h/x", "/x", 1 },
		{ "proxy:balancer://pool1/srv/x.php?q", "/srv/x.php", 1 },
		{ "proxy:balancer://h?x/y", "/y", 1 },
		{ "proxy:fcgi://localhost", "proxy:fcgi://localhost", 2 },
		{ "proxy:fcgi://localhost?a", "proxy:fcgi://localhost", 2 },
		{ "proxy:fcgi://", "proxy:fcgi://", 2 },
		{ "proxy:fcgi:/", "proxy:fcgi:/", 0 },
		{ "/srv/x.php?proxy:fcgi://a/b", "/srv/x.php?proxy:fcgi://a/b",
		    0 },
		{ "proxy:http://h/x", "proxy:http://h/x", 0 },
		{ "", "", 0 }
	};
	size_t	 i, off, n;
	int	 r;

	for (i = 0; i < NELEM(t); i++) {
		r = cgi_proxy_strip(t[i].in, strlen(t[i].in), &off, &n);
		check(r == t[i].r && n == strlen(t[i].out) &&
		    memcmp(t[i].in + off, t[i].out, n) == 0,
		    "proxy_strip: '%s' is '%s' (%d), got '%.*s' (%d)",
		    t[i].in, t[i].out, t[i].r, (int)n, t[i].in + off, r);
	}
}

static void
test_walk(void)
{
	static const struct {
		const char	*path;
		ssize_t		 len;
	} t[] = {
		{ "/srv/app/index.php", 18 },
		{ "/srv/app/index.php/users/7", 18 },
		{ "/srv/app/index.php/", 18 },
		{ "/srv/app/index.php//a", 18 },
		{ "/srv/app/upload/evil.jpg/x.php", 24 },
		{ "/srv/app", 8 },		/* exists: taken as it is */
		{ "/srv/app/", -1 },		/* a directory is no script */
		{ "/srv/app/none.php", -1 },
		{ "/srv/app/none.php/x", -1 },
		{ "none.php", -1 },
		{ "", 0 },			/* PHP leaves it be */
		{ "C:\\app\\x.php\\info", 12 }
	};
	char	 long_path[5000];
	size_t	 i;
	ssize_t	 n;

	for (i = 0; i < NELEM(t); i++) {
		n = cgi_script_len(t[i].path, strlen(t[i].path), probe, NULL);
		check(n == t[i].len, "script_len: '%s' is %zd, got %zd",
		    t[i].path, t[i].len, n);
	}
	/* past PATH_MAX nothing exists, yet a short prefix still does */
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "/srv/app/index.php/", 19);
	nprobes = 0;
	n = cgi_script_len(long_path, sizeof(long_path), probe, NULL);
	check(n == 18 && nprobes == 1, "script_len: a 5000-byte PATH_INFO "
	    "is split with one probe, got %zd after %d", n, nprobes);
	/* not a C string: only len bytes count */
	n = cgi_script_len("/srv/app/index.phpX", 18, probe, NULL);
	check(n == 18, "script_len: only len bytes are the path");
}

static void
test_valid(void)
{
	static const struct {
		const char	*path;
		int		 ok;
	} t[] = {
		{ "/srv/app/index.php", 1 },
		{ "..", 0 },
		{ "../x", 0 },
		{ "/srv/..", 0 },
		{ "/srv/../app", 0 },
		{ "/srv/a..b", 1 },
		{ "/srv/...", 1 },
		{ "/srv/..a/b", 1 },
		{ "/srv/a../b", 1 },
		{ ".", 1 },
		{ "", 1 }
	};
	size_t	 i;

	for (i = 0; i < NELEM(t); i++)
		check(cgi_path_valid(t[i].path, strlen(t[i].path)) == t[i].ok,
		    "path_valid: '%s' is %d", t[i].path, t[i].ok);
}

static void
test_ext(void)
{
	char	*php[] = { ".php", ".phar", NULL };
	char	*none[] = { NULL };

	check(cgi_ext_allowed("/a/x.php", 8, php), "ext: /a/x.php");
	check(cgi_ext_allowed("/a/x.phar", 9, php), "ext: /a/x.phar");
	check(!cgi_ext_allowed("/a/x.PHP", 8, php), "ext: case counts");
	check(!cgi_ext_allowed("/a/x.jpg", 8, php), "ext: /a/x.jpg");
	check(!cgi_ext_allowed(".php", 4, php),
	    "ext: '.php' alone is not enough (PHP-FPM: longer than it)");
	check(cgi_ext_allowed("/.php", 5, php), "ext: '/.php' is");
	check(!cgi_ext_allowed("/a/x.php", 7, php), "ext: only len bytes");
	check(!cgi_ext_allowed("", 0, php), "ext: '' is refused");
	check(cgi_ext_allowed("/a/x.jpg", 8, none), "ext: empty list: all");
	check(cgi_ext_allowed("/a/x.jpg", 8, NULL), "ext: NULL: all");
}

static void
test_flags(void)
{
	struct conf_php		 php[4];
	struct conf_pool	 pool;

	memset(&pool, 0, sizeof(pool));
	check(cgi_flags(&pool, 0) == 0, "flags: not php: none");
	check(cgi_flags(&pool, 1) == (CGI_PHP | CGI_FIX_PATHINFO),
	    "flags: PHP's defaults");
	memset(php, 0, sizeof(php));
	pool.php = php;
	pool.nphp = 4;
	/* an admin value wins whatever the order, as in the argv */
	php[0] = (struct conf_php){ CONF_PHP_ADMIN_FLAG, "cgi.fix_pathinfo",
	    "0", NULL, 0 };
	php[1] = (struct conf_php){ CONF_PHP_VALUE, "cgi.fix_pathinfo", "on",
	    NULL, 0 };
	php[2] = (struct conf_php){ CONF_PHP_VALUE, "cgi.discard_path", "Yes",
	    NULL, 0 };
	php[3] = (struct conf_php){ CONF_PHP_VALUE, "CGI.discard_path", "0",
	    NULL, 0 };
	check(cgi_flags(&pool, 1) == (CGI_PHP | CGI_DISCARD_PATH),
	    "flags: admin fix_pathinfo=0, discard_path=Yes, keys are exact");
	php[0].value = "true";
	php[2].value = "off";
	check(cgi_flags(&pool, 1) == (CGI_PHP | CGI_FIX_PATHINFO),
	    "flags: true, off");
	php[0].value = "2";
	check(cgi_flags(&pool, 1) & CGI_FIX_PATHINFO, "flags: a number");
}

static void
test_normalize(void)
{
	static const char *const sethandler[] = {
		"REQUEST_METHOD=GET",
		"SCRIPT_FILENAME=proxy:fcgi://localhost/srv/app/index.php",
		"PATH_INFO=/users/7",
		"SCRIPT_NAME=/index.php",
		NULL
	};
	static const char *const passmatch[] = {
		"SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000"
		    "/srv/app/index.php/users/7?a=b",
		"SCRIPT_NAME=/index.php/users/7",
		"DOCUMENT_ROOT=/srv/app/",
		"PATH_TRANSLATED=/x",
		"HTTP_HOST=example.org",
		NULL
	};
	static const char *const quirk[] = {
		"SCRIPT_FILENAME=proxy:fcgi://x/srv/app/index.php/users/7",
		"PATH_INFO=/other",
		"SCRIPT_NAME=/index.php",
		NULL
	};
	static const char *const plain[] = {
		"SCRIPT_FILENAME=/srv/app/index.php/users/7",
		"PATH_INFO=/users/7",
		NULL
	};
	static const char *const twice[] = {
		"SCRIPT_FILENAME=/elsewhere.php",
		"SCRIPT_FILENAME=proxy:balancer://b/srv/app/index.php/a",
		NULL
	};
	static const char *const nothing[] = {
		"SCRIPT_FILENAME=proxy:fcgi://h/srv/app/none.php/a",
		"SCRIPT_NAME=/none.php/a",
		NULL
	};
	static const char nul[] = "proxy:fcgi://h/srv/app/index.php\0/x";
	uint8_t		*buf, *old;
	size_t		 len, size;
	int		 r, php = CGI_PHP | CGI_FIX_PATHINFO;

	buf = malloc(4096);
	len = size = params(buf, 4096, sethandler);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "/users/7") == 0 &&
	    strcmp(get(buf, len, "ORIG_SCRIPT_FILENAME"), "(unset)") == 0 &&
	    strcmp(get(buf, len, "REQUEST_METHOD"), "GET") == 0 &&
	    len == size, "normalize: SetHandler: the prefix goes, no more");

	free(buf);
	buf = malloc(4096);
	len = size = params(buf, 4096, passmatch);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php") == 0 &&
	    strcmp(get(buf, len, "ORIG_SCRIPT_FILENAME"),
	    "/srv/app/index.php/users/7") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "/users/7") == 0 &&
	    strcmp(get(buf, len, "ORIG_PATH_INFO"), "(unset)") == 0 &&
	    strcmp(get(buf, len, "SCRIPT_NAME"), "/index.php") == 0 &&
	    strcmp(get(buf, len, "ORIG_SCRIPT_NAME"),
	    "/index.php/users/7") == 0 &&
	    strcmp(get(buf, len, "PATH_TRANSLATED"), "/srv/app/users/7") == 0 &&
	    strcmp(get(buf, len, "ORIG_PATH_TRANSLATED"), "/x") == 0 &&
	    strcmp(get(buf, len, "HTTP_HOST"), "example.org") == 0,
	    "normalize: ProxyPassMatch: split as PHP-FPM, query cut");
	/* again: nothing left to do */
	old = buf;
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 0 && buf == old, "normalize: a second pass changes nothing");
	free(buf);

	buf = malloc(4096);
	len = size = params(buf, 4096, quirk);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 &&
	    strcmp(get(buf, len, "SCRIPT_NAME"), "/other") == 0 &&
	    strcmp(get(buf, len, "ORIG_SCRIPT_NAME"), "/index.php") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "/users/7") == 0 &&
	    strcmp(get(buf, len, "ORIG_PATH_INFO"), "/other") == 0 &&
	    strcmp(get(buf, len, "PATH_TRANSLATED"), "/srv/app/users/7") == 0,
	    "normalize: PHP-FPM's SCRIPT_NAME = old PATH_INFO quirk");
	free(buf);

	/* another program: the prefix and query go, nothing is split */
	buf = malloc(4096);
	len = size = params(buf, 4096, passmatch);
	r = cgi_params_normalize(&buf, &len, &size, 0, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php/users/7") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "(unset)") == 0 &&
	    strcmp(get(buf, len, "SCRIPT_NAME"), "/index.php/users/7") == 0 &&
	    strcmp(get(buf, len, "PATH_TRANSLATED"), "/x") == 0,
	    "normalize: not php: the prefix alone");
	free(buf);

	/* cgi.fix_pathinfo = 0: PHP-FPM strips, but does not split */
	buf = malloc(4096);
	len = size = params(buf, 4096, passmatch);
	r = cgi_params_normalize(&buf, &len, &size, CGI_PHP, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php/users/7") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "(unset)") == 0,
	    "normalize: fix_pathinfo off: the prefix alone");
	free(buf);

	/* no prefix: the very same buffer */
	buf = malloc(4096);
	len = size = params(buf, 4096, plain);
	old = buf;
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 0 && buf == old, "normalize: no prefix, no change");
	free(buf);

	/* the last of two wins, as in PHP; both go */
	buf = malloc(4096);
	len = size = params(buf, 4096, twice);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "/a") == 0,
	    "normalize: the second SCRIPT_FILENAME counts, one is left");
	free(buf);

	/* a missing script: the prefix goes, the worker answers 404 */
	buf = malloc(4096);
	len = size = params(buf, 4096, nothing);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/none.php/a") == 0 &&
	    strcmp(get(buf, len, "SCRIPT_NAME"), "/none.php/a") == 0 &&
	    strcmp(get(buf, len, "PATH_INFO"), "(unset)") == 0,
	    "normalize: no script found: only the prefix goes");
	free(buf);

	/* malformed: left for the caller's parser to refuse */
	buf = malloc(16);
	memcpy(buf, "\x0f\x80", 2);
	len = 2;
	size = 16;
	old = buf;
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 0 && buf == old && len == 2, "normalize: malformed: as is");
	free(buf);

	/* a NUL byte ends the value for PHP, and for us */
	buf = malloc(4096);
	len = size = fcgi_nv_encode(buf, 4096, "SCRIPT_FILENAME", 15, nul,
	    sizeof(nul) - 1);
	r = cgi_params_normalize(&buf, &len, &size, php, probe, NULL);
	check(r == 1 && strcmp(get(buf, len, "SCRIPT_FILENAME"),
	    "/srv/app/index.php") == 0 && len == 35,
	    "normalize: up to a NUL byte");
	free(buf);
}

static void
test_script(void)
{
	static const struct {
		const char	*kv[5];
		int		 flags;
		int		 r;
		const char	*script;
	} t[] = {
		{ { "SCRIPT_FILENAME=/srv/app/index.php/users/7", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/index.php" },
		{ { "SCRIPT_FILENAME=/srv/app/upload/evil.jpg/x.php", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/upload/evil.jpg" },
		{ { "SCRIPT_FILENAME=/srv/app/none.php", NULL },
		    CGI_FIX_PATHINFO, 0, NULL },
		{ { "SCRIPT_FILENAME=/srv/app/../app/index.php", NULL },
		    CGI_FIX_PATHINFO, 0, NULL },
		{ { "SCRIPT_FILENAME=", NULL }, CGI_FIX_PATHINFO, 1, "" },
		{ { "PATH_INFO=/a", NULL }, CGI_FIX_PATHINFO, 0, NULL },
		/* some servers send only PATH_TRANSLATED */
		{ { "PATH_TRANSLATED=/srv/app/index.php/a", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/index.php" },
		/* mod_fastcgi's Action: after a redirect, PATH_TRANSLATED */
		{ { "SCRIPT_FILENAME=/srv/app/index.php",
		    "PATH_TRANSLATED=/srv/app/upload/evil.jpg",
		    "REDIRECT_URL=/e", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/upload/evil.jpg" },
		{ { "SCRIPT_FILENAME=/srv/app/index.php",
		    "PATH_TRANSLATED=/srv/app/upload/evil.jpg", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/index.php" },
		/* cgi.fix_pathinfo = 0: PATH_TRANSLATED, unsplit */
		{ { "SCRIPT_FILENAME=/srv/app/index.php",
		    "PATH_TRANSLATED=/srv/app/upload/evil.jpg", NULL },
		    0, 1, "/srv/app/upload/evil.jpg" },
		{ { "SCRIPT_FILENAME=/srv/app/index.php/a", NULL },
		    0, 1, "/srv/app/index.php/a" },
		/* and cgi.discard_path ignores PATH_TRANSLATED */
		{ { "SCRIPT_FILENAME=/srv/app/index.php",
		    "PATH_TRANSLATED=/srv/app/upload/evil.jpg", NULL },
		    CGI_DISCARD_PATH, 1, "/srv/app/index.php" },
		/* the last of two */
		{ { "SCRIPT_FILENAME=/srv/app/index.php",
		    "SCRIPT_FILENAME=/srv/app/upload/evil.jpg", NULL },
		    CGI_FIX_PATHINFO, 1, "/srv/app/upload/evil.jpg" }
	};
	uint8_t		 buf[1024];
	const char	*s;
	size_t		 i, len, slen;
	int		 r;

	for (i = 0; i < NELEM(t); i++) {
		len = params(buf, sizeof(buf), t[i].kv);
		s = NULL;
		slen = 0;
		r = cgi_script(buf, len, t[i].flags | CGI_PHP, probe, NULL,
		    &s, &slen);
		check(r == t[i].r && (r != 1 ||
		    (slen == strlen(t[i].script) &&
		    memcmp(s, t[i].script, slen) == 0)),
		    "script: %s%s%s is %d '%s', got %d '%.*s'", t[i].kv[0],
		    t[i].kv[1] != NULL ? " " : "",
		    t[i].kv[1] != NULL ? t[i].kv[1] : "", t[i].r,
		    t[i].script != NULL ? t[i].script : "", r, (int)slen,
		    s != NULL ? s : "");
	}
	memcpy(buf, "\x0f\x80", 2);
	errno = 0;
	check(cgi_script(buf, 2, CGI_FIX_PATHINFO, probe, NULL, &s,
	    &slen) == -1 && errno == EPROTO, "script: malformed: EPROTO");
}

static void
test_stat(void)
{
	char	 dir[] = "/tmp/cgi_test.XXXXXX", path[64];
	FILE	*fp;

	if (mkdtemp(dir) == NULL) {
		check(0, "stat: mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/x.php", dir);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	check(cgi_probe_stat(path, NULL) == CGI_FT_REG, "stat: a file");
	check(cgi_probe_stat(dir, "") == CGI_FT_OTHER, "stat: a directory");
	check(cgi_probe_stat("/x.php", dir) == CGI_FT_REG,
	    "stat: below a chroot");
	check(cgi_probe_stat(path, dir) == CGI_FT_NONE,
	    "stat: a path outside the chroot is not there");
	check(cgi_probe_stat("/nonexistent/x", NULL) == CGI_FT_NONE,
	    "stat: missing");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_strip();
	test_walk();
	test_valid();
	test_ext();
	test_flags();
	test_normalize();
	test_script();
	test_stat();
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
