/* twshim — TWSHIM_LINGER=safe at close time; see safe_close.h.
 *
 * Per managed close: one SO_COOKIE read (is this still the socket we
 * recorded?), one TCP_INFO read, and when nothing is in flight one
 * SO_LINGER {1,0}.  Waiting for acknowledgements is a sleep loop because
 * the kernel offers no "send queue empty" event. */
#include "safe_close.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "fdtable.h"
#include "log.h"
#include "pin.h"
#include "real.h"
#include "runtime.h"
#include "stats.h"
#include "twshim/decide.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static uint64_t socket_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0)
		return 0;
	return cookie;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pause_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	/* An interrupted pause just means the next snapshot comes early. */
	nanosleep(&ts, NULL);
}

static bool snapshot(int fd, struct tw_close_input *in)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_notsent_bytes) + sizeof(ti.tcpi_notsent_bytes))
		return false;
	in->tcp_state = ti.tcpi_state;
	in->unacked = ti.tcpi_unacked;
	in->notsent_bytes = ti.tcpi_notsent_bytes;
	return true;
}

static bool is_nonblocking(int fd)
{
	int fl = libc_fcntl_int(fd, F_GETFL, 0);
	return fl >= 0 && (fl & O_NONBLOCK);
}

static const enum tw_stat verdict_stat[] = {
	[TW_CLOSE_RST] = TW_ST_RST_IMMEDIATE,
	[TW_CLOSE_WAIT] = TW_ST_NORMAL_PENDING,
	[TW_CLOSE_NORMAL_PENDING] = TW_ST_NORMAL_PENDING,
	[TW_CLOSE_NORMAL_PEER_CLOSED] = TW_ST_NORMAL_PEER_CLOSED,
	[TW_CLOSE_NORMAL_STATE] = TW_ST_NORMAL_STATE,
	[TW_CLOSE_NORMAL_PROGRAM_LINGER] = TW_ST_NORMAL_PROGRAM_LINGER,
	[TW_CLOSE_NORMAL_SHARED] = TW_ST_NORMAL_SHARED,
};

/* How long closes may wait for acknowledgements.  The deadline is set by
 * the first wait, so a close that does not wait reads no clock; the exit
 * pass shares one budget across all its sockets. */
struct drain_budget {
	uint64_t budget_ns;   /* 0: never wait */
	uint64_t deadline_ns; /* 0: not started */
};

static uint64_t drain_remaining(struct drain_budget *d)
{
	uint64_t now = now_ns();
	if (!d->deadline_ns)
		d->deadline_ns = now + d->budget_ns;
	return now < d->deadline_ns ? d->deadline_ns - now : 0;
}

/* Decide for one recorded socket and set linger {1,0} when the RST loses
 * nothing. */
static void decide_and_apply(int fd, uint32_t flags, uint64_t cookie, bool shared,
			     struct drain_budget *drain, bool respect_nonblock)
{
	if (socket_cookie(fd) != cookie || cookie == 0) {
		tw_stat_inc(TW_ST_NORMAL_RECYCLED);
		return;
	}
	struct tw_close_input in = {
		.program_linger = (flags & TW_FD_PROGRAM_LINGER) != 0,
		.shared = shared,
		.may_wait = drain->budget_ns != 0,
	};
	if (!in.program_linger && !shared && !snapshot(fd, &in)) {
		tw_stat_inc(TW_ST_NORMAL_STATE);
		return;
	}

	bool waited = false;
	uint64_t pause = 0;
	enum tw_close_verdict v;
	while ((v = tw_decide_close(&in)) == TW_CLOSE_WAIT) {
		/* close() of a non-blocking socket never blocks without the
		 * library; it must not start blocking with it. */
		if (!waited && respect_nonblock && is_nonblocking(fd)) {
			in.may_wait = false;
			continue;
		}
		pause = tw_drain_next_pause_ns(pause, drain_remaining(drain));
		if (pause == 0) {
			in.may_wait = false;
			continue;
		}
		pause_ns(pause);
		waited = true;
		if (!snapshot(fd, &in))
			in.may_wait = false; /* keep the last view: data in flight */
	}

	if (v == TW_CLOSE_RST) {
		struct linger lg = { 1, 0 };
		if (libc_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0) {
			tw_stat_inc(TW_ST_SIDE_FAILURES);
			tw_warn("fd %d: setting SO_LINGER failed (errno %d); it closes normally", fd, errno);
			return;
		}
		tw_stat_inc(waited ? TW_ST_RST_AFTER_DRAIN : TW_ST_RST_IMMEDIATE);
		tw_debug("fd %d: safe close: RST%s", fd, waited ? " after drain" : "");
		return;
	}
	tw_stat_inc(verdict_stat[v]);
	tw_debug("fd %d: safe close: normal close (verdict %d)", fd, (int)v);
}

void tw_fd_note_dup(int oldfd, int newfd)
{
	struct tw_fd_entry *src = tw_fd_peek(oldfd);
	if (!src)
		return;
	uint32_t flags = atomic_load_explicit(&src->flags, memory_order_relaxed);
	if (!(flags & (TW_FD_SAFE | TW_FD_PINNED)))
		return;
	struct tw_fd_entry *dst = tw_fd_get(newfd);
	if (!dst) {
		/* Cannot follow the duplicate: make the original close normally. */
		atomic_fetch_or_explicit(&src->flags, TW_FD_FORKED, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&dst->pin_port, atomic_load_explicit(&src->pin_port, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&dst->pin_key, atomic_load_explicit(&src->pin_key, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&dst->cookie, atomic_load_explicit(&src->cookie, memory_order_relaxed),
			      memory_order_relaxed);
	/* Program-set options belong to the socket, so the duplicate has them too. */
	atomic_store_explicit(&dst->flags, flags | TW_FD_DUPED, memory_order_release);
	atomic_fetch_or_explicit(&src->flags, TW_FD_DUPED, memory_order_relaxed);
}

void tw_fd_before_close(int fd)
{
	tw_fd_before_close_as(fd, true);
}

void tw_fd_before_close_as(int fd, bool may_rst)
{
	struct tw_fd_entry rec;
	uint32_t flags = tw_fd_take(fd, &rec);
	if (!(flags & (TW_FD_SAFE | TW_FD_PINNED)))
		return;

	int saved = errno;
	uint64_t cookie = atomic_load_explicit(&rec.cookie, memory_order_relaxed);
	/* Another fd of ours still holding the socket keeps it alive: neither
	 * the RST nor the port release belongs to this close. */
	bool other_fd = (flags & TW_FD_DUPED) && tw_fd_cookie_in_use(cookie, fd);
	if ((flags & TW_FD_SAFE) && !may_rst) {
		tw_stat_inc(TW_ST_NORMAL_PENDING);
	} else if (flags & TW_FD_SAFE) {
		struct drain_budget drain = { tw_rt.policy.drain_ms * 1000000ull, 0 };
		decide_and_apply(fd, flags, cookie, other_fd || (flags & TW_FD_FORKED), &drain, true);
	}
	if ((flags & TW_FD_PINNED) && !other_fd)
		tw_pin_release(atomic_load_explicit(&rec.pin_port, memory_order_relaxed),
			       atomic_load_explicit(&rec.pin_key, memory_order_relaxed));
	errno = saved;
}

void tw_safe_exit_pass(void)
{
	int limit = tw_fd_limit();
	bool any = false;
	for (int fd = 0; fd < limit && !any; fd++) {
		struct tw_fd_entry *e = tw_fd_peek(fd);
		any = e && (atomic_load_explicit(&e->flags, memory_order_relaxed) & TW_FD_SAFE);
	}
	if (!any)
		return;

	int saved = errno;
	/* exit() flushes stdio after the library's destructor: push a socket's
	 * buffered output into the kernel now, or the RST could overtake it. */
	fflush(NULL);
	/* One budget for the whole pass: exit waits at most drain_ms in all. */
	struct drain_budget drain = { tw_rt.policy.drain_ms * 1000000ull, 0 };
	for (int fd = 0; fd < limit; fd++) {
		struct tw_fd_entry *e = tw_fd_peek(fd);
		if (!e)
			continue;
		uint32_t flags = atomic_load_explicit(&e->flags, memory_order_relaxed);
		if (!(flags & TW_FD_SAFE))
			continue;
		uint64_t cookie = atomic_load_explicit(&e->cookie, memory_order_relaxed);
		/* The kernel closes these when the process ends, and linger set
		 * now decides how.  Every fd of ours goes then, so duplicates
		 * within the process do not count as other holders: only the
		 * lowest fd of a socket decides.  Another process may outlive
		 * us, so a forked socket closes normally. */
		if (flags & TW_FD_DUPED) {
			bool lower = false;
			for (int o = 0; o < fd && !lower; o++) {
				struct tw_fd_entry *x = tw_fd_peek(o);
				lower = x && atomic_load_explicit(&x->flags, memory_order_relaxed) &&
					atomic_load_explicit(&x->cookie, memory_order_relaxed) == cookie;
			}
			if (lower)
				continue;
		}
		tw_stat_inc(TW_ST_EXIT_PASS);
		decide_and_apply(fd, flags, cookie, (flags & TW_FD_FORKED) != 0, &drain, false);
	}
	errno = saved;
}
