/* twshim — reading memory the program passed in, without ever faulting.
 *
 * A hook that must look at an argument before the real call (connect()'s
 * destination decides pinning and linger) cannot let the kernel validate the
 * pointer first.  Without the library a bad pointer gets EFAULT; the library
 * must not turn it into SIGSEGV.  errno is preserved. */
#ifndef TWSHIM_CALLERMEM_H
#define TWSHIM_CALLERMEM_H

#include <stdbool.h>
#include <stddef.h>

/* Copy n bytes from the caller's src to dst.  False (dst untouched) when any
 * of them is not readable: the caller then passes the call through and the
 * kernel reports EFAULT itself.  8 <= n <= 4096 (a sockaddr, a msghdr);
 * anything else is refused. */
bool tw_copy_from_caller(void *dst, const void *src, size_t n);

#endif
