/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the PHP side of fpm-slowlog trace
 * (cmd/fpm-slowlog/trace.c, built with FPM_FUZZ): the worker it reads as
 * root is a PHP application's, so its memory is the attacker's.  The
 * input is a synthetic memory image, which the walker reads through
 * trace_fuzz_mem_read() instead of process_vm_readv(), and maybe an ELF
 * file for the symbol and build-id lookup.
 *
 * Promises checked: the walk reads a bounded amount whatever the
 * pointers say (cycles included), and the entry it writes is one entry
 * that fpm-slowlog report reads back (cmd/fpm-slowlog/report.c), never a
 * corrupt one nor two.
 *
 * Input, from the front: regions, each a little-endian u64 address, u16
 * length and that many bytes (the last one cut at the end).  From the
 * end: flags (1: region 0 is also an ELF file whose executor_globals and
 * sapi_globals are used when the layout is trusted), depth (1 to 1000),
 * then the addresses of executor_globals and sapi_globals.  With
 * FUZZ_VERBOSE set in the environment, each entry goes to stderr.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/log.h"
#include "cmd/fpm-slowlog/slowlog.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAXREGIONS	64
/*
 * Reads one frame may take: the function, its name (length and bytes),
 * the call kind, the previous frame, then for each internal frame on the
 * way to the caller's code its function, type and previous frame, and
 * for that caller the file name (length and bytes), opline and line.
 */
#define FUZZ_READS_FRAME(internal)	(5 + 3 * (internal) + 7)
#define FUZZ_INTERNAL_MAX	64	/* trace.c: TRACE_PHP_INTERNAL_MAX */
/* The script's pointer and string (two pages at most), the first frame. */
#define FUZZ_READS_START	4

struct region {
	uint64_t	 addr;
	const uint8_t	*data;
	size_t		 len;
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	trace_fuzz_mem_read(uint64_t, void *, size_t);
int	trace_fuzz_elf(const char *, uint64_t *, uint64_t *);
int	trace_fuzz_php(uint64_t, uint64_t, int, const char *);

static uint64_t	le(const uint8_t *, size_t);
static size_t	regions_parse(const uint8_t *, size_t);
static char	*slurp(int, size_t *);
static void	check_entry(void);

static struct region	 regions[FUZZ_MAXREGIONS];
static size_t		 nregions;
static unsigned long	 nreads, maxreads;
static char		 dir[PATH_MAX], elfpath[PATH_MAX];
static char		 entrypath[PATH_MAX];
static int		 outfd;		/* stdout, for the report */

/*
 * process_vm_readv() of one range: whole when every byte is in a region
 * (adjacent regions read as one mapping), else EFAULT.
 */
int
trace_fuzz_mem_read(uint64_t addr, void *buf, size_t len)
{
	uint8_t		*out = buf;
	uint64_t	 off;
	size_t		 i, n;

	if (++nreads > maxreads)
		fuzz_fail("the walk reads without a bound", NULL, 0);
	while (len > 0) {
		for (i = 0; i < nregions; i++)
			if (addr >= regions[i].addr &&
			    addr - regions[i].addr < regions[i].len)
				break;
		if (i == nregions) {
			errno = EFAULT;
			return (-1);
		}
		off = addr - regions[i].addr;
		n = regions[i].len - off < len ? regions[i].len - off : len;
		memcpy(out, regions[i].data + off, n);
		out += n;
		addr += n;
		len -= n;
		if (addr == 0 && len > 0) {	/* wrapped around */
			errno = EFAULT;
			return (-1);
		}
	}
	return (0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	path[PATH_MAX];

	(void)argc;
	(void)argv;
	log_init("slowlog_trace_fuzz", LOG_STYLE_PLAIN);
	log_setlevel(LOG_LVL_ALERT);
	fuzz_tmpdir(dir, sizeof(dir), "trace");
	fuzz_path(elfpath, sizeof(elfpath), dir, "php-cgi", 7);
	fuzz_path(entrypath, sizeof(entrypath), dir, "slow.log", 8);
	fuzz_path(path, sizeof(path), dir, "stdout", 6);
	fflush(stdout);
	if ((outfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || dup2(outfd, STDOUT_FILENO) == -1) {
		perror(path);
		abort();
	}
	close(outfd);
	outfd = STDOUT_FILENO;
	fuzz_fd_mark();
	return (0);
}

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return (v);
}

/* Cut data[0..len) into regions; the count. */
static size_t
regions_parse(const uint8_t *data, size_t len)
{
	size_t	off = 0, n;

	nregions = 0;
	while (nregions < FUZZ_MAXREGIONS && len - off >= 10) {
		regions[nregions].addr = le(data + off, 8);
		n = (size_t)le(data + off + 8, 2);
		off += 10;
		if (n > len - off)
			n = len - off;
		regions[nregions].data = data + off;
		regions[nregions].len = n;
		nregions++;
		off += n;
	}
	return (nregions);
}

/* The whole of fd, from its start; then empty it. */
static char *
slurp(int fd, size_t *len)
{
	char	*buf;
	off_t	 end;

	if ((end = lseek(fd, 0, SEEK_END)) == -1 ||
	    (buf = malloc((size_t)end + 1)) == NULL ||
	    pread(fd, buf, (size_t)end, 0) != (ssize_t)end)
		abort();
	buf[end] = '\0';
	*len = (size_t)end;
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		abort();
	return (buf);
}

/* The entry written is one entry to the report, and not a corrupt one. */
static void
check_entry(void)
{
	struct report_opts	 o;
	const char		*files[] = { entrypath, NULL };
	char			*entry, *sum;
	size_t			 elen, slen;
	int			 fd;

	memset(&o, 0, sizeof(o));
	o.format = REPORT_JSON;
	o.top = 3;
	if (report_run(&o, files) != 0)
		abort();
	fflush(stdout);
	sum = slurp(outfd, &slen);
	if ((fd = open(entrypath, O_RDWR | O_CLOEXEC)) == -1)
		abort();
	entry = slurp(fd, &elen);
	close(fd);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%s", entry);
	if (strstr(sum, "\"entries\":1,") == NULL ||
	    strstr(sum, "\"corrupt\":0,") == NULL ||
	    strstr(sum, "\"other_lines\":0,") == NULL)
		fuzz_fail("the entry does not read back as one entry", entry,
		    elen);
	free(entry);
	free(sum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_in	 in;
	uint64_t	 eg, sg, eg2, sg2;
	size_t		 rlen;
	const char	*rest;
	int		 depth, fd;
	uint8_t		 flags;

	/* per input: libFuzzer opens its own between inputs (the
	   symbolizer's pipes when it prints a new function) */
	fuzz_fd_mark();
	fuzz_in_init(&in, data, len);
	flags = fuzz_u8(&in);
	depth = fuzz_u8(&in);
	depth = 1 + (depth << 8 | fuzz_u8(&in)) % SLOWLOG_DEPTH_MAX;
	eg = fuzz_u64(&in);
	sg = fuzz_u64(&in);
	rest = fuzz_rest(&in, &rlen);
	regions_parse((const uint8_t *)rest, rlen);

	if ((flags & 1) && nregions > 0) {
		if ((fd = open(elfpath, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600)) == -1 ||
		    write(fd, regions[0].data, regions[0].len) !=
		    (ssize_t)regions[0].len || close(fd) == -1)
			abort();
		if (trace_fuzz_elf(elfpath, &eg2, &sg2)) {
			eg = eg2;
			sg = sg2;
		}
	}

	nreads = 0;
	maxreads = FUZZ_READS_START + (unsigned long)depth *
	    FUZZ_READS_FRAME(FUZZ_INTERNAL_MAX);
	(void)trace_fuzz_php(eg, sg, depth, entrypath);
	check_entry();
	fuzz_in_free(&in);
	fuzz_fd_check();
	return (0);
}
