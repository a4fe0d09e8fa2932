/* SPDX-License-Identifier: ISC */
/* Exit codes shared by every fpm program (skarnet's convention). */
#ifndef LIBCOMMON_EXITS_H
#define LIBCOMMON_EXITS_H

#define FPM_EXIT_OK		0	/* success */
#define FPM_EXIT_NO		1	/* a query's "no" */
#define FPM_EXIT_USAGE		100	/* usage error, invalid config: permanent */
#define FPM_EXIT_TEMP		111	/* a system call failed: temporary */
#define FPM_EXIT_EXEC		126	/* chain-load exec failed */
#define FPM_EXIT_NOTFOUND	127	/* chain-load program not found */

#endif
