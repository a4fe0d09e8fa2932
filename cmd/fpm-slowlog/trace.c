/* SPDX-License-Identifier: ISC */
/*
 * fpm-slowlog trace: stop a worker with PTRACE_SEIZE + PTRACE_INTERRUPT, take
 * its PHP frames (php-cgi 8.2) or native frames (libdw), detach, and append
 * one entry in PHP-FPM's slowlog format.
 */

#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/exits.h"
#include "libcommon/log.h"
#include "cmd/fpm-slowlog/slowlog.h"
#include "cmd/fpm-slowlog/zend82.h"

/*
 * The worker is stopped only between PTRACE_INTERRUPT and PTRACE_DETACH.
 * Everything slow (reading /proc/PID/maps, symbol tables, CFI, the PHP build
 * check) happens before, and symbol and line lookups after.  The alarm bounds
 * both phases; its handler detaches, so a stuck tracer never leaves the
 * worker stopped (the kernel would also detach when we exit).
 */
#define TRACE_PREPARE_SECS	5
#define TRACE_STOPPED_SECS	1
#define CAP_SYS_PTRACE_BIT	19

struct frame {
	uint64_t	 addr;		/* pc, or PHP's zend_execute_data */
	int		 activation;	/* pc is exact, not a return address */
	char		*func;		/* PHP frames only */
	char		*file;
	unsigned int	 line;
};

struct tracer {
	pid_t		 pid;
	int		 depth;
	Dwfl		*dwfl;
	int		 php;		/* executor_globals was found */
	int		 php_trusted;	/* and its layout is ours */
	uint64_t	 eg, sg;	/* executor_globals, sapi_globals */
	char		 buildid[64];
	struct frame	*frames;
	int		 nframes;
	int		 php_frames;	/* frames[] are PHP's */
	char		*script;	/* read from PHP */
	char		 note[256];	/* "+++ " line before the frames */
	int		 failed;	/* "+++ dump failed" */
};

struct procstat {
	char	 state;
	pid_t	 tracer;
	uid_t	 uid;
	char	 comm[64];
};

static volatile sig_atomic_t	stopped_pid, stopped_sig;

static void	on_alarm(int);
static int	proc_status(pid_t, struct procstat *);
static int	read_int_file(const char *, int *);
static int	have_cap_ptrace(void);
static void	attach_error(pid_t, int, const struct procstat *)
		    __attribute__((noreturn));
static int	find_php_cb(Dwfl_Module *, void **, const char *, Dwarf_Addr,
		    void *);
static void	find_buildid(struct tracer *, Dwfl_Module *);
static int	prewarm_cb(Dwfl_Module *, void **, const char *, Dwarf_Addr,
		    void *);
static void	prepare(struct tracer *, const struct procstat *);
static void	stop(struct tracer *);
static void	detach(struct tracer *);
static int	mem_read(pid_t, uint64_t, void *, size_t);
static int	mem_u64(pid_t, uint64_t, uint64_t *);
static char	*mem_strz(pid_t, uint64_t);
static char	*mem_zstr(pid_t, uint64_t);
static int	php_walk(struct tracer *);
static int	frame_cb(Dwfl_Frame *, void *);
static void	native_walk(struct tracer *);
static void	symbolize(struct tracer *, struct frame *, FILE *);
static void	emit(struct tracer *, const struct trace_opts *,
		    const char *);
#ifdef FPM_FUZZ
int		trace_fuzz_mem_read(uint64_t, void *, size_t);
int		trace_fuzz_elf(const char *, uint64_t *, uint64_t *);
int		trace_fuzz_php(uint64_t, uint64_t, int, const char *);
static int	fuzz_no_debuginfo(Dwfl_Module *, void **, const char *,
		    Dwarf_Addr, const char *, const char *, GElf_Word,
		    char **);
#endif

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static void
on_alarm(int sig)
{
	static const char	 msg[] =
	    "fpm-slowlog: fatal: timed out, worker detached\n";
	ssize_t			 n;

	(void)sig;
	if (stopped_pid > 0)
		(void)ptrace(PTRACE_DETACH, (pid_t)stopped_pid, NULL,
		    (void *)(intptr_t)stopped_sig);
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(FPM_EXIT_TEMP);
}

/* /proc/PID/status: 0, or -1 with errno (ENOENT: no such process). */
static int
proc_status(pid_t pid, struct procstat *ps)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 v;

	memset(ps, 0, sizeof(*ps));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Name:\t", 6) == 0) {
			strlcpy(ps->comm, line + 6, sizeof(ps->comm));
			ps->comm[strcspn(ps->comm, "\n")] = '\0';
		} else if (strncmp(line, "State:\t", 7) == 0)
			ps->state = line[7];
		else if (sscanf(line, "TracerPid:\t%ld", &v) == 1)
			ps->tracer = (pid_t)v;
		else if (sscanf(line, "Uid:\t%ld", &v) == 1)
			ps->uid = (uid_t)v;
	}
	fclose(fp);
	return (0);
}

static int
read_int_file(const char *path, int *out)
{
	FILE	*fp;
	int	 ok;

	if ((fp = fopen(path, "re")) == NULL)
		return (-1);
	ok = fscanf(fp, "%d", out) == 1;
	fclose(fp);
	return (ok ? 0 : -1);
}

static int
have_cap_ptrace(void)
{
	char			 line[256];
	unsigned long long	 caps = 0;
	FILE			*fp;

	if ((fp = fopen("/proc/self/status", "re")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "CapEff:\t%llx", &caps) == 1)
			break;
	fclose(fp);
	return ((caps >> CAP_SYS_PTRACE_BIT) & 1);
}

/* Say precisely why PTRACE_SEIZE failed, then exit. */
static void
attach_error(pid_t pid, int e, const struct procstat *ps)
{
	struct procstat	 now;
	int		 yama;

	if (e == ESRCH || proc_status(pid, &now) == -1)
		fatalx("unable to trace pid %d: process gone", (int)pid);
	if (e != EPERM)
		fatalx("unable to trace pid %d: %s", (int)pid, strerror(e));
	if (now.tracer != 0)
		fatalx("unable to trace pid %d: already traced by pid %d",
		    (int)pid, (int)now.tracer);
	if (now.state == 'Z' || now.state == 'X')
		fatalx("unable to trace pid %d: process gone (zombie)",
		    (int)pid);
	if (read_int_file("/proc/sys/kernel/yama/ptrace_scope", &yama) == 0) {
		if (yama >= 3)
			fatalx("unable to trace pid %d: Operation not "
			    "permitted (kernel.yama.ptrace_scope is 3: "
			    "ptrace is disabled until reboot)", (int)pid);
		if (yama == 2 && !have_cap_ptrace())
			fatalx("unable to trace pid %d: Operation not "
			    "permitted (kernel.yama.ptrace_scope is 2: "
			    "only CAP_SYS_PTRACE may attach)", (int)pid);
		if (yama == 1 && !have_cap_ptrace())
			fatalx("unable to trace pid %d: Operation not "
			    "permitted (kernel.yama.ptrace_scope is 1: only "
			    "ancestors or CAP_SYS_PTRACE may attach)",
			    (int)pid);
	}
	if (ps->uid != getuid() && !have_cap_ptrace())
		fatalx("unable to trace pid %d: Operation not permitted "
		    "(it runs as uid %u, we as uid %u)", (int)pid,
		    (unsigned int)ps->uid, (unsigned int)getuid());
	fatalx("unable to trace pid %d: Operation not permitted (not "
	    "dumpable, or a security module denies ptrace)", (int)pid);
}

/*
 * php-cgi exports executor_globals and sapi_globals in its dynamic symbol
 * table (non-ZTS builds; ZTS keeps them in TLS, and we then show native
 * frames only).  Stops at the module that has both.
 */
static int
find_php_cb(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start,
    void *arg)
{
	struct tracer	*t = arg;
	GElf_Sym	 sym;
	GElf_Addr	 addr;
	const char	*s;
	uint64_t	 eg = 0, sg = 0;
	int		 i, n;

	(void)ud;
	(void)name;
	(void)start;
	if ((n = dwfl_module_getsymtab(mod)) <= 0)
		return (DWARF_CB_OK);
	for (i = 1; i < n && (eg == 0 || sg == 0); i++) {
		s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL,
		    NULL);
		if (s == NULL || sym.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		if (strcmp(s, "executor_globals") == 0)
			eg = addr;
		else if (strcmp(s, "sapi_globals") == 0)
			sg = addr;
	}
	if (eg == 0 || sg == 0)
		return (DWARF_CB_OK);
	t->php = 1;
	t->eg = eg;
	t->sg = sg;
	find_buildid(t, mod);
	return (DWARF_CB_ABORT);
}

/*
 * The layout is trusted only when the binary carries our
 * ZEND_MODULE_BUILD_ID ("API20220829,NTS"): extensions are checked against
 * the same string, and the structures we read are part of that ABI.
 */
static void
find_buildid(struct tracer *t, Dwfl_Module *mod)
{
	Elf		*elf;
	Elf_Scn		*scn = NULL;
	Elf_Data	*d;
	GElf_Shdr	 sh;
	GElf_Addr	 bias;
	const char	*p, *end, *sname;
	size_t		 shstrndx, len;

	strlcpy(t->buildid, "unknown", sizeof(t->buildid));
	if ((elf = dwfl_module_getelf(mod, &bias)) == NULL ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL ||
		    (sname = elf_strptr(elf, shstrndx, sh.sh_name)) == NULL ||
		    strcmp(sname, ".rodata") != 0 ||
		    (d = elf_getdata(scn, NULL)) == NULL || d->d_buf == NULL)
			continue;
		p = d->d_buf;
		end = p + d->d_size;
		while ((p = memmem(p, end - p, "API", 3)) != NULL) {
			len = strnlen(p, end - p);
			if (len >= 15 && len < sizeof(t->buildid) &&
			    p + len < end &&
			    strspn(p + 3, "0123456789") == 8 &&
			    (strncmp(p + 11, ",NTS", 4) == 0 ||
			    strncmp(p + 11, ",TS", 3) == 0)) {
				memcpy(t->buildid, p, len);
				t->buildid[len] = '\0';
				break;
			}
			p += 3;
		}
	}
#if defined(__x86_64__)
	t->php_trusted = strcmp(t->buildid, ZEND82_BUILD_ID) == 0;
#endif
}

/* Load symbols and unwind tables now, while the worker still runs. */
static int
prewarm_cb(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start,
    void *arg)
{
	Dwarf_Addr	 bias;

	(void)ud;
	(void)name;
	(void)start;
	(void)arg;
	(void)dwfl_module_getsymtab(mod);
	(void)dwfl_module_eh_cfi(mod, &bias);
	(void)dwfl_module_dwarf_cfi(mod, &bias);
	return (DWARF_CB_OK);
}

static void
prepare(struct tracer *t, const struct procstat *ps)
{
	int	 e;

	if ((t->dwfl = dwfl_begin(&callbacks)) == NULL)
		fatalx("dwfl_begin: %s", dwfl_errmsg(-1));
	dwfl_report_begin(t->dwfl);
	if ((e = dwfl_linux_proc_report(t->dwfl, t->pid)) != 0) {
		if (e == ENOENT || e == ESRCH)
			fatalx("unable to trace pid %d: process gone",
			    (int)t->pid);
		/* maps needs the same credentials as ptrace, less Yama */
		if (e == EACCES || e == EPERM)
			attach_error(t->pid, EPERM, ps);
		if (e > 0)
			fatalx("unable to read /proc/%d/maps: %s",
			    (int)t->pid, strerror(e));
		fatalx("unable to read /proc/%d/maps: %s", (int)t->pid,
		    dwfl_errmsg(-1));
	}
	if (dwfl_report_end(t->dwfl, NULL, NULL) != 0)
		fatalx("dwfl_report_end: %s", dwfl_errmsg(-1));
	(void)dwfl_getmodules(t->dwfl, prewarm_cb, t, 0);
	(void)dwfl_getmodules(t->dwfl, find_php_cb, t, 0);
	if ((e = dwfl_linux_proc_attach(t->dwfl, t->pid, true)) != 0)
		fatalx("unable to prepare the unwinder for pid %d: %s",
		    (int)t->pid, e > 0 ? strerror(e) : dwfl_errmsg(-1));
	if (t->php)
		log_debug("pid %d: php %s, layout %s", (int)t->pid,
		    t->buildid, t->php_trusted ? "trusted" : "unknown");
}

/*
 * PTRACE_SEIZE does not stop the worker, and PTRACE_INTERRUPT stops it
 * without a signal: unlike PHP-FPM's PTRACE_ATTACH (SIGSTOP) + SIGCONT, no
 * job-control signal reaches the worker, and its blocking system calls are
 * restarted, not failed with EINTR.
 */
static void
stop(struct tracer *t)
{
	struct procstat	 ps;
	int		 st, e;

	if (proc_status(t->pid, &ps) == -1)
		fatalx("unable to trace pid %d: process gone", (int)t->pid);
	if (ptrace(PTRACE_SEIZE, t->pid, NULL, NULL) == -1)
		attach_error(t->pid, errno, &ps);
	stopped_pid = t->pid;
	alarm(TRACE_STOPPED_SECS);
	if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) == -1) {
		e = errno;
		(void)ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
		fatalx("unable to stop pid %d: %s", (int)t->pid,
		    strerror(e));
	}
	for (;;) {
		if (waitpid(t->pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			fatal("waitpid %d", (int)t->pid);
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			fatalx("unable to trace pid %d: process gone "
			    "while stopping it", (int)t->pid);
		if (!WIFSTOPPED(st))
			continue;
		/*
		 * A signal-delivery-stop may come first: keep the signal
		 * and hand it back at detach, or the worker would lose it.
		 */
		if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP)
			stopped_sig = WSTOPSIG(st);
		break;
	}
}

static void
detach(struct tracer *t)
{
	if (ptrace(PTRACE_DETACH, t->pid, NULL,
	    (void *)(intptr_t)stopped_sig) == -1 && errno != ESRCH)
		log_warn("ptrace detach %d", (int)t->pid);
	stopped_pid = 0;
	alarm(TRACE_PREPARE_SECS);
}

/* Read len bytes of the worker's memory: 0, or -1 with errno. */
static int
mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
#ifdef FPM_FUZZ
	/* tests/fuzz/slowlog_trace_fuzz.c: a synthetic memory image */
	(void)pid;
	return (trace_fuzz_mem_read(addr, buf, len));
#else
	struct iovec	 local, remote;
	ssize_t		 n;

	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = len;
	if ((n = process_vm_readv(pid, &local, 1, &remote, 1, 0)) == -1)
		return (-1);
	if ((size_t)n != len) {
		errno = EFAULT;
		return (-1);
	}
	return (0);
#endif
}

static int
mem_u64(pid_t pid, uint64_t addr, uint64_t *out)
{
	return (mem_read(pid, addr, out, sizeof(*out)));
}

/* A NUL-terminated string of at most SLOWLOG_FUNC_MAX - 1 bytes. */
static char *
mem_strz(pid_t pid, uint64_t addr)
{
	char	 buf[SLOWLOG_FUNC_MAX];
	size_t	 got = 0, chunk;

	while (got < sizeof(buf) - 1) {
		/* stop at page ends: the next page may be unmapped */
		chunk = 4096 - ((addr + got) & 4095);
		if (chunk > sizeof(buf) - 1 - got)
			chunk = sizeof(buf) - 1 - got;
		if (mem_read(pid, addr + got, buf + got, chunk) == -1)
			return (NULL);
		if (memchr(buf + got, '\0', chunk) != NULL)
			return (strdup(buf));
		got += chunk;
	}
	buf[got] = '\0';
	return (strdup(buf));
}

/* A zend_string's value. */
static char *
mem_zstr(pid_t pid, uint64_t zs)
{
	char		 buf[SLOWLOG_FUNC_MAX];
	uint64_t	 len;

	if (mem_u64(pid, zs + ZEND82_STR_LEN, &len) == -1)
		return (NULL);
	if (len > sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	if (mem_read(pid, zs + ZEND82_STR_VAL, buf, len) == -1)
		return (NULL);
	buf[len] = '\0';
	return (strdup(buf));
}

#define VALID_PTR(p)	((p) != 0 && ((p) & 7) == 0)

/*
 * Internal frames (call_user_func(), array_map()...) passed on the way
 * from a frame to the user code that called it.  PHP nests a few; the
 * worker's memory may hold a cycle of them, which PHP-FPM's walker
 * follows forever.  Past this many, the frame's file is "unknown".
 */
#define TRACE_PHP_INTERNAL_MAX	64

/*
 * fpm_php_trace_dump(), frame for frame: the function of each
 * zend_execute_data, and the file:line of the nearest calling user-code
 * frame; the top-level script frame ends the walk.  The worker's memory
 * is not trusted: at most t->depth frames, and TRACE_PHP_INTERNAL_MAX
 * internal ones after each, whatever its pointers say.  Returns 0, or -1
 * when the worker's memory could not be read (errno set).
 */
static int
php_walk(struct tracer *t)
{
	struct frame	*f;
	uint64_t	 ed, prev, fn, name, v, opline;
	uint32_t	 info;
	uint8_t		 type;
	int		 n;

	if (mem_u64(t->pid, t->sg + ZEND82_SG_PATH_TRANSLATED, &v) == 0 &&
	    v != 0)
		t->script = mem_strz(t->pid, v);
	if (mem_u64(t->pid, t->eg + ZEND82_EG_CURRENT_EXECUTE_DATA, &ed) == -1)
		return (-1);
	while (ed != 0 && t->nframes < t->depth) {
		f = &t->frames[t->nframes];
		if (mem_u64(t->pid, ed + ZEND82_ED_FUNC, &fn) == -1)
			return (-1);
		if (!VALID_PTR(fn))
			f->func = strdup("???");
		else {
			if (mem_u64(t->pid, fn + ZEND82_FN_NAME, &name) == -1)
				return (-1);
			if (name != 0)
				f->func = mem_zstr(t->pid, name);
			else {
				if (mem_read(t->pid, ed + ZEND82_ED_TYPE_INFO,
				    &info, sizeof(info)) == -1)
					return (-1);
				info &= ZEND82_CALL_KIND_MASK;
				if (info == ZEND82_CALL_TOP_CODE)
					break;
				f->func = strdup(info ==
				    ZEND82_CALL_NESTED_CODE ?
				    "[INCLUDE_OR_EVAL]" : "???");
			}
		}
		if (f->func == NULL)
			return (-1);
		f->addr = ed;
		t->nframes++;
		if (mem_u64(t->pid, ed + ZEND82_ED_PREV, &prev) == -1)
			return (-1);
		ed = prev;
		for (n = 0; prev != 0 && n < TRACE_PHP_INTERNAL_MAX;
		    prev = v, n++) {
			if (mem_u64(t->pid, prev + ZEND82_ED_FUNC, &fn) == -1)
				return (-1);
			if (!VALID_PTR(fn))
				break;
			if (mem_read(t->pid, fn + ZEND82_FN_TYPE, &type,
			    sizeof(type)) == -1)
				return (-1);
			if (type != ZEND82_INTERNAL_FUNCTION) {
				if (mem_u64(t->pid, fn + ZEND82_FN_FILENAME,
				    &v) == -1)
					return (-1);
				if (v != 0)
					f->file = mem_zstr(t->pid, v);
				if (mem_u64(t->pid, prev + ZEND82_ED_OPLINE,
				    &opline) == -1)
					return (-1);
				if (VALID_PTR(opline) && mem_read(t->pid,
				    opline + ZEND82_OP_LINENO, &f->line,
				    sizeof(f->line)) == -1)
					return (-1);
				break;
			}
			if (mem_u64(t->pid, prev + ZEND82_ED_PREV, &v) == -1)
				return (-1);
		}
	}
	return (0);
}

static int
frame_cb(Dwfl_Frame *state, void *arg)
{
	struct tracer	*t = arg;
	Dwarf_Addr	 pc;
	bool		 act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return (DWARF_CB_ABORT);
	t->frames[t->nframes].addr = pc;
	t->frames[t->nframes].activation = act;
	if (++t->nframes >= t->depth)
		return (DWARF_CB_ABORT);
	return (DWARF_CB_OK);
}

static void
native_walk(struct tracer *t)
{
	/* an error after some frames is the usual end of a stack */
	if (dwfl_getthread_frames(t->dwfl, t->pid, frame_cb, t) != 0 &&
	    t->nframes == 0) {
		t->failed = 1;
		log_warnx("pid %d: unable to unwind: %s", (int)t->pid,
		    dwfl_errmsg(-1));
	}
}

/* "name() file:line", or "name() module+0xoffset" without debug info. */
static void
symbolize(struct tracer *t, struct frame *f, FILE *out)
{
	Dwfl_Module	*mod;
	Dwfl_Line	*line;
	Dwarf_Die	*cu;
	Dwarf_Attribute	 attr;
	GElf_Off	 off;
	GElf_Sym	 sym;
	Dwarf_Addr	 pc, rel, bias;
	const char	*name = NULL, *src = NULL, *modname = NULL;
	const char	*dir = NULL;
	int		 lineno = 0, namelen;

	/* a return address points after the call: look up the call */
	pc = f->activation ? f->addr : f->addr - 1;
	if ((mod = dwfl_addrmodule(t->dwfl, pc)) != NULL) {
		name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL,
		    NULL);
		if ((line = dwfl_module_getsrc(mod, pc)) != NULL)
			src = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL,
			    NULL);
		/* DWARF 5 names files relative to the unit's directory */
		if (src != NULL && src[0] != '/' &&
		    (cu = dwfl_module_addrdie(mod, pc, &bias)) != NULL &&
		    dwarf_attr(cu, DW_AT_comp_dir, &attr) != NULL)
			dir = dwarf_formstring(&attr);
		if (dir != NULL && dir[0] != '/')
			dir = NULL;	/* "." in Debian's libc */
		modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
		    NULL, NULL);
	}
	if (name == NULL)
		name = "???";
	/* "clock_nanosleep@GLIBC_2.2.5": the version is noise here */
	namelen = (int)strcspn(name, "@");
	fprintf(out, "[0x%016llx] %.*s() ", (unsigned long long)f->addr,
	    namelen, name);
	rel = pc;
	if (src != NULL && lineno > 0 && dir != NULL)
		fprintf(out, "%s/%s:%d\n", dir, src, lineno);
	else if (src != NULL && lineno > 0)
		fprintf(out, "%s:%d\n", src, lineno);
	else if (mod != NULL && dwfl_module_relocate_address(mod, &rel) >= 0)
		fprintf(out, "%s+0x%llx\n", modname != NULL ? modname : "???",
		    (unsigned long long)rel);
	else
		fprintf(out, "unknown\n");
}

/* Build the entry in memory, then append it with one write(2). */
static void
emit(struct tracer *t, const struct trace_opts *o, const char *pool)
{
	struct frame	*f;
	char		*buf = NULL, when[64], vis[4096], vis2[4096];
	size_t		 size = 0, off;
	ssize_t		 n;
	FILE		*mem;
	int		 fd, i;

	if ((mem = open_memstream(&buf, &size)) == NULL)
		fatal("open_memstream");
	log_fmt_time(when, sizeof(when), time(NULL));
	fprintf(mem, "\n[%s]  [pool %s] pid %d\n", when, pool, (int)t->pid);
	/*
	 * The script (a client's SCRIPT_FILENAME) and PHP's names come from
	 * outside: escaped, they cannot end an entry or fake another.
	 */
	fprintf(mem, "script_filename = %s\n", log_vis(vis, sizeof(vis),
	    o->script != NULL ? o->script : t->script != NULL ? t->script :
	    "unknown"));
	if (t->note[0] != '\0')
		fprintf(mem, "+++ %s\n", t->note);
	for (i = 0; i < t->nframes; i++) {
		f = &t->frames[i];
		if (t->php_frames) {
			/* a frame has a name: report reads no nameless one */
			log_vis(vis, sizeof(vis), *f->func != '\0' ? f->func :
			    "???");
			fprintf(mem, "[0x%016llx] %s() %s:%u\n",
			    (unsigned long long)f->addr, vis,
			    log_vis(vis2, sizeof(vis2), f->file != NULL ?
			    f->file : "unknown"), f->line);
		} else
			symbolize(t, f, mem);
	}
	if (t->failed)
		fprintf(mem, "+++ dump failed\n");
	if (fclose(mem) != 0)
		fatal("open_memstream");

	if (o->output == NULL || strcmp(o->output, "-") == 0)
		fd = STDOUT_FILENO;
	else if ((fd = open(o->output, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644)) == -1)
		fatal("unable to open %s", o->output);
	for (off = 0; off < size; off += (size_t)n) {
		if ((n = write(fd, buf + off, size - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			fatal("unable to write %s", o->output != NULL ?
			    o->output : "stdout");
		}
	}
	if (fd != STDOUT_FILENO && close(fd) == -1)
		fatal("unable to write %s", o->output);
	free(buf);
}

int
trace_run(const struct trace_opts *o)
{
	struct tracer		 t;
	struct procstat		 ps;
	struct sigaction	 sa;
	struct timespec		 t0, t1;
	int			 i, rc, e;

	memset(&t, 0, sizeof(t));
	t.pid = o->pid;
	t.depth = o->depth;
	if (t.pid == getpid())
		fatalx_usage("--pid: %d is fpm-slowlog itself", (int)t.pid);
	if (proc_status(t.pid, &ps) == -1)
		fatalx("unable to trace pid %d: %s", (int)t.pid,
		    errno == ENOENT ? "process gone" : strerror(errno));
	if (ps.state == 'Z' || ps.state == 'X')
		fatalx("unable to trace pid %d: process gone (zombie)",
		    (int)t.pid);
	if (ps.tracer != 0)
		fatalx("unable to trace pid %d: already traced by pid %d",
		    (int)t.pid, (int)ps.tracer);
	if ((t.frames = calloc(t.depth, sizeof(*t.frames))) == NULL)
		fatal("calloc");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		fatal("sigaction");
	/* never ask a debuginfod server: the worker must not wait on it */
	unsetenv("DEBUGINFOD_URLS");
	alarm(TRACE_PREPARE_SECS);

	prepare(&t, &ps);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop(&t);
	rc = -1;
	e = 0;
	if (t.php && t.php_trusted) {
		if ((rc = php_walk(&t)) == -1)
			e = errno;
		t.php_frames = rc == 0 && t.nframes > 0;
	}
	if (!t.php_frames) {
		for (i = 0; i < t.nframes; i++) {
			free(t.frames[i].func);
			free(t.frames[i].file);
		}
		memset(t.frames, 0, t.depth * sizeof(*t.frames));
		t.nframes = 0;
		native_walk(&t);
	}
	detach(&t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("pid %d: stopped for %ld us", (int)t.pid,
	    (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000));

	if (t.php && !t.php_trusted)
		snprintf(t.note, sizeof(t.note), "php frames unavailable: "
		    "unknown php build %s (known: %s), native frames follow",
		    t.buildid, ZEND82_BUILD_ID);
	else if (t.php && rc == -1)
		snprintf(t.note, sizeof(t.note), "php frames unavailable: "
		    "unable to read memory: %s, native frames follow",
		    strerror(e));
	else if (t.php && !t.php_frames)
		snprintf(t.note, sizeof(t.note), "php frames unavailable: "
		    "no php code running, native frames follow");
	if (t.note[0] != '\0')
		log_info("pid %d: %s", (int)t.pid, t.note);

	emit(&t, o, o->pool != NULL ? o->pool : ps.comm);
	alarm(0);
	for (i = 0; i < t.nframes; i++) {
		free(t.frames[i].func);
		free(t.frames[i].file);
	}
	free(t.frames);
	free(t.script);
	dwfl_end(t.dwfl);
	return (FPM_EXIT_OK);
}

#ifdef FPM_FUZZ
/*
 * Entry points for tests/fuzz/slowlog_trace_fuzz.c, which supplies
 * trace_fuzz_mem_read().  trace_fuzz_elf(): what prepare() learns from a
 * module, here the ELF file at path; 1 with executor_globals and
 * sapi_globals when the layout would be trusted, else 0.
 * trace_fuzz_php(): trace_run() from the walk to the entry, appended to
 * output, with the PHP walk only (no process, no native frames); the
 * walk's result.
 */
static int
fuzz_no_debuginfo(Dwfl_Module *mod, void **ud, const char *name,
    Dwarf_Addr base, const char *file, const char *debuglink,
    GElf_Word crc, char **debuginfo)
{
	(void)mod;
	(void)ud;
	(void)name;
	(void)base;
	(void)file;
	(void)debuglink;
	(void)crc;
	(void)debuginfo;
	return (-1);
}

int
trace_fuzz_elf(const char *path, uint64_t *eg, uint64_t *sg)
{
	static const Dwfl_Callbacks offline = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = fuzz_no_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	struct tracer	 t;

	memset(&t, 0, sizeof(t));
	if ((t.dwfl = dwfl_begin(&offline)) == NULL)
		fatalx("dwfl_begin: %s", dwfl_errmsg(-1));
	dwfl_report_begin(t.dwfl);
	/* fd -1: libdwfl opens path, and closes it when it is no ELF */
	(void)dwfl_report_elf(t.dwfl, "php-cgi", path, -1, 0, false);
	if (dwfl_report_end(t.dwfl, NULL, NULL) == 0) {
		(void)dwfl_getmodules(t.dwfl, prewarm_cb, &t, 0);
		(void)dwfl_getmodules(t.dwfl, find_php_cb, &t, 0);
	}
	dwfl_end(t.dwfl);
	*eg = t.eg;
	*sg = t.sg;
	return (t.php && t.php_trusted);
}

int
trace_fuzz_php(uint64_t eg, uint64_t sg, int depth, const char *output)
{
	struct trace_opts	 o;
	struct tracer		 t;
	int			 i, rc, e = 0;

	memset(&o, 0, sizeof(o));
	o.output = output;
	memset(&t, 0, sizeof(t));
	t.pid = 1;
	t.depth = depth;
	t.php = t.php_trusted = 1;
	t.eg = eg;
	t.sg = sg;
	if ((t.frames = calloc(t.depth, sizeof(*t.frames))) == NULL)
		fatal("calloc");
	if ((rc = php_walk(&t)) == -1)
		e = errno;
	t.php_frames = rc == 0 && t.nframes > 0;
	if (!t.php_frames) {
		for (i = 0; i < t.nframes; i++) {
			free(t.frames[i].func);
			free(t.frames[i].file);
		}
		memset(t.frames, 0, t.depth * sizeof(*t.frames));
		t.nframes = 0;
	}
	if (rc == -1)
		snprintf(t.note, sizeof(t.note), "php frames unavailable: "
		    "unable to read memory: %s, native frames follow",
		    strerror(e));
	else if (!t.php_frames)
		snprintf(t.note, sizeof(t.note), "php frames unavailable: "
		    "no php code running, native frames follow");
	emit(&t, &o, "fuzz");
	for (i = 0; i < t.nframes; i++) {
		free(t.frames[i].func);
		free(t.frames[i].file);
	}
	free(t.frames);
	free(t.script);
	return (rc);
}
#endif
