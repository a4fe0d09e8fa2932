/* SPDX-License-Identifier: ISC */
/*
 * PHP's ini dialect, as PHP-FPM reads fpm.conf: "[section]" lines, "name =
 * value" and "name[key] = value" entries, ';' comments (and '#' ones at a
 * line's start), "..." and '...' values, ${ENV} and ${ENV:-default}, $pool,
 * and "include = glob".  What the names mean is the caller's: it is handed
 * each section and entry in order (libcommon/conf).
 */
#ifndef LIBCOMMON_INI_H
#define LIBCOMMON_INI_H

#include <stdarg.h>
#include <stddef.h>

struct ini {
	/* the caller's, set before ini_parse() */
	const char	*prefix;	/* base of relative include patterns */
	void		*arg;
	/*
	 * "[name]".  The callback sets pool, the name $pool stands for until
	 * the next section (NULL: $pool is an error there).
	 */
	int		(*section)(struct ini *, const char *name);
	/* "name = value", or "name[key] = value" (key "" for "name[]"). */
	int		(*entry)(struct ini *, const char *name, const char *key,
			    const char *value);
	/*
	 * Non-zero when name's value keeps its quotes and backslashes for a
	 * split like sh(1)'s (ini_value()); NULL: none does.
	 */
	int		(*raw)(const char *name);
	char		*err;		/* where a message goes */
	size_t		 errsize;

	/* the parser's; the callbacks may read them */
	const char	*pool;
	const char	*file;		/* being read; one of files[] */
	int		 line;
	int		 depth;		/* files open, includes included */
	char		**files;	/* every file read, NULL-ended */
	size_t		 nfiles;
	char		**warnings;	/* ini_warn()'s, NULL-ended */
	size_t		 nwarnings;
	char		**notes;	/* ini_note()'s, NULL-ended */
	size_t		 nnotes;
};

/*
 * Read path and what it includes, calling back for each section and entry.
 * Returns 0, or -1 with the message in err ("[FILE:LINE] message", as
 * PHP-FPM writes it) and errno EINVAL for a syntax error (or whatever a
 * callback set), or the system's errno for an I/O error ("cannot open X:
 * ...").  Either way files[] and
 * warnings[] and notes[] are kept for the caller, who frees them with ini_free().
 */
int	ini_parse(struct ini *, const char *path);
void	ini_free(struct ini *);

/*
 * The value after '=': "..." with \" \\ \$ escapes and ${VAR} expanded,
 * '...' as it is, ${VAR} outside quotes, ';' outside quotes a comment,
 * blanks around dropped; quotes may stand anywhere and are removed (PHP
 * joins the pieces).  raw keeps quotes and backslashes (and a ';' behind
 * one) for a later split like sh(1)'s, unless the whole value is one "..."
 * string.  Returns a new string, or NULL with the error set.
 */
char	*ini_value(struct ini *, const char *s, int raw);

/* Each returns -1: "[FILE:LINE] message" in err, errno EINVAL. */
int	ini_err(struct ini *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ini_errat(struct ini *, const char *file, int line, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
void	ini_verrat(struct ini *, const char *file, int line, const char *fmt,
	    va_list) __attribute__((format(printf, 4, 0)));
/* "out of memory", errno ENOMEM. */
int	ini_oom(struct ini *);
/* Keep a warning for the caller: 0, or -1 (ini_oom()). */
int	ini_warn(struct ini *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same for a notice (PHP-FPM's NOTICE level). */
int	ini_note(struct ini *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Append a copy of s (NULL: none, just the end) to a NULL-ended list. */
int	ini_strv_push(char ***, size_t *, const char *s);
void	ini_strv_free(char **);

#endif
