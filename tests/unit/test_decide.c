/* twshim — unit tests for the pure decisions (lib/core/decide.h): the
 * mode mapping, the connect plan with its linger inputs, and reuse on
 * bind.  The hooks and the supervisor both act on these answers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "check_main.h"
#include "decide.h"
#include "twshim/policy.h"

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

/* ---- the modes as booleans ---- */

START_TEST(actions_follow_modes)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	struct tw_actions a = tw_policy_actions(&p);
	ck_assert(!a.linger && !a.pin && !a.client && !a.reuse);

	p.linger = TW_LINGER_SAFE;
	a = tw_policy_actions(&p);
	ck_assert(a.linger && !a.pin && a.client && !a.reuse);

	p.linger = TW_LINGER_OFF;
	p.ports = TW_PORTS_RANGE;
	a = tw_policy_actions(&p);
	ck_assert(!a.linger && a.pin && a.client && !a.reuse);

	p.ports = TW_PORTS_OFF;
	p.reuseport = true; /* server side: not a client action */
	a = tw_policy_actions(&p);
	ck_assert(!a.client && a.reuse);
	ck_assert(!tw_policy_has_client_actions(&p));
	p.reuseport = false;
	p.reuseaddr = true;
	ck_assert(tw_policy_actions(&p).reuse);
}
END_TEST

START_TEST(disabled_turns_everything_off)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.linger = TW_LINGER_ABORT;
	p.ports = TW_PORTS_ABOVE;
	p.reuseaddr = p.reuseport = true;
	ck_assert(tw_policy_has_client_actions(&p));
	p.disabled = true;
	struct tw_actions a = tw_policy_actions(&p);
	ck_assert(!a.linger && !a.pin && !a.client && !a.reuse);
	ck_assert(!tw_policy_has_client_actions(&p));
}
END_TEST

/* ---- linger: which option, which value ---- */

START_TEST(linger_option_per_mode)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(tw_linger_option(&p), TW_LINGER_OPT_NONE);
	p.linger = TW_LINGER_SAFE; /* never SO_LINGER: a program's own keeps working */
	ck_assert_int_eq(tw_linger_option(&p), TW_LINGER_OPT_TCP_LINGER2);
	p.linger = TW_LINGER_ABORT;
	ck_assert_int_eq(tw_linger_option(&p), TW_LINGER_OPT_SO_LINGER);
	p.linger = TW_LINGER_TIMEOUT;
	ck_assert_int_eq(tw_linger_option(&p), TW_LINGER_OPT_SO_LINGER);
}
END_TEST

START_TEST(so_linger_values)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.linger = TW_LINGER_ABORT;
	p.linger_seconds = 9; /* ignored for "0" */
	struct linger lg = tw_so_linger_value(&p);
	ck_assert_int_eq(lg.l_onoff, 1);
	ck_assert_int_eq(lg.l_linger, 0);
	p.linger = TW_LINGER_TIMEOUT;
	p.linger_seconds = TW_LINGER_SECONDS_MAX;
	lg = tw_so_linger_value(&p);
	ck_assert_int_eq(lg.l_onoff, 1);
	ck_assert_int_eq(lg.l_linger, (int)TW_LINGER_SECONDS_MAX);
	ck_assert_int_lt(TW_LINGER2_SAFE, 0); /* the kernel's "RST once orphaned" */
}
END_TEST

/* What the supervisor infers from TCP_LINGER2 read back from the kernel. */
START_TEST(program_linger2_inference)
{
	ck_assert(!tw_program_set_linger2(60, 60)); /* the default reads back fin_timeout */
	ck_assert(tw_program_set_linger2(30, 60));  /* anything else was set */
	ck_assert(tw_program_set_linger2(-1, 60));  /* already what safe sets */
	ck_assert(tw_program_set_linger2(-1, 0));
	ck_assert(!tw_program_set_linger2(30, 0));  /* fin_timeout unknown: cannot tell */
	ck_assert(!tw_program_set_linger2(0, -1));
}
END_TEST

/* ---- the connect plan ---- */

START_TEST(plan_follows_linger_mode)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	struct sockaddr_in d = v4("127.0.0.1", 80);
	const struct sockaddr *sa = (const struct sockaddr *)&d;

	p.linger = TW_LINGER_ABORT;
	struct tw_connect_plan plan = tw_plan_connect(&p, false, sa, sizeof(d), false);
	ck_assert(plan.selected && plan.set_linger && !plan.pin);
	plan = tw_plan_connect(&p, false, sa, sizeof(d), true);
	ck_assert(plan.selected && !plan.set_linger); /* the program's linger wins */

	p.linger = TW_LINGER_TIMEOUT;
	p.linger_seconds = 5;
	plan = tw_plan_connect(&p, false, sa, sizeof(d), false);
	ck_assert(plan.selected && plan.set_linger && !plan.pin);

	/* safe: TCP_LINGER2 at connect, unless the program set it itself */
	p.linger = TW_LINGER_SAFE;
	plan = tw_plan_connect(&p, true, sa, sizeof(d), false);
	ck_assert(plan.set_linger && plan.pin);
	plan = tw_plan_connect(&p, true, sa, sizeof(d), true);
	ck_assert(plan.selected && !plan.set_linger && plan.pin);

	p.linger = TW_LINGER_OFF;
	plan = tw_plan_connect(&p, true, sa, sizeof(d), false);
	ck_assert(plan.selected && !plan.set_linger && plan.pin);
	plan = tw_plan_connect(&p, false, sa, sizeof(d), false);
	ck_assert(plan.selected && !plan.set_linger && !plan.pin);
}
END_TEST

START_TEST(plan_takes_ipv6)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.linger = TW_LINGER_SAFE;
	struct sockaddr_in6 d = v6("::1", 443);
	struct tw_connect_plan plan =
		tw_plan_connect(&p, true, (const struct sockaddr *)&d, sizeof(d), false);
	ck_assert(plan.selected && plan.set_linger && plan.pin);
}
END_TEST

START_TEST(plan_ignores_other_families)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.linger = TW_LINGER_ABORT;
	struct sockaddr un = { .sa_family = AF_UNIX };
	ck_assert(!tw_plan_connect(&p, true, &un, sizeof(un), false).selected);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC }; /* TCP "disconnect" */
	ck_assert(!tw_plan_connect(&p, true, &unspec, sizeof(unspec), false).selected);
	ck_assert(!tw_plan_connect(&p, true, NULL, 0, false).selected);
	struct sockaddr_in d = v4("127.0.0.1", 80);
	ck_assert(!tw_plan_connect(&p, true, (const struct sockaddr *)&d, 1, false).selected);
	struct tw_connect_plan none = tw_plan_connect(&p, true, &un, sizeof(un), false);
	ck_assert(!none.set_linger && !none.pin); /* nothing without selection */
}
END_TEST

START_TEST(plan_respects_rules)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.linger = TW_LINGER_ABORT;
	ck_assert(tw_parse_rules("127.0.0.0/8:80", &p.exclude));
	struct sockaddr_in hit = v4("127.0.0.2", 80), miss = v4("127.0.0.2", 81);
	ck_assert(!tw_plan_connect(&p, false, (struct sockaddr *)&hit, sizeof(hit), false).selected);
	ck_assert(tw_plan_connect(&p, false, (struct sockaddr *)&miss, sizeof(miss), false).selected);
	tw_rules_free(&p.exclude);

	/* a match list selects only its destinations */
	ck_assert(tw_parse_rules("10.0.0.0/8", &p.match));
	p.has_match = true;
	struct sockaddr_in in = v4("10.1.2.3", 80), out = v4("192.0.2.1", 80);
	ck_assert(tw_plan_connect(&p, true, (struct sockaddr *)&in, sizeof(in), false).selected);
	ck_assert(!tw_plan_connect(&p, true, (struct sockaddr *)&out, sizeof(out), false).selected);
	tw_rules_free(&p.match);
}
END_TEST

/* ---- reuse on bind ---- */

START_TEST(bind_port_reads_full_addresses_only)
{
	uint16_t port = 7;
	struct sockaddr_in a = v4("127.0.0.1", 8080);
	ck_assert(tw_bind_port((struct sockaddr *)&a, sizeof(a), &port));
	ck_assert_uint_eq(port, 8080);
	struct sockaddr_in6 b = v6("::", 0);
	ck_assert(tw_bind_port((struct sockaddr *)&b, sizeof(b), &port));
	ck_assert_uint_eq(port, 0);
	port = 7;
	ck_assert(!tw_bind_port((struct sockaddr *)&b, sizeof(struct sockaddr_in), &port));
	ck_assert(!tw_bind_port((struct sockaddr *)&a, sizeof(a) - 1, &port));
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	ck_assert(!tw_bind_port((struct sockaddr *)&u, sizeof(u), &port));
	ck_assert_uint_eq(port, 7); /* untouched */
}
END_TEST

START_TEST(reuse_wanted_for_selected_nonzero_ports)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	struct sockaddr_in a = v4("0.0.0.0", 9000), zero = v4("0.0.0.0", 0);
	const struct sockaddr *sa = (const struct sockaddr *)&a;
	ck_assert(!tw_reuse_wanted(&p, sa, sizeof(a))); /* reuse off */

	p.reuseaddr = true;
	ck_assert(tw_reuse_wanted(&p, sa, sizeof(a)));
	ck_assert(!tw_reuse_wanted(&p, (struct sockaddr *)&zero, sizeof(zero)));
	ck_assert(!tw_reuse_wanted(&p, sa, sizeof(a) - 1));

	ck_assert(tw_parse_port_list("8000-8999", &p.reuse_ports));
	p.has_reuse_ports = true;
	ck_assert(!tw_reuse_wanted(&p, sa, sizeof(a)));
	struct sockaddr_in6 in = v6("::", 8080);
	ck_assert(tw_reuse_wanted(&p, (struct sockaddr *)&in, sizeof(in)));
	p.disabled = true;
	ck_assert(!tw_reuse_wanted(&p, (struct sockaddr *)&in, sizeof(in)));
	free(p.reuse_ports.v);
}
END_TEST

START_TEST(reuse_plan_keeps_program_choices)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	p.reuseaddr = true;
	struct tw_reuse_plan r = tw_plan_reuse(&p, false, false);
	ck_assert(r.reuseaddr && !r.reuseport);
	r = tw_plan_reuse(&p, true, false);
	ck_assert(!r.reuseaddr && !r.reuseport);

	p.reuseport = true;
	r = tw_plan_reuse(&p, true, false);
	ck_assert(!r.reuseaddr && r.reuseport);
	r = tw_plan_reuse(&p, false, true);
	ck_assert(r.reuseaddr && !r.reuseport);
	r = tw_plan_reuse(&p, true, true);
	ck_assert(!r.reuseaddr && !r.reuseport);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tm = tcase_create("modes");
	tcase_add_test(tm, actions_follow_modes);
	tcase_add_test(tm, disabled_turns_everything_off);
	tcase_add_test(tm, linger_option_per_mode);
	tcase_add_test(tm, so_linger_values);
	tcase_add_test(tm, program_linger2_inference);
	suite_add_tcase(s, tm);
	TCase *tp = tcase_create("connect");
	tcase_add_test(tp, plan_follows_linger_mode);
	tcase_add_test(tp, plan_takes_ipv6);
	tcase_add_test(tp, plan_ignores_other_families);
	tcase_add_test(tp, plan_respects_rules);
	suite_add_tcase(s, tp);
	TCase *tr = tcase_create("reuse");
	tcase_add_test(tr, bind_port_reads_full_addresses_only);
	tcase_add_test(tr, reuse_wanted_for_selected_nonzero_ports);
	tcase_add_test(tr, reuse_plan_keeps_program_choices);
	suite_add_tcase(s, tr);
	return s;
}
