/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the client side of the control protocol
 * (libcommon/ctl, fpm-control(7)): the input is what a supervisor answers
 * on its control socket.  A thread of the target plays the supervisor on
 * a real unix socket; ctl_request() must hand back exactly those bytes,
 * ctl_reply_parse() must split them inside the buffer or refuse them with
 * EPROTO, and fpm-status --watch (cmd/fpm-status/main.c, which asks for
 * "status - text full") must parse and draw whatever page comes back.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/ctl.h"
#include "libcommon/log.h"
#include "tests/fuzz/fuzz.h"

#define SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	fpm_status_fuzz_watch(const char *, int);	/* fpm-status */

static void	*serve(void *);
static void	 answer(int);
static void	 check_parse(const char *, size_t);

static char		 dir[PATH_MAX];
static char		 sockpath[SUN_PATH_MAX];
static int		 lfd;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t	*reply;		/* what the next answer is */
static size_t		 replylen;

/* One connection: read the request line, answer, wait for the close. */
static void
answer(int fd)
{
	const uint8_t	*p;
	char		 req[CTL_LINE_MAX + 1] = "";
	size_t		 len = 0, n;
	ssize_t		 r;

	while (len < sizeof(req) && memchr(req, '\n', len) == NULL) {
		if ((r = read(fd, req + len, sizeof(req) - len)) <= 0)
			fuzz_fail("no request line", req, len);
		len += (size_t)r;
	}
	if (len == 0 || req[len - 1] != '\n' || len > CTL_LINE_MAX)
		fuzz_fail("bad request line", req, len);
	pthread_mutex_lock(&lock);
	p = reply;
	n = replylen;
	pthread_mutex_unlock(&lock);
	while (n > 0) {
		if ((r = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			break;	/* the client gave up: its error */
		}
		p += r;
		n -= (size_t)r;
	}
	/* end of reply; reading on to the client's close avoids an RST */
	(void)shutdown(fd, SHUT_WR);
	while (read(fd, req, sizeof(req)) > 0)
		;
	close(fd);
}

static void *
serve(void *arg)
{
	int	fd;

	(void)arg;
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			abort();
		}
		answer(fd);
	}
	return (NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un	sun;
	pthread_t		t;

	(void)argc;
	(void)argv;
	log_init("ctl_fuzz", LOG_STYLE_PLAIN);
	signal(SIGPIPE, SIG_IGN);
	fuzz_quiet_stdout();
	fuzz_tmpdir(dir, sizeof(dir), "ctl");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	fuzz_path(sockpath, sizeof(sockpath), dir, "ctl.sock", 8);
	strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    pthread_create(&t, NULL, serve, NULL) != 0) {
		perror(sockpath);
		abort();
	}
	return (0);
}

/* ctl_reply_parse() on a copy of the len bytes at s, and what it promises. */
static void
check_parse(const char *s, size_t len)
{
	char	*buf, *msg, *body, *nl;
	int	 code, rc;

	if ((buf = malloc(len + 1)) == NULL)
		abort();
	memcpy(buf, s, len);
	buf[len] = '\0';
	nl = strchr(buf, '\n');
	errno = 0;
	msg = body = NULL;
	code = -1;
	rc = ctl_reply_parse(buf, &code, &msg, &body);
	if (rc == -1) {
		if (errno != EPROTO)
			abort();
	} else if (nl == NULL || body != nl + 1 || *nl != '\0' ||
	    msg < buf || msg > nl || code < 0 || code > 255 ||
	    (code == 0) != (strncmp(buf, "ok", 2) == 0))
		abort();
	else if (code == 0)
		(void)ctl_is_readonly(msg);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*got;

	pthread_mutex_lock(&lock);
	reply = data;
	replylen = len;
	pthread_mutex_unlock(&lock);

	/* what fpm-ctl does: the reply comes back whole, NUL-terminated */
	got = NULL;
	if (ctl_request(sockpath, "pid", 0, &got) == -1)
		fuzz_fail("ctl_request failed", strerror(errno),
		    strlen(strerror(errno)));
	if (memcmp(got, data, len) != 0 || got[len] != '\0')
		fuzz_fail("reply changed", got, len);
	free(got);
	check_parse((const char *)data, len);

	/* what fpm-status --watch does with it, on a terminal or not */
	fpm_status_fuzz_watch(sockpath, (int)(len & 1));
	return (0);
}
