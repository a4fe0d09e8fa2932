/* SPDX-License-Identifier: ISC */
/*
 * fcgi-testworker: a FastCGI worker built on Debian's libfcgi, so that the
 * tests talk to an independent FastCGI implementation.  Each request picks
 * its behaviour from QUERY_STRING (or TW_<KEY> params); see usage().
 */

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <fastcgi.h>

#define TW_MAXACTIONS	64
#define TW_CHUNK	8192
#define TW_LINE		100		/* burst= and flood= lines, newline included */
#define TW_WAIT_MS	60000		/* wait= gives up after that */

struct action {
	char		*key;
	char		*val;
};

struct reply {
	FCGX_Request	*req;
	int		 status;	/* 0: no Status header */
	int		 headers_sent;
	int		 body_action;	/* some action wrote the body */
	int		 early_end;
	long long	 deferred_ms;	/* slept after an early end */
	int		 exit_after;	/* -1: keep serving */
	char		*touch;		/* created once all work is done */
	char		*wait;		/* waited for after an early end */
	const char	*flood_stop;	/* flood= ends once this exists */
};

static void	usage(void) __attribute__((__noreturn__));
static long long	num(const char *, long long, long long);
static void	sleep_ms(long long);
static void	burn_ms(long long);
static void	wait_file(const char *);
static void	write_fd(int, const char *);
static void	write_pidfile(const char *);
static void	urldecode(char *);
static size_t	parse_query(char *, struct action *, size_t);
static size_t	parse_params(char **, struct action *, size_t);
static void	send_headers(struct reply *);
static void	body_printf(struct reply *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static int	intcmp(const void *, const void *);
static void	list_fds(struct reply *);
static void	fill_lines(char *, size_t, const char *, unsigned long long *);
static void	do_burst(struct reply *, long long);
static void	do_flood(struct reply *, long long);
static void	do_echo(struct reply *);
static void	do_action(struct reply *, const struct action *);
static void	handle(FCGX_Request *);

static unsigned long	served;		/* requests, this one too */
static unsigned long	conns;		/* connections accepted */
static pid_t		mypid;

static void
usage(void)
{
	fprintf(stderr, "usage: fcgi-testworker [-g | -t] [-d MS] [-e N] "
	    "[-p PIDFILE]\n"
	    "  -g: SIGTERM stops after the request, as in libfcgi (SIGUSR1 "
	    "always does)\n"
	    "  -t: ignore SIGTERM\n"
	    "per request (QUERY_STRING a=b,c=d or params TW_A=b):\n"
	    "  echo=1 status=N sleep=MS burn=MS bytes=N stderr=TEXT\n"
	    "  stderr_fd=TEXT stdout_fd=TEXT stderr_nonl=TEXT exit=N "
	    "exit_after=N\n"
	    "  segv=1|core hang=1 early_end=1 ignore_term=1 pid=1 count=1\n"
	    "  conn=1 env=NAME who=1 fds=1 touch=PATH\n"
	    "  wait=PATH (until PATH exists, 60 s at most; after an early "
	    "end, after its sleep)\n"
	    "  mark=PATH (write the pid to PATH now)\n"
	    "  bodylen=MS (read the body, MS ms between 8 KiB reads)\n"
	    "  burst=BYTES (one write(2) to fd 2) flood=MS (write fd 2 for MS)\n"
	    "  flood_stop=PATH (flood= ends early once PATH exists)\n");
	exit(100);
}

/* A decimal in [min, max], or -1 when it is not one. */
static long long
num(const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return (-1);
	return (v);
}

static void
sleep_ms(long long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static void
burn_ms(long long ms)
{
	struct timespec	 now;
	long long	 start, t;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == -1)
		err(111, "clock_gettime");
	start = now.tv_sec * 1000000000LL + now.tv_nsec;
	do {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
		t = now.tv_sec * 1000000000LL + now.tv_nsec;
	} while (t - start < ms * 1000000LL);
}

/*
 * Until PATH exists: a test holds a request in the worker for as long as
 * it needs, instead of guessing a sleep long enough for a loaded machine.
 * Bounded, so that a failed test leaves no worker waiting for ever.
 */
static void
wait_file(const char *path)
{
	int	ms;

	for (ms = 0; ms < TW_WAIT_MS && access(path, F_OK) == -1; ms += 10)
		sleep_ms(10);
}

/* TEXT and a newline to a raw fd, for catch_workers_output tests. */
static void
write_fd(int fd, const char *text)
{
	struct iovec	 iov[2];

	iov[0].iov_base = (void *)text;
	iov[0].iov_len = strlen(text);
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	(void)writev(fd, iov, 2);
}

/* Write then rename, so that a test polling for the file never reads half. */
static void
write_pidfile(const char *path)
{
	char	 tmp[PATH_MAX];
	FILE	*fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		errx(100, "%s: path too long", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		err(111, "%s", tmp);
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) == EOF)
		err(111, "%s", tmp);
	if (rename(tmp, path) == -1)
		err(111, "rename %s", path);
}

/* In place: %XX and '+' as in application/x-www-form-urlencoded. */
static void
urldecode(char *s)
{
	char	*d = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*d++ = ' ';
		else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			hi = isdigit((unsigned char)s[1]) ? s[1] - '0' :
			    tolower((unsigned char)s[1]) - 'a' + 10;
			lo = isdigit((unsigned char)s[2]) ? s[2] - '0' :
			    tolower((unsigned char)s[2]) - 'a' + 10;
			*d++ = (char)(hi * 16 + lo);
			s += 2;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

/* Split "a=1,b=2&c" in place; a key without '=' gets the value "1". */
static size_t
parse_query(char *q, struct action *a, size_t n)
{
	char	*tok, *eq;
	size_t	 i = 0;

	while (i < n && (tok = strsep(&q, ",&")) != NULL) {
		if (*tok == '\0')
			continue;
		if ((eq = strchr(tok, '=')) != NULL) {
			*eq = '\0';
			a[i].val = eq + 1;
			urldecode(a[i].val);
		} else
			a[i].val = (char *)"1";	/* a literal: not decoded */
		urldecode(tok);
		a[i++].key = tok;
	}
	return (i);
}

/* TW_SLEEP=200 becomes the action sleep=200; the value is taken as is. */
static size_t
parse_params(char **envp, struct action *a, size_t n)
{
	char	*eq, *k, *p;
	size_t	 i = 0;

	for (; *envp != NULL && i < n; envp++) {
		if (strncmp(*envp, "TW_", 3) != 0 ||
		    (eq = strchr(*envp, '=')) == NULL)
			continue;
		if ((k = strndup(*envp + 3, eq - *envp - 3)) == NULL)
			err(111, "strndup");
		for (p = k; *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
		a[i].key = k;
		a[i++].val = eq + 1;
	}
	return (i);
}

static void
send_headers(struct reply *r)
{
	if (r->headers_sent)
		return;
	r->headers_sent = 1;
	if (r->status != 0)
		FCGX_FPrintF(r->req->out, "Status: %d\r\n", r->status);
	FCGX_FPrintF(r->req->out, "Content-Type: text/plain\r\n"
	    "X-Worker-Pid: %ld\r\n\r\n", (long)mypid);
}

static void
body_printf(struct reply *r, const char *fmt, ...)
{
	va_list	 ap;

	send_headers(r);
	r->body_action = 1;
	va_start(ap, fmt);
	FCGX_VFPrintF(r->req->out, fmt, ap);
	va_end(ap);
}

static int
intcmp(const void *a, const void *b)
{
	int	 x = *(const int *)a, y = *(const int *)b;

	return ((x > y) - (x < y));
}

/* fds=0,1,2,...: the directory's own fd is left out. */
static void
list_fds(struct reply *r)
{
	DIR		*d;
	struct dirent	*de;
	int		*fds = NULL, *nfds, self, fd;
	size_t		 n = 0, cap = 0, i;

	if ((d = opendir("/proc/self/fd")) == NULL)
		err(111, "/proc/self/fd");
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if ((fd = (int)num(de->d_name, 0, INT_MAX)) == -1 || fd == self)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nfds = reallocarray(fds, cap, sizeof(*fds))) ==
			    NULL)
				err(111, "reallocarray");
			fds = nfds;
		}
		fds[n++] = fd;
	}
	closedir(d);
	qsort(fds, n, sizeof(*fds), intcmp);
	body_printf(r, "fds=");
	for (i = 0; i < n; i++)
		FCGX_FPrintF(r->req->out, "%s%d", i ? "," : "", fds[i]);
	FCGX_PutS("\n", r->req->out);
	free(fds);
}

/* Numbered lines of TW_LINE bytes: "TAG 0000000001 xxx...\n". */
static void
fill_lines(char *buf, size_t len, const char *tag, unsigned long long *seq)
{
	size_t	 i;
	int	 n;

	for (i = 0; i + TW_LINE <= len; i += TW_LINE) {
		memset(buf + i, 'x', TW_LINE - 1);
		n = snprintf(buf + i, TW_LINE, "%s %010llu", tag, ++*seq);
		buf[i + (size_t)n] = ' ';
		buf[i + TW_LINE - 1] = '\n';
	}
}

/*
 * burst=BYTES: the whole of it in a single write(2) to fd 2, as a program
 * that logs a burst does; the body says how much of it the kernel took.
 */
static void
do_burst(struct reply *r, long long bytes)
{
	unsigned long long	 seq = 0;
	char			*buf;
	ssize_t			 n;
	size_t			 len = (size_t)bytes / TW_LINE * TW_LINE;

	if ((buf = malloc(len + 1)) == NULL)
		err(111, "malloc");
	fill_lines(buf, len, "burst", &seq);
	n = write(STDERR_FILENO, buf, len);
	/* libfcgi's printf knows no %zd */
	body_printf(r, "burst wrote=%ld of %lu lines=%llu%s%s\n", (long)n,
	    (unsigned long)len, seq, n == -1 ? " " : "",
	    n == -1 ? strerror(errno) : "");
	free(buf);
}

/*
 * flood=MS: lines to fd 2 as fast as they are taken, for MS milliseconds
 * or until the flood_stop= file exists; EAGAIN (a non-blocking fd 2) is
 * waited out, so the flood is the same whatever the supervisor gives us.
 */
static void
do_flood(struct reply *r, long long ms)
{
	struct pollfd		 pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	struct timespec		 now;
	unsigned long long	 seq = 0, bytes = 0;
	long long		 start, t;
	char			 buf[TW_LINE * 640];
	size_t			 off;
	ssize_t			 n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	start = now.tv_sec * 1000LL + now.tv_nsec / 1000000;
	do {
		fill_lines(buf, sizeof(buf), "flood", &seq);
		for (off = 0; off < sizeof(buf); off += (size_t)n) {
			n = write(STDERR_FILENO, buf + off, sizeof(buf) - off);
			if (n == -1 && errno == EAGAIN) {
				(void)poll(&pfd, 1, -1);
				n = 0;
			} else if (n == -1 && errno != EINTR)
				goto out;
			else if (n == -1)
				n = 0;
			bytes += (unsigned long long)n;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = now.tv_sec * 1000LL + now.tv_nsec / 1000000;
	} while (t - start < ms &&
	    (r->flood_stop == NULL || access(r->flood_stop, F_OK) == -1));
out:
	body_printf(r, "flood bytes=%llu lines=%llu\n", bytes,
	    bytes / TW_LINE);
}

static void
do_echo(struct reply *r)
{
	char	**e, buf[TW_CHUNK];
	int	  n;

	send_headers(r);
	r->body_action = 1;
	for (e = r->req->envp; *e != NULL; e++)
		FCGX_FPrintF(r->req->out, "%s\n", *e);
	FCGX_PutS("--body--\n", r->req->out);
	while ((n = FCGX_GetStr(buf, sizeof(buf), r->req->in)) > 0)
		FCGX_PutStr(buf, n, r->req->out);
}

static void
do_action(struct reply *r, const struct action *a)
{
	const char	*k = a->key, *v = a->val, *s;
	char		 buf[TW_CHUNK], cwd[PATH_MAX];
	struct rlimit	 rl;
	long long	 n, len;

	if (strcmp(k, "echo") == 0) {
		do_echo(r);
	} else if (strcmp(k, "status") == 0 || strcmp(k, "early_end") == 0 ||
	    strcmp(k, "exit_after") == 0) {
		/* taken in the first pass */
	} else if (strcmp(k, "sleep") == 0) {
		if ((n = num(v, 0, LLONG_MAX / 1000000)) == -1)
			goto bad;
		if (r->early_end)
			r->deferred_ms += n;
		else
			sleep_ms(n);
	} else if (strcmp(k, "mark") == 0) {
		write_pidfile(v);
	} else if (strcmp(k, "wait") == 0) {
		if (!r->early_end) {
			wait_file(v);
			return;
		}
		free(r->wait);
		if ((r->wait = strdup(v)) == NULL)
			err(111, "strdup");
	} else if (strcmp(k, "burn") == 0) {
		if ((n = num(v, 0, LLONG_MAX / 1000000)) == -1)
			goto bad;
		burn_ms(n);
	} else if (strcmp(k, "bytes") == 0) {
		if ((n = num(v, 0, LLONG_MAX)) == -1)
			goto bad;
		send_headers(r);
		r->body_action = 1;
		memset(buf, 'x', sizeof(buf));
		for (; n > 0; n -= len) {
			len = n < (long long)sizeof(buf) ? n :
			    (long long)sizeof(buf);
			if (FCGX_PutStr(buf, (int)len, r->req->out) < 0)
				break;
		}
	} else if (strcmp(k, "stderr") == 0) {
		FCGX_PutS(v, r->req->err);
	} else if (strcmp(k, "burst") == 0) {
		if ((n = num(v, TW_LINE, LLONG_MAX)) == -1)
			goto bad;
		do_burst(r, n);
	} else if (strcmp(k, "flood") == 0) {
		if ((n = num(v, 0, LLONG_MAX / 1000000)) == -1)
			goto bad;
		do_flood(r, n);
	} else if (strcmp(k, "flood_stop") == 0) {
		r->flood_stop = v;
	} else if (strcmp(k, "stderr_fd") == 0) {
		write_fd(STDERR_FILENO, v);
	} else if (strcmp(k, "stderr_nonl") == 0) {
		(void)write(STDERR_FILENO, v, strlen(v));	/* no newline */
	} else if (strcmp(k, "stdout_fd") == 0) {
		write_fd(STDOUT_FILENO, v);
	} else if (strcmp(k, "exit") == 0) {
		if ((n = num(v, 0, 255)) == -1)
			goto bad;
		exit((int)n);		/* no END_REQUEST */
	} else if (strcmp(k, "segv") == 0) {
		/* no core file in the test's cwd unless asked (segv=core) */
		if (strcmp(v, "core") != 0) {
			rl.rlim_cur = rl.rlim_max = 0;
			(void)setrlimit(RLIMIT_CORE, &rl);
		}
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	} else if (strcmp(k, "hang") == 0) {
		for (;;)
			pause();
	} else if (strcmp(k, "ignore_term") == 0) {
		signal(SIGTERM, SIG_IGN);
	} else if (strcmp(k, "pid") == 0) {
		body_printf(r, "pid=%ld\n", (long)mypid);
	} else if (strcmp(k, "count") == 0) {
		body_printf(r, "count=%lu\n", served);
	} else if (strcmp(k, "bodylen") == 0) {
		/* MS between reads of 8 KiB: a slow reader */
		if (num(v, 0, 1000) == -1)
			goto bad;
		for (len = 0;; len += n) {
			sleep_ms(num(v, 0, 1000));
			if ((n = FCGX_GetStr(buf, sizeof(buf),
			    r->req->in)) <= 0)
				break;
		}
		body_printf(r, "bodylen=%lld\n", len);
	} else if (strcmp(k, "conn") == 0) {
		body_printf(r, "conn=%lu\n", conns);
	} else if (strcmp(k, "env") == 0) {
		s = getenv(v);
		body_printf(r, "env %s=%s\n", v, s != NULL ? s : "(unset)");
	} else if (strcmp(k, "who") == 0) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			snprintf(cwd, sizeof(cwd), "(unknown)");
		body_printf(r, "uid=%ld gid=%ld cwd=%s\n", (long)getuid(),
		    (long)getgid(), cwd);
	} else if (strcmp(k, "fds") == 0) {
		list_fds(r);
	} else if (strcmp(k, "touch") == 0) {
		free(r->touch);
		if ((r->touch = strdup(v)) == NULL)
			err(111, "strdup");
	} else {
		FCGX_FPrintF(r->req->err,
		    "fcgi-testworker: unknown action %s\n", k);
	}
	return;
bad:
	FCGX_FPrintF(r->req->err, "fcgi-testworker: bad value %s=%s\n", k, v);
}

static void
handle(FCGX_Request *req)
{
	struct action	 acts[TW_MAXACTIONS];
	struct reply	 r;
	char		*q = NULL, *qs, buf[TW_CHUNK];
	size_t		 nparam, nact, i;
	long long	 n;

	served++;
	memset(&r, 0, sizeof(r));
	r.req = req;
	r.exit_after = -1;

	nparam = parse_params(req->envp, acts, TW_MAXACTIONS);
	nact = nparam;
	if ((qs = FCGX_GetParam("QUERY_STRING", req->envp)) != NULL) {
		if ((q = strdup(qs)) == NULL)
			err(111, "strdup");
		nact += parse_query(q, acts + nact, TW_MAXACTIONS - nact);
	}

	/* First pass: what shapes the headers or the end of the request. */
	for (i = 0; i < nact; i++) {
		if (strcmp(acts[i].key, "status") == 0 &&
		    (n = num(acts[i].val, 100, 999)) != -1)
			r.status = (int)n;
		else if (strcmp(acts[i].key, "early_end") == 0)
			r.early_end = strcmp(acts[i].val, "0") != 0;
		else if (strcmp(acts[i].key, "exit_after") == 0 &&
		    (n = num(acts[i].val, 0, 255)) != -1)
			r.exit_after = (int)n;
	}

	for (i = 0; i < nact; i++)
		do_action(&r, &acts[i]);
	if (!r.body_action)
		body_printf(&r, "hello\n");
	send_headers(&r);

	/*
	 * Drain an unread body: with FCGI_KEEP_CONN the next request's
	 * records follow it on the same connection.
	 */
	while (FCGX_GetStr(buf, sizeof(buf), req->in) > 0)
		continue;

	for (i = 0; i < nparam; i++)
		free(acts[i].key);
	free(q);

	FCGX_Finish_r(req);
	if (r.deferred_ms > 0)
		sleep_ms(r.deferred_ms);
	if (r.wait != NULL) {
		wait_file(r.wait);
		free(r.wait);
	}
	if (r.touch != NULL) {
		write_pidfile(r.touch);
		free(r.touch);
	}
	if (r.exit_after != -1)
		exit(r.exit_after);
}

int
main(int argc, char *argv[])
{
	FCGX_Request	 req;
	struct stat	 st;
	ino_t		 ino = 0;
	const char	*pidfile = NULL;
	long long	 delay = 0, code = -1;
	int		 c, graceful = 0, ignore_term = 0;

	while ((c = getopt(argc, argv, "d:e:gp:t")) != -1) {
		switch (c) {
		case 'd':
			if ((delay = num(optarg, 0, LLONG_MAX / 1000000)) == -1)
				errx(100, "-d %s: not a number of ms", optarg);
			break;
		case 'e':
			if ((code = num(optarg, 0, 255)) == -1)
				errx(100, "-e %s: not an exit code", optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'g':
			graceful = 1;
			break;
		case 't':
			ignore_term = 1;
			signal(SIGTERM, SIG_IGN);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	mypid = getpid();
	if (pidfile != NULL)
		write_pidfile(pidfile);
	if (delay > 0)
		sleep_ms(delay);
	if (code != -1)
		exit((int)code);

	if (FCGX_Init() != 0)
		errx(111, "FCGX_Init failed");
	/*
	 * libfcgi catches SIGTERM (and SIGUSR1) to stop after the current
	 * request; a test worker dies at once unless told otherwise.
	 */
	if (!graceful)
		signal(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
	if (FCGX_IsCGI())
		errx(100, "fd 0 is not a listening socket");
	if (FCGX_InitRequest(&req, FCGI_LISTENSOCK_FILENO, 0) != 0)
		errx(111, "FCGX_InitRequest failed");
	while (FCGX_Accept_r(&req) >= 0) {
		/*
		 * libfcgi may drop a kept connection and accept another
		 * inside FCGX_Accept_r, maybe on the same fd number; a new
		 * socket has a new inode.
		 */
		if (fstat(req.ipcFd, &st) == 0 && st.st_ino != ino) {
			ino = st.st_ino;
			conns++;
		}
		handle(&req);
	}
	return (0);
}
