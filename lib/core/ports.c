/* twshim — source-port arithmetic: sysctl texts, ranges, the cursor and
 * the pair table.  Pure: no system calls, no allocation. */
#include "twshim/ports.h"

#include <netinet/in.h>
#include <string.h>

/* Parse a decimal number 0-65535 at *p; advance *p past it. */
static bool parse_port_number(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10u + (uint32_t)(*s - '0');
		if (v > 65535u)
			return false;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

bool tw_ports_parse_range(const char *text, struct tw_port_range *out)
{
	const char *s;
	uint32_t lo, hi;

	if (!text)
		return false;
	s = skip_blanks(text);
	if (!parse_port_number(&s, &lo))
		return false;
	/* the kernel separates the two numbers with a tab; require a blank */
	if (*s != ' ' && *s != '\t')
		return false;
	s = skip_blanks(s);
	if (!parse_port_number(&s, &hi))
		return false;
	if (*skip_blanks(s) != '\0')
		return false;
	if (lo == 0 || lo > hi)
		return false;
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return true;
}

bool tw_ports_parse_reserved(const char *text, struct tw_port_bitmap *out)
{
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!text)
		return true;
	s = skip_blanks(text);
	if (*s == '\0')
		return true;
	for (;;) {
		uint32_t lo, hi;

		if (!parse_port_number(&s, &lo))
			goto garbage;
		hi = lo;
		if (*s == '-') {
			s++;
			if (!parse_port_number(&s, &hi) || hi < lo)
				goto garbage;
		}
		for (uint32_t port = lo; port <= hi; port++)
			tw_port_bit_set(out, (uint16_t)port);
		/* The kernel writes no blanks, but a list typed by a person
		 * (twshim check on an env file) may have them around commas. */
		s = skip_blanks(s);
		if (*s == ',') {
			s = skip_blanks(s + 1);
			continue;
		}
		if (*s == '\0')
			return true;
		goto garbage;
	}
garbage:
	memset(out, 0, sizeof(*out));
	return false;
}

bool tw_ports_above(struct tw_port_range ephemeral, struct tw_port_range *out)
{
	if (ephemeral.hi >= 65535u)
		return false;
	out->lo = (uint16_t)(ephemeral.hi + 1u);
	out->hi = 65535u;
	return true;
}

bool tw_ports_overlap(struct tw_port_range a, struct tw_port_range b)
{
	return a.lo <= b.hi && b.lo <= a.hi;
}

size_t tw_ports_usable(struct tw_port_range r, const struct tw_port_bitmap *reserved,
		       uint16_t *out, size_t cap)
{
	size_t n = 0;

	if (r.lo > r.hi)
		return 0;
	for (uint32_t port = r.lo ? r.lo : 1u; port <= r.hi; port++) {
		if (reserved && tw_port_bit(reserved, (uint16_t)port))
			continue;
		if (n < cap)
			out[n] = (uint16_t)port;
		n++;
	}
	return n;
}

/* splitmix64's finaliser: cheap, and every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void tw_cursor_reseed(struct tw_port_cursor *c, uint64_t seed)
{
	uint64_t r1 = mix64(seed);
	uint64_t r2 = mix64(r1 ^ 0x9e3779b97f4a7c15ull);
	uint32_t stride = 1;

	c->start = c->n ? (uint32_t)(r1 % c->n) : 0;
	if (c->n > 2) {
		/* a stride coprime with n makes i -> start + i*stride a full cycle */
		stride = 1u + (uint32_t)(r2 % (c->n - 1u));
		while (gcd32(stride, c->n) != 1u)
			stride = stride + 1u < c->n ? stride + 1u : 1u;
	}
	c->stride = stride;
	atomic_store_explicit(&c->next, 0, memory_order_relaxed);
}

void tw_cursor_init(struct tw_port_cursor *c, const uint16_t *ports, uint32_t n,
		    uint64_t seed)
{
	c->ports = ports;
	c->n = n;
	tw_cursor_reseed(c, seed);
}

uint16_t tw_cursor_next(struct tw_port_cursor *c, bool *wrapped)
{
	uint32_t i, pos;

	if (c->n == 0)
		return 0;
	i = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed) % c->n;
	if (wrapped)
		*wrapped = (i == 0);
	pos = (uint32_t)(((uint64_t)c->start + (uint64_t)i * c->stride) % c->n);
	return c->ports[pos];
}

uint64_t tw_dest_key(const struct sockaddr *sa, socklen_t len)
{
	/* v4 and v4-mapped v6 share one 4-tuple space in the kernel, so they
	 * must share one key: hash everything in the ::ffff:a.b.c.d form */
	uint8_t a[16];
	uint16_t port;
	uint64_t hi, lo;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memset(a, 0, 10);
		a[10] = 0xff;
		a[11] = 0xff;
		memcpy(a + 12, &in->sin_addr, 4);
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(a, &in6->sin6_addr, 16);
		port = ntohs(in6->sin6_port);
	} else {
		return 0;
	}
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return mix64(hi ^ mix64(lo ^ mix64((uint64_t)port + 0x51ed27u)));
}

/* Slot values: 0 empty (never held since the table was made), 1 a
 * tombstone (was held, released).  A pair has port >= 1 in its top bits,
 * so it is never 0 or 1.  Slots never go back to empty: a pair is always
 * placed at the first free slot of its probe sequence, so a search may
 * stop at the first empty slot. */
#define SLOT_EMPTY 0ull
#define SLOT_TOMB 1ull
#define KEY_BITS 48

static uint64_t pair_word(uint16_t port, uint64_t key)
{
	return (uint64_t)port << KEY_BITS | (key & (((uint64_t)1 << KEY_BITS) - 1));
}

static uint32_t pair_home(const struct tw_pair_table *t, uint64_t word)
{
	return (uint32_t)mix64(word) & t->mask;
}

void tw_pair_table_init(struct tw_pair_table *t, _Atomic uint64_t *slots, uint32_t nslots)
{
	t->slots = slots;
	t->mask = nslots - 1u;
}

static uint32_t probe_limit(const struct tw_pair_table *t)
{
	return t->mask + 1u < TW_PAIR_MAX_PROBE ? t->mask + 1u : TW_PAIR_MAX_PROBE;
}

/* Is word present in its probe sequence (from home) other than at slot skip? */
static bool pair_present(const struct tw_pair_table *t, uint64_t word, uint32_t home,
			 uint32_t skip)
{
	uint32_t limit = probe_limit(t);

	for (uint32_t i = 0; i < limit; i++) {
		uint32_t idx = (home + i) & t->mask;
		uint64_t v;

		if (idx == skip)
			continue;
		v = atomic_load(&t->slots[idx]);
		if (v == word)
			return true;
		if (v == SLOT_EMPTY)
			return false;
	}
	return false;
}

enum tw_pair_result tw_pair_reserve(struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	uint32_t home = pair_home(t, word), limit = probe_limit(t);

	if (port == 0)
		return TW_PAIR_BUSY;
	for (;;) {
		uint32_t free_idx = UINT32_MAX;
		uint64_t free_val = 0;

		for (uint32_t i = 0; i < limit; i++) {
			uint32_t idx = (home + i) & t->mask;
			uint64_t v = atomic_load(&t->slots[idx]);

			if (v == word)
				return TW_PAIR_BUSY;
			if ((v == SLOT_EMPTY || v == SLOT_TOMB) && free_idx == UINT32_MAX) {
				free_idx = idx;
				free_val = v;
			}
			if (v == SLOT_EMPTY)
				break;
		}
		if (free_idx == UINT32_MAX)
			return TW_PAIR_FULL;
		if (!atomic_compare_exchange_strong(&t->slots[free_idx], &free_val, word))
			continue; /* lost the slot to another thread: look again */
		/* Two reservers of the same pair may have picked different free
		 * slots (a release in between).  Both CAS, then both look for the
		 * other (seq_cst): at least one sees it and backs off. */
		if (pair_present(t, word, home, free_idx)) {
			atomic_store(&t->slots[free_idx], SLOT_TOMB);
			return TW_PAIR_BUSY;
		}
		return TW_PAIR_OK;
	}
}

bool tw_pair_release(struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	uint32_t home = pair_home(t, word), limit = probe_limit(t);

	for (uint32_t i = 0; i < limit; i++) {
		uint32_t idx = (home + i) & t->mask;
		uint64_t v = word;

		if (atomic_compare_exchange_strong(&t->slots[idx], &v, SLOT_TOMB))
			return true;
		if (v == SLOT_EMPTY)
			return false;
	}
	return false;
}

bool tw_pair_held(const struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	return pair_present(t, word, pair_home(t, word), UINT32_MAX);
}
