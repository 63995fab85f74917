/* twshim — unit tests: rule lists, port lists, matching, selection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "check_main.h"
#include "policy_internal.h"
#include "twshim/policy.h"

/* ---- helpers ---------------------------------------------------------- */

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 sin6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
	return s;
}

/* Does the rule list `rules` match the destination addr:port?  The family
 * follows from the address text. */
static bool matches(const char *rules, const char *addr, uint16_t port)
{
	struct tw_rules r = { 0 };
	bool m;

	ck_assert_msg(tw_parse_rules(rules, &r), "rules \"%s\" should parse", rules);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 s = sin6(addr, port);

		m = tw_rules_match(&r, (struct sockaddr *)&s, sizeof(s));
	} else {
		struct sockaddr_in s = sin4(addr, port);

		m = tw_rules_match(&r, (struct sockaddr *)&s, sizeof(s));
	}
	tw_rules_free(&r);
	return m;
}

static struct tw_rule parse_one(const char *s)
{
	struct tw_rules r = { 0 };
	struct tw_rule one;

	ck_assert_msg(tw_parse_rules(s, &r), "\"%s\" should parse", s);
	ck_assert_uint_eq(r.n, 1);
	one = r.v[0];
	tw_rules_free(&r);
	return one;
}

static void assert_addr(const struct tw_rule *r, const char *text)
{
	uint8_t want[16] = { 0 };

	ck_assert_int_eq(inet_pton(r->family, text, want), 1);
	ck_assert_mem_eq(r->addr, want, r->family == AF_INET ? 4 : 16);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- parsing: valid forms --------------------------------------------- */

START_TEST(rule_v4_cidr_any_port)
{
	struct tw_rule r = parse_one("10.0.0.0/8");

	ck_assert_int_eq(r.family, AF_INET);
	ck_assert_int_eq(r.prefix_len, 8);
	ck_assert_int_eq(r.port_lo, 0);
	ck_assert_int_eq(r.port_hi, 65535);
	assert_addr(&r, "10.0.0.0");
}
END_TEST

START_TEST(rule_v4_host_bits_masked)
{
	struct tw_rule r = parse_one("10.1.2.3/8");

	assert_addr(&r, "10.0.0.0");
	r = parse_one("172.31.255.255/12");
	ck_assert_int_eq(r.prefix_len, 12);
	assert_addr(&r, "172.16.0.0");
	r = parse_one("1.2.3.4/0");
	assert_addr(&r, "0.0.0.0");
}
END_TEST

START_TEST(rule_v4_host)
{
	struct tw_rule r = parse_one("192.0.2.1");

	ck_assert_int_eq(r.family, AF_INET);
	ck_assert_int_eq(r.prefix_len, 32);
	assert_addr(&r, "192.0.2.1");
}
END_TEST

START_TEST(rule_v4_ports)
{
	struct tw_rule r = parse_one("10.0.0.0/8:443");

	ck_assert_int_eq(r.port_lo, 443);
	ck_assert_int_eq(r.port_hi, 443);
	r = parse_one("10.0.0.0/8:8000-8999");
	ck_assert_int_eq(r.port_lo, 8000);
	ck_assert_int_eq(r.port_hi, 8999);
	r = parse_one("192.0.2.1:1-65535");
	ck_assert_int_eq(r.prefix_len, 32);
	ck_assert_int_eq(r.port_lo, 1);
	ck_assert_int_eq(r.port_hi, 65535);
	r = parse_one("192.0.2.1:0080"); /* leading zeros are fine */
	ck_assert_int_eq(r.port_lo, 80);
	r = parse_one("10.0.0.0/08"); /* in the prefix length too */
	ck_assert_int_eq(r.prefix_len, 8);
}
END_TEST

START_TEST(rule_v6_forms)
{
	struct tw_rule r = parse_one("[::1]:80");

	ck_assert_int_eq(r.family, AF_INET6);
	ck_assert_int_eq(r.prefix_len, 128);
	ck_assert_int_eq(r.port_lo, 80);
	ck_assert_int_eq(r.port_hi, 80);
	assert_addr(&r, "::1");

	r = parse_one("[fd00::/8]:1000-2000");
	ck_assert_int_eq(r.prefix_len, 8);
	ck_assert_int_eq(r.port_lo, 1000);
	ck_assert_int_eq(r.port_hi, 2000);
	assert_addr(&r, "fd00::");

	r = parse_one("::1/128");
	ck_assert_int_eq(r.family, AF_INET6);
	ck_assert_int_eq(r.prefix_len, 128);
	ck_assert_int_eq(r.port_lo, 0);
	ck_assert_int_eq(r.port_hi, 65535);

	r = parse_one("fd12:3456:789a::1/8");
	assert_addr(&r, "fd00::");
	r = parse_one("2001:db8:ffff::/33");
	assert_addr(&r, "2001:db8:8000::");
	r = parse_one("::");
	ck_assert_int_eq(r.prefix_len, 128);
	r = parse_one("::/0");
	ck_assert_int_eq(r.prefix_len, 0);
	r = parse_one("[fd00::/8]"); /* brackets without a port: any port */
	ck_assert_int_eq(r.port_lo, 0);
	ck_assert_int_eq(r.port_hi, 65535);
	/* Without brackets, a last group is part of the address, not a port. */
	r = parse_one("::1:80");
	ck_assert_int_eq(r.prefix_len, 128);
	ck_assert_int_eq(r.port_hi, 65535);
	assert_addr(&r, "::1:80");
	r = parse_one("::ffff:10.0.0.0/104");
	ck_assert_int_eq(r.family, AF_INET6);
	assert_addr(&r, "::ffff:10.0.0.0");
}
END_TEST

START_TEST(rule_star)
{
	struct tw_rule r = parse_one("*:443");

	ck_assert_int_eq(r.family, AF_UNSPEC);
	ck_assert_int_eq(r.port_lo, 443);
	ck_assert_int_eq(r.port_hi, 443);
	r = parse_one("*:1-1024");
	ck_assert_int_eq(r.port_lo, 1);
	ck_assert_int_eq(r.port_hi, 1024);
}
END_TEST

START_TEST(rule_list_blanks)
{
	struct tw_rules r = { 0 };

	ck_assert(tw_parse_rules(" 10.0.0.0/8 ,\t*:80\t, [::1]:22 ", &r));
	ck_assert_uint_eq(r.n, 3);
	ck_assert_int_eq(r.v[0].family, AF_INET);
	ck_assert_int_eq(r.v[1].family, AF_UNSPEC);
	ck_assert_int_eq(r.v[2].family, AF_INET6);
	ck_assert_int_eq(r.v[2].port_lo, 22);
	tw_rules_free(&r);
	ck_assert_ptr_null(r.v);
	ck_assert_uint_eq(r.n, 0);
	tw_rules_free(&r); /* twice is harmless */
	tw_rules_free(NULL);
}
END_TEST

/* ---- parsing: invalid forms ------------------------------------------- */

static const char *const bad_rules[] = {
	"",
	" ",
	",",
	"10.0.0.0/8,",
	",10.0.0.0/8",
	"10.0.0.0/8,,*:80",
	"10.0.0.0/8, ,*:80",
	"10.0.0.0/33",
	"10.0.0.0/-1",
	"10.0.0.0/+8",
	"10.0.0.0/ 8",
	"10.0.0.0/8 /8",
	"10.0.0.0/",
	"10.0.0.0/8/8",
	"10.0.0.0/0x8",
	"10.0.0.0/99999999999999999999",
	"/8",
	"10.0.0.256",
	"10.0.0",
	"10.0.0.0.0",
	"abc",
	"localhost",
	"10.0.0.0/8:0",
	"10.0.0.0/8:65536",
	"10.0.0.0/8:99999999999999999999",
	"10.0.0.0/8:",
	"10.0.0.0/8: 80",
	"10.0.0.0/8:80 90",
	"10.0.0.0/8:+80",
	"10.0.0.0/8:-1",
	"10.0.0.0/8:80x",
	"10.0.0.0/8:0x50",
	"10.0.0.0/8:90-80",
	"10.0.0.0/8:0-0",
	"10.0.0.0/8:0-80",
	"10.0.0.0/8:80-",
	"10.0.0.0/8:-80",
	"10.0.0.0/8:80-90-100",
	":80",
	"1.2.3.4:80:90",
	"*",
	"*:",
	"*:0",
	"*:0-0",
	"*:65536",
	"*80",
	"**:80",
	"*:80-",
	"::1/129",
	"::1/",
	"fd00::/-8",
	"fe80::1%eth0",
	"[::1",
	"[::1]80",
	"[::1]:",
	"[::1]:0",
	"[::1]:65536",
	"[]:80",
	"[10.0.0.1]:80",
	"[::1]]:80",
	"[ ::1]:80",
	"[::1/129]:80",
	"[*]:80",
	"gggg::1",
	"::1::2",
	"10.0.0.0/8\n",
	"0000000000000000000000000000000000000000000000000000000000000000000000.0.0.1",
};

START_TEST(rule_invalid)
{
	const char *s = bad_rules[_i];
	struct tw_rule sentinel_rule = { .family = 77 };
	struct tw_rules r = { .v = &sentinel_rule, .n = 99 };

	ck_assert_msg(!tw_parse_rules(s, &r), "\"%s\" should be rejected", s);
	/* Outputs untouched on failure. */
	ck_assert_ptr_eq(r.v, &sentinel_rule);
	ck_assert_uint_eq(r.n, 99);
}
END_TEST

START_TEST(rule_null)
{
	struct tw_rules r = { 0 };

	ck_assert(!tw_parse_rules(NULL, &r));
}
END_TEST

START_TEST(rule_error_location)
{
	struct tw_rules r = { 0 };
	struct tw_parse_error e = { 0 };
	const char *s = "10.0.0.0/8, *:80 ,  10.0.0.0/33 , fd00::/8";

	ck_assert(!tw_parse_rules_err(s, &r, &e));
	ck_assert_uint_eq(e.item, 3);
	ck_assert_uint_eq(e.len, strlen("10.0.0.0/33"));
	ck_assert(strncmp(e.at, "10.0.0.0/33", e.len) == 0);
	ck_assert_ptr_nonnull(strstr(e.why, "prefix"));

	ck_assert(!tw_parse_rules_err("*:80,,*:81", &r, &e));
	ck_assert_uint_eq(e.item, 2);
	ck_assert_str_eq(e.why, "empty item");

	ck_assert(!tw_parse_rules_err("*:80,[::1]:0", &r, &e));
	ck_assert_uint_eq(e.item, 2);
	ck_assert_ptr_nonnull(strstr(e.why, "port"));
}
END_TEST

/* ---- port lists ------------------------------------------------------- */

START_TEST(port_list_valid)
{
	struct tw_port_list l = { 0 };

	ck_assert(tw_parse_port_list("8080,9000-9010", &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.v[0].lo, 8080);
	ck_assert_int_eq(l.v[0].hi, 8080);
	ck_assert_int_eq(l.v[1].lo, 9000);
	ck_assert_int_eq(l.v[1].hi, 9010);
	free(l.v);

	ck_assert(tw_parse_port_list(" 1 ,\t65535, 0080-0090 ", &l));
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(l.v[0].lo, 1);
	ck_assert_int_eq(l.v[1].lo, 65535);
	ck_assert_int_eq(l.v[2].lo, 80);
	ck_assert_int_eq(l.v[2].hi, 90);
	free(l.v);
}
END_TEST

static const char *const bad_port_lists[] = {
	"", " ", ",", "0", "65536", "0-0", "0-10", "10-9", "1-65536", "8080,", ",8080",
	"8080,,9000", "a", "8080 9000", "80-90-100", "+80", "-80", "80-", "0x50",
	"99999999999999999999", "80;90", "80:90",
};

START_TEST(port_list_invalid)
{
	struct tw_port_range sentinel;
	struct tw_port_list l = { .v = &sentinel, .n = 5 };

	ck_assert_msg(!tw_parse_port_list(bad_port_lists[_i], &l), "\"%s\" should be rejected",
		      bad_port_lists[_i]);
	ck_assert_ptr_eq(l.v, &sentinel);
	ck_assert_uint_eq(l.n, 5);
}
END_TEST

/* ---- matching --------------------------------------------------------- */

START_TEST(match_v4)
{
	ck_assert(matches("10.0.0.0/8", "10.1.2.3", 80));
	ck_assert(matches("10.0.0.0/8", "10.255.255.255", 1));
	ck_assert(!matches("10.0.0.0/8", "11.0.0.1", 80));
	ck_assert(!matches("10.0.0.0/8", "9.255.255.255", 80));
	ck_assert(matches("172.16.0.0/12", "172.31.255.255", 80));
	ck_assert(!matches("172.16.0.0/12", "172.32.0.0", 80));
	ck_assert(!matches("172.16.0.0/12", "172.15.255.255", 80));
	ck_assert(matches("192.0.2.1", "192.0.2.1", 80));
	ck_assert(!matches("192.0.2.1", "192.0.2.2", 80));
	ck_assert(matches("0.0.0.0/0", "203.0.113.9", 9));
	ck_assert(!matches("0.0.0.0/0", "2001:db8::1", 9));
	ck_assert(!matches("10.0.0.0/8", "::a00:1", 80)); /* IPv4-compatible is not mapped */
}
END_TEST

START_TEST(match_ports)
{
	ck_assert(!matches("10.0.0.0/8:8000-8999", "10.0.0.1", 7999));
	ck_assert(matches("10.0.0.0/8:8000-8999", "10.0.0.1", 8000));
	ck_assert(matches("10.0.0.0/8:8000-8999", "10.0.0.1", 8999));
	ck_assert(!matches("10.0.0.0/8:8000-8999", "10.0.0.1", 9000));
	ck_assert(matches("10.0.0.0/8:443", "10.0.0.1", 443));
	ck_assert(!matches("10.0.0.0/8:443", "10.0.0.1", 444));
	ck_assert(matches("10.0.0.0/8", "10.0.0.1", 0)); /* no port given: any, even 0 */
	ck_assert(matches("10.0.0.0/8", "10.0.0.1", 65535));
	ck_assert(matches("*:1-65535", "10.0.0.1", 65535));
	ck_assert(!matches("*:1-65535", "10.0.0.1", 0));
}
END_TEST

START_TEST(match_v6)
{
	ck_assert(matches("[::1]:80", "::1", 80));
	ck_assert(!matches("[::1]:80", "::1", 81));
	ck_assert(!matches("[::1]:80", "127.0.0.1", 80));
	ck_assert(matches("fd00::/8", "fdff::1", 5));
	ck_assert(!matches("fd00::/8", "fe00::1", 5));
	ck_assert(matches("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", 5));
	ck_assert(!matches("2001:db8::/65", "2001:db8::8000:0:0:0", 5));
	ck_assert(matches("::/0", "2001:db8::1", 5));
	ck_assert(!matches("::1/128", "10.0.0.1", 5));
}
END_TEST

START_TEST(match_v4_mapped)
{
	/* A v6 socket talking to an IPv4 peer matches the IPv4 rules... */
	ck_assert(matches("10.0.0.0/8", "::ffff:10.0.0.1", 80));
	ck_assert(!matches("10.0.0.0/8", "::ffff:11.0.0.1", 80));
	ck_assert(matches("10.0.0.0/8:80", "::ffff:10.0.0.1", 80));
	ck_assert(!matches("10.0.0.0/8:80", "::ffff:10.0.0.1", 81));
	/* ...and IPv6 rules written in the mapped form, for either socket. */
	ck_assert(matches("::ffff:10.0.0.0/104", "::ffff:10.0.0.1", 80));
	ck_assert(matches("::ffff:10.0.0.0/104", "10.0.0.1", 80));
	ck_assert(!matches("::ffff:10.0.0.0/104", "11.0.0.1", 80));
	ck_assert(matches("[::ffff:10.0.0.1]:80", "10.0.0.1", 80));
	ck_assert(matches("::ffff:0:0/96", "192.0.2.1", 80));
	/* A wide IPv6 rule means IPv6 traffic, not IPv4 through a v6 socket. */
	ck_assert(!matches("::/0", "::ffff:10.0.0.1", 80));
	ck_assert(!matches("::/0", "10.0.0.1", 80));
}
END_TEST

START_TEST(match_star)
{
	ck_assert(matches("*:80", "10.0.0.1", 80));
	ck_assert(matches("*:80", "2001:db8::1", 80));
	ck_assert(matches("*:80", "::ffff:10.0.0.1", 80));
	ck_assert(!matches("*:80", "10.0.0.1", 81));
	ck_assert(!matches("*:80", "2001:db8::1", 81));
}
END_TEST

START_TEST(match_any_of_list)
{
	ck_assert(matches("192.0.2.1, 10.0.0.0/8:22, *:443", "10.9.9.9", 22));
	ck_assert(matches("192.0.2.1, 10.0.0.0/8:22, *:443", "2001:db8::1", 443));
	ck_assert(!matches("192.0.2.1, 10.0.0.0/8:22, *:443", "10.9.9.9", 23));
}
END_TEST

START_TEST(match_sockaddr_checks)
{
	struct tw_rules r = { 0 };
	struct sockaddr_in s4 = sin4("10.0.0.1", 80);
	struct sockaddr_in6 s6 = sin6("::1", 80);
	struct sockaddr_un su;

	ck_assert(tw_parse_rules("*:80, 0.0.0.0/0, ::/0", &r));
	ck_assert(tw_rules_match(&r, (struct sockaddr *)&s4, sizeof(s4)));
	ck_assert(tw_rules_match(&r, (struct sockaddr *)&s6, sizeof(s6)));
	/* Short lengths never match: the fields would be read past the end. */
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s4, sizeof(s4) - 1));
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s6, sizeof(s6) - 1));
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s6, sizeof(struct sockaddr_in)));
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s4, 0));
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s4, 1));
	ck_assert(!tw_rules_match(&r, NULL, sizeof(s4)));
	/* Other families never match, whatever the rules. */
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&su, sizeof(su)));
	s4.sin_family = AF_UNSPEC;
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s4, sizeof(s4)));
	/* An empty or absent list matches nothing. */
	s4.sin_family = AF_INET;
	tw_rules_free(&r);
	ck_assert(!tw_rules_match(&r, (struct sockaddr *)&s4, sizeof(s4)));
	ck_assert(!tw_rules_match(NULL, (struct sockaddr *)&s4, sizeof(s4)));
}
END_TEST

/* ---- policy-level selection ------------------------------------------- */

static bool selects4(const struct tw_policy *p, const char *addr, uint16_t port)
{
	struct sockaddr_in s = sin4(addr, port);

	return tw_policy_selects(p, (struct sockaddr *)&s, sizeof(s));
}

START_TEST(selects_no_lists)
{
	struct tw_policy p = { 0 };
	struct sockaddr_in6 s6 = sin6("::1", 1);
	struct sockaddr_un su = { .sun_family = AF_UNIX };

	ck_assert(selects4(&p, "10.0.0.1", 80));
	ck_assert(tw_policy_selects(&p, (struct sockaddr *)&s6, sizeof(s6)));
	ck_assert(!tw_policy_selects(&p, (struct sockaddr *)&su, sizeof(su)));
	ck_assert(!tw_policy_selects(&p, (struct sockaddr *)&s6, 8));
}
END_TEST

START_TEST(selects_match_and_exclude)
{
	struct tw_policy p = { 0 };

	ck_assert(tw_parse_rules("10.0.0.0/8", &p.match));
	p.has_match = true;
	ck_assert(tw_parse_rules("10.0.0.5, *:22", &p.exclude));
	ck_assert(selects4(&p, "10.0.0.6", 80));
	ck_assert(!selects4(&p, "10.0.0.5", 80)); /* exclude wins */
	ck_assert(!selects4(&p, "10.0.0.6", 22));
	ck_assert(!selects4(&p, "11.0.0.1", 80)); /* not in match */
	tw_policy_free(&p);

	/* Exclude alone: everything else is selected. */
	memset(&p, 0, sizeof(p));
	ck_assert(tw_parse_rules("10.0.0.0/8", &p.exclude));
	ck_assert(selects4(&p, "11.0.0.1", 80));
	ck_assert(!selects4(&p, "10.0.0.1", 80));
	tw_policy_free(&p);
}
END_TEST

START_TEST(reuse_selects_port)
{
	struct tw_policy p = { 0 };

	ck_assert(!tw_policy_reuse_selects_port(&p, 0));
	ck_assert(tw_policy_reuse_selects_port(&p, 1));
	ck_assert(tw_policy_reuse_selects_port(&p, 65535));

	ck_assert(tw_parse_port_list("8080,9000-9010", &p.reuse_ports));
	p.has_reuse_ports = true;
	ck_assert(!tw_policy_reuse_selects_port(&p, 0));
	ck_assert(tw_policy_reuse_selects_port(&p, 8080));
	ck_assert(!tw_policy_reuse_selects_port(&p, 8079));
	ck_assert(!tw_policy_reuse_selects_port(&p, 8081));
	ck_assert(tw_policy_reuse_selects_port(&p, 9000));
	ck_assert(tw_policy_reuse_selects_port(&p, 9010));
	ck_assert(!tw_policy_reuse_selects_port(&p, 9011));
	ck_assert(!tw_policy_reuse_selects_port(&p, 65535));
	tw_policy_free(&p);
}
END_TEST

START_TEST(client_actions)
{
	struct tw_policy p = { 0 };

	ck_assert(!tw_policy_has_client_actions(&p));
	p.linger = TW_LINGER_SAFE;
	ck_assert(tw_policy_has_client_actions(&p));
	p.linger = TW_LINGER_OFF;
	p.ports = TW_PORTS_ABOVE;
	ck_assert(tw_policy_has_client_actions(&p));
	p.disabled = true;
	ck_assert(!tw_policy_has_client_actions(&p));
	p.disabled = false;
	p.ports = TW_PORTS_OFF;
	p.reuseaddr = p.reuseport = true; /* server side, not a client action */
	ck_assert(!tw_policy_has_client_actions(&p));
}
END_TEST

/* ---- scale ------------------------------------------------------------ */

/* "10.A.B.0/24:P" for 5000 distinct rules, about 100 KB. */
static char *many_rules(unsigned count)
{
	size_t cap = (size_t)count * 32 + 1, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	for (unsigned i = 0; i < count; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s10.%u.%u.0/24:%u", i ? ", " : "",
					i / 256, i % 256, 1 + i % 65535);
	return s;
}

START_TEST(scale_5000_rules)
{
	char *s = many_rules(5000);
	struct tw_rules r = { 0 };
	double t0 = now_s(), parse_s, match_s;
	unsigned hits = 0;

	ck_assert(tw_parse_rules(s, &r));
	parse_s = now_s() - t0;
	ck_assert_uint_eq(r.n, 5000);
	ck_assert_msg(parse_s < 0.5, "5000 rules took %.3f s to parse", parse_s);

	/* Worst case for a linear matcher: the last rule, and a miss. */
	t0 = now_s();
	for (unsigned i = 0; i < 1000; i++) {
		struct sockaddr_in hit = sin4("10.19.135.7", 5000);
		struct sockaddr_in miss = sin4("11.0.0.1", 5000);

		hits += tw_rules_match(&r, (struct sockaddr *)&hit, sizeof(hit));
		hits += tw_rules_match(&r, (struct sockaddr *)&miss, sizeof(miss));
	}
	match_s = now_s() - t0;
	ck_assert_uint_eq(hits, 1000);
	ck_assert_msg(match_s < 5.0, "2000 matches over 5000 rules took %.3f s", match_s);
	tw_rules_free(&r);
	free(s);
}
END_TEST

START_TEST(scale_100kb_inputs)
{
	const size_t n = 100 * 1024;
	char *s = malloc(n + 1);
	struct tw_rules r = { 0 };
	struct tw_port_list l = { 0 };
	double t0 = now_s();

	ck_assert_ptr_nonnull(s);
	/* Garbage, one huge item. */
	memset(s, 'x', n);
	s[n] = '\0';
	ck_assert(!tw_parse_rules(s, &r));
	ck_assert(!tw_parse_port_list(s, &l));
	/* Only commas: a hundred thousand empty items. */
	memset(s, ',', n);
	ck_assert(!tw_parse_rules(s, &r));
	ck_assert(!tw_parse_port_list(s, &l));
	/* One huge number. */
	memset(s, '9', n);
	ck_assert(!tw_parse_port_list(s, &l));
	/* Leading zeros, however many, are still a valid port. */
	memset(s, '0', n);
	s[n - 1] = '1';
	ck_assert(tw_parse_port_list(s, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].lo, 1);
	free(l.v);
	/* 25 600 valid items "*:1," */
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(s + i, "*:1,", 4);
	s[n - 1] = '2';
	ck_assert(tw_parse_rules(s, &r));
	ck_assert_uint_eq(r.n, n / 4);
	tw_rules_free(&r);
	ck_assert_msg(now_s() - t0 < 1.0, "100 KB inputs took too long");
	free(s);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, rule_v4_cidr_any_port);
	tcase_add_test(tc, rule_v4_host_bits_masked);
	tcase_add_test(tc, rule_v4_host);
	tcase_add_test(tc, rule_v4_ports);
	tcase_add_test(tc, rule_v6_forms);
	tcase_add_test(tc, rule_star);
	tcase_add_test(tc, rule_list_blanks);
	tcase_add_loop_test(tc, rule_invalid, 0, (int)(sizeof(bad_rules) / sizeof(bad_rules[0])));
	tcase_add_test(tc, rule_null);
	tcase_add_test(tc, rule_error_location);
	suite_add_tcase(s, tc);

	tc = tcase_create("port_list");
	tcase_add_test(tc, port_list_valid);
	tcase_add_loop_test(tc, port_list_invalid, 0,
			    (int)(sizeof(bad_port_lists) / sizeof(bad_port_lists[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, match_v4);
	tcase_add_test(tc, match_ports);
	tcase_add_test(tc, match_v6);
	tcase_add_test(tc, match_v4_mapped);
	tcase_add_test(tc, match_star);
	tcase_add_test(tc, match_any_of_list);
	tcase_add_test(tc, match_sockaddr_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, selects_no_lists);
	tcase_add_test(tc, selects_match_and_exclude);
	tcase_add_test(tc, reuse_selects_port);
	tcase_add_test(tc, client_actions);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 60); /* generous for valgrind; the asserts time it */
	tcase_add_test(tc, scale_5000_rules);
	tcase_add_test(tc, scale_100kb_inputs);
	suite_add_tcase(s, tc);
	return s;
}
