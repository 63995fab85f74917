/* twshim — destination rules and local port lists: parsing and matching.
 *
 * Pure code: no environment, no sockets.  Lists are parsed in one pass
 * into one heap array whose size is bounded by the input length (one
 * entry per comma, plus one), so thousands of rules in a 100 KB string
 * cost linear time and no stack proportional to the input.
 *
 * Rule syntax, items separated by commas, blanks around items allowed:
 *   CIDR            10.0.0.0/8, 192.0.2.1 (a host)      any port
 *   CIDR:PORT       10.0.0.0/8:443
 *   CIDR:LO-HI      10.0.0.0/8:8000-8999
 *   IPV6-CIDR       fd00::/8, ::1                          any port
 *   [IPV6-CIDR]     [fd00::/8]                             any port
 *   [IPV6-CIDR]:PORT and [IPV6-CIDR]:LO-HI
 *   *:PORT, *:LO-HI any address of either family
 * An item with two or more colons and no brackets is a bare IPv6 CIDR:
 * "::1:80" is the address ::1:80, not ::1 port 80 (brackets say that). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"
#include "twshim/num.h"
#include "twshim/policy.h"

/* Long enough for any textual IPv6 address (INET6_ADDRSTRLEN is 46);
 * anything longer is not an address, so it never needs copying. */
#define ADDR_TEXT_MAX 64

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *find_in(const char *s, size_t n, char c)
{
	return memchr(s, c, n);
}

/* ---- parsing ---------------------------------------------------------- */

/* PORT or LO-HI, 1-65535, LO <= HI. */
static const char *parse_port_span(const char *s, size_t n, uint16_t *lo, uint16_t *hi)
{
	switch (tw_parse_port_span(s, n, 1, lo, hi)) {
	case TW_SPAN_OK: return NULL;
	case TW_SPAN_EMPTY: return "missing port";
	case TW_SPAN_PORT: return "port must be a number 1-65535";
	case TW_SPAN_RANGE: return "port range must be LO-HI with ports 1-65535";
	case TW_SPAN_ORDER: return "port range must have LO <= HI";
	}
	return "port range must be LO-HI with ports 1-65535";
}

/* Zero every bit past the prefix so that matching is a plain compare. */
static void mask_to_prefix(uint8_t *addr, unsigned addr_len, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (full >= addr_len)
		return;
	if (rest) {
		addr[full] &= (uint8_t)(0xffu << (8 - rest));
		full++;
	}
	memset(addr + full, 0, addr_len - full);
}

/* ADDR or ADDR/LEN of the given family. */
static const char *parse_cidr_span(const char *s, size_t n, int family, struct tw_rule *r)
{
	const char *slash = find_in(s, n, '/');
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned max_len = family == AF_INET ? 32 : 128;
	char text[ADDR_TEXT_MAX];
	unsigned long plen = max_len;

	if (alen == 0)
		return "missing address";
	if (alen >= sizeof(text))
		return family == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
	memcpy(text, s, alen);
	text[alen] = '\0';
	if (inet_pton(family, text, r->addr) != 1)
		return family == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
	if (slash && !tw_parse_uint_span(slash + 1, n - alen - 1, 0, max_len, &plen))
		return family == AF_INET ? "prefix length must be 0-32" : "prefix length must be 0-128";
	r->family = (uint8_t)family;
	r->prefix_len = (uint8_t)plen;
	mask_to_prefix(r->addr, max_len / 8, (unsigned)plen);
	return NULL;
}

static const char *parse_rule_item(const char *s, size_t n, struct tw_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->port_hi = 65535; /* no port given: any */

	if (s[0] == '*') {
		if (n < 2 || s[1] != ':')
			return "'*' needs a port: *:PORT or *:LO-HI";
		r->family = AF_UNSPEC;
		return parse_port_span(s + 2, n - 2, &r->port_lo, &r->port_hi);
	}
	if (s[0] == '[') {
		const char *close = find_in(s, n, ']');
		const char *err;
		size_t used;

		if (!close)
			return "missing ']'";
		err = parse_cidr_span(s + 1, (size_t)(close - s) - 1, AF_INET6, r);
		if (err)
			return err;
		used = (size_t)(close - s) + 1;
		if (used == n)
			return NULL;
		if (s[used] != ':')
			return "expected ':PORT' after ']'";
		return parse_port_span(s + used + 1, n - used - 1, &r->port_lo, &r->port_hi);
	}

	const char *colon = find_in(s, n, ':');
	if (!colon)
		return parse_cidr_span(s, n, AF_INET, r);
	if (find_in(colon + 1, n - (size_t)(colon - s) - 1, ':'))
		return parse_cidr_span(s, n, AF_INET6, r);

	const char *err = parse_cidr_span(s, (size_t)(colon - s), AF_INET, r);
	if (err)
		return err;
	return parse_port_span(colon + 1, n - (size_t)(colon - s) - 1, &r->port_lo, &r->port_hi);
}

static const char *parse_port_item(const char *s, size_t n, struct tw_port_range *r)
{
	return parse_port_span(s, n, &r->lo, &r->hi);
}

/* One list walker for both list kinds.  parse_item fills element i. */
typedef const char *(*item_fn)(const char *s, size_t n, void *elem);

static const char *rule_item_thunk(const char *s, size_t n, void *elem)
{
	return parse_rule_item(s, n, elem);
}

static const char *port_item_thunk(const char *s, size_t n, void *elem)
{
	return parse_port_item(s, n, elem);
}

static void set_err(struct tw_parse_error *err, const char *why, size_t item, const char *at,
		    size_t len)
{
	if (!err)
		return;
	err->why = why;
	err->item = item;
	err->at = at;
	err->len = len;
}

static bool parse_list(const char *s, size_t elem_size, item_fn parse_item, void **out_v,
		       size_t *out_n, struct tw_parse_error *err)
{
	size_t cap = 1, n = 0, item = 0;
	const char *p;
	unsigned char *v;

	if (!s || !*s) {
		set_err(err, "empty list", 0, s, 0);
		return false;
	}
	for (p = s; (p = strchr(p, ',')); p++)
		cap++;
	v = calloc(cap, elem_size);
	if (!v) {
		set_err(err, "out of memory", 0, s, 0);
		return false;
	}

	p = s;
	for (;;) {
		const char *end = strchr(p, ',');
		const char *b = p, *e = end ? end : p + strlen(p);
		const char *why;

		item++;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		why = b == e ? "empty item" : parse_item(b, (size_t)(e - b), v + n * elem_size);
		if (why) {
			set_err(err, why, item, b, (size_t)(e - b));
			free(v);
			return false;
		}
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	*out_v = v;
	*out_n = n;
	return true;
}

bool tw_parse_rules_err(const char *s, struct tw_rules *out, struct tw_parse_error *err)
{
	void *v;
	size_t n;

	if (!parse_list(s, sizeof(struct tw_rule), rule_item_thunk, &v, &n, err))
		return false;
	out->v = v;
	out->n = n;
	return true;
}

bool tw_parse_rules(const char *s, struct tw_rules *out)
{
	return tw_parse_rules_err(s, out, NULL);
}

bool tw_parse_port_list_err(const char *s, struct tw_port_list *out, struct tw_parse_error *err)
{
	void *v;
	size_t n;

	if (!parse_list(s, sizeof(struct tw_port_range), port_item_thunk, &v, &n, err))
		return false;
	out->v = v;
	out->n = n;
	return true;
}

bool tw_parse_port_list(const char *s, struct tw_port_list *out)
{
	return tw_parse_port_list_err(s, out, NULL);
}

void tw_rules_free(struct tw_rules *r)
{
	if (!r)
		return;
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* ---- matching --------------------------------------------------------- */

/* A destination reduced to what rules look at.  IPv4-mapped IPv6 becomes
 * AF_INET: on the wire it is an IPv4 connection. */
struct dest {
	int family;
	uint8_t addr[16]; /* AF_INET: first 4 bytes */
	uint16_t port;    /* host byte order */
};

/* AF_INET or AF_INET6 if sa is one of those, long enough to decode; else 0. */
static sa_family_t ip_family(const struct sockaddr *sa, socklen_t len)
{
	sa_family_t family;

	if (!sa || len < (socklen_t)sizeof(family))
		return 0;
	memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof(family));
	if (family == AF_INET)
		return len >= (socklen_t)sizeof(struct sockaddr_in) ? AF_INET : 0;
	if (family == AF_INET6)
		return len >= (socklen_t)sizeof(struct sockaddr_in6) ? AF_INET6 : 0;
	return 0;
}

static bool dest_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct dest *d)
{
	sa_family_t family = ip_family(sa, len);

	memset(d, 0, sizeof(*d));
	if (family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		d->family = AF_INET;
		memcpy(d->addr, &sin.sin_addr, 4);
		d->port = ntohs(sin.sin_port);
		return true;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		d->port = ntohs(sin6.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			d->family = AF_INET;
			memcpy(d->addr, sin6.sin6_addr.s6_addr + 12, 4);
		} else {
			d->family = AF_INET6;
			memcpy(d->addr, sin6.sin6_addr.s6_addr, 16);
		}
		return true;
	}
	return false;
}

/* Do the first `bits` bits of a (masked rule address) and b agree? */
static bool prefix_equal(const uint8_t *rule_addr, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(rule_addr, b, full) != 0)
		return false;
	if (!rest)
		return true;
	return (b[full] & (uint8_t)(0xffu << (8 - rest))) == rule_addr[full];
}

static bool rule_matches(const struct tw_rule *r, const struct dest *d)
{
	if (d->port < r->port_lo || d->port > r->port_hi)
		return false;
	switch (r->family) {
	case AF_UNSPEC:
		return true;
	case AF_INET:
		return d->family == AF_INET && prefix_equal(r->addr, d->addr, r->prefix_len);
	case AF_INET6:
		if (d->family == AF_INET6)
			return prefix_equal(r->addr, d->addr, r->prefix_len);
		/* An IPv4 destination matches an IPv6 rule only when the rule
		 * is written inside ::ffff:0:0/96; "::/0" means IPv6 traffic. */
		if (r->prefix_len >= 96) {
			uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };

			memcpy(mapped + 12, d->addr, 4);
			return prefix_equal(r->addr, mapped, r->prefix_len);
		}
		return false;
	default:
		return false;
	}
}

static bool match_dest(const struct tw_rules *rules, const struct dest *d)
{
	if (!rules)
		return false;
	for (size_t i = 0; i < rules->n; i++)
		if (rule_matches(&rules->v[i], d))
			return true;
	return false;
}

bool tw_rules_match(const struct tw_rules *rules, const struct sockaddr *sa, socklen_t len)
{
	struct dest d;

	if (!dest_from_sockaddr(sa, len, &d))
		return false;
	return match_dest(rules, &d);
}

/* A destination we cannot decode (other family, short length) is never
 * selected: client actions are only ever for IPv4/IPv6 peers. */
bool tw_policy_selects(const struct tw_policy *p, const struct sockaddr *sa, socklen_t len)
{
	struct dest d;

	if (!p->has_match && p->exclude.n == 0)
		return ip_family(sa, len) != 0; /* no rules, the usual case */
	if (!dest_from_sockaddr(sa, len, &d))
		return false;
	if (p->has_match && !match_dest(&p->match, &d))
		return false;
	return !match_dest(&p->exclude, &d);
}

bool tw_policy_reuse_selects_port(const struct tw_policy *p, uint16_t port)
{
	if (port == 0)
		return false;
	if (!p->has_reuse_ports)
		return true;
	for (size_t i = 0; i < p->reuse_ports.n; i++)
		if (port >= p->reuse_ports.v[i].lo && port <= p->reuse_ports.v[i].hi)
			return true;
	return false;
}
