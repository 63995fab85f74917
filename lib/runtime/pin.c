/* twshim — source-port pinning for client sockets (TWSHIM_PORTS); see pin.h.
 *
 * Set up lazily, by the first connect (or bind(ADDR:0)) that pins: a process
 * that never connects reads no /proc file and maps nothing.  All memory is
 * mmap'd once by tw_pin_init(); the connect path uses atomics
 * only (a cursor over the usable ports, a table of (port, destination)
 * pairs in use, the ports recently found busy), so it takes no lock that a
 * fork() could leave held and allocates nothing. */
#include "pin.h"
#include "pin_internal.h"
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "callermem.h"
#include "client_record.h"
#include "decide.h"
#include "fdtable.h"
#include "log.h"
#include "procsys.h"
#include "real.h"
#include "stats.h"
#include "twshim/ports.h"

/* Bind attempts (system calls) per connect before leaving the port to the
 * kernel; memory-only skips (busy pair, port known busy) are not counted. */
#define PIN_MAX_BINDS 64u
/* How long a port found busy is skipped before being tried again. */
#define PIN_BUSY_SECONDS 2u
/* Pair table: more slots than a process can have sockets in practice. */
#define PIN_PAIR_SLOTS 65536u

#define PROC_IPV4 "/proc/sys/net/ipv4"

struct tw_pin_state tw_pin;

bool tw_pin_active(void)
{
	return atomic_load_explicit(&tw_pin.active, memory_order_acquire);
}

/* ---- initialisation ---- */

/* A /proc/sys/net/ipv4 file, whole, into buf (NUL-terminated): false when
 * it cannot be read or did not fit. */
static bool read_text(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = tw_procsys_read_at(dirfd, name, buf, size);
	return n >= 0 && !tw_procsys_cut(n, size);
}

/* ip_local_reserved_ports into *out.  The list is short on almost every
 * system and fits the caller's buffer; a very long one (up to one entry
 * per port) is read again into scratch memory returned right after. */
static bool read_reserved(int dirfd, char *buf, size_t size, struct tw_port_bitmap *out)
{
	if (read_text(dirfd, "ip_local_reserved_ports", buf, size))
		return tw_ports_parse_reserved(buf, out);
	size_t scratch_size = 1u << 20;
	char *scratch = mmap(NULL, scratch_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		return false;
	bool ok = read_text(dirfd, "ip_local_reserved_ports", scratch, scratch_size) &&
		  tw_ports_parse_reserved(scratch, out);
	munmap(scratch, scratch_size);
	return ok;
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

/* Lazy set-up state (see tw_pin_ready()). */
enum { PIN_UNSET, PIN_LAZY, PIN_SETTING_UP, PIN_ON, PIN_FAILED };
static _Atomic int pin_state = PIN_UNSET;
static const struct tw_policy *pin_policy;
static _Atomic(pthread_t) pin_setter;

/* A forked child must not walk the same port sequence as its parent.  A
 * set-up that was running in another thread of the parent will never end
 * in the child: start it afresh there. */
static void pin_after_fork_child(void)
{
	int setting = PIN_SETTING_UP;

	atomic_compare_exchange_strong(&pin_state, &setting, PIN_LAZY);
	if (tw_pin_active())
		tw_cursor_reseed(&tw_pin.cursor, random_seed());
}

void tw_pin_defer_init(const struct tw_policy *p)
{
	if (!p || !tw_policy_actions(p).pin)
		return;
	pin_policy = p;
	atomic_store_explicit(&pin_state, PIN_LAZY, memory_order_release);
}

static atomic_bool atfork_registered;

bool tw_pin_wanted(void)
{
	int s = atomic_load_explicit(&pin_state, memory_order_relaxed);
	return s != PIN_UNSET && s != PIN_FAILED;
}

/* No lock: the thread that wins the state does the set-up; others wait for
 * it (a set-up takes tens of microseconds).  The same thread, re-entered
 * from a signal handler, does not wait.  The bound is only for a setter
 * that can never finish (cancelled inside its /proc reads, lost to a raw
 * clone()): it costs the waiters their pinning, not a hang.  It is far
 * above anything a loaded machine makes of tens of microseconds, so that
 * load never decides whether a connect is pinned. */
#define PIN_SETUP_WAIT_NS 5000000000LL

static bool pin_setup_slow(void)
{
	int s = PIN_LAZY;

	/* The fork handlers, registered here rather than at load (most
	 * processes never pin), before this thread can start a set-up.  No
	 * pthread_once: a signal handler re-entering here must not wait. */
	if (!atomic_exchange_explicit(&atfork_registered, true, memory_order_acq_rel))
		pthread_atfork(tw_pin_materialize_all, NULL, pin_after_fork_child);
	if (atomic_compare_exchange_strong(&pin_state, &s, PIN_SETTING_UP)) {
		atomic_store_explicit(&pin_setter, pthread_self(), memory_order_relaxed);
		s = tw_pin_init(pin_policy) ? PIN_ON : PIN_FAILED;
		atomic_store_explicit(&pin_state, s, memory_order_release);
		return s == PIN_ON;
	}
	if (s == PIN_SETTING_UP &&
	    !pthread_equal(atomic_load_explicit(&pin_setter, memory_order_relaxed), pthread_self())) {
		struct timespec t0, t;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while ((s = atomic_load_explicit(&pin_state, memory_order_acquire)) == PIN_SETTING_UP) {
			sched_yield();
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) >
			    PIN_SETUP_WAIT_NS)
				break;
		}
	}
	return s == PIN_ON || tw_pin_active();
}

bool tw_pin_ready(void)
{
	if (tw_pin_active())
		return true;
	return tw_pin_wanted() && pin_setup_slow();
}

bool tw_pin_init(const struct tw_policy *p)
{
	static char text[8192];
	static struct tw_port_bitmap reserved;
	struct tw_port_range eph = { 0, 0 };
	bool have_eph, usable_range = false;

	if (tw_pin_active() || !p || !tw_policy_actions(p).pin)
		return tw_pin_active();

	/* One path walk for both files: /proc/sys lookups are slow. */
	int dirfd = tw_procsys_open_dir("net/ipv4");
	have_eph = read_text(dirfd, "ip_local_port_range", text, sizeof(text)) &&
		   tw_ports_parse_range(text, &eph);
	if (p->ports == TW_PORTS_ABOVE && !have_eph) {
		tw_log(TW_LOG_ERROR, "TWSHIM_PORTS=above: cannot read %s/ip_local_port_range; "
				     "source ports are not pinned", PROC_IPV4);
	} else if (p->ports == TW_PORTS_ABOVE && !tw_ports_above(eph, &tw_pin.range)) {
		tw_log(TW_LOG_ERROR, "TWSHIM_PORTS=above: ip_local_port_range is %u-%u, there is no port "
				     "above it; source ports are not pinned (give TWSHIM_PORTS=LO-HI)",
				     (unsigned)eph.lo, (unsigned)eph.hi);
	} else {
		if (p->ports != TW_PORTS_ABOVE)
			tw_pin.range = p->port_range;
		usable_range = true;
		if (!read_reserved(dirfd, text, sizeof(text), &reserved)) {
			memset(&reserved, 0, sizeof(reserved));
			tw_warn("TWSHIM_PORTS: cannot read %s/ip_local_reserved_ports; no port is "
				"treated as reserved", PROC_IPV4);
		}
	}
	tw_procsys_close_dir(dirfd);
	if (!usable_range)
		return false;

	/* One mapping for everything the connect path touches. */
	size_t ports_bytes = 65536u * sizeof(uint16_t);
	size_t pairs_bytes = PIN_PAIR_SLOTS * sizeof(uint64_t);
	size_t busy_bytes = 65536u * sizeof(uint16_t);
	char *mem = mmap(NULL, ports_bytes + pairs_bytes + busy_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		tw_log(TW_LOG_ERROR, "TWSHIM_PORTS: out of memory; source ports are not pinned");
		return false;
	}
	tw_pin.ports = (uint16_t *)(void *)mem;
	size_t n = tw_ports_usable(tw_pin.range, &reserved, tw_pin.ports, 65536u);
	if (n == 0) {
		tw_log(TW_LOG_ERROR, "TWSHIM_PORTS: every port of %u-%u is listed in ip_local_reserved_ports; "
				     "source ports are not pinned",
				     (unsigned)tw_pin.range.lo, (unsigned)tw_pin.range.hi);
		munmap(mem, ports_bytes + pairs_bytes + busy_bytes);
		return false;
	}
	tw_pair_table_init(&tw_pin.pairs, (_Atomic uint64_t *)(void *)(mem + ports_bytes),
			   PIN_PAIR_SLOTS);
	tw_pin.busy_until = (_Atomic uint16_t *)(void *)(mem + ports_bytes + pairs_bytes);
	tw_cursor_init(&tw_pin.cursor, tw_pin.ports, (uint32_t)n, random_seed());
	tw_pin.keep_reuse_on_einval = p->reuseaddr;

	if (have_eph && tw_ports_overlap(tw_pin.range, eph))
		tw_warn("TWSHIM_PORTS=%u-%u overlaps the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range): pinned ports can take ports the "
			"kernel or a service would use",
			(unsigned)tw_pin.range.lo, (unsigned)tw_pin.range.hi, (unsigned)eph.lo,
			(unsigned)eph.hi);
	tw_debug("pinning client source ports to %u-%u (%zu usable ports)",
		(unsigned)tw_pin.range.lo, (unsigned)tw_pin.range.hi, n);

	atomic_store_explicit(&tw_pin.active, true, memory_order_release);
	return true;
}

/* ---- helpers ---- */

static uint16_t sa_port(const union tw_sockaddr *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port : a->in6.sin6_port);
}

void tw_sa_set_port(union tw_sockaddr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET)
		a->in.sin_port = htons(port);
	else
		a->in6.sin6_port = htons(port);
}

bool tw_sa_is_wildcard(const union tw_sockaddr *a)
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

int tw_pin_set_int(int fd, int level, int name, int value)
{
	return libc_setsockopt(fd, level, name, &value, sizeof(value));
}

uint16_t tw_pin_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint16_t)ts.tv_sec;
}

/* The clock of the busy hints, read at most once per search and only when
 * a port has a hint: most connects never read it. */
struct busy_clock {
	bool read;
	uint16_t now;
};

static uint16_t busy_clock_now(struct busy_clock *c)
{
	if (!c->read) {
		c->now = tw_pin_now_seconds();
		c->read = true;
	}
	return c->now;
}

static bool port_known_busy(uint16_t port, struct busy_clock *c)
{
	uint16_t until = atomic_load_explicit(&tw_pin.busy_until[port], memory_order_relaxed);
	/* wrap-safe: still in the future by less than half the clock's cycle */
	return until != 0 && (int16_t)(uint16_t)(until - busy_clock_now(c)) > 0;
}

void tw_pin_mark_busy(uint16_t port, uint16_t now)
{
	uint16_t until = (uint16_t)(now + PIN_BUSY_SECONDS);
	atomic_store_explicit(&tw_pin.busy_until[port], until ? until : 1u, memory_order_relaxed);
}

/* Reserve a (port, key) pair and bind fd to local with that port.
 * Returns 0 and the port, or the errno that stopped the search: EINVAL
 * (fd is already bound), EAGAIN (no port found within the bounds), or the
 * bind's own error.  errno is clobbered. */
int tw_pin_bind_port(int fd, union tw_sockaddr *local, socklen_t llen, uint64_t key,
			    uint16_t *port_out)
{
	uint32_t binds = 0;
	struct busy_clock clock = { false, 0 };

	/* Pass 0 skips the ports recently found busy; if that skipped some
	 * and found nothing, pass 1 tries them too: a hint may order the
	 * search but never makes a connect fall back to the kernel. */
	for (int pass = 0; pass < 2; pass++) {
		bool skipped = false;

		/* at most one cycle of this thread's draws over the range */
		for (uint32_t draws = 0; draws < tw_pin.cursor.n && binds < PIN_MAX_BINDS; draws++) {
			uint16_t port = tw_cursor_next(&tw_pin.cursor, NULL);

			if (pass == 0 && port_known_busy(port, &clock)) {
				skipped = true;
				continue;
			}
			/* Busy: a connection of ours to this destination has the
			 * port.  Full: so many pairs hash where this one would go
			 * that another port is a better try. */
			if (tw_pair_reserve(&tw_pin.pairs, port, key) != TW_PAIR_OK)
				continue;
			binds++;
			tw_sa_set_port(local, port);
			if (libc_bind(fd, &local->sa, llen) == 0) {
				*port_out = port;
				return 0;
			}
			int err = errno;
			tw_pair_release(&tw_pin.pairs, port, key);
			if (err != EADDRINUSE)
				return err;
			tw_stat_inc(TW_ST_PIN_RETRIES);
			tw_pin_mark_busy(port, busy_clock_now(&clock));
		}
		if (!skipped || binds >= PIN_MAX_BINDS)
			break;
	}
	return EAGAIN;
}

/* ---- connect ---- */

enum tw_pin_dst tw_pin_read_dst(int fd, uint32_t flags, const struct sockaddr *dst, socklen_t len,
			       void *out)
{
	const uint32_t known = TW_FD_BORN_TCP | TW_FD_CONNECTED | TW_FD_PROGRAM_REUSEADDR |
			       TW_FD_PROGRAM_NO_PORT | TW_FD_DEFERRED_PORT;
	if ((flags & known) != TW_FD_BORN_TCP || !tw_pin_ready())
		return TW_PIN_DST_UNREAD;

	int saved = errno;
	enum tw_pin_dst r = TW_PIN_DST_UNREAD;
	/* The option's int is the sockaddr's first 4 bytes (len >= 16). */
	if (libc_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, dst, sizeof(int)) != 0) {
		r = errno == EFAULT ? TW_PIN_DST_PASS : TW_PIN_DST_UNREAD;
		goto out;
	}
	/* That read proved the first page readable; a sockaddr running onto
	 * the next page (rare) is probed there too. */
	bool one_page = ((uintptr_t)dst & 4095u) + len <= 4096u;
	if (one_page)
		memcpy(out, dst, len);
	const struct sockaddr *sa = out;
	if ((one_page || tw_copy_from_caller(out, dst, len)) &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		r = TW_PIN_DST_REUSE_SET;
		goto out;
	}
	tw_pin_undo_reuse(fd);
	r = TW_PIN_DST_PASS;
out:
	errno = saved;
	return r;
}

void tw_pin_undo_reuse(int fd)
{
	int saved = errno;
	tw_pin_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 0);
	errno = saved;
}

void tw_pin_before_connect(int fd, const struct sockaddr *dst, socklen_t len, bool deferred,
			   struct tw_pin_ticket *t)
{
	uint32_t flags = (fd_flags(fd) & ~(uint32_t)TW_FD_DEFERRED_PORT) |
			 (deferred ? TW_FD_DEFERRED_PORT : 0);
	tw_pin_before_connect_key(fd, flags, dst, tw_dest_key(dst, len), false, t);
}

/* The program bound ADDR:0 (IP_BIND_ADDRESS_NO_PORT underneath): its ADDR,
 * into *local, to keep with the pinned port.  False if there is none. */
static bool deferred_address(int fd, union tw_sockaddr *local, socklen_t *llen)
{
	*llen = sizeof(*local);
	return libc_getsockname(fd, &local->sa, llen) == 0 &&
	       (local->sa.sa_family == AF_INET || local->sa.sa_family == AF_INET6) &&
	       sa_port(local) == 0;
}

void tw_pin_before_connect_key(int fd, uint32_t flags, const struct sockaddr *dst, uint64_t key,
			       bool reuse_set, struct tw_pin_ticket *t)
{
	int saved = errno;
	union tw_sockaddr local;
	socklen_t llen;

	t->active = false;
	t->port = 0;
	t->key = 0;
	/* Left alone: not set up, or the program manages its own port
	 * allocation (IP_BIND_ADDRESS_NO_PORT), or bound ADDR:0 and no
	 * address is there. */
	if (!tw_pin_ready() || key == 0 || (flags & TW_FD_PROGRAM_NO_PORT) ||
	    ((flags & TW_FD_DEFERRED_PORT) && !deferred_address(fd, &local, &llen))) {
		if (reuse_set)
			tw_pin_undo_reuse(fd);
		errno = saved;
		return;
	}
	if (!(flags & TW_FD_DEFERRED_PORT))
		llen = sa_wildcard(&local, dst->sa_family);

	/* A TIME_WAIT left on a pinned port keeps its socket's reuse flag:
	 * every socket bound in the range needs SO_REUSEADDR for the next
	 * bind there to succeed.  The program's own setting wins. */
	bool set_reuse = reuse_set || !(flags & TW_FD_PROGRAM_REUSEADDR);
	if (set_reuse && !reuse_set && tw_pin_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
		tw_stat_inc(TW_ST_SIDE_FAILURES);
		tw_warn("fd %d: setting SO_REUSEADDR failed (errno %d); source port not pinned", fd,
			errno);
		goto out;
	}

	uint16_t port = 0;
	int err = tw_pin_bind_port(fd, &local, llen, key, &port);
	if (err == 0) {
		t->active = true;
		t->port = port;
		t->key = key;
		tw_stat_inc(TW_ST_PINNED);
		tw_debug("fd %d: source port pinned to %u", fd, (unsigned)port);
		goto out;
	}
	/* Not pinned: leave the socket as we found it. */
	if (set_reuse && !(err == EINVAL && tw_pin.keep_reuse_on_einval))
		tw_pin_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 0);
	if (err == EINVAL) {
		/* Already bound (by the program, or an earlier connect): the
		 * kernel said so, no extra system call needed to ask. */
		goto out;
	}
	if (err != EAGAIN)
		tw_stat_inc(TW_ST_SIDE_FAILURES);
	tw_debug("fd %d: no pinned port (errno %d); the kernel chooses", fd, err);
	tw_pin_note_fallback();
out:
	errno = saved;
}

ssize_t tw_pin_after_connect(int fd, ssize_t rc, int *err, struct tw_pin_ticket *t,
			     const struct tw_connect_op *op)
{
	if (!t->active)
		return rc;
	if (rc >= 0 || tw_connect_pending_or_done(-1, *err))
		return rc;
	if (*err != EADDRNOTAVAIL) {
		/* Refused, unreachable…: the program sees exactly that. */
		tw_pair_release(&tw_pin.pairs, t->port, t->key);
		t->active = false;
		return rc;
	}
	int saved = errno;
	tw_pin_mark_busy(t->port, tw_pin_now_seconds());
	tw_pair_release(&tw_pin.pairs, t->port, t->key);
	t->port = 0;
	rc = tw_pin_replace_and_connect(fd, err, t, op);
	errno = saved;
	return rc;
}

/* Falling back is the one thing pinning cannot do silently: the range is
 * too small for what the program does (or taken by others), and the
 * connections now use the ephemeral range pinning was meant to spare.  The
 * first time in a process, then at most once a minute, with the count. */
#define FALLBACK_LOG_SECONDS 60

void tw_pin_note_fallback(void)
{
	static _Atomic int64_t next_log = INT64_MIN; /* CLOCK_MONOTONIC_COARSE seconds */
	struct timespec ts;

	/* counted even when no summary is wanted: the line below gives it */
	unsigned long count = atomic_fetch_add_explicit(&tw_stats[TW_ST_PIN_FALLBACK], 1,
							memory_order_relaxed) + 1;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	int64_t now = (int64_t)ts.tv_sec, due = atomic_load_explicit(&next_log, memory_order_relaxed);
	if (now < due || !atomic_compare_exchange_strong_explicit(&next_log, &due,
								  now + FALLBACK_LOG_SECONDS,
								  memory_order_relaxed,
								  memory_order_relaxed))
		return;
	tw_log(TW_LOG_ERROR, "TWSHIM_PORTS: no usable source port left in %u-%u (%u ports, each in use or held "
			     "by TIME_WAIT towards this destination); connections fall back to the kernel's "
			     "ephemeral ports (%lu so far; said at most once a minute)",
			     (unsigned)tw_pin.range.lo, (unsigned)tw_pin.range.hi, (unsigned)tw_pin.cursor.n,
			     count);
}

void tw_pin_release(uint16_t port, uint64_t key)
{
	if (tw_pin_active() && port)
		tw_pair_release(&tw_pin.pairs, port, key);
}

/* ---- bind(ADDR:0), getsockname, listen ---- */

int tw_pin_bind_port0(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno;

	/* A second bind must fail as it would have without the library. */
	tw_pin_materialize(fd);
	/* Deferring is known to this fd of this process only: every way of
	 * sharing the socket that the library sees (dup*, F_DUPFD, fork,
	 * posix_spawn, exec*) gives the socket its port first; see
	 * tw_pin_materialize_all(). */
	if (!tw_pin_ready() ||
	    tw_pin_set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) != 0) {
		errno = saved;
		return libc_bind(fd, addr, len);
	}
	/* The kernel checks ADDR and reports the real errors but allocates no
	 * port: a second bind to ADDR:P stays possible until connect. */
	errno = saved;
	int rc = libc_bind(fd, addr, len);
	int err = errno;
	if (rc != 0) {
		tw_pin_set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0);
		errno = err;
		return rc;
	}
	struct tw_fd_entry *e = tw_fd_claim(fd);
	if (e) {
		atomic_store_explicit(&tw_pin.deferred_seen, true, memory_order_relaxed);
		atomic_fetch_or_explicit(&e->flags, TW_FD_DEFERRED_PORT, memory_order_release);
	} else {
		/* Cannot remember it: give the socket its port now, as
		 * without the library. */
		tw_pin_set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0);
		if (libc_bind(fd, addr, len) != 0)
			tw_stat_inc(TW_ST_SIDE_FAILURES);
	}
	errno = err;
	return rc;
}

void tw_pin_materialize(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	uint64_t cookie;

	if (!e || !(atomic_load_explicit(&e->flags, memory_order_acquire) & TW_FD_DEFERRED_PORT))
		return;
	/* the record must still name fd's socket (one left by a socket closed
	 * out of sight is dropped) */
	if (!(tw_fd_current(fd, &e, &cookie) & TW_FD_DEFERRED_PORT))
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
		if (tw_pin_set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0) != 0 ||
		    libc_bind(fd, &a.sa, alen) != 0) {
			tw_stat_inc(TW_ST_SIDE_FAILURES);
			tw_warn("fd %d: could not give a port to a socket bound to port 0 (errno %d)",
				fd, errno);
		}
	}
	errno = saved;
}

void tw_pin_materialize_all(void)
{
	if (!atomic_load_explicit(&tw_pin.deferred_seen, memory_order_relaxed))
		return;
	int limit = tw_fd_limit();
	for (int fd = 0; fd < limit; fd++)
		tw_pin_materialize(fd);
}
