/* twshim reap — the pure part: scope, durations, the per-socket decision
 * and the kernel filter program (see reap.h).  No system calls. */
#include "reap.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"
#include "twshim/num.h"

/* ---- scope ------------------------------------------------------------ */

static void describe_error(const struct tw_parse_error *e, char *err, size_t len)
{
	if (e->item)
		snprintf(err, len, "item %zu '%.*s': %s", e->item, (int)(e->len > 64 ? 64 : e->len),
			 e->at ? e->at : "", e->why);
	else
		snprintf(err, len, "%s", e->why ? e->why : "invalid");
}

/* Append n elements of size sz at src to the heap array *v of *count. */
static bool append(void **v, size_t *count, const void *src, size_t n, size_t sz)
{
	unsigned char *nv = realloc(*v, (*count + n) * sz);
	if (!nv)
		return false;
	memcpy(nv + *count * sz, src, n * sz);
	*v = nv;
	*count += n;
	return true;
}

static bool add_rules(struct tw_rules *to, const char *value, char *err, size_t len)
{
	struct tw_rules r = { 0 };
	struct tw_parse_error e = { 0 };
	if (!tw_parse_rules_err(value, &r, &e)) {
		describe_error(&e, err, len);
		return false;
	}
	void *v = to->v;
	bool ok = append(&v, &to->n, r.v, r.n, sizeof(*r.v));
	to->v = v;
	tw_rules_free(&r);
	if (!ok)
		snprintf(err, len, "out of memory");
	return ok;
}

bool tw_reap_scope_add_match(struct tw_reap_scope *s, const char *value, char *err, size_t len)
{
	if (!add_rules(&s->rules.match, value, err, len))
		return false;
	s->rules.has_match = true;
	return true;
}

bool tw_reap_scope_add_exclude(struct tw_reap_scope *s, const char *value, char *err, size_t len)
{
	return add_rules(&s->rules.exclude, value, err, len);
}

bool tw_reap_scope_add_ports(struct tw_reap_scope *s, const char *value, char *err, size_t len)
{
	struct tw_port_list p = { 0 };
	struct tw_parse_error e = { 0 };
	if (!tw_parse_port_list_err(value, &p, &e)) {
		describe_error(&e, err, len);
		return false;
	}
	void *v = s->local.v;
	bool ok = append(&v, &s->local.n, p.v, p.n, sizeof(*p.v));
	s->local.v = v;
	free(p.v);
	if (!ok)
		snprintf(err, len, "out of memory");
	return ok;
}

bool tw_reap_scope_is_set(const struct tw_reap_scope *s)
{
	return s->rules.has_match || s->local.n > 0;
}

void tw_reap_scope_free(struct tw_reap_scope *s)
{
	tw_rules_free(&s->rules.match);
	tw_rules_free(&s->rules.exclude);
	free(s->local.v);
	memset(s, 0, sizeof(*s));
}

bool tw_reap_scope_selects(const struct tw_reap_scope *s, const struct tw_sock *k)
{
	if (s->local.n) {
		size_t i;
		for (i = 0; i < s->local.n; i++)
			if (k->sport >= s->local.v[i].lo && k->sport <= s->local.v[i].hi)
				break;
		if (i == s->local.n)
			return false;
	}
	/* the library's matcher, on the destination as a connect() would name it */
	struct sockaddr_in6 d6 = { .sin6_family = AF_INET6, .sin6_port = htons(k->dport) };
	struct sockaddr_in d4 = { .sin_family = AF_INET, .sin_port = htons(k->dport) };
	if (k->family == AF_INET) {
		memcpy(&d4.sin_addr, k->dst, 4);
		return tw_policy_selects(&s->rules, (struct sockaddr *)&d4, sizeof(d4));
	}
	memcpy(&d6.sin6_addr, k->dst, 16);
	return tw_policy_selects(&s->rules, (struct sockaddr *)&d6, sizeof(d6));
}

/* ---- durations -------------------------------------------------------- */

bool tw_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	size_t digits = 0;
	unsigned long v;

	if (!s)
		return false;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	while (s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (!digits || !tw_parse_uint_span(s, digits, 0, 1000000000ul, &v))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + digits, units[i].unit) != 0)
			continue;
		uint64_t ms = (uint64_t)v * units[i].ms;
		if (ms > max_ms)
			return false;
		*out = ms;
		return true;
	}
	return false;
}

/* ---- decision --------------------------------------------------------- */

enum tw_reap_verdict tw_reap_decide(const struct tw_reap_scope *s, const struct tw_sock *k,
				    uint32_t expires_ms, uint64_t min_age_ms, uint64_t *wait_ms)
{
	/* a FIN_WAIT2 kept as a timewait socket reports state FIN_WAIT2 */
	if (k->state != 6 || !tw_reap_scope_selects(s, k))
		return TW_REAP_SKIP;
	/* a timer re-armed by a late segment makes the age look younger:
	 * the safe direction */
	uint64_t age = expires_ms >= TW_REAP_TIMEWAIT_MS ? 0 : TW_REAP_TIMEWAIT_MS - expires_ms;
	if (age < min_age_ms) {
		*wait_ms = min_age_ms - age;
		return TW_REAP_YOUNG;
	}
	return TW_REAP_YES;
}

/* ---- the kernel filter program -----------------------------------------
 *
 * inet_diag bytecode is a list of ops {code, yes, no}: a condition that
 * holds moves on by `yes` bytes, one that fails jumps by `no`.  Reaching the
 * end exactly accepts the socket; jumping 4 bytes past it rejects.  The
 * program here is straight-line code:
 *
 *   [local ports: any of the ranges]  [destination: any of the match rules]
 *   [for each exclude rule: if it holds, reject]
 *
 * An alternative's failing condition jumps to the next alternative (the
 * last one's to reject); a whole alternative that holds jumps past its
 * group.  Jumps are forward, so their targets are patched when reached. */

enum target { T_NEXT, T_END, T_REJECT };

#define BC_FIX_MAX 4096

struct bc {
	uint8_t *buf;
	size_t cap, len;
	bool full;
	size_t nfix;
	struct {
		size_t at; /* offset of the op whose `no` waits */
		enum target t;
	} fix[BC_FIX_MAX];
};

static struct inet_diag_bc_op *bc_op(struct bc *b, size_t at)
{
	return (struct inet_diag_bc_op *)(b->buf + at);
}

/* Reserve n bytes; NULL (and b->full) when they do not fit. */
static uint8_t *bc_room(struct bc *b, size_t n)
{
	if (b->full || b->len + n > b->cap || b->len + n > 0xfff0) {
		b->full = true;
		return NULL;
	}
	uint8_t *p = b->buf + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static void bc_pending(struct bc *b, size_t at, enum target t)
{
	if (b->nfix == BC_FIX_MAX) {
		b->full = true;
		return;
	}
	b->fix[b->nfix].at = at;
	b->fix[b->nfix].t = t;
	b->nfix++;
}

/* Point every pending jump to t at the current end (or past it: reject). */
static void bc_place(struct bc *b, enum target t)
{
	size_t keep = 0;
	for (size_t i = 0; i < b->nfix; i++) {
		if (b->fix[i].t != t) {
			b->fix[keep++] = b->fix[i];
			continue;
		}
		size_t at = b->fix[i].at, to = b->len + (t == T_REJECT ? 4 : 0);
		bc_op(b, at)->no = (uint16_t)(to - at);
	}
	b->nfix = keep;
}

/* A port comparison: two ops, the second carrying the port. */
static void bc_port(struct bc *b, uint8_t code, unsigned port, enum target fail)
{
	size_t at = b->len;
	uint8_t *p = bc_room(b, 2 * sizeof(struct inet_diag_bc_op));
	if (!p)
		return;
	bc_op(b, at)->code = code;
	bc_op(b, at)->yes = 2 * sizeof(struct inet_diag_bc_op);
	bc_op(b, at + sizeof(struct inet_diag_bc_op))->no = (uint16_t)port;
	bc_pending(b, at, fail);
}

static void bc_range(struct bc *b, bool local, unsigned lo, unsigned hi, enum target fail)
{
	if (lo == hi) {
		bc_port(b, local ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ, lo, fail);
		return;
	}
	if (lo > 1) /* port 0 never has a TIME_WAIT */
		bc_port(b, local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, lo, fail);
	if (hi < 65535)
		bc_port(b, local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, hi, fail);
}

static void bc_dst_addr(struct bc *b, uint8_t family, unsigned prefix, const uint8_t *addr,
			enum target fail)
{
	size_t alen = family == AF_INET ? 4 : 16, at = b->len;
	size_t n = sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) + alen;
	uint8_t *p = bc_room(b, n);
	if (!p)
		return;
	struct inet_diag_hostcond hc = { .family = family, .prefix_len = (uint8_t)prefix, .port = -1 };
	bc_op(b, at)->code = INET_DIAG_BC_D_COND;
	bc_op(b, at)->yes = (uint8_t)n;
	memcpy(p + sizeof(struct inet_diag_bc_op), &hc, sizeof(hc));
	memcpy(p + sizeof(struct inet_diag_bc_op) + sizeof(hc), addr, alen);
	bc_pending(b, at, fail);
}

static const uint8_t mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

/* Could an IPv6 rule cover part of ::ffff:0:0/96?  (The library matches
 * IPv4-mapped destinations as IPv4.) */
static bool touches_mapped(const struct tw_rule *r)
{
	unsigned bits = r->prefix_len < 96 ? r->prefix_len : 96, full = bits / 8, rest = bits % 8;
	if (memcmp(r->addr, mapped_prefix, full) != 0)
		return false;
	return !rest || ((r->addr[full] ^ mapped_prefix[full]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

/* The conditions of one destination rule.  exact: they must not hold for
 * any socket the rule does not match (exclusions); otherwise they may be
 * wider.  Returns false when they cannot be written (exact only). */
static bool bc_rule(struct bc *b, const struct tw_rule *r, bool exact, enum target fail)
{
	if (r->family == AF_INET) {
		bc_dst_addr(b, AF_INET, r->prefix_len, r->addr, fail);
	} else if (r->family == AF_INET6 && r->prefix_len >= 96 && touches_mapped(r)) {
		/* ::ffff:a.b.c.d/n is the IPv4 prefix a.b.c.d/(n-96), which the
		 * kernel also applies to IPv4-mapped IPv6 sockets */
		bc_dst_addr(b, AF_INET, r->prefix_len - 96u, r->addr + 12, fail);
	} else if (r->family == AF_INET6) {
		/* the kernel would apply it to IPv4-mapped sockets too */
		if (exact && touches_mapped(r))
			return false;
		bc_dst_addr(b, AF_INET6, r->prefix_len, r->addr, fail);
	}
	bc_range(b, false, r->port_lo, r->port_hi, fail);
	return true;
}

static void bc_jump(struct bc *b, enum target t)
{
	size_t at = b->len;
	if (!bc_room(b, sizeof(struct inet_diag_bc_op)))
		return;
	bc_op(b, at)->code = INET_DIAG_BC_JMP;
	bc_op(b, at)->yes = sizeof(struct inet_diag_bc_op);
	bc_pending(b, at, t);
}

/* A match rule the filter cannot narrow by (the group may be wider). */
static bool rule_is_any(const struct tw_rule *r)
{
	return (r->family == AF_UNSPEC || r->prefix_len == 0) && r->port_lo <= 1 && r->port_hi == 65535;
}

static void bc_local_group(struct bc *b, const struct tw_port_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].lo <= 1 && l->v[i].hi == 65535)
			return; /* covers every port */
	for (size_t i = 0; i < l->n; i++) {
		bool last = i + 1 == l->n;
		bc_range(b, true, l->v[i].lo, l->v[i].hi, last ? T_REJECT : T_NEXT);
		if (!last) {
			bc_jump(b, T_END);
			bc_place(b, T_NEXT);
		}
	}
	bc_place(b, T_END);
}

static void bc_match_group(struct bc *b, const struct tw_rules *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (rule_is_any(&m->v[i]))
			return;
	for (size_t i = 0; i < m->n; i++) {
		bool last = i + 1 == m->n;
		bc_rule(b, &m->v[i], false, last ? T_REJECT : T_NEXT);
		if (!last) {
			bc_jump(b, T_END);
			bc_place(b, T_NEXT);
		}
	}
	bc_place(b, T_END);
}

static void bc_excludes(struct bc *b, const struct tw_rules *x)
{
	for (size_t i = 0; i < x->n; i++) {
		size_t mark = b->len, nfix = b->nfix;
		if (!bc_rule(b, &x->v[i], true, T_NEXT)) {
			b->len = mark; /* leave this one to user space */
			b->nfix = nfix;
			continue;
		}
		bc_jump(b, T_REJECT);
		bc_place(b, T_NEXT);
	}
}

enum { PART_LOCAL = 1, PART_MATCH = 2, PART_EXCLUDE = 4 };

static size_t compile(const struct tw_reap_scope *s, unsigned parts, uint8_t *buf, size_t cap)
{
	struct bc *b = calloc(1, sizeof(*b));
	size_t len = 0;
	if (!b)
		return 0;
	b->buf = buf;
	b->cap = cap;
	if ((parts & PART_LOCAL) && s->local.n)
		bc_local_group(b, &s->local);
	if ((parts & PART_MATCH) && s->rules.has_match)
		bc_match_group(b, &s->rules.match);
	if (parts & PART_EXCLUDE)
		bc_excludes(b, &s->rules.exclude);
	bc_place(b, T_REJECT);
	if (!b->full)
		len = b->len;
	free(b);
	return len;
}

size_t tw_reap_bytecode(const struct tw_reap_scope *s, uint8_t *buf, size_t cap)
{
	/* the whole scope if it fits, else the parts that narrow most */
	static const unsigned tries[] = { PART_LOCAL | PART_MATCH | PART_EXCLUDE,
					  PART_LOCAL | PART_MATCH, PART_LOCAL, PART_MATCH };
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		size_t n = compile(s, tries[i], buf, cap);
		if (n)
			return n;
	}
	return 0;
}
