/* twshim — the per-socket records of client sockets (what the library did
 * at connect), kept in the fd table.
 *
 * A record describes one socket, named by its SO_COOKIE, not an fd number:
 * a socket closed where no interposer sees it (syscall(SYS_close), io_uring,
 * close_range in a child...) leaves its record behind, and the next socket
 * that gets the same fd number must not inherit it.  Every reader that acts
 * on a record checks the cookie first (one getsockopt, made only when the fd
 * has a record).
 *
 * Except for sockets the library saw made: socket() of a TCP socket marks
 * its fd TW_FD_BORN_TCP, dropping whatever an earlier socket closed out of
 * sight left there.  Such a record is current without a cookie (no system
 * call at connect, setsockopt or bind), and the socket is known to be TCP.
 * What this cannot tell: a socket closed out of sight whose number is taken
 * by one also made out of sight (raw socket(2), io_uring) before the program
 * calls connect() on it through libc.  errno is preserved by everything
 * here. */
#ifndef TWSHIM_CLIENT_RECORD_H
#define TWSHIM_CLIENT_RECORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fdtable.h"
#include "pin.h"

/* The flags recorded for the socket fd refers to now; 0 when none.  A record
 * left by another socket is dropped on the way (its port reservation
 * released unless a duplicate fd still holds that socket).  *ep: the entry
 * (may be NULL); *cookie: fd's cookie when it had to be read, else 0. */
uint32_t tw_fd_current(int fd, struct tw_fd_entry **ep, uint64_t *cookie);
/* The same, as one value: read once by a hook and handed on. */
struct tw_fd_seen {
	uint32_t flags;
	struct tw_fd_entry *e;
	uint64_t cookie;
};
static inline struct tw_fd_seen tw_fd_see(int fd)
{
	struct tw_fd_seen s;
	s.flags = tw_fd_current(fd, &s.e, &s.cookie);
	return s;
}

/* fd was just made by socket() as a TCP socket (AF_INET/AF_INET6,
 * SOCK_STREAM, protocol 0 or IPPROTO_TCP): record it as TW_FD_BORN_TCP. */
void tw_fd_born_tcp_slow(int fd);
static inline void tw_fd_born_tcp(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);

	/* The common case, inline: an empty entry (its last socket closed
	 * where the library saw it). */
	if (e && !atomic_load_explicit(&e->flags, memory_order_relaxed)) {
		atomic_store_explicit(&e->cookie, 0, memory_order_relaxed);
		atomic_store_explicit(&e->flags, TW_FD_BORN_TCP, memory_order_release);
	} else {
		tw_fd_born_tcp_slow(fd);
	}
}

/* fd was just made by socket() as anything else (UDP, a UNIX socket...):
 * a record left there by a socket closed out of sight is dropped, so that
 * the new socket is not taken for the old one (it may say TW_FD_BORN_TCP,
 * which is trusted without a cookie). */
void tw_fd_born_other_slow(int fd);
static inline void tw_fd_born_other(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);

	if (e && atomic_load_explicit(&e->flags, memory_order_relaxed))
		tw_fd_born_other_slow(fd);
}

/* The entry for fd's current socket, created if needed and named by its
 * cookie, for a flag about to be set; NULL if fd is not a socket or there is
 * no memory. */
struct tw_fd_entry *tw_fd_claim(int fd);

/* fd's socket, recorded as connected to another destination, connects
 * again (after connect(AF_UNSPEC), or a failed attempt): undo what the
 * library did for the old destination — SO_LINGER or TCP_LINGER2 it set
 * goes back to the default, the port reservation is released — so the new
 * destination gets exactly its own plan. */
void tw_client_undo(int fd, struct tw_fd_entry *e, uint32_t flags, uint64_t cookie);

/* Record fd's socket after a connect to the destination with key `key`
 * that is done or under way: TW_FD_CONNECTED plus add (TW_FD_LINGER_SET),
 * and the pinned-port reservation of t.  known/cookie: what
 * tw_fd_current() returned before the connect (NULL/0 if nothing), reused
 * when it still holds. */
void tw_client_record(int fd, uint32_t add, uint64_t key, const struct tw_pin_ticket *t,
		      struct tw_fd_entry *known, uint64_t cookie);

#endif
