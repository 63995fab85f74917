/* twshim — conventions for the interposers.
 *
 * The library is built with -fvisibility=hidden; TW_EXPORT marks the only
 * symbols it exports: the libc functions it interposes.  Each interposer is
 * a screen: it decides cheaply whether the call concerns the library at
 * all (tw_active(), the policy's switches, a safe copy of the caller's
 * address), then calls the runtime (lib/runtime) and the real function
 * through libc_*(); the policy work is in the runtime (on the hottest
 * paths, close() and socket(), as inline functions of its headers).  One
 * exception, to save a function call on every setsockopt(): it maps the
 * option to its "the program chose this" flag itself (most options
 * concern us not).
 * Contract for every hook: the caller gets the real call's result and
 * errno; side actions save and restore errno. */
#ifndef TWSHIM_HOOK_H
#define TWSHIM_HOOK_H

#include <sys/socket.h>

#define TW_EXPORT __attribute__((visibility("default")))

/* glibc exports these aliases without declaring them in public headers. */
int __connect(int fd, const struct sockaddr *addr, socklen_t len);
int __close(int fd);
int fcntl64(int fd, int cmd, ...);

#endif
