/* SPDX-License-Identifier: ISC */
/*
 * status-render: print a fixed sample of three pools, with histograms and
 * workers, in the format a status query picks ('prometheus&full'); -H
 * prints the response headers first.  For tests/status-prometheus.bats.
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/status.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define START		((time_t)1795595583)	/* 25/Nov/2026:08:33:03 UTC */

static const double		duration_le[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
static const unsigned long	duration_count[] = {
	3, 10, 25, 40, 12, 6, 2, 1, 0, 0, 0, 1
};
static const double		wait_le[] = { 0.001, 0.01, 0.1, 1 };
static const unsigned long	wait_count[] = { 90, 8, 2, 0, 0 };

static const struct status_proc	www_procs[] = {
	{ 18189, "Running", START, 3, 1, 1503942, "GET", "/sleep.php", "",
	    "", "/srv/www/sleep.php", 0, 0, 0 },
	{ 18190, "Idle", START, 3, 99, 102, "POST", "/status", "full", NULL,
	    NULL, 12, 12.5, 2097152 },
};

static const struct status_proc	odd_procs[] = {
	{ 7, NULL, START, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0 },
};

static void	usage(void) __attribute__((__noreturn__));

static void
usage(void)
{
	fprintf(stderr, "usage: status-render [-H] QUERY\n");
	exit(100);
}

int
main(int argc, char *argv[])
{
	struct status_pool	 pools[3];
	struct status_buf	 b;
	enum status_format	 fmt;
	int			 c, full, headers = 0, rc;

	while ((c = getopt(argc, argv, "H")) != -1) {
		if (c != 'H')
			usage();
		headers = 1;
	}
	if (argc - optind != 1)
		usage();
	status_parse_query(argv[optind], &fmt, &full);

	memset(pools, 0, sizeof(pools));
	pools[0].pool = "www";
	pools[0].pm = "dynamic";
	pools[0].start_time = START;
	pools[0].start_since = 3;
	pools[0].accepted_conn = 100;
	pools[0].listen_queue = 1;
	pools[0].max_listen_queue = 4;
	pools[0].listen_queue_len = 511;
	pools[0].idle = 1;
	pools[0].active = 1;
	pools[0].max_active = 2;
	pools[0].max_children_reached = 3;
	pools[0].slow_requests = 1;
	pools[0].procs = www_procs;
	pools[0].nprocs = NELEM(www_procs);
	pools[0].responses_502 = 2;
	pools[0].responses_503 = 5;
	pools[0].responses_504 = 1;
	pools[0].request_duration.le = duration_le;
	pools[0].request_duration.count = duration_count;
	pools[0].request_duration.n = NELEM(duration_le);
	pools[0].request_duration.sum = 23.75;
	pools[0].queue_wait.le = wait_le;
	pools[0].queue_wait.count = wait_count;
	pools[0].queue_wait.n = NELEM(wait_le);
	pools[0].queue_wait.sum = 0.125;

	/* a name to escape, and zeroed histograms */
	pools[1].pool = "o\"dd\\po\nol";
	pools[1].pm = "static";
	pools[1].start_time = START;
	pools[1].procs = odd_procs;
	pools[1].nprocs = NELEM(odd_procs);

	/* no workers, buckets but nothing observed yet */
	pools[2].pool = "api";
	pools[2].pm = "ondemand";
	pools[2].start_time = START;
	pools[2].request_duration.le = duration_le;
	pools[2].request_duration.n = NELEM(duration_le);

	memset(&b, 0, sizeof(b));
	if (headers && status_headers(&b, fmt) == -1)
		err(111, "status_headers");
	/* formats without a multi-pool page show the first pool */
	if (fmt == STATUS_TEXT || fmt == STATUS_JSON ||
	    fmt == STATUS_PROMETHEUS)
		rc = status_render_multi(&b, pools, NELEM(pools), fmt, full);
	else
		rc = status_render(&b, &pools[0], fmt, full);
	if (rc == -1)
		err(111, "status_render");
	if (b.len > 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		err(111, "stdout");
	status_buf_free(&b);
	if (fflush(stdout) == EOF)
		err(111, "stdout");
	return (0);
}
