/* twshim — SO_REUSEADDR / SO_REUSEPORT before a server's bind(). */
#ifndef TWSHIM_REUSE_H
#define TWSHIM_REUSE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "decide.h"
#include "twshim/policy.h"

/* tw_reuse_wanted() (pure: would tw_reuse_before_bind() set anything for
 * this address, before looking at the socket?) is in lib/core/decide.h. */

/* Before the program's bind(fd, addr): set the requested reuse options if
 * fd is a TCP socket, the port is non-zero and selected, and the program
 * did not set that option itself.  errno preserved. */
void tw_reuse_before_bind(const struct tw_policy *p, int fd, const struct sockaddr *addr,
			  socklen_t len);

#endif
