/* SPDX-License-Identifier: ISC */
/* The event loop: one epoll set, and timers kept in a heap (no timer fds). */
#ifndef LIBCOMMON_EV_H
#define LIBCOMMON_EV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Embedded in its owner; cb is called with the epoll events.  An owner that
 * goes away sets fd to -1 (ev_close) and frees its memory only after
 * ev_run_once() returns: a later event of the same batch may name it.
 */
struct ev_source {
	int	  fd;
	void	(*cb)(struct ev_source *src, uint32_t events);
};

/* The struct of type holding member, from a pointer to that member. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Work posted for the end of the loop turn, after its events and timers
 * (nginx's posted events): code that finds a pass is needed (dispatch a
 * queue, run a process manager) marks it instead of running it nested in
 * its caller.  Embedded in its owner; posted again before it ran, it runs
 * once.  A pass may post more, which runs in the same turn, in order.
 * Work that yields (a relay that has had its share of a turn) is posted
 * for the next turn instead, which then does not wait for events.
 */
struct ev_post {
	void		(*cb)(struct ev_post *p);
	struct ev_post	 *next;
	int		  posted;
};

/*
 * Embedded in its owner; cb is called once when the deadline passes.  The
 * owner reserves a heap slot for each of its timers when it is made
 * (ev_timer_reserve) and gives them back when it goes, its timers stopped:
 * arming then never allocates, so no timer is ever left unarmed.
 */
struct ev_timer {
	int64_t	  when;		/* ev_now() milliseconds */
	size_t	  slot;		/* heap index + 1; 0 when not armed */
	void	(*cb)(struct ev_timer *t);
};

/*
 * Back-off for a listening source whose accept(2) fails for want of a
 * descriptor or of memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the connection
 * stays queued, so a level-triggered epoll reports it again at once and the
 * loop would spin.  Embedded in the source's owner, whose reservation
 * counts its timer; all zero is idle.
 */
#define EV_BACKOFF_MIN_MS	10	/* the first pause */
#define EV_BACKOFF_MAX_MS	1000	/* doubled up to this */
#define EV_BACKOFF_REPORT_MS	10000	/* at most one line per this */

struct ev_backoff {
	struct ev_timer		 timer;
	struct ev_source	*src;		/* paused, or NULL */
	uint32_t		 events;	/* to watch again */
	int64_t			 delay;		/* ms; 0: accepting */
	int64_t			 reported;	/* ev_now() of the last line */
	int			 owed;		/* "accepting again" */
	unsigned long		 nfailed;	/* since the last line */
	struct ev_backoff	*next;		/* among the paused */
};

/* Create the epoll set; 0, or -1 with errno set. */
int	ev_init(void);
/* Register, change or remove src->fd; 0, or -1 with errno set. */
int	ev_add(struct ev_source *src, uint32_t events);
int	ev_mod(struct ev_source *src, uint32_t events);
/* ev_del also ends a back-off pausing src: an owner that goes needs no more. */
int	ev_del(struct ev_source *src);
/* src goes: ev_del, close, fd -1 (skipped by the rest of the batch); once. */
void	ev_close(struct ev_source *src);

/*
 * An accept on src failed for want of a resource: stop watching src, and
 * watch it for events again after b->delay ms (EV_BACKOFF_MIN_MS, doubled at
 * each failure in a row up to EV_BACKOFF_MAX_MS).  Returns 1 when one line
 * should be logged now, with *nfailed failures since the last line (the
 * first failure, then at most one line per EV_BACKOFF_REPORT_MS), else 0.
 * If src cannot leave the epoll set, it stays watched.  errno is preserved.
 */
int	ev_backoff_fail(struct ev_backoff *b, struct ev_source *src,
	    uint32_t events, unsigned long *nfailed);
/*
 * An accept succeeded: the next failure pauses for EV_BACKOFF_MIN_MS again.
 * Returns 1 when one "accepting again" line should be logged (a failure line
 * was), with *nfailed failures since that line; else 0.
 */
int	ev_backoff_ok(struct ev_backoff *b, unsigned long *nfailed);

/*
 * Make room for n more timers armed at once: 0, or -1 with errno ENOMEM
 * (nothing reserved).  The room is kept when given back, for the next.
 */
int	ev_timer_reserve(size_t n);
/* Give back n reserved timers; their owner has stopped them. */
void	ev_timer_unreserve(size_t n);
/*
 * Arm t to fire after ms (re-arming moves it).  It cannot fail: arming more
 * timers at once than were reserved is a bug, logged, and abort(3).
 */
void	ev_timer_set(struct ev_timer *t, int64_t ms);
/* Disarm t; a no-op if idle. */
void	ev_timer_stop(struct ev_timer *t);

/* Run p->cb once at the end of this loop turn (ev_run_once). */
void	ev_post(struct ev_post *p);
/*
 * Run p->cb once at the end of the next loop turn, after that turn's
 * events, which are polled without waiting: others get their turn first.
 */
void	ev_post_next(struct ev_post *p);
/* An owner that goes: p does not run, in this turn or the next. */
void	ev_unpost(struct ev_post *p);
/* Run what is posted, and what that posts, until nothing is. */
void	ev_run_posted(void);

/*
 * Free p after this loop turn, its posted work included: a later event of
 * the same batch may still name it.  Should the list not grow (ENOMEM), p
 * is leaked, said once: never freed early.
 */
void	ev_defer_free(void *p);

/* CLOCK_MONOTONIC milliseconds, read once per loop turn. */
int64_t	ev_now(void);
/* CLOCK_MONOTONIC microseconds, read now. */
int64_t	ev_now_us(void);
/* Read the clock again (after a long callback). */
int64_t	ev_now_update(void);

/*
 * Wait for events (at most until the next timer), run their callbacks, then
 * the expired timers, then the posted work, then frees what was deferred.
 * Returns 0, or -1 with errno set if epoll_wait failed
 * with anything but EINTR.
 */
int	ev_run_once(void);

#endif
