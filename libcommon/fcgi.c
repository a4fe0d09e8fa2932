/* SPDX-License-Identifier: ISC */
/*
 * FastCGI 1.0 codec (Open Market spec, 1996): records, name-value pairs,
 * management answers.  Hostile input is expected: every length is bounded.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "libcommon/fcgi.h"

/*
 * Decoder states.  A record is header, content, padding (spec 3.3); BODY
 * covers content and padding, as both are counted down from the header.
 * DEAD is entered on a bad version: the stream can no longer be framed.
 */
enum {
	FCGI_DS_HEADER,
	FCGI_DS_BODY,
	FCGI_DS_DEAD
};

/* Management variables answered by fcgi_get_values_result() (spec 4.1). */
#define FCGI_GV_MAX_CONNS	"FCGI_MAX_CONNS"
#define FCGI_GV_MAX_REQS	"FCGI_MAX_REQS"
#define FCGI_GV_MPXS_CONNS	"FCGI_MPXS_CONNS"

static size_t	fcgi_nv_lenenc(uint8_t *, size_t);
static size_t	fcgi_utoa(char *, unsigned int);
static void	fcgi_put16(uint8_t *, uint16_t);
static void	fcgi_put32(uint8_t *, uint32_t);

static const char *const fcgi_type_names[FCGI_MAXTYPE + 1] = {
	[FCGI_BEGIN_REQUEST] = "BEGIN_REQUEST",
	[FCGI_ABORT_REQUEST] = "ABORT_REQUEST",
	[FCGI_END_REQUEST] = "END_REQUEST",
	[FCGI_PARAMS] = "PARAMS",
	[FCGI_STDIN] = "STDIN",
	[FCGI_STDOUT] = "STDOUT",
	[FCGI_STDERR] = "STDERR",
	[FCGI_DATA] = "DATA",
	[FCGI_GET_VALUES] = "GET_VALUES",
	[FCGI_GET_VALUES_RESULT] = "GET_VALUES_RESULT",
	[FCGI_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
};

static void
fcgi_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
fcgi_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

int
fcgi_header_decode(const uint8_t *buf, struct fcgi_header *h)
{
	/* Multi-byte numbers are big-endian, B1 << 8 | B0 (spec 3.3). */
	h->version = buf[0];
	h->type = buf[1];
	h->request_id = (uint16_t)(buf[2] << 8 | buf[3]);
	h->content_length = (uint16_t)(buf[4] << 8 | buf[5]);
	h->padding_length = buf[6];
	if (h->version != FCGI_VERSION_1) {
		errno = EPROTO;
		return (-1);
	}
	return (0);
}

void
fcgi_header_encode(uint8_t *buf, uint8_t type, uint16_t reqid, uint16_t clen,
    uint8_t plen)
{
	buf[0] = FCGI_VERSION_1;
	buf[1] = type;
	fcgi_put16(buf + 2, reqid);
	fcgi_put16(buf + 4, clen);
	buf[6] = plen;
	buf[7] = 0;
}

void
fcgi_decoder_init(struct fcgi_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->state = FCGI_DS_HEADER;
}

int
fcgi_decoder_idle(const struct fcgi_decoder *d)
{
	return (d->state == FCGI_DS_HEADER && d->hlen == 0);
}

/*
 * One event per call, so the caller's loop stays a plain switch.  In the
 * common case (a whole header in buf) the header is decoded in place and
 * content is handed out as one piece per feed: a few calls per record.
 */
ssize_t
fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
    enum fcgi_event *ev, const uint8_t **data, size_t *datalen)
{
	const uint8_t	*hp;
	size_t		 n;

	switch (d->state) {
	case FCGI_DS_HEADER:
		if (d->hlen == 0 && len >= FCGI_HEADER_LEN) {
			hp = buf;
			n = FCGI_HEADER_LEN;
		} else {
			/* A header split across feeds: gather it in hbuf. */
			n = FCGI_HEADER_LEN - d->hlen;
			if (n > len)
				n = len;
			if (n > 0)
				memcpy(d->hbuf + d->hlen, buf, n);
			d->hlen += n;
			if (d->hlen < FCGI_HEADER_LEN) {
				*ev = FCGI_EV_NEED_MORE;
				return ((ssize_t)n);
			}
			hp = d->hbuf;
			d->hlen = 0;
		}
		if (fcgi_header_decode(hp, &d->hdr) == -1) {
			d->state = FCGI_DS_DEAD;
			return (-1);
		}
		d->clen_left = d->hdr.content_length;
		d->plen_left = d->hdr.padding_length;
		d->state = FCGI_DS_BODY;
		*ev = FCGI_EV_HEADER;
		return ((ssize_t)n);
	case FCGI_DS_BODY:
		if (d->clen_left > 0) {
			if (len == 0) {
				*ev = FCGI_EV_NEED_MORE;
				return (0);
			}
			n = len < d->clen_left ? len : d->clen_left;
			d->clen_left -= n;
			*data = buf;
			*datalen = n;
			*ev = FCGI_EV_CONTENT;
			return ((ssize_t)n);
		}
		/* Padding is skipped unseen (spec 3.3: receivers ignore it). */
		n = len < d->plen_left ? len : d->plen_left;
		d->plen_left -= n;
		if (d->plen_left > 0) {
			*ev = FCGI_EV_NEED_MORE;
			return ((ssize_t)n);
		}
		d->state = FCGI_DS_HEADER;
		*ev = FCGI_EV_RECORD_END;
		return ((ssize_t)n);
	default:
		errno = EPROTO;
		return (-1);
	}
}

/*
 * Lengths below 128 take one byte; others four, big-endian, with the high
 * bit of the first byte set (spec 3.4).  Non-minimal forms are accepted.
 */
ssize_t
fcgi_nv_decode(const uint8_t *buf, size_t len, struct fcgi_nv *nv)
{
	size_t	 lens[2], off, i;

	off = 0;
	for (i = 0; i < 2; i++) {
		if (off >= len)
			return (0);
		if (buf[off] < 0x80) {
			lens[i] = buf[off++];
			continue;
		}
		if (len - off < 4)
			return (0);
		lens[i] = (size_t)(buf[off] & 0x7f) << 24 |
		    (size_t)buf[off + 1] << 16 | (size_t)buf[off + 2] << 8 |
		    buf[off + 3];
		off += 4;
		/* Refuse before waiting for the data: never buffer it. */
		if (lens[i] > FCGI_NV_MAXLEN) {
			errno = EPROTO;
			return (-1);
		}
	}
	/* off <= 8 and each length <= 1 MiB: no overflow. */
	if (len - off < lens[0] + lens[1])
		return (0);
	nv->name = buf + off;
	nv->namelen = lens[0];
	nv->value = buf + off + lens[0];
	nv->valuelen = lens[1];
	return ((ssize_t)(off + lens[0] + lens[1]));
}

size_t
fcgi_nv_size(size_t namelen, size_t valuelen)
{
	size_t	 n;

	if (namelen > FCGI_NV_ENCMAX || valuelen > FCGI_NV_ENCMAX)
		return (0);
	n = (namelen < 0x80 ? 1 : 4) + (valuelen < 0x80 ? 1 : 4) + namelen;
	if (valuelen > SIZE_MAX - n)	/* only on 32-bit size_t */
		return (0);
	return (n + valuelen);
}

/* Write one length of a pair at p; the bytes written (1 or 4). */
static size_t
fcgi_nv_lenenc(uint8_t *p, size_t v)
{
	if (v < 0x80) {
		p[0] = (uint8_t)v;
		return (1);
	}
	fcgi_put32(p, (uint32_t)v | 0x80000000U);
	return (4);
}

size_t
fcgi_nv_encode(uint8_t *buf, size_t size, const void *name, size_t namelen,
    const void *value, size_t valuelen)
{
	size_t	 need, off;

	need = fcgi_nv_size(namelen, valuelen);
	if (need == 0 || need > size)
		return (0);
	off = fcgi_nv_lenenc(buf, namelen);
	off += fcgi_nv_lenenc(buf + off, valuelen);
	if (namelen > 0)
		memcpy(buf + off, name, namelen);
	if (valuelen > 0)
		memcpy(buf + off + namelen, value, valuelen);
	return (need);
}

int
fcgi_nv_foreach(const uint8_t *buf, size_t len,
    int (*cb)(const struct fcgi_nv *, void *), void *arg)
{
	struct fcgi_nv	 nv;
	ssize_t		 n;
	int		 rc;

	while (len > 0) {
		if ((n = fcgi_nv_decode(buf, len, &nv)) <= 0) {
			/* Over the limit, or truncated. */
			errno = EPROTO;
			return (-1);
		}
		if ((rc = cb(&nv, arg)) != 0)
			return (rc);
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

size_t
fcgi_record_encode(uint8_t *buf, size_t size, uint8_t type, uint16_t reqid,
    const void *content, size_t clen)
{
	size_t	 total;
	uint8_t	 plen;

	if (clen > FCGI_MAX_CONTENT)
		return (0);
	plen = FCGI_PADDING(clen);
	total = FCGI_HEADER_LEN + clen + plen;
	if (total > size)
		return (0);
	/* memmove: the caller may have read the content in at buf + 8. */
	if (clen > 0 && content != buf + FCGI_HEADER_LEN)
		memmove(buf + FCGI_HEADER_LEN, content, clen);
	fcgi_header_encode(buf, type, reqid, (uint16_t)clen, plen);
	memset(buf + FCGI_HEADER_LEN + clen, 0, plen);
	return (total);
}

size_t
fcgi_stream_size(size_t len)
{
	size_t	 nrec, over, tail;

	/* Full chunks need no padding; the tail record is padded to 8. */
	nrec = len / FCGI_STREAM_CHUNK;
	tail = len % FCGI_STREAM_CHUNK;
	over = nrec * FCGI_HEADER_LEN;
	if (tail > 0)
		over += FCGI_HEADER_LEN + FCGI_PADDING(tail);
	if (len > SIZE_MAX - over)
		return (SIZE_MAX);
	return (len + over);
}

size_t
fcgi_stream_encode(uint8_t *buf, size_t size, uint8_t type, uint16_t reqid,
    const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 off, n;

	/* SIZE_MAX never fits: no buffer spans the whole address space. */
	if (fcgi_stream_size(len) > size || fcgi_stream_size(len) == SIZE_MAX)
		return (0);
	off = 0;
	while (len > 0) {
		n = len < FCGI_STREAM_CHUNK ? len : FCGI_STREAM_CHUNK;
		off += fcgi_record_encode(buf + off, size - off, type, reqid,
		    p, n);
		p += n;
		len -= n;
	}
	return (off);
}

size_t
fcgi_begin_request_encode(uint8_t *buf, size_t size, uint16_t reqid,
    uint16_t role, uint8_t flags)
{
	if (size < 2 * FCGI_HEADER_LEN)
		return (0);
	/* FCGI_BeginRequestBody: roleB1, roleB0, flags, reserved[5] (5.1). */
	fcgi_header_encode(buf, FCGI_BEGIN_REQUEST, reqid, 8, 0);
	memset(buf + FCGI_HEADER_LEN, 0, 8);
	fcgi_put16(buf + FCGI_HEADER_LEN, role);
	buf[FCGI_HEADER_LEN + 2] = flags;
	return (2 * FCGI_HEADER_LEN);
}

size_t
fcgi_end_request_encode(uint8_t *buf, size_t size, uint16_t reqid,
    uint32_t app_status, uint8_t proto_status)
{
	if (size < 2 * FCGI_HEADER_LEN)
		return (0);
	/* FCGI_EndRequestBody: appStatus, protocolStatus, rsvd[3] (5.5). */
	fcgi_header_encode(buf, FCGI_END_REQUEST, reqid, 8, 0);
	memset(buf + FCGI_HEADER_LEN, 0, 8);
	fcgi_put32(buf + FCGI_HEADER_LEN, app_status);
	buf[FCGI_HEADER_LEN + 4] = proto_status;
	return (2 * FCGI_HEADER_LEN);
}

size_t
fcgi_unknown_type_encode(uint8_t *buf, size_t size, uint8_t type)
{
	if (size < 2 * FCGI_HEADER_LEN)
		return (0);
	/* FCGI_UnknownTypeBody: type, reserved[7] (spec 4.2). */
	fcgi_header_encode(buf, FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, 8, 0);
	memset(buf + FCGI_HEADER_LEN, 0, 8);
	buf[FCGI_HEADER_LEN] = type;
	return (2 * FCGI_HEADER_LEN);
}

int
fcgi_begin_request_decode(const uint8_t *content, size_t clen, uint16_t *role,
    uint8_t *flags)
{
	if (clen != 8) {
		errno = EPROTO;
		return (-1);
	}
	*role = (uint16_t)(content[0] << 8 | content[1]);
	*flags = content[2];
	return (0);
}

int
fcgi_end_request_decode(const uint8_t *content, size_t clen,
    uint32_t *app_status, uint8_t *proto_status)
{
	if (clen != 8) {
		errno = EPROTO;
		return (-1);
	}
	*app_status = (uint32_t)content[0] << 24 | (uint32_t)content[1] << 16 |
	    (uint32_t)content[2] << 8 | content[3];
	*proto_status = content[4];
	return (0);
}

/* Decimal digits of v at p (room for 10); the count written, no NUL. */
static size_t
fcgi_utoa(char *p, unsigned int v)
{
	char	 tmp[10];
	size_t	 n, i;

	n = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v > 0 && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return (n);
}

/*
 * Each known name is answered at most once, however often it is asked: the
 * answer is then bounded (under 100 bytes), whatever the query holds.
 */
size_t
fcgi_get_values_result(uint8_t *buf, size_t size, const uint8_t *query,
    size_t qlen, unsigned int max_conns, unsigned int max_reqs,
    int mpxs_conns)
{
	static const struct {
		const char	*name;
		size_t		 len;
	} vars[] = {
		{ FCGI_GV_MAX_CONNS, sizeof(FCGI_GV_MAX_CONNS) - 1 },
		{ FCGI_GV_MAX_REQS, sizeof(FCGI_GV_MAX_REQS) - 1 },
		{ FCGI_GV_MPXS_CONNS, sizeof(FCGI_GV_MPXS_CONNS) - 1 },
	};
	uint8_t		 body[128];
	char		 val[16];
	struct fcgi_nv	 nv;
	size_t		 clen, vlen, i, rlen;
	ssize_t		 n;
	unsigned int	 done;

	clen = 0;
	done = 0;
	while (qlen > 0) {
		if ((n = fcgi_nv_decode(query, qlen, &nv)) <= 0) {
			errno = EPROTO;
			return (0);
		}
		query += n;
		qlen -= (size_t)n;
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			if (nv.namelen == vars[i].len &&
			    memcmp(nv.name, vars[i].name, nv.namelen) == 0)
				break;
		if (i == sizeof(vars) / sizeof(vars[0]) || (done & 1U << i))
			continue;	/* unknown names are omitted (4.1) */
		done |= 1U << i;
		switch (i) {
		case 0:
			vlen = fcgi_utoa(val, max_conns);
			break;
		case 1:
			vlen = fcgi_utoa(val, max_reqs);
			break;
		default:
			val[0] = mpxs_conns ? '1' : '0';
			vlen = 1;
			break;
		}
		/* 3 pairs of at most 2 + 15 + 10 bytes: body is big enough. */
		clen += fcgi_nv_encode(body + clen, sizeof(body) - clen,
		    vars[i].name, vars[i].len, val, vlen);
	}
	rlen = fcgi_record_encode(buf, size, FCGI_GET_VALUES_RESULT,
	    FCGI_NULL_REQUEST_ID, body, clen);
	if (rlen == 0)
		errno = ENOBUFS;
	return (rlen);
}

const char *
fcgi_type_name(uint8_t type)
{
	if (type > FCGI_MAXTYPE || fcgi_type_names[type] == NULL)
		return ("UNKNOWN");
	return (fcgi_type_names[type]);
}
