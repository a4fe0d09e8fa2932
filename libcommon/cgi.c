/* SPDX-License-Identifier: ISC */
/*
 * The request paths of PHP-FPM 8.2's init_request_info (fpm_main.c) for a
 * supervisor in front of php-cgi or any other FastCGI program.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/cgi.h"
#include "libcommon/conf.h"
#include "libcommon/fcgi.h"

#define CGI_FCGI_PREFIX		"proxy:fcgi://"
#define CGI_BALANCER_PREFIX	"proxy:balancer://"
#define CGI_MAXSET		8	/* values one rewrite sets */

/* The params the paths come from. */
enum cgi_var {
	CGI_SCRIPT_FILENAME,
	CGI_PATH_INFO,
	CGI_SCRIPT_NAME,
	CGI_PATH_TRANSLATED,
	CGI_DOCUMENT_ROOT,
	CGI_REDIRECT_URL,
	CGI_NVARS
};

/*
 * A param as PHP reads it: PHP's FastCGI layer keeps the last of two
 * pairs with one name, and init_request_info reads a value as a C string,
 * up to its first NUL byte.
 */
struct cgi_str {
	const char	*p;
	size_t		 len;
	int		 set;
};

/* A value a rewrite sets: up to two pieces, joined. */
struct cgi_new {
	const char	*name;
	const char	*p[2];
	size_t		 len[2];
};

struct cgi_rewrite {
	struct cgi_new	 v[CGI_MAXSET];
	size_t		 n;
};

static const char *const cgi_names[CGI_NVARS] = {
	"SCRIPT_FILENAME",
	"PATH_INFO",
	"SCRIPT_NAME",
	"PATH_TRANSLATED",
	"DOCUMENT_ROOT",
	"REDIRECT_URL"
};

static int	cgi_read_cb(const struct fcgi_nv *, void *);
static int	cgi_read(const uint8_t *, size_t, struct cgi_str *);
static int	cgi_eq(const struct cgi_str *, const char *, size_t);
static int	cgi_ini_bool(const char *);
static enum cgi_ftype cgi_probe_len(const char *, size_t,
		    enum cgi_ftype (*)(const char *, void *), void *);
static void	cgi_set(struct cgi_rewrite *, const char *, const char *,
		    size_t, const char *, size_t);
static void	cgi_split(struct cgi_rewrite *, const struct cgi_str *,
		    const char *, size_t, enum cgi_ftype (*)(const char *,
		    void *), void *);
static int	cgi_named(const struct cgi_rewrite *, const uint8_t *,
		    size_t);
static size_t	cgi_lenenc(uint8_t *, size_t);
static int	cgi_apply(uint8_t **, size_t *, size_t *,
		    const struct cgi_rewrite *);

enum cgi_ftype
cgi_probe_stat(const char *path, void *root)
{
	struct stat	 st;
	char		 buf[PATH_MAX];
	const char	*r = root;
	int		 n;

	/* A chroot'ed worker resolves absolute paths below its root. */
	if (r != NULL && *r != '\0' && path[0] == '/') {
		n = snprintf(buf, sizeof(buf), "%s%s", r, path);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return (CGI_FT_NONE);
		path = buf;
	}
	if (stat(path, &st) == -1)
		return (CGI_FT_NONE);
	return (S_ISREG(st.st_mode) ? CGI_FT_REG : CGI_FT_OTHER);
}

/* PHP's zend_ini_parse_bool(), which OnUpdateBool uses. */
static int
cgi_ini_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0)
		return (1);
	return (strtol(s, NULL, 10) != 0);
}

int
cgi_flags(const struct conf_pool *pool, int php)
{
	const struct conf_php	*ph;
	size_t			 it;
	int			 fix = 1, discard = 0;

	if (!php)
		return (0);
	/* in the worker's order: the admin values last, they win */
	for (it = 0; (ph = conf_php_next(pool, &it)) != NULL; ) {
		if (strcmp(ph->key, "cgi.fix_pathinfo") == 0)
			fix = cgi_ini_bool(ph->value);
		else if (strcmp(ph->key, "cgi.discard_path") == 0)
			discard = cgi_ini_bool(ph->value);
	}
	return (CGI_PHP | (fix ? CGI_FIX_PATHINFO : 0) |
	    (discard ? CGI_DISCARD_PATH : 0));
}

int
cgi_proxy_strip(const char *s, size_t len, size_t *off, size_t *newlen)
{
	const char	*q, *slash;
	size_t		 plen;

	if (len >= sizeof(CGI_FCGI_PREFIX) - 1 &&
	    strncasecmp(s, CGI_FCGI_PREFIX, sizeof(CGI_FCGI_PREFIX) - 1) == 0)
		plen = sizeof(CGI_FCGI_PREFIX) - 1;
	else if (len >= sizeof(CGI_BALANCER_PREFIX) - 1 &&
	    strncasecmp(s, CGI_BALANCER_PREFIX,
	    sizeof(CGI_BALANCER_PREFIX) - 1) == 0)
		plen = sizeof(CGI_BALANCER_PREFIX) - 1;
	else {
		*off = 0;
		*newlen = len;
		return (0);
	}
	/*
	 * The host and port run to the first '/', where the path starts
	 * (mod_proxy_fcgi: proxy:fcgi://localhost:9000/srv/x.php/a?b=c).
	 * Without one PHP-FPM keeps the string, but cuts the query all the
	 * same.
	 */
	slash = memchr(s + plen, '/', len - plen);
	*off = slash == NULL ? 0 : (size_t)(slash - s);
	q = memchr(s + *off, '?', len - *off);
	*newlen = (q == NULL ? s + len : q) - (s + *off);
	return (slash == NULL ? 2 : 1);
}

/* What probe says of path[0..len); one too long for the kernel is missing. */
static enum cgi_ftype
cgi_probe_len(const char *path, size_t len,
    enum cgi_ftype (*probe)(const char *, void *), void *arg)
{
	char	 buf[PATH_MAX];

	if (len >= sizeof(buf))
		return (CGI_FT_NONE);
	memcpy(buf, path, len);
	buf[len] = '\0';
	return (probe(buf, arg));
}

ssize_t
cgi_script_len(const char *path, size_t len,
    enum cgi_ftype (*probe)(const char *, void *), void *arg)
{
	const char	*cut;
	size_t		 n;

	/* PHP leaves "" alone; its realpath() takes any existing file */
	if (len == 0 || (path[len - 1] != '/' &&
	    cgi_probe_len(path, len, probe, arg) != CGI_FT_NONE))
		return ((ssize_t)len);
	/*
	 * Walk back through the '/' (through the '\' once none is left, as
	 * PHP does on every system) to the first prefix that is a regular
	 * file: /srv/app/index.php/users/7 runs /srv/app/index.php.
	 */
	for (n = len;;) {
		if ((cut = memrchr(path, '/', n)) == NULL &&
		    (cut = memrchr(path, '\\', n)) == NULL)
			return (-1);
		n = (size_t)(cut - path);
		if (cgi_probe_len(path, n, probe, arg) == CGI_FT_REG)
			return ((ssize_t)n);
	}
}

int
cgi_path_valid(const char *path, size_t len)
{
	size_t	 i;

	/* PHP's is_valid_path(): no ".." between slashes or the ends */
	for (i = 0; i + 1 < len; i++)
		if (path[i] == '.' && path[i + 1] == '.' &&
		    (i == 0 || path[i - 1] == '/') &&
		    (i + 2 == len || path[i + 2] == '/'))
			return (0);
	return (1);
}

int
cgi_ext_allowed(const char *path, size_t len, char *const *exts)
{
	size_t	 elen;

	if (exts == NULL || exts[0] == NULL)
		return (1);
	for (; *exts != NULL; exts++) {
		elen = strlen(*exts);
		/* PHP-FPM: a file named just ".php" is not a PHP script */
		if (len > elen && memcmp(path + len - elen, *exts, elen) == 0)
			return (1);
	}
	return (0);
}

static int
cgi_read_cb(const struct fcgi_nv *nv, void *arg)
{
	struct cgi_str	*v = arg;
	const uint8_t	*nul;
	size_t		 i;

	for (i = 0; i < CGI_NVARS; i++) {
		if (nv->namelen != strlen(cgi_names[i]) ||
		    memcmp(nv->name, cgi_names[i], nv->namelen) != 0)
			continue;
		v[i].p = (const char *)nv->value;
		nul = memchr(nv->value, '\0', nv->valuelen);
		v[i].len = nul == NULL ? nv->valuelen :
		    (size_t)(nul - nv->value);
		v[i].set = 1;
		break;
	}
	return (0);
}

/* The paths of params[0..len) into v; -1 with errno EPROTO if malformed. */
static int
cgi_read(const uint8_t *params, size_t len, struct cgi_str *v)
{
	memset(v, 0, CGI_NVARS * sizeof(*v));
	return (fcgi_nv_foreach(params, len, cgi_read_cb, v));
}

/* strcmp(a, b) == 0 for a param and a string. */
static int
cgi_eq(const struct cgi_str *a, const char *b, size_t blen)
{
	return (a->len == blen && memcmp(a->p, b, blen) == 0);
}

static void
cgi_set(struct cgi_rewrite *rw, const char *name, const char *p0,
    size_t len0, const char *p1, size_t len1)
{
	struct cgi_new	*n;

	if (rw->n == CGI_MAXSET)	/* cannot be: cgi_split() sets 8 */
		abort();
	n = &rw->v[rw->n++];
	n->name = name;
	n->p[0] = p0;
	n->len[0] = len0;
	n->p[1] = p1;
	n->len[1] = len1;
}

/*
 * PHP-FPM's cgi.fix_pathinfo for a SCRIPT_FILENAME that came from Apache
 * (s[0..len), prefix gone): mod_proxy_fcgi behind ProxyPassMatch sends
 * the PATH_INFO only as the tail of SCRIPT_FILENAME, and PHP-FPM takes it
 * from there, where php-cgi would not.  v holds the other params.  What
 * follows is fpm_main.c's order of steps, SCRIPT_NAME = PATH_INFO quirk
 * included.  A script that is missing, or not split, is left for the
 * worker to refuse.
 */
static void
cgi_split(struct cgi_rewrite *rw, const struct cgi_str *v, const char *s,
    size_t len, enum cgi_ftype (*probe)(const char *, void *), void *arg)
{
	const struct cgi_str	*opi = &v[CGI_PATH_INFO];
	const struct cgi_str	*osn = &v[CGI_SCRIPT_NAME];
	const struct cgi_str	*opt = &v[CGI_PATH_TRANSLATED];
	const struct cgi_str	*dr = &v[CGI_DOCUMENT_ROOT];
	struct cgi_str		 pi = *opi, sn = *osn;
	const char		*info;
	ssize_t			 n;
	size_t			 slen, l;

	if ((n = cgi_script_len(s, len, probe, arg)) == -1 ||
	    (size_t)n == len) {
		cgi_set(rw, "SCRIPT_FILENAME", s, len, NULL, 0);
		return;
	}
	info = s + n;
	slen = len - (size_t)n;
	if (!opi->set || !cgi_eq(opi, info, slen)) {
		if (opi->set) {
			cgi_set(rw, "ORIG_PATH_INFO", opi->p, opi->len,
			    NULL, 0);
			if (!osn->set || !cgi_eq(osn, opi->p, opi->len)) {
				if (osn->set)
					cgi_set(rw, "ORIG_SCRIPT_NAME",
					    osn->p, osn->len, NULL, 0);
				cgi_set(rw, "SCRIPT_NAME", opi->p, opi->len,
				    NULL, 0);
			}
		} else if (osn->set && osn->len > slen &&
		    memcmp(osn->p + osn->len - slen, info, slen) == 0) {
			/* ProxyPassMatch: SCRIPT_NAME carries it too */
			cgi_set(rw, "ORIG_SCRIPT_NAME", osn->p, osn->len,
			    NULL, 0);
			sn.len -= slen;
			cgi_set(rw, "SCRIPT_NAME", sn.p, sn.len, NULL, 0);
		}
		pi.p = info;
		pi.len = slen;
		pi.set = 1;
		cgi_set(rw, "PATH_INFO", pi.p, pi.len, NULL, 0);
	}
	cgi_set(rw, "ORIG_SCRIPT_FILENAME", s, len, NULL, 0);
	cgi_set(rw, "SCRIPT_FILENAME", s, (size_t)n, NULL, 0);
	if (dr->set) {
		/* PATH_TRANSLATED = DOCUMENT_ROOT + PATH_INFO */
		l = dr->len;
		if (l > 0 && dr->p[l - 1] == '/')
			l--;
		cgi_set(rw, "PATH_TRANSLATED", dr->p, l, pi.p,
		    pi.set ? pi.len : 0);
	} else if (sn.set && memmem(s, (size_t)n, sn.p, sn.len) != NULL) {
		/* SCRIPT_FILENAME - SCRIPT_NAME + PATH_INFO, as PHP cuts it */
		cgi_set(rw, "PATH_TRANSLATED", s, (size_t)n - sn.len, pi.p,
		    pi.set ? pi.len : 0);
	} else
		return;
	if (opt->set)
		cgi_set(rw, "ORIG_PATH_TRANSLATED", opt->p, opt->len, NULL, 0);
}

/* 1 if the name of the pair at p[0..len) is one that rw sets. */
static int
cgi_named(const struct cgi_rewrite *rw, const uint8_t *p, size_t len)
{
	struct fcgi_nv	 nv;
	size_t		 i;

	if (fcgi_nv_decode(p, len, &nv) <= 0)
		return (0);
	for (i = 0; i < rw->n; i++)
		if (nv.namelen == strlen(rw->v[i].name) &&
		    memcmp(nv.name, rw->v[i].name, nv.namelen) == 0)
			return (1);
	return (0);
}

/* One FastCGI length (spec 3.4) at p; the bytes written. */
static size_t
cgi_lenenc(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		p[0] = (uint8_t)n;
		return (1);
	}
	p[0] = (uint8_t)((n >> 24) | 0x80);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return (4);
}

/*
 * A new block for *buf: its pairs but those rw sets, then rw's values.
 * The values point into the old block, which is freed last.
 */
static int
cgi_apply(uint8_t **buf, size_t *len, size_t *size,
    const struct cgi_rewrite *rw)
{
	const struct cgi_new	*nv;
	struct fcgi_nv		 pair;
	uint8_t			*out, *o;
	const uint8_t		*p;
	size_t			 need = 0, rest, vlen, i, sz;
	ssize_t			 n;

	for (p = *buf, rest = *len; rest > 0; p += n, rest -= (size_t)n) {
		if ((n = fcgi_nv_decode(p, rest, &pair)) <= 0)
			return (0);	/* cgi_read() saw it whole */
		if (!cgi_named(rw, p, rest))
			need += (size_t)n;
	}
	for (i = 0; i < rw->n; i++) {
		nv = &rw->v[i];
		sz = fcgi_nv_size(strlen(nv->name), nv->len[0] + nv->len[1]);
		if (sz == 0)
			return (0);
		need += sz;
	}
	if ((out = malloc(need > 0 ? need : 1)) == NULL)
		return (-1);
	o = out;
	for (p = *buf, rest = *len; rest > 0; p += n, rest -= (size_t)n) {
		n = fcgi_nv_decode(p, rest, &pair);
		if (!cgi_named(rw, p, rest)) {
			memcpy(o, p, (size_t)n);
			o += n;
		}
	}
	for (i = 0; i < rw->n; i++) {
		nv = &rw->v[i];
		vlen = nv->len[0] + nv->len[1];
		o += cgi_lenenc(o, strlen(nv->name));
		o += cgi_lenenc(o, vlen);
		memcpy(o, nv->name, strlen(nv->name));
		o += strlen(nv->name);
		if (nv->len[0] > 0)
			memcpy(o, nv->p[0], nv->len[0]);
		if (nv->len[1] > 0)
			memcpy(o + nv->len[0], nv->p[1], nv->len[1]);
		o += vlen;
	}
	free(*buf);
	*buf = out;
	*len = *size = need;
	return (1);
}

int
cgi_params_normalize(uint8_t **buf, size_t *len, size_t *size, int flags,
    enum cgi_ftype (*probe)(const char *, void *), void *arg)
{
	struct cgi_str		 v[CGI_NVARS];
	struct cgi_rewrite	 rw;
	const struct cgi_str	*sf = &v[CGI_SCRIPT_FILENAME];
	size_t			 off, n;
	int			 r;

	if (cgi_read(*buf, *len, v) == -1 || !sf->set)
		return (0);	/* the caller's parser reports it */
	if ((r = cgi_proxy_strip(sf->p, sf->len, &off, &n)) == 0 ||
	    (off == 0 && n == sf->len))
		return (0);
	rw.n = 0;
	if (r == 1 && (flags & (CGI_PHP | CGI_FIX_PATHINFO)) ==
	    (CGI_PHP | CGI_FIX_PATHINFO))
		cgi_split(&rw, v, sf->p + off, n, probe, arg);
	else
		cgi_set(&rw, "SCRIPT_FILENAME", sf->p + off, n, NULL, 0);
	if ((r = cgi_apply(buf, len, size, &rw)) == -1)
		errno = ENOMEM;
	return (r);
}

int
cgi_script(const uint8_t *params, size_t len, int flags,
    enum cgi_ftype (*probe)(const char *, void *), void *arg,
    const char **script, size_t *scriptlen)
{
	struct cgi_str	 v[CGI_NVARS], s;
	struct cgi_str	*pt = &v[CGI_PATH_TRANSLATED];
	ssize_t		 n;

	if (cgi_read(params, len, v) == -1)
		return (-1);
	/* php-cgi's init_request_info: some servers send only this */
	s = v[CGI_SCRIPT_FILENAME].set ? v[CGI_SCRIPT_FILENAME] : *pt;
	if (!s.set)
		return (0);
	if (flags & CGI_FIX_PATHINFO) {
		/*
		 * Apache's mod_fastcgi (Action): after a redirect, the script
		 * is PATH_TRANSLATED.  PHP-FPM skips this for a request from
		 * mod_proxy_fcgi, php-cgi cannot tell: what it runs counts.
		 */
		if (v[CGI_SCRIPT_FILENAME].set && pt->set &&
		    v[CGI_REDIRECT_URL].set && !cgi_eq(pt, s.p, s.len))
			s = *pt;
		if ((n = cgi_script_len(s.p, s.len, probe, arg)) == -1)
			return (0);
		s.len = (size_t)n;
	} else if (!(flags & CGI_DISCARD_PATH) && pt->set)
		s = *pt;
	if (!cgi_path_valid(s.p, s.len))
		return (0);
	*script = s.p;
	*scriptlen = s.len;
	return (1);
}
