/* SPDX-License-Identifier: ISC */
/* Unit tests of libcommon/ini: values, lines, sections, $pool, includes. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libcommon/ini.h"
#include "tests/unit/tap.h"

static char	 dir[] = "/tmp/ini_test.XXXXXX";
static char	 err[512];
static char	 events[4096];	/* what the callbacks saw, one per line */

static void	 put(const char *, const char *);
static int	 parse(const char *, const char *);
static int	 on_section(struct ini *, const char *);
static int	 on_entry(struct ini *, const char *, const char *,
		    const char *);
static int	 on_raw(const char *);
static char	*value(const char *, int);
static void	 value_is(const char *, int, const char *);
static void	 value_fails(const char *, int, const char *);
static void	 test_values(void);
static void	 test_lines(void);
static void	 test_pool(void);
static void	 test_include(void);
static void	 test_errors(void);

static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

/* "[name]" or "name[key]=value" per event; the section's $pool is "P:name". */
static int
on_section(struct ini *ini, const char *name)
{
	static char	pool[64];

	snprintf(events + strlen(events), sizeof(events) - strlen(events),
	    "[%s]\n", name);
	if (strcasecmp(name, "global") == 0) {
		ini->pool = NULL;
		return (0);
	}
	if (strcmp(name, "bad") == 0)
		return (ini_err(ini, "no such section"));
	snprintf(pool, sizeof(pool), "P:%s", name);
	ini->pool = pool;
	return (0);
}

static int
on_entry(struct ini *ini, const char *name, const char *key, const char *v)
{
	(void)ini;
	snprintf(events + strlen(events), sizeof(events) - strlen(events),
	    key == NULL ? "%s%.0s=%s\n" : "%s[%s]=%s\n", name,
	    key == NULL ? "" : key, v);
	return (0);
}

static int
on_raw(const char *name)
{
	return (strcasecmp(name, "command") == 0);
}

/* Parse text as dir/name; 0 or -1, with events[] and err[] filled. */
static int
parse(const char *name, const char *text)
{
	struct ini	ini;
	char		path[PATH_MAX];
	int		r;

	if (text != NULL)
		put(name, text);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(&ini, 0, sizeof(ini));
	ini.prefix = dir;
	ini.section = on_section;
	ini.entry = on_entry;
	ini.raw = on_raw;
	ini.err = err;
	ini.errsize = sizeof(err);
	events[0] = '\0';
	r = ini_parse(&ini, path);
	if (ini.nwarnings > 0)
		snprintf(events + strlen(events), sizeof(events) -
		    strlen(events), "warning: %s\n", ini.warnings[0]);
	ini_free(&ini);
	return (r);
}

/* ini_value(s, raw) at f:3; NULL with the message in err. */
static char *
value(const char *s, int raw)
{
	struct ini	ini;

	memset(&ini, 0, sizeof(ini));
	ini.err = err;
	ini.errsize = sizeof(err);
	ini.file = "f";
	ini.line = 3;
	err[0] = '\0';
	return (ini_value(&ini, s, raw));
}

static void
value_is(const char *s, int raw, const char *want)
{
	char	*v = value(s, raw);

	check(v != NULL && strcmp(v, want) == 0, "%s value <%s> is <%s> "
	    "(got <%s>)", raw ? "raw" : "plain", s, want, v != NULL ? v : err);
	free(v);
}

static void
value_fails(const char *s, int raw, const char *msg)
{
	char	*v = value(s, raw);

	check(v == NULL && errno == EINVAL && strcmp(err, msg) == 0,
	    "%s value <%s> fails: %s (got %s)", raw ? "raw" : "plain", s, msg,
	    err);
	free(v);
}

static void
test_values(void)
{
	static const struct {
		const char	*s;
		int		 raw;
		const char	*want;
	} t[] = {
		{ "  plain  ", 0, "plain" },
		{ "a b ; comment", 0, "a b" },
		{ "\"a;b\" ", 0, "a;b" },
		{ "\"x \" y", 0, "x  y" },
		{ "'$x ${INI_T}' \"${INI_T}\" ${INI_T}", 0,
		    "$x ${INI_T} env env" },
		{ "\"a\\\"b\\\\c\\$d\\n\"", 0, "a\"b\\c$d\\n" },
		{ "a\\b", 0, "a\\b" },
		{ "\"it's\" 'say \"hi\"'", 0, "it's say \"hi\"" },
		{ "${INI_UNSET:-dflt} ${INI_UNSET}.", 0, "dflt ." },
		{ "\"\"", 0, "" },
		/* raw: what the command's split needs stays */
		{ "/bin/sh -c 'echo \"a b\"; x' \"q\\\"r\" ; c", 1,
		    "/bin/sh -c 'echo \"a b\"; x' \"q\\\"r\"" },
		{ "x\\ y \\; z", 1, "x\\ y \\; z" },
		{ "'${INI_T}' \"${INI_T}\"", 1, "'${INI_T}' \"env\"" },
		{ "\"/usr/bin/php-cgi -q\" ; c", 1, "/usr/bin/php-cgi -q" },
		{ "/bin/x \"open  ", 1, "/bin/x \"open" }
	};
	size_t	i;

	setenv("INI_T", "env", 1);
	unsetenv("INI_UNSET");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		value_is(t[i].s, t[i].raw, t[i].want);
	value_fails("\"a ", 0, "[f:3] unterminated quoted string");
	value_fails("'a", 0, "[f:3] unterminated quoted string");
	value_fails("${INI_T", 0, "[f:3] unterminated '${' in value");
}

static void
test_lines(void)
{
	int	r;

	r = parse("a.conf", "\xef\xbb\xbf; comment\n# hash\n\n"
	    "[global]\r\nk = v\n  [ www ] ; c\nName [ key ] = 1\n"
	    "arr[] = x\ncommand = a \"b c\"\n");
	check(r == 0 && strcmp(events, "[global]\nk=v\n[www]\nName[key]=1\n"
	    "arr[]=x\ncommand=a \"b c\"\n") == 0,
	    "BOM, comments, CRLF, blanks, arrays, raw command");
	r = parse("a.conf", "command[k] = \"a\"\n");
	check(r == 0 && strcmp(events, "command[k]=a\n") == 0,
	    "an array entry is never raw");
}

static void
test_pool(void)
{
	int	r;

	r = parse("p.conf", "[www]\nlisten = /run/$pool.sock\n"
	    "[global]\n");
	check(r == 0 && strcmp(events, "[www]\nlisten=/run/P:www.sock\n"
	    "[global]\n") == 0, "$pool is what the section callback says");
	r = parse("p.conf", "x = $pool\n");
	check(r == -1 && errno == EINVAL && strstr(err, "p.conf:1] Can't "
	    "use '$pool' when the pool is not defined") != NULL,
	    "$pool before any pool");
}

static void
test_include(void)
{
	char	want[PATH_MAX + 128];
	int	r;

	put("inc1.conf", "[one]\na = 1\n");
	put("inc2.conf", "b = 2\n");
	r = parse("m.conf", "include = inc*.conf\nc = 3\n");
	check(r == 0 && strcmp(events, "[one]\na=1\nb=2\nc=3\n") == 0,
	    "include: a glob relative to the prefix, sorted");
	r = parse("m.conf", "include = nothing*.conf\n");
	snprintf(want, sizeof(want), "warning: Nothing matches the include "
	    "pattern '%s/nothing*.conf' from %s/m.conf at line 1.\n", dir,
	    dir);
	check(r == 0 && strcmp(events, want) == 0, "no match: a warning");
	r = parse("loop.conf", "include = loop.conf\n");
	check(r == -1 && errno == EINVAL && strstr(err, "loop.conf:1] failed "
	    "to include more than 5 files recursively") != NULL,
	    "include depth is bounded");
	r = parse("m.conf", "include = /nonexistent/x.conf\n");
	check(r == 0, "an absolute pattern that matches nothing");
}

static void
test_errors(void)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} t[] = {
		{ "no equals\n", "1] syntax error: expected 'name = value'" },
		{ "a ; = b\n", "1] syntax error: expected 'name = value'" },
		{ " = b\n", "1] syntax error: no name before '='" },
		{ "\na [b = c\n", "2] syntax error: malformed array entry "
		    "'a ['" },
		{ "a[b] c = d\n", "1] syntax error: malformed array entry "
		    "'a['" },
		{ "[www\n", "1] syntax error: missing ']'" },
		{ "[www] x\n", "1] syntax error: unexpected text after ']'" },
		{ "[ ]\n", "1] empty section name" },
		{ "[bad]\n", "1] no such section" },
		{ "include =\n", "1] empty include pattern" }
	};
	char	want[PATH_MAX + 128];
	size_t	i;
	int	r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(want, sizeof(want), "[%s/e.conf:%s", dir, t[i].msg);
		r = parse("e.conf", t[i].text);
		check(r == -1 && errno == EINVAL && strcmp(err, want) == 0,
		    "error: %s (got %s)", t[i].msg, err);
	}
	r = parse("missing.conf", NULL);
	snprintf(want, sizeof(want), "cannot open %s/missing.conf: %s", dir,
	    strerror(ENOENT));
	check(r == -1 && errno == ENOENT && strcmp(err, want) == 0,
	    "a missing main file");
}

int
main(void)
{
	char	cmd[PATH_MAX];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_values();
	test_lines();
	test_pool();
	test_include();
	test_errors();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return (1);
	printf("1..%d\n", ntest);
	return (nfail != 0);
}
