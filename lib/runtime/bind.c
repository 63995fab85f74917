/* twshim — the policy around a program's bind(); see bind.h. */
#include "bind.h"

#include <stdatomic.h>

#include "client.h"
#include "client_record.h"
#include "decide.h"
#include "fdtable.h"
#include "pin.h"
#include "real.h"
#include "reuse.h"
#include "runtime.h"

int tw_bind(int fd, const struct sockaddr *addr, const struct sockaddr *copy, socklen_t len)
{
	struct tw_fd_entry *e;
	uint64_t cookie;
	uint32_t flags = tw_fd_current(fd, &e, &cookie);
	uint16_t port;

	if (tw_bind_port(copy, len, &port) && port == 0) {
		/* The program picks a source address and leaves the port to the
		 * system: a client about to connect, whose port pinning picks. */
		if (tw_pin_wanted() && !(flags & TW_FD_PROGRAM_NO_PORT) &&
		    ((flags & TW_FD_BORN_TCP) || tw_is_tcp_socket(fd)))
			return tw_pin_bind_port0(fd, addr, len);
		return libc_bind(fd, addr, len);
	}
	/* A deferred ADDR:0 binding is a bound socket to the program: a second
	 * bind must fail (EINVAL) as it would without the library. */
	if (flags & TW_FD_DEFERRED_PORT)
		tw_pin_materialize(fd);
	if (tw_rt.reuse_actions)
		tw_reuse_before_bind(&tw_rt.policy, fd, copy, len);
	return libc_bind(fd, addr, len);
}
