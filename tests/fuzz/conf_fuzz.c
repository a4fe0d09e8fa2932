/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for libcommon/conf: a main file and its includes,
 * unpacked from the input into a scratch directory, loaded twice (the two
 * loads must agree), then dumped, compared and turned into worker argv.
 *
 * The input is a tiny archive: the main file (fpm.conf), then for each
 * include a line "--- NAME" and its contents up to the next such line.
 * NAME is a relative path of [A-Za-z0-9._-] components (no "." or "..",
 * at most three deep); other names and files past FUZZ_MAXFILES are
 * dropped.  ${FUZZDIR} in a value is the scratch directory, so that seeds
 * can include by absolute path; $FUZZ_* variables give ${ENV} something
 * to find.
 *
 * While a configuration loads, fopen() and glob() (linked with --wrap)
 * stay inside the scratch directory: a pattern or path that leaves it
 * fails, so that "include = /dev/zero" or a glob of the whole tree does
 * not reach the machine, and at most FUZZ_MAXOPENS files open per load,
 * since five levels of includes of "*" grow as the number of files to
 * the fifth.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/conf.h"
#include "libcommon/ctl.h"
#include "cmd/fpm-supervise/fpm.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAXFILES	8
#define FUZZ_MAXOPENS	64
#define FUZZ_NAMEMAX	64
#define FUZZ_SEP	"--- "

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
FILE	*__real_fopen(const char *, const char *);
FILE	*__wrap_fopen(const char *, const char *);
int	 __real_glob(const char *, int, int (*)(const char *, int),
	    glob_t *);
int	 __wrap_glob(const char *, int, int (*)(const char *, int),
	    glob_t *);

static int	 inside(const char *);
static int	 name_ok(const char *, size_t);
static const char *find_sep(const char *, const char *, const char *);
static void	 put(const char *, size_t, const char *, size_t);
static size_t	 unpack(const char *, size_t);
static char	*dump(const struct conf *, size_t *);
static void	 check_loaded(struct conf *, const char *);

static char	 dir[PATH_MAX];		/* the scratch directory */
static size_t	 dirlen;
static char	 mainpath[PATH_MAX];
static int	 sandbox;		/* a load is running */
static int	 nopens;

/* Inside dir, with no ".." component and no hidden name to climb with. */
static int
inside(const char *path)
{
	return (strncmp(path, dir, dirlen) == 0 && path[dirlen] == '/' &&
	    strstr(path + dirlen, "/.") == NULL &&
	    strstr(path + dirlen, "/\\.") == NULL);
}

FILE *
__wrap_fopen(const char *path, const char *mode)
{
	if (sandbox) {
		if (!inside(path)) {
			errno = EACCES;
			return (NULL);
		}
		if (++nopens > FUZZ_MAXOPENS) {
			errno = EMFILE;
			return (NULL);
		}
	}
	return (__real_fopen(path, mode));
}

int
__wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
    glob_t *g)
{
	if (sandbox && !inside(pattern))
		return (GLOB_NOMATCH);
	return (__real_glob(pattern, flags, errfunc, g));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmpdir(dir, sizeof(dir), "conf");
	dirlen = strlen(dir);
	fuzz_path(mainpath, sizeof(mainpath), dir, "fpm.conf", 8);
	setenv("FUZZDIR", dir, 1);
	setenv("FUZZ_EMPTY", "", 1);
	setenv("FUZZ_NUM", "8", 1);
	setenv("FUZZ_WORDS", "/usr/bin/php-cgi -d 'a b' \"c\\\"d\"", 1);
	setenv("FUZZ_QUOTE", "'\";$pool${FUZZ_NUM}", 1);
	fuzz_fd_mark();
	return (0);
}

/* A NAME for "--- NAME": see the top of the file. */
static int
name_ok(const char *s, size_t n)
{
	size_t	i, comp = 0, depth = 0;

	if (n == 0 || n > FUZZ_NAMEMAX)
		return (0);
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (comp == 0 || (comp == 1 && s[i - 1] == '.') ||
			    (comp == 2 && s[i - 1] == '.' && s[i - 2] == '.') ||
			    ++depth > 3)
				return (0);
			comp = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr("._-", s[i]) != NULL))
			return (0);
		comp++;
	}
	return (1);
}

/* Write dir/name (directories made as needed) with data[0..len). */
static void
put(const char *name, size_t namelen, const char *data, size_t len)
{
	char	 path[PATH_MAX], *slash;
	FILE	*fp;

	fuzz_path(path, sizeof(path), dir, name, namelen);
	for (slash = path + dirlen + 1; (slash = strchr(slash, '/')) != NULL;
	    slash++) {
		*slash = '\0';
		(void)mkdir(path, 0700);
		*slash = '/';
	}
	/* a name may be taken by a directory made for another one */
	if ((fp = __real_fopen(path, "we")) == NULL)
		return;
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		abort();
	if (fclose(fp) != 0)
		abort();
}

/* The first line at or after p (in s..end) that starts FUZZ_SEP, or end. */
static const char *
find_sep(const char *s, const char *p, const char *end)
{
	size_t	n = strlen(FUZZ_SEP);

	for (; p < end; p++)
		if ((p == s || p[-1] == '\n') && (size_t)(end - p) >= n &&
		    memcmp(p, FUZZ_SEP, n) == 0)
			return (p);
	return (end);
}

/* Write the files of the archive s[0..len); the count written. */
static size_t
unpack(const char *s, size_t len)
{
	const char	*end = s + len, *p = s, *next, *name, *nl;
	size_t		 nfiles = 0, namelen;

	name = "fpm.conf";
	namelen = strlen(name);
	for (;;) {
		next = find_sep(s, p, end);
		if (name != NULL && nfiles < FUZZ_MAXFILES) {
			put(name, namelen, p, (size_t)(next - p));
			nfiles++;
		}
		if (next == end)
			break;
		name = next + strlen(FUZZ_SEP);
		if ((nl = memchr(name, '\n', (size_t)(end - name))) == NULL)
			nl = end;
		namelen = (size_t)(nl - name);
		if (!name_ok(name, namelen))
			name = NULL;
		p = nl < end ? nl + 1 : end;
	}
	return (nfiles);
}

static char *
dump(const struct conf *c, size_t *len)
{
	char	*buf = NULL;
	FILE	*fp;

	if ((fp = open_memstream(&buf, len)) == NULL)
		abort();
	conf_dump(c, fp);
	if (fclose(fp) != 0)
		abort();
	return (buf);
}

/* What every loaded configuration promises (conf.h). */
static void
check_loaded(struct conf *c, const char *err)
{
	struct conf_pool	*pl;
	const char		*file;
	char			**argv;
	size_t			 i, j;
	int			 line;

	if (c->npools == 0 || c->files == NULL || c->nfiles == 0 ||
	    c->global.prefix == NULL || c->global.prefix[0] != '/' ||
	    err[0] != '\0')
		abort();
	for (i = 0; i < c->npools; i++) {
		pl = &c->pools[i];
		if (pl->name == NULL || pl->listen == NULL ||
		    pl->command == NULL || pl->argv == NULL ||
		    pl->argv[0] == NULL || pl->pm == CONF_PM_NONE ||
		    pl->max_children < 1 || pl->access_format == NULL ||
		    pl->limit_extensions == NULL ||
		    conf_pool_find(c, pl->name) != pl ||
		    !conf_pool_equal(pl, pl))
			abort();
		conf_pool_where(pl, "listen", &file, &line);
		if (file == NULL || line < 1)
			abort();
		if ((argv = pool_argv(pl)) == NULL)
			abort();
		for (j = 0; argv[j] != NULL; j++)
			;
		if (j < 1 + 2 * pl->nphp)
			abort();
		pool_argv_free(argv);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct conf	 a, b;
	char		 err[1024], err2[1024];
	char		 sock[PATH_MAX], pid[PATH_MAX];
	char		*da, *db;
	size_t		 i, dalen, dblen;
	int		 ra, rb, ea, rc;

	/* per input: libFuzzer opens its own between inputs (the
	   symbolizer's pipes when it prints a new function) */
	fuzz_fd_mark();
	if (unpack((const char *)data, len) == 0)
		abort();
	memset(err, 'x', sizeof(err));
	sandbox = 1;
	nopens = 0;
	ra = conf_load(&a, mainpath, NULL, err, sizeof(err));
	ea = errno;
	nopens = 0;
	rb = conf_load(&b, mainpath, NULL, err2, sizeof(err2));
	sandbox = 0;
	if (ra != rb || (ra == -1 && (ea != errno || strcmp(err, err2) != 0)))
		abort();
	if (ra == -1) {
		/* a message, and nothing left to free */
		if (strnlen(err, sizeof(err)) == sizeof(err) ||
		    err[0] == '\0' || a.npools != 0 || a.pools != NULL ||
		    a.files != NULL)
			abort();
		goto done;
	}
	check_loaded(&a, err);
	if (a.npools != b.npools || a.nwarnings != b.nwarnings)
		abort();
	for (i = 0; i < a.npools; i++)
		if (!conf_pool_equal(&a.pools[i], &b.pools[i]))
			abort();
	da = dump(&a, &dalen);
	db = dump(&b, &dblen);
	if (dalen != dblen || memcmp(da, db, dalen) != 0)
		abort();
	free(da);
	free(db);
	conf_free(&a);
	conf_free(&b);
	if (a.npools != 0 || a.pools != NULL)
		abort();

	/* fpm-ctl and fpm-status find the control socket the same way */
	sandbox = 1;
	nopens = 0;
	rc = ctl_client_paths(NULL, mainpath, NULL, sock, sizeof(sock), pid,
	    sizeof(pid), err, sizeof(err));
	sandbox = 0;
	if (rc == 0 && (strnlen(sock, sizeof(sock)) >= sizeof(sock) ||
	    sock[0] == '\0'))
		abort();
done:
	fuzz_rmtree(dir);
	if (mkdir(dir, 0700) == -1)
		abort();
	fuzz_fd_check();
	return (0);
}
