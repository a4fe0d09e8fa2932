/* SPDX-License-Identifier: ISC */
/*
 * The configuration model: fpm.conf's sections and entries (libcommon/ini)
 * put into struct conf through the directive tables (confschema.c), the
 * array entries, then the checks (confcheck.c); lookups, dump, comparison.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libcommon/confschema.h"
#include "libcommon/ini.h"
#include "libcommon/parse.h"

/* PHP's E_* constants, which its ini scanner puts in values (PHP 8.2). */
static const struct {
	const char	*name;
	long long	 value;
} conf_php_consts[] = {
	{ "E_ERROR", 1 }, { "E_WARNING", 2 }, { "E_PARSE", 4 },
	{ "E_NOTICE", 8 }, { "E_CORE_ERROR", 16 }, { "E_CORE_WARNING", 32 },
	{ "E_COMPILE_ERROR", 64 }, { "E_COMPILE_WARNING", 128 },
	{ "E_USER_ERROR", 256 }, { "E_USER_WARNING", 512 },
	{ "E_USER_NOTICE", 1024 }, { "E_STRICT", 2048 },
	{ "E_RECOVERABLE_ERROR", 4096 }, { "E_DEPRECATED", 8192 },
	{ "E_USER_DEPRECATED", 16384 }, { "E_ALL", 32767 }
};

struct conf_parser {
	struct ini	 ini;
	struct conf	*conf;
	ssize_t		 cur;		/* pool index, -1 in [global] */
};

#define CONF_PHP_NKINDS	4

/* The array directives php_*[], by enum conf_php_kind. */
static const char *const conf_php_names[CONF_PHP_NKINDS] = {
	[CONF_PHP_VALUE] = "php_value",
	[CONF_PHP_FLAG] = "php_flag",
	[CONF_PHP_ADMIN_VALUE] = "php_admin_value",
	[CONF_PHP_ADMIN_FLAG] = "php_admin_flag"
};

static int	conf_section(struct ini *, const char *);
static int	conf_entry(struct ini *, const char *, const char *,
		    const char *);
static int	conf_raw(const char *);
static int	conf_array(struct conf_parser *, const char *, const char *,
		    const char *);
static int	conf_array_suppress(struct ini *, struct conf_pool *,
		    const char *, const char *);
static int	conf_array_env(struct ini *, struct conf_pool *, const char *,
		    const char *);
static int	conf_array_php(struct ini *, struct conf_pool *,
		    enum conf_php_kind, const char *, const char *);
static int	conf_php_admin(enum conf_php_kind);
static const char *conf_php_eval(const char *, char *, size_t);
static int	conf_eval_or(const char **, long long *);
static int	conf_eval_unary(const char **, long long *);
static int	conf_pool_init(struct conf_parser *, struct conf_pool *,
		    const char *);
static void	conf_pool_free(struct conf_pool *);
static int	conf_prefix(struct conf_parser *, const char *, const char *);
static int	conf_strv_eq(char *const *, char *const *);

/* The [global] section, or a pool's, opened or opened again. */
static int
conf_section(struct ini *ini, const char *s)
{
	struct conf_parser *p = ini->arg;
	struct conf	*c = p->conf;
	struct conf_pool *np;
	const char	*t;
	size_t		 i;

	ini->pool = NULL;
	if (strcasecmp(s, "global") == 0) {
		p->cur = -1;
		return (0);
	}
	for (i = 0; i < c->npools; i++) {
		if (strcasecmp(c->pools[i].name, s) == 0) {
			p->cur = i;
			ini->pool = c->pools[i].name;
			return (0);
		}
	}
	/* Pool names end up in paths (runtime_dir/name) and status output. */
	if (strchr(s, '/') != NULL || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return (ini_err(ini, "invalid pool name '%s'", s));
	for (t = s; *t != '\0'; t++)
		if (iscntrl((unsigned char)*t))
			return (ini_err(ini, "invalid pool name '%s'", s));
	if ((np = reallocarray(c->pools, c->npools + 1, sizeof(*np))) == NULL)
		return (ini_oom(ini));
	c->pools = np;
	if (conf_pool_init(p, &np[c->npools], s) == -1)
		return (-1);
	p->cur = c->npools++;
	ini->pool = np[p->cur].name;
	return (0);
}

static int
conf_entry(struct ini *ini, const char *name, const char *akey,
    const char *v)
{
	struct conf_parser	*p = ini->arg;
	const struct conf_opt	*o, *other;
	struct conf_where	*where;
	void			*base;

	if (akey != NULL) {
		if (p->cur < 0)
			return (ini_err(ini,
			    "Array are not allowed in the global section"));
		return (conf_array(p, name, akey, v));
	}
	if (p->cur < 0) {
		o = conf_opt_find(conf_global_opts, name);
		other = conf_opt_find(conf_pool_opts, name);
		base = &p->conf->global;
	} else {
		o = conf_opt_find(conf_pool_opts, name);
		other = conf_opt_find(conf_global_opts, name);
		base = &p->conf->pools[p->cur];
	}
	if (o == NULL) {
		if (other != NULL)
			return (ini_err(ini, "unknown entry '%s'. It is a %s "
			    "directive, not allowed in %s.", name,
			    p->cur < 0 ? "pool" : "[global]",
			    p->cur < 0 ? "[global]" : "a pool"));
		return (ini_err(ini, "unknown entry '%s'", name));
	}
	if (conf_set(ini, o, base, v) == -1)
		return (-1);
	if (o->setoff != CONF_NOSET)
		*(int *)(void *)((char *)base + o->setoff) = 1;
	if (p->cur >= 0) {
		where = &p->conf->pools[p->cur].where[o - conf_pool_opts];
		where->file = ini->file;
		where->line = ini->line;
	}
	return (0);
}

/* Only "command" keeps its quotes, for its split into argv. */
static int
conf_raw(const char *name)
{
	const struct conf_opt	*o = conf_opt_find(conf_pool_opts, name);

	return (o != NULL && o->type == CT_COMMAND);
}

static int
conf_array(struct conf_parser *p, const char *name, const char *akey,
    const char *v)
{
	struct conf_pool	*pool = &p->conf->pools[p->cur];
	size_t			 kind;

	if (strcasecmp(name, "access.suppress_path") == 0)
		return (conf_array_suppress(&p->ini, pool, akey, v));
	if (strcasecmp(name, "env") == 0)
		return (conf_array_env(&p->ini, pool, akey, v));
	for (kind = 0; kind < CONF_PHP_NKINDS; kind++)
		if (strcasecmp(name, conf_php_names[kind]) == 0)
			return (conf_array_php(&p->ini, pool, kind, akey, v));
	return (ini_err(&p->ini, "unknown directive '%s'", name));
}

static int
conf_array_suppress(struct ini *ini, struct conf_pool *pool,
    const char *akey, const char *v)
{
	if (*akey != '\0')
		return (ini_err(ini, "Keys provided to field "
		    "'access.suppress_path' are ignored. Write "
		    "access.suppress_path[] = %s.", v));
	if (*v != '/')
		return (ini_err(ini, "Values provided to field "
		    "'access.suppress_path' must begin with '/'. '%s' does "
		    "not.", v));
	if (ini_strv_push(&pool->access_suppress_path,
	    &pool->naccess_suppress_path, v) == -1)
		return (ini_oom(ini));
	return (0);
}

static int
conf_array_env(struct ini *ini, struct conf_pool *pool, const char *akey,
    const char *v)
{
	struct conf_kv	*kv;
	const char	*val;
	size_t		 i;

	if (*akey == '\0')
		return (ini_err(ini, "You must provide a key for field 'env'"));
	if (strchr(akey, '=') != NULL)
		return (ini_err(ini, "invalid name in env[%s]", akey));
	if (*v == '\0')
		return (ini_err(ini, "empty value"));
	/* A whole value "$VAR" is the supervisor's VAR (PHP-FPM). */
	val = v;
	if (*v == '$' && (val = getenv(v + 1)) == NULL)
		val = "";
	for (i = 0; i < pool->nenv; i++)
		if (strcmp(pool->env[i].key, akey) == 0)
			break;
	if (i == pool->nenv) {
		if ((kv = reallocarray(pool->env, pool->nenv + 1,
		    sizeof(*kv))) == NULL)
			return (ini_oom(ini));
		pool->env = kv;
		if ((kv[i].key = strdup(akey)) == NULL)
			return (ini_oom(ini));
		kv[i].value = NULL;
		pool->nenv++;
	}
	free(pool->env[i].value);
	if ((pool->env[i].value = strdup(val)) == NULL)
		return (ini_oom(ini));
	return (0);
}

/*
 * php_value[key] and the like: the last wins among the admin ones and
 * among the others, as in PHP.  An empty value is PHP's empty string, as
 * PHP-FPM takes it (php_admin_value[disable_functions] =).
 */
static int
conf_array_php(struct ini *ini, struct conf_pool *pool,
    enum conf_php_kind kind, const char *akey, const char *v)
{
	struct conf_php	*ph;
	size_t		 i;
	char		 num[32];
	int		 b;

	if (*akey == '\0')
		return (ini_err(ini, "You must provide a key for field '%s'",
		    conf_php_name(kind)));
	v = conf_php_eval(v, num, sizeof(num));
	if (kind == CONF_PHP_FLAG || kind == CONF_PHP_ADMIN_FLAG) {
		if (parse_bool(v, &b) == -1)
			return (ini_err(ini, "error while parsing '%s[%s]' : "
			    "invalid boolean value. '%s' is none of yes/no, "
			    "on/off, true/false, 1/0.", conf_php_name(kind),
			    akey, v));
		v = b ? "1" : "0";
	}
	for (i = 0; i < pool->nphp; i++)
		if (strcmp(pool->php[i].key, akey) == 0 &&
		    conf_php_admin(pool->php[i].kind) == conf_php_admin(kind))
			break;
	if (i == pool->nphp) {
		if ((ph = reallocarray(pool->php, pool->nphp + 1,
		    sizeof(*ph))) == NULL)
			return (ini_oom(ini));
		pool->php = ph;
		if ((ph[i].key = strdup(akey)) == NULL)
			return (ini_oom(ini));
		ph[i].value = NULL;
		pool->nphp++;
	}
	ph = &pool->php[i];
	ph->kind = kind;
	ph->file = ini->file;
	ph->line = ini->line;
	free(ph->value);
	if ((ph->value = strdup(v)) == NULL)
		return (ini_oom(ini));
	return (0);
}

/*
 * A value made of numbers, E_* constants, ~ ! ( ) and | & ^ (one
 * precedence, from the left, as in PHP's ini parser) is its number, as
 * PHP-FPM's ini scanner makes it ("E_ALL & ~E_NOTICE" is "32759"), in buf;
 * any other value is v as it is.  Bitwise on small numbers: no overflow.
 */
static const char *
conf_php_eval(const char *v, char *buf, size_t size)
{
	const char	*s = v;
	long long	 n;

	/* the length bounds the recursion: no config nests 256 deep */
	if (strlen(v) > 256 || strpbrk(v, "E|&^~!") == NULL ||
	    conf_eval_or(&s, &n) == -1)
		return (v);
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		return (v);
	snprintf(buf, size, "%lld", n);
	return (buf);
}

static int
conf_eval_or(const char **sp, long long *out)
{
	long long	 r;
	char		 op;

	if (conf_eval_unary(sp, out) == -1)
		return (-1);
	for (;;) {
		while (isspace((unsigned char)**sp))
			(*sp)++;
		if ((op = **sp) != '|' && op != '&' && op != '^')
			return (0);
		(*sp)++;
		if (conf_eval_unary(sp, &r) == -1)
			return (-1);
		*out = op == '|' ? *out | r : op == '&' ? *out & r : *out ^ r;
	}
}

/* ~x, !x, (x), a number or a constant; -1 for anything else. */
static int
conf_eval_unary(const char **sp, long long *out)
{
	const char	*s = *sp;
	size_t		 i, len;
	long long	 n;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '~' || *s == '!') {
		*sp = s + 1;
		if (conf_eval_unary(sp, &n) == -1)
			return (-1);
		*out = *s == '~' ? ~n : !n;
		return (0);
	}
	if (*s == '(') {
		*sp = s + 1;
		if (conf_eval_or(sp, out) == -1)
			return (-1);
		while (isspace((unsigned char)**sp))
			(*sp)++;
		if (**sp != ')')
			return (-1);
		(*sp)++;
		return (0);
	}
	for (len = 0; isalnum((unsigned char)s[len]) || s[len] == '_'; len++)
		;
	if (len == 0 || len > 19)
		return (-1);
	*sp = s + len;
	if (isdigit((unsigned char)*s)) {
		if (len > 18)
			return (-1);	/* what a long long holds */
		for (i = 0, n = 0; i < len; i++) {
			if (!isdigit((unsigned char)s[i]))
				return (-1);
			n = n * 10 + (s[i] - '0');
		}
		*out = n;
		return (0);
	}
	for (i = 0; i < sizeof(conf_php_consts) / sizeof(conf_php_consts[0]);
	    i++)
		if (strlen(conf_php_consts[i].name) == len &&
		    strncmp(conf_php_consts[i].name, s, len) == 0) {
			*out = conf_php_consts[i].value;
			return (0);
		}
	return (-1);
}

static int
conf_php_admin(enum conf_php_kind kind)
{
	return (kind == CONF_PHP_ADMIN_VALUE || kind == CONF_PHP_ADMIN_FLAG);
}

static int
conf_pool_init(struct conf_parser *p, struct conf_pool *pool,
    const char *name)
{
	memset(pool, 0, sizeof(*pool));
	pool->name = strdup(name);
	pool->file = strdup(p->ini.file);
	pool->line = p->ini.line;
	pool->where = calloc(conf_npool_opts, sizeof(*pool->where));
	if (pool->name == NULL || pool->file == NULL || pool->where == NULL) {
		conf_pool_free(pool);
		return (ini_oom(&p->ini));
	}
	if (conf_set_defaults(&p->ini, conf_pool_opts, pool) == -1) {
		conf_pool_free(pool);
		return (-1);
	}
	return (0);
}

static void
conf_pool_free(struct conf_pool *pool)
{
	size_t	i;

	conf_free_opts(conf_pool_opts, pool);
	free(pool->name);
	free(pool->file);
	free(pool->where);
	ini_strv_free(pool->access_suppress_path);
	ini_strv_free(pool->limit_extensions);
	ini_strv_free(pool->argv);
	for (i = 0; i < pool->nenv; i++) {
		free(pool->env[i].key);
		free(pool->env[i].value);
	}
	free(pool->env);
	for (i = 0; i < pool->nphp; i++) {
		free(pool->php[i].key);
		free(pool->php[i].value);
	}
	free(pool->php);
	memset(pool, 0, sizeof(*pool));
}

int
conf_load(struct conf *conf, const char *path, const char *prefix,
    char *err, size_t errsize)
{
	struct conf_parser	 p;
	int			 r, saved;

	memset(conf, 0, sizeof(*conf));
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.cur = -1;
	p.ini.arg = &p;
	p.ini.section = conf_section;
	p.ini.entry = conf_entry;
	p.ini.raw = conf_raw;
	p.ini.err = err;
	p.ini.errsize = errsize;
	if (errsize > 0)
		err[0] = '\0';
	if ((r = conf_set_defaults(&p.ini, conf_global_opts,
	    &conf->global)) == 0 && (r = conf_prefix(&p, path, prefix)) == 0) {
		p.ini.prefix = conf->global.prefix;
		if ((r = ini_parse(&p.ini, path)) == 0)
			r = conf_finish(&p.ini, conf);
	}
	conf->files = p.ini.files;
	conf->nfiles = p.ini.nfiles;
	conf->warnings = p.ini.warnings;
	conf->nwarnings = p.ini.nwarnings;
	conf->notes = p.ini.notes;
	conf->nnotes = p.ini.nnotes;
	if (r == -1) {
		saved = errno;
		conf_free(conf);
		errno = saved;
	}
	return (r);
}

/*
 * The main file's path, and the prefix: the base of relative paths and
 * include patterns (prefix, else path's directory), made absolute.
 */
static int
conf_prefix(struct conf_parser *p, const char *path, const char *prefix)
{
	struct conf_global	*g = &p->conf->global;
	const char		*slash;
	char			 cwd[PATH_MAX], *dir;
	int			 r, saved;

	if (prefix != NULL)
		dir = strdup(prefix);
	else if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, slash - path);
	if (dir == NULL || (g->file = strdup(path)) == NULL) {
		free(dir);
		return (ini_oom(&p->ini));
	}
	if (*dir == '/') {
		g->prefix = dir;
		return (0);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		saved = errno;
		snprintf(p->ini.err, p->ini.errsize, "getcwd: %s",
		    strerror(saved));
		free(dir);
		errno = saved;
		return (-1);
	}
	r = strcmp(dir, ".") == 0 ? asprintf(&g->prefix, "%s", cwd) :
	    asprintf(&g->prefix, "%s/%s", cwd, dir);
	free(dir);
	if (r == -1) {
		g->prefix = NULL;
		return (ini_oom(&p->ini));
	}
	return (0);
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	conf_free_opts(conf_global_opts, &conf->global);
	free(conf->global.file);
	free(conf->global.prefix);
	for (i = 0; i < conf->npools; i++)
		conf_pool_free(&conf->pools[i]);
	free(conf->pools);
	ini_strv_free(conf->warnings);
	ini_strv_free(conf->notes);
	ini_strv_free(conf->files);
	memset(conf, 0, sizeof(*conf));
}

void
conf_dump(const struct conf *conf, FILE *fp)
{
	const struct conf_pool	*pl;
	const struct conf_php	*ph;
	size_t			 i, j, it;

	fprintf(fp, "[global]\n");
	fprintf(fp, "\tprefix = %s\n", conf->global.prefix != NULL ?
	    conf->global.prefix : "undefined");
	conf_dump_opts(conf_global_opts, &conf->global, fp);
	/* PHP-FPM ends each section with a blank notice */
	fprintf(fp, " \n");
	for (i = 0; i < conf->npools; i++) {
		pl = &conf->pools[i];
		fprintf(fp, "[%s]\n", pl->name);
		conf_dump_opts(conf_pool_opts, pl, fp);
		for (j = 0; j < pl->naccess_suppress_path; j++)
			fprintf(fp, "\taccess.suppress_path[] = %s\n",
			    pl->access_suppress_path[j]);
		for (j = 0; j < pl->nenv; j++)
			fprintf(fp, "\tenv[%s] = %s\n", pl->env[j].key,
			    pl->env[j].value);
		/* flags too are values to PHP-FPM, which prints them so */
		for (it = 0; (ph = conf_php_next(pl, &it)) != NULL; )
			fprintf(fp, "\t%s[%s] = %s\n", conf_php_admin(ph->kind) ?
			    "php_admin_value" : "php_value", ph->key,
			    ph->value);
		fprintf(fp, " \n");
	}
}

void
conf_pool_where(const struct conf_pool *pool, const char *name,
    const char **file, int *line)
{
	const struct conf_opt	*o;

	*file = pool->file;
	*line = pool->line;
	if ((o = conf_opt_find(conf_pool_opts, name)) == NULL ||
	    pool->where == NULL || pool->where[o - conf_pool_opts].file == NULL)
		return;
	*file = pool->where[o - conf_pool_opts].file;
	*line = pool->where[o - conf_pool_opts].line;
}

struct conf_pool *
conf_pool_find(const struct conf *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->npools; i++)
		if (strcasecmp(conf->pools[i].name, name) == 0)
			return (&conf->pools[i]);
	return (NULL);
}

static int
conf_strv_eq(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	for (; *a != NULL && *b != NULL; a++, b++)
		if (strcmp(*a, *b) != 0)
			return (0);
	return (*a == NULL && *b == NULL);
}

int
conf_pool_equal(const struct conf_pool *a, const struct conf_pool *b)
{
	size_t	i;

	if (!conf_equal_opts(conf_pool_opts, a, b, CF_WORKER))
		return (0);
	if (!conf_strv_eq(a->argv, b->argv) || a->nenv != b->nenv ||
	    a->nphp != b->nphp)
		return (0);
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i].key, b->env[i].key) != 0 ||
		    strcmp(a->env[i].value, b->env[i].value) != 0)
			return (0);
	for (i = 0; i < a->nphp; i++)
		if (a->php[i].kind != b->php[i].kind ||
		    strcmp(a->php[i].key, b->php[i].key) != 0 ||
		    strcmp(a->php[i].value, b->php[i].value) != 0)
			return (0);
	return (1);
}

const char *
conf_php_name(enum conf_php_kind kind)
{
	return ((size_t)kind < CONF_PHP_NKINDS ? conf_php_names[kind] : "?");
}

const struct conf_php *
conf_php_next(const struct conf_pool *pool, size_t *it)
{
	const struct conf_php	*ph;
	size_t			 pass;

	/* *it runs twice over php[]: pass 0 the values, pass 1 the admin ones */
	while (*it < 2 * pool->nphp) {
		pass = *it / pool->nphp;
		ph = &pool->php[*it % pool->nphp];
		(*it)++;
		if (conf_php_admin(ph->kind) == (pass == 1))
			return (ph);
	}
	return (NULL);
}
