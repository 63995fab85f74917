/* twshim — sendto()/sendmsg() with MSG_FASTOPEN: TCP Fast Open connects
 * the socket and sends in one call, so it is a connect() to the policy
 * (same decision, same pinning and linger).  Every other send costs one
 * flag test; nothing of the caller's is read without MSG_FASTOPEN. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "callermem.h"
#include "client.h"
#include "hook.h"
#include "real.h"
#include "runtime.h"

union dst_copy {
	struct sockaddr sa;
	struct sockaddr_storage ss;
};

/* A copy of an IPv4/IPv6 destination of alen bytes at addr, read without
 * faulting; false for anything the policy leaves alone. */
static bool copy_dst(union dst_copy *d, const void *addr, socklen_t alen)
{
	return addr && alen >= sizeof(struct sockaddr_in) && alen <= sizeof(*d) &&
	       tw_copy_from_caller(d, addr, alen) &&
	       (d->sa.sa_family == AF_INET || d->sa.sa_family == AF_INET6);
}

static bool fastopen_applies(int flags)
{
	return (flags & MSG_FASTOPEN) && tw_active() && tw_rt.client_actions;
}

static ssize_t real_sendto(int fd, const struct tw_connect_op *op)
{
	return libc_sendto(fd, op->a, op->n, op->flags, op->b, op->alen);
}

TW_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	union dst_copy d;

	if (!fastopen_applies(flags) || !copy_dst(&d, addr, alen))
		return libc_sendto(fd, buf, n, flags, addr, alen);
	struct tw_connect_op op = {
		.call = real_sendto, .a = buf, .b = addr, .n = n, .flags = flags, .alen = alen,
	};
	return tw_client_connect(fd, &d.sa, alen, &op, tw_fd_see(fd));
}

static ssize_t real_sendmsg(int fd, const struct tw_connect_op *op)
{
	return libc_sendmsg(fd, op->a, op->flags);
}

TW_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m;
	union dst_copy d;

	if (!fastopen_applies(flags) || !tw_copy_from_caller(&m, msg, sizeof(m)) ||
	    !copy_dst(&d, m.msg_name, m.msg_namelen))
		return libc_sendmsg(fd, msg, flags);
	struct tw_connect_op op = { .call = real_sendmsg, .a = msg, .flags = flags };
	return tw_client_connect(fd, &d.sa, m.msg_namelen, &op, tw_fd_see(fd));
}
