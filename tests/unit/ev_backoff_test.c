/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for libcommon/ev's accept back-off: a source that keeps
 * failing is paused for a doubling interval and reported once per interval.
 */

#include <sys/epoll.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/ev.h"
#include "tests/unit/tap.h"

enum mode { FAIL, SUCCEED };

static struct ev_backoff	 b;
static enum mode		 mode;
static int			 ncalls, nlines, lastr, fired;
static unsigned long		 lastn;
static int64_t			 delays[16];

static void	on_ready(struct ev_source *, uint32_t);
static void	on_timer(struct ev_timer *);
static void	run_until_fired(int64_t);

/* Stands for accept(2): fails (the byte stays, as a queued connection). */
static void
on_ready(struct ev_source *src, uint32_t events)
{
	char	c;

	(void)events;
	if (mode == SUCCEED) {
		(void)read(src->fd, &c, 1);
		lastr = ev_backoff_ok(&b, &lastn);
		ncalls++;
		return;
	}
	lastr = ev_backoff_fail(&b, src, EPOLLIN, &lastn);
	if (lastr)
		nlines++;
	if (ncalls < 16)
		delays[ncalls] = b.delay;
	ncalls++;
}

static void
on_timer(struct ev_timer *t)
{
	(void)t;
	fired = 1;
}

/* Run the loop until a sentinel timer set ms from now fires. */
static void
run_until_fired(int64_t ms)
{
	struct ev_timer	t = { .cb = on_timer };

	fired = 0;
	ev_timer_set(&t, ms);
	while (!fired)
		ev_run_once();
}

int
main(void)
{
	struct ev_source	 src = { -1, on_ready };
	int			 p[2], calls;

	printf("1..14\n");
	/* b's timer and run_until_fired()'s */
	if (ev_init() == -1 || ev_timer_reserve(2) == -1 || pipe(p) == -1)
		return (1);
	src.fd = p[0];
	(void)write(p[1], "x", 1);
	ev_add(&src, EPOLLIN);

	/* 10 + 20 + 40 + 80 ms of pauses: the 5th call is at 150 ms */
	run_until_fired(200);
	check(ncalls >= 3 && ncalls <= 6,
	    "a failing source is called %d times in 200 ms, not thousands",
	    ncalls);
	check(delays[0] == 10 && delays[1] == 20 && delays[2] == 40,
	    "the pause doubles from 10 ms (%lld %lld %lld)",
	    (long long)delays[0], (long long)delays[1], (long long)delays[2]);
	check(nlines == 1, "one line reported, the first failure's (%d)",
	    nlines);
	check(b.src == &src, "the source is out of the set while paused");

	/* fds come back: the next try succeeds */
	calls = ncalls;
	mode = SUCCEED;
	run_until_fired(400);
	check(ncalls == calls + 1, "the paused source is watched again");
	check(lastr == 1 && lastn == (unsigned long)calls - 1,
	    "one 'accepting again' line, %lu failures since the first line",
	    lastn);
	check(b.delay == 0 && b.src == NULL, "a success ends the back-off");
	check(ev_backoff_ok(&b, &lastn) == 0, "a second success says nothing");

	/* a new failure starts from the shortest pause, and stays quiet */
	mode = FAIL;
	ncalls = 0;
	(void)write(p[1], "y", 1);
	run_until_fired(5);
	check(ncalls == 1 && delays[0] == EV_BACKOFF_MIN_MS,
	    "after a success the pause is %d ms again", EV_BACKOFF_MIN_MS);
	check(lastr == 0, "within EV_BACKOFF_REPORT_MS of a line, no line");

	/* the owner goes: ev_del ends the pause, nothing fires later */
	check(ev_del(&src) == 0, "ev_del of a paused source succeeds");
	check(b.src == NULL && b.timer.slot == 0,
	    "ev_del stops the back-off's timer");
	ncalls = 0;
	run_until_fired(30);
	check(ncalls == 0, "a deleted source is not watched again");

	/* the cap */
	ev_add(&src, EPOLLIN);
	b.delay = 600;
	ev_backoff_fail(&b, &src, EPOLLIN, &lastn);
	check(b.delay == EV_BACKOFF_MAX_MS, "the pause stops doubling at %d ms",
	    EV_BACKOFF_MAX_MS);
	ev_del(&src);
	close(p[0]);
	close(p[1]);
	return (nfail != 0);
}
