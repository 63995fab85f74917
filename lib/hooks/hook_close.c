/* twshim — every close path an interposer can see, for the port
 * reservations of pinned sockets (record_close.h).  TWSHIM_LINGER=safe
 * depends on none of these: the kernel acts at the final release.
 *
 * Each calls the runtime (record_close.h) for the fds it is about to
 * close; for an fd the library never recorded that is one load, no system
 * call.  close() and __close() call tw_fd_closing(), inline in
 * record_close.h: close is the hottest call here.  All of this stays
 * async-signal-safe (close() may be called from a handler). */

#include <stdio.h>
#include <unistd.h>

#include "fdtable.h"
#include "hook.h"
#include "real.h"
#include "record_close.h"

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
	tw_fd_before_fclose(stream);
	return libc_fclose(stream);
}

TW_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	tw_fd_before_close_range(first, last, flags);
	return libc_close_range(first, last, flags);
}

TW_EXPORT void closefrom(int lowfd)
{
	tw_fd_before_closefrom(lowfd);
	libc_closefrom(lowfd);
}
