/* Unit tests of the reaper's pure pieces: durations, the per-socket
 * decision (scope, state, age) and the kernel filter program, run through
 * a copy of the kernel's own interpreter and validator (inet_diag.c:
 * inet_diag_bc_run, inet_diag_bc_audit) against many sockets. */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "reap.h"

/* ---- durations ---- */

START_TEST(durations)
{
	uint64_t v = 99;
	ck_assert(tw_parse_duration_ms("0", 86400000, &v) && v == 0);
	ck_assert(tw_parse_duration_ms("200ms", 86400000, &v) && v == 200);
	ck_assert(tw_parse_duration_ms("1s", 86400000, &v) && v == 1000);
	ck_assert(tw_parse_duration_ms("5m", 86400000, &v) && v == 300000);
	ck_assert(tw_parse_duration_ms("24h", 86400000, &v) && v == 86400000);
	ck_assert(tw_parse_duration_ms("0s", 86400000, &v) && v == 0);
	static const char *const bad[] = { "", "5", "1x", "-1s", "1.5s", "25h", " 1s", "1s ",
					   "s", "ms", "1 s", "0x10s", "+1s", "99999999999999999999s",
					   "1S", "1sec", NULL };
	for (const char *const *b = bad; *b; b++) {
		v = 7;
		ck_assert_msg(!tw_parse_duration_ms(*b, 86400000, &v) && v == 7, "accepted '%s'", *b);
	}
	ck_assert(!tw_parse_duration_ms(NULL, 1, &v));
}
END_TEST

/* ---- sockets ---- */

static struct tw_sock sock(const char *dst, unsigned dport, unsigned sport)
{
	struct tw_sock k = { .state = 6, .sport = (uint16_t)sport, .dport = (uint16_t)dport };
	if (inet_pton(AF_INET, dst, k.dst) == 1) {
		k.family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", k.src);
	} else {
		ck_assert(inet_pton(AF_INET6, dst, k.dst) == 1);
		k.family = AF_INET6;
		inet_pton(AF_INET6, "::1", k.src);
	}
	return k;
}

static void scope_of(struct tw_reap_scope *s, const char *match, const char *exclude, const char *local)
{
	char why[256];
	memset(s, 0, sizeof(*s));
	if (match)
		ck_assert_msg(tw_reap_scope_add_match(s, match, why, sizeof(why)), "%s: %s", match, why);
	if (exclude)
		ck_assert_msg(tw_reap_scope_add_exclude(s, exclude, why, sizeof(why)), "%s: %s", exclude, why);
	if (local)
		ck_assert_msg(tw_reap_scope_add_ports(s, local, why, sizeof(why)), "%s: %s", local, why);
}

START_TEST(scope_and_decision)
{
	struct tw_reap_scope s;
	char why[256];
	uint64_t wait = 0;

	scope_of(&s, "127.0.0.0/8:7000-7001", "127.0.0.2", NULL);
	ck_assert(tw_reap_scope_is_set(&s));
	struct tw_sock a = sock("127.0.0.1", 7000, 40000), b = sock("127.0.0.2", 7000, 40000);
	struct tw_sock m = sock("::ffff:127.0.0.1", 7001, 40000), o = sock("127.0.0.1", 7002, 40000);
	ck_assert(tw_reap_scope_selects(&s, &a));
	ck_assert(!tw_reap_scope_selects(&s, &b)); /* exclude wins */
	ck_assert(tw_reap_scope_selects(&s, &m));  /* IPv4-mapped is IPv4 */
	ck_assert(!tw_reap_scope_selects(&s, &o));

	/* age = 60 s - timer left */
	ck_assert_int_eq(tw_reap_decide(&s, &a, 59500, 1000, &wait), TW_REAP_YOUNG);
	ck_assert_uint_eq(wait, 500);
	ck_assert_int_eq(tw_reap_decide(&s, &a, 59000, 1000, &wait), TW_REAP_YES);
	ck_assert_int_eq(tw_reap_decide(&s, &a, 60000, 0, &wait), TW_REAP_YES);
	ck_assert_int_eq(tw_reap_decide(&s, &a, 60000, 1, &wait), TW_REAP_YOUNG);
	ck_assert_int_eq(tw_reap_decide(&s, &a, 61000, 1, &wait), TW_REAP_YOUNG); /* re-armed */
	ck_assert_int_eq(tw_reap_decide(&s, &a, 0, 3600000, &wait), TW_REAP_YOUNG); /* never */
	ck_assert_int_eq(tw_reap_decide(&s, &b, 0, 0, &wait), TW_REAP_SKIP);
	a.state = 5; /* a FIN_WAIT2 kept as a timewait socket */
	ck_assert_int_eq(tw_reap_decide(&s, &a, 0, 0, &wait), TW_REAP_SKIP);
	a.state = 1;
	ck_assert_int_eq(tw_reap_decide(&s, &a, 0, 0, &wait), TW_REAP_SKIP);
	tw_reap_scope_free(&s);

	/* local ports alone; repeated options add up */
	scope_of(&s, NULL, NULL, "40000-40004");
	ck_assert(tw_reap_scope_add_ports(&s, "50000", why, sizeof(why)));
	struct tw_sock l1 = sock("10.0.0.1", 80, 40004), l2 = sock("10.0.0.1", 80, 40005);
	struct tw_sock l3 = sock("10.0.0.1", 80, 50000);
	ck_assert(tw_reap_scope_selects(&s, &l1));
	ck_assert(!tw_reap_scope_selects(&s, &l2));
	ck_assert(tw_reap_scope_selects(&s, &l3));
	tw_reap_scope_free(&s);

	/* no scope; exclude alone is no scope */
	scope_of(&s, NULL, "10.0.0.0/8", NULL);
	ck_assert(!tw_reap_scope_is_set(&s));
	ck_assert(!tw_reap_scope_add_match(&s, "10.0.0.1:0", why, sizeof(why)));
	ck_assert(strstr(why, "item 1") != NULL);
	ck_assert(!tw_reap_scope_add_ports(&s, "1,,2", why, sizeof(why)));
	ck_assert(!tw_reap_scope_is_set(&s));
	tw_reap_scope_free(&s);
}
END_TEST

/* ---- the kernel's bytecode interpreter and validator, restated ---- */

struct entry {
	int family;
	uint32_t saddr[4], daddr[4];
	uint16_t sport, dport;
};

static bool bitstring_match(const uint32_t *a1, const uint32_t *a2, int bits)
{
	int words = bits >> 5;
	bits &= 0x1f;
	if (words && memcmp(a1, a2, (size_t)words << 2) != 0)
		return false;
	if (bits) {
		uint32_t mask = htonl(0xffffffffu << (32 - bits));
		if ((a1[words] ^ a2[words]) & mask)
			return false;
	}
	return true;
}

static bool bc_run(const uint8_t *bc, int len, const struct entry *e)
{
	while (len > 0) {
		int yes = 1;
		const struct inet_diag_bc_op *op = (const void *)bc;
		switch (op->code) {
		case INET_DIAG_BC_NOP: break;
		case INET_DIAG_BC_JMP: yes = 0; break;
		case INET_DIAG_BC_S_EQ: yes = e->sport == op[1].no; break;
		case INET_DIAG_BC_S_GE: yes = e->sport >= op[1].no; break;
		case INET_DIAG_BC_S_LE: yes = e->sport <= op[1].no; break;
		case INET_DIAG_BC_D_EQ: yes = e->dport == op[1].no; break;
		case INET_DIAG_BC_D_GE: yes = e->dport >= op[1].no; break;
		case INET_DIAG_BC_D_LE: yes = e->dport <= op[1].no; break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			const struct inet_diag_hostcond *c = (const void *)(op + 1);
			const uint32_t *addr = op->code == INET_DIAG_BC_S_COND ? e->saddr : e->daddr;
			if (c->port != -1 && c->port != (op->code == INET_DIAG_BC_S_COND ? e->sport : e->dport)) {
				yes = 0;
				break;
			}
			if (c->family != AF_UNSPEC && c->family != e->family) {
				if (e->family == AF_INET6 && c->family == AF_INET && addr[0] == 0 && addr[1] == 0 &&
				    addr[2] == htonl(0xffff) && bitstring_match(addr + 3, c->addr, c->prefix_len))
					break;
				yes = 0;
				break;
			}
			if (c->prefix_len == 0 || bitstring_match(addr, c->addr, c->prefix_len))
				break;
			yes = 0;
			break;
		}
		default:
			ck_abort_msg("unknown op %u", op->code);
		}
		if (yes) {
			len -= op->yes;
			bc += op->yes;
		} else {
			len -= op->no;
			bc += op->no;
		}
	}
	return len == 0;
}

static bool valid_cc(const uint8_t *bc, int len, int cc)
{
	while (len >= 0) {
		const struct inet_diag_bc_op *op = (const void *)bc;
		if (cc > len)
			return false;
		if (cc == len)
			return true;
		if (op->yes < 4 || op->yes & 3)
			return false;
		len -= op->yes;
		bc += op->yes;
	}
	return false;
}

static bool bc_audit(const uint8_t *bytecode, int bytecode_len)
{
	const uint8_t *bc = bytecode;
	int len = bytecode_len;
	while (len > 0) {
		int min_len = sizeof(struct inet_diag_bc_op);
		const struct inet_diag_bc_op *op = (const void *)bc;
		switch (op->code) {
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			const struct inet_diag_hostcond *c = (const void *)(op + 1);
			int alen = c->family == AF_INET ? 4 : c->family == AF_INET6 ? 16 : 0;
			min_len += (int)sizeof(*c) + alen;
			if (len < min_len || c->prefix_len > alen * 8)
				return false;
			break;
		}
		case INET_DIAG_BC_JMP: break;
		case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE:
		case INET_DIAG_BC_D_EQ: case INET_DIAG_BC_D_GE: case INET_DIAG_BC_D_LE:
			min_len += (int)sizeof(struct inet_diag_bc_op);
			if (len < min_len)
				return false;
			break;
		default:
			return false;
		}
		if (op->no < min_len || op->no > len + 4 || op->no & 3)
			return false;
		if (op->no < len && !valid_cc(bytecode, bytecode_len, (int)(bc + op->no - bytecode)))
			return false;
		if (op->yes < min_len || op->yes > len + 4 || op->yes & 3)
			return false;
		bc += op->yes;
		len -= op->yes;
	}
	return len == 0;
}

static struct entry entry_of(const struct tw_sock *k)
{
	struct entry e = { .family = k->family, .sport = k->sport, .dport = k->dport };
	memcpy(e.saddr, k->src, 16);
	memcpy(e.daddr, k->dst, 16);
	return e;
}

static const char *const addrs[] = { "127.0.0.1", "127.0.0.2", "10.1.2.3", "10.2.0.1", "192.0.2.1",
				     "0.0.0.1", "::1", "fd00::1", "2001:db8::5", "::ffff:127.0.0.1",
				     "::ffff:10.1.2.3", "::ffff:192.0.2.1", "::", NULL };
static const unsigned ports[] = { 1, 80, 443, 7000, 7001, 7002, 8080, 40000, 40004, 40005, 65535 };
#define NPORTS (sizeof(ports) / sizeof(ports[0]))

static const struct {
	const char *match, *exclude, *local;
	bool narrows; /* the filter must reject some of the test sockets */
} scopes[] = {
	{ "127.0.0.1:7000", NULL, NULL, true },
	{ "127.0.0.0/8:7000-7001,[::1]:80", NULL, NULL, true },
	{ "10.0.0.0/8", "10.1.0.0/16", NULL, true },
	{ "*:443", "127.0.0.2", NULL, true },
	{ "[::ffff:127.0.0.0/104]:7000", NULL, NULL, true },
	{ "::/0", "[::1]", NULL, true },
	{ "0.0.0.0/0", "[::/0]:80", NULL, false }, /* both left to user space */
	{ NULL, NULL, "40000-40004,7000", true },
	{ "[fd00::/8]:1-100", NULL, "1-1024", true },
	{ "*:1-65535", "[::ffff:10.0.0.0/104],192.0.2.0/24:80-443", NULL, true },
	{ "*:1-65535", NULL, NULL, false },
	{ "[::/96]", "0.0.0.0/1", "1-65535", true },
	{ "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002", "*:7001", "40000,40005", true },
	{ "0.0.0.0/0:1-65535", "[::]", NULL, true },
};

START_TEST(bytecode_never_hides_a_socket_in_scope)
{
	static uint8_t bc[16384];
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		struct tw_reap_scope s;
		scope_of(&s, scopes[i].match, scopes[i].exclude, scopes[i].local);
		size_t len = tw_reap_bytecode(&s, bc, sizeof(bc));
		ck_assert_msg(len == 0 || bc_audit(bc, (int)len), "scope %zu: the kernel would reject it", i);
		unsigned selected = 0, rejected = 0;
		for (const char *const *a = addrs; *a; a++)
			for (size_t d = 0; d < NPORTS; d++)
				for (size_t l = 0; l < NPORTS; l++) {
					struct tw_sock k = sock(*a, ports[d], ports[l]);
					struct entry e = entry_of(&k);
					bool in = tw_reap_scope_selects(&s, &k);
					bool pass = len == 0 || bc_run(bc, (int)len, &e);
					ck_assert_msg(!in || pass, "scope %zu: %s:%u from %u hidden by the filter",
						      i, *a, ports[d], ports[l]);
					selected += in;
					rejected += !pass;
				}
		ck_assert_msg(!scopes[i].narrows || rejected > 0, "scope %zu: the filter rejects nothing", i);
		ck_assert_msg(selected > 0, "scope %zu selects none of the test sockets", i);
		tw_reap_scope_free(&s);
	}
}
END_TEST

START_TEST(bytecode_too_long_falls_back)
{
	/* 3000 rules do not fit in 16 KiB: the filter keeps the local ports */
	size_t n = 3000, cap = n * 16 + 1;
	char *rules = malloc(cap), *p = rules;
	static uint8_t bc[16384];
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - rules), "%s10.%zu.%zu.1:80", i ? "," : "", i / 250, i % 250);
	struct tw_reap_scope s;
	scope_of(&s, rules, NULL, "40000-40009");
	size_t len = tw_reap_bytecode(&s, bc, sizeof(bc));
	ck_assert_uint_gt(len, 0);
	ck_assert(bc_audit(bc, (int)len));
	struct tw_sock in = sock("10.3.7.1", 80, 40001), out = sock("10.3.7.1", 80, 50000);
	struct entry ei = entry_of(&in), eo = entry_of(&out);
	ck_assert(tw_reap_scope_selects(&s, &in));
	ck_assert(bc_run(bc, (int)len, &ei));
	ck_assert(!bc_run(bc, (int)len, &eo));
	tw_reap_scope_free(&s);
	free(rules);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("reap");
	TCase *t = tcase_create("reap");
	tcase_add_test(t, durations);
	tcase_add_test(t, scope_and_decision);
	tcase_add_test(t, bytecode_never_hides_a_socket_in_scope);
	tcase_add_test(t, bytecode_too_long_falls_back);
	suite_add_tcase(s, t);
	return s;
}
