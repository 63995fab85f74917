/* twshim reap — remove TIME_WAIT sockets that match a scope, from outside
 * every process, through NETLINK_SOCK_DIAG (a filtered dump, then
 * SOCK_DESTROY per match, as `ss -K` does).
 *
 * reap_scope.c is pure (scope, durations, the decision, the kernel filter
 * program); reap_kernel.c talks to the kernel. */
#ifndef TWSHIM_TOOLS_REAP_H
#define TWSHIM_TOOLS_REAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twshim/policy.h"

#include "sockdiag.h"

/* TIME_WAIT lasts TCP_TIMEWAIT_LEN (60 s, fixed in the kernel); sock_diag
 * reports the time left in idiag_expires (ms), so age = 60 s - expires. */
#define TW_REAP_TIMEWAIT_MS 60000u

/* Which sockets a reaper may touch: destination rules with the library's
 * own syntax and matcher (TWSHIM_MATCH/TWSHIM_EXCLUDE forms; only the
 * match/exclude fields of `rules` are used) and local port ranges. */
struct tw_reap_scope {
	struct tw_policy rules;
	struct tw_port_list local; /* n == 0: any local port */
};

/* Add the rules or ranges of one option value (repeated options add up).
 * On a bad value returns false and writes why into err (item and reason). */
bool tw_reap_scope_add_match(struct tw_reap_scope *s, const char *value, char *err, size_t len);
bool tw_reap_scope_add_exclude(struct tw_reap_scope *s, const char *value, char *err, size_t len);
bool tw_reap_scope_add_ports(struct tw_reap_scope *s, const char *value, char *err, size_t len);
/* A scope must narrow something: --match or --local-ports. */
bool tw_reap_scope_is_set(const struct tw_reap_scope *s);
void tw_reap_scope_free(struct tw_reap_scope *s);

/* Does the scope cover this socket (any state)?  Exclude wins. */
bool tw_reap_scope_selects(const struct tw_reap_scope *s, const struct tw_sock *k);

/* "0", or a whole number with a unit: ms, s, m, h ("200ms", "1s", "5m").
 * At most max_ms. */
bool tw_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out);
#define TW_DURATION_FORMS "0, or a whole number followed by ms, s, m or h (e.g. 200ms, 1s, 1h)"

enum tw_reap_verdict {
	TW_REAP_SKIP,  /* not TIME_WAIT, or outside the scope */
	TW_REAP_YOUNG, /* in scope, younger than the minimum age */
	TW_REAP_YES,
};

/* The whole decision for one dumped socket.  For TW_REAP_YOUNG, *wait_ms
 * is how long until it becomes old enough. */
enum tw_reap_verdict tw_reap_decide(const struct tw_reap_scope *s, const struct tw_sock *k,
				    uint32_t expires_ms, uint64_t min_age_ms, uint64_t *wait_ms);

/* The kernel-side filter (INET_DIAG_REQ_BYTECODE) for the scope: it lets
 * through every socket the scope selects, and as few others as it can
 * express; user space decides exactly with tw_reap_decide.  Returns the
 * program's length (0: no useful filter fits in cap bytes, dump without
 * one). */
size_t tw_reap_bytecode(const struct tw_reap_scope *s, uint8_t *buf, size_t cap);

/* ---- kernel (reap_kernel.c) ---- */

/* Counts of one pass (or, summed, of a run). */
struct tw_reap_counts {
	unsigned long passes;
	unsigned long dumped;  /* sockets the kernel filter let through */
	unsigned long young;   /* in scope, not old enough yet */
	unsigned long reaped;  /* destroyed */
	unsigned long gone;    /* ended by itself between dump and destroy */
	unsigned long errors;  /* destroy or dump failures */
	int last_error;        /* errno of the last failure */
	uint64_t next_ms;      /* a young socket becomes old enough in this long (UINT64_MAX: none) */
};

/* A NETLINK_SOCK_DIAG socket of the current network namespace, or -errno. */
int tw_reap_open(void);

/* Can this kernel destroy sockets?  0: yes; -EOPNOTSUPP: built without
 * CONFIG_INET_DIAG_DESTROY; another -errno: the probe itself failed.
 * Sends SOCK_DESTROY for a socket that cannot exist. */
int tw_reap_probe(int fd);

/* CAP_NET_ADMIN in the effective set (what SOCK_DESTROY checks). */
bool tw_have_cap_net_admin(void);

/* One pass over both families: filtered dump, decision, destroy.  Fills
 * *c (passes = 1).  Returns 0, or -EPERM when the kernel refused a destroy for lack of
 * privilege (nothing else can succeed), or the -errno of a failed dump. */
int tw_reap_pass(int fd, const struct tw_reap_scope *s, const uint8_t *bc, size_t bclen,
		 uint64_t min_age_ms, struct tw_reap_counts *c);

#endif
