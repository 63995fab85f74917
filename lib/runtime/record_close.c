/* twshim — the fd side of pinned client sockets; see record_close.h. */
#include "record_close.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdatomic.h>

#include "client.h"
#include "fdtable.h"
#include "pin.h"
#include "real.h"

void tw_fd_note_dup(int oldfd, int newfd)
{
	struct tw_fd_entry *src = tw_fd_peek(oldfd);
	if (!src)
		return;
	uint32_t flags = atomic_load_explicit(&src->flags, memory_order_relaxed);
	if (!(flags & TW_FD_PINNED))
		return;
	struct tw_fd_entry *dst = tw_fd_get(newfd);
	if (!dst)
		return; /* the reservation then ends with the first close: harmless */
	/* A socket seen made by socket() has no cookie yet: duplicates find
	 * each other by it (tw_fd_cookie_in_use). */
	if (!atomic_load_explicit(&src->cookie, memory_order_relaxed)) {
		int saved = errno;
		atomic_store_explicit(&src->cookie, tw_socket_cookie(oldfd), memory_order_relaxed);
		errno = saved;
	}
	atomic_store_explicit(&dst->pin_port, atomic_load_explicit(&src->pin_port, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&dst->pin_key, atomic_load_explicit(&src->pin_key, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&dst->cookie, atomic_load_explicit(&src->cookie, memory_order_relaxed),
			      memory_order_relaxed);
	/* Program-set options belong to the socket, so the duplicate has them too. */
	atomic_store_explicit(&dst->flags, flags | TW_FD_DUPED, memory_order_release);
	atomic_fetch_or_explicit(&src->flags, TW_FD_DUPED, memory_order_relaxed);
}

void tw_fd_before_close(int fd)
{
	struct tw_fd_entry rec;
	uint32_t flags = tw_fd_take(fd, &rec);
	if (!(flags & TW_FD_PINNED))
		return;
	int saved = errno;
	uint64_t cookie = atomic_load_explicit(&rec.cookie, memory_order_relaxed);
	/* Another fd of ours still holding the socket keeps the port. */
	if (!((flags & TW_FD_DUPED) && tw_fd_cookie_in_use(cookie, fd)))
		tw_pin_release(atomic_load_explicit(&rec.pin_port, memory_order_relaxed),
			       atomic_load_explicit(&rec.pin_key, memory_order_relaxed));
	errno = saved;
}

void tw_fd_before_fclose(FILE *stream)
{
	if (!stream)
		return;
	int saved = errno;
	int fd = fileno(stream);
	if (fd >= 0 && tw_fd_has_record(fd))
		tw_fd_before_close(fd);
	errno = saved;
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

void tw_fd_before_close_range(unsigned first, unsigned last, int flags)
{
	if (first <= last && !(flags & ~KNOWN_CLOSE_RANGE_FLAGS) && !(flags & CLOSE_RANGE_CLOEXEC))
		before_close_span(first, last);
}

void tw_fd_before_closefrom(int lowfd)
{
	if (lowfd >= 0)
		before_close_span((unsigned)lowfd, ~0u);
}

void tw_fd_before_replace(int oldfd, int newfd)
{
	struct tw_fd_entry *e = tw_fd_peek(newfd);
	if (oldfd == newfd || !e || atomic_load_explicit(&e->flags, memory_order_relaxed) == 0)
		return;
	int saved = errno;
	bool old_valid = libc_fcntl_int(oldfd, F_GETFD, 0) >= 0;
	errno = saved;
	if (old_valid)
		tw_fd_before_close(newfd);
}
