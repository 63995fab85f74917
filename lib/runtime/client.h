/* twshim — what the policy does to a client TCP socket at connect time.
 *
 * Shared by the connect interposer (fd of this process) and the supervisor
 * (a pidfd_getfd duplicate of another process's socket: same open file
 * description, so options and binds act on the target's socket). */
#ifndef TWSHIM_CLIENT_H
#define TWSHIM_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "client_record.h"
#include "decide.h"
#include "pin.h"
#include "twshim/policy.h"

/* A connect() that did not fail for good: done, or still under way. */
static inline bool tw_connect_pending_or_done(int rc, int err)
{
	return rc == 0 || err == EINPROGRESS || err == EINTR || err == EALREADY || err == EISCONN;
}

/* Is fd a TCP socket (AF_INET/AF_INET6, SOCK_STREAM, IPPROTO_TCP)?
 * One getsockopt; errno preserved. */
bool tw_is_tcp_socket(int fd);

/* The connect plan (tw_plan_connect) and the linger values are pure
 * decisions: lib/core/decide.h. */

/* The real call that connects a client socket: connect(), or sendto() /
 * sendmsg() with MSG_FASTOPEN (TCP Fast Open connects and sends at once).
 * call() makes it on fd — the program's own, or a replacement socket
 * (pin_replace.c) — with the program's own arguments; it returns the
 * real call's result and leaves its errno. */
struct tw_connect_op {
	ssize_t (*call)(int fd, const struct tw_connect_op *op);
	const void *a, *b; /* the program's arguments, for call() */
	size_t n;
	int flags;
	socklen_t alen;
	bool reuse_set; /* SO_REUSEADDR set by tw_pin_read_dst() (see pin.h) */
};

/* The client-socket policy around one connecting call: plan, linger,
 * pinning, the call, the record.  dst/len: a copy of the destination,
 * already read safely; seen: fd's record (tw_fd_see()).  Returns what the
 * real call returns, with its errno. */
ssize_t tw_client_connect(int fd, const struct sockaddr *dst, socklen_t len,
			  const struct tw_connect_op *op, struct tw_fd_seen seen);

/* Apply the connect-time linger: SO_LINGER {1,0} or {1,N} for modes 0/N;
 * for safe TCP_LINGER2 = -1, which makes the kernel answer the ACK of our
 * FIN with a RST once the socket is orphaned (every fd in every process
 * closed): no FIN_WAIT2, no TIME_WAIT, and every byte was acknowledged
 * first (doc/ARCHITECTURE.md).  Returns true on success; a failure is
 * counted and logged.  errno preserved. */
bool tw_apply_linger(int fd, const struct tw_policy *p);
/* TCP_LINGER2 = -1 (safe), silently: true on a TCP socket, false on any
 * other (they refuse the option), so it doubles as tw_is_tcp_socket().
 * errno unchanged.  The caller counts it. */
bool tw_set_linger2_if_tcp(int fd);

/* Undo tw_apply_linger (the socket connects elsewhere after all): SO_LINGER
 * off, or TCP_LINGER2 back to the system default (0).  errno preserved. */
void tw_clear_linger(int fd, const struct tw_policy *p);

/* The socket's kernel identity (SO_COOKIE), 0 if fd is not a socket.
 * errno preserved. */
uint64_t tw_socket_cookie(int fd);

#endif
