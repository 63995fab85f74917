/* twshim — state and helpers shared by the pinning files (pin.c: setup,
 * port choice, connect-time binding; pin_replace.c: recovery when connect()
 * finds the 4-tuple taken).  Private to the library. */
#ifndef TWSHIM_PIN_INTERNAL_H
#define TWSHIM_PIN_INTERNAL_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pin.h"
#include "twshim/ports.h"

/* New sockets tried after connect() said EADDRNOTAVAIL. */
#define PIN_MAX_REPLACE 16u

struct tw_pin_state {
	atomic_bool active;
	atomic_bool deferred_seen; /* some socket's ADDR:0 port was deferred */
	bool keep_reuse_on_einval; /* TWSHIM_REUSEADDR may have set it on the program's bind */
	struct tw_port_range range;
	uint16_t *ports;
	struct tw_port_cursor cursor;
	struct tw_pair_table pairs;
	/* Ports whose bind failed with EADDRINUSE (a listener, a socket bound
	 * without SO_REUSEADDR): skipped without a system call for
	 * PIN_BUSY_SECONDS.  One 16-bit "busy until" per port, in seconds of
	 * CLOCK_MONOTONIC_COARSE (vDSO, no system call); 0 means never. */
	_Atomic uint16_t *busy_until;
};

union tw_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

extern struct tw_pin_state tw_pin;

void tw_sa_set_port(union tw_sockaddr *a, uint16_t port);
bool tw_sa_is_wildcard(const union tw_sockaddr *a);
int tw_pin_set_int(int fd, int level, int name, int value);
/* Seconds of CLOCK_MONOTONIC_COARSE, wrapping: for the busy-port hints. */
uint16_t tw_pin_now_seconds(void);
/* Skip port for a while: a bind or connect found it taken. */
void tw_pin_mark_busy(uint16_t port, uint16_t now);
/* A connect goes to the kernel's port choice: counted, and said (rate-limited). */
void tw_pin_note_fallback(void);
/* Reserve a (port, key) pair and bind fd to local with that port.
 * Returns 0 and the port, or the errno that stopped the search: EINVAL
 * (fd is already bound), EAGAIN (no port found within the bounds), or the
 * bind's own error.  errno is clobbered. */
int tw_pin_bind_port(int fd, union tw_sockaddr *local, socklen_t llen, uint64_t key,
		     uint16_t *port_out);
/* connect() said EADDRNOTAVAIL for fd's pinned port: replace the socket
 * (pin_replace.c).  Same contract as tw_pin_after_connect(). */
ssize_t tw_pin_replace_and_connect(int fd, int *err, struct tw_pin_ticket *t,
				   const struct tw_connect_op *op);

#endif
