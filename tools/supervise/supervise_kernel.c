/* twshim — system calls the supervisor needs, and probing for them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"
#include "supervise_internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int tw_sup_pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

int tw_sup_pidfd_getfd(int pidfd, int fd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

int tw_sup_seccomp(unsigned op, unsigned flags, void *args)
{
	return (int)syscall(SYS_seccomp, op, flags, args);
}

bool tw_sup_set_sync_wakeup(int listener)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		     (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
}

int tw_supervise_sync_wakeup(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	pid_t pid;
	int st, listener;

	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		/* The filter stays on this child only, which exits at once. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(1);
		listener = tw_sup_seccomp(SECCOMP_SET_MODE_FILTER,
					  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		_exit(listener >= 0 && tw_sup_set_sync_wakeup(listener) ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 1 : 0;
}

pid_t tw_sup_tgid_of(pid_t tid)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;
	char *line;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* "Tgid:" is the fourth line, well inside the first 512 bytes. */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, "\nTgid:");
	if (!line)
		return -1;
	return (pid_t)strtol(line + 6, NULL, 10);
}

bool tw_sup_probe_kernel(struct tw_sup_kernel *k, char *msg, size_t msgsz)
{
	int pidfd, dup, tfd;

	memset(k, 0, sizeof(*k));
	if (tw_sup_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &k->sizes) != 0) {
		snprintf(msg, msgsz, "this kernel lacks seccomp user notification "
			 "(SECCOMP_GET_NOTIF_SIZES: %s; needs Linux >= 5.5)", strerror(errno));
		return false;
	}
	pidfd = tw_sup_pidfd_open(getpid(), 0);
	if (pidfd < 0) {
		snprintf(msg, msgsz, "this kernel lacks pidfd_open (%s; needs Linux >= 5.3)",
			 strerror(errno));
		return false;
	}
	dup = tw_sup_pidfd_getfd(pidfd, pidfd);
	if (dup < 0) {
		snprintf(msg, msgsz, "this kernel lacks pidfd_getfd (%s; needs Linux >= 5.6)",
			 strerror(errno));
		close(pidfd);
		return false;
	}
	close(dup);
	close(pidfd);

	/* Notifications name the calling thread; only Linux >= 6.9 opens a
	 * pidfd on a thread.  Older kernels: the thread group leader via
	 * /proc, which must then be readable. */
	tfd = tw_sup_pidfd_open(gettid(), PIDFD_THREAD);
	if (tfd >= 0) {
		k->pidfd_thread = true;
		close(tfd);
	} else {
		int err = errno;
		if (tw_sup_tgid_of(gettid()) != getpid()) {
			snprintf(msg, msgsz, "this kernel cannot open a pidfd on a thread "
				 "(PIDFD_THREAD: %s; needs Linux >= 6.9) and /proc is not "
				 "readable to find the thread group instead", strerror(err));
			return false;
		}
	}
	return true;
}
