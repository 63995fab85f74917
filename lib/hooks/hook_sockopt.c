/* twshim — setsockopt(): remember the options the program chose itself,
 * so the library never overrides them.  The real call comes first: the
 * value is the kernel's to validate (EFAULT), and never read here. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "client_record.h"
#include "fdtable.h"
#include "hook.h"
#include "real.h"
#include "runtime.h"

static uint32_t program_choice_flag(int level, int name)
{
	if (level == SOL_SOCKET && name == SO_LINGER)
		return TW_FD_PROGRAM_LINGER;
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		return TW_FD_PROGRAM_REUSEADDR;
	if (level == SOL_SOCKET && name == SO_REUSEPORT)
		return TW_FD_PROGRAM_REUSEPORT;
	if (level == IPPROTO_TCP && name == TCP_LINGER2)
		return TW_FD_PROGRAM_LINGER2;
	if (level == IPPROTO_IP && name == IP_BIND_ADDRESS_NO_PORT)
		return TW_FD_PROGRAM_NO_PORT;
	return 0;
}

TW_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int rc = libc_setsockopt(fd, level, name, val, len);
	if (rc == 0 && tw_active()) {
		uint32_t flag = program_choice_flag(level, name);
		if (flag) {
			int saved = errno;
			/* a record names its socket: never add to one left by
			 * a socket closed out of sight */
			struct tw_fd_entry *e = tw_fd_claim(fd);
			if (e)
				atomic_fetch_or_explicit(&e->flags, flag, memory_order_relaxed);
			errno = saved;
		}
	}
	return rc;
}
