/* twshim — sigaction() and signal(): the program sees its own view of the
 * signals the library watches (SIGTERM, SIGINT, TWSHIM_STATS_SIGNAL); see
 * sig.h.  Every other signal, and every call before the library is active,
 * goes straight to libc. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "hook.h"
#include "real.h"
#include "runtime.h"
#include "sig.h"

TW_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	if (!tw_active())
		return libc_sigaction(sig, act, oldact);
	return tw_sig_action(sig, act, oldact);
}

/* glibc's signal() calls its internal sigaction, not ours: redo it here
 * with the same BSD semantics (SA_RESTART, the signal blocked in its
 * handler) for the watched signals. */
TW_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (!tw_active() || !tw_sig_watched(sig))
		return libc_signal(sig, handler);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = SA_RESTART;
	if (tw_sig_action(sig, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}
