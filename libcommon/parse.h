/* SPDX-License-Identifier: ISC */
/* Parsing of the scalar values found on command lines and in fpm.conf. */
#ifndef LIBCOMMON_PARSE_H
#define LIBCOMMON_PARSE_H

#include <stdint.h>

/*
 * Each returns 0 and stores the value, or -1 with errno EINVAL (not a value
 * of that kind) or ERANGE (outside [min, max]); *out is untouched on error.
 */

/* Decimal integer, optional leading '-', no trailing garbage. */
int	parse_int(const char *s, long long min, long long max, long long *out);

/*
 * Duration: an integer with an optional suffix "ms", "s" (the default), "m",
 * "h" or "d", as PHP-FPM's time values; stored in milliseconds.
 */
int	parse_duration_ms(const char *s, int64_t min, int64_t max, int64_t *out);

/* Size: an integer with an optional suffix k, m or g (powers of 1024, any case). */
int	parse_size(const char *s, uint64_t max, uint64_t *out);

/*
 * Boolean: yes/no, on/off, true/false, 1/0 (any case); the empty string is
 * false, as PHP's ini scanner makes it.  Stores 1 or 0.
 */
int	parse_bool(const char *s, int *out);

/* Octal file mode such as 0660 or 660, at most 07777. */
int	parse_mode(const char *s, unsigned int *out);

/* Resource limit: a non-negative integer or "unlimited" (RLIM_INFINITY). */
int	parse_rlimit(const char *s, uint64_t *out);

#endif
