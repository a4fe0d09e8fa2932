/* SPDX-License-Identifier: ISC */
/*
 * FastCGI 1.0 codec: record headers, an incremental stream decoder,
 * name-value pairs and record encoders.  Pure: no I/O, no allocation.
 */
#ifndef LIBCOMMON_FCGI_H
#define LIBCOMMON_FCGI_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define FCGI_VERSION_1		1
#define FCGI_HEADER_LEN		8
#define FCGI_MAX_CONTENT	65535		/* 16-bit contentLength */
#define FCGI_LISTENSOCK_FILENO	0
#define FCGI_NULL_REQUEST_ID	0		/* management (spec 3.3) */

/*
 * Content length used by fcgi_stream_encode() for full records: the largest
 * multiple of 8 that fits, so full records need no padding (as php-cgi).
 */
#define FCGI_STREAM_CHUNK	65528

/* Largest name or value length fcgi_nv_decode() accepts (our policy). */
#define FCGI_NV_MAXLEN		(1U << 20)
/* Largest length the 4-byte encoding can carry (spec 3.4). */
#define FCGI_NV_ENCMAX		0x7fffffffU

/* Record types (spec 8). */
enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST,
	FCGI_END_REQUEST,
	FCGI_PARAMS,
	FCGI_STDIN,
	FCGI_STDOUT,
	FCGI_STDERR,
	FCGI_DATA,
	FCGI_GET_VALUES,
	FCGI_GET_VALUES_RESULT,
	FCGI_UNKNOWN_TYPE,
	FCGI_MAXTYPE = FCGI_UNKNOWN_TYPE
};

/* FCGI_BEGIN_REQUEST roles and flags (spec 5.1). */
#define FCGI_RESPONDER		1
#define FCGI_AUTHORIZER		2
#define FCGI_FILTER		3
#define FCGI_KEEP_CONN		1

/* FCGI_END_REQUEST protocolStatus (spec 5.5). */
enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE,
	FCGI_CANT_MPX_CONN,
	FCGI_OVERLOADED,
	FCGI_UNKNOWN_ROLE
};

/* A decoded record header (spec 3.3); the reserved byte is dropped. */
struct fcgi_header {
	uint8_t		version;
	uint8_t		type;
	uint16_t	request_id;
	uint16_t	content_length;
	uint8_t		padding_length;
};

/* Decode 8 bytes at buf into *h; 0, or -1 with errno EPROTO if version != 1. */
int	fcgi_header_decode(const uint8_t *buf, struct fcgi_header *h);
/* Write an 8-byte version-1 header (reserved byte 0) at buf. */
void	fcgi_header_encode(uint8_t *buf, uint8_t type, uint16_t reqid,
	    uint16_t clen, uint8_t plen);

/*
 * Incremental decoder over a byte stream fed in arbitrary pieces.  Only hdr
 * is public; the rest is private state.  Content is never copied: it is
 * handed back as pointers into the caller's buffer.
 */
struct fcgi_decoder {
	struct fcgi_header hdr;		/* header of the current record */
	uint8_t		hbuf[FCGI_HEADER_LEN];	/* header split across feeds */
	uint8_t		hlen;		/* bytes in hbuf */
	uint8_t		state;		/* FCGI_DS_* in fcgi.c */
	uint16_t	clen_left;	/* content bytes still to come */
	uint16_t	plen_left;	/* padding bytes still to come */
};

enum fcgi_event {
	FCGI_EV_NEED_MORE,	/* all of buf consumed, nothing completed */
	FCGI_EV_HEADER,		/* d->hdr holds a new header */
	FCGI_EV_CONTENT,	/* *data, *datalen: a piece of content in buf */
	FCGI_EV_RECORD_END	/* content and padding fully consumed */
};

/* Reset d to expect a record header. */
void	fcgi_decoder_init(struct fcgi_decoder *d);
/*
 * Consume bytes from buf[0..len); returns the count consumed (>= 0) and sets
 * *ev (see enum fcgi_event); *data and *datalen are set only for CONTENT.
 * RECORD_END may consume nothing (e.g. right after a header with no content
 * or padding), so call again until NEED_MORE.  Returns -1 with errno EPROTO
 * on a bad version; the decoder then stays dead until fcgi_decoder_init().
 */
ssize_t	fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
	    enum fcgi_event *ev, const uint8_t **data, size_t *datalen);
/* 1 if d is between records (no partial header, content or padding), else 0. */
int	fcgi_decoder_idle(const struct fcgi_decoder *d);

/* A name-value pair (spec 3.4); the pointers point into the decoded buffer. */
struct fcgi_nv {
	const uint8_t	*name;
	size_t		 namelen;
	const uint8_t	*value;
	size_t		 valuelen;
};

/*
 * Decode one pair at buf[0..len): the bytes consumed (> 0), 0 if buf holds
 * only part of a pair, or -1 with errno EPROTO if a length > FCGI_NV_MAXLEN.
 */
ssize_t	fcgi_nv_decode(const uint8_t *buf, size_t len, struct fcgi_nv *nv);
/* Encoded size of a pair; 0 if a length > FCGI_NV_ENCMAX (not encodable). */
size_t	fcgi_nv_size(size_t namelen, size_t valuelen);
/* Encode a pair at buf; the bytes written, or 0 if it does not fit in size. */
size_t	fcgi_nv_encode(uint8_t *buf, size_t size, const void *name,
	    size_t namelen, const void *value, size_t valuelen);
/*
 * Call cb for each pair of the complete params block buf[0..len).  Returns 0,
 * -1 with errno EPROTO if malformed or truncated (pairs before it were seen),
 * or the first non-zero value cb returned, which stops the walk.
 */
int	fcgi_nv_foreach(const uint8_t *buf, size_t len,
	    int (*cb)(const struct fcgi_nv *, void *), void *arg);

/* Padding that aligns clen bytes of content to 8 (spec 3.3 recommends it). */
#define FCGI_PADDING(clen)	((uint8_t)(-(size_t)(clen) & 7))
/* Bytes of a whole record: header, content, padding. */
#define FCGI_RECORD_SIZE(clen)	\
	(FCGI_HEADER_LEN + (size_t)(clen) + FCGI_PADDING(clen))

/*
 * Write one record (header, content, zero padding to a multiple of 8) at buf;
 * the total written, or 0 if it does not fit in size or clen >
 * FCGI_MAX_CONTENT.  content may overlap buf (e.g. already at buf + 8).
 */
size_t	fcgi_record_encode(uint8_t *buf, size_t size, uint8_t type,
	    uint16_t reqid, const void *content, size_t clen);
/*
 * Write data[0..len) as consecutive records of type, FCGI_STREAM_CHUNK bytes
 * each but the last, with no terminating empty record; data must not overlap
 * buf.  The bytes written, or 0 if it does not fit (len 0 writes nothing).
 */
size_t	fcgi_stream_encode(uint8_t *buf, size_t size, uint8_t type,
	    uint16_t reqid, const void *data, size_t len);
/* Room fcgi_stream_encode() needs for len bytes (SIZE_MAX on overflow). */
size_t	fcgi_stream_size(size_t len);

/* Discrete records, all 16 bytes: the bytes written, or 0 if size < 16. */
size_t	fcgi_begin_request_encode(uint8_t *buf, size_t size, uint16_t reqid,
	    uint16_t role, uint8_t flags);
size_t	fcgi_end_request_encode(uint8_t *buf, size_t size, uint16_t reqid,
	    uint32_t app_status, uint8_t proto_status);
/* FCGI_UNKNOWN_TYPE on the null request id, naming the type (spec 4.2). */
size_t	fcgi_unknown_type_encode(uint8_t *buf, size_t size, uint8_t type);

/* Decode a BEGIN_REQUEST body; 0, or -1 with errno EPROTO if clen != 8. */
int	fcgi_begin_request_decode(const uint8_t *content, size_t clen,
	    uint16_t *role, uint8_t *flags);
/* Decode an END_REQUEST body; 0, or -1 with errno EPROTO if clen != 8. */
int	fcgi_end_request_decode(const uint8_t *content, size_t clen,
	    uint32_t *app_status, uint8_t *proto_status);

/*
 * Write an FCGI_GET_VALUES_RESULT record answering the GET_VALUES content
 * query[0..qlen): FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS ("0" or
 * "1") get the given values, once each; other names are omitted (spec 4.1).
 * The bytes written, or 0 with errno EPROTO (malformed query) or ENOBUFS.
 */
size_t	fcgi_get_values_result(uint8_t *buf, size_t size, const uint8_t *query,
	    size_t qlen, unsigned int max_conns, unsigned int max_reqs,
	    int mpxs_conns);

/* "BEGIN_REQUEST", ..., "UNKNOWN_TYPE"; "UNKNOWN" if out of range.  Static. */
const char	*fcgi_type_name(uint8_t type);

#endif
