/* SPDX-License-Identifier: ISC */
/* Unit tests of fpm-supervise's argv.c: the worker's command line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/conf.h"
#include "cmd/fpm-supervise/fpm.h"
#include "tests/unit/tap.h"

static int	streq(const char *, const char *);
static void	test_php(void);
static void	test_plain(void);

static int
streq(const char *a, const char *b)
{
	return (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
test_php(void)
{
	char			*cmd[] = { "/usr/bin/php-cgi", "-c",
				    "/etc/my php.ini", NULL };
	struct conf_php		 php[4];
	struct conf_pool	 pool;
	char			**v;

	memset(&pool, 0, sizeof(pool));
	pool.argv = cmd;
	pool.php = php;
	pool.nphp = 4;
	php[0] = (struct conf_php){ CONF_PHP_VALUE, "memory_limit", "256M",
	    NULL, 0 };
	php[1] = (struct conf_php){ CONF_PHP_ADMIN_FLAG, "log_errors", "1",
	    NULL, 0 };
	php[2] = (struct conf_php){ CONF_PHP_FLAG, "display_errors", "0",
	    NULL, 0 };
	php[3] = (struct conf_php){ CONF_PHP_ADMIN_VALUE, "error_reporting",
	    "E_ALL & ~E_DEPRECATED", NULL, 0 };
	v = pool_argv(&pool);
	check(v != NULL && streq(v[0], "/usr/bin/php-cgi") &&
	    streq(v[1], "-d") && streq(v[2], "memory_limit=256M") &&
	    streq(v[3], "-d") && streq(v[4], "display_errors=0") &&
	    streq(v[5], "-d") && streq(v[6], "log_errors=1") &&
	    streq(v[7], "-d") &&
	    streq(v[8], "error_reporting=E_ALL & ~E_DEPRECATED") &&
	    streq(v[9], "-c") && streq(v[10], "/etc/my php.ini") &&
	    v[11] == NULL, "pool_argv: -d pairs after argv[0], admin last");
	pool_argv_free(v);
}

static void
test_plain(void)
{
	char			*cmd[] = { "/bin/sh", "-c",
				    "echo \"a b\"; exit 0", "x y", "", NULL };
	struct conf_pool	 pool;
	char			**v;

	memset(&pool, 0, sizeof(pool));
	pool.argv = cmd;
	v = pool_argv(&pool);
	check(v != NULL && streq(v[0], "/bin/sh") && streq(v[1], "-c") &&
	    streq(v[2], "echo \"a b\"; exit 0") && streq(v[3], "x y") &&
	    streq(v[4], "") && v[5] == NULL, "pool_argv without php_*");
	pool_argv_free(v);
	pool.argv = NULL;
	check(pool_argv(&pool) == NULL && errno == EINVAL,
	    "pool_argv without a command: EINVAL");
}

int
main(void)
{
	test_php();
	test_plain();
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
