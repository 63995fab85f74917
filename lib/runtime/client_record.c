/* twshim — per-socket client records; see client_record.h. */
#include "client_record.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "client.h"
#include "log.h"
#include "real.h"
#include "runtime.h"
#include "stats.h"

/* The socket that left this record is gone from fd. */
static void drop_stale(int fd)
{
	struct tw_fd_entry rec;
	uint32_t old = tw_fd_take(fd, &rec);
	uint64_t cookie = atomic_load_explicit(&rec.cookie, memory_order_relaxed);
	/* A duplicate fd may still hold that socket: then the reservation is
	 * still in use and goes with the duplicate's close. */
	if ((old & TW_FD_PINNED) && !((old & TW_FD_DUPED) && tw_fd_cookie_in_use(cookie, fd)))
		tw_pin_release(atomic_load_explicit(&rec.pin_port, memory_order_relaxed),
			       atomic_load_explicit(&rec.pin_key, memory_order_relaxed));
	tw_debug("fd %d: record of a socket closed out of sight dropped", fd);
}

void tw_fd_born_tcp_slow(int fd)
{
	int saved = errno;
	struct tw_fd_entry *e = tw_fd_get(fd);

	if (e) {
		/* What is there was left by a socket closed out of sight. */
		if (atomic_load_explicit(&e->flags, memory_order_acquire))
			drop_stale(fd);
		atomic_store_explicit(&e->cookie, 0, memory_order_relaxed);
		atomic_store_explicit(&e->flags, TW_FD_BORN_TCP, memory_order_release);
	}
	errno = saved;
}

void tw_fd_born_other_slow(int fd)
{
	int saved = errno;

	drop_stale(fd);
	errno = saved;
}

uint32_t tw_fd_current(int fd, struct tw_fd_entry **ep, uint64_t *cookie)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	uint32_t flags = e ? atomic_load_explicit(&e->flags, memory_order_acquire) : 0;

	*ep = e;
	*cookie = 0;
	if (!flags)
		return 0;
	if (flags & TW_FD_BORN_TCP) {
		/* Seen made by socket(): current without asking the kernel.  The
		 * cookie is there only if a duplicate needed it. */
		*cookie = atomic_load_explicit(&e->cookie, memory_order_relaxed);
		return flags;
	}
	*cookie = tw_socket_cookie(fd);
	if (*cookie && atomic_load_explicit(&e->cookie, memory_order_relaxed) == *cookie)
		return flags;
	drop_stale(fd);
	return 0;
}

struct tw_fd_entry *tw_fd_claim(int fd)
{
	struct tw_fd_entry *e;
	uint64_t cookie;
	uint32_t flags = tw_fd_current(fd, &e, &cookie);

	if (!flags) {
		if (!cookie)
			cookie = tw_socket_cookie(fd);
		if (!cookie)
			return NULL;
		e = tw_fd_get(fd);
		if (!e)
			return NULL;
		atomic_store_explicit(&e->cookie, cookie, memory_order_relaxed);
	}
	return e;
}

void tw_client_undo(int fd, struct tw_fd_entry *e, uint32_t flags, uint64_t cookie)
{
	const uint32_t connect_flags = TW_FD_CONNECTED | TW_FD_PINNED | TW_FD_LINGER_SET;
	int saved = errno;

	if (flags & TW_FD_LINGER_SET)
		tw_clear_linger(fd, &tw_rt.policy);
	/* The socket keeps a port it was bound to (the kernel cannot unbind),
	 * but the (port, old destination) pair is free again. */
	if (flags & TW_FD_PINNED)
		tw_pin_release(atomic_load_explicit(&e->pin_port, memory_order_relaxed),
			       atomic_load_explicit(&e->pin_key, memory_order_relaxed));
	atomic_fetch_and_explicit(&e->flags, ~connect_flags, memory_order_acq_rel);
	if (flags & TW_FD_DUPED)
		tw_fd_clear_cookie_flags(cookie, connect_flags, fd);
	tw_debug("fd %d: connects to another destination; earlier actions undone", fd);
	errno = saved;
}

void tw_client_record(int fd, uint32_t add, uint64_t key, const struct tw_pin_ticket *t,
		      struct tw_fd_entry *known, uint64_t cookie)
{
	int saved = errno;
	/* The record found current (cookie checked) before the connect still
	 * names the same socket if nothing cleared it and no replacement
	 * (pin_replace.c) changed its cookie: no second SO_COOKIE read. */
	uint32_t kflags = known ? atomic_load_explicit(&known->flags, memory_order_acquire) : 0;
	bool same = kflags && ((kflags & TW_FD_BORN_TCP) ||
			       (cookie && atomic_load_explicit(&known->cookie, memory_order_relaxed) ==
						  cookie));
	struct tw_fd_entry *e = same ? known : tw_fd_claim(fd);
	if (!e) {
		/* No memory for the record: the socket closes normally. */
		if (t->active)
			tw_pin_release(t->port, t->key);
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		errno = saved;
		return;
	}
	atomic_store_explicit(&e->pin_port, t->active ? t->port : 0, memory_order_relaxed);
	atomic_store_explicit(&e->pin_key, key, memory_order_relaxed);
	add |= TW_FD_CONNECTED | (t->active ? TW_FD_PINNED : 0);
	uint32_t old = atomic_load_explicit(&e->flags, memory_order_relaxed);
	/* Keep what the program did to this socket; the port question is settled. */
	atomic_store_explicit(&e->flags, (old & ~TW_FD_DEFERRED_PORT) | add, memory_order_release);
	errno = saved;
}
