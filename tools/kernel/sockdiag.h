/* twshim — TCP sockets of the current network namespace, from the kernel
 * via NETLINK_SOCK_DIAG (the interface ss uses), and their counts. */
#ifndef TWSHIM_TOOLS_SOCKDIAG_H
#define TWSHIM_TOOLS_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysctl.h"

/* Kernel TCP states 1-12 (12 is TCP_NEW_SYN_RECV, a request socket, shown
 * as SYN_RECV as ss does). */
#define TW_STATE_MAX 13

struct tw_sock {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t state;
	uint16_t sport, dport; /* host byte order */
	uint8_t src[16], dst[16];
};

typedef void (*tw_sock_fn)(const struct tw_sock *s, void *ctx);

/* Dump every TCP socket of one family.  Returns 0 or a negative errno. */
int tw_sockdiag_dump(int family, tw_sock_fn fn, void *ctx);

struct inet_diag_msg;
/* Per socket of a dump: s decoded, m the kernel's message (for what
 * tw_sock leaves out: idiag_expires, the id with its cookie).  0 goes on,
 * a negative errno ends the dump with that value. */
typedef int (*tw_diag_fn)(const struct tw_sock *s, const struct inet_diag_msg *m, void *ctx);

/* The one dump loop (stat and reap): on fd, a NETLINK_SOCK_DIAG socket,
 * ask for the TCP sockets of family whose state is in the states mask (bit
 * 1 << state), filtered in the kernel by bc (bclen bytes of
 * INET_DIAG_REQ_BYTECODE; none when bclen is 0), with sequence number seq
 * (answers with another seq are skipped); call fn for each.  Returns 0 or a
 * negative errno. */
int tw_sockdiag_dump_fd(int fd, int family, uint32_t states, const uint8_t *bc, size_t bclen,
			uint32_t seq, tw_diag_fn fn, void *ctx);

/* Name of a state ("TIME_WAIT"); NULL for an unknown number. */
const char *tw_state_name(unsigned state);

struct tw_cidr {
	uint8_t family; /* 0: no filter */
	uint8_t prefix;
	uint8_t addr[16];
};

/* "10.0.0.0/8", "::1", "fd00::/8"; an address alone is a host. */
bool tw_cidr_parse(const char *s, struct tw_cidr *out);

struct tw_reap_scope;

struct tw_stat_filter {
	unsigned sport_lo, sport_hi; /* 0-65535 when unfiltered */
	unsigned dport_lo, dport_hi;
	struct tw_cidr dst;
	unsigned states; /* bit (1 << state) per state kept; 0: every state */
	const struct tw_reap_scope *scope; /* a reaper's scope (reap.h), or NULL */
};

struct tw_dest_count {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	unsigned long count;
};

/* A growable list of per-destination counts. */
struct tw_dest_list {
	struct tw_dest_count *v;
	size_t n, cap;
};

struct tw_stat {
	/* context, filled by the caller */
	unsigned eph_lo, eph_hi;
	const struct tw_portset *reserved;
	struct tw_stat_filter filter;

	/* results */
	unsigned long total, ipv4, ipv6;
	unsigned long states[TW_STATE_MAX];
	unsigned long tw_ephemeral, tw_above, tw_reserved, tw_other;

	/* TIME_WAIT destinations; after tw_stat_finish, grouped and sorted by
	 * count, largest first */
	struct tw_dest_count *dest;
	size_t n_dest, cap_dest;
	/* How full the ephemeral range is: local ports of the range held by a
	 * socket (any state, any destination), and, when by_dest is set,
	 * sockets per destination with a local port in the range (connect()
	 * to one destination fails with EADDRNOTAVAIL when that count reaches
	 * the range's size). */
	bool by_dest;
	unsigned long eph_used;
	struct tw_dest_list eph_dest;
	uint64_t eph_bits[65536 / 64];
	bool oom;
};

void tw_stat_add(const struct tw_sock *s, void *stat);
void tw_stat_finish(struct tw_stat *st);
void tw_stat_free(struct tw_stat *st);

/* Address of a count as text (IPv4-mapped shown as IPv4). */
void tw_dest_str(const struct tw_dest_count *d, char *buf, size_t len);

#endif
