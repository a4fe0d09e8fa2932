/* SPDX-License-Identifier: ISC */
/*
 * conn-hold: open N connections to a unix socket and hold them, sending
 * nothing.  Prints "open N" once connected; with -w, waits for the peer to
 * close them all and prints "closed K of N first F ms last L ms", then
 * "said: " and the first bytes any of them received, up to a newline.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCONNS	4096
#define CONNECT_MS	10000	/* a full accept queue drains by then */

static int64_t	now_ms(void);
static int	hold_connect(const struct sockaddr_un *);
static void	usage(void) __attribute__((noreturn));

static int64_t
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(111, "clock_gettime");
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * A non-blocking unix connect fails with EAGAIN while the accept queue is
 * full (a blocking one would hang): retry every millisecond until CONNECT_MS.
 */
static int
hold_connect(const struct sockaddr_un *sun)
{
	struct timespec	 ms = { 0, 1000000 };
	int64_t		 deadline = now_ms() + CONNECT_MS;
	int		 fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(111, "socket");
	while (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			err(111, "connect %s", sun->sun_path);
		if (now_ms() > deadline)
			errx(111, "connect %s: still refused after %d ms",
			    sun->sun_path, CONNECT_MS);
		nanosleep(&ms, NULL);
	}
	return (fd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: conn-hold -s PATH -n N [-w MS]\n");
	exit(100);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct pollfd		*pfd;
	const char		*path = NULL;
	char			 buf[512], said[512] = "";
	int64_t			 start, first = -1, last = -1, wait_ms = -1;
	ssize_t			 r;
	long			 n = 0;
	int			 c, i, nclosed = 0;

	while ((c = getopt(argc, argv, "n:s:w:")) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 's':
			path = optarg;
			break;
		case 'w':
			wait_ms = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (path == NULL || n < 1 || n > MAXCONNS ||
	    strlen(path) >= sizeof(sun.sun_path))
		usage();
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		err(111, "calloc");
	start = now_ms();
	for (i = 0; i < n; i++) {
		pfd[i].fd = hold_connect(&sun);
		pfd[i].events = POLLIN;
	}
	printf("open %ld\n", n);
	fflush(stdout);
	if (wait_ms < 0) {
		for (;;)
			pause();
	}
	/* read and drop what the peer says (an error line) until it closes */
	while (nclosed < n && now_ms() - start < wait_ms) {
		if (poll(pfd, (nfds_t)n, 50) == -1 && errno != EINTR)
			err(111, "poll");
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r > 0 && said[0] == '\0') {
				buf[r < (ssize_t)sizeof(buf) ? r : r - 1] =
				    '\0';
				buf[strcspn(buf, "\n")] = '\0';
				strlcpy(said, buf, sizeof(said));
			}
			if (r > 0)
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			nclosed++;
			last = now_ms() - start;
			if (first == -1)
				first = last;
		}
	}
	printf("closed %d of %ld first %lld ms last %lld ms\n", nclosed, n,
	    (long long)first, (long long)last);
	printf("said: %s\n", said);
	return (nclosed == n ? 0 : 1);
}
