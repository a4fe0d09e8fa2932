/* SPDX-License-Identifier: ISC */
/* The event loop: one epoll set, and timers kept in a heap (no timer fds). */
#ifndef LIBCOMMON_EV_H
#define LIBCOMMON_EV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Embedded in its owner; cb is called with the epoll events.  An owner that
 * goes away sets fd to -1 (after ev_del and close) and frees its memory only
 * after ev_run_once() returns: a later event of the same batch may name it.
 */
struct ev_source {
	int	  fd;
	void	(*cb)(struct ev_source *src, uint32_t events);
};

/* Embedded in its owner; cb is called once when the deadline passes. */
struct ev_timer {
	int64_t	  when;		/* ev_now() milliseconds */
	size_t	  slot;		/* heap index + 1; 0 when not armed */
	void	(*cb)(struct ev_timer *t);
};

/* Create the epoll set; 0, or -1 with errno set. */
int	ev_init(void);
/* Register, change or remove src->fd; 0, or -1 with errno set. */
int	ev_add(struct ev_source *src, uint32_t events);
int	ev_mod(struct ev_source *src, uint32_t events);
int	ev_del(struct ev_source *src);

/* Arm t to fire after ms (re-arming moves it); stop is a no-op if idle. */
int	ev_timer_set(struct ev_timer *t, int64_t ms);
void	ev_timer_stop(struct ev_timer *t);

/* CLOCK_MONOTONIC milliseconds, read once per loop turn. */
int64_t	ev_now(void);
/* Read the clock again (after a long callback). */
int64_t	ev_now_update(void);

/*
 * Wait for events (at most until the next timer), run their callbacks, then
 * the expired timers.  Returns 0, or -1 with errno set if epoll_wait failed
 * with anything but EINTR.
 */
int	ev_run_once(void);

#endif
