/* SPDX-License-Identifier: ISC */
/*
 * php.group with fpm.so: the socket between fpm-supervise and the php-cgi
 * whose children are a pool's workers (cmd/fpm-supervise/group.c, and
 * php/fpm.c, which includes this file).
 *
 * It is the php-cgi's fd 3, named by FPM_GROUP_FD=3, a SOCK_STREAM.  Each
 * byte fpm-supervise writes asks for one child; php-cgi forks no other.
 * php-cgi writes whole records: 'H' once it forks on demand (pid: its own,
 * status: the most children it keeps), 'F' from each child it forks, 'X'
 * for each it reaps (status: wait(2)'s).  Neither runs a script.
 */
#ifndef LIBCOMMON_PHPGROUP_H
#define LIBCOMMON_PHPGROUP_H

#include <stdint.h>

#define PHPGROUP_FD	3
#define PHPGROUP_ENV	"FPM_GROUP_FD"

struct phpgroup_rec {
	int32_t		kind;		/* 'H', 'F' or 'X' */
	int32_t		pid;
	int32_t		status;
};

#endif
