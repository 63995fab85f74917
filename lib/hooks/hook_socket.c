/* twshim — socket(): a TCP socket made here is marked in the fd table
 * (client_record.h), so that its connect() needs no system call to learn
 * that it is TCP or that its record is its own; any other socket made here
 * clears what a socket closed out of sight left at its number. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "client_record.h"
#include "hook.h"
#include "real.h"
#include "runtime.h"

TW_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = libc_socket(domain, type, protocol);

	if (fd < 0 || !tw_active() || !tw_rt.client_actions)
		return fd;
	/* protocol 0 of an AF_INET/AF_INET6 stream socket is TCP */
	if ((domain == AF_INET || domain == AF_INET6) &&
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP))
		tw_fd_born_tcp(fd);
	else
		tw_fd_born_other(fd);
	return fd;
}
