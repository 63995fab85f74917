/* twshim — source-port pinning for client sockets (TWSHIM_PORTS); see pin.h.
 *
 * All memory is mmap'd once by tw_pin_init(); the connect path uses atomics
 * only (a cursor over the usable ports, a table of (port, destination)
 * pairs in use, the ports recently found busy), so it takes no lock that a
 * fork() could leave held and allocates nothing. */
#include "pin.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "stats.h"
#include "twshim/ports.h"

/* Bind attempts (system calls) per connect before leaving the port to the
 * kernel; memory-only skips (busy pair, port known busy) are not counted. */
#define PIN_MAX_BINDS 64u
/* New sockets tried after connect() said EADDRNOTAVAIL. */
#define PIN_MAX_REPLACE 16u
/* How long a port found busy is skipped before being tried again. */
#define PIN_BUSY_SECONDS 2u
/* Pair table: more slots than a process can have sockets in practice. */
#define PIN_PAIR_SLOTS 65536u

#define PROC_PORT_RANGE "/proc/sys/net/ipv4/ip_local_port_range"
#define PROC_RESERVED "/proc/sys/net/ipv4/ip_local_reserved_ports"

static struct {
	atomic_bool active;
	bool keep_reuse_on_einval; /* TWSHIM_REUSEADDR may have set it on the program's bind */
	struct tw_port_range range;
	uint16_t *ports;
	struct tw_port_cursor cursor;
	struct tw_pair_table pairs;
	/* Ports whose bind failed with EADDRINUSE (a listener, a socket bound
	 * without SO_REUSEADDR): skipped without a system call for
	 * PIN_BUSY_SECONDS.  One 16-bit "busy until" per port, in seconds of
	 * CLOCK_MONOTONIC_COARSE (vDSO, no system call); 0 means never. */
	_Atomic uint16_t *busy_until;
} pin;

union tw_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

bool tw_pin_active(void)
{
	return atomic_load_explicit(&pin.active, memory_order_acquire);
}

/* ---- initialisation ---- */

/* Read a small /proc file into buf (NUL-terminated); false on failure. */
static bool read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return false;
	while (n + 1 < size) {
		/* Small reads: procfs allocates and zeroes a kernel buffer as
		 * large as the request, and this runs in every process start. */
		size_t want = size - 1 - n < 4096 ? size - 1 - n : 4096;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	libc_close(fd);
	buf[n] = '\0';
	return n + 1 < size; /* a full buffer means the text was cut */
}

static uint64_t random_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* No entropy yet (early boot): the kernel's per-exec random bytes,
	 * mixed with what differs between a parent and its children. */
	const unsigned char *at = (const unsigned char *)getauxval(AT_RANDOM);
	if (at)
		memcpy(&seed, at, sizeof(seed));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return seed ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
	       ((uint64_t)ts.tv_sec << 20);
}

/* A forked child must not walk the same port sequence as its parent. */
static void pin_after_fork_child(void)
{
	if (tw_pin_active())
		tw_cursor_reseed(&pin.cursor, random_seed());
}

bool tw_pin_init(const struct tw_policy *p)
{
	static char text[8192];
	static struct tw_port_bitmap reserved;
	struct tw_port_range eph = { 0, 0 };
	bool have_eph;

	if (tw_pin_active() || !p || p->ports == TW_PORTS_OFF)
		return tw_pin_active();

	have_eph = read_text(PROC_PORT_RANGE, text, sizeof(text)) &&
		   tw_ports_parse_range(text, &eph);
	if (p->ports == TW_PORTS_ABOVE) {
		if (!have_eph) {
			tw_error("TWSHIM_PORTS=above: cannot read %s; source ports are not pinned",
				 PROC_PORT_RANGE);
			return false;
		}
		if (!tw_ports_above(eph, &pin.range)) {
			tw_error("TWSHIM_PORTS=above: ip_local_port_range is %u-%u, there is no port "
				 "above it; source ports are not pinned (give TWSHIM_PORTS=LO-HI)",
				 (unsigned)eph.lo, (unsigned)eph.hi);
			return false;
		}
	} else {
		pin.range = p->port_range;
	}

	/* The list can be long (one entry per port at worst): read it into
	 * scratch memory that is returned right after. */
	size_t scratch_size = 1u << 20;
	char *scratch = mmap(NULL, scratch_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED) {
		tw_error("TWSHIM_PORTS: out of memory; source ports are not pinned");
		return false;
	}
	if (!read_text(PROC_RESERVED, scratch, scratch_size) ||
	    !tw_ports_parse_reserved(scratch, &reserved)) {
		memset(&reserved, 0, sizeof(reserved));
		tw_warn("TWSHIM_PORTS: cannot read %s; no port is treated as reserved", PROC_RESERVED);
	}
	munmap(scratch, scratch_size);

	/* One mapping for everything the connect path touches. */
	size_t ports_bytes = 65536u * sizeof(uint16_t);
	size_t pairs_bytes = PIN_PAIR_SLOTS * sizeof(uint64_t);
	size_t busy_bytes = 65536u * sizeof(uint16_t);
	char *mem = mmap(NULL, ports_bytes + pairs_bytes + busy_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		tw_error("TWSHIM_PORTS: out of memory; source ports are not pinned");
		return false;
	}
	pin.ports = (uint16_t *)(void *)mem;
	size_t n = tw_ports_usable(pin.range, &reserved, pin.ports, 65536u);
	if (n == 0) {
		tw_error("TWSHIM_PORTS: every port of %u-%u is listed in ip_local_reserved_ports; "
			 "source ports are not pinned",
			 (unsigned)pin.range.lo, (unsigned)pin.range.hi);
		munmap(mem, ports_bytes + pairs_bytes + busy_bytes);
		return false;
	}
	tw_pair_table_init(&pin.pairs, (_Atomic uint64_t *)(void *)(mem + ports_bytes),
			   PIN_PAIR_SLOTS);
	pin.busy_until = (_Atomic uint16_t *)(void *)(mem + ports_bytes + pairs_bytes);
	tw_cursor_init(&pin.cursor, pin.ports, (uint32_t)n, random_seed());
	pin.keep_reuse_on_einval = p->reuseaddr;

	if (have_eph && tw_ports_overlap(pin.range, eph))
		tw_warn("TWSHIM_PORTS=%u-%u overlaps the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range): pinned ports can take ports the "
			"kernel or a service would use",
			(unsigned)pin.range.lo, (unsigned)pin.range.hi, (unsigned)eph.lo,
			(unsigned)eph.hi);
	tw_debug("pinning client source ports to %u-%u (%zu usable ports)",
		(unsigned)pin.range.lo, (unsigned)pin.range.hi, n);

	pthread_atfork(NULL, NULL, pin_after_fork_child);
	atomic_store_explicit(&pin.active, true, memory_order_release);
	return true;
}

/* ---- helpers ---- */

static uint16_t sa_port(const union tw_sockaddr *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port : a->in6.sin6_port);
}

static void sa_set_port(union tw_sockaddr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET)
		a->in.sin_port = htons(port);
	else
		a->in6.sin6_port = htons(port);
}

static bool sa_is_wildcard(const union tw_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
}

/* The wildcard address of family, port 0. */
static socklen_t sa_wildcard(union tw_sockaddr *a, sa_family_t family)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = family;
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static uint32_t fd_flags(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	return e ? atomic_load_explicit(&e->flags, memory_order_acquire) : 0;
}

static int set_int(int fd, int level, int name, int value)
{
	return libc_setsockopt(fd, level, name, &value, sizeof(value));
}

static uint16_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint16_t)ts.tv_sec;
}

static bool port_known_busy(uint16_t port, uint16_t now)
{
	uint16_t until = atomic_load_explicit(&pin.busy_until[port], memory_order_relaxed);
	/* wrap-safe: still in the future by less than half the clock's cycle */
	return until != 0 && (int16_t)(uint16_t)(until - now) > 0;
}

static void mark_port_busy(uint16_t port, uint16_t now)
{
	uint16_t until = (uint16_t)(now + PIN_BUSY_SECONDS);
	atomic_store_explicit(&pin.busy_until[port], until ? until : 1u, memory_order_relaxed);
}

/* Reserve a (port, key) pair and bind fd to local with that port.
 * Returns 0 and the port, or the errno that stopped the search: EINVAL
 * (fd is already bound), EAGAIN (no port found within the bounds), or the
 * bind's own error.  errno is clobbered. */
static int bind_pinned_port(int fd, union tw_sockaddr *local, socklen_t llen, uint64_t key,
			    uint16_t *port_out)
{
	uint32_t binds = 0;
	uint16_t now = now_seconds();

	/* Pass 0 skips the ports recently found busy; if that skipped some
	 * and found nothing, pass 1 tries them too: a hint may order the
	 * search but never makes a connect fall back to the kernel. */
	for (int pass = 0; pass < 2; pass++) {
		bool skipped = false;

		/* at most one cycle of this thread's draws over the range */
		for (uint32_t draws = 0; draws < pin.cursor.n && binds < PIN_MAX_BINDS; draws++) {
			uint16_t port = tw_cursor_next(&pin.cursor, NULL);

			if (pass == 0 && port_known_busy(port, now)) {
				skipped = true;
				continue;
			}
			enum tw_pair_result r = tw_pair_reserve(&pin.pairs, port, key);
			if (r == TW_PAIR_BUSY)
				continue; /* a connection of ours to this destination has it */
			if (r == TW_PAIR_FULL)
				return EAGAIN;
			binds++;
			sa_set_port(local, port);
			if (libc_bind(fd, &local->sa, llen) == 0) {
				*port_out = port;
				return 0;
			}
			int err = errno;
			tw_pair_release(&pin.pairs, port, key);
			if (err != EADDRINUSE)
				return err;
			tw_stat_inc(TW_ST_PIN_RETRIES);
			mark_port_busy(port, now);
		}
		if (!skipped || binds >= PIN_MAX_BINDS)
			break;
	}
	return EAGAIN;
}

/* ---- connect ---- */

void tw_pin_before_connect(int fd, const struct sockaddr *dst, socklen_t len, bool deferred,
			   struct tw_pin_ticket *t)
{
	t->active = false;
	t->port = 0;
	t->key = 0;
	if (!tw_pin_active())
		return;
	uint64_t key = tw_dest_key(dst, len);
	if (key == 0)
		return;

	int saved = errno;
	uint32_t flags = fd_flags(fd);
	union tw_sockaddr local;
	socklen_t llen;

	if (flags & TW_FD_PROGRAM_NO_PORT)
		goto out; /* the program manages its own port allocation */
	if (deferred) {
		/* The program bound ADDR:0 (IP_BIND_ADDRESS_NO_PORT underneath):
		 * keep ADDR, choose the port now. */
		llen = sizeof(local);
		if (libc_getsockname(fd, &local.sa, &llen) != 0 ||
		    (local.sa.sa_family != AF_INET && local.sa.sa_family != AF_INET6) ||
		    sa_port(&local) != 0)
			goto out;
	} else {
		llen = sa_wildcard(&local, dst->sa_family);
	}

	/* A TIME_WAIT left on a pinned port keeps its socket's reuse flag:
	 * every socket bound in the range needs SO_REUSEADDR for the next
	 * bind there to succeed.  The program's own setting wins. */
	bool set_reuse = !(flags & TW_FD_PROGRAM_REUSEADDR);
	if (set_reuse && set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: setting SO_REUSEADDR failed (errno %d); source port not pinned", fd,
			errno);
		goto out;
	}

	uint16_t port = 0;
	int err = bind_pinned_port(fd, &local, llen, key, &port);
	if (err == 0) {
		t->active = true;
		t->port = port;
		t->key = key;
		tw_stat_inc(TW_ST_PINNED);
		tw_debug("fd %d: source port pinned to %u", fd, (unsigned)port);
		goto out;
	}
	/* Not pinned: leave the socket as we found it. */
	if (set_reuse && !(err == EINVAL && pin.keep_reuse_on_einval))
		set_int(fd, SOL_SOCKET, SO_REUSEADDR, 0);
	if (err == EINVAL) {
		/* Already bound (by the program, or an earlier connect): the
		 * kernel said so, no extra system call needed to ask. */
		goto out;
	}
	tw_stat_inc(TW_ST_PIN_FALLBACK);
	if (err != EAGAIN)
		tw_stat_inc(TW_ST_SIDE_FAILURES);
	tw_debug("fd %d: no pinned port (errno %d); the kernel chooses", fd, err);
out:
	errno = saved;
}

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

static bool connect_pending_or_done(int rc, int err)
{
	return rc == 0 || err == EINPROGRESS || err == EINTR || err == EALREADY || err == EISCONN;
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
	int s = socket(c->domain,
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
static int replace_and_connect(int fd, const struct sockaddr *dst, socklen_t len, int *err,
			       struct tw_pin_ticket *t)
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
		if (set_int(s, SOL_SOCKET, SO_REUSEADDR, 1) != 0 ||
		    bind_pinned_port(s, &c.local, c.llen, t->key, &port) != 0) {
			libc_close(s);
			break;
		}
		int rc = libc_connect(s, dst, len);
		int e = rc == 0 ? 0 : errno;
		if (rc != 0 && e == EADDRNOTAVAIL) {
			/* another process's connection to this destination: skip
			 * the port for a while (for every destination — cheap) */
			mark_port_busy(port, now_seconds());
			tw_pair_release(&pin.pairs, port, t->key);
			libc_close(s);
			continue;
		}
		if (!install(s, fd, c.cloexec)) {
			tw_pair_release(&pin.pairs, port, t->key);
			goto give_up;
		}
		tw_stat_inc(TW_ST_PIN_REPLACED);
		tw_debug("fd %d: 4-tuple in use; replaced by a socket pinned to %u", fd,
			 (unsigned)port);
		if (connect_pending_or_done(rc, e)) {
			t->active = true;
			t->port = port;
		} else {
			tw_pair_release(&pin.pairs, port, t->key);
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
		if (!sa_is_wildcard(&c.local)) {
			sa_set_port(&c.local, 0);
			if (set_int(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) != 0 ||
			    libc_bind(s, &c.local.sa, c.llen) != 0) {
				libc_close(s);
				goto give_up_unpinned;
			}
		}
		int rc = libc_connect(s, dst, len);
		int e = rc == 0 ? 0 : errno;
		if (!install(s, fd, c.cloexec))
			goto give_up_unpinned;
		tw_stat_inc(TW_ST_PIN_REPLACED);
		tw_stat_inc(TW_ST_PIN_FALLBACK);
		tw_debug("fd %d: 4-tuple in use; replaced by an unpinned socket", fd);
		*err = e;
		return rc;
	}

give_up:
	if (t->port)
		tw_pair_release(&pin.pairs, t->port, t->key);
	*t = none;
give_up_unpinned:
	tw_stat_inc(TW_ST_SIDE_FAILURES);
	tw_warn("fd %d: could not replace a socket whose pinned port was in use (errno %d)", fd,
		errno);
	*err = EADDRNOTAVAIL;
	return -1;
}

int tw_pin_after_connect(int fd, const struct sockaddr *dst, socklen_t len, int rc, int *err,
			 struct tw_pin_ticket *t)
{
	if (!t->active)
		return rc;
	if (connect_pending_or_done(rc, *err))
		return rc;
	if (*err != EADDRNOTAVAIL) {
		/* Refused, unreachable…: the program sees exactly that. */
		tw_pair_release(&pin.pairs, t->port, t->key);
		t->active = false;
		return rc;
	}
	int saved = errno;
	mark_port_busy(t->port, now_seconds());
	tw_pair_release(&pin.pairs, t->port, t->key);
	t->port = 0;
	rc = replace_and_connect(fd, dst, len, err, t);
	errno = saved;
	return rc;
}

void tw_pin_release(uint16_t port, uint64_t key)
{
	if (tw_pin_active() && port)
		tw_pair_release(&pin.pairs, port, key);
}

/* ---- bind(ADDR:0), getsockname, listen ---- */

int tw_pin_bind_port0(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno;

	/* A second bind must fail as it would have without the library. */
	tw_pin_materialize(fd);
	if (!tw_pin_active() || (fd_flags(fd) & TW_FD_PROGRAM_NO_PORT) ||
	    set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) != 0) {
		errno = saved;
		return libc_bind(fd, addr, len);
	}
	/* The kernel checks ADDR and reports the real errors but allocates no
	 * port: a second bind to ADDR:P stays possible until connect. */
	errno = saved;
	int rc = libc_bind(fd, addr, len);
	int err = errno;
	if (rc != 0) {
		set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0);
		errno = err;
		return rc;
	}
	struct tw_fd_entry *e = tw_fd_get(fd);
	if (e) {
		atomic_fetch_or_explicit(&e->flags, TW_FD_DEFERRED_PORT, memory_order_release);
	} else {
		/* Cannot remember it: give the socket its port now, as
		 * without the library. */
		set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0);
		if (libc_bind(fd, addr, len) != 0)
			tw_stat_inc(TW_ST_SIDE_FAILURES);
	}
	errno = err;
	return rc;
}

void tw_pin_materialize(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);

	if (!e || !(atomic_load_explicit(&e->flags, memory_order_acquire) & TW_FD_DEFERRED_PORT))
		return;
	if (!(atomic_fetch_and_explicit(&e->flags, ~(uint32_t)TW_FD_DEFERRED_PORT,
					memory_order_acq_rel) &
	      TW_FD_DEFERRED_PORT))
		return; /* another thread got there first */

	int saved = errno;
	union tw_sockaddr a;
	socklen_t alen = sizeof(a);
	if (libc_getsockname(fd, &a.sa, &alen) == 0 &&
	    (a.sa.sa_family == AF_INET || a.sa.sa_family == AF_INET6) && sa_port(&a) == 0) {
		/* bind ADDR:0 again, this time without IP_BIND_ADDRESS_NO_PORT:
		 * the kernel's own port choice, as the program expects */
		if (set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0) != 0 ||
		    libc_bind(fd, &a.sa, alen) != 0) {
			tw_stat_inc(TW_ST_SIDE_FAILURES);
			tw_warn("fd %d: could not give a port to a socket bound to port 0 (errno %d)",
				fd, errno);
		}
	}
	errno = saved;
}
