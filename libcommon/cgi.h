/* SPDX-License-Identifier: ISC */
/*
 * The CGI paths of a request as PHP-FPM 8.2's init_request_info sees them:
 * Apache's proxy: prefixes, the cgi.fix_pathinfo split, limit_extensions.
 */
#ifndef LIBCOMMON_CGI_H
#define LIBCOMMON_CGI_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct conf_pool;

/* What a probe says of a path. */
enum cgi_ftype {
	CGI_FT_NONE,		/* missing, or not reachable */
	CGI_FT_REG,		/* a regular file */
	CGI_FT_OTHER		/* a directory, a device... */
};

/* How the worker reads its paths (cgi_flags()). */
#define CGI_PHP		0x01	/* php-cgi: PATH_INFO split as PHP-FPM does */
#define CGI_FIX_PATHINFO 0x02	/* cgi.fix_pathinfo (PHP's default: on) */
#define CGI_DISCARD_PATH 0x04	/* cgi.discard_path */

/*
 * The functions below look paths up through probe(path, arg), which
 * returns a CGI_FT_* as the worker would see it (tests pass their own).
 * cgi_probe_stat is the one for a real pool: stat(2) of path below root,
 * the pool's chroot (NULL or "": /).
 */
enum cgi_ftype	cgi_probe_stat(const char *path, void *root);

/*
 * The CGI_* flags of pool, php its worker being php-cgi: cgi.fix_pathinfo
 * and cgi.discard_path from its php_*[] directives, an admin one winning
 * as in the worker's argv (conf_php_next()); PHP's defaults otherwise.
 */
int	cgi_flags(const struct conf_pool *pool, int php);

/*
 * Apache's "proxy:fcgi://HOST[:PORT]/PATH?QUERY" or "proxy:balancer://..."
 * SCRIPT_FILENAME s[0..len): 1 when a prefix and host were found (PATH
 * is s[*off..*off + *newlen), without the query), 0 when there is no
 * prefix (s is left whole), 2 for a prefix with no path after the host
 * (PHP-FPM then only cuts the query).
 */
int	cgi_proxy_strip(const char *s, size_t len, size_t *off,
	    size_t *newlen);

/*
 * PHP's cgi.fix_pathinfo walk over path[0..len): the length of the
 * script, len itself when path exists and does not end in '/', else that
 * of the longest prefix ending before a '/' that is a regular file; -1
 * when there is none.
 */
ssize_t	cgi_script_len(const char *path, size_t len,
	    enum cgi_ftype (*probe)(const char *, void *), void *arg);

/* 0 if path[0..len) has a ".." component (PHP refuses it), else 1. */
int	cgi_path_valid(const char *path, size_t len);

/*
 * security.limit_extensions: 1 if path[0..len) is longer than one of the
 * NULL-terminated exts and ends with it, or exts is empty; else 0.
 */
int	cgi_ext_allowed(const char *path, size_t len, char *const *exts);

/*
 * Rewrite the complete PARAMS block *buf (*len bytes of *size) for the
 * worker: SCRIPT_FILENAME loses Apache's proxy: prefix and query; with
 * CGI_PHP and CGI_FIX_PATHINFO, the PATH_INFO that Apache left in it is
 * split off and SCRIPT_NAME, PATH_TRANSLATED and the ORIG_ copies follow,
 * as PHP-FPM sets them.  Returns 1 when *buf was replaced (the old one
 * freed), 0 when nothing changed or the block is malformed, -1 with errno
 * ENOMEM.
 */
int	cgi_params_normalize(uint8_t **buf, size_t *len, size_t *size,
	    int flags, enum cgi_ftype (*probe)(const char *, void *),
	    void *arg);

/*
 * The script that php-cgi runs for the PARAMS params[0..len), read as its
 * init_request_info reads them under flags: 1 with *script (pointing into
 * params) and *scriptlen set, 0 when it finds none (it answers 404), -1
 * with errno EPROTO if params is malformed.
 */
int	cgi_script(const uint8_t *params, size_t len, int flags,
	    enum cgi_ftype (*probe)(const char *, void *), void *arg,
	    const char **script, size_t *scriptlen);

#endif
