/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for libcommon/ev: fd events, timers in deadline order, and
 * the reservation that keeps arming a timer from ever allocating.
 */

#include <sys/epoll.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/ev.h"

#define NRESERVE	1000	/* past the heap's first 64 slots */

static int	ntests, nfailed;
static char	fired[64];
static size_t	nfired;
static int	nread;
static int	fail_alloc, nalloc;
static int64_t	order[NRESERVE];
static size_t	norder;

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
on_order(struct ev_timer *t)
{
	if (norder < NRESERVE)
		order[norder++] = t->when;
}

/*
 * ev.c's only allocation, interposed: counted, and failed on demand, so
 * that a test can tell ev_timer_set() never allocates.
 */
void *
reallocarray(void *p, size_t nmemb, size_t size)
{
	nalloc++;
	if (fail_alloc || (size != 0 && nmemb > SIZE_MAX / size)) {
		errno = ENOMEM;
		return (NULL);
	}
	return (realloc(p, nmemb * size));
}

/* Does a child that gives back giveback timers, then arms narm, abort? */
static int
overarm_aborts(size_t giveback, int narm)
{
	struct ev_timer	 t[2];
	pid_t		 pid;
	int		 status, fd;

	if ((pid = fork()) == -1)
		return (0);
	if (pid == 0) {
		/* the line it logs is expected: keep the TAP output clean */
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, 2);
		memset(t, 0, sizeof(t));
		t[0].cb = t[1].cb = on_order;
		ev_timer_unreserve(giveback);
		ev_timer_set(&t[0], 1000);
		if (narm > 1)
			ev_timer_set(&t[1], 1000);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return (0);
	return (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* posted work: each pass notes its tag; 'a' posts 'b' and itself again */
struct pass {
	struct ev_post	p;
	char		tag;
};
static struct pass	passes[3];
static char		ran[16];
static size_t		nran;
static int		reposted;

static void
on_post(struct ev_post *ep)
{
	struct pass	*ps = container_of(ep, struct pass, p);

	ran[nran++] = ps->tag;
	ran[nran] = '\0';
	if (ps->tag == 'a' && !reposted) {
		reposted = 1;
		ev_post(&passes[1].p);
		ev_post(&passes[0].p);
	}
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
	struct ev_timer		*r;
	struct ev_source	 src;
	const char		*tags = "abcdef";
	int64_t			 start, when[6] = { 50, 10, 30, 20, 40, 60 };
	int			 p[2], i, turns, ok;

	printf("1..30\n");
	CHECK(ev_init() == 0, "ev_init");
	CHECK(ev_timer_reserve(6) == 0, "ev_timer_reserve 6");
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
	/* ev_close: out of the set, closed, -1; again, nothing */
	if (pipe(p) == -1)
		return (1);
	src.fd = p[0];
	CHECK(ev_add(&src, EPOLLIN) == 0, "ev_add before ev_close");
	ev_close(&src);
	CHECK(src.fd == -1 && fcntl(p[0], F_GETFD) == -1 && errno == EBADF,
	    "ev_close closes the fd and sets -1");
	ev_close(&src);
	CHECK(src.fd == -1, "ev_close of a closed source does nothing");
	close(p[1]);

	/* reserve N, then arm N timers while every allocation fails */
	if ((r = calloc(NRESERVE, sizeof(*r))) == NULL)
		return (1);
	nalloc = 0;
	CHECK(ev_timer_reserve(NRESERVE) == 0 && nalloc > 0,
	    "ev_timer_reserve grows the heap");
	fail_alloc = 1;
	nalloc = 0;
	ok = 1;
	for (i = 0; i < NRESERVE; i++) {
		r[i].cb = on_order;
		/* deadlines out of order, some equal: 0 to 30 ms */
		ev_timer_set(&r[i], (i * 37) % 31);
		ok &= r[i].slot != 0;
	}
	/* re-arming an armed timer takes no new slot */
	ev_timer_set(&r[0], 0);
	CHECK(ok && nalloc == 0,
	    "reserved timers arm while allocations fail, allocating nothing");
	for (turns = 0; norder < NRESERVE && turns < 1000; turns++)
		ev_run_once();
	ok = norder == NRESERVE;
	for (i = 1; ok && i < NRESERVE; i++)
		ok = order[i - 1] <= order[i];
	CHECK(ok, "all reserved timers fire, in deadline order");

	/* the room stays when given back: reserving again allocates nothing */
	ev_timer_unreserve(NRESERVE);
	CHECK(ev_timer_reserve(NRESERVE) == 0 && nalloc == 0,
	    "unreserve keeps the room, a new reserve needs no allocation");
	errno = 0;
	CHECK(ev_timer_reserve(1000000) == -1 && errno == ENOMEM,
	    "a reserve that cannot grow the heap fails with ENOMEM");
	errno = 0;
	CHECK(ev_timer_reserve(SIZE_MAX) == -1 && errno == ENOMEM,
	    "a reserve of SIZE_MAX fails with ENOMEM");
	/* the failures took nothing: all 6 + N can still be armed */
	nalloc = 0;
	for (i = 0; i < NRESERVE; i++)
		ev_timer_set(&r[i], 60000);
	for (i = 0; i < 6; i++)
		ev_timer_set(&t[i].t, 60000);
	CHECK(nalloc == 0, "6 + N reserved timers armed at once");
	CHECK(overarm_aborts(0, 1),
	    "arming one more than reserved aborts, loudly");
	for (i = 0; i < NRESERVE; i++)
		ev_timer_stop(&r[i]);
	for (i = 0; i < 6; i++)
		ev_timer_stop(&t[i].t);
	CHECK(overarm_aborts(6 + NRESERVE, 1),
	    "with nothing reserved, arming aborts");
	CHECK(!overarm_aborts(4 + NRESERVE, 2),
	    "with 2 reserved, 2 timers arm");
	ev_timer_unreserve(6 + NRESERVE);
	fail_alloc = 0;
	free(r);

	/* posted work: once per posting, in order, after the turn's events */
	for (i = 0; i < 3; i++) {
		passes[i].p.cb = on_post;
		passes[i].tag = "abc"[i];
	}
	ev_post(&passes[2].p);
	ev_post(&passes[0].p);
	ev_post(&passes[2].p);
	CHECK(nran == 0, "posted work waits for the loop");
	ev_post(&passes[1].p);
	ev_unpost(&passes[1].p);
	ev_unpost(&passes[1].p);
	ev_run_posted();
	/* c, a (posts b, then a again), b, a */
	CHECK(strcmp(ran, "caba") == 0, "posted once, in order; a pass posts more");
	nran = 0;
	ev_post(&passes[0].p);
	ev_unpost(&passes[0].p);
	ev_post(&passes[2].p);
	ev_run_posted();
	CHECK(strcmp(ran, "c") == 0, "unposted work does not run");
	nran = 0;
	ran[0] = '\0';
	memset(&t[0], 0, sizeof(t[0]));
	t[0].t.cb = on_timer;
	ev_timer_reserve(1);
	ev_timer_set(&t[0].t, 0);
	ev_post(&passes[1].p);
	ev_run_once();
	CHECK(strcmp(ran, "b") == 0, "ev_run_once runs posted work");

	/* yielding: the next turn runs it, without waiting for an event */
	nran = 0;
	ran[0] = '\0';
	ev_post_next(&passes[2].p);
	ev_post_next(&passes[1].p);
	ev_post_next(&passes[2].p);
	ev_post_next(&passes[0].p);
	ev_unpost(&passes[0].p);
	ev_run_posted();
	CHECK(nran == 0, "work for the next turn waits for it");
	ev_timer_set(&t[0].t, 5000);	/* else it would wait for ever */
	start = ev_now_update();
	ev_run_once();
	CHECK(strcmp(ran, "cb") == 0, "the next turn runs it once, in order");
	CHECK(ev_now_update() - start < 2500, "the next turn does not wait");
	ev_timer_stop(&t[0].t);
	return (nfailed != 0);
}
