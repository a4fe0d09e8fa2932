/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/fcgi: round trips, every split, hostile input. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/fcgi.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define BIGLEN		300000

/* What a decoded stream looked like, record by record. */
struct rec {
	struct fcgi_header	 hdr;
	size_t			 clen;		/* content bytes seen */
	int			 ended;		/* RECORD_END seen */
};

struct trace {
	struct rec	 recs[64];
	size_t		 nrec;
	uint8_t		*content;		/* all content, concatenated */
	size_t		 clen;
	size_t		 cap;
	int		 err;			/* fcgi_decode() returned -1 */
	int		 bad;			/* an event out of order */
};

static int	check(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	trace_init(struct trace *, uint8_t *, size_t);
static size_t	feed(struct fcgi_decoder *, struct trace *, const uint8_t *,
		    size_t);
static int	trace_eq(const struct trace *, const struct trace *);
static size_t	build_stream(uint8_t *);
static int	nv_count(const struct fcgi_nv *, void *);
static int	nv_stop(const struct fcgi_nv *, void *);
static int	gv_collect(const struct fcgi_nv *, void *);

static int	test_header(void);
static int	test_types(void);
static int	test_byte_at_a_time(void);
static int	test_all_splits(void);
static int	test_padding_zero(void);
static int	test_bad_version(void);
static int	test_nv_lengths(void);
static int	test_nv_truncated(void);
static int	test_nv_limits(void);
static int	test_nv_foreach(void);
static int	test_record_encode(void);
static int	test_stream(void);
static int	test_get_values(void);
static int	test_discrete_errors(void);
static int	test_type_name(void);

static const struct {
	int		(*fn)(void);
	const char	*name;
} tests[] = {
	{ test_header, "header encode/decode" },
	{ test_types, "every record type round trips through the decoder" },
	{ test_byte_at_a_time, "decoder fed one byte at a time" },
	{ test_all_splits, "decoder fed every two- and three-way split" },
	{ test_padding_zero, "padding and zero-length records" },
	{ test_bad_version, "bad version kills the decoder" },
	{ test_nv_lengths, "nv pairs with 1- and 4-byte lengths" },
	{ test_nv_truncated, "truncated nv pairs" },
	{ test_nv_limits, "over-limit nv lengths" },
	{ test_nv_foreach, "nv_foreach walks, stops, rejects" },
	{ test_record_encode, "record_encode padding, limits, in place" },
	{ test_stream, "stream_encode 0, 1, 65535, 65536, 200000 bytes" },
	{ test_get_values, "GET_VALUES answering" },
	{ test_discrete_errors, "begin/end request decode errors" },
	{ test_type_name, "type names" },
};

static uint8_t	big[BIGLEN];
static uint8_t	enc[BIGLEN + 4096];
static uint8_t	out1[BIGLEN], out2[BIGLEN];

/* Print a diagnostic when cond is false; returns cond. */
static int
check(int cond, const char *fmt, ...)
{
	va_list	 ap;

	if (!cond) {
		printf("# failed: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	return (cond);
}

static void
trace_init(struct trace *t, uint8_t *content, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->content = content;
	t->cap = cap;
}

/*
 * Run the decoder over buf[0..len) as a proxy would, recording what it
 * reports; returns the bytes consumed (len unless it died).
 */
static size_t
feed(struct fcgi_decoder *d, struct trace *t, const uint8_t *buf, size_t len)
{
	enum fcgi_event	 ev;
	const uint8_t	*data;
	size_t		 off, dlen;
	ssize_t		 n;
	struct rec	*r;

	off = 0;
	for (;;) {
		n = fcgi_decode(d, buf + off, len - off, &ev, &data, &dlen);
		if (n < 0) {
			t->err = 1;
			return (off);
		}
		if ((size_t)n > len - off) {
			t->bad = 1;
			return (off);
		}
		off += (size_t)n;
		r = t->nrec > 0 ? &t->recs[t->nrec - 1] : NULL;
		switch (ev) {
		case FCGI_EV_NEED_MORE:
			if (off != len)
				t->bad = 1;
			return (off);
		case FCGI_EV_HEADER:
			if ((r != NULL && !r->ended) ||
			    t->nrec == NELEM(t->recs)) {
				t->bad = 1;
				return (off);
			}
			r = &t->recs[t->nrec++];
			r->hdr = d->hdr;
			r->clen = 0;
			r->ended = 0;
			break;
		case FCGI_EV_CONTENT:
			if (r == NULL || r->ended || dlen == 0 ||
			    data != buf + off - dlen ||
			    t->clen + dlen > t->cap) {
				t->bad = 1;
				return (off);
			}
			memcpy(t->content + t->clen, data, dlen);
			t->clen += dlen;
			r->clen += dlen;
			break;
		case FCGI_EV_RECORD_END:
			if (r == NULL || r->ended ||
			    r->clen != r->hdr.content_length ||
			    !fcgi_decoder_idle(d)) {
				t->bad = 1;
				return (off);
			}
			r->ended = 1;
			break;
		}
	}
}

static int
trace_eq(const struct trace *a, const struct trace *b)
{
	const struct rec	*ra, *rb;
	size_t			 i;

	if (a->err != b->err || a->bad || b->bad || a->nrec != b->nrec ||
	    a->clen != b->clen || memcmp(a->content, b->content, a->clen) != 0)
		return (0);
	for (i = 0; i < a->nrec; i++) {
		ra = &a->recs[i];
		rb = &b->recs[i];
		if (ra->hdr.version != rb->hdr.version ||
		    ra->hdr.type != rb->hdr.type ||
		    ra->hdr.request_id != rb->hdr.request_id ||
		    ra->hdr.content_length != rb->hdr.content_length ||
		    ra->hdr.padding_length != rb->hdr.padding_length ||
		    ra->clen != rb->clen || ra->ended != rb->ended)
			return (0);
	}
	return (1);
}

/* A small request + response with padding, empty records and management. */
static size_t
build_stream(uint8_t *buf)
{
	static const char	 params[] = "\x0b\x02SERVER_PORT80";
	size_t			 off;

	off = 0;
	off += fcgi_begin_request_encode(buf + off, 64, 1, FCGI_RESPONDER,
	    FCGI_KEEP_CONN);
	off += fcgi_record_encode(buf + off, 64, FCGI_PARAMS, 1, params,
	    sizeof(params) - 1);
	off += fcgi_record_encode(buf + off, 64, FCGI_PARAMS, 1, NULL, 0);
	/* A record with odd padding, as a non-aligning sender may produce. */
	fcgi_header_encode(buf + off, FCGI_STDIN, 1, 3, 13);
	memcpy(buf + off + 8, "abc", 3);
	memset(buf + off + 11, 0xee, 13);
	off += 8 + 3 + 13;
	/* Empty content, padding only. */
	fcgi_header_encode(buf + off, FCGI_STDIN, 1, 0, 5);
	memset(buf + off + 8, 0, 5);
	off += 8 + 5;
	off += fcgi_record_encode(buf + off, 64, FCGI_STDOUT, 1,
	    "Status: 200\r\n\r\nhello", 20);
	off += fcgi_unknown_type_encode(buf + off, 64, 42);
	off += fcgi_end_request_encode(buf + off, 64, 1, 0,
	    FCGI_REQUEST_COMPLETE);
	return (off);
}

static int
test_header(void)
{
	struct fcgi_header	 h;
	uint8_t			 b[8];
	int			 ok = 1;

	fcgi_header_encode(b, FCGI_STDOUT, 0xbeef, 0xfff8, 7);
	ok &= check(memcmp(b, "\x01\x06\xbe\xef\xff\xf8\x07\x00", 8) == 0,
	    "header bytes");
	ok &= check(fcgi_header_decode(b, &h) == 0, "decode");
	ok &= check(h.version == 1 && h.type == FCGI_STDOUT &&
	    h.request_id == 0xbeef && h.content_length == 0xfff8 &&
	    h.padding_length == 7, "fields");
	return (ok);
}

/* Each type 1..11 (and an unknown one) with content through the decoder. */
static int
test_types(void)
{
	struct fcgi_decoder	 d;
	struct trace		 t;
	uint8_t			 buf[64], content[64];
	size_t			 n;
	unsigned int		 type;
	int			 ok = 1;

	for (type = 0; type <= FCGI_MAXTYPE + 1; type++) {
		n = fcgi_record_encode(buf, sizeof(buf), (uint8_t)type,
		    (uint16_t)type, "0123456789", 10);
		ok &= check(n == 24, "type %u size %zu", type, n);
		fcgi_decoder_init(&d);
		trace_init(&t, content, sizeof(content));
		ok &= check(feed(&d, &t, buf, n) == n && !t.err && !t.bad,
		    "type %u feed", type);
		ok &= check(t.nrec == 1 && t.recs[0].ended &&
		    t.recs[0].hdr.type == type &&
		    t.recs[0].hdr.request_id == type &&
		    t.recs[0].hdr.padding_length == 6 && t.clen == 10 &&
		    memcmp(content, "0123456789", 10) == 0,
		    "type %u decoded", type);
	}
	return (ok);
}

static int
test_byte_at_a_time(void)
{
	struct fcgi_decoder	 d;
	struct trace		 whole, bytes;
	uint8_t			 buf[512], c1[512], c2[512];
	size_t			 len, i;
	int			 ok = 1;

	len = build_stream(buf);
	fcgi_decoder_init(&d);
	trace_init(&whole, c1, sizeof(c1));
	ok &= check(feed(&d, &whole, buf, len) == len, "whole feed");
	ok &= check(whole.nrec == 8 && !whole.err && !whole.bad,
	    "8 records, got %zu", whole.nrec);
	ok &= check(fcgi_decoder_idle(&d), "idle at the end");

	fcgi_decoder_init(&d);
	trace_init(&bytes, c2, sizeof(c2));
	for (i = 0; i < len; i++) {
		ok &= check(feed(&d, &bytes, buf + i, 1) == 1, "byte %zu", i);
		/* Empty feeds in between change nothing. */
		feed(&d, &bytes, buf + i, 0);
	}
	ok &= check(trace_eq(&whole, &bytes), "same events");
	ok &= check(fcgi_decoder_idle(&d), "idle at the end");
	return (ok);
}

static int
test_all_splits(void)
{
	struct fcgi_decoder	 d;
	struct trace		 whole, t;
	uint8_t			 buf[512], c1[512], c2[512];
	size_t			 len, i, j;
	int			 ok = 1;

	len = build_stream(buf);
	fcgi_decoder_init(&d);
	trace_init(&whole, c1, sizeof(c1));
	feed(&d, &whole, buf, len);

	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			fcgi_decoder_init(&d);
			trace_init(&t, c2, sizeof(c2));
			feed(&d, &t, buf, i);
			feed(&d, &t, buf + i, j - i);
			feed(&d, &t, buf + j, len - j);
			if (!check(trace_eq(&whole, &t), "split %zu,%zu",
			    i, j))
				return (0);
		}
	}
	return (ok);
}

static int
test_padding_zero(void)
{
	struct fcgi_decoder	 d;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen;
	uint8_t			 buf[32];
	int			 ok = 1;

	/* clen 0, plen 0: HEADER, then RECORD_END consuming nothing. */
	fcgi_header_encode(buf, FCGI_STDOUT, 1, 0, 0);
	fcgi_decoder_init(&d);
	ok &= check(fcgi_decoder_idle(&d), "idle after init");
	ok &= check(fcgi_decode(&d, buf, 8, &ev, &data, &dlen) == 8 &&
	    ev == FCGI_EV_HEADER, "header");
	ok &= check(!fcgi_decoder_idle(&d), "not idle inside a record");
	ok &= check(fcgi_decode(&d, buf + 8, 0, &ev, &data, &dlen) == 0 &&
	    ev == FCGI_EV_RECORD_END, "record end from an empty buffer");
	ok &= check(fcgi_decode(&d, buf + 8, 0, &ev, &data, &dlen) == 0 &&
	    ev == FCGI_EV_NEED_MORE, "then need more");

	/* clen 2, plen 3: content, then the padding in two feeds. */
	fcgi_header_encode(buf, FCGI_STDOUT, 1, 2, 3);
	memcpy(buf + 8, "hi\xff\xff\xff", 5);
	ok &= check(fcgi_decode(&d, buf, 13, &ev, &data, &dlen) == 8 &&
	    ev == FCGI_EV_HEADER, "header 2");
	ok &= check(fcgi_decode(&d, buf + 8, 3, &ev, &data, &dlen) == 2 &&
	    ev == FCGI_EV_CONTENT && data == buf + 8 && dlen == 2,
	    "content stops at clen");
	ok &= check(fcgi_decode(&d, buf + 10, 1, &ev, &data, &dlen) == 1 &&
	    ev == FCGI_EV_NEED_MORE, "partial padding");
	ok &= check(fcgi_decode(&d, buf + 11, 5, &ev, &data, &dlen) == 2 &&
	    ev == FCGI_EV_RECORD_END, "rest of padding, not beyond");
	ok &= check(fcgi_decoder_idle(&d), "idle");

	/* A partial header is not idle. */
	ok &= check(fcgi_decode(&d, buf, 3, &ev, &data, &dlen) == 3 &&
	    ev == FCGI_EV_NEED_MORE && !fcgi_decoder_idle(&d),
	    "partial header");
	return (ok);
}

static int
test_bad_version(void)
{
	struct fcgi_decoder	 d;
	struct fcgi_header	 h;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 dlen;
	uint8_t			 buf[16];
	int			 ok = 1;

	fcgi_header_encode(buf, FCGI_STDOUT, 1, 0, 0);
	buf[0] = 2;
	errno = 0;
	ok &= check(fcgi_header_decode(buf, &h) == -1 && errno == EPROTO,
	    "header_decode");
	buf[0] = 0;
	ok &= check(fcgi_header_decode(buf, &h) == -1, "version 0");

	/* Split header: the error comes on the byte that completes it. */
	fcgi_decoder_init(&d);
	ok &= check(fcgi_decode(&d, buf, 5, &ev, &data, &dlen) == 5 &&
	    ev == FCGI_EV_NEED_MORE, "first part");
	errno = 0;
	ok &= check(fcgi_decode(&d, buf + 5, 3, &ev, &data, &dlen) == -1 &&
	    errno == EPROTO, "bad version");
	errno = 0;
	ok &= check(fcgi_decode(&d, buf, 8, &ev, &data, &dlen) == -1 &&
	    errno == EPROTO, "stays dead");
	ok &= check(!fcgi_decoder_idle(&d), "dead is not idle");
	fcgi_decoder_init(&d);
	buf[0] = 1;
	ok &= check(fcgi_decode(&d, buf, 8, &ev, &data, &dlen) == 8 &&
	    ev == FCGI_EV_HEADER, "init revives");
	return (ok);
}

static int
test_nv_lengths(void)
{
	static const size_t	 lens[] = { 0, 1, 127, 128, 300, 70000 };
	static uint8_t		 name[70000], value[70000], buf[140016];
	struct fcgi_nv		 nv;
	size_t			 i, j, n, want;
	ssize_t			 r;
	int			 ok = 1;

	for (i = 0; i < sizeof(name); i++) {
		name[i] = 'a' + i % 26;
		value[i] = (uint8_t)(i * 7);
	}
	for (i = 0; i < NELEM(lens); i++) {
		for (j = 0; j < NELEM(lens); j++) {
			want = (lens[i] < 128 ? 1 : 4) +
			    (lens[j] < 128 ? 1 : 4) + lens[i] + lens[j];
			ok &= check(fcgi_nv_size(lens[i], lens[j]) == want,
			    "size %zu,%zu", lens[i], lens[j]);
			ok &= check(fcgi_nv_encode(buf, want - 1, name,
			    lens[i], value, lens[j]) == 0, "no room");
			n = fcgi_nv_encode(buf, sizeof(buf), name, lens[i],
			    value, lens[j]);
			ok &= check(n == want, "encode %zu,%zu", lens[i],
			    lens[j]);
			ok &= check((buf[0] & 0x80) == (lens[i] >= 128 ?
			    0x80 : 0), "name length form");
			r = fcgi_nv_decode(buf, n, &nv);
			ok &= check(r == (ssize_t)n && nv.namelen == lens[i] &&
			    nv.valuelen == lens[j] &&
			    memcmp(nv.name, name, lens[i]) == 0 &&
			    memcmp(nv.value, value, lens[j]) == 0,
			    "decode %zu,%zu", lens[i], lens[j]);
		}
	}
	/* Known bytes: 4-byte name length 128, 1-byte value length 1. */
	memset(buf, 'n', sizeof(buf));
	memcpy(buf, "\x80\x00\x00\x80\x01", 5);
	ok &= check(fcgi_nv_decode(buf, 5 + 128 + 1, &nv) == 134 &&
	    nv.namelen == 128 && nv.valuelen == 1 && nv.name == buf + 5 &&
	    nv.value == buf + 133, "wire layout 41");
	/* Non-minimal 4-byte form of a small length is accepted. */
	memcpy(buf, "\x80\x00\x00\x02\x80\x00\x00\x01xyz", 11);
	ok &= check(fcgi_nv_decode(buf, 11, &nv) == 11 && nv.namelen == 2 &&
	    nv.valuelen == 1 && memcmp(nv.value, "z", 1) == 0,
	    "non-minimal form");
	return (ok);
}

static int
test_nv_truncated(void)
{
	struct fcgi_nv	 nv;
	uint8_t		 buf[512], name[200];
	size_t		 n, cut;
	int		 ok = 1;

	memset(name, 'x', sizeof(name));
	n = fcgi_nv_encode(buf, sizeof(buf), name, 200, "v", 1);
	ok &= check(n == 206, "encoded");
	for (cut = 0; cut < n; cut++)
		ok &= check(fcgi_nv_decode(buf, cut, &nv) == 0,
		    "cut at %zu", cut);
	n = fcgi_nv_encode(buf, sizeof(buf), "k", 1, name, 200);
	for (cut = 0; cut < n; cut++)
		ok &= check(fcgi_nv_decode(buf, cut, &nv) == 0,
		    "value cut at %zu", cut);
	return (ok);
}

static int
test_nv_limits(void)
{
	struct fcgi_nv	 nv;
	uint8_t		 buf[16];
	int		 ok = 1;

	/* Refused as soon as the length is readable, data not yet there. */
	memcpy(buf, "\x80\x10\x00\x01\x00", 5);		/* 1 MiB + 1 */
	errno = 0;
	ok &= check(fcgi_nv_decode(buf, 5, &nv) == -1 && errno == EPROTO,
	    "name over 1 MiB");
	memcpy(buf, "\x01\xff\xff\xff\xffn", 6);	/* 2^31 - 1 */
	errno = 0;
	ok &= check(fcgi_nv_decode(buf, 6, &nv) == -1 && errno == EPROTO,
	    "value 2^31-1");
	memcpy(buf, "\x80\x10\x00\x00\x00", 5);		/* exactly 1 MiB */
	ok &= check(fcgi_nv_decode(buf, 5, &nv) == 0, "1 MiB is allowed");

	ok &= check(fcgi_nv_size(FCGI_NV_ENCMAX, 0) ==
	    (size_t)FCGI_NV_ENCMAX + 5, "encodable max");
	ok &= check(fcgi_nv_size((size_t)FCGI_NV_ENCMAX + 1, 0) == 0,
	    "2^31 name not encodable");
	ok &= check(fcgi_nv_size(0, SIZE_MAX) == 0, "SIZE_MAX value");
	ok &= check(fcgi_nv_encode(buf, sizeof(buf), "", SIZE_MAX, "", 0) ==
	    0, "encode refuses");
	return (ok);
}

static int
nv_count(const struct fcgi_nv *nv, void *arg)
{
	size_t	*n = arg;

	(void)nv;
	(*n)++;
	return (0);
}

static int
nv_stop(const struct fcgi_nv *nv, void *arg)
{
	(void)arg;
	return (nv->namelen == 4 && memcmp(nv->name, "STOP", 4) == 0 ? 7 : 0);
}

static int
test_nv_foreach(void)
{
	uint8_t	 buf[256];
	size_t	 off, n;
	int	 ok = 1;

	off = 0;
	off += fcgi_nv_encode(buf + off, sizeof(buf) - off, "A", 1, "1", 1);
	off += fcgi_nv_encode(buf + off, sizeof(buf) - off, "STOP", 4, "", 0);
	off += fcgi_nv_encode(buf + off, sizeof(buf) - off, "", 0, "", 0);
	n = 0;
	ok &= check(fcgi_nv_foreach(buf, off, nv_count, &n) == 0 && n == 3,
	    "three pairs");
	n = 0;
	ok &= check(fcgi_nv_foreach(buf, 0, nv_count, &n) == 0 && n == 0,
	    "empty block");
	ok &= check(fcgi_nv_foreach(buf, off, nv_stop, NULL) == 7,
	    "callback stops");
	n = 0;
	errno = 0;
	ok &= check(fcgi_nv_foreach(buf, off - 1, nv_count, &n) == -1 &&
	    errno == EPROTO && n == 2, "truncated last pair");
	memcpy(buf + off, "\xff\xff\xff\xff\x00", 5);
	errno = 0;
	ok &= check(fcgi_nv_foreach(buf, off + 5, nv_count, &n) == -1 &&
	    errno == EPROTO, "over-limit pair");
	return (ok);
}

static int
test_record_encode(void)
{
	struct fcgi_header	 h;
	size_t			 clen, n;
	int			 ok = 1;

	for (clen = 0; clen <= 17; clen++) {
		memset(enc, 0xaa, 64);
		n = fcgi_record_encode(enc, 64, FCGI_STDIN, 3,
		    "abcdefghijklmnopq", clen);
		ok &= check(n == FCGI_RECORD_SIZE(clen) && n % 8 == 0 &&
		    n - 8 - clen < 8, "clen %zu size %zu", clen, n);
		ok &= check(fcgi_header_decode(enc, &h) == 0 &&
		    h.content_length == clen &&
		    h.padding_length == n - 8 - clen, "clen %zu header", clen);
		ok &= check(memcmp(enc + 8, "abcdefghijklmnopq", clen) == 0 &&
		    memcmp(enc + 8 + clen, "\0\0\0\0\0\0\0", n - 8 - clen) == 0,
		    "clen %zu content and zero padding", clen);
		ok &= check(fcgi_record_encode(enc, n - 1, FCGI_STDIN, 3,
		    "abcdefghijklmnopq", clen) == 0, "clen %zu no room", clen);
	}
	ok &= check(fcgi_record_encode(enc, sizeof(enc), FCGI_STDOUT, 1, big,
	    FCGI_MAX_CONTENT) == 8 + 65535 + 1, "max content");
	ok &= check(fcgi_record_encode(enc, sizeof(enc), FCGI_STDOUT, 1, big,
	    FCGI_MAX_CONTENT + 1) == 0, "over max content");
	/* Content already in place after the header, and overlapping. */
	memcpy(enc + 8, "in place", 8);
	ok &= check(fcgi_record_encode(enc, 64, FCGI_STDOUT, 1, enc + 8, 8) ==
	    16 && memcmp(enc + 8, "in place", 8) == 0, "in place");
	memcpy(enc + 2, "overlap!", 8);
	ok &= check(fcgi_record_encode(enc, 64, FCGI_STDOUT, 1, enc + 2, 8) ==
	    16 && memcmp(enc + 8, "overlap!", 8) == 0, "overlapping");
	return (ok);
}

static int
test_stream(void)
{
	static const size_t	 lens[] = { 0, 1, 65535, 65536, 200000 };
	struct fcgi_decoder	 d;
	struct trace		 t;
	size_t			 i, k, n, want, nrec;
	int			 ok = 1;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + (i >> 9));
	for (i = 0; i < NELEM(lens); i++) {
		nrec = (lens[i] + FCGI_STREAM_CHUNK - 1) / FCGI_STREAM_CHUNK;
		want = fcgi_stream_size(lens[i]);
		ok &= check(want >= lens[i] + 8 * nrec && want % 8 == 0 &&
		    want < lens[i] + 8 * nrec + 8, "size of %zu", lens[i]);
		n = fcgi_stream_encode(enc, sizeof(enc), FCGI_STDOUT, 1, big,
		    lens[i]);
		ok &= check(n == want, "encode %zu: %zu != %zu", lens[i], n,
		    want);
		if (want > 0)
			ok &= check(fcgi_stream_encode(enc, want - 1,
			    FCGI_STDOUT, 1, big, lens[i]) == 0,
			    "%zu: no room", lens[i]);
		fcgi_decoder_init(&d);
		trace_init(&t, out1, sizeof(out1));
		ok &= check(feed(&d, &t, enc, n) == n && !t.err && !t.bad &&
		    fcgi_decoder_idle(&d), "%zu: decodes", lens[i]);
		ok &= check(t.nrec == nrec && t.clen == lens[i] &&
		    memcmp(out1, big, lens[i]) == 0, "%zu: same bytes",
		    lens[i]);
		for (k = 0; k < t.nrec; k++)
			ok &= check(t.recs[k].hdr.type == FCGI_STDOUT &&
			    t.recs[k].hdr.content_length > 0 &&
			    t.recs[k].hdr.content_length <= FCGI_STREAM_CHUNK,
			    "%zu: record %zu", lens[i], k);
		/* Fed in odd-sized pieces, too. */
		fcgi_decoder_init(&d);
		trace_init(&t, out2, sizeof(out2));
		for (k = 0; k < n; k += 4093)
			feed(&d, &t, enc + k, n - k < 4093 ? n - k : 4093);
		ok &= check(t.clen == lens[i] && !t.bad &&
		    memcmp(out2, big, lens[i]) == 0, "%zu: pieces", lens[i]);
	}
	ok &= check(fcgi_stream_size(SIZE_MAX) == SIZE_MAX, "size overflow");
	ok &= check(fcgi_stream_encode(enc, SIZE_MAX, FCGI_STDOUT, 1, big,
	    SIZE_MAX - 3) == 0, "encode overflow");
	return (ok);
}

struct gv {
	char	 seen[4][32];
	int	 n;
};

static int
gv_collect(const struct fcgi_nv *nv, void *arg)
{
	struct gv	*g = arg;

	if (g->n == 4 || nv->namelen + nv->valuelen + 2 > sizeof(g->seen[0]))
		return (-2);
	snprintf(g->seen[g->n++], sizeof(g->seen[0]), "%.*s=%.*s",
	    (int)nv->namelen, (const char *)nv->name, (int)nv->valuelen,
	    (const char *)nv->value);
	return (0);
}

static int
test_get_values(void)
{
	struct fcgi_header	 h;
	struct gv		 g;
	uint8_t			 q[256], r[256];
	size_t			 qlen, n;
	int			 ok = 1;

	qlen = 0;
	qlen += fcgi_nv_encode(q + qlen, 64, "FCGI_MPXS_CONNS", 15, "", 0);
	qlen += fcgi_nv_encode(q + qlen, 64, "FCGI_BOGUS", 10, "", 0);
	qlen += fcgi_nv_encode(q + qlen, 64, "FCGI_MAX_CONNS", 14, "", 0);
	qlen += fcgi_nv_encode(q + qlen, 64, "FCGI_MAX_REQS", 13, "x", 1);
	qlen += fcgi_nv_encode(q + qlen, 64, "FCGI_MAX_CONNS", 14, "", 0);
	n = fcgi_get_values_result(r, sizeof(r), q, qlen, 4294967295U, 0, 0);
	ok &= check(n > 8 && n % 8 == 0, "answered %zu", n);
	ok &= check(fcgi_header_decode(r, &h) == 0 &&
	    h.type == FCGI_GET_VALUES_RESULT && h.request_id == 0 &&
	    n == FCGI_RECORD_SIZE(h.content_length), "header");
	memset(&g, 0, sizeof(g));
	ok &= check(fcgi_nv_foreach(r + 8, h.content_length, gv_collect, &g) ==
	    0 && g.n == 3, "three answers, got %d", g.n);
	ok &= check(strcmp(g.seen[0], "FCGI_MPXS_CONNS=0") == 0 &&
	    strcmp(g.seen[1], "FCGI_MAX_CONNS=4294967295") == 0 &&
	    strcmp(g.seen[2], "FCGI_MAX_REQS=0") == 0, "values %s %s %s",
	    g.seen[0], g.seen[1], g.seen[2]);

	qlen = fcgi_nv_encode(q, 64, "FCGI_MPXS_CONNS", 15, "", 0);
	n = fcgi_get_values_result(r, sizeof(r), q, qlen, 1, 1, 5);
	memset(&g, 0, sizeof(g));
	ok &= check(n == 32 && fcgi_nv_foreach(r + 8, 18, gv_collect, &g) ==
	    0 && g.n == 1 && strcmp(g.seen[0], "FCGI_MPXS_CONNS=1") == 0,
	    "mpxs 1");

	/* Nothing known: an empty result record. */
	qlen = fcgi_nv_encode(q, 64, "OTHER", 5, "", 0);
	ok &= check(fcgi_get_values_result(r, sizeof(r), q, qlen, 1, 1, 0) ==
	    8 && r[4] == 0 && r[5] == 0, "empty answer");
	ok &= check(fcgi_get_values_result(r, sizeof(r), q, 0, 1, 1, 0) == 8,
	    "empty query");

	errno = 0;
	ok &= check(fcgi_get_values_result(r, sizeof(r), q, qlen - 1, 1, 1,
	    0) == 0 && errno == EPROTO, "truncated query");
	qlen = fcgi_nv_encode(q, 64, "FCGI_MAX_REQS", 13, "", 0);
	errno = 0;
	ok &= check(fcgi_get_values_result(r, 16, q, qlen, 1, 1, 0) == 0 &&
	    errno == ENOBUFS, "no room");
	return (ok);
}

static int
test_discrete_errors(void)
{
	uint8_t		 buf[32];
	uint32_t	 app;
	uint16_t	 role;
	uint8_t		 flags, ps;
	int		 ok = 1;

	ok &= check(fcgi_begin_request_encode(buf, 15, 1, 1, 0) == 0,
	    "begin no room");
	ok &= check(fcgi_end_request_encode(buf, 15, 1, 0, 0) == 0,
	    "end no room");
	ok &= check(fcgi_unknown_type_encode(buf, 15, 9) == 0,
	    "unknown no room");

	ok &= check(fcgi_begin_request_encode(buf, 16, 0x1234, FCGI_FILTER,
	    FCGI_KEEP_CONN) == 16 && memcmp(buf,
	    "\x01\x01\x12\x34\x00\x08\x00\x00\x00\x03\x01\0\0\0\0\0", 16) == 0,
	    "begin bytes");
	ok &= check(fcgi_begin_request_decode(buf + 8, 8, &role, &flags) ==
	    0 && role == FCGI_FILTER && flags == FCGI_KEEP_CONN,
	    "begin decode");
	errno = 0;
	ok &= check(fcgi_begin_request_decode(buf + 8, 7, &role, &flags) ==
	    -1 && errno == EPROTO, "begin short");
	ok &= check(fcgi_begin_request_decode(buf + 8, 9, &role, &flags) ==
	    -1, "begin long");

	ok &= check(fcgi_end_request_encode(buf, 16, 1, 0xdeadbeef,
	    FCGI_OVERLOADED) == 16 && memcmp(buf,
	    "\x01\x03\x00\x01\x00\x08\x00\x00\xde\xad\xbe\xef\x02\0\0\0",
	    16) == 0, "end bytes");
	ok &= check(fcgi_end_request_decode(buf + 8, 8, &app, &ps) == 0 &&
	    app == 0xdeadbeef && ps == FCGI_OVERLOADED, "end decode");
	errno = 0;
	ok &= check(fcgi_end_request_decode(buf + 8, 0, &app, &ps) == -1 &&
	    errno == EPROTO, "end empty");

	ok &= check(fcgi_unknown_type_encode(buf, 16, 200) == 16 &&
	    memcmp(buf, "\x01\x0b\0\0\x00\x08\0\0\xc8\0\0\0\0\0\0\0", 16) == 0,
	    "unknown type bytes");
	return (ok);
}

static int
test_type_name(void)
{
	int	 ok = 1;

	ok &= check(strcmp(fcgi_type_name(FCGI_BEGIN_REQUEST),
	    "BEGIN_REQUEST") == 0, "1");
	ok &= check(strcmp(fcgi_type_name(FCGI_END_REQUEST), "END_REQUEST") ==
	    0, "3");
	ok &= check(strcmp(fcgi_type_name(FCGI_UNKNOWN_TYPE),
	    "UNKNOWN_TYPE") == 0, "11");
	ok &= check(strcmp(fcgi_type_name(0), "UNKNOWN") == 0, "0");
	ok &= check(strcmp(fcgi_type_name(12), "UNKNOWN") == 0, "12");
	ok &= check(strcmp(fcgi_type_name(255), "UNKNOWN") == 0, "255");
	return (ok);
}

int
main(void)
{
	size_t	 i;
	int	 failed = 0;

	printf("1..%zu\n", NELEM(tests));
	for (i = 0; i < NELEM(tests); i++) {
		if (tests[i].fn()) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			failed++;
		}
	}
	return (failed > 0);
}
