/* SPDX-License-Identifier: ISC */
/*
 * A worker stuck in a known function, for fpm-slowlog's native frames:
 * "stuck sleep", "stuck spin", or "stuck read FIFO" (blocks in read(2) and
 * reports whether a trace interrupted it).
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void	fpm_test_stuck_here(const char *, int);
void	fpm_test_outer(const char *, int);

static volatile unsigned long	spins;

__attribute__((noinline, noipa)) void
fpm_test_stuck_here(const char *mode, int fd)
{
	struct timespec	 ts = { 3600, 0 };
	char		 buf[64];
	ssize_t		 n;

	if (strcmp(mode, "spin") == 0) {
		for (;;)
			spins++;
	}
	if (strcmp(mode, "read") == 0) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1)
			err(3, "read");
		printf("read %zd bytes\n", n);
		return;
	}
	for (;;)
		nanosleep(&ts, NULL);
}

__attribute__((noinline, noipa)) void
fpm_test_outer(const char *mode, int fd)
{
	fpm_test_stuck_here(mode, fd);
	spins++;	/* not a tail call: keep this frame on the stack */
}

int
main(int argc, char *argv[])
{
	const char	*mode = argc > 1 ? argv[1] : "sleep";
	int		 fd = -1;

	if (strcmp(mode, "read") == 0) {
		if (argc < 3)
			errx(2, "usage: stuck read FIFO");
		/* O_RDWR: a fifo opened so never blocks and never sees EOF */
		if ((fd = open(argv[2], O_RDWR)) == -1)
			err(2, "%s", argv[2]);
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready %ld\n", (long)getpid());
	fpm_test_outer(mode, fd);
	return (0);
}
