/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for libcommon/cgi: a PARAMS block as a web server (or a
 * hostile client behind one) sends it, over a pretend file system.  The
 * script found lies inside the block and has no ".." component; a rewrite
 * is well formed, keeps every other pair byte for byte, and a second pass
 * changes nothing.  The first byte is the flags, the rest the block.
 *   clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       -o cgi_fuzz tests/fuzz/cgi_fuzz.c libcommon/cgi.c libcommon/fcgi.c
 * With gcc, -DCGI_FUZZ_STANDALONE gives a main() replaying files.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/cgi.h"
#include "libcommon/fcgi.h"

#define FUZZ_MAXIN	(1 << 18)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static enum cgi_ftype fuzz_probe(const char *, void *);
static int	fuzz_count(const struct fcgi_nv *, void *);

/*
 * Regular files end in ".php" or ".jpg", directories in "/d" or are "/":
 * enough for the walk to stop anywhere along a path.
 */
static enum cgi_ftype
fuzz_probe(const char *path, void *arg)
{
	size_t	 n = strlen(path);

	(void)arg;
	if (n >= 4 && (strcmp(path + n - 4, ".php") == 0 ||
	    strcmp(path + n - 4, ".jpg") == 0))
		return (CGI_FT_REG);
	if (strcmp(path, "/") == 0 || (n >= 2 && strcmp(path + n - 2,
	    "/d") == 0))
		return (CGI_FT_OTHER);
	return (CGI_FT_NONE);
}

/* Counts the pairs whose names no rewrite sets, and their bytes. */
static int
fuzz_count(const struct fcgi_nv *nv, void *arg)
{
	static const char *const set[] = {
		"SCRIPT_FILENAME", "PATH_INFO", "SCRIPT_NAME",
		"PATH_TRANSLATED", "ORIG_SCRIPT_FILENAME", "ORIG_PATH_INFO",
		"ORIG_SCRIPT_NAME", "ORIG_PATH_TRANSLATED"
	};
	size_t	*n = arg, i;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (nv->namelen == strlen(set[i]) &&
		    memcmp(nv->name, set[i], nv->namelen) == 0)
			return (0);
	n[0]++;
	n[1] += nv->namelen + nv->valuelen;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		*buf, *again;
	const char	*s;
	size_t		 len, bufsize, slen, before[2] = { 0, 0 },
			 after[2] = { 0, 0 };
	int		 flags, r;

	if (size < 1 || size > FUZZ_MAXIN)
		return (0);
	flags = data[0] & (CGI_PHP | CGI_FIX_PATHINFO | CGI_DISCARD_PATH);
	data++;
	size--;

	r = cgi_script(data, size, flags, fuzz_probe, NULL, &s, &slen);
	if (r == 1 && ((const uint8_t *)s < data ||
	    (const uint8_t *)s + slen > data + size ||
	    !cgi_path_valid(s, slen)))
		abort();
	if (r == 1)
		(void)cgi_ext_allowed(s, slen, (char *const[]){ ".php", NULL });

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	len = bufsize = size;
	if (fcgi_nv_foreach(buf, len, fuzz_count, before) == -1)
		before[0] = SIZE_MAX;
	r = cgi_params_normalize(&buf, &len, &bufsize, flags, fuzz_probe,
	    NULL);
	if (r == 1) {
		if (before[0] == SIZE_MAX ||
		    fcgi_nv_foreach(buf, len, fuzz_count, after) == -1 ||
		    before[0] != after[0] || before[1] != after[1])
			abort();
		again = buf;
		if (cgi_params_normalize(&buf, &len, &bufsize, flags,
		    fuzz_probe, NULL) != 0 || buf != again)
			abort();
	} else if (r == 0 && (len != size || memcmp(buf, data, size) != 0))
		abort();
	free(buf);
	return (0);
}

#ifdef CGI_FUZZ_STANDALONE
/* Without libFuzzer (gcc): replay the files named on the command line. */
int
main(int argc, char *argv[])
{
	static uint8_t	 in[FUZZ_MAXIN];
	FILE		*fp;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return (1);
		}
		n = fread(in, 1, sizeof(in), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(in, n);
	}
	return (0);
}
#endif
