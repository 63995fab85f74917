/* twshim — the safe close decision; see decide.h. */
#include "twshim/decide.h"

enum tw_close_verdict tw_decide_close(const struct tw_close_input *in)
{
	/* The program's explicit choice and other holders come first: neither
	 * is ours to override, whatever the connection state. */
	if (in->program_linger)
		return TW_CLOSE_NORMAL_PROGRAM_LINGER;
	if (in->shared)
		return TW_CLOSE_NORMAL_SHARED;

	switch (in->tcp_state) {
	case TW_TCP_ESTABLISHED:
		break;
	case TW_TCP_CLOSE_WAIT:
		/* We are the passive closer: no TIME_WAIT on our side. */
		return TW_CLOSE_NORMAL_PEER_CLOSED;
	default:
		/* Connecting, already half-closed by the program, or closed:
		 * an RST would change nothing we can promise. */
		return TW_CLOSE_NORMAL_STATE;
	}

	if (in->unacked == 0 && in->notsent_bytes == 0)
		return TW_CLOSE_RST;
	return in->may_wait ? TW_CLOSE_WAIT : TW_CLOSE_NORMAL_PENDING;
}

uint64_t tw_drain_next_pause_ns(uint64_t previous_ns, uint64_t remaining_ns)
{
	const uint64_t first = 50000ull, cap = 10000000ull; /* 50 µs, 10 ms */
	uint64_t next = previous_ns ? previous_ns * 2 : first;
	if (next > cap)
		next = cap;
	if (next > remaining_ns)
		next = remaining_ns;
	return next;
}
