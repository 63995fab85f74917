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

bool tw_set_linger2_if_tcp(int fd)
{
	int saved = errno, v = TW_LINGER2_SAFE;
	bool ok = libc_setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &v, sizeof(v)) == 0;
	errno = saved;
	return ok;
}

bool tw_apply_linger(int fd, const struct tw_policy *p)
{
	int saved = errno;
	if (tw_linger_option(p) == TW_LINGER_OPT_TCP_LINGER2) {
		int v = TW_LINGER2_SAFE;
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
	struct linger lg = tw_so_linger_value(p);
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
	int rc = tw_linger_option(p) == TW_LINGER_OPT_TCP_LINGER2
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
