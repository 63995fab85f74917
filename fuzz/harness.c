/* twshim fuzzing — properties checked on each input; see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "policy_internal.h"
#include "twshim/policy.h"
#include "twshim/vars.h"

/* abort() with the property that failed: libFuzzer keeps the input. */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static void property_failed(const char *what)
{
	fprintf(stderr, "property failed: %s\n", what);
	abort();
}

/* A NUL-terminated heap copy of data[0..size) (an environment value can
 * hold no NUL, so one inside the input ends the string, as it would). */
static char *cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	REQUIRE(s);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* ---- addresses ---------------------------------------------------------- */

static void make_v4(struct sockaddr_in *sin, const uint8_t addr[4], uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	memcpy(&sin->sin_addr, addr, 4);
}

static void make_v6(struct sockaddr_in6 *sin6, const uint8_t addr[16], uint16_t port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr, 16);
}

static void make_mapped(struct sockaddr_in6 *sin6, const uint8_t addr[4], uint16_t port)
{
	uint8_t m[16] = { [10] = 0xff, [11] = 0xff };
	memcpy(m + 12, addr, 4);
	make_v6(sin6, m, port);
}

static bool match(const struct tw_rules *r, const void *sa, size_t len)
{
	return tw_rules_match(r, (const struct sockaddr *)sa, (socklen_t)len);
}

/* 22 bytes of the input (cycled) as an IPv4 address, an IPv6 address and
 * a port, so the fuzzer can steer the matcher toward its rules. */
struct probe {
	uint8_t v4[4];
	uint8_t v6[16];
	uint16_t port;
};

static void probe_from(const uint8_t *data, size_t size, size_t k, struct probe *p)
{
	uint8_t b[22] = { 0 };
	for (size_t i = 0; size && i < sizeof(b); i++)
		b[i] = data[(k * 7 + i) % size];
	memcpy(p->v4, b, 4);
	memcpy(p->v6, b + 4, 16);
	p->port = (uint16_t)(b[20] << 8 | b[21]);
}

/* Properties of matching that hold for any rule list. */
static void check_matching(const struct tw_rules *r, const struct probe *p)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6, mapped;
	make_v4(&sin, p->v4, p->port);
	make_v6(&sin6, p->v6, p->port);
	make_mapped(&mapped, p->v4, p->port);

	/* An IPv4-mapped IPv6 destination is the IPv4 destination. */
	REQUIRE(match(r, &sin, sizeof(sin)) == match(r, &mapped, sizeof(mapped)));
	(void)match(r, &sin6, sizeof(sin6));
	/* Short addresses and other families never match. */
	REQUIRE(!match(r, &sin, sizeof(sin) - 1));
	REQUIRE(!match(r, &sin6, sizeof(sin6) - 1));
	REQUIRE(!match(r, &sin, sizeof(sa_family_t) - 1));
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	REQUIRE(!match(r, &sun, sizeof(sun)));
	REQUIRE(!tw_rules_match(r, NULL, 0));
}

/* ---- rules -------------------------------------------------------------- */

static bool tail_bits_zero(const uint8_t *addr, unsigned addr_bits, unsigned prefix)
{
	for (unsigned bit = prefix; bit < addr_bits; bit++)
		if (addr[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

/* Every parsed rule is well-formed, and the rule's own network address
 * (at its lowest port) matches the list it is in. */
static void check_rules(const struct tw_rules *r)
{
	REQUIRE(r->n == 0 || r->v);
	for (size_t i = 0; i < r->n; i++) {
		const struct tw_rule *x = &r->v[i];
		REQUIRE(x->port_lo <= x->port_hi);
		switch (x->family) {
		case AF_UNSPEC: {
			struct sockaddr_in sin;
			static const uint8_t any[4] = { 192, 0, 2, 1 };
			make_v4(&sin, any, x->port_lo);
			REQUIRE(match(r, &sin, sizeof(sin)));
			break;
		}
		case AF_INET: {
			REQUIRE(x->prefix_len <= 32);
			REQUIRE(tail_bits_zero(x->addr, 32, x->prefix_len));
			struct sockaddr_in sin;
			struct sockaddr_in6 mapped;
			make_v4(&sin, x->addr, x->port_lo);
			make_mapped(&mapped, x->addr, x->port_hi);
			REQUIRE(match(r, &sin, sizeof(sin)));
			REQUIRE(match(r, &mapped, sizeof(mapped)));
			break;
		}
		case AF_INET6: {
			REQUIRE(x->prefix_len <= 128);
			REQUIRE(tail_bits_zero(x->addr, 128, x->prefix_len));
			struct sockaddr_in6 sin6;
			make_v6(&sin6, x->addr, x->port_lo);
			REQUIRE(match(r, &sin6, sizeof(sin6)));
			break;
		}
		default:
			property_failed("rule family is AF_INET, AF_INET6 or AF_UNSPEC");
		}
	}
}

static void check_port_list(const struct tw_port_list *l)
{
	REQUIRE(l->n == 0 || l->v);
	for (size_t i = 0; i < l->n; i++)
		REQUIRE(l->v[i].lo >= 1 && l->v[i].lo <= l->v[i].hi);
}

void tw_fuzz_rules(const uint8_t *data, size_t size)
{
	char *s = cstr(data, size);
	size_t len = strlen(s);

	struct tw_rules r = { NULL, 0 };
	struct tw_parse_error err = { NULL, 0, NULL, 0 };
	bool ok = tw_parse_rules_err(s, &r, &err);
	if (ok) {
		check_rules(&r);
		/* Parsing is a pure function of the text. */
		struct tw_rules again = { NULL, 0 };
		REQUIRE(tw_parse_rules(s, &again));
		REQUIRE(again.n == r.n);
		REQUIRE(r.n == 0 || memcmp(again.v, r.v, r.n * sizeof(r.v[0])) == 0);
		tw_rules_free(&again);
	} else {
		/* A rejected list owns nothing and says why, pointing inside
		 * the text. */
		REQUIRE(r.n == 0);
		REQUIRE(err.why);
		REQUIRE(!err.at || (err.at >= s && err.at + err.len <= s + len));
	}
	struct probe p;
	for (size_t k = 0; k < 4; k++) {
		probe_from(data, size, k, &p);
		check_matching(&r, &p);
	}
	tw_rules_free(&r);
	REQUIRE(r.v == NULL && r.n == 0);

	struct tw_port_list l = { NULL, 0 };
	if (tw_parse_port_list(s, &l))
		check_port_list(&l);
	else
		REQUIRE(l.n == 0);
	free(l.v);
	free(s);
}

/* ---- environment -------------------------------------------------------- */

#define ENV_LINES_MAX 64

struct fuzz_env {
	const char *name[ENV_LINES_MAX];
	const char *value[ENV_LINES_MAX];
	unsigned n;
};

static const char *fuzz_lookup(const char *name, void *ctx)
{
	const struct fuzz_env *e = ctx;
	for (unsigned i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i]; /* the first one, as getenv() */
	return NULL;
}

static size_t n_variables(void)
{
	return TW_VAR_COUNT;
}

/* "NAME=VALUE": NAME as given, or a decimal index into the variables. */
static const char *line_name(char *line, const char **value)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return NULL;
	*eq = '\0';
	*value = eq + 1;
	char *end;
	unsigned long idx = strtoul(line, &end, 10);
	size_t n = n_variables();
	if (end != line && !*end && n > 0)
		return tw_vars[idx % n].name;
	return line;
}

static void check_diags(const struct tw_diags *d, unsigned bad)
{
	unsigned errors = 0;
	REQUIRE(d->n <= TW_DIAG_MAX);
	for (unsigned i = 0; i < d->n; i++) {
		const char *t = d->v[i].text;
		size_t len = strnlen(t, TW_DIAG_TEXT_MAX);
		REQUIRE(len > 0 && len < TW_DIAG_TEXT_MAX);
		/* One printable line each: hostile bytes are shown as '?'. */
		for (size_t k = 0; k < len; k++)
			REQUIRE((unsigned char)t[k] >= 0x20 && (unsigned char)t[k] < 0x7f);
		REQUIRE(d->v[i].level <= TW_LOG_DEBUG);
		if (d->v[i].level == TW_LOG_ERROR) {
			errors++;
			REQUIRE(strstr(t, "TWSHIM_"));
		}
	}
	/* One error line per malformed variable (while the table has room). */
	if (d->n < TW_DIAG_MAX)
		REQUIRE(errors == bad);
}

static void check_policy(const struct tw_policy *p)
{
	switch (p->linger) {
	case TW_LINGER_OFF:
	case TW_LINGER_SAFE:
	case TW_LINGER_ABORT:
		REQUIRE(p->linger_seconds == 0);
		break;
	case TW_LINGER_TIMEOUT:
		REQUIRE(p->linger_seconds >= 1 && p->linger_seconds <= TW_LINGER_SECONDS_MAX);
		break;
	default:
		property_failed("linger mode in range");
	}
	REQUIRE(p->drain_ms <= TW_DRAIN_MS_MAX);
	REQUIRE(p->ports == TW_PORTS_OFF || p->ports == TW_PORTS_ABOVE ||
		p->ports == TW_PORTS_RANGE);
	if (p->ports == TW_PORTS_RANGE)
		REQUIRE(p->port_range.lo >= 1 && p->port_range.lo <= p->port_range.hi);
	REQUIRE(p->log_level <= TW_LOG_DEBUG);
	REQUIRE(!p->log_file || p->log_file[0] == '/');
	REQUIRE(p->has_match || p->match.n == 0);
	REQUIRE(p->has_reuse_ports || p->reuse_ports.n == 0);
	check_rules(&p->match);
	check_rules(&p->exclude);
	check_port_list(&p->reuse_ports);
}

void tw_fuzz_env(const uint8_t *data, size_t size)
{
	char *buf = cstr(data, size);
	struct fuzz_env env = { .n = 0 };
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line && env.n < ENV_LINES_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *value;
		const char *name = line_name(line, &value);
		if (name) {
			env.name[env.n] = name;
			env.value[env.n] = value;
			env.n++;
		}
	}

	static struct tw_diags diags; /* 12 KiB: not on the fuzzer's stack */
	memset(&diags, 0, sizeof(diags));
	struct tw_policy pol;
	memset(&pol, 0xa5, sizeof(pol)); /* the parser must set every field */
	unsigned bad = tw_policy_parse(&pol, fuzz_lookup, &env, &diags);
	check_diags(&diags, bad);
	check_policy(&pol);

	struct probe p;
	for (size_t k = 0; k < 4; k++) {
		probe_from(data, size, k, &p);
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6, mapped;
		make_v4(&sin, p.v4, p.port);
		make_v6(&sin6, p.v6, p.port);
		make_mapped(&mapped, p.v4, p.port);
		bool s4 = tw_policy_selects(&pol, (struct sockaddr *)&sin, sizeof(sin));
		REQUIRE(s4 == tw_policy_selects(&pol, (struct sockaddr *)&mapped, sizeof(mapped)));
		/* Exclude wins over match. */
		if (match(&pol.exclude, &sin6, sizeof(sin6)))
			REQUIRE(!tw_policy_selects(&pol, (struct sockaddr *)&sin6, sizeof(sin6)));
		(void)tw_policy_reuse_selects_port(&pol, p.port);
	}
	REQUIRE(!tw_policy_reuse_selects_port(&pol, 0));
	(void)tw_policy_has_client_actions(&pol);
	tw_policy_free(&pol);
	free(buf);
}
