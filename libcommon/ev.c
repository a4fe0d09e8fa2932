/* SPDX-License-Identifier: ISC */
/* The event loop: one epoll set, and timers kept in a heap (no timer fds). */

#include <sys/epoll.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/ev.h"
#include "libcommon/log.h"

#define EV_MAXEVENTS	64

static int		  epfd = -1;
static int64_t		  now;
static struct ev_timer	**heap;		/* a binary min-heap on when */
static size_t		  nheap, heapsize;
/*
 * nheap <= nreserved <= heapsize: ev_timer_set() never grows the heap, only
 * ev_timer_reserve() does, where its owner can still refuse to be made.
 */
static size_t		  nreserved;
static struct ev_backoff *paused;	/* their source is out of the set */
static struct ev_post	 *posted, **posted_tail = &posted;	/* a FIFO */
static struct ev_post	 *later, **later_tail = &later;	/* the next turn's */
static void		**graveyard;	/* ev_defer_free() */
static size_t		  ngraveyard, graveyardsize;

static void	ev_heap_up(size_t);
static void	ev_heap_down(size_t);
static void	ev_heap_place(struct ev_timer *, size_t);
static void	ev_backoff_link(struct ev_backoff *, struct ev_source *);
static void	ev_backoff_unlink(struct ev_backoff *);
static void	ev_backoff_resume(struct ev_timer *);
static void	ev_botch(const char *) __attribute__((noreturn));

int
ev_init(void)
{
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return (-1);
	ev_now_update();
	return (0);
}

int
ev_add(struct ev_source *src, uint32_t events)
{
	struct epoll_event	ev = { .events = events, .data.ptr = src };

	return (epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev));
}

int
ev_mod(struct ev_source *src, uint32_t events)
{
	struct epoll_event	ev = { .events = events, .data.ptr = src };

	return (epoll_ctl(epfd, EPOLL_CTL_MOD, src->fd, &ev));
}

int
ev_del(struct ev_source *src)
{
	struct ev_backoff	*b;

	for (b = paused; b != NULL; b = b->next) {
		if (b->src != src)
			continue;
		/* out of the set already: only its timer to stop */
		ev_timer_stop(&b->timer);
		ev_backoff_unlink(b);
		b->delay = 0;
		b->owed = 0;
		return (0);
	}
	return (epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL));
}

void
ev_close(struct ev_source *src)
{
	if (src->fd == -1)
		return;
	(void)ev_del(src);
	close(src->fd);
	src->fd = -1;
}

static void
ev_backoff_link(struct ev_backoff *b, struct ev_source *src)
{
	b->src = src;
	b->next = paused;
	paused = b;
}

static void
ev_backoff_unlink(struct ev_backoff *b)
{
	struct ev_backoff	**bp;

	for (bp = &paused; *bp != NULL; bp = &(*bp)->next)
		if (*bp == b) {
			*bp = b->next;
			break;
		}
	b->src = NULL;
	b->next = NULL;
}

int
ev_backoff_fail(struct ev_backoff *b, struct ev_source *src, uint32_t events,
    unsigned long *nfailed)
{
	int64_t	delay;
	int	saved_errno = errno;	/* the caller logs accept's */

	b->nfailed++;
	delay = b->delay == 0 ? EV_BACKOFF_MIN_MS : b->delay * 2;
	if (delay > EV_BACKOFF_MAX_MS)
		delay = EV_BACKOFF_MAX_MS;
	b->delay = delay;
	/* the timer cannot fail to bring back a source taken out */
	if (b->src == NULL &&
	    epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL) == 0) {
		b->timer.cb = ev_backoff_resume;
		b->events = events;
		ev_timer_set(&b->timer, delay);
		ev_backoff_link(b, src);
	}
	errno = saved_errno;
	/* 0 is never: a clock at 0 ms is taken for 1 */
	if (b->reported != 0 && now - b->reported < EV_BACKOFF_REPORT_MS)
		return (0);
	*nfailed = b->nfailed;
	b->nfailed = 0;
	b->reported = now != 0 ? now : 1;
	b->owed = 1;
	return (1);
}

int
ev_backoff_ok(struct ev_backoff *b, unsigned long *nfailed)
{
	if (b->delay == 0)
		return (0);
	b->delay = 0;
	if (!b->owed)
		return (0);
	b->owed = 0;
	*nfailed = b->nfailed;
	b->nfailed = 0;
	b->reported = now != 0 ? now : 1;
	return (1);
}

/* The pause is over: watch the source again, and let accept(2) tell. */
static void
ev_backoff_resume(struct ev_timer *t)
{
	struct ev_backoff	*b = container_of(t, struct ev_backoff, timer);
	struct ev_source	*src = b->src;
	struct epoll_event	 ev = { .events = b->events, .data.ptr = src };

	if (src == NULL)
		return;
	ev_backoff_unlink(b);
	if (src->fd == -1)
		return;
	/* EEXIST: its owner put it back itself */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev) == -1 &&
	    errno != EEXIST) {
		ev_timer_set(&b->timer, b->delay);
		ev_backoff_link(b, src);	/* out of kernel memory: later */
	}
}

int64_t
ev_now(void)
{
	return (now);
}

int64_t
ev_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
ev_post(struct ev_post *p)
{
	if (p->posted)
		return;
	p->posted = 1;
	p->next = NULL;
	*posted_tail = p;
	posted_tail = &p->next;
}

void
ev_post_next(struct ev_post *p)
{
	if (p->posted)
		return;
	p->posted = 2;
	p->next = NULL;
	*later_tail = p;
	later_tail = &p->next;
}

void
ev_unpost(struct ev_post *p)
{
	struct ev_post	**pp, ***tail;

	if (!p->posted)
		return;
	pp = p->posted == 1 ? &posted : &later;
	tail = p->posted == 1 ? &posted_tail : &later_tail;
	for (; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	if (*tail == &p->next)
		*tail = pp;
	p->posted = 0;
}

void
ev_run_posted(void)
{
	struct ev_post	*p;

	while ((p = posted) != NULL) {
		if ((posted = p->next) == NULL)
			posted_tail = &posted;
		p->posted = 0;
		p->cb(p);
	}
}

void
ev_defer_free(void *p)
{
	static int	 said;
	void		**n;
	size_t		  size;

	if (ngraveyard == graveyardsize) {
		size = graveyardsize ? graveyardsize * 2 : 64;
		if ((n = reallocarray(graveyard, size, sizeof(*n))) == NULL) {
			if (!said++)
				log_warn("leaking memory, not to free it early");
			return;
		}
		graveyard = n;
		graveyardsize = size;
	}
	graveyard[ngraveyard++] = p;
}

int64_t
ev_now_update(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return (now);
}

static void
ev_heap_place(struct ev_timer *t, size_t i)
{
	heap[i] = t;
	t->slot = i + 1;
}

static void
ev_heap_up(size_t i)
{
	struct ev_timer	*t = heap[i];
	size_t		 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (heap[parent]->when <= t->when)
			break;
		ev_heap_place(heap[parent], i);
		i = parent;
	}
	ev_heap_place(t, i);
}

static void
ev_heap_down(size_t i)
{
	struct ev_timer	*t = heap[i];
	size_t		 child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= nheap)
			break;
		if (child + 1 < nheap && heap[child + 1]->when <
		    heap[child]->when)
			child++;
		if (heap[child]->when >= t->when)
			break;
		ev_heap_place(heap[child], i);
		i = child;
	}
	ev_heap_place(t, i);
}

/* A caller broke the reservation contract: say so, and leave a core. */
static void
ev_botch(const char *what)
{
	log_msg(LOG_LVL_ALERT, "libcommon/ev: %s (%zu armed, %zu reserved)",
	    what, nheap, nreserved);
	abort();
}

int
ev_timer_reserve(size_t n)
{
	struct ev_timer	**h;
	size_t		  need, size;

	if (n > SIZE_MAX - nreserved) {
		errno = ENOMEM;
		return (-1);
	}
	need = nreserved + n;
	if (need > heapsize) {
		/* doubling: a connection a time costs amortized O(1) */
		size = heapsize > 0 ? heapsize : 64;
		while (size < need)
			size = size > SIZE_MAX / 2 ? need : size * 2;
		if ((h = reallocarray(heap, size, sizeof(*h))) == NULL)
			return (-1);
		heap = h;
		heapsize = size;
	}
	nreserved = need;
	return (0);
}

void
ev_timer_unreserve(size_t n)
{
	if (n > nreserved)
		ev_botch("more timers given back than reserved");
	nreserved -= n;
}

void
ev_timer_set(struct ev_timer *t, int64_t ms)
{
	if (t->slot != 0)
		ev_timer_stop(t);
	/*
	 * An owner that reserved nothing: a timer of its lost now and then
	 * would leave a worker unkilled or a client unanswered, unseen.
	 */
	if (nheap >= nreserved)
		ev_botch("more timers armed than reserved");
	t->when = now + ms;
	heap[nheap++] = t;
	ev_heap_up(nheap - 1);
}

void
ev_timer_stop(struct ev_timer *t)
{
	size_t	i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--nheap == i)
		return;
	ev_heap_place(heap[nheap], i);
	ev_heap_up(i);
	ev_heap_down(heap[i] == NULL ? i : heap[i]->slot - 1);
}

int
ev_run_once(void)
{
	struct epoll_event	 evs[EV_MAXEVENTS];
	struct ev_source	*src;
	struct ev_timer		*t;
	struct ev_post		*p;
	int64_t			 wait;
	int			 n, i;

	ev_run_posted();	/* posted outside the loop (at start) */
	wait = -1;
	if (later != NULL) {
		/* yielded last turn: runs after this turn's events */
		for (p = later; p != NULL; p = p->next)
			p->posted = 1;
		*posted_tail = later;
		posted_tail = later_tail;
		later = NULL;
		later_tail = &later;
		wait = 0;
	} else if (nheap > 0) {
		wait = heap[0]->when - now;
		if (wait < 0)
			wait = 0;
		if (wait > 60000)
			wait = 60000;
	}
	n = epoll_wait(epfd, evs, EV_MAXEVENTS, (int)wait);
	ev_now_update();
	if (n == -1)
		return (errno == EINTR ? 0 : -1);
	for (i = 0; i < n; i++) {
		src = evs[i].data.ptr;
		/* closed by an earlier callback of this batch */
		if (src->fd != -1)
			src->cb(src, evs[i].events);
	}
	while (nheap > 0 && heap[0]->when <= now) {
		t = heap[0];
		ev_timer_stop(t);
		t->cb(t);
	}
	ev_run_posted();
	for (i = 0; i < (int)ngraveyard; i++)
		free(graveyard[i]);
	ngraveyard = 0;
	return (0);
}
