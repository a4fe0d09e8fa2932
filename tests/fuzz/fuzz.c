/* SPDX-License-Identifier: ISC */
/* Helpers of the libFuzzer targets: input fields, JSON check, temp dirs. */

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#define JSON_MAXDEPTH	64

/* A JSON text being checked. */
struct json {
	const unsigned char	*p;
	const unsigned char	*end;
	int			 depth;
};

static uint64_t	fuzz_bytes(struct fuzz_in *, size_t);
static void	json_ws(struct json *);
static int	json_value(struct json *);
static int	json_string(struct json *);
static int	json_hex4(struct json *, unsigned int *);
static int	json_utf8(struct json *);
static int	json_number(struct json *);
static int	json_lit(struct json *, const char *);
static int	rm_one(const char *, const struct stat *, int, struct FTW *);
static int	fd_lowest(void);
static void	rm_tmpdirs(void);

static char	tmpdirs[4][PATH_MAX];	/* removed at exit */
static size_t	ntmpdirs;
static int	fd_low = -1;		/* fuzz_fd_mark() */

void
fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t len)
{
	if ((in->buf = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(in->buf, data, len);
	in->buf[len] = '\0';
	in->off = 0;
	in->end = len;
}

void
fuzz_in_free(struct fuzz_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

/* n bytes (at most 8) from the back, little-endian; 0s past the start. */
static uint64_t
fuzz_bytes(struct fuzz_in *in, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (in->end <= in->off)
			break;
		v |= (uint64_t)(unsigned char)in->buf[--in->end] << (8 * i);
	}
	return (v);
}

uint8_t
fuzz_u8(struct fuzz_in *in)
{
	return ((uint8_t)fuzz_bytes(in, 1));
}

uint32_t
fuzz_u32(struct fuzz_in *in)
{
	return ((uint32_t)fuzz_bytes(in, 4));
}

uint64_t
fuzz_u64(struct fuzz_in *in)
{
	return (fuzz_bytes(in, 8));
}

/*
 * The byte at end is either the copy's final NUL or one that a number
 * already took, so writing a NUL there cuts nothing still to be read.
 */
char *
fuzz_str(struct fuzz_in *in)
{
	char	*s, *nul;

	if (in->off >= in->end)
		return (in->buf + in->end);
	s = in->buf + in->off;
	if ((nul = memchr(s, '\0', in->end - in->off)) != NULL) {
		in->off = (size_t)(nul - in->buf) + 1;
		return (s);
	}
	in->buf[in->end] = '\0';
	in->off = in->end;
	return (s);
}

char *
fuzz_rest(struct fuzz_in *in, size_t *len)
{
	char	*s;

	if (in->off >= in->end) {
		*len = 0;
		return (in->buf + in->end);
	}
	s = in->buf + in->off;
	*len = in->end - in->off;
	in->buf[in->end] = '\0';
	in->off = in->end;
	return (s);
}

static void
json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
json_lit(struct json *j, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return (0);
	j->p += n;
	return (1);
}

static int
json_number(struct json *j)
{
	const unsigned char	*start;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else {
		start = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start || *start == '0')
			return (0);
	}
	if (j->p < j->end && *j->p == '.') {
		start = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return (0);
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		start = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return (0);
	}
	return (1);
}

static int
json_hex4(struct json *j, unsigned int *v)
{
	int	i, c;

	*v = 0;
	if (j->end - j->p < 4)
		return (0);
	for (i = 0; i < 4; i++) {
		c = *j->p++;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (0);
		*v = *v << 4 | (unsigned int)c;
	}
	return (1);
}

/* One UTF-8 character at j->p (>= 0x80): shortest form, no surrogates. */
static int
json_utf8(struct json *j)
{
	unsigned int	c = *j->p, cp, min;
	int		n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (j->end - j->p < n + 1)
		return (0);
	for (i = 1; i <= n; i++) {
		if ((j->p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (j->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	j->p += n + 1;
	return (1);
}

static int
json_string(struct json *j)
{
	unsigned int	u, lo;

	if (j->p >= j->end || *j->p != '"')
		return (0);
	j->p++;
	for (;;) {
		if (j->p >= j->end || *j->p < 0x20)
			return (0);
		if (*j->p == '"') {
			j->p++;
			return (1);
		}
		if (*j->p >= 0x80) {
			if (!json_utf8(j))
				return (0);
			continue;
		}
		if (*j->p != '\\') {
			j->p++;
			continue;
		}
		if (++j->p >= j->end)
			return (0);
		if (*j->p != '\0' && strchr("\"\\/bfnrt", *j->p) != NULL) {
			j->p++;
			continue;
		}
		if (*j->p++ != 'u' || !json_hex4(j, &u))
			return (0);
		if (u >= 0xdc00 && u <= 0xdfff)
			return (0);		/* a lone low surrogate */
		if (u >= 0xd800 && u <= 0xdbff) {
			if (!json_lit(j, "\\u") || !json_hex4(j, &lo) ||
			    lo < 0xdc00 || lo > 0xdfff)
				return (0);
		}
	}
}

static int
json_value(struct json *j)
{
	unsigned char	close;

	json_ws(j);
	if (j->p >= j->end)
		return (0);
	switch (*j->p) {
	case '"':
		return (json_string(j));
	case 't':
		return (json_lit(j, "true"));
	case 'f':
		return (json_lit(j, "false"));
	case 'n':
		return (json_lit(j, "null"));
	case '{':
	case '[':
		break;
	default:
		return (json_number(j));
	}
	if (++j->depth > JSON_MAXDEPTH)
		return (0);
	close = *j->p++ == '{' ? '}' : ']';
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return (1);
	}
	for (;;) {
		if (close == '}') {
			json_ws(j);
			if (!json_string(j))
				return (0);
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return (0);
		}
		if (!json_value(j))
			return (0);
		json_ws(j);
		if (j->p >= j->end)
			return (0);
		if (*j->p == close)
			break;
		if (*j->p++ != ',')
			return (0);
	}
	j->p++;
	j->depth--;
	return (1);
}

int
fuzz_json_valid(const char *s, size_t len)
{
	struct json	j;

	j.p = (const unsigned char *)s;
	j.end = j.p + len;
	j.depth = 0;
	if (json_value(&j) != 1)
		return (0);
	json_ws(&j);
	return (j.p == j.end);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path) == -1 ? -1 : 0);
}

void
fuzz_tmpdir(char *buf, size_t size, const char *what)
{
	const char	*tmp;
	int		 n;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(buf, size, "%s/fpm-fuzz-%s.XXXXXX", tmp, what);
	if (n < 0 || (size_t)n >= size || mkdtemp(buf) == NULL ||
	    ntmpdirs == sizeof(tmpdirs) / sizeof(tmpdirs[0]) ||
	    strlcpy(tmpdirs[ntmpdirs], buf, sizeof(tmpdirs[0])) >=
	    sizeof(tmpdirs[0])) {
		perror("fuzz_tmpdir");
		abort();
	}
	if (ntmpdirs++ == 0)
		atexit(rm_tmpdirs);
}

static void
rm_tmpdirs(void)
{
	size_t	i;

	for (i = 0; i < ntmpdirs; i++)
		fuzz_rmtree(tmpdirs[i]);
}

void
fuzz_path(char *buf, size_t size, const char *dir, const char *name,
    size_t namelen)
{
	size_t	dlen = strlen(dir);

	if (dlen + 1 + namelen >= size)
		abort();
	memcpy(buf, dir, dlen);
	buf[dlen] = '/';
	memcpy(buf + dlen + 1, name, namelen);
	buf[dlen + 1 + namelen] = '\0';
}

void
fuzz_rmtree(const char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
fuzz_fail(const char *what, const char *data, size_t len)
{
	fprintf(stderr, "fuzz: %s\n", what);
	if (data != NULL) {
		fprintf(stderr, "---- %zu bytes:\n", len);
		fwrite(data, 1, len, stderr);
		fprintf(stderr, "\n----\n");
	}
	abort();
}

static int
fd_lowest(void)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		perror("/dev/null");
		abort();
	}
	close(fd);
	return (fd);
}

void
fuzz_fd_mark(void)
{
	fd_low = fd_lowest();
}

void
fuzz_fd_check(void)
{
	char	msg[PATH_MAX + 64], path[32], what[PATH_MAX];
	ssize_t	n;
	int	fd;

	if ((fd = fd_lowest()) > fd_low) {
		/* what it is: a socket, a pipe, a file of which name */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd_low);
		if ((n = readlink(path, what, sizeof(what) - 1)) == -1)
			n = 0;
		what[n] = '\0';
		snprintf(msg, sizeof(msg), "descriptor %d leaked (%s)", fd_low,
		    what);
		fuzz_fail(msg, NULL, 0);
	}
}

void
fuzz_quiet_stdout(void)
{
	int	fd;

	fflush(stdout);
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1) {
		perror("/dev/null");
		abort();
	}
	close(fd);
}
