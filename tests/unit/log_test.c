/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/log: both line styles, limits, levels, reopen. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/log.h"

#include "tap.h"

static char	dir[] = "/tmp/log_test.XXXXXX";
static char	path[256], path2[256];

static char	*slurp(const char *);
static int	matches(const char *, const char *);


/* The whole file as a string (static buffer), "" if it cannot be read. */
static char *
slurp(const char *p)
{
	static char	buf[16384];
	ssize_t		n;
	int		fd;

	buf[0] = '\0';
	if ((fd = open(p, O_RDONLY)) == -1)
		return (buf);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	close(fd);
	return (buf);
}

static int
matches(const char *s, const char *re)
{
	regex_t	r;
	int	ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return (0);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return (ok);
}

static void
test_plain(void)
{
	char	*s;
	int	 fd;

	log_init("tool", LOG_STYLE_PLAIN);
	check(log_getlevel() == LOG_LVL_WARNING, "plain style: level warning");
	check(log_open_file(path) == 0, "log_open_file %s", path);
	fd = log_fd();
	check(fd > 2 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(fd, F_GETFL) & O_APPEND), "file target: CLOEXEC, APPEND");
	log_warnx("hello %d", 42);
	log_info("not shown");
	log_debug("not shown");
	errno = ENOENT;
	log_warn("open %s", "x");
	check(errno == ENOENT, "log_warn preserves errno");
	log_errorx("bad");
	log_msg(LOG_LVL_ALERT, "alert");
	s = slurp(path);
	check(strcmp(s, "tool: warning: hello 42\n"
	    "tool: warning: open x: No such file or directory\n"
	    "tool: error: bad\n"
	    "tool: fatal: alert\n") == 0, "plain lines, info/debug filtered");

	log_verbose(1);
	check(log_getlevel() == LOG_LVL_NOTICE, "-v: notice");
	log_info("info line");
	log_debug("debug hidden");
	log_verbose(2);
	check(log_getlevel() == LOG_LVL_DEBUG, "-vv: debug");
	log_verbose(9);
	check(log_getlevel() == LOG_LVL_DEBUG, "-vvvvvvvvv: still debug");
	log_debug("debug line");
	log_setlevel(LOG_LVL_ERROR);
	log_warnx("warning hidden");
	log_errorx("error line");
	s = slurp(path);
	check(strstr(s, "tool: info: info line\n") != NULL &&
	    strstr(s, "tool: debug: debug line\n") != NULL &&
	    strstr(s, "tool: error: error line\n") != NULL &&
	    strstr(s, "hidden") == NULL, "level filtering");
	log_setlevel(LOG_LVL_WARNING);
}

static void
test_fpm(void)
{
	char	*s;

	unlink(path);
	log_init("fpm", LOG_STYLE_FPM);
	check(log_getlevel() == LOG_LVL_NOTICE, "fpm style: level notice");
	check(log_reopen() == 0, "log_reopen recreates the file");
	log_info("ready to handle connections");
	log_warnx("pool www");
	log_errorx("oops");
	log_msg(LOG_LVL_ALERT, "dead");
	log_debug("hidden");
	s = slurp(path);
	check(matches(s, "^\\[[0-3][0-9]-[A-Z][a-z]{2}-[0-9]{4} "
	    "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\] NOTICE: ready to handle "
	    "connections\n"
	    "\\[[^]]*\\] WARNING: pool www\n"
	    "\\[[^]]*\\] ERROR: oops\n"
	    "\\[[^]]*\\] ALERT: dead\n$"), "fpm lines: [date] LEVEL: msg");
}

static void
test_limit(void)
{
	char	 big[3000], *s;
	size_t	 len;

	unlink(path);
	check(log_reopen() == 0, "reopen");
	log_init("tool", LOG_STYLE_PLAIN);
	check(log_getlimit() == 1024, "default limit 1024");
	log_setlimit(0);
	check(log_getlimit() == 1024, "limit 0 means 1024");
	log_setlimit(1000000);
	check(log_getlimit() == 8191, "limit capped at 8191");
	log_setlimit(30);
	check(log_getlimit() == 30, "limit 30");
	log_warnx("0123456789abcdefghijklmnopqrstuvwxyz");
	log_warnx("short");
	/* "tool: warning: " is 15 bytes: 15 + 15 = 30 fits exactly */
	log_warnx("123456789012345");
	log_warnx("1234567890123456");
	s = slurp(path);
	check(strcmp(s, "tool: warning: 0123456789ab...\n"
	    "tool: warning: short\n"
	    "tool: warning: 123456789012345\n"
	    "tool: warning: 123456789012...\n") == 0,
	    "lines cut at 30 bytes with \"...\"");

	unlink(path);
	log_reopen();
	log_setlimit(30);
	log_raw(LOG_LVL_WARNING, "raw line without prefix, long enough", 36);
	log_raw(LOG_LVL_WARNING, "raw", 3);
	log_raw(LOG_LVL_DEBUG, "filtered", 8);
	s = slurp(path);
	check(strcmp(s, "raw line without prefix, lo...\nraw\n") == 0,
	    "log_raw: no prefix, cut, filtered");

	unlink(path);
	log_reopen();
	log_setlimit(0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warnx("%s", big);
	s = slurp(path);
	len = strlen(s);
	check(len == 1025 && strcmp(s + 1021, "...\n") == 0,
	    "default limit: 1024 bytes and a newline (got %zu)", len);

	unlink(path);
	log_reopen();
	log_setlimit(2);
	log_warnx("tiny");
	log_setlimit(3);
	log_warnx("tiny");
	s = slurp(path);
	check(strcmp(s, "to\n...\n") == 0, "limits under 4 do not "
	    "underflow");
	log_setlimit(0);
}

static void
test_reopen(void)
{
	char	*s;

	unlink(path);
	log_reopen();
	log_init("tool", LOG_STYLE_PLAIN);
	log_warnx("before");
	check(rename(path, path2) == 0, "rename the log file");
	log_warnx("after rename");
	check(log_reopen() == 0, "log_reopen");
	log_warnx("after reopen");
	s = slurp(path2);
	check(strcmp(s, "tool: warning: before\n"
	    "tool: warning: after rename\n") == 0, "old file: old lines");
	s = slurp(path);
	check(strcmp(s, "tool: warning: after reopen\n") == 0,
	    "new file: new line");

	check(log_open_file("/nonexistent/dir/x.log") == -1 &&
	    errno == ENOENT, "log_open_file of a bad path: ENOENT");
	log_warnx("still here");
	s = slurp(path);
	check(strstr(s, "still here") != NULL, "the old target stays");
	log_open_stderr();
	check(log_fd() == 2, "log_open_stderr: fd 2");
	check(log_reopen() == 0, "log_reopen on stderr is a no-op");
}

static void
test_time(void)
{
	char	buf[64];
	size_t	n;

	setenv("TZ", "UTC", 1);
	tzset();
	n = log_fmt_time(buf, sizeof(buf), 1795595585);
	check(n == 20 && strcmp(buf, "25-Nov-2026 08:33:05") == 0,
	    "log_fmt_time: \"%s\"", buf);
	n = log_fmt_time(buf, sizeof(buf), 0);
	check(strcmp(buf, "01-Jan-1970 00:00:00") == 0, "epoch: \"%s\"", buf);
	n = log_fmt_time(buf, 5, 1795595585);
	check(n == 0, "too small a buffer: 0");
}

static void
test_words(void)
{
	enum log_level	l;
	int		f;

	check(log_level_parse("info", &l) == 0 && l == LOG_LVL_NOTICE,
	    "level word info = notice");
	check(log_level_parse("WARN", &l) == 0 && l == LOG_LVL_WARNING,
	    "level word WARN");
	check(log_level_parse("alert", &l) == 0 && l == LOG_LVL_ALERT,
	    "level word alert");
	check(log_level_parse("loud", &l) == -1 && errno == EINVAL,
	    "unknown level word: EINVAL");
	check(strcmp(log_level_name(LOG_LVL_ERROR), "ERROR") == 0,
	    "log_level_name");
	check(log_facility_parse("local3", &f) == 0 && f == (19 << 3),
	    "facility local3");
	check(log_facility_parse("nope", &f) == -1 && errno == EINVAL,
	    "unknown facility: EINVAL");
}

/* log_vis: nothing from outside can end a line or forge a prefix */
static void
test_vis(void)
{
	char	buf[64], small[8];

	check(strcmp(log_vis(buf, sizeof(buf), "GET /a b"), "GET /a b") == 0,
	    "vis: printable stays");
	check(strcmp(log_vis(buf, sizeof(buf),
	    "/x\n[05-Dec-2026] ALERT: \033[1m"),
	    "/x\\n[05-Dec-2026] ALERT: \\033[1m") == 0,
	    "vis: newline and ESC escaped");
	check(strcmp(log_vis(buf, sizeof(buf), "a\"b\\c\r\t\377"),
	    "a\\\"b\\\\c\\r\\t\\377") == 0,
	    "vis: quote, backslash, CR, tab, high byte");
	/* cut at a whole escape: "abcd" fits in 8, "\\001" no more */
	check(strcmp(log_vis(small, sizeof(small), "abcd\001"), "abcd") == 0,
	    "vis: cut at a whole escape");
	check(strlen(log_vis(small, sizeof(small), "abcdefghij")) == 7,
	    "vis: bounded by size");
	check(strcmp(log_vis(buf, 1, "abc"), "") == 0, "vis: size 1");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(path, sizeof(path), "%s/a.log", dir);
	snprintf(path2, sizeof(path2), "%s/a.log.1", dir);
	test_plain();
	test_fpm();
	test_limit();
	test_reopen();
	test_time();
	test_words();
	test_vis();
	unlink(path);
	unlink(path2);
	rmdir(dir);
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
