/* twshim — reuse options before a server's bind(); see reuse.h. */
#include "reuse.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>

#include "client.h"
#include "client_record.h"
#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "stats.h"

/* Local port of a bind address, or 0 when it has none we understand. */
static uint16_t bind_port(const struct sockaddr *addr, socklen_t len)
{
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ntohs(((const struct sockaddr_in *)(const void *)addr)->sin_port);
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ntohs(((const struct sockaddr_in6 *)(const void *)addr)->sin6_port);
	return 0;
}

static void set_flag_option(int fd, int name, const char *what)
{
	int one = 1;
	if (libc_setsockopt(fd, SOL_SOCKET, name, &one, sizeof(one)) == 0) {
		tw_debug("fd %d: %s set before bind", fd, what);
	} else {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: setting %s failed (errno %d); bind goes ahead without it", fd, what, errno);
	}
}

bool tw_reuse_wanted(const struct tw_policy *p, const struct sockaddr *addr, socklen_t len)
{
	if (!p->reuseaddr && !p->reuseport)
		return false;
	uint16_t port = bind_port(addr, len);
	/* Port 0 asks the kernel for a fresh port: reuse gains nothing there. */
	return port != 0 && tw_policy_reuse_selects_port(p, port);
}

void tw_reuse_before_bind(const struct tw_policy *p, int fd, const struct sockaddr *addr,
			  socklen_t len)
{
	if (!tw_reuse_wanted(p, addr, len))
		return;
	int saved = errno;
	if (!tw_is_tcp_socket(fd))
		goto out;

	struct tw_fd_entry *e;
	uint64_t cookie;
	uint32_t flags = tw_fd_current(fd, &e, &cookie);
	bool changed = false;
	if (p->reuseaddr && !(flags & TW_FD_PROGRAM_REUSEADDR)) {
		set_flag_option(fd, SO_REUSEADDR, "SO_REUSEADDR");
		changed = true;
	}
	if (p->reuseport && !(flags & TW_FD_PROGRAM_REUSEPORT)) {
		set_flag_option(fd, SO_REUSEPORT, "SO_REUSEPORT");
		changed = true;
	}
	if (changed)
		tw_stat_inc(TW_ST_REUSE_BINDS);
out:
	errno = saved;
}
