/* SPDX-License-Identifier: ISC */
/*
 * The access log line, specifier for specifier as PHP-FPM 8.2's fpm_log.c
 * writes it, without its 1024-byte cap and with control bytes escaped.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "libcommon/accesslog.h"

#define ACCESSLOG_TIME_FORMAT	"%d/%b/%Y:%H:%M:%S %z"
#define ACCESSLOG_TIME_MAX	65536	/* strftime(3) output cap */

/* How a string is escaped: see accesslog_put(). */
#define ACCESSLOG_LITERAL	0	/* from the configuration */
#define ACCESSLOG_VALUE		1	/* from the request */

/* One piece of a format: a run of literal text or one conversion. */
struct accesslog_tok {
	char		 conv;		/* '\0': literal text */
	const char	*text;		/* the literal text */
	size_t		 textlen;
	const char	*arg;		/* inside the braces, NULL if none */
	size_t		 arglen;
	int		 unit;		/* %C %d %M: the argument's unit */
};

/* The arguments of %C, %d and %M, matched as PHP-FPM does (strcasecmp). */
struct accesslog_unit {
	const char	*name;
	int		 unit;
};

static int	accesslog_token(const char **, struct accesslog_tok *, char *,
		    size_t);
static int	accesslog_unit(char, const char *, size_t, int *);
static int	accesslog_reserve(struct accesslog_buf *, size_t);
static int	accesslog_put(struct accesslog_buf *, const char *, size_t,
		    int);
static int	accesslog_puts(struct accesslog_buf *, const char *, int);
static int	accesslog_printf(struct accesslog_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	accesslog_lookup(struct accesslog_buf *, const char *(*)(void *,
		    const char *), void *, const char *, size_t, int);
static int	accesslog_time(struct accesslog_buf *, const char *, size_t,
		    time_t);
static int	accesslog_conv(struct accesslog_buf *,
		    const struct accesslog_tok *, const struct accesslog_req *);

/* Unit 0 of each is the default, the one a bare %C, %d or %M uses. */
static const struct accesslog_unit accesslog_cpu[] = {
	{ "total", 0 }, { "user", 1 }, { "system", 2 }, { NULL, 0 }
};
static const struct accesslog_unit accesslog_dur[] = {
	{ "seconds", 0 }, { "milli", 1 }, { "milliseconds", 1 },
	{ "mili", 1 }, { "miliseconds", 1 },	/* PHP-FPM's old spelling */
	{ "micro", 2 }, { "microseconds", 2 }, { NULL, 0 }
};
static const struct accesslog_unit accesslog_mem[] = {
	{ "bytes", 0 }, { "kilo", 1 }, { "kilobytes", 1 }, { "mega", 2 },
	{ "megabytes", 2 }, { NULL, 0 }
};

void
accesslog_buf_free(struct accesslog_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Read the token at *sp and advance *sp past it.  The rules are those of
 * fpm_log_write() in test mode: "%{arg}X", where empty braces count as no
 * argument, %e and %o need one, %C %d %M %t %T may have one and the others
 * must not.  Unlike PHP-FPM, a '%' ending the format is an error (PHP-FPM
 * drops it silently) and so is "%{a}{b}X" (PHP-FPM keeps the last braces).
 */
static int
accesslog_token(const char **sp, struct accesslog_tok *t, char *err,
    size_t errsize)
{
	const char	*s = *sp, *e;

	memset(t, 0, sizeof(*t));
	if (*s != '%') {
		t->text = s;
		t->textlen = strcspn(s, "%");
		*sp = s + t->textlen;
		return (0);
	}
	s++;
	if (*s == '{') {
		/* PHP-FPM also wants a letter after the '}' */
		if ((e = strchr(s + 1, '}')) == NULL || e[1] == '\0') {
			snprintf(err, errsize,
			    "missing closing embrace in the access.format");
			return (-1);
		}
		if (e > s + 1) {
			t->arg = s + 1;
			t->arglen = e - t->arg;
		}
		s = e + 1;
	}
	t->conv = *s;
	switch (*s) {
	case 'C':
	case 'd':
	case 'M':
		if (accesslog_unit(*s, t->arg, t->arglen, &t->unit) == -1) {
			snprintf(err, errsize, "only %s are allowed as a "
			    "modifier for %%%c ('%.*s')", *s == 'C' ?
			    "'total', 'user' or 'system'" : *s == 'd' ?
			    "'seconds', 'milli', 'milliseconds', 'micro' or "
			    "'microseconds'" : "'bytes', 'kilo', 'kilobytes', "
			    "'mega' or 'megabytes'", *s, (int)t->arglen,
			    t->arg);
			return (-1);
		}
		break;
	case 'e':
	case 'o':
		if (t->arg == NULL) {
			snprintf(err, errsize, "the name of the %s must be set "
			    "between embraces for %%%c", *s == 'e' ?
			    "environment variable" : "header", *s);
			return (-1);
		}
		break;
	case 't':
	case 'T':
		break;
	case '%':
	case 'f':
	case 'l':
	case 'm':
	case 'n':
	case 'p':
	case 'P':
	case 'q':
	case 'Q':
	case 'r':
	case 'R':
	case 's':
	case 'u':
		if (t->arg != NULL) {
			snprintf(err, errsize,
			    "embrace is not allowed for modifier %%%c", *s);
			return (-1);
		}
		break;
	case '\0':
		snprintf(err, errsize,
		    "Invalid token in the access.format (%%)");
		return (-1);
	default:
		snprintf(err, errsize,
		    "Invalid token in the access.format (%%%c)", *s);
		return (-1);
	}
	*sp = s + 1;
	return (0);
}

/* Map the argument of %C, %d or %M to its unit; no argument is unit 0. */
static int
accesslog_unit(char conv, const char *arg, size_t arglen, int *unit)
{
	const struct accesslog_unit	*u;

	*unit = 0;
	if (arg == NULL)
		return (0);
	u = conv == 'C' ? accesslog_cpu : conv == 'd' ? accesslog_dur :
	    accesslog_mem;
	for (; u->name != NULL; u++)
		if (strlen(u->name) == arglen &&
		    strncasecmp(u->name, arg, arglen) == 0) {
			*unit = u->unit;
			return (0);
		}
	return (-1);
}

int
accesslog_check(const char *format, char *err, size_t errsize)
{
	struct accesslog_tok	 t;
	const char		*s = format;

	while (*s != '\0')
		if (accesslog_token(&s, &t, err, errsize) == -1) {
			errno = EINVAL;
			return (-1);
		}
	return (0);
}

/* Make room for n more bytes and the NUL. */
static int
accesslog_reserve(struct accesslog_buf *b, size_t n)
{
	size_t	 size;
	char	*p;

	if (n < b->size - b->len)
		return (0);
	if (n > SIZE_MAX / 2 - b->len) {
		errno = ENOMEM;
		return (-1);
	}
	for (size = b->size > 0 ? b->size : 256; size - b->len <= n; size *= 2)
		;
	if ((p = realloc(b->data, size)) == NULL)
		return (-1);
	b->data = p;
	b->size = size;
	return (0);
}

/*
 * Append n bytes.  PHP-FPM copies them raw, so a request could write a
 * newline and forge a log line.  We write control bytes (below 0x20 and
 * 0x7f) as \xHH, as nginx and Apache do; in request values '\\' too, so
 * that the escape cannot be faked.  '"' and bytes from 0x80 up (UTF-8)
 * stay raw, as in PHP-FPM.
 */
static int
accesslog_put(struct accesslog_buf *b, const char *s, size_t n, int how)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, extra;

	for (i = 0, extra = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == '\\' && how == ACCESSLOG_VALUE))
			extra += 3;
	if (accesslog_reserve(b, n + extra) == -1)
		return (-1);
	if (extra == 0) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	} else
		for (i = 0; i < n; i++) {
			if (p[i] < 0x20 || p[i] == 0x7f ||
			    (p[i] == '\\' && how == ACCESSLOG_VALUE)) {
				b->data[b->len++] = '\\';
				b->data[b->len++] = 'x';
				b->data[b->len++] = hex[p[i] >> 4];
				b->data[b->len++] = hex[p[i] & 0xf];
			} else
				b->data[b->len++] = p[i];
		}
	b->data[b->len] = '\0';
	return (0);
}

static int
accesslog_puts(struct accesslog_buf *b, const char *s, int how)
{
	return (accesslog_put(b, s, strlen(s), how));
}

/* Append a number; no escaping is needed. */
static int
accesslog_printf(struct accesslog_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[64];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = EINVAL;
		return (-1);
	}
	return (accesslog_put(b, tmp, n, ACCESSLOG_LITERAL));
}

/* %{NAME}e and %{NAME}o: the value, or "-" when there is none. */
static int
accesslog_lookup(struct accesslog_buf *b,
    const char *(*fn)(void *, const char *), void *arg, const char *name,
    size_t namelen, int dash_if_empty)
{
	const char	*v = NULL;
	char		*key;

	if (fn != NULL) {
		if ((key = strndup(name, namelen)) == NULL)
			return (-1);
		v = fn(arg, key);
		free(key);
	}
	if (v == NULL || (dash_if_empty && *v == '\0'))
		v = "-";
	return (accesslog_puts(b, v, ACCESSLOG_VALUE));
}

/*
 * %t and %T: strftime(3) of local time (TZ), PHP-FPM's default format
 * without an argument.  PHP-FPM cuts the result at 128 bytes; we grow
 * the buffer instead, up to ACCESSLOG_TIME_MAX.  A sentinel byte before
 * the format tells an empty result from one that did not fit (after it,
 * it could complete a trailing '%').
 */
static int
accesslog_time(struct accesslog_buf *b, const char *fmt, size_t fmtlen,
    time_t t)
{
	struct tm	 tm;
	char		*f, *out = NULL, *p;
	size_t		 size, n = 0;
	int		 rv = -1;

	if (localtime_r(&t, &tm) == NULL)
		return (accesslog_puts(b, "-", ACCESSLOG_LITERAL));
	if (fmt == NULL) {
		fmt = ACCESSLOG_TIME_FORMAT;
		fmtlen = strlen(fmt);
	}
	if ((f = malloc(fmtlen + 2)) == NULL)
		return (-1);
	f[0] = 'x';
	memcpy(f + 1, fmt, fmtlen);
	f[fmtlen + 1] = '\0';
	for (size = 128; size <= ACCESSLOG_TIME_MAX; size *= 2) {
		if ((p = realloc(out, size)) == NULL)
			goto done;
		out = p;
		/* the format is the administrator's, by design */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		n = strftime(out, size, f, &tm);
#pragma GCC diagnostic pop
		if (n > 0)
			break;
	}
	/* skip the sentinel; an oversized result prints nothing */
	rv = accesslog_put(b, out + 1, n > 0 ? n - 1 : 0, ACCESSLOG_LITERAL);
done:
	free(out);
	free(f);
	return (rv);
}

/* Append one conversion; its token was checked by accesslog_token(). */
static int
accesslog_conv(struct accesslog_buf *b, const struct accesslog_tok *t,
    const struct accesslog_req *r)
{
	double			 dur, cpu;
	unsigned long long	 us;
	time_t			 sec;
	long			 usec;

	/* PHP-FPM keeps durations as a struct timeval */
	sec = r->duration.tv_sec;
	usec = r->duration.tv_nsec / 1000;
	if (sec < 0 || usec < 0)
		sec = usec = 0;
	switch (t->conv) {
	case '%':
		return (accesslog_puts(b, "%", ACCESSLOG_LITERAL));
	case 'C':
		cpu = t->unit == 1 ? r->cpu_user : t->unit == 2 ?
		    r->cpu_system : r->cpu_user + r->cpu_system;
		dur = sec + usec / 1000000.;
		/* PHP-FPM divides by zero here and prints inf or -nan */
		return (accesslog_printf(b, "%.2f",
		    dur > 0 ? cpu / dur * 100. : 0.));
	case 'd':
		if (t->unit == 1)
			return (accesslog_printf(b, "%.3f",
			    sec * 1000. + usec / 1000.));
		if (t->unit == 2) {
			us = (unsigned long long)sec * 1000000ULL + usec;
			return (accesslog_printf(b, "%llu", us));
		}
		return (accesslog_printf(b, "%.3f", sec + usec / 1000000.));
	case 'e':
		return (accesslog_lookup(b, r->param, r->arg, t->arg,
		    t->arglen, 0));
	case 'f':
		return (accesslog_puts(b, r->script_filename != NULL &&
		    *r->script_filename != '\0' ? r->script_filename : "-",
		    ACCESSLOG_VALUE));
	case 'l':
		return (accesslog_printf(b, "%llu", r->content_length));
	case 'm':
		return (accesslog_puts(b, r->method != NULL &&
		    *r->method != '\0' ? r->method : "-", ACCESSLOG_VALUE));
	case 'M':
		return (accesslog_printf(b, "%llu", t->unit == 1 ?
		    r->memory / 1024 : t->unit == 2 ? r->memory / 1024 / 1024 :
		    r->memory));
	case 'n':
		return (accesslog_puts(b, r->pool != NULL && *r->pool != '\0' ?
		    r->pool : "-", ACCESSLOG_VALUE));
	case 'o':
		return (accesslog_lookup(b, r->header, r->arg, t->arg,
		    t->arglen, 1));
	case 'p':
		return (accesslog_printf(b, "%ld", (long)r->pid));
	case 'P':
		return (accesslog_printf(b, "%ld", (long)r->master_pid));
	case 'q':
		return (accesslog_puts(b, r->query != NULL ? r->query : "",
		    ACCESSLOG_VALUE));
	case 'Q':
		return (accesslog_puts(b, r->query != NULL &&
		    *r->query != '\0' ? "?" : "", ACCESSLOG_LITERAL));
	case 'r':
		return (accesslog_puts(b, r->uri != NULL ? r->uri : "",
		    ACCESSLOG_VALUE));
	case 'R':
		return (accesslog_puts(b, r->peer_addr != NULL ?
		    r->peer_addr : "-", ACCESSLOG_VALUE));
	case 's':
		return (accesslog_printf(b, "%d", r->status));
	case 't':
		return (accesslog_time(b, t->arg, t->arglen, r->start.tv_sec));
	case 'T':
		return (accesslog_time(b, t->arg, t->arglen, r->end.tv_sec));
	case 'u':
		return (accesslog_puts(b, r->user != NULL ? r->user : "",
		    ACCESSLOG_VALUE));
	}
	errno = EINVAL;		/* NOTREACHED: accesslog_token() checked */
	return (-1);
}

int
accesslog_format(struct accesslog_buf *b, const char *format,
    const struct accesslog_req *r)
{
	struct accesslog_tok	 t;
	const char		*s = format;

	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
	while (*s != '\0') {
		if (accesslog_token(&s, &t, NULL, 0) == -1) {
			errno = EINVAL;
			goto fail;
		}
		if (t.conv == '\0') {
			if (accesslog_put(b, t.text, t.textlen,
			    ACCESSLOG_LITERAL) == -1)
				goto fail;
		} else if (accesslog_conv(b, &t, r) == -1)
			goto fail;
	}
	/* PHP-FPM: "line\n" in one write, nothing for an empty line */
	if (b->len > 0) {
		if (accesslog_reserve(b, 1) == -1)
			goto fail;
		b->data[b->len++] = '\n';
		b->data[b->len] = '\0';
	}
	return (0);
fail:
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
	return (-1);
}

int
accesslog_suppressed(const char *const *paths, size_t n,
    const struct accesslog_req *r)
{
	size_t	 i;

	/* the order of fpm_access_log_suppress() */
	if (r->query != NULL && *r->query != '\0')
		return (0);
	if (r->method == NULL || (strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0))
		return (0);
	if (r->status < 200 || r->status > 299)
		return (0);
	if (r->content_length > 0)
		return (0);
	for (i = 0; i < n; i++)
		if (paths[i] != NULL && strcmp(paths[i], r->uri != NULL ?
		    r->uri : "") == 0)
			return (1);
	return (0);
}
