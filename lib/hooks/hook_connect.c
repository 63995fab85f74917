/* twshim — connect(): linger (SO_LINGER, or TCP_LINGER2 for safe), pinning
 * and records for client sockets; tw_client_connect() is shared with the TCP Fast Open sends
 * (hook_send.c), which connect too. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "callermem.h"
#include "client.h"
#include "client_record.h"
#include "fdtable.h"
#include "hook.h"
#include "pin.h"
#include "real.h"
#include "runtime.h"
#include "stats.h"
#include "twshim/ports.h"

ssize_t tw_client_connect(int fd, const struct sockaddr *dst, socklen_t len,
			  const struct tw_connect_op *op, struct tw_fd_seen seen)
{
	int saved = errno;
	uint64_t key = tw_dest_key(dst, len);
	struct tw_fd_entry *e = seen.e;
	uint64_t cookie = seen.cookie;
	uint32_t flags = seen.flags;

	if (flags & TW_FD_CONNECTED) {
		/* The same socket again.  To the same destination it is a repeated
		 * call (a non-blocking client's EALREADY/EISCONN/0): the work was
		 * done, and counted, once.  To another one (after
		 * connect(AF_UNSPEC) or a failed attempt) the old destination's
		 * actions are undone and the new one gets its own plan. */
		if (op->reuse_set)
			tw_pin_undo_reuse(fd); /* another thread connected it meanwhile */
		if (atomic_load_explicit(&e->pin_key, memory_order_relaxed) == key) {
			errno = saved;
			return op->call(fd, op);
		}
		tw_client_undo(fd, e, flags, cookie);
		flags = atomic_load_explicit(&e->flags, memory_order_acquire);
	}
	/* The program's own choice of the option this mode sets is kept. */
	bool linger2 = tw_linger_option(&tw_rt.policy) == TW_LINGER_OPT_TCP_LINGER2;
	uint32_t own = linger2 ? TW_FD_PROGRAM_LINGER2 : TW_FD_PROGRAM_LINGER;
	struct tw_connect_plan plan = tw_plan_connect(&tw_rt.policy, tw_pin_wanted(), dst, len,
						      (flags & own) != 0);
	/* Options and binds must only ever touch TCP sockets.  TCP_LINGER2
	 * (safe) is its own check: every other socket refuses it, so it is set
	 * first instead of asking the kernel separately. */
	bool linger2_first = plan.set_linger && linger2;
	bool linger_set = linger2_first && tw_set_linger2_if_tcp(fd);
	bool acts_now = plan.set_linger || plan.pin;
	bool pinning = plan.pin && !(flags & TW_FD_PROGRAM_NO_PORT);
	bool left_alone = !plan.selected ||
			  (linger2_first ? !linger_set
					 : acts_now && !(flags & TW_FD_BORN_TCP) &&
						   !tw_is_tcp_socket(fd));
	if (op->reuse_set && (left_alone || !pinning))
		tw_pin_undo_reuse(fd);
	if (left_alone) {
		/* No record for sockets left alone (no system call for them):
		 * a repeat is known only by its answer. */
		errno = saved;
		ssize_t r = op->call(fd, op);
		if (r >= 0 || (errno != EALREADY && errno != EISCONN))
			tw_stat_inc(TW_ST_CONNECTS);
		return r;
	}
	tw_stat_inc(TW_ST_CONNECTS);
	tw_stat_inc(TW_ST_MATCHED);
	if (linger2_first)
		tw_stat_inc(TW_ST_LINGER2_SET);
	else if (plan.set_linger)
		linger_set = tw_apply_linger(fd, &tw_rt.policy);
	else if (flags & own)
		tw_stat_inc(TW_ST_LINGER_KEPT);

	struct tw_pin_ticket ticket = { false, 0, 0 };
	if (pinning)
		tw_pin_before_connect_key(fd, flags, dst, key, op->reuse_set, &ticket);

	errno = saved;
	ssize_t rc = op->call(fd, op);
	int err = rc >= 0 ? saved : errno;
	if (pinning)
		rc = tw_pin_after_connect(fd, rc, &err, &ticket, op);

	if (rc >= 0 || tw_connect_pending_or_done(-1, err)) {
		tw_client_record(fd, linger_set ? TW_FD_LINGER_SET : 0, key, &ticket, e, cookie);
	} else if (linger_set) {
		/* Failed for good: the socket may be connected again elsewhere
		 * (an excluded destination must not inherit our linger). */
		tw_clear_linger(fd, &tw_rt.policy);
	}
	errno = err;
	return rc;
}

static ssize_t real_connect(int fd, const struct tw_connect_op *op)
{
	return libc_connect(fd, op->a, op->alen);
}

union dst_copy {
	struct sockaddr sa;
	struct sockaddr_storage ss;
};

/* Linger without pinning, on a socket not connected before: nothing has to
 * happen before the call (SO_LINGER and TCP_LINGER2 act at close, set before
 * or after connect alike), so the call comes first and the destination is
 * read once the kernel has read it: no probe of the caller's pointer.  For
 * safe only on a socket known as TCP from socket() (elsewhere setting
 * TCP_LINGER2 first is the TCP test).  Same plan, counters and record as
 * tw_client_connect(). */
static int connect_then_linger(int fd, const struct sockaddr *addr, socklen_t len,
			       struct tw_fd_seen seen)
{
	uint32_t flags = seen.flags;
	bool linger2 = tw_linger_option(&tw_rt.policy) == TW_LINGER_OPT_TCP_LINGER2;
	uint32_t own = linger2 ? TW_FD_PROGRAM_LINGER2 : TW_FD_PROGRAM_LINGER;
	int saved = errno;
	int rc = libc_connect(fd, addr, len);
	int err = rc == 0 ? saved : errno;
	union dst_copy dst;

	/* A connect that succeeded or is under way had its address read by the
	 * kernel.  Any error may have come before that (a bad fd, a seccomp
	 * filter): then the pointer is probed, as before the call. */
	bool have_dst = rc == 0 || err == EINPROGRESS;
	if (have_dst)
		memcpy(&dst, addr, len);
	else
		have_dst = tw_copy_from_caller(&dst, addr, len);
	if (!have_dst || (dst.sa.sa_family != AF_INET && dst.sa.sa_family != AF_INET6)) {
		errno = err;
		return rc;
	}
	struct tw_connect_plan plan = tw_plan_connect(&tw_rt.policy, false, &dst.sa, len,
						      (flags & own) != 0);
	if (!plan.selected ||
	    (plan.set_linger && !(flags & TW_FD_BORN_TCP) && !tw_is_tcp_socket(fd))) {
		if (rc >= 0 || (err != EALREADY && err != EISCONN))
			tw_stat_inc(TW_ST_CONNECTS);
		errno = err;
		return rc;
	}
	tw_stat_inc(TW_ST_CONNECTS);
	tw_stat_inc(TW_ST_MATCHED);
	if (!plan.set_linger && (flags & own))
		tw_stat_inc(TW_ST_LINGER_KEPT);
	/* Failed for good: nothing was set, nothing to record or undo. */
	if (rc >= 0 || tw_connect_pending_or_done(-1, err)) {
		bool linger_set = plan.set_linger && tw_apply_linger(fd, &tw_rt.policy);
		struct tw_pin_ticket none = { false, 0, 0 };
		tw_client_record(fd, linger_set ? TW_FD_LINGER_SET : 0, tw_dest_key(&dst.sa, len),
				 &none, seen.e, seen.cookie);
	}
	errno = err;
	return rc;
}

static int hook_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	union dst_copy dst;

	if (!tw_active() || !tw_rt.client_actions || len < sizeof(struct sockaddr_in) ||
	    len > sizeof(dst))
		return libc_connect(fd, addr, len);
	struct tw_fd_seen seen = tw_fd_see(fd);
	bool pin = tw_pin_wanted();
	if (!pin) {
		bool linger2 = tw_linger_option(&tw_rt.policy) == TW_LINGER_OPT_TCP_LINGER2;
		if (!(seen.flags & TW_FD_CONNECTED) && (!linger2 || (seen.flags & TW_FD_BORN_TCP)))
			return connect_then_linger(fd, addr, len, seen);
	}
	/* The destination is read only through the kernel (tw_pin_read_dst) or
	 * tw_copy_from_caller(): a bad pointer goes to the kernel untouched and
	 * gets its EFAULT.  Shorter than a sockaddr_in is never an IPv4/IPv6
	 * connect the kernel accepts. */
	struct tw_connect_op op = { .call = real_connect, .a = addr, .alen = len };
	enum tw_pin_dst read = pin ? tw_pin_read_dst(fd, seen.flags, addr, len, &dst)
				   : TW_PIN_DST_UNREAD;
	if (read == TW_PIN_DST_PASS ||
	    (read == TW_PIN_DST_UNREAD &&
	     (!tw_copy_from_caller(&dst, addr, len) ||
	      (dst.sa.sa_family != AF_INET && dst.sa.sa_family != AF_INET6))))
		return libc_connect(fd, addr, len);
	op.reuse_set = read == TW_PIN_DST_REUSE_SET;
	return (int)tw_client_connect(fd, &dst.sa, len, &op, seen);
}

TW_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return hook_connect(fd, addr, len);
}

TW_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return hook_connect(fd, addr, len);
}
