/* twshim — the policy around a program's bind(): reuse options for
 * servers, deferred ports for pinning. */
#ifndef TWSHIM_BIND_H
#define TWSHIM_BIND_H

#include <sys/socket.h>

/* The program's bind(fd, addr, len), with the policy around it.  copy is
 * an AF_INET/AF_INET6 copy of the caller's address, already read safely
 * (the hook's screen); addr is the caller's own pointer, handed to the
 * kernel unchanged.  Returns the bind's result with its errno. */
int tw_bind(int fd, const struct sockaddr *addr, const struct sockaddr *copy, socklen_t len);

#endif
