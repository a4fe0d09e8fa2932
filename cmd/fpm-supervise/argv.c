/* SPDX-License-Identifier: ISC */
/* The worker's command line, from its pool's command and php_*[] entries. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/conf.h"
#include "libcommon/ini.h"
#include "fpm.h"

/*
 * command's argv[0], "-c" php.ini when set, then "-d" "key=value" for each
 * php_*[] entry in the
 * order PHP must see them (conf_php_next(): the admin values last, so that
 * they win), then command's other arguments.  Each string is allocated on
 * its own (pool_phpext() moves them into a longer array).
 */
char **
pool_argv(const struct conf_pool *c)
{
	const struct conf_php	*ph;
	char			**v;
	size_t			 argc, n = 0, it, i;

	if (c->argv == NULL || c->argv[0] == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	for (argc = 0; c->argv[argc] != NULL; argc++)
		;
	if ((v = calloc(argc + 2 * c->nphp + 3, sizeof(*v))) == NULL)
		return (NULL);
	if ((v[n++] = strdup(c->argv[0])) == NULL)
		goto fail;
	if (c->php_ini != NULL && ((v[n++] = strdup("-c")) == NULL ||
	    (v[n++] = strdup(c->php_ini)) == NULL))
		goto fail;
	for (it = 0; (ph = conf_php_next(c, &it)) != NULL; n++) {
		if ((v[n++] = strdup("-d")) == NULL)
			goto fail;
		if (asprintf(&v[n], "%s=%s", ph->key, ph->value) == -1) {
			v[n] = NULL;
			goto fail;
		}
	}
	for (i = 1; i < argc; i++)
		if ((v[n++] = strdup(c->argv[i])) == NULL)
			goto fail;
	return (v);
fail:
	pool_argv_free(v);
	errno = ENOMEM;
	return (NULL);
}

/* A list like ini's, each string its own. */
void
pool_argv_free(char **v)
{
	ini_strv_free(v);
}
