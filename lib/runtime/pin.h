/* twshim — source-port pinning for client sockets (TWSHIM_PORTS).
 *
 * Used by the connect interposer and by the supervisor.  Nothing here
 * changes errno as seen by the caller, and nothing allocates after
 * tw_pin_init(). */
#ifndef TWSHIM_PIN_H
#define TWSHIM_PIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "twshim/policy.h"

/* A reservation of (port, destination) made before connect. */
struct tw_pin_ticket {
	bool active;   /* a reservation is held */
	uint16_t port; /* host byte order */
	uint64_t key;  /* destination key */
};

/* Resolve the range (reading ip_local_port_range and
 * ip_local_reserved_ports for TW_PORTS_ABOVE), print one line if the range
 * is unusable or overlaps the ephemeral range, set up the allocator.
 * Returns true if pinning is active. */
bool tw_pin_init(const struct tw_policy *p);
bool tw_pin_active(void);

/* Load time: remember p (kept alive by the caller) for a tw_pin_init() at
 * the first use; no system call.  Fork handlers are registered here. */
void tw_pin_defer_init(const struct tw_policy *p);
/* Pinning is configured and its set-up has not failed (one atomic load). */
bool tw_pin_wanted(void);
/* Active, setting it up now if it was deferred (once per process). */
bool tw_pin_ready(void);

/* Reading connect()'s destination for a pinned connect, without a probe.
 * Pinning sets SO_REUSEADDR = 1 before its bind anyway; that system call
 * can read the caller's pointer for us: its int is taken from the first 4
 * bytes of the sockaddr (family and port, never 0 for AF_INET/AF_INET6),
 * so a pointer the program cannot read gets EFAULT with nothing set, and
 * one it can is then safe to copy.  Only for a socket the library saw made
 * as TCP, not connected through the library before, whose SO_REUSEADDR
 * neither the program nor TWSHIM_REUSEADDR has set. */
enum tw_pin_dst {
	TW_PIN_DST_UNREAD,    /* not applicable: read it some other way */
	TW_PIN_DST_PASS,      /* unreadable or not AF_INET/AF_INET6: nothing set,
			       * pass the call to the kernel untouched */
	TW_PIN_DST_REUSE_SET, /* *out holds it; SO_REUSEADDR is now 1: pass
			       * reuse_set to tw_pin_before_connect_key(), or
			       * undo it with tw_pin_undo_reuse() */
};
/* flags: fd's record (tw_fd_current()). */
enum tw_pin_dst tw_pin_read_dst(int fd, uint32_t flags, const struct sockaddr *dst, socklen_t len,
			       void *out);
/* SO_REUSEADDR back to 0 after TW_PIN_DST_REUSE_SET was not used. */
void tw_pin_undo_reuse(int fd);

/* Before the real connect of a selected client TCP socket: if the program
 * has not bound it, set SO_REUSEADDR and bind it to a pinned port of the
 * destination's family (keeping an address the program bound with port 0
 * when deferred is true).  Fills *t on success; on any failure leaves the
 * socket as it was (or unbound) and t->active false. */
void tw_pin_before_connect(int fd, const struct sockaddr *dst, socklen_t len,
			   bool deferred, struct tw_pin_ticket *t);
/* The same with fd's record already read (flags: tw_fd_current(); deferred
 * is TW_FD_DEFERRED_PORT there) and the destination's tw_dest_key() already
 * computed; reuse_set: SO_REUSEADDR is 1 already (tw_pin_read_dst), on
 * failure it is undone. */
void tw_pin_before_connect_key(int fd, uint32_t flags, const struct sockaddr *dst, uint64_t key,
			       bool reuse_set, struct tw_pin_ticket *t);

struct tw_connect_op;

/* After the real connecting call (op, see client.h) returned rc with errno
 * err: if it failed with EADDRNOTAVAIL because of the pinned port, recover
 * (new socket, another port, dup3 onto fd) and make the call again.
 * Returns the result the program must see and stores its errno in *err.
 * Releases the ticket on failure. */
ssize_t tw_pin_after_connect(int fd, ssize_t rc, int *err, struct tw_pin_ticket *t,
			     const struct tw_connect_op *op);

/* The socket holding the reservation is gone. */
void tw_pin_release(uint16_t port, uint64_t key);

/* The program bound fd to ADDR:0 and pinning applies: remember the address
 * so the connect can pin it.  Returns the result of the program's bind. */
int tw_pin_bind_port0(int fd, const struct sockaddr *addr, socklen_t len);

/* The program is about to use a deferred ADDR:0 binding in a way that needs
 * its port now (getsockname, listen): give it the kernel's own choice. */
void tw_pin_materialize(int fd);
/* The same for every deferred socket of the process: it is about to be
 * shared (fork, posix_spawn).  A flag test when none was ever deferred. */
void tw_pin_materialize_all(void);

#endif
