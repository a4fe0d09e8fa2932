/* SPDX-License-Identifier: ISC */
/*
 * After parsing: the values derived from others (absolute paths, the
 * limit_extensions list, pm.start_servers) and the checks of PHP-FPM's
 * fpm_conf_process_all_pools() and ours, which need the whole file.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcommon/confschema.h"
#include "libcommon/parse.h"
#include "libcommon/sock.h"

static int	conf_errdir(struct ini *, const struct conf_pool *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	conf_split_ws(const char *, char ***);
static int	conf_resolve(char **, const char *);
static int	conf_finish_pool(struct ini *, struct conf *, struct conf_pool *);
static int	conf_check_addresses(struct ini *, struct conf *);
static int	conf_listen_err(struct ini *, const struct conf_pool *,
		    const char *, const char *);
static int	conf_pool_paths(struct ini *, struct conf *, struct conf_pool *);
static int	conf_check_required(struct ini *, struct conf_pool *);
static int	conf_default_command(struct ini *, struct conf_pool *);
static int	conf_check_pm(struct ini *, struct conf_pool *);
static int	conf_check_dynamic(struct ini *, struct conf_pool *);
static int	conf_check_slowlog(struct ini *, struct conf_pool *);
static int	conf_check_uri(struct ini *, struct conf_pool *, const char *,
		    const char *, const char *);
static int	conf_check_clients(struct ini *, struct conf_pool *);
static int	conf_is_unix(const char *);
static void	conf_fmt_secs(int64_t, char *, size_t);

/*
 * An error about directive name of pool pl, found after parsing: it names
 * the line that set the directive, or the section when none did.
 */
static int
conf_errdir(struct ini *ini, const struct conf_pool *pl,
    const char *name, const char *fmt, ...)
{
	va_list		 ap;
	const char	*file;
	int		 line;

	conf_pool_where(pl, name, &file, &line);
	va_start(ap, fmt);
	ini_verrat(ini, file, line, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Split on blanks into a new NULL-terminated list (never NULL on success). */
static int
conf_split_ws(const char *s, char ***out)
{
	char	**v = NULL, *w;
	size_t	 n = 0, len;

	if (ini_strv_push(&v, &n, NULL) == -1)
		return (-1);
	n = 0;
	while (s != NULL && *s != '\0') {
		while (isspace((unsigned char)*s))
			s++;
		for (len = 0; s[len] != '\0' &&
		    !isspace((unsigned char)s[len]); len++)
			;
		if (len == 0)
			break;
		if ((w = strndup(s, len)) == NULL ||
		    ini_strv_push(&v, &n, w) == -1) {
			free(w);
			ini_strv_free(v);
			return (-1);
		}
		free(w);
		s += len;
	}
	*out = v;
	return (0);
}

/* Make *pathp absolute against base; -1 (ENOMEM) on failure. */
static int
conf_resolve(char **pathp, const char *base)
{
	char	*np;

	if (*pathp == NULL || **pathp == '/')
		return (0);
	if (asprintf(&np, "%s/%s", base, *pathp) == -1)
		return (-1);
	free(*pathp);
	*pathp = np;
	return (0);
}

int
conf_finish(struct ini *ini, struct conf *c)
{
	struct conf_global	*g = &c->global;
	size_t			 i;

	if (conf_resolve(&g->pid, g->prefix) == -1 ||
	    conf_resolve(&g->control, g->prefix) == -1 ||
	    conf_resolve(&g->runtime_dir, g->prefix) == -1 ||
	    (g->error_log != NULL && strcmp(g->error_log, "syslog") != 0 &&
	    conf_resolve(&g->error_log, g->prefix) == -1))
		return (ini_oom(ini));
	if (c->npools == 0) {
		snprintf(ini->err, ini->errsize, "No pool defined. at least "
		    "one pool section must be specified in config file. %s "
		    "has none.", g->file);
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < c->npools; i++)
		if (conf_finish_pool(ini, c, &c->pools[i]) == -1)
			return (-1);
	return (conf_check_addresses(ini, c));
}

/* Two pools (or a pool and a status listener) on one address. */
static int
conf_check_addresses(struct ini *ini, struct conf *c)
{
	struct sock_addr	*addrs;
	const char		*a, *b;
	size_t			 i, j;
	int			 r = 0;

	if ((addrs = calloc(c->npools * 2, sizeof(*addrs))) == NULL)
		return (ini_oom(ini));
	for (i = 0; i < c->npools * 2 && r == 0; i++) {
		a = i % 2 == 0 ? c->pools[i / 2].listen :
		    c->pools[i / 2].status_listen;
		if (a == NULL)
			continue;
		if (sock_parse(a, &addrs[i]) == -1) {
			r = conf_listen_err(ini, &c->pools[i / 2], i % 2 == 0 ?
			    "listen" : "pm.status_listen", a);
			break;
		}
		for (j = 0; j < i; j++) {
			b = j % 2 == 0 ? c->pools[j / 2].listen :
			    c->pools[j / 2].status_listen;
			if (b == NULL ||
			    strcmp(addrs[i].key, addrs[j].key) != 0)
				continue;
			r = conf_errdir(ini, &c->pools[i / 2], i % 2 == 0 ?
			    "listen" : "pm.status_listen", "[pool %s] unable "
			    "to set listen address as it's already used in another "
			    "pool '%s'", c->pools[i / 2].name,
			    c->pools[j / 2].name);
			break;
		}
	}
	free(addrs);
	return (r);
}

/*
 * sock_parse() refused address a of directive name: PHP-FPM's words for a
 * bad port, ours for the rest (PHP-FPM asks getaddrinfo(3) about a host).
 */
static int
conf_listen_err(struct ini *ini, const struct conf_pool *pl,
    const char *name, const char *a)
{
	struct sockaddr_un	 sun;
	const char		*port;
	long long		 n;

	if (errno == ENAMETOOLONG)
		return (conf_errdir(ini, pl, name, "[pool %s] invalid %s "
		    "address '%s'. A unix socket's path has at most %zu "
		    "bytes.", pl->name, name, a, sizeof(sun.sun_path) - 1));
	port = strrchr(a, ':') != NULL ? strrchr(a, ':') + 1 : a;
	if (parse_int(port, 1, 65535, &n) == -1)
		return (conf_errdir(ini, pl, name, "invalid port value '%s'. "
		    "A port is 1 to 65535.", port));
	return (conf_errdir(ini, pl, name, "[pool %s] invalid %s address "
	    "'%s'. The host is neither an IPv4 nor a [IPv6] address.",
	    pl->name, name, a));
}

/* One pool: its paths, its extension list, then its checks in order. */
static int
conf_finish_pool(struct ini *ini, struct conf *c, struct conf_pool *pl)
{
	if (conf_pool_paths(ini, c, pl) == -1)
		return (-1);
	ini_strv_free(pl->limit_extensions);
	pl->limit_extensions = NULL;
	if (conf_split_ws(pl->security_limit_extensions,
	    &pl->limit_extensions) == -1)
		return (ini_oom(ini));
	if (conf_check_required(ini, pl) == -1 ||
	    conf_check_pm(ini, pl) == -1 ||
	    conf_check_uri(ini, pl, "status", "pm.status_path",
	    pl->status_path) == -1 ||
	    conf_check_uri(ini, pl, "ping", "ping.path", pl->ping_path) == -1 ||
	    conf_check_slowlog(ini, pl) == -1 ||
	    conf_check_clients(ini, pl) == -1)
		return (-1);
	if (pl->request_max_params_size == 0)
		return (conf_errdir(ini, pl, "request.max_params_size",
		    "[pool %s] request.max_params_size must be a positive "
		    "value", pl->name));
	return (0);
}

/*
 * The pool's prefix made absolute, then what is relative to it: chroot
 * (where "$prefix" may open the value), the paths, unix sockets.
 */
static int
conf_pool_paths(struct ini *ini, struct conf *c, struct conf_pool *pl)
{
	struct conf_global	*g = &c->global;
	const struct conf_opt	*o;
	const char		*base, *nm = pl->name;
	char			*np;

	if (conf_resolve(&pl->prefix, g->prefix) == -1)
		return (ini_oom(ini));
	base = pl->prefix != NULL ? pl->prefix : g->prefix;

	/* $prefix is only recognised at the start of chroot (PHP-FPM). */
	if (pl->chroot != NULL && (np = strstr(pl->chroot, "$prefix")) !=
	    NULL) {
		if (np != pl->chroot)
			return (conf_errdir(ini, pl, "chroot", "[pool %s] "
			    "'$prefix' must be use at the beginning of the value", nm));
		if (asprintf(&np, "%s%s", base, pl->chroot + 7) == -1)
			return (ini_oom(ini));
		free(pl->chroot);
		pl->chroot = np;
	}
	if (conf_resolve(&pl->chroot, base) == -1)
		return (ini_oom(ini));
	for (o = conf_pool_opts; o->name != NULL; o++)
		if (o->type == CT_PATH && conf_resolve((char **)(void *)
		    ((char *)pl + o->off), base) == -1)
			return (ini_oom(ini));
	if (pl->listen != NULL && conf_is_unix(pl->listen) &&
	    conf_resolve(&pl->listen, base) == -1)
		return (ini_oom(ini));
	if (pl->status_listen != NULL && conf_is_unix(pl->status_listen) &&
	    conf_resolve(&pl->status_listen, base) == -1)
		return (ini_oom(ini));
	return (0);
}

/*
 * A pool without command runs php-cgi, as PHP-FPM's pools do: the pool
 * file of PHP-FPM X.Y loads unchanged and runs php-cgiX.Y.
 */
static int
conf_default_command(struct ini *ini, struct conf_pool *pl)
{
	char	path[PATH_MAX];

	if (conf_default_phpcgi(pl->file, path, sizeof(path)) == -1)
		return (ini_errat(ini, pl->file, pl->line, "[pool %s] 'command' "
		    "is not set and no php-cgi is on PATH: set command to the "
		    "worker program", pl->name));
	if ((pl->command = strdup(path)) == NULL ||
	    (pl->argv = calloc(2, sizeof(*pl->argv))) == NULL ||
	    (pl->argv[0] = strdup(path)) == NULL)
		return (ini_oom(ini));
	return (0);
}

/* What a pool cannot do without: listen, command, pm. */
static int
conf_check_required(struct ini *ini, struct conf_pool *pl)
{
	const char	*f = pl->file, *nm = pl->name;
	int		 l = pl->line;

	if (pl->listen == NULL)
		return (ini_errat(ini, f, l, "[pool %s] no listen address have "
		    "been defined!", nm));
	if (pl->command == NULL && conf_default_command(ini, pl) == -1)
		return (-1);
	if (pl->php_ini != NULL && !conf_is_phpcgi(pl->argv[0]))
		return (conf_errdir(ini, pl, "php.ini", "[pool %s] php.ini is "
		    "only for php-cgi workers (command is '%s')", nm,
		    pl->argv[0]));
	if (pl->nphp > 0 && !conf_is_phpcgi(pl->argv[0]))
		return (ini_errat(ini, pl->php[0].file, pl->php[0].line,
		    "[pool %s] %s[%s] is only for "
		    "php-cgi workers (command is '%s')", nm,
		    conf_php_name(pl->php[0].kind), pl->php[0].key,
		    pl->argv[0]));
	if (pl->pm == CONF_PM_NONE)
		return (ini_errat(ini, f, l, "[pool %s] the process manager is "
		    "missing (static, dynamic or ondemand)", nm));
	return (0);
}

static int
conf_check_pm(struct ini *ini, struct conf_pool *pl)
{
	const char	*nm = pl->name;

	if (pl->max_children < 1)
		return (conf_errdir(ini, pl, "pm.max_children", "[pool %s] "
		    "pm.max_children must be a positive value", nm));
	if (pl->pm == CONF_PM_DYNAMIC)
		return (conf_check_dynamic(ini, pl));
	if (pl->pm == CONF_PM_ONDEMAND && pl->process_idle_timeout_ms <= 0)
		return (conf_errdir(ini, pl, "pm.process_idle_timeout",
		    "[pool %s] pm.process_idle_timeout(0s) must be greater "
		    "than 0s", nm));
	return (0);
}

/* pm = dynamic: the spare servers, and pm.start_servers derived if unset. */
static int
conf_check_dynamic(struct ini *ini, struct conf_pool *pl)
{
	const char	*nm = pl->name;

	if (pl->min_spare_servers <= 0)
		return (conf_errdir(ini, pl, "pm.min_spare_servers",
		    "[pool %s] "
		    "pm.min_spare_servers(%d) must be a positive value",
		    nm, pl->min_spare_servers));
	if (pl->max_spare_servers <= 0)
		return (conf_errdir(ini, pl, "pm.max_spare_servers",
		    "[pool %s] "
		    "pm.max_spare_servers(%d) must be a positive value",
		    nm, pl->max_spare_servers));
	if (pl->min_spare_servers > pl->max_children ||
	    pl->max_spare_servers > pl->max_children)
		return (conf_errdir(ini, pl,
		    pl->min_spare_servers > pl->max_children ?
		    "pm.min_spare_servers" : "pm.max_spare_servers",
		    "[pool %s] "
		    "pm.min_spare_servers(%d) and "
		    "pm.max_spare_servers(%d) cannot be greater than "
		    "pm.max_children(%d)", nm, pl->min_spare_servers,
		    pl->max_spare_servers, pl->max_children));
	if (pl->max_spare_servers < pl->min_spare_servers)
		return (conf_errdir(ini, pl, "pm.max_spare_servers",
		    "[pool %s] "
		    "pm.max_spare_servers(%d) must not be less than "
		    "pm.min_spare_servers(%d)", nm,
		    pl->max_spare_servers, pl->min_spare_servers));
	if (pl->max_spawn_rate < 1)
		return (conf_errdir(ini, pl, "pm.max_spawn_rate",
		    "[pool %s] "
		    "pm.max_spawn_rate must be a positive value", nm));
	if (pl->start_servers <= 0) {
		pl->start_servers = pl->min_spare_servers +
		    (pl->max_spare_servers - pl->min_spare_servers) / 2;
		if (ini_note(ini, "[pool %s] pm.start_servers is not "
		    "set. It's been set to %d.", nm,
		    pl->start_servers) == -1)
			return (-1);
	} else if (pl->start_servers < pl->min_spare_servers ||
	    pl->start_servers > pl->max_spare_servers)
		return (conf_errdir(ini, pl, "pm.start_servers",
		    "[pool %s] "
		    "pm.start_servers(%d) must not be less than "
		    "pm.min_spare_servers(%d) and not greater than "
		    "pm.max_spare_servers(%d)", nm, pl->start_servers,
		    pl->min_spare_servers, pl->max_spare_servers));
	return (0);
}

static int
conf_check_slowlog(struct ini *ini, struct conf_pool *pl)
{
	const char	*nm = pl->name;
	char		 a[32], b[32];

	if (pl->request_slowlog_timeout_ms > 0 && pl->slowlog == NULL)
		return (conf_errdir(ini, pl, "request_slowlog_timeout",
		    "[pool %s] 'slowlog' must be specified for use with "
		    "'request_slowlog_timeout'", nm));
	if (pl->request_slowlog_timeout_ms > 0 &&
	    pl->request_terminate_timeout_ms > 0 &&
	    pl->request_slowlog_timeout_ms >
	    pl->request_terminate_timeout_ms) {
		conf_fmt_secs(pl->request_slowlog_timeout_ms, a, sizeof(a));
		conf_fmt_secs(pl->request_terminate_timeout_ms, b, sizeof(b));
		return (conf_errdir(ini, pl, "request_slowlog_timeout",
		    "[pool %s] 'request_slowlog_timeout' (%s) can't be greater "
		    "than 'request_terminate_timeout' (%s)", nm, a, b));
	}
	return (0);
}

static int
conf_check_uri(struct ini *ini, struct conf_pool *pl, const char *what,
    const char *directive, const char *path)
{
	const char	*s;

	if (path == NULL)
		return (0);
	if (*path != '/')
		return (conf_errdir(ini, pl, directive, "[pool %s] the %s "
		    "path '%s' must start with a '/'", pl->name, what, path));
	/* "/" is the status page of a pm.status_listen of its own */
	if (strlen(path) < 2 && (strcmp(what, "status") != 0 ||
	    pl->status_listen == NULL))
		return (conf_errdir(ini, pl, directive, "[pool %s] the %s "
		    "path '%s' is not long enough", pl->name, what, path));
	for (s = path; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("/_-.~", *s) != NULL)
			continue;
		return (conf_errdir(ini, pl, directive, "[pool %s] the %s "
		    "path '%s' must contain only the following characters "
		    "'[alphanum]/_-.~'", pl->name, what, path));
	}
	return (0);
}

/* listen.allowed_clients: a comma list of IPv4 and IPv6 addresses. */
static int
conf_check_clients(struct ini *ini, struct conf_pool *pl)
{
	struct in6_addr	 a6;
	const char	*s, *e;
	char		 ip[INET6_ADDRSTRLEN + 1];
	size_t		 len;

	for (s = pl->listen_allowed_clients; s != NULL && *s != '\0'; s = e) {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		for (e = s; *e != '\0' && *e != ','; e++)
			;
		for (len = e - s; len > 0 &&
		    isspace((unsigned char)s[len - 1]); len--)
			;
		if (len == 0)
			continue;
		snprintf(ip, sizeof(ip), "%.*s", (int)len, s);
		if (len >= sizeof(ip) || (inet_pton(AF_INET, ip, &a6) != 1 &&
		    inet_pton(AF_INET6, ip, &a6) != 1))
			return (conf_errdir(ini, pl, "listen.allowed_clients",
			    "[pool %s] Wrong IP address '%.*s' in listen.allowed_clients",
			    pl->name, (int)len, s));
	}
	return (0);
}

/* Seconds as PHP-FPM writes them ("5"), or "1500ms" when not whole. */
static void
conf_fmt_secs(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%lld", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

/* PHP-FPM's rule: a unix path has no ':' and is not all digits. */
static int
conf_is_unix(const char *a)
{
	const char	*s;

	if (*a == '/')
		return (1);
	if (strchr(a, ':') != NULL)
		return (0);
	for (s = a; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (1);
	return (0);
}

/* php-cgi, php-cgi8.2, php8.2-cgi...: the basename has "php" and "-cgi". */
int
conf_is_phpcgi(const char *prog)
{
	const char	*b;

	b = strrchr(prog, '/');
	b = b == NULL ? prog : b + 1;
	return (strncmp(b, "php", 3) == 0 && strstr(b, "-cgi") != NULL);
}

/* An executable regular file: 0, or -1. */
static int
conf_exec_file(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0 ? 0 : -1);
}

int
conf_default_phpcgi(const char *file, char *buf, size_t size)
{
	const char	*path, *d, *e;
	char		 ver[16], best[PATH_MAX] = "", dir[PATH_MAX];
	glob_t		 g;
	size_t		 i;
	int		 n = 0;

	/* /etc/php/8.2/fpm/...: the php-cgi of that PHP */
	if (file != NULL && sscanf(file, "/etc/php/%15[0-9.]/fpm/%n", ver,
	    &n) == 1 && n > 0 &&
	    (size_t)snprintf(buf, size, "/usr/bin/php-cgi%s", ver) < size &&
	    conf_exec_file(buf) == 0)
		return (0);
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (d = path; *d != '\0'; d = *e == ':' ? e + 1 : e) {
		e = d + strcspn(d, ":");
		if (e == d || (size_t)(e - d) >= sizeof(dir) - 16)
			continue;
		memcpy(dir, d, (size_t)(e - d));
		dir[e - d] = '\0';
		if ((size_t)snprintf(buf, size, "%s/php-cgi", dir) < size &&
		    conf_exec_file(buf) == 0)
			return (0);
		/* else the newest php-cgiX.Y there */
		strlcat(dir, "/php-cgi[0-9]*", sizeof(dir));
		if (glob(dir, 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc; i++)
				if (conf_exec_file(g.gl_pathv[i]) == 0 &&
				    (best[0] == '\0' ||
				    strverscmp(g.gl_pathv[i], best) > 0))
					strlcpy(best, g.gl_pathv[i],
					    sizeof(best));
			globfree(&g);
		}
		if (best[0] != '\0')
			break;
	}
	if (best[0] == '\0' || strlcpy(buf, best, size) >= size)
		return (-1);
	return (0);
}
