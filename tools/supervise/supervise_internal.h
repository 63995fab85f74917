/* twshim — the supervisor's pieces, shared between tools/supervise*.c. */
#ifndef TWSHIM_SUPERVISE_INTERNAL_H
#define TWSHIM_SUPERVISE_INTERNAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "twshim/policy.h"

/* Not in Debian 12's headers. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80 /* O_EXCL: pidfd_open() of a thread, Linux >= 6.9 */
#endif
/* Linux >= 6.6: the notifying thread wakes the supervisor on its own CPU
 * and sleeps until the answer, like a synchronous call (no scheduler
 * wake-up latency each way). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* ---- supervise_filter.c ---- */

/* Room for the longest filter tw_sup_build_filter() writes. */
#define TW_SUP_FILTER_MAX 32

/* Write the BPF program: on x86_64 (x32 ABI included) connect, and bind
 * when trap_bind, return SECCOMP_RET_USER_NOTIF, everything else is
 * allowed; on i386 connect/bind/socketcall(CONNECT|BIND) fail with ENOSYS;
 * any other architecture kills the process.  Pure.  Returns the number of
 * instructions, or 0 if cap is too small. */
size_t tw_sup_build_filter(struct sock_filter *out, size_t cap, bool trap_bind);

/* In the child: PR_SET_NO_NEW_PRIVS, then install the filter with a
 * listener.  Returns the listener fd, or -errno with *stage naming what
 * failed. */
int tw_sup_install_filter(bool trap_bind, const char **stage);

/* ---- supervise_kernel.c ---- */

int tw_sup_pidfd_open(pid_t pid, unsigned flags);
int tw_sup_pidfd_getfd(int pidfd, int fd);
int tw_sup_seccomp(unsigned op, unsigned flags, void *args);

/* What the running kernel offers, probed once in the supervisor. */
struct tw_sup_kernel {
	bool pidfd_thread; /* pidfd_open(tid, PIDFD_THREAD) works */
	struct seccomp_notif_sizes sizes;
};

/* Probe pidfd_open/pidfd_getfd/PIDFD_THREAD and the notification sizes.
 * On failure writes one line explaining what is missing into msg and
 * returns false. */
bool tw_sup_probe_kernel(struct tw_sup_kernel *k, char *msg, size_t msgsz);

/* Ask for synchronous wake-up on a listener.  True if the kernel has it;
 * false (and nothing changed) otherwise. */
bool tw_sup_set_sync_wakeup(int listener);

/* Thread group id of a thread, from /proc/TID/status; -1 if unknown. */
pid_t tw_sup_tgid_of(pid_t tid);

/* ---- supervise_notify.c ---- */

struct tw_sup_state;

/* Supervisor-side policy state (pin reservations); NULL on ENOMEM. */
struct tw_sup_state *tw_sup_state_new(const struct tw_policy *p,
				      const struct tw_sup_kernel *k);
void tw_sup_state_free(struct tw_sup_state *st);
/* Does the filter need bind() trapped for this policy? */
bool tw_sup_policy_traps_bind(const struct tw_policy *p);

/* Receive one notification from listener, act on it, answer CONTINUE.
 * Returns 0, or -errno of a listener failure that ends supervision. */
int tw_sup_handle_one(struct tw_sup_state *st, int listener);

/* Counters for the exit summary (TWSHIM_LOG=info). */
struct tw_sup_counts {
	unsigned long notifications, connects, binds, applied, skipped, gone;
};
const struct tw_sup_counts *tw_sup_counts(const struct tw_sup_state *st);

#endif
