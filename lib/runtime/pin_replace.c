/* twshim — recovery for a pinned connect that found its 4-tuple taken.
 *
 * Another process (whose pair table we cannot see) may hold the same
 * (port, destination).  A socket whose connect() failed cannot be bound
 * again, so the way out is a new socket with the same flags, another
 * pinned port, dup3() onto the program's fd, and connect again. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fdtable.h"
#include "log.h"
#include "pin_internal.h"
#include "real.h"
#include "stats.h"

/* Options a program commonly sets before connect(), copied to a
 * replacement socket when they differ from a fresh socket's defaults.
 * IPV6_V6ONLY and SO_BINDTODEVICE matter for the connect itself, the rest
 * for the connection's behaviour.  Not copied: anything getsockopt cannot
 * read back (BPF filters, TCP_MD5SIG, ULPs), O_ASYNC/F_SETOWN, epoll. */
static const struct {
	int level, name;
} copied_options[] = {
	{ SOL_SOCKET, SO_KEEPALIVE },   { SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_SNDBUF },      { SOL_SOCKET, SO_LINGER },
	{ SOL_SOCKET, SO_PRIORITY },    { SOL_SOCKET, SO_MARK },
	{ SOL_SOCKET, SO_OOBINLINE },   { SOL_SOCKET, SO_RCVLOWAT },
	{ SOL_SOCKET, SO_RCVTIMEO },    { SOL_SOCKET, SO_SNDTIMEO },
	{ SOL_SOCKET, SO_BINDTODEVICE }, { SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_DONTROUTE },
	{ IPPROTO_TCP, TCP_NODELAY },   { IPPROTO_TCP, TCP_KEEPIDLE },
	{ IPPROTO_TCP, TCP_KEEPINTVL }, { IPPROTO_TCP, TCP_KEEPCNT },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT }, { IPPROTO_TCP, TCP_MAXSEG },
	{ IPPROTO_TCP, TCP_CORK },      { IPPROTO_TCP, TCP_SYNCNT },
	{ IPPROTO_TCP, TCP_LINGER2 },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT }, { IPPROTO_TCP, TCP_WINDOW_CLAMP },
	{ IPPROTO_TCP, TCP_CONGESTION }, { IPPROTO_TCP, TCP_FASTOPEN_CONNECT },
	{ IPPROTO_IP, IP_TOS },         { IPPROTO_IP, IP_TTL },
	{ IPPROTO_IP, IP_FREEBIND },    { IPPROTO_IP, IP_TRANSPARENT },
	{ IPPROTO_IPV6, IPV6_V6ONLY },  { IPPROTO_IPV6, IPV6_TCLASS },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS },
};
#define N_COPIED (sizeof(copied_options) / sizeof(copied_options[0]))
#define OPT_MAX 32

struct opt_snapshot {
	bool ok[N_COPIED];
	socklen_t len[N_COPIED];
	unsigned char val[N_COPIED][OPT_MAX];
};

static void snapshot_options(int fd, int domain, struct opt_snapshot *s)
{
	for (size_t i = 0; i < N_COPIED; i++) {
		s->ok[i] = false;
		if (copied_options[i].level == IPPROTO_IPV6 && domain != AF_INET6)
			continue;
		s->len[i] = OPT_MAX;
		s->ok[i] = getsockopt(fd, copied_options[i].level, copied_options[i].name,
				      s->val[i], &s->len[i]) == 0;
	}
}

static void copy_options(const struct opt_snapshot *old, int fd, int domain)
{
	struct opt_snapshot fresh;

	snapshot_options(fd, domain, &fresh);
	for (size_t i = 0; i < N_COPIED; i++) {
		if (!old->ok[i] || !fresh.ok[i] ||
		    (old->len[i] == fresh.len[i] &&
		     memcmp(old->val[i], fresh.val[i], old->len[i]) == 0))
			continue;
		unsigned char val[OPT_MAX];
		memcpy(val, old->val[i], old->len[i]);
		int level = copied_options[i].level, name = copied_options[i].name;
		if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF)) {
			/* the kernel reports twice what was set */
			int v;
			memcpy(&v, val, sizeof(v));
			v /= 2;
			memcpy(val, &v, sizeof(v));
		}
		if (libc_setsockopt(fd, level, name, val, old->len[i]) != 0)
			tw_debug("replacement socket: option %d/%d not copied (errno %d)", level,
				 name, errno);
	}
}


struct replace_ctx {
	int domain, type, protocol;
	int status_flags; /* F_GETFL */
	bool cloexec;
	union tw_sockaddr local; /* the old socket's address, port to be replaced */
	socklen_t llen;
	struct opt_snapshot opts;
};

static int new_like(const struct replace_ctx *c)
{
	int s = libc_socket(c->domain,
		       c->type | SOCK_CLOEXEC | ((c->status_flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0),
		       c->protocol);
	if (s >= 0)
		copy_options(&c->opts, s, c->domain);
	return s;
}

/* Put socket s in place of fd (same fd number, FD_CLOEXEC as before). */
static bool install(int s, int fd, bool cloexec)
{
	int r;

	do
		r = libc_dup3(s, fd, cloexec ? O_CLOEXEC : 0);
	while (r < 0 && errno == EINTR);
	libc_close(s);
	/* fd's record (the program's own options) now describes the new socket */
	struct tw_fd_entry *e = tw_fd_peek(fd);
	if (r >= 0 && e && atomic_load_explicit(&e->flags, memory_order_relaxed))
		atomic_store_explicit(&e->cookie, tw_socket_cookie(fd), memory_order_relaxed);
	return r >= 0;
}

/* connect() on a pinned socket failed with EADDRNOTAVAIL: another socket
 * (another process, which our pair table cannot see) holds the same
 * 4-tuple.  A socket whose connect failed cannot be bound again, so build
 * a new one and dup3() it onto the program's fd.
 *
 * Limits of this path (it should be rare: the pair table prevents it
 * within one process):
 * - options are copied only from the list above, when they differ from a
 *   fresh socket's; others the program set are lost;
 * - an epoll registration of the old socket is silently dropped (epoll
 *   watches the open file description, not the fd number), as are
 *   O_ASYNC/F_SETOWN;
 * - another thread using fd at this moment sees the old socket or the new
 *   one, never a closed fd.
 * Last resort: a new socket left to the kernel's own port choice, so the
 * program gets the result it would have got without the library. */
ssize_t tw_pin_replace_and_connect(int fd, int *err, struct tw_pin_ticket *t,
				   const struct tw_connect_op *op)
{
	static const struct tw_pin_ticket none = { false, 0, 0 };
	struct replace_ctx c;
	socklen_t ol = sizeof(int);
	int fl;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &c.domain, &ol) != 0 ||
	    (ol = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_TYPE, &c.type, &ol)) != 0 ||
	    (ol = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &c.protocol, &ol)) != 0 ||
	    (c.status_flags = libc_fcntl_int(fd, F_GETFL, 0)) < 0 ||
	    (fl = libc_fcntl_int(fd, F_GETFD, 0)) < 0)
		goto give_up;
	c.cloexec = (fl & FD_CLOEXEC) != 0;
	c.llen = sizeof(c.local);
	if (libc_getsockname(fd, &c.local.sa, &c.llen) != 0)
		goto give_up;
	snapshot_options(fd, c.domain, &c.opts);

	for (unsigned attempt = 0; attempt < PIN_MAX_REPLACE; attempt++) {
		int s = new_like(&c);
		if (s < 0)
			goto give_up;
		uint16_t port = 0;
		if (tw_pin_set_int(s, SOL_SOCKET, SO_REUSEADDR, 1) != 0 ||
		    tw_pin_bind_port(s, &c.local, c.llen, t->key, &port) != 0) {
			libc_close(s);
			break;
		}
		ssize_t rc = op->call(s, op);
		int e = rc >= 0 ? 0 : errno;
		if (rc < 0 && e == EADDRNOTAVAIL) {
			/* another process's connection to this destination: skip
			 * the port for a while (for every destination — cheap) */
			tw_pin_mark_busy(port, tw_pin_now_seconds());
			tw_pair_release(&tw_pin.pairs, port, t->key);
			libc_close(s);
			continue;
		}
		if (!install(s, fd, c.cloexec)) {
			tw_pair_release(&tw_pin.pairs, port, t->key);
			goto give_up;
		}
		tw_stat_inc(TW_ST_PIN_REPLACED);
		tw_debug("fd %d: 4-tuple in use; replaced by a socket pinned to %u", fd,
			 (unsigned)port);
		if (rc >= 0 || tw_connect_pending_or_done(-1, e)) {
			t->active = true;
			t->port = port;
		} else {
			tw_pair_release(&tw_pin.pairs, port, t->key);
			*t = none;
		}
		*err = e;
		return rc;
	}

	/* Last resort: the kernel's choice, keeping an address the program chose. */
	{
		*t = none;
		int s = new_like(&c);
		if (s < 0)
			goto give_up_unpinned;
		if (!tw_sa_is_wildcard(&c.local)) {
			tw_sa_set_port(&c.local, 0);
			if (tw_pin_set_int(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) != 0 ||
			    libc_bind(s, &c.local.sa, c.llen) != 0) {
				libc_close(s);
				goto give_up_unpinned;
			}
		}
		ssize_t rc = op->call(s, op);
		int e = rc >= 0 ? 0 : errno;
		if (!install(s, fd, c.cloexec))
			goto give_up_unpinned;
		tw_stat_inc(TW_ST_PIN_REPLACED);
		tw_debug("fd %d: 4-tuple in use; replaced by an unpinned socket", fd);
		tw_pin_note_fallback();
		*err = e;
		return rc;
	}

give_up:
	if (t->port)
		tw_pair_release(&tw_pin.pairs, t->port, t->key);
	*t = none;
give_up_unpinned:
	tw_stat_inc(TW_ST_SIDE_FAILURES);
	tw_warn("fd %d: could not replace a socket whose pinned port was in use (errno %d)", fd,
		errno);
	*err = EADDRNOTAVAIL;
	return -1;
}

