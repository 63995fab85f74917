/* twshim — reuse options before a server's bind(); see reuse.h. */
#include "reuse.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>

#include "client.h"
#include "client_record.h"
#include "decide.h"
#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "stats.h"

static void set_flag_option(int fd, int name, const char *what)
{
	int one = 1;
	if (libc_setsockopt(fd, SOL_SOCKET, name, &one, sizeof(one)) == 0) {
		tw_debug("fd %d: %s set before bind", fd, what);
		/* Set for the program, kept as if it had set it: pinning must
		 * not take it back (pin.h). */
		struct tw_fd_entry *e = name == SO_REUSEADDR ? tw_fd_claim(fd) : NULL;
		if (e)
			atomic_fetch_or_explicit(&e->flags, TW_FD_PROGRAM_REUSEADDR,
						 memory_order_relaxed);
	} else {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: setting %s failed (errno %d); bind goes ahead without it", fd, what, errno);
	}
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
	struct tw_reuse_plan plan = tw_plan_reuse(p, (flags & TW_FD_PROGRAM_REUSEADDR) != 0,
						  (flags & TW_FD_PROGRAM_REUSEPORT) != 0);
	if (plan.reuseaddr)
		set_flag_option(fd, SO_REUSEADDR, "SO_REUSEADDR");
	if (plan.reuseport)
		set_flag_option(fd, SO_REUSEPORT, "SO_REUSEPORT");
	bool changed = plan.reuseaddr || plan.reuseport;
	if (changed)
		tw_stat_inc(TW_ST_REUSE_BINDS);
out:
	errno = saved;
}
