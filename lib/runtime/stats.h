/* twshim — counters for the exit summary (TWSHIM_LOG=info). Relaxed atomics. */
#ifndef TWSHIM_STATS_H
#define TWSHIM_STATS_H

#include <stdatomic.h>
#include <stdbool.h>

enum tw_stat {
	TW_ST_CONNECTS,          /* client sockets connecting to IPv4/IPv6 destinations (once each) */
	TW_ST_MATCHED,           /* ... whose destination the rules select */
	TW_ST_LINGER_SET,        /* SO_LINGER set at connect (modes 0 and N) */
	TW_ST_LINGER_KEPT,       /* program's own SO_LINGER (0/N) or TCP_LINGER2 (safe) left alone */
	TW_ST_LINGER2_SET,       /* safe: TCP_LINGER2=-1 set at connect */
	TW_ST_PINNED,            /* connects bound to a pinned port */
	TW_ST_PIN_RETRIES,       /* bind attempts that hit a busy port */
	TW_ST_PIN_REPLACED,      /* sockets replaced after EADDRNOTAVAIL */
	TW_ST_PIN_FALLBACK,      /* connects left to the kernel's port choice */
	TW_ST_REUSE_BINDS,       /* binds given SO_REUSEADDR/SO_REUSEPORT */
	TW_ST_SIDE_FAILURES,     /* side actions that failed and were skipped */
	TW_ST__COUNT,
};

extern _Atomic unsigned long tw_stats[TW_ST__COUNT];
/* Something will read the counters: the exit summary (TWSHIM_LOG=info or
 * more) or TWSHIM_STATS_SIGNAL.  Written once by the constructor before
 * tw_rt_active is published (release), so every hook that counts sees it.
 * When nothing will read them, counting costs a load, not a locked add. */
extern bool tw_stats_on;

static inline void tw_stat_inc(enum tw_stat s)
{
	if (tw_stats_on)
		atomic_fetch_add_explicit(&tw_stats[s], 1, memory_order_relaxed);
}

/* One line "… twshim[prog:pid]: info: summary connects=… …": at exit or on
 * SIGTERM/SIGINT (why names the signal) at TW_LOG_INFO when there was a
 * socket of interest; asked (TWSHIM_STATS_SIGNAL): "counters (SIGUSR1) …"
 * at any log level.  Async-signal-safe. */
void tw_stats_log_summary(const char *why, bool asked);

#endif
