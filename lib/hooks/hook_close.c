/* twshim — every close path an interposer can see, for the port
 * reservations of pinned sockets (record_close.h).  TWSHIM_LINGER=safe
 * depends on none of these: the kernel acts at the final release.
 *
 * Each calls tw_fd_before_close() for the fds it is about to close; for an
 * fd the library never recorded that is one load, no system call.  All of
 * this stays async-signal-safe (close() may be called from a handler). */

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "fdtable.h"
#include "hook.h"
#include "real.h"
#include "record_close.h"
#include "stats.h"

TW_EXPORT int close(int fd)
{
	tw_fd_closing(fd);
	return libc_close(fd);
}

TW_EXPORT int __close(int fd)
{
	tw_fd_closing(fd);
	return libc_close(fd);
}

TW_EXPORT int fclose(FILE *stream)
{
	if (stream) {
		int saved = errno;
		int fd = fileno(stream);
		if (fd >= 0 && tw_fd_has_record(fd))
			tw_fd_before_close(fd);
		errno = saved;
	}
	return libc_fclose(stream);
}

/* Flags close_range() understands; anything else makes it fail EINVAL,
 * closing nothing, so the library must not act either. */
#define KNOWN_CLOSE_RANGE_FLAGS (CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)

static void before_close_span(unsigned first, unsigned last)
{
	int limit = tw_fd_limit();
	if (limit <= 0 || first >= (unsigned)limit)
		return;
	if (last >= (unsigned)limit)
		last = (unsigned)limit - 1;
	for (unsigned fd = first; fd <= last; fd++)
		tw_fd_before_close((int)fd);
}

TW_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (first <= last && !(flags & ~KNOWN_CLOSE_RANGE_FLAGS) && !(flags & CLOSE_RANGE_CLOEXEC))
		before_close_span(first, last);
	return libc_close_range(first, last, flags);
}

TW_EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		before_close_span((unsigned)lowfd, ~0u);
	libc_closefrom(lowfd);
}
