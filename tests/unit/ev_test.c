/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/ev: fd events, timers in deadline order. */

#include <sys/epoll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/ev.h"

static int	ntests, nfailed;
static char	fired[64];
static size_t	nfired;
static int	nread;

#define CHECK(cond, what) do {						\
	ntests++;							\
	if (cond)							\
		printf("ok %d - %s\n", ntests, what);			\
	else {								\
		nfailed++;						\
		printf("not ok %d - %s\n", ntests, what);		\
	}								\
} while (0)

struct tagged {
	struct ev_timer	t;
	char		tag;
};

static void
on_timer(struct ev_timer *t)
{
	struct tagged	*tt = (struct tagged *)t;

	fired[nfired++] = tt->tag;
	fired[nfired] = '\0';
}

static void
on_read(struct ev_source *src, uint32_t events)
{
	char	buf[16];

	if ((events & EPOLLIN) && read(src->fd, buf, sizeof(buf)) > 0)
		nread++;
}

int
main(void)
{
	struct tagged		 t[6];
	struct ev_source	 src;
	const char		*tags = "abcdef";
	int64_t			 start, when[6] = { 50, 10, 30, 20, 40, 60 };
	int			 p[2], i, turns;

	printf("1..9\n");
	CHECK(ev_init() == 0, "ev_init");
	start = ev_now();
	for (i = 0; i < 6; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].t.cb = on_timer;
		t[i].tag = tags[i];
		ev_timer_set(&t[i].t, when[i]);
	}
	/* re-arming moves a timer; stopping removes it */
	ev_timer_set(&t[5].t, 5);
	ev_timer_stop(&t[4].t);
	ev_timer_stop(&t[4].t);
	CHECK(t[4].t.slot == 0, "a stopped timer is not armed");
	for (turns = 0; nfired < 5 && turns < 100; turns++)
		ev_run_once();
	CHECK(strcmp(fired, "fbdca") == 0, "timers fire in deadline order");
	CHECK(ev_now() - start >= 50, "no timer fires early");
	CHECK(ev_now() - start < 1000, "timers fire without a tick");

	if (pipe(p) == -1)
		return (1);
	src.fd = p[0];
	src.cb = on_read;
	CHECK(ev_add(&src, EPOLLIN) == 0, "ev_add a pipe");
	(void)write(p[1], "x", 1);
	ev_run_once();
	CHECK(nread == 1, "a readable fd calls its callback");
	/* a source whose fd is -1 is skipped (closed earlier in a batch) */
	(void)write(p[1], "y", 1);
	ev_del(&src);
	CHECK(ev_add(&src, EPOLLIN) == 0, "ev_add again");
	src.fd = -1;
	memset(&t[0], 0, sizeof(t[0]));
	t[0].t.cb = on_timer;
	ev_timer_set(&t[0].t, 1);
	ev_run_once();
	while (t[0].t.slot != 0)
		ev_run_once();
	CHECK(nread == 1, "a source with fd -1 is not called");
	close(p[0]);
	close(p[1]);
	return (nfailed != 0);
}
