/* twshim — connect-time policy for client sockets; see client.h. */
#include "client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "log.h"
#include "real.h"
#include "stats.h"

bool tw_is_tcp_socket(int fd)
{
	/* TCP_NODELAY is answered only by TCP sockets: UDP, raw (even with
	 * IPPROTO_TCP), UNIX and netlink sockets refuse it, so one getsockopt
	 * tells "TCP over IPv4/IPv6" from everything else. */
	int saved = errno;
	int value;
	socklen_t len = sizeof(value);
	bool tcp = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len) == 0;
	errno = saved;
	return tcp;
}

struct tw_connect_plan tw_plan_connect(const struct tw_policy *p, bool pin_active,
				       const struct sockaddr *dst, socklen_t len,
				       bool program_linger)
{
	struct tw_connect_plan plan = { false, false, false };

	if (!dst || len < sizeof(sa_family_t) ||
	    (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
		return plan;
	if (!tw_policy_selects(p, dst, len))
		return plan;

	plan.selected = true;
	switch (p->linger) {
	case TW_LINGER_ABORT:
	case TW_LINGER_TIMEOUT:
	case TW_LINGER_SAFE:
		plan.set_linger = !program_linger;
		break;
	case TW_LINGER_OFF:
		break;
	}
	plan.pin = pin_active;
	return plan;
}

bool tw_set_linger2_if_tcp(int fd)
{
	int saved = errno, v = -1;
	bool ok = libc_setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &v, sizeof(v)) == 0;
	errno = saved;
	return ok;
}

bool tw_apply_linger(int fd, const struct tw_policy *p)
{
	int saved = errno;
	if (p->linger == TW_LINGER_SAFE) {
		/* do_tcp_setsockopt stores any negative TCP_LINGER2 as -1 */
		int v = -1;
		bool ok = libc_setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &v, sizeof(v)) == 0;
		if (ok) {
			tw_stat_inc(TW_ST_LINGER2_SET);
		} else {
			tw_stat_inc(TW_ST_SIDE_FAILURES);
			tw_warn("fd %d: setting TCP_LINGER2 failed (errno %d); it closes normally", fd,
				errno);
		}
		errno = saved;
		return ok;
	}
	struct linger lg = {
		.l_onoff = 1,
		.l_linger = p->linger == TW_LINGER_TIMEOUT ? (int)p->linger_seconds : 0,
	};
	bool ok = libc_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0;
	if (ok) {
		tw_stat_inc(TW_ST_LINGER_SET);
	} else {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: setting SO_LINGER failed (errno %d); it closes normally", fd, errno);
	}
	errno = saved;
	return ok;
}

void tw_clear_linger(int fd, const struct tw_policy *p)
{
	int saved = errno;
	struct linger off = { 0, 0 };
	int zero = 0;
	int rc = p->linger == TW_LINGER_SAFE
			 ? libc_setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &zero, sizeof(zero))
			 : libc_setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	if (rc != 0) {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: undoing the library's linger failed (errno %d)", fd, errno);
	}
	errno = saved;
}

uint64_t tw_socket_cookie(int fd)
{
	int saved = errno;
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0)
		cookie = 0;
	errno = saved;
	return cookie;
}
