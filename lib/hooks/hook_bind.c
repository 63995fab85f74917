/* twshim — bind(): reuse options for servers, deferred ports for pinning. */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "callermem.h"
#include "client.h"
#include "client_record.h"
#include "fdtable.h"
#include "hook.h"
#include "pin.h"
#include "real.h"
#include "reuse.h"
#include "runtime.h"

static bool is_port_zero(const struct sockaddr *addr, socklen_t len)
{
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ((const struct sockaddr_in *)(const void *)addr)->sin_port == 0;
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ((const struct sockaddr_in6 *)(const void *)addr)->sin6_port == 0;
	return false;
}

static int hook_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	union {
		struct sockaddr sa;
		struct sockaddr_storage ss;
	} a;

	/* Nothing to do unless pinning or reuse is on; the address is read
	 * only through tw_copy_from_caller() (a bad pointer gets the kernel's
	 * EFAULT, never a fault here). */
	if (!tw_active() || (!tw_pin_wanted() && !tw_rt.reuse_actions) ||
	    len < sizeof(struct sockaddr_in) || len > sizeof(a) ||
	    !tw_copy_from_caller(&a, addr, len) ||
	    (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6))
		return libc_bind(fd, addr, len);

	struct tw_fd_entry *e;
	uint64_t cookie;
	uint32_t flags = tw_fd_current(fd, &e, &cookie);
	if (is_port_zero(&a.sa, len)) {
		/* The program picks a source address and leaves the port to the
		 * system: a client about to connect, whose port pinning picks. */
		if (tw_pin_wanted() && !(flags & TW_FD_PROGRAM_NO_PORT) && tw_is_tcp_socket(fd))
			return tw_pin_bind_port0(fd, addr, len);
		return libc_bind(fd, addr, len);
	}
	/* A deferred ADDR:0 binding is a bound socket to the program: a second
	 * bind must fail (EINVAL) as it would without the library. */
	if (flags & TW_FD_DEFERRED_PORT)
		tw_pin_materialize(fd);
	if (tw_rt.reuse_actions)
		tw_reuse_before_bind(&tw_rt.policy, fd, &a.sa, len);
	return libc_bind(fd, addr, len);
}

TW_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return hook_bind(fd, addr, len);
}
