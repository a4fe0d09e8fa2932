/* SPDX-License-Identifier: ISC */
/* Parsing of the scalar values found on command lines and in fpm.conf. */

#include <sys/resource.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libcommon/parse.h"

static int	parse_suffixed(const char *, long long *, const char **);

/*
 * Read the leading decimal integer of s into *v and point *end past it.
 * Leading blanks and '+' are refused: config values are already trimmed.
 */
static int
parse_suffixed(const char *s, long long *v, const char **end)
{
	char	*e;

	if (s == NULL || !(isdigit((unsigned char)*s) ||
	    (*s == '-' && isdigit((unsigned char)s[1])))) {
		errno = EINVAL;
		return (-1);
	}
	errno = 0;
	*v = strtoll(s, &e, 10);
	if (errno == ERANGE)
		return (-1);
	*end = e;
	return (0);
}

int
parse_int(const char *s, long long min, long long max, long long *out)
{
	long long	 v;
	const char	*end;

	if (parse_suffixed(s, &v, &end) == -1)
		return (-1);
	if (*end != '\0') {
		errno = EINVAL;
		return (-1);
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return (-1);
	}
	*out = v;
	return (0);
}

int
parse_duration_ms(const char *s, int64_t min, int64_t max, int64_t *out)
{
	static const struct {
		const char	*suffix;
		int64_t		 ms;
	} units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }
	};
	long long	 v;
	const char	*end;
	size_t		 i;

	if (parse_suffixed(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v < 0 || v > INT64_MAX / units[i].ms) {
			errno = ERANGE;
			return (-1);
		}
		v *= units[i].ms;
		if (v < min || v > max) {
			errno = ERANGE;
			return (-1);
		}
		*out = v;
		return (0);
	}
	errno = EINVAL;
	return (-1);
}

int
parse_size(const char *s, uint64_t max, uint64_t *out)
{
	long long	 v;
	const char	*end;
	uint64_t	 mul;

	if (parse_suffixed(s, &v, &end) == -1)
		return (-1);
	switch (tolower((unsigned char)*end)) {
	case '\0':
		mul = 1;
		break;
	case 'k':
		mul = 1ULL << 10;
		break;
	case 'm':
		mul = 1ULL << 20;
		break;
	case 'g':
		mul = 1ULL << 30;
		break;
	default:
		errno = EINVAL;
		return (-1);
	}
	if (*end != '\0' && end[1] != '\0') {
		errno = EINVAL;
		return (-1);
	}
	if (v < 0 || (uint64_t)v > max / mul) {
		errno = ERANGE;
		return (-1);
	}
	*out = (uint64_t)v * mul;
	return (0);
}

int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "", "0", "no", "off", "false",
	    "none" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return (0);
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return (0);
		}
	errno = EINVAL;
	return (-1);
}

int
parse_mode(const char *s, unsigned int *out)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '7') {
		errno = EINVAL;
		return (-1);
	}
	errno = 0;
	v = strtoul(s, &end, 8);
	if (*end != '\0') {
		errno = EINVAL;
		return (-1);
	}
	if (errno == ERANGE || v > 07777) {
		errno = ERANGE;
		return (-1);
	}
	*out = (unsigned int)v;
	return (0);
}

int
parse_rlimit(const char *s, uint64_t *out)
{
	long long	v;

	if (strcasecmp(s, "unlimited") == 0 || strcasecmp(s, "infinity") == 0) {
		*out = RLIM_INFINITY;
		return (0);
	}
	if (parse_int(s, 0, LLONG_MAX, &v) == -1)
		return (-1);
	*out = (uint64_t)v;
	return (0);
}
