/* twshim — source-port arithmetic for TWSHIM_PORTS, as pure functions.
 *
 * Sysctl text parsing, range arithmetic, the port cursor and the table of
 * (port, destination) pairs in use.  No system calls and no allocation:
 * the caller supplies every buffer (the library mmaps them once at load),
 * so all of it is unit-tested without sockets.  The cursor and the pair
 * table are lock-free (C11 atomics) and safe to use from many threads. */
#ifndef TWSHIM_PORTS_H
#define TWSHIM_PORTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "twshim/policy.h"

/* One bit per port 0-65535. */
#define TW_PORT_BITMAP_WORDS (65536u / 64u)
struct tw_port_bitmap {
	uint64_t w[TW_PORT_BITMAP_WORDS];
};

static inline bool tw_port_bit(const struct tw_port_bitmap *b, uint16_t port)
{
	return (b->w[port >> 6] >> (port & 63u)) & 1u;
}

static inline void tw_port_bit_set(struct tw_port_bitmap *b, uint16_t port)
{
	b->w[port >> 6] |= (uint64_t)1 << (port & 63u);
}

/* Text of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999\n"):
 * two numbers 1-65535, lo <= hi, separated by blanks.  false on anything
 * else (out is untouched). */
bool tw_ports_parse_range(const char *text, struct tw_port_range *out);

/* Text of /proc/sys/net/ipv4/ip_local_reserved_ports ("8080,9000-9010\n",
 * or empty): clears *out, then sets one bit per listed port.  false on
 * garbage (out is then cleared: nothing reserved). */
bool tw_ports_parse_reserved(const char *text, struct tw_port_bitmap *out);

/* TWSHIM_PORTS=above: (ephemeral.hi + 1)-65535.  false when the ephemeral
 * range already ends at 65535 (nothing above it). */
bool tw_ports_above(struct tw_port_range ephemeral, struct tw_port_range *out);

/* Do two inclusive ranges share a port? */
bool tw_ports_overlap(struct tw_port_range a, struct tw_port_range b);

/* Write the ports of r that are not reserved, ascending, into out (at most
 * cap of them); returns how many there are in total (may exceed cap).
 * reserved may be NULL.  Port 0 is never usable. */
size_t tw_ports_usable(struct tw_port_range r, const struct tw_port_bitmap *reserved,
		       uint16_t *out, size_t cap);

/* The cursor: walks the usable ports in a per-process pseudo-random cyclic
 * order (start + i * stride mod n, stride coprime with n), so that each
 * port comes back only after all the others and two processes with
 * different seeds do not walk in step.  Lock-free: one fetch_add per port. */
struct tw_port_cursor {
	const uint16_t *ports; /* usable ports, n of them */
	uint32_t n;
	uint32_t start;
	uint32_t stride;
	_Atomic uint32_t next;
};

void tw_cursor_init(struct tw_port_cursor *c, const uint16_t *ports, uint32_t n,
		    uint64_t seed);
/* Re-randomise start and stride (a forked child must not follow its
 * parent's sequence). */
void tw_cursor_reseed(struct tw_port_cursor *c, uint64_t seed);
/* Next port; 0 if the cursor is empty.  *wrapped (may be NULL) is set true
 * when this call began a new cycle over the range. */
uint16_t tw_cursor_next(struct tw_port_cursor *c, bool *wrapped);

/* Destination key: a 64-bit hash of the family-normalised address (an
 * IPv4-mapped IPv6 address hashes like the IPv4 address) and port.
 * 0 for anything that is not AF_INET/AF_INET6 of sufficient length. */
uint64_t tw_dest_key(const struct sockaddr *sa, socklen_t len);

/* The (port, destination) pairs this process holds: caller-provided slots
 * (a power of two, at least TW_PAIR_BUCKET) in buckets of TW_PAIR_BUCKET,
 * one 64-bit word per pair (port << 48 | 47 bits of the key) in the bucket
 * its hash names, inserted with CAS.  A pair is never present twice while
 * held, even under concurrent reserves; a released slot is free at once. */
#define TW_PAIR_BUCKET 8u /* 64 bytes: one cache line */

struct tw_pair_table {
	_Atomic uint64_t *slots;
	uint32_t bucket_mask; /* number of buckets - 1 */
};

enum tw_pair_result {
	TW_PAIR_OK,   /* reserved: the caller now holds the pair */
	TW_PAIR_BUSY, /* the pair is already held */
	TW_PAIR_FULL, /* the pair's bucket is full: another port may do */
};

/* nslots must be a power of two >= TW_PAIR_BUCKET; slots must be zeroed
 * (and 64-byte aligned for a bucket to be one cache line). */
void tw_pair_table_init(struct tw_pair_table *t, _Atomic uint64_t *slots, uint32_t nslots);
enum tw_pair_result tw_pair_reserve(struct tw_pair_table *t, uint16_t port, uint64_t key);
/* Returns false if the pair was not held. */
bool tw_pair_release(struct tw_pair_table *t, uint16_t port, uint64_t key);
bool tw_pair_held(const struct tw_pair_table *t, uint16_t port, uint64_t key);

#endif
