/* SPDX-License-Identifier: ISC */
/*
 * PHP's ini dialect: lines, sections, entries, values, includes.
 *
 * Why not libinih: Debian's build caps lines at 200 bytes, treats indented
 * lines as continuations of the previous value (Python style; PHP has none),
 * keeps the quotes of "..." values, cuts "a;b" at the ';', has no section
 * callback (a re-opened empty pool is invisible) and no line numbers.  PHP's
 * scanner rules are few, so this file reads lines itself (getline(3): no
 * length limit) and implements them; see ini_value().
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/ini.h"

#define INI_MAXDEPTH	5	/* files open at once, the main one included */

/* A string that grows; after a failed allocation it only remembers that. */
struct ini_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

static int	ini_glob_errno;	/* glob(3)'s errfunc has no context */

static int	ini_vkeep(struct ini *, char ***, size_t *, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));
static void	ini_buf_add(struct ini_buf *, const char *, size_t);
static void	ini_buf_addc(struct ini_buf *, char);
static char	*ini_buf_done(struct ini *, struct ini_buf *, size_t);
static int	ini_expand(struct ini *, const char **, struct ini_buf *);
static int	ini_whole_quoted(const char *);
static char	*ini_subst_pool(struct ini *, char *);
static int	ini_file(struct ini *, const char *);
static FILE	*ini_open(struct ini *, const char *);
static int	ini_line(struct ini *, char *);
static int	ini_section(struct ini *, char *);
static int	ini_include(struct ini *, const char *);
static int	ini_glob_error(const char *, int);
static char	*ini_trim(char *);

int
ini_err(struct ini *ini, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	ini_verrat(ini, ini->file != NULL ? ini->file : "?", ini->line, fmt,
	    ap);
	va_end(ap);
	return (-1);
}

int
ini_errat(struct ini *ini, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	ini_verrat(ini, file, line, fmt, ap);
	va_end(ap);
	return (-1);
}

void
ini_verrat(struct ini *ini, const char *file, int line, const char *fmt,
    va_list ap)
{
	int	n;

	n = snprintf(ini->err, ini->errsize, "[%s:%d] ", file, line);
	if (n < 0 || (size_t)n >= ini->errsize)
		n = 0;
	vsnprintf(ini->err + n, ini->errsize - n, fmt, ap);
	errno = EINVAL;
}

int
ini_oom(struct ini *ini)
{
	snprintf(ini->err, ini->errsize, "out of memory");
	errno = ENOMEM;
	return (-1);
}

int
ini_warn(struct ini *ini, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = ini_vkeep(ini, &ini->warnings, &ini->nwarnings, fmt, ap);
	va_end(ap);
	return (r);
}

int
ini_note(struct ini *ini, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = ini_vkeep(ini, &ini->notes, &ini->nnotes, fmt, ap);
	va_end(ap);
	return (r);
}

/* A message for the caller, kept in the list *vp: 0, or -1 (ini_oom()). */
static int
ini_vkeep(struct ini *ini, char ***vp, size_t *np, const char *fmt,
    va_list ap)
{
	char	*s;
	int	 r;

	if (vasprintf(&s, fmt, ap) == -1)
		return (ini_oom(ini));
	r = ini_strv_push(vp, np, s);
	free(s);
	return (r == -1 ? ini_oom(ini) : 0);
}

static void
ini_buf_add(struct ini_buf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap == 0 ? 64 : b->cap;
		while (b->len + n + 1 > ncap)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
ini_buf_addc(struct ini_buf *b, char c)
{
	ini_buf_add(b, &c, 1);
}

/* Cut at keep and hand the string over; NULL (ini_oom()) after a failure. */
static char *
ini_buf_done(struct ini *ini, struct ini_buf *b, size_t keep)
{
	char	*s;

	if (b->oom) {
		free(b->p);
		ini_oom(ini);
		return (NULL);
	}
	if (b->p == NULL) {
		if ((s = strdup("")) == NULL)
			ini_oom(ini);
		return (s);
	}
	b->p[keep] = '\0';
	return (b->p);
}

/*
 * At "${": append the environment variable (empty when unset); PHP 8.3's
 * "${VAR:-default}" gives default when VAR is unset or empty.
 */
static int
ini_expand(struct ini *ini, const char **sp, struct ini_buf *b)
{
	const char	*s = *sp + 2, *e, *dflt, *v;
	char		*name, *colon;

	if ((e = strchr(s, '}')) == NULL)
		return (ini_err(ini, "unterminated '${' in value"));
	if ((name = strndup(s, e - s)) == NULL)
		return (ini_oom(ini));
	dflt = NULL;
	if ((colon = strstr(name, ":-")) != NULL) {
		*colon = '\0';
		dflt = colon + 2;
	}
	v = getenv(name);
	if (dflt != NULL && (v == NULL || *v == '\0'))
		v = dflt;
	if (v != NULL)
		ini_buf_add(b, v, strlen(v));
	free(name);
	*sp = e + 1;
	return (0);
}

/*
 * One scanner for both kinds of value (ini.h).  q is the open quote: inside
 * "..." a backslash escapes only " \ $, inside '...' nothing is special; a
 * raw value keeps its quotes, and a backslash outside '...' keeps the
 * character behind it (';', a quote) from the scanner, for the split.
 * Trailing blanks outside quotes are cut (keep).
 */
char *
ini_value(struct ini *ini, const char *s, int raw)
{
	struct ini_buf	 b = { NULL, 0, 0, 0 };
	size_t		 keep = 0;
	char		 q = '\0';

	while (*s == ' ' || *s == '\t')
		s++;
	if (raw && ini_whole_quoted(s))
		raw = 0;
	while (*s != '\0' && (q != '\0' || *s != ';')) {
		if (q != '\'' && *s == '$' && s[1] == '{') {
			if (ini_expand(ini, &s, &b) == -1)
				goto fail;
		} else if (*s == '\\' && s[1] != '\0' && (raw ? q != '\'' :
		    q == '"' && strchr("\"\\$", s[1]) != NULL)) {
			if (raw)
				ini_buf_addc(&b, *s);
			ini_buf_addc(&b, s[1]);
			s += 2;
		} else if ((*s == '"' || *s == '\'') && (q == '\0' || q == *s)) {
			q = q == '\0' ? *s : '\0';
			if (raw)
				ini_buf_addc(&b, *s);
			s++;
		} else if (*s == ' ' || *s == '\t') {
			ini_buf_addc(&b, *s++);
			continue;		/* not kept at the end */
		} else
			ini_buf_addc(&b, *s++);
		keep = b.len;
	}
	if (q != '\0' && !raw) {
		ini_err(ini, "unterminated quoted string");
		goto fail;
	}
	return (ini_buf_done(ini, &b, keep));
fail:
	free(b.p);
	return (NULL);
}

/* Non-zero when s is one "..." string, then maybe blanks or a comment. */
static int
ini_whole_quoted(const char *s)
{
	if (*s++ != '"')
		return (0);
	for (; *s != '"'; s++) {
		if (*s == '\0')
			return (0);
		if (*s == '\\' && s[1] != '\0')
			s++;
	}
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	return (*s == '\0' || *s == ';');
}

/* Replace each "$pool" in v (consumed) by ini->pool; NULL on error. */
static char *
ini_subst_pool(struct ini *ini, char *v)
{
	struct ini_buf	 b = { NULL, 0, 0, 0 };
	const char	*s;
	char		*hit;

	if (strstr(v, "$pool") == NULL)
		return (v);
	if (ini->pool == NULL) {
		free(v);
		ini_err(ini, "Can't use '$pool' when the pool is not defined");
		return (NULL);
	}
	for (s = v; (hit = strstr(s, "$pool")) != NULL; s = hit + 5) {
		ini_buf_add(&b, s, hit - s);
		ini_buf_add(&b, ini->pool, strlen(ini->pool));
	}
	ini_buf_add(&b, s, strlen(s));
	free(v);
	return (ini_buf_done(ini, &b, b.len));
}

int
ini_parse(struct ini *ini, const char *path)
{
	ini->pool = NULL;
	ini->file = NULL;
	ini->line = 0;
	ini->depth = 0;
	if (ini->errsize > 0)
		ini->err[0] = '\0';
	return (ini_file(ini, path));
}

void
ini_free(struct ini *ini)
{
	ini_strv_free(ini->files);
	ini_strv_free(ini->warnings);
	ini_strv_free(ini->notes);
	ini->files = ini->warnings = ini->notes = NULL;
	ini->nfiles = ini->nwarnings = ini->nnotes = 0;
}

static int
ini_file(struct ini *ini, const char *path)
{
	FILE		*fp;
	const char	*ofile = ini->file;
	char		*line = NULL, *s;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 oline = ini->line, r = 0, saved;

	if (ini->depth >= INI_MAXDEPTH)
		return (ini_err(ini, "failed to include more than %d files "
		    "recursively", INI_MAXDEPTH));
	if ((fp = ini_open(ini, path)) == NULL)
		return (-1);
	/* error messages and the caller's records outlive the include's glob */
	if (ini_strv_push(&ini->files, &ini->nfiles, path) == -1) {
		fclose(fp);
		return (ini_oom(ini));
	}
	ini->depth++;
	ini->file = ini->files[ini->nfiles - 1];
	ini->line = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		ini->line++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		s = line;
		if (ini->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;			/* a UTF-8 BOM */
		if ((r = ini_line(ini, s)) == -1)
			break;
	}
	if (r == 0 && ferror(fp)) {
		saved = errno;
		snprintf(ini->err, ini->errsize, "cannot read %s: %s", path,
		    strerror(saved));
		errno = saved;
		r = -1;
	}
	saved = errno;
	free(line);
	fclose(fp);
	ini->depth--;
	ini->file = ofile;
	ini->line = oline;
	errno = saved;
	return (r);
}

/* fopen(3), or NULL with "cannot open" (at the include's line, if any). */
static FILE *
ini_open(struct ini *ini, const char *path)
{
	FILE	*fp;
	int	 saved;

	if ((fp = fopen(path, "re")) != NULL)
		return (fp);
	saved = errno;
	if (ini->file == NULL)
		snprintf(ini->err, ini->errsize, "cannot open %s: %s", path,
		    strerror(saved));
	else
		snprintf(ini->err, ini->errsize, "[%s:%d] cannot open %s: %s",
		    ini->file, ini->line, path, strerror(saved));
	errno = saved;
	return (NULL);
}

static int
ini_line(struct ini *ini, char *s)
{
	char	*e, *name, *key = NULL, *v;
	int	 r;

	while (isspace((unsigned char)*s))
		s++;
	/* PHP dropped '#' comments in 7.0; we keep them at line start. */
	if (*s == '\0' || *s == ';' || *s == '#')
		return (0);
	if (*s == '[')
		return (ini_section(ini, s + 1));
	for (e = s; *e != '\0' && *e != '=' && *e != ';'; e++)
		;
	if (*e != '=')
		return (ini_err(ini, "syntax error: expected 'name = value'"));
	*e = '\0';
	if (*(name = ini_trim(s)) == '\0')
		return (ini_err(ini, "syntax error: no name before '='"));
	if ((s = strchr(name, '[')) != NULL) {
		*s++ = '\0';
		if ((key = strchr(s, ']')) == NULL || key[1] != '\0')
			return (ini_err(ini, "syntax error: malformed array "
			    "entry '%s['", name));
		*key = '\0';
		key = ini_trim(s);
		name = ini_trim(name);
	}
	v = ini_value(ini, e + 1, key == NULL && ini->raw != NULL &&
	    ini->raw(name));
	if (v == NULL || (v = ini_subst_pool(ini, v)) == NULL)
		return (-1);
	if (key == NULL && strcasecmp(name, "include") == 0)
		r = ini_include(ini, v);
	else
		r = ini->entry(ini, name, key, v);
	free(v);
	return (r);
}

/* s without its blanks: those at the end are cut in place. */
static char *
ini_trim(char *s)
{
	char	*e = s + strlen(s);

	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return (s);
}

static int
ini_section(struct ini *ini, char *s)
{
	char	*e, *t;

	if ((e = strchr(s, ']')) == NULL)
		return (ini_err(ini, "syntax error: missing ']'"));
	for (t = e + 1; isspace((unsigned char)*t); t++)
		;
	if (*t != '\0' && *t != ';' && *t != '#')
		return (ini_err(ini, "syntax error: unexpected text after ']'"));
	*e = '\0';
	if (*(s = ini_trim(s)) == '\0')
		return (ini_err(ini, "empty section name"));
	return (ini->section(ini, s));
}

static int
ini_include(struct ini *ini, const char *pattern)
{
	glob_t	 g;
	char	*pat;
	size_t	 i, len;
	int	 r, saved;

	if (*pattern == '\0')
		return (ini_err(ini, "empty include pattern"));
	if (*pattern == '/')
		pat = strdup(pattern);
	else if (asprintf(&pat, "%s/%s", ini->prefix, pattern) == -1)
		pat = NULL;
	if (pat == NULL)
		return (ini_oom(ini));
	memset(&g, 0, sizeof(g));
	ini_glob_errno = 0;
	r = glob(pat, GLOB_MARK, ini_glob_error, &g);
	if (r == GLOB_NOMATCH) {
		r = ini_warn(ini, "Nothing matches the include pattern '%s' "
		    "from %s at line %d.", pat, ini->file, ini->line);
		globfree(&g);
		free(pat);
		return (r);
	}
	if (r != 0) {
		if (r == GLOB_NOSPACE)
			ini_oom(ini);
		else {
			r = ini_glob_errno != 0 ? ini_glob_errno : EIO;
			ini_err(ini, "cannot expand include pattern '%s': %s",
			    pat, strerror(r));
			errno = r;
		}
		globfree(&g);
		free(pat);
		return (-1);
	}
	r = 0;
	for (i = 0; i < g.gl_pathc && r == 0; i++) {
		len = strlen(g.gl_pathv[i]);
		if (len == 0 || g.gl_pathv[i][len - 1] == '/')
			continue;		/* a directory (GLOB_MARK) */
		r = ini_file(ini, g.gl_pathv[i]);
	}
	saved = errno;
	globfree(&g);
	free(pat);
	errno = saved;
	return (r);
}

/*
 * GLOB_ERR's behaviour (stop on an unreadable directory) except that a
 * directory that does not exist is just "nothing matches", as for a shell.
 */
static int
ini_glob_error(const char *path, int eerrno)
{
	(void)path;
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return (0);
	ini_glob_errno = eerrno;
	return (1);
}

int
ini_strv_push(char ***vp, size_t *np, const char *s)
{
	char	**v, *dup = NULL;

	if (s != NULL && (dup = strdup(s)) == NULL)
		return (-1);
	if ((v = reallocarray(*vp, *np + 2, sizeof(*v))) == NULL) {
		free(dup);
		return (-1);
	}
	*vp = v;
	if (dup != NULL)
		v[(*np)++] = dup;
	v[*np] = NULL;
	return (0);
}

void
ini_strv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
