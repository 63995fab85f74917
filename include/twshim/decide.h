/* twshim — close decisions for TWSHIM_LINGER=safe, as pure functions.
 *
 * Input is a snapshot of the kernel's view of one socket (one TCP_INFO
 * read) plus what the library knows about it; output is what close() must
 * do.  No system calls here, so every branch is unit-tested. */
#ifndef TWSHIM_DECIDE_H
#define TWSHIM_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

/* tcpi_state values (include/net/tcp_states.h). */
enum tw_tcp_state {
	TW_TCP_ESTABLISHED = 1,
	TW_TCP_SYN_SENT = 2,
	TW_TCP_SYN_RECV = 3,
	TW_TCP_FIN_WAIT1 = 4,
	TW_TCP_FIN_WAIT2 = 5,
	TW_TCP_TIME_WAIT = 6,
	TW_TCP_CLOSE = 7,
	TW_TCP_CLOSE_WAIT = 8,
	TW_TCP_LAST_ACK = 9,
	TW_TCP_LISTEN = 10,
	TW_TCP_CLOSING = 11,
};

struct tw_close_input {
	uint8_t tcp_state;      /* tcpi_state */
	uint32_t unacked;       /* tcpi_unacked: segments sent, not acknowledged */
	uint32_t notsent_bytes; /* tcpi_notsent_bytes: still in the send queue */
	bool program_linger;    /* the program set SO_LINGER itself */
	bool shared;            /* another fd or process may still hold the socket */
	bool may_wait;          /* time is left to wait for acknowledgements */
};

enum tw_close_verdict {
	TW_CLOSE_RST,                 /* all sent data acknowledged: RST loses nothing */
	TW_CLOSE_WAIT,                /* data in flight: wait, snapshot again */
	TW_CLOSE_NORMAL_PENDING,      /* data in flight and no time left: FIN, keep data */
	TW_CLOSE_NORMAL_PEER_CLOSED,  /* peer closed first: no TIME_WAIT on our side anyway */
	TW_CLOSE_NORMAL_STATE,        /* not established (connecting, closing, …) */
	TW_CLOSE_NORMAL_PROGRAM_LINGER, /* the program's own SO_LINGER wins */
	TW_CLOSE_NORMAL_SHARED,       /* not the last reference: an RST now would hit the other holder */
};

enum tw_close_verdict tw_decide_close(const struct tw_close_input *in);

/* True for the verdicts that end in an ordinary close(). */
static inline bool tw_verdict_is_normal(enum tw_close_verdict v)
{
	return v != TW_CLOSE_RST && v != TW_CLOSE_WAIT;
}

/* Next pause while waiting for acknowledgements: starts at 50 µs, doubles,
 * capped at 10 ms, and never past the time left.  Returns 0 when no time
 * is left. */
uint64_t tw_drain_next_pause_ns(uint64_t previous_ns, uint64_t remaining_ns);

#endif
