/* SPDX-License-Identifier: ISC */
/*
 * What the libFuzzer targets in tests/fuzz/ share: an input read as
 * numbers and strings, a strict JSON checker, and scratch directories.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * One input, copied so that it can be cut into NUL-terminated strings in
 * place: strings are taken from the front (each up to the next NUL byte),
 * numbers from the back, as LLVM's FuzzedDataProvider does, so that a
 * mutation of one field leaves the others where they were.  Past the end,
 * numbers are 0 and strings "".
 */
struct fuzz_in {
	char	*buf;		/* the copy, one NUL byte longer */
	size_t	 off;		/* strings start here */
	size_t	 end;		/* numbers end here */
};

/* Copy data[0..len) into in (fuzz_in_free() releases it); aborts on ENOMEM. */
void	fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t len);
void	fuzz_in_free(struct fuzz_in *in);
uint8_t	fuzz_u8(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* The next string; it points into in->buf and lives as long as in. */
char	*fuzz_str(struct fuzz_in *in);
/* What fuzz_str() would not take: the rest of the front, and its length. */
char	*fuzz_rest(struct fuzz_in *in, size_t *len);

/*
 * 1 when s[0..len) is exactly one JSON value (RFC 8259) with blanks around
 * it, strings in valid UTF-8 with well-formed escapes and surrogate pairs;
 * else 0.  Nesting deeper than 64 is refused too.
 */
int	fuzz_json_valid(const char *s, size_t len);

/*
 * A new private directory under $TMPDIR (or /tmp) named after what, into
 * buf, removed at exit; aborts on failure.  fuzz_rmtree() empties and
 * removes a directory.
 */
void	fuzz_tmpdir(char *buf, size_t size, const char *what);
void	fuzz_rmtree(const char *dir);
/* dir/name, the first namelen bytes of name, into buf; aborts if too long. */
void	fuzz_path(char *buf, size_t size, const char *dir, const char *name,
	    size_t namelen);

/*
 * A broken promise: say what, show the output in question (len bytes of
 * data, which may be NULL), and abort() for libFuzzer to keep the input.
 */
__attribute__((noreturn)) void fuzz_fail(const char *what, const char *data,
	    size_t len);

/*
 * Descriptor leaks, which the sanitizers do not see: fuzz_fd_mark() notes
 * the lowest free descriptor, fuzz_fd_check() fails when it has moved up.
 */
void	fuzz_fd_mark(void);
void	fuzz_fd_check(void);

/* Send stdout to /dev/null, for code under test that prints. */
void	fuzz_quiet_stdout(void);

#endif
