/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for fpm-slowlog report (cmd/fpm-slowlog/report.c): the
 * input is a slowlog file, ours or PHP-FPM's, plain or gzip (zlib reads
 * either), read once or twice as two files, and summarised in one of the
 * four formats.  JSON must parse (valid UTF-8 included), TSV lines have
 * six fields, folded lines end in a count.
 *
 * Input: the file's bytes, then from the end the options: format, --top,
 * whether to read the file twice, and --since/--until as epoch seconds.
 * The file's first line also goes through report_parse_time().
 */

#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "cmd/fpm-slowlog/slowlog.h"
#include "tests/fuzz/fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*slurp_stdout(size_t *);
static void	 check_lines(const char *, size_t, enum report_format);

static char	 dir[PATH_MAX];
static char	 logpath[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	path[PATH_MAX];
	int	fd;

	(void)argc;
	(void)argv;
	log_init("slowlog_report_fuzz", LOG_STYLE_PLAIN);
	log_setlevel(LOG_LVL_ALERT);	/* gzip errors are expected */
	fuzz_tmpdir(dir, sizeof(dir), "slowlog");
	fuzz_path(logpath, sizeof(logpath), dir, "slow.log", 8);
	fuzz_path(path, sizeof(path), dir, "stdout", 6);
	/* stdout goes to a file read back after each report */
	fflush(stdout);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || dup2(fd, STDOUT_FILENO) == -1) {
		perror(path);
		abort();
	}
	close(fd);
	fuzz_fd_mark();
	return (0);
}

/* What report_run() printed since the last call. */
static char *
slurp_stdout(size_t *len)
{
	char	*buf;
	off_t	 end;

	if (fflush(stdout) != 0 || (end = lseek(STDOUT_FILENO, 0,
	    SEEK_END)) == -1 || (buf = malloc((size_t)end + 1)) == NULL ||
	    pread(STDOUT_FILENO, buf, (size_t)end, 0) != (ssize_t)end)
		abort();
	buf[end] = '\0';
	*len = (size_t)end;
	if (ftruncate(STDOUT_FILENO, 0) == -1 ||
	    lseek(STDOUT_FILENO, 0, SEEK_SET) == -1)
		abort();
	return (buf);
}

/* TSV: six fields a line after the header; folded: "stack count". */
static void
check_lines(const char *s, size_t len, enum report_format f)
{
	const char	*p, *nl, *c;
	size_t		 tabs;

	if (len > 0 && s[len - 1] != '\n')
		fuzz_fail("no final newline", s, len);
	for (p = s; p < s + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(s + len - p));
		if (f == REPORT_TSV) {
			for (tabs = 0, c = p; c < nl; c++)
				tabs += *c == '\t';
			if (tabs != 5)
				fuzz_fail("a TSV line without 6 fields", s,
				    len);
		} else if (f == REPORT_FOLDED) {
			for (c = nl; c > p && c[-1] >= '0' && c[-1] <= '9'; c--)
				;
			if (c == nl || c - 1 <= p || c[-1] != ' ')
				fuzz_fail("a folded line without a count", s,
				    len);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_in		 in;
	struct report_opts	 o;
	FILE			*fp;
	const char		*files[3];
	char			*log, *res, first[64];
	size_t			 loglen, reslen, n;
	time_t			 t;
	uint8_t			 flags;

	/* per input: libFuzzer opens its own between inputs (the
	   symbolizer's pipes when it prints a new function) */
	fuzz_fd_mark();
	fuzz_in_init(&in, data, len);
	memset(&o, 0, sizeof(o));
	o.format = (enum report_format)(fuzz_u8(&in) % 4);
	o.top = 1 + fuzz_u8(&in) % 8;
	flags = fuzz_u8(&in);
	if (flags & 1)
		o.since = (time_t)fuzz_u32(&in);
	if (flags & 2)
		o.until = (time_t)fuzz_u32(&in);
	log = fuzz_rest(&in, &loglen);

	if ((fp = fopen(logpath, "we")) == NULL ||
	    (loglen > 0 && fwrite(log, 1, loglen, fp) != loglen) ||
	    fclose(fp) != 0)
		abort();
	files[0] = logpath;
	files[1] = flags & 4 ? logpath : NULL;
	files[2] = NULL;
	if (report_run(&o, files) != 0)
		abort();
	res = slurp_stdout(&reslen);
	if (o.format == REPORT_JSON && !fuzz_json_valid(res, reslen))
		fuzz_fail("invalid JSON", res, reslen);
	if (o.format == REPORT_TSV || o.format == REPORT_FOLDED)
		check_lines(res, reslen, o.format);
	free(res);

	/* --since and --until take the file's first line as well */
	if ((n = strcspn(log, "\n")) >= sizeof(first))
		n = sizeof(first) - 1;
	memcpy(first, log, n);
	first[n] = '\0';
	(void)report_parse_time(first, &t);
	fuzz_in_free(&in);
	fuzz_fd_check();
	return (0);
}
