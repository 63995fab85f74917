/* twshim — bind(): reuse options for servers, deferred ports for pinning
 * (lib/runtime/bind.c).  The screen: nothing to do unless pinning or reuse
 * is on and the address is IPv4/IPv6. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "bind.h"
#include "callermem.h"
#include "hook.h"
#include "pin.h"
#include "real.h"
#include "runtime.h"

TW_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	union {
		struct sockaddr sa;
		struct sockaddr_storage ss;
	} a;

	/* The address is read only through tw_copy_from_caller() (a bad
	 * pointer gets the kernel's EFAULT, never a fault here). */
	if (!tw_active() || (!tw_pin_wanted() && !tw_rt.reuse_actions) ||
	    len < sizeof(struct sockaddr_in) || len > sizeof(a) ||
	    !tw_copy_from_caller(&a, addr, len) ||
	    (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6))
		return libc_bind(fd, addr, len);
	return tw_bind(fd, addr, &a.sa, len);
}
