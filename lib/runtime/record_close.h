/* twshim — the fd side of pinned client sockets: a pinned source port is
 * reserved from connect until the last fd of this process holding the
 * socket is closed.  Every close path the library sees calls
 * tw_fd_before_close(fd) just before the real call.  Async-signal-safe:
 * atomics only.  errno preserved.
 *
 * TWSHIM_LINGER=safe needs none of this: TCP_LINGER2 set at connect makes
 * the kernel itself act at the final release (doc/ARCHITECTURE.md). */
#ifndef TWSHIM_RECORD_CLOSE_H
#define TWSHIM_RECORD_CLOSE_H

#include <stdatomic.h>
#include <stdio.h>

#include "fdtable.h"

/* newfd now refers to the same socket as oldfd (dup, dup2, dup3, F_DUPFD). */
void tw_fd_note_dup(int oldfd, int newfd);

/* fd is about to be closed: take its record and release its port
 * reservation unless another fd of this process still holds the socket.
 * Costs one load when fd has no record. */
void tw_fd_before_close(int fd);

/* close() itself: the same, inline for the common cases — no record (one
 * load), and a record without a port reservation (one store: nothing to
 * release; a cookie left behind is never read with flags 0). */
static inline void tw_fd_closing(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	if (!e)
		return;
	uint32_t flags = atomic_load_explicit(&e->flags, memory_order_relaxed);
	if (flags & TW_FD_PINNED)
		tw_fd_before_close(fd);
	else if (flags)
		atomic_store_explicit(&e->flags, 0, memory_order_relaxed);
}

/* The same for the other close paths an interposer sees. */
/* fclose(stream): its fd, if it has one. */
void tw_fd_before_fclose(FILE *stream);
/* close_range(first, last, flags): only when the call will close fds
 * (known flags, no CLOSE_RANGE_CLOEXEC, first <= last). */
void tw_fd_before_close_range(unsigned first, unsigned last, int flags);
/* closefrom(lowfd). */
void tw_fd_before_closefrom(int lowfd);
/* dup2/dup3(oldfd, newfd) is about to replace newfd: close it our way, but
 * only if the call will really happen (a bad oldfd makes dup2 fail
 * without closing newfd). */
void tw_fd_before_replace(int oldfd, int newfd);

#endif
