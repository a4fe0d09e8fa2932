/* SPDX-License-Identifier: ISC */
/* fpm-supervise's private model: pools, workers, front connections. */
#ifndef FPM_SUPERVISE_FPM_H
#define FPM_SUPERVISE_FPM_H

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libcommon/conf.h"
#include "libcommon/ev.h"
#include "libcommon/fcgi.h"
#include "libcommon/spawn.h"

#define RBUF_SIZE	(64 * 1024)	/* worker -> client relay buffer */
/* Timers reserved (libcommon/ev.h) for each: keep them with the structs. */
#define WORKER_NTIMERS	3	/* out_timer, req_timer, kill_timer */
#define POOL_NTIMERS	4	/* respawn, pm, lst's and slst's back-off */
#define STAT_NBOUNDS	11		/* histogram buckets, stat.c */

struct conn;
struct phpgrp;
struct pool;

/*
 * Worker life cycle, one place: worker_set_state() (worker.c) allows only
 * these moves, and keeps the idle stack and the counts:
 *
 *   W_NEW --spawned--+
 *                    v
 *   W_IDLE ---dispatch---> W_BUSY ---END_REQUEST---> W_BUSY, finishing
 *     ^                      |                          |
 *     |                      |     back reading: the probe read
 *     +----------------------+--------------------------+
 *     |
 *     | retire (max_requests, idle timeout, reload, memory, stop)
 *     v                      (a busy worker once it is back)
 *   W_RETIRING: SIGTERM sent, SIGKILL after process_control_timeout
 *     |
 *     v  pidfd readable, reaped
 *   (freed; the pool spawns a replacement if it wants one)
 *
 * A worker is ready as soon as it is spawned: connect(2) to its listening
 * socket succeeds before it calls accept(2), the kernel queues us.
 *
 * Finishing: FastCGI has no "ready for the next request", and a worker may
 * send FCGI_END_REQUEST and go on working (PHP's fastcgi_finish_request()).
 * So every request is followed on the connection by a probe record the
 * worker reads only when it looks for its next request (see PROBE_*); the
 * worker is back when the kernel says it read all we wrote (SIOCOUTQ 0).
 */
enum worker_state {
	W_NEW,		/* spawned, not yet counted */
	W_IDLE,
	W_BUSY,
	W_RETIRING
};

enum probe {
	PROBE_NONE,	/* request.finish_probe = no: back at END_REQUEST */
	PROBE_APPEND,	/* php-cgi: an empty FCGI_STDIN after the request,
			   skipped when it reads the next BEGIN_REQUEST */
	PROBE_AFTER	/* others: an FCGI_STDIN of an unused request id,
			   which applications ignore, after END_REQUEST */
};

/*
 * What status and the access log show of a request: the one in hand (taken
 * from the connection when a worker gets it), or the last one.
 */
struct reqinfo {
	char			 method[16];
	char			 uri[256];
	char			 query[256];
	char			 script[512];	/* SCRIPT_FILENAME */
	char			 user[64];
	char			 peer[48];	/* TCP peer, for %R */
	unsigned long long	 content_length;
	int			 status;	/* HTTP, once known */
	struct timespec		 start;		/* CLOCK_REALTIME, accepted */
	int64_t			 start_us;	/* ev_now_us(), accepted */
	int64_t			 duration_us;
	double			 cpu_s;		/* CPU seconds it took */
	double			 cpu_pct;	/* of its duration */
	unsigned long long	 memory;	/* RSS at its end */
};

struct outpipe {			/* a captured stdout or stderr */
	struct ev_source	 src;
	struct worker		*w;
	const char		*name;	/* "stdout", "stderr" */
	size_t			 len;
	char			 buf[1024];
};

struct worker {
	struct pool		*pool;
	struct phpgrp		*group;		/* php.group: its php-cgi */
	enum worker_state	 state;
	pid_t			 pid;		/* 0: a group's, not yet known */
	int			 ident_tries;	/* to know it, on this connection */
	struct ev_source	 pidsrc;	/* pidfd */
	struct ev_source	 sock;		/* connection; fd -1: none */
	char			 path[108];	/* its private socket */
	struct outpipe		 out, err;
	/* workers_output_rate_limit, both pipes together (output.c) */
	struct ev_timer		 out_timer;	/* the note at window end */
	int64_t			 out_window;	/* ev_now() it ends */
	unsigned long		 out_lines;	/* logged in it */
	unsigned long		 out_dropped;	/* suppressed in it */
	struct conn		*conn;		/* the request it serves */
	struct reqinfo		 cur;		/* that request, or finishing */
	int			 finishing;	/* END_REQUEST sent, not back */
	int			 dead;		/* being freed */
	struct ev_timer		 req_timer;	/* slowlog, terminate */
	int64_t			 fwd_us;	/* ev_now_us() at dispatch */
	int			 slow_logged;
	/* the request's params and response headers, for the access log's
	   %{NAME}e and %{NAME}o of a worker finishing (taken from its conn) */
	uint8_t			*params;
	size_t			 paramslen, paramssize;
	char			*hdrs;
	size_t			 hdrslen;
	struct ev_timer		 kill_timer;	/* escalation to SIGKILL */
	int64_t			 started;	/* ev_now() ms */
	struct timespec		 started_rt;
	unsigned long		 requests;
	unsigned long		 max_requests;	/* with jitter; 0: never */
	struct reqinfo		 last;		/* for status, when idle */
	int			 statfd;	/* /proc/PID/stat, or -1 */
	long long		 cpu_prev;	/* ticks at the last sample */
	int64_t			 last_used;
	int			 signaled;	/* the signal we sent it, or 0 */
	int			 failed;	/* broke a request */
	unsigned long		 bad_records;	/* dropped (relay.c) */
	unsigned long		 taken;		/* requests given to it */
	TAILQ_ENTRY(worker)	 entry;		/* pool->workers */
	TAILQ_ENTRY(worker)	 idle;		/* pool->idle: MRU first */
};

/* A child of a group's php-cgi, watched (group.c). */
struct gchild {
	struct ev_source	 src;		/* pidfd */
	struct phpgrp		*group;
	pid_t			 pid;
	int64_t			 started_ms;	/* ev_now() at its fork */
	int			 signaled;
	int			 exited;
	int			 tries;		/* for its exit status */
	unsigned long		 requests;	/* on connections closed */
	int			 status;	/* wait(2)'s, from php-cgi */
	int			 has_status;
	struct ev_timer		 timer;		/* SIGKILL, or the status */
	LIST_ENTRY(gchild)	 entry;
};

/*
 * php.group: one php-cgi (the leader: a worker in all but name, for its
 * pid, socket and output) whose children are the pool's workers (group.c).
 */
struct phpgrp {
	struct worker		 leader;
	struct pool		*pool;
	int			 nchildren;	/* its PHP_FCGI_CHILDREN */
	int			 nworkers;	/* bound to it */
	int			 nleaving;	/* children signaled, alive */
	int			 retiring;	/* stops once none is */
	int			 dead;
	int64_t			 last_used;	/* ev_now() */
	LIST_HEAD(, gchild)	 children;
	int			 nwatched;
	struct ev_timer		 scan;		/* for its new children */
	int			 scans;
	/* with fpm.so: it forks a child when asked (libcommon/phpgroup.h) */
	struct ev_source	 chan;		/* fd -1: none */
	int			 forker;	/* it said so */
	int			 nforks;	/* asked for, not reaped */
	size_t			 rlen;		/* of a record, in rbuf */
	unsigned char		 rbuf[12];
	LIST_ENTRY(phpgrp)	 entry;
};

struct listener {
	struct ev_source	 src;
	struct pool		*pool;
	struct ev_backoff	 backoff;	/* accept out of fds */
	int			 inherited;	/* not ours to unlink */
	char			 key[128];
};

struct pool {
	struct conf_pool	*cf;
	int			 php;		/* the workers are php-cgi */
	int			 grouped;	/* php.group: they are a group's */
	int			 phpext;	/* fpm.so is loaded in them */
	struct phpgrp		*group;		/* the one new workers join */
	LIST_HEAD(, phpgrp)	 groups;	/* it, and retiring ones */
	int			 ngroups;
	char			 powered[64];	/* their X-Powered-By, or "" */
	enum probe		 probe;
	int			 hinted;	/* said a worker closes */
	struct listener		 lst;
	struct listener		 slst;		/* pm.status_listen */
	TAILQ_HEAD(, worker)	 workers;
	TAILQ_HEAD(idlehead, worker) idle;
	TAILQ_HEAD(, conn)	 queue;
	int			 nworkers;	/* alive, retiring included */
	int			 nretiring;
	int			 nidle;
	int			 nqueue;
	/* the worker template: built once */
	struct spawn		 spawn;
	char			**argv;
	char			**envp;
	/* crash-loop brake */
	int			 fails;		/* quick deaths in a row */
	struct ev_timer		 respawn_timer;
	const char		*brake_why;	/* why it last braked */
	int			 brake_said;	/* its 503s were logged */
	/* the pool's pass: queue, then process manager (pool_post) */
	struct ev_post		 pass;
	/* process manager (pm.c) */
	struct ev_timer		 pm_timer;	/* rate window, trim, idle */
	int			 started;	/* initial spawn done */
	int			 reached;	/* at pm.max_children now */
	int64_t			 last_reached_warning;
	int			 spawn_rate;	/* dynamic: per window */
	int			 spawned;	/* in this window */
	int			 short_window;	/* wanted more than the rate */
	int64_t			 window_end;
	int64_t			 last_trim;
	/* access.log */
	int			 access_fd;	/* -1: none */
	int			 access_hdr;	/* %{NAME}o in the format */
	int			 access_env;	/* %{NAME}e in the format */
	/* reload */
	int			 draining;	/* removed: goes when empty */
	int			 nconns;	/* front connections on it */
	struct confref		*owner;		/* the conf cf lives in */
	/* counters for status */
	time_t			 start_time;
	unsigned long		 accepted;
	unsigned long		 max_active;
	unsigned long		 max_children_reached;
	unsigned long		 queue_full;	/* 503 answered */
	unsigned long		 bad_gateway;	/* 502 answered */
	unsigned long		 timed_out;	/* 504 answered */
	/* histograms, per bucket of stat_bounds[] (stat.c) */
	unsigned long		 dur_count[STAT_NBOUNDS + 1];
	double			 dur_sum;
	unsigned long		 wait_count[STAT_NBOUNDS + 1];
	double			 wait_sum;
	unsigned long		 max_queue;
	unsigned long		 slow_requests;
};

/*
 * A front connection: what it waits for.  Changed only by conn_set_state()
 * (front.c), which refuses any move not in this table and keeps the pool's
 * queue (in it exactly while C_QUEUED):
 *
 *   from        to
 *   C_NEW       C_PARAMS (BEGIN_REQUEST)
 *   C_PARAMS    C_BODY (its PARAMS end), C_FLUSH (aborted)
 *   C_BODY      C_QUEUED, C_FORWARD, C_FLUSH (own answer, aborted): when
 *               the body ends, or at once with request.buffering = no
 *   C_QUEUED    C_FORWARD (a worker is idle), C_FLUSH (503, aborted)
 *   C_FORWARD   C_FLUSH (END_REQUEST; or ours: 502, 504), C_QUEUED or
 *               C_FORWARD (a retry of a request no worker got)
 *   C_FLUSH     C_KEEP (all out, FCGI_KEEP_CONN)
 *   C_KEEP      C_NEW (bytes of a next request, read now or with the
 *               request just answered)
 *   any         C_CLOSED, the last
 *
 * C_FLUSH: the whole answer is in rbuf, a worker's or ours.  Beside the
 * state: client_gone (the client left while a worker works on its
 * request: freed when the worker is done), throttled (not read: answers
 * of ours unsent), paused (not read: with request.buffering = no, a
 * request.buffer_size of body waits for the worker), rdeof (it shut its
 * sending side after a whole request: answered, then closed).
 */
enum conn_state {
	C_NEW,		/* reading, no request yet */
	C_PARAMS,	/* BEGIN_REQUEST in: its PARAMS coming */
	C_BODY,		/* PARAMS whole: the body coming, no worker yet */
	C_QUEUED,	/* whole: in the pool's queue */
	C_FORWARD,	/* a worker has it: request out, answer relayed */
	C_FLUSH,	/* the answer whole, going out */
	C_KEEP,		/* kept alive between requests */
	C_CLOSED	/* a spare after this turn */
};

struct conn {
	struct ev_source	 src;
	struct pool		*pool;
	enum conn_state		 state;
	struct fcgi_decoder	 dec;
	uint16_t		 reqid;
	uint16_t		 role;
	uint8_t			 flags;
	int			 client_gone;
	int			 polled;	/* in the epoll set */
	int			 pollout;	/* EPOLLOUT asked for */
	int			 sndbuf;	/* unix: may grow (CONN_SNDBUF) */
	int			 throttled;	/* not read: answers unsent */
	int			 rdeof;		/* half-closed: read no more */
	int			 paused;	/* not read: the worker lags */
	int			 abort;		/* 1 asked, 2 passed on */
	uint8_t			 mgmt[64];	/* BEGIN_REQUEST, GET_VALUES */
	size_t			 mlen;
	/* the request */
	uint8_t			*params;
	size_t			 paramslen, paramssize;
	uint8_t			*body;
	size_t			 bodylen, bodysize;
	int			 spoolfd;	/* -1: body in memory */
	off_t			 spoollen;
	size_t			 bodyoff;	/* memory body sent so far */
	int			 body_done;	/* the empty STDIN came */
	/* to the worker */
	uint8_t			*wbuf;
	size_t			 wlen, woff, wbuf_size;
	off_t			 spooloff;	/* next byte of the spool to send */
	int			 stdin_sent;
	int			 wrote;		/* any byte to this worker */
	/* from the worker, to the client */
	struct fcgi_decoder	 wdec;
	uint8_t			*rbuf;
	size_t			 rlen, roff, rbuf_size;
	/* our answers to management records, held during a relay */
	uint8_t			*obuf;
	size_t			 olen, osize;
	int			 got_response;	/* any relayed content */
	int			 wdrop;		/* cutting a bad record out */
	int			 retried;
	int			 served;	/* a worker answered: it logs */
	int			 status_only;	/* from pm.status_listen */
	/* response headers scan, for the status code */
	int			 hdr_done;
	size_t			 hdr_linelen;
	char			 hdr_line[32];
	/* facts about the request, for logs and status */
	char			 method[16];
	char			 uri[256];
	char			 script[256];
	char			 filename[512];	/* SCRIPT_FILENAME */
	char			 query[256];
	char			 user[64];
	unsigned long long	 content_length;
	int			 status;
	struct timespec		 start;
	int64_t			 start_us;	/* ev_now_us() */
	int64_t			 ready_us;	/* complete, waiting */
	char			*hdrs;		/* response headers, for %o */
	size_t			 hdrslen;
	char			 peer[48];	/* TCP peer, for %R */
	struct worker		*w;
	struct ev_timer		 timer;		/* queue wait, idle, read */
	struct ev_post		 resume;	/* the relay, next turn */
	TAILQ_ENTRY(conn)	 qentry;
	LIST_ENTRY(conn)	 all;
};

/* A configuration shared by the pools made from it (reload). */
struct confref {
	struct conf	c;
	int		refs;
};

/*
 * The files, from the top down (HACKING has the map): the supervisor
 * (main.c, supervisor.c, ctl.c, notify.c); the dispatcher (front.c,
 * dispatch.c, relay.c, builtin.c, which share conn.h); the pools (pool.c,
 * pm.c, worker.c, group.c); what a worker's request uses (slow.c, output.c,
 * alog.c, stat.c).
 */

/* main.c: options, start, the loop */
extern struct pool	**pools;
extern size_t		 npools;
extern struct conf	 fpmconf;	/* the [global] in force */
extern struct confref	*fpmconf_ref;	/* the configuration in force */
extern char		 runtime_dir[];
extern char		 self_exe[];	/* our binary, by name ("": unknown) */
extern char		 self_config[];	/* fpm.conf's real path, "": built-in */
extern char		 self_pidfile[];	/* the pidfile's, "": none */
extern char		**self_argv;	/* to exec it again (upgrade) */
extern const char	*pidpath;	/* NULL: no pid file */
extern int		 opt_root;	/* -R: pools may run as root */
/* Read the configuration as the options say: 0, or -1 with err. */
int	main_conf_read(struct conf *, char *err, size_t errsize);
/* Apply [global]'s logging: 0, or -1 if error_log can't be opened. */
int	main_log_setup(void);
void	main_pidfile_handover(void);
int	runtime_dir_make(void);
void	runtime_dir_cleanup(void);

/* supervisor.c: the supervisor's life */
/*
 * The supervisor's life, changed only by sv_set_state() (supervisor.c),
 * which refuses any move not in this table.  A reload runs whole within one
 * turn of the loop and needs no state; a pool's draining is the pool's.
 *
 *   from              to
 *   SV_RUNNING        SV_UPGRADE_DRAIN (SIGURG, "upgrade"), SV_STOPPING
 *                     (SIGQUIT, "quit"), SV_TERMINATING (SIGTERM, "stop")
 *   SV_UPGRADE_DRAIN  SV_UPGRADE_EXEC (no connection left, or
 *                     process_control_timeout), SV_STOPPING, SV_TERMINATING
 *   SV_UPGRADE_EXEC   SV_RUNNING (the exec failed), SV_STOPPING,
 *                     SV_TERMINATING
 *   SV_STOPPING       SV_TERMINATING (process_control_timeout, SIGTERM)
 *   SV_TERMINATING    (the loop ends when no worker is left)
 */
enum sv_state {
	SV_RUNNING,
	SV_UPGRADE_DRAIN,	/* listeners closed, requests finishing */
	SV_UPGRADE_EXEC,	/* workers leaving, then execv(2) */
	SV_STOPPING,		/* graceful: busy workers finish */
	SV_TERMINATING		/* fast: every worker goes now */
};
extern enum sv_state	 sv_state;
/* No new work is taken: a stop, or the workers leaving for an upgrade. */
#define sv_stopping()	(sv_state >= SV_UPGRADE_EXEC)
#define sv_upgrading()	(sv_state == SV_UPGRADE_DRAIN || \
			    sv_state == SV_UPGRADE_EXEC)
void	supervisor_signals(void);
/* for ctl.c */
void	supervisor_stop(int mode);
int	supervisor_reload(const char *pool, char *msg, size_t size);
void	supervisor_reopen(void);
void	supervisor_upgrade(void);
/* for the loop: no connection left, and the workers gone */
void	supervisor_upgrade_drained(void);
void	supervisor_upgrade_exec(void);

/* ctl.c */
int	ctl_open(const char *pidfile);
void	ctl_shutdown(void);

/* notify.c */
void	notify_init(int64_t interval_ms);
void	notify_ready(int readyfd);
void	notify_reloading(int begin);
void	notify_stopping(void);

/* front.c: the client side of the dispatcher */
void	conn_accept(struct ev_source *, uint32_t);
/* "METHOD URI", escaped for a log line (log_vis); a static buffer. */
const char *req_what(const char *method, const char *uri);
void	conns_reap(void);
int	conns_active(void);
int	conns_count(void);
void	conns_abort_all(void);
void	conns_close_idle(struct pool *);

/* dispatch.c: requests to workers, and what a failure costs */
void	conn_dispatch_queue(struct pool *);
void	conn_queue_refuse(struct pool *);
void	conn_worker_died(struct conn *);
void	conn_terminated(struct conn *);

/* relay.c: the worker side */
void	conn_worker_event(struct worker *, uint32_t);
void	conn_info(const struct conn *, struct reqinfo *);

/* pool.c: pools, their configuration, listeners and brake */
struct pool *pool_new(struct conf_pool *, int allow_root, char *, size_t);
struct pool *pool_alloc(void);
void	pool_free(struct pool *);
/* p now lives in r's configuration; r goes with its last pool. */
void	pool_own(struct pool *, struct confref *);
void	conf_release(struct confref *);
void	pool_announce(struct pool *);
void	pool_listen_start(struct pool *, struct listener *);
int	pool_template(struct pool *, struct conf_pool *, int allow_root,
	    char *, size_t);
int	pool_check(struct conf_pool *, int allow_root, char *, size_t);
void	pool_template_free(struct pool *);
int	pool_listen(struct pool *, char *, size_t);
int	pool_status_listen(struct pool *, char *, size_t);
void	pool_drain(struct pool *, int graceful);
void	pool_restart(struct pool *);
void	pool_gc(struct pool *);
void	pool_brake(struct pool *, const char *);
/* Ask for p's pass at the end of this loop turn: dispatch, then pm. */
void	pool_post(struct pool *);
void	pools_stop(int graceful);
int	pools_alive(void);
int	pools_started(void);
void	listener_close(struct listener *);

/* argv.c: the worker's command line, or NULL with errno set */
char	**pool_argv(const struct conf_pool *);
void	pool_argv_free(char **);

/* pm.c: the process managers, run from the pool's pass */
void	pm_maintain(struct pool *);
void	pm_timeout(struct ev_timer *);
int	pm_over_memory(struct worker *);
void	pm_worker_died(struct pool *, const siginfo_t *);

/* worker.c: a pool's workers */
int	worker_spawn(struct pool *);
int	worker_exec(struct worker *, const char *kind, int backlog,
	    void (*)(struct ev_source *, uint32_t));
struct worker *pool_idle_worker(struct pool *);
void	worker_done(struct worker *);
int	worker_busy(const struct worker *);
void	worker_end_request(struct worker *);
void	worker_retire(struct worker *, int sig);
int	worker_connect(struct worker *);
void	worker_disconnect(struct worker *);
void	worker_exit_reason(char *, size_t, const siginfo_t *);

/* group.c: php.group */
struct phpgrp *group_current(struct pool *);
struct phpgrp *group_start(struct pool *);
void	group_bind(struct phpgrp *);
void	group_retire(struct phpgrp *);
void	groups_retire(struct pool *);
void	group_check(struct phpgrp *);
void	group_worker_gone(struct worker *);
int	group_identify(struct worker *);
void	group_unbind(struct worker *);
int	group_signal(struct worker *, int sig);
void	group_trim(struct phpgrp *);

/* slow.c */
void	slow_arm(struct worker *);
void	slow_timeout(struct ev_timer *);

/* output.c */
void	output_setup(struct worker *, int *outfd, int *errfd);
void	output_close(struct worker *);
void	output_request_end(struct worker *);

/* alog.c */
int	alog_open(struct pool *);
void	alog_write(struct pool *, pid_t, const struct reqinfo *,
	    const uint8_t *params, size_t paramslen, const char *hdrs,
	    size_t hdrslen);
void	alog_free(void);

/* stat.c */
struct status_pool;
struct status_proc;
/* Fill sp (and procs, nworkers entries) with p's figures (libcommon/status). */
size_t	stat_fill(struct pool *, struct status_pool *, struct status_proc *,
	    size_t);
extern int	stat_watched;
/* May anyone look at p's CPU and memory figures?  /proc is not free. */
int	stat_wanted(const struct pool *);
void	stat_open(struct worker *);
/* A small /proc file, NUL-terminated: its length, or -1. */
ssize_t	proc_read(const char *path, char *buf, size_t size);
/* duration_us < 0: a first request begins; else one ended. */
void	stat_sample(struct worker *, int64_t duration_us);
/* w's CPU time since it started (ms) and resident set now (bytes): 0, -1. */
int	stat_usage(struct worker *, unsigned long long *cpu_ms,
	    unsigned long long *rss);
/* Count one observation of us microseconds into a histogram. */
void	stat_observe(unsigned long *count, double *sum, int64_t us);

#endif
