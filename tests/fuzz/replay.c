/* SPDX-License-Identifier: ISC */
/*
 * A fuzz target without libFuzzer, for make check: run it once over each
 * file of its corpus, tests/fuzz/corpus/NAME/ for a binary NAME_replay (or
 * over the files given), and print TAP.  Every input that once crashed a
 * target stays in its corpus, so this is their regression test, with gcc
 * and under SANITIZE like the unit tests.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	run_file(const char *);
static int	name_cmp(const struct dirent **, const struct dirent **);

/* Read path whole into an exact-size buffer (ASan sees any overread). */
static int
run_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	FILE		*fp;
	size_t		 len;

	if ((fp = fopen(path, "rbe")) == NULL || fstat(fileno(fp), &st) == -1) {
		perror(path);
		return (-1);
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    fread(buf, 1, len, fp) != len) {
		perror(path);
		fclose(fp);
		free(buf);
		return (-1);
	}
	fclose(fp);
	/* on stderr, which tests/run shows when the input crashes */
	fprintf(stderr, "# %s\n", path);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return (0);
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return (strcmp((*a)->d_name, (*b)->d_name));
}

int
main(int argc, char *argv[])
{
	struct dirent	**ents;
	FILE		 *tap;
	const char	 *base, *suffix = "_replay";
	char		  dir[256], path[512];
	size_t		  blen;
	int		  i, n, fd, ok, ntest = 0, nfail = 0;

	/* the target may send stdout elsewhere: TAP keeps the original */
	if ((fd = dup(STDOUT_FILENO)) == -1 ||
	    (tap = fdopen(fd, "w")) == NULL) {
		perror("stdout");
		return (1);
	}
	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	blen = strlen(base);
	if (blen > strlen(suffix) &&
	    strcmp(base + blen - strlen(suffix), suffix) == 0)
		blen -= strlen(suffix);
	if (snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%.*s", (int)blen,
	    base) >= (int)sizeof(dir)) {
		fprintf(stderr, "%s: name too long\n", base);
		return (1);
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			ok = run_file(argv[i]) == 0;
			nfail += !ok;
			fprintf(tap, "%sok %d - %s\n", ok ? "" : "not ",
			    ++ntest, argv[i]);
		}
	} else {
		if ((n = scandir(dir, &ents, NULL, name_cmp)) == -1) {
			perror(dir);
			return (1);
		}
		for (i = 0; i < n; i++) {
			if (ents[i]->d_name[0] == '.') {
				free(ents[i]);
				continue;
			}
			ok = snprintf(path, sizeof(path), "%s/%s", dir,
			    ents[i]->d_name) < (int)sizeof(path) &&
			    run_file(path) == 0;
			free(ents[i]);
			nfail += !ok;
			fprintf(tap, "%sok %d - %s\n", ok ? "" : "not ",
			    ++ntest, path);
		}
		free(ents);
	}
	fprintf(tap, "1..%d\n", ntest);
	fclose(tap);
	return (nfail > 0);
}
