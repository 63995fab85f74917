/* twshim — summary on SIGTERM/SIGINT and counters on demand (see sig.h). */
#include "sig.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "real.h"
#include "stats.h"

enum { W_TERM, W_INT, W_STATS, W__COUNT };

/* The program's view of one watched signal.  Read in the handler, so only
 * lock-free atomics; the mask lives in the kernel's copy of our action. */
struct watched {
	_Atomic int sig;        /* 0: not watched */
	atomic_bool ours;       /* our handler is the kernel's disposition */
	_Atomic uintptr_t prog; /* W_STATS: the program's handler (SIG_DFL, SIG_IGN or a function) */
	_Atomic int prog_flags; /* W_STATS: the program's sa_flags */
};

static struct watched w[W__COUNT];

static struct watched *find(int sig)
{
	if (sig <= 0)
		return NULL;
	for (unsigned i = 0; i < W__COUNT; i++)
		if (atomic_load_explicit(&w[i].sig, memory_order_acquire) == sig)
			return &w[i];
	return NULL;
}

bool tw_sig_watched(int sig)
{
	return find(sig) != NULL;
}

static void on_exit_signal(int sig, siginfo_t *info, void *uc)
{
	(void)info;
	(void)uc;
	int saved = errno;
	const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
	tw_stats_log_summary(name, false);
	/* Die of the same signal, as with SIG_DFL: it is blocked while we run,
	 * so it is delivered (and kills) as soon as this handler returns. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	libc_sigaction(sig, &dfl, NULL);
	struct watched *x = find(sig);
	if (x)
		atomic_store_explicit(&x->ours, false, memory_order_relaxed);
	raise(sig);
	errno = saved;
}

static void on_stats_signal(int sig, siginfo_t *info, void *uc)
{
	int saved = errno;
	struct watched *x = &w[W_STATS];
	tw_stats_log_summary(sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", true);
	uintptr_t h = atomic_load_explicit(&x->prog, memory_order_acquire);
	int flags = atomic_load_explicit(&x->prog_flags, memory_order_relaxed);
	errno = saved;
	if (h == (uintptr_t)SIG_DFL || h == (uintptr_t)SIG_IGN)
		return;
	if (flags & SA_RESETHAND) /* what the kernel would have done to theirs */
		atomic_store_explicit(&x->prog, (uintptr_t)SIG_DFL, memory_order_release);
	if (flags & SA_SIGINFO) {
		void (*f)(int, siginfo_t *, void *) = (void (*)(int, siginfo_t *, void *))h;
		f(sig, info, uc);
	} else {
		void (*f)(int) = (void (*)(int))h;
		f(sig);
	}
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), const sigset_t *mask, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	/* SA_RESETHAND is emulated (on_stats_signal): ours must stay installed. */
	sa.sa_flags = (int)(((unsigned)flags & ~(unsigned)SA_RESETHAND) | (unsigned)SA_SIGINFO);
	return libc_sigaction(sig, &sa, NULL);
}

void tw_sig_init(bool exit_summary, int stats_signal)
{
	static const int exit_sigs[] = { [W_TERM] = SIGTERM, [W_INT] = SIGINT };
	struct sigaction cur;

	/* No summary wanted (below TWSHIM_LOG=info): no stand-in, so a program
	 * that reads its disposition by a path we do not interpose (sigset(),
	 * raw rt_sigaction, /proc/self/status) sees exactly SIG_DFL. */
	for (unsigned i = W_TERM; exit_summary && i <= W_INT; i++) {
		atomic_store_explicit(&w[i].sig, exit_sigs[i], memory_order_release);
		if (libc_sigaction(exit_sigs[i], NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_handler == SIG_DFL && install(exit_sigs[i], on_exit_signal, NULL, SA_RESTART) == 0)
			atomic_store_explicit(&w[i].ours, true, memory_order_release);
	}
	if (!stats_signal || libc_sigaction(stats_signal, NULL, &cur) != 0)
		return;
	atomic_store_explicit(&w[W_STATS].prog, (uintptr_t)cur.sa_handler, memory_order_relaxed);
	atomic_store_explicit(&w[W_STATS].prog_flags, cur.sa_flags, memory_order_relaxed);
	atomic_store_explicit(&w[W_STATS].sig, stats_signal, memory_order_release);
	if (install(stats_signal, on_stats_signal, &cur.sa_mask, SA_RESTART) == 0)
		atomic_store_explicit(&w[W_STATS].ours, true, memory_order_release);
}

/* What the program would read back: SIG_DFL for a stand-in, its own
 * handler and flags for the chained signal. */
static void program_view(struct watched *x, struct sigaction *out, const sigset_t *kmask)
{
	memset(out, 0, sizeof(*out));
	if (x == &w[W_STATS]) {
		out->sa_handler = (void (*)(int))atomic_load_explicit(&x->prog, memory_order_acquire);
		out->sa_flags = atomic_load_explicit(&x->prog_flags, memory_order_relaxed);
		out->sa_mask = *kmask;
	} else {
		out->sa_handler = SIG_DFL;
		sigemptyset(&out->sa_mask);
	}
}

int tw_sig_action(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	struct watched *x = find(sig);
	if (!x)
		return libc_sigaction(sig, act, oldact);

	bool was_ours = atomic_load_explicit(&x->ours, memory_order_acquire);
	/* The kernel validates act and oldact first: EFAULT and EINVAL come
	 * from it, and nothing of the caller's is read before. */
	int rc = libc_sigaction(sig, act, oldact);
	if (rc != 0)
		return rc;
	int saved = errno;
	if (was_ours && oldact) {
		sigset_t kmask = oldact->sa_mask; /* ours was installed with the program's mask */
		program_view(x, oldact, &kmask);
	}
	if (act) {
		bool dfl = act->sa_handler == SIG_DFL; /* 0 in either member of the union */
		if (x == &w[W_STATS]) {
			/* Keep ours in front, under the program's mask and flags. */
			atomic_store_explicit(&x->prog_flags, act->sa_flags, memory_order_relaxed);
			atomic_store_explicit(&x->prog, (uintptr_t)act->sa_handler, memory_order_release);
			atomic_store_explicit(&x->ours,
					      install(sig, on_stats_signal, &act->sa_mask,
						      act->sa_flags & (SA_RESTART | SA_ONSTACK | SA_NODEFER)) == 0,
					      memory_order_release);
		} else if (dfl) {
			/* SIG_DFL again: stand in for it again. */
			atomic_store_explicit(&x->ours, install(sig, on_exit_signal, NULL, SA_RESTART) == 0,
					      memory_order_release);
		} else {
			atomic_store_explicit(&x->ours, false, memory_order_release);
		}
	}
	errno = saved;
	return rc;
}
