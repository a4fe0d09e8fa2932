/* SPDX-License-Identifier: ISC */
/*
 * fpm-slowlog report: read slowlogs (ours and PHP-FPM's, plain or gzip),
 * group the entries by script and by their innermost frames, and print a
 * summary, or folded stacks for flame graph tools.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "cmd/fpm-slowlog/slowlog.h"

#define LINE_MAX_LEN	(1024 * 1024)	/* longer lines are corrupt */

/* One group of entries: by script, by script + top frames, or folded. */
struct group {
	char		*key;
	char		*script;
	char		**funcs;	/* innermost first */
	int		 nfuncs;
	unsigned long	 count;
	time_t		 first, last;
};

struct map {
	struct group	**slots;
	size_t		 size, used;
};

/* The entry being read; entries end at a blank line or the next header. */
struct entry {
	int		 open;
	time_t		 when;
	char		*script;
	char		**funcs;
	int		 nfuncs, cap;
	int		 bad;		/* a line that is not slowlog */
	int		 failed;	/* "+++ dump failed" */
};

struct report {
	const struct report_opts *o;
	struct map	 scripts, stacks, folded;
	struct entry	 e;
	unsigned long	 entries, complete, partial, corrupt, junk;
	int		 nfiles;
};

static uint64_t	hash(const char *);
static struct group *map_get(struct map *, const char *);
static int	group_cmp(const void *, const void *);
static int	key_cmp(const void *, const void *);
static struct group **map_sorted(struct map *, int);
static void	map_free(struct map *);
static char	*xstrdup(const char *);
static char	*xstrndup(const char *, size_t);
static void	entry_reset(struct entry *);
static void	entry_end(struct report *);
static void	group_add(struct group *, const struct entry *, int);
static int	parse_header(const char *, time_t *);
static int	parse_frame(const char *, char **);
static void	parse_line(struct report *, char *);
static int	read_file(struct report *, const char *);
static void	fmt_time(char *, size_t, time_t);
static size_t	utf8_len(const unsigned char *);
static void	json_str(const char *);
static void	tsv_str(const char *);
static void	print_text(struct report *);
static void	print_json(struct report *);
static void	print_tsv(struct report *);
static void	print_folded(struct report *);

/* FNV-1a */
static uint64_t
hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

/* The group for key, created empty (count 0) when new. */
static struct group *
map_get(struct map *m, const char *key)
{
	struct group	**old, *g;
	size_t		 i, j, oldsize;

	if (m->used * 2 >= m->size) {
		old = m->slots;
		oldsize = m->size;
		m->size = oldsize ? oldsize * 2 : 64;
		if ((m->slots = calloc(m->size, sizeof(*m->slots))) == NULL)
			fatal("calloc");
		for (i = 0; i < oldsize; i++) {
			if (old[i] == NULL)
				continue;
			j = hash(old[i]->key) & (m->size - 1);
			while (m->slots[j] != NULL)
				j = (j + 1) & (m->size - 1);
			m->slots[j] = old[i];
		}
		free(old);
	}
	i = hash(key) & (m->size - 1);
	for (; m->slots[i] != NULL; i = (i + 1) & (m->size - 1))
		if (strcmp(m->slots[i]->key, key) == 0)
			return (m->slots[i]);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		fatal("calloc");
	g->key = xstrdup(key);
	m->slots[i] = g;
	m->used++;
	return (g);
}

/* Most frequent first, then most recent, then by key. */
static int
group_cmp(const void *a, const void *b)
{
	const struct group	*x = *(struct group * const *)a;
	const struct group	*y = *(struct group * const *)b;

	if (x->count != y->count)
		return (x->count < y->count ? 1 : -1);
	if (x->last != y->last)
		return (x->last < y->last ? 1 : -1);
	return (strcmp(x->key, y->key));
}

static int
key_cmp(const void *a, const void *b)
{
	return (strcmp((*(struct group * const *)a)->key,
	    (*(struct group * const *)b)->key));
}

static struct group **
map_sorted(struct map *m, int bykey)
{
	struct group	**v;
	size_t		 i, n = 0;

	if ((v = calloc(m->used + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < m->size; i++)
		if (m->slots[i] != NULL)
			v[n++] = m->slots[i];
	qsort(v, n, sizeof(*v), bykey ? key_cmp : group_cmp);
	return (v);
}

static void
map_free(struct map *m)
{
	struct group	*g;
	size_t		 i;
	int		 j;

	for (i = 0; i < m->size; i++) {
		if ((g = m->slots[i]) == NULL)
			continue;
		for (j = 0; j < g->nfuncs; j++)
			free(g->funcs[j]);
		free(g->funcs);
		free(g->script);
		free(g->key);
		free(g);
	}
	free(m->slots);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return (p);
}

static char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return (p);
}

static void
entry_reset(struct entry *e)
{
	int	 i;

	for (i = 0; i < e->nfuncs; i++)
		free(e->funcs[i]);
	free(e->funcs);
	free(e->script);
	memset(e, 0, sizeof(*e));
}

/* Count one group member; the first one gives the group its frames. */
static void
group_add(struct group *g, const struct entry *e, int nfuncs)
{
	int	 i;

	if (g->count == 0) {
		g->script = xstrdup(e->script);
		if (nfuncs > 0 && (g->funcs = calloc(nfuncs,
		    sizeof(*g->funcs))) == NULL)
			fatal("calloc");
		for (i = 0; i < nfuncs; i++)
			g->funcs[i] = xstrdup(e->funcs[i]);
		g->nfuncs = nfuncs;
		g->first = g->last = e->when;
	}
	g->count++;
	if (e->when < g->first)
		g->first = e->when;
	if (e->when > g->last)
		g->last = e->when;
}

/*
 * An entry is complete with a script and at least one frame; partial when
 * it was cut short (no script_filename, no frames, "+++ dump failed"), and
 * corrupt when a line in it is not slowlog.  Corrupt entries are counted
 * only; partial ones are grouped as far as they go.
 */
static void
entry_end(struct report *r)
{
	struct entry	*e = &r->e;
	char		*key, *p;
	size_t		 len;
	int		 i, n;

	if (!e->open)
		return;
	if (!e->bad && ((r->o->since != 0 && e->when < r->o->since) ||
	    (r->o->until != 0 && e->when >= r->o->until))) {
		entry_reset(e);
		return;
	}
	r->entries++;
	if (e->bad) {
		r->corrupt++;
		entry_reset(e);
		return;
	}
	if (e->script == NULL || e->nfuncs == 0 || e->failed)
		r->partial++;
	else
		r->complete++;
	if (e->script == NULL)
		e->script = xstrdup("unknown");
	group_add(map_get(&r->scripts, e->script), e, 0);
	if (e->nfuncs == 0) {
		entry_reset(e);
		return;
	}

	/* keys: script, then the frames, separated by ";" */
	len = strlen(e->script) + 1;
	for (i = 0; i < e->nfuncs; i++)
		len += strlen(e->funcs[i]) + 1;
	if ((key = malloc(len)) == NULL)
		fatal("malloc");
	n = e->nfuncs < r->o->top ? e->nfuncs : r->o->top;
	p = stpcpy(key, e->script);
	for (i = 0; i < n; i++)
		p = stpcpy(stpcpy(p, ";"), e->funcs[i]);
	group_add(map_get(&r->stacks, key), e, n);
	/* folded stacks are root first */
	p = stpcpy(key, e->script);
	for (i = e->nfuncs - 1; i >= 0; i--)
		p = stpcpy(stpcpy(p, ";"), e->funcs[i]);
	group_add(map_get(&r->folded, key), e, 0);
	free(key);
	entry_reset(e);
}

/* "[25-Nov-2026 08:33:05]  [pool www] pid 18189" (optional .usec). */
static int
parse_header(const char *line, time_t *when)
{
	struct tm	 tm;
	const char	*p;
	char		 pool[256];
	int		 pid, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (line[0] != '[' ||
	    (p = strptime(line + 1, "%d-%b-%Y %H:%M:%S", &tm)) == NULL)
		return (-1);
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if (*p++ != ']')
		return (-1);
	p += strspn(p, " ");
	if (sscanf(p, "[pool %255[^]]] pid %d%n", pool, &pid, &n) != 2 ||
	    p[n] != '\0')
		return (-1);
	tm.tm_isdst = -1;
	*when = mktime(&tm);
	return (0);
}

/* "[0x00007f1bb1015230] sleep() /path/file.php:1": the function name. */
static int
parse_frame(const char *line, char **func)
{
	const char	*p, *end, *loc, *c;
	size_t		 n;

	if (strncmp(line, "[0x", 3) != 0)
		return (-1);
	n = strspn(line + 3, "0123456789abcdefABCDEF");
	if (n == 0 || n > 16 || strncmp(line + 3 + n, "] ", 2) != 0)
		return (-1);
	p = line + 3 + n + 2;
	/*
	 * The name is not empty; it may hold "() " itself (a PHP name from
	 * a worker's memory, made to), so the first one after its first
	 * byte ends it.
	 */
	if (*p == '\0' || (end = strstr(p + 1, "() ")) == NULL)
		return (-1);
	/* the location: file:line, module+0xoffset or "unknown" */
	loc = end + 3;
	if (strcmp(loc, "unknown") != 0 &&
	    ((c = strrchr(loc, ':')) == NULL || c[1] == '\0' ||
	    strspn(c + 1, "0123456789") != strlen(c + 1)) &&
	    ((c = strstr(loc, "+0x")) == NULL || c[3] == '\0' ||
	    strspn(c + 3, "0123456789abcdef") != strlen(c + 3)))
		return (-1);
	*func = xstrndup(p, end - p);
	/* flame graph tools split frames at ";" */
	for (n = 0; (*func)[n] != '\0'; n++)
		if ((*func)[n] == ';')
			(*func)[n] = ':';
	return (0);
}

static void
parse_line(struct report *r, char *line)
{
	struct entry	*e = &r->e;
	char		*func, **v;

	if (line[0] == '\0') {
		entry_end(r);
		return;
	}
	/*
	 * A frame starts "[0x"; a header starts with a date, whose day may
	 * be "01" to "09": tell them apart by the "0x", never by the '0'.
	 */
	if (line[0] == '[' && strncmp(line, "[0x", 3) != 0 &&
	    strstr(line, "[pool ") != NULL) {
		/* a header we cannot read starts a corrupt entry */
		entry_end(r);
		e->open = 1;
		if (parse_header(line, &e->when) == -1)
			e->bad = 1;
		return;
	}
	if (!e->open) {
		r->junk++;
		return;
	}
	if (strncmp(line, "script_filename = ", 18) == 0 &&
	    e->script == NULL && e->nfuncs == 0) {
		e->script = xstrdup(line + 18);
		return;
	}
	if (strncmp(line, "+++ ", 4) == 0) {
		if (strcmp(line, "+++ dump failed") == 0)
			e->failed = 1;
		return;	/* our notes */
	}
	if (parse_frame(line, &func) == 0) {
		if (e->nfuncs == e->cap) {
			e->cap = e->cap ? e->cap * 2 : 16;
			if ((v = reallocarray(e->funcs, e->cap,
			    sizeof(*v))) == NULL)
				fatal("reallocarray");
			e->funcs = v;
		}
		e->funcs[e->nfuncs++] = func;
		return;
	}
	e->bad = 1;
}

/* 0, or -1 when the file could not be opened (logged). */
static int
read_file(struct report *r, const char *path)
{
	gzFile		 gz;
	char		*buf = NULL, *nb;
	size_t		 cap = 8192, len;
	int		 zerr, got, bad;
	const char	*msg;

	if (strcmp(path, "-") == 0)
		gz = gzdopen(dup(STDIN_FILENO), "rb");
	else
		gz = gzopen(path, "rb");
	if (gz == NULL) {
		if (errno == 0)
			errno = ENOMEM;
		log_warn("unable to open %s", path);
		return (-1);
	}
	r->nfiles++;
	if ((buf = malloc(cap)) == NULL)
		fatal("malloc");
	for (;;) {
		len = 0;
		got = bad = 0;
		while (gzgets(gz, buf + len, (int)(cap - len)) != NULL) {
			got = 1;
			len += strlen(buf + len);
			if (len > 0 && buf[len - 1] == '\n')
				break;
			if (len < cap - 1) {
				/* short of the buffer and no \n: EOF or NUL */
				if (!gzeof(gz))
					bad = 1;
				break;
			}
			if (cap >= LINE_MAX_LEN) {
				bad = 1;
				len = 0;	/* drop the rest of it */
				continue;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL)
				fatal("realloc");
			buf = nb;
			cap *= 2;
		}
		if (!got)
			break;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (!bad) {
			parse_line(r, buf);
			continue;
		}
		if (r->e.open)
			r->e.bad = 1;
		else
			r->junk++;
	}
	msg = gzerror(gz, &zerr);
	if (zerr != Z_OK && zerr != Z_STREAM_END) {
		/* zlib's message already names the file */
		if (zerr == Z_ERRNO)
			log_warn("unable to read %s", path);
		else
			log_warnx("%s", msg);
		if (r->e.open)
			r->e.bad = 1;
		else
			r->junk++;
	}
	/* an entry cut at the end of a file (rotation) ends there */
	entry_end(r);
	gzclose(gz);
	free(buf);
	return (0);
}

static void
fmt_time(char *buf, size_t size, time_t t)
{
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strlcpy(buf, "-", size);
}

/*
 * The length of the UTF-8 character at s (>= 0x80): 2 to 4, or 0 when
 * it is not one (a stray byte, an overlong form, a surrogate, beyond
 * U+10FFFF, or cut short by the NUL).
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned long	cp, min;
	size_t		n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

/*
 * JSON is UTF-8, but a PHP-FPM slowlog holds a script's path and PHP's
 * names as they are, in Latin-1 as well: a byte that is not UTF-8 prints
 * as U+FFFD, as jq reads it, so that every JSON parser takes the report.
 */
static void
json_str(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	putchar('"');
	for (; *p != '\0'; p += n) {
		n = 1;
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else if (*p < 0x80)
			putchar(*p);
		else if ((n = utf8_len(p)) > 0)
			fwrite(p, 1, n, stdout);
		else {
			n = 1;
			fputs("\\ufffd", stdout);
		}
	}
	putchar('"');
}

static void
tsv_str(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(*s == '\t' || *s == '\r' ? ' ' : *s);
}

static void
print_text(struct report *r)
{
	struct group	**v;
	char		 first[32], last[32];
	size_t		 i;
	int		 j;

	printf("entries: %lu (complete %lu, partial %lu, corrupt %lu), "
	    "other lines: %lu, files: %d\n", r->entries, r->complete,
	    r->partial, r->corrupt, r->junk, r->nfiles);
	v = map_sorted(&r->scripts, 0);
	printf("\nby script:\n%7s  %-19s  %-19s  %s\n", "COUNT", "FIRST",
	    "LAST", "SCRIPT");
	for (i = 0; v[i] != NULL; i++) {
		fmt_time(first, sizeof(first), v[i]->first);
		fmt_time(last, sizeof(last), v[i]->last);
		printf("%7lu  %-19s  %-19s  %s\n", v[i]->count, first, last,
		    v[i]->script);
	}
	free(v);
	v = map_sorted(&r->stacks, 0);
	printf("\nby top %d frames:\n%7s  %-19s  %-19s  %s\n", r->o->top,
	    "COUNT", "FIRST", "LAST", "SCRIPT: FRAMES");
	for (i = 0; v[i] != NULL; i++) {
		fmt_time(first, sizeof(first), v[i]->first);
		fmt_time(last, sizeof(last), v[i]->last);
		printf("%7lu  %-19s  %-19s  %s:", v[i]->count, first, last,
		    v[i]->script);
		for (j = 0; j < v[i]->nfuncs; j++)
			printf("%s %s()", j ? " <" : "", v[i]->funcs[j]);
		putchar('\n');
	}
	free(v);
}

static void
print_json(struct report *r)
{
	struct group	**v;
	char		 t[32];
	size_t		 i;
	int		 j, k;

	printf("{\"files\":%d,\"entries\":%lu,\"complete\":%lu,"
	    "\"partial\":%lu,\"corrupt\":%lu,\"other_lines\":%lu,"
	    "\"top\":%d", r->nfiles, r->entries, r->complete, r->partial,
	    r->corrupt, r->junk, r->o->top);
	for (k = 0; k < 2; k++) {
		v = map_sorted(k == 0 ? &r->scripts : &r->stacks, 0);
		printf(",\"%s\":[", k == 0 ? "scripts" : "stacks");
		for (i = 0; v[i] != NULL; i++) {
			printf("%s{\"script\":", i ? "," : "");
			json_str(v[i]->script);
			printf(",\"count\":%lu,\"first\":", v[i]->count);
			fmt_time(t, sizeof(t), v[i]->first);
			json_str(t);
			printf(",\"last\":");
			fmt_time(t, sizeof(t), v[i]->last);
			json_str(t);
			if (k == 1) {
				printf(",\"frames\":[");
				for (j = 0; j < v[i]->nfuncs; j++) {
					if (j)
						putchar(',');
					json_str(v[i]->funcs[j]);
				}
				putchar(']');
			}
			putchar('}');
		}
		putchar(']');
		free(v);
	}
	printf("}\n");
}

static void
print_tsv(struct report *r)
{
	struct group	**v;
	char		 first[32], last[32];
	size_t		 i;
	int		 j, k;

	printf("kind\tcount\tfirst\tlast\tscript\tframes\n");
	for (k = 0; k < 2; k++) {
		v = map_sorted(k == 0 ? &r->scripts : &r->stacks, 0);
		for (i = 0; v[i] != NULL; i++) {
			fmt_time(first, sizeof(first), v[i]->first);
			fmt_time(last, sizeof(last), v[i]->last);
			printf("%s\t%lu\t%s\t%s\t", k == 0 ? "script" :
			    "stack", v[i]->count, first, last);
			tsv_str(v[i]->script);
			putchar('\t');
			for (j = 0; j < v[i]->nfuncs; j++) {
				if (j)
					putchar(';');
				tsv_str(v[i]->funcs[j]);
			}
			putchar('\n');
		}
		free(v);
	}
}

/* "script;outermost;...;innermost count", as flamegraph.pl reads it. */
static void
print_folded(struct report *r)
{
	struct group	**v;
	size_t		 i;

	v = map_sorted(&r->folded, 1);
	for (i = 0; v[i] != NULL; i++)
		printf("%s %lu\n", v[i]->key, v[i]->count);
	free(v);
}

int
report_parse_time(const char *s, time_t *out)
{
	static const char *const formats[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d", "%d-%b-%Y %H:%M:%S",
		"%d-%b-%Y %H:%M", "%d-%b-%Y", NULL
	};
	struct tm	 tm;
	const char	*end;
	int		 i;

	for (i = 0; formats[i] != NULL; i++) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, formats[i], &tm)) == NULL ||
		    *end != '\0')
			continue;
		tm.tm_isdst = -1;
		if ((*out = mktime(&tm)) == (time_t)-1)
			break;
		return (0);
	}
	errno = EINVAL;
	return (-1);
}

int
report_run(const struct report_opts *o, const char **files)
{
	struct report	 r;
	int		 i, rc = FPM_EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.o = o;
	for (i = 0; files[i] != NULL; i++)
		if (read_file(&r, files[i]) == -1)
			rc = FPM_EXIT_TEMP;
	switch (o->format) {
	case REPORT_TEXT:
		print_text(&r);
		break;
	case REPORT_JSON:
		print_json(&r);
		break;
	case REPORT_TSV:
		print_tsv(&r);
		break;
	case REPORT_FOLDED:
		print_folded(&r);
		break;
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		fatal("unable to write stdout");
	map_free(&r.scripts);
	map_free(&r.stacks);
	map_free(&r.folded);
	return (rc);
}
