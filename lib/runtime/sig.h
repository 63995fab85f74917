/* twshim — counters when the process is stopped by a signal, and on demand.
 *
 * Design (why not a plain handler, why not wrapping every handler):
 * - SIGTERM and SIGINT, only when the summary is wanted (TWSHIM_LOG=info or
 *   more): the library's handler stands in for SIG_DFL only.
 *   It is installed at load when the disposition is SIG_DFL (a constructor
 *   runs before main, so the program has no handler yet; SIG_IGN inherited
 *   through exec is left alone).  It writes the summary line with write(2)
 *   and async-signal-safe formatting, restores SIG_DFL and re-raises: the
 *   process dies of the same signal, as without the library.  The program
 *   never sees it: sigaction()/signal() report SIG_DFL while it is there
 *   (Python, shells and others decide by what they read), and setting a
 *   handler or SIG_IGN replaces it for good, so the program's handler runs
 *   exactly as without the library (its exit() prints the summary through
 *   the destructor; an _exit() from its handler prints none).
 * - TWSHIM_STATS_SIGNAL (USR1 or USR2, off by default): the library's
 *   handler stays installed and chains: it writes the counters, then calls
 *   the handler the program set (with SA_SIGINFO arguments when asked),
 *   under the program's own sa_mask and flags.  The signal's default action
 *   (terminate) is taken over: the operator chose it for the counters.
 * Interposed sigaction() writes the caller's memory only after the real
 * call (the kernel) accepted it, so bad pointers still get EFAULT. */
#ifndef TWSHIM_SIG_H
#define TWSHIM_SIG_H

#include <signal.h>
#include <stdbool.h>

/* At load, once the policy is known: exit_summary when the summary line is
 * wanted (TWSHIM_LOG=info or more); stats_signal may be 0. */
void tw_sig_init(bool exit_summary, int stats_signal);

/* The interposed sigaction()'s work; libc's result and errno. */
int tw_sig_action(int sig, const struct sigaction *act, struct sigaction *oldact);
/* Is sig one the library watches (then signal() goes through tw_sig_action)? */
bool tw_sig_watched(int sig);

#endif
