/* twshim — unit tests for the safe close decision and the drain pauses. */
#include <stdint.h>

#include "check_main.h"
#include "twshim/decide.h"

static struct tw_close_input established(uint32_t unacked, uint32_t notsent, bool may_wait)
{
	struct tw_close_input in = {
		.tcp_state = TW_TCP_ESTABLISHED,
		.unacked = unacked,
		.notsent_bytes = notsent,
		.may_wait = may_wait,
	};
	return in;
}

START_TEST(rst_when_everything_acknowledged)
{
	struct tw_close_input in = established(0, 0, true);
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_RST);
	in.may_wait = false;
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_RST);
}
END_TEST

START_TEST(wait_while_in_flight_and_time_left)
{
	struct tw_close_input a = established(3, 0, true);
	struct tw_close_input b = established(0, 1, true);
	ck_assert_int_eq(tw_decide_close(&a), TW_CLOSE_WAIT);
	ck_assert_int_eq(tw_decide_close(&b), TW_CLOSE_WAIT);
}
END_TEST

START_TEST(normal_close_when_in_flight_and_no_time)
{
	struct tw_close_input a = established(1, 0, false);
	struct tw_close_input b = established(0, 4096, false);
	ck_assert_int_eq(tw_decide_close(&a), TW_CLOSE_NORMAL_PENDING);
	ck_assert_int_eq(tw_decide_close(&b), TW_CLOSE_NORMAL_PENDING);
}
END_TEST

START_TEST(peer_closed_first_is_normal)
{
	struct tw_close_input in = established(0, 0, true);
	in.tcp_state = TW_TCP_CLOSE_WAIT;
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_PEER_CLOSED);
	in.unacked = 5; /* even with data in flight: never an RST there */
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_PEER_CLOSED);
}
END_TEST

START_TEST(other_states_are_normal)
{
	static const uint8_t states[] = {
		TW_TCP_SYN_SENT, TW_TCP_SYN_RECV, TW_TCP_FIN_WAIT1, TW_TCP_FIN_WAIT2,
		TW_TCP_TIME_WAIT, TW_TCP_CLOSE, TW_TCP_LAST_ACK, TW_TCP_LISTEN,
		TW_TCP_CLOSING, 0, 12, 255,
	};
	for (unsigned i = 0; i < sizeof(states); i++) {
		struct tw_close_input in = established(0, 0, true);
		in.tcp_state = states[i];
		ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_STATE);
	}
}
END_TEST

START_TEST(program_linger_wins_over_everything)
{
	struct tw_close_input in = established(0, 0, true);
	in.program_linger = true;
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_PROGRAM_LINGER);
	in.shared = true;
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_PROGRAM_LINGER);
}
END_TEST

START_TEST(shared_socket_is_normal)
{
	struct tw_close_input in = established(0, 0, true);
	in.shared = true;
	ck_assert_int_eq(tw_decide_close(&in), TW_CLOSE_NORMAL_SHARED);
}
END_TEST

START_TEST(verdict_is_normal_classifies)
{
	ck_assert(!tw_verdict_is_normal(TW_CLOSE_RST));
	ck_assert(!tw_verdict_is_normal(TW_CLOSE_WAIT));
	ck_assert(tw_verdict_is_normal(TW_CLOSE_NORMAL_PENDING));
	ck_assert(tw_verdict_is_normal(TW_CLOSE_NORMAL_SHARED));
}
END_TEST

START_TEST(pauses_double_from_50us_to_10ms)
{
	uint64_t p = tw_drain_next_pause_ns(0, UINT64_MAX);
	ck_assert_uint_eq(p, 50000);
	p = tw_drain_next_pause_ns(p, UINT64_MAX);
	ck_assert_uint_eq(p, 100000);
	for (int i = 0; i < 20; i++)
		p = tw_drain_next_pause_ns(p, UINT64_MAX);
	ck_assert_uint_eq(p, 10000000);
}
END_TEST

START_TEST(pauses_never_pass_the_deadline)
{
	ck_assert_uint_eq(tw_drain_next_pause_ns(0, 20000), 20000);
	ck_assert_uint_eq(tw_drain_next_pause_ns(8000000, 3), 3);
	ck_assert_uint_eq(tw_drain_next_pause_ns(0, 0), 0);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("close");
	tcase_add_test(tc, rst_when_everything_acknowledged);
	tcase_add_test(tc, wait_while_in_flight_and_time_left);
	tcase_add_test(tc, normal_close_when_in_flight_and_no_time);
	tcase_add_test(tc, peer_closed_first_is_normal);
	tcase_add_test(tc, other_states_are_normal);
	tcase_add_test(tc, program_linger_wins_over_everything);
	tcase_add_test(tc, shared_socket_is_normal);
	tcase_add_test(tc, verdict_is_normal_classifies);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("drain_pauses");
	tcase_add_test(tp, pauses_double_from_50us_to_10ms);
	tcase_add_test(tp, pauses_never_pass_the_deadline);
	suite_add_tcase(s, tp);
	return s;
}
