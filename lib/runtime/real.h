/* twshim — typed trampolines to the real libc functions.
 *
 * Resolved once with dlsym(RTLD_NEXT) by tw_real_resolve() (the library
 * constructor), except the functions that are not async-signal-safe
 * and not run in a vfork child (fclose, posix_spawn[p]): those at their
 * first call.
 * A call that arrives before the constructor resolves lazily too; if dlsym
 * cannot help, the close/connect/bind family falls back to the raw system
 * call, so the program's call always happens.  Each libc_* function has the
 * exact contract (result and errno) of the libc function it names. */
#ifndef TWSHIM_REAL_H
#define TWSHIM_REAL_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>

void tw_real_resolve(void);

int libc_connect(int fd, const struct sockaddr *addr, socklen_t len);
int libc_bind(int fd, const struct sockaddr *addr, socklen_t len);
int libc_socket(int domain, int type, int protocol);
int libc_close(int fd);
int libc_fclose(FILE *f);
int libc_close_range(unsigned first, unsigned last, int flags);
void libc_closefrom(int lowfd);
int libc_dup(int fd);
int libc_dup2(int oldfd, int newfd);
int libc_dup3(int oldfd, int newfd, int flags);
int libc_fcntl_int(int fd, int cmd, int arg);
int libc_fcntl_ptr(int fd, int cmd, void *arg);
int libc_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int libc_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int libc_listen(int fd, int backlog);
ssize_t libc_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
		    socklen_t alen);
ssize_t libc_sendmsg(int fd, const struct msghdr *msg, int flags);
int libc_execve(const char *path, char *const argv[], char *const envp[]);
int libc_execv(const char *path, char *const argv[]);
int libc_execvp(const char *file, char *const argv[]);
int libc_execvpe(const char *file, char *const argv[], char *const envp[]);
int libc_fexecve(int fd, char *const argv[], char *const envp[]);
int libc_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		     const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int libc_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
		      const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int libc_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
sighandler_t libc_signal(int sig, sighandler_t handler);

#endif
