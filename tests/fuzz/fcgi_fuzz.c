/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for libcommon/fcgi: hostile streams, as a client or a
 * worker sends them, fed in random splits must decode the same as in one
 * piece; each PARAMS stream is walked as a whole, as the supervisor does
 * once it ends; encoders must round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/fcgi.h"

#define FUZZ_MAXIN	(1 << 20)	/* inputs above this are ignored */

/* What one pass of the decoder saw: enough to compare two passes. */
struct fuzz_sum {
	uint64_t	 hash;		/* FNV-1a over headers and content */
	size_t		 nrec;
	size_t		 consumed;
	int		 dead;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_hash(uint64_t *, const uint8_t *, size_t);
static void	fuzz_decode(const uint8_t *, size_t, uint32_t,
		    struct fuzz_sum *);
static void	fuzz_content(const struct fcgi_header *, const uint8_t *,
		    size_t);
static void	fuzz_roundtrip(const uint8_t *, size_t);
static int	fuzz_nv_cb(const struct fcgi_nv *, void *);

static uint8_t	fuzz_rec[FCGI_MAX_CONTENT];	/* one record's content */
static uint8_t	fuzz_params[FUZZ_MAXIN];	/* a PARAMS stream */
static size_t	fuzz_paramslen;
static uint8_t	fuzz_enc[FUZZ_MAXIN + FUZZ_MAXIN / 1024 + 64];

static void
fuzz_hash(uint64_t *h, const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ULL;
	}
}

static int
fuzz_nv_cb(const struct fcgi_nv *nv, void *arg)
{
	const uint8_t	*end = arg;

	/* Pairs must lie inside the block handed to fcgi_nv_foreach(). */
	if (nv->name + nv->namelen > nv->value ||
	    nv->value + nv->valuelen > end)
		abort();
	return (0);
}

/* Exercise the body decoders on a whole record, as the proxy would. */
static void
fuzz_content(const struct fcgi_header *h, const uint8_t *c, size_t clen)
{
	uint8_t		 out[256];
	uint32_t	 app;
	uint16_t	 role;
	uint8_t		 flags, ps;
	size_t		 n;

	switch (h->type) {
	case FCGI_BEGIN_REQUEST:
		(void)fcgi_begin_request_decode(c, clen, &role, &flags);
		break;
	case FCGI_END_REQUEST:
		(void)fcgi_end_request_decode(c, clen, &app, &ps);
		break;
	case FCGI_GET_VALUES:
		n = fcgi_get_values_result(out, sizeof(out), c, clen,
		    clen, h->request_id, h->padding_length & 1);
		if (n > sizeof(out) || n % 8 != 0)
			abort();
		break;
	default:
		(void)fcgi_nv_foreach(c, clen, fuzz_nv_cb,
		    (void *)(uintptr_t)(c + clen));
		break;
	}
	(void)fcgi_type_name(h->type);

	/* PARAMS pairs may span records: the stream ends with an empty one */
	if (h->type != FCGI_PARAMS)
		return;
	if (clen > 0) {
		if (fuzz_paramslen + clen > sizeof(fuzz_params))
			abort();
		memcpy(fuzz_params + fuzz_paramslen, c, clen);
		fuzz_paramslen += clen;
		return;
	}
	(void)fcgi_nv_foreach(fuzz_params, fuzz_paramslen, fuzz_nv_cb,
	    (void *)(uintptr_t)(fuzz_params + fuzz_paramslen));
	fuzz_paramslen = 0;
}

/*
 * Feed buf to a fresh decoder in pieces whose sizes come from seed (0: one
 * piece), checking the contract on every event.
 */
static void
fuzz_decode(const uint8_t *buf, size_t len, uint32_t seed, struct fuzz_sum *s)
{
	struct fcgi_decoder	 d;
	enum fcgi_event		 ev;
	const uint8_t		*data, *piece;
	size_t			 off, plen, dlen, got, stalls;
	ssize_t			 n;
	uint8_t			 hb[FCGI_HEADER_LEN];

	memset(s, 0, sizeof(*s));
	s->hash = 0xcbf29ce484222325ULL;
	fuzz_paramslen = 0;
	fcgi_decoder_init(&d);
	off = 0;
	got = 0;
	while (off < len || !fcgi_decoder_idle(&d)) {
		if (seed == 0)
			plen = len - off;
		else {
			seed = seed * 1103515245U + 12345U;
			plen = (seed >> 16) % 97;
			if (plen > len - off)
				plen = len - off;
		}
		piece = buf + off;
		stalls = 0;
		for (;;) {
			n = fcgi_decode(&d, piece, plen, &ev, &data, &dlen);
			if (n < 0) {
				s->dead = 1;
				s->consumed = off;
				return;
			}
			if ((size_t)n > plen)
				abort();
			/* At most one zero-byte event before progress. */
			stalls = n == 0 ? stalls + 1 : 0;
			if (stalls > 2)
				abort();
			piece += n;
			plen -= (size_t)n;
			off += (size_t)n;
			if (ev == FCGI_EV_NEED_MORE) {
				if (plen != 0)
					abort();
				break;
			}
			switch (ev) {
			case FCGI_EV_HEADER:
				/* Re-encoding reproduces the wire header. */
				fcgi_header_encode(hb, d.hdr.type,
				    d.hdr.request_id, d.hdr.content_length,
				    d.hdr.padding_length);
				fuzz_hash(&s->hash, hb, 7);
				got = 0;
				break;
			case FCGI_EV_CONTENT:
				if (dlen == 0 || data != piece - dlen ||
				    got + dlen > d.hdr.content_length)
					abort();
				memcpy(fuzz_rec + got, data, dlen);
				got += dlen;
				fuzz_hash(&s->hash, data, dlen);
				break;
			case FCGI_EV_RECORD_END:
				if (got != d.hdr.content_length ||
				    !fcgi_decoder_idle(&d))
					abort();
				s->nrec++;
				fuzz_content(&d.hdr, fuzz_rec, got);
				break;
			default:
				abort();
			}
		}
		if (off == len && plen == 0 && !fcgi_decoder_idle(&d))
			break;		/* input ends inside a record */
	}
	s->consumed = off;
}

/* Encoders: the input as a stream, and as one name-value pair. */
static void
fuzz_roundtrip(const uint8_t *buf, size_t len)
{
	struct fcgi_decoder	 d;
	struct fcgi_nv		 nv;
	enum fcgi_event		 ev;
	const uint8_t		*data;
	size_t			 n, off, dlen, got, split;
	ssize_t			 r;

	n = fcgi_stream_encode(fuzz_enc, sizeof(fuzz_enc), FCGI_STDOUT, 1,
	    buf, len);
	if (n != fcgi_stream_size(len) || n % 8 != 0)
		abort();
	fcgi_decoder_init(&d);
	off = got = 0;
	while (off < n) {
		r = fcgi_decode(&d, fuzz_enc + off, n - off, &ev, &data,
		    &dlen);
		if (r < 0)
			abort();
		off += (size_t)r;
		if (ev == FCGI_EV_HEADER && (d.hdr.type != FCGI_STDOUT ||
		    d.hdr.content_length == 0))
			abort();
		if (ev == FCGI_EV_CONTENT) {
			if (got + dlen > len ||
			    memcmp(buf + got, data, dlen) != 0)
				abort();
			got += dlen;
		}
	}
	if (got != len)
		abort();

	split = len > 0 ? buf[0] % (len + 1) : 0;
	n = fcgi_nv_encode(fuzz_enc, sizeof(fuzz_enc), buf, split,
	    buf + split, len - split);
	if (n != fcgi_nv_size(split, len - split))
		abort();
	r = fcgi_nv_decode(fuzz_enc, n, &nv);
	if (r != (ssize_t)n || nv.namelen != split ||
	    nv.valuelen != len - split ||
	    memcmp(nv.name, buf, split) != 0 ||
	    memcmp(nv.value, buf + split, len - split) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct fuzz_sum	 whole, split;
	struct fcgi_nv	 nv;
	struct fcgi_header h;
	uint32_t	 seed;

	if (len > FUZZ_MAXIN)
		return (0);
	fuzz_decode(buf, len, 0, &whole);
	seed = len > 0 ? buf[len - 1] | 0x100U : 1;
	fuzz_decode(buf, len, seed, &split);
	/* A dead decoder may have swallowed part of the bad header. */
	if (whole.hash != split.hash || whole.nrec != split.nrec ||
	    whole.dead != split.dead ||
	    (!whole.dead && whole.consumed != split.consumed))
		abort();

	/* Raw input as a params block, a pair, a header. */
	(void)fcgi_nv_foreach(buf, len, fuzz_nv_cb,
	    (void *)(uintptr_t)(buf + len));
	if (fcgi_nv_decode(buf, len, &nv) > (ssize_t)len)
		abort();
	if (len >= FCGI_HEADER_LEN)
		(void)fcgi_header_decode(buf, &h);

	fuzz_roundtrip(buf, len);
	return (0);
}
