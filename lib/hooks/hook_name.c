/* twshim — getsockname() and listen(): a socket the program bound to
 * ADDR:0 while pinning is on has no port yet (IP_BIND_ADDRESS_NO_PORT, the
 * port is chosen at connect).  A program that asks for its port, or
 * listens (Python's socketserver: bind(0), getsockname, listen), gets the
 * kernel's own choice first, exactly as without the library. */
#include <sys/socket.h>

#include "hook.h"
#include "pin.h"
#include "real.h"
#include "runtime.h"

TW_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (tw_active())
		tw_pin_materialize(fd); /* one load unless fd has a deferred port */
	return libc_getsockname(fd, addr, len);
}

TW_EXPORT int listen(int fd, int backlog)
{
	if (tw_active())
		tw_pin_materialize(fd);
	return libc_listen(fd, backlog);
}
