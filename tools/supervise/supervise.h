/* twshim — `twshim run --supervise`: reach static and Go programs.
 *
 * LD_PRELOAD cannot reach a static binary or a Go program (Go makes its own
 * system calls).  The supervisor reaches them from outside: the target runs
 * under a seccomp filter that returns SECCOMP_RET_USER_NOTIF for connect()
 * (and bind() when reuse-on-bind is asked for); for each trapped call the
 * supervisor reads the sockaddr from the target's memory, takes a duplicate
 * of the socket with pidfd_getfd() (same open file description), applies
 * the library's own policy code to it (lib/runtime/client.h, pin.h,
 * reuse.h), closes the duplicate and lets the call continue
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  The target sees its own call's
 * result and errno, unchanged.
 *
 * What it covers and what it does not:
 * - TWSHIM_LINGER=0 and N: SO_LINGER set at connect, as in the library;
 *   covers every close path, exit included.
 * - TWSHIM_LINGER=safe: TCP_LINGER2 = -1 set at connect, as in the library;
 *   the kernel acts at the final release, so no close() is trapped and the
 *   guarantee is the library's (doc/ARCHITECTURE.md).
 * - TWSHIM_PORTS: pinned with the library's allocator; the supervisor never
 *   sees closes, so reservations are released lazily (oldest first once as
 *   many are held as the range has ports).  A pinned connect that fails
 *   with EADDRNOTAVAIL cannot be recovered (the call belongs to the
 *   target); the allocator's rotation makes that rare.  A program's own
 *   bind to ADDR:0 is left to the kernel (no deferred port).
 * - TWSHIM_REUSEADDR/REUSEPORT: bind() is trapped only when one is on.
 * - Threads: each notification names the calling thread; it is opened with
 *   pidfd_open(tid, PIDFD_THREAD) (Linux >= 6.9) or, on older kernels,
 *   pidfd_open() of the thread group leader read from /proc/TID/status.
 * - fork/exec: children inherit the filter; their calls come to the same
 *   supervisor.  When the target exits while descendants still run under
 *   the filter, a background copy of the supervisor keeps serving them
 *   (otherwise their connect() would fail with ENOSYS) and ends when the
 *   last of them does; the caller gets the target's status at once.
 * - Signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 are
 *   forwarded to the target (not when the terminal already sent the same
 *   signal to the target's process group).
 * - PR_SET_NO_NEW_PRIVS is required by unprivileged seccomp filters and is
 *   always set: a setuid/setgid or file-capability target runs WITHOUT its
 *   extra privileges (execve ignores the bits).  No privilege is gained.
 *   `twshim run` refuses such a target unless --force (tools/privs.h says
 *   when no_new_privs changes anything for the user running it).
 * - Only x86_64 (with the x32 ABI handled too).  Syscalls of the i386 ABI
 *   (int 0x80, 32-bit targets): connect, bind and socketcall fail with
 *   ENOSYS rather than escape; everything else passes.
 * - If the kernel lacks what is needed (seccomp user notification,
 *   pidfd_open, pidfd_getfd, permission to take the target's fds), nothing
 *   is run: one message on stderr and status 125.
 * - If the supervisor is killed, the target is killed too (PDEATHSIG): its
 *   trapped calls would otherwise fail with ENOSYS.  Its own children are
 *   not; their connect() then fails with ENOSYS (never unmanaged).
 * - TWSHIM_DISABLE=1: supervised, nothing changed.
 *
 * Cost: one round trip to the supervisor per connect.  On Linux >= 6.6 the
 * listener uses synchronous wake-up (the target wakes the supervisor on its
 * own CPU and waits for the answer), which removes most of the scheduler
 * latency: measured by bench/run.sh (supervised vs unsupervised static probe
 * in lock-step batches).  Older kernels: +30-50 us per connect, varying
 * with the load of the other core.  Other system calls, close() included,
 * are not slowed. */
#ifndef TWSHIM_SUPERVISE_H
#define TWSHIM_SUPERVISE_H

#include "twshim/policy.h"

/* Exit statuses when supervision could not be set up (shell conventions). */
#define TW_SUP_EXIT_SETUP 125   /* kernel lacks a feature, or setup failed */
#define TW_SUP_EXIT_NOEXEC 126  /* target found but not executable */
#define TW_SUP_EXIT_NOTFOUND 127 /* target not found */

/* Run argv[0] (searched in PATH) with argv under supervision with policy p.
 * Returns the target's exit status as a shell reports it (128 + signal
 * number if it was killed), or TW_SUP_EXIT_* with a message on stderr if
 * the target could not be started under supervision — it is never started
 * without it.  Signals are forwarded while the target runs.  Must be called
 * from a single-threaded process; blocks the forwarded signals and SIGCHLD
 * for the duration and restores the mask before returning. */
int tw_supervise_exec(const struct tw_policy *p, char *const argv[]);

/* Would a listener get synchronous wake-up on this kernel (for `twshim
 * doctor`)?  1 yes, 0 no, -1 this build has no supervisor.  Forks a child
 * that makes an allow-all filter with a listener and asks. */
int tw_supervise_sync_wakeup(void);

/* A build without the supervisor links supervise_off.c instead: the same
 * two functions, tw_supervise_exec saying in one line that --supervise is
 * not available and returning TW_EXIT_INVALID (2). */

#endif
