/* twshim — conventions for the interposers.
 *
 * The library is built with -fvisibility=hidden; TW_EXPORT marks the only
 * symbols it exports: the libc functions it interposes.  Each interposer is
 * a trampoline: it calls the real function through libc_*() and keeps the
 * policy work in the runtime.  Contract for every hook: the caller gets the
 * real call's result and errno; side actions save and restore errno. */
#ifndef TWSHIM_HOOK_H
#define TWSHIM_HOOK_H

#include <sys/socket.h>

#define TW_EXPORT __attribute__((visibility("default")))

/* glibc exports these aliases without declaring them in public headers. */
int __connect(int fd, const struct sockaddr *addr, socklen_t len);
int __close(int fd);
int fcntl64(int fd, int cmd, ...);

#endif
