/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for libcommon/accesslog: an access.format (the
 * administrator's) and a finished request (the client's strings, the
 * supervisor's numbers).  A format is formatted exactly when
 * accesslog_check() accepts it, and a line is one line: no control byte
 * but its final newline, whatever the request held.
 *
 * Input: NUL-separated strings (format, pool, peer, method, uri, query,
 * script, user, a param name and value, a header name and value, then
 * access.suppress_path entries), numbers taken from the end.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/accesslog.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAXPATHS	8

/* What %{NAME}e and %{NAME}o can find: one name each. */
struct lookup {
	const char	*pname, *pvalue;
	const char	*hname, *hvalue;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	*param(void *, const char *);
static const char	*header(void *, const char *);
static void		 check_line(const struct accesslog_buf *);

static const char *
param(void *arg, const char *name)
{
	const struct lookup	*l = arg;

	return (strcmp(name, l->pname) == 0 ? l->pvalue : NULL);
}

static const char *
header(void *arg, const char *name)
{
	const struct lookup	*l = arg;

	return (strcasecmp(name, l->hname) == 0 ? l->hvalue : NULL);
}

/* Empty, or one line: printable but for UTF-8, newline-terminated. */
static void
check_line(const struct accesslog_buf *b)
{
	size_t	i;

	if (b->len == 0)
		return;
	if (b->data == NULL || b->len >= b->size || b->data[b->len] != '\0' ||
	    strlen(b->data) != b->len || b->data[b->len - 1] != '\n')
		abort();
	for (i = 0; i + 1 < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_in		 in;
	struct accesslog_req	 r;
	struct accesslog_buf	 b = { NULL, 0, 0 };
	struct lookup		 l;
	const char		*format, *paths[FUZZ_MAXPATHS];
	char			 err[256], *first;
	size_t			 n, firstlen;
	int			 rc, rc2, i, fn;

	fuzz_in_init(&in, data, len);
	memset(&r, 0, sizeof(r));
	r.pid = (pid_t)fuzz_u32(&in);
	r.master_pid = (pid_t)fuzz_u32(&in);
	r.status = (int)fuzz_u32(&in);
	r.content_length = fuzz_u64(&in);
	r.start.tv_sec = (time_t)fuzz_u64(&in);
	r.end.tv_sec = (time_t)fuzz_u64(&in);
	r.duration.tv_sec = (time_t)fuzz_u64(&in);
	r.duration.tv_nsec = (long)(fuzz_u32(&in) % 1000000000);
	r.cpu_user = fuzz_u32(&in) / 1000.;
	r.cpu_system = fuzz_u32(&in) / 1000.;
	r.memory = fuzz_u64(&in);
	fn = fuzz_u8(&in);
	/* NULL fields print as their documented defaults */
	format = fuzz_str(&in);
	r.pool = fn & 1 ? NULL : fuzz_str(&in);
	r.peer_addr = fn & 2 ? NULL : fuzz_str(&in);
	r.method = fuzz_str(&in);
	r.uri = fn & 4 ? NULL : fuzz_str(&in);
	r.query = fn & 8 ? NULL : fuzz_str(&in);
	r.script_filename = fuzz_str(&in);
	r.user = fn & 16 ? NULL : fuzz_str(&in);
	l.pname = fuzz_str(&in);
	l.pvalue = fuzz_str(&in);
	l.hname = fuzz_str(&in);
	l.hvalue = fuzz_str(&in);
	r.arg = &l;
	r.param = fn & 32 ? NULL : param;
	r.header = fn & 64 ? NULL : header;
	for (n = 0; n < FUZZ_MAXPATHS && in.off < in.end; n++)
		paths[n] = fuzz_str(&in);

	err[0] = '\0';
	rc = accesslog_check(format, err, sizeof(err));
	if (accesslog_check(format, NULL, 0) != rc)
		abort();
	if (rc == -1 && (errno != EINVAL || err[0] == '\0'))
		abort();
	/* twice in one buffer: the second line replaces the first */
	for (i = 0, first = NULL, firstlen = 0; i < 2; i++) {
		rc2 = accesslog_format(&b, format, &r);
		if (rc2 != rc || (rc2 == -1 && b.len != 0))
			abort();
		check_line(&b);
		if (i == 0 && b.len > 0) {
			if ((first = strdup(b.data)) == NULL)
				abort();
			firstlen = b.len;
		} else if (i == 1 && (b.len != firstlen ||
		    (b.len > 0 && strcmp(first, b.data) != 0)))
			abort();
	}
	free(first);
	accesslog_buf_free(&b);

	rc = accesslog_suppressed(paths, n, &r);
	if (rc != 0 && rc != 1)
		abort();
	if (rc == 1 && ((r.query != NULL && *r.query != '\0') ||
	    r.status < 200 || r.status > 299 || r.content_length != 0))
		abort();
	fuzz_in_free(&in);
	return (0);
}
