/* SPDX-License-Identifier: ISC */
/* Unit tests for libcommon/parse: every suffix, the bounds, errno on error. */

#include <sys/resource.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libcommon/parse.h"

#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))




static void
test_int(void)
{
	static const struct {
		const char	*s;
		long long	 min, max, want;
		int		 err;		/* 0: success */
	} t[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 10, 0 },
		{ "-5", -10, 10, -5, 0 },
		{ "-0", 0, 0, 0, 0 },
		{ "9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX, 0 },
		{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN, 0 },
		{ "11", 0, 10, 0, ERANGE },
		{ "-1", 0, 10, 0, ERANGE },
		{ "9223372036854775808", LLONG_MIN, LLONG_MAX, 0, ERANGE },
		{ "99999999999999999999999", 0, 10, 0, ERANGE },
		{ "", 0, 10, 0, EINVAL },
		{ "-", 0, 10, 0, EINVAL },
		{ "+1", 0, 10, 0, EINVAL },
		{ " 1", 0, 10, 0, EINVAL },
		{ "1 ", 0, 10, 0, EINVAL },
		{ "1x", 0, 10, 0, EINVAL },
		{ "0x10", 0, 100, 0, EINVAL },
		{ "abc", 0, 10, 0, EINVAL },
	};
	long long	v;
	size_t		i;
	int		r;

	for (i = 0; i < NELEM(t); i++) {
		v = 4242;
		errno = 0;
		r = parse_int(t[i].s, t[i].min, t[i].max, &v);
		if (t[i].err == 0)
			check(r == 0 && v == t[i].want,
			    "parse_int(\"%s\", %lld, %lld) = %lld", t[i].s,
			    t[i].min, t[i].max, t[i].want);
		else
			check(r == -1 && errno == t[i].err && v == 4242,
			    "parse_int(\"%s\", %lld, %lld) fails with %s, "
			    "*out untouched", t[i].s, t[i].min, t[i].max,
			    t[i].err == EINVAL ? "EINVAL" : "ERANGE");
	}
	v = 1;
	check(parse_int(NULL, 0, 1, &v) == -1 && errno == EINVAL,
	    "parse_int(NULL) fails with EINVAL");
}

static void
test_duration(void)
{
	static const struct {
		const char	*s;
		int64_t		 min, max, want;
		int		 err;
	} t[] = {
		{ "0", 0, INT64_MAX, 0, 0 },
		{ "10", 0, INT64_MAX, 10000, 0 },	/* seconds by default */
		{ "10s", 0, INT64_MAX, 10000, 0 },
		{ "250ms", 0, INT64_MAX, 250, 0 },
		{ "2m", 0, INT64_MAX, 120000, 0 },
		{ "3h", 0, INT64_MAX, 10800000, 0 },
		{ "1d", 0, INT64_MAX, 86400000, 0 },
		{ "0ms", 0, INT64_MAX, 0, 0 },
		{ "1000ms", 1000, 1000, 1000, 0 },
		{ "9223372036854775ms", 0, INT64_MAX, 9223372036854775LL, 0 },
		{ "999ms", 1000, 2000, 0, ERANGE },
		{ "3s", 1000, 2000, 0, ERANGE },
		{ "-1s", INT64_MIN, INT64_MAX, 0, ERANGE },
		{ "9223372036854776s", 0, INT64_MAX, 0, ERANGE },
		{ "106751991167301d", 0, INT64_MAX, 0, ERANGE },
		{ "", 0, INT64_MAX, 0, EINVAL },
		{ "s", 0, INT64_MAX, 0, EINVAL },
		{ "10x", 0, INT64_MAX, 0, EINVAL },
		{ "10S", 0, INT64_MAX, 0, EINVAL },	/* suffixes are lower case */
		{ "10 s", 0, INT64_MAX, 0, EINVAL },
		{ "10sec", 0, INT64_MAX, 0, EINVAL },
		{ "1.5s", 0, INT64_MAX, 0, EINVAL },
	};
	int64_t	v;
	size_t	i;
	int	r;

	for (i = 0; i < NELEM(t); i++) {
		v = 4242;
		errno = 0;
		r = parse_duration_ms(t[i].s, t[i].min, t[i].max, &v);
		if (t[i].err == 0)
			check(r == 0 && v == t[i].want,
			    "parse_duration_ms(\"%s\") = %lld ms", t[i].s,
			    (long long)t[i].want);
		else
			check(r == -1 && errno == t[i].err && v == 4242,
			    "parse_duration_ms(\"%s\", %lld, %lld) fails "
			    "with %s", t[i].s, (long long)t[i].min,
			    (long long)t[i].max,
			    t[i].err == EINVAL ? "EINVAL" : "ERANGE");
	}
}

static void
test_size(void)
{
	static const struct {
		const char	*s;
		uint64_t	 max, want;
		int		 err;
	} t[] = {
		{ "0", UINT64_MAX, 0, 0 },
		{ "512", UINT64_MAX, 512, 0 },
		{ "1k", UINT64_MAX, 1024, 0 },
		{ "1K", UINT64_MAX, 1024, 0 },
		{ "3m", UINT64_MAX, 3ULL << 20, 0 },
		{ "3M", UINT64_MAX, 3ULL << 20, 0 },
		{ "2g", UINT64_MAX, 2ULL << 30, 0 },
		{ "2G", UINT64_MAX, 2ULL << 30, 0 },
		{ "1k", 1024, 1024, 0 },
		{ "1025", 1024, 0, ERANGE },
		{ "2k", 1024, 0, ERANGE },
		{ "-1", UINT64_MAX, 0, ERANGE },
		{ "8589934592g", UINT64_MAX, 1ULL << 63, 0 },
		{ "17179869184g", UINT64_MAX, 0, ERANGE },
		{ "", UINT64_MAX, 0, EINVAL },
		{ "k", UINT64_MAX, 0, EINVAL },
		{ "1t", UINT64_MAX, 0, EINVAL },
		{ "1kb", UINT64_MAX, 0, EINVAL },
		{ "1 k", UINT64_MAX, 0, EINVAL },
	};
	uint64_t	v;
	size_t		i;
	int		r;

	for (i = 0; i < NELEM(t); i++) {
		v = 4242;
		errno = 0;
		r = parse_size(t[i].s, t[i].max, &v);
		if (t[i].err == 0)
			check(r == 0 && v == t[i].want,
			    "parse_size(\"%s\") = %llu", t[i].s,
			    (unsigned long long)t[i].want);
		else
			check(r == -1 && errno == t[i].err && v == 4242,
			    "parse_size(\"%s\", %llu) fails with %s", t[i].s,
			    (unsigned long long)t[i].max,
			    t[i].err == EINVAL ? "EINVAL" : "ERANGE");
	}
}

static void
test_bool(void)
{
	static const char *const yes[] = { "1", "yes", "YES", "on", "On",
	    "true", "TRUE" };
	static const char *const no[] = { "", "0", "no", "No", "off", "OFF",
	    "false", "False", "none" };
	static const char *const bad[] = { "2", "y", "n", "yess", " yes",
	    "-1" };
	size_t	i;
	int	v;

	for (i = 0; i < NELEM(yes); i++) {
		v = 7;
		check(parse_bool(yes[i], &v) == 0 && v == 1,
		    "parse_bool(\"%s\") = 1", yes[i]);
	}
	for (i = 0; i < NELEM(no); i++) {
		v = 7;
		check(parse_bool(no[i], &v) == 0 && v == 0,
		    "parse_bool(\"%s\") = 0", no[i]);
	}
	for (i = 0; i < NELEM(bad); i++) {
		v = 7;
		errno = 0;
		check(parse_bool(bad[i], &v) == -1 && errno == EINVAL &&
		    v == 7, "parse_bool(\"%s\") fails with EINVAL", bad[i]);
	}
}

static void
test_mode(void)
{
	static const struct {
		const char	*s;
		unsigned int	 want;
		int		 err;
	} t[] = {
		{ "0660", 0660, 0 },
		{ "660", 0660, 0 },
		{ "0", 0, 0 },
		{ "7777", 07777, 0 },
		{ "04755", 04755, 0 },
		{ "10000", 0, ERANGE },
		{ "77777777777777777777777777", 0, ERANGE },
		{ "", 0, EINVAL },
		{ "8", 0, EINVAL },
		{ "0668", 0, EINVAL },
		{ "-660", 0, EINVAL },
		{ "rw-rw----", 0, EINVAL },
		{ "0660 ", 0, EINVAL },
	};
	unsigned int	v;
	size_t		i;
	int		r;

	for (i = 0; i < NELEM(t); i++) {
		v = 4242;
		errno = 0;
		r = parse_mode(t[i].s, &v);
		if (t[i].err == 0)
			check(r == 0 && v == t[i].want,
			    "parse_mode(\"%s\") = %#o", t[i].s, t[i].want);
		else
			check(r == -1 && errno == t[i].err,
			    "parse_mode(\"%s\") fails with %s", t[i].s,
			    t[i].err == EINVAL ? "EINVAL" : "ERANGE");
	}
}

static void
test_rlimit(void)
{
	static const struct {
		const char	*s;
		uint64_t	 want;
		int		 err;
	} t[] = {
		{ "0", 0, 0 },
		{ "1024", 1024, 0 },
		{ "unlimited", RLIM_INFINITY, 0 },
		{ "UNLIMITED", RLIM_INFINITY, 0 },
		{ "infinity", RLIM_INFINITY, 0 },
		{ "9223372036854775807", INT64_MAX, 0 },
		{ "-1", 0, ERANGE },
		{ "", 0, EINVAL },
		{ "1k", 0, EINVAL },
		{ "unlimit", 0, EINVAL },
	};
	uint64_t	v;
	size_t		i;
	int		r;

	for (i = 0; i < NELEM(t); i++) {
		v = 4242;
		errno = 0;
		r = parse_rlimit(t[i].s, &v);
		if (t[i].err == 0)
			check(r == 0 && v == t[i].want,
			    "parse_rlimit(\"%s\") = %llu", t[i].s,
			    (unsigned long long)t[i].want);
		else
			check(r == -1 && errno == t[i].err && v == 4242,
			    "parse_rlimit(\"%s\") fails with %s", t[i].s,
			    t[i].err == EINVAL ? "EINVAL" : "ERANGE");
	}
}

int
main(void)
{
	test_int();
	test_duration();
	test_size();
	test_bool();
	test_mode();
	test_rlimit();
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
