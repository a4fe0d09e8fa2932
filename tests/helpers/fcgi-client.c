/* SPDX-License-Identifier: ISC */
/*
 * fcgi-client: a raw FastCGI client for the tests.  It encodes and decodes
 * records by hand, independently of libcommon/fcgi, and can send malformed
 * bytes (-x, --raw) or query FCGI_GET_VALUES (-V).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* From the FastCGI specification, section 8. */
#define FC_VERSION_1		1
#define FC_BEGIN_REQUEST	1
#define FC_ABORT_REQUEST	2
#define FC_END_REQUEST		3
#define FC_PARAMS		4
#define FC_STDIN		5
#define FC_STDOUT		6
#define FC_STDERR		7
#define FC_DATA			8
#define FC_GET_VALUES		9
#define FC_GET_VALUES_RESULT	10
#define FC_UNKNOWN_TYPE		11
#define FC_RESPONDER		1
#define FC_KEEP_CONN		1
#define FC_REQUEST_COMPLETE	0
#define FC_HEADER_LEN		8
#define FC_MAX_CONTENT		65535
#define FC_MAX_RECORD		(FC_HEADER_LEN + FC_MAX_CONTENT + 255)

#define REQUEST_ID		1

#define EX_CLOSED		2
#define EX_PROTOSTATUS		3
#define EX_TIMEOUT		4
#define EX_USAGE		100
#define EX_TEMP			111

enum mode {
	MODE_REQUEST,
	MODE_RAW,
	MODE_VALUES
};

struct buf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

struct param {
	char		*name;
	char		*value;
};

struct conn {
	int		 fd;
	uint8_t		 in[2 * FC_MAX_RECORD];
	size_t		 inlen;
	int		 eof;
};

static void	usage(int) __attribute__((__noreturn__));
static void	timeout(void) __attribute__((__noreturn__));
static int	remaining_ms(void);
static void	buf_add(struct buf *, const void *, size_t);
static void	buf_record(struct buf *, int, int, const void *, size_t);
static void	buf_stream(struct buf *, int, const uint8_t *, size_t);
static void	nv_add(struct buf *, const char *, size_t, const char *,
		    size_t);
static void	param_set(const char *, const char *);
static void	read_input(const char *, struct buf *);
static void	read_hex(const char *, struct buf *);
static uint32_t	nv_len(const uint8_t **, const uint8_t *);
static void	print_pairs(const uint8_t *, size_t);
static int	do_connect(void);
static int	on_record(int, int, const uint8_t *, size_t);
static void	parse_records(struct conn *, int *);
static void	exchange(struct conn *, const uint8_t *, size_t);

static enum mode	 mode = MODE_REQUEST;
static struct param	*params;
static size_t		 nparams;
static const char	*opt_unix, *opt_inet;
static int		 opt_keep, opt_random, opt_quiet, opt_shut;
static int		 opt_latency;	/* -l: each request's time */
static long long	 opt_timeout = 60000;
static struct timespec	 deadline;
static unsigned long	 nresponses;
static unsigned long long nstdout;

static void
usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: fcgi-client [-s UNIXPATH | -a HOST:PORT] "
	    "[-p NAME=VALUE]...\n"
	    "           [-i FILE|-] [-k] [-l] [-n COUNT] [-r] [-t MS] [-q]\n"
	    "       fcgi-client -s|-a ADDR [-r] [-t MS] [-H] "
	    "(--raw FILE | -x HEX)\n"
	    "       fcgi-client -s|-a ADDR [-t MS] -V\n"
	    "exit: 0 complete, 2 closed before END_REQUEST, "
	    "3 protocol status,\n"
	    "      4 timeout (-t, default 60000, 0 for none), 100 usage, "
	    "111 system error\n"
	    "-l: print each request's time, connect to end, as us=N\n");
	exit(code);
}

static void
timeout(void)
{
	errx(EX_TIMEOUT, "timeout");
}

/* Milliseconds to the -t deadline for poll(2): -1 when there is none. */
static int
remaining_ms(void)
{
	struct timespec	 now;
	long long	 ms;

	if (opt_timeout == 0)
		return (-1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline.tv_sec - now.tv_sec) * 1000LL +
	    (deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		timeout();
	return (ms > INT_MAX ? INT_MAX : (int)ms);
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	uint8_t	*d;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 1024;
		if ((d = realloc(b->data, b->cap)) == NULL)
			err(EX_TEMP, "realloc");
		b->data = d;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* One record, padded to a multiple of 8 bytes as nginx does. */
static void
buf_record(struct buf *b, int type, int id, const void *content, size_t n)
{
	static const uint8_t	 zero[8];
	uint8_t			 h[FC_HEADER_LEN];
	size_t			 pad = (8 - n % 8) % 8;

	h[0] = FC_VERSION_1;
	h[1] = (uint8_t)type;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	h[4] = (uint8_t)(n >> 8);
	h[5] = (uint8_t)n;
	h[6] = (uint8_t)pad;
	h[7] = 0;
	buf_add(b, h, sizeof(h));
	buf_add(b, content, n);
	buf_add(b, zero, pad);
}

/* A whole stream: records of at most 65535 bytes, then the empty one. */
static void
buf_stream(struct buf *b, int type, const uint8_t *p, size_t n)
{
	size_t	 len;

	for (; n > 0; p += len, n -= len) {
		len = n > FC_MAX_CONTENT ? FC_MAX_CONTENT : n;
		buf_record(b, type, REQUEST_ID, p, len);
	}
	buf_record(b, type, REQUEST_ID, NULL, 0);
}

static void
nv_add(struct buf *b, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	uint8_t	 l[8];
	size_t	 i = 0, j;
	size_t	 lens[2] = { nlen, vlen };

	for (j = 0; j < 2; j++) {
		if (lens[j] < 128)
			l[i++] = (uint8_t)lens[j];
		else {
			l[i++] = (uint8_t)(0x80 | (lens[j] >> 24));
			l[i++] = (uint8_t)(lens[j] >> 16);
			l[i++] = (uint8_t)(lens[j] >> 8);
			l[i++] = (uint8_t)lens[j];
		}
	}
	buf_add(b, l, i);
	buf_add(b, name, nlen);
	buf_add(b, value, vlen);
}

/* A later -p replaces a default of the same name. */
static void
param_set(const char *name, const char *value)
{
	struct param	*p;
	size_t		 i;

	for (i = 0; i < nparams; i++) {
		if (strcmp(params[i].name, name) == 0) {
			free(params[i].value);
			if ((params[i].value = strdup(value)) == NULL)
				err(EX_TEMP, "strdup");
			return;
		}
	}
	if ((p = reallocarray(params, nparams + 1, sizeof(*p))) == NULL)
		err(EX_TEMP, "reallocarray");
	params = p;
	if ((params[nparams].name = strdup(name)) == NULL ||
	    (params[nparams].value = strdup(value)) == NULL)
		err(EX_TEMP, "strdup");
	nparams++;
}

static void
read_input(const char *path, struct buf *b)
{
	uint8_t	 chunk[65536];
	ssize_t	 n;
	int	 fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(EX_TEMP, "%s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(EX_TEMP, "read %s", path);
		}
		buf_add(b, chunk, (size_t)n);
	}
	if (fd != STDIN_FILENO)
		close(fd);
}

static void
read_hex(const char *s, struct buf *b)
{
	char	 pair[3] = { 0 };
	uint8_t	 byte;
	char	*end;

	while (*s != '\0') {
		if (*s == ' ' || *s == ':' || *s == '\n') {
			s++;
			continue;
		}
		pair[0] = s[0];
		pair[1] = s[1];
		byte = (uint8_t)strtoul(pair, &end, 16);
		if (s[1] == '\0' || *end != '\0')
			errx(EX_USAGE, "-x: bad hex at \"%s\"", s);
		buf_add(b, &byte, 1);
		s += 2;
	}
}

/* A name-value pair length (spec 3.4): UINT32_MAX when truncated. */
static uint32_t
nv_len(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t	*p = *pp;

	if (p >= end)
		return (UINT32_MAX);
	if (*p < 128) {
		*pp = p + 1;
		return (*p);
	}
	if (end - p < 4)
		return (UINT32_MAX);
	*pp = p + 4;
	return (((uint32_t)(p[0] & 0x7f) << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3]);
}

static void
print_pairs(const uint8_t *p, size_t n)
{
	const uint8_t	*end = p + n;
	uint32_t	 nl, vl;

	while (p < end) {
		if ((nl = nv_len(&p, end)) == UINT32_MAX ||
		    (vl = nv_len(&p, end)) == UINT32_MAX ||
		    (size_t)(end - p) < (size_t)nl + vl) {
			printf("bad name-value pair\n");
			return;
		}
		printf("%.*s=%.*s\n", (int)nl, (const char *)p, (int)vl,
		    (const char *)p + nl);
		p += nl + vl;
	}
}

/* A non-blocking socket connected within the deadline. */
static int
do_connect(void)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	struct pollfd		 pfd;
	char			 host[256], *port;
	socklen_t		 len;
	int			 fd = -1, e, rc;

	if (opt_unix != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		    opt_unix) >= (int)sizeof(sun.sun_path))
			errx(EX_USAGE, "%s: path too long", opt_unix);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			err(EX_TEMP, "socket");
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		res = NULL;
	} else {
		if (snprintf(host, sizeof(host), "%s", opt_inet) >=
		    (int)sizeof(host) ||
		    (port = strrchr(host, ':')) == NULL)
			errx(EX_USAGE, "%s: not HOST:PORT", opt_inet);
		*port++ = '\0';
		if (host[0] == '[' && port[-2] == ']') {
			port[-2] = '\0';
			memmove(host, host + 1, strlen(host));
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
			errx(EX_TEMP, "%s: %s", opt_inet, gai_strerror(e));
		rc = -1;
		errno = EADDRNOTAVAIL;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, ai->ai_socktype |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
				continue;
			if ((rc = connect(fd, ai->ai_addr, ai->ai_addrlen)) ==
			    0 || errno == EINPROGRESS)
				break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
	}
	if (rc == -1 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while ((rc = poll(&pfd, 1, remaining_ms())) == -1 &&
		    errno == EINTR)
			continue;
		if (rc == 0)
			timeout();
		len = sizeof(e);
		if (rc == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &len) == -1)
			err(EX_TEMP, "poll");
		errno = e;
		rc = e == 0 ? 0 : -1;
	}
	if (rc == -1)
		err(EX_TEMP, "connect %s", opt_unix ? opt_unix : opt_inet);
	return (fd);
}

/* Act on one record; 1 once the exchange is over. */
static int
on_record(int type, int id, const uint8_t *c, size_t n)
{
	if (mode == MODE_RAW) {
		printf("type=%d id=%d len=%zu\n", type, id, n);
		if (type == FC_STDOUT)
			fwrite(c, 1, n, stdout);
		else if (type == FC_STDERR)
			fwrite(c, 1, n, stderr);
		else if (type == FC_END_REQUEST && n >= 5)
			printf("app=%lu proto=%d\n",
			    (unsigned long)c[0] << 24 |
			    (unsigned long)c[1] << 16 |
			    (unsigned long)c[2] << 8 | c[3], c[4]);
		else if (type == FC_GET_VALUES_RESULT)
			print_pairs(c, n);
		else if (type == FC_UNKNOWN_TYPE && n >= 1)
			printf("unknown=%d\n", c[0]);
		fflush(stdout);
		return (0);
	}
	if (mode == MODE_VALUES) {
		if (type != FC_GET_VALUES_RESULT) {
			warnx("unexpected record type %d id %d", type, id);
			return (0);
		}
		print_pairs(c, n);
		return (1);
	}
	if (id != REQUEST_ID) {
		warnx("unexpected record type %d for request id %d", type, id);
		return (0);
	}
	switch (type) {
	case FC_STDOUT:
		nstdout += n;
		if (!opt_quiet)
			fwrite(c, 1, n, stdout);
		return (0);
	case FC_STDERR:
		fwrite(c, 1, n, stderr);
		return (0);
	case FC_END_REQUEST:
		if (n < 8)
			errx(EX_PROTOSTATUS, "short END_REQUEST (%zu bytes)",
			    n);
		nresponses++;
		fflush(stdout);
		if (c[4] != FC_REQUEST_COMPLETE)
			errx(EX_PROTOSTATUS, "protocol status %d", c[4]);
		return (1);
	default:
		warnx("unexpected record type %d", type);
		return (0);
	}
}

/* Take the complete records out of c->in. */
static void
parse_records(struct conn *c, int *done)
{
	size_t	 off = 0, clen, total;
	uint8_t	*h;

	while (!*done && c->inlen - off >= FC_HEADER_LEN) {
		h = c->in + off;
		clen = (size_t)h[4] << 8 | h[5];
		total = FC_HEADER_LEN + clen + h[6];
		if (c->inlen - off < total)
			break;
		if (h[0] != FC_VERSION_1)
			warnx("record version %d", h[0]);
		*done = on_record(h[1], h[2] << 8 | h[3], h + FC_HEADER_LEN,
		    clen);
		off += total;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

/*
 * Send out while reading what comes back, so that a peer answering before
 * it reads the whole body cannot deadlock us, until END_REQUEST (or
 * GET_VALUES_RESULT), or EOF in raw mode.
 */
static void
exchange(struct conn *c, const uint8_t *out, size_t outlen)
{
	struct pollfd		 pfd;
	struct timespec		 pause = { 0, 100000 };
	size_t			 pos = 0, chunk;
	ssize_t			 n;
	int			 done = 0, rc, shut = 0;

	parse_records(c, &done);	/* left over from the last request */
	while (!done) {
		if (pos == outlen && opt_shut && !shut) {
			shutdown(c->fd, SHUT_WR);
			shut = 1;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN | (pos < outlen ? POLLOUT : 0);
		if ((rc = poll(&pfd, 1, remaining_ms())) == -1) {
			if (errno == EINTR)
				continue;
			err(EX_TEMP, "poll");
		}
		if (rc == 0)
			timeout();
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen);
			if (n == -1 && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNRESET)
				err(EX_TEMP, "read");
			if (n == 0 || (n == -1 && errno == ECONNRESET)) {
				c->eof = 1;
				if (mode == MODE_RAW) {
					if (c->inlen > 0)
						printf("trailing=%zu\n",
						    c->inlen);
					return;
				}
				errx(EX_CLOSED, "connection closed before %s",
				    mode == MODE_VALUES ?
				    "GET_VALUES_RESULT" : "END_REQUEST");
			}
			if (n > 0) {
				c->inlen += (size_t)n;
				parse_records(c, &done);
				if (c->inlen == sizeof(c->in))
					errx(EX_TEMP, "record too long");
			}
			continue;
		}
		if (!(pfd.revents & POLLOUT))
			continue;
		chunk = outlen - pos;
		if (opt_random && chunk > 1)
			chunk = 1 + (size_t)random() %
			    (chunk < 13 ? chunk : 13);
		n = write(c->fd, out + pos, chunk);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != EPIPE && errno != ECONNRESET)
				err(EX_TEMP, "write");
			/* the peer stopped reading: get what it said */
			pos = outlen;
			shut = 1;
			continue;
		}
		pos += (size_t)n;
		/* pauses make the peer read the first 4 KiB piecemeal */
		if (opt_random && pos < 4096)
			nanosleep(&pause, NULL);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "raw", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char		*defaults[][2] = {
		{ "REQUEST_METHOD", "GET" },
		{ "SCRIPT_FILENAME", "/index.php" },
		{ "SCRIPT_NAME", "/index.php" },
		{ "REQUEST_URI", "/index.php" },
		{ "QUERY_STRING", "" },
		{ "SERVER_PROTOCOL", "HTTP/1.1" },
		{ "GATEWAY_INTERFACE", "CGI/1.1" },
		{ "SERVER_NAME", "localhost" },
		{ "SERVER_ADDR", "127.0.0.1" },
		{ "SERVER_PORT", "80" },
		{ "REMOTE_ADDR", "127.0.0.1" },
		{ "REMOTE_PORT", "12345" },
	};
	static const uint8_t		 values[] =
	    "\016\000FCGI_MAX_CONNS\015\000FCGI_MAX_REQS"
	    "\017\000FCGI_MPXS_CONNS";
	struct conn	*c;
	struct buf	 req = { 0 }, body = { 0 }, pbuf = { 0 };
	struct timespec	 now, start;
	const char	*opt_input = NULL, *opt_raw = NULL, *opt_hex = NULL;
	char		*eq, clen[32];
	uint8_t		 begin[8] = { 0, FC_RESPONDER, 0 };
	long long	 count = 1, i;
	size_t		 j;
	int		 ch, nuser = 0;
	char		**user = NULL;

	if ((user = calloc(argc, sizeof(*user))) == NULL)
		err(EX_TEMP, "calloc");
	while ((ch = getopt_long(argc, argv, "a:Hhi:kln:p:qrs:t:Vx:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			opt_inet = optarg;
			break;
		case 'H':
			opt_shut = 1;
			break;
		case 'i':
			opt_input = optarg;
			break;
		case 'k':
			opt_keep = 1;
			break;
		case 'l':
			opt_latency = 1;
			break;
		case 'n':
			count = strtoll(optarg, &eq, 10);
			if (*optarg == '\0' || *eq != '\0' || count < 1)
				errx(EX_USAGE, "-n %s: not a count", optarg);
			break;
		case 'p':
			if (strchr(optarg, '=') == NULL ||
			    *optarg == '=')
				errx(EX_USAGE, "-p %s: not NAME=VALUE", optarg);
			user[nuser++] = optarg;
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 'r':
			opt_random = 1;
			break;
		case 'R':
			opt_raw = optarg;
			mode = MODE_RAW;
			break;
		case 's':
			opt_unix = optarg;
			break;
		case 't':
			opt_timeout = strtoll(optarg, &eq, 10);
			if (*optarg == '\0' || *eq != '\0' || opt_timeout < 0)
				errx(EX_USAGE, "-t %s: not milliseconds",
				    optarg);
			break;
		case 'V':
			mode = MODE_VALUES;
			break;
		case 'x':
			opt_hex = optarg;
			mode = MODE_RAW;
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc || (opt_unix == NULL) == (opt_inet == NULL) ||
	    (opt_raw != NULL && opt_hex != NULL))
		usage(EX_USAGE);

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline.tv_sec = now.tv_sec + opt_timeout / 1000;
	deadline.tv_nsec = now.tv_nsec + (opt_timeout % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}

	switch (mode) {
	case MODE_RAW:
		if (opt_raw != NULL)
			read_input(opt_raw, &req);
		else
			read_hex(opt_hex, &req);
		break;
	case MODE_VALUES:
		buf_record(&req, FC_GET_VALUES, 0, values, sizeof(values) - 1);
		break;
	case MODE_REQUEST:
		for (j = 0; j < sizeof(defaults) / sizeof(defaults[0]); j++)
			param_set(defaults[j][0], defaults[j][1]);
		if (opt_input != NULL) {
			read_input(opt_input, &body);
			snprintf(clen, sizeof(clen), "%zu", body.len);
			param_set("CONTENT_LENGTH", clen);
		}
		for (ch = 0; ch < nuser; ch++) {
			eq = strchr(user[ch], '=');
			*eq = '\0';
			param_set(user[ch], eq + 1);
		}
		for (j = 0; j < nparams; j++)
			nv_add(&pbuf, params[j].name, strlen(params[j].name),
			    params[j].value, strlen(params[j].value));
		begin[2] = opt_keep ? FC_KEEP_CONN : 0;
		buf_record(&req, FC_BEGIN_REQUEST, REQUEST_ID, begin,
		    sizeof(begin));
		buf_stream(&req, FC_PARAMS, pbuf.data, pbuf.len);
		buf_stream(&req, FC_STDIN, body.data, body.len);
		break;
	}

	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(EX_TEMP, "calloc");
	c->fd = -1;
	for (i = 0; i < count; i++) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		if (c->fd == -1) {
			c->fd = do_connect();
			c->inlen = 0;
		}
		exchange(c, req.data, req.len);
		if (!opt_keep || c->eof) {
			close(c->fd);
			c->fd = -1;
		}
		if (opt_latency) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			printf("us=%lld\n", (long long)(now.tv_sec -
			    start.tv_sec) * 1000000 + (now.tv_nsec -
			    start.tv_nsec) / 1000);
		}
	}
	if (opt_quiet && mode == MODE_REQUEST)
		printf("responses=%lu bytes=%llu\n", nresponses, nstdout);
	if (fflush(stdout) == EOF)
		err(EX_TEMP, "stdout");
	for (j = 0; j < nparams; j++) {
		free(params[j].name);
		free(params[j].value);
	}
	free(params);
	free(req.data);
	free(body.data);
	free(pbuf.data);
	free(user);
	free(c);
	return (0);
}
