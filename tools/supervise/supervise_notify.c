/* twshim — one trapped connect()/bind(): read, duplicate, apply, continue.
 *
 * The policy code is the library's (lib/runtime/client.h, pin.h, reuse.h);
 * here is only the plumbing that turns a notification into "a duplicate of
 * the target's socket plus the sockaddr it passed". */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "decide.h"
#include "log.h"
#include "pin.h"
#include "procsys.h"
#include "reuse.h"
#include "supervise_internal.h"
#include "twshim/ports.h"

#define X32_BIT 0x40000000u
#define NR64_CONNECT 42u
#define NR64_BIND 49u

/* A pinned-port reservation the supervisor still counts as held. */
struct held_pin {
	uint16_t port;
	uint64_t key;
};

/* Direct-mapped cache of thread pidfds, by thread id (see caller_fd()). */
#define PIDFD_SLOTS 32

struct pidfd_slot {
	pid_t tid;
	int pidfd; /* -1: empty */
};

struct tw_sup_state {
	const struct tw_policy *p;
	struct pidfd_slot pidfds[PIDFD_SLOTS];
	const struct tw_sup_kernel *k;
	bool pin_active;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	/* Ring of reservations, oldest first.  The supervisor never sees a
	 * close (trapping close() would tax every close of the target), so it
	 * cannot release a reservation when its socket goes away.  Instead it
	 * keeps at most as many as the range has ports and releases the oldest
	 * to make room: with the allocator's rotation a port comes back to the
	 * same destination only after a full turn of the range, by which time
	 * a short probe connection is long closed (linger 0: gone at once;
	 * normal close: TIME_WAIT, which bind+connect with SO_REUSEADDR may
	 * reuse).  Long-lived connections beyond the range size can collide and
	 * then fail with EADDRNOTAVAIL, as the range would be full anyway. */
	struct held_pin *held;
	size_t held_cap, held_head, held_n;
	struct tw_sup_counts counts;
};

bool tw_sup_policy_traps_bind(const struct tw_policy *p)
{
	return tw_policy_actions(p).reuse;
}

/* How many ports pinning may use: the ring's size. */
static size_t pin_range_size(const struct tw_policy *p)
{
	struct tw_port_range eph, above;
	char text[64] = "";

	if (p->ports == TW_PORTS_RANGE)
		return (size_t)p->port_range.hi - p->port_range.lo + 1;
	if (tw_procsys_read("net/ipv4/ip_local_port_range", text, sizeof(text)) < 0)
		text[0] = '\0';
	if (!tw_ports_parse_range(text, &eph) || !tw_ports_above(eph, &above))
		return 1;
	return (size_t)above.hi - above.lo + 1;
}

struct tw_sup_state *tw_sup_state_new(const struct tw_policy *p, const struct tw_sup_kernel *k)
{
	struct tw_sup_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->p = p;
	st->k = k;
	for (size_t i = 0; i < PIDFD_SLOTS; i++)
		st->pidfds[i].pidfd = -1;
	/* The kernel may grow these structures: use its sizes, not ours. */
	st->req_size = k->sizes.seccomp_notif > sizeof(*st->req) ?
		k->sizes.seccomp_notif : sizeof(*st->req);
	st->resp_size = k->sizes.seccomp_notif_resp > sizeof(*st->resp) ?
		k->sizes.seccomp_notif_resp : sizeof(*st->resp);
	st->req = calloc(1, st->req_size);
	st->resp = calloc(1, st->resp_size);
	if (!st->req || !st->resp)
		goto fail;
	if (tw_policy_actions(p).pin) {
		st->pin_active = tw_pin_init(p);
		if (st->pin_active) {
			st->held_cap = pin_range_size(p);
			st->held = calloc(st->held_cap, sizeof(*st->held));
			if (!st->held)
				goto fail;
		}
	}
	return st;
fail:
	tw_sup_state_free(st);
	return NULL;
}

void tw_sup_state_free(struct tw_sup_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < PIDFD_SLOTS; i++)
		if (st->pidfds[i].pidfd >= 0)
			close(st->pidfds[i].pidfd);
	free(st->req);
	free(st->resp);
	free(st->held);
	free(st);
}

const struct tw_sup_counts *tw_sup_counts(const struct tw_sup_state *st)
{
	return &st->counts;
}

static void held_release_oldest(struct tw_sup_state *st)
{
	struct held_pin *h = &st->held[st->held_head];

	tw_pin_release(h->port, h->key);
	st->held_head = (st->held_head + 1) % st->held_cap;
	st->held_n--;
}

static void held_make_room(struct tw_sup_state *st)
{
	if (st->held_n >= st->held_cap)
		held_release_oldest(st);
}

static void held_push(struct tw_sup_state *st, const struct tw_pin_ticket *t)
{
	struct held_pin *h = &st->held[(st->held_head + st->held_n) % st->held_cap];

	h->port = t->port;
	h->key = t->key;
	st->held_n++;
}

/* Did the program set the option this mode sets?  Asked of the kernel:
 * the library's fd table is per process and says nothing about the target.
 * SO_LINGER (0/N) shows whether it is on.  TCP_LINGER2 (safe) reads back
 * tcp_fin_timeout when never set, so a program's own value shows only when
 * it differs from that (-1 means already set: nothing to do either). */
static bool program_set_linger(int fd, const struct tw_policy *p)
{
	switch (tw_linger_option(p)) {
	case TW_LINGER_OPT_NONE:
		return false;
	case TW_LINGER_OPT_SO_LINGER:
		break;
	case TW_LINGER_OPT_TCP_LINGER2: {
		static int fin_timeout = -1; /* read once: the supervisor's namespace */
		int v = 0;
		socklen_t len = sizeof(v);

		if (getsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &v, &len) != 0)
			return false;
		if (v < 0)
			return true;
		if (fin_timeout < 0) {
			char buf[32];
			char *end = buf;
			long t = 0;

			if (tw_procsys_read("net/ipv4/tcp_fin_timeout", buf, sizeof(buf)) >= 0)
				t = strtol(buf, &end, 10);
			fin_timeout = end != buf && t > 0 && t <= INT_MAX ? (int)t : 0;
		}
		return tw_program_set_linger2(v, fin_timeout);
	}
	}
	struct linger lg;
	socklen_t len = sizeof(lg);

	return getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff != 0;
}

/* Has the program bound the socket itself (any address or port)?  Such a
 * socket is left alone, as the library leaves it: pin.c learns that from
 * the library's fd table, which says nothing about another process, so
 * the supervisor asks the kernel before pinning. */
static bool program_bound(int fd)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	socklen_t len = sizeof(ss);
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return true; /* cannot tell: do not touch */
	if (ss.ss_family == AF_INET)
		return in->sin_port != 0 || in->sin_addr.s_addr != htonl(INADDR_ANY);
	if (ss.ss_family == AF_INET6)
		return in6->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
	return true;
}

static bool sockopt_on(int fd, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 && v != 0;
}

static void pin(struct tw_sup_state *st, int fd, const struct sockaddr *dst, socklen_t len)
{
	struct tw_pin_ticket t = { 0 };
	bool program_reuse;
	int one = 1;

	if (program_bound(fd))
		return;
	/* pin.c sets SO_REUSEADDR and, when no port is found, clears it
	 * again: put back a value the program had set itself. */
	program_reuse = sockopt_on(fd, SO_REUSEADDR);
	held_make_room(st);
	tw_pin_before_connect(fd, dst, len, false, &t);
	if (!t.active && st->held_n > st->held_cap / 2) {
		/* The range has fewer usable ports than its size (reserved
		 * ports, ports found busy): give back the older half, try once
		 * more. */
		while (st->held_n > st->held_cap / 2)
			held_release_oldest(st);
		tw_pin_before_connect(fd, dst, len, false, &t);
	}
	if (t.active)
		held_push(st, &t);
	else if (program_reuse && !sockopt_on(fd, SO_REUSEADDR))
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

static void apply_connect(struct tw_sup_state *st, int fd, const struct sockaddr *dst,
			  socklen_t len)
{
	struct tw_connect_plan plan;

	/* TWSHIM_DISABLE=1: supervised, but nothing is changed. */
	if (st->p->disabled || !tw_is_tcp_socket(fd)) {
		st->counts.skipped++;
		return;
	}
	plan = tw_plan_connect(st->p, st->pin_active, dst, len, program_set_linger(fd, st->p));
	if (!plan.selected) {
		st->counts.skipped++;
		return;
	}
	/* Linger, then pin: the hooks' order (decide.h says why). */
	if (plan.set_linger)
		tw_apply_linger(fd, st->p);
	if (plan.pin && st->held_cap > 0)
		pin(st, fd, dst, len);
	st->counts.applied++;
}

/* A pidfd for the calling thread's process, whose fd table holds the
 * socket.  The caller checks NOTIF_ID_VALID afterwards. */
static int open_caller(const struct tw_sup_state *st, pid_t tid)
{
	pid_t tgid;

	if (st->k->pidfd_thread)
		return tw_sup_pidfd_open(tid, PIDFD_THREAD);
	tgid = tw_sup_tgid_of(tid);
	if (tgid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return tw_sup_pidfd_open(tgid, 0);
}

static bool notif_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* A duplicate of the caller's fd, or -1 with errno.  On kernels with
 * PIDFD_THREAD the thread's pidfd is kept between notifications.  That is
 * sound against tid reuse: a thread pidfd names one task, pidfd_getfd()
 * fails with ESRCH once that task is gone (then it is opened afresh), and
 * the caller checks NOTIF_ID_VALID after this call: the notifying thread
 * was alive, holding its tid, from RECV until then, so a task that held
 * the same tid at the moment pidfd_getfd() succeeded was that thread.
 * Without PIDFD_THREAD the pidfd names the thread group, found through
 * /proc, and is opened for each call (a reused tid could name another
 * process whose pidfd would still work). */
static int caller_fd(struct tw_sup_state *st, pid_t tid, int target_fd, bool *no_pidfd)
{
	struct pidfd_slot *slot = &st->pidfds[(unsigned)tid % PIDFD_SLOTS];
	int pidfd, dup, err;

	if (st->k->pidfd_thread && slot->pidfd >= 0 && slot->tid == tid) {
		dup = tw_sup_pidfd_getfd(slot->pidfd, target_fd);
		if (dup >= 0 || errno != ESRCH)
			return dup;
	}
	if (slot->pidfd >= 0) {
		close(slot->pidfd);
		slot->pidfd = -1;
	}
	pidfd = open_caller(st, tid);
	*no_pidfd = pidfd < 0;
	if (pidfd < 0)
		return -1;
	dup = tw_sup_pidfd_getfd(pidfd, target_fd);
	err = errno;
	if (st->k->pidfd_thread) {
		slot->tid = tid;
		slot->pidfd = pidfd;
	} else {
		close(pidfd);
	}
	errno = err;
	return dup;
}

/* Pure: could the policy change anything for this call, judging by the
 * address?  (Whether the socket is TCP and what the program set itself
 * still needs the socket.) */
static bool wants_socket(const struct tw_sup_state *st, unsigned nr, const struct sockaddr *sa,
			 socklen_t len)
{
	if (st->p->disabled)
		return false;
	if (nr == NR64_BIND)
		return tw_reuse_wanted(st->p, sa, len);
	return tw_plan_connect(st->p, st->pin_active, sa, len, false).selected;
}

static void act(struct tw_sup_state *st, int listener, const struct seccomp_notif *req)
{
	const struct seccomp_data *d = &req->data;
	unsigned nr = d->nr & ~X32_BIT;
	int target_fd = (int)d->args[0];
	int addrlen = (int)d->args[2];
	struct sockaddr_storage ss;
	struct iovec local, remote;
	bool no_pidfd = false;
	int dup, err;

	if (nr == NR64_BIND)
		st->counts.binds++;
	else
		st->counts.connects++;
	/* A length the kernel would refuse: let it refuse. */
	if (addrlen < (int)sizeof(sa_family_t) || addrlen > (int)sizeof(ss) || d->args[1] == 0) {
		st->counts.skipped++;
		return;
	}
	memset(&ss, 0, sizeof(ss));
	local.iov_base = &ss;
	local.iov_len = (size_t)addrlen;
	remote.iov_base = (void *)(uintptr_t)d->args[1];
	remote.iov_len = (size_t)addrlen;
	if (process_vm_readv((pid_t)req->pid, &local, 1, &remote, 1, 0) != addrlen) {
		/* Bad pointer (the kernel answers EFAULT) or the caller is gone. */
		st->counts.skipped++;
		return;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		st->counts.skipped++;
		return;
	}
	/* Decided from the address alone when it can be: a call the policy
	 * leaves alone costs no pidfd_getfd, no validity check, no close. */
	if (!wants_socket(st, nr, (const struct sockaddr *)&ss, (socklen_t)addrlen)) {
		tw_debug("supervise: %s fd=%d tid=%d: not selected", nr == NR64_CONNECT ?
			 "connect" : "bind", target_fd, (int)req->pid);
		st->counts.skipped++;
		return;
	}
	dup = caller_fd(st, (pid_t)req->pid, target_fd, &no_pidfd);
	err = errno;
	/* Only now is it known that req->pid named the caller all along (for
	 * the memory read and the pidfd): it is still blocked in the call. */
	if (!notif_valid(listener, req->id)) {
		if (dup >= 0)
			close(dup);
		st->counts.gone++;
		return;
	}
	if (dup < 0 && no_pidfd) {
		tw_warn("supervise: cannot open a pidfd for thread %d: %s; call left alone",
			(int)req->pid, strerror(err));
		st->counts.skipped++;
		return;
	}
	if (dup < 0) {
		/* EBADF: the program's own mistake, which the kernel reports. */
		if (err != EBADF)
			tw_warn("supervise: pidfd_getfd(%d) of thread %d: %s; call left alone",
				target_fd, (int)req->pid, strerror(err));
		st->counts.skipped++;
		return;
	}
	tw_debug("supervise: %s fd=%d tid=%d", nr == NR64_CONNECT ? "connect" : "bind",
		 target_fd, (int)req->pid);
	if (nr == NR64_CONNECT)
		apply_connect(st, dup, (const struct sockaddr *)&ss, (socklen_t)addrlen);
	else if (nr == NR64_BIND)
		tw_reuse_before_bind(st->p, dup, (const struct sockaddr *)&ss, (socklen_t)addrlen);
	close(dup);
}

int tw_sup_handle_one(struct tw_sup_state *st, int listener)
{
	memset(st->req, 0, st->req_size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, st->req) != 0) {
		/* ENOENT: the caller was interrupted or died before we read it. */
		if (errno == EINTR || errno == ENOENT)
			return 0;
		return -errno;
	}
	st->counts.notifications++;
	act(st, listener, st->req);

	/* CONTINUE: the kernel runs the target's own call with the target's
	 * own arguments.  The usual TOCTOU caveat does not matter here: the
	 * supervisor only adds options to the target's socket, it makes no
	 * security decision from the arguments it read. */
	memset(st->resp, 0, st->resp_size);
	st->resp->id = st->req->id;
	st->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, st->resp) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}
