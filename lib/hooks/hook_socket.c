/* twshim — socket(): a TCP socket made here is marked in the fd table
 * (client_record.h), so that its connect() needs no system call to learn
 * that it is TCP or that its record is its own. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "client_record.h"
#include "hook.h"
#include "real.h"
#include "runtime.h"

TW_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = libc_socket(domain, type, protocol);
	/* protocol 0 of an AF_INET/AF_INET6 stream socket is TCP */
	if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) &&
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP) && tw_active() && tw_rt.client_actions)
		tw_fd_born_tcp(fd);
	return fd;
}
