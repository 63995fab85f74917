/* twshim — connect(): linger, pinning and safe-close records for client sockets. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "client.h"
#include "fdtable.h"
#include "hook.h"
#include "pin.h"
#include "real.h"
#include "runtime.h"
#include "safe_close.h"
#include "stats.h"


static int hook_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!tw_active() || !tw_rt.client_actions || !addr || len < sizeof(sa_family_t) ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return libc_connect(fd, addr, len);
	tw_stat_inc(TW_ST_CONNECTS);

	int saved = errno;
	struct tw_fd_entry *e = tw_fd_peek(fd);
	uint32_t flags = e ? atomic_load_explicit(&e->flags, memory_order_acquire) : 0;
	/* Already recorded: a repeated connect() on a non-blocking socket
	 * (EALREADY, EISCONN) — the work was done on the first call. */
	if (flags & (TW_FD_SAFE | TW_FD_PINNED)) {
		errno = saved;
		return libc_connect(fd, addr, len);
	}

	struct tw_connect_plan plan = tw_plan_connect(&tw_rt.policy, tw_pin_active(), addr, len,
						      (flags & TW_FD_PROGRAM_LINGER) != 0);
	/* Options and binds must only ever touch TCP sockets.  A plan that only
	 * records the socket for the safe close needs no check here: the
	 * TCP_INFO read at close refuses anything that is not TCP. */
	bool acts_now = plan.set_linger || plan.pin;
	if (!plan.selected || (acts_now && !tw_is_tcp_socket(fd))) {
		errno = saved;
		return libc_connect(fd, addr, len);
	}
	tw_stat_inc(TW_ST_MATCHED);
	if (plan.set_linger)
		tw_apply_linger(fd, &tw_rt.policy);
	else if (flags & TW_FD_PROGRAM_LINGER)
		tw_stat_inc(TW_ST_LINGER_KEPT);

	struct tw_pin_ticket ticket = { false, 0, 0 };
	bool pinning = plan.pin && !(flags & TW_FD_PROGRAM_NO_PORT);
	if (pinning)
		tw_pin_before_connect(fd, addr, len, (flags & TW_FD_DEFERRED_PORT) != 0, &ticket);

	errno = saved;
	int rc = libc_connect(fd, addr, len);
	int err = rc == 0 ? saved : errno;
	if (pinning)
		rc = tw_pin_after_connect(fd, addr, len, rc, &err, &ticket);

	if (tw_connect_pending_or_done(rc, err))
		tw_client_record(fd, plan.track_safe, &ticket);
	errno = err;
	return rc;
}

TW_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return hook_connect(fd, addr, len);
}

TW_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return hook_connect(fd, addr, len);
}
