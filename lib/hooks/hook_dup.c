/* twshim — fd duplication: dup, dup2, dup3, fcntl(F_DUPFD*).
 *
 * A duplicate of a recorded socket is recorded too, so that a pinned
 * port's reservation ends only at the last close of the socket
 * (record_close.h).  dup2/dup3 onto a recorded fd close it: that close
 * goes through tw_fd_before_close() as close() does. */
/* fcntl and fcntl64 are both defined here under their own names; with
 * _FILE_OFFSET_BITS=64 the header would rename fcntl to fcntl64. */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "fdtable.h"
#include "pin.h"
#include "hook.h"
#include "real.h"
#include "record_close.h"

TW_EXPORT int dup(int oldfd)
{
	tw_pin_materialize(oldfd); /* a deferred port is per fd: give it now */
	int fd = libc_dup(oldfd);
	if (fd >= 0)
		tw_fd_note_dup(oldfd, fd);
	return fd;
}

TW_EXPORT int dup2(int oldfd, int newfd)
{
	tw_pin_materialize(oldfd);
	tw_fd_before_replace(oldfd, newfd);
	int fd = libc_dup2(oldfd, newfd);
	if (fd >= 0 && oldfd != newfd)
		tw_fd_note_dup(oldfd, fd);
	return fd;
}

TW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	tw_pin_materialize(oldfd);
	tw_fd_before_replace(oldfd, newfd);
	int fd = libc_dup3(oldfd, newfd, flags);
	if (fd >= 0)
		tw_fd_note_dup(oldfd, fd);
	return fd;
}

/* fcntl's third argument is an int or a pointer depending on cmd; like
 * glibc, take it as a pointer-sized value and pass it on unchanged. */
static int hook_fcntl(int fd, int cmd, void *arg)
{
	/* a deferred port is known to this fd only: a duplicate gets it now */
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		tw_pin_materialize(fd);
	int rc = libc_fcntl_ptr(fd, cmd, arg);
	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		tw_fd_note_dup(fd, rc);
	return rc;
}

TW_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return hook_fcntl(fd, cmd, arg);
}

TW_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return hook_fcntl(fd, cmd, arg);
}
