/* twshim — the real libc functions behind the interposers.
 *
 * Each pointer is resolved with dlsym(RTLD_NEXT) in the constructor, or
 * lazily by the first call that needs it (another library's constructor may
 * call close() before ours runs).  If dlsym gives nothing usable — or gives
 * back our own hook, which would recurse — the system call is made
 * directly, so the program's call always happens. */
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "log.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Any pointer type through one atomic slot. */
typedef void (*any_fn)(void);

struct real_slot {
	const char *name;
	_Atomic(any_fn) fn;
	bool lazy; /* resolved at its first call, not in the constructor */
	atomic_bool resolved;
};

#define SLOT(n) { .name = #n } /* the rest starts zeroed: unresolved */
/* Functions that are not async-signal-safe, nor called between vfork() and
 * exec, never run where dlsym() could deadlock (a signal handler): those are
 * looked up at their first call, which saves most processes (which never
 * call them) a dlsym() each at start-up.  The others are looked up at load. */
#define LAZY_SLOT(n) { .name = #n, .lazy = true }
static struct real_slot slots[] = {
	SLOT(connect), SLOT(bind), SLOT(close), LAZY_SLOT(fclose), SLOT(close_range),
	SLOT(closefrom), SLOT(dup), SLOT(dup2), SLOT(dup3), SLOT(fcntl),
	SLOT(setsockopt), SLOT(getsockname), SLOT(listen), LAZY_SLOT(posix_spawn),
	LAZY_SLOT(posix_spawnp), SLOT(sigaction), SLOT(signal), SLOT(sendto), SLOT(sendmsg),
	SLOT(execve), SLOT(execv), SLOT(execvp), SLOT(execvpe), SLOT(fexecve),
	SLOT(socket),
};
enum { R_CONNECT, R_BIND, R_CLOSE, R_FCLOSE, R_CLOSE_RANGE, R_CLOSEFROM, R_DUP, R_DUP2,
       R_DUP3, R_FCNTL, R_SETSOCKOPT, R_GETSOCKNAME, R_LISTEN, R_POSIX_SPAWN, R_POSIX_SPAWNP,
       R_SIGACTION, R_SIGNAL, R_SENDTO, R_SENDMSG, R_EXECVE, R_EXECV, R_EXECVP, R_EXECVPE,
       R_FEXECVE, R_SOCKET, R__COUNT };
_Static_assert(sizeof(slots) / sizeof(slots[0]) == R__COUNT, "slot table matches enum");

/* dlsym(RTLD_NEXT) searches the objects loaded after ours, so it never
 * hands back our own hook; if it finds nothing the caller falls back to the
 * system call. */
__attribute__((noinline, cold)) static any_fn resolve_slow(unsigned i)
{
	struct real_slot *s = &slots[i];
	if (atomic_load_explicit(&s->resolved, memory_order_acquire))
		return atomic_load_explicit(&s->fn, memory_order_relaxed);

	int saved = errno;
	void *p = dlsym(RTLD_NEXT, s->name);
	any_fn fn;
	memcpy(&fn, &p, sizeof(fn));
	atomic_store_explicit(&s->fn, fn, memory_order_relaxed);
	atomic_store_explicit(&s->resolved, true, memory_order_release);
	errno = saved;
	return fn;
}

/* Hot path: one load once resolved. */
static inline any_fn resolve(unsigned i)
{
	any_fn fn = atomic_load_explicit(&slots[i].fn, memory_order_relaxed);
	return fn ? fn : resolve_slow(i);
}

void tw_real_resolve(void)
{
	for (unsigned i = 0; i < R__COUNT; i++)
		if (!slots[i].lazy)
			resolve_slow(i);
}

#define REAL(i, type) ((type)resolve(i))

int libc_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	typedef int (*fn_t)(int, const struct sockaddr *, socklen_t);
	fn_t f = REAL(R_CONNECT, fn_t);
	return f ? f(fd, addr, len) : (int)syscall(SYS_connect, fd, addr, len);
}

int libc_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	typedef int (*fn_t)(int, const struct sockaddr *, socklen_t);
	fn_t f = REAL(R_BIND, fn_t);
	return f ? f(fd, addr, len) : (int)syscall(SYS_bind, fd, addr, len);
}

int libc_socket(int domain, int type, int protocol)
{
	typedef int (*fn_t)(int, int, int);
	fn_t f = REAL(R_SOCKET, fn_t);
	return f ? f(domain, type, protocol) : (int)syscall(SYS_socket, domain, type, protocol);
}

int libc_close(int fd)
{
	typedef int (*fn_t)(int);
	fn_t f = REAL(R_CLOSE, fn_t);
	return f ? f(fd) : (int)syscall(SYS_close, fd);
}

int libc_fclose(FILE *stream)
{
	typedef int (*fn_t)(FILE *);
	fn_t f = REAL(R_FCLOSE, fn_t);
	if (!f) {
		/* Unreachable in practice: libc always has fclose. */
		errno = ENOSYS;
		return EOF;
	}
	return f(stream);
}

int libc_close_range(unsigned first, unsigned last, int flags)
{
	typedef int (*fn_t)(unsigned, unsigned, int);
	fn_t f = REAL(R_CLOSE_RANGE, fn_t);
	return f ? f(first, last, flags) : (int)syscall(SYS_close_range, first, last, flags);
}

void libc_closefrom(int lowfd)
{
	typedef void (*fn_t)(int);
	fn_t f = REAL(R_CLOSEFROM, fn_t);
	if (f) {
		f(lowfd);
		return;
	}
	if (lowfd >= 0)
		syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0);
}

int libc_dup(int fd)
{
	typedef int (*fn_t)(int);
	fn_t f = REAL(R_DUP, fn_t);
	return f ? f(fd) : (int)syscall(SYS_dup, fd);
}

int libc_dup2(int oldfd, int newfd)
{
	typedef int (*fn_t)(int, int);
	fn_t f = REAL(R_DUP2, fn_t);
	return f ? f(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
}

int libc_dup3(int oldfd, int newfd, int flags)
{
	typedef int (*fn_t)(int, int, int);
	fn_t f = REAL(R_DUP3, fn_t);
	return f ? f(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

int libc_fcntl_int(int fd, int cmd, int arg)
{
	typedef int (*fn_t)(int, int, ...);
	fn_t f = REAL(R_FCNTL, fn_t);
	return f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int libc_fcntl_ptr(int fd, int cmd, void *arg)
{
	typedef int (*fn_t)(int, int, ...);
	fn_t f = REAL(R_FCNTL, fn_t);
	return f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int libc_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	typedef int (*fn_t)(int, int, int, const void *, socklen_t);
	fn_t f = REAL(R_SETSOCKOPT, fn_t);
	return f ? f(fd, level, name, val, len) : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

int libc_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	typedef int (*fn_t)(int, struct sockaddr *, socklen_t *);
	fn_t f = REAL(R_GETSOCKNAME, fn_t);
	return f ? f(fd, addr, len) : (int)syscall(SYS_getsockname, fd, addr, len);
}

int libc_listen(int fd, int backlog)
{
	typedef int (*fn_t)(int, int);
	fn_t f = REAL(R_LISTEN, fn_t);
	return f ? f(fd, backlog) : (int)syscall(SYS_listen, fd, backlog);
}

ssize_t libc_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
		    socklen_t alen)
{
	typedef ssize_t (*fn_t)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	fn_t f = REAL(R_SENDTO, fn_t);
	return f ? f(fd, buf, n, flags, addr, alen)
		 : (ssize_t)syscall(SYS_sendto, fd, buf, n, flags, addr, alen);
}

ssize_t libc_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	typedef ssize_t (*fn_t)(int, const struct msghdr *, int);
	fn_t f = REAL(R_SENDMSG, fn_t);
	return f ? f(fd, msg, flags) : (ssize_t)syscall(SYS_sendmsg, fd, msg, flags);
}

/* exec: without a resolved libc function (never in practice) the system
 * call itself; the PATH search variants then fail with ENOSYS. */
typedef int (*exec_fn)(const char *, char *const[], char *const[]);

int libc_execve(const char *path, char *const argv[], char *const envp[])
{
	exec_fn f = REAL(R_EXECVE, exec_fn);
	return f ? f(path, argv, envp) : (int)syscall(SYS_execve, path, argv, envp);
}

int libc_execv(const char *path, char *const argv[])
{
	typedef int (*fn_t)(const char *, char *const[]);
	fn_t f = REAL(R_EXECV, fn_t);
	return f ? f(path, argv) : libc_execve(path, argv, environ);
}

int libc_execvp(const char *file, char *const argv[])
{
	typedef int (*fn_t)(const char *, char *const[]);
	fn_t f = REAL(R_EXECVP, fn_t);
	if (f)
		return f(file, argv);
	errno = ENOSYS;
	return -1;
}

int libc_execvpe(const char *file, char *const argv[], char *const envp[])
{
	exec_fn f = REAL(R_EXECVPE, exec_fn);
	if (f)
		return f(file, argv, envp);
	errno = ENOSYS;
	return -1;
}

int libc_fexecve(int fd, char *const argv[], char *const envp[])
{
	typedef int (*fn_t)(int, char *const[], char *const[]);
	fn_t f = REAL(R_FEXECVE, fn_t);
	if (f)
		return f(fd, argv, envp);
	errno = ENOSYS;
	return -1;
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);

int libc_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	spawn_fn f = REAL(R_POSIX_SPAWN, spawn_fn);
	return f ? f(pid, path, actions, attr, argv, envp) : ENOSYS;
}

int libc_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
		      const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	spawn_fn f = REAL(R_POSIX_SPAWNP, spawn_fn);
	return f ? f(pid, file, actions, attr, argv, envp) : ENOSYS;
}

int libc_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	typedef int (*fn_t)(int, const struct sigaction *, struct sigaction *);
	fn_t f = REAL(R_SIGACTION, fn_t);
	if (!f) {
		/* Unreachable in practice: libc always has sigaction. */
		errno = ENOSYS;
		return -1;
	}
	return f(sig, act, oldact);
}

sighandler_t libc_signal(int sig, sighandler_t handler)
{
	typedef sighandler_t (*fn_t)(int, sighandler_t);
	fn_t f = REAL(R_SIGNAL, fn_t);
	if (!f) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	return f(sig, handler);
}
