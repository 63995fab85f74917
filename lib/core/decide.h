/* twshim — what the policy does to one socket, as pure functions.
 *
 * The library's hooks (through lib/runtime) and the supervisor
 * (tools/supervise) ask these same questions of the same policy; they
 * differ only in how they learn the facts about a socket (the fd table of
 * this process, or getsockopt on a duplicate of another process's
 * socket).  No system calls, no process state: unit-tested in
 * tests/unit/test_decide.c.
 *
 * Order of the connect-time actions, in the hooks and the supervisor
 * alike: linger first, then the pinned bind.  For safe the TCP_LINGER2
 * setsockopt doubles as the test that the socket is TCP (every other
 * socket refuses it), which must come before any bind; and a pinned bind
 * that finds no port leaves the socket as the unpinned path would, with
 * its linger (pin_replace.c carries both options to a replacement
 * socket).  Without pinning, the connect hook may set the linger just
 * after the call instead (it acts at close either way; for safe only on a
 * socket known as TCP from socket()); the supervisor acts only before the
 * call it lets continue. */
#ifndef TWSHIM_DECIDE_H
#define TWSHIM_DECIDE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "twshim/policy.h"

/* The policy's modes as the booleans the code acts on: the one place that
 * maps TWSHIM_LINGER / TWSHIM_PORTS / TWSHIM_REUSE* to "is this on".
 * Everything is false under TWSHIM_DISABLE. */
struct tw_actions {
	bool linger; /* an option set at connect (TWSHIM_LINGER not off) */
	bool pin;    /* source-port pinning (TWSHIM_PORTS not off) */
	bool client; /* linger or pin: a connect() is worth looking at */
	bool reuse;  /* SO_REUSEADDR and/or SO_REUSEPORT before a bind() */
};

struct tw_actions tw_policy_actions(const struct tw_policy *p);

/* The socket option the linger mode sets at connect: the program's own
 * setting of that same option is left alone. */
enum tw_linger_option {
	TW_LINGER_OPT_NONE = 0,   /* off */
	TW_LINGER_OPT_SO_LINGER,  /* 0 / N: SO_LINGER {1,0} or {1,N} */
	TW_LINGER_OPT_TCP_LINGER2 /* safe: TCP_LINGER2 = -1 */
};

enum tw_linger_option tw_linger_option(const struct tw_policy *p);

/* SO_LINGER's value for modes 0 and N: {1,0} or {1,N}. */
struct linger tw_so_linger_value(const struct tw_policy *p);

/* TCP_LINGER2 value for safe: do_tcp_setsockopt() stores any negative
 * value as -1, "RST at the ACK of our FIN once orphaned". */
#define TW_LINGER2_SAFE (-1)

struct tw_connect_plan {
	bool selected;   /* destination selected by the rules */
	bool set_linger; /* linger to set now: SO_LINGER (0/N) or TCP_LINGER2 (safe) */
	bool pin;        /* bind to a pinned port */
};

/* What to do at a connect to dst under policy p, given whether pinning is
 * active (pin_active) and whether the program set the option this mode
 * would set (program_linger: SO_LINGER for 0/N, TCP_LINGER2 for safe):
 * the program's own choice is left alone.  safe never touches SO_LINGER,
 * so a program's own linger keeps working.  Only AF_INET/AF_INET6
 * destinations are ever selected. */
struct tw_connect_plan tw_plan_connect(const struct tw_policy *p, bool pin_active,
				       const struct sockaddr *dst, socklen_t len,
				       bool program_linger);

/* The supervisor cannot see the target's setsockopt() calls, so it infers
 * "the program set TCP_LINGER2" from the value the kernel reads back
 * (value) and net.ipv4.tcp_fin_timeout (fin_timeout, <= 0 if unknown):
 * never set, TCP_LINGER2 reads back tcp_fin_timeout; -1 means already
 * set to what safe would set.  A program that set exactly tcp_fin_timeout
 * is indistinguishable, and gets safe. */
bool tw_program_set_linger2(int value, int fin_timeout);

/* The local port of a bind address, in host order: true and *port when
 * addr is a full AF_INET/AF_INET6 address of len bytes, false otherwise
 * (*port untouched). */
bool tw_bind_port(const struct sockaddr *addr, socklen_t len, uint16_t *port);

/* Would a bind to addr get reuse options (before looking at the socket)?
 * A reuse option is on, the address has a non-zero port (port 0 asks the kernel for a fresh port: reuse gains
 * nothing there) and TWSHIM_REUSE_PORTS selects it. */
bool tw_reuse_wanted(const struct tw_policy *p, const struct sockaddr *addr, socklen_t len);

struct tw_reuse_plan {
	bool reuseaddr; /* set SO_REUSEADDR */
	bool reuseport; /* set SO_REUSEPORT */
};

/* Which reuse options to set on a socket reuse applies to, given which
 * ones the program set itself (those are left alone). */
struct tw_reuse_plan tw_plan_reuse(const struct tw_policy *p, bool program_reuseaddr,
				   bool program_reuseport);

#endif
